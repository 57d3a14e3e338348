"""BaseRNN: what Keras's recurrent layers (LSTM, GRU) share in fastembed.

Config (units, activations, initializers, dropout, return_sequences,
return_state, go_backwards, stateful), input and mask checks, initial and
stateful states, output shapes and masks. Subclasses name their states
(STATE_NAMES) and run their kernel in forward/backward.

Dropout follows Keras: one input mask per sample shared by every step and
gate. Recurrent dropout uses one mask per sample shared by the gates (Keras
2's implementation=2); Keras 3 draws a separate mask per gate.
"""
import numpy as np

from fastembed import activations as activations_module
from fastembed import initializers as initializers_module
from fastembed._kernels._core import RNN_ACTIVATIONS
from fastembed.engine.layer import (Context, Layer, sequence_features, set_weight_options,
                                    weight_options_config)
from fastembed.utils.random import generator


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return min(1.0, max(0.0, float(value)))


def _dropout_mask(rng, shape, rate):
    """Keras's inverted dropout multipliers: 0 with probability rate, else 1/(1-rate)."""
    keep = rng.random(shape) >= rate
    return (keep / np.float32(1.0 - rate)).astype(np.float32)


class BaseRNN(Layer):
    supports_masking = True
    STATE_NAMES = ("h",)
    # Per subclass: its forward kernel (x, kernel, recurrent_kernel, bias,
    # one array or None per state, rmask, mask, h_seq, saved, work, *args),
    # the buffers it saves ((name, width) for (batch, steps, width * units))
    # and its gates per unit (work is (batch, gates * units)).
    FORWARD_KERNEL = SAVED = GATES = None

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        layer_class = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        set_weight_options(self, kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        # Keras 2: LSTM(units, input_dim=..., input_length=...) declares (steps, features).
        input_dim, input_length = kwargs.pop("input_dim", None), kwargs.pop("input_length", None)
        if input_dim is not None and "input_shape" not in kwargs \
                and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.recurrent_activation = activations_module.get(recurrent_activation)
        for argument, value in (("activation", self.activation),
                                ("recurrent_activation", self.recurrent_activation)):
            if value.name not in RNN_ACTIVATIONS:
                raise ValueError(f"{layer_class} supports {argument} in "
                                 f"{sorted(RNN_ACTIVATIONS)}, got {value.name!r}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.recurrent_initializer = initializers_module.get(recurrent_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.dropout = _rate("dropout", dropout)
        self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted for compatibility; the results are the same
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None

    # ---- weights -----------------------------------------------------------
    def _build_kernels(self, input_shape):
        """kernel (input_dim, GATES * units) and recurrent_kernel (units,
        GATES * units); the initial states of a stateful layer."""
        input_dim = sequence_features(self, input_shape)
        width = self.GATES * self.units
        self.kernel = self.add_weight("kernel", (input_dim, width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.stateful and input_shape[0] is not None:
            self._init_states(input_shape[0])

    def _build_bias(self, shape):
        self.bias = self.add_weight("bias", shape, self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def _weight_grads(self):
        """Arrays for the kernel's weight gradients: {variable: array}."""
        return {variable: np.empty(variable.shape, np.float32) for variable in self.weights}

    def _saved_buffers(self, context, x):
        """This call site's buffers of the activations the kernel keeps for
        backward: {name: (batch, steps, width * units)} for (name, width) in
        SAVED, reused while batch and steps hold."""
        shape = x.shape[:2]
        held = context.workspace.get("saved")
        if held is None or held[0] != shape:
            held = context.workspace["saved"] = (shape, {
                name: np.empty(shape + (width * self.units,), np.float32)
                for name, width in self.SAVED})
        return held[1]

    @staticmethod
    def _input_grad(context, x):
        """The array backward fills with dL/dx, or None if no one needs it."""
        return np.empty(x.shape, np.float32) if context.needs_input_grad else None

    def _apply_grads(self, grads, dx, input_mask):
        """Add the weight gradients wanted; dx (or None) through the input dropout."""
        for variable, grad in grads.items():
            if self.wants_grad(variable):
                variable.add_grad(grad)
        if dx is not None and input_mask is not None:
            dx *= input_mask[:, None, :]
        return dx

    # ---- the kernel ----------------------------------------------------------
    def _kernel_args(self):
        """The arguments the subclass's kernels take after their buffers
        (activations, direction), in their order."""
        raise NotImplementedError

    def inference_call(self, inputs):
        if self.stateful or self.return_state:  # states change per call; several outputs
            return None
        x, _ = self._check_inputs(inputs, None)
        batch, steps, _ = x.shape
        saved = self._saved_buffers(Context(), x)
        h_seq = np.empty((batch, steps, self.units), np.float32)
        z_rec = np.empty((batch, self.GATES * self.units), np.float32)
        kernel, recurrent, bias = self.kernel, self.recurrent_kernel, self.bias
        forward_kernel, args = self.FORWARD_KERNEL, self._kernel_args()
        no_states = (None,) * (len(self.STATE_NAMES) + 2)  # initial states, rmask, mask
        output = h_seq if self.return_sequences else h_seq[:, -1]

        def call(inputs):
            forward_kernel(np.ascontiguousarray(inputs, np.float32), kernel.value,
                           recurrent.value, None if bias is None else bias.value, *no_states,
                           h_seq, saved, z_rec, *args)
            return output
        return call

    # ---- states ------------------------------------------------------------
    def _init_states(self, batch):
        self.states = [np.zeros((batch, self.units), np.float32) for _ in self.STATE_NAMES]

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            for state in self.states:
                state[...] = 0.0

    def _initial_state(self, initial_state, batch):
        """The states to start from: initial_state's, the stateful ones, or Nones (zeros)."""
        count = len(self.STATE_NAMES)
        if initial_state is not None:
            if count == 1 and not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state]
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) != count:
                raise ValueError(f"initial_state of layer {self.name!r} must be a list of "
                                 f"{count} state(s) {list(self.STATE_NAMES)}, got "
                                 f"{initial_state!r}")
            states = [np.ascontiguousarray(s, dtype=np.float32) for s in initial_state]
            for name, s in zip(self.STATE_NAMES, states):
                if s.shape != (batch, self.units):
                    raise ValueError(f"initial_state {name} must have shape "
                                     f"{(batch, self.units)}, got {s.shape}")
            return states
        if not self.stateful:
            return [None] * count
        if self.states is None:
            self._init_states(batch)
        if self.states[0].shape[0] != batch:
            raise ValueError(f"If an RNN is stateful, the batch size of the input sequences "
                             f"must be the same as the batch size of the initial state. "
                             f"Expected batch size: {self.states[0].shape[0]}, received: {batch}")
        return [s.copy() for s in self.states]

    def check_graph_kwargs(self, input_shape, kwarg_shapes):
        """initial_state in a graph: one (batch, units) tensor per state."""
        if set(kwarg_shapes) - {"initial_state"}:
            super().check_graph_kwargs(input_shape, kwarg_shapes)
        shapes = kwarg_shapes["initial_state"]
        shapes = shapes if isinstance(shapes, list) else [shapes]
        if len(shapes) != len(self.STATE_NAMES):
            raise ValueError(f"initial_state of layer {self.name!r} must be a list of "
                             f"{len(self.STATE_NAMES)} state(s) {list(self.STATE_NAMES)}, got "
                             f"{len(shapes)} tensor(s)")
        for name, shape in zip(self.STATE_NAMES, shapes):
            if tuple(shape[1:]) != (self.units,) or len(shape) != 2:
                raise ValueError(f"initial_state {name} of layer {self.name!r} must have shape "
                                 f"(batch, {self.units}), got {tuple(shape)}")

    def _state_grads(self, context, states_given, batch):
        """Arrays for the gradients of the initial_state given to this call
        when they are needed (recorded in context.kwarg_grads), else Nones."""
        context.kwarg_grads = None
        if not (states_given and context.needs_input_grad):
            return [None] * len(self.STATE_NAMES)
        grads = [np.empty((batch, self.units), np.float32) for _ in self.STATE_NAMES]
        context.kwarg_grads = {"initial_state": grads}
        return grads

    # ---- forward helpers ---------------------------------------------------
    def _check_inputs(self, inputs, mask):
        x = inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)
        if x.ndim != 3:
            raise ValueError(f"Input of layer {self.name!r} must have rank 3 (batch, timesteps, "
                             f"features), got shape {x.shape}")
        input_dim = self.kernel.value.shape[0]
        if x.shape[2] != input_dim:
            raise ValueError(f"Input of layer {self.name!r} must have {input_dim} features "
                             f"(the kernel was built for them), got shape {x.shape}")
        if x.dtype.kind not in "fiub":
            raise TypeError(f"Input of layer {self.name!r} must be numeric, got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != x.shape[:2]:
                raise ValueError(f"mask of layer {self.name!r} must have shape (batch, timesteps) "
                                 f"= {x.shape[:2]}, got {mask.shape}")
            mask = np.ascontiguousarray(mask, dtype=bool)
            mask = None if mask.all() else mask.view(np.uint8)
        return x, mask

    def _dropout_masks(self, x, training):
        """(x after input dropout, the input mask or None, the recurrent mask or None)."""
        input_mask = rmask = None
        if not training:
            return x, input_mask, rmask
        batch, _, input_dim = x.shape
        rng = self._rng or generator()
        if 0.0 < self.dropout < 1.0:
            input_mask = _dropout_mask(rng, (batch, input_dim), self.dropout)
            x = x * input_mask[:, None, :]
        if 0.0 < self.recurrent_dropout < 1.0:
            rmask = _dropout_mask(rng, (batch, self.units), self.recurrent_dropout)
        return x, input_mask, rmask

    def _outputs(self, h_seq, states, mask):
        """The layer's outputs from h_seq (processing order) and the final states;
        also the steps whose output is zeroed (zero_output_for_mask), or None."""
        if self.stateful:
            self.states = [s.copy() for s in states]
        out_keep = None
        if mask is not None and self.zero_output_for_mask:
            out_keep = mask[:, ::-1] if self.go_backwards else mask
            h_seq = h_seq * out_keep[:, :, None]
        output = h_seq if self.return_sequences else h_seq[:, -1].copy()
        return ([output] + list(states) if self.return_state else output), out_keep

    def _output_grads(self, output_grads, out_keep):
        """(dh_seq or None, the gradients of the final states (None for none))."""
        if self.return_state:
            d_out, *d_states = (None if g is None else np.asarray(g, np.float32)
                                for g in output_grads)
        else:
            d_out, d_states = np.asarray(output_grads, np.float32), [None] * len(self.STATE_NAMES)
        dh_seq = None
        if d_out is not None and self.return_sequences:
            dh_seq = np.ascontiguousarray(d_out * out_keep[:, :, None] if out_keep is not None
                                          else d_out)
        elif d_out is not None:
            if out_keep is not None:
                d_out = d_out * out_keep[:, -1, None]
            d_states[0] = d_out if d_states[0] is None else d_out + d_states[0]
        return dh_seq, [None if g is None else np.ascontiguousarray(g) for g in d_states]

    # ---- shapes, masks, config ---------------------------------------------
    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * len(self.STATE_NAMES)
        return output

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.STATE_NAMES)
        return output_mask

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": self.activation.name,
            "recurrent_activation": self.recurrent_activation.name,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers_module.serialize(self.recurrent_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            **weight_options_config(self, "kernel_regularizer", "recurrent_regularizer",
                                    "bias_regularizer", "kernel_constraint",
                                    "recurrent_constraint", "bias_constraint"),
        })
        config.setdefault("activity_regularizer", None)  # Keras writes it
        return config
