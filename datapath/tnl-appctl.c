/* hvs-dpd's tunnel commands for ovs-appctl (see appctl.h):
 *
 *   tnl/stats        which path tunnel packets took, and the drops by cause
 *   tnl/neigh/show   the neighbour table the fast path resolves from
 *   ovs/route/show   the route table it looks next hops up in
 *
 * The last two read the mirror of the host's tables (tnl-route.h), which
 * exists while a tunnel vport does; their layout follows Open vSwitch's
 * commands of the same names.  Open vSwitch has no tnl/stats (it spreads
 * such events over its coverage counters); the name keeps it beside the
 * other tnl/ commands. */
#include "appctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kflow.h"
#include "odp-format.h"
#include "tnl-route.h"
#include "tnl-stats.h"
#include "unixctl.h"

#define NOT_MIRRORED "(not mirrored: hvs-dpd follows the host's tables " \
                     "only while a tunnel port exists)\n"

/* ---- tnl/stats ---------------------------------------------------------- */

struct stats_group {
    const char *title;
    enum tnl_counter first, last;
};

static void
cmd_tnl_stats(struct unixctl_conn *conn, int argc, const char *argv[],
              void *aux)
{
    /* One "name: value" line per counter under headings that say what the
     * group means; the names are unique, so a script may ignore the
     * headings. */
    static const struct stats_group groups[] = {
        { "fast path (outer headers built and stripped by hvs-dpd)",
          TNL_C_ENCAP, TNL_C_HELD },
        { "dropped", TNL_C_HOLD_DROP, TNL_C_ENCAP_ERR },
        { "host stack path (outer fragmentation and reassembly, routes "
          "not mirrored)", TNL_C_SOCKET_TX, TNL_C_DECAP_BAD },
        { "receive coalescing", TNL_C_GRO_SEGS, TNL_C_GRO_PKTS },
    };
    struct odp_buf b = { 0 };

    (void) argc;
    (void) argv;
    (void) aux;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        odp_buf_put(&b, "%s:\n", groups[g].title);
        for (int c = groups[g].first; c <= (int) groups[g].last; c++) {
            odp_buf_put(&b, "  %s: %llu\n", tnl_counter_name(c),
                        (unsigned long long) tnl_counter_get(c));
        }
    }
    if (kflow_enabled()) {
        odp_buf_put(&b, "(the kernel flow cache is on: tunnel packets it "
                    "forwards are counted by kflow/show)\n");
    }
    if (b.oom) {
        unixctl_reply_error(conn, "tnl/stats: out of memory");
    } else {
        unixctl_reply(conn, odp_buf_cstr(&b));
    }
    odp_buf_free(&b);
}

/* ---- tnl/neigh/show and ovs/route/show ---------------------------------- */

static const char *
addr_text(int family, const struct tnl_addr *a, char *buf, size_t size)
{
    if (!inet_ntop(family, a->b, buf, (socklen_t) size)) {
        snprintf(buf, size, "?");
    }
    return buf;
}

static const char *
ifname(int ifindex, char buf[IF_NAMESIZE])
{
    if (!if_indextoname((unsigned) ifindex, buf)) {
        snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
    }
    return buf;
}

static const char *
nud_name(uint16_t state)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } names[] = {
        { NUD_PERMANENT, "PERMANENT" }, { NUD_NOARP, "NOARP" },
        { NUD_REACHABLE, "REACHABLE" }, { NUD_STALE, "STALE" },
        { NUD_DELAY, "DELAY" }, { NUD_PROBE, "PROBE" },
        { NUD_INCOMPLETE, "INCOMPLETE" }, { NUD_FAILED, "FAILED" },
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (state & names[i].bit) {
            return names[i].name;
        }
    }
    return "NONE";
}

/* Multicast and unspecified addresses: the kernel's entries for them map
 * addresses, they resolve nothing a tunnel could send to. */
static bool
is_unicast(int family, const struct tnl_addr *a)
{
    static const struct tnl_addr zero;

    if (!memcmp(a, &zero, sizeof zero)) {
        return false;
    }
    return family == AF_INET ? (a->b[0] & 0xf0) != 0xe0 : a->b[0] != 0xff;
}

static void
put_neigh(const struct tnl_neigh_info *n, void *aux)
{
    char ip[INET6_ADDRSTRLEN], mac[18] = "-", dev[IF_NAMESIZE];

    if (!is_unicast(n->family, &n->addr)) {
        return;
    }
    if (n->usable) {
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                 n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
                 n->mac[5]);
    }
    odp_buf_put(aux, "%-45s %-19s %-16s %s\n",
                addr_text(n->family, &n->addr, ip, sizeof ip), mac,
                ifname(n->ifindex, dev), nud_name(n->state));
}

static void
cmd_tnl_neigh_show(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux)
{
    struct odp_buf b = { 0 };

    (void) argc;
    (void) argv;
    (void) aux;
    /* Open vSwitch's columns, then the kernel's state of the entry: an
     * unresolved one is why packets are held. */
    odp_buf_put(&b, "%-45s %-19s %-16s %s\n", "IP", "MAC", "Interface",
                "State");
    char rule[89];
    memset(rule, '=', sizeof rule - 1);
    rule[sizeof rule - 1] = '\0';
    odp_buf_put(&b, "%s\n", rule);
    if (tnl_route_walk(NULL, put_neigh, &b) == -ENODEV) {
        odp_buf_put(&b, NOT_MIRRORED);
    }
    if (b.oom) {
        unixctl_reply_error(conn, "tnl/neigh/show: out of memory");
    } else {
        unixctl_reply(conn, odp_buf_cstr(&b));
    }
    odp_buf_free(&b);
}

static void
put_route(const struct tnl_route_info *r, void *aux)
{
    char dst[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
    char src[INET6_ADDRSTRLEN], dev[IF_NAMESIZE];

    odp_buf_put(aux, "Cached: %s/%u dev %s",
                addr_text(r->family, &r->dst, dst, sizeof dst), r->dst_len,
                ifname(r->ifindex, dev));
    if (r->has_gw) {
        odp_buf_put(aux, " GW %s",
                    addr_text(r->family, &r->gw, gw, sizeof gw));
    }
    if (r->has_src) {
        odp_buf_put(aux, " SRC %s",
                    addr_text(r->family, &r->src, src, sizeof src));
    }
    if (r->priority) {
        odp_buf_put(aux, " metric %u", r->priority);
    }
    odp_buf_put(aux, "\n");
}

static void
cmd_route_show(struct unixctl_conn *conn, int argc, const char *argv[],
               void *aux)
{
    struct odp_buf b = { 0 };

    (void) argc;
    (void) argv;
    (void) aux;
    odp_buf_put(&b, "Route Table:\n");
    if (tnl_route_walk(put_route, NULL, &b) == -ENODEV) {
        odp_buf_put(&b, NOT_MIRRORED);
    }
    if (b.oom) {
        unixctl_reply_error(conn, "ovs/route/show: out of memory");
    } else {
        unixctl_reply(conn, odp_buf_cstr(&b));
    }
    odp_buf_free(&b);
}

void
tnl_appctl_register(void)
{
    unixctl_command_register("tnl/stats", "", 0, 0, cmd_tnl_stats, NULL);
    unixctl_command_register("tnl/neigh/show", "", 0, 0, cmd_tnl_neigh_show,
                             NULL);
    unixctl_command_register("ovs/route/show", "", 0, 0, cmd_route_show,
                             NULL);
}
