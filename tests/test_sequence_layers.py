"""TimeDistributed, Masking, GaussianNoise, LayerNormalization and
BatchNormalization against real Keras (jax backend) and finite differences."""
import keras
import numpy as np
import pytest

from fastembed import _kernels, layers
from fastembed.engine import record
from fastembed.models import Sequential
from gradcheck import check_layer_gradients
from test_lstm_keras import (ATOL, _copy_model, _x,
                             assert_fit_matches_keras)


def _copied(theirs, ours, input_shape, seed=0):
    theirs.build(input_shape)
    rng = np.random.default_rng(seed)
    theirs.set_weights([rng.uniform(-0.8, 0.8, w.shape).astype(np.float32) + (i == 0)
                        for i, w in enumerate(theirs.get_weights())])
    ours.build_for(input_shape)
    ours.set_weights(theirs.get_weights())


def test_time_distributed_dense_matches_keras_and_is_one_gemm():
    x = _x((4, 6, 5))
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh"))
    ours = layers.TimeDistributed(layers.Dense(3, activation="tanh"))
    _copied(theirs, ours, (None, 6, 5))
    np.testing.assert_allclose(ours(x), theirs(x), atol=ATOL)
    assert ours.compute_output_shape((None, 6, 5)) == (None, 6, 3)
    check_layer_gradients(ours, x, max_entries=10)


def test_time_distributed_of_a_4d_input_and_config():
    x = _x((2, 3, 4, 5))
    ours = layers.TimeDistributed(layers.Flatten())
    np.testing.assert_array_equal(ours(x), x.reshape(2, 3, 20))
    clone = layers.TimeDistributed.from_config(
        layers.TimeDistributed(layers.Dense(2, name="tagger")).get_config())
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 2


def test_time_distributed_bad_input():
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2)).build_for((None, 4))
    with pytest.raises(ValueError, match=r"cannot take the per-step shape \(None, 5\)"):
        layers.TimeDistributed(layers.LSTM(2)).build_for((None, 4, 5))
    with pytest.raises(ValueError, match="Layer instance"):
        layers.TimeDistributed("dense")


def test_masking_matches_keras_and_feeds_an_lstm():
    x = _x((4, 5, 3))
    x[1, 3:] = 0.0
    x[2, :2] = 0.0
    x[3, 1] = 0.0
    spec = lambda m: [m.Masking(mask_value=0.0), m.LSTM(4, return_sequences=True)]  # noqa: E731
    theirs = keras.Sequential([keras.Input((5, 3))] + spec(keras.layers))
    ours = Sequential(spec(layers))
    expected = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=ATOL)
    masking = layers.Masking(mask_value=0.0)
    keep = np.any(x != 0, -1)
    np.testing.assert_array_equal(masking.compute_mask(x), keep)
    out, context = record(masking, x + 1.0, training=True)  # nothing masked: identity
    np.testing.assert_array_equal(out, x + 1.0)
    g = _x((4, 5, 3), seed=1)
    _, context = record(masking, x)
    np.testing.assert_array_equal(masking.backward(context, g), g * keep[..., None])


def test_gaussian_noise_only_in_training():
    x = _x((200, 50))
    layer = layers.GaussianNoise(0.5, seed=3)
    np.testing.assert_array_equal(layer(x), x)
    noise, context = record(layer, x, training=True)
    assert 0.45 < float(np.std(noise - x)) < 0.55
    g = _x((200, 50), seed=1)
    np.testing.assert_array_equal(layer.backward(context, g), g)
    with pytest.raises(ValueError, match="stddev"):
        layers.GaussianNoise(-1.0)


@pytest.mark.parametrize("axis", [-1, [1, 2]], ids=["last", "two-axes"])
@pytest.mark.parametrize("center_scale", [(True, True), (False, True), (True, False)])
def test_layer_normalization_matches_keras(axis, center_scale):
    center, scale = center_scale
    x = _x((3, 4, 6)) * 3.0 + 1.0
    theirs = keras.layers.LayerNormalization(axis=axis, center=center, scale=scale)
    ours = layers.LayerNormalization(axis=axis, center=center, scale=scale)
    _copied(theirs, ours, (None, 4, 6))
    np.testing.assert_allclose(ours(x), theirs(x), atol=ATOL)
    check_layer_gradients(ours, x, max_entries=12)


@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
def test_batch_normalization_training_and_inference_match_keras(masked):
    import jax

    x = _x((6, 5, 4)) * 2.0 + 0.5
    mask = np.random.default_rng(1).random((6, 5)) > 0.3 if masked else None
    theirs = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    ours = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    _copied(theirs, ours, (None, 5, 4))
    ours.moving_variance.assign(np.abs(ours.moving_variance.value) + 0.5)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x, mask=mask), theirs(x, mask=mask), atol=ATOL)  # inference
    projection = _x((6, 5, 4), seed=2)
    trainable = [v.value for v in theirs.trainable_variables]
    non_trainable = [v.value for v in theirs.non_trainable_variables]

    def loss(weights, x):
        out, updated = theirs.stateless_call(weights, non_trainable, x, training=True, mask=mask)
        return (out * projection).sum(), (out, updated)

    (d_weights, dx), (expected, updated) = jax.grad(loss, argnums=(0, 1), has_aux=True)(
        trainable, x)
    out, context = record(ours, x, training=True, mask=mask)
    np.testing.assert_allclose(out, expected, atol=ATOL)
    np.testing.assert_allclose(ours.backward(context, projection), dx, atol=1e-4)
    for variable, g in zip(ours.trainable_weights, d_weights):
        np.testing.assert_allclose(variable.grad, g, atol=1e-4, err_msg=variable.name)
    for variable, value in zip(ours.non_trainable_weights, updated):
        np.testing.assert_allclose(variable.value, value, atol=ATOL, err_msg=variable.name)


