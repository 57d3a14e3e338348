#include <stdlib.h>
#include <string.h>
#include "hashing.h"
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

/* fe_tokenize_counts' work for documents [first, end): each document's
 * n-grams are written out (the split tokens are already contiguous), then
 * counted at once. */
static int count_documents(const void *context, fe_counter *counter, int64_t first,
                           int64_t end, int64_t document0) {
    const fe_tokenizer *t = context;
    const int64_t *widths = t->ngram_widths ? t->ngram_widths : &ONE;
    const int64_t n_widths = t->ngram_widths ? t->n_widths : 1;
    int16_t classes[256];
    byte_classes(t, classes);
    /* a document's w-grams hold each of its bytes w times at most, each
     * followed by a space at most (character tokens) */
    int64_t gram_bytes = 1;
    for (int64_t w = 0; w < n_widths; w++) gram_bytes += 2 * widths[w] * t->max_doc_len;
    const size_t max_tokens = (size_t)(n_widths * (t->max_doc_len + 1));
    unigrams u;
    char *grams = malloc((size_t)gram_bytes);
    const char **words = malloc(max_tokens * sizeof(char *));
    int64_t *lens = malloc(max_tokens * sizeof(int64_t)), *ids = malloc(max_tokens * sizeof(int64_t));
    uint64_t *hashes = malloc(max_tokens * sizeof(uint64_t));
    int failed = !unigrams_alloc(&u, t->max_doc_len) || !grams || !words || !lens || !ids
                 || !hashes;
    for (int64_t d = first; d < end && !failed; d++) {
        const int64_t n = split_document(t, classes, d, &u);
        int64_t k = 0, at = 0;
        for (int64_t w = 0; w < n_widths; w++)
            for (int64_t i = 0; i + widths[w] <= n; i++, k++) {
                lens[k] = ngram_bytes(&u, i, widths[w]);
                words[k] = u.bytes + u.starts[i];
                if (widths[w] > 1) {
                    write_ngram(&u, i, widths[w], grams + at);
                    words[k] = grams + at;
                    at += lens[k];
                }
                hashes[k] = fe_fingerprint64(words[k], lens[k]);
            }
        failed = fe_counter_count(counter, k, words, lens, hashes, document0 + d - first, ids);
    }
    unigrams_free(&u);
    free(grams);
    free(words);
    free(lens);
    free(ids);
    free(hashes);
    return failed ? -1 : 0;
}

int fe_tokenize_counts(const fe_tokenizer *t, fe_counter *counter) {
    return fe_counter_add_documents(counter, t->docs->n, count_documents, t,
                                    t->docs->n >= FE_TOK_PARALLEL_MIN)
               ? FE_TOK_NO_MEMORY : FE_TOK_OK;
}
