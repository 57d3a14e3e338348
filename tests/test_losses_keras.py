"""Each loss against real Keras 3 (jax backend): values, reductions with
sample weights, gradients (jax.grad of Keras's loss) and 3-epoch histories."""
import jax
import keras
import numpy as np
import pytest

import fastembed
from fastembed import losses
from keras_twins import LENGTH, SAMPLES, VOCAB, twin_classifiers

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

RNG = np.random.default_rng(0)
N, K = 12, 4


def targets_and_predictions(kind):
    """(y_true, y_pred) in the domain each loss expects."""
    if kind == "binary":
        return (RNG.random((N, K)) < 0.5).astype(np.float32), \
            RNG.uniform(0.02, 0.98, (N, K)).astype(np.float32)
    if kind == "logits":
        return (RNG.random((N, K)) < 0.5).astype(np.float32), \
            RNG.normal(0, 2, (N, K)).astype(np.float32)
    if kind == "distribution":
        p = RNG.random((N, K)).astype(np.float32) + 0.05
        t = RNG.random((N, K)).astype(np.float32) + 0.05
        return t / t.sum(-1, keepdims=True), p / p.sum(-1, keepdims=True)
    if kind == "onehot":
        p = RNG.random((N, K)).astype(np.float32) + 0.05
        return np.eye(K, dtype=np.float32)[RNG.integers(0, K, N)], p / p.sum(-1, keepdims=True)
    if kind == "counts":
        return RNG.poisson(2.0, (N, K)).astype(np.float32), \
            RNG.uniform(0.1, 4, (N, K)).astype(np.float32)
    return RNG.normal(0, 1.5, (N, K)).astype(np.float32), \
        RNG.normal(0, 1.5, (N, K)).astype(np.float32)


CASES = {  # name: (fastembed loss, keras loss, data kind)
    "huber": (losses.Huber(), keras.losses.Huber(), "real"),
    "huber delta 0.3": (losses.Huber(delta=0.3), keras.losses.Huber(delta=0.3), "real"),
    "hinge": (losses.Hinge(), keras.losses.Hinge(), "binary"),
    "hinge signed": (losses.Hinge(), keras.losses.Hinge(), "real"),
    "squared_hinge": (losses.SquaredHinge(), keras.losses.SquaredHinge(), "binary"),
    "cosine_similarity": (losses.CosineSimilarity(), keras.losses.CosineSimilarity(), "real"),
    "kl_divergence": (losses.KLDivergence(), keras.losses.KLDivergence(), "distribution"),
    "poisson": (losses.Poisson(), keras.losses.Poisson(), "counts"),
    "log_cosh": (losses.LogCosh(), keras.losses.LogCosh(), "real"),
    "msle": (losses.MeanSquaredLogarithmicError(), keras.losses.MeanSquaredLogarithmicError(),
             "counts"),
    "binary_focal": (losses.BinaryFocalCrossentropy(),
                     keras.losses.BinaryFocalCrossentropy(), "binary"),
    "binary_focal balanced smoothed logits": (
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                                       from_logits=True, label_smoothing=0.1),
        keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                                             from_logits=True, label_smoothing=0.1), "logits"),
    "categorical_focal": (losses.CategoricalFocalCrossentropy(),
                          keras.losses.CategoricalFocalCrossentropy(), "onehot"),
    "categorical_focal smoothed logits": (
        losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=True,
                                            label_smoothing=0.2),
        keras.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=True,
                                                  label_smoothing=0.2), "logits_onehot"),
    "mse": (losses.MeanSquaredError(), keras.losses.MeanSquaredError(), "real"),
    "mae": (losses.MeanAbsoluteError(), keras.losses.MeanAbsoluteError(), "real"),
}


