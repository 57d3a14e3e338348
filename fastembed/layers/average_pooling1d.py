"""Average pooling over windows of pool_size steps (Keras's AveragePooling1D);
with padding 'same' a window averages only its real steps."""
from fastembed.layers.base_pooling1d import WindowPooling1D


class AveragePooling1D(WindowPooling1D):
    mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
