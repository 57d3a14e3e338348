"""Loading a GloVe-format text file (400,000 words x 100 dims, ~350 MB)
against gensim's KeyedVectors.load_word2vec_format(no_header=True) and the
Keras example's Python loop, in the same run.

Groups: glove-400k-full (every word) and glove-400k-vocab-20k (a 20,000-word
vocabulary; gensim and the loop load everything, then keep those words).
gensim takes tens of seconds per load, so every case runs 1-3 rounds; expect
the whole file to take a few minutes. Ratios: python bench/report.py <json>.
"""
import numpy as np
import pytest

from fastembed.preprocessing import load_vectors

N_WORDS, DIM, VOCAB = 400_000, 100, 20_000


def glove_text(words, values):
    """GloVe-style lines: negatives as -0.ddddd, positives as 0.dddddd."""
    neg = values < 0
    digits = np.where(neg, np.round(-values * 1e5), np.round(values * 1e6)).astype(np.int64)
    digits = np.minimum(digits, np.where(neg, 99_999, 999_999))
    chars = np.empty(values.shape + (9,), np.uint8)
    chars[..., 0] = ord(" ")
    chars[..., 1] = np.where(neg, ord("-"), ord("0"))
    chars[..., 2] = np.where(neg, ord("0"), ord("."))
    for k in range(5):  # the last five digits, shared by both forms
        chars[..., 8 - k] = ord("0") + digits // 10**k % 10
    chars[..., 3] = np.where(neg, ord("."), ord("0") + digits // 10**5 % 10)
    rows = chars.reshape(len(words), -1)
    return b"".join(w.encode() + rows[i].tobytes() + b"\n" for i, w in enumerate(words))


@pytest.fixture(scope="session")
def glove_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(N_WORDS)]
    words[1:6] = ["café", "naïve", "日本語", "straße", "the"]
    path = tmp_path_factory.mktemp("vectors") / "glove.400k.100d.txt"
    with open(path, "wb") as f:
        for start in range(0, N_WORDS, 50_000):
            values = rng.uniform(-1, 1, (50_000, DIM))
            f.write(glove_text(words[start:start + 50_000], values))
    vocab = list(rng.choice(words, VOCAB, replace=False)) + ["not-in-the-file"]
    return path, words, vocab


def gensim_load(path):
    from gensim.models import KeyedVectors
    return KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=True)


def python_loop_load(path):
    """The Keras pretrained-embeddings example's loader."""
    index = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, coefs = line.split(maxsplit=1)
            index[word] = np.fromstring(coefs, "f", sep=" ")
    return index


def run(benchmark, fn, rounds):
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=0)


# ---- every word --------------------------------------------------------------------
def test_full_fastembed(benchmark, glove_file):
    path, words, _ = glove_file
    benchmark.group = "glove-400k-full"
    v = run(benchmark, lambda: load_vectors(path, "glove"), 3)
    assert v.words == words and v.matrix.shape == (N_WORDS, DIM)
    # Bitwise the same numbers as gensim (float() then float32).
    kv = gensim_load(path)
    assert kv.index_to_key == words
    np.testing.assert_array_equal(v.matrix.view(np.uint32), kv.vectors.view(np.uint32))


def test_full_gensim(benchmark, glove_file):
    pytest.importorskip("gensim")
    benchmark.group = "glove-400k-full"
    kv = run(benchmark, lambda: gensim_load(glove_file[0]), 1)
    assert kv.vectors.shape == (N_WORDS, DIM)


def test_full_python_loop(benchmark, glove_file):
    benchmark.group = "glove-400k-full"
    index = run(benchmark, lambda: python_loop_load(glove_file[0]), 1)
    assert len(index) == N_WORDS


# ---- a 20,000-word vocabulary ---------------------------------------------------------
def test_vocab_fastembed(benchmark, glove_file):
    path, words, vocab = glove_file
    benchmark.group = "glove-400k-vocab-20k"
    v = run(benchmark, lambda: load_vectors(path, "glove", vocabulary=vocab), 3)
    wanted = set(vocab)
    assert v.words == [w for w in words if w in wanted]


def test_vocab_gensim(benchmark, glove_file):
    pytest.importorskip("gensim")
    path, _, vocab = glove_file
    benchmark.group = "glove-400k-vocab-20k"

    def load_and_filter():
        kv = gensim_load(path)
        return {w: kv[w] for w in vocab if w in kv.key_to_index}

    assert len(run(benchmark, load_and_filter, 1)) == VOCAB
