#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "hashing.h"
#include "lookup.h"

/* A slot holds id + 1 in its low ID_BITS bits and the hash's high bits above,
 * so most probes of other words are rejected without reading their bytes. */
#define ID_BITS 40
#define ID_MASK ((1LL << ID_BITS) - 1)
/* Below this many values a loop runs on the calling thread alone. */
#define PARALLEL_MIN 16384

/* The hash's bits above ID_BITS, in place (shifted in unsigned arithmetic:
 * a signed shift into the sign bit would be undefined). */
static inline int64_t slot_tag(uint64_t hash) { return (int64_t)(hash & ~(uint64_t)ID_MASK); }

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

/* A word as probes compare it: its bytes, hash, slot tag, the length a slot
 * holds and its first bytes, zero-padded as a slot holds them. */
typedef struct {
    const char *w;
    int64_t len, tag;
    uint64_t hash;
    uint32_t slot_len;
    char head[FE_SLOT_HEAD];
} query;

/* head = the first FE_SLOT_HEAD (20) bytes of w[0:len], zero-padded, in
 * fixed-size (inlined) copies that overlap rather than a call per word. */
static inline void copy_head(char *head, const char *w, int64_t len) {
    memset(head, 0, FE_SLOT_HEAD);
    if (len >= 16) {
        const int64_t end = len < FE_SLOT_HEAD ? len : FE_SLOT_HEAD;
        memcpy(head, w, 16);
        memcpy(head + end - 8, w + end - 8, 8);
    } else if (len >= 8) {
        memcpy(head, w, 8);
        memcpy(head + len - 8, w + len - 8, 8);
    } else if (len >= 4) {
        memcpy(head, w, 4);
        memcpy(head + len - 4, w + len - 4, 4);
    } else {
        for (int64_t k = 0; k < len; k++) head[k] = w[k];
    }
}

static inline void make_query(query *q, const char *w, int64_t len, uint64_t hash) {
    q->w = w;
    q->len = len;
    q->hash = hash;
    q->tag = slot_tag(hash);
    q->slot_len = len < (int64_t)UINT32_MAX ? (uint32_t)len : UINT32_MAX;
    copy_head(q->head, w, len);
}

/* FE_SLOT_HEAD (20) bytes at a and b equal, in three loads each. */
static inline int heads_equal(const char *a, const char *b) {
    uint64_t a0, a1, b0, b1;
    uint32_t a2, b2;
    memcpy(&a0, a, 8);
    memcpy(&b0, b, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b1, b + 8, 8);
    memcpy(&a2, a + 16, 4);
    memcpy(&b2, b + 16, 4);
    return ((a0 ^ b0) | (a1 ^ b1) | (uint64_t)(a2 ^ b2)) == 0;
}

/* Whether the (full) slot holds q's word; words beyond the head are read
 * from blob at offsets. */
static inline int slot_holds(const fe_slot *slot, const query *q, const char *blob,
                             const int64_t *offsets) {
    if ((slot->key & ~ID_MASK) != q->tag || slot->len != q->slot_len
        || !heads_equal(slot->head, q->head))
        return 0;
    if (q->len <= FE_SLOT_HEAD) return 1;
    const int64_t id = (slot->key & ID_MASK) - 1, start = offsets[id];
    return offsets[id + 1] - start == q->len
           && memcmp(blob + start + FE_SLOT_HEAD, q->w + FE_SLOT_HEAD,
                     (size_t)(q->len - FE_SLOT_HEAD)) == 0;
}

/* Slot of q's word in slots, or of the empty slot where it would go. */
static inline int64_t probe(const fe_slot *slots, int64_t mask, const char *blob,
                            const int64_t *offsets, const query *q) {
    int64_t s = (int64_t)(q->hash & (uint64_t)mask);
    while (slots[s].key && !slot_holds(&slots[s], q, blob, offsets)) s = (s + 1) & mask;
    return s;
}

static inline void fill_slot(fe_slot *slot, const query *q, int64_t id) {
    slot->key = q->tag | (id + 1);
    slot->len = q->slot_len;
    memcpy(slot->head, q->head, FE_SLOT_HEAD);
}

/* n zeroed slots (n a power of two >= 2), 64-byte aligned: a slot never
 * straddles two cache lines. A table of 2 MB or more is aligned to 2 MB and
 * asks for huge pages (Linux): a probe's random access then rarely misses
 * the TLB as well as the caches. */
#define HUGE_PAGE (2 << 20)

