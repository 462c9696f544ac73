/* The ovs_meter generic netlink family.
 *
 * Requests and replies follow the kernel's: FEATURES reports the limits
 * and the DROP band type; SET creates or replaces a meter and answers with
 * its id plus the counters of the meter it replaced (unless that one was
 * created with CLEAR); GET answers with the counters; DEL answers with the
 * counters of the meter it removed, and succeeds with an empty answer when
 * there was none.  Every reply is a unicast with flags 0.  A dump (which
 * the kernel lacks) lists every meter as GET would, in id order.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <string.h>

#include "datapath.h"
#include "genl.h"
#include "hvs/dp-ext.h"
#include "log.h"
#include "meter.h"
#include "timeval.h"

LOG_MODULE(meter_family);

#define MCGRP_METER (HVS_GENL_MCGRP_VPORT + 3)

static const struct genl_policy meter_policy[OVS_METER_ATTR_MAX + 1] = {
    [OVS_METER_ATTR_ID] = { MNL_TYPE_U32, 0 },
    [OVS_METER_ATTR_KBPS] = { MNL_TYPE_FLAG, 0 },
    [OVS_METER_ATTR_STATS] = { MNL_TYPE_UNSPEC,
                               sizeof(struct ovs_flow_stats) },
    [OVS_METER_ATTR_BANDS] = { MNL_TYPE_NESTED, 0 },
    [OVS_METER_ATTR_USED] = { MNL_TYPE_U64, 0 },
    [OVS_METER_ATTR_CLEAR] = { MNL_TYPE_FLAG, 0 },
    [OVS_METER_ATTR_MAX_METERS] = { MNL_TYPE_U32, 0 },
    [OVS_METER_ATTR_MAX_BANDS] = { MNL_TYPE_U32, 0 },
};

static struct nlmsghdr *
start_reply(struct reply *r, uint32_t seq, uint16_t flags, uint8_t cmd,
            int dp_ifindex)
{
    struct nlmsghdr *nlh = reply_put(r, HVS_GENL_ID_METER, flags, seq, cmd,
                                     OVS_METER_VERSION, 512);
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);

    oh->dp_ifindex = dp_ifindex;
    return nlh;
}

/* The id, the counters, the last use and one nest of counters per band. */
static void
put_stats(struct nlmsghdr *nlh, const struct meter_stats *s)
{
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, s->id);
    mnl_attr_put(nlh, OVS_METER_ATTR_STATS, sizeof s->stats, &s->stats);
    if (s->used) {
        mnl_attr_put_u64(nlh, OVS_METER_ATTR_USED, s->used);
    }
    struct nlattr *bands = mnl_attr_nest_start(nlh, OVS_METER_ATTR_BANDS);
    for (uint32_t i = 0; i < s->n_bands; i++) {
        struct nlattr *b = mnl_attr_nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
        mnl_attr_put(nlh, OVS_BAND_ATTR_STATS, sizeof s->band_stats[i],
                     &s->band_stats[i]);
        mnl_attr_nest_end(nlh, b);
    }
    mnl_attr_nest_end(nlh, bands);
}

struct band_parse {
    const struct nlattr *tb[OVS_BAND_ATTR_MAX + 1];
    const char *why;
};

static int
band_attr_cb(const struct nlattr *a, void *aux)
{
    struct band_parse *bp = aux;
    uint16_t type = mnl_attr_get_type(a);
    uint16_t len = mnl_attr_get_payload_len(a);

    if (type > OVS_BAND_ATTR_MAX) {
        return MNL_CB_OK;
    }
    if (type == OVS_BAND_ATTR_STATS ? len < sizeof(struct ovs_flow_stats)
                                    : type != OVS_BAND_ATTR_UNSPEC
                                      && len < sizeof(uint32_t)) {
        bp->why = "band attribute too short";
        return MNL_CB_ERROR;
    }
    bp->tb[type] = a;
    return MNL_CB_OK;
}

