/* Softmax over the last axis of n rows of k values, and the sparse
 * categorical cross-entropy on its output, as Keras 3 computes them (jax
 * backend). Rows are independent: the loops share rows out over OpenMP
 * threads and every row is computed in one fixed order, so results are
 * bitwise the same for any thread count. exp is exp_poly (rnn_step.h,
 * within 2 ulp of expf). */
#ifndef FE_SOFTMAX_H
#define FE_SOFTMAX_H

#include <stdint.h>

/* y:    (n, k) out: softmax(z + bias) per row; may be z
 * z:    (n, k) logits
 * bias: (k) added to every row, or NULL */
void fe_softmax_forward(float *y, const float *z, const float *bias, int64_t n, int64_t k);

/* dz:   (n, k) out: y * (dy - sum(dy * y)) per row, d loss / d z; may be dy
 * y:    (n, k) the forward pass's output
 * dy:   (n, k) d loss / d y */
void fe_softmax_backward(float *dz, const float *y, const float *dy, int64_t n, int64_t k);

/* Sparse categorical cross-entropy of row i against class ids[i]:
 *   probabilities: q = y_pred[i, t] / sum(y_pred[i]), t = ids[i],
 *                  values[i] = -log(clip(q, eps, 1 - eps)),
 *                  d values[i] / d y_pred[i, j] = -([j == t] - q) / (q' sum)
 *                  with q' = clip(q), where the clip is inactive, else 0;
 *   logits:        values[i] = -log_softmax(y_pred[i])[t],
 *                  d values[i] / d y_pred[i, j] = softmax(y_pred[i])[j] - [j == t].
 * values:    (n) out
 * grad:      (n, k) out: row_scale[i] * d values[i] / d y_pred[i], or NULL
 *            (values only)
 * ids:       (n) class ids in [0, k), checked by the caller
 * y_pred:    (n, k) probabilities, or logits if from_logits
 * row_scale: (n) each row's weight in the reduced loss; unread if grad is NULL */
void fe_sparse_categorical_crossentropy(float *values, float *grad, const int64_t *ids,
                                        const float *y_pred, const float *row_scale,
                                        int64_t n, int64_t k, int from_logits);

/* The same loss on softmax outputs, with its gradient taken through the
 * softmax: values[i] as fe_sparse_categorical_crossentropy (from_logits 0),
 * and for y[i] = softmax(z[i]), t = ids[i], q = y[i, t] / sum(y[i]):
 *   d values[i] / d z[i, j] = y[i, j] / sum(y[i]) - [j == t]
 * where the clip is inactive (eps < q < 1 - eps), else 0 for the whole row
 * (the clip's gradient; NaN if q is): fe_softmax_backward of
 * fe_sparse_categorical_crossentropy's gradient, in one pass, without the
 * (n, k) d values / d y.
 * values:    (n) out
 * dz:        (n, k) out: row_scale[i] * d values[i] / d z[i]; may be y
 * ids:       (n) class ids in [0, k), checked by the caller
 * y:         (n, k) softmax outputs
 * row_scale: (n) each row's weight in the reduced loss */
void fe_softmax_sparse_crossentropy_backward(float *values, float *dz, const int64_t *ids,
                                             const float *y, const float *row_scale,
                                             int64_t n, int64_t k);

#endif
