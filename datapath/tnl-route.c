/* Route, address, link and neighbour mirror for the tunnel fast path (see
 * tnl-route.h). */
#include "tnl-route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "datapath.h"
#include "flow.h"
#include "fwd.h"
#include "kflow.h"
#include "log.h"
#include "packet.h"
#include "timeval.h"
#include "tnl-stats.h"
#include "vport.h"

LOG_MODULE(tnl_route);

/* Neighbours with packets held at once, packets per neighbour, and how
 * long a neighbour may take to resolve before its packets are dropped. */
#define HOLD_NBRS 16
#define HOLD_PKTS 32
#define HOLD_TIMEOUT_MS 3000
#define HOLD_RETRY_MS 1000

/* Lookups remembered per thread for the current snapshot. */
#define CACHE_WAYS 8

/* Neighbour states whose link-layer address may be used (the kernel's
 * NUD_VALID). */
#define NUD_USABLE (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE \
                    | NUD_STALE | NUD_DELAY)

struct rt_link {
    int ifindex;
    uint32_t mtu;
    bool up;
    bool has_mac;
    uint8_t mac[6];
};

struct rt_addr {
    int family, ifindex;
    uint8_t plen;
    struct tnl_addr a;
};

struct rt_route {
    int family;
    uint8_t dst_len;
    bool has_gw, has_prefsrc;
    int oif;
    uint32_t prio;
    struct tnl_addr dst, gw, prefsrc;
};

struct rt_neigh {
    int family, ifindex;
    uint16_t state;
    bool has_mac;
    uint8_t mac[6];
    struct tnl_addr a;
};

/* A growable array of 'size'-byte elements. */
struct vec {
    void *a;
    size_t n, cap, size;
};

/* The mirror: mutable (the thread's) and published snapshots. */
struct tables {
    uint64_t gen;
    size_t n_links, n_addrs, n_routes, n_neighs;
    struct rt_link *links;
    struct rt_addr *addrs;
    struct rt_route *routes;
    struct rt_neigh *neighs;
};

struct hold_pkt {
    struct dp_packet *p;
    struct vport *owner;
    uint32_t port_no;
    bool inject;
};

struct hold {
    bool used;
    int family, ifindex;
    struct tnl_addr nbr;
    uint64_t since_ms, asked_ms;
    int n;
    struct hold_pkt q[HOLD_PKTS];
};

static struct tables *_Atomic published;
static struct vec links = { .size = sizeof(struct rt_link) };
static struct vec addrs = { .size = sizeof(struct rt_addr) };
static struct vec routes = { .size = sizeof(struct rt_route) };
static struct vec neighs = { .size = sizeof(struct rt_neigh) };
static uint64_t generation;

static pthread_t thread;
static int refs;
static int wake_fd = -1;        /* eventfd: new holds, stop */
static atomic_bool stopping;
static struct mnl_socket *mon, *req;
static unsigned req_seq;
static bool resync;

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
/* Held while packets taken from the queues are delivered, so that
 * tnl_route_forget() waits for them (their owner must stay alive). */
static pthread_mutex_t deliver_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hold holds[HOLD_NBRS];

/* ---- the mutable tables ------------------------------------------------- */

static void *
vec_at(const struct vec *v, size_t i)
{
    return (char *) v->a + i * v->size;
}

static void *
vec_push(struct vec *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *a = realloc(v->a, cap * v->size);

        if (!a) {
            return NULL;
        }
        v->a = a;
        v->cap = cap;
    }
    memset(vec_at(v, v->n), 0, v->size);
    return vec_at(v, v->n++);
}

static void
vec_del(struct vec *v, size_t i)
{
    v->n--;
    if (i != v->n) {
        memcpy(vec_at(v, i), vec_at(v, v->n), v->size);
    }
}

static size_t
addr_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

static bool
get_addr(const struct nlattr *a, int family, struct tnl_addr *out)
{
    memset(out, 0, sizeof *out);
    if (mnl_attr_get_payload_len(a) != addr_len(family)) {
        return false;
    }
    memcpy(out->b, mnl_attr_get_payload(a), addr_len(family));
    return true;
}

