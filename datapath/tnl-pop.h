/* Native tunnel decapsulation: an outer packet addressed to a local VTEP
 * address and the UDP port (or IP protocol GRE) of a tunnel vport, which
 * the datapath is about to output to the internal vport that carries that
 * address, is decapsulated right there and re-enters the datapath on the
 * tunnel vport with its tunnel metadata -- the same metadata the
 * host-socket path (vport-tunnel.c) produces -- instead of crossing the
 * TAP and the host stack twice.
 *
 * Only the plain case takes this path: an unfragmented IPv4 datagram
 * without options, or IPv6 without extension headers, with valid outer
 * checksums (or virtio-net flags that vouch for them) and a well-formed
 * tunnel header.  Everything else goes up the TAP as before: the host
 * stack reassembles fragments and the tunnel's socket takes them.
 */
#ifndef HVS_TNL_POP_H
#define HVS_TNL_POP_H 1

#include <linux/openvswitch.h>
#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tnl-push.h"
#include "tnl-route.h"

struct dp_packet;
struct dp_packet_md;
struct vport;

/* The outer headers of a tunnel packet candidate. */
struct tnl_pop_outer {
    int family;                 /* AF_INET, AF_INET6 */
    uint8_t proto;              /* IPPROTO_UDP, IPPROTO_GRE */
    uint8_t tos, ttl;
    struct tnl_addr src, dst;
    uint16_t udp_src, udp_dst;  /* host order; 0 for GRE */
    size_t l4_ofs;              /* the UDP or GRE header */
    size_t hdr_ofs;             /* the tunnel header (GRE: = l4_ofs) */
    size_t end;                 /* end of the IP datagram in the frame */
};

/* Parses the Ethernet, IP and UDP headers of frame 'f'.  Returns 0, or
 * -ENOENT for a frame that is not a candidate (not IP, a fragment, IP
 * options or extension headers, neither UDP nor GRE), -EINVAL for one
 * whose lengths are inconsistent. */
int tnl_pop_parse_outer(const uint8_t *f, size_t len,
                        struct tnl_pop_outer *o);

/* Whether the outer checksums of frame 'f' (parsed into 'o') are good:
 * the IPv4 header checksum always; the UDP checksum unless it is zero
 * (IPv4) or 'vnet' says the frame's checksums are known good
 * (DATA_VALID) or partial because a local sender left them to
 * offload (NEEDS_CSUM). */
bool tnl_pop_csum_ok(const uint8_t *f, const struct tnl_pop_outer *o,
                     const struct virtio_net_hdr *vnet);

/* Parses a whole outer frame for a tunnel of 'type' ('gbp': VXLAN group
 * policy) listening on UDP port 'dst_port' into 'md' (tunnel metadata and
 * options, md->tunnel cleared first).  Returns the offset of the inner
 * frame, or a negative errno as tnl_pop_parse_outer(), -EBADMSG for a bad
 * checksum or tunnel header, -ENOENT if it is for another port. */
int tnl_pop_frame(enum ovs_vport_type type, bool gbp, uint16_t dst_port,
                  const uint8_t *f, size_t len,
                  const struct virtio_net_hdr *vnet, struct dp_packet_md *md);

/* The fwd.c hook: for packet 'p' about to be output to internal vport
 * 'v', decapsulates it if it is a tunnel packet for a fast-path tunnel
 * vport of the same datapath and passes it to 'emit' (inject on the
 * tunnel vport); returns true then ('p' consumed), false to leave 'p'
 * alone.  Inside an RCU read-side section. */
bool tnl_pop_output(struct vport *v, struct dp_packet *p, tnl_emit_fn *emit,
                    void *aux);

/* From vport-tunnel.c: parses the tunnel header at 'h' ('len' bytes to
 * the end of the datagram; for GRE the GRE header) into 'md'; returns the
 * offset of the inner frame or -1. */
int vport_tunnel_parse_hdr(enum ovs_vport_type type, bool gbp,
                           const uint8_t *h, size_t len,
                           struct dp_packet_md *md);

#endif /* HVS_TNL_POP_H */
