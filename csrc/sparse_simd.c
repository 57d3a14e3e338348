/* Sums of gathered rows, compiled once per ISA (see isa.h): the products of
 * a sparse gradient with a dense matrix (conv1d.c). Each output column is
 * summed over j in order, whatever the blocking, so results do not depend on
 * n or on the ISA's vector width (beyond FMA contraction). */
#include "isa.h"

/* 8 floats; aligned(4) lets it load from any float address. */
typedef float vec8 __attribute__((vector_size(32), aligned(4)));

void FE_ISA_FN(fe_weighted_row_sum)(float *restrict y, const float *restrict base, int64_t ld,
                                    const int32_t *restrict index,
                                    const float *restrict value, int64_t count, int64_t n) {
    int64_t c = 0;
    for (; c + 32 <= n; c += 32) {  /* four vectors of accumulators in registers */
        vec8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        for (int64_t j = 0; j < count; j++) {
            const vec8 *row = (const vec8 *)(base + index[j] * ld + c);
            const float v = value[j];
            s0 += v * row[0];
            s1 += v * row[1];
            s2 += v * row[2];
            s3 += v * row[3];
        }
        vec8 *out = (vec8 *)(y + c);
        out[0] = s0;
        out[1] = s1;
        out[2] = s2;
        out[3] = s3;
    }
    for (; c + 8 <= n; c += 8) {
        vec8 s = {0};
        for (int64_t j = 0; j < count; j++) s += value[j] * *(const vec8 *)(base + index[j] * ld + c);
        *(vec8 *)(y + c) = s;
    }
    for (; c < n; c++) {
        float s = 0.0f;
        for (int64_t j = 0; j < count; j++) s += value[j] * base[index[j] * ld + c];
        y[c] = s;
    }
}
