/* The product of a few rows with a weight matrix, compiled once per ISA
 * (isa.h): a recurrent layer's small batch times its kernels, without the
 * packing of the weights that sgemm does on every call (for one sample of
 * the seed LSTM, 69% of the layer's time). Each element of C is summed over
 * k in order (FMA-contracted), whatever the blocking. */
#include "isa.h"

/* FE_VEC_FLOATS floats; aligned(4) lets them load from any float address. */
typedef float vec __attribute__((vector_size(4 * FE_VEC_FLOATS), aligned(4)));

/* Vectors of accumulators a tile keeps in registers (of 32 with AVX-512, 16 otherwise). */
#if defined(FE_ISA_AVX512)
#define ACCUMULATORS 16
#else
#define ACCUMULATORS 8
#endif

/* The R x W vectors of C at rows a .. a + R (lda apart) and columns b ..
 * b + W * FE_VEC_FLOATS, accumulated in registers over the k rows of b (ldb
 * apart), each row of b loaded once for the R rows. Inlined with constant
 * R and W, the accumulators stay in registers. */
static inline __attribute__((always_inline)) void tile(float *c, int64_t ldc, const float *a,
                                                        int64_t lda, const float *b,
                                                        int64_t ldb, int64_t k, const int R,
                                                        const int W) {
    vec s[4][ACCUMULATORS], row[ACCUMULATORS];
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) s[r][w] = (vec){0};
    for (int64_t j = 0; j < k; j++) {
        for (int w = 0; w < W; w++) row[w] = ((const vec *)(b + j * ldb))[w];
        for (int r = 0; r < R; r++) {
            const float v = a[r * lda + j];
            for (int w = 0; w < W; w++) s[r][w] += v * row[w];
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) *(vec *)(c + r * ldc + w * FE_VEC_FLOATS) = s[r][w];
}

/* Tiles of R rows and W vectors from column *col while they fit. */
static inline __attribute__((always_inline)) void tiles(float *c, int64_t ldc, const float *a,
                                                         int64_t lda, const float *b,
                                                         int64_t ldb, int64_t n, int64_t k,
                                                         int64_t *col, const int R,
                                                         const int W) {
    const int64_t width = (int64_t)W * FE_VEC_FLOATS;
    for (; W > 0 && *col + width <= n; *col += width)
        tile(c + *col, ldc, a, lda, b + *col, ldb, k, R, W);
}

/* Rows a .. a + R of C (R constant: 1, 2 or 4): tiles of every accumulator,
 * then of half, a quarter, an eighth of them (the columns left keep
 * several independent sums going), then single columns. */
static inline __attribute__((always_inline)) void rows(float *c, int64_t ldc, const float *a,
                                                        int64_t lda, const float *b,
                                                        int64_t ldb, int64_t n, int64_t k,
                                                        const int R) {
    const int W = ACCUMULATORS / R;
    int64_t col = 0;
    tiles(c, ldc, a, lda, b, ldb, n, k, &col, R, W);
    tiles(c, ldc, a, lda, b, ldb, n, k, &col, R, W / 2);
    tiles(c, ldc, a, lda, b, ldb, n, k, &col, R, W / 4);
    tiles(c, ldc, a, lda, b, ldb, n, k, &col, R, W / 8);
    tiles(c, ldc, a, lda, b, ldb, n, k, &col, R, W / 16);
    for (; col < n; col++)
        for (int r = 0; r < R; r++) {
            float s = 0.0f;
            for (int64_t j = 0; j < k; j++) s += a[r * lda + j] * b[j * ldb + col];
            c[r * ldc + col] = s;
        }
}

void FE_ISA_FN(fe_small_gemm)(float *c, int64_t ldc, const float *a, int64_t lda,
                              const float *b, int64_t ldb, int64_t m, int64_t n, int64_t k) {
    int64_t r = 0;
    for (; r + 4 <= m; r += 4) rows(c + r * ldc, ldc, a + r * lda, lda, b, ldb, n, k, 4);
    if (r + 2 <= m) {
        rows(c + r * ldc, ldc, a + r * lda, lda, b, ldb, n, k, 2);
        r += 2;
    }
    if (r < m) rows(c + r * ldc, ldc, a + r * lda, lda, b, ldb, n, k, 1);
}
