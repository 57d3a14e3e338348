"""GRU kernel and layer against a float64 numpy GRU written here."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed._kernels import _core
from fastembed.engine import record
from fastembed.layers import GRU, Bidirectional
from fastembed.layers.base_rnn import _dropout_mask
from gradcheck import check_layer_gradients
from test_lstm import ACTS, _random_mask, assert_same_for_any_thread_count, random_layer


def _split_bias(b, U, reset_after):
    if b is None:
        return 0.0, 0.0
    b = np.asarray(b, np.float64)
    return (b[0], b[1]) if reset_after else (b, 0.0)


def ref_forward(x, W, R, b, reset_after=True, act="tanh", ract="sigmoid", mask=None,
                reverse=False, h0=None, rmask=None):
    """h after each step (processing order), the final h, and a tape for ref_backward."""
    x, W, R = (np.asarray(a, np.float64) for a in (x, W, R))
    B, T, _ = x.shape
    U = R.shape[0]
    f, rf = ACTS[act][0], ACTS[ract][0]
    b_in, b_rec = _split_bias(b, U, reset_after)
    h = np.zeros((B, U)) if h0 is None else np.asarray(h0, np.float64)
    hs, tape = [], []
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        hr = h if rmask is None else h * rmask
        xp = x[:, t] @ W + b_in
        if reset_after:
            rec = hr @ R + b_rec
        else:
            rec = np.concatenate([hr @ R[:, :2 * U], np.zeros((B, U))], 1)
        z, r = rf(xp[:, :U] + rec[:, :U]), rf(xp[:, U:2 * U] + rec[:, U:2 * U])
        rec_h = rec[:, 2 * U:] if reset_after else None
        rh = None if reset_after else r * hr
        hh = f(xp[:, 2 * U:] + (r * rec_h if reset_after else rh @ R[:, 2 * U:]))
        h_new = z * h + (1 - z) * hh
        m = None if mask is None else mask[:, t, None].astype(bool)
        if m is not None:
            h_new = np.where(m, h_new, h)
        tape.append((t, h, hr, z, r, hh, rec_h, rh, m))
        h = h_new
        hs.append(h)
    return np.stack(hs, 1), h, tape


def ref_backward(x, W, R, tape, reset_after=True, dh_seq=None, dh_last=None, act="tanh",
                 ract="sigmoid", rmask=None):
    """(dx, dW, dR, db, dh0) of ref_forward by backpropagation through time."""
    x, W, R = (np.asarray(a, np.float64) for a in (x, W, R))
    B, T, _ = x.shape
    U = R.shape[0]
    df, drf = ACTS[act][1], ACTS[ract][1]
    dx, dW, dR = np.zeros(x.shape), np.zeros(W.shape), np.zeros(R.shape)
    db = np.zeros((2, 3 * U) if reset_after else 3 * U)
    dh = np.zeros((B, U)) if dh_last is None else np.asarray(dh_last, np.float64)
    for s in range(T - 1, -1, -1):
        t, h, hr, z, r, hh, rec_h, rh, m = tape[s]
        if dh_seq is not None:
            dh = dh + dh_seq[:, s]
        keep = 1.0 if m is None else m
        dhh = dh * (1 - z) * df(hh) * keep
        dzz = dh * (h - hh) * drf(z) * keep
        if reset_after:
            dr = dhh * rec_h * drf(r)
            d_in = np.concatenate([dzz, dr, dhh], 1)
            d_rec = np.concatenate([dzz, dr, dhh * r], 1)
            dR += hr.T @ d_rec
            db += np.stack([d_in.sum(0), d_rec.sum(0)])
            dhr = d_rec @ R.T
        else:
            d_rh = dhh @ R[:, 2 * U:].T
            dr = d_rh * hr * drf(r)
            d_in = np.concatenate([dzz, dr, dhh], 1)
            dR[:, :2 * U] += hr.T @ d_in[:, :2 * U]
            dR[:, 2 * U:] += rh.T @ dhh
            db += d_in.sum(0)
            dhr = d_in[:, :2 * U] @ R[:, :2 * U].T + d_rh * r
        dW += x[:, t].T @ d_in
        dx[:, t] = d_in @ W.T
        dh_prev = dh * z + dhr * (1.0 if rmask is None else rmask)
        dh = dh_prev if m is None else np.where(m, dh_prev, dh)
    return dx, dW, dR, db, dh


def _layer(units, x, weight_seed=0, **kwargs):
    return random_layer(GRU, units, x, weight_seed, **kwargs)


def _bias(layer):
    return layer.bias.value if layer.use_bias else None


CASES = [
    dict(),
    dict(reset_after=False),
    dict(return_sequences=True),
    dict(return_sequences=True, reset_after=False),
    dict(go_backwards=True),
    dict(go_backwards=True, return_sequences=True, masked=True),
    dict(go_backwards=True, return_sequences=True, masked=True, reset_after=False),
    dict(return_sequences=True, masked=True),
    dict(masked=True, use_bias=False),
    dict(masked=True, use_bias=False, reset_after=False),
    dict(activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
    dict(activation="linear", recurrent_activation="tanh", reset_after=False),
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
    ra, act, ract = layer.reset_after, layer.activation.name, layer.recurrent_activation.name
    out, context = record(layer, x, mask=mask)
    hs, h, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, _bias(layer),
                              ra, act, ract, mask, layer.go_backwards)
    np.testing.assert_allclose(out, hs if layer.return_sequences else h, atol=2e-6, rtol=1e-5)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, grad)
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape, ra,
                       dh_seq=grad if layer.return_sequences else None,
                       dh_last=None if layer.return_sequences else grad, act=act, ract=ract)
    got = [dx, layer.kernel.grad, layer.recurrent_kernel.grad,
           layer.bias.grad if layer.use_bias else ref[3]]
    for name, g, r in zip(["dx", "dkernel", "drecurrent", "dbias"], got, ref):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4, err_msg=name)



@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("B", [1, 3, 5, 9])
def test_small_batches_match_numpy(B, reset_after, isa):
    """Blocks of at most 8 rows (FE_RNN_SMALL_BATCH) go through the small-batch
    kernel (9 rows: sgemm), at widths that take its every path (37 units, 19 features)."""
    rng = np.random.default_rng(B)
    T, I, U = 9, 19, 37
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    mask = rng.random((B, T)) > 0.3
    h0 = rng.standard_normal((B, U)).astype(np.float32)
    layer = _layer(U, x, return_sequences=True, go_backwards=True, reset_after=reset_after)
    out, _ = record(layer, x, mask=mask, initial_state=[h0])
    hs = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, _bias(layer),
                     reset_after, mask=mask, reverse=True, h0=h0)[0]
    np.testing.assert_allclose(out, hs, atol=1e-5, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 5), T=st.integers(1, 7), I=st.integers(1, 6), U=st.integers(1, 9),
       reverse=st.booleans(), masked=st.booleans(), reset_after=st.booleans(),
       seed=st.integers(0, 2**16))
def test_property_any_shape_matches_numpy(B, T, I, U, reverse, masked, reset_after, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    mask = rng.random((B, T)) > 0.4 if masked else None
    layer = _layer(U, x, weight_seed=seed, return_sequences=True, return_state=True,
                   go_backwards=reverse, reset_after=reset_after)
    (out, h), context = record(layer, x, mask=mask)
    hs, h_ref, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value,
                                  layer.bias.value, reset_after, mask=mask, reverse=reverse)
    for got, ref in ((out, hs), (h, h_ref)):
        np.testing.assert_allclose(got, ref, atol=2e-6, rtol=1e-5)
    d_out, d_h = (rng.standard_normal(a.shape).astype(np.float32) for a in (out, h))
    dx = layer.backward(context, [d_out, d_h])
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape, reset_after,
                       dh_seq=d_out, dh_last=d_h)
    for g, r in zip([dx, layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad], ref):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(), dict(reset_after=False),
                                    dict(return_sequences=True, go_backwards=True),
                                    dict(masked=True, return_sequences=True, reset_after=False),
                                    dict(masked=True, return_sequences=True)],
                         ids=["last", "last-reset-before", "backwards-seq", "masked-seq-before",
                              "masked-seq"])
def test_finite_difference_gradients(kwargs):
    kwargs = dict(kwargs)
    masked = kwargs.pop("masked", False)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = _layer(6, x, **kwargs)
    check_layer_gradients(layer, x, mask=_random_mask(rng, 3, 5) if masked else None,
                          eps=1e-2, max_entries=20)


@pytest.mark.parametrize("reset_after", [True, False])
def test_dropout_initial_state_and_its_gradient_match_numpy(reset_after):
    rng = np.random.default_rng(4)
    B, T, I, U = 3, 5, 4, 6
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    h0 = rng.standard_normal((B, U)).astype(np.float32)
    mask = _random_mask(rng, B, T)
    layer = _layer(U, x, dropout=0.3, recurrent_dropout=0.4, seed=7, return_sequences=True,
                   reset_after=reset_after)
    masks = np.random.default_rng(7)
    in_mask = _dropout_mask(masks, (B, I), 0.3)
    rec_mask = _dropout_mask(masks, (B, U), 0.4)
    out, context = record(layer, x, training=True, initial_state=[h0], mask=mask)
    x_dropped = x * in_mask[:, None, :]
    W, R, b = layer.kernel.value, layer.recurrent_kernel.value, layer.bias.value
    hs, _, tape = ref_forward(x_dropped, W, R, b, reset_after, h0=h0, rmask=rec_mask, mask=mask)
    np.testing.assert_allclose(out, hs, atol=2e-6, rtol=1e-5)
    grad = rng.standard_normal(out.shape).astype(np.float32)
    dx = layer.backward(context, grad)
    ref = ref_backward(x_dropped, W, R, tape, reset_after, dh_seq=grad, rmask=rec_mask)
    np.testing.assert_allclose(dx, ref[0] * in_mask[:, None, :], atol=1e-5, rtol=1e-4)
    for g, r in zip([layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad], ref[1:]):
        np.testing.assert_allclose(g, r, atol=1e-5, rtol=1e-4)
    # The kernel also returns the gradient of h0.
    saved = {n: np.empty((B, T, w * U), np.float32) for n, w in _core.GRU_SAVED}
    h_seq = np.empty((B, T, U), np.float32)
    mask8 = mask.astype(np.uint8)
    _core.gru_forward(x_dropped, W, R, b, h0, rec_mask, mask8, h_seq, saved,
                      np.empty((B, 3 * U), np.float32), reset_after=reset_after)
    dh0 = np.empty((B, U), np.float32)
    weights = [np.empty(w.shape, np.float32) for w in layer.weights]
    _core.gru_backward(x_dropped, W, R, h0, rec_mask, mask8, h_seq, saved, grad, None, None, dh0,
                       *weights, np.empty((B, T, 3 * U), np.float32),
                       np.empty((B, T, U), np.float32) if reset_after else None,
                       np.empty((3, B, U), np.float32), reset_after=reset_after)
    np.testing.assert_allclose(dh0, ref[4], atol=1e-5, rtol=1e-4)
    # Inference ignores dropout.
    h_ref = ref_forward(x, W, R, b, reset_after)[0]
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


def test_defaults_initializers_and_config_round_trip():
    layer = GRU(5, input_dim=3, input_length=7, return_sequences=True)
    assert layer.batch_input_shape == (None, 7, 3)
    layer.build_for((None, 7, 3))
    assert [w.shape for w in layer.weights] == [(3, 15), (5, 15), (2, 15)]
    np.testing.assert_array_equal(layer.bias.value, np.zeros((2, 15)))
    r = layer.recurrent_kernel.value.astype(np.float64)  # orthogonal (u, 3u): rows orthonormal
    np.testing.assert_allclose(r @ r.T, np.eye(5), atol=1e-5)
    clone = GRU.from_config(layer.get_config())
    assert clone.get_config() | {"name": None} == layer.get_config() | {"name": None}
    before = GRU(5, reset_after=False)
    before.build_for((None, 7, 3))
    assert [w.shape for w in before.weights] == [(3, 15), (5, 15), (15,)]
    assert GRU.from_config(before.get_config()).reset_after is False


def test_bad_input_raises_clear_errors():
    x = np.zeros((2, 4, 3), np.float32)
    layer = GRU(5, return_state=True)
    layer(x)
    with pytest.raises(ValueError, match=r"rank 3.*\(2, 3\)"):
        layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"rank 3.*\(None, 3\)"):
        GRU(5)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"3 features.*\(2, 4, 6\)"):
        layer(np.zeros((2, 4, 6), np.float32))
    with pytest.raises(ValueError, match=r"mask.*\(2, 4\).*\(2, 5\)"):
        layer(x, mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match="activation.*'softmax'"):
        GRU(5, recurrent_activation="softmax")
    with pytest.raises(ValueError, match="units"):
        GRU(-1)
    with pytest.raises(ValueError, match=r"initial_state h must have shape \(2, 5\)"):
        layer(x, initial_state=[np.zeros((3, 5))])
    with pytest.raises(ValueError, match=r"initial_state.*1 state"):
        layer(x, initial_state=[np.zeros((2, 5)), np.zeros((2, 5))])
    saved = {n: np.zeros((2, 4, w * 5), np.float32) for n, w in _core.GRU_SAVED}
    with pytest.raises(ValueError, match=r"bias must have shape \(2, 15\)"):
        _core.gru_forward(x, layer.kernel.value, layer.recurrent_kernel.value,
                          np.zeros(15, np.float32), None, None, None,
                          np.zeros((2, 4, 5), np.float32), saved, np.zeros((2, 15), np.float32))


@pytest.mark.parametrize("reset_after", [True, False])
def test_results_are_bitwise_the_same_for_any_thread_count(reset_after):
    assert_same_for_any_thread_count(GRU, mask=True, reset_after=reset_after)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gru_matches_two_numpy_grus_and_gradients(return_sequences):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    mask = _random_mask(rng, 3, 5)
    layer = Bidirectional(GRU(3, return_sequences=return_sequences))
    layer.build_for((None, 5, 4))
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.weights])
    fwd_w, bwd_w = layer.get_weights()[:3], layer.get_weights()[3:]
    hs_f, h_f = ref_forward(x, *fwd_w, mask=mask)[:2]
    hs_b, h_b = ref_forward(x, *bwd_w, mask=mask, reverse=True)[:2]
    if return_sequences:
        y, y_rev = hs_f * mask[..., None], (hs_b * mask[:, ::-1, None])[:, ::-1]
    else:
        y, y_rev = h_f, h_b
    np.testing.assert_allclose(layer(x, mask=mask), np.concatenate([y, y_rev], -1),
                               atol=2e-6, rtol=1e-5)
    check_layer_gradients(layer, x, mask=mask, max_entries=8)


@pytest.mark.parametrize("batch", [2, 32])  # one thread; the thread team (batch * units >= 512)
def test_backward_flushes_denormals_and_gives_the_caller_its_fp_state_back(batch):
    """A gradient decaying back through the recurrence into the denormal range
    comes out as zero there (each op on a denormal is ~100x slower on x86;
    Keras on jax flushes them too); its normal-range part still matches numpy;
    and numpy in the calling thread still makes denormals afterwards."""
    rng = np.random.default_rng(5)
    B, T, I, U = batch, 60, 5, 32
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    layer = _layer(U, x, return_sequences=True)
    layer.recurrent_kernel.assign(layer.recurrent_kernel.value * 0.2)  # ~0.6x per step back
    out, context = record(layer, x)
    grad = np.zeros(out.shape, np.float32)
    grad[:, -1] = rng.standard_normal((B, U)) * 1e-27  # ~1e-40 at the first steps
    hs, h, tape = ref_forward(x, layer.kernel.value, layer.recurrent_kernel.value, _bias(layer))
    ref = ref_backward(x, layer.kernel.value, layer.recurrent_kernel.value, tape,
                       dh_seq=grad.astype(np.float64))
    tiny = np.finfo(np.float32).tiny
    dx = layer.backward(context, grad)
    got = [dx, layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad]
    assert np.count_nonzero((ref[0] != 0) & (np.abs(ref[0]) < tiny)) > 0  # reaches the range
    for name, g, r in zip(["dx", "dkernel", "drecurrent", "dbias"], got, ref):
        assert not np.any((g != 0) & (np.abs(g) < tiny)), name
        normal = np.abs(r) > 1e5 * tiny
        assert normal.any(), name
        np.testing.assert_allclose(g[normal], r[normal], rtol=2e-3, err_msg=name)
    assert np.float32(tiny) / np.float32(4) > 0
