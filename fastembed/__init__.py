"""fastembed: Keras-compatible embedding models on fast CPU kernels."""
from fastembed._kernels import get_num_threads, set_num_threads

__version__ = "0.1.0"
