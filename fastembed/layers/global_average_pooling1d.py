"""Mean over steps (Keras's GlobalAveragePooling1D); with a mask, the mean of
the unmasked steps (NaN for a sample with none, as in Keras). The mask stops here."""
from fastembed.layers.base_pooling1d import GlobalPooling1D


class GlobalAveragePooling1D(GlobalPooling1D):
    mode = "average"
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None
