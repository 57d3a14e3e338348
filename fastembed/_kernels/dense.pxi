# Dense's element-wise ends around its GEMMs (dense.h); activations are
# RNN_ACTIVATIONS values.
cdef extern from "dense.h":
    void fe_dense_forward(float *y, const float *bias, int64_t n, int64_t k, int act) nogil
    void fe_dense_backward(float *dz, float *db, const float *dy, const float *y, int64_t n,
                           int64_t k, int act) nogil


_ACTIVATION_CODES = frozenset(RNN_ACTIVATIONS.values())


cdef int _dense_activation(activation) except -1:
    if type(activation) is not int or activation not in _ACTIVATION_CODES:
        raise ValueError(f"activation must be one of {RNN_ACTIVATIONS} by value, got "
                         f"{activation!r}")
    return activation


def dense_forward(y, bias, activation):
    """y = activation(y + bias) in place, y holding x @ kernel as rows over its
    last axis; bias (k,) or None."""
    cdef int act = _dense_activation(activation)
    cdef int64_t n, k
    _rows("y", y, &n, &k)
    cdef const float *b = _f32_ptr("bias", bias, (k,), True)
    cdef float *yp = <float *>cnp.PyArray_DATA(<cnp.ndarray>y)
    with nogil:
        fe_dense_forward(yp, b, n, k, act)
    return y


def dense_backward(dy, y, activation, dz, db):
    """dz = dy * activation'(y) (dz may be dy) and db (k,) = the sum of dz's
    rows in order (None: not computed); returns dz."""
    cdef int act = _dense_activation(activation)
    cdef int64_t n, k
    _rows("y", y, &n, &k)
    check_array("dy", dy, y.shape)
    check_array("dz", dz, y.shape)
    cdef float *dbp = _f32_ptr("db", db, (k,), True)
    cdef const float *yp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y)
    cdef const float *dyp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>dy)
    cdef float *dzp = <float *>cnp.PyArray_DATA(<cnp.ndarray>dz)
    with nogil:
        fe_dense_backward(dzp, dbp, dyp, yp, n, k, act)
    return dz
