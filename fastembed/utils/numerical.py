"""Array helpers under Keras's names."""
import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot encode integer class ids: shape x.shape + (num_classes,), float32
    (a trailing axis of size 1 is dropped first, as in Keras)."""
    ids = np.asarray(x)
    if ids.ndim > 1 and ids.shape[-1] == 1:
        ids = ids[..., 0]
    if ids.size and (not np.array_equal(ids, np.round(ids)) or ids.min() < 0):
        raise ValueError("to_categorical needs non-negative integer class ids")
    ids = ids.astype(np.int64)
    if num_classes is None:
        num_classes = int(ids.max()) + 1 if ids.size else 0
    elif ids.size and ids.max() >= num_classes:
        raise ValueError(f"class id {int(ids.max())} is not in [0, {num_classes}) (num_classes={num_classes})")
    return np.eye(num_classes, dtype=np.float32)[ids]
