/* The LSTM's fused element-wise step kernels, compiled once per ISA (isa.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <stdint.h>
#include <string.h>
#include "isa.h"
#include "lstm.h"
#include "rnn_step.h"

void FE_ISA_FN(fe_lstm_step_forward)(const fe_lstm_dims *d, float *gates,
                                     const float *z_rec, const float *bias, const float *c_prev,
                                     const float *h_prev_raw, int64_t prev_ld,
                                     float *c_seq, float *act_c, float *h_seq,
                                     float *h_next, const float *rmask,
                                     const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units;
    for (int64_t b = 0; b < B; b++) {
        float *restrict z = gates + b * 4 * T * U;
        float *restrict c = c_seq + b * T * U;
        float *restrict ac = act_c + b * T * U;
        float *restrict h = h_seq + b * T * U;
        const float *cp = c_prev ? c_prev + b * prev_ld : 0;
        if (z_rec) {
            const float *restrict zr = z_rec + b * 4 * U;
            #pragma omp simd
            for (int64_t j = 0; j < 4 * U; j++) z[j] += zr[j];
        }
        if (bias) {
            #pragma omp simd
            for (int64_t j = 0; j < 4 * U; j++) z[j] += bias[j];
        }
        activate(d->recurrent_activation, z, z, 2 * U);
        activate(d->activation, z + 2 * U, z + 2 * U, U);
        activate(d->recurrent_activation, z + 3 * U, z + 3 * U, U);
        if (mask && !mask[b * T]) {  /* carry the state over */
            if (cp) memcpy(c, cp, (size_t)U * sizeof(float));
            else memset(c, 0, (size_t)U * sizeof(float));
            if (h_prev_raw) memcpy(h, h_prev_raw + b * prev_ld, (size_t)U * sizeof(float));
            else memset(h, 0, (size_t)U * sizeof(float));
        } else {
            const float *restrict i = z, *restrict f = z + U, *restrict g = z + 2 * U;
            if (cp) {
                #pragma omp simd
                for (int64_t u = 0; u < U; u++) c[u] = f[u] * cp[u] + i[u] * g[u];
            } else {
                #pragma omp simd
                for (int64_t u = 0; u < U; u++) c[u] = i[u] * g[u];
            }
            activate(d->activation, ac, c, U);
            const float *restrict o = z + 3 * U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) h[u] = o[u] * ac[u];
        }
        next_h_prev(h_next, h_seq, rmask, b, T, U);
    }
}

void FE_ISA_FN(fe_lstm_step_backward)(const fe_lstm_dims *d, float *dz,
                                      float *dh_carry, float *dc_carry,
                                      const float *dh_rec, const float *dh_seq_row,
                                      const float *gates, const float *c_prev,
                                      int64_t prev_ld, const float *act_c,
                                      const float *rmask, const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units;
    for (int64_t b = 0; b < B; b++) {
        float *restrict dzb = dz + b * 4 * T * U;
        float *restrict dh = gather_dh(dh_carry, dh_rec, rmask, dh_seq_row, b, T, U);
        float *restrict dc = dc_carry + b * U;
        if (mask && !mask[b * T]) {  /* state passed through untouched */
            memset(dzb, 0, (size_t)(4 * U) * sizeof(float));
            continue;
        }
        const float *restrict z = gates + b * 4 * T * U;
        const float *restrict i = z, *restrict f = z + U, *restrict g = z + 2 * U;
        const float *restrict o = z + 3 * U;
        const float *restrict ac = act_c + b * T * U;
        const float *cp = c_prev ? c_prev + b * prev_ld : 0;
        float *restrict dzi = dzb, *restrict dzf = dzb + U, *restrict dzg = dzb + 2 * U;
        float *restrict dzo = dzb + 3 * U;
        #pragma omp simd
        for (int64_t u = 0; u < U; u++) {
            dzo[u] = dh[u] * ac[u];
            dzg[u] = dh[u] * o[u];  /* dL/d act(c), before activation' */
        }
        mul_derivative(d->activation, dzg, ac, U);
        #pragma omp simd
        for (int64_t u = 0; u < U; u++) {
            const float dct = dc[u] + dzg[u];
            dzi[u] = dct * g[u];
            dzf[u] = cp ? dct * cp[u] : 0.0f;
            dzg[u] = dct * i[u];
            dc[u] = dct * f[u];
            dh[u] = 0.0f;
        }
        mul_derivative(d->recurrent_activation, dzi, i, 2 * U);
        mul_derivative(d->activation, dzg, g, U);
        mul_derivative(d->recurrent_activation, dzo, o, U);
    }
}
