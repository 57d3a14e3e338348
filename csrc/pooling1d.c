#include <string.h>
#include "isa.h"
#include "pooling1d.h"

typedef struct { int64_t lo, hi; } window;

/* Steps [lo, hi) pooled by output step t. */
static window window_of(int64_t t, int64_t steps, int64_t pool, int64_t stride,
                        int64_t pad_left) {
    window w;
    w.lo = t * stride - pad_left;
    w.hi = w.lo + pool;
    if (w.lo < 0) w.lo = 0;
    if (w.hi > steps) w.hi = steps;
    return w;
}

/* Number of steps of w with a nonzero mask (all of them without a mask). */
static float count_of(window w, const uint8_t *mask_row) {
    if (!mask_row) return (float)(w.hi - w.lo);
    int64_t n = 0;
    for (int64_t s = w.lo; s < w.hi; s++) n += mask_row[s] != 0;
    return (float)n;
}

void fe_pool1d_forward(float *out, int32_t *argmax, const float *x,
                       const uint8_t *mask, int64_t batch, int64_t steps,
                       int64_t channels, int64_t pool, int64_t stride,
                       int64_t pad_left, int64_t out_steps, int mode) {
    const int64_t C = channels, n = batch * out_steps;
    #pragma omp parallel for schedule(static) if (n * pool * C >= FE_PARALLEL_MIN_WORK)
    for (int64_t row = 0; row < n; row++) {
        const int64_t b = row / out_steps;
        const window w = window_of(row % out_steps, steps, pool, stride, pad_left);
        const float *xb = x + b * steps * C;
        float *o = out + row * C;
        if (mode == FE_POOL_MAX) {
            fe_isa->max_steps(o, argmax + row * C, xb, w.lo, w.hi, C);
        } else {
            const uint8_t *m = mask ? mask + b * steps : 0;
            memset(o, 0, (size_t)C * sizeof(float));
            for (int64_t s = w.lo; s < w.hi; s++) {
                if (m && !m[s]) continue;
                const float *xs = xb + s * C;
                for (int64_t c = 0; c < C; c++) o[c] += xs[c];
            }
            const float count = count_of(w, m);
            for (int64_t c = 0; c < C; c++) o[c] /= count;
        }
    }
}

int64_t fe_pool1d_backward(float *dx, const float *dout, const int32_t *argmax,
                           const uint8_t *mask, int64_t batch, int64_t steps,
                           int64_t channels, int64_t pool, int64_t stride,
                           int64_t pad_left, int64_t out_steps, int mode) {
    const int64_t C = channels;
    int64_t outside = 0;
    /* One sample per task: windows of a sample may overlap, samples do not. */
    const int64_t work = batch * (steps + out_steps * pool) * C;
    #pragma omp parallel for schedule(static) reduction(+ : outside) \
        if (work >= FE_PARALLEL_MIN_WORK)
    for (int64_t b = 0; b < batch; b++) {
        float *dxb = dx + b * steps * C;
        const uint8_t *m = mask ? mask + b * steps : 0;
        memset(dxb, 0, (size_t)(steps * C) * sizeof(float));
        for (int64_t t = 0; t < out_steps; t++) {
            const int64_t row = b * out_steps + t;
            const float *g = dout + row * C;
            if (mode == FE_POOL_MAX) {
                const int32_t *a = argmax + row * C;
                for (int64_t c = 0; c < C; c++) {
                    const int in = a[c] >= 0 && a[c] < steps;
                    outside += !in;
                    dxb[(in ? (int64_t)a[c] : 0) * C + c] += in ? g[c] : 0.0f;
                }
                continue;
            }
            const window w = window_of(t, steps, pool, stride, pad_left);
            const float count = count_of(w, m);
            for (int64_t s = w.lo; s < w.hi; s++) {
                if (m && !m[s]) continue;
                float *d = dxb + s * C;
                for (int64_t c = 0; c < C; c++) d[c] += g[c] / count;
            }
        }
    }
    return outside;
}
