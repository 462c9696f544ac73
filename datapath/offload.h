/* Checksum and segmentation offload completion in software, for egresses
 * that cannot take a packet's offload state (and for upcalls, which carry
 * complete packets as the kernel's do). */
#ifndef HVS_OFFLOAD_H
#define HVS_OFFLOAD_H 1

#include <stddef.h>

struct dp_packet;

/* If 'p' has a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM), computes it
 * and clears the flag.  Returns 0 or -EINVAL if csum_start/offset point
 * outside the frame (the packet should then be dropped). */
int offload_complete_csum(struct dp_packet *p);

/* Splits a TCP (or UDP fragmentation-offload) super-packet 'p'
 * (vnet.gso_type != NONE) into segments of at most gso_size payload bytes,
 * each with correct IPv4 ids, lengths, TCP sequence numbers and flags, and
 * complete checksums; stores up to 'max' new packets in 'segs' and returns
 * their number, or a negative errno.  'p' is left unchanged (the caller
 * frees it).  A packet without GSO yields one copy with its checksum
 * completed. */
int offload_segment(const struct dp_packet *p, struct dp_packet **segs,
                    size_t max);

/* Verifies the L4 checksum of a received packet without offload state;
 * returns 0 if it is correct or absent.  Used where the datapath must trust
 * a packet's payload (tunnel decapsulation). */
int offload_verify_csum(const struct dp_packet *p);

#endif /* HVS_OFFLOAD_H */