static bool
prefix_match(const struct tnl_addr *a, const struct tnl_addr *pfx,
             unsigned plen)
{
    unsigned bytes = plen / 8, bits = plen % 8;

    if (memcmp(a->b, pfx->b, bytes)) {
        return false;
    }
    if (bits) {
        uint8_t m = (uint8_t) (0xff << (8 - bits));

        return (a->b[bytes] & m) == (pfx->b[bytes] & m);
    }
    return true;
}

static bool
addr_zero(const struct tnl_addr *a)
{
    static const struct tnl_addr zero;

    return !a || !memcmp(a, &zero, sizeof zero);
}

static struct rt_link *
link_find(int ifindex)
{
    for (size_t i = 0; i < links.n; i++) {
        struct rt_link *l = vec_at(&links, i);

        if (l->ifindex == ifindex) {
            return l;
        }
    }
    return NULL;
}

static void
drop_ifindex(struct vec *v, size_t ofs, int ifindex)
{
    for (size_t i = 0; i < v->n;) {
        int x;

        memcpy(&x, (char *) vec_at(v, i) + ofs, sizeof x);
        if (x == ifindex) {
            vec_del(v, i);
        } else {
            i++;
        }
    }
}

/* ---- rtnetlink messages ------------------------------------------------- */

struct attrs {
    const struct nlattr *tb[64];
};

static int
attr_cb(const struct nlattr *a, void *aux)
{
    struct attrs *t = aux;
    uint16_t type = mnl_attr_get_type(a);

    if (type < 64) {
        t->tb[type] = a;
    }
    return MNL_CB_OK;
}

static void
on_link(const struct nlmsghdr *nlh)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    struct rt_link *l = link_find(ifi->ifi_index);
    struct attrs t;

    if (nlh->nlmsg_type == RTM_DELLINK) {
        if (l) {
            vec_del(&links, (size_t) (l - (struct rt_link *) links.a));
        }
        drop_ifindex(&addrs, offsetof(struct rt_addr, ifindex),
                     ifi->ifi_index);
        drop_ifindex(&neighs, offsetof(struct rt_neigh, ifindex),
                     ifi->ifi_index);
        resync = true;          /* its routes went without notice */
        return;
    }
    if (!l && !(l = vec_push(&links))) {
        return;
    }
    memset(&t, 0, sizeof t);
    mnl_attr_parse(nlh, sizeof *ifi, attr_cb, &t);
    bool was_up = l->up;

    l->ifindex = ifi->ifi_index;
    l->up = (ifi->ifi_flags & IFF_UP) != 0;
    if (t.tb[IFLA_MTU] && mnl_attr_get_payload_len(t.tb[IFLA_MTU]) == 4) {
        l->mtu = mnl_attr_get_u32(t.tb[IFLA_MTU]);
    }
    if (t.tb[IFLA_ADDRESS]
        && mnl_attr_get_payload_len(t.tb[IFLA_ADDRESS]) == 6) {
        memcpy(l->mac, mnl_attr_get_payload(t.tb[IFLA_ADDRESS]), 6);
        l->has_mac = true;
    }
    if (was_up && !l->up) {
        resync = true;          /* IPv4 drops its routes silently */
    }
}

static void
on_addr(const struct nlmsghdr *nlh)
{
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    struct rt_addr a;
    struct attrs t;

    if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) {
        return;
    }
    memset(&t, 0, sizeof t);
    mnl_attr_parse(nlh, sizeof *ifa, attr_cb, &t);
    memset(&a, 0, sizeof a);
    a.family = ifa->ifa_family;
    a.ifindex = (int) ifa->ifa_index;
    a.plen = ifa->ifa_prefixlen;
    /* IFA_LOCAL is the local address on point-to-point links. */
    const struct nlattr *x = t.tb[IFA_LOCAL] ? t.tb[IFA_LOCAL]
                                             : t.tb[IFA_ADDRESS];
    if (!x || !get_addr(x, a.family, &a.a)) {
        return;
    }
    for (size_t i = 0; i < addrs.n; i++) {
        struct rt_addr *o = vec_at(&addrs, i);

        if (o->family == a.family && o->ifindex == a.ifindex
            && !memcmp(&o->a, &a.a, sizeof a.a)) {
            vec_del(&addrs, i);
            break;
        }
    }
    if (nlh->nlmsg_type == RTM_NEWADDR) {
        struct rt_addr *n = vec_push(&addrs);

        if (n) {
            *n = a;
        }
    } else {
        resync = true;          /* routes with it as source went too */
    }
}

