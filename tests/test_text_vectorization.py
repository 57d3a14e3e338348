"""TextVectorization against an independent pure-Python reference of what
Keras's TextVectorization does with tf.strings (ASCII lower-casing, Keras's
punctuation regex, ASCII whitespace, n-grams joined by one space, adapt's
vocabulary by count then token, high to low, idf log(1 + N / (1 + df))).
The TensorFlow twin of these tests is test_text_vectorization_tf.py."""
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed
from fastembed import _kernels
from fastembed._kernels import _core
from fastembed.layers import TextVectorization

PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
RNG = np.random.default_rng(0)


def reference_tokens(doc, standardize="lower_and_strip_punctuation", split="whitespace",
                     ngrams=None):
    if standardize in ("lower", "lower_and_strip_punctuation"):
        doc = doc.translate(ASCII_LOWER)
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        doc = PUNCTUATION.sub("", doc)
    words = [w for w in WHITESPACE.split(doc) if w] if split == "whitespace" else \
        list(doc) if split == "character" else [doc]
    widths = range(1, ngrams + 1) if isinstance(ngrams, int) else ngrams or (1,)
    return [" ".join(words[i:i + w]) for w in widths for i in range(len(words) - w + 1)]


def reference_vocabulary(docs, max_tokens=None, **options):
    counts = Counter(t for d in docs for t in reference_tokens(d, **options))
    for special in ("", "[UNK]"):
        counts.pop(special, None)
    order = sorted(counts, key=lambda t: (counts[t], t.encode()), reverse=True)
    return order[:max_tokens - 2] if max_tokens else order


def reference_int(docs, vocabulary, length=None, **options):
    index = {t: i for i, t in enumerate(vocabulary)}
    rows = [[0 if t == "" else index.get(t, 1) for t in reference_tokens(d, **options)]
            for d in docs]
    length = length or max(map(len, rows))
    return np.array([(r + [0] * length)[:length] for r in rows], dtype=np.int64)


TEXTS = ["The quick brown fox, the LAZY dog!", "  fox\tand\ndog  ", "", "ÉCOLE école Ünïcode",
         "don't stop-believing... (really)", "a\x0bb\x0cc\rd\x1ce\u00a0f\u2003g", "dog dog dog",
         "the end"]
OPTIONS = [dict(standardize=s, split=p, ngrams=n)
           for s in ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
           for p in ("whitespace", "character", None)
           for n in (None, 2, (1, 3))]


def option_id(o):
    return f"{o['standardize']}-{o['split']}-{o['ngrams']}"


@pytest.mark.parametrize("options", OPTIONS, ids=option_id)
def test_tokens_and_vocabulary_match_reference(options):
    layer = TextVectorization(**options)
    layer.adapt(TEXTS)
    vocabulary = ["", "[UNK]"] + reference_vocabulary(TEXTS, **options)
    assert layer.get_vocabulary() == vocabulary
    queries = TEXTS[::-1] + ["unseen words here", "FOX fox"]
    expected = reference_int(queries, vocabulary, **options)
    if options["split"] is None:  # a column: rank-1 inputs are one sequence (below)
        queries = np.array(queries, dtype=object)[:, None]
    np.testing.assert_array_equal(layer(queries), expected)


@pytest.mark.parametrize("mode, length", [("int", None), ("int", 3), ("int", 8), ("one_hot", None),
                                          ("multi_hot", None), ("count", None), ("tf_idf", None)])
