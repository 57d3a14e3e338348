"""TextVectorization: documents to token indices (or bag-of-token vectors)
as Keras's TextVectorization, without TensorFlow.

Each document is standardized, split and turned into n-grams in C
(csrc/text_vectorize.c) exactly as Keras's tf.strings ops do it: lower-
casing is ASCII-only (Keras calls tf.strings.lower without an encoding),
punctuation is the ASCII set of Keras's regex, whitespace is " \\t\\n\\v\\f\\r".
The tokens then go through a StringLookup's table (mask token "", OOV token
"[UNK]"), which holds the vocabulary, as in Keras. Callables for standardize
and split receive numpy arrays of str (as Keras gives them on jax/torch);
split must return one sequence of str tokens per document.
"""
import numpy as np

from fastembed._kernels import _core
from fastembed.engine.layer import Layer
from fastembed.layers.category_encoding import NoGradientMixin, encode_categorical
from fastembed.layers.normalization import adapt_batches
from fastembed.layers.string_lookup import StringLookup
from fastembed.utils.config import keras_arguments

STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = (None, "whitespace", "character")
OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
MASK_TOKEN, OOV_TOKEN = "", "[UNK]"


def _check_choice(argument, value, allowed):
    if not (value in allowed or callable(value)):
        raise ValueError(f"Invalid value for argument {argument}: expected one of "
                         f"{list(allowed)} or a callable. Received: {argument}={value!r}")


def _string_array(values):
    """values as a numpy array of strings (object arrays keep str/bytes values)."""
    array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object) \
        if isinstance(values, (list, tuple)) else np.asarray(values)
    return array


def _as_str_array(array, encoding):
    """array's strings as a numpy array of str (for a callable)."""
    flat = [v.decode(encoding) if isinstance(v, bytes) else v for v in array.ravel().tolist()]
    return np.array(flat, dtype=object).reshape(array.shape)


