# Text vectorization: tokenize (standardize, split, n-grams), count, look up.
# fe_strings, fe_vocab_lookup, StringBatch and VocabularyTable come from lookup.pxi.

cdef extern from "text_vectorize.h":
    enum:
        FE_SPLIT_NONE
        FE_SPLIT_WHITESPACE
        FE_SPLIT_CHARACTER
        FE_TOK_OK
    ctypedef struct fe_tokenizer:
        const fe_strings *docs
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
    int64_t fe_strings_max_length(const fe_strings *s) nogil
    int64_t fe_count_tokens(const char *tokens, const int64_t *token_offsets,
                            const int64_t *doc_starts, int64_t n_docs, int64_t *first,
                            int64_t *counts, int64_t *doc_counts, uint64_t *hashes) nogil

SPLITS = {None: FE_SPLIT_NONE, "whitespace": FE_SPLIT_WHITESPACE,
          "character": FE_SPLIT_CHARACTER}

cdef char EMPTY_TEXT[1]


cdef fe_strings _token_strings(tokens, token_offsets) except *:
    """Tokens (uint8) and their offsets (int64, n + 1 from 0 to the bytes) as fe_strings."""
    check_array("tokens", tokens, tokens.shape, np.uint8)
    check_array("token_offsets", token_offsets, token_offsets.shape, np.int64)
    if token_offsets.ndim != 1 or token_offsets.shape[0] < 1 or token_offsets[0] != 0 \
            or token_offsets[-1] != tokens.shape[0] or (np.diff(token_offsets) < 0).any():
        raise ValueError(f"token_offsets must rise from 0 to {tokens.shape[0]} (the bytes of "
                         f"tokens), got {token_offsets!r}")
    cdef fe_strings strings
    strings.starts = NULL
    strings.lengths = NULL
    strings.blob = <const char *>cnp.PyArray_DATA(tokens) if tokens.shape[0] else EMPTY_TEXT
    strings.offsets = <const int64_t *>cnp.PyArray_DATA(token_offsets)
    strings.width = 0
    strings.strip_nul = 0
    strings.n = token_offsets.shape[0] - 1
    return strings


def tokenize(StringBatch docs, bint lower, bint strip_punctuation, split, ngram_widths=None):
    """The standardized, split n-grams of each document of docs:
    (tokens uint8, token_offsets int64 (n_tokens + 1,), doc_starts int64
    (n_docs + 1,)); token k is tokens[token_offsets[k]:token_offsets[k+1]],
    and document d holds tokens doc_starts[d] <= k < doc_starts[d+1]."""
    if split not in SPLITS:
        raise ValueError(f"split must be None, 'whitespace' or 'character', got {split!r}")
    cdef fe_tokenizer t
    cdef int64_t n_docs = docs.strings.n
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
    t.docs = &docs.strings
    with nogil:
        t.max_doc_len = fe_strings_max_length(&docs.strings)
    t.lower = lower
    t.strip_punctuation = strip_punctuation
    t.split = SPLITS[split]
    counts = np.empty((2, n_docs), np.int64)
    cdef int64_t[:, ::1] counts_view = counts
    cdef int status
    if n_docs:
        with nogil:
            status = fe_tokenize_count(&t, &counts_view[0, 0], &counts_view[1, 0])
        if status != FE_TOK_OK:
            raise MemoryError(f"tokenize: no memory for a document of {t.max_doc_len} bytes")
    starts = np.zeros((2, n_docs + 1), np.int64)
    np.cumsum(counts, axis=1, out=starts[:, 1:])
    tokens = np.empty(starts[1, -1], np.uint8)
    token_offsets = np.zeros(starts[0, -1] + 1, np.int64)
    cdef const int64_t[:, ::1] starts_view = starts
    cdef char *tokens_ptr = <char *>cnp.PyArray_DATA(tokens)
    cdef int64_t *offsets_ptr = <int64_t *>cnp.PyArray_DATA(token_offsets)
    if n_docs:
        with nogil:
            status = fe_tokenize_write(&t, &starts_view[0, 0], &starts_view[1, 0], tokens_ptr,
                                       offsets_ptr)
        if status != FE_TOK_OK:
            raise MemoryError(f"tokenize: no memory for a document of {t.max_doc_len} bytes")
    return tokens, token_offsets, starts[0]


def count_tokens(tokens, token_offsets, doc_starts):
    """The distinct tokens of tokenize's output in order of first occurrence:
    (first: index of its first occurrence, counts, doc_counts: documents it
    occurs in), int64 arrays."""
    cdef fe_strings strings = _token_strings(tokens, token_offsets)
    check_array("doc_starts", doc_starts, doc_starts.shape, np.int64)
    if doc_starts.ndim != 1 or doc_starts.shape[0] < 1 or doc_starts[0] != 0 \
            or doc_starts[-1] != strings.n or (np.diff(doc_starts) < 0).any():
        raise ValueError(f"doc_starts must rise from 0 to {strings.n} (the tokens), got "
                         f"{doc_starts!r}")
    cdef const int64_t[::1] starts = doc_starts
    out = np.zeros((3, max(strings.n, 1)), np.int64)
    hashes = np.empty(max(strings.n, 1), np.uint64)
    cdef int64_t[:, ::1] out_view = out
    cdef uint64_t[::1] hashes_view = hashes
    cdef int64_t unique
    with nogil:
        unique = fe_count_tokens(strings.blob, strings.offsets, &starts[0], starts.shape[0] - 1,
                                 &out_view[0, 0], &out_view[1, 0], &out_view[2, 0],
                                 &hashes_view[0])
    if unique < 0:
        raise MemoryError(f"count_tokens: no memory for the table of {strings.n} tokens")
    return out[0, :unique].copy(), out[1, :unique].copy(), out[2, :unique].copy()


def lookup_tokens(VocabularyTable table, tokens, token_offsets):
    """Position of each token of tokenize's output in table, -1 if absent."""
    cdef fe_strings strings = _token_strings(tokens, token_offsets)
    ids = np.empty(strings.n, np.int64)
    cdef int64_t *ids_ptr = <int64_t *>cnp.PyArray_DATA(ids)
    if strings.n:
        with nogil:
            fe_vocab_lookup(ids_ptr, &table.vocab, &strings, 0, -1)
    return ids
