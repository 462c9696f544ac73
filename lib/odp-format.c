/* Datapath flows as Open vSwitch's dump-flows text (see odp-format.h).
 *
 * The rules below were taken from the output of Debian's ovs-dpctl 3.1
 * against hvs-dpd (tests/unit/test-odp-format.c holds the captured lines)
 * and from reading Open vSwitch's lib/odp-util.c for the cases ovs-dpctl
 * cannot install.  Where Open vSwitch's text has quirks (ARP op masks
 * shown as "/0xff", "cfi=0", the frag field ignoring -m, sample
 * percentages with one decimal), they are reproduced on purpose: scripts
 * depend on them. */
#include "odp-format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/openvswitch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpif.h"
#include "flow-netlink.h"

/* ---- the buffer --------------------------------------------------------- */

void
odp_buf_put(struct odp_buf *b, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t) n < room) {
            b->len += (size_t) n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t) n + 64;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

const char *
odp_buf_cstr(const struct odp_buf *b)
{
    return b->s ? b->s : "";
}

void
odp_buf_clear(struct odp_buf *b)
{
    b->len = 0;
    if (b->s) {
        b->s[0] = '\0';
    }
}

void
odp_buf_free(struct odp_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

static void
put_str(struct odp_buf *b, const char *s)
{
    odp_buf_put(b, "%s", s);
}

/* Drops a trailing 'c': fields are written "name=value," and the last comma
 * of a group is taken back, which keeps every field writer independent. */
static void
chomp(struct odp_buf *b, char c)
{
    if (b->len && b->s[b->len - 1] == c) {
        b->s[--b->len] = '\0';
    }
}

static void
put_hex_bytes(struct odp_buf *b, const uint8_t *p, size_t n, bool spaced)
{
    for (size_t i = 0; i < n; i++) {
        odp_buf_put(b, spaced && i ? " %02x" : "%02x", p[i]);
    }
}

/* A big-endian number of any width as "0x..." without leading zeros, "0"
 * when zero (Geneve option data, conntrack labels). */
static void
put_hex_number(struct odp_buf *b, const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && !p[i]) {
        i++;
    }
    if (i == n) {
        put_str(b, "0");
        return;
    }
    odp_buf_put(b, "0x%" PRIx8, p[i]);
    for (i++; i < n; i++) {
        odp_buf_put(b, "%02" PRIx8, p[i]);
    }
}

/* ---- small helpers ------------------------------------------------------ */

static bool
all_bytes(const void *p_, size_t n, uint8_t v)
{
    const uint8_t *p = p_;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

static const uint8_t zeros[256];

static uint16_t
get_be16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return ntohs(v);
}

static uint32_t
get_be32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return ntohl(v);
}

static uint32_t
get_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void
put_port(struct odp_buf *b, uint32_t port, const struct odp_format_opts *o)
{
    const char *name = o->port_name ? o->port_name(port, o->aux) : NULL;
    if (name) {
        put_str(b, name);
    } else {
        odp_buf_put(b, "%" PRIu32, port);
    }
}

/* Attribute streams: iteration that stops, like the kernel's, at the first
 * attribute that does not fit. */
#define FOR_EACH_ATTR(A, DATA, LEN)                                       \
    for ((A) = (const struct nlattr *) (DATA);                            \
         mnl_attr_ok((A), (int) ((const char *) (DATA) + (LEN)            \
                                 - (const char *) (A)));                  \
         (A) = mnl_attr_next(A))

static const struct nlattr *
find_attr(const void *data, size_t len, uint16_t type)
{
    const struct nlattr *a;
    FOR_EACH_ATTR (a, data, len) {
        if (mnl_attr_get_type(a) == type) {
            return a;
        }
    }
    return NULL;
}

/* Bytes after the last whole attribute.  The last attribute's padding may
 * be missing, which leaves 'a' up to 3 bytes past the end. */
static size_t
leftover(const void *data, size_t len, const struct nlattr *a)
{
    const char *end = (const char *) data + len;
    return (const char *) a < end ? (size_t) (end - (const char *) a) : 0;
}

static void
put_leftover(struct odp_buf *b, const void *data, size_t len,
             const struct nlattr *a)
{
    size_t left = leftover(data, len, a);
    if (left) {
        if (left == len) {
            put_str(b, "<empty>");
        }
        odp_buf_put(b, ",***%zu leftover bytes*** (", left);
        put_hex_bytes(b, (const uint8_t *) a, left, false);
        put_str(b, ")");
    }
}

/* ---- masks -------------------------------------------------------------- */

/* The mask that applies to one attribute or one stream of attributes:
 * none at all (everything exact, as in set() actions), the attribute's own
 * mask, or an all-zero mask (the attribute is missing from the mask, or
 * sits inside a missing nest). */
enum mask_kind { MASK_NONE, MASK_ATTR, MASK_ZERO };

struct mask {
    enum mask_kind kind;
    const void *p;              /* MASK_ATTR: payload */
    size_t len;
};

static const struct mask no_mask = { MASK_NONE, NULL, 0 };
static const struct mask zero_mask = { MASK_ZERO, NULL, 0 };

/* The mask of attribute 'type' within stream mask 'm'. */
static struct mask
mask_lookup(const struct mask *m, uint16_t type)
{
    if (m->kind == MASK_ATTR) {
        const struct nlattr *a = find_attr(m->p, m->len, type);
        if (a) {
            struct mask r = { MASK_ATTR, mnl_attr_get_payload(a),
                              mnl_attr_get_payload_len(a) };
            return r;
        }
    }
    return m->kind == MASK_NONE ? no_mask : zero_mask;
}

/* The mask bytes of a flat attribute of 'len' bytes, NULL when exact. */
static const uint8_t *
mask_bytes(const struct mask *m, size_t len)
{
    switch (m->kind) {
    case MASK_ATTR:
        return m->p;
    case MASK_ZERO:
        return len <= sizeof zeros ? zeros : NULL;
    case MASK_NONE:
    default:
        return NULL;
    }
}

/* Open vSwitch treats a handful of attributes specially when it decides
 * whether a mask is all-zero or all-ones: only the meaningful bits of the
 * IPv6 label and TCP flags count, and the ARP key's padding is ignored. */
static bool
mask_is_constant(uint16_t type, const uint8_t *m, size_t len, uint8_t v)
{
    switch (type) {
    case OVS_KEY_ATTR_TCP_FLAGS:
        return len == 2 && (get_be16(m) & 0x0fff) == (v ? 0x0fff : 0);
    case OVS_KEY_ATTR_IPV6: {
        struct ovs_key_ipv6 k;
        if (len != sizeof k) {
            return false;
        }
        memcpy(&k, m, sizeof k);
        return (ntohl(k.ipv6_label) & 0xfffff) == (v ? 0xfffffu : 0)
               && k.ipv6_proto == v && k.ipv6_tclass == v
               && k.ipv6_hlimit == v && k.ipv6_frag == v
               && all_bytes(k.ipv6_src, 16, v) && all_bytes(k.ipv6_dst, 16, v);
    }
    case OVS_KEY_ATTR_ARP:
        return all_bytes(m, len < 24 ? len : 24, v);
    case OVS_KEY_ATTR_ENCAP:
    case OVS_KEY_ATTR_UNSPEC:
    case OVS_KEY_ATTR_TUNNEL_INFO:
        return false;
    default:
        if (type > OVS_KEY_ATTR_ND_EXTENSIONS) {
            return false;       /* unknown to Open vSwitch 3.1 */
        }
        return all_bytes(m, len, v);
    }
}

