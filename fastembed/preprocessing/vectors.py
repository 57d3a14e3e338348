"""Pretrained word vectors: streaming loaders and the embedding matrix.

Formats (plain or gzip-compressed, detected from the file's first bytes):
  "glove"            text, one "word x1 ... xdim" line per word, no header
  "word2vec"         text with a first line "count dim" (also fastText .vec)
  "fasttext"         the same as "word2vec"
  "word2vec_binary"  a "count dim" line, then per word "word " + dim float32
                     (little-endian), as word2vec's -binary 1 writes them

The file is parsed in C in chunks, so memory holds only what is kept; with a
vocabulary, the numbers of other words are never parsed. Any malformed line or
record raises VectorFileError naming the file and the 1-based line (record);
nothing is returned half-loaded.
"""
import gzip
import os
import warnings
import zlib

import numpy as np

from fastembed._kernels._core import MAX_VECTOR_DIM, VectorParser
from fastembed.utils.random import generator

FORMATS = ("glove", "word2vec", "fasttext", "word2vec_binary")
OOV_FILLS = ("zeros", "uniform", "mean")
CHUNK_SIZE = 1 << 22
# Rows allocated at the first row: a header's count, trusted up to this many
# and to what the chunk in memory can hold; the outputs double from there (or
# from 1024 without a header).
MAX_INITIAL_ROWS = 1 << 20
MAX_HEADER_COUNT = (1 << 62) - 1


class VectorFileError(ValueError):
    """A malformed vectors file; the message names the file and line/record."""


class WordVectors:
    """Vectors by word: matrix[i] (float32, shape (len(words), dim)) is the
    vector of words[i]; `index` maps each word to its row."""

    def __init__(self, words, matrix):
        words = list(words)
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ValueError(f"matrix must have shape ({len(words)}, dim), got {matrix.shape}")
        self.words = words
        self.matrix = matrix
        self.index = {w: i for i, w in enumerate(words)}
        if len(self.index) != len(words):
            raise ValueError("words must be distinct")

    @classmethod
    def _from_parts(cls, words, matrix, index):
        """Without the checks: for the loader's own, already consistent parts."""
        self = cls.__new__(cls)
        self.words, self.matrix, self.index = words, matrix, index
        return self

    @classmethod
    def from_mapping(cls, mapping):
        """From a dict word -> 1-D vector (the `embeddings_index` of Keras examples)."""
        words = list(mapping)
        rows = [np.asarray(mapping[w], dtype=np.float32) for w in words]
        for w, row in zip(words, rows):
            if row.ndim != 1 or row.shape != rows[0].shape:
                raise ValueError(f"vectors[{w!r}] has shape {row.shape}, expected {rows[0].shape}")
        return cls(words, np.stack(rows) if rows else np.zeros((0, 0), np.float32))

    @property
    def dim(self):
        return self.matrix.shape[1]

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.matrix[self.index[word]]

    def get(self, word, default=None):
        i = self.index.get(word)
        return default if i is None else self.matrix[i]

    def __repr__(self):
        return f"WordVectors({len(self)} words x {self.dim})"


def _open(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _read_header(f, path):
    line = f.readline(256)
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) == 0:
        raise VectorFileError(f"{path}: line 1: expected a header 'count dim' (two integers, "
                              f"dim > 0), got {line[:60]!r}")
    count, dim = int(parts[0]), int(parts[1])
    if count > MAX_HEADER_COUNT or dim > MAX_VECTOR_DIM:
        raise VectorFileError(f"{path}: line 1: the header declares {count} vectors of {dim} "
                              f"numbers; at most {MAX_HEADER_COUNT} of {MAX_VECTOR_DIM} can be read")
    return count, dim


def _vocabulary_list(vocabulary):
    if vocabulary is None:
        return None
    if isinstance(vocabulary, (str, bytes)):
        raise TypeError("vocabulary must be a collection of words, not a single string")
    words = list(dict.fromkeys(vocabulary))
    for w in words:
        if not isinstance(w, str):
            raise TypeError(f"vocabulary must hold str words, got {w!r}")
    return words


def _raise_parse_error(parser, status, buf, path, max_records):
    count, field, pos, length = parser.error
    if parser.binary:
        where = f"{path}: record {parser.records + 1}"
        messages = {
            "bad_number": f"value {field} of the vector is not finite",
            "extra": f"data after the {max_records} records the header declares",
            "truncated": "the file ends inside this record (truncated file?)",
        }
    else:
        where = f"{path}: line {parser.line}"
        token = bytes(buf[pos:pos + min(length, 40)]).decode("utf-8", "replace")
        source = "the header declares" if max_records >= 0 else "on the first line"
        messages = {
            "bad_count": (f"expected {parser.dim} numbers after the word ({source}), found {count}"
                          if parser.dim else "a word without numbers"),
            "bad_number": f"number {field}, {token!r}, is not a finite float32 number",
            "extra": f"more vectors than the {max_records} the header declares",
        }
    raise VectorFileError(f"{where}: {messages[status]}")


def _parse(f, parser, path, max_records):
    buf = bytearray(CHUNK_SIZE)
    tail = 0
    while True:
        if tail == len(buf):  # a line longer than the buffer
            buf.extend(bytes(len(buf)))
        with memoryview(buf) as view:
            n = f.readinto(view[tail:])
        stop = tail + n
        status, consumed = parser.feed(buf, stop, n == 0)
        if status:
            _raise_parse_error(parser, status, buf, path, max_records)
        buf[:stop - consumed] = buf[consumed:stop]
        tail = stop - consumed
        if n == 0:
            return


