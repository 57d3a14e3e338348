"""Utilities under Keras's names."""
from fastembed.utils.numerical import to_categorical  # noqa: F401
from fastembed.utils.random import set_random_seed  # noqa: F401
from fastembed.preprocessing.sequence import pad_sequences  # noqa: F401
from fastembed.utils.gradient_check import check_gradients  # noqa: F401
from fastembed.utils.py_dataset import PyDataset  # noqa: F401
