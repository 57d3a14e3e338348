"""One process of bench_distributed.py, under `mpiexec -n N`: a timed
fit of the IMDB-sized LSTM (DataParallel) or of the recommender with a
10,000,000 x 32 user table split by rows (ModelParallel), with every MPI
call timed and its payload counted. Process 0 prints a JSON list, one
entry per process.

usage: mpiexec -n N python bench/distributed_worker.py {imdb-lstm,recommender-10m}"""
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fastembed import distribution  # noqa: E402
from fastembed.distribution import distribution_lib  # noqa: E402
from fastembed.utils import set_random_seed  # noqa: E402

MPI_IN_PLACE = None  # set once mpi4py is imported
RECOMMENDER = dict(users=10_000_000, items=50_000, dim=32, batch=1_024, lr=1e-3, epsilon=1e-7)
WARMUP_STEPS, TIMED_STEPS = {"imdb-lstm": (2, 12), "recommender-10m": (4, 60)}[sys.argv[1]], None


class TimedComm:
    """COMM_WORLD with the time spent in, and the bytes handed to, the
    collectives of the steps, and apart those of fit's start (the weights'
    broadcast and the checks: FIT_START)."""

    COLLECTIVES = ("Allreduce", "Allgather", "Allgatherv", "Alltoall", "Alltoallv", "Bcast",
                   "Gatherv", "allgather", "bcast")
    FIT_START = ("Bcast", "bcast", "allgather")

    def __init__(self, comm):
        self.comm = comm
        self.reset()

    def reset(self):
        self.seconds, self.payload, self.fit_start_payload = 0.0, 0, 0

    def __getattr__(self, name):
        method = getattr(self.comm, name)
        if name not in self.COLLECTIVES:
            return method

        def timed(*args, **kwargs):
            if name in self.FIT_START:
                self.fit_start_payload += _payload(args)
                return method(*args, **kwargs)
            self.payload += _payload(args)
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def _payload(args):
    """Bytes this process hands to a collective: its send buffer (the
    receive buffer for an in-place all-reduce), 0 for Python objects."""
    buffers = [arg[0] if isinstance(arg, tuple) else arg for arg in args[:2]]
    sizes = [getattr(b, "nbytes", 0) for b in buffers]
    return sizes[0] or (sizes[1] if len(sizes) > 1 and args[0] is MPI_IN_PLACE else 0)


def imdb_lstm():
    from peers import SPECS, build_fastembed, make_data
    spec = dict(SPECS["imdb-lstm"], samples=64 * (WARMUP_STEPS[0] + WARMUP_STEPS[1]))
    distribution.set_distribution(distribution.DataParallel())
    model = build_fastembed(spec).model
    x, y = make_data(spec)
    return model, x, y, spec["batch"], ()


def recommender_10m():
    from recommender_peers import _functional_model
    import fastembed
    layout_map = distribution.LayoutMap()
    layout_map["user_.*"] = ("model", None)  # user_vec and user_bias, split by rows
    distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map))
    model = _functional_model(fastembed, RECOMMENDER, sparse=True)
    rng = np.random.default_rng(0)
    n = RECOMMENDER["batch"] * (WARMUP_STEPS[0] + WARMUP_STEPS[1])
    users = rng.integers(0, RECOMMENDER["users"], (n, 1))
    items = rng.integers(0, RECOMMENDER["items"], (n, 1))
    ratings = rng.normal(3.5, 1.0, (n, 1)).astype(np.float32)
    return model, [users, items], ratings, RECOMMENDER["batch"], ("user_vec/embeddings",
                                                                   "user_bias/embeddings")


def main():
    from mpi4py import MPI
    global MPI_IN_PLACE
    MPI_IN_PLACE = MPI.IN_PLACE
    timed = distribution_lib._world = TimedComm(MPI.COMM_WORLD)
    distribution.initialize()
    set_random_seed(0)
    model, x, y, batch, tables = {"imdb-lstm": imdb_lstm,
                                  "recommender-10m": recommender_10m}[sys.argv[1]]()
    warmup, steps = WARMUP_STEPS
    first = [a[:batch * warmup] for a in x] if isinstance(x, list) else x[:batch * warmup]
    model.fit(first, y[:batch * warmup], batch_size=batch, epochs=1, shuffle=False, verbose=0)
    rest = [a[batch * warmup:] for a in x] if isinstance(x, list) else x[batch * warmup:]
    timed.comm.Barrier()
    timed.reset()
    start = time.perf_counter()
    model.fit(rest, y[batch * warmup:], batch_size=batch, epochs=1, shuffle=False, verbose=0)
    elapsed = time.perf_counter() - start
    slots = getattr(model.optimizer, "_slots", {})
    held = sum(w.value.nbytes + sum(s.nbytes for s in slots.get(w, ()))
               for w in model.weights if w.name in tables)
    result = timed.comm.gather({
        "rank": timed.comm.Get_rank(), "processes": timed.comm.Get_size(),
        "samples_per_s": steps * batch / elapsed, "step_ms": 1e3 * elapsed / steps,
        "communication_ms": 1e3 * timed.seconds / steps,
        "payload_bytes_per_step": timed.payload / steps,
        "fit_start_payload_bytes": timed.fit_start_payload,
        "table_bytes_held": held, "max_rss_bytes": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss * 1024}, root=0)
    if result is not None:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
