"""Saving and loading a model with a 1,000,000 x 64 Embedding (a 256 MB
table), as a .keras file, fastembed against Keras 3 (jax) in the same run.

Groups: save-1m (model.save) and load-1m (load_model of the file the same
library wrote). Each round starts with gc.collect(), so that neither library
pays for the previous round's garbage: a fresh 256 MB table on memory the
machine has not yet handed out costs several times one on reused memory.
Ratios: python bench/report.py <json>.
"""
import gc

import keras
import numpy as np
import pytest

import fastembed
from fastembed.models import load_model

VOCAB, DIM, LENGTH = 1_000_000, 64, 10
ROUNDS = 5


def _model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(VOCAB, DIM),
                         k.layers.GlobalAveragePooling1D(), k.layers.Dense(1)])


def collected(path):
    """A pedantic setup: collect garbage, then call with (path,)."""
    def setup():
        gc.collect()
        return (path,), {}
    return setup


@pytest.fixture(scope="module")
def models():
    reference = _model(keras)
    ours = _model(fastembed)
    ours.set_weights([np.asarray(w) for w in reference.get_weights()])
    return {"fastembed": ours, "keras": reference}


@pytest.mark.parametrize("library", ["fastembed", "keras"])
def test_save(benchmark, models, tmp_path, library):
    benchmark.group = "save-1m"
    path = tmp_path / "model.keras"
    benchmark.pedantic(models[library].save, setup=collected(path), rounds=ROUNDS, iterations=1)
    assert path.stat().st_size > VOCAB * DIM * 4


@pytest.mark.parametrize("library", ["fastembed", "keras"])
def test_load(benchmark, models, tmp_path, library):
    benchmark.group = "load-1m"
    path = tmp_path / "model.keras"
    models[library].save(path)
    loader = load_model if library == "fastembed" else keras.saving.load_model
    loaded = benchmark.pedantic(loader, setup=collected(path), rounds=ROUNDS, iterations=1)
    np.testing.assert_array_equal(np.asarray(loaded.weights[0].numpy()),
                                  np.asarray(models[library].weights[0].numpy()))
