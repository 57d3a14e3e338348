"""StringLookup and Hashing against Keras on TensorFlow, pandas and numpy,
same data, same run (the issue's sizes: 10,000,000 strings, a 1,000,000-entry
vocabulary; FASTEMBED_BENCH_STRINGS / FASTEMBED_BENCH_VOCAB make them
smaller). Inputs are object arrays of str, as a pandas column gives them;
10% of the values are out of vocabulary. Keras's peers run where TensorFlow
is installed (the test-tf extra). Ratios: python bench/report.py <json>.
"""
import os

import numpy as np
import pytest

from fastembed.layers import Hashing, StringLookup

N_STRINGS = int(os.environ.get("FASTEMBED_BENCH_STRINGS", 10_000_000))
N_VOCAB = int(os.environ.get("FASTEMBED_BENCH_VOCAB", 1_000_000))
NUM_BINS = 1_000_000


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    vocab = np.array([f"user_{i}" for i in range(N_VOCAB)], dtype=object)
    ids = rng.integers(0, int(N_VOCAB * 1.1), N_STRINGS)
    values = np.array([f"user_{i}" for i in ids.tolist()], dtype=object)
    expected = np.where(ids < N_VOCAB, ids + 1, 0)  # 0: the OOV index
    return {"vocab": vocab, "values": values, "expected": expected}


def _rounds(benchmark, function, *args, rounds=3):
    return benchmark.pedantic(function, args=args, rounds=rounds, iterations=1, warmup_rounds=0)


def _tensorflow_keras():
    pytest.importorskip("tensorflow")
    if os.environ.get("KERAS_BACKEND") != "tensorflow":
        pytest.skip("Keras's preprocessing peers need KERAS_BACKEND=tensorflow")
    import keras
    return keras


# ---- StringLookup -------------------------------------------------------------
def test_lookup_fastembed(benchmark, data):
    benchmark.group = "string-lookup"
    layer = StringLookup(vocabulary=data["vocab"])
    out = _rounds(benchmark, layer, data["values"])
    np.testing.assert_array_equal(out, data["expected"])


def test_lookup_keras_tensorflow(benchmark, data):
    keras = _tensorflow_keras()
    benchmark.group = "string-lookup"
    layer = keras.layers.StringLookup(vocabulary=data["vocab"])
    out = _rounds(benchmark, lambda v: np.asarray(layer(v)), data["values"])
    np.testing.assert_array_equal(out, data["expected"])


def test_lookup_pandas_categorical(benchmark, data):
    pd = pytest.importorskip("pandas")
    benchmark.group = "string-lookup"
    categories = pd.Index(data["vocab"])
    out = _rounds(benchmark, lambda v: pd.Categorical(v, categories=categories).codes,
                  data["values"])
    np.testing.assert_array_equal(out.astype(np.int64) + 1, data["expected"])


def test_lookup_numpy_unique_inverse(benchmark, data):
    """np.unique's inverse, then the unique values through a dict."""
    benchmark.group = "string-lookup"
    index = {token: i + 1 for i, token in enumerate(data["vocab"].tolist())}

    def lookup(values):
        unique, inverse = np.unique(values, return_inverse=True)
        return np.array([index.get(u, 0) for u in unique.tolist()], dtype=np.int64)[inverse]
    out = _rounds(benchmark, lookup, data["values"], rounds=1)  # minutes at full size
    np.testing.assert_array_equal(out, data["expected"])


# ---- Hashing ---------------------------------------------------------------
def test_hashing_fastembed(benchmark, data):
    benchmark.group = "hashing"
    out = _rounds(benchmark, Hashing(NUM_BINS), data["values"])
    assert out.shape == (N_STRINGS,) and 0 <= out.min() and out.max() < NUM_BINS


def test_hashing_keras_tensorflow(benchmark, data):
    keras = _tensorflow_keras()
    benchmark.group = "hashing"
    layer = keras.layers.Hashing(NUM_BINS)
    out = _rounds(benchmark, lambda v: np.asarray(layer(v)), data["values"])
    np.testing.assert_array_equal(out, Hashing(NUM_BINS)(data["values"]))


def test_hashing_pandas_hash_array(benchmark, data):
    pd = pytest.importorskip("pandas")
    benchmark.group = "hashing"
    _rounds(benchmark, lambda v: pd.util.hash_array(v) % NUM_BINS, data["values"])
