/* The max pooling loop, compiled once per ISA (see isa.h). */
#include "isa.h"

typedef float vec __attribute__((vector_size(4 * FE_VEC_FLOATS), aligned(4)));
typedef int32_t ivec __attribute__((vector_size(4 * FE_VEC_FLOATS), aligned(4)));

void FE_ISA_FN(fe_max_steps)(float *restrict out, int32_t *restrict argmax,
                             const float *restrict x, int64_t lo, int64_t hi, int64_t n) {
    const int64_t V = FE_VEC_FLOATS;
    int64_t c = 0;
    for (; c + V <= n; c += V) {  /* the running maximum stays in registers */
        vec best = *(const vec *)(x + lo * n + c);
        ivec at = (ivec){0} + (int32_t)lo;
        for (int64_t s = lo + 1; s < hi; s++) {
            const vec v = *(const vec *)(x + s * n + c);
            const ivec take = (v > best) | ((v != v) & (best == best));  /* first NaN wins */
            best = (vec)(((ivec)v & take) | ((ivec)best & ~take));
            at = (at & ~take) | (take & (int32_t)s);
        }
        *(vec *)(out + c) = best;
        *(ivec *)(argmax + c) = at;
    }
    for (; c < n; c++) {
        float best = x[lo * n + c];
        int32_t at = (int32_t)lo;
        for (int64_t s = lo + 1; s < hi; s++) {
            const float v = x[s * n + c];
            if (v > best || (v != v && best == best)) {
                best = v;
                at = (int32_t)s;
            }
        }
        out[c] = best;
        argmax[c] = at;
    }
}
