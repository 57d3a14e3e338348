/* 1-D max and average pooling, channels last; global pooling is the case
 * pool = steps, out_steps = 1.
 *
 * Output step t pools input steps [t*stride - pad_left, t*stride - pad_left + pool)
 * clipped to [0, steps) and, for average, restricted to the steps whose mask
 * is nonzero; an average divides by the number of steps pooled (0/0 = NaN
 * when a mask removes every step, as in Keras). */
#ifndef FE_POOLING1D_H
#define FE_POOLING1D_H

#include <stdint.h>

typedef enum { FE_POOL_MAX = 0, FE_POOL_AVERAGE = 1 } fe_pool_mode;

/* out:    (batch, out_steps, channels) out
 * argmax: (batch, out_steps, channels) out for max, the step of the first
 *         maximum (a NaN counts as the maximum); unused for average
 * x:      (batch, steps, channels)
 * mask:   (batch, steps) or NULL; average only */
void fe_pool1d_forward(float *out, int32_t *argmax, const float *x,
                       const uint8_t *mask, int64_t batch, int64_t steps,
                       int64_t channels, int64_t pool, int64_t stride,
                       int64_t pad_left, int64_t out_steps, int mode);

/* dx:   (batch, steps, channels) out
 * dout: (batch, out_steps, channels)
 * argmax, mask: as in the forward pass
 * Returns the number of argmax entries outside [0, steps), which are skipped. */
int64_t fe_pool1d_backward(float *dx, const float *dout, const int32_t *argmax,
                           const uint8_t *mask, int64_t batch, int64_t steps,
                           int64_t channels, int64_t pool, int64_t stride,
                           int64_t pad_left, int64_t out_steps, int mode);

#endif
