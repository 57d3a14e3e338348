"""Reshape, RepeatVector, Permute and Activation against numpy references,
central differences, and Keras 3 on jax (jax.vjp of the same Keras layer
with the same upstream gradient); masks, shape errors, configs.

Tolerances: the reshaping layers move numbers without arithmetic (sums for
RepeatVector's gradient), so they match Keras to 1e-6; activations compute
the same formulas through numpy/scipy instead of XLA, rtol 1e-5 / atol 1e-6;
central differences (float64 of float32 layers, step 1e-2) rtol 1e-2 /
atol 1e-3.
"""
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastembed
from fastembed import activations, layers
from fastembed.engine import record

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

JAX_TOL = dict(rtol=1e-6, atol=1e-6)
ACTIVATION_TOL = dict(rtol=1e-5, atol=1e-6)
FD_TOL = dict(rtol=1e-2, atol=1e-3)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def check_against_keras(ours, theirs, x, tol=JAX_TOL, seed=9):
    """Output and input gradient of our layer equal Keras's on jax."""
    y_k, vjp = jax.vjp(theirs, jnp.asarray(x))
    upstream = _x(y_k.shape, seed)
    (g_k,) = vjp(jnp.asarray(upstream))
    y, context = record(ours, x)
    g = ours.backward(context, upstream)
    assert y.dtype == np.float32 and y.shape == y_k.shape
    np.testing.assert_allclose(y, np.asarray(y_k), **tol)
    assert g.dtype == np.float32 and g.shape == x.shape
    np.testing.assert_allclose(g, np.asarray(g_k), **tol)
    return y


def check_numeric(layer, x, eps=1e-2, seed=11):
    """backward against central differences (float64) of sum(layer(x) * upstream)."""
    y, context = record(layer, x)
    upstream = _x(y.shape, seed)
    g = layer.backward(context, upstream)
    numeric = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += np.float32(eps)
        minus[index] -= np.float32(eps)
        numeric[index] = (np.sum(layer(plus).astype(np.float64) * upstream)
                          - np.sum(layer(minus).astype(np.float64) * upstream)) \
            / (float(plus[index]) - float(minus[index]))
    np.testing.assert_allclose(g, numeric, **FD_TOL)


def check_config(ours, theirs):
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    clone = type(ours).from_config(config)
    assert clone.get_config() == config
    return config


# ---------------------------------------------------------------------- Reshape

RESHAPE_CASES = [
    ((2, 3, 4), (12,)),
    ((2, 3, 4), (4, 3)),
    ((2, 3, 4), (-1,)),
    ((2, 3, 4), (2, -1, 2)),
    ((2, 12), (6, -1)),
    ((2, 12), (1, 12, 1)),
]


@pytest.mark.parametrize("shape, target", RESHAPE_CASES)
def test_reshape(shape, target):
    x = _x(shape)
    ours = layers.Reshape(target)
    y = check_against_keras(ours, keras.layers.Reshape(target), x)
    np.testing.assert_array_equal(y, x.reshape((shape[0],) + target))
    check_numeric(ours, x)
    symbolic = ours.compute_output_shape((None,) + shape[1:])
    assert symbolic == keras.layers.Reshape(target).compute_output_shape((None,) + shape[1:])
    assert y.shape == (shape[0],) + symbolic[1:]


def test_reshape_unknown_dims():
    out = layers.Reshape((-1, 2))(fastembed.Input(batch_shape=(None, None, 4)))
    assert out.shape == (None, None, 2)
    assert out.shape == keras.layers.Reshape((-1, 2)).compute_output_shape((None, None, 4))
    assert layers.Reshape((-1, 2))(_x((3, 5, 4))).shape == (3, 10, 2)


@pytest.mark.parametrize("target", [(5,), (5, -1), (0, -1)])
def test_reshape_size_errors(target):
    with pytest.raises(ValueError, match=r"'my_reshape'.*\(3, 4\).*target_shape") as error:
        layers.Reshape(target, name="my_reshape")(fastembed.Input(shape=(3, 4)))
    assert error.match(r"target_shape=\(" + r",? ?".join(str(t) for t in target))
    with pytest.raises(ValueError, match=r"'my_reshape'"):
        layers.Reshape(target, name="my_reshape")(_x((2, 3, 4)))


@pytest.mark.parametrize("target", [(-1, -1), (-2, 3), (2.0, 3), None, (None, 3), (True,)])
def test_reshape_bad_arguments(target):
    with pytest.raises(ValueError, match="target_shape"):
        layers.Reshape(target)


# ----------------------------------------------------------------- RepeatVector

@pytest.mark.parametrize("n", [1, 3])
def test_repeat_vector(n):
    x = _x((2, 4))
    ours = layers.RepeatVector(n)
    y = check_against_keras(ours, keras.layers.RepeatVector(n), x)
    np.testing.assert_array_equal(y, np.stack([x] * n, axis=1))
    check_numeric(ours, x)
    assert ours.compute_output_shape((None, 4)) == (None, n, 4)


def test_repeat_vector_errors():
    with pytest.raises(ValueError, match=r"'rv'.*2-D.*\(None, 3, 4\)"):
        layers.RepeatVector(2, name="rv")(fastembed.Input(shape=(3, 4)))
    with pytest.raises(ValueError, match=r"'rv2'.*\((None|2), 3, 4\)"):
        layers.RepeatVector(2, name="rv2")(_x((2, 3, 4)))
    for bad in (0, -1, 1.5, True, "2", None):
        with pytest.raises(ValueError, match=r"n="):
            layers.RepeatVector(bad)


# ---------------------------------------------------------------------- Permute

PERMUTE_CASES = [((2, 3, 4), (2, 1)), ((2, 3, 4), (1, 2)), ((2, 3, 4, 5), (3, 1, 2)),
                 ((2, 3, 4, 5), (2, 3, 1)), ((2, 3), (1,))]


