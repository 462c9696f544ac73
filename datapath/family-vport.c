/* The ovs_vport generic netlink family. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <string.h>

#include "datapath.h"
#include "genl.h"
#include "hvs/dp-ext.h"
#include "log.h"
#include "vport.h"

LOG_MODULE(vport_family);

static const struct genl_policy vport_policy[OVS_VPORT_ATTR_MAX + 1] = {
    [OVS_VPORT_ATTR_NAME] = { MNL_TYPE_NUL_STRING, IFNAMSIZ },
    [OVS_VPORT_ATTR_STATS] = { MNL_TYPE_UNSPEC,
                               sizeof(struct ovs_vport_stats) },
    [OVS_VPORT_ATTR_PORT_NO] = { MNL_TYPE_U32, 0 },
    [OVS_VPORT_ATTR_TYPE] = { MNL_TYPE_U32, 0 },
    [OVS_VPORT_ATTR_UPCALL_PID] = { MNL_TYPE_UNSPEC, 0 },
    [OVS_VPORT_ATTR_OPTIONS] = { MNL_TYPE_NESTED, 0 },
    [OVS_VPORT_ATTR_IFINDEX] = { MNL_TYPE_U32, 0 },
    [OVS_VPORT_ATTR_NETNSID] = { MNL_TYPE_U32, 0 },
};

static struct nlmsghdr *
put_vport(struct reply *r, const struct vport *v, uint32_t seq,
          uint16_t flags, uint8_t cmd)
{
    struct nlmsghdr *nlh = reply_put(r, HVS_GENL_ID_VPORT, flags, seq, cmd,
                                     OVS_VPORT_VERSION, 512);
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    oh->dp_ifindex = v->dp->dp_ifindex;

    mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, v->port_no);
    mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_TYPE, v->type);
    mnl_attr_put_strz(nlh, OVS_VPORT_ATTR_NAME, v->name);
    if (v->ifindex) {
        mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_IFINDEX, v->ifindex);
    }
    if (v->ops->put_options) {
        v->ops->put_options(v, nlh, reply_room(r, nlh));
    }
    struct ovs_vport_stats st;
    vport_get_stats(v, &st);
    mnl_attr_put(nlh, OVS_VPORT_ATTR_STATS, sizeof st, &st);

    const struct vport_upcall_pids *u =
        atomic_load_explicit(&v->upcall_pids, memory_order_acquire);
    uint32_t zero = 0;
    if (u && u->n) {
        mnl_attr_put(nlh, OVS_VPORT_ATTR_UPCALL_PID, u->n * 4, u->pids);
    } else {
        mnl_attr_put(nlh, OVS_VPORT_ATTR_UPCALL_PID, 4, &zero);
    }
    return nlh;
}

/* The vport a request names: by name anywhere (and in the given datapath
 * if dp_ifindex is set), or by dp_ifindex and port number. */
static struct vport *
lookup_vport(struct genl_req *req, int *err)
{
    const struct nlattr **a = req->attrs;

    if (a[OVS_VPORT_ATTR_IFINDEX]) {
        *err = -EOPNOTSUPP;
        req->ext_msg = "lookup by ifindex is not supported";
        return NULL;
    }
    if (a[OVS_VPORT_ATTR_NAME]) {
        struct vport *v =
            dp_find_vport_by_name(mnl_attr_get_str(a[OVS_VPORT_ATTR_NAME]));
        if (!v || (req->ovs->dp_ifindex
                   && req->ovs->dp_ifindex != v->dp->dp_ifindex)) {
            *err = -ENODEV;
            req->ext_msg = "no such vport";
            return NULL;
        }
        return v;
    }
    if (a[OVS_VPORT_ATTR_PORT_NO]) {
        uint32_t port_no = mnl_attr_get_u32(a[OVS_VPORT_ATTR_PORT_NO]);
        struct datapath *dp = dp_find_by_ifindex(req->ovs->dp_ifindex);
        if (!dp) {
            *err = -ENODEV;
            req->ext_msg = "no such datapath";
            return NULL;
        }
        if (port_no >= DP_MAX_PORTS) {
            *err = -EFBIG;
            req->ext_msg = "port number out of range";
            return NULL;
        }
        struct vport *v = dp_port(dp, port_no);
        if (!v) {
            *err = -ENODEV;
            req->ext_msg = "no such vport";
        }
        return v;
    }
    *err = -EINVAL;
    req->ext_msg = "vport name or port number required";
    return NULL;
}

static int
check_pids(struct genl_req *req, const struct nlattr *a)
{
    if (a && (!mnl_attr_get_payload_len(a)
              || mnl_attr_get_payload_len(a) % 4)) {
        req->ext_msg = "upcall pids must be an array of u32";
        return -EINVAL;
    }
    return 0;
}

