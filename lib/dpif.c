/* A datapath client over the control socket (see dpif.h). */
#include "dpif.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>

#include "flow-netlink.h"
#include "netlink-socket.h"

#define MAX_HANDLERS 64
#define MSG_MAX (128 * 1024)

struct dpif {
    char path[108];
    char name[IFNAMSIZ];
    int ifindex;
    struct nl_sock *sock;
    uint16_t dp_family, vport_family, flow_family, packet_family;
    int meter_family;           /* 0: not looked up yet; <0: absent */
    uint32_t vport_mcgroup;
    struct nl_sock *handlers[MAX_HANDLERS];
    unsigned n_handlers;
    struct nl_sock *events;
    uint8_t *buf;               /* request buffer */
};

static struct nlmsghdr *
start(struct dpif *d, uint16_t family, uint16_t flags, uint8_t cmd)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(d->buf);
    nlh->nlmsg_type = family;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = 1;
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    oh->dp_ifindex = d->ifindex;
    return nlh;
}

static int
lookup_families(struct dpif *d)
{
    int id;

    if ((id = nl_lookup_family(d->sock, OVS_DATAPATH_FAMILY, NULL, NULL)) < 0)
        return id;
    d->dp_family = id;
    if ((id = nl_lookup_family(d->sock, OVS_VPORT_FAMILY, &d->vport_mcgroup,
                               OVS_VPORT_MCGROUP)) < 0)
        return id;
    d->vport_family = id;
    if ((id = nl_lookup_family(d->sock, OVS_FLOW_FAMILY, NULL, NULL)) < 0)
        return id;
    d->flow_family = id;
    if ((id = nl_lookup_family(d->sock, OVS_PACKET_FAMILY, NULL, NULL)) < 0)
        return id;
    d->packet_family = id;
    return 0;
}

static int
dp_reply_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dpif *d = aux;
    const struct ovs_header *oh =
        (const void *) ((const uint8_t *) mnl_nlmsg_get_payload(nlh)
                        + GENL_HDRLEN);
    d->ifindex = oh->dp_ifindex;
    return 0;
}

static struct dpif *
dpif_alloc(const char *path, const char *name)
{
    struct dpif *d = calloc(1, sizeof *d);
    if (d && !(d->buf = malloc(MSG_MAX))) {
        free(d);
        return NULL;
    }
    if (d) {
        snprintf(d->path, sizeof d->path, "%s", path);
        snprintf(d->name, sizeof d->name, "%s", name);
    }
    return d;
}

int
dpif_open(const char *path, const char *name, struct dpif **dpifp)
{
    struct dpif *d = dpif_alloc(path, name);
    int err;

    if (!d) {
        return -ENOMEM;
    }
    err = nl_sock_open(path, &d->sock);
    if (!err) {
        err = lookup_families(d);
    }
    if (!err) {
        struct nlmsghdr *nlh = start(d, d->dp_family, NLM_F_ECHO,
                                     OVS_DP_CMD_GET);
        mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, name);
        err = nl_sock_transact(d->sock, nlh, dp_reply_cb, d);
        if (err == -ENODEV) {
            nlh = start(d, d->dp_family, NLM_F_ECHO, OVS_DP_CMD_NEW);
            mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, name);
            mnl_attr_put_u32(nlh, OVS_DP_ATTR_UPCALL_PID, 0);
            mnl_attr_put_u32(nlh, OVS_DP_ATTR_USER_FEATURES,
                             OVS_DP_F_UNALIGNED
                             | OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
            err = nl_sock_transact(d->sock, nlh, dp_reply_cb, d);
        } else if (!err) {
            /* An existing datapath (a restart): make sure it dispatches
             * upcalls per CPU, to our handlers. */
            nlh = start(d, d->dp_family, NLM_F_ECHO, OVS_DP_CMD_SET);
            mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, name);
            mnl_attr_put_u32(nlh, OVS_DP_ATTR_USER_FEATURES,
                             OVS_DP_F_UNALIGNED
                             | OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
            err = nl_sock_transact(d->sock, nlh, dp_reply_cb, d);
        }
    }
    if (err) {
        dpif_close(d);
        return err;
    }
    *dpifp = d;
    return 0;
}

