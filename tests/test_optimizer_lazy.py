"""Deferred (lazy) dense-semantics updates give the eager path's floats.

An Embedding without sparse=True has Keras's semantics: every row moves at
every step. fastembed applies a step at the rows it touches and replays it
on the others when they are read (DeferredSteps); set_lazy_dense_updates(
False) keeps the eager path, a pass over every row at every step. Whole
fits must give the same bits both ways, for every optimizer, with
schedules, weight decay and clipping, for 1 and 2 threads, and every way of
reading a weight must see the replayed rows.
"""
import numpy as np
import pytest

import fastembed
from fastembed import _kernels, optimizers
from fastembed.layers import Concatenate, Dense, Embedding, Flatten
from fastembed.optimizers import optimizer as optimizer_module, schedules

F32 = np.float32
USERS, ITEMS = 300, 50

# name -> (class name, arguments)
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd-nesterov-decay": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
                                   "weight_decay": 0.01}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam-amsgrad-clipnorm": ("Adam", {"learning_rate": 0.01, "amsgrad": True, "clipnorm": 0.1}),
    "adam-schedule": ("Adam", {"learning_rate": schedules.ExponentialDecay(0.02, 5, 0.8)}),
    "adamw": ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.05}),
    "adamw-cosine-global-clipnorm": ("AdamW", {
        "learning_rate": schedules.CosineDecay(0.01, 30), "global_clipnorm": 0.5}),
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "adamax-clipvalue": ("Adamax", {"learning_rate": 0.02, "clipvalue": 0.01}),
    "rmsprop-centered-momentum": ("RMSprop", {"learning_rate": 0.003, "centered": True,
                                              "momentum": 0.5}),
    "rmsprop-decay": ("RMSprop", {"learning_rate": 0.003, "weight_decay": 0.02}),
    "adagrad-decay": ("Adagrad", {"learning_rate": 0.1, "weight_decay": 0.01}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
    "ftrl": ("Ftrl", {"learning_rate": 0.5}),
    "ftrl-regularized": ("Ftrl", {"learning_rate": 0.5, "learning_rate_power": -0.6,
                                  "l1_regularization_strength": 1e-4,
                                  "l2_regularization_strength": 1e-3,
                                  "l2_shrinkage_regularization_strength": 1e-3, "beta": 0.1}),
    "lion": ("Lion", {"learning_rate": 0.001, "weight_decay": 0.1}),
}


@pytest.fixture
def lazy_setting(monkeypatch):
    """Restores the lazy_dense_updates setting and the thread count; the
    tables here are small enough to stay in cache, deferred all the same."""
    monkeypatch.setattr(optimizer_module, "_DEFERRED_MIN_BYTES", 0)
    lazy, threads = optimizers.lazy_dense_updates(), fastembed.get_num_threads()
    yield
    optimizers.set_lazy_dense_updates(lazy)
    fastembed.set_num_threads(threads)


def make_data(n=192, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, USERS, (n, 2))
    items = rng.integers(0, ITEMS, (n, 1))
    y = rng.normal(size=(n, 1)).astype(F32)
    return [users, items], y


def build_model(optimizer_name):
    """A shared dense-semantics table (rows of 20: not a whole number of
    vectors) called twice, a narrow one of 8, a 1-wide one (updated eagerly)
    and a sparse=True one, all into a Dense."""
    user = fastembed.Input((2,), dtype="int64", name="user")
    item = fastembed.Input((1,), dtype="int64", name="item")
    shared = Embedding(USERS, 20, name="shared")
    features = [Flatten()(shared(user)), Flatten()(shared(item)),
                Flatten()(Embedding(ITEMS, 8, name="narrow")(item)),
                Flatten()(Embedding(USERS, 1, name="bias")(user)),
                Flatten()(Embedding(ITEMS, 8, sparse=True, name="lazy")(item))]
    model = fastembed.Model([user, item], Dense(1)(Concatenate()(features)))
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(F32) for w in model.get_weights()])
    class_name, arguments = OPTIMIZERS[optimizer_name]
    model.compile(getattr(optimizers, class_name)(**arguments), "mse")
    return model


def deferred_tables(model):
    return [v for v in model.weights if v.deferred is not None and v.deferred.pending]


def fit(optimizer_name, lazy, epochs=3, batch_size=16):
    optimizers.set_lazy_dense_updates(lazy)
    model = build_model(optimizer_name)
    x, y = make_data()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return model, history.history["loss"]


