/* Software receive offload for decapsulated TCP (see tnl-gro.h). */
#include "tnl-gro.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "flow.h"
#include "packet.h"
#include "tnl-stats.h"


/* What one packet of the window is to the merging. */
enum seg_kind {
    SEG_OTHER,      /* belongs to no TCP flow: passes, closes nothing */
    SEG_OPAQUE,     /* might belong to any TCP flow (VLAN, fragment...) */
    SEG_FLOW,       /* a TCP/IP frame whose flow is known */
};

struct seg {
    enum seg_kind kind;
    bool mergeable;             /* a plain data segment, see seg_parse() */
    bool v6;
    signed char csum;           /* -1 not yet checked, 0 bad, 1 good */
    uint16_t l3, l4, hdr;       /* IP, TCP header; end of the TCP header */
    uint16_t plen;              /* TCP payload bytes */
    uint8_t flags;              /* TCP flags */
    uint32_t seq;               /* host order */
    uint32_t hash;              /* of the flow's addresses and ports */
    int group;                  /* its group, or -1 */
    int next;                   /* next member of its group, or -1 */
};

struct group {
    int first, last;            /* member indexes in the window */
    int count;
    bool closed;
    uint16_t mss;               /* the first member's payload size */
    uint32_t next_seq;          /* host order */
    size_t total;               /* payload bytes of all members */
    bool psh;
};

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

bool
tnl_gro_wanted(const struct dp_packet *p)
{
    const struct flow_tnl *t = &p->md.tunnel;

    return !p->md.tunnel_tx
           && (t->ipv4_dst || !IN6_IS_ADDR_UNSPECIFIED(&t->ipv6_dst));
}

