import os

import pytest

# The Keras reference tests run Keras 3 on the jax backend.
os.environ.setdefault("KERAS_BACKEND", "jax")

ISAS = ["baseline", "avx2", "avx512"]


@pytest.fixture(params=ISAS)
def isa(request):
    """Run the test on each kernel set the CPU has (a skip names the one it lacks)."""
    from fastembed import _kernels
    previous = _kernels.isa_name()
    try:
        _kernels.select_isa(request.param)
    except RuntimeError:
        pytest.skip(f"this CPU has no {request.param}")
    yield request.param
    _kernels.select_isa(previous)
