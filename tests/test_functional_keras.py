"""Functional models vs real Keras 3 (jax backend): same code, same weights -> same numbers.

Each model is written once, as a builder taking the library module (``keras``
or ``fastembed``), so the two models are spelled alike. Keras is seeded, its
initial weights are copied into fastembed (after checking the weight shapes
agree, which pins Keras's weight order), then predictions, the History of a
3-epoch fit(shuffle=False) (its key names and every value), predictions after
training and evaluate() are compared.

Tolerances: predictions from the same weights rtol=1e-5, atol=1e-5; history
and evaluate values rtol=1e-4 (atol=0); predictions after training (which sum
three epochs of float32 rounding differences) and the trained weights
rtol=1e-3, atol=1e-5, as in test_keras_equivalence.py.
"""
import copy
import re

import keras
import numpy as np
import pytest

import fastembed

# Keras's own get_weights() warns under numpy 2; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

PREDICT_TOL = dict(rtol=1e-5, atol=1e-5)
HISTORY_RTOL = 1e-4
TRAINED_PREDICT_TOL = dict(rtol=1e-3, atol=1e-5)
SAMPLES, BATCH, EPOCHS = 400, 32, 3  # 400 = 12 full batches of 32 + one of 16
N_USERS, N_ITEMS = 50, 40
VOCAB, LENGTH = 100, 10
CARDINALITIES, EMBED_DIMS = (7, 30, 200, 1000), (2, 3, 6, 12)


# ----------------------------------------------------------------- builders
# k is the module: keras or fastembed.

def mf_model(k):
    """Matrix factorisation with user and item biases."""
    user = k.Input(shape=(1,), dtype="int32", name="user")
    item = k.Input(shape=(1,), dtype="int32", name="item")
    user_vec = k.layers.Flatten()(k.layers.Embedding(N_USERS, 8)(user))
    item_vec = k.layers.Flatten()(k.layers.Embedding(N_ITEMS, 8)(item))
    dot = k.layers.Dot(axes=1)([user_vec, item_vec])
    user_bias = k.layers.Flatten()(k.layers.Embedding(N_USERS, 1)(user))
    item_bias = k.layers.Flatten()(k.layers.Embedding(N_ITEMS, 1)(item))
    rating = k.layers.Add()([dot, user_bias, item_bias])
    return k.Model([user, item], rating, name="mf")


def two_tower_model(k):
    """User and item towers scored by cosine similarity, then a logistic head."""
    def tower(inputs, vocab):
        h = k.layers.Flatten()(k.layers.Embedding(vocab, 8)(inputs))
        h = k.layers.Dense(16, activation="relu")(h)
        return k.layers.Dense(8)(h)

    user = k.Input(shape=(1,), dtype="int32", name="user")
    item = k.Input(shape=(1,), dtype="int32", name="item")
    cosine = k.layers.Dot(axes=1, normalize=True)([tower(user, N_USERS), tower(item, N_ITEMS)])
    prob = k.layers.Dense(1, activation="sigmoid")(cosine)
    return k.Model(inputs=[user, item], outputs=prob, name="two_tower")


TABULAR_NAMES = ["weekday", "region", "shop", "product", "numeric"]


def tabular_model(k):
    """Four categorical columns of different cardinalities, plus numeric ones."""
    inputs, features = [], []
    for name, vocab, dim in zip(TABULAR_NAMES, CARDINALITIES, EMBED_DIMS):
        column = k.Input(shape=(1,), dtype="int32", name=name)
        inputs.append(column)
        features.append(k.layers.Flatten()(k.layers.Embedding(vocab, dim)(column)))
    numeric = k.Input(shape=(3,), dtype="float32", name="numeric")
    inputs.append(numeric)
    h = k.layers.Concatenate()(features + [numeric])
    h = k.layers.Dense(16, activation="relu")(h)
    return k.Model(inputs, k.layers.Dense(1, activation="sigmoid")(h), name="tabular")


