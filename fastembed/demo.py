"""python -m fastembed.demo: the seed tutorial's three models, trained on the
built-in synthetic sentiment dataset, with accuracy and training speed.

The model code is the Keras tutorial's, with `keras` replaced by `fastembed`.
"""
import argparse
import time

from fastembed import get_num_threads
from fastembed.datasets import synthetic_sentiment
from fastembed.layers import LSTM, Conv1D, Dense, Embedding, Flatten, GlobalMaxPooling1D
from fastembed.models import Sequential


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
        results.append((title, accuracy, speed))
    width = max(len(title) for title, _, _ in results)
    print(f"{'model':<{width}}  test accuracy  training samples/s")
    for title, accuracy, speed in results:
        print(f"{title:<{width}}  {accuracy:>13.4f}  {speed:>18,.0f}")
    return results


if __name__ == "__main__":
    main()
