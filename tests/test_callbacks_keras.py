"""ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN and
BackupAndRestore against real Keras 3 (jax): the same rates, rows and
resumed epochs from the same weights."""
import csv
import http.server
import importlib.util
import json
import threading
import urllib.parse
import warnings

import keras
import numpy as np
import pytest

from fastembed import callbacks, optimizers
from fastembed.layers import Dense, Embedding, Flatten
from fastembed.models import Sequential
from test_keras_equivalence import make_data, twin_models

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def fit_pair(k_callbacks, f_callbacks, epochs=6, optimizer=("SGD", {"learning_rate": 0.5}),
             **fit_kwargs):
    km, fm = twin_models()
    x, y = make_data("binary")
    name, kwargs = optimizer
    km.compile(getattr(keras.optimizers, name)(**kwargs), "binary_crossentropy", metrics=["accuracy"])
    fm.compile(getattr(optimizers, name)(**kwargs), "binary_crossentropy", metrics=["accuracy"])
    kh = km.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0,
                callbacks=k_callbacks, **fit_kwargs).history
    fh = fm.fit(x, y, epochs=epochs, batch_size=32, shuffle=False, verbose=0,
                callbacks=f_callbacks, **fit_kwargs).history
    return kh, fh


@pytest.mark.parametrize("kwargs", [
    {"monitor": "loss", "factor": 0.5, "patience": 1, "min_delta": 0.05},
    {"monitor": "loss", "factor": 0.2, "patience": 2, "min_delta": 0.3, "cooldown": 1,
     "min_lr": 0.05},
    {"monitor": "accuracy", "factor": 0.5, "patience": 1, "min_delta": 0.5, "mode": "max"},
])
def test_reduce_lr_on_plateau_sets_keras_rates(kwargs):
    kh, fh = fit_pair([keras.callbacks.ReduceLROnPlateau(**kwargs)],
                      [callbacks.ReduceLROnPlateau(**kwargs)])
    assert fh["learning_rate"] == kh["learning_rate"]
    assert len(set(kh["learning_rate"])) > 1, "no reduction: the comparison would be vacuous"
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-4)


@pytest.mark.parametrize("schedule", [
    lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
    lambda epoch: 0.5 / (1 + epoch),
])
def test_learning_rate_scheduler_sets_keras_rates(schedule):
    kh, fh = fit_pair([keras.callbacks.LearningRateScheduler(schedule)],
                      [callbacks.LearningRateScheduler(schedule)], epochs=4)
    assert fh["learning_rate"] == kh["learning_rate"]
    assert len(set(kh["learning_rate"])) > 1
    np.testing.assert_allclose(fh["loss"], kh["loss"], rtol=1e-4)


def test_learning_rate_scheduler_rejects_a_non_float_and_a_schedule_optimizer():
    x, y = make_data("binary")
    _, fm = twin_models()
    fm.compile(optimizers.SGD(0.1), "binary_crossentropy")
    with pytest.raises(ValueError, match="should be a float"):
        fm.fit(x, y, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e: "fast")])
    fm.compile(optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
               "binary_crossentropy")
    with pytest.raises(TypeError, match="not settable"):
        fm.fit(x, y, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e: 0.1)])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("validation", [False, True])
def test_csv_logger_writes_keras_rows(tmp_path, validation):
    x, y = make_data("binary", seed=3)
    extra = {"validation_data": (x[:100], y[:100])} if validation else {}
    fit_pair([keras.callbacks.CSVLogger(tmp_path / "k.csv")],
             [callbacks.CSVLogger(tmp_path / "f.csv")], epochs=3, **extra)
    k_rows, f_rows = read_csv(tmp_path / "k.csv"), read_csv(tmp_path / "f.csv")
    assert f_rows[0] == k_rows[0]  # header
    assert len(f_rows) == len(k_rows) == 4
    for k_row, f_row in zip(k_rows[1:], f_rows[1:]):
        assert f_row[0] == k_row[0]
        for k_value, f_value in zip(k_row[1:], f_row[1:]):
            if k_value == "NA":
                assert f_value == "NA"
            else:
                np.testing.assert_allclose(float(f_value), float(k_value), rtol=1e-4)


def test_csv_logger_appends_without_a_second_header(tmp_path):
    x, y = make_data("binary")
    _, fm = twin_models()
    fm.compile(optimizers.SGD(0.1), "binary_crossentropy")
    for _ in range(2):
        fm.fit(x, y, epochs=2, verbose=0,
               callbacks=[callbacks.CSVLogger(tmp_path / "log.csv", append=True, separator=";")])
    rows = read_csv(tmp_path / "log.csv")
    assert rows[0] == ["epoch;loss;val_loss"]
    assert [r[0].split(";")[0] for r in rows[1:]] == ["0", "1", "0", "1"]


