/* Optimizer updates in Keras 3's formulas, applied row by row.
 * A "row" is dim contiguous parameters; a dense weight is one row of its size. */
#ifndef FE_OPTIM_H
#define FE_OPTIM_H

#include <stdint.h>

typedef enum {
    FE_OPT_SGD = 0,     /* w -= lr*g; with momentum: m = m*mu - lr*g, w += m (nesterov: w += m*mu - lr*g) */
    FE_OPT_ADAGRAD = 1, /* a += g^2; w -= lr*g / sqrt(a + eps) */
    FE_OPT_RMSPROP = 2, /* v = rho*v + (1-rho)*g^2; [c = rho*c + (1-rho)*g]; w -= lr*g / sqrt(v [- c^2] + eps) (with momentum through m) */
    FE_OPT_ADAM = 3,    /* m += (g-m)(1-b1); v += (g^2-v)(1-b2); [vh = max(vh, v)]; w -= m*alpha / (sqrt(v) + eps) */
    FE_OPT_NADAM = 4,   /* m, v as Adam; w -= (m*ms + g*gs)*lr / (sqrt(v*vs) + eps) */
    FE_OPT_ADAMAX = 5,  /* m += (g-m)(1-b1); u = max(b2*u, |g|); w -= lr*m / (u + eps) (lr: lr / (1 - b1^t)) */
    FE_OPT_ADADELTA = 6,/* a = rho*a + (1-rho)g^2; d = -sqrt(e + eps)*g / sqrt(a + eps); e = rho*e + (1-rho)d^2; w += lr*d */
    FE_OPT_FTRL = 7,    /* n' = n + g^2; z += g + 2*l2s*w - (n'^-p - n^-p)/lr * w;
                         * w = (clip(z, -l1, l1) - z) / (n'^-p/lr + 2*l2); n = n' */
    FE_OPT_LION = 8,    /* w -= lr*sign(b1*m + (1-b1)g); m = b2*m + (1-b2)g */
} fe_opt_kind;

typedef struct {
    int kind;          /* fe_opt_kind */
    float lr;          /* learning rate (Adam: alpha, the bias-corrected rate of this step) */
    float momentum;    /* SGD, RMSprop: momentum, 0 = none */
    int nesterov;      /* SGD */
    float rho;         /* RMSprop, Adadelta */
    float beta_1, beta_2; /* Adam, Nadam, Adamax, Lion */
    float epsilon;
    int centered;      /* RMSprop */
    int amsgrad;       /* Adam */
    float decay;       /* every kind: w -= w*decay first (Keras's weight_decay * lr of the step) */
    /* Nadam, set per step: m_hat = m*momentum_scale + g*gradient_scale, v_hat = v*velocity_scale */
    float momentum_scale, gradient_scale, velocity_scale;
    /* Ftrl: learning_rate_power p, l1, l2 (+ beta / (2 lr), set per step), l2 shrinkage */
    float lr_power, l1, l2, l2_shrinkage;
} fe_optimizer;

/* Number of slot arrays (each shaped like the parameter) the optimizer needs. */
int fe_optimizer_num_slots(const fe_optimizer *opt);

/* Lazy row-wise update: only the given rows move.
 * table:      (n_table_rows, dim) parameters, updated in place
 * slots:      num_slots pointers, each (n_table_rows, dim)
 * rows:       (n_rows) distinct row ids, in [0, n_table_rows)
 * grads:      (n_rows, dim) gradient of each listed row */
void fe_update_rows(const fe_optimizer *opt, float *table, float *const *slots,
                    const int64_t *rows, const float *grads, int64_t n_rows,
                    int64_t dim);

/* Dense-semantics update of a whole table whose gradient is zero outside the
 * given rows (Keras's behaviour: every row's moments decay). One streaming pass.
 * table:      (n_table_rows, dim), updated in place
 * slots:      num_slots pointers, each (n_table_rows, dim)
 * rows:       (n_rows) row ids, strictly increasing, in [0, n_table_rows)
 * grads:      (n_rows, dim)
 * zeros:      (n_zeros) all zero, n_zeros >= 1: the gradient of untouched rows */
void fe_update_all_rows(const fe_optimizer *opt, float *table,
                        float *const *slots, int64_t n_table_rows,
                        const int64_t *rows, const float *grads, int64_t n_rows,
                        int64_t dim, const float *zeros, int64_t n_zeros);

#endif
