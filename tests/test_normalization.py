"""Normalization and Discretization against Keras 3 (jax backend), which
has both without TensorFlow, and against numpy formulas."""
import keras
from keras.src.layers.preprocessing import discretization as keras_discretization
import numpy as np
import pytest

import fastembed
from fastembed.layers import Discretization, Normalization

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

RNG = np.random.default_rng(0)


def keras_out(layer, x):
    return np.asarray(layer(x))


@pytest.mark.parametrize("axis", [-1, None, (1, 2), 1])
def test_normalization_adapt_array_as_keras(axis):
    data = RNG.normal(3.0, 2.0, (50, 4, 3)).astype(np.float32)
    x = RNG.normal(3.0, 2.0, (7, 4, 3)).astype(np.float32)
    ours, theirs = Normalization(axis=axis), keras.layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    np.testing.assert_allclose(ours(x), keras_out(theirs, x), rtol=1e-5, atol=1e-6)
    for mine, keras_weight in zip(ours.get_weights()[:2], theirs.get_weights()[:2]):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-6)
    keep = tuple(range(3)) if axis is None else ()
    reduce = tuple(a for a in range(3) if a not in
                   ({2} if axis == -1 else {1, 2} if axis == (1, 2) else {1} if axis == 1
                    else set()))
    assert keep or reduce
    expected = (x - data.mean(axis=reduce, keepdims=True)) / np.sqrt(
        data.var(axis=reduce, keepdims=True))
    np.testing.assert_allclose(ours(x), expected, rtol=1e-4, atol=1e-5)


