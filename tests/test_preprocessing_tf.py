"""Equivalence with Keras's preprocessing layers run on TensorFlow.

Runs where TensorFlow is installed: the CI step .ci/tf-reference (the
`test-tf` extra) sets FASTEMBED_REQUIRE_TF=1, and then a missing
TensorFlow fails this module instead of skipping it. Elsewhere it skips.
"""
import os

import numpy as np
import pytest

if os.environ.get("FASTEMBED_REQUIRE_TF") == "1":
    import tensorflow  # (the TF step must run these tests, never skip them)
else:
    tensorflow = pytest.importorskip("tensorflow")
if os.environ.get("KERAS_BACKEND") != "tensorflow":
    pytest.skip("Keras's reference layers need KERAS_BACKEND=tensorflow (set by "
                ".ci/tf-reference)", allow_module_level=True)
import keras  # noqa: E402

import fastembed.layers as fl  # noqa: E402
from fastembed.models import Sequential  # noqa: E402

MODES = ["int", "one_hot", "multi_hot", "count", "tf_idf"]


def words(rng, n, alphabet="abcxyzé€😀 _", max_len=8):
    return ["".join(rng.choice(list(alphabet), rng.integers(1, max_len))) for _ in range(n)]


def string_data(seed=0, rows=64, cols=6):
    rng = np.random.default_rng(seed)
    pool = words(rng, 80)
    vocab = sorted(set(pool[:50]))
    data = np.array(rng.choice(pool + ["", "[UNK]"], (rows, cols)))
    return vocab, data


def keras_out(layer, data):
    return np.asarray(layer(data))


def idf_for(vocab, rng):
    return rng.random(len(vocab)).astype(np.float32) + 0.1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("mask", [None, ""])
@pytest.mark.parametrize("num_oov, salt", [(1, None), (3, None), (3, [3, 5])])
def test_string_lookup_outputs(mode, mask, num_oov, salt):
    vocab, data = string_data()
    rng = np.random.default_rng(1)
    kwargs = dict(vocabulary=vocab, mask_token=mask, num_oov_indices=num_oov,
                  output_mode=mode, salt=salt)
    if mode == "tf_idf":
        kwargs["idf_weights"] = idf_for(vocab, rng)
    ours = fl.StringLookup(**kwargs)(data)
    theirs = keras_out(keras.layers.StringLookup(**kwargs), data)
    if mode == "int":
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)


def test_string_lookup_zero_oov_and_invert():
    vocab, data = string_data()
    in_vocab = np.where(np.isin(data, vocab), data, vocab[0])
    kwargs = dict(vocabulary=vocab, num_oov_indices=0)
    np.testing.assert_array_equal(fl.StringLookup(**kwargs)(in_vocab),
                                  keras_out(keras.layers.StringLookup(**kwargs), in_vocab))
    for mask in (None, "[MASK]"):
        kwargs = dict(vocabulary=vocab, invert=True, mask_token=mask)
        size = len(vocab) + 1 + (mask is not None)
        ids = np.random.default_rng(2).integers(0, size, (10, 4))
        ours = fl.StringLookup(**kwargs)(ids)
        theirs = keras_out(keras.layers.StringLookup(**kwargs), ids)
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("mode", ["int", "tf_idf"])
@pytest.mark.parametrize("max_tokens", [None, 12])
def test_string_adapt_vocabulary_and_idf(mode, max_tokens):
    _, data = string_data(seed=3, rows=300)
    kwargs = dict(max_tokens=max_tokens, output_mode=mode, mask_token="")
    ours, theirs = fl.StringLookup(**kwargs), keras.layers.StringLookup(**kwargs)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    if mode == "tf_idf":
        np.testing.assert_allclose(ours.idf_weights, np.asarray(theirs.idf_weights), rtol=1e-6)
    np.testing.assert_allclose(ours(data), keras_out(theirs, data), rtol=1e-6)


def test_string_adapt_on_one_dimensional_data():
    _, data = string_data(seed=4)
    flat = data.ravel()
    ours, theirs = fl.StringLookup(output_mode="tf_idf"), keras.layers.StringLookup(
        output_mode="tf_idf")
    ours.adapt(flat)
    theirs.adapt(flat)
    assert ours.get_vocabulary() == theirs.get_vocabulary()
    np.testing.assert_allclose(ours.idf_weights, np.asarray(theirs.idf_weights), rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("oov_method, salt", [("floormod", None), ("farmhash", None),
                                              ("farmhash", [7, 9])])
def test_integer_lookup_outputs(mode, oov_method, salt):
    rng = np.random.default_rng(5)
    vocab = (rng.choice(10**9, 40, replace=False) - 5 * 10**8).tolist()
    data = np.where(rng.random((32, 5)) < 0.6, rng.choice(vocab, (32, 5)),
                    rng.integers(-1000, 1000, (32, 5))).astype(np.int64)
    data[0, 0] = 0
    kwargs = dict(vocabulary=vocab, mask_token=0, num_oov_indices=3, output_mode=mode,
                  oov_method=oov_method, salt=salt)
    if mode == "tf_idf":
        kwargs["idf_weights"] = idf_for(vocab, rng)
    ours = fl.IntegerLookup(**kwargs)(data)
    theirs = keras_out(keras.layers.IntegerLookup(**kwargs), data)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)


