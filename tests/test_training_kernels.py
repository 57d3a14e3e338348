"""Training pieces against references written here: optimizer updates (the C
UpdateRule and the Optimizer classes) against Keras 3's update_step formulas in
numpy, losses against Keras's formulas and finite differences, activations
against keras.activations and finite differences, Dense/Embedding gradients."""
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed import _kernels, activations, losses, metrics, optimizers
from fastembed.engine import RowGrad, Variable, record
from fastembed.layers import Dense, Embedding
from gradcheck import check_layer_gradients

F32 = np.float32
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


# ---- Keras 3's update_step, in numpy float32 ----------------------------------------

# Slot order of the C kernel (csrc/optim.h), for the tests that hand it slots.
def slot_names(kind, cfg):
    if kind == "sgd":
        return ["m"] if cfg.get("momentum", 0) else []
    if kind == "adagrad":
        return ["a"]
    if kind == "rmsprop":
        return ["v"] + (["c"] if cfg.get("centered") else []) + (["m"] if cfg.get("momentum", 0) else [])
    return ["m", "v"] + (["vh"] if cfg.get("amsgrad") else [])


def keras_update(kind, cfg, w, s, g, lr, step=None):
    """One Keras update of w (in place) with slots s (dict, in place).

    step counts from 0 and sets Adam's bias correction; step=None hands lr to
    Adam as its corrected rate alpha, which is what the C UpdateRule takes."""
    lr, g = F32(lr), g.astype(F32)
    if kind == "sgd":
        mu = F32(cfg.get("momentum", 0.0))
        if mu:
            s["m"][...] = s["m"] * mu - g * lr
            w += s["m"] * mu - g * lr if cfg.get("nesterov") else s["m"]
        else:
            w -= g * lr
    elif kind == "adagrad":
        s["a"] += np.square(g)
        w -= lr * g / np.sqrt(s["a"] + F32(cfg.get("epsilon", 1e-7)))
    elif kind == "rmsprop":
        rho, mu, eps = F32(cfg.get("rho", 0.9)), F32(cfg.get("momentum", 0.0)), F32(cfg.get("epsilon", 1e-7))
        s["v"][...] = rho * s["v"] + (1 - rho) * np.square(g)
        if cfg.get("centered"):
            s["c"][...] = rho * s["c"] + (1 - rho) * g
            denominator = s["v"] - np.square(s["c"]) + eps
        else:
            denominator = s["v"] + eps
        increment = lr * g / np.sqrt(denominator)
        if mu > 0:
            s["m"][...] = mu * s["m"] + increment
            w -= s["m"]
        else:
            w -= increment
    else:
        b1, b2, eps = F32(cfg.get("beta_1", 0.9)), F32(cfg.get("beta_2", 0.999)), F32(cfg.get("epsilon", 1e-7))
        if step is None:
            alpha = lr
        else:
            t = F32(step + 1)
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        s["m"] += (g - s["m"]) * (1 - b1)
        s["v"] += (np.square(g) - s["v"]) * (1 - b2)
        v = s["v"]
        if cfg.get("amsgrad"):
            s["vh"][...] = np.maximum(s["vh"], s["v"])
            v = s["vh"]
        w -= s["m"] * alpha / (np.sqrt(v) + eps)


CONFIGS = [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.5, "nesterov": True}),
    ("adagrad", {}), ("adagrad", {"epsilon": 1e-3}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.7}), ("rmsprop", {"centered": True}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "rho": 0.8}),
    ("adam", {}), ("adam", {"amsgrad": True}), ("adam", {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-4}),
]
CONFIG_IDS = [kind + "-" + "-".join(f"{k}={v}" for k, v in cfg.items()) for kind, cfg in CONFIGS]
CLASSES = {"sgd": optimizers.SGD, "adagrad": optimizers.Adagrad, "rmsprop": optimizers.RMSprop,
           "adam": optimizers.Adam}
RTOL, ATOL = 2e-5, 1e-7  # float32 with or without FMA contraction



def initial_slots(kind, cfg, shape, rng):
    """Non-trivial starting state (as after some steps), valid for every formula."""
    s = {name: rng.uniform(0.0, 0.01, shape).astype(F32) for name in slot_names(kind, cfg)}
    for name in ("m", "c"):
        if name in s:
            s[name] = rng.uniform(-0.05, 0.05, shape).astype(F32)
    if "c" in s:
        s["v"] = (np.square(s["c"]) + s["v"]).astype(F32)
    if "vh" in s:
        s["vh"] = (s["v"] + rng.uniform(-0.005, 0.005, shape).astype(F32)).clip(0).astype(F32)
    return s


