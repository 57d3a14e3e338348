"""Compiled kernels; see _core.pyx."""
import os

# libgomp reads its settings once, when it is loaded with _core. A training
# step runs its parallel loops tens of microseconds apart, and waking a
# sleeping thread costs about as much (43 us per loop measured with
# OMP_WAIT_POLICY=passive), so idle threads spin through a step's gaps
# (10,000 spins, a few hundred microseconds) before they sleep; libgomp's
# default spins for milliseconds, holding a core from other work that long.
# The variable is restored after the load: other OpenMP runtimes in the
# process (torch's) keep their own defaults. The user's GOMP_SPINCOUNT wins.
_user_spincount = os.environ.get("GOMP_SPINCOUNT")
os.environ["GOMP_SPINCOUNT"] = _user_spincount or "10000"
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
