/* Element-wise loops, compiled once per ISA (see isa.h). */
#include <math.h>
#include "isa.h"

void FE_ISA_FN(fe_add_row)(float *restrict y, const float *restrict x, int64_t n) {
    for (int64_t j = 0; j < n; j++) y[j] += x[j];
}

/* Ftrl on w[n] with its accumulator and linear slots; root: lr_power is
 * -0.5 (a constant after inlining, so each variant is its own loop). */
static inline __attribute__((always_inline)) void ftrl_row(
        const fe_optimizer *opt, float *restrict w, float *restrict accum,
        float *restrict linear, const float *restrict g, int64_t n, const int root) {
    const float lr = opt->lr, l1 = opt->l1, two_l2 = 2.0f * opt->l2;
    const float two_l2_shrinkage = 2.0f * opt->l2_shrinkage, p = -opt->lr_power;
    for (int64_t j = 0; j < n; j++) {
        const float new_accum = accum[j] + g[j] * g[j];
        const float new_power = root ? sqrtf(new_accum) : powf(new_accum, p);
        const float old_power = root ? sqrtf(accum[j]) : powf(accum[j], p);
        linear[j] += (g[j] + two_l2_shrinkage * w[j]) - ((new_power - old_power) / lr) * w[j];
        /* clip as jnp.clip: a NaN stays NaN (and the loop vectorises, fminf's would not) */
        const float clipped = linear[j] < -l1 ? -l1 : (linear[j] > l1 ? l1 : linear[j]);
        w[j] = (clipped - linear[j]) / (new_power / lr + two_l2);
        accum[j] = new_accum;
    }
}

/* Weight decay of one parameter: w -= w * decay. */
static inline __attribute__((always_inline)) void decay_element(float *w, float decay) {
    *w -= *w * decay;
}

/* Adam (without amsgrad) on one parameter, its moments m, v and gradient g. */
static inline __attribute__((always_inline)) void adam_element(
        float *w, float *m, float *v, float g, float lr, float one_minus_b1,
        float one_minus_b2, float eps) {
    *m += (g - *m) * one_minus_b1;
    *v += (g * g - *v) * one_minus_b2;
    *w -= (*m * lr) / (sqrtf(*v) + eps);
}

/* w[n], slots[k][n], g[n]: one optimizer step, formulas as in optim.h. The
 * one body of both the eager update and the replay of deferred steps, so
 * both round alike. */
static inline __attribute__((always_inline)) void update_row(
        const fe_optimizer *opt, float *restrict w, float *const *slots,
        const float *restrict g, int64_t n) {
    const float lr = opt->lr, eps = opt->epsilon;
    if (opt->decay != 0.0f) {
        const float decay = opt->decay;
        for (int64_t j = 0; j < n; j++) decay_element(&w[j], decay);
    }
    switch (opt->kind) {
    case FE_OPT_SGD: {
        const float mu = opt->momentum;
        if (mu == 0.0f) {
            for (int64_t j = 0; j < n; j++) w[j] -= g[j] * lr;
        } else {
            float *restrict m = slots[0];
            for (int64_t j = 0; j < n; j++) {
                m[j] = m[j] * mu - g[j] * lr;
                w[j] += opt->nesterov ? m[j] * mu - g[j] * lr : m[j];
            }
        }
        break;
    }
    case FE_OPT_ADAGRAD: {
        float *restrict a = slots[0];
        for (int64_t j = 0; j < n; j++) {
            a[j] += g[j] * g[j];
            w[j] -= (lr * g[j]) / sqrtf(a[j] + eps);
        }
        break;
    }
    case FE_OPT_RMSPROP: {
        const float rho = opt->rho, mu = opt->momentum;
        float *restrict v = slots[0];
        float *restrict c = opt->centered ? slots[1] : 0;
        float *restrict m = slots[opt->centered ? 2 : 1];
        for (int64_t j = 0; j < n; j++) {
            v[j] = rho * v[j] + (1.0f - rho) * (g[j] * g[j]);
            float denominator = v[j] + eps;
            if (c) {
                c[j] = rho * c[j] + (1.0f - rho) * g[j];
                denominator = v[j] - c[j] * c[j] + eps;
            }
            const float increment = (lr * g[j]) / sqrtf(denominator);
            if (mu > 0.0f) {
                m[j] = mu * m[j] + increment;
                w[j] -= m[j];
            } else {
                w[j] -= increment;
            }
        }
        break;
    }
    case FE_OPT_ADAM: {
        const float one_minus_b1 = 1.0f - opt->beta_1;
        const float one_minus_b2 = 1.0f - opt->beta_2;
        float *restrict m = slots[0];
        float *restrict v = slots[1];
        float *restrict vh = opt->amsgrad ? slots[2] : 0;
        if (vh) {
            for (int64_t j = 0; j < n; j++) {
                m[j] += (g[j] - m[j]) * one_minus_b1;
                v[j] += (g[j] * g[j] - v[j]) * one_minus_b2;
                vh[j] = fmaxf(vh[j], v[j]);
                w[j] -= (m[j] * lr) / (sqrtf(vh[j]) + eps);
            }
        } else {
            for (int64_t j = 0; j < n; j++)
                adam_element(&w[j], &m[j], &v[j], g[j], lr, one_minus_b1, one_minus_b2, eps);
        }
        break;
    }
    case FE_OPT_NADAM: {
        const float one_minus_b1 = 1.0f - opt->beta_1;
        const float one_minus_b2 = 1.0f - opt->beta_2;
        const float ms = opt->momentum_scale, gs = opt->gradient_scale, vs = opt->velocity_scale;
        float *restrict m = slots[0];
        float *restrict v = slots[1];
        for (int64_t j = 0; j < n; j++) {
            m[j] += (g[j] - m[j]) * one_minus_b1;
            v[j] += (g[j] * g[j] - v[j]) * one_minus_b2;
            const float m_hat = m[j] * ms + g[j] * gs;
            w[j] -= (m_hat * lr) / (sqrtf(v[j] * vs) + eps);
        }
        break;
    }
    case FE_OPT_ADAMAX: {
        const float one_minus_b1 = 1.0f - opt->beta_1, b2 = opt->beta_2;
        float *restrict m = slots[0];
        float *restrict u = slots[1];
        for (int64_t j = 0; j < n; j++) {
            m[j] += (g[j] - m[j]) * one_minus_b1;
            u[j] = fmaxf(b2 * u[j], fabsf(g[j]));
            w[j] -= (lr * m[j]) / (u[j] + eps);
        }
        break;
    }
    case FE_OPT_ADADELTA: {
        const float rho = opt->rho;
        float *restrict a = slots[0];
        float *restrict e = slots[1];
        for (int64_t j = 0; j < n; j++) {
            a[j] = rho * a[j] + (1.0f - rho) * (g[j] * g[j]);
            const float delta = -(sqrtf(e[j] + eps) * g[j]) / sqrtf(a[j] + eps);
            e[j] = rho * e[j] + (1.0f - rho) * (delta * delta);
            w[j] += lr * delta;
        }
        break;
    }
    case FE_OPT_FTRL:
        /* The default power -0.5 takes sqrtf (exact, and vectorised), others powf. */
        if (opt->lr_power == -0.5f) ftrl_row(opt, w, slots[0], slots[1], g, n, 1);
        else ftrl_row(opt, w, slots[0], slots[1], g, n, 0);
        break;
    case FE_OPT_LION: {
        const float b1 = opt->beta_1, b2 = opt->beta_2;
        float *restrict m = slots[0];
        for (int64_t j = 0; j < n; j++) {
            const float c = m[j] * b1 + g[j] * (1.0f - b1);
            w[j] -= lr * (float)((c > 0.0f) - (c < 0.0f));
            m[j] = m[j] * b2 + g[j] * (1.0f - b2);
        }
        break;
    }
    }
}

