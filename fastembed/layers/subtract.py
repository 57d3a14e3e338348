"""Subtract: inputs[0] - inputs[1] of exactly two inputs (keras.layers.Subtract)."""
from fastembed.layers.base_merge import Merge


class Subtract(Merge):
    num_inputs = 2

    def _merge(self, xs, masks):
        return xs[0] - xs[1], None

    def _merge_grads(self, saved, output_grad):
        return [output_grad, -output_grad]


def subtract(inputs, **kwargs):
    """Functional interface to Subtract: Subtract(**kwargs)(inputs)."""
    return Subtract(**kwargs)(inputs)