static void
on_route(const struct nlmsghdr *nlh)
{
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    struct rt_route r;
    struct attrs t;
    uint32_t table;

    if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) {
        return;
    }
    memset(&t, 0, sizeof t);
    mnl_attr_parse(nlh, sizeof *rtm, attr_cb, &t);
    table = t.tb[RTA_TABLE] ? mnl_attr_get_u32(t.tb[RTA_TABLE])
                            : rtm->rtm_table;
    /* The main table only: policy routing is the socket path's. */
    if (table != RT_TABLE_MAIN) {
        return;
    }
    memset(&r, 0, sizeof r);
    r.family = rtm->rtm_family;
    r.dst_len = rtm->rtm_dst_len;
    if (t.tb[RTA_DST] && !get_addr(t.tb[RTA_DST], r.family, &r.dst)) {
        return;
    }
    if (t.tb[RTA_GATEWAY]) {
        r.has_gw = get_addr(t.tb[RTA_GATEWAY], r.family, &r.gw);
    }
    if (t.tb[RTA_PREFSRC]) {
        r.has_prefsrc = get_addr(t.tb[RTA_PREFSRC], r.family, &r.prefsrc);
    }
    if (t.tb[RTA_OIF]) {
        r.oif = (int) mnl_attr_get_u32(t.tb[RTA_OIF]);
    }
    if (t.tb[RTA_PRIORITY]) {
        r.prio = mnl_attr_get_u32(t.tb[RTA_PRIORITY]);
    }
    for (size_t i = 0; i < routes.n; i++) {
        struct rt_route *o = vec_at(&routes, i);

        if (o->family == r.family && o->dst_len == r.dst_len
            && o->prio == r.prio && !memcmp(&o->dst, &r.dst, sizeof r.dst)
            && (nlh->nlmsg_type == RTM_NEWROUTE || !r.oif
                || o->oif == r.oif)) {
            vec_del(&routes, i);
            break;
        }
    }
    /* Unicast routes through one interface; multipath, blackhole and
     * the like are left to the host stack. */
    if (nlh->nlmsg_type == RTM_NEWROUTE && rtm->rtm_type == RTN_UNICAST
        && r.oif) {
        struct rt_route *n = vec_push(&routes);

        if (n) {
            *n = r;
        }
    }
}

static void
on_neigh(const struct nlmsghdr *nlh)
{
    const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
    struct rt_neigh n, *o = NULL;
    struct attrs t;

    if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
        || ndm->ndm_flags & NTF_PROXY) {
        return;
    }
    memset(&t, 0, sizeof t);
    mnl_attr_parse(nlh, sizeof *ndm, attr_cb, &t);
    memset(&n, 0, sizeof n);
    n.family = ndm->ndm_family;
    n.ifindex = ndm->ndm_ifindex;
    n.state = ndm->ndm_state;
    if (!t.tb[NDA_DST] || !get_addr(t.tb[NDA_DST], n.family, &n.a)) {
        return;
    }
    if (t.tb[NDA_LLADDR] && mnl_attr_get_payload_len(t.tb[NDA_LLADDR]) == 6) {
        memcpy(n.mac, mnl_attr_get_payload(t.tb[NDA_LLADDR]), 6);
        n.has_mac = true;
    }
    for (size_t i = 0; i < neighs.n; i++) {
        struct rt_neigh *x = vec_at(&neighs, i);

        if (x->family == n.family && x->ifindex == n.ifindex
            && !memcmp(&x->a, &n.a, sizeof n.a)) {
            o = x;
            break;
        }
    }
    if (nlh->nlmsg_type == RTM_DELNEIGH) {
        if (o) {
            vec_del(&neighs, (size_t) (o - (struct rt_neigh *) neighs.a));
        }
        return;
    }
    if (!o && !(o = vec_push(&neighs))) {
        return;
    }
    /* A notification without the address keeps the one we know. */
    if (!n.has_mac && o->has_mac) {
        memcpy(n.mac, o->mac, 6);
        n.has_mac = !(n.state & (NUD_FAILED | NUD_INCOMPLETE));
    }
    *o = n;
}