def siamese_model(k):
    """Two sequences through ONE Embedding and ONE LSTM (each called twice)."""
    left = k.Input(shape=(LENGTH,), dtype="int32", name="left")
    right = k.Input(shape=(LENGTH,), dtype="int32", name="right")
    embed = k.layers.Embedding(VOCAB, 8, mask_zero=False)
    encode = k.layers.LSTM(8)
    a, b = encode(embed(left)), encode(embed(right))
    diff = k.layers.Subtract()([a, b])
    prod = k.layers.Multiply()([a, b])
    h = k.layers.Concatenate()([diff, prod])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid")(h), name="siamese")


def two_output_model(k):
    """A shared trunk with a binary head and a 3-class head."""
    tokens = k.Input(shape=(LENGTH,), dtype="int32", name="tokens")
    h = k.layers.Flatten()(k.layers.Embedding(VOCAB, 4)(tokens))
    h = k.layers.Dense(16, activation="relu")(h)
    label = k.layers.Dense(1, activation="sigmoid", name="label")(h)
    category = k.layers.Dense(3, activation="softmax", name="category")(h)
    return k.Model(tokens, [label, category], name="two_heads")


def dict_output_model(k):
    """Two heads returned as a dict, not in sorted key order, whose keys are
    not the heads' layer names."""
    tokens = k.Input(shape=(LENGTH,), dtype="int32", name="tokens")
    h = k.layers.Flatten()(k.layers.Embedding(VOCAB, 4)(tokens))
    h = k.layers.Dense(16, activation="relu")(h)
    rating = k.layers.Dense(1, name="score")(h)
    click = k.layers.Dense(1, activation="sigmoid", name="click_head")(h)
    return k.Model(tokens, {"rating": rating, "click": click}, name="dict_heads")


def nested_model(k, shared=True):
    """A Sequential encoder called inside a Functional model (twice if shared)."""
    encoder = k.models.Sequential([k.layers.Embedding(VOCAB, 4), k.layers.Flatten(),
                                   k.layers.Dense(8, activation="relu")], name="encoder")
    left = k.Input(shape=(LENGTH,), dtype="int32", name="left")
    if not shared:
        return k.Model(left, k.layers.Dense(1, activation="sigmoid")(encoder(left)))
    right = k.Input(shape=(LENGTH,), dtype="int32", name="right")
    h = k.layers.Concatenate()([encoder(left), encoder(right)])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid")(h))


MERGE_LENGTH = 8


def merges_model(k):
    """Every merge layer, Concatenate on the time axis, Permute, Reshape,
    RepeatVector, Conv1D, GlobalMaxPooling1D and Activation in one graph."""
    left = k.Input(shape=(MERGE_LENGTH,), dtype="int32", name="left")
    right = k.Input(shape=(MERGE_LENGTH,), dtype="int32", name="right")
    a = k.layers.Embedding(50, 6)(left)  # (8, 6)
    b = k.layers.Embedding(50, 6)(right)
    pair = [a, b]
    merged = k.layers.Concatenate(axis=1)([
        k.layers.Concatenate(axis=1)(pair),  # (16, 6)
        k.layers.Subtract()(pair), k.layers.Multiply()(pair), k.layers.Average()(pair),
        k.layers.Maximum()(pair), k.layers.Minimum()(pair)])  # (56, 6)
    conv = k.layers.GlobalMaxPooling1D()(k.layers.Conv1D(4, 3, activation="relu")(merged))
    flat = k.layers.Reshape((6 * 56,))(k.layers.Permute((2, 1))(merged))
    h = k.layers.Activation("tanh")(k.layers.Dense(4)(flat))
    h = k.layers.Flatten()(k.layers.RepeatVector(3)(h))  # (3, 4) -> 12
    h = k.layers.Concatenate()([h, conv])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid")(h), name="merges")


# --------------------------------------------------------------------- data
# Small, deterministic and learnable.

