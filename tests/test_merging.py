"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot) against numpy references written here, central
differences, and Keras 3 on jax (jax.vjp of the same Keras layer with the
same upstream gradient); masks, shape errors, configs; Bidirectional's
merge (now these layers) against its previous inline arithmetic; the
Constant initializer with an array.

Tolerances: against Keras/jax forward and backward 1e-6 (relative and
absolute; the arithmetic is the same float32 operations, up to summation
order); central differences in float64 of float32 layers, step 1e-2 (1e-3
for normalised Dot), rtol 1e-2 / atol 1e-3.
"""
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras.src.backend import set_keras_mask

import fastembed
from fastembed import initializers, layers
from fastembed.engine import record

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

JAX_TOL = dict(rtol=1e-6, atol=1e-6)
FD_TOL = dict(rtol=1e-2, atol=1e-3)
# Keys our get_config may have beyond Keras's (none for these layers).
EXTRA_CONFIG_KEYS = set()


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _inputs(shapes, seed=0):
    return [_x(s, seed + i) for i, s in enumerate(shapes)]


def ours_vjp(layer, xs, upstream, mask=None):
    y, context = record(layer, xs, mask=mask)
    return y, layer.backward(context, upstream)


def keras_vjp(keras_layer, xs, masks=None):
    """(output, vjp) of the Keras layer on jax, the masks attached to the
    inputs as a Keras model attaches them; vjp(upstream) -> input gradients."""
    def f(*args):
        if masks is not None:
            for arg, m in zip(args, masks):
                if m is not None:
                    set_keras_mask(arg, jnp.asarray(m))
        return keras_layer(list(args))

    y, vjp = jax.vjp(f, *[jnp.asarray(x) for x in xs])
    return np.asarray(y), lambda upstream: [np.asarray(g) for g in vjp(jnp.asarray(upstream))]


def numeric_grads(layer, xs, upstream, mask=None, eps=1e-2):
    """Central differences (float64) of sum(layer(xs) * upstream) w.r.t. every input entry."""
    def loss(arrays):
        return float(np.sum(layer(arrays, mask=mask).astype(np.float64) * upstream))

    grads = []
    for i, x in enumerate(xs):
        g = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            plus = [a.copy() for a in xs]
            minus = [a.copy() for a in xs]
            plus[i][index] += np.float32(eps)
            minus[i][index] -= np.float32(eps)
            g[index] = (loss(plus) - loss(minus)) / (float(plus[i][index]) - float(minus[i][index]))
        grads.append(g)
    return grads


def check_against_keras(ours, theirs, xs, masks=None, seed=9):
    """Our output and input gradients equal Keras's on jax for one upstream gradient."""
    y_k, vjp = keras_vjp(theirs, xs, masks)
    upstream = _x(y_k.shape, seed)
    grads_k = vjp(upstream)
    y, grads = ours_vjp(ours, xs, upstream, mask=masks)
    assert y.dtype == np.float32 and y.shape == y_k.shape
    np.testing.assert_allclose(y, y_k, **JAX_TOL)
    assert len(grads) == len(xs)
    for g, g_k, x in zip(grads, grads_k, xs):
        assert g.dtype == np.float32 and g.shape == x.shape
        np.testing.assert_allclose(g, g_k, **JAX_TOL)
    return y, grads, upstream


def check_numeric(ours, xs, mask=None, eps=1e-2, seed=11):
    y, _ = record(ours, xs, mask=mask)
    upstream = _x(y.shape, seed)
    _, grads = ours_vjp(ours, xs, upstream, mask=mask)
    for g, g_num in zip(grads, numeric_grads(ours, xs, upstream, mask, eps)):
        np.testing.assert_allclose(g, g_num, **FD_TOL)


# ------------------------------------------------------------ elementwise merges

