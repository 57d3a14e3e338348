"""Keras 3's config schema, both ways: every object is
{"module", "class_name", "config", "registered_name"} (layers add
"build_config", the saved model "compile_config"), and a layer's dtype is a
DTypePolicy entry. Reading takes Keras's configs as Keras writes them: the
arguments fastembed lacks are dropped at their "off" values and refused
otherwise (fastembed.utils.config.keras_arguments)."""
import contextlib
import threading

# Keras's Lambda and friends run code stored in the file.
CODE_LAYERS = ("Lambda",)
_scope = threading.local()


@contextlib.contextmanager
def loading_scope(custom_objects=None, safe_mode=True):
    """custom_objects and safe_mode for every object deserialized inside
    (nested layers included), as Keras's CustomObjectScope / SafeModeScope."""
    previous = getattr(_scope, "value", None)
    _scope.value = (dict(custom_objects or {}), bool(safe_mode))
    try:
        yield
    finally:
        _scope.value = previous


def _current_scope():
    return getattr(_scope, "value", None) or ({}, True)


def dtype_policy(name):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


def _plain(value):
    """A config with Keras's DTypePolicy entries as dtype names and its
    shared_object_id bookkeeping removed, at any depth."""
    if isinstance(value, dict):
        if value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") \
                and isinstance(value.get("config"), dict):
            return value["config"].get("name")
        return {key: _plain(item) for key, item in value.items() if key != "shared_object_id"}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _listed(shape):
    if isinstance(shape, (list, tuple)):
        return [_listed(s) for s in shape]
    return shape


def serialize_layer(layer):
    """A layer (or a model) as Keras writes it in config.json."""
    from fastembed import layers as layers_module
    from fastembed import models as models_module
    from fastembed.engine.input_layer import InputLayer
    from fastembed.models.model import Model
    config = layer.get_config()
    name = type(layer).__name__
    if name in ("Functional", "Model") and isinstance(layer, Model):
        module, name, registered_name = "keras.src.models.functional", "Functional", "Functional"
    elif getattr(models_module, name, None) is type(layer):
        module, registered_name = "keras", None
    elif getattr(layers_module, name, None) is type(layer):
        module, registered_name = "keras.layers", None
    else:  # a user's layer: Keras names it by its module and class
        module, registered_name = type(layer).__module__, name
    if not isinstance(layer, InputLayer):
        # Keras 3 layers take their input shape from the model's InputLayer only
        config.pop("batch_input_shape", None)
        config.pop("input_length", None)
        if isinstance(config.get("dtype"), str):
            config["dtype"] = dtype_policy(config["dtype"])
    entry = {"module": module, "class_name": name, "config": config,
             "registered_name": registered_name}
    if isinstance(layer, Model):
        shape = getattr(layer, "_input_shape", None) if name == "Sequential" else None
        entry["build_config"] = {"input_shape": list(shape) if shape else None}
        entry["compile_config"] = compile_config(layer) if layer.compiled else {}
    elif layer.built and layer.weights and layer.input_shape is not None:
        entry["build_config"] = {"input_shape": _listed(layer.input_shape)}
    return entry


def supported_layers():
    from fastembed import layers as layers_module
    from fastembed.engine.layer import Layer
    return sorted(name for name, value in vars(layers_module).items()
                  if isinstance(value, type) and issubclass(value, Layer) and value is not Layer)


def _layer_class(entry):
    from fastembed import layers as layers_module
    from fastembed import models as models_module
    from fastembed.engine.layer import Layer
    custom_objects, safe_mode = _current_scope()
    name = entry.get("class_name")
    found = custom_objects.get(name) or custom_objects.get(entry.get("registered_name"))
    if found is None and name in CODE_LAYERS:
        if safe_mode:
            raise ValueError(f"Requested the deserialization of a {name!r} layer, whose code "
                             f"is stored in the file and would run when loaded. This is "
                             f"refused in safe mode (safe_mode=True); pass safe_mode=False "
                             f"only for a file you trust")
        raise ValueError(f"fastembed has no {name!r} layer (its Python code cannot be run "
                         f"here); pass a replacement class in custom_objects={{{name!r}: ...}}")
    if found is None and name in ("Model", "Functional", "Sequential"):
        found = getattr(models_module, name)
    if found is None:
        found = getattr(layers_module, str(name), None)
    if not (isinstance(found, type) and issubclass(found, Layer)):
        raise ValueError(f"Unknown layer class {name!r}: fastembed supports "
                         f"{supported_layers() + ['Functional', 'Sequential']}; pass a "
                         f"class of your own in custom_objects")
    return found


