"""Callbacks with Keras's hooks: History, EarlyStopping, ModelCheckpoint,
LambdaCallback, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
TerminateOnNaN, BackupAndRestore, RemoteMonitor, ProgbarLogger, TensorBoard."""
import csv
import json
import os
import warnings

import numpy as np

from fastembed.saving.files import remove_orphans, write_atomically
from fastembed.utils import random as random_module
from fastembed.utils.progbar import Progbar

_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")


class Callback:
    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass

    def uses_batch_hooks(self):
        """Whether a batch hook is overridden (the loop calls them only then)."""
        return any(getattr(type(self), hook) is not getattr(Callback, hook) for hook in _BATCH_HOOKS)


class History(Callback):
    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 on_batch_begin=None, on_batch_end=None):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin or on_batch_begin,
                 "on_train_batch_end": on_train_batch_end or on_batch_end}
        self._batch_hooks = False
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)
                self._batch_hooks |= name in _BATCH_HOOKS

    def uses_batch_hooks(self):
        return self._batch_hooks


class _MonitorMixin:
    def _init_monitor(self, monitor, mode, min_delta=0.0):
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"mode {mode!r} is unknown, falling back to 'auto'")
            mode = "auto"
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor = monitor
        self._sign = 1.0 if mode == "min" else -1.0
        self.min_delta = abs(min_delta)

    def _improved(self, current, best):
        return best is None or self._sign * (current - best) < -self.min_delta

    def _monitored(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__}: metric {self.monitor!r} is not available; "
                          f"available: {sorted(logs or {})}")
        return value


class EarlyStopping(Callback, _MonitorMixin):
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self._init_monitor(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights = 0, 0, None, None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # As Keras: until something is better, the current weights are the best.
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        # Keras restores the best weights at the end of training, stopped early or not.
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback, _MonitorMixin):
    """Saves the model (or its weights) at the end of each epoch; filepath may
    hold {epoch} and log names, e.g. 'model-{epoch:02d}-{val_loss:.2f}.keras'."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError(f"save_freq={save_freq!r}: only 'epoch' is supported")
        self._init_monitor(monitor, mode)
        self.filepath, self.verbose = str(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = self._monitored(logs)
            if current is None or not self._improved(current, self.best):
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)


def _logged_rate(optimizer):
    """The learning rate as Keras logs it: read back from a float32 variable."""
    return float(np.float32(optimizer.learning_rate))


class ReduceLROnPlateau(Callback, _MonitorMixin):
    """Multiplies the learning rate by `factor` (down to min_lr) when the
    monitored value has not improved by min_delta for `patience` epochs;
    logs the rate as "learning_rate"."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self._init_monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = _logged_rate(optimizer)
        current = self._monitored(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            old_lr = _logged_rate(optimizer)
            if self.wait >= self.patience and old_lr > np.float32(self.min_lr):
                new_lr = max(old_lr * self.factor, self.min_lr)
                optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                          f"{new_lr}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's start to schedule(epoch, lr)
    (or schedule(epoch), the older spelling); logs it as "learning_rate"."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        try:
            learning_rate = self.schedule(epoch, _logged_rate(optimizer))
        except TypeError:  # the one-argument spelling
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate!r}")
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _logged_rate(self.model.optimizer)


