/* CPU-feature dispatch: every hot loop that benefits from wider vectors is
 * built once per ISA (files named *_simd.c: baseline, AVX2/FMA, AVX-512) and
 * called through fe_isa. */
#ifndef FE_ISA_H
#define FE_ISA_H

#include <stdint.h>
#include "optim.h"
#include "lstm.h"
#include "gru.h"
#include "simple_rnn.h"

/* Below this many floats per call an OpenMP team costs more than it saves
 * (and on a busy machine, waiting for a descheduled thread costs milliseconds). */
#define FE_PARALLEL_MIN_WORK (1 << 18)

#define FE_PRAGMA(text) _Pragma(#text)

/* for (int64_t i = 0; i < n; i++) { body }: on the thread team (OpenMP
 * schedule `kind`) if `on_team`, else as a plain loop. A false if clause
 * would still open a region, which costs about 0.5 us, more than a small
 * batch's whole kernel. */
#define FE_PARALLEL_FOR(i, n, on_team, kind, ...)                \
    do {                                                         \
        if (on_team) {                                           \
            FE_PRAGMA(omp parallel for schedule(kind))           \
            for (int64_t i = 0; i < (n); i++) { __VA_ARGS__; }   \
        } else {                                                 \
            for (int64_t i = 0; i < (n); i++) { __VA_ARGS__; }   \
        }                                                        \
    } while (0)

/* The same for a loop over rows, on the team when `work` floats reach
 * FE_PARALLEL_MIN_WORK. */
#define FE_FOR_ROWS(i, n, work, ...) \
    FE_PARALLEL_FOR(i, n, (work) >= FE_PARALLEL_MIN_WORK, static, __VA_ARGS__)

#if defined(FE_ISA_AVX512)
#define FE_ISA_FN(name) name##_avx512
#define FE_VEC_FLOATS 16
#elif defined(FE_ISA_AVX2)
#define FE_ISA_FN(name) name##_avx2
#define FE_VEC_FLOATS 8
#else
#define FE_ISA_FN(name) name##_baseline
#define FE_VEC_FLOATS 8
#endif

#define FE_MAX_ROW_BLOCK 64

