"""The LSTM, GRU and SimpleRNN layers alone, fastembed vs torch.nn.LSTM /
GRU / RNN, same shapes, same thread count.

Forward + backward through time (gradient of the last output) and forward
alone, per shape group; samples/s in extra_info. Training epochs of whole
recurrent models against Keras and PyTorch are in bench_models.py. torch's
GRU is its reset_after form (the default of Keras 3, as here).

fastembed's GEMMs are scipy's OpenBLAS; where it picks its AVX2 (Haswell)
kernels on an AVX-512 CPU (as on AMD Zen 4), OPENBLAS_CORETYPE=SKYLAKEX set
before the first import roughly halves fastembed's time here.
"""
import numpy as np
import pytest

from fastembed import get_num_threads, layers
from fastembed.engine import Context, record

# kind: (fastembed layer, torch module)
KINDS = {"lstm": ("LSTM", "LSTM"), "gru": ("GRU", "GRU"), "simple_rnn": ("SimpleRNN", "RNN")}
# (batch, steps, input features, units)
SHAPES = {
    "issue": (64, 200, 128, 64),  # the layer benchmark
    "seed": (32, 10, 64, 32),     # the seed model's LSTM
}


def _fastembed(kind, batch, steps, features, units, x, grad):
    layer = getattr(layers, KINDS[kind][0])(units)
    layer.build_for((None, steps, features))
    # One context across rounds, as the executor keeps one per node: its
    # workspace holds the saved gates and scratch, allocated once.
    context = Context()

    def forward_backward():
        for weight in layer.weights:
            weight.grad = None  # backward adds into grad: one round's gradient each
        record(layer, x, training=True, needs_input_grad=True, context=context)
        layer.backward(context, grad)

    return forward_backward, lambda: layer(x)


def _torch(kind, batch, steps, features, units, x, grad):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(get_num_threads())
    torch.set_flush_denormal(True)  # as peers.TorchModel: the last output's gradient decays
    layer = getattr(torch.nn, KINDS[kind][1])(features, units, batch_first=True)
    xt = torch.from_numpy(x).requires_grad_(True)
    gt = torch.from_numpy(grad)

    def forward_backward():
        layer.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = layer(xt)
        out[:, -1].backward(gt)

    def forward():
        with torch.no_grad():
            layer(xt)

    return forward_backward, forward


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("pass_", ["forward_backward", "forward"])
@pytest.mark.parametrize("framework", ["fastembed", "torch"])
def test_recurrent_layer(benchmark, framework, pass_, shape, kind):
    batch, steps, features, units = SHAPES[shape]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    grad = rng.standard_normal((batch, units)).astype(np.float32)
    make = _fastembed if framework == "fastembed" else _torch
    forward_backward, forward = make(kind, batch, steps, features, units, x, grad)
    fn = forward_backward if pass_ == "forward_backward" else forward
    benchmark.group = f"{kind}-{pass_}-{shape}-{batch}x{steps}x{features}->{units}"
    rounds = 20 if steps * batch >= 10_000 else 200
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=3)
    if benchmark.stats is not None:  # None under --benchmark-disable: nothing timed
        benchmark.extra_info["samples_per_s"] = batch / benchmark.stats.stats.median