def case_data(kind):
    if kind == "logits_onehot":
        t, _ = targets_and_predictions("onehot")
        return t, RNG.normal(0, 2, (N, K)).astype(np.float32)
    return targets_and_predictions(kind)


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_value_and_gradient_match_keras(case):
    f_loss, k_loss, kind = CASES[case]
    y, p = case_data(kind)
    weights = RNG.uniform(0, 2, N).astype(np.float32)
    np.testing.assert_allclose(f_loss(y, p), float(k_loss(y, p)), rtol=1e-5)
    np.testing.assert_allclose(f_loss(y, p, sample_weight=weights),
                               float(k_loss(y, p, sample_weight=weights)), rtol=1e-5)
    value, grad = f_loss.value_and_gradient(y, p, sample_weight=weights)
    k_grad = jax.grad(lambda q: k_loss(y, q, sample_weight=weights))(p)
    np.testing.assert_allclose(value, float(k_loss(y, p, sample_weight=weights)), rtol=1e-5)
    np.testing.assert_allclose(grad, np.asarray(k_grad), rtol=2e-4, atol=1e-7)


AXIS_CASES = {  # name: (loss class name, arguments, data kind); the classes on axis 1 of 3
    "binary_crossentropy": ("BinaryCrossentropy", {}, "binary"),
    "binary_crossentropy logits smoothed": ("BinaryCrossentropy", {
        "from_logits": True, "label_smoothing": 0.1}, "logits"),
    "categorical_crossentropy": ("CategoricalCrossentropy", {}, "onehot"),
    "categorical_crossentropy logits smoothed": ("CategoricalCrossentropy", {
        "from_logits": True, "label_smoothing": 0.2}, "logits_onehot"),
    "sparse_categorical_crossentropy": ("SparseCategoricalCrossentropy", {}, "sparse"),
    "sparse_categorical_crossentropy logits": ("SparseCategoricalCrossentropy",
                                               {"from_logits": True}, "logits_sparse"),
    "cosine_similarity": ("CosineSimilarity", {}, "real"),
    "binary_focal": ("BinaryFocalCrossentropy", {"apply_class_balancing": True}, "binary"),
    "categorical_focal": ("CategoricalFocalCrossentropy", {}, "onehot"),
}


@pytest.mark.parametrize("case", sorted(AXIS_CASES))
@pytest.mark.parametrize("axis", [1, -2])
def test_losses_along_another_axis_match_keras(case, axis):
    """(samples, classes, steps) with axis pointing at the classes. Keras's
    sparse loss fails on jax for axis != -1: its reference is Keras's
    categorical loss of the one-hot targets. Keras's label smoothing divides
    by the size of the last axis whatever the axis: with as many steps as
    classes that is the same number."""
    class_name, kwargs, kind = AXIS_CASES[case]
    steps = K if kwargs.get("label_smoothing") and "Categorical" in class_name else 3
    data = [case_data(kind.replace("sparse", "onehot")) for _ in range(steps)]
    y = np.stack([t for t, _ in data], axis=2)
    p = np.stack([q for _, q in data], axis=2)
    f_loss = getattr(losses, class_name)(axis=axis, **kwargs)
    k_loss = getattr(keras.losses, class_name.replace("Sparse", ""))(axis=axis, **kwargs)
    if "sparse" in kind:
        y_ours = y.argmax(axis=1).astype(np.int32)  # (samples, steps)
    else:
        y_ours = y
    weights = RNG.uniform(0, 2, (N, steps)).astype(np.float32)  # per sample and step
    np.testing.assert_allclose(f_loss(y_ours, p), float(k_loss(y, p)), rtol=1e-5)
    value, grad = f_loss.value_and_gradient(y_ours, p, sample_weight=weights)
    np.testing.assert_allclose(value, float(k_loss(y, p, sample_weight=weights)), rtol=1e-5)
    k_grad = jax.grad(lambda q: k_loss(y, q, sample_weight=weights))(p)
    np.testing.assert_allclose(grad, np.asarray(k_grad), rtol=2e-4, atol=1e-7)
    none = getattr(losses, class_name)(axis=axis, reduction="none", **kwargs)
    assert none(y_ours, p).shape == (N, steps)
    assert f_loss.get_config()["axis"] == axis