def assert_same_bits(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(np.asarray(a).view(np.int32), np.asarray(e).view(np.int32))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_fit_is_bitwise_the_eager_fit(lazy_setting, optimizer_name, threads):
    fastembed.set_num_threads(threads)
    eager, eager_losses = fit(optimizer_name, lazy=False)
    assert not deferred_tables(eager)
    eager_weights = eager.get_weights()
    lazy, lazy_losses = fit(optimizer_name, lazy=True)
    # the deferred path ran: the tables of 20 and 8 have rows behind
    assert sorted(v.name for v in deferred_tables(lazy)) == ["narrow/embeddings",
                                                             "shared/embeddings"]
    assert lazy_losses == eager_losses
    assert_same_bits(lazy.get_weights(), eager_weights)
    assert not deferred_tables(lazy)
    assert_same_bits(lazy.optimizer.variables_state(lazy.trainable_weights),
                     eager.optimizer.variables_state(eager.trainable_weights))


def test_thread_counts_give_the_same_bits(lazy_setting):
    results = []
    for threads in (1, 2):
        fastembed.set_num_threads(threads)
        model, losses = fit("adam", lazy=True)
        results.append((model.get_weights(), losses))
    assert results[0][1] == results[1][1]
    assert_same_bits(results[0][0], results[1][0])


def test_more_steps_than_the_history_holds(lazy_setting):
    """1,152 steps without a read: the history (1,024 steps) fills and
    every row is brought up to date before it records more."""
    eager, eager_losses = fit("adam", lazy=False, epochs=6, batch_size=1)
    lazy, lazy_losses = fit("adam", lazy=True, epochs=6, batch_size=1)
    assert lazy_losses == eager_losses
    assert_same_bits(lazy.get_weights(), eager.get_weights())


def _read_get_weights(model, tmp_path):
    return model.get_weights()


def _read_layer_get_weights(model, tmp_path):
    return [w for layer in model.layers for w in layer.get_weights()]


def _read_variable_numpy(model, tmp_path):
    return [v.numpy() for v in model.weights]


def _read_variable_value(model, tmp_path):
    return [np.array(v.value) for v in model.weights]


def _read_save_weights(model, tmp_path):
    path = str(tmp_path / "model.weights.h5")
    model.save_weights(path)
    fresh = build_model("adam")
    fresh.load_weights(path)
    return fresh.get_weights()


def _read_save(model, tmp_path):
    path = str(tmp_path / "model.keras")
    model.save(path)
    return fastembed.load_model(path).get_weights()


def _read_predict(model, tmp_path):
    x, _ = make_data(64, seed=5)
    return [model.predict(x, verbose=0)]


def _read_evaluate(model, tmp_path):
    x, y = make_data(64, seed=5)
    return [np.float32(model.evaluate(x, y, verbose=0))]


def _read_optimizer_state(model, tmp_path):
    return model.optimizer.variables_state(model.trainable_weights)


def _read_assign(model, tmp_path):
    """Writing a row keeps the replayed steps of the slots (then reading all)."""
    table = model.get_layer("shared").embeddings
    table.assign(np.full(table.shape, 0.25, F32))
    return model.optimizer.variables_state(model.trainable_weights) + model.get_weights()


READS = [_read_get_weights, _read_layer_get_weights, _read_variable_numpy, _read_variable_value,
         _read_save_weights, _read_save, _read_predict, _read_evaluate, _read_optimizer_state,
         _read_assign]


@pytest.mark.parametrize("read", READS, ids=lambda f: f.__name__[len("_read_"):])
def test_every_read_sees_the_replayed_rows(lazy_setting, tmp_path, read):
    for name in ("eager", "lazy"):
        (tmp_path / name).mkdir()
    eager, _ = fit("adam", lazy=False, epochs=1)
    expected = read(eager, tmp_path / "eager")
    lazy, _ = fit("adam", lazy=True, epochs=1)
    assert deferred_tables(lazy)
    assert_same_bits(read(lazy, tmp_path / "lazy"), expected)


def test_fit_continues_after_a_read(lazy_setting):
    """A callback reading the weights each epoch, then more training."""
    results = []
    for lazy in (False, True):
        model, _ = fit("nadam", lazy=lazy, epochs=1)
        before = model.get_weights()
        x, y = make_data(seed=2)
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        results.append(before + model.get_weights())
    assert_same_bits(results[1], results[0])


def test_deferred_steps_replay_and_check_their_arguments():
    table = np.zeros((5, 8), F32)
    slots = (np.zeros((5, 8), F32), np.zeros((5, 8), F32))
    deferred = _kernels.DeferredSteps(table, slots)
    rule = _kernels.UpdateRule("adam", beta_1=0.5)
    rule.set_step(0.1)
    step = [(_kernels.UPDATE_DEFERRED, table, slots, np.ones((1, 8), F32), np.array([2]), True,
             deferred)]
    rule.apply_step(step)
    assert deferred.pending and table[2].all() and not table[0].any()
    # row 0 replays the step with a zero gradient: m = m + (0 - m) * 0.5,
    # v = v + (0 - v) * 0.001, w -= m * 0.1 / (sqrt(v) + 1e-7)
    slots[0][:2], slots[1][0] = 1.0, 4.0
    deferred.flush_rows(table, np.array([0, 0]))
    m, v = F32(0.5), F32(4.0) + (F32(0) - F32(4.0)) * F32(0.001)
    np.testing.assert_allclose(table[0], -(m * F32(0.1)) / (np.sqrt(v) + F32(1e-7)), rtol=1e-6)
    np.testing.assert_array_equal(slots[0][0], m)
    np.testing.assert_array_equal(slots[0][1], 1.0)  # row 1 not replayed yet
    with pytest.raises(IndexError, match=r"indices\[1\] = 5 is not in \[0, 5\)"):
        deferred.flush_rows(table, np.array([0, 5]))
    with pytest.raises(ValueError, match="table must be a writeable float32 array of shape"):
        deferred.flush(np.zeros((4, 8), F32))
    with pytest.raises(ValueError, match="slots of a deferred update"):
        rule.apply_step([step[0][:2] + ((slots[0], slots[1].copy()),) + step[0][3:]])
    with pytest.raises(TypeError, match="needs its DeferredSteps"):
        rule.apply_step([step[0][:6] + (None,)])
    with pytest.raises(ValueError, match="rows of at most 4096"):
        _kernels.DeferredSteps(np.zeros((2, 4097), F32), ())
    deferred.flush(table)
    assert not deferred.pending
    np.testing.assert_array_equal(slots[0][1], m)


def test_replays_shared_by_two_threads_are_bitwise_the_eager_fit(lazy_setting):
    """Each row read once an epoch, 64 steps an epoch: in the second, batches
    read 64 rows of 32 that each missed about 64 steps, a replay of about
    130k element-steps, past the size that spreads its rows over the threads
    (dealt out as threads free up), as the eager fit's bits."""
    rows, dim, batch = 4096, 32, 64
    rng = np.random.default_rng(2)
    ids = rng.permutation(rows)[:, None]
    y = rng.normal(size=(rows, 1)).astype(F32)
    fastembed.set_num_threads(2)
    results = []
    for lazy in (False, True):
        optimizers.set_lazy_dense_updates(lazy)
        model = fastembed.Sequential([fastembed.Input((1,), dtype="int64"),
                                      Embedding(rows, dim), Flatten(), Dense(1)])
        model.set_weights([np.random.default_rng(3).uniform(-0.5, 0.5, w.shape).astype(F32)
                           for w in model.get_weights()])
        model.compile(optimizers.Adam(0.01), "mse")
        losses = model.fit(ids, y, batch_size=batch, epochs=2, shuffle=False,
                           verbose=0).history["loss"]
        results.append((model.get_weights(), losses))
    assert results[1][1] == results[0][1]
    assert_same_bits(results[1][0], results[0][0])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("mode", ["dense", "all_rows", "deferred"])
def test_updates_flush_denormals_to_zero(lazy_setting, mode, threads):
    """Adam's m of a row no batch reads decays by beta_1 a step and reaches
    the denormal range (below 1.18e-38) in about 800 steps. Updates read and
    write denormals as zero, as XLA's CPU kernels under Keras on jax do
    (0.9 * 1e-39 is 0 there, 9e-40 in numpy), and give the caller's
    floating-point state back."""
    fastembed.set_num_threads(threads)
    denormal, lr = F32(1e-39), F32(0.01)
    table = np.full((4, 16), 0.25, F32)
    slots = (np.full((4, 16), denormal), np.ones((4, 16), F32))
    rule = _kernels.UpdateRule("adam")
    rule.set_step(lr)
    if mode == "dense":
        grad = np.zeros((4, 16), F32)
        grad[1] = 1.0
        entry = (_kernels.UPDATE_DENSE, table.reshape(-1), tuple(s.reshape(-1) for s in slots),
                 grad.reshape(-1), None, False, None)
    else:
        deferred = _kernels.DeferredSteps(table, slots) if mode == "deferred" else None
        entry = (_kernels.UPDATE_DEFERRED if deferred else _kernels.UPDATE_ALL_ROWS, table,
                 slots, np.ones((1, 16), F32), np.array([1]), False, deferred)
    rule.apply_step([entry])
    if mode == "deferred":
        assert (slots[0][0] == denormal).all()  # row 0 not replayed yet
        deferred.flush(table)
    untouched = [0, 2, 3]
    # numpy keeps the denormal: the update must not
    assert F32(0.9) * denormal != 0
    assert (slots[0][untouched] == 0).all() and not np.signbit(slots[0][untouched]).any()
    np.testing.assert_array_equal(table[untouched], 0.25)
    np.testing.assert_array_equal(slots[1][untouched], F32(1) + (F32(0) - F32(1)) * F32(0.001))
    # the touched row: m read as 0, then m = 0.1 * g; w -= lr * m / (sqrt(v) + eps)
    v = F32(1) + (F32(1) - F32(1)) * F32(0.001)
    np.testing.assert_allclose(slots[0][1], 0.1, rtol=1e-6)
    np.testing.assert_allclose(table[1], 0.25 - lr * F32(0.1) / (np.sqrt(v) + F32(1e-7)),
                               rtol=1e-6)
