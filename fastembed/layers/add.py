"""Add: the elementwise sum of a list of inputs (keras.layers.Add)."""
from fastembed.layers.base_merge import Merge


class Add(Merge):
    def _merge(self, xs, masks):
        output = xs[0]
        for x in xs[1:]:
            output = output + x  # a left fold, as Keras's, so float32 rounding agrees
        return output, len(xs)

    def _merge_grads(self, count, output_grad):
        return [output_grad] * count


def add(inputs, **kwargs):
    """Functional interface to Add: Add(**kwargs)(inputs)."""
    return Add(**kwargs)(inputs)

