/* The GRU's fused element-wise step kernels, compiled once per ISA (isa.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <stdint.h>
#include <string.h>
#include "isa.h"
#include "gru.h"
#include "rnn_step.h"

void FE_ISA_FN(fe_gru_gates_forward)(const fe_rnn_dims *d, float *gates, const float *z_rec,
                                     const float *bias, const float *h_prev, float *aux) {
    const int64_t B = d->batch, T = d->steps, U = d->units, G = 3 * U;
    const float *b_rec = bias && d->reset_after ? bias + G : 0;
    for (int64_t b = 0; b < B; b++) {
        float *restrict g = gates + b * G * T;
        float *restrict a = aux + b * T * U;
        const float *zr = z_rec ? z_rec + b * G : 0;
        if (zr) {
            #pragma omp simd
            for (int64_t j = 0; j < 2 * U; j++) g[j] += zr[j];
        }
        if (bias) {
            #pragma omp simd
            for (int64_t j = 0; j < G; j++) g[j] += bias[j];
        }
        if (b_rec) {
            #pragma omp simd
            for (int64_t j = 0; j < 2 * U; j++) g[j] += b_rec[j];
        }
        activate(d->recurrent_activation, g, g, 2 * U);
        if (d->reset_after) {  /* aux = h_prev R_h + b_rec_h */
            #pragma omp simd
            for (int64_t u = 0; u < U; u++)
                a[u] = (zr ? zr[2 * U + u] : 0.0f) + (b_rec ? b_rec[2 * U + u] : 0.0f);
        } else {  /* aux = r h_prev */
            const float *restrict hp = h_prev + b * T * U, *restrict r = g + U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) a[u] = r[u] * hp[u];
        }
    }
}

void FE_ISA_FN(fe_gru_state_forward)(const fe_rnn_dims *d, float *gates, const float *z_rec,
                                     const float *aux, const float *h_prev_raw,
                                     int64_t prev_ld, float *h_seq, float *h_next,
                                     const float *rmask, const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units, G = 3 * U;
    for (int64_t b = 0; b < B; b++) {
        float *restrict g = gates + b * G * T;
        float *restrict hh = g + 2 * U;
        const float *restrict z = g, *restrict r = g + U;
        float *restrict h = h_seq + b * T * U;
        const float *hp = h_prev_raw ? h_prev_raw + b * prev_ld : 0;
        if (d->reset_after) {
            const float *restrict a = aux + b * T * U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) hh[u] += r[u] * a[u];
        } else if (z_rec) {
            const float *restrict zh = z_rec + b * G + 2 * U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) hh[u] += zh[u];
        }
        activate(d->activation, hh, hh, U);
        if (mask && !mask[b * T]) {  /* carry the state over */
            if (hp) memcpy(h, hp, (size_t)U * sizeof(float));
            else memset(h, 0, (size_t)U * sizeof(float));
        } else if (hp) {
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) h[u] = z[u] * hp[u] + (1.0f - z[u]) * hh[u];
        } else {
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) h[u] = (1.0f - z[u]) * hh[u];
        }
        next_h_prev(h_next, h_seq, rmask, b, T, U);
    }
}

void FE_ISA_FN(fe_gru_step_backward)(const fe_rnn_dims *d, float *dz, float *dh_in,
                                     float *dh_carry, const float *dh_rec,
                                     const float *dh_seq_row, const float *gates,
                                     const float *aux, const float *h_prev_raw,
                                     int64_t prev_ld, const float *rmask,
                                     const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units, G = 3 * U;
    for (int64_t b = 0; b < B; b++) {
        float *restrict dzb = dz + b * G * T;
        float *restrict dh = gather_dh(dh_carry, dh_rec, rmask, dh_seq_row, b, T, U);
        if (mask && !mask[b * T]) {  /* state passed through untouched */
            memset(dzb, 0, (size_t)G * sizeof(float));
            if (dh_in) memset(dh_in + b * T * U, 0, (size_t)U * sizeof(float));
            continue;
        }
        const float *restrict g = gates + b * G * T;
        const float *restrict z = g, *restrict r = g + U, *restrict hh = g + 2 * U;
        const float *hp = h_prev_raw ? h_prev_raw + b * prev_ld : 0;
        float *restrict dzz = dzb, *restrict dzr = dzb + U, *restrict dzh = dzb + 2 * U;
        #pragma omp simd
        for (int64_t u = 0; u < U; u++) {
            dzz[u] = dh[u] * ((hp ? hp[u] : 0.0f) - hh[u]);
            dzh[u] = dh[u] * (1.0f - z[u]);
            dh[u] *= z[u];
        }
        mul_derivative(d->recurrent_activation, dzz, z, U);
        mul_derivative(d->activation, dzh, hh, U);
        if (d->reset_after) {
            const float *restrict a = aux + b * T * U;
            float *restrict din = dh_in + b * T * U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) {
                din[u] = dzh[u];
                dzr[u] = dzh[u] * a[u];
                dzh[u] *= r[u];
            }
            mul_derivative(d->recurrent_activation, dzr, r, U);
        }
    }
}

void FE_ISA_FN(fe_gru_reset_backward)(const fe_rnn_dims *d, float *dz, float *dh_rec,
                                      const float *d_rh, const float *gates,
                                      const float *h_prev, const uint8_t *mask) {
    const int64_t B = d->batch, T = d->steps, U = d->units, G = 3 * U;
    for (int64_t b = 0; b < B; b++) {
        float *restrict dzr = dz + b * G * T + U;
        float *restrict dr = dh_rec + b * U;
        if (mask && !mask[b * T]) {
            memset(dzr, 0, (size_t)U * sizeof(float));
            memset(dr, 0, (size_t)U * sizeof(float));
            continue;
        }
        const float *restrict r = gates + b * G * T + U, *restrict hp = h_prev + b * T * U;
        const float *restrict drh = d_rh + b * U;
        #pragma omp simd
        for (int64_t u = 0; u < U; u++) {
            dzr[u] = drh[u] * hp[u];
            dr[u] = drh[u] * r[u];
        }
        mul_derivative(d->recurrent_activation, dzr, r, U);
    }
}
