"""The softmax rows, the sparse categorical cross-entropy and Dense's GEMM
and element-wise ends (csrc/softmax.c, _kernels.gemm, csrc/dense.c) against
float64 numpy references of Keras 3's formulas, on every kernel set, bitwise
the same for any thread count."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed import _kernels, losses
from fastembed._kernels._core import RNN_ACTIVATIONS

F32 = np.float32
EPS = 1e-7


def softmax64(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sparse_ce64(ids, p, from_logits):
    """Keras's values and d values / d p (float64): probabilities are
    normalised and clipped at epsilon; the clip's gradient is 0 outside."""
    rows = np.arange(len(ids))
    if from_logits:
        s = softmax64(p)
        grad = s.copy()
        grad[rows, ids] -= 1
        return -np.log(s[rows, ids]), grad
    total = p.sum(-1)
    q = p[rows, ids] / total
    inside = (q > EPS) & (q < 1 - EPS)
    d_q = np.where(inside, -1 / np.clip(q, EPS, 1 - EPS), 0.0)
    grad = (-d_q * q / total)[:, None] * np.ones_like(p)
    grad[rows, ids] = d_q * (1 - q) / total
    return -np.log(np.clip(q, EPS, 1 - EPS)), grad


@pytest.mark.parametrize("k", [1, 7, 33, 1000])
@pytest.mark.parametrize("use_bias", [False, True])
def test_softmax_forward_and_backward_match_numpy(isa, k, use_bias):
    rng = np.random.default_rng(k)
    z = (rng.standard_normal((9, k)) * 8).astype(F32)
    bias = rng.standard_normal(k).astype(F32) if use_bias else None
    y = _kernels.softmax_forward(z, bias, np.empty_like(z))
    logits = z if bias is None else z + bias  # float32, as Keras adds the bias
    expected = softmax64(logits.astype(np.float64))
    np.testing.assert_allclose(y, expected, rtol=2e-6, atol=1e-12)
    in_place = z.copy()
    np.testing.assert_array_equal(_kernels.softmax_forward(in_place, bias, in_place), y)
    dy = rng.standard_normal(z.shape).astype(F32)
    dz = _kernels.softmax_backward(y, dy, np.empty_like(z))
    y64 = y.astype(np.float64)
    # float32's cancellation in dy - sum(dy * y): an absolute error of dy's scale
    np.testing.assert_allclose(dz, y64 * (dy - (dy * y64).sum(-1, keepdims=True)),
                               rtol=1e-5, atol=1e-6)


def test_softmax_of_large_and_nan_logits():
    z = np.array([[1e4, 0.0, -1e4], [np.nan, 0.0, 1.0], [-np.inf, 0.0, 0.0]], F32)
    y = _kernels.softmax_forward(z, None, np.empty_like(z))
    np.testing.assert_array_equal(y[0], [1, 0, 0])
    assert np.isnan(y[1]).all()
    np.testing.assert_array_equal(y[2], [0, 0.5, 0.5])


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_crossentropy_matches_keras_formula(isa, from_logits):
    rng = np.random.default_rng(3)
    n, k = 40, 57
    ids = rng.integers(0, k, n)
    if from_logits:
        p = (rng.standard_normal((n, k)) * 4).astype(F32)
    else:
        p = rng.uniform(0.01, 1.0, (n, k)).astype(F32)  # unnormalised: Keras divides by the sum
        p[0, ids[0]] = 1e-12                 # clipped below epsilon: no gradient
        p[1] = 1e-12
        p[1, ids[1]] = 1.0                   # clipped above 1 - epsilon: no gradient
    scale = rng.uniform(0.5, 2.0, n).astype(F32)
    values, grad = _kernels.sparse_categorical_crossentropy(ids, p, from_logits, scale)
    expected_values, expected_grad = sparse_ce64(ids, p.astype(np.float64), from_logits)
    np.testing.assert_allclose(values, expected_values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, expected_grad * scale[:, None], rtol=1e-4, atol=1e-6)
    if not from_logits:
        assert not grad[:2].any() and grad[2:].any()
    only_values, no_grad = _kernels.sparse_categorical_crossentropy(ids, p, from_logits)
    assert no_grad is None
    np.testing.assert_array_equal(only_values, values)


