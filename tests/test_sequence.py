"""pad_sequences against keras.utils.pad_sequences, the function it copies."""
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed.preprocessing.sequence import pad_sequences

SEQUENCES = st.lists(st.lists(st.integers(-1000, 1000), max_size=9), min_size=1, max_size=8)


def assert_same_as_keras(sequences, **kwargs):
    expected = keras.utils.pad_sequences(sequences, **kwargs)
    got = pad_sequences(sequences, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)
@given(SEQUENCES, st.one_of(st.none(), st.integers(1, 12)), st.sampled_from(["pre", "post"]),
       st.sampled_from(["pre", "post"]), st.sampled_from([0, -1, 7.5]),
       st.sampled_from(["int32", "int64", "float32", "float64"]))
def test_matches_keras(sequences, maxlen, padding, truncating, value, dtype):
    assert_same_as_keras(sequences, maxlen=maxlen, padding=padding, truncating=truncating,
                         value=value, dtype=dtype)


def test_fixed_example():
    seqs = [[1, 2, 3, 4], [5], [], [6, 7]]
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3),
                                  [[2, 3, 4], [0, 0, 5], [0, 0, 0], [0, 6, 7]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=3, padding="post", truncating="post"),
                                  [[1, 2, 3], [5, 0, 0], [0, 0, 0], [6, 7, 0]])
    assert pad_sequences(seqs).shape == (4, 4) and pad_sequences(seqs).dtype == np.int32


@pytest.mark.parametrize("padding, truncating", [("pre", "pre"), ("post", "post"), ("pre", "post")])
def test_sequences_of_vectors_and_arrays_match_keras(padding, truncating):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 3)) for n in (4, 0, 2, 6)]
    assert_same_as_keras(seqs, maxlen=5, dtype="float32", padding=padding, truncating=truncating)


def test_float_values_are_cast_like_keras():
    assert_same_as_keras([[1.7, -2.2], [3.9]])  # int32 by default: truncated toward 0


def test_strings_with_object_dtype_match_keras():
    assert_same_as_keras([["a", "b"], ["c"]], dtype=object, value="<pad>")


def test_maxlen_zero_gives_empty_rows():
    assert pad_sequences([[1, 2], [3]], maxlen=0).shape == (2, 0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(padding="middle"), 'padding must be "pre" or "post", got \'middle\''),
    (dict(truncating="both"), 'truncating must be "pre" or "post", got \'both\''),
    (dict(maxlen=-1), "maxlen must be a non-negative integer or None, got -1"),
    (dict(maxlen=2.5), "maxlen must be"),
    (dict(value="x"), "use dtype=object"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        pad_sequences([[1, 2]], **kwargs)


def test_bad_sequences():
    with pytest.raises(ValueError, match=r"sequences\[1\] = 5 is not a sequence"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="must be a list of sequences"):
        pad_sequences(iter([[1]]))
    with pytest.raises(ValueError, match=r"sequences\[1\] has items of shape \(3,\), expected \(2,\)"):
        pad_sequences([np.zeros((2, 2)), np.zeros((1, 3))], dtype="float32")


def test_importable_under_keras_names():
    from fastembed.preprocessing.sequence import pad_sequences as a
    from fastembed.utils import pad_sequences as b
    assert a is b
