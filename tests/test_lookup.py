"""StringLookup, IntegerLookup and CategoryEncoding against references
computed here (dicts, collections.Counter, numpy) and the outputs Keras's
documentation shows."""
import collections

import numpy as np
import pytest

from fastembed import get_num_threads, set_num_threads
from fastembed._kernels import _core
from fastembed.layers import (CategoryEncoding, Dense, Embedding, Flatten, Input,
                              IntegerLookup, StringLookup)
from fastembed.models import Sequential

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]


def reference_lookup(values, vocabulary, num_oov=1, mask=None, oov_bucket=None):
    """Keras's int output by dict: mask -> 0, vocabulary -> after the
    reserved indices, OOV -> its bucket (oov_bucket(value) with several)."""
    reserved = (mask is not None) + num_oov
    index = {token: i + reserved for i, token in enumerate(vocabulary)}

    def one(value):
        if mask is not None and value == mask:
            return 0
        if value in index:
            return index[value]
        return (mask is not None) + (oov_bucket(value) if num_oov > 1 else 0)
    return np.array([one(v) for v in np.ravel(values).tolist()],
                    dtype=np.int64).reshape(np.shape(values))


def string_bucket(num_oov):
    return lambda value: _core.fingerprint64(
        value if isinstance(value, bytes) else value.encode()) % num_oov


def reference_vocabulary(values, key=lambda token: token):
    """Keras's adapt order: count high to low, then token high to low."""
    counts = collections.Counter(np.ravel(values).tolist())
    return [t for t, _ in sorted(counts.items(), key=lambda kv: (kv[1], key(kv[0])),
                                 reverse=True)]


def random_words(rng, n, alphabet="abcxyzé€😀 _", max_len=12):
    return ["".join(rng.choice(list(alphabet), rng.integers(0, max_len))) for _ in range(n)]


# ---- Keras's documented examples --------------------------------------------
def test_documented_lookup_adapt_and_oov():
    np.testing.assert_array_equal(StringLookup(vocabulary=VOCAB)(DATA), [[1, 3, 4], [4, 0, 2]])
    layer = StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(layer(DATA), [[5, 3, 1], [1, 2, 4]])
    two = StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    np.testing.assert_array_equal(two([["a", "c", "d"], ["m", "z", "b"]]),
                                  [[2, 4, 5], [0, 1, 3]])


