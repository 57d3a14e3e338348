"""Crash-safe writes: a process killed (SIGKILL) at any point of a save leaves
the previous file loadable and intact, or the new one complete; a later save
still works; a save that cannot be written fails clearly and leaves the old
file.

Kill points: a forked child counts the Python function calls and C calls
(file writes, fsync, rename, ...) of one save with sys.setprofile and
SIGKILLs itself at event k; k sweeps the whole save."""
import errno
import json
import gc
import os
import signal
import sys

import numpy as np
import pytest

import fastembed
from fastembed import callbacks, layers
from fastembed.models import load_model

MAX_KILL_POINTS = 100  # per writer; spread evenly over the save's events
LAST_EVENTS = 40


def _model():
    model = fastembed.Sequential([layers.Input((4,), dtype="int32"), layers.Embedding(50, 8),
                                  layers.LSTM(4), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.arange(8).reshape(2, 4), np.zeros(2), epochs=1, verbose=0)
    return model


def _set_generation(model, generation):
    for i, weight in enumerate(model.weights):
        weight.assign(np.full(weight.shape, generation * 100 + i, np.float32))


def _generation(model):
    found = {int(w.value.flat[0]) // 100 for w in model.weights}
    for i, weight in enumerate(model.weights):
        assert (weight.value == weight.value.flat[0]).all() and weight.value.flat[0] % 100 == i
    assert len(found) == 1, f"weights from several saves: {found}"
    return found.pop()


WRITERS = {
    "save": ("model.keras", lambda model, path: model.save(path),
             lambda path, model: _generation(load_model(path))),
    "save_weights": ("model.weights.h5", lambda model, path: model.save_weights(path),
                     lambda path, model: (model.load_weights(path), _generation(model))[1]),
    "ModelCheckpoint": ("checkpoint.keras", lambda model, path: _checkpoint(model, path),
                        lambda path, model: _generation(load_model(path))),
    "BackupAndRestore": (callbacks.BackupAndRestore.FILENAME,
                         lambda model, path: _backup(model, path),
                         lambda path, model: _restored_generation(path, model)),
}


def _checkpoint(model, path):
    checkpoint = callbacks.ModelCheckpoint(path, monitor="loss")
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"loss": 1.0})


def _backup(model, path):
    backup = callbacks.BackupAndRestore(os.path.dirname(path))
    backup.set_model(model)
    backup.on_epoch_end(0, {"loss": 1.0})


def _restored_generation(path, model):
    """The generation a fit resumed from the backup directory starts with;
    the resume also finds the epoch, and leaves no temporary file behind."""
    backup = callbacks.BackupAndRestore(os.path.dirname(path))
    backup.set_model(model)
    model._initial_epoch = 0
    backup.on_train_begin()
    assert model._initial_epoch == 1
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)]
    return _generation(model)


