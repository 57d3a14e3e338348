"""Variable: a weight, and the gradients a training step accumulates in it."""
from typing import NamedTuple

import numpy as np

from fastembed import _kernels


class RowGrad(NamedTuple):
    """Gradient of a table that is zero outside `rows`.
    rows: (k,) int64, strictly increasing; values: (k, dim) float32."""

    rows: np.ndarray
    values: np.ndarray


def merge_row_grads(first, second, num_rows):
    """The sum of two RowGrads of a (num_rows, dim) table, rows merged by the
    embedding gradient kernel (sorted, duplicates added in a fixed order)."""
    rows = np.concatenate([first.rows, second.rows])
    values = np.concatenate([first.values, second.values])
    return RowGrad(*_kernels.embedding_grad(values, rows, num_rows))


def _dense(grad, shape):
    if isinstance(grad, RowGrad):
        dense = np.zeros(shape, np.float32)
        dense[grad.rows] = grad.values
        return dense
    return grad


class Variable:
    """A weight: a C-contiguous float32 array updated in place by optimizers.

    grad holds the sum of the gradients the backward passes of this step
    added (add_grad): a dense array of the same shape, a RowGrad, or None.
    lazy marks tables updated only at the rows of their RowGrad
    (Embedding(sparse=True)); otherwise an update has Keras's dense
    semantics (every row's optimizer state moves). regularizer adds its
    penalty to the training loss, constraint projects the value after each
    update (fastembed.regularizers, fastembed.constraints)."""

    __slots__ = ("name", "_value", "trainable", "grad", "lazy", "regularizer", "constraint",
                 "deferred")

    def __init__(self, name, value, trainable=True, lazy=False, regularizer=None,
                 constraint=None):
        self.name = name
        self._value = np.ascontiguousarray(value, dtype=np.float32)
        self.trainable = trainable
        self.grad = None
        self.lazy = lazy
        self.regularizer = regularizer
        self.constraint = constraint
        # The optimizer's DeferredSteps while some rows lack its recorded
        # steps (a dense-semantics table updated at its touched rows only).
        self.deferred = None

    @property
    def value(self):
        """The weight's array, every pending optimizer step applied: every
        read of the weight goes through here (or value_for_gather)."""
        if self.deferred is not None:
            self.apply_pending()
        return self._value

    @value.setter
    def value(self, array):
        if self.deferred is not None:
            self.apply_pending()
        self._value = array

    def apply_pending(self):
        """Bring every row up to date with the optimizer steps it lacks."""
        if self.deferred is not None:
            self.deferred.flush(self._value)
            self.deferred = None

    def value_for_gather(self, indices):
        """The array for a lookup of the rows `indices` (validated ids): those
        rows are up to date, others may still lack optimizer steps."""
        if self.deferred is not None:
            self.deferred.flush_rows(self._value, indices)
        return self._value

    @property
    def shape(self):
        return self._value.shape

    def numpy(self):
        return self.value.copy()

    def assign(self, new_value):
        new_value = np.asarray(new_value)
        if new_value.shape != self._value.shape:
            raise ValueError(f"cannot assign a value of shape {new_value.shape} to weight "
                             f"{self.name!r} of shape {self._value.shape}")
        self.value[...] = new_value

    def read(self, dataset):
        """This weight's value in an HDF5 dataset (of its shape, checked by
        the caller), as a fresh C-contiguous float32 array."""
        return np.ascontiguousarray(dataset[()], np.float32)

    def gather(self, indices):
        """The rows of a table at validated indices (a ShardedTable fetches
        them from the processes that hold them)."""
        return _kernels.gather(self.value_for_gather(indices), indices)

    def add_grad(self, grad):
        """Add one call's gradient: dense arrays add, RowGrads merge (a layer
        called N times in a step gets the sum of its N gradients)."""
        if self.grad is None:
            self.grad = grad
        elif isinstance(grad, RowGrad) and isinstance(self.grad, RowGrad):
            self.grad = merge_row_grads(self.grad, grad, self.shape[0])
        else:
            self.grad = _dense(self.grad, self._value.shape) + _dense(grad, self._value.shape)

    def __repr__(self):
        return f"<Variable {self.name} shape={self._value.shape}>"
