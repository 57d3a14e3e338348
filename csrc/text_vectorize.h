/* Text vectorization's hot loops: standardize, split and n-grams of UTF-8
 * documents (as Keras's TextVectorization does them with tf.strings), and
 * the counting of adapt(). Outputs are bitwise the same for any thread count:
 * every document writes to positions fixed by prefix sums, and counts merge
 * in document order. */
#ifndef FE_TEXT_VECTORIZE_H
#define FE_TEXT_VECTORIZE_H

#include <stdint.h>
#include "lookup.h"

enum { FE_SPLIT_NONE = 0, FE_SPLIT_WHITESPACE = 1, FE_SPLIT_CHARACTER = 2 };
enum { FE_TOK_OK = 0, FE_TOK_NO_MEMORY = 1 };

typedef struct {
    const fe_strings *docs;      /* the documents, UTF-8 */
    int64_t max_doc_len;         /* bytes of the longest document */
    int lower;                   /* A-Z to a-z, as tf.strings.lower without an encoding */
    int strip_punctuation;       /* drop the ASCII punctuation !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ */
    int split;                   /* FE_SPLIT_*: whitespace splits on " \t\n\v\f\r" runs
                                    (no empty tokens); character, on UTF-8 code points;
                                    none keeps the document as one token */
    const int64_t *ngram_widths; /* (n_widths) each >= 1, or NULL: the split tokens */
    int64_t n_widths;            /* n-grams of each width in turn, joined by one space */
} fe_tokenizer;

/* Bytes of the longest string of s (the max_doc_len of a tokenizer). */
int64_t fe_strings_max_length(const fe_strings *s);

/* Pass 1: the tokens each document yields and their bytes.
 * doc_tokens: (docs->n) out
 * doc_bytes:  (docs->n) out */
int fe_tokenize_count(const fe_tokenizer *t, int64_t *doc_tokens, int64_t *doc_bytes);

/* Pass 2: the tokens.
 * token_starts:  (docs->n + 1) first token of each document (prefix sums of doc_tokens)
 * byte_starts:   (docs->n + 1) first byte of each document's tokens (prefix sums of doc_bytes)
 * tokens:        (total bytes) out, the tokens concatenated
 * token_offsets: (total tokens + 1) out, token k is tokens[token_offsets[k]:token_offsets[k+1]] */
int fe_tokenize_write(const fe_tokenizer *t, const int64_t *token_starts,
                      const int64_t *byte_starts, char *tokens, int64_t *token_offsets);

/* Count the tokens of every document (as fe_tokenize_write gives them)
 * into counter, one document per string of t->docs, in parallel; counter's
 * ids and counts are the same for any thread count (fe_counter_add_documents). */
int fe_tokenize_counts(const fe_tokenizer *t, fe_counter *counter);

#endif
