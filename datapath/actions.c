/* Datapath actions: validation at install time, execution per packet.
 *
 * Validation follows the kernel's __ovs_nla_copy_actions(): the same
 * lengths, the same protocol prerequisites (checked against the masked
 * key of the flow while simulating how earlier actions change the
 * ethertype, VLAN and MPLS state), the same errnos.  Actions the kernel
 * knows but hvs does not implement (conntrack, NSH, psample) are refused
 * with -EOPNOTSUPP; types unknown to the kernel with -EINVAL.  A meter
 * action is accepted whether or not its meter exists (the ovs_meter
 * family, meter.c) and drops what the meter's band drops.
 *
 * Execution trusts validated actions but not the packet: every header is
 * located afresh and bounds-checked before it is written, so a packet
 * that does not look like what the flow matched is left alone rather than
 * corrupted.  Writes go through dp_packet_make_writable() because payloads
 * are shared between clones.
 */
#include "actions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csum.h"
#include "flow.h"
#include "hash.h"
#include "packet.h"

/* Action types newer than some system headers (Linux 6.4 and 6.11). */
#define ACT_DROP 24
#define ACT_PSAMPLE 25
#define ACT_LAST ACT_PSAMPLE
#define HASH_ALG_SYM_L4 1

/* Limits of the kernel: nesting of sample/clone/check_pkt_len/dec_ttl,
 * odp port numbers, size of an action list. */
#define MAX_DEPTH 16
#define MAX_PORTS 65536
#define MAX_ACTIONS_BYTES 32768

#define VLAN_CFI 0x1000
#define IP4_OFFSET 0x1fff
#define ETH_ADDR_LEN 6

/* ---------------------------------------------------------------------
 * Netlink attribute walking, bounds-checked like the kernel's nla_ok().
 * Attributes may be unaligned in the caller's buffer: read with memcpy.
 */

struct attr {
    uint16_t type;
    const uint8_t *data;
    size_t len;
    bool last;                  /* nothing valid follows it */
};

struct attr_iter {
    const uint8_t *pos;
    size_t rem;
};

static bool
attr_next(struct attr_iter *it, struct attr *a)
{
    struct nlattr h;
    size_t step;

    if (it->rem < NLA_HDRLEN) {
        return false;
    }
    memcpy(&h, it->pos, sizeof h);
    if (h.nla_len < NLA_HDRLEN || h.nla_len > it->rem) {
        return false;
    }
    a->type = h.nla_type & NLA_TYPE_MASK;
    a->data = it->pos + NLA_HDRLEN;
    a->len = h.nla_len - NLA_HDRLEN;
    step = NLA_ALIGN(h.nla_len);
    if (step >= it->rem) {
        it->rem = 0;
    } else {
        it->pos += step;
        it->rem -= step;
    }
    a->last = it->rem == 0;
    return true;
}

static uint16_t
rd16(const uint8_t *p)
{
    uint16_t v;

    memcpy(&v, p, 2);
    return v;
}

static uint32_t
rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static void
wr16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void
wr32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static bool
eth_p_mpls(uint16_t be_type)
{
    return be_type == htons(ETH_P_MPLS_UC) || be_type == htons(ETH_P_MPLS_MC);
}

static bool
eth_p_vlan(uint16_t be_type)
{
    return be_type == htons(ETH_P_8021Q) || be_type == htons(ETH_P_8021AD);
}

/* ---------------------------------------------------------------------
 * Set(tunnel): parsed at validation and again at execution, since the
 * action is kept in its wire form.
 */

static int
tun_fail(const char **reason, const char *why)
{
    *reason = why;
    return -EINVAL;
}

static int
check_geneve_opts(const uint8_t *o, size_t len)
{
    while (len) {
        size_t n;

        if (len < 4) {
            return -EINVAL;
        }
        n = 4 + (size_t) (o[3] & 0x1f) * 4;
        if (n > len) {
            return -EINVAL;
        }
        o += n;
        len -= n;
    }
    return 0;
}

static int
parse_vxlan_opts(const struct attr *a, struct flow_tnl *t)
{
    struct attr_iter it = { a->data, a->len };
    struct attr o;

    while (attr_next(&it, &o)) {
        if (o.type == OVS_VXLAN_EXT_GBP) {
            if (o.len < 4) {
                return -ERANGE;
            }
            t->vxlan_gbp = rd32(o.data);
        }
    }
    t->flags |= FLOW_TNL_F_VXLAN_OPT;
    return 0;
}

/* Parses the OVS_TUNNEL_KEY_ATTR_* of a set(tunnel()) into 't' (and its
 * Geneve options into 'opts', FLOW_TNL_OPTS_MAX bytes, unless NULL) with
 * the kernel's rules for a tunnel to send on (a destination and a TTL). */
