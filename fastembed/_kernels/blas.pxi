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


ctypedef void (*sger_fn)(const int *m, const int *n, const float *alpha, const float *x,
                         const int *incx, const float *y, const int *incy, float *a,
                         const int *lda) noexcept nogil


cdef void *_blas_function(str name) except NULL:
    capsule = _cython_blas.__pyx_capi__[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


cdef fe_sgemm_fn sgemm = <fe_sgemm_fn>_blas_function("sgemm")
# The rank-1 update, for gemm's outer products (k == 1).
cdef sger_fn sger = <sger_fn>_blas_function("sger")


ctypedef int (*blas_threads_fn)(int n_threads) noexcept nogil


cdef blas_threads_fn _load_blas_threads():
    """openblas_set_num_threads_local of the OpenBLAS behind scipy's sgemm, or NULL.

    The LSTM and Conv1D kernels share their GEMMs out over OpenMP threads,
    each calling BLAS, which must then run on the calling thread alone."""
    import ctypes
    import glob
    import os
    import scipy
    root = os.path.dirname(os.path.dirname(os.path.abspath(scipy.__file__)))
    for path in sorted(glob.glob(os.path.join(root, "scipy.libs", "*openblas*"))
                       + glob.glob(os.path.join(root, "scipy", ".dylibs", "*openblas*"))):
        try:
            function = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        return <blas_threads_fn><size_t>ctypes.cast(function, ctypes.c_void_p).value
    return NULL


cdef blas_threads_fn blas_threads = _load_blas_threads()
# Calls in flight that hold BLAS to one thread, and the count to restore after
# the last one (OpenBLAS's pthreads build makes the setting process-wide).
# Both change only under the GIL.
cdef int blas_serial_users = 0
cdef int blas_saved_threads = 0


cdef int _blas_serial_enter():
    """Hold BLAS to one thread; returns whether it is (else BLAS threads itself)."""
    global blas_serial_users, blas_saved_threads
    if blas_threads == NULL:
        return 0
    if blas_serial_users == 0:
        blas_saved_threads = blas_threads(1)
    blas_serial_users += 1
    return 1


cdef void _blas_serial_exit():
    global blas_serial_users
    if blas_threads == NULL:
        return
    blas_serial_users -= 1
    if blas_serial_users == 0:
        blas_threads(blas_saved_threads)