@pytest.mark.parametrize("ngrams", [None, 2])
def test_split_none_rank1_inputs_are_one_sequence(mode, ngrams, length):
    """Keras (on TensorFlow) splits nothing in rank-1 inputs without a split:
    the batch is one sequence of tokens, n-grams join neighbours; int gives
    (tokens,) ids (trimmed or padded to output_sequence_length), the bag modes
    one (depth,) vector, one_hot a row per token. Keras 3.15 on TF 2.21 gives
    for int, ngrams=2: [2, 1, 4, 2, 1, 1, 1]; count, ngrams=2: [4, 2, 0, 1]."""
    layer = TextVectorization(split=None, output_mode=mode, ngrams=ngrams,
                              output_sequence_length=length)
    data = ["a b", "c", "a b", "d", "A B"]
    layer.adapt(data)
    vocabulary = layer.get_vocabulary()
    assert vocabulary[-3:] == ["a b", "d", "c"]  # per document: no n-grams across them
    queries = np.array(["a b", "zz", "C", "a b"], dtype=object)
    sequence = [q.lower() for q in queries]
    grams = [" ".join(sequence[i:i + w]) for w in ((1,) if ngrams is None else (1, 2))
             for i in range(len(sequence) - w + 1)]
    index = {t: i for i, t in enumerate(vocabulary)}
    ids = [index.get(g, vocabulary.index("[UNK]")) for g in grams]
    out = layer(queries)
    if mode == "int":
        expected = ids if length is None else (ids + [0] * length)[:length]
        np.testing.assert_array_equal(out, expected)
        if ngrams == 2 and length is None:
            np.testing.assert_array_equal(out, [2, 1, 4, 2, 1, 1, 1])  # Keras on TF
        return
    if mode == "one_hot":
        np.testing.assert_array_equal(out, np.eye(len(vocabulary))[ids])
        return
    counts = np.bincount(ids, minlength=len(vocabulary)).astype(np.float64)
    if mode == "multi_hot":
        counts = np.minimum(counts, 1)
    if mode == "tf_idf":
        counts *= layer._lookup_layer.idf_weights
    assert out.shape == (len(vocabulary),)
    np.testing.assert_allclose(out, counts, rtol=1e-6)
    if mode == "count" and ngrams == 2:
        np.testing.assert_array_equal(out, [4, 2, 0, 1])  # Keras on TF


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
@pytest.mark.parametrize("max_tokens, pad", [(None, False), (6, False), (12, True)])
def test_bag_modes_match_reference(mode, max_tokens, pad):
    layer = TextVectorization(max_tokens=max_tokens, output_mode=mode, pad_to_max_tokens=pad)
    layer.adapt(TEXTS)
    learned = reference_vocabulary(TEXTS, max_tokens=max_tokens and max_tokens + 1)
    assert layer.get_vocabulary() == ["[UNK]"] + learned
    depth = max_tokens if pad else len(learned) + 1
    index = {t: i + 1 for i, t in enumerate(learned)}
    queries = ["the fox and the dog", "nothing known", "", "DOG dog the the the"]
    counts = np.zeros((len(queries), depth), np.float32)
    for row, doc in enumerate(queries):
        for t in reference_tokens(doc):
            counts[row, index.get(t, 0)] += 1
    if mode == "multi_hot":
        expected = np.minimum(counts, 1)
    elif mode == "count":
        expected = counts
    else:
        docs = [set(reference_tokens(d)) for d in TEXTS]
        idf = np.array([np.log(1 + len(TEXTS) / (1 + sum(t in d for d in docs)))
                        for t in learned], np.float32)
        weights = np.zeros(depth, np.float32)
        weights[0] = idf.mean()
        weights[1:len(learned) + 1] = idf
        expected = counts * weights
    np.testing.assert_allclose(layer(queries), expected, rtol=1e-6)
    assert layer.compute_output_shape((None, 1)) == (None, depth)


def test_output_sequence_length_pads_and_truncates():
    layer = TextVectorization(output_sequence_length=3, vocabulary=["a", "b", "c"])
    np.testing.assert_array_equal(layer(["a b c a b", "c", "", "zz a"]),
                                  [[2, 3, 4], [4, 0, 0], [0, 0, 0], [1, 2, 0]])
    assert layer.compute_output_shape((None,)) == (None, 3)
    np.testing.assert_array_equal(layer(np.array([["a b"], ["c"]])), [[2, 3, 0], [4, 0, 0]])


def test_given_vocabulary_and_idf_weights():
    layer = TextVectorization(output_mode="tf_idf", vocabulary=["x", "y"],
                              idf_weights=[0.5, 2.0])
    np.testing.assert_allclose(layer(["x y y q"]), [[1.25, 0.5, 4.0]])
    assert layer.get_vocabulary() == ["[UNK]", "x", "y"]
    layer.set_vocabulary(["y", "x"], idf_weights=[1.0, 3.0])
    np.testing.assert_allclose(layer(["x y y q"]), [[2.0, 2.0, 3.0]])


def test_bytes_inputs_and_batches_adapt_like_one_array():
    one = TextVectorization()
    one.adapt(TEXTS)
    batches = TextVectorization()
    batches.adapt(iter([np.array(TEXTS[:3]), [t.encode() for t in TEXTS[3:]]]))
    assert batches.get_vocabulary() == one.get_vocabulary()
    np.testing.assert_array_equal(one(np.array([t.encode() for t in TEXTS], dtype=object)),
                                  one(TEXTS))


def test_callable_standardize_and_split():
    layer = TextVectorization(standardize=lambda x: np.char.upper(x.astype(str)),
                              split=lambda x: [doc.split("-") for doc in x], ngrams=2)
    layer.adapt(["a-b-c", "b-c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "C", "B C", "B", "A B", "A"]
    np.testing.assert_array_equal(layer(["a-b-x"]), [[6, 4, 1, 5, 1]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("aAbZ ,.!'\t\n\x0bé€😀-")), max_size=30),
                min_size=1, max_size=8),
       st.sampled_from(OPTIONS))
