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

/* For frames that crossed a host socket without their offload state (the
 * inner frame of a tunnel datagram received on a UDP socket): a sender on
 * this host (veth, the kernel's vxlan device) may have left the inner TCP
 * or UDP checksum partial, holding only the pseudo-header sum, since the
 * socket reports nothing about it.  Verifies the L4 checksum; a wrong one
 * that has exactly the partial form is completed in place.  Marks the
 * packet VIRTIO_NET_HDR_F_DATA_VALID when the checksum is (now) correct.
 * Returns 0, or -EBADMSG for a wrong checksum that is left as it is (the
 * receiver drops it, as after a kernel bridge), -ENOMEM if the data
 * could not be made writable. */
int offload_repair_csum(struct dp_packet *p);

/* Also for frames that crossed a host socket: a TCP super-packet (GSO)
 * of a sender on this host reaches a UDP or raw socket whole, without its
 * segment size.  If 'p' is a TCP/IP frame whose IP datagram is longer
 * than 'l3_mtu', marks it as a super-packet again (NEEDS_CSUM with the
 * checksum field in partial form, GSO TCPV4/TCPV6) with segments that fit
 * 'l3_mtu', and returns 1; returns 0 for anything else. */
int offload_mark_super(struct dp_packet *p, size_t l3_mtu);

#endif /* HVS_OFFLOAD_H */
