/* Meters: token-bucket rate limiters that flows reach through
 * OVS_ACTION_ATTR_METER, configured through the ovs_meter family.
 *
 * Semantics follow the kernel datapath's meters: one table per datapath,
 * meter ids are any u32, at most METER_MAX_BANDS bands per meter, rates in
 * kbit/s or packets/s, buckets start full and hold 'burst' (kbit or
 * packets), a packet that finds a band's bucket short is counted on the
 * band of highest rate among those it exceeded, and dropped if that band
 * is a DROP band.
 *
 * Concurrency: the control thread is the only writer of the table (set,
 * remove, destroy); forwarding threads look meters up under
 * urcu_memb_read_lock() without locks, and take the meter's own spinlock
 * only to update its buckets and counters.  A replaced or removed meter is
 * freed after a grace period.
 */
#ifndef HVS_METER_H
#define HVS_METER_H 1

#include <linux/openvswitch.h>
#include <stdbool.h>
#include <stdint.h>

/* As the kernel: one band per meter, and at most 200000 meters (the
 * kernel's cap, reached on any host with a few GB of memory). */
#define METER_MAX_BANDS 1
#define METER_MAX_METERS 200000u

struct meter_table;
struct dp_meter;

/* What OVS_METER_CMD_SET configures. */
struct meter_band_config {
    uint32_t type;              /* OVS_METER_BAND_TYPE_* (others kept, and
                                 * never drop) */
    uint32_t rate;              /* kbit/s or packets/s; not zero */
    uint32_t burst;             /* kbit or packets */
};

struct meter_config {
    uint32_t id;
    bool kbps;                  /* else packets per second */
    bool keep_stats;            /* false: OVS_METER_ATTR_CLEAR was given */
    struct ovs_flow_stats stats;        /* initial counters */
    uint32_t n_bands;
    struct meter_band_config bands[METER_MAX_BANDS];
};

/* A consistent copy of a meter's counters. */
struct meter_stats {
    uint32_t id;
    bool keep_stats;
    uint64_t used;              /* ms, CLOCK_MONOTONIC; 0: never */
    struct ovs_flow_stats stats;
    uint32_t n_bands;
    struct ovs_flow_stats band_stats[METER_MAX_BANDS];
};

/* Table.  Owner: the datapath. */
struct meter_table *meter_table_create(uint32_t max_meters);
/* Frees the table and every meter in it; no reader may still use it (call
 * after a grace period that follows the last forwarding use). */
void meter_table_destroy(struct meter_table *t);
uint32_t meter_table_max(const struct meter_table *t);
uint32_t meter_table_count(const struct meter_table *t);

/* A new meter from 'c' (checked by the caller: 1..METER_MAX_BANDS bands,
 * rates not zero), its buckets full and 'used' = 'now_ms'.  NULL when out
 * of memory.  Owner: the caller until meter_table_set() takes it. */
struct dp_meter *meter_create(const struct meter_config *c, uint64_t now_ms);
/* Frees a meter that was never published. */
void meter_free(struct dp_meter *m);

/* Publishes 'm' under its id, replacing any meter of that id, whose
 * counters go to '*old' (if nonnull; old->id is UINT32_MAX when there was
 * none).  The replaced meter is freed after a grace period.  Returns 0, or
 * -EFBIG when the table is full (then 'm' is freed, and an existing meter
 * of that id is kept). */
int meter_table_set(struct meter_table *t, struct dp_meter *m,
                    struct meter_stats *old);
/* Copies the counters of meter 'id' into '*s'.  Returns 0 or -ENOENT.
 * Control thread. */
int meter_table_get(struct meter_table *t, uint32_t id, struct meter_stats *s);
/* Removes meter 'id', copying its counters into '*s' first (if nonnull).
 * Returns 0 or -ENOENT. */
int meter_table_remove(struct meter_table *t, uint32_t id,
                       struct meter_stats *s);
/* For dumps (control thread): stores in 'ids' the up to 'max' lowest
 * meter ids at or above 'from', in increasing order, and returns how many
 * it stored. */
uint32_t meter_table_ids(struct meter_table *t, uint64_t from, uint32_t *ids,
                         uint32_t max);

/* Fast path: accounts a packet of 'len' bytes, seen at 'now_ms', to meter
 * 'id' and returns true if it must be dropped.  A missing meter passes
 * every packet, as in the kernel.  Inside urcu_memb_read_lock(). */
bool meter_execute(struct meter_table *t, uint32_t id, uint32_t len,
                   uint64_t now_ms);

#endif /* HVS_METER_H */
