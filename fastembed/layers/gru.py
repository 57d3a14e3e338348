"""GRU: Keras's gated recurrent unit on the fused kernels of csrc/gru.c.

Weights as Keras 3: kernel (input_dim, 3u), recurrent_kernel (u, 3u), gates
in the order z, r, h; bias (2, 3u) (input and recurrent rows) with
reset_after=True, the default of Keras 3 and TF2, or (3u,) with
reset_after=False (older files). A mask carries h over masked steps.
Configuration, states and dropout as fastembed.layers.base_rnn.
"""
import numpy as np

from fastembed._kernels._core import GRU_SAVED, gru_backward, gru_forward
from fastembed.layers.base_rnn import BaseRNN


class GRU(BaseRNN):
    STATE_NAMES = ("h",)
    FORWARD_KERNEL, SAVED, GATES = staticmethod(gru_forward), GRU_SAVED, 3

    def __init__(self, units, reset_after=True, use_cudnn="auto", implementation=2, **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)
        self.use_cudnn = use_cudnn

    def build(self, input_shape):
        self._build_kernels(input_shape)
        u = self.units
        self._build_bias((2, 3 * u) if self.reset_after else (3 * u,))
        self.built = True

    def forward(self, context, inputs, training=False, mask=None, initial_state=None):
        x, mask = self._check_inputs(inputs, mask)
        batch, steps, _ = x.shape
        u = self.units
        (h0,) = self._initial_state(initial_state, batch)
        x, input_mask, rmask = self._dropout_masks(x, training)
        saved = self._saved_buffers(context, x)
        # Backward reads h_seq: it is never handed out to be changed in place
        # but as the layer's own output.
        h_seq = np.empty((batch, steps, u), np.float32)
        args = self._kernel_args()
        gru_forward(x, self.kernel.value, self.recurrent_kernel.value,
                    self.bias.value if self.use_bias else None, h0, rmask, mask, h_seq, saved,
                    context.buffer("z_rec", (batch, 3 * u)), *args)
        outputs, out_keep = self._outputs(h_seq, [h_seq[:, -1].copy()], mask)
        context.saved = (x, h0, initial_state is not None, rmask, mask, input_mask, out_keep,
                         h_seq, saved, args)
        return outputs

    def backward(self, context, output_grads):
        x, h0, states_given, rmask, mask, input_mask, out_keep, h_seq, saved, args = \
            context.saved
        batch, steps, _ = x.shape
        u = self.units
        dh_seq, (dh_last,) = self._output_grads(output_grads, out_keep)
        (dh0,) = self._state_grads(context, states_given, batch)
        grads = self._weight_grads()
        dx = self._input_grad(context, x)
        gru_backward(x, self.kernel.value, self.recurrent_kernel.value, h0, rmask, mask, h_seq,
                     saved, dh_seq, dh_last, dx, dh0, grads[self.kernel],
                     grads[self.recurrent_kernel], grads[self.bias] if self.use_bias else None,
                     context.buffer("dz", (batch, steps, 3 * u)),
                     context.buffer("dh_in", (batch, steps, u)) if self.reset_after else None,
                     context.buffer("work", (3, batch, u)), *args)
        return self._apply_grads(grads, dx, input_mask)

    def _kernel_args(self):
        return (self.activation.name, self.recurrent_activation.name, self.go_backwards,
                self.reset_after)

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
