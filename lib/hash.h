/* Non-cryptographic hashing for flow tables and caches (murmur3-style
 * mixing over 32-bit words).  Deterministic for a given basis. */
#ifndef HVS_HASH_H
#define HVS_HASH_H 1

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
hash_rot(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static inline uint32_t
hash_add(uint32_t hash, uint32_t data)
{
    data *= 0xcc9e2d51;
    data = hash_rot(data, 15);
    data *= 0x1b873593;
    hash ^= data;
    hash = hash_rot(hash, 13);
    return hash * 5 + 0xe6546b64;
}

static inline uint32_t
hash_add64(uint32_t hash, uint64_t data)
{
    return hash_add(hash_add(hash, (uint32_t) data), (uint32_t) (data >> 32));
}

static inline uint32_t
hash_finish(uint32_t hash, uint32_t n_bytes)
{
    hash ^= n_bytes;
    hash ^= hash >> 16;
    hash *= 0x85ebca6b;
    hash ^= hash >> 13;
    hash *= 0xc2b2ae35;
    hash ^= hash >> 16;
    return hash;
}

/* Hashes 'n' bytes at 'p'; 'n' need not be a multiple of 4. */
static inline uint32_t
hash_bytes(const void *p, size_t n, uint32_t basis)
{
    const uint8_t *b = p;
    uint32_t h = basis;
    size_t i;

    for (i = 0; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, b + i, 4);
        h = hash_add(h, w);
    }
    if (i < n) {
        uint32_t w = 0;
        memcpy(&w, b + i, n - i);
        h = hash_add(h, w);
    }
    return hash_finish(h, (uint32_t) n);
}

#endif /* HVS_HASH_H */