static int
msg_cb(const struct nlmsghdr *nlh, void *aux)
{
    (void) aux;
    switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifinfomsg)) {
            on_link(nlh);
        }
        break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ifaddrmsg)) {
            on_addr(nlh);
        }
        break;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct rtmsg)) {
            on_route(nlh);
        }
        break;
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct ndmsg)) {
            on_neigh(nlh);
        }
        break;
    default:
        break;
    }
    return MNL_CB_OK;
}

/* Dumps one table into the mirror through the request socket. */
static int
dump(uint16_t type, int family, size_t hdr_len)
{
    uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    unsigned seq = ++req_seq;
    unsigned pid = mnl_socket_get_portid(req);
    uint8_t *fam;
    int ret;

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    /* Every rtnetlink header starts with its family byte. */
    fam = mnl_nlmsg_put_extra_header(nlh, hdr_len);
    *fam = (uint8_t) family;
    if (mnl_socket_sendto(req, nlh, nlh->nlmsg_len) < 0) {
        return -errno;
    }
    do {
        ssize_t n = mnl_socket_recvfrom(req, buf, sizeof buf);

        if (n < 0) {
            return -errno;
        }
        ret = mnl_cb_run(buf, (size_t) n, seq, pid, msg_cb, NULL);
    } while (ret > 0);
    return ret < 0 ? -errno : 0;
}

static int
dump_routes(void)
{
    routes.n = 0;
    int err = dump(RTM_GETROUTE, AF_INET, sizeof(struct rtmsg));

    return err ? err : dump(RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg));
}

static int
dump_all(void)
{
    int err;

    links.n = addrs.n = routes.n = neighs.n = 0;
    err = dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg));
    if (!err) {
        err = dump(RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg));
    }
    if (!err) {
        err = dump_routes();
    }
    if (!err) {
        err = dump(RTM_GETNEIGH, AF_UNSPEC, sizeof(struct ndmsg));
    }
    return err;
}

/* ---- snapshots ---------------------------------------------------------- */

static void
publish(void)
{
    size_t sz = sizeof(struct tables) + links.n * links.size
                + addrs.n * addrs.size + routes.n * routes.size
                + neighs.n * neighs.size;
    struct tables *t = malloc(sz), *old;
    char *p;

    if (!t) {
        LOG_WARN("out of memory: route tables not updated");
        return;
    }
    t->gen = ++generation;
    p = (char *) (t + 1);
#define COPY(FIELD, VEC)                                        \
    t->n_##FIELD = VEC.n;                                       \
    t->FIELD = (void *) p;                                      \
    if (VEC.n) {                                                \
        memcpy(p, VEC.a, VEC.n * VEC.size);                     \
    }                                                           \
    p += VEC.n * VEC.size;
    COPY(links, links)
    COPY(addrs, addrs)
    COPY(routes, routes)
    COPY(neighs, neighs)
#undef COPY
    old = atomic_exchange_explicit(&published, t, memory_order_acq_rel);
    /* Kernel-cache entries carry outer headers made from the old tables. */
    kflow_tnl_changed();
    if (old) {
        urcu_memb_synchronize_rcu();
        free(old);
    }
}

/* ---- lookups (forwarding threads) --------------------------------------- */

static const struct rt_addr *
first_addr(const struct tables *t, int family, int ifindex)
{
    const struct rt_addr *best = NULL;

    for (size_t i = 0; i < t->n_addrs; i++) {
        const struct rt_addr *a = &t->addrs[i];

        if (a->family != family || a->ifindex != ifindex) {
            continue;
        }
        /* IPv6: a global address over a link-local one. */
        if (family == AF_INET6 && a->a.b[0] == 0xfe
            && (a->a.b[1] & 0xc0) == 0x80) {
            if (!best) {
                best = a;
            }
            continue;
        }
        return a;
    }
    return best;
}

