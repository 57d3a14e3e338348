"""BatchNormalization: Keras's, with batch statistics in training and the
moving ones otherwise (and whenever the layer is frozen).

Training normalizes over every axis but `axis` and moves moving_mean and
moving_variance by `momentum`; a mask (inputs' shape without the last axis)
keeps masked positions out of the statistics, as Keras 3 does.
"""
import numpy as np

from fastembed import initializers as initializers_module
from fastembed.engine.layer import Layer, set_weight_options, weight_options_config
from fastembed.layers.layer_normalization import normalize_axes
from fastembed.layers.moments import (add_affine_grads, build_affine, moments, normalize,
                                      normalize_backward)


class BatchNormalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, **kwargs):
        if renorm:
            raise NotImplementedError("BatchNormalization does not support renorm yet")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization's axis must be an int, got axis={axis!r}")
        super().__init__(**kwargs)
        set_weight_options(self, beta_regularizer=beta_regularizer,
                           gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                           gamma_constraint=gamma_constraint)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)
        # Keras keeps these in the config even without renorm, which ignores them
        self.renorm, self.renorm_clipping = False, renorm_clipping
        self.renorm_momentum = float(renorm_momentum)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)

    def build(self, input_shape):
        (self._channel,) = normalize_axes(self, self.axis, len(input_shape))
        shape = (input_shape[self._channel],)
        if shape[0] is None:
            raise ValueError(f"BatchNormalization {self.name!r} needs a known size on axis "
                             f"{self.axis}, got input shape {tuple(input_shape)}")
        build_affine(self, shape)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.moving_variance_initializer, trainable=False)
        self.built = True

    def _broadcast(self, array, ndim):
        shape = [1] * ndim
        shape[self._channel] = -1
        return None if array is None else array.reshape(shape)

    def forward(self, context, inputs, training=False, mask=None):
        x = np.asarray(inputs, dtype=np.float32)
        channels = self.moving_mean.shape[0]
        if x.ndim <= self._channel or x.shape[self._channel] != channels:
            raise ValueError(f"Input of layer {self.name!r} must have {channels} features on "
                             f"axis {self.axis}, got shape {x.shape}")
        weights = None
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != x.shape[:-1]:
                raise ValueError(f"The mask of layer {self.name!r} must have the inputs' shape "
                                 f"without the last axis, {x.shape[:-1]}; got {mask.shape}")
            weights = mask.astype(np.float32)[..., None]
        axes = tuple(a for a in range(x.ndim) if a != self._channel)
        gamma = self._broadcast(None if self.gamma is None else self.gamma.value, x.ndim)
        beta = self._broadcast(None if self.beta is None else self.beta.value, x.ndim)
        count = None
        if training and self.trainable:
            mean, variance, count = moments(x, axes, weights)
            momentum = np.float32(self.momentum)
            for variable, batch_value in ((self.moving_mean, mean),
                                          (self.moving_variance, variance)):
                variable.assign(variable.value * momentum
                                + batch_value.reshape(-1) * (np.float32(1.0) - momentum))
        else:
            mean = self._broadcast(self.moving_mean.value, x.ndim)
            variance = self._broadcast(self.moving_variance.value, x.ndim)
        y, x_hat, rstd = normalize(x, mean, variance, gamma, beta, self.epsilon)
        context.saved = (x_hat, rstd, gamma, axes, count, weights)
        return y

    def backward(self, context, output_grads):
        x_hat, rstd, gamma, axes, count, weights = context.saved
        dy = np.asarray(output_grads, np.float32)
        add_affine_grads(self, dy, x_hat, axes)
        if not context.needs_input_grad:
            return None
        return normalize_backward(dy, x_hat, rstd, gamma, axes, count, weights)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale, "synchronized": self.synchronized,
            "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
            "beta_initializer": initializers_module.serialize(self.beta_initializer),
            "gamma_initializer": initializers_module.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers_module.serialize(
                self.moving_mean_initializer),
            "moving_variance_initializer": initializers_module.serialize(
                self.moving_variance_initializer),
            **weight_options_config(self, "beta_regularizer", "gamma_regularizer",
                                    "beta_constraint", "gamma_constraint"),
        })
        return config
