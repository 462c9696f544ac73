/* The ovs_packet generic netlink family: OVS_PACKET_CMD_EXECUTE. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/if_ether.h>
#include <linux/openvswitch.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "datapath.h"
#include "flow-netlink.h"
#include "fwd.h"
#include "genl.h"
#include "hvs/dp-ext.h"
#include "packet.h"

static const struct genl_policy packet_policy[OVS_PACKET_ATTR_MAX + 1] = {
    [OVS_PACKET_ATTR_PACKET] = { MNL_TYPE_UNSPEC, ETH_HLEN },
    [OVS_PACKET_ATTR_KEY] = { MNL_TYPE_NESTED, 0 },
    [OVS_PACKET_ATTR_ACTIONS] = { MNL_TYPE_NESTED, 0 },
    [OVS_PACKET_ATTR_PROBE] = { MNL_TYPE_FLAG, 0 },
    [OVS_PACKET_ATTR_MRU] = { MNL_TYPE_U16, 0 },
    [OVS_PACKET_ATTR_LEN] = { MNL_TYPE_U32, 0 },
    [OVS_PACKET_ATTR_HASH] = { MNL_TYPE_U64, 0 },
};

static int
packet_execute(struct genl_req *req)
{
    const struct nlattr **a = req->attrs;
    struct flow_match m;
    struct dp_actions *acts;
    int err;

    if (!a[OVS_PACKET_ATTR_PACKET] || !a[OVS_PACKET_ATTR_KEY]
        || !a[OVS_PACKET_ATTR_ACTIONS]) {
        req->ext_msg = "packet, key and actions are required";
        return -EINVAL;
    }
    struct datapath *dp = dp_find_by_ifindex(req->ovs->dp_ifindex);
    if (!dp) {
        req->ext_msg = "no such datapath";
        return -ENODEV;
    }
    const struct nlattr *pa = a[OVS_PACKET_ATTR_PACKET];
    struct dp_packet *p = dp_packet_copy_from(mnl_attr_get_payload(pa),
                                              mnl_attr_get_payload_len(pa),
                                              DP_PACKET_HEADROOM);
    if (!p) {
        return -ENOMEM;
    }
    uint8_t tun_opts[FLOW_TNL_OPTS_MAX];
    err = fnl_parse_packet_md(a[OVS_PACKET_ATTR_KEY], &p->md, tun_opts,
                              &req->ext_msg);
    if (err) {
        dp_packet_free(p);
        return err;
    }
    memcpy(p->md.tun_opts, tun_opts, p->md.tunnel.opts_len);
    if (a[OVS_PACKET_ATTR_HASH]) {
        p->md.dp_hash = (uint32_t) mnl_attr_get_u64(a[OVS_PACKET_ATTR_HASH]);
    }
    /* Actions are checked against the packet's own key, fully masked. */
    flow_extract(p, &m.key);
    memcpy(m.key.tun_opts, tun_opts, sizeof tun_opts);
    memset(&m.mask, 0xff, sizeof m.mask);
    err = act_validate(a[OVS_PACKET_ATTR_ACTIONS], &m, &acts, &req->ext_msg);
    if (err) {
        dp_packet_free(p);
        return err;
    }
    urcu_memb_read_lock();
    fwd_execute(dp, p, &m.key, acts);
    urcu_memb_read_unlock();
    free(acts);
    return 0;
}

static int
packet_doit(struct genl_req *req, struct reply *r)
{
    (void) r;
    if (req->genl->cmd != OVS_PACKET_CMD_EXECUTE) {
        req->ext_msg = "unknown packet command";
        return -EOPNOTSUPP;
    }
    return packet_execute(req);
}

const struct genl_family genl_family_packet = {
    .name = OVS_PACKET_FAMILY,
    .id = HVS_GENL_ID_PACKET,
    .version = OVS_PACKET_VERSION,
    .maxattr = OVS_PACKET_ATTR_MAX,
    .policy = packet_policy,
    .hdrsize = sizeof(struct ovs_header),
    .doit = packet_doit,
};
