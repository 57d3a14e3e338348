#include <stdlib.h>
#include <string.h>
#include "hashing.h"
#include "lookup.h"

/* A slot holds id + 1 in its low ID_BITS bits and the hash's high bits above,
 * so most probes of other words are rejected without reading their bytes. */
#define ID_BITS 40
#define ID_MASK ((1LL << ID_BITS) - 1)
/* Below this many values a loop runs on the calling thread alone. */
#define PARALLEL_MIN 16384

static inline int64_t slot_tag(uint64_t hash) { return (int64_t)(hash >> ID_BITS) << ID_BITS; }

/* ---- UCS-4 to UTF-8 ------------------------------------------------------- */

static inline int64_t ucs4_length(const uint32_t *s, int64_t width) {
    while (width > 0 && s[width - 1] == 0) width--;
    return width;
}

static inline int utf8_size(uint32_t c) {
    if (c < 0x80) return 1;
    if (c < 0x800) return 2;
    if (c >= 0xD800 && c < 0xE000) return 0; /* surrogate: not a scalar value */
    if (c < 0x10000) return 3;
    return c < 0x110000 ? 4 : 0;
}

int64_t fe_utf8_offsets_from_ucs4(const uint32_t *chars, int64_t n, int64_t width,
                                  int64_t *offsets) {
    offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint32_t *s = chars + i * width;
        const int64_t len = ucs4_length(s, width);
        int64_t bytes = 0;
        for (int64_t j = 0; j < len; j++) {
            const int size = utf8_size(s[j]);
            if (!size) return -(i + 1);
            bytes += size;
        }
        offsets[i + 1] = offsets[i] + bytes;
    }
    return offsets[n];
}

void fe_utf8_from_ucs4(char *blob, const uint32_t *chars, int64_t n, int64_t width,
                       const int64_t *offsets) {
    #pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        const uint32_t *s = chars + i * width;
        const int64_t len = ucs4_length(s, width);
        unsigned char *out = (unsigned char *)blob + offsets[i];
        for (int64_t j = 0; j < len; j++) {
            const uint32_t c = s[j];
            switch (utf8_size(c)) {
            case 1: *out++ = (unsigned char)c; break;
            case 2: *out++ = (unsigned char)(0xC0 | c >> 6);
                    *out++ = (unsigned char)(0x80 | (c & 0x3F)); break;
            case 3: *out++ = (unsigned char)(0xE0 | c >> 12);
                    *out++ = (unsigned char)(0x80 | (c >> 6 & 0x3F));
                    *out++ = (unsigned char)(0x80 | (c & 0x3F)); break;
            default: *out++ = (unsigned char)(0xF0 | c >> 18);
                     *out++ = (unsigned char)(0x80 | (c >> 12 & 0x3F));
                     *out++ = (unsigned char)(0x80 | (c >> 6 & 0x3F));
                     *out++ = (unsigned char)(0x80 | (c & 0x3F));
            }
        }
    }
}

/* ---- the hash table ------------------------------------------------------- */

/* Slot of the word w[0:len] (of this hash) in slots, or of the empty slot
 * where it would go. */
static inline int64_t probe(const int64_t *slots, int64_t mask, const char *blob,
                            const int64_t *offsets, const char *w, int64_t len,
                            uint64_t hash) {
    const int64_t tag = slot_tag(hash);
    int64_t s = (int64_t)(hash & (uint64_t)mask);
    for (; slots[s]; s = (s + 1) & mask) {
        if ((slots[s] & ~ID_MASK) != tag) continue;
        const int64_t id = (slots[s] & ID_MASK) - 1, start = offsets[id];
        if (offsets[id + 1] - start == len && memcmp(blob + start, w, (size_t)len) == 0)
            break;
    }
    return s;
}

void fe_vocab_build(fe_vocab *vocab, int64_t n_words) {
    for (int64_t id = 0; id < n_words; id++) {
        const int64_t start = vocab->offsets[id], len = vocab->offsets[id + 1] - start;
        const char *w = vocab->blob + start;
        const uint64_t hash = fe_fingerprint64(w, len);
        const int64_t s = probe(vocab->slots, vocab->mask, vocab->blob, vocab->offsets, w, len, hash);
        if (!vocab->slots[s]) vocab->slots[s] = slot_tag(hash) | (id + 1);
    }
}

