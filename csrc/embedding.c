#include <string.h>
#include "embedding.h"
#include "isa.h"

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

int64_t fe_embedding_backward_work_size(int64_t n) {
    return 5 * n + 1 + RADIX_SIZE;
}

/* Stable LSD radix sort of positions 0..n-1 by key; keys in [0, vocab).
 * keys, perm: (n) in; on return *sorted_keys / *sorted_perm point at the
 * sorted pair, in (keys, perm) or (tmp_keys, tmp_perm).
 * hist: (RADIX_SIZE) scratch */
static void radix_sort_positions(int64_t *keys, int64_t *perm, int64_t *tmp_keys,
                                 int64_t *tmp_perm, int64_t *hist, int64_t n,
                                 int64_t vocab, int64_t **sorted_keys,
                                 int64_t **sorted_perm) {
    int bits = 0;
    while (bits < 63 && ((int64_t)1 << bits) < vocab) bits++;
    for (int shift = 0; shift < bits; shift += RADIX_BITS) {
        memset(hist, 0, RADIX_SIZE * sizeof(int64_t));
        for (int64_t p = 0; p < n; p++) hist[(keys[p] >> shift) & (RADIX_SIZE - 1)]++;
        int64_t total = 0;
        for (int64_t b = 0; b < RADIX_SIZE; b++) {
            const int64_t count = hist[b];
            hist[b] = total;
            total += count;
        }
        for (int64_t p = 0; p < n; p++) {
            const int64_t dst = hist[(keys[p] >> shift) & (RADIX_SIZE - 1)]++;
            tmp_keys[dst] = keys[p];
            tmp_perm[dst] = perm[p];
        }
        int64_t *swap = keys; keys = tmp_keys; tmp_keys = swap;
        swap = perm; perm = tmp_perm; tmp_perm = swap;
    }
    *sorted_keys = keys;
    *sorted_perm = perm;
}

/* Sum the rows of d_out listed by perm[starts[u]:starts[u+1]] into row_grads[u].
 * row_grads: (n_unique, dim); d_out: (n, dim); perm: (n); starts: (n_unique+1) */
static void segmented_row_sum(float *row_grads, const float *d_out,
                              const int64_t *perm, const int64_t *starts,
                              int64_t n_unique, int64_t dim) {
    #pragma omp parallel for schedule(static) if (starts[n_unique] * dim >= FE_PARALLEL_MIN_WORK)
    for (int64_t u = 0; u < n_unique; u++) {
        float *dst = row_grads + u * dim;
        memcpy(dst, d_out + perm[starts[u]] * dim, (size_t)dim * sizeof(float));
        for (int64_t s = starts[u] + 1; s < starts[u + 1]; s++)
            fe_isa->add_row(dst, d_out + perm[s] * dim, dim);
    }
}

#define FE_EMBEDDING_DEFINE(suffix, index_t)                                   \
    int64_t fe_embedding_find_invalid_##suffix(const index_t *idx, int64_t n,  \
                                               int64_t vocab) {                \
        for (int64_t p = 0; p < n; p++)                                        \
            if (idx[p] < 0 || (int64_t)idx[p] >= vocab) return p;              \
        return -1;                                                             \
    }                                                                          \
                                                                               \
    void fe_embedding_forward_##suffix(float *out, const float *table,         \
                                       const index_t *idx, int64_t n,          \
                                       int64_t dim) {                          \
        _Pragma("omp parallel for schedule(static) if (n * dim >= FE_PARALLEL_MIN_WORK)") \
        for (int64_t p = 0; p < n; p++)                                        \
            memcpy(out + p * dim, table + (int64_t)idx[p] * dim,               \
                   (size_t)dim * sizeof(float));                               \
    }                                                                          \
                                                                               \
    int64_t fe_embedding_backward_##suffix(                                    \
        int64_t *unique_rows, float *row_grads, const float *d_out,            \
        const index_t *idx, int64_t n, int64_t dim, int64_t vocab,             \
        int64_t *work) {                                                       \
        if (n == 0) return 0;                                                  \
        int64_t *keys = work, *perm = work + n, *tmp_keys = work + 2 * n;      \
        int64_t *tmp_perm = work + 3 * n, *starts = work + 4 * n;              \
        int64_t *hist = work + 5 * n + 1;                                      \
        for (int64_t p = 0; p < n; p++) {                                      \
            keys[p] = (int64_t)idx[p];                                         \
            perm[p] = p;                                                       \
        }                                                                      \
        int64_t *sorted_keys, *sorted_perm;                                    \
        radix_sort_positions(keys, perm, tmp_keys, tmp_perm, hist, n, vocab,   \
                             &sorted_keys, &sorted_perm);                      \
        int64_t n_unique = 0;                                                  \
        for (int64_t s = 0; s < n; s++) {                                      \
            if (s == 0 || sorted_keys[s] != sorted_keys[s - 1]) {              \
                unique_rows[n_unique] = sorted_keys[s];                        \
                starts[n_unique++] = s;                                        \
            }                                                                  \
        }                                                                      \
        starts[n_unique] = n;                                                  \
        segmented_row_sum(row_grads, d_out, sorted_perm, starts, n_unique,     \
                          dim);                                                \
        return n_unique;                                                       \
    }

FE_EMBEDDING_DEFINE(i32, int32_t)
FE_EMBEDDING_DEFINE(i64, int64_t)
