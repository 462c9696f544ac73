/* Translation of a flow through a bridge: the packet's trip through the
 * bridge's OpenFlow tables (rules.h), starting in table 0, becomes
 * datapath actions; every key field a rule lookup or an action consulted
 * goes into the megaflow mask.  The NORMAL action is the MAC learning
 * switch with VLANs below. */
#include "xlate.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow.h"
#include "groups.h"
#include "host-if.h"
#include "mac-learning.h"
#include "ofp-actions.h"
#include "ofp-match.h"
#include "ofproto.h"
#include "odp-format.h"
#include "rules.h"
#include "trace.h"

#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8
#define VID_MASK 0x0fff

#define MAX_RESUBMIT_DEPTH 64

struct ctx {
    const struct xlate_cfg *cfg;
    const struct flow_key *key;
    struct xlate_out *out;
    int cur_vlan;               /* VLAN tag on the packet now, or -1 */

    /* OpenFlow pipeline state. */
    struct ofp_fields pkt;      /* the packet as the actions changed it;
                                 * key.in_port is the OpenFlow port */
    uint16_t cur_tci;           /* tag on the datapath packet (host order,
                                 * with the CFI bit), 0 when untagged */
    const struct ofport *in;
    struct rule_set *rules;
    bool learn;
    uint64_t now;
    int depth;
    int group_depth;
    bool stopped;               /* dec_ttl hit zero: the packet dies */
    uint8_t table_id;           /* of the rule being executed */
    uint64_t rule_cookie;
    bool table_miss_rule;       /* it is the table's table-miss rule */
    struct trace_node *tnode;   /* ofproto/trace: the node of the table
                                 * whose rule runs, NULL when not tracing */
    uint64_t credit_packets;    /* statistics for every rule hit */
    uint64_t credit_bytes, credit_used_ms;
    uint8_t credit_tcp_flags;   /* what the datapath flow has seen */
    uint64_t upcall_bytes;      /* the upcalled packet's length */
    struct rule *rule;          /* the rule being executed, if any */
    struct ofpacts action_set;
};

static void
put_attr(struct ctx *c, uint16_t type, const void *data, size_t len)
{
    struct xlate_out *o = c->out;
    size_t need = MNL_ALIGN(MNL_ATTR_HDRLEN + len);

    if (o->actions_len + need > sizeof o->actions) {
        return;                 /* too many outputs: the rest is dropped */
    }
    struct nlattr *a = (struct nlattr *) (o->actions + o->actions_len);
    a->nla_type = type;
    a->nla_len = MNL_ATTR_HDRLEN + len;
    if (len) {
        memcpy(mnl_attr_get_payload(a), data, len);
    }
    memset((uint8_t *) a + a->nla_len, 0, need - a->nla_len);
    o->actions_len += need;
}

/* set(tunnel(...)) for output to a tunnel port.  With options key=flow
 * and remote_ip=flow the key and destination come from the pipeline's
 * tunnel fields (set_field/load: to tun_id, tun_dst, or what arrived on a
 * tunnel; ofproto_port_for_key() put those in the mask), as in Open
 * vSwitch.  Returns false when there is no destination: nothing to send. */
static bool
put_tunnel(struct ctx *c, const struct ofport_tunnel *t)
{
    const struct flow_tnl *ft = &c->pkt.key.tunnel;
    uint8_t buf[256] __attribute__((aligned(4)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    uint32_t dst = t->remote_flow ? ft->ipv4_dst : t->remote_ip;
    uint64_t key = t->key_flow ? ft->tun_id : t->key;

    if (!dst) {
        return false;
    }
    struct nlattr *tun = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u64(nlh, OVS_TUNNEL_KEY_ATTR_ID, key);
    if (t->local_ip) {
        mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, t->local_ip);
    }
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, dst);
    if (t->tos) {
        mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TOS, t->tos);
    }
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, t->ttl ? t->ttl : 64);
    if (t->df) {
        mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, 0, NULL);
    }
    if (t->csum) {
        mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_CSUM, 0, NULL);
    }
    if (t->dst_port) {
        mnl_attr_put_u16(nlh, OVS_TUNNEL_KEY_ATTR_TP_DST, htons(t->dst_port));
    }
    mnl_attr_nest_end(nlh, tun);
    tun->nla_type = OVS_KEY_ATTR_TUNNEL;    /* as OVS sends it */
    put_attr(c, OVS_ACTION_ATTR_SET, tun, tun->nla_len);
    return true;
}

/* Outputs to 'port', first making the packet's tag what 'port' wants for
 * VLAN 'vlan'. */
static uint32_t port_config(const struct ctx *, const struct ofport *);

static void
output_vlan(struct ctx *c, const struct ofport *port, int vlan)
{
    bool untagged = (port->vlan_mode == PORT_VLAN_ACCESS)
        || (port->vlan_mode == PORT_VLAN_NATIVE_UNTAGGED && vlan == port->tag)
        || vlan <= 0;
    int want = untagged ? -1 : vlan;

    if (port_config(c, port) & RULES_PC_NO_FWD) {
        return;                 /* mod-port no-forward */
    }
    if (c->cur_vlan != want) {
        if (c->cur_vlan >= 0) {
            put_attr(c, OVS_ACTION_ATTR_POP_VLAN, NULL, 0);
        }
        if (want >= 0) {
            struct ovs_action_push_vlan pv = {
                .vlan_tpid = htons(ETH_TYPE_VLAN),
                .vlan_tci = htons((uint16_t) want | 0x1000),
            };
            put_attr(c, OVS_ACTION_ATTR_PUSH_VLAN, &pv, sizeof pv);
        }
        c->cur_vlan = want;
    }
    if (port->tnl.type && !put_tunnel(c, &port->tnl)) {
        return;                 /* remote_ip=flow and no tun_dst */
    }
    uint32_t odp = port->odp_port;
    put_attr(c, OVS_ACTION_ATTR_OUTPUT, &odp, sizeof odp);
}

/* The VLAN a packet belongs to on 'in', or -2 if the port must drop it. */
static int
input_vlan(const struct ofport *in, const struct flow_key *key)
{
    bool tagged = key->vlan_tci & htons(0x1000);
    int vid = tagged ? ntohs(key->vlan_tci) & VID_MASK : 0;

    switch (in->vlan_mode) {
    case PORT_VLAN_ACCESS:
        /* Priority-tagged frames (VID 0) count as untagged. */
        if (tagged && vid) {
            return -2;
        }
        return in->tag == VLAN_NONE ? 0 : in->tag;
    case PORT_VLAN_NATIVE_TAGGED:
    case PORT_VLAN_NATIVE_UNTAGGED:
        if (!tagged || !vid) {
            return in->tag == VLAN_NONE ? 0 : in->tag;
        }
        /* fall through */
    case PORT_VLAN_TRUNK:
    default:
        return ofport_trunks_vlan(in, vid) ? vid : -2;
    }
}

