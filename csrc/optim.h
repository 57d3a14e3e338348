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

#define FE_MAX_SLOTS 3

/* How an update item moves its parameter. */
typedef enum {
    FE_UPDATE_DENSE = 0,     /* every element, gradient grad (a dense weight: one row) */
    FE_UPDATE_ROWS = 1,      /* only the listed rows (Embedding(sparse=True)) */
    FE_UPDATE_ALL_ROWS = 2,  /* every row, zero gradient outside the listed rows (Keras's
                              * dense semantics): one streaming pass over the table */
    FE_UPDATE_DEFERRED = 3,  /* the same numbers as ALL_ROWS, but only the listed rows are
                              * written: each first replays the steps it missed, and the
                              * caller records this step in the history for the others */
} fe_update_mode;

/* One variable's update in one step. */
typedef struct {
    fe_optimizer opt;      /* this step's formula and scalars for this variable */
    int mode;              /* fe_update_mode */
    float *param;          /* (n_table_rows, dim), updated in place */
    float *slots[FE_MAX_SLOTS]; /* num_slots of them, each shaped as param */
    const float *grad;     /* (n_rows, dim): the gradient of each listed row */
    const int64_t *rows;   /* (n_rows) strictly increasing row ids; DENSE: {0} */
    int64_t n_rows, dim, n_table_rows;
    /* DEFERRED only: */
    const fe_optimizer *history; /* (n_steps) the steps before this one */
    int64_t n_steps;
    int64_t *row_step;     /* (n_table_rows) how many history steps each row has had;
                            * the listed rows end at n_steps + 1 */
    int64_t first_task;    /* set by fe_update_step */
} fe_update_item;

/* One optimizer step of all the items, in one parallel region. Each
 * element is updated by one task with the same code whatever the thread
 * count, so the bits do not depend on it.
 * zeros:      (n_zeros) all zero, n_zeros >= 1 and >= the dim of every
 *             DEFERRED item: the gradient of untouched rows */
void fe_update_step(fe_update_item *items, int64_t n_items, const float *zeros,
                    int64_t n_zeros);

/* Bring the listed rows of a deferred table up to date: each replays, in
 * order, the history steps it has not had (row_step[r] .. n_steps).
 * history:    (n_steps) the recorded steps
 * table:      (n_table_rows, dim); slots: num_slots of the same shape
 * row_step:   (n_table_rows), the listed rows end at n_steps
 * rows:       (n_rows) row ids in [0, n_table_rows), repeats allowed; NULL: every row
 * scratch:    (2 * n_rows) work space (unused when rows is NULL)
 * zeros:      (dim) all zero */
void fe_replay_rows(const fe_optimizer *history, int64_t n_steps, float *table,
                    float *const *slots, int64_t n_table_rows, int64_t dim,
                    int64_t *row_step, const int64_t *rows, int64_t n_rows,
                    int64_t *scratch, const float *zeros);

#endif
