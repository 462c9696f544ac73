/* ofproto/trace (see trace.h). */
#include "trace.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "odp-format.h"
#include "ofp-actions.h"
#include "ofp-match.h"
#include "ofproto.h"
#include "unixctl.h"
#include "xlate.h"

/* ---- the tree ----------------------------------------------------------- */

struct trace_node *
trace_add(struct trace_node *parent, enum trace_type type,
          const char *fmt, ...)
{
    struct trace_node *n = calloc(1, sizeof *n);
    va_list ap;

    if (!n) {
        return NULL;
    }
    va_start(ap, fmt);
    int len = vasprintf(&n->text, fmt, ap);
    va_end(ap);
    if (len < 0) {
        free(n);
        return NULL;
    }
    n->type = type;
    if (parent) {
        if (parent->n_subs == parent->cap) {
            size_t cap = parent->cap ? parent->cap * 2 : 8;
            struct trace_node **s = realloc(parent->subs, cap * sizeof *s);
            if (!s) {
                trace_free(n);
                return NULL;
            }
            parent->subs = s;
            parent->cap = cap;
        }
        parent->subs[parent->n_subs++] = n;
    }
    return n;
}

void
trace_free(struct trace_node *n)
{
    if (!n) {
        return;
    }
    for (size_t i = 0; i < n->n_subs; i++) {
        trace_free(n->subs[i]);
    }
    free(n->subs);
    free(n->text);
    free(n);
}

/* Open vSwitch's layout: a node that has later siblings, or that is a
 * leaf kind (action, detail), is indented one step further than its
 * level, and its children two steps; the last table of a list stays at
 * its level.  That is what makes a goto-table chain read flat and a
 * resubmit read nested. */
void
trace_print(struct odp_buf *b, const struct trace_node *list, int level)
{
    for (size_t i = 0; list && i < list->n_subs; i++) {
        const struct trace_node *n = list->subs[i];
        bool leaf = n->type == TRACE_ACTION || n->type == TRACE_DETAIL;
        int step = i + 1 < list->n_subs || leaf;
        int indent = (level + step) * 4;

        if (n->type == TRACE_BRIDGE) {
            odp_buf_put(b, "\n");
        }
        odp_buf_put(b, "%*s", indent, "");
        switch (n->type) {
        case TRACE_DETAIL:
            odp_buf_put(b, " -> %s\n", n->text);
            break;
        case TRACE_BRIDGE:
            odp_buf_put(b, "%s\n%*s", n->text, indent, "");
            for (size_t j = 0; j < strlen(n->text); j++) {
                odp_buf_put(b, "-");
            }
            odp_buf_put(b, "\n");
            break;
        case TRACE_TABLE:
        case TRACE_ACTION:
            odp_buf_put(b, "%s\n", n->text);
            break;
        }
        trace_print(b, n, level + 2 * step);
    }
}

/* ---- matches ------------------------------------------------------------ */

struct fmt {
    struct odp_buf *b;
    bool any;
};

static void __attribute__((format(printf, 2, 3)))
put(struct fmt *f, const char *fmt, ...)
{
    char buf[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    odp_buf_put(f->b, "%s%s", f->any ? "," : "", buf);
    f->any = true;
}

static bool
all_ones(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (((const uint8_t *) p)[i] != 0xff) {
            return false;
        }
    }
    return true;
}

static bool
nonzero(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (((const uint8_t *) p)[i]) {
            return true;
        }
    }
    return false;
}

static void
put_mac(struct fmt *f, const char *name, const uint8_t v[6],
        const uint8_t m[6], bool full)
{
    if (!full && !nonzero(m, 6)) {
        return;
    }
    char s[40];
    snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2],
             v[3], v[4], v[5]);
    if (full || all_ones(m, 6)) {
        put(f, "%s=%s", name, s);
    } else {
        put(f, "%s=%s/%02x:%02x:%02x:%02x:%02x:%02x", name, s, m[0], m[1],
            m[2], m[3], m[4], m[5]);
    }
}

static void
put_ip4(struct fmt *f, const char *name, uint32_t v, uint32_t m, bool full)
{
    char s[INET_ADDRSTRLEN], ms[INET_ADDRSTRLEN];

    if (!full && !m) {
        return;
    }
    inet_ntop(AF_INET, &v, s, sizeof s);
    uint32_t hm = ntohl(m);
    if (full || hm == UINT32_MAX) {
        put(f, "%s=%s", name, s);
    } else if (!(hm & (~hm >> 1))) {
        /* A prefix: ones then zeros. */
        put(f, "%s=%s/%d", name, s, __builtin_popcount(hm));
    } else {
        inet_ntop(AF_INET, &m, ms, sizeof ms);
        put(f, "%s=%s/%s", name, s, ms);
    }
}