static bool
port_in_vlan(const struct ofport *p, int vlan)
{
    if (p->vlan_mode == PORT_VLAN_ACCESS) {
        return (p->tag == VLAN_NONE ? 0 : p->tag) == vlan;
    }
    if (p->vlan_mode != PORT_VLAN_TRUNK && p->tag == vlan) {
        return true;
    }
    return vlan ? ofport_trunks_vlan(p, vlan) : p->tag == VLAN_NONE;
}

static void
trace_detail(struct ctx *c, const char *text)
{
    if (c->tnode) {
        trace_add(c->tnode, TRACE_DETAIL, "%s", text);
    }
}

static void
trace_action(struct ctx *c, const struct ofpact *a, size_t n_set)
{
    struct odp_buf b = { 0 };

    if (!c->tnode) {
        return;
    }
    if (a->type == OFPACT_WRITE_ACTIONS) {
        odp_buf_put(&b, "write_actions(");
        for (size_t i = 0; i < n_set; i++) {
            odp_buf_put(&b, i ? "," : "");
            trace_format_action(&b, a + 1 + i);
        }
        odp_buf_put(&b, ")");
    } else {
        trace_format_action(&b, a);
    }
    trace_add(c->tnode, TRACE_ACTION, "%s", odp_buf_cstr(&b));
    odp_buf_free(&b);
}

static void
normal(struct ctx *c, const struct ofport *in, bool learn, uint64_t now)
{
    const struct flow_key *key = c->key;
    struct flow_key *mask = &c->out->mask;
    const struct ofproto *br = in->bridge;

    /* NORMAL looks at addresses and the tag; nothing above L2. */
    memset(mask->eth_src, 0xff, 6);
    memset(mask->eth_dst, 0xff, 6);
    mask->vlan_tci = htons(0x1fff);
    mask->vlan_tpid = 0xffff;

    int vlan = input_vlan(in, key);
    if (vlan < 0) {
        trace_detail(c, "disallowed VLAN VID for this input port, "
                     "dropping");
        return;                 /* not allowed on this port: drop */
    }
    /* Packets that only crossed a datapath flow (credited by the
     * revalidator) refresh the entry too, or a MAC that talks only
     * through megaflows would age out and its traffic be flooded. */
    if ((learn || c->credit_packets)
        && mac_table_learn(br->macs, key->eth_src, vlan, in->ofp_port,
                           now)) {
        c->out->mac_moved = true;
    }

    uint32_t dst = UINT32_MAX;
    if (!(key->eth_dst[0] & 1)) {
        dst = mac_table_lookup(br->macs, key->eth_dst, vlan, now);
    }
    if (dst != UINT32_MAX) {
        for (unsigned i = 0; i < br->n_ports; i++) {
            const struct ofport *p = br->ports[i];
            if (p->ofp_port == dst) {
                /* Never back out of the port it came in on. */
                if (p != in && port_in_vlan(p, vlan)) {
                    trace_detail(c, "forwarding to learned port");
                    output_vlan(c, p, vlan);
                } else {
                    trace_detail(c, "learned port is input port, "
                                 "dropping");
                }
                return;
            }
        }
    }
    /* Unknown or broadcast: flood within the VLAN. */
    trace_detail(c, dst == UINT32_MAX && (key->eth_dst[0] & 1)
                 ? "multicast traffic, flooding"
                 : "no learned MAC for destination, flooding");
    for (unsigned i = 0; i < br->n_ports; i++) {
        const struct ofport *p = br->ports[i];
        if (p != in && port_in_vlan(p, vlan)
            && !(port_config(c, p) & RULES_PC_NO_FLOOD)) {
            output_vlan(c, p, vlan);
        }
    }
}

/* ---- the OpenFlow pipeline ---------------------------------------------- */

static const struct ofport *
port_by_ofp(const struct ofproto *br, uint32_t ofp)
{
    if (ofp == OFPP_LOCAL) {
        ofp = OFPP_LOCAL_NO;
    }
    for (unsigned i = 0; i < br->n_ports; i++) {
        if (br->ports[i]->ofp_port == ofp) {
            return br->ports[i];
        }
    }
    return NULL;
}

/* Makes the datapath packet's VLAN tag what the pipeline set. */
static void
commit_vlan(struct ctx *c)
{
    uint16_t want = ntohs(c->pkt.key.vlan_tci);

    if (!(want & FLOW_VLAN_CFI)) {
        want = 0;
    }
    if (c->cur_tci == want) {
        return;
    }
    if (c->cur_tci) {
        put_attr(c, OVS_ACTION_ATTR_POP_VLAN, NULL, 0);
    }
    if (want) {
        struct ovs_action_push_vlan pv = {
            .vlan_tpid = htons(ETH_TYPE_VLAN),
            .vlan_tci = htons(want),
        };
        put_attr(c, OVS_ACTION_ATTR_PUSH_VLAN, &pv, sizeof pv);
    }
    c->cur_tci = want;
    c->cur_vlan = want ? (want & VID_MASK) : -1;
}

/* The OpenFlow config bits (RULES_PC_*) the switch keeps for 'p'. */
static uint32_t
port_config(const struct ctx *c, const struct ofport *p)
{
    if (!c->rules || !c->rules->n_port_cfg) {
        return 0;
    }
    return rules_port_config(c->rules, p->ofp_port == OFPP_LOCAL_NO
                                       ? OFPP_LOCAL : p->ofp_port);
}

static void
output_port(struct ctx *c, const struct ofport *p)
{
    if (p->odp_port == UINT32_MAX) {
        return;                 /* the controller's pseudo input port */
    }
    if (port_config(c, p) & RULES_PC_NO_FWD) {
        trace_detail(c, "OFPPC_NO_FWD set, skipping output");
        return;
    }
    commit_vlan(c);
    if (p->tnl.type && !put_tunnel(c, &p->tnl)) {
        return;                 /* remote_ip=flow and no tun_dst */
    }
    uint32_t odp = p->odp_port;
    put_attr(c, OVS_ACTION_ATTR_OUTPUT, &odp, sizeof odp);
}

/* The CONTROLLER action: a userspace() action whose userdata says what
 * the packet-in carries.  The packet goes up as it is at this point of
 * the pipeline, so pending tag changes are committed first. */
