"""Reshape: (batch, ...) -> (batch, *target_shape) (keras.layers.Reshape).

One entry of target_shape may be -1, inferred from the input's size. As in
Keras 3, Reshape does not support masking: the output has no mask.
"""
import math

import numpy as np

from fastembed.engine.layer import Layer


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        try:
            target_shape = tuple(target_shape)
        except TypeError:
            raise ValueError(f"`target_shape` must be a tuple of integers. Received: "
                             f"target_shape={target_shape!r}") from None
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= -1
                   for d in target_shape):
            raise ValueError(f"Each dimension in `target_shape` must be a non-negative "
                             f"integer, or -1 for a single unknown dimension. Received: "
                             f"target_shape={target_shape!r}")
        if sum(d == -1 for d in target_shape) > 1:
            raise ValueError(f"There must be at most one unknown dimension (-1) in "
                             f"`target_shape`. Received: target_shape={target_shape!r}")
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def _resolve(self, shape):
        """target_shape with its -1 resolved for an input shape without its
        batch axis (kept None when that shape has an unknown dimension)."""
        if None in shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(shape)
        if -1 not in self.target_shape:
            if math.prod(self.target_shape) != size:
                raise ValueError(f"Reshape layer {self.name!r}: the total size of the tensor "
                                 f"must be unchanged. Received: input_shape={tuple(shape)} "
                                 f"(size {size}), target_shape={self.target_shape}")
            return self.target_shape
        known = math.prod(d for d in self.target_shape if d != -1)
        if known == 0 or size % known:
            raise ValueError(f"Reshape layer {self.name!r}: the total size of the tensor must "
                             f"be unchanged, but the input size {size} cannot be divided by "
                             f"the specified dimensions. Received: input_shape={tuple(shape)}, "
                             f"target_shape={self.target_shape}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 1:
            raise ValueError(f"Reshape layer {self.name!r} needs inputs with a batch axis, got "
                             f"input shape {input_shape}")
        return (input_shape[0],) + self._resolve(input_shape[1:])

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        context.saved = x.shape
        return x.reshape((x.shape[0],) + self._resolve(x.shape[1:]))

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        return np.asarray(output_grads, dtype=np.float32).reshape(context.saved)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
