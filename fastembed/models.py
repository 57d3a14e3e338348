"""Sequential: a linear stack of layers with Keras's training API."""
import math
import os
import sys
import time

import numpy as np

from fastembed import _kernels
from fastembed import callbacks as callbacks_module
from fastembed import losses as losses_module
from fastembed import metrics as metrics_module
from fastembed import optimizers as optimizers_module
from fastembed import saving
from fastembed.layers.input_layer import InputLayer
from fastembed.layers.layer import Layer, _unique_name
from fastembed.utils.progbar import Progbar
from fastembed.utils.random import generator

DEFAULT_BATCH_SIZE = 32


def _as_array(data, argument):
    if data is None:
        raise ValueError(f"`{argument}` must be given")
    try:
        array = np.asarray(data)
    except ValueError:  # numpy >= 1.24 refuses ragged nested lists
        array = None
    if array is None or array.dtype == object:
        raise TypeError(f"`{argument}` must be a numeric array, got ragged or object data "
                        f"(pad sequences first with fastembed.utils.pad_sequences)")
    if array.ndim == 0:
        raise ValueError(f"`{argument}` must have a batch dimension, got a scalar")
    return array


def _check_cardinality(x, y):
    if y is not None and len(x) != len(y):
        raise ValueError(f"Data cardinality is ambiguous: x sizes: {len(x)}, y sizes: {len(y)}. "
                         "Make sure all arrays contain the same number of samples.")


def _check_batch_size(batch_size):
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _on_faster_team(team, work, *args):
    """work(*args) with the calling thread's team set by the TeamChoice team."""
    alone = team.enter()
    start = time.perf_counter_ns()
    try:
        return work(*args)
    finally:
        team.leave(alone, time.perf_counter_ns() - start)


