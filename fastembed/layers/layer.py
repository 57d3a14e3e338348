"""Layer: the base of every fastembed layer, in Keras's shape.

A layer keeps its config in __init__, creates weights in build(input_shape),
computes in call(inputs, training, mask) and differentiates in
backward(grad_output, input_grad), which returns the gradient with respect
to the input (None when input_grad is False) and leaves each trainable
weight's gradient in variable.grad. Sequential chains call and backward.
"""
import re
from typing import NamedTuple

import numpy as np

from fastembed import initializers as initializers_module


class RowGrad(NamedTuple):
    """Gradient of a table that is zero outside `rows`.
    rows: (k,) int64, strictly increasing; values: (k, dim) float32."""

    rows: np.ndarray
    values: np.ndarray


class Variable:
    """A weight: a C-contiguous float32 array updated in place by optimizers.

    grad holds what the last backward left: a dense array of the same shape,
    a RowGrad, or None. lazy marks tables updated only at the rows of their
    RowGrad (Embedding(sparse=True)); otherwise an update has Keras's dense
    semantics (every row's optimizer state moves)."""

    __slots__ = ("name", "value", "trainable", "grad", "lazy")

    def __init__(self, name, value, trainable=True, lazy=False):
        self.name = name
        self.value = np.ascontiguousarray(value, dtype=np.float32)
        self.trainable = trainable
        self.grad = None
        self.lazy = lazy

    @property
    def shape(self):
        return self.value.shape

    def numpy(self):
        return self.value.copy()

    def assign(self, new_value):
        new_value = np.asarray(new_value)
        if new_value.shape != self.value.shape:
            raise ValueError(f"cannot assign a value of shape {new_value.shape} to weight "
                             f"{self.name!r} of shape {self.value.shape}")
        self.value[...] = new_value

    def __repr__(self):
        return f"<Variable {self.name} shape={self.value.shape}>"


def reject_unsupported(layer_class, **arguments):
    """NotImplementedError for the first Keras argument given that fastembed
    does not implement yet (regularizers, constraints)."""
    for argument, value in arguments.items():
        if value is not None:
            raise NotImplementedError(f"{layer_class} does not support {argument} yet; "
                                      f"got {argument}={value!r}")


def sequence_features(layer, input_shape):
    """The feature (last) dimension of a 3-D (batch, steps, features) input
    shape, which must be known: what a sequence layer's build needs."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} expects 3-D inputs (rank 3: "
                         f"batch, steps, features), got input shape {shape}")
    if shape[-1] is None:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} needs a known feature "
                         f"dimension, got input shape {shape}")
    return shape[-1]


def _shape_tuple(shape, argument):
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise ValueError(f"{argument} must be a tuple of integers, got {shape!r}") from None


_layer_counts = {}


def _unique_name(base):
    _layer_counts[base] = _layer_counts.get(base, 0) + 1
    count = _layer_counts[base]
    return base if count == 1 else f"{base}_{count - 1}"


def _snake_case(name):
    """Keras's default layer names: Conv1D -> conv1d, GlobalMaxPooling1D -> global_max_pooling1d."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Layer:
    supports_masking = False

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None,
                 input_length=None, **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to "
                            f"{type(self).__name__}: {kwargs}")
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"dtype must be float32, got {dtype!r}")
        self.name = name or _unique_name(_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.built = False
        self._weights = []
        # Keras 2's ways of declaring the input of a model's first layer.
        if batch_input_shape is not None:
            batch_input_shape = _shape_tuple(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            batch_input_shape = (batch_size,) + _shape_tuple(input_shape, "input_shape")
        elif input_dim is not None:
            batch_input_shape = (batch_size, input_length, input_dim) if input_length \
                else (batch_size, input_dim)
        self.batch_input_shape = batch_input_shape
        self.input_shape = None
        self.output_shape = None

    # ---- to override -------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=False, mask=None):
        raise NotImplementedError

    def backward(self, grad_output, input_grad=True):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ---- machinery ---------------------------------------------------------
    def build_for(self, input_shape):
        """Build once for input_shape (batch dimension first, may be None)."""
        input_shape = _shape_tuple(input_shape, "input_shape")
        if not self.built:
            self.build(input_shape)
            self.built = True
        self.input_shape = input_shape
        self.output_shape = tuple(self.compute_output_shape(input_shape))
        return self.output_shape

    def __call__(self, inputs, training=False, mask=None):
        inputs = inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)
        if not self.built:
            self.build_for((None,) + inputs.shape[1:])
        return self.call(inputs, training=training, mask=mask)

    def add_weight(self, name, shape, initializer="zeros", trainable=True, lazy=False):
        value = initializers_module.get(initializer)(tuple(shape))
        variable = Variable(f"{self.name}/{name}", value, trainable=trainable, lazy=lazy)
        self._weights.append(variable)
        return variable

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return list(self._weights)
        return [w for w in self._weights if not w.trainable]

    def get_weights(self):
        return [w.numpy() for w in self._weights]

    def set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ValueError(f"Layer {self.name!r} expects {len(self._weights)} weights, "
                             f"got {len(weights)}")
        for variable, value in zip(self._weights, weights):
            variable.assign(value)

    def count_params(self):
        return int(sum(w.value.size for w in self._weights))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