static uint32_t
hash_bytes(const uint8_t *p, size_t n, uint32_t h)
{
    /* FNV-1a: the flow only picks a group to compare against. */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* Fills 's' for frame 'p'. */
static void
seg_parse(const struct dp_packet *p, struct seg *s)
{
    const uint8_t *d = dp_packet_data(p);
    size_t len = p->len, end, thl;
    uint16_t type;

    memset(s, 0, sizeof *s);
    s->csum = -1;
    s->group = s->next = -1;
    s->kind = SEG_OTHER;
    if (p->md.l3_type) {
        /* Starts with its IP header (packet_type): not parsed here, and
         * it may belong to any flow. */
        s->kind = SEG_OPAQUE;
        return;
    }
    if (len < ETH_HLEN) {
        return;
    }
    type = rd16(d + 12);
    s->l3 = ETH_HLEN;
    if (type == ETH_P_IP) {
        const uint8_t *ip = d + ETH_HLEN;
        size_t ihl;

        if (len < ETH_HLEN + 20 || ip[9] != IPPROTO_TCP) {
            return;
        }
        s->kind = SEG_OPAQUE;
        ihl = (size_t) (ip[0] & 0xf) * 4;
        /* A fragment's TCP header may be elsewhere. */
        if ((ip[0] >> 4) != 4 || ihl < 20 || rd16(ip + 6) & 0x3fff) {
            return;
        }
        end = ETH_HLEN + (size_t) rd16(ip + 2);
        s->l4 = (uint16_t) (ETH_HLEN + ihl);
        if (end > len || end < (size_t) s->l4 + 20) {
            return;
        }
        s->hash = hash_bytes(ip + 12, 8, 0x811c9dc5u);
        /* Options would have to match too; they are rare. */
        s->mergeable = ihl == 20;
    } else if (type == ETH_P_IPV6) {
        const uint8_t *ip = d + ETH_HLEN;

        if (len < ETH_HLEN + 40) {
            return;
        }
        s->kind = SEG_OPAQUE;
        if ((ip[0] >> 4) != 6) {
            return;
        }
        if (ip[6] != IPPROTO_TCP) {
            /* TCP may hide behind extension headers; these two never
             * carry it. */
            if (ip[6] == IPPROTO_UDP || ip[6] == IPPROTO_ICMPV6) {
                s->kind = SEG_OTHER;
            }
            return;
        }
        end = ETH_HLEN + 40 + (size_t) rd16(ip + 4);
        s->l4 = ETH_HLEN + 40;
        if (end > len || end < (size_t) s->l4 + 20) {
            return;
        }
        s->v6 = true;
        s->hash = hash_bytes(ip + 8, 32, 0x811c9dc5u);
        s->mergeable = true;
    } else {
        /* ARP and the like carry no TCP; a VLAN tag or MPLS might. */
        s->kind = type == ETH_P_ARP ? SEG_OTHER : SEG_OPAQUE;
        return;
    }
    s->kind = SEG_FLOW;
    s->hash = hash_bytes(d + s->l4, 4, s->hash);
    thl = (size_t) (d[s->l4 + 12] >> 4) * 4;
    if (thl < 20 || s->l4 + thl > end) {
        s->mergeable = false;
        return;
    }
    s->hdr = (uint16_t) (s->l4 + thl);
    s->plen = (uint16_t) (end - s->hdr);
    s->flags = d[s->l4 + 13];
    s->seq = rd32(d + s->l4 + 4);
    /* Trailing bytes past the IP datagram would be lost; partial
     * checksums elsewhere than TCP's, super-packets and truncation are
     * not segments to merge. */
    s->mergeable = s->mergeable && end == len && s->plen
                   && (s->flags & ~TCP_PSH) == TCP_ACK
                   && tnl_gro_wanted(p)
                   && p->vnet.gso_type == VIRTIO_NET_HDR_GSO_NONE
                   && (!p->cutlen || p->cutlen >= p->len)
                   && (!(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
                       || (p->vnet.csum_start == s->l4
                           && p->vnet.csum_offset == 16));
}

/* Whether 'p''s checksums are right, or its offload state says they will
 * be (a partial checksum of a local sender) or were checked. */
static bool
seg_csum_ok(const struct dp_packet *p, struct seg *s)
{
    const uint8_t *d = dp_packet_data(p);
    size_t l4_len = p->len - s->l4;
    uint32_t ps;

    if (s->csum >= 0) {
        return s->csum;
    }
    s->csum = 0;
    if (!s->v6 && csum_fold(csum_partial(d + s->l3, 20, 0))) {
        return false;
    }
    if (!(p->vnet.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM
                           | VIRTIO_NET_HDR_F_DATA_VALID))) {
        if (s->v6) {
            ps = csum_pseudo6(d + s->l3 + 8, d + s->l3 + 24, IPPROTO_TCP,
                              (uint32_t) l4_len);
        } else {
            uint32_t a, b;

            memcpy(&a, d + s->l3 + 12, 4);
            memcpy(&b, d + s->l3 + 16, 4);
            ps = csum_pseudo4(a, b, IPPROTO_TCP, (uint16_t) l4_len);
        }
        if (csum_fold(csum_partial(d + s->l4, l4_len, ps))) {
            return false;
        }
    }
    s->csum = 1;
    return true;
}

/* Whether frames 'a' and 'b' (both SEG_FLOW) are of the same TCP flow. */
static bool
same_flow(const uint8_t *a, const struct seg *sa, const uint8_t *b,
          const struct seg *sb)
{
    if (sa->hash != sb->hash || sa->v6 != sb->v6 || sa->l3 != sb->l3) {
        return false;
    }
    if (sa->v6 ? memcmp(a + sa->l3 + 8, b + sb->l3 + 8, 32)
               : memcmp(a + sa->l3 + 12, b + sb->l3 + 12, 8)) {
        return false;
    }
    return !memcmp(a + sa->l4, b + sb->l4, 4);
}

/* Whether segment 'b' may follow 'a', the first of its group, in one
 * super-packet: every header field that the segmentation copies from
 * the super-packet into each segment must be the same. */
static bool
headers_match(const uint8_t *a, const struct seg *sa, const uint8_t *b,
              const struct seg *sb)
{
    const uint8_t *ia = a + sa->l3, *ib = b + sb->l3;
    const uint8_t *ta = a + sa->l4, *tb = b + sb->l4;

    if (sa->hdr != sb->hdr || memcmp(a, b, ETH_HLEN)) {
        return false;
    }
    if (sa->v6) {
        /* Version, traffic class, flow label; hop limit. */
        if (memcmp(ia, ib, 4) || ia[7] != ib[7]) {
            return false;
        }
    } else if (ia[1] != ib[1] || (ia[6] & 0x40) != (ib[6] & 0x40)
               || ia[8] != ib[8]) {
        return false;           /* TOS, DF, TTL */
    }
    /* ACK number; data offset; window; options. */
    return !memcmp(ta + 8, tb + 8, 5) && !memcmp(ta + 14, tb + 14, 2)
           && !memcmp(ta + 20, tb + 20, (size_t) (sa->hdr - sa->l4) - 20);
}

/* The open group of 'pkts[i]''s flow, or -1. */
static int
find_group(struct dp_packet **pkts, const struct seg *segs,
           const struct group *groups, int n_groups, int i)
{
    for (int g = n_groups; g-- > 0;) {
        int f = groups[g].first;

        if (!groups[g].closed
            && same_flow(dp_packet_data(pkts[f]), &segs[f],
                         dp_packet_data(pkts[i]), &segs[i])) {
            return g;
        }
    }
    return -1;
}

static int
group_start(struct seg *segs, struct group *groups, int *n_groups, int i)
{
    struct seg *s = &segs[i];
    int g = (*n_groups)++;

    groups[g] = (struct group) {
        .first = i, .last = i, .count = 1,
        .closed = (s->flags & TCP_PSH) != 0,
        .mss = s->plen,
        .next_seq = s->seq + s->plen,
        .total = s->plen,
        .psh = (s->flags & TCP_PSH) != 0,
    };
    s->group = g;
    return g;
}

/* Appends segment 'i' to group 'g' if it can follow; returns whether it
 * did. */
static bool
group_append(struct dp_packet **pkts, struct seg *segs, struct group *gr,
             int g, int i, size_t max_frame)
{
    struct group *G = &gr[g];
    struct seg *f = &segs[G->first], *s = &segs[i];
    size_t ip_len = (size_t) (f->hdr - f->l3) + G->total + s->plen;

    if (G->closed || s->seq != G->next_seq || s->plen > G->mss
        || f->hdr + G->total + s->plen > max_frame
        || ip_len - (f->v6 ? 40 : 0) > 65535
        || !headers_match(dp_packet_data(pkts[G->first]), f,
                          dp_packet_data(pkts[i]), s)
        || !seg_csum_ok(pkts[G->first], f) || !seg_csum_ok(pkts[i], s)) {
        return false;
    }
    segs[G->last].next = i;
    G->last = i;
    G->count++;
    G->next_seq += s->plen;
    G->total += s->plen;
    s->group = g;
    /* A short segment or PSH ends what the sender meant as one. */
    if (s->plen < G->mss || s->flags & TCP_PSH) {
        G->closed = true;
        G->psh |= (s->flags & TCP_PSH) != 0;
    }
    return true;
}

/* The super-packet of group 'G', or NULL if out of memory. */
static struct dp_packet *
group_build(struct dp_packet **pkts, const struct seg *segs,
            const struct group *G)
{
    const struct seg *f = &segs[G->first];
    const struct dp_packet *fp = pkts[G->first];
    size_t len = f->hdr + G->total, l4_len = len - f->l4;
    struct dp_packet *sp = dp_packet_new(DP_PACKET_HEADROOM, len);
    uint8_t *d, *ip, *th;
    size_t ofs = f->hdr;
    uint16_t c;
    uint32_t ps;

    if (!sp) {
        return NULL;
    }
    d = dp_packet_data(sp);
    memcpy(d, dp_packet_data(fp), f->hdr);
    for (int i = G->first; i >= 0; i = segs[i].next) {
        memcpy(d + ofs, dp_packet_data(pkts[i]) + segs[i].hdr, segs[i].plen);
        ofs += segs[i].plen;
    }
    sp->len = (uint32_t) len;
    sp->md = fp->md;
    sp->l3_ofs = f->l3;
    sp->l4_ofs = f->l4;
    ip = d + f->l3;
    th = d + f->l4;
    if (f->v6) {
        wr16(ip + 4, (uint16_t) l4_len);
        ps = csum_pseudo6(ip + 8, ip + 24, IPPROTO_TCP, (uint32_t) l4_len);
    } else {
        uint32_t a, b;

        wr16(ip + 2, (uint16_t) (len - f->l3));
        ip[10] = ip[11] = 0;
        c = csum_fold(csum_partial(ip, 20, 0));
        memcpy(ip + 10, &c, 2);
        memcpy(&a, ip + 12, 4);
        memcpy(&b, ip + 16, 4);
        ps = csum_pseudo4(a, b, IPPROTO_TCP, (uint16_t) l4_len);
    }
    if (G->psh) {
        th[13] |= TCP_PSH;
    }
    /* The partial form: the pseudo-header sum of the whole super-packet,
     * which the segmentation adjusts per segment. */
    c = (uint16_t) ~csum_fold(ps);
    memcpy(th + 16, &c, 2);
    memset(&sp->vnet, 0, sizeof sp->vnet);
    sp->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    sp->vnet.csum_start = f->l4;
    sp->vnet.csum_offset = 16;
    sp->vnet.gso_type = f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6
                              : VIRTIO_NET_HDR_GSO_TCPV4;
    sp->vnet.gso_size = G->mss;
    sp->vnet.hdr_len = f->hdr;
    return sp;
}

/* One window of at most TNL_GRO_WINDOW packets. */
static int
gro_window(struct dp_packet **pkts, int n, size_t max_frame)
{
    struct seg segs[TNL_GRO_WINDOW];
    struct group groups[TNL_GRO_WINDOW];
    struct dp_packet *built[TNL_GRO_WINDOW];
    int n_groups = 0, out = 0;
    uint64_t merged = 0, made = 0;

    for (int i = 0; i < n; i++) {
        struct seg *s = &segs[i];
        int g;

        seg_parse(pkts[i], s);
        if (s->kind == SEG_OTHER) {
            continue;
        }
        if (s->kind == SEG_OPAQUE) {
            /* It may belong to any open group: none may grow past it. */
            for (g = 0; g < n_groups; g++) {
                groups[g].closed = true;
            }
            continue;
        }
        g = find_group(pkts, segs, groups, n_groups, i);
        if (g >= 0 && s->mergeable
            && group_append(pkts, segs, groups, g, i, max_frame)) {
            continue;
        }
        if (g >= 0) {
            /* Later segments of the flow may not overtake this one. */
            groups[g].closed = true;
        }
        if (s->mergeable) {
            group_start(segs, groups, &n_groups, i);
        }
    }
    if (!n_groups) {
        return n;
    }
    for (int g = 0; g < n_groups; g++) {
        built[g] = groups[g].count > 1
                   ? group_build(pkts, segs, &groups[g]) : NULL;
    }
    for (int i = 0; i < n; i++) {
        struct dp_packet *p = pkts[i];
        int g = segs[i].group;

        if (g < 0 || !built[g]) {
            pkts[out++] = p;
            continue;
        }
        /* 'out' <= 'i': the slot may be this packet's own. */
        if (groups[g].first == i) {
            pkts[out++] = built[g];
            merged += (uint64_t) groups[g].count;
            made++;
        }
        dp_packet_free(p);
    }
    if (made) {
        tnl_count(TNL_C_GRO_SEGS, merged);
        tnl_count(TNL_C_GRO_PKTS, made);
    }
    return out;
}

int
tnl_gro_batch(struct dp_packet **pkts, int n, size_t max_frame)
{
    int out = 0;

    for (int i = 0; i < n; i += TNL_GRO_WINDOW) {
        int w = n - i < TNL_GRO_WINDOW ? n - i : TNL_GRO_WINDOW;
        int got = w < 2 ? w : gro_window(pkts + i, w, max_frame);

        memmove(pkts + out, pkts + i, (size_t) got * sizeof *pkts);
        out += got;
    }
    return out;
}
