/* OpenFlow 1.0 / OXM / NXM matches <-> struct ofp_match. */
#include "ofp-match.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#define ETH_TYPE_IP   0x0800
#define ETH_TYPE_ARP  0x0806
#define ETH_TYPE_RARP 0x8035
#define ETH_TYPE_IPV6 0x86dd
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132

enum prereq {
    PRE_NONE, PRE_IP, PRE_IPV4, PRE_IPV6, PRE_ARP, PRE_TCP, PRE_UDP,
    PRE_SCTP, PRE_ICMPV4, PRE_ICMPV6, PRE_ND,
};

/* One field: its OXM and NXM names (class 0xffff: none) and, for fields
 * that are a plain copy of a flow_key member, where that member is. */
struct mf {
    uint16_t oxm_class;
    uint8_t oxm_field, oxm_len;
    uint16_t nxm_class;
    uint8_t nxm_field, nxm_len;
    bool maskable;
    uint8_t pre;
    uint16_t key_ofs;           /* copy fields: offset in flow_key */
    uint8_t key_len;            /* 0: converted in mf_set/mf_get */
};

#define NONE 0xffff
#define K(MEMBER) offsetof(struct flow_key, MEMBER), \
                  sizeof ((struct flow_key *) 0)->MEMBER
#define OF OXM_CLASS_OPENFLOW
#define N0 OXM_CLASS_NXM0
#define N1 OXM_CLASS_NXM1

static const struct mf mfs[MF_N_FIELDS] = {
    [MF_IN_PORT] = { OF, 0, 4, N0, 0, 2, false, PRE_NONE, 0, 0 },
    [MF_METADATA] = { OF, 2, 8, OF, 2, 8, true, PRE_NONE, 0, 0 },
    [MF_ETH_DST] = { OF, 3, 6, N0, 1, 6, true, PRE_NONE, K(eth_dst) },
    [MF_ETH_SRC] = { OF, 4, 6, N0, 2, 6, true, PRE_NONE, K(eth_src) },
    [MF_ETH_TYPE] = { OF, 5, 2, N0, 3, 2, false, PRE_NONE, K(eth_type) },
    [MF_VLAN_VID] = { OF, 6, 2, NONE, 0, 0, true, PRE_NONE, 0, 0 },
    [MF_VLAN_PCP] = { OF, 7, 1, NONE, 0, 0, false, PRE_NONE, 0, 0 },
    [MF_VLAN_TCI] = { NONE, 0, 0, N0, 4, 2, true, PRE_NONE, K(vlan_tci) },
    [MF_IP_DSCP] = { OF, 8, 1, NONE, 0, 0, false, PRE_IP, 0, 0 },
    [MF_IP_ECN] = { OF, 9, 1, N1, 28, 1, false, PRE_IP, 0, 0 },
    [MF_IP_TOS] = { NONE, 0, 0, N0, 5, 1, false, PRE_IP, 0, 0 },
    [MF_IP_PROTO] = { OF, 10, 1, N0, 6, 1, false, PRE_IP, K(ip_proto) },
    [MF_IP_TTL] = { NONE, 0, 0, N1, 29, 1, false, PRE_IP, K(ip_ttl) },
    [MF_IPV4_SRC] = { OF, 11, 4, N0, 7, 4, true, PRE_IPV4, K(ipv4_src) },
    [MF_IPV4_DST] = { OF, 12, 4, N0, 8, 4, true, PRE_IPV4, K(ipv4_dst) },
    [MF_TCP_SRC] = { OF, 13, 2, N0, 9, 2, true, PRE_TCP, K(tp_src) },
    [MF_TCP_DST] = { OF, 14, 2, N0, 10, 2, true, PRE_TCP, K(tp_dst) },
    [MF_UDP_SRC] = { OF, 15, 2, N0, 11, 2, true, PRE_UDP, K(tp_src) },
    [MF_UDP_DST] = { OF, 16, 2, N0, 12, 2, true, PRE_UDP, K(tp_dst) },
    [MF_SCTP_SRC] = { OF, 17, 2, NONE, 0, 0, true, PRE_SCTP, K(tp_src) },
    [MF_SCTP_DST] = { OF, 18, 2, NONE, 0, 0, true, PRE_SCTP, K(tp_dst) },
    [MF_ICMPV4_TYPE] = { OF, 19, 1, N0, 13, 1, false, PRE_ICMPV4, 0, 0 },
    [MF_ICMPV4_CODE] = { OF, 20, 1, N0, 14, 1, false, PRE_ICMPV4, 0, 0 },
    [MF_ARP_OP] = { OF, 21, 2, N0, 15, 2, false, PRE_ARP, 0, 0 },
    [MF_ARP_SPA] = { OF, 22, 4, N0, 16, 4, true, PRE_ARP, K(ipv4_src) },
    [MF_ARP_TPA] = { OF, 23, 4, N0, 17, 4, true, PRE_ARP, K(ipv4_dst) },
    [MF_ARP_SHA] = { OF, 24, 6, N1, 17, 6, true, PRE_ARP, K(arp_sha) },
    [MF_ARP_THA] = { OF, 25, 6, N1, 18, 6, true, PRE_ARP, K(arp_tha) },
    [MF_IPV6_SRC] = { OF, 26, 16, N1, 19, 16, true, PRE_IPV6, K(ipv6_src) },
    [MF_IPV6_DST] = { OF, 27, 16, N1, 20, 16, true, PRE_IPV6, K(ipv6_dst) },
    [MF_IPV6_LABEL] = { OF, 28, 4, N1, 27, 4, true, PRE_IPV6,
                        K(ipv6_label) },
    [MF_ICMPV6_TYPE] = { OF, 29, 1, N1, 21, 1, false, PRE_ICMPV6, 0, 0 },
    [MF_ICMPV6_CODE] = { OF, 30, 1, N1, 22, 1, false, PRE_ICMPV6, 0, 0 },
    [MF_ND_TARGET] = { OF, 31, 16, N1, 23, 16, true, PRE_ND,
                       K(nd_target) },
    [MF_ND_SLL] = { OF, 32, 6, N1, 24, 6, true, PRE_ND, K(arp_sha) },
    [MF_ND_TLL] = { OF, 33, 6, N1, 25, 6, true, PRE_ND, K(arp_tha) },
    [MF_TUN_ID] = { OF, 38, 8, N1, 16, 8, true, PRE_NONE,
                    K(tunnel.tun_id) },
    [MF_TUN_IPV4_SRC] = { N1, 31, 4, N1, 31, 4, true, PRE_NONE,
                          K(tunnel.ipv4_src) },
    [MF_TUN_IPV4_DST] = { N1, 32, 4, N1, 32, 4, true, PRE_NONE,
                          K(tunnel.ipv4_dst) },
    [MF_PKT_MARK] = { N1, 33, 4, N1, 33, 4, true, PRE_NONE, 0, 0 },
    [MF_TCP_FLAGS] = { N1, 34, 2, N1, 34, 2, true, PRE_TCP,
                       K(tcp_flags) },
#define REG(N) [MF_REG0 + N] = { N1, N, 4, N1, N, 4, true, PRE_NONE, 0, 0 }
    REG(0), REG(1), REG(2), REG(3), REG(4), REG(5), REG(6), REG(7),
#undef REG
};

