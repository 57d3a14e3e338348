"""Sequence tagging: Embedding(mask_zero) -> Bidirectional(GRU) -> TimeDistributed(Dense).

The dataset is built here: sentences from a small grammar whose words carry
part-of-speech tags (DET, ADJ, NOUN, VERB, ADV); some words ("run", "light")
are nouns or verbs depending on where they stand, so the tagger has to read
the context both ways. Sentences are padded with 0, which the mask skips in
the GRUs and in the loss.

    python examples/tag_sequences.py
"""
import numpy as np

from fastembed.layers import GRU, Bidirectional, Dense, Embedding, TimeDistributed
from fastembed.models import Sequential
from fastembed.utils import pad_sequences, set_random_seed

WORDS = {
    "DET": ["the", "a", "every", "this"],
    "ADJ": ["quick", "small", "bright", "old", "light"],
    "NOUN": ["dog", "river", "light", "run", "city", "bird"],
    "VERB": ["sees", "crosses", "run", "light", "follows", "finds"],
    "ADV": ["slowly", "today", "again", "quietly"],
}
TAGS = ["<pad>", "DET", "ADJ", "NOUN", "VERB", "ADV"]


def sentence(rng):
    """(words, tags): DET [ADJ] NOUN VERB DET [ADJ] NOUN [ADV]."""
    pattern = ["DET"] + ["ADJ"] * rng.integers(0, 2) + ["NOUN", "VERB", "DET"] \
        + ["ADJ"] * rng.integers(0, 2) + ["NOUN"] + ["ADV"] * rng.integers(0, 2)
    return [str(rng.choice(WORDS[tag])) for tag in pattern], pattern


def dataset(n, rng, vocabulary, maxlen):
    sentences = [sentence(rng) for _ in range(n)]
    x = pad_sequences([[vocabulary[w] for w in words] for words, _ in sentences], maxlen,
                      padding="post")
    y = pad_sequences([[TAGS.index(t) for t in tags] for _, tags in sentences], maxlen,
                      padding="post")
    return x, y, sentences


def main():
    set_random_seed(0)
    rng = np.random.default_rng(0)
    words = sorted({w for group in WORDS.values() for w in group})
    vocabulary = {w: i + 1 for i, w in enumerate(words)}
    maxlen = 10
    x, y, _ = dataset(2000, rng, vocabulary, maxlen)
    x_test, y_test, test_sentences = dataset(200, rng, vocabulary, maxlen)
    model = Sequential([Embedding(len(vocabulary) + 1, 16, mask_zero=True),
                        Bidirectional(GRU(32, return_sequences=True)),
                        TimeDistributed(Dense(len(TAGS), activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(-1)
    real = x_test > 0
    accuracy = float((predicted == y_test)[real].mean())
    print(f"loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}; "
          f"tag accuracy on {int(real.sum())} held-out words: {accuracy:.3f}")
    for (words, tags), tagged in list(zip(test_sentences, predicted))[:3]:
        print(" ".join(f"{w}/{TAGS[t]}" for w, t in zip(words, tagged)))


if __name__ == "__main__":
    main()
