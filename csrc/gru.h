/* GRU over whole sequences, Keras 3's formulas and weight layout (gates z, r, h):
 *   x_g = x W_g + b_in_g                          (b_in: bias row 0, or the bias)
 *   z = recurrent_activation(x_z + h_{t-1} R_z + b_rec_z)
 *   r = recurrent_activation(x_r + h_{t-1} R_r + b_rec_r)
 *   reset_after:  hh = activation(x_h + r (h_{t-1} R_h + b_rec_h))
 *   otherwise:    hh = activation(x_h + (r h_{t-1}) R_h)   (no b_rec)
 *   h_t = z h_{t-1} + (1 - z) hh
 * h_{t-1} is multiplied by the recurrent-dropout mask where it meets R, not in
 * z h_{t-1}. Masked steps (mask == 0) carry h over unchanged; go_backwards
 * (reverse) takes the steps from the last position to the first.
 *
 * Layout as lstm.h: batch-major, arrays indexed by position t hold row (b, t)
 * at b*T + t (x, gates, h_prev, aux, dz, dh_in, mask); h_seq and dh_seq are in
 * processing order. */
#ifndef FE_GRU_H
#define FE_GRU_H

#include <stdint.h>
#include "blas.h"
#include "rnn.h"

/* h_seq:  (B, T, U) out, h after each step, processing order
 * gates:  (B, T, 3U) out, activated z, r, hh
 * h_prev: (B, T, U) out, h_{t-1} * rmask, the h multiplied into R
 * aux:    (B, T, U) out, reset_after: h_{t-1} R_h + b_rec_h; else r h_prev
 * x: (B, T, I); kernel: (I, 3U); recurrent: (U, 3U)
 * bias:   (2, 3U) (input, recurrent) if reset_after, else (3U); or NULL
 * h0:     (B, U) initial state, or NULL for zeros
 * rmask:  (B, U) recurrent dropout multipliers, or NULL
 * mask:   (B, T) 0 = skip the step, or NULL
 * work:   (B, 3U) scratch
 * blas_serial: as fe_lstm_forward's. */
void fe_gru_forward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d, float *h_seq,
                    float *gates, float *h_prev, float *aux, const float *x,
                    const float *kernel, const float *recurrent, const float *bias,
                    const float *h0, const float *rmask, const uint8_t *mask, float *work);

/* Backpropagation through time of fe_gru_forward (same arrays, h_seq included).
 * dx:      (B, T, I) out, or NULL;  dh0: (B, U) out, gradient of h0, or NULL
 * dkernel: (I, 3U) out; drecurrent: (U, 3U) out; dbias: bias's shape, out, or NULL
 * dz:      (B, T, 3U) scratch: gradient of the recurrent pre-activations
 *          (reset_after: z, r, and r * dL/dhh_pre), else of the input ones
 * dh_in:   (B, T, U) scratch, reset_after only: gradient of x_h (else NULL)
 * work:    (3 B U) scratch
 * dh_seq:  (B, T, U) gradient of h_seq, or NULL; dh_last: (B, U) or NULL */
void fe_gru_backward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d, float *dx,
                     float *dh0, float *dkernel, float *drecurrent, float *dbias, float *dz,
                     float *dh_in, float *work, const float *dh_seq, const float *dh_last,
                     const float *x, const float *kernel, const float *recurrent,
                     const float *gates, const float *h_seq, const float *h_prev,
                     const float *aux, const float *h0, const float *rmask,
                     const uint8_t *mask);

/* One step for all batch rows, built per ISA (gru_simd.c). Pointers are
 * offset to the step; row strides: gates, dz: 3 T U; h_prev, aux, h_seq,
 * h_next, dh_in, dh_seq_row: T U; h_prev_raw: prev_ld; mask: T; z_rec: 3U;
 * rmask, dh_carry, dh_rec, d_rh: U.
 * gates_forward: gates holds x W on entry, activated z and r on exit (x_h
 *   plus b_in_h in the third block); z_rec holds h_prev R (reset_after: all
 *   three blocks; else z and r), or is NULL for zeros; writes aux.
 * state_forward: z_rec's third block holds (r h_prev) R_h unless reset_after;
 *   writes hh into gates, h_seq, and h_next = h * rmask unless NULL. h_prev_raw
 *   is the previous (undropped) h, or NULL for zeros.
 * step_backward: on entry dL/dh_s = dh_carry + dh_rec * rmask (+ dh_seq_row)
 *   (dh_rec, dh_seq_row may be NULL); on exit dh_carry holds the part of
 *   dL/dh_{s-1} that does not pass through R, dz and dh_in (reset_after) this
 *   position's gradients, but dz's r block when not reset_after.
 * reset_backward (not reset_after): from d_rh = dL/d(r h_prev), writes dz's r
 *   block and dh_rec = d_rh * r. */
#define FE_GRU_DECLARE(suffix)                                                      \
    void fe_gru_gates_forward_##suffix(const fe_rnn_dims *d, float *gates,         \
                                       const float *z_rec, const float *bias,      \
                                       const float *h_prev, float *aux);           \
    void fe_gru_state_forward_##suffix(const fe_rnn_dims *d, float *gates,         \
                                       const float *z_rec, const float *aux,       \
                                       const float *h_prev_raw, int64_t prev_ld,   \
                                       float *h_seq, float *h_next,                \
                                       const float *rmask, const uint8_t *mask);   \
    void fe_gru_step_backward_##suffix(const fe_rnn_dims *d, float *dz, float *dh_in, \
                                       float *dh_carry, const float *dh_rec,       \
                                       const float *dh_seq_row, const float *gates, \
                                       const float *aux, const float *h_prev_raw,  \
                                       int64_t prev_ld, const float *rmask,        \
                                       const uint8_t *mask);                       \
    void fe_gru_reset_backward_##suffix(const fe_rnn_dims *d, float *dz, float *dh_rec, \
                                        const float *d_rh, const float *gates,     \
                                        const float *h_prev, const uint8_t *mask);
FE_GRU_DECLARE(baseline)
FE_GRU_DECLARE(avx2)
FE_GRU_DECLARE(avx512)

#endif
