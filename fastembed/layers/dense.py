"""Dense: activation(inputs @ kernel + bias) on the last axis."""
import numpy as np

from fastembed import _kernels
from fastembed._kernels._core import RNN_ACTIVATIONS
from fastembed import activations as activations_module
from fastembed import initializers as initializers_module
from fastembed.engine.layer import Layer, set_weight_options, weight_options_config


# The built-in activations the C kernels compute, by object: the others run
# in numpy (softmax has kernels of its own).
_KERNEL_ACTIVATIONS = {activations_module.get(name): code
                       for name, code in RNN_ACTIVATIONS.items()}


class Dense(Layer):
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        set_weight_options(self, kernel_regularizer=kernel_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"Dense needs a known last input dimension, got input shape "
                             f"{input_shape}")
        self.kernel = self.add_weight("kernel", (in_features, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def forward(self, context, inputs, training=False, mask=None):
        x = self._rows(inputs)
        shape = (len(x), self.units)
        # A training step's output is used up by its backward; the next step
        # reuses the array (the language model's is 160 MB per step).
        z = context.buffer("z", shape) if training else np.empty(shape, np.float32)
        y = self._activate(z, x)
        context.saved = (x, z, y, False)
        return y.reshape(inputs.shape[:-1] + (self.units,))

    def inference_call(self, inputs):
        x = self._rows(inputs)
        z = np.empty((len(x), self.units), np.float32)
        if inputs.ndim == 2:
            return lambda inputs: self._activate(z, np.ascontiguousarray(inputs, np.float32))
        rows, shape = x.shape, inputs.shape[:-1] + (self.units,)
        return lambda inputs: self._activate(
            z, np.ascontiguousarray(inputs, np.float32).reshape(rows)).reshape(shape)

    def _rows(self, inputs):
        """inputs as the rows of one GEMM (all leading axes), float32, checked."""
        in_features = self.kernel.value.shape[0]
        if inputs.ndim < 2 or inputs.shape[-1] != in_features:
            raise ValueError(f"Input of layer {self.name!r} must have shape (batch, ..., "
                             f"{in_features}), got {inputs.shape}")
        return np.ascontiguousarray(inputs, dtype=np.float32).reshape(-1, in_features)

    def _activate(self, z, x):
        """activation(x @ kernel + bias), z holding x @ kernel (in place
        where backward needs y alone: softmax and the activations the C
        kernels share with the recurrent layers)."""
        _kernels.gemm(z, x, self.kernel.value)
        bias = self.bias.value if self.use_bias else None
        if self.activation is activations_module.softmax:
            return _kernels.softmax_forward(z, bias, z)
        code = _KERNEL_ACTIVATIONS.get(self.activation)
        if code is not None:
            return _kernels.dense_forward(z, bias, code)
        if bias is not None:
            z += bias
        return self.activation.forward(z)

    def softmax_logit_grads(self, context):
        if self.activation is not activations_module.softmax:
            return None
        x, z, y, _ = context.saved
        context.saved = (x, z, y, True)
        return y

    def backward(self, context, output_grads):
        x, z, y, logit_grads = context.saved
        dy = np.ascontiguousarray(output_grads, dtype=np.float32).reshape(y.shape)
        db = np.empty(self.units, np.float32) \
            if self.use_bias and self.wants_grad(self.bias) else None
        code = _KERNEL_ACTIVATIONS.get(self.activation)
        if code is not None:  # dz and db in one pass
            dz = _kernels.dense_backward(dy, y, code, context.buffer("dz", y.shape), db)
        else:
            if logit_grads:  # the loss wrote d loss / d z over y (softmax_logit_grads)
                dz = dy
            elif self.activation is activations_module.softmax:
                dz = _kernels.softmax_backward(y, dy, context.buffer("dz", y.shape))
            else:
                dz = np.ascontiguousarray(self.activation.backward(z, y, dy), dtype=np.float32)
            if db is not None:  # dz's row sums alone
                _kernels.dense_backward(dz, dz, RNN_ACTIVATIONS["linear"], dz, db)
        kernel = self.kernel.value
        if self.wants_grad(self.kernel):
            self.kernel.add_grad(_kernels.gemm(np.empty_like(kernel), x, dz, trans_a=True))
        if db is not None:
            self.bias.add_grad(db)
        if not context.needs_input_grad:
            return None
        dx = _kernels.gemm(np.empty(x.shape, np.float32), dz, kernel, trans_b=True)
        return dx.reshape(output_grads.shape[:-1] + (x.shape[1],))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            **weight_options_config(self, "kernel_regularizer", "bias_regularizer",
                                    "kernel_constraint", "bias_constraint"),
            "quantization_config": None,
        })
        return config
