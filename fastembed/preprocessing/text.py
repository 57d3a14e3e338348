"""Text tokenization with the API and behaviour of Keras 2's
keras.preprocessing.text (removed from Keras 3)."""
import json
from collections import OrderedDict, defaultdict

import numpy as np

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MATRIX_MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """Words of input_text: optionally lower-cased, each character of
    `filters` replaced by `split`, then split on `split`, empty words dropped."""
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


class Tokenizer:
    """Maps words (or characters) to integer indices, most frequent first.

    Index 0 is never used (padding); oov_token, if given, gets index 1. Ties
    in frequency keep the order of first appearance. texts_to_sequences keeps
    only the indices < num_words (when num_words is set), mapping the others
    and unknown words to the oov_token's index, or dropping them.
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, analyzer=None, document_count=0):
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int)
                                      or num_words < 0):
            raise ValueError(f"num_words must be a non-negative integer or None, got {num_words!r}")
        if not isinstance(split, str) or not split:
            raise ValueError(f"split must be a non-empty string, got {split!r}")
        self.num_words = num_words
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.document_count = document_count
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _tokens(self, text):
        """Tokens of one text: a list of tokens or (char_level) a string is
        used as is (lower-cased if lower); else words of the text."""
        if self.char_level or isinstance(text, list):
            if self.lower:
                return [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of texts (strings, or lists of tokens) and rebuild word_index."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of texts, not a single string")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] += 1
        by_count = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        vocab = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in by_count]
        self.word_index = dict(zip(vocab, range(1, len(vocab) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Count in how many sequences each index appears (index_docs)."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def _kept_index(self, i, oov_index):
        """i if it is within num_words, else the oov index (None: dropped)."""
        return oov_index if i is None or (self.num_words and i >= self.num_words) else i

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        if isinstance(texts, str):
            raise TypeError("texts must be a list of texts, not a single string")
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            seq = (self._kept_index(self.word_index.get(w), oov_index) for w in self._tokens(text))
            yield [i for i in seq if i is not None]

    def sequences_to_texts(self, sequences):
        """Each sequence of indices as a string of words joined by spaces."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            kept = (self._kept_index(i if i in self.index_word else None, oov_index) for i in seq)
            yield " ".join(self.index_word[i] for i in kept if i is not None)

    def texts_to_matrix(self, texts, mode="binary"):
        """Bag-of-words matrix of texts; see sequences_to_matrix."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """(len(sequences), num_words) float64 matrix, column j for index j < num_words
        (num_words defaults to len(word_index) + 1): "binary" 1 if j occurs,
        "count" its count c, "freq" c / len(sequence), "tfidf"
        (1 + log c) * log(1 + document_count / (1 + index_docs[j]))."""
        if mode not in MATRIX_MODES:
            raise ValueError(f"mode must be one of {MATRIX_MODES}, got {mode!r}")
        if not self.num_words and not self.word_index:
            raise ValueError("specify num_words or fit the Tokenizer on some texts first")
        num_words = self.num_words or len(self.word_index) + 1
        if mode == "tfidf" and not self.document_count:
            raise ValueError("fit the Tokenizer on some data before using mode='tfidf'")
        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            seq = np.asarray(seq, dtype=np.int64)
            counts = np.bincount(seq[seq < num_words], minlength=num_words)
            present = counts > 0
            if mode == "binary":
                x[i] = present
            elif mode == "count":
                x[i] = counts
            elif mode == "freq" and len(seq):
                x[i] = counts / len(seq)
            elif mode == "tfidf":
                j = np.flatnonzero(present)
                docs = np.array([self.index_docs.get(k, 0) for k in j], dtype=np.float64)
                x[i, j] = (1 + np.log(counts[j])) * np.log(1 + self.document_count / (1 + docs))
        return x

    def get_config(self):
        """Keras 2's config: dict-valued entries are JSON strings."""
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """JSON that tokenizer_from_json (here or in Keras 2) reads back."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """The Tokenizer saved by to_json (fastembed's or Keras 2's). Malformed
    JSON raises ValueError."""
    try:
        return _tokenizer_from_dict(json.loads(json_string))
    except (TypeError, KeyError, AttributeError, IndexError, RecursionError) as error:
        raise ValueError(f"json_string is not a Tokenizer's JSON ({type(error).__name__}: "
                         f"{error})") from error


# The types of the saved config values that Tokenizer() does not check.
CONFIG_TYPES = {"filters": (str,), "lower": (bool,), "char_level": (bool,),
                "oov_token": (str, type(None)), "document_count": (int,)}


def _tokenizer_from_dict(saved):
    config = dict(saved["config"])
    entries = {k: json.loads(config.pop(k)) for k in
               ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            raise ValueError(f"json_string: config[{key!r}] is not a JSON object: {entry!r:.60}")
        for value in entry.values():
            if not isinstance(value, str if key == "index_word" else int) or isinstance(value, bool):
                raise ValueError(f"json_string: config[{key!r}] holds {value!r:.60}")
    for key, kind in CONFIG_TYPES.items():
        if key in config and not isinstance(config[key], kind):
            raise ValueError(f"json_string: config[{key!r}] = {config[key]!r:.60} is not "
                             f"{' or '.join(t.__name__ for t in kind)}")
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(entries["word_counts"])
    tokenizer.word_docs = defaultdict(int, entries["word_docs"])
    # JSON turned the integer keys into strings.
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in entries["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in entries["index_word"].items()}
    tokenizer.word_index = entries["word_index"]
    return tokenizer
