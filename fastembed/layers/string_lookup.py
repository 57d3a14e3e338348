"""StringLookup: strings to integer indices (or back, with invert=True),
as Keras's StringLookup, without TensorFlow. Inputs are numpy arrays (or
lists) of str or bytes, of any shape; str is read as UTF-8."""
import numpy as np

from fastembed._kernels import _core
from fastembed.layers.index_lookup import IndexLookup


class StringLookup(IndexLookup):
    takes_strings = True
    _integer_keys = False

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, **kwargs)

    def _encode(self, tokens):
        encoded = []
        for i, token in enumerate(tokens):
            if isinstance(token, str):
                token = token.encode("utf-8")
            elif not isinstance(token, bytes):
                raise TypeError(f"StringLookup {self.name!r}: vocabulary tokens must be str or "
                                f"bytes, but token {i} is {token!r} ({type(token).__name__})")
            encoded.append(token)
        return encoded

    def _decode(self, tokens):
        return [token.decode(self.encoding) for token in tokens]

    def _tokens_from_text(self, lines):
        return lines

    def _keys(self, values, name):
        return _core.StringBatch(values, name)

    def _oov_buckets(self, keys):
        return _core.hash_buckets(keys, self.num_oov_indices, self.salt)

    def _equal(self, keys, token):
        return _core.VocabularyTable(self._encode([token])).lookup(keys) == 0

    def _inverse_table(self):
        """Tokens by index as bytes, as Keras's StringLookup(invert=True) returns them."""
        table = np.empty(self.vocabulary_size(), dtype=object)
        table[:] = self._encode(self.get_vocabulary())
        return table

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config
