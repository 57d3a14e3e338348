"""The built-in synthetic datasets: shapes, ranges, determinism, learnability."""
import re
import time

import numpy as np
import pytest

from fastembed.datasets import synthetic_ratings

SMALL = dict(num_users=300, num_items=200, num_ratings=30_000, dim=4)


def _concat(split):
    return [np.concatenate(parts) for parts in zip(*split)]


def test_ratings_shapes_dtypes_and_split():
    train, test = synthetic_ratings.load_data(num_users=50, num_items=40, num_ratings=1_000, test_split=0.25)
    assert [len(a) for a in train] == [750] * 3
    assert [len(a) for a in test] == [250] * 3
    for users, items, ratings in (train, test):
        assert users.dtype == np.int64 and items.dtype == np.int64
        assert ratings.dtype == np.float32
        assert users.ndim == items.ndim == ratings.ndim == 1


def test_ratings_ranges():
    users, items, ratings = _concat(synthetic_ratings.load_data(num_users=70, num_items=30, num_ratings=20_000))
    assert users.min() >= 0 and users.max() < 70
    assert items.min() >= 0 and items.max() < 30
    assert ratings.min() >= 1 and ratings.max() <= 5
    assert np.isfinite(ratings).all()
    assert 3 < ratings.mean() < 4 and 0.7 < ratings.std() < 1.2
    assert len(np.unique(users)) == 70 and len(np.unique(items)) == 30  # every id rated


def test_ratings_defaults():
    (users, items, ratings), test = synthetic_ratings.load_data()
    assert len(users) == 80_000 and len(test[0]) == 20_000
    assert users.max() < 1_000 and items.max() < 2_000


def test_no_test_split():
    train, (users, items, ratings) = synthetic_ratings.load_data(num_ratings=100, test_split=0)
    assert len(train[0]) == 100 and len(users) == len(items) == len(ratings) == 0


def test_ratings_are_deterministic_by_seed():
    first = _concat(synthetic_ratings.load_data(**SMALL, seed=7))
    again = _concat(synthetic_ratings.load_data(**SMALL, seed=7))
    other = _concat(synthetic_ratings.load_data(**SMALL, seed=8))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[2], other[2])


def test_popularity_is_skewed():
    users, items, _ = _concat(synthetic_ratings.load_data(num_users=10_000, num_items=5_000,
                                                          num_ratings=200_000))
    item_counts = np.sort(np.bincount(items, minlength=5_000))[::-1]
    user_counts = np.sort(np.bincount(users, minlength=10_000))[::-1]
    # The top 1% of items take far more than 1% of the ratings, users less so.
    assert item_counts[:50].sum() > 0.15 * len(items)
    assert 0.03 * len(users) < user_counts[:100].sum() < item_counts[:50].sum()
    # The popular ids are scattered over the id range, not the lowest ids.
    assert np.argmax(np.bincount(items)) != 0
    assert np.corrcoef(np.arange(5_000), np.bincount(items, minlength=5_000))[0, 1] ** 2 < 0.01


def test_hidden_structure_explains_the_ratings():
    seed = 3
    users, items, ratings = _concat(synthetic_ratings.load_data(**SMALL, seed=seed))
    hidden = synthetic_ratings._hidden(SMALL["num_users"], SMALL["num_items"], SMALL["dim"],
                                       np.random.default_rng(seed))
    expected = np.clip(synthetic_ratings.expected_ratings(hidden, users, items), 1, 5)
    residual = ratings - expected
    assert abs(residual.mean()) < 0.02
    assert residual.std() < 1.05 * synthetic_ratings.NOISE_STD  # only the noise is left
    assert 1 - residual.var() / ratings.var() > 0.75  # R^2
    # The factors matter, not only the biases.
    biases_only = np.clip(synthetic_ratings.MEAN + hidden.user_bias[users] + hidden.item_bias[items], 1, 5)
    assert (ratings - biases_only).std() > 1.4 * residual.std()


def _solve(rows, count, features, target, l2):
    """Per-row ridge regressions, batched: row r's weights fit target on features."""
    k = features.shape[1]
    gram, rhs = np.empty((count, k, k)), np.empty((count, k))
    for a in range(k):
        rhs[:, a] = np.bincount(rows, features[:, a] * target, count)
        for b in range(a, k):
            gram[:, a, b] = gram[:, b, a] = np.bincount(rows, features[:, a] * features[:, b], count)
    return np.linalg.solve(gram + l2 * np.eye(k), rhs[..., None])[..., 0]


def _als(users, items, ratings, num_users, num_items, rank, l2=1.0, iterations=8):
    """Alternating least squares for mean + user bias + item bias + factor dot product."""
    rng = np.random.default_rng(0)
    mean = ratings.mean()
    p = np.c_[0.1 * rng.standard_normal((num_users, rank)), np.zeros(num_users)]  # [factors, bias]
    q = np.c_[0.1 * rng.standard_normal((num_items, rank)), np.zeros(num_items)]
    centred = ratings - mean
    for _ in range(iterations):
        p = _solve(users, num_users, np.c_[q[items, :rank], np.ones(len(items))], centred - q[items, rank], l2)
        q = _solve(items, num_items, np.c_[p[users, :rank], np.ones(len(users))], centred - p[users, rank], l2)
    return lambda u, i: mean + p[u, rank] + q[i, rank] + np.einsum("ij,ij->i", p[u, :rank], q[i, :rank])


def test_matrix_factorisation_learns_the_ratings():
    (users, items, ratings), (users_test, items_test, ratings_test) = synthetic_ratings.load_data(**SMALL)
    std = ratings_test.std()  # the RMSE of predicting the mean
    rmse = {}
    for rank in (0, SMALL["dim"]):
        predict = _als(users, items, ratings, SMALL["num_users"], SMALL["num_items"], rank)
        rmse[rank] = np.sqrt(np.mean((predict(users_test, items_test) - ratings_test) ** 2))
    assert rmse[0] < 0.85 * std  # the biases alone help
    assert rmse[SMALL["dim"]] < 0.5 * std  # the factors help much more
    assert rmse[SMALL["dim"]] < 1.15 * synthetic_ratings.NOISE_STD  # close to the noise floor


def test_a_million_ratings_generate_fast():
    start = time.perf_counter()
    (users, _, _), _ = synthetic_ratings.load_data(num_users=100_000, num_items=50_000,
                                                   num_ratings=1_000_000, dim=32)
    assert len(users) == 800_000
    assert time.perf_counter() - start < 5  # ~0.5 s vectorised; a Python loop takes far longer


@pytest.mark.parametrize("argument, value", [
    ("num_users", 0), ("num_users", -3), ("num_users", 2.5), ("num_users", "10"), ("num_users", True),
    ("num_items", 0), ("num_items", None), ("num_ratings", 0), ("num_ratings", 1e6),
    ("dim", 0), ("dim", 1.0),
    ("test_split", 1), ("test_split", -0.1), ("test_split", 1.5), ("test_split", "0.2"),
])
def test_ratings_argument_errors(argument, value):
    with pytest.raises(ValueError, match=f"^{argument} .*got {re.escape(repr(value))}$"):
        synthetic_ratings.load_data(**{argument: value})


def test_ratings_accept_numpy_integers():
    train, _ = synthetic_ratings.load_data(num_users=np.int64(20), num_items=np.int32(10),
                                           num_ratings=np.int64(200), dim=np.int16(2), test_split=np.float32(0.5))
    assert len(train[0]) == 100 and train[0].max() < 20 and train[1].max() < 10
