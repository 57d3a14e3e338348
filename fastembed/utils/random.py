"""The random number generator behind initializers, Dropout and shuffling."""
import random as _py_random

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Seed fastembed's generator, numpy's global one and Python's, as
    keras.utils.set_random_seed does."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)
    _py_random.seed(int(seed))


def generator(seed=None):
    """A per-use generator when seed is given, else the shared one."""
    return np.random.default_rng(seed) if seed is not None else _generator
