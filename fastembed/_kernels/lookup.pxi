# Preprocessing lookups: string batches, vocabulary tables, hash buckets and
# the token counts of adapt (csrc/lookup.h).
from cpython.bytes cimport (PyBytes_AS_STRING, PyBytes_Check, PyBytes_FromStringAndSize,
                            PyBytes_GET_SIZE)
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport uint32_t, uint64_t

from cpython.object cimport PyObject
from cython.parallel cimport prange

cdef enum:
    STRINGS_PARALLEL_MIN = 16384  # below: a batch is read on the calling thread alone

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t *size) except NULL
    # The same tests and fields on borrowed pointers: no reference counting,
    # no interpreter state (macros reading the objects' immutable fields).
    bint _is_str "PyUnicode_Check"(PyObject *o) nogil
    bint _is_compact_ascii "PyUnicode_IS_COMPACT_ASCII"(PyObject *o) nogil
    void *_unicode_data "PyUnicode_DATA"(PyObject *o) nogil
    Py_ssize_t _unicode_length "PyUnicode_GET_LENGTH"(PyObject *o) nogil

cdef extern from "lookup.h":
    ctypedef struct fe_strings:
        const char **starts
        const int64_t *lengths
        const char *blob
        const int64_t *offsets
        int64_t width
        int strip_nul
        int64_t n
    ctypedef struct fe_counter:
        char *blob
        int64_t *offsets
        void *tallies
        int64_t n_tokens
        int64_t n_documents
    const char *fe_string_at(const fe_strings *s, int64_t i, int64_t *len) nogil
    int64_t fe_utf8_offsets_from_ucs4(const uint32_t *chars, int64_t n, int64_t width,
                                      int64_t *offsets) nogil
    void fe_utf8_from_ucs4(char *blob, const uint32_t *chars, int64_t n, int64_t width,
                           const int64_t *offsets) nogil
    int64_t fe_vocab_lookup(int64_t *ids, const fe_vocab *vocab, const fe_strings *values,
                            int64_t offset, int64_t missing) nogil
    void fe_hash_buckets(int64_t *buckets, const fe_strings *values, uint64_t num_buckets,
                         int keyed, uint64_t k0, uint64_t k1) nogil
    void fe_hash_buckets_int64(int64_t *buckets, const int64_t *values, int64_t n,
                               uint64_t num_buckets, int keyed, uint64_t k0, uint64_t k1) nogil
    int fe_counter_init(fe_counter *counter) nogil
    void fe_counter_free(fe_counter *counter) nogil
    int fe_counter_add(fe_counter *counter, const fe_strings *values, const int64_t *doc_starts,
                       int64_t n_docs) nogil
    int64_t fe_counter_find(const fe_counter *counter, const char *w, int64_t len) nogil
    int fe_counter_order(const fe_counter *counter, int integer, int64_t *order) nogil


def _missing_value(value):
    return value is None or (isinstance(value, float) and value != value)


