"""Embedding: turns integer ids into dense vectors (a trainable lookup table)."""
import numpy as np

from fastembed import _kernels
from fastembed import initializers as initializers_module
from fastembed.engine.layer import Layer, set_weight_options, weight_options_config
from fastembed.engine.variable import RowGrad, Variable


def _positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{argument}` must be a positive integer. Received: "
                         f"{argument}={value!r}")
    return int(value)


class Embedding(Layer):
    """Keras's Embedding: (batch, ...) integer ids -> (batch, ..., output_dim).

    Keras 2 spellings are accepted: `input_length=` declares the sequence
    length, `weights=[matrix]` sets the initial table (Keras 3 also takes the
    matrix itself), `trainable=False` freezes it. `sparse=True` updates only
    the rows a batch touched (lazy optimizer state), the fast path for large
    tables; the default keeps Keras's dense-update numbers. With sparse=True
    the embeddings regularizer and constraint apply to the rows a step
    touched (the lazy counterpart of Keras's whole-table penalty and
    projection).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None,
                 mask_zero=False, weights=None, sparse=False, input_length=None,
                 **kwargs):
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        set_weight_options(self, embeddings_regularizer=embeddings_regularizer,
                           embeddings_constraint=embeddings_constraint)
        if input_length is not None:
            input_length = _positive_int(input_length, "input_length")
            kwargs.setdefault("batch_input_shape", (None, input_length))
        super().__init__(**kwargs)
        self.input_length = input_length
        self.embeddings_initializer = initializers_module.get(embeddings_initializer)
        self.mask_zero = bool(mask_zero)
        self.sparse = bool(sparse)
        self.supports_masking = self.mask_zero
        self._initial_weights = self._check_initial_weights(weights)

    def _check_initial_weights(self, weights):
        if weights is None:
            return None
        if isinstance(weights, (list, tuple)):
            if len(weights) != 1:
                raise ValueError(f"Embedding `weights` must be [matrix], got a list of "
                                 f"{len(weights)} arrays")
            weights = weights[0]
        matrix = np.asarray(weights)
        expected = (self.input_dim, self.output_dim)
        if matrix.shape != expected:
            raise ValueError(f"Embedding `weights` must have shape {expected} "
                             f"(input_dim, output_dim), got {matrix.shape}")
        if not np.issubdtype(matrix.dtype, np.number) or not np.isfinite(matrix).all():
            raise ValueError("Embedding `weights` must hold finite numbers")
        return matrix

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, lazy=self.sparse,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            self.embeddings.assign(self._initial_weights)
            self._initial_weights = None
        self.built = True

    def forward(self, context, inputs, training=False, mask=None):
        indices = context.saved = _kernels.as_indices(inputs, self.input_dim, name="indices")
        return self.embeddings.gather(indices)

    def inference_call(self, inputs):
        table = self.embeddings
        if self.mask_zero or type(table) is not Variable:  # a mask; a ShardedTable's gather
            return None
        out = np.empty(np.shape(inputs) + (self.output_dim,), np.float32)
        return lambda indices: _kernels.gather(table.value_for_gather(indices), indices, out)

    def backward(self, context, output_grads):
        if self.wants_grad(self.embeddings):
            self.embeddings.add_grad(RowGrad(*_kernels.embedding_grad(
                output_grads, context.saved, self.input_dim)))
        return None

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return np.asarray(inputs) != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers_module.serialize(self.embeddings_initializer),
            "mask_zero": self.mask_zero,
            **weight_options_config(self, "embeddings_regularizer", "embeddings_constraint"),
            "quantization_config": None,
        })
        config.setdefault("activity_regularizer", None)  # Keras writes it
        if self.sparse:  # fastembed's own argument: Keras refuses it by name
            config["sparse"] = True
        if self.input_length is not None:
            config["input_length"] = self.input_length
            config.pop("batch_input_shape", None)
        return config
