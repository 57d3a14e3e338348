"""Maximum over steps (Keras's GlobalMaxPooling1D); the gradient goes to the
first maximum. As in Keras 3, an incoming mask is dropped."""
from fastembed.layers.base_pooling1d import GlobalPooling1D


class GlobalMaxPooling1D(GlobalPooling1D):
    mode = "max"
    gives_max_step_grads = True