def rule(kind, cfg, lr):
    r = _kernels.UpdateRule(kind, **cfg)
    r.lr = lr
    return r


@pytest.mark.parametrize("kind,cfg", CONFIGS, ids=CONFIG_IDS)
def test_update_rule_dense_matches_keras_formula(kind, cfg, isa):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 5)).astype(F32)
    s = initial_slots(kind, cfg, w.shape, rng)
    want_w, want_s = w.copy(), {k: v.copy() for k, v in s.items()}
    r = rule(kind, cfg, 0.01)
    assert r.num_slots == len(s)
    for _ in range(4):
        g = rng.standard_normal(w.shape).astype(F32)
        r.apply_dense(w, tuple(s[n] for n in slot_names(kind, cfg)), g)
        keras_update(kind, cfg, want_w, want_s, g, 0.01)
        np.testing.assert_allclose(w, want_w, rtol=RTOL, atol=ATOL)
        for name in s:
            np.testing.assert_allclose(s[name], want_s[name], rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("kind,cfg", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("lazy", [True, False], ids=["apply_rows", "apply_all_rows"])
def test_update_rule_rows_match_keras_formula_on_the_dense_gradient(kind, cfg, lazy, isa):
    rng = np.random.default_rng(1)
    vocab, dim = 40, 6
    table = rng.standard_normal((vocab, dim)).astype(F32)
    s = initial_slots(kind, cfg, table.shape, rng)
    rows = np.array([0, 3, 4, 17, 39], np.int64)
    grads = rng.standard_normal((len(rows), dim)).astype(F32)
    want_table, want_s = table.copy(), {k: v.copy() for k, v in s.items()}
    r = rule(kind, cfg, 0.02)
    slots = tuple(s[n] for n in slot_names(kind, cfg))
    if lazy:
        r.apply_rows(table, slots, rows, grads)
        sub_s = {k: v[rows] for k, v in want_s.items()}
        sub_w = want_table[rows]
        keras_update(kind, cfg, sub_w, sub_s, grads, 0.02)
        want_table[rows] = sub_w
        for k in want_s:
            want_s[k][rows] = sub_s[k]
    else:
        r.apply_all_rows(table, slots, rows, grads)
        dense = np.zeros_like(table)
        dense[rows] = grads
        keras_update(kind, cfg, want_table, want_s, dense, 0.02)
    np.testing.assert_allclose(table, want_table, rtol=RTOL, atol=ATOL)
    for name in s:
        np.testing.assert_allclose(s[name], want_s[name], rtol=RTOL, atol=ATOL, err_msg=name)
    if lazy:  # untouched rows and their state are bit-identical
        others = np.setdiff1d(np.arange(vocab), rows)
        assert table[others].tobytes() == want_table[others].tobytes()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(CONFIGS))), st.integers(1, 60), st.integers(1, 9),
       st.data(), st.booleans())
def test_update_rule_rows_property(config_index, vocab, dim, data, lazy):
    kind, cfg = CONFIGS[config_index]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, vocab - 1), max_size=vocab))), np.int64)
    table = rng.standard_normal((vocab, dim)).astype(F32)
    s = initial_slots(kind, cfg, table.shape, rng)
    grads = rng.standard_normal((len(rows), dim)).astype(F32)
    want_table, want_s = table.copy(), {k: v.copy() for k, v in s.items()}
    dense = np.zeros_like(table)
    dense[rows] = grads
    r = rule(kind, cfg, 0.05)
    slots = tuple(s[n] for n in slot_names(kind, cfg))
    if lazy:
        r.apply_rows(table, slots, rows, grads)
        touched = np.zeros(vocab, bool)
        touched[rows] = True
        sub_w, sub_s = want_table[touched], {k: v[touched] for k, v in want_s.items()}
        keras_update(kind, cfg, sub_w, sub_s, dense[touched], 0.05)
        want_table[touched] = sub_w
        for k in want_s:
            want_s[k][touched] = sub_s[k]
    else:
        r.apply_all_rows(table, slots, rows, grads)
        keras_update(kind, cfg, want_table, want_s, dense, 0.05)
    np.testing.assert_allclose(table, want_table, rtol=RTOL, atol=ATOL)
    for name in s:
        np.testing.assert_allclose(s[name], want_s[name], rtol=RTOL, atol=ATOL, err_msg=name)