int
dpif_clone(const struct dpif *src, struct dpif **dpifp)
{
    struct dpif *d = dpif_alloc(src->path, src->name);
    if (!d) {
        return -ENOMEM;
    }
    int err = nl_sock_open(src->path, &d->sock);
    if (err) {
        dpif_close(d);
        return err;
    }
    d->ifindex = src->ifindex;
    d->dp_family = src->dp_family;
    d->vport_family = src->vport_family;
    d->flow_family = src->flow_family;
    d->packet_family = src->packet_family;
    d->meter_family = src->meter_family;
    d->vport_mcgroup = src->vport_mcgroup;
    *dpifp = d;
    return 0;
}

void
dpif_close(struct dpif *d)
{
    if (d) {
        for (unsigned i = 0; i < d->n_handlers; i++) {
            nl_sock_close(d->handlers[i]);
        }
        nl_sock_close(d->events);
        nl_sock_close(d->sock);
        free(d->buf);
        free(d);
    }
}

int
dpif_ifindex(const struct dpif *d)
{
    return d->ifindex;
}

struct stats_ctx {
    struct ovs_dp_stats *st;
    struct ovs_dp_megaflow_stats *mst;
};

static int
dp_stats_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct stats_ctx *ctx = aux;
    const struct nlattr *a;

    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        size_t len = mnl_attr_get_payload_len(a);
        if (mnl_attr_get_type(a) == OVS_DP_ATTR_STATS
            && len >= sizeof *ctx->st) {
            memcpy(ctx->st, mnl_attr_get_payload(a), sizeof *ctx->st);
        } else if (mnl_attr_get_type(a) == OVS_DP_ATTR_MEGAFLOW_STATS
                   && len >= sizeof *ctx->mst) {
            memcpy(ctx->mst, mnl_attr_get_payload(a), sizeof *ctx->mst);
        }
    }
    return 0;
}

int
dpif_get_stats(struct dpif *d, struct ovs_dp_stats *st,
               struct ovs_dp_megaflow_stats *mst)
{
    struct stats_ctx ctx = { st, mst };
    memset(st, 0, sizeof *st);
    memset(mst, 0, sizeof *mst);
    struct nlmsghdr *nlh = start(d, d->dp_family, NLM_F_ECHO,
                                 OVS_DP_CMD_GET);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, d->name);
    return nl_sock_transact(d->sock, nlh, dp_stats_cb, &ctx);
}

const char *
dpif_name(const struct dpif *d)
{
    return d->name;
}

int
dpif_destroy(struct dpif *d)
{
    struct nlmsghdr *nlh = start(d, d->dp_family, 0, OVS_DP_CMD_DEL);
    return nl_sock_transact(d->sock, nlh, NULL, NULL);
}

/* ---- meters --------------------------------------------------------------- */

/* A request 'cmd' of the meter family, or NULL if the datapath has none.
 * The family is optional, so it is looked up on first use rather than at
 * open. */
static struct nlmsghdr *
meter_start(struct dpif *d, uint8_t cmd)
{
    if (!d->meter_family) {
        int id = nl_lookup_family(d->sock, OVS_METER_FAMILY, NULL, NULL);
        d->meter_family = id > 0 ? id : -1;
    }
    return d->meter_family > 0
           ? start(d, d->meter_family, NLM_F_ECHO, cmd) : NULL;
}

