"""fit / evaluate / predict on streamed data: generators, iterators,
fastembed.utils.PyDataset and objects with its protocol, iterables."""
import numpy as np
import pytest

from fastembed import Input, Model
from fastembed.layers import Concatenate, Dense, Embedding, Flatten
from fastembed.models import Sequential
from fastembed.utils import PyDataset, set_random_seed

VOCAB, LENGTH, SAMPLES, BATCH = 200, 6, 200, 32


def data(n=SAMPLES, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, size=(n, LENGTH))
    return x, (x[:, 0] < VOCAB // 2).astype(np.float32)


def model(sparse=False, optimizer="adam"):
    set_random_seed(3)
    m = Sequential([Input((LENGTH,), dtype="int32"), Embedding(VOCAB, 8, sparse=sparse),
                    Flatten(), Dense(1, activation="sigmoid")])
    m.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return m


def batches_of(x, y, epochs=1):
    for _ in range(epochs):
        for start in range(0, len(x), BATCH):
            yield x[start:start + BATCH], y[start:start + BATCH]


class Batches(PyDataset):
    def __init__(self, x, y, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.epochs_ended, self.fetched = x, y, 0, []

    def __len__(self):
        return -(-len(self.x) // BATCH)

    def __getitem__(self, index):
        self.fetched.append(index)
        return self.x[index * BATCH:(index + 1) * BATCH], self.y[index * BATCH:(index + 1) * BATCH]

    def on_epoch_end(self):
        self.epochs_ended += 1


class Protocol:
    """Not a PyDataset, but with its protocol."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return -(-len(self.x) // BATCH)

    def __getitem__(self, index):
        return self.x[index * BATCH:(index + 1) * BATCH], self.y[index * BATCH:(index + 1) * BATCH]


def assert_same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert wa.tobytes() == wb.tobytes()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("source", ["generator", "iterator", "pydataset", "pydataset-workers",
                                    "protocol", "list-of-batches"])
def test_streamed_fit_gives_the_array_fit_weights_bit_for_bit(source, sparse):
    x, y = data()
    reference = model(sparse)
    want = reference.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0).history
    streamed = model(sparse)
    steps = -(-SAMPLES // BATCH)
    if source == "generator":
        got = streamed.fit(batches_of(x, y, 3), steps_per_epoch=steps, epochs=3, verbose=0)
    elif source == "iterator":
        got = streamed.fit(iter(list(batches_of(x, y, 3))), steps_per_epoch=steps, epochs=3,
                           verbose=0)
    elif source.startswith("pydataset"):
        dataset = Batches(x, y, workers=3 if source.endswith("workers") else 1)
        got = streamed.fit(dataset, epochs=3, shuffle=False, verbose=0)
        assert dataset.epochs_ended == 3
    elif source == "protocol":
        got = streamed.fit(Protocol(x, y), epochs=3, shuffle=False, verbose=0)
    else:  # a re-iterable that is not indexable (as a torch DataLoader)
        got = streamed.fit(_Iterable(list(batches_of(x, y))), epochs=3, verbose=0)
    assert_same_weights(reference, streamed)
    assert got.history == want


class _Iterable:
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def test_a_generator_without_steps_trains_one_epoch_until_it_ends():
    x, y = data()
    reference, streamed = model(), model()
    reference.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    streamed.fit(batches_of(x, y), verbose=0)
    assert_same_weights(reference, streamed)


class Tensor:
    """What a DataLoader yields: no ndarray, but np.asarray takes it."""

    def __init__(self, array):
        self.array = array

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)


def test_batches_of_array_likes_are_taken_as_arrays():
    x, y = data()
    reference, streamed = model(), model()
    reference.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    streamed.fit(_Iterable([(Tensor(xb), Tensor(yb)) for xb, yb in batches_of(x, y)]), epochs=2,
                 verbose=0)
    assert_same_weights(reference, streamed)


def test_torch_dataloader_batches_are_taken_as_arrays():
    torch = pytest.importorskip("torch")  # a peer, in the bench extra
    x, y = data()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=BATCH, shuffle=False)
    reference, streamed = model(), model()
    reference.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    streamed.fit(loader, epochs=2, verbose=0)
    assert_same_weights(reference, streamed)


def test_shuffled_pydataset_visits_every_batch_once_per_epoch():
    x, y = data()
    dataset = Batches(x, y)
    model().fit(dataset, epochs=2, shuffle=True, verbose=0)
    n = len(dataset)
    # the first batch of epoch 1 is read once, ahead of the epoch, to build the model
    assert sorted(dataset.fetched[:n]) == list(range(n))
    assert sorted(dataset.fetched[n:]) == list(range(n))
    assert dataset.fetched[:n] != list(range(n)) or dataset.fetched[n:] != list(range(n))


def test_evaluate_and_predict_on_streams_match_arrays():
    x, y = data()
    m = model()
    m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    want_eval = m.evaluate(x, y, batch_size=BATCH, verbose=0)
    want_pred = m.predict(x, batch_size=BATCH, verbose=0)
    assert m.evaluate(batches_of(x, y), verbose=0) == want_eval
    assert m.evaluate(Batches(x, y), verbose=0) == want_eval
    assert m.evaluate(batches_of(x, y, 2), steps=3, verbose=0) == \
        m.evaluate(x[:3 * BATCH], y[:3 * BATCH], batch_size=BATCH, verbose=0)
    assert m.predict((xb for xb, _ in batches_of(x, y)), verbose=0).tobytes() == want_pred.tobytes()
    assert m.predict(Batches(x, y), verbose=0).tobytes() == want_pred.tobytes()
    assert m.predict(((xb,) for xb, _ in batches_of(x, y)), steps=2, verbose=0).tobytes() == \
        want_pred[:2 * BATCH].tobytes()


def test_multi_input_model_takes_dict_and_list_batches():
    x, y = data()
    set_random_seed(1)
    a, b = Input((LENGTH,), name="a", dtype="int32"), Input((LENGTH,), name="b", dtype="int32")
    shared = Embedding(VOCAB, 4)
    out = Dense(1, activation="sigmoid")(Concatenate()([Flatten()(shared(a)), Flatten()(shared(b))]))
    m = Model([a, b], out)
    m.compile("sgd", "binary_crossentropy")
    weights = m.get_weights()
    m.fit([x, x[:, ::-1]], y, batch_size=BATCH, shuffle=False, verbose=0)
    want = m.get_weights()
    m.set_weights(weights)
    m.fit(({"a": xb, "b": xb[:, ::-1]}, yb) for xb, yb in batches_of(x, y))
    for w, v in zip(m.get_weights(), want):
        assert w.tobytes() == v.tobytes()


def test_inconsistent_batch_shapes_are_a_clear_error():
    x, y = data()

    def ragged():
        yield x[:BATCH], y[:BATCH]
        yield x[BATCH:2 * BATCH, :LENGTH - 1], y[BATCH:2 * BATCH]

    with pytest.raises(ValueError, match=r"Inconsistent batches: x\['.*'\] of batch 1 .*\(5,\).*\(6,\)"):
        model().fit(ragged(), verbose=0)

    def mismatched():
        yield x[:BATCH], y[:BATCH - 1]

    m = model()
    weights = m.get_weights()
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        m.fit(mismatched(), verbose=0)
    assert_same_weights_list(weights, m.get_weights())


def assert_same_weights_list(a, b):
    for wa, wb in zip(a, b):
        assert wa.tobytes() == wb.tobytes()


def test_a_generator_ending_early_warns_and_ends_training():
    x, y = data()  # 7 batches
    m = model()
    with pytest.warns(UserWarning, match=r"ran out after 7 batches of this epoch"):
        history = m.fit(batches_of(x, y), steps_per_epoch=10, epochs=3, verbose=0)
    assert history.epoch == [0]
    reference = model()
    reference.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert_same_weights(reference, m)
    with pytest.warns(UserWarning, match=r"ran out after 0 batches of this epoch"):
        assert model().fit(batches_of(x, y), epochs=2, verbose=0).epoch == [0]
    with pytest.raises(ValueError, match="ran out before its first batch"):
        model().fit(iter([]), verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"y": np.zeros(3)}, "`y` should not be passed"),
    ({"batch_size": 8}, "`batch_size` must be None for streamed data"),
    ({"validation_split": 0.2}, "`validation_split` is only supported for arrays"),
    ({"steps_per_epoch": 0}, "`steps_per_epoch` must be None or a positive integer"),
])
def test_bad_arguments_with_streams_are_clear_errors(kwargs, match):
    x, y = data()
    m = model()
    weights = m.get_weights()
    with pytest.raises(ValueError, match=match):
        m.fit(batches_of(x, y), verbose=0, **kwargs)
    assert_same_weights_list(weights, m.get_weights())


def test_batches_without_targets_are_a_clear_error_in_fit():
    x, _ = data()
    with pytest.raises(ValueError, match="has no targets"):
        model().fit((xb,) for xb, in [(x[:BATCH],)])


def test_pydataset_rejects_bad_arguments():
    with pytest.raises(ValueError, match="use_multiprocessing"):
        PyDataset(use_multiprocessing=True)
    with pytest.raises(ValueError, match="workers"):
        PyDataset(workers=-1)
    with pytest.raises(NotImplementedError, match="__getitem__"):
        PyDataset()[0]


def test_streamed_validation_data_gives_the_array_validation_logs():
    x, y = data()
    xv, yv = data(64, seed=1)
    reference, streamed = model(), model()
    want = reference.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0,
                         validation_data=(xv, yv)).history
    got = streamed.fit(Batches(x, y), epochs=2, shuffle=False, verbose=0,
                       validation_data=Batches(xv, yv)).history
    assert got == want and "val_loss" in got


def test_epochs_of_a_pydataset_continue_where_the_last_stopped():
    """As Keras's EpochIterator, with steps_per_epoch below len: each epoch
    takes the next batches of the pass; the pass ending within an epoch ends
    that epoch (Keras's warning) and the next epoch starts a new pass."""
    x, y = data()  # 7 batches
    dataset = Batches(x, y)
    with pytest.warns(UserWarning, match=r"ran out after 1 batches of this epoch"):
        history = model().fit(dataset, steps_per_epoch=3, epochs=4, shuffle=False, verbose=0)
    assert dataset.fetched == [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
    assert history.epoch == [0, 1, 2, 3] and dataset.epochs_ended == 4
    # shuffled: one permutation per pass, not per epoch
    dataset = Batches(x, y)
    with pytest.warns(UserWarning, match="ran out of data"):
        model().fit(dataset, steps_per_epoch=3, epochs=4, shuffle=True, verbose=0)
    assert sorted(dataset.fetched[:7]) == list(range(7)) and len(set(dataset.fetched[7:])) == 3


def test_epochs_of_arrays_take_keras_passes_with_steps_per_epoch():
    """Arrays make passes of 7 batches: steps_per_epoch=10 trains one pass
    per epoch (Keras's warning each epoch), never wrapping around;
    steps_per_epoch=3 continues the pass from epoch to epoch."""
    x, y = data()
    reference = model()
    reference.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    m = model()
    with pytest.warns(UserWarning, match=r"ran out of data; interrupting training.*"
                                         r"`steps_per_epoch \* epochs`.*after 7 batches"):
        history = m.fit(x, y, batch_size=BATCH, steps_per_epoch=10, epochs=2, shuffle=False,
                        verbose=0)
    assert history.epoch == [0, 1]
    assert_same_weights(reference, m)
    m = model()
    with pytest.warns(UserWarning, match=r"ran out after 1 batches"):
        history = m.fit(x, y, batch_size=BATCH, steps_per_epoch=3, epochs=6, shuffle=False,
                        verbose=0)
    assert history.epoch == list(range(6))  # batches 0-2, 3-5, 6, 0-2, 3-5, 6
    assert_same_weights(reference, m)
    with pytest.warns(UserWarning, match=r"`steps \* epochs`.*after 7 batches"):
        got = m.evaluate(x, y, batch_size=BATCH, steps=9, verbose=0)
    assert got == m.evaluate(x, y, batch_size=BATCH, verbose=0)