static fe_slot *alloc_slots(int64_t n) {
    const size_t size = (size_t)n * sizeof(fe_slot);
    fe_slot *slots = aligned_alloc(size >= HUGE_PAGE ? HUGE_PAGE : 64, size);
    if (!slots) return NULL;
#ifdef MADV_HUGEPAGE
    if (size >= HUGE_PAGE) madvise(slots, size, MADV_HUGEPAGE); /* advice: failure is fine */
#endif
    memset(slots, 0, size);
    return slots;
}

int fe_vocab_init(fe_vocab *vocab, const char *blob, const int64_t *offsets, int64_t n_words) {
    int64_t n_slots = 2;
    while (n_slots < 2 * n_words) n_slots *= 2;
    vocab->blob = blob;
    vocab->offsets = offsets;
    vocab->mask = n_slots - 1;
    vocab->slots = alloc_slots(n_slots);
    if (!vocab->slots) return -1;
    for (int64_t id = 0; id < n_words; id++) {
        const int64_t len = offsets[id + 1] - offsets[id];
        query q;
        make_query(&q, blob + offsets[id], len, fe_fingerprint64(blob + offsets[id], len));
        const int64_t s = probe(vocab->slots, vocab->mask, blob, offsets, &q);
        if (!vocab->slots[s].key) fill_slot(&vocab->slots[s], &q, id);
    }
    return 0;
}

void fe_vocab_free(fe_vocab *vocab) {
    free(vocab->slots);
    vocab->slots = NULL;
}

int64_t fe_vocab_find(const fe_vocab *vocab, const char *w, int64_t len) {
    query q;
    make_query(&q, w, len, fe_fingerprint64(w, len));
    const int64_t s = probe(vocab->slots, vocab->mask, vocab->blob, vocab->offsets, &q);
    return vocab->slots[s].key ? (vocab->slots[s].key & ID_MASK) - 1 : -1;
}

/* Each thread looks up a contiguous range of values, pipelined: the query
 * LOOKUP_AHEAD values ahead is hashed and its slot prefetched before a
 * query is probed, so the table's cache misses (a 1M-word table is far
 * larger than the caches) overlap instead of adding up. */
#define LOOKUP_AHEAD 32

int64_t fe_vocab_lookup(int64_t *ids, const fe_vocab *vocab, const fe_strings *values,
                        int64_t offset, int64_t missing) {
    const int64_t n = values->n, mask = vocab->mask;
    const fe_slot *slots = vocab->slots;
    int64_t n_missing = 0;
    #pragma omp parallel reduction(+ : n_missing) if (n >= PARALLEL_MIN)
    {
        const int64_t team = omp_get_num_threads(), me = omp_get_thread_num();
        const int64_t lo = n * me / team, hi = n * (me + 1) / team;
        query ring[LOOKUP_AHEAD];
        for (int64_t i = lo; i < hi + LOOKUP_AHEAD; i++) {
            query *q = &ring[i % LOOKUP_AHEAD];
            if (i - LOOKUP_AHEAD >= lo) { /* q holds value i - LOOKUP_AHEAD */
                const int64_t s = probe(slots, mask, vocab->blob, vocab->offsets, q);
                ids[i - LOOKUP_AHEAD] = slots[s].key ? (slots[s].key & ID_MASK) - 1 + offset
                                                     : missing;
                n_missing += !slots[s].key;
            }
            if (i < hi) {
                int64_t len;
                const char *w = fe_string_at(values, i, &len);
                make_query(q, w, len, fe_fingerprint64(w, len));
                __builtin_prefetch(&slots[q->hash & (uint64_t)mask]);
            }
        }
    }
    return n_missing;
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
    c->hashes = malloc((size_t)c->tokens_cap * sizeof(uint64_t));
    c->tallies = malloc((size_t)c->tokens_cap * sizeof(fe_tally));
    c->slots = alloc_slots(c->mask + 1);
    if (!c->blob || !c->offsets || !c->hashes || !c->tallies || !c->slots) {
        fe_counter_free(c);
        return -1;
    }
    return 0;
}

void fe_counter_free(fe_counter *c) {
    free(c->blob);
    free(c->offsets);
    free(c->hashes);
    free(c->tallies);
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
        || grow((void **)&c->hashes, cap, sizeof(uint64_t))
        || grow((void **)&c->tallies, cap, sizeof(fe_tally)))
        return -1;
    const int64_t mask = 2 * cap - 1;
    fe_slot *slots = alloc_slots(mask + 1);
    if (!slots) return -1;
    for (int64_t s = 0; s <= c->mask; s++) {  /* rehash */
        if (!c->slots[s].key) continue;
        const int64_t id = (c->slots[s].key & ID_MASK) - 1;
        int64_t t = (int64_t)(c->hashes[id] & (uint64_t)mask);
        while (slots[t].key) t = (t + 1) & mask;
        slots[t] = c->slots[s];
    }
    free(c->slots);
    c->slots = slots;
    c->mask = mask;
    c->tokens_cap = cap;
    return 0;
}

