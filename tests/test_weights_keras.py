"""sample_weight, class_weight, weighted metrics, regularizers and
constraints against real Keras 3 (jax backend): the same model with the
same weights gives the same 3-epoch histories and evaluations."""
import keras
import numpy as np
import pytest

import fastembed
from fastembed import constraints, regularizers

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

VOCAB, DIM, LENGTH, SAMPLES = 200, 8, 6, 150  # 150 = 4 full batches of 32 + one of 22


def data(kind="binary", seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, size=(SAMPLES, LENGTH)).astype(np.int32)
    if kind == "binary":
        return x, (x[:, 0] < VOCAB // 2).astype(np.float32)
    if kind == "sparse":
        return x, (x[:, 0] * 3 // VOCAB).astype(np.int32)
    if kind == "temporal":  # a label per step
        return x, (x < VOCAB // 2).astype(np.float32)[..., None]
    raise ValueError(kind)


def twins(build, seed=0):
    """(keras model, fastembed model) from build(library), Keras's initial
    weights copied into fastembed."""
    keras.utils.set_random_seed(seed)
    km, fm = build(keras), build(fastembed)
    fm.set_weights(km.get_weights())
    return km, fm


def classifier(units=1, activation="sigmoid", embedding={}, dense={}, lstm=None, conv=None):
    def build(lib):
        layers = [lib.layers.Embedding(VOCAB, DIM, **embedding)]
        if conv is not None:
            layers.append(lib.layers.Conv1D(4, 3, activation="relu", **conv))
        if lstm is None:
            layers.append(lib.layers.Flatten())
        else:
            layers.append(lib.layers.LSTM(5, **lstm))
        layers.append(lib.layers.Dense(units, activation=activation, **dense))
        return lib.Sequential([lib.Input((LENGTH,), dtype="int32")] + layers)
    return build


def temporal_tagger(lib):
    return lib.Sequential([lib.Input((LENGTH,), dtype="int32"),
                           lib.layers.Embedding(VOCAB, DIM),
                           lib.layers.LSTM(5, return_sequences=True),
                           lib.layers.Dense(1, activation="sigmoid")])


def fit_both(km, fm, x, y, compile_args, **fit_args):
    fit_args = {"epochs": 3, "batch_size": 32, "shuffle": False, "verbose": 0, **fit_args}
    km.compile(**compile_args)
    fm.compile(**compile_args)
    return km.fit(x, y, **fit_args).history, fm.fit(x, y, **fit_args).history


def assert_same_history(kh, fh, rtol=1e-4):
    assert sorted(fh) == sorted(kh)
    assert fh["loss"][-1] < fh["loss"][0], "not training: the match would be vacuous"
    for key in kh:
        np.testing.assert_allclose(fh[key], kh[key], rtol=rtol, atol=1e-7, err_msg=key)


def sample_weights(shape, seed=1):
    return np.random.default_rng(seed).uniform(0.0, 3.0, shape).astype(np.float32)


BINARY = {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]}


# ---- sample weights ----------------------------------------------------------
def test_sample_weight_fit_history_matches_keras():
    x, y = data()
    km, fm = twins(classifier())
    kh, fh = fit_both(km, fm, x, y, {**BINARY, "weighted_metrics": ["accuracy"]},
                      sample_weight=sample_weights(SAMPLES))
    assert "weighted_accuracy" in fh
    assert_same_history(kh, fh)
    np.testing.assert_allclose(fm.get_weights()[2], km.get_weights()[2], rtol=1e-4, atol=1e-6)


def test_sample_weight_is_not_a_mean_over_the_weights():
    """Keras's sum_over_batch_size divides by the batch, not the weight sum:
    doubling every weight doubles the loss."""
    x, y = data()
    _, fm = twins(classifier())
    fm.compile(**BINARY)
    weights = sample_weights(SAMPLES)
    once = fm.evaluate(x, y, sample_weight=weights, verbose=0)[0]
    twice = fm.evaluate(x, y, sample_weight=2 * weights, verbose=0)[0]
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-6)


def test_temporal_sample_weight_matches_keras():
    x, y = data("temporal")
    km, fm = twins(temporal_tagger)
    weights = sample_weights((SAMPLES, LENGTH))
    kh, fh = fit_both(km, fm, x, y, {**BINARY, "weighted_metrics": ["accuracy"]},
                      sample_weight=weights)
    assert_same_history(kh, fh)
    np.testing.assert_allclose(fm.evaluate(x, y, sample_weight=weights, verbose=0),
                               km.evaluate(x, y, sample_weight=weights, verbose=0), rtol=1e-4)


def test_temporal_sample_weight_with_a_mask_matches_keras():
    """Keras merges the mask into the weights: sum(loss * w * mask) / valid."""
    x, y = data("temporal")
    x[::3, 4:] = 0  # padding, masked by mask_zero
    weights = sample_weights((SAMPLES, LENGTH))

    def build(lib):
        return lib.Sequential([lib.Input((LENGTH,), dtype="int32"),
                               lib.layers.Embedding(VOCAB, DIM, mask_zero=True),
                               lib.layers.LSTM(5, return_sequences=True),
                               lib.layers.Dense(1, activation="sigmoid")])
    km, fm = twins(build)
    kh, fh = fit_both(km, fm, x, y, {**BINARY, "weighted_metrics": ["accuracy"]},
                      sample_weight=weights)
    # Keras's jax train step leaves the mask out of its metrics (its evaluate
    # does not; fastembed masks both): the loss and evaluate are compared.
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-4)
    np.testing.assert_allclose(fm.evaluate(x, y, sample_weight=weights, verbose=0),
                               km.evaluate(x, y, sample_weight=weights, verbose=0), rtol=1e-4)


