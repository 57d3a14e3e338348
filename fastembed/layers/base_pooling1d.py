"""The machinery shared by the 1-D pooling layers: window sizes and the C kernels."""
import numpy as np

from fastembed._kernels._core import pool1d_backward, pool1d_forward
from fastembed.layers.conv_utils import (as_3d_float32, check_data_format, normalize_int,
                                         normalize_padding, padding_1d)
from fastembed.engine.layer import Layer
from fastembed.engine.max_step_grad import MaxStepGrad


class BasePooling1D(Layer):
    """Pools windows of steps; subclasses set mode ("max" or "average")."""

    mode = None

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Input of layer {self.name!r} must be 3-D (batch, steps, channels), "
                             f"got input shape {input_shape}")
        self.built = True

    def _pool(self, context, x, pool, stride, pad_left, out_steps, mask=None):
        """(batch, out_steps, channels) pooled windows of x (batch, steps, channels)."""
        argmax = context.buffer("argmax", (x.shape[0], out_steps, x.shape[2]), np.int32) \
            if self.mode == "max" else None
        out = pool1d_forward(x, pool, stride, pad_left, out_steps, self.mode, mask=mask,
                             argmax=argmax)
        context.saved = (x.shape, pool, stride, pad_left, out_steps, argmax, mask)
        return out

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        shape, pool, stride, pad_left, out_steps, argmax, mask = context.saved
        dout = np.ascontiguousarray(output_grads, dtype=np.float32)
        expected = (shape[0], out_steps * shape[2])
        if dout.size != expected[0] * expected[1] or dout.shape[0] != shape[0]:
            raise ValueError(f"grad_output of {self.name!r} must hold {expected} values, got "
                             f"shape {dout.shape}")
        dout = dout.reshape(shape[0], out_steps, shape[2])
        if context.max_step_input_grad:  # a global max pooling: one step per channel
            return MaxStepGrad(argmax, dout, shape[1])
        return pool1d_backward(dout, shape[1], pool, stride, pad_left, self.mode,
                               argmax=argmax, mask=mask)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class WindowPooling1D(BasePooling1D):
    """MaxPooling1D / AveragePooling1D: windows of pool_size moved by strides."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.pool_size = normalize_int(pool_size, "pool_size")
        self.strides = normalize_int(strides, "strides", allow_none=True) or self.pool_size
        self.padding = normalize_padding(padding, ("valid", "same"))

    def _windows(self, steps):
        pad_left, out_steps = padding_1d(steps, self.pool_size, self.strides, self.padding)
        if out_steps is not None and out_steps < 1:
            raise ValueError(f"{type(self).__name__} {self.name!r}: pool_size={self.pool_size} "
                             f"is longer than the {steps} input steps; use padding='same'")
        return pad_left, out_steps

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._windows(input_shape[1])[1], input_shape[2])

    def forward(self, context, inputs, training=False, mask=None):
        x = as_3d_float32(inputs, self)
        pad_left, out_steps = self._windows(x.shape[1])
        return self._pool(context, x, self.pool_size, self.strides, pad_left, out_steps)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": (self.pool_size,), "strides": (self.strides,),
                       "padding": self.padding})
        return config


class GlobalPooling1D(BasePooling1D):
    """GlobalMaxPooling1D / GlobalAveragePooling1D: one window over all steps."""

    gives_max_step_grads = False  # GlobalMaxPooling1D's input gradients can be MaxStepGrads

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, input_shape[2]) if self.keepdims \
            else (input_shape[0], input_shape[2])

    def _input(self, inputs):
        x = as_3d_float32(inputs, self)
        if x.shape[1] == 0:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs at least one step, got "
                             f"input shape {x.shape}")
        return x

    def forward(self, context, inputs, training=False, mask=None):
        x = self._input(inputs)
        out = self._pool(context, x, x.shape[1], 1, 0, 1,
                         mask if self.supports_masking else None)
        return out if self.keepdims else out.reshape(out.shape[0], out.shape[2])

    def inference_call(self, inputs):
        batch, steps, channels = self._input(inputs).shape
        out = np.empty((batch, 1, channels), np.float32)
        argmax = np.empty(out.shape, np.int32) if self.mode == "max" else None
        shape, mode = out.shape if self.keepdims else (batch, channels), self.mode
        return lambda inputs: pool1d_forward(np.ascontiguousarray(inputs, np.float32), steps, 1,
                                             0, 1, mode, out=out, argmax=argmax).reshape(shape)

    def get_config(self):
        config = super().get_config()
        config["keepdims"] = self.keepdims
        return config