/* Fills 'c' from a SET request. */
static int
parse_config(struct genl_req *req, struct meter_config *c)
{
    const struct nlattr **a = req->attrs;
    const struct nlattr *band;
    const uint8_t *end;

    memset(c, 0, sizeof *c);
    if (!a[OVS_METER_ATTR_ID] || !a[OVS_METER_ATTR_BANDS]) {
        req->ext_msg = "meter id and bands are required";
        return -EINVAL;
    }
    c->id = mnl_attr_get_u32(a[OVS_METER_ATTR_ID]);
    c->kbps = a[OVS_METER_ATTR_KBPS] != NULL;
    c->keep_stats = !a[OVS_METER_ATTR_CLEAR];
    if (a[OVS_METER_ATTR_STATS]) {
        memcpy(&c->stats, mnl_attr_get_payload(a[OVS_METER_ATTR_STATS]),
               sizeof c->stats);
    }
    end = (const uint8_t *) a[OVS_METER_ATTR_BANDS]
          + a[OVS_METER_ATTR_BANDS]->nla_len;
    mnl_attr_for_each_nested(band, a[OVS_METER_ATTR_BANDS]) {
        struct band_parse bp = { .why = NULL };

        if (c->n_bands == METER_MAX_BANDS) {
            req->ext_msg = "too many meter bands";
            return -EINVAL;
        }
        if (mnl_attr_parse_nested(band, band_attr_cb, &bp) != MNL_CB_OK) {
            req->ext_msg = bp.why ? bp.why : "malformed meter band";
            return -EINVAL;
        }
        if (!bp.tb[OVS_BAND_ATTR_TYPE] || !bp.tb[OVS_BAND_ATTR_RATE]
            || !bp.tb[OVS_BAND_ATTR_BURST]) {
            req->ext_msg = "band needs type, rate and burst";
            return -EINVAL;
        }
        struct meter_band_config *b = &c->bands[c->n_bands++];
        b->type = mnl_attr_get_u32(bp.tb[OVS_BAND_ATTR_TYPE]);
        b->rate = mnl_attr_get_u32(bp.tb[OVS_BAND_ATTR_RATE]);
        b->burst = mnl_attr_get_u32(bp.tb[OVS_BAND_ATTR_BURST]);
        if (!b->rate) {
            req->ext_msg = "band rate is zero";
            return -EINVAL;
        }
    }
    /* mnl_attr_for_each_nested stops quietly at a truncated band. */
    if ((const uint8_t *) band < end) {
        req->ext_msg = "malformed meter bands";
        return -EINVAL;
    }
    return 0;
}

static int
meter_features(struct genl_req *req, struct reply *r, struct datapath *dp)
{
    struct nlmsghdr *nlh = start_reply(r, req->nlh->nlmsg_seq, 0,
                                       OVS_METER_CMD_FEATURES,
                                       dp->dp_ifindex);

    mnl_attr_put_u32(nlh, OVS_METER_ATTR_MAX_METERS,
                     meter_table_max(dp->meters));
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_MAX_BANDS, METER_MAX_BANDS);
    struct nlattr *bands = mnl_attr_nest_start(nlh, OVS_METER_ATTR_BANDS);
    struct nlattr *b = mnl_attr_nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
    mnl_attr_put_u32(nlh, OVS_BAND_ATTR_TYPE, OVS_METER_BAND_TYPE_DROP);
    mnl_attr_nest_end(nlh, b);
    mnl_attr_nest_end(nlh, bands);
    reply_commit(r, nlh);
    return 0;
}

static int
meter_set(struct genl_req *req, struct reply *r, struct datapath *dp)
{
    struct meter_config c;
    struct meter_stats old;
    int err = parse_config(req, &c);

    if (err) {
        return err;
    }
    struct dp_meter *m = meter_create(&c, time_msec());
    if (!m) {
        return -ENOMEM;
    }
    err = meter_table_set(dp->meters, m, &old);
    if (err) {
        req->ext_msg = "meter table is full";
        return err;
    }
    struct nlmsghdr *nlh = start_reply(r, req->nlh->nlmsg_seq, 0,
                                       OVS_METER_CMD_SET, dp->dp_ifindex);
    if (old.id != UINT32_MAX && old.keep_stats) {
        put_stats(nlh, &old);
    } else {
        mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, c.id);
    }
    reply_commit(r, nlh);
    return 0;
}

