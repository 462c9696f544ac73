/* Datapaths and their ports. */
#include "datapath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "flow-table.h"
#include "fwd.h"
#include "log.h"
#include "meter.h"
#include "vport.h"

LOG_MODULE(datapath);

static struct datapath *dps;

void
dp_get_fast_stats(const struct datapath *dp, uint64_t *n_hit,
                  uint64_t *n_mask_hit, uint64_t *n_cache_hit)
{
    *n_hit = *n_mask_hit = *n_cache_hit = 0;
    for (int i = 0; i < DP_STAT_SLOTS; i++) {
        const struct dp_thread_stats *s = &dp->pt_stats[i];
        *n_hit += atomic_load_explicit(&s->n_hit, memory_order_relaxed);
        *n_mask_hit += atomic_load_explicit(&s->n_mask_hit,
                                            memory_order_relaxed);
        *n_cache_hit += atomic_load_explicit(&s->n_cache_hit,
                                             memory_order_relaxed);
    }
}

struct datapath *
dp_first(void)
{
    return dps;
}

struct datapath *
dp_find_by_name(const char *name)
{
    for (struct datapath *dp = dps; dp; dp = dp->next) {
        if (!strcmp(dp->name, name)) {
            return dp;
        }
    }
    return NULL;
}

struct datapath *
dp_find_by_ifindex(int dp_ifindex)
{
    for (struct datapath *dp = dps; dp; dp = dp->next) {
        if (dp->dp_ifindex == dp_ifindex) {
            return dp;
        }
    }
    return NULL;
}

struct vport *
dp_find_vport_by_name(const char *name)
{
    for (struct datapath *dp = dps; dp; dp = dp->next) {
        for (uint32_t i = 0; i < dp->port_hi; i++) {
            struct vport *v = dp_port(dp, i);
            if (v && !strcmp(v->name, name)) {
                return v;
            }
        }
    }
    return NULL;
}

static void
dp_free(struct datapath *dp)
{
    if (dp->table) {
        flow_table_destroy(dp->table);
    }
    meter_table_destroy(dp->meters);
    free(dp->ports);
    free(atomic_load(&dp->cpu_pids));
    free(dp);
}

int
dp_create(const char *name, struct datapath **dpp, const char **reason)
{
    struct datapath *dp;
    struct vport *local;
    int err;

    if (dp_find_by_name(name) || dp_find_vport_by_name(name)) {
        *reason = "a datapath or port of that name exists";
        return -EEXIST;
    }
    dp = aligned_alloc(64, sizeof *dp);
    if (dp) {
        memset(dp, 0, sizeof *dp);
    }
    if (!dp || !(dp->ports = calloc(DP_MAX_PORTS, sizeof *dp->ports))
        || !(dp->table = flow_table_create())
        || !(dp->meters = meter_table_create(METER_MAX_METERS))) {
        if (dp) {
            dp_free(dp);
        }
        *reason = "out of memory";
        return -ENOMEM;
    }
    snprintf(dp->name, sizeof dp->name, "%s", name);
    dp->masks_cache_size = 256;

    /* As in the kernel, the datapath's local port 0 is an internal port
     * named after it, and its ifindex identifies the datapath. */
    err = dp_port_add(dp, OVS_VPORT_TYPE_INTERNAL, name, OVSP_LOCAL, NULL, 0,
                      &local, reason);
    if (err) {
        dp_free(dp);
        return err;
    }
    dp->dp_ifindex = local->ifindex;
    dp->next = dps;
    dps = dp;
    LOG_INFO("created datapath %s (ifindex %d)", name, dp->dp_ifindex);
    *dpp = dp;
    return 0;
}

void
dp_destroy(struct datapath *dp)
{
    for (struct datapath **p = &dps; *p; p = &(*p)->next) {
        if (*p == dp) {
            *p = dp->next;
            break;
        }
    }
    /* Local port last, as the kernel does. */
    for (uint32_t i = dp->port_hi; i-- > 0;) {
        struct vport *v = dp_port(dp, i);
        if (v) {
            dp_port_del(dp, v);
        }
    }
    urcu_memb_synchronize_rcu();
    LOG_INFO("destroyed datapath %s", dp->name);
    dp_free(dp);
}

void
dp_destroy_all(void)
{
    while (dps) {
        dp_destroy(dps);
    }
}

static int
alloc_port_no(const struct datapath *dp, uint32_t *port_no)
{
    for (uint32_t i = 1; i < DP_MAX_PORTS; i++) {
        /* The lowest free number, as the kernel allocates. */
        if (!dp_port(dp, i)) {
            *port_no = i;
            return 0;
        }
    }
    return -EFBIG;
}

