/* Row-major GEMM on top of a Fortran sgemm pointer (scipy.linalg.cython_blas),
 * handed down from the Cython layer; C code never links BLAS itself. */
#ifndef FE_BLAS_H
#define FE_BLAS_H

typedef void (*fe_sgemm_fn)(const char *transa, const char *transb, const int *m,
                            const int *n, const int *k, const float *alpha,
                            const float *a, const int *lda, const float *b,
                            const int *ldb, const float *beta, float *c,
                            const int *ldc);

/* C = alpha * op(A) @ op(B) + beta * C, all row-major.
 * op(A): (m, k), A stored (m, k) with row stride lda, or (k, m) if trans_a
 * op(B): (k, n), B stored (k, n) with row stride ldb, or (n, k) if trans_b
 * C:     (m, n) with row stride ldc */
static inline void fe_gemm(fe_sgemm_fn sgemm, int trans_a, int trans_b, int m,
                           int n, int k, float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c,
                           int ldc) {
    if (m == 0 || n == 0) return;
    /* Row-major C is column-major C^T = op(B)^T op(A)^T. */
    sgemm(trans_b ? "T" : "N", trans_a ? "T" : "N", &n, &m, &k, &alpha, b, &ldb,
          a, &lda, &beta, c, &ldc);
}

#endif