static bool
mask_is_exact(uint16_t type, const struct mask *m)
{
    switch (m->kind) {
    case MASK_NONE:
        return true;
    case MASK_ATTR:
        return mask_is_constant(type, m->p, m->len, 0xff);
    case MASK_ZERO:
    default:
        return false;
    }
}

static bool
mask_is_wildcard(uint16_t type, const struct mask *m)
{
    switch (m->kind) {
    case MASK_NONE:
        return false;
    case MASK_ATTR:
        return mask_is_constant(type, m->p, m->len, 0);
    case MASK_ZERO:
    default:
        return true;
    }
}

/* ---- fields ------------------------------------------------------------- */

/* Every field writer follows one rule: with no mask the field is exact and
 * printed; a zero mask hides it unless verbose; a partial mask prints
 * "value/mask".  Each appends "name=...," and the caller chomps. */

static void
fld_eth(struct odp_buf *b, const char *name, const uint8_t *k,
        const uint8_t *m, bool verbose)
{
    if (m && !verbose && all_bytes(m, 6, 0)) {
        return;
    }
    odp_buf_put(b, "%s=%02x:%02x:%02x:%02x:%02x:%02x", name, k[0], k[1],
                k[2], k[3], k[4], k[5]);
    if (m && !all_bytes(m, 6, 0xff)) {
        odp_buf_put(b, "/%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
                    m[3], m[4], m[5]);
    }
    put_str(b, ",");
}

