"""AdamW and Ftrl steps on a 1,000,000 x 64 Embedding, and a seed-model
epoch fed by a generator against the array-fed one; same data, same run.

Groups:
- step-adamw-1m / step-ftrl-1m: one training step of the table alone (lookup of
  a (256, 20) batch, its gradient, the optimizer update). fastembed: lazy rows
  (Embedding(sparse=True)) and Keras's dense semantics (every row moves);
  Keras (jax): the same step through train_on_batch, whose update is dense.
  PyTorch has neither a sparse AdamW nor an Ftrl: its nearest are
  nn.Embedding(sparse=True) with SparseAdam (no weight decay) or with sparse
  Adagrad (Ftrl's accumulator without the linear term), and dense AdamW.
- epoch-seed-streamed: fit one epoch of the seed model from arrays and from a
  generator of the same batches (target: within 10%).
Ratios: python bench/report.py <json>.
"""
import numpy as np
import pytest

from fastembed import _kernels, optimizers
from fastembed.engine import RowGrad, Variable
from peers import SPECS, build_fastembed, make_data

VOCAB, DIM, BATCH = 1_000_000, 64, (256, 20)
OPTIMIZERS = {"adamw": ("AdamW", {"learning_rate": 1e-3}),
              "ftrl": ("Ftrl", {"learning_rate": 0.1})}


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    return {"table": rng.uniform(-0.05, 0.05, (VOCAB, DIM)).astype(np.float32),
            "indices": rng.integers(0, VOCAB, BATCH),
            "d_out": rng.standard_normal(BATCH + (DIM,)).astype(np.float32)}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("semantics", ["lazy", "dense"])
def test_step_fastembed(benchmark, case, optimizer, semantics):
    benchmark.group = f"step-{optimizer}-1m"
    class_name, kwargs = OPTIMIZERS[optimizer]
    opt = getattr(optimizers, class_name)(**kwargs)
    table = Variable("embeddings", case["table"].copy(), lazy=semantics == "lazy")
    indices, d_out = case["indices"], case["d_out"]

    def step():
        _kernels.gather(table.value_for_gather(indices), indices)  # as Embedding looks up
        table.grad = RowGrad(*_kernels.embedding_grad(d_out, indices, VOCAB))
        opt.apply_gradients([table])

    step()  # slots made outside timing
    benchmark(step)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_step_keras(benchmark, case, optimizer):
    keras = pytest.importorskip("keras")
    benchmark.group = f"step-{optimizer}-1m"
    class_name, kwargs = OPTIMIZERS[optimizer]
    model = keras.Sequential([keras.Input(BATCH[1:], dtype="int32"),
                              keras.layers.Embedding(VOCAB, DIM)])
    model.set_weights([case["table"]])
    # loss = sum(d_out * embedded): its gradient with respect to the lookup is d_out
    model.compile(getattr(keras.optimizers, class_name)(**kwargs),
                  loss=lambda y_true, y_pred: keras.ops.sum(y_true * y_pred))
    indices, d_out = case["indices"].astype(np.int32), case["d_out"]
    model.train_on_batch(indices, d_out)  # jit outside timing
    benchmark(model.train_on_batch, indices, d_out)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("torch_optimizer", ["sparse", "dense_adamw"])
def test_step_torch(benchmark, case, optimizer, torch_optimizer):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(_kernels.get_num_threads())
    benchmark.group = f"step-{optimizer}-1m"
    sparse = torch_optimizer == "sparse"
    embedding = torch.nn.Embedding(VOCAB, DIM, sparse=sparse)
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(case["table"]))
    lr = OPTIMIZERS[optimizer][1]["learning_rate"]
    if not sparse:
        opt = torch.optim.AdamW(embedding.parameters(), lr=lr, eps=1e-7, weight_decay=0.004)
    elif optimizer == "adamw":
        opt = torch.optim.SparseAdam(embedding.parameters(), lr=lr, eps=1e-7)
    else:
        opt = torch.optim.Adagrad(embedding.parameters(), lr=lr, initial_accumulator_value=0.1)
    indices, d_out = torch.from_numpy(case["indices"]), torch.from_numpy(case["d_out"])

    def step():
        embedding(indices).backward(d_out)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    benchmark(step)


# ---- an epoch from a generator against one from arrays ------------------------
@pytest.mark.parametrize("feed", ["arrays", "generator"])
def test_epoch_streamed(benchmark, feed):
    spec = SPECS["seed-flatten"]
    x, y = make_data(spec)
    model = build_fastembed(spec).model
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    batch = spec["batch"]
    steps = -(-len(x) // batch)

    def batches():
        for start in range(0, len(x), batch):
            yield x[start:start + batch], y[start:start + batch]

    def epoch():
        if feed == "arrays":
            model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
        else:
            model.fit(batches(), steps_per_epoch=steps, epochs=1, verbose=0)

    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, verbose=0)  # build outside timing
    benchmark.group = "epoch-seed-streamed"
    benchmark.pedantic(epoch, rounds=5, iterations=1)
    benchmark.extra_info["samples_per_s"] = len(x) / benchmark.stats.stats.median
