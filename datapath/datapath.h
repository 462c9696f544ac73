/* Datapaths: named switches, each with its ports, flow table and counters.
 * Created and destroyed by the control thread only; forwarding threads reach
 * a datapath through its vports under RCU. */
#ifndef HVS_DATAPATH_H
#define HVS_DATAPATH_H 1

#include <linux/openvswitch.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow_table;
struct meter_table;
struct nlattr;
struct vport;

/* Port numbers are u32 on the wire; the kernel keeps them below 65536. */
#define DP_MAX_PORTS 65536

/* User features hvs implements (OVS_DP_F_*); anything else is refused with
 * EOPNOTSUPP, exactly as a kernel without that feature does. */
#define DP_SUPPORTED_FEATURES (OVS_DP_F_UNALIGNED | OVS_DP_F_VPORT_PIDS \
                               | OVS_DP_F_DISPATCH_UPCALL_PER_CPU)

/* Slow-path counters, shared. */
struct dp_stats {
    _Atomic uint64_t n_missed, n_lost;
};

/* Fast-path counters: one set per forwarding thread (and one for the
 * control thread's executes), each written by its thread only, summed by
 * readers, so that forwarding never bounces a shared cache line. */
#define DP_STAT_SLOTS 65
struct dp_thread_stats {
    _Atomic uint64_t n_hit, n_mask_hit, n_cache_hit;
} __attribute__((aligned(64)));

/* Per-CPU upcall pids (OVS_DP_ATTR_PER_CPU_PIDS), replaced under RCU. */
struct dp_cpu_pids {
    uint32_t n;
    uint32_t pids[];
};

struct datapath {
    char name[IFNAMSIZ];
    int dp_ifindex;             /* ifindex of the local port's TAP */
    uint32_t user_features;
    uint32_t masks_cache_size;
    struct flow_table *table;
    struct meter_table *meters;         /* ovs_meter family */
    struct vport *_Atomic *ports;       /* DP_MAX_PORTS slots, RCU */
    uint32_t n_ports;
    uint32_t port_hi;           /* every port number is below this */
    struct dp_cpu_pids *_Atomic cpu_pids;
    struct dp_stats stats;
    struct dp_thread_stats pt_stats[DP_STAT_SLOTS];
    struct datapath *next;      /* registry list (control thread) */
};

/* Sums of the per-thread counters. */
void dp_get_fast_stats(const struct datapath *dp, uint64_t *n_hit,
                       uint64_t *n_mask_hit, uint64_t *n_cache_hit);

/* Registry (control thread). */
struct datapath *dp_find_by_name(const char *name);
struct datapath *dp_find_by_ifindex(int dp_ifindex);
struct datapath *dp_first(void);    /* iteration: dp->next */
/* A vport of any datapath by name (the kernel's ovs_vport_locate). */
struct vport *dp_find_vport_by_name(const char *name);

/* Creates datapath 'name' with its local internal port 0.  Returns 0 and
 * the datapath, or a negative errno with *reason. */
int dp_create(const char *name, struct datapath **dpp, const char **reason);
/* Destroys 'dp': every port (notifications are the caller's), every flow. */
void dp_destroy(struct datapath *dp);
/* Destroys every datapath (daemon exit). */
void dp_destroy_all(void);

static inline struct vport *
dp_port(const struct datapath *dp, uint32_t port_no)
{
    return port_no < DP_MAX_PORTS
        ? atomic_load_explicit(&dp->ports[port_no], memory_order_acquire)
        : NULL;
}

/* Adds a vport of 'type' named 'name' at 'port_no' (UINT32_MAX: the
 * lowest free number), opens it and starts polling it.  Returns 0 and the
 * vport, or a negative errno with *reason. */
int dp_port_add(struct datapath *dp, enum ovs_vport_type type,
                const char *name, uint32_t port_no,
                const uint32_t *upcall_pids, uint32_t n_pids,
                struct vport **vp, const char **reason);
/* dp_port_add() with the request's OVS_VPORT_ATTR_OPTIONS ('options', or
 * NULL), which tunnel ports read (their UDP port). */
int dp_port_add_opts(struct datapath *dp, enum ovs_vport_type type,
                     const char *name, uint32_t port_no,
                     const struct nlattr *options,
                     const uint32_t *upcall_pids, uint32_t n_pids,
                     struct vport **vp, const char **reason);
/* Stops polling, unpublishes and frees (after a grace period) 'v'. */
void dp_port_del(struct datapath *dp, struct vport *v);
/* Replaces the upcall pids of 'v'. */
int dp_port_set_upcall_pids(struct vport *v, const uint32_t *pids,
                            uint32_t n);
int dp_set_cpu_pids(struct datapath *dp, const uint32_t *pids, uint32_t n);

#endif /* HVS_DATAPATH_H */
