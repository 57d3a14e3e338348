/* Conv1D's element-wise row loops, compiled once per ISA (see isa.h). */
#include "isa.h"

void FE_ISA_FN(fe_bias_activation_row)(float *y, const float *z, const float *restrict b,
                                       int64_t n, int relu) {
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float v = z[j] + (b ? b[j] : 0.0f);
        y[j] = relu & !(v > 0.0f) ? 0.0f : v;  /* `&`, not `&&`: a select, no branch */
    }
}

/* One row of fe_activation_grad_rows; inlined with relu a constant, so that
 * the linear case never reads y and the relu case selects without a branch. */
static inline int32_t activation_grad_row(float *restrict dz, float *restrict sum,
                                          int32_t *restrict col_count, const float *restrict dy,
                                          const float *restrict y, int64_t n, const int relu) {
    int32_t nonzeros = 0;
    #pragma omp simd reduction(+ : nonzeros)
    for (int64_t j = 0; j < n; j++) {
        const float g = relu ? (y[j] > 0.0f ? dy[j] : 0.0f) : dy[j];
        dz[j] = g;
        sum[j] += g;
        col_count[j] += g != 0.0f;
        nonzeros += g != 0.0f;
    }
    return nonzeros;
}

void FE_ISA_FN(fe_activation_grad_rows)(float *restrict dz, float *restrict sum,
                                        int32_t *restrict col_count, int32_t *restrict row_count,
                                        const float *restrict dy, const float *restrict y,
                                        int64_t ld, int64_t rows, int64_t n, int relu) {
    for (int64_t r = 0; r < rows; r++)
        row_count[r] = relu ? activation_grad_row(dz + r * ld, sum, col_count, dy + r * ld,
                                                  y + r * ld, n, 1)
                            : activation_grad_row(dz + r * ld, sum, col_count, dy + r * ld,
                                                  y + r * ld, n, 0);
}