typedef struct {
    const char *name;
    /* Floats weighted_row_sum takes per pass over its rows (four vectors),
     * at most FE_MAX_ROW_BLOCK. */
    int64_t row_block;
    /* y[n] += x[n] */
    void (*add_row)(float *y, const float *x, int64_t n);
    /* c (m, n) = a (m, k) b (k, n), row-major with row strides ldc, lda,
     * ldb, for a few rows m (small_gemm_simd.c; see fe_matmul) */
    void (*small_gemm)(float *c, int64_t ldc, const float *a, int64_t lda, const float *b,
                       int64_t ldb, int64_t m, int64_t n, int64_t k);
    /* y[n] = sum over j < count, in order, of value[j] * base[index[j] * ld : +n] */
    void (*weighted_row_sum)(float *y, const float *base, int64_t ld, const int32_t *index,
                             const float *value, int64_t count, int64_t n);
    /* The count non-zeros of x[n], in order: x[index[j]] = value[j], j < count */
    void (*compact_nonzeros)(int32_t *index, float *value, const float *x, int64_t n,
                             int64_t count);
    /* out[c] = the maximum of x[s, c] over steps lo <= s < hi, argmax[c] the
     * first step that has it (a NaN counts as the maximum); x: (hi, n) */
    void (*max_steps)(float *out, int32_t *argmax, const float *x, int64_t lo, int64_t hi,
                      int64_t n);
    /* y[n] = act(z[n] + b[n]) (b may be NULL: 0; relu or linear; y may be z) */
    void (*bias_activation_row)(float *y, const float *z, const float *b, int64_t n, int relu);
    /* For rows r of n, ld apart: dz[r] = dy[r] * act'(y[r]); sum[n] += dz[r];
     * col_count[n] += dz[r] != 0; row_count[r] = the non-zeros of dz[r] */
    void (*activation_grad_rows)(float *dz, float *sum, int32_t *col_count, int32_t *row_count,
                                 const float *dy, const float *y, int64_t ld, int64_t rows,
                                 int64_t n, int relu);
    /* dst[c * ld_dst + r] = src[r * ld_src + c] for r < rows, c < cols */
    void (*transpose)(float *dst, int64_t ld_dst, const float *src, int64_t ld_src,
                      int64_t rows, int64_t cols);
    /* Winograd F(m, 7 - m) point transforms, see winograd_simd.c: six input
     * rows d[6] of a tile, or the coefficient rows c[6] of a polynomial (a
     * tile's gradient rows, the kernel's taps), to six points v (ld apart);
     * six points m (ld apart) to `outputs` output rows y[5]. */
    void (*winograd_input_tile)(float *v, int64_t ld, const float *const *d, int64_t n);
    void (*winograd_points)(float *v, int64_t ld, const float *const *c, const float *scale,
                            int64_t n);
    void (*winograd_output_tile)(float *const *y, const float *m, int64_t ld, const float *b,
                                 int64_t n, int relu, int outputs);
    /* One optimizer step on a row of n parameters: w[n], slots[k][n], g[n]. */
    void (*update_row)(const fe_optimizer *opt, float *w, float *const *slots,
                       const float *g, int64_t n);
    /* The steps steps[0 .. n_steps) in order on w[n] and its slots with a
     * zero gradient, zeros[n]: the same floats as as many update_row calls. */
    void (*replay_row)(const fe_optimizer *steps, int64_t n_steps, float *w,
                       float *const *slots, const float *zeros, int64_t n);
    /* LSTM fused step kernels, see lstm.h */
    void (*lstm_step_forward)(const fe_lstm_dims *d, float *gates, const float *z_rec,
                              const float *bias, const float *c_prev,
                              const float *h_prev_raw, int64_t prev_ld, float *c_seq,
                              float *act_c, float *h_seq, float *h_next,
                              const float *rmask, const uint8_t *mask);
    void (*lstm_step_backward)(const fe_lstm_dims *d, float *dz, float *dh_carry,
                               float *dc_carry, const float *dh_rec,
                               const float *dh_seq_row, const float *gates,
                               const float *c_prev, int64_t prev_ld, const float *act_c,
                               const float *rmask, const uint8_t *mask);
    /* GRU fused step kernels, see gru.h */
    void (*gru_gates_forward)(const fe_rnn_dims *d, float *gates, const float *z_rec,
                              const float *bias, const float *h_prev, float *aux);
    void (*gru_state_forward)(const fe_rnn_dims *d, float *gates, const float *z_rec,
                              const float *aux, const float *h_prev_raw, int64_t prev_ld,
                              float *h_seq, float *h_next, const float *rmask,
                              const uint8_t *mask);
    void (*gru_step_backward)(const fe_rnn_dims *d, float *dz, float *dh_in, float *dh_carry,
                              const float *dh_rec, const float *dh_seq_row,
                              const float *gates, const float *aux, const float *h_prev_raw,
                              int64_t prev_ld, const float *rmask, const uint8_t *mask);
    void (*gru_reset_backward)(const fe_rnn_dims *d, float *dz, float *dh_rec,
                               const float *d_rh, const float *gates, const float *h_prev,
                               const uint8_t *mask);
    /* Dense's rows of k values, see dense.h: y = act(y + bias) (bias may be
     * NULL); dz = dy * act'(y) (dz may be dy) */
    void (*dense_activation_row)(float *y, const float *bias, int64_t k, int act);
    void (*dense_grad_row)(float *dz, const float *dy, const float *y, int64_t k, int act);
    /* Softmax and sparse categorical cross-entropy rows of k values, see softmax.h */
    void (*softmax_row)(float *y, const float *z, const float *bias, int64_t k);
    void (*softmax_grad_row)(float *dz, const float *y, const float *dy, int64_t k);
    float (*sparse_crossentropy_row)(float *grad, int64_t t, const float *p, float scale,
                                     int64_t k, int from_logits);
    /* The same loss on softmax outputs y, its gradient taken through the softmax */
    float (*softmax_crossentropy_grad_row)(float *dz, int64_t t, const float *y, float scale,
                                           int64_t k);
    /* SimpleRNN fused step kernels, see simple_rnn.h */
    void (*simple_rnn_step_forward)(const fe_rnn_dims *d, float *gates, const float *z_rec,
                                    const float *bias, const float *h_prev_raw,
                                    int64_t prev_ld, float *h_seq, float *h_next,
                                    const float *rmask, const uint8_t *mask);
    void (*simple_rnn_step_backward)(const fe_rnn_dims *d, float *dz, float *dh_carry,
                                     const float *dh_rec, const float *dh_seq_row,
                                     const float *gates, const float *rmask,
                                     const uint8_t *mask);
} fe_isa_table;

