"""GaussianNoise: adds N(0, stddev) noise in training, nothing at inference."""
import numpy as np

from fastembed.engine.layer import Layer
from fastembed.utils.random import generator


class GaussianNoise(Layer):
    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float, np.floating,
                                                               np.integer)) or stddev < 0:
            raise ValueError(f"Invalid value received for argument `stddev`. Expected a float "
                             f"value >= 0. Received: stddev={stddev!r}")
        super().__init__(**kwargs)
        self.stddev = float(stddev)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        if training and self.stddev > 0:
            noise = (self._rng or generator()).standard_normal(x.shape, np.float32)
            return x + noise * np.float32(self.stddev)
        return x

    def backward(self, context, output_grads):
        return np.asarray(output_grads, np.float32) if context.needs_input_grad else None

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config
