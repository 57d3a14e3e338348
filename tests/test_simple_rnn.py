"""SimpleRNN kernel and layer against a float64 numpy SimpleRNN, and against Keras."""
import keras
import numpy as np
import pytest

from fastembed import layers
from fastembed._kernels import _core
from fastembed.engine import record
from fastembed.layers import SimpleRNN
from fastembed.layers.base_rnn import _dropout_mask
from fastembed.models import Sequential
from gradcheck import check_layer_gradients
from test_lstm import ACTS, _random_mask, assert_same_for_any_thread_count, random_layer
from test_lstm_keras import (ATOL, LAYER_CASES, _as_list, _copy_model, _mask, _pair, _x,
                             assert_fit_matches_keras)


def ref_forward(x, W, R, b, act="tanh", mask=None, reverse=False, h0=None, rmask=None):
    """h after each step (processing order), the final h, and a tape for ref_backward."""
    x, W, R = (np.asarray(a, np.float64) for a in (x, W, R))
    B, T, _ = x.shape
    f = ACTS[act][0]
    h = np.zeros((B, R.shape[0])) if h0 is None else np.asarray(h0, np.float64)
    hs, tape = [], []
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        hr = h if rmask is None else h * rmask
        y = f(x[:, t] @ W + hr @ R + (0.0 if b is None else b))
        m = None if mask is None else mask[:, t, None].astype(bool)
        tape.append((t, hr, y, m))
        h = y if m is None else np.where(m, y, h)
        hs.append(h)
    return np.stack(hs, 1), h, tape


def ref_backward(x, W, R, tape, dh_seq=None, dh_last=None, act="tanh", rmask=None):
    """(dx, dW, dR, db, dh0) of ref_forward by backpropagation through time."""
    x, W, R = (np.asarray(a, np.float64) for a in (x, W, R))
    B, T, _ = x.shape
    df = ACTS[act][1]
    dx, dW, dR, db = np.zeros(x.shape), np.zeros(W.shape), np.zeros(R.shape), 0.0
    dh = np.zeros((B, R.shape[0])) if dh_last is None else np.asarray(dh_last, np.float64)
    for s in range(T - 1, -1, -1):
        t, hr, y, m = tape[s]
        if dh_seq is not None:
            dh = dh + dh_seq[:, s]
        dz = dh * df(y) * (1.0 if m is None else m)
        dW += x[:, t].T @ dz
        dR += hr.T @ dz
        db = db + dz.sum(0)
        dx[:, t] = dz @ W.T
        dh = dz @ R.T * (1.0 if rmask is None else rmask) + (0.0 if m is None else ~m * dh)
    return dx, dW, dR, db, dh


def _layer(units, x, weight_seed=0, **kwargs):
    return random_layer(SimpleRNN, units, x, weight_seed, **kwargs)


CASES = [
    dict(),
    dict(return_sequences=True, masked=True),
    dict(go_backwards=True, return_sequences=True, masked=True),
    dict(activation="relu", use_bias=False, masked=True),
    dict(activation="sigmoid", go_backwards=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_forward_and_backward_match_numpy(case, isa):
    case = dict(case)
    masked = case.pop("masked", False)
    rng = np.random.default_rng(1)
    B, T, I, U = 4, 6, 5, 7
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    mask = _random_mask(rng, B, T) if masked else None
    layer = _layer(U, x, **case)
    act = layer.activation.name
    b = layer.bias.value if layer.use_bias else None
    out, context = record(layer, x, mask=mask)
    hs, h, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, b, act, mask,
                              layer.go_backwards)
    np.testing.assert_allclose(out, hs if layer.return_sequences else h, atol=2e-6, rtol=1e-5)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, grad)
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape,
                       dh_seq=grad if layer.return_sequences else None,
                       dh_last=None if layer.return_sequences else grad, act=act)
    got = [dx, layer.kernel.grad, layer.recurrent_kernel.grad,
           layer.bias.grad if layer.use_bias else ref[3]]
    for name, g, r in zip(["dx", "dkernel", "drecurrent", "dbias"], got, ref):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4, err_msg=name)


@pytest.mark.parametrize("B", [1, 3, 5, 9])
def test_small_batches_match_numpy(B, isa):
    """Blocks of at most 8 rows (FE_RNN_SMALL_BATCH) go through the small-batch
    kernel (9 rows: sgemm), at widths that take its every path (37 units, 19 features)."""
    rng = np.random.default_rng(B)
    T, I, U = 9, 19, 37
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    mask = rng.random((B, T)) > 0.3
    h0 = rng.standard_normal((B, U)).astype(np.float32)
    layer = _layer(U, x, return_sequences=True, go_backwards=True)
    out, _ = record(layer, x, mask=mask, initial_state=[h0])
    hs = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, layer.bias.value,
                     mask=mask, reverse=True, h0=h0)[0]
    np.testing.assert_allclose(out, hs, atol=1e-5, rtol=1e-4)


