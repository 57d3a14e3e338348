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
- step-adam-idle-rows: one dense-semantics Adam step on the seed model's
  1,000 x 64 Embedding, a (32, 10) batch, while the first moments of the
  rows it does not read are denormal, as after about 800 steps unread (a
  rare word's row). Each round starts from that state. Keras (jax) and the
  torch peer (set_flush_denormal) flush denormals; fastembed does too.
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


# ---- Adam while unread rows' moments are denormal ------------------------------
IDLE_VOCAB, IDLE_BATCH, DENORMAL = 1_000, (32, 10), np.float32(1e-39)


@pytest.fixture(scope="module")
def idle_case():
    rng = np.random.default_rng(1)
    indices = rng.integers(0, IDLE_VOCAB // 10, IDLE_BATCH)  # rows 100 and up unread
    momentum = np.full((IDLE_VOCAB, DIM), DENORMAL)
    momentum[:IDLE_VOCAB // 10] = 1e-3
    return {"table": rng.uniform(-0.05, 0.05, (IDLE_VOCAB, DIM)).astype(np.float32),
            "indices": indices, "momentum": momentum,
            "d_out": rng.standard_normal(IDLE_BATCH + (DIM,)).astype(np.float32)}


def _idle_rounds(benchmark, step, reset):
    """Each round from the idle state: reset() outside timing, then one step."""
    def setup():
        reset()  # pedantic would take a returned value for the step's arguments

    benchmark.group = "step-adam-idle-rows"
    step()
    benchmark.pedantic(step, setup=setup, rounds=300, warmup_rounds=5, iterations=1)


def test_idle_rows_fastembed(benchmark, idle_case):
    opt = optimizers.Adam(1e-3)
    table = Variable("embeddings", idle_case["table"].copy())
    indices, d_out = idle_case["indices"], idle_case["d_out"]

    def step():
        _kernels.gather(table.value_for_gather(indices), indices)
        table.grad = RowGrad(*_kernels.embedding_grad(d_out, indices, IDLE_VOCAB))
        opt.apply_gradients([table])

    _idle_rounds(benchmark, step,
                 lambda: opt.slots_for(table)[0].__setitem__(..., idle_case["momentum"]))


def test_idle_rows_keras(benchmark, idle_case):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input(IDLE_BATCH[1:], dtype="int32"),
                              keras.layers.Embedding(IDLE_VOCAB, DIM)])
    model.set_weights([idle_case["table"]])
    model.compile(keras.optimizers.Adam(1e-3),
                  loss=lambda y_true, y_pred: keras.ops.sum(y_true * y_pred))
    indices, d_out = idle_case["indices"].astype(np.int32), idle_case["d_out"]
    model.train_on_batch(indices, d_out)  # jit and slots outside timing
    [momentum] = [v for v in model.optimizer.variables if "momentum" in v.path]
    _idle_rounds(benchmark, lambda: model.train_on_batch(indices, d_out),
                 lambda: momentum.assign(idle_case["momentum"]))


def test_idle_rows_torch(benchmark, idle_case):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(_kernels.get_num_threads())
    torch.set_flush_denormal(True)  # as the seed-model peers: its best setting here
    embedding = torch.nn.Embedding(IDLE_VOCAB, DIM)
    with torch.no_grad():
        embedding.weight.copy_(torch.from_numpy(idle_case["table"]))
    opt = torch.optim.Adam(embedding.parameters(), lr=1e-3, eps=1e-7)
    indices = torch.from_numpy(idle_case["indices"])
    d_out = torch.from_numpy(idle_case["d_out"])

    def step():
        embedding(indices).backward(d_out)
        opt.step()
        opt.zero_grad(set_to_none=True)

    momentum = torch.from_numpy(idle_case["momentum"])
    _idle_rounds(benchmark, step,
                 lambda: opt.state[embedding.weight]["exp_avg"].copy_(momentum))


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
