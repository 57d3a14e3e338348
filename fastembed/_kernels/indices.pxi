# Index arrays: dtype checks, float-to-int conversion and range validation.
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t

cnp.import_array()


cdef inline bint is_float_carray(object x):
    return (type(x) is cnp.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT32
            and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>x) and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>x))


cdef bint is_float_carray_of(object x, object shape):
    """is_float_carray, of exactly `shape` (a tuple): the usual kernel
    argument, recognised without a Python call."""
    if not is_float_carray(x) or type(shape) is not tuple:
        return False
    cdef Py_ssize_t i, ndim = len(<tuple>shape)
    if cnp.PyArray_NDIM(<cnp.ndarray>x) != ndim:
        return False
    for i in range(ndim):
        if cnp.PyArray_DIMS(<cnp.ndarray>x)[i] != <cnp.npy_intp>(<tuple>shape)[i]:
            return False
    return True


def check_array(name, array, shape, dtype=np.float32):
    """The kernels' one check of an array argument, in the boundary's
    vocabulary: a C-contiguous native `dtype` ndarray, else TypeError; of
    exactly `shape`, else ValueError."""
    if dtype is np.float32 and is_float_carray_of(array, shape):
        return
    if (not isinstance(array, np.ndarray) or array.dtype != dtype
            or not array.flags.c_contiguous or not array.dtype.isnative):
        layout = "" if not isinstance(array, np.ndarray) or array.flags.c_contiguous \
            else "non-contiguous "
        raise TypeError(f"{name} must be a C-contiguous {np.dtype(dtype).name} array, got a "
                        f"{layout}{getattr(array, 'dtype', type(array).__name__)} "
                        f"of shape {np.shape(array)}")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")

cdef extern from "embedding.h":
    int64_t fe_embedding_find_invalid_i32(const int32_t *idx, int64_t n, int64_t vocab) nogil
    int64_t fe_embedding_find_invalid_i64(const int64_t *idx, int64_t n, int64_t vocab) nogil


cdef inline bint is_index_array(object x):
    """A C-contiguous, aligned int32/int64 ndarray: usable by the kernels as is."""
    if type(x) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int type_num = cnp.PyArray_TYPE(a)
    return ((type_num == cnp.NPY_INT32 or type_num == cnp.NPY_INT64)
            and cnp.PyArray_ISCARRAY_RO(a) and cnp.PyArray_ISNOTSWAPPED(a))


def _position(shape, flat_position):
    return ",".join(str(int(i)) for i in np.unravel_index(flat_position, shape))


cdef cnp.ndarray _converted_indices(x, str name):
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind in "iu":
        a = a.astype(np.int32 if a.dtype.itemsize <= 4 and kind == "i" else np.int64)
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
    return np.ascontiguousarray(a)


cpdef cnp.ndarray as_indices(x, int64_t input_dim, str name="indices"):
    """x as a C-contiguous int32/int64 array with every value in [0, input_dim).

    Integer arrays keep their width when it is 32 or 64 bits; floats must hold
    whole numbers (Keras casts them); anything else is a TypeError.
    """
    if input_dim <= 0:
        raise ValueError(f"input_dim must be positive, got {input_dim}")
    cdef cnp.ndarray a = <cnp.ndarray>x if is_index_array(x) else _converted_indices(x, name)
    cdef int64_t n = cnp.PyArray_SIZE(a), bad
    cdef void *data = cnp.PyArray_DATA(a)
    with nogil:
        if cnp.PyArray_TYPE(a) == cnp.NPY_INT32:
            bad = fe_embedding_find_invalid_i32(<const int32_t *>data, n, input_dim)
        else:
            bad = fe_embedding_find_invalid_i64(<const int64_t *>data, n, input_dim)
    if bad >= 0:
        raise IndexError(
            f"{name}[{_position((<object>a).shape, bad)}] = {a.ravel()[bad]} is not in [0, {input_dim})")
    return a
