/* Native tunnel encapsulation (see tnl-push.h). */
#include "tnl-push.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>

#include "csum.h"
#include "datapath.h"
#include "log.h"
#include "packet.h"
#include "tnl-stats.h"
#include "vport.h"

LOG_MODULE(tnl_push);

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

uint16_t
tnl_push_src_port(uint32_t flow_hash)
{
    return (uint16_t) (49152 + (flow_hash >> 8) % 16384);
}

/* IPv4 identification: only distinct per source, destination and
 * protocol among fragments in flight, so a per-thread counter does. */
static _Thread_local uint16_t ip_id;

int
tnl_push_header(struct dp_packet *p, const struct tnl_push_params *pp)
{
    size_t ip_len = pp->family == AF_INET ? 20 : 40;
    size_t udp_len = pp->proto == IPPROTO_UDP ? 8 : 0;
    size_t outer = ETH_HLEN + ip_len + udp_len + pp->hdr_len;
    size_t l4_len = udp_len + pp->hdr_len + p->len;
    uint8_t *h, *ip, *l4;

    if ((pp->family != AF_INET && pp->family != AF_INET6)
        || (pp->proto != IPPROTO_UDP && pp->proto != IPPROTO_GRE)
        || l4_len + (pp->family == AF_INET ? ip_len : 0) > 65535
        || p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
        || p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        return -EINVAL;
    }
    /* dp_packet_push() keeps a full headroom in front of what it pushes
     * and would copy every segment (made with just that headroom) to get
     * it: take the room that is there when the data is ours. */
    if (!dp_packet_shared(p) && dp_packet_headroom(p) >= outer) {
        p->data_ofs -= (uint32_t) outer;
        p->len += (uint32_t) outer;
        h = dp_packet_data(p);
    } else if (!(h = dp_packet_push(p, outer))) {
        return -ENOMEM;
    }
    memcpy(h, pp->dst_mac, 6);
    memcpy(h + 6, pp->src_mac, 6);
    wr16(h + 12, pp->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
    ip = h + ETH_HLEN;
    l4 = ip + ip_len;
    if (pp->family == AF_INET) {
        uint16_t c;

        ip[0] = 0x45;
        ip[1] = pp->tos;
        wr16(ip + 2, (uint16_t) (20 + l4_len));
        wr16(ip + 4, pp->df ? 0 : (uint16_t) (ip_id++ ^ pp->flow_hash));
        wr16(ip + 6, pp->df ? 0x4000 : 0);
        ip[8] = pp->ttl;
        ip[9] = pp->proto;
        ip[10] = ip[11] = 0;
        memcpy(ip + 12, pp->src.b, 4);
        memcpy(ip + 16, pp->dst.b, 4);
        c = csum_fold(csum_partial(ip, 20, 0));
        memcpy(ip + 10, &c, 2);
    } else {
        uint32_t w = 6u << 28 | (uint32_t) pp->tos << 20
                     | (pp->flow_hash & 0xfffff);

        w = htonl(w);
        memcpy(ip, &w, 4);
        wr16(ip + 4, (uint16_t) l4_len);
        ip[6] = pp->proto;
        ip[7] = pp->ttl;
        memcpy(ip + 8, pp->src.b, 16);
        memcpy(ip + 24, pp->dst.b, 16);
    }
    memcpy(l4 + udp_len, pp->hdr, pp->hdr_len);
    p->l3_ofs = ETH_HLEN;
    p->l4_ofs = (uint16_t) (ETH_HLEN + ip_len);
    if (!udp_len) {
        return 0;
    }
    wr16(l4, pp->udp_src);
    wr16(l4 + 2, pp->udp_dst);
    wr16(l4 + 4, (uint16_t) l4_len);
    l4[6] = l4[7] = 0;
    if (pp->csum != TNL_CSUM_NONE) {
        uint32_t ps, s4, d4;
        uint16_t c;

        if (pp->family == AF_INET) {
            memcpy(&s4, pp->src.b, 4);
            memcpy(&d4, pp->dst.b, 4);
            ps = csum_pseudo4(s4, d4, IPPROTO_UDP, (uint16_t) l4_len);
        } else {
            ps = csum_pseudo6(pp->src.b, pp->dst.b, IPPROTO_UDP,
                              (uint32_t) l4_len);
        }

        if (pp->csum == TNL_CSUM_PARTIAL) {
            /* The field holds the folded pseudo-header sum; the egress
             * (or vport_tx_prepare) sums from csum_start over it. */
            c = (uint16_t) ~csum_fold(ps);
            p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            p->vnet.csum_start = (uint16_t) (ETH_HLEN + ip_len);
            p->vnet.csum_offset = 6;
        } else {
            c = csum_fold(csum_partial(l4, l4_len, ps));
            if (!c) {
                c = 0xffff;
            }
        }
        memcpy(l4 + 6, &c, 2);
    }
    return 0;
}

/* ---- the output hook ---------------------------------------------------- */

struct push_ctx {
    struct vport *v;            /* the tunnel vport */
    const struct tnl_port_cfg *cfg;
    struct tnl_nexthop nh;
    struct vport *egress;
    bool inject;
    uint32_t flow_hash;
    tnl_emit_fn *emit;
    void *aux;
    uint64_t sent, bytes, errors;
};

/* The hvs port of 'dp' on host interface 'ifindex', or NULL. */
static struct vport *
port_by_ifindex(struct datapath *dp, int ifindex)
{
    static _Thread_local struct {
        const struct datapath *dp;
        int ifindex;
        uint32_t port_no;
    } memo;
    struct vport *v;

    if (memo.dp == dp && memo.ifindex == ifindex) {
        v = dp_port(dp, memo.port_no);
        if (v && v->ifindex == ifindex) {
            return v;
        }
    }
    for (uint32_t i = 0; i < dp->port_hi; i++) {
        v = dp_port(dp, i);
        if (v && v->ifindex == ifindex) {
            memo.dp = dp;
            memo.ifindex = ifindex;
            memo.port_no = i;
            return v;
        }
    }
    return NULL;
}

/* Encapsulates one complete frame and sends it on. */
static void
push_one(void *ctx_, struct dp_packet *p)
{
    struct push_ctx *c = ctx_;
    const struct flow_tnl *tn = &p->md.tunnel;
    uint8_t hdr[VPORT_TUNNEL_HDR_MAX];
    struct tnl_push_params pp;
    int hlen = vport_tunnel_put_hdr(c->v, &p->md, dp_packet_data(p), p->len,
                                    hdr);
    size_t ip_len = c->nh.family == AF_INET ? 20 : 40;
    size_t udp_len = c->cfg->dst_port ? 8 : 0;

    if (hlen < 0) {
        c->errors++;
        tnl_count(TNL_C_ENCAP_ERR, 1);
        dp_packet_free(p);
        return;
    }
    if (c->nh.mtu
        && p->len + ip_len + udp_len + (size_t) hlen > c->nh.mtu) {
        /* Needs outer fragments: the host stack makes them. */
        tnl_count(TNL_C_SOCKET_TX, 1);
        c->v->ops->send(c->v, &p, 1);
        return;
    }
    memset(&pp, 0, sizeof pp);
    pp.family = c->nh.family;
    memcpy(pp.src_mac, c->nh.src_mac, 6);
    memcpy(pp.dst_mac, c->nh.dst_mac, 6);
    pp.src = c->nh.src;
    if (pp.family == AF_INET) {
        memcpy(pp.dst.b, &tn->ipv4_dst, 4);
    } else {
        memcpy(pp.dst.b, &tn->ipv6_dst, 16);
    }
    pp.tos = tn->tos;
    pp.ttl = tn->ttl ? tn->ttl : 64;
    pp.df = (tn->flags & FLOW_TNL_F_DONT_FRAGMENT) != 0;
    pp.proto = udp_len ? IPPROTO_UDP : IPPROTO_GRE;
    pp.udp_src = tnl_push_src_port(c->flow_hash);
    /* A flow's own destination port wins, as in the kernel. */
    pp.udp_dst = tn->tp_dst ? ntohs(tn->tp_dst) : c->cfg->dst_port;
    /* IPv6 needs UDP checksums (RFC 8200; the zero-checksum exception of
     * RFC 6935 is off by default in Linux); IPv4 has them on request. */
    pp.csum = pp.family == AF_INET6 || tn->flags & FLOW_TNL_F_CSUM
              ? TNL_CSUM_PARTIAL : TNL_CSUM_NONE;
    pp.flow_hash = c->flow_hash;
    pp.hdr = hdr;
    pp.hdr_len = (size_t) hlen;

    size_t inner_len = p->len;
    if (tnl_push_header(p, &pp)) {
        c->errors++;
        tnl_count(TNL_C_ENCAP_ERR, 1);
        dp_packet_free(p);
        return;
    }
    /* The outer packet starts afresh, as one the host stack sent. */
    memset(&p->md, 0, offsetof(struct dp_packet_md, tun_opts));
    p->md.in_port = c->egress->port_no;
    c->sent++;
    c->bytes += inner_len;
    if (!c->nh.resolved) {
        tnl_route_hold(&c->nh, p, c->v, c->egress->port_no, c->inject);
        return;
    }
    tnl_count(TNL_C_ENCAP, 1);
    c->emit(c->aux, c->egress->port_no, p, c->inject);
}

bool
tnl_push_output(struct vport *v, struct dp_packet *p, tnl_emit_fn *emit,
                void *aux)
{
    const struct flow_tnl *tn = &p->md.tunnel;
    struct push_ctx c;
    struct tnl_addr dst, src;
    int family;

    c.cfg = vport_tunnel_cfg(v);
    if (!c.cfg || !p->md.tunnel_tx) {
        return false;
    }
    memset(&dst, 0, sizeof dst);
    memset(&src, 0, sizeof src);
    if (tn->ipv4_dst) {
        family = AF_INET;
        memcpy(dst.b, &tn->ipv4_dst, 4);
        memcpy(src.b, &tn->ipv4_src, 4);
    } else {
        family = AF_INET6;
        memcpy(dst.b, &tn->ipv6_dst, 16);
        memcpy(src.b, &tn->ipv6_src, 16);
    }
    if (tnl_route_lookup(family, &dst, &src, &c.nh)) {
        tnl_count(TNL_C_SOCKET_TX, 1);
        return false;
    }
    c.egress = port_by_ifindex(v->dp, c.nh.ifindex);
    if (!c.egress || (c.egress->type != OVS_VPORT_TYPE_INTERNAL
                      && c.egress->type != OVS_VPORT_TYPE_NETDEV)) {
        tnl_count(TNL_C_SOCKET_TX, 1);
        return false;
    }
    c.v = v;
    c.inject = c.egress->type == OVS_VPORT_TYPE_INTERNAL;
    c.flow_hash = vport_tunnel_flow_hash(dp_packet_data(p), p->len);
    c.emit = emit;
    c.aux = aux;
    c.sent = c.bytes = c.errors = 0;
    /* Truncation, inner checksums and segmentation, as the tunnel vport
     * (no offloads) would take them. */
    vport_tx_prepare(v, p, 0, push_one, &c);

    struct vport_stats *st = &v->stats;
    if (c.sent) {
        atomic_fetch_add_explicit(&st->tx_packets, c.sent,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&st->tx_bytes, c.bytes,
                                  memory_order_relaxed);
    }
    if (c.errors) {
        atomic_fetch_add_explicit(&st->tx_errors, c.errors,
                                  memory_order_relaxed);
    }
    return true;
}
