"""Conv1D: the layer alone (forward + backward) vs torch.nn.Conv1d, in the
same run; samples/s is in extra_info. The CNN models' training epochs are in
bench_models.py.
"""
import numpy as np
import pytest

# The IMDB-sized layer: batch 64, 400 steps, 128 channels, 250 filters, kernel 3.
BATCH, STEPS, CHANNELS, FILTERS, KERNEL = 64, 400, 128, 250, 3


def _torch():
    torch = pytest.importorskip("torch")
    from fastembed import get_num_threads
    torch.set_num_threads(get_num_threads())
    return torch


def _layer_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS, CHANNELS)).astype(np.float32)
    dy = rng.standard_normal((BATCH, STEPS - KERNEL + 1, FILTERS)).astype(np.float32)
    return x, dy


def _record(benchmark, samples):
    if benchmark.stats is None:  # --benchmark-disable: the step ran once, untimed
        return
    benchmark.extra_info["samples"] = samples
    benchmark.extra_info["samples_per_s"] = samples / benchmark.stats.stats.median


def test_conv1d_layer_fastembed(benchmark):
    from fastembed.engine import Context, record
    from fastembed.layers import Conv1D
    x, dy = _layer_data()
    layer = Conv1D(FILTERS, KERNEL)
    # One context across rounds, as the executor keeps one per node: its
    # workspace holds the Conv1D plan, built on the first round and reused.
    context = Context()

    def step():
        for weight in layer.weights:
            weight.grad = None  # backward adds into grad: one round's gradient each
        record(layer, x, training=True, context=context)
        return layer.backward(context, dy)

    step()
    benchmark.group = "conv1d-layer-fwd-bwd"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)
    _record(benchmark, BATCH)


def test_conv1d_layer_torch(benchmark):
    torch = _torch()
    x, dy = _layer_data()
    conv = torch.nn.Conv1d(CHANNELS, FILTERS, KERNEL)
    # torch's native layout (batch, channels, steps): no transposes timed.
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1))).requires_grad_()
    dyt = torch.from_numpy(np.ascontiguousarray(dy.transpose(0, 2, 1)))

    def step():
        xt.grad = None
        conv.zero_grad(set_to_none=True)
        conv(xt).backward(dyt)
        return xt.grad

    step()
    benchmark.group = "conv1d-layer-fwd-bwd"
    benchmark.pedantic(step, rounds=10, iterations=1, warmup_rounds=1)
    _record(benchmark, BATCH)
