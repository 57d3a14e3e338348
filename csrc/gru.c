#include <string.h>
#include <omp.h>
#include "fpenv.h"
#include "isa.h"
#include "gru.h"

/* Rows [b0, b1) of the batch (arguments as fe_gru_forward's, offset here). */
static void forward_rows(fe_sgemm_fn sgemm, const fe_rnn_dims *full, int64_t b0, int64_t b1,
                         float *h_seq, float *gates, float *h_prev, float *aux, const float *x,
                         const float *kernel, const float *recurrent, const float *bias,
                         const float *h0, const float *rmask, const uint8_t *mask,
                         float *z_rec) {
    fe_rnn_dims block = *full;
    const fe_rnn_dims *d = &block;
    block.batch = b1 - b0;
    const int B = (int)block.batch, T = (int)d->steps, I = (int)d->input_dim;
    const int U = (int)d->units, G = 3 * U;
    const int64_t seq = b0 * T * U, state = b0 * U;
    h_seq += seq; h_prev += seq; aux += seq; gates += b0 * T * G;
    x += b0 * T * I;
    z_rec += b0 * G;
    if (h0) h0 += state;
    if (rmask) rmask += state;
    if (mask) mask += b0 * T;
    const int small = B <= FE_RNN_SMALL_BATCH;
    /* Input projection of every step at once: gates = x W. */
    fe_matmul(sgemm, small, B * T, G, I, x, I, kernel, G, gates, G);
    fe_rnn_first_h_prev(d, h_prev, h0, rmask);
    for (int64_t s = 0; s < T; s++) {
        const int64_t t = fe_rnn_position(d, s);
        const int recur = s > 0 || h0;
        /* h_{t-1} R (all three blocks after the reset, else z and r). */
        if (recur)
            fe_matmul(sgemm, small, B, d->reset_after ? G : 2 * U, U, h_prev + t * U, T * U,
                      recurrent, G, z_rec, G);
        fe_isa->gru_gates_forward(d, gates + t * G, recur ? z_rec : 0, bias, h_prev + t * U,
                                  aux + t * U);
        if (recur && !d->reset_after)  /* (r h_{t-1}) R_h */
            fe_matmul(sgemm, small, B, U, U, aux + t * U, T * U, recurrent + 2 * U, G,
                      z_rec + 2 * U, G);
        const float *h_prev_raw = s > 0 ? h_seq + (s - 1) * U : h0;
        fe_isa->gru_state_forward(d, gates + t * G, recur ? z_rec : 0, aux + t * U, h_prev_raw,
                                  s > 0 ? (int64_t)T * U : U, h_seq + s * U,
                                  s + 1 < T ? h_prev + fe_rnn_position(d, s + 1) * U : 0,
                                  rmask, mask ? mask + t : 0);
    }
}

void fe_gru_forward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d, float *h_seq,
                    float *gates, float *h_prev, float *aux, const float *x,
                    const float *kernel, const float *recurrent, const float *bias,
                    const float *h0, const float *rmask, const uint8_t *mask, float *work) {
    const int64_t B = d->batch, rows = fe_rnn_row_block(d), blocks = (B + rows - 1) / rows;
    const int n_threads = fe_rnn_team_size(d, blas_serial);
    if (blocks == 1) {  /* no region: opening even an inactive one costs 0.5 us */
        forward_rows(sgemm, d, 0, B, h_seq, gates, h_prev,
                     aux, x, kernel, recurrent, bias, h0, rmask, mask, work);
        return;
    }
    #pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_threads > 1)
    for (int64_t k = 0; k < blocks; k++)
        forward_rows(sgemm, d, k * rows, fe_min64(B, (k + 1) * rows), h_seq, gates, h_prev,
                     aux, x, kernel, recurrent, bias, h0, rmask, mask, work);
}

static void backward_rows(fe_sgemm_fn sgemm, const fe_rnn_dims *full, int64_t b0, int64_t b1,
                          float *dx, float *dh0, float *dz, float *dh_in, float *dh_carry,
                          float *dh_rec, float *d_rh, const float *dh_seq,
                          const float *kernel, const float *recurrent, const float *gates,
                          const float *h_seq, const float *h_prev, const float *aux,
                          const float *h0, const float *rmask, const uint8_t *mask) {
    fe_rnn_dims block = *full;
    const fe_rnn_dims *d = &block;
    block.batch = b1 - b0;
    const int B = (int)block.batch, T = (int)d->steps, I = (int)d->input_dim;
    const int U = (int)d->units, G = 3 * U;
    const int64_t seq = b0 * T * U, state = b0 * U;
    h_seq += seq; h_prev += seq; aux += seq; gates += b0 * T * G; dz += b0 * T * G;
    if (dh_in) dh_in += seq;
    dh_carry += state; dh_rec += state; d_rh += state;
    if (dh_seq) dh_seq += seq;
    if (dh0) dh0 += state;
    if (h0) h0 += state;
    if (rmask) rmask += state;
    if (mask) mask += b0 * T;
    for (int64_t s = T - 1; s >= 0; s--) {
        const int64_t t = fe_rnn_position(d, s);
        const float *h_prev_raw = s > 0 ? h_seq + (s - 1) * U : h0;
        fe_isa->gru_step_backward(d, dz + t * G, dh_in ? dh_in + t * U : 0, dh_carry,
                                  s + 1 < T ? dh_rec : 0, dh_seq ? dh_seq + s * U : 0,
                                  gates + t * G, aux + t * U, h_prev_raw,
                                  s > 0 ? (int64_t)T * U : U, rmask, mask ? mask + t : 0);
        if (!d->reset_after) {  /* through (r h_{t-1}) R_h: r's gradient, part of dh_{t-1} */
            fe_gemm(sgemm, 0, 1, B, U, U, 1.0f, dz + t * G + 2 * U, T * G, recurrent + 2 * U,
                    G, 0.0f, d_rh, U);
            fe_isa->gru_reset_backward(d, dz + t * G, dh_rec, d_rh, gates + t * G,
                                       h_prev + t * U, mask ? mask + t : 0);
        }
        if (s > 0 || dh0) {  /* dL/dh_{s-1} through R */
            if (d->reset_after)
                fe_gemm(sgemm, 0, 1, B, U, G, 1.0f, dz + t * G, T * G, recurrent, G, 0.0f,
                        dh_rec, U);
            else
                fe_gemm(sgemm, 0, 1, B, U, 2 * U, 1.0f, dz + t * G, T * G, recurrent, G, 1.0f,
                        dh_rec, U);
        }
    }
    if (dh0)
        fe_rnn_initial_h_grad(dh0, dh_carry, dh_rec, rmask, (int64_t)B * U);
    if (!dx) return;
    dx += b0 * T * I;
    if (d->reset_after) {  /* dz's third block is r * dL/dhh_pre; x_h's is dh_in */
        fe_gemm(sgemm, 0, 1, B * T, I, 2 * U, 1.0f, dz, G, kernel, G, 0.0f, dx, I);
        fe_gemm(sgemm, 0, 1, B * T, I, U, 1.0f, dh_in, U, kernel + 2 * U, G, 1.0f, dx, I);
    } else {
        fe_gemm(sgemm, 0, 1, B * T, I, G, 1.0f, dz, G, kernel, G, 0.0f, dx, I);
    }
}