def test_terminate_on_nan_stops_where_keras_stops():
    x, y = make_data("regression")
    histories = []
    for lib, model in zip(("keras", "fastembed"), twin_models(units=1, activation=None)):
        opt = (keras.optimizers if lib == "keras" else optimizers).SGD(learning_rate=1e4)
        model.compile(opt, "mse")
        cb = (keras.callbacks if lib == "keras" else callbacks).TerminateOnNaN()
        histories.append(model.fit(x, y, epochs=5, batch_size=32, shuffle=False, verbose=0,
                                   callbacks=[cb]).history)
    k_hist, f_hist = histories
    assert len(f_hist["loss"]) == len(k_hist["loss"]) == 1
    assert not np.isfinite(f_hist["loss"][0]) and not np.isfinite(k_hist["loss"][0])
    _, fm = twin_models(units=1, activation=None)
    fm.compile(optimizers.SGD(learning_rate=1e4), "mse")
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch"):
        fm.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


class Interrupt(Exception):
    pass


def interrupter(module, epoch, batch):
    def hook(b, logs=None):
        if hooked["epoch"] == epoch and b == batch:
            raise Interrupt()

    def begin(e, logs=None):
        hooked["epoch"] = e

    hooked = {}
    return module.callbacks.LambdaCallback(on_epoch_begin=begin, on_train_batch_end=hook) \
        if module is keras else module.LambdaCallback(on_epoch_begin=begin, on_train_batch_end=hook)


