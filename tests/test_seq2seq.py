"""initial_state as a graph input: a seq2seq encoder's states feed a decoder.

Gradients flow back through the states (finite differences), the models
match Keras 3 (predict and a 3-epoch loss history), round-trip through a
.keras file, and wrong states are clear errors when the graph is built."""
import keras
import numpy as np
import pytest

import fastembed
from fastembed import layers
from fastembed.models import Model, load_model
from fastembed.utils import check_gradients
from test_lstm_keras import assert_fit_matches_keras

CELLS = ["LSTM", "GRU", "SimpleRNN"]


def _float_seq2seq(module, cell, units=5):
    encoder_in = module.Input((6, 3))
    decoder_in = module.Input((4, 2))
    _, *states = getattr(module.layers, cell)(units, return_state=True)(encoder_in)
    decoded = getattr(module.layers, cell)(units, return_sequences=True)(
        decoder_in, initial_state=states)
    return Model([encoder_in, decoder_in], decoded) if module is fastembed \
        else keras.Model([encoder_in, decoder_in], decoded)


@pytest.mark.parametrize("cell", CELLS)
def test_state_gradients_reach_the_encoder(cell):
    rng = np.random.default_rng(0)
    model = _float_seq2seq(fastembed, cell)
    x = [rng.standard_normal((3, 6, 3)).astype(np.float32),
         rng.standard_normal((3, 4, 2)).astype(np.float32)]
    check_gradients(model, x, eps=1e-2, max_entries=15)


def test_bidirectional_encoder_states_feed_a_decoder_with_gradients():
    rng = np.random.default_rng(1)
    encoder_in, decoder_in = fastembed.Input((5, 3)), fastembed.Input((4, 2))
    _, *states = layers.Bidirectional(layers.GRU(4, return_state=True))(encoder_in)
    decoded = layers.Bidirectional(layers.GRU(4, return_sequences=True))(
        decoder_in, initial_state=states)
    model = Model([encoder_in, decoder_in], decoded)
    check_gradients(model, [rng.standard_normal((2, 5, 3)).astype(np.float32),
                            rng.standard_normal((2, 4, 2)).astype(np.float32)],
                    eps=1e-2, max_entries=10)


def _token_seq2seq(module, cell):
    encoder_in, decoder_in = module.Input((7,)), module.Input((6,))
    encoded = module.layers.Embedding(40, 8, mask_zero=True)(encoder_in)
    _, *states = getattr(module.layers, cell)(12, return_state=True)(encoded)
    decoded = module.layers.Embedding(30, 8)(decoder_in)
    decoded = getattr(module.layers, cell)(12, return_sequences=True)(
        decoded, initial_state=states)
    probabilities = module.layers.Dense(30, activation="softmax")(decoded)
    build = Model if module is fastembed else keras.Model
    return build([encoder_in, decoder_in], probabilities)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_seq2seq_predict_and_fit_match_keras(cell, tmp_path):
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    source = rng.integers(1, 40, (96, 7))
    source[::3, 5:] = 0
    target = rng.integers(1, 30, (96, 7))
    x, y = [source, target[:, :-1]], target[:, 1:]
    theirs, ours = _token_seq2seq(keras, cell), _token_seq2seq(fastembed, cell)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               atol=1e-5)
    assert_fit_matches_keras(theirs, ours, x, y, "sparse_categorical_crossentropy", 16)
    path = tmp_path / "seq2seq.keras"
    ours.save(path)
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0),
                               ours.predict(x, verbose=0), atol=1e-6)


def test_wrong_states_are_clear_errors_when_building():
    encoder_in, decoder_in = fastembed.Input((6, 3)), fastembed.Input((4, 2))
    _, h, c = layers.LSTM(5, return_state=True)(encoder_in)
    with pytest.raises(ValueError, match=r"initial_state .* 2 state\(s\).*got 1"):
        layers.LSTM(5)(decoder_in, initial_state=[h])
    with pytest.raises(ValueError, match=r"initial_state h .* \(batch, 7\), got \(None, 5\)"):
        layers.GRU(7)(decoder_in, initial_state=h)
    with pytest.raises(NotImplementedError, match="symbolic tensor"):
        layers.GRU(5)(decoder_in, initial_state=[np.zeros((2, 5))])
    with pytest.raises(NotImplementedError, match="not supported in a graph"):
        layers.Dense(5)(decoder_in, initial_state=h)
