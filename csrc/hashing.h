/* String hashes that TensorFlow's string ops use, so hash buckets match
 * Keras's Hashing / lookup OOV buckets bit for bit:
 *  - FarmHash Fingerprint64 (farmhashna::Hash64 with its seed), the hash of
 *    tf.strings.to_hash_bucket_fast;
 *  - SipHash-2-4 keyed with two 64-bit words, the hash of
 *    tf.strings.to_hash_bucket_strong(key=[k0, k1]).
 * Written from the published algorithms (FarmHash 1.1, Aumasson & Bernstein
 * 2012); both read input as little-endian 64-bit words. */
#ifndef FE_HASHING_H
#define FE_HASHING_H

#include <stdint.h>

/* FarmHash Fingerprint64 of s[0:len]. */
uint64_t fe_fingerprint64(const char *s, int64_t len);

/* SipHash-2-4 of s[0:len] under the 128-bit key (k0, k1). */
uint64_t fe_siphash24(uint64_t k0, uint64_t k1, const char *s, int64_t len);

/* Decimal text of v (as tf.strings.as_string), written to buf (>= 20 chars,
 * no terminator); returns its length. */
int fe_int64_to_decimal(int64_t v, char *buf);

#endif
