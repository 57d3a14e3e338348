#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "text_vectorize.h"

/* Documents (or tokens) below which one thread does the work: a team's
 * start costs more than tokenizing a few hundred short texts. */
#define FE_TOK_PARALLEL_MIN 512

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Keras's pattern [!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']: every ASCII
 * punctuation character (",-\." is the range , - .). */
static int is_punctuation(unsigned char c) {
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
           (c >= '{' && c <= '~');
}

/* Per-thread scratch: one document's split tokens. */
typedef struct {
    char *bytes;      /* (max_doc_len) the standardized tokens, back to back */
    int64_t *starts;  /* (max_doc_len + 2) start of token i in bytes; starts[n] = end */
} unigrams;

static int unigrams_alloc(unigrams *u, int64_t max_doc_len) {
    u->starts = NULL;
    u->bytes = malloc((size_t)max_doc_len + 1);
    u->starts = malloc(sizeof(int64_t) * (size_t)(max_doc_len + 2));
    return u->bytes && u->starts;
}

static void unigrams_free(unigrams *u) {
    free(u->bytes);
    free(u->starts);
}

/* What standardize makes of each byte: itself (lower-cased), DROP (stripped
 * punctuation) or SPACE (a whitespace split's separator). */
enum { DROP = -1, SPACE = -2 };

