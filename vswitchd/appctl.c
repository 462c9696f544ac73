/* hvs-vswitchd's unixctl commands (see appctl.h). */
#include "appctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dpif.h"
#include "mac-learning.h"
#include "odp-format.h"
#include "ofproto.h"
#include "timeval.h"
#include "unixctl.h"
#include "upcall.h"

static struct dpif *dpif;

/* A growing string for replies. */
struct ds {
    char *s;
    size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
ds_put(struct ds *ds, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = ds->cap - ds->len;
        va_start(ap, fmt);
        int n = vsnprintf(ds->s ? ds->s + ds->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t) n < room) {
            ds->len += n;
            return;
        }
        size_t cap = (ds->cap + n + 1) * 2;
        char *s = realloc(ds->s, cap);
        if (!s) {
            return;
        }
        ds->s = s;
        ds->cap = cap;
    }
}

static const char *
ds_str(struct ds *ds)
{
    return ds->s ? ds->s : "";
}

static void
fdb_entry(uint32_t port, uint16_t vlan, const uint8_t mac[6], unsigned age,
          void *aux)
{
    char num[16];
    snprintf(num, sizeof num, "%u", port);
    ds_put(aux, "%5s  %4u  %02x:%02x:%02x:%02x:%02x:%02x  %3u\n",
           port == OFPP_LOCAL_NO ? "LOCAL" : num, vlan, mac[0], mac[1],
           mac[2], mac[3], mac[4], mac[5], age);
}

static void
cmd_fdb_show(struct unixctl_conn *conn, int argc, const char *argv[],
             void *aux)
{
    struct ds ds = { 0 };
    (void) argc;
    (void) aux;
    pthread_rwlock_rdlock(&xlate_lock);
    struct ofproto *br = ofproto_find(xlate_cfg, argv[1]);
    if (br) {
        ds_put(&ds, " port  VLAN  MAC                Age\n");
        mac_table_for_each(br->macs, time_msec() / 1000, fdb_entry, &ds);
    }
    pthread_rwlock_unlock(&xlate_lock);
    if (br) {
        unixctl_reply(conn, ds_str(&ds));
    } else {
        unixctl_reply_error(conn, "no such bridge");
    }
    free(ds.s);
}

static void
cmd_fdb_flush(struct unixctl_conn *conn, int argc, const char *argv[],
              void *aux)
{
    (void) aux;
    pthread_rwlock_rdlock(&xlate_lock);
    bool found = argc < 2;
    for (unsigned i = 0; xlate_cfg && i < xlate_cfg->n_bridges; i++) {
        struct ofproto *br = xlate_cfg->bridges[i];
        if (argc < 2 || !strcmp(br->name, argv[1])) {
            mac_table_flush(br->macs, UINT32_MAX);
            found = true;
        }
    }
    pthread_rwlock_unlock(&xlate_lock);
    udpif_revalidate();
    if (found) {
        unixctl_reply(conn, "table successfully flushed");
    } else {
        unixctl_reply_error(conn, "no such bridge");
    }
}

static const char *
vport_type_name(enum ovs_vport_type t)
{
    switch (t) {
    case OVS_VPORT_TYPE_INTERNAL: return "internal";
    case OVS_VPORT_TYPE_VXLAN: return "vxlan";
    case OVS_VPORT_TYPE_GENEVE: return "geneve";
    case OVS_VPORT_TYPE_GRE: return "gre";
    default: return NULL;
    }
}

static int
show_port(const struct dpif_port *p, void *aux)
{
    const char *t = vport_type_name(p->type);
    ds_put(aux, "  port %u: %s%s%s%s\n", p->port_no, p->name,
           t ? " (" : "", t ? t : "", t ? ")" : "");
    return 0;
}