cdef class StringBatch:
    """An array of strings (numpy 'U', 'S' or object of str/bytes, any
    shape) as UTF-8 bytes the kernels read: 'S' arrays and the str/bytes of
    object arrays in place (str keeps its UTF-8 form), 'U' arrays converted
    once into one buffer + offsets. `shape` is the array's."""
    cdef fe_strings strings
    cdef object _blob, _offsets, _starts
    cdef readonly tuple shape

    def __init__(self, values, str name="inputs"):
        array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object) \
            if isinstance(values, (list, tuple)) else np.asarray(values)
        self.shape = array.shape
        self.strings.starts = NULL
        self.strings.lengths = NULL
        kind = array.dtype.kind
        if kind == "T":  # numpy's variable-width StringDType
            array, kind = array.astype(object), "O"
        if kind == "S":
            self._blob = np.ascontiguousarray(array)
            self.strings.blob = <const char *>cnp.PyArray_DATA(self._blob)
            self.strings.offsets = NULL
            self.strings.width = array.dtype.itemsize
            self.strings.strip_nul = 1
            self.strings.n = array.size
            return
        if kind == "O":
            self._from_objects(np.ascontiguousarray(array.ravel()), name)
            return
        if kind != "U":
            raise TypeError(f"{name} must be strings (a str, bytes or object array of str/bytes), "
                            f"got an array of dtype {array.dtype}")
        self._from_ucs4(np.ascontiguousarray(array), name)
        cdef const int64_t[::1] offsets = self._offsets
        self.strings.blob = PyBytes_AS_STRING(self._blob)
        self.strings.offsets = &offsets[0]
        self.strings.width = 0
        self.strings.strip_nul = 0
        self.strings.n = offsets.shape[0] - 1

    cdef _from_ucs4(self, cnp.ndarray array, str name):
        cdef int64_t n = array.size, width = array.dtype.itemsize // 4, size
        self._offsets = np.empty(n + 1, dtype=np.int64)
        cdef int64_t[::1] offsets = self._offsets
        cdef const uint32_t *chars = <const uint32_t *>cnp.PyArray_DATA(array)
        with nogil:
            size = fe_utf8_offsets_from_ucs4(chars, n, width, &offsets[0])
        if size < 0:
            raise ValueError(f"{name}[{_position(self.shape, -size - 1)}] holds a code point "
                             f"that is not valid Unicode (a surrogate)")
        self._blob = bytes(size)  # filled in place below, before anyone sees it
        cdef char *blob = PyBytes_AS_STRING(self._blob)
        with nogil:
            fe_utf8_from_ucs4(blob, chars, n, width, &offsets[0])

    cdef _from_objects(self, cnp.ndarray flat, str name):
        """Point at each object's bytes (checking every value's type). A
        compact ASCII str is its own UTF-8: those are read in place on all
        threads, without the GIL (only reading objects the array holds);
        the others (str to encode, bytes, errors) then one by one with it."""
        cdef Py_ssize_t n = flat.shape[0], i, n_others = 0
        self._blob = flat  # keeps the objects, so their buffers, alive
        self._starts = np.empty(n, dtype=np.uintp)
        self._offsets = np.empty(n, dtype=np.int64)  # here: the lengths
        cdef PyObject **objects = <PyObject **>cnp.PyArray_DATA(flat)
        cdef const char **starts = <const char **>cnp.PyArray_DATA(self._starts)
        cdef int64_t *lengths = <int64_t *>cnp.PyArray_DATA(self._offsets)
        cdef PyObject *item
        for i in prange(n, nogil=True, schedule="static",
                        use_threads_if=n >= STRINGS_PARALLEL_MIN):
            item = objects[i]
            if item != NULL and _is_str(item) and _is_compact_ascii(item):
                starts[i] = <const char *>_unicode_data(item)
                lengths[i] = _unicode_length(item)
            else:
                starts[i] = NULL
                n_others += 1
        for i in range(n if n_others else 0):
            if starts[i] == NULL:
                item = objects[i]
                starts[i] = self._object_bytes(<object>item if item != NULL else None, i,
                                               &lengths[i], name)
        self.strings.starts = starts if n else NULL
        self.strings.lengths = lengths if n else NULL
        self.strings.blob = NULL
        self.strings.offsets = NULL
        self.strings.n = n

    cdef const char *_object_bytes(self, value, Py_ssize_t i, int64_t *length,
                                   str name) except NULL:
        """The UTF-8 bytes of value (str or bytes), their length in *length."""
        cdef Py_ssize_t size
        cdef const char *start
        if PyUnicode_Check(value):
            try:
                start = PyUnicode_AsUTF8AndSize(value, &size)
            except UnicodeEncodeError:
                raise ValueError(f"{name}[{_position(self.shape, i)}] = {value!r} is not "
                                 f"valid Unicode (it holds a surrogate)") from None
        elif PyBytes_Check(value):
            start = PyBytes_AS_STRING(value)
            size = PyBytes_GET_SIZE(value)
        elif _missing_value(value):
            raise ValueError(f"{name}[{_position(self.shape, i)}] is {value!r}: string "
                             f"inputs cannot hold missing values (None or NaN)")
        else:
            raise TypeError(f"{name} must hold only strings (str or bytes), but "
                            f"{name}[{_position(self.shape, i)}] = {value!r} is of type "
                            f"{type(value).__name__}")
        length[0] = size
        return start

    @property
    def size(self):
        return self.strings.n

    def tolist(self):
        """The strings as a flat list of bytes."""
        cdef int64_t i, length
        cdef const char *start
        out = []
        for i in range(self.strings.n):
            start = fe_string_at(&self.strings, i, &length)
            out.append(PyBytes_FromStringAndSize(start, length))
        return out