def test_a_bad_axis_is_a_clear_error():
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.CategoricalCrossentropy(axis=1.5)
    with pytest.raises(ValueError, match=r"axis=3 is out of range for predictions of shape "
                                         r"\(2, 4\)"):
        losses.CategoricalCrossentropy(axis=3)(np.eye(4)[:2], np.full((2, 4), 0.25))


@pytest.mark.parametrize("reduction", ["sum", "sum_over_batch_size", "mean_with_sample_weight",
                                       "none"])
def test_reductions_match_keras(reduction):
    y, p = case_data("real")
    weights = RNG.uniform(0, 2, N).astype(np.float32)
    f_loss = losses.Huber(reduction=reduction)
    k_loss = keras.losses.Huber(reduction=reduction)
    np.testing.assert_allclose(f_loss(y, p, sample_weight=weights),
                               np.asarray(k_loss(y, p, sample_weight=weights)), rtol=1e-5)
    np.testing.assert_allclose(f_loss(y, p), np.asarray(k_loss(y, p)), rtol=1e-5)


def test_reduction_none_cannot_train_and_unknown_names_fail():
    model = fastembed.Sequential([fastembed.Input((3,)), fastembed.layers.Dense(1)])
    with pytest.raises(ValueError, match="reduction='none'"):
        model.compile("sgd", losses.Huber(reduction="none"))
    with pytest.raises(ValueError, match="reduction"):
        losses.Huber(reduction="average")
    with pytest.raises(ValueError, match="Unknown loss: 'hubber'"):
        model.compile("sgd", "hubber")




FITS = {  # loss string: (units, activation, targets from the first token id)
    "huber": (2, None, lambda f: np.stack([f / VOCAB, 1 - f / VOCAB], -1) * 3),
    "hinge": (1, "tanh", lambda f: (f < VOCAB // 2).astype(np.float32)),
    "squared_hinge": (1, "tanh", lambda f: (f < VOCAB // 2).astype(np.float32)),
    "cosine_similarity": (3, None, lambda f: np.stack([f / VOCAB, np.ones_like(f) * 1.0,
                                                       -f / VOCAB], -1)),
    "kl_divergence": (3, "softmax", lambda f: np.eye(3)[f * 3 // VOCAB] * 0.8 + 0.2 / 3),
    "poisson": (1, "softplus", lambda f: (f % 5).astype(np.float32)),
    "log_cosh": (1, None, lambda f: f / VOCAB * 4),
    "mean_squared_logarithmic_error": (1, "relu", lambda f: f / VOCAB * 4),
    "binary_focal_crossentropy": (1, "sigmoid", lambda f: (f < VOCAB // 2).astype(np.float32)),
    "categorical_focal_crossentropy": (3, "softmax", lambda f: np.eye(3)[f * 3 // VOCAB]),
}


@pytest.mark.parametrize("loss", sorted(FITS))
def test_fit_history_matches_keras_for_each_loss(loss):
    units, activation, target = FITS[loss]
    x = np.random.default_rng(1).integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    y = np.asarray(target(x[:, 0]), np.float32)
    weights = np.random.default_rng(2).uniform(0.5, 2.0, SAMPLES).astype(np.float32)
    km, fm = twin_classifiers(units, activation)
    histories = []
    for model in (km, fm):
        model.compile(optimizer=keras.optimizers.Adam(0.01) if model is km else
                      fastembed.optimizers.Adam(0.01), loss=loss)
        histories.append(model.fit(x, y, sample_weight=weights, epochs=3, batch_size=32,
                                   shuffle=False, verbose=0).history)
    kh, fh = histories
    assert fh["loss"][-1] < fh["loss"][0], "not training: the match would be vacuous"
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-4)
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=1e-4)
