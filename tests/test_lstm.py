"""LSTM kernel and layer against a float64 numpy LSTM written here."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed._kernels import _core
from fastembed.engine import record
from fastembed.layers import LSTM, Bidirectional
from fastembed.layers.base_rnn import _dropout_mask
from gradcheck import check_layer_gradients


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# name: (f(x), f'(x) from y = f(x))
ACTS = {
    "tanh": (np.tanh, lambda y: 1.0 - y * y),
    "sigmoid": (_sigmoid, lambda y: y * (1.0 - y)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda y: (y > 0).astype(np.float64)),
    "linear": (lambda x: x, lambda y: np.ones_like(y)),
    "hard_sigmoid": (lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
                     lambda y: ((y > 0) & (y < 1)) / 6.0),
}


def ref_forward(x, W, R, b, act="tanh", ract="sigmoid", mask=None, reverse=False,
                h0=None, c0=None, rmask=None):
    """h after each step (processing order), final h and c, and a tape for ref_backward."""
    x, W, R = (np.asarray(a, np.float64) for a in (x, W, R))
    B, T, _ = x.shape
    U = R.shape[0]
    f, _ = ACTS[act]
    rf, _ = ACTS[ract]
    h = np.zeros((B, U)) if h0 is None else np.asarray(h0, np.float64)
    c = np.zeros((B, U)) if c0 is None else np.asarray(c0, np.float64)
    hs, tape = [], []
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        hr = h if rmask is None else h * rmask
        z = x[:, t] @ W + hr @ R + (0.0 if b is None else b)
        i, fg, g, o = rf(z[:, :U]), rf(z[:, U:2 * U]), f(z[:, 2 * U:3 * U]), rf(z[:, 3 * U:])
        c_new = fg * c + i * g
        ac = f(c_new)
        h_new = o * ac
        m = None if mask is None else mask[:, t, None].astype(bool)
        if m is not None:
            h_new, c_new = np.where(m, h_new, h), np.where(m, c_new, c)
        tape.append((t, hr, c, i, fg, g, o, ac, m))
        h, c = h_new, c_new
        hs.append(h)
    return np.stack(hs, 1), h, c, tape


def ref_backward(x, W, R, tape, dh_seq=None, dh_last=None, dc_last=None, act="tanh",
                 ract="sigmoid", rmask=None):
    """(dx, dW, dR, db, dh0, dc0) of ref_forward by backpropagation through time."""
    x, W, R = (np.asarray(a, np.float64) for a in (x, W, R))
    B, T, _ = x.shape
    U = R.shape[0]
    dact, drf = ACTS[act][1], ACTS[ract][1]
    dx, dW, dR, db = np.zeros(x.shape), np.zeros(W.shape), np.zeros(R.shape), np.zeros(4 * U)
    dh = np.zeros((B, U)) if dh_last is None else np.asarray(dh_last, np.float64)
    dc = np.zeros((B, U)) if dc_last is None else np.asarray(dc_last, np.float64)
    for s in range(T - 1, -1, -1):
        t, hr, c_prev, i, f, g, o, ac, m = tape[s]
        if dh_seq is not None:
            dh = dh + dh_seq[:, s]
        dct = dc + dh * o * dact(ac)
        dz = np.concatenate([dct * g * drf(i), dct * c_prev * drf(f),
                             dct * i * dact(g), dh * ac * drf(o)], axis=1)
        if m is not None:
            dz = dz * m
        dW += x[:, t].T @ dz
        dR += hr.T @ dz
        db += dz.sum(0)
        dx[:, t] = dz @ W.T
        dh_prev = dz @ R.T * (1.0 if rmask is None else rmask)
        dc_prev = dct * f
        if m is not None:
            dh_prev, dc_prev = dh_prev + (~m) * dh, np.where(m, dc_prev, dc)
        dh, dc = dh_prev, dc_prev
    return dx, dW, dR, db, dh, dc


def _random_mask(rng, B, T):
    mask = rng.random((B, T)) > 0.3
    mask[0, :] = False  # a fully masked row
    mask[-1, :] = True
    return mask


def random_layer(layer_class, units, x, weight_seed=0, **kwargs):
    """layer_class(units, **kwargs) built for x, with uniform(-0.6, 0.6) weights."""
    layer = layer_class(units, **kwargs)
    layer.build_for((None,) + x.shape[1:])
    rng = np.random.default_rng(weight_seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                       for w in layer.weights])
    return layer


def _layer(units, x, weight_seed=0, **kwargs):
    return random_layer(LSTM, units, x, weight_seed, **kwargs)


def _bias(layer):
    return layer.bias.value if layer.use_bias else None


CASES = [
    dict(),
    dict(return_sequences=True),
    dict(go_backwards=True),
    dict(go_backwards=True, return_sequences=True, masked=True),
    dict(return_sequences=True, masked=True),
    dict(masked=True, use_bias=False),
    dict(activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
    dict(activation="linear", recurrent_activation="tanh"),
    dict(activation="sigmoid", recurrent_activation="sigmoid", masked=True),
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
    act, ract = layer.activation.name, layer.recurrent_activation.name
    out, context = record(layer, x, mask=mask)
    hs, h, c, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value,
                                 _bias(layer), act, ract, mask, layer.go_backwards)
    np.testing.assert_allclose(out, hs if layer.return_sequences else h, atol=2e-6, rtol=1e-5)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, grad)
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape,
                       dh_seq=grad if layer.return_sequences else None,
                       dh_last=None if layer.return_sequences else grad, act=act, ract=ract)
    got = [dx, layer.kernel.grad, layer.recurrent_kernel.grad,
           layer.bias.grad if layer.use_bias else ref[3]]
    for name, g, r in zip(["dx", "dkernel", "drecurrent", "dbias"], got, ref):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 5), T=st.integers(1, 7), I=st.integers(1, 6), U=st.integers(1, 9),
       reverse=st.booleans(), masked=st.booleans(), seed=st.integers(0, 2**16))
def test_property_any_shape_matches_numpy(B, T, I, U, reverse, masked, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    mask = rng.random((B, T)) > 0.4 if masked else None
    layer = _layer(U, x, weight_seed=seed, return_sequences=True, return_state=True, go_backwards=reverse)
    (out, h, c), context = record(layer, x, mask=mask)
    hs, h_ref, c_ref, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value,
                                         layer.bias.value, mask=mask, reverse=reverse)
    for got, ref in ((out, hs), (h, h_ref), (c, c_ref)):
        np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-5)
    d_out, d_h, d_c = (rng.standard_normal(a.shape).astype(np.float32) for a in (out, h, c))
    dx = layer.backward(context, [d_out, d_h, d_c])
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape,
                       dh_seq=d_out, dh_last=d_h, dc_last=d_c)
    for g, r in zip([dx, layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad], ref):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4)


SMALL_CASES = [dict(), dict(go_backwards=True, masked=True), dict(masked=True, use_bias=False),
               dict(initial_state=True, go_backwards=True)]


@pytest.mark.parametrize("case", SMALL_CASES,
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "plain")
@pytest.mark.parametrize("B", [1, 2, 3, 5, 9])
def test_small_batches_match_numpy(B, case, isa):
    """Blocks of at most 8 rows (FE_RNN_SMALL_BATCH) multiply by the weights
    in the small-batch kernel, 9 rows through sgemm: both match numpy, at
    widths that take its every path (4 * 37 gate columns: whole tiles, one
    vector, single columns; 19 features)."""
    case = dict(case)
    masked, with_state = case.pop("masked", False), case.pop("initial_state", False)
    rng = np.random.default_rng(B)
    T, I, U = 9, 19, 37
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    mask = rng.random((B, T)) > 0.3 if masked else None
    h0, c0 = (rng.standard_normal((B, U)).astype(np.float32) for _ in range(2))
    state = dict(initial_state=[h0, c0]) if with_state else {}
    layer = _layer(U, x, return_sequences=True, return_state=True, **case)
    (out, h, c), context = record(layer, x, mask=mask, **state)
    hs, h_ref, c_ref, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value,
                                         _bias(layer), mask=mask, reverse=layer.go_backwards,
                                         h0=h0 if with_state else None,
                                         c0=c0 if with_state else None)
    for got, ref in ((out, hs), (h, h_ref), (c, c_ref)):
        np.testing.assert_allclose(got, ref, atol=1e-5, rtol=1e-4)
    d_out = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, [d_out, None, None])
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape, dh_seq=d_out)
    np.testing.assert_allclose(dx, ref[0], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(layer.recurrent_kernel.grad, ref[2], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(), dict(return_sequences=True, go_backwards=True),
                                    dict(masked=True, return_sequences=True)],
                         ids=["last", "backwards-seq", "masked-seq"])
def test_finite_difference_gradients(kwargs):
    kwargs = dict(kwargs)
    masked = kwargs.pop("masked", False)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = _layer(6, x, **kwargs)
    check_layer_gradients(layer, x, mask=_random_mask(rng, 3, 5) if masked else None,
                          eps=1e-2, max_entries=20)


def test_state_dropout_and_initial_state_match_numpy():
    rng = np.random.default_rng(4)
    B, T, I, U = 3, 5, 4, 6
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    h0, c0 = (rng.standard_normal((B, U)).astype(np.float32) for _ in range(2))
    layer = _layer(U, x, dropout=0.3, recurrent_dropout=0.4, seed=7, return_sequences=True)
    masks = np.random.default_rng(7)
    in_mask = _dropout_mask(masks, (B, I), 0.3)
    rec_mask = _dropout_mask(masks, (B, U), 0.4)
    out, context = record(layer, x, training=True, initial_state=[h0, c0])
    x_dropped = x * in_mask[:, None, :]
    hs, _, _, tape = ref_forward(x_dropped, layer.kernel.value, layer.recurrent_kernel.value,
                                 layer.bias.value, h0=h0, c0=c0, rmask=rec_mask)
    np.testing.assert_allclose(out, hs, atol=2e-6, rtol=1e-5)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, grad)
    ref = ref_backward(x_dropped, layer.kernel.value, layer.recurrent_kernel.value, tape,
                       dh_seq=grad, rmask=rec_mask)
    np.testing.assert_allclose(dx, ref[0] * in_mask[:, None, :], atol=1e-5, rtol=1e-4)
    for g, r in zip([layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad], ref[1:]):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4)
    for g, r in zip(context.kwarg_grads["initial_state"], ref[4:]):  # dh0, dc0
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4)
    # Inference ignores dropout.
    h_ref = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, layer.bias.value)[0]
    np.testing.assert_allclose(layer(x), h_ref, atol=2e-6, rtol=1e-5)


def test_stateful_continues_across_calls_and_resets():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 8, 3)).astype(np.float32)
    layer = _layer(4, x, stateful=True, return_sequences=True)
    first, second = layer(x[:, :5]), layer(x[:, 5:])
    hs = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, layer.bias.value)[0]
    np.testing.assert_allclose(np.concatenate([first, second], 1), hs, atol=2e-6, rtol=1e-5)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :5]), hs[:, :5], atol=2e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="batch size"):
        layer(x[:1])


def test_zero_output_for_mask_zeroes_masked_outputs():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 2)).astype(np.float32)
    mask = _random_mask(rng, 3, 5)
    layer = _layer(3, x, return_sequences=True, go_backwards=True, zero_output_for_mask=True)
    out = layer(x, mask=mask)
    hs = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, layer.bias.value,
                     mask=mask, reverse=True)[0]
    np.testing.assert_allclose(out, hs * mask[:, ::-1, None], atol=2e-6, rtol=1e-5)
    check_layer_gradients(layer, x, mask=mask, max_entries=10)


def test_defaults_initializers_and_config_round_trip():
    layer = LSTM(5, input_dim=3, input_length=7, return_sequences=True)
    assert layer.batch_input_shape == (None, 7, 3)
    layer.build_for((None, 7, 3))
    assert [w.shape for w in layer.weights] == [(3, 20), (5, 20), (20,)]
    np.testing.assert_array_equal(layer.bias.value, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    r = layer.recurrent_kernel.value.astype(np.float64)  # orthogonal (u, 4u): rows orthonormal
    np.testing.assert_allclose(r @ r.T, np.eye(5), atol=1e-5)
    limit = np.sqrt(6.0 / (3 + 20))
    assert np.abs(layer.kernel.value).max() <= limit and layer.kernel.value.std() > limit / 4
    clone = LSTM.from_config(layer.get_config())
    assert clone.get_config() | {"name": None} == layer.get_config() | {"name": None}
    assert LSTM(5, unit_forget_bias=False, bias_initializer="ones").units == 5


def test_bad_input_raises_clear_errors():
    x = np.zeros((2, 4, 3), np.float32)
    layer = LSTM(5)
    layer(x)
    with pytest.raises(ValueError, match=r"rank 3.*\(2, 3\)"):
        layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"3 features.*\(2, 4, 6\)"):
        layer(np.zeros((2, 4, 6), np.float32))
    with pytest.raises(ValueError, match=r"mask.*\(2, 4\).*\(2, 5\)"):
        layer(x, mask=np.ones((2, 5), bool))
    with pytest.raises(TypeError, match="numeric"):
        layer(np.full((2, 4, 3), "a"))
    with pytest.raises(ValueError, match=r"rank 3.*\(None, 3\)"):
        LSTM(5)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="activation.*'softmax'"):
        LSTM(5, activation="softmax")
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="Unknown constraint: 'maxnorm'"):
        LSTM(5, kernel_constraint="maxnorm")
    with pytest.raises(ValueError, match=r"initial_state c must have shape \(2, 5\)"):
        layer(x, initial_state=[np.zeros((2, 5)), np.zeros((3, 5))])
    with pytest.raises(ValueError, match="x must be a 3-D"):
        _core.lstm_forward(np.zeros((2, 3), np.float32), layer.kernel.value,
                           layer.recurrent_kernel.value, None, None, None, None, None, None, {}, None)
    saved = {n: np.zeros((2, 4, w * 5), np.float32) for n, w in _core.LSTM_SAVED}
    with pytest.raises(ValueError, match=r"h_seq must have shape \(2, 4, 5\), got \(2, 4, 4\)"):
        _core.lstm_forward(x, layer.kernel.value, layer.recurrent_kernel.value, None, None, None,
                           None, None, np.zeros((2, 4, 4), np.float32), saved,
                           np.zeros((2, 20), np.float32))


def assert_same_for_any_thread_count(layer_class, mask=False, **kwargs):
    """Outputs and gradients of a 37-row batch (uneven row blocks), 24 units,
    bit for bit the same with 1, 2 and 3 threads."""
    import fastembed

    rng = np.random.default_rng(8)
    x = rng.standard_normal((37, 6, 5)).astype(np.float32)
    grad = rng.standard_normal((37, 6, 24)).astype(np.float32)
    mask = _random_mask(rng, 37, 6) if mask else None
    layer = random_layer(layer_class, 24, x, return_sequences=True, **kwargs)
    before = fastembed.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            fastembed.set_num_threads(threads)
            for w in layer.weights:
                w.grad = None  # backward adds into grad: one run's gradient each
            out, context = record(layer, x, mask=mask)
            results.append([out, layer.backward(context, grad)]
                           + [w.grad.copy() for w in layer.weights])
    finally:
        fastembed.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_results_are_bitwise_the_same_for_any_thread_count():
    assert_same_for_any_thread_count(LSTM)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_two_numpy_lstms_and_gradients(merge_mode, return_sequences):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    mask = _random_mask(rng, 3, 5)
    layer = Bidirectional(LSTM(3, return_sequences=return_sequences), merge_mode=merge_mode)
    layer.build_for((None, 5, 4))
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.weights])
    fwd_w, bwd_w = layer.get_weights()[:3], layer.get_weights()[3:]
    hs_f, h_f = ref_forward(x, *fwd_w, mask=mask)[:2]
    hs_b, h_b = ref_forward(x, *bwd_w, mask=mask, reverse=True)[:2]
    if return_sequences:  # masked steps output zeros; the backward sequence is flipped back
        y, y_rev = hs_f * mask[..., None], (hs_b * mask[:, ::-1, None])[:, ::-1]
    else:
        y, y_rev = h_f, h_b
    expected = {"concat": np.concatenate([y, y_rev], -1), "sum": y + y_rev,
                "mul": y * y_rev, "ave": (y + y_rev) / 2}[merge_mode]
    np.testing.assert_allclose(layer(x, mask=mask), expected, atol=2e-6, rtol=1e-5)
    check_layer_gradients(layer, x, mask=mask, max_entries=8)


def test_bidirectional_config_and_bad_arguments():
    layer = Bidirectional(LSTM(3, return_sequences=True, name="enc"), merge_mode="sum")
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_enc", "backward_enc")
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    layer.build_for((None, 4, 2))
    assert [w.shape for w in layer.weights] == [(2, 12), (3, 12), (12,)] * 2
    clone = Bidirectional.from_config(layer.get_config())
    assert clone.merge_mode == "sum" and clone.forward_layer.return_sequences
    assert layer.compute_output_shape((None, 4, 2)) == (None, 4, 3)
    with pytest.raises(ValueError, match="merge_mode.*'max'"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
