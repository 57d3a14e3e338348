"""Pretrained-vector loaders and build_embedding_matrix.

Reference values come from parsing the same text in the test with Python's
float() and numpy's float32 cast (what gensim and numpy do), and from the
Keras example's loop for the embedding matrix.
"""
import gzip
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed.preprocessing import vectors as vectors_module
from fastembed.preprocessing import (
    VectorFileError,
    WordVectors,
    build_embedding_matrix,
    load_vectors,
)

WORDS = ["the", "café", "naïve", "日本語", "emoji🙂", "a.b-c", "Straße"]


def reference_vectors(n_words=len(WORDS), dim=5, seed=0):
    rng = np.random.default_rng(seed)
    return WORDS[:n_words], rng.standard_normal((n_words, dim)).astype(np.float32)


def text_lines(words, matrix, fmt="{:.6g}"):
    return [w + " " + " ".join(fmt.format(x) for x in row) for w, row in zip(words, matrix)]


def parse_reference(lines):
    """words and float32 matrix of "word x1 ... xd" lines, in numpy."""
    fields = [line.split() for line in lines if line.strip()]
    return [f[0] for f in fields], np.array([[np.float32(float(x)) for x in f[1:]] for f in fields],
                                            dtype=np.float32)


def write(path, content, compress=False):
    data = content.encode("utf-8") if isinstance(content, str) else content
    if compress:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def binary_file(words, matrix, count=None, dim=None, newline=b"\n"):
    count = len(words) if count is None else count
    dim = matrix.shape[1] if dim is None else dim
    out = [f"{count} {dim}\n".encode()]
    for w, row in zip(words, matrix):
        out.append(w.encode("utf-8") + b" " + row.astype("<f4").tobytes() + newline)
    return b"".join(out)


def assert_vectors(v, words, matrix):
    assert isinstance(v, WordVectors)
    assert v.words == list(words)
    assert v.matrix.dtype == np.float32 and v.matrix.flags.c_contiguous
    np.testing.assert_array_equal(v.matrix, matrix)
    assert v.index == {w: i for i, w in enumerate(words)}


# ---- formats ----------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_glove_text(tmp_path, compress):
    lines = text_lines(*reference_vectors())
    path = write(tmp_path / "g.txt", "\n".join(lines) + "\n", compress)
    assert_vectors(load_vectors(path, "glove"), *parse_reference(lines))


@pytest.mark.parametrize("fmt", ["word2vec", "fasttext"])
@pytest.mark.parametrize("compress", [False, True])
def test_word2vec_and_fasttext_text(tmp_path, fmt, compress):
    words, matrix = reference_vectors(dim=4)
    lines = text_lines(words, matrix, "{:.9e}")
    path = write(tmp_path / "w.vec", f"{len(words)} 4\n" + "\n".join(lines) + "\n", compress)
    v = load_vectors(path, fmt)
    assert_vectors(v, *parse_reference(lines))
    np.testing.assert_array_equal(v["café"], matrix[1])  # 9 digits round-trip float32


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("newline", [b"\n", b""])
def test_word2vec_binary(tmp_path, compress, newline):
    words, matrix = reference_vectors(dim=6)
    path = write(tmp_path / "w.bin", binary_file(words, matrix, newline=newline), compress)
    assert_vectors(load_vectors(path, "word2vec_binary"), words, matrix)


def test_binary_floats_may_contain_separator_bytes(tmp_path):
    # 0x20 (space) and 0x0a (newline) bytes inside the float32 payload.
    matrix = np.frombuffer(b"\x20\x0a\x20\x3f" * 2 + b"\x0a\x0a\x0a\x3f" * 2, "<f4").reshape(2, 2)
    path = write(tmp_path / "w.bin", binary_file(["x", "y"], matrix))
    assert_vectors(load_vectors(path, "word2vec_binary"), ["x", "y"], matrix)


def test_crlf_tabs_trailing_spaces_and_blank_lines(tmp_path):
    content = "the 1 2.5\t-3 \r\n\r\n  \ncafé\t4  5e-1 .25\t \r\nlast -0.0 1E2 +7"
    v = load_vectors(write(tmp_path / "g.txt", content), "glove")
    assert_vectors(v, ["the", "café", "last"],
                   np.array([[1, 2.5, -3], [4, 0.5, 0.25], [-0.0, 100, 7]], np.float32))
    assert np.signbit(v.matrix[2, 0])


