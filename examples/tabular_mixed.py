"""A tabular classifier on a table with string categorical columns, numeric
columns and a free-text column, each through its preprocessing layer:

    occupation (str)  -> StringLookup(output_mode="one_hot")
    city (str, many)  -> StringLookup -> Embedding
    age, income       -> Normalization
    review (text)     -> TextVectorization(output_mode="tf_idf")

then Concatenate -> Dense -> Dense(sigmoid). The table is synthetic: the
label depends on every column (an occupation effect, a city effect, age and
income, and sentiment words in the review), so each branch has to work.

    python examples/tabular_mixed.py
"""
import numpy as np

import fastembed
from fastembed.layers import (Concatenate, Dense, Embedding, Flatten, Normalization,
                              StringLookup, TextVectorization)
from fastembed.utils import set_random_seed

OCCUPATIONS = ["writer", "engineer", "nurse", "teacher", "artist", "farmer", "lawyer"]
GOOD = ["great", "love", "excellent", "perfect", "happy"]
BAD = ["awful", "hate", "broken", "poor", "refund"]
FILLER = ["the", "item", "was", "it", "and", "delivery", "box", "really", "quite", "very"]


def make_table(n, seed):
    """(columns dict, labels): the label is drawn from a logistic of every column."""
    rng = np.random.default_rng(seed)
    occupation = rng.choice(OCCUPATIONS, n)
    cities = np.array([f"city_{i:03d}" for i in range(150)])
    city = cities[rng.zipf(1.3, n) % len(cities)]
    age = rng.normal(40, 12, n).clip(18, 90)
    income = rng.lognormal(10.5, 0.5, n)
    sentiment = rng.normal(0, 1.5, n)
    reviews = []
    for s in sentiment:
        words = list(rng.choice(FILLER, rng.integers(3, 9)))
        words += list(rng.choice(GOOD if s > 0 else BAD, 1 + int(abs(s))))
        rng.shuffle(words)
        reviews.append(" ".join(words).capitalize() + rng.choice([".", "!", "?!"]))
    occupation_effect = dict(zip(OCCUPATIONS, np.linspace(-1.2, 1.2, len(OCCUPATIONS))))
    city_effect = np.random.default_rng(1).normal(0, 1.0, len(cities))
    logit = (np.vectorize(occupation_effect.get)(occupation)
             + city_effect[np.searchsorted(cities, city)] + (age - 40) / 15
             + (np.log(income) - 10.5) * 1.5 + 1.2 * sentiment)
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    columns = {"occupation": occupation, "city": city,
               "numeric": np.stack([age, income], 1).astype(np.float32),
               "review": np.array(reviews)}
    return columns, labels


def build_model(train):
    occupation_lookup = StringLookup(output_mode="one_hot")
    occupation_lookup.adapt(train["occupation"])
    city_lookup = StringLookup()
    city_lookup.adapt(train["city"])
    normalize = Normalization()
    normalize.adapt(train["numeric"])
    vectorize = TextVectorization(max_tokens=100, output_mode="tf_idf")
    vectorize.adapt(train["review"])

    occupation = fastembed.Input((1,), dtype="string", name="occupation")
    city = fastembed.Input((1,), dtype="string", name="city")
    numeric = fastembed.Input((2,), name="numeric")
    review = fastembed.Input((1,), dtype="string", name="review")
    features = Concatenate()([
        occupation_lookup(occupation),
        Flatten()(Embedding(city_lookup.vocabulary_size(), 4)(city_lookup(city))),
        normalize(numeric),
        Dense(8, activation="relu")(vectorize(review)),
    ])
    hidden = Dense(16, activation="relu")(features)
    output = Dense(1, activation="sigmoid")(hidden)
    return fastembed.Model([occupation, city, numeric, review], output)


def main(rows=20_000, epochs=8):
    set_random_seed(0)
    train, labels = make_table(rows, seed=0)
    test, test_labels = make_table(max(rows // 4, 100), seed=1)
    model = build_model(train)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    names = ["occupation", "city", "numeric", "review"]
    model.fit([train[k] for k in names], labels, epochs=epochs, batch_size=64, verbose=0)
    predicted = model.predict([test[k] for k in names], verbose=0)[:, 0]
    accuracy = float(((predicted > 0.5) == test_labels).mean())
    majority = float(max(test_labels.mean(), 1 - test_labels.mean()))
    print(f"test accuracy {accuracy:.3f} (majority class: {majority:.3f}) on {len(test_labels)} "
          f"rows; e.g. {str(test['occupation'][0])!r}, {str(test['city'][0])!r}, "
          f"{str(test['review'][0])!r}")
    return accuracy, majority


if __name__ == "__main__":
    main()