def _decode_words(blob, lines, path, binary):
    try:
        return blob.decode("utf-8").split(" ")[:-1]
    except UnicodeDecodeError as e:
        row = blob.count(b" ", 0, e.start)
        word = blob[blob.rfind(b" ", 0, e.start) + 1:blob.find(b" ", e.start)]
        kind = "record" if binary else "line"
        raise VectorFileError(f"{path}: {kind} {lines[row]}: word {word!r} is not valid UTF-8") from None


def load_vectors(path, format="glove", vocabulary=None):
    """Load the vectors of a GloVe, word2vec (text or binary) or fastText .vec
    file, plain or gzip-compressed.

    vocabulary: words to keep (any collection of str, e.g. a Tokenizer's
        word_index); None keeps every word. Lines of other words are skipped
        unparsed, so memory is bounded by what is kept.
    Words that appear twice keep their first vector, with a warning.
    Returns a WordVectors, in file order. Raises VectorFileError for a
    malformed file.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    path = os.fspath(path)
    binary = format == "word2vec_binary"
    vocab = _vocabulary_list(vocabulary)
    try:
        with _open(path) as f:
            if not binary and f.peek(3)[:3] == b"\xef\xbb\xbf":
                f.read(3)  # a UTF-8 byte-order mark is not part of the first word
            count, dim = (-1, 0) if format == "glove" else _read_header(f, path)
            capacity = min(count, MAX_INITIAL_ROWS) if count >= 0 else 1024
            parser = VectorParser(dim, binary, max_records=count, vocabulary=vocab,
                                  line=0 if count < 0 else 1, capacity=capacity)
            _parse(f, parser, path, count)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise VectorFileError(f"{path}: corrupt gzip data: {e}") from None
    if count >= 0 and parser.records != count:
        end = "" if binary else f" (it ends at line {parser.line})"
        raise VectorFileError(f"{path}: the header declares {count} vectors but the file "
                              f"holds {parser.records}{end}")
    if parser.dim == 0:
        raise VectorFileError(f"{path}: no vectors found")
    matrix, lines, words = parser.finish()
    words = [vocab[i] for i in words] if vocab is not None else _decode_words(words, lines, path, binary)
    index = dict(zip(words, range(len(words))))
    if len(index) < len(words):
        first = {}
        for i, w in enumerate(words):
            first.setdefault(w, i)
        keep = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        dup = next(i for i, w in enumerate(words) if first[w] != i)
        kind = "record" if binary else "line"
        warnings.warn(f"{path}: {len(words) - len(keep)} duplicate words (first: {words[dup]!r} "
                      f"at {kind} {lines[dup]}); kept the first vector of each", stacklevel=2)
        matrix, words = matrix[keep], [words[i] for i in keep]
        index = {w: i for i, w in enumerate(words)}
    return WordVectors._from_parts(words, matrix, index)


def build_embedding_matrix(word_index, vectors, num_words=None, oov="zeros", seed=None):
    """The matrix for `Embedding(num_words, dim, weights=[matrix])`.

    word_index: dict word -> index >= 1 (a Tokenizer's word_index).
    vectors: a WordVectors or a dict word -> vector.
    num_words: rows of the matrix; words with index >= num_words are left out,
        as a Tokenizer(num_words=...) leaves them out. Default: max index + 1.
    oov: the row of a word without a vector: "zeros"; "uniform", drawn from
        U(-0.05, 0.05) like Embedding's default initializer (fastembed's
        generator, or a fresh one seeded by `seed`); "mean", the mean of all
        the vectors in `vectors`.
    Row 0 (padding) and indices no word maps to are zeros.
    Returns (matrix float32 (num_words, dim), coverage): coverage is the number
    of words with index < num_words that have a vector.
    """
    if oov not in OOV_FILLS:
        raise ValueError(f"oov must be one of {OOV_FILLS}, got {oov!r}")
    if not isinstance(vectors, WordVectors):
        vectors = WordVectors.from_mapping(vectors)
    for word, i in word_index.items():
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 1:
            raise ValueError(f"word_index[{word!r}] = {i!r} is not an integer >= 1")
    indices = np.fromiter(word_index.values(), dtype=np.int64, count=len(word_index))
    if len(np.unique(indices)) != len(indices):
        raise ValueError("word_index maps two words to the same index")
    if num_words is None:
        num_words = int(indices.max()) + 1 if len(indices) else 1
    elif isinstance(num_words, bool) or not isinstance(num_words, (int, np.integer)) or num_words < 1:
        raise ValueError(f"num_words must be a positive integer, got {num_words!r}")
    if oov == "mean" and len(vectors) == 0:
        raise ValueError("oov='mean' needs at least one vector")
    rows = np.fromiter((vectors.index.get(w, -1) for w in word_index), dtype=np.int64,
                       count=len(word_index))
    used = indices < num_words
    indices, rows = indices[used], rows[used]
    found = rows >= 0
    matrix = np.zeros((num_words, vectors.dim), dtype=np.float32)
    missing = indices[~found]
    if oov == "uniform":
        matrix[missing] = generator(seed).uniform(-0.05, 0.05, (len(missing), vectors.dim))
    elif oov == "mean":
        matrix[missing] = vectors.matrix.mean(axis=0, dtype=np.float64)
    matrix[indices[found]] = vectors.matrix[rows[found]]
    return matrix, int(found.sum())
