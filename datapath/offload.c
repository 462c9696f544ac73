/* Checksum and segmentation offload completion in software.
 *
 * Packets carry their offload state in virtio-net form (see lib/packet.h).
 * An egress that cannot take that state gets complete packets from here:
 * the partial checksum computed, or the super-packet split into segments
 * that each carry full headers and checksums, as a NIC would produce them.
 * Nothing here trusts the offload header: offsets and sizes are checked
 * against the frame and the headers are parsed afresh.
 */
#include "offload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"
#include "flow.h"
#include "hash.h"
#include "packet.h"

/* Newer than some system headers. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define MAX_VLAN_TAGS 4
#define IP4_MF 0x2000
#define IP4_OFFSET 0x1fff

/* Where the headers of a frame are, as far as they could be parsed. */
struct hdrs {
    size_t l3;                  /* offset of the IP header */
    size_t l4;                  /* offset of the L4 header */
    size_t end;                 /* end of the IP datagram in the frame */
    bool v6;
    uint8_t proto;              /* L4 protocol */
    bool fragment;              /* not a whole datagram: no L4 checksum */
    size_t nexthdr_ofs;         /* IPv6: offset of the last next-header */
};

static uint16_t
get16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return ntohs(v);
}

static void
put16(uint8_t *p, uint16_t v)
{
    v = htons(v);
    memcpy(p, &v, 2);
}

static uint32_t
get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return ntohl(v);
}

static void
put32(uint8_t *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

/* Stores a checksum computed with csum_fold(), which is in memory order. */
static void
put_csum(uint8_t *p, uint16_t c)
{
    memcpy(p, &c, 2);
}

static bool
is_vlan_tpid(uint16_t t)
{
    return t == ETH_P_8021Q || t == ETH_P_8021AD;
}

/* Finds the network header behind Ethernet and up to MAX_VLAN_TAGS tags;
 * returns the ethertype, or 0 if the frame is too short. */
static uint16_t
parse_l2(const uint8_t *d, size_t len, size_t *l3)
{
    size_t ofs = 12;
    uint16_t type;
    int n = 0;

    if (len < ETH_HLEN) {
        return 0;
    }
    type = get16(d + ofs);
    while (is_vlan_tpid(type) && n++ < MAX_VLAN_TAGS) {
        ofs += 4;
        if (ofs + 2 > len) {
            return 0;
        }
        type = get16(d + ofs);
    }
    *l3 = ofs + 2;
    return type;
}

/* Walks the IPv6 extension headers from 'h->l3'; fills l4/proto. */
static int
parse_ipv6_ext(const uint8_t *d, struct hdrs *h)
{
    size_t ofs = h->l3 + 40;
    uint8_t nh = d[h->l3 + 6];

    h->nexthdr_ofs = h->l3 + 6;
    for (int i = 0; i < 8; i++) {
        size_t elen;

        switch (nh) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
            if (ofs + 8 > h->end) {
                return -EINVAL;
            }
            elen = (d[ofs + 1] + 1) * 8;
            break;
        case IPPROTO_AH:
            if (ofs + 8 > h->end) {
                return -EINVAL;
            }
            elen = (d[ofs + 1] + 2) * 4;
            break;
        case IPPROTO_FRAGMENT:
            if (ofs + 8 > h->end) {
                return -EINVAL;
            }
            h->fragment = true;
            elen = 8;
            break;
        default:
            h->l4 = ofs;
            h->proto = nh;
            return 0;
        }
        h->nexthdr_ofs = ofs;
        nh = d[ofs];
        ofs += elen;
        if (ofs > h->end) {
            return -EINVAL;
        }
    }
    return -EINVAL;
}

/* Parses Ethernet, VLAN, IPv4/IPv6 of 'd'.  'use_ip_len' bounds the
 * datagram by the IP length fields (received frames may be padded);
 * super-packets may carry lengths that do not fit 16 bits, so for them
 * the frame end is used.  Returns 0, -ENOENT if not IP, -EINVAL if the
 * headers are malformed. */
