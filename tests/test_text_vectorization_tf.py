"""Equivalence with Keras's TextVectorization run on TensorFlow.

As test_preprocessing_tf.py: runs where TensorFlow is installed; the CI
step .ci/tf-reference (the `test-tf` extra) sets FASTEMBED_REQUIRE_TF=1,
and then a missing TensorFlow fails this module instead of skipping it.
"""
import os

import numpy as np
import pytest

if os.environ.get("FASTEMBED_REQUIRE_TF") == "1":
    import tensorflow  # noqa: F401  (the TF step must run these tests, never skip them)
else:
    pytest.importorskip("tensorflow")
if os.environ.get("KERAS_BACKEND") != "tensorflow":
    pytest.skip("Keras's reference layers need KERAS_BACKEND=tensorflow (set by "
                ".ci/tf-reference)", allow_module_level=True)
import keras  # noqa: E402

from fastembed.layers import TextVectorization  # noqa: E402

STANDARDIZE = ["lower_and_strip_punctuation", "lower", "strip_punctuation", None]
SPLIT = ["whitespace", "character", None]
NGRAMS = [None, 2, (1, 3), (2,)]


def documents(seed=0, n=60):
    """Documents with ties in counts, punctuation, non-ASCII case, odd whitespace."""
    rng = np.random.default_rng(seed)
    words = ["The", "the", "fox,", "FOX", "dog!", "don't", "École", "école", "ÜBER", "a-b",
             "(x)", "x", "y", "naïve", "😀", "[UNK]", "é"]
    spaces = [" ", "  ", "\t", "\n", "\x0b", "\x0c", "\r", "\u00a0", "\x1c"]
    return ["".join(w + rng.choice(spaces) for w in rng.choice(words, rng.integers(0, 9)))
            for _ in range(n)] + [""]


def keras_out(layer, data):
    return np.asarray(layer(data))


# Without a split a document is one token: no 2-grams alone (Keras fails on
# the empty vocabulary).
SPLIT_NGRAMS = [(p, n) for p in SPLIT for n in NGRAMS if not (p is None and n == (2,))]


@pytest.mark.parametrize("standardize", STANDARDIZE)
@pytest.mark.parametrize("split, ngrams", SPLIT_NGRAMS)
def test_adapt_vocabulary_and_int_output(standardize, split, ngrams):
    data = documents()
    options = dict(standardize=standardize, split=split, ngrams=ngrams)
    ours, theirs = TextVectorization(**options), keras.layers.TextVectorization(**options)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [str(t) for t in theirs.get_vocabulary()]
    queries = documents(seed=1, n=20)
    if split is None:
        queries = np.array(queries)[:, None]
    np.testing.assert_array_equal(ours(queries), keras_out(theirs, queries))


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
@pytest.mark.parametrize("max_tokens, pad", [(None, False), (8, False), (30, True)])
@pytest.mark.parametrize("ngrams", [None, 2])
def test_bag_outputs(mode, max_tokens, pad, ngrams):
    data = documents()
    options = dict(output_mode=mode, max_tokens=max_tokens, pad_to_max_tokens=pad,
                   ngrams=ngrams)
    ours, theirs = TextVectorization(**options), keras.layers.TextVectorization(**options)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [str(t) for t in theirs.get_vocabulary()]
    queries = documents(seed=2, n=20)
    np.testing.assert_allclose(ours(queries), keras_out(theirs, queries), rtol=1e-6)


@pytest.mark.parametrize("length", [1, 3, 40])
def test_output_sequence_length(length):
    data = documents()
    ours = TextVectorization(output_sequence_length=length)
    theirs = keras.layers.TextVectorization(output_sequence_length=length)
    ours.adapt(data)
    theirs.adapt(data)
    queries = documents(seed=3, n=15)
    np.testing.assert_array_equal(ours(queries), keras_out(theirs, queries))


def test_given_vocabulary_and_idf():
    vocabulary, idf = ["the", "fox", "dog", "é"], [0.5, 1.5, 2.0, 0.25]
    for mode in ["int", "multi_hot", "count", "tf_idf"]:
        options = dict(output_mode=mode, vocabulary=vocabulary,
                       idf_weights=idf if mode == "tf_idf" else None)
        ours, theirs = TextVectorization(**options), keras.layers.TextVectorization(**options)
        queries = documents(seed=4, n=15)
        np.testing.assert_allclose(ours(queries), keras_out(theirs, queries), rtol=1e-6)
        assert ours.get_vocabulary() == [str(t) for t in theirs.get_vocabulary()]


def test_adapt_batches():
    data = documents()
    ours, theirs = TextVectorization(), keras.layers.TextVectorization()
    batches = [np.array(data[i:i + 16]) for i in range(0, len(data), 16)]
    ours.adapt(iter(batches))
    theirs.adapt(iter(batches))
    assert ours.get_vocabulary() == [str(t) for t in theirs.get_vocabulary()]


def test_tf_idf_files_load_both_ways(tmp_path):
    """An adapted tf_idf TextVectorization: fastembed's file predicts in
    Keras as Keras's own adapted layer does, and Keras's file in fastembed."""
    import tensorflow as tf
    import fastembed
    # No "\x1c" (a line break to str.splitlines): Keras's vocabulary file
    # (one token a line) cannot hold a token with it.
    texts = np.array([d.replace("\x1c", " ") for d in documents(seed=5)])
    ours, theirs = TextVectorization(output_mode="tf_idf"), \
        keras.layers.TextVectorization(output_mode="tf_idf")
    ours.adapt(texts)
    theirs.adapt(texts)
    queries = np.array([d.replace("\x1c", " ") for d in documents(seed=6, n=20)])
    expected = keras_out(theirs, queries)

    fastembed.Sequential([fastembed.Input((1,), dtype="string"), ours]).save(
        tmp_path / "ours.keras")
    in_keras = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(in_keras.predict(tf.constant(queries[:, None]),
                                                            verbose=0)), expected, rtol=1e-6)

    keras.Sequential([keras.Input((1,), dtype="string"), theirs]).save(tmp_path / "theirs.keras")
    in_fastembed = fastembed.saving.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(in_fastembed.predict(queries, verbose=0), expected, rtol=1e-6)


@pytest.mark.parametrize("mode, length", [("int", None), ("int", 3), ("int", 40), ("one_hot", None),
                                          ("multi_hot", None), ("count", None), ("tf_idf", None)])
@pytest.mark.parametrize("ngrams", [None, 2, (1, 3)])
def test_split_none_on_rank1_inputs(mode, length, ngrams):
    """Without a split, rank-1 inputs are one sequence for Keras: same shapes, same values."""
    data = documents()
    options = dict(split=None, output_mode=mode, ngrams=ngrams, output_sequence_length=length)
    ours, theirs = TextVectorization(**options), keras.layers.TextVectorization(**options)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [str(t) for t in theirs.get_vocabulary()]
    queries = np.array(documents(seed=3, n=12) + data[:5], dtype=object)
    expected = keras_out(theirs, queries)
    got = ours(queries)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6)
