"""The gradient a global max pooling passes back, kept sparse."""
from fastembed._kernels._core import pool1d_backward


class MaxStepGrad:
    """d loss / d x for x (batch, steps, channels) that is zero but at one
    step per (sample, channel): dx[b, step[b, c], c] = values[b, c], as a
    GlobalMaxPooling1D passes back. The graph lets a pooling call hand it
    on only to the one call that made its input, when that layer's backward
    takes it (a `takes_max_step_grads` attribute on the backward function,
    as Conv1D's); any other backward gets dense() instead.
    step: (batch, 1, channels) int32; values: (batch, 1, channels) float32."""

    __slots__ = ("step", "values", "steps")

    def __init__(self, step, values, steps):
        self.step, self.values, self.steps = step, values, steps

    def dense(self):
        """The (batch, steps, channels) array: the pooling's own backward."""
        return pool1d_backward(self.values, self.steps, self.steps, 1, 0, "max",
                               argmax=self.step)


def takes_max_step_grads(backward):
    """Mark a layer's backward as one that takes a MaxStepGrad."""
    backward.takes_max_step_grads = True
    return backward
