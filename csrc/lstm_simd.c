/* The LSTM's fused element-wise step kernels, compiled once per ISA (isa.h).
 * exp, tanh and sigmoid are written out (Cephes's single-precision
 * polynomials, within 2 ulp) so that the loops vectorize without -ffast-math.
 * no-trapping-math lets GCC turn the clamps into selects; it changes no
 * result (nothing here reads the floating-point exception flags). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <stdint.h>
#include <string.h>
#include "isa.h"
#include "lstm.h"

static inline float exp_poly(float x) {
    x = x < -87.0f ? -87.0f : x;  /* keeps 2^n a normal float; NaN passes */
    x = x > 88.0f ? 88.0f : x;
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * (r * r) + r + 1.0f;
    /* A NaN x gives a NaN y; its n (NaN) must not reach the integer
     * conversion, which is undefined for NaN. n + 127 is in [1, 254]. */
    const float finite_n = n == n ? n : 0.0f;
    const uint32_t bits = (uint32_t)((int32_t)finite_n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static inline float tanh_poly(float x) {
    const float ax = x < 0.0f ? -x : x;
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = x + x * z * p;
    const float large = 1.0f - 2.0f / (exp_poly(2.0f * ax) + 1.0f);
    return ax < 0.625f ? small : (x < 0.0f ? -large : large);
}

/* y[n] = activation(x[n]); y may be x. */
static inline void activate(int kind, float *y, const float *x, int64_t n) {
    switch (kind) {
    case FE_ACT_RELU:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) y[j] = x[j] < 0.0f ? 0.0f : x[j];
        break;
    case FE_ACT_SIGMOID:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) y[j] = 1.0f / (1.0f + exp_poly(-x[j]));
        break;
    case FE_ACT_TANH:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) y[j] = tanh_poly(x[j]);
        break;
    case FE_ACT_HARD_SIGMOID:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) {
            const float r = x[j] + 3.0f;
            y[j] = (r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r)) / 6.0f;
        }
        break;
    default:
        if (y != x) memcpy(y, x, (size_t)n * sizeof(float));
    }
}

/* g[n] *= activation'(x) where y[n] = activation(x). */
static inline void mul_derivative(int kind, float *restrict g, const float *restrict y,
                                  int64_t n) {
    switch (kind) {
    case FE_ACT_RELU:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) g[j] = y[j] > 0.0f ? g[j] : 0.0f;
        break;
    case FE_ACT_SIGMOID:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) g[j] *= y[j] * (1.0f - y[j]);
        break;
    case FE_ACT_TANH:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++) g[j] *= 1.0f - y[j] * y[j];
        break;
    case FE_ACT_HARD_SIGMOID:
        #pragma omp simd
        for (int64_t j = 0; j < n; j++)
            g[j] = (y[j] > 0.0f && y[j] < 1.0f) ? g[j] / 6.0f : 0.0f;
        break;
    default:
        break;
    }
}

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
        if (h_next) {
            float *restrict hn = h_next + b * T * U;
            if (rmask) {
                #pragma omp simd
                for (int64_t u = 0; u < U; u++) hn[u] = h[u] * rmask[b * U + u];
            } else {
                memcpy(hn, h, (size_t)U * sizeof(float));
            }
        }
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
        float *restrict dh = dh_carry + b * U;
        float *restrict dc = dc_carry + b * U;
        if (dh_rec) {
            const float *restrict r = dh_rec + b * U;
            if (rmask) {
                const float *restrict m = rmask + b * U;
                #pragma omp simd
                for (int64_t u = 0; u < U; u++) dh[u] += r[u] * m[u];
            } else {
                #pragma omp simd
                for (int64_t u = 0; u < U; u++) dh[u] += r[u];
            }
        }
        if (dh_seq_row) {
            const float *restrict y = dh_seq_row + b * T * U;
            #pragma omp simd
            for (int64_t u = 0; u < U; u++) dh[u] += y[u];
        }
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