static void
put_ip4(struct odp_buf *b, const uint8_t *p)
{
    odp_buf_put(b, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

static void
fld_ip4(struct odp_buf *b, const char *name, const uint8_t *k,
        const uint8_t *m, bool verbose)
{
    if (m && !verbose && all_bytes(m, 4, 0)) {
        return;
    }
    odp_buf_put(b, "%s=", name);
    put_ip4(b, k);
    if (m && !all_bytes(m, 4, 0xff)) {
        put_str(b, "/");
        put_ip4(b, m);
    }
    put_str(b, ",");
}

static void
fld_ip6(struct odp_buf *b, const char *name, const uint8_t *k,
        const uint8_t *m, bool verbose)
{
    char s[INET6_ADDRSTRLEN];

    if (m && !verbose && all_bytes(m, 16, 0)) {
        return;
    }
    inet_ntop(AF_INET6, k, s, sizeof s);
    odp_buf_put(b, "%s=%s", name, s);
    if (m && !all_bytes(m, 16, 0xff)) {
        inet_ntop(AF_INET6, m, s, sizeof s);
        odp_buf_put(b, "/%s", s);
    }
    put_str(b, ",");
}

/* A u8 in decimal ('hex' false) or "%#x" ('hex' true); partial masks are
 * always hexadecimal. */
static void
fld_u8(struct odp_buf *b, const char *name, uint8_t k, const uint8_t *m,
       bool verbose, bool hex)
{
    if (m && !*m && !verbose) {
        return;
    }
    odp_buf_put(b, hex ? "%s=%#" PRIx8 : "%s=%" PRIu8, name, k);
    if (m && *m != 0xff) {
        odp_buf_put(b, "/%#" PRIx8, *m);
    }
    put_str(b, ",");
}

/* A be16 (at 'k', mask at 'm') in decimal or hexadecimal. */
static void
fld_be16(struct odp_buf *b, const char *name, const uint8_t *k,
         const uint8_t *m, bool verbose, bool hex)
{
    uint16_t mv = m ? get_be16(m) : 0xffff;

    if (!mv && !verbose) {
        return;
    }
    odp_buf_put(b, hex ? "%s=%#" PRIx16 : "%s=%" PRIu16, name, get_be16(k));
    if (mv != 0xffff) {
        odp_buf_put(b, "/%#" PRIx16, mv);
    }
    put_str(b, ",");
}

static void
fld_be64(struct odp_buf *b, const char *name, const uint8_t *k,
         const uint8_t *m, bool verbose)
{
    uint64_t kv = 0, mv = UINT64_MAX;

    for (int i = 0; i < 8; i++) {
        kv = kv << 8 | k[i];
    }
    if (m) {
        mv = 0;
        for (int i = 0; i < 8; i++) {
            mv = mv << 8 | m[i];
        }
    }
    if (!mv && !verbose) {
        return;
    }
    odp_buf_put(b, "%s=0x%" PRIx64, name, kv);
    if (mv != UINT64_MAX) {
        odp_buf_put(b, "/%#" PRIx64, mv);
    }
    put_str(b, ",");
}

static const char *
frag_name(uint8_t f)
{
    switch (f) {
    case OVS_FRAG_TYPE_NONE:
        return "no";
    case OVS_FRAG_TYPE_FIRST:
        return "first";
    case OVS_FRAG_TYPE_LATER:
        return "later";
    default:
        return "<error>";
    }
}

/* The fragment type is an enumeration: Open vSwitch never shows it
 * wildcarded, even with -m. */
static void
fld_frag(struct odp_buf *b, uint8_t k, const uint8_t *m)
{
    if (m && !*m) {
        return;
    }
    if (m && *m != 0xff) {
        odp_buf_put(b, "error: partial mask not supported for frag (%#" PRIx8
                    "),", *m);
        return;
    }
    odp_buf_put(b, "frag=%s,", frag_name(k));
}

/* ---- flags -------------------------------------------------------------- */

typedef const char *bit_name_fn(uint32_t bit);

static const char *
tcp_flag_name(uint32_t bit)
{
    static const char *const names[] = {
        "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns",
        "[200]", "[400]", "[800]",
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (bit == 1u << i) {
            return names[i];
        }
    }
    return NULL;
}

/* Tunnel flags in Open vSwitch's own numbering (oam, df, csum, key), which
 * is the order they print in. */
#define TNL_OAM 0x1
#define TNL_DF 0x2
#define TNL_CSUM 0x4
#define TNL_KEY 0x8
#define TNL_ALL 0xf

static const char *
tnl_flag_name(uint32_t bit)
{
    switch (bit) {
    case TNL_OAM:
        return "oam";
    case TNL_DF:
        return "df";
    case TNL_CSUM:
        return "csum";
    case TNL_KEY:
        return "key";
    default:
        return NULL;
    }
}

static const char *
slow_path_name(uint32_t bit)
{
    static const char *const names[] = {
        "cfm", "bfd", "lacp", "stp", "lldp", "action", "match",
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (bit == 1u << i) {
            return names[i];
        }
    }
    return NULL;
}

/* Set bits lowest first, joined by 'sep'; unnamed bits gathered in hex at
 * the end; "0" when none. */
static void
put_flags(struct odp_buf *b, bit_name_fn *name, uint32_t flags, char sep)
{
    uint32_t unknown = 0;

    if (!flags) {
        put_str(b, "0");
        return;
    }
    while (flags) {
        uint32_t bit = flags & -flags;
        const char *s = name(bit);
        if (s) {
            odp_buf_put(b, "%s%c", s, sep);
        } else {
            unknown |= bit;
        }
        flags &= ~bit;
    }
    if (unknown) {
        odp_buf_put(b, "0x%" PRIx32 "%c", unknown, sep);
    }
    chomp(b, sep);
}

/* Masked flags: "+name" for a matched set bit, "-name" for a matched clear
 * one; the plain list when the mask is 'all'; "0/0" when nothing is
 * matched. */
static void
put_flags_masked(struct odp_buf *b, bit_name_fn *name, uint32_t flags,
                 uint32_t mask, uint32_t all)
{
    if (mask == all) {
        put_flags(b, name, flags, '|');
        return;
    }
    if (!mask) {
        put_str(b, "0/0");
        return;
    }
    while (mask) {
        uint32_t bit = mask & -mask;
        const char *s = name(bit);
        odp_buf_put(b, "%c%s", flags & bit ? '+' : '-', s ? s : "[Unknown]");
        mask &= ~bit;
    }
}

void
odp_format_tcp_flags(struct odp_buf *b, uint16_t f)
{
    /* tcpdump's letters and order, not the bit order. */
    static const struct {
        uint16_t bit;
        const char *s;
    } letters[] = {
        { 0x002, "S" }, { 0x001, "F" }, { 0x008, "P" }, { 0x004, "R" },
        { 0x020, "U" }, { 0x010, "." }, { 0x040, "E" }, { 0x080, "C" },
        { 0x100, "N" }, { 0x200, "[200]" }, { 0x400, "[400]" },
        { 0x800, "[800]" },
    };

    if (!f) {
        put_str(b, "none");
        return;
    }
    for (unsigned i = 0; i < sizeof letters / sizeof letters[0]; i++) {
        if (f & letters[i].bit) {
            put_str(b, letters[i].s);
        }
    }
}

/* ---- key attributes ----------------------------------------------------- */

/* Payload lengths Open vSwitch checks before formatting; -1 variable,
 * -2 nested. */
#define LEN_VAR (-1)
#define LEN_NESTED (-2)

static int
key_attr_len(uint16_t type)
{
    switch (type) {
    case OVS_KEY_ATTR_ENCAP:
    case OVS_KEY_ATTR_TUNNEL:
    case OVS_KEY_ATTR_NSH:
        return LEN_NESTED;
    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_DP_HASH:
    case OVS_KEY_ATTR_RECIRC_ID:
    case OVS_KEY_ATTR_IN_PORT:
    case OVS_KEY_ATTR_CT_STATE:
    case OVS_KEY_ATTR_CT_MARK:
    case OVS_KEY_ATTR_PACKET_TYPE:
        return 4;
    case OVS_KEY_ATTR_VLAN:
    case OVS_KEY_ATTR_ETHERTYPE:
    case OVS_KEY_ATTR_TCP_FLAGS:
    case OVS_KEY_ATTR_CT_ZONE:
        return 2;
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
    case OVS_KEY_ATTR_ICMP:
        return sizeof(struct ovs_key_icmp);
    case OVS_KEY_ATTR_ICMPV6:
        return sizeof(struct ovs_key_icmpv6);
    case OVS_KEY_ATTR_ARP:
        return sizeof(struct ovs_key_arp);
    case OVS_KEY_ATTR_ND:
        return sizeof(struct ovs_key_nd);
    case OVS_KEY_ATTR_ND_EXTENSIONS:
        return 8;            /* struct ovs_key_nd_extensions */
    case OVS_KEY_ATTR_CT_LABELS:
        return sizeof(struct ovs_key_ct_labels);
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4:
        return sizeof(struct ovs_key_ct_tuple_ipv4);
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6:
        return sizeof(struct ovs_key_ct_tuple_ipv6);
    default:
        return LEN_VAR;
    }
}

static const char *
key_attr_name(uint16_t type, char buf[16])
{
    static const char *const names[] = {
        [OVS_KEY_ATTR_UNSPEC] = "unspec",
        [OVS_KEY_ATTR_ENCAP] = "encap",
        [OVS_KEY_ATTR_PRIORITY] = "skb_priority",
        [OVS_KEY_ATTR_IN_PORT] = "in_port",
        [OVS_KEY_ATTR_ETHERNET] = "eth",
        [OVS_KEY_ATTR_VLAN] = "vlan",
        [OVS_KEY_ATTR_ETHERTYPE] = "eth_type",
        [OVS_KEY_ATTR_IPV4] = "ipv4",
        [OVS_KEY_ATTR_IPV6] = "ipv6",
        [OVS_KEY_ATTR_TCP] = "tcp",
        [OVS_KEY_ATTR_UDP] = "udp",
        [OVS_KEY_ATTR_ICMP] = "icmp",
        [OVS_KEY_ATTR_ICMPV6] = "icmpv6",
        [OVS_KEY_ATTR_ARP] = "arp",
        [OVS_KEY_ATTR_ND] = "nd",
        [OVS_KEY_ATTR_SKB_MARK] = "skb_mark",
        [OVS_KEY_ATTR_TUNNEL] = "tunnel",
        [OVS_KEY_ATTR_SCTP] = "sctp",
        [OVS_KEY_ATTR_TCP_FLAGS] = "tcp_flags",
        [OVS_KEY_ATTR_DP_HASH] = "dp_hash",
        [OVS_KEY_ATTR_RECIRC_ID] = "recirc_id",
        [OVS_KEY_ATTR_MPLS] = "mpls",
        [OVS_KEY_ATTR_CT_STATE] = "ct_state",
        [OVS_KEY_ATTR_CT_ZONE] = "ct_zone",
        [OVS_KEY_ATTR_CT_MARK] = "ct_mark",
        [OVS_KEY_ATTR_CT_LABELS] = "ct_label",
        [OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4] = "ct_tuple4",
        [OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6] = "ct_tuple6",
        [OVS_KEY_ATTR_NSH] = "nsh",
        [OVS_KEY_ATTR_PACKET_TYPE] = "packet_type",
        [OVS_KEY_ATTR_ND_EXTENSIONS] = "nd_ext",
        [OVS_KEY_ATTR_TUNNEL_INFO] = "<error: kernel-only tunnel_info>",
    };
    if (type < sizeof names / sizeof names[0] && names[type]) {
        return names[type];
    }
    snprintf(buf, 16, "key%u", type);
    return buf;
}

static void key_stream(struct odp_buf *, const void *key, size_t len,
                       const struct mask *, const struct odp_format_opts *,
                       bool verbose);

static void
fmt_vlan_tci(struct odp_buf *b, uint16_t tci, uint16_t mask, bool verbose)
{
    uint16_t vid = tci & 0xfff, vid_m = mask & 0xfff;
    unsigned pcp = tci >> 13, pcp_m = mask >> 13;

    if (verbose || vid || vid_m) {
        odp_buf_put(b, "vid=%" PRIu16, vid);
        if (vid_m != 0xfff) {
            odp_buf_put(b, "/0x%" PRIx16, vid_m);
        }
        put_str(b, ",");
    }
    if (verbose || pcp || pcp_m) {
        odp_buf_put(b, "pcp=%u", pcp);
        if (pcp_m != 7) {
            odp_buf_put(b, "/0x%x", pcp_m);
        }
        put_str(b, ",");
    }
    if (!(tci & 0x1000)) {
        put_str(b, "cfi=0,");
    }
    chomp(b, ',');
}

static void
put_mpls_lse(struct odp_buf *b, uint32_t lse)
{
    odp_buf_put(b, "label=%" PRIu32 ",tc=%u,ttl=%u,bos=%u", lse >> 12,
                (unsigned) (lse >> 9) & 7, (unsigned) lse & 0xff,
                (unsigned) (lse >> 8) & 1);
}

static void
fmt_mpls(struct odp_buf *b, const uint8_t *k, size_t len, const uint8_t *m,
         size_t mlen, bool exact)
{
    if (!len || len % 4) {
        odp_buf_put(b, "(bad key length %zu)", len);
        return;
    }
    if (!exact && mlen != len) {
        odp_buf_put(b, "(key length %zu != mask length %zu)", len, mlen);
        return;
    }
    for (size_t i = 0; i < len; i += 4) {
        uint32_t kv = get_be32(k + i);
        if (exact) {
            put_mpls_lse(b, kv);
        } else {
            uint32_t mv = get_be32(m + i);
            odp_buf_put(b, "label=%" PRIu32 "/0x%" PRIx32 ",tc=%u/%x,"
                        "ttl=%u/0x%x,bos=%u/%x", kv >> 12, mv >> 12,
                        (unsigned) (kv >> 9) & 7, (unsigned) (mv >> 9) & 7,
                        (unsigned) kv & 0xff, (unsigned) mv & 0xff,
                        (unsigned) (kv >> 8) & 1, (unsigned) (mv >> 8) & 1);
        }
        put_str(b, ",");
    }
    chomp(b, ',');
}

/* Tunnel sub-attribute "keyN(hex[/hex])," for what Open vSwitch 3.1 does
 * not know or hvs never sends. */
static void
fmt_unknown_sub(struct odp_buf *b, const struct nlattr *a,
                const uint8_t *m, size_t mlen)
{
    odp_buf_put(b, "key%u(", mnl_attr_get_type(a));
    put_hex_bytes(b, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
                  true);
    if (m && !all_bytes(m, mlen, 0xff)) {
        put_str(b, "/");
        put_hex_bytes(b, m, mlen, true);
    }
    put_str(b, "),");
}

static void
fmt_geneve(struct odp_buf *b, const uint8_t *k, size_t len, const uint8_t *m,
           size_t mlen, bool verbose)
{
    if (m && mlen != len) {
        odp_buf_put(b, "value len %zu different from mask len %zu", len,
                    mlen);
        return;
    }
    while (len > 0) {
        if (len < 4) {
            odp_buf_put(b, "opt len %zu less than minimum 4", len);
            return;
        }
        size_t data_len = (size_t) (k[3] & 0x1f) * 4;
        size_t opt_len = 4 + data_len;
        if (opt_len > len) {
            odp_buf_put(b, "opt len %zu greater than remaining %zu", opt_len,
                        len);
            return;
        }
        uint8_t len_m = 0;
        if (m) {
            len_m = (m[3] & 0x1f) == 0x1f ? 0xff : m[3] & 0x1f;
        }
        uint8_t dl = (uint8_t) data_len;

        put_str(b, "{");
        fld_be16(b, "class", k, m, verbose, true);
        fld_u8(b, "type", k[2], m ? &m[2] : NULL, verbose, true);
        fld_u8(b, "len", dl, m ? &len_m : NULL, verbose, false);
        if (data_len && (verbose || !m || !all_bytes(m + 4, data_len, 0))) {
            put_hex_number(b, k + 4, data_len);
            if (m && !all_bytes(m + 4, data_len, 0xff)) {
                put_str(b, "/");
                put_hex_number(b, m + 4, data_len);
            }
        } else {
            chomp(b, ',');
        }
        put_str(b, "}");
        k += opt_len;
        if (m) {
            m += opt_len;
        }
        len -= opt_len;
    }
}

static void
fmt_vxlan_opts(struct odp_buf *b, const struct nlattr *nest,
               const struct mask *mm, bool verbose)
{
    const struct nlattr *a;

    FOR_EACH_ATTR (a, mnl_attr_get_payload(nest),
                   mnl_attr_get_payload_len(nest)) {
        struct mask sm = mask_lookup(mm, mnl_attr_get_type(a));
        const uint8_t *m = mask_bytes(&sm, mnl_attr_get_payload_len(a));

        if (mnl_attr_get_type(a) == OVS_VXLAN_EXT_GBP
            && mnl_attr_get_payload_len(a) == 4
            && (!m || sm.kind != MASK_ATTR || sm.len == 4)) {
            uint32_t kv = get_u32(mnl_attr_get_payload(a));
            uint32_t mv = m ? get_u32(m) : 0;
            uint8_t id[2] = { (uint8_t) (kv >> 8), (uint8_t) kv };
            uint8_t id_m[2] = { (uint8_t) (mv >> 8), (uint8_t) mv };
            uint8_t fl_m = (uint8_t) (mv >> 16);

            put_str(b, "gbp(");
            fld_be16(b, "id", id, m ? id_m : NULL, verbose, false);
            fld_u8(b, "flags", (uint8_t) (kv >> 16), m ? &fl_m : NULL,
                   verbose, true);
            chomp(b, ',');
            put_str(b, "),");
        } else {
            fmt_unknown_sub(b, a, m, sm.kind == MASK_ATTR ? sm.len : 0);
        }
    }
    chomp(b, ',');
}

static int
tnl_sub_len(uint16_t type)
{
    switch (type) {
    case OVS_TUNNEL_KEY_ATTR_ID:
        return 8;
    case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
    case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
        return 4;
    case OVS_TUNNEL_KEY_ATTR_TOS:
    case OVS_TUNNEL_KEY_ATTR_TTL:
        return 1;
    case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
    case OVS_TUNNEL_KEY_ATTR_CSUM:
    case OVS_TUNNEL_KEY_ATTR_OAM:
        return 0;
    case OVS_TUNNEL_KEY_ATTR_TP_SRC:
    case OVS_TUNNEL_KEY_ATTR_TP_DST:
        return 2;
    case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
    case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
        return 16;
    default:
        return LEN_VAR;
    }
}

/* tunnel(...): 'm' is the tunnel's own mask. */
static void
fmt_tunnel(struct odp_buf *b, const struct nlattr *nest, const struct mask *m,
           bool verbose)
{
    const struct nlattr *a;
    uint32_t flags = 0, mask_flags = 0;

    FOR_EACH_ATTR (a, mnl_attr_get_payload(nest),
                   mnl_attr_get_payload_len(nest)) {
        uint16_t type = mnl_attr_get_type(a);
        size_t len = mnl_attr_get_payload_len(a);
        const uint8_t *k = mnl_attr_get_payload(a);
        struct mask sm = mask_lookup(m, type);
        const uint8_t *mb = mask_bytes(&sm, len);
        int want = tnl_sub_len(type);

        if (want >= 0 && (len != (size_t) want
                          || (sm.kind == MASK_ATTR && sm.len != len))) {
            odp_buf_put(b, "key%u(bad length %zu)", type, len);
            continue;
        }
        switch (type) {
        case OVS_TUNNEL_KEY_ATTR_ID:
            fld_be64(b, "tun_id", k, mb, verbose);
            flags |= TNL_KEY;
            if (m->kind != MASK_NONE) {
                mask_flags |= TNL_KEY;
            }
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
            fld_ip4(b, "src", k, mb, verbose);
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
            fld_ip4(b, "dst", k, mb, verbose);
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
            fld_ip6(b, "ipv6_src", k, mb, verbose);
            break;
        case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
            fld_ip6(b, "ipv6_dst", k, mb, verbose);
            break;
        case OVS_TUNNEL_KEY_ATTR_TOS:
            fld_u8(b, "tos", k[0], mb, verbose, true);
            break;
        case OVS_TUNNEL_KEY_ATTR_TTL:
            fld_u8(b, "ttl", k[0], mb, verbose, false);
            break;
        case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
            flags |= TNL_DF;
            break;
        case OVS_TUNNEL_KEY_ATTR_CSUM:
            flags |= TNL_CSUM;
            break;
        case OVS_TUNNEL_KEY_ATTR_OAM:
            flags |= TNL_OAM;
            break;
        case OVS_TUNNEL_KEY_ATTR_TP_SRC:
            fld_be16(b, "tp_src", k, mb, verbose, false);
            break;
        case OVS_TUNNEL_KEY_ATTR_TP_DST:
            fld_be16(b, "tp_dst", k, mb, verbose, false);
            break;
        case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS:
            put_str(b, "geneve(");
            fmt_geneve(b, k, len, mb, sm.kind == MASK_ATTR ? sm.len : len,
                       verbose);
            put_str(b, "),");
            break;
        case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS:
            put_str(b, "vxlan(");
            fmt_vxlan_opts(b, a, &sm, verbose);
            put_str(b, "),");
            break;
        case OVS_TUNNEL_KEY_ATTR_PAD:
            break;
        default:
            fmt_unknown_sub(b, a, mb, sm.kind == MASK_ATTR ? sm.len : len);
            break;
        }
    }

    /* A flag's mask is the presence of the flag attribute in the mask; a
     * missing tunnel mask stands for one that lists the key's flags. */
    if (m->kind == MASK_ATTR) {
        FOR_EACH_ATTR (a, m->p, m->len) {
            switch (mnl_attr_get_type(a)) {
            case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
                mask_flags |= TNL_DF;
                break;
            case OVS_TUNNEL_KEY_ATTR_CSUM:
                mask_flags |= TNL_CSUM;
                break;
            case OVS_TUNNEL_KEY_ATTR_OAM:
                mask_flags |= TNL_OAM;
                break;
            }
        }
    } else if (m->kind == MASK_ZERO) {
        mask_flags |= flags & (TNL_DF | TNL_CSUM | TNL_OAM);
    }

    if (m->kind == MASK_NONE) {
        put_str(b, "flags(");
        put_flags(b, tnl_flag_name, flags, '|');
        put_str(b, "),");
    } else if (mask_flags || verbose) {
        put_str(b, "flags(");
        put_flags_masked(b, tnl_flag_name, flags, mask_flags, TNL_ALL);
        put_str(b, "),");
    }
    chomp(b, ',');
}

/* One key attribute 'a' under mask 'm' (its own), including its name. */
static void
key_attr(struct odp_buf *b, const struct nlattr *a, const struct mask *m,
         const struct odp_format_opts *o, bool verbose)
{
    uint16_t type = mnl_attr_get_type(a);
    const uint8_t *k = mnl_attr_get_payload(a);
    size_t len = mnl_attr_get_payload_len(a);
    const uint8_t *mb = mask_bytes(m, len);
    bool exact = mask_is_exact(type, m);
    char namebuf[16];

    odp_buf_put(b, "%s(", key_attr_name(type, namebuf));
    switch (type) {
    case OVS_KEY_ATTR_ENCAP:
        if (m->kind == MASK_ATTR && m->len && len) {
            key_stream(b, k, len, m, o, verbose);
        } else if (m->kind == MASK_ZERO && len) {
            key_stream(b, k, len, &zero_mask, o, verbose);
        } else if (len) {
            key_stream(b, k, len, &no_mask, o, verbose);
        }
        break;

    case OVS_KEY_ATTR_PRIORITY:
    case OVS_KEY_ATTR_SKB_MARK:
    case OVS_KEY_ATTR_DP_HASH:
    case OVS_KEY_ATTR_RECIRC_ID:
        odp_buf_put(b, "%#" PRIx32, get_u32(k));
        if (!exact) {
            odp_buf_put(b, "/%#" PRIx32, get_u32(mb));
        }
        break;

    case OVS_KEY_ATTR_IN_PORT:
        if (exact) {
            put_port(b, get_u32(k), o);
        } else {
            odp_buf_put(b, "%" PRIu32 "/%#" PRIx32, get_u32(k), get_u32(mb));
        }
        break;

    case OVS_KEY_ATTR_TUNNEL:
        fmt_tunnel(b, a, m, verbose);
        break;

    case OVS_KEY_ATTR_ETHERNET:
        fld_eth(b, "src", k, mb, verbose);
        fld_eth(b, "dst", k + 6, mb ? mb + 6 : NULL, verbose);
        chomp(b, ',');
        break;

    case OVS_KEY_ATTR_VLAN:
        fmt_vlan_tci(b, get_be16(k), mb ? get_be16(mb) : 0xffff, verbose);
        break;

    case OVS_KEY_ATTR_MPLS:
        fmt_mpls(b, k, len, mb, m->kind == MASK_ATTR ? m->len : len, exact);
        break;

    case OVS_KEY_ATTR_ETHERTYPE:
        odp_buf_put(b, "0x%04" PRIx16, get_be16(k));
        if (!exact) {
            odp_buf_put(b, "/0x%04" PRIx16, get_be16(mb));
        }
        break;

    case OVS_KEY_ATTR_IPV4: {
        const struct ovs_key_ipv4 *km = NULL;
        struct ovs_key_ipv4 kv, mv;
        memcpy(&kv, k, sizeof kv);
        if (mb) {
            memcpy(&mv, mb, sizeof mv);
            km = &mv;
        }
        fld_ip4(b, "src", (const uint8_t *) &kv.ipv4_src,
                km ? (const uint8_t *) &km->ipv4_src : NULL, verbose);
        fld_ip4(b, "dst", (const uint8_t *) &kv.ipv4_dst,
                km ? (const uint8_t *) &km->ipv4_dst : NULL, verbose);
        fld_u8(b, "proto", kv.ipv4_proto, km ? &km->ipv4_proto : NULL,
               verbose, false);
        fld_u8(b, "tos", kv.ipv4_tos, km ? &km->ipv4_tos : NULL, verbose,
               true);
        fld_u8(b, "ttl", kv.ipv4_ttl, km ? &km->ipv4_ttl : NULL, verbose,
               false);
        fld_frag(b, kv.ipv4_frag, km ? &km->ipv4_frag : NULL);
        chomp(b, ',');
        break;
    }

    case OVS_KEY_ATTR_IPV6: {
        const struct ovs_key_ipv6 *km = NULL;
        struct ovs_key_ipv6 kv, mv;
        memcpy(&kv, k, sizeof kv);
        if (mb) {
            memcpy(&mv, mb, sizeof mv);
            km = &mv;
        }
        fld_ip6(b, "src", (const uint8_t *) kv.ipv6_src,
                km ? (const uint8_t *) km->ipv6_src : NULL, verbose);
        fld_ip6(b, "dst", (const uint8_t *) kv.ipv6_dst,
                km ? (const uint8_t *) km->ipv6_dst : NULL, verbose);
        if (!km || km->ipv6_label || verbose) {
            uint32_t lm = km ? ntohl(km->ipv6_label) : 0xffffffffu;
            odp_buf_put(b, "label=%#" PRIx32, ntohl(kv.ipv6_label));
            if ((lm & 0xfffff) != 0xfffff) {
                odp_buf_put(b, "/%#" PRIx32, lm);
            }
            put_str(b, ",");
        }
        fld_u8(b, "proto", kv.ipv6_proto, km ? &km->ipv6_proto : NULL,
               verbose, false);
        fld_u8(b, "tclass", kv.ipv6_tclass, km ? &km->ipv6_tclass : NULL,
               verbose, true);
        fld_u8(b, "hlimit", kv.ipv6_hlimit, km ? &km->ipv6_hlimit : NULL,
               verbose, false);
        fld_frag(b, kv.ipv6_frag, km ? &km->ipv6_frag : NULL);
        chomp(b, ',');
        break;
    }

    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP:
        fld_be16(b, "src", k, mb, verbose, false);
        fld_be16(b, "dst", k + 2, mb ? mb + 2 : NULL, verbose, false);
        chomp(b, ',');
        break;

    case OVS_KEY_ATTR_TCP_FLAGS:
        if (!exact) {
            put_flags_masked(b, tcp_flag_name, get_be16(k),
                             get_be16(mb) & 0x0fff, 0x0fff);
        } else {
            put_flags(b, tcp_flag_name, get_be16(k), '|');
        }
        break;

    case OVS_KEY_ATTR_ICMP:
    case OVS_KEY_ATTR_ICMPV6:
        fld_u8(b, "type", k[0], mb, verbose, false);
        fld_u8(b, "code", k[1], mb ? mb + 1 : NULL, verbose, false);
        chomp(b, ',');
        break;

    case OVS_KEY_ATTR_ARP: {
        /* sip, tip, op (be16), sha, tha, as in struct ovs_key_arp. */
        fld_ip4(b, "sip", k, mb, verbose);
        fld_ip4(b, "tip", k + 4, mb ? mb + 4 : NULL, verbose);
        fld_be16(b, "op", k + 8, mb ? mb + 8 : NULL, verbose, false);
        fld_eth(b, "sha", k + 10, mb ? mb + 10 : NULL, verbose);
        fld_eth(b, "tha", k + 16, mb ? mb + 16 : NULL, verbose);
        chomp(b, ',');
        break;
    }

    case OVS_KEY_ATTR_ND:
        fld_ip6(b, "target", k, mb, verbose);
        fld_eth(b, "sll", k + 16, mb ? mb + 16 : NULL, verbose);
        fld_eth(b, "tll", k + 22, mb ? mb + 22 : NULL, verbose);
        chomp(b, ',');
        break;

    case OVS_KEY_ATTR_PACKET_TYPE: {
        uint32_t v = get_be32(k), mv = mb ? get_be32(mb) : UINT32_MAX;
        uint8_t ns[2] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16) };
        uint8_t ns_m[2] = { (uint8_t) (mv >> 24), (uint8_t) (mv >> 16) };
        fld_be16(b, "ns", ns, ns_m, verbose, false);
        fld_be16(b, "id", k + 2, mb ? mb + 2 : (const uint8_t *) "\xff\xff",
                 verbose, true);
        chomp(b, ',');
        break;
    }

    default:
        /* Conntrack, NSH and the rest: hvs never sends them; print the
         * bytes as Open vSwitch does for attributes it cannot decode. */
        put_hex_bytes(b, k, len, true);
        if (!exact && mb) {
            put_str(b, "/");
            put_hex_bytes(b, mb, len, true);
        }
        break;
    }
    put_str(b, ")");
}

