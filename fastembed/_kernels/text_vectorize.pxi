# Text vectorization: tokenize (standardize, split, n-grams), count, look up.
# fe_strings, fe_counter, fe_vocab_lookup, StringBatch, VocabularyTable and
# TokenCounter come from lookup.pxi.

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
    int fe_tokenize_counts(const fe_tokenizer *t, fe_counter *counter) nogil

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


cdef object _set_tokenizer(fe_tokenizer *t, StringBatch docs, bint lower,
                           bint strip_punctuation, split, ngram_widths):
    """Fill t for docs; returns the array t.ngram_widths points into (keep it)."""
    if split not in SPLITS:
        raise ValueError(f"split must be None, 'whitespace' or 'character', got {split!r}")
    cdef const int64_t[::1] widths
    widths_array = None
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
    return widths_array


def tokenize(StringBatch docs, bint lower, bint strip_punctuation, split, ngram_widths=None):
    """The standardized, split n-grams of each document of docs:
    (tokens uint8, token_offsets int64 (n_tokens + 1,), doc_starts int64
    (n_docs + 1,)); token k is tokens[token_offsets[k]:token_offsets[k+1]],
    and document d holds tokens doc_starts[d] <= k < doc_starts[d+1]."""
    cdef fe_tokenizer t
    cdef int64_t n_docs = docs.strings.n
    widths = _set_tokenizer(&t, docs, lower, strip_punctuation, split, ngram_widths)
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


def count_text(TokenCounter counter, StringBatch docs, bint lower, bint strip_punctuation,
               split, ngram_widths=None):
    """Count the tokens tokenize() would give, one document per string of
    docs, into counter (without writing them out)."""
    if counter.integer:
        raise TypeError("count_text needs a counter of strings, got one of integers")
    cdef fe_tokenizer t
    widths = _set_tokenizer(&t, docs, lower, strip_punctuation, split, ngram_widths)
    cdef int status
    with nogil:
        status = fe_tokenize_counts(&t, &counter.counter)
    if status != FE_TOK_OK:
        raise MemoryError(f"adapt: out of memory after {counter.counter.n_tokens} distinct "
                          f"tokens")


def count_tokens(TokenCounter counter, tokens, token_offsets, doc_starts):
    """Count tokens as tokenize() gives them (tokens, token_offsets,
    doc_starts) into counter."""
    if counter.integer:
        raise TypeError("count_tokens needs a counter of strings, got one of integers")
    cdef fe_strings strings = _token_strings(tokens, token_offsets)
    check_array("doc_starts", doc_starts, doc_starts.shape, np.int64)
    if doc_starts.ndim != 1 or doc_starts.shape[0] < 1 or doc_starts[0] != 0 \
            or doc_starts[-1] != strings.n or (np.diff(doc_starts) < 0).any():
        raise ValueError(f"doc_starts must rise from 0 to {strings.n} (the tokens), got "
                         f"{doc_starts!r}")
    cdef const int64_t[::1] starts = doc_starts
    cdef int status
    with nogil:
        status = fe_counter_add(&counter.counter, &strings, &starts[0], starts.shape[0] - 1)
    counter._check(status)


def lookup_tokens(VocabularyTable table, tokens, token_offsets):
    """Position of each token of tokenize's output in table, -1 if absent."""
    cdef fe_strings strings = _token_strings(tokens, token_offsets)
    ids = np.empty(strings.n, np.int64)
    cdef int64_t *ids_ptr = <int64_t *>cnp.PyArray_DATA(ids)
    if strings.n:
        with nogil:
            fe_vocab_lookup(ids_ptr, &table.vocab, &strings, 0, -1)
    return ids