/* Id of the token w[0:len] of this hash in c, added with no counts if new;
 * -1 when out of memory. */
static int64_t token_id(fe_counter *c, const char *w, int64_t len, uint64_t hash) {
    query q;
    make_query(&q, w, len, hash);
    int64_t s = probe(c->slots, c->mask, c->blob, c->offsets, &q);
    if (c->slots[s].key) return (c->slots[s].key & ID_MASK) - 1;
    if (make_room(c, len)) return -1;
    s = probe(c->slots, c->mask, c->blob, c->offsets, &q);
    const int64_t id = c->n_tokens++;
    memcpy(c->blob + c->blob_len, w, (size_t)len);
    c->blob_len += len;
    c->offsets[id + 1] = c->blob_len;
    c->hashes[id] = hash;
    c->tallies[id] = (fe_tally){0, 0, -1};
    fill_slot(&c->slots[s], &q, id);
    return id;
}

int fe_counter_count(fe_counter *c, int64_t n, const char *const *words, const int64_t *lens,
                     const uint64_t *hashes, int64_t document, int64_t *ids) {
    for (int64_t k = 0; k < n; k++) __builtin_prefetch(&c->slots[hashes[k] & (uint64_t)c->mask]);
    for (int64_t k = 0; k < n; k++) {
        if ((ids[k] = token_id(c, words[k], lens[k], hashes[k])) < 0) return -1;
        __builtin_prefetch(&c->tallies[ids[k]]);
    }
    for (int64_t k = 0; k < n; k++) {
        fe_tally *tally = &c->tallies[ids[k]];
        tally->count++;
        if (tally->last_doc != document) {
            tally->last_doc = document;
            tally->doc_count++;
        }
    }
    return 0;
}

int64_t fe_counter_find(const fe_counter *c, const char *w, int64_t len) {
    query q;
    make_query(&q, w, len, fe_fingerprint64(w, len));
    const int64_t s = probe(c->slots, c->mask, c->blob, c->offsets, &q);
    return c->slots[s].key ? (c->slots[s].key & ID_MASK) - 1 : -1;
}

/* Add from's tokens and counts into c, from's new tokens in from's order
 * (from counted documents after c's). */
static int merge(fe_counter *c, const fe_counter *from) {
    for (int64_t t = 0; t < from->n_tokens; t++) {
        const int64_t start = from->offsets[t];
        const int64_t id = token_id(c, from->blob + start, from->offsets[t + 1] - start,
                                    from->hashes[t]);
        if (id < 0) return -1;
        c->tallies[id].count += from->tallies[t].count;
        c->tallies[id].doc_count += from->tallies[t].doc_count;
        c->tallies[id].last_doc = from->tallies[t].last_doc;
    }
    return 0;
}

int fe_counter_add_documents(fe_counter *c, int64_t n_docs, fe_count_documents count,
                             const void *context, int parallel) {
    const int most = parallel ? omp_get_max_threads() : 1;
    fe_counter *mine = calloc((size_t)most, sizeof(fe_counter)); /* [0]: c itself */
    if (!mine) return -1;
    int failed = 0, team = 1;
    #pragma omp parallel num_threads(most) if (parallel) reduction(|| : failed)
    {
        const int me = omp_get_thread_num();
        #pragma omp single
        team = omp_get_num_threads();
        const int64_t first = n_docs * me / team, end = n_docs * (me + 1) / team;
        fe_counter *counter = me ? &mine[me] : c;
        failed = (me && fe_counter_init(counter))
                 || count(context, counter, first, end, c->n_documents + first);
    }
    for (int t = 1; t < team; t++) {
        failed = failed || merge(c, &mine[t]);
        fe_counter_free(&mine[t]);
    }
    free(mine);
    c->n_documents += n_docs;
    return failed ? -1 : 0;
}

typedef struct {
    const fe_strings *values;
    const int64_t *doc_starts;
} string_documents;

/* Strings counted at once by count_strings (one fe_counter_count). */
#define COUNT_CHUNK 64

