/* Handler threads and the revalidator (see upcall.h). */
#include "upcall.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dpif.h"
#include "flow-netlink.h"
#include "hash.h"
#include "log.h"
#include "mac-learning.h"
#include "ofconn.h"
#include "ofproto.h"
#include "timeval.h"
#include "xlate.h"

LOG_MODULE(upcall);

#define MAX_HANDLERS 16
#define UPCALL_BUF (96 * 1024)
#define REVALIDATE_MS 500

struct handler {
    pthread_t tid;
    unsigned index;
    struct dpif *txn;           /* this thread's transaction socket */
};

static struct dpif *main_dpif;
static struct handler handlers[MAX_HANDLERS];
static unsigned n_handlers;
static pthread_t revalidator_tid;
static struct dpif *reval_dpif;     /* dumps flows */
static struct dpif *reval_txn;      /* changes them, during the dump */
static int wake_fd = -1;
static atomic_bool exiting;
static _Atomic uint32_t max_idle_ms = 10000;

static struct {
    _Atomic uint64_t upcalls, flows_added, flows_deleted, flows_modified;
    _Atomic uint64_t lost, handler_errors, dump_duration_ms;
    _Atomic uint32_t n_flows;
} stats;

/* UFIDs are derived from the megaflow itself, so that two handlers that
 * race on the same miss name the same flow (the second gets EEXIST). */
static void
make_ufid(const struct flow_key *masked, const struct flow_key *mask,
          uint8_t ufid[16])
{
    for (int i = 0; i < 4; i++) {
        uint32_t h = hash_bytes(masked, sizeof *masked, 0x9e3779b9u * (i + 1));
        h = hash_add(h, hash_bytes(mask, sizeof *mask, i));
        h = hash_finish(h, 16);
        memcpy(ufid + 4 * i, &h, 4);
    }
}

void
udpif_revalidate(void)
{
    uint64_t one = 1;
    if (wake_fd >= 0 && write(wake_fd, &one, sizeof one) < 0) {
        LOG_DBG("waking the revalidator: %s", strerror(errno));
    }
}

/* An action upcall: a packet that a userspace() action sent up.  Ours
 * carry a controller cookie; the packet-in is built in the main thread. */
static void
handle_action_upcall(const struct dpif_upcall *u)
{
    struct xlate_pin_cookie ck;

    if (!u->userdata
        || mnl_attr_get_payload_len(u->userdata) != sizeof ck) {
        return;
    }
    memcpy(&ck, mnl_attr_get_payload(u->userdata), sizeof ck);
    if (ck.kind != XLATE_COOKIE_CONTROLLER) {
        return;
    }
    ck.bridge[sizeof ck.bridge - 1] = '\0';
    ofconn_queue_packet_in(&ck, u->packet, u->len);
}

static void
handle_upcall(struct handler *h, struct dpif_upcall *u)
{
    static struct log_rl rl = LOG_RL_INIT(60, 10);
    struct xlate_out *xo;

    if (u->cmd == OVS_PACKET_CMD_ACTION) {
        handle_action_upcall(u);
        return;
    }
    xo = malloc(sizeof *xo);
    struct flow_key masked;
    uint8_t ufid[16];
    int err;

    if (!xo) {
        return;
    }
    pthread_rwlock_rdlock(&xlate_lock);
    xlate_upcall(xlate_cfg, &u->key, u->len, time_msec() / 1000, xo);
    pthread_rwlock_unlock(&xlate_lock);

    if (u->cmd == OVS_PACKET_CMD_MISS) {
        fnl_normalize_mask(&u->key, &xo->mask);
        flow_key_mask(&masked, &u->key, &xo->mask);
        make_ufid(&masked, &xo->mask, ufid);
        err = dpif_flow_put(h->txn, ufid, &masked, &xo->mask, xo->actions,
                            xo->actions_len, DPIF_FP_CREATE, NULL);
        if (!err) {
            atomic_fetch_add(&stats.flows_added, 1);
        } else if (err != -EEXIST) {
            atomic_fetch_add(&stats.handler_errors, 1);
            LOG_RL(&rl, LOG_L_WARN, "cannot install flow: %s",
                   strerror(-err));
        }
    }
    if (xo->actions_len) {
        err = dpif_execute(h->txn, u->key_attr, u->packet, u->len,
                           xo->actions, xo->actions_len);
        if (err) {
            LOG_RL(&rl, LOG_L_WARN, "cannot execute a packet: %s",
                   strerror(-err));
        }
    }
    if (xo->mac_moved) {
        udpif_revalidate();
    }
    free(xo);
}