static int
meter_get_del(struct genl_req *req, struct reply *r, struct datapath *dp)
{
    uint8_t cmd = req->genl->cmd;
    struct meter_stats s;
    int err;

    if (!req->attrs[OVS_METER_ATTR_ID]) {
        req->ext_msg = "meter id is required";
        return -EINVAL;
    }
    uint32_t id = mnl_attr_get_u32(req->attrs[OVS_METER_ATTR_ID]);
    if (cmd == OVS_METER_CMD_GET) {
        err = meter_table_get(dp->meters, id, &s);
    } else {
        err = meter_table_remove(dp->meters, id, &s);
    }
    if (err && cmd == OVS_METER_CMD_GET) {
        req->ext_msg = "no such meter";
        return err;
    }
    struct nlmsghdr *nlh = start_reply(r, req->nlh->nlmsg_seq, 0, cmd,
                                       dp->dp_ifindex);
    if (!err) {
        put_stats(nlh, &s);
    }
    reply_commit(r, nlh);
    return 0;
}

static int
meter_doit(struct genl_req *req, struct reply *r)
{
    struct datapath *dp = dp_find_by_ifindex(req->ovs->dp_ifindex);

    if (!dp) {
        req->ext_msg = "no such datapath";
        return -ENODEV;
    }
    switch (req->genl->cmd) {
    case OVS_METER_CMD_FEATURES:
        return meter_features(req, r, dp);
    case OVS_METER_CMD_SET:
        return meter_set(req, r, dp);
    case OVS_METER_CMD_GET:
    case OVS_METER_CMD_DEL:
        return meter_get_del(req, r, dp);
    default:
        req->ext_msg = "unknown meter command";
        return -EOPNOTSUPP;
    }
}

static int
meter_dumpit(struct genl_dump *d, struct reply *r)
{
    const struct ovs_header *oh = (const void *)
        ((const uint8_t *) mnl_nlmsg_get_payload(d->req) + GENL_HDRLEN);
    struct datapath *dp = dp_find_by_ifindex(oh->dp_ifindex);
    uint32_t ids[64];

    if (!dp) {
        return -ENODEV;
    }
    /* cursor[0]: the next id to list (u64 so that it can pass
     * UINT32_MAX). */
    uint32_t n = meter_table_ids(dp->meters, d->cursor[0], ids, 64);
    for (uint32_t i = 0; i < n; i++) {
        struct meter_stats s;

        if (r->len >= CONTROL_RECORD_MAX / 2) {
            return 0;
        }
        d->cursor[0] = (uint64_t) ids[i] + 1;
        if (meter_table_get(dp->meters, ids[i], &s)) {
            continue;
        }
        struct nlmsghdr *nlh = start_reply(r, d->req->nlmsg_seq,
                                           NLM_F_MULTI, OVS_METER_CMD_GET,
                                           dp->dp_ifindex);
        put_stats(nlh, &s);
        reply_commit(r, nlh);
    }
    if (n < 64) {
        d->done = true;
    }
    return 0;
}

const struct genl_family genl_family_meter = {
    .name = OVS_METER_FAMILY,
    .id = HVS_GENL_ID_METER,
    .version = OVS_METER_VERSION,
    .maxattr = OVS_METER_ATTR_MAX,
    .policy = meter_policy,
    .hdrsize = sizeof(struct ovs_header),
    .mcgrp_name = OVS_METER_MCGROUP,
    .mcgrp_id = MCGRP_METER,
    .doit = meter_doit,
    .dumpit = meter_dumpit,
};
