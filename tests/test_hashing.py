"""Hashing and the hashes behind it, against published test vectors and
the outputs Keras's and TensorFlow's documentation show."""
import numpy as np
import pytest

from fastembed import get_num_threads, set_num_threads
from fastembed._kernels import _core
from fastembed.layers import Hashing

# FarmHash Fingerprint64 test vectors published with Guava's
# FarmHashFingerprint64 (and its ports): lengths 0..256 cover every branch.
FINGERPRINT64 = {
    b"": 11160318154034397263,
    b"Q": 13816109650407654260,
    b"WW5": 6316074107149058620,
    b"e#p8": 252499459662674074,
    b")D<l91": 6440615040757739207,
    b"#cDR^sLO": 328147020574120176,
    b"K6Pjv<>ad": 16506019169567922731,
    b"bF&d$MYIhB.Ac=qC": 17582099205024456557,
    b"M)(iJ1-nf>5XCc0L?": 9968500208262240300,
    b"wE,gHSvhK Jv=KR#(R |!%vctTJ0fx)": 413905253809041649,
    b"2/?98ns)xbzEVL^:wCS$7l3@_g!zP^<D.-bd6": 9728733090894310797,
    b"F7479877-4690-4A44-AFC9-8FE987EA512F:some_other_id": 6862335115798125349,
    b"test": 8581389452482819506,
    b"test" * 8: (-4196240717365766262) % 2**64,
    b"test" * 64: 3500507768004279527,
}

# SipHash-2-4 reference vectors (the SipHash paper's key 00..0f, message
# 00..len-1): vectors.h of the reference implementation.
SIPHASH24 = {0: 0x726fdb47dd0e0e31, 1: 0x74f839c593dc67fd, 2: 0x0d6c8009d9a94f5a,
             3: 0x85676696d7fb7e2d, 7: 0xab0200f58b01d137, 8: 0x93f5f5799a932462,
             15: 0xa129ca6149be45e5, 63: 0x958a324ceb064572}
SIP_K0, SIP_K1 = 0x0706050403020100, 0x0f0e0d0c0b0a0908


@pytest.mark.parametrize("data", list(FINGERPRINT64))
def test_fingerprint64_published_vectors(data):
    assert _core.fingerprint64(data) == FINGERPRINT64[data]


@pytest.mark.parametrize("length", list(SIPHASH24))
def test_siphash24_reference_vectors(length):
    assert _core.siphash24(SIP_K0, SIP_K1, bytes(range(length))) == SIPHASH24[length]


def test_buckets_are_the_hash_modulo_num_buckets_for_every_input_kind():
    words = [w.decode() for w in FINGERPRINT64]
    expected = np.array([FINGERPRINT64[w.encode()] % 7 for w in words], dtype=np.int64)
    for values in (np.array(words), np.array([w.encode() for w in words]),
                   np.array(words, dtype=object)):
        np.testing.assert_array_equal(_core.hash_buckets(_core.StringBatch(values), 7), expected)


def test_tensorflow_documented_buckets():
    # tf.strings.to_hash_bucket_fast / _strong docstrings
    fast = _core.hash_buckets(_core.StringBatch(["Hello", "TensorFlow", "2.x"]), 3)
    strong = _core.hash_buckets(_core.StringBatch(["Hello", "TF"]), 3, (1, 2))
    np.testing.assert_array_equal(fast, [0, 2, 2])
    np.testing.assert_array_equal(strong, [2, 0])


LETTERS = [["A"], ["B"], ["C"], ["D"], ["E"]]


