"""Merge: the base of the merge layers (Add, Subtract, Multiply, Average,
Maximum, Minimum, and the Concatenate and Dot that extend it), as Keras 3's.

A merge layer is called on a list of tensors of one batch size. For the
elementwise merges their other dimensions broadcast as numpy's do, aligned
on the right, as Keras 3's Merge does: an input of lower rank is expanded
after its batch axis until the ranks agree, so (batch, d) merges with
(batch, t, d) as (batch, 1, d). The output mask is the OR of the inputs'
masks when every input has one, else None (Keras's Merge.compute_mask).

Backward returns one float32 gradient per input, of that input's shape:
a gradient of the broadcast output is summed over the axes the input was
broadcast along.

The helpers here (input checks, broadcasting, masks) are shared by all the
merge layers and by Bidirectional, which merges its two directions through
these layers' forward/backward, so the merge arithmetic exists once.
"""
import numpy as np

from fastembed.engine.layer import Layer


def layer_label(layer):
    """How an error message names a layer: `Add layer 'add_2'`."""
    return f"{type(layer).__name__} layer {layer.name!r}"


def shape_list(layer, input_shape, count=None):
    """The list of input shapes (tuples) of a merge layer, checked: a merge
    layer is called on a list of at least one input (exactly `count` if
    given)."""
    if not isinstance(input_shape, (list, tuple)) or not input_shape \
            or not all(isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"A merge layer should be called on a list of inputs: "
                         f"{layer_label(layer)} received input_shape={input_shape!r} (not a "
                         f"list of shapes)")
    shapes = [tuple(s) for s in input_shape]
    if count is not None and len(shapes) != count:
        raise ValueError(f"{layer_label(layer)} should be called on exactly {count} inputs. "
                         f"Received {len(shapes)} inputs of shapes {shapes}")
    for s in shapes:
        if len(s) < 1:
            raise ValueError(f"{layer_label(layer)} needs inputs with a batch axis (rank >= 1); "
                             f"received shapes {shapes}")
    return shapes


def input_arrays(layer, inputs, count=None):
    """The inputs of a merge layer's forward as float32 arrays, checked as
    shape_list checks shapes."""
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"A merge layer should be called on a list of inputs: "
                         f"{layer_label(layer)} received a single input of shape "
                         f"{np.shape(inputs)}")
    xs = [np.asarray(x, dtype=np.float32) for x in inputs]
    shape_list(layer, [x.shape for x in xs], count)
    return xs


def batch_size(layer, shapes):
    """The common batch size of shapes (None when unknown); ValueError when
    two known batch sizes differ."""
    sizes = {s[0] for s in shapes} - {None}
    if len(sizes) > 1:
        raise ValueError(f"{layer_label(layer)} cannot merge tensors with different batch "
                         f"sizes. Received tensors with shapes {shapes}")
    return sizes.pop() if sizes else None


def broadcast_shape(layer, shape1, shape2, shapes):
    """The shape of an elementwise operation of two shapes (without their
    batch axes), aligned on the right; None where either is unknown, as
    Keras's Merge computes it."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    output = list(shape1[:len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            output.append(None)
        elif i == 1:
            output.append(j)
        elif j == 1 or i == j:
            output.append(i)
        else:
            raise ValueError(f"{layer_label(layer)}: inputs have incompatible shapes. Received "
                             f"shapes {shapes}: {tuple(shape1)} and {tuple(shape2)} (without "
                             f"the batch axis) do not broadcast")
    return tuple(output)


def unbroadcast(grad, shape):
    """grad (of a shape `shape` was broadcast to, same rank) summed back to shape."""
    if grad.shape == tuple(shape):
        return grad
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, shape)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def or_masks(masks):
    """Keras's Merge.compute_mask: the OR of the masks when none is None."""
    if masks is None:
        return None
    if not isinstance(masks, (list, tuple)):
        raise ValueError(f"`mask` of a merge layer should be a list, received mask={masks!r}")
    if any(m is None for m in masks):
        return None
    output = np.asarray(masks[0], dtype=bool)
    for m in masks[1:]:
        output = np.logical_or(output, np.asarray(m, dtype=bool))
    return output


