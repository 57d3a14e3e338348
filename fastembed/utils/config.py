"""Reading Keras's config dicts: the keyword arguments a class takes."""
import inspect


def _parameters(cls):
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and klass is not object:
            names.update(name for name, parameter in inspect.signature(init).parameters.items()
                         if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD,
                                               parameter.KEYWORD_ONLY))
    return names


# Arguments Keras writes that fastembed has no use for, at their "off" values
# (besides None): Keras 3's optimizers, layers and losses, Keras 2's RNNs.
KERAS_OFF_VALUES = {"use_ema": False, "ema_momentum": 0.99, "axis": -1, "autocast": True,
                    "time_major": False}


def keras_arguments(cls, config, inert=None):
    """The entries of a Keras config that cls's constructor takes.

    Keras writes every argument it has; one fastembed lacks is dropped when
    it holds Keras's "off" value (None, KERAS_OFF_VALUES or `inert`), and is a
    ValueError naming it otherwise, since the file then asks for behaviour
    fastembed does not have."""
    accepted = _parameters(cls)
    inert = {**KERAS_OFF_VALUES, **(inert or {})}
    unsupported = {key: value for key, value in config.items()
                   if key not in accepted and value is not None
                   and not (key in inert and inert[key] == value)}
    if unsupported:
        raise ValueError(f"{cls.__name__} in fastembed does not support the argument(s) "
                         f"{unsupported}; it takes {sorted(accepted - {'self'})}")
    return {key: value for key, value in config.items() if key in accepted}
