"""Regression tests for the faults a sanitizer and fuzzing probe found
(/work/shared/SANITIZERS.md items 1-5); each also runs in the sanitizer build
of .ci/sanitize, where the undefined behaviour or freed memory is reported."""
import decimal
import io
import json
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import fastembed
from fastembed import layers
from fastembed._kernels._core import VectorParser
from fastembed.preprocessing.vectors import VectorFileError, load_vectors


# ---- 1: a NaN reaching the LSTM's exp must not be converted to an integer ----
def test_lstm_propagates_nan_on_every_isa(isa):
    model = fastembed.Sequential([layers.Input((4,), dtype="int32"), layers.Embedding(3, 2),
                                  layers.LSTM(1)])
    embeddings = model.layers[0].weights[0]
    embeddings.assign(np.full((3, 2), np.nan, np.float32))
    out = model.predict(np.array([[0, 1, 2, 1]]), verbose=0)
    assert out.shape == (1, 1) and np.isnan(out).all()


# ---- 2: the parser's outputs are handed over once and never written again ----
def test_vector_parser_refuses_feed_after_finish():
    parser = VectorParser(0, False)
    data = b"a 1 2\nb 3 4\n"
    assert parser.feed(data, len(data), False) == (0, len(data))
    rows, lines, words = parser.finish()
    np.testing.assert_array_equal(rows, [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="feed\\(\\) after finish"):
        parser.feed(b"c 5 6\n", 6, True)
    with pytest.raises(ValueError, match="already called"):
        parser.finish()
    np.testing.assert_array_equal(rows, [[1, 2], [3, 4]])


def test_vector_parser_outputs_are_private():
    parser = VectorParser(2, False)
    for name in ("rows", "ids", "lines", "words"):
        assert not hasattr(parser, name)


# ---- 3: allocations follow the bytes in the file, not its header ----------
def _write(tmp_path, data, name="v.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("header", [b"1 " + b"9" * 20, b"9" * 20 + b" 3", b"1 1099511627777"])
@pytest.mark.parametrize("format", ["word2vec", "word2vec_binary"])
def test_header_numbers_beyond_the_limits(tmp_path, header, format):
    path = _write(tmp_path, header + b"\na 1 2 3\n")
    with pytest.raises(VectorFileError, match="line 1: the header declares"):
        load_vectors(path, format=format)


@pytest.mark.parametrize("data, format", [
    (b"1 1000000000000\n", "fasttext"),
    (b"1 1000000000000\na 1 2\n", "fasttext"),
    (b"1000000 1000\n", "word2vec_binary"),
    (b"1000000 1000\nab 1 2 3\n", "word2vec"),
])
def test_header_claims_allocate_nothing(tmp_path, data, format):
    path = _write(tmp_path, data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(VectorFileError, match="header declares"):
            load_vectors(path, format=format)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20  # the 4 MiB chunk buffer and small change, not GBs
    assert time.perf_counter() - start < 5


def test_one_long_glove_line_allocates_one_row_not_a_thousand(tmp_path):
    values = np.arange(300_000, dtype=np.float32) % 10
    path = _write(tmp_path, b"w " + " ".join(str(int(v)) for v in values).encode() + b"\n")
    tracemalloc.start()
    try:
        vectors = load_vectors(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(vectors["w"], values)
    assert peak < 64 << 20  # was 1.27 GB: 1,024 rows of 300,000 floats


def test_rows_still_grow_past_the_first_chunk(tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.integers(-9, 9, (5000, 3)).astype(np.float32)
    text = "".join(f"w{i} " + " ".join(str(int(v)) for v in row) + "\n"
                   for i, row in enumerate(matrix))
    path = _write(tmp_path, f"{len(matrix)} 3\n{text}".encode())
    vectors = load_vectors(path, format="word2vec", vocabulary=[f"w{i}" for i in range(0, 5000, 2)])
    np.testing.assert_array_equal(vectors.matrix, matrix[::2])


# ---- 4: rounding decided by a digit past the 780th ------------------------
def test_digits_beyond_the_kept_ones_still_round_like_python(tmp_path):
    # t lies halfway between two doubles, the lower of which is a float32 tie
    # (1 + 2**-24) whose even neighbour is 1.0: truncating the trailing 1
    # rounds t to that tie and then to 1.0; Python float() rounds t up.
    with decimal.localcontext(prec=100):  # exact: t has 54 significant digits
        t = decimal.Decimal(1) + decimal.Decimal(2) ** -24 + decimal.Decimal(2) ** -53
    digits = format(t, "f")
    assert len(digits) == 55
    text = digits + "0" * (800 - len(digits)) + "1"
    expected = np.float32(float(text))
    assert expected == np.float32(1 + 2 ** -23)  # the test's own premise
    path = _write(tmp_path, f"w {text} -{text}\n".encode())
    np.testing.assert_array_equal(load_vectors(path)["w"], [expected, -expected])


# ---- 5: malformed model files raise ValueError and change nothing ---------
def _model():
    model = fastembed.Sequential([layers.Input((3,), dtype="int32"), layers.Embedding(5, 2),
                                  layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _npz(**entries):
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    return buffer.getvalue()


def _zip(**members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _text(value):
    return np.frombuffer(value.encode(), np.uint8)


def _model_file(metadata):
    return _npz(__fastembed_format__=_text("fastembed-model-1"),
                __metadata__=_text(json.dumps(metadata)))


MALFORMED = {
    "empty": b"",
    "not a zip": b"PK\x03\x04 not really",
    "bzip2 member": None,  # built below: zipfile's NotImplementedError
    "not npy": _zip(**{"__fastembed_format__.npy": b"raw bytes"}),
    "npy without header": _zip(**{"a": b"plain member"}),
    "bad npy header": _zip(**{"a.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4', }  \n"}),
    "huge shape": _zip(**{"a.npy": b"\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': "
                                   b"False, 'shape': (99999999999999999999,), }\n"}),
    "string array": _npz(__fastembed_format__=np.array(["fastembed-model-1"])),
    "format not utf-8": _npz(__fastembed_format__=np.array([255, 254], np.uint8)),
    "metadata a list": _npz(__fastembed_format__=_text("fastembed-model-1"),
                            __metadata__=_text("[1, 2]")),
    "metadata not json": _npz(__fastembed_format__=_text("fastembed-model-1"),
                              __metadata__=_text("{")),
    "no config": _model_file({"class_name": "Sequential"}),
    "config a number": _model_file({"class_name": "Sequential", "config": 3}),
    "layers a string": _model_file({"class_name": "Sequential", "config": {"layers": "x"}}),
    "layer config wrong": _model_file({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"units": "many"}}]}}),
    "unknown class": _model_file({"class_name": "Pickle", "config": {}}),
}


def _bzip2_member():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as archive:
        archive.writestr("a.npy", b"x" * 10)
    data = bytearray(buffer.getvalue())
    # Compression method 99 (AES) in both headers: zipfile cannot read it.
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(marker)
        offset = 8 if marker == b"PK\x03\x04" else 10
        data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
    return bytes(data)


MALFORMED["bzip2 member"] = _bzip2_member()


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_model_file_raises_value_error(tmp_path, case):
    path = _write(tmp_path, MALFORMED[case], "m.npz")
    with pytest.raises(ValueError, match="m.npz"):
        fastembed.models.load_model(path)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_weights_file_leaves_the_model_unchanged(tmp_path, case):
    model = _model()
    before = [w.value.copy() for w in model.weights]
    path = _write(tmp_path, MALFORMED[case], "w.npz")
    with pytest.raises(ValueError, match="w.npz"):
        model.load_weights(path)
    for value, weight in zip(before, model.weights):
        np.testing.assert_array_equal(weight.value, value)
