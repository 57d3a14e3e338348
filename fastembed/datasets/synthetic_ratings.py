"""A learnable synthetic ratings dataset for recommenders (generated, no download).

Every user and every item has a hidden bias and a hidden vector of `dim`
factors. A rating is the global mean, plus the user's and the item's biases,
plus the dot product of their vectors, plus Gaussian noise, clipped to [1, 5]
(MovieLens's range, kept as floats). Who rates what is skewed the way real
ratings are: user activity and item popularity follow Zipf-like laws, with the
popular ids scattered over the id range. Pairs are drawn independently, so a
(user, item) pair can occur more than once (a re-rating, with fresh noise).

A matrix-factorisation model (user and item Embeddings, their Dot, plus bias
Embeddings) can learn this structure: its test RMSE falls well below the
ratings' standard deviation (the RMSE of predicting the mean), towards the
noise level as the ratings per user and item grow.
"""
import numbers
from collections import namedtuple

import numpy as np

MEAN = 3.5  # the global mean, before clipping
USER_BIAS_STD = 0.4
ITEM_BIAS_STD = 0.5
INTERACTION_STD = 0.7  # std of the dot product of a user's and an item's factors
NOISE_STD = 0.4
USER_SKEW = 0.5  # Zipf exponents: user activity and item popularity
ITEM_SKEW = 0.8
_CHUNK = 1 << 16  # ratings per step of the dot products (bounds the temporaries)

Hidden = namedtuple("Hidden", "user_bias item_bias user_factors item_factors")


def _hidden(num_users, num_items, dim, rng):
    """The hidden biases and factors (float32); the factors' scale makes the
    dot product's std INTERACTION_STD whatever `dim` is."""
    scale = np.float32((INTERACTION_STD ** 2 / dim) ** 0.25)
    user_bias = USER_BIAS_STD * rng.standard_normal(num_users, np.float32)
    item_bias = ITEM_BIAS_STD * rng.standard_normal(num_items, np.float32)
    user_factors = scale * rng.standard_normal((num_users, dim), np.float32)
    item_factors = scale * rng.standard_normal((num_items, dim), np.float32)
    return Hidden(user_bias, item_bias, user_factors, item_factors)


def _popularity(count, skew, rng):
    """Zipf-like probabilities of `count` ids, the ranks shuffled over the ids."""
    weights = np.arange(1, count + 1, dtype=np.float64) ** -skew
    return (weights / weights.sum())[rng.permutation(count)]


def expected_ratings(hidden, users, items):
    """The noiseless, unclipped ratings: mean + biases + factor dot products (float32)."""
    scores = np.empty(len(users), np.float32)
    for start in range(0, len(users), _CHUNK):
        u, i = users[start:start + _CHUNK], items[start:start + _CHUNK]
        np.einsum("ij,ij->i", hidden.user_factors[u], hidden.item_factors[i],
                  out=scores[start:start + _CHUNK])
    scores += hidden.user_bias[users]
    scores += hidden.item_bias[items]
    scores += np.float32(MEAN)
    return scores


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def load_data(num_users=1_000, num_items=2_000, num_ratings=100_000, dim=8, test_split=0.2, seed=113):
    """((users_train, items_train, ratings_train), (users_test, items_test, ratings_test)).

    users are int64 ids in [0, num_users), items int64 ids in [0, num_items),
    ratings float32 in [1, 5]; `dim` is the rank of the hidden factors. The
    last `test_split` of the (independently drawn) ratings is the test set.
    The same arguments give the same arrays.
    """
    num_users = _check_positive_int("num_users", num_users)
    num_items = _check_positive_int("num_items", num_items)
    num_ratings = _check_positive_int("num_ratings", num_ratings)
    dim = _check_positive_int("dim", dim)
    if (isinstance(test_split, bool) or not isinstance(test_split, numbers.Real)
            or not 0 <= test_split < 1):
        raise ValueError(f"test_split must be a number in [0, 1), got {test_split!r}")
    rng = np.random.default_rng(seed)
    hidden = _hidden(num_users, num_items, dim, rng)
    users = rng.choice(num_users, num_ratings, p=_popularity(num_users, USER_SKEW, rng)).astype(np.int64)
    items = rng.choice(num_items, num_ratings, p=_popularity(num_items, ITEM_SKEW, rng)).astype(np.int64)
    ratings = expected_ratings(hidden, users, items)
    ratings += NOISE_STD * rng.standard_normal(num_ratings, np.float32)
    np.clip(ratings, 1, 5, out=ratings)
    split = int(num_ratings * (1 - test_split))
    return ((users[:split], items[:split], ratings[:split]),
            (users[split:], items[split:], ratings[split:]))
