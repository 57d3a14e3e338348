"""Optimizers with Keras 3's formulas, defaults and arguments.

The update itself runs in C (csrc/optim*.c) on each weight: dense gradients
as one row, an Embedding's RowGrad either lazily (only its rows, for
Embedding(sparse=True); weight decay then also shrinks only those rows, the
lazy counterpart of Keras's decay of the whole table) or with Keras's dense
semantics (every row moves at every step: applied at the rows a step
touches and replayed on the others when they are read, see
set_lazy_dense_updates). Moving averages (use_ema) cover whole weights
either way.
"""
from fastembed.optimizers import schedules  # noqa: F401
from fastembed.optimizers.optimizer import (  # noqa: F401
    SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Ftrl, Lion, Nadam, Optimizer, RMSprop,
    lazy_dense_updates, set_lazy_dense_updates)

_BY_NAME = {cls.__name__.lower(): cls for cls in
            (SGD, Adam, RMSprop, Adagrad, AdamW, Nadam, Adamax, Adadelta, Ftrl, Lion)}


def get(identifier):
    """An Optimizer from its Keras name ('adam', ...), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name", "").lower() in _BY_NAME:
        return _BY_NAME[identifier["class_name"].lower()].from_config(identifier.get("config", {}))
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; expected "
                     f"one of {sorted(_BY_NAME)} or an Optimizer")


def serialize(optimizer):
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}
