"""IndexLookup: the base of StringLookup and IntegerLookup, as Keras's.

A vocabulary of distinct tokens maps each token to an index; indices
start after the reserved ones: the mask index 0 (when mask_token is set
and output_mode is "int"), then num_oov_indices OOV indices. An
out-of-vocabulary value goes to the one OOV index or, with several, to
its hash bucket (TensorFlow's FarmHash to_hash_bucket_fast, or SipHash
to_hash_bucket_strong with salt), so outputs equal Keras's on TensorFlow.
adapt() counts tokens and keeps the most frequent, ties broken as Keras
breaks them (by token, high to low). The table and counts live in C
(csrc/lookup.c); subclasses say how keys are represented.
"""
import os

import numpy as np

from fastembed._kernels import _core
from fastembed.engine.layer import Layer
from fastembed.layers.hashing import hash_salt
from fastembed.utils.config import keras_arguments
from fastembed.layers.category_encoding import (NoGradientMixin, encode_categorical,
                                                encoded_shape)

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def as_int64(values, name):
    """values (an array or list of integers) as int64; floats, strings and
    missing values are refused, as TensorFlow refuses them for int64."""
    array = np.asarray(values) if isinstance(values, np.ndarray) else \
        np.asarray(values, dtype=object)
    if array.dtype == object:
        flat = array.ravel()
        for i, value in enumerate(flat):
            if value is None or (isinstance(value, float) and value != value):
                raise ValueError(f"{name}[{i}] is {value!r}: integer inputs cannot hold missing "
                                 "values (None or NaN)")
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must hold only integers, but {name}[{i}] = {value!r} "
                                f"is of type {type(value).__name__}")
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got an array of dtype {array.dtype}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds {array.max()}, beyond int64")
    return np.ascontiguousarray(array, dtype=np.int64)


