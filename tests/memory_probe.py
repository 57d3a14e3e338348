"""Resident memory of fastembed in a fresh process (so the figures are this
run's alone). Prints one JSON line.

    python tests/memory_probe.py table ROWS DIM OPTIMIZER
        peak RSS of training a sparse=True Embedding(ROWS, DIM) table
    python tests/memory_probe.py cycles N DIRECTORY
        RSS after each of N fit/predict/save/load_model cycles
"""
import gc
import json
import os
import resource
import sys

import numpy as np

import fastembed
from fastembed import layers


def _rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes():
    """This process image's peak RSS (VmHWM). Not ru_maxrss: Linux carries
    that over exec from the forked parent (a big pytest process)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def table(rows, dim, optimizer):
    x = np.random.default_rng(0).integers(0, rows, (256, 8))
    y = np.zeros((256, 1), np.float32)
    baseline = _rss_bytes()
    model = fastembed.Sequential([layers.Input((8,), dtype="int64"),
                                  layers.Embedding(rows, dim, sparse=True),
                                  layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    table_bytes = rows * dim * 4
    state = sum(s.nbytes for s in model.optimizer.variables_state(model.trainable_weights))
    peak = _peak_rss_bytes()
    return {"rows": rows, "dim": dim, "optimizer": optimizer, "baseline": baseline,
            "peak": peak, "table": table_bytes, "state": state,
            "ratio": (peak - baseline) / (table_bytes + state)}


def cycles(count, directory):
    from fastembed.models import load_model
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 1000, (64, 10)), rng.integers(0, 2, (64, 1)).astype(np.float32)
    model = fastembed.Sequential([layers.Input((10,), dtype="int64"), layers.Embedding(1000, 16),
                                  layers.Conv1D(8, 3, activation="relu"), layers.LSTM(8),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    path = os.path.join(directory, "model.keras")
    rss = []
    for _ in range(count):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        model.predict(x, verbose=0)
        model.save(path)
        model = load_model(path)
        gc.collect()  # the RSS of what is live, not of cycles the collector has yet to visit
        rss.append(_rss_bytes())
    return {"cycles": count, "rss": rss}


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    result = table(int(args[0]), int(args[1]), args[2]) if mode == "table" \
        else cycles(int(args[0]), args[1])
    print(json.dumps(result))
