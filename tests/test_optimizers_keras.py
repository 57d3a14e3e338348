"""The optimizers added for issue 16 (AdamW, Nadam, Adamax, Adadelta, Ftrl,
Lion; weight_decay and use_ema on every optimizer) and the learning-rate
schedules, against real Keras 3 (jax) and against numpy references of
Keras's update_step for the lazy row-wise path of Embedding(sparse=True)."""
import keras
import numpy as np
import pytest

from fastembed import optimizers
from fastembed.engine import RowGrad, Variable
from fastembed.layers import Dense, Embedding, Flatten
from fastembed.models import Sequential
from fastembed.optimizers import schedules
from fastembed.utils import set_random_seed
from test_keras_equivalence import assert_histories_match, fit_both, make_data, twin_models

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
F32 = np.float32

# name -> (class name, arguments), each trains visibly in 3 epochs.
OPTIMIZERS = {
    "adamw": ("AdamW", {"learning_rate": 0.01}),
    "adamw-decay-amsgrad": ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1,
                                      "amsgrad": True}),
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "adamax": ("Adamax", {"learning_rate": 0.02}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
    "ftrl": ("Ftrl", {"learning_rate": 3.0}),
    "ftrl-regularized": ("Ftrl", {"learning_rate": 3.0, "l1_regularization_strength": 1e-4,
                                  "l2_regularization_strength": 1e-3,
                                  "l2_shrinkage_regularization_strength": 1e-3, "beta": 0.1,
                                  "learning_rate_power": -0.6}),
    "lion": ("Lion", {"learning_rate": 0.001}),
    "sgd-weight-decay": ("SGD", {"learning_rate": 0.3, "momentum": 0.5, "weight_decay": 0.05}),
    "adam-ema": ("Adam", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.9}),
    "rmsprop-ema-overwrite": ("RMSprop", {"learning_rate": 0.003, "use_ema": True,
                                          "ema_momentum": 0.8, "ema_overwrite_frequency": 5}),
    "adagrad-weight-decay": ("Adagrad", {"learning_rate": 0.1, "weight_decay": 0.01}),
}

# name -> (class name, arguments): every schedule, with rates that train.
SCHEDULES = {
    "exponential": ("ExponentialDecay", {"initial_learning_rate": 0.02, "decay_steps": 7,
                                         "decay_rate": 0.8}),
    "exponential-staircase": ("ExponentialDecay", {"initial_learning_rate": 0.02,
                                                   "decay_steps": 7, "decay_rate": 0.8,
                                                   "staircase": True}),
    "piecewise": ("PiecewiseConstantDecay", {"boundaries": [10, 30], "values": [0.02, 0.01, 0.003]}),
    "polynomial": ("PolynomialDecay", {"initial_learning_rate": 0.02, "decay_steps": 40,
                                       "end_learning_rate": 0.001, "power": 2.0}),
    "polynomial-cycle": ("PolynomialDecay", {"initial_learning_rate": 0.02, "decay_steps": 9,
                                             "cycle": True}),
    "inverse-time": ("InverseTimeDecay", {"initial_learning_rate": 0.02, "decay_steps": 5,
                                          "decay_rate": 0.5}),
    "inverse-time-staircase": ("InverseTimeDecay", {"initial_learning_rate": 0.02,
                                                    "decay_steps": 5, "decay_rate": 0.5,
                                                    "staircase": True}),
    "cosine": ("CosineDecay", {"initial_learning_rate": 0.02, "decay_steps": 30, "alpha": 0.1}),
    "cosine-warmup": ("CosineDecay", {"initial_learning_rate": 0.001, "decay_steps": 30, "alpha": 0.1,
                                      "warmup_target": 0.02, "warmup_steps": 8}),
    "cosine-restarts": ("CosineDecayRestarts", {"initial_learning_rate": 0.02,
                                                "first_decay_steps": 6, "t_mul": 2.0,
                                                "m_mul": 0.7, "alpha": 0.05}),
    "cosine-restarts-flat": ("CosineDecayRestarts", {"initial_learning_rate": 0.02,
                                                     "first_decay_steps": 6, "t_mul": 1.0}),
}