static int
meter_features_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dpif_meter_features *f = aux;
    const struct nlattr *a, *band, *ba;

    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        size_t len = mnl_attr_get_payload_len(a);
        switch (mnl_attr_get_type(a)) {
        case OVS_METER_ATTR_MAX_METERS:
            f->max_meters = len >= 4 ? mnl_attr_get_u32(a) : 0;
            break;
        case OVS_METER_ATTR_MAX_BANDS:
            f->max_bands = len >= 4 ? mnl_attr_get_u32(a) : 0;
            break;
        case OVS_METER_ATTR_BANDS:
            mnl_attr_for_each_nested(band, a) {
                mnl_attr_for_each_nested(ba, band) {
                    if (mnl_attr_get_type(ba) == OVS_BAND_ATTR_TYPE
                        && mnl_attr_get_payload_len(ba) >= 4
                        && mnl_attr_get_u32(ba) < 32) {
                        f->band_types |= 1u << mnl_attr_get_u32(ba);
                    }
                }
            }
            break;
        }
    }
    return 0;
}

int
dpif_meter_features(struct dpif *d, struct dpif_meter_features *f)
{
    struct nlmsghdr *nlh = meter_start(d, OVS_METER_CMD_FEATURES);

    memset(f, 0, sizeof *f);
    if (!nlh) {
        return -EOPNOTSUPP;
    }
    return nl_sock_transact(d->sock, nlh, meter_features_cb, f);
}

int
dpif_meter_set(struct dpif *d, uint32_t id, bool kbps,
               const struct dpif_meter_band *bands, size_t n_bands)
{
    struct nlmsghdr *nlh = meter_start(d, OVS_METER_CMD_SET);

    if (!nlh) {
        return -EOPNOTSUPP;
    }
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, id);
    if (kbps) {
        mnl_attr_put(nlh, OVS_METER_ATTR_KBPS, 0, NULL);
    }
    struct nlattr *nest = mnl_attr_nest_start(nlh, OVS_METER_ATTR_BANDS);
    for (size_t i = 0; i < n_bands; i++) {
        struct nlattr *b = mnl_attr_nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
        mnl_attr_put_u32(nlh, OVS_BAND_ATTR_TYPE, bands[i].type);
        mnl_attr_put_u32(nlh, OVS_BAND_ATTR_RATE, bands[i].rate);
        mnl_attr_put_u32(nlh, OVS_BAND_ATTR_BURST, bands[i].burst);
        mnl_attr_nest_end(nlh, b);
    }
    mnl_attr_nest_end(nlh, nest);
    return nl_sock_transact(d->sock, nlh, NULL, NULL);
}

static int
meter_stats_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dpif_meter_stats *s = aux;
    const struct nlattr *a, *band, *ba;
    struct ovs_flow_stats st;

    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        switch (mnl_attr_get_type(a)) {
        case OVS_METER_ATTR_STATS:
            if (mnl_attr_get_payload_len(a) >= sizeof st) {
                /* Attributes are only 4-byte aligned. */
                memcpy(&st, mnl_attr_get_payload(a), sizeof st);
                s->packets = st.n_packets;
                s->bytes = st.n_bytes;
            }
            break;
        case OVS_METER_ATTR_BANDS:
            mnl_attr_for_each_nested(band, a) {
                if (s->n_bands == DPIF_METER_MAX_BANDS) {
                    break;
                }
                struct dpif_meter_band_stats *bs = &s->bands[s->n_bands++];
                mnl_attr_for_each_nested(ba, band) {
                    if (mnl_attr_get_type(ba) == OVS_BAND_ATTR_STATS
                        && mnl_attr_get_payload_len(ba) >= sizeof st) {
                        memcpy(&st, mnl_attr_get_payload(ba), sizeof st);
                        bs->packets = st.n_packets;
                        bs->bytes = st.n_bytes;
                    }
                }
            }
            break;
        }
    }
    return 0;
}

int
dpif_meter_get(struct dpif *d, uint32_t id, struct dpif_meter_stats *s)
{
    struct nlmsghdr *nlh = meter_start(d, OVS_METER_CMD_GET);

    memset(s, 0, sizeof *s);
    if (!nlh) {
        return -EOPNOTSUPP;
    }
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, id);
    return nl_sock_transact(d->sock, nlh, meter_stats_cb, s);
}