class Sequential:
    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name or _unique_name("sequential")
        self.trainable = trainable
        self._layers = []
        self._input_shape = None
        self.built = False
        self.optimizer = self.loss = None
        self.compiled = False
        self._metric_specs = []
        self._metrics = None
        self.stop_training = False
        self.history = None
        # Steps of training and of inference, each on the thread team or the
        # calling thread alone, whichever has been faster (TeamChoice).
        self._train_team = _kernels.TeamChoice()
        self._predict_team = _kernels.TeamChoice()
        for layer in layers or []:
            self.add(layer)

    # ---- structure ---------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("An Input must be the first entry of a Sequential model")
            self._input_shape = layer.batch_input_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of fastembed.layers.Layer can be added to a "
                            f"Sequential model. Received: {layer!r} (of type {type(layer).__name__})")
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name {layer.name!r} is already the name of a layer in this model.")
        self._layers.append(layer)
        if len(self._layers) == 1 and self._input_shape is None and layer.batch_input_shape:
            self._input_shape = layer.batch_input_shape
        if self.built:
            layer.build_for(self._layers[-2].output_shape if len(self._layers) > 1
                            else self._input_shape)
        elif self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        return self._layers.pop()

    def build(self, input_shape=None):
        input_shape = tuple(input_shape or self._input_shape or ())
        if not input_shape:
            raise ValueError("Sequential.build needs an input shape (or call the model on data)")
        self._input_shape = input_shape
        shape = input_shape
        for layer in self._layers:
            try:
                shape = layer.build_for(shape)
            except ValueError as error:
                raise ValueError(f"Layer {layer.name!r} cannot take input of shape {shape}: {error}") from None
        self.built = True

    def _build_for_data(self, x):
        shape = (None,) + x.shape[1:]
        if not self.built:
            self.build(self._input_shape or shape)
        expected = self._input_shape
        if len(expected) != len(shape) or any(e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected shape={expected}, found shape={(len(x),) + x.shape[1:]}")

    @property
    def input_shape(self):
        return self._input_shape

    @property
    def output_shape(self):
        return self._layers[-1].output_shape if self.built and self._layers else None

    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        variables = self.weights
        if len(weights) != len(variables):
            raise ValueError(f"set_weights expects a list of {len(variables)} arrays, got "
                             f"{len(weights)}")
        for variable, value in zip(variables, weights):
            variable.assign(value)

    def count_params(self):
        return sum(layer.count_params() for layer in self._layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: "
                         f"{[layer.name for layer in self._layers]}.")

    # ---- computation -------------------------------------------------------
    def _forward(self, x, training):
        """(output, the mask that reaches the output or None)."""
        mask = None
        for layer in self._layers:
            output = layer.call(x, training=training, mask=mask if layer.supports_masking else None)
            mask = layer.compute_mask(x, mask)
            x = output
        return x, mask

    def _backward(self, grad):
        trainable_before = self._trainable_before
        for i in range(len(self._layers) - 1, -1, -1):
            grad = self._layers[i].backward(grad, input_grad=trainable_before[i])
            if not trainable_before[i]:
                return

    def __call__(self, x, training=False):
        x = _as_array(x, "x")
        self._build_for_data(x)
        return self._forward(x, training)[0]

    # ---- training ----------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to compile: {kwargs}")
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='binary_crossentropy'")
        if loss_weights is not None or weighted_metrics is not None:
            raise NotImplementedError("loss_weights and weighted_metrics are not supported")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        specs = [] if metrics is None else list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
        for spec in specs:  # fail now on unknown names, resolve 'accuracy' on first data
            metrics_module.get(spec, (1, 2), (1, 2))
        self._metric_specs = specs
        self._metrics = None
        self.compiled = True

    def _require_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model ({method}).")

    def _metric_objects(self, y, y_pred_shape):
        if self._metrics is None:
            self._metrics = [metrics_module.get(spec, y.shape, y_pred_shape)
                             for spec in self._metric_specs]
        return self._metrics

    def _train_step(self, x, y, loss_tracker, metric_objects):
        _on_faster_team(self._train_team, self._train_step_here, x, y, loss_tracker,
                        metric_objects)

    def _predict_step(self, x):
        """(output, mask) of a batch in inference mode."""
        return _on_faster_team(self._predict_team, self._forward, x, False)

    def _train_step_here(self, x, y, loss_tracker, metric_objects):
        y_pred, mask = self._forward(x, training=True)
        loss_value, grad = self.loss.value_and_gradient(y, y_pred, mask)
        loss_tracker.update_state(loss_value, len(x))
        for metric in metric_objects:
            metric.update_state(y, y_pred, mask)
        self._backward(np.asarray(grad, dtype=np.float32))
        self.optimizer.apply_gradients(self._trainable_variables)

    def _prepare_training(self, x):
        self._build_for_data(x)
        self._trainable_variables = self.trainable_weights
        has_trainable = [bool(layer.trainable_weights) and self.trainable for layer in self._layers]
        self._trainable_before = [any(has_trainable[:i]) for i in range(len(self._layers))]

    def _logs(self, loss_tracker, metric_objects, prefix=""):
        logs = {prefix + m.name: m.result() for m in metric_objects}
        logs[prefix + "loss"] = loss_tracker.result()
        return logs

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        self._require_compiled("fit")
        if class_weight is not None or sample_weight is not None:
            raise NotImplementedError("class_weight and sample_weight are not supported yet")
        x, y = _as_array(x, "x"), _as_array(y, "y")
        _check_cardinality(x, y)
        batch_size = _check_batch_size(batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        if validation_data is None and validation_split:
            split = int(len(x) * (1 - validation_split))
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        if len(x) == 0:
            raise ValueError("fit needs at least one training sample")
        steps = steps_per_epoch or math.ceil(len(x) / batch_size)
        self._prepare_training(x)

        history = callbacks_module.History()
        callback_list = callbacks_module.as_list(callbacks) + [history]
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        for callback in callback_list:
            callback.set_model(self)
            callback.set_params(params)
        batch_callbacks = [c for c in callback_list if c.uses_batch_hooks()]
        loss_tracker = metrics_module.Mean("loss")
        self.stop_training = False
        # Hooks get their logs positionally, as Keras's CallbackList passes them
        # (LambdaCallback functions are written as `lambda epoch, logs: ...`).
        training_logs = None
        for callback in callback_list:
            callback.on_train_begin(None)
        for epoch in range(initial_epoch, epochs):
            for callback in callback_list:
                callback.on_epoch_begin(epoch, None)
            order = generator().permutation(len(x)) if shuffle else None
            loss_tracker.reset_state()
            metric_objects = self._metric_objects(y, self._layers[-1].output_shape)
            for metric in metric_objects:
                metric.reset_state()
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            progbar = Progbar(steps, verbose=verbose)
            for step in range(steps):
                start = (step * batch_size) % len(x)
                if order is None:
                    xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                else:
                    batch = order[start:start + batch_size]
                    xb, yb = x[batch], y[batch]
                for callback in batch_callbacks:
                    callback.on_train_batch_begin(step, None)
                self._train_step(xb, yb, loss_tracker, metric_objects)
                if batch_callbacks:
                    logs = self._logs(loss_tracker, metric_objects)
                    for callback in batch_callbacks:
                        callback.on_train_batch_end(step, logs)
                if progbar.due():
                    progbar.update(step + 1, self._logs(loss_tracker, metric_objects))
                if self.stop_training:
                    break
            logs = self._logs(loss_tracker, metric_objects)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val_x, val_y = validation_data[0], validation_data[1]
                logs.update({"val_" + k: v for k, v in self.evaluate(
                    val_x, val_y, batch_size=validation_batch_size or batch_size, verbose=0,
                    return_dict=True).items()})
            progbar.update(steps, logs, finalize=True)
            for callback in callback_list:
                callback.on_epoch_end(epoch, logs)
            training_logs = logs
            if self.stop_training:
                break
        for callback in callback_list:
            callback.on_train_end(training_logs)
        self.history = history
        return history

    def train_on_batch(self, x, y, return_dict=False):
        self._require_compiled("train_on_batch")
        x, y = _as_array(x, "x"), _as_array(y, "y")
        _check_cardinality(x, y)
        self._prepare_training(x)
        loss_tracker = metrics_module.Mean("loss")
        metric_objects = self._metric_objects(y, self._layers[-1].output_shape)
        for metric in metric_objects:
            metric.reset_state()
        self._train_step(x, y, loss_tracker, metric_objects)
        return self._result(self._logs(loss_tracker, metric_objects), return_dict)

    @staticmethod
    def _result(logs, return_dict):
        if return_dict:
            return logs
        values = [logs["loss"]] + [v for k, v in logs.items() if k != "loss"]
        return values[0] if len(values) == 1 else values

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False, **kwargs):
        self._require_compiled("evaluate")
        x, y = _as_array(x, "x"), _as_array(y, "y")
        _check_cardinality(x, y)
        batch_size = _check_batch_size(batch_size)
        self._build_for_data(x)
        loss_tracker = metrics_module.Mean("loss")
        # Fresh metric objects, so that evaluating mid-fit leaves fit's running values alone.
        metric_objects = [metrics_module.get(spec, y.shape, self._layers[-1].output_shape)
                          for spec in self._metric_specs]
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            y_pred, mask = self._predict_step(xb)
            loss_tracker.update_state(self.loss.value(yb, y_pred, mask), len(xb))
            for metric in metric_objects:
                metric.update_state(yb, y_pred, mask)
        logs = self._logs(loss_tracker, metric_objects)
        if verbose not in (0, "auto") or verbose == "auto" and sys.stdout.isatty():
            print("evaluate -" + "".join(f" {k}: {v:.4f}" for k, v in logs.items()))
        return self._result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        x = _as_array(x, "x")
        batch_size = _check_batch_size(batch_size)
        self._build_for_data(x)
        out = None
        for start in range(0, len(x), batch_size):
            y_pred = self._predict_step(x[start:start + batch_size])[0]
            if out is None:
                out = np.empty((len(x),) + y_pred.shape[1:], dtype=np.float32)
            out[start:start + len(y_pred)] = y_pred
        if out is None:
            out = np.empty((0,) + tuple(self._layers[-1].output_shape[1:]), np.float32)
        return out

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, len(x)))

    def test_on_batch(self, x, y, return_dict=False):
        return self.evaluate(x, y, batch_size=max(1, len(x)), verbose=0, return_dict=return_dict)

    # ---- description -------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        print_fn = print_fn or print
        names = [f"{layer.name} ({type(layer).__name__})" for layer in self._layers]
        widths = (max([33] + [len(n) + 2 for n in names]), 24, 15)

        def row(cells, left, middle, right):
            return left + middle.join(f" {c:<{w - 2}} " if i < 2 else f" {c:>{w - 2}} "
                                      for i, (c, w) in enumerate(zip(cells, widths))) + right

        def rule(left, middle, right, fill):
            return left + middle.join(fill * w for w in widths) + right

        lines = [f'Model: "{self.name}"', rule("┏", "┳", "┓", "━"),
                 row(("Layer (type)", "Output Shape", "Param #"), "┃", "┃", "┃"),
                 rule("┡", "╇", "┩", "━")]
        for i, layer in enumerate(self._layers):
            shape = str(layer.output_shape) if layer.output_shape else "?"
            params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
            lines.append(row((names[i], shape, params), "│", "│", "│"))
            if i + 1 < len(self._layers):
                lines.append(rule("├", "┼", "┤", "─"))
        lines.append(rule("└", "┴", "┘", "─"))

        def amount(count):
            size = count * 4.0
            for unit in ("B", "KB", "MB", "GB"):
                if size < 1024 or unit == "GB":
                    return f"{count:,} ({size:.2f} {unit})"
                size /= 1024

        trainable = sum(w.value.size for w in self.trainable_weights)
        weights = sum(w.value.size for w in self.weights)
        # As Keras (jax backend), once the optimizer is built: its variables are
        # its slots, the iteration counter and the learning rate (unless a
        # schedule), 4 bytes each, and they count in the total.
        optimizer_count = 0
        optimizer_built = self.optimizer is not None and bool(self.optimizer._slots)
        if optimizer_built:
            slots = sum(s.size for slots in self.optimizer._slots.values() for s in slots)
            optimizer_count = slots + 1 + int(not callable(self.optimizer.learning_rate))
        lines += [f" Total params: {amount(weights + optimizer_count)}",
                  f" Trainable params: {amount(trainable)}",
                  f" Non-trainable params: {amount(weights - trainable)}"]
        if optimizer_built:
            lines.append(f" Optimizer params: {amount(optimizer_count)}")
        for line in lines:
            print_fn(line)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "input_shape": list(self._input_shape) if self._input_shape else None,
                "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                           for layer in self._layers]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from fastembed import layers as layers_module
        model = cls(name=config["name"], trainable=config.get("trainable", True))
        if config.get("input_shape"):
            model._input_shape = tuple(config["input_shape"])
        for entry in config["layers"]:
            name = entry["class_name"]
            layer_class = (custom_objects or {}).get(name) or getattr(layers_module, name, None)
            if not (isinstance(layer_class, type) and issubclass(layer_class, Layer)):
                raise ValueError(f"Unknown layer class {name!r}; pass it in custom_objects")
            model._layers.append(layer_class.from_config(dict(entry["config"])))
        if model._input_shape:
            model.build(model._input_shape)
        return model

    # ---- files -------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True):
        if not overwrite and _exists(filepath):
            raise FileExistsError(f"{filepath!r} exists and overwrite=False")
        saving.write_archive(filepath, saving.WEIGHTS_FORMAT,
                             {f"weight_{i:04d}": w.value for i, w in enumerate(self.weights)},
                             {"names": [w.name for w in self.weights]})

    def load_weights(self, filepath):
        arrays, _ = saving.read_archive(filepath, saving.WEIGHTS_FORMAT)
        self._assign_saved_weights(arrays, filepath)

    def _assign_saved_weights(self, arrays, filepath):
        variables = self.weights
        saved = [arrays[f"weight_{i:04d}"] for i in range(len(arrays)) if f"weight_{i:04d}" in arrays]
        if len(saved) != len(variables):
            raise ValueError(f"{filepath!r} holds {len(saved)} weights; the model has {len(variables)}")
        for variable, value in zip(variables, saved):
            if value.shape != variable.shape:
                raise ValueError(f"{filepath!r}: weight {variable.name!r} has shape {value.shape} "
                                 f"in the file, {variable.shape} in the model")
        for variable, value in zip(variables, saved):
            variable.assign(value)

    def save(self, filepath, overwrite=True, **kwargs):
        if not overwrite and _exists(filepath):
            raise FileExistsError(f"{filepath!r} exists and overwrite=False")
        if not self.built:
            raise ValueError("Save needs a built model: call it on data, fit it or build() it first")
        metadata = {"config": self.get_config()}
        arrays = {f"weight_{i:04d}": w.value for i, w in enumerate(self.weights)}
        if self.compiled:
            metadata["compile"] = {"optimizer": optimizers_module.serialize(self.optimizer),
                                   "loss": losses_module.serialize(self.loss),
                                   "metrics": [m if isinstance(m, str) else m.name
                                               for m in self._metric_specs],
                                   "iterations": self.optimizer.iterations}
            state = self.optimizer.variables_state(self.trainable_weights) \
                if self.optimizer.iterations else []
            arrays.update({f"optimizer_{i:04d}": s for i, s in enumerate(state)})
        saving.write_archive(filepath, saving.MODEL_FORMAT, arrays, metadata)


def _exists(filepath):
    return os.path.exists(filepath)


def load_model(filepath, custom_objects=None, compile=True):
    """A Sequential model from a file written by Sequential.save."""
    arrays, metadata = saving.read_archive(filepath, saving.MODEL_FORMAT)
    model = Sequential.from_config(metadata["config"], custom_objects)
    model._assign_saved_weights({k: v for k, v in arrays.items() if k.startswith("weight_")}, filepath)
    compile_config = metadata.get("compile")
    if compile and compile_config:
        model.compile(optimizer=optimizers_module.get(compile_config["optimizer"]),
                      loss=losses_module.get(compile_config["loss"]),
                      metrics=compile_config["metrics"])
        state = [arrays[k] for k in sorted(arrays) if k.startswith("optimizer_")]
        if state:
            model.optimizer.load_variables_state(model.trainable_weights, state,
                                                 compile_config["iterations"])
    return model


