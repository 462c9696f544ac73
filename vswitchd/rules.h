/* OpenFlow rule tables: per bridge 254 tables (0 to 253) of rules in priority
 * order, with cookies, idle/hard timeouts and counters, and the flow-mod
 * and flow-stats selections over them.
 *
 * Each table is a tuple-space classifier (classifier.h).  Rule sets live
 * in a registry keyed by bridge name, so that they survive the rebuilds
 * of struct xlate_cfg (bridge.c).  The main thread changes them while
 * holding xlate_lock for writing; xlate reads them under the read side.
 * Counters are atomics because handlers bump them while reading. */
#ifndef HVS_VSWITCHD_RULES_H
#define HVS_VSWITCHD_RULES_H 1

#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "classifier.h"
#include "groups.h"
#include "meters.h"
#include "ofp-actions.h"
#include "ofp-match.h"

struct xlate_cfg;

#define RULES_N_TABLES 254      /* tables 0..253; 255 means "all" */
#define RULES_TABLE_ALL 255

#define RULE_F_SEND_FLOW_REM 1
#define RULE_F_CHECK_OVERLAP 2

/* Owned by its table. */
struct rule {
    struct ofp_match match;
    uint16_t priority;
    uint8_t table_id;
    uint16_t flags;             /* OFPFF_* as on the wire */
    uint16_t idle_timeout, hard_timeout;    /* seconds, 0 = none */
    uint64_t cookie;
    struct ofpacts acts;
    uint64_t created_ms;        /* CLOCK_MONOTONIC */
    uint64_t modified_ms;       /* last add, modify or relearn: the hard
                                 * timeout counts from here, as Open
                                 * vSwitch counts it */
    _Atomic uint64_t used_ms;
    _Atomic uint64_t n_packets, n_bytes;
    /* A fin_timeout action of the rule saw a TCP FIN or RST: the
     * timeouts to reduce to (idle << 16 | hard), 0 if none.  Translating
     * threads set it (rules_fin_timeout()); the main thread applies it
     * when it next looks at expiry. */
    _Atomic uint32_t fin_pending;
    bool fin_reduced;           /* the timeouts were reduced so */
    struct cls_rule cr;         /* in its table's classifier */
};

struct rule_table {
    struct classifier cls;
    _Atomic uint64_t n_lookups, n_matched;
};

/* One bridge's tables. */
struct rule_set {
    char name[IFNAMSIZ];
    struct rule_table tables[RULES_N_TABLES];
    /* Set by ofconn from the bridge's controller connections (main
     * thread, xlate_lock held for writing). */
    bool fail_open;             /* fail_mode standalone, controllers
                                 * configured, none connected: the bridge
                                 * acts as a NORMAL switch */
    bool miss_to_controller;    /* an OpenFlow 1.0 controller is connected:
                                 * table misses become packet-ins */
    struct group_table groups;
    struct meter_table meters;
    /* The switch's fragment handling (set-config flags, OFPC_FRAG_*):
     * per switch, as OpenFlow has it, not per connection. */
    uint16_t frag_mode;
    /* OpenFlow port config bits that are the switch's own rather than
     * the host interface's (RULES_PC_*), by OpenFlow port number
     * (OFPP_LOCAL for the local port); ports not listed have none. */
    struct rule_port_cfg {
        uint32_t port_no;
        uint32_t config;
    } *port_cfg;
    size_t n_port_cfg;
    /* Learn actions with delete_learned whose rule just went: (table,
     * cookie) pairs whose learned rules go too unless another rule still
     * has such a learn action (main thread, while removing rules). */
    struct rule_learned_cookie {
        uint8_t table_id;
        uint64_t cookie;
    } *flush;
    size_t n_flush, cap_flush;
    struct rule_set *next;
};

/* Fragment handling modes (OFPC_FRAG_*). */
enum { RULES_FRAG_NORMAL = 0, RULES_FRAG_DROP = 1, RULES_FRAG_REASM = 2,
       RULES_FRAG_NX_MATCH = 3 };

/* Port config bits kept here (OFPPC_*, same bits in 1.0 and 1.3; 1.3 has
 * no NO_FLOOD). */
#define RULES_PC_NO_RECV      (1u << 2)
#define RULES_PC_NO_FLOOD     (1u << 4)
#define RULES_PC_NO_FWD       (1u << 5)
#define RULES_PC_NO_PACKET_IN (1u << 6)
#define RULES_PC_ALL (RULES_PC_NO_RECV | RULES_PC_NO_FLOOD | RULES_PC_NO_FWD \
                      | RULES_PC_NO_PACKET_IN)

/* The RULES_PC_* bits of port 'port_no' (0 for a NULL set). */
uint32_t rules_port_config(const struct rule_set *, uint32_t port_no);
/* Sets them (only RULES_PC_ALL bits are kept).  Returns false if memory
 * is short. */
bool rules_set_port_config(struct rule_set *, uint32_t port_no,
                           uint32_t config);

