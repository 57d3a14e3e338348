"""SpatialDropout1D: Dropout of whole channels, the same steps dropped together."""
from fastembed.layers.dropout import Dropout


class SpatialDropout1D(Dropout):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def _noise_shape(self, inputs):
        if inputs.ndim != 3:
            raise ValueError(f"Input of layer {self.name!r} must be 3-D (batch, steps, channels), "
                             f"got shape {inputs.shape}")
        return (inputs.shape[0], 1, inputs.shape[2])

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"], config["trainable"]  # as Keras writes it
        return config
