# Preprocessing lookups: string batches, vocabulary tables, hash buckets and
# the token counts of adapt (csrc/lookup.h).
from cpython.bytes cimport (PyBytes_AS_STRING, PyBytes_Check, PyBytes_FromStringAndSize,
                            PyBytes_GET_SIZE)
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object unicode, Py_ssize_t *size) except NULL

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
        int64_t *counts
        int64_t *doc_counts
        int64_t n_tokens
        int64_t n_documents
    const char *fe_string_at(const fe_strings *s, int64_t i, int64_t *len) nogil
    int64_t fe_utf8_offsets_from_ucs4(const uint32_t *chars, int64_t n, int64_t width,
                                      int64_t *offsets) nogil
    void fe_utf8_from_ucs4(char *blob, const uint32_t *chars, int64_t n, int64_t width,
                           const int64_t *offsets) nogil
    void fe_vocab_lookup(int64_t *ids, const fe_vocab *vocab, const fe_strings *values) nogil
    void fe_hash_buckets(int64_t *buckets, const fe_strings *values, uint64_t num_buckets,
                         int keyed, uint64_t k0, uint64_t k1) nogil
    void fe_hash_buckets_int64(int64_t *buckets, const int64_t *values, int64_t n,
                               uint64_t num_buckets, int keyed, uint64_t k0, uint64_t k1) nogil
    int fe_counter_init(fe_counter *counter) nogil
    void fe_counter_free(fe_counter *counter) nogil
    int fe_counter_add(fe_counter *counter, const fe_strings *values, int64_t row_length) nogil


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
        """Point at each object's bytes (checking every value's type)."""
        cdef Py_ssize_t n = flat.shape[0], i, size
        self._blob = flat  # keeps the objects, so their buffers, alive
        self._starts = np.empty(n, dtype=np.uintp)
        self._offsets = np.empty(n, dtype=np.int64)  # here: the lengths
        cdef size_t[::1] starts = self._starts
        cdef int64_t[::1] lengths = self._offsets
        cdef object value
        cdef object[::1] objects = flat
        for i in range(n):
            value = objects[i]
            if PyUnicode_Check(value):
                try:
                    starts[i] = <size_t>PyUnicode_AsUTF8AndSize(value, &size)
                except UnicodeEncodeError:
                    raise ValueError(f"{name}[{_position(self.shape, i)}] = {value!r} is not "
                                     f"valid Unicode (it holds a surrogate)") from None
            elif PyBytes_Check(value):
                starts[i] = <size_t>PyBytes_AS_STRING(value)
                size = PyBytes_GET_SIZE(value)
            elif _missing_value(value):
                raise ValueError(f"{name}[{_position(self.shape, i)}] is {value!r}: string "
                                 f"inputs cannot hold missing values (None or NaN)")
            else:
                raise TypeError(f"{name} must hold only strings (str or bytes), but "
                                f"{name}[{_position(self.shape, i)}] = {value!r} is of type "
                                f"{type(value).__name__}")
            lengths[i] = size
        self.strings.starts = <const char **>&starts[0] if n else NULL
        self.strings.lengths = &lengths[0] if n else NULL
        self.strings.blob = NULL
        self.strings.offsets = NULL
        self.strings.n = n

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
    cdef object _blob, _offsets, _slots
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
        cdef int64_t n_slots = 2
        while n_slots < 2 * self.size:
            n_slots *= 2
        self._slots = np.zeros(n_slots, dtype=np.int64)
        cdef const int64_t[::1] offsets = self._offsets
        cdef int64_t[::1] slots = self._slots
        self.vocab.blob = PyBytes_AS_STRING(self._blob)
        self.vocab.offsets = &offsets[0]
        self.vocab.slots = &slots[0]
        self.vocab.mask = n_slots - 1
        with nogil:
            fe_vocab_build(&self.vocab, self.size)

    def lookup(self, values):
        """Positions (int64, of values' shape) of a StringBatch (string
        vocabulary) or an int64 array (integer vocabulary); -1 if absent."""
        cdef fe_strings strings
        cdef cnp.ndarray keys
        if self.integer:
            keys = np.ascontiguousarray(values, dtype=np.int64).ravel()
            strings, shape = int64_strings(keys), np.shape(values)
        else:
            strings, shape = (<StringBatch>values).strings, (<StringBatch>values).shape
        ids = np.empty(strings.n, dtype=np.int64)
        cdef int64_t[::1] out = ids
        with nogil:
            fe_vocab_lookup(&out[0] if strings.n else NULL, &self.vocab, &strings)
        return ids.reshape(shape)


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
    """Counts of distinct tokens over batches (adapt): add(values,
    row_length) takes a StringBatch or an int64 array, as documents of
    row_length tokens; tokens() lists them in order of first appearance."""
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
        with nogil:
            status = fe_counter_add(&self.counter, &strings, row_length)
        if status:
            raise MemoryError(f"adapt: out of memory after {self.counter.n_tokens} distinct tokens")

    @property
    def n_documents(self):
        return self.counter.n_documents

    def tokens(self):
        """(tokens, counts, document_counts): tokens a list of bytes, or an
        int64 array for integers; counts as int64 arrays."""
        cdef int64_t n = self.counter.n_tokens, i
        counts = np.asarray(<int64_t[:n]>self.counter.counts).copy() if n else \
            np.zeros(0, np.int64)
        doc_counts = np.asarray(<int64_t[:n]>self.counter.doc_counts).copy() if n else \
            np.zeros(0, np.int64)
        blob = self.counter.blob[:self.counter.offsets[n]] if n else b""
        if self.integer:
            return np.frombuffer(blob, dtype=np.int64).copy(), counts, doc_counts
        offsets = np.asarray(<int64_t[:n + 1]>self.counter.offsets)
        starts, ends = offsets[:-1].tolist(), offsets[1:].tolist()
        return [blob[s:e] for s, e in zip(starts, ends)], counts, doc_counts


cdef extern from "hashing.h":
    uint64_t fe_fingerprint64(const char *s, int64_t len) nogil
    uint64_t fe_siphash24(uint64_t k0, uint64_t k1, const char *s, int64_t len) nogil


def fingerprint64(bytes data):
    """FarmHash Fingerprint64 of data (TensorFlow's Fingerprint64)."""
    return fe_fingerprint64(data, len(data))


def siphash24(uint64_t k0, uint64_t k1, bytes data):
    """SipHash-2-4 of data under the key (k0, k1)."""
    return fe_siphash24(k0, k1, data, len(data))
