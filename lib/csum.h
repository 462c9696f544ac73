/* Internet checksums (RFC 1071) and their incremental update (RFC 1624).
 * Values are in network byte order as stored in headers. */
#ifndef HVS_CSUM_H
#define HVS_CSUM_H 1

#include <stddef.h>
#include <stdint.h>

/* One's-complement partial sum of 'n' bytes, to be folded. */
uint32_t csum_partial(const void *data, size_t n, uint32_t sum);
/* Folds a partial sum to 16 bits and complements it. */
uint16_t csum_fold(uint32_t sum);
/* Partial sum of the IPv4 / IPv6 pseudo-header (addresses as stored;
 * proto and l4_len in host order). */
uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto,
                      uint16_t l4_len);
uint32_t csum_pseudo6(const void *src, const void *dst, uint8_t proto,
                      uint32_t l4_len);
/* Checksum 'csum' after a 16/32-bit field changed from 'old' to 'new'. */
uint16_t csum_update16(uint16_t csum, uint16_t old, uint16_t new_);
uint16_t csum_update32(uint16_t csum, uint32_t old, uint32_t new_);
uint16_t csum_update128(uint16_t csum, const void *old, const void *new_);

#endif /* HVS_CSUM_H */
