"""Model files against real Keras 3 (jax backend), both ways.

Each model is written once as a builder taking the library module (keras or
fastembed). Keras writes .keras, .weights.h5 and legacy .h5 files of its
model (trained one epoch, so the weights and the optimizer state are not
the initial ones), which fastembed loads; fastembed writes .keras,
.weights.h5 and .h5 files of its own model, which Keras loads. Predictions agree
within 1e-5. A model loaded from a Keras-trained .keras file then trains one
more epoch (shuffle=False) with Keras's loss within 1e-4 relative, which
needs the optimizer's state (moments, iteration counter) carried over.
"""
import json
import re
import zipfile

import h5py
import keras
import numpy as np
import pytest

import fastembed
from fastembed.models import Sequential, load_model, model_from_json

pytestmark = [pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")]

PREDICT_TOL = dict(rtol=1e-5, atol=1e-5)
LOSS_RTOL = 1e-4
VOCAB, LENGTH, SAMPLES = 30, 8, 96


# ----------------------------------------------------------------- builders
# k is the module: keras or fastembed. Together they hold every layer fastembed has.

def dense_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(VOCAB, 4),
                         k.layers.Flatten(), k.layers.Dense(6, activation="relu"),
                         k.layers.Dropout(0.3), k.layers.GaussianNoise(0.1),
                         k.layers.Dense(1, activation="sigmoid")])


def lstm_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"),
                         k.layers.Embedding(VOCAB, 4, mask_zero=True),
                         k.layers.LSTM(5), k.layers.Dense(1, activation="sigmoid")])


def bidirectional_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(VOCAB, 4),
                         k.layers.SpatialDropout1D(0.2),
                         k.layers.Bidirectional(k.layers.LSTM(3, return_sequences=True)),
                         k.layers.GlobalAveragePooling1D(),
                         k.layers.Dense(1, activation="sigmoid")])


def conv_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(VOCAB, 4),
                         k.layers.Conv1D(6, 3, padding="same", activation="relu"),
                         k.layers.MaxPooling1D(2),
                         k.layers.AveragePooling1D(2, padding="same"),
                         k.layers.Conv1D(5, 2), k.layers.GlobalMaxPooling1D(),
                         k.layers.Dense(1, activation="sigmoid")])


def reshaping_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(VOCAB, 3),
                         k.layers.Reshape((LENGTH // 2, 6)), k.layers.Permute((2, 1)),
                         k.layers.Flatten(), k.layers.Dense(4), k.layers.RepeatVector(2),
                         k.layers.Activation("tanh"), k.layers.Flatten(),
                         k.layers.Dense(1, activation="sigmoid")])


def merging_model(k):
    """A Functional model: two inputs, every merging layer, a nested Sequential."""
    ids = k.Input((LENGTH,), dtype="int32", name="ids")
    numeric = k.Input((3,), name="numeric")
    a = k.layers.Dense(4)(k.layers.Flatten()(k.layers.Embedding(VOCAB, 2)(ids)))
    b = k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh")], name="tower")(numeric)
    merged = [k.layers.Add()([a, b]), k.layers.Subtract()([a, b]), k.layers.Multiply()([a, b]),
              k.layers.Average()([a, b]), k.layers.Maximum()([a, b]),
              k.layers.Minimum()([a, b]), k.layers.Dot(axes=1)([a, b])]
    out = k.layers.Dense(1, activation="sigmoid")(k.layers.Concatenate()(merged))
    return k.Model([ids, numeric], out, name="merging")


def gru_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"),
                         k.layers.Embedding(VOCAB, 4, mask_zero=True),
                         k.layers.GRU(5, return_sequences=True),
                         k.layers.GRU(4, reset_after=False),
                         k.layers.Dense(1, activation="sigmoid")])


def masked_rnn_model(k):
    """Float sequences whose all-zero steps Masking hides from the RNNs."""
    return k.Sequential([k.Input((LENGTH, 3)), k.layers.Masking(0.0),
                         k.layers.SimpleRNN(5, return_sequences=True),
                         k.layers.Bidirectional(k.layers.GRU(3, reset_after=False)),
                         k.layers.Dense(1, activation="sigmoid")])


