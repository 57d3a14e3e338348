"""Bidirectional: a recurrent layer run forwards and backwards, outputs merged.

As Keras: the backward copy is built from the layer's config with
go_backwards flipped; with return_sequences its output is flipped back in
time before merging, and masked steps output zeros (zero_output_for_mask).
Weights are the forward layer's, then the backward layer's. With
return_state the result is [output(s)..., forward h, c, backward h, c].
"""
import numpy as np

from fastembed.layers.layer import Layer

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional needs a recurrent Layer instance, got {layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.merge_mode = merge_mode
        config = layer.get_config()
        self.forward_layer = type(layer).from_config(
            {**config, "name": "forward_" + layer.name.removeprefix("forward_")})
        if backward_layer is None:
            backward_layer = type(layer).from_config(
                {**config, "go_backwards": not config["go_backwards"],
                 "name": "backward_" + layer.name.removeprefix("backward_")})
        self.backward_layer = backward_layer
        if self.forward_layer.go_backwards == backward_layer.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` values")
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(self.forward_layer, attribute) != getattr(backward_layer, attribute):
                raise ValueError(f"Forward layer and backward layer are expected to have the "
                                 f"same value for attribute {attribute!r}")
        for sub in (self.forward_layer, backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self._initial_weights = weights
        if self.batch_input_shape is None:  # Bidirectional(LSTM(..., input_shape=...))
            self.batch_input_shape = layer.batch_input_shape

    def build(self, input_shape):
        self.forward_layer.build_for(input_shape)
        self.backward_layer.build_for(input_shape)
        self._weights = self.forward_layer.weights + self.backward_layer.weights
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
        self.built = True

    def call(self, inputs, training=False, mask=None, initial_state=None):
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        else:
            forward_state = backward_state = None
        y = self.forward_layer(inputs, training=training, mask=mask, initial_state=forward_state)
        y_rev = self.backward_layer(inputs, training=training, mask=mask,
                                    initial_state=backward_state)
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        self._merged = (y, y_rev)
        if self.merge_mode == "concat":
            output = [np.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) / np.float32(2)]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if not self.return_state and len(output) == 1:
            return output[0]
        return output + states

    def __call__(self, inputs, training=False, mask=None, initial_state=None):
        inputs = inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)
        if not self.built:
            self.build_for((None,) + inputs.shape[1:])
        return self.call(inputs, training=training, mask=mask, initial_state=initial_state)

    def backward(self, grad_output, input_grad=True):
        y, y_rev = self._merged
        n_out = 2 if self.merge_mode is None else 1
        grads = list(grad_output) if (self.return_state or n_out == 2) else [grad_output]
        d_out, d_states = grads[:n_out], grads[n_out:]
        if self.merge_mode == "concat":
            units = y.shape[-1]
            d_fwd, d_bwd = d_out[0][..., :units], d_out[0][..., units:]
        elif self.merge_mode == "sum":
            d_fwd = d_bwd = d_out[0]
        elif self.merge_mode == "ave":
            d_fwd = d_bwd = d_out[0] / np.float32(2)
        elif self.merge_mode == "mul":
            d_fwd, d_bwd = d_out[0] * y_rev, d_out[0] * y
        else:
            d_fwd, d_bwd = d_out
        if self.return_sequences:
            d_bwd = d_bwd[:, ::-1]
        d_fwd, d_bwd = (np.ascontiguousarray(g, dtype=np.float32) for g in (d_fwd, d_bwd))
        if self.return_state:
            half = len(d_states) // 2
            d_fwd = [d_fwd] + list(d_states[:half])
            d_bwd = [d_bwd] + list(d_states[half:])
        dx = self.forward_layer.backward(d_fwd, input_grad=input_grad)
        dx_rev = self.backward_layer.backward(d_bwd, input_grad=input_grad)
        return dx + dx_rev if input_grad else None

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def compute_output_shape(self, input_shape):
        output_shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        if self.merge_mode == "concat":
            outputs = [tuple(output_shape[:-1]) + (2 * output_shape[-1],)]
        elif self.merge_mode is None:
            outputs = [output_shape, output_shape]
        else:
            outputs = [output_shape]
        if not self.return_state and len(outputs) == 1:
            return outputs[0]
        return outputs + state_shapes + state_shapes

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        masks = [output_mask] * (2 if self.merge_mode is None else 1)
        if self.return_state:
            masks += [None] * 4
        return masks[0] if len(masks) == 1 else masks

    def get_config(self):
        config = super().get_config()
        config.update({
            "layer": {"class_name": type(self.layer).__name__, "config": self.layer.get_config()},
            "merge_mode": self.merge_mode,
        })
        return config

    @classmethod
    def from_config(cls, config):
        from fastembed import layers

        config = dict(config)
        inner = config.pop("layer")
        layer = getattr(layers, inner["class_name"]).from_config(inner["config"])
        return cls(layer, **config)