#define NXM_NX_COOKIE_FIELD 30

int
mf_from_header(uint32_t header, bool nxm, size_t *value_len)
{
    uint16_t cls = header >> 16;
    uint8_t field = (header >> 9) & 0x7f;

    for (int i = 0; i < MF_N_FIELDS; i++) {
        const struct mf *f = &mfs[i];
        /* NXM accepts OXM names too, as Open vSwitch does; the NXM name
         * wins where the two differ (in_port is 16 bits there). */
        if (nxm && f->nxm_class == cls && f->nxm_field == field
            && f->nxm_len) {
            *value_len = f->nxm_len;
            return i;
        }
    }
    for (int i = 0; i < MF_N_FIELDS; i++) {
        const struct mf *f = &mfs[i];
        if (f->oxm_class == cls && f->oxm_field == field && f->oxm_len) {
            *value_len = f->oxm_len;
            return i;
        }
    }
    return -1;
}

uint32_t
mf_oxm_header(enum mf_id id)
{
    const struct mf *f = &mfs[id];
    return OXM_HEADER(f->oxm_class, f->oxm_field, 0, f->oxm_len);
}

uint32_t
mf_features_header(enum mf_id id)
{
    const struct mf *f = &mfs[id];
    uint32_t h = f->oxm_class != NONE ? mf_oxm_header(id)
                                      : mf_nxm_header(id);
    return f->maskable ? (h & ~0xffu) | 0x100 | ((h & 0xff) * 2) : h;
}

uint32_t
mf_nxm_header(enum mf_id id)
{
    const struct mf *f = &mfs[id];
    if (f->nxm_class == NONE || !f->nxm_len) {
        return mf_oxm_header(id);
    }
    return OXM_HEADER(f->nxm_class, f->nxm_field, 0, f->nxm_len);
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t) get16(p) << 16 | get16(p + 2);
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

