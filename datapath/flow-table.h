/* The datapath's flow table: a megaflow classifier (tuple-space search:
 * one hash table per distinct mask, subtables ranked by hits) behind a
 * per-thread exact-match cache, with a UFID index.
 *
 * Concurrency: one writer (the control thread) and lock-free readers (the
 * forwarding threads), through liburcu (urcu-memb).  Readers call
 * flow_table_lookup() inside rcu_read_lock(); the writer inserts and
 * removes, and removed flows are freed after a grace period (call_rcu), so
 * a reader may still see a flow that was just removed (check 'dead').
 * Every thread that calls in, the writer too, must be registered with
 * urcu_memb_register_thread(): call_rcu() requires it.
 */
#ifndef HVS_FLOW_TABLE_H
#define HVS_FLOW_TABLE_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow-netlink.h"

struct dp_actions;
struct flow_mask;

#define FLOW_UFID_MAX 16

struct dp_flow_stats {
    _Atomic uint64_t packets;
    _Atomic uint64_t bytes;
    _Atomic uint64_t used;      /* CLOCK_MONOTONIC msec of the last hit */
    _Atomic uint16_t tcp_flags; /* OR of tcp_flags seen (host order) */
};

/* A flow.  Owner: the flow table once inserted (freed by it after an RCU
 * grace period when removed); before that, the creator. */
struct dp_flow {
    struct flow_match match;    /* masked key + mask, as installed */
    struct flow_key unmasked_key;   /* the key as userspace sent it */
    uint8_t ufid[FLOW_UFID_MAX];
    uint8_t ufid_len;           /* 0: no UFID (identified by its key) */
    _Atomic bool dead;          /* removed; readers must not use it */
    struct dp_actions *_Atomic acts;    /* RCU: replaced by SET */
    struct dp_flow_stats stats;
    void *priv;                 /* flow-table private linkage */
    uint32_t kflow_head;        /* its kernel-cache entries (kflow.c) */
};

struct flow_table;

struct flow_table *flow_table_create(void);
/* Frees the table and every flow in it (after a grace period). */
void flow_table_destroy(struct flow_table *t);

/* Allocates a flow for 'm' (copied; unmasked key 'unmasked') with no
 * actions.  The caller sets ufid and acts, then inserts it or frees it with
 * flow_free(). */
struct dp_flow *flow_alloc(const struct flow_match *m,
                           const struct flow_key *unmasked);
void flow_free(struct dp_flow *f);      /* not inserted flows only */

/* Writer side. */
/* Returns 0, -EEXIST (same match or same UFID already in), -EINVAL
 * (already inserted, ufid_len too long) or -ENOMEM; on error 'f' stays the
 * caller's. */
int flow_table_insert(struct flow_table *t, struct dp_flow *f);
/* After this returns, 'f' may be freed at any time unless the caller is
 * inside urcu_memb_read_lock(): read what the reply needs first. */
void flow_table_remove(struct flow_table *t, struct dp_flow *f);
/* Replaces f's actions; the old ones are freed after a grace period. */
void flow_table_set_actions(struct flow_table *t, struct dp_flow *f,
                            struct dp_actions *acts);
/* The flow with exactly this match (same masked key and mask), or NULL.
 * Flows with a UFID count too. */
struct dp_flow *flow_table_find_exact(const struct flow_table *t,
                                      const struct flow_match *m);
struct dp_flow *flow_table_find_ufid(const struct flow_table *t,
                                     const uint8_t *ufid, size_t len);
/* Removes every flow. */
void flow_table_flush(struct flow_table *t);
uint32_t flow_table_count(const struct flow_table *t);
uint32_t flow_table_n_masks(const struct flow_table *t);
/* Iteration for dumps, resumable across calls: start with *cursor = 0;
 * returns the next flow or NULL at the end.  Flows inserted or removed
 * between calls may be missed or seen once, never twice (as netlink dumps). */
struct dp_flow *flow_table_next(const struct flow_table *t,
                                uint64_t *cursor);

/* Reader side (inside rcu_read_lock()): the highest-ranked flow whose
 * mask/key matches 'key', or NULL.  '*n_mask_hit' gets the number of
 * subtables probed (the megaflow statistics).  Reorders subtables by hits
 * from time to time (cheaply, without blocking readers). */
struct dp_flow *flow_table_lookup(struct flow_table *t,
                                  const struct flow_key *key,
                                  uint32_t *n_mask_hit);

/* Per-thread exact-match cache in front of flow_table_lookup(). */
struct flow_emc;
struct flow_emc *flow_emc_create(void);
void flow_emc_destroy(struct flow_emc *);
/* Like flow_table_lookup(), but consults and fills 'emc' first.
 * '*emc_hit' tells whether the cache answered. */
struct dp_flow *flow_table_lookup_cached(struct flow_table *t,
                                         struct flow_emc *emc,
                                         const struct flow_key *key,
                                         uint32_t *n_mask_hit, bool *emc_hit);

/* Records 'n_packets' hits of 'n_bytes' in all at 'now_ms' with TCP
 * flags (forwarding threads add up a batch's hits per flow first). */
void flow_stats_hit(struct dp_flow *f, uint32_t n_packets, uint64_t n_bytes,
                    uint16_t tcp_flags, uint64_t now_ms);

#endif /* HVS_FLOW_TABLE_H */