def _expand(xs):
    """Keras 3's lower-rank inputs: expanded after the batch axis."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]


def _fold(op):
    def reference(xs):
        xs = _expand(xs)
        out = xs[0]
        for x in xs[1:]:
            out = op(out, x)
        return out
    return reference


REFERENCES = {
    "Add": _fold(np.add),
    "Subtract": lambda xs: np.subtract(*_expand(xs)),
    "Multiply": _fold(np.multiply),
    "Average": lambda xs: _fold(np.add)(xs) / np.float32(len(xs)),
    "Maximum": _fold(np.maximum),
    "Minimum": _fold(np.minimum),
}
ELEMENTWISE = sorted(REFERENCES)
SHAPE_CASES = {
    "same": [(2, 3, 4), (2, 3, 4)],
    "three": [(2, 3, 4), (2, 3, 4), (2, 3, 4)],
    "broadcast": [(2, 1, 4), (2, 3, 1)],
    "ranks": [(2, 4), (2, 3, 4)],
    "rank1": [(2, 3, 4), (2,)],
    "single": [(2, 5)],
}


def _cases():
    for name in ELEMENTWISE:
        for case, shapes in SHAPE_CASES.items():
            if name == "Subtract" and len(shapes) != 2:
                continue
            yield name, case


@pytest.mark.parametrize("name, case", list(_cases()))
def test_elementwise_forward_backward(name, case):
    shapes = SHAPE_CASES[case]
    xs = _inputs(shapes)
    ours, theirs = getattr(layers, name)(), getattr(keras.layers, name)()
    y, _, _ = check_against_keras(ours, theirs, xs)
    np.testing.assert_allclose(y, REFERENCES[name](xs), rtol=1e-6, atol=1e-6)
    assert y.shape == tuple(theirs.compute_output_shape(shapes))
    # Maximum/Minimum are piecewise linear: a small step keeps clear of near-ties
    check_numeric(ours, xs, eps=1e-4 if name in ("Maximum", "Minimum") else 1e-2)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_symbolic_shapes(name):
    for shapes in ([(None, 3, 4), (None, 3, 4)], [(None, 1, 4), (None, 3, 1)],
                   [(None, 4), (None, 3, 4)], [(None, None, 4), (None, 3, 4)]):
        tensors = [fastembed.Input(batch_shape=s) for s in shapes]
        out = getattr(layers, name)()(tensors)
        assert out.shape == tuple(getattr(keras.layers, name)().compute_output_shape(shapes))


@pytest.mark.parametrize("name", ["Maximum", "Minimum"])
def test_select_ties_match_jax(name):
    """A tie shares the gradient of that step of the fold equally, as
    jax.grad of jnp.maximum/minimum: for three equal inputs the first two
    get a quarter and the last a half."""
    a = _x((3, 4), 1)
    b = a.copy()
    b[0] += 1.0  # row 0 not tied
    c = a.copy()
    c[1] -= 1.0  # row 1: a and b tie, c loses (Maximum) or wins (Minimum)
    xs = [a, b, c]
    _, grads, upstream = check_against_keras(getattr(layers, name)(),
                                             getattr(keras.layers, name)(), xs)
    ones = np.ones((3, 4), np.float32)
    _, three = ours_vjp(getattr(layers, name)(), [ones, ones, ones], ones)
    np.testing.assert_array_equal(np.stack(three)[:, 0, 0], [0.25, 0.25, 0.5])


@pytest.mark.parametrize("name", ["Maximum", "Minimum"])
@pytest.mark.parametrize("which", ["all", "first_none", "middle_none", "last_only"])
def test_select_masks_match_keras(name, which):
    """Maximum/Minimum ignore masked entries (Keras's _apply_merge_op_and_or_mask)."""
    shapes = [(3, 5, 4)] * 3
    xs = _inputs(shapes, seed=3)
    rng = np.random.default_rng(4)
    masks = [rng.random((3, 5)) > 0.4 for _ in shapes]
    masks = {"all": masks, "first_none": [None] + masks[1:],
             "middle_none": [masks[0], None, masks[2]], "last_only": [None, None, masks[2]]}[which]
    ours = getattr(layers, name)()
    y, _, _ = check_against_keras(ours, getattr(keras.layers, name)(), xs, masks)
    if which == "all":  # the masks change the numbers
        assert not np.allclose(y, REFERENCES[name](xs))
    check_numeric(ours, xs, mask=masks, eps=1e-4)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_compute_mask(name):
    shapes = [(2, 5, 3), (2, 5, 3)]
    xs = _inputs(shapes)
    rng = np.random.default_rng(0)
    m1, m2 = rng.random((2, 5)) > 0.5, rng.random((2, 5)) > 0.5
    ours, theirs = getattr(layers, name)(), getattr(keras.layers, name)()
    for masks in ([m1, m2], [m1, None], None, [None, None]):
        got = ours.compute_mask(xs, masks)
        k_masks = None if masks is None else [None if m is None else jnp.asarray(m)
                                              for m in masks]
        expected = theirs.compute_mask([jnp.asarray(x) for x in xs], k_masks)
        if expected is None:
            assert got is None
        else:
            np.testing.assert_array_equal(got, np.asarray(expected))
    np.testing.assert_array_equal(ours.compute_mask(xs, [m1, m2]), m1 | m2)


def test_masks_through_a_model():
    """Embedding(mask_zero) -> Maximum -> output mask, as Keras: masked steps
    never win and the output mask is the OR."""
    ids_a = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    ids_b = np.array([[4, 0, 0, 0], [5, 6, 7, 0]])
    a = fastembed.Input(shape=(4,), dtype="int32")
    b = fastembed.Input(shape=(4,), dtype="int32")
    embedding = layers.Embedding(10, 3, mask_zero=True)
    out = layers.Maximum()([embedding(a), embedding(b)])
    model = fastembed.Model([a, b], out)
    table = embedding.get_weights()[0]
    ea, eb = table[ids_a], table[ids_b]
    expected = REFERENCES["Maximum"]([
        np.where((ids_a > 0)[..., None], ea, eb), np.where((ids_b > 0)[..., None], eb, ea)])
    np.testing.assert_allclose(model.predict([ids_a, ids_b], verbose=0), expected, rtol=1e-6)
    _, masks = model.graph.run([ids_a, ids_b])
    np.testing.assert_array_equal(masks[0], (ids_a > 0) | (ids_b > 0))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_shape_errors(name):
    layer = getattr(layers, name)(name=f"my_{name.lower()}")
    with pytest.raises(ValueError, match=rf"my_{name.lower()}.*\(None, 3\).*\(None, 4\)"):
        layer([fastembed.Input(shape=(3,)), fastembed.Input(shape=(4,))])
    # an unbuilt layer is built for (None, ...) first, so the message may show None
    with pytest.raises(ValueError, match=rf"my_{name.lower()}.*\((None|2), 3\).*\((None|2), 4\)"):
        getattr(layers, name)(name=f"my_{name.lower()}")([_x((2, 3)), _x((2, 4))])
    with pytest.raises(ValueError, match="list of inputs"):
        getattr(layers, name)()(_x((2, 3)))
    with pytest.raises(ValueError, match="different batch sizes"):
        getattr(layers, name)()([_x((2, 3)), _x((3, 3))])
    # a built layer still checks the shapes of each call
    built = getattr(layers, name)(name="built")
    built([_x((2, 3)), _x((2, 3))])
    with pytest.raises(ValueError, match=r"built.*\(2, 3\).*\(2, 4\)"):
        built([_x((2, 3)), _x((2, 4))])


def test_subtract_needs_two_inputs():
    with pytest.raises(ValueError, match=r"Subtract layer 'sub'.*exactly 2 inputs"):
        layers.Subtract(name="sub")([_x((2, 3))] * 3)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([fastembed.Input(shape=(3,))])


def test_backward_without_input_grad():
    for layer in (layers.Add(), layers.Maximum(), layers.Concatenate(), layers.Dot(axes=1)):
        y, context = record(layer, [_x((2, 3)), _x((2, 3), 1)], needs_input_grad=False)
        assert layer.backward(context, np.ones_like(y)) is None


def test_gradients_are_distinct_arrays():
    """Each input gets its own gradient array, even when the values are equal."""
    for layer in (layers.Add(), layers.Average()):
        y, context = record(layer, [_x((2, 3)), _x((2, 3), 1), _x((2, 3), 2)])
        grads = layer.backward(context, np.ones_like(y))
        assert len({id(g) for g in grads}) == 3


def test_functional_helpers():
    a, b = _x((2, 3)), _x((2, 3), 1)
    for helper in ("add", "subtract", "multiply", "average", "maximum", "minimum"):
        np.testing.assert_array_equal(getattr(layers, helper)([a, b]),
                                      getattr(layers, helper.capitalize())()([a, b]))
    np.testing.assert_array_equal(layers.concatenate([a, b], axis=0), np.concatenate([a, b]))
    np.testing.assert_allclose(layers.dot([a, b], axes=1), (a * b).sum(1, keepdims=True),
                               rtol=1e-6)
    assert layers.add([a, b], name="named_add") is not None


def test_int_inputs_become_float32():
    y = layers.Add()([np.arange(6).reshape(2, 3), np.ones((2, 3), np.int64)])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.arange(6).reshape(2, 3) + 1)


