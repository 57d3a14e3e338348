/* SimpleRNN over whole sequences, Keras's formulas and weight layout:
 *   h_t = activation(x W + h_{t-1} R + b)
 * h_{t-1} is multiplied by the recurrent-dropout mask where it meets R.
 * Masked steps carry h over; go_backwards (reverse) as lstm.h. Layout as
 * lstm.h: gates, h_prev, dz, mask by position; h_seq, dh_seq in processing
 * order. */
#ifndef FE_SIMPLE_RNN_H
#define FE_SIMPLE_RNN_H

#include <stdint.h>
#include "blas.h"
#include "rnn.h"

/* h_seq:  (B, T, U) out, h after each step, processing order
 * gates:  (B, T, U) out, activation(x W + h_{t-1} R + b)
 * h_prev: (B, T, U) out, h_{t-1} * rmask, the h multiplied into R
 * x: (B, T, I); kernel: (I, U); recurrent: (U, U); bias: (U) or NULL
 * h0: (B, U) or NULL (zeros); rmask: (B, U) or NULL; mask: (B, T) or NULL
 * work: (B, U) scratch */
void fe_simple_rnn_forward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d,
                           float *h_seq, float *gates, float *h_prev, const float *x,
                           const float *kernel, const float *recurrent, const float *bias,
                           const float *h0, const float *rmask, const uint8_t *mask,
                           float *work);

/* Backpropagation through time of fe_simple_rnn_forward.
 * dx: (B, T, I) out or NULL; dh0: (B, U) out or NULL
 * dkernel: (I, U) out; drecurrent: (U, U) out; dbias: (U) out or NULL
 * dz: (B, T, U) scratch; work: (2 B U) scratch
 * dh_seq: (B, T, U) or NULL; dh_last: (B, U) or NULL */
void fe_simple_rnn_backward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d,
                            float *dx, float *dh0, float *dkernel, float *drecurrent,
                            float *dbias, float *dz, float *work, const float *dh_seq,
                            const float *dh_last, const float *x, const float *kernel,
                            const float *recurrent, const float *gates, const float *h_prev,
                            const float *rmask, const uint8_t *mask);

/* One step for all batch rows, built per ISA (simple_rnn_simd.c); row
 * strides: gates, dz, h_seq, h_next, dh_seq_row: T U; h_prev_raw: prev_ld;
 * mask: T; z_rec, rmask, dh_carry, dh_rec: U.
 * forward: gates holds x W on entry, activation(x W + z_rec + b) on exit
 *   (z_rec NULL: zeros); writes h_seq (h_prev_raw on masked steps, NULL:
 *   zeros) and h_next = h * rmask unless NULL.
 * backward: dL/dh_s = dh_carry + dh_rec * rmask (+ dh_seq_row); writes dz
 *   and leaves in dh_carry the part of dL/dh_{s-1} that skips R (masked steps). */
#define FE_SIMPLE_RNN_DECLARE(suffix)                                                    \
    void fe_simple_rnn_step_forward_##suffix(const fe_rnn_dims *d, float *gates,        \
                                             const float *z_rec, const float *bias,     \
                                             const float *h_prev_raw, int64_t prev_ld,  \
                                             float *h_seq, float *h_next,               \
                                             const float *rmask, const uint8_t *mask);  \
    void fe_simple_rnn_step_backward_##suffix(const fe_rnn_dims *d, float *dz,          \
                                              float *dh_carry, const float *dh_rec,     \
                                              const float *dh_seq_row, const float *gates, \
                                              const float *rmask, const uint8_t *mask);
FE_SIMPLE_RNN_DECLARE(baseline)
FE_SIMPLE_RNN_DECLARE(avx2)
FE_SIMPLE_RNN_DECLARE(avx512)

#endif