def deserialize_layer(entry, custom_objects=None):
    """A layer (or a nested model) from its config.json entry: fastembed's
    classes, or the custom_objects of the loading_scope (or given here)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"A layer entry must be a dict with 'class_name' and 'config', "
                         f"got {entry!r}")
    if custom_objects:
        with loading_scope({**_current_scope()[0], **custom_objects}, _current_scope()[1]):
            return deserialize_layer(entry)
    layer_class = _layer_class(entry)
    config = _plain(entry["config"])
    return layer_class.from_config(config)


def deserialize_model(entry, custom_objects=None, safe_mode=True):
    """A model (fresh weights) from a config.json / to_json entry, built for
    the input shape of its build_config."""
    with loading_scope(custom_objects, safe_mode):
        model = deserialize_layer(entry)
    if not hasattr(model, "graph"):
        raise ValueError(f"The config holds a {entry.get('class_name')!r} layer, not a model")
    shape = (entry.get("build_config") or {}).get("input_shape")
    if not model.built and shape:
        model.build(tuple(shape))
    return model


def compile_config(model):
    from fastembed import optimizers as optimizers_module
    from fastembed import losses as losses_module
    losses = [None if loss is None else losses_module.serialize(loss)
              for loss in model.compiled_loss.losses]
    weights = model.compiled_loss.weights
    config = {"optimizer": optimizers_module.serialize(model.optimizer),
              "loss": losses[0] if len(losses) == 1 else losses,
              "loss_weights": None if all(w is None for w in weights) else weights,
              "metrics": model.compiled_metrics.serialize() or None,
              "weighted_metrics": model.compiled_weighted_metrics.serialize() or None,
              "run_eagerly": False, "steps_per_execution": 1,
              "jit_compile": False}
    keys = getattr(model, "_output_dict_keys", None)
    if keys is not None:  # a dict-output model's, keyed as its outputs (as compile took them)
        def keyed(values):
            entries = {key: value for key, value in zip(keys, values)
                       if value is not None and value != []}
            return entries or None

        config.update(loss=keyed(losses), loss_weights=keyed(weights),
                      metrics=keyed(model.compiled_metrics.serialize(per_output=True)),
                      weighted_metrics=keyed(
                          model.compiled_weighted_metrics.serialize(per_output=True)))
    return config


def _each_entry(spec, convert):
    """spec (a name or object entry, or lists / output-keyed dicts of them,
    as compile takes losses and metrics) with convert applied to each entry."""
    if isinstance(spec, (list, tuple)):
        return [_each_entry(s, convert) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {key: _each_entry(value, convert) for key, value in spec.items()}
    return None if spec is None else convert(spec)


def _loss(spec):
    from fastembed import losses as losses_module
    return losses_module.get(spec)


def _metric(spec):
    """A metric name from a name or a Keras metric object's entry."""
    from fastembed.engine.layer import _snake_case
    if not isinstance(spec, dict):
        return spec
    name = (spec.get("config") or {}).get("name")
    return name if name in ("accuracy", "acc") else _snake_case(spec["class_name"])


def compile_from_config(model, config):
    """model.compile with a compile_config (Keras 3's, or a legacy file's
    training_config, where the optimizer is "optimizer_config")."""
    from fastembed import optimizers as optimizers_module
    optimizer = config.get("optimizer", config.get("optimizer_config"))
    if isinstance(optimizer, dict):
        optimizer = optimizers_module.get(_plain(optimizer))
    model.compile(optimizer=optimizer, loss=_each_entry(_plain(config.get("loss")), _loss),
                  loss_weights=config.get("loss_weights"),
                  metrics=_each_entry(config.get("metrics"), _metric),
                  weighted_metrics=_each_entry(config.get("weighted_metrics"), _metric))
