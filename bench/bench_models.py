"""One training epoch of the seed models and IMDB-sized ones: fastembed vs
Keras (jax backend) vs PyTorch eager, same data, same run.

Each group is one model; samples/s is in extra_info; ratios: bench/report.py.
"""
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
