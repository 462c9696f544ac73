/* Native tunnel decapsulation (see tnl-pop.h). */
#include "tnl-pop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "csum.h"
#include "datapath.h"
#include "packet.h"
#include "tnl-stats.h"
#include "vport.h"

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

int
tnl_pop_parse_outer(const uint8_t *f, size_t len, struct tnl_pop_outer *o)
{
    const uint8_t *ip = f + ETH_HLEN;
    uint16_t type;
    size_t end;

    memset(o, 0, sizeof *o);
    if (len < ETH_HLEN + 20) {
        return -ENOENT;
    }
    type = rd16(f + 12);
    if (type == ETH_P_IP) {
        size_t tot;

        if ((ip[0] >> 4) != 4) {
            return -EINVAL;
        }
        /* Options are rare on tunnels: the host stack takes them. */
        if ((ip[0] & 0xf) != 5) {
            return -ENOENT;
        }
        /* MF or a fragment offset: reassembly is the host's. */
        if (rd16(ip + 6) & 0x3fff) {
            return -ENOENT;
        }
        tot = rd16(ip + 2);
        if (tot < 20 || ETH_HLEN + tot > len) {
            return -EINVAL;
        }
        end = ETH_HLEN + tot;
        o->family = AF_INET;
        o->proto = ip[9];
        o->tos = ip[1];
        o->ttl = ip[8];
        memcpy(o->src.b, ip + 12, 4);
        memcpy(o->dst.b, ip + 16, 4);
        o->l4_ofs = ETH_HLEN + 20;
    } else if (type == ETH_P_IPV6) {
        if (len < ETH_HLEN + 40) {
            return -ENOENT;
        }
        if ((ip[0] >> 4) != 6) {
            return -EINVAL;
        }
        end = ETH_HLEN + 40 + (size_t) rd16(ip + 4);
        if (end > len) {
            return -EINVAL;
        }
        o->family = AF_INET6;
        /* Extension headers (fragments among them) go the slow way. */
        o->proto = ip[6];
        o->tos = (uint8_t) ((ip[0] << 4) | (ip[1] >> 4));
        o->ttl = ip[7];
        memcpy(o->src.b, ip + 8, 16);
        memcpy(o->dst.b, ip + 24, 16);
        o->l4_ofs = ETH_HLEN + 40;
    } else {
        return -ENOENT;
    }
    o->end = end;
    if (o->proto == IPPROTO_UDP) {
        const uint8_t *u = f + o->l4_ofs;

        if (o->l4_ofs + 8 > end) {
            return -EINVAL;
        }
        /* A UDP length other than the datagram's: odd, let the host
         * stack judge it. */
        if (rd16(u + 4) != end - o->l4_ofs) {
            return -EINVAL;
        }
        o->udp_src = rd16(u);
        o->udp_dst = rd16(u + 2);
        o->hdr_ofs = o->l4_ofs + 8;
        return 0;
    }
    if (o->proto == IPPROTO_GRE) {
        o->hdr_ofs = o->l4_ofs;
        return 0;
    }
    return -ENOENT;
}

bool
tnl_pop_csum_ok(const uint8_t *f, const struct tnl_pop_outer *o,
                const struct virtio_net_hdr *vnet)
{
    const uint8_t *l4 = f + o->l4_ofs;
    size_t l4_len = o->end - o->l4_ofs;
    uint32_t ps;

    if (o->family == AF_INET
        && csum_fold(csum_partial(f + ETH_HLEN, 20, 0))) {
        return false;
    }
    if (o->proto != IPPROTO_UDP
        || (vnet && vnet->flags & (VIRTIO_NET_HDR_F_DATA_VALID
                                   | VIRTIO_NET_HDR_F_NEEDS_CSUM))) {
        return true;            /* GRE checks its own, if it has one */
    }
    if (!l4[6] && !l4[7]) {
        /* No checksum: fine over IPv4 (RFC 768) and, for tunnels, over
         * IPv6 (RFC 6935). */
        return true;
    }
    if (o->family == AF_INET) {
        uint32_t s, d;

        memcpy(&s, o->src.b, 4);
        memcpy(&d, o->dst.b, 4);
        ps = csum_pseudo4(s, d, IPPROTO_UDP, (uint16_t) l4_len);
    } else {
        ps = csum_pseudo6(o->src.b, o->dst.b, IPPROTO_UDP,
                          (uint32_t) l4_len);
    }
    return !csum_fold(csum_partial(l4, l4_len, ps));
}

