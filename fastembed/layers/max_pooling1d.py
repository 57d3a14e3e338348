"""Max pooling over windows of pool_size steps moved by strides (Keras's
MaxPooling1D); padding 'same' pads with -inf."""
from fastembed.layers.base_pooling1d import WindowPooling1D


class MaxPooling1D(WindowPooling1D):
    mode = "max"
