"""Metrics as Keras computes them: values per position (the last axis
reduced) averaged over every position seen since the last reset, weighted
by sample_weight (per sample, or per sample and time step; training passes
the output's mask, times the sample weights for weighted metrics)."""
import numpy as np

from scipy import special

from fastembed import _kernels
from fastembed import losses as losses_module
from fastembed.losses import broadcast_weights


class Metric:
    # The attributes reset_state sets: summed over processes by DataParallel.
    state_names = ("_total", "_count")

    def __init__(self, name):
        self.name = name
        self.reset_state()

    def reset_state(self):
        self._total = 0.0
        self._count = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.per_sample(np.asarray(y_true), np.asarray(y_pred))
        if sample_weight is None:
            self._total += float(values.sum())
            self._count += values.size
        else:
            weights = broadcast_weights(sample_weight, values.shape)
            self._total += float((values * weights).sum(dtype=np.float64))
            self._count += float(weights.sum(dtype=np.float64))

    def result(self):
        return float(self._total / self._count) if self._count else 0.0

    def per_sample(self, y_true, y_pred):
        raise NotImplementedError


class BinaryAccuracy(Metric):
    def __init__(self, name="binary_accuracy", threshold=0.5):
        self.threshold = threshold
        super().__init__(name)

    @staticmethod
    def _targets(y_true, y_pred):
        """y_true as float32 (the dtype Keras on jax gives targets), with
        Keras's expansion to y_pred's rank."""
        y_true = np.asarray(y_true, np.float32)
        if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
            return y_true[..., None]
        return y_true

    def per_sample(self, y_true, y_pred):
        hits = self._targets(y_true, y_pred) == (y_pred > self.threshold)
        return hits.mean(axis=-1, dtype=np.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.ascontiguousarray(y_pred, np.float32)
        y_true = self._targets(y_true, y_pred)
        if sample_weight is not None or y_true.shape != y_pred.shape or y_pred.ndim == 0:
            return super().update_state(y_true, y_pred, sample_weight)
        # The sum of the per-sample means, in one count.
        hits = _kernels.binary_accuracy_hits(np.ascontiguousarray(y_true), y_pred,
                                             self.threshold)
        self._total += hits / y_pred.shape[-1]
        self._count += y_pred.size // y_pred.shape[-1]


class CategoricalAccuracy(Metric):
    def __init__(self, name="categorical_accuracy"):
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


class SparseCategoricalAccuracy(Metric):
    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float32)


class Mean(Metric):
    """Mean of the values given to update_state (Keras's loss tracker)."""

    def __init__(self, name="mean"):
        super().__init__(name)

    def update_state(self, value, sample_weight=1):
        self._total += float(value) * sample_weight
        self._count += sample_weight


class _LossMetric(Metric):
    """The running mean of a loss's per-sample values (Keras's
    MeanMetricWrapper of the loss function)."""

    loss_class = None

    def __init__(self, name=None, **loss_arguments):
        self._loss = self.loss_class(**loss_arguments)
        super().__init__(name or self.loss_class.name)

    def per_sample(self, y_true, y_pred):
        return self._loss.per_sample(y_true, y_pred)


class MeanSquaredError(_LossMetric):
    loss_class = losses_module.MeanSquaredError


class MeanAbsoluteError(_LossMetric):
    loss_class = losses_module.MeanAbsoluteError


class BinaryCrossentropy(_LossMetric):
    loss_class = losses_module.BinaryCrossentropy

    def __init__(self, name="binary_crossentropy", from_logits=False, label_smoothing=0.0):
        super().__init__(name, from_logits=from_logits, label_smoothing=label_smoothing)


class RootMeanSquaredError(MeanSquaredError):
    def __init__(self, name="root_mean_squared_error"):
        super().__init__(name)

    def result(self):
        return float(np.sqrt(super().result()))