def normalization_model(k):
    return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(VOCAB, 4),
                         k.layers.LayerNormalization(),
                         k.layers.TimeDistributed(k.layers.Dense(3)),
                         k.layers.BatchNormalization(), k.layers.Flatten(), k.layers.Dense(1, activation="sigmoid")])


BUILDERS = [dense_model, lstm_model, bidirectional_model, conv_model, reshaping_model,
            merging_model, gru_model, masked_rnn_model, normalization_model]


def data(builder, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype("int32")
    ids[:, :2] = 0  # padding, for the masked LSTM
    y = rng.integers(0, 2, (SAMPLES, 1)).astype("float32")
    if builder is merging_model:
        return [ids, rng.normal(size=(SAMPLES, 3)).astype("float32")], y
    if builder is masked_rnn_model:
        sequences = rng.normal(size=(SAMPLES, LENGTH, 3)).astype("float32")
        sequences[:, :2] = 0.0
        return sequences, y
    return ids, y


def keras_trained(builder, optimizer="adam", loss="binary_crossentropy"):
    keras.utils.set_random_seed(1)
    model = builder(keras)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    model.fit(*data(builder), batch_size=32, epochs=1, shuffle=False, verbose=0)
    return model


def fastembed_trained(builder, optimizer="adam"):
    model = builder(fastembed)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(*data(builder), batch_size=32, epochs=1, shuffle=False, verbose=0)
    return model


def predictions(model, x):
    return np.asarray(model.predict(x, verbose=0))


def saved_in_every_format(model, builder, directory):
    """(x, model's predictions on x), with model saved as m.keras,
    w.weights.h5 and m.h5 in directory."""
    model.save(directory / "m.keras")
    model.save_weights(directory / "w.weights.h5")
    model.save(directory / "m.h5")
    x, _ = data(builder, seed=5)
    return x, predictions(model, x)


# ------------------------------------------------------- Keras -> fastembed

@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_keras_files_load_into_fastembed(tmp_path, builder):
    reference = keras_trained(builder)
    x, expected = saved_in_every_format(reference, builder, tmp_path)

    from_keras_file = load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(predictions(from_keras_file, x), expected, **PREDICT_TOL)
    assert [v.name.split("/")[-1] for v in from_keras_file.weights] == \
        [v.path.split("/")[-1] for v in reference.weights]
    from_legacy_file = load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(predictions(from_legacy_file, x), expected, **PREDICT_TOL)
    for path in ("w.weights.h5", "m.h5", "m.keras"):
        native = builder(fastembed)
        native.load_weights(tmp_path / path)
        np.testing.assert_allclose(predictions(native, x), expected, **PREDICT_TOL)


# ------------------------------------------------------- fastembed -> Keras

@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_fastembed_files_load_into_keras(tmp_path, builder):
    model = fastembed_trained(builder)
    x, expected = saved_in_every_format(model, builder, tmp_path)

    for path in ("m.keras", "m.h5"):
        restored = keras.saving.load_model(tmp_path / path)
        np.testing.assert_allclose(predictions(restored, x), expected, **PREDICT_TOL)
        assert type(restored.optimizer).__name__ == "Adam"
        assert int(restored.optimizer.iterations) == model.optimizer.iterations == 3
    native = builder(keras)
    native.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(predictions(native, x), expected, **PREDICT_TOL)


def test_large_weights_reach_keras_exactly(tmp_path):
    """Arrays of 64 KiB and more go into the HDF5 files from where they are
    (fastembed.saving.h5_image, without a copy): Keras reads every weight and
    optimizer slot back bit for bit, from each format."""
    def build(k):
        return k.Sequential([k.Input((LENGTH,), dtype="int32"), k.layers.Embedding(5000, 8),
                             k.layers.Flatten(), k.layers.Dense(1)])
    model = build(fastembed)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(3)
    model.fit(rng.integers(0, 5000, (64, LENGTH)), rng.random(64), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "w.weights.h5")
    native = build(keras)
    native.load_weights(tmp_path / "w.weights.h5")
    slots = model.optimizer.keras_variables(model.trainable_weights)
    assert slots[2].nbytes >= 5000 * 8 * 4  # the table's Adam moments: large too
    for restored in (keras.saving.load_model(tmp_path / "m.keras"),
                     keras.saving.load_model(tmp_path / "m.h5"), native):
        for ours, theirs in zip(model.get_weights(), restored.get_weights(), strict=True):
            np.testing.assert_array_equal(np.asarray(theirs), ours)
    in_keras = keras.saving.load_model(tmp_path / "m.keras").optimizer.variables
    for ours, theirs in zip(slots, in_keras, strict=True):
        np.testing.assert_array_equal(np.asarray(theirs), np.asarray(ours).reshape(theirs.shape))


# ------------------------------------------- training on after a Keras file

OPTIMIZERS = {
    "adam": lambda k: k.optimizers.Adam(0.01),
    "adam_amsgrad": lambda k: k.optimizers.Adam(0.01, amsgrad=True),
    "sgd_nesterov": lambda k: k.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop_centered": lambda k: k.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adagrad": lambda k: k.optimizers.Adagrad(0.05),
    "nadam": lambda k: k.optimizers.Nadam(0.01),
    "adamax": lambda k: k.optimizers.Adamax(0.02),
    "adadelta": lambda k: k.optimizers.Adadelta(1.0, rho=0.9),
    "ftrl": lambda k: k.optimizers.Ftrl(0.5, l1_regularization_strength=1e-3,
                                        l2_regularization_strength=1e-3, beta=0.1),
    "lion": lambda k: k.optimizers.Lion(0.001),
    "adam_ema": lambda k: k.optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9),
    "sgd_ema_overwrite": lambda k: k.optimizers.SGD(0.05, momentum=0.9, use_ema=True,
                                                    ema_momentum=0.8,
                                                    ema_overwrite_frequency=2),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("builder", [lstm_model, merging_model], ids=lambda b: b.__name__)
def test_training_continues_from_a_keras_file_as_in_keras(tmp_path, builder, optimizer):
    trained = keras_trained(builder, optimizer=OPTIMIZERS[optimizer](keras))
    trained.save(tmp_path / "m.keras")
    x, y = data(builder, seed=3)
    keras_copy = keras.saving.load_model(tmp_path / "m.keras")
    expected = keras_copy.fit(x, y, batch_size=32, epochs=1, shuffle=False,
                              verbose=0).history
    ours = load_model(tmp_path / "m.keras")
    assert ours.optimizer.iterations == int(trained.optimizer.iterations)
    history = ours.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    assert sorted(history) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=LOSS_RTOL)