/* Weight gradients, each a GEMM over all B*T rows: part 0 is dkernel, part 1
 * drecurrent and dbias (two parts, whatever the number of threads). */
static void weight_grads(fe_sgemm_fn sgemm, const fe_rnn_dims *d, int part, float *dkernel,
                         float *drecurrent, float *dbias, const float *dz, const float *dh_in,
                         const float *x, const float *h_prev, const float *aux) {
    const int rows = (int)(d->batch * d->steps), I = (int)d->input_dim, U = (int)d->units;
    const int G = 3 * U;
    if (part == 0) {
        if (d->reset_after) {
            fe_gemm(sgemm, 1, 0, I, 2 * U, rows, 1.0f, x, I, dz, G, 0.0f, dkernel, G);
            fe_gemm(sgemm, 1, 0, I, U, rows, 1.0f, x, I, dh_in, U, 0.0f, dkernel + 2 * U, G);
        } else {
            fe_gemm(sgemm, 1, 0, I, G, rows, 1.0f, x, I, dz, G, 0.0f, dkernel, G);
        }
        return;
    }
    if (d->reset_after) {
        fe_gemm(sgemm, 1, 0, U, G, rows, 1.0f, h_prev, U, dz, G, 0.0f, drecurrent, G);
    } else {
        fe_gemm(sgemm, 1, 0, U, 2 * U, rows, 1.0f, h_prev, U, dz, G, 0.0f, drecurrent, G);
        fe_gemm(sgemm, 1, 0, U, U, rows, 1.0f, aux, U, dz + 2 * U, G, 0.0f, drecurrent + 2 * U,
                G);
    }
    if (!dbias) return;
    /* reset_after: row 1 (recurrent) sums dz; row 0 shares z and r with it and
     * sums dh_in for h. Otherwise the one row sums dz. */
    float *sum = d->reset_after ? dbias + G : dbias;
    memset(sum, 0, (size_t)G * sizeof(float));
    for (int64_t r = 0; r < rows; r++) fe_isa->add_row(sum, dz + r * G, G);
    if (d->reset_after) {
        memcpy(dbias, sum, (size_t)(2 * U) * sizeof(float));
        memset(dbias + 2 * U, 0, (size_t)U * sizeof(float));
        for (int64_t r = 0; r < rows; r++) fe_isa->add_row(dbias + 2 * U, dh_in + r * U, U);
    }
}

void fe_gru_backward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d, float *dx,
                     float *dh0, float *dkernel, float *drecurrent, float *dbias, float *dz,
                     float *dh_in, float *work, const float *dh_seq, const float *dh_last,
                     const float *x, const float *kernel, const float *recurrent,
                     const float *gates, const float *h_seq, const float *h_prev,
                     const float *aux, const float *h0, const float *rmask,
                     const uint8_t *mask) {
    const int64_t B = d->batch, BU = B * d->units;
    float *dh_carry = work, *dh_rec = work + BU, *d_rh = work + 2 * BU;
    if (dh_last) memcpy(dh_carry, dh_last, (size_t)BU * sizeof(float));
    else memset(dh_carry, 0, (size_t)BU * sizeof(float));
    const int64_t rows = fe_rnn_row_block(d), blocks = (B + rows - 1) / rows;
    const int n_threads = fe_rnn_team_size(d, blas_serial);
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1)
    {
        const fe_fp_state fp = fe_flush_denormals();
        #pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < blocks; k++)
            backward_rows(sgemm, d, k * rows, fe_min64(B, (k + 1) * rows), dx, dh0, dz, dh_in,
                          dh_carry, dh_rec, d_rh, dh_seq, kernel, recurrent, gates, h_seq,
                          h_prev, aux, h0, rmask, mask);
        #pragma omp for schedule(dynamic, 1)
        for (int part = 0; part < 2; part++)
            weight_grads(sgemm, d, part, dkernel, drecurrent, dbias, dz, dh_in, x, h_prev, aux);
        fe_restore_fp(fp);
    }
}
