"""Multiply: the elementwise product of a list of inputs (keras.layers.Multiply)."""
from fastembed.layers.base_merge import Merge


class Multiply(Merge):
    def _merge(self, xs, masks):
        # A left fold, as Keras's; the partial products are the gradients' factors.
        partials = [xs[0]]
        for x in xs[1:]:
            partials.append(partials[-1] * x)
        return partials[-1], (xs, partials)

    def _merge_grads(self, saved, output_grad):
        xs, partials = saved
        grads = []
        g = output_grad
        for k in range(len(xs) - 1, 0, -1):  # partials[k] = partials[k - 1] * xs[k]
            grads.append(g * partials[k - 1])
            g = g * xs[k]
        grads.append(g)
        return grads[::-1]


def multiply(inputs, **kwargs):
    """Functional interface to Multiply: Multiply(**kwargs)(inputs)."""
    return Multiply(**kwargs)(inputs)