static int
lookup_slow(const struct tables *t, int family, const struct tnl_addr *dst,
            const struct tnl_addr *src, struct tnl_nexthop *nh)
{
    const struct rt_route *best = NULL;
    const struct rt_link *l = NULL;

    for (size_t i = 0; i < t->n_routes; i++) {
        const struct rt_route *r = &t->routes[i];

        if (r->family == family && prefix_match(dst, &r->dst, r->dst_len)
            && (!best || r->dst_len > best->dst_len
                || (r->dst_len == best->dst_len && r->prio < best->prio))) {
            best = r;
        }
    }
    if (!best) {
        return -ENETUNREACH;
    }
    for (size_t i = 0; i < t->n_links; i++) {
        if (t->links[i].ifindex == best->oif) {
            l = &t->links[i];
            break;
        }
    }
    if (!l || !l->has_mac || !l->up) {
        return -ENETUNREACH;
    }
    memset(nh, 0, sizeof *nh);
    nh->ifindex = best->oif;
    nh->family = family;
    nh->mtu = l->mtu;
    memcpy(nh->src_mac, l->mac, 6);
    nh->nbr = best->has_gw ? best->gw : *dst;
    if (!addr_zero(src)) {
        nh->src = *src;
    } else if (best->has_prefsrc) {
        nh->src = best->prefsrc;
    } else {
        const struct rt_addr *a = first_addr(t, family, best->oif);

        if (!a) {
            return -ENETUNREACH;
        }
        nh->src = a->a;
    }
    for (size_t i = 0; i < t->n_neighs; i++) {
        const struct rt_neigh *n = &t->neighs[i];

        if (n->family == family && n->ifindex == nh->ifindex
            && !memcmp(&n->a, &nh->nbr, sizeof n->a)) {
            if (n->has_mac && n->state & NUD_USABLE) {
                memcpy(nh->dst_mac, n->mac, 6);
                nh->resolved = true;
            }
            break;
        }
    }
    return 0;
}

struct cache_entry {
    uint64_t gen;
    int family, ret;
    struct tnl_addr dst, src;
    struct tnl_nexthop nh;
};

static _Thread_local struct cache_entry cache[CACHE_WAYS];

int
tnl_route_lookup(int family, const struct tnl_addr *dst,
                 const struct tnl_addr *src, struct tnl_nexthop *nh)
{
    const struct tables *t = atomic_load_explicit(&published,
                                                  memory_order_acquire);
    static const struct tnl_addr zero;
    struct cache_entry *c;

    if (!t) {
        return -ENODEV;
    }
    if (!src) {
        src = &zero;
    }
    c = &cache[(dst->b[3] ^ dst->b[15]) % CACHE_WAYS];
    if (c->gen != t->gen || c->family != family
        || memcmp(&c->dst, dst, sizeof *dst)
        || memcmp(&c->src, src, sizeof *src)) {
        c->gen = t->gen;
        c->family = family;
        c->dst = *dst;
        c->src = *src;
        c->ret = lookup_slow(t, family, dst, src, &c->nh);
    }
    if (!c->ret) {
        *nh = c->nh;
    }
    return c->ret;
}

bool
tnl_route_is_local(int family, const struct tnl_addr *addr, int ifindex)
{
    const struct tables *t = atomic_load_explicit(&published,
                                                  memory_order_acquire);

    if (!t) {
        return false;
    }
    for (size_t i = 0; i < t->n_addrs; i++) {
        const struct rt_addr *a = &t->addrs[i];

        if (a->family == family && a->ifindex == ifindex
            && !memcmp(&a->a, addr, sizeof *addr)) {
            return true;
        }
    }
    return false;
}

/* ---- the operator's view (control thread) ------------------------------ */

static void
walk_routes(const struct tables *t, tnl_route_info_fn *cb, void *aux)
{
    for (size_t i = 0; i < t->n_routes; i++) {
        const struct rt_route *r = &t->routes[i];
        struct tnl_route_info ri;

        memset(&ri, 0, sizeof ri);
        ri.family = r->family;
        ri.dst = r->dst;
        ri.dst_len = r->dst_len;
        ri.has_gw = r->has_gw;
        ri.gw = r->gw;
        ri.ifindex = r->oif;
        ri.priority = r->prio;
        if (r->has_prefsrc) {
            ri.src = r->prefsrc;
            ri.has_src = true;
        } else {
            /* The source lookup_slow() would choose. */
            const struct rt_addr *a = first_addr(t, r->family, r->oif);

            if (a) {
                ri.src = a->a;
                ri.has_src = true;
            }
        }
        cb(&ri, aux);
    }
}

