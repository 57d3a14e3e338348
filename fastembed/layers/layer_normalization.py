"""LayerNormalization: Keras's normalization of each sample over `axis`."""
import numpy as np

from fastembed import initializers as initializers_module
from fastembed.engine.layer import Layer, set_weight_options, weight_options_config
from fastembed.layers.moments import (add_affine_grads, build_affine, moments, normalize,
                                      normalize_backward)


def normalize_axes(layer, axis, rank):
    """axis (an int or a list of ints) as sorted non-negative axes of a rank-`rank`
    input, each checked to exist."""
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    checked = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -rank <= a < rank:
            raise ValueError(f"Axis {a!r} of layer {layer.name!r} is out of bounds for an input "
                             f"of rank {rank}. Received: axis={axis!r}")
        checked.append(int(a) % rank)
    if 0 in checked:
        raise ValueError(f"Layer {layer.name!r} cannot normalize over the batch axis 0. "
                         f"Received: axis={axis!r}")
    return sorted(set(checked))


class LayerNormalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if rms_scaling:
            raise NotImplementedError("LayerNormalization does not support rms_scaling yet")
        super().__init__(**kwargs)
        set_weight_options(self, beta_regularizer=beta_regularizer,
                           gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                           gamma_constraint=gamma_constraint)
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)

    def build(self, input_shape):
        self._axes = normalize_axes(self, self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization {self.name!r} needs known sizes on axis "
                             f"{self.axis}, got input shape {tuple(input_shape)}")
        build_affine(self, shape)
        self.built = True

    def _broadcast(self, variable, ndim):
        if variable is None:
            return None
        shape = [1] * ndim
        for a, d in zip(self._axes, variable.shape):
            shape[a] = d
        return variable.value.reshape(shape)

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        axes = tuple(self._axes)
        if x.ndim <= max(axes):
            raise ValueError(f"Input of layer {self.name!r} must have rank > {max(axes)}, got "
                             f"shape {x.shape}")
        gamma = self._broadcast(self.gamma, x.ndim)
        mean, variance, count = moments(x, axes)
        y, x_hat, rstd = normalize(x, mean, variance, gamma, self._broadcast(self.beta, x.ndim),
                                   self.epsilon)
        context.saved = (x_hat, rstd, gamma, count)
        return y

    def backward(self, context, output_grads):
        x_hat, rstd, gamma, count = context.saved
        dy = np.asarray(output_grads, np.float32)
        add_affine_grads(self, dy, x_hat, tuple(a for a in range(dy.ndim) if a not in self._axes))
        if not context.needs_input_grad:
            return None
        return normalize_backward(dy, x_hat, rstd, gamma, tuple(self._axes), count)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "rms_scaling": False,
            "beta_initializer": initializers_module.serialize(self.beta_initializer),
            "gamma_initializer": initializers_module.serialize(self.gamma_initializer),
            **weight_options_config(self, "beta_regularizer", "gamma_regularizer",
                                    "beta_constraint", "gamma_constraint"),
        })
        return config