extern const fe_isa_table *fe_isa;

/* Select "avx512", "avx2" or "baseline"; NULL or "" selects the best the CPU supports.
 * Returns 0 on success, -1 for an unknown name, -2 if the CPU lacks it. */
int fe_isa_select(const char *name);

#define FE_ISA_DECLARE(suffix)                                                 \
    void fe_add_row_##suffix(float *y, const float *x, int64_t n);             \
    void fe_small_gemm_##suffix(float *c, int64_t ldc, const float *a,         \
                                int64_t lda, const float *b, int64_t ldb,      \
                                int64_t m, int64_t n, int64_t k);              \
    void fe_weighted_row_sum_##suffix(float *y, const float *base, int64_t ld, \
                                      const int32_t *index, const float *value, \
                                      int64_t count, int64_t n);               \
    void fe_compact_nonzeros_##suffix(int32_t *index, float *value,            \
                                      const float *x, int64_t n, int64_t count); \
    void fe_max_steps_##suffix(float *out, int32_t *argmax, const float *x,    \
                               int64_t lo, int64_t hi, int64_t n);             \
    void fe_bias_activation_row_##suffix(float *y, const float *z,             \
                                         const float *b, int64_t n, int relu); \
    void fe_activation_grad_rows_##suffix(float *dz, float *sum,               \
                                          int32_t *col_count, int32_t *row_count, \
                                          const float *dy, const float *y,     \
                                          int64_t ld, int64_t rows, int64_t n, \
                                          int relu);                           \
    void fe_transpose_##suffix(float *dst, int64_t ld_dst, const float *src,   \
                               int64_t ld_src, int64_t rows, int64_t cols);    \
    void fe_winograd_input_tile_##suffix(float *v, int64_t ld,                 \
                                         const float *const *d, int64_t n);    \
    void fe_winograd_points_##suffix(float *v, int64_t ld, const float *const *c, \
                                     const float *scale, int64_t n);           \
    void fe_winograd_output_tile_##suffix(float *const *y, const float *m,     \
                                          int64_t ld, const float *b,          \
                                          int64_t n, int relu, int outputs);   \
    void fe_update_row_##suffix(const fe_optimizer *opt, float *w,             \
                                float *const *slots, const float *g, int64_t n); \
    void fe_replay_row_##suffix(const fe_optimizer *steps, int64_t n_steps, float *w, \
                                float *const *slots, const float *zeros, int64_t n); \
    void fe_dense_activation_row_##suffix(float *y, const float *bias, int64_t k, \
                                          int act);                            \
    void fe_dense_grad_row_##suffix(float *dz, const float *dy, const float *y, \
                                    int64_t k, int act);                       \
    void fe_softmax_row_##suffix(float *y, const float *z, const float *bias,  \
                                 int64_t k);                                   \
    void fe_softmax_grad_row_##suffix(float *dz, const float *y,               \
                                      const float *dy, int64_t k);             \
    float fe_sparse_crossentropy_row_##suffix(float *grad, int64_t t,          \
                                              const float *p, float scale,     \
                                              int64_t k, int from_logits);     \
    float fe_softmax_crossentropy_grad_row_##suffix(float *dz, int64_t t,      \
                                                    const float *y,            \
                                                    float scale, int64_t k);
FE_ISA_DECLARE(baseline)
FE_ISA_DECLARE(avx2)
FE_ISA_DECLARE(avx512)

/* c (m, n) = a (m, k) b (k, n), row-major with row strides lda, ldb, ldc:
 * through fe_isa->small_gemm when `small` (a block of at most
 * FE_RNN_SMALL_BATCH batch rows), else sgemm. */
static inline void fe_matmul(fe_sgemm_fn sgemm, int small, int m, int n, int k, const float *a,
                             int lda, const float *b, int ldb, float *c, int ldc) {
    if (small)
        fe_isa->small_gemm(c, ldc, a, lda, b, ldb, m, n, k);
    else
        fe_gemm(sgemm, 0, 0, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

#endif
