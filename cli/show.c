/* hvs show: the bridges of the database (bridges.c) with the datapath
 * port each interface landed on, then what the datapath holds, as hvs-dpd
 * reports it: datapaths, their ports with port numbers and counters, flow
 * counts and hit rates; with tunnel ports, a line of tunnel counters from
 * hvs-dpd's unixctl socket (show-tunnels.c).
 *
 * This speaks the ovs_datapath and ovs_vport families directly rather
 * than through lib/dpif.h, because dpif_open() creates or reconfigures the
 * datapath it opens and "show" must change nothing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>

#include "cli.h"
#include "dpif.h"
#include "hvs/dp-ext.h"
#include "netlink-socket.h"

#define REQ_SIZE 256

struct dp_info {
    char name[IFNAMSIZ];
    int ifindex;
    struct ovs_dp_stats stats;
    struct ovs_dp_megaflow_stats mstats;
    bool has_stats, has_mstats;
};


/* A growable array of 'size'-byte records. */
struct vec {
    void *items;
    size_t n, allocated, size;
};

static void *
vec_push(struct vec *v)
{
    if (v->n == v->allocated) {
        size_t n = v->allocated ? 2 * v->allocated : 8;
        void *items = realloc(v->items, n * v->size);
        if (!items) {
            return NULL;
        }
        v->items = items;
        v->allocated = n;
    }
    void *item = (char *) v->items + v->n++ * v->size;
    memset(item, 0, v->size);
    return item;
}

/* The datapath ifindex in the struct ovs_header of a reply. */
static int
reply_ifindex(const struct nlmsghdr *nlh)
{
    const struct ovs_header *oh = (const void *)
        ((const char *) mnl_nlmsg_get_payload(nlh) + GENL_HDRLEN);
    return oh->dp_ifindex;
}

static bool
reply_ok(const struct nlmsghdr *nlh)
{
    return mnl_nlmsg_get_payload_len(nlh)
           >= GENL_HDRLEN + sizeof(struct ovs_header);
}

static void
copy_name(char dst[IFNAMSIZ], const struct nlattr *a)
{
    size_t len = strnlen(mnl_attr_get_payload(a),
                         mnl_attr_get_payload_len(a));
    if (len >= IFNAMSIZ) {
        len = IFNAMSIZ - 1;
    }
    memcpy(dst, mnl_attr_get_payload(a), len);
    dst[len] = '\0';
}

static int
dp_cb(const struct nlmsghdr *nlh, void *aux)
{
    const struct nlattr *a;
    struct dp_info *dp;

    if (!reply_ok(nlh)) {
        return 0;
    }
    if (!(dp = vec_push(aux))) {
        return -ENOMEM;
    }
    dp->ifindex = reply_ifindex(nlh);
    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        size_t len = mnl_attr_get_payload_len(a);

        switch (mnl_attr_get_type(a)) {
        case OVS_DP_ATTR_NAME:
            copy_name(dp->name, a);
            break;
        case OVS_DP_ATTR_STATS:
            if (len >= sizeof dp->stats) {
                memcpy(&dp->stats, mnl_attr_get_payload(a), sizeof dp->stats);
                dp->has_stats = true;
            }
            break;
        case OVS_DP_ATTR_MEGAFLOW_STATS:
            if (len >= sizeof dp->mstats) {
                memcpy(&dp->mstats, mnl_attr_get_payload(a),
                       sizeof dp->mstats);
                dp->has_mstats = true;
            }
            break;
        }
    }
    return 0;
}

static int
port_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct dpif_port *p;

    if (!reply_ok(nlh)) {
        return 0;
    }
    if (!(p = vec_push(aux))) {
        return -ENOMEM;
    }
    return dpif_port_parse(nlh, p);
}

static struct nlmsghdr *
start_request(void *buf, uint16_t family, uint8_t cmd, int dp_ifindex)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = family;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = 1;
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    oh->dp_ifindex = dp_ifindex;
    return nlh;
}

static int
port_cmp(const void *a_, const void *b_)
{
    const struct dpif_port *a = a_, *b = b_;

    return a->port_no < b->port_no ? -1 : a->port_no > b->port_no;
}

static const char *
vport_type_name(uint32_t type)
{
    switch (type) {
    case OVS_VPORT_TYPE_NETDEV:
        return "netdev";
    case OVS_VPORT_TYPE_INTERNAL:
        return "internal";
    case OVS_VPORT_TYPE_GRE:
        return "gre";
    case OVS_VPORT_TYPE_VXLAN:
        return "vxlan";
    case OVS_VPORT_TYPE_GENEVE:
        return "geneve";
    default:
        return "unknown";
    }
}

/* The OVS port name that "hvs vm set-port-name" gave host interface
 * 'ifname', into 'buf' ("" if none).  hvs-vswitchd reads the same file. */
