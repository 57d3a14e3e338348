"""ActivityRegularization: the identity, adding l1 * sum(|x|) + l2 * sum(x^2)
of its input (divided by the batch size, as any activity regularizer) to the
training loss."""
import numpy as np

from fastembed import regularizers
from fastembed.engine.layer import Layer


class ActivityRegularization(Layer):
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)  # Keras's config never has it; l1, l2 say it
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = self.activity_regularizer.l1, self.activity_regularizer.l2

    def forward(self, context, inputs, training=False, mask=None):
        return np.asarray(inputs, dtype=np.float32)

    def backward(self, context, output_grads):
        # The executor has added the penalty's gradient to output_grads.
        return np.asarray(output_grads, np.float32) if context.needs_input_grad else None

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
