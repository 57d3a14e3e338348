/* Integer size arithmetic shared by the kernels. */
#ifndef FE_SIZES_H
#define FE_SIZES_H

#include <stdint.h>

static inline int64_t ceil_div(int64_t n, int64_t m) { return (n + m - 1) / m; }

static inline int64_t round_up(int64_t n, int64_t m) { return ceil_div(n, m) * m; }

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

#endif
