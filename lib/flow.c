/* Flow key extraction from Ethernet frames, and key hashing/masking.
 *
 * Extraction follows the semantics of the kernel datapath's key extraction
 * so that keys sent up in upcalls, and the flows userspace installs for
 * them, mean the same thing here as on a kernel datapath.  Every header is
 * bounds-checked against the frame before it is read; a header that does
 * not fit stops extraction at that layer with its fields left zero.
 */
#include "flow.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/openvswitch.h>
#include <netinet/in.h>
#include <string.h>

#include "hash.h"
#include "packet.h"

/* Word access to keys for masking; may_alias keeps it clear of strict
 * aliasing rules. */
typedef uint64_t __attribute__((__may_alias__)) flow_word;

_Static_assert(offsetof(struct flow_key, tun_opts) % sizeof(flow_word) == 0,
               "tun_opts must be word aligned");

#define ETH_TYPE_802_2_KEY 0x05ff       /* eth_type of non-Ethernet II */
#define VLAN_HDR_LEN 4
#define MPLS_HDR_LEN 4
#define MPLS_BOS 0x00000100u            /* bottom-of-stack bit, host order */

/* Reading the frame.  Every read goes through these, with bounds checked
 * by the caller through frame_has(). */
struct frame {
    const uint8_t *data;
    size_t len;
};

static inline bool
frame_has(const struct frame *f, size_t ofs, size_t n)
{
    return ofs <= f->len && n <= f->len - ofs;
}