# ------------------------------------------------------------------ Concatenate

CONCAT_CASES = [
    ([(2, 3), (2, 4)], -1),
    ([(2, 3, 4), (2, 3, 2), (2, 3, 1)], -1),
    ([(2, 3, 4), (2, 5, 4)], 1),
    ([(2, 3, 4), (2, 5, 4)], -2),
    ([(2, 3, 4), (2, 3, 4)], 2),
    ([(2, 3), (4, 3)], 0),
    ([(2, 3)], -1),
]


@pytest.mark.parametrize("shapes, axis", CONCAT_CASES)
def test_concatenate(shapes, axis):
    xs = _inputs(shapes)
    ours = layers.Concatenate(axis=axis)
    y, _, _ = check_against_keras(ours, keras.layers.Concatenate(axis=axis), xs)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    check_numeric(ours, xs)


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("which", ["all", "one", "none"])
def test_concatenate_masks_match_keras(axis, which):
    """Keras 3: masks broadcast to the inputs (all True where absent),
    concatenated along axis, any() over the last axis."""
    shapes = [(3, 4, 2), (3, 4, 5)] if axis == -1 else [(3, 4, 2), (3, 6, 2)]
    xs = _inputs(shapes)
    rng = np.random.default_rng(5)
    masks = [rng.random(s[:2]) > 0.5 for s in shapes]
    masks = {"all": masks, "one": [None, masks[1]], "none": [None, None]}[which]
    ours, theirs = layers.Concatenate(axis=axis), keras.layers.Concatenate(axis=axis)
    got = ours.compute_mask(xs, masks)
    expected = theirs.compute_mask([jnp.asarray(x) for x in xs],
                                   [None if m is None else jnp.asarray(m) for m in masks])
    if expected is None:
        assert got is None
        return
    np.testing.assert_array_equal(got, np.asarray(expected))
    full = [np.ones(s[:2], bool) if m is None else m for m, s in zip(masks, shapes)]
    if axis == -1:
        np.testing.assert_array_equal(got, full[0] | full[1])
    else:
        np.testing.assert_array_equal(got, np.concatenate(full, axis=1))