static void *
handler_main(void *arg)
{
    struct handler *h = arg;
    void *buf = malloc(UPCALL_BUF);
    struct pollfd pfd = { dpif_handler_fd(main_dpif, h->index), POLLIN, 0 };
    char name[16];

    snprintf(name, sizeof name, "handler%u", h->index);
    pthread_setname_np(pthread_self(), name);
    while (buf && !atomic_load(&exiting)) {
        if (poll(&pfd, 1, 500) <= 0) {
            continue;
        }
        for (int i = 0; i < 64; i++) {
            struct dpif_upcall u;
            int err = dpif_recv(main_dpif, h->index, &u, buf, UPCALL_BUF);
            if (err == -EAGAIN) {
                break;
            }
            if (err == -ENOBUFS) {
                atomic_fetch_add(&stats.lost, 1);
                continue;
            }
            if (err) {
                LOG_WARN("handler %u: receive: %s", h->index, strerror(-err));
                break;
            }
            atomic_fetch_add(&stats.upcalls, 1);
            handle_upcall(h, &u);
        }
    }
    free(buf);
    return NULL;
}

/* ---- revalidator ---------------------------------------------------------- */

/* When each flow without a 'used' time was first seen, so that flows
 * that never carry a packet still expire.  A small open hash by UFID. */
struct seen {
    uint8_t ufid[16];
    uint64_t first_ms;
    uint64_t pass;
    uint64_t packets, bytes;    /* already credited to OpenFlow rules */
};

static struct seen *seen;
static size_t n_seen_slots;
static uint64_t pass_no;

static struct seen *
seen_get(const uint8_t ufid[16])
{
    if (!seen) {
        n_seen_slots = 1 << 16;
        seen = calloc(n_seen_slots, sizeof *seen);
        if (!seen) {
            return NULL;
        }
    }
    uint32_t h = hash_bytes(ufid, 16, 0);
    for (size_t i = 0; i < 16; i++) {
        struct seen *s = &seen[(h + i) & (n_seen_slots - 1)];
        if (!memcmp(s->ufid, ufid, 16) || s->pass + 2 < pass_no
            || !s->first_ms) {
            if (memcmp(s->ufid, ufid, 16) || !s->first_ms) {
                memcpy(s->ufid, ufid, 16);
                s->first_ms = time_msec();
            }
            s->pass = pass_no;
            return s;
        }
    }
    return NULL;
}

struct reval_ctx {
    uint64_t now;
    uint32_t n;
    struct xlate_out xo;
};

static int
revalidate_flow(const struct dpif_flow *f, void *aux)
{
    struct reval_ctx *ctx = aux;

    ctx->n++;
    if (!f->has_ufid) {
        return 0;
    }
    uint64_t last = f->stats.used;
    if (!last) {
        struct seen *s = seen_get(f->ufid);
        last = s ? s->first_ms : ctx->now;
    }
    bool del = ctx->now > last && ctx->now - last > atomic_load(&max_idle_ms);
    if (!del) {
        /* New packets since the last pass go to the OpenFlow rules the
         * flow's translation hits (credited before the real translation,
         * which 'xo' must hold below). */
        struct seen *s = seen_get(f->ufid);
        pthread_rwlock_rdlock(&xlate_lock);
        if (s && f->stats.packets > s->packets) {
            xlate_credit(xlate_cfg, &f->key, f->stats.packets - s->packets,
                         f->stats.bytes - s->bytes,
                         f->stats.used ? f->stats.used : ctx->now,
                         f->stats.tcp_flags, &ctx->xo);
        }
        xlate(xlate_cfg, &f->key, false, ctx->now / 1000, &ctx->xo);
        pthread_rwlock_unlock(&xlate_lock);
        if (s) {
            s->packets = f->stats.packets;
            s->bytes = f->stats.bytes;
        }
        fnl_normalize_mask(&f->key, &ctx->xo.mask);
        if (memcmp(&ctx->xo.mask, &f->mask, sizeof f->mask)) {
            del = true;         /* the decision now needs other fields */
        } else if (ctx->xo.actions_len != f->actions_len
                   || memcmp(ctx->xo.actions, f->actions, f->actions_len)) {
            if (!dpif_flow_put(reval_txn, f->ufid, &f->key, &f->mask,
                               ctx->xo.actions, ctx->xo.actions_len,
                               DPIF_FP_MODIFY, NULL)) {
                atomic_fetch_add(&stats.flows_modified, 1);
            }
        }
    }
    if (del && !dpif_flow_del(reval_txn, f->ufid, NULL)) {
        atomic_fetch_add(&stats.flows_deleted, 1);
    }
    return 0;
}