static inline uint16_t
get_be16(const uint8_t *p)      /* value stays in network order */
{
    uint16_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t
get_be32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static inline bool
is_vlan_tpid(uint16_t tpid_be)
{
    return tpid_be == htons(ETH_P_8021Q) || tpid_be == htons(ETH_P_8021AD);
}

static inline void
set_ofs(uint16_t *field, size_t ofs)
{
    *field = ofs < DP_OFS_NONE ? (uint16_t) ofs : DP_OFS_NONE;
}

/* A VLAN tag at 'ofs' counts only if the tag and the following EtherType
 * are complete; a shorter frame keeps the TPID as its EtherType, as the
 * kernel does. */
static bool
parse_vlan_tag(const struct frame *f, size_t *ofs, uint16_t *tpid,
               uint16_t *tci)
{
    uint16_t type = get_be16(f->data + *ofs);

    if (!is_vlan_tpid(type) || !frame_has(f, *ofs, VLAN_HDR_LEN + 2)) {
        return false;
    }
    *tpid = type;
    *tci = get_be16(f->data + *ofs + 2) | htons(FLOW_VLAN_CFI);
    *ofs += VLAN_HDR_LEN;
    return true;
}

/* EtherType at 'ofs' (two bytes known to be present).  Frames with a
 * length field are 802.2: an LLC SNAP header with a zero OUI gives the real
 * EtherType, anything else is ETH_TYPE_802_2_KEY. */
static uint16_t
parse_ethertype(const struct frame *f, size_t *ofs)
{
    uint16_t proto = get_be16(f->data + *ofs);
    const uint8_t *llc;
    uint16_t snap_type;

    *ofs += 2;
    if (ntohs(proto) >= ETH_P_802_3_MIN) {
        return proto;
    }
    if (!frame_has(f, *ofs, 8)) {
        return htons(ETH_TYPE_802_2_KEY);
    }
    llc = f->data + *ofs;
    if (llc[0] != 0xaa || llc[1] != 0xaa || (llc[3] | llc[4] | llc[5])) {
        return htons(ETH_TYPE_802_2_KEY);
    }
    *ofs += 8;
    snap_type = get_be16(llc + 6);
    return ntohs(snap_type) >= ETH_P_802_3_MIN
           ? snap_type : htons(ETH_TYPE_802_2_KEY);
}

static void
parse_tcp(const struct frame *f, size_t l4, struct flow_key *key)
{
    size_t doff;

    if (!frame_has(f, l4, 20)) {
        return;
    }
    doff = (f->data[l4 + 12] >> 4) * 4;
    if (doff < 20 || !frame_has(f, l4, doff)) {
        return;
    }
    key->tp_src = get_be16(f->data + l4);
    key->tp_dst = get_be16(f->data + l4 + 2);
    key->tcp_flags = get_be16(f->data + l4 + 12) & htons(0x0fff);
}

/* UDP and SCTP: ports lead the header. */
static void
parse_ports(const struct frame *f, size_t l4, size_t hdr_len,
            struct flow_key *key)
{
    if (frame_has(f, l4, hdr_len)) {
        key->tp_src = get_be16(f->data + l4);
        key->tp_dst = get_be16(f->data + l4 + 2);
    }
}

static bool
eth_addr_is_zero(const uint8_t *a)
{
    return !(a[0] | a[1] | a[2] | a[3] | a[4] | a[5]);
}

/* Neighbor solicitation/advertisement: target and link-layer address
 * options.  A repeated option makes the whole ND part invalid (zero). */
static void
parse_nd(const struct frame *f, size_t l4, struct flow_key *key)
{
    size_t left = f->len - l4;
    size_t o = l4 + 24;

    if (left < 24) {
        return;
    }
    memcpy(key->nd_target, f->data + l4 + 8, 16);
    left -= 24;
    while (left >= 8) {
        uint8_t type = f->data[o];
        size_t opt_len = f->data[o + 1] * 8;
        uint8_t *lla = NULL;

        if (!opt_len || opt_len > left) {
            return;
        }
        if (opt_len == 8 && type == 1) {
            lla = key->arp_sha;
        } else if (opt_len == 8 && type == 2) {
            lla = key->arp_tha;
        }
        if (lla) {
            if (!eth_addr_is_zero(lla)) {
                memset(key->nd_target, 0, sizeof key->nd_target);
                memset(key->arp_sha, 0, sizeof key->arp_sha);
                memset(key->arp_tha, 0, sizeof key->arp_tha);
                return;
            }
            memcpy(lla, f->data + o + 2, 6);
        }
        left -= opt_len;
        o += opt_len;
    }
}

static void
parse_icmpv6(const struct frame *f, size_t l4, struct flow_key *key)
{
    uint8_t type, code;

    if (!frame_has(f, l4, 8)) {
        return;
    }
    type = f->data[l4];
    code = f->data[l4 + 1];
    key->tp_src = htons(type);
    key->tp_dst = htons(code);
    if (code == 0 && (type == 135 || type == 136)) {
        parse_nd(f, l4, key);
    }
}

static void
parse_l4(const struct frame *f, size_t l4, bool ipv6, struct flow_key *key)
{
    switch (key->ip_proto) {
    case IPPROTO_TCP:
        parse_tcp(f, l4, key);
        break;
    case IPPROTO_UDP:
        parse_ports(f, l4, 8, key);
        break;
    case IPPROTO_SCTP:
        parse_ports(f, l4, 12, key);
        break;
    case IPPROTO_ICMP:
        if (!ipv6 && frame_has(f, l4, 8)) {
            key->tp_src = htons(f->data[l4]);
            key->tp_dst = htons(f->data[l4 + 1]);
        }
        break;
    case IPPROTO_ICMPV6:
        if (ipv6) {
            parse_icmpv6(f, l4, key);
        }
        break;
    }
}

/* UDP fragmentation offload super-packets count as first fragments. */
static bool
is_ufo(const struct dp_packet *p)
{
    return (p->vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN)
           == VIRTIO_NET_HDR_GSO_UDP;
}

static void
parse_ipv4(struct dp_packet *p, const struct frame *f, size_t l3,
           struct flow_key *key)
{
    const uint8_t *nh = f->data + l3;
    size_t ihl;
    uint16_t frag_off;

    if (!frame_has(f, l3, 20)) {
        return;
    }
    ihl = (nh[0] & 0x0f) * 4;
    if (ihl < 20 || !frame_has(f, l3, ihl)) {
        return;
    }
    key->ipv4_src = get_be32(nh + 12);
    key->ipv4_dst = get_be32(nh + 16);
    key->ip_proto = nh[9];
    key->ip_tos = nh[1];
    key->ip_ttl = nh[8];

    frag_off = ntohs(get_be16(nh + 6));
    if (frag_off & 0x1fff) {
        key->ip_frag = OVS_FRAG_TYPE_LATER;     /* no L4 header here */
        return;
    }
    key->ip_frag = (frag_off & 0x2000) || is_ufo(p)
                   ? OVS_FRAG_TYPE_FIRST : OVS_FRAG_TYPE_NONE;
    set_ofs(&p->l4_ofs, l3 + ihl);
    parse_l4(f, l3 + ihl, false, key);
}

static bool
ipv6_is_ext_hdr(uint8_t nh)
{
    return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING
           || nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH
           || nh == IPPROTO_NONE || nh == IPPROTO_DSTOPTS;
}

/* Walks the extension headers starting at 'start' with next header 'nh'.
 * Returns the upper-layer protocol (with *l4 its offset), or -1 if the
 * chain is truncated or a later fragment hides it.  *is_frag and *frag_off
 * report a fragment header. */
static int
ipv6_skip_exthdrs(const struct frame *f, size_t start, uint8_t nh,
                  size_t *l4, bool *is_frag, uint16_t *frag_off)
{
    for (;;) {
        size_t hdr_len;

        if (!ipv6_is_ext_hdr(nh) || nh == IPPROTO_NONE) {
            *l4 = start;
            return nh;
        }
        if (!frame_has(f, start, 2)) {
            return -1;
        }
        if (nh == IPPROTO_ROUTING && !frame_has(f, start, 4)) {
            return -1;
        }
        if (nh == IPPROTO_FRAGMENT) {
            uint16_t off;

            *is_frag = true;
            if (!frame_has(f, start + 2, 2)) {
                return -1;
            }
            off = ntohs(get_be16(f->data + start + 2)) & ~7;
            if (off) {
                uint8_t next = f->data[start];

                /* A later fragment: only its first header type is known,
                 * and only if no further extension header follows. */
                if (!ipv6_is_ext_hdr(next) || next == IPPROTO_NONE) {
                    *frag_off = off;
                    return next;
                }
                return -1;
            }
            hdr_len = 8;
        } else if (nh == IPPROTO_AH) {
            hdr_len = (f->data[start + 1] + 2) * 4;
        } else {
            hdr_len = (f->data[start + 1] + 1) * 8;
        }
        nh = f->data[start];
        start += hdr_len;
    }
}

static void
parse_ipv6(struct dp_packet *p, const struct frame *f, size_t l3,
           struct flow_key *key)
{
    const uint8_t *nh = f->data + l3;
    bool is_frag = false;
    uint16_t frag_off = 0;
    size_t l4 = 0;
    int proto;

    if (!frame_has(f, l3, 40)) {
        return;
    }
    key->ip_tos = (uint8_t) ((nh[0] << 4) | (nh[1] >> 4));
    key->ip_ttl = nh[7];
    key->ipv6_label = get_be32(nh) & htonl(0x000fffff);
    memcpy(key->ipv6_src, nh + 8, 16);
    memcpy(key->ipv6_dst, nh + 24, 16);
    key->ip_proto = IPPROTO_NONE;

    proto = ipv6_skip_exthdrs(f, l3 + 40, nh[6], &l4, &is_frag, &frag_off);
    if (is_frag) {
        if (frag_off) {
            key->ip_frag = OVS_FRAG_TYPE_LATER;
            key->ip_proto = IPPROTO_FRAGMENT;
            return;
        }
        key->ip_frag = OVS_FRAG_TYPE_FIRST;
    }
    if (proto < 0) {
        return;                 /* truncated chain: proto stays "none" */
    }
    key->ip_proto = (uint8_t) proto;
    if (is_ufo(p)) {
        key->ip_frag = OVS_FRAG_TYPE_FIRST;
    }
    if (l4 <= f->len) {
        set_ofs(&p->l4_ofs, l4);
        parse_l4(f, l4, true, key);
    }
}

static void
parse_arp(const struct frame *f, size_t l3, struct flow_key *key)
{
    const uint8_t *arp = f->data + l3;
    uint16_t op;

    if (!frame_has(f, l3, 28)
        || get_be16(arp) != htons(1)                    /* Ethernet */
        || get_be16(arp + 2) != htons(ETH_P_IP)
        || arp[4] != 6 || arp[5] != 4) {
        return;
    }
    op = ntohs(get_be16(arp + 6));
    key->ip_proto = op <= 0xff ? (uint8_t) op : 0;
    memcpy(key->arp_sha, arp + 8, 6);
    key->ipv4_src = get_be32(arp + 14);
    memcpy(key->arp_tha, arp + 18, 6);
    key->ipv4_dst = get_be32(arp + 24);
}

/* Up to FLOW_MAX_MPLS_LABELS label stack entries; a stack cut short before
 * its bottom leaves mpls_labels zero, as the kernel does. */
static void
parse_mpls(const struct frame *f, size_t l3, struct flow_key *key)
{
    size_t n;

    for (n = 1; ; n++) {
        uint32_t lse;

        if (!frame_has(f, l3, n * MPLS_HDR_LEN)) {
            return;
        }
        lse = get_be32(f->data + l3 + (n - 1) * MPLS_HDR_LEN);
        if (n <= FLOW_MAX_MPLS_LABELS) {
            key->mpls_lse[n - 1] = lse;
        }
        if (ntohl(lse) & MPLS_BOS) {
            break;
        }
    }
    if (n > FLOW_MAX_MPLS_LABELS) {
        n = FLOW_MAX_MPLS_LABELS;
    }
    key->mpls_labels = (uint8_t) ((1u << n) - 1);
}

/* NSH: version 0 only, MD type 1 (with its fixed 24-byte header) or 2;
 * anything else leaves the NSH fields zero. */
static void
parse_nsh(const struct frame *f, size_t l3, struct flow_key *key)
{
    const uint8_t *nh = f->data + l3;
    uint16_t vftl;
    size_t len;

    if (!frame_has(f, l3, 8)) {
        return;
    }
    vftl = ntohs(get_be16(nh));
    len = (vftl & 0x3f) * 4;
    if ((vftl >> 14) != 0 || !frame_has(f, l3, len)) {
        return;
    }
    if (nh[2] == 1) {
        if (len != 24) {
            return;
        }
        memcpy(key->nsh.context, nh + 8, sizeof key->nsh.context);
    } else if (nh[2] != 2) {
        return;
    }
    key->nsh.flags = (vftl >> 12) & 0x3;
    key->nsh.ttl = (vftl >> 6) & 0x3f;
    key->nsh.mdtype = nh[2];
    key->nsh.np = nh[3];
    key->nsh.path_hdr = get_be32(nh + 4);
}

static void
extract_metadata(const struct dp_packet *p, struct flow_key *key)
{
    const struct flow_tnl *t = &p->md.tunnel;

    key->in_port = p->md.in_port;
    key->recirc_id = p->md.recirc_id;
    key->dp_hash = p->md.dp_hash;
    key->priority = p->md.priority;
    key->skb_mark = p->md.skb_mark;
    /* Field by field, so that padding in the metadata cannot leak into
     * the key's hash. */
    key->tunnel.tun_id = t->tun_id;
    key->tunnel.ipv4_src = t->ipv4_src;
    key->tunnel.ipv4_dst = t->ipv4_dst;
    key->tunnel.ipv6_src = t->ipv6_src;
    key->tunnel.ipv6_dst = t->ipv6_dst;
    key->tunnel.flags = t->flags;
    key->tunnel.tos = t->tos;
    key->tunnel.ttl = t->ttl;
    key->tunnel.tp_src = t->tp_src;
    key->tunnel.tp_dst = t->tp_dst;
    key->tunnel.vxlan_gbp = t->vxlan_gbp;
    if (t->opts_len) {
        /* Geneve options received by a tunnel vport or set by the
         * sender's key (OVS_PACKET_CMD_EXECUTE). */
        key->tunnel.opts_len = t->opts_len;
        memcpy(key->tun_opts, p->md.tun_opts, t->opts_len);
    }
}

/* The network header of EtherType key->eth_type at 'ofs'. */
static inline void
parse_l3(struct dp_packet *p, const struct frame *f, size_t ofs,
         struct flow_key *key)
{
    set_ofs(&p->l3_ofs, ofs);
    switch (ntohs(key->eth_type)) {
    case ETH_P_IP:
        parse_ipv4(p, f, ofs, key);
        break;
    case ETH_P_IPV6:
        parse_ipv6(p, f, ofs, key);
        break;
    case ETH_P_ARP:
    case ETH_P_RARP:
        parse_arp(f, ofs, key);
        break;
    case ETH_P_MPLS_UC:
    case ETH_P_MPLS_MC:
        parse_mpls(f, ofs, key);
        break;
    case ETH_P_NSH:
        parse_nsh(f, ofs, key);
        break;
    }
}

void
flow_extract(struct dp_packet *p, struct flow_key *key)
{
    struct frame f = { dp_packet_data(p), p->len };
    size_t ofs = 2 * ETH_ALEN;

    memset(key, 0, sizeof *key);
    p->l3_ofs = DP_OFS_NONE;
    p->l4_ofs = DP_OFS_NONE;
    extract_metadata(p, key);

    if (__builtin_expect(p->md.l3_type != 0, 0)) {
        /* A layer-3 packet (after pop_eth): the type is metadata, the
         * network header comes first. */
        key->no_eth = 1;
        key->eth_type = p->md.l3_type;
        parse_l3(p, &f, 0, key);
        return;
    }
    if (!frame_has(&f, 0, ETH_HLEN)) {
        return;
    }
    memcpy(key->eth_dst, f.data, ETH_ALEN);
    memcpy(key->eth_src, f.data + ETH_ALEN, ETH_ALEN);

    if (parse_vlan_tag(&f, &ofs, &key->vlan_tpid, &key->vlan_tci)) {
        parse_vlan_tag(&f, &ofs, &key->cvlan_tpid, &key->cvlan_tci);
    }
    key->eth_type = parse_ethertype(&f, &ofs);
    parse_l3(p, &f, ofs, key);
}

uint32_t
flow_key_hash(const struct flow_key *key, uint32_t basis)
{
    const flow_word *w = (const flow_word *) key;
    size_t n_opts = key->tunnel.opts_len;
    uint32_t h = basis;
    size_t i;

    for (i = 0; i < FLOW_KEY_FIXED_LEN / sizeof *w; i++) {
        h = hash_add64(h, w[i]);
    }
    if (n_opts) {
        h = hash_add(h, hash_bytes(key->tun_opts, n_opts, 0));
    }
    return hash_finish(h, (uint32_t) (FLOW_KEY_FIXED_LEN + n_opts));
}

bool
flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
    return !memcmp(a, b, FLOW_KEY_FIXED_LEN)
           && !memcmp(a->tun_opts, b->tun_opts, a->tunnel.opts_len);
}

