"""Keras layers, one per file."""
from fastembed.layers.layer import Layer, RowGrad, Variable  # noqa: F401
from fastembed.layers.input_layer import Input, InputLayer  # noqa: F401
from fastembed.layers.embedding import Embedding  # noqa: F401
from fastembed.layers.flatten import Flatten  # noqa: F401
from fastembed.layers.dense import Dense  # noqa: F401
from fastembed.layers.dropout import Dropout  # noqa: F401
from fastembed.layers.lstm import LSTM  # noqa: F401
from fastembed.layers.bidirectional import Bidirectional  # noqa: F401
