"""IntegerLookup: integer ids (sparse, any int64 values) to contiguous
indices (or back, with invert=True), as Keras's IntegerLookup, without
TensorFlow."""
import numpy as np

from fastembed._kernels import _core
from fastembed.layers.index_lookup import IndexLookup, as_int64


class IntegerLookup(IndexLookup):
    _integer_keys = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater "
                             f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` must "
                             f">= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                             f"Received: oov_method={oov_method}")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
                         oov_method=oov_method, salt=salt, name=name, **kwargs)

    def _encode(self, tokens):
        return as_int64(tokens, "vocabulary").ravel()

    def _decode(self, tokens):
        return [int(token) for token in tokens]

    def _tokens_from_text(self, lines):
        return [int(line) for line in lines]

    def _keys(self, values, name):
        return as_int64(values, name)

    def _oov_buckets(self, keys):
        if self.oov_method == "floormod":
            return np.mod(keys, self.num_oov_indices)
        return _core.hash_buckets(keys, self.num_oov_indices, self.salt)

    def _equal(self, keys, token):
        return keys == token

    def _inverse_table(self):
        return np.array(self.get_vocabulary(), dtype=np.int64)

    def get_config(self):
        config = super().get_config()
        config["vocabulary_dtype"] = self.vocabulary_dtype
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        return config
