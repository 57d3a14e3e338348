"""Tokenizer and text_to_word_sequence against Keras 2's behaviour.

Keras 3 dropped keras.preprocessing.text, so the expectations are derived by
hand from Keras 2's rules, and checked on random texts against the small
reference below (written from those rules, not from fastembed's code):
  - words: lower-case, every character of `filters` becomes `split`, split,
    drop empty strings;
  - word_index: by count descending, ties by first appearance, from 1; the
    oov_token, if any, is 1 and shifts the others;
  - texts_to_sequences: unknown words and words with index >= num_words
    become the oov index, or are dropped without an oov_token.
"""
import json
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastembed.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json

KERAS2_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "Cat, dog; cat?"]


def reference_words(text, filters=KERAS2_FILTERS, split=" "):
    return [w for w in re.split("[" + re.escape(filters + split) + "]", text.lower()) if w]


def reference_word_index(texts, oov_token=None):
    words = [w for t in texts for w in reference_words(t)]
    counts, first = Counter(words), {}
    for pos, w in enumerate(words):
        first.setdefault(w, pos)
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))
    ranked = ([oov_token] if oov_token else []) + ranked
    return {w: i + 1 for i, w in enumerate(ranked)}


def reference_sequences(word_index, texts, num_words=None, oov_token=None):
    out = []
    for t in texts:
        seq = []
        for w in reference_words(t):
            i = word_index.get(w)
            if i is None or (num_words and i >= num_words):
                i = word_index.get(oov_token) if oov_token else None
            if i is not None:
                seq.append(i)
        out.append(seq)
    return out


# ---- text_to_word_sequence ---------------------------------------------------------
def test_default_filters_are_keras2():
    assert Tokenizer().filters == KERAS2_FILTERS


def test_text_to_word_sequence():
    assert text_to_word_sequence("Hello, World!\tTab\nnew-line  don't") == \
        ["hello", "world", "tab", "new", "line", "don't"]
    assert text_to_word_sequence("A,b c", filters="", lower=False, split=",") == ["A", "b c"]
    assert text_to_word_sequence("a.b", filters=".", split="--") == ["a", "b"]
    assert text_to_word_sequence("ÉCOLE Straße") == ["école", "straße"]


# ---- fit_on_texts / word_index -------------------------------------------------------
def test_word_index_by_count_then_first_appearance():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    # the 3, cat 3 (the first), dog 2, then the count-1 words in order of appearance
    expected = ["the", "cat", "dog", "sat", "on", "mat", "ate", "my", "homework"]
    assert tok.word_index == {w: i + 1 for i, w in enumerate(expected)}
    assert tok.index_word == {i + 1: w for i, w in enumerate(expected)}
    assert list(tok.word_counts.items()) == [("the", 3), ("cat", 3), ("sat", 1), ("on", 1),
                                             ("mat", 1), ("dog", 2), ("ate", 1), ("my", 1),
                                             ("homework", 1)]
    assert dict(tok.word_docs) == {"the": 2, "cat": 2, "sat": 1, "on": 1, "mat": 1, "dog": 2,
                                   "ate": 1, "my": 1, "homework": 1}
    assert dict(tok.index_docs) == {1: 2, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1}
    assert tok.document_count == 3


def test_oov_token_is_index_1():
    tok = Tokenizer(oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    assert tok.word_index["<OOV>"] == 1 and tok.word_index["the"] == 2
    assert tok.word_index["homework"] == 10
    assert "<OOV>" not in tok.word_counts


def test_fitting_twice_accumulates_counts():
    tok = Tokenizer()
    tok.fit_on_texts(["b b a"])
    tok.fit_on_texts(["a a c"])
    assert tok.word_index == {"a": 1, "b": 2, "c": 3}
    assert tok.word_counts == {"b": 2, "a": 3, "c": 1} and tok.document_count == 2


def test_lower_false_and_char_level():
    tok = Tokenizer(lower=False)
    tok.fit_on_texts(["The the THE the"])
    assert tok.word_index == {"the": 1, "The": 2, "THE": 3}
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["a b!", "Ba"])  # char_level applies no filters; a 2, b 2, " " 1, ! 1
    assert tok.word_index == {"a": 1, "b": 2, " ": 3, "!": 4}
    assert tok.texts_to_sequences(["abz !"]) == [[1, 2, 3, 4]]