int
dpif_meter_del(struct dpif *d, uint32_t id)
{
    struct nlmsghdr *nlh = meter_start(d, OVS_METER_CMD_DEL);

    if (!nlh) {
        return -EOPNOTSUPP;
    }
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, id);
    return nl_sock_transact(d->sock, nlh, NULL, NULL);
}

/* ---- ports ---------------------------------------------------------------- */

int
dpif_port_parse(const struct nlmsghdr *nlh, struct dpif_port *p)
{
    const struct nlattr *a;

    memset(p, 0, sizeof *p);
    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        switch (mnl_attr_get_type(a)) {
        case OVS_VPORT_ATTR_PORT_NO:
            p->port_no = mnl_attr_get_u32(a);
            break;
        case OVS_VPORT_ATTR_TYPE:
            p->type = mnl_attr_get_u32(a);
            break;
        case OVS_VPORT_ATTR_NAME:
            snprintf(p->name, sizeof p->name, "%s", mnl_attr_get_str(a));
            break;
        case OVS_VPORT_ATTR_IFINDEX:
            p->ifindex = mnl_attr_get_u32(a);
            break;
        case OVS_VPORT_ATTR_STATS:
            if (mnl_attr_get_payload_len(a) >= sizeof p->stats) {
                memcpy(&p->stats, mnl_attr_get_payload(a), sizeof p->stats);
                p->has_stats = true;
            }
            break;
        }
    }
    return 0;
}

static int
port_reply_cb(const struct nlmsghdr *nlh, void *aux)
{
    return dpif_port_parse(nlh, aux);
}

static int
port_add(struct dpif *d, const char *name, enum ovs_vport_type type,
         int dst_port, uint32_t *port_no)
{
    struct nlmsghdr *nlh = start(d, d->vport_family, NLM_F_ECHO,
                                 OVS_VPORT_CMD_NEW);
    struct dpif_port p;
    uint32_t zero = 0;

    mnl_attr_put_strz(nlh, OVS_VPORT_ATTR_NAME, name);
    mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_TYPE, type);
    if (dst_port >= 0) {
        struct nlattr *o = mnl_attr_nest_start(nlh, OVS_VPORT_ATTR_OPTIONS);
        if (dst_port > 0) {
            mnl_attr_put_u16(nlh, OVS_TUNNEL_ATTR_DST_PORT, dst_port);
        }
        mnl_attr_nest_end(nlh, o);
    }
    mnl_attr_put(nlh, OVS_VPORT_ATTR_UPCALL_PID, sizeof zero, &zero);
    if (*port_no != UINT32_MAX) {
        mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, *port_no);
    }
    int err = nl_sock_transact(d->sock, nlh, port_reply_cb, &p);
    if (!err) {
        *port_no = p.port_no;
    }
    return err;
}

int
dpif_port_add(struct dpif *d, const char *name, enum ovs_vport_type type,
              uint32_t *port_no)
{
    return port_add(d, name, type, -1, port_no);
}

int
dpif_tunnel_port_add(struct dpif *d, const char *name,
                     enum ovs_vport_type type, uint16_t dst_port,
                     uint32_t *port_no)
{
    return port_add(d, name, type, dst_port, port_no);
}

int
dpif_port_del(struct dpif *d, uint32_t port_no)
{
    struct nlmsghdr *nlh = start(d, d->vport_family, 0, OVS_VPORT_CMD_DEL);
    mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, port_no);
    return nl_sock_transact(d->sock, nlh, NULL, NULL);
}