static void
expire_macs(uint64_t now_s)
{
    bool changed = false;

    pthread_rwlock_rdlock(&xlate_lock);
    for (unsigned i = 0; xlate_cfg && i < xlate_cfg->n_bridges; i++) {
        changed |= mac_table_expire(xlate_cfg->bridges[i]->macs, now_s) > 0;
    }
    pthread_rwlock_unlock(&xlate_lock);
    (void) changed;             /* the pass below revalidates anyway */
}

static void *
revalidator_main(void *arg)
{
    struct reval_ctx *ctx = malloc(sizeof *ctx);
    struct pollfd pfd = { wake_fd, POLLIN, 0 };

    (void) arg;
    pthread_setname_np(pthread_self(), "revalidator");
    while (ctx && !atomic_load(&exiting)) {
        if (poll(&pfd, 1, REVALIDATE_MS) > 0) {
            uint64_t v;
            if (read(wake_fd, &v, sizeof v) < 0) {
                LOG_DBG("revalidator wakeup: %s", strerror(errno));
            }
        }
        if (atomic_load(&exiting)) {
            break;
        }
        uint64_t start = time_msec();
        ctx->now = start;
        ctx->n = 0;
        pass_no++;
        expire_macs(start / 1000);
        int err = dpif_flow_dump(reval_dpif, revalidate_flow, ctx);
        if (err) {
            LOG_WARN("flow dump failed: %s", strerror(-err));
        }
        atomic_store(&stats.n_flows, ctx->n);
        atomic_store(&stats.dump_duration_ms, time_msec() - start);
    }
    free(ctx);
    return NULL;
}

int
udpif_start(struct dpif *dpif, unsigned n)
{
    int err;

    if (n == 0 || n > MAX_HANDLERS) {
        return -EINVAL;
    }
    main_dpif = dpif;
    atomic_store(&exiting, false);
    err = dpif_handlers_set(dpif, n);
    if (err) {
        return err;
    }
    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    err = dpif_clone(dpif, &reval_dpif);
    if (!err) {
        err = dpif_clone(dpif, &reval_txn);
    }
    if (wake_fd < 0 || err) {
        return wake_fd < 0 ? -errno : err;
    }
    for (unsigned i = 0; i < n; i++) {
        handlers[i].index = i;
        err = dpif_clone(dpif, &handlers[i].txn);
        if (err) {
            return err;
        }
        err = -pthread_create(&handlers[i].tid, NULL, handler_main,
                              &handlers[i]);
        if (err) {
            dpif_close(handlers[i].txn);
            return err;
        }
        n_handlers = i + 1;
    }
    err = -pthread_create(&revalidator_tid, NULL, revalidator_main, NULL);
    if (err) {
        return err;
    }
    LOG_INFO("%u handler thread%s and a revalidator", n, n == 1 ? "" : "s");
    return 0;
}

void
udpif_stop(void)
{
    atomic_store(&exiting, true);
    udpif_revalidate();
    for (unsigned i = 0; i < n_handlers; i++) {
        pthread_join(handlers[i].tid, NULL);
        dpif_close(handlers[i].txn);
    }
    n_handlers = 0;
    if (reval_dpif) {
        pthread_join(revalidator_tid, NULL);
        dpif_close(reval_dpif);
        dpif_close(reval_txn);
        reval_dpif = reval_txn = NULL;
    }
    if (wake_fd >= 0) {
        close(wake_fd);
        wake_fd = -1;
    }
    free(seen);
    seen = NULL;
}

void
udpif_set_max_idle(uint32_t ms)
{
    atomic_store(&max_idle_ms, ms ? ms : 10000);
}

unsigned
udpif_n_handlers(void)
{
    return n_handlers;
}

void
udpif_get_stats(struct upcall_stats *s)
{
    s->upcalls = atomic_load(&stats.upcalls);
    s->flows_added = atomic_load(&stats.flows_added);
    s->flows_deleted = atomic_load(&stats.flows_deleted);
    s->flows_modified = atomic_load(&stats.flows_modified);
    s->lost = atomic_load(&stats.lost);
    s->handler_errors = atomic_load(&stats.handler_errors);
    s->dump_duration_ms = atomic_load(&stats.dump_duration_ms);
    s->n_flows = atomic_load(&stats.n_flows);
    s->max_idle_ms = atomic_load(&max_idle_ms);
}