static void
put_ip6(struct fmt *f, const char *name, const uint8_t v[16],
        const uint8_t m[16], bool full)
{
    char s[INET6_ADDRSTRLEN], ms[INET6_ADDRSTRLEN];

    if (!full && !nonzero(m, 16)) {
        return;
    }
    inet_ntop(AF_INET6, v, s, sizeof s);
    if (full || all_ones(m, 16)) {
        put(f, "%s=%s", name, s);
    } else {
        inet_ntop(AF_INET6, m, ms, sizeof ms);
        put(f, "%s=%s/%s", name, s, ms);
    }
}

static void
put_be16(struct fmt *f, const char *name, uint16_t v, uint16_t m, bool full)
{
    if (full || m == 0xffff) {
        put(f, "%s=%u", name, ntohs(v));
    } else if (m) {
        put(f, "%s=0x%x/0x%x", name, ntohs(v), ntohs(m));
    }
}

static void
put_u8(struct fmt *f, const char *name, uint8_t v, uint8_t m, bool full)
{
    if (full || m) {
        put(f, "%s=%u", name, v);
    }
}

static const char *
shorthand(uint16_t eth_type, bool proto_known, uint8_t proto)
{
    switch (ntohs(eth_type)) {
    case 0x0800:
        if (proto_known) {
            switch (proto) {
            case 1: return "icmp";
            case 6: return "tcp";
            case 17: return "udp";
            case 132: return "sctp";
            }
        }
        return "ip";
    case 0x86dd:
        if (proto_known) {
            switch (proto) {
            case 58: return "icmp6";
            case 6: return "tcp6";
            case 17: return "udp6";
            case 132: return "sctp6";
            }
        }
        return "ipv6";
    case 0x0806:
        return "arp";
    case 0x8035:
        return "rarp";
    }
    return NULL;
}

static void
put_port(struct fmt *f, uint32_t port)
{
    switch (port) {
    case OFPP_LOCAL:
        put(f, "in_port=LOCAL");
        break;
    case OFPP_CONTROLLER:
        put(f, "in_port=CONTROLLER");
        break;
    default:
        put(f, "in_port=%" PRIu32, port);
        break;
    }
}