def test_update_rule_rejects_bad_arguments():
    r = rule("adam", {}, 0.1)
    table = np.zeros((5, 2), F32)
    slots = (np.zeros((5, 2), F32), np.zeros((5, 2), F32))
    grads = np.ones((2, 2), F32)
    with pytest.raises(ValueError, match="strictly increasing"):
        r.apply_rows(table, slots, np.array([3, 1]), grads)
    with pytest.raises(ValueError, match="strictly increasing"):
        r.apply_all_rows(table, slots, np.array([1, 1]), grads)
    with pytest.raises(IndexError, match=r"rows must be in \[0, 5\)"):
        r.apply_rows(table, slots, np.array([1, 5]), grads)
    with pytest.raises(IndexError, match=r"rows must be in \[0, 5\)"):
        r.apply_rows(table, slots, np.array([-1, 2]), grads)
    with pytest.raises(ValueError, match="expected 2 slot arrays, got 1"):
        r.apply_rows(table, slots[:1], np.array([1, 2]), grads)
    with pytest.raises(ValueError, match="slot 1 must have the parameter's shape"):
        r.apply_rows(table, (slots[0], np.zeros((4, 2), F32)), np.array([1, 2]), grads)
    with pytest.raises(ValueError, match=r"grads must have shape \(2, 2\), got \(3, 2\)"):
        r.apply_rows(table, slots, np.array([1, 2]), np.ones((3, 2), F32))
    with pytest.raises(ValueError, match="kind must be one of"):
        _kernels.UpdateRule("adamw")
    assert table.tobytes() == np.zeros((5, 2), F32).tobytes()  # nothing was written


@pytest.mark.parametrize("kind,cfg", [CONFIGS[2], CONFIGS[8], CONFIGS[10]], ids=[CONFIG_IDS[i] for i in (2, 8, 10)])
def test_update_rule_is_bitwise_identical_for_any_thread_count(kind, cfg):
    rng = np.random.default_rng(2)
    vocab, dim = 3000, 32  # above the kernels' parallel threshold
    rows = np.unique(rng.integers(0, vocab, 1500))
    grads = rng.standard_normal((len(rows), dim)).astype(F32)
    start = rng.standard_normal((vocab, dim)).astype(F32)
    results = []
    saved = _kernels.get_num_threads()
    try:
        for threads in (1, 2, 3):
            _kernels.set_num_threads(threads)
            for lazy in (True, False):
                table = start.copy()
                slots = tuple(v for v in initial_slots(kind, cfg, start.shape, np.random.default_rng(3)).values())
                r = rule(kind, cfg, 0.01)
                if lazy:
                    r.apply_rows(table, slots, rows, grads)
                else:
                    r.apply_all_rows(table, slots, rows, grads)
                results.append((lazy, table.tobytes() + b"".join(s.tobytes() for s in slots)))
    finally:
        _kernels.set_num_threads(saved)
    for lazy in (True, False):
        blobs = {blob for is_lazy, blob in results if is_lazy == lazy}
        assert len(blobs) == 1


# ---- the Optimizer classes over several steps: Adam's bias correction, clipping ----

