/* The point transforms of Winograd's F(m, r), m + r = 7 (see winograd.h),
 * one tile of rows at a time, compiled once per ISA (see isa.h). Rows are n
 * floats; the six points of a tile lie ld floats apart. Points: 0, 1, -1,
 * 2, -2 and infinity. */
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

/* v[p] = scale[p] * (the polynomial with coefficient rows c[0..4] at point
 * p), infinity taking c[5], the polynomial's last coefficient row (zero rows
 * past its degree; scale NULL: 1). With the gradient rows of a tile as the
 * coefficients this is A g; with the kernel's taps, scaled, G w. */
void FE_ISA_FN(fe_winograd_points)(float *restrict v, int64_t ld, const float *const *c,
                                   const float *scale, int64_t n) {
    const float *restrict c0 = c[0], *restrict c1 = c[1], *restrict c2 = c[2];
    const float *restrict c3 = c[3], *restrict c4 = c[4], *restrict last = c[5];
    float s[6] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    for (int p = 0; scale && p < 6; p++) s[p] = scale[p];
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float e1 = c0[j] + c2[j] + c4[j], o1 = c1[j] + c3[j];
        const float e2 = c0[j] + 4.0f * c2[j] + 16.0f * c4[j], o2 = 2.0f * c1[j] + 8.0f * c3[j];
        v[j] = s[0] * c0[j];
        v[ld + j] = s[1] * (e1 + o1);
        v[2 * ld + j] = s[2] * (e1 - o1);
        v[3 * ld + j] = s[3] * (e2 + o2);
        v[4 * ld + j] = s[4] * (e2 - o2);
        v[5 * ld + j] = s[5] * last[j];
    }
}

/* y[i] = act((A^T m)[i] + b) for the tile's `outputs` rows (2 to 5; y has
 * five rows, those past `outputs` are scratch): six points to output rows
 * (b may be NULL: 0; relu or linear). */
void FE_ISA_FN(fe_winograd_output_tile)(float *const *y, const float *restrict m, int64_t ld,
                                        const float *restrict b, int64_t n, int relu,
                                        int outputs) {
    float *restrict y0 = y[0], *restrict y1 = y[1], *restrict y2 = y[2];
    float *restrict y3 = y[3], *restrict y4 = y[4];
    /* infinity's point adds to the last output row only */
    const float e1 = outputs == 2, e2 = outputs == 3, e3 = outputs == 4, e4 = outputs == 5;
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float s12 = m[ld + j] + m[2 * ld + j], d12 = m[ld + j] - m[2 * ld + j];
        const float s34 = m[3 * ld + j] + m[4 * ld + j], d34 = m[3 * ld + j] - m[4 * ld + j];
        const float inf = m[5 * ld + j], bias = b ? b[j] : 0.0f;
        const float r0 = m[j] + s12 + s34 + bias;
        const float r1 = d12 + 2.0f * d34 + e1 * inf + bias;
        const float r2 = s12 + 4.0f * s34 + e2 * inf + bias;
        const float r3 = d12 + 8.0f * d34 + e3 * inf + bias;
        const float r4 = s12 + 16.0f * s34 + e4 * inf + bias;
        y0[j] = relu & !(r0 > 0.0f) ? 0.0f : r0;  /* `&`: a select, no branch */
        y1[j] = relu & !(r1 > 0.0f) ? 0.0f : r1;
        y2[j] = relu & !(r2 > 0.0f) ? 0.0f : r2;
        y3[j] = relu & !(r3 > 0.0f) ? 0.0f : r3;
        y4[j] = relu & !(r4 > 0.0f) ? 0.0f : r4;
    }
}