void
trace_format_match(struct odp_buf *b, const struct ofp_match *match,
                   bool full)
{
    const struct flow_key *v = &match->v.key, *m = &match->m.key;
    struct fmt f = { b, false };
    bool type_known = full || m->eth_type == 0xffff;
    uint16_t type = type_known ? ntohs(v->eth_type) : 0;
    bool is_ip = type == 0x0800 || type == 0x86dd;
    bool is_arp = type == 0x0806 || type == 0x8035;
    bool proto_known = is_ip && (full || m->ip_proto == 0xff);
    const char *sh = type_known ? shorthand(v->eth_type, proto_known,
                                            v->ip_proto) : NULL;

    if (sh) {
        put(&f, "%s", sh);
    }
    for (int i = 0; i < OFP_N_REGS; i++) {
        uint32_t rv = match->v.regs[i], rm = match->m.regs[i];
        if (rm == UINT32_MAX || (full && rv)) {
            put(&f, "reg%d=0x%" PRIx32, i, rv);
        } else if (rm && !full) {
            put(&f, "reg%d=0x%" PRIx32 "/0x%" PRIx32, i, rv, rm);
        }
    }
    if (match->m.metadata || (full && match->v.metadata)) {
        put(&f, "metadata=0x%" PRIx64, match->v.metadata);
    }
    if (m->tunnel.tun_id || (full && v->tunnel.tun_id)) {
        put(&f, "tun_id=0x%" PRIx64, be64toh(v->tunnel.tun_id));
    }
    if (m->skb_mark || (full && v->skb_mark)) {
        put(&f, "pkt_mark=0x%" PRIx32, v->skb_mark);
    }
    if (full || m->in_port) {
        put_port(&f, v->in_port);
    }

    uint16_t tci = ntohs(v->vlan_tci), tm = ntohs(m->vlan_tci);
    if (full) {
        if (tci & FLOW_VLAN_CFI) {
            /* The inner tag, which Open vSwitch also shows. */
            put(&f, "dl_vlan=%u,dl_vlan_pcp=%u,vlan_tci1=0x%04x",
                tci & 0xfff, tci >> 13, ntohs(v->cvlan_tci));
        } else {
            put(&f, "vlan_tci=0x0000");
        }
    } else if (tm == 0x1fff && (tci & FLOW_VLAN_CFI)) {
        put(&f, "dl_vlan=%u", tci & 0xfff);
    } else if (tm == 0xf000 && (tci & FLOW_VLAN_CFI)) {
        put(&f, "dl_vlan_pcp=%u", tci >> 13);
    } else if (tm == 0xffff) {
        put(&f, "vlan_tci=0x%04x", tci);
    } else if (tm) {
        put(&f, "vlan_tci=0x%04x/0x%04x", tci, tm);
    }
    put_mac(&f, "dl_src", v->eth_src, m->eth_src, full);
    put_mac(&f, "dl_dst", v->eth_dst, m->eth_dst, full);
    if (type_known && !sh) {
        put(&f, "dl_type=0x%04x", type);
    }

    if (is_ip) {
        if (type == 0x0800) {
            put_ip4(&f, "nw_src", v->ipv4_src, m->ipv4_src, full);
            put_ip4(&f, "nw_dst", v->ipv4_dst, m->ipv4_dst, full);
        } else {
            put_ip6(&f, "ipv6_src", v->ipv6_src, m->ipv6_src, full);
            put_ip6(&f, "ipv6_dst", v->ipv6_dst, m->ipv6_dst, full);
        }
        if (proto_known && sh && (!strcmp(sh, "ip") || !strcmp(sh, "ipv6"))) {
            put(&f, "nw_proto=%u", v->ip_proto);
        }
        if (full || (m->ip_tos & 0xfc)) {
            put(&f, "nw_tos=%u", v->ip_tos & 0xfc);
        }
        if (full || (m->ip_tos & 3)) {
            put(&f, "nw_ecn=%u", v->ip_tos & 3);
        }
        put_u8(&f, "nw_ttl", v->ip_ttl, m->ip_ttl, full);
        if (full || m->ip_frag) {
            put(&f, "nw_frag=%s", v->ip_frag == 0 ? "no"
                : v->ip_frag == 1 ? "first" : "later");
        }
        uint8_t p = v->ip_proto;
        if (!proto_known) {
            return;
        }
        if (p == 1 || p == 58) {
            put_u8(&f, p == 1 ? "icmp_type" : "icmpv6_type",
                   ntohs(v->tp_src), m->tp_src ? 0xff : 0, full);
            put_u8(&f, p == 1 ? "icmp_code" : "icmpv6_code",
                   ntohs(v->tp_dst), m->tp_dst ? 0xff : 0, full);
        } else if (p == 6 || p == 17 || p == 132) {
            put_be16(&f, "tp_src", v->tp_src, m->tp_src, full);
            put_be16(&f, "tp_dst", v->tp_dst, m->tp_dst, full);
            if (p == 6 && (full || m->tcp_flags)) {
                uint16_t fl = ntohs(v->tcp_flags);
                if (fl) {
                    put(&f, "tcp_flags=0x%03x", fl);
                } else {
                    put(&f, "tcp_flags=0");
                }
            }
        }
    } else if (is_arp) {
        put_ip4(&f, "arp_spa", v->ipv4_src, m->ipv4_src, full);
        put_ip4(&f, "arp_tpa", v->ipv4_dst, m->ipv4_dst, full);
        put_u8(&f, "arp_op", v->ip_proto, m->ip_proto, full);
        put_mac(&f, "arp_sha", v->arp_sha, m->arp_sha, full);
        put_mac(&f, "arp_tha", v->arp_tha, m->arp_tha, full);
    }
}

/* ---- actions ------------------------------------------------------------ */

static const char *const field_names[MF_N_FIELDS] = {
    [MF_IN_PORT] = "in_port", [MF_METADATA] = "metadata",
    [MF_ETH_DST] = "eth_dst", [MF_ETH_SRC] = "eth_src",
    [MF_ETH_TYPE] = "eth_type", [MF_VLAN_VID] = "vlan_vid",
    [MF_VLAN_PCP] = "vlan_pcp", [MF_VLAN_TCI] = "vlan_tci",
    [MF_IP_DSCP] = "ip_dscp", [MF_IP_ECN] = "nw_ecn", [MF_IP_TOS] = "nw_tos",
    [MF_IP_PROTO] = "nw_proto", [MF_IP_TTL] = "nw_ttl",
    [MF_IPV4_SRC] = "ip_src", [MF_IPV4_DST] = "ip_dst",
    [MF_TCP_SRC] = "tcp_src", [MF_TCP_DST] = "tcp_dst",
    [MF_UDP_SRC] = "udp_src", [MF_UDP_DST] = "udp_dst",
    [MF_SCTP_SRC] = "sctp_src", [MF_SCTP_DST] = "sctp_dst",
    [MF_ICMPV4_TYPE] = "icmp_type", [MF_ICMPV4_CODE] = "icmp_code",
    [MF_ARP_OP] = "arp_op", [MF_ARP_SPA] = "arp_spa", [MF_ARP_TPA] = "arp_tpa",
    [MF_ARP_SHA] = "arp_sha", [MF_ARP_THA] = "arp_tha",
    [MF_IPV6_SRC] = "ipv6_src", [MF_IPV6_DST] = "ipv6_dst",
    [MF_IPV6_LABEL] = "ipv6_label", [MF_ICMPV6_TYPE] = "icmpv6_type",
    [MF_ICMPV6_CODE] = "icmpv6_code", [MF_ND_TARGET] = "nd_target",
    [MF_ND_SLL] = "nd_sll", [MF_ND_TLL] = "nd_tll", [MF_TUN_ID] = "tun_id",
    [MF_TUN_IPV4_SRC] = "tun_src", [MF_TUN_IPV4_DST] = "tun_dst",
    [MF_PKT_MARK] = "pkt_mark", [MF_TCP_FLAGS] = "tcp_flags",
};

