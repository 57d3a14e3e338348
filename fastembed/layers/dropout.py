"""Dropout: zeroes a fraction `rate` of the inputs while training, scaling the rest."""
import numpy as np

from fastembed.engine.layer import Layer
from fastembed.utils.random import generator


class Dropout(Layer):
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"`rate` must be a number in [0, 1]. Received: rate={rate!r}")
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = generator(seed) if seed is not None else None

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return inputs.shape
        return tuple(inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def forward(self, context, inputs, training=False, mask=None):
        if not training or self.rate == 0:
            context.saved = None
            return inputs
        rng = self._rng or generator()
        keep = rng.random(self._noise_shape(inputs)) >= self.rate
        scale = context.saved = (keep / np.float32(1.0 - self.rate)).astype(np.float32) \
            if self.rate < 1 else np.zeros(keep.shape, np.float32)
        return inputs * scale

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        return output_grads if context.saved is None else output_grads * context.saved

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config
