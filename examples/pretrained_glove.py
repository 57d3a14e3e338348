"""From raw text and a GloVe file to a trained classifier, frozen and fine-tuned.

There is no network here, so the script first writes a small GloVe-format
file itself (gzip-compressed, as GloVe files often are): words of positive
and negative reviews get vectors pointing two different ways, plus noise.
With real vectors, replace `write_toy_glove(...)` by the path of e.g.
glove.6B.100d.txt.

    python examples/pretrained_glove.py
"""
import gzip
import os
import tempfile

import numpy as np

from fastembed.layers import Dense, Embedding, GlobalAveragePooling1D
from fastembed.models import Sequential
from fastembed.preprocessing import Tokenizer, build_embedding_matrix, load_vectors
from fastembed.utils import pad_sequences, set_random_seed

POSITIVE = ["good", "great", "excellent", "wonderful", "loved", "superb", "fun", "moving"]
NEGATIVE = ["bad", "awful", "boring", "terrible", "hated", "dull", "weak", "mess"]
NEUTRAL = ["the", "movie", "film", "plot", "actors", "was", "and", "a", "story", "it"]
DIM, MAXLEN = 50, 12


def make_reviews(n, rng):
    """Short reviews; the label is 1 when positive words outnumber negative ones."""
    texts, labels = [], []
    for _ in range(n):
        n_pos, n_neg = rng.integers(0, 4, 2)
        words = list(rng.choice(POSITIVE, n_pos)) + list(rng.choice(NEGATIVE, n_neg))
        words += list(rng.choice(NEUTRAL, 6))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
        labels.append(float(n_pos > n_neg))
    return texts, np.array(labels, np.float32)


def write_toy_glove(path, rng):
    """A GloVe text file: sentiment words along +/- one axis, plus unrelated words."""
    axis = rng.standard_normal(DIM)
    filler = [f"word{i}" for i in range(2000)]
    # "mess" and "superb" are left out: the tokenizer will meet words without vectors.
    words = [w for w in POSITIVE + NEGATIVE + NEUTRAL + filler if w not in ("mess", "superb")]
    sign = np.array([1.0 if w in POSITIVE else -1.0 if w in NEGATIVE else 0.0 for w in words])
    vectors = 0.5 * rng.standard_normal((len(words), DIM)) + sign[:, None] * axis
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for w, v in zip(words, vectors):
            f.write(w + " " + " ".join(f"{x:.5f}" for x in v) + "\n")


def train(matrix, trainable, x, y, x_test, y_test):
    model = Sequential([
        Embedding(matrix.shape[0], DIM, weights=[matrix], trainable=trainable),
        GlobalAveragePooling1D(),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    table = model.layers[0].get_weights()[0]
    print(f"  trainable={trainable}: test accuracy {accuracy:.3f}, loss {loss:.3f}, "
          f"embedding matrix unchanged: {np.array_equal(table, matrix)}")
    return model


def main():
    set_random_seed(0)
    rng = np.random.default_rng(0)
    texts, labels = make_reviews(2000, rng)
    test_texts, test_labels = make_reviews(500, rng)

    # 1. Tokenize: word_index ranks words by frequency, index 1 for unknown words.
    tokenizer = Tokenizer(num_words=5000, oov_token="<unk>")
    tokenizer.fit_on_texts(texts)
    x = pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=MAXLEN)
    x_test = pad_sequences(tokenizer.texts_to_sequences(test_texts), maxlen=MAXLEN)
    print(f"{len(tokenizer.word_index)} distinct words; first text -> {x[0].tolist()}")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "toy.glove.50d.txt.gz")
        write_toy_glove(path, rng)
        # 2. Load only the vectors of our vocabulary (the other lines are skipped unparsed).
        vectors = load_vectors(path, format="glove", vocabulary=tokenizer.word_index)
    print(f"loaded {vectors}")

    # 3. The Embedding matrix: row i is the vector of the word with index i.
    num_words = min(tokenizer.num_words, len(tokenizer.word_index) + 1)
    matrix, coverage = build_embedding_matrix(tokenizer.word_index, vectors,
                                              num_words=num_words, oov="uniform", seed=0)
    missing = sorted(w for w, i in tokenizer.word_index.items() if i < num_words and w not in vectors)
    print(f"coverage: {coverage} of {num_words - 1} words have a vector; missing: {missing}")

    # 4. Frozen vectors train only the head; fine-tuning also moves the vectors.
    print("training:")
    train(matrix, False, x, labels, x_test, test_labels)
    train(matrix, True, x, labels, x_test, test_labels)


if __name__ == "__main__":
    main()