def test_class_weight_matches_keras():
    x, y = data("sparse")
    km, fm = twins(classifier(3, "softmax"))
    kh, fh = fit_both(km, fm, x, y, {"optimizer": "rmsprop",
                                     "loss": "sparse_categorical_crossentropy",
                                     "metrics": ["accuracy"]},
                      class_weight={0: 0.5, 2: 4.0})
    assert_same_history(kh, fh)


def test_class_weight_of_a_binary_output_matches_keras():
    x, y = data()
    km, fm = twins(classifier())
    kh, fh = fit_both(km, fm, x, y, {**BINARY, "weighted_metrics": ["accuracy"]},
                      class_weight={1: 3.0})
    assert_same_history(kh, fh)


def test_validation_split_holds_out_the_weights_with_the_samples_like_keras():
    x, y = data()
    km, fm = twins(classifier())
    kh, fh = fit_both(km, fm, x, y, {**BINARY, "weighted_metrics": ["accuracy"]},
                      sample_weight=sample_weights(SAMPLES), validation_split=0.2)
    assert "val_weighted_accuracy" in fh
    assert_same_history(kh, fh)


def test_validation_data_with_sample_weight_matches_keras():
    x, y = data()
    vx, vy = data(seed=5)
    validation = (vx, vy, sample_weights(SAMPLES, seed=7))
    km, fm = twins(classifier())
    kh, fh = fit_both(km, fm, x, y, {**BINARY, "weighted_metrics": ["accuracy"]},
                      validation_data=validation)
    assert "val_loss" in fh
    assert_same_history(kh, fh)


