"""The bad-input table: every public entry point given a bad argument
raises the vocabulary's exception (dtype/layout TypeError, shape/value
ValueError, index IndexError, size MemoryError), with a message naming the
argument and the value, and leaves the model exactly as it was."""
import numpy as np
import pytest

import fastembed
from fastembed import _kernels, layers, losses, optimizers
from fastembed._kernels import _core
from fastembed.preprocessing.sequence import pad_sequences
from fastembed.preprocessing.text import Tokenizer
from fastembed.preprocessing.vectors import build_embedding_matrix, load_vectors

X = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.int32)
Y = np.array([0, 2])
NAN, INF = np.nan, np.inf


def _model():
    model = fastembed.Sequential([layers.Input((4,), dtype="int32"), layers.Embedding(10, 3),
                                  layers.GlobalAveragePooling1D(), layers.Dense(3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)  # optimizer slots exist: they are state too
    return model


def _dense_model():
    model = fastembed.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((2, 2)), np.ones((2, 1)), epochs=1, verbose=0)
    return model


def _fortran(a):
    return np.asfortranarray(a)


def _strided(a):
    return np.repeat(a, 2, axis=-1)[..., ::2]


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


F = np.zeros((2, 3), np.float32)

# (id, call(model, dense_model), exception, regex naming the argument and value)
CASES = [
    # ---- fit: x ----------------------------------------------------------
    ("fit x nan", lambda m, d: m.fit(X.astype(float) * NAN, Y, verbose=0), ValueError, r"`x` holds a non-finite value: x\[0, 0\] = nan"),
    ("fit x inf", lambda m, d: m.fit(np.where(X > 7, INF, X), Y, verbose=0), ValueError, r"`x` .*x\[1, 3\] = inf"),
    ("fit x -inf", lambda m, d: m.fit(np.where(X > 7, -INF, X), Y, verbose=0), ValueError, r"`x` .*x\[1, 3\] = -inf"),
    ("fit x fraction", lambda m, d: m.fit(X + 0.5, Y, verbose=0), ValueError, r"indices\[\d,\d\] = \d\.5 is not an integer"),
    ("fit x str", lambda m, d: m.fit(X.astype(str), Y, verbose=0), TypeError, r"`x` must be a numeric array, got dtype <U"),
    ("fit x bytes", lambda m, d: m.fit(X.astype(bytes), Y, verbose=0), TypeError, r"`x` must be a numeric array, got dtype \|S"),
    ("fit x complex", lambda m, d: m.fit(X.astype(complex), Y, verbose=0), TypeError, r"`x` .* dtype complex128"),
    ("fit x datetime", lambda m, d: m.fit(X.astype("datetime64[s]"), Y, verbose=0), TypeError, r"`x` .* dtype datetime64"),
    ("fit x ragged", lambda m, d: m.fit([[1, 2], [3]], Y, verbose=0), TypeError, r"`x` must be a numeric array, got ragged"),
    ("fit x generator and y", lambda m, d: m.fit((r for r in X), Y, verbose=0), ValueError, r"streamed data \(generator\), `y` should not be passed"),
    ("fit x bool", lambda m, d: m.fit(X > 4, Y, verbose=0), TypeError, r"indices must be an integer array, got dtype bool"),
    ("fit x float16 fraction", lambda m, d: m.fit(X.astype(np.float16) / 3, Y, verbose=0), ValueError, r"indices\[\d,\d\] = \d\.\d+ is not an integer"),
    ("fit x empty", lambda m, d: m.fit(X[:0], Y[:0], verbose=0), ValueError, r"at least one training sample"),
    ("fit x scalar", lambda m, d: m.fit(np.int32(3), Y, verbose=0), ValueError, r"`x` must have a batch dimension, got a scalar"),
    ("fit x rank", lambda m, d: m.fit(X[0], Y, verbose=0), ValueError, r"expected shape=\(None, 4\), found shape=\(4,\)"),
    ("fit x width", lambda m, d: m.fit(X[:, :3], Y, verbose=0), ValueError, r"expected shape=\(None, 4\), found shape=\(2, 3\)"),
    ("fit x index high", lambda m, d: m.fit(X + 2, Y, verbose=0), IndexError, r"indices\[\d,\d\] = 1[01] is not in \[0, 10\)"),
    ("fit x index negative", lambda m, d: m.fit(X - 2, Y, verbose=0), IndexError, r"indices\[\d,\d\] = -1 is not in \[0, 10\)"),
    ("fit x index huge", lambda m, d: m.fit(X.astype(np.int64) << 40, Y, verbose=0), IndexError, r"indices\[\d,\d\] = \d{13} is not in \[0, 10\)"),
    ("fit x None", lambda m, d: m.fit(None, Y, verbose=0), ValueError, r"`x` must be given"),
    ("fit x dict keys", lambda m, d: m.fit({"bogus": X}, Y, verbose=0), ValueError, r"`x` is a dict whose keys .*unknown: \['bogus'\]"),
    ("fit dense x nan", lambda m, d: d.fit(np.array([[1.0, NAN], [0, 0]]), np.ones((2, 1)), verbose=0), ValueError, r"`x` holds a non-finite value: x\[0, 1\] = nan"),
    ("fit dense x fortran nan", lambda m, d: d.fit(_fortran(np.array([[1.0, 0], [INF, 0]])), np.ones((2, 1)), verbose=0), ValueError, r"x\[1, 0\] = inf"),
    # ---- fit: y ----------------------------------------------------------
    ("fit y label high", lambda m, d: m.fit(X, np.array([0, 3]), verbose=0), ValueError, r"y_true in \[0, 3\), got values in \[0, 3\]"),
    ("fit y label negative", lambda m, d: m.fit(X, np.array([-1, 0]), verbose=0), ValueError, r"y_true in \[0, 3\), got values in \[-1, 0\]"),
    ("fit y label fraction", lambda m, d: m.fit(X, np.array([0, 1.5]), verbose=0), ValueError, r"integer y_true in \[0, 3\), got values in \[0.0, 1.5\]"),
    ("fit y label nan", lambda m, d: m.fit(X, np.array([0, NAN]), verbose=0), ValueError, r"`y` holds a non-finite value: y\[1\] = nan"),
    ("fit y label inf", lambda m, d: m.fit(X, np.array([INF, 0]), verbose=0), ValueError, r"`y` .*y\[0\] = inf"),
    ("fit y str", lambda m, d: m.fit(X, np.array(["a", "b"]), verbose=0), TypeError, r"`y` must be a numeric array, got dtype <U1"),
    ("fit y object", lambda m, d: m.fit(X, [[0], [1, 2]], verbose=0), TypeError, r"`y` must be a numeric array, got ragged"),
    ("fit y count", lambda m, d: m.fit(X, np.array([0, 1, 2]), verbose=0), ValueError, r"x sizes: 2, y sizes: 3"),
    ("fit y None", lambda m, d: m.fit(X, None, verbose=0), ValueError, r"`y` must be given"),
    ("fit dense y nan", lambda m, d: d.fit(np.ones((2, 2)), np.array([[1.0], [NAN]]), verbose=0), ValueError, r"`y` holds a non-finite value: y\[1, 0\] = nan"),
    ("fit dense y readonly inf", lambda m, d: d.fit(np.ones((2, 2)), _readonly(np.array([[INF], [1.0]])), verbose=0), ValueError, r"y\[0, 0\] = inf"),
    # ---- fit: arguments --------------------------------------------------
    ("fit batch_size 0", lambda m, d: m.fit(X, Y, batch_size=0, verbose=0), ValueError, r"`batch_size` must be a positive integer, got 0"),
    ("fit batch_size negative", lambda m, d: m.fit(X, Y, batch_size=-2, verbose=0), ValueError, r"`batch_size` .*got -2"),
    ("fit batch_size str", lambda m, d: m.fit(X, Y, batch_size="8", verbose=0), ValueError, r"`batch_size` .*got '8'"),
    ("fit batch_size float", lambda m, d: m.fit(X, Y, batch_size=2.5, verbose=0), ValueError, r"`batch_size` .*got 2.5"),
    ("fit validation_split high", lambda m, d: m.fit(X, Y, validation_split=1.5, verbose=0), ValueError, r"validation_split must be in \[0, 1\), got 1.5"),
    ("fit validation_split negative", lambda m, d: m.fit(X, Y, validation_split=-0.1, verbose=0), ValueError, r"validation_split .*got -0.1"),
    ("fit unknown kwarg", lambda m, d: m.fit(X, Y, verbose=0, bogus=1), TypeError, r"unexpected keyword argument 'bogus'"),
    ("fit sample_weight length", lambda m, d: m.fit(X, Y, sample_weight=np.ones(3), verbose=0), ValueError, r"`sample_weight` must have one entry per sample \(2\), got shape \(3,\)"),
    ("fit class_weight class", lambda m, d: m.fit(X, Y, class_weight={7: 1.0}, verbose=0), ValueError, r"`class_weight` names class 7, which does not exist"),
    # ---- evaluate / train_on_batch / test_on_batch -------------------------
    ("evaluate y str", lambda m, d: m.evaluate(X, np.array(["0", "1"]), verbose=0), TypeError, r"`y` must be a numeric array, got dtype <U1"),
    ("evaluate y label high", lambda m, d: m.evaluate(X, np.array([0, 7]), verbose=0), ValueError, r"got values in \[0, 7\]"),
    ("evaluate x index high", lambda m, d: m.evaluate(X * 2, Y, verbose=0), IndexError, r"indices\[\d,\d\] = 1[0246] is not in \[0, 10\)"),
    ("evaluate unknown kwarg", lambda m, d: m.evaluate(X, Y, bogus=1), TypeError, r"unexpected keyword argument 'bogus'"),
    ("train_on_batch y nan", lambda m, d: m.train_on_batch(X, np.array([0, NAN])), ValueError, r"`y` .*y\[1\] = nan"),
    ("train_on_batch x str", lambda m, d: m.train_on_batch(X.astype(str), Y), TypeError, r"`x` must be a numeric array, got dtype <U"),
    ("train_on_batch y label high", lambda m, d: m.train_on_batch(X, np.array([3, 3])), ValueError, r"got values in \[3, 3\]"),
    ("test_on_batch y label high", lambda m, d: m.test_on_batch(X, np.array([0, 4])), ValueError, r"got values in \[0, 4\]"),
    # ---- predict ---------------------------------------------------------
    ("predict x str", lambda m, d: m.predict(X.astype(str), verbose=0), TypeError, r"`x` must be a numeric array, got dtype <U"),
    ("predict x index high", lambda m, d: m.predict(X + 5, verbose=0), IndexError, r"indices\[\d,\d\] = 1[0-3] is not in \[0, 10\)"),
    ("predict x fraction", lambda m, d: m.predict(X / 2, verbose=0), ValueError, r"indices\[0,0\] = 0.5 is not an integer"),
    ("predict x nan", lambda m, d: m.predict(X * NAN, verbose=0), ValueError, r"indices\[0,0\] = nan is not an integer"),
    ("predict x width", lambda m, d: m.predict(X[:, :2], verbose=0), ValueError, r"found shape=\(2, 2\)"),
    ("predict x None", lambda m, d: m.predict(None, verbose=0), ValueError, r"`x` must be given"),
    ("predict batch_size 0", lambda m, d: m.predict(X, batch_size=0, verbose=0), ValueError, r"`batch_size` .*got 0"),
    ("predict unknown kwarg", lambda m, d: m.predict(X, bogus=1), TypeError, r"unexpected keyword argument 'bogus'"),
    ("predict dense x complex", lambda m, d: d.predict(np.ones((2, 2), complex), verbose=0), TypeError, r"`x` .*dtype complex128"),
    # ---- compile ---------------------------------------------------------
    ("compile optimizer", lambda m, d: m.compile(optimizer="bogus", loss="mse"), ValueError, r"optimizer identifier: 'bogus'"),
    ("compile loss", lambda m, d: m.compile(optimizer="adam", loss="bogus"), ValueError, r"Unknown loss: 'bogus'"),
    ("compile unknown kwarg", lambda m, d: m.compile(optimizer="adam", loss="mse", bogus=1), TypeError, r"'bogus'"),
    # ---- layers ----------------------------------------------------------
    ("Embedding input_dim 0", lambda m, d: layers.Embedding(0, 3), ValueError, r"`input_dim` must be a positive integer. Received: input_dim=0"),
    ("Embedding input_dim negative", lambda m, d: layers.Embedding(-1, 3), ValueError, r"input_dim=-1"),
    ("Embedding input_dim float", lambda m, d: layers.Embedding(2.5, 3), ValueError, r"input_dim=2.5"),
    ("Embedding input_dim str", lambda m, d: layers.Embedding("10", 3), ValueError, r"input_dim='10'"),
    ("Embedding output_dim 0", lambda m, d: layers.Embedding(10, 0), ValueError, r"output_dim=0"),
    ("Embedding unknown kwarg", lambda m, d: layers.Embedding(10, 3, bogus=1), TypeError, r"\{'bogus': 1\}"),
    ("Embedding huge", lambda m, d: layers.Embedding(10 ** 13, 64).build((None, 4)), MemoryError, r"weight 'embeddings' of shape \(10000000000000, 64\)"),
    ("Dense units 0", lambda m, d: layers.Dense(0), ValueError, r"`units` must be a positive integer. Received: units=0"),
    ("Dense units str", lambda m, d: layers.Dense("a"), ValueError, r"units='a'"),
    ("Dense activation", lambda m, d: layers.Dense(2, activation="bogus"), ValueError, r"Unknown activation: 'bogus'"),
    ("LSTM units negative", lambda m, d: layers.LSTM(-1), ValueError, r"units=-1"),
    ("Conv1D kernel_size 0", lambda m, d: layers.Conv1D(2, 0), ValueError, r"kernel_size=0"),
    ("Conv1D strides 0", lambda m, d: layers.Conv1D(2, 2, strides=0), ValueError, r"strides=0"),
    ("Conv1D padding", lambda m, d: layers.Conv1D(2, 2, padding="bogus"), ValueError, r"padding='bogus'"),
    ("Dropout rate high", lambda m, d: layers.Dropout(1.5), ValueError, r"`rate` must be a number in \[0, 1\]. Received: rate=1.5"),
    ("Dropout rate nan", lambda m, d: layers.Dropout(NAN), ValueError, r"rate=nan"),
    ("MaxPooling1D pool_size 0", lambda m, d: layers.MaxPooling1D(0), ValueError, r"pool_size=0"),
    ("Reshape two unknowns", lambda m, d: layers.Reshape((-1, -1)), ValueError, r"target_shape=\(-1, -1\)"),
    # ---- weights ---------------------------------------------------------
    ("set_weights count", lambda m, d: m.layers[0].set_weights([]), ValueError, r"expects a list of 1 arrays, got 0"),
    ("set_weights shape", lambda m, d: m.layers[0].set_weights([np.zeros((3, 3))]), ValueError, r"'embedding.*/embeddings' has shape \(10, 3\), got an array of shape \(3, 3\)"),
    ("set_weights str", lambda m, d: m.layers[0].set_weights([np.full((10, 3), "a")]), TypeError, r"'embedding.*/embeddings' must be numeric, got an array of dtype <U1"),
    ("model set_weights shape", lambda m, d: m.set_weights([np.zeros((10, 3)), np.zeros((3, 3)), np.zeros(2)]), ValueError, r"shape \(3,\), got an array of shape \(2,\)"),
    # ---- optimizers and losses -------------------------------------------
    ("Adam learning_rate nan", lambda m, d: optimizers.Adam(learning_rate=NAN), ValueError, r"learning_rate .*got nan"),
    ("Adam learning_rate negative", lambda m, d: optimizers.Adam(learning_rate=-1.0), ValueError, r"learning_rate .*got -1.0"),
    ("SGD learning_rate str", lambda m, d: optimizers.SGD(learning_rate="fast"), ValueError, r"learning_rate .*got 'fast'"),
    ("loss y_true label high", lambda m, d: losses.SparseCategoricalCrossentropy()(np.array([5]), np.array([[0.5, 0.5]])), ValueError, r"y_true in \[0, 2\), got values in \[5, 5\]"),
    # ---- preprocessing ---------------------------------------------------
    ("pad_sequences maxlen", lambda m, d: pad_sequences([[1, 2]], maxlen=-1), ValueError, r"maxlen .*got -1"),
    ("pad_sequences padding", lambda m, d: pad_sequences([[1, 2]], padding="middle"), ValueError, r"padding .*got 'middle'"),
    ("pad_sequences truncating", lambda m, d: pad_sequences([[1, 2]], maxlen=1, truncating="middle"), ValueError, r"truncating .*got 'middle'"),
    ("Tokenizer num_words", lambda m, d: Tokenizer(num_words=-1), ValueError, r"num_words .*got -1"),
    ("Tokenizer split", lambda m, d: Tokenizer(split=""), ValueError, r"split .*got ''"),
    ("load_vectors format", lambda m, d: load_vectors("v.txt", format="bogus"), ValueError, r"format must be one of .*got 'bogus'"),
    ("load_vectors vocabulary str", lambda m, d: load_vectors(__file__, vocabulary="word"), TypeError, r"vocabulary must be a collection of words"),
    ("load_vectors vocabulary ints", lambda m, d: load_vectors(__file__, vocabulary=[1]), TypeError, r"vocabulary must hold str words, got 1"),
    ("build_embedding_matrix oov", lambda m, d: build_embedding_matrix({"a": 1}, {"a": [1.0]}, oov="bogus"), ValueError, r"oov must be one of .*got 'bogus'"),
    ("build_embedding_matrix num_words", lambda m, d: build_embedding_matrix({"a": 1}, {"a": [1.0]}, num_words=0), ValueError, r"num_words must be a positive integer, got 0"),
    ("build_embedding_matrix index 0", lambda m, d: build_embedding_matrix({"a": 0}, {"a": [1.0]}), ValueError, r"word_index\['a'\] = 0"),
    # ---- kernels (the Cython boundary) -----------------------------------
    ("kernel d_out float64", lambda m, d: _kernels.embedding_grad(np.zeros((2, 3)), np.zeros(2, np.int64), 5), TypeError, r"d_out must be a float32 array, got float64"),
    ("kernel indices float", lambda m, d: _kernels.embedding_grad(np.zeros((2, 3), np.float32), np.array([0.5, 1]), 5), ValueError, r"indices\[0\] = 0.5 is not an integer"),
    ("kernel indices high", lambda m, d: _kernels.embedding_grad(np.zeros((2, 3), np.float32), np.array([0, 5]), 5), IndexError, r"indices\[1\] = 5 is not in \[0, 5\)"),
    ("kernel loss y_true fortran", lambda m, d: _core.binary_crossentropy_forward(_strided(F), F, False, 0.0), TypeError, r"y_true must be a C-contiguous float32 array"),
    ("kernel lstm x fortran", lambda m, d: _lstm(_fortran), TypeError, r"x must be a C-contiguous float32 array, got a non-contiguous float32"),
    ("kernel lstm x float64", lambda m, d: _lstm(lambda a: a.astype(np.float64)), TypeError, r"x must be a C-contiguous float32 array, got a float64"),
    ("kernel update rule read-only", lambda m, d: _rule_apply(_readonly), TypeError, r"param must be a writeable C-contiguous float32 array"),
    ("kernel update rule grad shape", lambda m, d: _rule_apply(lambda a: a, grad=np.zeros(3, np.float32)), ValueError, r"grad must have shape \(4,\), got \(3,\)"),
    ("kernel update rule grad strided", lambda m, d: _rule_apply(lambda a: a, grad=np.zeros(8, np.float32)[::2]), TypeError, r"grad must be a C-contiguous float32 array, got a non-contiguous"),
]


def _lstm(convert):
    layer = layers.LSTM(5)
    x = np.zeros((2, 4, 3), np.float32)
    layer.build(x.shape)
    return _core.lstm_forward(convert(x), layer.kernel.value, layer.recurrent_kernel.value, None,
                              None, None, None, None, None, {}, None)


def _rule_apply(convert, grad=None):
    rule = _core.UpdateRule("sgd")
    param = convert(np.zeros(4, np.float32))
    return rule.apply_dense(param, (), np.zeros(4, np.float32) if grad is None else grad)


def _state(*models):
    state = []
    for model in models:
        state += [w.value.copy() for w in model.weights]
        state += [np.array(model.optimizer.iterations)]
        state += [s.copy() for s in model.optimizer.variables_state(model.trainable_weights)]
    return state


def test_the_table_is_large_enough():
    assert len(CASES) >= 80
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("name, call, exception, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input(name, call, exception, message):
    model, dense = _model(), _dense_model()
    before = _state(model, dense)
    with pytest.raises(exception, match=message) as raised:
        call(model, dense)
    assert type(raised.value) is exception or exception is ValueError
    after = _state(model, dense)
    assert len(after) == len(before)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