static void
cmd_dpctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
               void *aux)
{
    struct ovs_dp_stats st;
    struct ovs_dp_megaflow_stats mst;
    struct ds ds = { 0 };
    (void) argc;
    (void) argv;
    (void) aux;

    int err = dpif_get_stats(dpif, &st, &mst);
    if (err) {
        unixctl_reply_error(conn, "cannot read datapath statistics");
        return;
    }
    uint64_t pkts = st.n_hit + st.n_missed;
    ds_put(&ds, "system@%s:\n", dpif_name(dpif));
    ds_put(&ds, "  lookups: hit:%llu missed:%llu lost:%llu\n",
           (unsigned long long) st.n_hit, (unsigned long long) st.n_missed,
           (unsigned long long) st.n_lost);
    ds_put(&ds, "  flows: %llu\n", (unsigned long long) st.n_flows);
    ds_put(&ds, "  masks: hit:%llu total:%u hit/pkt:%.2f\n",
           (unsigned long long) mst.n_mask_hit, mst.n_masks,
           pkts ? (double) mst.n_mask_hit / pkts : 0.0);
    ds_put(&ds, "  cache: hit:%llu hit-rate:%.2f%%\n",
           (unsigned long long) mst.n_cache_hit,
           pkts ? 100.0 * mst.n_cache_hit / pkts : 0.0);
    dpif_port_dump(dpif, show_port, &ds);
    unixctl_reply(conn, ds_str(&ds));
    free(ds.s);
}

/* dpctl/dump-flows [-m] [--names|--no-names] [DP]: every datapath flow in
 * the text ovs-dpctl prints for a kernel datapath (see odp-format.h). */
struct dump_flows_ctx {
    struct ds *ds;
    struct odp_format_opts opts;
    uint64_t now;
    struct dpif_port *ports;
    size_t n_ports;
};

static int
dump_flows_port(const struct dpif_port *p, void *aux)
{
    struct dump_flows_ctx *c = aux;
    struct dpif_port *v = realloc(c->ports, (c->n_ports + 1) * sizeof *v);
    if (!v) {
        return -1;
    }
    v[c->n_ports++] = *p;
    c->ports = v;
    return 0;
}

static const char *
dump_flows_port_name(uint32_t port_no, void *aux)
{
    const struct dump_flows_ctx *c = aux;
    for (size_t i = 0; i < c->n_ports; i++) {
        if (c->ports[i].port_no == port_no) {
            return c->ports[i].name;
        }
    }
    return NULL;
}

static int
dump_flows_flow(const struct dpif_flow *f, void *aux)
{
    struct dump_flows_ctx *c = aux;
    struct odp_buf b = { 0 };
    odp_format_flow(&b, f, c->now, &c->opts);
    ds_put(c->ds, "%s\n", odp_buf_cstr(&b));
    odp_buf_free(&b);
    return 0;
}

static void
cmd_dpctl_dump_flows(struct unixctl_conn *conn, int argc, const char *argv[],
                     void *aux)
{
    struct dump_flows_ctx c = { 0 };
    struct ds ds = { 0 };
    int names = -1;
    (void) aux;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--more")) {
            c.opts.verbose = true;
        } else if (!strcmp(a, "--names")) {
            names = 1;
        } else if (!strcmp(a, "--no-names")) {
            names = 0;
        } else if (a[0] == '-' || strchr(a, '=')) {
            unixctl_reply_error(conn, "dpctl/dump-flows: option or filter "
                                "not supported");
            return;
        } else if (strcmp(a, dpif_name(dpif))
                   && (strncmp(a, "system@", 7)
                       || strcmp(a + 7, dpif_name(dpif)))) {
            unixctl_reply_error(conn, "dpctl/dump-flows: no such datapath");
            return;
        }
    }
    /* Port names by default only with -m, as in Open vSwitch. */
    if (names < 0 ? c.opts.verbose : names) {
        dpif_port_dump(dpif, dump_flows_port, &c);
        c.opts.port_name = dump_flows_port_name;
        c.opts.aux = &c;
    }
    c.ds = &ds;
    c.now = odp_now_msec();
    int err = dpif_flow_dump(dpif, dump_flows_flow, &c);
    free(c.ports);
    if (err) {
        unixctl_reply_error(conn, "dpctl/dump-flows: Failed to dump flows "
                            "from datapath");
    } else {
        unixctl_reply(conn, ds_str(&ds));
    }
    free(ds.s);
}