static void
read_port_name(const char *ifname, char *buf, size_t size)
{
    char path[64 + IFNAMSIZ];
    ssize_t n = -1;
    int fd;

    buf[0] = '\0';
    snprintf(path, sizeof path, "/sys/class/net/%s/ifalias", ifname);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, buf, size - 1);
        close(fd);
    }
    if (n > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
    }
}

/* "NN.N%" of 'part' in 'whole', or "-" when there is nothing to divide. */
static const char *
percent(char *buf, size_t size, uint64_t part, uint64_t whole)
{
    if (!whole) {
        return "-";
    }
    snprintf(buf, size, "%.1f%%", 100.0 * part / whole);
    return buf;
}

static void
print_port(const struct dpif_port *p)
{
    char alias[256];

    read_port_name(p->name, alias, sizeof alias);
    printf("  port %" PRIu32 ": %s (%s", p->port_no, p->name,
           vport_type_name(p->type));
    if (alias[0]) {
        printf(", port name %s", alias);
    }
    printf(")\n");
    if (p->has_stats) {
        const struct ovs_vport_stats *s = &p->stats;
        printf("    rx: packets:%llu bytes:%llu errors:%llu dropped:%llu\n"
               "    tx: packets:%llu bytes:%llu errors:%llu dropped:%llu\n",
               (unsigned long long) s->rx_packets,
               (unsigned long long) s->rx_bytes,
               (unsigned long long) s->rx_errors,
               (unsigned long long) s->rx_dropped,
               (unsigned long long) s->tx_packets,
               (unsigned long long) s->tx_bytes,
               (unsigned long long) s->tx_errors,
               (unsigned long long) s->tx_dropped);
    }
}

static void
print_dp(const struct dp_info *dp)
{
    const struct ovs_dp_stats *s = &dp->stats;
    uint64_t lookups = s->n_hit + s->n_missed;
    char a[32], b[32];

    printf("datapath %s (ifindex %d)\n", dp->name, dp->ifindex);
    if (dp->has_stats) {
        printf("  flows: %llu\n", (unsigned long long) s->n_flows);
        printf("  lookups: hit:%llu missed:%llu lost:%llu hit-rate:%s\n",
               (unsigned long long) s->n_hit,
               (unsigned long long) s->n_missed,
               (unsigned long long) s->n_lost,
               percent(a, sizeof a, s->n_hit, lookups));
    }
    if (dp->has_mstats) {
        const struct ovs_dp_megaflow_stats *m = &dp->mstats;

        if (lookups) {
            snprintf(b, sizeof b, "%.2f", (double) m->n_mask_hit / lookups);
        }
        printf("  masks: total:%u hit/pkt:%s cache-hit:%llu "
               "cache-hit-rate:%s\n", m->n_masks, lookups ? b : "-",
               (unsigned long long) m->n_cache_hit,
               percent(a, sizeof a, m->n_cache_hit, lookups));
    }
}

/* What one datapath holds: its stats and its ports, by port number. */
struct dp_entry {
    struct dp_info info;
    struct vec ports;           /* of struct dpif_port */
    int err;                    /* of the port dump, or 0 */
};

struct show_dp_ports {
    struct dp_entry *dps;
    size_t n;
};