static void
key_stream(struct odp_buf *b, const void *key, size_t key_len,
           const struct mask *m, const struct odp_format_opts *o,
           bool verbose)
{
    const struct nlattr *a;
    bool first = true, has_eth_type = false, has_packet_type = false;

    if (!key_len) {
        put_str(b, "<empty>");
        return;
    }
    FOR_EACH_ATTR (a, key, key_len) {
        uint16_t type = mnl_attr_get_type(a);
        struct mask am = mask_lookup(m, type);
        int want = key_attr_len(type);
        size_t len = mnl_attr_get_payload_len(a);

        if (want >= 0 && (len != (size_t) want
                          || (am.kind == MASK_ATTR && am.len != len))) {
            char namebuf[16];
            odp_buf_put(b, "%s%s(bad length %zu, expected %d)",
                        first ? "" : ",", key_attr_name(type, namebuf), len,
                        want);
            first = false;
            continue;
        }
        if (type == OVS_KEY_ATTR_ETHERTYPE) {
            has_eth_type = true;
        } else if (type == OVS_KEY_ATTR_PACKET_TYPE) {
            has_packet_type = true;
        }

        bool wildcard = mask_is_wildcard(type, &am);
        if (verbose || !wildcard || want == LEN_NESTED) {
            if (!first) {
                put_str(b, ",");
            }
            key_attr(b, a, &am, o, verbose);
            first = false;
        } else if (type == OVS_KEY_ATTR_ETHERNET && !has_packet_type) {
            /* An Ethernet attribute means "this is an Ethernet frame" to
             * a kernel datapath, so it is shown even when wildcarded. */
            put_str(b, first ? "eth()" : ",eth()");
            first = false;
        } else if (type == OVS_KEY_ATTR_PACKET_TYPE) {
            has_packet_type = false;
        }
    }
    put_leftover(b, key, key_len, a);

    /* An 802.2 frame has no EtherType in its key but may match its absence
     * in the mask. */
    if (!has_eth_type && m->kind == MASK_ATTR) {
        const struct nlattr *ma = find_attr(m->p, m->len,
                                            OVS_KEY_ATTR_ETHERTYPE);
        if (ma && mnl_attr_get_payload_len(ma) >= 2) {
            odp_buf_put(b, ",eth_type(0/0x%04" PRIx16 ")",
                        get_be16(mnl_attr_get_payload(ma)));
        }
    }
}