def small_model(optimizer):
    from fastembed.utils import set_random_seed
    set_random_seed(7)
    model = Sequential([Embedding(1000, 8, sparse=False), Flatten(), Dense(1, "sigmoid")])
    model.compile(optimizer, "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Adam(0.01),
    lambda: optimizers.Nadam(0.01, use_ema=True, ema_momentum=0.9),
    lambda: optimizers.AdamW(optimizers.schedules.CosineDecay(0.01, 40)),
])
def test_backup_and_restore_resumes_with_the_uninterrupted_weights(tmp_path, optimizer):
    x, y = make_data("binary")
    reference = small_model(optimizer())
    reference.fit(x, y, epochs=4, batch_size=64, verbose=0)  # shuffled: the RNG is restored too
    model = small_model(optimizer())
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(Interrupt):
        model.fit(x, y, epochs=4, batch_size=64, verbose=0,
                  callbacks=[backup, interrupter(callbacks, epoch=2, batch=3)])
    assert (tmp_path / "backup" / backup.FILENAME).exists()
    # a new process would rebuild the model: fresh weights and optimizer state
    model = small_model(optimizer())
    history = model.fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3]
    for a, b in zip(reference.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()
    assert not (tmp_path / "backup").exists()  # deleted after a completed fit


def test_backup_and_restore_resumes_at_the_epoch_keras_resumes_at(tmp_path):
    resumed = []
    for module, model in zip((keras, callbacks), twin_models()):
        model.compile("adam" if module is keras else optimizers.Adam(), "binary_crossentropy")
        x, y = make_data("binary")
        backup = module.callbacks.BackupAndRestore(tmp_path / module.__name__) \
            if module is keras else module.BackupAndRestore(tmp_path / "fastembed")
        with pytest.raises(Interrupt):
            model.fit(x, y, epochs=5, verbose=0,
                      callbacks=[backup, interrupter(module, epoch=3, batch=2)])
        resumed.append(model.fit(x, y, epochs=5, verbose=0, callbacks=[backup]).epoch)
    assert resumed[0] == resumed[1] == [3, 4]


def dropout_model():
    from fastembed.layers import Dropout
    from fastembed.utils import set_random_seed
    set_random_seed(11)
    model = Sequential([Embedding(1000, 8), Flatten(), Dropout(0.3), Dense(1, "sigmoid")])
    model.compile(optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("epoch,batch", [(2, 3), (3, 1)])
def test_backup_every_n_batches_resumes_mid_epoch_to_the_uninterrupted_weights(
        tmp_path, epoch, batch):
    """8 batches an epoch, a backup every 3 (counted across epochs, as
    Keras): interrupted in epoch 2 after batch 3 the backup is of batch 1
    (resumed there, the epoch's shuffle and the dropout draws continued);
    in epoch 3 after batch 1, of epoch 2's last batch (resumed at epoch 3)."""
    x, y = make_data("binary")
    from fastembed.utils import set_random_seed
    reference = dropout_model()
    reference.fit(x, y, epochs=5, batch_size=64, verbose=0)  # shuffled, with dropout
    model = dropout_model()
    backup = callbacks.BackupAndRestore(tmp_path / "backup", save_freq=3)
    with pytest.raises(Interrupt):
        model.fit(x, y, epochs=5, batch_size=64, verbose=0,
                  callbacks=[backup, interrupter(callbacks, epoch=epoch, batch=batch)])
    model = dropout_model()
    set_random_seed(99)  # a new process: another random state, restored from the backup
    history = model.fit(x, y, epochs=5, batch_size=64, verbose=0, callbacks=[backup])
    assert history.epoch == list(range(epoch, 5))  # the epoch Keras resumes at
    for a, b in zip(reference.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()
    assert model.optimizer.iterations == reference.optimizer.iterations == 40


def test_backup_every_n_batches_resumes_at_the_epoch_keras_resumes_at(tmp_path):
    resumed = []
    for module, model in zip((keras, callbacks), twin_models()):
        model.compile("adam" if module is keras else optimizers.Adam(), "binary_crossentropy")
        x, y = make_data("binary")
        make = module.callbacks.BackupAndRestore if module is keras else module.BackupAndRestore
        backup = make(tmp_path / module.__name__, save_freq=5)
        with pytest.raises(Interrupt):
            model.fit(x, y, epochs=5, verbose=0,
                      callbacks=[backup, interrupter(module, epoch=3, batch=7)])
        resumed.append(model.fit(x, y, epochs=5, verbose=0, callbacks=[backup]).epoch)
    assert resumed[0] == resumed[1] == [3, 4]


def test_backup_and_restore_rejects_what_it_does_not_support(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        callbacks.BackupAndRestore("")
    for bad in (0, "batch", 2.5, True):
        with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
            callbacks.BackupAndRestore(tmp_path, save_freq=bad)
    with pytest.raises(NotImplementedError, match="double_checkpoint"):
        callbacks.BackupAndRestore(tmp_path, double_checkpoint=True)


def test_progbar_logger_takes_over_the_display(capsys):
    x, y = make_data("binary")
    _, fm = twin_models()
    fm.compile(optimizers.SGD(0.1), "binary_crossentropy")
    fm.fit(x, y, epochs=2, verbose=2, callbacks=[callbacks.ProgbarLogger()])
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]
    assert len([line for line in lines if line.startswith("16/16 - ")]) == 2
    fm.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ProgbarLogger()])
    assert capsys.readouterr().out == ""


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's spelling
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(200 if self.path != "/missing" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.received = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_each_epochs_logs_as_keras_does(server):
    root = f"http://127.0.0.1:{server.server_port}"
    _, fm = twin_models()
    fm.compile(optimizers.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
    x, y = make_data("binary")
    history = fm.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0, callbacks=[
        callbacks.RemoteMonitor(root, headers={"X-Run": "7"}),
        callbacks.RemoteMonitor(root, path="/json", send_as_json=True)]).history
    assert len(server.received) == 6
    for epoch in range(3):
        expected = {"epoch": epoch, **{k: v[epoch] for k, v in history.items()}}
        (path, headers, form), (json_path, json_headers, body) = server.received[2 * epoch:
                                                                                 2 * epoch + 2]
        assert path == "/publish/epoch/end/" and headers["X-Run"] == "7"
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert json.loads(urllib.parse.parse_qs(form.decode())["data"][0]) == expected
        assert json_path == "/json" and json_headers["Content-Type"] == "application/json"
        assert json.loads(body) == expected
    if importlib.util.find_spec("requests"):  # Keras's needs it
        km, _ = twin_models()
        km.compile("sgd", "binary_crossentropy")
        km.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.RemoteMonitor(root)])
        theirs = urllib.parse.parse_qs(server.received[-1][2].decode())["data"][0]
        assert sorted(json.loads(theirs)) == ["epoch", "loss"]


def test_remote_monitor_warns_when_the_server_is_out_of_reach(server):
    model = Sequential([Embedding(10, 2), Flatten(), Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 3), np.int32), np.zeros(4, np.float32)
    root = f"http://127.0.0.1:{server.server_port}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, verbose=0, callbacks=[callbacks.RemoteMonitor(root, path="/missing")])
    assert server.received[-1][0] == "/missing"  # a 404 reached the server: no warning
    server.shutdown()
    server.server_close()
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at {root}"):
        model.fit(x, y, verbose=0, callbacks=[callbacks.RemoteMonitor(root)])
