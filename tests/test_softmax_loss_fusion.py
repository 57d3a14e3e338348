"""Sparse categorical cross-entropy on a Dense(softmax) output, its gradient
taken through the softmax in one pass (Loss.value_and_logit_gradient,
Layer.softmax_logit_grads, Graph.output_calls): against jax.grad of Keras's
own loss and Dense, and the same training as the unfused path."""
import jax
import keras
import numpy as np
import pytest

from fastembed import layers, losses
from fastembed.engine import record
from fastembed.models import Model

F32 = np.float32


def _clipped_rows_case():
    """(x, ids, kernel, bias, sample_weight) of a Dense over (3, 4, 6)
    inputs and 50 classes, where position (0, 0)'s target logit is 100
    above the rest (its probability rounds to 1, clipped above 1 - eps)
    and position (0, 1)'s is 100 below (clipped below eps)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 6)).astype(F32)
    ids = rng.integers(0, 50, (3, 4))
    ids[0, 1] = (ids[0, 0] + 1) % 50
    kernel = (rng.standard_normal((6, 50)) * 0.5).astype(F32)
    bias = (rng.standard_normal(50) * 0.1).astype(F32)
    x[..., 0] = 0.0
    x[0, :2, 0] = 1.0
    kernel[0] = 0.0
    kernel[0, ids[0, 0]], kernel[0, ids[0, 1]] = 100.0, -100.0
    sample_weight = rng.uniform(0.5, 2.0, (3, 4)).astype(F32)
    sample_weight[2, 3] = 0.0
    return x, ids, kernel, bias, sample_weight


def test_logit_gradient_matches_jax_grad_of_keras_softmax_and_loss():
    """d loss / d logits is sample weight * (y - onehot) / rows where the
    clip is inactive, and 0 for a whole clipped row: jax.grad of Keras's
    loss on keras.activations.softmax says so, as does the Dense's backward."""
    x, ids, kernel, bias, sample_weight = _clipped_rows_case()
    keras_loss = keras.losses.SparseCategoricalCrossentropy()
    logits = x @ kernel + bias

    def loss_of_logits(z):
        return keras_loss(ids, keras.activations.softmax(z), sample_weight=sample_weight)

    expected_value = float(loss_of_logits(logits))
    expected_dz = np.asarray(jax.grad(loss_of_logits)(logits))
    assert not expected_dz[0, :2].any() and expected_dz[0, 2:].all()

    dense = layers.Dense(50, activation="softmax")
    dense.build_for((None, 4, 6))
    dense.set_weights([kernel, bias])
    y, context = record(dense, x, training=True)
    value, dz = losses.SparseCategoricalCrossentropy().value_and_logit_gradient(
        dense, context, ids, y, sample_weight=sample_weight)
    np.testing.assert_allclose(value, expected_value, rtol=1e-6)
    np.testing.assert_allclose(dz, expected_dz, rtol=1e-4, atol=1e-9)
    assert not dz[0, :2].any() and not dz[2, 3].any()

    keras_dense = keras.layers.Dense(50, activation="softmax")
    keras_dense.build((None, 4, 6))

    def loss_of_weights(kernel, bias, x):
        probabilities, _ = keras_dense.stateless_call([kernel, bias], [], x)
        return keras_loss(ids, probabilities, sample_weight=sample_weight)

    d_kernel, d_bias, d_x = jax.grad(loss_of_weights, argnums=(0, 1, 2))(kernel, bias, x)
    dx = dense.backward(context, dz)
    np.testing.assert_allclose(dx, d_x, rtol=1e-4, atol=1e-8)
    assert not dx[0, :2].any()
    np.testing.assert_allclose(dense.kernel.grad, d_kernel, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(dense.bias.grad, d_bias, rtol=1e-4, atol=1e-8)


def test_only_softmax_dense_outputs_take_the_logit_gradient():
    x, ids, kernel, bias, _ = _clipped_rows_case()
    loss = losses.SparseCategoricalCrossentropy()
    relu = layers.Dense(50, activation="relu")
    out, context = record(relu, x, training=True)
    assert loss.value_and_logit_gradient(relu, context, ids, out) is None
    softmax = layers.Dense(50, activation="softmax")
    out, context = record(softmax, x, training=True)
    for other in (losses.SparseCategoricalCrossentropy(from_logits=True),
                  losses.SparseCategoricalCrossentropy(axis=1),
                  losses.CategoricalCrossentropy()):
        assert other.value_and_logit_gradient(softmax, context, ids, out) is None
    with pytest.raises(ValueError, match=r"integer y_true in \[0, 50\)"):
        loss.value_and_logit_gradient(softmax, context, ids + 50, out)
    # the failed call left the context unmarked: backward still takes d loss / d y
    dy = np.random.default_rng(1).standard_normal(out.shape).astype(F32)
    y = out.astype(np.float64)
    dz = y * (dy - (dy * y).sum(-1, keepdims=True))
    np.testing.assert_allclose(softmax.backward(context, dy), dz @ softmax.kernel.value.T,
                               rtol=1e-4, atol=1e-6)
    # a subclass that redefines the loss keeps its own code: never fused
    class Halved(losses.SparseCategoricalCrossentropy):
        def compute(self, y_true, y_pred, gradient):
            values, grad = super().compute(y_true, y_pred, gradient)
            return values * 0.5, None if grad is None else grad * 0.5
    assert Halved().value_and_logit_gradient(softmax, context, ids, out) is None


def _tagger():
    """Embedding(mask_zero) -> LSTM(return_sequences) -> three outputs:
    'words' (softmax, also read by 'score', so not fused), 'tags' (softmax,
    fused), 'score' (sigmoid over 'words')."""
    inputs = layers.Input((7,))
    h = layers.LSTM(8, return_sequences=True)(layers.Embedding(30, 5, mask_zero=True)(inputs))
    words = layers.Dense(30, activation="softmax", name="words")(h)
    tags = layers.Dense(6, activation="softmax", name="tags")(h)
    score = layers.Dense(1, activation="sigmoid", name="score")(words)
    model = Model(inputs, [words, tags, score])
    rng = np.random.default_rng(3)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(F32)
                       for w in model.get_weights()])
    model.compile(optimizer="adam",
                  loss={"words": "sparse_categorical_crossentropy",
                        "tags": "sparse_categorical_crossentropy",
                        "score": "binary_crossentropy"},
                  loss_weights={"words": 0.5, "tags": 2.0, "score": 1.0},
                  metrics={"words": "accuracy", "tags": "accuracy"})
    return model