@pytest.mark.parametrize("kind,cfg", CONFIGS, ids=CONFIG_IDS)
def test_optimizer_steps_match_keras_for_dense_lazy_and_dense_semantics_tables(kind, cfg):
    rng = np.random.default_rng(4)
    dense_var = Variable("kernel", rng.standard_normal((6, 3)))
    table = rng.standard_normal((20, 4)).astype(F32)
    lazy_var = Variable("lazy", table.copy(), lazy=True)
    full_var = Variable("full", table.copy())
    optimizer = CLASSES[kind](learning_rate=0.03, **cfg)
    initial = optimizer._initial_slot_value()
    refs = {}
    for var in (dense_var, lazy_var, full_var):
        refs[var.name] = (var.value.copy(), {n: np.full(var.shape, initial, F32)
                                             for n in slot_names(kind, cfg)})
    for step, rows in enumerate([[0, 2, 5], [2, 3], [7], [0, 2, 5, 19]]):
        rows = np.array(rows, np.int64)
        g_dense = rng.standard_normal(dense_var.shape).astype(F32)
        g_rows = rng.standard_normal((len(rows), 4)).astype(F32)
        dense_var.grad = g_dense
        lazy_var.grad = RowGrad(rows, g_rows)
        full_var.grad = RowGrad(rows, g_rows.copy())
        optimizer.apply_gradients([dense_var, lazy_var, full_var])
        keras_update(kind, cfg, refs["kernel"][0], refs["kernel"][1], g_dense, 0.03, step)
        full_grad = np.zeros((20, 4), F32)
        full_grad[rows] = g_rows
        keras_update(kind, cfg, refs["full"][0], refs["full"][1], full_grad, 0.03, step)
        w, s = refs["lazy"]
        sub_w, sub_s = w[rows], {k: v[rows] for k, v in s.items()}
        keras_update(kind, cfg, sub_w, sub_s, g_rows, 0.03, step)
        w[rows] = sub_w
        for k in s:
            s[k][rows] = sub_s[k]
        for var in (dense_var, lazy_var, full_var):
            np.testing.assert_allclose(var.value, refs[var.name][0], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{var.name} after step {step}")
            assert var.grad is None  # consumed
    assert optimizer.iterations == 4
    # Row 19 was touched once, at the last step: the lazy table moved it, rows 8..18 never.
    np.testing.assert_array_equal(lazy_var.value[8:19], table[8:19])


@pytest.mark.parametrize("beta_1,beta_2", [(0.9, 0.999), (0.8, 0.99), (0.95, 0.9999)])
def test_adam_rate_is_keras_float32_formula_bit_for_bit(beta_1, beta_2):
    """lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) with every operation in
    float32, as numpy's float32 scalars (and Keras) compute it."""
    for lr in (1e-3, 3e-4, 0.5):
        for t in list(range(1, 2000)) + [10**5, 10**6, 2**24 + 5]:
            step, one = F32(t), F32(1)
            want = F32(lr) * np.sqrt(one - F32(beta_2) ** step) / (one - F32(beta_1) ** step)
            assert F32(_kernels.adam_rate(F32(lr), beta_1, beta_2, t)) == want, (lr, t)


def test_learning_rate_schedule_is_called_with_the_iteration():
    seen = []

    class Schedule(optimizers.schedules.LearningRateSchedule):
        def __call__(self, iteration):
            seen.append(iteration)
            return 0.1 / (1 + iteration)

    var = Variable("w", np.zeros(3))
    optimizer = optimizers.SGD(learning_rate=Schedule())
    for _ in range(3):
        var.grad = np.ones(3, F32)
        optimizer.apply_gradients([var])
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(var.value, -(0.1 + 0.05 + 0.1 / 3), rtol=1e-6)


def test_a_plain_callable_learning_rate_is_called_without_arguments():
    rates = iter([0.1, 0.2])
    var = Variable("w", np.zeros(3))
    optimizer = optimizers.SGD(learning_rate=lambda: next(rates))
    for _ in range(2):
        var.grad = np.ones(3, F32)
        optimizer.apply_gradients([var])
    np.testing.assert_allclose(var.value, -0.3, rtol=1e-6)


def numpy_clip(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Keras's _clip_gradients / clip_by_global_norm."""
    if clipnorm:
        return [g * clipnorm / max(np.sqrt(np.sum(g.astype(np.float64) ** 2)), clipnorm) for g in grads]
    if global_clipnorm:
        norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
        return [g * global_clipnorm * min(1 / norm, 1 / global_clipnorm) for g in grads]
    return [np.clip(g, -clipvalue, clipvalue) for g in grads]


@pytest.mark.parametrize("clip", [{"clipnorm": 0.5}, {"clipnorm": 100.0}, {"clipvalue": 0.3},
                                  {"global_clipnorm": 0.7}, {"global_clipnorm": 100.0}])
def test_gradient_clipping_matches_keras_formulas(clip):
    rng = np.random.default_rng(5)
    g_kernel = rng.standard_normal((4, 3)).astype(F32)
    rows, g_rows = np.array([1, 6]), rng.standard_normal((2, 5)).astype(F32)
    dense_table_grad = np.zeros((8, 5), F32)
    dense_table_grad[rows] = g_rows
    want = numpy_clip([g_kernel, dense_table_grad], **clip)
    kernel, table = Variable("k", np.zeros((4, 3))), Variable("t", np.zeros((8, 5)), lazy=True)
    kernel.grad, table.grad = g_kernel, RowGrad(rows, g_rows)
    optimizers.SGD(learning_rate=1.0, **clip).apply_gradients([kernel, table])
    np.testing.assert_allclose(-kernel.value, want[0], rtol=1e-5)
    np.testing.assert_allclose(-table.value, want[1], rtol=1e-5, atol=1e-7)


def test_only_one_clipping_option():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


@pytest.mark.parametrize("value", [-0.1, float("nan"), "fast", True])
def test_bad_learning_rate_is_rejected(value):
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate=value)


def test_keras_default_hyper_parameters():
    for name, cls in CLASSES.items():
        k_config = keras.optimizers.get(name).get_config()
        f_config = cls().get_config()
        for key, value in f_config.items():
            if key in k_config and key != "name":
                assert value == pytest.approx(k_config[key]), (name, key)


# ---- losses -------------------------------------------------------------------------

EPS = 1e-7


def reference_loss(name, y, p):
    """Keras 3's jax-backend formulas in float64, averaged over the batch."""
    if name == "bce":
        q = np.clip(p, EPS, 1 - EPS)
        return np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q)))
    if name == "bce_logits":
        return np.mean(-y * -np.logaddexp(0, -p) - (1 - y) * -np.logaddexp(0, p))
    if name in ("cce", "scce"):
        onehot = y if name == "cce" else np.eye(p.shape[-1])[y]
        q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
        return np.mean(-(onehot * np.log(q)).sum(-1))
    if name == "cce_logits":
        shifted = p - p.max(-1, keepdims=True)
        return np.mean(-(y * (shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)))).sum(-1))
    if name == "mse":
        return np.mean((y - p) ** 2)
    return np.mean(np.abs(y - p))