static void
walk_neighs(const struct tables *t, tnl_neigh_info_fn *cb, void *aux)
{
    for (size_t i = 0; i < t->n_neighs; i++) {
        const struct rt_neigh *n = &t->neighs[i];
        struct tnl_neigh_info ni;

        memset(&ni, 0, sizeof ni);
        ni.family = n->family;
        ni.addr = n->a;
        ni.ifindex = n->ifindex;
        ni.state = n->state;
        ni.usable = n->has_mac && n->state & NUD_USABLE;
        if (ni.usable) {
            memcpy(ni.mac, n->mac, 6);
        }
        cb(&ni, aux);
    }
}

int
tnl_route_walk(tnl_route_info_fn *route_cb, tnl_neigh_info_fn *neigh_cb,
               void *aux)
{
    const struct tables *t;
    int err = 0;

    urcu_memb_read_lock();
    t = atomic_load_explicit(&published, memory_order_acquire);
    if (!t) {
        err = -ENODEV;
    } else {
        if (route_cb) {
            walk_routes(t, route_cb, aux);
        }
        if (neigh_cb) {
            walk_neighs(t, neigh_cb, aux);
        }
    }
    urcu_memb_read_unlock();
    return err;
}

void
tnl_route_held(unsigned *n_pkts, unsigned *n_nbrs)
{
    *n_pkts = *n_nbrs = 0;
    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < HOLD_NBRS; i++) {
        if (holds[i].used) {
            ++*n_nbrs;
            *n_pkts += (unsigned) holds[i].n;
        }
    }
    pthread_mutex_unlock(&hold_mu);
}

/* ---- held packets ------------------------------------------------------- */

static void
wake(void)
{
    uint64_t one = 1;

    if (wake_fd >= 0 && write(wake_fd, &one, sizeof one) < 0) {
        /* The counter is saturated: the thread is awake anyway. */
    }
}

void
tnl_route_hold(const struct tnl_nexthop *nh, struct dp_packet *p,
               struct vport *owner, uint32_t port_no, bool inject)
{
    struct hold *h = NULL, *free_h = NULL;
    bool fresh = false;

    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < HOLD_NBRS; i++) {
        struct hold *x = &holds[i];

        if (!x->used) {
            free_h = free_h ? free_h : x;
        } else if (x->family == nh->family && x->ifindex == nh->ifindex
                   && !memcmp(&x->nbr, &nh->nbr, sizeof x->nbr)) {
            h = x;
            break;
        }
    }
    if (!h && free_h) {
        h = free_h;
        memset(h, 0, sizeof *h);
        h->used = true;
        h->family = nh->family;
        h->ifindex = nh->ifindex;
        h->nbr = nh->nbr;
        h->since_ms = time_msec();
        fresh = true;
    }
    if (!h || h->n == HOLD_PKTS) {
        pthread_mutex_unlock(&hold_mu);
        tnl_count(TNL_C_HOLD_DROP, 1);
        dp_packet_free(p);
        return;
    }
    h->q[h->n++] = (struct hold_pkt) { p, owner, port_no, inject };
    pthread_mutex_unlock(&hold_mu);
    tnl_count(TNL_C_HELD, 1);
    if (fresh) {
        wake();
    }
}

void
tnl_route_forget(const struct vport *owner)
{
    pthread_mutex_lock(&deliver_mu);
    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < HOLD_NBRS; i++) {
        struct hold *h = &holds[i];
        int k = 0;

        for (int j = 0; j < h->n; j++) {
            if (h->q[j].owner == owner) {
                dp_packet_free(h->q[j].p);
            } else {
                h->q[k++] = h->q[j];
            }
        }
        h->n = k;
        if (!k) {
            h->used = false;
        }
    }
    pthread_mutex_unlock(&hold_mu);
    pthread_mutex_unlock(&deliver_mu);
}

/* Asks the host stack to resolve the neighbour of 'h' (RTM_NEWNEIGH with
 * NTF_USE: the kernel starts ARP or neighbour discovery as if it had a
 * packet for it). */