def test_concatenate_mask_through_a_model():
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    inputs = fastembed.Input(shape=(3,), dtype="int32")
    e = layers.Embedding(5, 2, mask_zero=True)(inputs)
    out = layers.Concatenate(axis=1)([e, layers.Dense(2)(e)])
    model = fastembed.Model(inputs, out)
    _, masks = model.graph.run([ids])
    np.testing.assert_array_equal(masks[0], np.concatenate([ids > 0, ids > 0], axis=1))


@pytest.mark.parametrize("shapes, axis, match", [
    ([(None, 3, 4), (None, 3)], -1, r"\(None, 3, 4\).*\(None, 3\)"),
    ([(None, 3, 4), (None, 5, 2)], -1, r"\(None, 3, 4\).*\(None, 5, 2\)"),
    ([(None, 3, 4), (None, 5, 4)], -1, r"\(None, 3, 4\).*\(None, 5, 4\)"),
    ([(None, 3), (None, 3)], 2, r"axis=2 is out of range"),
])
def test_concatenate_shape_errors(shapes, axis, match):
    tensors = [fastembed.Input(batch_shape=s) for s in shapes]
    with pytest.raises(ValueError, match=r"'cat'") as error:
        layers.Concatenate(axis=axis, name="cat")(tensors)
    assert error.match(match)
    with pytest.raises(ValueError, match=r"'cat2'"):
        layers.Concatenate(axis=axis, name="cat2")([_x((2,) + s[1:]) for s in shapes])


def test_concatenate_unknown_dims():
    out = layers.Concatenate()([fastembed.Input(batch_shape=(None, None, 3)),
                                fastembed.Input(batch_shape=(None, 4, 2))])
    assert out.shape == (None, None, 5)
    out = layers.Concatenate(axis=1)([fastembed.Input(batch_shape=(None, None, 3)),
                                      fastembed.Input(batch_shape=(None, 4, 3))])
    assert out.shape == (None, None, 3)
    assert out.shape == keras.layers.Concatenate(axis=1).compute_output_shape(
        [(None, None, 3), (None, 4, 3)])


