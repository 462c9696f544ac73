/* Flow keys and masks to and from OVS_KEY_ATTR_* attributes.
 *
 * The acceptance rules are the kernel datapath's (built without conntrack):
 * userspace probes the datapath's features by what it accepts, so agreeing
 * with the kernel attribute for attribute is what makes ovs-vswitchd pick
 * the same features here as on Linux.  Where hvs cannot represent what the
 * kernel accepts (NSH, layer-3 packets, ERSPAN options, conntrack tuples
 * with values) the key is refused with -EINVAL rather than matched wrongly.
 *
 * Parsing is done in the kernel's order: the key's attributes, its VLAN
 * nesting, the key fields; then the mask likewise (an all-ones copy of the
 * key when no mask is given); then the prerequisite checks.
 */
#include "flow-netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/openvswitch.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

#define ATTR_NESTED -1          /* nested attributes, checked by the user */
#define ATTR_VARIABLE -2        /* any length, checked by the user */

#define VLAN_CFI_BE htons(FLOW_VLAN_CFI)
#define ETH_TYPE_802_2_KEY 0x05ff
#define GENEVE_OPTS_MAX 255     /* what the kernel's key can hold */

#define BIT(TYPE) (UINT64_C(1) << (TYPE))

/* Expected payload lengths, and where nested attributes get theirs. */
struct len_tbl {
    int len;
    const struct len_tbl *next;
    int max_type;               /* of 'next' */
};

static const struct len_tbl vxlan_ext_lens[OVS_VXLAN_EXT_MAX + 1] = {
    [OVS_VXLAN_EXT_GBP] = { .len = 4 },
};

static const struct len_tbl tunnel_lens[OVS_TUNNEL_KEY_ATTR_MAX + 1] = {
    [OVS_TUNNEL_KEY_ATTR_ID] = { .len = 8 },
    [OVS_TUNNEL_KEY_ATTR_IPV4_SRC] = { .len = 4 },
    [OVS_TUNNEL_KEY_ATTR_IPV4_DST] = { .len = 4 },
    [OVS_TUNNEL_KEY_ATTR_TOS] = { .len = 1 },
    [OVS_TUNNEL_KEY_ATTR_TTL] = { .len = 1 },
    [OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT] = { .len = 0 },
    [OVS_TUNNEL_KEY_ATTR_CSUM] = { .len = 0 },
    [OVS_TUNNEL_KEY_ATTR_OAM] = { .len = 0 },
    [OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS] = { .len = ATTR_VARIABLE },
    [OVS_TUNNEL_KEY_ATTR_TP_SRC] = { .len = 2 },
    [OVS_TUNNEL_KEY_ATTR_TP_DST] = { .len = 2 },
    [OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS] = { .len = ATTR_NESTED,
                                         .next = vxlan_ext_lens,
                                         .max_type = OVS_VXLAN_EXT_MAX },
    [OVS_TUNNEL_KEY_ATTR_IPV6_SRC] = { .len = 16 },
    [OVS_TUNNEL_KEY_ATTR_IPV6_DST] = { .len = 16 },
    [OVS_TUNNEL_KEY_ATTR_PAD] = { .len = 0 },
    [OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS] = { .len = ATTR_VARIABLE },
    [OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE] = { .len = 0 },
};

static const struct len_tbl nsh_lens[OVS_NSH_KEY_ATTR_MAX + 1] = {
    [OVS_NSH_KEY_ATTR_BASE] = { .len = sizeof(struct ovs_nsh_key_base) },
    [OVS_NSH_KEY_ATTR_MD1] = { .len = sizeof(struct ovs_nsh_key_md1) },
    [OVS_NSH_KEY_ATTR_MD2] = { .len = ATTR_VARIABLE },
};

static const struct len_tbl key_lens[OVS_KEY_ATTR_MAX + 1] = {
    [OVS_KEY_ATTR_ENCAP] = { .len = ATTR_NESTED },  /* same table */
    [OVS_KEY_ATTR_PRIORITY] = { .len = 4 },
    [OVS_KEY_ATTR_IN_PORT] = { .len = 4 },
    [OVS_KEY_ATTR_ETHERNET] = { .len = sizeof(struct ovs_key_ethernet) },
    [OVS_KEY_ATTR_VLAN] = { .len = 2 },
    [OVS_KEY_ATTR_ETHERTYPE] = { .len = 2 },
    [OVS_KEY_ATTR_IPV4] = { .len = sizeof(struct ovs_key_ipv4) },
    [OVS_KEY_ATTR_IPV6] = { .len = sizeof(struct ovs_key_ipv6) },
    [OVS_KEY_ATTR_TCP] = { .len = sizeof(struct ovs_key_tcp) },
    [OVS_KEY_ATTR_UDP] = { .len = sizeof(struct ovs_key_udp) },
    [OVS_KEY_ATTR_ICMP] = { .len = sizeof(struct ovs_key_icmp) },
    [OVS_KEY_ATTR_ICMPV6] = { .len = sizeof(struct ovs_key_icmpv6) },
    [OVS_KEY_ATTR_ARP] = { .len = sizeof(struct ovs_key_arp) },
    [OVS_KEY_ATTR_ND] = { .len = sizeof(struct ovs_key_nd) },
    [OVS_KEY_ATTR_SKB_MARK] = { .len = 4 },
    [OVS_KEY_ATTR_TUNNEL] = { .len = ATTR_NESTED, .next = tunnel_lens,
                              .max_type = OVS_TUNNEL_KEY_ATTR_MAX },
    [OVS_KEY_ATTR_SCTP] = { .len = sizeof(struct ovs_key_sctp) },
    [OVS_KEY_ATTR_TCP_FLAGS] = { .len = 2 },
    [OVS_KEY_ATTR_DP_HASH] = { .len = 4 },
    [OVS_KEY_ATTR_RECIRC_ID] = { .len = 4 },
    [OVS_KEY_ATTR_MPLS] = { .len = ATTR_VARIABLE },
    [OVS_KEY_ATTR_CT_STATE] = { .len = 4 },
    [OVS_KEY_ATTR_CT_ZONE] = { .len = 2 },
    [OVS_KEY_ATTR_CT_MARK] = { .len = 4 },
    [OVS_KEY_ATTR_CT_LABELS] = { .len = sizeof(struct ovs_key_ct_labels) },
    [OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4] = {
        .len = sizeof(struct ovs_key_ct_tuple_ipv4) },
    [OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6] = {
        .len = sizeof(struct ovs_key_ct_tuple_ipv6) },
    [OVS_KEY_ATTR_NSH] = { .len = ATTR_NESTED, .next = nsh_lens,
                           .max_type = OVS_NSH_KEY_ATTR_MAX },
    [OVS_KEY_ATTR_IPV6_EXTHDRS] = {
        .len = sizeof(struct ovs_key_ipv6_exthdrs) },
};

static bool
len_ok(size_t len, int expected)
{
    return expected < 0 || len == (size_t) expected;
}

/* Attribute iteration with the kernel's rules: a stream that ends in a
 * partial or unpadded attribute leaves 'rem' nonzero, which callers
 * refuse. */
static bool
nla_ok(const struct nlattr *nla, long rem)
{
    return rem >= (long) sizeof *nla && nla->nla_len >= sizeof *nla
           && nla->nla_len <= rem;
}

static const struct nlattr *
nla_next(const struct nlattr *nla, long *rem)
{
    long total = MNL_ALIGN(nla->nla_len);

    *rem -= total;
    return (const struct nlattr *) ((const char *) nla + total);
}

#define NLA_FOR_EACH_NESTED(NLA, REM, NEST)                              \
    for ((NLA) = mnl_attr_get_payload(NEST),                             \
         (REM) = (long) mnl_attr_get_payload_len(NEST);                  \
         nla_ok(NLA, REM); (NLA) = nla_next(NLA, &(REM)))

