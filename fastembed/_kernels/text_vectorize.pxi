# Text vectorization: tokenize (standardize, split, n-grams), count, look up.
# fe_vocab and fe_vocab_build come from vectors.pxi.
from libc.stdint cimport uint64_t

cdef extern from "text_vectorize.h":
    enum:
        FE_SPLIT_NONE
        FE_SPLIT_WHITESPACE
        FE_SPLIT_CHARACTER
        FE_TOK_OK
    ctypedef struct fe_tokenizer:
        const char *text
        const int64_t *doc_offsets
        int64_t n_docs
        int64_t max_doc_len
        int lower
        int strip_punctuation
        int split
        const int64_t *ngram_widths
        int64_t n_widths
    int fe_tokenize_count(const fe_tokenizer *t, int64_t *doc_tokens, int64_t *doc_bytes) nogil
    int fe_tokenize_write(const fe_tokenizer *t, const int64_t *token_starts,
                          const int64_t *byte_starts, char *tokens,
                          int64_t *token_offsets) nogil
    int64_t fe_count_tokens(const char *tokens, const int64_t *token_offsets,
                            const int64_t *doc_starts, int64_t n_docs, int64_t *first,
                            int64_t *counts, int64_t *doc_counts, uint64_t *hashes) nogil
    void fe_lookup_tokens(const fe_vocab *vocab, const char *tokens,
                          const int64_t *token_offsets, int64_t n_tokens, int64_t missing,
                          int64_t *ids) nogil

SPLITS = {None: FE_SPLIT_NONE, "whitespace": FE_SPLIT_WHITESPACE,
          "character": FE_SPLIT_CHARACTER}

cdef char EMPTY_TEXT[1]


cdef const char *_bytes_ptr(const unsigned char[::1] data):
    return <const char *>&data[0] if data.shape[0] else EMPTY_TEXT


def check_offsets(name, offsets, int64_t total):
    """offsets: int64 (n + 1,), 0 first, total last, never decreasing."""
    if not isinstance(offsets, np.ndarray) or offsets.ndim != 1 or offsets.shape[0] < 1:
        raise ValueError(f"{name} must be a 1-D array of n + 1 offsets, got "
                         f"{type(offsets).__name__} of shape {np.shape(offsets)}")
    check_array(name, offsets, offsets.shape, np.int64)
    if offsets[0] != 0 or offsets[-1] != total or (np.diff(offsets) < 0).any():
        raise ValueError(f"{name} must rise from 0 to {total} (the bytes given), got "
                         f"{offsets[0]} .. {offsets[-1]}")


def tokenize(text, doc_offsets, bint lower, bint strip_punctuation, split, ngram_widths=None):
    """Standardized, split n-grams of documents text[doc_offsets[d]:doc_offsets[d+1]]
    (UTF-8 bytes): (tokens uint8, token_offsets int64 (n_tokens + 1,),
    doc_starts int64 (n_docs + 1,)), token k of document d for
    doc_starts[d] <= k < doc_starts[d+1]."""
    cdef const unsigned char[::1] text_view = text
    check_offsets("doc_offsets", doc_offsets, text_view.shape[0])
    if split not in SPLITS:
        raise ValueError(f"split must be None, 'whitespace' or 'character', got {split!r}")
    cdef fe_tokenizer t
    cdef const int64_t[::1] offsets = doc_offsets
    cdef int64_t n_docs = offsets.shape[0] - 1
    cdef const int64_t[::1] widths
    t.ngram_widths = NULL
    t.n_widths = 0
    if ngram_widths is not None:
        widths_array = np.ascontiguousarray(ngram_widths, dtype=np.int64)
        if widths_array.ndim != 1 or not widths_array.size or (widths_array < 1).any():
            raise ValueError(f"ngram_widths must be a non-empty list of integers >= 1, got "
                             f"{ngram_widths!r}")
        widths = widths_array
        t.ngram_widths = &widths[0]
        t.n_widths = widths.shape[0]
    t.text = _bytes_ptr(text_view)
    t.doc_offsets = &offsets[0]
    t.n_docs = n_docs
    t.max_doc_len = int(np.diff(doc_offsets).max()) if n_docs else 0
    t.lower = lower
    t.strip_punctuation = strip_punctuation
    t.split = SPLITS[split]
    counts = np.empty((2, n_docs), np.int64)
    cdef int64_t[:, ::1] counts_view = counts
    cdef int status
    with nogil:
        status = fe_tokenize_count(&t, &counts_view[0, 0] if n_docs else NULL,
                                   &counts_view[1, 0] if n_docs else NULL)
    if status != FE_TOK_OK:
        raise MemoryError(f"tokenize: no memory for a document of {t.max_doc_len} bytes")
    starts = np.zeros((2, n_docs + 1), np.int64)
    np.cumsum(counts, axis=1, out=starts[:, 1:])
    tokens = np.empty(starts[1, -1], np.uint8)
    token_offsets = np.empty(starts[0, -1] + 1, np.int64)
    cdef const int64_t[:, ::1] starts_view = starts
    cdef unsigned char[::1] tokens_view = tokens
    cdef int64_t[::1] token_offsets_view = token_offsets
    with nogil:
        status = fe_tokenize_write(&t, &starts_view[0, 0], &starts_view[1, 0],
                                   <char *>&tokens_view[0] if tokens_view.shape[0] else NULL,
                                   &token_offsets_view[0])
    if status != FE_TOK_OK:
        raise MemoryError(f"tokenize: no memory for a document of {t.max_doc_len} bytes")
    return tokens, token_offsets, starts[0]