int
dpif_port_get(struct dpif *d, const char *name, struct dpif_port *p)
{
    struct nlmsghdr *nlh = start(d, d->vport_family, NLM_F_ECHO,
                                 OVS_VPORT_CMD_GET);
    mnl_attr_put_strz(nlh, OVS_VPORT_ATTR_NAME, name);
    return nl_sock_transact(d->sock, nlh, port_reply_cb, p);
}

struct port_dump_ctx {
    dpif_port_cb *cb;
    void *aux;
};

static int
port_dump_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct port_dump_ctx *ctx = aux;
    struct dpif_port p;
    dpif_port_parse(nlh, &p);
    return ctx->cb(&p, ctx->aux);
}

int
dpif_port_dump(struct dpif *d, dpif_port_cb *cb, void *aux)
{
    struct nlmsghdr *nlh = start(d, d->vport_family, NLM_F_DUMP,
                                 OVS_VPORT_CMD_GET);
    struct port_dump_ctx ctx = { cb, aux };
    return nl_sock_transact(d->sock, nlh, port_dump_cb, &ctx);
}

/* ---- flows ---------------------------------------------------------------- */

static void
parse_stats(const struct nlattr *a, struct dpif_flow_stats *st)
{
    switch (mnl_attr_get_type(a)) {
    case OVS_FLOW_ATTR_STATS:
        if (mnl_attr_get_payload_len(a) >= sizeof(struct ovs_flow_stats)) {
            /* Attributes are only 4-byte aligned. */
            struct ovs_flow_stats s;
            memcpy(&s, mnl_attr_get_payload(a), sizeof s);
            st->packets = s.n_packets;
            st->bytes = s.n_bytes;
        }
        break;
    case OVS_FLOW_ATTR_USED:
        st->used = mnl_attr_get_u64(a);
        break;
    case OVS_FLOW_ATTR_TCP_FLAGS:
        st->tcp_flags = mnl_attr_get_u8(a);
        break;
    }
}

static int
stats_reply_cb(const struct nlmsghdr *nlh, void *aux)
{
    const struct nlattr *a;
    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        parse_stats(a, aux);
    }
    return 0;
}

int
dpif_flow_put(struct dpif *d, const uint8_t ufid[16],
              const struct flow_key *key, const struct flow_key *mask,
              const void *actions, size_t actions_len, int flags,
              struct dpif_flow_stats *stats)
{
    uint16_t nl_flags = stats ? NLM_F_ECHO : 0;

    if (flags & DPIF_FP_CREATE) {
        nl_flags |= NLM_F_CREATE;
        if (!(flags & DPIF_FP_MODIFY)) {
            nl_flags |= NLM_F_EXCL;
        }
    }
    struct nlmsghdr *nlh = start(d, d->flow_family, nl_flags,
                                 (flags & DPIF_FP_CREATE) ? OVS_FLOW_CMD_NEW
                                                          : OVS_FLOW_CMD_SET);
    if (fnl_put_key(nlh, MSG_MAX, OVS_FLOW_ATTR_KEY, key, key, false)
        || fnl_put_key(nlh, MSG_MAX, OVS_FLOW_ATTR_MASK, key, mask, true)
        || !mnl_attr_put_check(nlh, MSG_MAX, OVS_FLOW_ATTR_UFID, 16, ufid)) {
        return -EMSGSIZE;
    }
    struct nlattr *n = mnl_attr_nest_start_check(nlh, MSG_MAX,
                                                 OVS_FLOW_ATTR_ACTIONS);
    if (!n || nlh->nlmsg_len + MNL_ALIGN(actions_len) > MSG_MAX) {
        return -EMSGSIZE;
    }
    memcpy(mnl_nlmsg_get_payload_tail(nlh), actions, actions_len);
    nlh->nlmsg_len += MNL_ALIGN(actions_len);
    mnl_attr_nest_end(nlh, n);
    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    return nl_sock_transact(d->sock, nlh, stats ? stats_reply_cb : NULL,
                            stats);
}

