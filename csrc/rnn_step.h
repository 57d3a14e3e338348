/* What the recurrent layers' fused step kernels (*_simd.c, compiled once per
 * ISA) share: activations and their derivatives, and the handling of the
 * state between steps. exp, tanh and sigmoid are
 * written out (Cephes's single-precision polynomials, within 2 ulp) so that
 * the loops vectorize without -ffast-math. Files including this header set
 * GCC's no-trapping-math first: it lets GCC turn the clamps into selects and
 * changes no result (nothing here reads the floating-point exception flags). */
#ifndef FE_RNN_STEP_H
#define FE_RNN_STEP_H

#include <stdint.h>
#include <string.h>
#include "rnn.h"

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

/* Batch row b of one step (row strides: h, h_next T*U; rmask U):
 * h_next = h * rmask (rmask NULL: a copy), unless h_next is NULL. */
static inline void next_h_prev(float *h_next, const float *h, const float *rmask, int64_t b,
                               int64_t T, int64_t U) {
    if (!h_next) return;
    float *restrict hn = h_next + b * T * U;
    const float *restrict hb = h + b * T * U;
    if (rmask) {
        #pragma omp simd
        for (int64_t u = 0; u < U; u++) hn[u] = hb[u] * rmask[b * U + u];
    } else {
        memcpy(hn, hb, (size_t)U * sizeof(float));
    }
}

/* Batch row b of dL/dh at a step: dh_carry += dh_rec * rmask + dh_seq_row
 * (row strides: dh_carry, dh_rec, rmask U; dh_seq_row T*U; each but
 * dh_carry may be NULL). Returns row b of dh_carry. */
static inline float *gather_dh(float *dh_carry, const float *dh_rec, const float *rmask,
                               const float *dh_seq_row, int64_t b, int64_t T, int64_t U) {
    float *restrict dh = dh_carry + b * U;
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
    return dh;
}

#endif