int
tnl_pop_frame(enum ovs_vport_type type, bool gbp, uint16_t dst_port,
              const uint8_t *f, size_t len,
              const struct virtio_net_hdr *vnet, struct dp_packet_md *md)
{
    struct tnl_pop_outer o;
    int err = tnl_pop_parse_outer(f, len, &o), ofs;

    if (err) {
        return err;
    }
    if (type == OVS_VPORT_TYPE_GRE ? o.proto != IPPROTO_GRE
        : o.proto != IPPROTO_UDP || o.udp_dst != dst_port) {
        return -ENOENT;
    }
    if (!tnl_pop_csum_ok(f, &o, vnet)) {
        return -EBADMSG;
    }
    memset(&md->tunnel, 0, sizeof md->tunnel);
    ofs = vport_tunnel_parse_hdr(type, gbp, f + o.hdr_ofs,
                                 o.end - o.hdr_ofs, md);
    if (ofs < 0) {
        return -EBADMSG;
    }
    if (o.family == AF_INET) {
        memcpy(&md->tunnel.ipv4_src, o.src.b, 4);
        memcpy(&md->tunnel.ipv4_dst, o.dst.b, 4);
    } else {
        memcpy(&md->tunnel.ipv6_src, o.src.b, 16);
        memcpy(&md->tunnel.ipv6_dst, o.dst.b, 16);
    }
    md->tunnel.tos = o.tos;
    md->tunnel.ttl = o.ttl;
    if (o.proto == IPPROTO_UDP) {
        md->tunnel.tp_src = htons(o.udp_src);
        md->tunnel.tp_dst = htons(o.udp_dst);
    }
    return (int) (o.hdr_ofs + (size_t) ofs);
}

/* The fast-path tunnel vport of 'dp' for outer protocol 'proto' and UDP
 * port 'port', or NULL. */
static struct vport *
tunnel_for(struct datapath *dp, uint8_t proto, uint16_t port,
           const struct tnl_port_cfg **cfgp)
{
    for (uint32_t i = 1; i < dp->port_hi; i++) {
        struct vport *v = dp_port(dp, i);
        const struct tnl_port_cfg *cfg;

        if (!v || !(cfg = vport_tunnel_cfg(v))) {
            continue;
        }
        if (proto == IPPROTO_GRE ? cfg->type == OVS_VPORT_TYPE_GRE
            : cfg->dst_port == port) {
            *cfgp = cfg;
            return v;
        }
    }
    return NULL;
}

bool
tnl_pop_output(struct vport *v, struct dp_packet *p, tnl_emit_fn *emit,
               void *aux)
{
    const uint8_t *f = dp_packet_data(p);
    const struct tnl_port_cfg *cfg;
    struct tnl_pop_outer o;
    struct vport *t;
    int ofs;

    /* A super-packet here is an encapsulated TCP one (UDP-tunnel GSO from
     * a kernel sender, e.g. another hvs-dpd's kernel flow cache): the
     * packet socket reports its inner TCP segmentation with a partial
     * checksum that starts inside the inner frame, checked below. */
    uint8_t gso = p->vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if ((gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4
         && gso != VIRTIO_NET_HDR_GSO_TCPV6)
        || (gso && !(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        || (p->cutlen && p->cutlen < p->len)
        || tnl_pop_parse_outer(f, p->len, &o)
        || !tnl_route_is_local(o.family, &o.dst, v->ifindex)
        || !(t = tunnel_for(v->dp, o.proto, o.udp_dst, &cfg))) {
        return false;
    }
    /* A bad packet goes up the TAP: the host stack drops it, or the
     * socket path counts it, as without the fast path. */
    ofs = tnl_pop_frame(cfg->type, cfg->gbp, cfg->dst_port, f, p->len,
                        &p->vnet, &p->md);
    if (ofs < 0) {
        tnl_count(TNL_C_DECAP_BAD, 1);
        return false;
    }
    if (gso && p->vnet.csum_start < (size_t) ofs + ETH_HLEN) {
        return false;           /* segmentation of the outer packet */
    }
    if (gso) {
        p->vnet.hdr_len = p->vnet.hdr_len > ofs
                          ? (uint16_t) (p->vnet.hdr_len - ofs) : 0;
    }
    /* Trailing bytes after the IP datagram (Ethernet padding) go too. */
    dp_packet_trim(p, o.end);
    p->l3_ofs = p->l4_ofs = DP_OFS_NONE;
    if (p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM
        && p->vnet.csum_start < (size_t) ofs) {
        /* The partial checksum was the outer one: the inner frame is
         * as its sender completed it. */
        p->vnet.flags = 0;
        p->vnet.csum_start = p->vnet.csum_offset = 0;
    } else if (!(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        /* DATA_VALID vouched for the outer checksum only. */
        p->vnet.flags = 0;
    }
    dp_packet_pull(p, (size_t) ofs);
    p->md.in_port = t->port_no;
    p->md.recirc_id = 0;
    p->md.dp_hash = 0;
    p->md.priority = 0;
    p->md.skb_mark = 0;
    p->md.tunnel_tx = false;

    struct vport_stats *st = &t->stats;
    atomic_fetch_add_explicit(&st->rx_packets, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->rx_bytes, p->len, memory_order_relaxed);
    tnl_count(TNL_C_DECAP, 1);
    emit(aux, t->port_no, p, true);
    return true;
}
