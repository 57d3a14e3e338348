"""Model: a Layer made of layers, with Keras's training API (Trainer).

`Model(inputs, outputs)` builds a Functional model (fastembed.models.
functional); Sequential is a Functional model rebuilt on add / pop.
"""
import os

from fastembed import losses as losses_module
from fastembed import optimizers as optimizers_module
from fastembed import saving
from fastembed.engine.layer import Layer
from fastembed.trainers.trainer import Trainer
from fastembed.utils.summary import print_summary


def _distinct(variables):
    """variables without repeats (a shared layer's weights are listed once)."""
    seen = set()
    return [v for v in variables if not (id(v) in seen or seen.add(id(v)))]


class Model(Trainer, Layer):
    def __new__(cls, *args, **kwargs):
        if cls is Model:
            from fastembed.models.functional import Functional
            if not args and "inputs" not in kwargs:
                raise NotImplementedError(
                    "Subclassed models are not supported; build models with "
                    "Model(inputs, outputs) (the Functional API) or Sequential")
            return super().__new__(Functional)  # then Functional.__init__ runs
        return super().__new__(cls)

    def __init__(self, name=None, trainable=True):
        Layer.__init__(self, name=name, trainable=trainable)
        self._init_trainer()

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from fastembed.models.functional import Functional
        return Functional.from_config(config, custom_objects)

    # ---- structure ---------------------------------------------------------
    @Layer.trainable.setter
    def trainable(self, value):
        """As in Keras, setting a model's trainable sets its layers'."""
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def weights(self):
        return _distinct(w for layer in self.layers for w in layer.weights)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _distinct(w for layer in self.layers for w in layer.trainable_weights)

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def count_params(self):
        return int(sum(w.value.size for w in self.weights))

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        print_summary(self, print_fn or print)

    # ---- files -------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True):
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{filepath!r} exists and overwrite=False")
        saving.write_archive(filepath, saving.WEIGHTS_FORMAT,
                             {f"weight_{i:04d}": w.value for i, w in enumerate(self.weights)},
                             {"names": [w.name for w in self.weights]})

    def load_weights(self, filepath):
        arrays, _ = saving.read_archive(filepath, saving.WEIGHTS_FORMAT)
        self._assign_saved_weights(arrays, filepath)

    def _assign_saved_weights(self, arrays, filepath):
        variables = self.weights
        saved = [arrays[f"weight_{i:04d}"] for i in range(len(arrays))
                 if f"weight_{i:04d}" in arrays]
        if len(saved) != len(variables):
            raise ValueError(f"{filepath!r} holds {len(saved)} weights; the model has "
                             f"{len(variables)}")
        for variable, value in zip(variables, saved):
            if value.shape != variable.shape:
                raise ValueError(f"{filepath!r}: weight {variable.name!r} has shape "
                                 f"{value.shape} in the file, {variable.shape} in the model")
        for variable, value in zip(variables, saved):
            variable.assign(value)

    def save(self, filepath, overwrite=True, **kwargs):
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"{filepath!r} exists and overwrite=False")
        if not self.built:
            raise ValueError("Save needs a built model: call it on data, fit it or build() "
                             "it first")
        metadata = {"class_name": type(self).__name__, "config": self.get_config()}
        arrays = {f"weight_{i:04d}": w.value for i, w in enumerate(self.weights)}
        if self.compiled:
            metadata["compile"] = {
                "optimizer": optimizers_module.serialize(self.optimizer),
                "loss": self.compiled_loss.serialize(),
                "loss_weights": self.compiled_loss.weights,
                "metrics": self.compiled_metrics.serialize(),
                "weighted_metrics": self.compiled_weighted_metrics.serialize(),
                "iterations": self.optimizer.iterations}
            state = self.optimizer.variables_state(self.trainable_weights) \
                if self.optimizer.iterations else []
            arrays.update({f"optimizer_{i:04d}": s for i, s in enumerate(state)})
        saving.write_archive(filepath, saving.MODEL_FORMAT, arrays, metadata)


def load_model(filepath, custom_objects=None, compile=True):
    """A model from a file written by Model.save. A malformed file raises
    ValueError naming it (FileNotFoundError if there is none)."""
    arrays, metadata = saving.read_archive(filepath, saving.MODEL_FORMAT)
    try:
        return _model_from_archive(arrays, metadata or {}, filepath, custom_objects, compile)
    except ValueError as error:
        if os.fspath(filepath) in str(error):
            raise
        raise ValueError(f"{filepath!r}: {error}") from error
    except (TypeError, KeyError, IndexError, AttributeError, NotImplementedError,
            OverflowError, RecursionError) as error:
        raise ValueError(f"{filepath!r} holds an invalid model config "
                         f"({type(error).__name__}: {error})") from error


def _model_from_archive(arrays, metadata, filepath, custom_objects, compile):
    from fastembed.models.functional import Functional
    from fastembed.models.sequential import Sequential
    classes = {"Sequential": Sequential, "Functional": Functional}
    class_name = metadata.get("class_name", "Sequential")
    if class_name not in classes:
        raise ValueError(f"{filepath!r} holds an unknown model class {class_name!r}")
    model = classes[class_name].from_config(metadata["config"], custom_objects)
    model._assign_saved_weights({k: v for k, v in arrays.items() if k.startswith("weight_")},
                                filepath)
    compile_config = metadata.get("compile")
    if compile and compile_config:
        losses = compile_config["loss"]
        losses = [losses] if isinstance(losses, dict) else losses  # one loss: older files
        model.compile(optimizer=optimizers_module.get(compile_config["optimizer"]),
                      loss=[None if loss is None else losses_module.get(loss) for loss in losses],
                      loss_weights=compile_config.get("loss_weights"),
                      metrics=compile_config["metrics"],
                      weighted_metrics=compile_config.get("weighted_metrics"))
        state = [arrays[k] for k in sorted(arrays) if k.startswith("optimizer_")]
        if state:
            model.optimizer.load_variables_state(model.trainable_weights, state,
                                                 compile_config["iterations"])
    return model