int64_t fe_vocab_find(const fe_vocab *vocab, const char *w, int64_t len) {
    const int64_t s = probe(vocab->slots, vocab->mask, vocab->blob, vocab->offsets, w, len,
                            fe_fingerprint64(w, len));
    return vocab->slots[s] ? (vocab->slots[s] & ID_MASK) - 1 : -1;
}

/* Queries are looked up in blocks, each step of a block first prefetching
 * what the next step reads (slot, then offsets, then the word's bytes) for
 * every query of the block: the table's cache misses overlap instead of
 * adding up (a 1M-word table is far larger than the caches). */
#define LOOKUP_BLOCK 32

void fe_vocab_lookup(int64_t *ids, const fe_vocab *vocab, const fe_strings *values) {
    const int64_t n = values->n, n_blocks = (n + LOOKUP_BLOCK - 1) / LOOKUP_BLOCK;
    const int64_t mask = vocab->mask, *slots = vocab->slots, *offsets = vocab->offsets;
    #pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t block = 0; block < n_blocks; block++) {
        const int64_t start = block * LOOKUP_BLOCK;
        const int64_t count = n - start < LOOKUP_BLOCK ? n - start : LOOKUP_BLOCK;
        uint64_t hashes[LOOKUP_BLOCK];
        for (int64_t b = 0; b < count; b++) {
            int64_t len;
            const char *w = fe_string_at(values, start + b, &len);
            hashes[b] = fe_fingerprint64(w, len);
            __builtin_prefetch(&slots[hashes[b] & (uint64_t)mask]);
        }
        for (int64_t b = 0; b < count; b++) {
            const int64_t slot = slots[hashes[b] & (uint64_t)mask];
            if (slot) __builtin_prefetch(&offsets[(slot & ID_MASK) - 1]);
        }
        for (int64_t b = 0; b < count; b++) {
            const int64_t slot = slots[hashes[b] & (uint64_t)mask];
            if (slot) __builtin_prefetch(vocab->blob + offsets[(slot & ID_MASK) - 1]);
        }
        for (int64_t b = 0; b < count; b++) {
            int64_t len;
            const char *w = fe_string_at(values, start + b, &len);
            const int64_t s = probe(slots, mask, vocab->blob, offsets, w, len, hashes[b]);
            ids[start + b] = slots[s] ? (slots[s] & ID_MASK) - 1 : -1;
        }
    }
}

/* ---- hash buckets --------------------------------------------------------- */

static inline int64_t bucket(const char *s, int64_t len, uint64_t num_buckets, int keyed,
                             uint64_t k0, uint64_t k1) {
    const uint64_t hash = keyed ? fe_siphash24(k0, k1, s, len) : fe_fingerprint64(s, len);
    return (int64_t)(hash % num_buckets);
}

void fe_hash_buckets(int64_t *buckets, const fe_strings *values, uint64_t num_buckets,
                     int keyed, uint64_t k0, uint64_t k1) {
    const int64_t n = values->n;
    #pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        int64_t len;
        const char *s = fe_string_at(values, i, &len);
        buckets[i] = bucket(s, len, num_buckets, keyed, k0, k1);
    }
}

void fe_hash_buckets_int64(int64_t *buckets, const int64_t *values, int64_t n,
                           uint64_t num_buckets, int keyed, uint64_t k0, uint64_t k1) {
    #pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        char text[24];
        const int len = fe_int64_to_decimal(values[i], text);
        buckets[i] = bucket(text, len, num_buckets, keyed, k0, k1);
    }
}

/* ---- adapt counting ------------------------------------------------------- */

#define COUNTER_MIN_TOKENS 1024