def test_concatenate_bad_axis_argument():
    with pytest.raises(ValueError, match=r"axis=1.5"):
        layers.Concatenate(axis=1.5)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_concatenate_property(data):
    rank = data.draw(st.integers(2, 4), label="rank")
    base = [data.draw(st.integers(1, 3)) for _ in range(rank)]
    axis = data.draw(st.integers(-rank, rank - 1), label="axis")
    count = data.draw(st.integers(1, 4), label="count")
    shapes = []
    for _ in range(count):
        shape = list(base)
        shape[axis] = data.draw(st.integers(1, 3))
        shapes.append(tuple(shape))
    xs = _inputs(shapes, seed=data.draw(st.integers(0, 100)))
    layer = layers.Concatenate(axis=axis)
    y, context = record(layer, xs)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    assert y.shape == layer.compute_output_shape(shapes)
    grads = layer.backward(context, y * 2)
    for g, x in zip(grads, xs):
        np.testing.assert_array_equal(g, x * 2)


# -------------------------------------------------------------------------- Dot

def dot_reference(x, y, axes, normalize=False):
    """Keras's batch_dot, written with einsum (float64)."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    a1, a2 = (axes, axes) if isinstance(axes, int) else axes
    a1, a2 = a1 % x.ndim, a2 % y.ndim
    if normalize:
        x = x * np.minimum(1 / np.sqrt((x * x).sum(a1, keepdims=True)), 1e7)
        y = y * np.minimum(1 / np.sqrt((y * y).sum(a2, keepdims=True)), 1e7)
    letters = "bcdefghij"
    xs = ["a"] + list(letters[:x.ndim - 1])
    ys = ["a"] + list(letters[x.ndim - 1:x.ndim - 1 + y.ndim - 1])
    ys[a2] = xs[a1] = "z"
    out = [c for c in xs if c != "z"] + [c for c in ys[1:] if c != "z"]
    result = np.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
    return result.reshape(-1, 1) if result.ndim == 1 else result


DOT_CASES = [
    ([(3, 4), (3, 4)], 1),
    ([(3, 4), (3, 4)], -1),
    ([(3, 4), (3, 4)], (1, 1)),
    ([(3, 5, 4), (3, 6, 4)], 2),
    ([(3, 5, 4), (3, 4, 6)], (2, 1)),
    ([(3, 5, 4), (3, 6, 5)], (1, 2)),
    ([(3, 4), (3, 4, 6)], (1, 1)),
    ([(3, 5, 4), (3, 4)], (2, 1)),
    ([(3, 5, 4), (3, 4)], (-1, -1)),
    ([(2, 3, 4, 5), (2, 5, 3)], (3, 1)),
    ([(2, 3, 4, 5), (2, 6, 4, 3)], (2, 2)),
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("shapes, axes", DOT_CASES)
def test_dot(shapes, axes, normalize):
    xs = _inputs(shapes)
    ours = layers.Dot(axes=axes, normalize=normalize)
    y, _, _ = check_against_keras(ours, keras.layers.Dot(axes=axes, normalize=normalize), xs)
    np.testing.assert_allclose(y, dot_reference(*xs, axes, normalize), rtol=1e-5, atol=1e-5)
    assert y.shape == ours.compute_output_shape(shapes)
    assert y.shape == tuple(keras.layers.Dot(axes=axes).compute_output_shape(shapes))
    check_numeric(ours, xs, eps=1e-3 if normalize else 1e-2)


def test_dot_2d_output_is_batch_by_one():
    out = layers.Dot(axes=1)([fastembed.Input(shape=(4,)), fastembed.Input(shape=(4,))])
    assert out.shape == (None, 1)
    assert layers.Dot(axes=1)([_x((5, 4)), _x((5, 4), 1)]).shape == (5, 1)


def test_dot_normalize_is_cosine():
    x, y = _x((6, 8)), _x((6, 8), 1)
    cosine = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(layers.Dot(axes=1, normalize=True)([x, y])[:, 0], cosine,
                               rtol=1e-5, atol=1e-6)


def test_dot_normalize_zero_and_tiny_vectors():
    """Keras's epsilon: x * min(rsqrt(sum x**2), 1e7). A zero vector gives
    zeros; a vector of norm below 1e-7 is scaled by 1e7 (jax agrees). At an
    exact zero vector our gradient is upstream * 1e7 (the limit of the
    capped branch) where jax's is NaN."""
    x = _x((3, 4))
    x[0] = 0.0
    x[1] = np.float32(1e-9)
    y = _x((3, 4), 1)
    ours = layers.Dot(axes=1, normalize=True)
    theirs = keras.layers.Dot(axes=1, normalize=True)
    upstream = _x((3, 1), 2)
    y_k, vjp = keras_vjp(theirs, [x, y])
    gx_k, gy_k = vjp(upstream)
    out, (gx, gy) = ours_vjp(ours, [x, y], upstream)
    np.testing.assert_allclose(out, y_k, **JAX_TOL)
    assert out[0, 0] == 0.0
    np.testing.assert_allclose(out[1, 0], 1e-2 * (y[1] / np.linalg.norm(y[1])).sum(), rtol=1e-5)
    assert np.isnan(gx_k[0]).all() and np.isfinite(gx).all()
    np.testing.assert_allclose(gx[1:], gx_k[1:], rtol=1e-5)
    np.testing.assert_allclose(gy, gy_k, rtol=1e-5, atol=1e-6)
    yn = y[0] / np.linalg.norm(y[0])
    np.testing.assert_allclose(gx[0], upstream[0, 0] * 1e7 * yn, rtol=1e-5)


