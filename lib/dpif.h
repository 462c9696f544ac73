/* A datapath client: opens a datapath on hvs-dpd (or anything that speaks
 * the ovs_* genetlink families over the control socket) and manages its
 * ports, flows and upcalls.  One struct dpif per thread: it owns one
 * transaction socket; dpif_clone() gives another thread its own. */
#ifndef HVS_DPIF_H
#define HVS_DPIF_H 1

#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct dpif;

struct dpif_port {
    uint32_t port_no;
    enum ovs_vport_type type;
    char name[IFNAMSIZ];
    int ifindex;
    struct ovs_vport_stats stats;
    bool has_stats;             /* OVS_VPORT_ATTR_STATS was present */
};

/* Fills 'p' from an ovs_vport message (a reply or a notification); for
 * clients that speak the family without a struct dpif (hvs show). */
int dpif_port_parse(const struct nlmsghdr *, struct dpif_port *p);

struct dpif_flow_stats {
    uint64_t packets, bytes;
    uint64_t used;              /* CLOCK_MONOTONIC msec, 0 = never */
    uint8_t tcp_flags;
};

/* A flow from a dump.  Pointers are valid during the callback only. */
struct dpif_flow {
    uint8_t ufid[16];
    bool has_ufid;
    struct flow_key key;        /* masked key */
    struct flow_key mask;
    const void *actions;
    size_t actions_len;
    struct dpif_flow_stats stats;
};

/* A packet sent up by the datapath. */
struct dpif_upcall {
    uint8_t cmd;                /* OVS_PACKET_CMD_MISS or _ACTION */
    struct flow_key key;
    const struct nlattr *key_attr;      /* as received, for execute */
    const void *packet;
    size_t len;
    const struct nlattr *userdata;      /* NULL unless an action upcall */
};

#define DPIF_FP_CREATE 1        /* create if absent */
#define DPIF_FP_MODIFY 2        /* modify if present */

/* Opens datapath 'name' on the control socket 'path', creating it if it
 * does not exist (with per-CPU upcall dispatch).  Returns 0 or -errno. */
int dpif_open(const char *path, const char *name, struct dpif **);
/* Another handle on the same datapath, with its own socket. */
int dpif_clone(const struct dpif *, struct dpif **);
void dpif_close(struct dpif *);
int dpif_ifindex(const struct dpif *);
/* The datapath's counters, as OVS_DP_ATTR_STATS / _MEGAFLOW_STATS. */
int dpif_get_stats(struct dpif *, struct ovs_dp_stats *,
                   struct ovs_dp_megaflow_stats *);
const char *dpif_name(const struct dpif *);
/* Deletes the datapath. */
int dpif_destroy(struct dpif *);

int dpif_port_add(struct dpif *, const char *name, enum ovs_vport_type,
                  uint32_t *port_no);
/* A tunnel vport (OVS_VPORT_TYPE_VXLAN, _GENEVE, _GRE) whose options
 * carry the UDP destination port 'dst_port' (0: none, e.g. GRE). */
int dpif_tunnel_port_add(struct dpif *, const char *name,
                         enum ovs_vport_type, uint16_t dst_port,
                         uint32_t *port_no);
int dpif_port_del(struct dpif *, uint32_t port_no);
int dpif_port_get(struct dpif *, const char *name, struct dpif_port *);
typedef int dpif_port_cb(const struct dpif_port *, void *aux);
int dpif_port_dump(struct dpif *, dpif_port_cb *, void *aux);

int dpif_flow_put(struct dpif *, const uint8_t ufid[16],
                  const struct flow_key *key, const struct flow_key *mask,
                  const void *actions, size_t actions_len, int flags,
                  struct dpif_flow_stats *stats);
int dpif_flow_del(struct dpif *, const uint8_t ufid[16],
                  struct dpif_flow_stats *stats);
/* 'cb' must not use the same dpif: the dump is still streaming on its
 * socket (use a dpif_clone() for changes made during a dump). */
typedef int dpif_flow_cb(const struct dpif_flow *, void *aux);
int dpif_flow_dump(struct dpif *, dpif_flow_cb *, void *aux);
int dpif_flow_flush(struct dpif *);

/* Executes 'actions' on 'packet' whose metadata comes from 'key_attr'
 * (an OVS_PACKET_ATTR_KEY-style nest, e.g. from an upcall). */
int dpif_execute(struct dpif *, const struct nlattr *key_attr,
                 const void *packet, size_t len, const void *actions,
                 size_t actions_len);

/* Meters, through the ovs_meter family.  A datapath without the family
 * has no meters: then every call returns -EOPNOTSUPP. */
#define DPIF_METER_MAX_BANDS 8
struct dpif_meter_features {
    uint32_t max_meters, max_bands;
    uint32_t band_types;        /* 1 << OVS_METER_BAND_TYPE_* */
};
struct dpif_meter_band {
    uint32_t type;              /* OVS_METER_BAND_TYPE_* */
    uint32_t rate, burst;       /* kbit/s and kbit, or packets */
};
struct dpif_meter_stats {
    uint64_t packets, bytes;
    uint32_t n_bands;
    struct dpif_meter_band_stats {
        uint64_t packets, bytes;
    } bands[DPIF_METER_MAX_BANDS];
};
int dpif_meter_features(struct dpif *, struct dpif_meter_features *);
/* Creates or replaces meter 'id' (a new meter counts from zero). */
int dpif_meter_set(struct dpif *, uint32_t id, bool kbps,
                   const struct dpif_meter_band *, size_t n_bands);
/* The counters of meter 'id' ('*s' zeroed first); -ENOENT if none. */
int dpif_meter_get(struct dpif *, uint32_t id, struct dpif_meter_stats *s);
/* Deletes meter 'id'; succeeds when there was none. */
int dpif_meter_del(struct dpif *, uint32_t id);

/* Upcall sockets: 'n' handler sockets whose port ids become the
 * datapath's per-CPU upcall pids. */
int dpif_handlers_set(struct dpif *, unsigned n);
int dpif_handler_fd(const struct dpif *, unsigned handler);
/* Receives one upcall on handler socket 'handler' into 'buf' without
 * blocking: 0, -EAGAIN, -ENOBUFS (some were lost) or another error. */
int dpif_recv(struct dpif *, unsigned handler, struct dpif_upcall *,
              void *buf, size_t size);

/* Port notifications: a socket in the ovs_vport multicast group. */
int dpif_port_events_open(struct dpif *);
int dpif_port_events_fd(const struct dpif *);
/* 0 with *cmd (OVS_VPORT_CMD_*) and the port, -EAGAIN, or -ENOBUFS (the
 * caller must resynchronise with a dump). */
int dpif_port_event(struct dpif *, uint8_t *cmd, struct dpif_port *);

#endif /* HVS_DPIF_H */