uint32_t
ofp_port_from_16(uint16_t port)
{
    return port >= 0xff00 ? 0xffff0000u | port : port;
}

uint16_t
ofp_port_to_16(uint32_t port)
{
    if (port >= OFPP_MAX) {
        return (uint16_t) port;
    }
    return port < 0xff00 ? port : 0;
}

bool
mf_set(enum mf_id id, bool nxm, const uint8_t *val, struct ofp_fields *f)
{
    const struct mf *d = &mfs[id];
    struct flow_key *k = &f->key;
    uint16_t tci = ntohs(k->vlan_tci);

    if (d->key_len) {
        memcpy((uint8_t *) k + d->key_ofs, val, d->key_len);
        return true;
    }
    switch (id) {
    case MF_IN_PORT:
        k->in_port = nxm ? ofp_port_from_16(get16(val)) : get32(val);
        return true;
    case MF_METADATA:
        f->metadata = (uint64_t) get32(val) << 32 | get32(val + 4);
        return true;
    case MF_VLAN_VID:
        k->vlan_tci = htons((tci & ~0x1fff) | (get16(val) & 0x1fff));
        return get16(val) <= 0x1fff;
    case MF_VLAN_PCP:
        k->vlan_tci = htons((tci & 0x1fff) | (val[0] & 7) << 13);
        return val[0] <= 7;
    case MF_IP_DSCP:
        k->ip_tos = (k->ip_tos & 3) | (uint8_t) (val[0] << 2);
        return val[0] <= 63;
    case MF_IP_ECN:
        k->ip_tos = (k->ip_tos & 0xfc) | (val[0] & 3);
        return val[0] <= 3;
    case MF_IP_TOS:
        k->ip_tos = (k->ip_tos & 3) | (val[0] & 0xfc);
        return !(val[0] & 3);
    case MF_ICMPV4_TYPE:
    case MF_ICMPV6_TYPE:
        k->tp_src = htons(val[0]);
        return true;
    case MF_ICMPV4_CODE:
    case MF_ICMPV6_CODE:
        k->tp_dst = htons(val[0]);
        return true;
    case MF_ARP_OP:
        k->ip_proto = val[1];
        return !val[0];
    case MF_PKT_MARK:
        k->skb_mark = get32(val);
        return true;
    default:
        if (id >= MF_REG0 && id <= MF_REG7) {
            f->regs[id - MF_REG0] = get32(val);
            return true;
        }
        return false;
    }
}

size_t
mf_get(enum mf_id id, const struct ofp_fields *f, uint8_t val[16])
{
    const struct mf *d = &mfs[id];
    const struct flow_key *k = &f->key;
    uint16_t tci = ntohs(k->vlan_tci);

    memset(val, 0, 16);
    if (d->key_len) {
        memcpy(val, (const uint8_t *) k + d->key_ofs, d->key_len);
        return d->key_len;
    }
    switch (id) {
    case MF_IN_PORT:
        put32(val, k->in_port);
        return 4;
    case MF_METADATA:
        put32(val, f->metadata >> 32);
        put32(val + 4, f->metadata);
        return 8;
    case MF_VLAN_VID:
        put16(val, tci & 0x1fff);
        return 2;
    case MF_VLAN_PCP:
        val[0] = tci >> 13;
        return 1;
    case MF_IP_DSCP:
        val[0] = k->ip_tos >> 2;
        return 1;
    case MF_IP_ECN:
        val[0] = k->ip_tos & 3;
        return 1;
    case MF_IP_TOS:
        val[0] = k->ip_tos & 0xfc;
        return 1;
    case MF_ICMPV4_TYPE:
    case MF_ICMPV6_TYPE:
        val[0] = ntohs(k->tp_src);
        return 1;
    case MF_ICMPV4_CODE:
    case MF_ICMPV6_CODE:
        val[0] = ntohs(k->tp_dst);
        return 1;
    case MF_ARP_OP:
        put16(val, k->ip_proto);
        return 2;
    case MF_PKT_MARK:
        put32(val, k->skb_mark);
        return 4;
    default:
        if (id >= MF_REG0 && id <= MF_REG7) {
            put32(val, f->regs[id - MF_REG0]);
            return 4;
        }
        return 0;
    }
}

size_t
mf_get_width(enum mf_id id, size_t width, const struct ofp_fields *f,
             uint8_t val[16])
{
    if (id == MF_IN_PORT && width == 2) {
        memset(val, 0, 16);
        put16(val, ofp_port_to_16(f->key.in_port));
        return 2;
    }
    return mf_get(id, f, val);
}

