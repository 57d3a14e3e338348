"""Streamed data against real Keras 3 (jax): (x, y, sample_weight) batches
from generators and PyDatasets, fit's validation_steps, and a generator that
runs dry before steps_per_epoch * epochs batches (Keras warns and ends the
epoch there). Twin models start from Keras's weights; the same batches give
the same history."""
import warnings

import keras
import numpy as np
import pytest

import fastembed
from fastembed.utils import PyDataset
from keras_twins import LENGTH, SAMPLES, VOCAB, twin_classifiers

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
BATCH = 32
STEPS = -(-SAMPLES // BATCH)  # 5: four full batches and one of 22


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, (SAMPLES, LENGTH)).astype("int32")
    y = (x[:, 0] < VOCAB // 2).astype("float32")[:, None]
    weights = rng.uniform(0.0, 3.0, SAMPLES).astype("float32")
    return x, y, weights


def weighted_batches(x, y, weights, epochs=1):
    for _ in range(epochs):
        for start in range(0, len(x), BATCH):
            end = start + BATCH
            yield x[start:end], y[start:end], weights[start:end]


def compiled_twins(metrics=("accuracy",)):
    km, fm = twin_classifiers(1, "sigmoid")
    for model in (km, fm):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=list(metrics),
                      weighted_metrics=["accuracy"])
    return km, fm


def assert_same_history(k_history, f_history, rtol=1e-4):
    assert sorted(f_history) == sorted(k_history)
    for key in k_history:
        np.testing.assert_allclose(f_history[key], k_history[key], rtol=rtol, atol=1e-6,
                                   err_msg=key)


def assert_same_weights(km, fm):
    for kw, fw in zip(km.get_weights(), fm.get_weights()):
        np.testing.assert_allclose(fw, kw, rtol=1e-4, atol=1e-5)


def test_sample_weights_in_generator_batches_match_keras():
    x, y, weights = data()
    km, fm = compiled_twins()
    want = km.fit(weighted_batches(x, y, weights, 3), steps_per_epoch=STEPS, epochs=3,
                  verbose=0).history
    got = fm.fit(weighted_batches(x, y, weights, 3), steps_per_epoch=STEPS, epochs=3,
                 verbose=0).history
    assert_same_history(want, got)
    assert_same_weights(km, fm)
    # the weights matter: unweighted batches train otherwise
    _, unweighted = compiled_twins()
    plain = unweighted.fit(((xb, yb) for xb, yb, _ in weighted_batches(x, y, weights, 3)),
                           steps_per_epoch=STEPS, epochs=3, verbose=0).history
    assert not np.allclose(plain["loss"], got["loss"], rtol=1e-3)


def _dataset(base):
    class WeightedBatches(base):
        def __init__(self, x, y, weights):
            super().__init__()
            self.x, self.y, self.weights = x, y, weights

        def __len__(self):
            return STEPS

        def __getitem__(self, index):
            part = slice(index * BATCH, (index + 1) * BATCH)
            return self.x[part], self.y[part], self.weights[part]
    return WeightedBatches


def test_sample_weights_in_pydataset_batches_match_keras_in_fit_and_evaluate():
    x, y, weights = data()
    km, fm = compiled_twins()
    kd, fd = _dataset(keras.utils.PyDataset)(x, y, weights), _dataset(PyDataset)(x, y, weights)
    want = km.fit(kd, epochs=2, shuffle=False, verbose=0, validation_data=kd).history
    got = fm.fit(fd, epochs=2, shuffle=False, verbose=0, validation_data=fd).history
    assert_same_history(want, got)
    np.testing.assert_allclose(fm.evaluate(fd, verbose=0), km.evaluate(kd, verbose=0),
                               rtol=1e-4)


def test_validation_steps_match_keras_for_arrays_and_generators():
    x, y, _ = data()
    xv, yv, _ = data(seed=1)
    yv[::2] = 1 - yv[::2]  # batches of different losses, so the count of batches shows
    km, fm = compiled_twins()
    kwargs = dict(batch_size=BATCH, epochs=3, shuffle=False, verbose=0, validation_steps=2)
    want = km.fit(x, y, validation_data=(xv, yv), **kwargs).history
    got = fm.fit(x, y, validation_data=(xv, yv), **kwargs).history
    assert_same_history(want, got)
    full = fm.evaluate(xv, yv, batch_size=BATCH, verbose=0, return_dict=True)["loss"]
    assert not np.isclose(got["val_loss"][-1], full, rtol=1e-3)

    # a generator's first validation_steps batches, every epoch ("the same
    # validation samples are used every time", Keras's documentation)
    km, fm = compiled_twins()
    want = km.fit(x, y, validation_data=weighted_batches(xv, yv, np.ones(SAMPLES), 2),
                  **kwargs).history
    got = fm.fit(x, y, validation_data=weighted_batches(xv, yv, np.ones(SAMPLES), 2),
                 **kwargs).history
    assert_same_history(want, got)


def test_a_generator_running_dry_warns_and_stops_as_keras():
    """12 batches for steps_per_epoch=5: epochs of 5, 5 and 2 batches, the
    warning, then no more training (Keras re-serves the two batches it read
    ahead in later epochs; fastembed stops at the end of the data)."""
    x, y, weights = data()
    batches = list(weighted_batches(x, y, weights, 3))[:12]
    km, fm = compiled_twins()
    with pytest.warns(UserWarning, match="ran out of data"):
        want = km.fit((b for b in batches), steps_per_epoch=STEPS, epochs=3, verbose=0).history
    with pytest.warns(UserWarning, match=r"ran out of data; interrupting training.*"
                                         r"`steps_per_epoch \* epochs`.*after 2 batches"):
        history = fm.fit((b for b in batches), steps_per_epoch=STEPS, epochs=10, verbose=0)
    assert history.epoch == [0, 1, 2]
    assert_same_history(want, history.history)
    assert_same_weights(km, fm)

    # run dry exactly at the end of an epoch: the next one has no batch
    km, fm = compiled_twins()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = km.fit((b for b in batches[:10]), steps_per_epoch=STEPS, epochs=2, verbose=0).history
    with pytest.warns(UserWarning, match="ran out after 0 batches"):
        history = fm.fit((b for b in batches[:10]), steps_per_epoch=STEPS, epochs=4, verbose=0)
    assert history.epoch == [0, 1]
    assert_same_history(want, history.history)


