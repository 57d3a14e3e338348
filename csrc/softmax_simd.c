/* Softmax rows and the sparse categorical cross-entropy of one row
 * (softmax.h), compiled once per ISA (isa.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <math.h>
#include "isa.h"
#include "losses.h"
#include "rnn_step.h"

/* exp(x) for x <= 0: exp_poly, which stops at exp(-87) (a normal float), and
 * 0 below, as expf's result underflows there (to subnormals, then 0). */
static inline float exp_nonpositive(float x) {
    return x < -87.0f ? 0.0f : exp_poly(x);
}

/* y[k] = exp(z[k] - max) (y may be NULL); returns their sum, and the row's
 * maximum in *max_out. */
static float shifted_exp_row(float *y, const float *z, int64_t k, float *max_out) {
    /* A NaN in the row makes the sum NaN, whatever the maximum. */
    float max = -INFINITY;
    #pragma omp simd reduction(max : max)
    for (int64_t j = 0; j < k; j++) max = z[j] > max ? z[j] : max;
    float sum = 0.0f;
    if (y) {  /* two loops: a conditional store would not vectorize */
        #pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < k; j++) {
            y[j] = exp_nonpositive(z[j] - max);
            sum += y[j];
        }
    } else {
        #pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < k; j++) sum += exp_nonpositive(z[j] - max);
    }
    *max_out = max;
    return sum;
}

/* y[k] = softmax(z[k] + bias[k]) (bias may be NULL; y may be z). */
void FE_ISA_FN(fe_softmax_row)(float *y, const float *z, const float *bias, int64_t k) {
    if (bias) {
        #pragma omp simd
        for (int64_t j = 0; j < k; j++) y[j] = z[j] + bias[j];
        z = y;  /* shifted_exp_row reads and writes each element once, in place */
    }
    float max;
    const float sum = shifted_exp_row(y, z, k, &max);
    #pragma omp simd
    for (int64_t j = 0; j < k; j++) y[j] /= sum;
}

/* dz[k] = y[k] * (dy[k] - sum(dy * y)) (dz may be dy). */
void FE_ISA_FN(fe_softmax_grad_row)(float *dz, const float *y, const float *dy, int64_t k) {
    float dot = 0.0f;
    #pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < k; j++) dot += dy[j] * y[j];
    #pragma omp simd
    for (int64_t j = 0; j < k; j++) dz[j] = y[j] * (dy[j] - dot);
}

/* Keras's clipped probability of class t in the row p[k] (normalised by
 * the row's sum): returns -log(clip(q, eps, 1 - eps)), with the row's sum in
 * *total and the unclipped q in *q_out. */
static float clipped_log_loss(const float *p, int64_t t, int64_t k, float *total_out,
                              float *q_out) {
    float total = 0.0f;
    #pragma omp simd reduction(+ : total)
    for (int64_t j = 0; j < k; j++) total += p[j];
    const float q = p[t] / total;
    float clipped = q < FE_LOSS_EPSILON ? FE_LOSS_EPSILON : q;  /* NaN passes */
    clipped = clipped > 1.0f - FE_LOSS_EPSILON ? 1.0f - FE_LOSS_EPSILON : clipped;
    *total_out = total;
    *q_out = q;
    return -logf(clipped);
}

static inline int clip_inactive(float q) {
    return q > FE_LOSS_EPSILON && q < 1.0f - FE_LOSS_EPSILON;
}

/* One row of fe_sparse_categorical_crossentropy (softmax.h): returns the
 * value, and writes scale * its gradient into grad[k] unless grad is NULL. */
float FE_ISA_FN(fe_sparse_crossentropy_row)(float *restrict grad, int64_t t,
                                            const float *restrict p, float scale, int64_t k,
                                            int from_logits) {
    if (from_logits) {
        /* grad holds the shifted exponentials until it is scaled */
        float max;
        const float sum = shifted_exp_row(grad, p, k, &max);
        if (grad) {
            const float factor = scale / sum;
            #pragma omp simd
            for (int64_t j = 0; j < k; j++) grad[j] *= factor;
            grad[t] -= scale;
        }
        return -(p[t] - max - logf(sum));
    }
    float total, q;
    const float value = clipped_log_loss(p, t, k, &total, &q);
    if (grad) {
        /* d value / d q, times d q / d p[j] = ([j == t] - q) / total */
        const float d_q = clip_inactive(q) ? -scale / q : (q == q ? 0.0f : q);
        const float other = -d_q * q / total;
        #pragma omp simd
        for (int64_t j = 0; j < k; j++) grad[j] = other;
        grad[t] = d_q * (1.0f - q) / total;
    }
    return value;
}

/* One row of fe_softmax_sparse_crossentropy_backward (softmax.h): returns
 * the value and writes scale * d value / d z into dz[k] (dz may be y). */
float FE_ISA_FN(fe_softmax_crossentropy_grad_row)(float *dz, int64_t t, const float *y,
                                                  float scale, int64_t k) {
    float total, q;
    const float value = clipped_log_loss(y, t, k, &total, &q);
    if (clip_inactive(q)) {
        const float factor = scale / total;
        #pragma omp simd
        for (int64_t j = 0; j < k; j++) dz[j] = y[j] * factor;
        dz[t] -= scale;
    } else {  /* the clip's gradient: 0, or the NaN the row carries */
        const float fill = q == q ? 0.0f : q;
        #pragma omp simd
        for (int64_t j = 0; j < k; j++) dz[j] = fill;
    }
    return value;
}
