"""Per-step overhead (issue 21): fastembed with step plans and with the
graph walk (set_step_plans(False)) against Keras (jax) and PyTorch eager.

Groups (ratios: bench/report.py; the thread count is in the group name):
  epoch-<seed model>-<n>t     one training epoch of a seed model (bench/peers.py)
  predict1-<seed model>-<n>t  single-sample latency: fastembed predict and
                              model(x), Keras predict_on_batch, torch eager
                              under inference_mode; p50 / p99 in extra_info
  epoch-recommender-plans-<n>t  the matrix-factorisation recommender
                              (bench/recommender_peers.py), plans vs walk

One run per thread count, each in its own process, so that every peer's
thread pool is sized before it starts (jax reads XLA_FLAGS once):
  OMP_NUM_THREADS=2 pytest bench/bench_step_plan.py --benchmark-json=t2.json
  OMP_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false \
      intra_op_parallelism_threads=1" pytest bench/bench_step_plan.py --benchmark-json=t1.json
"""
import numpy as np
import pytest

from peers import BUILDERS, SPECS, make_data

SEEDS = ["seed-flatten", "seed-lstm", "seed-cnn"]
FRAMEWORKS = ["fastembed", "fastembed-walk", "keras", "torch"]
PREDICT_ROUNDS = 2000


def _threads():
    from fastembed import get_num_threads
    return get_num_threads()


def _peer(framework):
    if framework == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(_threads())
    elif framework == "keras":
        pytest.importorskip("keras")
    return BUILDERS[framework.removesuffix("-walk")]


@pytest.fixture
def plans(request):
    """Step plans on, or off for the -walk entries; restored after."""
    import fastembed
    previous = fastembed.step_plans_enabled()
    fastembed.set_step_plans(not request.node.callspec.params["framework"].endswith("-walk"))
    yield
    fastembed.set_step_plans(previous)


@pytest.fixture(scope="module", params=SEEDS)
def seed(request):
    spec = SPECS[request.param]
    return request.param, spec, make_data(spec)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_seed_epoch(benchmark, seed, framework, plans):
    name, spec, (x, y) = seed
    model = _peer(framework)(spec)
    model.train_epoch(x[: spec["batch"] * 4], y[: spec["batch"] * 4])  # build / jit
    benchmark.group = f"epoch-{name}-{_threads()}t"
    benchmark.pedantic(model.train_epoch, args=(x, y), rounds=3, iterations=1)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["samples_per_s"] = len(x) / benchmark.stats.stats.median


def _single_sample_call(framework, model, sample):
    """The single-sample inference call of each framework."""
    if framework == "torch":
        torch = model.torch
        tokens = torch.from_numpy(sample)

        def call():
            with torch.inference_mode():
                return model.forward(tokens)
        return call
    if framework == "keras":
        return lambda: model.model.predict_on_batch(sample)
    if framework == "fastembed-call":
        return lambda: model.model(sample)
    return lambda: model.model.predict(sample, verbose=0)


@pytest.mark.parametrize("framework", ["fastembed", "fastembed-call", "keras", "torch"])
def test_predict_single_sample(benchmark, seed, framework):
    name, spec, (x, y) = seed
    model = _peer(framework.removesuffix("-call"))(spec)
    model.train_epoch(x[: spec["batch"] * 4], y[: spec["batch"] * 4])
    call = _single_sample_call(framework, model, x[:1])
    for _ in range(50):
        call()
    benchmark.group = f"predict1-{name}-{_threads()}t"
    benchmark.pedantic(call, rounds=PREDICT_ROUNDS, iterations=1)
    if benchmark.stats is not None:
        times = np.array(benchmark.stats.stats.data) * 1e6
        benchmark.extra_info["p50_us"] = float(np.percentile(times, 50))
        benchmark.extra_info["p99_us"] = float(np.percentile(times, 99))


RECOMMENDER_RATINGS = 200_000


@pytest.mark.parametrize("framework", ["fastembed", "fastembed-walk"])
def test_recommender_epoch(benchmark, framework, plans):
    from recommender_peers import BUILDERS as MF_BUILDERS, SPEC, make_data as mf_data
    spec = dict(SPEC, ratings=RECOMMENDER_RATINGS)
    users, items, ratings = mf_data(spec)
    model = MF_BUILDERS["dense", "fastembed"](spec)
    warm = 4 * spec["batch"] + RECOMMENDER_RATINGS % spec["batch"]
    model.train_epoch(users[:warm], items[:warm], ratings[:warm])
    benchmark.group = f"epoch-recommender-plans-{_threads()}t"
    benchmark.pedantic(model.train_epoch, args=(users, items, ratings), rounds=3, iterations=1)
