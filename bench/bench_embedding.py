"""Embedding kernels against numpy and PyTorch, same data, same run.

Groups: gather-<shape> (lookup alone) and train-<shape> (lookup + gradient +
optimizer update). Ratios: python bench/report.py <json>.
"""
import numpy as np
import pytest

from fastembed import _kernels

SHAPES = {
    "seed-1k": (1_000, 64, (32, 10)),
    "large-1m": (1_000_000, 64, (256, 20)),
}


@pytest.fixture(scope="module", params=list(SHAPES))
def case(request):
    vocab, dim, batch = SHAPES[request.param]
    rng = np.random.default_rng(0)
    return {
        "name": request.param,
        "table": rng.uniform(-0.05, 0.05, (vocab, dim)).astype(np.float32),
        "indices": rng.integers(0, vocab, batch),
        "d_out": rng.standard_normal(batch + (dim,)).astype(np.float32),
    }


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(_kernels.get_num_threads())
    return torch


# ---- gather ---------------------------------------------------------------
def test_gather_fastembed(benchmark, case):
    benchmark.group = f"gather-{case['name']}"
    out = benchmark(_kernels.gather, case["table"], case["indices"])
    np.testing.assert_array_equal(out, case["table"][case["indices"]])


def test_gather_numpy_take(benchmark, case):
    benchmark.group = f"gather-{case['name']}"
    benchmark(np.take, case["table"], case["indices"], axis=0)


def test_gather_torch(benchmark, case):
    torch = _torch()
    benchmark.group = f"gather-{case['name']}"
    table, indices = torch.from_numpy(case["table"]), torch.from_numpy(case["indices"])
    with torch.no_grad():
        benchmark(torch.nn.functional.embedding, indices, table)


# ---- lookup + gradient + optimizer update -----------------------------------
@pytest.mark.parametrize("semantics", ["lazy_adam", "dense_adam"])
def test_train_fastembed(benchmark, case, semantics):
    """Sparse gradient (sort + reduce), then Adam on the touched rows only
    (lazy) or, as Keras, on every row in one streaming pass (dense)."""
    benchmark.group = f"train-{case['name']}"
    table = case["table"].copy()
    rule = _kernels.UpdateRule("adam")
    rule.lr = 1e-3
    slots = (np.zeros_like(table), np.zeros_like(table))
    indices, d_out = case["indices"], case["d_out"]
    apply = rule.apply_rows if semantics == "lazy_adam" else rule.apply_all_rows

    def step():
        _kernels.gather(table, indices)
        rows, grads = _kernels.embedding_grad(d_out, indices, table.shape[0])
        apply(table, slots, rows, grads)

    benchmark(step)


@pytest.mark.parametrize("semantics", ["sparse_adam", "dense_adam"])
def test_train_torch(benchmark, case, semantics):
    """nn.Embedding(sparse=True) + SparseAdam, or dense Embedding + Adam."""
    torch = _torch()
    benchmark.group = f"train-{case['name']}"
    sparse = semantics == "sparse_adam"
    embedding = torch.nn.Embedding(*case["table"].shape, sparse=sparse)
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(case["table"]))
    optimizer = (torch.optim.SparseAdam(embedding.parameters(), lr=1e-3, eps=1e-7) if sparse
                 else torch.optim.Adam(embedding.parameters(), lr=1e-3, eps=1e-7))
    indices, d_out = torch.from_numpy(case["indices"]), torch.from_numpy(case["d_out"])

    def step():
        embedding(indices).backward(d_out)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    benchmark(step)


# ---- gradient alone ----------------------------------------------------------
def test_grad_fastembed(benchmark, case):
    benchmark.group = f"grad-{case['name']}"
    benchmark(_kernels.embedding_grad, case["d_out"], case["indices"], case["table"].shape[0])


def test_grad_numpy_add_at(benchmark, case):
    """The dense gradient np.add.at builds (zeroed each step, as a backward must)."""
    benchmark.group = f"grad-{case['name']}"
    dense = np.zeros_like(case["table"])
    dim = dense.shape[1]
    flat_indices, flat_d_out = case["indices"].reshape(-1), case["d_out"].reshape(-1, dim)

    def step():
        dense.fill(0)
        np.add.at(dense, flat_indices, flat_d_out)

    benchmark(step)


def test_grad_torch(benchmark, case):
    torch = _torch()
    benchmark.group = f"grad-{case['name']}"
    weight = torch.from_numpy(case["table"]).requires_grad_()
    indices, d_out = torch.from_numpy(case["indices"]), torch.from_numpy(case["d_out"])

    def step():
        torch.nn.functional.embedding(indices, weight, sparse=True).backward(d_out)
        weight.grad = None

    benchmark(step)