/* The OXM wire value of a set-field as ovs-ofctl prints it. */
static void
format_value(struct odp_buf *b, enum mf_id id, const uint8_t *val)
{
    size_t len = 0;
    char s[INET6_ADDRSTRLEN];

    mf_from_header(mf_oxm_header(id), false, &len);
    if (len == 6) {
        odp_buf_put(b, "%02x:%02x:%02x:%02x:%02x:%02x", val[0], val[1],
                    val[2], val[3], val[4], val[5]);
    } else if (len == 4 && (id == MF_IPV4_SRC || id == MF_IPV4_DST
                            || id == MF_ARP_SPA || id == MF_ARP_TPA
                            || id == MF_TUN_IPV4_SRC
                            || id == MF_TUN_IPV4_DST)) {
        odp_buf_put(b, "%s", inet_ntop(AF_INET, val, s, sizeof s));
    } else if (len == 16) {
        odp_buf_put(b, "%s", inet_ntop(AF_INET6, val, s, sizeof s));
    } else {
        uint64_t v = 0;
        for (size_t i = 0; i < len && i < 8; i++) {
            v = v << 8 | val[i];
        }
        odp_buf_put(b, len > 2 ? "0x%" PRIx64 : "%" PRIu64, v);
    }
}

/* The Open vSwitch 1.0-style spelling of set-fields that have one, as
 * ovs-ofctl prints actions that came as OpenFlow 1.0 actions. */
static const char *
mod_name(enum mf_id id)
{
    switch (id) {
    case MF_ETH_SRC: return "mod_dl_src";
    case MF_ETH_DST: return "mod_dl_dst";
    case MF_IPV4_SRC: return "mod_nw_src";
    case MF_IPV4_DST: return "mod_nw_dst";
    case MF_IP_TOS: return "mod_nw_tos";
    case MF_TCP_SRC: case MF_UDP_SRC: case MF_SCTP_SRC: return "mod_tp_src";
    case MF_TCP_DST: case MF_UDP_DST: case MF_SCTP_DST: return "mod_tp_dst";
    default: return NULL;
    }
}

static void
format_output(struct odp_buf *b, uint32_t port, uint16_t max_len)
{
    switch (port) {
    case OFPP_IN_PORT: odp_buf_put(b, "IN_PORT"); break;
    case OFPP_TABLE: odp_buf_put(b, "TABLE"); break;
    case OFPP_NORMAL: odp_buf_put(b, "NORMAL"); break;
    case OFPP_FLOOD: odp_buf_put(b, "FLOOD"); break;
    case OFPP_ALL: odp_buf_put(b, "ALL"); break;
    case OFPP_LOCAL: odp_buf_put(b, "LOCAL"); break;
    case OFPP_CONTROLLER: odp_buf_put(b, "CONTROLLER:%u", max_len); break;
    default: odp_buf_put(b, "output:%" PRIu32, port); break;
    }
}

/* "NXM_NX_REG0[]" or "NXM_NX_REG0[0..15]", as ovs-ofctl writes a
 * subfield of a register action. */
static void
format_subfield(struct odp_buf *b, uint8_t id, uint32_t hdr, unsigned ofs,
                unsigned n)
{
    if (id >= MF_REG0 && id <= MF_REG7) {
        odp_buf_put(b, "NXM_NX_REG%d", id - MF_REG0);
    } else {
        odp_buf_put(b, "%s", id < MF_N_FIELDS && field_names[id]
                    ? field_names[id] : "?");
    }
    if (!ofs && n == (hdr & 0xff) * 8) {
        odp_buf_put(b, "[]");
    } else {
        odp_buf_put(b, "[%u..%u]", ofs, ofs + n - 1);
    }
}

