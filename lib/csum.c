/* Internet checksums (RFC 1071) and their incremental update (RFC 1624).
 *
 * One's-complement addition commutes with byte swapping, so every 16-bit
 * word is summed exactly as it lies in memory and the folded result can be
 * stored back without conversion, whatever the host's byte order.  Only
 * values that are not already in wire form (protocol, lengths) are put in
 * network order before they join a sum.
 */
#include "csum.h"

#include <arpa/inet.h>
#include <string.h>

/* Reduces a 64-bit accumulator to 32 bits without losing carries. */
static uint32_t
fold64(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return (uint32_t) sum;
}

uint32_t
csum_partial(const void *data, size_t n, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t acc = sum;

    /* 32-bit loads: the sum of two 16-bit halves and of the word they make
     * fold to the same 16-bit value, and this halves the loop count. */
    while (n >= 4) {
        uint32_t w;

        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t w;

        memcpy(&w, p, 2);
        acc += w;
        p += 2;
        n -= 2;
    }
    if (n) {
        /* An odd trailing byte is the first byte of a zero-padded word. */
        uint8_t pad[2] = { p[0], 0 };
        uint16_t w;

        memcpy(&w, pad, 2);
        acc += w;
    }
    return fold64(acc);
}

uint16_t
csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t) ~sum;
}

uint32_t
csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4_len)
{
    uint64_t acc = 0;

    acc += src;
    acc += dst;
    acc += htons(proto);
    acc += htons(l4_len);
    return fold64(acc);
}

uint32_t
csum_pseudo6(const void *src, const void *dst, uint8_t proto,
             uint32_t l4_len)
{
    uint64_t acc = 0;

    acc += csum_partial(src, 16, 0);
    acc += csum_partial(dst, 16, 0);
    acc += htonl(l4_len);
    acc += htonl(proto);
    return fold64(acc);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), which never yields the -0 that
 * eqn. 2 can produce. */
static uint16_t
update(uint16_t csum, uint32_t partial_old_new)
{
    uint32_t sum = (uint16_t) ~csum;

    sum += partial_old_new;
    return csum_fold(fold64(sum));
}

uint16_t
csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
    return update(csum, (uint32_t) (uint16_t) ~old + new_);
}

uint16_t
csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
    uint32_t s = 0;

    s += (uint16_t) ~(old & 0xffff);
    s += (uint16_t) ~(old >> 16);
    s += new_ & 0xffff;
    s += new_ >> 16;
    return update(csum, s);
}

uint16_t
csum_update128(uint16_t csum, const void *old, const void *new_)
{
    const uint8_t *o = old, *n = new_;
    uint32_t s = 0;

    for (int i = 0; i < 16; i += 2) {
        uint16_t ow, nw;

        memcpy(&ow, o + i, 2);
        memcpy(&nw, n + i, 2);
        s += (uint16_t) ~ow;
        s += nw;
    }
    return update(csum, s);
}