static int
parse_ip(const uint8_t *d, size_t len, bool use_ip_len, struct hdrs *h)
{
    uint16_t type;

    memset(h, 0, sizeof *h);
    type = parse_l2(d, len, &h->l3);
    h->end = len;
    if (type == ETH_P_IP) {
        const uint8_t *ip = d + h->l3;
        size_t ihl;

        if (h->l3 + 20 > len || (ip[0] >> 4) != 4) {
            return -EINVAL;
        }
        ihl = (ip[0] & 0xf) * 4;
        if (ihl < 20 || h->l3 + ihl > len) {
            return -EINVAL;
        }
        if (use_ip_len) {
            size_t tot = get16(ip + 2);

            if (tot < ihl || h->l3 + tot > len) {
                return -EINVAL;
            }
            h->end = h->l3 + tot;
        }
        h->l4 = h->l3 + ihl;
        h->proto = ip[9];
        h->fragment = (get16(ip + 6) & (IP4_MF | IP4_OFFSET)) != 0;
        return 0;
    } else if (type == ETH_P_IPV6) {
        const uint8_t *ip = d + h->l3;

        if (h->l3 + 40 > len || (ip[0] >> 4) != 6) {
            return -EINVAL;
        }
        h->v6 = true;
        if (use_ip_len) {
            size_t plen = get16(ip + 4);

            if (h->l3 + 40 + plen > len) {
                return -EINVAL;
            }
            h->end = h->l3 + 40 + plen;
        }
        return parse_ipv6_ext(d, h);
    }
    return -ENOENT;
}

/* Partial sum of the pseudo-header of the datagram at 'h'. */
static uint32_t
pseudo_sum(const uint8_t *d, const struct hdrs *h, uint8_t proto,
           size_t l4_len)
{
    const uint8_t *ip = d + h->l3;

    if (h->v6) {
        return csum_pseudo6(ip + 8, ip + 24, proto, (uint32_t) l4_len);
    }
    uint32_t src, dst;

    memcpy(&src, ip + 12, 4);
    memcpy(&dst, ip + 16, 4);
    return csum_pseudo4(src, dst, proto, (uint16_t) l4_len);
}

static void
ipv4_fix_csum(uint8_t *ip)
{
    size_t ihl = (ip[0] & 0xf) * 4;

    memset(ip + 10, 0, 2);
    put_csum(ip + 10, csum_fold(csum_partial(ip, ihl, 0)));
}