@pytest.mark.parametrize("fmt, header", [("glove", ""), ("word2vec", "1 2\n")])
@pytest.mark.parametrize("compress", [False, True])
def test_utf8_byte_order_mark_is_skipped(tmp_path, fmt, header, compress):
    path = write(tmp_path / "g.txt", ("\ufeff" + header + "été 1 2\n"), compress)
    assert_vectors(load_vectors(path, fmt), ["été"], np.array([[1, 2]], np.float32))


def test_empty_lines_do_not_count_against_the_header(tmp_path):
    path = write(tmp_path / "w.txt", "2 2\n\na 1 2\n\nb 3 4\n\n")
    assert load_vectors(path, "word2vec").words == ["a", "b"]


def test_header_with_zero_vectors(tmp_path):
    v = load_vectors(write(tmp_path / "w.txt", "0 3\n"), "word2vec")
    assert len(v) == 0 and v.matrix.shape == (0, 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-3e38, max_value=3e38).map(repr),
    st.from_regex(r"\A[-+]?[0-9]{0,30}\.[0-9]{1,40}([eE][-+]?[0-9]{1,2})?\Z"),
    st.from_regex(r"\A[-+]?[0-9]{1,25}([eE][-+]?[0-9]{1,2})?\Z"),
), min_size=1, max_size=12))
def test_numbers_round_as_python_float_then_float32(tmp_path_factory, tokens):
    tokens = [t for t in tokens if abs(float(t)) < 3.4e38]
    if not tokens:
        return
    path = tmp_path_factory.mktemp("num") / "n.txt"
    path.write_text("w " + " ".join(tokens) + "\n")
    expected = np.array([np.float32(float(t)) for t in tokens], np.float32)
    got = load_vectors(path, "glove").matrix[0]
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_number_close_to_a_float32_midpoint(tmp_path):
    # Correct float32 rounding (strtof) would give 0xbf5f6541; float() then
    # float32, as numpy and gensim do, gives 0xbf5f6542.
    token = "-8.72648566961288452148e-01"
    v = load_vectors(write(tmp_path / "g.txt", f"w {token}\n"), "glove")
    assert v.matrix[0].view(np.uint32)[0] == np.float32(float(token)).view(np.uint32)


def comma_locale(tmp_path, monkeypatch):
    """Switch LC_NUMERIC to de_DE (decimal comma), compiling it if needed."""
    locale = pytest.importorskip("locale")
    try:
        return locale.setlocale(locale.LC_NUMERIC, "de_DE.UTF-8")
    except locale.Error:
        pass
    if shutil.which("localedef") is None:
        pytest.skip("no de_DE locale and no localedef")
    subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(tmp_path / "de_DE.UTF-8")],
                   check=False, capture_output=True)
    monkeypatch.setenv("LOCPATH", str(tmp_path))
    try:
        return locale.setlocale(locale.LC_NUMERIC, "de_DE.UTF-8")
    except locale.Error:
        pytest.skip("could not build the de_DE locale")


def test_decimal_comma_locale_does_not_matter(tmp_path, monkeypatch):
    import locale
    old = locale.setlocale(locale.LC_NUMERIC)
    long = "0." + "1" * 40  # long mantissas take the strtod path
    path = write(tmp_path / "g.txt", f"w 1.5 {long} 2.5e-3\n")
    comma_locale(tmp_path, monkeypatch)
    try:
        assert locale.localeconv()["decimal_point"] == ","
        v = load_vectors(path, "glove")
    finally:
        locale.setlocale(locale.LC_NUMERIC, old)
    np.testing.assert_array_equal(v.matrix[0], np.float32([1.5, float(long), 2.5e-3]))


@pytest.mark.parametrize("chunk", [1, 3, 17])
@pytest.mark.parametrize("fmt", ["glove", "word2vec_binary"])
def test_tiny_chunks_give_the_same_result(tmp_path, monkeypatch, chunk, fmt):
    words, matrix = reference_vectors(dim=9)
    if fmt == "glove":
        lines = text_lines(words, matrix)
        path = write(tmp_path / "g.txt", "\n".join(lines))
        words, matrix = parse_reference(lines)
    else:
        path = write(tmp_path / "g.bin", binary_file(words, matrix))
    monkeypatch.setattr(vectors_module, "CHUNK_SIZE", chunk)
    assert_vectors(load_vectors(path, fmt), words, matrix)
    assert_vectors(load_vectors(path, fmt, vocabulary=words[::2]), words[::2], matrix[::2])


