"""GRU, stacked and Bidirectional, against real Keras (jax backend) with copied weights."""
import keras
import numpy as np
import pytest

from fastembed import layers
from fastembed.engine import record
from fastembed.models import Sequential
from test_lstm_keras import (ATOL, LAYER_CASES, _as_list, _copy_model, _mask, _pair, _x,
                             assert_fit_matches_keras)


@pytest.mark.parametrize("reset_after", [True, False], ids=["after", "before"])
@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
@pytest.mark.parametrize("kwargs", LAYER_CASES,
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_layer_outputs_match_keras(kwargs, masked, reset_after):
    B, T, I = 6, 7, 4
    x = _x((B, T, I))
    mask = _mask(B, T) if masked else None
    theirs, ours = _pair(dict(kwargs, reset_after=reset_after), (None, T, I), kind="GRU")
    expected = _as_list(theirs(x, mask=mask))
    got = _as_list(ours(x, mask=mask))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=ATOL, rtol=0)


def test_initial_state_matches_keras():
    B, T, I = 4, 5, 3
    x, h0 = _x((B, T, I)), _x((B, 6), seed=1)
    theirs, ours = _pair(dict(units=6, return_sequences=True), (None, T, I), kind="GRU")
    np.testing.assert_allclose(ours(x, initial_state=[h0]),
                               theirs(x, initial_state=[h0]), atol=ATOL)


@pytest.mark.parametrize("reset_after", [True, False], ids=["after", "before"])
def test_gradients_match_keras(reset_after):
    import jax

    B, T, I = 5, 6, 3
    x, mask = _x((B, T, I)), _mask(B, T, seed=2)
    kwargs = dict(units=6, return_sequences=True, go_backwards=True, reset_after=reset_after)
    theirs, ours = _pair(kwargs, (None, T, I), kind="GRU")
    projection = _x((B, T, 6), seed=3)
    non_trainable = [w.value for w in theirs.non_trainable_variables]

    def loss(weights, x):
        out, _ = theirs.stateless_call(weights, non_trainable, x, mask=mask)
        return (out * projection).sum()

    weights = [w.value for w in theirs.trainable_variables]
    d_weights, dx = jax.grad(loss, argnums=(0, 1))(weights, x)
    _, context = record(ours, x, mask=mask)
    np.testing.assert_allclose(ours.backward(context, projection), dx, atol=ATOL)
    for variable, expected in zip(ours.weights, d_weights):
        np.testing.assert_allclose(variable.grad, expected, atol=ATOL, err_msg=variable.name)


def _masked_ids(B, T, vocabulary, seed):
    x = np.random.default_rng(seed).integers(1, vocabulary, (B, T))
    x[1, 4:] = 0
    x[2, :6] = 0
    x[3, :] = 0
    x[4, ::2] = 0
    return x


def test_embedding_mask_zero_stacked_grus_match_keras():
    keras.utils.set_random_seed(1)
    x = _masked_ids(8, 9, 50, seed=1)
    spec = [("Embedding", dict(input_dim=50, output_dim=6, mask_zero=True)),
            ("GRU", dict(units=7, return_sequences=True)),
            ("GRU", dict(units=5, return_sequences=True, go_backwards=True, reset_after=False)),
            ("GRU", dict(units=4)),
            ("Dense", dict(units=1, activation="sigmoid"))]
    theirs = keras.Sequential([keras.Input((9,))] + [getattr(keras.layers, n)(**k) for n, k in spec])
    ours = Sequential([getattr(layers, n)(**k) for n, k in spec])
    expected = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=ATOL)


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gru_in_model_matches_keras(merge_mode, return_sequences):
    keras.utils.set_random_seed(2)
    x = _masked_ids(6, 8, 40, seed=2)

    def build(module, extra):
        return [module.Embedding(40, 5, mask_zero=True),
                module.Bidirectional(module.GRU(6, return_sequences=return_sequences),
                                     merge_mode=merge_mode)] + extra(module)

    tail = (lambda m: [m.GRU(3)]) if return_sequences else (lambda m: [m.Dense(2)])
    theirs = keras.Sequential([keras.Input((8,))] + build(keras.layers, tail))
    ours = Sequential(build(layers, tail))
    expected = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=ATOL)


def test_bidirectional_return_state_matches_keras():
    B, T, I = 4, 5, 3
    x, mask = _x((B, T, I)), _mask(B, T, seed=4)
    keras.utils.set_random_seed(3)
    theirs = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True,
                                                         return_state=True))
    theirs.build((None, T, I))
    ours = layers.Bidirectional(layers.GRU(4, return_sequences=True, return_state=True))
    ours.build_for((None, T, I))
    ours.set_weights(theirs.get_weights())
    expected, got = _as_list(theirs(x, mask=mask)), _as_list(ours(x, mask=mask))
    assert len(got) == len(expected) == 3
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=ATOL)


@pytest.mark.parametrize("reset_after", [True, False], ids=["after", "before"])
def test_gru_model_fit_loss_history_matches_keras(reset_after):
    """Embedding(mask_zero) -> GRU -> Dense(sigmoid), three epochs of Adam."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 1000, (320, 10))
    x[::3, 7:] = 0
    y = (x[:, :5].sum(1) > x[:, 5:].sum(1)).astype(np.float32)

    def build(module):
        return [module.Embedding(1000, 32, mask_zero=True),
                module.GRU(16, reset_after=reset_after),
                module.Dense(1, activation="sigmoid")]

    theirs = keras.Sequential([keras.Input((10,))] + build(keras.layers))
    ours = Sequential(build(layers))
    ours.build((None, 10))
    ours.set_weights(theirs.get_weights())
    assert_fit_matches_keras(theirs, ours, x, y, "binary_crossentropy", 32, metrics=["accuracy"])