@pytest.mark.parametrize("builder", [gru_model, masked_rnn_model, normalization_model],
                         ids=lambda b: b.__name__)
def test_training_continues_from_a_keras_file_for_more_layer_types(tmp_path, builder):
    """The optimizer's slots follow Keras's order of trainable weights (GRU
    and SimpleRNN cells, Bidirectional, TimeDistributed, the normalizations);
    BatchNormalization's moving statistics carry on."""
    test_training_continues_from_a_keras_file_as_in_keras(tmp_path, builder, "adam")


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_keras_continues_a_fastembed_file_as_fastembed_does(tmp_path, optimizer):
    """Keras reads the optimizer state fastembed wrote (slots, moving
    averages, Nadam's u_product) in its own order: both train on alike."""
    model = fastembed_trained(lstm_model, OPTIMIZERS[optimizer](fastembed))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    ours = model.optimizer.keras_variables(model.trainable_weights)
    theirs = [np.asarray(v) for v in restored.optimizer.variables]
    assert len(ours) == len(theirs) > 2
    for mine, keras_value in zip(ours, theirs):
        np.testing.assert_array_equal(mine, keras_value)
    x, y = data(lstm_model, seed=2)
    ours = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"]
    theirs = restored.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(ours, theirs, rtol=LOSS_RTOL)
    np.testing.assert_allclose(predictions(model, x), predictions(restored, x), **PREDICT_TOL)


# -------------------------------------------------------------- configs