@pytest.mark.parametrize("shapes, axes, match", [
    ([(None, 3), (None, 4)], 1, r"3 \(at axis 1\) != 4 \(at axis 1\).*\(None, 3\), \(None, 4\)"),
    ([(None, 3, 4), (None, 5, 4)], (1, 2), r"3 \(at axis 1\) != 4 \(at axis 2\)"),
    ([(None, 3), (None, 3)], 0, r"axis 0"),
    ([(None, 3), (None, 3)], 2, r"out of range.*\(None, 3\)"),
    ([(None,), (None, 3)], 1, r"rank < 2.*\(None,\).*\(None, 3\)"),
])
def test_dot_shape_errors(shapes, axes, match):
    tensors = [fastembed.Input(batch_shape=s) for s in shapes]
    with pytest.raises(ValueError, match="'my_dot'") as error:
        layers.Dot(axes=axes, name="my_dot")(tensors)
    assert error.match(match)


def test_dot_errors():
    with pytest.raises(ValueError, match=r"exactly 2 inputs"):
        layers.Dot(axes=1)([_x((2, 3))] * 3)
    with pytest.raises(ValueError, match=r"different batch sizes"):
        layers.Dot(axes=1)([_x((2, 3)), _x((3, 3))])
    with pytest.raises(ValueError, match=r"'d'.*3 \(at axis 1\) != 4"):
        layers.Dot(axes=1, name="d")([_x((2, 3)), _x((2, 4))])
    for bad in ("1", 1.0, (1, 2, 3), (1, "2"), None, [True, 1]):
        with pytest.raises(ValueError, match=r"axes="):
            layers.Dot(axes=bad)
    with pytest.raises(ValueError, match=r"normalize="):
        layers.Dot(axes=1, normalize="yes")


