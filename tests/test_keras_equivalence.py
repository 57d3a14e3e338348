"""Sequential vs real Keras 3 (jax backend): same weights -> same numbers.

Each test builds the same Embedding -> Flatten -> Dense model in both
libraries, copies Keras's initial weights into fastembed and compares
predictions, loss/metric histories of fit(shuffle=False) and evaluate().
"""
import keras
import numpy as np
import pytest

from fastembed import callbacks, losses, optimizers
from fastembed.layers import Dense, Embedding, Flatten
from fastembed.models import Sequential

# Keras's own get_weights() warns under numpy 2; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

VOCAB, DIM, LENGTH, SAMPLES = 1000, 16, 10, 500  # 500 = 15 full batches of 32 + one of 20


def make_data(kind, seed=0):
    """Learnable synthetic data: the label depends on the first token."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, size=(SAMPLES, LENGTH)).astype(np.int32)
    first = x[:, 0]
    if kind == "binary":
        return x, (first < VOCAB // 2).astype(np.float32)
    if kind == "regression":
        return x, (first / VOCAB + 0.1 * rng.standard_normal(SAMPLES)).astype(np.float32)
    classes = first * 3 // VOCAB
    if kind == "sparse":
        return x, classes.astype(np.int32)
    return x, np.eye(3, dtype=np.float32)[classes]  # one-hot


def keras_model(units, activation):
    return keras.Sequential([
        keras.Input(shape=(LENGTH,), dtype="int32"),
        keras.layers.Embedding(VOCAB, DIM),
        keras.layers.Flatten(),
        keras.layers.Dense(units, activation=activation),
    ])


def twin_models(units=1, activation="sigmoid", seed=0):
    keras.utils.set_random_seed(seed)
    km = keras_model(units, activation)
    fm = Sequential([Embedding(VOCAB, DIM, input_length=LENGTH), Flatten(),
                     Dense(units, activation=activation)])
    fm.set_weights(km.get_weights())
    return km, fm


def assert_histories_match(k_history, f_history, keys, rtol=1e-4):
    assert f_history["loss"][-1] < f_history["loss"][0], "not training: the match would be vacuous"
    for key in keys:
        np.testing.assert_allclose(f_history[key], k_history[key], rtol=rtol, atol=0,
                                   err_msg=f"history[{key!r}]")


def fit_both(km, fm, k_optimizer, f_optimizer, loss, x, y, metrics=None, epochs=3):
    km.compile(optimizer=k_optimizer, loss=loss, metrics=metrics)
    fm.compile(optimizer=f_optimizer, loss=loss, metrics=metrics)
    kh = km.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0).history
    fh = fm.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0).history
    return kh, fh


def test_weight_layout_and_count_match_keras():
    km, fm = twin_models()
    assert [w.shape for w in fm.get_weights()] == [tuple(w.shape) for w in km.get_weights()]
    assert fm.count_params() == km.count_params()


@pytest.mark.parametrize("units,activation", [(1, "sigmoid"), (1, None), (3, "softmax"),
                                              (4, "relu"), (2, "tanh")])
def test_predict_matches_keras(units, activation):
    km, fm = twin_models(units, activation)
    x, _ = make_data("binary", seed=1)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# (name, keras optimizer factory, fastembed optimizer factory); one dict of
# arguments builds both, so the two sides cannot drift apart.
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "sgd_momentum": ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd_nesterov": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {}),
    "adam_amsgrad": ("Adam", {"learning_rate": 0.003, "amsgrad": True}),
    "rmsprop": ("RMSprop", {}),
    "rmsprop_centered_momentum": ("RMSprop", {"momentum": 0.5, "centered": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.05}),
    # Clipping, on plain SGD where (unlike Adam) the gradient's scale matters.
    "sgd_clipnorm": ("SGD", {"learning_rate": 0.5, "clipnorm": 0.002}),
    "sgd_clipvalue": ("SGD", {"learning_rate": 0.5, "clipvalue": 0.0002}),
    "sgd_global_clipnorm": ("SGD", {"learning_rate": 0.5, "global_clipnorm": 0.002}),
}
CLIPPING = ["sgd_clipnorm", "sgd_clipvalue", "sgd_global_clipnorm"]


def optimizer_pair(name):
    class_name, kwargs = OPTIMIZERS[name]
    return getattr(keras.optimizers, class_name)(**kwargs), getattr(optimizers, class_name)(**kwargs)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fit_history_matches_keras_for_each_optimizer(name):
    km, fm = twin_models()
    x, y = make_data("binary")
    kh, fh = fit_both(km, fm, *optimizer_pair(name), "binary_crossentropy", x, y,
                      metrics=["accuracy"])
    assert_histories_match(kh, fh, ["loss", "accuracy"])
    # Weights after training agree too (the loss alone could hide a frozen layer).
    for k_weight, f_weight in zip(km.get_weights(), fm.get_weights()):
        np.testing.assert_allclose(f_weight, k_weight, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name", CLIPPING)
def test_clipping_cases_actually_clip(name):
    # Guards the cases above: a clipped step must differ from an unclipped one.
    x, y = make_data("binary")
    steps = []
    for kwargs in ({"learning_rate": 0.5}, OPTIMIZERS[name][1]):
        _, fm = twin_models()
        before = fm.get_weights()[-2]
        fm.compile(optimizer=optimizers.SGD(**kwargs), loss="binary_crossentropy")
        fm.train_on_batch(x[:32], y[:32])
        steps.append(np.abs(fm.get_weights()[-2] - before).max())
    assert steps[1] < 0.5 * steps[0]


# name -> (Keras loss, fastembed loss, head units, head activation, data kind)
LOSSES = {
    "binary_crossentropy": (keras.losses.BinaryCrossentropy(), losses.BinaryCrossentropy(),
                            1, "sigmoid", "binary"),
    "binary_crossentropy_from_logits": (keras.losses.BinaryCrossentropy(from_logits=True),
                                        losses.BinaryCrossentropy(from_logits=True), 1, None, "binary"),
    "categorical_crossentropy": (keras.losses.CategoricalCrossentropy(), "categorical_crossentropy",
                                 3, "softmax", "onehot"),
    "sparse_categorical_crossentropy": (keras.losses.SparseCategoricalCrossentropy(),
                                        "sparse_categorical_crossentropy", 3, "softmax", "sparse"),
    "mean_squared_error": (keras.losses.MeanSquaredError(), "mean_squared_error", 1, None, "regression"),
    "mean_absolute_error": (keras.losses.MeanAbsoluteError(), "mae", 1, None, "regression"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_fit_history_and_evaluate_match_keras_for_each_loss(name):
    # Plain SGD: unlike Adam, its steps scale with the gradient, so a loss
    # gradient off by a constant factor cannot hide.
    k_loss, f_loss, units, activation, kind = LOSSES[name]
    km, fm = twin_models(units, activation)
    x, y = make_data(kind)
    metrics = ["accuracy"] if kind != "regression" else None
    km.compile(optimizer=keras.optimizers.SGD(0.2), loss=k_loss, metrics=metrics)
    fm.compile(optimizer=optimizers.SGD(0.2), loss=f_loss, metrics=metrics)
    kh = km.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    fh = fm.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    keys = ["loss"] + (["accuracy"] if metrics else [])
    assert_histories_match(kh, fh, keys)
    x_test, y_test = make_data(kind, seed=7)
    k_eval = km.evaluate(x_test, y_test, batch_size=64, verbose=0, return_dict=True)
    f_eval = fm.evaluate(x_test, y_test, batch_size=64, verbose=0, return_dict=True)
    assert set(f_eval) == set(k_eval)
    for key in k_eval:
        np.testing.assert_allclose(f_eval[key], k_eval[key], rtol=1e-4, err_msg=key)


def test_validation_history_matches_keras():
    km, fm = twin_models()
    x, y = make_data("binary")
    x_val, y_val = make_data("binary", seed=3)
    for model in (km, fm):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    kh = km.fit(x, y, epochs=2, shuffle=False, verbose=0, validation_data=(x_val, y_val)).history
    fh = fm.fit(x, y, epochs=2, shuffle=False, verbose=0, validation_data=(x_val, y_val)).history
    assert sorted(fh) == sorted(kh)
    assert_histories_match(kh, fh, sorted(kh))


def test_validation_split_takes_the_tail_like_keras():
    km, fm = twin_models()
    x, y = make_data("binary")
    for model in (km, fm):
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    kh = km.fit(x, y, epochs=2, shuffle=False, verbose=0, validation_split=0.2).history
    fh = fm.fit(x, y, epochs=2, shuffle=False, verbose=0, validation_split=0.2).history
    assert_histories_match(kh, fh, ["loss", "val_loss"])


def test_train_on_batch_matches_keras():
    km, fm = twin_models()
    x, y = make_data("binary")
    for model in (km, fm):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    for start in range(0, 96, 32):
        k_out = km.train_on_batch(x[start:start + 32], y[start:start + 32], return_dict=True)
        f_out = fm.train_on_batch(x[start:start + 32], y[start:start + 32], return_dict=True)
        for key in k_out:
            np.testing.assert_allclose(f_out[key], k_out[key], rtol=1e-4, err_msg=key)


def test_deeper_stack_matches_keras():
    # Hidden Dense layers: exercises every layer's input gradient, not just the head's.
    keras.utils.set_random_seed(0)
    hidden = [(16, "relu"), (8, "tanh"), (3, "softmax")]
    km = keras.Sequential([keras.Input(shape=(LENGTH,), dtype="int32"), keras.layers.Embedding(VOCAB, DIM),
                           keras.layers.Flatten()] + [keras.layers.Dense(u, activation=a) for u, a in hidden])
    fm = Sequential([Embedding(VOCAB, DIM, input_length=LENGTH), Flatten()] +
                    [Dense(u, activation=a) for u, a in hidden])
    fm.set_weights(km.get_weights())
    x, y = make_data("onehot")
    kh, fh = fit_both(km, fm, "adam", "adam", "categorical_crossentropy", x, y, metrics=["accuracy"])
    assert_histories_match(kh, fh, ["loss", "accuracy"])
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("frozen", ["embedding", "dense"])
def test_frozen_layers_match_keras(frozen):
    keras.utils.set_random_seed(0)
    km = keras_model(1, "sigmoid")
    fm = Sequential([Embedding(VOCAB, DIM, input_length=LENGTH), Flatten(), Dense(1, activation="sigmoid")])
    index = 0 if frozen == "embedding" else 2
    km.layers[index].trainable = False
    fm.layers[index].trainable = False
    fm.set_weights(km.get_weights())
    before = fm.layers[index].get_weights()
    x, y = make_data("binary")
    kh, fh = fit_both(km, fm, "adam", "adam", "binary_crossentropy", x, y, metrics=["accuracy"])
    assert_histories_match(kh, fh, ["loss", "accuracy"])
    for old, new in zip(before, fm.layers[index].get_weights()):
        assert old.tobytes() == new.tobytes()
    for k_weight, f_weight in zip(km.get_weights(), fm.get_weights()):
        np.testing.assert_allclose(f_weight, k_weight, rtol=1e-3, atol=1e-5)


def test_evaluate_list_order_matches_keras():
    km, fm = twin_models(3, "softmax")
    x, y = make_data("sparse")
    for model in (km, fm):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy", "sparse_categorical_accuracy"])
    k_result = km.evaluate(x, y, verbose=0)
    f_result = fm.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(f_result, k_result, rtol=1e-5)


# EarlyStopping configurations; mode="max" on a falling loss makes epoch 0 the best.
EARLY_STOPPING = {
    "stops": {"monitor": "loss", "min_delta": 0.05, "patience": 1},
    "val_loss": {"monitor": "val_loss", "patience": 0},
    "baseline": {"monitor": "loss", "baseline": 0.1, "patience": 2},
    "restores_best_after_stopping": {"monitor": "loss", "mode": "max", "patience": 1,
                                     "restore_best_weights": True},
    "restores_best_without_stopping": {"monitor": "loss", "mode": "max", "patience": 10,
                                       "restore_best_weights": True},
}


@pytest.mark.parametrize("name", sorted(EARLY_STOPPING))
def test_early_stopping_matches_keras(name):
    km, fm = twin_models()
    x, y = make_data("binary")
    x_val, y_val = make_data("binary", seed=11)
    for model in (km, fm):
        model.compile(optimizer=keras.optimizers.SGD(0.5) if model is km else optimizers.SGD(0.5),
                      loss="binary_crossentropy")
    k_stop = keras.callbacks.EarlyStopping(**EARLY_STOPPING[name])
    f_stop = callbacks.EarlyStopping(**EARLY_STOPPING[name])
    kh = km.fit(x, y, epochs=4, shuffle=False, verbose=0, validation_data=(x_val, y_val),
                callbacks=[k_stop])
    fh = fm.fit(x, y, epochs=4, shuffle=False, verbose=0, validation_data=(x_val, y_val),
                callbacks=[f_stop])
    assert fh.epoch == kh.epoch
    assert f_stop.stopped_epoch == k_stop.stopped_epoch
    assert_histories_match(kh.history, fh.history, ["loss", "val_loss"])
    for k_weight, f_weight in zip(km.get_weights(), fm.get_weights()):
        np.testing.assert_allclose(f_weight, k_weight, rtol=1e-3, atol=1e-5)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop", None])
def test_summary_text_matches_keras_before_and_after_training(optimizer):
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input(shape=(LENGTH,), dtype="int32"),
                           keras.layers.Embedding(VOCAB, DIM, name="words", trainable=False),
                           keras.layers.Flatten(name="flat"),
                           keras.layers.Dense(3, activation="softmax", name="head")], name="clf")
    fm = Sequential([Embedding(VOCAB, DIM, input_length=LENGTH, name="words", trainable=False),
                     Flatten(name="flat"), Dense(3, activation="softmax", name="head")], name="clf")
    assert summary_lines(fm) == summary_lines(km).rstrip("\n")
    if optimizer:
        x, y = make_data("sparse")
        for model in (km, fm):
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
            model.fit(x[:64], y[:64], epochs=1, verbose=0)
        assert summary_lines(fm) == summary_lines(km).rstrip("\n")


def test_summary_numbers_match_keras():
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input(shape=(LENGTH,), dtype="int32"),
                           keras.layers.Embedding(VOCAB, DIM, trainable=False),
                           keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    fm = Sequential([Embedding(VOCAB, DIM, input_length=LENGTH, trainable=False),
                     Flatten(), Dense(3, activation="softmax")])
    text = summary_lines(fm)
    for k_layer, f_layer in zip(km.layers, fm.layers):
        assert f"({type(f_layer).__name__})" in text
        assert str(tuple(k_layer.output.shape)) in text
        assert f"{k_layer.count_params():,}" in text
    trainable = sum(int(np.prod(w.shape)) for w in km.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in km.non_trainable_weights)
    k_text = summary_lines(km)
    for label, count in (("Total params", trainable + non_trainable),
                         ("Trainable params", trainable), ("Non-trainable params", non_trainable)):
        assert f"{label}: {count:,} " in k_text  # the reference itself prints these
        assert f"{label}: {count:,} " in text


def test_output_mask_weights_the_loss_like_keras():
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input(shape=(LENGTH,), dtype="int32"),
                           keras.layers.Embedding(VOCAB, DIM, mask_zero=True),
                           keras.layers.Dense(1, activation="sigmoid")])
    fm = Sequential([Embedding(VOCAB, DIM, mask_zero=True, input_length=LENGTH),
                     Dense(1, activation="sigmoid")])
    fm.set_weights(km.get_weights())
    x, _ = make_data("binary")
    x[:, LENGTH // 2:] = 0  # padding
    y = (x < VOCAB // 2).astype(np.float32)[..., None]
    for model in (km, fm):
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0), rtol=1e-4)
    k_history = km.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    f_history = fm.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    np.testing.assert_allclose(f_history["loss"], k_history["loss"], rtol=1e-4)
    # Keras's evaluate weights metrics by the output mask too (its jax train
    # step does not, which fastembed does not copy: fit and evaluate agree).
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0), rtol=1e-4)
    # The mask matters: weighting all positions alike gives another loss.
    unmasked = float(np.mean(keras.losses.binary_crossentropy(y, fm.predict(x, verbose=0))))
    assert abs(unmasked - fm.evaluate(x, y, verbose=0)[0]) > 1e-3