def count_tokens(tokens, token_offsets, doc_starts):
    """The distinct tokens of tokenize's output in order of first occurrence:
    (first: index of its first occurrence, counts, doc_counts: documents it
    occurs in), int64 arrays."""
    cdef const unsigned char[::1] tokens_view = tokens
    check_offsets("token_offsets", token_offsets, tokens_view.shape[0])
    cdef int64_t n_tokens = token_offsets.shape[0] - 1
    check_offsets("doc_starts", doc_starts, n_tokens)
    cdef const int64_t[::1] offsets = token_offsets
    cdef const int64_t[::1] starts = doc_starts
    out = np.zeros((3, max(n_tokens, 1)), np.int64)
    hashes = np.empty(max(n_tokens, 1), np.uint64)
    cdef int64_t[:, ::1] out_view = out
    cdef uint64_t[::1] hashes_view = hashes
    cdef int64_t unique
    cdef const char *tokens_ptr = _bytes_ptr(tokens_view)
    with nogil:
        unique = fe_count_tokens(tokens_ptr, &offsets[0], &starts[0],
                                 starts.shape[0] - 1, &out_view[0, 0], &out_view[1, 0],
                                 &out_view[2, 0], &hashes_view[0])
    if unique < 0:
        raise MemoryError(f"count_tokens: no memory for the table of {n_tokens} tokens")
    return out[0, :unique].copy(), out[1, :unique].copy(), out[2, :unique].copy()


cdef class TokenVocabulary:
    """A hash table of distinct strings, built once, for looking up tokens."""
    cdef fe_vocab vocab
    cdef object _blob, _offsets, _slots
    cdef readonly int64_t size

    def __init__(self, words):
        encoded = [w.encode("utf-8") for w in words]
        self.size = len(encoded)
        self._blob = b"".join(encoded)
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in encoded], out=self._offsets[1:])
        cdef int64_t n_slots = 2
        while n_slots < 2 * len(encoded):
            n_slots *= 2
        self._slots = np.zeros(n_slots, dtype=np.int64)
        cdef const unsigned char[::1] blob = self._blob
        cdef const int64_t[::1] offsets = self._offsets
        cdef int64_t[::1] slots = self._slots
        self.vocab.blob = _bytes_ptr(blob)
        self.vocab.offsets = &offsets[0]
        self.vocab.slots = &slots[0]
        self.vocab.mask = n_slots - 1
        with nogil:
            fe_vocab_build(&self.vocab, self.size)

    def lookup(self, tokens, token_offsets, int64_t missing):
        """Position of each token (of tokenize's output) among the words, else missing."""
        cdef const unsigned char[::1] tokens_view = tokens
        check_offsets("token_offsets", token_offsets, tokens_view.shape[0])
        cdef const int64_t[::1] offsets = token_offsets
        cdef int64_t n_tokens = offsets.shape[0] - 1
        ids = np.empty(n_tokens, np.int64)
        cdef int64_t[::1] ids_view = ids
        cdef const char *tokens_ptr = _bytes_ptr(tokens_view)
        if n_tokens:
            with nogil:
                fe_lookup_tokens(&self.vocab, tokens_ptr, &offsets[0], n_tokens,
                                 missing, &ids_view[0])
        return ids
