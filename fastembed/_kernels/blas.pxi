# The sgemm of scipy's BLAS, taken from scipy.linalg.cython_blas at import so
# that building needs no scipy; C kernels receive it as an fe_sgemm_fn.
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from scipy.linalg import cython_blas as _cython_blas

cdef extern from "blas.h":
    ctypedef void (*fe_sgemm_fn)(const char *transa, const char *transb, const int *m,
                                 const int *n, const int *k, const float *alpha,
                                 const float *a, const int *lda, const float *b,
                                 const int *ldb, const float *beta, float *c,
                                 const int *ldc) noexcept nogil
    void fe_gemm(fe_sgemm_fn sgemm, int trans_a, int trans_b, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc) nogil


cdef fe_sgemm_fn _load_sgemm() except NULL:
    capsule = _cython_blas.__pyx_capi__["sgemm"]
    return <fe_sgemm_fn>PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


cdef fe_sgemm_fn sgemm = _load_sgemm()
