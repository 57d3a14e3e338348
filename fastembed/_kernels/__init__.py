"""Compiled kernels; see _core.pyx."""
import os

# libgomp reads its settings once, when it is loaded with _core. A training
# step runs its parallel loops microseconds apart, and waking a sleeping
# thread costs tens of microseconds (43 us per loop measured with
# OMP_WAIT_POLICY=passive), so idle threads spin briefly (3,000 spins, some
# tens of microseconds) before they sleep; libgomp's default spins for
# milliseconds and keeps a core from OpenBLAS's threads that long. The
# variable is restored after the load: other OpenMP runtimes in the process
# (torch's) keep their own defaults. The user's GOMP_SPINCOUNT wins.
_user_spincount = os.environ.get("GOMP_SPINCOUNT")
os.environ["GOMP_SPINCOUNT"] = _user_spincount or "3000"
try:
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
finally:
    if _user_spincount is None:
        del os.environ["GOMP_SPINCOUNT"]
