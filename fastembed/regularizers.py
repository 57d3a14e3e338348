"""Weight and activity regularizers with Keras's names, defaults and
formulas, each with its gradient.

A regularizer maps an array to a penalty (a float) that training adds to
the loss; gradient(x) is d penalty / d x. On a table updated lazily
(Embedding(sparse=True)) training applies them to the rows a step touched.
"""
import math

import numpy as np

from fastembed.engine.variable import RowGrad
from fastembed.utils.identifiers import lookup, serialize  # noqa: F401 (serialize: API)

EPSILON = 1e-7  # keras.config.epsilon()


def _penalty_factor(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    def __call__(self, x):
        return 0.0

    def gradient(self, x):
        return np.zeros_like(x)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _penalty_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _penalty_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.abs(x).sum(dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.square(x, dtype=np.float64).sum())
        return penalty

    def gradient(self, x):
        x = np.asarray(x, np.float32)
        grad = np.zeros_like(x)
        if self.l1:  # the subgradient at 0 is +l1, as jax differentiates |x|
            grad += np.where(x < 0, np.float32(-self.l1), np.float32(self.l1))
        if self.l2:
            grad += np.float32(2 * self.l2) * x
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean |cosine| between the rows (mode='rows') or columns of a
    2-D weight: Keras's penalty for non-orthogonal vectors."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty_factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f'Invalid value for argument `mode`. Expected one of '
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def _vectors(self, x):
        x = np.asarray(x, np.float32)
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        return x if self.mode == "rows" else x.T

    def _parts(self, vectors):
        """(unit vectors, inverse norms, off-diagonal cosines, the scale of their sum)."""
        inverse = np.minimum(1 / np.sqrt(np.square(vectors).sum(axis=1, keepdims=True)),
                             np.float32(1 / EPSILON))
        unit = vectors * inverse
        cosines = unit @ unit.T
        np.fill_diagonal(cosines, 0)
        size = len(vectors)
        return unit, inverse, cosines, self.factor * 0.5 / (size * (size - 1) / 2)

    def __call__(self, x):
        _, _, cosines, scale = self._parts(self._vectors(x))
        return scale * float(np.abs(cosines).sum(dtype=np.float64))

    def gradient(self, x):
        vectors = self._vectors(x)
        unit, inverse, cosines, scale = self._parts(vectors)
        signs = np.where(cosines < 0, -1.0, 1.0).astype(np.float32)
        np.fill_diagonal(signs, 0)
        d_unit = np.float32(2 * scale) * (signs @ unit)  # signs is symmetric
        inside = inverse < np.float32(1 / EPSILON)
        d_vectors = np.where(inside, (d_unit - unit * (d_unit * unit).sum(axis=1, keepdims=True))
                             * inverse, d_unit * inverse)
        return d_vectors if self.mode == "rows" else d_vectors.T

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = {"Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
            "OrthogonalRegularizer": OrthogonalRegularizer, "l1": L1, "l2": L2, "l1l2": L1L2,
            "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier):
    """A Regularizer from None, a name ('l1', 'l2', 'l1_l2', 'L1L2'), a
    config dict, a class or an instance, as keras.regularizers.get."""
    return lookup(identifier, "regularizer", _CLASSES, Regularizer)


def add_weight_penalties(variables):
    """The regularizers' penalty of variables, each penalty's gradient added
    to its variable's grad (a training step's). A lazily updated table
    (Embedding(sparse=True)) is regularized at the rows its grad touched."""
    total = 0.0
    for variable in variables:
        regularizer = variable.regularizer
        if not variable.lazy:
            total += regularizer(variable.value)
            variable.add_grad(regularizer.gradient(variable.value))
        elif isinstance(variable.grad, RowGrad):
            rows = variable.value[variable.grad.rows]
            total += regularizer(rows)
            variable.grad = variable.grad._replace(
                values=variable.grad.values + regularizer.gradient(rows))
    return total


def weight_penalty(variables):
    """The regularizers' penalty of variables, whole tables included (evaluate)."""
    return sum(variable.regularizer(variable.value) for variable in variables)
