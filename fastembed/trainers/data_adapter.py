"""Data given to fit / evaluate / predict, as lists of arrays in the
model's input and output order, and the batches of an epoch."""
import numpy as np

DEFAULT_BATCH_SIZE = 32


def as_array(data, argument):
    if data is None:
        raise ValueError(f"`{argument}` must be given")
    if isinstance(data, np.ndarray) and data.dtype != object:
        array = data
    else:
        try:
            array = np.asarray(data)
        except ValueError:  # numpy >= 1.24 refuses ragged nested lists
            array = None
        if array is None or array.dtype == object:
            kind = "a generator or iterator" if hasattr(data, "__next__") else \
                "ragged or object data"
            raise TypeError(f"`{argument}` must be a numeric array, got {kind} (pad sequences "
                            f"first with fastembed.utils.pad_sequences)")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{argument}` must be a numeric array, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"`{argument}` must have a batch dimension, got a scalar")
    return array


def check_finite(arrays, argument):
    """Training data must be finite: one NaN would turn every weight it
    reaches into NaN. Names the first bad entry."""
    for i, array in enumerate(arrays):
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            where = np.unravel_index(np.argmin(np.isfinite(array)), array.shape)
            name = argument if len(arrays) == 1 else f"{argument}[{i}]"
            raise ValueError(f"`{name}` holds a non-finite value: {name}"
                             f"[{', '.join(map(str, where))}] = {array[where]}")


def as_list(data, names, argument):
    """data (one array, a list, or a dict keyed by names) as a list of
    arrays in the order of names."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        unknown = [k for k in data if k not in names]
        if missing or unknown:
            raise ValueError(f"`{argument}` is a dict whose keys must be {names}; "
                             f"missing: {missing}, unknown: {unknown}")
        return [as_array(data[n], f"{argument}[{n!r}]") for n in names]
    if len(names) == 1:
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            data = data[0]
        return [as_array(data, argument)]
    if not isinstance(data, (list, tuple)):
        raise ValueError(f"`{argument}` must be a list of {len(names)} arrays (or a dict "
                         f"keyed by {names}), got a single {type(data).__name__}")
    if len(data) != len(names):
        raise ValueError(f"`{argument}` must be a list of {len(names)} arrays, one per "
                         f"{names}, got a list of {len(data)}")
    return [as_array(a, f"{argument}[{i}]") for i, a in enumerate(data)]


def check_cardinality(xs, ys=None):
    sizes = {len(a) for a in xs + (ys or [])}
    if len(sizes) > 1:
        raise ValueError(f"Data cardinality is ambiguous: x sizes: "
                         f"{', '.join(str(len(a)) for a in xs)}, y sizes: "
                         f"{', '.join(str(len(a)) for a in ys or [])}. Make sure all arrays "
                         f"contain the same number of samples.")
    return sizes.pop()


def check_batch_size(batch_size):
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def split_validation(xs, ys, validation_split):
    """(xs, ys, validation data) with the last validation_split of the
    samples held out, as Keras does."""
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    split = int(len(xs[0]) * (1 - validation_split))
    return ([a[:split] for a in xs], [a[:split] for a in ys],
            ([a[split:] for a in xs], [a[split:] for a in ys]))


def batches(arrays, num_samples, batch_size, steps=None, order=None):
    """(step, [array slices]) of an epoch: consecutive slices, or the
    samples at `order` (a permutation) when shuffling."""
    steps = steps or -(-num_samples // batch_size)
    for step in range(steps):
        start = (step * batch_size) % num_samples
        if order is None:
            yield step, [a[start:start + batch_size] for a in arrays]
        else:
            index = order[start:start + batch_size]
            yield step, [a[index] for a in arrays]
