"""Conv1D and 1-D pooling vs real Keras 3 (jax backend): same weights -> same numbers.

Layer outputs and input/weight gradients (through jax.grad of Keras's
stateless_call) for each padding / stride / dilation combination, and the
fit(shuffle=False) loss history of the seed's CNN model.
"""
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from fastembed import layers
from fastembed.engine import record
from fastembed.models import Sequential

CONV_CASES = [  # kernel_size, strides, dilation_rate, padding, activation
    (3, 1, 1, "valid", None),
    (3, 2, 1, "valid", "relu"),
    (2, 3, 1, "valid", None),
    (3, 1, 2, "valid", "relu"),
    (4, 1, 1, "same", "relu"),
    (3, 2, 1, "same", None),
    (4, 3, 1, "same", "tanh"),
    (3, 1, 3, "same", None),
    (5, 1, 1, "causal", "relu"),
    (3, 2, 1, "causal", None),
    (2, 1, 4, "causal", "sigmoid"),
]


def keras_grads(layer, x, projection):
    """(output, d(sum(out * projection))/dx, [d/dweights]) of a built Keras layer."""
    # Copies both ways: no array here shares memory with jax's buffers.
    weights = [jnp.array(v.value) for v in layer.trainable_variables]

    def loss(x, weights):
        out, _ = layer.stateless_call(weights, [], x)
        return jnp.sum(out * projection), out

    (_, out), (dx, dweights) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
        jnp.array(x), weights)
    return np.array(out), np.array(dx), [np.array(g) for g in dweights]


@pytest.mark.parametrize("steps", [11, 12])
@pytest.mark.parametrize("kernel_size,strides,dilation,padding,activation", CONV_CASES)
def test_conv1d_matches_keras(kernel_size, strides, dilation, padding, activation, steps):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, steps, 6)).astype(np.float32)
    kwargs = dict(strides=strides, padding=padding, dilation_rate=dilation, activation=activation)
    keras_layer = keras.layers.Conv1D(5, kernel_size, bias_initializer="random_normal", **kwargs)
    keras_layer.build(x.shape)
    layer = layers.Conv1D(5, kernel_size, **kwargs)
    layer.build_for((None,) + x.shape[1:])
    layer.set_weights([np.asarray(w) for w in keras_layer.get_weights()])
    y, context = record(layer, x)
    assert y.shape == tuple(keras_layer.compute_output_shape(x.shape))
    projection = rng.standard_normal(y.shape).astype(np.float32)
    k_out, k_dx, (k_dkernel, k_dbias) = keras_grads(keras_layer, x, projection)
    np.testing.assert_allclose(y, k_out, rtol=1e-5, atol=1e-5)
    dx = layer.backward(context, projection)
    np.testing.assert_allclose(dx, k_dx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.kernel.grad, k_dkernel, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, k_dbias, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_winograd_sized_conv1d_matches_keras(padding, activation):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 42, 128)).astype(np.float32)
    keras_layer = keras.layers.Conv1D(128, 3, padding=padding, activation=activation,
                                      bias_initializer="random_normal")
    keras_layer.build(x.shape)
    layer = layers.Conv1D(128, 3, padding=padding, activation=activation)
    layer.build_for((None,) + x.shape[1:])
    layer.set_weights([np.asarray(w) for w in keras_layer.get_weights()])
    y, context = record(layer, x)
    # 128 channels and filters, kernel 3: the plan (in the call's workspace) is Winograd's.
    assert layer._plan(context, x.shape).strategy == "winograd"
    projection = rng.standard_normal(y.shape).astype(np.float32)
    k_out, k_dx, (k_dkernel, k_dbias) = keras_grads(keras_layer, x, projection)
    dx = layer.backward(context, projection)
    # Winograd's transforms scale the rounding with the largest values: over
    # 300 weight draws its outputs came within 2.8e-6 of Keras's relative to
    # the largest output (up to 1.1e-5 absolute, outputs up to about 4). The
    # kernel gradients are sums over about 160 steps, values up to about 56:
    # Keras's own rounding there is 2.9e-5 (against float64), Winograd's 7.5e-5.
    for got, expected, scale in ((y, k_out, 5e-6), (dx, k_dx, 5e-6),
                                 (layer.kernel.grad, k_dkernel, 2e-6),
                                 (layer.bias.grad, k_dbias, 2e-6)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=scale * np.abs(expected).max())


def test_conv1d_weights_and_config_match_keras():
    keras_layer = keras.layers.Conv1D(8, 3, strides=2, padding="same", activation="relu")
    keras_layer.build((None, 10, 4))
    layer = layers.Conv1D(8, 3, strides=2, padding="same", activation="relu")
    layer.build_for((None, 10, 4))
    assert [w.shape for w in layer.get_weights()] == \
        [tuple(w.shape) for w in keras_layer.get_weights()]
    keras_config = keras_layer.get_config()
    config = layer.get_config()

    def plain(value):
        return list(value) if isinstance(value, (tuple, list)) else value

    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                "groups", "activation", "use_bias"):
        assert plain(config[key]) == plain(keras_config[key]), key


