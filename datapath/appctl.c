/* hvs-dpd's datapath commands for ovs-appctl (see appctl.h). */
#include "appctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "datapath.h"
#include "dpif.h"
#include "flow-table.h"
#include "kflow.h"
#include "odp-format.h"
#include "tnl-push.h"
#include "tnl-route.h"
#include "unixctl.h"
#include "vport.h"

/* The UDP ports Open vSwitch leaves out of a tunnel port's description. */
#define VXLAN_DEFAULT_PORT 4789
#define GENEVE_DEFAULT_PORT 6081

/* ---- arguments ---------------------------------------------------------- */

int
appctl_parse_dpctl_args(int argc, const char *argv[], unsigned allowed,
                        struct appctl_dpctl_args *a, char *err,
                        size_t errlen)
{
    const char *cmd = argc > 0 ? argv[0] : "?";
    int max_dps = allowed & APPCTL_OPT_FLOWS ? 1 : APPCTL_MAX_DPS;

    memset(a, 0, sizeof *a);
    a->names = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];

        if (allowed & APPCTL_OPT_STATS
            && (!strcmp(s, "-s") || !strcmp(s, "--statistics"))) {
            a->statistics = true;
        } else if (allowed & APPCTL_OPT_FLOWS
                   && (!strcmp(s, "-m") || !strcmp(s, "--more"))) {
            a->verbose = true;
        } else if (allowed & APPCTL_OPT_FLOWS && !strcmp(s, "--names")) {
            a->names = 1;
        } else if (allowed & APPCTL_OPT_FLOWS && !strcmp(s, "--no-names")) {
            a->names = 0;
        } else if (s[0] == '-') {
            snprintf(err, errlen, "%s: unknown option \"%s\"", cmd, s);
            return -EINVAL;
        } else if (strchr(s, '=')) {
            /* ovs-dpctl's flow filters: not worth it for one datapath
             * whose flows grep finds as well. */
            snprintf(err, errlen, "%s: filter \"%s\" not supported", cmd, s);
            return -EINVAL;
        } else if (a->n_dps >= max_dps) {
            snprintf(err, errlen, "%s: too many datapaths (at most %d)", cmd,
                     max_dps);
            return -EINVAL;
        } else {
            if (!strncmp(s, "system@", 7)) {
                s += 7;
            }
            if (!*s) {
                snprintf(err, errlen, "%s: empty datapath name \"%s\"", cmd,
                         argv[i]);
                return -EINVAL;
            }
            a->dps[a->n_dps++] = s;
        }
    }
    return 0;
}

/* Finds the datapaths 'a' names into 'dps' (every datapath when it names
 * none).  Returns how many, or -1 after an error reply on 'conn'. */
static int
select_dps(struct unixctl_conn *conn, const char *cmd,
           const struct appctl_dpctl_args *a, struct datapath **dps,
           int max)
{
    int n = 0;

    if (!a->n_dps) {
        for (struct datapath *dp = dp_first(); dp && n < max; dp = dp->next) {
            dps[n++] = dp;
        }
        return n;
    }
    for (int i = 0; i < a->n_dps && n < max; i++) {
        struct datapath *dp = dp_find_by_name(a->dps[i]);

        if (!dp) {
            char text[128];

            snprintf(text, sizeof text, "%s: datapath \"%s\" does not exist",
                     cmd, a->dps[i]);
            unixctl_reply_error(conn, text);
            return -1;
        }
        dps[n++] = dp;
    }
    return n;
}

static void
reply_buf(struct unixctl_conn *conn, const char *cmd, struct odp_buf *b)
{
    if (b->oom) {
        char text[96];

        snprintf(text, sizeof text, "%s: out of memory", cmd);
        unixctl_reply_error(conn, text);
    } else {
        unixctl_reply(conn, odp_buf_cstr(b));
    }
    odp_buf_free(b);
}

/* ---- dpctl/show --------------------------------------------------------- */

/* " (1.5 KiB)" after a byte count, as ovs-dpctl prints it. */
static void
put_human_bytes(struct odp_buf *b, uint64_t n)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
    double v = (double) n;
    int u = -1;

    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (u >= 0) {
        odp_buf_put(b, " (%.1f %s)", v, units[u]);
    }
}

