"""TimeDistributed: one layer applied to every step of a (batch, steps, ...) input.

The steps are folded into the batch, so the wrapped layer runs once on
(batch * steps, ...): TimeDistributed(Dense) is a single GEMM. The wrapped
layer receives the mask per step when it consumes masks; the output keeps the
input's mask, as in Keras.
"""
import numpy as np

from fastembed.engine.layer import Context, Layer


class TimeDistributed(Layer):
    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a Layer instance. "
                             f"Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        if self.batch_input_shape is None:
            self.batch_input_shape = layer.batch_input_shape

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with "
                             f"at least 3 dimensions, received: {input_shape}")
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        try:
            self.layer.build_for(child)
        except ValueError as error:
            raise ValueError(f"TimeDistributed {self.name!r}: the wrapped layer "
                             f"{self.layer.name!r} cannot take the per-step shape {child} of "
                             f"input {tuple(input_shape)}: {error}") from None
        self.built = True

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(tuple(input_shape)))
        return (input_shape[0], input_shape[1]) + tuple(child[1:])

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs)
        if x.ndim < 3:
            raise ValueError(f"Input of layer {self.name!r} must have at least 3 dimensions "
                             f"(batch, steps, ...), got shape {x.shape}")
        batch, steps = x.shape[:2]
        inner_mask = None
        if mask is not None and self.layer.supports_masking:
            inner_mask = np.asarray(mask).reshape((batch * steps,) + np.shape(mask)[2:])
        if not isinstance(context.saved, Context):
            context.saved = Context()
        inner = context.saved
        inner.needs_input_grad = context.needs_input_grad
        y = self.layer.forward(inner, x.reshape((batch * steps,) + x.shape[2:]),
                               training=training, mask=inner_mask)
        return y.reshape((batch, steps) + y.shape[1:])

    def backward(self, context, output_grads):
        g = np.asarray(output_grads, np.float32)
        batch, steps = g.shape[:2]
        dx = self.layer.backward(context.saved, g.reshape((batch * steps,) + g.shape[2:]))
        return None if dx is None else dx.reshape((batch, steps) + dx.shape[1:])

    def get_config(self):
        from fastembed.saving.serialization import serialize_layer
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)  # with its module, as Keras reads it
        return config

    @classmethod
    def from_config(cls, config):
        from fastembed.saving import deserialize_layer

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)

    @property
    def weights(self):
        return self.layer.weights

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return self.layer.weights if not self.trainable else self.layer.non_trainable_weights

    def wants_grad(self, variable):
        return self.trainable and self.layer.wants_grad(variable)