def test_softmax_sparse_crossentropy_backward_is_the_chain_rule(isa):
    """d loss / d logits in one pass against float64 numpy: Keras's loss
    gradient on y = softmax(z), then softmax's backward. Rows whose target
    probability is clipped (above 1 - eps from a large logit, below eps)
    get no gradient."""
    rng = np.random.default_rng(4)
    n, k = 12, 1000
    ids = rng.integers(0, k, n)
    z = rng.standard_normal((n, k)).astype(F32)
    z[0, ids[0]] = 100.0    # y_t rounds to 1: clipped above
    z[1, ids[1]] = -100.0   # y_t below eps: clipped below
    y = _kernels.softmax_forward(z, None, np.empty_like(z))
    scale = rng.uniform(0.5, 2.0, n).astype(F32)
    scale[2] = 0.0          # a masked row
    values = _kernels.softmax_sparse_crossentropy_backward(ids, y, scale, dz := np.empty_like(y))
    y64 = y.astype(np.float64)
    expected_values, d_y = sparse_ce64(ids, y64, False)
    expected = y64 * (d_y - (d_y * y64).sum(-1, keepdims=True)) * scale[:, None]
    np.testing.assert_allclose(values, expected_values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dz, expected, rtol=1e-4, atol=1e-7)
    assert not dz[:3].any() and dz[3:].all()
    in_place = y.copy()
    np.testing.assert_array_equal(
        _kernels.softmax_sparse_crossentropy_backward(ids, in_place, scale, in_place), values)
    np.testing.assert_array_equal(in_place, dz)
    unfused = _kernels.softmax_backward(
        y, _kernels.sparse_categorical_crossentropy(ids, y, False, scale)[1], np.empty_like(y))
    np.testing.assert_allclose(dz, unfused, rtol=1e-4, atol=1e-8)


def test_sparse_crossentropy_keeps_nan():
    p = np.full((2, 3), 1 / 3, F32)
    p[0, 1] = np.nan
    values, grad = _kernels.sparse_categorical_crossentropy(np.array([0, 2]), p, False,
                                                            np.ones(2, F32))
    assert np.isnan(values[0]) and np.isnan(grad[0]).all()
    assert np.isfinite(values[1]) and np.isfinite(grad[1]).all()
    dz = np.empty_like(p)
    values = _kernels.softmax_sparse_crossentropy_backward(np.array([0, 2]), p, np.ones(2, F32),
                                                           dz)
    assert np.isnan(values[0]) and np.isnan(dz[0]).all()
    assert np.isfinite(values[1]) and np.isfinite(dz[1]).all()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_sparse_loss_with_mask_and_weights_matches_the_one_hot_loss(reduction):
    """The C path of SparseCategoricalCrossentropy against CategoricalCrossentropy
    (numpy, one-hot targets) on a 3-D output with a mask and sample weights."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0.01, 1.0, (4, 5, 6)).astype(F32)
    ids = rng.integers(0, 6, (4, 5))
    mask = rng.random((4, 5)) > 0.3
    weights = rng.uniform(0, 2, 4).astype(F32)
    sparse = losses.SparseCategoricalCrossentropy(reduction=reduction)
    dense = losses.CategoricalCrossentropy(reduction=reduction)
    got = sparse.value_and_gradient(ids, p, mask, weights)
    want = dense.value_and_gradient(np.eye(6, dtype=F32)[ids], p, mask, weights)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-8)


def test_kernels_are_bitwise_identical_for_any_thread_count():
    """Softmax, the sparse cross-entropy and Dense's element-wise ends."""
    rng = np.random.default_rng(1)
    n, k = 64, 5000  # above the kernels' parallel threshold
    z = rng.standard_normal((n, k)).astype(F32)
    bias = rng.standard_normal(k).astype(F32)
    ids = rng.integers(0, k, n)
    dy = rng.standard_normal((n, k)).astype(F32)
    scale = np.full(n, 1 / n, F32)
    previous = _kernels.get_num_threads()

    def run():
        y = _kernels.softmax_forward(z, bias, np.empty_like(z))
        return (y, _kernels.softmax_backward(y, dy, np.empty_like(z)),
                *_kernels.sparse_categorical_crossentropy(ids, y, False, scale),
                *_kernels.sparse_categorical_crossentropy(ids, z, True, scale),
                _kernels.softmax_sparse_crossentropy_backward(ids, y, scale, dz := y.copy()),
                dz, *dense(RNN_ACTIVATIONS["tanh"]))

    def dense(code):
        y = _kernels.dense_forward(z.copy(), bias, code)
        db = np.empty(z.shape[1], F32)
        return y, _kernels.dense_backward(dy, y, code, np.empty_like(z), db), db
    try:
        _kernels.set_num_threads(1)
        serial = run()
        for threads in (2, 3):
            _kernels.set_num_threads(threads)
            for a, b in zip(serial, run()):
                np.testing.assert_array_equal(a, b)
    finally:
        _kernels.set_num_threads(previous)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 70), st.integers(0, 2**31 - 1))
