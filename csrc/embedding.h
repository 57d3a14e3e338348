/* Embedding lookup (gather) and its gradient (sort + segmented reduce).
 * Index arrays come as int32 (_i32) or int64 (_i64); n counts all lookups,
 * whatever the leading shape of the index array. */
#ifndef FE_EMBEDDING_H
#define FE_EMBEDDING_H

#include <stdint.h>

#define FE_EMBEDDING_DECLARE(suffix, index_t)                                  \
    /* Position of the first index outside [0, vocab), or -1 if all valid.     \
     * idx: (n) */                                                             \
    int64_t fe_embedding_find_invalid_##suffix(const index_t *idx, int64_t n,  \
                                               int64_t vocab);                 \
    /* out[p, :] = table[idx[p], :].                                           \
     * out:   (n, dim)                                                         \
     * table: (vocab, dim)                                                     \
     * idx:   (n), all in [0, vocab) */                                        \
    void fe_embedding_forward_##suffix(float *out, const float *table,         \
                                       const index_t *idx, int64_t n,          \
                                       int64_t dim);                           \
    /* Gradient of the lookup as (unique_rows, row_grads); never dense.        \
     * unique_rows: (n) out, distinct ids of idx in increasing order           \
     * row_grads:   (n, dim) out, row_grads[u] = sum of d_out[p] over the      \
     *              p with idx[p] == unique_rows[u], added in increasing p     \
     *              (bitwise the same for any thread count)                    \
     * d_out:       (n, dim)                                                   \
     * idx:         (n), all in [0, vocab)                                     \
     * work:        (fe_embedding_backward_work_size(n)) scratch               \
     * Returns the number of unique rows, the valid prefix of both outputs. */ \
    int64_t fe_embedding_backward_##suffix(                                    \
        int64_t *unique_rows, float *row_grads, const float *d_out,            \
        const index_t *idx, int64_t n, int64_t dim, int64_t vocab,             \
        int64_t *work);

FE_EMBEDDING_DECLARE(i32, int32_t)
FE_EMBEDDING_DECLARE(i64, int64_t)

/* Scratch length (in int64) that fe_embedding_backward_* needs for n lookups. */
int64_t fe_embedding_backward_work_size(int64_t n);

#endif
