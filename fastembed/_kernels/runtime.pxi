# Threads and ISA selection.
import os

cdef extern from "omp.h":
    void omp_set_num_threads(int n) nogil
    int omp_get_max_threads() nogil

cdef extern from "isa.h":
    ctypedef struct fe_isa_table:
        const char *name
    const fe_isa_table *fe_isa
    int fe_isa_select(const char *name) nogil


def set_num_threads(n):
    """Set the number of OpenMP threads the kernels use."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"num_threads must be a positive integer, got {n!r}")
    omp_set_num_threads(n)


def get_num_threads():
    """Number of OpenMP threads the kernels use (OMP_NUM_THREADS by default)."""
    return omp_get_max_threads()


def select_isa(name=None):
    """Use the "avx512", "avx2" or "baseline" kernels; None picks the best the CPU has."""
    cdef bytes encoded = (name or "").encode()
    status = fe_isa_select(encoded)
    if status == -1:
        raise ValueError(f"isa must be 'avx512', 'avx2' or 'baseline', got {name!r}")
    if status == -2:
        raise RuntimeError(f"isa={name!r} is not supported by this CPU")


def isa_name():
    """Name of the kernel set in use."""
    return fe_isa.name.decode()


try:
    select_isa(os.environ.get("FASTEMBED_ISA") or None)
except (ValueError, RuntimeError) as error:
    raise ImportError(f"FASTEMBED_ISA={os.environ['FASTEMBED_ISA']!r}: {error}") from None