def test_bad_sample_weights_in_batches_are_clear_errors_before_training():
    x, y, weights = data()

    def first_batch_with(sample_weight):
        yield x[:BATCH], y[:BATCH], sample_weight

    cases = [(weights[:BATCH - 3], r"sample_weight of batch 0 of the data.*one entry per "
                                   r"sample \(32\), got shape \(29,\)"),
             (-weights[:BATCH], r"sample_weight of batch 0 of the data.*non-negative"),
             (np.array(["a"] * BATCH), r"sample_weight of batch 0 of the data.*numeric")]
    for bad, match in cases:
        _, fm = compiled_twins()
        before = fm.get_weights()
        with pytest.raises((ValueError, TypeError), match=match):
            fm.fit(first_batch_with(bad), verbose=0)
        for a, b in zip(before, fm.get_weights()):
            assert a.tobytes() == b.tobytes()

    def weights_then_none():
        yield x[:BATCH], y[:BATCH], weights[:BATCH]
        yield x[BATCH:2 * BATCH], y[BATCH:2 * BATCH]

    with pytest.raises(ValueError, match=r"Inconsistent batches: batch 1 of the data has "
                                         r"sample weights for outputs \[\], the first batch "
                                         r"for \['dense\w*'\]"):
        compiled_twins()[1].fit(weights_then_none(), verbose=0)


def test_predict_ignores_targets_and_sample_weights_in_batches_as_keras():
    x, y, weights = data()
    km, fm = compiled_twins()
    want = km.predict(weighted_batches(x, y, weights), verbose=0)
    got = fm.predict(weighted_batches(x, y, weights), verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _logged_dataset(base):
    class Logged(_dataset(base)):
        """Logs the batches fetched and the epoch hooks heard."""

        def __init__(self, *args):
            super().__init__(*args)
            self.log = []

        def __getitem__(self, index):
            self.log.append(index)
            return super().__getitem__(index)

        def on_epoch_begin(self):
            self.log.append("begin")

        def on_epoch_end(self):
            self.log.append("end")
    return Logged


@pytest.mark.parametrize("steps,epochs", [(2, 4), (3, 3), (7, 2)])
def test_pydataset_epochs_continue_as_in_keras(steps, epochs):
    """An epoch takes the next steps_per_epoch batches of the pass; a pass
    ending within an epoch ends it (Keras warns), then a new pass starts.
    Same batches, same hooks, same history."""
    x, y, weights = data()
    km, fm = compiled_twins()
    kd = _logged_dataset(keras.utils.PyDataset)(x, y, weights)
    fd = _logged_dataset(PyDataset)(x, y, weights)
    with warnings.catch_warnings(record=True) as k_warned:
        warnings.simplefilter("always")
        want = km.fit(kd, steps_per_epoch=steps, epochs=epochs, shuffle=False, verbose=0)
    with warnings.catch_warnings(record=True) as f_warned:
        warnings.simplefilter("always")
        got = fm.fit(fd, steps_per_epoch=steps, epochs=epochs, shuffle=False, verbose=0)
    # Keras reads batch 0 once more, in an epoch of its own, to build the model
    assert kd.log[:3] == ["begin", 0, "end"]
    assert fd.log == kd.log[3:]
    assert got.epoch == want.epoch
    assert_same_history(want.history, got.history)
    assert_same_weights(km, fm)
    k_ran_out = [w for w in k_warned if "Your input ran out of data" in str(w.message)]
    f_ran_out = [w for w in f_warned if "Your input ran out of data" in str(w.message)]
    assert len(f_ran_out) == len(k_ran_out)


@pytest.mark.parametrize("steps,epochs", [(7, 3), (2, 4), (3, 4)])
def test_arrays_with_steps_per_epoch_match_keras(steps, epochs):
    """Arrays make passes of 5 batches: more steps than that end each epoch
    after one pass with Keras's warning (no wrapping around); fewer continue
    the pass from epoch to epoch."""
    x, y, _ = data()
    km, fm = compiled_twins()
    kwargs = dict(batch_size=BATCH, steps_per_epoch=steps, epochs=epochs, shuffle=False,
                  verbose=0)
    with warnings.catch_warnings(record=True) as k_warned:
        warnings.simplefilter("always")
        want = km.fit(x, y, **kwargs)
    with warnings.catch_warnings(record=True) as f_warned:
        warnings.simplefilter("always")
        got = fm.fit(x, y, **kwargs)
    assert got.epoch == want.epoch
    assert_same_history(want.history, got.history)
    assert_same_weights(km, fm)
    k_ran_out = [w for w in k_warned if "Your input ran out of data" in str(w.message)]
    f_ran_out = [w for w in f_warned if "Your input ran out of data" in str(w.message)]
    assert len(f_ran_out) == len(k_ran_out)
    # Keras's words (but its advice on tf.data's .repeat())
    keras_words = str(k_ran_out[0].message).split(" You may need")[0] if k_ran_out else ""
    assert all(str(w.message).startswith(keras_words) for w in f_ran_out)