cdef fe_strings int64_strings(cnp.ndarray keys):
    """keys (C-contiguous int64) as 8-byte strings."""
    cdef fe_strings strings
    strings.starts = NULL
    strings.lengths = NULL
    strings.blob = <const char *>cnp.PyArray_DATA(keys)
    strings.offsets = NULL
    strings.width = 8
    strings.strip_nul = 0
    strings.n = keys.shape[0]
    return strings


cdef class VocabularyTable:
    """A vocabulary (list of bytes, or a 1-D int64 array) as a hash table
    built once; lookup maps values to their positions in it, -1 if absent."""
    cdef fe_vocab vocab
    cdef object _blob, _offsets
    cdef readonly bint integer
    cdef readonly int64_t size

    def __init__(self, words):
        self.integer = isinstance(words, np.ndarray)
        if self.integer:
            check_array("words", words, words.shape, np.int64)
            self._blob = words.tobytes()
            self._offsets = np.arange(0, 8 * words.shape[0] + 1, 8, dtype=np.int64)
        else:
            self._blob = b"".join(words)
            self._offsets = np.zeros(len(words) + 1, dtype=np.int64)
            np.cumsum([len(w) for w in words], out=self._offsets[1:])
        self.size = self._offsets.shape[0] - 1
        cdef const int64_t[::1] offsets = self._offsets
        cdef const char *blob = PyBytes_AS_STRING(self._blob)
        cdef int status
        fe_vocab_free(&self.vocab)  # a table set before
        with nogil:
            status = fe_vocab_init(&self.vocab, blob, &offsets[0], self.size)
        if status:
            raise MemoryError(f"no memory for the table of {self.size} words")

    def __dealloc__(self):
        fe_vocab_free(&self.vocab)

    def lookup(self, values, int64_t offset=0, int64_t missing=-1):
        """(ids, n_missing): offset + the position in the vocabulary (int64,
        of values' shape) of each value of a StringBatch (string vocabulary)
        or int64 array (integer vocabulary), `missing` where absent."""
        cdef fe_strings strings
        cdef cnp.ndarray keys
        cdef int64_t n_missing
        if self.integer:
            keys = np.ascontiguousarray(values, dtype=np.int64).ravel()
            strings, shape = int64_strings(keys), np.shape(values)
        else:
            strings, shape = (<StringBatch>values).strings, (<StringBatch>values).shape
        ids = np.empty(strings.n, dtype=np.int64)
        cdef int64_t[::1] out = ids
        with nogil:
            n_missing = fe_vocab_lookup(&out[0] if strings.n else NULL, &self.vocab, &strings,
                                        offset, missing)
        return ids.reshape(shape), n_missing


def hash_buckets(values, uint64_t num_buckets, salt=None):
    """Bucket (int64, of values' shape) of each value as TensorFlow's
    to_hash_bucket_fast (FarmHash Fingerprint64), or with salt (k0, k1)
    to_hash_bucket_strong (SipHash-2-4): a StringBatch, or an int64 array
    hashed as decimal text."""
    if num_buckets < 1:
        raise ValueError(f"num_buckets must be at least 1, got {num_buckets}")
    cdef int keyed = salt is not None
    cdef uint64_t k0 = 0, k1 = 0
    if keyed:
        k0, k1 = (int(s) & 0xFFFFFFFFFFFFFFFF for s in salt)
    cdef fe_strings strings
    cdef cnp.ndarray keys
    cdef const int64_t *int_values = NULL
    if isinstance(values, StringBatch):
        strings, shape = (<StringBatch>values).strings, (<StringBatch>values).shape
    else:
        keys = np.ascontiguousarray(values, dtype=np.int64).ravel()
        strings, shape = int64_strings(keys), np.shape(values)
        int_values = <const int64_t *>cnp.PyArray_DATA(keys)
    buckets = np.empty(strings.n, dtype=np.int64)
    cdef int64_t[::1] out = buckets
    cdef int64_t *out_ptr = &out[0] if strings.n else NULL
    with nogil:
        if int_values != NULL:
            fe_hash_buckets_int64(out_ptr, int_values, strings.n, num_buckets, keyed, k0, k1)
        else:
            fe_hash_buckets(out_ptr, &strings, num_buckets, keyed, k0, k1)
    return buckets.reshape(shape)