class IndexLookup(NoGradientMixin, Layer):
    """Subclasses define _keys(inputs, name) (values as the table reads
    them), _encode(tokens) / _decode(tokens) (Python tokens to table tokens
    and back), _oov_buckets(keys) and _equal(keys, token)."""

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If set, `max_tokens` must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"`oov_method` must be 'floormod' or 'farmhash'. "
                             f"Received: oov_method={oov_method!r}")
        salt = hash_salt(salt, "IndexLookup")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of "
                             f"{OUTPUT_MODES}. Received: output_mode={output_mode}")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` is not supported: fastembed's outputs are dense "
                             "numpy arrays (Keras allows it on the TensorFlow backend alone)")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                             f"Received: idf_weights={idf_weights} and output_mode={output_mode}")
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.oov_method = oov_method
        self.salt = salt
        # A path is not kept: the vocabulary goes with the model (Keras: as an asset).
        self.input_vocabulary = None if isinstance(vocabulary, (str, os.PathLike)) \
            else vocabulary
        self.input_idf_weights = idf_weights
        self.idf_weights = None
        if max_tokens is not None and max_tokens < self._token_start_index():
            raise ValueError(f"`max_tokens` must be at least the number of reserved indices "
                             f"(mask and OOV), {self._token_start_index()}. Received: "
                             f"max_tokens={max_tokens}, mask_token={mask_token!r}, "
                             f"num_oov_indices={num_oov_indices}")
        self._set_tokens(self._encode([]))
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, "
                             "the `idf_weights` argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ---- vocabulary --------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """Size of the vocabulary, with the mask and OOV indices."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: index i of the list is the token of output i
        (with include_special_tokens; else the learned tokens alone)."""
        tokens = self._decode(self._tokens)
        if not include_special_tokens:
            return tokens
        mask = [self.mask_token] * self._oov_start_index()
        return mask + [self.oov_token] * self.num_oov_indices + tokens

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (a list/array of tokens or a text file of one
        token per line) and, in "tf_idf" mode, its idf weights."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.isfile(vocabulary):
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.")
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary "
                                 "from file.")
            vocabulary = self._tokens_from_text(self._read_vocabulary_file(vocabulary))
        vocabulary = list(np.asarray(vocabulary).tolist()) if isinstance(vocabulary, np.ndarray) \
            else list(vocabulary)
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        encoded = self._encode(tokens)
        table = _core.VocabularyTable(encoded)
        positions, _ = table.lookup(self._keys(encoded, "vocabulary"))
        repeated = positions != np.arange(len(tokens))
        if repeated.any():
            raise ValueError("The passed vocabulary has at least one repeated term. Please "
                             "uniquify your dataset. The repeated terms are: "
                             f"{sorted(set(np.asarray(tokens, dtype=object)[repeated].tolist()))}")
        for argument, token in (("mask_token", self.mask_token),
                                ("oov_token", self.oov_token if self.invert else None)):
            if token is not None and token in tokens:
                raise ValueError(
                    "Found reserved mask token at unexpected location in `vocabulary`. "
                    if argument == "mask_token" else
                    "Found reserved OOV token at unexpected location in `vocabulary`. "
                    f"Note that passed `vocabulary` does not need to include the OOV and mask "
                    f"tokens. Either remove all mask and OOV tokens, or include them only at "
                    f"the start of the vocabulary in precisely this order: {special}. "
                    f"Received: {argument}={token} at vocabulary index "
                    f"{vocabulary.index(token, token_start if found_special else 0)}")
        size = token_start + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {size}; `max_tokens` is "
                             f"{self.max_tokens}.")
        self._set_tokens(encoded, table)
        if self.output_mode == "tf_idf":
            idf_weights = np.asarray(idf_weights, dtype=np.float64)
            if len(vocabulary) != len(idf_weights):
                raise ValueError("`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(idf_weights)}; len(vocabulary) is "
                                 f"{len(vocabulary)}")
            if idf_weights.ndim != 1:
                raise ValueError("TF-IDF data must be a 1-index array. "
                                 f"Received: type(idf_weights)={type(idf_weights)}")
            front = 0 if found_special else token_start
            self._set_idf_weights(idf_weights, front, np.average(idf_weights))

    def _set_idf_weights(self, weights, front, front_value):
        """idf weights per output index: front copies of front_value for the
        reserved indices, zeros up to max_tokens with pad_to_max_tokens."""
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens else 0
        self.idf_weights = np.pad(np.asarray(weights, np.float32), (front, back),
                                  constant_values=(np.float32(front_value), 0)).astype(np.float32)

    def _set_tokens(self, tokens, table=None):
        self._tokens = tokens
        self._table = table if table is not None else _core.VocabularyTable(tokens)
        if self.output_mode != "int" and not self.pad_to_max_tokens and len(tokens):
            if self._frozen_vocab_size is not None and \
                    self._frozen_vocab_size != self.vocabulary_size() and self.built:
                raise RuntimeError(
                    f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                    f"the vocabulary size cannot be changed after the layer is called. Old "
                    f"vocab size is {self._frozen_vocab_size}, new vocab size is "
                    f"{self.vocabulary_size()}")
        if len(tokens):
            self._frozen_vocab_size = self.vocabulary_size()

    def _read_vocabulary_file(self, path):
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    # ---- adapt -------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn the vocabulary from data (an array, or an iterable of
        batches): tokens by count, high to low, ties by token, high to low;
        the first max_tokens minus the reserved ones are kept."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` method.")
        counter = _core.TokenCounter(self._integer_keys)
        if isinstance(data, (list, tuple, np.ndarray)):
            data = np.asarray(data) if isinstance(data, np.ndarray) else \
                np.asarray(data, dtype=object)
            batches = [data[:, None] if data.ndim == 1 else data]
        else:
            batches = (batch for i, batch in enumerate(data) if steps is None or i < steps)
        for batch in batches:
            batch = np.asarray(batch) if isinstance(batch, np.ndarray) else \
                np.asarray(batch, dtype=object)
            if batch.ndim <= 1:  # a 1-D batch is one document (Keras's update_state)
                batch = batch.reshape(1, -1)
            counter.add(self._keys(batch, "data"), max(batch.shape[-1], 1))
        self.learn_vocabulary(counter)

    def learn_vocabulary(self, counter):
        """Take the vocabulary a _core.TokenCounter counted (the end of
        adapt, shared with TextVectorization): tokens by count, high to low,
        ties by token, high to low (Keras's order), less the mask and OOV
        tokens, the first max_tokens minus the reserved ones; in "tf_idf"
        mode, the idf weights log(1 + documents / (1 + documents holding
        the token))."""
        specials = [special for special in (self.mask_token, self.oov_token)
                    if special is not None]
        limit = self.max_tokens - self._token_start_index() if self.max_tokens else None
        learned, _, document_counts = counter.vocabulary(
            [self._encode([special])[0] for special in specials], limit)
        self._set_tokens(learned)
        if self.output_mode == "tf_idf":
            idf = np.log(1 + counter.n_documents / (1 + document_counts)).astype(np.float32)
            self._set_idf_weights(idf, self._token_start_index(),
                                  idf.mean() if len(idf) else np.nan)

    # ---- call --------------------------------------------------------------
    def call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        keys = self._keys(inputs, "inputs")
        oov = self._oov_start_index() if self.num_oov_indices == 1 else -1
        ids, n_missing = self._table.lookup(keys, self._token_start_index(), oov)
        if n_missing and self.num_oov_indices != 1:
            missing = ids == -1
            if self.num_oov_indices == 0:
                p = int(np.argmax(missing.ravel()))
                raise ValueError(f"{type(self).__name__} {self.name!r}: when "
                                 f"`num_oov_indices=0` all inputs should be in vocabulary, found "
                                 f"OOV value {self._value_at(inputs, p)!r} at "
                                 f"inputs[{','.join(map(str, np.unravel_index(p, ids.shape)))}]"
                                 f", consider setting `num_oov_indices=1`.")
            ids[missing] = (self._oov_buckets(keys) + self._oov_start_index())[missing]
        if self.mask_token is not None:
            masked = self._equal(keys, self.mask_token)
            ids[masked] = 0 if self.output_mode == "int" else -1
        if self.output_mode == "int":
            return ids
        if self._frozen_vocab_size is None and not self.pad_to_max_tokens:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and "
                               "`pad_to_max_tokens=False`, you must set the layer's vocabulary "
                               "before calling it. Either pass a `vocabulary` argument to the "
                               "layer, or call `adapt` with some sample data.")
        encoded = encode_categorical(ids, "count" if self.output_mode == "tf_idf"
                                     else self.output_mode, self._depth())
        if self.output_mode == "tf_idf":
            encoded *= self.idf_weights
        return encoded

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def _value_at(self, inputs, flat_position):
        return np.asarray(inputs).ravel()[flat_position:flat_position + 1].tolist()[0]

    def _invert(self, inputs):
        ids = as_int64(inputs, "inputs")
        size = self.vocabulary_size()
        bad = (ids < 0) | (ids >= size)
        if bad.any():
            p = np.unravel_index(int(np.argmax(bad)), ids.shape)
            raise IndexError(f"{type(self).__name__} {self.name!r} (invert=True): "
                             f"inputs[{','.join(map(str, p))}] = {ids[p]} is not an index of "
                             f"the vocabulary, [0, {size})")
        return self._inverse_table()[ids]

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, self._depth())

    # ---- config and assets -------------------------------------------------
    @classmethod
    def from_config(cls, config):
        config = dict(config)
        vocabulary_size = config.pop("vocabulary_size", None)
        return cls(**keras_arguments(cls, config), vocabulary_size=vocabulary_size)

    def get_config(self):
        config = super().get_config()
        idf = self.input_idf_weights
        vocabulary = self.input_vocabulary
        config.update(
            invert=self.invert, max_tokens=self.max_tokens,
            num_oov_indices=self.num_oov_indices, oov_token=self.oov_token,
            mask_token=self.mask_token, output_mode=self.output_mode, sparse=self.sparse,
            pad_to_max_tokens=self.pad_to_max_tokens,
            idf_weights=np.asarray(idf).tolist() if idf is not None else None,
            vocabulary=np.asarray(vocabulary).tolist() if vocabulary is not None else None,
            vocabulary_size=self._frozen_vocab_size, oov_method=self.oov_method,
            salt=self.salt)
        return config

    def save_own_variables(self, store):
        """The state Keras keeps in weights files (store: name -> array): in
        "tf_idf" mode, the idf weight of each output index."""
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = self.idf_weights

    def load_own_variables(self, store):
        """What save_own_variables stored; load_assets (the vocabulary) comes after."""
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.ascontiguousarray(store["idf_weights"], np.float32)

    def save_assets(self, dir_path):
        """Keras's asset: the vocabulary (with special tokens), one per line,
        when it did not come in the config."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as file:
            file.write("\n".join(str(token) for token in self.get_vocabulary()))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return
        values = self._read_vocabulary_file(os.path.join(dir_path, "vocabulary.txt"))
        values = self._tokens_from_text(values)
        idf = self.idf_weights if self.output_mode == "tf_idf" else None
        self.set_vocabulary(values, idf_weights=idf)