def test_softmax_property(n, k, seed):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((n, k)) * 10).astype(F32)
    y = _kernels.softmax_forward(z, None, np.empty_like(z))
    np.testing.assert_allclose(y.sum(-1), 1, rtol=1e-5)
    np.testing.assert_allclose(y, softmax64(z.astype(np.float64)), rtol=2e-6, atol=1e-12)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("accumulate", [False, True])
def test_gemm_matches_numpy(trans_a, trans_b, accumulate):
    rng = np.random.default_rng(2)
    m, k, n = 13, 7, 11
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(F32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(F32)
    out = rng.standard_normal((m, n)).astype(F32)
    expected = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b) \
        + (out if accumulate else 0)
    got = _kernels.gemm(out, a, b, trans_a, trans_b, accumulate)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("m, n", [(32, 640), (1, 5), (3, 0)])
def test_gemm_outer_product_is_exact(trans_a, trans_b, m, n):
    """k == 1: each element is one float32 product, rounded once (as
    sgemm rounds it), whatever the output held before."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((1, m) if trans_a else (m, 1)).astype(F32)
    b = rng.standard_normal((n, 1) if trans_b else (1, n)).astype(F32)
    out = np.full((m, n), np.nan, F32)
    got = _kernels.gemm(out, a, b, trans_a, trans_b)
    expected = a.reshape(m, 1) * b.reshape(1, n)  # float32 products
    assert got is out and np.array_equal(got, expected)


def test_bad_arguments_are_clear_errors():
    z = np.zeros((2, 3), F32)
    with pytest.raises(TypeError, match="z must be a C-contiguous float32"):
        _kernels.softmax_forward(z.astype(np.float64), None, z)
    with pytest.raises(TypeError, match="non-contiguous"):
        _kernels.softmax_forward(np.zeros((3, 2), F32).T, None, z)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\), got \(2,\)"):
        _kernels.softmax_forward(z, np.zeros(2, F32), z)
    with pytest.raises(ValueError, match=r"out must have shape \(2, 3\)"):
        _kernels.softmax_forward(z, None, np.zeros((3, 2), F32))
    with pytest.raises(ValueError, match=r"dy must have shape \(2, 3\)"):
        _kernels.softmax_backward(z, np.zeros((2, 2), F32), z)
    with pytest.raises(ValueError, match="non-empty last axis"):
        _kernels.softmax_forward(np.zeros((2, 0), F32), None, np.zeros((2, 0), F32))
    with pytest.raises(IndexError, match=r"ids\[1\] = 3 is not in \[0, 3\)"):
        _kernels.sparse_categorical_crossentropy(np.array([0, 3]), z, False)
    with pytest.raises(IndexError, match=r"ids\[0\] = -1 is not in \[0, 3\)"):
        _kernels.sparse_categorical_crossentropy(np.array([-1, 0]), z, False)
    with pytest.raises(TypeError, match="ids must be a C-contiguous int64"):
        _kernels.sparse_categorical_crossentropy(np.array([0, 1], np.int32), z, False)
    with pytest.raises(ValueError, match=r"row_scale must have shape \(2,\)"):
        _kernels.sparse_categorical_crossentropy(np.array([0, 1]), z, False, np.ones(3, F32))
    with pytest.raises(IndexError, match=r"ids\[1\] = 3 is not in \[0, 3\)"):
        _kernels.softmax_sparse_crossentropy_backward(np.array([0, 3]), z, np.ones(2, F32), z)
    with pytest.raises(TypeError, match="row_scale must be a C-contiguous float32"):
        _kernels.softmax_sparse_crossentropy_backward(np.array([0, 1]), z, None, z)
    with pytest.raises(ValueError, match=r"out must have shape \(2, 3\)"):
        _kernels.softmax_sparse_crossentropy_backward(np.array([0, 1]), z, np.ones(2, F32),
                                                      np.zeros((3, 2), F32))
    with pytest.raises(ValueError, match="gemm shapes do not match"):
        _kernels.gemm(np.zeros((2, 2), F32), z, z)
    with pytest.raises(ValueError, match="a must be 2-D"):
        _kernels.gemm(np.zeros((2, 2), F32), np.zeros(3, F32), z)


DENSE_ACTIVATIONS = {  # float64 references: y(z), dy/dz(y)
    "linear": (lambda z: z, lambda y: np.ones_like(y)),
    "relu": (lambda z: np.maximum(z, 0), lambda y: (y > 0).astype(np.float64)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda y: y * (1 - y)),
    "tanh": (np.tanh, lambda y: 1 - y * y),
    "hard_sigmoid": (lambda z: np.clip(z / 6 + 0.5, 0, 1), lambda y: ((y > 0) & (y < 1)) / 6),
}


@pytest.mark.parametrize("activation", sorted(DENSE_ACTIVATIONS))
@pytest.mark.parametrize("k", [1, 7, 33])
@pytest.mark.parametrize("use_bias", [False, True])
def test_dense_forward_and_backward_match_numpy(isa, activation, k, use_bias):
    rng = np.random.default_rng(k)
    code = RNN_ACTIVATIONS[activation]
    forward, derivative = DENSE_ACTIVATIONS[activation]
    z = (rng.standard_normal((9, k)) * 4).astype(F32)
    bias = rng.standard_normal(k).astype(F32) if use_bias else None
    y = _kernels.dense_forward(z.copy(), bias, code)
    logits = z if bias is None else z + bias  # float32, as Keras adds the bias
    np.testing.assert_allclose(y, forward(logits.astype(np.float64)), rtol=2e-6, atol=1e-7)
    dy = rng.standard_normal(z.shape).astype(F32)
    db = np.full(k, np.nan, F32)
    dz = _kernels.dense_backward(dy, y, code, np.empty_like(z), db)
    want = dy * derivative(y.astype(np.float64))
    np.testing.assert_allclose(dz, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, want.sum(0), rtol=1e-5, atol=1e-6)
    in_place = dy.copy()  # dz may be dy; db may be left out
    assert _kernels.dense_backward(in_place, y, code, in_place, None) is in_place
    np.testing.assert_array_equal(in_place, dz)


def test_dense_kernels_reject_bad_arguments():
    y = np.zeros((2, 3), F32)
    with pytest.raises(ValueError, match="activation must be one of .* got 7"):
        _kernels.dense_forward(y, None, 7)
    with pytest.raises(ValueError, match="activation must be one of .* got True"):
        _kernels.dense_backward(y, y, True, y, None)
    with pytest.raises(TypeError, match="y must be a C-contiguous float32"):
        _kernels.dense_forward(y.astype(np.float64), None, 0)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\), got \(2,\)"):
        _kernels.dense_forward(y, np.zeros(2, F32), 0)
    with pytest.raises(ValueError, match=r"dz must have shape \(2, 3\)"):
        _kernels.dense_backward(y, y, 0, np.zeros((3, 2), F32), None)
    with pytest.raises(ValueError, match=r"db must have shape \(3,\), got \(2,\)"):
        _kernels.dense_backward(y, y, 0, y, np.zeros(2, F32))
