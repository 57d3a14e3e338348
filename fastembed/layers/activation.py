"""Activation: applies an activation function (keras.layers.Activation).

The activation is a name from fastembed.activations (or None: linear). The
mask, if any, passes through unchanged, as in Keras.
"""
import numpy as np

from fastembed import activations as activations_module
from fastembed.engine.layer import Layer


class Activation(Layer):
    supports_masking = True

    def __init__(self, activation, **kwargs):
        activation = activations_module.get(activation)  # ValueError naming an unknown one
        super().__init__(**kwargs)
        self.activation = activation

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        y = np.asarray(self.activation.forward(x), dtype=np.float32)
        context.saved = (x, y)
        return y

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        x, y = context.saved
        dy = np.asarray(output_grads, dtype=np.float32)
        return np.asarray(self.activation.backward(x, y, dy), dtype=np.float32)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations_module.serialize(self.activation)
        return config
