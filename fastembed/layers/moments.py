"""Normalization over a set of axes (LayerNormalization's, BatchNormalization's).

y = (x - mean) * rsqrt(variance + epsilon) * gamma + beta, the moments taken
over `axes` (optionally weighted by a 0/1 mask, as Keras's masked
BatchNormalization: mean and variance divided by the mask's sum + 1e-7),
and its backward. gamma and beta arrive broadcastable to x, or None.
"""
import numpy as np

MASKED_EPSILON = 1e-7  # keras.backend.epsilon(), added to a mask's count


def moments(x, axes, weights=None):
    """(mean, variance, count) over axes, keepdims; weights: 0/1 broadcastable to x."""
    if weights is None:
        count = np.float32(np.prod([x.shape[a] for a in axes]))
        mean = x.mean(axis=axes, keepdims=True)
        variance = np.square(x - mean).mean(axis=axes, keepdims=True)
        return mean, variance, count
    weights = np.broadcast_to(weights, x.shape).astype(np.float32)
    count = weights.sum(axis=axes, keepdims=True) + np.float32(MASKED_EPSILON)
    mean = (x * weights).sum(axis=axes, keepdims=True) / count
    variance = (np.square(x - mean) * weights).sum(axis=axes, keepdims=True) / count
    return mean, variance, count


def normalize(x, mean, variance, gamma, beta, epsilon):
    """(y, x_hat, rstd) with Keras's arithmetic: x * inv + (beta - mean * inv)."""
    rstd = (1.0 / np.sqrt(variance + np.float32(epsilon))).astype(np.float32)
    inv = rstd if gamma is None else rstd * gamma
    y = x * inv + ((0.0 if beta is None else beta) - mean * inv)
    return y.astype(np.float32), (x - mean) * rstd, rstd


def normalize_backward(dy, x_hat, rstd, gamma, axes, count=None, weights=None):
    """dL/dx of normalize when the moments came from x (count, weights as
    moments gave them); with count None the moments were constants."""
    dx_hat = dy if gamma is None else dy * gamma
    if count is None:
        return (dx_hat * rstd).astype(np.float32)
    # Every output (masked ones too) depends on the moments; only the
    # weighted inputs moved them.
    w = 1.0 if weights is None else np.broadcast_to(weights, dy.shape).astype(np.float32)
    mean_dx_hat = dx_hat.sum(axis=axes, keepdims=True) / count
    mean_dx_hat_x_hat = (dx_hat * x_hat).sum(axis=axes, keepdims=True) / count
    return (rstd * (dx_hat - w * (mean_dx_hat + x_hat * mean_dx_hat_x_hat))).astype(np.float32)


def add_affine_grads(layer, dy, x_hat, axes):
    """gamma's and beta's gradients (summed over axes: the ones they do not span)."""
    if layer.scale and layer.wants_grad(layer.gamma):
        layer.gamma.add_grad((dy * x_hat).sum(axis=axes).reshape(layer.gamma.shape))
    if layer.center and layer.wants_grad(layer.beta):
        layer.beta.add_grad(dy.sum(axis=axes).reshape(layer.beta.shape))


def build_affine(layer, shape):
    """gamma (if layer.scale) and beta (if layer.center) of a normalization
    layer, with their initializers, regularizers and constraints."""
    layer.gamma = layer.add_weight("gamma", shape, layer.gamma_initializer,
                                   regularizer=layer.gamma_regularizer,
                                   constraint=layer.gamma_constraint) if layer.scale else None
    layer.beta = layer.add_weight("beta", shape, layer.beta_initializer,
                                  regularizer=layer.beta_regularizer,
                                  constraint=layer.beta_constraint) if layer.center else None
