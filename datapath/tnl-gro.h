/* Software receive offload for decapsulated TCP: consecutive segments of
 * one TCP flow in a batch about to leave through a port that takes TSO
 * become one super-packet (virtio-net GSO TCPV4/TCPV6 with a partial
 * checksum), which the egress passes whole to the receiving stack.
 *
 * Why only decapsulated frames: the host stack hands hvs frames from host
 * interfaces after its own GRO, and local senders' super-packets arrive
 * whole, but a tunnel's inner frames arrive as the segments the remote
 * side put on the wire.  Delivering them one by one costs the receiving
 * host a system call, an skb and a TCP receive per 1448 bytes; merged,
 * one of each per batch.
 *
 * What is merged is exactly what the kernel's GRO would merge and its GSO
 * would reproduce: same Ethernet header, IPv4 without options or
 * fragments (or IPv6 without extension headers) with the same TOS/traffic
 * class, DF and TTL; TCP with only ACK (PSH on the last), the same ACK
 * number, window and options, contiguous sequence numbers, every segment
 * but the last of the first one's size.  IPv4 identifications are not
 * compared: segmentation numbers them on from the first one's, which is
 * what senders do.  Checksums are verified first (the
 * super-packet's partial checksum would hide a corrupted segment) unless
 * the packet's offload state vouches for them.  Packets of a flow keep
 * their order; packets of different flows may be reordered relative to
 * each other, as by the kernel's GRO.
 */
#ifndef HVS_TNL_GRO_H
#define HVS_TNL_GRO_H 1

#include <stdbool.h>
#include <stddef.h>

struct dp_packet;

/* Packets considered together; longer batches are taken in windows. */
#define TNL_GRO_WINDOW 64

/* Whether 'p' may be merged: it came out of a tunnel (received tunnel
 * metadata, not metadata set to send with). */
bool tnl_gro_wanted(const struct dp_packet *p);

/* Merges the segments in 'pkts' (n packets, owned by the caller) that can
 * be merged into super-packets of at most 'max_frame' bytes: each group
 * is replaced by one new packet at the position of its first segment,
 * the merged segments are freed, and the array is compacted.  Returns the
 * new number of packets.  A group whose super-packet cannot be allocated
 * is left as it was. */
int tnl_gro_batch(struct dp_packet **pkts, int n, size_t max_frame);

#endif /* HVS_TNL_GRO_H */