def pair(name, table):
    class_name, kwargs = table[name]
    return (getattr(keras.optimizers if table is OPTIMIZERS else keras.optimizers.schedules,
                    class_name)(**kwargs),
            getattr(optimizers if table is OPTIMIZERS else schedules, class_name)(**kwargs))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fit_history_matches_keras_for_each_optimizer(name):
    km, fm = twin_models()
    x, y = make_data("binary")
    kh, fh = fit_both(km, fm, *pair(name, OPTIMIZERS), "binary_crossentropy", x, y,
                      metrics=["accuracy"])
    assert_histories_match(kh, fh, ["loss", "accuracy"])
    for kw, fw in zip(km.get_weights(), fm.get_weights()):
        np.testing.assert_allclose(fw, kw, rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("name", ["adamw", "nadam", "adamax", "adadelta", "ftrl", "lion"])
@pytest.mark.parametrize("schedule", ["exponential", "cosine-warmup"])
def test_fit_history_matches_keras_for_each_optimizer_with_a_schedule(name, schedule):
    class_name, kwargs = OPTIMIZERS[name]
    k_schedule, f_schedule = pair(schedule, SCHEDULES)
    if name in ("adadelta", "ftrl"):  # these need larger rates to train
        scale = 50.0 if name == "adadelta" else 150.0
        k_schedule, f_schedule = (type(s)(**{**SCHEDULES[schedule][1], **{
            k: v * scale for k, v in SCHEDULES[schedule][1].items()
            if k in ("initial_learning_rate", "warmup_target")}}) for s in (k_schedule, f_schedule))
    kwargs = {k: v for k, v in kwargs.items() if k != "learning_rate"}
    km, fm = twin_models()
    x, y = make_data("binary")
    kh, fh = fit_both(km, fm, getattr(keras.optimizers, class_name)(**{**kwargs, "learning_rate": k_schedule}),
                      getattr(optimizers, class_name)(**{**kwargs, "learning_rate": f_schedule}),
                      "binary_crossentropy", x, y, metrics=["accuracy"])
    assert_histories_match(kh, fh, ["loss", "accuracy"])


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_values_match_keras(name):
    k_schedule, f_schedule = pair(name, SCHEDULES)
    steps = range(0, 80)
    want = np.array([float(k_schedule(step)) for step in steps], F32)
    got = np.array([f_schedule(step) for step in steps], F32)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-9)
    assert len(set(want.tolist())) > 2, "the schedule must vary over the steps compared"


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_config_round_trips_through_the_optimizer(name):
    _, f_schedule = pair(name, SCHEDULES)
    optimizer = optimizers.Adam(learning_rate=f_schedule)
    config = optimizers.serialize(optimizer)
    assert config["config"]["learning_rate"]["class_name"] == type(f_schedule).__name__
    restored = optimizers.get(config)
    assert [restored._learning_rate(s) for s in (0, 7, 50)] == [f_schedule(s) for s in (0, 7, 50)]
    # and Keras reads the schedule's config as its own
    k_schedule = keras.optimizers.schedules.deserialize(schedules.serialize(f_schedule))
    np.testing.assert_allclose(float(k_schedule(7)), f_schedule(7), rtol=2e-6)


def test_sgd_with_a_zero_argument_callable_matches_keras():
    km, fm = twin_models()
    x, y = make_data("binary")
    kh, fh = fit_both(km, fm, keras.optimizers.SGD(learning_rate=lambda: 0.3),
                      optimizers.SGD(learning_rate=lambda: 0.3), "binary_crossentropy", x, y)
    assert_histories_match(kh, fh, ["loss"])


@pytest.mark.parametrize("bad", [float("nan"), -0.1, float("inf")])
def test_a_schedule_giving_nan_or_a_negative_rate_stops_before_training(bad):
    class Bad(schedules.LearningRateSchedule):
        def __call__(self, step):
            return bad

    _, fm = twin_models()
    x, y = make_data("binary")
    fm.compile(optimizer=optimizers.Adam(learning_rate=Bad()), loss="binary_crossentropy")
    before = fm.get_weights()
    with pytest.raises(ValueError, match="must be a finite non-negative number"):
        fm.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, fm.get_weights()):
        assert a.tobytes() == b.tobytes()


def test_a_learning_rate_schedule_cannot_be_replaced_as_in_keras():
    optimizer = optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(TypeError, match="not settable"):
        optimizer.learning_rate = 0.01
    assert optimizer.learning_rate == pytest.approx(0.1)  # the schedule's current value


