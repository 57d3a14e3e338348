"""TextVectorization.adapt on 100,000 documents: fastembed vs Keras's
TextVectorization on TensorFlow vs Python/numpy baselines, same data, same run.

Documents: 100,000 of 5-75 words (~40 on average, 4.0M tokens) drawn from a
Zipf law over 50,000 words, with capitals and punctuation. Each entry
learns the default layer's vocabulary (lower-case, strip punctuation,
whitespace split, sorted by count then token, high to low) and, for
fastembed and Keras, with ngrams=2 as well:
  fastembed          TextVectorization.adapt;
  keras-tensorflow   keras.layers.TextVectorization.adapt on TensorFlow,
                     run in a worker process of the Python named by
                     FASTEMBED_TF_PYTHON (default /work/venv-tf/bin/python, a
                     venv with tensorflow): the worker holds the documents
                     and times nothing, each round is one request, and the
                     pipe's round trip (~1 ms) is in its time;
  python-counter     str.translate + re.sub + str.split + Counter, sorted;
  numpy-unique       the same tokens, np.unique(return_counts) + np.lexsort.
Every entry's vocabulary is checked equal to fastembed's (Keras's in the
worker, the others here). Ratios: bench/report.py.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m pytest \\
        bench/bench_text_vectorization.py --benchmark-json bench-text.json
"""
import json
import os
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from fastembed.layers import TextVectorization

DOCUMENTS, WORDS, ROUNDS = 100_000, 50_000, 3
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
TF_PYTHON = os.environ.get("FASTEMBED_TF_PYTHON", "/work/venv-tf/bin/python")

WORKER = r"""
import json, os, sys
os.environ["KERAS_BACKEND"] = "tensorflow"
import keras
docs = open(sys.argv[1], encoding="utf-8").read().split("\n")
keras.layers.TextVectorization().adapt(docs[:1000])  # graph building, outside timing
print("ready", flush=True)
for line in sys.stdin:
    layer = keras.layers.TextVectorization(**json.loads(line))
    layer.adapt(docs)
    print(json.dumps([str(t) for t in layer.get_vocabulary()]), flush=True)
"""


def make_documents(seed=0):
    """Words are letters with capitals, documents end words with punctuation."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    words = np.array(["".join(rng.choice(letters, rng.integers(2, 10))) for _ in range(WORDS)])
    lengths = rng.integers(5, 76, DOCUMENTS)
    ranks = np.minimum(rng.zipf(1.1, lengths.sum()), WORDS) - 1
    tokens = words[ranks] + rng.choice(np.array(["", "", "", "", ",", ".", "!", "'s"]),
                                       lengths.sum())
    ends = np.cumsum(lengths)
    return [" ".join(tokens[e - n:e]) for e, n in zip(ends, lengths)]


def python_tokens(doc):
    return PUNCTUATION.sub("", doc.translate(ASCII_LOWER)).split()


def by_count_then_token(tokens, counts):
    order = np.lexsort((np.array(tokens, dtype=object), counts))[::-1]
    return ["", "[UNK]"] + [tokens[i] for i in order]


def python_counter(docs):
    counter = Counter()
    for doc in docs:
        counter.update(python_tokens(doc))
    tokens = list(counter)
    return by_count_then_token(tokens, np.fromiter(counter.values(), np.int64, len(tokens)))


def numpy_unique(docs):
    tokens, counts = np.unique(np.array([t for d in docs for t in python_tokens(d)]),
                               return_counts=True)
    return by_count_then_token(tokens.tolist(), counts)


def fastembed_adapt(docs, options):
    layer = TextVectorization(**options)
    layer.adapt(docs)
    return layer.get_vocabulary()


@pytest.fixture(scope="module")
def docs():
    return make_documents()


@pytest.fixture(scope="module")
def expected(docs):
    return {ngrams: fastembed_adapt(docs, {"ngrams": ngrams}) for ngrams in (None, 2)}


@pytest.fixture(scope="module")
def keras_worker(docs, tmp_path_factory):
    if not os.path.exists(TF_PYTHON):
        pytest.skip(f"no TensorFlow Python at FASTEMBED_TF_PYTHON={TF_PYTHON}")
    path = tmp_path_factory.mktemp("docs") / "docs.txt"
    path.write_text("\n".join(docs), encoding="utf-8")
    worker = subprocess.Popen([TF_PYTHON, "-c", WORKER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if worker.stdout.readline().strip() != "ready":
        worker.kill()
        pytest.fail(f"the TensorFlow worker ({TF_PYTHON}) did not start")
    yield worker
    worker.stdin.close()
    worker.wait(timeout=60)


def keras_adapt(worker, options):
    worker.stdin.write(json.dumps(options) + "\n")
    worker.stdin.flush()
    return json.loads(worker.stdout.readline())


@pytest.mark.parametrize("ngrams", [None, 2])
@pytest.mark.parametrize("framework", ["fastembed", "keras-tensorflow", "python-counter",
                                       "numpy-unique"])
def test_adapt(benchmark, request, docs, expected, framework, ngrams):
    options = {} if ngrams is None else {"ngrams": ngrams}
    if framework == "fastembed":
        run = lambda: fastembed_adapt(docs, options)  # noqa: E731
    elif framework == "keras-tensorflow":
        worker = request.getfixturevalue("keras_worker")
        run = lambda: keras_adapt(worker, options)  # noqa: E731
    elif ngrams is not None:
        pytest.skip("the Python baselines learn unigrams only")
    else:
        run = {"python-counter": python_counter, "numpy-unique": numpy_unique}[framework]
        run = (lambda f: lambda: f(docs))(run)
    benchmark.group = f"adapt-text-vectorization-{DOCUMENTS}-docs" + \
        ("" if ngrams is None else f"-ngrams{ngrams}")
    vocabularies = []
    benchmark.pedantic(lambda: vocabularies.append(run()), rounds=ROUNDS, iterations=1)
    assert vocabularies[-1] == expected[ngrams]
    benchmark.extra_info["documents_per_s"] = DOCUMENTS / benchmark.stats.stats.median
    benchmark.extra_info["vocabulary"] = len(vocabularies[-1])
    print(f"\n{framework} ngrams={ngrams}: {benchmark.stats.stats.median:.3f} s, "
          f"{len(vocabularies[-1])} tokens", file=sys.stderr)
