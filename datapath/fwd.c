/* Forwarding threads: receive, classify, execute, send in batches. */
#include "fwd.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "datapath.h"
#include "flow-table.h"
#include "flow.h"
#include "kflow.h"
#include "log.h"
#include "meter.h"
#include "packet.h"
#include "timeval.h"
#include "tnl-pop.h"
#include "tnl-push.h"
#include "upcall.h"
#include "vport.h"

LOG_MODULE(fwd);

#define MAX_THREADS 64
/* Epoll handles: a slot index plus a generation, so that an event for a
 * vport deleted meanwhile is recognised and ignored. */
#define MAX_SLOTS 65536
/* Nesting of recirculation and execute-within-execute. */
#define MAX_DEPTH 8
/* Distinct egress ports buffered at once before an early flush. */
#define TXQ_PORTS 16

struct txq {
    struct vport *port;
    int n;
    struct dp_packet *pkts[VPORT_BATCH];
};

/* A batch's hits on one flow, added to the flow's counters once. */
struct flow_acc {
    struct dp_flow *flow;
    uint32_t packets;
    uint16_t tcp_flags;
    uint64_t bytes;
};
#define ACC_FLOWS 16

/* One pass of packets through the datapath: where outputs are buffered
 * and counters add up until the batch ends. */
struct fwd_ctx {
    struct datapath *dp;
    unsigned thread;
    int depth;
    struct txq txq[TXQ_PORTS];
    int n_txq;
    struct flow_acc acc[ACC_FLOWS];
    int n_acc;
    uint64_t now_ms;
    uint64_t n_hit, n_mask_hit, n_cache_hit;
    /* What happens to the packet in hand, for the kernel flow cache. */
    struct kflow_rec rec;
};

struct fwd_thread {
    pthread_t tid;
    unsigned index;
    int epfd;
    int stop_fd;
    struct flow_emc *emc;
};

static struct fwd_thread threads[MAX_THREADS];
static unsigned n_threads;
static atomic_bool stopping;
static struct vport *_Atomic slots[MAX_SLOTS];
static uint32_t slot_gen[MAX_SLOTS];
static unsigned next_thread;

/* ---- batched output ------------------------------------------------------ */

static void
txq_flush(struct fwd_ctx *ctx)
{
    for (int i = 0; i < ctx->n_txq; i++) {
        struct txq *q = &ctx->txq[i];
        if (q->n) {
            q->port->ops->send(q->port, q->pkts, q->n);
        }
        q->n = 0;
    }
    ctx->n_txq = 0;
}

static void do_recirc(void *aux, struct dp_packet *p);
static void queue_output(struct fwd_ctx *ctx, struct vport *v,
                         struct dp_packet *p);

/* Where the tunnel fast path sends a packet it encapsulated or
 * decapsulated: back into the datapath as if received on 'port_no' (a
 * fresh lookup, bounded by the recirculation depth), or out of it. */
static void
tnl_emit(void *aux, uint32_t port_no, struct dp_packet *p, bool inject)
{
    struct fwd_ctx *ctx = aux;
    uint8_t stage = ctx->rec.stage;
    struct vport *v;

    kflow_rec_tunnel(&ctx->rec, p, port_no, inject);
    ctx->rec.stage = 0;         /* what follows is the next hop's */
    if (inject) {
        p->md.in_port = port_no;
        p->md.recirc_id = 0;
        do_recirc(ctx, p);
    } else if ((v = dp_port(ctx->dp, port_no))) {
        queue_output(ctx, v, p);
    } else {
        dp_packet_free(p);
    }
    ctx->rec.stage = stage;
}

/* Before packet 'p' is encapsulated for tunnel vport 'v': what the
 * kernel flow cache must know of its route (the MTU that decides between
 * the fast path and the host stack's fragmentation). */
static void
rec_tunnel_prepare(struct fwd_ctx *ctx, const struct vport *v,
                   const struct dp_packet *p)
{
    const struct flow_tnl *tn = &p->md.tunnel;
    struct tnl_addr dst, src;
    struct tnl_nexthop nh;

    if (!ctx->rec.on) {
        return;
    }
    memset(&dst, 0, sizeof dst);
    memset(&src, 0, sizeof src);
    memcpy(dst.b, &tn->ipv4_dst, 4);
    memcpy(src.b, &tn->ipv4_src, 4);
    if (!tn->ipv4_dst || tnl_route_lookup(AF_INET, &dst, &src, &nh)
        || !nh.resolved || !nh.mtu) {
        kflow_rec_stop(&ctx->rec);
        return;
    }
    ctx->rec.mtu = nh.mtu;
    ctx->rec.route_ifindex = nh.ifindex;
    ctx->rec.tnl_port = v->port_no;
}