static uint16_t
nla_type(const struct nlattr *nla)
{
    return nla->nla_type & NLA_TYPE_MASK;
}

static size_t
nla_len(const struct nlattr *nla)
{
    return mnl_attr_get_payload_len(nla);
}

static const void *
nla_data(const struct nlattr *nla)
{
    return mnl_attr_get_payload(nla);
}

/* Getters copy: attributes from the wire need not be aligned. */
static uint16_t
get_16(const struct nlattr *nla)
{
    uint16_t v;

    memcpy(&v, nla_data(nla), sizeof v);
    return v;
}

static uint32_t
get_32(const struct nlattr *nla)
{
    uint32_t v;

    memcpy(&v, nla_data(nla), sizeof v);
    return v;
}

static uint64_t
get_64(const struct nlattr *nla)
{
    uint64_t v;

    memcpy(&v, nla_data(nla), sizeof v);
    return v;
}

static bool
all_zero(const void *p_, size_t n)
{
    const uint8_t *p = p_;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

static int
refuse(const char **reason, const char *why)
{
    if (reason) {
        *reason = why;
    }
    return -EINVAL;
}

static bool
eth_type_is_vlan(uint16_t type_be)
{
    return type_be == htons(ETH_P_8021Q) || type_be == htons(ETH_P_8021AD);
}

static bool
eth_type_is_mpls(uint16_t type_be)
{
    return type_be == htons(ETH_P_MPLS_UC) || type_be == htons(ETH_P_MPLS_MC);
}

/* State of one parse.  'a' is shared by the key and the mask pass, as in
 * the kernel: a mask VLAN nesting whose VLAN or EtherType is missing sees
 * the key's attribute, which decides what such masks mean. */
struct fnl_parse {
    const struct nlattr *a[OVS_KEY_ATTR_MAX + 1];
    struct flow_match *m;
    const char **reason;
};

/* Collects the attributes of one nesting level into p->a and *attrsp.  A
 * mask ('nz') skips all-zero attributes: they wildcard nothing. */
static int
collect_attrs(struct fnl_parse *p, const struct nlattr *nest,
              uint64_t *attrsp, bool nz)
{
    uint64_t attrs = *attrsp;
    const struct nlattr *nla;
    long rem;

    NLA_FOR_EACH_NESTED (nla, rem, nest) {
        uint16_t type = nla_type(nla);

        if (type > OVS_KEY_ATTR_MAX) {
            return refuse(p->reason, "key attribute type out of range");
        }
        if (type == OVS_KEY_ATTR_PACKET_TYPE
            || type == OVS_KEY_ATTR_ND_EXTENSIONS
            || type == OVS_KEY_ATTR_TUNNEL_INFO) {
            return refuse(p->reason, "key attribute type not supported");
        }
        if (attrs & BIT(type)) {
            return refuse(p->reason, "duplicate key attribute");
        }
        if (!len_ok(nla_len(nla), key_lens[type].len)) {
            return refuse(p->reason, "key attribute has a bad length");
        }
        if (!nz || !all_zero(nla_data(nla), nla_len(nla))) {
            attrs |= BIT(type);
            p->a[type] = nla;
        }
    }
    if (rem) {
        return refuse(p->reason, "trailing bytes after key attributes");
    }
    *attrsp = attrs;
    return 0;
}

static int
parse_vxlan_opts(struct fnl_parse *p, const struct nlattr *attr,
                 uint32_t *gbp)
{
    const struct nlattr *nla;
    long rem;

    *gbp = 0;
    NLA_FOR_EACH_NESTED (nla, rem, attr) {
        uint16_t type = nla_type(nla);

        if (type > OVS_VXLAN_EXT_MAX
            || !len_ok(nla_len(nla), vxlan_ext_lens[type].len)) {
            return refuse(p->reason, "bad VXLAN extension attribute");
        }
        if (type != OVS_VXLAN_EXT_GBP) {
            return refuse(p->reason, "unknown VXLAN extension attribute");
        }
        *gbp = get_32(nla);
    }
    if (rem) {
        return refuse(p->reason, "trailing bytes in VXLAN extensions");
    }
    return 0;
}

/* OVS_KEY_ATTR_TUNNEL into dst->tunnel (and dst_opts).  'key' is the key
 * already parsed when this is the mask. */
static int
parse_tunnel(struct fnl_parse *p, const struct nlattr *attr,
             struct flow_tnl *dst, uint8_t *dst_opts,
             const struct flow_tnl *key, bool is_mask)
{
    bool ttl = false, ipv4 = false, ipv6 = false, have_opts = false;
    const struct nlattr *nla;
    uint16_t flags = 0;
    long rem;
    int err;

    NLA_FOR_EACH_NESTED (nla, rem, attr) {
        uint16_t type = nla_type(nla);
        size_t len = nla_len(nla);

        if (type > OVS_TUNNEL_KEY_ATTR_MAX
            || !len_ok(len, tunnel_lens[type].len)) {
            return refuse(p->reason, "bad tunnel attribute");
        }
        switch (type) {
        case OVS_TUNNEL_KEY_ATTR_ID:
            dst->tun_id = get_64(nla);
            flags |= FLOW_TNL_F_KEY;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
            dst->ipv4_src = get_32(nla);
            ipv4 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
            dst->ipv4_dst = get_32(nla);
            ipv4 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
            memcpy(&dst->ipv6_src, nla_data(nla), 16);
            ipv6 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
            memcpy(&dst->ipv6_dst, nla_data(nla), 16);
            ipv6 = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_TOS:
            dst->tos = *(const uint8_t *) nla_data(nla);
            break;
        case OVS_TUNNEL_KEY_ATTR_TTL:
            dst->ttl = *(const uint8_t *) nla_data(nla);
            ttl = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
            flags |= FLOW_TNL_F_DONT_FRAGMENT;
            break;
        case OVS_TUNNEL_KEY_ATTR_CSUM:
            flags |= FLOW_TNL_F_CSUM;
            break;
        case OVS_TUNNEL_KEY_ATTR_OAM:
            flags |= FLOW_TNL_F_OAM;
            break;
        case OVS_TUNNEL_KEY_ATTR_TP_SRC:
            dst->tp_src = get_16(nla);
            break;
        case OVS_TUNNEL_KEY_ATTR_TP_DST:
            dst->tp_dst = get_16(nla);
            break;
        case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS:
            if (have_opts) {
                return refuse(p->reason, "multiple tunnel option blocks");
            }
            if (len > GENEVE_OPTS_MAX || len % 4) {
                return refuse(p->reason, "bad Geneve options length");
            }
            /* The length is part of the match: a packet with more
             * options must not match a flow with fewer. */
            if (is_mask && key->opts_len != len) {
                return refuse(p->reason,
                              "Geneve options mask length differs from key");
            }
            dst->opts_len = is_mask ? 0xff : (uint8_t) len;
            memcpy(dst_opts, nla_data(nla), len);
            flags |= FLOW_TNL_F_GENEVE_OPT;
            have_opts = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS:
            if (have_opts) {
                return refuse(p->reason, "multiple tunnel option blocks");
            }
            err = parse_vxlan_opts(p, nla, &dst->vxlan_gbp);
            if (err) {
                return err;
            }
            flags |= FLOW_TNL_F_VXLAN_OPT;
            have_opts = true;
            break;
        case OVS_TUNNEL_KEY_ATTR_PAD:
            break;
        case OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS:
            return refuse(p->reason, "ERSPAN tunnel options not supported");
        case OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE:
            return refuse(p->reason, "tunnel bridge mode not supported");
        default:
            return refuse(p->reason, "unknown tunnel attribute");
        }
    }
    dst->flags = flags;
    if (rem) {
        return refuse(p->reason, "trailing bytes in tunnel attribute");
    }
    if (ipv4 && ipv6) {
        return refuse(p->reason, "mixed IPv4 and IPv6 tunnel attributes");
    }
    if (!is_mask) {
        static const struct in6_addr any6;

        if (!ipv4 && !ipv6) {
            return refuse(p->reason, "tunnel destination not specified");
        }
        if (ipv4 && !dst->ipv4_dst) {
            return refuse(p->reason, "IPv4 tunnel destination is zero");
        }
        if (ipv6 && !memcmp(&dst->ipv6_dst, &any6, sizeof any6)) {
            return refuse(p->reason, "IPv6 tunnel destination is zero");
        }
        if (!ttl) {
            return refuse(p->reason, "tunnel TTL not specified");
        }
    }
    return 0;
}

/* The longest MD type 2 context push_nsh takes: the NSH length field
 * counts 4-byte words in 6 bits, less the 8-byte base header. */
#define NSH_MD2_MAX 248

int
fnl_parse_nsh(const struct nlattr *attr, bool is_mask, bool is_push,
              struct flow_nsh *nsh, const uint8_t **md2, size_t *md2_len,
              const char **reason)
{
    const struct nlattr *nla;
    bool base = false, md1 = false, has_md2 = false;
    uint8_t mdtype = 0;
    long rem;

    memset(nsh, 0, sizeof *nsh);
    NLA_FOR_EACH_NESTED (nla, rem, attr) {
        uint16_t type = nla_type(nla);
        size_t len = nla_len(nla);

        if (type > OVS_NSH_KEY_ATTR_MAX || type == OVS_NSH_KEY_ATTR_UNSPEC
            || !len_ok(len, nsh_lens[type].len)) {
            return refuse(reason, "bad NSH key attribute");
        }
        if (type == OVS_NSH_KEY_ATTR_BASE) {
            struct ovs_nsh_key_base b;

            memcpy(&b, nla_data(nla), sizeof b);
            nsh->flags = b.flags;
            nsh->ttl = b.ttl;
            nsh->mdtype = mdtype = b.mdtype;
            nsh->np = b.np;
            nsh->path_hdr = b.path_hdr;
            base = true;
        } else if (type == OVS_NSH_KEY_ATTR_MD1) {
            memcpy(nsh->context, nla_data(nla), sizeof nsh->context);
            md1 = true;
        } else {
            /* Type 2 metadata is not part of a flow key. */
            if (!is_push) {
                return refuse(reason, "NSH MD type 2 keys not supported");
            }
            if (!len || len > NSH_MD2_MAX) {
                return refuse(reason, "NSH MD type 2 context too long");
            }
            if (md2) {
                *md2 = nla_data(nla);
                *md2_len = len;
            }
            has_md2 = true;
        }
    }
    if (rem) {
        return refuse(reason, "trailing bytes in NSH attributes");
    }
    if (md1 && has_md2) {
        return refuse(reason, "NSH MD1 and MD2 are exclusive");
    }
    if (!is_mask && ((md1 && mdtype != 1) || (has_md2 && mdtype != 2))) {
        return refuse(reason, "NSH metadata does not match its MD type");
    }
    if (is_push && (!base || (!md1 && !has_md2))) {
        return refuse(reason, "push_nsh needs base and metadata");
    }
    return 0;
}

static int
parse_eth_type(struct fnl_parse *p, uint64_t *attrs, struct flow_key *dst,
               bool is_mask)
{
    uint16_t type = get_16(p->a[OVS_KEY_ATTR_ETHERTYPE]);

    if (is_mask) {
        type = 0xffff;          /* the EtherType is always matched exactly */
    } else if (ntohs(type) < ETH_P_802_3_MIN) {
        return refuse(p->reason, "EtherType below 0x600");
    }
    dst->eth_type = type;
    *attrs &= ~BIT(OVS_KEY_ATTR_ETHERTYPE);
    return 0;
}

/* Metadata attributes, shared with packet execution.  'tun_opts' receives
 * Geneve options (NULL: dropped). */
static int
parse_metadata(struct fnl_parse *p, uint64_t *attrs, struct flow_key *dst,
               uint8_t *tun_opts, const struct flow_key *key, bool is_mask)
{
    const struct nlattr **a = p->a;
    int err;

    if (*attrs & BIT(OVS_KEY_ATTR_DP_HASH)) {
        dst->dp_hash = get_32(a[OVS_KEY_ATTR_DP_HASH]);
        *attrs &= ~BIT(OVS_KEY_ATTR_DP_HASH);
    }
    if (*attrs & BIT(OVS_KEY_ATTR_RECIRC_ID)) {
        dst->recirc_id = get_32(a[OVS_KEY_ATTR_RECIRC_ID]);
        *attrs &= ~BIT(OVS_KEY_ATTR_RECIRC_ID);
    }
    if (*attrs & BIT(OVS_KEY_ATTR_PRIORITY)) {
        dst->priority = get_32(a[OVS_KEY_ATTR_PRIORITY]);
        *attrs &= ~BIT(OVS_KEY_ATTR_PRIORITY);
    }
    if (*attrs & BIT(OVS_KEY_ATTR_IN_PORT)) {
        uint32_t port = get_32(a[OVS_KEY_ATTR_IN_PORT]);

        if (is_mask) {
            port = UINT32_MAX;  /* the port is always matched exactly */
        } else if (port >= FNL_IN_PORT_NONE) {
            return refuse(p->reason, "in_port out of range");
        }
        dst->in_port = port;
        *attrs &= ~BIT(OVS_KEY_ATTR_IN_PORT);
    } else if (!is_mask) {
        dst->in_port = FNL_IN_PORT_NONE;
    }
    if (*attrs & BIT(OVS_KEY_ATTR_SKB_MARK)) {
        dst->skb_mark = get_32(a[OVS_KEY_ATTR_SKB_MARK]);
        *attrs &= ~BIT(OVS_KEY_ATTR_SKB_MARK);
    }
    if (*attrs & BIT(OVS_KEY_ATTR_TUNNEL)) {
        uint8_t scratch[GENEVE_OPTS_MAX + 1];

        err = parse_tunnel(p, a[OVS_KEY_ATTR_TUNNEL], &dst->tunnel,
                           tun_opts ? tun_opts : scratch, &key->tunnel,
                           is_mask);
        if (err) {
            return err;
        }
        if (!tun_opts) {
            dst->tunnel.opts_len = 0;
        }
        *attrs &= ~BIT(OVS_KEY_ATTR_TUNNEL);
    }
    /* ct_state, ct_zone, ct_mark and ct_labels stay in *attrs: a kernel
     * without conntrack does not know them, so keys that carry them are
     * refused (and probes for them fail).  The original-direction tuples
     * are parsed by such a kernel, but a packet here never has one, so
     * only all-zero tuples can match. */
    if (*attrs & BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4)) {
        const struct nlattr *t = a[OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4];

        if (!is_mask && !all_zero(nla_data(t), nla_len(t))) {
            return refuse(p->reason, "conntrack is not supported");
        }
        *attrs &= ~BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4);
    }
    if (*attrs & BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6)) {
        const struct nlattr *t = a[OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6];

        if (!is_mask && !all_zero(nla_data(t), nla_len(t))) {
            return refuse(p->reason, "conntrack is not supported");
        }
        *attrs &= ~BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6);
    }
    /* An EtherType without Ethernet addresses describes a layer-3 packet
     * (in a mask it is just an exact EtherType). */
    if (!(*attrs & BIT(OVS_KEY_ATTR_ETHERNET))
        && (*attrs & BIT(OVS_KEY_ATTR_ETHERTYPE))) {
        if (!is_mask) {
            dst->no_eth = 1;
        }
        return parse_eth_type(p, attrs, dst, is_mask);
    }
    return 0;
}