static int
vport_new(struct genl_req *req, struct reply *r)
{
    const struct nlattr **a = req->attrs;
    const char *why = NULL;
    struct vport *v;
    int err;

    if (!a[OVS_VPORT_ATTR_NAME] || !a[OVS_VPORT_ATTR_TYPE]
        || !a[OVS_VPORT_ATTR_UPCALL_PID]) {
        req->ext_msg = "vport name, type and upcall pid are required";
        return -EINVAL;
    }
    if (a[OVS_VPORT_ATTR_IFINDEX]) {
        req->ext_msg = "ifindex cannot be chosen";
        return -EOPNOTSUPP;
    }
    err = check_pids(req, a[OVS_VPORT_ATTR_UPCALL_PID]);
    if (err) {
        return err;
    }
    struct datapath *dp = dp_find_by_ifindex(req->ovs->dp_ifindex);
    if (!dp) {
        req->ext_msg = "no such datapath";
        return -ENODEV;
    }
    uint32_t port_no = a[OVS_VPORT_ATTR_PORT_NO]
        ? mnl_attr_get_u32(a[OVS_VPORT_ATTR_PORT_NO]) : UINT32_MAX;
    err = dp_port_add_opts(dp, mnl_attr_get_u32(a[OVS_VPORT_ATTR_TYPE]),
                           mnl_attr_get_str(a[OVS_VPORT_ATTR_NAME]), port_no,
                           a[OVS_VPORT_ATTR_OPTIONS],
                           mnl_attr_get_payload(a[OVS_VPORT_ATTR_UPCALL_PID]),
                           mnl_attr_get_payload_len(
                               a[OVS_VPORT_ATTR_UPCALL_PID]) / 4,
                           &v, &why);
    if (err) {
        req->ext_msg = why;
        LOG_INFO("%s: cannot add port %s: %s", dp->name,
                 mnl_attr_get_str(a[OVS_VPORT_ATTR_NAME]),
                 why ? why : strerror(-err));
        return err;
    }
    genl_notify(r, req, put_vport(r, v, req->nlh->nlmsg_seq, 0,
                                  OVS_VPORT_CMD_NEW), HVS_GENL_MCGRP_VPORT);
    return 0;
}

static int
vport_doit(struct genl_req *req, struct reply *r)
{
    const struct nlattr **a = req->attrs;
    uint32_t seq = req->nlh->nlmsg_seq;
    struct vport *v;
    int err = 0;

    if (req->genl->cmd == OVS_VPORT_CMD_NEW) {
        return vport_new(req, r);
    }
    v = lookup_vport(req, &err);
    if (!v) {
        return err;
    }
    switch (req->genl->cmd) {
    case OVS_VPORT_CMD_GET:
        reply_commit(r, put_vport(r, v, seq, 0, OVS_VPORT_CMD_GET));
        return 0;
    case OVS_VPORT_CMD_SET:
        if (a[OVS_VPORT_ATTR_TYPE]
            && mnl_attr_get_u32(a[OVS_VPORT_ATTR_TYPE]) != v->type) {
            req->ext_msg = "vport type cannot change";
            return -EINVAL;
        }
        if (a[OVS_VPORT_ATTR_OPTIONS]
            && mnl_attr_get_payload_len(a[OVS_VPORT_ATTR_OPTIONS])) {
            req->ext_msg = "this vport type takes no options";
            return -EOPNOTSUPP;
        }
        err = check_pids(req, a[OVS_VPORT_ATTR_UPCALL_PID]);
        if (err) {
            return err;
        }
        if (a[OVS_VPORT_ATTR_UPCALL_PID]) {
            const struct nlattr *p = a[OVS_VPORT_ATTR_UPCALL_PID];
            err = dp_port_set_upcall_pids(v, mnl_attr_get_payload(p),
                                          mnl_attr_get_payload_len(p) / 4);
            if (err) {
                return err;
            }
        }
        genl_notify(r, req, put_vport(r, v, seq, 0, OVS_VPORT_CMD_SET),
                    HVS_GENL_MCGRP_VPORT);
        return 0;
    case OVS_VPORT_CMD_DEL:
        if (v->port_no == OVSP_LOCAL) {
            req->ext_msg = "the local port goes with its datapath";
            return -EINVAL;
        }
        genl_notify(r, req, put_vport(r, v, seq, 0, OVS_VPORT_CMD_DEL),
                    HVS_GENL_MCGRP_VPORT);
        dp_port_del(v->dp, v);
        return 0;
    default:
        req->ext_msg = "unknown vport command";
        return -EOPNOTSUPP;
    }
}

static int
vport_dumpit(struct genl_dump *d, struct reply *r)
{
    const struct ovs_header *oh = (const void *)
        ((const uint8_t *) mnl_nlmsg_get_payload(d->req) + GENL_HDRLEN);
    struct datapath *dp = dp_find_by_ifindex(oh->dp_ifindex);

    if (!dp) {
        return -ENODEV;
    }
    uint32_t i;
    for (i = d->cursor[0]; i < dp->port_hi; i++) {
        if (r->len >= CONTROL_RECORD_MAX / 2) {
            break;
        }
        struct vport *v = dp_port(dp, i);
        if (v) {
            reply_commit(r, put_vport(r, v, d->req->nlmsg_seq, NLM_F_MULTI,
                                      OVS_VPORT_CMD_GET));
        }
    }
    d->cursor[0] = i;
    d->done = i >= dp->port_hi;
    return 0;
}

static void
discard_record(struct reply *r)
{
    (void) r;
}

void
genl_vport_notify_del(const struct vport *v)
{
    static uint8_t buf[CONTROL_RECORD_MAX];
    struct reply r = { buf, 0, 0, discard_record, NULL };
    struct nlmsghdr *nlh = put_vport(&r, v, 0, 0, OVS_VPORT_CMD_DEL);

    control_multicast(HVS_GENL_MCGRP_VPORT, nlh, 0);
}

const struct genl_family genl_family_vport = {
    .name = OVS_VPORT_FAMILY,
    .id = HVS_GENL_ID_VPORT,
    .version = OVS_VPORT_VERSION,
    .maxattr = OVS_VPORT_ATTR_MAX,
    .policy = vport_policy,
    .hdrsize = sizeof(struct ovs_header),
    .mcgrp_name = OVS_VPORT_MCGROUP,
    .mcgrp_id = HVS_GENL_MCGRP_VPORT,
    .doit = vport_doit,
    .dumpit = vport_dumpit,
};