static void
show_port(struct odp_buf *b, const struct vport *v, bool statistics)
{
    const struct tnl_port_cfg *cfg = vport_tunnel_cfg(v);

    odp_buf_put(b, "  port %u: %s", v->port_no, v->name);
    if (v->type == OVS_VPORT_TYPE_NETDEV) {
        /* ovs-dpctl names no type for plain system ports. */
    } else if (cfg && cfg->dst_port
               && cfg->dst_port != (cfg->type == OVS_VPORT_TYPE_GENEVE
                                    ? GENEVE_DEFAULT_PORT
                                    : VXLAN_DEFAULT_PORT)) {
        odp_buf_put(b, " (%s: dst_port=%u)", v->ops->type_name,
                    cfg->dst_port);
    } else {
        odp_buf_put(b, " (%s)", v->ops->type_name);
    }
    odp_buf_put(b, "\n");
    if (!statistics) {
        return;
    }

    struct ovs_vport_stats st;
    vport_get_stats(v, &st);
    odp_buf_put(b, "    RX packets:%llu errors:%llu dropped:%llu "
                "overruns:0 frame:0\n",
                (unsigned long long) st.rx_packets,
                (unsigned long long) st.rx_errors,
                (unsigned long long) st.rx_dropped);
    odp_buf_put(b, "    TX packets:%llu errors:%llu dropped:%llu "
                "aborted:0 carrier:0\n",
                (unsigned long long) st.tx_packets,
                (unsigned long long) st.tx_errors,
                (unsigned long long) st.tx_dropped);
    odp_buf_put(b, "    collisions:0\n");
    odp_buf_put(b, "    RX bytes:%llu", (unsigned long long) st.rx_bytes);
    put_human_bytes(b, st.rx_bytes);
    odp_buf_put(b, "  TX bytes:%llu", (unsigned long long) st.tx_bytes);
    put_human_bytes(b, st.tx_bytes);
    odp_buf_put(b, "\n");
}

static void
show_dp(struct odp_buf *b, const struct datapath *dp, bool statistics)
{
    uint64_t n_hit, n_mask_hit, n_cache_hit;

    dp_get_fast_stats(dp, &n_hit, &n_mask_hit, &n_cache_hit);
    uint64_t n_missed = atomic_load(&dp->stats.n_missed);
    uint64_t pkts = n_hit + n_missed;

    odp_buf_put(b, "system@%s:\n", dp->name);
    odp_buf_put(b, "  lookups: hit:%llu missed:%llu lost:%llu\n",
                (unsigned long long) n_hit, (unsigned long long) n_missed,
                (unsigned long long) atomic_load(&dp->stats.n_lost));
    odp_buf_put(b, "  flows: %u\n", flow_table_count(dp->table));
    odp_buf_put(b, "  masks: hit:%llu total:%u hit/pkt:%.2f\n",
                (unsigned long long) n_mask_hit,
                flow_table_n_masks(dp->table),
                pkts ? (double) n_mask_hit / (double) pkts : 0.0);
    /* Hits of the per-thread exact-match caches, as hvs-vswitchd's
     * dpctl/show reports them. */
    odp_buf_put(b, "  cache: hit:%llu hit-rate:%.2f%%\n",
                (unsigned long long) n_cache_hit,
                pkts ? 100.0 * (double) n_cache_hit / (double) pkts : 0.0);
    odp_buf_put(b, "  caches:\n    masks-cache: size:%u\n",
                dp->masks_cache_size);
    for (uint32_t i = 0; i < dp->port_hi; i++) {
        const struct vport *v = dp_port(dp, i);

        if (v) {
            show_port(b, v, statistics);
        }
    }
}

static void
cmd_dpctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
               void *aux)
{
    struct appctl_dpctl_args a;
    struct datapath *dps[64];
    struct odp_buf b = { 0 };
    char err[160];

    (void) aux;
    if (appctl_parse_dpctl_args(argc, argv, APPCTL_OPT_STATS, &a, err,
                                sizeof err)) {
        unixctl_reply_error(conn, err);
        return;
    }
    int n = select_dps(conn, argv[0], &a, dps, 64);
    if (n < 0) {
        return;
    }
    /* What the kernel flow cache forwarded counts too, as in the
     * genetlink replies. */
    kflow_sync(false);
    for (int i = 0; i < n; i++) {
        show_dp(&b, dps[i], a.statistics);
    }
    reply_buf(conn, argv[0], &b);
}

/* ---- dpctl/dump-flows --------------------------------------------------- */

static const char *
port_name(uint32_t port_no, void *aux)
{
    const struct vport *v = dp_port(aux, port_no);

    return v ? v->name : NULL;
}

static void
dump_flow(struct odp_buf *b, const struct dp_flow *f, uint64_t now,
          const struct odp_format_opts *opts)
{
    const struct dp_actions *acts = atomic_load(&f->acts);
    struct dpif_flow df;

    memset(&df, 0, sizeof df);
    df.has_ufid = f->ufid_len > 0;
    memcpy(df.ufid, f->ufid,
           f->ufid_len < sizeof df.ufid ? f->ufid_len : sizeof df.ufid);
    df.key = f->match.key;
    df.mask = f->match.mask;
    df.actions = acts ? acts->attrs : NULL;
    df.actions_len = acts ? acts->len : 0;
    df.stats.packets = atomic_load(&f->stats.packets);
    df.stats.bytes = atomic_load(&f->stats.bytes);
    df.stats.used = atomic_load(&f->stats.used);
    df.stats.tcp_flags = (uint8_t) atomic_load(&f->stats.tcp_flags);
    odp_format_flow(b, &df, now, opts);
    odp_buf_put(b, "\n");
}

