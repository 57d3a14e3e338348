#include <string.h>
#include <omp.h>
#include "fpenv.h"
#include "isa.h"
#include "lstm.h"

/* Rows [b0, b1) of the batch (arguments as fe_lstm_forward's, offset here). */
static void forward_rows(fe_sgemm_fn sgemm, const fe_lstm_dims *full, int64_t b0, int64_t b1,
                         float *h_seq, float *c_seq, float *act_c, float *gates,
                         float *h_prev, const float *x, const float *kernel,
                         const float *recurrent, const float *bias, const float *h0,
                         const float *c0, const float *rmask, const uint8_t *mask,
                         float *z_rec) {
    fe_lstm_dims block = *full;
    const fe_lstm_dims *d = &block;
    block.batch = b1 - b0;
    const int B = (int)block.batch, T = (int)d->steps, I = (int)d->input_dim;
    const int U = (int)d->units, G = 4 * U;
    const int64_t seq = b0 * T * U, state = b0 * U;
    h_seq += seq; c_seq += seq; act_c += seq; h_prev += seq; gates += b0 * T * G;
    x += b0 * T * I;
    z_rec += b0 * G;
    if (h0) h0 += state;
    if (c0) c0 += state;
    if (rmask) rmask += state;
    if (mask) mask += b0 * T;
    const int small = B <= FE_RNN_SMALL_BATCH;
    /* Input projection of every step at once: gates = x W. */
    fe_matmul(sgemm, small, B * T, G, I, x, I, kernel, G, gates, G);
    fe_rnn_first_h_prev(d, h_prev, h0, rmask);
    for (int64_t s = 0; s < T; s++) {
        const int64_t t = fe_rnn_position(d, s);
        /* h_{t-1} R into a contiguous block: rows of gates are T*4U apart. */
        const int recur = s > 0 || h0;
        if (recur)
            fe_matmul(sgemm, small, B, G, U, h_prev + t * U, T * U, recurrent, G, z_rec, G);
        const float *c_prev = s > 0 ? c_seq + fe_rnn_position(d, s - 1) * U : c0;
        const float *h_prev_raw = s > 0 ? h_seq + (s - 1) * U : h0;
        const int64_t prev_ld = s > 0 ? (int64_t)T * U : U;
        float *h_next = s + 1 < T ? h_prev + fe_rnn_position(d, s + 1) * U : 0;
        fe_isa->lstm_step_forward(d, gates + t * G, recur ? z_rec : 0, bias, c_prev,
                                  h_prev_raw, prev_ld, c_seq + t * U, act_c + t * U,
                                  h_seq + s * U, h_next, rmask, mask ? mask + t : 0);
    }
}

void fe_lstm_forward(fe_sgemm_fn sgemm, int blas_serial,
                     const fe_lstm_dims *d, float *h_seq, float *c_seq, float *act_c,
                     float *gates, float *h_prev, const float *x, const float *kernel,
                     const float *recurrent, const float *bias, const float *h0,
                     const float *c0, const float *rmask, const uint8_t *mask,
                     float *work) {
    const int64_t B = d->batch, rows = fe_rnn_row_block(d), blocks = (B + rows - 1) / rows;
    const int n_threads = fe_rnn_team_size(d, blas_serial);
    if (blocks == 1) {  /* no region: opening even an inactive one costs 0.5 us */
        forward_rows(sgemm, d, 0, B,
                     h_seq, c_seq, act_c, gates, h_prev, x, kernel, recurrent, bias, h0, c0,
                     rmask, mask, work);
        return;
    }
    #pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_threads > 1)
    for (int64_t k = 0; k < blocks; k++)
        forward_rows(sgemm, d, k * rows, fe_min64(B, (k + 1) * rows),
                     h_seq, c_seq, act_c, gates, h_prev, x, kernel, recurrent, bias, h0, c0,
                     rmask, mask, work);
}