def mf_data(seed=0):
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(100)  # the same latent model for every seed
    user_f, item_f = truth.normal(size=(N_USERS, 3)), truth.normal(size=(N_ITEMS, 3))
    user_b, item_b = truth.normal(size=N_USERS), truth.normal(size=N_ITEMS)
    users = rng.integers(0, N_USERS, (SAMPLES, 1)).astype(np.int32)
    items = rng.integers(0, N_ITEMS, (SAMPLES, 1)).astype(np.int32)
    u, i = users[:, 0], items[:, 0]
    rating = (user_f[u] * item_f[i]).sum(1) / 3 + user_b[u] + item_b[i] \
        + 0.1 * rng.standard_normal(SAMPLES)
    return {"user": users, "item": items}, rating.astype(np.float32)


def two_tower_data(seed=0):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, N_USERS, (SAMPLES, 1)).astype(np.int32)
    items = rng.integers(0, N_ITEMS, (SAMPLES, 1)).astype(np.int32)
    like = (users[:, 0] % 2) == (items[:, 0] % 2)  # two tastes, two kinds of item
    return {"user": users, "item": items}, like.astype(np.float32)


def tabular_data(seed=0):
    rng = np.random.default_rng(seed)
    x = {name: rng.integers(0, vocab, (SAMPLES, 1)).astype(np.int32)
         for name, vocab in zip(TABULAR_NAMES, CARDINALITIES)}
    x["numeric"] = rng.standard_normal((SAMPLES, 3)).astype(np.float32)
    score = 2.0 * (x["weekday"][:, 0] < 3) - 1 + x["numeric"][:, 0] \
        + (x["region"][:, 0] % 2) - 0.5
    return x, (score > 0).astype(np.float32)


def topic_tokens(rng, topics):
    """Sequences whose tokens come from one of four 25-token ranges."""
    return (topics[:, None] * 25 + rng.integers(0, 25, (len(topics), LENGTH))).astype(np.int32)


def siamese_data(seed=0):
    rng = np.random.default_rng(seed)
    left_topic = rng.integers(0, 4, SAMPLES)
    same = rng.random(SAMPLES) < 0.5
    right_topic = np.where(same, left_topic, (left_topic + rng.integers(1, 4, SAMPLES)) % 4)
    return ({"left": topic_tokens(rng, left_topic), "right": topic_tokens(rng, right_topic)},
            same.astype(np.float32))


