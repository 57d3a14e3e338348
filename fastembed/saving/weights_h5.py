"""Keras 3's HDF5 layout of a model's state (model.weights.h5 in a .keras
file, and .weights.h5 files): each layer's variables under
layers/<class name in snake case, numbered>/vars/<i> (a recurrent layer's
under .../cell/vars, a TimeDistributed's under .../layer, a Bidirectional's
under .../forward_layer and .../backward_layer, a nested model's under
.../layers/...), the optimizer's under optimizer/vars: the iteration counter, the learning rate, then its
slots (fastembed.optimizers keras_variables)."""
import re
import warnings

import numpy as np


def keras_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _children(model, path):
    """(group path, layer) of each layer of model, as Keras names them."""
    used = {}
    for layer in model.layers:
        yield f"{path}layers/{_unique(keras_snake_case(type(layer).__name__), used)}", layer


def _model_groups(model, path):
    for child, layer in _children(model, path):
        yield from _layer_groups(layer, child)


def asset_layers(model, path=""):
    """(path, layer) of every layer with assets (a lookup's vocabulary),
    nested models' included: Keras keeps them under assets/<path>/."""
    for child, layer in _children(model, path):
        if hasattr(layer, "graph"):
            yield from asset_layers(layer, child + "/")
        elif hasattr(layer, "save_assets"):
            yield child, layer


def _layer_groups(layer, path):
    """(path, name, variables) of a layer and of the objects Keras saves inside it."""
    from fastembed.layers import Bidirectional, TimeDistributed
    from fastembed.layers.base_rnn import BaseRNN
    if hasattr(layer, "graph"):  # a nested model
        yield path, layer.name, []
        yield from _model_groups(layer, path + "/")
    elif isinstance(layer, BaseRNN):  # Keras keeps the weights in the layer's cell
        yield path, layer.name, []
        yield path + "/cell", keras_snake_case(type(layer).__name__) + "_cell", layer.weights
    elif isinstance(layer, TimeDistributed):
        yield path, layer.name, []
        yield from _layer_groups(layer.layer, path + "/layer")
    elif isinstance(layer, Bidirectional):
        yield path, layer.name, []
        yield from _layer_groups(layer.forward_layer, path + "/forward_layer")
        yield from _layer_groups(layer.backward_layer, path + "/backward_layer")
    else:
        yield path, layer.name, layer.weights


def layer_groups(model):
    """Every (group path, object name, variables) of the model, in Keras's layout."""
    yield "", model.name, []
    yield from _model_groups(model, "")


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def write_state(h5file, dataset, model, include_optimizer=True):
    """The model's state into h5file; dataset(group, name, array) adds each
    array (fastembed.saving.h5_image)."""
    for path, name, variables in layer_groups(model):
        group = h5file.create_group(_vars_path(path))
        group.attrs["name"] = name
        for i, variable in enumerate(variables):
            dataset(group, str(i), variable.value)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        group = h5file.create_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, value in enumerate(optimizer.keras_variables(model.trainable_weights)):
            dataset(group, str(i), value)


def _numbered(group):
    """The datasets of a vars group in order 0, 1, ..."""
    names = sorted(group, key=lambda key: int(key) if key.isdigit() else -1)
    if [n for n in names] != [str(i) for i in range(len(names))]:
        raise ValueError(f"group {group.name!r} holds {names}, not variables 0..n-1")
    return [group[n] for n in names]


def _saved_groups(h5file):
    """The paths of the vars groups under layers/ that hold variables."""
    found = []
    if "layers" in h5file:
        h5file["layers"].visititems(
            lambda name, item: found.append("layers/" + name[:-len("/vars")])
            if name.endswith("vars") and hasattr(item, "keys") and len(item) else None)
    return set(found)


def read_state(h5file, model, source):
    """[(variable, array)] of every weight, checked against the model (its
    layers, counts and shapes) before anything is assigned."""
    expected = {path: (name, variables) for path, name, variables in layer_groups(model)
                if variables}
    saved = _saved_groups(h5file)
    if saved != set(expected):
        raise ValueError(f"{source} was saved from another model: it lacks weights of "
                         f"{sorted(set(expected) - saved)} and holds weights of "
                         f"{sorted(saved - set(expected))}, which this model does not have")
    pairs = []
    for path, (name, variables) in expected.items():
        pairs += matched(source, name, variables, _numbered(h5file[_vars_path(path)]), path)
    return read_values(pairs)


def matched(source, layer_name, variables, datasets, location):
    """[(variable, dataset)] of one layer, their count and shapes checked."""
    if len(datasets) != len(variables):
        raise ValueError(f"{source}: layer {layer_name!r} has {len(variables)} weights, the "
                         f"file holds {len(datasets)} at {location!r}")
    for variable, dataset in zip(variables, datasets):
        if dataset.shape != variable.shape:
            raise ValueError(f"{source}: weight {variable.name!r} has shape "
                             f"{variable.shape} in the model, {dataset.shape} in the file")
    return list(zip(variables, datasets))


def read_values(pairs):
    """[(variable, dataset)] -> [(variable, a fresh C-contiguous float32 array)]."""
    return [(variable, variable.read(dataset)) for variable, dataset in pairs]


def read_optimizer_state(h5file):
    """The optimizer's variables in Keras's order, or None."""
    if "optimizer/vars" not in h5file:
        return None
    return [np.asarray(dataset[()]) for dataset in _numbered(h5file["optimizer/vars"])]


def assign_optimizer_state(model, arrays, source):
    """Load Keras-ordered optimizer variables into the compiled model's
    optimizer; one that does not fit is skipped with a warning, as Keras does."""
    try:
        model.optimizer.load_keras_variables(model.trainable_weights, arrays)
    except ValueError as error:
        warnings.warn(f"Skipping the optimizer state of {source}: {error}", stacklevel=3)
