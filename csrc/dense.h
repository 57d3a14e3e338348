/* Dense's element-wise ends around its GEMMs: the bias and activation after
 * x @ kernel, and the activation's derivative with the bias gradient before
 * the backward GEMMs. Activations are fe_activation (rnn.h), computed as the
 * recurrent kernels compute them (rnn_step.h). Rows are independent and the
 * bias gradient sums them in order: the same bits for any thread count. */
#ifndef FE_DENSE_H
#define FE_DENSE_H

#include <stdint.h>

/* y:    (n, k) in: x @ kernel; out: act(that + bias)
 * bias: (k) or NULL */
void fe_dense_forward(float *y, const float *bias, int64_t n, int64_t k, int act);

/* dz:   (n, k) out: dy * act'(y); may be dy
 * db:   (k) out: the sum of dz's rows, in row order; or NULL
 * dy:   (n, k) d loss / d y
 * y:    (n, k) the forward pass's output */
void fe_dense_backward(float *dz, float *db, const float *dy, const float *y, int64_t n,
                       int64_t k, int act);

#endif
