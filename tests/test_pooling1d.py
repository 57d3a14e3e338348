"""1-D pooling layers against numpy references, gradient checks, bad input."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastembed._kernels._core import pool1d_backward, pool1d_forward
from fastembed.engine import record
from fastembed.layers import (AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D,
                              MaxPooling1D)
from gradcheck import check_layer_gradients


def windows(steps, pool, stride, padding):
    """[(lo, hi)] of each output step, Keras/XLA padding, clipped to the input."""
    if padding == "valid":
        out, pad_left = (steps - pool) // stride + 1, 0
    else:
        out = -(-steps // stride)
        pad_left = max((out - 1) * stride + pool - steps, 0) // 2
    return [(max(t * stride - pad_left, 0), min(t * stride - pad_left + pool, steps))
            for t in range(out)]


def pool_ref(x, pool, stride, padding, mode, dy):
    """(out, dx) of max / average pooling; max sends the gradient to the first maximum."""
    out, dx = [], np.zeros(x.shape)
    for t, (lo, hi) in enumerate(windows(x.shape[1], pool, stride, padding)):
        win = x[:, lo:hi].astype(np.float64)
        if mode == "max":
            out.append(win.max(axis=1))
            arg = lo + win.argmax(axis=1)
            for b in range(x.shape[0]):
                dx[b, arg[b], np.arange(x.shape[2])] += dy[b, t]
        else:
            out.append(win.mean(axis=1))
            dx[:, lo:hi] += dy[:, t:t + 1] / (hi - lo)
    return np.stack(out, axis=1), dx


LAYERS = {"max": MaxPooling1D, "average": AveragePooling1D}


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool,strides,padding,steps", [
    (2, None, "valid", 7), (3, 1, "valid", 7), (3, 2, "same", 8), (4, 3, "same", 7),
    (2, 2, "same", 5), (5, 1, "same", 5), (1, 2, "valid", 6)])
def test_window_pooling_matches_numpy(mode, pool, strides, padding, steps):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, steps, 4)).astype(np.float32)
    layer = LAYERS[mode](pool, strides, padding)
    y, context = record(layer, x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    ref, ref_dx = pool_ref(x, pool, strides or pool, padding, mode, dy)
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.backward(context, dy), ref_dx, rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None, steps, 4)) == y.shape[:0] + (None,) + y.shape[1:]


# The kernel set stays selected for every example (hence the health check).
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.integers(1, 3), steps=st.integers(1, 10), channels=st.integers(1, 40),
       pool=st.integers(1, 5), stride=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]),
       mode=st.sampled_from(["max", "average"]), seed=st.integers(0, 2**16))
def test_window_pooling_property(batch, steps, channels, pool, stride, padding, mode, seed, isa):
    if padding == "valid" and pool > steps:
        return
    rng = np.random.default_rng(seed)
    # Few distinct values, so that ties exercise "first maximum".
    x = rng.integers(-2, 3, (batch, steps, channels)).astype(np.float32)
    layer = LAYERS[mode](pool, stride, padding)
    y, context = record(layer, x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    ref, ref_dx = pool_ref(x, pool, stride, padding, mode, dy)
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.backward(context, dy), ref_dx, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_max_pooling(keepdims):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    x[0, 1, 2] = x[0, 4, 2] = 10.0  # a tie: the first gets the gradient
    layer = GlobalMaxPooling1D(keepdims=keepdims)
    y, context = record(layer, x)
    np.testing.assert_array_equal(y, x.max(axis=1, keepdims=keepdims))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(context, dy)
    ref = np.zeros_like(x)
    arg = x.argmax(axis=1)
    for b in range(3):
        ref[b, arg[b], np.arange(5)] = dy.reshape(3, 5)[b]
    np.testing.assert_array_equal(dx, ref)
    assert dx[0, 4, 2] == 0 and dx[0, 1, 2] != 0
    assert layer.compute_output_shape((None, 6, 5)) == ((None, 1, 5) if keepdims else (None, 5))
    assert layer.compute_mask(x, np.ones((3, 6), bool)) is None


def test_global_max_pooling_propagates_nan(isa):
    # 37 channels: whole vectors and a scalar tail in every kernel set.
    x = np.zeros((1, 4, 37), np.float32)
    x[0, 1, 1] = x[0, 1, 36] = 5.0
    x[0, 2, 1] = x[0, 3, 1] = x[0, 2, 36] = x[0, 3, 36] = np.nan
    layer = GlobalMaxPooling1D()
    y, context = record(layer, x)
    assert np.isnan(y[0, [1, 36]]).all() and (y[0, 2:36] == 0).all()
    dx = layer.backward(context, np.ones_like(y))
    assert dx[0, 2, 1] == dx[0, 2, 36] == 1 and dx[0, :, [1, 36]].sum() == 2  # the first NaN


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling_with_and_without_mask(keepdims):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]], bool)
    layer = GlobalAveragePooling1D(keepdims=keepdims)
    assert layer.supports_masking and layer.compute_mask(x, mask) is None
    np.testing.assert_allclose(layer(x), x.mean(axis=1, keepdims=keepdims), rtol=1e-6)
    y, context = record(layer, x, mask=mask)
    count = mask.sum(axis=1)[:, None]
    ref = (x * mask[:, :, None]).sum(axis=1) / count
    np.testing.assert_allclose(y.reshape(ref.shape), ref, rtol=1e-6)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(context, dy)
    np.testing.assert_allclose(dx, mask[:, :, None] * (dy.reshape(3, 1, 4) / count[:, :, None]),
                               rtol=1e-6)


def test_global_average_pooling_all_masked_is_nan_as_keras():
    y = GlobalAveragePooling1D()(np.ones((1, 3, 2), np.float32), mask=np.zeros((1, 3), bool))
    assert np.isnan(y).all()


@pytest.mark.parametrize("layer", [
    MaxPooling1D(2), AveragePooling1D(3, 2, "same"), GlobalMaxPooling1D(),
    GlobalAveragePooling1D(), GlobalMaxPooling1D(keepdims=True)])
def test_gradients(layer):
    # Distinct values 0.1 apart: finite differences never move a maximum.
    x = (np.random.default_rng(3).permutation(42) * 0.1).reshape(2, 7, 3).astype(np.float32)
    check_layer_gradients(layer, x)


def test_masked_average_gradients():
    mask = np.array([[1, 0, 1, 1, 0, 1, 1], [0, 1, 1, 1, 1, 1, 0]], bool)
    x = np.random.default_rng(4).standard_normal((2, 7, 3)).astype(np.float32)
    check_layer_gradients(GlobalAveragePooling1D(), x, mask=mask)


def test_config_round_trip():
    for layer in (MaxPooling1D(3, 2, "same", name="p"), AveragePooling1D(2),
                  GlobalMaxPooling1D(keepdims=True), GlobalAveragePooling1D()):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
    config = MaxPooling1D(3, None, "SAME").get_config()
    assert config["pool_size"] == (3,) and config["strides"] == (3,)
    assert config["padding"] == "same"


def test_bad_arguments_and_input():
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling1D(0)
    with pytest.raises(ValueError, match="strides"):
        AveragePooling1D(2, strides=-1)
    with pytest.raises(ValueError, match="padding"):
        MaxPooling1D(2, padding="causal")
    with pytest.raises(NotImplementedError, match="channels_last"):
        GlobalMaxPooling1D(data_format="channels_first")
    with pytest.raises(ValueError, match="pool_size=4 is longer than the 3 input steps"):
        MaxPooling1D(4)(np.zeros((1, 3, 2), np.float32))
    with pytest.raises(ValueError, match="3-D"):
        GlobalMaxPooling1D()(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="3-D"):
        AveragePooling1D(2)(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="at least one step"):
        GlobalAveragePooling1D()(np.zeros((2, 0, 3), np.float32))
    with pytest.raises(ValueError, match="mask must have shape"):
        GlobalAveragePooling1D()(np.zeros((2, 4, 3), np.float32), mask=np.ones((2, 3)))
    layer = GlobalMaxPooling1D()
    _, context = record(layer, np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ValueError, match="grad_output"):
        layer.backward(context, np.zeros((2, 4), np.float32))


def test_kernel_boundary_validates():
    x = np.zeros((1, 4, 2), np.float32)
    with pytest.raises(TypeError, match="argmax must be a C-contiguous int32 array, got a NoneType"):
        pool1d_forward(x, 2, 2, 0, 2, "max")
    with pytest.raises(ValueError, match="mode"):
        pool1d_forward(x, 2, 2, 0, 2, "min")
    with pytest.raises(ValueError, match="mask applies to average"):
        pool1d_forward(x, 2, 2, 0, 2, "max", mask=np.ones((1, 4)),
                       argmax=np.empty((1, 2, 2), np.int32))
    with pytest.raises(ValueError, match="do not fit"):
        pool1d_forward(x, 2, 2, 0, 3, "average")
    bad = np.full((1, 2, 2), 7, np.int32)
    with pytest.raises(ValueError, match=r"argmax must lie in \[0, 4\)"):
        pool1d_backward(np.ones((1, 2, 2), np.float32), 4, 2, 2, 0, "max", argmax=bad)
