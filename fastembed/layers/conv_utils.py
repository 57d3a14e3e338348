"""Argument handling and output sizes shared by Conv1D and the 1-D pooling layers."""
import numpy as np


def normalize_int(value, name, allow_none=False):
    """A positive int from an int or a tuple/list of one int (Keras's forms)."""
    if value is None and allow_none:
        return None
    single = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if isinstance(single, bool) or not isinstance(single, (int, np.integer)) or single < 1:
        raise ValueError(f"`{name}` must be a positive integer or a tuple of one, "
                         f"got {name}={value!r}")
    return int(single)


def normalize_padding(padding, allowed):
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"`padding` must be one of {list(allowed)}, got padding={padding!r}")
    return value


def check_data_format(data_format, layer):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{layer} supports data_format='channels_last' only, got "
                                  f"data_format={data_format!r}")
    return "channels_last"


def padding_1d(steps, window, stride, padding):
    """(pad_left, out_steps) of a window of `window` steps moved by `stride`,
    with Keras's valid / same (left gets the smaller half) / causal padding;
    out_steps < 1 means the window does not fit. steps may be None."""
    if padding == "causal":
        pad_left = window - 1
        return pad_left, None if steps is None else (steps - 1) // stride + 1
    if steps is None:
        return None, None
    if padding == "same":
        out_steps = -(-steps // stride)
        return max((out_steps - 1) * stride + window - steps, 0) // 2, out_steps
    return 0, (steps - window) // stride + 1


def as_3d_float32(inputs, layer, channels=None):
    """inputs as a C-contiguous float32 (batch, steps, channels) array."""
    x = np.asarray(inputs)
    if x.ndim != 3:
        raise ValueError(f"Input of layer {layer.name!r} must be 3-D (batch, steps, channels), "
                         f"got shape {x.shape}")
    if channels is not None and x.shape[2] != channels:
        raise ValueError(f"Input of layer {layer.name!r} must have {channels} channels (last "
                         f"axis), got shape {x.shape}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"Input of layer {layer.name!r} must be numeric, got dtype {x.dtype}")
    return np.ascontiguousarray(x, dtype=np.float32)
