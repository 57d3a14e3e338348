"""InputLayer / Input: declares a model's input shape (Keras 3's first entry)."""
from fastembed.layers.layer import Layer


class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, name=None, batch_shape=None,
                 input_shape=None, **kwargs):
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer needs `shape` or `batch_shape`")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name, batch_input_shape=batch_shape, **kwargs)

    def call(self, inputs, training=False, mask=None):
        return inputs

    def backward(self, grad_output, input_grad=True):
        return grad_output if input_grad else None

    def get_config(self):
        return {"name": self.name, "batch_shape": list(self.batch_input_shape)}


def Input(shape=None, batch_size=None, name=None, batch_shape=None, dtype=None, **kwargs):
    """Keras's Input(shape=...): here the InputLayer itself, for Sequential."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name,
                      batch_shape=batch_shape, dtype=dtype, **kwargs)
