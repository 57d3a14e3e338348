"""Keras layers, one per file."""
from fastembed.engine.layer import Layer  # noqa: F401
from fastembed.engine.input_layer import Input, InputLayer  # noqa: F401
from fastembed.layers.embedding import Embedding  # noqa: F401
from fastembed.layers.flatten import Flatten  # noqa: F401
from fastembed.layers.dense import Dense  # noqa: F401
from fastembed.layers.dropout import Dropout  # noqa: F401
from fastembed.layers.lstm import LSTM  # noqa: F401
from fastembed.layers.gru import GRU  # noqa: F401
from fastembed.layers.simple_rnn import SimpleRNN  # noqa: F401
from fastembed.layers.conv1d import Conv1D, Conv1D as Convolution1D  # noqa: F401
from fastembed.layers.max_pooling1d import MaxPooling1D, MaxPooling1D as MaxPool1D  # noqa: F401
from fastembed.layers.average_pooling1d import (AveragePooling1D,  # noqa: F401
                                                AveragePooling1D as AvgPool1D)
from fastembed.layers.global_max_pooling1d import (GlobalMaxPooling1D,  # noqa: F401
                                                   GlobalMaxPooling1D as GlobalMaxPool1D)
from fastembed.layers.global_average_pooling1d import (  # noqa: F401
    GlobalAveragePooling1D, GlobalAveragePooling1D as GlobalAvgPool1D)
from fastembed.layers.spatial_dropout1d import SpatialDropout1D  # noqa: F401
from fastembed.layers.bidirectional import Bidirectional  # noqa: F401
from fastembed.layers.add import Add, add  # noqa: F401
from fastembed.layers.subtract import Subtract, subtract  # noqa: F401
from fastembed.layers.multiply import Multiply, multiply  # noqa: F401
from fastembed.layers.average import Average, average  # noqa: F401
from fastembed.layers.maximum import Maximum, maximum  # noqa: F401
from fastembed.layers.minimum import Minimum, minimum  # noqa: F401
from fastembed.layers.concatenate import Concatenate, concatenate  # noqa: F401
from fastembed.layers.dot import Dot, dot  # noqa: F401
from fastembed.layers.reshape import Reshape  # noqa: F401
from fastembed.layers.repeat_vector import RepeatVector  # noqa: F401
from fastembed.layers.permute import Permute  # noqa: F401
from fastembed.layers.activation import Activation  # noqa: F401
from fastembed.layers.time_distributed import TimeDistributed  # noqa: F401
from fastembed.layers.masking import Masking  # noqa: F401
from fastembed.layers.gaussian_noise import GaussianNoise  # noqa: F401
from fastembed.layers.activity_regularization import ActivityRegularization  # noqa: F401
from fastembed.layers.layer_normalization import LayerNormalization  # noqa: F401
from fastembed.layers.batch_normalization import BatchNormalization  # noqa: F401
from fastembed.layers.category_encoding import CategoryEncoding  # noqa: F401
from fastembed.layers.string_lookup import StringLookup  # noqa: F401
from fastembed.layers.integer_lookup import IntegerLookup  # noqa: F401
from fastembed.layers.hashing import Hashing  # noqa: F401
from fastembed.layers.normalization import Normalization  # noqa: F401
from fastembed.layers.discretization import Discretization  # noqa: F401
from fastembed.layers.text_vectorization import TextVectorization  # noqa: F401