static const struct odp_format_opts default_opts;

void
odp_format_key_attrs(struct odp_buf *b, const void *key, size_t key_len,
                     const void *mask, size_t mask_len,
                     const struct odp_format_opts *o)
{
    struct mask m = { MASK_ATTR, mask, mask_len };

    if (!o) {
        o = &default_opts;
    }
    if (!mask || !mask_len) {
        m = no_mask;
    }
    key_stream(b, key, key_len, &m, o, o->verbose);
}

int
odp_format_match(struct odp_buf *b, const struct flow_key *key,
                 const struct flow_key *mask,
                 const struct odp_format_opts *o)
{
    /* Room for the message header and both nests. */
    static _Thread_local uint64_t
        buf[(MNL_NLMSG_HDRLEN + 2 * FNL_KEY_MAX_SIZE) / 8 + 1];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct nlattr *k, *m;

    k = (struct nlattr *) mnl_nlmsg_get_payload_tail(nlh);
    if (fnl_put_key(nlh, sizeof buf, OVS_FLOW_ATTR_KEY, key, key, false)) {
        return -EMSGSIZE;
    }
    m = (struct nlattr *) mnl_nlmsg_get_payload_tail(nlh);
    if (fnl_put_key(nlh, sizeof buf, OVS_FLOW_ATTR_MASK, key, mask, true)) {
        return -EMSGSIZE;
    }
    odp_format_key_attrs(b, mnl_attr_get_payload(k),
                         mnl_attr_get_payload_len(k),
                         mnl_attr_get_payload(m),
                         mnl_attr_get_payload_len(m), o);
    return 0;
}