LOSS_CASES = {
    "bce": lambda: losses.BinaryCrossentropy(),
    "bce_logits": lambda: losses.BinaryCrossentropy(from_logits=True),
    "cce": lambda: losses.CategoricalCrossentropy(),
    "cce_logits": lambda: losses.CategoricalCrossentropy(from_logits=True),
    "scce": lambda: losses.SparseCategoricalCrossentropy(),
    "mse": lambda: losses.MeanSquaredError(),
    "mae": lambda: losses.MeanAbsoluteError(),
}


def loss_inputs(name, rng, shape=(6, 4)):
    if name in ("bce", "bce_logits"):
        y = rng.integers(0, 2, shape).astype(F32)
        p = rng.uniform(0.05, 0.95, shape) if name == "bce" else rng.normal(0, 2, shape)
    elif name in ("cce", "cce_logits"):
        y = np.eye(shape[-1], dtype=F32)[rng.integers(0, shape[-1], shape[0])]
        p = rng.uniform(0.1, 1.0, shape) if name == "cce" else rng.normal(0, 2, shape)
        if name == "cce":
            p /= p.sum(-1, keepdims=True)
    elif name == "scce":
        y = rng.integers(0, shape[-1], shape[0])
        p = rng.uniform(0.1, 1.0, shape)
        p /= p.sum(-1, keepdims=True)
    else:
        y = rng.normal(0, 1, shape).astype(F32)
        p = rng.normal(0, 1, shape)
    return y, p.astype(F32)


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_loss_value_matches_keras_formula(name):
    y, p = loss_inputs(name, np.random.default_rng(6))
    got = LOSS_CASES[name]()(y, p)
    np.testing.assert_allclose(got, reference_loss(name, y, p.astype(np.float64)), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_loss_gradient_matches_finite_differences(name):
    y, p = loss_inputs(name, np.random.default_rng(7))
    grad = LOSS_CASES[name]().value_and_gradient(y, p)[1]
    assert grad.shape == p.shape and grad.dtype == F32
    p64, h = p.astype(np.float64), 1e-6
    numeric = np.zeros_like(p64)
    for i in np.ndindex(p.shape):
        plus, minus = p64.copy(), p64.copy()
        plus[i] += h
        minus[i] -= h
        numeric[i] = (reference_loss(name, y, plus) - reference_loss(name, y, minus)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", sorted(LOSS_CASES))
def test_training_loss_value_matches_keras_formula(name):
    """value_and_gradient's value (a loss's weighted sum, in C for bce)."""
    y, p = loss_inputs(name, np.random.default_rng(6))
    got = LOSS_CASES[name]().value_and_gradient(y, p)[0]
    np.testing.assert_allclose(got, reference_loss(name, y, p.astype(np.float64)), rtol=1e-5)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_bce_weighted_sum_kernel_matches_numpy(from_logits, label_smoothing):
    """weight * the sum of the row means and its gradient, over more rows
    than the kernel keeps on its stack at once (256)."""
    rng = np.random.default_rng(15)
    name = "bce_logits" if from_logits else "bce"
    y, p = loss_inputs(name, rng, (700, 3))
    weight = np.float32(0.37)
    total, grad = _kernels.binary_crossentropy_weighted_sum(y, p, from_logits, label_smoothing,
                                                           weight)
    t = y * (1 - label_smoothing) + 0.5 * label_smoothing
    p64 = p.astype(np.float64)
    if from_logits:
        want = -t * -np.logaddexp(0, -p64) - (1 - t) * -np.logaddexp(0, p64)
        d = 1 / (1 + np.exp(-p64)) - t
    else:
        want = -(t * np.log(p64) + (1 - t) * np.log(1 - p64))
        d = (1 - t) / (1 - p64) - t / p64
    np.testing.assert_allclose(total, weight * want.mean(-1).sum(), rtol=1e-5)
    np.testing.assert_allclose(grad, weight / 3 * d, rtol=1e-5, atol=1e-8)


def test_a_bce_subclass_with_its_own_compute_keeps_it_in_training():
    class Doubled(losses.BinaryCrossentropy):
        def compute(self, y_true, y_pred, gradient):
            values, grad = super().compute(y_true, y_pred, gradient)
            return 2 * values, None if grad is None else 2 * grad
    y, p = loss_inputs("bce", np.random.default_rng(16))
    value, grad = Doubled().value_and_gradient(y, p)
    plain_value, plain_grad = losses.BinaryCrossentropy().value_and_gradient(y, p)
    np.testing.assert_allclose(value, 2 * reference_loss("bce", y, p.astype(np.float64)),
                               rtol=1e-5)
    np.testing.assert_allclose(value, 2 * plain_value, rtol=1e-6)
    np.testing.assert_allclose(grad, 2 * plain_grad, rtol=1e-6)


@pytest.mark.parametrize("name,loss,keras_class", [
    ("binary_crossentropy", "bce", "BinaryCrossentropy"), ("mse", "mse", "MeanSquaredError"),
    ("mean_absolute_error", "mae", "MeanAbsoluteError")])
def test_losses_match_keras_on_rank_mismatched_targets(name, loss, keras_class):
    # y (batch,) against a (batch, 1) head: Keras expands y, not a (batch, batch) broadcast.
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 10).astype(F32)
    p = rng.uniform(0.05, 0.95, (10, 1)).astype(F32)
    want = float(getattr(keras.losses, keras_class)()(y, p))
    np.testing.assert_allclose(losses.get(name)(y, p), want, rtol=1e-5)
    np.testing.assert_allclose(losses.get(name)(y, p), reference_loss(loss, y[:, None], p), rtol=1e-5)


def test_bce_clipping_at_epsilon_like_keras():
    y = np.array([1.0, 0.0, 1.0], F32)
    p = np.array([0.0, 1.0, 1.0], F32)
    loss = losses.BinaryCrossentropy()
    want = float(np.mean(keras.losses.binary_crossentropy(y[:, None], p[:, None])))
    assert 10 < want < 11  # clipped, not inf
    np.testing.assert_allclose(loss(y, p), want, rtol=1e-5)
    assert np.isfinite(loss.value_and_gradient(y, p)[1]).all()
    np.testing.assert_array_equal(loss.value_and_gradient(y, p)[1][:2], 0.0)  # clipped: no gradient


@pytest.mark.parametrize("from_logits", [False, True])
def test_bce_label_smoothing_matches_keras(from_logits):
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, (8, 3)).astype(F32)
    p = (rng.normal(0, 2, (8, 3)) if from_logits else rng.uniform(0.05, 0.95, (8, 3))).astype(F32)
    loss = losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=0.2)
    want = keras.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=0.2)
    np.testing.assert_allclose(loss(y, p), float(want(y, p)), rtol=1e-5)
    # The gradient against Keras's, through jax.
    import jax
    keras_grad = jax.grad(lambda q: want(y, q))(p)
    np.testing.assert_allclose(loss.value_and_gradient(y, p)[1], keras_grad, rtol=1e-4, atol=1e-7)


