/* hvs-dpd: the datapath daemon. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "appctl.h"
#include "control.h"
#include "daemon.h"
#include "datapath.h"
#include "fwd.h"
#include "hvs/dp-ext.h"
#include "kflow.h"
#include "log.h"
#include "netdev-monitor.h"
#include "timeval.h"
#include "unixctl.h"

LOG_MODULE(dpd);

enum { OPT_THREADS = 1000, OPT_KERNEL_CACHE, OPT_UNIXCTL };

static const struct option extra_opts[] = {
    { "threads", required_argument, NULL, OPT_THREADS },
    { "kernel-cache", optional_argument, NULL, OPT_KERNEL_CACHE },
    { "unixctl", required_argument, NULL, OPT_UNIXCTL },
    { NULL, 0, NULL, 0 },
};

static unsigned n_fwd_threads;
static bool kernel_cache = true;
static char *unixctl_path;      /* --unixctl, or NULL for the default */
static bool exiting;

/* The epoll tag of the unixctl server (the control objects and the
 * netdev monitor have tags of their own). */
static char unixctl_tag;

static int
parse_extra(int c, const char *arg, void *aux)
{
    (void) aux;
    if (c == OPT_THREADS) {
        char *end;
        long n = strtol(arg, &end, 10);
        if (*end || n < 1 || n > 64) {
            fprintf(stderr, "hvs-dpd: --threads=%s: expected 1 to 64\n",
                    arg);
            return -1;
        }
        n_fwd_threads = n;
        return 0;
    }
    if (c == OPT_KERNEL_CACHE) {
        if (!arg || !strcmp(arg, "on")) {
            kernel_cache = true;
        } else if (!strcmp(arg, "off")) {
            kernel_cache = false;
        } else {
            fprintf(stderr, "hvs-dpd: --kernel-cache=%s: expected on or "
                    "off\n", arg);
            return -1;
        }
        return 0;
    }
    if (c == OPT_UNIXCTL) {
        free(unixctl_path);
        unixctl_path = strdup(arg);
        return unixctl_path ? 0 : -1;
    }
    return -1;
}

static void
cmd_exit(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    (void) argc;
    (void) argv;
    (void) aux;
    LOG_INFO("exit requested on the control socket");
    exiting = true;
    unixctl_reply(conn, "");
}

/* The operator's control socket.  A daemon without it still forwards, so
 * a failure is a warning.  Returns the server or NULL. */
static struct unixctl_server *
open_unixctl(const struct daemon_opts *opts, int epfd)
{
    char *path = unixctl_path ? strdup(unixctl_path)
                              : daemon_path(opts, "hvs-dpd.ctl");
    struct unixctl_server *server = NULL;
    int err;

    if (!path) {
        LOG_WARN("no control socket for ovs-appctl: out of memory");
        return NULL;
    }
    unixctl_command_register("exit", "", 0, 0, cmd_exit, NULL);
    appctl_register();
    tnl_appctl_register();
    err = unixctl_server_create(path, &server);
    if (err) {
        LOG_WARN("%s: no control socket for ovs-appctl: %s", path,
                 strerror(-err));
    } else {
        struct epoll_event ev = { .events = EPOLLIN,
                                  .data.ptr = &unixctl_tag };

        if (epoll_ctl(epfd, EPOLL_CTL_ADD, unixctl_server_fd(server),
                      &ev) < 0) {
            LOG_WARN("%s: cannot poll the control socket: %s", path,
                     strerror(errno));
            unixctl_server_destroy(server);
            server = NULL;
        }
    }
    free(path);
    return server;
}

static int
default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : n;
}

int
main(int argc, char *argv[])
{
    struct daemon_opts opts = { .program = "hvs-dpd" };
    struct epoll_event evs[32];
    int err, epfd, sfd, first;

    first = daemon_parse_args(&opts, argc, argv, extra_opts, "",
                              parse_extra, NULL,
                              "  --threads=N            forwarding "
                              "threads (default: one per CPU, at most "
                              "8)\n"
                              "  --kernel-cache[=on|off]  repeat "
                              "hvs-dpd's decisions in the kernel\n"
                              "                         (BPF at the "
                              "ports' tcx hook; default on)\n"
                              "  --unixctl=PATH         ovs-appctl "
                              "control socket (default "
                              "RUNDIR/hvs-dpd.ctl)\n");
    daemon_check_operands(&opts, argc, argv, first, 0);
    if (!n_fwd_threads) {
        n_fwd_threads = default_threads();
    }
    err = daemon_start(&opts);
    if (err) {
        return 1;
    }

    sfd = daemon_signals_open();
    urcu_memb_register_thread();
    if (kernel_cache) {
        kflow_init();
    }

    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event sev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &sev);

    char *sock = daemon_path(&opts, HVS_DATAPATH_SOCK);
    err = control_init(sock, epfd);
    if (err) {
        fprintf(stderr, "hvs-dpd: cannot listen on %s: %s\n", sock,
                strerror(-err));
        free(sock);
        daemon_finish(&opts);
        return 1;
    }
    err = netdev_monitor_init(epfd);
    if (err) {
        LOG_WARN("cannot watch host interfaces: %s", strerror(-err));
    }
    err = fwd_start(n_fwd_threads);
    if (err) {
        LOG_ERR("cannot start forwarding threads: %s", strerror(-err));
        control_destroy();
        free(sock);
        daemon_finish(&opts);
        return 1;
    }
    struct unixctl_server *unixctl = open_unixctl(&opts, epfd);
    LOG_INFO("hvs-dpd %s ready on %s", HVS_VERSION, sock);
    free(sock);
    daemon_ready(&opts);

    uint64_t next_sync = 0;
    while (!exiting) {
        int n = epoll_wait(epfd, evs, 32, 100);
        uint64_t now = time_msec();
        if (now >= next_sync) {
            /* The kernel's counters reach flows and ports within 1 s
             * even when nobody asks. */
            kflow_sync(true);
            next_sync = now + 1000;
        }
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) {
                exiting |= daemon_signals_run(sfd);
                continue;
            }
            if (evs[i].data.ptr == &unixctl_tag) {
                unixctl_server_run(unixctl);
            } else if (evs[i].data.ptr == netdev_monitor_tag()) {
                netdev_monitor_run();
            } else {
                control_handle_event(evs[i].data.ptr, evs[i].events);
            }
        }
        control_run();
    }

    unixctl_server_destroy(unixctl);
    free(unixctl_path);
    control_destroy();
    netdev_monitor_destroy();
    dp_destroy_all();
    fwd_stop();
    if (kflow_enabled()) {
        struct kflow_stats ks;
        kflow_get_stats(&ks);
        LOG_INFO("kernel flow cache: %"PRIu64" entries installed, %"PRIu64
                 " packets (%"PRIu64" bytes) forwarded in the kernel, "
                 "%"PRIu64" errors, %"PRIu64" not installed (full)",
                 ks.installed, ks.packets, ks.bytes, ks.errors, ks.full);
        kflow_exit();
    }
    urcu_memb_barrier();
    urcu_memb_unregister_thread();
    close(sfd);
    close(epfd);
    daemon_finish(&opts);
    log_close();
    return 0;
}