def test_many_rows_and_long_words_grow_the_buffers(tmp_path):
    rng = np.random.default_rng(1)
    words = [f"w{i}" + "x" * int(rng.integers(0, 60)) for i in range(5000)]
    matrix = rng.integers(-1000, 1000, (5000, 3)).astype(np.float32) / 8
    path = write(tmp_path / "g.txt", "\n".join(text_lines(words, matrix, "{}")))
    assert_vectors(load_vectors(path, "glove"), words, matrix)


# ---- vocabulary filter --------------------------------------------------------
@pytest.mark.parametrize("fmt", ["glove", "word2vec", "word2vec_binary"])
def test_vocabulary_keeps_only_its_words_in_file_order(tmp_path, fmt):
    words, matrix = reference_vectors(dim=3)
    if fmt == "word2vec_binary":
        path = write(tmp_path / "v", binary_file(words, matrix))
    else:
        lines = text_lines(words, matrix, "{:.9e}")
        header = f"{len(words)} 3\n" if fmt == "word2vec" else ""
        path = write(tmp_path / "v", header + "\n".join(lines))
    vocab = {"Straße": 1, "the": 2, "missing": 3, "日本語": 4}  # a word_index works too
    v = load_vectors(path, fmt, vocabulary=vocab)
    order = [0, 3, 6]
    assert_vectors(v, [words[i] for i in order], matrix[order])


def test_vocabulary_is_exact_bytes_not_prefixes(tmp_path):
    path = write(tmp_path / "g.txt", "cat 1\ncats 2\nca 3\ncaté 4\n")
    assert load_vectors(path, vocabulary=["cat", "caté"]).words == ["cat", "caté"]
    assert len(load_vectors(path, vocabulary=[])) == 0


def test_vocabulary_skips_other_lines_unparsed(tmp_path):
    # Numbers of words outside the vocabulary are not parsed (that is the point
    # of the filter); the line and header counts are still checked.
    path = write(tmp_path / "w.txt", "2 2\nskip 1 not-a-number\nkeep 3 4\n")
    assert load_vectors(path, "word2vec", vocabulary=["keep"]).words == ["keep"]
    with pytest.raises(VectorFileError, match="line 2: number 2, 'not-a-number'"):
        load_vectors(path, "word2vec")


def test_memory_is_bounded_by_what_is_kept(tmp_path, monkeypatch):
    tracemalloc = pytest.importorskip("tracemalloc")
    row = " " + " ".join(["-0.12345"] * 50)
    path = write(tmp_path / "g.txt", "".join(f"w{i}{row}\n" for i in range(20_000)))  # 8.6 MB
    monkeypatch.setattr(vectors_module, "CHUNK_SIZE", 1 << 16)
    vocab = [f"w{i}" for i in range(0, 20_000, 2000)]
    tracemalloc.start()
    try:
        v = load_vectors(path, vocabulary=vocab)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert v.words == vocab and v.matrix.shape == (10, 50)
    assert peak < 400_000, peak  # a 64 KB chunk, its copy and the kept rows; not the file


@pytest.mark.parametrize("vocabulary, error", [("the", TypeError), ([b"the"], TypeError),
                                               ([1], TypeError)])
def test_bad_vocabulary(tmp_path, vocabulary, error):
    path = write(tmp_path / "g.txt", "the 1\n")
    with pytest.raises(error, match="vocabulary"):
        load_vectors(path, vocabulary=vocabulary)


# ---- duplicates ---------------------------------------------------------------
@pytest.mark.parametrize("use_vocab", [False, True])
def test_duplicate_words_keep_the_first_with_a_warning(tmp_path, use_vocab):
    path = write(tmp_path / "g.txt", "a 1 1\nb 2 2\na 3 3\nc 4 4\nb 5 5\n")
    with pytest.warns(UserWarning, match=r"g.txt: 2 duplicate words \(first: 'a' at line 3\)"):
        v = load_vectors(path, vocabulary=["a", "b", "c"] if use_vocab else None)
    assert_vectors(v, ["a", "b", "c"], np.array([[1, 1], [2, 2], [4, 4]], np.float32))