def test_bce_kernel_rejects_bad_arrays_and_keeps_nan():
    y, p = np.ones((2, 3), F32), np.full((2, 3), 0.5, F32)
    with pytest.raises(TypeError, match="y_true must be a C-contiguous float32"):
        _kernels.binary_crossentropy_forward(y.astype(np.float64), p, False, 0.0)
    with pytest.raises(ValueError, match=r"one shape.*\(2, 3\) and \(3, 2\)"):
        _kernels.binary_crossentropy_backward(y, p.T.copy(), False, 0.0, 1.0)
    p[0, 1] = np.nan
    values, grad = losses.BinaryCrossentropy().value_and_gradient(y, p)
    assert np.isnan(values) and np.isnan(grad[0, 1]) and np.isfinite(np.delete(grad, 1)).all()


def test_sparse_targets_out_of_range_are_rejected():
    p = np.full((2, 3), 1 / 3, F32)
    with pytest.raises(ValueError, match=r"integer y_true in \[0, 3\)"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 3]), p)
    with pytest.raises(ValueError, match="one-hot y_true of shape"):
        losses.CategoricalCrossentropy()(np.array([0, 2]), p)


@pytest.mark.parametrize("identifier", ["mse", "MeanSquaredError", losses.mean_squared_error,
                                        {"class_name": "MeanSquaredError", "config": {}}])
