#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vectors.h"

static int is_sep(char c) { return c == ' ' || c == '\t'; }
static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Exact powers of ten as doubles (10^22 is the largest exact one). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
#define SLOW_DIGITS 780 /* enough significant digits for a correctly rounded double */

/* Parse the decimal number at s (before end), rounded to double and then to
 * float, as Python's float() followed by numpy's float32 cast does. Syntax:
 * [+-] digits [. digits] [(e|E) [+-] digits], at least one mantissa digit.
 * Returns the end of the number, or NULL if there is none or it overflows
 * float32; the caller checks that a separator follows. */
static const char *parse_float(const char *s, const char *end, float *out) {
    const char *p = s;
    const int neg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) p++;
    const char *mantissa = p;
    uint64_t m = 0;
    for (; p < end && (unsigned)(*p - '0') <= 9; p++) m = m * 10 + (uint64_t)(*p - '0');
    int64_t digits = p - mantissa, exp10 = 0;
    if (p < end && *p == '.') {
        const char *frac = ++p;
        for (; p < end && (unsigned)(*p - '0') <= 9; p++) m = m * 10 + (uint64_t)(*p - '0');
        exp10 = -(p - frac);
        digits += p - frac;
    }
    if (digits == 0) return NULL;
    const char *mantissa_end = p;
    int64_t e_part = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        const int eneg = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+')) p++;
        if (p == end || (unsigned)(*p - '0') > 9) return NULL;
        for (; p < end && (unsigned)(*p - '0') <= 9; p++)
            if (e_part < 100000) e_part = e_part * 10 + (*p - '0');
        if (eneg) e_part = -e_part;
    }
    double v;
    if (digits <= 19 && m <= (1ULL << 53) && exp10 + e_part >= -22 && exp10 + e_part <= 22) {
        /* Exact m and 10^k: one correctly rounded operation. */
        exp10 += e_part;
        v = exp10 < 0 ? (double)m / POW10[-exp10] : (double)m * POW10[exp10];
    } else {
        /* Rare: rewrite as "<digits>e<exp>" (no decimal point, so the locale
         * does not matter) and let strtod round it. */
        char buf[SLOW_DIGITS + 32];
        int n = 0, after_point = 0, dropped_nonzero = 0;
        int64_t e = e_part;
        for (const char *q = mantissa; q < mantissa_end; q++) {
            if (*q == '.') after_point = 1;
            else if (n == 0 && *q == '0') e -= after_point;
            else if (n < SLOW_DIGITS) { buf[n++] = *q; e -= after_point; }
            else { e += !after_point; dropped_nonzero |= *q != '0'; }
        }
        /* A dropped nonzero digit still decides a tie: a final '1' stands for
         * all of them (SLOW_DIGITS exceed the 767 digits of any tie). */
        if (dropped_nonzero) { buf[n++] = '1'; e--; }
        if (n == 0) buf[n++] = '0';
        snprintf(buf + n, sizeof buf - (size_t)n, "e%lld", (long long)e);
        v = strtod(buf, NULL);
    }
    const float f = (float)(neg ? -v : v);
    if (isinf(f)) return NULL;
    *out = f;
    return p;
}

/* Fields (runs of non-separators) in [s, e). */
static int64_t count_fields(const char *s, const char *e) {
    int64_t n = 0;
    for (int in_field = 0; s < e; s++) {
        n += !in_field && !is_sep(*s);
        in_field = !is_sep(*s);
    }
    return n;
}

/* Whether to keep the word w[0:len] (*id: its vocab id in vocab mode).
 * Returns 1 to keep it, 0 if it is not in the vocabulary, -1 if there is no
 * room left in the outputs. */
static int keep_word(fe_vec_parser *p, const char *w, int64_t len, int64_t *id) {
    *id = -1;
    if (p->vocab && (*id = fe_vocab_find(p->vocab, w, len)) < 0) return 0;
    if (p->n_rows == p->rows_cap || (!p->vocab && p->words_len + len + 1 > p->words_cap))
        return -1;
    return 1;
}

/* Record the kept row: its vocab id or its word, and where it came from.
 * ' ' separates the stored words: no word of either format contains one. */
static void store_word(fe_vec_parser *p, const char *w, int64_t len, int64_t id,
                       int64_t line) {
    if (p->vocab) {
        p->ids[p->n_rows] = id;
    } else {
        memcpy(p->words + p->words_len, w, (size_t)len);
        p->words[p->words_len + len] = ' ';
        p->words_len += len + 1;
    }
    p->lines[p->n_rows] = line;
    p->n_rows++;
}