@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_configs_are_keras_both_ways(builder):
    reference, ours = builder(keras), builder(fastembed)
    keras_config = json.loads(reference.to_json())
    assert json.loads(ours.to_json()).keys() == keras_config.keys()
    our_entries = _layer_entries(json.loads(ours.to_json()))
    keras_entries = _layer_entries(keras_config)
    assert [(e["class_name"], e["module"]) for e in our_entries] == \
        [(e["class_name"], e["module"]) for e in keras_entries]
    for mine, theirs in zip(our_entries, keras_entries):  # Keras's keys, no others
        assert sorted(mine["config"]) == sorted(theirs["config"]), mine["class_name"]
    from_keras = model_from_json(reference.to_json())
    assert [type(layer).__name__ for layer in from_keras.layers] == \
        [type(layer).__name__ for layer in reference.layers]
    assert [w.shape for w in from_keras.weights] == [tuple(w.shape) for w in reference.weights]
    in_keras = keras.models.model_from_json(ours.to_json())
    assert [tuple(w.shape) for w in in_keras.weights] == [w.shape for w in ours.weights]
    rebuilt = type(ours).from_config(reference.get_config())
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in ours.weights]


def _layer_entries(entry):
    found = []
    for layer in entry["config"].get("layers", []):
        found.append(layer)
        if "layers" in layer["config"]:
            found.extend(_layer_entries(layer))
        for key in ("layer", "backward_layer"):
            if key in layer["config"]:
                found.append(layer["config"][key])
    return found


def test_keras_2_configs_load():
    """tf.keras's spelling (legacy .h5 files): batch_input_shape, dtype strings,
    Embedding's input_length, LSTM's time_major and implementation."""
    config = {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {
            "batch_input_shape": [None, 5], "dtype": "int32", "sparse": False,
            "ragged": False, "name": "ids"}},
        {"class_name": "Embedding", "config": {
            "name": "e", "trainable": True, "batch_input_shape": [None, 5], "dtype": "float32",
            "input_dim": 10, "output_dim": 3, "embeddings_initializer": {
                "class_name": "RandomUniform",
                "config": {"minval": -0.05, "maxval": 0.05, "seed": None}},
            "embeddings_regularizer": None, "activity_regularizer": None,
            "embeddings_constraint": None, "mask_zero": False, "input_length": 5}},
        {"class_name": "LSTM", "config": {
            "name": "l", "trainable": True, "dtype": "float32", "return_sequences": False,
            "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
            "time_major": False, "units": 4, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "recurrent_initializer": {"class_name": "Orthogonal",
                                      "config": {"gain": 1.0, "seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0,
            "implementation": 2}}]}
    model = Sequential.from_config(config)
    assert model.input_shape == (None, 5)
    assert [w.shape for w in model.weights] == [(10, 3), (3, 16), (4, 16), (16,)]


