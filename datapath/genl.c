/* Generic netlink dispatch and the controller family. */
#include "genl.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <stdlib.h>
#include <string.h>

#include "hvs/dp-ext.h"
#include "kflow.h"
#include "log.h"

LOG_MODULE(genl);

static const struct genl_family *const families[] = {
    &genl_family_datapath,
    &genl_family_vport,
    &genl_family_flow,
    &genl_family_packet,
    &genl_family_meter,
};
#define N_FAMILIES (sizeof families / sizeof families[0])

static const struct genl_family *
family_by_id(uint16_t id)
{
    for (size_t i = 0; i < N_FAMILIES; i++) {
        if (families[i]->id == id) {
            return families[i];
        }
    }
    return NULL;
}

static const struct genl_family *
family_by_name(const char *name)
{
    for (size_t i = 0; i < N_FAMILIES; i++) {
        if (!strcmp(families[i]->name, name)) {
            return families[i];
        }
    }
    return NULL;
}

/* ---- attribute validation --------------------------------------------- */

struct parse_ctx {
    const struct genl_family *f;
    const struct nlattr **tb;
    const char *why;
};

static int
parse_cb(const struct nlattr *a, void *aux)
{
    struct parse_ctx *ctx = aux;
    uint16_t type = mnl_attr_get_type(a);
    uint16_t len = mnl_attr_get_payload_len(a);

    if (type > ctx->f->maxattr) {
        return MNL_CB_OK;       /* newer attribute: ignored, as the kernel */
    }
    const struct genl_policy *p = &ctx->f->policy[type];
    switch (p->type) {
    case MNL_TYPE_U8:
    case MNL_TYPE_U16:
    case MNL_TYPE_U32:
    case MNL_TYPE_U64: {
        static const uint8_t sizes[] = {
            [MNL_TYPE_U8] = 1, [MNL_TYPE_U16] = 2,
            [MNL_TYPE_U32] = 4, [MNL_TYPE_U64] = 8,
        };
        if (len < sizes[p->type]) {
            ctx->why = "integer attribute too short";
            return MNL_CB_ERROR;
        }
        break;
    }
    case MNL_TYPE_NUL_STRING:
        if (!len || mnl_attr_get_str(a)[len - 1] != '\0'
            || strlen(mnl_attr_get_str(a)) + 1 != len
            || (p->len && len > p->len)) {
            ctx->why = "bad string attribute";
            return MNL_CB_ERROR;
        }
        break;
    case MNL_TYPE_NESTED:
        if (len && len < MNL_ATTR_HDRLEN) {
            ctx->why = "bad nested attribute";
            return MNL_CB_ERROR;
        }
        break;
    case MNL_TYPE_FLAG:
        break;
    case MNL_TYPE_BINARY:
        if (p->len && len != p->len) {
            ctx->why = "attribute has the wrong length";
            return MNL_CB_ERROR;
        }
        break;
    default:
        if (p->len && len < p->len) {
            ctx->why = "attribute too short";
            return MNL_CB_ERROR;
        }
        break;
    }
    ctx->tb[type] = a;
    return MNL_CB_OK;
}

int
genl_parse_attrs(const struct genl_family *f, const struct nlmsghdr *nlh,
                 const struct nlattr **tb, const char **why)
{
    size_t ofs = GENL_HDRLEN + f->hdrsize;
    struct parse_ctx ctx = { f, tb, NULL };

    memset(tb, 0, sizeof *tb * (f->maxattr + 1u));
    if (mnl_nlmsg_get_payload_len(nlh) < ofs) {
        *why = "message too short for its headers";
        return -EINVAL;
    }
    /* mnl_attr_parse stops quietly at a truncated trailer; check that the
     * attributes cover the payload exactly, as nla_validate does. */
    const uint8_t *p = (const uint8_t *) mnl_nlmsg_get_payload(nlh) + ofs;
    const uint8_t *end = (const uint8_t *) nlh + nlh->nlmsg_len;
    while (p < end) {
        const struct nlattr *a = (const void *) p;
        if ((size_t) (end - p) < MNL_ATTR_HDRLEN
            || a->nla_len < MNL_ATTR_HDRLEN
            || a->nla_len > (size_t) (end - p)) {
            *why = "attribute length exceeds the message";
            return -EINVAL;
        }
        p += MNL_ALIGN(a->nla_len);
    }
    if (mnl_attr_parse(nlh, ofs, parse_cb, &ctx) != MNL_CB_OK) {
        *why = ctx.why ? ctx.why : "malformed attributes";
        return -EINVAL;
    }
    return 0;
}

