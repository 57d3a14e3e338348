"""fastembed: Keras-compatible embedding models on fast CPU kernels."""
import os

# Idle OpenMP threads must sleep, not spin: spinning ones starve OpenBLAS's
# threads between our parallel loops and BLAS calls (10x on small GEMMs).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
from fastembed import layers  # noqa: F401
from fastembed._config import show_config  # noqa: F401
from fastembed._kernels import get_num_threads, set_num_threads  # noqa: F401
from fastembed.models import Sequential, load_model  # noqa: F401

__version__ = "0.1.0"