def test_documented_encoded_modes():
    one_hot = StringLookup(vocabulary=VOCAB, output_mode="one_hot")(["a", "b", "c", "d", "z"])
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 2, 3, 4, 0]])
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    multi = StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(data)
    np.testing.assert_array_equal(multi, [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    count = StringLookup(vocabulary=VOCAB, output_mode="count")(data)
    np.testing.assert_array_equal(count, [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    for vocab, idf in ((VOCAB, [0.25, 0.75, 0.6, 0.4]),
                       (["[UNK]"] + VOCAB, [0.9, 0.25, 0.75, 0.6, 0.4])):
        layer = StringLookup(output_mode="tf_idf")
        layer.set_vocabulary(vocab, idf_weights=idf)
        oov = 0.5 if len(vocab) == 4 else 0.9  # the mean of idf_weights, or given
        np.testing.assert_allclose(layer(data), [[0, 0.25, 0, 0.6, 0.8],
                                                 [2 * oov, 0, 0.75, 0, 0.4]], rtol=1e-6)


def test_documented_invert_returns_bytes():
    out = StringLookup(vocabulary=VOCAB, invert=True)([[1, 3, 4], [4, 0, 2]])
    assert out.tolist() == [[b"a", b"c", b"d"], [b"d", b"[UNK]", b"b"]]
    ints = StringLookup(vocabulary=VOCAB)(DATA)
    back = StringLookup(vocabulary=VOCAB, invert=True)(ints)
    assert back.tolist() == [[b"a", b"c", b"d"], [b"d", b"[UNK]", b"b"]]


def test_documented_integer_lookup():
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(IntegerLookup(vocabulary=vocab)(data), [[1, 3, 4], [4, 0, 2]])
    layer = IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    two = IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    np.testing.assert_array_equal(two(np.array([[12, 1138, 42], [37, 1000, 36]])),
                                  [[2, 4, 5], [1, 0, 3]])  # floormod: 37 % 2, 1000 % 2


# ---- against the references, on random data ---------------------------------
@pytest.mark.parametrize("num_oov", [1, 3])
@pytest.mark.parametrize("mask", [None, ""])
@pytest.mark.parametrize("kind", ["U", "S", "object"])
def test_string_lookup_matches_reference(num_oov, mask, kind):
    rng = np.random.default_rng(num_oov)
    vocab = sorted(set(random_words(rng, 300)) - {""})
    words = np.array(random_words(rng, 2000)).reshape(20, 10, 10)
    values = {"U": words, "S": np.char.encode(words, "utf-8"), "object": words.astype(object)}[kind]
    layer = StringLookup(vocabulary=vocab, num_oov_indices=num_oov, mask_token=mask)
    expected = reference_lookup(words, vocab, num_oov, mask, string_bucket(num_oov))
    np.testing.assert_array_equal(layer(values), expected)


def test_salted_oov_buckets_use_siphash():
    layer = StringLookup(vocabulary=VOCAB, num_oov_indices=5, salt=[7, 11])
    data = np.array(["q", "a", "zz", "€"])
    buckets = [_core.siphash24(7, 11, w.encode()) % 5 for w in ("q", "zz", "€")]
    np.testing.assert_array_equal(layer(data), [buckets[0], 5, buckets[1], buckets[2]])


@pytest.mark.parametrize("oov_method", ["floormod", "farmhash"])
def test_integer_lookup_matches_reference(oov_method):
    rng = np.random.default_rng(1)
    vocab = rng.choice(10**12, 500, replace=False) - 5 * 10**11
    values = np.where(rng.random((50, 40)) < 0.7, rng.choice(vocab, (50, 40)),
                      rng.integers(-10**6, 10**6, (50, 40)))
    values[0, :3] = 0
    if oov_method == "floormod":
        bucket = lambda v: v % 4  # noqa: E731  (Python's % is a floor modulo)
    else:
        bucket = lambda v: _core.fingerprint64(str(v).encode()) % 4  # noqa: E731
    layer = IntegerLookup(vocabulary=vocab, num_oov_indices=4, mask_token=0,
                          oov_method=oov_method)
    np.testing.assert_array_equal(layer(values),
                                  reference_lookup(values, vocab.tolist(), 4, 0, bucket))


def test_adapt_matches_counter_order_with_ties():
    rng = np.random.default_rng(2)
    pool = random_words(rng, 60)
    data = np.array(rng.choice(pool, (400, 5)))
    layer = StringLookup()
    layer.adapt(data)
    expected = reference_vocabulary(data, key=lambda t: t.encode())
    assert layer.get_vocabulary() == ["[UNK]"] + expected
    # batches seen one by one give the same vocabulary
    batched = StringLookup()
    batched.adapt(iter(np.array_split(data, 7)))
    assert batched.get_vocabulary() == layer.get_vocabulary()
    limited = StringLookup(max_tokens=10, mask_token="", num_oov_indices=2)
    limited.adapt(data)
    assert limited.get_vocabulary() == ["", "[UNK]", "[UNK]"] + \
        [t for t in expected if t not in ("", "[UNK]")][:7]


def test_adapt_drops_special_tokens_and_orders_integers_by_value():
    layer = StringLookup(mask_token="pad")
    layer.adapt(np.array(["pad", "pad", "x", "[UNK]", "[UNK]", "y", "x"]))
    assert layer.get_vocabulary() == ["pad", "[UNK]", "x", "y"]
    ints = IntegerLookup()
    values = np.array([5, 5, 3, -7, -7, 1, -1, -1, -1])
    ints.adapt(values)
    assert ints.get_vocabulary() == [-1] + reference_vocabulary(values[values != -1])


def test_tf_idf_adapt_weights():
    data = np.array([["a", "b", "a"], ["c", "a", "x"], ["x", "x", "x"]])
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(data)
    vocab = reference_vocabulary(data)
    documents = {t: sum(t in row for row in data.tolist()) for t in vocab}
    idf = np.array([np.log(1 + 3 / (1 + documents[t])) for t in vocab], np.float32)
    np.testing.assert_allclose(layer.idf_weights, np.concatenate([[idf.mean()], idf]), rtol=1e-6)
    counts = np.zeros((3, len(vocab) + 1))
    for r, row in enumerate(data.tolist()):
        for t in row:
            counts[r, vocab.index(t) + 1] += 1
    np.testing.assert_allclose(layer(data), counts * layer.idf_weights, rtol=1e-6)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_encoded_modes_with_mask_and_padding(mode):
    data = np.array([["a", "", "q", "a"], ["", "", "d", "b"]])
    layer = StringLookup(vocabulary=VOCAB, mask_token="", output_mode=mode, max_tokens=8,
                         pad_to_max_tokens=True)
    # the mask is not an index outside "int" mode, and adds nothing
    ids = reference_lookup(data, VOCAB, 1, None)
    masked = data == ""
    if mode == "one_hot":
        expected = np.eye(8)[ids] * ~masked[..., None]
    else:
        expected = np.zeros((2, 8))
        for r in range(2):
            for i, m in zip(ids[r], masked[r]):
                if not m:
                    expected[r, i] = 1 if mode == "multi_hot" else expected[r, i] + 1
    np.testing.assert_array_equal(layer(data), expected)


def test_invert_with_mask_and_integers():
    layer = StringLookup(vocabulary=VOCAB, mask_token="[MASK]", invert=True)
    assert layer(np.array([0, 1, 2, 5])).tolist() == [b"[MASK]", b"[UNK]", b"a", b"d"]
    ints = IntegerLookup(vocabulary=[12, 36], invert=True)
    np.testing.assert_array_equal(ints(np.array([[0, 1, 2]])), [[-1, 12, 36]])


def test_same_bits_for_any_thread_count():
    rng = np.random.default_rng(3)
    vocab = [f"item_{i}" for i in range(5000)]
    data = np.array([f"item_{i}" for i in rng.integers(0, 7000, 100_000)])
    layer = StringLookup(vocabulary=vocab, num_oov_indices=3)
    threads = get_num_threads()
    try:
        set_num_threads(1)
        one = layer(data)
        set_num_threads(2)
        two = layer(data)
    finally:
        set_num_threads(threads)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, reference_lookup(data, vocab, 3, None, string_bucket(3)))


def test_adapt_same_for_any_thread_count():
    """adapt counts rows on each thread and merges them: the vocabulary, idf
    weights (documents split across threads) and ints equal one thread's
    and the references."""
    rng = np.random.default_rng(4)
    pool = random_words(rng, 3000)
    data = np.array(rng.choice(pool, (20_000, 3)), dtype=object)
    ints = rng.integers(-50, 2000, (20_000, 3))
    threads = get_num_threads()
    results = []
    try:
        for count in (1, 2, 3):
            set_num_threads(count)
            strings, integers = StringLookup(output_mode="tf_idf"), IntegerLookup()
            strings.adapt(data)
            integers.adapt(ints)
            results.append((strings.get_vocabulary(), strings.idf_weights,
                            integers.get_vocabulary()))
    finally:
        set_num_threads(threads)
    for other in results[1:]:
        assert other[0] == results[0][0] and other[2] == results[0][2]
        np.testing.assert_array_equal(other[1], results[0][1])
    vocab = reference_vocabulary(data, key=lambda t: t.encode())
    assert results[0][0] == ["[UNK]"] + vocab
    documents = collections.Counter(t for row in data.tolist() for t in set(row))
    idf = np.array([np.log(1 + len(data) / (1 + documents[t])) for t in vocab], np.float32)
    np.testing.assert_allclose(results[0][1][1:], idf, rtol=1e-6)
    assert results[0][2] == [-1] + reference_vocabulary(ints[ints != -1])  # -1: the OOV token


def test_object_arrays_of_ascii_unicode_and_bytes():
    """str read in place (ASCII), str encoded (non-ASCII), bytes and a str
    subclass in one object array look up as their UTF-8."""
    class Name(str):
        pass
    vocab = ["ab", "é", "x€", "plain"]
    values = np.array(["ab", "é", b"x\xe2\x82\xac", Name("plain"), "zz", b"ab", "x€"],
                      dtype=object)
    np.testing.assert_array_equal(StringLookup(vocabulary=vocab)(values),
                                  [1, 2, 3, 4, 0, 1, 3])


def test_words_alike_in_their_first_bytes():
    """Slots keep a word's length and first 20 bytes: words of every length
    around that, equal but for their last byte or their length, stay apart."""
    words = ["x" * k for k in range(1, 45)] + ["x" * k + "y" for k in range(45)] + \
        ["x" * k + "\0" for k in range(45)]
    vocab = words[::2]
    queries = np.array(words + [w + "x" for w in words], dtype=object)
    np.testing.assert_array_equal(StringLookup(vocabulary=vocab)(queries),
                                  reference_lookup(queries, vocab))
    data = np.array(words + words[::3], dtype=object)  # object: a 'U' array drops the NULs
    counted = StringLookup()
    counted.adapt(data)
    assert counted.get_vocabulary() == ["[UNK]"] + reference_vocabulary(
        data, key=lambda t: t.encode())


# ---- vocabulary files, config, assets ---------------------------------------
def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\nd\n", encoding="utf-8")
    layer = StringLookup(vocabulary=str(path))
    np.testing.assert_array_equal(layer(DATA), [[1, 3, 4], [4, 0, 2]])
    assert layer.get_config()["vocabulary"] is None  # it travels as an asset
    ints = tmp_path / "ints.txt"
    ints.write_text("12\n36\n", encoding="utf-8")
    np.testing.assert_array_equal(IntegerLookup(vocabulary=str(ints))(np.array([36, 5])), [2, 0])


def test_config_and_asset_round_trip(tmp_path):
    layer = StringLookup(vocabulary=VOCAB, mask_token="", num_oov_indices=2, name="s")
    clone = StringLookup.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(DATA), layer(DATA))
    adapted = StringLookup(output_mode="count", name="adapted")
    adapted.adapt(DATA)
    adapted.save_assets(str(tmp_path))
    fresh = StringLookup.from_config(adapted.get_config())
    fresh.load_assets(str(tmp_path))
    assert fresh.get_vocabulary() == adapted.get_vocabulary()
    np.testing.assert_array_equal(fresh(DATA), adapted(DATA))
    ints = IntegerLookup(vocabulary=[3, 9], mask_token=0)
    assert IntegerLookup.from_config(ints.get_config()).get_vocabulary() == [0, -1, 3, 9]


# ---- in a model -------------------------------------------------------------
def test_model_on_raw_strings_predicts_as_on_indices():
    rng = np.random.default_rng(4)
    vocab = [f"u_{i}" for i in range(50)]
    x = np.array([[f"u_{i}" for i in row] for row in rng.integers(0, 60, (64, 3))])
    y = rng.random((64, 1)).astype(np.float32)
    lookup = StringLookup(vocabulary=vocab)
    on_strings = Sequential([Input(shape=(3,), dtype="string"), lookup, Embedding(51, 4),
                             Flatten(), Dense(1)])
    on_ids = Sequential([Input(shape=(3,), dtype="int64"), Embedding(51, 4), Flatten(),
                         Dense(1)])
    on_ids.set_weights(on_strings.get_weights())
    ids = reference_lookup(x, vocab)
    np.testing.assert_array_equal(on_strings.predict(x, verbose=0), on_ids.predict(ids, verbose=0))
    for model in (on_strings, on_ids):
        model.compile("adam", "mse")
    loss_strings = on_strings.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"]
    loss_ids = on_ids.fit(ids, y, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_array_equal(loss_strings, loss_ids)
    with pytest.raises(TypeError, match="got dtype <U4: input .* feeds Embedding"):
        on_ids.predict(x, verbose=0)


# ---- bad input ---------------------------------------------------------------
def test_bad_inputs_are_clear_errors():
    layer = StringLookup(vocabulary=VOCAB)
    with pytest.raises(TypeError, match=r"inputs\[0,1\] = 5 is of type int"):
        layer(np.array([["a", 5]], dtype=object))
    with pytest.raises(ValueError, match=r"inputs\[1\] is None"):
        layer(np.array(["a", None], dtype=object))
    with pytest.raises(ValueError, match=r"inputs\[0\] is nan"):
        layer(np.array([np.nan, "a"], dtype=object))
    with pytest.raises(TypeError, match="dtype int64"):
        layer(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"inputs\[1\] = 'b' is of type str"):
        IntegerLookup(vocabulary=[1])(np.array([1, "b"], dtype=object))
    with pytest.raises(TypeError, match="dtype float64"):
        IntegerLookup(vocabulary=[1])(np.array([1.5]))


def test_bad_vocabularies_and_arguments():
    with pytest.raises(ValueError, match=r"repeated term.*\['b'\]"):
        StringLookup(vocabulary=["a", "b", "c", "b"])
    with pytest.raises(ValueError, match=r"repeated term.*\[7\]"):
        IntegerLookup(vocabulary=[7, 8, 7])
    with pytest.raises(ValueError, match="max_tokens=1"):
        StringLookup(max_tokens=1)
    with pytest.raises(ValueError, match="max_tokens=2, mask_token='', num_oov_indices=2"):
        StringLookup(max_tokens=2, mask_token="", num_oov_indices=2)
    with pytest.raises(ValueError, match="vocabulary size is 5; `max_tokens` is 4"):
        StringLookup(max_tokens=4, vocabulary=VOCAB)
    with pytest.raises(ValueError, match="num_oov_indices=-1"):
        StringLookup(num_oov_indices=-1)
    with pytest.raises(ValueError, match="mask token"):
        StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="idf_weights"):
        StringLookup(vocabulary=VOCAB, output_mode="tf_idf")
    with pytest.raises(ValueError, match="does not exist"):
        StringLookup(vocabulary="/nonexistent/vocab.txt")
    with pytest.raises(ValueError, match="Cannot adapt"):
        StringLookup(vocabulary=VOCAB).adapt(DATA)


def test_out_of_vocabulary_and_out_of_range_errors():
    with pytest.raises(ValueError, match="OOV value 'z'.*inputs\\[1,1\\]"):
        StringLookup(vocabulary=VOCAB, num_oov_indices=0)(DATA)
    with pytest.raises(IndexError, match=r"inputs\[0,1\] = 5 is not an index.*\[0, 5\)"):
        StringLookup(vocabulary=VOCAB, invert=True)(np.array([[1, 5]]))
    with pytest.raises(IndexError, match=r"inputs\[0\] = -1"):
        IntegerLookup(vocabulary=[3], invert=True)(np.array([-1]))


# ---- CategoryEncoding -------------------------------------------------------
@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_matches_numpy(mode):
    rng = np.random.default_rng(5)
    ids = rng.integers(0, 6, (8, 4))
    out = CategoryEncoding(num_tokens=6, output_mode=mode)(ids)
    if mode == "one_hot":
        expected = np.eye(6)[ids]
    else:
        counts = np.stack([np.bincount(row, minlength=6) for row in ids])
        expected = counts if mode == "count" else np.minimum(counts, 1)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    weights = rng.random((8, 4))
    if mode == "count":
        weighted = CategoryEncoding(num_tokens=6, output_mode="count")(ids, count_weights=weights)
        expected = np.stack([np.bincount(r, w, minlength=6) for r, w in zip(ids, weights)])
        np.testing.assert_allclose(weighted, expected, rtol=1e-6)


def test_category_encoding_documented_and_errors():
    np.testing.assert_array_equal(
        CategoryEncoding(num_tokens=4, output_mode="one_hot")(np.array([3, 2, 0, 1])),
        np.eye(4)[[3, 2, 0, 1]])
    np.testing.assert_array_equal(
        CategoryEncoding(num_tokens=4, output_mode="multi_hot")(
            np.array([[0, 1], [0, 0], [1, 2], [3, 1]])),
        [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    with pytest.raises(IndexError, match=r"inputs\[1,0\] = 4 is not in \[0, num_tokens=4\)"):
        CategoryEncoding(num_tokens=4)(np.array([[0], [4]]))
    with pytest.raises(ValueError, match="num_tokens=0"):
        CategoryEncoding(num_tokens=0)
    with pytest.raises(ValueError, match="output_mode"):
        CategoryEncoding(num_tokens=3, output_mode="tf_idf")


def test_keras_file_keeps_adapted_vocabularies_as_assets(tmp_path):
    import zipfile
    from fastembed.saving import load_model
    x = np.array([["a", "b"], ["c", "zz"], ["b", "b"]])
    lookup = StringLookup()
    lookup.adapt(x)
    ints = IntegerLookup(vocabulary=[4, 9])  # a vocabulary given: in the config
    model = Sequential([Input(shape=(2,), dtype="string"), lookup, Embedding(5, 3), Flatten(),
                        Dense(1)])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        text = archive.read("assets/layers/string_lookup/vocabulary.txt").decode()
    assert text.split("\n") == ["[UNK]"] + reference_vocabulary(x, key=lambda t: t.encode())
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.layers[0].get_vocabulary() == lookup.get_vocabulary()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert IntegerLookup.from_config(ints.get_config())(np.array([9, 4, 1])).tolist() == [2, 1, 0]


@pytest.mark.parametrize("kind", ["string", "integer"])
def test_tf_idf_weights_go_through_keras_files(tmp_path, kind):
    """An adapted tf_idf lookup's idf weights (the OOV index's first) go to
    the layer's vars as idf_weights, where Keras keeps them, in .keras and
    .weights.h5 files, and come back; a file whose weights do not fit the
    vocabulary is refused, the layer unchanged."""
    import h5py
    import zipfile
    from fastembed.saving import load_model
    layer_class, dtype, data, queries = {
        "string": (StringLookup, "string", np.array([["a", "b", "a"], ["c", "a", "x"],
                                                      ["x", "x", "x"]]),
                   np.array([["a", "q", "x"], ["b", "b", "c"]])),
        "integer": (IntegerLookup, "int64", np.array([[4, 7, 4], [9, 4, 2], [2, 2, 2]]),
                    np.array([[4, 5, 2], [7, 7, 9]]))}[kind]
    vocab = reference_vocabulary(data)
    documents = {t: sum(t in row for row in data.tolist()) for t in vocab}
    idf = np.array([np.log(1 + len(data) / (1 + documents[t])) for t in vocab], np.float32)
    weights = np.concatenate([[idf.mean()], idf])
    counts = np.zeros((len(queries), len(weights)), np.float32)
    for r, row in enumerate(queries.tolist()):
        for t in row:
            counts[r, vocab.index(t) + 1 if t in vocab else 0] += 1

    layer = layer_class(output_mode="tf_idf")
    layer.adapt(data)
    model = Sequential([Input(shape=(3,), dtype=dtype), layer])
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    name = f"{kind}_lookup"
    with zipfile.ZipFile(tmp_path / "m.keras") as archive, \
            h5py.File(archive.open("model.weights.h5")) as h5file:
        np.testing.assert_allclose(h5file[f"layers/{name}/vars/idf_weights"][()], weights,
                                   rtol=1e-6)
    loaded = load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(queries, verbose=0), counts * weights, rtol=1e-6)

    # Into a layer given the vocabulary (and placeholder weights): the file's weights.
    given = layer_class(output_mode="tf_idf", vocabulary=vocab, idf_weights=np.ones(len(vocab)))
    Sequential([Input(shape=(3,), dtype=dtype), given]).load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(given(queries), counts * weights, rtol=1e-6)

    shorter = layer_class(output_mode="tf_idf", vocabulary=vocab[:-1],
                          idf_weights=np.ones(len(vocab) - 1))
    with pytest.raises(ValueError, match="idf_weights"):
        Sequential([Input(shape=(3,), dtype=dtype), shorter]).load_weights(
            tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(shorter.idf_weights, np.ones(len(vocab), np.float32))
