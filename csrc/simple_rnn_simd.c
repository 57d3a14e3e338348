/* SimpleRNN's fused element-wise step kernels, compiled once per ISA (isa.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <stdint.h>
#include <string.h>
#include "isa.h"
#include "simple_rnn.h"
#include "rnn_step.h"

void FE_ISA_FN(fe_simple_rnn_step_forward)(const fe_rnn_dims *d, float *gates,
                                           const float *z_rec, const float *bias,
                                           const float *h_prev_raw, int64_t prev_ld,
                                           float *h_seq, float *h_next, const float *rmask,
                                           const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units;
    for (int64_t b = 0; b < B; b++) {
        float *restrict g = gates + b * T * U;
        float *restrict h = h_seq + b * T * U;
        if (z_rec) {
            const float *restrict zr = z_rec + b * U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) g[u] += zr[u];
        }
        if (bias) {
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) g[u] += bias[u];
        }
        activate(d->activation, g, g, U);
        if (mask && !mask[b * T]) {  /* carry the state over */
            if (h_prev_raw) memcpy(h, h_prev_raw + b * prev_ld, (size_t)U * sizeof(float));
            else memset(h, 0, (size_t)U * sizeof(float));
        } else {
            memcpy(h, g, (size_t)U * sizeof(float));
        }
        next_h_prev(h_next, h_seq, rmask, b, T, U);
    }
}

void FE_ISA_FN(fe_simple_rnn_step_backward)(const fe_rnn_dims *d, float *dz, float *dh_carry,
                                            const float *dh_rec, const float *dh_seq_row,
                                            const float *gates, const float *rmask,
                                            const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units;
    for (int64_t b = 0; b < B; b++) {
        float *restrict dzb = dz + b * T * U;
        float *restrict dh = gather_dh(dh_carry, dh_rec, rmask, dh_seq_row, b, T, U);
        if (mask && !mask[b * T]) {  /* state passed through untouched */
            memset(dzb, 0, (size_t)U * sizeof(float));
            continue;
        }
        memcpy(dzb, dh, (size_t)U * sizeof(float));
        mul_derivative(d->activation, dzb, gates + b * T * U, U);
        memset(dh, 0, (size_t)U * sizeof(float));
    }
}