/* One VLAN level (outer or inner): checks and consumes ETHERTYPE (the
 * TPID), VLAN and ENCAP, then collects the attributes inside ENCAP. */
static int
parse_vlan_level(struct fnl_parse *p, uint64_t *attrs, bool inner,
                 bool is_mask)
{
    const struct nlattr **a = p->a;
    const struct flow_key *key = &p->m->key;
    struct flow_key *dst = is_mask ? &p->m->mask : &p->m->key;
    uint16_t tci, tpid;

    if (!is_mask) {
        if (!((*attrs & BIT(OVS_KEY_ATTR_ETHERNET))
              && (*attrs & BIT(OVS_KEY_ATTR_ETHERTYPE))
              && eth_type_is_vlan(get_16(a[OVS_KEY_ATTR_ETHERTYPE])))) {
            return 0;
        }
        if (!((*attrs & BIT(OVS_KEY_ATTR_VLAN))
              && (*attrs & BIT(OVS_KEY_ATTR_ENCAP)))) {
            return refuse(p->reason, "VLAN frame without vlan and encap");
        }
        tci = get_16(a[OVS_KEY_ATTR_VLAN]);
        if (!(tci & VLAN_CFI_BE)) {
            /* Only a truncated VLAN header may lack the CFI bit, and
             * then there is nothing inside. */
            if (tci) {
                return refuse(p->reason, "VLAN TCI without the CFI bit");
            }
            if (nla_len(a[OVS_KEY_ATTR_ENCAP])) {
                return refuse(p->reason,
                              "truncated VLAN header with non-empty encap");
            }
        }
    } else {
        bool tagged = inner ? key->cvlan_tci & VLAN_CFI_BE
                            : key->vlan_tci & VLAN_CFI_BE;

        if (!(*attrs & BIT(OVS_KEY_ATTR_ENCAP))) {
            return 0;
        }
        if (!tagged) {
            return refuse(p->reason, "encap mask for a frame without VLAN");
        }
        tci = a[OVS_KEY_ATTR_VLAN] ? get_16(a[OVS_KEY_ATTR_VLAN]) : 0;
        tpid = a[OVS_KEY_ATTR_ETHERTYPE]
               ? get_16(a[OVS_KEY_ATTR_ETHERTYPE]) : 0;
        if (tpid != 0xffff) {
            return refuse(p->reason, "VLAN TPID must be matched exactly");
        }
        if (!(tci & VLAN_CFI_BE)) {
            return refuse(p->reason, "VLAN CFI bit must be matched");
        }
    }

    tci = a[OVS_KEY_ATTR_VLAN] ? get_16(a[OVS_KEY_ATTR_VLAN]) : 0;
    tpid = a[OVS_KEY_ATTR_ETHERTYPE] ? get_16(a[OVS_KEY_ATTR_ETHERTYPE]) : 0;
    if (inner) {
        dst->cvlan_tpid = tpid;
        dst->cvlan_tci = tci;
    } else {
        dst->vlan_tpid = tpid;
        dst->vlan_tci = tci;
    }
    *attrs &= ~(BIT(OVS_KEY_ATTR_ENCAP) | BIT(OVS_KEY_ATTR_VLAN)
                | BIT(OVS_KEY_ATTR_ETHERTYPE));
    return collect_attrs(p, a[OVS_KEY_ATTR_ENCAP], attrs, is_mask);
}