static void
format_learn_src(struct odp_buf *b, const struct ofp_learn_spec *sp)
{
    if (sp->src_type == LEARN_SRC_FIELD) {
        format_subfield(b, sp->src_field, sp->src_hdr, sp->src_ofs,
                        sp->n_bits);
        return;
    }
    odp_buf_put(b, "0x");
    bool lead = true;
    for (size_t i = 0; i < sp->value_len; i++) {
        if (lead && !sp->value[i] && i + 1 < sp->value_len) {
            continue;
        }
        odp_buf_put(b, lead ? "%x" : "%02x", sp->value[i]);
        lead = false;
    }
}

/* As ovs-ofctl writes it: learn(table=1,hard_timeout=60,
 * NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]). */
static void
format_learn(struct odp_buf *b, const struct ofp_learn *l)
{
    odp_buf_put(b, "learn(table=%u", l->table_id);
    if (l->idle_timeout) {
        odp_buf_put(b, ",idle_timeout=%u", l->idle_timeout);
    }
    if (l->hard_timeout) {
        odp_buf_put(b, ",hard_timeout=%u", l->hard_timeout);
    }
    if (l->fin_idle_timeout) {
        odp_buf_put(b, ",fin_idle_timeout=%u", l->fin_idle_timeout);
    }
    if (l->fin_hard_timeout) {
        odp_buf_put(b, ",fin_hard_timeout=%u", l->fin_hard_timeout);
    }
    if (l->priority != 0x8000) {
        odp_buf_put(b, ",priority=%u", l->priority);
    }
    if (l->flags & OFP_LEARN_F_SEND_FLOW_REM) {
        odp_buf_put(b, ",send_flow_rem");
    }
    if (l->flags & OFP_LEARN_F_DELETE_LEARNED) {
        odp_buf_put(b, ",delete_learned");
    }
    if (l->cookie) {
        odp_buf_put(b, ",cookie=0x%" PRIx64, l->cookie);
    }
    for (size_t i = 0; i < l->n_specs; i++) {
        const struct ofp_learn_spec *sp = &l->specs[i];
        odp_buf_put(b, ",");
        switch (sp->dst_type) {
        case LEARN_DST_MATCH:
            format_subfield(b, sp->dst_field, sp->dst_hdr, sp->dst_ofs,
                            sp->n_bits);
            odp_buf_put(b, "=");
            format_learn_src(b, sp);
            break;
        case LEARN_DST_LOAD:
            odp_buf_put(b, "load:");
            format_learn_src(b, sp);
            odp_buf_put(b, "->");
            format_subfield(b, sp->dst_field, sp->dst_hdr, sp->dst_ofs,
                            sp->n_bits);
            break;
        default:
            odp_buf_put(b, "output:");
            format_learn_src(b, sp);
            break;
        }
    }
    odp_buf_put(b, ")");
}

void
trace_format_action(struct odp_buf *b, const struct ofpact *a)
{
    switch ((enum ofpact_type) a->type) {
    case OFPACT_OUTPUT:
        format_output(b, a->port, a->n);
        break;
    case OFPACT_SET_FIELD: {
        const char *mod = mod_name(a->field);
        if (a->field == MF_IP_DSCP) {
            /* OpenFlow 1.0's mod_nw_tos, which carries the TOS byte. */
            odp_buf_put(b, "mod_nw_tos:%u", a->value[0] << 2);
        } else if (mod) {
            odp_buf_put(b, "%s:", mod);
            format_value(b, a->field, a->value);
        } else {
            odp_buf_put(b, "set_field:");
            format_value(b, a->field, a->value);
            const char *name = a->field < MF_N_FIELDS
                               ? field_names[a->field] : NULL;
            if (a->field >= MF_REG0 && a->field <= MF_REG7) {
                odp_buf_put(b, "->reg%d", a->field - MF_REG0);
            } else {
                odp_buf_put(b, "->%s", name ? name : "?");
            }
        }
        break;
    }
    case OFPACT_SET_VLAN_VID:
        odp_buf_put(b, "mod_vlan_vid:%" PRIu32, a->port);
        break;
    case OFPACT_SET_VLAN_PCP:
        odp_buf_put(b, "mod_vlan_pcp:%" PRIu32, a->port);
        break;
    case OFPACT_STRIP_VLAN:
        odp_buf_put(b, "strip_vlan");
        break;
    case OFPACT_PUSH_VLAN:
        odp_buf_put(b, "push_vlan:0x%04" PRIx32, a->port);
        break;
    case OFPACT_POP_VLAN:
        odp_buf_put(b, "pop_vlan");
        break;
    case OFPACT_DEC_TTL:
        odp_buf_put(b, "dec_ttl");
        break;
    case OFPACT_RESUBMIT:
        if (a->table == 255) {
            odp_buf_put(b, "resubmit:%" PRIu32, a->port);
        } else if (a->port == OFPP_IN_PORT) {
            odp_buf_put(b, "resubmit(,%u)", a->table);
        } else {
            odp_buf_put(b, "resubmit(%" PRIu32 ",%u)", a->port, a->table);
        }
        break;
    case OFPACT_GROUP:
        odp_buf_put(b, "group:%" PRIu32, a->port);
        break;
    case OFPACT_CLEAR_ACTIONS:
        odp_buf_put(b, "clear_actions");
        break;
    case OFPACT_WRITE_ACTIONS:
        odp_buf_put(b, "write_actions");
        break;
    case OFPACT_WRITE_METADATA:
        odp_buf_put(b, "write_metadata:0x%" PRIx64, a->metadata);
        if (a->mask != UINT64_MAX) {
            odp_buf_put(b, "/0x%" PRIx64, a->mask);
        }
        break;
    case OFPACT_GOTO_TABLE:
        odp_buf_put(b, "goto_table:%u", a->table);
        break;
    case OFPACT_METER:
        odp_buf_put(b, "meter:%" PRIu32, a->port);
        break;
    case OFPACT_FIN_TIMEOUT:
        odp_buf_put(b, "fin_timeout(");
        if (a->n) {
            odp_buf_put(b, "idle_timeout=%u%s", a->n, a->ofs ? "," : "");
        }
        if (a->ofs) {
            odp_buf_put(b, "hard_timeout=%u", a->ofs);
        }
        odp_buf_put(b, ")");
        break;
    case OFPACT_REG_LOAD:
        odp_buf_put(b, "load:0x%" PRIx64 "->", a->metadata);
        format_subfield(b, a->field, a->dst_hdr, a->ofs, a->n);
        break;
    case OFPACT_REG_MOVE:
        odp_buf_put(b, "move:");
        format_subfield(b, a->src_field, a->src_hdr, a->src_ofs, a->n);
        odp_buf_put(b, "->");
        format_subfield(b, a->field, a->dst_hdr, a->ofs, a->n);
        break;
    case OFPACT_LEARN:
        format_learn(b, a->learn);
        break;
    }
}

