"""Utilities under Keras's names."""
from fastembed.utils.random import set_random_seed  # noqa: F401
