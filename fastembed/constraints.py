"""Weight constraints with Keras's names, defaults and formulas: after each
optimizer step, training replaces a weight w by constraint(w).

The norm constraints compute norms along `axis` (0 by default: the weights
into each unit of a Dense kernel). On a table updated lazily
(Embedding(sparse=True)) training applies a constraint to the rows a step
touched, which needs an element-wise constraint or norms along the rows
(axis=1 or -1).
"""
import numpy as np

from fastembed.engine.variable import RowGrad
from fastembed.utils.identifiers import lookup, serialize  # noqa: F401 (serialize: API)

EPSILON = np.float32(1e-7)  # keras.config.epsilon()


class Constraint:
    row_wise = True  # whether it maps each row of a table on its own

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class NonNeg(Constraint):
    def __call__(self, w):
        return np.maximum(w, np.float32(0))


class _NormConstraint(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    @property
    def row_wise(self):
        return self.axis in (1, -1, [1], [-1], (1,), (-1,))

    def _norms(self, w):
        axis = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else self.axis
        return np.sqrt(np.square(w).sum(axis=axis, keepdims=True, dtype=np.float32))

    def __call__(self, w):
        w = np.asarray(w, np.float32)
        norms = self._norms(w)
        return w * (self._desired(norms) / (EPSILON + norms))

    def get_config(self):
        return {"axis": self.axis}


class MaxNorm(_NormConstraint):
    def __init__(self, max_value=2, axis=0):
        super().__init__(axis)
        self.max_value = max_value

    def _desired(self, norms):
        return np.clip(norms, np.float32(0), np.float32(self.max_value))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(_NormConstraint):
    def _desired(self, norms):
        return np.float32(1)


class MinMaxNorm(_NormConstraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        super().__init__(axis)
        self.min_value, self.max_value, self.rate = min_value, max_value, rate

    def _desired(self, norms):
        clipped = np.clip(norms, np.float32(self.min_value), np.float32(self.max_value))
        return np.float32(self.rate) * clipped + np.float32(1 - self.rate) * norms

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg,
            "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm, "max_norm": MaxNorm,
            "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}


def get(identifier):
    """A Constraint from None, a name ('max_norm', 'non_neg', 'unit_norm',
    'min_max_norm', 'MaxNorm', ...), a config dict, a class or an instance."""
    return lookup(identifier, "constraint", _CLASSES, Constraint)


def constrained_rows(variables):
    """(variable, rows) of the variables a step's update is followed by a
    projection of: every row (None), or for a lazily updated table the rows
    its grad touched; read before the optimizer consumes the grads."""
    return [(v, v.grad.rows if v.lazy else None) for v in variables
            if not v.lazy or isinstance(v.grad, RowGrad)]


def apply_constraints(constrained):
    """Project each variable (at its rows) by its constraint, after an update."""
    for variable, rows in constrained:
        if rows is None:
            variable.value[...] = variable.constraint(variable.value)
        else:
            variable.value[rows] = variable.constraint(variable.value[rows])
