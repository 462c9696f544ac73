/* The ovs_datapath generic netlink family. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <string.h>

#include "datapath.h"
#include "flow-table.h"
#include "genl.h"
#include "hvs/dp-ext.h"
#include "log.h"

LOG_MODULE(dp_family);

#define MCGRP_DATAPATH (HVS_GENL_MCGRP_VPORT + 1)

/* The kernel's largest masks cache: PCPU_MIN_UNIT_SIZE (32 KiB) divided by
 * its 8-byte entries. */
#define DP_MASKS_CACHE_MAX 4096u

static const struct genl_policy dp_policy[OVS_DP_ATTR_MAX + 1] = {
    [OVS_DP_ATTR_NAME] = { MNL_TYPE_NUL_STRING, IFNAMSIZ },
    [OVS_DP_ATTR_UPCALL_PID] = { MNL_TYPE_U32, 0 },
    [OVS_DP_ATTR_USER_FEATURES] = { MNL_TYPE_U32, 0 },
    [OVS_DP_ATTR_MASKS_CACHE_SIZE] = { MNL_TYPE_U32, 0 },
    [OVS_DP_ATTR_PER_CPU_PIDS] = { MNL_TYPE_UNSPEC, 0 },
    [OVS_DP_ATTR_IFINDEX] = { MNL_TYPE_U32, 0 },
};

/* Appends the description of 'dp' as a message of command 'cmd'. */
static struct nlmsghdr *
put_dp(struct reply *r, const struct datapath *dp, uint32_t seq,
       uint16_t flags, uint8_t cmd)
{
    struct nlmsghdr *nlh = reply_put(r, HVS_GENL_ID_DATAPATH, flags, seq,
                                     cmd, OVS_DATAPATH_VERSION, 256);
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    oh->dp_ifindex = dp->dp_ifindex;

    uint64_t n_hit, n_mask_hit, n_cache_hit;
    dp_get_fast_stats(dp, &n_hit, &n_mask_hit, &n_cache_hit);
    struct ovs_dp_stats st = {
        .n_hit = n_hit,
        .n_missed = atomic_load(&dp->stats.n_missed),
        .n_lost = atomic_load(&dp->stats.n_lost),
        .n_flows = flow_table_count(dp->table),
    };
    struct ovs_dp_megaflow_stats mst = {
        .n_mask_hit = n_mask_hit,
        .n_masks = flow_table_n_masks(dp->table),
        .n_cache_hit = n_cache_hit,
    };
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, dp->name);
    mnl_attr_put(nlh, OVS_DP_ATTR_STATS, sizeof st, &st);
    mnl_attr_put(nlh, OVS_DP_ATTR_MEGAFLOW_STATS, sizeof mst, &mst);
    mnl_attr_put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, dp->user_features);
    mnl_attr_put_u32(nlh, OVS_DP_ATTR_MASKS_CACHE_SIZE,
                     dp->masks_cache_size);
    return nlh;
}

/* The datapath a request names: by OVS_DP_ATTR_NAME if present, else by
 * the ovs_header's dp_ifindex. */
static struct datapath *
lookup_dp(const struct genl_req *req)
{
    const struct nlattr *name = req->attrs[OVS_DP_ATTR_NAME];

    return name ? dp_find_by_name(mnl_attr_get_str(name))
                : dp_find_by_ifindex(req->ovs->dp_ifindex);
}

/* Checks and applies the changeable attributes (features, cache size,
 * per-CPU pids) to 'dp'; with 'dp' NULL only checks. */
static int
change_dp(struct datapath *dp, struct genl_req *req)
{
    const struct nlattr **a = req->attrs;
    uint32_t features = dp ? dp->user_features : 0;

    if (a[OVS_DP_ATTR_USER_FEATURES]) {
        features = mnl_attr_get_u32(a[OVS_DP_ATTR_USER_FEATURES]);
        if (features & ~DP_SUPPORTED_FEATURES) {
            req->ext_msg = "unsupported datapath feature";
            return -EOPNOTSUPP;
        }
    }
    if (a[OVS_DP_ATTR_MASKS_CACHE_SIZE]) {
        uint32_t size = mnl_attr_get_u32(a[OVS_DP_ATTR_MASKS_CACHE_SIZE]);
        /* The kernel's policy caps the size at what one per-CPU unit
         * holds (32 KiB of 8-byte entries) with ERANGE; then it takes 0
         * (off) or a power of two. */
        if (size > DP_MASKS_CACHE_MAX) {
            req->ext_msg = "masks cache size out of range";
            return -ERANGE;
        }
        if (size & (size - 1)) {
            req->ext_msg = "masks cache size must be 0 or a power of two";
            return -EINVAL;
        }
    }
    const struct nlattr *pids = a[OVS_DP_ATTR_PER_CPU_PIDS];
    if (pids && (mnl_attr_get_payload_len(pids) % 4
                 || !mnl_attr_get_payload_len(pids))) {
        req->ext_msg = "per-CPU pids must be an array of u32";
        return -EINVAL;
    }
    if (!dp) {
        return 0;
    }
    dp->user_features = features;
    if (a[OVS_DP_ATTR_MASKS_CACHE_SIZE]) {
        dp->masks_cache_size =
            mnl_attr_get_u32(a[OVS_DP_ATTR_MASKS_CACHE_SIZE]);
    }
    if (pids && (features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU)) {
        return dp_set_cpu_pids(dp, mnl_attr_get_payload(pids),
                               mnl_attr_get_payload_len(pids) / 4);
    }
    return 0;
}