void FE_ISA_FN(fe_update_row)(const fe_optimizer *opt, float *restrict w,
                              float *const *slots, const float *restrict g,
                              int64_t n) {
    update_row(opt, w, slots, g, n);
}

/* Adam's replay of the len <= FE_REPLAY_BLOCK parameters at w, m, v: they
 * stay in local arrays (registers) across the steps; lanes past len hold
 * zeros (and are not stored). */
#define FE_REPLAY_BLOCK (2 * FE_VEC_FLOATS)
static inline __attribute__((always_inline)) void adam_replay_block(
        const fe_optimizer *steps, int64_t n_steps, float *restrict w, float *restrict m,
        float *restrict v, const float *restrict zeros, int64_t len) {
    float wb[FE_REPLAY_BLOCK] = {0}, mb[FE_REPLAY_BLOCK] = {0}, vb[FE_REPLAY_BLOCK] = {0};
    float gb[FE_REPLAY_BLOCK] = {0};
    for (int64_t j = 0; j < len; j++) {
        wb[j] = w[j];
        mb[j] = m[j];
        vb[j] = v[j];
        gb[j] = zeros[j];
    }
    for (int64_t s = 0; s < n_steps; s++) {
        const fe_optimizer *opt = &steps[s];
        const float lr = opt->lr, eps = opt->epsilon, decay = opt->decay;
        const float one_minus_b1 = 1.0f - opt->beta_1, one_minus_b2 = 1.0f - opt->beta_2;
        if (decay != 0.0f)
            for (int j = 0; j < FE_REPLAY_BLOCK; j++) decay_element(&wb[j], decay);
        for (int j = 0; j < FE_REPLAY_BLOCK; j++)
            adam_element(&wb[j], &mb[j], &vb[j], gb[j], lr, one_minus_b1, one_minus_b2, eps);
    }
    for (int64_t j = 0; j < len; j++) {
        w[j] = wb[j];
        m[j] = mb[j];
        v[j] = vb[j];
    }
}

static void adam_replay(const fe_optimizer *steps, int64_t n_steps, float *w, float *m,
                        float *v, const float *zeros, int64_t n) {
    int64_t start = 0;
    for (; start + FE_REPLAY_BLOCK <= n; start += FE_REPLAY_BLOCK)  /* whole blocks: vector copies */
        adam_replay_block(steps, n_steps, w + start, m + start, v + start, zeros + start,
                          FE_REPLAY_BLOCK);
    if (start < n)
        adam_replay_block(steps, n_steps, w + start, m + start, v + start, zeros + start,
                          n - start);
}

void FE_ISA_FN(fe_replay_row)(const fe_optimizer *steps, int64_t n_steps, float *restrict w,
                              float *const *slots, const float *restrict zeros, int64_t n) {
    if (steps[0].kind == FE_OPT_ADAM && !steps[0].amsgrad) {
        adam_replay(steps, n_steps, w, slots[0], slots[1], zeros, n);
        return;
    }
    for (int64_t s = 0; s < n_steps; s++) update_row(&steps[s], w, slots, zeros, n);
}