int fe_counter_init(fe_counter *c) {
    memset(c, 0, sizeof *c);
    c->tokens_cap = COUNTER_MIN_TOKENS;
    c->blob_cap = 16 * COUNTER_MIN_TOKENS;
    c->mask = 2 * COUNTER_MIN_TOKENS - 1;
    c->blob = malloc((size_t)c->blob_cap);
    c->offsets = calloc((size_t)c->tokens_cap + 1, sizeof(int64_t));
    c->counts = malloc((size_t)c->tokens_cap * sizeof(int64_t));
    c->doc_counts = malloc((size_t)c->tokens_cap * sizeof(int64_t));
    c->last_doc = malloc((size_t)c->tokens_cap * sizeof(int64_t));
    c->slots = calloc((size_t)c->mask + 1, sizeof(int64_t));
    if (!c->blob || !c->offsets || !c->counts || !c->doc_counts || !c->last_doc || !c->slots) {
        fe_counter_free(c);
        return -1;
    }
    return 0;
}

void fe_counter_free(fe_counter *c) {
    free(c->blob);
    free(c->offsets);
    free(c->counts);
    free(c->doc_counts);
    free(c->last_doc);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

static int grow(void **array, int64_t count, size_t item) {
    void *bigger = realloc(*array, (size_t)count * item);
    if (!bigger) return -1;
    *array = bigger;
    return 0;
}

/* Room for one more token of len bytes: the token arrays and the table
 * double when the table would pass half full, the blob when it is full. */
static int make_room(fe_counter *c, int64_t len) {
    if (c->blob_len + len > c->blob_cap) {
        int64_t cap = 2 * c->blob_cap;
        while (cap < c->blob_len + len) cap *= 2;
        if (grow((void **)&c->blob, cap, 1)) return -1;
        c->blob_cap = cap;
    }
    if (c->n_tokens < c->tokens_cap) return 0;
    const int64_t cap = 2 * c->tokens_cap;
    if (grow((void **)&c->offsets, cap + 1, sizeof(int64_t))
        || grow((void **)&c->counts, cap, sizeof(int64_t))
        || grow((void **)&c->doc_counts, cap, sizeof(int64_t))
        || grow((void **)&c->last_doc, cap, sizeof(int64_t)))
        return -1;
    const int64_t mask = 2 * cap - 1;
    int64_t *slots = calloc((size_t)mask + 1, sizeof(int64_t));
    if (!slots) return -1;
    for (int64_t s = 0; s <= c->mask; s++) {  /* rehash */
        if (!c->slots[s]) continue;
        const int64_t id = (c->slots[s] & ID_MASK) - 1, start = c->offsets[id];
        const uint64_t hash = fe_fingerprint64(c->blob + start, c->offsets[id + 1] - start);
        int64_t t = (int64_t)(hash & (uint64_t)mask);
        while (slots[t]) t = (t + 1) & mask;
        slots[t] = c->slots[s];
    }
    free(c->slots);
    c->slots = slots;
    c->mask = mask;
    c->tokens_cap = cap;
    return 0;
}

int fe_counter_add(fe_counter *c, const fe_strings *values, int64_t row_length) {
    for (int64_t i = 0; i < values->n; i++) {
        const int64_t document = c->n_documents + i / row_length;
        int64_t len;
        const char *w = fe_string_at(values, i, &len);
        const uint64_t hash = fe_fingerprint64(w, len);
        int64_t s = probe(c->slots, c->mask, c->blob, c->offsets, w, len, hash);
        if (!c->slots[s]) {  /* a new token */
            if (make_room(c, len)) return -1;
            s = probe(c->slots, c->mask, c->blob, c->offsets, w, len, hash);
            const int64_t id = c->n_tokens++;
            memcpy(c->blob + c->blob_len, w, (size_t)len);
            c->blob_len += len;
            c->offsets[id + 1] = c->blob_len;
            c->counts[id] = c->doc_counts[id] = 0;
            c->last_doc[id] = -1;
            c->slots[s] = slot_tag(hash) | (id + 1);
        }
        const int64_t id = (c->slots[s] & ID_MASK) - 1;
        c->counts[id]++;
        if (c->last_doc[id] != document) {
            c->last_doc[id] = document;
            c->doc_counts[id]++;
        }
    }
    if (values->n) c->n_documents += (values->n - 1) / row_length + 1;
    return 0;
}