static int
parse_vlans(struct fnl_parse *p, uint64_t *attrs, bool is_mask)
{
    int err = parse_vlan_level(p, attrs, false, is_mask);

    if (!err && (p->m->key.vlan_tci & VLAN_CFI_BE)) {
        err = parse_vlan_level(p, attrs, true, is_mask);
    }
    return err;
}

/* The header attributes of one pass (key or mask) into 'dst'. */
static int
parse_fields(struct fnl_parse *p, uint64_t attrs, bool is_mask)
{
    const struct nlattr **a = p->a;
    const struct flow_key *key = &p->m->key;
    struct flow_key *dst = is_mask ? &p->m->mask : &p->m->key;
    int err;

    err = parse_metadata(p, &attrs, dst, dst->tun_opts, key, is_mask);
    if (err) {
        return err;
    }

    if (attrs & BIT(OVS_KEY_ATTR_ETHERNET)) {
        const struct ovs_key_ethernet *eth;

        eth = nla_data(a[OVS_KEY_ATTR_ETHERNET]);

        memcpy(dst->eth_src, eth->eth_src, ETH_ALEN);
        memcpy(dst->eth_dst, eth->eth_dst, ETH_ALEN);
        attrs &= ~BIT(OVS_KEY_ATTR_ETHERNET);
        if (attrs & BIT(OVS_KEY_ATTR_VLAN)) {
            return refuse(p->reason, "VLAN attribute outside a VLAN frame");
        }
        if (attrs & BIT(OVS_KEY_ATTR_ETHERTYPE)) {
            err = parse_eth_type(p, &attrs, dst, is_mask);
            if (err) {
                return err;
            }
        } else if (!is_mask) {
            dst->eth_type = htons(ETH_TYPE_802_2_KEY);
        }
    } else if (!key->eth_type) {
        return refuse(p->reason, "Ethernet header or EtherType required");
    }

    if (attrs & BIT(OVS_KEY_ATTR_IPV4)) {
        struct ovs_key_ipv4 ip;

        memcpy(&ip, nla_data(a[OVS_KEY_ATTR_IPV4]), sizeof ip);
        if (!is_mask && ip.ipv4_frag > OVS_FRAG_TYPE_MAX) {
            return refuse(p->reason, "IPv4 fragment type out of range");
        }
        dst->ip_proto = ip.ipv4_proto;
        dst->ip_tos = ip.ipv4_tos;
        dst->ip_ttl = ip.ipv4_ttl;
        dst->ip_frag = ip.ipv4_frag;
        dst->ipv4_src = ip.ipv4_src;
        dst->ipv4_dst = ip.ipv4_dst;
        attrs &= ~BIT(OVS_KEY_ATTR_IPV4);
    }

    if (attrs & BIT(OVS_KEY_ATTR_IPV6)) {
        struct ovs_key_ipv6 ip;

        memcpy(&ip, nla_data(a[OVS_KEY_ATTR_IPV6]), sizeof ip);
        if (!is_mask && ip.ipv6_frag > OVS_FRAG_TYPE_MAX) {
            return refuse(p->reason, "IPv6 fragment type out of range");
        }
        if (!is_mask && (ip.ipv6_label & htonl(0xfff00000))) {
            return refuse(p->reason, "IPv6 flow label out of range");
        }
        dst->ipv6_label = ip.ipv6_label;
        dst->ip_proto = ip.ipv6_proto;
        dst->ip_tos = ip.ipv6_tclass;
        dst->ip_ttl = ip.ipv6_hlimit;
        dst->ip_frag = ip.ipv6_frag;
        memcpy(dst->ipv6_src, ip.ipv6_src, 16);
        memcpy(dst->ipv6_dst, ip.ipv6_dst, 16);
        attrs &= ~BIT(OVS_KEY_ATTR_IPV6);
    }

    if (attrs & BIT(OVS_KEY_ATTR_IPV6_EXTHDRS)) {
        /* Extension-header flags are not extracted here; a flow may carry
         * them only wildcarded. */
        if (is_mask) {
            return refuse(p->reason,
                          "IPv6 extension header matching not supported");
        }
        attrs &= ~BIT(OVS_KEY_ATTR_IPV6_EXTHDRS);
    }

    if (attrs & BIT(OVS_KEY_ATTR_ARP)) {
        struct ovs_key_arp arp;

        memcpy(&arp, nla_data(a[OVS_KEY_ATTR_ARP]), sizeof arp);
        if (!is_mask && (arp.arp_op & htons(0xff00))) {
            return refuse(p->reason, "unknown ARP opcode");
        }
        dst->ipv4_src = arp.arp_sip;
        dst->ipv4_dst = arp.arp_tip;
        dst->ip_proto = (uint8_t) ntohs(arp.arp_op);
        memcpy(dst->arp_sha, arp.arp_sha, ETH_ALEN);
        memcpy(dst->arp_tha, arp.arp_tha, ETH_ALEN);
        attrs &= ~BIT(OVS_KEY_ATTR_ARP);
    }

    if (attrs & BIT(OVS_KEY_ATTR_NSH)) {
        err = fnl_parse_nsh(a[OVS_KEY_ATTR_NSH], is_mask, false, &dst->nsh,
                            NULL, NULL, p->reason);
        if (err) {
            return err;
        }
        attrs &= ~BIT(OVS_KEY_ATTR_NSH);
    }

    if (attrs & BIT(OVS_KEY_ATTR_MPLS)) {
        const struct nlattr *mpls = a[OVS_KEY_ATTR_MPLS];
        size_t len = nla_len(mpls);
        size_t n = len / sizeof(struct ovs_key_mpls);

        if (!n || n > FLOW_MAX_MPLS_LABELS || len % 4) {
            return refuse(p->reason, "bad MPLS label stack length");
        }
        memcpy(dst->mpls_lse, nla_data(mpls), len);
        dst->mpls_labels = (uint8_t) ((1u << n) - 1);
        attrs &= ~BIT(OVS_KEY_ATTR_MPLS);
    }

    if (attrs & BIT(OVS_KEY_ATTR_TCP)) {
        struct ovs_key_tcp tcp;

        memcpy(&tcp, nla_data(a[OVS_KEY_ATTR_TCP]), sizeof tcp);
        dst->tp_src = tcp.tcp_src;
        dst->tp_dst = tcp.tcp_dst;
        attrs &= ~BIT(OVS_KEY_ATTR_TCP);
    }
    if (attrs & BIT(OVS_KEY_ATTR_TCP_FLAGS)) {
        dst->tcp_flags = get_16(a[OVS_KEY_ATTR_TCP_FLAGS]);
        attrs &= ~BIT(OVS_KEY_ATTR_TCP_FLAGS);
    }
    if (attrs & BIT(OVS_KEY_ATTR_UDP)) {
        struct ovs_key_udp udp;

        memcpy(&udp, nla_data(a[OVS_KEY_ATTR_UDP]), sizeof udp);
        dst->tp_src = udp.udp_src;
        dst->tp_dst = udp.udp_dst;
        attrs &= ~BIT(OVS_KEY_ATTR_UDP);
    }
    if (attrs & BIT(OVS_KEY_ATTR_SCTP)) {
        struct ovs_key_sctp sctp;

        memcpy(&sctp, nla_data(a[OVS_KEY_ATTR_SCTP]), sizeof sctp);
        dst->tp_src = sctp.sctp_src;
        dst->tp_dst = sctp.sctp_dst;
        attrs &= ~BIT(OVS_KEY_ATTR_SCTP);
    }
    if (attrs & BIT(OVS_KEY_ATTR_ICMP)) {
        const struct ovs_key_icmp *icmp = nla_data(a[OVS_KEY_ATTR_ICMP]);

        dst->tp_src = htons(icmp->icmp_type);
        dst->tp_dst = htons(icmp->icmp_code);
        attrs &= ~BIT(OVS_KEY_ATTR_ICMP);
    }
    if (attrs & BIT(OVS_KEY_ATTR_ICMPV6)) {
        const struct ovs_key_icmpv6 *icmp = nla_data(a[OVS_KEY_ATTR_ICMPV6]);

        dst->tp_src = htons(icmp->icmpv6_type);
        dst->tp_dst = htons(icmp->icmpv6_code);
        attrs &= ~BIT(OVS_KEY_ATTR_ICMPV6);
    }
    if (attrs & BIT(OVS_KEY_ATTR_ND)) {
        const struct ovs_key_nd *nd = nla_data(a[OVS_KEY_ATTR_ND]);

        memcpy(dst->nd_target, nd->nd_target, 16);
        memcpy(dst->arp_sha, nd->nd_sll, ETH_ALEN);
        memcpy(dst->arp_tha, nd->nd_tll, ETH_ALEN);
        attrs &= ~BIT(OVS_KEY_ATTR_ND);
    }

    if (attrs) {
        return refuse(p->reason, "unknown or unsupported key attributes");
    }
    return 0;
}

