"""Embedding gather / gradient kernels against numpy references."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastembed import _kernels


def numpy_grad(d_out, indices, vocab):
    """Reference: dense np.add.at gradient, reduced to its touched rows. In
    float32: np.add.at adds in position order, the order the kernel keeps, so
    the two agree to the bit (a float64 sum differs by rounding that grows
    with how many rows cancel)."""
    dim = d_out.shape[-1]
    dense = np.zeros((vocab, dim), np.float32)
    np.add.at(dense, indices.reshape(-1), d_out.reshape(-1, dim))
    rows = np.unique(indices)
    return rows, dense[rows]


@st.composite
def lookups(draw):
    vocab = draw(st.integers(1, 300))
    dim = draw(st.integers(1, 17))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9))
    dtype = draw(st.sampled_from([np.int32, np.int64]))
    # Small id ranges give heavy duplication.
    high = draw(st.integers(1, vocab))
    indices = draw(hnp.arrays(dtype, shape, elements=st.integers(0, high - 1)))
    return vocab, dim, indices


@settings(max_examples=150, deadline=None)
@given(lookups(), st.integers(0, 2**32 - 1))
def test_gather_matches_numpy_take(lookup, seed):
    vocab, dim, indices = lookup
    table = np.random.default_rng(seed).standard_normal((vocab, dim)).astype(np.float32)
    out = _kernels.gather(table, indices)
    assert out.shape == indices.shape + (dim,)
    np.testing.assert_array_equal(out, np.take(table, indices, axis=0))


@settings(max_examples=150, deadline=None)
@given(lookups(), st.integers(0, 2**32 - 1))
def test_grad_matches_numpy_add_at(lookup, seed):
    vocab, dim, indices = lookup
    d_out = np.random.default_rng(seed).standard_normal(indices.shape + (dim,)).astype(np.float32)
    rows, grads = _kernels.embedding_grad(d_out, indices, vocab)
    want_rows, want_grads = numpy_grad(d_out, indices, vocab)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_array_equal(grads, want_grads)


def test_grad_sums_duplicates_in_position_order():
    # Order matters in float32: 1e8 + 1 - 1e8 is 0 left to right, not 1.
    d_out = np.array([[1e8], [1.0], [-1e8]], np.float32)
    rows, grads = _kernels.embedding_grad(d_out, np.array([5, 5, 5]), 10)
    assert rows.tolist() == [5]
    assert grads[0, 0] == np.float32(np.float32(1e8) + np.float32(1.0)) + np.float32(-1e8)


def test_non_contiguous_inputs():
    table = np.arange(40, dtype=np.float32).reshape(10, 4)
    indices = np.arange(20).reshape(4, 5)[:, ::2] % 10  # strided view
    np.testing.assert_array_equal(_kernels.gather(table, indices), table[indices])
    d_out = np.ones((3, 3, 8), np.float32)[:, :, ::2]
    rows, grads = _kernels.embedding_grad(d_out, indices[:3], 10)
    want_rows, want_grads = numpy_grad(np.ascontiguousarray(d_out), indices[:3], 10)
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_allclose(grads, want_grads)


def test_large_vocab_multi_pass_sort():
    rng = np.random.default_rng(0)
    vocab = 3_000_000  # 22 bits: two radix passes
    indices = rng.integers(0, vocab, (64, 20))
    indices[0, :5] = vocab - 1
    d_out = rng.standard_normal((64, 20, 8)).astype(np.float32)
    rows, grads = _kernels.embedding_grad(d_out, indices, vocab)
    order = np.argsort(indices.reshape(-1), kind="stable")
    want_rows = np.unique(indices)
    np.testing.assert_array_equal(rows, want_rows)
    sums = np.add.reduceat(d_out.reshape(-1, 8)[order].astype(np.float64),
                           np.searchsorted(indices.reshape(-1)[order], want_rows))
    np.testing.assert_allclose(grads, sums, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
def test_bitwise_same_for_any_thread_count(threads):
    rng = np.random.default_rng(1)
    table = rng.standard_normal((5000, 64)).astype(np.float32)
    indices = rng.integers(0, 50, (256, 20))  # heavy duplication, parallel sized
    d_out = rng.standard_normal((256, 20, 64)).astype(np.float32)
    previous = _kernels.get_num_threads()
    try:
        _kernels.set_num_threads(1)
        reference = _kernels.gather(table, indices), _kernels.embedding_grad(d_out, indices, 5000)
        _kernels.set_num_threads(threads)
        result = _kernels.gather(table, indices), _kernels.embedding_grad(d_out, indices, 5000)
    finally:
        _kernels.set_num_threads(previous)
    assert np.array_equal(reference[0], result[0])
    assert np.array_equal(reference[1][0], result[1][0])
    assert reference[1][1].tobytes() == result[1][1].tobytes()


def test_empty_and_single_row():
    table = np.ones((1, 3), np.float32)
    assert _kernels.gather(table, np.zeros((0, 4), np.int64)).shape == (0, 4, 3)
    rows, grads = _kernels.embedding_grad(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), 1)
    assert rows.shape == (0,) and grads.shape == (0, 3)
    rows, grads = _kernels.embedding_grad(np.full((4, 3), 2, np.float32), np.zeros(4, np.int32), 1)
    assert rows.tolist() == [0] and grads.tolist() == [[8, 8, 8]]


@pytest.mark.parametrize("indices, message", [
    ([[1, 2], [3, 1000]], r"indices\[1,1\] = 1000 is not in \[0, 1000\)"),
    ([[1, -1]], r"indices\[0,1\] = -1 is not in \[0, 1000\)"),
    (np.array([7, 2**40]), r"indices\[1\] = 1099511627776 is not in \[0, 1000\)"),
])
def test_out_of_range_index_names_position_and_value(indices, message):
    table = np.zeros((1000, 4), np.float32)
    with pytest.raises(IndexError, match=message):
        _kernels.gather(table, indices)
    with pytest.raises(IndexError, match=message):
        _kernels.embedding_grad(np.zeros(np.shape(indices) + (4,), np.float32), indices, 1000)


def test_float_indices():
    table = np.arange(8, dtype=np.float32).reshape(4, 2)
    np.testing.assert_array_equal(_kernels.gather(table, np.array([1.0, 3.0])), table[[1, 3]])
    with pytest.raises(ValueError, match=r"indices\[1\] = 2.5 is not an integer"):
        _kernels.gather(table, np.array([1.0, 2.5]))
    with pytest.raises(ValueError, match=r"indices\[0\] = nan is not an integer"):
        _kernels.gather(table, np.array([np.nan]))


@pytest.mark.parametrize("bad", [np.array(["a"]), np.array([1 + 2j]), np.array([None])])
def test_non_numeric_indices_are_type_errors(bad):
    with pytest.raises(TypeError, match="indices must be an integer array"):
        _kernels.gather(np.zeros((3, 2), np.float32), bad)


def test_table_must_be_float32_matrix():
    with pytest.raises(TypeError, match="2-D float32 numpy array"):
        _kernels.gather(np.zeros((3, 2)), [0])
    with pytest.raises(TypeError, match="2-D float32 numpy array"):
        _kernels.gather(np.zeros(3, np.float32), [0])


def test_grad_shape_mismatch():
    with pytest.raises(ValueError, match=r"d_out must have shape \(2,\) \+ \(dim,\), got \(3, 4\)"):
        _kernels.embedding_grad(np.zeros((3, 4), np.float32), np.zeros(2, np.int64), 5)


def test_thread_count_validation():
    with pytest.raises(ValueError, match="num_threads must be a positive integer, got 0"):
        _kernels.set_num_threads(0)