class TopKCategoricalAccuracy(Metric):
    """Whether the true class's score is among the k largest (ties count
    as in, as Keras's in_top_k); y_true one-hot."""

    def __init__(self, k=5, name="top_k_categorical_accuracy"):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
            raise ValueError(f"`k` must be a positive integer, got {k!r}")
        self.k = int(k)
        super().__init__(name)

    def _classes(self, y_true, y_pred):
        return np.argmax(y_true, axis=-1)

    def per_sample(self, y_true, y_pred):
        classes = self._classes(y_true, y_pred).astype(np.int64)
        if classes.shape != y_pred.shape[:-1]:
            raise ValueError(f"{self.name} needs targets of shape {y_pred.shape[:-1]} "
                             f"(one class per sample), got {y_true.shape}")
        scores = np.take_along_axis(y_pred, classes[..., None], axis=-1)[..., 0]
        if self.k >= y_pred.shape[-1]:
            return np.ones(scores.shape, np.float32)
        kth = -np.partition(-y_pred, self.k - 1, axis=-1)[..., self.k - 1]
        return (scores >= kth).astype(np.float32)


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """TopKCategoricalAccuracy with integer class ids as y_true."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy"):
        super().__init__(k, name)

    def _classes(self, y_true, y_pred):
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        return y_true


NEG_INF = -1e10  # Keras's score of the predictions outside the top k


def _confusion_inputs(y_true, y_pred, sample_weight, from_logits=False, top_k=None,
                      class_id=None, label_weights=None):
    """(labels as bools, predictions, weights), each (predictions, labels),
    as Keras's update_confusion_matrix_variables takes them: predictions
    outside each row's top_k set to NEG_INF, then the class_id column alone,
    weights times label_weights (one per label)."""
    y_pred = np.asarray(y_pred, np.float32)
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} and "
                         f"{y_pred.shape}")
    if from_logits:
        y_pred = special.expit(y_pred)
    weights = np.ones(y_pred.shape, np.float32) if sample_weight is None else \
        broadcast_weights(sample_weight, y_pred.shape)
    if top_k is not None:
        # Keras's top_k: the k largest of each row, the lower index first on ties
        outside = np.argsort(-y_pred, axis=-1, kind="stable")[..., top_k:]
        y_pred = y_pred.copy()
        np.put_along_axis(y_pred, outside, np.float32(NEG_INF), axis=-1)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"When class_id is provided, y_pred must be a 2D array with "
                             f"shape (num_samples, num_classes), found shape: {y_pred.shape}")
        if not 0 <= class_id < y_pred.shape[-1]:
            raise IndexError(f"class_id={class_id} is out of range for predictions of "
                             f"{y_pred.shape[-1]} classes")
        y_true, y_pred, weights = (a[..., class_id:class_id + 1] for a in (y_true, y_pred,
                                                                           weights))
    if label_weights is not None:
        weights = weights * label_weights
    labels = y_pred.shape[-1] if y_pred.ndim > 1 else 1
    return (y_true.reshape(-1, labels) != 0, y_pred.reshape(-1, labels),
            weights.reshape(-1, labels))


class _ConfusionMetric(Metric):
    """Weighted counts of true/false positives/negatives at thresholds (a
    prediction above a threshold is positive); per label, with shape
    (thresholds, labels), when multi_label."""

    multi_label = False
    top_k = class_id = label_weights = None

    state_names = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, name, thresholds):
        self.thresholds = np.asarray(thresholds, np.float64)
        super().__init__(name)

    def reset_state(self):
        shape = self.thresholds.shape + ((self._num_labels,) if self.multi_label else ())
        self.true_positives, self.false_positives = np.zeros(shape), np.zeros(shape)
        self.true_negatives, self.false_negatives = np.zeros(shape), np.zeros(shape)

    def _check_labels(self, y_pred):
        pass

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._check_labels(np.shape(y_pred))
        positive, scores, weights = _confusion_inputs(
            y_true, y_pred, sample_weight, getattr(self, "from_logits", False), self.top_k,
            self.class_id, None if self.multi_label else self.label_weights)
        if not self.multi_label:
            positive, scores, weights = (a.reshape(-1, 1) for a in (positive, scores, weights))
        # above[i, j]: the thresholds prediction [i, j] exceeds are thresholds[:above[i, j]]
        n, labels = len(self.thresholds), scores.shape[1]
        above = np.searchsorted(self.thresholds, scores.astype(np.float64), side="left")
        bins = above + (n + 1) * np.arange(labels)  # one run of n + 1 bins per label
        for is_positive, hits, misses in ((positive, self.true_positives, self.false_negatives),
                                          (~positive, self.false_positives,
                                           self.true_negatives)):
            counts = np.bincount(bins[is_positive], weights[is_positive],
                                 minlength=(n + 1) * labels).reshape(labels, n + 1).T
            exceeding = np.cumsum(counts[::-1], axis=0)[::-1][1:]  # weight above thresholds[i]
            hits += exceeding.reshape(hits.shape)
            misses += (counts.sum(axis=0) - exceeding).reshape(misses.shape)


def _single_threshold(thresholds, top_k, name):
    """Keras's default: 0.5, or NEG_INF with top_k (every top-k prediction
    counts as positive)."""
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(
            top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"{name}: `top_k` must be a positive integer, got {top_k!r}")
    if thresholds is None:
        return 0.5 if top_k is None else NEG_INF
    value = float(np.asarray(thresholds).reshape(-1)[0]) if np.size(thresholds) == 1 else None
    if value is None or not 0 <= value <= 1:
        raise ValueError(f"{name}: `thresholds` must be one number in [0, 1], got "
                         f"{thresholds!r}")
    return value


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator else 0.0


class _AtThreshold(_ConfusionMetric):
    """A ratio of the counts at one threshold (0.5 by default), of the top_k
    predictions of each row and of class class_id alone when given."""

    default_name = None

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        name = name or self.default_name
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(
                class_id, (int, np.integer)) or class_id < 0):
            raise ValueError(f"{name}: `class_id` must be a non-negative integer, got "
                             f"{class_id!r}")
        self.top_k, self.class_id = top_k, class_id
        super().__init__(name, [_single_threshold(thresholds, top_k, name)])


class Precision(_AtThreshold):
    default_name = "precision"

    def result(self):
        tp, fp = self.true_positives[0], self.false_positives[0]
        return _ratio(tp, tp + fp)


class Recall(_AtThreshold):
    default_name = "recall"

    def result(self):
        tp, fn = self.true_positives[0], self.false_negatives[0]
        return _ratio(tp, tp + fn)


class AUC(_ConfusionMetric):
    """Keras's AUC: the ROC or PR curve from counts at num_thresholds
    evenly spaced thresholds (with -epsilon and 1 + epsilon at the ends),
    summed by the trapezoidal rule ('interpolation'; for PR, Davis and
    Goadrich's interpolation, as Keras), 'minoring' or 'majoring'."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name="auc", thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of '
                             f'"ROC", "PR"')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid `summation_method` argument value "{summation_method}"'
                             f'. Expected one of "interpolation", "minoring", "majoring"')
        if num_labels is not None and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        if num_labels is not None and (isinstance(num_labels, bool) or not isinstance(
                num_labels, (int, np.integer)) or num_labels < 1):
            raise ValueError(f"`num_labels` must be a positive integer, got {num_labels!r}")
        if label_weights is not None:
            label_weights = np.asarray(label_weights, np.float32).reshape(-1)
            if not np.isfinite(label_weights).all() or (label_weights < 0).any():
                raise ValueError(f"`label_weights` must be finite and non-negative, got "
                                 f"{label_weights.tolist()}")
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = label_weights
        self._num_labels = num_labels or 0  # known from the first batch otherwise
        if thresholds is not None:
            inner = sorted(float(t) for t in np.asarray(thresholds).reshape(-1))
        else:
            if isinstance(num_thresholds, bool) or not isinstance(
                    num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        epsilon = 1e-7
        self.curve, self.summation_method = curve, summation_method
        self.num_thresholds = len(inner) + 2
        self.from_logits = bool(from_logits)
        super().__init__(name, [0.0 - epsilon] + inner + [1.0 + epsilon])

    def _check_labels(self, shape):
        """The labels of multi_label: fixed by num_labels or the first batch."""
        if not self.multi_label:
            if self.label_weights is not None and shape[-1] != len(self.label_weights):
                raise ValueError(f"{self.name}: label_weights has {len(self.label_weights)} "
                                 f"entries, the predictions of shape {tuple(shape)} "
                                 f"{shape[-1]} labels")
            return
        if len(shape) != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                             f"{len(shape)}. Full shape received for `y_pred`: {tuple(shape)}")
        if not self._num_labels:
            self._num_labels = shape[1]
            self.reset_state()
        if shape[1] != self._num_labels:
            raise ValueError(f"{self.name}: predictions of {shape[1]} labels; this "
                             f"multi_label AUC counts {self._num_labels} labels")
        if self.label_weights is not None and len(self.label_weights) != shape[1]:
            raise ValueError(f"{self.name}: label_weights has {len(self.label_weights)} "
                             f"entries for {shape[1]} labels")

    def _by_label(self, areas):
        """Keras's result of per-label areas: their mean, or weighted by label_weights."""
        if not self.multi_label:
            return float(areas.sum())
        by_label = areas.sum(axis=0)
        if self.label_weights is None:
            return float(by_label.mean()) if by_label.size else 0.0
        return float(_divide_no_nan((by_label * self.label_weights).sum(),
                                    self.label_weights.sum()))

    def result(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._by_label((x[:-1] - x[1:]) * heights)

    def _interpolated_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        d_tp = tp[:-1] - tp[1:]
        p = tp + fp
        d_p = p[:-1] - p[1:]
        slope = _divide_no_nan(d_tp, np.maximum(d_p, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide_no_nan(slope * (d_tp + intercept * np.log(ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0))
        return self._by_label(increments)


class FBetaScore(Metric):
    """Keras's F-beta score of (batch, classes) predictions: a prediction is
    positive above `threshold`, or where it is its row's maximum when
    threshold is None; per class (average=None), or averaged 'micro',
    'macro' or 'weighted'."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score"):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"Invalid `average` argument value. Expected one of: None, "
                             f"'micro', 'macro', 'weighted'. Received: average={average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float "
                             f"> 0. Received: beta={beta!r}")
        if threshold is not None and not (isinstance(threshold, (int, float))
                                          and 0 < threshold <= 1):
            raise ValueError(f"Invalid `threshold` argument value. It should be a Python "
                             f"float in the range ]0, 1]. Received: threshold={threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name)

    state_names = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = 0.0
        self.intermediate_weights = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, np.float32)
        y_pred = np.asarray(y_pred, np.float32)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{self.name} needs y_true and y_pred of one shape (batch, "
                             f"classes), got {y_true.shape} and {y_pred.shape}")
        if self.threshold is None:
            positive = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            positive = y_pred > self.threshold
        positive = positive.astype(np.float32)
        weights = np.float32(1) if sample_weight is None else \
            broadcast_weights(sample_weight, y_pred.shape[:1])[:, None]
        axis = None if self.average == "micro" else 0
        self.true_positives += (weights * positive * y_true).sum(axis=axis)
        self.false_positives += (weights * positive * (1 - y_true)).sum(axis=axis)
        self.false_negatives += (weights * (1 - positive) * y_true).sum(axis=axis)
        self.intermediate_weights += (weights * y_true).sum(axis=axis)

    def result(self):
        epsilon = 1e-7
        tp = np.asarray(self.true_positives, np.float64)
        precision = tp / (tp + self.false_positives + epsilon)
        recall = tp / (tp + self.false_negatives + epsilon)
        beta2 = self.beta ** 2
        score = precision * recall / (beta2 * precision + recall + epsilon) * (1 + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + epsilon)
            return float(np.sum(score * weights))
        if self.average is not None:
            return float(np.mean(score))
        return score.astype(np.float32)


class F1Score(FBetaScore):
    def __init__(self, average=None, threshold=None, name="f1_score"):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name)


def _divide_no_nan(numerator, denominator):
    denominator = np.asarray(denominator, np.float64)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "auc": AUC, "precision": Precision, "recall": Recall,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "f1_score": F1Score, "fbeta_score": FBetaScore,
}
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values())}


def get(identifier, y_true_shape, y_pred_shape):
    """A Metric from a name or instance; 'accuracy'/'acc' resolved as Keras does
    from the shapes of the targets and the predictions. A metric given by
    name is named by it in the logs, as Keras names it."""
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str):
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
    if identifier.lower() in ("accuracy", "acc"):
        if y_pred_shape[-1] == 1:
            return BinaryAccuracy(name=identifier)
        if len(y_true_shape) < len(y_pred_shape) or y_true_shape[-1] == 1:
            return SparseCategoricalAccuracy(name=identifier)
        return CategoricalAccuracy(name=identifier)
    cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
    if cls is None:
        raise ValueError(f"Unknown metric: {identifier!r}; expected 'accuracy' or one of "
                         f"{sorted(_BY_NAME)}")
    return cls(name=identifier)
