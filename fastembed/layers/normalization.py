"""Normalization: shifts and scales features by a mean and variance given
or learnt by adapt(), as Keras's Normalization: (x - mean) / max(sqrt(var),
1e-7), or its inverse."""
import numpy as np

from fastembed.engine.layer import Layer

VARIANCE_FLOOR = np.float32(1e-7)  # keras.backend.epsilon(), the smallest divisor


def adapt_batches(data):
    """data as a list of batches: an array is one batch; a list, tuple or
    iterable gives batches, each an array or an (x, y[, sample_weight]) tuple."""
    if isinstance(data, np.ndarray):
        return [data]
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise TypeError(f"adapt() takes a numpy array or an iterable of batches, got "
                        f"{type(data).__name__}")
    batches = [np.asarray(b[0] if isinstance(b, tuple) else b) for b in data]
    if not batches:
        raise ValueError("adapt() received an empty iterable (no batches). Expected at least "
                         "one batch.")
    return batches


class Normalization(Layer):
    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, (int, np.integer)) \
            else tuple(axis)
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError(f"When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"When setting values directly, `mean` and `variance` must "
                                 f"have the same shape. Received: mean shape {np.shape(mean)} "
                                 f"and variance shape {np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(isinstance(a, bool) or not -ndim <= a < ndim for a in self.axis):
            raise ValueError(f"All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={tuple(input_shape)}, "
                                 f"with unknown axis at index {a}")
        self._build_input_shape = tuple(input_shape)
        self._reduce_axis = tuple(a for a in range(ndim) if a not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep_axis else 1
                                      for a in range(ndim))
        stats_shape = tuple(input_shape[a] for a in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", stats_shape, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", stats_shape, "ones",
                                                  trainable=False)
            self.count = self.add_weight("count", (), "zeros", trainable=False)
        else:
            # The given values' axes are the last kept axes (Keras's broadcasting).
            mean, variance = (np.asarray(v, np.float32)
                              for v in (self.input_mean, self.input_variance))
            expanded = [1] * ndim
            for i in range(1, mean.ndim + 1):
                expanded[self._keep_axis[-i]] = mean.shape[-i]
            try:
                self._given = tuple(np.broadcast_to(v.reshape(expanded), self._broadcast_shape)
                                    for v in (mean, variance))
            except ValueError:
                raise ValueError(f"Normalization {self.name!r}: mean of shape {mean.shape} "
                                 f"cannot be broadcast to the kept axes {self._keep_axis} of "
                                 f"input shape {tuple(input_shape)}") from None
        self.built = True

    def _stats(self):
        """(mean, variance), broadcastable to the input."""
        if self.input_mean is not None:
            return self._given
        return (self.adapt_mean.value.reshape(self._broadcast_shape),
                self.adapt_variance.value.reshape(self._broadcast_shape))

    def adapt(self, data):
        """The mean and variance of data (an array, or an iterable of batches
        merged as Keras merges them) per index of the kept axes."""
        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name!r} was given mean and variance; adapt() "
                             f"would not change them")
        batches = adapt_batches(data)
        if not self.built:
            self.build_for(batches[0].shape)
        for batch in batches:
            if batch.dtype.kind not in "biuf":
                raise TypeError(f"Normalization.adapt needs numeric data, got dtype "
                                f"{batch.dtype}")
            if batch.ndim != len(self._build_input_shape) or any(
                    batch.shape[a] != self._build_input_shape[a] for a in self._keep_axis):
                raise ValueError(f"The layer was built with input_shape="
                                 f"{self._build_input_shape}, but adapt() is being called with "
                                 f"data with an incompatible shape, data.shape={batch.shape}")
        if len(batches) == 1 and isinstance(data, np.ndarray):
            mean = np.mean(data, axis=self._reduce_axis)
            variance = np.var(data, axis=self._reduce_axis)
        else:
            mean, variance, total = np.float32(0), np.float32(0), 0
            for batch in batches:
                batch = batch.astype(np.float32)
                count = int(np.prod([batch.shape[a] for a in self._reduce_axis]))
                total += count
                weight = np.float32(count / total)
                merged_mean = mean * (1 - weight) + batch.mean(axis=self._reduce_axis) * weight
                variance = ((variance + (mean - merged_mean) ** 2) * (1 - weight)
                            + (batch.var(axis=self._reduce_axis)
                               + (batch.mean(axis=self._reduce_axis) - merged_mean) ** 2) * weight)
                mean = merged_mean
        for variable, value in ((self.adapt_mean, mean), (self.adapt_variance, variance)):
            variable.assign(np.asarray(value, np.float32).reshape(variable.shape))

    def _scale(self, variance):
        return np.maximum(np.sqrt(variance), VARIANCE_FLOOR)

    def call(self, inputs):
        x = np.asarray(inputs)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"Normalization {self.name!r} needs numeric input, got dtype "
                            f"{x.dtype}")
        x = x.astype(np.float32, copy=False)
        mean, variance = self._stats()
        if self.invert:
            return (mean + x * self._scale(variance)).astype(np.float32)
        return ((x - mean) / self._scale(variance)).astype(np.float32)

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        scale = self._scale(self._stats()[1])
        dy = np.asarray(output_grads, np.float32)
        return (dy * scale if self.invert else dy / scale).astype(np.float32)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert,
                       "mean": np.array(self.input_mean).tolist(),
                       "variance": np.array(self.input_variance).tolist()})
        return config
