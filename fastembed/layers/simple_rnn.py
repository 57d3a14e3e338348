"""SimpleRNN: Keras's fully connected recurrent layer on csrc/simple_rnn.c.

h_t = activation(x W + h_{t-1} R + b); weights as Keras: kernel
(input_dim, u), recurrent_kernel (u, u), bias (u). A mask carries h over
masked steps. Configuration, states and dropout as fastembed.layers.base_rnn.
"""
import numpy as np

from fastembed._kernels._core import SIMPLE_RNN_SAVED, simple_rnn_backward, simple_rnn_forward
from fastembed.layers.base_rnn import BaseRNN


class SimpleRNN(BaseRNN):
    STATE_NAMES = ("h",)
    FORWARD_KERNEL, SAVED, GATES = staticmethod(simple_rnn_forward), SIMPLE_RNN_SAVED, 1

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN has no recurrent_activation argument; got "
                            f"recurrent_activation={kwargs['recurrent_activation']!r}")
        super().__init__(units, activation=activation, **kwargs)

    def build(self, input_shape):
        self._build_kernels(input_shape)
        self._build_bias((self.units,))
        self.built = True

    def forward(self, context, inputs, training=False, mask=None, initial_state=None):
        x, mask = self._check_inputs(inputs, mask)
        batch, steps, _ = x.shape
        u = self.units
        (h0,) = self._initial_state(initial_state, batch)
        x, input_mask, rmask = self._dropout_masks(x, training)
        saved = self._saved_buffers(context, x)
        h_seq = np.empty((batch, steps, u), np.float32)
        args = self._kernel_args()
        simple_rnn_forward(x, self.kernel.value, self.recurrent_kernel.value,
                           self.bias.value if self.use_bias else None, h0, rmask, mask, h_seq,
                           saved, context.buffer("z_rec", (batch, u)), *args)
        outputs, out_keep = self._outputs(h_seq, [h_seq[:, -1].copy()], mask)
        context.saved = (x, initial_state is not None, rmask, mask, input_mask, out_keep, saved,
                         args)
        return outputs

    def backward(self, context, output_grads):
        x, states_given, rmask, mask, input_mask, out_keep, saved, args = context.saved
        batch, steps, _ = x.shape
        u = self.units
        dh_seq, (dh_last,) = self._output_grads(output_grads, out_keep)
        (dh0,) = self._state_grads(context, states_given, batch)
        grads = self._weight_grads()
        dx = self._input_grad(context, x)
        simple_rnn_backward(x, self.kernel.value, self.recurrent_kernel.value, rmask, mask, saved,
                            dh_seq, dh_last, dx, dh0, grads[self.kernel],
                            grads[self.recurrent_kernel],
                            grads[self.bias] if self.use_bias else None,
                            context.buffer("dz", (batch, steps, u)),
                            context.buffer("work", (2, batch, u)), *args)
        return self._apply_grads(grads, dx, input_mask)

    def _kernel_args(self):
        return self.activation.name, self.go_backwards

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"], config["seed"]  # not in Keras's config
        return config
