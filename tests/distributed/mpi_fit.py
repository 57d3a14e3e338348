"""One process of a DataParallel (or, with --shard, ModelParallel) fit,
started alone or under `mpiexec -n N` by tests/test_distribution.py.
Writes <out>/<rank>.json: the loss history and a checksum of every weight
but the row-sharded tables; process 0 also writes the weights (collected)
to <out>/weights.npz. See --help for the options."""
import argparse
import hashlib
import json
import os
import signal
import time

import numpy as np

import fastembed
from fastembed import distribution, layers
from fastembed.callbacks import LambdaCallback
from fastembed.distribution.sharding import ShardedTable
from fastembed.utils import set_random_seed

VOCAB, USERS, ITEMS, LENGTH = 50, 40, 30, 6


def seed_model():
    """Embedding -> Flatten -> Dense, the seed's text classifier."""
    model = fastembed.Sequential([fastembed.Input((LENGTH,), dtype="int32"),
                                  layers.Embedding(VOCAB, 8), layers.Flatten(),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def cnn_model():
    model = fastembed.Sequential([fastembed.Input((LENGTH,), dtype="int32"),
                                  layers.Embedding(VOCAB, 8), layers.Conv1D(5, 3, activation="relu"),
                                  layers.GlobalMaxPooling1D(),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def lstm_model():
    model = fastembed.Sequential([fastembed.Input((LENGTH,), dtype="int32"),
                                  layers.Embedding(VOCAB, 8, mask_zero=True), layers.LSTM(6),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy", metrics=["accuracy"])
    return model


def recommender(sparse=False):
    """Functional: user and item vectors, their dot product and a bias."""
    user, item = fastembed.Input((1,), name="user"), fastembed.Input((1,), name="item")
    user_vec = layers.Flatten()(layers.Embedding(USERS, 4, name="user_vec", sparse=sparse)(user))
    item_vec = layers.Flatten()(layers.Embedding(ITEMS, 4, name="item_vec", sparse=sparse)(item))
    score = layers.Dense(1)(layers.Concatenate()([layers.Dot(axes=1)([user_vec, item_vec]),
                                                  user_vec]))
    model = fastembed.Model([user, item], score)
    model.compile("adam", "mse", metrics=["mae"])
    return model


def data(model_name, samples):
    rng = np.random.default_rng(7)
    if model_name in ("seed", "cnn", "lstm"):
        x = rng.integers(0, VOCAB, (samples, LENGTH))
        return x, (x[:, 0] % 2 == 0).astype(np.float32)
    users, items = rng.integers(0, USERS, samples), rng.integers(0, ITEMS, samples)
    return [users, items], ((users * items) % 5).astype(np.float32) / 5


MODELS = {"seed": seed_model, "cnn": cnn_model, "lstm": lstm_model, "recommender": recommender,
          "sparse": lambda: recommender(sparse=True)}


def predict_loaded(args):
    """Each process holds only its block of a split table after loading."""
    model = fastembed.models.load_model(args.load_model)
    blocks = {w.name: w.value.shape[0] for w in model.weights if isinstance(w, ShardedTable)}
    x, _ = data(args.model, args.samples)
    predictions = model.predict(x, batch_size=args.batch_size, verbose=0)
    rank = distribution.distribution().process_id
    if rank == 0:
        np.save(os.path.join(args.out, "predictions.npy"), predictions)
    with open(os.path.join(args.out, f"{rank}.json"), "w") as file:
        json.dump({"blocks": blocks}, file)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("out")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rank-samples", default=None)
    parser.add_argument("--kill", default=None, help="RANK:STEP: SIGKILL there")
    parser.add_argument("--stall", default=None, help="RANK:STEP: sleep 120 s there")
    parser.add_argument("--evaluate", action="store_true")
    parser.add_argument("--shard", metavar="LAYOUT_KEY", default=None,
                        help="ModelParallel: split the rows of the weights matching the key")
    parser.add_argument("--save-initial", metavar="FILE", help="save the weights before fit")
    parser.add_argument("--initial", metavar="FILE", help="load the weights before fit")
    parser.add_argument("--save-model", action="store_true",
                        help="save <out>/model.keras and <out>/predictions.npy after fit")
    parser.add_argument("--load-model", metavar="FILE",
                        help="instead of fitting, load FILE and write <out>/predictions.npy")
    parser.add_argument("--users", type=int, default=USERS, help="the recommender's users")
    args = parser.parse_args()
    globals()["USERS"] = args.users

    distribution.initialize()
    if args.shard:
        layout_map = distribution.LayoutMap()
        layout_map[args.shard] = ("model", None)
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
    else:
        distribution.set_distribution(distribution.DataParallel())
    rank = distribution.distribution().process_id
    if args.load_model:
        predict_loaded(args)
        return
    set_random_seed(1234 + rank)  # process 0's weights and shuffling must win
    model = MODELS[args.model]()
    samples = args.samples
    if args.rank_samples:
        which, count = map(int, args.rank_samples.split(":"))
        samples = count if rank == which else samples
    x, y = data(args.model, samples)
    if args.save_initial:
        model.save_weights(args.save_initial)
    if args.initial:
        model.load_weights(args.initial)
    set_random_seed(99)  # shuffling alike however much building drew (a shard draws less)
    callbacks = []
    for where, act in ((args.kill, lambda: os.kill(os.getpid(), signal.SIGKILL)),
                       (args.stall, lambda: time.sleep(120))):
        if where:
            which, step = map(int, where.split(":"))
            if rank == which:
                callbacks.append(LambdaCallback(on_train_batch_begin=lambda batch, logs, act=act,
                                                step=step: act() if batch == step else None))
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                        verbose=0, callbacks=callbacks)
    result = {"history": history.history,
              "checksums": [hashlib.sha256(w.value.tobytes()).hexdigest()
                            for w in model.weights if not isinstance(w, ShardedTable)]}
    if args.evaluate:
        result["evaluate"] = model.evaluate(x, y, batch_size=args.batch_size, verbose=0,
                                            return_dict=True)
    collected = model.get_weights()  # every process takes part in collecting the tables
    if args.save_model:
        model.save(os.path.join(args.out, "model.keras"))
        predictions = model.predict(x, batch_size=args.batch_size, verbose=0)
    if rank == 0:
        np.savez(os.path.join(args.out, "weights.npz"), *collected)
        if args.save_model:
            np.save(os.path.join(args.out, "predictions.npy"), predictions)
    with open(os.path.join(args.out, f"{rank}.json"), "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main()
