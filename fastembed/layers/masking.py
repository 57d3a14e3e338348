"""Masking: marks the steps whose features all equal mask_value as masked
(outputs zeroed there) for the layers after it, as Keras's Masking."""
import numpy as np

from fastembed.engine.layer import Layer


class Masking(Layer):
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _keep(self, x):
        return np.any(np.asarray(x) != self.mask_value, axis=-1)

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        keep = self._keep(x)[..., None]
        context.saved = keep
        return x * keep

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        return (np.asarray(output_grads, np.float32) * context.saved).astype(np.float32)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