class _Killer:
    """A profile function that SIGKILLs the process at event `at` (None: count)."""

    def __init__(self, at=None):
        self.at, self.events = at, 0

    def __call__(self, frame, event, arg):
        self.events += 1
        if self.events == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def _save_in_child(write, model, path, at=None):
    """Fork; the child saves generation 1 with a kill at event `at`. Returns
    the child's wait status and, if it was not killed, its event count."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _set_generation(model, 1)
            # Finalizers of earlier tests' garbage would add profile events
            # at points that differ between children: collect, then keep gc off.
            gc.collect()
            gc.disable()
            killer = _Killer(at)
            sys.setprofile(killer)
            write(model, path)
            sys.setprofile(None)
            os.write(write_end, str(killer.events).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        events = pipe.read()
    return os.waitpid(pid, 0)[1], int(events) if events else None


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_sigkill_at_any_point_of_a_save(tmp_path, writer):
    name, write, read = WRITERS[writer]
    path = str(tmp_path / name)
    model = _model()
    _set_generation(model, 0)
    write(model, path)
    events = _save_in_child(write, model, path)[1]  # as many as each child below sees
    write(model, path)
    # Evenly spread, and every one of the last events (the rename and returns).
    points = sorted(set(np.linspace(1, events, min(events, MAX_KILL_POINTS)).astype(int))
                    | set(range(max(1, events - LAST_EVENTS), events + 1)))
    killed = verified = old = new = orphans = 0
    reader = _model()
    for at in points:
        status = _save_in_child(write, model, path, at)[0]
        killed += os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        orphans += len(os.listdir(tmp_path)) - 1
        generation = read(path, reader)
        verified += 1
        old += generation == 0
        new += generation == 1
        # The next save removes the killed one's temporary file, and puts
        # back the old file: every child starts from the same state.
        write(model, path)
        assert os.listdir(tmp_path) == [name]
    # A later save in the same place succeeds, and reads back.
    _set_generation(model, 2)
    write(model, path)
    assert read(path, reader) == 2
    print(f"\n{writer}: {events} events per save, {len(points)} kill points, {killed} killed, "
          f"{verified} files verified ({old} old, {new} new), {orphans} temporary files of killed saves, "
          "each removed by the next save")
    assert killed == len(points) and verified == len(points)
    assert old > 0 and new > 0  # the sweep covered both sides of the commit point


def _fail(code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fail


# Where the operating system refuses: a full disk at fsync, a read-only file
# system at the temporary file's creation or at the rename. (Tests run as
# root here, where chmod would not stop a write; the refusal is injected.)
FAILURES = {"disk full": (os, "fsync", errno.ENOSPC),
            "read-only create": (os, "open", errno.EROFS),
            "read-only rename": (os, "replace", errno.EROFS)}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch, writer, failure):
    name, write, read = WRITERS[writer]
    path = str(tmp_path / name)
    model = _model()
    _set_generation(model, 0)
    write(model, path)
    _set_generation(model, 1)
    module, function, code = FAILURES[failure]
    monkeypatch.setattr(module, function, _fail(code))
    with pytest.raises(OSError, match=os.strerror(code)) as raised:
        write(model, path)
    monkeypatch.undo()
    assert raised.value.errno == code
    assert read(path, _model()) == 0
    assert os.listdir(tmp_path) == [name]


def test_save_into_a_missing_directory_fails_clearly(tmp_path):
    model = _model()
    with pytest.raises(FileNotFoundError):
        model.save(str(tmp_path / "missing" / "model.keras"))
    assert os.listdir(tmp_path) == []


class _BackupKilledAt(callbacks.BackupAndRestore):
    """BackupAndRestore whose write after epoch `epoch` is killed at event
    `at` (None: counts that write's events)."""

    def __init__(self, backup_dir, epoch, at):
        super().__init__(backup_dir)
        self.kill_epoch, self.killer = epoch, _Killer(at)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.kill_epoch:
            sys.setprofile(self.killer)
        super().on_epoch_end(epoch, logs)
        sys.setprofile(None)


def _fit_in_child(model, x, y, fit, backup):
    """Fork; the child fits with `backup`. Returns its wait status and, if
    it was not killed, the event count of the write it would kill."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            model.fit(x, y, callbacks=[backup], **fit)
            os.write(write_end, str(backup.killer.events).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        events = pipe.read()
    return os.waitpid(pid, 0)[1], int(events) if events else None


def test_fit_killed_while_writing_its_backup_resumes_to_the_same_weights(tmp_path):
    """A fit SIGKILLed at any point of its second backup write, run again
    with a BackupAndRestore on the same directory, resumes after epoch 1 or
    2, ends with the weights of a fit never interrupted, and removes its
    backup directory (no temporary file of the killed write stays)."""
    x, y = np.arange(24).reshape(6, 4) % 50, np.linspace(0, 1, 6).astype(np.float32)
    fit = dict(epochs=3, batch_size=2, shuffle=False, verbose=0)
    model = _model()  # each child fits from its state (weights, optimizer's slots)
    initial = model.get_weights()
    backup_dir = str(tmp_path / "backup")
    events = _fit_in_child(model, x, y, fit, _BackupKilledAt(backup_dir, 1, None))[1]
    assert not os.path.exists(backup_dir)  # a whole fit deletes its backup
    points = sorted(set(np.linspace(1, events, min(events, 30)).astype(int))
                    | set(range(max(1, events - 10), events + 1)))
    resumed_after, finals = [], []
    for at in points:
        status = _fit_in_child(model, x, y, fit, _BackupKilledAt(backup_dir, 1, at))[0]
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        path = os.path.join(backup_dir, callbacks.BackupAndRestore.FILENAME)
        with np.load(path) as archive:
            resumed_after.append(json.loads(str(archive["metadata"]))["epoch"])
        resumed = _model()
        resumed.set_weights(initial)
        resumed.fit(x, y, callbacks=[callbacks.BackupAndRestore(backup_dir)], **fit)
        finals.append(resumed.get_weights())
        assert not os.path.exists(backup_dir)
    model.fit(x, y, **fit)  # uninterrupted, from the state every child started from
    for weights in finals:
        for got, want in zip(weights, model.get_weights()):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    print(f"\nBackupAndRestore in fit: {events} events per backup write, {len(points)} kill "
          f"points, resumed after epoch 1: {resumed_after.count(1)}, after epoch 2: "
          f"{resumed_after.count(2)}; each ended with the uninterrupted weights")
    assert set(resumed_after) == {1, 2}  # both sides of the rename
