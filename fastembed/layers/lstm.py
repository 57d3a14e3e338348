"""LSTM: Keras's long short-term memory layer on the fused kernels of csrc/lstm.c.

Weights as Keras: kernel (input_dim, 4u), recurrent_kernel (u, 4u), bias (4u),
gates in the order i, f, c, o. A mask (batch, timesteps) carries h and c over
masked steps; with zero_output_for_mask their outputs are zeros instead of
the carried h (Bidirectional sets it, as Keras does). Configuration, states
and dropout as fastembed.layers.base_rnn.
"""
import numpy as np

from fastembed._kernels._core import LSTM_SAVED, lstm_backward, lstm_forward
from fastembed.layers.base_rnn import BaseRNN


class LSTM(BaseRNN):
    STATE_NAMES = ("h", "c")
    FORWARD_KERNEL, SAVED, GATES = staticmethod(lstm_forward), LSTM_SAVED, 4

    def __init__(self, units, unit_forget_bias=True, use_cudnn="auto", implementation=2,
                 **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_cudnn = use_cudnn

    def build(self, input_shape):
        self._build_kernels(input_shape)
        u = self.units
        self._build_bias((4 * u,))
        if self.use_bias:
            if self.unit_forget_bias:
                self.bias.value[:] = np.concatenate([
                    self.bias_initializer((u,)), np.ones(u, np.float32),
                    self.bias_initializer((2 * u,))])
        self.built = True

    def forward(self, context, inputs, training=False, mask=None, initial_state=None):
        x, mask = self._check_inputs(inputs, mask)
        batch, steps, _ = x.shape
        u = self.units
        h0, c0 = self._initial_state(initial_state, batch)
        x, input_mask, rmask = self._dropout_masks(x, training)
        saved = self._saved_buffers(context, x)
        h_seq = np.empty((batch, steps, u), np.float32) if self.return_sequences \
            else context.buffer("h_seq", (batch, steps, u))
        args = self._kernel_args()
        lstm_forward(x, self.kernel.value, self.recurrent_kernel.value,
                     self.bias.value if self.use_bias else None, h0, c0, rmask, mask,
                     h_seq, saved, context.buffer("z_rec", (batch, 4 * u)), *args)
        # The final states, copied only when the layer returns or keeps them.
        states = [h_seq[:, -1].copy(), saved["c_seq"][:, 0 if self.go_backwards else -1].copy()] \
            if self.return_state or self.stateful else []
        outputs, out_keep = self._outputs(h_seq, states, mask)
        context.saved = (x, c0, initial_state is not None, rmask, mask, input_mask, out_keep,
                         saved, args)
        return outputs

    def backward(self, context, output_grads):
        x, c0, states_given, rmask, mask, input_mask, out_keep, saved, args = context.saved
        batch, steps, _ = x.shape
        u = self.units
        dh_seq, (dh_last, dc_last) = self._output_grads(output_grads, out_keep)
        dh0, dc0 = self._state_grads(context, states_given, batch)
        grads = self._weight_grads()
        dx = self._input_grad(context, x)
        lstm_backward(x, self.kernel.value, self.recurrent_kernel.value, c0, rmask, mask, saved,
                      dh_seq, dh_last, dc_last, dx, dh0, dc0, grads[self.kernel],
                      grads[self.recurrent_kernel], grads[self.bias] if self.use_bias else None,
                      context.buffer("dz", (batch, steps, 4 * u)),
                      context.buffer("work", (3, batch, u)), *args)
        return self._apply_grads(grads, dx, input_mask)

    def _kernel_args(self):
        return self.activation.name, self.recurrent_activation.name, self.go_backwards

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config
