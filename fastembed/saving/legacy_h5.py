"""The legacy HDF5 format of Keras 2 / tf.keras (which Keras 3 still writes
with model.save("m.h5")): the config in the file's model_config attribute,
the compile settings in training_config, each layer's weights in
model_weights/<layer name> in the order its weight_names attribute gives,
and the optimizer's in optimizer_weights."""
import json

import numpy as np

from fastembed.saving.weights_h5 import matched, read_values


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _names(group, attribute):
    return [_text(name) for name in group.attrs.get(attribute, [])]


def read_config(h5file, attribute):
    if attribute not in h5file.attrs:
        return None
    return json.loads(_text(h5file.attrs[attribute]))


def weights_group(h5file):
    return h5file["model_weights"] if "model_weights" in h5file else h5file


def read_weights(group, model, source):
    """[(variable, array)] matching the layers with weights of the model to
    those of the file in order (Keras's legacy loader), every count and shape
    checked before anything is assigned."""
    if "layer_names" not in group.attrs:
        raise ValueError(f"{source} is an HDF5 file but not a Keras weights file (no "
                         f"layer_names)")
    saved = [(name, _names(group[name], "weight_names")) for name in _names(group, "layer_names")]
    saved = [(name, weight_names) for name, weight_names in saved if weight_names]
    layers = [layer for layer in model.layers if layer.weights]
    if len(saved) != len(layers):
        raise ValueError(f"{source} holds weights of {len(saved)} layers "
                         f"{[name for name, _ in saved]}; the model has {len(layers)} layers "
                         f"with weights {[layer.name for layer in layers]}")
    pairs = []
    for layer, (name, weight_names) in zip(layers, saved):
        pairs += matched(source, layer.name, layer.weights,
                         [group[name][weight_name] for weight_name in weight_names], name)
    return read_values(pairs)


def read_optimizer_state(h5file):
    if "optimizer_weights" not in h5file:
        return None
    group = h5file["optimizer_weights"]
    return [np.asarray(group[name][()]) for name in _names(group, "weight_names")]


def write_legacy(h5file, dataset, model, keras_version):
    """The legacy format, as Keras 3's model.save("m.h5") writes it;
    dataset(group, name, array) adds each array (fastembed.saving.h5_image)."""
    from fastembed.saving.serialization import compile_config, serialize_layer
    entry = serialize_layer(model)
    h5file.attrs["keras_version"] = keras_version
    h5file.attrs["backend"] = "jax"
    h5file.attrs["model_config"] = json.dumps({"class_name": entry["class_name"],
                                               "config": entry["config"]})
    group = h5file.create_group("model_weights")
    group.attrs["layer_names"] = [layer.name for layer in model.layers
                                  if type(layer).__name__ != "InputLayer"]
    group.attrs["keras_version"] = keras_version
    group.attrs["backend"] = "jax"
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        layer_group = group.create_group(layer.name)
        layer_group.attrs["weight_names"] = [v.name for v in layer.weights]
        for variable in layer.weights:
            dataset(layer_group, variable.name, variable.value)
    group.create_group("top_level_model_weights").attrs["weight_names"] = []
    if model.compiled:
        training = compile_config(model)
        training["optimizer_config"] = training.pop("optimizer")
        h5file.attrs["training_config"] = json.dumps(training)
        optimizer = model.optimizer
        arrays = optimizer.keras_variables(model.trainable_weights)
        names = [f"{optimizer.name}/{i}" for i in range(len(arrays))]
        optimizer_group = h5file.create_group("optimizer_weights")
        optimizer_group.attrs["weight_names"] = names
        for name, value in zip(names, arrays):
            dataset(optimizer_group, name, value)