def test_duplicate_words_in_binary_file(tmp_path):
    matrix = np.arange(6, dtype=np.float32).reshape(3, 2)
    path = write(tmp_path / "w.bin", binary_file(["ü", "v", "ü"], matrix))
    with pytest.warns(UserWarning, match="first: 'ü' at record 3"):
        v = load_vectors(path, "word2vec_binary")
    assert_vectors(v, ["ü", "v"], matrix[:2])


# ---- malformed files ------------------------------------------------------------
def expect_error(path, fmt, where, what, **kwargs):
    pattern = re.escape(f"{path}: {where}") + ".*" + what
    with pytest.raises(VectorFileError, match=pattern):
        load_vectors(path, fmt, **kwargs)


@pytest.mark.parametrize("content, fmt, where, what", [
    ("a 1 2 3\nb 1 2\n", "glove", "line 2: ", r"expected 3 numbers .*found 2"),
    ("a 1 2 3\n\nb 1 2 3 4\n", "glove", "line 3: ", r"expected 3 numbers .*found 4"),
    ("a\n", "glove", "line 1: ", "a word without numbers"),
    ("a 1\nb\n", "glove", "line 2: ", "expected 1 numbers after the word .*, found 0"),
    ("2 3\na 1 2 3\nb 1 2\n", "word2vec", "line 3: ", r"expected 3 numbers after the word \(the header declares\), found 2"),
    ("2 3\na 1 2 3 4\nb 1 2 3\n", "word2vec", "line 2: ", "found 4"),
    ("a 1 x 3\n", "glove", "line 1: ", r"number 2, 'x', is not"),
    ("a 1 2\nb 1.2.3 2\n", "glove", "line 2: ", r"number 1, '1.2.3'"),
    ("a 1 2\nb 1 nan\n", "glove", "line 2: ", "number 2, 'nan'"),
    ("a 1 2\nb inf 1\n", "glove", "line 2: ", "number 1, 'inf'"),
    ("a 1 2\nb 1e 1\n", "glove", "line 2: ", "number 1, '1e'"),
    ("a 1 2\nb 1 1e39\n", "glove", "line 2: ", "number 2, '1e39'"),
    ("a 1 2\nb 1 --1\n", "glove", "line 2: ", "number 2, '--1'"),
    ("a 1 2\nb 1 1,5\n", "glove", "line 2: ", "number 2, '1,5'"),
    ("a 1 2\r\nb 1 .\r\n", "glove", "line 2: ", "number 2, '.'"),
    ("3 2\na 1 2\nb 3 4\n", "word2vec", "the header declares 3 vectors but the file holds 2",
     r" \(it ends at line 3\)"),
    ("1 2\na 1 2\nb 3 4\n", "word2vec", "line 3: ", "more vectors than the 1 the header declares"),
    ("a 1 2\n", "word2vec", "line 1: ", "expected a header 'count dim'"),
    ("2 0\n", "word2vec", "line 1: ", "expected a header"),
    ("2 x\na 1\n", "fasttext", "line 1: ", "expected a header"),
    ("", "glove", "no vectors found", ""),
])
def test_malformed_text(tmp_path, content, fmt, where, what):
    expect_error(write(tmp_path / "bad.txt", content), fmt, where, what)


def test_malformed_line_among_many_names_its_line(tmp_path, monkeypatch):
    lines = [f"w{i} {i} {i}" for i in range(3000)]
    lines[2500] = "w2500 1 2 3"
    monkeypatch.setattr(vectors_module, "CHUNK_SIZE", 1000)
    expect_error(write(tmp_path / "bad.txt", "\n".join(lines)), "glove", "line 2501: ", "found 3")


def test_invalid_utf8_word(tmp_path):
    path = write(tmp_path / "bad.txt", b"ok 1\ncaf\xe9 2\n")
    expect_error(path, "glove", "line 2: ", re.escape(r"word b'caf\xe9' is not valid UTF-8"))