static void
cmd_dpctl_dump_flows(struct unixctl_conn *conn, int argc, const char *argv[],
                     void *aux)
{
    struct odp_format_opts opts = { 0 };
    struct appctl_dpctl_args a;
    struct datapath *dp = NULL;
    struct odp_buf b = { 0 };
    char err[160];

    (void) aux;
    if (appctl_parse_dpctl_args(argc, argv, APPCTL_OPT_FLOWS, &a, err,
                                sizeof err)) {
        unixctl_reply_error(conn, err);
        return;
    }
    if (a.n_dps) {
        if (select_dps(conn, argv[0], &a, &dp, 1) < 1) {
            return;
        }
    } else if (!(dp = dp_first())) {
        unixctl_reply_error(conn, "dpctl/dump-flows: no datapath exists");
        return;
    } else if (dp->next) {
        unixctl_reply_error(conn, "dpctl/dump-flows: several datapaths "
                            "exist; name one");
        return;
    }
    opts.verbose = a.verbose;
    /* Port names by default only with -m, as in Open vSwitch. */
    if (a.names < 0 ? a.verbose : a.names) {
        opts.port_name = port_name;
        opts.aux = dp;
    }
    kflow_sync(false);
    /* The control thread is the table's only writer, so no flow goes
     * away during the walk; the read lock is for the actions, which
     * flow_table_set_actions() replaces under RCU. */
    uint64_t now = odp_now_msec();
    uint64_t cursor = 0;
    urcu_memb_read_lock();
    for (const struct dp_flow *f; (f = flow_table_next(dp->table, &cursor));) {
        dump_flow(&b, f, now, &opts);
    }
    urcu_memb_read_unlock();
    reply_buf(conn, argv[0], &b);
}

/* ---- memory/show -------------------------------------------------------- */

static void
count_route(const struct tnl_route_info *r, void *aux)
{
    (void) r;
    ++*(unsigned *) aux;
}

static void
count_neigh(const struct tnl_neigh_info *n, void *aux)
{
    (void) n;
    ++((unsigned *) aux)[1];
}

static void
cmd_memory_show(struct unixctl_conn *conn, int argc, const char *argv[],
                void *aux)
{
    unsigned n_dps = 0, n_ports = 0, n_flows = 0, n_masks = 0;
    unsigned held, held_nbrs, routes[2] = { 0, 0 };
    struct odp_buf b = { 0 };

    (void) argc;
    (void) aux;
    for (const struct datapath *dp = dp_first(); dp; dp = dp->next) {
        n_dps++;
        n_ports += dp->n_ports;
        n_flows += flow_table_count(dp->table);
        n_masks += flow_table_n_masks(dp->table);
    }
    tnl_route_held(&held, &held_nbrs);
    /* Open vSwitch's layout: "name:count" pairs on one line. */
    odp_buf_put(&b, "datapaths:%u flows:%u masks:%u ports:%u "
                "held-packets:%u", n_dps, n_flows, n_masks, n_ports, held);
    if (!tnl_route_walk(count_route, count_neigh, routes)) {
        odp_buf_put(&b, " neighbours:%u routes:%u", routes[1], routes[0]);
    }
    odp_buf_put(&b, "\n");
    reply_buf(conn, argv[0], &b);
}

/* ---- kflow/show --------------------------------------------------------- */

static void
cmd_kflow_show(struct unixctl_conn *conn, int argc, const char *argv[],
               void *aux)
{
    struct odp_buf b = { 0 };
    struct kflow_stats ks;

    (void) argc;
    (void) aux;
    if (!kflow_enabled()) {
        unixctl_reply(conn, "kernel flow cache: off (hvs-dpd runs without "
                      "--kernel-cache, or the kernel cannot run it)");
        return;
    }
    kflow_sync(false);
    kflow_get_stats(&ks);
    /* Tunnel packets the kernel forwards are counted here, not in
     * tnl/stats: hvs-dpd never sees them. */
    odp_buf_put(&b, "kernel flow cache: on\n"
                "  entries: %llu\n  installed: %llu\n  packets: %llu\n"
                "  bytes: %llu\n  errors: %llu\n  full: %llu\n",
                (unsigned long long) ks.entries,
                (unsigned long long) ks.installed,
                (unsigned long long) ks.packets,
                (unsigned long long) ks.bytes,
                (unsigned long long) ks.errors,
                (unsigned long long) ks.full);
    reply_buf(conn, argv[0], &b);
}

void
appctl_register(void)
{
    unixctl_command_register("dpctl/show", "[-s] [dp...]", 0,
                             UNIXCTL_ANY_ARGS, cmd_dpctl_show, NULL);
    unixctl_command_register("dpctl/dump-flows",
                             "[-m] [--names | --no-names] [dp]", 0,
                             UNIXCTL_ANY_ARGS, cmd_dpctl_dump_flows, NULL);
    unixctl_command_register("memory/show", "", 0, 0, cmd_memory_show, NULL);
    unixctl_command_register("kflow/show", "", 0, 0, cmd_kflow_show, NULL);
}