static int
parse_set_tunnel(const uint8_t *data, size_t len, struct flow_tnl *t,
                 uint8_t *opts, const char **reason)
{
    static const int lens[OVS_TUNNEL_KEY_ATTR_MAX + 1] = {
        [OVS_TUNNEL_KEY_ATTR_ID] = 8,
        [OVS_TUNNEL_KEY_ATTR_IPV4_SRC] = 4,
        [OVS_TUNNEL_KEY_ATTR_IPV4_DST] = 4,
        [OVS_TUNNEL_KEY_ATTR_TOS] = 1,
        [OVS_TUNNEL_KEY_ATTR_TTL] = 1,
        [OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS] = -1,
        [OVS_TUNNEL_KEY_ATTR_TP_SRC] = 2,
        [OVS_TUNNEL_KEY_ATTR_TP_DST] = 2,
        [OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS] = -1,
        [OVS_TUNNEL_KEY_ATTR_IPV6_SRC] = 16,
        [OVS_TUNNEL_KEY_ATTR_IPV6_DST] = 16,
        [OVS_TUNNEL_KEY_ATTR_PAD] = -1,
        [OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS] = -1,
    };
    struct attr_iter it = { data, len };
    bool v4 = false, v6 = false, ttl = false, bridge = false;
    bool geneve = false;
    struct attr a;
    int err;

    memset(t, 0, sizeof *t);
    while (attr_next(&it, &a)) {
        if (a.type > OVS_TUNNEL_KEY_ATTR_MAX) {
            return tun_fail(reason, "unknown tunnel attribute");
        }
        if (lens[a.type] >= 0 && (size_t) lens[a.type] != a.len) {
            return tun_fail(reason, "bad tunnel attribute length");
        }
        switch (a.type) {
        case OVS_TUNNEL_KEY_ATTR_ID:
            memcpy(&t->tun_id, a.data, 8);
            t->flags |= FLOW_TNL_F_KEY;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
            t->ipv4_src = rd32(a.data);
            v4 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
            t->ipv4_dst = rd32(a.data);
            v4 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
            memcpy(&t->ipv6_src, a.data, 16);
            v6 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
            memcpy(&t->ipv6_dst, a.data, 16);
            v6 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_TOS:
            t->tos = a.data[0];
            break;
        case OVS_TUNNEL_KEY_ATTR_TTL:
            t->ttl = a.data[0];
            ttl = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
            t->flags |= FLOW_TNL_F_DONT_FRAGMENT;
            break;
        case OVS_TUNNEL_KEY_ATTR_CSUM:
            t->flags |= FLOW_TNL_F_CSUM;
            break;
        case OVS_TUNNEL_KEY_ATTR_OAM:
            t->flags |= FLOW_TNL_F_OAM;
            break;
        case OVS_TUNNEL_KEY_ATTR_TP_SRC:
            t->tp_src = rd16(a.data);
            break;
        case OVS_TUNNEL_KEY_ATTR_TP_DST:
            t->tp_dst = rd16(a.data);
            break;
        case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS:
            if (t->flags & FLOW_TNL_F_VXLAN_OPT) {
                return tun_fail(reason, "multiple tunnel option blocks");
            }
            if (a.len > 255 || a.len % 4
                || check_geneve_opts(a.data, a.len)) {
                return tun_fail(reason, "malformed Geneve options");
            }
            geneve = a.len > 0;
            if (geneve) {
                t->flags |= FLOW_TNL_F_GENEVE_OPT;
                t->opts_len = (uint8_t) a.len;
                if (opts) {
                    memcpy(opts, a.data, a.len);
                }
            }
            break;
        case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS:
            if (geneve) {
                return tun_fail(reason, "multiple tunnel option blocks");
            }
            err = parse_vxlan_opts(&a, t);
            if (err) {
                *reason = "malformed VXLAN options";
                return err;
            }
            break;
        case OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS:
            *reason = "ERSPAN tunnels are not supported";
            return -EOPNOTSUPP;
        case OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE:
            bridge = v4 = true;
            break;
        default:
            break;              /* PAD */
        }
    }
    if (it.rem) {
        return tun_fail(reason, "trailing bytes in tunnel attributes");
    }
    if (v4 && v6) {
        return tun_fail(reason, "mixed IPv4 and IPv6 tunnel attributes");
    }
    if (!v4 && !v6) {
        return tun_fail(reason, "tunnel destination not specified");
    }
    if (bridge && (t->ipv4_src || t->ipv4_dst || t->tp_src || t->tp_dst
                   || t->ttl || t->tos || (t->flags & ~FLOW_TNL_F_KEY))) {
        return tun_fail(reason, "bad bridge-mode tunnel info");
    }
    if (v4 && !bridge && !t->ipv4_dst) {
        return tun_fail(reason, "IPv4 tunnel destination is zero");
    }
    if (v6 && IN6_IS_ADDR_UNSPECIFIED(&t->ipv6_dst)) {
        return tun_fail(reason, "IPv6 tunnel destination is zero");
    }
    if (!ttl && !bridge) {
        return tun_fail(reason, "tunnel TTL not specified");
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Validation.
 */

/* What earlier actions in the list have made of the packet, as far as
 * later actions' prerequisites are concerned (all be16). */
struct vstate {
    uint16_t eth_type;
    uint16_t vlan_tci;
    uint32_t mpls_labels;
    bool eth;                   /* has an Ethernet header */
};

struct vctx {
    const struct flow_key *key; /* masked key of the flow */
    const char **reason;
};

static int
vfail(const struct vctx *c, int err, const char *why)
{
    *c->reason = why;
    return err;
}

static int validate_list(const struct vctx *c, const uint8_t *data,
                         size_t len, struct vstate st, unsigned depth);

static size_t
set_key_len(uint16_t type)
{
    switch (type) {
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_CT_MARK:
        return 4;
    case OVS_KEY_ATTR_CT_LABELS:
        return 16;
    case OVS_KEY_ATTR_ETHERNET:
        return sizeof(struct ovs_key_ethernet);
    case OVS_KEY_ATTR_IPV4:
        return sizeof(struct ovs_key_ipv4);
    case OVS_KEY_ATTR_IPV6:
        return sizeof(struct ovs_key_ipv6);
    case OVS_KEY_ATTR_TCP:
        return sizeof(struct ovs_key_tcp);
    case OVS_KEY_ATTR_UDP:
        return sizeof(struct ovs_key_udp);
    case OVS_KEY_ATTR_SCTP:
        return sizeof(struct ovs_key_sctp);
    default:
        return 0;               /* variable, nested or not settable */
    }
}

static bool
is_ip(uint16_t be_type)
{
    return be_type == htons(ETH_P_IP) || be_type == htons(ETH_P_IPV6);
}

static int
validate_set_ip(const struct vctx *c, const struct vstate *st,
                uint16_t type, const uint8_t *k, bool masked)
{
    const struct flow_key *fk = c->key;

    if (type == OVS_KEY_ATTR_IPV4) {
        struct ovs_key_ipv4 v, m;

        memcpy(&v, k, sizeof v);
        if (masked) {
            memcpy(&m, k + sizeof v, sizeof m);
        }
        if (st->eth_type != htons(ETH_P_IP)) {
            return vfail(c, -EINVAL, "set(ipv4) needs eth_type 0x0800");
        }
        if (masked ? m.ipv4_proto || m.ipv4_frag
            : v.ipv4_proto != fk->ip_proto || v.ipv4_frag != fk->ip_frag) {
            return vfail(c, -EINVAL, "set(ipv4) may not change proto/frag");
        }
        return 0;
    }
    struct ovs_key_ipv6 v, m;

    memcpy(&v, k, sizeof v);
    if (masked) {
        memcpy(&m, k + sizeof v, sizeof m);
    }
    if (st->eth_type != htons(ETH_P_IPV6)) {
        return vfail(c, -EINVAL, "set(ipv6) needs eth_type 0x86dd");
    }
    if (masked ? m.ipv6_proto || m.ipv6_frag
        : v.ipv6_proto != fk->ip_proto || v.ipv6_frag != fk->ip_frag) {
        return vfail(c, -EINVAL, "set(ipv6) may not change proto/frag");
    }
    if ((masked && (ntohl(m.ipv6_label) & 0xfff00000))
        || (ntohl(v.ipv6_label) & 0xfff00000)) {
        return vfail(c, -EINVAL, "set(ipv6) label wider than 20 bits");
    }
    return 0;
}

static int
validate_set(const struct vctx *c, const struct vstate *st,
             const struct attr *a, bool masked)
{
    struct attr_iter it = { a->data, a->len };
    struct attr k;
    size_t klen, want;
    struct flow_tnl tnl;
    int err;

    /* Exactly one key attribute, filling the action. */
    if (!attr_next(&it, &k) || NLA_ALIGN(k.len + NLA_HDRLEN) != a->len) {
        return vfail(c, -EINVAL, "set() must hold exactly one key");
    }
    klen = masked ? k.len / 2 : k.len;
    if (k.type > OVS_KEY_ATTR_MAX) {
        return vfail(c, -EINVAL, "set() of an unknown key");
    }
    want = set_key_len(k.type);
    if (want && (klen != want || (masked && k.len != 2 * want))) {
        return vfail(c, -EINVAL, "set() key has a bad length");
    }
    if (masked) {
        for (size_t i = 0; i < klen; i++) {
            if (k.data[i] & ~k.data[klen + i]) {
                return vfail(c, -EINVAL,
                             "set_masked() value has bits outside mask");
            }
        }
    }

    switch (k.type) {
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
        return 0;
    case OVS_KEY_ATTR_CT_MARK:
    case OVS_KEY_ATTR_CT_LABELS:
        return vfail(c, -EOPNOTSUPP, "conntrack is not supported");
    case OVS_KEY_ATTR_ETHERNET:
        if (!st->eth) {
            return vfail(c, -EINVAL, "set(eth) without an Ethernet header");
        }
        return 0;
    case OVS_KEY_ATTR_TUNNEL:
        if (masked) {
            return vfail(c, -EINVAL, "masked set(tunnel) is not allowed");
        }
        err = parse_set_tunnel(k.data, k.len, &tnl, NULL, c->reason);
        return err;
    case OVS_KEY_ATTR_IPV4:
    case OVS_KEY_ATTR_IPV6:
        return validate_set_ip(c, st, k.type, k.data, masked);
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP: {
        uint8_t proto = k.type == OVS_KEY_ATTR_TCP ? IPPROTO_TCP
                        : k.type == OVS_KEY_ATTR_UDP ? IPPROTO_UDP
                        : IPPROTO_SCTP;

        if (!is_ip(st->eth_type) || c->key->ip_proto != proto) {
            return vfail(c, -EINVAL,
                         "set() of L4 ports needs its ip_proto matched");
        }
        return 0;
    }
    case OVS_KEY_ATTR_MPLS:
        if (!eth_p_mpls(st->eth_type)) {
            return vfail(c, -EINVAL, "set(mpls) on a non-MPLS packet");
        }
        /* The kernel takes any length and uses the first entry; a
         * shorter one would be read past its end, so insist on one. */
        if (klen < 4 || klen % 4 || (masked && k.len != 2 * klen)) {
            return vfail(c, -EINVAL, "set(mpls) has a bad length");
        }
        return 0;
    default:
        return vfail(c, -EINVAL, "set() of a key that cannot be set");
    }
}

static int
validate_userspace(const struct vctx *c, const struct attr *a)
{
    struct attr_iter it = { a->data, a->len };
    bool have_pid = false;
    uint32_t pid = 0;
    struct attr u;

    /* Like the kernel's lenient parse: unknown types are ignored. */
    while (attr_next(&it, &u)) {
        if (u.type == OVS_USERSPACE_ATTR_PID
            || u.type == OVS_USERSPACE_ATTR_EGRESS_TUN_PORT) {
            if (u.len < 4) {
                return vfail(c, -ERANGE, "userspace() u32 too short");
            }
            if (u.type == OVS_USERSPACE_ATTR_PID) {
                memcpy(&pid, u.data, 4);
                have_pid = true;
            }
        }
    }
    if (!have_pid || !pid) {
        return vfail(c, -EINVAL, "userspace() needs a non-zero pid");
    }
    return 0;
}

static int
validate_nested(const struct vctx *c, const struct attr *a,
                const struct vstate *st, unsigned depth)
{
    if (a->len && a->len < NLA_HDRLEN) {
        return vfail(c, -EINVAL, "nested action list too short");
    }
    return validate_list(c, a->data, a->len, *st, depth + 1);
}

static int
validate_sample(const struct vctx *c, const struct attr *a,
                const struct vstate *st, unsigned depth)
{
    struct attr_iter it = { a->data, a->len };
    struct attr attrs[OVS_SAMPLE_ATTR_MAX + 1];
    bool seen[OVS_SAMPLE_ATTR_MAX + 1] = { false };
    struct attr s;

    while (attr_next(&it, &s)) {
        if (!s.type || s.type > OVS_SAMPLE_ATTR_MAX || seen[s.type]) {
            return vfail(c, -EINVAL, "sample() has a bad attribute");
        }
        seen[s.type] = true;
        attrs[s.type] = s;
    }
    if (it.rem) {
        return vfail(c, -EINVAL, "sample() has trailing bytes");
    }
    if (!seen[OVS_SAMPLE_ATTR_PROBABILITY]
        || attrs[OVS_SAMPLE_ATTR_PROBABILITY].len != 4) {
        return vfail(c, -EINVAL, "sample() needs a u32 probability");
    }
    if (!seen[OVS_SAMPLE_ATTR_ACTIONS]) {
        return vfail(c, -EINVAL, "sample() needs actions");
    }
    return validate_nested(c, &attrs[OVS_SAMPLE_ATTR_ACTIONS], st, depth);
}

#define CPL_LE OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL
#define CPL_GT OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER

static int
validate_check_pkt_len(const struct vctx *c, const struct attr *a,
                       const struct vstate *st, unsigned depth)
{
    struct attr_iter it = { a->data, a->len };
    struct attr attrs[OVS_CHECK_PKT_LEN_ATTR_MAX + 1];
    bool seen[OVS_CHECK_PKT_LEN_ATTR_MAX + 1] = { false };
    struct attr s;
    int err;

    /* A strict parse, as in the kernel. */
    while (attr_next(&it, &s)) {
        if (!s.type || s.type > OVS_CHECK_PKT_LEN_ATTR_MAX) {
            return vfail(c, -EINVAL, "check_pkt_len() unknown attribute");
        }
        if (s.type == OVS_CHECK_PKT_LEN_ATTR_PKT_LEN && s.len != 2) {
            return vfail(c, -EINVAL, "check_pkt_len() length is not u16");
        }
        if (s.type != OVS_CHECK_PKT_LEN_ATTR_PKT_LEN
            && s.len && s.len < NLA_HDRLEN) {
            return vfail(c, -ERANGE, "check_pkt_len() list too short");
        }
        seen[s.type] = true;
        attrs[s.type] = s;
    }
    if (it.rem) {
        return vfail(c, -EINVAL, "check_pkt_len() has trailing bytes");
    }
    if (!seen[OVS_CHECK_PKT_LEN_ATTR_PKT_LEN]
        || !rd16(attrs[OVS_CHECK_PKT_LEN_ATTR_PKT_LEN].data)) {
        return vfail(c, -EINVAL, "check_pkt_len() needs a non-zero length");
    }
    if (!seen[CPL_GT] || !seen[CPL_LE]) {
        return vfail(c, -EINVAL, "check_pkt_len() needs both lists");
    }
    err = validate_nested(c, &attrs[CPL_LE], st, depth);
    if (err) {
        return err;
    }
    return validate_nested(c, &attrs[CPL_GT], st, depth);
}

static int
validate_dec_ttl(const struct vctx *c, const struct attr *a,
                 const struct vstate *st, unsigned depth)
{
    struct attr_iter it = { a->data, a->len };
    struct attr s, acts;
    bool seen = false;

    while (attr_next(&it, &s)) {
        if (s.type > OVS_DEC_TTL_ATTR_MAX) {
            continue;           /* ignored, for future extensions */
        }
        if (!s.type || seen) {
            return vfail(c, -EINVAL, "dec_ttl() has a bad attribute");
        }
        seen = true;
        acts = s;
    }
    if (it.rem) {
        return vfail(c, -EINVAL, "dec_ttl() has trailing bytes");
    }
    if (!seen) {
        return vfail(c, -EINVAL, "dec_ttl() needs an action list");
    }
    return validate_nested(c, &acts, st, depth);
}

static bool
mpls_push_allowed(const struct vstate *st)
{
    uint16_t t = st->eth_type;

    return !(st->vlan_tci & htons(VLAN_CFI))
           && (t == htons(ETH_P_IP) || t == htons(ETH_P_IPV6)
               || t == htons(ETH_P_ARP) || t == htons(ETH_P_RARP)
               || eth_p_mpls(t));
}

/* NSH next-protocol numbers and the EtherTypes they stand for (be16);
 * 0 when there is none. */
#define NSH_NP_ETHERNET 3

static uint8_t
nsh_np_from_eth(uint16_t be_type)
{
    switch (ntohs(be_type)) {
    case ETH_P_IP:
        return 1;
    case ETH_P_IPV6:
        return 2;
    case ETH_P_TEB:
        return NSH_NP_ETHERNET;
    case ETH_P_NSH:
        return 4;
    case ETH_P_MPLS_UC:
        return 5;
    default:
        return 0;
    }
}

static uint16_t
nsh_np_to_eth(uint8_t np)
{
    static const uint16_t types[] = {
        [1] = ETH_P_IP, [2] = ETH_P_IPV6, [3] = ETH_P_TEB,
        [4] = ETH_P_NSH, [5] = ETH_P_MPLS_UC,
    };

    return np < sizeof types / sizeof types[0] ? htons(types[np]) : 0;
}

/* push_nsh's argument: one OVS_KEY_ATTR_NSH attribute that fills it, or
 * NULL. */
static const struct nlattr *
push_nsh_key(const struct attr *a)
{
    const struct nlattr *k = (const void *) a->data;

    if (a->len < NLA_HDRLEN || k->nla_len < NLA_HDRLEN
        || k->nla_len > a->len
        || (k->nla_type & NLA_TYPE_MASK) != OVS_KEY_ATTR_NSH) {
        return NULL;
    }
    return k;
}

/* The argument length of each action type, -1 when variable. */
static const int action_lens[ACT_LAST + 1] = {
    [OVS_ACTION_ATTR_OUTPUT] = 4,
    [OVS_ACTION_ATTR_USERSPACE] = -1,
    [OVS_ACTION_ATTR_SET] = -1,
    [OVS_ACTION_ATTR_PUSH_VLAN] = sizeof(struct ovs_action_push_vlan),
    [OVS_ACTION_ATTR_POP_VLAN] = 0,
    [OVS_ACTION_ATTR_SAMPLE] = -1,
    [OVS_ACTION_ATTR_RECIRC] = 4,
    [OVS_ACTION_ATTR_HASH] = sizeof(struct ovs_action_hash),
    [OVS_ACTION_ATTR_PUSH_MPLS] = sizeof(struct ovs_action_push_mpls),
    [OVS_ACTION_ATTR_POP_MPLS] = 2,
    [OVS_ACTION_ATTR_SET_MASKED] = -1,
    [OVS_ACTION_ATTR_CT] = -1,
    [OVS_ACTION_ATTR_TRUNC] = sizeof(struct ovs_action_trunc),
    [OVS_ACTION_ATTR_PUSH_ETH] = sizeof(struct ovs_action_push_eth),
    [OVS_ACTION_ATTR_POP_ETH] = 0,
    [OVS_ACTION_ATTR_CT_CLEAR] = 0,
    [OVS_ACTION_ATTR_PUSH_NSH] = -1,
    [OVS_ACTION_ATTR_POP_NSH] = 0,
    [OVS_ACTION_ATTR_METER] = 4,
    [OVS_ACTION_ATTR_CLONE] = -1,
    [OVS_ACTION_ATTR_CHECK_PKT_LEN] = -1,
    [OVS_ACTION_ATTR_ADD_MPLS] = sizeof(struct ovs_action_add_mpls),
    [OVS_ACTION_ATTR_DEC_TTL] = -1,
    [ACT_DROP] = 4,
    [ACT_PSAMPLE] = -1,
};

/* Actions whose state changes (eth_type, VLAN, MPLS, L2) later actions'
 * prerequisites depend on. */
static int
validate_l2(const struct vctx *c, const struct attr *a, struct vstate *st)
{
    switch (a->type) {
    case OVS_ACTION_ATTR_POP_VLAN:
        if (!st->eth) {
            return vfail(c, -EINVAL, "pop_vlan without Ethernet");
        }
        st->vlan_tci = 0;
        return 0;
    case OVS_ACTION_ATTR_PUSH_VLAN: {
        struct ovs_action_push_vlan v;

        memcpy(&v, a->data, sizeof v);
        if (!st->eth) {
            return vfail(c, -EINVAL, "push_vlan without Ethernet");
        }
        if (!eth_p_vlan(v.vlan_tpid)) {
            return vfail(c, -EINVAL, "push_vlan TPID not 0x8100/0x88a8");
        }
        if (!(v.vlan_tci & htons(VLAN_CFI))) {
            return vfail(c, -EINVAL, "push_vlan TCI lacks the CFI bit");
        }
        st->vlan_tci = v.vlan_tci;
        return 0;
    }
    case OVS_ACTION_ATTR_PUSH_MPLS: {
        struct ovs_action_push_mpls m;

        memcpy(&m, a->data, sizeof m);
        if (!eth_p_mpls(m.mpls_ethertype)) {
            return vfail(c, -EINVAL, "push_mpls ethertype is not MPLS");
        }
        if (!mpls_push_allowed(st)) {
            return vfail(c, -EINVAL, "push_mpls on this packet type");
        }
        st->eth_type = m.mpls_ethertype;
        st->mpls_labels++;
        return 0;
    }
    case OVS_ACTION_ATTR_ADD_MPLS: {
        struct ovs_action_add_mpls m;

        memcpy(&m, a->data, sizeof m);
        if (!eth_p_mpls(m.mpls_ethertype)) {
            return vfail(c, -EINVAL, "add_mpls ethertype is not MPLS");
        }
        if (m.tun_flags & OVS_MPLS_L3_TUNNEL_FLAG_MASK) {
            if (!mpls_push_allowed(st)) {
                return vfail(c, -EINVAL, "add_mpls on this packet type");
            }
            st->mpls_labels++;
        } else if (st->eth) {
            st->mpls_labels = 1;
            st->eth = false;
        } else {
            st->mpls_labels++;
        }
        st->eth_type = m.mpls_ethertype;
        return 0;
    }
    case OVS_ACTION_ATTR_POP_MPLS: {
        uint16_t proto = rd16(a->data);

        if ((st->vlan_tci & htons(VLAN_CFI)) || !eth_p_mpls(st->eth_type)) {
            return vfail(c, -EINVAL, "pop_mpls on a non-MPLS packet");
        }
        if (proto == htons(ETH_P_TEB) && st->eth) {
            return vfail(c, -EINVAL, "pop_mpls to Ethernet needs L3 packet");
        }
        if (st->mpls_labels) {
            st->mpls_labels--;
        }

        /* Once the last label is gone nothing is known about what
         * follows, so later L3 sets are refused (as in the kernel). */
        st->eth_type = eth_p_mpls(proto) && st->mpls_labels ? proto : 0;
        return 0;
    }
    case OVS_ACTION_ATTR_PUSH_ETH:
        if (st->eth) {
            return vfail(c, -EINVAL, "push_eth on an Ethernet packet");
        }
        st->eth = true;
        return 0;
    case OVS_ACTION_ATTR_POP_ETH:
        if (!st->eth || (st->vlan_tci & htons(VLAN_CFI))) {
            return vfail(c, -EINVAL, "pop_eth needs an untagged frame");
        }
        st->eth = false;
        return 0;
    case OVS_ACTION_ATTR_PUSH_NSH: {
        struct flow_nsh nsh;

        /* As in the kernel, the EtherType the flow tracks stays what it
         * was: only whether there is an Ethernet header changes. */
        if (!st->eth && !nsh_np_from_eth(st->eth_type)) {
            return vfail(c, -EINVAL, "push_nsh on this packet type");
        }
        if (!push_nsh_key(a)) {
            return vfail(c, -EINVAL, "push_nsh needs one nsh() key");
        }
        if (fnl_parse_nsh(push_nsh_key(a), false, true, &nsh, NULL, NULL,
                          c->reason)) {
            return -EINVAL;
        }
        st->eth = false;
        return 0;
    }
    case OVS_ACTION_ATTR_POP_NSH:
        if (st->eth_type != htons(ETH_P_NSH)
            || !nsh_np_to_eth(c->key->nsh.np)) {
            return vfail(c, -EINVAL,
                         "pop_nsh needs an NSH flow with a known next "
                         "protocol");
        }
        st->eth = c->key->nsh.np == NSH_NP_ETHERNET;
        return 0;
    default:
        return 0;
    }
}

static int
validate_one(const struct vctx *c, const struct attr *a, struct vstate *st,
             unsigned depth)
{
    switch (a->type) {
    case OVS_ACTION_ATTR_UNSPEC:
        return vfail(c, -EINVAL, "action type 0");
    case OVS_ACTION_ATTR_OUTPUT:
        if (rd32(a->data) >= MAX_PORTS) {
            return vfail(c, -EINVAL, "output port out of range");
        }
        return 0;
    case OVS_ACTION_ATTR_USERSPACE:
        return validate_userspace(c, a);
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
        return validate_set(c, st, a,
                            a->type == OVS_ACTION_ATTR_SET_MASKED);
    case OVS_ACTION_ATTR_SAMPLE:
        return validate_sample(c, a, st, depth);
    case OVS_ACTION_ATTR_CLONE:
        return validate_nested(c, a, st, depth);
    case OVS_ACTION_ATTR_CHECK_PKT_LEN:
        return validate_check_pkt_len(c, a, st, depth);
    case OVS_ACTION_ATTR_DEC_TTL:
        return validate_dec_ttl(c, a, st, depth);
    case OVS_ACTION_ATTR_RECIRC:
        return 0;
    case OVS_ACTION_ATTR_HASH: {
        struct ovs_action_hash h;

        memcpy(&h, a->data, sizeof h);
        if (h.hash_alg != OVS_HASH_ALG_L4 && h.hash_alg != HASH_ALG_SYM_L4) {
            return vfail(c, -EINVAL, "hash() algorithm unknown");
        }
        return 0;
    }
    case OVS_ACTION_ATTR_TRUNC:
        if (rd32(a->data) < ETH_HLEN) {
            return vfail(c, -EINVAL, "trunc() below an Ethernet header");
        }
        return 0;
    case ACT_DROP:
        if (!a->last) {
            return vfail(c, -EINVAL, "drop must be the last action");
        }
        return 0;
    case OVS_ACTION_ATTR_CT_CLEAR:
        /* The kernel accepts ct_clear even without conntrack; with no
         * connection state to drop it does nothing (hvs has none), and
         * vswitchd warns at startup if the probe for it fails. */
        return 0;
    case OVS_ACTION_ATTR_CT:
        return vfail(c, -EOPNOTSUPP, "conntrack is not supported");
    case OVS_ACTION_ATTR_METER:
        /* The meter need not exist: a missing one passes everything. */
        return 0;
    case ACT_PSAMPLE:
        return vfail(c, -EOPNOTSUPP, "psample is not supported");
    default:
        return validate_l2(c, a, st);
    }
}

static int
validate_list(const struct vctx *c, const uint8_t *data, size_t len,
              struct vstate st, unsigned depth)
{
    struct attr_iter it = { data, len };
    struct attr a;

    if (depth > MAX_DEPTH) {
        return vfail(c, -EOVERFLOW, "actions nested too deeply");
    }
    while (attr_next(&it, &a)) {
        int err;

        if (a.type > ACT_LAST) {
            return vfail(c, -EINVAL, "unknown action type");
        }
        if (action_lens[a.type] >= 0
            && (size_t) action_lens[a.type] != a.len) {
            return vfail(c, -EINVAL, "action has a bad length");
        }
        err = validate_one(c, &a, &st, depth);
        if (err) {
            return err;
        }
    }
    if (it.rem) {
        return vfail(c, -EINVAL, "malformed action attribute");
    }
    return 0;
}

static uint32_t
count_mpls_labels(const struct flow_match *m)
{
    uint32_t n = 0;

    if (!eth_p_mpls(m->key.eth_type)) {
        return 0;
    }
    for (int i = 0; i < FLOW_MAX_MPLS_LABELS; i++) {
        if (m->mask.mpls_lse[i] || m->key.mpls_lse[i]) {
            n++;
        }
    }
    return n ? n : 1;
}

int
act_validate(const struct nlattr *actions, const struct flow_match *m,
             struct dp_actions **out, const char **reason)
{
    const char *dummy;
    struct vctx c = { &m->key, reason ? reason : &dummy };
    struct vstate st = {
        .eth_type = m->key.eth_type,
        .vlan_tci = m->key.vlan_tci,
        .mpls_labels = count_mpls_labels(m),
        .eth = !m->key.no_eth,
    };
    struct dp_actions *acts;
    size_t len;
    int err;

    *out = NULL;
    if (!actions || actions->nla_len < NLA_HDRLEN) {
        return vfail(&c, -EINVAL, "missing actions");
    }
    len = actions->nla_len - NLA_HDRLEN;
    if (len > MAX_ACTIONS_BYTES) {
        return vfail(&c, -EMSGSIZE, "action list too long");
    }
    err = validate_list(&c, (const uint8_t *) actions + NLA_HDRLEN, len, st,
                        0);
    if (err) {
        return err;
    }
    acts = malloc(sizeof *acts + len);
    if (!acts) {
        return vfail(&c, -ENOMEM, "out of memory");
    }
    acts->len = len;
    acts->pad = 0;
    memcpy(acts->attrs, (const uint8_t *) actions + NLA_HDRLEN, len);
    *out = acts;
    return 0;
}

/* ---------------------------------------------------------------------
 * Execution.
 */

/* The packet's state as actions transform it.  'key' is stale after
 * actions that change the header layout (push/pop of tags and labels)
 * until it is extracted again. */
struct xstate {
    struct flow_key *key;
    bool stale;
    bool no_eth;                /* after pop_eth / add_mpls at the front */
    uint16_t l3_type;           /* be16 ethertype of an L3-only packet */
};

struct xctx {
    const struct act_ops *ops;
    void *aux;
};

/* Runtime bound on nesting, in case a caller skipped validation. */
#define MAX_EXEC_DEPTH (MAX_DEPTH + 4)

static void exec_list(const struct xctx *x, struct dp_packet *p,
                      struct xstate *st, const uint8_t *acts, size_t len,
                      unsigned depth);

/* Finds the network header: returns its offset and stores the be16
 * ethertype and the offset of the ethertype field (or SIZE_MAX). */
static size_t
find_l3(const struct dp_packet *p, const struct xstate *st,
        uint16_t *type, size_t *type_ofs)
{
    const uint8_t *d = dp_packet_data(p);
    size_t ofs = 12;

    if (st->no_eth) {
        *type = st->l3_type;
        *type_ofs = SIZE_MAX;
        return 0;
    }
    if (p->len < ETH_HLEN) {
        *type = 0;
        *type_ofs = SIZE_MAX;
        return p->len;
    }
    *type = rd16(d + ofs);
    for (int i = 0; i < 4 && eth_p_vlan(*type) && ofs + 6 <= p->len; i++) {
        ofs += 4;
        *type = rd16(d + ofs);
    }
    *type_ofs = ofs;
    return ofs + 2;
}

static bool
csum_partial_pending(const struct dp_packet *p)
{
    return p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
}

/* Updates an L4 checksum at 'f' for a change covered by the
 * pseudo-header, whether it is complete or (for a partial checksum) the
 * uncomplemented pseudo-header sum. */
static void
pseudo_update(const struct dp_packet *p, uint8_t *f, const void *old,
              const void *new_, size_t n)
{
    uint16_t c = rd16(f);

    if (csum_partial_pending(p)) {
        c = ~c;
    }
    if (n == 4) {
        c = csum_update32(c, rd32(old), rd32(new_));
    } else {
        c = csum_update128(c, old, new_);
    }
    if (csum_partial_pending(p)) {
        c = ~c;
    }
    wr16(f, c);
}

/* The L4 header of the IP datagram at 'l3': offset, protocol; false if
 * there is none to rewrite (not IP, truncated, later fragment).
 * '*routing' tells whether an IPv6 routing header is present. */
static bool
find_l4(const struct dp_packet *p, size_t l3, uint16_t type, size_t *l4,
        uint8_t *proto, bool *routing)
{
    const uint8_t *d = dp_packet_data(p);

    *routing = false;
    if (type == htons(ETH_P_IP)) {
        size_t ihl;

        if (l3 + 20 > p->len || (d[l3] >> 4) != 4) {
            return false;
        }
        ihl = (d[l3] & 0xf) * 4;
        if (ihl < 20 || l3 + ihl > p->len
            || (ntohs(rd16(d + l3 + 6)) & IP4_OFFSET)) {
            return false;
        }
        *l4 = l3 + ihl;
        *proto = d[l3 + 9];
        return true;
    }
    if (type != htons(ETH_P_IPV6) || l3 + 40 > p->len) {
        return false;
    }
    size_t ofs = l3 + 40;
    uint8_t nh = d[l3 + 6];

    for (int i = 0; i < 8; i++) {
        if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING
            && nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT
            && nh != IPPROTO_AH) {
            *l4 = ofs;
            *proto = nh;
            return true;
        }
        if (ofs + 8 > p->len) {
            return false;
        }
        if (nh == IPPROTO_FRAGMENT
            && (ntohs(rd16(d + ofs + 2)) & 0xfff8)) {
            return false;
        }
        *routing |= nh == IPPROTO_ROUTING;
        size_t elen = nh == IPPROTO_FRAGMENT ? 8
                      : nh == IPPROTO_AH ? (d[ofs + 1] + 2) * 4
                      : (d[ofs + 1] + 1) * 8;
        nh = d[ofs];
        ofs += elen;
    }
    return false;
}

/* Rewrites an address of the IP header and the L4 checksum that covers
 * it through the pseudo-header. */
static void
update_l4_for_addr(struct dp_packet *p, size_t l4, uint8_t proto,
                   const void *old, const void *new_, size_t n)
{
    uint8_t *d = dp_packet_data(p);

    if (proto == IPPROTO_TCP && l4 + 20 <= p->len) {
        pseudo_update(p, d + l4 + 16, old, new_, n);
    } else if (proto == IPPROTO_UDP && l4 + 8 <= p->len) {
        if (rd16(d + l4 + 6) || csum_partial_pending(p)) {
            pseudo_update(p, d + l4 + 6, old, new_, n);
            if (!rd16(d + l4 + 6)) {
                wr16(d + l4 + 6, 0xffff);
            }
        }
    } else if (proto == IPPROTO_ICMPV6 && n == 16 && l4 + 4 <= p->len) {
        pseudo_update(p, d + l4 + 2, old, new_, n);
    }
}

static uint32_t
masked32(uint32_t old, uint32_t v, uint32_t m)
{
    return (old & ~m) | (v & m);
}

static int
set_ipv4(struct dp_packet *p, struct xstate *st,
         const struct ovs_key_ipv4 *v, const struct ovs_key_ipv4 *m)
{
    struct flow_key *k = st->key;
    uint16_t type;
    size_t tofs, l3 = find_l3(p, st, &type, &tofs), l4 = 0;
    uint8_t proto = 0, *ip;
    bool routing, has_l4;

    if (type != htons(ETH_P_IP) || l3 + 20 > p->len
        || (dp_packet_data(p)[l3] >> 4) != 4) {
        return 0;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    has_l4 = find_l4(p, l3, type, &l4, &proto, &routing);
    ip = dp_packet_data(p) + l3;

    for (int i = 0; i < 2; i++) {
        uint8_t *f = ip + (i ? 16 : 12);
        uint32_t mask = i ? m->ipv4_dst : m->ipv4_src;
        uint32_t old = rd32(f);
        uint32_t new_ = masked32(old, i ? v->ipv4_dst : v->ipv4_src, mask);

        if (!mask || new_ == old) {
            continue;
        }
        if (has_l4) {
            update_l4_for_addr(p, l4, proto, &old, &new_, 4);
        }
        wr16(ip + 10, csum_update32(rd16(ip + 10), old, new_));
        wr32(f, new_);
        *(i ? &k->ipv4_dst : &k->ipv4_src) = new_;
    }
    if (m->ipv4_tos) {
        uint16_t old = rd16(ip);

        ip[1] = (ip[1] & ~m->ipv4_tos) | (v->ipv4_tos & m->ipv4_tos);
        wr16(ip + 10, csum_update16(rd16(ip + 10), old, rd16(ip)));
        k->ip_tos = ip[1];
    }
    if (m->ipv4_ttl) {
        uint16_t old = rd16(ip + 8);

        ip[8] = (ip[8] & ~m->ipv4_ttl) | (v->ipv4_ttl & m->ipv4_ttl);
        wr16(ip + 10, csum_update16(rd16(ip + 10), old, rd16(ip + 8)));
        k->ip_ttl = ip[8];
    }
    return 0;
}

static bool
any16(const uint32_t *a)
{
    return a[0] | a[1] | a[2] | a[3];
}

static int
set_ipv6(struct dp_packet *p, struct xstate *st,
         const struct ovs_key_ipv6 *v, const struct ovs_key_ipv6 *m)
{
    struct flow_key *k = st->key;
    uint16_t type;
    size_t tofs, l3 = find_l3(p, st, &type, &tofs), l4 = 0;
    uint8_t proto = 0, *ip;
    bool routing = false, has_l4;

    if (type != htons(ETH_P_IPV6) || l3 + 40 > p->len
        || (dp_packet_data(p)[l3] >> 4) != 6) {
        return 0;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    has_l4 = find_l4(p, l3, type, &l4, &proto, &routing);
    ip = dp_packet_data(p) + l3;

    for (int i = 0; i < 2; i++) {
        const uint32_t *mask = i ? m->ipv6_dst : m->ipv6_src;
        const uint32_t *val = i ? v->ipv6_dst : v->ipv6_src;
        uint8_t *f = ip + (i ? 24 : 8);
        uint32_t old[4], new_[4];

        if (!any16(mask)) {
            continue;
        }
        memcpy(old, f, 16);
        for (int j = 0; j < 4; j++) {
            new_[j] = masked32(old[j], val[j], mask[j]);
        }
        if (!memcmp(old, new_, 16)) {
            continue;
        }
        /* With a routing header the pseudo-header holds the final
         * destination, not this one. */
        if (has_l4 && !(i && routing)) {
            update_l4_for_addr(p, l4, proto, old, new_, 16);
        }
        memcpy(f, new_, 16);
        memcpy(i ? k->ipv6_dst : k->ipv6_src, new_, 16);
    }
    if (m->ipv6_tclass) {
        uint8_t tc = (uint8_t) ((ip[0] << 4) | (ip[1] >> 4));

        tc = (tc & ~m->ipv6_tclass) | (v->ipv6_tclass & m->ipv6_tclass);
        ip[0] = (ip[0] & 0xf0) | (tc >> 4);
        ip[1] = (uint8_t) ((ip[1] & 0x0f) | (tc << 4));
        k->ip_tos = tc;
    }
    if (m->ipv6_label) {
        uint32_t w = ntohl(rd32(ip));
        uint32_t lm = ntohl(m->ipv6_label) & 0xfffff;
        uint32_t fl = masked32(w & 0xfffff, ntohl(v->ipv6_label), lm);

        wr32(ip, htonl((w & 0xfff00000) | fl));
        k->ipv6_label = htonl(fl);
    }
    if (m->ipv6_hlimit) {
        ip[7] = (ip[7] & ~m->ipv6_hlimit) | (v->ipv6_hlimit & m->ipv6_hlimit);
        k->ip_ttl = ip[7];
    }
    return 0;
}

/* CRC32c (Castagnoli), reflected, as SCTP uses it. */
static uint32_t
crc32c(const uint8_t *d, size_t n)
{
    uint32_t crc = 0xffffffff;

    while (n--) {
        crc ^= *d++;
        for (int i = 0; i < 8; i++) {
            crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
        }
    }
    return ~crc;
}

/* SCTP's CRC covers the whole packet with the checksum field zeroed;
 * stored little-endian. */
static uint32_t
sctp_crc(uint8_t *sh, size_t len)
{
    uint32_t saved = rd32(sh + 8), crc;
    uint8_t le[4];

    wr32(sh + 8, 0);
    crc = crc32c(sh, len);
    wr32(sh + 8, saved);
    le[0] = crc & 0xff;
    le[1] = (crc >> 8) & 0xff;
    le[2] = (crc >> 16) & 0xff;
    le[3] = crc >> 24;
    return rd32(le);
}

static int
set_l4_ports(struct dp_packet *p, struct xstate *st, uint16_t ktype,
             uint16_t src, uint16_t dst, uint16_t msrc, uint16_t mdst)
{
    struct flow_key *k = st->key;
    uint8_t want = ktype == OVS_KEY_ATTR_TCP ? IPPROTO_TCP
                   : ktype == OVS_KEY_ATTR_UDP ? IPPROTO_UDP : IPPROTO_SCTP;
    size_t hlen = want == IPPROTO_TCP ? 20 : want == IPPROTO_UDP ? 8 : 12;
    uint16_t type;
    size_t tofs, l3 = find_l3(p, st, &type, &tofs), l4;
    uint8_t proto, *h;
    bool routing;
    uint16_t ns, nd;

    if (!find_l4(p, l3, type, &l4, &proto, &routing) || proto != want
        || l4 + hlen > p->len) {
        return 0;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    h = dp_packet_data(p) + l4;
    ns = (uint16_t) ((rd16(h) & ~msrc) | (src & msrc));
    nd = (uint16_t) ((rd16(h + 2) & ~mdst) | (dst & mdst));

    if (want == IPPROTO_SCTP) {
        size_t n = p->len - l4;
        uint32_t old_csum = rd32(h + 8), old_ok = sctp_crc(h, n);

        wr16(h, ns);
        wr16(h + 2, nd);
        /* A packet that arrived with a bad CRC keeps a bad CRC. */
        wr32(h + 8, old_csum ^ old_ok ^ sctp_crc(h, n));
    } else {
        /* A partial checksum does not cover the ports yet; a UDP checksum
         * of zero means none. */
        size_t co = want == IPPROTO_TCP ? 16 : 6;
        bool upd = !csum_partial_pending(p)
                   && (want == IPPROTO_TCP || rd16(h + co));
        uint16_t c = rd16(h + co);

        if (upd) {
            c = csum_update16(c, rd16(h), ns);
            c = csum_update16(c, rd16(h + 2), nd);
            if (want == IPPROTO_UDP && !c) {
                c = 0xffff;
            }
            wr16(h + co, c);
        }
        wr16(h, ns);
        wr16(h + 2, nd);
    }
    k->tp_src = ns;
    k->tp_dst = nd;
    return 0;
}

static int
set_eth(struct dp_packet *p, struct xstate *st,
        const struct ovs_key_ethernet *v, const struct ovs_key_ethernet *m)
{
    uint8_t *d;

    if (st->no_eth || p->len < ETH_HLEN) {
        return 0;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    d = dp_packet_data(p);
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        d[i] = (d[i] & ~m->eth_dst[i]) | (v->eth_dst[i] & m->eth_dst[i]);
        d[6 + i] = (d[6 + i] & ~m->eth_src[i])
                   | (v->eth_src[i] & m->eth_src[i]);
    }
    memcpy(st->key->eth_dst, d, ETH_ADDR_LEN);
    memcpy(st->key->eth_src, d + 6, ETH_ADDR_LEN);
    return 0;
}

static int
set_mpls(struct dp_packet *p, struct xstate *st, uint32_t v, uint32_t m)
{
    uint16_t type;
    size_t tofs, l3 = find_l3(p, st, &type, &tofs);
    uint8_t *d;

    if (!eth_p_mpls(type) || l3 + 4 > p->len) {
        return 0;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    d = dp_packet_data(p);
    wr32(d + l3, masked32(rd32(d + l3), v, m));
    st->key->mpls_lse[0] = rd32(d + l3);
    return 0;
}

static int
exec_set(struct dp_packet *p, struct xstate *st, const struct attr *a,
         bool masked)
{
    struct attr_iter it = { a->data, a->len };
    uint8_t ones[sizeof(struct ovs_key_ipv6)];
    const uint8_t *v, *m;
    struct attr k;
    size_t klen;

    if (!attr_next(&it, &k)) {
        return 0;
    }
    klen = masked ? k.len / 2 : k.len;
    v = k.data;
    if (masked) {
        m = k.data + klen;
    } else {
        /* A plain set is a masked set with every writable bit. */
        memset(ones, 0xff, sizeof ones);
        if (k.type == OVS_KEY_ATTR_IPV6) {
            uint32_t label = htonl(0xfffff);

            memcpy(ones + offsetof(struct ovs_key_ipv6, ipv6_label), &label,
                   sizeof label);
        }
        m = ones;
    }
    if (k.type != OVS_KEY_ATTR_TUNNEL && k.type != OVS_KEY_ATTR_MPLS
        && (klen != set_key_len(k.type) || klen > sizeof ones)) {
        return 0;               /* not validated: ignore */
    }

    switch (k.type) {
    case OVS_KEY_ATTR_PRIORITY:
        p->md.priority = masked32(p->md.priority, rd32(v), rd32(m));
        st->key->priority = p->md.priority;
        return 0;
    case OVS_KEY_ATTR_SKB_MARK:
        p->md.skb_mark = masked32(p->md.skb_mark, rd32(v), rd32(m));
        st->key->skb_mark = p->md.skb_mark;
        return 0;
    case OVS_KEY_ATTR_TUNNEL: {
        uint8_t opts[FLOW_TNL_OPTS_MAX];
        const char *why;
        struct flow_tnl t;

        if (!masked && !parse_set_tunnel(k.data, k.len, &t, opts, &why)) {
            p->md.tunnel = t;
            p->md.tunnel_tx = true;
            memcpy(p->md.tun_opts, opts, t.opts_len);
        }
        return 0;
    }
    case OVS_KEY_ATTR_ETHERNET: {
        struct ovs_key_ethernet ev, em;

        memcpy(&ev, v, sizeof ev);
        memcpy(&em, m, sizeof em);
        return set_eth(p, st, &ev, &em);
    }
    case OVS_KEY_ATTR_IPV4: {
        struct ovs_key_ipv4 iv, im;

        memcpy(&iv, v, sizeof iv);
        memcpy(&im, m, sizeof im);
        return set_ipv4(p, st, &iv, &im);
    }
    case OVS_KEY_ATTR_IPV6: {
        struct ovs_key_ipv6 iv, im;

        memcpy(&iv, v, sizeof iv);
        memcpy(&im, m, sizeof im);
        return set_ipv6(p, st, &iv, &im);
    }
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP:
        return set_l4_ports(p, st, k.type, rd16(v), rd16(v + 2), rd16(m),
                            rd16(m + 2));
    case OVS_KEY_ATTR_MPLS:
        if (klen < 4) {
            return 0;
        }
        return set_mpls(p, st, rd32(v), masked ? rd32(m) : 0xffffffff);
    default:
        return 0;
    }
}

/* Opens a gap of 'n' bytes at offset 'ofs' of the frame; headers in front
 * of it move towards the headroom, offsets behind it stay valid. */
static uint8_t *
insert_gap(struct dp_packet *p, size_t ofs, size_t n)
{
    uint8_t *d;

    if (ofs > p->len || !(d = dp_packet_push(p, n))) {
        return NULL;
    }
    memmove(d, d + n, ofs);
    return d + ofs;
}

/* Removes 'n' bytes at offset 'ofs' by moving the bytes in front. */
static int
remove_bytes(struct dp_packet *p, size_t ofs, size_t n)
{
    uint8_t *d;

    if (ofs + n > p->len) {
        return 0;
    }
    if (dp_packet_make_writable(p, 0)) {
        return -ENOMEM;
    }
    d = dp_packet_data(p);
    memmove(d + n, d, ofs);
    dp_packet_pull(p, n);
    return 0;
}

static int
push_vlan(struct dp_packet *p, struct xstate *st,
          const struct ovs_action_push_vlan *v)
{
    uint8_t *tag;
    bool tagged;

    if (st->no_eth || p->len < ETH_HLEN) {
        return 0;
    }
    tagged = eth_p_vlan(rd16(dp_packet_data(p) + 12));
    tag = insert_gap(p, 12, 4);
    if (!tag) {
        return -ENOMEM;
    }
    wr16(tag, v->vlan_tpid);
    /* The CFI bit only says "present" in the key; not on the wire. */
    wr16(tag + 2, v->vlan_tci & ~htons(VLAN_CFI));
    if (tagged) {
        st->stale = true;
    } else {
        st->key->vlan_tci = v->vlan_tci;
        st->key->vlan_tpid = v->vlan_tpid;
    }
    return 0;
}

static int
pop_vlan(struct dp_packet *p, struct xstate *st)
{
    int err;

    if (st->no_eth || p->len < ETH_HLEN + 4
        || !eth_p_vlan(rd16(dp_packet_data(p) + 12))) {
        return 0;
    }
    err = remove_bytes(p, 12, 4);
    if (err) {
        return err;
    }
    if (eth_p_vlan(rd16(dp_packet_data(p) + 12))) {
        st->stale = true;
    } else {
        st->key->vlan_tci = 0;
        st->key->vlan_tpid = 0;
    }
    return 0;
}

/* Inserts MPLS label 'lse' at the network header ('at_front': before the
 * Ethernet header, making an L3 packet) and sets the ethertype. */
static int
push_mpls(struct dp_packet *p, struct xstate *st, uint32_t lse,
          uint16_t ethertype, bool at_front)
{
    uint16_t type;
    size_t tofs, l3 = at_front ? 0 : find_l3(p, st, &type, &tofs);
    uint8_t *h;

    if (!at_front && !st->no_eth && tofs == SIZE_MAX) {
        return 0;
    }
    h = insert_gap(p, l3, 4);
    if (!h) {
        return -ENOMEM;
    }
    wr32(h, lse);
    if (at_front || st->no_eth) {
        st->no_eth = true;
        st->l3_type = ethertype;
    } else {
        wr16(dp_packet_data(p) + tofs, ethertype);
    }
    st->stale = true;
    return 0;
}

static int
pop_mpls(struct dp_packet *p, struct xstate *st, uint16_t ethertype)
{
    uint16_t type;
    size_t tofs, l3 = find_l3(p, st, &type, &tofs);
    int err;

    if (!eth_p_mpls(type) || l3 + 4 > p->len) {
        return 0;
    }
    err = remove_bytes(p, l3, 4);
    if (err) {
        return err;
    }
    if (st->no_eth) {
        /* Under the last label of an L3 MPLS packet there may be a whole
         * Ethernet frame (ETH_P_TEB), which is then what the packet is. */
        st->no_eth = ethertype != htons(ETH_P_TEB);
        st->l3_type = st->no_eth ? ethertype : 0;
    } else {
        wr16(dp_packet_data(p) + tofs, ethertype);
    }
    st->stale = true;
    return 0;
}

static int
push_eth(struct dp_packet *p, struct xstate *st,
         const struct ovs_action_push_eth *e)
{
    uint8_t *h;

    if (!st->no_eth) {
        return 0;
    }
    h = dp_packet_push(p, ETH_HLEN);
    if (!h) {
        return -ENOMEM;
    }
    memcpy(h, e->addresses.eth_dst, ETH_ADDR_LEN);
    memcpy(h + 6, e->addresses.eth_src, ETH_ADDR_LEN);
    wr16(h + 12, st->l3_type);
    st->no_eth = false;
    st->stale = true;
    return 0;
}

static int
pop_eth(struct dp_packet *p, struct xstate *st)
{
    const uint8_t *d = dp_packet_data(p);

    if (st->no_eth || p->len < ETH_HLEN) {
        return 0;
    }
    if (eth_p_vlan(rd16(d + 12))) {
        return -EPROTO;
    }
    st->l3_type = rd16(d + 12);
    dp_packet_pull(p, ETH_HLEN);
    st->no_eth = true;
    st->stale = true;
    return 0;
}

/* Puts the NSH header of push_nsh 'a' in front; the packet becomes a
 * layer-3 NSH packet whose next protocol is what it was. */
static int
push_nsh(struct dp_packet *p, struct xstate *st, const struct attr *a)
{
    struct flow_nsh nsh;
    const uint8_t *md2 = NULL;
    size_t md2_len = 0, md_len, len;
    uint8_t np;
    uint8_t *h;

    if (!push_nsh_key(a) || fnl_parse_nsh(push_nsh_key(a), false, true, &nsh,
                                          &md2, &md2_len, NULL)) {
        return -EINVAL;
    }
    np = st->no_eth ? nsh_np_from_eth(st->l3_type) : NSH_NP_ETHERNET;
    if (!np) {
        return -EAFNOSUPPORT;
    }
    md_len = md2 ? md2_len : sizeof nsh.context;
    len = 8 + md_len;
    h = dp_packet_push(p, len);
    if (!h) {
        return -ENOMEM;
    }
    /* Version 0, the O/U flags, TTL and length in 4-byte words. */
    wr16(h, htons((uint16_t) (((nsh.flags & 0x3) << 12)
                              | ((nsh.ttl & 0x3f) << 6)
                              | ((len >> 2) & 0x3f))));
    h[2] = nsh.mdtype;
    h[3] = np;
    wr32(h + 4, nsh.path_hdr);
    memcpy(h + 8, md2 ? md2 : (const uint8_t *) nsh.context, md_len);
    st->no_eth = true;
    st->l3_type = htons(ETH_P_NSH);
    st->stale = true;
    return 0;
}

/* Removes the NSH header of a layer-3 NSH packet: what it carried is an
 * Ethernet frame or a layer-3 packet of its next protocol. */
static int
pop_nsh(struct dp_packet *p, struct xstate *st)
{
    const uint8_t *d = dp_packet_data(p);
    uint16_t inner;
    size_t len;

    if (!st->no_eth || st->l3_type != htons(ETH_P_NSH) || p->len < 8) {
        return -EINVAL;
    }
    len = (ntohs(rd16(d)) & 0x3f) * 4;
    inner = nsh_np_to_eth(d[3]);
    if (len < 8 || len > p->len) {
        return -EINVAL;
    }
    if (!inner) {
        return -EAFNOSUPPORT;
    }
    dp_packet_pull(p, len);
    st->no_eth = inner != htons(ETH_P_TEB);
    st->l3_type = st->no_eth ? inner : 0;
    st->stale = true;
    return 0;
}

/* Decrements the IP TTL / hop limit; -EHOSTUNREACH when it expires. */
static int
dec_ttl(struct dp_packet *p, struct xstate *st)
{
    uint16_t type;
    size_t tofs, l3 = find_l3(p, st, &type, &tofs);
    uint8_t *ip;

    if (type == htons(ETH_P_IP) && l3 + 20 <= p->len) {
        uint16_t old;

        if (dp_packet_data(p)[l3 + 8] <= 1) {
            return -EHOSTUNREACH;
        }
        if (dp_packet_make_writable(p, 0)) {
            return -ENOMEM;
        }
        ip = dp_packet_data(p) + l3;
        old = rd16(ip + 8);
        ip[8]--;
        wr16(ip + 10, csum_update16(rd16(ip + 10), old, rd16(ip + 8)));
        st->key->ip_ttl = ip[8];
    } else if (type == htons(ETH_P_IPV6) && l3 + 40 <= p->len) {
        if (dp_packet_data(p)[l3 + 7] <= 1) {
            return -EHOSTUNREACH;
        }
        if (dp_packet_make_writable(p, 0)) {
            return -ENOMEM;
        }
        ip = dp_packet_data(p) + l3;
        st->key->ip_ttl = --ip[7];
    }
    return 0;
}

/* Brings a stale key up to date with the packet.  Metadata stays as the
 * actions left it: the key's tunnel is the received one even after a
 * set(tunnel) changed the packet's egress tunnel. */
static void
refresh_key(struct dp_packet *p, struct xstate *st)
{
    struct flow_key *k = st->key;
    struct flow_tnl tnl;
    uint32_t in_port, recirc, hash, prio, mark;
    uint8_t opts[FLOW_TNL_OPTS_MAX];

    if (!st->stale) {
        return;
    }
    p->md.l3_type = st->no_eth ? st->l3_type : 0;
    in_port = k->in_port;
    recirc = k->recirc_id;
    hash = k->dp_hash;
    prio = k->priority;
    mark = k->skb_mark;
    tnl = k->tunnel;
    memcpy(opts, k->tun_opts, tnl.opts_len);

    flow_extract(p, k);

    k->in_port = in_port;
    k->recirc_id = recirc;
    k->dp_hash = hash;
    k->priority = prio;
    k->skb_mark = mark;
    k->tunnel = tnl;
    memset(k->tun_opts, 0, sizeof k->tun_opts);
    memcpy(k->tun_opts, opts, tnl.opts_len);
    st->stale = false;
}

static uint32_t
sym_l4_hash(const struct flow_key *k, uint32_t basis)
{
    uint32_t h = basis, a, b;
    uint16_t pa = k->tp_src, pb = k->tp_dst;

    if (k->eth_type == htons(ETH_P_IPV6)) {
        int c = memcmp(k->ipv6_src, k->ipv6_dst, 16);
        const uint8_t *lo = c < 0 ? k->ipv6_src : k->ipv6_dst;
        const uint8_t *hi = c < 0 ? k->ipv6_dst : k->ipv6_src;

        for (int i = 0; i < 16; i += 4) {
            h = hash_add(h, rd32(lo + i));
        }
        for (int i = 0; i < 16; i += 4) {
            h = hash_add(h, rd32(hi + i));
        }
    } else {
        a = k->ipv4_src < k->ipv4_dst ? k->ipv4_src : k->ipv4_dst;
        b = k->ipv4_src < k->ipv4_dst ? k->ipv4_dst : k->ipv4_src;
        h = hash_add(hash_add(h, a), b);
    }
    if (pa > pb) {
        uint16_t t = pa;

        pa = pb;
        pb = t;
    }
    h = hash_add(h, ((uint32_t) pa << 16) | pb);
    h = hash_add(h, k->ip_proto);
    return hash_finish(h, 40);
}

static void
exec_hash(struct dp_packet *p, struct xstate *st, const struct attr *a)
{
    struct ovs_action_hash h;
    uint32_t v;

    memcpy(&h, a->data, sizeof h);
    refresh_key(p, st);
    v = h.hash_alg == HASH_ALG_SYM_L4 ? sym_l4_hash(st->key, h.hash_basis)
        : flow_hash_5tuple(st->key, h.hash_basis);
    if (!v) {
        v = 1;                  /* 0 means "no hash" in dp_hash */
    }
    p->md.dp_hash = v;
    st->key->dp_hash = v;
}

static uint32_t
rng_next(void)
{
    static _Thread_local uint32_t s;

    if (!s) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint32_t) ts.tv_nsec ^ (uint32_t) (uintptr_t) &ts;
        s = s ? s : 0x9e3779b9;
    }
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

/* Runs a nested list on 'p' (which the caller gives up when 'last') or
 * on a clone with its own copy of the key, so that the outer list sees
 * neither's changes. */
static void
exec_nested(const struct xctx *x, struct dp_packet *p, struct xstate *st,
            const struct attr *list, bool last, unsigned depth)
{
    if (last) {
        exec_list(x, p, st, list->data, list->len, depth + 1);
        return;
    }
    struct dp_packet *c = dp_packet_clone(p);
    struct flow_key key;
    struct xstate cst = *st;

    if (!c) {
        return;
    }
    key = *st->key;
    cst.key = &key;
    exec_list(x, c, &cst, list->data, list->len, depth + 1);
}

static bool
find_attr(const struct attr *outer, uint16_t type, struct attr *out)
{
    struct attr_iter it = { outer->data, outer->len };
    struct attr a;
    bool found = false;

    while (attr_next(&it, &a)) {
        if (a.type == type) {
            *out = a;
            found = true;       /* the last one wins, as in the kernel */
        }
    }
    return found;
}

/* Length that check_pkt_len compares: for a super-packet, the size of
 * its largest segment. */
static size_t
pkt_len_for_check(const struct dp_packet *p, const struct xstate *st)
{
    uint16_t type;
    size_t tofs, l3, l4, hl;
    uint8_t proto;
    bool routing;

    if (p->vnet.gso_type == VIRTIO_NET_HDR_GSO_NONE || !p->vnet.gso_size) {
        return p->len;
    }
    l3 = find_l3(p, st, &type, &tofs);
    if (!find_l4(p, l3, type, &l4, &proto, &routing)) {
        return p->len;
    }
    if (proto == IPPROTO_TCP && l4 + 20 <= p->len) {
        hl = l4 + (dp_packet_data(p)[l4 + 12] >> 4) * 4;
    } else {
        hl = l4 + 8;
    }
    return hl + p->vnet.gso_size < p->len ? hl + p->vnet.gso_size : p->len;
}

/* Executes one action that may consume 'p': returns true if it did (the
 * list ends there). */
static bool
exec_control(const struct xctx *x, struct dp_packet *p, struct xstate *st,
             const struct attr *a, unsigned depth)
{
    struct attr sub, sub2;

    switch (a->type) {
    case OVS_ACTION_ATTR_SAMPLE: {
        uint32_t prob = 0;

        if (find_attr(a, OVS_SAMPLE_ATTR_PROBABILITY, &sub) && sub.len == 4) {
            memcpy(&prob, sub.data, 4);
        }
        if (!find_attr(a, OVS_SAMPLE_ATTR_ACTIONS, &sub)
            || (prob != UINT32_MAX && (!prob || rng_next() > prob))) {
            return false;
        }
        exec_nested(x, p, st, &sub, a->last, depth);
        return a->last;
    }
    case OVS_ACTION_ATTR_CLONE:
        exec_nested(x, p, st, a, a->last, depth);
        return a->last;
    case OVS_ACTION_ATTR_CHECK_PKT_LEN: {
        uint16_t max = 0;
        bool le;

        if (find_attr(a, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, &sub)
            && sub.len == 2) {
            memcpy(&max, sub.data, 2);
        }
        le = p->len <= max || pkt_len_for_check(p, st) <= max;
        if (!find_attr(a, le ? CPL_LE : CPL_GT, &sub2)) {
            return false;
        }
        exec_nested(x, p, st, &sub2, a->last, depth);
        return a->last;
    }
    case OVS_ACTION_ATTR_DEC_TTL: {
        int err = dec_ttl(p, st);

        if (!err) {
            return false;
        }
        /* Expired (or out of memory): the packet goes to the exception
         * actions, if any, and the list ends. */
        if (err == -EHOSTUNREACH
            && find_attr(a, OVS_DEC_TTL_ATTR_ACTION, &sub)) {
            exec_nested(x, p, st, &sub, true, depth);
        } else {
            dp_packet_free(p);
        }
        return true;
    }
    case OVS_ACTION_ATTR_RECIRC: {
        struct dp_packet *c = a->last ? p : dp_packet_clone(p);

        if (c) {
            /* A layer-3 packet is looked up again as one. */
            c->md.l3_type = st->no_eth ? st->l3_type : 0;
            c->md.recirc_id = rd32(a->data);
            x->ops->recirc(x->aux, c);
        }
        return a->last;
    }
    case ACT_DROP:
        dp_packet_free(p);
        return true;
    case OVS_ACTION_ATTR_METER:
        if (x->ops->meter && x->ops->meter(x->aux, rd32(a->data), p)) {
            dp_packet_free(p);
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* Executes one action that transforms 'p'; returns 0 or a negative errno
 * (the packet is then dropped, as the kernel does). */
static int
exec_transform(struct dp_packet *p, struct xstate *st, const struct attr *a)
{
    switch (a->type) {
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
        return exec_set(p, st, a, a->type == OVS_ACTION_ATTR_SET_MASKED);
    case OVS_ACTION_ATTR_PUSH_VLAN: {
        struct ovs_action_push_vlan v;

        memcpy(&v, a->data, sizeof v);
        return push_vlan(p, st, &v);
    }
    case OVS_ACTION_ATTR_POP_VLAN:
        return pop_vlan(p, st);
    case OVS_ACTION_ATTR_PUSH_MPLS: {
        struct ovs_action_push_mpls m;

        memcpy(&m, a->data, sizeof m);
        return push_mpls(p, st, m.mpls_lse, m.mpls_ethertype, false);
    }
    case OVS_ACTION_ATTR_ADD_MPLS: {
        struct ovs_action_add_mpls m;

        memcpy(&m, a->data, sizeof m);
        return push_mpls(p, st, m.mpls_lse, m.mpls_ethertype,
                         !(m.tun_flags & OVS_MPLS_L3_TUNNEL_FLAG_MASK)
                         && !st->no_eth);
    }
    case OVS_ACTION_ATTR_POP_MPLS:
        return pop_mpls(p, st, rd16(a->data));
    case OVS_ACTION_ATTR_PUSH_ETH: {
        struct ovs_action_push_eth e;

        memcpy(&e, a->data, sizeof e);
        return push_eth(p, st, &e);
    }
    case OVS_ACTION_ATTR_POP_ETH:
        return pop_eth(p, st);
    case OVS_ACTION_ATTR_PUSH_NSH:
        return push_nsh(p, st, a);
    case OVS_ACTION_ATTR_POP_NSH:
        return pop_nsh(p, st);
    case OVS_ACTION_ATTR_HASH:
        exec_hash(p, st, a);
        return 0;
    case OVS_ACTION_ATTR_TRUNC: {
        uint32_t max = rd32(a->data);

        p->cutlen = p->len > max ? max : 0;
        return 0;
    }
    default:
        return 0;               /* refused at validation */
    }
}

static void
exec_list(const struct xctx *x, struct dp_packet *p, struct xstate *st,
          const uint8_t *acts, size_t len, unsigned depth)
{
    struct attr_iter it = { acts, len };
    struct attr a;

    if (depth > MAX_EXEC_DEPTH) {
        dp_packet_free(p);
        return;
    }
    while (attr_next(&it, &a)) {
        if (a.type > ACT_LAST
            || (action_lens[a.type] >= 0
                && (size_t) action_lens[a.type] != a.len)) {
            continue;           /* not validated: ignore */
        }
        if (a.type == OVS_ACTION_ATTR_OUTPUT) {
            if (a.last) {
                x->ops->output(x->aux, rd32(a.data), p);
                return;
            }
            struct dp_packet *c = dp_packet_clone(p);

            if (c) {
                x->ops->output(x->aux, rd32(a.data), c);
            }
            p->cutlen = 0;      /* trunc applies to one output */
        } else if (a.type == OVS_ACTION_ATTR_USERSPACE) {
            refresh_key(p, st);
            x->ops->userspace(x->aux, p, st->key,
                              (const struct nlattr *) (a.data - NLA_HDRLEN));
            p->cutlen = 0;
        } else if (exec_control(x, p, st, &a, depth)) {
            return;
        } else if (exec_transform(p, st, &a)) {
            dp_packet_free(p);
            return;
        }
    }
    dp_packet_free(p);
}

void
act_execute(const struct act_ops *ops, void *aux, struct dp_packet *p,
            struct flow_key *key, const uint8_t *acts, size_t len)
{
    struct xctx x = { ops, aux };
    struct xstate st = {
        .key = key,
        .no_eth = p->md.l3_type != 0,
        .l3_type = p->md.l3_type,
    };

    exec_list(&x, p, &st, acts, len, 0);
}
