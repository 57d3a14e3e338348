"""Keras's encodings of categorical indices (numerical_utils.
encode_categorical_inputs): "one_hot" of each index, and "multi_hot" /
"count" / weighted counts of the indices along axis 1 (axis 0 of a rank-1
input, a single sample)."""
import numpy as np

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def check_output_mode(layer_class, output_mode, allowed=OUTPUT_MODES):
    if output_mode not in allowed:
        raise ValueError(f"Invalid value for argument output_mode passed to {layer_class}. "
                         f"Expected one of {list(allowed)}. Received: "
                         f"output_mode={output_mode!r}")


def bag_counts(indices, depth, count_weights=None):
    """(..., depth) float32 sums of count_weights (else 1) of each index of
    `indices` along axis 1 (axis 0 at rank 1); indices outside [0, depth)
    are not counted."""
    indices = np.asarray(indices)
    single = indices.ndim == 1
    if single:
        indices = indices[None]
        count_weights = None if count_weights is None else np.asarray(count_weights)[None]
    moved = np.moveaxis(indices, 1, -1)
    flat = moved.reshape(-1, moved.shape[-1]).astype(np.int64, copy=False)
    weights = None if count_weights is None else \
        np.moveaxis(np.asarray(count_weights, np.float32), 1, -1).reshape(flat.shape)
    kept = (flat >= 0) & (flat < depth)
    rows = np.broadcast_to(np.arange(flat.shape[0])[:, None], flat.shape)[kept]
    counts = np.bincount(rows * depth + flat[kept], None if weights is None else weights[kept],
                         minlength=flat.shape[0] * depth)
    out = counts.astype(np.float32).reshape(moved.shape[:-1] + (depth,))
    return out[0] if single else out


def encode_categorical(indices, output_mode, depth, count_weights=None):
    """Indices encoded as Keras encodes them; "int" returns them as int64."""
    indices = np.asarray(indices)
    if output_mode == "int":
        return indices.astype(np.int64, copy=False)
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return (indices[..., None] == np.arange(depth)).astype(np.float32)
    counts = bag_counts(indices, depth, count_weights)
    return (counts > 0).astype(np.float32) if output_mode == "multi_hot" else counts
