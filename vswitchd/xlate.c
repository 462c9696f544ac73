/* Translation of a flow through a bridge: for now the default rule
 * "priority=0 actions=NORMAL" (MAC learning switch with VLANs). */
#include "xlate.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <string.h>

#include "mac-learning.h"
#include "ofproto.h"

#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_VLAN_8021AD 0x88a8
#define VID_MASK 0x0fff

struct ctx {
    const struct xlate_cfg *cfg;
    const struct flow_key *key;
    struct xlate_out *out;
    int cur_vlan;               /* VLAN tag on the packet now, or -1 */
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

/* set(tunnel(...)) for output to a tunnel port. */
static void
put_tunnel(struct ctx *c, const struct ofport_tunnel *t)
{
    uint8_t buf[256] __attribute__((aligned(4)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct nlattr *tun = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);

    mnl_attr_put_u64(nlh, OVS_TUNNEL_KEY_ATTR_ID, t->key);
    if (t->local_ip) {
        mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, t->local_ip);
    }
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, t->remote_ip);
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
}

/* Outputs to 'port', first making the packet's tag what 'port' wants for
 * VLAN 'vlan'. */
static void
output_vlan(struct ctx *c, const struct ofport *port, int vlan)
{
    bool untagged = (port->vlan_mode == PORT_VLAN_ACCESS)
        || (port->vlan_mode == PORT_VLAN_NATIVE_UNTAGGED && vlan == port->tag)
        || vlan <= 0;
    int want = untagged ? -1 : vlan;

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
    if (port->tnl.type) {
        put_tunnel(c, &port->tnl);
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
        return;                 /* not allowed on this port: drop */
    }
    if (learn && mac_table_learn(br->macs, key->eth_src, vlan, in->ofp_port,
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
                    output_vlan(c, p, vlan);
                }
                return;
            }
        }
    }
    /* Unknown or broadcast: flood within the VLAN. */
    for (unsigned i = 0; i < br->n_ports; i++) {
        const struct ofport *p = br->ports[i];
        if (p != in && port_in_vlan(p, vlan)) {
            output_vlan(c, p, vlan);
        }
    }
}

void
xlate(const struct xlate_cfg *cfg, const struct flow_key *key, bool learn,
      uint64_t now, struct xlate_out *out)
{
    struct ctx c = { cfg, key, out, -1 };

    out->actions_len = 0;
    memset(&out->mask, 0, sizeof out->mask);
    out->mac_moved = false;
    out->mask.in_port = UINT32_MAX;
    out->mask.recirc_id = UINT32_MAX;
    /* The type is always matched: it decides which headers the datapath
     * parses, and so what the rest of the mask may name. */
    out->mask.eth_type = 0xffff;
    /* As Open vSwitch does, IP flows always match the fragment type, so
     * that fragments never share a flow with whole packets. */
    if (key->eth_type == htons(0x0800) || key->eth_type == htons(0x86dd)) {
        out->mask.ip_frag = 0xff;
    }

    if (key->vlan_tci & htons(0x1000)) {
        c.cur_vlan = ntohs(key->vlan_tci) & VID_MASK;
    }
    const struct ofport *in = ofproto_port_for_key(cfg, key, &out->mask);
    if (!in || key->recirc_id) {
        return;                 /* not ours: drop */
    }
    normal(&c, in, learn, now);
}
