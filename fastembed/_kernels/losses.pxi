# Losses computed in one pass over csrc/losses.c.

cdef extern from "losses.h":
    void fe_binary_crossentropy_forward(float *values, const float *y_true,
                                        const float *y_pred, int64_t n, int64_t k,
                                        int from_logits, float label_smoothing) nogil
    void fe_binary_crossentropy_backward(float *grad, const float *y_true,
                                         const float *y_pred, int64_t n, int64_t k,
                                         int from_logits, float label_smoothing,
                                         float scale) nogil
    double fe_binary_crossentropy_weighted_sum(float *grad, const float *y_true,
                                               const float *y_pred, int64_t n, int64_t k,
                                               int from_logits, float label_smoothing,
                                               float weight) nogil
    int64_t fe_binary_accuracy_hits(const float *y_true, const float *y_pred, int64_t n,
                                    float threshold) nogil


cdef int64_t _loss_rows(y_true, y_pred) except -1:
    for name, array in (("y_true", y_true), ("y_pred", y_pred)):
        if not is_float_carray(array):
            raise TypeError(f"{name} must be a C-contiguous float32 array, got "
                            f"{getattr(array, 'dtype', type(array).__name__)}")
    if y_true.shape != y_pred.shape or y_pred.ndim < 1 or y_pred.shape[-1] < 1:
        raise ValueError(f"y_true and y_pred must have one shape with a non-empty last axis, "
                         f"got {y_true.shape} and {y_pred.shape}")
    return y_pred.size // y_pred.shape[-1]


def binary_crossentropy_forward(y_true, y_pred, bint from_logits, float label_smoothing):
    """Values (y_pred.shape[:-1]) of the binary cross-entropy, see losses.h."""
    cdef int64_t n = _loss_rows(y_true, y_pred), k = y_pred.shape[-1]
    values = np.empty(y_pred.shape[:-1], np.float32)
    cdef float *v = <float *>cnp.PyArray_DATA(<cnp.ndarray>values)
    cdef const float *t = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_true)
    cdef const float *p = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_pred)
    with nogil:
        fe_binary_crossentropy_forward(v, t, p, n, k, from_logits, label_smoothing)
    return values


def binary_crossentropy_backward(y_true, y_pred, bint from_logits, float label_smoothing,
                                 float scale):
    """scale * d(values) / d(y_pred), shaped like y_pred, see losses.h."""
    cdef int64_t n = _loss_rows(y_true, y_pred), k = y_pred.shape[-1]
    grad = np.empty(y_pred.shape, np.float32)
    cdef float *g = <float *>cnp.PyArray_DATA(<cnp.ndarray>grad)
    cdef const float *t = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_true)
    cdef const float *p = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_pred)
    with nogil:
        fe_binary_crossentropy_backward(g, t, p, n, k, from_logits, label_smoothing, scale)
    return grad


def binary_crossentropy_weighted_sum(y_true, y_pred, bint from_logits, float label_smoothing,
                                     float weight):
    """(weight * the sum of the values, weight * d(that sum) / d(y_pred)) in
    one pass, see losses.h."""
    cdef int64_t n = _loss_rows(y_true, y_pred), k = y_pred.shape[-1]
    grad = np.empty(y_pred.shape, np.float32)
    cdef float *g = <float *>cnp.PyArray_DATA(<cnp.ndarray>grad)
    cdef const float *t = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_true)
    cdef const float *p = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_pred)
    cdef double total
    with nogil:
        total = fe_binary_crossentropy_weighted_sum(g, t, p, n, k, from_logits,
                                                    label_smoothing, weight)
    return total, grad


def binary_accuracy_hits(y_true, y_pred, float threshold):
    """How many elements of y_pred, thresholded, equal y_true's, see losses.h."""
    _loss_rows(y_true, y_pred)
    cdef const float *t = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_true)
    cdef const float *p = <const float *>cnp.PyArray_DATA(<cnp.ndarray>y_pred)
    cdef int64_t n = y_pred.size, hits
    with nogil:
        hits = fe_binary_accuracy_hits(t, p, n, threshold)
    return hits