def test_lists_of_tokens_are_used_as_is():
    tok = Tokenizer()
    tok.fit_on_texts([["New", "York", "a.b"], ["york"]])
    assert tok.word_index == {"york": 1, "new": 2, "a.b": 3}
    assert tok.texts_to_sequences([["A.B", "YORK"], "new york, a.b"]) == [[3, 1], [2, 1]]


def test_analyzer_replaces_filtering_and_lowercasing():
    tok = Tokenizer(analyzer=lambda text: text.split("|"))
    tok.fit_on_texts(["a|B|a", "B.c"])
    assert tok.word_index == {"a": 1, "B": 2, "B.c": 3}
    assert tok.texts_to_sequences(["B|a|b"]) == [[2, 1]]


# ---- texts_to_sequences / sequences_to_texts ----------------------------------------------
@pytest.mark.parametrize("num_words, oov_token, expected", [
    (None, None, [1, 2, 7]),        # "a" and "fish" are unknown: dropped
    (4, None, [1, 2]),              # ate = 7 >= 4: dropped
    (0, None, [1, 2, 7]),           # num_words=0 means no limit, as in Keras 2
    (None, "<OOV>", [2, 3, 8, 1, 1]),
    (4, "<OOV>", [2, 3, 1, 1, 1]),  # with the oov token, ate = 8 >= 4 becomes 1
])
def test_texts_to_sequences(num_words, oov_token, expected):
    tok = Tokenizer(num_words=num_words, oov_token=oov_token)
    tok.fit_on_texts(TEXTS)
    assert tok.texts_to_sequences(["The cat ate a fish"]) == [expected]
    assert list(tok.texts_to_sequences_generator(["The cat ate a fish"])) == [expected]


@pytest.mark.parametrize("num_words, oov_token, expected", [
    (None, None, "the cat ate"),                # 0 and 99 have no word
    (3, None, "the cat"),
    (None, "<OOV>", "<OOV> the cat <OOV> <OOV>"),  # index 1 is the oov token itself
    (3, "<OOV>", "<OOV> the <OOV> <OOV> <OOV>"),
])
def test_sequences_to_texts(num_words, oov_token, expected):
    tok = Tokenizer(num_words=num_words, oov_token=oov_token)
    tok.fit_on_texts(TEXTS)
    seq = [1, 2, 7, 0, 99] if oov_token is None else [1, 2, 3, 0, 99]
    assert tok.sequences_to_texts([seq]) == [expected]


def test_fit_on_sequences_counts_documents_per_index():
    tok = Tokenizer()
    tok.fit_on_sequences([[1, 2, 2], [2, 3]])
    assert tok.document_count == 2 and dict(tok.index_docs) == {1: 1, 2: 2, 3: 1}


LOG2 = np.log(2)  # idf of the, cat and dog: log(1 + 3 documents / (1 + 2 containing it))


@pytest.mark.parametrize("num_words, mode, row0, row1", [
    # "the cat the" -> [1, 2, 1]; "dog zebra" -> [3] (zebra unknown)
    (None, "binary", {1: 1, 2: 1}, {3: 1}),
    (None, "count", {1: 2, 2: 1}, {3: 1}),
    (None, "freq", {1: 2 / 3, 2: 1 / 3}, {3: 1}),
    (None, "tfidf", {1: (1 + LOG2) * LOG2, 2: LOG2}, {3: LOG2}),
    (3, "count", {1: 2, 2: 1}, {}),         # dog = 3 is not < num_words
    (3, "freq", {1: 2 / 3, 2: 1 / 3}, {}),  # freq still divides by the full length
])
def test_texts_to_matrix(num_words, mode, row0, row1):
    tok = Tokenizer(num_words=num_words)
    tok.fit_on_texts(TEXTS)
    x = tok.texts_to_matrix(["the cat the", "dog zebra"], mode=mode)
    expected = np.zeros((2, num_words or 10))
    for row, values in enumerate([row0, row1]):
        for j, value in values.items():
            expected[row, j] = value
    assert x.dtype == np.float64
    np.testing.assert_allclose(x, expected, rtol=1e-15)


