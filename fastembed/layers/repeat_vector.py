"""RepeatVector: (batch, features) -> (batch, n, features) (keras.layers.RepeatVector).

As in Keras 3, RepeatVector does not support masking: the output has no mask.
"""
import numpy as np

from fastembed.engine.layer import Layer


class RepeatVector(Layer):
    def __init__(self, n, **kwargs):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n!r}")
        super().__init__(**kwargs)
        self.n = int(n)

    def _check(self, shape):
        if len(shape) != 2:
            raise ValueError(f"RepeatVector layer {self.name!r} expects 2-D inputs (batch, "
                             f"features), got input shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        self._check(x.shape)
        return np.repeat(x[:, None, :], self.n, axis=1)

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        return np.asarray(output_grads, dtype=np.float32).sum(axis=1, dtype=np.float32)

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