static void
do_output(void *aux, uint32_t port_no, struct dp_packet *p)
{
    struct fwd_ctx *ctx = aux;
    struct vport *v = dp_port(ctx->dp, port_no);

    if (!v) {
        dp_packet_free(p);
        return;
    }
    /* Tunnel fast path: a packet for a tunnel vport is encapsulated here
     * (tnl-push.h), a tunnel packet for a local VTEP on its way up an
     * internal port is decapsulated here (tnl-pop.h); both then go on
     * through tnl_emit() instead of crossing the host stack. */
    if (v->type != OVS_VPORT_TYPE_NETDEV) {
        bool push = v->type != OVS_VPORT_TYPE_INTERNAL;
        bool done;

        if (push) {
            rec_tunnel_prepare(ctx, v, p);
        } else {
            ctx->rec.route_ifindex = v->ifindex;    /* the VTEP's */
        }
        ctx->rec.stage = push ? KFLOW_S_PUSH : KFLOW_S_POP;
        done = push ? tnl_push_output(v, p, tnl_emit, ctx)
                    : tnl_pop_output(v, p, tnl_emit, ctx);
        ctx->rec.stage = 0;
        if (done) {
            return;
        }
        /* Up the host stack, or through a tunnel socket. */
        kflow_rec_stop(&ctx->rec);
    }
    queue_output(ctx, v, p);
}

static void
queue_output(struct fwd_ctx *ctx, struct vport *v, struct dp_packet *p)
{
    struct txq *q = NULL;

    kflow_rec_output(&ctx->rec, v);
    for (int i = 0; i < ctx->n_txq; i++) {
        if (ctx->txq[i].port == v) {
            q = &ctx->txq[i];
            break;
        }
    }
    if (!q) {
        if (ctx->n_txq == TXQ_PORTS) {
            txq_flush(ctx);
        }
        q = &ctx->txq[ctx->n_txq++];
        q->port = v;
        q->n = 0;
    }
    q->pkts[q->n++] = p;
    if (q->n == VPORT_BATCH) {
        v->ops->send(v, q->pkts, q->n);
        q->n = 0;
    }
}

static void
do_userspace(void *aux, const struct dp_packet *p, const struct flow_key *key,
             const struct nlattr *attr)
{
    struct fwd_ctx *ctx = aux;
    upcall_action(ctx->dp, p, key, attr);
}

static void process_packet(struct fwd_ctx *, struct dp_packet *,
                           struct flow_key *, struct flow_emc *);

static void
do_recirc(void *aux, struct dp_packet *p)
{
    struct fwd_ctx *ctx = aux;
    struct flow_key key;

    if (ctx->depth >= MAX_DEPTH) {
        static struct log_rl rl = LOG_RL_INIT(60, 5);
        LOG_RL(&rl, LOG_L_WARN, "%s: recirculation deeper than %d, "
               "packet dropped", ctx->dp->name, MAX_DEPTH);
        dp_packet_free(p);
        return;
    }
    ctx->depth++;
    flow_extract(p, &key);
    process_packet(ctx, p, &key, NULL);
    ctx->depth--;
}

static bool
do_meter(void *aux, uint32_t meter_id, const struct dp_packet *p)
{
    struct fwd_ctx *ctx = aux;

    return meter_execute(ctx->dp->meters, meter_id, p->len, ctx->now_ms);
}

static void
stats_flush(struct fwd_ctx *ctx)
{
    for (int i = 0; i < ctx->n_acc; i++) {
        struct flow_acc *a = &ctx->acc[i];
        flow_stats_hit(a->flow, a->packets, a->bytes, a->tcp_flags,
                       ctx->now_ms);
    }
    ctx->n_acc = 0;
    if (ctx->n_hit || ctx->n_mask_hit) {
        /* This slot has one writer: no read-modify-write needed. */
        struct dp_thread_stats *s = &ctx->dp->pt_stats[ctx->thread];
        atomic_store_explicit(&s->n_hit, atomic_load_explicit(
            &s->n_hit, memory_order_relaxed) + ctx->n_hit,
            memory_order_relaxed);
        atomic_store_explicit(&s->n_mask_hit, atomic_load_explicit(
            &s->n_mask_hit, memory_order_relaxed) + ctx->n_mask_hit,
            memory_order_relaxed);
        atomic_store_explicit(&s->n_cache_hit, atomic_load_explicit(
            &s->n_cache_hit, memory_order_relaxed) + ctx->n_cache_hit,
            memory_order_relaxed);
        ctx->n_hit = ctx->n_mask_hit = ctx->n_cache_hit = 0;
    }
}

