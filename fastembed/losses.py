"""Losses with Keras 3's formulas (jax backend), each with its gradient.

A loss maps (y_true, y_pred) to values reduced over the last axis (shape
y_pred.shape[:-1], as Keras's loss functions); the training loss is their
mean ("sum_over_batch_size"), over the unmasked positions when the model's
output carries a mask, as Keras weights it.
"""
import math

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


REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none")


def broadcast_weights(weights, shape, argument="sample_weight"):
    """weights (per sample, or per sample and time step) as an array of
    `shape` (the loss values' shape), with Keras's squeeze of a trailing
    axis of size 1; per-sample weights of a temporal output apply to every
    step of the sample."""
    weights = np.asarray(weights, np.float32)
    if weights.ndim == len(shape) + 1 and weights.shape[-1] == 1:
        weights = weights[..., 0]
    if weights.ndim < len(shape):
        weights = weights.reshape(weights.shape + (1,) * (len(shape) - weights.ndim))
    try:
        return np.broadcast_to(weights, shape)
    except ValueError:
        raise ValueError(f"`{argument}` of shape {weights.shape} does not match the loss "
                         f"values of shape {tuple(shape)} (per sample, or per sample and "
                         f"time step)") from None


class Loss:
    """Subclasses implement compute(y_true, y_pred, gradient) -> (values,
    d sum(values) / d y_pred, or None when gradient is False).

    reduction as Keras: "sum_over_batch_size" (the default; the weighted sum
    divided by the number of values, not by the sum of the weights), "sum",
    "mean_with_sample_weight" (divided by the sum of the weights) or "none"
    (the weighted values, only when calling the loss)."""

    name = "loss"
    axis = -1  # the axis reduced; Keras's `axis` argument where it has one

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction is None:
            reduction = "none"
        if reduction not in REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                             f"{REDUCTIONS}. Received: reduction={reduction!r}")
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"dtype must be float32, got {dtype!r}")
        self.reduction = reduction
        if name is not None:
            self.name = name

    def _set_axis(self, axis):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r} of type "
                             f"{type(axis)}")
        self.axis = int(axis)

    def _reduced_axis_last(self, y_true, y_pred):
        """(y_true, y_pred) with the reduced axis moved last, where compute
        reduces; a sparse y_true (without that axis) stays as it is."""
        if self.axis == -1:
            return y_true, y_pred
        if not -y_pred.ndim <= self.axis < y_pred.ndim:
            raise ValueError(f"{self.name}: axis={self.axis} is out of range for predictions "
                             f"of shape {y_pred.shape}")
        if y_true.ndim == y_pred.ndim:
            y_true = np.moveaxis(y_true, self.axis, -1)
        return y_true, np.ascontiguousarray(np.moveaxis(y_pred, self.axis, -1))

    def _values(self, y_true, y_pred):
        return self.compute(*self._reduced_axis_last(y_true, y_pred), False)[0]

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, np.float32)
        if self.reduction == "none":
            values = self._values(y_true, y_pred)
            if sample_weight is None:
                return values
            return values * broadcast_weights(sample_weight, values.shape)
        return self.value(y_true, y_pred, sample_weight=sample_weight)

    def per_sample(self, y_true, y_pred):
        return self._values(np.asarray(y_true), np.asarray(y_pred, np.float32))

    def _weights(self, shape, mask, sample_weight):
        """Weight of each value in the reduced loss (a scalar or an array of
        the values' shape): Keras's reduce_weighted_values, where a mask
        weighs valid values total/valid (apply_mask) before the reduction."""
        size = math.prod(shape)
        if mask is None and sample_weight is None:  # the common case, kept cheap
            divisor = 1 if self.reduction == "sum" else size
            return np.float32(1.0 / divisor if divisor else 0.0)
        weights = None
        if mask is not None:
            weights = np.asarray(mask, np.float32).reshape(shape)
            if self.reduction in ("sum_over_batch_size", "mean"):
                valid = float(weights.sum())
                weights = weights * np.float32(size / valid if valid else 0.0)
        if sample_weight is not None:
            sample_weight = broadcast_weights(sample_weight, shape)
            weights = sample_weight if weights is None else weights * sample_weight
        if self.reduction == "sum":
            divisor = 1.0
        elif self.reduction == "mean_with_sample_weight" and weights is not None:
            divisor = float(weights.sum(dtype=np.float64))
        else:
            divisor = float(size)
        scale = np.float32(1.0 / divisor if divisor else 0.0)  # divide_no_nan
        return scale if weights is None else weights * scale

    def _check_training_reduction(self):
        if self.reduction == "none":
            raise ValueError(f"Loss {self.name!r} has reduction='none', which gives one value "
                             f"per sample; training needs a scalar loss (use "
                             f"'sum_over_batch_size', 'sum' or 'mean_with_sample_weight')")

    def value(self, y_true, y_pred, mask=None, sample_weight=None):
        self._check_training_reduction()
        values = self._values(y_true, y_pred)
        return float((values * self._weights(values.shape, mask, sample_weight)).sum())

    def value_and_gradient(self, y_true, y_pred, mask=None, sample_weight=None):
        """(loss, d loss / d y_pred) in one pass: the training step's call."""
        self._check_training_reduction()
        if mask is None and sample_weight is None and self.axis == -1:
            weight = self._weights(y_pred.shape[:-1], None, None)
            return self.weighted_sum_and_gradient(y_true, y_pred, weight)
        values, grad = self.compute(*self._reduced_axis_last(y_true, y_pred), True)
        weights = self._weights(values.shape, mask, sample_weight)
        value = float((values * weights).sum())
        grad = grad * (weights[..., None] if isinstance(weights, np.ndarray) else weights)
        return value, grad if self.axis == -1 else np.moveaxis(grad, -1, self.axis)

    def weighted_sum_and_gradient(self, y_true, y_pred, weight):
        """(weight * the sum of the values, its gradient over y_pred), for
        values weighted by one scalar; losses with a kernel for it override."""
        values, grad = self.compute(y_true, y_pred, True)
        return float((values * weight).sum()), grad * weight

    def value_and_logit_gradient(self, layer, context, y_true, y_pred, mask=None,
                                 sample_weight=None, scale=None):
        """(loss, scale * d loss / d logits) for the backward of the call of
        layer (context) that made y_pred, where the loss can take its
        gradient through the layer's activation (SparseCategoricalCrossentropy
        through softmax); None (here) where it cannot."""
        return None

    def compute(self, y_true, y_pred, gradient):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self._set_axis(axis)

    def _kernel_arguments(self, y_true, y_pred):
        y = np.ascontiguousarray(_same_rank(y_true, y_pred), dtype=np.float32)
        return y, np.ascontiguousarray(y_pred, dtype=np.float32), self.from_logits, \
            self.label_smoothing

    def compute(self, y_true, y_pred, gradient):
        args = self._kernel_arguments(y_true, y_pred)
        values = _kernels.binary_crossentropy_forward(*args)
        if not gradient:
            return values, None
        return values, _kernels.binary_crossentropy_backward(*args, 1.0 / y_pred.shape[-1])

    def weighted_sum_and_gradient(self, y_true, y_pred, weight):
        if type(self).compute is not BinaryCrossentropy.compute:  # a subclass's own loss
            return super().weighted_sum_and_gradient(y_true, y_pred, weight)
        return _kernels.binary_crossentropy_weighted_sum(
            *self._kernel_arguments(y_true, y_pred), weight)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalCrossentropy(Loss):
    """Over the last axis; y_true one-hot (or a distribution)."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self._set_axis(axis)

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
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class ids as y_true."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, axis=-1, **kwargs):
        super().__init__(from_logits=from_logits, axis=axis, **kwargs)

    def _ids(self, y_true, y_pred):
        """The class ids as a C-contiguous int64 array of shape y_pred.shape[:-1]."""
        classes, y_true = y_pred.shape[-1], np.asarray(y_true)
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if y_true.shape != y_pred.shape[:-1]:
            raise ValueError(f"sparse_categorical_crossentropy needs y_true of shape "
                             f"{y_pred.shape[:-1]}, got {y_true.shape}")
        ids = np.asarray(y_true)
        if not np.array_equal(ids, np.round(ids)) or ids.size and (ids.min() < 0 or ids.max() >= classes):
            raise ValueError(f"sparse_categorical_crossentropy needs integer y_true in "
                             f"[0, {classes}), got values in [{ids.min()}, {ids.max()}]")
        return np.ascontiguousarray(ids, dtype=np.int64)

    def _kernel(self, y_true, y_pred, row_scale):
        """(values, row_scale * their gradient) in one pass over y_pred, in C
        (no one-hot targets); the gradient is None when row_scale is None."""
        return _kernels.sparse_categorical_crossentropy(
            self._ids(y_true, y_pred), np.ascontiguousarray(y_pred, dtype=np.float32),
            self.from_logits, row_scale)

    def compute(self, y_true, y_pred, gradient):
        return self._kernel(y_true, y_pred, np.ones(y_pred.shape[:-1], np.float32)
                            if gradient else None)

    def value_and_gradient(self, y_true, y_pred, mask=None, sample_weight=None):
        if self.axis != -1:  # the class axis moved last and back, by Loss
            return super().value_and_gradient(y_true, y_pred, mask, sample_weight)
        self._check_training_reduction()
        y_pred = np.asarray(y_pred, np.float32)
        weights, row_scale = self._row_scale(y_pred.shape[:-1], mask, sample_weight)
        values, grad = self._kernel(y_true, y_pred, row_scale)
        return float((values * weights).sum()), grad

    def _row_scale(self, shape, mask, sample_weight, scale=None):
        """(the values' weights in the reduced loss, those times scale as a
        float32 array of the values' shape: each row's gradient scale)."""
        weights = self._weights(shape, mask, sample_weight)
        row_scale = weights if scale is None else weights * np.float32(scale)
        return weights, np.ascontiguousarray(np.broadcast_to(row_scale, shape), np.float32)

    def _overridden(self):
        """Whether a subclass redefines the loss (then only its own code runs)."""
        cls = type(self)
        return (cls.compute is not SparseCategoricalCrossentropy.compute
                or cls.value_and_gradient is not SparseCategoricalCrossentropy.value_and_gradient)

    def value_and_logit_gradient(self, layer, context, y_true, y_pred, mask=None,
                                 sample_weight=None, scale=None):
        """The training step's call when y_pred is the output of layer's call
        (context), read by nothing else: (loss, scale * d loss / d logits,
        written over y_pred, for that call's backward) when y_pred is a
        softmax of the call's logits (Layer.softmax_logit_grads), in one
        pass without d loss / d y_pred; None otherwise (from_logits, another
        axis, another layer), for value_and_gradient."""
        if self.from_logits or self.axis != -1 or self._overridden():
            return None
        self._check_training_reduction()
        ids = self._ids(y_true, y_pred)  # checked before the layer is told
        probabilities = layer.softmax_logit_grads(context)
        if probabilities is None:
            return None
        weights, row_scale = self._row_scale(ids.shape, mask, sample_weight, scale)
        values = _kernels.softmax_sparse_crossentropy_backward(
            ids.reshape(-1), probabilities, row_scale.reshape(-1), probabilities)
        return float((values.reshape(ids.shape) * weights).sum()), \
            probabilities.reshape(y_pred.shape)

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits, "axis": self.axis}


class _MeanOverLastAxis(Loss):
    """A loss that averages an element-wise term over the last axis;
    subclasses implement terms(y_true, y_pred) -> (term, d term / d y_pred)."""

    def compute(self, y_true, y_pred, gradient):
        y = _same_rank(y_true, y_pred).astype(np.float32)
        term, d_term = self.terms(y, y_pred)
        values = term.mean(axis=-1, dtype=np.float32)
        return values, (d_term * np.float32(1.0 / y_pred.shape[-1])).astype(np.float32) \
            if gradient else None


class MeanSquaredError(_MeanOverLastAxis):
    name = "mean_squared_error"

    def terms(self, y, p):
        diff = p - y
        return diff * diff, 2 * diff


class MeanAbsoluteError(_MeanOverLastAxis):
    name = "mean_absolute_error"

    def terms(self, y, p):
        diff = p - y
        return np.abs(diff), np.sign(diff)


class MeanSquaredLogarithmicError(_MeanOverLastAxis):
    name = "mean_squared_logarithmic_error"

    def terms(self, y, p):
        shifted = np.maximum(p, EPSILON) + 1
        diff = np.log(shifted) - np.log(np.maximum(y, EPSILON) + 1)
        return diff * diff, 2 * diff / shifted * (p > EPSILON)


class Huber(_MeanOverLastAxis):
    name = "huber_loss"

    def __init__(self, delta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.delta = float(delta)

    def terms(self, y, p):
        error = p - y
        delta = np.float32(self.delta)
        small = np.abs(error) <= delta
        return (np.where(small, np.float32(0.5) * error * error,
                         delta * np.abs(error) - np.float32(0.5) * delta * delta),
                np.where(small, error, delta * np.sign(error)))

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(_MeanOverLastAxis):
    name = "log_cosh"

    def terms(self, y, p):
        x = p - y
        return x + np.logaddexp(np.float32(0), -2 * x) - np.float32(np.log(2.0)), np.tanh(x)


class Poisson(_MeanOverLastAxis):
    name = "poisson"

    def terms(self, y, p):
        return p - y * np.log(p + EPSILON), 1 - y / (p + EPSILON)


def _hinge_labels(y):
    """Keras's convert_binary_labels_to_hinge: 0/1 labels become -1/1."""
    return 2 * y - 1 if np.isin(y, (0, 1)).all() else y


class Hinge(_MeanOverLastAxis):
    name = "hinge"

    def terms(self, y, p):
        y = _hinge_labels(y)
        margin = np.maximum(1 - y * p, np.float32(0))
        return margin, -y * (margin > 0)


class SquaredHinge(_MeanOverLastAxis):
    name = "squared_hinge"

    def terms(self, y, p):
        y = _hinge_labels(y)
        margin = np.maximum(1 - y * p, np.float32(0))
        return margin * margin, -2 * y * margin


class CosineSimilarity(Loss):
    """-cos(y_true, y_pred) over the last axis (Keras's l2 normalize, norms
    floored at epsilon)."""

    name = "cosine_similarity"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self._set_axis(axis)

    @staticmethod
    def _normalize(x):
        norms = np.sqrt(np.square(x).sum(axis=-1, keepdims=True, dtype=np.float32))
        return x / np.maximum(norms, EPSILON), norms

    def compute(self, y_true, y_pred, gradient):
        t, _ = self._normalize(_same_rank(y_true, y_pred).astype(np.float32))
        p, norms = self._normalize(y_pred)
        cosine = (t * p).sum(axis=-1, keepdims=True, dtype=np.float32)
        values = -cosine[..., 0]
        if not gradient:
            return values, None
        projected = np.where(norms > EPSILON, t - cosine * p, t)
        return values, (-projected / np.maximum(norms, EPSILON)).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class KLDivergence(Loss):
    name = "kl_divergence"

    def compute(self, y_true, y_pred, gradient):
        t = np.clip(_same_rank(y_true, y_pred).astype(np.float32), EPSILON, 1)
        p = np.clip(y_pred, EPSILON, 1)
        values = (t * np.log(t / p)).sum(axis=-1, dtype=np.float32)
        if not gradient:
            return values, None
        return values, (-t / p * ((y_pred >= EPSILON) & (y_pred <= 1))).astype(np.float32)


class BinaryFocalCrossentropy(Loss):
    """Binary cross-entropy scaled by (1 - p_t)^gamma, optionally by the
    class balance alpha, averaged over the last axis (Keras's formula)."""

    name = "binary_focal_crossentropy"

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha, self.gamma = float(alpha), float(gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self._set_axis(axis)

    def compute(self, y_true, y_pred, gradient):
        t = _same_rank(y_true, y_pred).astype(np.float32)
        if self.label_smoothing:
            t = t * np.float32(1 - self.label_smoothing) + np.float32(0.5 * self.label_smoothing)
        q = special.expit(y_pred).astype(np.float32) if self.from_logits else y_pred
        clipped = np.clip(q, EPSILON, 1 - EPSILON)
        bce = -(t * np.log(clipped) + (1 - t) * np.log(1 - clipped))
        miss = 1 - (t * q + (1 - t) * (1 - q))  # 1 - p_t
        gamma = np.float32(self.gamma)
        balance = t * np.float32(self.alpha) + (1 - t) * np.float32(1 - self.alpha) \
            if self.apply_class_balancing else np.float32(1)
        values = (balance * miss ** gamma * bce).mean(axis=-1, dtype=np.float32)
        if not gradient:
            return values, None
        inside = (q > EPSILON) & (q < 1 - EPSILON)
        d_bce = (-t / clipped + (1 - t) / (1 - clipped)) * inside
        d_q = balance * (miss ** gamma * d_bce
                         - gamma * miss ** (gamma - 1) * (2 * t - 1) * bce)
        if self.from_logits:
            d_q = d_q * q * (1 - q)
        return values, (d_q / np.float32(y_pred.shape[-1])).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "apply_class_balancing": self.apply_class_balancing,
                "alpha": self.alpha, "gamma": self.gamma, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalFocalCrossentropy(Loss):
    """sum(alpha * (1 - q)^gamma * -y_true * log(q)) over the last axis, q the
    normalised, clipped prediction (Keras's formula)."""

    name = "categorical_focal_crossentropy"

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.gamma = float(alpha), float(gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)
        self._set_axis(axis)

    def compute(self, y_true, y_pred, gradient):
        if y_true.shape != y_pred.shape:
            raise ValueError(f"categorical_focal_crossentropy needs one-hot y_true of shape "
                             f"{y_pred.shape}, got {y_true.shape}")
        t = y_true.astype(np.float32)
        if self.label_smoothing:
            t = t * np.float32(1 - self.label_smoothing) \
                + np.float32(self.label_smoothing / y_pred.shape[-1])
        s = special.softmax(y_pred, axis=-1).astype(np.float32) if self.from_logits else y_pred
        total = s.sum(axis=-1, keepdims=True)
        q = s / total
        clipped = np.clip(q, EPSILON, 1 - EPSILON)
        alpha, gamma = np.float32(self.alpha), np.float32(self.gamma)
        cross = -t * np.log(clipped)
        values = (alpha * (1 - clipped) ** gamma * cross).sum(axis=-1, dtype=np.float32)
        if not gradient:
            return values, None
        d_q = alpha * ((1 - clipped) ** gamma * -t / clipped
                       - gamma * (1 - clipped) ** (gamma - 1) * cross)
        d_q = d_q * ((q > EPSILON) & (q < 1 - EPSILON))
        d_s = (d_q - (d_q * q).sum(axis=-1, keepdims=True)) / total
        if self.from_logits:
            d_s = s * (d_s - (d_s * s).sum(axis=-1, keepdims=True))
        return values, d_s.astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma,
                "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


_BY_NAME = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "poisson": Poisson, "hinge": Hinge, "squared_hinge": SquaredHinge,
    "cosine_similarity": CosineSimilarity,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
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
mean_squared_logarithmic_error = msle = _loss_function(MeanSquaredLogarithmicError)
huber = _loss_function(Huber)
log_cosh = _loss_function(LogCosh)
poisson = _loss_function(Poisson)
hinge = _loss_function(Hinge)
squared_hinge = _loss_function(SquaredHinge)
cosine_similarity = _loss_function(CosineSimilarity)
kl_divergence = kld = _loss_function(KLDivergence)
binary_focal_crossentropy = _loss_function(BinaryFocalCrossentropy)
categorical_focal_crossentropy = _loss_function(CategoricalFocalCrossentropy)


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