def test_loss_identifiers(identifier):
    assert isinstance(losses.get(identifier), losses.MeanSquaredError)


# ---- activations ----------------------------------------------------------------------

ACTIVATIONS = ["linear", "relu", "relu6", "leaky_relu", "sigmoid", "hard_sigmoid", "tanh",
               "softmax", "log_softmax", "elu", "selu", "softplus", "softsign", "swish",
               "silu", "gelu", "exponential"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_forward_matches_keras(name):
    x = np.random.default_rng(9).normal(0, 2.5, (5, 7)).astype(F32)
    want = np.asarray(keras.activations.get(name)(x))
    np.testing.assert_allclose(activations.get(name)(x), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_finite_differences(name):
    rng = np.random.default_rng(10)
    x = rng.normal(0, 2.0, (4, 6))
    x[np.abs(x) < 0.05] = 0.3  # stay off the kinks of relu & co
    x[np.abs(np.abs(x) - 3) < 0.05] = 2.5
    x[np.abs(x - 6) < 0.05] = 5.0
    x = x.astype(F32)
    act = activations.get(name)
    r = rng.standard_normal(x.shape)
    y = act.forward(x)
    got = act.backward(x, y, r.astype(F32))
    h = 1e-3
    x64 = x.astype(np.float64)
    numeric = np.zeros_like(x64)
    for i in np.ndindex(x.shape):
        plus, minus = x64.copy(), x64.copy()
        plus[i] += h
        minus[i] -= h
        numeric[i] = (np.sum(act.forward(plus) * r) - np.sum(act.forward(minus) * r)) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=2e-3, atol=2e-3)


# ---- layer gradients --------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax", "elu",
                                        "selu", "softplus", "swish", "gelu", "leaky_relu"])
@pytest.mark.parametrize("input_shape,use_bias", [((6, 5), True), ((2, 3, 5), False)])
def test_dense_gradients(activation, input_shape, use_bias):
    rng = np.random.default_rng(11)
    layer = Dense(4, activation=activation, use_bias=use_bias)
    x = rng.standard_normal(input_shape).astype(F32)
    layer(x)
    layer.kernel.assign(rng.normal(0, 0.5, layer.kernel.shape))
    check_layer_gradients(layer, x, eps=1e-2, rtol=3e-2, atol=3e-3)


def test_dense_with_an_own_activation_named_as_a_built_in_runs_it():
    """Dense computes the built-in activations in C; an Activation of the
    user's that shares a built-in's name still runs its own functions."""
    doubled = activations.Activation("relu", lambda x: 2 * x, lambda x, y, dy: 2 * dy)
    rng = np.random.default_rng(18)
    layer = Dense(3, activation=doubled)
    x = rng.standard_normal((4, 5)).astype(F32)
    y, context = record(layer, x)
    z = x.astype(np.float64) @ layer.kernel.value + layer.bias.value
    np.testing.assert_allclose(y, 2 * z, rtol=1e-5, atol=1e-6)  # negative values kept
    assert (y < 0).any()
    dy = rng.standard_normal((4, 3)).astype(F32)
    dx = layer.backward(context, dy)
    np.testing.assert_allclose(dx, 2 * dy.astype(np.float64) @ layer.kernel.value.T, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.bias.grad, 2 * dy.sum(0), rtol=1e-5, atol=1e-6)


