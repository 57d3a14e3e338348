/* Element-wise loops, compiled once per ISA (see isa.h). */
#include <math.h>
#include "isa.h"

void FE_ISA_FN(fe_add_row)(float *restrict y, const float *restrict x, int64_t n) {
    for (int64_t j = 0; j < n; j++) y[j] += x[j];
}

/* w[n], slots[k][n], g[n]: one optimizer step, formulas as in optim.h. */
void FE_ISA_FN(fe_update_row)(const fe_optimizer *opt, float *restrict w,
                              float *const *slots, const float *restrict g,
                              int64_t n) {
    const float lr = opt->lr, eps = opt->epsilon;
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
            for (int64_t j = 0; j < n; j++) {
                m[j] += (g[j] - m[j]) * one_minus_b1;
                v[j] += (g[j] * g[j] - v[j]) * one_minus_b2;
                w[j] -= (m[j] * lr) / (sqrtf(v[j]) + eps);
            }
        }
        break;
    }
    }
}
