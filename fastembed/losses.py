"""Losses with Keras 3's formulas (jax backend), each with its gradient.

A loss maps (y_true, y_pred) to values reduced over the last axis (shape
y_pred.shape[:-1], as Keras's loss functions); the training loss is their
mean ("sum_over_batch_size"), over the unmasked positions when the model's
output carries a mask, as Keras weights it.
"""
import numpy as np
from scipy import special

from fastembed import _kernels
from fastembed.utils.config import keras_arguments

EPSILON = np.float32(1e-7)  # keras.config.epsilon(); csrc/losses.h has it too


def _same_rank(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank for a trailing axis of size 1."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have compatible shapes, got "
                         f"{y_true.shape} and {y_pred.shape}")
    return y_true


class Loss:
    """Subclasses implement compute(y_true, y_pred, gradient) -> (values,
    d sum(values) / d y_pred, or None when gradient is False)."""

    name = "loss"

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction != "sum_over_batch_size":
            raise NotImplementedError(f"reduction={reduction!r}: only "
                                      "'sum_over_batch_size' is supported")
        if name is not None:
            self.name = name

    def __call__(self, y_true, y_pred):
        return self.value(np.asarray(y_true), np.asarray(y_pred, np.float32))

    def per_sample(self, y_true, y_pred):
        return self.compute(np.asarray(y_true), np.asarray(y_pred, np.float32), False)[0]

    @staticmethod
    def _weights(values, mask):
        """Weight of each value in the loss: 1/n, or with a mask (shape of the
        values) 1/valid at valid positions and 0 elsewhere (Keras's apply_mask)."""
        if mask is None:
            return np.float32(1.0 / values.size)
        weights = np.asarray(mask, np.float32).reshape(values.shape)
        valid = float(weights.sum())
        return weights * (np.float32(1.0 / valid) if valid else np.float32(0))

    def value(self, y_true, y_pred, mask=None):
        values = self.compute(y_true, y_pred, False)[0]
        return float((values * self._weights(values, mask)).sum())

    def value_and_gradient(self, y_true, y_pred, mask=None):
        """(loss, d loss / d y_pred) in one pass: the training step's call."""
        values, grad = self.compute(y_true, y_pred, True)
        weights = self._weights(values, mask)
        return float((values * weights).sum()), grad * (weights if mask is None else weights[..., None])

    def compute(self, y_true, y_pred, gradient):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, **kwargs):
        super().__init__(**kwargs)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def compute(self, y_true, y_pred, gradient):
        y = np.ascontiguousarray(_same_rank(y_true, y_pred), dtype=np.float32)
        y_pred = np.ascontiguousarray(y_pred, dtype=np.float32)
        args = (y, y_pred, self.from_logits, self.label_smoothing)
        values = _kernels.binary_crossentropy_forward(*args)
        if not gradient:
            return values, None
        return values, _kernels.binary_crossentropy_backward(*args, 1.0 / y_pred.shape[-1])

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(Loss):
    """Over the last axis; y_true one-hot (or a distribution)."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, **kwargs):
        super().__init__(**kwargs)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def _targets(self, y_true, y_pred):
        if y_true.shape != y_pred.shape:
            raise ValueError(f"categorical_crossentropy needs one-hot y_true of shape "
                             f"{y_pred.shape}, got {y_true.shape}")
        y = y_true.astype(np.float32)
        if self.label_smoothing:
            classes = np.float32(y_pred.shape[-1])
            y = y * np.float32(1.0 - self.label_smoothing) + np.float32(self.label_smoothing) / classes
        return y

    def _log_prob(self, y_pred):
        if self.from_logits:
            return special.log_softmax(y_pred, axis=-1)
        q = y_pred / y_pred.sum(axis=-1, keepdims=True)
        return np.log(np.clip(q, EPSILON, 1 - EPSILON))

    def compute(self, y_true, y_pred, gradient):
        y = self._targets(y_true, y_pred)
        values = -(y * self._log_prob(y_pred)).sum(axis=-1)
        if not gradient:
            return values, None
        if self.from_logits:
            grad = special.softmax(y_pred, axis=-1) * y.sum(axis=-1, keepdims=True) - y
        else:  # through Keras's normalisation and clip
            total = y_pred.sum(axis=-1, keepdims=True)
            q = y_pred / total
            inside = (q > EPSILON) & (q < 1 - EPSILON)
            d_q = -y / np.clip(q, EPSILON, 1 - EPSILON) * inside
            grad = (d_q - (d_q * q).sum(axis=-1, keepdims=True)) / total
        return values, grad

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class ids as y_true."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, **kwargs):
        super().__init__(from_logits=from_logits, **kwargs)

    def _targets(self, y_true, y_pred):
        classes = y_pred.shape[-1]
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.shape != y_pred.shape[:-1]:
            raise ValueError(f"sparse_categorical_crossentropy needs y_true of shape "
                             f"{y_pred.shape[:-1]}, got {y_true.shape}")
        ids = np.asarray(y_true)
        if not np.array_equal(ids, np.round(ids)) or ids.size and (ids.min() < 0 or ids.max() >= classes):
            raise ValueError(f"sparse_categorical_crossentropy needs integer y_true in "
                             f"[0, {classes}), got values in [{ids.min()}, {ids.max()}]")
        return np.eye(classes, dtype=np.float32)[ids.astype(np.int64)]

    def get_config(self):
        return {"name": self.name, "from_logits": self.from_logits}


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def compute(self, y_true, y_pred, gradient):
        diff = y_pred - _same_rank(y_true, y_pred).astype(np.float32)
        return (diff * diff).mean(axis=-1), diff * np.float32(2.0 / y_pred.shape[-1]) if gradient else None


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def compute(self, y_true, y_pred, gradient):
        diff = y_pred - _same_rank(y_true, y_pred).astype(np.float32)
        return np.abs(diff).mean(axis=-1), np.sign(diff) * np.float32(1.0 / y_pred.shape[-1]) if gradient else None


_BY_NAME = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
}
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values())}


def _loss_function(cls):
    def per_sample_loss(y_true, y_pred):
        return cls().per_sample(np.asarray(y_true), np.asarray(y_pred, np.float32))
    per_sample_loss.__name__ = cls.name
    per_sample_loss.loss_class = cls
    return per_sample_loss


binary_crossentropy = _loss_function(BinaryCrossentropy)
categorical_crossentropy = _loss_function(CategoricalCrossentropy)
sparse_categorical_crossentropy = _loss_function(SparseCategoricalCrossentropy)
mean_squared_error = mse = _loss_function(MeanSquaredError)
mean_absolute_error = mae = _loss_function(MeanAbsoluteError)


def get(identifier):
    """A Loss from its Keras name, class name, config dict, instance or the
    loss function of this module (keras.losses.binary_crossentropy style)."""
    if isinstance(identifier, Loss):
        return identifier
    if callable(identifier) and hasattr(identifier, "loss_class"):
        return identifier.loss_class()
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown loss: {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        cls = _CLASSES[identifier["class_name"]]
        return cls(**keras_arguments(cls, identifier.get("config") or {}))
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}; expected one of "
                     f"{sorted(_BY_NAME)} or of {sorted(_CLASSES)}")


def serialize(loss):
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": {**loss.get_config(), "reduction": "sum_over_batch_size"},
            "registered_name": None}


