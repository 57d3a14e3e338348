/* LSTM over whole sequences, Keras's formulas and weight layout:
 *   z = x W + h_{t-1} R + b, split in gates (i, f, g, o) of `units` each
 *   i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_g)
 *   c_t = f c_{t-1} + i g;  h_t = o activation(c_t)
 * Masked steps (mask == 0) carry h and c over unchanged. With go_backwards
 * (reverse) the steps are taken from the last position to the first.
 *
 * Layout: batch-major. Arrays indexed by input position t hold row (b, t) at
 * b*T + t: x, gates, c_seq, act_c, h_prev, dz, mask. h_seq (the layer's
 * output sequence) and dh_seq are in processing order: step s at (b, s),
 * where step s reads position t = reverse ? T-1-s : s. */
#ifndef FE_LSTM_H
#define FE_LSTM_H

#include <stdint.h>
#include "blas.h"
#include "rnn.h"

typedef fe_rnn_dims fe_lstm_dims;

/* h_seq:   (B, T, U) out, h after each step, processing order
 * c_seq:   (B, T, U) out, c after each step, by position
 * act_c:   (B, T, U) out, activation(c_seq) (masked rows: unspecified)
 * gates:   (B, T, 4U) out, activated gates i, f, g, o
 * h_prev:  (B, T, U) out, the h multiplied into R at each position
 *          (h_{t-1} * rmask)
 * x:       (B, T, I); kernel: (I, 4U); recurrent: (U, 4U); bias: (4U) or NULL
 * h0, c0:  (B, U) initial state, or NULL for zeros
 * rmask:   (B, U) recurrent dropout multipliers, or NULL
 * mask:    (B, T) 0 = skip the step, or NULL
 * work:    (B, 4U) scratch
 * blas_serial: non-zero when sgemm runs on its calling thread alone; the
 *          batch is then split over the OpenMP threads (else one thread). */
void fe_lstm_forward(fe_sgemm_fn sgemm, int blas_serial,
                     const fe_lstm_dims *d, float *h_seq, float *c_seq, float *act_c,
                     float *gates, float *h_prev, const float *x, const float *kernel,
                     const float *recurrent, const float *bias, const float *h0,
                     const float *c0, const float *rmask, const uint8_t *mask,
                     float *work);

/* Backpropagation through time of fe_lstm_forward (same saved arrays).
 * dx:      (B, T, I) out, or NULL
 * dh0, dc0: (B, U) out, gradients of h0 and c0, or NULL (both or neither)
 * dkernel: (I, 4U) out; drecurrent: (U, 4U) out; dbias: (4U) out or NULL
 * dz:      (B, T, 4U) scratch, gradient of the pre-activations
 * work:    (3 B U) scratch
 * dh_seq:  (B, T, U) gradient of h_seq, or NULL
 * dh_last, dc_last: (B, U) gradient of the final h and c, or NULL */
void fe_lstm_backward(fe_sgemm_fn sgemm, int blas_serial,
                      const fe_lstm_dims *d, float *dx, float *dh0, float *dc0,
                      float *dkernel, float *drecurrent,
                      float *dbias, float *dz, float *work, const float *dh_seq,
                      const float *dh_last, const float *dc_last, const float *x,
                      const float *kernel, const float *recurrent, const float *c_seq,
                      const float *act_c, const float *gates, const float *h_prev,
                      const float *c0, const float *rmask, const uint8_t *mask);

/* One step for all batch rows: the fused element-wise kernels, built per ISA
 * (lstm_simd.c) and called through fe_isa. Pointers are already offset to the
 * step; row b of an array starts at ptr + b * (its row stride):
 * gates, dz: 4 T U;  c_seq, act_c, h_seq, h_next, dh_seq_row: T U;
 * c_prev, h_prev_raw: prev_ld;  mask: T;  rmask, dh_carry, dc_carry, dh_rec: U.
 * forward: gates holds x W on entry, the activated gates on exit; z_rec
 *   (row stride 4U) holds h_{t-1} R, or is NULL for zeros;
 *   c_prev / h_prev_raw are the previous c and (undropped) h, or NULL for
 *   zeros; writes c_seq, act_c, h_seq, and h_next = h * rmask unless NULL.
 * backward: on entry dL/dh_s = dh_carry + dh_rec * rmask (+ dh_seq_row) and
 *   dL/dc_s = dc_carry (dh_rec, dh_seq_row may be NULL: zero); on exit
 *   dh_carry and dc_carry hold the parts of dL/dh_{s-1} and dL/dc_{s-1} that
 *   do not pass through R, and dz the gradient of z at this position. */
#define FE_LSTM_DECLARE(suffix)                                                \
    void fe_lstm_step_forward_##suffix(                                       \
        const fe_lstm_dims *d, float *gates, const float *z_rec,              \
        const float *bias, const float *c_prev, const float *h_prev_raw, int64_t prev_ld,        \
        float *c_seq, float *act_c, float *h_seq, float *h_next,              \
        const float *rmask, const uint8_t *mask);                             \
    void fe_lstm_step_backward_##suffix(                                      \
        const fe_lstm_dims *d, float *dz, float *dh_carry, float *dc_carry,   \
        const float *dh_rec, const float *dh_seq_row, const float *gates,     \
        const float *c_prev, int64_t prev_ld, const float *act_c,             \
        const float *rmask, const uint8_t *mask);
FE_LSTM_DECLARE(baseline)
FE_LSTM_DECLARE(avx2)
FE_LSTM_DECLARE(avx512)

#endif
