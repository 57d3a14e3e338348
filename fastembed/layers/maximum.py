"""Maximum: the elementwise maximum of a list of inputs (keras.layers.Maximum).

Masked entries take no part (see SelectMerge); on ties the gradient is
shared as jax's is."""
import numpy as np

from fastembed.layers.base_merge import SelectMerge


class Maximum(SelectMerge):
    _op = staticmethod(np.maximum)


def maximum(inputs, **kwargs):
    """Functional interface to Maximum: Maximum(**kwargs)(inputs)."""
    return Maximum(**kwargs)(inputs)
