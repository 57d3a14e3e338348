"""The Functional API on the graph engine: graphs, shared layers, nested
models, several inputs and outputs, custom layers, and their errors.
References are numpy code here; Keras equivalence is in test_functional_keras.py."""
import numpy as np
import pytest

import fastembed
from fastembed import optimizers
from fastembed.engine import Layer, record
from fastembed.layers import Dense, Embedding, Flatten, LSTM
from fastembed.models import Model, Sequential, load_model
from fastembed.utils import check_gradients
from fastembed.utils.gradient_check import GradientCheckError

RNG = np.random.default_rng(0)


def _two_input_data(n=64, vocab=50, steps=5):
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, vocab, (n, steps)), rng.integers(0, vocab, (n, steps))
    return a, b, (a[:, 0] < vocab // 2).astype(np.float32), (b[:, 0] / vocab).astype(np.float32)


def _two_output_model(sparse=False):
    a = fastembed.Input(shape=(5,), name="a", dtype="int32")
    b = fastembed.Input(shape=(5,), name="b", dtype="int32")
    embedding, flatten, trunk = Embedding(50, 4, sparse=sparse), Flatten(), Dense(3)
    label = Dense(1, activation="sigmoid", name="label")(trunk(flatten(embedding(a))))
    score = Dense(1, name="score")(trunk(flatten(embedding(b))))
    return Model([a, b], [label, score]), embedding


# ---- gradients of shared layers ------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
def test_shared_embedding_gradient_is_the_sum_of_its_calls(sparse):
    a = fastembed.Input(shape=(6,), dtype="int32")
    b = fastembed.Input(shape=(4,), dtype="int32")
    embedding = Embedding(20, 3, sparse=sparse)
    model = Model([a, b], [embedding(a), embedding(b)])
    xa, xb = RNG.integers(0, 20, (8, 6)), RNG.integers(0, 20, (8, 4))
    (ya, yb), context = record(model, [xa, xb])
    np.testing.assert_array_equal(ya, embedding.embeddings.value[xa])
    ga = RNG.standard_normal(ya.shape).astype(np.float32)
    gb = RNG.standard_normal(yb.shape).astype(np.float32)
    embedding.embeddings.grad = None
    model.backward(context, [ga, gb])
    expected = np.zeros((20, 3), np.float64)
    np.add.at(expected, xa, ga)
    np.add.at(expected, xb, gb)
    grad = embedding.embeddings.grad
    dense = np.zeros((20, 3), np.float32)
    dense[grad.rows] = grad.values
    assert np.all(np.diff(grad.rows) > 0), "merged rows must stay sorted and distinct"
    np.testing.assert_allclose(dense, expected, rtol=1e-5, atol=1e-6)


def test_shared_dense_gradient_is_the_sum_of_its_calls():
    a, b = fastembed.Input(shape=(3,)), fastembed.Input(shape=(3,))
    dense = Dense(2, activation="tanh")
    model = Model([a, b], [dense(a), dense(b)])
    xa, xb = RNG.standard_normal((5, 3)).astype(np.float32), RNG.standard_normal((5, 3)).astype(np.float32)
    (ya, yb), context = record(model, [xa, xb])
    ga, gb = RNG.standard_normal((5, 2)).astype(np.float32), RNG.standard_normal((5, 2)).astype(np.float32)
    for w in dense.weights:
        w.grad = None
    dxa, dxb = model.backward(context, [ga, gb])
    dza, dzb = ga * (1 - ya ** 2), gb * (1 - yb ** 2)
    np.testing.assert_allclose(dense.kernel.grad, xa.T @ dza + xb.T @ dzb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.bias.grad, dza.sum(0) + dzb.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dxa, dza @ dense.kernel.value.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dxb, dzb @ dense.kernel.value.T, rtol=1e-5, atol=1e-6)


def test_fan_out_sums_the_gradients_of_a_tensor():
    """One tensor feeding two layers gets the sum of their input gradients."""
    x = fastembed.Input(shape=(4,))
    first, second = Dense(3, use_bias=False), Dense(3, use_bias=False)
    model = Model(x, [first(x), second(x)])
    data = RNG.standard_normal((6, 4)).astype(np.float32)
    _, context = record(model, data)
    g1, g2 = RNG.standard_normal((6, 3)).astype(np.float32), RNG.standard_normal((6, 3)).astype(np.float32)
    dx = model.backward(context, [g1, g2])
    np.testing.assert_allclose(dx, g1 @ first.kernel.value.T + g2 @ second.kernel.value.T,
                               rtol=1e-5, atol=1e-6)


def test_model_as_a_layer_passes_the_gradient_check():
    x = fastembed.Input(shape=(4,))
    inner = Sequential([Dense(3, activation="tanh"), Dense(2)])
    model = Model(x, Dense(2, activation="sigmoid")(inner(x)))
    check_gradients(model, RNG.standard_normal((5, 4)).astype(np.float32), eps=1e-2)


def test_lstm_called_twice_keeps_both_calls_for_backward():
    """The siamese case: one LSTM, two calls, one backward each (per-call contexts)."""
    a, b = fastembed.Input(shape=(5, 3)), fastembed.Input(shape=(5, 3))
    lstm = LSTM(4)
    model = Model([a, b], [lstm(a), lstm(b)])
    xa = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    xb = RNG.standard_normal((2, 5, 3)).astype(np.float32)
    check_gradients(model, [xa, xb], eps=1e-2)
    # Each call's gradient alone, from a model of that call only, adds up to the shared one.
    for w in lstm.weights:
        w.grad = None
    (_, _), context = record(model, [xa, xb])
    ga, gb = np.ones((2, 4), np.float32), np.full((2, 4), 0.5, np.float32)
    model.backward(context, [ga, gb])
    shared = [w.grad.copy() for w in lstm.weights]
    separate = []
    for x, g in ((xa, ga), (xb, gb)):
        for w in lstm.weights:
            w.grad = None
        _, context = record(lstm, x)
        lstm.backward(context, g)
        separate.append([w.grad.copy() for w in lstm.weights])
    for got, first, second in zip(shared, *separate):
        np.testing.assert_allclose(got, first + second, rtol=1e-5, atol=1e-6)


# ---- training with several inputs and outputs ----------------------------------
def test_two_outputs_log_per_output_losses_and_metrics():
    model, _ = _two_output_model()
    model.compile(optimizer="adam", loss={"label": "binary_crossentropy", "score": "mse"},
                  loss_weights={"label": 1.0, "score": 0.5}, metrics={"label": ["accuracy"]})
    xa, xb, label, score = _two_input_data()
    history = model.fit({"a": xa, "b": xb}, {"label": label, "score": score}, epochs=2,
                        batch_size=16, shuffle=False, verbose=0).history
    assert set(history) == {"loss", "label_loss", "score_loss", "label_accuracy"}
    # The total is the weighted sum of the per-output losses, as Keras reports it.
    np.testing.assert_allclose(history["loss"], np.array(history["label_loss"])
                               + 0.5 * np.array(history["score_loss"]), rtol=1e-6)
    logs = model.evaluate([xa, xb], [label, score], verbose=0, return_dict=True)
    predictions = model.predict([xa, xb], verbose=0)
    p = np.clip(predictions[0][:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -np.mean(label * np.log(p) + (1 - label) * np.log(1 - p))
    mse = np.mean((predictions[1][:, 0] - score) ** 2)
    np.testing.assert_allclose(logs["label_loss"], bce, rtol=1e-5)
    np.testing.assert_allclose(logs["score_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], bce + 0.5 * mse, rtol=1e-5)


def test_inputs_as_list_and_dict_train_identically():
    xa, xb, label, score = _two_input_data()
    results = []
    for as_dict in (False, True):
        fastembed.utils.set_random_seed(3)
        model, _ = _two_output_model()
        model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"])
        x = {"b": xb, "a": xa} if as_dict else [xa, xb]
        y = {"score": score, "label": label} if as_dict else [label, score]
        model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for first, second in zip(*results):
        np.testing.assert_array_equal(first, second)


def test_sequential_nested_in_functional_trains_its_weights():
    inner = Sequential([Embedding(50, 4), Flatten(), Dense(3, activation="relu")])
    a = fastembed.Input(shape=(5,), dtype="int32")
    model = Model(a, Dense(1)(inner(a)))
    assert [w.name for w in model.weights][:3] == [w.name for w in inner.weights]
    model.compile(optimizer="sgd", loss="mse")
    xa, _, _, score = _two_input_data()
    before = inner.get_weights()
    model.fit(xa, score, epochs=1, verbose=0)
    assert all(np.any(b != w) for b, w in zip(before, inner.get_weights()))
    inner.trainable = False
    assert not inner.trainable_weights and all(not layer.trainable for layer in inner.layers)
    frozen = inner.get_weights()
    model.fit(xa, score, epochs=1, verbose=0)
    for f, w in zip(frozen, inner.get_weights()):
        np.testing.assert_array_equal(f, w)


def test_functional_config_and_file_round_trip(tmp_path):
    model, _ = _two_output_model()
    model.compile(optimizer="adam", loss=["binary_crossentropy", "mse"], metrics=[["accuracy"], []])
    xa, xb, label, score = _two_input_data()
    model.fit([xa, xb], [label, score], epochs=1, verbose=0)
    rebuilt = Model.from_config(model.get_config())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    for got, want in zip(rebuilt.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0)):
        np.testing.assert_array_equal(got, want)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    for got, want in zip(loaded.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0)):
        np.testing.assert_array_equal(got, want)
    # The optimizer state travelled: one more step matches the original's.
    model.train_on_batch([xa, xb], [label, score])
    loaded.train_on_batch([xa, xb], [label, score])
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


# ---- dict inputs and outputs ---------------------------------------------------
def _dict_model():
    """Inputs and outputs given as dicts, not in sorted order; the output
    keys are not the output layers' names."""
    a = fastembed.Input(shape=(5,), name="a", dtype="int32")
    b = fastembed.Input(shape=(5,), name="b", dtype="int32")
    embedding, flatten, trunk = Embedding(50, 4), Flatten(), Dense(3)
    label = Dense(1, activation="sigmoid", name="label_head")(trunk(flatten(embedding(a))))
    score = Dense(1, name="score_head")(trunk(flatten(embedding(b))))
    return Model({"b": b, "a": a}, {"score": score, "label": label})


def test_dict_outputs_are_keyed_in_predictions_logs_and_losses():
    model = _dict_model()
    # As Keras: inputs and outputs in sorted order of their keys, output_names the layers'.
    assert [t.name for t in model.inputs] == ["a", "b"]
    assert model.output_names == ["label_head", "score_head"]
    model.compile(optimizer="adam", loss={"label": "binary_crossentropy", "score": "mse"},
                  loss_weights={"label": 1.0, "score": 0.5}, metrics={"label": ["accuracy"]})
    xa, xb, label, score = _two_input_data()
    history = model.fit({"a": xa, "b": xb}, {"score": score, "label": label}, epochs=2,
                        batch_size=16, shuffle=False, verbose=0).history
    assert set(history) == {"loss", "label_loss", "score_loss", "label_accuracy"}
    predictions = model.predict({"a": xa, "b": xb}, verbose=0)
    # As Keras: predict keys its dict in sorted order, a call in the order given.
    assert type(predictions) is dict and list(predictions) == ["label", "score"]
    called = model({"a": xa[:3], "b": xb[:3]})
    assert list(called) == ["score", "label"]
    np.testing.assert_array_equal(called["score"], predictions["score"][:3])
    logs = model.evaluate([xa, xb], {"label": label, "score": score}, verbose=0,
                          return_dict=True)
    p = np.clip(predictions["label"][:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -np.mean(label * np.log(p) + (1 - label) * np.log(1 - p))
    mse = np.mean((predictions["score"][:, 0] - score) ** 2)
    np.testing.assert_allclose(logs["label_loss"], bce, rtol=1e-5)
    np.testing.assert_allclose(logs["score_loss"], mse, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], bce + 0.5 * mse, rtol=1e-5)
    # A list of targets is taken in sorted order of the keys (label, score), as Keras.
    listed = model.evaluate([xa, xb], [label, score], verbose=0, return_dict=True)
    np.testing.assert_allclose(listed["loss"], logs["loss"], rtol=1e-6)


def test_dict_output_data_and_compile_errors_name_the_key():
    model = _dict_model()
    model.compile(optimizer="sgd", loss="mse")
    xa, xb, label, score = _two_input_data()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"`y` is a dict whose keys must be \['label', "
                                         r"'score'\]; missing: \['label'\], unknown: \[\]"):
        model.fit([xa, xb], {"score": score}, verbose=0)
    with pytest.raises(ValueError, match=r"missing: \['label'\], unknown: \['labels'\]"):
        model.fit([xa, xb], {"score": score, "labels": label}, verbose=0)
    with pytest.raises(ValueError, match=r"`sample_weight` has keys \['label_head'\]"):
        model.fit([xa, xb], {"score": score, "label": label},
                  sample_weight={"label_head": np.ones(len(xa))}, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # compile's dicts are keyed by the outputs dict's keys, not the layers' names
    with pytest.raises(ValueError, match=r"`loss` has keys \['label_head'\] that are not "
                                         r"output names; the outputs are \['label', 'score'\]"):
        model.compile(optimizer="sgd", loss={"label_head": "mse", "score": "mse"})
    with pytest.raises(ValueError, match=r"`metrics` has keys \['scores'\]"):
        model.compile(optimizer="sgd", loss="mse", metrics={"scores": ["mae"]})
    # Keras pairs loss_weights with the losses given: one loss takes one weight
    with pytest.raises(ValueError, match="`loss_weights` must match the number of losses, "
                                         "got 1 losses and 2 weights"):
        model.compile(optimizer="sgd", loss="mse", loss_weights={"label": 1.0, "score": 0.5})
    with pytest.raises(ValueError, match=r"`inputs` is a dict whose keys must be \['a', 'b'\]"):
        model({"a": xa, "c": xb})


def test_dict_model_config_round_trip_and_nesting():
    model = _dict_model()
    config = model.get_config()
    # Keras's config: the dicts as given, each entry [layer, node, tensor]
    assert config["input_layers"] == {"b": ["b", 0, 0], "a": ["a", 0, 0]}
    assert config["output_layers"] == {"score": ["score_head", 0, 0],
                                       "label": ["label_head", 0, 0]}
    rebuilt = Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    xa, xb, label, score = _two_input_data()
    got, want = rebuilt.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0)
    assert list(got) == list(want) == ["label", "score"]
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
    # Called on tensors, a dict-output model gives a dict of tensors.
    a = fastembed.Input(shape=(5,), name="outer_a", dtype="int32")
    b = fastembed.Input(shape=(5,), name="outer_b", dtype="int32")
    heads = model({"a": a, "b": b})
    assert sorted(heads) == ["label", "score"]
    outer = Model([a, b], heads["score"])
    outer.compile(optimizer="sgd", loss="mse")
    h = outer.fit([xa, xb], score, epochs=3, batch_size=16, verbose=0).history["loss"]
    assert h[-1] < h[0]
    np.testing.assert_allclose(outer.predict([xa, xb], verbose=0),
                               model.predict([xa, xb], verbose=0)["score"], rtol=1e-6)


# ---- custom layers -------------------------------------------------------------
class Scale(Layer):
    """y = x * w, one weight per feature: a user's layer with its own backward."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, inputs):
        return inputs * self.w.value

    def backward(self, context, output_grads):
        if self.wants_grad(self.w):
            self.w.add_grad((output_grads * context.inputs).sum(axis=0))
        return output_grads * self.w.value if context.needs_input_grad else None


class NoBackward(Layer):
    def call(self, inputs):
        return inputs * 2.0


def test_custom_layer_trains_and_passes_the_gradient_check():
    layer = Scale()
    check_gradients(layer, RNG.standard_normal((4, 3)).astype(np.float32))
    x = fastembed.Input(shape=(3,))
    model = Model(x, Dense(1)(Scale()(x)))
    model.compile(optimizer=optimizers.SGD(0.05), loss="mse")
    data = RNG.standard_normal((64, 3)).astype(np.float32)
    target = data @ np.array([1.0, -2.0, 0.5], np.float32)
    history = model.fit(data, target, epochs=5, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] / 2


def test_gradient_check_catches_a_wrong_backward():
    class WrongScale(Scale):
        def backward(self, context, output_grads):
            return 2 * super().backward(context, output_grads)

    with pytest.raises(GradientCheckError, match="input 0"):
        check_gradients(WrongScale(), RNG.standard_normal((4, 3)).astype(np.float32))


def test_custom_layer_without_backward_fails_at_fit_only_when_a_gradient_is_needed():
    tokens = fastembed.Input(shape=(5,), dtype="int32")
    model = Model(tokens, Dense(1)(NoBackward()(Flatten()(Embedding(50, 2)(tokens)))))
    model.compile(optimizer="sgd", loss="mse")  # construction and compile are fine
    xa, _, _, score = _two_input_data()
    assert model.predict(xa, verbose=0).shape == (64, 1)
    with pytest.raises(NotImplementedError, match="no_backward.*backward"):
        model.fit(xa, score, verbose=0)
    # Nothing trainable before it: no gradient passes through it, fit works.
    features = fastembed.Input(shape=(3,))
    model = Model(features, Dense(1)(NoBackward()(features)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(RNG.standard_normal((8, 3)).astype(np.float32), np.zeros(8, np.float32), verbose=0)


# ---- errors --------------------------------------------------------------------
def test_graph_errors_name_the_tensor():
    a, b = fastembed.Input(shape=(3,), name="a"), fastembed.Input(shape=(3,), name="b")
    with pytest.raises(ValueError, match=r"inputs\[1\] \('b'\) is not connected"):
        Model([a, b], Dense(1)(a))
    with pytest.raises(ValueError, match="Graph disconnected.*'b'"):
        Model(a, Dense(1)(b))
    with pytest.raises(ValueError, match=r"inputs\[0\]"):
        Model([np.zeros((1, 3))], Dense(1)(a))
    with pytest.raises(ValueError, match="cannot take input of shape"):
        Dense(1)(fastembed.Input(shape=(3,)))  # fine
        LSTM(2)(fastembed.Input(shape=(3,)))   # LSTM needs 3-D input


def test_data_errors_name_the_argument():
    model, _ = _two_output_model()
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"])
    xa, xb, label, score = _two_input_data()
    with pytest.raises(ValueError, match=r"missing: \['b'\]"):
        model.fit({"a": xa}, [label, score], verbose=0)
    with pytest.raises(ValueError, match=r"unknown: \['c'\]"):
        model.predict({"a": xa, "b": xb, "c": xb}, verbose=0)
    with pytest.raises(ValueError, match="list of 2 arrays.*got a list of 3"):
        model.predict([xa, xb, xb], verbose=0)
    with pytest.raises(ValueError, match="`x` must be a list of 2 arrays"):
        model.predict(xa, verbose=0)
    with pytest.raises(ValueError, match="`y` must be a list of 2 arrays"):
        model.fit([xa, xb], [label], verbose=0)
    with pytest.raises(ValueError, match=r"`y` is a dict.*unknown: \['other'\]"):
        model.fit([xa, xb], {"label": label, "score": score, "other": score}, verbose=0)
    with pytest.raises(ValueError, match="cardinality"):
        model.fit([xa, xb[:10]], [label, score], verbose=0)
    with pytest.raises(ValueError, match="incompatible"):
        model.predict([xa[:, :3], xb], verbose=0)
    with pytest.raises(ValueError, match="`loss` has keys"):
        model.compile(optimizer="sgd", loss={"nope": "mse"})
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.compile(optimizer="sgd", loss="mse", bogus=1)


def test_a_rank_short_array_feeds_an_input_of_last_dimension_1():
    """As Keras: an (n,) array is taken for Input(shape=(1,))."""
    ids = fastembed.Input(shape=(1,), dtype="int32")
    embedding = Embedding(10, 2)
    model = Model(ids, Flatten()(embedding(ids)))
    np.testing.assert_array_equal(model.predict(np.arange(4), verbose=0),
                                  embedding.embeddings.value[:4])
