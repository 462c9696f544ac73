/* The ovs_flow generic netlink family. */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "datapath.h"
#include "flow-netlink.h"
#include "flow-table.h"
#include "genl.h"
#include "hvs/dp-ext.h"
#include "log.h"

LOG_MODULE(flow_family);

#define MCGRP_FLOW (HVS_GENL_MCGRP_VPORT + 2)

static const struct genl_policy flow_policy[OVS_FLOW_ATTR_MAX + 1] = {
    [OVS_FLOW_ATTR_KEY] = { MNL_TYPE_NESTED, 0 },
    [OVS_FLOW_ATTR_MASK] = { MNL_TYPE_NESTED, 0 },
    [OVS_FLOW_ATTR_ACTIONS] = { MNL_TYPE_NESTED, 0 },
    [OVS_FLOW_ATTR_CLEAR] = { MNL_TYPE_FLAG, 0 },
    [OVS_FLOW_ATTR_UFID] = { MNL_TYPE_UNSPEC, 1 },
    [OVS_FLOW_ATTR_UFID_FLAGS] = { MNL_TYPE_U32, 0 },
    [OVS_FLOW_ATTR_PROBE] = { MNL_TYPE_FLAG, 0 },
};

struct flow_id {
    uint8_t ufid[FLOW_UFID_MAX];
    uint8_t ufid_len;
};

/* The kernel treats a UFID of a bad length as absent. */
static void
get_ufid(const struct nlattr *a, struct flow_id *id)
{
    size_t len = a ? mnl_attr_get_payload_len(a) : 0;

    id->ufid_len = len && len <= FLOW_UFID_MAX ? len : 0;
    if (id->ufid_len) {
        memcpy(id->ufid, mnl_attr_get_payload(a), len);
    }
}

static uint32_t
get_ufid_flags(const struct nlattr *a)
{
    return a ? mnl_attr_get_u32(a) : 0;
}

/* Appends the description of 'f'.  Which parts appear follows the kernel:
 * a flow with a UFID is identified by it and its key is the masked key
 * (unless OMIT_KEY); a flow without one is identified by the key it was
 * installed with. */
static struct nlmsghdr *
put_flow(struct reply *r, const struct datapath *dp, const struct dp_flow *f,
         uint32_t seq, uint16_t flags, uint8_t cmd, uint32_t ufid_flags)
{
    const struct dp_actions *acts = atomic_load(&f->acts);
    size_t reserve = 2048 + (acts ? acts->len : 0);
    struct nlmsghdr *nlh = reply_put(r, HVS_GENL_ID_FLOW, flags, seq, cmd,
                                     OVS_FLOW_VERSION, reserve);
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    size_t room = reply_room(r, nlh);

    oh->dp_ifindex = dp->dp_ifindex;
    if (f->ufid_len) {
        mnl_attr_put(nlh, OVS_FLOW_ATTR_UFID, f->ufid_len, f->ufid);
        if (!(ufid_flags & OVS_UFID_F_OMIT_KEY)) {
            fnl_put_key(nlh, room, OVS_FLOW_ATTR_KEY, &f->match.key,
                        &f->match.key, false);
        }
    } else {
        fnl_put_key(nlh, room, OVS_FLOW_ATTR_KEY, &f->unmasked_key,
                    &f->unmasked_key, false);
    }
    if (!(ufid_flags & OVS_UFID_F_OMIT_MASK)) {
        fnl_put_key(nlh, room, OVS_FLOW_ATTR_MASK, &f->match.key,
                    &f->match.mask, true);
    }
    struct ovs_flow_stats st = {
        .n_packets = atomic_load(&f->stats.packets),
        .n_bytes = atomic_load(&f->stats.bytes),
    };
    uint64_t used = atomic_load(&f->stats.used);
    uint8_t tcp_flags = atomic_load(&f->stats.tcp_flags);
    if (used) {
        mnl_attr_put_u64(nlh, OVS_FLOW_ATTR_USED, used);
    }
    if (st.n_packets) {
        mnl_attr_put(nlh, OVS_FLOW_ATTR_STATS, sizeof st, &st);
    }
    if (tcp_flags) {
        mnl_attr_put_u8(nlh, OVS_FLOW_ATTR_TCP_FLAGS, tcp_flags);
    }
    if (!(ufid_flags & OVS_UFID_F_OMIT_ACTIONS)) {
        struct nlattr *n = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_ACTIONS);
        if (acts && acts->len) {
            memcpy(mnl_nlmsg_get_payload_tail(nlh), acts->attrs, acts->len);
            nlh->nlmsg_len += MNL_ALIGN(acts->len);
        }
        mnl_attr_nest_end(nlh, n);
    }
    return nlh;
}

/* The flow without a UFID whose installed key is exactly 'key' (the
 * kernel's ovs_flow_tbl_lookup_exact). */
static struct dp_flow *
find_by_key(struct datapath *dp, const struct flow_key *key)
{
    uint32_t n;

    urcu_memb_read_lock();
    struct dp_flow *f = flow_table_lookup(dp->table, key, &n);
    urcu_memb_read_unlock();
    if (f && !f->ufid_len && flow_key_equal(&f->unmasked_key, key)) {
        return f;
    }
    return NULL;
}

