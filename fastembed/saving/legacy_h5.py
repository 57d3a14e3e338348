"""The legacy HDF5 format of Keras 2 / tf.keras (which Keras 3 still writes
with model.save("m.h5")): the config in the file's model_config attribute,
the compile settings in training_config, each layer's weights in
model_weights/<layer name> in the order its weight_names attribute gives,
and the optimizer's in optimizer_weights."""
import json

import numpy as np


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
        if len(weight_names) != len(layer.weights):
            raise ValueError(f"{source}: layer {layer.name!r} has {len(layer.weights)} weights, "
                             f"the file's layer {name!r} holds {len(weight_names)}")
        for variable, weight_name in zip(layer.weights, weight_names):
            dataset = group[name][weight_name]
            if dataset.shape != variable.shape:
                raise ValueError(f"{source}: weight {variable.name!r} has shape "
                                 f"{variable.shape} in the model, {dataset.shape} in the file")
            pairs.append((variable, dataset))
    return [(variable, np.asarray(dataset[()], np.float32)) for variable, dataset in pairs]


def read_optimizer_state(h5file):
    if "optimizer_weights" not in h5file:
        return None
    group = h5file["optimizer_weights"]
    return [np.asarray(group[name][()]) for name in _names(group, "weight_names")]
