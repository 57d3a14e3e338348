# Index arrays: dtype checks, float-to-int conversion and range validation.
import numpy as np
from libc.stdint cimport int32_t, int64_t

ctypedef fused index_t:
    int32_t
    int64_t

cdef extern from "embedding.h":
    int64_t fe_embedding_find_invalid_i32(const int32_t *idx, int64_t n, int64_t vocab) nogil
    int64_t fe_embedding_find_invalid_i64(const int64_t *idx, int64_t n, int64_t vocab) nogil


cdef int64_t find_invalid(const index_t[::1] flat, int64_t vocab):
    cdef int64_t bad
    with nogil:
        if index_t is int32_t:
            bad = fe_embedding_find_invalid_i32(&flat[0], flat.shape[0], vocab)
        else:
            bad = fe_embedding_find_invalid_i64(&flat[0], flat.shape[0], vocab)
    return bad


def _position(shape, flat_position):
    return ",".join(str(int(i)) for i in np.unravel_index(flat_position, shape))


def as_indices(x, int64_t input_dim, name="indices"):
    """x as a C-contiguous int32/int64 array with every value in [0, input_dim).

    Integer arrays keep their width when it is 32 or 64 bits; floats must hold
    whole numbers (Keras casts them); anything else is a TypeError.
    """
    if input_dim <= 0:
        raise ValueError(f"input_dim must be positive, got {input_dim}")
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind in "iu":
        if a.dtype != np.int32 and a.dtype != np.int64:
            a = a.astype(np.int64)
    elif kind == "f":
        finite = np.isfinite(a)
        whole = finite & (a == np.floor(np.where(finite, a, 0)))
        if not whole.all():
            p = int(np.argmin(whole.ravel()))
            raise ValueError(
                f"{name} must hold whole numbers: {name}[{_position(a.shape, p)}] = "
                f"{a.ravel()[p].item()!r} is not an integer")
        a = a.astype(np.int64)
    else:
        raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
    a = np.ascontiguousarray(a)
    if a.size == 0:
        return a
    cdef int64_t bad
    if a.dtype == np.int32:
        bad = find_invalid[int32_t](a.reshape(-1), input_dim)
    else:
        bad = find_invalid[int64_t](a.reshape(-1), input_dim)
    if bad >= 0:
        raise IndexError(
            f"{name}[{_position(a.shape, bad)}] = {a.ravel()[bad]} is not in [0, {input_dim})")
    return a
