#include <string.h>
#include <omp.h>
#include "fpenv.h"
#include "isa.h"
#include "simple_rnn.h"

/* Rows [b0, b1) of the batch (arguments as fe_simple_rnn_forward's, offset here). */
static void forward_rows(fe_sgemm_fn sgemm, const fe_rnn_dims *full, int64_t b0, int64_t b1,
                         float *h_seq, float *gates, float *h_prev, const float *x,
                         const float *kernel, const float *recurrent, const float *bias,
                         const float *h0, const float *rmask, const uint8_t *mask,
                         float *z_rec) {
    fe_rnn_dims block = *full;
    const fe_rnn_dims *d = &block;
    block.batch = b1 - b0;
    const int B = (int)block.batch, T = (int)d->steps, I = (int)d->input_dim;
    const int U = (int)d->units;
    const int64_t seq = b0 * T * U, state = b0 * U;
    h_seq += seq; h_prev += seq; gates += seq;
    x += b0 * T * I;
    z_rec += state;
    if (h0) h0 += state;
    if (rmask) rmask += state;
    if (mask) mask += b0 * T;
    const int small = B <= FE_RNN_SMALL_BATCH;
    fe_matmul(sgemm, small, B * T, U, I, x, I, kernel, U, gates, U);
    fe_rnn_first_h_prev(d, h_prev, h0, rmask);
    for (int64_t s = 0; s < T; s++) {
        const int64_t t = fe_rnn_position(d, s);
        const int recur = s > 0 || h0;
        if (recur)
            fe_matmul(sgemm, small, B, U, U, h_prev + t * U, T * U, recurrent, U, z_rec, U);
        fe_isa->simple_rnn_step_forward(d, gates + t * U, recur ? z_rec : 0, bias,
                                        s > 0 ? h_seq + (s - 1) * U : h0,
                                        s > 0 ? (int64_t)T * U : U, h_seq + s * U,
                                        s + 1 < T ? h_prev + fe_rnn_position(d, s + 1) * U : 0,
                                        rmask, mask ? mask + t : 0);
    }
}

void fe_simple_rnn_forward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d,
                           float *h_seq, float *gates, float *h_prev, const float *x,
                           const float *kernel, const float *recurrent, const float *bias,
                           const float *h0, const float *rmask, const uint8_t *mask,
                           float *work) {
    const int64_t B = d->batch, rows = fe_rnn_row_block(d), blocks = (B + rows - 1) / rows;
    const int n_threads = fe_rnn_team_size(d, blas_serial);
    if (blocks == 1) {  /* no region: opening even an inactive one costs 0.5 us */
        forward_rows(sgemm, d, 0, B, h_seq, gates, h_prev, x,
                     kernel, recurrent, bias, h0, rmask, mask, work);
        return;
    }
    #pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads) if (n_threads > 1)
    for (int64_t k = 0; k < blocks; k++)
        forward_rows(sgemm, d, k * rows, fe_min64(B, (k + 1) * rows), h_seq, gates, h_prev, x,
                     kernel, recurrent, bias, h0, rmask, mask, work);
}

static void backward_rows(fe_sgemm_fn sgemm, const fe_rnn_dims *full, int64_t b0, int64_t b1,
                          float *dx, float *dh0, float *dz, float *dh_carry, float *dh_rec,
                          const float *dh_seq, const float *kernel, const float *recurrent,
                          const float *gates, const float *rmask, const uint8_t *mask) {
    fe_rnn_dims block = *full;
    const fe_rnn_dims *d = &block;
    block.batch = b1 - b0;
    const int B = (int)block.batch, T = (int)d->steps, I = (int)d->input_dim;
    const int U = (int)d->units;
    const int64_t seq = b0 * T * U, state = b0 * U;
    gates += seq; dz += seq;
    dh_carry += state; dh_rec += state;
    if (dh_seq) dh_seq += seq;
    if (dh0) dh0 += state;
    if (rmask) rmask += state;
    if (mask) mask += b0 * T;
    for (int64_t s = T - 1; s >= 0; s--) {
        const int64_t t = fe_rnn_position(d, s);
        fe_isa->simple_rnn_step_backward(d, dz + t * U, dh_carry, s + 1 < T ? dh_rec : 0,
                                         dh_seq ? dh_seq + s * U : 0, gates + t * U, rmask,
                                         mask ? mask + t : 0);
        if (s > 0 || dh0)  /* dL/dh_{s-1} through R: dz_t R^T */
            fe_gemm(sgemm, 0, 1, B, U, U, 1.0f, dz + t * U, T * U, recurrent, U, 0.0f, dh_rec,
                    U);
    }
    if (dh0)
        fe_rnn_initial_h_grad(dh0, dh_carry, dh_rec, rmask, (int64_t)B * U);
    if (dx)
        fe_gemm(sgemm, 0, 1, B * T, I, U, 1.0f, dz, U, kernel, U, 0.0f, dx + b0 * T * I, I);
}

/* Weight gradients: part 0 dkernel, part 1 drecurrent and dbias. */
static void weight_grads(fe_sgemm_fn sgemm, const fe_rnn_dims *d, int part, float *dkernel,
                         float *drecurrent, float *dbias, const float *dz, const float *x,
                         const float *h_prev) {
    const int rows = (int)(d->batch * d->steps), I = (int)d->input_dim, U = (int)d->units;
    if (part == 0) {
        fe_gemm(sgemm, 1, 0, I, U, rows, 1.0f, x, I, dz, U, 0.0f, dkernel, U);
        return;
    }
    fe_gemm(sgemm, 1, 0, U, U, rows, 1.0f, h_prev, U, dz, U, 0.0f, drecurrent, U);
    if (dbias) {
        memset(dbias, 0, (size_t)U * sizeof(float));
        for (int64_t r = 0; r < rows; r++) fe_isa->add_row(dbias, dz + r * U, U);
    }
}

void fe_simple_rnn_backward(fe_sgemm_fn sgemm, int blas_serial, const fe_rnn_dims *d,
                            float *dx, float *dh0, float *dkernel, float *drecurrent,
                            float *dbias, float *dz, float *work, const float *dh_seq,
                            const float *dh_last, const float *x, const float *kernel,
                            const float *recurrent, const float *gates, const float *h_prev,
                            const float *rmask, const uint8_t *mask) {
    const int64_t B = d->batch, BU = B * d->units;
    float *dh_carry = work, *dh_rec = work + BU;
    if (dh_last) memcpy(dh_carry, dh_last, (size_t)BU * sizeof(float));
    else memset(dh_carry, 0, (size_t)BU * sizeof(float));
    const int64_t rows = fe_rnn_row_block(d), blocks = (B + rows - 1) / rows;
    const int n_threads = fe_rnn_team_size(d, blas_serial);
    #pragma omp parallel num_threads(n_threads) if (n_threads > 1)
    {
        const fe_fp_state fp = fe_flush_denormals();
        #pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < blocks; k++)
            backward_rows(sgemm, d, k * rows, fe_min64(B, (k + 1) * rows), dx, dh0, dz,
                          dh_carry, dh_rec, dh_seq, kernel, recurrent, gates, rmask, mask);
        #pragma omp for schedule(dynamic, 1)
        for (int part = 0; part < 2; part++)
            weight_grads(sgemm, d, part, dkernel, drecurrent, dbias, dz, x, h_prev);
        fe_restore_fp(fp);
    }
}
