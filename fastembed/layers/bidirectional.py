"""Bidirectional: a recurrent layer run forwards and backwards, outputs merged.

As Keras: the backward copy is built from the layer's config with
go_backwards flipped; with return_sequences its output is flipped back in
time before merging, and masked steps output zeros (zero_output_for_mask).
Weights are the forward layer's, then the backward layer's. With
return_state the result is [output(s)..., forward h, c, backward h, c].
The two directions are merged by the merge layers (Concatenate, Add,
Multiply, Average), through their forward and backward.
"""
import numpy as np

from fastembed.engine.layer import Context, Layer
from fastembed.layers.add import Add
from fastembed.layers.average import Average
from fastembed.layers.concatenate import Concatenate
from fastembed.layers.multiply import Multiply

MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_MERGE_LAYERS = {"concat": lambda name: Concatenate(axis=-1, name=name),
                 "sum": lambda name: Add(name=name),
                 "mul": lambda name: Multiply(name=name),
                 "ave": lambda name: Average(name=name)}


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
        # named, so that it takes no default name ("concatenate") from the user's layers
        self._merge_layer = _MERGE_LAYERS[merge_mode](f"{self.name}_merge") \
            if merge_mode is not None else None
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

    def forward(self, context, inputs, training=False, mask=None, initial_state=None):
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        else:
            forward_state = backward_state = None
        if not isinstance(context.saved, tuple):
            context.saved = (Context(), Context(), Context())
        forward_context, backward_context, merge_context = context.saved
        forward_context.needs_input_grad = backward_context.needs_input_grad = \
            context.needs_input_grad
        y = self.forward_layer.forward(forward_context, inputs, training, mask, forward_state)
        y_rev = self.backward_layer.forward(backward_context, inputs, training, mask,
                                            backward_state)
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self._merge_layer is not None:
            merge_context.needs_input_grad = True
            output = [self._merge_layer.forward(merge_context, [y, y_rev])]
        else:
            output = [y, y_rev]
        if not self.return_state and len(output) == 1:
            return output[0]
        return output + states

    def backward(self, context, output_grads):
        forward_context, backward_context, merge_context = context.saved
        n_out = 2 if self.merge_mode is None else 1
        grads = list(output_grads) if (self.return_state or n_out == 2) else [output_grads]
        d_out, d_states = grads[:n_out], grads[n_out:]
        if self._merge_layer is None:
            d_fwd, d_bwd = d_out
        elif d_out[0] is None:  # only the states are used
            d_fwd = d_bwd = None
        else:
            d_fwd, d_bwd = self._merge_layer.backward(merge_context, d_out[0])
        if self.return_sequences and d_bwd is not None:
            d_bwd = d_bwd[:, ::-1]
        d_fwd, d_bwd = (None if g is None else np.ascontiguousarray(g, dtype=np.float32)
                        for g in (d_fwd, d_bwd))
        if self.return_state:
            half = len(d_states) // 2
            d_fwd = [d_fwd] + list(d_states[:half])
            d_bwd = [d_bwd] + list(d_states[half:])
        dx = self.forward_layer.backward(forward_context, d_fwd)
        dx_rev = self.backward_layer.backward(backward_context, d_bwd)
        context.kwarg_grads = None
        if forward_context.kwarg_grads is not None:
            context.kwarg_grads = {"initial_state": forward_context.kwarg_grads["initial_state"]
                                   + backward_context.kwarg_grads["initial_state"]}
        return dx + dx_rev if context.needs_input_grad else None

    def check_graph_kwargs(self, input_shape, kwarg_shapes):
        """initial_state: the forward layer's states, then the backward layer's."""
        shapes = kwarg_shapes.get("initial_state")
        if isinstance(shapes, list) and len(shapes) % 2 == 0 and len(kwarg_shapes) == 1:
            half = len(shapes) // 2
            self.forward_layer.check_graph_kwargs(input_shape, {"initial_state": shapes[:half]})
            self.backward_layer.check_graph_kwargs(input_shape, {"initial_state": shapes[half:]})
            return
        if shapes is not None and len(kwarg_shapes) == 1:
            raise ValueError(f"initial_state of layer {self.name!r} must be a list of the "
                             f"forward layer's states then the backward layer's, got {shapes}")
        super().check_graph_kwargs(input_shape, kwarg_shapes)

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
        from fastembed.saving.serialization import serialize_layer
        config = super().get_config()
        config.update({"merge_mode": self.merge_mode,
                       "layer": serialize_layer(self.forward_layer),
                       "backward_layer": serialize_layer(self.backward_layer)})
        return config

    @classmethod
    def from_config(cls, config):
        from fastembed.saving.serialization import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        backward = deserialize_layer(backward) if backward is not None else None
        return cls(layer, backward_layer=backward, **config)