/* Sets every payload byte under 'nest' to 0xff, recursing into nested
 * attributes, to turn a copy of a key into its exact-match mask. */
static void
set_all_ones(struct nlattr *nest, const struct len_tbl *tbl, int max_type)
{
    struct nlattr *nla = mnl_attr_get_payload(nest);
    long rem = (long) mnl_attr_get_payload_len(nest);

    for (; nla_ok(nla, rem); nla = (struct nlattr *) nla_next(nla, &rem)) {
        uint16_t type = nla_type(nla);

        if (type <= max_type && tbl[type].len == ATTR_NESTED) {
            if (tbl[type].next) {
                set_all_ones(nla, tbl[type].next, tbl[type].max_type);
            } else {
                set_all_ones(nla, tbl, max_type);
            }
        } else {
            memset(mnl_attr_get_payload(nla), 0xff, nla_len(nla));
        }
    }
}

static bool
in6_is_zero(const struct in6_addr *a)
{
    return all_zero(a, sizeof *a);
}

static int
tunnel_family(const struct flow_tnl *t)
{
    if (t->ipv4_dst || t->ipv4_src) {
        return AF_INET;
    }
    if (!in6_is_zero(&t->ipv6_dst) || !in6_is_zero(&t->ipv6_src)) {
        return AF_INET6;
    }
    return 0;
}

/* The kernel's match_validate(): the key carries every attribute its
 * protocols imply, and the mask covers only attributes of the key whose
 * prerequisites the mask matches exactly. */
