"""fastembed: Keras-compatible embedding models on fast CPU kernels."""
from fastembed.distribution import threads as _threads

_threads.set_wait_policy()  # before the OpenMP runtime loads with the kernels
from fastembed import layers  # noqa: F401
from fastembed._config import show_config  # noqa: F401
from fastembed._kernels import get_num_threads, set_num_threads  # noqa: F401
from fastembed.engine.graph import set_step_plans, step_plans_enabled  # noqa: F401
from fastembed.engine.input_layer import Input  # noqa: F401
from fastembed.models import Model, Sequential, load_model  # noqa: F401

__version__ = "0.1.0"
