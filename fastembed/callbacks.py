"""Callbacks with Keras's hooks: History, EarlyStopping, ModelCheckpoint,
LambdaCallback, TerminateOnNaN."""
import math
import warnings

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


class TerminateOnNaN(Callback):
    """Stops training after the first batch whose loss is NaN or infinite
    (a loss that is no longer finite never becomes finite again: the
    weights it updated are not)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


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
