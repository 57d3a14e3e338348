"""Sequence utilities under Keras's names."""
import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (and truncate) sequences to a common length, as keras.utils.pad_sequences.

    sequences: list of sequences (lists or arrays; items may be scalars or
        arrays of one common shape).
    maxlen: length of the result; default the longest sequence.
    padding / truncating: "pre" or "post": where to add `value`s / drop items.
    Returns an array of shape (len(sequences), maxlen) + item shape.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences must be a list of sequences, got {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f'padding must be "pre" or "post", got {padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'truncating must be "pre" or "post", got {truncating!r}')
    lengths = []
    sample_shape = None
    for i, s in enumerate(sequences):
        if not hasattr(s, "__len__"):
            raise ValueError(f"sequences[{i}] = {s!r} is not a sequence")
        lengths.append(len(s))
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be a non-negative integer or None, got {maxlen!r}")
    is_text = np.issubdtype(dtype, np.str_) or dtype is object
    if isinstance(value, str) and not is_text:
        raise ValueError(f"dtype {dtype} cannot hold the string value {value!r}; use dtype=object")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        n = min(lengths[i], maxlen)
        if n == 0:
            continue
        kept = np.asarray(s[-n:] if truncating == "pre" else s[:n], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"sequences[{i}] has items of shape {kept.shape[1:]}, "
                             f"expected {sample_shape} like the first non-empty sequence")
        if padding == "pre":
            out[i, maxlen - n:] = kept
        else:
            out[i, :n] = kept
    return out