def test_property_tokens_match_reference(texts, options):
    tokens, offsets, starts = _core.tokenize(
        _core.StringBatch(np.array(texts, dtype=object)),
        options["standardize"] in ("lower", "lower_and_strip_punctuation"),
        options["standardize"] in ("strip_punctuation", "lower_and_strip_punctuation"),
        options["split"],
        None if options["ngrams"] is None else
        TextVectorization(ngrams=options["ngrams"])._widths)
    got = [bytes(tokens[offsets[k]:offsets[k + 1]]).decode() for k in range(len(offsets) - 1)]
    for d, text in enumerate(texts):
        assert got[starts[d]:starts[d + 1]] == reference_tokens(text, **options)


def test_bitwise_same_for_any_thread_count():
    words = np.array(["w%d" % i for i in range(3000)])
    docs = [" ".join(RNG.choice(words, RNG.integers(0, 40))) for _ in range(5000)]
    batch = _core.StringBatch(np.array(docs, dtype=object))
    previous = _kernels.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            _kernels.set_num_threads(threads)
            tokens, offsets, starts = _core.tokenize(batch, True, True, "whitespace", [1, 2])
            counter = _core.TokenCounter()
            _core.count_text(counter, batch, True, True, "whitespace", [1, 2])
            results.append((tokens, offsets, starts) + counter.vocabulary())
    finally:
        _kernels.set_num_threads(previous)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    tokens, offsets, starts, vocabulary, counts, doc_counts = results[0]
    texts = [bytes(tokens[offsets[k]:offsets[k + 1]]) for k in range(len(offsets) - 1)]
    expected = Counter(texts)
    assert vocabulary == sorted(expected, key=lambda t: (expected[t], t), reverse=True)
    assert counts.tolist() == [expected[t] for t in vocabulary]
    holders = {}
    for d in range(len(docs)):
        for token in set(texts[starts[d]:starts[d + 1]]):
            holders[token] = holders.get(token, 0) + 1
    assert doc_counts.tolist() == [holders[t] for t in vocabulary]


def test_config_round_trip():
    layer = TextVectorization(max_tokens=20, ngrams=(1, 2), output_sequence_length=5,
                              vocabulary=["a", "b", "a b"], standardize="lower")
    clone = TextVectorization.from_config(layer.get_config())
    np.testing.assert_array_equal(clone(["A b c", "b"]), layer(["A b c", "b"]))
    assert clone.get_config() == {**layer.get_config(), "name": clone.name}
    adapted = TextVectorization(output_mode="count")
    adapted.adapt(TEXTS)
    config = adapted.get_config()
    assert config["vocabulary_size"] == len(adapted.get_vocabulary())
    restored = TextVectorization.from_config(config)
    restored.set_vocabulary(adapted.get_vocabulary())
    np.testing.assert_array_equal(restored(TEXTS), adapted(TEXTS))


def test_model_on_raw_strings_equals_model_on_indices():
    texts = np.array(["good movie", "bad movie", "very good", "very bad film", "good"] * 8)
    labels = np.array([1, 0, 1, 0, 1] * 8, np.float32)
    vectorize = TextVectorization(output_sequence_length=4)
    vectorize.adapt(texts)
    inputs = fastembed.Input((1,), dtype="string")
    x = vectorize(inputs)
    embedding = fastembed.layers.Embedding(vectorize.vocabulary_size(), 4)
    head = [embedding, fastembed.layers.GlobalAveragePooling1D(),
            fastembed.layers.Dense(1, activation="sigmoid")]
    for layer in head:
        x = layer(x)
    on_strings = fastembed.Model(inputs, x)
    on_strings.compile(optimizer="adam", loss="binary_crossentropy")
    on_strings.fit(texts, labels, epochs=3, batch_size=8, verbose=0)
    on_indices = fastembed.Sequential([fastembed.Input((4,), dtype="int64")] + [
        type(layer).from_config(layer.get_config()) for layer in head])
    on_indices.set_weights(on_strings.get_weights())
    np.testing.assert_allclose(on_strings.predict(texts, verbose=0),
                               on_indices.predict(vectorize(texts), verbose=0), rtol=1e-6)


