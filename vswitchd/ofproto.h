/* Bridges as hvs-vswitchd runs them: ports with their VLAN configuration,
 * the MAC learning table and (later) the OpenFlow rule tables.  Built by
 * bridge.c from the database; read by xlate under the xlate lock. */
#ifndef HVS_OFPROTO_H
#define HVS_OFPROTO_H 1

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct mac_table;

#define OFPP_LOCAL_NO 65534     /* OpenFlow's LOCAL port */
#define VLAN_NONE (-1)

enum port_vlan_mode {
    PORT_VLAN_ACCESS,           /* 'tag' set: untagged in that VLAN */
    PORT_VLAN_TRUNK,            /* tagged, VLANs in 'trunks' (all if none) */
    PORT_VLAN_NATIVE_TAGGED,    /* trunk; native 'tag' sent tagged */
    PORT_VLAN_NATIVE_UNTAGGED,  /* trunk; native 'tag' sent untagged */
};

/* A tunnel Interface (type vxlan/geneve/gre).  Several share one datapath
 * vport (vxlan_sys_4789, ...); received packets are told apart by their
 * tunnel metadata. */
struct ofport_tunnel {
    int type;                   /* OVS_VPORT_TYPE_*, 0: not a tunnel */
    uint32_t remote_ip;         /* be32; 0 with remote_flow */
    uint32_t local_ip;          /* be32; 0: any */
    uint64_t key;               /* be64 VNI / key */
    bool remote_flow, key_flow;
    uint8_t tos, ttl;
    bool df, csum;
    uint16_t dst_port;
};

struct ofport {
    char name[IFNAMSIZ];
    uint32_t ofp_port;          /* OpenFlow number (Interface.ofport) */
    uint32_t odp_port;          /* datapath port number */
    enum port_vlan_mode vlan_mode;
    int tag;                    /* access or native VLAN, or VLAN_NONE */
    uint8_t *trunks;            /* 4096-bit set, NULL = every VLAN */
    struct ofport_tunnel tnl;
    struct ofproto *bridge;
};

/* A row of the Controller table. */
struct ofcontroller {
    char target[128];           /* "tcp:IP[:PORT]", "ptcp:[PORT][:IP]" */
    uint32_t probe_ms;          /* inactivity_probe, 0: none */
    uint32_t max_backoff_ms;
};

struct ofproto {
    char name[IFNAMSIZ];
    struct ofcontroller *controllers;   /* owned */
    unsigned n_controllers;
    struct ofport **ports;
    unsigned n_ports;
    struct mac_table *macs;
    bool fail_secure;
    uint64_t datapath_id;
};

/* The whole switch configuration the fast decisions need.  Replaced as a
 * whole by the main thread while holding the write side of 'xlate_lock';
 * handlers and revalidators read it under the read side. */
struct xlate_cfg {
    struct ofproto **bridges;
    unsigned n_bridges;
    uint64_t seq;               /* bumps on every replacement */
};

extern pthread_rwlock_t xlate_lock;
extern struct xlate_cfg *xlate_cfg;

/* The port with datapath number 'odp_port', or NULL. */
struct ofport *ofproto_port_by_odp(const struct xlate_cfg *, uint32_t odp);
struct flow_key;
/* The port a packet with 'key' came in on: by in_port, and for tunnel
 * vports by the tunnel metadata too (whose fields it then adds to
 * 'mask'). */
struct ofport *ofproto_port_for_key(const struct xlate_cfg *,
                                    const struct flow_key *key,
                                    struct flow_key *mask);
struct ofproto *ofproto_find(const struct xlate_cfg *, const char *name);
bool ofport_trunks_vlan(const struct ofport *, int vlan);

#endif /* HVS_OFPROTO_H */
