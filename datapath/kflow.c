/* The kernel flow cache: loading the BPF programs, the entries hvs-dpd
 * installs, their invalidation and their counters.  See kflow.h. */
#include "kflow.h"

#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#ifdef HVS_HAVE_LIBBPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#endif

#include "actions.h"
#include "datapath.h"
#include "flow-table.h"
#include "log.h"
#include "packet.h"
#include "timeval.h"
#include "tnl-route.h"
#include "vport.h"

LOG_MODULE(kflow);

/* As in <linux/bpf.h> of Linux 6.6 and later (tcx). */
#define TCX_INGRESS_ATTACH_TYPE 46

/* An entry whose counters did not move for this long is dropped. */
#define KFLOW_IDLE_MS 10000
/* kflow_sync() without 'force' does nothing this soon after the last. */
#define KFLOW_SYNC_MIN_MS 2

_Atomic uint16_t kflow_tnl_ports[KFLOW_TNL_PORTS];

/* One installed entry, and its links into the lists of the megaflows it
 * came from (dp_flow.kflow_head): a link names an entry and which of its
 * flows, as idx * KFLOW_REC_FLOWS + slot + 1, 0 for none. */
struct klink {
    uint32_t next, prev;
};

struct kent {
    bool used;
    uint32_t gen;               /* of the entry in this slot (kflow_val) */
    uint8_t action;
    uint8_t n_flows;
    struct kflow_key key;
    struct datapath *dp;
    struct dp_flow *flows[KFLOW_REC_FLOWS];
    int32_t flow_adj[KFLOW_REC_FLOWS];
    uint16_t flow_tcp_flags[KFLOW_REC_FLOWS];
    struct klink link[KFLOW_REC_FLOWS];
    uint32_t in_port, out_port, tnl_port;
    int route_ifindex;          /* ENCAP: the route's egress; DECAP: the
                                 * interface with the VTEP address */
    uint32_t mtu;               /* ENCAP: the route's MTU */
    uint8_t hdr[KFLOW_VXLAN_OUTER_LEN];  /* ENCAP: what the kernel has */
    uint64_t packets, bytes, errors;    /* already added */
    uint64_t active_ms;         /* when its counters last moved */
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static struct kent *ents;       /* [KFLOW_MAX], guarded by 'mutex' */
static uint32_t *free_idx;      /* stack of free entries */
static uint32_t n_free;
static uint32_t hi;             /* entries below this were ever used */
static _Atomic uint32_t tnl_gen;
static _Atomic bool enabled;
static int table_fd = -1, tnl_table_fd = -1, acts_fd = -1, ports_fd = -1;
static int sock_prog_fd = -1, tc_prog_fd = -1;
static uint64_t last_sync_ms;
static struct kflow_stats stats;        /* under 'mutex' */

#ifdef HVS_HAVE_LIBBPF
extern const unsigned char hvs_kflow_bpf_obj[];
extern const size_t hvs_kflow_bpf_obj_len;
static struct bpf_object *obj;
#endif

bool
kflow_enabled(void)
{
    return atomic_load_explicit(&enabled, memory_order_relaxed);
}

/* ---- loading ------------------------------------------------------------ */

#ifdef HVS_HAVE_LIBBPF
/* libbpf hands us its own format strings. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    char buf[512];

    if (level == LIBBPF_DEBUG) {
        return 0;
    }
    vsnprintf(buf, sizeof buf, fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    LOG_DBG("libbpf: %s", buf);
    return 0;
}
#pragma GCC diagnostic pop

static int
load(const char **what)
{
    struct bpf_program *tc;
    int err;

    libbpf_set_print(libbpf_print);
    obj = bpf_object__open_mem(hvs_kflow_bpf_obj, hvs_kflow_bpf_obj_len,
                               NULL);
    if (!obj) {
        *what = "cannot open the BPF object";
        return -errno ? -errno : -EINVAL;
    }
    tc = bpf_object__find_program_by_name(obj, "kflow_tc");
    if (!tc) {
        *what = "BPF object without kflow_tc";
        return -ENOENT;
    }
    bpf_program__set_expected_attach_type(tc, TCX_INGRESS_ATTACH_TYPE);
    err = bpf_object__load(obj);
    if (err) {
        *what = "the kernel refused the BPF programs";
        return err < 0 ? err : -EINVAL;
    }
    tc_prog_fd = bpf_program__fd(tc);
    sock_prog_fd = bpf_program__fd(
        bpf_object__find_program_by_name(obj, "kflow_sock"));
    table_fd = bpf_object__find_map_fd_by_name(obj, "kflow_table");
    tnl_table_fd = bpf_object__find_map_fd_by_name(obj, "kflow_tnl_table");
    acts_fd = bpf_object__find_map_fd_by_name(obj, "kflow_acts");
    ports_fd = bpf_object__find_map_fd_by_name(obj, "kflow_ports");
    if (tc_prog_fd < 0 || sock_prog_fd < 0 || table_fd < 0
        || tnl_table_fd < 0 || acts_fd < 0 || ports_fd < 0) {
        *what = "BPF object incomplete";
        return -ENOENT;
    }
    return 0;
}

static void
unload(void)
{
    bpf_object__close(obj);
    obj = NULL;
    table_fd = tnl_table_fd = acts_fd = ports_fd = -1;
    sock_prog_fd = tc_prog_fd = -1;
}

static int
map_update(int fd, const void *key, const void *val, uint64_t flags)
{
    return bpf_map_update_elem(fd, key, val, flags) ? -errno : 0;
}

static int
map_delete(int fd, const void *key)
{
    return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

static int
map_lookup(int fd, const void *key, void *val)
{
    return bpf_map_lookup_elem(fd, key, val) ? -errno : 0;
}
#else
static int
load(const char **what)
{
    *what = "hvs was built without libbpf";
    return -EOPNOTSUPP;
}

static void unload(void) {}

static int
map_update(int fd, const void *key, const void *val, uint64_t flags)
{
    (void) fd; (void) key; (void) val; (void) flags;
    return -EOPNOTSUPP;
}

static int
map_delete(int fd, const void *key)
{
    (void) fd; (void) key;
    return -EOPNOTSUPP;
}

static int
map_lookup(int fd, const void *key, void *val)
{
    (void) fd; (void) key; (void) val;
    return -EOPNOTSUPP;
}
#endif

int
kflow_init(void)
{
    const char *what = "";
    int err;

    ents = calloc(KFLOW_MAX, sizeof *ents);
    free_idx = malloc(KFLOW_MAX * sizeof *free_idx);
    if (!ents || !free_idx) {
        free(ents);
        free(free_idx);
        ents = NULL;
        free_idx = NULL;
        LOG_WARN("kernel flow cache off: out of memory");
        return -ENOMEM;
    }
    n_free = 0;
    hi = 0;
    err = load(&what);
    if (err) {
        LOG_WARN("kernel flow cache off: %s (%s)", what, strerror(-err));
        unload();
        free(ents);
        free(free_idx);
        ents = NULL;
        free_idx = NULL;
        return err;
    }
    atomic_store(&enabled, true);
    LOG_INFO("kernel flow cache on (%d entries)", KFLOW_MAX);
    return 0;
}

void
kflow_exit(void)
{
    if (!kflow_enabled()) {
        return;
    }
    kflow_flush();
    atomic_store(&enabled, false);
    unload();
    free(ents);
    free(free_idx);
    ents = NULL;
    free_idx = NULL;
}

int
kflow_port_attach(struct vport *v, int sock)
{
    union bpf_attr a;
    int fd;

    if (!kflow_enabled()) {
        return -EOPNOTSUPP;
    }
    if (setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &sock_prog_fd,
                   sizeof sock_prog_fd)) {
        int err = -errno;
        LOG_WARN("%s: cannot attach the kernel flow cache to the port's "
                 "socket: %s", v->name, strerror(-err));
        return err;
    }
    memset(&a, 0, sizeof a);
    a.link_create.prog_fd = tc_prog_fd;
    a.link_create.target_ifindex = v->ifindex;
    a.link_create.attach_type = TCX_INGRESS_ATTACH_TYPE;
    fd = (int) syscall(SYS_bpf, BPF_LINK_CREATE, &a, sizeof a);
    if (fd < 0) {
        int err = -errno;
        int none = 0;
        setsockopt(sock, SOL_SOCKET, SO_DETACH_BPF, &none, sizeof none);
        LOG_WARN("%s: cannot attach the kernel flow cache (tcx: %s)",
                 v->name, strerror(-err));
        return err;
    }
    LOG_DBG("%s: kernel flow cache attached", v->name);
    return fd;
}

/* ---- tunnel ports ------------------------------------------------------- */

void
kflow_tnl_port_add(uint16_t port)
{
    uint16_t be = htons(port);
    uint8_t one = 1;

    if (!kflow_enabled() || !port) {
        return;
    }
    pthread_mutex_lock(&mutex);
    int free_slot = -1;
    bool have = false;
    for (int i = 0; i < KFLOW_TNL_PORTS; i++) {
        uint16_t p = atomic_load(&kflow_tnl_ports[i]);
        have |= p == be;
        if (!p && free_slot < 0) {
            free_slot = i;
        }
    }
    /* Several vports may share a port: the slot is kept per vport. */
    if (free_slot >= 0) {
        atomic_store(&kflow_tnl_ports[free_slot], be);
        if (!have) {
            map_update(ports_fd, &be, &one, BPF_ANY);
        }
    } else {
        LOG_WARN("UDP port %u: too many tunnel ports for the kernel flow "
                 "cache; its packets stay in hvs-dpd", port);
    }
    pthread_mutex_unlock(&mutex);
}

void
kflow_tnl_port_del(uint16_t port)
{
    uint16_t be = htons(port);
    int n = 0;

    if (!kflow_enabled() || !port) {
        return;
    }
    pthread_mutex_lock(&mutex);
    for (int i = 0; i < KFLOW_TNL_PORTS; i++) {
        if (atomic_load(&kflow_tnl_ports[i]) == be) {
            if (!n++) {
                atomic_store(&kflow_tnl_ports[i], 0);
            }
        }
    }
    if (n == 1) {
        map_delete(ports_fd, &be);
    }
    pthread_mutex_unlock(&mutex);
}

/* ---- entries ------------------------------------------------------------ */

static struct klink *
link_at(uint32_t code)
{
    uint32_t c = code - 1;
    return &ents[c / KFLOW_REC_FLOWS].link[c % KFLOW_REC_FLOWS];
}

static void
link_add(uint32_t idx, int slot)
{
    struct kent *e = &ents[idx];
    struct dp_flow *f = e->flows[slot];
    uint32_t code = idx * KFLOW_REC_FLOWS + (uint32_t) slot + 1;

    e->link[slot].prev = 0;
    e->link[slot].next = f->kflow_head;
    if (f->kflow_head) {
        link_at(f->kflow_head)->prev = code;
    }
    f->kflow_head = code;
}

static void
link_del(uint32_t idx, int slot)
{
    struct kent *e = &ents[idx];
    struct klink *l = &e->link[slot];

    if (l->prev) {
        link_at(l->prev)->next = l->next;
    } else {
        e->flows[slot]->kflow_head = l->next;
    }
    if (l->next) {
        link_at(l->next)->prev = l->prev;
    }
}

/* The kernel table that holds entries for key 'k'. */
static int
key_table(const struct kflow_key *k)
{
    return k->tnl_flags & KFLOW_T_INNER ? tnl_table_fd : table_fd;
}

/* Removes entry 'idx' from the kernel and from its flows' lists.  Its
 * kflow_acts slot is left as it is: a packet that the socket filter
 * matched a moment ago still finds what it was matched to. */
static void
ent_del(uint32_t idx)
{
    struct kent *e = &ents[idx];
    int err = map_delete(key_table(&e->key), &e->key);

    if (err && err != -ENOENT) {
        LOG_WARN("cannot remove a kernel flow cache entry: %s",
                 strerror(-err));
    }
    for (int i = 0; i < e->n_flows; i++) {
        /* The same flow may appear twice (a chain through one bridge);
         * it is linked once per slot all the same. */
        link_del(idx, i);
    }
    e->used = false;
    free_idx[n_free++] = idx;
    stats.entries--;
}

void
kflow_flow_gone(struct dp_flow *f, const char *why)
{
    if (!kflow_enabled()) {
        return;
    }
    pthread_mutex_lock(&mutex);
    if (f->kflow_head) {
        LOG_DBG("a flow was %s: removing its entries", why);
    }
    while (f->kflow_head) {
        uint32_t c = f->kflow_head - 1;
        ent_del(c / KFLOW_REC_FLOWS);
    }
    pthread_mutex_unlock(&mutex);
}

void
kflow_flush(void)
{
    if (!kflow_enabled()) {
        return;
    }
    pthread_mutex_lock(&mutex);
    for (uint32_t i = 0; i < hi; i++) {
        if (ents[i].used) {
            ent_del(i);
        }
    }
    atomic_fetch_add(&tnl_gen, 1);
    pthread_mutex_unlock(&mutex);
}

/* Under 'mutex' and an RCU read-side section: whether tunnel entry 'e'
 * is still what hvs-dpd would do with the host's tables as they are. */
static bool
tnl_ent_current(const struct kent *e)
{
    struct tnl_addr dst, src;
    struct tnl_nexthop nh;

    memset(&dst, 0, sizeof dst);
    memset(&src, 0, sizeof src);
    if (e->action == KFLOW_A_DECAP) {
        memcpy(dst.b, e->key.outer.dst, 4);
        return tnl_route_is_local(AF_INET, &dst, e->route_ifindex);
    }
    memcpy(src.b, e->hdr + 26, 4);
    memcpy(dst.b, e->hdr + 30, 4);
    return !tnl_route_lookup(AF_INET, &dst, &src, &nh)
           && nh.resolved && nh.ifindex == e->route_ifindex
           && nh.mtu >= e->mtu && !memcmp(nh.dst_mac, e->hdr, 6)
           && !memcmp(nh.src_mac, e->hdr + 6, 6)
           && !memcmp(nh.src.b, e->hdr + 26, 4);
}

void
kflow_tnl_changed(void)
{
    uint32_t n = 0;

    if (!kflow_enabled()) {
        return;
    }
    /* Neighbours change state all the time (reachable, stale, probed):
     * only entries whose outer headers or VTEP changed go. */
    pthread_mutex_lock(&mutex);
    atomic_fetch_add(&tnl_gen, 1);
    urcu_memb_read_lock();
    for (uint32_t i = 0; i < hi; i++) {
        if (ents[i].used && ents[i].action != KFLOW_A_OUTPUT
            && !tnl_ent_current(&ents[i])) {
            ent_del(i);
            n++;
        }
    }
    urcu_memb_read_unlock();
    pthread_mutex_unlock(&mutex);
    if (n) {
        LOG_DBG("host routes or neighbours changed: %"PRIu32" tunnel "
                "entries removed", n);
    }
}

/* ---- counters ----------------------------------------------------------- */

static void
add_port_stats(struct datapath *dp, uint32_t port_no, bool rx,
               uint64_t packets, uint64_t bytes)
{
    struct vport *v = dp_port(dp, port_no);

    if (!v) {
        return;
    }
    if (rx) {
        atomic_fetch_add_explicit(&v->stats.rx_packets, packets,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&v->stats.rx_bytes, bytes,
                                  memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&v->stats.tx_packets, packets,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&v->stats.tx_bytes, bytes,
                                  memory_order_relaxed);
    }
}

static void
ent_sync(uint32_t idx, uint64_t now)
{
    struct kent *e = &ents[idx];
    struct kflow_val val;

    if (map_lookup(acts_fd, &idx, &val) || val.gen != e->gen) {
        return;
    }
    uint64_t dp = val.packets - e->packets, db = val.bytes - e->bytes;
    stats.errors += val.errors - e->errors;
    e->errors = val.errors;
    if (!dp) {
        if (now - e->active_ms >= KFLOW_IDLE_MS) {
            ent_del(idx);
        }
        return;
    }
    e->packets = val.packets;
    e->bytes = val.bytes;
    e->active_ms = now;
    stats.packets += dp;
    stats.bytes += db;
    for (int i = 0; i < e->n_flows; i++) {
        int64_t b = (int64_t) db + e->flow_adj[i] * (int64_t) dp;
        flow_stats_hit(e->flows[i], (uint32_t) dp,
                       b > 0 ? (uint64_t) b : 0, e->flow_tcp_flags[i], now);
    }
    /* The lookups the kernel did on hvs-dpd's behalf. */
    struct dp_thread_stats *s = &e->dp->pt_stats[DP_STAT_SLOTS - 1];
    atomic_fetch_add_explicit(&s->n_hit, dp * e->n_flows,
                              memory_order_relaxed);
    add_port_stats(e->dp, e->in_port, true, dp, db);
    int32_t out_adj = e->flow_adj[e->n_flows - 1];
    int64_t ob = (int64_t) db + out_adj * (int64_t) dp;
    add_port_stats(e->dp, e->out_port, false, dp, ob > 0 ? (uint64_t) ob
                                                            : 0);
    if (e->action == KFLOW_A_ENCAP) {
        add_port_stats(e->dp, e->tnl_port, false, dp, db);
    } else if (e->action == KFLOW_A_DECAP) {
        add_port_stats(e->dp, e->tnl_port, true, dp, ob > 0 ? (uint64_t) ob
                                                             : 0);
    }
}

void
kflow_sync(bool force)
{
    if (!kflow_enabled()) {
        return;
    }
    uint64_t now = time_msec();
    pthread_mutex_lock(&mutex);
    if (force || now - last_sync_ms >= KFLOW_SYNC_MIN_MS) {
        last_sync_ms = now;
        for (uint32_t i = 0; i < hi; i++) {
            if (ents[i].used) {
                ent_sync(i, now);
            }
        }
    }
    pthread_mutex_unlock(&mutex);
}

void
kflow_get_stats(struct kflow_stats *out)
{
    pthread_mutex_lock(&mutex);
    *out = stats;
    pthread_mutex_unlock(&mutex);
}

/* ---- the recorder ------------------------------------------------------- */

void
kflow_rec_start(struct kflow_rec *r, struct vport *v,
                const struct dp_packet *p)
{
    struct kflow_buf b = { dp_packet_data(p), p->len };
    struct kflow_meta m;

    r->on = false;
    if (!v->kflow) {
        return;
    }
    memset(&r->key, 0, sizeof r->key);
    uint32_t gso = p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
                   ? (p->vnet.gso_size ? p->vnet.gso_size : 1) : 0;
    if (kflow_parse(&b, p->len, (unsigned int) v->ifindex, gso, &r->key,
                    &m)) {
        return;
    }
    r->on = true;
    r->stage = 0;
    r->action = 0;
    r->n_flows = 0;
    r->n_out = 0;
    r->adj = 0;
    r->orig_len = p->len;
    r->gen = atomic_load_explicit(&tnl_gen, memory_order_acquire);
    r->dp = v->dp;
    r->in_port = v->port_no;
    r->mtu = UINT32_MAX;
}

/* Whether the cache can repeat actions 'acts': outputs, and the tunnel
 * metadata an output to a tunnel port uses. */
static bool
acts_ok(const struct dp_actions *acts)
{
    const uint8_t *pos = acts->attrs;
    size_t left = acts->len;

    /* The actions were validated at install time: only their types are
     * looked at here. */
    while (left >= NLA_HDRLEN) {
        struct nlattr a, k;

        memcpy(&a, pos, sizeof a);
        if (a.nla_len < NLA_HDRLEN || a.nla_len > left) {
            return false;
        }
        switch (a.nla_type & NLA_TYPE_MASK) {
        case OVS_ACTION_ATTR_OUTPUT:
            break;
        case OVS_ACTION_ATTR_SET:
            if (a.nla_len < 2 * NLA_HDRLEN) {
                return false;
            }
            memcpy(&k, pos + NLA_HDRLEN, sizeof k);
            if ((k.nla_type & NLA_TYPE_MASK) != OVS_KEY_ATTR_TUNNEL) {
                return false;
            }
            break;
        default:
            return false;
        }
        size_t step = NLA_ALIGN(a.nla_len);
        if (step >= left) {
            break;
        }
        pos += step;
        left -= step;
    }
    return true;
}

void
kflow_rec_flow(struct kflow_rec *r, struct dp_flow *f,
               const struct dp_actions *acts, uint16_t tcp_flags)
{
    if (!r->on) {
        return;
    }
    if (r->n_flows == KFLOW_REC_FLOWS || !acts || !acts_ok(acts)) {
        r->on = false;
        return;
    }
    r->flows[r->n_flows] = f;
    r->acts[r->n_flows] = acts;
    r->flow_adj[r->n_flows] = r->adj;
    r->flow_tcp_flags[r->n_flows] = tcp_flags;
    r->n_flows++;
}

void
kflow_rec_output(struct kflow_rec *r, const struct vport *v)
{
    if (!r->on) {
        return;
    }
    if (r->n_out++ || v->type != OVS_VPORT_TYPE_NETDEV || v->ifindex <= 0) {
        r->on = false;
        return;
    }
    r->out_port = v->port_no;
    r->out_ifindex = v->ifindex;
    if (r->action == KFLOW_A_ENCAP && v->mtu && v->mtu < r->mtu) {
        r->mtu = v->mtu;
    }
}

void
kflow_rec_tunnel(struct kflow_rec *r, const struct dp_packet *p,
                 uint32_t port_no, bool inject)
{
    const uint8_t *d = dp_packet_data(p);

    if (!r->on) {
        return;
    }
    if (r->action || !r->n_flows) {
        r->on = false;          /* a second tunnel hop, or segments */
        return;
    }
    if (r->stage == KFLOW_S_PUSH) {
        /* The outer headers hvs-dpd built: IPv4, UDP, VXLAN. */
        if (p->len < KFLOW_VXLAN_OUTER_LEN + KFLOW_ETH_LEN
            || r->key.outer.eth_type != KFLOW_ETH_IP
            || d[12] != 0x08 || d[13] != 0x00 || d[14] != 0x45
            || d[23] != 17 || r->mtu == UINT32_MAX) {
            r->on = false;
            return;
        }
        memcpy(r->hdr, d, KFLOW_VXLAN_OUTER_LEN);
        r->action = KFLOW_A_ENCAP;
        r->adj = KFLOW_VXLAN_OUTER_LEN;
    } else if (r->stage == KFLOW_S_POP) {
        if (!(r->key.tnl_flags & KFLOW_T_INNER)
            || r->orig_len - p->len != KFLOW_VXLAN_OUTER_LEN
            || r->key.inner.eth_type != KFLOW_ETH_IP || !inject) {
            r->on = false;
            return;
        }
        r->action = KFLOW_A_DECAP;
        r->adj = -KFLOW_VXLAN_OUTER_LEN;
        r->tnl_port = port_no;
    } else {
        r->on = false;
    }
}

/* Under 'mutex': whether every flow the record saw is still in place with
 * the actions it had, and the tunnel tables are those it used. */
static bool
rec_current(const struct kflow_rec *r)
{
    for (int i = 0; i < r->n_flows; i++) {
        if (atomic_load(&r->flows[i]->dead)
            || atomic_load(&r->flows[i]->acts) != r->acts[i]) {
            return false;
        }
    }
    return r->action == 0 || atomic_load(&tnl_gen) == r->gen;
}

void
kflow_rec_finish(struct kflow_rec *r)
{
    struct kflow_val val;

    if (!r->on) {
        return;
    }
    r->on = false;
    if (r->n_out != 1 || !r->n_flows || r->stage) {
        return;
    }
    memset(&val, 0, sizeof val);
    val.action = r->action ? r->action : KFLOW_A_OUTPUT;
    val.ifindex = (unsigned int) r->out_ifindex;
    if (r->action == KFLOW_A_ENCAP) {
        val.mtu = r->mtu;
        val.hdr_len = KFLOW_VXLAN_OUTER_LEN;
        memcpy(val.hdr, r->hdr, KFLOW_VXLAN_OUTER_LEN);
    }

    pthread_mutex_lock(&mutex);
    if (!kflow_enabled() || !rec_current(r)) {
        goto out;
    }
    if (!n_free && hi == KFLOW_MAX) {
        stats.full++;
        goto out;
    }
    /* The action first, then the key that leads to it. */
    uint32_t idx = n_free ? free_idx[n_free - 1] : hi;
    struct kent *e = &ents[idx];
    struct kflow_ref ref = { idx, e->gen + 1 };
    val.gen = ref.gen;
    int err = map_update(acts_fd, &idx, &val, BPF_ANY);
    if (!err) {
        err = map_update(key_table(&r->key), &r->key, &ref, BPF_NOEXIST);
    }
    if (err) {
        if (err != -EEXIST) {
            static struct log_rl rl = LOG_RL_INIT(60, 5);
            stats.full += err == -E2BIG || err == -ENOMEM;
            LOG_RL(&rl, LOG_L_WARN, "cannot install a kernel flow cache "
                   "entry: %s", strerror(-err));
        }
        goto out;
    }
    if (n_free) {
        n_free--;
    } else {
        hi++;
    }
    e->gen = ref.gen;
    e->used = true;
    e->action = (uint8_t) val.action;
    e->n_flows = r->n_flows;
    e->key = r->key;
    e->dp = r->dp;
    e->in_port = r->in_port;
    e->out_port = r->out_port;
    e->tnl_port = r->tnl_port;
    e->route_ifindex = r->route_ifindex;
    e->mtu = r->mtu;
    memcpy(e->hdr, r->hdr, sizeof e->hdr);
    e->packets = e->bytes = e->errors = 0;
    e->active_ms = time_msec();
    for (int i = 0; i < r->n_flows; i++) {
        e->flows[i] = r->flows[i];
        e->flow_adj[i] = r->flow_adj[i];
        e->flow_tcp_flags[i] = r->flow_tcp_flags[i];
        link_add(idx, i);
    }
    stats.entries++;
    stats.installed++;
    LOG_DBG("entry %u: %s to ifindex %u for in ifindex %u, eth type "
            "%#06x proto %u tcp flags %#x (%u flows)", idx,
            val.action == KFLOW_A_ENCAP ? "encap"
            : val.action == KFLOW_A_DECAP ? "decap" : "output",
            val.ifindex, r->key.ifindex, ntohs(r->key.outer.eth_type),
            r->key.outer.ip_proto, ntohs(r->key.outer.tcp_flags),
            r->n_flows);
out:
    pthread_mutex_unlock(&mutex);
}