class Merge(Layer):
    """An elementwise merge of a list of inputs: a subclass implements
    _merge(xs, masks) -> (output, saved) on inputs of equal rank and
    _merge_grads(saved, output_grad) -> one gradient per input (each of the
    output's shape or broadcastable to it)."""

    supports_masking = True
    num_inputs = None  # a fixed number of inputs (Subtract: 2), else any >= 1

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # Keras's build only validates the shapes
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = shape_list(self, input_shape, self.num_inputs)
        batch = batch_size(self, shapes)
        output = shapes[0][1:]
        for shape in shapes[1:]:
            output = broadcast_shape(self, output, shape[1:], shapes)
        return (batch,) + tuple(output)

    def compute_mask(self, inputs, mask=None):
        if mask is not None and isinstance(inputs, (list, tuple)) and len(mask) != len(inputs):
            raise ValueError(f"{layer_label(self)}: the lists `inputs` and `mask` should have "
                             f"the same length; received {len(inputs)} inputs and "
                             f"{len(mask)} masks")
        return or_masks(mask)

    def forward(self, context, inputs, training=False, mask=None):
        xs = input_arrays(self, inputs, self.num_inputs)
        shapes = [x.shape for x in xs]
        output_shape = self.compute_output_shape(shapes)
        rank = len(output_shape)
        if any(x.ndim != rank for x in xs):
            # Keras expands the lower-rank inputs after the batch axis (and, the
            # expanded tensors carrying no mask, Maximum / Minimum then ignore masks).
            xs = [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]
            masks = None
        else:
            masks = self._input_masks(mask, xs)
        output, saved = self._merge(xs, masks)
        context.saved = (shapes, [x.shape for x in xs], saved)
        return output

    def backward(self, context, output_grads):
        if not context.needs_input_grad:
            return None
        shapes, expanded_shapes, saved = context.saved
        grads = self._merge_grads(saved, np.asarray(output_grads, dtype=np.float32))
        result = []
        for grad, shape, expanded in zip(grads, shapes, expanded_shapes):
            grad = np.ascontiguousarray(unbroadcast(np.asarray(grad), expanded),
                                        dtype=np.float32).reshape(shape)
            if any(grad is other for other in result):  # one array per input
                grad = grad.copy()
            result.append(grad)
        return result

    def _input_masks(self, mask, xs):
        """The inputs' masks (None each when absent), as the layers that use
        them in forward (Maximum, Minimum) need: None, or one entry per input."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(xs):
            raise ValueError(f"{layer_label(self)}: `mask` should be a list of one mask per "
                             f"input ({len(xs)}), received {mask!r}")
        return list(mask)

    def _merge(self, xs, masks):
        raise NotImplementedError

    def _merge_grads(self, saved, output_grad):
        raise NotImplementedError


class SelectMerge(Merge):
    """Maximum and Minimum: a left fold of a binary selection, with Keras's
    handling of masks (masked entries of an input are replaced by the
    running result, and masked entries of the running result by the input,
    so a masked entry never wins over an unmasked one).

    The gradient goes to the selected element; on a tie each of the two
    operands of that step of the fold gets half, as jax.grad of
    jnp.maximum / jnp.minimum gives (so for three equal inputs the first two
    get a quarter each and the last a half, as with Keras on jax)."""

    _op = None  # np.maximum or np.minimum

    def _merge(self, xs, masks):
        shape = np.broadcast_shapes(*(x.shape for x in xs))
        masks = masks or [None] * len(xs)
        output = output_mask = None
        steps = []
        for x, m in zip(xs, masks):
            x = np.broadcast_to(x, shape)
            if m is not None:
                m = np.asarray(m, dtype=bool)
                try:
                    m = np.broadcast_to(np.broadcast_to(m[..., None], x.shape), shape)
                except ValueError:
                    raise ValueError(f"{layer_label(self)}: a mask of shape {m.shape} does not "
                                     f"fit its input of shape {x.shape} (a mask has the "
                                     f"input's shape without its last axis)") from None
            if output is None:
                output, output_mask = x, m
                continue
            if m is not None:
                x = np.where(m, x, output)
            if output_mask is not None:
                output = np.where(output_mask, output, x)
            wins = output > x if self._op is np.maximum else output < x
            steps.append((m, output_mask, wins, output == x))
            output_mask = output_mask | m if output_mask is not None and m is not None else None
            output = self._op(output, x)
        return np.ascontiguousarray(output, dtype=np.float32), steps

    def _merge_grads(self, steps, output_grad):
        grads = []
        g = output_grad
        half = np.float32(0.5)
        for m, output_mask, wins, ties in reversed(steps):
            tie_share = np.where(ties, g * half, np.float32(0))
            g_output = np.where(wins, g, np.float32(0)) + tie_share
            g_x = np.where(wins | ties, np.float32(0), g) + tie_share
            if output_mask is not None:
                g_x = g_x + np.where(output_mask, np.float32(0), g_output)
                g_output = np.where(output_mask, g_output, np.float32(0))
            if m is not None:
                g_output = g_output + np.where(m, np.float32(0), g_x)
                g_x = np.where(m, g_x, np.float32(0))
            grads.append(g_x)
            g = g_output
        grads.append(g)
        return grads[::-1]
