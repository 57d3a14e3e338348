"""python -m fastembed.demo: the seed tutorial's three models, trained on the
built-in synthetic sentiment dataset, and a matrix-factorisation recommender,
trained on the built-in synthetic ratings, with their test accuracy (RMSE for
the recommender) and training speed.

The model code is Keras's, with `keras` replaced by `fastembed`.
"""
import argparse
import time

import numpy as np

from fastembed import Input, Model, get_num_threads
from fastembed.datasets import synthetic_ratings, synthetic_sentiment
from fastembed.layers import LSTM, Add, Conv1D, Dense, Dot, Embedding, Flatten, GlobalMaxPooling1D
from fastembed.models import Sequential
from fastembed.optimizers import Adam


def flatten_model():
    model = Sequential()
    model.add(Embedding(input_dim=1000, output_dim=64, input_length=10))
    model.add(Flatten())
    model.add(Dense(units=1, activation='sigmoid'))
    return model


def lstm_model():
    model = Sequential()
    model.add(Embedding(input_dim=1000, output_dim=64, input_length=10))
    model.add(LSTM(units=32))
    model.add(Dense(units=1, activation='sigmoid'))
    return model


def cnn_model():
    model = Sequential()
    model.add(Embedding(input_dim=1000, output_dim=64, input_length=10))
    model.add(Conv1D(filters=128, kernel_size=5, activation='relu'))
    model.add(GlobalMaxPooling1D())
    model.add(Dense(units=1, activation='sigmoid'))
    return model


MODELS = {"Embedding -> Flatten -> Dense": flatten_model,
          "Embedding -> LSTM -> Dense": lstm_model,
          "Embedding -> Conv1D -> GlobalMaxPooling1D -> Dense": cnn_model}

# The recommender's data (hidden factors of rank 4) and training: about half
# a second an epoch on 2 cores, to a test RMSE well below that of predicting
# the mean (~0.70 after 2 epochs, ~0.59 after 5, against ~0.92).
RATINGS = dict(num_users=5_000, num_items=2_000, num_ratings=200_000, dim=4)
RECOMMENDER_BATCH_SIZE = 256
RECOMMENDER_LEARNING_RATE = 0.01
RECOMMENDER = "Recommender: Embeddings -> Dot + biases"


def recommender_model(num_users, num_items, dim=16):
    """Matrix factorisation: a rating is the dot product of a user's and an
    item's vectors plus the user's and the item's biases."""
    user = Input(shape=(1,), name='user')
    item = Input(shape=(1,), name='item')
    user_vec = Flatten()(Embedding(num_users, dim, name='user_vec')(user))
    item_vec = Flatten()(Embedding(num_items, dim, name='item_vec')(item))
    user_bias = Flatten()(Embedding(num_users, 1, name='user_bias')(user))
    item_bias = Flatten()(Embedding(num_items, 1, name='item_bias')(item))
    rating = Add()([Dot(axes=1)([user_vec, item_vec]), user_bias, item_bias])
    return Model(inputs=[user, item], outputs=rating)


def train_recommender(epochs, verbose):
    (users, items, ratings), (users_test, items_test, ratings_test) = synthetic_ratings.load_data(**RATINGS)
    print(f"== {RECOMMENDER}")
    print(f"synthetic ratings: {RATINGS['num_users']:,} users, {RATINGS['num_items']:,} items, "
          f"{len(ratings):,} training and {len(ratings_test):,} test ratings")
    model = recommender_model(RATINGS['num_users'], RATINGS['num_items'])
    model.compile(optimizer=Adam(learning_rate=RECOMMENDER_LEARNING_RATE), loss='mse')
    model.summary()
    start = time.perf_counter()
    model.fit([users[:, None], items[:, None]], ratings[:, None], epochs=epochs,
              batch_size=RECOMMENDER_BATCH_SIZE, verbose=verbose)
    seconds = time.perf_counter() - start
    mse = model.evaluate([users_test[:, None], items_test[:, None]], ratings_test[:, None], verbose=0)
    rmse = float(np.sqrt(mse))
    mean_rmse = float(np.sqrt(np.mean((ratings_test - ratings.mean()) ** 2)))
    speed = epochs * len(ratings) / seconds
    print(f"test RMSE {rmse:.4f} (predicting the mean rating: {mean_rmse:.4f}), "
          f"training {speed:,.0f} samples/s\n")
    return rmse, mean_rmse, speed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    args = parser.parse_args(argv)

    (X_train, y_train), (X_test, y_test) = synthetic_sentiment.load_data(num_words=1000, maxlen=10)
    print(f"synthetic sentiment: {len(X_train)} training and {len(X_test)} test sentences, "
          f"{get_num_threads()} threads\n")
    results = []
    for title, build in MODELS.items():
        print(f"== {title}")
        model = build()
        model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
        model.summary()
        start = time.perf_counter()
        model.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=args.verbose)
        seconds = time.perf_counter() - start
        loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
        speed = args.epochs * len(X_train) / seconds
        print(f"test accuracy {accuracy:.4f}, test loss {loss:.4f}, "
              f"training {speed:,.0f} samples/s\n")
        results.append((title, "accuracy", accuracy, speed, f"accuracy {accuracy:.4f}"))
    rmse, mean_rmse, speed = train_recommender(args.epochs, args.verbose)
    results.append((RECOMMENDER, "rmse", rmse, speed, f"RMSE {rmse:.4f} (mean {mean_rmse:.4f})"))
    width = max(len(row[0]) for row in results)
    metric_width = max(len("test metric"), max(len(row[4]) for row in results))
    print(f"{'model':<{width}}  {'test metric':<{metric_width}}  training samples/s")
    for title, _, _, speed, shown in results:
        print(f"{title:<{width}}  {shown:<{metric_width}}  {speed:>18,.0f}")
    return [row[:4] for row in results]


if __name__ == "__main__":
    main()
