"""sample_weight and class_weight given to fit / evaluate / train_on_batch,
as Keras takes them, checked and turned into one array (or None) per output."""
import numpy as np

from fastembed.trainers.compile_utils import per_output


def _numbers(value, argument):
    try:
        array = np.asarray(value)
    except ValueError:
        array = None
    if array is None or array.dtype.kind not in "fiub":
        raise TypeError(f"`{argument}` must be numeric, got "
                        f"{getattr(array, 'dtype', type(value).__name__)}")
    return array.astype(np.float32)


def _checked(weights, argument, num_samples, output_shape):
    """One output's sample weights: (num_samples,), (num_samples, 1), or
    (num_samples, steps) for a temporal output, finite and non-negative."""
    weights = _numbers(weights, argument)
    values_rank = len(output_shape) - 1  # the loss reduces the last axis
    if weights.ndim == 0 or len(weights) != num_samples:
        raise ValueError(f"`{argument}` must have one entry per sample ({num_samples}), got "
                         f"shape {weights.shape}")
    if weights.ndim > max(values_rank, 1) + (weights.shape[-1] == 1):
        raise ValueError(f"`{argument}` of shape {weights.shape} has too many dimensions for "
                         f"the output of shape {tuple(output_shape)}: give one weight per "
                         f"sample, or per sample and time step")
    if not np.isfinite(weights).all() or (weights < 0).any():
        bad = weights[~(np.isfinite(weights) & (weights >= 0))][0]
        raise ValueError(f"`{argument}` must hold finite non-negative weights, got {bad}")
    return weights


def _per_output(sample_weight, output_names):
    """sample_weight as one entry per output (Keras: one array for all
    outputs when per sample, or a list / dict keyed by output name)."""
    several = len(output_names) > 1
    if isinstance(sample_weight, dict) or several and isinstance(sample_weight, (list, tuple)):
        return per_output(sample_weight, output_names, "sample_weight")
    if several:
        weights = np.asarray(sample_weight)
        if weights.ndim > 1 and not (weights.ndim == 2 and weights.shape[1] == 1):
            raise ValueError("For a model with several outputs, a single `sample_weight` array "
                             "must be per sample (1-D); pass a list or dict of one array per "
                             "output for temporal weights")
    return [sample_weight] * len(output_names)


def _class_weights(class_weight, y, output_shape):
    """Keras's class_weight_to_sample_weights, after checking that every
    key names a class of the output."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class indices to weights, "
                        f"got {type(class_weight).__name__}")
    if y.ndim > 2:
        raise ValueError(f"`class_weight` needs targets of one class per sample; got targets "
                         f"of shape {y.shape} (use a temporal `sample_weight` instead)")
    classes = output_shape[-1] if output_shape[-1] and output_shape[-1] > 1 else 2
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) \
                or not 0 <= key < classes:
            raise ValueError(f"`class_weight` names class {key!r}, which does not exist: the "
                             f"output of shape {tuple(output_shape)} has classes 0.."
                             f"{classes - 1}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer,
                                                                np.floating)) \
                or not np.isfinite(weight) or weight < 0:
            raise ValueError(f"`class_weight` of class {key} must be a finite non-negative "
                             f"number, got {weight!r}")
    ids = np.argmax(y, axis=-1) if y.ndim == 2 and y.shape[-1] != 1 else y.reshape(len(y))
    ids = np.round(ids).astype(np.int64)
    table = np.ones(max(classes, int(ids.max(initial=0)) + 1), np.float32)
    for key, weight in class_weight.items():
        table[key] = weight
    return table[np.clip(ids, 0, None)]


def standardize(sample_weight, class_weight, ys, output_shapes, output_names, num_samples,
                argument="sample_weight"):
    """One array (or None) per output, from fit's sample_weight or class_weight
    (named `argument` in errors)."""
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if len(output_names) > 1:
            raise ValueError("`class_weight` is only supported for Models with a single "
                             f"output; this model has outputs {output_names}")
        return [_class_weights(class_weight, ys[0], output_shapes[0])]
    if sample_weight is None:
        return [None] * len(output_names)
    entries = _per_output(sample_weight, output_names)
    several = len(output_names) > 1
    return [None if w is None else _checked(
        w, f"{argument}[{name!r}]" if several else argument, num_samples, shape)
        for w, name, shape in zip(entries, output_names, output_shapes)]


def pack(xs, ys, sample_weights):
    """The arrays an epoch slices into batches."""
    return xs + ys + [w for w in sample_weights if w is not None]


def unpack(batch, num_inputs, sample_weights):
    """(inputs, targets, sample weights) of a batch of pack's arrays."""
    num_outputs = len(sample_weights)
    present = iter(batch[num_inputs + num_outputs:])
    return (batch[:num_inputs], batch[num_inputs:num_inputs + num_outputs],
            [None if w is None else next(present) for w in sample_weights])
