"""The engine: variables, layers, symbolic tensors and the graph executor."""
from fastembed.engine.variable import RowGrad, Variable  # noqa: F401
from fastembed.engine.layer import Context, Layer, record  # noqa: F401
from fastembed.engine.input_layer import Input, InputLayer  # noqa: F401
