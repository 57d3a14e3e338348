"""Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""
import numpy as np

from fastembed.engine.layer import Layer


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten supports data_format='channels_last' only, got "
                             f"{data_format!r}")
        super().__init__(**kwargs)

    def forward(self, context, inputs, training=False, mask=None):
        context.saved = inputs.shape
        return inputs.reshape(inputs.shape[0], -1)

    def inference_call(self, inputs):
        shape = (inputs.shape[0], -1)
        return lambda inputs: inputs.reshape(shape)

    def backward(self, context, output_grads):
        return output_grads.reshape(context.saved) if context.needs_input_grad else None

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}
