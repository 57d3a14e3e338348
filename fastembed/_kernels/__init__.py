"""Compiled kernels; see _core.pyx."""
from fastembed._kernels._core import (  # noqa: F401
    UpdateRule,
    as_indices,
    embedding_grad,
    gather,
    get_num_threads,
    isa_name,
    select_isa,
    set_num_threads,
)