class TextVectorization(NoGradientMixin, Layer):
    takes_strings = True

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend; "
                             "fastembed's outputs are dense numpy arrays.")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend; "
                             "fastembed's outputs are dense numpy arrays.")
        _check_choice("standardize", standardize, STANDARDIZE)
        _check_choice("split", split, SPLIT)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"Invalid value for argument output_mode: expected one of "
                             f"{list(OUTPUT_MODES)}. Received: output_mode={output_mode!r}")
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool))
                or (isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        if widths is not None and (not widths or min(widths) < 1):
            raise ValueError(f"`ngrams` must give widths of at least 1. Received: "
                             f"ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or (
                isinstance(output_sequence_length, int)
                and not isinstance(output_sequence_length, bool))):
            raise ValueError(f"`output_sequence_length` must be either None or an integer when "
                             f"`output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode == "int" and output_sequence_length is not None \
                and output_sequence_length < 1:
            raise ValueError(f"`output_sequence_length` must be positive. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}.")
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.standardize, self.split = standardize, split
        self.ngrams, self._widths = ngrams, widths
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token=MASK_TOKEN, oov_token=OOV_TOKEN,
            output_mode=output_mode, has_input_vocabulary=self._has_input_vocabulary,
            vocabulary_size=vocabulary_size, name=f"{self.name}_lookup")

    # ---- tokens ------------------------------------------------------------
    def _documents(self, inputs, name):
        """(docs, lower, strip): the documents of a batch as a StringBatch
        (a callable standardize applied) and the built-in standardization."""
        array = _string_array(inputs)
        if self.split is not None and array.ndim > 1:
            if array.shape[-1] != 1:
                raise ValueError(f"When using `TextVectorization` to tokenize strings, the input "
                                 f"rank must be 1 or the last shape dimension must be 1. "
                                 f"Received: inputs.shape={array.shape} with rank={array.ndim}")
            array = array[..., 0]
        array = array.reshape(-1)
        if callable(self.standardize):
            array = _as_str_array(np.asarray(self.standardize(_as_str_array(array, self.encoding))),
                                  self.encoding)
        docs = _core.StringBatch(array, name)
        if self.encoding.lower().replace("-", "") != "utf8":
            raise ValueError(f"TextVectorization reads UTF-8; got encoding={self.encoding!r}")
        lower = self.standardize in ("lower", "lower_and_strip_punctuation")
        strip = self.standardize in ("strip_punctuation", "lower_and_strip_punctuation")
        return docs, lower, strip

    def _count(self, counter, batch):
        """Count the tokens of a batch of documents into counter (adapt)."""
        if callable(self.split):
            _core.count_tokens(counter, *self._tokenize(batch, "data"))
            return
        docs, lower, strip = self._documents(batch, "data")
        _core.count_text(counter, docs, lower, strip, self.split, self._widths)

    def _tokenize(self, inputs, name="inputs", one_sequence=False):
        """(tokens, token_offsets, doc_starts) of a batch of documents, as
        _core.tokenize gives them; with one_sequence (split=None on rank-1
        inputs, as Keras reads them) the documents are the tokens of one
        sequence, and n-grams join neighbours."""
        docs, lower, strip = self._documents(inputs, name)
        if not (one_sequence or callable(self.split)):
            return _core.tokenize(docs, lower, strip, self.split, self._widths)
        tokens, offsets, _ = _core.tokenize(docs, lower, strip, None)
        texts = [bytes(tokens[offsets[k]:offsets[k + 1]]).decode("utf-8")
                 for k in range(len(offsets) - 1)]
        if one_sequence:
            return self._ngrams([texts])
        split = self.split(np.array(texts, dtype=object))
        if len(split) != len(texts):
            raise ValueError(f"TextVectorization {self.name!r}: split returned {len(split)} "
                             f"token lists for {len(texts)} documents")
        return self._ngrams([[str(t) for t in doc] for doc in split])

    def _ngrams(self, documents):
        """(tokens, token_offsets, doc_starts) of the n-grams of documents
        given as lists of str tokens."""
        widths = self._widths or (1,)
        grams = [[" ".join(doc[i:i + w]) for w in widths for i in range(len(doc) - w + 1)]
                 for doc in documents]
        flat = [g.encode("utf-8") for doc in grams for g in doc]
        token_offsets = np.zeros(len(flat) + 1, np.int64)
        np.cumsum([len(g) for g in flat], out=token_offsets[1:])
        doc_starts = np.zeros(len(grams) + 1, np.int64)
        np.cumsum([len(doc) for doc in grams], out=doc_starts[1:])
        return np.frombuffer(b"".join(flat), np.uint8).copy(), token_offsets, doc_starts

    # ---- vocabulary --------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary from the tokens of data (an array or list of
        documents, or an iterable of batches of them): tokens by count, high
        to low, ties by token, high to low (Keras's order), the first
        max_tokens minus the reserved ones kept; in "tf_idf" mode, the idf
        weights log(1 + documents / (1 + documents holding the token))."""
        lookup = self._lookup_layer
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` method.")
        if isinstance(data, (list, tuple, np.ndarray, str, bytes)):
            batches = [_string_array([data] if isinstance(data, (str, bytes)) else data)]
        else:
            batches = adapt_batches(batch for i, batch in enumerate(data)
                                    if steps is None or i < steps)
        counter = _core.TokenCounter()
        for batch in batches:
            self._count(counter, batch)
        lookup.learn_vocabulary(counter)

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ---- call --------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        # A list of documents is one input (a Layer reads a list as several).
        if isinstance(inputs, (list, tuple)) and all(isinstance(d, (str, bytes)) for d in inputs):
            inputs = np.asarray(inputs, dtype=object)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs):
        lookup = self._lookup_layer
        inputs = _string_array(inputs)
        # As Keras: without a split, rank-1 inputs are one sequence of tokens
        # (int: (tokens,) ids; bags: one (depth,) vector; one_hot: a row each).
        one_sequence = self.split is None and inputs.ndim == 1
        tokens, offsets, doc_starts = self._tokenize(inputs, one_sequence=one_sequence)
        if one_sequence and self.output_mode == "one_hot":
            doc_starts = np.arange(len(offsets), dtype=np.int64)
        out = self._encode(tokens, offsets, doc_starts)
        return out[0] if one_sequence and self.output_mode != "one_hot" else out

    def _encode(self, tokens, offsets, doc_starts):
        """The output of documents' tokens: (documents, length) ids, or (documents, depth)."""
        lookup = self._lookup_layer
        found = _core.lookup_tokens(lookup._table, tokens, offsets)
        ids = np.where(found < 0, lookup._oov_start_index(), found + lookup._token_start_index())
        n_docs = len(doc_starts) - 1
        per_doc = np.diff(doc_starts)
        doc = np.repeat(np.arange(n_docs), per_doc)
        position = np.arange(len(ids)) - doc_starts[doc]
        if self.output_mode == "int":
            ids[np.diff(offsets) == 0] = 0  # the mask token ""
            length = self.output_sequence_length
            if length is None:
                length = int(per_doc.max()) if n_docs else 0
            out = np.zeros((n_docs, length), np.int64)
            kept = position < length
            out[doc[kept], position[kept]] = ids[kept]
            return out
        if lookup._frozen_vocab_size is None and not lookup.pad_to_max_tokens:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and "
                               "`pad_to_max_tokens=False`, you must set the layer's vocabulary "
                               "before calling it. Either pass a `vocabulary` argument to the "
                               "layer, or call `adapt` with some sample data.")
        if self.output_mode == "one_hot" and (per_doc > 1).any():
            raise ValueError(f"TextVectorization {self.name!r}: output_mode='one_hot' needs one "
                             f"token per document (split=None), got {int(per_doc.max())}")
        ids[np.diff(offsets) == 0] = -1  # the mask token counts for nothing
        mode = {"tf_idf": "count", "one_hot": "multi_hot"}.get(self.output_mode,
                                                               self.output_mode)
        padded = np.full((n_docs, max(int(per_doc.max()) if n_docs else 0, 1)), -1, np.int64)
        padded[doc, position] = ids
        encoded = encode_categorical(padded, mode, lookup._depth())
        return encoded * lookup.idf_weights if self.output_mode == "tf_idf" else encoded

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._lookup_layer._depth())

    # ---- config ------------------------------------------------------------
    def get_config(self):
        lookup = self._lookup_layer
        config = super().get_config()
        config.update({
            "max_tokens": lookup.max_tokens, "standardize": self.standardize,
            "split": self.split, "ngrams": self.ngrams, "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False, "ragged": False,
            "vocabulary": None if lookup.input_vocabulary is None
            else np.asarray(lookup.input_vocabulary).tolist(),
            "idf_weights": None if lookup.input_idf_weights is None
            else np.asarray(lookup.input_idf_weights).tolist(),
            "encoding": self.encoding, "vocabulary_size": self.vocabulary_size()})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        hidden = {key: config.pop(key) for key in ("vocabulary_size", "has_input_vocabulary")
                  if key in config}
        return cls(**keras_arguments(cls, config), **hidden)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)