static void
ask_resolve(const struct hold *h)
{
    uint8_t buf[256];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct ndmsg *ndm;

    nlh->nlmsg_type = RTM_NEWNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE;
    nlh->nlmsg_seq = ++req_seq;
    ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
    ndm->ndm_family = (uint8_t) h->family;
    ndm->ndm_ifindex = h->ifindex;
    ndm->ndm_flags = NTF_USE;
    mnl_attr_put(nlh, NDA_DST, addr_len(h->family), h->nbr.b);
    /* Through the notification socket: an error reply, if any, lands
     * there and is ignored, leaving the dump socket's replies in order. */
    if (mnl_socket_sendto(mon, nlh, nlh->nlmsg_len) < 0) {
        LOG_WARN("cannot ask the host to resolve a neighbour: %s",
                 strerror(errno));
    }
}

static const struct rt_neigh *
neigh_usable(const struct hold *h)
{
    for (size_t i = 0; i < neighs.n; i++) {
        const struct rt_neigh *n = vec_at(&neighs, i);

        if (n->family == h->family && n->ifindex == h->ifindex
            && !memcmp(&n->a, &h->nbr, sizeof n->a)) {
            return n->has_mac && n->state & NUD_USABLE ? n : NULL;
        }
    }
    return NULL;
}

static void
deliver(struct hold_pkt *hp, const uint8_t mac[6])
{
    /* A one-action list: recirc(0) runs the packet through the flow table
     * with its in_port (as if received there); output(port) sends it. */
    union {
        struct dp_actions h;
        uint8_t raw[sizeof(struct dp_actions) + NLA_HDRLEN + 4];
    } acts;
    struct nlattr *a = (struct nlattr *) (void *) acts.h.attrs;
    uint32_t arg = hp->inject ? 0 : hp->port_no;
    struct flow_key key;
    struct dp_packet *p = hp->p;

    memcpy(dp_packet_data(p), mac, 6);
    memset(&key, 0, sizeof key);
    acts.h.len = NLA_HDRLEN + sizeof arg;
    acts.h.pad = 0;
    a->nla_len = (uint16_t) acts.h.len;
    a->nla_type = hp->inject ? OVS_ACTION_ATTR_RECIRC
                             : OVS_ACTION_ATTR_OUTPUT;
    memcpy(acts.h.attrs + NLA_HDRLEN, &arg, sizeof arg);
    p->md.in_port = hp->port_no;
    urcu_memb_read_lock();
    fwd_execute(hp->owner->dp, p, &key, &acts.h);
    urcu_memb_read_unlock();
}

/* Sends the packets whose neighbours are now known, drops those whose
 * neighbours failed or took too long, asks again for the others. */
static void
service_holds(void)
{
    struct hold_pkt out[HOLD_NBRS * HOLD_PKTS];
    uint8_t macs[HOLD_NBRS][6];
    int n_out = 0, owner_of[HOLD_NBRS * HOLD_PKTS];
    uint64_t now = time_msec(), dropped = 0;

    pthread_mutex_lock(&deliver_mu);
    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < HOLD_NBRS; i++) {
        struct hold *h = &holds[i];
        const struct rt_neigh *n;

        if (!h->used) {
            continue;
        }
        n = neigh_usable(h);
        if (n) {
            memcpy(macs[i], n->mac, 6);
            for (int j = 0; j < h->n; j++) {
                owner_of[n_out] = i;
                out[n_out++] = h->q[j];
            }
            h->used = false;
            h->n = 0;
        } else if (now - h->since_ms > HOLD_TIMEOUT_MS) {
            char a[INET6_ADDRSTRLEN];

            inet_ntop(h->family, h->nbr.b, a, sizeof a);
            LOG_WARN("neighbour %s did not resolve: %d tunnel packet%s "
                     "dropped", a, h->n, h->n == 1 ? "" : "s");
            for (int j = 0; j < h->n; j++) {
                dp_packet_free(h->q[j].p);
            }
            dropped += (uint64_t) h->n;
            h->used = false;
            h->n = 0;
        } else if (!h->asked_ms || now - h->asked_ms >= HOLD_RETRY_MS) {
            h->asked_ms = now;
            ask_resolve(h);
        }
    }
    pthread_mutex_unlock(&hold_mu);
    for (int i = 0; i < n_out; i++) {
        deliver(&out[i], macs[owner_of[i]]);
    }
    pthread_mutex_unlock(&deliver_mu);
    if (dropped) {
        tnl_count(TNL_C_UNREACH, dropped);
    }
}