bool
show_dp_port_of(const struct show_dp_ports *all, const char *iface,
                char *buf, size_t size)
{
    /* An interface lands on the vport of its own name, or, bound by
     * "hvs vm set-port-name", on the host interface carrying its name. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < all->n; i++) {
            const struct dp_entry *e = &all->dps[i];

            for (size_t j = 0; j < e->ports.n; j++) {
                const struct dpif_port *p =
                    (const struct dpif_port *) e->ports.items + j;
                char alias[256];

                if (pass == 0 ? strcmp(p->name, iface) != 0
                    : (read_port_name(p->name, alias, sizeof alias),
                       strcmp(alias, iface) != 0)) {
                    continue;
                }
                if (pass == 0) {
                    snprintf(buf, size, "datapath %s port %" PRIu32,
                             e->info.name, p->port_no);
                } else {
                    snprintf(buf, size, "datapath %s port %" PRIu32
                             " (host interface %s)", e->info.name,
                             p->port_no, p->name);
                }
                return true;
            }
        }
    }
    return false;
}

/* Dumps the ports of 'e' into e->ports, sorted.  Returns 0 or -errno. */
static int
dump_ports(struct nl_sock *sock, uint16_t vport_family, struct dp_entry *e)
{
    uint8_t buf[REQ_SIZE];
    struct nlmsghdr *nlh = start_request(buf, vport_family,
                                         OVS_VPORT_CMD_GET,
                                         e->info.ifindex);

    e->ports.size = sizeof(struct dpif_port);
    int err = nl_sock_transact(sock, nlh, port_cb, &e->ports);
    if (!err) {
        qsort(e->ports.items, e->ports.n, e->ports.size, port_cmp);
    }
    return err;
}

static int
lookup_family(struct nl_sock *sock, const char *name, uint16_t *id)
{
    int ret = nl_lookup_family(sock, name, NULL, NULL);

    if (ret >= 0) {
        *id = ret;
    }
    return ret < 0 ? ret : 0;
}

static bool
has_tunnel_port(const struct dp_entry *e)
{
    for (size_t j = 0; j < e->ports.n; j++) {
        enum ovs_vport_type t = ((const struct dpif_port *) e->ports.items
                                 + j)->type;

        if (t == OVS_VPORT_TYPE_VXLAN || t == OVS_VPORT_TYPE_GENEVE
            || t == OVS_VPORT_TYPE_GRE) {
            return true;
        }
    }
    return false;
}

static int
show(const char *sock_path, const char *db_sock, const char *ctl_path,
     const char *only)
{
    struct vec dps = { .size = sizeof(struct dp_info) };
    uint16_t dp_family, vport_family;
    struct nl_sock *sock;
    uint8_t buf[REQ_SIZE];
    int err, status = CLI_EXIT_FAIL;
    bool found = false, failed = false, tunnels = false;

    err = nl_sock_open(sock_path, &sock);
    if (err) {
        cli_error("cannot show datapaths: cannot connect to hvs-dpd at %s: "
                  "%s%s", sock_path, strerror(-err),
                  err == -ENOENT || err == -ECONNREFUSED
                  ? " (is it running? try 'hvs start')" : "");
        return CLI_EXIT_FAIL;
    }
    err = lookup_family(sock, OVS_DATAPATH_FAMILY, &dp_family);
    if (!err) {
        err = lookup_family(sock, OVS_VPORT_FAMILY, &vport_family);
    }
    if (err) {
        cli_error("cannot show datapaths: %s does not offer the datapath "
                  "families: %s", sock_path, strerror(-err));
        goto out;
    }
    err = nl_sock_transact(sock, start_request(buf, dp_family,
                                               OVS_DP_CMD_GET, 0),
                           dp_cb, &dps);
    if (err) {
        cli_error("cannot show datapaths: dump failed: %s", strerror(-err));
        goto out;
    }
    struct show_dp_ports all = { calloc(dps.n ? dps.n : 1,
                                        sizeof *all.dps), 0 };
    if (!all.dps) {
        cli_error("cannot show datapaths: out of memory");
        goto out;
    }
    for (size_t i = 0; i < dps.n; i++) {
        const struct dp_info *dp = (const struct dp_info *) dps.items + i;

        if (only && strcmp(dp->name, only)) {
            continue;
        }
        struct dp_entry *e = &all.dps[all.n++];
        e->info = *dp;
        /* The datapath may vanish between the two dumps; say so and go
         * on with the others. */
        e->err = dump_ports(sock, vport_family, e);
    }
    /* Bridges first, as configured, when hvs-ovsdb runs beside hvs-dpd;
     * a bare datapath (driven by ovs-dpctl) has none. */
    if (!only && db_sock && access(db_sock, F_OK) == 0
        && show_bridges(db_sock, &all)) {
        failed = true;
    }
    for (size_t i = 0; i < all.n; i++) {
        struct dp_entry *e = &all.dps[i];

        found = true;
        print_dp(&e->info);
        tunnels |= has_tunnel_port(e);
        for (size_t j = 0; j < e->ports.n; j++) {
            print_port((const struct dpif_port *) e->ports.items + j);
        }
        if (e->err) {
            cli_error("cannot show ports of datapath %s: %s", e->info.name,
                      strerror(-e->err));
            failed = true;
        }
        free(e->ports.items);
    }
    free(all.dps);
    /* The counters are the daemon's, not a datapath's: one line after
     * all of them.  Missing counters are worth a warning, not a failure:
     * the datapaths were shown. */
    if (tunnels) {
        show_tunnels(ctl_path);
    }
    if (only && !found) {
        cli_error("cannot show datapath %s: no such datapath", only);
        goto out;
    } else if (!found) {
        printf("no datapaths\n");
    }
    status = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    free(dps.items);
    nl_sock_close(sock);
    return status;
}

int
show_main(const struct cli_opts *opts, int argc, char *argv[])
{
    if (argc > 1) {
        return cli_usage_error("show: expected at most one DATAPATH, got "
                               "%d arguments", argc);
    }
    char *path = cli_path(opts->rundir, HVS_DATAPATH_SOCK);
    char *db = cli_path(opts->rundir, "db.sock");
    char *ctl = cli_path(opts->rundir, "hvs-dpd.ctl");
    int status = show(path, db, ctl, argc ? argv[0] : NULL);
    free(path);
    free(db);
    free(ctl);
    return status;
}