static void
cmd_upcall_show(struct unixctl_conn *conn, int argc, const char *argv[],
                void *aux)
{
    struct upcall_stats s;
    struct ds ds = { 0 };
    (void) argc;
    (void) argv;
    (void) aux;

    udpif_get_stats(&s);
    ds_put(&ds, "system@%s:\n", dpif_name(dpif));
    ds_put(&ds, "  flows         : (current %u) (avg %u) (max %u) "
           "(limit 200000)\n", s.n_flows, s.n_flows, s.n_flows);
    ds_put(&ds, "  dump duration : %llums\n",
           (unsigned long long) s.dump_duration_ms);
    ds_put(&ds, "  ufid enabled : true\n\n");
    ds_put(&ds, "  %u: (keys %u)\n", 0, s.n_flows);
    unixctl_reply(conn, ds_str(&ds));
    free(ds.s);
}

static void
cmd_coverage_show(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *aux)
{
    struct upcall_stats s;
    struct ds ds = { 0 };
    (void) argc;
    (void) argv;
    (void) aux;

    udpif_get_stats(&s);
    ds_put(&ds, "Event coverage, avg rate over last: 5 seconds, last "
           "minute, last hour,  hash=00000000:\n");
    static const char *const names[] = {
        "upcall_total", "flow_added", "flow_modified", "flow_deleted",
        "upcall_lost", "handler_error",
    };
    uint64_t vals[] = { s.upcalls, s.flows_added, s.flows_modified,
                        s.flows_deleted, s.lost, s.handler_errors };
    unsigned zero = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        if (vals[i]) {
            ds_put(&ds, "%-26s %5.1f/sec %9.3f/sec %10.4f/sec   total: "
                   "%llu\n", names[i], 0.0, 0.0, 0.0,
                   (unsigned long long) vals[i]);
        } else {
            zero++;
        }
    }
    ds_put(&ds, "%u events never hit\n", zero);
    unixctl_reply(conn, ds_str(&ds));
    free(ds.s);
}

static void
cmd_memory_show(struct unixctl_conn *conn, int argc, const char *argv[],
                void *aux)
{
    struct upcall_stats s;
    struct ds ds = { 0 };
    unsigned ports = 0, macs = 0;
    (void) argc;
    (void) argv;
    (void) aux;

    udpif_get_stats(&s);
    pthread_rwlock_rdlock(&xlate_lock);
    for (unsigned i = 0; xlate_cfg && i < xlate_cfg->n_bridges; i++) {
        ports += xlate_cfg->bridges[i]->n_ports;
        macs += mac_table_count(xlate_cfg->bridges[i]->macs);
    }
    pthread_rwlock_unlock(&xlate_lock);
    ds_put(&ds, "handlers:%u mac-entries:%u ports:%u revalidators:1 "
           "udpif keys:%u\n", udpif_n_handlers(), macs, ports, s.n_flows);
    unixctl_reply(conn, ds_str(&ds));
    free(ds.s);
}

void
appctl_register(struct dpif *d)
{
    dpif = d;
    unixctl_command_register("fdb/show", "bridge", 1, 1, cmd_fdb_show, NULL);
    unixctl_command_register("fdb/flush", "[bridge]", 0, 1, cmd_fdb_flush,
                             NULL);
    unixctl_command_register("dpctl/show", "[dp]", 0, 1, cmd_dpctl_show,
                             NULL);
    unixctl_command_register("dpctl/dump-flows",
                             "[-m] [--names | --no-names] [dp]", 0, 4,
                             cmd_dpctl_dump_flows, NULL);
    unixctl_command_register("upcall/show", "", 0, 0, cmd_upcall_show, NULL);
    unixctl_command_register("coverage/show", "", 0, 0, cmd_coverage_show,
                             NULL);
    unixctl_command_register("memory/show", "", 0, 0, cmd_memory_show, NULL);
}