/* ---- the flow syntax ---------------------------------------------------- */

/* Sets *err to a message and returns -1. */
static int __attribute__((format(printf, 2, 3)))
fail(char **err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(err, fmt, ap) < 0) {
        *err = NULL;
    }
    va_end(ap);
    return -1;
}

static bool
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char extra;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &extra) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255) {
            return false;
        }
        mac[i] = v[i];
    }
    return true;
}

static bool
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end || errno || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* in_port: a number, LOCAL, or the name of one of the bridge's ports. */
static const struct ofport *
parse_in_port(const struct ofproto *br, const char *s)
{
    unsigned long long v;
    uint32_t want = UINT32_MAX;

    if (!strcmp(s, "LOCAL")) {
        want = OFPP_LOCAL_NO;
    } else if (parse_uint(s, UINT32_MAX, &v)) {
        want = v == OFPP_LOCAL ? OFPP_LOCAL_NO : v;
    }
    for (unsigned i = 0; i < br->n_ports; i++) {
        const struct ofport *p = br->ports[i];
        if (p->ofp_port == want || !strcmp(p->name, s)) {
            return p;
        }
    }
    return NULL;
}

struct parsed {
    struct flow_key key;        /* in_port: the OpenFlow number */
    const struct ofport *in;
};

static int
parse_field(struct parsed *p, const struct ofproto *br, const char *name,
            const char *val, char **err)
{
    struct flow_key *k = &p->key;
    unsigned long long v;
    struct in_addr a;

#define IS(N) (!strcmp(name, N))
    if (IS("in_port")) {
        p->in = parse_in_port(br, val);
        if (!p->in) {
            return fail(err, "%s: unknown port", val);
        }
        k->in_port = p->in->ofp_port == OFPP_LOCAL_NO ? OFPP_LOCAL
                                                      : p->in->ofp_port;
        return 0;
    }
    if (IS("dl_src") || IS("eth_src")) {
        return parse_mac(val, k->eth_src) ? 0 : -1;
    }
    if (IS("dl_dst") || IS("eth_dst")) {
        return parse_mac(val, k->eth_dst) ? 0 : -1;
    }
    if (IS("arp_sha")) {
        return parse_mac(val, k->arp_sha) ? 0 : -1;
    }
    if (IS("arp_tha")) {
        return parse_mac(val, k->arp_tha) ? 0 : -1;
    }
    if (IS("nw_src") || IS("ip_src") || IS("arp_spa")) {
        return inet_pton(AF_INET, val, &a) == 1
               ? (k->ipv4_src = a.s_addr, 0) : -1;
    }
    if (IS("nw_dst") || IS("ip_dst") || IS("arp_tpa")) {
        return inet_pton(AF_INET, val, &a) == 1
               ? (k->ipv4_dst = a.s_addr, 0) : -1;
    }
    if (IS("ipv6_src")) {
        return inet_pton(AF_INET6, val, k->ipv6_src) == 1 ? 0 : -1;
    }
    if (IS("ipv6_dst")) {
        return inet_pton(AF_INET6, val, k->ipv6_dst) == 1 ? 0 : -1;
    }
    if (IS("dl_type") || IS("eth_type")) {
        return parse_uint(val, 0xffff, &v) ? (k->eth_type = htons(v), 0)
                                           : -1;
    }
    if (IS("dl_vlan")) {
        if (!parse_uint(val, 0xfff, &v)) {
            return -1;
        }
        k->vlan_tci = htons((ntohs(k->vlan_tci) & 0xe000) | FLOW_VLAN_CFI
                            | v);
        k->vlan_tpid = htons(0x8100);
        return 0;
    }
    if (IS("dl_vlan_pcp")) {
        if (!parse_uint(val, 7, &v)) {
            return -1;
        }
        k->vlan_tci = htons((ntohs(k->vlan_tci) & 0x0fff) | FLOW_VLAN_CFI
                            | v << 13);
        k->vlan_tpid = htons(0x8100);
        return 0;
    }
    if (IS("vlan_tci")) {
        if (!parse_uint(val, 0xffff, &v)) {
            return -1;
        }
        k->vlan_tci = htons(v);
        k->vlan_tpid = v & FLOW_VLAN_CFI ? htons(0x8100) : 0;
        return 0;
    }
    if (IS("nw_proto") || IS("ip_proto") || IS("arp_op")) {
        return parse_uint(val, 255, &v) ? (k->ip_proto = v, 0) : -1;
    }
    if (IS("nw_tos")) {
        return parse_uint(val, 255, &v) && !(v & 3)
               ? (k->ip_tos = (k->ip_tos & 3) | v, 0) : -1;
    }
    if (IS("nw_ecn")) {
        return parse_uint(val, 3, &v)
               ? (k->ip_tos = (k->ip_tos & 0xfc) | v, 0) : -1;
    }
    if (IS("nw_ttl")) {
        return parse_uint(val, 255, &v) ? (k->ip_ttl = v, 0) : -1;
    }
    if (IS("nw_frag")) {
        k->ip_frag = !strcmp(val, "first") ? 1 : !strcmp(val, "later") ? 2
                   : 0;
        return strcmp(val, "no") && !k->ip_frag ? -1 : 0;
    }
    if (IS("tp_src") || IS("tcp_src") || IS("udp_src") || IS("sctp_src")
        || IS("icmp_type") || IS("icmpv6_type")) {
        return parse_uint(val, 0xffff, &v) ? (k->tp_src = htons(v), 0) : -1;
    }
    if (IS("tp_dst") || IS("tcp_dst") || IS("udp_dst") || IS("sctp_dst")
        || IS("icmp_code") || IS("icmpv6_code")) {
        return parse_uint(val, 0xffff, &v) ? (k->tp_dst = htons(v), 0) : -1;
    }
    if (IS("tcp_flags")) {
        return parse_uint(val, 0xfff, &v) ? (k->tcp_flags = htons(v), 0)
                                          : -1;
    }
    if (IS("pkt_mark")) {
        return parse_uint(val, UINT32_MAX, &v) ? (k->skb_mark = v, 0) : -1;
    }
#undef IS
    return fail(err, "%s: unknown field", name);
}

