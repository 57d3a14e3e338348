"""Hashing: values to hash bins, as Keras's Hashing on TensorFlow: strings
(and integers as their decimal text) hashed with FarmHash Fingerprint64
(tf.strings.to_hash_bucket_fast) or, with salt, SipHash-2-4 keyed by the
salt (to_hash_bucket_strong); bin 0 is kept for mask_value when set."""
import numpy as np

from fastembed._kernels import _core
from fastembed.engine.layer import Layer
from fastembed.layers.category_encoding import (NoGradientMixin, encode_categorical,
                                                encoded_shape)


def hash_salt(salt, layer):
    """Keras's `salt`: None, one integer (used for both key words) or two
    integers, as the [k0, k1] list of the keyed (SipHash) buckets."""
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(s) for s in salt]
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    raise ValueError(f"The `salt` argument for `{layer}` can only be a tuple of size 2 "
                     f"integers, or a single integer. Received: salt={salt}.")


class Hashing(NoGradientMixin, Layer):
    takes_strings = True
    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        if num_bins is None or isinstance(num_bins, bool) or \
                not isinstance(num_bins, (int, np.integer)) or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        accepted_output_modes = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in accepted_output_modes:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{accepted_output_modes}. Received: output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` is not supported: fastembed's outputs are dense "
                             "numpy arrays")
        salt = hash_salt(salt, "Hashing")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = salt
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs):
        values = np.asarray(inputs) if isinstance(inputs, np.ndarray) else \
            np.asarray(inputs, dtype=object)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        bins = self.num_bins
        masked = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            masked = values == self.mask_value
        if values.dtype.kind in "fiub" or (values.dtype == object and values.size
                                           and isinstance(values.flat[0], (int, float, np.number))):
            keys = self._integers(values)
        else:
            keys = _core.StringBatch(values, "inputs")
        ids = _core.hash_buckets(keys, bins, self.salt)
        if masked is not None:
            ids += 1
            ids[np.asarray(masked, dtype=bool)] = 0
        if self.output_mode == "int":
            return ids
        return encode_categorical(ids, self.output_mode, self.num_bins)

    @staticmethod
    def _integers(values):
        """Numbers as TensorFlow hashes them: floats truncated to int64 (as
        tf.cast), then their decimal text."""
        if values.dtype == object:
            if any(not isinstance(v, (int, float, np.number)) or isinstance(v, bool)
                   for v in values.flat):
                raise TypeError("Hashing inputs must all be strings or all be numbers, got a mix "
                                f"of types {sorted({type(v).__name__ for v in values.flat})}")
            values = values.astype(np.float64 if any(isinstance(v, float) for v in values.flat)
                                   else np.int64)
        if values.dtype.kind == "f":
            if not np.isfinite(values).all():
                raise ValueError("Hashing inputs hold NaN or infinity, which has no integer "
                                 "value to hash")
            values = values.astype(np.int64)
        return np.ascontiguousarray(values, dtype=np.int64)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, "multi_hot" if self.output_mode != "one_hot"
                             else "one_hot", self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
                      output_mode=self.output_mode, sparse=self.sparse)
        return config
