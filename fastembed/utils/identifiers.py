"""Keras's identifier lookup for small configurable objects (regularizers,
constraints): None, an instance, a name, a class, or a config dict."""
import inspect


def lookup(identifier, kind, classes, base):
    """The object identifier names; classes maps names (Keras's class and
    snake-case names) to classes, base is the class every instance has."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        cls = classes.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown {kind}: {identifier!r}; expected one of "
                             f"{sorted(classes)}")
        return cls()
    if isinstance(identifier, dict):
        cls = classes.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown {kind} class_name in {identifier!r}; expected one of "
                             f"{sorted(classes)}")
        return cls(**identifier.get("config", {}))
    if inspect.isclass(identifier) and issubclass(identifier, base):
        return identifier()
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serialize(obj):
    return None if obj is None else {"class_name": type(obj).__name__,
                                     "config": obj.get_config()}
