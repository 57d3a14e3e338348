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
            if _is_text_vectorization(layer):  # Keras also keeps its lookup's, as a child's
                yield child + "/_lookup_layer", layer._lookup_layer


def _is_text_vectorization(layer):
    from fastembed.layers.text_vectorization import TextVectorization
    return isinstance(layer, TextVectorization)


def _layer_groups(layer, path):
    """(path, name, variables, owner) of a layer and of the objects Keras
    saves inside it; owner: the layer whose named state (save_own_variables,
    such as a tf_idf lookup's idf_weights) the group also holds, or None."""
    from fastembed.layers import Bidirectional, TimeDistributed
    from fastembed.layers.base_rnn import BaseRNN
    if hasattr(layer, "graph"):  # a nested model
        yield path, layer.name, [], None
        yield from _model_groups(layer, path + "/")
    elif isinstance(layer, BaseRNN):  # Keras keeps the weights in the layer's cell
        yield path, layer.name, [], None
        yield (path + "/cell", keras_snake_case(type(layer).__name__) + "_cell", layer.weights,
               None)
    elif isinstance(layer, TimeDistributed):
        yield path, layer.name, [], None
        yield from _layer_groups(layer.layer, path + "/layer")
    elif isinstance(layer, Bidirectional):
        yield path, layer.name, [], None
        yield from _layer_groups(layer.forward_layer, path + "/forward_layer")
        yield from _layer_groups(layer.backward_layer, path + "/backward_layer")
    elif _is_text_vectorization(layer):  # its lookup's state, as its own and as a child's
        lookup = layer._lookup_layer
        yield path, layer.name, [], lookup
        yield path + "/_lookup_layer", lookup.name, [], lookup
    else:
        yield path, layer.name, layer.weights, layer


def layer_groups(model):
    """Every (group path, object name, variables, owner) of the model, in Keras's layout."""
    yield "", model.name, [], None
    yield from _model_groups(model, "")


def _own_state(owner):
    """{name: array} of owner's named state ({} for None or a layer without)."""
    store = {}
    if hasattr(owner, "save_own_variables"):
        owner.save_own_variables(store)
    return store


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def write_state(h5file, dataset, model, include_optimizer=True):
    """The model's state into h5file; dataset(group, name, array) adds each
    array (fastembed.saving.h5_image)."""
    for path, name, variables, owner in layer_groups(model):
        group = h5file.create_group(_vars_path(path))
        group.attrs["name"] = name
        for i, variable in enumerate(variables):
            dataset(group, str(i), variable.value)
        for key, value in _own_state(owner).items():
            dataset(group, key, value)
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
    """[(variable, array)] of every weight (and [(OwnState, {name: array})]
    of layers' named state), checked against the model (its layers, counts
    and shapes) before anything is assigned."""
    groups = list(layer_groups(model))
    expected = {path for path, _, variables, owner in groups if variables or _own_state(owner)}
    allowed = expected | {path for path, _, _, owner in groups
                          if hasattr(owner, "load_own_variables")}
    saved = _saved_groups(h5file)
    if not expected <= saved <= allowed:
        raise ValueError(f"{source} was saved from another model: it lacks weights of "
                         f"{sorted(expected - saved)} and holds weights of "
                         f"{sorted(saved - allowed)}, which this model does not have")
    pairs = []
    for path, name, variables, owner in groups:
        if variables:
            pairs += matched(source, name, variables, _numbered(h5file[_vars_path(path)]), path)
        elif path in saved:
            pairs.append((OwnState(owner, source), h5file[_vars_path(path)]))
    return read_values(pairs)


class OwnState:
    """A layer's named state (Keras's save_own_variables / load_own_variables)
    as read_state's pairs hold variables: read() checks a group's arrays
    against the layer's current state, assign() (or value =) loads them."""

    def __init__(self, layer, source):
        self.layer, self.source = layer, source

    def read(self, group):
        store = {key: np.asarray(group[key][()]) for key in group}
        for key, value in _own_state(self.layer).items():
            if key not in store or store[key].shape != np.shape(value):
                raise ValueError(
                    f"{self.source}: layer {self.layer.name!r} has {key} of shape "
                    f"{np.shape(value)}; the file holds "
                    f"{store[key].shape if key in store else 'none'} at {group.name!r}")
        return store

    def assign(self, store):
        self.layer.load_own_variables(store)

    value = property(fset=assign)


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
