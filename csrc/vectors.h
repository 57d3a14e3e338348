/* Streaming parser for pretrained word vectors: GloVe / word2vec / fastText
 * text (one "word x1 ... xdim" line per vector) and word2vec binary ("word "
 * then dim little-endian float32 per record). The caller feeds chunks of the
 * file; the parser consumes whole lines (records) only and reports how far it
 * got, so the caller carries the incomplete tail over to the next chunk.
 * Numbers are parsed without the C locale ('.' decimals only). */
#ifndef FE_VECTORS_H
#define FE_VECTORS_H

#include <stdint.h>
#include "lookup.h" /* fe_vocab: the words a parse keeps */

enum {
    FE_VEC_OK = 0,         /* every complete line / record was consumed */
    FE_VEC_FULL = 1,       /* output buffers full: grow them and feed again (the
                              pending line / record is complete and long enough for dim
                              numbers, so its row fits in memory) */
    FE_VEC_BAD_COUNT = 2,  /* a line holds err_count numbers, not dim */
    FE_VEC_BAD_NUMBER = 3, /* number err_field of the line is not a finite float32 */
    FE_VEC_EXTRA = 4,      /* more lines / records than max_records (the header) */
    FE_VEC_TRUNCATED = 5,  /* binary: the file ends inside a record */
};

typedef struct {
    /* settings */
    int64_t dim;          /* numbers per vector; 0 = take from the first line (text only) */
    int64_t max_records;  /* -1 = no header; else the count the header declares */
    const fe_vocab *vocab; /* NULL keeps every word; else only words of vocab */
    /* outputs, owned and grown by the caller */
    float *rows;          /* (rows_cap, dim) kept vectors, in file order */
    int64_t rows_cap;
    int64_t *ids;         /* (rows_cap) vocab id of each kept row (vocab mode) */
    int64_t *lines;       /* (rows_cap) 1-based line (text) or record (binary) of each row */
    char *words;          /* (words_cap) kept words, each followed by ' ' (no vocab) */
    int64_t words_cap;
    /* progress */
    int64_t n_rows;       /* rows kept so far */
    int64_t words_len;    /* bytes used in words */
    int64_t records;      /* non-blank lines / records seen so far */
    int64_t line;         /* text: lines consumed so far (set to 1 after a header) */
    /* error details, valid after an error status */
    int64_t err_count;    /* FE_VEC_BAD_COUNT: numbers found on the line */
    int64_t err_field;    /* FE_VEC_BAD_NUMBER: 1-based position of the number */
    int64_t err_pos;      /* offset in the fed chunk of the bad token (or record) */
    int64_t err_len;      /* its length in bytes */
} fe_vec_parser;

/* Parse the complete lines of buf[0:len]; with final != 0 the last line may
 * lack its '\n' (end of file). Blank lines are skipped; fields are separated
 * by runs of spaces or tabs; trailing spaces, tabs and '\r' are ignored.
 * Lines of words outside vocab are skipped without parsing their numbers.
 * *consumed: bytes consumed, always at a line boundary.
 * Returns an FE_VEC_* status; after an error, p->line is the 1-based line. */
int fe_vectors_parse_text(fe_vec_parser *p, const char *buf, int64_t len,
                          int final, int64_t *consumed);

/* Same for word2vec binary records; p->dim must be set. Whitespace before a
 * word (word2vec writes '\n' after each vector) is skipped. After error, the
 * 1-based record number is p->records + 1. */
int fe_vectors_parse_binary(fe_vec_parser *p, const char *buf, int64_t len,
                            int final, int64_t *consumed);

#endif
