"""A learnable synthetic sentiment dataset shaped like keras.datasets.imdb.

Sentences are padded id sequences over a vocabulary of `num_words` ids (0 is
padding). A few ids carry positive or negative sentiment, one id is "not"
(it flips the sentiment of the word after it) and the rest are neutral; the
label says whether the sentence's total sentiment is positive. Word order
matters through "not", so sequence models have something to learn beyond a
bag of words.
"""
import numpy as np

NOT = 1  # the negation word's id
NEGATION_RATE = 0.1  # how often a sentiment word is negated


def _polarity(num_words, rng):
    """+1 / -1 for the positive / negative ids, 0 for neutral ones and NOT."""
    polarity = np.zeros(num_words, np.int64)
    ids = rng.permutation(np.arange(NOT + 1, num_words))
    size = max(4, (num_words - 2) // 20)
    polarity[ids[:size]] = 1
    polarity[ids[size:2 * size]] = -1
    return polarity


def sentiment_score(words, polarity):
    """Sum of the words' polarities, each flipped when the word before is NOT."""
    signs = polarity[words]
    negated = np.concatenate([[False], words[:-1] == NOT])
    return int(np.where(negated, -signs, signs).sum())


def _sentences(count, maxlen, polarity, rng):
    neutral = np.flatnonzero(polarity == 0)
    neutral = neutral[neutral > NOT]
    sentiment = np.flatnonzero(polarity)
    x = np.zeros((count, maxlen), np.int64)
    y = np.zeros(count, np.float32)
    for i, length in enumerate(rng.integers(maxlen // 2, maxlen + 1, count)):
        score = 0
        while score == 0:  # no ties: every sentence has a clear label
            words = rng.choice(neutral, length)
            slots = rng.choice(length, size=rng.integers(1, min(3, length) + 1), replace=False)
            words[slots] = rng.choice(sentiment, len(slots))
            negate = slots[(slots > 0) & (rng.random(len(slots)) < NEGATION_RATE)] - 1
            words[negate] = NOT
            score = sentiment_score(words, polarity)
        x[i, maxlen - length:] = words  # pre-padding, as pad_sequences does
        y[i] = score > 0
    return x, y


def load_data(num_words=1000, maxlen=10, train_samples=25_000, test_samples=5_000, seed=113):
    """(x_train, y_train), (x_test, y_test): int64 ids (samples, maxlen), float32 labels."""
    if num_words < 50:
        raise ValueError(f"num_words must be at least 50, got {num_words}")
    if maxlen < 2:
        raise ValueError(f"maxlen must be at least 2, got {maxlen}")
    rng = np.random.default_rng(seed)
    polarity = _polarity(num_words, rng)
    train = _sentences(train_samples, maxlen, polarity, rng)
    test = _sentences(test_samples, maxlen, polarity, rng)
    return train, test
