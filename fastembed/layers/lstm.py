"""LSTM: Keras's long short-term memory layer on the fused kernels of csrc/lstm.c.

Weights as Keras: kernel (input_dim, 4u), recurrent_kernel (u, 4u), bias (4u),
gates in the order i, f, c, o. A mask (batch, timesteps) carries h and c over
masked steps; with zero_output_for_mask their outputs are zeros instead of
the carried h (Bidirectional sets it, as Keras does).

Dropout follows Keras: one input mask per sample shared by every step and
gate. Recurrent dropout uses one mask per sample shared by the four gates
(Keras 2's implementation=2); Keras 3 draws a separate mask per gate.
"""
import numpy as np

from fastembed import activations as activations_module
from fastembed import initializers as initializers_module
from fastembed._kernels._core import LSTM_ACTIVATIONS, LSTM_SAVED, lstm_backward, lstm_forward
from fastembed.engine.layer import Layer, sequence_features, set_weight_options, weight_options_config
from fastembed.utils.random import generator


def _rate(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return min(1.0, max(0.0, float(value)))


def _dropout_mask(rng, shape, rate):
    """Keras's inverted dropout multipliers: 0 with probability rate, else 1/(1-rate)."""
    keep = rng.random(shape) >= rate
    return (keep / np.float32(1.0 - rate)).astype(np.float32)


class LSTM(Layer):
    supports_masking = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, use_cudnn="auto", implementation=2, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        set_weight_options(self, kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
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
            if value.name not in LSTM_ACTIVATIONS:
                raise ValueError(f"LSTM supports {argument} in {sorted(LSTM_ACTIVATIONS)}, "
                                 f"got {value.name!r}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.recurrent_initializer = initializers_module.get(recurrent_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
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
        self.use_cudnn = use_cudnn
        self.states = None

    # ---- weights -----------------------------------------------------------
    def build(self, input_shape):
        input_dim = sequence_features(self, input_shape)
        u = self.units
        self.kernel = self.add_weight("kernel", (input_dim, 4 * u), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, 4 * u),
                                                self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (4 * u,), self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
            if self.unit_forget_bias:
                self.bias.value[:] = np.concatenate([
                    self.bias_initializer((u,)), np.ones(u, np.float32),
                    self.bias_initializer((2 * u,))])
        if self.stateful and input_shape[0] is not None:
            self._init_states(input_shape[0])
        self.built = True

    def _init_states(self, batch):
        self.states = [np.zeros((batch, self.units), np.float32) for _ in range(2)]

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            for state in self.states:
                state[...] = 0.0

    # ---- forward -----------------------------------------------------------
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

    def _initial_state(self, initial_state, batch):
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
                raise ValueError(f"initial_state must be a list [h, c], got {initial_state!r}")
            states = [np.ascontiguousarray(s, dtype=np.float32) for s in initial_state]
            for name, s in zip(("h", "c"), states):
                if s.shape != (batch, self.units):
                    raise ValueError(f"initial_state {name} must have shape "
                                     f"{(batch, self.units)}, got {s.shape}")
            return states
        if not self.stateful:
            return [None, None]
        if self.states is None:
            self._init_states(batch)
        if self.states[0].shape[0] != batch:
            raise ValueError(f"If an RNN is stateful, the batch size of the input sequences "
                             f"must be the same as the batch size of the initial state. "
                             f"Expected batch size: {self.states[0].shape[0]}, received: {batch}")
        return [s.copy() for s in self.states]

    def forward(self, context, inputs, training=False, mask=None, initial_state=None):
        x, mask = self._check_inputs(inputs, mask)
        batch, steps, input_dim = x.shape
        u = self.units
        h0, c0 = self._initial_state(initial_state, batch)
        rng = self._rng or generator()
        input_mask = None
        if training and 0.0 < self.dropout < 1.0:
            input_mask = _dropout_mask(rng, (batch, input_dim), self.dropout)
            x = x * input_mask[:, None, :]
        rmask = None
        if training and 0.0 < self.recurrent_dropout < 1.0:
            rmask = _dropout_mask(rng, (batch, u), self.recurrent_dropout)
        saved = {name: context.buffer(name, (batch, steps, width * u))
                 for name, width in LSTM_SAVED}
        h_seq = np.empty((batch, steps, u), np.float32) if self.return_sequences \
            else context.buffer("h_seq", (batch, steps, u))
        args = dict(activation=self.activation.name,
                    recurrent_activation=self.recurrent_activation.name,
                    reverse=self.go_backwards)
        lstm_forward(x, self.kernel.value, self.recurrent_kernel.value,
                     self.bias.value if self.use_bias else None, h0, c0, rmask, mask,
                     h_seq, saved, context.buffer("z_rec", (batch, 4 * u)), **args)
        h_last = h_seq[:, -1].copy()
        c_last = saved["c_seq"][:, 0 if self.go_backwards else -1].copy()
        if self.stateful:
            self.states = [h_last.copy(), c_last.copy()]
        # Steps whose output is zeroed (zero_output_for_mask), in processing order;
        # the states still carry over them.
        out_keep = None
        if mask is not None and self.zero_output_for_mask:
            out_keep = mask[:, ::-1] if self.go_backwards else mask
            h_seq *= out_keep[:, :, None]
        context.saved = (x, h0, c0, rmask, mask, input_mask, out_keep, saved, args)
        output = h_seq if self.return_sequences else h_seq[:, -1].copy()
        if self.return_state:
            return [output, h_last, c_last]
        return output

    # ---- backward ----------------------------------------------------------
    def backward(self, context, output_grads):
        x, h0, c0, rmask, mask, input_mask, out_keep, saved, args = context.saved
        batch, steps, input_dim = x.shape
        u = self.units
        if self.return_state:
            d_out, dh_last, dc_last = (None if g is None else np.asarray(g, np.float32)
                                       for g in output_grads)
        else:
            d_out, dh_last, dc_last = np.asarray(output_grads, np.float32), None, None
        dh_seq = None
        if d_out is not None and self.return_sequences:
            dh_seq = np.ascontiguousarray(d_out * out_keep[:, :, None] if out_keep is not None
                                          else d_out)
        elif d_out is not None:
            if out_keep is not None:
                d_out = d_out * out_keep[:, -1, None]
            dh_last = d_out if dh_last is None else d_out + dh_last
        grads = {variable: np.empty(variable.shape, np.float32) for variable in self.weights}
        dx = np.empty((batch, steps, input_dim), np.float32) \
            if context.needs_input_grad else None
        lstm_backward(x, self.kernel.value, self.recurrent_kernel.value, c0, rmask, mask, saved,
                      dh_seq, None if dh_last is None else np.ascontiguousarray(dh_last),
                      None if dc_last is None else np.ascontiguousarray(dc_last),
                      dx, grads[self.kernel], grads[self.recurrent_kernel],
                      grads[self.bias] if self.use_bias else None,
                      context.buffer("dz", (batch, steps, 4 * u)),
                      context.buffer("work", (3, batch, u)), **args)
        for variable, grad in grads.items():
            if self.wants_grad(variable):
                variable.add_grad(grad)
        if dx is not None and input_mask is not None:
            dx *= input_mask[:, None, :]
        return dx

    # ---- shapes, masks, config ---------------------------------------------
    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output, (batch, self.units), (batch, self.units)]
        return output

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

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
            "unit_forget_bias": self.unit_forget_bias,
            **dict.fromkeys(("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                             "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                             "bias_constraint")),
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