def two_output_data(seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    label = (tokens[:, 0] < VOCAB // 2).astype(np.float32)
    category = (tokens[:, 1] * 3 // VOCAB).astype(np.int32)
    return tokens, {"label": label, "category": category}


def dict_output_data(seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    rating = (tokens[:, 0] / VOCAB - 0.5 + 0.1 * rng.standard_normal(SAMPLES)).astype(np.float32)
    click = (tokens[:, 1] < VOCAB // 2).astype(np.float32)
    return tokens, {"rating": rating, "click": click}


def nested_data(seed=0, shared=True):
    rng = np.random.default_rng(seed)
    left = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    right = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    if not shared:
        return left, (left[:, 0] < VOCAB // 2).astype(np.float32)
    return {"left": left, "right": right}, (left[:, 0] + right[:, 0] < VOCAB).astype(np.float32)


def merges_data(seed=0):
    rng = np.random.default_rng(seed)
    left = rng.integers(0, 50, (SAMPLES, MERGE_LENGTH)).astype(np.int32)
    right = rng.integers(0, 50, (SAMPLES, MERGE_LENGTH)).astype(np.int32)
    return {"left": left, "right": right}, (left[:, 0] > right[:, 0]).astype(np.float32)


# ------------------------------------------------------------------ helpers

def as_list(x, names):
    return [x[name] for name in names]


def outputs(result):
    """{key: array}: a dict's keys, else the positions of the outputs."""
    if isinstance(result, dict):
        return {key: np.asarray(value) for key, value in result.items()}
    values = result if isinstance(result, (list, tuple)) else [result]
    return {i: np.asarray(value) for i, value in enumerate(values)}


def twin_models(builder, seed=0):
    """The Keras model (seeded) and the fastembed model holding its weights."""
    keras.utils.set_random_seed(seed)
    km = builder(keras)
    fm = builder(fastembed)
    k_weights = km.get_weights()
    assert [w.shape for w in fm.get_weights()] == [w.shape for w in k_weights]
    fm.set_weights(k_weights)
    return km, fm


def compile_both(km, fm, optimizer, **kwargs):
    """optimizer: (class name, arguments), built in each library."""
    name, arguments = optimizer
    km.compile(optimizer=getattr(keras.optimizers, name)(**arguments), **copy.deepcopy(kwargs))
    fm.compile(optimizer=getattr(fastembed.optimizers, name)(**arguments), **copy.deepcopy(kwargs))


def assert_predictions_match(km, fm, x, **tolerance):
    expected = outputs(km.predict(x, batch_size=BATCH, verbose=0))
    got = outputs(fm.predict(x, batch_size=BATCH, verbose=0))
    assert sorted(got) == sorted(expected)
    for key, e in expected.items():
        assert got[key].shape == e.shape
        np.testing.assert_allclose(got[key], e, **tolerance)


def assert_histories_match(k_history, f_history):
    assert k_history["loss"][-1] < k_history["loss"][0], "Keras does not learn: fix the data"
    assert f_history["loss"][-1] < f_history["loss"][0], "not training: the match would be vacuous"
    for key in sorted(set(k_history) & set(f_history)):
        np.testing.assert_allclose(f_history[key], k_history[key], rtol=HISTORY_RTOL, atol=0,
                                   err_msg=f"history[{key!r}]")
    assert sorted(f_history) == sorted(k_history)


def assert_evaluations_match(km, fm, x, y):
    k_eval = km.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    f_eval = fm.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)
    for key in sorted(set(k_eval) & set(f_eval)):
        np.testing.assert_allclose(f_eval[key], k_eval[key], rtol=HISTORY_RTOL, err_msg=key)
    assert sorted(f_eval) == sorted(k_eval)


def check_against_keras(builder, data, optimizer, fit_x=None, fit_y=None, validate=False,
                        **compile_kwargs):
    """The whole comparison; fit_x/fit_y reshape the data dicts (e.g. to lists);
    validate passes the test data as fit's validation_data (val_* history keys)."""
    km, fm = twin_models(builder)
    x, y = data(0)
    x_test, y_test = data(1)
    fit_x, fit_y = fit_x or (lambda v: v), fit_y or (lambda v: v)
    assert_predictions_match(km, fm, fit_x(x_test), **PREDICT_TOL)
    compile_both(km, fm, optimizer, **compile_kwargs)
    fit_kwargs = dict(epochs=EPOCHS, batch_size=BATCH, shuffle=False, verbose=0)
    if validate:
        fit_kwargs["validation_data"] = (fit_x(x_test), fit_y(y_test))
    kh = km.fit(fit_x(x), fit_y(y), **fit_kwargs)
    fh = fm.fit(fit_x(x), fit_y(y), **fit_kwargs)
    assert_histories_match(kh.history, fh.history)
    # Every weight trained alike (a loss alone could hide a frozen layer).
    for k_weight, f_weight in zip(km.get_weights(), fm.get_weights()):
        np.testing.assert_allclose(f_weight, k_weight, **TRAINED_PREDICT_TOL)
    assert_predictions_match(km, fm, fit_x(x_test), **TRAINED_PREDICT_TOL)
    assert_evaluations_match(km, fm, fit_x(x_test), fit_y(y_test))
    return km, fm, kh.history, fh.history


# -------------------------------------------------------------------- tests

@pytest.mark.parametrize("x_form", ["list", "dict"])
def test_matrix_factorisation_matches_keras(x_form):
    to_x = (lambda x: as_list(x, ["user", "item"])) if x_form == "list" else None
    check_against_keras(mf_model, mf_data, ("Adam", {"learning_rate": 0.01}),
                        fit_x=to_x, loss="mse")


def test_two_tower_cosine_matches_keras():
    _, _, kh, _ = check_against_keras(
        two_tower_model, two_tower_data, ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
        fit_x=lambda x: as_list(x, ["user", "item"]),
        loss="binary_crossentropy", metrics=["accuracy"])
    assert "accuracy" in kh


@pytest.mark.parametrize("x_form", ["list", "dict"])
def test_tabular_model_matches_keras(x_form):
    to_x = (lambda x: as_list(x, TABULAR_NAMES)) if x_form == "list" else None
    _, _, kh, _ = check_against_keras(
        tabular_model, tabular_data, ("RMSprop", {"learning_rate": 0.003}), fit_x=to_x,
        validate=True, loss="binary_crossentropy", metrics=["accuracy"])
    assert sorted(kh) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_tabular_dict_and_list_inputs_predict_alike():
    # A dict is matched to the Inputs by name, not by its insertion order.
    _, fm = twin_models(tabular_model)
    x, _ = tabular_data(1)
    shuffled = {name: x[name] for name in reversed(TABULAR_NAMES)}
    np.testing.assert_array_equal(fm.predict(shuffled, verbose=0),
                                  fm.predict(as_list(x, TABULAR_NAMES), verbose=0))


def test_siamese_shared_embedding_and_lstm_match_keras():
    km, fm, _, _ = check_against_keras(
        siamese_model, siamese_data, ("Adam", {"learning_rate": 0.01}),
        loss="binary_crossentropy", metrics=["accuracy"])
    # Sharing: one Embedding and one LSTM, whose weights appear once.
    assert len(fm.get_weights()) == len(km.get_weights()) == 1 + 3 + 2


HEAD_SPECS = {
    "dict": dict(loss={"label": "binary_crossentropy",
                       "category": "sparse_categorical_crossentropy"},
                 loss_weights={"label": 1.0, "category": 0.5},
                 metrics={"label": ["accuracy"], "category": ["accuracy"]}),
    "list": dict(loss=["binary_crossentropy", "sparse_categorical_crossentropy"],
                 loss_weights=[1.0, 0.5],
                 metrics=[["accuracy"], ["accuracy"]]),
}


@pytest.mark.parametrize("spec,y_form", [("dict", "dict"), ("dict", "list"), ("list", "list")])
def test_two_outputs_with_loss_weights_match_keras(spec, y_form):
    to_y = (lambda y: as_list(y, ["label", "category"])) if y_form == "list" else None
    _, _, kh, fh = check_against_keras(
        two_output_model, two_output_data,
        ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
        fit_y=to_y, validate=True, **HEAD_SPECS[spec])
    # What Keras 3 reports: the weighted total, and each head's unweighted loss and metric.
    keys = ["category_accuracy", "category_loss", "label_accuracy", "label_loss", "loss"]
    assert sorted(kh) == keys + ["val_" + key for key in keys]
    total = np.add(kh["label_loss"], np.multiply(0.5, kh["category_loss"]))
    np.testing.assert_allclose(kh["loss"], total, rtol=1e-5)
    assert fh["category_loss"][-1] < fh["category_loss"][0]
    assert fh["label_loss"][-1] < fh["label_loss"][0]


def test_two_outputs_evaluate_list_order_matches_keras():
    # Keras 3 lists the total loss, then each output's loss in output order, then
    # every other entry (here the per-output metrics) in sorted key order
    # (Trainer._flatten_metrics_in_order): category_accuracy before label_accuracy.
    km, fm = twin_models(two_output_model)
    compile_both(km, fm, ("Adam", {}), **HEAD_SPECS["dict"])
    x, y = two_output_data(1)
    k_result = km.evaluate(x, y, verbose=0)
    f_result = fm.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(f_result, k_result, rtol=1e-5)


DICT_HEAD_SPECS = {
    "dict": dict(loss={"rating": "mse", "click": "binary_crossentropy"},
                 loss_weights={"rating": 1.0, "click": 0.5},
                 metrics={"rating": ["mae"], "click": ["accuracy"]}),
    # Keras matches lists to a dict's outputs in sorted order of the keys.
    "list": dict(loss=["binary_crossentropy", "mse"], loss_weights=[0.5, 1.0],
                 metrics=[["accuracy"], ["mae"]]),
    # one output with a loss: no per-output loss in the logs, as Keras
    "partial": dict(loss={"rating": "mse"}, metrics={"click": ["accuracy"]}),
}


@pytest.mark.parametrize("spec,y_form", [("dict", "dict"), ("dict", "list"), ("list", "dict"),
                                         ("partial", "dict")])
def test_dict_outputs_match_keras(spec, y_form):
    to_y = (lambda y: as_list(y, ["click", "rating"])) if y_form == "list" else None
    km, fm, kh, fh = check_against_keras(
        dict_output_model, dict_output_data, ("Adam", {"learning_rate": 0.01}),
        fit_y=to_y, validate=True, **DICT_HEAD_SPECS[spec])
    # Keras names each output's loss and metrics by its key, not its layer's name.
    keys = ["click_accuracy", "loss"] if spec == "partial" else \
        ["click_accuracy", "click_loss", "loss", "rating_loss", "rating_mae"]
    assert sorted(kh) == keys + ["val_" + key for key in keys]
    x, y = dict_output_data(1)
    assert list(fm.predict(x, verbose=0)) == list(km.predict(x, verbose=0))
    k_call, f_call = km(x[:4]), fm(x[:4])
    assert list(f_call) == list(k_call)
    for key in k_call:
        np.testing.assert_allclose(f_call[key], np.asarray(k_call[key]), **TRAINED_PREDICT_TOL)
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=HISTORY_RTOL)
    assert fm.output_names == km.output_names


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "single"])
def test_sequential_nested_in_functional_matches_keras(shared):
    check_against_keras(lambda k: nested_model(k, shared), lambda s: nested_data(s, shared),
                        ("Adagrad", {"learning_rate": 0.1}),
                        loss="binary_crossentropy", metrics=["accuracy"])


def test_merge_and_reshaping_layers_match_keras():
    check_against_keras(merges_model, merges_data,
                        ("RMSprop", {"learning_rate": 0.003, "momentum": 0.5}),
                        loss="binary_crossentropy", metrics=["accuracy"])


def test_model_classes_are_spelled_like_keras():
    for k in (keras, fastembed):
        assert k.models.Model is k.Model
        assert k.models.Sequential is k.Sequential


BUILDERS = {
    "mf": mf_model, "two_tower": two_tower_model, "tabular": tabular_model,
    "siamese": siamese_model, "two_outputs": two_output_model,
    "nested_shared": nested_model, "nested_single": lambda k: nested_model(k, shared=False),
    "merges": merges_model,
}


def base_name(name):
    """A layer's name without the uniquifying _N suffix (Keras numbers its automatic
    names by a session-wide counter, so the numbers depend on what ran before)."""
    return re.sub(r"_\d+$", "", name)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_layer_and_weight_order_match_keras(name):
    keras.utils.set_random_seed(0)
    km, fm = BUILDERS[name](keras), BUILDERS[name](fastembed)
    # Keras 3's Functional.layers lists the InputLayers too, first.
    assert [type(layer).__name__ for layer in fm.layers] == \
        [type(layer).__name__ for layer in km.layers]
    assert [base_name(layer.name) for layer in fm.layers] == \
        [base_name(layer.name) for layer in km.layers]
    assert [tuple(w.shape) for w in fm.weights] == [tuple(w.shape) for w in km.weights]
    assert fm.count_params() == km.count_params()
    assert base_name(fm.name) == base_name(km.name)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_weight_names_match_keras(name):
    # Shapes alone cannot tell an LSTM's kernel from its recurrent kernel when
    # the input and the units have the same size (the Siamese model).
    keras.utils.set_random_seed(0)
    km, fm = BUILDERS[name](keras), BUILDERS[name](fastembed)
    assert [w.name.rsplit("/", 1)[-1] for w in fm.weights] == [w.name for w in km.weights]


def test_dropout_is_identity_in_predict_like_keras():
    def model(k):
        tokens = k.Input(shape=(LENGTH,), dtype="int32", name="tokens")
        h = k.layers.Dropout(0.5)(k.layers.Flatten()(k.layers.Embedding(VOCAB, 4)(tokens)))
        h = k.layers.Dropout(0.3)(k.layers.Dense(8, activation="relu")(h))
        return k.Model(tokens, k.layers.Dense(1, activation="sigmoid")(h))

    km, fm = twin_models(model)
    x, _ = two_output_data(2)
    assert_predictions_match(km, fm, x, **PREDICT_TOL)
