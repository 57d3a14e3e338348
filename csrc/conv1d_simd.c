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

void FE_ISA_FN(fe_activation_grad_rows)(float *restrict dz, float *restrict sum,
                                        int32_t *restrict col_count, int32_t *restrict row_count,
                                        const float *restrict dy, const float *restrict y,
                                        int64_t ld, int64_t rows, int64_t n, int relu) {
    for (int64_t r = 0; r < rows; r++) {
        int32_t nonzeros = 0;
        #pragma omp simd reduction(+ : nonzeros)
        for (int64_t j = 0; j < n; j++) {
            const float d = dy[r * ld + j];
            const float g = relu && !(y[r * ld + j] > 0.0f) ? 0.0f : d;  /* linear: y unread */
            dz[r * ld + j] = g;
            sum[j] += g;
            col_count[j] += g != 0.0f;
            nonzeros += g != 0.0f;
        }
        row_count[r] = nonzeros;
    }
}