static int
validate_match(struct fnl_parse *p, uint64_t key_attrs, uint64_t mask_attrs)
{
    const struct flow_key *key = &p->m->key;
    const struct flow_key *mask = &p->m->mask;
    bool eth_exact = mask->eth_type == 0xffff;
    bool proto_exact = mask->ip_proto == 0xff;
    uint64_t expected = 0;
    uint64_t allowed = key_attrs;

    allowed &= ~(BIT(OVS_KEY_ATTR_IPV4) | BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4)
                 | BIT(OVS_KEY_ATTR_IPV6)
                 | BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6)
                 | BIT(OVS_KEY_ATTR_TCP) | BIT(OVS_KEY_ATTR_TCP_FLAGS)
                 | BIT(OVS_KEY_ATTR_UDP) | BIT(OVS_KEY_ATTR_SCTP)
                 | BIT(OVS_KEY_ATTR_ICMP) | BIT(OVS_KEY_ATTR_ICMPV6)
                 | BIT(OVS_KEY_ATTR_ARP) | BIT(OVS_KEY_ATTR_ND)
                 | BIT(OVS_KEY_ATTR_MPLS) | BIT(OVS_KEY_ATTR_NSH));
    allowed |= BIT(OVS_KEY_ATTR_TUNNEL) | BIT(OVS_KEY_ATTR_IN_PORT)
               | BIT(OVS_KEY_ATTR_ETHERTYPE);

    if (key->eth_type == htons(ETH_P_ARP)
        || key->eth_type == htons(ETH_P_RARP)) {
        expected |= BIT(OVS_KEY_ATTR_ARP);
        if (eth_exact) {
            allowed |= BIT(OVS_KEY_ATTR_ARP);
        }
    }
    if (eth_type_is_mpls(key->eth_type)) {
        expected |= BIT(OVS_KEY_ATTR_MPLS);
        if (eth_exact) {
            allowed |= BIT(OVS_KEY_ATTR_MPLS);
        }
    }
    if (key->eth_type == htons(ETH_P_IP)
        || key->eth_type == htons(ETH_P_IPV6)) {
        bool v4 = key->eth_type == htons(ETH_P_IP);

        expected |= BIT(v4 ? OVS_KEY_ATTR_IPV4 : OVS_KEY_ATTR_IPV6);
        if (eth_exact) {
            allowed |= BIT(v4 ? OVS_KEY_ATTR_IPV4 : OVS_KEY_ATTR_IPV6);
            allowed |= BIT(v4 ? OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4
                              : OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6);
        }
        if (key->ip_frag != OVS_FRAG_TYPE_LATER) {
            uint64_t l4 = 0;

            switch (key->ip_proto) {
            case IPPROTO_UDP:
                l4 = BIT(OVS_KEY_ATTR_UDP);
                break;
            case IPPROTO_SCTP:
                l4 = BIT(OVS_KEY_ATTR_SCTP);
                break;
            case IPPROTO_TCP:
                l4 = BIT(OVS_KEY_ATTR_TCP) | BIT(OVS_KEY_ATTR_TCP_FLAGS);
                break;
            case IPPROTO_ICMP:
                l4 = v4 ? BIT(OVS_KEY_ATTR_ICMP) : 0;
                break;
            case IPPROTO_ICMPV6:
                l4 = v4 ? 0 : BIT(OVS_KEY_ATTR_ICMPV6);
                break;
            }
            expected |= l4;
            if (proto_exact) {
                allowed |= l4;
            }
            if (!v4 && key->ip_proto == IPPROTO_ICMPV6
                && (key->tp_src == htons(135) || key->tp_src == htons(136))) {
                expected |= BIT(OVS_KEY_ATTR_ND);
                /* The conntrack tuple would overlap the ND fields. */
                allowed &= ~BIT(OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6);
                if (mask->tp_src == htons(0xff)) {
                    allowed |= BIT(OVS_KEY_ATTR_ND);
                }
            }
        }
    }
    if (key->eth_type == htons(ETH_P_NSH)) {
        expected |= BIT(OVS_KEY_ATTR_NSH);
        if (eth_exact) {
            allowed |= BIT(OVS_KEY_ATTR_NSH);
        }
    }

    if ((key_attrs & expected) != expected) {
        return refuse(p->reason, "key lacks attributes its protocol needs");
    }
    if ((mask_attrs & allowed) != mask_attrs) {
        return refuse(p->reason, "mask has attributes the key does not "
                      "allow");
    }
    return 0;
}

static int
parse_key(struct fnl_parse *p, const struct nlattr *key, uint64_t *attrs)
{
    int err;

    if (!key || mnl_attr_get_len(key) < sizeof(struct nlattr)) {
        return refuse(p->reason, "missing or malformed key attribute");
    }
    err = collect_attrs(p, key, attrs, false);
    if (!err) {
        err = parse_vlans(p, attrs, false);
    }
    if (!err) {
        err = parse_fields(p, *attrs, false);
    }
    return err;
}

static int
parse_mask(struct fnl_parse *p, const struct nlattr *mask, uint64_t *attrs)
{
    struct flow_key *m = &p->m->mask;
    int err;

    if (mnl_attr_get_len(mask) < sizeof(struct nlattr)) {
        return refuse(p->reason, "malformed mask attribute");
    }
    err = collect_attrs(p, mask, attrs, true);
    if (err) {
        return err;
    }
    /* No VLAN tag, or a tag's presence, is always matched, and so is
     * whether the packet has an Ethernet header at all. */
    m->vlan_tci = 0xffff;
    m->cvlan_tci = 0xffff;
    m->no_eth = 0xff;
    err = parse_vlans(p, attrs, true);
    if (!err) {
        err = parse_fields(p, *attrs, true);
    }
    return err;
}

/* Exact mask of a key: userspace does not send tunnel fields that are
 * zero, but they are matched all the same.  Only the addresses of the
 * key's family are covered, so that a dumped mask parses back the same. */
static void
preset_exact_tunnel_mask(struct flow_key *mask, const struct flow_key *key)
{
    struct flow_tnl *t = &mask->tunnel;

    t->tun_id = UINT64_MAX;
    if (tunnel_family(&key->tunnel) == AF_INET6) {
        memset(&t->ipv6_src, 0xff, sizeof t->ipv6_src);
        memset(&t->ipv6_dst, 0xff, sizeof t->ipv6_dst);
    } else {
        t->ipv4_src = t->ipv4_dst = UINT32_MAX;
    }
    t->tos = t->ttl = 0xff;
    t->tp_src = t->tp_dst = 0xffff;
}

int
fnl_parse_flow(const struct nlattr *key, const struct nlattr *mask,
               struct flow_match *m, struct flow_key *unmasked,
               const char **reason)
{
    struct fnl_parse p;
    uint64_t key_attrs = 0, mask_attrs = 0;
    struct nlattr *exact = NULL;
    int err;

    memset(&p, 0, sizeof p);
    memset(m, 0, sizeof *m);
    p.m = m;
    p.reason = reason;

    err = parse_key(&p, key, &key_attrs);
    if (err) {
        return err;
    }
    if (!mask) {
        exact = malloc(mnl_attr_get_len(key));
        if (!exact) {
            return -ENOMEM;
        }
        memcpy(exact, key, mnl_attr_get_len(key));
        set_all_ones(exact, key_lens, OVS_KEY_ATTR_MAX);
        if (key_attrs & BIT(OVS_KEY_ATTR_TUNNEL)) {
            preset_exact_tunnel_mask(&m->mask, &m->key);
        }
        mask = exact;
    }
    err = parse_mask(&p, mask, &mask_attrs);
    free(exact);
    if (!err) {
        err = validate_match(&p, key_attrs, mask_attrs);
    }
    if (err) {
        return err;
    }
    if (unmasked) {
        *unmasked = m->key;
    }
    flow_key_mask(&m->key, &m->key, &m->mask);
    return 0;
}

int
fnl_parse_match(const struct nlattr *key, const struct nlattr *mask,
                struct flow_match *m, const char **reason)
{
    return fnl_parse_flow(key, mask, m, NULL, reason);
}

size_t
fnl_get_ufid(const struct nlattr *attr, uint8_t ufid[FNL_UFID_MAX])
{
    size_t len = attr ? nla_len(attr) : 0;

    if (len < 1 || len > FNL_UFID_MAX) {
        return 0;
    }
    memcpy(ufid, nla_data(attr), len);
    return len;
}

int
fnl_parse_packet_md(const struct nlattr *key, struct dp_packet_md *md,
                    uint8_t *tun_opts, const char **reason)
{
    struct fnl_parse p;
    struct flow_match m;
    uint64_t attrs = 0;
    int err;

    memset(&p, 0, sizeof p);
    memset(&m, 0, sizeof m);
    p.m = &m;
    p.reason = reason;
    if (!key || mnl_attr_get_len(key) < sizeof(struct nlattr)) {
        return refuse(reason, "missing or malformed key attribute");
    }
    err = collect_attrs(&p, key, &attrs, false);
    if (!err) {
        err = parse_metadata(&p, &attrs, &m.key, tun_opts, &m.key, false);
    }
    if (err) {
        return err;
    }
    memset(md, 0, sizeof *md);
    md->in_port = m.key.in_port;
    md->recirc_id = m.key.recirc_id;
    md->dp_hash = m.key.dp_hash;
    md->priority = m.key.priority;
    md->skb_mark = m.key.skb_mark;
    md->tunnel = m.key.tunnel;
    md->l3_type = m.key.no_eth ? m.key.eth_type : 0;
    return 0;
}

