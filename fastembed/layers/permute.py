"""Permute: reorders the non-batch axes (keras.layers.Permute).

dims are 1-based as in Keras: Permute((2, 1)) swaps the two axes after the
batch axis. As in Keras 3, Permute does not support masking: the output
has no mask.
"""
import numpy as np

from fastembed.engine.layer import Layer


class Permute(Layer):
    def __init__(self, dims, **kwargs):
        try:
            dims = tuple(dims)
        except TypeError:
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer: it must "
                             f"be a tuple of integers. Received dims={dims!r}") from None
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims) \
                or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set "
                             f"of indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims!r}")
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)

    def _check(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"Permute layer {self.name!r} with dims={self.dims} expects inputs "
                             f"of rank {len(self.dims) + 1}, got input shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        self._check(x.shape)
        return np.ascontiguousarray(x.transpose((0,) + self.dims))

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        inverse = np.argsort((0,) + self.dims)
        return np.ascontiguousarray(np.asarray(output_grads, dtype=np.float32)
                                    .transpose(inverse))

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