/* ---- actions ------------------------------------------------------------ */

static void actions_list(struct odp_buf *, const void *, size_t,
                         const struct odp_format_opts *);

static void
act_generic(struct odp_buf *b, const struct nlattr *a)
{
    size_t len = mnl_attr_get_payload_len(a);
    const uint8_t *p = mnl_attr_get_payload(a);

    odp_buf_put(b, "action%u", mnl_attr_get_type(a));
    for (size_t i = 0; i < len; i++) {
        odp_buf_put(b, "%c%02x", i ? ' ' : '(', p[i]);
    }
    if (len) {
        put_str(b, ")");
    }
}

/* Open vSwitch's user_action_cookie (48 bytes, host order): what
 * ovs-vswitchd puts in userdata and ovs-dpctl decodes, so a 48-byte
 * userdata is printed as the cookie it would be to Open vSwitch. */
enum {
    COOKIE_LEN = 48,
    COOKIE_SFLOW = 1,
    COOKIE_SLOW_PATH = 2,
    COOKIE_FLOW_SAMPLE = 3,
    COOKIE_IPFIX = 4,
    COOKIE_CONTROLLER = 5,
};

static uint16_t
get_u16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Decodes an Open vSwitch cookie; false if 'u' is not one. */
static bool
fmt_cookie(struct odp_buf *b, const uint8_t *u, size_t len,
           const struct odp_format_opts *o)
{
    if (len != COOKIE_LEN) {
        return false;
    }
    /* After the type, the OpenFlow port and the ofproto UUID comes a union
     * that the compiler aligns to 8 bytes. */
    const uint8_t *x = u + 24;
    switch (get_u16(u)) {
    case COOKIE_SFLOW: {
        uint16_t tci = get_be16(x);
        odp_buf_put(b, ",sFlow(vid=%u,pcp=%u,output=%" PRIu32 ")",
                    tci & 0xfffu, (unsigned) tci >> 13, get_u32(x + 4));
        return true;
    }
    case COOKIE_SLOW_PATH:
        put_str(b, ",slow_path(");
        put_flags(b, slow_path_name, get_u32(x + 4), ',');
        put_str(b, ")");
        return true;
    case COOKIE_FLOW_SAMPLE: {
        uint32_t dir = get_u32(x + 20);
        odp_buf_put(b, ",flow_sample(probability=%u,collector_set_id=%" PRIu32
                    ",obs_domain_id=%" PRIu32 ",obs_point_id=%" PRIu32
                    ",output_port=", get_u16(x), get_u32(x + 4),
                    get_u32(x + 8), get_u32(x + 12));
        put_port(b, get_u32(x + 16), o);
        put_str(b, dir == 1 ? ",ingress)" : dir == 2 ? ",egress)" : ")");
        return true;
    }
    case COOKIE_IPFIX:
        put_str(b, ",ipfix(output_port=");
        put_port(b, get_u32(x), o);
        put_str(b, ")");
        return true;
    case COOKIE_CONTROLLER: {
        uint64_t cookie = (uint64_t) get_be32(x + 8) << 32 | get_be32(x + 12);
        odp_buf_put(b, ",controller(reason=%u,dont_send=%d,continuation=%d,"
                    "recirc_id=%" PRIu32 ",rule_cookie=%#" PRIx64
                    ",controller_id=%u,max_len=%u)", get_u16(x + 2), !!x[0],
                    !!x[1], get_u32(x + 4), cookie, get_u16(x + 16),
                    get_u16(x + 18));
        return true;
    }
    default:
        return false;
    }
}