void
flow_key_mask(struct flow_key *dst, const struct flow_key *src,
              const struct flow_key *mask)
{
    flow_word *d = (flow_word *) dst;
    const flow_word *s = (const flow_word *) src;
    const flow_word *m = (const flow_word *) mask;
    size_t n = FLOW_KEY_FIXED_LEN / sizeof *d;
    size_t i;

    for (i = 0; i < n; i++) {
        d[i] = s[i] & m[i];
    }
    /* Only the options in use need masking; the rest is cleared so that
     * unused bytes stay zero. */
    n += (dst->tunnel.opts_len + sizeof *d - 1) / sizeof *d;
    for (; i < n; i++) {
        d[i] = s[i] & m[i];
    }
    memset(&d[i], 0, sizeof *dst - i * sizeof *d);
}

uint32_t
flow_hash_5tuple(const struct flow_key *key, uint32_t basis)
{
    uint32_t h = basis;
    size_t i;

    if (key->eth_type == htons(ETH_P_IP)) {
        h = hash_add(h, key->ipv4_src);
        h = hash_add(h, key->ipv4_dst);
    } else if (key->eth_type == htons(ETH_P_IPV6)) {
        for (i = 0; i < 16; i += 4) {
            h = hash_add(h, get_be32(key->ipv6_src + i));
            h = hash_add(h, get_be32(key->ipv6_dst + i));
        }
    } else {
        /* Not IP: spread by the Ethernet addresses instead. */
        h = hash_add(h, get_be32(key->eth_src));
        h = hash_add(h, get_be32(key->eth_dst));
        h = hash_add(h, ((uint32_t) get_be16(key->eth_src + 4) << 16)
                        | get_be16(key->eth_dst + 4));
    }
    h = hash_add(h, ((uint32_t) key->eth_type << 16) | key->ip_proto);
    h = hash_add(h, ((uint32_t) key->tp_src << 16) | key->tp_dst);
    h = hash_finish(h, 0);
    return h ? h : 1;
}