/* One text line [s, e) without its '\n'; buf is the chunk start (for err_pos). */
static int parse_line(fe_vec_parser *p, const char *buf, const char *s, const char *e) {
    while (e > s && is_space(e[-1])) e--;
    while (s < e && is_sep(*s)) s++;
    if (s == e) return FE_VEC_OK;
    if (p->max_records >= 0 && p->records == p->max_records) return FE_VEC_EXTRA;
    const char *w = s;
    while (s < e && !is_sep(*s)) s++;
    const int64_t wlen = s - w;
    if (p->dim == 0 && (p->dim = count_fields(s, e)) == 0) {
        p->err_count = 0;
        return FE_VEC_BAD_COUNT;
    }
    int64_t id;
    const int keep = keep_word(p, w, wlen, &id);
    if (!keep) {
        p->records++;
        return FE_VEC_OK;
    }
    if (e - s < 2 * p->dim) { /* too short for dim numbers: asks for no room */
        p->err_count = count_fields(s, e);
        return FE_VEC_BAD_COUNT;
    }
    if (keep < 0) return FE_VEC_FULL;
    float *row = p->rows + p->n_rows * p->dim;
    int64_t k = 0;
    for (;;) {
        while (s < e && is_sep(*s)) s++;
        if (s == e || k == p->dim) break;
        const char *t = s;
        s = parse_float(t, e, row + k);
        if (!s || (s < e && !is_sep(*s))) {
            for (s = t; s < e && !is_sep(*s);) s++;
            p->err_field = k + 1;
            p->err_pos = t - buf;
            p->err_len = s - t;
            return FE_VEC_BAD_NUMBER;
        }
        k++;
    }
    if (k != p->dim || s != e) {
        p->err_count = k + count_fields(s, e);
        return FE_VEC_BAD_COUNT;
    }
    store_word(p, w, wlen, id, p->line + 1);
    p->records++;
    return FE_VEC_OK;
}

int fe_vectors_parse_text(fe_vec_parser *p, const char *buf, int64_t len,
                          int final, int64_t *consumed) {
    const char *pos = buf, *end = buf + len;
    int status = FE_VEC_OK;
    while (pos < end) {
        const char *nl = memchr(pos, '\n', (size_t)(end - pos));
        if (!nl && !final) break;
        status = parse_line(p, buf, pos, nl ? nl : end);
        if (status == FE_VEC_FULL) break;
        p->line++;
        if (status != FE_VEC_OK) break;
        pos = nl ? nl + 1 : end;
    }
    *consumed = pos - buf;
    return status;
}

int fe_vectors_parse_binary(fe_vec_parser *p, const char *buf, int64_t len,
                            int final, int64_t *consumed) {
    const char *pos = buf, *end = buf + len;
    const int64_t nbytes = p->dim * (int64_t)sizeof(float);
    int status = FE_VEC_OK;
    for (;;) {
        while (pos < end && is_space(*pos)) pos++;
        if (pos == end) break;
        if (p->max_records >= 0 && p->records == p->max_records) {
            p->err_pos = pos - buf;
            status = FE_VEC_EXTRA;
            break;
        }
        const char *sp = memchr(pos, ' ', (size_t)(end - pos));
        if (!sp || end - (sp + 1) < nbytes) {
            if (final) {
                p->err_pos = pos - buf;
                p->err_len = end - pos;
                status = FE_VEC_TRUNCATED;
            }
            break;
        }
        int64_t id;
        const int keep = keep_word(p, pos, sp - pos, &id);
        if (keep < 0) {
            status = FE_VEC_FULL;
            break;
        }
        if (keep) {
            float *row = p->rows + p->n_rows * p->dim;
            memcpy(row, sp + 1, (size_t)nbytes); /* little-endian float32 */
            for (int64_t k = 0; k < p->dim; k++) {
                if (!isfinite(row[k])) {
                    p->err_field = k + 1;
                    p->err_pos = pos - buf;
                    status = FE_VEC_BAD_NUMBER;
                    break;
                }
            }
            if (status != FE_VEC_OK) break;
            store_word(p, pos, sp - pos, id, p->records + 1);
        }
        p->records++;
        pos = sp + 1 + nbytes;
    }
    *consumed = pos - buf;
    return status;
}