POOL_CASES = [  # class name, args, kwargs
    ("MaxPooling1D", (2,), {}),
    ("MaxPooling1D", (3,), dict(strides=1)),
    ("MaxPooling1D", (3,), dict(strides=2, padding="same")),
    ("MaxPooling1D", (4,), dict(strides=3, padding="same")),
    ("AveragePooling1D", (2,), {}),
    ("AveragePooling1D", (3,), dict(strides=1, padding="valid")),
    ("AveragePooling1D", (3,), dict(strides=2, padding="same")),
    ("AveragePooling1D", (4,), dict(strides=1, padding="same")),
    ("GlobalMaxPooling1D", (), {}),
    ("GlobalMaxPooling1D", (), dict(keepdims=True)),
    ("GlobalAveragePooling1D", (), {}),
    ("GlobalAveragePooling1D", (), dict(keepdims=True)),
]


@pytest.mark.parametrize("steps", [9, 10])
@pytest.mark.parametrize("name,args,kwargs", POOL_CASES)
def test_pooling_matches_keras(name, args, kwargs, steps):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, steps, 4)).astype(np.float32)
    keras_layer = getattr(keras.layers, name)(*args, **kwargs)
    layer = getattr(layers, name)(*args, **kwargs)
    y, context = record(layer, x)
    projection = rng.standard_normal(y.shape).astype(np.float32)
    k_out, k_dx, _ = keras_grads(keras_layer, x, projection)
    np.testing.assert_allclose(y, k_out, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.backward(context, projection), k_dx, rtol=1e-6, atol=1e-6)
    assert layer.get_config()["data_format"] == keras_layer.get_config()["data_format"]


def test_masked_global_average_pooling_matches_keras():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1]], bool)
    expected = keras.layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x, mask=mask), expected, rtol=1e-6)


def test_masking_support_matches_keras():
    for name in ("Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D",
                 "GlobalAveragePooling1D", "SpatialDropout1D"):
        args = {"Conv1D": (2, 3), "SpatialDropout1D": (0.5,), "MaxPooling1D": (2,),
                "AveragePooling1D": (2,)}.get(name, ())
        assert getattr(layers, name)(*args).supports_masking == \
            getattr(keras.layers, name)(*args).supports_masking, name


# The seed's CNN text model, on a learnable synthetic task.
VOCAB, DIM, LENGTH, SAMPLES = 1000, 64, 10, 500


def seed_cnn(lib, kernel_size=5, dim=DIM, **conv_kwargs):
    model_layers = [lib.layers.Embedding(VOCAB, dim),
                    lib.layers.Conv1D(128, kernel_size, activation="relu", **conv_kwargs),
                    lib.layers.GlobalMaxPooling1D(),
                    lib.layers.Dense(1, activation="sigmoid")]
    if lib is keras:
        return keras.Sequential([keras.Input((LENGTH,), dtype="int32")] + model_layers)
    return Sequential(model_layers)


class _Fastembed:
    layers = layers


@pytest.mark.parametrize("conv_kwargs", [{}, dict(padding="same", strides=2),
                                         dict(padding="causal", dilation_rate=2),
                                         dict(kernel_size=3, dim=128)])  # Winograd's path
def test_seed_cnn_fit_history_matches_keras(conv_kwargs):
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    y = (np.mean(x < VOCAB // 2, axis=1) > 0.5).astype(np.float32)
    keras.utils.set_random_seed(0)
    km = seed_cnn(keras, **conv_kwargs)
    fm = seed_cnn(_Fastembed, **conv_kwargs)
    fm.build((None, LENGTH))
    fm.set_weights(km.get_weights())
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for model in (km, fm):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    kh = km.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    fh = fm.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-4, atol=0)
    assert kh["loss"][-1] < kh["loss"][0]  # the task is learnt, not a flat history
    if conv_kwargs.get("kernel_size") == 3:
        # The plans live in the workspace of the conv node's context on the training tape.
        conv = fm.layers[1]
        context = fm._train_tape[[step[0] for step in fm.graph.steps].index(conv)]
        assert context.workspace["plans"][(32, LENGTH, 128)].strategy == "winograd"


def test_keras_aliases():
    for alias, name in (("Convolution1D", "Conv1D"), ("MaxPool1D", "MaxPooling1D"),
                        ("AvgPool1D", "AveragePooling1D"),
                        ("GlobalMaxPool1D", "GlobalMaxPooling1D"),
                        ("GlobalAvgPool1D", "GlobalAveragePooling1D")):
        assert getattr(keras.layers, alias) is getattr(keras.layers, name)
        assert getattr(layers, alias) is getattr(layers, name)
