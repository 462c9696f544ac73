/* Native tunnel encapsulation: the datapath builds the outer Ethernet,
 * IPv4/IPv6 and UDP (or GRE) headers itself, after a route and neighbour
 * lookup in the host's tables (tnl-route.h), instead of handing the inner
 * frame to a host socket.
 *
 * Where the route leads decides the path: through an hvs internal vport
 * (the TAP that carries the VTEP address, e.g. br-phy), the encapsulated
 * frame re-enters the datapath as if the host had sent it on that TAP, so
 * that bridge's flows (NORMAL) take it to the uplink; through an hvs
 * netdev vport, it leaves there directly; anywhere else (the VTEP on a
 * host interface outside hvs, the kernel-datapath layout) the vport's
 * host-socket path stays in charge.  So do frames that would not fit the
 * egress MTU (the host stack fragments them).
 */
#ifndef HVS_TNL_PUSH_H
#define HVS_TNL_PUSH_H 1

#include <linux/openvswitch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tnl-route.h"

struct dp_packet;
struct dp_packet_md;
struct vport;

/* What tnl_push_header() writes in front of a frame. */
struct tnl_push_params {
    int family;                 /* AF_INET or AF_INET6 */
    uint8_t src_mac[6], dst_mac[6];
    struct tnl_addr src, dst;
    uint8_t tos, ttl;
    bool df;                    /* IPv4 don't-fragment */
    uint8_t proto;              /* IPPROTO_UDP or IPPROTO_GRE */
    uint16_t udp_src, udp_dst;  /* host order */
    /* UDP checksum: none (IPv4 only), or left partial for the egress to
     * complete (VIRTIO_NET_HDR_F_NEEDS_CSUM), or computed here. */
    enum { TNL_CSUM_NONE, TNL_CSUM_PARTIAL, TNL_CSUM_FULL } csum;
    uint32_t flow_hash;         /* IPv6 flow label, IPv4 id seed */
    const uint8_t *hdr;         /* the tunnel header (VXLAN, Geneve, GRE) */
    size_t hdr_len;
};

/* Prepends the outer headers 'pp' describes to the complete frame 'p'
 * (no partial checksum, not a super-packet), sets p->l3_ofs/l4_ofs to the
 * outer ones and, for TNL_CSUM_PARTIAL, p->vnet.  Returns 0 or -ENOMEM,
 * -EINVAL (bad parameters, or the result longer than an IP datagram). */
int tnl_push_header(struct dp_packet *p, const struct tnl_push_params *pp);

/* The UDP source port for a flow hash: in the dynamic range RFC 7348
 * recommends (49152-65535). */
uint16_t tnl_push_src_port(uint32_t flow_hash);

/* ---- the fwd.c hook ---------------------------------------------------- */

/* Where an encapsulated packet goes: out of port 'port_no', or back into
 * the datapath as if received on it ('inject', p->md.in_port set). */
typedef void tnl_emit_fn(void *aux, uint32_t port_no, struct dp_packet *p,
                         bool inject);

/* For a packet about to be output to tunnel vport 'v': if the route to
 * its tunnel destination leads through an hvs port, encapsulates it (its
 * super-packets segmented first) and passes the results to 'emit' (or
 * holds them until the neighbour is resolved), then returns true: 'p' is
 * consumed.  Returns false, leaving 'p' alone, for the socket path.
 * Inside an RCU read-side section. */
bool tnl_push_output(struct vport *v, struct dp_packet *p,
                     tnl_emit_fn *emit, void *aux);

/* ---- what vport-tunnel.c provides ------------------------------------- */

/* A tunnel vport's configuration, or NULL if 'v' is not a tunnel vport
 * or takes no part in the fast path. */
struct tnl_port_cfg {
    enum ovs_vport_type type;
    uint16_t dst_port;          /* host order; 0 for GRE */
    bool gbp;
};
const struct tnl_port_cfg *vport_tunnel_cfg(const struct vport *v);
/* Writes the tunnel header (VXLAN, Geneve, GRE) for a frame with
 * metadata 'md' into 'h' (at least VPORT_TUNNEL_HDR_MAX bytes); returns
 * its length or -1. */
#define VPORT_TUNNEL_HDR_MAX 260
int vport_tunnel_put_hdr(const struct vport *v, const struct dp_packet_md *md,
                         const uint8_t *frame, size_t len, uint8_t *h);
/* A hash of the inner flow of 'frame', for the UDP source port. */
uint32_t vport_tunnel_flow_hash(const uint8_t *frame, size_t len);

#endif /* HVS_TNL_PUSH_H */