@pytest.mark.parametrize("cls,kwargs,match", [
    (schedules.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": 0,
                                  "decay_rate": 0.9}, "decay_steps"),
    (schedules.PiecewiseConstantDecay, {"boundaries": [1, 2], "values": [0.1]}, "boundaries"),
    (optimizers.Ftrl, {"learning_rate_power": 0.5}, "learning_rate_power"),
    (optimizers.Ftrl, {"l1_regularization_strength": -1.0}, "l1_regularization_strength"),
    (optimizers.Lion, {"beta_1": 0.0}, "beta_1"),
    (optimizers.Adam, {"ema_momentum": 1.5}, "ema_momentum"),
    (optimizers.SGD, {"weight_decay": -0.1}, "weight_decay"),
    (optimizers.AdamW, {"weight_decay": None}, "weight_decay"),
])
def test_bad_arguments_are_clear_errors(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


# ---- the lazy path (Embedding(sparse=True)) against numpy references ----------

def numpy_update(name, kwargs, w, s, g, lr, step, u_product):
    """One Keras 3 update_step in numpy float32, on w and slots s (in place);
    weight decay first as Keras's _apply_weight_decay. Returns u_product."""
    lr = F32(lr)
    if kwargs.get("weight_decay"):
        w -= w * F32(kwargs["weight_decay"]) * lr
    b1, b2 = F32(kwargs.get("beta_1", 0.9)), F32(kwargs.get("beta_2", 0.999))
    eps, t = F32(kwargs.get("epsilon", 1e-7)), F32(step + 1)
    if name in ("adamw", "adam"):
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        s[0] += (g - s[0]) * (1 - b1)
        s[1] += (np.square(g) - s[1]) * (1 - b2)
        w -= (s[0] * alpha) / (np.sqrt(s[1]) + eps)
    elif name == "nadam":
        u_t = b1 * (1 - F32(0.5) * F32(0.96) ** t)
        u_t_1 = b1 * (1 - F32(0.5) * F32(0.96) ** F32(step + 2))
        u_product = u_product * b1 * (1 - F32(0.5) * F32(0.96) ** t)
        s[0] += (g - s[0]) * (1 - b1)
        s[1] += (np.square(g) - s[1]) * (1 - b2)
        m_hat = u_t_1 * s[0] / (1 - u_product * u_t_1) + (1 - u_t) * g / (1 - u_product)
        w -= m_hat * lr / (np.sqrt(s[1] / (1 - b2 ** t)) + eps)
    elif name == "adamax":
        s[0] += (g - s[0]) * (1 - b1)
        s[1][...] = np.maximum(b2 * s[1], np.abs(g))
        w -= lr * s[0] / ((1 - b1 ** t) * (s[1] + eps))
    elif name == "adadelta":
        rho = F32(kwargs.get("rho", 0.95))
        s[0][...] = rho * s[0] + (1 - rho) * np.square(g)
        delta = -np.sqrt(s[1] + eps) * g / np.sqrt(s[0] + eps)
        s[1][...] = rho * s[1] + (1 - rho) * np.square(delta)
        w += lr * delta
    elif name == "ftrl":
        power = F32(kwargs.get("learning_rate_power", -0.5))
        l1 = F32(kwargs.get("l1_regularization_strength", 0.0))
        l2 = F32(kwargs.get("l2_regularization_strength", 0.0)) + \
            F32(kwargs.get("beta", 0.0)) / (2 * lr)
        shrink = F32(kwargs.get("l2_shrinkage_regularization_strength", 0.0))
        new_accum = s[0] + np.square(g)
        s[1] += g + 2 * shrink * w - (new_accum ** -power - s[0] ** -power) / lr * w
        quadratic = new_accum ** -power / lr + 2 * l2
        w[...] = (np.clip(s[1], -l1, l1) - s[1]) / quadratic
        s[0][...] = new_accum
    elif name == "lion":
        b2 = F32(kwargs.get("beta_2", 0.99))
        w -= lr * np.sign(s[0] * b1 + g * (1 - b1))
        s[0][...] = s[0] * b2 + g * (1 - b2)
    return u_product


LAZY = {
    "adamw": (optimizers.AdamW, {"weight_decay": 0.1}),
    "nadam": (optimizers.Nadam, {}),
    "adamax": (optimizers.Adamax, {}),
    "adadelta": (optimizers.Adadelta, {"rho": 0.9}),
    "ftrl": (optimizers.Ftrl, {"initial_accumulator_value": 0.2}),
    "ftrl-regularized": (optimizers.Ftrl, {"l1_regularization_strength": 0.01,
                                           "l2_regularization_strength": 0.1, "beta": 0.5,
                                           "l2_shrinkage_regularization_strength": 0.05,
                                           "learning_rate_power": -0.7}),
    "lion": (optimizers.Lion, {}),
}


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_and_dense_semantics_rows_match_numpy_references(name):
    cls, kwargs = LAZY[name]
    rng = np.random.default_rng(5)
    table = rng.standard_normal((20, 4)).astype(F32)
    lazy_var = Variable("lazy", table.copy(), lazy=True)
    full_var = Variable("full", table.copy())
    dense_var = Variable("kernel", rng.standard_normal((6, 3)))
    optimizer = cls(learning_rate=0.05, **kwargs)
    first = kwargs.get("initial_accumulator_value", 0.1) if cls is optimizers.Ftrl else 0.0
    n_slots = 1 if cls is optimizers.Lion else 2

    def fresh(shape):
        return [np.full(shape, first if k == 0 else 0.0, F32) for k in range(n_slots)]

    refs = {v.name: (v.value.copy(), fresh(v.shape)) for v in (lazy_var, full_var, dense_var)}
    u_product = {k: F32(1) for k in refs}
    key = name.split("-")[0]
    for step, rows in enumerate([[0, 2, 5], [2, 3], [7], [0, 2, 5, 19], [3]]):
        rows = np.array(rows, np.int64)
        g_rows = rng.standard_normal((len(rows), 4)).astype(F32)
        g_dense = rng.standard_normal((6, 3)).astype(F32)
        lazy_var.grad = RowGrad(rows, g_rows)
        full_var.grad = RowGrad(rows, g_rows.copy())
        dense_var.grad = g_dense
        optimizer.apply_gradients([lazy_var, full_var, dense_var])
        # lazy: Keras's update on the touched rows alone
        w, s = refs["lazy"]
        sub_w, sub_s = w[rows], [slot[rows] for slot in s]
        u_product["lazy"] = numpy_update(key, kwargs, sub_w, sub_s, g_rows, 0.05, step,
                                         u_product["lazy"])
        w[rows] = sub_w
        for slot, sub in zip(s, sub_s):
            slot[rows] = sub
        # dense semantics: the whole table with zero gradient elsewhere
        full_grad = np.zeros((20, 4), F32)
        full_grad[rows] = g_rows
        w, s = refs["full"]
        u_product["full"] = numpy_update(key, kwargs, w, s, full_grad, 0.05, step, u_product["full"])
        w, s = refs["kernel"]
        u_product["kernel"] = numpy_update(key, kwargs, w, s, g_dense, 0.05, step,
                                           u_product["kernel"])
        for var in (lazy_var, full_var, dense_var):
            np.testing.assert_allclose(var.value, refs[var.name][0], rtol=2e-5, atol=2e-6,
                                       err_msg=f"{var.name} after step {step}")
            for got, want in zip(optimizer.slots_for(var), refs[var.name][1]):
                np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    untouched = np.setdiff1d(np.arange(20), [0, 2, 3, 5, 7, 19])
    assert lazy_var.value[untouched].tobytes() == table[untouched].tobytes()


def test_sparse_embedding_model_trains_with_each_new_optimizer():
    x, y = make_data("binary")
    rates = {optimizers.Ftrl: 3.0, optimizers.Adadelta: 1.0}
    # (the regularised Ftrl of LAZY is meant to hold the weights near zero)
    for cls, kwargs in (LAZY[name] for name in LAZY if name != "ftrl-regularized"):
        set_random_seed(0)
        model = Sequential([Embedding(1000, 8, sparse=True), Flatten(), Dense(1, "sigmoid")])
        model.compile(optimizer=cls(learning_rate=rates.get(cls, 0.05), **kwargs),
                      loss="binary_crossentropy")
        history = model.fit(x, y, epochs=3, batch_size=32, shuffle=False,
                            verbose=0).history["loss"]
        assert np.all(np.isfinite(history)) and history[-1] < history[0], cls.__name__