@pytest.mark.parametrize("kwargs, data, expected", [
    # Keras's Hashing docstring examples
    ({}, LETTERS, [1, 0, 1, 1, 2]),
    ({"mask_value": ""}, [["A"], ["B"], [""], ["C"], ["D"]], [1, 1, 0, 2, 2]),
    ({"salt": [133, 137]}, LETTERS, [1, 2, 1, 0, 2]),
    ({"salt": 133}, LETTERS, [0, 0, 2, 1, 0]),
])
def test_keras_documented_bins(kwargs, data, expected):
    out = Hashing(num_bins=3, **kwargs)(np.array(data))
    assert out.shape == (5, 1) and out.dtype == np.int64
    np.testing.assert_array_equal(out.ravel(), expected)


def test_integers_and_floats_hash_as_their_decimal_text():
    values = np.array([0, 7, -12, 2**62, -2**63], dtype=np.int64)
    text = [str(v).encode() for v in values.tolist()]
    expected = [FINGERPRINT64.get(t, _core.fingerprint64(t)) % 11 for t in text]
    np.testing.assert_array_equal(Hashing(11)(values), expected)
    np.testing.assert_array_equal(Hashing(11)(values.astype(np.int32)[:3]), expected[:3])
    # floats are truncated to int64 first, as tf.cast
    np.testing.assert_array_equal(Hashing(11)(np.array([7.9, -12.2])), expected[1:3])
    salted = [_core.siphash24(5, 9, t) % 11 for t in text]
    np.testing.assert_array_equal(Hashing(11, salt=[5, 9])(values), salted)


def test_mask_value_for_integers():
    values = np.array([[0, 3], [5, 0]])
    out = Hashing(4, mask_value=0)(values)
    rest = [_core.fingerprint64(str(v).encode()) % 3 + 1 for v in (3, 5)]
    np.testing.assert_array_equal(out, [[0, rest[0]], [rest[1], 0]])


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_encoded_output_modes(mode):
    data = np.array([["A", "B", "B"], ["C", "A", "E"]])
    bins = np.array([[_core.fingerprint64(w.encode()) % 5 for w in row] for row in data.tolist()])
    out = Hashing(5, output_mode=mode)(data)
    if mode == "one_hot":
        expected = np.eye(5, dtype=np.float32)[bins]
    else:
        expected = np.zeros((2, 5), np.float32)
        for r, row in enumerate(bins):
            for b in row:
                expected[r, b] = 1 if mode == "multi_hot" else expected[r, b] + 1
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_same_bits_for_any_thread_count():
    rng = np.random.default_rng(0)
    data = np.array([f"user_{i}" for i in rng.integers(0, 10**9, 50_000)])
    threads = get_num_threads()
    try:
        set_num_threads(1)
        one = Hashing(1000, salt=3)(data)
        set_num_threads(2)
        two = Hashing(1000, salt=3)(data)
    finally:
        set_num_threads(threads)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one[:5], [_core.siphash24(3, 3, s.encode()) % 1000
                                            for s in data[:5].tolist()])


@pytest.mark.parametrize("num_bins", [0, -1, None, 2.5])
def test_num_bins_below_one_is_an_error(num_bins):
    with pytest.raises(ValueError, match=f"num_bins={num_bins}"):
        Hashing(num_bins)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="salt"):
        Hashing(3, salt="pepper")
    with pytest.raises(ValueError, match="output_mode=tf_idf"):
        Hashing(3, output_mode="tf_idf")
    with pytest.raises(ValueError, match=r"inputs\[1\] is None"):
        Hashing(3)(np.array(["a", None], dtype=object))
    with pytest.raises(TypeError, match=r"inputs\[1\] = 3 is of type int"):
        Hashing(3)(np.array(["a", 3], dtype=object))
    with pytest.raises(ValueError, match="NaN"):
        Hashing(3)(np.array([1.0, np.nan]))


def test_config_round_trip():
    layer = Hashing(7, mask_value="", salt=[1, 2], output_mode="count", name="h")
    clone = Hashing.from_config(layer.get_config())
    data = np.array([["x", "", "y"]])
    np.testing.assert_array_equal(clone(data), layer(data))
    assert clone.get_config() == layer.get_config()