/* Output. */

struct put {
    struct nlmsghdr *nlh;
    size_t buflen;
};

static bool
put(struct put *w, uint16_t type, size_t len, const void *data)
{
    return mnl_attr_put_check(w->nlh, w->buflen, type, len, data);
}

static bool
put_u8(struct put *w, uint16_t type, uint8_t v)
{
    return put(w, type, sizeof v, &v);
}

static bool
put_u16(struct put *w, uint16_t type, uint16_t v)
{
    return put(w, type, sizeof v, &v);
}

static bool
put_u32(struct put *w, uint16_t type, uint32_t v)
{
    return put(w, type, sizeof v, &v);
}

static bool
put_flag(struct put *w, uint16_t type)
{
    return put(w, type, 0, NULL);
}

/* OVS_KEY_ATTR_TUNNEL: addresses of the key's family, fields from 'out'
 * (zero ones left out, TTL always), options as long as the key's. */
static bool
put_tunnel(struct put *w, const struct flow_key *key,
           const struct flow_key *out)
{
    const struct flow_tnl *t = &out->tunnel;
    int af = tunnel_family(&key->tunnel);
    struct nlattr *nest;

    nest = mnl_attr_nest_start_check(w->nlh, w->buflen, OVS_KEY_ATTR_TUNNEL);
    if (!nest) {
        return false;
    }
    if ((t->flags & FLOW_TNL_F_KEY)
        && !put(w, OVS_TUNNEL_KEY_ATTR_ID, 8, &t->tun_id)) {
        return false;
    }
    if (af == AF_INET) {
        if (t->ipv4_src
            && !put_u32(w, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, t->ipv4_src)) {
            return false;
        }
        if (t->ipv4_dst
            && !put_u32(w, OVS_TUNNEL_KEY_ATTR_IPV4_DST, t->ipv4_dst)) {
            return false;
        }
    } else if (af == AF_INET6) {
        if (!in6_is_zero(&t->ipv6_src)
            && !put(w, OVS_TUNNEL_KEY_ATTR_IPV6_SRC, 16, &t->ipv6_src)) {
            return false;
        }
        if (!in6_is_zero(&t->ipv6_dst)
            && !put(w, OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, &t->ipv6_dst)) {
            return false;
        }
    }
    if ((t->tos && !put_u8(w, OVS_TUNNEL_KEY_ATTR_TOS, t->tos))
        || !put_u8(w, OVS_TUNNEL_KEY_ATTR_TTL, t->ttl)
        || ((t->flags & FLOW_TNL_F_DONT_FRAGMENT)
            && !put_flag(w, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT))
        || ((t->flags & FLOW_TNL_F_CSUM)
            && !put_flag(w, OVS_TUNNEL_KEY_ATTR_CSUM))
        || (t->tp_src && !put_u16(w, OVS_TUNNEL_KEY_ATTR_TP_SRC, t->tp_src))
        || (t->tp_dst && !put_u16(w, OVS_TUNNEL_KEY_ATTR_TP_DST, t->tp_dst))
        || ((t->flags & FLOW_TNL_F_OAM)
            && !put_flag(w, OVS_TUNNEL_KEY_ATTR_OAM))) {
        return false;
    }
    if (key->tunnel.opts_len && (t->flags & FLOW_TNL_F_GENEVE_OPT)) {
        if (!put(w, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, key->tunnel.opts_len,
                 out->tun_opts)) {
            return false;
        }
    } else if ((key->tunnel.flags & FLOW_TNL_F_VXLAN_OPT)
               && (t->flags & FLOW_TNL_F_VXLAN_OPT)) {
        struct nlattr *vx;

        vx = mnl_attr_nest_start_check(w->nlh, w->buflen,
                                       OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS);
        if (!vx || !put_u32(w, OVS_VXLAN_EXT_GBP, t->vxlan_gbp)) {
            return false;
        }
        mnl_attr_nest_end(w->nlh, vx);
    }
    mnl_attr_nest_end(w->nlh, nest);
    return true;
}

