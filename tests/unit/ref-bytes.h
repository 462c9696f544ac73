/* What several unit tests need to build and check packets independently
 * of the code under test: a deliberately naive one's-complement sum
 * (big-endian 16-bit words, byte by byte, carries folded as it goes) and
 * big-endian byte accessors.  Header-only: each test is one program. */
#ifndef HVS_TESTS_REF_BYTES_H
#define HVS_TESTS_REF_BYTES_H 1

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of 'n' bytes onto 's' (not complemented), host
 * order. */
static inline uint32_t
ref_sum(const uint8_t *d, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t) (d[i] << 8 | d[i + 1]);
        s = (s & 0xffff) + (s >> 16);
    }
    if (n & 1) {
        s += (uint32_t) d[n - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return s;
}

static inline uint16_t
be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static inline void
put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v & 0xffff);
}

#endif /* HVS_TESTS_REF_BYTES_H */