static int
dp_new(struct genl_req *req, struct reply *r)
{
    const struct nlattr **a = req->attrs;
    struct datapath *dp;
    const char *why = NULL;
    int err;

    if (!a[OVS_DP_ATTR_NAME] || !a[OVS_DP_ATTR_UPCALL_PID]) {
        req->ext_msg = "datapath name and upcall pid are required";
        return -EINVAL;
    }
    err = change_dp(NULL, req);
    if (err) {
        return err;
    }
    err = dp_create(mnl_attr_get_str(a[OVS_DP_ATTR_NAME]), &dp, &why);
    if (err) {
        req->ext_msg = why;
        return err;
    }
    uint32_t pid = mnl_attr_get_u32(a[OVS_DP_ATTR_UPCALL_PID]);
    dp_port_set_upcall_pids(dp_port(dp, OVSP_LOCAL), &pid, 1);
    change_dp(dp, req);
    genl_notify(r, req, put_dp(r, dp, req->nlh->nlmsg_seq, 0,
                               OVS_DP_CMD_NEW), MCGRP_DATAPATH);
    return 0;
}

static int
dp_doit(struct genl_req *req, struct reply *r)
{
    struct datapath *dp;
    int err;

    if (req->genl->cmd == OVS_DP_CMD_NEW) {
        return dp_new(req, r);
    }
    dp = lookup_dp(req);
    if (!dp) {
        req->ext_msg = "no such datapath";
        return -ENODEV;
    }
    uint32_t seq = req->nlh->nlmsg_seq;
    switch (req->genl->cmd) {
    case OVS_DP_CMD_GET:
        reply_commit(r, put_dp(r, dp, seq, 0, OVS_DP_CMD_GET));
        return 0;
    case OVS_DP_CMD_SET:
        err = change_dp(NULL, req);
        if (!err) {
            err = change_dp(dp, req);
        }
        if (err) {
            return err;
        }
        if (req->attrs[OVS_DP_ATTR_UPCALL_PID]) {
            uint32_t pid = mnl_attr_get_u32(req->attrs[OVS_DP_ATTR_UPCALL_PID]);
            dp_port_set_upcall_pids(dp_port(dp, OVSP_LOCAL), &pid, 1);
        }
        genl_notify(r, req, put_dp(r, dp, seq, 0, OVS_DP_CMD_SET),
                    MCGRP_DATAPATH);
        return 0;
    case OVS_DP_CMD_DEL:
        genl_notify(r, req, put_dp(r, dp, seq, 0, OVS_DP_CMD_DEL),
                    MCGRP_DATAPATH);
        dp_destroy(dp);
        return 0;
    default:
        req->ext_msg = "unknown datapath command";
        return -EOPNOTSUPP;
    }
}

static int
dp_dumpit(struct genl_dump *d, struct reply *r)
{
    uint64_t i = 0;

    for (struct datapath *dp = dp_first(); dp; dp = dp->next, i++) {
        if (i < d->cursor[0]) {
            continue;
        }
        reply_commit(r, put_dp(r, dp, d->req->nlmsg_seq, NLM_F_MULTI,
                               OVS_DP_CMD_GET));
        d->cursor[0] = i + 1;
    }
    d->done = true;
    return 0;
}

const struct genl_family genl_family_datapath = {
    .name = OVS_DATAPATH_FAMILY,
    .id = HVS_GENL_ID_DATAPATH,
    .version = OVS_DATAPATH_VERSION,
    .maxattr = OVS_DP_ATTR_MAX,
    .policy = dp_policy,
    .hdrsize = sizeof(struct ovs_header),
    .mcgrp_name = OVS_DATAPATH_MCGROUP,
    .mcgrp_id = MCGRP_DATAPATH,
    .doit = dp_doit,
    .dumpit = dp_dumpit,
};
