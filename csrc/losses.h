/* Binary cross-entropy as Keras 3 computes it (jax backend), on n rows of k
 * elements: per element, with y the (label-smoothed) target,
 *   probabilities: p = clip(pred, eps, 1 - eps),
 *                  loss = -(y log p + (1 - y) log(1 - p)),
 *                  d loss / d pred = ((1 - y) / (1 - p) - y / p) where the
 *                  clip is inactive, else 0;
 *   logits:        loss = -y log_sigmoid(x) - (1 - y) log_sigmoid(-x),
 *                  d loss / d x = sigmoid(x) - y;
 * a row's value is the mean of its k losses. */
#ifndef FE_LOSSES_H
#define FE_LOSSES_H

#include <stdint.h>

#define FE_LOSS_EPSILON 1e-7f /* keras.config.epsilon() */

/* values:  (n) out
 * y_true:  (n, k) targets before label smoothing
 * y_pred:  (n, k) probabilities, or logits if from_logits */
void fe_binary_crossentropy_forward(float *values, const float *y_true, const float *y_pred,
                                    int64_t n, int64_t k, int from_logits,
                                    float label_smoothing);

/* grad:    (n, k) out: scale * d loss / d y_pred (scale 1/k: of the row means)
 * y_true, y_pred: as in the forward pass */
void fe_binary_crossentropy_backward(float *grad, const float *y_true, const float *y_pred,
                                     int64_t n, int64_t k, int from_logits,
                                     float label_smoothing, float scale);

/* A training step's loss and gradient in one call, for values weighted by one
 * scalar: returns weight * sum of the n values (summed in double) and writes
 * grad:    (n, k) out: weight / k * d loss / d y_pred
 * y_true, y_pred: as in the forward pass */
double fe_binary_crossentropy_weighted_sum(float *grad, const float *y_true,
                                           const float *y_pred, int64_t n, int64_t k,
                                           int from_logits, float label_smoothing,
                                           float weight);

/* Keras's binary accuracy: how many of the n elements have y_true equal to
 * 1 where y_pred > threshold and to 0 elsewhere.
 * y_true, y_pred: (n) */
int64_t fe_binary_accuracy_hits(const float *y_true, const float *y_pred, int64_t n,
                                float threshold);

#endif
