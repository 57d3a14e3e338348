"""CategoryEncoding: integer category ids to one-hot, multi-hot or count
vectors, as Keras's CategoryEncoding; encode_categorical is the shared
encoder of the lookup and hashing layers."""
import numpy as np

from fastembed.engine.layer import Layer
from fastembed.engine.node import is_symbolic

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def encode_categorical(ids, output_mode, depth, count_weights=None):
    """Keras's encode_categorical_inputs on int64 ids in numpy: "one_hot"
    adds a depth axis (replacing a last axis of size 1); "multi_hot" and
    "count" reduce the last axis (the sample's values) to a depth axis.
    Ids outside [0, depth) (a masked value) add nothing. float32 out."""
    ids = np.asarray(ids)
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        rows, samples = ids.shape, ids.reshape(-1, 1)
    else:
        rows, samples = ids.shape[:-1], ids.reshape(-1, ids.shape[-1])
    n_rows = samples.shape[0]
    valid = (samples >= 0) & (samples < depth)
    flat = (np.arange(n_rows, dtype=np.int64)[:, None] * depth + samples)[valid]
    weights = None
    if count_weights is not None:
        weights = np.broadcast_to(np.asarray(count_weights, np.float64).reshape(samples.shape),
                                  samples.shape)[valid]
    out = np.bincount(flat, weights=weights, minlength=n_rows * depth)
    if output_mode != "count":
        out = np.minimum(out, 1)
    return out.astype(np.float32).reshape(rows + (depth,))


def encoded_shape(input_shape, output_mode, depth):
    """Output shape of encode_categorical for inputs of input_shape."""
    input_shape = tuple(input_shape)
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


class NoGradientMixin:
    """A preprocessing layer: no weights, and nothing to differentiate (its
    inputs are data), so backward returns no input gradient. Layers that
    read strings say so with takes_strings (a model lets string data reach them)."""
    takes_strings = False

    def __call__(self, inputs, *args, **kwargs):
        """Lists are data (Keras's preprocessing layers take them), not
        several inputs: one object array, so mixed types stay visible."""
        if isinstance(inputs, (list, tuple)) and not is_symbolic(inputs):
            inputs = np.asarray(inputs, dtype=object)
        return super().__call__(inputs, *args, **kwargs)

    def backward(self, context, output_grads):
        return None


class CategoryEncoding(NoGradientMixin, Layer):
    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, (int, np.integer)) \
                or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("`sparse=True` is not supported: fastembed's outputs are dense "
                             "numpy arrays")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = sparse

    def __call__(self, inputs, *args, count_weights=None, **kwargs):
        if count_weights is None:
            return super().__call__(inputs, *args, **kwargs)
        if isinstance(inputs, (list, tuple)):
            inputs = np.asarray(inputs, dtype=object)
        return self.call(inputs, count_weights)

    def call(self, inputs, count_weights=None):
        ids = np.asarray(inputs)
        if ids.dtype == object:
            ids = np.asarray(ids.tolist())
        if ids.dtype.kind not in "iuf" or (ids.dtype.kind == "f" and not np.all(ids == np.floor(ids))):
            raise TypeError(f"CategoryEncoding {self.name!r}: inputs must be integer category "
                            f"ids, got dtype {ids.dtype}")
        ids = ids.astype(np.int64)
        bad = (ids < 0) | (ids >= self.num_tokens)
        if bad.any():
            p = np.unravel_index(int(np.argmax(bad)), ids.shape)
            raise IndexError(f"CategoryEncoding {self.name!r}: inputs[{','.join(map(str, p))}] = "
                             f"{ids[p]} is not in [0, num_tokens={self.num_tokens})")
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                             f"Received `count_weights={count_weights}`.")
        return encode_categorical(ids, self.output_mode, self.num_tokens, count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        config = super().get_config()
        config.update(num_tokens=self.num_tokens, output_mode=self.output_mode,
                      sparse=self.sparse)
        return config