static bool
holds_pending(void)
{
    bool any = false;

    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < HOLD_NBRS && !any; i++) {
        any = holds[i].used;
    }
    pthread_mutex_unlock(&hold_mu);
    return any;
}

/* ---- the thread --------------------------------------------------------- */

static void *
thread_main(void *arg)
{
    uint8_t buf[MNL_SOCKET_BUFFER_SIZE];

    (void) arg;
    pthread_setname_np(pthread_self(), "hvs-tnlroute");
    urcu_memb_register_thread();
    while (!atomic_load(&stopping)) {
        struct pollfd pfd[2] = {
            { .fd = mnl_socket_get_fd(mon), .events = POLLIN },
            { .fd = wake_fd, .events = POLLIN },
        };
        bool dirty = false;

        if (poll(pfd, 2, holds_pending() ? 100 : 1000) < 0
            && errno != EINTR) {
            LOG_ERR("poll: %s", strerror(errno));
            break;
        }
        if (pfd[1].revents & POLLIN) {
            uint64_t x;

            if (read(wake_fd, &x, sizeof x) < 0) {
                /* Nothing to read: a spurious wakeup. */
            }
        }
        for (;;) {
            ssize_t n = recv(mnl_socket_get_fd(mon), buf, sizeof buf,
                             MSG_DONTWAIT);

            if (n < 0) {
                if (errno == ENOBUFS) {
                    LOG_WARN("rtnetlink overflow: reloading the tables");
                    dump_all();
                    dirty = true;
                    continue;
                }
                break;
            }
            mnl_cb_run(buf, (size_t) n, 0, 0, msg_cb, NULL);
            dirty = true;
        }
        if (resync) {
            resync = false;
            dump_routes();
            dirty = true;
        }
        if (dirty) {
            publish();
        }
        service_holds();
    }
    urcu_memb_unregister_thread();
    return NULL;
}

static void
close_all(void)
{
    if (mon) {
        mnl_socket_close(mon);
        mon = NULL;
    }
    if (req) {
        mnl_socket_close(req);
        req = NULL;
    }
    if (wake_fd >= 0) {
        close(wake_fd);
        wake_fd = -1;
    }
}

int
tnl_route_ref(void)
{
    int err, rcvbuf = 4 << 20;

    if (refs++) {
        return 0;
    }
    mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
    req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!mon || !req || wake_fd < 0
        || mnl_socket_bind(mon, RTMGRP_LINK | RTMGRP_NEIGH
                           | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR
                           | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
                           MNL_SOCKET_AUTOPID) < 0
        || mnl_socket_bind(req, 0, MNL_SOCKET_AUTOPID) < 0) {
        err = -errno;
        goto fail;
    }
    setsockopt(mnl_socket_get_fd(mon), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
               sizeof rcvbuf);
    /* Subscribed before the dump: a change in between is seen twice,
     * never missed. */
    err = dump_all();
    if (err) {
        goto fail;
    }
    publish();
    atomic_store(&stopping, false);
    err = -pthread_create(&thread, NULL, thread_main, NULL);
    if (err) {
        goto fail;
    }
    return 0;

fail:
    LOG_WARN("cannot mirror the host's routes: %s; tunnels use the host "
             "stack only", strerror(-err));
    close_all();
    free(atomic_exchange(&published, NULL));
    refs--;
    return err;
}

void
tnl_route_unref(void)
{
    struct tables *t;

    if (!refs || --refs) {
        return;
    }
    atomic_store(&stopping, true);
    wake();
    pthread_join(thread, NULL);
    close_all();
    t = atomic_exchange_explicit(&published, NULL, memory_order_acq_rel);
    urcu_memb_synchronize_rcu();
    free(t);
    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < HOLD_NBRS; i++) {
        for (int j = 0; j < holds[i].n; j++) {
            dp_packet_free(holds[i].q[j].p);
        }
        holds[i].n = 0;
        holds[i].used = false;
    }
    pthread_mutex_unlock(&hold_mu);
    free(links.a);
    free(addrs.a);
    free(routes.a);
    free(neighs.a);
    links.a = addrs.a = routes.a = neighs.a = NULL;
    links.n = addrs.n = routes.n = neighs.n = 0;
    links.cap = addrs.cap = routes.cap = neighs.cap = 0;
}