cdef class TokenCounter:
    """Counts of distinct tokens over batches of documents (adapt): add()
    takes a StringBatch or an int64 array as documents of row_length values,
    text_vectorize's count_text the tokens of documents; vocabulary() gives
    the learned vocabulary in Keras's order."""
    cdef fe_counter counter
    cdef readonly bint integer

    def __cinit__(self, bint integer=False):
        self.integer = integer
        if fe_counter_init(&self.counter):
            raise MemoryError("adapt: out of memory for the token counts")

    def __dealloc__(self):
        fe_counter_free(&self.counter)

    def add(self, values, int64_t row_length):
        if row_length < 1:
            raise ValueError(f"row_length must be at least 1, got {row_length}")
        cdef fe_strings strings
        cdef cnp.ndarray keys
        cdef int status
        if self.integer:
            keys = np.ascontiguousarray(values, dtype=np.int64).ravel()
            strings = int64_strings(keys)
        else:
            strings = (<StringBatch>values).strings
        cdef int64_t n_docs = (strings.n + row_length - 1) // row_length
        cdef const int64_t[::1] doc_starts = np.minimum(
            np.arange(n_docs + 1, dtype=np.int64) * row_length, strings.n)
        with nogil:
            status = fe_counter_add(&self.counter, &strings, &doc_starts[0], n_docs)
        self._check(status)

    cdef _check(self, int status):
        if status:
            raise MemoryError(f"adapt: out of memory after {self.counter.n_tokens} distinct tokens")

    @property
    def n_documents(self):
        return self.counter.n_documents

    def vocabulary(self, exclude=(), limit=None):
        """(tokens, counts, document_counts) by count, high to low, ties by
        token, high to low (Keras's order), without the tokens of exclude,
        the first `limit` of them: tokens a list of bytes, or an int64 array
        for integers; counts as int64 arrays."""
        cdef int64_t n = self.counter.n_tokens, i, length, token_id
        order = np.empty(n, np.int64)
        cdef int64_t *order_ptr = <int64_t *>cnp.PyArray_DATA(order)
        cdef int status
        with nogil:
            status = fe_counter_order(&self.counter, self.integer, order_ptr)
        self._check(status)
        keep = np.ones(n, dtype=bool)
        cdef bytes key
        for token in exclude:
            key = np.int64(token).tobytes() if self.integer else token
            token_id = fe_counter_find(&self.counter, key, len(key))
            if token_id >= 0:
                keep[token_id] = False
        order = order[keep[order]][:limit]
        cdef const int64_t[::1] ids = order
        # fe_tally: (count, doc_count, last_doc) per token
        tallies = np.asarray(<int64_t[:n, :3]><int64_t *>self.counter.tallies)[order] if n \
            else np.zeros((0, 3), np.int64)
        counts, doc_counts = tallies[:, 0], tallies[:, 1]
        if self.integer:
            values = np.asarray(<int64_t[:n]><int64_t *>self.counter.blob)[order] if n else \
                np.zeros(0, np.int64)
            return values, counts, doc_counts
        tokens = []
        for i in range(ids.shape[0]):
            token_id = ids[i]
            length = self.counter.offsets[token_id + 1] - self.counter.offsets[token_id]
            tokens.append(PyBytes_FromStringAndSize(
                self.counter.blob + self.counter.offsets[token_id], length))
        return tokens, counts, doc_counts


cdef extern from "hashing.h":
    uint64_t fe_fingerprint64(const char *s, int64_t len) nogil
    uint64_t fe_siphash24(uint64_t k0, uint64_t k1, const char *s, int64_t len) nogil


def fingerprint64(bytes data):
    """FarmHash Fingerprint64 of data (TensorFlow's Fingerprint64)."""
    return fe_fingerprint64(data, len(data))


def siphash24(uint64_t k0, uint64_t k1, bytes data):
    """SipHash-2-4 of data under the key (k0, k1)."""
    return fe_siphash24(k0, k1, data, len(data))
