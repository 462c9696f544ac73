/* Translation: what the switch does with a packet of a given flow key,
 * as datapath actions plus the mask of every key field the decision
 * consulted (the megaflow). */
#ifndef HVS_XLATE_H
#define HVS_XLATE_H 1

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct xlate_cfg;

/* The CONTROLLER action becomes a datapath userspace() action whose
 * userdata is this: everything a packet-in needs, so that the handler
 * that receives the action upcall builds it without translating the
 * packet again.  Host byte order: it never leaves this process. */
#define XLATE_COOKIE_CONTROLLER 0x48    /* 'H' */
struct xlate_pin_cookie {
    uint8_t kind;               /* XLATE_COOKIE_CONTROLLER */
    uint8_t reason;             /* OFPR_NO_MATCH, OFPR_ACTION */
    uint8_t table_id;
    uint8_t pad0;
    uint16_t max_len;
    uint16_t pad1;
    uint32_t in_port;           /* OpenFlow port (32-bit numbering) */
    uint32_t pad2;
    uint64_t cookie;            /* the rule's cookie */
    char bridge[IFNAMSIZ];
};

enum { OFPR_NO_MATCH = 0, OFPR_ACTION = 1 };

#define XLATE_ACTIONS_MAX 4096

struct xlate_out {
    uint8_t actions[XLATE_ACTIONS_MAX];     /* OVS_ACTION_ATTR_* */
    size_t actions_len;
    struct flow_key mask;
    bool mac_moved;             /* learning changed a MAC's port */
};

/* Translates 'key' through the configuration 'cfg' (caller holds
 * xlate_lock for reading).  With 'learn', NORMAL learns source MACs at
 * time 'now' (seconds); revalidation translates without learning. */
void xlate(const struct xlate_cfg *cfg, const struct flow_key *key,
           bool learn, uint64_t now, struct xlate_out *out);
/* xlate() with learning for an upcalled packet of 'len' bytes, which the
 * rules (and groups) it hits count. */
void xlate_upcall(const struct xlate_cfg *cfg, const struct flow_key *key,
                  size_t len, uint64_t now, struct xlate_out *out);

/* Adds 'packets' and 'bytes', used at 'used_ms' (CLOCK_MONOTONIC), to
 * the counters of every OpenFlow rule that translating 'key' hits: the
 * revalidator pushes a datapath flow's new statistics this way, with
 * the TCP flags the flow has seen (fin_timeout actions act on them).  Caller
 * holds xlate_lock for reading; 'scratch' receives a translation. */
void xlate_credit(const struct xlate_cfg *cfg, const struct flow_key *key,
                  uint64_t packets, uint64_t bytes, uint64_t used_ms,
                  uint8_t tcp_flags, struct xlate_out *scratch);

struct ofp_fields;
struct trace_node;
/* Translates 'key' as xlate() does, without learning, and records the
 * packet's trip (tables, rules, actions, NORMAL's decisions) under
 * 'bridge_node' for ofproto/trace.  '*final' receives the packet as the
 * pipeline left it (in_port as the OpenFlow number). */
void xlate_trace(const struct xlate_cfg *cfg, const struct flow_key *key,
                 uint64_t now, struct xlate_out *out,
                 struct trace_node *bridge_node, struct ofp_fields *final);

struct ofpacts;
/* Translates the OpenFlow actions 'acts' for a packet with 'key' that
 * came from OpenFlow port 'in_ofp' of bridge 'bridge' (OFPP_CONTROLLER or
 * OFPP_ANY: from the controller), as packet-out does.  Caller holds
 * xlate_lock for reading.  Returns false if there is no such bridge. */
bool xlate_actions(const struct xlate_cfg *cfg, const char *bridge,
                   uint32_t in_ofp, const struct flow_key *key,
                   const struct ofpacts *acts, struct xlate_out *out);

#endif /* HVS_XLATE_H */