static struct datapath *
req_dp(struct genl_req *req)
{
    struct datapath *dp = dp_find_by_ifindex(req->ovs->dp_ifindex);
    if (!dp) {
        req->ext_msg = "no such datapath";
    }
    return dp;
}

static int
flow_new(struct genl_req *req, struct reply *r, struct datapath *dp)
{
    const struct nlattr **a = req->attrs;
    struct flow_match m, exact;
    struct dp_actions *acts;
    struct flow_id id;
    int err;

    if (!a[OVS_FLOW_ATTR_KEY]) {
        req->ext_msg = "flow key attribute not present in new flow";
        return -EINVAL;
    }
    if (!a[OVS_FLOW_ATTR_ACTIONS]) {
        req->ext_msg = "flow actions attribute not present in new flow";
        return -EINVAL;
    }
    err = fnl_parse_match(a[OVS_FLOW_ATTR_KEY], a[OVS_FLOW_ATTR_MASK], &m,
                          &req->ext_msg);
    if (err) {
        return err;
    }
    get_ufid(a[OVS_FLOW_ATTR_UFID], &id);
    /* The key as sent, unmasked: the identity of a flow without a UFID,
     * and what the kernel looks an existing flow up with. */
    err = fnl_parse_match(a[OVS_FLOW_ATTR_KEY], NULL, &exact, &req->ext_msg);
    if (err) {
        return err;
    }
    err = act_validate(a[OVS_FLOW_ATTR_ACTIONS], &m, &acts, &req->ext_msg);
    if (err) {
        return err;
    }

    struct dp_flow *f = id.ufid_len
        ? flow_table_find_ufid(dp->table, id.ufid, id.ufid_len) : NULL;
    if (!f) {
        uint32_t n;
        urcu_memb_read_lock();
        f = flow_table_lookup(dp->table, &exact.key, &n);
        urcu_memb_read_unlock();
    }
    uint32_t ufid_flags = get_ufid_flags(a[OVS_FLOW_ATTR_UFID_FLAGS]);
    uint32_t seq = req->nlh->nlmsg_seq;
    if (!f) {
        f = flow_alloc(&m, id.ufid_len ? &m.key : &exact.key);
        if (!f) {
            free(acts);
            return -ENOMEM;
        }
        memcpy(f->ufid, id.ufid, id.ufid_len);
        f->ufid_len = id.ufid_len;
        atomic_store(&f->acts, acts);
        err = flow_table_insert(dp->table, f);
        if (err) {
            flow_free(f);
            req->ext_msg = "flow table is full";
            return err;
        }
        genl_notify(r, req, put_flow(r, dp, f, seq, 0, OVS_FLOW_CMD_NEW,
                                     ufid_flags), MCGRP_FLOW);
        return 0;
    }

    /* An existing flow: update its actions unless told not to.  Like the
     * kernel, take NLM_F_CREATE alone as "create only" (genetlink reads
     * NLM_F_EXCL as a dump flag, so vswitchd sends CREATE): a batch of
     * upcalls may yield the same megaflow under two UFIDs, and the second
     * must fail with EEXIST rather than silently join the first. */
    uint16_t fl = req->nlh->nlmsg_flags;
    if (fl & (NLM_F_CREATE | NLM_F_EXCL)) {
        free(acts);
        req->ext_msg = "flow already exists";
        return -EEXIST;
    }
    if (memcmp(&f->match.mask, &m.mask, sizeof m.mask)
        || memcmp(&f->match.key, &m.key, sizeof m.key)) {
        /* It overlaps but is not the same flow. */
        f = f->ufid_len ? NULL : find_by_key(dp, &exact.key);
        if (!f) {
            free(acts);
            req->ext_msg = "flow overlaps an existing one";
            return -ENOENT;
        }
    }
    flow_table_set_actions(dp->table, f, acts);
    genl_notify(r, req, put_flow(r, dp, f, seq, 0, OVS_FLOW_CMD_NEW,
                                 ufid_flags), MCGRP_FLOW);
    return 0;
}

/* The flow a GET/DEL/SET names by UFID or by key. */
static struct dp_flow *
find_flow(struct genl_req *req, struct datapath *dp, int *err)
{
    const struct nlattr **a = req->attrs;
    struct flow_id id;

    get_ufid(a[OVS_FLOW_ATTR_UFID], &id);
    if (id.ufid_len) {
        struct dp_flow *f = flow_table_find_ufid(dp->table, id.ufid,
                                                 id.ufid_len);
        *err = f ? 0 : -ENOENT;
        return f;
    }
    if (!a[OVS_FLOW_ATTR_KEY]) {
        req->ext_msg = "flow key or UFID required";
        *err = -EINVAL;
        return NULL;
    }
    struct flow_match m;
    *err = fnl_parse_match(a[OVS_FLOW_ATTR_KEY], NULL, &m, &req->ext_msg);
    if (*err) {
        return NULL;
    }
    struct dp_flow *f = find_by_key(dp, &m.key);
    *err = f ? 0 : -ENOENT;
    return f;
}

