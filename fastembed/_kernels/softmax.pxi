# Softmax rows and the sparse categorical cross-entropy (csrc/softmax.c), and
# the row-major GEMM of Dense, all in place into caller-given arrays.

cdef extern from "softmax.h":
    void fe_softmax_forward(float *y, const float *z, const float *bias, int64_t n,
                            int64_t k) nogil
    void fe_softmax_backward(float *dz, const float *y, const float *dy, int64_t n,
                             int64_t k) nogil
    void fe_sparse_categorical_crossentropy(float *values, float *grad, const int64_t *ids,
                                            const float *y_pred, const float *row_scale,
                                            int64_t n, int64_t k, int from_logits) nogil
    void fe_softmax_sparse_crossentropy_backward(float *values, float *dz, const int64_t *ids,
                                                 const float *y, const float *row_scale,
                                                 int64_t n, int64_t k) nogil


cdef int _rows(name, array, int64_t *n, int64_t *k) except -1:
    """n rows of k floats: a float32 array of rank >= 1 with a non-empty last axis."""
    if not is_float_carray(array):
        check_array(name, array, np.shape(array))  # raises, unless a subclass or unaligned
    cdef int ndim = cnp.PyArray_NDIM(<cnp.ndarray>array)
    if ndim < 1 or cnp.PyArray_DIMS(<cnp.ndarray>array)[ndim - 1] < 1:
        raise ValueError(f"{name} must have a non-empty last axis, got shape {array.shape}")
    k[0] = cnp.PyArray_DIMS(<cnp.ndarray>array)[ndim - 1]
    n[0] = cnp.PyArray_SIZE(<cnp.ndarray>array) // k[0]
    return 0


def softmax_forward(z, bias, out):
    """out = softmax(z + bias) over the last axis (bias (k,) or None; out may be z)."""
    cdef int64_t n, k
    _rows("z", z, &n, &k)
    check_array("out", out, z.shape)
    cdef const float *b = _f32_ptr("bias", bias, (k,), True)
    cdef const float *zp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>z)
    cdef float *yp = <float *>cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        fe_softmax_forward(yp, zp, b, n, k)
    return out


def softmax_backward(y, dy, out):
    """out = d loss / d z given y = softmax(z) and dy = d loss / d y (out may be dy)."""
    cdef int64_t n, k
    _rows("y", y, &n, &k)
    check_array("dy", dy, y.shape)
    check_array("out", out, y.shape)
    cdef const float *yp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y)
    cdef const float *dyp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>dy)
    cdef float *dzp = <float *>cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        fe_softmax_backward(dzp, yp, dyp, n, k)
    return out


cdef const int64_t *_class_ids(ids, tuple shape, int64_t k) except? NULL:
    """ids (int64, of the given shape) checked to lie in [0, k)."""
    check_array("ids", ids, shape, np.int64)
    cdef const int64_t *t = <const int64_t *>cnp.PyArray_DATA(<cnp.ndarray>ids)
    cdef int64_t bad, n = ids.size
    with nogil:
        bad = fe_embedding_find_invalid_i64(t, n, k)
    if bad >= 0:
        raise IndexError(f"ids[{_position(ids.shape, bad)}] = {ids.ravel()[bad]} is not in "
                         f"[0, {k})")
    return t


def sparse_categorical_crossentropy(ids, y_pred, bint from_logits, row_scale=None):
    """(values of shape y_pred.shape[:-1], and row_scale * their gradient
    with respect to y_pred, or None when row_scale is None), see softmax.h.
    ids: int64 class ids of shape y_pred.shape[:-1], each in [0, k)."""
    cdef int64_t n, k
    _rows("y_pred", y_pred, &n, &k)
    cdef const int64_t *t = _class_ids(ids, y_pred.shape[:-1], k)
    values = np.empty(y_pred.shape[:-1], np.float32)
    grad = None
    cdef float *g = NULL
    cdef const float *scale = _f32_ptr("row_scale", row_scale, y_pred.shape[:-1], True)
    if row_scale is not None:
        grad = np.empty(y_pred.shape, np.float32)
        g = <float *>cnp.PyArray_DATA(<cnp.ndarray>grad)
    cdef float *v = <float *>cnp.PyArray_DATA(<cnp.ndarray>values)
    cdef const float *p = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_pred)
    with nogil:
        fe_sparse_categorical_crossentropy(v, g, t, p, scale, n, k, from_logits)
    return values, grad


