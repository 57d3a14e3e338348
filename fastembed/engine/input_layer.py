"""InputLayer and Input: the entry points of a model's graph."""
import numpy as np

from fastembed.engine.layer import Layer
from fastembed.engine.node import Node


def _dtype_name(dtype):
    if dtype is None:
        return "float32"
    if dtype in ("string", str, bytes):  # Keras's name for string inputs
        return "string"
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Input dtype must be a numpy dtype name, got dtype={dtype!r}") from None


class InputLayer(Layer):
    """Holds a model input's shape and dtype; its output is its input."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, batch_shape=None,
                 input_shape=None, sparse=None, ragged=None, optional=False, input_tensor=None,
                 **kwargs):
        if sparse or ragged:
            raise NotImplementedError(f"InputLayer supports dense inputs only; got "
                                      f"sparse={sparse!r}, ragged={ragged!r}")
        if input_tensor is not None:
            raise NotImplementedError("InputLayer(input_tensor=...) is not supported")
        if batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape", None)  # Keras 2's configs
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer needs `shape` or `batch_shape`")
            if isinstance(shape, (int, np.integer)):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        kwargs.pop("trainable", None)
        super().__init__(name=name or None, batch_input_shape=batch_shape, **kwargs)
        self.input_dtype = _dtype_name(dtype)
        self.optional = bool(optional)
        self.built = True
        self.output_shape = self.batch_input_shape
        node = Node(self, [], False)
        self.output = node.add_output(self.batch_input_shape, self.input_dtype)
        self.output.name = self.name

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"name": self.name, "batch_shape": list(self.batch_input_shape),
                "dtype": self.input_dtype, "sparse": False, "ragged": False,
                "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False, **kwargs):
    """A symbolic tensor to call layers on: the input of a Functional model
    (Keras's Input). shape excludes the batch dimension."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional, **kwargs)
    return layer.output
