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

/* One slot of the open-addressing tables (vocabulary and counter): a
 * probe compares the query with the word's length and first bytes here, so
 * a word of up to FE_SLOT_HEAD bytes costs one cache miss (32-byte slots,
 * 64-byte aligned tables), and a longer one reads its tail elsewhere. */
#define FE_SLOT_HEAD 20
typedef struct {
    int64_t key;              /* 0: empty; else (id + 1) | the hash's high bits */
    uint32_t len;             /* the word's length, UINT32_MAX from there up */
    char head[FE_SLOT_HEAD];  /* its first bytes, zero-padded */
} fe_slot;

/* A vocabulary of distinct words as an open-addressing hash table.
 * blob:    concatenated words (bytes), the caller's
 * offsets: (n_words + 1) word i is blob[offsets[i]:offsets[i+1]], the caller's
 * slots:   (mask + 1) mask + 1 a power of two, at least twice n_words */
typedef struct {
    const char *blob;
    const int64_t *offsets;
    fe_slot *slots;
    int64_t mask;
} fe_vocab;

/* Build the table of the n_words words (< 2^40) of blob and offsets (kept
 * by the caller while vocab is used). A word equal to an earlier one is not
 * found under its own id. Returns 0, or -1 when out of memory. */
int fe_vocab_init(fe_vocab *vocab, const char *blob, const int64_t *offsets, int64_t n_words);
void fe_vocab_free(fe_vocab *vocab);

/* Id of the word w[0:len] in vocab, or -1. */
int64_t fe_vocab_find(const fe_vocab *vocab, const char *w, int64_t len);

/* ids[i] = offset + id of string i of values in vocab, or missing if it is
 * not there (multi-threaded; each output depends on its value alone).
 * ids: (values->n) out
 * Returns how many values were missing. */
int64_t fe_vocab_lookup(int64_t *ids, const fe_vocab *vocab, const fe_strings *values,
                        int64_t offset, int64_t missing);

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

/* Counts of distinct tokens over any number of batches of documents (adapt),
 * with the number of documents each appears in. Tokens get ids in order of
 * first appearance (the same for any thread count: see
 * fe_counter_add_documents); the counter owns copies of their bytes. */
/* A token's counts, together: counting one occurrence touches one line. */
typedef struct {
    int64_t count;      /* occurrences */
    int64_t doc_count;  /* documents holding it */
    int64_t last_doc;   /* the last document that held it */
} fe_tally;

typedef struct {
    char *blob;            /* (blob_cap) token bytes */
    int64_t blob_len, blob_cap;
    int64_t *offsets;      /* (tokens_cap + 1) token t is blob[offsets[t]:offsets[t+1]] */
    uint64_t *hashes;      /* (tokens_cap) fe_fingerprint64 of token t */
    fe_tally *tallies;     /* (tokens_cap) token t's counts */
    int64_t n_tokens, tokens_cap;
    int64_t n_documents;   /* documents counted so far; the next is numbered this */
    fe_slot *slots;        /* (mask + 1) as fe_vocab's */
    int64_t mask;
} fe_counter;

/* An empty counter; 0, or -1 when out of memory. */
int fe_counter_init(fe_counter *counter);
void fe_counter_free(fe_counter *counter);

/* Count one occurrence each of n tokens of document number `document`
 * (numbers rise as counting goes on): token k is words[k][0:lens[k]], of
 * hash hashes[k] (its fe_fingerprint64); each token's slot is prefetched
 * before any is probed, and its counts before any is counted.
 * ids: (n) scratch. Returns 0, or -1 when out of memory. */
int fe_counter_count(fe_counter *counter, int64_t n, const char *const *words,
                     const int64_t *lens, const uint64_t *hashes, int64_t document,
                     int64_t *ids);

/* Id of the token w[0:len] in counter, or -1. */
int64_t fe_counter_find(const fe_counter *counter, const char *w, int64_t len);

/* Counts documents [first, end) of a batch into counter, numbering document
 * first as document0: the per-thread work of fe_counter_add_documents.
 * Returns 0, or -1 when out of memory. */
typedef int (*fe_count_documents)(const void *context, fe_counter *counter, int64_t first,
                                  int64_t end, int64_t document0);

/* Count a batch of n_docs documents with count(context, ...), in parallel
 * (when parallel != 0): each thread counts a contiguous range of documents
 * into its own counter, and these are merged into counter in document order,
 * so ids, counts and the order of first appearance are those of one thread.
 * Returns 0, or -1 when out of memory (the counter is then fit only to be
 * freed). */
int fe_counter_add_documents(fe_counter *counter, int64_t n_docs, fe_count_documents count,
                             const void *context, int parallel);

/* Count the strings of values as n_docs documents: document d holds
 * strings doc_starts[d] <= i < doc_starts[d + 1] (doc_starts: (n_docs + 1),
 * rising from 0 to values->n). Returns 0, or -1 when out of memory. */
int fe_counter_add(fe_counter *counter, const fe_strings *values, const int64_t *doc_starts,
                   int64_t n_docs);

/* The ids of counter's tokens by count, high to low, ties by token, high
 * to low (Keras's np.lexsort((tokens, counts))[::-1]): tokens compare as
 * bytes, or with integer != 0 as the int64 their 8 bytes hold.
 * order: (counter->n_tokens) out
 * Returns 0, or -1 when out of memory. */
int fe_counter_order(const fe_counter *counter, int integer, int64_t *order);

#endif
