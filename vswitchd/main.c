/* hvs-vswitchd: the userspace switch on top of hvs-dpd. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "appctl.h"
#include "bridge.h"
#include "daemon.h"
#include "dpif.h"
#include "hvs/dp-ext.h"
#include "log.h"
#include "timeval.h"
#include "ofconn.h"
#include "trace.h"
#include "ovsdb-idl.h"
#include "unixctl.h"
#include "upcall.h"

LOG_MODULE(vswitchd);

#define DATAPATH_NAME "ovs-system"
#define STATUS_INTERVAL_MS 5000

static const char *const ovs_cols[] = {
    "bridges", "next_cfg", "cur_cfg", "other_config", NULL };
static const char *const bridge_cols[] = {
    "name", "ports", "fail_mode", "datapath_id", "datapath_type",
    "other_config", "controller", NULL };
static const char *const controller_cols[] = {
    "target", "inactivity_probe", "max_backoff", "is_connected", "role",
    NULL };
static const char *const port_cols[] = {
    "name", "interfaces", "tag", "trunks", "vlan_mode", "other_config",
    NULL };
static const char *const iface_cols[] = {
    "name", "type", "options", "ofport", "ofport_request", "error",
    "ifindex", "mac_in_use", "admin_state", "link_state", "statistics",
    NULL };
static const struct ovsdb_idl_table_spec tables[] = {
    { "Open_vSwitch", ovs_cols },
    { "Bridge", bridge_cols },
    { "Port", port_cols },
    { "Interface", iface_cols },
    { "Controller", controller_cols },
    { NULL, NULL },
};

enum { OPT_HANDLERS = 1000 };
static const struct option extra_opts[] = {
    { "n-handlers", required_argument, NULL, OPT_HANDLERS },
    { NULL, 0, NULL, 0 },
};
static unsigned n_handlers = 2;
static bool exiting;

static int
parse_extra(int c, const char *arg, void *aux)
{
    (void) aux;
    if (c == OPT_HANDLERS) {
        char *end;
        long n = strtol(arg, &end, 10);
        if (*end || n < 1 || n > 16) {
            fprintf(stderr, "hvs-vswitchd: --n-handlers=%s: expected 1 to "
                    "16\n", arg);
            return -1;
        }
        n_handlers = n;
        return 0;
    }
    return -1;
}

static void
cmd_exit(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    (void) argc;
    (void) argv;
    (void) aux;
    exiting = true;
    unixctl_reply(conn, "");
}

int
main(int argc, char *argv[])
{
    struct daemon_opts opts = { .program = "hvs-vswitchd" };
    struct unixctl_server *unixctl = NULL;
    struct dpif *dpif = NULL;
    int optind_ = daemon_parse_args(&opts, argc, argv, extra_opts, "",
                                    parse_extra, NULL,
                                    "  DATABASE               default "
                                    "unix:RUNDIR/db.sock\n"
                                    "  --n-handlers=N         upcall "
                                    "handler threads (default 2)\n");
    daemon_check_operands(&opts, argc, argv, optind_, 1);
    const char *db = optind_ < argc ? argv[optind_] : NULL;
    /* A word that is no remote (the level of "-v module:dbg", say) would
     * otherwise be retried as a database for ever. */
    if (db && strncmp(db, "unix:", 5) && strncmp(db, "tcp:", 4)) {
        fprintf(stderr, "hvs-vswitchd: unexpected argument \"%s\": "
                "DATABASE is unix:PATH or tcp:IP:PORT\n", db);
        return 2;
    }
    if (daemon_start(&opts)) {
        return 1;
    }
    char *db_default = NULL;
    if (!db) {
        char *sock = daemon_path(&opts, "db.sock");
        if (sock && asprintf(&db_default, "unix:%s", sock) < 0) {
            db_default = NULL;
        }
        free(sock);
        db = db_default;
    }

    int sfd = daemon_signals_open();

    char *dpsock = daemon_path(&opts, HVS_DATAPATH_SOCK);
    int err = dpif_open(dpsock, DATAPATH_NAME, &dpif);
    if (err) {
        LOG_ERR("cannot open datapath %s on %s: %s (is hvs-dpd running?)",
                DATAPATH_NAME, dpsock, strerror(-err));
        fprintf(stderr, "hvs-vswitchd: cannot open datapath %s on %s: %s "
                "(is hvs-dpd running?)\n", DATAPATH_NAME, dpsock,
                strerror(-err));
        free(dpsock);
        free(db_default);
        daemon_finish(&opts);
        return 1;
    }
    free(dpsock);
    err = dpif_port_events_open(dpif);
    if (err) {
        LOG_WARN("no port notifications: %s", strerror(-err));
    }

    struct ovsdb_idl *idl = ovsdb_idl_create(db, "Open_vSwitch", tables);
    if (!idl) {
        LOG_ERR("cannot create the database client for %s", db);
        dpif_close(dpif);
        free(db_default);
        daemon_finish(&opts);
        return 1;
    }
    bridge_init(idl, dpif);
    err = udpif_start(dpif, n_handlers);
    if (err) {
        LOG_ERR("cannot start upcall handlers: %s", strerror(-err));
    }

    char *ctl = daemon_path(&opts, "hvs-vswitchd.ctl");
    unixctl_command_register("exit", "", 0, 0, cmd_exit, NULL);
    appctl_register(dpif);
    trace_register();
    err = unixctl_server_create(ctl, &unixctl);
    if (err) {
        LOG_WARN("cannot listen on %s: %s", ctl, strerror(-err));
    }
    free(ctl);

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.u32 = 0;
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
    ev.data.u32 = 1;
    epoll_ctl(epfd, EPOLL_CTL_ADD, ovsdb_idl_fd(idl), &ev);
    if (unixctl) {
        ev.data.u32 = 2;
        epoll_ctl(epfd, EPOLL_CTL_ADD, unixctl_server_fd(unixctl), &ev);
    }
    if (dpif_port_events_fd(dpif) >= 0) {
        ev.data.u32 = 3;
        epoll_ctl(epfd, EPOLL_CTL_ADD, dpif_port_events_fd(dpif), &ev);
    }
    /* OpenFlow management sockets: one epoll set of their own, polled
     * here as one descriptor. */
    char *rundir = daemon_path(&opts, "");
    int offd = rundir ? ofconn_init(rundir, dpif) : -ENOMEM;
    free(rundir);
    if (offd >= 0) {
        ev.data.u32 = 4;
        epoll_ctl(epfd, EPOLL_CTL_ADD, offd, &ev);
    }
    LOG_INFO("hvs-vswitchd %s: database %s, datapath %s", HVS_VERSION, db,
             DATAPATH_NAME);
    daemon_ready(&opts);

    uint64_t next_status = time_msec() + STATUS_INTERVAL_MS;
    while (!exiting) {
        struct epoll_event evs[8];
        int n = epoll_wait(epfd, evs, 8, 200);
        for (int i = 0; i < n; i++) {
            switch (evs[i].data.u32) {
            case 0:
                if (daemon_signals_run(sfd)) {
                    exiting = true;
                }
                break;
            case 2:
                unixctl_server_run(unixctl);
                break;
            case 3:
                bridge_port_events();
                break;
            }
        }
        ovsdb_idl_run(idl);
        bridge_run();
        ofconn_run();
        if (time_msec() >= next_status) {
            bridge_update_status();
            next_status = time_msec() + STATUS_INTERVAL_MS;
        }
    }

    /* The datapath and its flows stay: a restarted hvs-vswitchd takes
     * them over, and forwarding goes on meanwhile. */
    udpif_stop();
    ofconn_destroy();
    unixctl_server_destroy(unixctl);
    ovsdb_idl_destroy(idl);
    bridge_destroy();
    dpif_close(dpif);
    close(sfd);
    close(epfd);
    free(db_default);
    daemon_finish(&opts);
    log_close();
    return 0;
}