static bool
put_in_port(struct put *w, const struct flow_key *key,
            const struct flow_key *out, bool is_mask)
{
    if (key->in_port == FNL_IN_PORT_NONE) {
        return !(is_mask && out->in_port == UINT32_MAX)
               || put_u32(w, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    }
    /* A mask's port has 16 significant bits, the rest is always exact. */
    return put_u32(w, OVS_KEY_ATTR_IN_PORT,
                   is_mask ? 0xffff0000u | (out->in_port & 0xffff)
                           : out->in_port);
}

static bool
put_vlan(struct put *w, uint16_t tpid, uint16_t tci, bool is_mask)
{
    return put_u16(w, OVS_KEY_ATTR_ETHERTYPE, is_mask ? 0xffff : tpid)
           && put_u16(w, OVS_KEY_ATTR_VLAN, tci);
}

/* The base header, and the MD type 1 context for such a key or any mask
 * (type 2 metadata is not in the key), as the kernel reports them. */
static bool
put_nsh(struct put *w, const struct flow_key *key, const struct flow_key *out,
        bool is_mask)
{
    struct ovs_nsh_key_base b = {
        .flags = out->nsh.flags,
        .ttl = out->nsh.ttl,
        .mdtype = out->nsh.mdtype,
        .np = out->nsh.np,
        .path_hdr = out->nsh.path_hdr,
    };
    struct nlattr *nest = mnl_attr_nest_start_check(w->nlh, w->buflen,
                                                    OVS_KEY_ATTR_NSH);

    if (!nest || !put(w, OVS_NSH_KEY_ATTR_BASE, sizeof b, &b)) {
        return false;
    }
    if ((is_mask || key->nsh.mdtype == 1)
        && !put(w, OVS_NSH_KEY_ATTR_MD1, sizeof out->nsh.context,
                out->nsh.context)) {
        return false;
    }
    mnl_attr_nest_end(w->nlh, nest);
    return true;
}

static bool
put_l3(struct put *w, const struct flow_key *key, const struct flow_key *out,
       bool is_mask)
{
    if (key->eth_type == htons(ETH_P_IP)) {
        struct ovs_key_ipv4 ip = {
            .ipv4_src = out->ipv4_src,
            .ipv4_dst = out->ipv4_dst,
            .ipv4_proto = out->ip_proto,
            .ipv4_tos = out->ip_tos,
            .ipv4_ttl = out->ip_ttl,
            .ipv4_frag = out->ip_frag,
        };

        return put(w, OVS_KEY_ATTR_IPV4, sizeof ip, &ip);
    } else if (key->eth_type == htons(ETH_P_IPV6)) {
        struct ovs_key_ipv6 ip = {
            .ipv6_label = out->ipv6_label,
            .ipv6_proto = out->ip_proto,
            .ipv6_tclass = out->ip_tos,
            .ipv6_hlimit = out->ip_ttl,
            .ipv6_frag = out->ip_frag,
        };

        /* IPV6_EXTHDRS is left out: it is never matched here, and the
         * Open vSwitch 3.1 tools do not know the attribute. */
        memcpy(ip.ipv6_src, out->ipv6_src, 16);
        memcpy(ip.ipv6_dst, out->ipv6_dst, 16);
        return put(w, OVS_KEY_ATTR_IPV6, sizeof ip, &ip);
    } else if (key->eth_type == htons(ETH_P_ARP)
               || key->eth_type == htons(ETH_P_RARP)) {
        struct ovs_key_arp arp;

        memset(&arp, 0, sizeof arp);
        arp.arp_sip = out->ipv4_src;
        arp.arp_tip = out->ipv4_dst;
        arp.arp_op = htons(out->ip_proto);
        memcpy(arp.arp_sha, out->arp_sha, ETH_ALEN);
        memcpy(arp.arp_tha, out->arp_tha, ETH_ALEN);
        return put(w, OVS_KEY_ATTR_ARP, sizeof arp, &arp);
    } else if (eth_type_is_mpls(key->eth_type)) {
        size_t n = (size_t) __builtin_popcount(out->mpls_labels & 7);

        return put(w, OVS_KEY_ATTR_MPLS, n * sizeof(struct ovs_key_mpls),
                   out->mpls_lse);
    } else if (key->eth_type == htons(ETH_P_NSH)) {
        return put_nsh(w, key, out, is_mask);
    }
    return true;
}

static bool
put_l4(struct put *w, const struct flow_key *key, const struct flow_key *out)
{
    bool v4 = key->eth_type == htons(ETH_P_IP);
    bool v6 = key->eth_type == htons(ETH_P_IPV6);

    if ((!v4 && !v6) || key->ip_frag == OVS_FRAG_TYPE_LATER) {
        return true;
    }
    if (key->ip_proto == IPPROTO_TCP) {
        struct ovs_key_tcp tcp = { out->tp_src, out->tp_dst };

        return put(w, OVS_KEY_ATTR_TCP, sizeof tcp, &tcp)
               && put_u16(w, OVS_KEY_ATTR_TCP_FLAGS, out->tcp_flags);
    } else if (key->ip_proto == IPPROTO_UDP) {
        struct ovs_key_udp udp = { out->tp_src, out->tp_dst };

        return put(w, OVS_KEY_ATTR_UDP, sizeof udp, &udp);
    } else if (key->ip_proto == IPPROTO_SCTP) {
        struct ovs_key_sctp sctp = { out->tp_src, out->tp_dst };

        return put(w, OVS_KEY_ATTR_SCTP, sizeof sctp, &sctp);
    } else if (v4 && key->ip_proto == IPPROTO_ICMP) {
        struct ovs_key_icmp icmp = {
            (uint8_t) ntohs(out->tp_src), (uint8_t) ntohs(out->tp_dst)
        };

        return put(w, OVS_KEY_ATTR_ICMP, sizeof icmp, &icmp);
    } else if (v6 && key->ip_proto == IPPROTO_ICMPV6) {
        struct ovs_key_icmpv6 icmp = {
            (uint8_t) ntohs(out->tp_src), (uint8_t) ntohs(out->tp_dst)
        };

        if (!put(w, OVS_KEY_ATTR_ICMPV6, sizeof icmp, &icmp)) {
            return false;
        }
        if (key->tp_src == htons(135) || key->tp_src == htons(136)) {
            struct ovs_key_nd nd;

            memcpy(nd.nd_target, out->nd_target, 16);
            memcpy(nd.nd_sll, out->arp_sha, ETH_ALEN);
            memcpy(nd.nd_tll, out->arp_tha, ETH_ALEN);
            return put(w, OVS_KEY_ATTR_ND, sizeof nd, &nd);
        }
    }
    return true;
}

/* Everything after the metadata, in the kernel's order and nesting. */
static bool
put_packet_fields(struct put *w, const struct flow_key *key,
                  const struct flow_key *out, bool is_mask)
{
    struct nlattr *encap = NULL, *in_encap = NULL;
    struct ovs_key_ethernet eth;
    bool ok = true;

    if (key->no_eth) {
        /* A layer-3 packet: its EtherType alone, as the kernel reports a
         * key without MAC header. */
        return put_u16(w, OVS_KEY_ATTR_ETHERTYPE, out->eth_type)
               && put_l3(w, key, out, is_mask) && put_l4(w, key, out);
    }
    memcpy(eth.eth_src, out->eth_src, ETH_ALEN);
    memcpy(eth.eth_dst, out->eth_dst, ETH_ALEN);
    if (!put(w, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth)) {
        return false;
    }

    if (key->vlan_tci || eth_type_is_vlan(key->eth_type)) {
        if (!put_vlan(w, out->vlan_tpid, out->vlan_tci, is_mask)) {
            return false;
        }
        encap = mnl_attr_nest_start_check(w->nlh, w->buflen,
                                          OVS_KEY_ATTR_ENCAP);
        if (!encap) {
            return false;
        }
        if (!key->vlan_tci) {
            goto done;          /* truncated tag: nothing inside */
        }
        if (key->cvlan_tci || eth_type_is_vlan(key->eth_type)) {
            if (!put_vlan(w, out->cvlan_tpid, out->cvlan_tci, is_mask)) {
                return false;
            }
            in_encap = mnl_attr_nest_start_check(w->nlh, w->buflen,
                                                 OVS_KEY_ATTR_ENCAP);
            if (!in_encap) {
                return false;
            }
            if (!key->cvlan_tci) {
                goto done;
            }
        }
    }

    if (key->eth_type == htons(ETH_TYPE_802_2_KEY)) {
        /* 802.2 frames have no EtherType in the key; the mask says
         * whether that is matched. */
        if (is_mask && out->eth_type) {
            ok = put_u16(w, OVS_KEY_ATTR_ETHERTYPE, out->eth_type);
        }
        goto done;
    }
    if (!put_u16(w, OVS_KEY_ATTR_ETHERTYPE, out->eth_type)) {
        return false;
    }
    if (eth_type_is_vlan(key->eth_type)) {
        goto done;              /* a third tag: nothing more is known */
    }
    ok = put_l3(w, key, out, is_mask) && put_l4(w, key, out);

done:
    if (in_encap) {
        mnl_attr_nest_end(w->nlh, in_encap);
    }
    if (encap) {
        mnl_attr_nest_end(w->nlh, encap);
    }
    return ok;
}

static bool
put_key_attrs(struct put *w, const struct flow_key *key,
              const struct flow_key *out, bool is_mask)
{
    /* Conntrack fields are absent, as from a kernel built without
     * conntrack. */
    return put_u32(w, OVS_KEY_ATTR_RECIRC_ID, out->recirc_id)
           && put_u32(w, OVS_KEY_ATTR_DP_HASH, out->dp_hash)
           && put_u32(w, OVS_KEY_ATTR_PRIORITY, out->priority)
           && (!(tunnel_family(&key->tunnel) || is_mask)
               || put_tunnel(w, key, out))
           && put_in_port(w, key, out, is_mask)
           && put_u32(w, OVS_KEY_ATTR_SKB_MARK, out->skb_mark)
           && put_packet_fields(w, key, out, is_mask);
}

int
fnl_put_key(struct nlmsghdr *nlh, size_t buflen, uint16_t type,
            const struct flow_key *key, const struct flow_key *out,
            bool is_mask)
{
    uint32_t old_len = nlh->nlmsg_len;
    struct put w = { nlh, buflen };
    struct nlattr *nest;

    nest = mnl_attr_nest_start_check(nlh, buflen, type);
    if (!nest || !put_key_attrs(&w, key, out, is_mask)) {
        nlh->nlmsg_len = old_len;
        return -EMSGSIZE;
    }
    mnl_attr_nest_end(nlh, nest);
    return 0;
}

int
fnl_normalize_mask(const struct flow_key *key, struct flow_key *mask)
{
    uint8_t buf[2 * FNL_KEY_MAX_SIZE + 64] __attribute__((aligned(4)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct flow_match m;
    const char *why;

    if (fnl_put_key(nlh, sizeof buf, OVS_FLOW_ATTR_KEY, key, key, false)) {
        return -EINVAL;
    }
    const struct nlattr *k = (const void *) (buf + NLMSG_HDRLEN);
    size_t mask_ofs = nlh->nlmsg_len;
    if (fnl_put_key(nlh, sizeof buf, OVS_FLOW_ATTR_MASK, key, mask, true)) {
        return -EINVAL;
    }
    if (fnl_parse_match(k, (const void *) (buf + mask_ofs), &m, &why)) {
        return -EINVAL;
    }
    *mask = m.mask;
    return 0;
}