int
offload_complete_csum(struct dp_packet *p)
{
    size_t start = p->vnet.csum_start, off = p->vnet.csum_offset;
    uint16_t c;
    uint8_t *d;

    if (!(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        return 0;
    }
    if (start > p->len || off + 2 > p->len - start) {
        return -EINVAL;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    d = dp_packet_data(p);
    /* The field holds the pseudo-header sum, so summing from csum_start
     * over the field itself covers everything the checksum protects. */
    c = csum_fold(csum_partial(d + start, p->len - start, 0));
    /* 0 and 0xffff are the same value; 0 would mean "none" for UDP. */
    put_csum(d + start + off, c ? c : 0xffff);
    p->vnet.flags &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = 0;
    p->vnet.csum_offset = 0;
    return 0;
}

/* A new packet holding 'hlen' header bytes of 'src' followed by 'n'
 * payload bytes from 'src' at 'pofs', with 'p''s metadata. */
static struct dp_packet *
new_segment(const struct dp_packet *p, const struct hdrs *h, size_t hlen,
            size_t pofs, size_t n)
{
    struct dp_packet *s = dp_packet_new(DP_PACKET_HEADROOM, hlen + n);
    const uint8_t *src = dp_packet_data(p);

    if (!s) {
        return NULL;
    }
    memcpy(dp_packet_data(s), src, hlen);
    memcpy(dp_packet_data(s) + hlen, src + pofs, n);
    s->len = hlen + n;
    s->md = p->md;
    s->l3_ofs = h->l3;
    s->l4_ofs = h->l4;
    /* Checksums below are complete and correct. */
    s->vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    return s;
}

/* Sets the IP length field of segment 'd' whose IP datagram ends at
 * 'end'; returns false if it does not fit. */
static bool
set_ip_len(uint8_t *d, const struct hdrs *h, size_t end)
{
    if (h->v6) {
        if (end - h->l3 - 40 > UINT16_MAX) {
            return false;
        }
        put16(d + h->l3 + 4, (uint16_t) (end - h->l3 - 40));
    } else {
        if (end - h->l3 > UINT16_MAX) {
            return false;
        }
        put16(d + h->l3 + 2, (uint16_t) (end - h->l3));
    }
    return true;
}

static void
free_segs(struct dp_packet **segs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dp_packet_free(segs[i]);
        segs[i] = NULL;
    }
}

/* TSO and USO: every segment is a whole TCP segment or UDP datagram. */
static int
segment_l4(const struct dp_packet *p, const struct hdrs *h, bool tcp,
           struct dp_packet **segs, size_t max)
{
    const uint8_t *d = dp_packet_data(p);
    size_t mss = p->vnet.gso_size, hlen, total, nseg;
    uint16_t id0 = h->v6 ? 0 : get16(d + h->l3 + 4);
    uint32_t seq0 = 0;

    if (tcp) {
        size_t doff;

        if (h->l4 + 20 > p->len) {
            return -EINVAL;
        }
        doff = (d[h->l4 + 12] >> 4) * 4;
        if (doff < 20 || h->l4 + doff > p->len) {
            return -EINVAL;
        }
        hlen = h->l4 + doff;
        seq0 = get32(d + h->l4 + 4);
    } else {
        if (h->l4 + 8 > p->len) {
            return -EINVAL;
        }
        hlen = h->l4 + 8;
    }
    total = p->len - hlen;
    nseg = total ? (total + mss - 1) / mss : 1;
    if (nseg > max) {
        return -ENOSPC;
    }
    for (size_t i = 0; i < nseg; i++) {
        size_t n = total - i * mss < mss ? total - i * mss : mss;
        struct dp_packet *s = new_segment(p, h, hlen, hlen + i * mss, n);
        size_t l4_len = hlen - h->l4 + n;
        uint8_t *sd, *l4;
        uint16_t c;

        if (!s) {
            free_segs(segs, i);
            return -ENOMEM;
        }
        segs[i] = s;
        sd = dp_packet_data(s);
        l4 = sd + h->l4;
        if (!set_ip_len(sd, h, s->len)) {
            free_segs(segs, i + 1);
            return -EINVAL;
        }
        if (!h->v6) {
            put16(sd + h->l3 + 4, (uint16_t) (id0 + i));
            ipv4_fix_csum(sd + h->l3);
        }
        if (tcp) {
            put32(l4 + 4, (uint32_t) (seq0 + i * mss));
            if (i + 1 < nseg) {
                l4[13] &= ~(TCP_FIN | TCP_PSH);
            }
            if (i > 0) {
                l4[13] &= ~TCP_CWR;
            }
            memset(l4 + 16, 0, 2);
            c = csum_fold(csum_partial(l4, l4_len,
                                       pseudo_sum(sd, h, IPPROTO_TCP,
                                                  l4_len)));
            put_csum(l4 + 16, c);
        } else {
            put16(l4 + 4, (uint16_t) l4_len);
            memset(l4 + 6, 0, 2);
            c = csum_fold(csum_partial(l4, l4_len,
                                       pseudo_sum(sd, h, IPPROTO_UDP,
                                                  l4_len)));
            put_csum(l4 + 6, c ? c : 0xffff);
        }
    }
    return (int) nseg;
}

/* Identification for IPv6 fragments we create: varies per datagram. */
static uint32_t
ipv6_frag_id(const uint8_t *ip)
{
    static _Atomic uint32_t counter;
    uint32_t id = hash_bytes(ip + 8, 32, 0) + counter++;

    return id ? id : 1;
}

/* UFO: the UDP datagram (header and payload) is checksummed whole, then
 * cut into IP fragments of gso_size payload bytes (rounded down to the
 * 8-byte fragment unit). */
static int
segment_ufo(const struct dp_packet *p, const struct hdrs *h,
            struct dp_packet **segs, size_t max)
{
    size_t fs = p->vnet.gso_size & ~7u, data_len, nseg, hlen;
    uint8_t udp[8];
    const uint8_t *d = dp_packet_data(p);
    uint32_t frag_id = 0;
    uint16_t c;

    if (!fs || h->l4 + 8 > p->len) {
        return -EINVAL;
    }
    if (h->v6 && h->nexthdr_ofs != h->l3 + 6) {
        /* Extension headers would have to be split into unfragmentable
         * and fragmentable parts; senders do not use UFO with them. */
        return -EINVAL;
    }
    data_len = p->len - h->l4;
    if (data_len > UINT16_MAX) {
        return -EINVAL;
    }
    /* The datagram's checksum, computed over the whole datagram. */
    memcpy(udp, d + h->l4, 8);
    put16(udp + 4, (uint16_t) data_len);
    memset(udp + 6, 0, 2);
    c = csum_fold(csum_partial(d + h->l4 + 8, data_len - 8,
                               csum_partial(udp, 8,
                                            pseudo_sum(d, h, IPPROTO_UDP,
                                                       data_len))));
    put_csum(udp + 6, c ? c : 0xffff);

    nseg = (data_len + fs - 1) / fs;
    if (nseg > max) {
        return -ENOSPC;
    }
    hlen = h->l4;
    if (h->v6) {
        frag_id = ipv6_frag_id(d + h->l3);
    }
    for (size_t i = 0; i < nseg; i++) {
        size_t ofs = i * fs;
        size_t n = data_len - ofs < fs ? data_len - ofs : fs;
        bool more = i + 1 < nseg;
        size_t fh = h->v6 ? 8 : 0;
        struct dp_packet *s = dp_packet_new(DP_PACKET_HEADROOM,
                                            hlen + fh + n);
        uint8_t *sd;

        if (!s) {
            free_segs(segs, i);
            return -ENOMEM;
        }
        segs[i] = s;
        sd = dp_packet_data(s);
        memcpy(sd, d, hlen);
        if (h->v6) {
            uint8_t *f = sd + hlen;

            f[0] = IPPROTO_UDP;
            f[1] = 0;
            put16(f + 2, (uint16_t) (ofs | more));
            put32(f + 4, frag_id);
            sd[h->l3 + 6] = IPPROTO_FRAGMENT;
        }
        /* The first fragment carries the completed UDP header (fs >= 8
         * and data_len >= 8, so it holds all of it). */
        if (i == 0) {
            memcpy(sd + hlen + fh, udp, 8);
            memcpy(sd + hlen + fh + 8, d + h->l4 + 8, n - 8);
        } else {
            memcpy(sd + hlen + fh, d + h->l4 + ofs, n);
        }
        s->len = hlen + fh + n;
        s->md = p->md;
        s->l3_ofs = h->l3;
        s->l4_ofs = i == 0 ? h->l4 + fh : DP_OFS_NONE;
        s->vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
        set_ip_len(sd, h, s->len);
        if (!h->v6) {
            put16(sd + h->l3 + 6,
                  (uint16_t) ((ofs >> 3) | (more ? IP4_MF : 0)));
            ipv4_fix_csum(sd + h->l3);
        }
    }
    return (int) nseg;
}

int
offload_segment(const struct dp_packet *p, struct dp_packet **segs,
                size_t max)
{
    int type = p->vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    struct hdrs h;
    int err;

    if (!max) {
        return -ENOSPC;
    }
    if (type == VIRTIO_NET_HDR_GSO_NONE) {
        struct dp_packet *c = dp_packet_deep_copy(p, DP_PACKET_HEADROOM);

        if (!c) {
            return -ENOMEM;
        }
        err = offload_complete_csum(c);
        if (err) {
            dp_packet_free(c);
            return err;
        }
        segs[0] = c;
        return 1;
    }
    if (!p->vnet.gso_size) {
        return -EINVAL;
    }
    err = parse_ip(dp_packet_data(p), p->len, false, &h);
    if (err) {
        return -EINVAL;
    }
    if (h.fragment) {
        return -EINVAL;
    }
    switch (type) {
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_TCPV6:
        if (h.v6 != (type == VIRTIO_NET_HDR_GSO_TCPV6)
            || h.proto != IPPROTO_TCP) {
            return -EINVAL;
        }
        return segment_l4(p, &h, true, segs, max);
    case VIRTIO_NET_HDR_GSO_UDP_L4:
        if (h.proto != IPPROTO_UDP) {
            return -EINVAL;
        }
        return segment_l4(p, &h, false, segs, max);
    case VIRTIO_NET_HDR_GSO_UDP:
        if (h.proto != IPPROTO_UDP) {
            return -EINVAL;
        }
        return segment_ufo(p, &h, segs, max);
    default:
        return -EINVAL;
    }
}

int
offload_verify_csum(const struct dp_packet *p)
{
    const uint8_t *d = dp_packet_data(p);
    size_t l4_len;
    struct hdrs h;
    uint32_t sum;
    int err;

    if (p->vnet.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM
                         | VIRTIO_NET_HDR_F_DATA_VALID)) {
        /* Generated locally (partial) or verified by the receiver. */
        return 0;
    }
    err = parse_ip(d, p->len, true, &h);
    if (err == -ENOENT) {
        return 0;
    } else if (err) {
        return err;
    }
    if (!h.v6 && csum_fold(csum_partial(d + h.l3, h.l4 - h.l3, 0))) {
        return -EBADMSG;
    }
    if (h.fragment) {
        return 0;               /* only the reassembled datagram can tell */
    }
    l4_len = h.end - h.l4;
    switch (h.proto) {
    case IPPROTO_TCP:
        if (l4_len < 20) {
            return -EINVAL;
        }
        sum = pseudo_sum(d, &h, h.proto, l4_len);
        break;
    case IPPROTO_UDP:
        if (l4_len < 8) {
            return -EINVAL;
        }
        if (!h.v6 && !d[h.l4 + 6] && !d[h.l4 + 7]) {
            return 0;           /* no checksum */
        }
        sum = pseudo_sum(d, &h, h.proto, l4_len);
        break;
    case IPPROTO_ICMP:
        if (h.v6) {
            return 0;
        }
        if (l4_len < 4) {
            return -EINVAL;
        }
        sum = 0;
        break;
    case IPPROTO_ICMPV6:
        if (!h.v6) {
            return 0;
        }
        if (l4_len < 4) {
            return -EINVAL;
        }
        sum = pseudo_sum(d, &h, h.proto, l4_len);
        break;
    default:
        return 0;
    }
    return csum_fold(csum_partial(d + h.l4, l4_len, sum)) ? -EBADMSG : 0;
}