int
dpif_flow_del(struct dpif *d, const uint8_t ufid[16],
              struct dpif_flow_stats *stats)
{
    struct nlmsghdr *nlh = start(d, d->flow_family, stats ? NLM_F_ECHO : 0,
                                 OVS_FLOW_CMD_DEL);
    mnl_attr_put(nlh, OVS_FLOW_ATTR_UFID, 16, ufid);
    mnl_attr_put_u32(nlh, OVS_FLOW_ATTR_UFID_FLAGS,
                     OVS_UFID_F_OMIT_KEY | OVS_UFID_F_OMIT_MASK
                     | OVS_UFID_F_OMIT_ACTIONS);
    if (stats) {
        memset(stats, 0, sizeof *stats);
    }
    return nl_sock_transact(d->sock, nlh, stats ? stats_reply_cb : NULL,
                            stats);
}

int
dpif_flow_flush(struct dpif *d)
{
    return nl_sock_transact(d->sock, start(d, d->flow_family, 0,
                                           OVS_FLOW_CMD_DEL), NULL, NULL);
}

struct flow_dump_ctx {
    dpif_flow_cb *cb;
    void *aux;
};

static int
flow_dump_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct flow_dump_ctx *ctx = aux;
    const struct nlattr *a, *key = NULL, *mask = NULL;
    struct dpif_flow f;

    memset(&f, 0, sizeof f);
    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        switch (mnl_attr_get_type(a)) {
        case OVS_FLOW_ATTR_KEY:
            key = a;
            break;
        case OVS_FLOW_ATTR_MASK:
            mask = a;
            break;
        case OVS_FLOW_ATTR_UFID:
            if (mnl_attr_get_payload_len(a) == 16) {
                memcpy(f.ufid, mnl_attr_get_payload(a), 16);
                f.has_ufid = true;
            }
            break;
        case OVS_FLOW_ATTR_ACTIONS:
            f.actions = mnl_attr_get_payload(a);
            f.actions_len = mnl_attr_get_payload_len(a);
            break;
        default:
            parse_stats(a, &f.stats);
        }
    }
    if (key) {
        struct flow_match m;
        const char *why;
        if (!fnl_parse_match(key, mask, &m, &why)) {
            f.key = m.key;
            f.mask = m.mask;
        }
    }
    return ctx->cb(&f, ctx->aux);
}

int
dpif_flow_dump(struct dpif *d, dpif_flow_cb *cb, void *aux)
{
    struct nlmsghdr *nlh = start(d, d->flow_family, NLM_F_DUMP,
                                 OVS_FLOW_CMD_GET);
    struct flow_dump_ctx ctx = { cb, aux };
    return nl_sock_transact(d->sock, nlh, flow_dump_cb, &ctx);
}

/* ---- packets -------------------------------------------------------------- */

int
dpif_execute(struct dpif *d, const struct nlattr *key_attr,
             const void *packet, size_t len, const void *actions,
             size_t actions_len)
{
    struct nlmsghdr *nlh = start(d, d->packet_family, 0,
                                 OVS_PACKET_CMD_EXECUTE);
    size_t need = nlh->nlmsg_len + MNL_ALIGN(len) + 3 * MNL_ATTR_HDRLEN
        + MNL_ALIGN(mnl_attr_get_payload_len(key_attr))
        + MNL_ALIGN(actions_len);
    if (need > MSG_MAX) {
        return -EMSGSIZE;
    }
    mnl_attr_put(nlh, OVS_PACKET_ATTR_PACKET, len, packet);
    struct nlattr *k = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    memcpy(mnl_nlmsg_get_payload_tail(nlh), mnl_attr_get_payload(key_attr),
           mnl_attr_get_payload_len(key_attr));
    nlh->nlmsg_len += MNL_ALIGN(mnl_attr_get_payload_len(key_attr));
    mnl_attr_nest_end(nlh, k);
    struct nlattr *n = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_ACTIONS);
    memcpy(mnl_nlmsg_get_payload_tail(nlh), actions, actions_len);
    nlh->nlmsg_len += MNL_ALIGN(actions_len);
    mnl_attr_nest_end(nlh, n);
    return nl_sock_transact(d->sock, nlh, NULL, NULL);
}

