"""Keras layers, one per file."""
from fastembed.layers.layer import Layer, RowGrad, Variable  # noqa: F401
