"""Dot: the batchwise dot product of two inputs (keras.layers.Dot).

For each sample, x's axis axes[0] is contracted with y's axis axes[1]; the
output has x's remaining axes then y's remaining non-batch axes (Keras's
batch_dot), and is (batch, 1) when both inputs are 2-D. An int `axes` is
the same axis for both (a negative one counted from each input's end).

normalize=True L2-normalises each input along its dot axis first, so the
output is the cosine similarity, as Keras's ops.normalize computes it on
jax: x * min(rsqrt(sum(x**2)), 1 / epsilon), epsilon = 1e-7. A vector of
norm below epsilon is thus scaled by 1 / epsilon rather than divided by its
norm; an all-zero vector gives zeros, and its gradient is the limit of
that branch (upstream * 1 / epsilon), where jax's gradient is NaN.

Dot outputs no mask (Keras's Dot.compute_mask).
"""
import numpy as np

from fastembed.layers.base_merge import Merge, input_arrays, layer_label, shape_list

EPSILON = 1e-7  # keras.backend.epsilon()


def _axis_int(value):
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _l2_normalize(x, axis):
    """(x * inv, inv, the entries where inv = rsqrt(sum x**2), not the 1/epsilon floor)."""
    square_sum = np.square(x).sum(axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        rsqrt = np.float32(1) / np.sqrt(square_sum)
    cap = np.float32(1.0 / EPSILON)
    inv = np.minimum(rsqrt, cap)
    return x * inv, (inv, rsqrt, cap)


def _l2_normalize_grad(x, saved, grad, axis):
    """The gradient of x * min(rsqrt(sum x**2), cap) as jax.grad gives it
    (a tie of the minimum shares the gradient), 0 through the rsqrt branch
    where the cap is taken (so zero vectors get grad * cap, not NaN)."""
    inv, rsqrt, cap = saved
    g_inv = (grad * x).sum(axis=axis, keepdims=True)
    share = np.where(rsqrt < cap, np.float32(1), np.where(rsqrt == cap, np.float32(0.5),
                                                          np.float32(0)))
    with np.errstate(invalid="ignore", over="ignore"):
        # d rsqrt(s) / ds = -rsqrt(s)**3 / 2 and d s / dx = 2 x
        g_s = np.where(share > 0, g_inv * share * np.float32(-0.5) * rsqrt ** 3, np.float32(0))
    return grad * inv + np.float32(2) * x * g_s


class Dot(Merge):
    def __init__(self, axes, normalize=False, **kwargs):
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(_axis_int(a) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: it should be an integer "
                                 f"or a list of two integers. Received: axes={axes!r}")
            axes = type(axes)(int(a) for a in axes)
        elif _axis_int(axes):
            axes = int(axes)
        else:
            raise ValueError(f"Invalid type for argument `axes`: it should be a list or an "
                             f"int. Received: axes={axes!r}")
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(f"`normalize` must be a boolean. Received: normalize={normalize!r}")
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = bool(normalize)

    def _resolve_axes(self, shapes):
        """The two dot axes as non-negative ints, checked against shapes."""
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        resolved = []
        for i, (axis, shape) in enumerate(zip(axes, shapes)):
            rank = len(shape)
            if rank < 2:
                raise ValueError(f"{layer_label(self)} cannot do batch_dot on inputs with rank "
                                 f"< 2. Received inputs with shapes {shapes[0]} and "
                                 f"{shapes[1]}")
            if not -rank <= axis < rank:
                raise ValueError(f"{layer_label(self)}: axes={self.axes} is out of range for "
                                 f"input {i} of shape {shape}")
            axis %= rank
            if axis == 0:
                raise ValueError(f"{layer_label(self)} cannot perform batch_dot over axis 0 "
                                 f"(the batch axis): axes={self.axes}, input shapes "
                                 f"{shapes[0]} and {shapes[1]}")
            resolved.append(axis)
        d1, d2 = shapes[0][resolved[0]], shapes[1][resolved[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"{layer_label(self)}: incompatible input shapes: axis values "
                             f"{d1} (at axis {resolved[0]}) != {d2} (at axis {resolved[1]}). "
                             f"Full input shapes: {shapes[0]}, {shapes[1]}")
        b1, b2 = shapes[0][0], shapes[1][0]
        if b1 is not None and b2 is not None and b1 != b2:
            raise ValueError(f"{layer_label(self)} cannot do batch_dot on inputs with "
                             f"different batch sizes. Received inputs with shapes "
                             f"{shapes[0]} and {shapes[1]}")
        return resolved

    def compute_output_shape(self, input_shape):
        shapes = shape_list(self, input_shape, 2)
        a1, a2 = self._resolve_axes(shapes)
        shape1, shape2 = list(shapes[0]), list(shapes[1])
        shape1.pop(a1)
        shape2.pop(a2)
        output = shape1 + shape2[1:]
        if len(output) == 1:
            output.append(1)
        return tuple(output)

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, context, inputs, training=False, mask=None):
        x, y = input_arrays(self, inputs, 2)
        a1, a2 = self._resolve_axes([x.shape, y.shape])
        xn, yn, x_norm, y_norm = x, y, None, None
        if self.normalize:
            xn, x_norm = _l2_normalize(x, a1)
            yn, y_norm = _l2_normalize(y, a2)
        if x.ndim == 2 and y.ndim == 2:  # one dot product per sample, without a GEMM each
            context.saved = (x, y, a1, a2, x_norm, y_norm, (xn, yn))
            return np.einsum("ij,ij->i", xn, yn).reshape(-1, 1)
        # (batch, rest of x, k) @ (batch, k, rest of y)
        xm = np.moveaxis(xn, a1, -1)
        ym = np.moveaxis(yn, a2, 1)
        batch, k = x.shape[0], x.shape[a1]
        x3 = xm.reshape(batch, -1, k)
        y3 = ym.reshape(batch, k, -1)
        output = np.matmul(x3, y3)
        context.saved = (x, y, a1, a2, x_norm, y_norm, (x3, y3, xm.shape, ym.shape))
        return output.reshape(xm.shape[:-1] + ym.shape[2:])

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        x, y, a1, a2, x_norm, y_norm, operands = context.saved
        if x.ndim == 2 and y.ndim == 2:  # d(x . y)/dx = y, and back
            xn, yn = operands
            g = np.asarray(output_grads, dtype=np.float32).reshape(-1, 1)
            gx, gy = g * yn, g * xn
        else:
            x3, y3, xm_shape, ym_shape = operands
            g = np.asarray(output_grads, dtype=np.float32).reshape(x3.shape[0], x3.shape[1],
                                                                  y3.shape[2])
            gx = np.moveaxis(np.matmul(g, y3.transpose(0, 2, 1)).reshape(xm_shape), -1, a1)
            gy = np.moveaxis(np.matmul(x3.transpose(0, 2, 1), g).reshape(ym_shape), 1, a2)
        if self.normalize:
            gx = _l2_normalize_grad(x, x_norm, gx, a1)
            gy = _l2_normalize_grad(y, y_norm, gy, a2)
        return [np.ascontiguousarray(gx, dtype=np.float32),
                np.ascontiguousarray(gy, dtype=np.float32)]

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def dot(inputs, axes=-1, **kwargs):
    """Functional interface to Dot: Dot(axes, **kwargs)(inputs)."""
    return Dot(axes=axes, **kwargs)(inputs)