int
offload_repair_csum(struct dp_packet *p)
{
    uint8_t *d = dp_packet_data(p);
    size_t l4_len, field;
    uint32_t pseudo, sum;
    uint16_t partial, c;
    struct hdrs h;

    if (p->vnet.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM
                         | VIRTIO_NET_HDR_F_DATA_VALID)
        || parse_ip(d, p->len, true, &h) || h.fragment) {
        return 0;
    }
    l4_len = h.end - h.l4;
    if (h.proto == IPPROTO_TCP && l4_len >= 20) {
        field = h.l4 + 16;
    } else if (h.proto == IPPROTO_UDP && l4_len >= 8) {
        field = h.l4 + 6;
        if (!h.v6 && !d[field] && !d[field + 1]) {
            return 0;           /* no checksum */
        }
    } else {
        return 0;
    }
    pseudo = pseudo_sum(d, &h, h.proto, l4_len);
    sum = csum_partial(d + h.l4, l4_len, pseudo);
    if (!csum_fold(sum)) {
        p->vnet.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
        return 0;
    }
    /* The partial form: the folded pseudo-header sum, not complemented. */
    partial = (uint16_t) ~csum_fold(pseudo);
    memcpy(&c, d + field, 2);
    if (c != partial) {
        return -EBADMSG;
    }
    if (dp_packet_shared(p) && dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    d = dp_packet_data(p);
    d[field] = 0;
    d[field + 1] = 0;
    c = csum_fold(csum_partial(d + h.l4, l4_len, pseudo));
    if (h.proto == IPPROTO_UDP && !c) {
        c = 0xffff;
    }
    memcpy(d + field, &c, 2);
    p->vnet.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
    return 0;
}

