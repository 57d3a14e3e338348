"""Fuzz targets: one per file reader, each taking the bytes of a file.

A target writes the bytes where a user's file would be, calls the public
reader, and lets through only the reader's documented error; any other
exception (or a crash, or a sanitizer report) is a finding. Used by
tests/fuzz/run.py (atheris) and by tests/test_fuzz_corpus.py, which replays
the seed corpora in tests/fuzz/corpus/<target>/ in every test run.
"""
import gzip
import os
import tempfile
import warnings

import numpy as np

_DIRECTORY = tempfile.mkdtemp(prefix="fastembed-fuzz-")
VOCABULARY = ["the", "a", "w", "x", "é", "word"]


def _file(data, name):
    path = os.path.join(_DIRECTORY, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _vectors(data, format, vocabulary=None, compress=False):
    from fastembed.preprocessing.vectors import VectorFileError, load_vectors
    path = _file(gzip.compress(data, mtime=0) if compress else data,
                 "vectors.txt.gz" if compress else "vectors.txt")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate words
            vectors = load_vectors(path, format=format, vocabulary=vocabulary)
    except VectorFileError as error:
        assert path in str(error), error
        return
    matrix = vectors.matrix
    assert matrix.dtype == np.float32 and matrix.ndim == 2 and matrix.shape[0] == len(vectors)
    assert np.isfinite(matrix).all()
    assert vocabulary is None or set(vectors.words) <= set(vocabulary)


def _load_model(data):
    from fastembed.models import load_model
    path = _file(data, "model.keras")
    try:
        load_model(path)
    except ValueError as error:
        assert path in str(error), error
    except MemoryError:  # a well-formed config with a huge layer
        pass


def _weights_model():
    import fastembed
    from fastembed import layers
    model = fastembed.Sequential([layers.Input((3,), dtype="int32"), layers.Embedding(5, 2),
                                  layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.build((None, 3))
    return model


def _load_weights(data):
    model = _weights_model()
    before = [w.value.copy() for w in model.weights]
    path = _file(data, "model.weights.h5")
    try:
        model.load_weights(path)
    except ValueError as error:
        assert path in str(error), error
        for value, weight in zip(before, model.weights):
            assert np.array_equal(value, weight.value, equal_nan=True), "changed by a failed load"


def _tokenizer_json(data):
    from fastembed.preprocessing.text import tokenizer_from_json
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        tokenizer = tokenizer_from_json(text)
    except ValueError:
        return
    tokenizer.texts_to_sequences(["the a word"])


TARGETS = {
    "vectors_glove": lambda data: _vectors(data, "glove"),
    "vectors_word2vec": lambda data: _vectors(data, "word2vec"),
    "vectors_word2vec_binary": lambda data: _vectors(data, "word2vec_binary"),
    "vectors_glove_vocabulary": lambda data: _vectors(data, "glove", VOCABULARY),
    "vectors_word2vec_vocabulary": lambda data: _vectors(data, "word2vec", VOCABULARY),
    "vectors_word2vec_binary_vocabulary": lambda data: _vectors(data, "word2vec_binary",
                                                                VOCABULARY),
    "vectors_gzip": lambda data: _vectors(data, "word2vec", compress=True),
    "vectors_gzip_stream": lambda data: _vectors(b"\x1f\x8b" + data, "glove"),
    "load_model": _load_model,
    "load_weights": _load_weights,
    "tokenizer_json": _tokenizer_json,
}
