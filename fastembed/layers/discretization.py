"""Discretization: the bin of each value among bin_boundaries (given, or
quantiles that adapt() estimates with Keras's summaries), encoded as
Keras's Discretization encodes it."""
import numpy as np

from fastembed.engine.layer import Layer
from fastembed.layers.category_encoding import encode_categorical
from fastembed.layers.normalization import adapt_batches


def summarize(values, epsilon):
    """Keras's summary of values: every step-th sorted value, weight step
    (step = size * epsilon, at least 1); 2 rows, values and weights."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def compress_summary(summary, epsilon):
    """The summary interpolated at cumulative weight fractions epsilon, 2 epsilon, ... 1."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def merge_summaries(previous, following, epsilon):
    merged = np.concatenate((previous, following), axis=1)
    return compress_summary(np.take(merged, np.argsort(merged[0]), axis=1), epsilon)


OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


class Discretization(Layer):
    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        super().__init__(**kwargs)
        if sparse:
            raise ValueError(f"`sparse=True` is not supported by fastembed (dense numpy "
                             f"outputs). Received: sparse={sparse}")
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Invalid value for argument output_mode passed to Discretization. "
                             f"Expected one of {list(OUTPUT_MODES)}. Received: "
                             f"output_mode={output_mode!r}")
        if num_bins is not None and (isinstance(num_bins, bool) or num_bins < 0):
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b > a for b, a in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError(f"`bin_boundaries` must be sorted in ascending order. "
                                 f"Received: bin_boundaries={bin_boundaries}")
        if not 0 < epsilon <= 1:
            raise ValueError(f"`epsilon` must be in (0, 1]. Received: epsilon={epsilon}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode

    def adapt(self, data, steps=None):
        """bin_boundaries: num_bins - 1 quantiles of data (an array or an
        iterable of batches, the first `steps` of them), estimated as Keras does."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        batches = adapt_batches(data)
        if steps is not None and not isinstance(data, np.ndarray):
            batches = batches[:steps]
        summary = np.array([[], []], dtype="float32")
        for batch in batches:
            if batch.dtype.kind not in "biuf":
                raise TypeError(f"Discretization.adapt needs numeric data, got dtype "
                                f"{batch.dtype}")
            summary = merge_summaries(summarize(batch.astype("float32"), self.epsilon), summary,
                                      self.epsilon)
        if not summary.shape[1]:
            raise ValueError("Discretization.adapt received no values")
        self.bin_boundaries = compress_summary(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def _depth(self):
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if self.output_mode == "one_hot":
            kept = input_shape[:-1] if len(input_shape) > 1 and input_shape[-1] == 1 \
                else input_shape
            return kept + (self._depth(),)
        if len(input_shape) >= 2:
            return (input_shape[0],) + input_shape[2:] + (self._depth(),)
        return (self._depth(),)

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             "using the `Discretization` layer.")
        x = np.asarray(inputs)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"Discretization {self.name!r} needs numeric input, got dtype "
                            f"{x.dtype}")
        indices = np.digitize(x.astype(np.float32), np.asarray(self.bin_boundaries, np.float32))
        if self.output_mode == "int":
            return indices.astype(np.int32)
        if self.output_mode != "one_hot" and indices.ndim > 2:
            indices = np.moveaxis(indices, 1, -1)  # Keras counts along axis 1
        return encode_categorical(indices, self.output_mode, self._depth())

    def get_config(self):
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": False})
        return config

    @classmethod
    def from_config(cls, config):
        """After adapt, a config holds both num_bins and bin_boundaries (as Keras's)."""
        config = dict(config)
        bin_boundaries = config.pop("bin_boundaries", None)
        if config.get("num_bins") is None:
            config["bin_boundaries"] = bin_boundaries
        layer = super().from_config(config)
        layer.bin_boundaries = bin_boundaries
        return layer