static void
output_controller(struct ctx *c, uint8_t reason, uint16_t max_len)
{
    struct xlate_pin_cookie ck;
    uint8_t buf[128] __attribute__((aligned(4)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    memset(&ck, 0, sizeof ck);
    ck.kind = XLATE_COOKIE_CONTROLLER;
    ck.reason = reason;
    ck.table_id = c->table_id;
    ck.max_len = max_len;
    ck.in_port = c->in->ofp_port == OFPP_LOCAL_NO ? OFPP_LOCAL
                                                  : c->in->ofp_port;
    ck.cookie = c->rule_cookie;     /* 0 for a miss without a rule */
    snprintf(ck.bridge, sizeof ck.bridge, "%s", c->in->bridge->name);
    commit_vlan(c);
    /* In per-CPU dispatch mode the datapath ignores the pid and picks
     * the handler itself; Open vSwitch puts this placeholder there. */
    mnl_attr_put_u32(nlh, OVS_USERSPACE_ATTR_PID, UINT32_MAX);
    mnl_attr_put(nlh, OVS_USERSPACE_ATTR_USERDATA, sizeof ck, &ck);

    /* The controller meter (OFPM_CONTROLLER), if there is one, limits
     * packet-ins: in a clone, so that what it drops is only the copy for
     * the controller, as Open vSwitch does it. */
    const struct meter *m = c->rules ? meters_find(&c->rules->meters,
                                                   OFPM_CONTROLLER)
                                     : NULL;
    if (!m) {
        put_attr(c, OVS_ACTION_ATTR_USERSPACE, mnl_nlmsg_get_payload(nlh),
                 nlh->nlmsg_len - MNL_NLMSG_HDRLEN);
        return;
    }
    uint8_t cbuf[256] __attribute__((aligned(4)));
    struct nlmsghdr *cl = mnl_nlmsg_put_header(cbuf);
    mnl_attr_put_u32(cl, OVS_ACTION_ATTR_METER, m->dp_id);
    mnl_attr_put(cl, OVS_ACTION_ATTR_USERSPACE,
                 nlh->nlmsg_len - MNL_NLMSG_HDRLEN,
                 mnl_nlmsg_get_payload(nlh));
    put_attr(c, OVS_ACTION_ATTR_CLONE, mnl_nlmsg_get_payload(cl),
             cl->nlmsg_len - MNL_NLMSG_HDRLEN);
}

static void
do_output(struct ctx *c, uint32_t port, uint16_t max_len)
{
    const struct ofproto *br = c->in->bridge;

    switch (port) {
    case OFPP_IN_PORT:
        output_port(c, c->in);
        break;
    case OFPP_NORMAL:
        normal(c, c->in, c->learn, c->now);
        c->cur_tci = c->cur_vlan >= 0 ? (c->cur_vlan | FLOW_VLAN_CFI) : 0;
        break;
    case OFPP_FLOOD:
    case OFPP_ALL:
        for (unsigned i = 0; i < br->n_ports; i++) {
            const struct ofport *p = br->ports[i];
            if (p != c->in
                && (port != OFPP_FLOOD
                    || !(port_config(c, p) & RULES_PC_NO_FLOOD))) {
                output_port(c, p);
            }
        }
        break;
    case OFPP_CONTROLLER:
        output_controller(c, c->table_miss_rule ? OFPR_NO_MATCH
                                                : OFPR_ACTION, max_len);
        break;
    case OFPP_TABLE:
    case OFPP_ANY:
        break;
    default: {
        const struct ofport *p = port_by_ofp(br, port);
        /* OpenFlow never sends back out of the input port implicitly. */
        if (p && p != c->in) {
            output_port(c, p);
        }
        break;
    }
    }
}

/* Emits OVS_ACTION_ATTR_SET_MASKED of key attribute 'type' whose value
 * and mask are 'len' bytes each. */
static void
put_set_masked(struct ctx *c, uint16_t type, const void *val,
               const void *mask, size_t len)
{
    uint8_t buf[2 * 64 + 4] __attribute__((aligned(4)));
    struct nlattr *a = (struct nlattr *) buf;

    a->nla_type = type;
    a->nla_len = MNL_ATTR_HDRLEN + 2 * len;
    /* The datapath insists that the value has no bits outside the
     * mask. */
    for (size_t i = 0; i < len; i++) {
        buf[MNL_ATTR_HDRLEN + i] = ((const uint8_t *) val)[i]
                                   & ((const uint8_t *) mask)[i];
    }
    memcpy(buf + MNL_ATTR_HDRLEN + len, mask, len);
    put_attr(c, OVS_ACTION_ATTR_SET_MASKED, buf, a->nla_len);
}

static bool
pkt_is(const struct ctx *c, uint16_t eth_type)
{
    return c->pkt.key.eth_type == htons(eth_type);
}

static void
set_l3_ipv4(struct ctx *c, const struct flow_key *old)
{
    const struct flow_key *k = &c->pkt.key;
    struct ovs_key_ipv4 v = {
        .ipv4_src = k->ipv4_src, .ipv4_dst = k->ipv4_dst,
        .ipv4_tos = k->ip_tos, .ipv4_ttl = k->ip_ttl,
    };
    struct ovs_key_ipv4 m = {
        .ipv4_src = k->ipv4_src != old->ipv4_src ? UINT32_MAX : 0,
        .ipv4_dst = k->ipv4_dst != old->ipv4_dst ? UINT32_MAX : 0,
        .ipv4_tos = k->ip_tos != old->ip_tos ? 0xff : 0,
        .ipv4_ttl = k->ip_ttl != old->ip_ttl ? 0xff : 0,
    };
    put_set_masked(c, OVS_KEY_ATTR_IPV4, &v, &m, sizeof v);
}

static void
do_set_field(struct ctx *c, const struct ofpact *a)
{
    struct flow_key old = c->pkt.key;
    struct flow_key *k = &c->pkt.key;
    struct flow_key *wc = &c->out->mask;
    enum mf_id id = a->field;

    switch (id) {
    case MF_ETH_SRC:
    case MF_ETH_DST: {
        mf_set(id, false, a->value, &c->pkt);
        struct ovs_key_ethernet v, m;
        memcpy(v.eth_src, k->eth_src, 6);
        memcpy(v.eth_dst, k->eth_dst, 6);
        memset(&m, 0, sizeof m);
        memset(id == MF_ETH_SRC ? m.eth_src : m.eth_dst, 0xff, 6);
        put_set_masked(c, OVS_KEY_ATTR_ETHERNET, &v, &m, sizeof v);
        break;
    }
    case MF_IPV4_SRC:
    case MF_IPV4_DST:
    case MF_IP_DSCP:
    case MF_IP_ECN:
    case MF_IP_TOS:
    case MF_IP_TTL:
        if (!pkt_is(c, 0x0800)) {
            break;              /* not IPv4: nothing to rewrite */
        }
        mf_set(id, false, a->value, &c->pkt);
        set_l3_ipv4(c, &old);
        break;
    case MF_TCP_SRC: case MF_TCP_DST:
    case MF_UDP_SRC: case MF_UDP_DST:
    case MF_SCTP_SRC: case MF_SCTP_DST: {
        uint16_t type = k->ip_proto == IPPROTO_TCP ? OVS_KEY_ATTR_TCP
                      : k->ip_proto == IPPROTO_UDP ? OVS_KEY_ATTR_UDP
                      : k->ip_proto == IPPROTO_SCTP ? OVS_KEY_ATTR_SCTP : 0;
        wc->ip_proto = 0xff;
        if (!type || (!pkt_is(c, 0x0800) && !pkt_is(c, 0x86dd))) {
            break;
        }
        mf_set(id, false, a->value, &c->pkt);
        struct ovs_key_tcp v = { .tcp_src = k->tp_src, .tcp_dst = k->tp_dst };
        struct ovs_key_tcp m = {
            .tcp_src = k->tp_src != old.tp_src ? 0xffff : 0,
            .tcp_dst = k->tp_dst != old.tp_dst ? 0xffff : 0,
        };
        put_set_masked(c, type, &v, &m, sizeof v);
        break;
    }
    case MF_VLAN_VID:
    case MF_VLAN_PCP:
    case MF_VLAN_TCI:
        /* Only rewrites an existing tag (OpenFlow 1.3 semantics). */
        wc->vlan_tci = 0xffff;
        if (k->vlan_tci & htons(FLOW_VLAN_CFI)) {
            mf_set(id, false, a->value, &c->pkt);
            k->vlan_tci |= htons(FLOW_VLAN_CFI);
        }
        break;
    case MF_PKT_MARK: {
        mf_set(id, false, a->value, &c->pkt);
        uint32_t m = UINT32_MAX;
        put_set_masked(c, OVS_KEY_ATTR_SKB_MARK, &k->skb_mark, &m,
                       sizeof m);
        break;
    }
    case MF_TUN_ID:
    case MF_TUN_IPV4_SRC:
    case MF_TUN_IPV4_DST:
        /* Metadata for the next output to a tunnel port (put_tunnel()). */
        mf_set(id, false, a->value, &c->pkt);
        break;
    default:
        if ((id >= MF_REG0 && id <= MF_REG7) || id == MF_METADATA) {
            mf_set(id, false, a->value, &c->pkt);
        }
        /* Other fields cannot be rewritten by the datapath yet. */
        break;
    }
}

/* ---- registers: load and move ------------------------------------------ */

/* Fields that live only in the pipeline: they never reach the datapath
 * and shape the megaflow only through the packet fields that were read
 * into them. */
static bool
pipeline_field(enum mf_id id)
{
    return id == MF_METADATA || id == MF_IN_PORT
        || (id >= MF_REG0 && id <= MF_REG7);
}

/* Puts every key bit of field 'id' into the megaflow mask. */
static void
unwildcard_field(struct ctx *c, enum mf_id id, size_t width)
{
    struct ofp_fields m;
    uint8_t ones[16];
    const uint8_t *src = (const uint8_t *) &m.key;
    uint8_t *wc = (uint8_t *) &c->out->mask;

    if (pipeline_field(id)) {
        return;
    }
    memset(&m, 0, sizeof m);
    memset(ones, 0xff, sizeof ones);
    mf_set_width(id, width, ones, &m);
    for (size_t i = 0; i < sizeof m.key; i++) {
        wc[i] |= src[i];
    }
}

/* Gives field 'id' the wire value 'val': pipeline fields change only the
 * pipeline state, packet fields become a datapath set action too. */
static void
write_field(struct ctx *c, enum mf_id id, size_t width, const uint8_t *val)
{
    if (pipeline_field(id)) {
        mf_set_width(id, width, val, &c->pkt);
        return;
    }
    struct ofpact sf;
    memset(&sf, 0, sizeof sf);
    sf.type = OFPACT_SET_FIELD;
    sf.field = id;
    memcpy(sf.value, val, sizeof sf.value);
    do_set_field(c, &sf);
}

static void
do_reg_load(struct ctx *c, const struct ofpact *a)
{
    size_t w = a->dst_hdr & 0xff;
    uint8_t val[16], src[8];

    mf_get_width(a->field, w, &c->pkt, val);
    for (int i = 0; i < 8; i++) {
        src[i] = a->metadata >> (56 - 8 * i);
    }
    if (a->ofs || a->n != w * 8) {
        /* The bits kept come from the packet. */
        unwildcard_field(c, a->field, w);
    }
    mf_copy_bits(src, 8, 0, val, w, a->ofs, a->n);
    write_field(c, a->field, w, val);
}

/* NXAST_REG_LOAD2: a set-field of the field's masked bits, the others
 * kept from the packet (then the key bits they come from are consulted,
 * as for a partial load). */
static void
do_load2(struct ctx *c, const struct ofpact *a)
{
    size_t w = ofpact_load2_width(a);
    uint8_t val[16];
    bool whole = true;

    mf_get_width(a->field, w, &c->pkt, val);
    for (size_t i = 0; i < w; i++) {
        val[i] = (val[i] & ~a->set_mask[i]) | (a->value[i] & a->set_mask[i]);
        whole &= a->set_mask[i] == 0xff;
    }
    if (!whole) {
        unwildcard_field(c, a->field, w);
    }
    write_field(c, a->field, w, val);
}

/* The bits a learn spec takes: 'n_bits' from bit 'ofs' of the
 * big-endian value in 'src' ('len' bytes), into the low bits of 'out' (8
 * bytes, big-endian). */
static uint64_t
learn_bits(const uint8_t *src, size_t len, unsigned ofs, unsigned n_bits)
{
    uint8_t out[8] = { 0 };
    uint64_t v = 0;

    mf_copy_bits(src, len, ofs, out, sizeof out, 0, n_bits);
    for (int i = 0; i < 8; i++) {
        v = v << 8 | out[i];
    }
    return v;
}

/* The learn action: a rule built from the packet as it is now, queued
 * for the main thread (rules.h).  The fields it reads go into the
 * megaflow mask, so that every packet that would learn something else
 * comes up again.  Upcalls and credited datapath flows learn; traces
 * and plain revalidation translate without side effects. */
static void
do_learn(struct ctx *c, const struct ofp_learn *l)
{
    for (size_t i = 0; i < l->n_specs; i++) {
        const struct ofp_learn_spec *sp = &l->specs[i];
        if (sp->src_type == LEARN_SRC_FIELD) {
            unwildcard_field(c, sp->src_field, sp->src_hdr & 0xff);
        }
    }
    /* Packets that a datapath flow forwarded learn too, when the
     * revalidator credits them (as Open vSwitch learns when it pushes a
     * flow's statistics): that relearns a rule that expired while the
     * datapath flow lived on, and keeps a busy learned rule fresh. */
    if ((!c->learn && !c->credit_packets) || !c->rules || !c->in) {
        return;
    }
    struct rule *r = rule_create();
    if (!r) {
        return;
    }
    ofp_match_init_catchall(&r->match);
    r->table_id = l->table_id;
    r->priority = l->priority;
    r->idle_timeout = l->idle_timeout;
    r->hard_timeout = l->hard_timeout;
    r->cookie = l->cookie;
    r->flags = l->flags & OFP_LEARN_F_SEND_FLOW_REM ? RULE_F_SEND_FLOW_REM
                                                    : 0;
    if (l->fin_idle_timeout || l->fin_hard_timeout) {
        /* The learned rule watches for the end of its connection, as
         * Open vSwitch's does: with a fin_timeout action first. */
        struct ofpact *a = ofpacts_put(&r->acts, OFPACT_FIN_TIMEOUT);
        a->n = l->fin_idle_timeout;
        a->ofs = l->fin_hard_timeout;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < l->n_specs; i++) {
        const struct ofp_learn_spec *sp = &l->specs[i];
        uint8_t sv[16];
        size_t sl;
        unsigned sofs;
        if (sp->src_type == LEARN_SRC_FIELD) {
            sl = mf_get_width(sp->src_field, sp->src_hdr & 0xff, &c->pkt,
                              sv);
            sofs = sp->src_ofs;
        } else {
            memcpy(sv, sp->value, sp->value_len);
            sl = sp->value_len;
            sofs = 0;
        }
        switch (sp->dst_type) {
        case LEARN_DST_MATCH: {
            size_t w = sp->dst_hdr & 0xff;
            uint8_t v[16], m[16], ones[16];
            memset(ones, 0xff, sizeof ones);
            mf_get_width(sp->dst_field, w, &r->match.v, v);
            mf_get_width(sp->dst_field, w, &r->match.m, m);
            mf_copy_bits(sv, sl, sofs, v, w, sp->dst_ofs, sp->n_bits);
            mf_copy_bits(ones, sizeof ones, 0, m, w, sp->dst_ofs,
                         sp->n_bits);
            ok = mf_set_width(sp->dst_field, w, v, &r->match.v)
                 && mf_set_width(sp->dst_field, w, m, &r->match.m);
            break;
        }
        case LEARN_DST_LOAD: {
            struct ofpact *a = ofpacts_put(&r->acts, OFPACT_REG_LOAD);
            a->field = sp->dst_field;
            a->dst_hdr = sp->dst_hdr;
            a->ofs = sp->dst_ofs;
            a->n = sp->n_bits;
            a->metadata = learn_bits(sv, sl, sofs, sp->n_bits);
            break;
        }
        default: {
            uint32_t port = learn_bits(sv, sl, sofs, sp->n_bits);
            if (sp->src_field == MF_IN_PORT && (sp->src_hdr & 0xff) == 2) {
                port = ofp_port_from_16(port);
            }
            ofpacts_put(&r->acts, OFPACT_OUTPUT)->port = port;
            break;
        }
        }
    }
    if (!ok) {
        rule_free(r);
        return;
    }
    rules_queue_learned(c->rules->name, r);
}

static void
do_reg_move(struct ctx *c, const struct ofpact *a)
{
    size_t sw = a->src_hdr & 0xff, dw = a->dst_hdr & 0xff;
    uint8_t sv[16], dv[16];

    mf_get_width(a->src_field, sw, &c->pkt, sv);
    unwildcard_field(c, a->src_field, sw);
    mf_get_width(a->field, dw, &c->pkt, dv);
    if (a->ofs || a->n != dw * 8) {
        unwildcard_field(c, a->field, dw);
    }
    mf_copy_bits(sv, sw, a->src_ofs, dv, dw, a->ofs, a->n);
    write_field(c, a->field, dw, dv);
}

/* The meter instruction: the datapath's meter of OpenFlow meter 'id'
 * decides, before anything else the rule does, whether the packet goes
 * on (it stops every later action when it drops, which is what the
 * instruction means).  A meter deleted since the rule was checked takes
 * its rules with it, so a missing one is only seen in a race with
 * revalidation: then the packet passes, as a missing datapath meter
 * passes it. */
static void
do_meter(struct ctx *c, uint32_t id)
{
    const struct meter *m = c->rules ? meters_find(&c->rules->meters, id)
                                     : NULL;
    if (m) {
        put_attr(c, OVS_ACTION_ATTR_METER, &m->dp_id, sizeof m->dp_id);
    }
}

/* fin_timeout: a TCP FIN or RST shortens the running rule's timeouts.
 * The packet in an upcall says so itself; for the packets of a datapath
 * flow, the revalidator passes the TCP flags the flow has seen, so the
 * megaflow need not match on them. */
static void
do_fin_timeout(struct ctx *c, const struct ofpact *a)
{
    uint16_t flags = c->credit_packets ? c->credit_tcp_flags
                     : c->learn ? ntohs(c->pkt.key.tcp_flags) : 0;

    /* Only TCP packets have flags in the key or in flow statistics. */
    if (c->rule && (flags & (TCP_FIN | TCP_RST))) {
        rules_fin_timeout(c->rule, a->n, a->ofs);
    }
}

static void do_table(struct ctx *, uint8_t table);
static void do_action(struct ctx *, const struct ofpact *);

/* ---- groups ------------------------------------------------------------- */

#define MAX_GROUP_DEPTH 16

/* Whether OpenFlow port 'ofp' of the bridge can forward: it exists and
 * its host interface is up with a carrier.  ofconn watches the same
 * states and revalidates when one changes, so a fast-failover decision
 * in a datapath flow does not outlive the liveness it was based on. */
static bool
port_live(const struct ctx *c, uint32_t ofp)
{
    const struct ofport *p = port_by_ofp(c->in->bridge, ofp);

    if (!p) {
        return false;
    }
    if (p->tnl.type) {
        return true;
    }
    struct host_if_state st;
    host_if_read(p->name, &st);
    return st.admin_up && st.link_up;
}

static bool group_live(const struct ctx *, const struct group *, int depth);

static bool
bucket_live(const struct ctx *c, const struct ofp_bucket *b, int depth)
{
    if (b->watch_port != OFPP_ANY && !port_live(c, b->watch_port)) {
        return false;
    }
    if (b->watch_group != OFPG_ANY) {
        const struct group *g = groups_find(&c->rules->groups,
                                            b->watch_group);
        return g && depth < MAX_GROUP_DEPTH && group_live(c, g, depth + 1);
    }
    return true;
}

/* A group is live if one of its buckets is. */
static bool
group_live(const struct ctx *c, const struct group *g, int depth)
{
    for (size_t i = 0; i < g->n_buckets; i++) {
        if (bucket_live(c, &g->buckets[i], depth)) {
            return true;
        }
    }
    return false;
}

/* The hash a select group spreads flows by: addresses, protocol and
 * ports, as far as the packet has them.  Every field it reads goes into
 * the megaflow mask, so one datapath flow never covers packets that
 * would pick different buckets. */
static uint32_t
select_hash(struct ctx *c)
{
    const struct flow_key *k = &c->pkt.key;
    struct flow_key *wc = &c->out->mask;
    uint32_t h = 2166136261u;
    uint8_t buf[64];
    size_t n = 0;

    memcpy(buf + n, k->eth_src, 6);
    memcpy(buf + n + 6, k->eth_dst, 6);
    n += 12;
    memset(wc->eth_src, 0xff, 6);
    memset(wc->eth_dst, 0xff, 6);
    if (pkt_is(c, 0x0800)) {
        memcpy(buf + n, &k->ipv4_src, 4);
        memcpy(buf + n + 4, &k->ipv4_dst, 4);
        buf[n + 8] = k->ip_proto;
        n += 9;
        wc->ipv4_src = wc->ipv4_dst = UINT32_MAX;
        wc->ip_proto = 0xff;
        if (k->ip_proto == IPPROTO_TCP || k->ip_proto == IPPROTO_UDP
            || k->ip_proto == IPPROTO_SCTP) {
            memcpy(buf + n, &k->tp_src, 2);
            memcpy(buf + n + 2, &k->tp_dst, 2);
            n += 4;
            wc->tp_src = wc->tp_dst = 0xffff;
        }
    }
    for (size_t i = 0; i < n; i++) {
        h = (h ^ buf[i]) * 16777619u;
    }
    return h ^ h >> 16;
}

static void
credit_group(struct ctx *c, struct group *g, size_t bucket)
{
    uint64_t packets = c->credit_packets + (c->learn ? 1 : 0);
    uint64_t bytes = c->credit_bytes + (c->learn ? c->upcall_bytes : 0);

    if (!packets) {
        return;
    }
    atomic_fetch_add_explicit(&g->stats.packets, packets,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&g->stats.bytes, bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&g->bucket_stats[bucket].packets, packets,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&g->bucket_stats[bucket].bytes, bytes,
                              memory_order_relaxed);
}

/* Runs bucket 'i' of 'g'.  With 'isolate', inside a datapath clone()
 * and on a copy of the pipeline state, so that what the bucket rewrites
 * does not leak into the next bucket or the actions after the group. */
static void
do_bucket(struct ctx *c, struct group *g, size_t i, bool isolate)
{
    const struct ofpacts *acts = &g->buckets[i].acts;
    struct ofp_fields saved_pkt = c->pkt;
    uint16_t saved_tci = c->cur_tci;
    int saved_vlan = c->cur_vlan;
    size_t ofs = c->out->actions_len;

    credit_group(c, g, i);
    if (c->tnode) {
        trace_add(c->tnode, TRACE_ACTION, "bucket %zu", i);
    }
    if (isolate) {
        put_attr(c, OVS_ACTION_ATTR_CLONE, NULL, 0);
    }
    size_t body = c->out->actions_len;
    for (size_t j = 0; j < acts->n && !c->stopped; j++) {
        do_action(c, &acts->a[j]);
    }
    c->stopped = false;
    if (!isolate) {
        return;
    }
    if (c->out->actions_len == body) {
        c->out->actions_len = ofs;      /* an empty clone does nothing */
    } else {
        struct nlattr *a = (struct nlattr *) (c->out->actions + ofs);
        a->nla_len = c->out->actions_len - ofs;
    }
    c->pkt = saved_pkt;
    c->cur_tci = saved_tci;
    c->cur_vlan = saved_vlan;
}

static void
do_group(struct ctx *c, uint32_t id)
{
    struct group *g = c->rules ? groups_find(&c->rules->groups, id) : NULL;
    int bucket = -1;

    if (!g || c->group_depth >= MAX_GROUP_DEPTH) {
        return;
    }
    c->group_depth++;
    switch (g->type) {
    case OFPGT_ALL:
        for (size_t i = 0; i < g->n_buckets; i++) {
            do_bucket(c, g, i, true);
        }
        break;
    case OFPGT_SELECT:
        bucket = groups_select_bucket(g, select_hash(c));
        break;
    case OFPGT_INDIRECT:
        bucket = g->n_buckets ? 0 : -1;
        break;
    case OFPGT_FF:
        for (size_t i = 0; i < g->n_buckets && bucket < 0; i++) {
            if (bucket_live(c, &g->buckets[i], 0)) {
                bucket = i;
            }
        }
        break;
    }
    if (bucket >= 0) {
        do_bucket(c, g, bucket, true);
    }
    c->group_depth--;
}

static void
do_action(struct ctx *c, const struct ofpact *a)
{
    struct flow_key *k = &c->pkt.key;
    struct flow_key *wc = &c->out->mask;

    switch (a->type) {
    case OFPACT_OUTPUT:
        do_output(c, a->port, a->n);
        break;
    case OFPACT_SET_FIELD:
        if (a->nx_load2) {
            do_load2(c, a);
        } else {
            do_set_field(c, a);
        }
        break;
    case OFPACT_SET_VLAN_VID:
    case OFPACT_SET_VLAN_PCP: {
        wc->vlan_tci = 0xffff;
        uint16_t tci = ntohs(k->vlan_tci) | FLOW_VLAN_CFI;
        if (a->type == OFPACT_SET_VLAN_VID) {
            tci = (tci & ~VID_MASK) | (a->port & VID_MASK);
        } else {
            tci = (tci & 0x1fff) | (a->port & 7) << 13;
        }
        k->vlan_tci = htons(tci);
        break;
    }
    case OFPACT_STRIP_VLAN:
    case OFPACT_POP_VLAN:
        wc->vlan_tci = 0xffff;
        k->vlan_tci = 0;
        break;
    case OFPACT_PUSH_VLAN:
        wc->vlan_tci = 0xffff;
        /* A new tag copies the VID and PCP of the one it covers, if any;
         * only one tag is modelled, as the datapath flow key does. */
        k->vlan_tci |= htons(FLOW_VLAN_CFI);
        break;
    case OFPACT_DEC_TTL:
        if (pkt_is(c, 0x0800)) {
            struct flow_key old = *k;
            wc->ip_ttl = 0xff;
            if (k->ip_ttl <= 1) {
                c->stopped = true;
                break;
            }
            k->ip_ttl--;
            set_l3_ipv4(c, &old);
        }
        break;
    case OFPACT_GROUP:
        do_group(c, a->port);
        break;
    case OFPACT_REG_LOAD:
        do_reg_load(c, a);
        break;
    case OFPACT_REG_MOVE:
        do_reg_move(c, a);
        break;
    case OFPACT_LEARN:
        do_learn(c, a->learn);
        break;
    case OFPACT_METER:
        do_meter(c, a->port);
        break;
    case OFPACT_FIN_TIMEOUT:
        do_fin_timeout(c, a);
        break;
    case OFPACT_RESUBMIT: {
        if (c->depth >= MAX_RESUBMIT_DEPTH) {
            break;
        }
        uint32_t saved = k->in_port;
        if (a->port != OFPP_IN_PORT) {
            k->in_port = a->port;
        }
        c->depth++;
        do_table(c, a->table);
        c->depth--;
        k->in_port = saved;
        break;
    }
    default:
        break;
    }
}

/* Adds the actions of a write-actions instruction to the action set: an
 * action replaces one of the same kind (outputs, a field's set-field). */
static void
write_actions(struct ctx *c, const struct ofpact *acts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct ofpact *a = &acts[i];
        bool replaced = false;
        if (a->type == OFPACT_LEARN) {
            continue;           /* not an action-set action */
        }
        for (size_t j = 0; j < c->action_set.n; j++) {
            struct ofpact *b = &c->action_set.a[j];
            if (b->type == a->type
                && (a->type != OFPACT_SET_FIELD || a->field == b->field)) {
                *b = *a;
                replaced = true;
                break;
            }
        }
        if (!replaced) {
            *ofpacts_put(&c->action_set, a->type) = *a;
        }
    }
}

/* Runs the rule program 'acts' (apply actions, then instructions). */
static void
do_program(struct ctx *c, const struct ofpacts *acts)
{
    if (!acts->n && c->tnode) {
        trace_add(c->tnode, TRACE_ACTION, "drop");
    }
    for (size_t i = 0; i < acts->n && !c->stopped; i++) {
        const struct ofpact *a = &acts->a[i];
        trace_action(c, a, a->type == OFPACT_WRITE_ACTIONS
                     ? (a->n <= acts->n - i - 1 ? a->n : acts->n - i - 1)
                     : 0);
        switch (a->type) {
        case OFPACT_CLEAR_ACTIONS:
            c->action_set.n = 0;
            break;
        case OFPACT_WRITE_ACTIONS: {
            size_t n = a->n <= acts->n - i - 1 ? a->n : acts->n - i - 1;
            write_actions(c, a + 1, n);
            i += n;
            break;
        }
        case OFPACT_WRITE_METADATA:
            c->pkt.metadata = (c->pkt.metadata & ~a->mask) | a->metadata;
            break;
        case OFPACT_GOTO_TABLE:
            do_table(c, a->table);
            break;
        default:
            do_action(c, a);
            break;
        }
    }
}

/* " 0. MATCH, priority N, cookie 0xC", or " 0. No match.", under the
 * table whose rule is running. */
static struct trace_node *
trace_table(struct ctx *c, uint8_t table, const struct rule *r)
{
    struct odp_buf b = { 0 };
    struct trace_node *n;

    if (!r) {
        return trace_add(c->tnode, TRACE_TABLE, "%2u. No match.", table);
    }
    trace_format_match(&b, &r->match, false);
    n = trace_add(c->tnode, TRACE_TABLE, "%2u. %s%spriority %u", table,
                  odp_buf_cstr(&b), b.len ? ", " : "", r->priority);
    if (n && r->cookie) {
        char *text = NULL;
        if (asprintf(&text, "%s, cookie 0x%" PRIx64, n->text,
                     r->cookie) >= 0) {
            free(n->text);
            n->text = text;
        }
    }
    odp_buf_free(&b);
    return n ? n : c->tnode;
}

static bool
is_catchall(const struct ofp_match *m)
{
    static const struct ofp_fields zero;
    return !memcmp(&m->m, &zero, sizeof zero);
}

static void
do_table(struct ctx *c, uint8_t table)
{
    if (table == RULES_TABLE_ALL) {
        return;
    }
    struct rule *r = rules_lookup(c->rules, table, &c->pkt, &c->out->mask,
                                  c->learn);
    uint8_t saved_table = c->table_id;
    uint64_t saved_cookie = c->rule_cookie;
    bool saved_miss = c->table_miss_rule;

    c->table_id = table;
    struct trace_node *saved_node = c->tnode;
    if (c->tnode) {
        c->tnode = trace_table(c, table, r);
    }
    if (!r) {
        /* Table miss: OpenFlow 1.0 sends it to the controller, 1.3 drops
         * unless a table-miss rule says otherwise. */
        if (c->rules->miss_to_controller && c->in
            && !(port_config(c, c->in) & RULES_PC_NO_PACKET_IN)) {
            c->table_miss_rule = true;
            c->rule_cookie = 0;
            output_controller(c, OFPR_NO_MATCH, UINT16_MAX);
            if (c->tnode) {
                trace_add(c->tnode, TRACE_ACTION, "CONTROLLER:65535");
            }
        } else if (c->tnode) {
            trace_add(c->tnode, TRACE_ACTION, "drop");
        }
        c->tnode = saved_node;
        c->table_id = saved_table;
        c->rule_cookie = saved_cookie;
        c->table_miss_rule = saved_miss;
        return;
    }
    if (c->learn) {
        atomic_fetch_add_explicit(&r->n_packets, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->n_bytes, c->upcall_bytes,
                                  memory_order_relaxed);
        atomic_store_explicit(&r->used_ms, c->now * 1000,
                              memory_order_relaxed);
    }
    if (c->credit_packets) {
        atomic_fetch_add_explicit(&r->n_packets, c->credit_packets,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&r->n_bytes, c->credit_bytes,
                                  memory_order_relaxed);
        if (c->credit_used_ms > atomic_load(&r->used_ms)) {
            atomic_store(&r->used_ms, c->credit_used_ms);
        }
    }
    c->rule_cookie = r->cookie;
    c->table_miss_rule = !r->priority && is_catchall(&r->match);
    struct rule *saved_rule = c->rule;
    c->rule = r;
    do_program(c, &r->acts);
    c->rule = saved_rule;
    c->tnode = saved_node;
    c->table_id = saved_table;
    c->rule_cookie = saved_cookie;
    c->table_miss_rule = saved_miss;
}

/* Executes the action set at the end of the pipeline, in the order
 * OpenFlow gives: tag changes, TTL, set-field, then output. */
static void
run_action_set(struct ctx *c)
{
    static const uint8_t order[] = {
        OFPACT_STRIP_VLAN, OFPACT_POP_VLAN, OFPACT_PUSH_VLAN,
        OFPACT_DEC_TTL, OFPACT_SET_VLAN_VID, OFPACT_SET_VLAN_PCP,
        OFPACT_SET_FIELD, OFPACT_GROUP, OFPACT_OUTPUT,
    };
    bool group = false;

    for (size_t i = 0; i < c->action_set.n; i++) {
        group |= c->action_set.a[i].type == OFPACT_GROUP;
    }
    for (size_t o = 0; o < sizeof order; o++) {
        if (order[o] == OFPACT_OUTPUT && group) {
            break;              /* a group in the set overrides output */
        }
        for (size_t i = 0; i < c->action_set.n; i++) {
            if (c->action_set.a[i].type == order[o]) {
                do_action(c, &c->action_set.a[i]);
            }
        }
    }
}

static void
xlate__(const struct xlate_cfg *cfg, const struct flow_key *key, bool learn,
        uint64_t now, struct xlate_out *out, const uint64_t credit[4],
        struct trace_node *trace, struct ofp_fields *final, size_t len)
{
    struct ctx c;

    memset(&c, 0, sizeof c);
    c.tnode = trace;
    c.upcall_bytes = len;
    if (credit) {
        c.credit_packets = credit[0];
        c.credit_bytes = credit[1];
        c.credit_used_ms = credit[2];
        c.credit_tcp_flags = credit[3];
    }
    c.cfg = cfg;
    c.key = key;
    c.out = out;
    c.cur_vlan = -1;
    out->actions_len = 0;
    memset(&out->mask, 0, sizeof out->mask);
    out->mac_moved = false;
    out->mask.in_port = UINT32_MAX;
    out->mask.recirc_id = UINT32_MAX;
    /* The type is always matched: it decides which headers the datapath
     * parses, and so what the rest of the mask may name. */
    out->mask.eth_type = 0xffff;

    if (key->vlan_tci & htons(0x1000)) {
        c.cur_vlan = ntohs(key->vlan_tci) & VID_MASK;
        c.cur_tci = ntohs(key->vlan_tci);
    }
    const struct ofport *in = ofproto_port_for_key(cfg, key, &out->mask);
    if (!in || key->recirc_id) {
        return;                 /* not ours: drop */
    }
    c.rules = rules_find(in->bridge->name);
    if (!c.rules || c.rules->fail_open) {
        if (trace) {
            c.tnode = trace_add(trace, TRACE_TABLE, "%s",
                                c.rules ? " 0. fail-open: no controller "
                                "connected, acting as a NORMAL switch"
                                : " 0. priority 0");
            trace_add(c.tnode, TRACE_ACTION, "NORMAL");
        }
        /* A bridge whose tables are not set up yet acts as its default
         * rule would; so does a standalone bridge that lost its
         * controllers (Open vSwitch's "fail open"). */
        normal(&c, in, learn, now);
        return;
    }
    c.pkt.key = *key;
    c.pkt.key.in_port = in->ofp_port == OFPP_LOCAL_NO ? OFPP_LOCAL
                                                      : in->ofp_port;
    c.key = &c.pkt.key;
    c.in = in;
    c.learn = learn;
    c.now = now;
    if (port_config(&c, in) & RULES_PC_NO_RECV) {
        if (trace) {
            trace_add(trace, TRACE_TABLE, "%s", " 0. OFPPC_NO_RECV is set "
                      "on the input port, dropping");
        }
        return;
    }
    /* Fragment handling "drop": IP fragments never enter the tables.
     * The datapath mask keeps ip_frag, so whole packets of the same
     * flow do not share the drop. */
    if (c.rules->frag_mode == RULES_FRAG_DROP
        && (key->eth_type == htons(0x0800)
            || key->eth_type == htons(0x86dd))) {
        out->mask.ip_frag = 0xff;
        if (key->ip_frag != OVS_FRAG_TYPE_NONE) {
            if (trace) {
                trace_add(trace, TRACE_TABLE, "%s", " 0. fragment "
                          "handling is \"drop\": dropping an IP fragment");
            }
            return;
        }
    }
    ofpacts_init(&c.action_set);
    do_table(&c, 0);
    if (!c.stopped) {
        run_action_set(&c);
    }
    if (final) {
        *final = c.pkt;
    }
    ofpacts_uninit(&c.action_set);
}

void
xlate(const struct xlate_cfg *cfg, const struct flow_key *key, bool learn,
      uint64_t now, struct xlate_out *out)
{
    xlate__(cfg, key, learn, now, out, NULL, NULL, NULL, 0);
}

void
xlate_upcall(const struct xlate_cfg *cfg, const struct flow_key *key,
             size_t len, uint64_t now, struct xlate_out *out)
{
    xlate__(cfg, key, true, now, out, NULL, NULL, NULL, len);
}

void
xlate_trace(const struct xlate_cfg *cfg, const struct flow_key *key,
            uint64_t now, struct xlate_out *out,
            struct trace_node *bridge_node, struct ofp_fields *final)
{
    xlate__(cfg, key, false, now, out, NULL, bridge_node, final, 0);
}

void
xlate_credit(const struct xlate_cfg *cfg, const struct flow_key *key,
             uint64_t packets, uint64_t bytes, uint64_t used_ms,
             uint8_t tcp_flags, struct xlate_out *scratch)
{
    const uint64_t credit[4] = { packets, bytes, used_ms, tcp_flags };
    xlate__(cfg, key, false, used_ms / 1000, scratch, credit, NULL, NULL,
            0);
}

bool
xlate_actions(const struct xlate_cfg *cfg, const char *bridge,
              uint32_t in_ofp, const struct flow_key *key,
              const struct ofpacts *acts, struct xlate_out *out)
{
    const struct ofproto *br = ofproto_find(cfg, bridge);
    struct ctx c;

    memset(&c, 0, sizeof c);
    memset(&out->mask, 0, sizeof out->mask);
    out->actions_len = 0;
    out->mac_moved = false;
    if (!br) {
        return false;
    }
    /* A packet from the controller enters on no real port. */
    struct ofport ctl = {
        .ofp_port = OFPP_CONTROLLER, .odp_port = UINT32_MAX,
        .vlan_mode = PORT_VLAN_TRUNK, .tag = VLAN_NONE,
        .bridge = (struct ofproto *) br,
    };
    const struct ofport *in = port_by_ofp(br, in_ofp);
    c.cfg = cfg;
    c.out = out;
    c.cur_vlan = -1;
    if (key->vlan_tci & htons(FLOW_VLAN_CFI)) {
        c.cur_vlan = ntohs(key->vlan_tci) & VID_MASK;
        c.cur_tci = ntohs(key->vlan_tci);
    }
    c.pkt.key = *key;
    c.pkt.key.in_port = in_ofp;
    c.key = &c.pkt.key;
    c.in = in ? in : &ctl;
    c.rules = rules_find(bridge);
    c.learn = false;
    ofpacts_init(&c.action_set);
    for (size_t i = 0; i < acts->n && !c.stopped; i++) {
        if (acts->a[i].type == OFPACT_OUTPUT
            && acts->a[i].port == OFPP_TABLE) {
            if (c.rules) {
                do_table(&c, 0);
            }
        } else {
            do_action(&c, &acts->a[i]);
        }
    }
    ofpacts_uninit(&c.action_set);
    return true;
}