static int count_strings(const void *context, fe_counter *counter, int64_t first, int64_t end,
                         int64_t document0) {
    const string_documents *docs = context;
    const char *words[COUNT_CHUNK];
    int64_t lens[COUNT_CHUNK], ids[COUNT_CHUNK];
    uint64_t hashes[COUNT_CHUNK];
    for (int64_t d = first; d < end; d++)
        for (int64_t i = docs->doc_starts[d]; i < docs->doc_starts[d + 1]; i += COUNT_CHUNK) {
            const int64_t stop = docs->doc_starts[d + 1], n = stop - i < COUNT_CHUNK
                                                              ? stop - i : COUNT_CHUNK;
            for (int64_t k = 0; k < n; k++) {
                words[k] = fe_string_at(docs->values, i + k, &lens[k]);
                hashes[k] = fe_fingerprint64(words[k], lens[k]);
            }
            if (fe_counter_count(counter, n, words, lens, hashes, document0 + d - first, ids))
                return -1;
        }
    return 0;
}

int fe_counter_add(fe_counter *c, const fe_strings *values, const int64_t *doc_starts,
                   int64_t n_docs) {
    const string_documents docs = {values, doc_starts};
    return fe_counter_add_documents(c, n_docs, count_strings, &docs,
                                    values->n >= PARALLEL_MIN);
}

/* ---- vocabulary order ------------------------------------------------------ */

/* A token as the sort reads it: its count, its first 16 bytes as two
 * big-endian numbers (zero-padded; an integer token's value with the sign
 * bit flipped, then 0), so most comparisons read no token bytes, and its id. */
typedef struct {
    int64_t count;
    uint64_t prefix[2];
    int64_t id;
} sort_key;

/* Bytes s[from:from + 8] of s[0:len] as a big-endian number, zero-padded. */
static uint64_t big_endian_prefix(const char *s, int64_t len, int64_t from) {
    uint64_t prefix = 0;
    for (int64_t k = from; k < from + 8; k++)
        prefix = prefix << 8 | (k < len ? (unsigned char)s[k] : 0);
    return prefix;
}

/* Whether key a goes after key b: by count, high to low, then token, high to low. */
static int after(const fe_counter *c, const sort_key *a, const sort_key *b) {
    if (a->count != b->count) return a->count < b->count;
    if (a->prefix[0] != b->prefix[0]) return a->prefix[0] < b->prefix[0];
    if (a->prefix[1] != b->prefix[1]) return a->prefix[1] < b->prefix[1];
    const int64_t la = c->offsets[a->id + 1] - c->offsets[a->id];
    const int64_t lb = c->offsets[b->id + 1] - c->offsets[b->id];
    const int cmp = memcmp(c->blob + c->offsets[a->id], c->blob + c->offsets[b->id],
                           (size_t)(la < lb ? la : lb));
    return cmp ? cmp < 0 : la < lb;
}

#define SORT_RUN 16

int fe_counter_order(const fe_counter *c, int integer, int64_t *order) {
    const int64_t n = c->n_tokens;
    sort_key *keys = malloc((size_t)(n ? 2 * n : 1) * sizeof(sort_key));
    if (!keys) return -1;
    for (int64_t id = 0; id < n; id++) {
        const char *token = c->blob + c->offsets[id];
        const int64_t len = c->offsets[id + 1] - c->offsets[id];
        uint64_t prefix[2] = {0, 0};
        if (integer) {
            memcpy(&prefix[0], token, 8);
            prefix[0] ^= 1ULL << 63;
        } else {
            prefix[0] = big_endian_prefix(token, len, 0);
            prefix[1] = big_endian_prefix(token, len, 8);
        }
        keys[id] = (sort_key){c->tallies[id].count, {prefix[0], prefix[1]}, id};
    }
    /* bottom-up merge sort from insertion-sorted runs; tokens are
     * distinct, so the order is total */
    for (int64_t lo = 0; lo < n; lo += SORT_RUN) {
        const int64_t hi = lo + SORT_RUN < n ? lo + SORT_RUN : n;
        for (int64_t i = lo + 1; i < hi; i++) {
            const sort_key key = keys[i];
            int64_t j = i;
            for (; j > lo && after(c, &keys[j - 1], &key); j--) keys[j] = keys[j - 1];
            keys[j] = key;
        }
    }
    sort_key *from = keys, *to = keys + n;
    for (int64_t width = SORT_RUN; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            const int64_t mid = lo + width < n ? lo + width : n;
            const int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                to[k++] = after(c, &from[i], &from[j]) ? from[j++] : from[i++];
            while (i < mid) to[k++] = from[i++];
            while (j < hi) to[k++] = from[j++];
        }
        sort_key *swap = from;
        from = to;
        to = swap;
    }
    for (int64_t i = 0; i < n; i++) order[i] = from[i].id;
    free(keys);
    return 0;
}
