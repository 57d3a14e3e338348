/* The point transforms of Winograd's F(4, 3) (see winograd.h), one tile of
 * rows at a time, compiled once per ISA (see isa.h). Rows are n floats; the
 * six transformed points of a tile lie ld floats apart. */
#include "isa.h"

/* v[p] = (B^T d)[p]: six input rows to six points. */
void FE_ISA_FN(fe_winograd_input_tile)(float *restrict v, int64_t ld, const float *const *d,
                                       int64_t n) {
    const float *restrict d0 = d[0], *restrict d1 = d[1], *restrict d2 = d[2];
    const float *restrict d3 = d[3], *restrict d4 = d[4], *restrict d5 = d[5];
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float a1 = d1[j], a2 = d2[j], a3 = d3[j], a4 = d4[j];
        const float even = a4 - a2, odd = 2.0f * (a3 - a1);
        v[j] = 4.0f * d0[j] - 5.0f * a2 + a4;
        v[ld + j] = (a3 + a4) - 4.0f * (a1 + a2);
        v[2 * ld + j] = (a4 - a3) + 4.0f * (a1 - a2);
        v[3 * ld + j] = even + odd;
        v[4 * ld + j] = even - odd;
        v[5 * ld + j] = 4.0f * a1 - 5.0f * a3 + d5[j];
    }
}

/* v[p] = (A g)[p]: four output-gradient rows to six points. */
void FE_ISA_FN(fe_winograd_grad_tile)(float *restrict v, int64_t ld, const float *const *g,
                                      int64_t n) {
    const float *restrict g0 = g[0], *restrict g1 = g[1], *restrict g2 = g[2];
    const float *restrict g3 = g[3];
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float e1 = g0[j] + g2[j], o1 = g1[j] + g3[j];
        const float e2 = g0[j] + 4.0f * g2[j], o2 = 2.0f * g1[j] + 8.0f * g3[j];
        v[j] = g0[j];
        v[ld + j] = e1 + o1;
        v[2 * ld + j] = e1 - o1;
        v[3 * ld + j] = e2 + o2;
        v[4 * ld + j] = e2 - o2;
        v[5 * ld + j] = g3[j];
    }
}

/* y[i] = act((A^T m)[i] + b): six points to four output rows (b may be
 * NULL: 0; relu or linear). */
void FE_ISA_FN(fe_winograd_output_tile)(float *const *y, const float *restrict m, int64_t ld,
                                        const float *restrict b, int64_t n, int relu) {
    float *restrict y0 = y[0], *restrict y1 = y[1], *restrict y2 = y[2], *restrict y3 = y[3];
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float s12 = m[ld + j] + m[2 * ld + j], d12 = m[ld + j] - m[2 * ld + j];
        const float s34 = m[3 * ld + j] + m[4 * ld + j], d34 = m[3 * ld + j] - m[4 * ld + j];
        const float bias = b ? b[j] : 0.0f;
        const float r0 = m[j] + s12 + s34 + bias, r1 = d12 + 2.0f * d34 + bias;
        const float r2 = s12 + 4.0f * s34 + bias, r3 = d12 + 8.0f * d34 + m[5 * ld + j] + bias;
        y0[j] = relu & !(r0 > 0.0f) ? 0.0f : r0;  /* `&`: a select, no branch */
        y1[j] = relu & !(r1 > 0.0f) ? 0.0f : r1;
        y2[j] = relu & !(r2 > 0.0f) ? 0.0f : r2;
        y3[j] = relu & !(r3 > 0.0f) ? 0.0f : r3;
    }
}
