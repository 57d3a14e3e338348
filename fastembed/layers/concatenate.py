"""Concatenate: joins a list of inputs along `axis` (keras.layers.Concatenate).

The inputs have one rank and equal dimensions except along `axis` (an
unknown dimension matches any). The output mask, when any input has a
mask, is Keras 3's: every input's mask broadcast to the input's shape (all
True for an input without one), concatenated along `axis`, then reduced by
any() over the last axis; so for axis=-1 it is the OR of the masks, and
for a time axis it is the masks joined in time.
"""
import numpy as np

from fastembed.layers.base_merge import Merge, input_arrays, layer_label, shape_list


class Concatenate(Merge):
    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _axis(self, rank, shapes):
        if not -rank <= self.axis < rank:
            raise ValueError(f"{layer_label(self)}: axis={self.axis} is out of range for "
                             f"inputs of rank {rank}; received shapes {shapes}")
        return self.axis % rank

    def compute_output_shape(self, input_shape):
        shapes = shape_list(self, input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"A `Concatenate` layer requires inputs of one rank with matching "
                             f"shapes except for the concatenation axis: {layer_label(self)} "
                             f"received input_shape={shapes} (ranks {sorted(ranks)})")
        axis = self._axis(ranks.pop(), shapes)
        for d in range(len(shapes[0])):
            if d != axis and len({s[d] for s in shapes} - {None}) > 1:
                raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes "
                                 f"except for the concatenation axis: {layer_label(self)} "
                                 f"(axis={self.axis}) received input_shape={shapes}, which "
                                 f"differ in axis {d}")
        output = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        output[axis] = None if None in sizes else sum(sizes)
        return tuple(output)

    def forward(self, context, inputs, training=False, mask=None):
        xs = input_arrays(self, inputs)
        shapes = [x.shape for x in xs]
        self.compute_output_shape(shapes)
        axis = self.axis % xs[0].ndim
        context.saved = (axis, np.cumsum([x.shape[axis] for x in xs])[:-1])
        return np.concatenate(xs, axis=axis)

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        axis, splits = context.saved
        return [np.ascontiguousarray(g, dtype=np.float32)
                for g in np.split(np.asarray(output_grads), splits, axis=axis)]

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) \
                or len(mask) != len(inputs):
            raise ValueError(f"{layer_label(self)}: `inputs` and `mask` should be lists of "
                             f"the same length, received mask={mask!r}")
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            shape = tuple(np.shape(x))
            if m is None:
                masks.append(np.ones(shape, dtype=bool))
            else:
                m = np.asarray(m, dtype=bool)
                masks.append(np.broadcast_to(m[..., None], shape) if m.ndim < len(shape) else m)
        return np.concatenate(masks, axis=self.axis % len(np.shape(inputs[0]))).any(axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to Concatenate: Concatenate(axis, **kwargs)(inputs)."""
    return Concatenate(axis=axis, **kwargs)(inputs)