/* ---- upcalls -------------------------------------------------------------- */

int
dpif_handlers_set(struct dpif *d, unsigned n)
{
    uint32_t pids[MAX_HANDLERS];

    if (!n || n > MAX_HANDLERS) {
        return -EINVAL;
    }
    while (d->n_handlers < n) {
        int err = nl_sock_open(d->path, &d->handlers[d->n_handlers]);
        if (err) {
            return err;
        }
        d->n_handlers++;
    }
    for (unsigned i = 0; i < n; i++) {
        pids[i] = nl_sock_portid(d->handlers[i]);
    }
    struct nlmsghdr *nlh = start(d, d->dp_family, 0, OVS_DP_CMD_SET);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, d->name);
    mnl_attr_put_u32(nlh, OVS_DP_ATTR_USER_FEATURES,
                     OVS_DP_F_UNALIGNED | OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    mnl_attr_put(nlh, OVS_DP_ATTR_PER_CPU_PIDS, n * sizeof *pids, pids);
    return nl_sock_transact(d->sock, nlh, NULL, NULL);
}

int
dpif_handler_fd(const struct dpif *d, unsigned handler)
{
    return handler < d->n_handlers ? nl_sock_fd(d->handlers[handler]) : -1;
}

int
dpif_recv(struct dpif *d, unsigned handler, struct dpif_upcall *u,
          void *buf, size_t size)
{
    if (handler >= d->n_handlers) {
        return -EINVAL;
    }
    for (;;) {
        int n = nl_sock_recv(d->handlers[handler], buf, size);
        if (n < 0) {
            return n;
        }
        const struct nlmsghdr *nlh = buf;
        if (!mnl_nlmsg_ok(nlh, n) || nlh->nlmsg_type != d->packet_family
            || mnl_nlmsg_get_payload_len(nlh)
               < GENL_HDRLEN + sizeof(struct ovs_header)) {
            continue;
        }
        const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a;
        memset(u, 0, sizeof *u);
        u->cmd = g->cmd;
        mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
            switch (mnl_attr_get_type(a)) {
            case OVS_PACKET_ATTR_PACKET:
                u->packet = mnl_attr_get_payload(a);
                u->len = mnl_attr_get_payload_len(a);
                break;
            case OVS_PACKET_ATTR_KEY:
                u->key_attr = a;
                break;
            case OVS_PACKET_ATTR_USERDATA:
                u->userdata = a;
                break;
            }
        }
        if (!u->packet || !u->key_attr) {
            continue;
        }
        struct flow_match m;
        const char *why;
        if (fnl_parse_match(u->key_attr, NULL, &m, &why)) {
            continue;
        }
        u->key = m.key;
        return 0;
    }
}

/* ---- port events ---------------------------------------------------------- */

int
dpif_port_events_open(struct dpif *d)
{
    int err = nl_sock_open(d->path, &d->events);
    if (!err) {
        err = nl_sock_join(d->events, d->vport_mcgroup);
    }
    return err;
}

int
dpif_port_events_fd(const struct dpif *d)
{
    return d->events ? nl_sock_fd(d->events) : -1;
}

int
dpif_port_event(struct dpif *d, uint8_t *cmd, struct dpif_port *p)
{
    for (;;) {
        int n = nl_sock_recv(d->events, d->buf, MSG_MAX);
        if (n < 0) {
            return n;
        }
        const struct nlmsghdr *nlh = (const void *) d->buf;
        if (!mnl_nlmsg_ok(nlh, n) || nlh->nlmsg_type != d->vport_family) {
            continue;
        }
        const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
        *cmd = g->cmd;
        dpif_port_parse(nlh, p);
        return 0;
    }
}
