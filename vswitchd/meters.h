/* OpenFlow meters of one bridge, each backed by a datapath meter.
 *
 * OpenFlow meter ids are per bridge; the datapath (one per host, shared
 * by every bridge) has one meter id space, so each OpenFlow meter gets a
 * datapath meter id of its own from a pool here.  Translation turns the
 * meter instruction into OVS_ACTION_ATTR_METER with that id; the meter's
 * counters are the datapath's.
 *
 * What the meters can do (how many, how many bands, which band types) is
 * what the datapath says; a datapath without the ovs_meter family has no
 * meters, and then every meter-mod is refused, as Open vSwitch refuses
 * them.
 *
 * Threads: the main thread changes the tables while holding xlate_lock
 * for writing and is the only caller of everything but meters_find(),
 * which xlate calls under the read side. */
#ifndef HVS_VSWITCHD_METERS_H
#define HVS_VSWITCHD_METERS_H 1

#include <stddef.h>
#include <stdint.h>

#include "ofp-meter.h"

struct dpif;
struct dpif_meter_stats;
struct rule_set;

/* Owned by its table. */
struct meter {
    uint32_t id;                /* OpenFlow meter id */
    uint32_t dp_id;             /* datapath meter id */
    uint16_t flags;             /* OFPMF_* */
    size_t n_bands;
    struct ofp_meter_band *bands;       /* owned */
    uint64_t created_ms;        /* CLOCK_MONOTONIC */
};

/* Meters sorted by id, the order meter replies list them in. */
struct meter_table {
    struct meter **meters;
    size_t n, cap;
};

/* The datapath that backs the meters (main thread's handle), or NULL to
 * detach: then meters_clear() leaves the datapath's meters in place, as
 * hvs-vswitchd leaves its datapath flows when it exits. */
void meters_init(struct dpif *);
/* What the datapath's meters can do, as meter-features reports it. */
void meters_features(struct ofp_meter_features *);

/* Applies a decoded meter-mod to bridge 'rs' (its meter table, and for a
 * delete the rules that use the deleted meters), with the checks and
 * errors of Open vSwitch.  Caller holds xlate_lock for writing. */
ofperr meters_mod(struct rule_set *rs, const struct ofp_meter_mod *mm,
                  uint64_t now_ms);

/* The meter with OpenFlow id 'id', or NULL. */
const struct meter *meters_find(const struct meter_table *, uint32_t id);
/* Reads the datapath counters of 'm' into '*s'. */
int meters_stats(const struct meter *m, struct dpif_meter_stats *s);
/* Frees every meter and its datapath meter (the table itself is the
 * caller's). */
void meters_clear(struct meter_table *);

#endif /* HVS_VSWITCHD_METERS_H */