def test_matrix_errors():
    with pytest.raises(ValueError, match="specify num_words or fit"):
        Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(ValueError, match="before using mode='tfidf'"):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="mode must be one of .* got 'bag'"):
        Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="bag")
    np.testing.assert_array_equal(Tokenizer(num_words=3).sequences_to_matrix([[], [2, 5]]),
                                  [[0, 0, 0], [0, 0, 1]])


WORD = st.sampled_from(["a", "b", "c", "dd", "Ee", "ff", "g-h", "i.j", "k,l", "é"])
TEXT = st.lists(st.tuples(WORD, st.sampled_from([" ", "  ", ", ", "!\n", "\t"])), max_size=12).map(
    lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=6), st.lists(TEXT, max_size=4),
       st.one_of(st.none(), st.integers(1, 8)), st.sampled_from([None, "<unk>"]))
def test_random_texts_match_reference(fit_texts, texts, num_words, oov_token):
    tok = Tokenizer(num_words=num_words, oov_token=oov_token)
    tok.fit_on_texts(fit_texts)
    word_index = reference_word_index(fit_texts, oov_token)
    assert tok.word_index == word_index
    assert tok.texts_to_sequences(texts) == reference_sequences(word_index, texts, num_words, oov_token)


# ---- JSON ------------------------------------------------------------------------------
# What Keras 2's Tokenizer(oov_token="<OOV>").fit_on_texts(["a b a"]).to_json() returns.
KERAS2_JSON = json.dumps({"class_name": "Tokenizer", "config": {
    "num_words": None, "filters": KERAS2_FILTERS, "lower": True, "split": " ",
    "char_level": False, "oov_token": "<OOV>", "document_count": 1,
    "word_counts": '{"a": 2, "b": 1}', "word_docs": '{"b": 1, "a": 1}',
    "index_docs": '{"3": 1, "2": 1}', "index_word": '{"1": "<OOV>", "2": "a", "3": "b"}',
    "word_index": '{"<OOV>": 1, "a": 2, "b": 3}'}})


def test_reads_keras2_json():
    tok = tokenizer_from_json(KERAS2_JSON)
    assert tok.word_index == {"<OOV>": 1, "a": 2, "b": 3}
    assert tok.index_word == {1: "<OOV>", 2: "a", 3: "b"}
    assert dict(tok.index_docs) == {3: 1, 2: 1} and tok.document_count == 1
    assert tok.texts_to_sequences(["a c b"]) == [[2, 1, 3]]
    assert tok.sequences_to_texts([[3, 2]]) == ["b a"]


def test_writes_keras2_json():
    tok = Tokenizer(oov_token="<OOV>")
    tok.fit_on_texts(["a b a"])
    got = json.loads(tok.to_json())
    expected = json.loads(KERAS2_JSON)
    assert got["class_name"] == "Tokenizer"
    assert got["config"].keys() == expected["config"].keys()
    for key, value in expected["config"].items():
        if isinstance(value, str) and value.startswith("{"):
            assert json.loads(got["config"][key]) == json.loads(value), key
        else:
            assert got["config"][key] == value, key


def test_json_round_trip_keeps_behaviour():
    tok = Tokenizer(num_words=5, oov_token="?", lower=False, split=";", filters=".")
    tok.fit_on_texts(["x;y;X.y", "z;y"])
    back = tokenizer_from_json(tok.to_json())
    for attr in ("num_words", "oov_token", "lower", "split", "filters", "char_level",
                 "document_count", "word_index", "index_word", "word_counts"):
        assert getattr(back, attr) == getattr(tok, attr), attr
    texts = ["X;y;q", "z.x"]
    assert back.texts_to_sequences(texts) == tok.texts_to_sequences(texts)


# ---- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(num_words=-1), "num_words must be a non-negative integer or None, got -1"),
    (dict(num_words=2.5), "num_words must be"),
    (dict(split=""), "split must be a non-empty string"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Tokenizer(**kwargs)


def test_single_string_is_rejected():
    tok = Tokenizer()
    with pytest.raises(TypeError, match="not a single string"):
        tok.fit_on_texts("the cat")
    with pytest.raises(TypeError, match="not a single string"):
        tok.texts_to_sequences("the cat")