def test_sparse_embedding_survives_fastembed_and_is_refused_by_keras(tmp_path):
    model = Sequential([fastembed.Input((LENGTH,), dtype="int32"),
                        fastembed.layers.Embedding(VOCAB, 4, sparse=True),
                        fastembed.layers.Flatten(), fastembed.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(*data(dense_model), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = load_model(tmp_path / "m.keras")
    assert restored.layers[0].sparse and restored.layers[0].embeddings.lazy
    with pytest.raises(Exception, match=r"Unrecognized keyword arguments passed to "
                                        r"Embedding: \{'sparse': True\}"):
        keras.saving.load_model(tmp_path / "m.keras")


# ------------------------------------------------------------- bad files

def _assert_unchanged(model, before):
    for variable, value in zip(model.weights, before):
        np.testing.assert_array_equal(variable.value, value)


def _assert_refused(model, before, path, match):
    """load_model and load_weights of path: ValueErrors, the model unchanged."""
    with pytest.raises(ValueError, match=match):
        load_model(path)
    with pytest.raises(ValueError, match=match):
        model.load_weights(path)
    _assert_unchanged(model, before)


@pytest.fixture
def target(tmp_path):
    """A trained fastembed model, its file, and a copy of its weights."""
    model = fastembed_trained(dense_model)
    model.save(tmp_path / "good.keras")
    return model, tmp_path / "good.keras", [w.numpy() for w in model.weights]


def test_truncated_zip(tmp_path, target):
    model, good, before = target
    data_ = good.read_bytes()
    for cut in (10, len(data_) // 2, len(data_) - 30):
        path = tmp_path / f"cut{cut}.keras"
        path.write_bytes(data_[:cut])
        _assert_refused(model, before, path, re.escape(repr(str(path))))


def test_corrupted_weights_in_the_zip(tmp_path, target):
    model, good, before = target
    path = tmp_path / "corrupt.keras"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as archive:
        for name in ("metadata.json", "config.json"):
            archive.writestr(name, source.read(name))
        weights = bytearray(source.read("model.weights.h5"))
        weights[100:400] = bytes(300)  # the HDF5 superblock and root group
        archive.writestr("model.weights.h5", bytes(weights))
    _assert_refused(model, before, path, "truncated, corrupted")


def test_zip_without_config(tmp_path, target):
    model, good, before = target
    path = tmp_path / "noconfig.keras"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.weights.h5", source.read("model.weights.h5"))
    with pytest.raises(ValueError, match="has no config.json"):
        load_model(path)
    plain = tmp_path / "other.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _assert_refused(model, before, plain, "has no config.json")


def _with_config(good, path, edit):
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as archive:
        config = json.loads(source.read("config.json"))
        edit(config)
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", source.read("model.weights.h5"))


def test_config_naming_unknown_things(tmp_path, target):
    _, good, _ = target
    cases = {
        "layer": (lambda c: c["config"]["layers"][3].update(class_name="Conv2D"),
                  r"Unknown layer class 'Conv2D': fastembed supports \[.*'Dense'"),
        "activation": (lambda c: c["config"]["layers"][3]["config"].update(activation="mish"),
                       r"Unknown activation: 'mish'; expected one of"),
        "optimizer": (lambda c: c["compile_config"]["optimizer"].update(class_name="Lamb"),
                      r"optimizer identifier.*Lamb.*expected one of \['adadelta', 'adagrad'"),
        "loss": (lambda c: c["compile_config"].update(loss="dice"),
                 r"Unknown loss: 'dice'; expected"),
        "regularizer": (lambda c: c["config"]["layers"][1]["config"].update(
            embeddings_regularizer={"class_name": "L3", "config": {"l3": 0.1}}),
            r"Unknown regularizer class_name .*'L3'.*expected one of \['L1'"),
        "argument": (lambda c: c["config"]["layers"][2]["config"].update(flip=True),
                     r"Flatten in fastembed does not support the argument\(s\) \{'flip': "
                     r"True\}; it takes \["),
    }
    for name, (edit, message) in cases.items():
        path = tmp_path / f"{name}.keras"
        _with_config(good, path, edit)
        with pytest.raises((ValueError, NotImplementedError), match=message):
            load_model(path)


def test_mismatched_shapes_and_other_models_weights(tmp_path, target):
    model, _, before = target
    wider = keras.Sequential([keras.Input((LENGTH,), dtype="int32"),
                              keras.layers.Embedding(VOCAB, 5), keras.layers.Flatten(),
                              keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(1)])
    wider.save_weights(tmp_path / "wider.weights.h5")
    wider.save(tmp_path / "wider.h5")
    with pytest.raises(ValueError, match=re.escape("has shape (30, 4) in the model, "
                                                   "(30, 5) in the file")):
        model.load_weights(tmp_path / "wider.weights.h5")
    with pytest.raises(ValueError, match=re.escape("(30, 4) in the model, (30, 5) in the file")):
        model.load_weights(tmp_path / "wider.h5")
    other = keras_trained(conv_model)
    other.save_weights(tmp_path / "conv.weights.h5")
    other.save(tmp_path / "conv.h5")
    with pytest.raises(ValueError, match="another model"):
        model.load_weights(tmp_path / "conv.weights.h5")
    with pytest.raises(ValueError, match="holds weights of 4 layers"):
        model.load_weights(tmp_path / "conv.h5")
    _assert_unchanged(model, before)


def test_foreign_files(tmp_path, target):
    model, _, before = target
    (tmp_path / "text.keras").write_text("not a model\n")
    np.save(tmp_path / "array.npy", np.arange(3))
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["x"] = np.arange(3)
    for name in ("text.keras", "array.npy", "plain.h5"):
        _assert_refused(model, before, tmp_path / name, re.escape(repr(str(tmp_path / name))))


def test_lambda_layers_are_refused_in_safe_mode(tmp_path):
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2),
                                  keras.layers.Dense(1)])
    reference.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"'Lambda'.*safe_mode=True"):
        load_model(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"fastembed has no 'Lambda' layer"):
        load_model(tmp_path / "lambda.keras", safe_mode=False)