def test_dropout_initial_state_and_its_gradient_match_numpy():
    rng = np.random.default_rng(4)
    B, T, I, U = 3, 5, 4, 6
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    h0 = rng.standard_normal((B, U)).astype(np.float32)
    mask = _random_mask(rng, B, T)
    layer = _layer(U, x, dropout=0.3, recurrent_dropout=0.4, seed=7, return_sequences=True)
    masks = np.random.default_rng(7)
    in_mask, rec_mask = _dropout_mask(masks, (B, I), 0.3), _dropout_mask(masks, (B, U), 0.4)
    out, context = record(layer, x, training=True, initial_state=h0, mask=mask)
    x_dropped = x * in_mask[:, None, :]
    W, R, b = layer.kernel.value, layer.recurrent_kernel.value, layer.bias.value
    hs, _, tape = ref_forward(x_dropped, W, R, b, h0=h0, rmask=rec_mask, mask=mask)
    np.testing.assert_allclose(out, hs, atol=2e-6, rtol=1e-5)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, grad)
    ref = ref_backward(x_dropped, W, R, tape, dh_seq=grad, rmask=rec_mask)
    np.testing.assert_allclose(dx, ref[0] * in_mask[:, None, :], atol=1e-5, rtol=1e-4)
    for g, r in zip([layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad], ref[1:]):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4)
    saved = {n: np.empty((B, T, w * U), np.float32) for n, w in _core.SIMPLE_RNN_SAVED}
    mask8 = mask.astype(np.uint8)
    _core.simple_rnn_forward(x_dropped, W, R, b, h0, rec_mask, mask8,
                             np.empty((B, T, U), np.float32), saved,
                             np.empty((B, U), np.float32))
    dh0 = np.empty((B, U), np.float32)
    _core.simple_rnn_backward(x_dropped, W, R, rec_mask, mask8, saved, grad, None, None, dh0,
                              *[np.empty(w.shape, np.float32) for w in layer.weights],
                              np.empty((B, T, U), np.float32), np.empty((2, B, U), np.float32))
    np.testing.assert_allclose(dh0, ref[4], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(), dict(return_sequences=True, go_backwards=True)])
def test_finite_difference_gradients(kwargs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = _layer(6, x, **kwargs)
    check_layer_gradients(layer, x, mask=_random_mask(rng, 3, 5), eps=1e-2, max_entries=20)


def test_results_are_bitwise_the_same_for_any_thread_count():
    assert_same_for_any_thread_count(SimpleRNN, mask=True)


def test_config_and_bad_input():
    layer = SimpleRNN(4, return_sequences=True)
    layer.build_for((None, 3, 2))
    assert [w.shape for w in layer.weights] == [(2, 4), (4, 4), (4,)]
    assert "recurrent_activation" not in layer.get_config()
    assert SimpleRNN.from_config(layer.get_config()).return_sequences
    with pytest.raises(TypeError, match="recurrent_activation"):
        SimpleRNN(4, recurrent_activation="sigmoid")
    with pytest.raises(ValueError, match=r"rank 3.*\(2, 3\)"):
        layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"initial_state h must have shape \(2, 4\)"):
        layer(np.zeros((2, 3, 2), np.float32), initial_state=np.zeros((2, 5)))


KERAS_CASES = [{k: v for k, v in c.items() if k != "recurrent_activation"} for c in LAYER_CASES]


@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
@pytest.mark.parametrize("kwargs", KERAS_CASES,
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_layer_outputs_match_keras(kwargs, masked):
    B, T, I = 6, 7, 4
    x = _x((B, T, I))
    mask = _mask(B, T) if masked else None
    theirs, ours = _pair(kwargs, (None, T, I), kind="SimpleRNN")
    expected, got = _as_list(theirs(x, mask=mask)), _as_list(ours(x, mask=mask))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=ATOL, rtol=0)


def test_stacked_model_with_mask_fit_matches_keras():
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    x = rng.integers(1, 300, (192, 12))
    x[::4, 8:] = 0
    y = (x[:, :6].sum(1) > x[:, 6:].sum(1)).astype(np.float32)

    def build(module):
        return [module.Embedding(300, 16, mask_zero=True),
                module.SimpleRNN(12, return_sequences=True),
                module.SimpleRNN(8, go_backwards=True), module.Dense(1, activation="sigmoid")]

    theirs = keras.Sequential([keras.Input((12,))] + build(keras.layers))
    ours = Sequential(build(layers))
    expected_predictions = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected_predictions, atol=ATOL)
    assert_fit_matches_keras(theirs, ours, x, y, "binary_crossentropy", 32)
