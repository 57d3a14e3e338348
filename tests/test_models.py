"""Sequential: the seed's scripts, errors, files, callbacks, progress output,
layers' training-time behaviour. References are numpy code here (Keras
comparisons live in test_keras_equivalence.py)."""
import os
import re
import zipfile

import numpy as np
import pytest

from fastembed import callbacks, engine, optimizers
from fastembed.layers import Dense, Dropout, Embedding, Flatten, Input
from fastembed.models import Sequential, load_model
from fastembed.utils import set_random_seed

VOCAB, LENGTH = 1000, 10


@pytest.fixture(autouse=True)
def _seed():
    set_random_seed(1234)


def token_data(n=1000, seed=0):
    """Learnable: the label is whether the first token is in the lower half."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, size=(n, LENGTH))
    return x, (x[:, 0] < VOCAB // 2).astype(np.float32)


def seed_model(embedding=None, dim=64, optimizer="adam", metrics=("accuracy",)):
    model = Sequential()
    model.add(embedding or Embedding(input_dim=VOCAB, output_dim=dim, input_length=LENGTH))
    model.add(Flatten())
    model.add(Dense(units=1, activation="sigmoid"))
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=list(metrics))
    return model


# ---- the seed's scripts --------------------------------------------------------

def test_seed_script_runs_verbatim_and_learns():
    X_train, y_train = token_data()
    model = Sequential()
    model.add(Embedding(input_dim=1000, output_dim=64, input_length=10))
    model.add(Flatten())
    model.add(Dense(units=1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=5, batch_size=32, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    assert len(history.history["loss"]) == 5
    assert history.history["accuracy"][0] < 0.8 < 0.95 < history.history["accuracy"][-1]
    assert history.history["loss"][-1] < history.history["loss"][0]
    predictions = model.predict(X_train, verbose=0)
    assert predictions.shape == (1000, 1) and predictions.dtype == np.float32
    assert np.mean((predictions[:, 0] > 0.5) == y_train) > 0.95


def pretrained_matrix(dim=32):
    """A 'GloVe' table whose first column encodes the label of each token."""
    matrix = np.random.default_rng(5).normal(0, 0.1, (VOCAB, dim)).astype(np.float32)
    matrix[:, 0] = np.where(np.arange(VOCAB) < VOCAB // 2, 1.0, -1.0)
    return matrix


@pytest.mark.parametrize("trainable", [False, True])
def test_pretrained_embedding_frozen_or_fine_tuned(trainable):
    matrix = pretrained_matrix()
    original = matrix.copy()
    X_train, y_train = token_data()
    model = seed_model(Embedding(input_dim=1000, output_dim=32, input_length=10,
                                 weights=[matrix], trainable=trainable))
    history = model.fit(X_train, y_train, epochs=5, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.85  # chance is 0.5
    np.testing.assert_array_equal(matrix, original)  # the caller's array is never written
    table = model.layers[0].get_weights()[0]
    if trainable:
        assert not np.array_equal(table, original)
        assert len(model.trainable_weights) == 3
    else:
        assert table.tobytes() == original.tobytes()  # bit-identical
        assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 1


def test_keras3_matrix_argument_and_keras2_lr():
    # Keras 3 accepts the matrix itself; optimizers accept Keras 2's `lr`.
    matrix = pretrained_matrix()
    model = seed_model(Embedding(VOCAB, 32, input_length=LENGTH, weights=matrix),
                       optimizer=optimizers.Adam(lr=0.01))
    np.testing.assert_array_equal(model.get_weights()[0], matrix)
    assert model.optimizer.learning_rate == 0.01


# ---- bad input -------------------------------------------------------------

def built_model():
    model = seed_model(dim=4)
    model.build((None, LENGTH))
    return model


def with_value(value, position=(3, 7), dtype=np.int64):
    x, _ = token_data(8)
    x = x.astype(dtype)
    x[position] = value
    return x


@pytest.mark.parametrize("call", ["fit", "predict", "evaluate"])
@pytest.mark.parametrize("value,exception,message", [
    (1000, IndexError, "indices[3,7] = 1000 is not in [0, 1000)"),
    (123456, IndexError, "indices[3,7] = 123456 is not in [0, 1000)"),
    (-1, IndexError, "indices[3,7] = -1 is not in [0, 1000)"),
])
def test_out_of_range_indices_raise_keras_style_index_error(call, value, exception, message):
    model = built_model()
    before = model.get_weights()
    x = with_value(value)
    with pytest.raises(exception) as info:
        if call == "predict":
            model.predict(x, verbose=0)
        elif call == "fit":
            model.fit(x, np.zeros(len(x)), shuffle=False, verbose=0)
        else:
            model.evaluate(x, np.zeros(len(x)), verbose=0)
    assert message in str(info.value)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)  # the failing batch was the first: no update


@pytest.mark.parametrize("value,message,fit_message", [
    (2.5, "indices[3,7] = 2.5 is not an integer", "indices[3,7] = 2.5 is not an integer"),
    (np.nan, "indices[3,7] = nan is not an integer", "`x` holds a non-finite value: x[3, 7] = nan"),
    (np.inf, "indices[3,7] = inf is not an integer", "`x` holds a non-finite value: x[3, 7] = inf"),
])
def test_non_integer_float_indices_raise(value, message, fit_message):
    model = built_model()
    with pytest.raises(ValueError, match=re.escape(message)):
        model.predict(with_value(value, dtype=np.float64), verbose=0)
    with pytest.raises(ValueError, match=re.escape(fit_message)):
        model.fit(with_value(value, dtype=np.float32), np.zeros(8), shuffle=False, verbose=0)


def test_whole_float_and_narrow_integer_indices_are_accepted():
    model = built_model()
    x = with_value(5)
    reference = model.predict(x, verbose=0)
    for dtype in (np.float32, np.float64, np.int32, np.int16, np.uint16):
        np.testing.assert_array_equal(model.predict(x.astype(dtype), verbose=0), reference)


def test_string_indices_raise_type_error():
    with pytest.raises(TypeError, match="`x` must be a numeric array, got dtype <U"):
        built_model().predict(np.array([["a"] * LENGTH]), verbose=0)


def test_ragged_input_raises_type_error_naming_x():
    with pytest.raises(TypeError, match="`x` must be a numeric array"):
        built_model().predict([[1, 2, 3], [4, 5]], verbose=0)


def test_length_mismatch_names_both_sizes():
    x, y = token_data(100)
    with pytest.raises(ValueError, match="x sizes: 100, y sizes: 99"):
        built_model().fit(x, y[:99], verbose=0)
    with pytest.raises(ValueError, match="x sizes: 100, y sizes: 98"):
        built_model().evaluate(x, y[:98], verbose=0)


@pytest.mark.parametrize("shape", [(8, LENGTH + 2), (8,), (8, LENGTH, 1)])
def test_input_shape_incompatible_with_input_length(shape):
    model = built_model()
    x = np.ones(shape, np.int64)
    expected = re.escape(f"expected shape=(None, {LENGTH}), found shape={shape}")
    with pytest.raises(ValueError, match=expected):
        model.predict(x, verbose=0)
    with pytest.raises(ValueError, match=expected):
        model.fit(x, np.zeros(8), verbose=0)


def test_model_built_from_data_applies_dense_on_the_last_axis():
    # No input_length: the model builds from the first data it sees.
    model = Sequential([Embedding(VOCAB, 4), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    out = model.predict(np.ones((2, 5), np.int64), verbose=0)
    assert out.shape == (2, 5, 1)  # Dense on the last axis, as in Keras


def test_fit_before_compile():
    x, y = token_data(8)
    model = Sequential([Embedding(VOCAB, 4, input_length=LENGTH), Flatten(), Dense(1)])
    for call in (lambda: model.fit(x, y), lambda: model.evaluate(x, y),
                 lambda: model.train_on_batch(x, y)):
        with pytest.raises(RuntimeError, match=r"compile\(\)"):
            call()


@pytest.mark.parametrize("argument,value", [("optimizer", "adamw_typo"), ("loss", "binary_cross"),
                                            ("metrics", ["acuracy"])])
def test_unknown_names_in_compile(argument, value):
    model = Sequential([Embedding(VOCAB, 4, input_length=LENGTH), Flatten(), Dense(1)])
    kwargs = {"optimizer": "adam", "loss": "mse", argument: value}
    name = value[0] if isinstance(value, list) else value
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        model.compile(**kwargs)


@pytest.mark.parametrize("weights,message", [
    ([np.zeros((999, 64))], "must have shape (1000, 64) (input_dim, output_dim), got (999, 64)"),
    ([np.zeros((64, 1000))], "got (64, 1000)"),
    ([np.zeros((1000, 64)), np.zeros(3)], "list of 2 arrays"),
    ([np.full((1000, 64), np.nan)], "finite"),
])
def test_embedding_weights_of_wrong_shape(weights, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Embedding(input_dim=1000, output_dim=64, input_length=10, weights=weights)


@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 0}, "`batch_size` must be a positive integer, got 0"),
    ({"batch_size": 2.5}, "got 2.5"),
    ({"validation_split": 1.0}, "validation_split must be in [0, 1), got 1.0"),
])
def test_bad_fit_arguments(kwargs, message):
    x, y = token_data(8)
    with pytest.raises(ValueError, match=re.escape(message)):
        built_model().fit(x, y, verbose=0, **kwargs)


@pytest.mark.parametrize("constructor,message", [
    (lambda: Embedding(0, 4), "input_dim=0"),
    (lambda: Embedding(10, -1), "output_dim=-1"),
    (lambda: Embedding(10, 4, input_length=0), "input_length=0"),
    (lambda: Dense(0), "units=0"),
    (lambda: Dense(2, activation="sigmoidd"), "'sigmoidd'"),
    (lambda: Dropout(1.5), "rate=1.5"),
])
def test_bad_layer_arguments(constructor, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        constructor()


def test_nan_targets_give_nan_loss_not_a_crash():
    # Keras does not reject NaN targets either; the loss must show it.
    x, y = token_data(32)
    y[0] = np.nan
    model = built_model()
    assert np.isnan(model.evaluate(x, y, verbose=0)[0])


# ---- structure, summary, weights --------------------------------------------

def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = Sequential([Embedding(VOCAB, 8, input_length=LENGTH, trainable=False, name="emb"),
                        Flatten(name="flat"), Dense(3, name="head")], name="clf")
    text = summary_text(model)
    for expected in ('Model: "clf"', "emb (Embedding)", "(None, 10, 8)", "8,000",
                     "flat (Flatten)", "(None, 80)", "head (Dense)", "(None, 3)", "243",
                     "Total params: 8,243 ", "Trainable params: 243 ",
                     "Non-trainable params: 8,000 "):
        assert expected in text, expected


def test_input_first_entry_and_keras2_input_shape():
    via_input = Sequential([Input(shape=(LENGTH,)), Embedding(VOCAB, 4), Flatten(), Dense(2)])
    via_keras2 = Sequential([Embedding(VOCAB, 4, input_shape=(LENGTH,)), Flatten(), Dense(2)])
    via_length = Sequential([Embedding(VOCAB, 4, input_length=LENGTH), Flatten(), Dense(2)])
    for model in (via_input, via_keras2, via_length):
        assert model.built and model.input_shape == (None, LENGTH)
        assert model.output_shape == (None, 2)
        assert model.count_params() == VOCAB * 4 + LENGTH * 4 * 2 + 2
        assert "(None, 40)" in summary_text(model)
    assert len(via_input.layers) == 3  # the Input is not a layer of the model


def test_dense_keras2_input_dim_spelling_trains_on_floats():
    x = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
    y = x @ np.arange(1, 6, dtype=np.float32)
    model = Sequential([Dense(1, input_dim=5)])
    assert model.input_shape == (None, 5)
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]


def test_input_after_layers_is_rejected():
    model = Sequential([Embedding(VOCAB, 4)])
    with pytest.raises(ValueError, match="first entry"):
        model.add(Input(shape=(LENGTH,)))


def test_get_set_weights_round_trip():
    x, _ = token_data(50)
    source, target = seed_model(dim=8), seed_model(dim=8)
    source.build((None, LENGTH))
    target.build((None, LENGTH))
    assert not np.array_equal(source.predict(x, verbose=0), target.predict(x, verbose=0))
    weights = source.get_weights()
    target.set_weights(weights)
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))
    weights[0][...] = 0  # get_weights returns copies
    assert np.abs(source.get_weights()[0]).max() > 0


def test_set_weights_errors_name_the_mismatch():
    model = built_model()
    weights = model.get_weights()
    with pytest.raises(ValueError, match="list of 3 arrays, got 2"):
        model.set_weights(weights[:2])
    with pytest.raises(ValueError, match=re.escape("shape (40, 2)")):
        model.set_weights([weights[0], np.zeros((40, 2)), weights[2]])


def test_duplicate_layer_names_are_rejected():
    model = Sequential([Dense(2, name="d", input_dim=3)])
    with pytest.raises(ValueError, match="'d'"):
        model.add(Dense(2, name="d"))


# ---- files ------------------------------------------------------------------

def trained_model(optimizer, epochs=1, sparse=False, seed=0):
    set_random_seed(seed)
    x, y = token_data(256)
    model = seed_model(Embedding(VOCAB, 8, input_length=LENGTH, sparse=sparse), optimizer=optimizer)
    model.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0)
    return model


OPTIMIZER_CONFIGS = [
    lambda: optimizers.Adam(0.01),
    lambda: optimizers.Adam(0.01, amsgrad=True),
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(momentum=0.5, centered=True),
    lambda: optimizers.Adagrad(0.1),
]


def test_save_weights_load_weights_round_trip(tmp_path):
    model = trained_model("adam")
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    fresh = seed_model(dim=8)
    fresh.build((None, LENGTH))
    fresh.load_weights(path)
    x, _ = token_data(50, seed=1)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(FileExistsError):
        model.save_weights(path, overwrite=False)


def test_load_weights_into_a_different_architecture(tmp_path):
    trained_model("adam").save_weights(tmp_path / "w.weights.h5")
    other = Sequential([Embedding(VOCAB, 4, input_length=LENGTH), Flatten(), Dense(1)])
    with pytest.raises(ValueError, match=re.escape("(1000, 4) in the model, (1000, 8) in the file")):
        other.load_weights(tmp_path / "w.weights.h5")
    deeper = Sequential([Embedding(VOCAB, 8, input_length=LENGTH), Flatten(), Dense(2), Dense(1)])
    with pytest.raises(ValueError, match="saved from another model: it lacks weights of .*dense_1"):
        deeper.load_weights(tmp_path / "w.weights.h5")


@pytest.mark.parametrize("make_optimizer", OPTIMIZER_CONFIGS)
@pytest.mark.parametrize("sparse", [False, True])
def test_save_load_model_resumes_training_exactly(tmp_path, make_optimizer, sparse):
    uninterrupted = trained_model(make_optimizer(), epochs=2, sparse=sparse)
    first_half = trained_model(make_optimizer(), epochs=1, sparse=sparse)
    first_half.save(tmp_path / "model.keras")
    restored = load_model(tmp_path / "model.keras")
    x, y = token_data(256)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), first_half.predict(x, verbose=0))
    assert type(restored.optimizer) is type(first_half.optimizer)
    assert restored.optimizer.get_config() == first_half.optimizer.get_config()
    assert restored.layers[0].sparse == sparse
    restored.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for want, got in zip(uninterrupted.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_optimizer_state_matters_for_resuming(tmp_path):
    # Guards the test above: a fresh optimizer on the same weights diverges.
    uninterrupted = trained_model(optimizers.Adam(0.01), epochs=2)
    restored = load_model(_saved(trained_model(optimizers.Adam(0.01)), tmp_path), compile=False)
    restored.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy")
    x, y = token_data(256)
    restored.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    assert not np.allclose(restored.get_weights()[2], uninterrupted.get_weights()[2], atol=1e-6)


def _saved(model, directory):
    path = directory / "m.keras"
    model.save(path)
    return path


def test_load_model_keeps_structure_and_compile_settings(tmp_path):
    model = Sequential([Input(shape=(LENGTH,)),
                        Embedding(VOCAB, 6, mask_zero=True, name="words"), Flatten(),
                        Dropout(0.25, seed=3), Dense(4, activation="softmax")], name="seq")
    model.compile(optimizer=optimizers.RMSprop(0.002, rho=0.8), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.save(tmp_path / "m.keras")
    restored = load_model(tmp_path / "m.keras")
    assert restored.name == "seq" and restored.input_shape == (None, LENGTH)
    assert [type(layer).__name__ for layer in restored.layers] == \
        ["Embedding", "Flatten", "Dropout", "Dense"]
    assert restored.layers[0].name == "words" and restored.layers[0].mask_zero
    assert restored.layers[2].rate == 0.25
    assert restored.optimizer.learning_rate == pytest.approx(0.002)
    assert restored.optimizer.rho == pytest.approx(0.8)
    assert restored.loss.name == "sparse_categorical_crossentropy"
    assert summary_text(restored).split("\n")[1:] == summary_text(model).split("\n")[1:]
    x = np.random.default_rng(0).integers(0, VOCAB, (5, LENGTH))
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert not load_model(tmp_path / "m.keras", compile=False).compiled


def foreign_files(directory, good):
    """name -> path of files that are not fastembed models."""
    data = good.read_bytes()
    files = {"truncated": data[: len(data) // 2], "empty": b"",
             "text": b"this is not a model\n", "one_byte_short": data[:-1]}
    for name, content in files.items():
        (directory / name).write_bytes(content)
    with zipfile.ZipFile(directory / "random_zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    np.savez(directory / "plain.npz", a=np.arange(3))
    np.save(directory / "array.npy", np.arange(3))
    np.savez(directory / "pickled.npz", a=np.array([{"evil": 1}], dtype=object))
    return {name: directory / name for name in
            list(files) + ["random_zip", "plain.npz", "pickled.npz", "array.npy"]}


def test_truncated_and_foreign_files_are_clear_value_errors(tmp_path):
    model = trained_model("adam")
    good = _saved(model, tmp_path)
    model.save_weights(tmp_path / "weights.weights.h5")
    for name, path in foreign_files(tmp_path, good).items():
        with pytest.raises(ValueError, match=re.escape(repr(str(path)))):
            load_model(path)
        with pytest.raises(ValueError, match=re.escape(repr(str(path)))):
            model.load_weights(path)
    # A weights file is not a model file; a model file holds weights (as in Keras).
    with pytest.raises(ValueError, match="holds weights only"):
        load_model(tmp_path / "weights.weights.h5")
    model.load_weights(good)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.keras")


@pytest.mark.parametrize("method,name", [("save", "model.keras"),
                                         ("save_weights", "model.weights.h5")])
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch, method, name):
    from fastembed.saving import files
    model = trained_model("adam")
    path = tmp_path / name
    getattr(model, method)(path)
    before = path.read_bytes()
    model.fit(*token_data(64), epochs=1, verbose=0)  # the next save would differ
    write_atomically = files.write_atomically

    def failing_write(filepath, write):
        def partial(handle):
            handle.write(b"partial garbage")
            raise OSError("disk full")
        write_atomically(filepath, partial)

    monkeypatch.setattr("fastembed.saving.write_atomically", failing_write)
    with pytest.raises(OSError, match="disk full"):
        getattr(model, method)(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary left behind


# ---- fit options, callbacks, progress ------------------------------------------------

def test_validation_split_and_validation_data_add_val_metrics():
    x, y = token_data(200)
    model = seed_model(dim=8)
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0).history
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 2 for values in history.values())
    # The validation numbers are evaluate() on the held-out tail.
    np.testing.assert_allclose(history["val_loss"][-1],
                               model.evaluate(x[150:], y[150:], verbose=0)[0], rtol=1e-6)
    history = model.fit(x[:100], y[:100], epochs=1, validation_data=(x[100:], y[100:]),
                        verbose=0).history
    np.testing.assert_allclose(history["val_loss"][-1],
                               model.evaluate(x[100:], y[100:], verbose=0)[0], rtol=1e-6)


def test_early_stopping_stops_when_the_monitor_stalls():
    x, y = token_data(128)
    stopper = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=2)
    history = seed_model(dim=8).fit(x, y, epochs=20, callbacks=[stopper], verbose=0)
    # Epoch 0 sets the best; epochs 1 and 2 fail to improve by 10 -> stop after epoch 2.
    assert history.epoch == [0, 1, 2]
    assert stopper.stopped_epoch == 2


def test_early_stopping_keeps_going_while_improving():
    x, y = token_data(256)
    stopper = callbacks.EarlyStopping(monitor="loss", patience=0)
    history = seed_model(dim=8, optimizer=optimizers.SGD(0.01)).fit(
        x, y, epochs=4, callbacks=[stopper], shuffle=False, verbose=0)
    assert np.all(np.diff(history.history["loss"]) < 0)
    assert len(history.epoch) == 4 and stopper.stopped_epoch == 0


def test_model_checkpoint_writes_loadable_files(tmp_path):
    x, y = token_data(128)
    model = seed_model(dim=8)
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{loss:.3f}.keras")
    model.fit(x, y, epochs=3, callbacks=[callbacks.ModelCheckpoint(pattern, monitor="loss")],
              verbose=0)
    files = sorted(os.listdir(tmp_path))
    assert [f[:8] for f in files] == ["ckpt-01-", "ckpt-02-", "ckpt-03-"]
    last = load_model(tmp_path / files[-1])
    np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))


def test_model_checkpoint_save_best_only_weights_only(tmp_path):
    # mode="max" on a falling loss: the best epoch is the first, so the file must
    # keep epoch 1's weights while training goes on.
    x, y = token_data(128)
    model = seed_model(dim=8)
    per_epoch = []
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "best.weights.h5", monitor="loss", mode="max",
                                           save_best_only=True, save_weights_only=True)
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: per_epoch.append(
        (logs["loss"], model.get_weights())))
    model.fit(x, y, epochs=3, callbacks=[checkpoint, record], verbose=0)
    losses = [loss for loss, _ in per_epoch]
    assert losses[0] == max(losses) and checkpoint.best == losses[0]
    model.load_weights(tmp_path / "best.weights.h5")  # a weights file, not a model
    for saved, first_epoch in zip(model.get_weights(), per_epoch[0][1]):
        np.testing.assert_array_equal(saved, first_epoch)
    assert os.listdir(tmp_path) == ["best.weights.h5"]


def test_lambda_callback_hooks_are_called():
    x, y = token_data(100)
    calls = {"train_begin": 0, "train_end": 0, "epoch_begin": [], "epoch_end": [], "batches": []}
    callback = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.__setitem__("train_begin", calls["train_begin"] + 1),
        on_train_end=lambda logs: calls.__setitem__("train_end", calls["train_end"] + 1),
        on_epoch_begin=lambda epoch, logs: calls["epoch_begin"].append(epoch),
        on_epoch_end=lambda epoch, logs: calls["epoch_end"].append((epoch, sorted(logs))),
        on_batch_end=lambda batch, logs: calls["batches"].append(batch))
    seed_model(dim=8).fit(x, y, epochs=2, batch_size=32, callbacks=[callback], verbose=0)
    assert calls["train_begin"] == calls["train_end"] == 1
    assert calls["epoch_begin"] == [0, 1]
    assert calls["epoch_end"] == [(0, ["accuracy", "loss"]), (1, ["accuracy", "loss"])]
    assert calls["batches"] == [0, 1, 2, 3] * 2  # ceil(100 / 32) steps per epoch


def test_callbacks_must_be_callback_instances():
    x, y = token_data(8)
    with pytest.raises(TypeError, match="Callback"):
        built_model().fit(x, y, callbacks=[lambda: None], verbose=0)


def test_verbose_1_prints_keras_style_progress(capsys):
    x, y = token_data(100)
    seed_model(dim=8).fit(x, y, epochs=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0] == "Epoch 1/2" and "Epoch 2/2" in lines
    final = [line for line in lines if line.startswith("4/4 ")]
    assert len(final) == 2
    assert re.search(r"4/4 ━+ \S+ \S+/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", final[0])


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = token_data(100)
    seed_model(dim=8).fit(x, y, epochs=3, batch_size=32, verbose=2, validation_split=0.2)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    epoch_lines = [line for line in lines if re.match(r"3/3 - \S+ - \S+/step - ", line)]
    assert len(epoch_lines) == 3
    assert all("val_loss: " in line for line in epoch_lines)
    assert len(lines) == 6  # plus the three "Epoch i/3" headers


def test_verbose_0_prints_nothing(capsys):
    x, y = token_data(100)
    model = seed_model(dim=8)
    model.fit(x, y, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


# ---- layers inside a model ------------------------------------------------------

def test_sparse_embedding_updates_only_touched_rows():
    x, y = token_data(256)
    x = x % 500  # rows 500..999 are never looked up
    x[:, 0] = np.where(y > 0, x[:, 0] % 250, 250 + x[:, 0] % 250)
    for sparse in (True, False):
        set_random_seed(0)
        model = seed_model(Embedding(VOCAB, 8, input_length=LENGTH, sparse=sparse))
        before = model.get_weights()[0]
        model.fit(x, y, epochs=2, verbose=0)
        after = model.get_weights()[0]
        touched = np.unique(x)
        untouched = np.setdiff1d(np.arange(VOCAB), touched)
        assert after[untouched].tobytes() == before[untouched].tobytes()
        assert np.all(np.any(after[touched] != before[touched], axis=1))


def test_lazy_and_dense_semantics_differ_for_rows_left_out_of_a_batch():
    # Adam: a dense update keeps moving a row touched earlier (its momentum is
    # non-zero), a lazy update leaves it alone while it is absent.
    x = np.array([[1, 2], [3, 4]])
    tables = {}
    for sparse in (True, False):
        model = Sequential([Embedding(10, 3, input_length=2, sparse=sparse), Flatten(), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        model.set_weights([np.ones((10, 3)), np.ones((6, 1)), np.zeros(1)])
        model.train_on_batch(x[:1], np.zeros(1))
        after_first = model.get_weights()[0]
        model.train_on_batch(x[1:], np.zeros(1))
        tables[sparse] = (after_first, model.get_weights()[0])
    lazy_first, lazy_second = tables[True]
    dense_first, dense_second = tables[False]
    np.testing.assert_array_equal(lazy_first, dense_first)  # same first step
    np.testing.assert_array_equal(lazy_second[[1, 2]], lazy_first[[1, 2]])
    assert np.all(dense_second[[1, 2]] < dense_first[[1, 2]])  # momentum keeps going down
    np.testing.assert_array_equal(dense_second[5:], 1.0)  # never touched: no momentum, no move


def test_mask_zero_produces_the_mask():
    layer = Embedding(VOCAB, 4, mask_zero=True)
    x = np.array([[5, 0, 7, 0], [0, 0, 1, 2]])
    np.testing.assert_array_equal(layer.compute_mask(x), x != 0)
    assert Embedding(VOCAB, 4).compute_mask(x) is None
    # Dense passes a mask through; Flatten (as in Keras) drops it.
    assert Dense(2).compute_mask(None, x != 0) is not None
    assert Flatten().compute_mask(None, x != 0) is None


def test_mask_reaches_a_masking_layer_in_the_model():
    seen = []

    class Recorder(Dense):
        def call(self, inputs, training=False, mask=None):
            seen.append(None if mask is None else mask.copy())
            return super().call(inputs, training=training, mask=mask)

    x = np.array([[5, 0, 7], [0, 1, 2]])
    Sequential([Embedding(VOCAB, 4, mask_zero=True, input_length=3), Recorder(2)]).predict(x, verbose=0)
    Sequential([Embedding(VOCAB, 4, input_length=3), Recorder(2)]).predict(x, verbose=0)
    np.testing.assert_array_equal(seen[0], x != 0)
    assert seen[1] is None


def test_dropout_training_versus_inference():
    layer = Dropout(0.4, seed=0)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(layer(x, training=False), x)
    y, context = engine.record(layer, x, training=True)
    kept = y != 0
    assert 0.55 < kept.mean() < 0.65
    np.testing.assert_allclose(y[kept], 1 / 0.6, rtol=1e-6)
    grad = layer.backward(context, np.full_like(x, 2.0))
    np.testing.assert_array_equal(grad, 2.0 * y)  # the same mask scales the gradient
    _, context = engine.record(layer, x, training=False)
    np.testing.assert_array_equal(layer.backward(context, np.full_like(x, 2.0)), 2.0)


def test_dropout_in_a_model_is_off_in_predict_and_evaluate_and_on_in_fit():
    x, y = token_data(256)
    model = Sequential([Embedding(VOCAB, 8, input_length=LENGTH), Flatten(), Dropout(0.5),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(0.0), loss="binary_crossentropy")  # weights stay put
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    evaluated = model.evaluate(x, y, verbose=0)
    train_losses = [model.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"][0]
                    for _ in range(2)]
    assert train_losses[0] != train_losses[1] != evaluated  # fit draws masks


def test_predict_batching_and_empty_input():
    model = built_model()
    x, _ = token_data(70)
    full = model.predict(x, batch_size=70, verbose=0)
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), full, rtol=1e-6)
    np.testing.assert_array_equal(model.predict_on_batch(x), full)
    assert model.predict(x[:0], verbose=0).shape == (0, 1)


def test_inputs_are_checked_again_whenever_they_differ_from_the_last():
    """predict passes an input of the last checked dtype and shape unchecked:
    any other input, and any input after the model changes, is checked."""
    model = Sequential([Embedding(50, 4), Flatten(), Dense(1)])
    x = np.random.default_rng(0).integers(0, 50, (3, 6))
    model.predict(x, verbose=0)
    model.predict(x[:1], verbose=0)  # another batch size: the same checks
    with pytest.raises(ValueError, match=r"expected shape=\(None, 6\), found shape=\(3, 7\)"):
        model.predict(np.zeros((3, 7), np.int64), verbose=0)
    with pytest.raises(TypeError, match="must be a numeric or string array"):
        model.predict(x.astype(complex), verbose=0)
    with pytest.raises(ValueError, match="scalar"):
        model.predict(np.int64(3), verbose=0)
    for _ in range(3):
        model.pop()
    with pytest.raises(ValueError, match="no layers"):
        model.predict(x, verbose=0)
    model.add(Embedding(50, 2))
    model.add(Flatten())
    table = model.layers[0].get_weights()[0]
    np.testing.assert_array_equal(model.predict(x, verbose=0), table[x].reshape(3, 12))
    with pytest.raises(ValueError, match=r"found shape=\(3, 7\)"):
        model.predict(np.zeros((3, 7), np.int64), verbose=0)


def test_targets_of_the_wrong_shape_name_both_shapes():
    x, _ = token_data(64)
    with pytest.raises(ValueError, match=re.escape("got (32, 2) and (32, 1)")):
        built_model().fit(x, np.zeros((64, 2)), verbose=0)


def test_empty_training_set():
    x, y = token_data(8)
    with pytest.raises(ValueError, match="at least one training sample"):
        built_model().fit(x[:0], y[:0], verbose=0)


def test_non_trainable_model_does_not_change():
    x, y = token_data(64)
    model = built_model()
    model.trainable = False
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 3
    for old, new in zip(before, model.get_weights()):
        assert old.tobytes() == new.tobytes()


def test_set_random_seed_makes_training_reproducible():
    # Initializers, shuffling and Dropout all draw from the seeded generator.
    x, y = token_data(128)
    runs = []
    for _ in range(2):
        set_random_seed(7)
        model = Sequential([Embedding(VOCAB, 4, input_length=LENGTH), Flatten(), Dropout(0.3),
                            Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x, y, epochs=2, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_fit_continues_training_across_calls():
    # Two fit(epochs=1) calls equal one fit(epochs=2): the optimizer keeps its state.
    one_call = trained_model(optimizers.Adam(0.01), epochs=2)
    two_calls = trained_model(optimizers.Adam(0.01), epochs=1)
    x, y = token_data(256)
    two_calls.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for a, b in zip(one_call.get_weights(), two_calls.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_with_learning_rate_callable_refuses_to_save(tmp_path):
    x, y = token_data(64)
    model = seed_model(dim=4, optimizer=optimizers.SGD(learning_rate=lambda: 0.1))
    model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="learning_rate is a Python callable"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    model.save_weights(tmp_path / "m.weights.h5")  # weights alone need no optimizer config
    assert (tmp_path / "m.weights.h5").exists()


def test_initial_epoch_counts_from_there():
    x, y = token_data(64)
    seen = []
    history = built_model().fit(x, y, epochs=3, initial_epoch=1, verbose=0, callbacks=[
        callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))])
    assert history.epoch == [1, 2] and seen == [1, 2]


def test_categorical_ids_of_a_million_row_table():
    """User / item ids of a 2,000,000-row table, lazily updated (sparse=True)."""
    rows = 2_000_000
    rng = np.random.default_rng(3)
    active = rng.choice(rows, size=2000, replace=False)  # ids spread over the whole table
    likes = rng.random(2000) < 0.5  # each id's hidden preference
    picks = rng.integers(0, 2000, size=(4000, 2))
    x = active[picks]  # (user id, item id) pairs
    y = (likes[picks[:, 0]] == likes[picks[:, 1]]).astype(np.float32)
    set_random_seed(0)
    model = Sequential([Embedding(rows, 8, input_length=2, sparse=True), Flatten(),
                        Dense(16, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    before = model.layers[0].get_weights()[0][:100_000].copy()
    history = model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    after = model.layers[0].get_weights()[0][:100_000]
    untouched = np.setdiff1d(np.arange(100_000), active)
    assert after[untouched].tobytes() == before[untouched].tobytes()
    with pytest.raises(IndexError, match=r"is not in \[0, 2000000\)"):
        model.predict(np.array([[5, rows]]))


# ---- thread team or the calling thread alone --------------------------------------

def _fit_weights(model_layers, threads):
    from fastembed import get_num_threads, set_num_threads
    before = get_num_threads()
    set_random_seed(7)
    x, y = token_data(n=320, seed=3)
    model = Sequential(model_layers())
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    try:
        set_num_threads(threads)
        model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    finally:
        set_num_threads(before)
    return model.get_weights()


@pytest.mark.parametrize("head", ["cnn", "lstm"])
def test_training_gives_the_same_bits_on_one_thread_or_a_team(head):
    # What lets a training step run on whichever is faster (TeamChoice).
    from fastembed.layers import LSTM, Conv1D, GlobalMaxPooling1D

    def layers():
        embedding = Embedding(VOCAB, 64, input_length=LENGTH)
        if head == "cnn":
            return [embedding, Conv1D(128, 5, activation="relu"), GlobalMaxPooling1D(),
                    Dense(1, activation="sigmoid")]
        return [embedding, LSTM(32), Dense(1, activation="sigmoid")]

    alone, team = _fit_weights(layers, 1), _fit_weights(layers, 2)
    for a, t in zip(alone, team):
        np.testing.assert_array_equal(a, t)


def test_team_choice_follows_the_faster_and_restores_the_thread_count():
    from fastembed import _kernels, get_num_threads, set_num_threads
    before = get_num_threads()
    set_num_threads(2)
    try:
        choice = _kernels.TeamChoice()
        cost = {0: 200.0, 1: 100.0}  # ns of a call on the team / alone
        picks = []
        for step in range(200):
            if step == 100:
                cost = {0: 50.0, 1: 100.0}  # the vCPUs moved closer
            alone = choice.enter()
            assert get_num_threads() == (1 if alone else 2)
            choice.leave(alone, cost[alone])
            assert get_num_threads() == 2
            picks.append(alone)
    finally:
        set_num_threads(before)
    assert sum(picks[20:100]) >= 75  # alone, but for rare explorations of the team
    assert sum(picks[150:]) <= 5     # back on the team soon after it became faster
