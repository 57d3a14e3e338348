"""fastembed.distribution: the Keras API in one process, and DataParallel
fits launched with `mpiexec -n 2` and `-n 4` (tests/distributed/mpi_fit.py)
against the same fit in one process with the same global batch."""
import json
import os
import shutil
import subprocess
import sys
import time

import mpi4py  # noqa: F401  (the mpi extra: these tests run, never skip, where it is installed)
import numpy as np
import pytest

import fastembed
from fastembed import distribution
from fastembed.distribution import sharding

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "tests", "distributed", "mpi_fit.py")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
TIMEOUT = 120
sys.path.insert(0, os.path.dirname(TRAIN))
import mpi_fit  # noqa: E402  (the launched script's models and data)


def launch(out, processes, model, *options, **environment):
    """(return code, output) of mpi_fit.py in one process (processes=None,
    no launcher) or under mpiexec -n processes."""
    env = dict(os.environ, **environment)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    command = [sys.executable, TRAIN, model, str(out), *options]
    if processes is not None:
        command = [MPIEXEC, "-n", str(processes)] + command
    run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    return run.returncode, run.stdout + run.stderr


def results(out, processes):
    return [json.load(open(out / f"{rank}.json")) for rank in range(processes)]


def weights(out):
    with np.load(out / "weights.npz") as file:
        return [file[f"arr_{i}"] for i in range(len(file.files))]


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    """The one-process run of a model (each run once)."""
    runs = {}

    def run(model):
        if model not in runs:
            out = tmp_path_factory.mktemp(f"single-{model}")
            code, output = launch(out, None, model, "--evaluate")
            assert code == 0, output
            runs[model] = out
        return runs[model]
    return run


def assert_close_logs(logs, reference, what):
    assert logs.keys() == reference.keys(), what
    for name in reference:
        np.testing.assert_allclose(logs[name], reference[name], rtol=1e-6, atol=1e-7,
                                   err_msg=f"{what}: {name}")


# seed: Embedding -> Flatten -> Dense (the table is summed densely: it moves fewer bytes);
# cnn: Embedding -> Conv1D -> GlobalMaxPooling1D -> Dense; lstm: with mask_zero; recommender: Functional, two tables (rows gathered); sparse: the
# recommender with sparse=True tables (lazy updates, rows always gathered).
@pytest.mark.parametrize("processes", [2, 4])
@pytest.mark.parametrize("model", ["seed", "cnn", "lstm", "recommender", "sparse"])
def test_data_parallel_equals_one_process(tmp_path, single_process, model, processes):
    code, output = launch(tmp_path, processes, model, "--evaluate")
    assert code == 0, output
    reference = results(single_process(model), 1)[0]
    ranks = results(tmp_path, processes)
    for rank, result in enumerate(ranks):
        assert result["checksums"] == ranks[0]["checksums"], f"process {rank}'s weights differ"
        assert_close_logs(result["history"], reference["history"], f"process {rank} history")
        assert_close_logs(result["evaluate"], reference["evaluate"], f"process {rank} evaluate")
    for mine, theirs in zip(weights(tmp_path), weights(single_process(model))):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_data_lengths_differing_across_processes_fail_on_every_process(tmp_path):
    code, output = launch(tmp_path, 2, "seed", "--rank-samples", "1:90")
    assert code != 0
    message = ("DataParallel needs the same (batch_size, number of samples) on every "
               "process; the processes have [(16, 100), (16, 90)]")
    assert output.count(message) == 2, output


def test_global_batch_smaller_than_processes_fails_on_every_process(tmp_path):
    code, output = launch(tmp_path, 4, "seed", "--batch-size", "3")
    assert code != 0
    assert output.count("must be at least the number of processes (4); got batch_size=3") \
        == 4, output


def test_last_batch_smaller_than_processes_is_a_clear_error(tmp_path):
    code, output = launch(tmp_path, 4, "seed", "--samples", "98")  # batches of 16, then 2
    assert code != 0
    assert "batch 6 has 2" in output, output


def test_killed_process_ends_the_job_instead_of_hanging(tmp_path):
    start = time.monotonic()
    code, output = launch(tmp_path, 2, "seed", "--kill", "1:3")  # SIGKILL at step 3
    assert time.monotonic() - start < TIMEOUT
    assert code != 0
    assert "Killed (signal 9)" in output, output
    assert not (tmp_path / "0.json").exists()


