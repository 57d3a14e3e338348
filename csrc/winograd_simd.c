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

/* v[p] = (A g)[p]: up to five output-gradient rows g[0..4] (zero rows past
 * the tile's m) and g[5] = g[m - 1], the row infinity takes, to six points. */
void FE_ISA_FN(fe_winograd_grad_tile)(float *restrict v, int64_t ld, const float *const *g,
                                      int64_t n) {
    const float *restrict g0 = g[0], *restrict g1 = g[1], *restrict g2 = g[2];
    const float *restrict g3 = g[3], *restrict g4 = g[4], *restrict last = g[5];
    #pragma omp simd
    for (int64_t j = 0; j < n; j++) {
        const float e1 = g0[j] + g2[j] + g4[j], o1 = g1[j] + g3[j];
        const float e2 = g0[j] + 4.0f * g2[j] + 16.0f * g4[j], o2 = 2.0f * g1[j] + 8.0f * g3[j];
        v[j] = g0[j];
        v[ld + j] = e1 + o1;
        v[2 * ld + j] = e1 - o1;
        v[3 * ld + j] = e2 + o2;
        v[4 * ld + j] = e2 - o2;
        v[5 * ld + j] = last[j];
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

/* The kernel's points: u[p] = sum over k < taps of G[p, k] * w[flip ? taps
 * - 1 - k : k]; G[p, k] = point_p^k / prod over other finite points q of
 * (point_p - point_q), and infinity's row takes the last tap alone.
 * u: (6, size); w: (taps, size) */
void FE_ISA_FN(fe_winograd_filter)(float *restrict u, const float *restrict w, int64_t size,
                                   int taps, int flip) {
    const float *restrict w0 = w + (flip ? taps - 1 : 0) * size;
    const float *restrict w1 = w + (flip ? taps - 2 : 1) * size;
    const float *restrict w2 = taps > 2 ? w + (flip ? taps - 3 : 2) * size : w0;
    const float *restrict w3 = taps > 3 ? w + (flip ? taps - 4 : 3) * size : w0;
    const float *restrict w4 = taps > 4 ? w + (flip ? 0 : 4) * size : w0;
    const float *restrict last = w + (flip ? 0 : taps - 1) * size;
    /* taps past the kernel's are weighted 0 */
    const float c2 = taps > 2, c3 = taps > 3, c4 = taps > 4;
    #pragma omp simd
    for (int64_t i = 0; i < size; i++) {
        const float even = w0[i] + c2 * w2[i] + c4 * w4[i], odd = w1[i] + c3 * w3[i];
        const float even2 = w0[i] + 4.0f * c2 * w2[i] + 16.0f * c4 * w4[i];
        const float odd2 = 2.0f * w1[i] + 8.0f * c3 * w3[i];
        u[i] = 0.25f * w0[i];
        u[size + i] = (even + odd) * (-1.0f / 6);
        u[2 * size + i] = (even - odd) * (-1.0f / 6);
        u[3 * size + i] = (even2 + odd2) * (1.0f / 24);
        u[4 * size + i] = (even2 - odd2) * (1.0f / 24);
        u[5 * size + i] = last[i];
    }
}