@pytest.mark.parametrize("shape, dims", PERMUTE_CASES)
def test_permute(shape, dims):
    x = _x(shape)
    ours = layers.Permute(dims)
    y = check_against_keras(ours, keras.layers.Permute(dims), x)
    np.testing.assert_array_equal(y, np.transpose(x, (0,) + dims))
    assert y.flags.c_contiguous
    check_numeric(ours, x)
    assert ours.compute_output_shape((None,) + shape[1:]) == \
        keras.layers.Permute(dims).compute_output_shape((None,) + shape[1:])


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_permute_property(data):
    rank = data.draw(st.integers(1, 4), label="rank")
    dims = tuple(data.draw(st.permutations(range(1, rank + 1)), label="dims"))
    shape = (data.draw(st.integers(1, 3)),) + tuple(data.draw(st.integers(1, 4))
                                                    for _ in range(rank))
    x = _x(shape, data.draw(st.integers(0, 50)))
    layer = layers.Permute(dims)
    y, context = record(layer, x)
    np.testing.assert_array_equal(y, np.transpose(x, (0,) + dims))
    np.testing.assert_array_equal(layer.backward(context, y), x)  # the inverse permutation


def test_permute_errors():
    with pytest.raises(ValueError, match=r"'perm'.*rank 3.*\(None, 3\)"):
        layers.Permute((2, 1), name="perm")(fastembed.Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"'perm2'.*\((None|2), 3, 4, 5\)"):
        layers.Permute((2, 1), name="perm2")(_x((2, 3, 4, 5)))
    for bad in ((1, 3), (0, 1), (2, 2), (1.0, 2), None, 2):
        with pytest.raises(ValueError, match=r"dims="):
            layers.Permute(bad)


# ------------------------------------------------------------------- Activation

ACTIVATIONS = ["linear", "relu", "relu6", "leaky_relu", "sigmoid", "hard_sigmoid", "tanh",
               "softmax", "log_softmax", "elu", "selu", "softplus", "softsign", "swish", "silu",
               "gelu", "exponential"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation(name):
    x = _x((3, 4, 5)) * 2
    ours = layers.Activation(name)
    y = check_against_keras(ours, keras.layers.Activation(name), x, tol=ACTIVATION_TOL)
    np.testing.assert_array_equal(y, activations.get(name)(x))
    check_numeric(ours, x, eps=1e-3)
    config = check_config(ours, keras.layers.Activation(name))
    assert config["activation"] == activations.serialize(name)


def test_activation_none_is_linear_and_errors():
    x = _x((2, 3))
    np.testing.assert_array_equal(layers.Activation(None)(x), x)
    assert layers.Activation(None).get_config()["activation"] == "linear"
    with pytest.raises(ValueError, match="nope"):
        layers.Activation("nope")


# ------------------------------------------------------------------------ masks

def test_masks():
    """As in Keras 3: Activation passes the mask; Reshape, RepeatVector and
    Permute do not support masking, so their output has none."""
    x, mask = _x((2, 3, 4)), np.array([[True, True, False], [True, False, False]])
    assert layers.Activation("relu").compute_mask(x, mask) is mask
    assert keras.layers.Activation("relu").supports_masking
    for ours, theirs in ((layers.Reshape((12,)), keras.layers.Reshape((12,))),
                         (layers.Permute((2, 1)), keras.layers.Permute((2, 1))),
                         (layers.RepeatVector(2), keras.layers.RepeatVector(2))):
        assert ours.compute_mask(x, mask) is None
        assert not ours.supports_masking and not theirs.supports_masking


def test_masks_through_a_model():
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    inputs = fastembed.Input(shape=(3,), dtype="int32")
    embedded = layers.Embedding(5, 4, mask_zero=True)(inputs)
    activated = layers.Activation("tanh")(embedded)
    model = fastembed.Model(inputs, [activated, layers.Permute((2, 1))(activated),
                                     layers.Reshape((12,))(activated)])
    _, masks = model.graph.run([ids])
    np.testing.assert_array_equal(masks[0], ids > 0)
    assert masks[1] is None and masks[2] is None


# ---------------------------------------------------------------------- configs

@pytest.mark.parametrize("ours, theirs, key, value", [
    (layers.Reshape((2, -1)), keras.layers.Reshape((2, -1)), "target_shape", (2, -1)),
    (layers.RepeatVector(3), keras.layers.RepeatVector(3), "n", 3),
    (layers.Permute((2, 1)), keras.layers.Permute((2, 1)), "dims", (2, 1)),
    (layers.Activation("relu"), keras.layers.Activation("relu"), "activation", "relu"),
])
def test_config(ours, theirs, key, value):
    config = check_config(ours, theirs)
    assert config[key] == theirs.get_config()[key] == value
    clone = type(ours).from_config(theirs.get_config() | {"dtype": "float32"})
    assert clone.get_config() == config | {"name": theirs.name}


def test_config_from_json_lists():
    """A saved config holds lists where the layer holds tuples."""
    assert layers.Reshape.from_config({"name": "r", "target_shape": [2, -1]}).target_shape \
        == (2, -1)
    assert layers.Permute.from_config({"name": "p", "dims": [2, 1]}).dims == (2, 1)


def test_backward_without_input_grad():
    for layer, x in ((layers.Reshape((-1,)), _x((2, 3, 4))), (layers.RepeatVector(2), _x((2, 3))),
                     (layers.Permute((2, 1)), _x((2, 3, 4))), (layers.Activation("relu"),
                                                               _x((2, 3)))):
        y, context = record(layer, x, needs_input_grad=False)
        assert layer.backward(context, np.ones_like(y)) is None