static struct vport_upcall_pids *
pids_new(const uint32_t *pids, uint32_t n)
{
    struct vport_upcall_pids *u = malloc(sizeof *u + n * sizeof *pids);
    if (u) {
        u->n = n;
        memcpy(u->pids, pids, n * sizeof *pids);
    }
    return u;
}

int
dp_port_add(struct datapath *dp, enum ovs_vport_type type, const char *name,
            uint32_t port_no, const uint32_t *upcall_pids, uint32_t n_pids,
            struct vport **vp, const char **reason)
{
    return dp_port_add_opts(dp, type, name, port_no, NULL, upcall_pids,
                            n_pids, vp, reason);
}

int
dp_port_add_opts(struct datapath *dp, enum ovs_vport_type type,
                 const char *name, uint32_t port_no,
                 const struct nlattr *options, const uint32_t *upcall_pids,
                 uint32_t n_pids, struct vport **vp, const char **reason)
{
    const struct vport_ops *ops = vport_ops_find(type);
    struct vport *v;
    int err;

    if (!ops) {
        *reason = "unsupported vport type";
        return -EAFNOSUPPORT;
    }
    if (port_no == UINT32_MAX) {
        if (alloc_port_no(dp, &port_no)) {
            *reason = "no free port number";
            return -EFBIG;
        }
    } else if (port_no >= DP_MAX_PORTS) {
        *reason = "port number out of range";
        return -EFBIG;
    } else if (dp_port(dp, port_no)) {
        *reason = "port number in use";
        return -EBUSY;
    }
    if (dp_find_vport_by_name(name)) {
        *reason = "a port of that name exists";
        return -EBUSY;
    }
    v = calloc(1, sizeof *v);
    if (!v) {
        *reason = "out of memory";
        return -ENOMEM;
    }
    v->port_no = port_no;
    snprintf(v->name, sizeof v->name, "%s", name);
    v->type = type;
    v->ops = ops;
    v->dp = dp;
    v->fd = -1;
    v->fwd_slot = UINT32_MAX;
    atomic_init(&v->upcall_pids, n_pids ? pids_new(upcall_pids, n_pids)
                                        : NULL);
    v->options = options;
    err = ops->open(v, reason);
    v->options = NULL;
    if (err) {
        free(atomic_load(&v->upcall_pids));
        free(v);
        return err;
    }
    atomic_store_explicit(&dp->ports[port_no], v, memory_order_release);
    dp->n_ports++;
    if (port_no >= dp->port_hi) {
        dp->port_hi = port_no + 1;
    }
    err = fwd_add_port(v);
    if (err) {
        *reason = "cannot poll the port";
        atomic_store(&dp->ports[port_no], NULL);
        dp->n_ports--;
        ops->close(v);
        free(atomic_load(&v->upcall_pids));
        free(v);
        return err;
    }
    LOG_INFO("%s: added %s port %s as port %u", dp->name, ops->type_name,
             name, port_no);
    *vp = v;
    return 0;
}

void
dp_port_del(struct datapath *dp, struct vport *v)
{
    fwd_del_port(v);
    atomic_store_explicit(&dp->ports[v->port_no], NULL,
                          memory_order_release);
    dp->n_ports--;
    /* Forwarding threads may be inside v; wait them out before closing. */
    urcu_memb_synchronize_rcu();
    LOG_INFO("%s: deleted port %s (%u)", dp->name, v->name, v->port_no);
    v->ops->close(v);
    free(atomic_load(&v->upcall_pids));
    free(v);
}

int
dp_port_set_upcall_pids(struct vport *v, const uint32_t *pids, uint32_t n)
{
    struct vport_upcall_pids *u = n ? pids_new(pids, n) : NULL;

    if (n && !u) {
        return -ENOMEM;
    }
    struct vport_upcall_pids *old = atomic_exchange(&v->upcall_pids, u);
    urcu_memb_synchronize_rcu();
    free(old);
    return 0;
}

int
dp_set_cpu_pids(struct datapath *dp, const uint32_t *pids, uint32_t n)
{
    struct dp_cpu_pids *c = malloc(sizeof *c + n * sizeof *pids);

    if (!c) {
        return -ENOMEM;
    }
    c->n = n;
    memcpy(c->pids, pids, n * sizeof *pids);
    struct dp_cpu_pids *old = atomic_exchange(&dp->cpu_pids, c);
    urcu_memb_synchronize_rcu();
    free(old);
    return 0;
}
