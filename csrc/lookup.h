/* Vocabulary lookup for the preprocessing layers (StringLookup,
 * IntegerLookup, Hashing, TextVectorization): strings in one contiguous
 * buffer, an open-addressing hash table built once from a vocabulary, the
 * lookup of many values to ids, hash buckets, and the token counting of
 * adapt. Integer keys are handled as 8-byte strings (their int64 bytes). */
#ifndef FE_LOOKUP_H
#define FE_LOOKUP_H

#include <stdint.h>

/* n strings as the kernels read them: with starts set, string i is
 * starts[i][0:lengths[i]] (the buffers of Python str/bytes objects, read in
 * place); else blob[offsets[i]:offsets[i+1]] (offsets: (n + 1)); or with
 * offsets NULL blob[i*width:(i+1)*width], less its trailing NUL bytes when
 * strip_nul (numpy 'S' arrays). */
typedef struct {
    const char *const *starts;
    const int64_t *lengths;
    const char *blob;
    const int64_t *offsets;
    int64_t width;
    int strip_nul;
    int64_t n;
} fe_strings;

/* String i of s; its length in *len. */
static inline const char *fe_string_at(const fe_strings *s, int64_t i, int64_t *len) {
    if (s->starts) {
        *len = s->lengths[i];
        return s->starts[i];
    }
    if (s->offsets) {
        *len = s->offsets[i + 1] - s->offsets[i];
        return s->blob + s->offsets[i];
    }
    const char *start = s->blob + i * s->width;
    int64_t n = s->width;
    if (s->strip_nul)
        while (n > 0 && start[n - 1] == 0) n--;
    *len = n;
    return start;
}

/* UTF-8 of n fixed-width UCS-4 strings (numpy 'U' arrays, trailing NULs
 * stripped), in two steps: sizes, then bytes.
 * chars:   (n, width) code points
 * offsets: (n + 1) out, the blob offsets of each string's UTF-8
 * Returns the blob size, or -(i + 1) if string i holds a code point that is
 * not a Unicode scalar value (a surrogate or > 0x10FFFF). */
int64_t fe_utf8_offsets_from_ucs4(const uint32_t *chars, int64_t n, int64_t width,
                                  int64_t *offsets);
/* blob: (offsets[n]) out, the UTF-8 bytes of fe_utf8_offsets_from_ucs4's strings. */
void fe_utf8_from_ucs4(char *blob, const uint32_t *chars, int64_t n, int64_t width,
                       const int64_t *offsets);

/* A vocabulary of distinct words as an open-addressing hash table.
 * blob:    concatenated words (bytes)
 * offsets: (n_words + 1) word i is blob[offsets[i]:offsets[i+1]]
 * slots:   (mask + 1) per slot 0 (empty) or (id + 1) | high hash bits; mask + 1
 *          a power of two larger than n_words (at least twice: short probes) */
typedef struct {
    const char *blob;
    const int64_t *offsets;
    int64_t *slots;
    int64_t mask;
} fe_vocab;

/* Fill vocab->slots (zeroed by the caller) from the n_words words (< 2^40).
 * A word equal to an earlier one is not found under its own id. */
void fe_vocab_build(fe_vocab *vocab, int64_t n_words);

/* Id of the word w[0:len] in vocab, or -1. */
int64_t fe_vocab_find(const fe_vocab *vocab, const char *w, int64_t len);

/* ids[i] = id of string i of values in vocab, or -1 (multi-threaded; each
 * output depends on its value alone).
 * ids: (values->n) out */
void fe_vocab_lookup(int64_t *ids, const fe_vocab *vocab, const fe_strings *values);

/* Hash buckets as TensorFlow's string ops: buckets[i] = hash(string i) mod
 * num_buckets, hash FarmHash Fingerprint64 (to_hash_bucket_fast) or, with
 * keyed != 0, SipHash-2-4 under (k0, k1) (to_hash_bucket_strong).
 * buckets: (values->n) out */
void fe_hash_buckets(int64_t *buckets, const fe_strings *values, uint64_t num_buckets,
                     int keyed, uint64_t k0, uint64_t k1);
/* Same for integers hashed as their decimal text (tf.strings.as_string).
 * buckets, values: (n) */
void fe_hash_buckets_int64(int64_t *buckets, const int64_t *values, int64_t n,
                           uint64_t num_buckets, int keyed, uint64_t k0, uint64_t k1);

/* Counts of distinct tokens over any number of batches (adapt), with the
 * number of documents (rows) each appears in. Tokens get ids in order of
 * first appearance; the counter owns copies of their bytes. */
typedef struct {
    char *blob;            /* (blob_cap) token bytes */
    int64_t blob_len, blob_cap;
    int64_t *offsets;      /* (tokens_cap + 1) token t is blob[offsets[t]:offsets[t+1]] */
    int64_t *counts;       /* (tokens_cap) occurrences of token t */
    int64_t *doc_counts;   /* (tokens_cap) documents holding token t */
    int64_t *last_doc;     /* (tokens_cap) last document that held token t */
    int64_t n_tokens, tokens_cap;
    int64_t n_documents;
    int64_t *slots;        /* (mask + 1) as fe_vocab's */
    int64_t mask;
} fe_counter;

/* An empty counter; 0, or -1 when out of memory. */
int fe_counter_init(fe_counter *counter);
void fe_counter_free(fe_counter *counter);
/* Count the strings of values, as rows of row_length tokens (documents).
 * Returns 0, or -1 when out of memory (the counter stays valid, with the
 * values before the failure counted). */
int fe_counter_add(fe_counter *counter, const fe_strings *values, int64_t row_length);

#endif
