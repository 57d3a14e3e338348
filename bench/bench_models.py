"""One training epoch of the seed models and IMDB-sized ones: fastembed vs
Keras (jax backend) vs PyTorch eager, same data, same run.

Each group is one model; samples/s is in extra_info; ratios: bench/report.py.
"""
import numpy as np
import pytest

from peers import BUILDERS, SPECS, make_data


@pytest.fixture(scope="module", params=list(SPECS))
def spec_and_data(request):
    spec = SPECS[request.param]
    return request.param, spec, make_data(spec)


@pytest.mark.parametrize("framework", list(BUILDERS))
def test_train_epoch(benchmark, spec_and_data, framework):
    name, spec, (x, y) = spec_and_data
    if framework == "torch":
        torch = pytest.importorskip("torch")
        from fastembed import get_num_threads
        torch.set_num_threads(get_num_threads())
    elif framework == "keras":
        pytest.importorskip("keras")
    model = BUILDERS[framework](spec)
    model.train_epoch(x[: spec["batch"] * 4], y[: spec["batch"] * 4])  # build / jit outside timing
    benchmark.group = f"epoch-{name}"
    benchmark.extra_info["samples"] = len(x)
    benchmark.pedantic(model.train_epoch, args=(x, y), rounds=3, iterations=1)
    benchmark.extra_info["samples_per_s"] = len(x) / benchmark.stats.stats.median


def test_lm_softmax_layer(benchmark):
    """The lm spec's output layer alone: Dense(vocab, softmax) forward, sparse
    categorical cross-entropy and its gradient through the softmax (the
    fused path fit takes) and backward on one batch's (batch * steps, units)
    rows; its share of the lm epoch and its GEMM rate (three GEMMs of 2 *
    rows * units * vocab flops) are in extra_info."""
    from fastembed import layers, losses
    from fastembed.engine import Context, record
    spec = SPECS["lm-lstm"]
    rng = np.random.default_rng(0)
    rows = spec["batch"] * spec["steps"]
    h = rng.standard_normal((spec["batch"], spec["steps"], spec["units"])).astype(np.float32)
    y = rng.integers(0, spec["vocab"], (spec["batch"], spec["steps"]))
    dense = layers.Dense(spec["vocab"], activation="softmax")
    dense.build_for((None, spec["steps"], spec["units"]))
    loss = losses.get("sparse_categorical_crossentropy")
    context = Context()

    def step():
        dense.kernel.grad = dense.bias.grad = None
        out, _ = record(dense, h, training=True, context=context)
        _, grad = loss.value_and_logit_gradient(dense, context, y, out)
        dense.backward(context, grad)

    benchmark.group = "lm-softmax-layer"
    benchmark.pedantic(step, rounds=5, iterations=1, warmup_rounds=1)
    _gemm_rate(benchmark, rows, spec)


def test_lm_softmax_gemm_reference(benchmark):
    """The same three GEMMs alone (np.dot, the BLAS Dense runs on): the machine's rate."""
    spec = SPECS["lm-lstm"]
    rng = np.random.default_rng(0)
    rows = spec["batch"] * spec["steps"]
    x = rng.standard_normal((rows, spec["units"])).astype(np.float32)
    w = rng.standard_normal((spec["units"], spec["vocab"])).astype(np.float32)
    g = rng.standard_normal((rows, spec["vocab"])).astype(np.float32)

    def gemms():
        np.dot(x, w)
        np.dot(x.T, g)
        np.dot(g, w.T)

    benchmark.group = "lm-softmax-layer"
    benchmark.pedantic(gemms, rounds=5, iterations=1, warmup_rounds=1)
    _gemm_rate(benchmark, rows, spec)


def _gemm_rate(benchmark, rows, spec):
    if benchmark.stats is not None:  # None under --benchmark-disable: nothing timed
        flops = 3 * 2 * rows * spec["units"] * spec["vocab"]
        benchmark.extra_info["gflop_per_s"] = flops / benchmark.stats.stats.median / 1e9
