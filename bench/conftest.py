import os
import sys

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")


@pytest.fixture(autouse=True)
def _default_denormals_after_each_benchmark():
    """torch peers flush denormals (torch.set_flush_denormal, which sets the
    calling thread's MXCSR): the next benchmark in the process, whatever its
    framework, starts with the default again."""
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_flush_denormal(False)
