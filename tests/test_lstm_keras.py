"""LSTM and Bidirectional against real Keras (jax backend) with copied weights."""
import keras
import numpy as np
import pytest

from fastembed import layers
from fastembed.engine import record
from fastembed.models import Sequential

ATOL = 1e-5


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _mask(B, T, seed=0):
    """Keras-style padding masks of varied lengths, pre- and post-padded, one empty row."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((B, T), bool)
    for b in range(1, B):
        n = rng.integers(1, T + 1)
        if b % 2:
            mask[b, :n] = True
        else:
            mask[b, T - n:] = True
    return mask


def _pair(kwargs, input_shape, seed=0, kind="LSTM"):
    """A Keras recurrent layer `kind` with random weights and the fastembed one
    holding the same weights."""
    keras.utils.set_random_seed(seed)
    theirs = getattr(keras.layers, kind)(**kwargs)
    theirs.build(input_shape)
    rng = np.random.default_rng(seed)
    theirs.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                        for w in theirs.get_weights()])
    ours = getattr(layers, kind)(**kwargs)
    ours.build_for(input_shape)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _as_list(result):
    return [np.asarray(r) for r in result] if isinstance(result, (list, tuple)) \
        else [np.asarray(result)]


LAYER_CASES = [
    dict(units=8),
    dict(units=8, return_sequences=True),
    dict(units=8, return_state=True),
    dict(units=8, return_sequences=True, return_state=True, go_backwards=True),
    dict(units=8, go_backwards=True),
    dict(units=5, use_bias=False, activation="relu", recurrent_activation="hard_sigmoid",
         return_sequences=True),
]


@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
@pytest.mark.parametrize("kwargs", LAYER_CASES,
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_layer_outputs_match_keras(kwargs, masked):
    B, T, I = 6, 7, 4
    x = _x((B, T, I))
    mask = _mask(B, T) if masked else None
    theirs, ours = _pair(kwargs, (None, T, I))
    expected = _as_list(theirs(x, mask=mask))
    got = _as_list(ours(x, mask=mask))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=ATOL, rtol=0)


def test_gradients_match_keras():
    import jax

    B, T, I = 5, 6, 3
    x, mask = _x((B, T, I)), _mask(B, T, seed=2)
    kwargs = dict(units=6, return_sequences=True, go_backwards=True)
    theirs, ours = _pair(kwargs, (None, T, I))
    projection = _x((B, T, 6), seed=3)

    non_trainable = [w.value for w in theirs.non_trainable_variables]

    def loss(weights, x):
        out, _ = theirs.stateless_call(weights, non_trainable, x, mask=mask)
        return (out * projection).sum()

    weights = [w.value for w in theirs.trainable_variables]
    d_weights, dx = jax.grad(loss, argnums=(0, 1))(weights, x)
    _, context = record(ours, x, mask=mask)
    our_dx = ours.backward(context, projection)
    np.testing.assert_allclose(our_dx, dx, atol=ATOL)
    for variable, expected in zip(ours.weights, d_weights):
        np.testing.assert_allclose(variable.grad, expected, atol=ATOL, err_msg=variable.name)


def assert_fit_matches_keras(theirs, ours, x, y, loss, batch_size, metrics=()):
    """Compile both (Adam) and fit 3 epochs unshuffled: the loss histories
    agree within 1e-4 relative, and Keras's fell (so the match means something)."""
    for model in (theirs, ours):
        model.compile(optimizer="adam", loss=loss, metrics=list(metrics))
    fit = dict(epochs=3, batch_size=batch_size, shuffle=False, verbose=0)
    expected = theirs.fit(x, y, **fit).history["loss"]
    got = ours.fit(x, y, **fit).history["loss"]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert expected[-1] < expected[0]


def _copy_model(theirs, ours, x):
    keras_out = theirs.predict(x, verbose=0)
    ours.build((None,) + x.shape[1:])
    ours.set_weights(theirs.get_weights())
    return keras_out


def test_embedding_mask_zero_stacked_lstms_match_keras():
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).integers(1, 50, (8, 9))
    x[1, 4:] = 0
    x[2, :6] = 0
    x[3, :] = 0
    x[4, ::2] = 0
    spec = [("Embedding", dict(input_dim=50, output_dim=6, mask_zero=True)),
            ("LSTM", dict(units=7, return_sequences=True)),
            ("LSTM", dict(units=5, return_sequences=True, go_backwards=True)),
            ("LSTM", dict(units=4)),
            ("Dense", dict(units=1, activation="sigmoid"))]
    theirs = keras.Sequential([keras.Input((9,))] + [getattr(keras.layers, n)(**k) for n, k in spec])
    ours = Sequential([getattr(layers, n)(**k) for n, k in spec])
    expected = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=ATOL)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_in_model_matches_keras(merge_mode, return_sequences):
    keras.utils.set_random_seed(2)
    x = np.random.default_rng(2).integers(1, 40, (6, 8))
    x[1, 5:] = 0
    x[2, :3] = 0

    def build(module, extra):
        return [module.Embedding(40, 5, mask_zero=True),
                module.Bidirectional(module.LSTM(6, return_sequences=return_sequences),
                                     merge_mode=merge_mode)] + extra(module)

    tail = (lambda m: [m.LSTM(3)]) if return_sequences else (lambda m: [m.Dense(2)])
    theirs = keras.Sequential([keras.Input((8,))] + build(keras.layers, tail))
    ours = Sequential(build(layers, tail))
    expected = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=ATOL)


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_return_state_matches_keras(merge_mode):
    B, T, I = 4, 5, 3
    x, mask = _x((B, T, I)), _mask(B, T, seed=4)
    keras.utils.set_random_seed(3)
    theirs = keras.layers.Bidirectional(
        keras.layers.LSTM(4, return_sequences=True, return_state=True), merge_mode=merge_mode)
    theirs.build((None, T, I))
    ours = layers.Bidirectional(layers.LSTM(4, return_sequences=True, return_state=True),
                                merge_mode=merge_mode)
    ours.build_for((None, T, I))
    ours.set_weights(theirs.get_weights())
    expected, got = _as_list(theirs(x, mask=mask)), _as_list(ours(x, mask=mask))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=ATOL)


def test_seed_lstm_model_fit_loss_history_matches_keras():
    """The seed's Embedding(1000, 64, input_length=10) -> LSTM(32) -> Dense(1, sigmoid)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1000, (320, 10))
    y = (x[:, :5].sum(1) > x[:, 5:].sum(1)).astype(np.float32)
    theirs = keras.Sequential([keras.Input((10,)), keras.layers.Embedding(1000, 64),
                               keras.layers.LSTM(32), keras.layers.Dense(1, activation="sigmoid")])
    ours = Sequential([layers.Embedding(input_dim=1000, output_dim=64, input_length=10),
                       layers.LSTM(units=32), layers.Dense(units=1, activation="sigmoid")])
    ours.build((None, 10))
    ours.set_weights(theirs.get_weights())
    assert_fit_matches_keras(theirs, ours, x, y, "binary_crossentropy", 32, metrics=["accuracy"])