def test_dot_has_no_mask():
    m = np.ones((2, 3), bool)
    assert layers.Dot(axes=2).compute_mask([_x((2, 3, 4))] * 2, [m, m]) is None
    assert keras.layers.Dot(axes=2).compute_mask(None, [m, m]) is None


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_dot_property(data):
    r1, r2 = data.draw(st.integers(2, 4), label="r1"), data.draw(st.integers(2, 4), label="r2")
    batch, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    s1 = [batch] + [data.draw(st.integers(1, 3)) for _ in range(r1 - 1)]
    s2 = [batch] + [data.draw(st.integers(1, 3)) for _ in range(r2 - 1)]
    a1, a2 = data.draw(st.integers(1, r1 - 1)), data.draw(st.integers(1, r2 - 1))
    s1[a1] = s2[a2] = k
    if data.draw(st.booleans(), label="negative"):
        a1, a2 = a1 - r1, a2 - r2
    normalize = data.draw(st.booleans(), label="normalize")
    xs = _inputs([tuple(s1), tuple(s2)], seed=data.draw(st.integers(0, 100)))
    layer = layers.Dot(axes=(a1, a2), normalize=normalize)
    y, context = record(layer, xs)
    np.testing.assert_allclose(y, dot_reference(*xs, (a1, a2), normalize), rtol=1e-5, atol=1e-5)
    assert y.shape == layer.compute_output_shape([tuple(s1), tuple(s2)])
    assert y.shape == tuple(keras.layers.Dot(axes=(a1 % r1, a2 % r2))
                            .compute_output_shape([tuple(s1), tuple(s2)]))
    if not normalize:  # the gradient of a bilinear map: the map of the other input
        upstream = _x(y.shape, 5)
        gx, gy = layer.backward(context, upstream)
        np.testing.assert_allclose(np.sum(gx * xs[0]), np.sum(upstream * y), rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(np.sum(gy * xs[1]), np.sum(upstream * y), rtol=1e-4,
                                   atol=1e-4)


# ---------------------------------------------------------------------- configs

CONFIG_CASES = [
    ("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}), ("Maximum", {}),
    ("Minimum", {}), ("Concatenate", {}), ("Concatenate", {"axis": 1}),
    ("Dot", {"axes": 1}), ("Dot", {"axes": (1, 2), "normalize": True}),
]


@pytest.mark.parametrize("name, kwargs", CONFIG_CASES)
def test_config(name, kwargs):
    ours = getattr(layers, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    config = ours.get_config()
    assert set(config) - EXTRA_CONFIG_KEYS == set(theirs.get_config())
    for key, value in kwargs.items():
        assert config[key] == theirs.get_config()[key] == value
    clone = type(ours).from_config(config)
    assert clone.get_config() == config
    assert type(ours).from_config(theirs.get_config() | {"dtype": "float32"}).get_config() \
        == config | {"name": theirs.name}
    xs = _inputs([(2, 3, 3), (2, 3, 3)])
    np.testing.assert_array_equal(clone(xs), ours(xs))


def test_default_names_and_serialisation():
    assert layers.Concatenate().name.startswith("concatenate")
    assert layers.Dot(axes=1).name.startswith("dot")
    from fastembed.saving import deserialize_layer
    layer = deserialize_layer({"class_name": "Dot",
                               "config": {"name": "d", "axes": [1, 2], "normalize": False}})
    assert isinstance(layer, layers.Dot) and layer.axes == [1, 2]


# -------------------------------------------------------------- a whole model

def test_model_matches_keras():
    """A functional model of merges gives Keras's predictions from the same weights."""
    def build(k):
        a = k.Input(shape=(4,), name="a")
        b = k.Input(shape=(4,), name="b")
        ha = k.layers.Dense(6, name="da")(a)
        hb = k.layers.Dense(6, name="db")(b)
        merged = k.layers.Concatenate(name="cat")([
            k.layers.Add(name="add")([ha, hb]), k.layers.Subtract(name="sub")([ha, hb]),
            k.layers.Multiply(name="mul")([ha, hb]), k.layers.Average(name="avg")([ha, hb]),
            k.layers.Maximum(name="max")([ha, hb]), k.layers.Minimum(name="min")([ha, hb]),
            k.layers.Dot(axes=1, normalize=True, name="cos")([ha, hb])])
        return k.Model([a, b], k.layers.Dense(1, name="out")(merged))

    keras.utils.set_random_seed(0)
    theirs, ours = build(keras), build(fastembed)
    ours.set_weights(theirs.get_weights())
    xa, xb = _x((16, 4)), _x((16, 4), 1)
    np.testing.assert_allclose(ours.predict([xa, xb], verbose=0),
                               np.asarray(theirs.predict([xa, xb], verbose=0)),
                               rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ Bidirectional

def _old_merge(mode, y, y_rev):
    """Bidirectional's merge arithmetic before it used the merge layers."""
    if mode == "concat":
        return np.concatenate([y, y_rev], axis=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / np.float32(2)
    return y * y_rev


def _old_merge_grads(mode, d, y, y_rev):
    if mode == "concat":
        units = y.shape[-1]
        return d[..., :units], d[..., units:]
    if mode == "sum":
        return d, d
    if mode == "ave":
        return d / np.float32(2), d / np.float32(2)
    return d * y_rev, d * y


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_merge_unchanged(mode, return_sequences):
    """Bidirectional = its two LSTMs merged by the previous inline arithmetic,
    exactly (outputs, input gradient and weight gradients)."""
    x = _x((3, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[1, 3:] = False
    lstm = layers.LSTM(3, return_sequences=return_sequences)
    bi = layers.Bidirectional(lstm, merge_mode=mode)
    bi.build_for((None, 5, 4))
    rng = np.random.default_rng(1)
    bi.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                    for w in bi.get_weights()])
    out, context = record(bi, x, mask=mask)
    upstream = _x(out.shape, 2)
    dx = bi.backward(context, upstream)
    grads = [w.grad.copy() for w in bi.weights]

    for w in bi.weights:
        w.grad = None
    y, fwd_context = record(bi.forward_layer, x, mask=mask)
    y_rev, bwd_context = record(bi.backward_layer, x, mask=mask)
    if return_sequences:
        y_rev = y_rev[:, ::-1]
    np.testing.assert_array_equal(out, _old_merge(mode, y, y_rev))
    d_fwd, d_bwd = _old_merge_grads(mode, upstream, y, y_rev)
    if return_sequences:
        d_bwd = d_bwd[:, ::-1]
    expected_dx = bi.forward_layer.backward(fwd_context, np.ascontiguousarray(d_fwd)) \
        + bi.backward_layer.backward(bwd_context, np.ascontiguousarray(d_bwd))
    np.testing.assert_array_equal(dx, expected_dx)
    for got, w in zip(grads, bi.weights):
        np.testing.assert_array_equal(got, w.grad)


def test_bidirectional_merge_layer_takes_no_default_name():
    layers.Bidirectional(layers.LSTM(2), merge_mode="concat", name="bi_named")
    name = layers.Concatenate().name
    layers.Bidirectional(layers.LSTM(2), merge_mode="concat", name="bi_named_2")
    following = layers.Concatenate().name
    assert following != name and following.startswith("concatenate")
    assert "bi" not in following


# ---------------------------------------------------- Constant with an array

def test_embedding_with_constant_matrix():
    matrix = np.random.default_rng(0).standard_normal((7, 3))
    embedding = layers.Embedding(7, 3, embeddings_initializer=initializers.Constant(matrix))
    out = embedding(np.array([[0, 6, 2]]))
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix.astype(np.float32))
    np.testing.assert_array_equal(out[0], matrix.astype(np.float32)[[0, 6, 2]])
    keras_embedding = keras.layers.Embedding(
        7, 3, embeddings_initializer=keras.initializers.Constant(matrix))
    keras_embedding.build((None, 3))
    np.testing.assert_array_equal(embedding.get_weights()[0],
                                  np.asarray(keras_embedding.get_weights()[0]))


def test_constant_broadcasts_and_serialises():
    row = initializers.Constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(row((2, 3)), [[1, 2, 3], [1, 2, 3]])
    assert row((2, 3)).dtype == np.float32 and row((2, 3)).flags.c_contiguous
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 4\)"):
        row((2, 4))
    config = initializers.serialize(row)
    assert config == {"module": "keras.initializers", "class_name": "Constant",
                      "config": {"value": [1.0, 2.0, 3.0]}, "registered_name": None}
    np.testing.assert_array_equal(initializers.get(config)((1, 3)), [[1, 2, 3]])
    # Keras's serialisation of an array value
    keras_config = keras.initializers.serialize(keras.initializers.Constant(np.eye(2)))
    np.testing.assert_array_equal(initializers.get(keras_config)((2, 2)), np.eye(2))
    # the scalar form is unchanged
    assert initializers.Constant(0.1).get_config() == {"value": 0.1}
    assert initializers.Constant(2).value == 2.0
    np.testing.assert_array_equal(initializers.Constant(2)((2,)), [2, 2])
    with pytest.raises(ValueError, match="value="):
        initializers.Constant("nope")
    matrix = np.ones((2, 2))
    constant = initializers.Constant(matrix)
    matrix[0, 0] = 5.0  # the initializer keeps its own copy
    assert constant((2, 2))[0, 0] == 1.0
