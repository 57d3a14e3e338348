"""Conv1D: C kernels against a numpy reference, gradient checks, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed._kernels._core import Conv1DPlan
from fastembed.engine import record
from fastembed.initializers import GlorotUniform
from fastembed.layers import Conv1D, SpatialDropout1D
from gradcheck import check_layer_gradients


def keras_padding(steps, kernel_size, stride, dilation, padding):
    """(pad_left, pad_right) as Keras 3 / XLA pad for valid, same and causal."""
    span = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out = -(-steps // stride)
    total = max((out - 1) * stride + span - steps, 0)
    return total // 2, total - total // 2


def conv_ref(x, w, b, stride, dilation, pads):
    """y[b, t] = sum_k xpad[b, t*stride + k*dilation] @ w[k] + b, in float64."""
    xp = np.pad(x.astype(np.float64), ((0, 0), pads, (0, 0)))
    K = w.shape[0]
    T = (xp.shape[1] - (K - 1) * dilation - 1) // stride + 1
    y = np.zeros((x.shape[0], T, w.shape[2]))
    for k in range(K):
        start = k * dilation
        y += xp[:, start:start + (T - 1) * stride + 1:stride] @ w[k]
    return y + (0 if b is None else b)


def conv_grad_ref(x, w, dy, stride, dilation, pads):
    """(dx, dw, db) of sum(conv_ref(...) * dy)."""
    xp = np.pad(x.astype(np.float64), ((0, 0), pads, (0, 0)))
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    T = dy.shape[1]
    for k in range(w.shape[0]):
        rows = slice(k * dilation, k * dilation + (T - 1) * stride + 1, stride)
        dw[k] = np.einsum("btc,btf->cf", xp[:, rows], dy)
        dxp[:, rows] += dy @ w[k].T.astype(np.float64)
    return dxp[:, pads[0]:pads[0] + x.shape[1]], dw, dy.sum(axis=(0, 1))


CASES = [  # batch, steps, channels, filters, kernel, stride, dilation, padding
    (2, 10, 3, 4, 3, 1, 1, "valid"),
    (3, 11, 5, 2, 4, 2, 1, "valid"),
    (2, 9, 4, 3, 3, 1, 2, "valid"),
    (2, 10, 3, 4, 4, 1, 1, "same"),
    (2, 11, 3, 4, 3, 3, 1, "same"),
    (2, 8, 3, 2, 3, 1, 3, "same"),
    (2, 10, 3, 4, 5, 1, 1, "causal"),
    (2, 10, 3, 4, 2, 1, 3, "causal"),
    (2, 9, 2, 3, 3, 2, 1, "causal"),
    (1, 5, 2, 2, 5, 1, 1, "valid"),
    (4, 6, 70, 5, 2, 1, 2, "same"),   # deep enough for the strided path
    (3, 12, 64, 6, 3, 2, 1, "valid"),
    # >= 2**21 multiply-adds: a thread team splits the GEMMs
    (5, 40, 64, 70, 3, 1, 1, "same"),
    (4, 80, 96, 64, 3, 2, 1, "causal"),
    (3, 60, 64, 80, 3, 1, 2, "valid"),
    (4, 9, 5, 300, 2, 1, 1, "valid"),  # more filters than one sparse dw pass takes
]


def run_plan(x, w, b, stride, dilation, padding, strategy, act=0, dy=None):
    B, L, C = x.shape
    K, _, F = w.shape
    pads = keras_padding(L, K, stride, dilation, padding)
    T = (L + sum(pads) - (K - 1) * dilation - 1) // stride + 1
    plan = Conv1DPlan(B, L, C, F, K, stride, dilation, pads[0], T, strategy)
    assert plan.strategy == strategy or strategy == "auto"
    y = np.empty((B, T, F), np.float32)
    plan.forward(x, w, b, act, y)
    if dy is None:
        return y, pads
    dx, dw = np.empty_like(x), np.empty_like(w)
    db = None if b is None else np.empty_like(b)
    plan.backward(dy, y, act, x, w, dw, db, dx)
    return y, pads, dx, dw, db


# A gradient with few non-zeros (as a max pooling passes back) takes the
# kernels' sparse path (at most 1 in 4).
@pytest.mark.parametrize("density", [1.0, 0.04])
@pytest.mark.parametrize("strategy", ["im2col", "strided"])
@pytest.mark.parametrize("case", CASES)
def test_kernels_match_numpy(case, strategy, density, isa):
    B, L, C, F, K, s, d, padding = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, L, C)).astype(np.float32)
    w = rng.standard_normal((K, C, F)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    pads = keras_padding(L, K, s, d, padding)
    shape = conv_ref(x, w, b, s, d, pads).shape
    dy = (rng.standard_normal(shape) * (rng.random(shape) < density)).astype(np.float32)
    y, pads, dx, dw, db = run_plan(x, w, b, s, d, padding, strategy, dy=dy)
    np.testing.assert_allclose(y, conv_ref(x, w, b, s, d, pads), rtol=1e-4, atol=1e-4)
    rdx, rdw, rdb = conv_grad_ref(x, w, dy, s, d, pads)
    np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, rdw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, rdb, rtol=1e-4, atol=1e-4)


# Winograd's F(m, r): kernels of 2 to 5 taps, unstrided, undilated; steps
# that end in a partial tile, single steps, and shapes with several GEMM
# blocks and dw chunks (over 128 tiles).
WINOGRAD_CASES = [  # batch, steps, channels, filters, kernel, padding
    (2, 10, 3, 4, 3, "valid"),
    (3, 11, 5, 7, 3, "valid"),
    (2, 9, 4, 37, 3, "same"),
    (2, 10, 3, 4, 3, "causal"),
    (1, 3, 2, 2, 3, "valid"),
    (2, 1, 2, 3, 3, "same"),
    (5, 83, 64, 70, 3, "same"),
    (9, 130, 64, 70, 3, "causal"),
    (3, 12, 5, 6, 2, "valid"),
    (2, 11, 4, 9, 2, "causal"),
    (3, 13, 5, 6, 4, "same"),
    (2, 4, 3, 5, 4, "valid"),
    (3, 10, 6, 5, 5, "valid"),
    (2, 7, 3, 4, 5, "same"),
    (9, 101, 64, 70, 5, "causal"),
]


def check_winograd(case, density, strategy, seed=3):
    B, L, C, F, K, padding = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, L, C)).astype(np.float32)
    w = rng.standard_normal((K, C, F)).astype(np.float32)
    b = rng.standard_normal(F).astype(np.float32)
    pads = keras_padding(L, K, 1, 1, padding)
    ref = conv_ref(x, w, b, 1, 1, pads)
    dy = (rng.standard_normal(ref.shape) * (rng.random(ref.shape) < density)).astype(np.float32)
    y, pads, dx, dw, db = run_plan(x, w, b, 1, 1, padding, strategy, dy=dy)
    # Rounding grows with the sums' length: tolerances relative to the largest value.
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    for got, expected in zip((dx, dw, db), conv_grad_ref(x, w, dy, 1, 1, pads)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("density", [1.0, 0.04])
@pytest.mark.parametrize("case", WINOGRAD_CASES)
def test_winograd_matches_numpy(case, density, isa):
    check_winograd(case, density, "winograd")


# The cost model can run the forward pass by Winograd and the backward by
# GEMMs or lists over an operand that the backward pass then builds itself.
@pytest.mark.parametrize("density", [1.0, 0.04])
@pytest.mark.parametrize("case,layout", [((4, 12, 40, 48, 5, "same"), "im2col"),
                                         ((3, 30, 70, 40, 3, "same"), "strided"),
                                         ((3, 30, 70, 40, 3, "valid"), "strided")])
def test_winograd_forward_with_gemm_backward(case, layout, density):
    B, L, C, F, K, padding = case
    pads = keras_padding(L, K, 1, 1, padding)
    plan = Conv1DPlan(B, L, C, F, K, 1, 1, pads[0], L + sum(pads) - K + 1)
    assert (plan.strategy, plan.backward_strategy) == ("winograd", layout)
    check_winograd(case, density, "auto")


def test_winograd_only_for_its_kernels():
    for kernel, stride, dilation in ((6, 1, 1), (1, 1, 1), (3, 2, 1), (3, 1, 2)):
        with pytest.raises(ValueError, match="winograd"):
            Conv1DPlan(2, 20, 4, 4, kernel, stride, dilation, 0, 5, "winograd")


@pytest.mark.parametrize("strategy", ["im2col", "strided", "winograd"])
def test_fused_relu_forward_and_backward(strategy, isa):
    # 37 filters: whole vectors and a scalar tail in every kernel set.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 9, 4)).astype(np.float32)
    w = rng.standard_normal((3, 4, 37)).astype(np.float32)
    b = rng.standard_normal(37).astype(np.float32)
    z = conv_ref(x, w, b, 1, 1, (0, 0))
    dy = rng.standard_normal(z.shape).astype(np.float32)
    y, pads, dx, dw, db = run_plan(x, w, b, 1, 1, "valid", strategy, act=1, dy=dy)
    np.testing.assert_allclose(y, np.maximum(z, 0), rtol=1e-4, atol=1e-4)
    dz = dy * (z > 0)
    rdx, rdw, rdb = conv_grad_ref(x, w, dz, 1, 1, pads)
    np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, rdw, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, rdb, rtol=1e-4, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 3), steps=st.integers(1, 12), channels=st.integers(1, 5),
       filters=st.integers(1, 4), kernel=st.integers(1, 4), stride=st.integers(1, 3),
       dilation=st.integers(1, 3), padding=st.sampled_from(["valid", "same", "causal"]),
       strategy=st.sampled_from(["im2col", "strided", "winograd"]),
       density=st.sampled_from([1.0, 0.05]),
       seed=st.integers(0, 2**16))
def test_kernels_property(batch, steps, channels, filters, kernel, stride, dilation, padding,
                          strategy, density, seed):
    if stride > 1 and dilation > 1:
        dilation = 1
    if strategy == "winograd" and (kernel, stride, dilation) != (3, 1, 1):
        strategy = "strided"
    pads = keras_padding(steps, kernel, stride, dilation, padding)
    if steps + sum(pads) < (kernel - 1) * dilation + 1:
        return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, channels)).astype(np.float32)
    w = rng.standard_normal((kernel, channels, filters)).astype(np.float32)
    ref = conv_ref(x, w, None, stride, dilation, pads)
    dy = (rng.standard_normal(ref.shape) * (rng.random(ref.shape) < density)).astype(np.float32)
    y, pads, dx, dw, db = run_plan(x, w, None, stride, dilation, padding, strategy, dy=dy)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    rdx, rdw, _ = conv_grad_ref(x, w, dy, stride, dilation, pads)
    np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, rdw, rtol=1e-4, atol=1e-4)


def test_auto_strategy_picks_each():
    assert Conv1DPlan(64, 400, 128, 250, 1, 1, 1, 0, 400).strategy == "strided"
    imdb = Conv1DPlan(64, 400, 128, 250, 3, 1, 1, 0, 398)
    assert (imdb.strategy, imdb.backward_strategy) == ("winograd", "winograd")
    seed = Conv1DPlan(32, 10, 64, 128, 5, 1, 1, 0, 6)
    assert (seed.strategy, seed.backward_strategy) == ("winograd", "im2col")
    narrow = Conv1DPlan(16, 100, 16, 64, 3, 1, 1, 0, 98)
    assert (narrow.strategy, narrow.backward_strategy) == ("im2col", "im2col")
    # One sample of the seed model: too few rows for F(m, r)'s kernel transform.
    assert Conv1DPlan(1, 10, 64, 128, 5, 1, 1, 0, 6).strategy == "strided"
    assert Conv1DPlan(3, 10, 64, 128, 5, 1, 1, 0, 6).strategy == "winograd"


@pytest.mark.parametrize("padding,strides,dilation", [
    ("valid", 1, 1), ("valid", 2, 1), ("same", 1, 2), ("same", 2, 1), ("causal", 1, 2)])
@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_layer_gradients(padding, strides, dilation, activation):
    # Seeded weights: finite differences are exact only away from relu's kink.
    layer = Conv1D(3, 3, strides=strides, padding=padding, dilation_rate=dilation,
                   activation=activation, kernel_initializer=GlorotUniform(seed=0))
    x = np.random.default_rng(3).standard_normal((2, 9, 4)).astype(np.float32)
    check_layer_gradients(layer, x, eps=1e-3 if activation == "relu" else 1e-2)


def test_layer_matches_reference_and_keras_defaults():
    layer = Conv1D(4, 3, activation="relu")
    x = np.random.default_rng(4).standard_normal((2, 7, 5)).astype(np.float32)
    y = layer(x)
    assert layer.kernel.shape == (3, 5, 4) and layer.bias.shape == (4,)
    assert not layer.bias.value.any()
    limit = np.sqrt(6 / (3 * 5 + 3 * 4))  # glorot_uniform over (3, 5, 4)
    assert np.abs(layer.kernel.value).max() <= limit
    np.testing.assert_allclose(y, np.maximum(conv_ref(x, layer.kernel.value, 0, 1, 1, (0, 0)), 0),
                               rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, 7, 5)) == (None, 5, 4)
    assert Conv1D(4, 3, padding="causal").compute_output_shape((None, 7, 5)) == (None, 7, 4)
    strided = Conv1D(4, 3, strides=2, padding="same")
    assert strided.compute_output_shape((None, 7, 5)) == (None, 4, 4)


def test_layer_without_bias_and_input_grad_false():
    layer = Conv1D(2, (2,), use_bias=False)
    x = np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32)
    y, context = record(layer, x, needs_input_grad=False)
    assert len(layer.weights) == 1
    assert layer.backward(context, np.ones_like(y)) is None
    np.testing.assert_allclose(layer.kernel.grad,
                               conv_grad_ref(x, layer.kernel.value, np.ones(y.shape), 1, 1,
                                             (0, 0))[1], rtol=1e-5, atol=1e-5)


def test_layer_accepts_float64_and_new_batch_sizes():
    layer = Conv1D(2, 3)
    rng = np.random.default_rng(6)
    for batch in (4, 1, 4):
        x = rng.standard_normal((batch, 6, 3))
        y = layer(x)
        np.testing.assert_allclose(y, conv_ref(x.astype(np.float32), layer.kernel.value, 0, 1, 1,
                                               (0, 0)), rtol=1e-5, atol=1e-5)


def test_config_round_trip():
    layer = Conv1D(8, 3, strides=2, padding="same", activation="relu", use_bias=False,
                   name="conv")
    config = layer.get_config()
    assert config["kernel_size"] == (3,) and config["strides"] == (2,)
    assert config["padding"] == "same" and config["activation"] == "relu"
    clone = Conv1D.from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("kwargs,match", [
    (dict(filters=0, kernel_size=3), "filters"),
    (dict(filters=2, kernel_size=0), "kernel_size"),
    (dict(filters=2, kernel_size=3, strides=0), "strides"),
    (dict(filters=2, kernel_size=3, padding="full"), "padding"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "dilation_rate"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv1D(**kwargs)


def test_unsupported_arguments():
    with pytest.raises(NotImplementedError, match="groups"):
        Conv1D(4, 3, groups=2)
    with pytest.raises(NotImplementedError, match="channels_last"):
        Conv1D(4, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        Conv1D(4, 3, kernel_regularizer="l3")


def test_bad_input():
    layer = Conv1D(2, 5)
    with pytest.raises(ValueError, match="kernel_size=5.*4 input steps"):
        layer(np.zeros((2, 4, 3), np.float32))
    layer = Conv1D(2, 3, dilation_rate=3)
    with pytest.raises(ValueError, match="spans 7 steps"):
        layer(np.zeros((2, 6, 3), np.float32))
    layer = Conv1D(2, 3)
    layer(np.zeros((2, 6, 3), np.float32))
    with pytest.raises(ValueError, match="3 channels"):
        layer(np.zeros((2, 6, 4), np.float32))
    with pytest.raises(ValueError, match="3-D"):
        layer(np.zeros((2, 6), np.float32))
    with pytest.raises(ValueError, match="3-D"):
        Conv1D(2, 3)(np.zeros((2, 6, 3, 1), np.float32))
    with pytest.raises(TypeError, match="numeric"):
        layer(np.full((2, 6, 3), "a"))


def test_plan_rejects_mismatched_buffers():
    plan = Conv1DPlan(2, 6, 3, 4, 3, 1, 1, 0, 4)
    x = np.zeros((2, 6, 3), np.float32)
    w = np.zeros((3, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"out must have shape \(2, 4, 4\), got \(2, 5, 4\)"):
        plan.forward(x, w, None, 0, np.empty((2, 5, 4), np.float32))
    with pytest.raises(TypeError, match="kernel must be a C-contiguous float32 array, got a "
                                        "non-contiguous float32"):
        plan.forward(x, w[:, :2], None, 0, np.empty((2, 4, 4), np.float32))
    with pytest.raises(TypeError, match="x must be a C-contiguous float32 array, got a float64"):
        plan.forward(x.astype(np.float64), w, None, 0, np.empty((2, 4, 4), np.float32))
    with pytest.raises(TypeError, match="x must be a C-contiguous float32 array, got a "
                                        "non-contiguous float32"):
        plan.forward(np.asfortranarray(x), w, None, 0, np.empty((2, 4, 4), np.float32))
    with pytest.raises(ValueError, match="strategy"):
        Conv1DPlan(2, 6, 3, 4, 3, 1, 1, 0, 4, "fft")
    with pytest.raises(ValueError, match="out_steps"):
        Conv1DPlan(2, 6, 3, 4, 3, 1, 1, 0, 0)


def test_spatial_dropout_drops_whole_channels():
    layer = SpatialDropout1D(0.5, seed=7)
    x = np.ones((4, 6, 10), np.float32)
    assert layer(x) is x
    y, context = record(layer, x, training=True)
    kept = y[:, 0, :] != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_array_equal(y, np.broadcast_to(np.where(kept[:, None, :], 2.0, 0.0), x.shape))
    np.testing.assert_array_equal(layer.backward(context, np.ones_like(x)), y)
    assert "noise_shape" not in layer.get_config()
    with pytest.raises(ValueError, match="3-D"):
        layer(np.ones((4, 6), np.float32), training=True)


@pytest.mark.parametrize("density", [1.0, 0.04])  # dense: GEMM tasks; sparse: lists
@pytest.mark.parametrize("padding", ["same", "valid"])  # strided valid: x is the operand
@pytest.mark.parametrize("strategy", ["im2col", "strided", "winograd"])
def test_bitwise_same_for_any_thread_count(strategy, padding, density):
    from fastembed import get_num_threads, set_num_threads
    rng = np.random.default_rng(8)
    x = rng.standard_normal((16, 81, 64)).astype(np.float32)
    w = rng.standard_normal((3, 64, 70)).astype(np.float32)
    b = rng.standard_normal(70).astype(np.float32)
    # 17M multiply-adds, 3,600 non-zeros when sparse: both split over a team
    dy = (rng.standard_normal((16, 81, 70)) * (rng.random((16, 81, 70)) < density)).astype(np.float32)
    threads = get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            set_num_threads(n)
            y, _, dx, dw, db = run_plan(x, w, b, 1, 1, padding, strategy, act=1,
                                        dy=dy if padding == "same" else dy[:, 2:].copy())
            results.append((y, dx, dw, db))
    finally:
        set_num_threads(threads)
    for other in results[1:]:
        for expected, got in zip(results[0], other):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("act", [0, 1])
@pytest.mark.parametrize("case", [(32, 10, 64, 128, 5, 1, 1, 0, "auto"),
                                  (7, 12, 16, 40, 3, 2, 1, 0, "im2col"),
                                  (5, 13, 16, 300, 3, 1, 2, 0, "strided"),
                                  (3, 9, 8, 20, 3, 1, 1, 1, "im2col"),
                                  (4, 11, 24, 36, 4, 1, 1, 0, "im2col")])
def test_backward_pooled_is_backward_on_the_pooled_gradient(case, act, threads):
    """A global max pooling's gradient, given as (step, value) per (sample,
    filter), gives the bits backward gives on the dense gradient; zero and
    negative-zero values included."""
    from fastembed import get_num_threads, set_num_threads
    B, L, C, F, K, s, d, pad, strategy = case
    T = (L + pad - (K - 1) * d - 1) // s + 1
    rng = np.random.default_rng(3)
    x = rng.standard_normal((B, L, C)).astype(np.float32)
    w = (rng.standard_normal((K, C, F)) * 0.2).astype(np.float32)
    b = (rng.standard_normal(F) * 0.1).astype(np.float32)
    plan = Conv1DPlan(B, L, C, F, K, s, d, pad, T, strategy)
    assert plan.pooled_fits
    y = np.empty(plan.output_shape, np.float32)
    plan.forward(x, w, b, act, y)
    step = y.argmax(axis=1).astype(np.int32)
    g = rng.standard_normal((B, F)).astype(np.float32)
    g[0, :3], g[1, 0] = 0.0, -0.0
    dy = np.zeros_like(y)  # numpy's dense gradient of the pooling
    dy[np.arange(B)[:, None], step, np.arange(F)[None, :]] += g
    threads_before = get_num_threads()
    try:
        set_num_threads(threads)
        results = []
        for pooled in (False, True):
            dw, db, dx = np.empty_like(w), np.empty_like(b), np.empty_like(x)
            if pooled:
                plan.backward_pooled(step, g, y, act, x, w, dw, db, dx)
            else:
                plan.backward(dy, y, act, x, w, dw, db, dx)
            results.append((dw, db, dx))
    finally:
        set_num_threads(threads_before)
    for dense, pooled in zip(*results):
        np.testing.assert_array_equal(pooled.view(np.int32), dense.view(np.int32))


def test_backward_pooled_rejects_bad_arguments():
    plan = Conv1DPlan(4, 10, 8, 16, 3, 1, 1, 0, 8)
    x = np.zeros((4, 10, 8), np.float32)
    w, b = np.zeros((3, 8, 16), np.float32), np.zeros(16, np.float32)
    y = np.zeros(plan.output_shape, np.float32)
    dw, db, dx = np.empty_like(w), np.empty_like(b), np.empty_like(x)
    step, g = np.zeros((4, 16), np.int32), np.ones((4, 16), np.float32)
    step[2, 5] = 8
    with pytest.raises(ValueError, match=r"step must lie in \[0, 8\), got 1 value\(s\) outside"):
        plan.backward_pooled(step, g, y, 1, x, w, dw, db, dx)
    with pytest.raises(TypeError, match="step must be a C-contiguous int32 array"):
        plan.backward_pooled(step.astype(np.int64), g, y, 1, x, w, dw, db, dx)
    with pytest.raises(ValueError, match=r"g must have shape \(4, 16\)"):
        plan.backward_pooled(np.zeros((4, 16), np.int32), g[:3], y, 1, x, w, dw, db, dx)
    short = Conv1DPlan(4, 10, 8, 16, 3, 1, 1, 0, 2)  # 1 in 2 non-zero: beyond the lists
    assert not short.pooled_fits
    with pytest.raises(ValueError, match="cannot hold one non-zero per"):
        short.backward_pooled(np.zeros((4, 16), np.int32), g, np.zeros((4, 2, 16), np.float32),
                              1, x, w, dw, db, dx)
