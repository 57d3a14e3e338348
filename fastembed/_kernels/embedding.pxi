# Embedding lookup and its sparse gradient.

cdef extern from "embedding.h":
    void fe_embedding_forward_i32(float *out, const float *table, const int32_t *idx, int64_t n, int64_t dim) nogil
    void fe_embedding_forward_i64(float *out, const float *table, const int64_t *idx, int64_t n, int64_t dim) nogil
    int64_t fe_embedding_backward_i32(int64_t *unique_rows, float *row_grads, const float *d_out,
                                      const int32_t *idx, int64_t n, int64_t dim, int64_t vocab,
                                      int64_t *work) nogil
    int64_t fe_embedding_backward_i64(int64_t *unique_rows, float *row_grads, const float *d_out,
                                      const int64_t *idx, int64_t n, int64_t dim, int64_t vocab,
                                      int64_t *work) nogil
    int64_t fe_embedding_backward_work_size(int64_t n) nogil


cdef void _check_table(table) except *:
    if not is_float_carray(table) or cnp.PyArray_NDIM(<cnp.ndarray>table) != 2:
        raise TypeError(f"table must be a C-contiguous 2-D float32 numpy array, got "
                        f"{getattr(table, 'dtype', type(table).__name__)} with shape {np.shape(table)}")


def gather(table, indices, out=None):
    """table[indices]: shape indices.shape + (dim,), written into out if
    given (of that shape), else into a new array. Validates every index."""
    _check_table(table)
    cdef cnp.ndarray t = <cnp.ndarray>table
    cdef int64_t dim = t.shape[1]
    cdef cnp.ndarray idx = as_indices(indices, t.shape[0])
    shape = (<object>idx).shape + (dim,)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    else:
        check_array("out", out, shape)
    cdef int64_t n = cnp.PyArray_SIZE(idx)
    cdef float *out_ptr = <float *>cnp.PyArray_DATA(<cnp.ndarray>out)
    cdef const float *table_ptr = <const float *>cnp.PyArray_DATA(t)
    cdef void *idx_ptr = cnp.PyArray_DATA(idx)
    with nogil:
        if cnp.PyArray_TYPE(idx) == cnp.NPY_INT32:
            fe_embedding_forward_i32(out_ptr, table_ptr, <const int32_t *>idx_ptr, n, dim)
        else:
            fe_embedding_forward_i64(out_ptr, table_ptr, <const int64_t *>idx_ptr, n, dim)
    return out


def embedding_grad(d_out, indices, int64_t input_dim):
    """Gradient of gather as (rows, row_grads), rows sorted and distinct.

    d_out: indices.shape + (dim,) float32. Duplicate rows are summed in the
    order of their positions, so the result is the same for any thread count.
    """
    cdef cnp.ndarray idx = as_indices(indices, input_dim)
    if not is_float_carray(d_out):
        d_out = np.ascontiguousarray(d_out)
    cdef cnp.ndarray d = <cnp.ndarray>d_out
    shape = (<object>idx).shape
    if cnp.PyArray_TYPE(d) != cnp.NPY_FLOAT32:
        raise TypeError(f"d_out must be a float32 array, got {d.dtype}")
    if d.ndim != idx.ndim + 1 or (<object>d).shape[:idx.ndim] != shape:
        raise ValueError(f"d_out must have shape {shape} + (dim,), got {(<object>d).shape}")
    cdef int64_t n = cnp.PyArray_SIZE(idx), dim = d.shape[idx.ndim], n_unique
    cdef cnp.ndarray rows = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray grads = np.empty((n, dim), dtype=np.float32)
    cdef cnp.ndarray work = np.empty(fe_embedding_backward_work_size(n), dtype=np.int64)
    cdef int64_t *rows_ptr = <int64_t *>cnp.PyArray_DATA(rows)
    cdef float *grads_ptr = <float *>cnp.PyArray_DATA(grads)
    cdef const float *d_ptr = <const float *>cnp.PyArray_DATA(d)
    cdef void *idx_ptr = cnp.PyArray_DATA(idx)
    cdef int64_t *work_ptr = <int64_t *>cnp.PyArray_DATA(work)
    with nogil:
        if cnp.PyArray_TYPE(idx) == cnp.NPY_INT32:
            n_unique = fe_embedding_backward_i32(rows_ptr, grads_ptr, d_ptr, <const int32_t *>idx_ptr,
                                                 n, dim, input_dim, work_ptr)
        else:
            n_unique = fe_embedding_backward_i64(rows_ptr, grads_ptr, d_ptr, <const int64_t *>idx_ptr,
                                                 n, dim, input_dim, work_ptr)
    return rows[:n_unique], grads[:n_unique]
