"""Compiled kernels; see _core.pyx."""
import os

# libgomp reads its settings once, when it is loaded with _core. A training
# step runs its parallel loops tens of microseconds apart, and waking a
# sleeping thread costs about as much (43 us per loop measured with
# OMP_WAIT_POLICY=passive), so idle threads spin through a step's gaps
# (10,000 spins, a few hundred microseconds) before they sleep; libgomp's
# default spins for milliseconds, holding a core from other work that long.
# The variable is restored after the load: other OpenMP runtimes in the
# process (torch's) keep their own defaults. A user's GOMP_SPINCOUNT or
# OMP_WAIT_POLICY wins: on a machine whose cores are busy with other work,
# spinning threads take turns with it and waits grow to scheduler slices
# (seed LSTM epoch 602 ms against 241 ms passive, with one core loaded),
# where OMP_WAIT_POLICY=passive is the better choice.
_user_setting = "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ
if not _user_setting:
    os.environ["GOMP_SPINCOUNT"] = "10000"
try:
    from fastembed._kernels._core import (  # noqa: F401
        DEFERRED_MAX_DIM,
        UPDATE_ALL_ROWS,
        UPDATE_DEFERRED,
        UPDATE_DENSE,
        UPDATE_ROWS,
        DeferredSteps,
        TeamChoice,
        UpdateRule,
        adam_rate,
        as_indices,
        binary_accuracy_hits,
        binary_crossentropy_backward,
        binary_crossentropy_forward,
        binary_crossentropy_weighted_sum,
        dense_backward,
        dense_forward,
        embedding_grad,
        gather,
        gemm,
        get_num_threads,
        isa_name,
        select_isa,
        set_num_threads,
        softmax_backward,
        softmax_forward,
        softmax_sparse_crossentropy_backward,
        sparse_categorical_crossentropy,
    )
finally:
    if not _user_setting:
        del os.environ["GOMP_SPINCOUNT"]
