"""A word-level language model: train, then sample text with a temperature.

Embedding -> LSTM or GRU (return_sequences) -> Dense(vocabulary, softmax),
trained with sparse categorical cross-entropy to predict every next word.
The corpus is built here (no network): public-domain nursery rhymes, repeated
with their lines shuffled, so that a small model learns them in seconds.

    python examples/generate_text.py [--cell gru] [--temperature 0.7]
"""
import argparse

import numpy as np

from fastembed.layers import GRU, LSTM, Dense, Embedding
from fastembed.models import Sequential
from fastembed.preprocessing import Tokenizer
from fastembed.utils import set_random_seed

RHYMES = """
mary had a little lamb its fleece was white as snow
and everywhere that mary went the lamb was sure to go
twinkle twinkle little star how i wonder what you are
up above the world so high like a diamond in the sky
humpty dumpty sat on a wall humpty dumpty had a great fall
all the king's horses and all the king's men
couldn't put humpty together again
jack and jill went up the hill to fetch a pail of water
jack fell down and broke his crown and jill came tumbling after
hey diddle diddle the cat and the fiddle the cow jumped over the moon
the little dog laughed to see such sport and the dish ran away with the spoon
"""
STEPS = 8


def corpus(rng, repeats=40):
    lines = [line for line in RHYMES.strip().splitlines()]
    text = []
    for _ in range(repeats):
        rng.shuffle(lines)
        text += lines
    return " . ".join(text)


def windows(ids, steps):
    """Inputs of `steps` words and, for each, the next `steps` words."""
    starts = np.arange(0, len(ids) - steps - 1, steps // 2)
    x = np.stack([ids[s:s + steps] for s in starts])
    y = np.stack([ids[s + 1:s + steps + 1] for s in starts])
    return x, y


def sample(model, tokenizer, seed_words, length, temperature, rng):
    """Words drawn one at a time from the model's softmax, sharpened by temperature.
    The model reads the last STEPS words; a shorter seed follows sentence stops."""
    ids = tokenizer.texts_to_sequences([seed_words])[0]
    ids = [tokenizer.word_index["."]] * max(0, STEPS - len(ids)) + ids
    for _ in range(length):
        context = np.array([ids[-STEPS:]])
        probabilities = model.predict(context, verbose=0)[0, -1].astype(np.float64)
        logits = np.log(np.maximum(probabilities, 1e-12)) / temperature
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return tokenizer.sequences_to_texts([ids])[0].lstrip(". ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    set_random_seed(0)
    rng = np.random.default_rng(0)
    tokenizer = Tokenizer(filters='!"#$%&()*+,-/:;<=>?@[\\]^_`{|}~\t\n')
    text = corpus(rng)
    tokenizer.fit_on_texts([text])
    vocabulary = len(tokenizer.word_index) + 1
    x, y = windows(np.array(tokenizer.texts_to_sequences([text])[0]), STEPS)
    cell = {"lstm": LSTM, "gru": GRU}[args.cell]
    model = Sequential([Embedding(vocabulary, 32), cell(128, return_sequences=True),
                        Dense(vocabulary, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=args.epochs, batch_size=32, verbose=0)
    print(f"{args.cell}: {len(x)} windows of {STEPS} words, vocabulary {vocabulary}; loss "
          f"{history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}, accuracy "
          f"{history.history['accuracy'][-1]:.3f}")
    for seed_words in ("jack and jill", "twinkle twinkle", "the cat and"):
        print(f"[{seed_words}] ->", sample(model, tokenizer, seed_words, 16, args.temperature, rng))


if __name__ == "__main__":
    main()