def test_dense_gradients_of_frozen_layer_reach_the_input_only():
    layer = Dense(3, trainable=False)
    x = np.random.default_rng(12).standard_normal((4, 5)).astype(F32)
    _, context = record(layer, x)
    grad_x = layer.backward(context, np.ones((4, 3), F32))
    np.testing.assert_allclose(grad_x, np.ones((4, 3)) @ layer.kernel.value.T, rtol=1e-6)
    assert layer.kernel.grad is None and layer.trainable_weights == []


@pytest.mark.parametrize("indices", [np.array([[1, 4, 4], [0, 4, 9]]), np.array([3, 3, 3, 3])])
def test_embedding_gradient(indices):
    layer = Embedding(10, 3)
    layer(indices)
    check_layer_gradients(layer, indices, check_input=False)
    # Duplicates summed: row 4 of the first case gets the gradient of every position holding 4.
    grad = np.random.default_rng(13).standard_normal(indices.shape + (3,)).astype(F32)
    layer.embeddings.grad = None  # backward adds into grad
    _, context = record(layer, indices)
    layer.backward(context, grad)
    dense = np.zeros((10, 3))
    np.add.at(dense, indices, grad)
    row_grad = layer.embeddings.grad
    np.testing.assert_array_equal(row_grad.rows, np.unique(indices))
    np.testing.assert_allclose(row_grad.values, dense[np.unique(indices)], rtol=1e-6)


# ---- metrics ----------------------------------------------------------------------------

@pytest.mark.parametrize("targets", ["float32", "float64", "int64", "bool", "column"])
def test_binary_accuracy_counts_as_numpy_on_any_target_dtype(targets):
    rng = np.random.default_rng(17)
    p = rng.uniform(0, 1, (50, 3)).astype(F32)
    p[3, 1] = np.nan  # never a hit: nan > 0.5 is False, and y is 1 there
    y = (rng.uniform(0, 1, (50, 3)) > 0.5).astype(np.float64)
    y[3, 1] = 1
    if targets in ("float32", "float64", "column"):
        y[7, 0] = 0.5  # a non-binary target never matches
    want_hits = y == (p > 0.5)
    if targets == "column":  # (batch,) targets against a (batch, 1) head
        p, y, want_hits = p[:, :1].copy(), y[:, 0], want_hits[:, :1]
    else:
        y = y.astype(targets)
    metric = metrics.BinaryAccuracy()
    metric.update_state(y[:20], p[:20])
    metric.update_state(y[20:], p[20:])
    np.testing.assert_allclose(metric.result(), want_hits.mean(), rtol=1e-6)
    assert _kernels.binary_accuracy_hits(np.ascontiguousarray(y, F32).reshape(p.shape), p,
                                         0.5) == want_hits.sum()


def test_accuracy_metrics_match_numpy():
    rng = np.random.default_rng(14)
    p_binary = rng.uniform(0, 1, (20, 1)).astype(F32)
    y_binary = rng.integers(0, 2, 20).astype(F32)
    p_classes = rng.uniform(0, 1, (20, 4)).astype(F32)
    y_sparse = rng.integers(0, 4, 20)
    cases = [
        ("accuracy", y_binary, p_binary, np.mean((p_binary[:, 0] > 0.5) == y_binary), "BinaryAccuracy"),
        ("accuracy", y_sparse, p_classes, np.mean(p_classes.argmax(-1) == y_sparse), "SparseCategoricalAccuracy"),
        ("accuracy", y_sparse[:, None], p_classes, np.mean(p_classes.argmax(-1) == y_sparse),
         "SparseCategoricalAccuracy"),
        ("acc", np.eye(4)[y_sparse], p_classes, np.mean(p_classes.argmax(-1) == y_sparse), "CategoricalAccuracy"),
    ]
    for name, y, p, want, cls in cases:
        metric = metrics.get(name, y.shape, p.shape)
        assert type(metric).__name__ == cls and metric.name == name
        metric.update_state(y[:7], p[:7])  # uneven batches: a sample-weighted mean
        metric.update_state(y[7:], p[7:])
        np.testing.assert_allclose(metric.result(), want, rtol=1e-7)
        metric.reset_state()
        assert metric.result() == 0.0