def test_evaluate_and_batch_methods_take_sample_weight_like_keras():
    x, y = data()
    weights = sample_weights(SAMPLES)
    km, fm = twins(classifier())
    for model in (km, fm):
        model.compile(**BINARY, weighted_metrics=["accuracy"])
    np.testing.assert_allclose(fm.evaluate(x, y, sample_weight=weights, verbose=0),
                               km.evaluate(x, y, sample_weight=weights, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(fm.test_on_batch(x[:40], y[:40], sample_weight=weights[:40]),
                               km.test_on_batch(x[:40], y[:40], sample_weight=weights[:40]),
                               rtol=1e-5)
    for _ in range(3):
        k_logs = km.train_on_batch(x[:40], y[:40], sample_weight=weights[:40], return_dict=True)
        f_logs = fm.train_on_batch(x[:40], y[:40], sample_weight=weights[:40], return_dict=True)
    assert sorted(f_logs) == sorted(k_logs)
    for key in k_logs:
        np.testing.assert_allclose(f_logs[key], float(k_logs[key]), rtol=1e-4, err_msg=key)


def two_outputs(lib):
    ids = lib.Input((LENGTH,), dtype="int32", name="ids")
    hidden = lib.layers.Flatten()(lib.layers.Embedding(VOCAB, DIM)(ids))
    first = lib.layers.Dense(1, activation="sigmoid", name="first")(hidden)
    second = lib.layers.Dense(3, activation="softmax", name="second")(hidden)
    return lib.Model(ids, [first, second])


TWO_OUTPUT_COMPILE = {"optimizer": "adam",
                      "loss": ["binary_crossentropy", "sparse_categorical_crossentropy"],
                      "loss_weights": [1.0, 0.5]}


@pytest.mark.parametrize("form", ["list", "one array"])
def test_multi_output_sample_weight_matches_keras(form):
    x, y = data()
    _, classes = data("sparse")
    w1, w2 = sample_weights(SAMPLES, 1), sample_weights(SAMPLES, 2)
    km, fm = twins(two_outputs)
    kh, fh = fit_both(km, fm, x, [y, classes], TWO_OUTPUT_COMPILE,
                      sample_weight=[w1, w2] if form == "list" else w1)
    assert_same_history(kh, fh)


def test_multi_output_sample_weight_dict_is_the_list_by_output_name():
    """(Keras 3.15 fails on a dict here with list outputs; fastembed keys it by name.)"""
    x, y = data()
    _, classes = data("sparse")
    w1, w2 = sample_weights(SAMPLES, 1), sample_weights(SAMPLES, 2)
    histories = []
    for weights in ([w1, w2], {"second": w2, "first": w1}):
        _, fm = twins(two_outputs)
        fm.compile(**TWO_OUTPUT_COMPILE)
        histories.append(fm.fit(x, [y, classes], sample_weight=weights, epochs=2,
                                shuffle=False, verbose=0).history)
    assert histories[0] == histories[1]
    _, fm = twins(two_outputs)
    fm.compile(**TWO_OUTPUT_COMPILE)
    with pytest.raises(ValueError, match="not output names"):
        fm.fit(x, [y, classes], sample_weight={"third": w1}, verbose=0)


# ---- regularizers and constraints ----------------------------------------------
REGULARIZED = {
    "embedding l2": classifier(embedding={"embeddings_regularizer": "l2"}),
    "embedding l1": classifier(embedding={"embeddings_regularizer": "l1"}),
    "dense l1_l2": classifier(dense={"kernel_regularizer": {"class_name": "L1L2", "config": {
        "l1": 0.001, "l2": 0.01}}, "bias_regularizer": "l1"}),
    "dense activity": classifier(dense={"activity_regularizer": "l2"}),
    "embedding orthogonal": classifier(embedding={
        "embeddings_regularizer": {"class_name": "OrthogonalRegularizer",
                                   "config": {"factor": 0.5, "mode": "rows"}}}),
    "lstm kernel+recurrent+bias": classifier(lstm={
        "kernel_regularizer": "l2", "recurrent_regularizer": "l1", "bias_regularizer": "l2"}),
    "lstm activity": classifier(lstm={"activity_regularizer": "l1"}),
    "conv1d l2 + max_norm": classifier(conv={"kernel_regularizer": "l2",
                                             "bias_regularizer": "l1",
                                             "kernel_constraint": "max_norm"}),
    "embedding max_norm": classifier(embedding={"embeddings_constraint": "max_norm"}),
    "embedding unit_norm rows": classifier(embedding={"embeddings_constraint": "unit_norm"}),
    "dense non_neg": classifier(dense={"kernel_constraint": "non_neg"}),
    "dense min_max_norm": classifier(dense={"kernel_constraint": "min_max_norm",
                                            "bias_constraint": "max_norm"}),
    "lstm max_norm": classifier(lstm={"kernel_constraint": "max_norm",
                                      "recurrent_constraint": "unit_norm",
                                      "bias_constraint": "non_neg"}),
}


@pytest.mark.parametrize("case", sorted(REGULARIZED))
def test_regularizer_or_constraint_matches_keras(case):
    x, y = data()
    vx, vy = data(seed=3)
    km, fm = twins(REGULARIZED[case])
    kh, fh = fit_both(km, fm, x, y, BINARY, validation_data=(vx, vy))
    assert_same_history(kh, fh)
    for f_weight, k_weight in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(f_weight, k_weight, rtol=1e-3, atol=1e-5)


def test_regularizer_penalty_is_in_the_reported_loss():
    x, y = data()
    _, plain = twins(classifier())
    _, penalised = twins(classifier(embedding={"embeddings_regularizer": regularizers.L2(0.1)}))
    for model in (plain, penalised):
        model.compile(**BINARY)
    table = penalised.layers[0].embeddings.value
    expected = plain.evaluate(x, y, verbose=0)[0] + 0.1 * float(np.square(table).sum())
    np.testing.assert_allclose(penalised.evaluate(x, y, verbose=0)[0], expected, rtol=1e-5)


def test_sparse_embedding_regularizer_and_constraint_touch_only_the_batch_rows():
    x, y = data()
    model = fastembed.Sequential([
        fastembed.Input((LENGTH,), dtype="int32"),
        fastembed.layers.Embedding(VOCAB, DIM, sparse=True, embeddings_regularizer="l2",
                                   embeddings_constraint=constraints.MaxNorm(0.01, axis=1)),
        fastembed.layers.Flatten(), fastembed.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    table = model.layers[0].embeddings.value
    before = table.copy()
    model.train_on_batch(x[:4], y[:4])
    touched = np.unique(x[:4])
    untouched = np.setdiff1d(np.arange(VOCAB), touched)
    np.testing.assert_array_equal(table[untouched], before[untouched])
    assert (np.linalg.norm(table[touched], axis=1) <= 0.01 + 1e-6).all()
    assert (np.linalg.norm(before[touched], axis=1) > 0.011).all()  # the constraint acted


def test_sparse_embedding_rejects_a_column_constraint():
    with pytest.raises(ValueError, match="axis=1"):
        fastembed.Sequential([fastembed.Input((LENGTH,), dtype="int32"),
                              fastembed.layers.Embedding(VOCAB, DIM, sparse=True,
                                                         embeddings_constraint="max_norm")])


def test_regularizers_and_constraints_round_trip_through_config():
    layer = fastembed.layers.Dense(3, kernel_regularizer=regularizers.L1L2(0.1, 0.2),
                                   kernel_constraint=constraints.MaxNorm(1.5, axis=1),
                                   activity_regularizer="l1")
    clone = fastembed.layers.Dense.from_config(layer.get_config())
    assert clone.kernel_regularizer.get_config() == {"l1": 0.1, "l2": 0.2}
    assert clone.kernel_constraint.get_config() == {"max_value": 1.5, "axis": 1}
    assert clone.activity_regularizer.get_config() == {"l1": 0.01}
    k_config = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L1L2(0.1, 0.2)) \
        .get_config()["kernel_regularizer"]
    assert k_config["class_name"] == "L1L2" and k_config["config"] == {"l1": 0.1, "l2": 0.2}


@pytest.mark.parametrize("cls,k_cls,w", [
    ("MaxNorm", "MaxNorm", np.linspace(-2, 3, 12).reshape(3, 4)),
    ("UnitNorm", "UnitNorm", np.linspace(-2, 3, 12).reshape(3, 4)),
    ("MinMaxNorm", "MinMaxNorm", np.linspace(-0.2, 0.3, 12).reshape(3, 4)),
    ("NonNeg", "NonNeg", np.linspace(-2, 3, 12).reshape(3, 4))])
def test_constraints_match_keras(cls, k_cls, w):
    w = w.astype(np.float32)
    np.testing.assert_allclose(constraints.get(cls)(w),
                               np.asarray(keras.constraints.get(k_cls)(w)), rtol=1e-6)


@pytest.mark.parametrize("name", ["l1", "l2", "l1_l2", "L1L2", "orthogonal rows",
                                  "orthogonal columns"])
def test_regularizer_values_and_gradients_match_keras(name):
    import jax
    w = np.random.default_rng(4).normal(0, 1, (3, 4)).astype(np.float32)
    w[0, 0] = 0.0
    if name.startswith("orthogonal"):
        mode = name.split()[1]
        k_reg = keras.regularizers.OrthogonalRegularizer(0.3, mode=mode)
        f_reg = regularizers.get({"class_name": "OrthogonalRegularizer",
                                  "config": {"factor": 0.3, "mode": mode}})
    else:
        k_reg = keras.regularizers.get(name) if name != "l1_l2" else keras.regularizers.l1_l2()
        f_reg = regularizers.get(name)
    # (a jax array: Keras's numpy branch of normalize mistakes axis 0 for -1)
    np.testing.assert_allclose(f_reg(w), float(k_reg(jax.numpy.asarray(w))), rtol=1e-6)
    # float32 entries that are sums with cancellation (orthogonal) are held to
    # the gradient's scale rather than to their own
    k_grad = np.asarray(jax.grad(lambda v: k_reg(v))(w))
    np.testing.assert_allclose(f_reg.gradient(w), k_grad, rtol=1e-5,
                               atol=1e-6 * np.abs(k_grad).max())


# ---- bad input: clear errors, nothing trained ------------------------------------
def untouched_after(model, call, error, match):
    before = model.get_weights()
    with pytest.raises(error, match=match):
        call()
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"sample_weight": np.ones(SAMPLES - 1)}, ValueError, "one entry per sample"),
    ({"sample_weight": -np.ones(SAMPLES)}, ValueError, "non-negative"),
    ({"sample_weight": np.full(SAMPLES, np.nan)}, ValueError, "non-negative"),
    ({"sample_weight": np.array(["a"] * SAMPLES)}, TypeError, "numeric"),
    ({"sample_weight": np.ones((SAMPLES, 2, 2))}, ValueError, "too many dimensions"),
    ({"class_weight": {0: 1.0, 2: 3.0}}, ValueError, "class 2"),
    ({"class_weight": {0: -1.0}}, ValueError, "non-negative"),
    ({"class_weight": {0: 1.0}, "sample_weight": np.ones(SAMPLES)}, ValueError, "same time"),
    ({"validation_data": (np.zeros((3, LENGTH), np.int32), np.zeros(3), -np.ones(3))},
     ValueError, "non-negative"),
    ({"validation_data": (1, 2, 3, 4)}, ValueError, "validation_data"),
    ({"validation_steps": 0}, ValueError, "`validation_steps` must be None or a positive"),
    ({"sample_weights": np.ones(SAMPLES)}, TypeError, "sample_weights"),
])
def test_bad_fit_arguments_fail_clearly_before_training(kwargs, error, match):
    x, y = data()
    _, fm = twins(classifier())
    fm.compile(**BINARY)
    untouched_after(fm, lambda: fm.fit(x, y, epochs=1, verbose=0, **kwargs), error, match)


