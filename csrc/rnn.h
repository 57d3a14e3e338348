/* What the recurrent layers (lstm.c, gru.c) share: their sizes, their
 * activations, and how a batch is cut into blocks of rows for the threads. */
#ifndef FE_RNN_H
#define FE_RNN_H

#include <stdint.h>
#include <omp.h>

typedef enum {
    FE_ACT_LINEAR = 0,
    FE_ACT_RELU = 1,
    FE_ACT_SIGMOID = 2,       /* 1 / (1 + exp(-x)) */
    FE_ACT_TANH = 3,
    FE_ACT_HARD_SIGMOID = 4,  /* clip(x / 6 + 1/2, 0, 1), Keras 3's */
} fe_activation;

typedef struct {
    int64_t batch, steps, input_dim, units;
    int activation, recurrent_activation; /* fe_activation */
    int reverse;                          /* go_backwards */
    int reset_after;                      /* GRU only: reset gate after the recurrent GEMM */
} fe_rnn_dims;

/* Below this many batch rows * units a layer runs on one thread. */
#define FE_RNN_PARALLEL_MIN_WORK 512

/* Blocks of at most this many batch rows multiply by the weights in
 * fe_isa->small_gemm (fe_matmul) instead of sgemm, whose packing of the
 * weights on every call costs more than so small a product. Which way a
 * block goes depends on its rows alone (fe_rnn_row_block does not depend
 * on the thread count): results stay bitwise the same for any. */
#define FE_RNN_SMALL_BATCH 8

static inline int64_t fe_min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The batch is cut in two blocks of rows per processor (at least 16 rows,
 * handed out dynamically: a thread slowed by other processes takes fewer),
 * whatever the number of threads, so that every BLAS call and every sum is
 * the same for any thread count: results are bitwise reproducible. */
static inline int64_t fe_rnn_row_block(const fe_rnn_dims *d) {
    if (d->batch <= 16) return 16;  /* whatever the processors (a call costs a system call) */
    const int64_t parts = 2 * (int64_t)omp_get_num_procs();
    const int64_t rows = (d->batch + parts - 1) / parts;
    return rows <= 16 ? 16 : (rows + 7) / 8 * 8;
}

/* Position read at step s. */
static inline int64_t fe_rnn_position(const fe_rnn_dims *d, int64_t s) {
    return d->reverse ? d->steps - 1 - s : s;
}

/* Batch rows are independent through time: each thread runs the input
 * projection and the whole time loop on blocks of rows, then (in backward)
 * one of the weight-gradient parts, with a serial BLAS. */
static inline int fe_rnn_team_size(const fe_rnn_dims *d, int blas_serial) {
    if (!blas_serial || d->batch * d->units < FE_RNN_PARALLEL_MIN_WORK) return 1;
    const int64_t rows = fe_rnn_row_block(d), blocks = (d->batch + rows - 1) / rows;
    return (int)fe_min64(omp_get_max_threads(), blocks);
}

/* h_prev at the first position read, for B rows: h0 * rmask (h0 NULL:
 * zeros; rmask NULL: ones). h_prev: (B, T, U) by position; h0, rmask: (B, U). */
static inline void fe_rnn_first_h_prev(const fe_rnn_dims *d, float *h_prev, const float *h0,
                                       const float *rmask) {
    const int64_t B = d->batch, T = d->steps, U = d->units, t0 = fe_rnn_position(d, 0);
    for (int64_t b = 0; b < B; b++) {
        float *hp = h_prev + (b * T + t0) * U;
        for (int64_t u = 0; u < U; u++)
            hp[u] = h0 ? h0[b * U + u] * (rmask ? rmask[b * U + u] : 1.0f) : 0.0f;
    }
}

/* The gradient of h0 after the first step's backward (n = B U floats):
 * its part that skips R plus, through the dropout mask, the one through R. */
static inline void fe_rnn_initial_h_grad(float *dh0, const float *dh_carry,
                                         const float *dh_rec, const float *rmask, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dh0[i] = dh_carry[i] + dh_rec[i] * (rmask ? rmask[i] : 1.0f);
}

#endif