bool
mf_set_width(enum mf_id id, size_t width, const uint8_t *val,
             struct ofp_fields *f)
{
    return mf_set(id, id == MF_IN_PORT && width == 2, val, f);
}

static bool
bit_get(const uint8_t *p, size_t len, unsigned bit)
{
    return p[len - 1 - bit / 8] >> (bit % 8) & 1;
}

static void
bit_put(uint8_t *p, size_t len, unsigned bit, bool v)
{
    uint8_t *byte = &p[len - 1 - bit / 8];
    *byte = (uint8_t) ((*byte & ~(1u << (bit % 8))) | (unsigned) v << (bit
                                                                     % 8));
}

void
mf_copy_bits(const uint8_t *src, size_t src_len, unsigned src_ofs,
             uint8_t *dst, size_t dst_len, unsigned dst_ofs, unsigned n_bits)
{
    for (unsigned i = 0; i < n_bits; i++) {
        bit_put(dst, dst_len, dst_ofs + i,
                bit_get(src, src_len, src_ofs + i));
    }
}

static bool
exact_type(const struct ofp_match *m, uint16_t type)
{
    return m->m.key.eth_type == 0xffff && m->v.key.eth_type == htons(type);
}

static bool
exact_proto(const struct ofp_match *m, uint8_t proto)
{
    return (exact_type(m, ETH_TYPE_IP) || exact_type(m, ETH_TYPE_IPV6))
        && m->m.key.ip_proto == 0xff && m->v.key.ip_proto == proto;
}

bool
mf_prereqs_ok(enum mf_id id, const struct ofp_match *m)
{
    switch (mfs[id].pre) {
    case PRE_NONE:
        return true;
    case PRE_IP:
        return exact_type(m, ETH_TYPE_IP) || exact_type(m, ETH_TYPE_IPV6);
    case PRE_IPV4:
        return exact_type(m, ETH_TYPE_IP);
    case PRE_IPV6:
        return exact_type(m, ETH_TYPE_IPV6);
    case PRE_ARP:
        return exact_type(m, ETH_TYPE_ARP) || exact_type(m, ETH_TYPE_RARP);
    case PRE_TCP:
        return exact_proto(m, IPPROTO_TCP_);
    case PRE_UDP:
        return exact_proto(m, IPPROTO_UDP_);
    case PRE_SCTP:
        return exact_proto(m, IPPROTO_SCTP_);
    case PRE_ICMPV4:
        return exact_type(m, ETH_TYPE_IP) && exact_proto(m, IPPROTO_ICMP_);
    case PRE_ICMPV6:
        return exact_type(m, ETH_TYPE_IPV6)
            && exact_proto(m, IPPROTO_ICMPV6_);
    case PRE_ND:
        return exact_type(m, ETH_TYPE_IPV6)
            && exact_proto(m, IPPROTO_ICMPV6_)
            && m->m.key.tp_src == 0xffff
            && (m->v.key.tp_src == htons(135)
                || m->v.key.tp_src == htons(136));
    }
    return false;
}

/* ---- whole matches ------------------------------------------------------ */

void
ofp_match_init_catchall(struct ofp_match *m)
{
    memset(m, 0, sizeof *m);
}

/* v &= m, so that equal matches compare equal bytewise. */
static void
normalize(struct ofp_match *m)
{
    uint8_t *v = (uint8_t *) &m->v;
    const uint8_t *k = (const uint8_t *) &m->m;
    for (size_t i = 0; i < sizeof m->v; i++) {
        v[i] &= k[i];
    }
}

bool
ofp_match_equal(const struct ofp_match *a, const struct ofp_match *b)
{
    return !memcmp(a, b, sizeof *a);
}

bool
ofp_match_covers(const struct ofp_match *g, const struct ofp_match *s)
{
    const uint8_t *gv = (const uint8_t *) &g->v;
    const uint8_t *gm = (const uint8_t *) &g->m;
    const uint8_t *sv = (const uint8_t *) &s->v;
    const uint8_t *sm = (const uint8_t *) &s->m;

    for (size_t i = 0; i < sizeof g->v; i++) {
        /* Every bit 'g' looks at, 's' must fix to the same value. */
        if ((gm[i] & ~sm[i]) || ((gv[i] ^ sv[i]) & gm[i])) {
            return false;
        }
    }
    return true;
}