def test_bad_input():
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match=r"inputs\[1\] is None"):
        layer(np.array(["a", None], dtype=object))
    with pytest.raises(ValueError, match="missing values"):
        layer(np.array(["a", float("nan")], dtype=object))
    with pytest.raises(TypeError, match=r"inputs\[1\] = 3"):
        layer(np.array(["a", 3], dtype=object))
    with pytest.raises(TypeError, match="strings"):
        layer(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        layer(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_sequence_length=2.5)
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_sequence_length=0)
    with pytest.raises(ValueError, match="must not be set"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ngrams"):
        TextVectorization(ngrams=[1, 2])
    with pytest.raises(ValueError, match="ngrams"):
        TextVectorization(ngrams=(0, 1))
    with pytest.raises(ValueError, match="standardize"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="split"):
        TextVectorization(split="comma")
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorization(output_mode="dense")
    with pytest.raises(ValueError, match="repeated term"):
        TextVectorization(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match="Cannot adapt"):
        layer.adapt(["a b"])
    with pytest.raises(RuntimeError, match="set the layer's vocabulary"):
        TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=1)
    with pytest.raises(ValueError, match="surrogate"):
        layer(np.array(["a\ud800"], dtype=object))


@pytest.mark.parametrize("extra", ["", "a\x00 a a\x00\x00 b\x00", "x" * 100 + " " + "x" * 99])
def test_adapt_ties_broken_as_python_sorts_bytes(extra):
    # Words differing only by trailing NUL bytes, or longer than numpy's
    # fixed-width sort takes, go through Python's sort.
    docs = ["b a c", "a b d é", "\x00 e e", extra]
    layer = TextVectorization(standardize=None)
    layer.adapt(docs)
    assert layer.get_vocabulary() == ["", "[UNK]"] + reference_vocabulary(docs, standardize=None)


@pytest.mark.parametrize("mode", ["int", "multi_hot", "count"])
def test_keras_file_keeps_the_adapted_vocabulary(tmp_path, mode):
    texts = np.array(["good movie", "bad film", "very good", "good"])
    vectorize = TextVectorization(output_mode=mode,
                                  output_sequence_length=4 if mode == "int" else None)
    vectorize.adapt(texts)
    inputs = fastembed.Input((1,), dtype="string")
    x = vectorize(inputs)
    if mode == "int":
        x = fastembed.layers.GlobalAveragePooling1D()(
            fastembed.layers.Embedding(vectorize.vocabulary_size(), 3)(x))
    model = fastembed.Model(inputs, fastembed.layers.Dense(1)(x))
    model.save(tmp_path / "model.keras")
    loaded = fastembed.saving.load_model(tmp_path / "model.keras")
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()
    queries = np.array(["good film", "unknown words", ""])
    np.testing.assert_array_equal(loaded.predict(queries, verbose=0),
                                  model.predict(queries, verbose=0))


def reference_tf_idf(docs, queries, max_tokens=None):
    """(vocabulary, idf weights with the OOV index's first, tf-idf of queries)
    as Keras computes them: OOV weight the mean idf."""
    learned = reference_vocabulary(docs, max_tokens=max_tokens)
    index = {t: i + 1 for i, t in enumerate(learned)}
    sets = [set(reference_tokens(d)) for d in docs]
    idf = np.array([np.log(1 + len(docs) / (1 + sum(t in s for s in sets))) for t in learned],
                   np.float32)
    weights = np.concatenate([[idf.mean()], idf]).astype(np.float32)
    counts = np.zeros((len(queries), len(weights)), np.float32)
    for row, doc in enumerate(queries):
        for t in reference_tokens(doc):
            counts[row, index.get(t, 0)] += 1
    return ["[UNK]"] + learned, weights, counts * weights


def test_keras_file_keeps_tf_idf_weights(tmp_path):
    """The idf weights go where Keras keeps them (the layer's vars and its
    child _lookup_layer's, each with the vocabulary asset) and come back."""
    import h5py
    import zipfile
    # No token with "\x1c", a line break to str.splitlines: the vocabulary
    # file (one token a line, read as Keras reads it) cannot hold it.
    texts = [t for t in TEXTS if "\x1c" not in t]
    vectorize = TextVectorization(output_mode="tf_idf")
    vectorize.adapt(texts)
    model = fastembed.Sequential([fastembed.Input((1,), dtype="string"), vectorize])
    model.save(tmp_path / "model.keras")
    queries = ["the fox and the dog", "nothing known", "", "DOG dog the the the"]
    vocabulary, weights, expected = reference_tf_idf(texts, queries)
    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        for path in ("layers/text_vectorization", "layers/text_vectorization/_lookup_layer"):
            text = archive.read(f"assets/{path}/vocabulary.txt").decode()
            assert text.split("\n") == vocabulary
        with h5py.File(archive.open("model.weights.h5")) as h5file:
            for path in ("layers/text_vectorization", "layers/text_vectorization/_lookup_layer"):
                np.testing.assert_allclose(h5file[f"{path}/vars/idf_weights"][()], weights,
                                           rtol=1e-6)
    loaded = fastembed.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(np.array(queries), verbose=0), expected,
                               rtol=1e-6)
