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

#include "control.h"
#include "daemon.h"
#include "datapath.h"
#include "fwd.h"
#include "hvs/dp-ext.h"
#include "kflow.h"
#include "log.h"
#include "netdev-monitor.h"
#include "timeval.h"

LOG_MODULE(dpd);

enum { OPT_THREADS = 1000, OPT_KERNEL_CACHE };

static const struct option extra_opts[] = {
    { "threads", required_argument, NULL, OPT_THREADS },
    { "kernel-cache", optional_argument, NULL, OPT_KERNEL_CACHE },
    { NULL, 0, NULL, 0 },
};

static unsigned n_fwd_threads;
static bool kernel_cache;

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
    return -1;
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
    int err, epfd, sfd;

    daemon_parse_args(&opts, argc, argv, extra_opts, "", parse_extra, NULL,
                      "  --threads=N            forwarding threads "
                      "(default: one per CPU, at most 8)\n"
                      "  --kernel-cache[=on|off]  repeat hvs-dpd's "
                      "decisions in the kernel\n"
                      "                         (BPF at the ports' tcx "
                      "hook; default off)\n");
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
    LOG_INFO("hvs-dpd %s ready on %s", HVS_VERSION, sock);
    free(sock);
    daemon_ready(&opts);

    uint64_t next_sync = 0;
    for (bool running = true; running;) {
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
                running = !daemon_signals_run(sfd);
                continue;
            }
            if (evs[i].data.ptr == netdev_monitor_tag()) {
                netdev_monitor_run();
            } else {
                control_handle_event(evs[i].data.ptr, evs[i].events);
            }
        }
        control_run();
    }

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
