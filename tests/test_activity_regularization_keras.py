"""ActivityRegularization, and the metrics of a masked 3-D output, against
real Keras 3 (jax backend): same weights, same 3-epoch histories and
evaluations."""
import keras
import numpy as np
import pytest

import fastembed
from test_weights_keras import BINARY, LENGTH, VOCAB, assert_same_history, data, fit_both, twins

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def regularized_classifier(l1, l2):
    def build(lib):
        return lib.Sequential([lib.Input((LENGTH,), dtype="int32"),
                               lib.layers.Embedding(VOCAB, 8), lib.layers.Flatten(),
                               lib.layers.ActivityRegularization(l1=l1, l2=l2),
                               lib.layers.Dense(1, activation="sigmoid")])
    return build


@pytest.mark.parametrize("l1,l2", [(0.01, 0.0), (0.0, 0.05), (0.003, 0.02)])
def test_activity_regularization_fit_and_evaluate_match_keras(l1, l2):
    x, y = data()
    km, fm = twins(regularized_classifier(l1, l2))
    kh, fh = fit_both(km, fm, x, y, BINARY)
    assert_same_history(kh, fh)
    for f_weight, k_weight in zip(fm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(f_weight, k_weight, rtol=1e-3, atol=1e-5)
    # evaluate's loss includes the penalty, as Keras's does
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=1e-4)


def test_activity_regularization_penalty_moves_the_loss():
    """The penalty is in the loss at all (else the match above proves nothing
    about it): with l2 the first-epoch loss exceeds the unregularized one."""
    x, y = data()
    plain = twins(regularized_classifier(0.0, 0.0))[1]
    regularized = twins(regularized_classifier(0.0, 0.5))[1]
    losses = [m.compile(**BINARY) or m.evaluate(x, y, verbose=0)[0] for m in (plain, regularized)]
    assert losses[1] > losses[0] + 1e-3


def test_activity_regularization_layer_is_the_identity_with_keras_config():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    ours = fastembed.layers.ActivityRegularization(l1=0.1, l2=0.2, name="reg")
    theirs = keras.layers.ActivityRegularization(l1=0.1, l2=0.2, name="reg")
    np.testing.assert_array_equal(ours(x), x)
    config = ours.get_config()
    assert {k: config[k] for k in ("name", "l1", "l2", "trainable")} == \
        {k: theirs.get_config()[k] for k in ("name", "l1", "l2", "trainable")}
    assert "activity_regularizer" not in config
    clone = fastembed.layers.ActivityRegularization.from_config(
        theirs.get_config() | {"dtype": "float32"})
    assert (clone.l1, clone.l2) == (0.1, 0.2)
    with pytest.raises(ValueError, match="l1"):
        fastembed.layers.ActivityRegularization(l1=-1.0)


def masked_tagger(lib):
    """Embedding(mask_zero) -> ActivityRegularization -> LSTM(return_sequences)
    -> TimeDistributed(Dense(softmax)): the mask reaches the 3-D output."""
    return lib.Sequential([lib.Input((LENGTH,), dtype="int32"),
                           lib.layers.Embedding(VOCAB, 8, mask_zero=True),
                           lib.layers.ActivityRegularization(l2=0.01),
                           lib.layers.LSTM(6, return_sequences=True),
                           lib.layers.TimeDistributed(lib.layers.Dense(4, activation="softmax"))])


def padded_tags(seed=0):
    rng = np.random.default_rng(seed)
    x, _ = data(seed=seed)
    lengths = rng.integers(2, LENGTH + 1, len(x))
    x[np.arange(LENGTH) >= lengths[:, None]] = 0  # padding at the end of each row
    return x, (x % 4).astype(np.int32)


def test_keras_file_with_activity_regularization_loads(tmp_path):
    x, y = data()
    km, _ = twins(regularized_classifier(0.01, 0.02))
    km.compile(**BINARY)
    km.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "regularized.keras")
    km.save(path)
    fm = fastembed.models.load_model(path)
    layer = next(lay for lay in fm.layers if type(lay).__name__ == "ActivityRegularization")
    assert (layer.l1, layer.l2) == (0.01, 0.02)
    np.testing.assert_allclose(fm.predict(x, verbose=0), km.predict(x, verbose=0), atol=1e-6)
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=1e-4)


TAGGER = {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"}


@pytest.mark.parametrize("metric", ["accuracy", "sparse_categorical_accuracy",
                                    "sparse_top_k_categorical_accuracy"])
def test_masked_temporal_metrics_match_keras(metric):
    """Loss, validation metrics and evaluate over the unmasked steps only,
    as Keras. (Keras on jax leaves the mask out of fit's training metrics,
    the next test's subject, so they are not compared here.)"""
    x, y = padded_tags()
    vx, vy = padded_tags(seed=3)
    km, fm = twins(masked_tagger)
    kh, fh = fit_both(km, fm, x, y, TAGGER | {"metrics": [metric]}, validation_data=(vx, vy))
    assert sorted(fh) == sorted(kh)
    name = next(k for k in kh if k.startswith("val_") and k != "val_loss")
    for key in ("loss", "val_loss", name):
        np.testing.assert_allclose(fh[key], kh[key], rtol=1e-4, err_msg=key)
    assert fh["loss"][-1] < fh["loss"][0]
    np.testing.assert_allclose(fm.evaluate(vx, vy, verbose=0), km.evaluate(vx, vy, verbose=0),
                               rtol=1e-4)
    if "top_k" not in metric:  # the mask matters: counting the padding gives another value
        hits = fm.predict(vx, verbose=0).argmax(-1) == vy
        masked = float(hits[vx > 0].mean())
        np.testing.assert_allclose(fm.evaluate(vx, vy, verbose=0)[1], masked, rtol=1e-6)
        assert abs(float(hits.mean()) - masked) > 1e-3


def test_masked_temporal_accuracy_in_fit_counts_the_unmasked_steps():
    """With a learning rate of 0 the weights stay put, so fit's running
    accuracy is the accuracy of one set of predictions: over the unmasked
    steps, as Keras's evaluate (jax) and Keras's fit on torch count it.
    (Keras 3.15's fit on jax counts the padded steps too, the mask being
    lost through jax.value_and_grad: 0.2233 here, against 0.2797 over the
    unmasked steps.)"""
    x, y = padded_tags()
    km, fm = twins(masked_tagger)
    compile_args = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    km.compile(optimizer=keras.optimizers.SGD(0.0), **compile_args)
    fm.compile(optimizer=fastembed.optimizers.SGD(0.0), **compile_args)
    fit = dict(epochs=1, batch_size=32, shuffle=False, verbose=0)
    accuracy = fm.fit(x, y, **fit).history["accuracy"][0]
    hits = km.predict(x, verbose=0).argmax(-1) == y
    np.testing.assert_allclose(accuracy, hits[x > 0].mean(), rtol=1e-6)
    np.testing.assert_allclose(accuracy, km.evaluate(x, y, verbose=0)[1], rtol=1e-6)
    assert abs(hits.mean() - accuracy) > 1e-3