@pytest.mark.parametrize("body, where, what", [
    # the last record stops inside its floats, or inside its word
    (lambda m: binary_file(["a", "b"], m)[:-6], "record 2: ", "ends inside this record"),
    (lambda m: binary_file(["a"], m[:1], count=2) + b"\nbb", "record 2: ", "ends inside this record"),
    (lambda m: binary_file(["a", "b"], m, count=3), "the header declares 3 vectors but the file holds 2", ""),
    (lambda m: binary_file(["a", "b"], m, count=1), "record 2: ", "data after the 1 records"),
    (lambda m: binary_file(["a", "b"], np.array([[1, 2, np.nan], [1, 2, 3]], np.float32)),
     "record 1: ", "value 3 of the vector is not finite"),
    (lambda m: b"2 3 4\n", "line 1: ", "expected a header"),
])
def test_malformed_binary(tmp_path, body, where, what):
    matrix = np.ones((2, 3), np.float32)
    expect_error(write(tmp_path / "bad.bin", body(matrix)), "word2vec_binary", where, what)


def test_binary_with_wrong_dim_in_header_is_caught(tmp_path):
    # Records of 15 bytes ("a " + 3 floats + "\n") read as 4 floats: record 1
    # takes bytes 0-17, record 2 the word at 18-30 and floats 32-47, record 3
    # needs bytes 62-77 of a 75-byte body.
    matrix = np.ones((5, 3), np.float32)
    expect_error(write(tmp_path / "bad.bin", binary_file(list("abcde"), matrix, dim=4)),
                 "word2vec_binary", "record 3: ", "ends inside this record")


def test_truncated_and_corrupt_gzip(tmp_path):
    data = gzip.compress(("\n".join(text_lines(*reference_vectors()))).encode())
    expect_error(write(tmp_path / "t.gz", data[:-12]), "glove", "corrupt gzip data", "")
    corrupt = data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:]
    expect_error(write(tmp_path / "c.gz", corrupt), "glove", "corrupt gzip data", "")


def test_bad_arguments(tmp_path):
    path = write(tmp_path / "g.txt", "a 1\n")
    with pytest.raises(ValueError, match="format must be one of .* got 'csv'"):
        load_vectors(path, "csv")
    with pytest.raises(FileNotFoundError):
        load_vectors(tmp_path / "missing.txt")


# ---- build_embedding_matrix -------------------------------------------------------
def keras_example_matrix(word_index, embeddings_index, num_words, dim):
    """The loop of the Keras pretrained-embeddings example (zeros for misses)."""
    matrix = np.zeros((num_words, dim))
    hits = 0
    for word, i in word_index.items():
        if i >= num_words:
            continue
        vector = embeddings_index.get(word)
        if vector is not None:
            matrix[i] = vector
            hits += 1
    return matrix.astype(np.float32), hits


@pytest.fixture
def loaded(tmp_path):
    words, matrix = reference_vectors(dim=4)
    path = write(tmp_path / "g.txt", "\n".join(text_lines(words, matrix, "{:.9e}")))
    return load_vectors(path)


WORD_INDEX = {"<oov>": 1, "the": 2, "unknown": 3, "café": 4, "日本語": 5, "rare": 6, "Straße": 7}


@pytest.mark.parametrize("num_words", [None, 5, 12])
def test_matrix_matches_the_keras_example(loaded, num_words):
    n = 8 if num_words is None else num_words
    embeddings_index = {w: loaded.matrix[i] for i, w in enumerate(loaded.words)}
    expected, hits = keras_example_matrix(WORD_INDEX, embeddings_index, n, 4)
    matrix, coverage = build_embedding_matrix(WORD_INDEX, loaded, num_words=num_words)
    assert matrix.dtype == np.float32 and matrix.shape == (n, 4)
    np.testing.assert_array_equal(matrix, expected)
    assert coverage == hits == {None: 4, 5: 2, 12: 4}[num_words]
    # A plain dict of vectors gives the same matrix.
    np.testing.assert_array_equal(build_embedding_matrix(WORD_INDEX, embeddings_index,
                                                         num_words=num_words)[0], expected)