@pytest.mark.parametrize("processes", [2, 4])
def test_row_sharded_tables_equal_one_process_sparse(tmp_path, processes):
    """ModelParallel with both tables split by rows (a regex layout key),
    from the weights one process saved (loading scatters them): the
    collected weights equal one process's sparse=True fit; the model the
    sharded run saved loads in one process and predicts the same."""
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    single.mkdir(), sharded.mkdir()
    initial = str(tmp_path / "initial.weights.h5")
    code, output = launch(single, None, "sparse", "--save-initial", initial, "--evaluate")
    assert code == 0, output
    code, output = launch(sharded, processes, "sparse", "--shard", ".*_vec/embeddings",
                          "--initial", initial, "--evaluate", "--save-model")
    assert code == 0, output
    reference = results(single, 1)[0]
    ranks = results(sharded, processes)
    for rank, result in enumerate(ranks):
        assert result["checksums"] == ranks[0]["checksums"], f"process {rank}'s weights differ"
        assert_close_logs(result["history"], reference["history"], f"process {rank} history")
        assert_close_logs(result["evaluate"], reference["evaluate"], f"process {rank} evaluate")
    for mine, theirs in zip(weights(sharded), weights(single), strict=True):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)

    model = fastembed.load_model(str(sharded / "model.keras"))
    for mine, theirs in zip(model.get_weights(), weights(sharded), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    x, _ = mpi_fit.data("sparse", 100)
    predictions = model.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(predictions, np.load(sharded / "predictions.npy"), rtol=1e-6,
                               atol=1e-7)

    # Loaded by a sharded run: each process reads and holds only its rows.
    loaded = tmp_path / "loaded"
    loaded.mkdir()
    code, output = launch(loaded, processes, "sparse", "--shard", ".*_vec/embeddings",
                          "--load-model", str(sharded / "model.keras"))
    assert code == 0, output
    for rank, result in enumerate(results(loaded, processes)):
        assert result["blocks"] == {
            name: int(np.diff(sharding.block_bounds(rows, processes, rank))[0])
            for name, rows in (("user_vec/embeddings", mpi_fit.USERS),
                               ("item_vec/embeddings", mpi_fit.ITEMS))}
    np.testing.assert_allclose(np.load(loaded / "predictions.npy"), predictions, rtol=1e-6,
                               atol=1e-7)


def test_layout_naming_no_weight_fails_on_every_process(tmp_path):
    code, output = launch(tmp_path, 2, "sparse", "--shard", "user_vector/embeddings")
    assert code != 0
    assert output.count("ModelParallel's layout_map key 'user_vector/embeddings' names no "
                        "weight of the model") == 2, output


def test_more_shards_than_rows_fails_on_every_process(tmp_path):
    code, output = launch(tmp_path, 4, "sparse", "--shard", "user_vec/embeddings",
                          "--users", "3")
    assert code != 0
    assert output.count("weight 'user_vec/embeddings' has 3 rows, fewer than the 4 shards") \
        == 4, output


def test_hanging_process_makes_the_others_abort_after_the_timeout(tmp_path):
    start = time.monotonic()
    code, output = launch(tmp_path, 2, "seed", "--stall", "1:3",
                          FASTEMBED_COLLECTIVE_TIMEOUT="3")  # process 1 sleeps 120 s at step 3
    assert time.monotonic() - start < 60
    assert code != 0
    assert "fastembed.distribution: process 0 waited more than 3 s in MPI" in output, output
    assert not (tmp_path / "0.json").exists()


@pytest.mark.parametrize("global_batch", [4, 5, 7, 16, 33])
@pytest.mark.parametrize("processes", [1, 2, 3, 4])
def test_shares_are_contiguous_and_cover_the_batch(global_batch, processes):
    expected = np.array_split(np.arange(global_batch), processes)
    for rank in range(processes):
        start, stop = sharding.block_bounds(global_batch, processes, rank)
        np.testing.assert_array_equal(np.arange(start, stop), expected[rank])


def test_single_process_needs_no_mpi():
    """initialize() and DataParallel outside mpiexec: one process, no mpi4py."""
    code = ("import sys; from fastembed import distribution as d; d.initialize(); "
            "d.set_distribution(d.DataParallel()); "
            "print(d.list_devices(), d.distribution().num_processes, 'mpi4py' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True)
    assert run.stdout.split("\n")[0] == "['cpu:0'] 1 False"


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_share_the_cores(processes):
    """cores // processes OpenMP threads each; passive waiting when the
    processes outnumber the cores."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    code = ("import os, fastembed; from fastembed import distribution as d; d.initialize(); "
            "from mpi4py import MPI; seen = MPI.COMM_WORLD.gather("
            "(fastembed.get_num_threads(), os.environ.get('OMP_WAIT_POLICY')), root=0); "
            "print(seen) if seen else None")
    run = subprocess.run([MPIEXEC, "-n", str(processes), sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=TIMEOUT, env=env, check=True)
    cores = len(os.sched_getaffinity(0))
    expected = (max(1, cores // processes), "passive" if processes > cores else None)
    assert run.stdout.strip() == repr([expected] * processes), run.stdout


def test_layout_map_exact_keys_then_regexes():
    layout_map = distribution.LayoutMap()
    layout_map["user_vec/embeddings"] = ("model", None)
    layout_map[".*_vec/embeddings"] = (None, None)
    assert layout_map["user_vec/embeddings"].axes == ("model", None)
    assert layout_map["item_vec/embeddings"].axes == (None, None)
    assert layout_map["dense/kernel"] is None
    layout_map["item_.*"] = ("model", None)
    with pytest.raises(ValueError, match="matches multiple layout specification keys"):
        layout_map["item_vec/embeddings"]
    with pytest.raises(ValueError, match="already exist in the LayoutMap"):
        layout_map["user_vec/embeddings"] = ("model", None)
    with pytest.raises(ValueError, match="should be a TensorLayout"):
        layout_map["dense/bias"] = "model"


def test_bad_arguments():
    with pytest.raises(ValueError, match="You must specify a layout_map"):
        distribution.ModelParallel()
    with pytest.raises(ValueError, match="must be a `LayoutMap` instance"):
        distribution.ModelParallel(layout_map={"user_vec/embeddings": ("model", None)})
    with pytest.raises(ValueError, match="set_distribution needs a Distribution"):
        distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="disagrees with the MPI launcher"):
        distribution.initialize(num_processes=2)
    with pytest.raises(ValueError, match="Shape does not match the number of devices"):
        distribution.DeviceMesh((2,), ["batch"])