def softmax_sparse_crossentropy_backward(ids, y, row_scale, out):
    """The sparse categorical cross-entropy's values (shape y.shape[:-1]) of
    softmax outputs y, with out = row_scale * their gradient with respect
    to the logits (out may be y), see softmax.h."""
    cdef int64_t n, k
    _rows("y", y, &n, &k)
    cdef const int64_t *t = _class_ids(ids, y.shape[:-1], k)
    cdef const float *scale = _f32_ptr("row_scale", row_scale, y.shape[:-1], False)
    check_array("out", out, y.shape)
    values = np.empty(y.shape[:-1], np.float32)
    cdef float *v = <float *>cnp.PyArray_DATA(<cnp.ndarray>values)
    cdef const float *yp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y)
    cdef float *dz = <float *>cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        fe_softmax_sparse_crossentropy_backward(v, dz, t, yp, scale, n, k)
    return values


cdef inline bint _matrix(x):
    """A 2-D C-contiguous float32 ndarray: gemm's operands, checked per step."""
    return is_float_carray(x) and cnp.PyArray_NDIM(<cnp.ndarray>x) == 2


def gemm(out, a, b, bint trans_a=False, bint trans_b=False, bint accumulate=False):
    """out (m, n) = op(a) @ op(b) (+ out if accumulate), through scipy's sgemm;
    op(a) is a.T if trans_a, op(b) is b.T if trans_b; 2-D C-contiguous float32."""
    if not (_matrix(a) and _matrix(b) and _matrix(out)):  # else the error names the fault
        for name, array in (("a", a), ("b", b), ("out", out)):
            check_array(name, array, array.shape if isinstance(array, np.ndarray) else None)
            if array.ndim != 2:
                raise ValueError(f"{name} must be 2-D, got shape {array.shape}")
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    k_b, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if k_b != k or out.shape != (m, n):
        raise ValueError(f"gemm shapes do not match: op(a) {(m, k)}, op(b) {(k_b, n)}, "
                         f"out {out.shape}")
    if max(m, n, k) > 2**31 - 1:
        raise ValueError(f"gemm dimensions must fit in 32 bits, got {(m, n, k)}")
    cdef int mi = m, ni = n, ki = k, lda = a.shape[1], ldb = b.shape[1], ldc = n
    cdef float beta = 1.0 if accumulate else 0.0
    cdef const float *ap = <const float *>cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef const float *bp = <const float *>cnp.PyArray_DATA(<cnp.ndarray>b)
    cdef float *cp = <float *>cnp.PyArray_DATA(<cnp.ndarray>out)
    if ki == 0 and not accumulate:
        out.fill(0)
        return out
    cdef int one = 1, ldo = max(ni, 1)
    cdef float alpha = 1.0
    if ki == 1 and not accumulate:
        # An outer product (Dense(1)'s input gradient): sgemm packs and
        # scales for it several times the work of sger on zeros, which
        # gives the same bits (one rounded product per element). On this
        # thread alone: OpenBLAS would wake its pool for a few microseconds.
        _blas_serial_enter()
        with nogil:  # column-major out^T (n, m) = op(b) (n) x op(a) (m)
            memset(cp, 0, <size_t>mi * ni * sizeof(float))
            sger(&ni, &mi, &alpha, bp, &one, ap, &one, cp, &ldo)
        _blas_serial_exit()
        return out
    with nogil:
        fe_gemm(sgemm, trans_a, trans_b, mi, ni, ki, 1.0, ap, max(lda, 1), bp, max(ldb, 1),
                beta, cp, max(ldc, 1))
    return out