/* ---- controller family -------------------------------------------------- */

static int
put_family(struct reply *r, const struct nlmsghdr *req,
           const struct genl_family *f, uint16_t flags)
{
    struct nlmsghdr *nlh = reply_put(r, GENL_ID_CTRL, flags, req->nlmsg_seq,
                                     CTRL_CMD_NEWFAMILY, 2, 256);
    size_t room = reply_room(r, nlh);

    if (!mnl_attr_put_u16_check(nlh, room, CTRL_ATTR_FAMILY_ID, f->id)
        || !mnl_attr_put_strz_check(nlh, room, CTRL_ATTR_FAMILY_NAME,
                                    f->name)
        || !mnl_attr_put_u32_check(nlh, room, CTRL_ATTR_VERSION, f->version)
        || !mnl_attr_put_u32_check(nlh, room, CTRL_ATTR_HDRSIZE,
                                   f->hdrsize)
        || !mnl_attr_put_u32_check(nlh, room, CTRL_ATTR_MAXATTR,
                                   f->maxattr)) {
        reply_abort(r, nlh);
        return -EMSGSIZE;
    }
    if (f->mcgrp_name) {
        struct nlattr *grps = mnl_attr_nest_start(nlh,
                                                  CTRL_ATTR_MCAST_GROUPS);
        struct nlattr *g = mnl_attr_nest_start(nlh, 1);
        mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, f->mcgrp_id);
        mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, f->mcgrp_name);
        mnl_attr_nest_end(nlh, g);
        mnl_attr_nest_end(nlh, grps);
    }
    reply_commit(r, nlh);
    return 0;
}

static const struct genl_policy ctrl_policy[CTRL_ATTR_MAX + 1] = {
    [CTRL_ATTR_FAMILY_ID] = { MNL_TYPE_U16, 0 },
    [CTRL_ATTR_FAMILY_NAME] = { MNL_TYPE_NUL_STRING, GENL_NAMSIZ },
};

static const struct genl_family ctrl_family = {
    .name = "nlctrl", .id = GENL_ID_CTRL, .version = 2,
    .maxattr = CTRL_ATTR_MAX, .policy = ctrl_policy,
};

static int
ctrl_getfamily(const struct nlmsghdr *nlh, struct reply *r, bool dump,
               const char **why)
{
    const struct nlattr *tb[CTRL_ATTR_MAX + 1];
    int err = genl_parse_attrs(&ctrl_family, nlh, tb, why);

    if (err) {
        return err;
    }
    if (dump) {
        for (size_t i = 0; i < N_FAMILIES; i++) {
            put_family(r, nlh, families[i], NLM_F_MULTI);
        }
        reply_done(r, nlh, 0);
        return 0;
    }
    const struct genl_family *f = NULL;
    if (tb[CTRL_ATTR_FAMILY_ID]) {
        f = family_by_id(mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]));
    } else if (tb[CTRL_ATTR_FAMILY_NAME]) {
        f = family_by_name(mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]));
    } else {
        *why = "no family id or name";
        return -EINVAL;
    }
    if (!f) {
        /* What the kernel says when the module is not loaded. */
        return -ENOENT;
    }
    return put_family(r, nlh, f, 0);
}

/* ---- dispatch ------------------------------------------------------------ */

static void
finish(struct reply *r, const struct nlmsghdr *nlh, int err, const char *why)
{
    if (err || (nlh->nlmsg_flags & NLM_F_ACK)) {
        reply_error(r, nlh, err, why);
    }
}