static void
act_userspace(struct odp_buf *b, const struct nlattr *act,
              const struct odp_format_opts *o)
{
    const struct nlattr *a, *pid = NULL, *data = NULL, *tun = NULL;
    bool actions = false;

    FOR_EACH_ATTR (a, mnl_attr_get_payload(act),
                   mnl_attr_get_payload_len(act)) {
        switch (mnl_attr_get_type(a)) {
        case OVS_USERSPACE_ATTR_PID:
            pid = a;
            break;
        case OVS_USERSPACE_ATTR_USERDATA:
            data = a;
            break;
        case OVS_USERSPACE_ATTR_EGRESS_TUN_PORT:
            tun = a;
            break;
        case OVS_USERSPACE_ATTR_ACTIONS:
            actions = true;
            break;
        }
    }
    if (!pid || mnl_attr_get_payload_len(pid) != 4
        || (tun && mnl_attr_get_payload_len(tun) != 4)) {
        put_str(b, "userspace(error)");
        return;
    }
    odp_buf_put(b, "userspace(pid=%" PRIu32, mnl_attr_get_u32(pid));
    if (data) {
        const uint8_t *u = mnl_attr_get_payload(data);
        size_t n = mnl_attr_get_payload_len(data);
        if (!fmt_cookie(b, u, n, o)) {
            put_str(b, ",userdata(");
            put_hex_bytes(b, u, n, false);
            put_str(b, ")");
        }
    }
    if (actions) {
        put_str(b, ",actions");
    }
    if (tun) {
        put_str(b, ",tunnel_out_port=");
        put_port(b, mnl_attr_get_u32(tun), o);
    }
    put_str(b, ")");
}

static void
act_sample(struct odp_buf *b, const struct nlattr *act,
           const struct odp_format_opts *o)
{
    const struct nlattr *a, *prob = NULL, *acts = NULL;

    put_str(b, "sample");
    FOR_EACH_ATTR (a, mnl_attr_get_payload(act),
                   mnl_attr_get_payload_len(act)) {
        if (mnl_attr_get_type(a) == OVS_SAMPLE_ATTR_PROBABILITY) {
            prob = a;
        } else if (mnl_attr_get_type(a) == OVS_SAMPLE_ATTR_ACTIONS) {
            acts = a;
        }
    }
    if (!prob || !acts || mnl_attr_get_payload_len(prob) != 4) {
        put_str(b, "(error)");
        return;
    }
    odp_buf_put(b, "(sample=%.1f%%,actions(",
                100.0 * mnl_attr_get_u32(prob) / UINT32_MAX);
    actions_list(b, mnl_attr_get_payload(acts),
                 mnl_attr_get_payload_len(acts), o);
    put_str(b, "))");
}

static void
act_check_pkt_len(struct odp_buf *b, const struct nlattr *act,
                  const struct odp_format_opts *o)
{
    const struct nlattr *a, *size = NULL, *gt = NULL, *le = NULL;

    put_str(b, "check_pkt_len");
    FOR_EACH_ATTR (a, mnl_attr_get_payload(act),
                   mnl_attr_get_payload_len(act)) {
        switch (mnl_attr_get_type(a)) {
        case OVS_CHECK_PKT_LEN_ATTR_PKT_LEN:
            size = a;
            break;
        case OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER:
            gt = a;
            break;
        case OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL:
            le = a;
            break;
        }
    }
    if (!size || !gt || !le || mnl_attr_get_payload_len(size) != 2) {
        put_str(b, "(error)");
        return;
    }
    odp_buf_put(b, "(size=%u,gt(", mnl_attr_get_u16(size));
    actions_list(b, mnl_attr_get_payload(gt), mnl_attr_get_payload_len(gt),
                 o);
    put_str(b, "),le(");
    actions_list(b, mnl_attr_get_payload(le), mnl_attr_get_payload_len(le),
                 o);
    put_str(b, "))");
}

/* set(KEY) shows every field (no mask); set_masked shows the fields whose
 * mask bits are set, tersely. */
static void
act_set(struct odp_buf *b, const struct nlattr *act, bool masked)
{
    const struct nlattr *a = mnl_attr_get_payload(act);
    size_t room = mnl_attr_get_payload_len(act);

    put_str(b, "set(");
    if (!mnl_attr_ok(a, (int) room)) {
        put_str(b, "error)");
        return;
    }
    uint16_t type = mnl_attr_get_type(a);
    size_t len = mnl_attr_get_payload_len(a);
    int want = key_attr_len(type);
    const struct odp_format_opts *o = &default_opts;

    if (masked && len / 2 <= sizeof(struct ovs_key_ipv6)) {
        /* Split "value then mask" into two attributes of half the size. */
        uint64_t kbuf[(MNL_ATTR_HDRLEN + sizeof(struct ovs_key_ipv6)) / 8 + 1];
        struct nlattr *k = (struct nlattr *) kbuf;
        size_t half = len / 2;
        struct mask m = { MASK_ATTR, (const uint8_t *) mnl_attr_get_payload(a)
                                     + half, half };

        k->nla_type = type;
        k->nla_len = (uint16_t) (MNL_ATTR_HDRLEN + half);
        memcpy(mnl_attr_get_payload(k), mnl_attr_get_payload(a), half);
        if (want >= 0 && half != (size_t) want) {
            odp_buf_put(b, "bad length %zu)", half);
            return;
        }
        key_attr(b, k, &m, o, false);
    } else if (want >= 0 && len != (size_t) want) {
        odp_buf_put(b, "bad length %zu)", len);
        return;
    } else {
        key_attr(b, a, &no_mask, o, !masked);
    }
    put_str(b, ")");
}