def test_oov_uniform(loaded):
    matrix, coverage = build_embedding_matrix(WORD_INDEX, loaded, oov="uniform", seed=3)
    again, _ = build_embedding_matrix(WORD_INDEX, loaded, oov="uniform", seed=3)
    np.testing.assert_array_equal(matrix, again)
    missing = [1, 3, 6]
    assert np.all(np.abs(matrix[missing]) <= 0.05) and np.all(matrix[missing] != 0)
    assert len(np.unique(matrix[missing])) == 12
    np.testing.assert_array_equal(matrix[0], 0)
    np.testing.assert_array_equal(matrix[[2, 4, 5, 7]], loaded.matrix[[0, 1, 3, 6]])


def test_oov_mean_and_gaps(loaded):
    word_index = {"the": 1, "nope": 3}
    matrix, coverage = build_embedding_matrix(word_index, loaded, oov="mean")
    expected_mean = (loaded.matrix.astype(np.float64).sum(axis=0) / len(loaded)).astype(np.float32)
    np.testing.assert_array_equal(matrix[3], expected_mean)
    np.testing.assert_array_equal(matrix[[0, 2]], 0)  # padding row and an unused index
    np.testing.assert_array_equal(matrix[1], loaded["the"])
    assert coverage == 1


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(word_index={"a": 0}), ValueError, r"word_index\['a'\] = 0 is not an integer >= 1"),
    (dict(word_index={"a": 1.5}), ValueError, r"word_index\['a'\] = 1.5"),
    (dict(word_index={"a": 1, "b": 1}), ValueError, "same index"),
    (dict(num_words=0), ValueError, "num_words must be a positive integer, got 0"),
    (dict(oov="random"), ValueError, "oov must be one of"),
    (dict(vectors={"a": [1, 2], "b": [1, 2, 3]}), ValueError, r"vectors\['b'\] has shape \(3,\)"),
    (dict(vectors={}, oov="mean"), ValueError, "needs at least one vector"),
])
def test_build_embedding_matrix_errors(loaded, kwargs, error, message):
    args = dict(word_index={"a": 1}, vectors=loaded) | kwargs
    with pytest.raises(error, match=message):
        build_embedding_matrix(args.pop("word_index"), args.pop("vectors"), **args)


# ---- into a model ----------------------------------------------------------------------
def pretrained_model(tmp_path, trainable):
    from fastembed.layers import Dense, Embedding, GlobalAveragePooling1D
    from fastembed.models import Sequential
    from fastembed.preprocessing import Tokenizer
    from fastembed.utils import pad_sequences, set_random_seed

    set_random_seed(0)
    rng = np.random.default_rng(0)
    good, bad = ["good", "great", "fine", "nice"], ["bad", "awful", "poor", "sad"]
    texts = [" ".join(rng.choice(good if i % 2 else bad, 4)) + " movie" for i in range(64)]
    labels = np.array([i % 2 for i in range(64)], np.float32)
    tok = Tokenizer(oov_token="<unk>")
    tok.fit_on_texts(texts)
    x = pad_sequences(tok.texts_to_sequences(texts), maxlen=6)
    # "sad" and the oov token have no vector; "other" is not in the vocabulary.
    words = good + bad[:3] + ["movie", "other"]
    lines = text_lines(words, rng.standard_normal((len(words), 8)).astype(np.float32))
    vectors = load_vectors(write(tmp_path / "g.txt", "\n".join(lines)), vocabulary=tok.word_index)
    matrix, coverage = build_embedding_matrix(tok.word_index, vectors)
    assert coverage == 8 and matrix.shape == (len(tok.word_index) + 1, 8)
    model = Sequential([Embedding(matrix.shape[0], 8, weights=[matrix], trainable=trainable),
                        GlobalAveragePooling1D(), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.build((None, 6))
    head = [w.copy() for w in model.layers[2].get_weights()]
    history = model.fit(x, labels, epochs=5, batch_size=16, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.array_equal(model.layers[2].get_weights()[0], head[0])
    return matrix, model.layers[0].get_weights()[0]


def test_frozen_pretrained_matrix_stays_bit_identical(tmp_path):
    matrix, trained = pretrained_model(tmp_path, trainable=False)
    assert trained.view(np.uint32).tobytes() == matrix.view(np.uint32).tobytes()


def test_fine_tuned_pretrained_matrix_changes(tmp_path):
    matrix, trained = pretrained_model(tmp_path, trainable=True)
    assert not np.array_equal(trained, matrix)
