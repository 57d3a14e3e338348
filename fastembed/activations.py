"""Activations with Keras's names and formulas, each with its derivative.

An activation is called as forward(x) -> y and differentiated as
backward(x, y, dy) -> dx, given the input and output of the forward pass.
"""
import numpy as np
from scipy import special


class Activation:
    def __init__(self, name, forward, backward):
        self.__name__ = name
        self.name = name
        self.forward = forward
        self.backward = backward

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        return f"<activation {self.name}>"


def _f32(x):
    return np.asarray(x, dtype=np.float32)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return _f32(e / e.sum(axis=-1, keepdims=True))


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return _f32(shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = np.float32(np.sqrt(0.5))
_INV_SQRT_2PI = np.float32(1.0 / np.sqrt(2.0 * np.pi))

_DEFINITIONS = {
    "linear": (lambda x: x, lambda x, y, dy: dy),
    "relu": (lambda x: np.maximum(x, np.float32(0)), lambda x, y, dy: dy * (x > 0)),
    "relu6": (lambda x: np.clip(x, np.float32(0), np.float32(6)),
              lambda x, y, dy: dy * ((x > 0) & (x < 6))),
    "leaky_relu": (lambda x: np.where(x > 0, x, np.float32(0.2) * x),
                   lambda x, y, dy: dy * np.where(x > 0, np.float32(1), np.float32(0.2))),
    "sigmoid": (lambda x: _f32(special.expit(x)), lambda x, y, dy: dy * y * (1 - y)),
    "hard_sigmoid": (lambda x: np.clip(x / np.float32(6) + np.float32(0.5), np.float32(0), np.float32(1)),
                     lambda x, y, dy: dy * ((x > -3) & (x < 3)) / np.float32(6)),
    "tanh": (np.tanh, lambda x, y, dy: dy * (1 - y * y)),
    "softmax": (_softmax, lambda x, y, dy: y * (dy - (dy * y).sum(axis=-1, keepdims=True))),
    "log_softmax": (_log_softmax,
                    lambda x, y, dy: dy - np.exp(y) * dy.sum(axis=-1, keepdims=True)),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
            lambda x, y, dy: dy * np.where(x > 0, np.float32(1), y + 1)),
    "selu": (lambda x: _f32(_SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0)))),
             lambda x, y, dy: _f32(dy * np.where(x > 0, _SELU_SCALE, y + _SELU_SCALE * _SELU_ALPHA))),
    "softplus": (lambda x: np.logaddexp(np.float32(0), x),
                 lambda x, y, dy: dy * _f32(special.expit(x))),
    "softsign": (lambda x: x / (1 + np.abs(x)), lambda x, y, dy: dy / (1 + np.abs(x)) ** 2),
    "swish": (lambda x: x * _f32(special.expit(x)),
              lambda x, y, dy: dy * (lambda s: s * (1 + x * (1 - s)))(_f32(special.expit(x)))),
    "gelu": (lambda x: _f32(0.5 * x * (1 + special.erf(x * _SQRT_HALF))),
             lambda x, y, dy: _f32(dy * (0.5 * (1 + special.erf(x * _SQRT_HALF))
                                         + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)))),
    "exponential": (np.exp, lambda x, y, dy: dy * y),
}
_DEFINITIONS["silu"] = _DEFINITIONS["swish"]

_ACTIVATIONS = {name: Activation(name, f, b) for name, (f, b) in _DEFINITIONS.items()}
for _name, _activation in _ACTIVATIONS.items():
    globals()[_name] = _activation


def get(identifier):
    """An Activation from its name, None (linear) or an Activation."""
    if identifier is None:
        return _ACTIVATIONS["linear"]
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str) and identifier in _ACTIVATIONS:
        return _ACTIVATIONS[identifier]
    raise ValueError(f"Unknown activation: {identifier!r}; expected one of {sorted(_ACTIVATIONS)}")


def serialize(activation):
    return get(activation).name