/* Compares key bytes [from, to) under the mask, ORing the mask into wc. */
static bool
match_range(const struct ofp_match *m, const struct flow_key *pkt,
            struct flow_key *wc, size_t from, size_t to)
{
    const uint8_t *v = (const uint8_t *) &m->v.key;
    const uint8_t *k = (const uint8_t *) &m->m.key;
    const uint8_t *p = (const uint8_t *) pkt;
    uint8_t *w = (uint8_t *) wc;
    bool ok = true;

    for (size_t i = from; i < to; i++) {
        if (k[i]) {
            w[i] |= k[i];
            if ((p[i] & k[i]) != v[i]) {
                ok = false;
            }
        }
    }
    return ok;
}

bool
ofp_match_packet(const struct ofp_match *m, const struct ofp_fields *pkt,
                 struct flow_key *wc)
{
    /* Registers and metadata live only in the pipeline: no mask. */
    for (int i = 0; i < OFP_N_REGS; i++) {
        if ((pkt->regs[i] & m->m.regs[i]) != m->v.regs[i]) {
            return false;
        }
    }
    if ((pkt->metadata & m->m.metadata) != m->v.metadata) {
        return false;
    }
    /* in_port is the OpenFlow port here; the datapath mask always has
     * in_port anyway. */
    if ((pkt->key.in_port & m->m.key.in_port) != m->v.key.in_port) {
        return false;
    }
    size_t l2 = offsetof(struct flow_key, eth_src);
    size_t l3 = offsetof(struct flow_key, ip_proto);
    size_t l4 = offsetof(struct flow_key, tp_src);
    size_t l4_end = offsetof(struct flow_key, tunnel);
    return match_range(m, &pkt->key, wc, l2, l3)
        && match_range(m, &pkt->key, wc, offsetof(struct flow_key, tunnel),
                       FLOW_KEY_FIXED_LEN)
        && match_range(m, &pkt->key, wc, offsetof(struct flow_key, skb_mark),
                       offsetof(struct flow_key, pad0))
        && match_range(m, &pkt->key, wc, l3, l4)
        && match_range(m, &pkt->key, wc, l4, l4_end);
}

/* ---- OpenFlow 1.0 ------------------------------------------------------- */

#define OFPFW10_IN_PORT     (1u << 0)
#define OFPFW10_DL_VLAN     (1u << 1)
#define OFPFW10_DL_SRC      (1u << 2)
#define OFPFW10_DL_DST      (1u << 3)
#define OFPFW10_DL_TYPE     (1u << 4)
#define OFPFW10_NW_PROTO    (1u << 5)
#define OFPFW10_TP_SRC      (1u << 6)
#define OFPFW10_TP_DST      (1u << 7)
#define OFPFW10_NW_SRC_SHIFT 8
#define OFPFW10_NW_DST_SHIFT 14
#define OFPFW10_DL_VLAN_PCP (1u << 20)
#define OFPFW10_NW_TOS      (1u << 21)
#define OFPFW10_ALL         ((1u << 22) - 1)
#define OFP10_VLAN_NONE     0xffff

static uint32_t
prefix_mask(unsigned wild_bits)
{
    return wild_bits >= 32 ? 0 : htonl(~0u << wild_bits);
}

static unsigned
mask_wild_bits(uint32_t be_mask)
{
    uint32_t m = ntohl(be_mask);
    return m ? __builtin_ctz(m) : 32;
}