int
offload_mark_super(struct dp_packet *p, size_t l3_mtu)
{
    uint8_t *d = dp_packet_data(p);
    size_t l4_len, thl, hdrs;
    uint16_t partial;
    struct hdrs h;

    /* The IP length field of a super-packet may not hold its length: the
     * frame end bounds it. */
    if (p->vnet.flags || p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
        || parse_ip(d, p->len, false, &h) || h.fragment
        || h.proto != IPPROTO_TCP || h.end - h.l3 <= l3_mtu
        || h.end - h.l4 < 20) {
        return 0;
    }
    l4_len = h.end - h.l4;
    thl = (size_t) (d[h.l4 + 12] >> 4) * 4;
    hdrs = h.l4 - h.l3 + thl;
    if (thl < 20 || thl > l4_len || hdrs + 8 > l3_mtu
        || (dp_packet_shared(p) && dp_packet_make_writable(p, 0))) {
        return 0;
    }
    d = dp_packet_data(p);
    partial = (uint16_t) ~csum_fold(pseudo_sum(d, &h, IPPROTO_TCP, l4_len));
    memcpy(d + h.l4 + 16, &partial, 2);
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = (uint16_t) h.l4;
    p->vnet.csum_offset = 16;
    p->vnet.gso_type = h.v6 ? VIRTIO_NET_HDR_GSO_TCPV6
                            : VIRTIO_NET_HDR_GSO_TCPV4;
    p->vnet.gso_size = (uint16_t) (l3_mtu - hdrs);
    p->vnet.hdr_len = (uint16_t) (h.l4 + thl);
    return 1;
}