class CSVLogger(Callback):
    """One CSV row per epoch: "epoch" then the logs in sorted order of their
    names (with val_ columns even before validation runs), as Keras writes."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = self.writer = self.csv_file = None

    def on_train_begin(self, logs=None):
        header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                header = not f.readline()
        self._header = header
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys = self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, ["epoch"] + self.keys, dialect=dialect)
            if self._header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for key in self.keys:
            value = logs.get(key, "NA")
            if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) > 0:
                value = f'"[{", ".join(map(str, value))}]"'
            row[key] = value
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose running loss is NaN or
    infinite (or raises RuntimeError with raise_error=True)."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                                   f"{loss}. Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class BackupAndRestore(Callback):
    """Saves the weights, the optimizer's state, where training is (epoch
    and batch) and the random generator's state into backup_dir (one file,
    replaced atomically): after each epoch, or every save_freq batches. A
    fit that finds the backup resumes there: at the epoch it was in, as
    Keras 3, and there past the batches already trained (Keras re-trains
    them), so it ends with the weights of a run that was never interrupted.
    The backup is deleted when fit ends normally (delete_checkpoint)."""

    FILENAME = "latest.backup.npz"

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, (int, np.integer)) or save_freq < 1):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq!r}. Expected either 'epoch' or a positive "
                             f"integer value.")
        if double_checkpoint:
            raise NotImplementedError("BackupAndRestore(double_checkpoint=True) is not "
                                      "supported: the backup is replaced atomically")
        self.backup_dir, self.save_freq = os.fspath(backup_dir), save_freq
        self.double_checkpoint, self.delete_checkpoint = double_checkpoint, delete_checkpoint
        self.path = os.path.join(self.backup_dir, self.FILENAME)
        self._epoch, self._batches_since_save = 0, 0
        self._epoch_random_state = self._resumed_random_state = None

    def uses_batch_hooks(self):
        return self.save_freq != "epoch" or os.path.exists(self.path)

    def on_train_begin(self, logs=None):
        self._batches_since_save, self._resumed_random_state = 0, None
        if os.path.isdir(self.backup_dir):
            remove_orphans(self.path)  # of a run killed while writing its backup
        if not os.path.exists(self.path):
            return
        model = self.model
        with np.load(self.path, allow_pickle=False) as archive:
            metadata = json.loads(str(archive["metadata"]))
            weights = [archive[f"weight_{i:04d}"] for i in range(metadata["weights"])]
            state = [archive[f"optimizer_{i:04d}"] for i in range(metadata["optimizer"])]
        model.set_weights(weights)
        model.optimizer.load_variables_state(model.trainable_weights, state,
                                             metadata["iterations"])
        model._initial_epoch = metadata["epoch"]
        model._initial_step = metadata.get("batch", 0)  # absent in epoch-only backups
        generator = random_module.generator()
        if model._initial_step:
            # the epoch's shuffle again, then the state after its last batch trained
            generator.bit_generator.state = metadata["epoch_random_state"]
            self._resumed_random_state = metadata["random_state"]
        else:
            generator.bit_generator.state = metadata["random_state"]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_random_state = random_module.generator().bit_generator.state

    def on_train_batch_begin(self, batch, logs=None):
        if self._resumed_random_state is not None:  # the first batch after a resume
            random_module.generator().bit_generator.state = self._resumed_random_state
            self._resumed_random_state = None

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            if batch + 1 == self.params.get("steps"):  # the epoch's last: resume at the next
                self._save(self._epoch + 1, 0)
            else:
                self._save(self._epoch, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0)

    def _save(self, epoch, batch):
        """The backup of training at `batch` batches into `epoch`."""
        model = self.model
        weights = model.get_weights()
        state = model.optimizer.variables_state(model.trainable_weights)
        metadata = {"epoch": epoch, "batch": batch, "iterations": model.optimizer.iterations,
                    "weights": len(weights), "optimizer": len(state),
                    "random_state": random_module.generator().bit_generator.state,
                    "epoch_random_state": self._epoch_random_state}
        arrays = {f"weight_{i:04d}": w for i, w in enumerate(weights)}
        arrays.update({f"optimizer_{i:04d}": s for i, s in enumerate(state)})
        os.makedirs(self.backup_dir, exist_ok=True)
        write_atomically(self.path, lambda handle: np.savez(
            handle, metadata=np.array(json.dumps(metadata)), **arrays))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
            remove_orphans(self.path)
            if not os.listdir(self.backup_dir):
                os.rmdir(self.backup_dir)


class RemoteMonitor(Callback):
    """Posts each epoch's logs to a server as Keras does: to root + path, a
    form with `field` holding the JSON of {"epoch": epoch, **logs}, or that
    JSON as the body (send_as_json). A server out of reach is a warning.
    Through the standard library (Keras needs `requests`)."""

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json = headers, send_as_json

    def on_epoch_end(self, epoch, logs=None):
        import urllib.error
        import urllib.parse
        import urllib.request
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        if self.send_as_json:
            body, kind = json.dumps(send).encode(), "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            kind = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.root + self.path, data=body, method="POST",
                                         headers={"Content-Type": kind, **(self.headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except urllib.error.HTTPError:
            pass  # the server answered; Keras ignores the status too
        except OSError:  # URLError, refused, timed out
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)


class ProgbarLogger(Callback):
    """The progress display as a callback (fit's own display steps aside
    when one is given), at fit's verbosity."""

    def set_params(self, params):
        super().set_params(params)
        self.verbose, self.epochs = params.get("verbose", 1), params.get("epochs", 1)

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs}")
        self._progbar, self._seen = Progbar(self.params.get("steps"), verbose=self.verbose), 0

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._progbar.update(self._seen, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._progbar.update(self._seen, logs, finalize=True)


class CallbackList:
    """The callbacks of one fit (the user's, then History), each hook called
    on all of them in order; batch hooks only on those that override them.
    Hooks get their logs positionally, as Keras's CallbackList passes them
    (LambdaCallback functions are written as `lambda epoch, logs: ...`)."""

    def __init__(self, callbacks, history, model, params):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks) + [history]
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {callback!r}")
            callback.set_model(model)
            callback.set_params(params)
        self._batch_callbacks = [c for c in self.callbacks if c.uses_batch_hooks()]
        self.shows_progress = any(isinstance(c, ProgbarLogger) for c in self.callbacks)
        self.batch_hooks = bool(self._batch_callbacks)

    def on_train_begin(self):
        for callback in self.callbacks:
            callback.on_train_begin(None)

    def on_train_end(self, logs):
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, None)

    def on_epoch_end(self, epoch, logs):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, step):
        for callback in self._batch_callbacks:
            callback.on_train_batch_begin(step, None)

    def on_train_batch_end(self, step, logs):
        for callback in self._batch_callbacks:
            callback.on_train_batch_end(step, logs)

# Defined apart (it writes through tensorboardX, an extra); imported last as it builds on Callback.
from fastembed.tensorboard import TensorBoard  # noqa: E402,F401