def test_bad_batch_method_arguments_fail_clearly():
    x, y = data()
    _, fm = twins(classifier())
    fm.compile(**BINARY)
    untouched_after(fm, lambda: fm.train_on_batch(x[:8], y[:8], sample_weight=np.ones(7)),
                    ValueError, "one entry per sample")
    untouched_after(fm, lambda: fm.train_on_batch(x[:8], y[:8], class_weight={5: 1.0}),
                    ValueError, "class 5")
    with pytest.raises(ValueError, match="non-negative"):
        fm.evaluate(x, y, sample_weight=-np.ones(SAMPLES), verbose=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        fm.evaluate(x, y, verbose=0, sample_weights=np.ones(SAMPLES))


@pytest.mark.parametrize("make", [
    lambda: fastembed.layers.Dense(2, kernel_regularizer="l3"),
    lambda: fastembed.layers.Dense(2, kernel_constraint="max_nrom"),
    lambda: fastembed.layers.Embedding(5, 2, embeddings_regularizer=regularizers.L2(-1.0)),
    lambda: fastembed.layers.LSTM(2, recurrent_regularizer={"class_name": "L3"}),
])
def test_unknown_regularizer_or_constraint_is_a_clear_error(make):
    with pytest.raises(ValueError, match="regularizer|constraint|l2"):
        make()


def test_weighted_metrics_and_regularizers_survive_save_and_load(tmp_path):
    x, y = data()
    weights = sample_weights(SAMPLES)
    _, fm = twins(classifier(dense={"kernel_regularizer": "l2",
                                    "kernel_constraint": constraints.MaxNorm(1.5)}))
    fm.compile(**BINARY, weighted_metrics=["accuracy"])
    fm.fit(x, y, sample_weight=weights, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    fm.save(path)
    loaded = fastembed.load_model(path)
    assert loaded.layers[-1].kernel_regularizer.get_config() == {"l2": 0.01}
    assert loaded.layers[-1].kernel_constraint.get_config() == {"max_value": 1.5, "axis": 0}
    assert loaded.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True) == \
        fm.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)


def test_sparse_embedding_loss_counts_the_penalty_of_the_touched_rows():
    x, y = data()
    model = fastembed.Sequential([
        fastembed.Input((LENGTH,), dtype="int32"),
        fastembed.layers.Embedding(VOCAB, DIM, sparse=True, embeddings_regularizer="l2"),
        fastembed.layers.Flatten(), fastembed.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    table = model.layers[0].embeddings.value.copy()
    p = np.clip(model.predict(x[:8], verbose=0)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    cross_entropy = -np.mean(y[:8] * np.log(p) + (1 - y[:8]) * np.log(1 - p))
    penalty = 0.01 * np.square(table[np.unique(x[:8])].astype(np.float64)).sum()
    np.testing.assert_allclose(model.train_on_batch(x[:8], y[:8]), cross_entropy + penalty,
                               rtol=1e-5)
