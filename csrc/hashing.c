#include <string.h>
#include "hashing.h"

static inline uint64_t fetch64(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t fetch32(const char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t rotate_right(uint64_t v, int shift) {
    return shift == 0 ? v : (v >> shift) | (v << (64 - shift));
}

static inline uint64_t rotate_left(uint64_t v, int shift) {
    return (v << shift) | (v >> (64 - shift));
}

/* ---- FarmHash Fingerprint64 ---------------------------------------------- */

static const uint64_t K0 = 0xc3a5c85c97cb3127ULL;
static const uint64_t K1 = 0xb492b66fbe98f273ULL;
static const uint64_t K2 = 0x9ae16a3b2f90404fULL;

static inline uint64_t shift_mix(uint64_t v) { return v ^ (v >> 47); }

static inline uint64_t hash_len16(uint64_t u, uint64_t v, uint64_t mul) {
    uint64_t a = (u ^ v) * mul;
    a ^= a >> 47;
    uint64_t b = (v ^ a) * mul;
    b ^= b >> 47;
    return b * mul;
}

static uint64_t hash_len0to16(const char *s, uint64_t len) {
    if (len >= 8) {
        const uint64_t mul = K2 + len * 2;
        const uint64_t a = fetch64(s) + K2, b = fetch64(s + len - 8);
        const uint64_t c = rotate_right(b, 37) * mul + a;
        const uint64_t d = (rotate_right(a, 25) + b) * mul;
        return hash_len16(c, d, mul);
    }
    if (len >= 4) {
        const uint64_t mul = K2 + len * 2;
        const uint64_t a = fetch32(s);
        return hash_len16(len + (a << 3), fetch32(s + len - 4), mul);
    }
    if (len > 0) {
        const uint8_t a = (uint8_t)s[0], b = (uint8_t)s[len >> 1], c = (uint8_t)s[len - 1];
        const uint32_t y = (uint32_t)a + ((uint32_t)b << 8);
        const uint32_t z = (uint32_t)len + ((uint32_t)c << 2);
        return shift_mix(y * K2 ^ z * K0) * K2;
    }
    return K2;
}

static uint64_t hash_len17to32(const char *s, uint64_t len) {
    const uint64_t mul = K2 + len * 2;
    const uint64_t a = fetch64(s) * K1, b = fetch64(s + 8);
    const uint64_t c = fetch64(s + len - 8) * mul, d = fetch64(s + len - 16) * K2;
    return hash_len16(rotate_right(a + b, 43) + rotate_right(c, 30) + d,
                      a + rotate_right(b + K2, 18) + c, mul);
}

static uint64_t hash_len33to64(const char *s, uint64_t len) {
    const uint64_t mul = K2 + len * 2;
    const uint64_t a = fetch64(s) * K2, b = fetch64(s + 8);
    const uint64_t c = fetch64(s + len - 8) * mul, d = fetch64(s + len - 16) * K2;
    const uint64_t y = rotate_right(a + b, 43) + rotate_right(c, 30) + d;
    const uint64_t z = hash_len16(y, a + rotate_right(b + K2, 18) + c, mul);
    const uint64_t e = fetch64(s + 16) * mul, f = fetch64(s + 24);
    const uint64_t g = (y + fetch64(s + len - 32)) * mul;
    const uint64_t h = (z + fetch64(s + len - 24)) * mul;
    return hash_len16(rotate_right(e + f, 43) + rotate_right(g, 30) + h,
                      e + rotate_right(f + a, 18) + g, mul);
}

typedef struct { uint64_t first, second; } pair64;

/* FarmHash's WeakHashLen32WithSeeds over the 32 bytes at s. */
static inline pair64 weak_hash_len32(const char *s, uint64_t a, uint64_t b) {
    const uint64_t w = fetch64(s), x = fetch64(s + 8), y = fetch64(s + 16), z = fetch64(s + 24);
    a += w;
    b = rotate_right(b + a + z, 21);
    const uint64_t c = a;
    a += x;
    a += y;
    b += rotate_right(a, 44);
    return (pair64){a + z, b + c};
}

uint64_t fe_fingerprint64(const char *s, int64_t length) {
    const uint64_t len = (uint64_t)length;
    if (len <= 16) return hash_len0to16(s, len);
    if (len <= 32) return hash_len17to32(s, len);
    if (len <= 64) return hash_len33to64(s, len);
    const uint64_t seed = 81;
    uint64_t x = seed, y = seed * K1 + 113, z = shift_mix(y * K2 + 113) * K2, t;
    pair64 v = {0, 0}, w = {0, 0};
    x = x * K2 + fetch64(s);
    const char *end = s + ((len - 1) / 64) * 64;
    const char *last64 = end + ((len - 1) & 63) - 63;
    do {  /* 64-byte blocks */
        x = rotate_right(x + y + v.first + fetch64(s + 8), 37) * K1;
        y = rotate_right(y + v.second + fetch64(s + 48), 42) * K1;
        x ^= w.second;
        y += v.first + fetch64(s + 40);
        z = rotate_right(z + w.first, 33) * K1;
        v = weak_hash_len32(s, v.second * K1, x + w.first);
        w = weak_hash_len32(s + 32, z + w.second, y + fetch64(s + 16));
        t = z, z = x, x = t;
        s += 64;
    } while (s != end);
    /* the last 64 bytes (overlapping the blocks) */
    const uint64_t mul = K1 + ((z & 0xff) << 1);
    s = last64;
    w.first += (len - 1) & 63;
    v.first += w.first;
    w.first += v.first;
    x = rotate_right(x + y + v.first + fetch64(s + 8), 37) * mul;
    y = rotate_right(y + v.second + fetch64(s + 48), 42) * mul;
    x ^= w.second * 9;
    y += v.first * 9 + fetch64(s + 40);
    z = rotate_right(z + w.first, 33) * mul;
    v = weak_hash_len32(s, v.second * mul, x + w.first);
    w = weak_hash_len32(s + 32, z + w.second, y + fetch64(s + 16));
    t = z, z = x, x = t;
    return hash_len16(hash_len16(v.first, w.first, mul) + shift_mix(y) * K0 + z,
                      hash_len16(v.second, w.second, mul) + x, mul);
}

/* ---- SipHash-2-4 --------------------------------------------------------- */

#define SIP_ROUND(v0, v1, v2, v3)                                               \
    do {                                                                        \
        v0 += v1; v1 = rotate_left(v1, 13); v1 ^= v0; v0 = rotate_left(v0, 32); \
        v2 += v3; v3 = rotate_left(v3, 16); v3 ^= v2;                           \
        v0 += v3; v3 = rotate_left(v3, 21); v3 ^= v0;                           \
        v2 += v1; v1 = rotate_left(v1, 17); v1 ^= v2; v2 = rotate_left(v2, 32); \
    } while (0)

uint64_t fe_siphash24(uint64_t k0, uint64_t k1, const char *s, int64_t length) {
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    const uint64_t len = (uint64_t)length;
    const char *end = s + (len & ~(uint64_t)7);
    for (; s != end; s += 8) {
        const uint64_t m = fetch64(s);
        v3 ^= m;
        SIP_ROUND(v0, v1, v2, v3);
        SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = len << 56;  /* the length's low byte, then the tail bytes */
    for (uint64_t i = 0; i < (len & 7); i++) last |= (uint64_t)(uint8_t)s[i] << (8 * i);
    v3 ^= last;
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int r = 0; r < 4; r++) SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

int fe_int64_to_decimal(int64_t v, char *buf) {
    char digits[20];
    int n = 0;
    uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    int len = 0;
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = digits[--n];
    return len;
}
