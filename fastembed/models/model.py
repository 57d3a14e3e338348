"""Model: a Layer made of layers, with Keras's training API (Trainer).

`Model(inputs, outputs)` builds a Functional model (fastembed.models.
functional); Sequential is a Functional model rebuilt on add / pop.
"""
import json

from fastembed import saving
from fastembed.distribution import data_parallel, sharding
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
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Keras 3's .keras file (config, weights and optimizer state), or
        the legacy HDF5 format for a .h5 / .hdf5 path, as Keras."""
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to save: {kwargs}")
        if zipped is False:
            raise NotImplementedError("zipped=False (an unzipped .keras directory) is not "
                                      "supported; fastembed writes the zipped file")
        with sharding.collected(self):  # process 0 writes the file
            if data_parallel.is_writer():
                saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Keras 3's .weights.h5 file (layer and optimizer variables)."""
        with sharding.collected(self):  # process 0 writes the file
            if data_parallel.is_writer():
                saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """The weights of a .weights.h5, .keras or legacy .h5 file from Keras
        or fastembed, all checked against the model before any is set."""
        saving.load_weights(self, filepath)

    def to_json(self, **kwargs):
        """The model's config as Keras's JSON (without weights)."""
        return json.dumps(saving.serialize_layer(self), **kwargs)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a .keras or legacy .h5 file written by Keras or fastembed.
    safe_mode=True (Keras's default) refuses layers that run code from the file."""
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                             safe_mode=safe_mode)


def model_from_json(json_string, custom_objects=None):
    """A model (fresh weights) from Model.to_json's or Keras's JSON config."""
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"model_from_json needs a JSON model config: {error}") from None
    if not isinstance(config, dict):
        raise ValueError(f"model_from_json needs a JSON object, got {type(config).__name__}")
    return saving.deserialize_model(config, custom_objects)
