/* Winograd's minimal filtering F(m, r) (Lavin and Gray, 2016) for 1-D
 * convolutions with a kernel of r = 2 to 5 taps, stride 1 and dilation 1,
 * channels last, at the six points 0, 1, -1, 2, -2 and infinity: a tile of
 * m = 7 - r output steps reads 6 input steps.
 *
 * Transformed to 6 points (v = B^T d, u = G w), a tile costs 6 products of
 * a channel row with a (channels, filters) matrix instead of m * r, and is
 * transformed back (y = A^T m): half the multiply-adds of im2col for r = 3,
 * 3/5 for r = 5. Point p's products for a block of tiles are one GEMM
 * (tiles, n_in) x (n_in, n_out).
 *   forward: y = A^T [(G w) . (B^T x)]
 *   dx:      the forward pass over dz with the kernel flipped and transposed
 *   dw:      G^T [sum over tiles of (B^T x) (A dz)^T]
 *
 * Blocks of tiles run as tasks; each thread uses its own slot of the
 * scratch. dw sums fixed chunks of tiles into partial sums, added in chunk
 * order: results are the same for any number of threads. */
#ifndef FE_WINOGRAD_H
#define FE_WINOGRAD_H

#include <stdint.h>
#include "blas.h"

/* A batch of sequences: step s < steps of sample b is the n floats at
 * base + (b * rows + s) * n; steps outside [0, steps) read as zeros. */
typedef struct {
    const float *base;
    int64_t steps, rows, n;
} fe_sequences;

/* Tiles of a batch of sequences of `steps` output steps, for a kernel of `taps`. */
int64_t fe_winograd_tiles(int64_t batch, int64_t steps, int64_t taps);

/* Floats of one thread's scratch slot for up to `total` tiles and channel
 * widths n_in and n_out (either order). */
int64_t fe_winograd_slot_size(int64_t total, int64_t n_in, int64_t n_out);

/* Partial sums of fe_winograd_filter_grad over `total` tiles, in floats. */
int64_t fe_winograd_partials_size(int64_t total, int64_t n_x, int64_t n_dz);

/* u[p] = sum over k < taps of G[p, k] * w[flip ? taps - 1 - k : k]: the
 * kernel's six points.
 * u: (6, size) out
 * w: (taps, size) */
void fe_winograd_filter(float *u, const float *w, int64_t size, int64_t taps, int flip);

/* out[b, t] = act(sum over k < taps of in[b, t + k - pad_left] @ w_k + bias)
 * for t < out_steps, in the transformed form: u = fe_winograd_filter(w).
 * out:     (batch, out_steps, n_out)
 * in:      batch sequences of in.n channels
 * u:       (6, in.n, n_out), or (6, n_out, in.n) if trans_u
 * bias:    (n_out) or NULL
 * scratch: (slots, slot_size), slot_size >= fe_winograd_slot_size(its tiles, in.n, n_out) */
void fe_winograd_conv(fe_sgemm_fn sgemm, int parallel, int64_t batch, float *out,
                      int64_t out_steps, int64_t n_out, fe_sequences in, int64_t taps,
                      int64_t pad_left, const float *u, int trans_u, const float *bias, int relu,
                      float *scratch, int64_t slot_size, int slots);

/* dw[k] = sum over b, t < dz.steps of x[b, t + k - pad_left]^T dz[b, t], k < taps.
 * dw:       (taps, x.n, dz.n) out
 * x, dz:    batch sequences each
 * partials: (fe_winograd_partials_size(its tiles, x.n, dz.n)) scratch
 * scratch:  (slots, slot_size), as for fe_winograd_conv */
void fe_winograd_filter_grad(fe_sgemm_fn sgemm, int parallel, int64_t batch, float *dw,
                             fe_sequences x, fe_sequences dz, int64_t taps, int64_t pad_left,
                             float *partials, float *scratch, int64_t slot_size, int slots);

#endif