static const struct {
    const char *name;
    uint16_t eth_type;
    uint8_t proto;
} protos[] = {
    { "ip", 0x0800, 0 }, { "icmp", 0x0800, 1 }, { "tcp", 0x0800, 6 },
    { "udp", 0x0800, 17 }, { "sctp", 0x0800, 132 }, { "ipv6", 0x86dd, 0 },
    { "tcp6", 0x86dd, 6 }, { "udp6", 0x86dd, 17 }, { "icmp6", 0x86dd, 58 },
    { "sctp6", 0x86dd, 132 }, { "arp", 0x0806, 0 }, { "rarp", 0x8035, 0 },
};

/* A flow in ovs-ofctl's syntax: "in_port=1,tcp,dl_src=...,tp_dst=80".
 * Returns 0, or -1 with a message in *err (free it). */
static int
parse_flow(const struct ofproto *br, const char *text, struct parsed *p,
           char **err)
{
    char *copy = strdup(text), *save = NULL;
    int ret = 0;

    memset(p, 0, sizeof *p);
    *err = NULL;
    if (!copy) {
        *err = strdup("out of memory");
        return -1;
    }
    for (char *tok = strtok_r(copy, ", ", &save); tok && !ret;
         tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            size_t i;
            for (i = 0; i < sizeof protos / sizeof protos[0]; i++) {
                if (!strcmp(tok, protos[i].name)) {
                    p->key.eth_type = htons(protos[i].eth_type);
                    p->key.ip_proto = protos[i].proto;
                    break;
                }
            }
            if (i == sizeof protos / sizeof protos[0]) {
                ret = fail(err, "%s: unknown keyword", tok);
            }
            continue;
        }
        *eq = '\0';
        if (parse_field(p, br, tok, eq + 1, err)) {
            ret = *err ? -1 : fail(err, "%s: bad value for %s", eq + 1, tok);
        }
    }
    free(copy);
    if (!ret && !p->in) {
        ret = fail(err, "in_port is required");
    }
    return ret;
}

