"""Conv1D: activation(conv1d(inputs, kernel) + bias), channels last.

Kernel layout (kernel_size, in_channels, filters) as Keras. Linear and relu
are fused into the C kernels; other activations run on the linear output.
Keras 3's Conv1D does not consume a mask: an incoming mask is dropped.
"""
import numpy as np

from fastembed import activations as activations_module
from fastembed import initializers as initializers_module
from fastembed._kernels._core import CONV1D_FUSED_ACTIVATIONS, Conv1DPlan
from fastembed.layers.conv_utils import (as_3d_float32, check_data_format, normalize_int,
                                         normalize_padding, padding_1d)
from fastembed.engine.layer import (Context, Layer, set_weight_options, weight_options_config,
                                    sequence_features)
from fastembed.engine.max_step_grad import MaxStepGrad, takes_max_step_grads

_MAX_PLANS = 4  # input shapes kept per call site (a fit sees two: full and last batch)


class Conv1D(Layer):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        set_weight_options(self, kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        if groups != 1:
            raise NotImplementedError(f"Conv1D supports groups=1 only, got groups={groups!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = normalize_int(filters, "filters")
        self.kernel_size = normalize_int(kernel_size, "kernel_size")
        self.strides = normalize_int(strides, "strides")
        self.dilation_rate = normalize_int(dilation_rate, "dilation_rate")
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > "
                             f"1`. Received: strides={strides} and dilation_rate={dilation_rate}")
        self.padding = normalize_padding(padding, ("valid", "same", "causal"))
        self.data_format = check_data_format(data_format, "Conv1D")
        self.groups = 1
        self.activation = activations_module.get(activation)
        fused = self.activation.name in CONV1D_FUSED_ACTIVATIONS
        self._act_code = CONV1D_FUSED_ACTIVATIONS[self.activation.name] if fused else 0
        self._python_activation = None if fused else self.activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)

    @property
    def _span(self):
        return (self.kernel_size - 1) * self.dilation_rate + 1

    def _out_steps(self, steps):
        pad_left, out_steps = padding_1d(steps, self._span, self.strides, self.padding)
        if out_steps is not None and out_steps < 1:
            raise ValueError(
                f"Conv1D {self.name!r}: kernel_size={self.kernel_size} with "
                f"dilation_rate={self.dilation_rate} spans {self._span} steps, more than the "
                f"{steps} input steps; use padding='same' or 'causal' or a shorter kernel")
        return pad_left, out_steps

    def build(self, input_shape):
        channels = sequence_features(self, input_shape)
        self._out_steps(input_shape[1])
        self.kernel = self.add_weight("kernel", (self.kernel_size, channels, self.filters),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._out_steps(input_shape[1])[1], self.filters)

    def _plan(self, context, shape):
        """The plan of this call site for an input shape: its scratch holds
        what the forward pass keeps for the backward."""
        plans = context.workspace.setdefault("plans", {})
        plan = plans.get(shape)
        if plan is None:
            if len(plans) >= _MAX_PLANS:
                plans.clear()
            pad_left, out_steps = self._out_steps(shape[1])
            plan = plans[shape] = Conv1DPlan(
                shape[0], shape[1], shape[2], self.filters, self.kernel_size, self.strides,
                self.dilation_rate, pad_left, out_steps)
        return plan

    def _input(self, inputs):
        x = as_3d_float32(inputs, self, self.kernel.value.shape[1])
        if x.size == 0:
            raise ValueError(f"Conv1D {self.name!r} got an empty input of shape {x.shape}")
        return x

    def forward(self, context, inputs, training=False, mask=None):
        x = self._input(inputs)
        plan = self._plan(context, x.shape)
        bias = self.bias.value if self.use_bias else None
        y = np.empty(plan.output_shape, dtype=np.float32)
        plan.forward(x, self.kernel.value, bias, self._act_code, y)
        z = None
        if self._python_activation is not None:
            z, y = y, np.asarray(self._python_activation.forward(y), dtype=np.float32)
        context.saved = (plan, x, y, z)
        return y

    def inference_call(self, inputs):
        plan = self._plan(Context(), self._input(inputs).shape)
        y = np.empty(plan.output_shape, dtype=np.float32)
        kernel, bias, code = self.kernel, self.bias, self._act_code
        activation = self._python_activation

        def call(inputs):
            plan.forward(np.ascontiguousarray(inputs, np.float32), kernel.value,
                         None if bias is None else bias.value, code, y)
            return y if activation is None else np.asarray(activation.forward(y), np.float32)
        return call

    @takes_max_step_grads
    def backward(self, context, output_grads):
        plan, x, y, z = context.saved
        dkernel = np.empty_like(self.kernel.value)
        dbias = np.empty_like(self.bias.value) if self.use_bias else None
        dx = np.empty(x.shape, dtype=np.float32) if context.needs_input_grad else None
        if isinstance(output_grads, MaxStepGrad) and z is None and plan.pooled_fits:
            # the pooling's gradient read at its steps, dy never made
            step, values = (a.reshape(a.shape[0], a.shape[2])
                            for a in (output_grads.step, output_grads.values))
            plan.backward_pooled(step, values, y, self._act_code, x, self.kernel.value,
                                 dkernel, dbias, dx)
        else:
            if isinstance(output_grads, MaxStepGrad):
                output_grads = output_grads.dense()
            dy = np.ascontiguousarray(output_grads, dtype=np.float32)
            if z is not None:
                dy = np.ascontiguousarray(self._python_activation.backward(z, y, dy),
                                          dtype=np.float32)
            plan.backward(dy, y, self._act_code, x, self.kernel.value, dkernel, dbias, dx)
        if self.wants_grad(self.kernel):
            self.kernel.add_grad(dkernel)
        if self.use_bias and self.wants_grad(self.bias):
            self.bias.add_grad(dbias)
        return dx

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": (self.kernel_size,),
            "strides": (self.strides,),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": (self.dilation_rate,),
            "groups": self.groups,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            **weight_options_config(self, "kernel_regularizer", "bias_regularizer",
                                    "kernel_constraint", "bias_constraint"),
        })
        config.setdefault("activity_regularizer", None)  # Keras writes it
        return config