ofperr
ofp_match_decode_of10(const uint8_t w[OFP10_MATCH_LEN], struct ofp_match *m)
{
    uint32_t wc = get32(w);
    uint16_t in_port = get16(w + 4);
    uint16_t dl_vlan = get16(w + 18);
    uint8_t pcp = w[20];
    uint16_t dl_type = get16(w + 22);
    uint8_t tos = w[24], proto = w[25];
    struct flow_key *v = &m->v.key, *k = &m->m.key;

    ofp_match_init_catchall(m);
    if (!(wc & OFPFW10_IN_PORT)) {
        v->in_port = ofp_port_from_16(in_port);
        k->in_port = UINT32_MAX;
    }
    if (!(wc & OFPFW10_DL_SRC)) {
        memcpy(v->eth_src, w + 6, 6);
        memset(k->eth_src, 0xff, 6);
    }
    if (!(wc & OFPFW10_DL_DST)) {
        memcpy(v->eth_dst, w + 12, 6);
        memset(k->eth_dst, 0xff, 6);
    }
    if (!(wc & OFPFW10_DL_VLAN)) {
        if (dl_vlan == OFP10_VLAN_NONE) {
            k->vlan_tci = 0xffff;
        } else {
            v->vlan_tci = htons((dl_vlan & 0xfff) | FLOW_VLAN_CFI);
            k->vlan_tci = htons(0x1fff);
        }
    }
    if (!(wc & OFPFW10_DL_VLAN_PCP) && dl_vlan != OFP10_VLAN_NONE) {
        v->vlan_tci |= htons((pcp & 7) << 13 | FLOW_VLAN_CFI);
        k->vlan_tci |= htons(0xe000 | FLOW_VLAN_CFI);
    }
    if (wc & OFPFW10_DL_TYPE) {
        return 0;
    }
    v->eth_type = htons(dl_type);
    k->eth_type = 0xffff;
    /* OpenFlow 1.0 ignores fields whose protocol is not matched. */
    bool ip = dl_type == ETH_TYPE_IP;
    bool arp = dl_type == ETH_TYPE_ARP || dl_type == ETH_TYPE_RARP;
    if (!ip && !arp) {
        return 0;
    }
    k->ipv4_src = prefix_mask((wc >> OFPFW10_NW_SRC_SHIFT) & 0x3f);
    k->ipv4_dst = prefix_mask((wc >> OFPFW10_NW_DST_SHIFT) & 0x3f);
    memcpy(&v->ipv4_src, w + 28, 4);
    memcpy(&v->ipv4_dst, w + 32, 4);
    if (!(wc & OFPFW10_NW_PROTO)) {
        v->ip_proto = proto;
        k->ip_proto = 0xff;
    }
    if (ip && !(wc & OFPFW10_NW_TOS)) {
        v->ip_tos = tos & 0xfc;
        k->ip_tos = 0xfc;
    }
    if (ip && !(wc & OFPFW10_NW_PROTO)
        && (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_
            || proto == IPPROTO_SCTP_ || proto == IPPROTO_ICMP_)) {
        bool icmp = proto == IPPROTO_ICMP_;
        if (!(wc & OFPFW10_TP_SRC)) {
            v->tp_src = icmp ? htons(get16(w + 36) & 0xff)
                             : htons(get16(w + 36));
            k->tp_src = 0xffff;
        }
        if (!(wc & OFPFW10_TP_DST)) {
            v->tp_dst = icmp ? htons(get16(w + 38) & 0xff)
                             : htons(get16(w + 38));
            k->tp_dst = 0xffff;
        }
    }
    normalize(m);
    return 0;
}

void
ofp_match_encode_of10(struct ofp_buf *b, const struct ofp_match *m)
{
    const struct flow_key *v = &m->v.key, *k = &m->m.key;
    uint8_t *w = ofp_buf_put(b, OFP10_MATCH_LEN);
    uint32_t wc = OFPFW10_ALL;
    static const uint8_t zero6[6];

    if (k->in_port) {
        wc &= ~OFPFW10_IN_PORT;
        put16(w + 4, ofp_port_to_16(v->in_port));
    }
    if (memcmp(k->eth_src, zero6, 6)) {
        wc &= ~OFPFW10_DL_SRC;
        memcpy(w + 6, v->eth_src, 6);
    }
    if (memcmp(k->eth_dst, zero6, 6)) {
        wc &= ~OFPFW10_DL_DST;
        memcpy(w + 12, v->eth_dst, 6);
    }
    uint16_t tci = ntohs(v->vlan_tci), tci_m = ntohs(k->vlan_tci);
    if ((tci_m & 0x1fff) == 0x1fff) {
        wc &= ~OFPFW10_DL_VLAN;
        put16(w + 18, tci & FLOW_VLAN_CFI ? tci & 0xfff : OFP10_VLAN_NONE);
    }
    if ((tci_m & 0xe000) == 0xe000) {
        wc &= ~OFPFW10_DL_VLAN_PCP;
        w[20] = tci >> 13;
    }
    if (k->eth_type) {
        wc &= ~OFPFW10_DL_TYPE;
        put16(w + 22, ntohs(v->eth_type));
    }
    if (k->ip_tos & 0xfc) {
        wc &= ~OFPFW10_NW_TOS;
        w[24] = v->ip_tos & 0xfc;
    }
    if (k->ip_proto) {
        wc &= ~OFPFW10_NW_PROTO;
        w[25] = v->ip_proto;
    }
    wc &= ~(0x3fu << OFPFW10_NW_SRC_SHIFT | 0x3fu << OFPFW10_NW_DST_SHIFT);
    wc |= mask_wild_bits(k->ipv4_src) << OFPFW10_NW_SRC_SHIFT;
    wc |= mask_wild_bits(k->ipv4_dst) << OFPFW10_NW_DST_SHIFT;
    memcpy(w + 28, &v->ipv4_src, 4);
    memcpy(w + 32, &v->ipv4_dst, 4);
    if (k->tp_src) {
        wc &= ~OFPFW10_TP_SRC;
        put16(w + 36, ntohs(v->tp_src));
    }
    if (k->tp_dst) {
        wc &= ~OFPFW10_TP_DST;
        put16(w + 38, ntohs(v->tp_dst));
    }
    put32(w, wc);
}

