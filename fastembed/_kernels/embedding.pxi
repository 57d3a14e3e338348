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


def _check_table(table):
    if not isinstance(table, np.ndarray) or table.dtype != np.float32 or table.ndim != 2:
        raise TypeError(f"table must be a 2-D float32 numpy array, got "
                        f"{getattr(table, 'dtype', type(table).__name__)} with shape {np.shape(table)}")
    if not table.flags.c_contiguous:
        raise ValueError("table must be C-contiguous")


cdef void _gather(float[:, ::1] out, const float[:, ::1] table, const index_t[::1] idx):
    if idx.shape[0] == 0 or table.shape[1] == 0:
        return
    with nogil:
        if index_t is int32_t:
            fe_embedding_forward_i32(&out[0, 0], &table[0, 0], &idx[0], idx.shape[0], table.shape[1])
        else:
            fe_embedding_forward_i64(&out[0, 0], &table[0, 0], &idx[0], idx.shape[0], table.shape[1])


def gather(table, indices, out=None):
    """table[indices]: shape indices.shape + (dim,). Validates every index."""
    _check_table(table)
    idx = as_indices(indices, table.shape[0])
    shape = idx.shape + (table.shape[1],)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {shape}")
    flat = idx.reshape(-1)
    out2d = out.reshape(flat.shape[0], table.shape[1])
    if idx.dtype == np.int32:
        _gather[int32_t](out2d, table, flat)
    else:
        _gather[int64_t](out2d, table, flat)
    return out


cdef int64_t _scatter(int64_t[::1] rows, float[:, ::1] grads, const float[:, ::1] d_out,
                      const index_t[::1] idx, int64_t vocab, int64_t[::1] work):
    cdef int64_t n_unique
    if idx.shape[0] == 0 or d_out.shape[1] == 0:
        return 0
    with nogil:
        if index_t is int32_t:
            n_unique = fe_embedding_backward_i32(&rows[0], &grads[0, 0], &d_out[0, 0], &idx[0],
                                                 idx.shape[0], d_out.shape[1], vocab, &work[0])
        else:
            n_unique = fe_embedding_backward_i64(&rows[0], &grads[0, 0], &d_out[0, 0], &idx[0],
                                                 idx.shape[0], d_out.shape[1], vocab, &work[0])
    return n_unique


def embedding_grad(d_out, indices, int64_t input_dim):
    """Gradient of gather as (rows, row_grads), rows sorted and distinct.

    d_out: indices.shape + (dim,) float32. Duplicate rows are summed in the
    order of their positions, so the result is the same for any thread count.
    """
    idx = as_indices(indices, input_dim)
    d_out = np.asarray(d_out)
    if d_out.dtype != np.float32 or d_out.shape[:-1] != idx.shape or d_out.ndim != idx.ndim + 1:
        raise ValueError(f"d_out must be float32 of shape {idx.shape} + (dim,), got "
                         f"{d_out.dtype} {d_out.shape}")
    cdef int64_t n = idx.size
    cdef int64_t dim = d_out.shape[-1]
    flat = idx.reshape(-1)
    d2 = np.ascontiguousarray(d_out).reshape(n, dim)
    rows = np.empty(n, dtype=np.int64)
    grads = np.empty((n, dim), dtype=np.float32)
    work = np.empty(fe_embedding_backward_work_size(n), dtype=np.int64)
    cdef int64_t n_unique
    if flat.dtype == np.int32:
        n_unique = _scatter[int32_t](rows, grads, d2, flat, input_dim, work)
    else:
        n_unique = _scatter[int64_t](rows, grads, d2, flat, input_dim, work)
    return rows[:n_unique], grads[:n_unique]