struct genl_dump *
genl_handle(const struct nlmsghdr *nlh, uint32_t portid, struct reply *r)
{
    const char *why = NULL;
    bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    int err;

    if (!(nlh->nlmsg_flags & NLM_F_REQUEST)) {
        return NULL;            /* not a request: ignored, as the kernel */
    }
    if (nlh->nlmsg_type < NLMSG_MIN_TYPE) {
        finish(r, nlh, 0, NULL);
        return NULL;
    }
    if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN) {
        finish(r, nlh, -EINVAL, "message too short for genlmsghdr");
        return NULL;
    }
    const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

    if (nlh->nlmsg_type == GENL_ID_CTRL) {
        if (g->cmd != CTRL_CMD_GETFAMILY) {
            finish(r, nlh, -EOPNOTSUPP, "unsupported controller command");
            return NULL;
        }
        err = ctrl_getfamily(nlh, r, dump, &why);
        if (!dump || err) {
            finish(r, nlh, err, why);
        }
        return NULL;
    }

    const struct genl_family *f = family_by_id(nlh->nlmsg_type);
    if (!f) {
        finish(r, nlh, -ENOENT, "unknown generic netlink family");
        return NULL;
    }
    if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN + f->hdrsize) {
        finish(r, nlh, -EINVAL, "message too short for ovs_header");
        return NULL;
    }
    /* Counters in replies (GET, dumps, the last statistics of a deleted
     * flow) include what the kernel flow cache forwarded.  GET and DEL
     * have the same numbers in every ovs_* family. */
    if (dump || g->cmd == OVS_FLOW_CMD_GET || g->cmd == OVS_FLOW_CMD_DEL) {
        kflow_sync(false);
    }
    if (dump) {
        if (!f->dumpit) {
            finish(r, nlh, -EOPNOTSUPP, "command cannot dump");
            return NULL;
        }
        struct genl_dump *d = calloc(1, sizeof *d);
        if (!d || !(d->req = malloc(nlh->nlmsg_len))) {
            free(d);
            finish(r, nlh, -ENOMEM, NULL);
            return NULL;
        }
        memcpy(d->req, nlh, nlh->nlmsg_len);
        d->family = f;
        if (genl_dump_continue(d, r)) {
            return NULL;
        }
        return d;
    }

    const struct nlattr *tb[f->maxattr + 1];
    err = genl_parse_attrs(f, nlh, tb, &why);
    if (!err) {
        struct genl_req req = {
            .nlh = nlh,
            .genl = g,
            .ovs = (const void *) ((const uint8_t *) g + GENL_HDRLEN),
            .attrs = tb,
            .portid = portid,
        };
        err = f->doit(&req, r);
        why = req.ext_msg;
    }
    if (err && why) {
        LOG_DBG("%s command %u from portid %u refused: %s (%s)", f->name,
                g->cmd, portid, why, strerror(-err));
    }
    finish(r, nlh, err, why);
    return NULL;
}

bool
genl_dump_continue(struct genl_dump *d, struct reply *r)
{
    int err = d->family->dumpit(d, r);

    if (err) {
        /* The kernel ends a failed dump with NLMSG_DONE carrying the
         * errno, not with NLMSG_ERROR; clients treat both as the end. */
        reply_done(r, d->req, err);
        d->done = true;
    } else if (d->done) {
        reply_done(r, d->req, 0);
    }
    if (d->done) {
        genl_dump_free(d);
        return true;
    }
    return false;
}

void
genl_dump_free(struct genl_dump *d)
{
    if (d) {
        free(d->req);
        free(d);
    }
}

void
genl_notify(struct reply *r, const struct genl_req *req,
            struct nlmsghdr *nlh, uint32_t group)
{
    bool echo = req->nlh->nlmsg_flags & NLM_F_ECHO;

    if (group) {
        control_multicast(group, nlh, echo ? req->portid : 0);
    }
    if (echo) {
        reply_commit(r, nlh);
    } else {
        reply_abort(r, nlh);
    }
}
