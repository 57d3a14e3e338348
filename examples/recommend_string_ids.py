"""A recommender on raw string ids: StringLookup -> Embedding for users and
items, their Dot plus bias Embeddings, trained on ratings whose ids are
strings as real data has them ("u_83121", SKU "sku-9042231").

The ratings come from fastembed.datasets.synthetic_ratings with their
integer ids written as scattered string ids; StringLookup learns each
vocabulary with adapt(), and unseen ids at test time go to the OOV index.

    python examples/recommend_string_ids.py
"""
import numpy as np

import fastembed
from fastembed.datasets import synthetic_ratings
from fastembed.layers import Add, Dot, Embedding, Flatten, StringLookup
from fastembed.utils import set_random_seed


def string_ids(prefix, ids, seed):
    """Integer ids as sparse-looking string ids: prefix + a scrambled number."""
    scrambled = (np.asarray(ids, np.int64) * 7919 + seed) % 1_000_003
    return np.char.add(prefix, scrambled.astype(str))


def tower(name, ids, dim):
    """(factors, bias) of string ids: StringLookup adapted on ids, then Embeddings."""
    lookup = StringLookup(name=f"{name}_lookup")
    lookup.adapt(ids)
    inputs = fastembed.Input((1,), dtype="string", name=name)
    index = lookup(inputs)
    size = lookup.vocabulary_size()
    factors = Flatten()(Embedding(size, dim, name=f"{name}_factors")(index))
    bias = Flatten()(Embedding(size, 1, embeddings_initializer="zeros",
                               name=f"{name}_bias")(index))
    return inputs, factors, bias


def main(num_users=1_000, num_items=2_000, num_ratings=100_000, epochs=5, dim=16):
    set_random_seed(0)
    (users, items, ratings), (users_test, items_test, ratings_test) = synthetic_ratings.load_data(
        num_users, num_items, num_ratings)
    user_ids, item_ids = string_ids("u_", users, 1), string_ids("sku-", items, 2)
    user_test, item_test = string_ids("u_", users_test, 1), string_ids("sku-", items_test, 2)
    user_in, user_factors, user_bias = tower("user", user_ids, dim)
    item_in, item_factors, item_bias = tower("item", item_ids, dim)
    score = Add()([Dot(axes=1)([user_factors, item_factors]), user_bias, item_bias])
    model = fastembed.Model([user_in, item_in], score)
    model.compile(optimizer=fastembed.optimizers.Adam(0.01), loss="mse")
    offset = float(ratings.mean())  # predict the residual around the mean rating
    model.fit([user_ids, item_ids], ratings - offset, epochs=epochs, batch_size=256, verbose=0)
    predicted = model.predict([user_test, item_test], batch_size=4096, verbose=0)[:, 0] + offset
    rmse = float(np.sqrt(np.mean((predicted - ratings_test) ** 2)))
    baseline = float(np.sqrt(np.mean((offset - ratings_test) ** 2)))
    print(f"test RMSE {rmse:.3f} (predicting the mean: {baseline:.3f}) on {len(ratings_test)} "
          f"ratings of string ids such as {str(user_test[0])!r} x {str(item_test[0])!r}")
    return rmse, baseline


if __name__ == "__main__":
    main()