def _fit(model):
    rng = np.random.default_rng(4)
    x = rng.integers(1, 30, (48, 7))
    x[np.arange(7) >= rng.integers(2, 8, 48)[:, None]] = 0
    y = {"words": rng.integers(0, 30, (48, 7)), "tags": x % 6,
         "score": (rng.random((48, 7, 1)) > 0.5).astype(F32)}
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                        sample_weight=rng.uniform(0.5, 2.0, 48).astype(F32)).history
    return history, model.get_weights()


def test_fused_training_matches_the_unfused_path(monkeypatch):
    """Masks, sample weights, loss weights, metrics and several outputs (one
    read by another layer): the same history and weights within 1e-6 as
    with every output's gradient taken through dL/dy and softmax's backward."""
    fused_model = _tagger()
    history, weights = _fit(fused_model)
    calls = fused_model.graph.output_calls(fused_model._train_tape)
    assert calls[0] is None and calls[1][0].name == "tags" and calls[2][0].name == "score"
    with monkeypatch.context() as patch:
        patch.setattr(layers.Dense, "softmax_logit_grads", lambda self, context: None)
        expected_history, expected_weights = _fit(_tagger())
    assert history.keys() == expected_history.keys()
    for name in history:
        np.testing.assert_allclose(history[name], expected_history[name], rtol=1e-6,
                                   err_msg=name)
    for got, want in zip(weights, expected_weights):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_an_activity_regularized_output_is_not_fused():
    inputs = layers.Input((3,))
    outputs = layers.Dense(4, activation="softmax", activity_regularizer="l2")(inputs)
    model = Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(np.ones((2, 3), F32), np.array([0, 1]), verbose=0)
    assert model.graph.output_calls(model._train_tape) == [None]


def test_a_language_model_step_allocates_no_output_sized_array():
    """After the first epoch, fit's steps reuse the tape's buffers: nothing
    of the (rows, vocabulary) output's size is allocated (the unfused path
    allocated d loss / d y each step)."""
    import tracemalloc
    from fastembed.models import Sequential
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 2000, (64, 16)), rng.integers(0, 2000, (64, 16))
    model = Sequential([layers.Embedding(2000, 8), layers.LSTM(8, return_sequences=True),
                        layers.Dense(2000, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    tracemalloc.start()
    try:
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 16 * 2000 * 4  # one float32 (batch * steps, vocabulary) array
