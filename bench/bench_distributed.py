"""fit over MPI processes on this machine: samples/s, each step's compute
and communication, and memory per process, at 1, 2 and 4 processes
(`mpiexec -n N`, bench/distributed_worker.py), in the same run; with the
scaling model on paper (bytes per step per process) checked against the
bytes the steps hand to MPI, and evaluated for 16 machines.

  imdb-lstm        DataParallel: Embedding(20,000, 128) -> LSTM(64) -> Dense,
                   200 steps, global batch 64 (bench/peers.py's spec);
  recommender-10m  ModelParallel: user_vec 10,000,000 x 32 and user_bias split
                   by rows, item tables (50,000) replicated, sparse=True,
                   global batch 1,024.

communication_ms is the time inside MPI calls, waiting for the slowest
process included. With 2 cores, 4 processes are oversubscribed (2 per
core), and any other load on the machine delays every collective (each
needs every process scheduled): read the 2- and 4-process figures as an
upper bound on what communication costs. Run:

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE pytest bench/bench_distributed.py -s
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "distributed_worker.py")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
PROCESSES = [1, 2, 4]

# What the paper model needs of each model: dense parameters, and per table
# (dim, whether split by rows) with the ids one sample looks up in it.
MODELS = {
    "imdb-lstm": dict(batch=64, dense=4 * 64 * (128 + 64 + 1) + 64 + 1,
                      tables=[dict(rows=20_000, dim=128, ids=200, sharded=False)]),
    "recommender-10m": dict(batch=1_024, dense=0, tables=[
        dict(rows=10_000_000, dim=32, ids=1, sharded=True),
        dict(rows=10_000_000, dim=1, ids=1, sharded=True),
        dict(rows=50_000, dim=32, ids=1, sharded=False),
        dict(rows=50_000, dim=1, ids=1, sharded=False)]),
}

measured = {}


def unique_ids(table, samples):
    """Expected distinct ids among samples * ids uniform draws from rows."""
    draws = samples * table["ids"]
    return table["rows"] * (1 - (1 - 1 / table["rows"]) ** draws)


def paper_model(model, processes):
    """Bytes per step per process: (handed to MPI, on the wire) for the
    dense all-reduce, the gathers of replicated tables' rows and the
    all-to-alls of row-split tables, each as fastembed chooses them."""
    spec = MODELS[model]
    share = spec["batch"] / processes
    away = (processes - 1) / processes
    handed = {"all-reduce": 4.0 * spec["dense"], "gather": 0.0, "all-to-all": 0.0}
    wire = {"all-reduce": 2 * away * 4.0 * spec["dense"], "gather": 0.0, "all-to-all": 0.0}
    for table in spec["tables"]:
        k = unique_ids(table, share)
        if table["sharded"]:  # ids out and rows back, then ids and gradients out
            handed["all-to-all"] += k * (16 + 8 * table["dim"])
            wire["all-to-all"] += away * k * (16 + 8 * table["dim"])
        else:  # gathered rows + row ids from every other process, or a dense all-reduce
            gather = (processes - 1) * k * (8 + 4 * table["dim"])
            dense = 2 * away * 4 * table["rows"] * table["dim"]
            if processes > 1 and dense < gather:
                handed["all-reduce"] += 4 * table["rows"] * table["dim"]
                wire["all-reduce"] += dense
            else:
                handed["gather"] += k * (8 + 4 * table["dim"])
                wire["gather"] += gather
    return handed, wire


def launch(model, processes):
    run = subprocess.run([MPIEXEC, "-n", str(processes), sys.executable, WORKER, model],
                         capture_output=True, text=True, timeout=1800, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                             [os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")])))
    return json.loads([line for line in run.stdout.splitlines() if line.startswith("[")][-1])


@pytest.mark.parametrize("processes", PROCESSES)
@pytest.mark.parametrize("model", list(MODELS))
def test_distributed_fit(benchmark, model, processes):
    benchmark.group = f"distributed-{model}"
    ranks = benchmark.pedantic(launch, args=(model, processes), rounds=1, iterations=1)
    assert len(ranks) == processes
    measured[model, processes] = ranks
    first = ranks[0]
    handed, _ = paper_model(model, processes)
    info = {
        "samples_per_s": first["samples_per_s"],
        "step_ms": first["step_ms"],
        "communication_ms": max(r["communication_ms"] for r in ranks),
        "compute_ms": first["step_ms"] - max(r["communication_ms"] for r in ranks),
        "payload_bytes_per_step": first["payload_bytes_per_step"],
        "paper_payload_bytes_per_step": sum(handed.values()) if processes > 1 else 0.0,
        "table_bytes_per_process": first["table_bytes_held"],
        "max_rss_bytes": max(r["max_rss_bytes"] for r in ranks),
    }
    # The paper model's bytes against what the steps handed to MPI (ids
    # drawn at random: the expected count of distinct ones).
    assert info["payload_bytes_per_step"] == pytest.approx(
        info["paper_payload_bytes_per_step"], rel=0.02)
    if (model, 1) in measured:
        info["samples_per_s_vs_1_process"] = \
            first["samples_per_s"] / measured[model, 1][0]["samples_per_s"]
    benchmark.extra_info.update(info)
    print(f"\n{model} x{processes}: " + ", ".join(f"{k}={v:,.3f}" if isinstance(v, float)
                                                 else f"{k}={v:,}" for k, v in info.items()))


def test_paper_model_at_16_machines():
    """The model's bytes per step per process, and their time at 10 and 100 Gb/s."""
    for model in MODELS:
        handed, wire = paper_model(model, 16)
        total = sum(wire.values())
        print(f"\n{model} x16: " + ", ".join(f"{k} {v / 1e3:,.1f} kB" for k, v in wire.items())
              + f"; {total / 1.25e9 * 1e3:.2f} ms at 10 Gb/s, {total / 12.5e9 * 1e3:.3f} ms at "
              f"100 Gb/s")
        assert total > 0