static int
action_len(uint16_t type)
{
    switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_METER:
        return 4;
    case OVS_ACTION_ATTR_TRUNC:
        return sizeof(struct ovs_action_trunc);
    case OVS_ACTION_ATTR_PUSH_VLAN:
        return sizeof(struct ovs_action_push_vlan);
    case OVS_ACTION_ATTR_POP_VLAN:
    case OVS_ACTION_ATTR_POP_ETH:
    case OVS_ACTION_ATTR_CT_CLEAR:
    case OVS_ACTION_ATTR_POP_NSH:
        return 0;
    case OVS_ACTION_ATTR_PUSH_MPLS:
        return sizeof(struct ovs_action_push_mpls);
    case OVS_ACTION_ATTR_POP_MPLS:
        return 2;
    case OVS_ACTION_ATTR_HASH:
        return sizeof(struct ovs_action_hash);
    case OVS_ACTION_ATTR_PUSH_ETH:
        return sizeof(struct ovs_action_push_eth);
    case OVS_ACTION_ATTR_ADD_MPLS:
        return sizeof(struct ovs_action_add_mpls);
    default:
        return LEN_VAR;
    }
}

static void
action(struct odp_buf *b, const struct nlattr *a,
       const struct odp_format_opts *o)
{
    uint16_t type = mnl_attr_get_type(a);
    const uint8_t *p = mnl_attr_get_payload(a);
    size_t len = mnl_attr_get_payload_len(a);
    int want = action_len(type);

    if (want >= 0 && len != (size_t) want) {
        odp_buf_put(b, "bad length %zu, expected %d for: ", len, want);
        act_generic(b, a);
        return;
    }
    switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
        put_port(b, get_u32(p), o);
        break;
    case OVS_ACTION_ATTR_USERSPACE:
        act_userspace(b, a, o);
        break;
    case OVS_ACTION_ATTR_SET:
        act_set(b, a, false);
        break;
    case OVS_ACTION_ATTR_SET_MASKED:
        act_set(b, a, true);
        break;
    case OVS_ACTION_ATTR_PUSH_VLAN: {
        uint16_t tpid = get_be16(p), tci = get_be16(p + 2);
        put_str(b, "push_vlan(");
        if (tpid != 0x8100) {
            odp_buf_put(b, "tpid=0x%04" PRIx16 ",", tpid);
        }
        fmt_vlan_tci(b, tci, 0xffff, false);
        put_str(b, ")");
        break;
    }
    case OVS_ACTION_ATTR_POP_VLAN:
        put_str(b, "pop_vlan");
        break;
    case OVS_ACTION_ATTR_SAMPLE:
        act_sample(b, a, o);
        break;
    case OVS_ACTION_ATTR_RECIRC:
        odp_buf_put(b, "recirc(%#" PRIx32 ")", get_u32(p));
        break;
    case OVS_ACTION_ATTR_HASH: {
        uint32_t alg = get_u32(p), basis = get_u32(p + 4);
        if (alg == OVS_HASH_ALG_L4) {
            odp_buf_put(b, "hash(l4(%" PRIu32 "))", basis);
        } else if (alg == 1) {  /* symmetric L4, an OVS userspace extension */
            odp_buf_put(b, "hash(sym_l4(%" PRIu32 "))", basis);
        } else {
            odp_buf_put(b, "hash(Unknown hash algorithm(%" PRIu32 "))", alg);
        }
        break;
    }
    case OVS_ACTION_ATTR_PUSH_MPLS:
        put_str(b, "push_mpls(");
        put_mpls_lse(b, get_be32(p));
        odp_buf_put(b, ",eth_type=0x%" PRIx16 ")", get_be16(p + 4));
        break;
    case OVS_ACTION_ATTR_POP_MPLS:
        odp_buf_put(b, "pop_mpls(eth_type=0x%" PRIx16 ")", get_be16(p));
        break;
    case OVS_ACTION_ATTR_TRUNC:
        odp_buf_put(b, "trunc(%" PRIu32 ")", get_u32(p));
        break;
    case OVS_ACTION_ATTR_PUSH_ETH:
        odp_buf_put(b, "push_eth(src=%02x:%02x:%02x:%02x:%02x:%02x,"
                    "dst=%02x:%02x:%02x:%02x:%02x:%02x)", p[0], p[1], p[2],
                    p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]);
        break;
    case OVS_ACTION_ATTR_POP_ETH:
        put_str(b, "pop_eth");
        break;
    case OVS_ACTION_ATTR_CT_CLEAR:
        put_str(b, "ct_clear");
        break;
    case OVS_ACTION_ATTR_POP_NSH:
        put_str(b, "pop_nsh()");
        break;
    case OVS_ACTION_ATTR_METER:
        odp_buf_put(b, "meter(%" PRIu32 ")", get_u32(p));
        break;
    case OVS_ACTION_ATTR_CLONE:
        put_str(b, "clone(");
        actions_list(b, p, len, o);
        put_str(b, ")");
        break;
    case OVS_ACTION_ATTR_CHECK_PKT_LEN:
        act_check_pkt_len(b, a, o);
        break;
    case OVS_ACTION_ATTR_ADD_MPLS:
        put_str(b, "add_mpls(");
        put_mpls_lse(b, get_be32(p));
        odp_buf_put(b, ",eth_type=0x%" PRIx16 ")", get_be16(p + 4));
        break;
    default:
        /* ct(), push_nsh() and anything newer than Open vSwitch 3.1. */
        act_generic(b, a);
        break;
    }
}

static void
actions_list(struct odp_buf *b, const void *acts, size_t len,
             const struct odp_format_opts *o)
{
    const struct nlattr *a;

    if (!len) {
        put_str(b, "drop");
        return;
    }
    FOR_EACH_ATTR (a, acts, len) {
        if ((const void *) a != acts) {
            put_str(b, ",");
        }
        action(b, a, o);
    }
    put_leftover(b, acts, len, a);
}

void
odp_format_actions(struct odp_buf *b, const void *actions, size_t len,
                   const struct odp_format_opts *o)
{
    actions_list(b, actions, len, o ? o : &default_opts);
}

/* ---- statistics and whole flows ----------------------------------------- */

void
odp_format_stats(struct odp_buf *b, const struct dpif_flow_stats *st,
                 uint64_t now_msec)
{
    odp_buf_put(b, "packets:%" PRIu64 ", bytes:%" PRIu64 ", used:",
                st->packets, st->bytes);
    if (st->used) {
        odp_buf_put(b, "%.3fs",
                    (double) ((int64_t) now_msec - (int64_t) st->used)
                        / 1000.0);
    } else {
        put_str(b, "never");
    }
    if (st->tcp_flags) {
        put_str(b, ", flags:");
        odp_format_tcp_flags(b, st->tcp_flags);
    }
}

void
odp_format_ufid(struct odp_buf *b, const uint8_t ufid[16])
{
    /* Open vSwitch reads the 16 bytes as four host-order words and prints
     * them as a UUID. */
    uint32_t w[4];
    memcpy(w, ufid, sizeof w);
    odp_buf_put(b, "ufid:%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32 "-%04" PRIx32
                "-%04" PRIx32 "%08" PRIx32, w[0], w[1] >> 16, w[1] & 0xffff,
                w[2] >> 16, w[2] & 0xffff, w[3]);
}

void
odp_format_flow(struct odp_buf *b, const struct dpif_flow *f,
                uint64_t now_msec, const struct odp_format_opts *o)
{
    if (!o) {
        o = &default_opts;
    }
    if (o->verbose && f->has_ufid) {
        odp_format_ufid(b, f->ufid);
        put_str(b, ", ");
    }
    if (odp_format_match(b, &f->key, &f->mask, o)) {
        put_str(b, "<key too large>");
    }
    put_str(b, ", ");
    odp_format_stats(b, &f->stats, now_msec);
    if (o->verbose) {
        put_str(b, ", dp:ovs");
    }
    put_str(b, ", actions:");
    odp_format_actions(b, f->actions, f->actions_len, o);
}

uint64_t
odp_now_msec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}
