# Streaming parser for pretrained word-vector files (GloVe, word2vec, fastText).

cdef extern from "vectors.h":
    enum:
        FE_VEC_OK
        FE_VEC_FULL
        FE_VEC_BAD_COUNT
        FE_VEC_BAD_NUMBER
        FE_VEC_EXTRA
        FE_VEC_TRUNCATED
    ctypedef struct fe_slot:
        pass
    ctypedef struct fe_vocab:
        const char *blob
        const int64_t *offsets
        fe_slot *slots
        int64_t mask
    ctypedef struct fe_vec_parser:
        int64_t dim
        int64_t max_records
        const fe_vocab *vocab
        float *rows
        int64_t rows_cap
        int64_t *ids
        int64_t *lines
        char *words
        int64_t words_cap
        int64_t n_rows
        int64_t words_len
        int64_t records
        int64_t line
        int64_t err_count
        int64_t err_field
        int64_t err_pos
        int64_t err_len
    int fe_vocab_init(fe_vocab *vocab, const char *blob, const int64_t *offsets,
                      int64_t n_words) nogil
    void fe_vocab_free(fe_vocab *vocab) nogil
    int fe_vectors_parse_text(fe_vec_parser *p, const char *buf, int64_t len, int final,
                              int64_t *consumed) nogil
    int fe_vectors_parse_binary(fe_vec_parser *p, const char *buf, int64_t len, int final,
                                int64_t *consumed) nogil

# Numbers per vector a header may declare: far above any real file, and low
# enough that no byte count derived from it overflows int64.
MAX_VECTOR_DIM = 1 << 40

VECTOR_ERRORS = {FE_VEC_BAD_COUNT: "bad_count", FE_VEC_BAD_NUMBER: "bad_number",
                 FE_VEC_EXTRA: "extra", FE_VEC_TRUNCATED: "truncated"}