/* Which rules a flow-mod (modify/delete) or stats request means. */
struct rule_criteria {
    uint8_t table_id;           /* or RULES_TABLE_ALL */
    struct ofp_match match;
    uint16_t priority;          /* strict only */
    bool strict;
    uint32_t out_port;          /* OFPP_ANY: any */
    uint64_t cookie, cookie_mask;
    bool by_group;              /* only rules with a group action ... */
    uint32_t out_group;         /* ... to this group (OFPG_ALL: any) */
    bool by_meter;              /* only rules with a meter instruction ...
                                 */
    uint32_t meter_id;          /* ... for this meter (OFPM_ALL: any) */
};

/* Why a rule went, as flow-removed messages say. */
enum { RULE_REMOVED_IDLE = 0, RULE_REMOVED_HARD = 1, RULE_REMOVED_DELETE = 2,
       RULE_REMOVED_GROUP_DELETE = 3 };
/* Called with every rule that rules_delete() or rules_expire() removes
 * and that has RULE_F_SEND_FLOW_REM, just before it is freed (xlate_lock
 * held for writing).  NULL: nobody listens. */
typedef void rules_removed_cb(const struct rule_set *, const struct rule *,
                              int reason);
void rules_set_removed_hook(rules_removed_cb *);

/* Makes the registry hold exactly the bridges of 'cfg': a new bridge gets
 * the default rule "priority=0 actions=NORMAL" in table 0.  Caller holds
 * xlate_lock for writing.  Returns true if anything changed. */
bool rules_sync(const struct xlate_cfg *cfg);
/* The rule set of bridge 'name', or NULL. */
struct rule_set *rules_find(const char *name);
void rules_destroy_all(void);

/* The highest-priority rule of 'table' that 'pkt' matches, or NULL;
 * ORs what the lookup consulted into 'wc'.  'count': bump counters. */
struct rule *rules_lookup(struct rule_set *, uint8_t table,
                          const struct ofp_fields *pkt, struct flow_key *wc,
                          bool count);

/* Adds 'r' (which the table then owns) to its table, replacing a rule
 * with the same match and priority.  Returns 0 or an OpenFlow error (the
 * rule is then freed). */
ofperr rules_add(struct rule_set *, struct rule *r, uint64_t now_ms);
/* Replaces the actions (and, if 'set_cookie', the cookie) of every rule
 * 'c' selects.  Returns how many. */
size_t rules_modify(struct rule_set *, const struct rule_criteria *c,
                    const struct ofpacts *acts, bool set_cookie,
                    uint64_t new_cookie);
/* Deletes every rule 'c' selects.  Returns how many. */
size_t rules_delete(struct rule_set *, const struct rule_criteria *c);
/* rules_delete() with the flow-removed reason to report. */
size_t rules_delete_reason(struct rule_set *, const struct rule_criteria *c,
                           int reason);
/* Deletes every rule with a meter instruction for meter 'id' (the meter
 * is going).  Returns how many. */
size_t rules_delete_meter(struct rule_set *, uint32_t id);
/* How many rules have a meter instruction for meter 'id'. */
uint32_t rules_meter_refs(const struct rule_set *, uint32_t id);
/* How many rules have a group action to group 'id'. */
uint32_t rules_group_refs(const struct rule_set *, uint32_t id);
/* Calls 'cb' for every rule 'c' selects, table by table, in priority
 * order. */
void rules_for_each(struct rule_set *, const struct rule_criteria *c,
                    void (*cb)(const struct rule *, void *aux), void *aux);
/* A fin_timeout action of 'r' saw a TCP FIN or RST: its idle and hard
 * timeouts are to become at most 'idle' and 'hard' seconds (0: that one
 * unchanged), as soon as the main thread next expires rules.  Any thread
 * that holds xlate_lock for reading. */
void rules_fin_timeout(struct rule *r, uint16_t idle, uint16_t hard);
/* Applies pending fin_timeout reductions, then deletes rules whose idle
 * or hard timeout has passed.  Returns how many went. */
size_t rules_expire(struct rule_set *, uint64_t now_ms);

/* Learned rules (the learn action): handler threads build them while
 * translating and queue them here; the main thread adds them.  The queue
 * is bounded (what does not fit is dropped: the next packet learns it
 * again).  'r' is the queue's after the call. */
void rules_queue_learned(const char *bridge, struct rule *r);
/* Called (from the queuing thread) after a rule was queued: the main
 * loop's wake-up. */
void rules_set_learn_wakeup(void (*cb)(void));
/* Adds the queued rules (caller holds xlate_lock for writing).  A rule
 * that is already there with the same actions only has its timeouts
 * restarted, so that relearning does not churn the tables.  Returns
 * whether a table changed (datapath flows need revalidating). */
bool rules_apply_learned(uint64_t now_ms);
/* Whether rules wait in the queue (cheap: no lock). */
bool rules_learned_pending(void);

struct rule *rule_create(void);
void rule_free(struct rule *);
size_t rules_count(const struct rule_set *, uint8_t table);

#endif /* HVS_VSWITCHD_RULES_H */