static int
flow_set(struct genl_req *req, struct reply *r, struct datapath *dp)
{
    const struct nlattr **a = req->attrs;
    struct dp_actions *acts = NULL;
    struct flow_match m;
    int err;

    if (!a[OVS_FLOW_ATTR_KEY]) {
        req->ext_msg = "flow key attribute not present in set flow";
        return -EINVAL;
    }
    err = fnl_parse_match(a[OVS_FLOW_ATTR_KEY], a[OVS_FLOW_ATTR_MASK], &m,
                          &req->ext_msg);
    if (err) {
        return err;
    }
    if (a[OVS_FLOW_ATTR_ACTIONS]) {
        err = act_validate(a[OVS_FLOW_ATTR_ACTIONS], &m, &acts,
                           &req->ext_msg);
        if (err) {
            return err;
        }
    }
    struct dp_flow *f = find_flow(req, dp, &err);
    if (!f) {
        free(acts);
        return err;
    }
    if (acts) {
        flow_table_set_actions(dp->table, f, acts);
    }
    if (a[OVS_FLOW_ATTR_CLEAR]) {
        atomic_store(&f->stats.packets, 0);
        atomic_store(&f->stats.bytes, 0);
        atomic_store(&f->stats.used, 0);
        atomic_store(&f->stats.tcp_flags, 0);
    }
    genl_notify(r, req, put_flow(r, dp, f, req->nlh->nlmsg_seq, 0,
                                 OVS_FLOW_CMD_SET,
                                 get_ufid_flags(a[OVS_FLOW_ATTR_UFID_FLAGS])),
                MCGRP_FLOW);
    return 0;
}

static int
flow_doit(struct genl_req *req, struct reply *r)
{
    const struct nlattr **a = req->attrs;
    struct datapath *dp = req_dp(req);
    int err;

    if (!dp) {
        return -ENODEV;
    }
    switch (req->genl->cmd) {
    case OVS_FLOW_CMD_NEW:
        return flow_new(req, r, dp);
    case OVS_FLOW_CMD_SET:
        return flow_set(req, r, dp);
    case OVS_FLOW_CMD_DEL:
        if (!a[OVS_FLOW_ATTR_KEY] && !a[OVS_FLOW_ATTR_UFID]) {
            flow_table_flush(dp->table);
            return 0;
        }
        /* fall through */
    case OVS_FLOW_CMD_GET: {
        struct dp_flow *f = find_flow(req, dp, &err);
        if (!f) {
            return err;
        }
        uint32_t uf = get_ufid_flags(a[OVS_FLOW_ATTR_UFID_FLAGS]);
        if (req->genl->cmd == OVS_FLOW_CMD_GET) {
            reply_commit(r, put_flow(r, dp, f, req->nlh->nlmsg_seq, 0,
                                     OVS_FLOW_CMD_GET, uf));
            return 0;
        }
        genl_notify(r, req, put_flow(r, dp, f, req->nlh->nlmsg_seq, 0,
                                     OVS_FLOW_CMD_DEL, uf), MCGRP_FLOW);
        flow_table_remove(dp->table, f);
        return 0;
    }
    default:
        req->ext_msg = "unknown flow command";
        return -EOPNOTSUPP;
    }
}

static int
flow_dumpit(struct genl_dump *d, struct reply *r)
{
    const struct nlattr *tb[OVS_FLOW_ATTR_MAX + 1];
    const char *why;

    if (genl_parse_attrs(&genl_family_flow, d->req, tb, &why)) {
        return -EINVAL;
    }
    const struct ovs_header *oh = (const void *)
        ((const uint8_t *) mnl_nlmsg_get_payload(d->req) + GENL_HDRLEN);
    struct datapath *dp = dp_find_by_ifindex(oh->dp_ifindex);
    if (!dp) {
        return -ENODEV;
    }
    uint32_t uf = get_ufid_flags(tb[OVS_FLOW_ATTR_UFID_FLAGS]);
    while (r->len < CONTROL_RECORD_MAX / 2) {
        struct dp_flow *f = flow_table_next(dp->table, &d->cursor[0]);
        if (!f) {
            d->done = true;
            break;
        }
        reply_commit(r, put_flow(r, dp, f, d->req->nlmsg_seq, NLM_F_MULTI,
                                 OVS_FLOW_CMD_GET, uf));
    }
    return 0;
}

const struct genl_family genl_family_flow = {
    .name = OVS_FLOW_FAMILY,
    .id = HVS_GENL_ID_FLOW,
    .version = OVS_FLOW_VERSION,
    .maxattr = OVS_FLOW_ATTR_MAX,
    .policy = flow_policy,
    .hdrsize = sizeof(struct ovs_header),
    .mcgrp_name = OVS_FLOW_MCGROUP,
    .mcgrp_id = MCGRP_FLOW,
    .doit = flow_doit,
    .dumpit = flow_dumpit,
};