static void
stats_hit(struct fwd_ctx *ctx, struct dp_flow *f, uint32_t bytes,
          uint16_t tcp_flags)
{
    /* Packets of a batch mostly hit one or a few flows: look back a
     * little, else start a new entry. */
    for (int i = ctx->n_acc; i-- > 0 && i >= ctx->n_acc - 4;) {
        struct flow_acc *a = &ctx->acc[i];
        if (a->flow == f) {
            a->packets++;
            a->bytes += bytes;
            a->tcp_flags |= tcp_flags;
            return;
        }
    }
    if (ctx->n_acc == ACC_FLOWS) {
        stats_flush(ctx);
    }
    ctx->acc[ctx->n_acc++] = (struct flow_acc) { f, 1, tcp_flags, bytes };
}

/* The recirc action: the kernel flow cache does not follow it. */
static void
act_recirc(void *aux, struct dp_packet *p)
{
    struct fwd_ctx *ctx = aux;

    kflow_rec_stop(&ctx->rec);
    do_recirc(aux, p);
}

static const struct act_ops fwd_act_ops = {
    .output = do_output,
    .userspace = do_userspace,
    .recirc = act_recirc,
    .meter = do_meter,
};

/* Looks 'p' up and executes its flow, or sends it up as a miss.  Takes
 * ownership of 'p'.  Inside rcu_read_lock(). */
static void
process_packet(struct fwd_ctx *ctx, struct dp_packet *p,
               struct flow_key *key, struct flow_emc *emc)
{
    struct datapath *dp = ctx->dp;
    uint32_t n_mask_hit = 0;
    bool emc_hit = false;
    struct dp_flow *f;

    f = emc ? flow_table_lookup_cached(dp->table, emc, key, &n_mask_hit,
                                       &emc_hit)
            : flow_table_lookup(dp->table, key, &n_mask_hit);
    ctx->n_mask_hit += n_mask_hit;
    if (!f) {
        kflow_rec_stop(&ctx->rec);
        upcall_miss(dp, p, key, ctx->thread);
        dp_packet_free(p);
        return;
    }
    ctx->n_cache_hit += emc_hit;
    ctx->n_hit++;
    stats_hit(ctx, f, p->len, ntohs(key->tcp_flags));

    const struct dp_actions *acts =
        atomic_load_explicit(&f->acts, memory_order_consume);
    kflow_rec_flow(&ctx->rec, f, acts, ntohs(key->tcp_flags));
    if (!acts) {
        dp_packet_free(p);
        return;
    }
    act_execute(&fwd_act_ops, ctx, p, key, acts->attrs, acts->len);
}

/* ---- the thread loop ------------------------------------------------------ */

static void
poll_port(struct fwd_thread *t, struct vport *v)
{
    struct dp_packet *pkts[VPORT_BATCH];
    struct flow_key keys[VPORT_BATCH];
    struct fwd_ctx ctx = { .dp = v->dp, .thread = t->index,
                           .now_ms = time_msec_coarse() };

    /* Drain the port in batches, but give other ports a turn. */
    for (int round = 0; round < 8; round++) {
        int n = v->ops->recv(v, pkts, VPORT_BATCH);
        if (n <= 0) {
            break;
        }
        for (int i = 0; i < n; i++) {
            pkts[i]->md.in_port = v->port_no;
            flow_extract(pkts[i], &keys[i]);
        }
        for (int i = 0; i < n; i++) {
            kflow_rec_start(&ctx.rec, v, pkts[i]);
            process_packet(&ctx, pkts[i], &keys[i], t->emc);
            kflow_rec_finish(&ctx.rec);
        }
        txq_flush(&ctx);
        stats_flush(&ctx);
        if (n < VPORT_BATCH) {
            break;
        }
    }
}