def test_save_names_keras_extensions(tmp_path, target):
    model, _, _ = target
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"`\.keras` extension.*`\.h5` extension"):
        model.save(tmp_path / "m.npz")


# ------------------------------------------------- dict inputs and outputs

def dict_io_model(k):
    """Inputs and outputs given as dicts (not in sorted key order; the output
    keys are not the output layers' names)."""
    ids = k.Input((LENGTH,), dtype="int32", name="ids")
    numeric = k.Input((3,), name="numeric")
    h = k.layers.Concatenate()([k.layers.Flatten()(k.layers.Embedding(VOCAB, 2)(ids)), numeric])
    h = k.layers.Dense(6, activation="relu")(h)
    return k.Model({"numeric": numeric, "ids": ids},
                   {"rating": k.layers.Dense(1, name="score")(h),
                    "click": k.layers.Dense(1, activation="sigmoid", name="click_head")(h)},
                   name="dict_io")


def dict_io_data(seed=0):
    rng = np.random.default_rng(seed)
    x = {"ids": rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype("int32"),
         "numeric": rng.normal(size=(SAMPLES, 3)).astype("float32")}
    y = {"rating": rng.normal(size=(SAMPLES, 1)).astype("float32"),
         "click": rng.integers(0, 2, (SAMPLES, 1)).astype("float32")}
    return x, y


DICT_COMPILE = dict(loss={"rating": "mse", "click": "binary_crossentropy"},
                    loss_weights={"rating": 1.0, "click": 0.5}, metrics={"click": ["accuracy"]})


def _trained_dict_io(k):
    (keras.utils if k is keras else k.utils).set_random_seed(1)
    model = dict_io_model(k)
    model.compile(optimizer="adam", **DICT_COMPILE)
    model.fit(*dict_io_data(), batch_size=32, epochs=1, shuffle=False, verbose=0)
    return model


def _saved_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["config"]


def _assert_same_dict_io(loaded, reference):
    """Same predictions (dicts keyed alike), then one more epoch of training
    (the optimizer state and the compile config carried over) alike."""
    x, y = dict_io_data(seed=2)
    got, want = loaded.predict(x, verbose=0), reference.predict(x, verbose=0)
    assert isinstance(got, dict) and sorted(got) == sorted(want) == ["click", "rating"]
    for key in want:
        np.testing.assert_allclose(got[key], want[key], **PREDICT_TOL)
    history = loaded.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    expected = reference.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    assert sorted(history) == sorted(expected) == \
        ["click_accuracy", "click_loss", "loss", "rating_loss"]
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=LOSS_RTOL, err_msg=key)


def test_dict_io_keras_file_loads_into_fastembed(tmp_path):
    reference = _trained_dict_io(keras)
    reference.save(tmp_path / "m.keras")
    _assert_same_dict_io(load_model(tmp_path / "m.keras"), reference)


def test_dict_io_fastembed_file_loads_into_keras(tmp_path):
    model = _trained_dict_io(fastembed)
    model.save(tmp_path / "m.keras")
    # Keras's schema: the dicts as the model was given them, [layer, node, tensor] each
    keras_config = dict_io_model(keras).get_config()
    config = _saved_config(tmp_path / "m.keras")
    for key in ("input_layers", "output_layers"):
        assert json.dumps(config[key]) == json.dumps(keras_config[key])
    _assert_same_dict_io(keras.saving.load_model(tmp_path / "m.keras"), model)