def test_batch_normalization_gradients_and_bad_axis():
    x = _x((5, 7)) + 1.0
    layer = layers.BatchNormalization()
    layer.build_for((None, 7))
    layer.gamma.assign(_x((7,), seed=3))
    check_layer_gradients(_TrainingBatchNorm(layer), x, max_entries=12)
    with pytest.raises(ValueError, match=r"Axis 3 .* out of bounds .* rank 2"):
        layers.BatchNormalization(axis=3).build_for((None, 7))
    with pytest.raises(ValueError, match="batch axis"):
        layers.BatchNormalization(axis=0).build_for((None, 7))
    with pytest.raises(ValueError, match=r"Axis 2 .* out of bounds"):
        layers.LayerNormalization(axis=[1, 2]).build_for((None, 7))


class _TrainingBatchNorm(layers.Layer):
    """The wrapped BatchNormalization always in training mode, moving averages
    untouched (so finite differences see batch statistics only)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.built = True

    @property
    def weights(self):
        return self.inner.weights

    def forward(self, context, inputs, training=False, mask=None):
        moving = [w.value.copy() for w in self.inner.non_trainable_weights]
        y = self.inner.forward(context, inputs, training=True)
        for w, value in zip(self.inner.non_trainable_weights, moving):
            w.assign(value)
        return y

    def backward(self, context, output_grads):
        return self.inner.backward(context, output_grads)


def test_batch_normalization_tabular_model_fit_and_predict_match_keras():
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((256, 8)) * [1, 2, 3, 4, 5, 6, 7, 8] + 3).astype(np.float32)
    y = (x[:, 0] / 1 + x[:, 1] / 2 - x[:, 2] / 3 > 3).astype(np.float32)

    def build(m):
        return [m.Dense(16, activation="relu"), m.BatchNormalization(),
                m.Dense(1, activation="sigmoid")]

    theirs = keras.Sequential([keras.Input((8,)), keras.layers.BatchNormalization()]
                              + build(keras.layers))
    ours = Sequential([layers.BatchNormalization()] + build(layers))
    ours.build((None, 8))
    ours.set_weights(theirs.get_weights())
    assert_fit_matches_keras(theirs, ours, x, y, "binary_crossentropy", 32)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_layer_normalization_after_an_lstm_fit_matches_keras():
    keras.utils.set_random_seed(6)
    rng = np.random.default_rng(6)
    x = rng.integers(1, 200, (128, 9))
    x[::3, 6:] = 0
    y = (x[:, :4].sum(1) > x[:, 4:].sum(1)).astype(np.float32)

    def build(m):
        return [m.Embedding(200, 12, mask_zero=True), m.LSTM(10, return_sequences=True),
                m.LayerNormalization(), m.GRU(6), m.LayerNormalization(),
                m.Dense(1, activation="sigmoid")]

    theirs = keras.Sequential([keras.Input((9,))] + build(keras.layers))
    ours = Sequential(build(layers))
    expected_predictions = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected_predictions, atol=ATOL)
    assert_fit_matches_keras(theirs, ours, x, y, "binary_crossentropy", 32)


def test_tagging_model_with_masked_sparse_cross_entropy_matches_keras():
    """Embedding(mask_zero) -> Bidirectional(GRU) -> TimeDistributed(Dense(softmax)),
    padded sequences: the loss counts only the unmasked steps."""
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    x = rng.integers(1, 60, (96, 10))
    lengths = rng.integers(3, 11, 96)
    x[np.arange(10) >= lengths[:, None]] = 0
    y = (x % 5) * (x > 0)

    def build(m):
        return [m.Embedding(60, 8, mask_zero=True),
                m.Bidirectional(m.GRU(6, return_sequences=True)),
                m.TimeDistributed(m.Dense(5, activation="softmax"))]

    theirs = keras.Sequential([keras.Input((10,))] + build(keras.layers))
    ours = Sequential(build(layers))
    expected_predictions = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected_predictions, atol=ATOL)
    assert_fit_matches_keras(theirs, ours, x, y, "sparse_categorical_crossentropy", 16)


def test_language_model_over_2000_words_matches_keras(monkeypatch):
    """Embedding -> LSTM(return_sequences) -> Dense(2,000, softmax), next-word
    targets; fit takes the loss's gradient through the softmax in one pass."""
    fused = []
    kernel = _kernels.softmax_sparse_crossentropy_backward
    monkeypatch.setattr(_kernels, "softmax_sparse_crossentropy_backward",
                        lambda *args: fused.append(1) or kernel(*args))
    keras.utils.set_random_seed(8)
    rng = np.random.default_rng(8)
    text = rng.integers(1, 2000, 64 * 12 + 1)
    x, y = text[:-1].reshape(64, 12), text[1:].reshape(64, 12)

    def build(m):
        return [m.Embedding(2000, 16), m.LSTM(24, return_sequences=True),
                m.Dense(2000, activation="softmax")]

    theirs = keras.Sequential([keras.Input((12,))] + build(keras.layers))
    ours = Sequential(build(layers))
    expected_predictions = _copy_model(theirs, ours, x)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected_predictions, atol=ATOL)
    assert_fit_matches_keras(theirs, ours, x, y, "sparse_categorical_crossentropy", 16)
    assert len(fused) == 3 * 4  # every step of the 3 epochs