static void byte_classes(const fe_tokenizer *t, int16_t classes[256]) {
    for (int c = 0; c < 256; c++) {
        classes[c] = (int16_t)(t->lower && c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
        if (t->strip_punctuation && is_punctuation((unsigned char)c)) classes[c] = DROP;
        if (t->split == FE_SPLIT_WHITESPACE && is_space((unsigned char)c)) classes[c] = SPACE;
    }
}

/* Standardize and split document d into u; returns its number of tokens. */
static int64_t split_document(const fe_tokenizer *t, const int16_t classes[256], int64_t d,
                              unigrams *u) {
    int64_t len;
    const unsigned char *doc = (const unsigned char *)fe_string_at(t->docs, d, &len);
    int64_t n = 0, end = 0;
    int in_token = 0;
    for (int64_t i = 0; i < len; i++) {
        const int16_t c = classes[doc[i]];
        if (c == DROP) continue;
        if (c == SPACE) {
            in_token = 0;
            continue;
        }
        if (t->split == FE_SPLIT_WHITESPACE) {
            if (!in_token) u->starts[n++] = end;
            in_token = 1;
        } else if (t->split == FE_SPLIT_CHARACTER && (c & 0xC0) != 0x80) {
            u->starts[n++] = end; /* a code point starts at each non-continuation byte */
        }
        u->bytes[end++] = (char)c;
    }
    if (t->split == FE_SPLIT_NONE) u->starts[n++] = 0;
    u->starts[n] = end;
    return n;
}

/* Bytes of the n-gram of `width` tokens from token i: theirs plus one space between each. */
static int64_t ngram_bytes(const unigrams *u, int64_t i, int64_t width) {
    return u->starts[i + width] - u->starts[i] + width - 1;
}

/* The n-gram of `width` tokens from token i, written at out. */
static void write_ngram(const unigrams *u, int64_t i, int64_t width, char *out) {
    for (int64_t k = i; k < i + width; k++) {
        const int64_t size = u->starts[k + 1] - u->starts[k];
        memcpy(out, u->bytes + u->starts[k], (size_t)size);
        out += size;
        if (k + 1 < i + width) *out++ = ' ';
    }
}

int64_t fe_strings_max_length(const fe_strings *s) {
    int64_t longest = 0, len;
    for (int64_t i = 0; i < s->n; i++) {
        fe_string_at(s, i, &len);
        if (len > longest) longest = len;
    }
    return longest;
}

/* The widths to emit: the given ones, or 1 (the split tokens themselves). */
static const int64_t ONE = 1;

int fe_tokenize_count(const fe_tokenizer *t, int64_t *doc_tokens, int64_t *doc_bytes) {
    const int64_t *widths = t->ngram_widths ? t->ngram_widths : &ONE;
    const int64_t n_widths = t->ngram_widths ? t->n_widths : 1;
    int failed = 0;
    int16_t classes[256];
    byte_classes(t, classes);
    #pragma omp parallel if (t->docs->n >= FE_TOK_PARALLEL_MIN) reduction(|| : failed)
    {
        unigrams u;
        if (!unigrams_alloc(&u, t->max_doc_len)) {
            failed = 1;
        } else {
            #pragma omp for schedule(static)
            for (int64_t d = 0; d < t->docs->n; d++) {
                const int64_t n = split_document(t, classes, d, &u);
                int64_t tokens = 0, bytes = 0;
                for (int64_t w = 0; w < n_widths; w++)
                    for (int64_t i = 0; i + widths[w] <= n; i++) {
                        tokens++;
                        bytes += ngram_bytes(&u, i, widths[w]);
                    }
                doc_tokens[d] = tokens;
                doc_bytes[d] = bytes;
            }
        }
        unigrams_free(&u);
    }
    return failed ? FE_TOK_NO_MEMORY : FE_TOK_OK;
}

int fe_tokenize_write(const fe_tokenizer *t, const int64_t *token_starts,
                      const int64_t *byte_starts, char *tokens, int64_t *token_offsets) {
    const int64_t *widths = t->ngram_widths ? t->ngram_widths : &ONE;
    const int64_t n_widths = t->ngram_widths ? t->n_widths : 1;
    int failed = 0;
    int16_t classes[256];
    byte_classes(t, classes);
    token_offsets[token_starts[t->docs->n]] = byte_starts[t->docs->n];
    #pragma omp parallel if (t->docs->n >= FE_TOK_PARALLEL_MIN) reduction(|| : failed)
    {
        unigrams u;
        if (!unigrams_alloc(&u, t->max_doc_len)) {
            failed = 1;
        } else {
            #pragma omp for schedule(static)
            for (int64_t d = 0; d < t->docs->n; d++) {
                const int64_t n = split_document(t, classes, d, &u);
                int64_t k = token_starts[d], at = byte_starts[d];
                for (int64_t w = 0; w < n_widths; w++)
                    for (int64_t i = 0; i + widths[w] <= n; i++) {
                        token_offsets[k++] = at;
                        write_ngram(&u, i, widths[w], tokens + at);
                        at += ngram_bytes(&u, i, widths[w]);
                    }
            }
        }
        unigrams_free(&u);
    }
    return failed ? FE_TOK_NO_MEMORY : FE_TOK_OK;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t token_hash(const char *s, int64_t len) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
    for (; len >= 8; s += 8, len -= 8) {
        uint64_t word;
        memcpy(&word, s, 8);
        h = mix(h ^ word);
    }
    uint64_t tail = 0;
    memcpy(&tail, s, (size_t)len);
    return mix(h ^ tail);
}

/* One thread's open-addressing table of the tokens it owns. */
/* One distinct token: 64 bytes. Its hash, length and first INLINE_BYTES
 * bytes are kept here, so a probe reads the token's bytes elsewhere only
 * when it is longer. */
#define INLINE_BYTES 20
typedef struct {
    uint64_t hash;
    int64_t first, count, doc_count, last_doc;
    int32_t len;
    char head[INLINE_BYTES];
} count_entry;

/* Whether e holds the token w[0:len] of hash h. */
static int entry_is(const count_entry *e, uint64_t h, const char *w, int64_t len,
                    const char *tokens, const int64_t *token_offsets) {
    if (e->hash != h || e->len != len) return 0;
    if (len <= INLINE_BYTES) return memcmp(e->head, w, (size_t)len) == 0;
    return memcmp(tokens + token_offsets[e->first], w, (size_t)len) == 0;
}

typedef struct {
    count_entry *entries; /* (mask + 1), first = -1 marks an empty slot */
    uint64_t mask;
    int64_t size;
} count_table;

static int table_init(count_table *table, uint64_t slots) {
    table->entries = malloc(sizeof(count_entry) * slots);
    if (!table->entries) return 0;
    for (uint64_t s = 0; s < slots; s++) table->entries[s].first = -1;
    table->mask = slots - 1;
    table->size = 0;
    return 1;
}

static int table_grow(count_table *table) {
    count_table grown;
    if (!table_init(&grown, 2 * (table->mask + 1))) return 0;
    for (uint64_t s = 0; s <= table->mask; s++) {
        const count_entry e = table->entries[s];
        if (e.first < 0) continue;
        uint64_t g = e.hash & grown.mask;
        while (grown.entries[g].first >= 0) g = (g + 1) & grown.mask;
        grown.entries[g] = e;
    }
    grown.size = table->size;
    free(table->entries);
    *table = grown;
    return 1;
}

int64_t fe_count_tokens(const char *tokens, const int64_t *token_offsets,
                        const int64_t *doc_starts, int64_t n_docs, int64_t *first,
                        int64_t *counts, int64_t *doc_counts, uint64_t *hashes) {
    const int64_t n_tokens = doc_starts[n_docs];
    const int parallel = n_tokens >= FE_TOK_PARALLEL_MIN * 16;
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t k = 0; k < n_tokens; k++)
        hashes[k] = token_hash(tokens + token_offsets[k], token_offsets[k + 1] - token_offsets[k]);
    int failed = 0;
    /* Thread t of T counts the tokens whose hash is t modulo T, each into its
     * own table, then leaves each count at the token's first occurrence. */
    #pragma omp parallel if (parallel) reduction(|| : failed)
    {
        const uint64_t team = (uint64_t)omp_get_num_threads(), me = (uint64_t)omp_get_thread_num();
        count_table table;
        if (!table_init(&table, 1024)) {
            failed = 1;
        } else {
            for (int64_t d = 0; d < n_docs && !failed; d++)
                for (int64_t k = doc_starts[d]; k < doc_starts[d + 1]; k++) {
                    const uint64_t h = hashes[k];
                    if (((h >> 32) * team) >> 32 != me) continue; /* (h >> 32) * team / 2^32 */
                    const char *w = tokens + token_offsets[k];
                    const int64_t len = token_offsets[k + 1] - token_offsets[k];
                    uint64_t s = h & table.mask;
                    count_entry *e;
                    for (;; s = (s + 1) & table.mask) {
                        e = &table.entries[s];
                        if (e->first < 0 || entry_is(e, h, w, len, tokens, token_offsets)) break;
                    }
                    if (e->first < 0) {
                        *e = (count_entry){h, k, 0, 0, -1, (int32_t)len, {0}};
                        memcpy(e->head, w, (size_t)(len < INLINE_BYTES ? len : INLINE_BYTES));
                        if (2 * ++table.size > (int64_t)table.mask && !table_grow(&table)) {
                            failed = 1;
                            break;
                        }
                        /* the grown table moved the entry: find it again */
                        for (s = h & table.mask; table.entries[s].first != k;
                             s = (s + 1) & table.mask) {
                        }
                        e = &table.entries[s];
                    }
                    e->count++;
                    if (e->last_doc != d) {
                        e->last_doc = d;
                        e->doc_count++;
                    }
                }
            for (uint64_t s = 0; !failed && s <= table.mask; s++) {
                const count_entry e = table.entries[s];
                if (e.first < 0) continue;
                counts[e.first] = e.count;
                doc_counts[e.first] = e.doc_count;
            }
            free(table.entries);
        }
    }
    if (failed) return -1;
    int64_t unique = 0;
    for (int64_t k = 0; k < n_tokens; k++) {
        if (!counts[k]) continue;
        first[unique] = k;
        counts[unique] = counts[k];
        doc_counts[unique++] = doc_counts[k];
    }
    return unique;
}