static void *
thread_main(void *arg)
{
    struct fwd_thread *t = arg;
    struct epoll_event evs[64];
    char name[16];

    snprintf(name, sizeof name, "hvs-fwd%u", t->index);
    pthread_setname_np(pthread_self(), name);
    urcu_memb_register_thread();
    t->emc = flow_emc_create();

    while (!atomic_load(&stopping)) {
        int n = epoll_wait(t->epfd, evs, 64, 1000);
        if (n < 0 && errno != EINTR) {
            LOG_ERR("epoll_wait: %s", strerror(errno));
            break;
        }
        urcu_memb_read_lock();
        for (int i = 0; i < n; i++) {
            uint64_t h = evs[i].data.u64;
            uint32_t slot = h & 0xffffffff, gen = h >> 32;
            if (slot >= MAX_SLOTS) {
                continue;       /* the stop eventfd */
            }
            struct vport *v = atomic_load_explicit(&slots[slot],
                                                   memory_order_acquire);
            if (v && __atomic_load_n(&slot_gen[slot], __ATOMIC_ACQUIRE)
                     == gen) {
                poll_port(t, v);
            }
        }
        urcu_memb_read_unlock();
    }
    flow_emc_destroy(t->emc);
    urcu_memb_unregister_thread();
    return NULL;
}

int
fwd_start(unsigned n)
{
    if (n == 0 || n > MAX_THREADS) {
        return -EINVAL;
    }
    atomic_store(&stopping, false);
    for (unsigned i = 0; i < n; i++) {
        struct fwd_thread *t = &threads[i];
        t->index = i;
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (t->epfd < 0 || t->stop_fd < 0) {
            return -errno;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT32_MAX };
        epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stop_fd, &ev);
        int err = pthread_create(&t->tid, NULL, thread_main, t);
        if (err) {
            return -err;
        }
        n_threads = i + 1;
    }
    LOG_INFO("%u forwarding thread%s", n, n == 1 ? "" : "s");
    return 0;
}

void
fwd_stop(void)
{
    atomic_store(&stopping, true);
    for (unsigned i = 0; i < n_threads; i++) {
        uint64_t one = 1;
        if (write(threads[i].stop_fd, &one, sizeof one) < 0) {
            LOG_WARN("waking forwarding thread %u: %s", i, strerror(errno));
        }
    }
    for (unsigned i = 0; i < n_threads; i++) {
        pthread_join(threads[i].tid, NULL);
        close(threads[i].epfd);
        close(threads[i].stop_fd);
    }
    n_threads = 0;
}

unsigned
fwd_n_threads(void)
{
    return n_threads;
}

int
fwd_add_port(struct vport *v)
{
    uint32_t slot;

    if (v->fd < 0 || !n_threads) {
        v->fwd_slot = UINT32_MAX;
        return 0;
    }
    for (slot = 0; slot < MAX_SLOTS; slot++) {
        if (!atomic_load(&slots[slot])) {
            break;
        }
    }
    if (slot == MAX_SLOTS) {
        return -ENOSPC;
    }
    uint32_t gen = slot_gen[slot] + 1;
    __atomic_store_n(&slot_gen[slot], gen, __ATOMIC_RELEASE);
    atomic_store_explicit(&slots[slot], v, memory_order_release);
    v->fwd_slot = slot;
    v->fwd_thread = next_thread++ % n_threads;

    struct epoll_event ev = {
        .events = EPOLLIN,
        .data.u64 = ((uint64_t) gen << 32) | slot,
    };
    if (epoll_ctl(threads[v->fwd_thread].epfd, EPOLL_CTL_ADD, v->fd, &ev)) {
        int err = -errno;
        atomic_store(&slots[slot], NULL);
        v->fwd_slot = UINT32_MAX;
        return err;
    }
    return 0;
}

void
fwd_del_port(struct vport *v)
{
    if (v->fwd_slot == UINT32_MAX) {
        return;
    }
    epoll_ctl(threads[v->fwd_thread].epfd, EPOLL_CTL_DEL, v->fd, NULL);
    atomic_store_explicit(&slots[v->fwd_slot], NULL, memory_order_release);
    v->fwd_slot = UINT32_MAX;
}

void
fwd_execute(struct datapath *dp, struct dp_packet *p, struct flow_key *key,
            const struct dp_actions *acts)
{
    struct fwd_ctx ctx = { .dp = dp, .thread = DP_STAT_SLOTS - 1,
                           .now_ms = time_msec_coarse() };

    act_execute(&fwd_act_ops, &ctx, p, key, acts->attrs, acts->len);
    txq_flush(&ctx);
    stats_flush(&ctx);
}
