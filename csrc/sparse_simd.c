/* Products of a sparse gradient with dense rows, and the transposes around
 * them (conv1d.c), compiled once per ISA (see isa.h). Each output element is
 * summed over j in order, whatever the blocking, so results do not depend on
 * n or on the ISA's vector width (beyond FMA contraction). */
#include "isa.h"
#if defined(FE_ISA_AVX512)
#include <immintrin.h>
#endif

/* FE_VEC_FLOATS floats, and 8 floats for the transposes; aligned(4) lets
 * them load from any float address. */
typedef float vec __attribute__((vector_size(4 * FE_VEC_FLOATS), aligned(4)));
typedef float vec8 __attribute__((vector_size(32), aligned(4)));
typedef int32_t ivec8 __attribute__((vector_size(32)));

void FE_ISA_FN(fe_weighted_row_sum)(float *restrict y, const float *restrict base, int64_t ld,
                                    const int32_t *restrict index,
                                    const float *restrict value, int64_t count, int64_t n) {
    const int64_t V = FE_VEC_FLOATS;
    int64_t c = 0;
    for (; c + 4 * V <= n; c += 4 * V) {  /* four vectors of accumulators in registers */
        vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        for (int64_t j = 0; j < count; j++) {
            const vec *row = (const vec *)(base + index[j] * ld + c);
            const float v = value[j];
            s0 += v * row[0];
            s1 += v * row[1];
            s2 += v * row[2];
            s3 += v * row[3];
        }
        vec *out = (vec *)(y + c);
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }
    for (; c + V <= n; c += V) {
        vec s = {0};
        for (int64_t j = 0; j < count; j++) s += value[j] * *(const vec *)(base + index[j] * ld + c);
        *(vec *)(y + c) = s;
    }
    for (; c < n; c++) {
        float s = 0.0f;
        for (int64_t j = 0; j < count; j++) s += value[j] * base[index[j] * ld + c];
        y[c] = s;
    }
}

void FE_ISA_FN(fe_compact_nonzeros)(int32_t *restrict index, float *restrict value,
                                    const float *restrict x, int64_t n, int64_t count) {
    int64_t at = 0, j = 0;
#if defined(FE_ISA_AVX512)
    /* 16 at a time: compressed in registers, stored under a mask of `found`
     * lanes (compressing straight to memory is slow on some CPUs). */
    __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (; j + 16 <= n && at < count; j += 16) {
        const __m512 v = _mm512_loadu_ps(x + j);
        const __mmask16 nonzero = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
        const int found = __builtin_popcount(nonzero);
        const __mmask16 head = (__mmask16)((1u << found) - 1);
        _mm512_mask_storeu_ps(value + at, head, _mm512_maskz_compress_ps(nonzero, v));
        _mm512_mask_storeu_epi32(index + at, head, _mm512_maskz_compress_epi32(nonzero, lanes));
        lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(16));
        at += found;
    }
#endif
    /* Branch-free: every entry is written, the list advances on non-zeros. */
    for (; at < count; j++) {
        index[at] = (int32_t)j;
        value[at] = x[j];
        at += x[j] != 0.0f;
    }
}

/* The 8 x 8 block at src (rows ld_src apart), transposed into dst. */
static inline void transpose8(float *restrict dst, int64_t ld_dst, const float *restrict src,
                              int64_t ld_src) {
    vec8 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = *(const vec8 *)(src + i * ld_src);
    /* Interleave pairs of rows, then pairs of pairs, then 128-bit halves. */
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shuffle(r[i], r[i + 1], (ivec8){0, 8, 1, 9, 4, 12, 5, 13});
        t[i + 1] = __builtin_shuffle(r[i], r[i + 1], (ivec8){2, 10, 3, 11, 6, 14, 7, 15});
    }
    for (int i = 0; i < 8; i += 4)
        for (int k = 0; k < 2; k++) {
            u[i + 2 * k] = __builtin_shuffle(t[i + k], t[i + k + 2], (ivec8){0, 1, 8, 9, 4, 5, 12, 13});
            u[i + 2 * k + 1] = __builtin_shuffle(t[i + k], t[i + k + 2], (ivec8){2, 3, 10, 11, 6, 7, 14, 15});
        }
    for (int i = 0; i < 4; i++) {
        *(vec8 *)(dst + i * ld_dst) = __builtin_shuffle(u[i], u[i + 4], (ivec8){0, 1, 2, 3, 8, 9, 10, 11});
        *(vec8 *)(dst + (i + 4) * ld_dst) = __builtin_shuffle(u[i], u[i + 4], (ivec8){4, 5, 6, 7, 12, 13, 14, 15});
    }
}

void FE_ISA_FN(fe_transpose)(float *restrict dst, int64_t ld_dst, const float *restrict src,
                             int64_t ld_src, int64_t rows, int64_t cols) {
    const int64_t rows8 = rows - rows % 8, cols8 = cols - cols % 8;
    for (int64_t r = 0; r < rows8; r += 8)
        for (int64_t c = 0; c < cols8; c += 8)
            transpose8(dst + c * ld_dst + r, ld_dst, src + r * ld_src + c, ld_src);
    for (int64_t r = 0; r < rows; r++)  /* the edges */
        for (int64_t c = r < rows8 ? cols8 : 0; c < cols; c++) dst[c * ld_dst + r] = src[r * ld_src + c];
}
