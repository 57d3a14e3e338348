"""Minimum: the elementwise minimum of a list of inputs (keras.layers.Minimum).

Masked entries take no part (see SelectMerge); on ties the gradient is
shared as jax's is."""
import numpy as np

from fastembed.layers.base_merge import SelectMerge


class Minimum(SelectMerge):
    _op = staticmethod(np.minimum)


def minimum(inputs, **kwargs):
    """Functional interface to Minimum: Minimum(**kwargs)(inputs)."""
    return Minimum(**kwargs)(inputs)