def test_normalization_adapt_batches_as_whole_array():
    # Keras without TensorFlow adapts arrays only (batches go through tf.data):
    # the merged batch statistics must equal the whole array's.
    batches = [RNG.normal(i, 1 + i, (n, 3)).astype(np.float32)
               for i, n in enumerate([10, 25, 7])]
    ours, theirs = Normalization(), keras.layers.Normalization()
    ours.adapt(iter(batches))
    everything = np.concatenate(batches)
    theirs.adapt(everything)
    np.testing.assert_allclose(ours.get_weights()[0], everything.mean(0), rtol=1e-5)
    np.testing.assert_allclose(ours.get_weights()[1], everything.var(0), rtol=1e-5)
    x = everything[:5]
    np.testing.assert_allclose(ours(x), keras_out(theirs, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_given_mean_variance_as_keras(invert):
    mean, variance = [1.0, -2.0, 0.5], [4.0, 0.0, 0.25]
    x = RNG.normal(0, 3, (6, 2, 3)).astype(np.float32)
    ours = Normalization(mean=mean, variance=variance, invert=invert)
    theirs = keras.layers.Normalization(mean=mean, variance=variance, invert=invert)
    np.testing.assert_allclose(ours(x), keras_out(theirs, x), rtol=1e-6)
    scale = np.maximum(np.sqrt(variance), 1e-7)
    expected = mean + x * scale if invert else (x - mean) / scale
    np.testing.assert_allclose(ours(x), expected, rtol=1e-5)
    scalar = Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(scalar(np.array([[1.0], [3.0]])), [[-2 / np.sqrt(2)], [0.0]],
                               rtol=1e-6)


def test_normalization_config_and_weights_round_trip():
    layer = Normalization(axis=-1, invert=True)
    layer.adapt(RNG.normal(size=(20, 3)).astype(np.float32))
    config = layer.get_config()
    keras_config = keras.layers.Normalization(axis=-1, invert=True).get_config()
    assert {k: config[k] for k in ("axis", "invert", "mean", "variance")} == \
        {k: keras_config[k] for k in ("axis", "invert", "mean", "variance")}
    clone = Normalization.from_config(config)
    clone.build_for((None, 3))
    clone.set_weights(layer.get_weights())
    x = RNG.normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_array_equal(clone(x), layer(x))
    given = Normalization.from_config(Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
                                      .get_config())
    np.testing.assert_allclose(given(np.array([[1.0, 0.0]])), [[0.0, -1.0]])


def test_normalization_first_layer_of_a_model_trains():
    x = RNG.normal(50.0, 10.0, (64, 3)).astype(np.float32)
    y = (x[:, :1] - 50.0) / 10.0
    norm = fastembed.layers.Normalization()
    norm.adapt(x)
    model = fastembed.Sequential([fastembed.Input((3,)), norm, fastembed.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    np.testing.assert_allclose(model.layers[0](x), (x - x.mean(0)) / x.std(0), rtol=1e-4,
                               atol=1e-5)


def test_normalization_bad_input():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="range"):
        Normalization(axis=3)(np.zeros((2, 3)))
    layer = Normalization()
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.zeros((4, 5)))
    with pytest.raises(TypeError, match="numeric"):
        layer(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match="empty iterable"):
        Normalization().adapt([])
    with pytest.raises(ValueError, match="given mean and variance"):
        Normalization(mean=0.0, variance=1.0).adapt(np.zeros((3, 1)))


@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("shape", [(9,), (6, 1), (5, 4), (3, 4, 2)])
def test_discretization_boundaries_as_keras(output_mode, shape):
    boundaries = [-1.0, 0.0, 0.5, 2.0]
    x = RNG.choice([-3.0, -1.0, -0.2, 0.0, 0.5, 0.7, 2.0, 5.0], size=shape).astype(np.float32)
    ours = Discretization(bin_boundaries=boundaries, output_mode=output_mode)
    theirs = keras.layers.Discretization(bin_boundaries=boundaries, output_mode=output_mode)
    got, expected = ours(x), keras_out(theirs, x)
    assert got.shape == expected.shape
    assert ours.compute_output_shape((None,) + shape[1:]) == \
        theirs.compute_output_shape((None,) + shape[1:])
    np.testing.assert_array_equal(got, expected)
    if output_mode == "int":
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, np.searchsorted(boundaries, x, side="right"))


@pytest.mark.parametrize("num_bins, epsilon", [(4, 0.01), (5, 0.1), (3, 0.001), (10, 0.05)])
def test_discretization_adapt_boundaries_as_keras(num_bins, epsilon):
    data = RNG.lognormal(0, 1, (997, 3))
    ours = Discretization(num_bins=num_bins, epsilon=epsilon)
    theirs = keras.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(data)
    # Keras's adapt() goes through tf.data; its update_state is the numpy part.
    theirs.update_state(data)
    theirs.finalize_state()
    assert ours.bin_boundaries == theirs.bin_boundaries
    assert len(ours.bin_boundaries) == num_bins - 1
    # Approximate quantiles: within a few epsilon of the exact ones.
    exact = np.quantile(data, np.arange(1, num_bins) / num_bins)
    ranks = np.searchsorted(np.sort(data.ravel()), ours.bin_boundaries) / data.size
    np.testing.assert_allclose(ranks, np.searchsorted(np.sort(data.ravel()), exact) / data.size,
                               atol=3 * epsilon + 2 / data.size)
    # Batch by batch, against Keras's summary functions.
    batches = [data[:300], data[300:700], data[700:]]
    ours.adapt(batches)
    summary = np.array([[], []], dtype="float32")
    for batch in batches:
        summary = keras_discretization.merge_summaries(
            keras_discretization.summarize(batch.astype("float32"), epsilon), summary, epsilon)
    assert ours.bin_boundaries == \
        keras_discretization.get_bin_boundaries(summary, num_bins).tolist()
    theirs.bin_boundaries = ours.bin_boundaries
    x = RNG.lognormal(0, 1, (20, 3))
    np.testing.assert_array_equal(ours(x), keras_out(theirs, x))


def test_discretization_config_round_trip():
    layer = Discretization(num_bins=4, output_mode="count")
    layer.adapt(RNG.normal(size=200))
    config = layer.get_config()
    keras_layer = keras.layers.Discretization.from_config(
        {k: v for k, v in config.items() if k != "trainable"})
    clone = Discretization.from_config(config)
    assert clone.bin_boundaries == layer.bin_boundaries == keras_layer.bin_boundaries
    x = RNG.normal(size=(5, 7))
    np.testing.assert_array_equal(clone(x), layer(x))
    np.testing.assert_array_equal(clone(x), keras_out(keras_layer, x))


def test_discretization_bad_input():
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        Discretization()
    with pytest.raises(ValueError, match="should not be set"):
        Discretization(num_bins=3, bin_boundaries=[0.0])
    with pytest.raises(ValueError, match="num_bins=-1"):
        Discretization(num_bins=-1)
    with pytest.raises(ValueError, match="output_mode='tf_idf'"):
        Discretization(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="ascending"):
        Discretization(bin_boundaries=[1.0, 0.0])
    with pytest.raises(ValueError, match="adapt"):
        Discretization(num_bins=3)(np.zeros(3))
    with pytest.raises(ValueError, match="use `num_bins` instead"):
        Discretization(bin_boundaries=[0.0]).adapt(np.zeros(3))
    with pytest.raises(TypeError, match="numeric"):
        Discretization(bin_boundaries=[0.0])(np.array(["a"]))