/* ---- the command -------------------------------------------------------- */

static void
match_of_key(struct ofp_match *m, const struct flow_key *key,
             const struct flow_key *mask, uint32_t ofp_in_port)
{
    ofp_match_init_catchall(m);
    m->m.key = *mask;
    const uint8_t *k = (const uint8_t *) key, *w = (const uint8_t *) mask;
    uint8_t *v = (uint8_t *) &m->v.key;
    for (size_t i = 0; i < sizeof *key; i++) {
        v[i] = k[i] & w[i];
    }
    m->v.key.in_port = ofp_in_port;
}

static void
cmd_trace(struct unixctl_conn *conn, int argc, const char *argv[],
          void *aux)
{
    const char *bridge = NULL, *flow_text = NULL;
    struct odp_buf out = { 0 };
    struct parsed p;
    char *err = NULL;

    (void) aux;
    pthread_rwlock_rdlock(&xlate_lock);
    const struct xlate_cfg *cfg = xlate_cfg;
    if (argc >= 3) {
        bridge = argv[1];
        flow_text = argv[2];
    } else if (cfg && cfg->n_bridges == 1) {
        bridge = cfg->bridges[0]->name;
        flow_text = argv[1];
    }
    const struct ofproto *br = bridge ? ofproto_find(cfg, bridge) : NULL;
    if (!br) {
        pthread_rwlock_unlock(&xlate_lock);
        unixctl_reply_error(conn, bridge ? "no such bridge"
                            : "must specify bridge name");
        return;
    }
    if (parse_flow(br, flow_text, &p, &err)) {
        pthread_rwlock_unlock(&xlate_lock);
        char *msg = NULL;
        if (asprintf(&msg, "Bad openflow flow syntax: %s: %s", flow_text,
                     err ? err : "syntax error") < 0) {
            msg = NULL;
        }
        unixctl_reply_error(conn, msg ? msg : "Bad openflow flow syntax");
        free(msg);
        free(err);
        return;
    }

    struct ofp_match flow;
    ofp_match_init_catchall(&flow);
    flow.v.key = p.key;
    odp_buf_put(&out, "Flow: ");
    trace_format_match(&out, &flow, true);
    odp_buf_put(&out, "\n");

    struct trace_node *root = trace_add(NULL, TRACE_BRIDGE, "root");
    struct trace_node *bnode = trace_add(root, TRACE_BRIDGE,
                                         "bridge(\"%s\")", br->name);
    struct xlate_out *xo = malloc(sizeof *xo);
    struct ofp_fields final;
    struct flow_key key = p.key;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    key.in_port = p.in->odp_port;
    memset(&final, 0, sizeof final);
    if (xo) {
        xlate_trace(cfg, &key, ts.tv_sec, xo, bnode, &final);
    }
    pthread_rwlock_unlock(&xlate_lock);
    trace_print(&out, root, 0);
    trace_free(root);
    if (xo) {
        odp_buf_put(&out, "\nFinal flow: ");
        struct ofp_fields initial;
        memset(&initial, 0, sizeof initial);
        initial.key = p.key;
        if (!memcmp(&final, &initial, sizeof final)) {
            odp_buf_put(&out, "unchanged");
        } else {
            struct ofp_match fin;
            ofp_match_init_catchall(&fin);
            fin.v = final;
            trace_format_match(&out, &fin, true);
        }
        struct ofp_match mf;
        match_of_key(&mf, &key, &xo->mask, p.key.in_port);
        odp_buf_put(&out, "\nMegaflow: recirc_id=0,eth,");
        trace_format_match(&out, &mf, false);
        odp_buf_put(&out, "\nDatapath actions: ");
        odp_format_actions(&out, xo->actions, xo->actions_len, NULL);
        odp_buf_put(&out, "\n");
    }
    free(xo);
    unixctl_reply(conn, odp_buf_cstr(&out));
    odp_buf_free(&out);
}

void
trace_register(void)
{
    unixctl_command_register("ofproto/trace", "[bridge] flow", 1,
                             UNIXCTL_ANY_ARGS, cmd_trace, NULL);
}
