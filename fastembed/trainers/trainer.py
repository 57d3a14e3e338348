"""compile / fit / evaluate / predict for a model with a graph: the
training step (forward with a tape, per-output losses, backward, one
optimizer update) and the loops around it."""
import sys

import numpy as np

from fastembed import _kernels
from fastembed import callbacks as callbacks_module
from fastembed import constraints as constraints_module
from fastembed import optimizers as optimizers_module
from fastembed import regularizers as regularizers_module
from fastembed.distribution import data_parallel
from fastembed.trainers import data_adapter, sample_weights as sample_weights_module
from fastembed.trainers.compile_utils import CompiledLoss, CompiledMetrics, RunningResults
from fastembed.utils.progbar import Progbar


def _reject_unknown(method, kwargs):
    if kwargs:
        raise TypeError(f"{method}() got unexpected keyword arguments: {sorted(kwargs)}")


class Trainer:
    """Mixed into Model: needs graph, input_names, _output_keys (the names
    of the outputs in y, compile and the logs), _packed_outputs(values),
    trainable_weights and _build_for_inputs(xs)."""

    def _init_trainer(self):
        self.optimizer = self.compiled_loss = self.compiled_metrics = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        # Steps of training and of inference, each on the thread team or the
        # calling thread alone, whichever has been faster (TeamChoice).
        self._train_team = _kernels.TeamChoice()
        self._predict_team = _kernels.TeamChoice()
        # (dtype, shape past the batch axis, rank) of the last input that
        # passed _inputs' checks (reset when the graph changes).
        self._checked_input = None

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True, **kwargs):
        _reject_unknown("compile", kwargs)
        # Everything is resolved before anything is replaced: a bad argument
        # leaves the previous compilation in place.
        resolved = (optimizers_module.get(optimizer),
                    CompiledLoss(loss, loss_weights, self._output_keys),
                    CompiledMetrics(metrics, self._output_keys),
                    CompiledMetrics(weighted_metrics, self._output_keys, "weighted_metrics"))
        (self.optimizer, self.compiled_loss, self.compiled_metrics,
         self.compiled_weighted_metrics) = resolved
        self.compiled = True

    @property
    def loss(self):
        """The compiled loss (a list of one per output when there are several)."""
        if self.compiled_loss is None:
            return None
        losses = self.compiled_loss.losses
        return losses[0] if len(losses) == 1 else losses

    def _require_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model ({method}).")

    # ---- data --------------------------------------------------------------
    def _inputs(self, x):
        """x as the list of the model's input arrays, checked. A numeric
        array of the dtype and shape (past the batch axis) of the last one
        that passed as is passes again unchecked: the checks read nothing else."""
        if type(x) is np.ndarray and (x.dtype, x.shape[1:], x.ndim) == self._checked_input:
            return [x]
        xs = self._build_for_inputs(data_adapter.as_list(x, self.input_names, "x",
                                                         allow_strings=True))
        if type(x) is np.ndarray and x.dtype.kind in "biuf" and len(xs) == 1 and xs[0] is x:
            self._checked_input = (x.dtype, x.shape[1:], x.ndim)
        return xs

    def _data(self, x, y, sample_weight=None, class_weight=None, training=False):
        """(inputs, targets, sample weights per output, number of samples).
        Training data must be finite (one NaN would turn every weight it
        reaches into NaN); evaluate, like Keras, gives a NaN loss instead."""
        xs = self._inputs(x)
        ys = data_adapter.as_list(y, self._output_keys, "y")
        if training:
            data_adapter.check_finite(xs, "x")
            data_adapter.check_finite(ys, "y")
        num_samples = data_adapter.check_cardinality(xs, ys)
        sample_weights = sample_weights_module.standardize(
            sample_weight, class_weight, ys, [t.shape for t in self.outputs], self._output_keys,
            num_samples)
        return xs, ys, sample_weights, num_samples

    def _stream(self, x, y, batch_size, steps, steps_argument, shuffle=False, targets=True):
        """StreamBatches of x (a generator, iterator, PyDataset ...), the model
        built from its first batch; with that batch's xs, ys and sample
        weights (one array or None per output)."""
        kind = type(x).__name__
        if y is not None:
            raise ValueError(f"When providing `x` as streamed data ({kind}), `y` should not be "
                             f"passed: the batches hold the targets")
        if batch_size is not None:
            raise ValueError(f"`batch_size` must be None for streamed data ({kind}), which "
                             f"gives its own batches; got batch_size={batch_size!r}")
        data = data_adapter.StreamBatches(x, self.input_names,
                                          self._output_keys if targets else [], steps,
                                          steps_argument, shuffle,
                                          self._batch_sample_weights if targets else None)
        xs, ys = data.first()
        self._build_for_inputs(xs)
        return data, xs, ys, data.first_sample_weights()

    def _batch_sample_weights(self, sample_weight, ys, argument):
        return sample_weights_module.standardize(
            sample_weight, None, ys, [t.shape for t in self.outputs], self._output_keys,
            len(ys[0]), argument)

    # ---- steps -------------------------------------------------------------
    def _prepare_training(self):
        self.graph.invalidate()
        self._trainable_variables = self.trainable_weights
        self._regularized = [v for v in self._trainable_variables if v.regularizer is not None]
        self._constrained = [v for v in self._trainable_variables if v.constraint is not None]

    def _results(self, ys):
        return RunningResults(self.compiled_loss, self.compiled_metrics,
                              self.compiled_weighted_metrics, ys, [t.shape for t in self.outputs])

    def _train_step(self, xs, ys, sample_weights, results):
        self._train_team.run(self._train_step_here, xs, ys, sample_weights, results)

    def _train_step_here(self, xs, ys, sample_weights, results):
        """One step: the loss (with the regularizers' penalties, as Keras
        reports it), backward, the update, then the weight constraints."""
        tape = self._train_tape
        y_preds, masks = self.graph.run(xs, training=True, tape=tape)
        loss, grads = results.train_gradients(ys, y_preds, masks, sample_weights,
                                              self.graph.output_calls(tape))
        self.graph.backward(tape, grads)
        if self._regularized:
            loss += regularizers_module.add_weight_penalties(self._regularized)
        results.add_loss(loss + self.graph.activity_loss(tape), len(y_preds[0]))
        data_parallel.reduce_gradients(self._trainable_variables, len(y_preds[0]))
        constrained = constraints_module.constrained_rows(self._constrained)
        self.optimizer.apply_gradients(self._trainable_variables)
        constraints_module.apply_constraints(constrained)

    @property
    def _predict_tape(self):
        """The calling thread's inference tape (threads calling predict at
        once must not share the contexts, which hold the batch's buffers)."""
        return self._predict_tapes.__dict__.setdefault("tape", [])

    def _predict_step(self, xs, training=False):
        """(outputs, masks) of a batch (in inference mode unless training)."""
        return self._predict_team.run(self.graph.run, xs, None, training, self._predict_tape)

    def _predict_outputs(self, xs):
        """The outputs of a batch in inference mode (the inference plan's
        buffers: the next batch overwrites them)."""
        return self._predict_team.run(self.graph.infer, xs)

    def _predict_batch(self, xs, training=False):
        """The outputs of one batch, copied out of the buffers: the short
        path of predict on one batch, predict_on_batch and model(x)."""
        y_preds = self._predict_step(xs, training)[0] if training else self._predict_outputs(xs)
        return [y_pred.copy() for y_pred in y_preds]

    # ---- loops -------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        self._require_compiled("fit")
        data_adapter.check_steps(validation_steps, "validation_steps")
        verbose = data_parallel.verbosity(1 if verbose == "auto" else int(verbose))
        callbacks = data_parallel.writer_callbacks(callbacks)
        if data_adapter.is_stream(x):
            if validation_split:
                raise ValueError("`validation_split` is only supported for arrays, not for "
                                 f"streamed data ({type(x).__name__})")
            if sample_weight is not None or class_weight is not None:
                raise ValueError(f"`sample_weight` and `class_weight` go with arrays; streamed "
                                 f"data ({type(x).__name__}) must yield them in its batches")
            data, xs, ys, sample_weights = self._stream(x, y, batch_size, steps_per_epoch,
                                                        "steps_per_epoch", shuffle)
        else:
            xs, ys, sample_weights, num_samples = self._data(x, y, sample_weight, class_weight,
                                                             training=True)
            batch_size = data_adapter.check_batch_size(batch_size)
            if validation_data is None and validation_split:
                # Keras holds out the last samples, their weights with them.
                split = int(num_samples * (1 - validation_split))
                xs, ys, (val_x, val_y) = data_adapter.split_validation(xs, ys, validation_split)
                val_weights = [None if w is None else w[split:] for w in sample_weights]
                validation_data = (val_x, val_y, None if all(w is None for w in val_weights)
                                   else dict(zip(self._output_keys, val_weights)))
                sample_weights = [None if w is None else w[:split] for w in sample_weights]
                num_samples = len(xs[0])
            if num_samples == 0:
                raise ValueError("fit needs at least one training sample")
            data = data_adapter.ArrayBatches(sample_weights_module.pack(xs, ys, sample_weights),
                                             num_samples, batch_size, steps_per_epoch, shuffle,
                                             "steps_per_epoch")
        data = data_parallel.shard(data, batch_size, getattr(data, "num_samples", None))
        if data_adapter.is_stream(validation_data):
            validation_data = data_adapter.validation_source(validation_data, validation_steps)
        elif validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, "
                                 "y_val, val_sample_weight), or streamed data")
            validation_data = tuple(validation_data) + (None,) * (3 - len(validation_data))
            # Checked now, so that bad validation data fails before any training.
            self._data(*validation_data)
        steps = data.steps
        self._prepare_training()
        data_parallel.broadcast_weights(self)

        history = callbacks_module.History()
        callback_list = callbacks_module.CallbackList(
            callbacks, history, model=self,
            params={"verbose": verbose, "epochs": epochs, "steps": steps})
        results = self._results(ys)
        self.stop_training = False
        training_logs = None
        # BackupAndRestore sets where a resumed fit starts: an epoch, batches into it
        self._initial_epoch, self._initial_step = None, 0
        callback_list.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch
        skipped = self._initial_step  # batches of the resumed epoch trained before
        shown = 0 if callback_list.shows_progress else verbose  # a ProgbarLogger shows it
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            results.reset()
            if shown:
                print(f"Epoch {epoch + 1}/{epochs}")
            progbar = Progbar(steps, verbose=shown)
            step = -1
            for step, batch in data.epoch():
                if skipped:
                    skipped -= 1
                    continue
                if callback_list.batch_hooks:
                    callback_list.on_train_batch_begin(step)
                self._train_step(*sample_weights_module.unpack(batch, len(xs), sample_weights),
                                 results)
                if callback_list.batch_hooks:
                    callback_list.on_train_batch_end(step, results.logs())
                if progbar.due():
                    progbar.update(step + 1, results.logs())
                if self.stop_training:
                    break
            data.on_epoch_end()
            if step < 0:  # a generator ran dry before this epoch (Keras warned)
                break
            data_parallel.merge_results(results)
            logs = results.logs()
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                if data_adapter.is_stream(validation_data):
                    val_logs = self.evaluate(validation_data, steps=validation_steps, verbose=0,
                                             return_dict=True)
                else:
                    val_x, val_y, val_sample_weight = validation_data
                    val_logs = self.evaluate(val_x, val_y, batch_size=validation_batch_size
                                             or batch_size, steps=validation_steps, verbose=0,
                                             sample_weight=val_sample_weight, return_dict=True)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            progbar.update(step + 1, logs, finalize=True)
            callback_list.on_epoch_end(epoch, logs)
            training_logs = logs
            if self.stop_training or data.exhausted:
                break
        self.optimizer.finalize_variable_values(self._trainable_variables)
        callback_list.on_train_end(training_logs)
        self.history = history
        return history

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        xs, ys, sample_weights, _ = self._data(x, y, sample_weight, class_weight,
                                               training=True)
        self._prepare_training()
        results = self._results(ys)
        self._train_step(xs, ys, sample_weights, results)
        return self._result(results.logs(), return_dict, results)

    def _result(self, logs, return_dict, results):
        """logs, or as Keras lists them (_flatten_metrics_in_order): the
        loss, the metrics named by their objects' names in compile order
        (which only single-output logs use), each output's loss, then the
        other entries in sorted order of their names."""
        if return_dict:
            return logs
        first = ["loss"] + results.metric_object_names() + [
            f"{name}_loss" for name in self.compiled_loss.report_order]
        values = [logs[k] for k in first if k in logs] + \
            [logs[k] for k in sorted(logs) if k not in first]
        return values[0] if len(values) == 1 else values

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        self._require_compiled("evaluate")
        if callbacks is not None:
            raise NotImplementedError("evaluate(callbacks=...) is not supported yet")
        if data_adapter.is_stream(x):
            if sample_weight is not None:
                raise ValueError(f"`sample_weight` goes with arrays; streamed data "
                                 f"({type(x).__name__}) must yield it in its batches")
            data, xs, ys, sample_weights = self._stream(x, y, batch_size, steps, "steps")
        else:
            xs, ys, sample_weights, num_samples = self._data(x, y, sample_weight)
            data = data_adapter.ArrayBatches(sample_weights_module.pack(xs, ys, sample_weights),
                                             num_samples,
                                             data_adapter.check_batch_size(batch_size), steps)
        data = data_parallel.shard(data, getattr(data, "batch_size", None),
                                   getattr(data, "num_samples", None))
        # Fresh trackers and metrics, so that evaluating mid-fit leaves fit's alone.
        results = self._results(ys)
        # Keras's loss includes the regularizers' penalties (whole tables here).
        weight_penalty = regularizers_module.weight_penalty(
            [v for v in self.trainable_weights if v.regularizer is not None])
        for _, batch in data.epoch():
            xb, yb, wb = sample_weights_module.unpack(batch, len(xs), sample_weights)
            y_preds, masks = self._predict_step(xb)
            results.update_state(yb, y_preds, masks, wb,
                                 weight_penalty + self.graph.activity_loss(self._predict_tape))
        data.on_epoch_end()
        data_parallel.merge_results(results)
        logs = results.logs()
        if data_parallel.is_writer() and (
                verbose not in (0, "auto") or verbose == "auto" and sys.stdout.isatty()):
            print("evaluate -" + "".join(f" {k}: {v:.4f}" for k, v in logs.items()))
        return self._result(logs, return_dict, results)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        if callbacks is not None:
            raise NotImplementedError("predict(callbacks=...) is not supported yet")
        if data_adapter.is_stream(x):
            data = self._stream(x, None, batch_size, steps, "steps", targets=False)[0]
        else:
            xs = self._inputs(x)
            num_samples = data_adapter.check_cardinality(xs)
            batch_size = data_adapter.check_batch_size(batch_size)
            if steps is None and 0 < num_samples <= batch_size:
                return self._single_batch_outputs(xs)
            data = data_adapter.ArrayBatches(xs, num_samples, batch_size, steps)
        outs = [[] for _ in self.outputs]
        for _, batch in data.epoch():
            for out, y_pred in zip(outs, self._predict_outputs(batch)):
                out.append(y_pred.copy())
        data.on_epoch_end()
        return self._packed_outputs([
            np.concatenate(out) if out else np.empty((0,) + tuple(t.shape[1:]), np.float32)
            for out, t in zip(outs, self.outputs)])

    def _single_batch_outputs(self, xs):
        return self._packed_outputs(self._predict_batch(xs))

    def predict_on_batch(self, x):
        xs = self._inputs(x)
        if data_adapter.check_cardinality(xs) == 0:
            return self.predict(xs)
        return self._single_batch_outputs(xs)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        xs = self._inputs(x)
        return self.evaluate(xs, y, batch_size=max(1, len(xs[0])), verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)
