"""Metrics as Keras computes them: values per position (the last axis
reduced) averaged over every position seen since the last reset, weighted
by sample_weight (per sample, or per sample and time step; training passes
the output's mask, times the sample weights for weighted metrics)."""
import numpy as np

from fastembed.losses import broadcast_weights


class Metric:
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

    def _hits(self, y_true, y_pred):
        if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
            y_true = y_true[..., None]
        return y_true == (y_pred > self.threshold)

    def per_sample(self, y_true, y_pred):
        return self._hits(y_true, y_pred).mean(axis=-1, dtype=np.float32)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            return super().update_state(y_true, y_pred, sample_weight)
        # The sum of the per-sample means, in one count (a third of the time).
        hits = self._hits(np.asarray(y_true), np.asarray(y_pred))
        self._total += np.count_nonzero(hits) / hits.shape[-1]
        self._count += hits.size // hits.shape[-1]


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


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}


def get(identifier, y_true_shape, y_pred_shape):
    """A Metric from a name or instance; 'accuracy'/'acc' resolved as Keras does
    from the shapes of the targets and the predictions."""
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
    if identifier not in _BY_NAME:
        raise ValueError(f"Unknown metric: {identifier!r}; expected 'accuracy' or one of "
                         f"{sorted(_BY_NAME)}")
    return _BY_NAME[identifier]()