/* ---- OXM / NXM TLVs ----------------------------------------------------- */

static ofperr
decode_tlvs(const uint8_t *p, size_t len, bool nxm, struct ofp_match *m,
            uint64_t *cookie, uint64_t *cookie_mask)
{
    uint64_t seen = 0;
    struct ofp_rd r;

    ofp_match_init_catchall(m);
    ofp_rd_init(&r, p, len);
    while (r.left) {
        uint32_t hdr = ofp_rd_be32(&r);
        size_t plen = hdr & 0xff;
        bool hasmask = hdr & 0x100;
        const uint8_t *pl = ofp_rd_pull(&r, plen);
        if (!pl) {
            return OFPERR_BAD_MATCH_LEN;
        }
        if (nxm && hdr >> 16 == OXM_CLASS_NXM1
            && ((hdr >> 9) & 0x7f) == NXM_NX_COOKIE_FIELD) {
            if (!cookie || plen != (hasmask ? 16u : 8u)) {
                return OFPERR_BAD_MATCH_FIELD;
            }
            *cookie = (uint64_t) get32(pl) << 32 | get32(pl + 4);
            *cookie_mask = hasmask
                ? (uint64_t) get32(pl + 8) << 32 | get32(pl + 12)
                : UINT64_MAX;
            *cookie &= *cookie_mask;
            continue;
        }
        size_t vlen;
        int id = mf_from_header(hdr, nxm, &vlen);
        if (id < 0) {
            return OFPERR_BAD_MATCH_FIELD;
        }
        if (plen != vlen * (hasmask ? 2 : 1)) {
            return OFPERR_BAD_MATCH_LEN;
        }
        if (hasmask && !mfs[id].maskable) {
            return OFPERR_BAD_MATCH_MASK;
        }
        if (seen & (1ull << id)) {
            return OFPERR_BAD_MATCH_DUP_FIELD;
        }
        seen |= 1ull << id;
        uint8_t ones[16];
        memset(ones, 0xff, sizeof ones);
        if (!mf_set(id, nxm, pl, &m->v)) {
            return OFPERR_BAD_MATCH_VALUE;
        }
        mf_set(id, nxm, hasmask ? pl + vlen : ones, &m->m);
    }
    for (int id = 0; id < MF_N_FIELDS; id++) {
        if ((seen & (1ull << id)) && !mf_prereqs_ok(id, m)) {
            return OFPERR_BAD_MATCH_PREREQ;
        }
    }
    normalize(m);
    return 0;
}

/* Which field names a match's bits, given its protocol context. */
static size_t
fields_to_encode(const struct ofp_match *m, bool nxm, enum mf_id out[])
{
    size_t n = 0;
    uint16_t type = ntohs(m->v.key.eth_type);
    uint8_t proto = m->v.key.ip_proto;
    bool arp = type == ETH_TYPE_ARP || type == ETH_TYPE_RARP;
    bool ip6 = type == ETH_TYPE_IPV6;

    out[n++] = MF_IN_PORT;
    out[n++] = MF_METADATA;
    out[n++] = MF_ETH_DST;
    out[n++] = MF_ETH_SRC;
    out[n++] = MF_ETH_TYPE;
    if (nxm) {
        out[n++] = MF_VLAN_TCI;
    } else {
        out[n++] = MF_VLAN_VID;
        out[n++] = MF_VLAN_PCP;
    }
    if (arp) {
        out[n++] = MF_ARP_OP;
        out[n++] = MF_ARP_SPA;
        out[n++] = MF_ARP_TPA;
        out[n++] = MF_ARP_SHA;
        out[n++] = MF_ARP_THA;
    } else {
        out[n++] = nxm ? MF_IP_TOS : MF_IP_DSCP;
        out[n++] = MF_IP_ECN;
        out[n++] = MF_IP_PROTO;
        if (nxm) {
            out[n++] = MF_IP_TTL;
        }
        out[n++] = MF_IPV4_SRC;
        out[n++] = MF_IPV4_DST;
        out[n++] = MF_IPV6_SRC;
        out[n++] = MF_IPV6_DST;
        out[n++] = MF_IPV6_LABEL;
        switch (proto) {
        case IPPROTO_TCP_:
            out[n++] = MF_TCP_SRC;
            out[n++] = MF_TCP_DST;
            out[n++] = MF_TCP_FLAGS;
            break;
        case IPPROTO_UDP_:
            out[n++] = MF_UDP_SRC;
            out[n++] = MF_UDP_DST;
            break;
        case IPPROTO_SCTP_:
            out[n++] = MF_SCTP_SRC;
            out[n++] = MF_SCTP_DST;
            break;
        case IPPROTO_ICMP_:
            out[n++] = MF_ICMPV4_TYPE;
            out[n++] = MF_ICMPV4_CODE;
            break;
        case IPPROTO_ICMPV6_:
            out[n++] = MF_ICMPV6_TYPE;
            out[n++] = MF_ICMPV6_CODE;
            if (ip6) {
                out[n++] = MF_ND_TARGET;
                out[n++] = MF_ND_SLL;
                out[n++] = MF_ND_TLL;
            }
            break;
        }
    }
    out[n++] = MF_TUN_ID;
    out[n++] = MF_TUN_IPV4_SRC;
    out[n++] = MF_TUN_IPV4_DST;
    out[n++] = MF_PKT_MARK;
    for (int i = 0; i < OFP_N_REGS; i++) {
        out[n++] = MF_REG0 + i;
    }
    return n;
}

