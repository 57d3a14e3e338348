/* 1-D convolution (Keras Conv1D), channels last, as GEMMs over rows of
 * input windows.
 *
 * Output step t of sample b reads input steps t*stride + k*dilation - pad_left
 * (k < kernel_size; steps outside [0, steps) are zeros). The GEMM operand A
 * has one row per output step, holding that window's kernel_size*channels
 * inputs, and is built one of two ways:
 *   im2col:  an explicit copy, row_stride = out_steps rows per sample;
 *   strided: no copy: overlapping rows of the input itself (or of a padded
 *            copy when padding or the stride needs one), lda = stride*channels,
 *            run over the whole batch as one long sequence; each sample then
 *            owns row_stride = padded_steps/stride rows, of which the last
 *            row_stride - out_steps straddle two samples and are discarded.
 * The strided path runs one GEMM per kernel tap (BLAS needs lda >= depth).
 * fe_conv1d_make_plan picks the cheaper of the two for a shape. Kernels of
 * 2 to 5 taps, unstrided and undilated, can run the forward pass and the
 * backward's dense products by Winograd's F(m, r) instead (see winograd.h),
 * with 1/2 to 3/5 of the multiply-adds; the operand is then built only when
 * the backward pass needs it (by the forward pass, or else by the backward).
 *
 * Threads: with blas_serial (sgemm runs on its calling thread alone) the
 * GEMMs are cut into tasks of rows that OpenMP threads share (see conv1d.c);
 * else each GEMM is one BLAS call that BLAS threads. One team of threads for
 * everything: BLAS's own threads keep spinning after a call and would hold
 * the cores the OpenMP loops then need. The copies and element-wise passes
 * are OpenMP loops over rows, or over filters where a sum over rows must
 * keep one order: results are the same for any number of threads. */
#ifndef FE_CONV1D_H
#define FE_CONV1D_H

#include <stdint.h>
#include "blas.h"

typedef enum { FE_CONV1D_LINEAR = 0, FE_CONV1D_RELU = 1 } fe_conv1d_activation;

typedef struct {
    int64_t batch, steps, channels, filters, kernel_size, stride, dilation;
    int64_t pad_left, out_steps;
    int im2col;            /* 1: explicit im2col rows; 0: strided rows */
    int winograd_forward;  /* 1: the forward pass by F(m, r) */
    int winograd_backward; /* 1: the backward's dense products by F(m, r) */
    int64_t padded_steps;  /* strided: steps per sample in the operand */
    int64_t row_stride;    /* GEMM rows per sample */
    int64_t rows;          /* GEMM rows M = (batch - 1) * row_stride + out_steps */
    int64_t operand_size;  /* floats of the operand buffer; 0: x itself is the operand */
    int64_t zrows_size;    /* floats of the (rows, filters) buffer; 0 in forward: y is it */
    int64_t partials_size; /* floats of backward's partials */
    int64_t sparse_bytes;  /* bytes of backward's sparse_scratch */
    int64_t winograd_size, winograd_slot; /* floats of the winograd scratch: size + slots * slot */
} fe_conv1d_plan;

/* Whether F(m, r) can run these sizes. */
int fe_conv1d_winograd_fits(int64_t kernel_size, int64_t stride, int64_t dilation,
                            int64_t pad_left);

/* Fill plan for the given sizes; out_steps must be >= 1 (the caller checks).
 * strategy: 1 im2col, 0 strided, 2 winograd both ways with a strided
 * operand (the caller checks that it fits), -1 the cheapest by a cost model. */
void fe_conv1d_make_plan(fe_conv1d_plan *plan, int64_t batch, int64_t steps,
                         int64_t channels, int64_t filters, int64_t kernel_size,
                         int64_t stride, int64_t dilation, int64_t pad_left,
                         int64_t out_steps, int strategy);

/* y = act(conv(x, w) + b).
 * y:       (batch, out_steps, filters) out
 * x:       (batch, steps, channels)
 * w:       (kernel_size, channels, filters)
 * b:       (filters) or NULL
 * operand: (plan->operand_size) out, kept for backward; unused if size 0 or
 *          plan->winograd_forward
 * zrows:   (plan->zrows_size) scratch; unused if size 0
 * winograd: (plan->winograd_size + slots * plan->winograd_slot) scratch, if
 *          either winograd flag; slots: at least 1, threads use at most that many */
void fe_conv1d_forward(fe_sgemm_fn sgemm, int blas_serial, const fe_conv1d_plan *plan,
                       float *y, const float *x, const float *w, const float *b, int act,
                       float *operand, float *zrows, float *winograd, int slots);

/* Gradients of fe_conv1d_forward given dy = dL/dy.
 * dx:      (batch, steps, channels) out, or NULL to skip
 * dw:      (kernel_size, channels, filters) out
 * db:      (filters) out, or NULL
 * dy, y:   (batch, out_steps, filters)
 * x, w, operand: as passed to / filled by the forward pass (operand is
 *          filled here if the forward pass did not and this pass needs it)
 * dz:      (plan->rows, filters) scratch
 * dcols:   (plan->rows, kernel_size * channels) scratch, if dx
 * partials: (plan->partials_size) scratch
 * sparse_scratch: (plan->sparse_bytes) scratch, 8-byte aligned (64: faster)
 * winograd, slots: as for the forward pass
 * When few of dz's entries are non-zero (see conv1d.c), dw and dcols are
 * summed over lists of those instead of computed by GEMMs. */
void fe_conv1d_backward(fe_sgemm_fn sgemm, int blas_serial, const fe_conv1d_plan *plan,
                        float *dx, float *dw, float *db, const float *dy, const float *y,
                        int act, const float *x, const float *w, float *operand,
                        float *dz, float *dcols, float *partials, void *sparse_scratch,
                        float *winograd, int slots);

/* Whether fe_conv1d_backward_pooled can run this plan: one non-zero per
 * (sample, filter) fits its lists. */
int fe_conv1d_pooled_fits(const fe_conv1d_plan *plan);

/* fe_conv1d_backward for a dy that is zero but at one step per (sample,
 * filter), a global max pooling's gradient: dy[b, step[b, f], f] = g[b, f].
 * The same bits as fe_conv1d_backward on that dy, without reading it (the
 * plan must fit: fe_conv1d_pooled_fits). Returns the number of steps
 * outside [0, out_steps) (nothing is written then), else 0.
 * step:    (batch, filters) int32
 * g:       (batch, filters)
 * other arguments as for fe_conv1d_backward */
int64_t fe_conv1d_backward_pooled(const fe_conv1d_plan *plan, float *dx, float *dw, float *db,
                                  const int32_t *step, const float *g, const float *y, int act,
                                  const float *x, const float *w, float *operand, float *dcols,
                                  void *sparse_scratch);

#endif