static void backward_rows(fe_sgemm_fn sgemm, const fe_lstm_dims *full, int64_t b0,
                          int64_t b1, float *dx, float *dh0, float *dc0, float *dz, float *dh_carry, float *dc_carry,
                          float *dh_rec, const float *dh_seq, const float *kernel,
                          const float *recurrent, const float *c_seq, const float *act_c,
                          const float *gates, const float *c0, const float *rmask,
                          const uint8_t *mask) {
    fe_lstm_dims block = *full;
    const fe_lstm_dims *d = &block;
    block.batch = b1 - b0;
    const int B = (int)block.batch, T = (int)d->steps, I = (int)d->input_dim;
    const int U = (int)d->units, G = 4 * U;
    const int64_t seq = b0 * T * U, state = b0 * U;
    c_seq += seq; act_c += seq; gates += b0 * T * G; dz += b0 * T * G;
    dh_carry += state; dc_carry += state; dh_rec += state;
    if (dh_seq) dh_seq += seq;
    if (c0) c0 += state;
    if (dh0) { dh0 += state; dc0 += state; }
    if (rmask) rmask += state;
    if (mask) mask += b0 * T;
    for (int64_t s = T - 1; s >= 0; s--) {
        const int64_t t = fe_rnn_position(d, s);
        const float *c_prev = s > 0 ? c_seq + fe_rnn_position(d, s - 1) * U : c0;
        const int64_t prev_ld = s > 0 ? (int64_t)T * U : U;
        fe_isa->lstm_step_backward(d, dz + t * G, dh_carry, dc_carry,
                                   s + 1 < T ? dh_rec : 0, dh_seq ? dh_seq + s * U : 0,
                                   gates + t * G, c_prev, prev_ld, act_c + t * U, rmask,
                                   mask ? mask + t : 0);
        if (s > 0 || dh0)  /* dL/dh_{s-1} through R: dz_t R^T */
            fe_gemm(sgemm, 0, 1, B, U, G, 1.0f, dz + t * G, T * G, recurrent, G, 0.0f,
                    dh_rec, U);
    }
    if (dh0) {
        fe_rnn_initial_h_grad(dh0, dh_carry, dh_rec, rmask, (int64_t)B * U);
        memcpy(dc0, dc_carry, (size_t)B * U * sizeof(float));
    }
    if (dx) fe_gemm(sgemm, 0, 1, B * T, I, G, 1.0f, dz, G, kernel, G, 0.0f, dx + b0 * T * I, I);
}

/* Weight gradients, each a single GEMM over all B*T rows: part 0 is dkernel,
 * part 1 drecurrent and dbias (two parts, whatever the number of threads). */
static void weight_grads(fe_sgemm_fn sgemm, const fe_lstm_dims *d, int part, float *dkernel,
                         float *drecurrent, float *dbias, const float *dz, const float *x,
                         const float *h_prev) {
    const int rows = (int)(d->batch * d->steps), I = (int)d->input_dim, U = (int)d->units;
    const int G = 4 * U;
    if (part == 0) {
        fe_gemm(sgemm, 1, 0, I, G, rows, 1.0f, x, I, dz, G, 0.0f, dkernel, G);
        return;
    }
    fe_gemm(sgemm, 1, 0, U, G, rows, 1.0f, h_prev, U, dz, G, 0.0f, drecurrent, G);
    if (dbias) {
        memset(dbias, 0, (size_t)G * sizeof(float));
        for (int64_t r = 0; r < rows; r++) fe_isa->add_row(dbias, dz + r * G, G);
    }
}

void fe_lstm_backward(fe_sgemm_fn sgemm, int blas_serial,
                      const fe_lstm_dims *d, float *dx, float *dh0, float *dc0,
                      float *dkernel, float *drecurrent,
                      float *dbias, float *dz, float *work, const float *dh_seq,
                      const float *dh_last, const float *dc_last, const float *x,
                      const float *kernel, const float *recurrent, const float *c_seq,
                      const float *act_c, const float *gates, const float *h_prev,
                      const float *c0, const float *rmask, const uint8_t *mask) {
    const int64_t B = d->batch;
    const size_t state_bytes = (size_t)B * d->units * sizeof(float);
    float *dh_carry = work, *dc_carry = work + B * d->units;
    float *dh_rec = work + 2 * B * d->units;
    if (dh_last) memcpy(dh_carry, dh_last, state_bytes);
    else memset(dh_carry, 0, state_bytes);
    if (dc_last) memcpy(dc_carry, dc_last, state_bytes);
    else memset(dc_carry, 0, state_bytes);
    const int64_t rows = fe_rnn_row_block(d), blocks = (B + rows - 1) / rows;
    const int n_threads = fe_rnn_team_size(d, blas_serial);
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1)
    {
        const fe_fp_state fp = fe_flush_denormals();
        #pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < blocks; k++)
            backward_rows(sgemm, d, k * rows, fe_min64(B, (k + 1) * rows),
                          dx, dh0, dc0, dz, dh_carry, dc_carry, dh_rec, dh_seq, kernel, recurrent, c_seq,
                          act_c, gates, c0, rmask, mask);
        #pragma omp for schedule(dynamic, 1)
        for (int part = 0; part < 2; part++)
            weight_grads(sgemm, d, part, dkernel, drecurrent, dbias, dz, x, h_prev);
        fe_restore_fp(fp);
    }
}