static size_t
encode_tlvs(struct ofp_buf *b, const struct ofp_match *m, bool nxm)
{
    enum mf_id ids[MF_N_FIELDS + 8];
    size_t n = fields_to_encode(m, nxm, ids);
    size_t start = b->len;
    struct ofp_fields ones;

    memset(&ones, 0xff, sizeof ones);
    for (size_t i = 0; i < n; i++) {
        const struct mf *d = &mfs[ids[i]];
        uint8_t val[16], mask[16], full[16];
        size_t len = mf_get(ids[i], &m->m, mask);
        mf_get(ids[i], &ones, full);
        mf_get(ids[i], &m->v, val);
        static const uint8_t zero[16];
        if (!memcmp(mask, zero, len)) {
            continue;
        }
        bool exact = !memcmp(mask, full, len);
        uint16_t cls = nxm ? d->nxm_class : d->oxm_class;
        uint8_t field = nxm ? d->nxm_field : d->oxm_field;
        if (cls == NONE) {
            continue;
        }
        if (nxm && ids[i] == MF_IN_PORT) {
            ofp_buf_be32(b, OXM_HEADER(cls, field, 0, 2));
            ofp_buf_be16(b, ofp_port_to_16(m->v.key.in_port));
            continue;
        }
        if (exact || !d->maskable) {
            ofp_buf_be32(b, OXM_HEADER(cls, field, 0, len));
            ofp_buf_bytes(b, val, len);
        } else {
            ofp_buf_be32(b, OXM_HEADER(cls, field, 1, len * 2));
            ofp_buf_bytes(b, val, len);
            ofp_buf_bytes(b, mask, len);
        }
    }
    return b->len - start;
}

#define OFPMT_OXM 1

ofperr
ofp_match_decode_oxm(struct ofp_rd *r, struct ofp_match *m)
{
    uint16_t type = ofp_rd_be16(r);
    uint16_t len = ofp_rd_be16(r);

    if (r->bad) {
        return OFPERR_BAD_MATCH_LEN;
    }
    if (type != OFPMT_OXM) {
        return OFPERR_BAD_MATCH_TYPE;
    }
    if (len < 4) {
        return OFPERR_BAD_MATCH_LEN;
    }
    const uint8_t *p = ofp_rd_pull(r, len - 4u);
    size_t pad = (8 - len % 8) % 8;
    if (!p || !ofp_rd_pull(r, pad)) {
        return OFPERR_BAD_MATCH_LEN;
    }
    return decode_tlvs(p, len - 4u, false, m, NULL, NULL);
}

void
ofp_match_encode_oxm(struct ofp_buf *b, const struct ofp_match *m)
{
    size_t start = b->len;
    ofp_buf_be16(b, OFPMT_OXM);
    ofp_buf_be16(b, 0);
    size_t n = encode_tlvs(b, m, false);
    ofp_buf_set_be16(b, start + 2, 4 + n);
    ofp_buf_pad8(b, start);
}

ofperr
ofp_match_decode_nxm(const uint8_t *p, size_t len, struct ofp_match *m,
                     uint64_t *cookie, uint64_t *cookie_mask)
{
    return decode_tlvs(p, len, true, m, cookie, cookie_mask);
}

size_t
ofp_match_encode_nxm(struct ofp_buf *b, const struct ofp_match *m)
{
    return encode_tlvs(b, m, true);
}