cdef class VectorParser:
    """Feeds chunks of a vectors file to the C parser and owns what it keeps.

    dim: numbers per vector (0: from the first line; text only).
    max_records: the count a header declares, or -1.
    vocabulary: list of distinct str to keep, or None to keep every word.
    line: lines already read (1 after a header line).
    capacity: rows to allocate at the first complete row (a header's count);
        never more than the chunk being parsed can hold, so a header cannot
        make the parser allocate for rows the file does not have.
    The outputs are private: they are reallocated as they grow, and handed
    over once by finish(), after which the parser takes no more input.
    """
    cdef fe_vec_parser p
    cdef fe_vocab vocab
    cdef readonly bint binary
    cdef object _rows, _ids, _lines, _words
    cdef object _vocab_blob, _vocab_offsets
    cdef int64_t _capacity
    cdef bint _finished

    def __init__(self, int64_t dim, bint binary, int64_t max_records=-1, vocabulary=None,
                 int64_t line=0, int64_t capacity=1024):
        if dim < 0 or (binary and dim == 0) or dim > MAX_VECTOR_DIM:
            raise ValueError(f"dim must be in [1, {MAX_VECTOR_DIM}] (or 0 for text), got {dim}")
        self.binary = binary
        self.p.dim = dim
        self.p.max_records = max_records
        self.p.line = line
        self.p.vocab = NULL
        if vocabulary is not None:
            self._set_vocabulary(vocabulary)
            capacity = min(capacity, len(vocabulary))
        self._capacity = max(capacity, 1)
        self._rows = np.empty((0, dim), dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)
        self._lines = np.empty(0, dtype=np.int64)
        self._words = np.empty(0, dtype=np.uint8)
        self.p.rows_cap = 0  # the first complete row returns FULL
        self.p.words_cap = 0
        self._finished = False

    def __dealloc__(self):
        fe_vocab_free(&self.vocab)

    cdef _set_vocabulary(self, vocabulary):
        encoded = [w.encode("utf-8") for w in vocabulary]
        self._vocab_blob = b"".join(encoded)
        self._vocab_offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in encoded], out=self._vocab_offsets[1:])
        cdef const int64_t[::1] offsets = self._vocab_offsets
        cdef const char *blob = self._vocab_blob
        cdef int status
        fe_vocab_free(&self.vocab)  # a table set before
        with nogil:
            status = fe_vocab_init(&self.vocab, blob, &offsets[0], offsets.shape[0] - 1)
        if status:
            raise MemoryError(f"no memory for the table of {len(encoded)} words")
        self.p.vocab = &self.vocab

    cdef _grow_rows(self, int64_t rows_cap):
        """Reallocate the row outputs for rows_cap rows (in place when possible)."""
        self._rows.resize((rows_cap, self.p.dim), refcheck=False)
        self._lines.resize(rows_cap, refcheck=False)
        self.p.rows_cap = rows_cap
        cdef float[:, ::1] rows = self._rows
        cdef int64_t[::1] lines = self._lines
        cdef int64_t[::1] ids
        self.p.rows = &rows[0, 0]
        self.p.lines = &lines[0]
        if self.p.vocab != NULL:
            self._ids.resize(rows_cap, refcheck=False)
            ids = self._ids
            self.p.ids = &ids[0]

    cdef _grow_words(self, int64_t words_cap):
        self._words.resize(words_cap, refcheck=False)
        cdef unsigned char[::1] words = self._words
        self.p.words = <char *> &words[0]
        self.p.words_cap = words_cap

    cdef _make_room(self, int64_t pending):
        """After FULL: room for the next row, whose line / record starts a
        pending-byte rest of the chunk."""
        cdef int64_t min_record = (4 * self.p.dim + 2) if self.binary else (2 * self.p.dim + 1)
        cdef int64_t rows_cap = self.p.rows_cap
        if self.p.n_rows == rows_cap:
            rows_cap = max(2 * rows_cap, min(self._capacity, pending // min_record), rows_cap + 1)
            self._grow_rows(rows_cap)
        if self.p.vocab == NULL:
            # Room for the words at the average length seen so far (16 bytes
            # to start), and at least twice the words so far.
            self._grow_words(max(2 * self.p.words_cap, 16,
                                 rows_cap * (self.p.words_len // max(self.p.n_rows, 1) + 1)))

    def feed(self, const unsigned char[::1] buf, Py_ssize_t stop, bint final):
        """Parse buf[:stop]; returns (status, consumed), status 0 or an error
        name of VECTOR_ERRORS. Grows the outputs as needed."""
        cdef int64_t consumed = 0, done = 0
        cdef int status = FE_VEC_OK
        if self._finished:
            raise ValueError("feed() after finish(): the parser has handed over its outputs")
        if stop < 0 or stop > buf.shape[0]:
            raise ValueError(f"stop must be in [0, {buf.shape[0]}], got {stop}")
        cdef const char *data = <const char *> &buf[0] if buf.shape[0] else NULL
        while True:
            with nogil:
                if self.binary:
                    status = fe_vectors_parse_binary(&self.p, data + done, stop - done, final, &consumed)
                else:
                    status = fe_vectors_parse_text(&self.p, data + done, stop - done, final, &consumed)
            done += consumed
            if status != FE_VEC_FULL:
                break
            self._make_room(stop - done)
        if status != FE_VEC_OK:
            self.p.err_pos += done - consumed  # relative to buf, not to this call
        return VECTOR_ERRORS.get(status, 0), done

    def finish(self):
        """Trim and hand over (rows (n, dim), lines (n), ids (n) or words
        bytes); once only: the parser then drops its outputs."""
        if self._finished:
            raise ValueError("finish() was already called")
        self._finished = True
        cdef int64_t n = self.p.n_rows
        rows, lines, ids, words = self._rows, self._lines, self._ids, self._words
        self._rows = self._lines = self._ids = self._words = None
        self.p.rows, self.p.lines, self.p.ids, self.p.words = NULL, NULL, NULL, NULL
        self.p.rows_cap = self.p.words_cap = 0
        rows.resize((n, self.p.dim), refcheck=False)
        lines.resize(n, refcheck=False)
        if self.p.vocab != NULL:
            ids.resize(n, refcheck=False)
            return rows, lines, ids
        return rows, lines, words[:self.p.words_len].tobytes()

    @property
    def dim(self):
        return self.p.dim

    @property
    def records(self):
        return self.p.records

    @property
    def line(self):
        return self.p.line

    @property
    def error(self):
        """(count, field, pos, len) of the last error; see csrc/vectors.h."""
        return self.p.err_count, self.p.err_field, self.p.err_pos, self.p.err_len