def test_integer_adapt_and_invert():
    rng = np.random.default_rng(6)
    data = rng.integers(-20, 20, (200, 3))
    ours, theirs = fl.IntegerLookup(max_tokens=15), keras.layers.IntegerLookup(max_tokens=15)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == [int(v) for v in theirs.get_vocabulary()]
    ids = rng.integers(0, 15, (6, 3))
    kwargs = dict(vocabulary=ours.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(fl.IntegerLookup(**kwargs)(ids),
                                  keras_out(keras.layers.IntegerLookup(**kwargs), ids))


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("salt", [None, 133, [1, 2**40]])
@pytest.mark.parametrize("kind", ["str", "int", "float"])
def test_hashing(mode, salt, kind):
    rng = np.random.default_rng(7)
    data = {"str": np.array(words(rng, 60)).reshape(20, 3),
            "int": rng.integers(-10**12, 10**12, (20, 3)),
            "float": rng.normal(0, 1000, (20, 3))}[kind]
    mask = {"str": data[0, 0], "int": data[1, 1], "float": None}[kind]
    for mask_value in (None, mask):
        kwargs = dict(num_bins=17, salt=salt, output_mode=mode, mask_value=mask_value)
        ours = fl.Hashing(**kwargs)(data)
        theirs = keras_out(keras.layers.Hashing(**kwargs), data)
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding(mode):
    ids = np.random.default_rng(8).integers(0, 9, (16, 4))
    np.testing.assert_array_equal(fl.CategoryEncoding(9, output_mode=mode)(ids),
                                  keras_out(keras.layers.CategoryEncoding(9, output_mode=mode),
                                            ids))


def test_model_on_raw_strings_predicts_as_on_keras_indices():
    vocab, data = string_data(seed=9, rows=128, cols=4)
    on_strings = Sequential([fl.Input(shape=(4,), dtype="string"),
                             fl.StringLookup(vocabulary=vocab, mask_token=""),
                             fl.Embedding(len(vocab) + 2, 8), fl.Flatten(), fl.Dense(1)])
    on_ids = Sequential([fl.Input(shape=(4,), dtype="int64"), fl.Embedding(len(vocab) + 2, 8),
                         fl.Flatten(), fl.Dense(1)])
    on_ids.set_weights(on_strings.get_weights())
    ids = keras_out(keras.layers.StringLookup(vocabulary=vocab, mask_token=""), data)
    np.testing.assert_array_equal(on_strings.predict(data, verbose=0),
                                  on_ids.predict(ids, verbose=0))


def test_keras_files_with_vocabularies_load_both_ways(tmp_path):
    _, data = string_data(seed=10, rows=40, cols=3)
    ours_lookup = fl.StringLookup(mask_token="")
    ours_lookup.adapt(data)
    ours = Sequential([fl.Input(shape=(3,), dtype="string"), ours_lookup,
                       fl.Embedding(ours_lookup.vocabulary_size(), 4), fl.Flatten(), fl.Dense(1)])
    ours.save(tmp_path / "ours.keras")
    in_keras = keras.models.load_model(tmp_path / "ours.keras")
    assert in_keras.layers[0].get_vocabulary() == ours_lookup.get_vocabulary()
    as_tensor = tensorflow.constant(data)  # Keras's predict refuses numpy str arrays
    np.testing.assert_allclose(np.asarray(in_keras.predict(as_tensor, verbose=0)),
                               ours.predict(data, verbose=0), rtol=1e-5, atol=1e-7)  # float32 sums

    theirs_lookup = keras.layers.StringLookup(num_oov_indices=2)
    theirs_lookup.adapt(data)
    theirs = keras.Sequential([keras.Input(shape=(3,), dtype="string"), theirs_lookup,
                               keras.layers.Embedding(theirs_lookup.vocabulary_size(), 4),
                               keras.layers.Flatten(), keras.layers.Dense(1)])
    theirs.save(tmp_path / "theirs.keras")
    from fastembed.saving import load_model
    in_fastembed = load_model(tmp_path / "theirs.keras")
    assert in_fastembed.layers[0].get_vocabulary() == theirs_lookup.get_vocabulary()
    np.testing.assert_allclose(in_fastembed.predict(data, verbose=0),
                               np.asarray(theirs.predict(as_tensor, verbose=0)), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("layer_class", ["StringLookup", "IntegerLookup"])
def test_tf_idf_files_load_both_ways(tmp_path, layer_class):
    """Adapted tf_idf lookups: fastembed's file predicts in Keras as Keras's
    own adapted layer does, and Keras's file in fastembed."""
    from fastembed.saving import load_model
    if layer_class == "StringLookup":
        _, data = string_data(seed=11, rows=40, cols=3)
        dtype, as_tensor = "string", tensorflow.constant(data)
    else:
        data = np.random.default_rng(11).integers(0, 30, (40, 3))
        dtype, as_tensor = "int64", data
    ours_lookup = getattr(fl, layer_class)(output_mode="tf_idf")
    ours_lookup.adapt(data)
    theirs_lookup = getattr(keras.layers, layer_class)(output_mode="tf_idf")
    theirs_lookup.adapt(data)
    expected = keras_out(theirs_lookup, data)

    Sequential([fl.Input(shape=(3,), dtype=dtype), ours_lookup]).save(tmp_path / "ours.keras")
    in_keras = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(in_keras.predict(as_tensor, verbose=0)), expected,
                               rtol=1e-6)

    keras.Sequential([keras.Input(shape=(3,), dtype=dtype), theirs_lookup]).save(
        tmp_path / "theirs.keras")
    in_fastembed = load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(in_fastembed.predict(data, verbose=0), expected, rtol=1e-6)
