/* OpenFlow group table of one bridge: groups by id with their buckets and
 * counters.  Changed by the main thread under xlate_lock held for
 * writing (ofconn's group-mods); read by xlate under the read side.
 * Counters are atomics because handlers bump them while reading. */
#ifndef HVS_VSWITCHD_GROUPS_H
#define HVS_VSWITCHD_GROUPS_H 1

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ofp-group.h"

struct group_counter {
    _Atomic uint64_t packets, bytes;
};

/* Owned by its table. */
struct group {
    uint32_t id;
    uint8_t type;                       /* enum ofp_group_type */
    struct ofp_bucket *buckets;         /* owned */
    size_t n_buckets;
    struct group_counter *bucket_stats; /* one per bucket, owned */
    struct group_counter stats;
    uint64_t created_ms;                /* CLOCK_MONOTONIC */
};

/* Groups sorted by id, the order group-desc and group-stats replies
 * list them in. */
struct group_table {
    struct group **groups;
    size_t n, cap;
};

/* Applies an add or a modify: on success the table takes the buckets of
 * 'gm' (which is left empty).  Errors: GROUP_EXISTS for an add of an id
 * in use, UNKNOWN_GROUP for a modify of an absent one, INVALID_GROUP for
 * ids above OFPG_MAX. */
ofperr groups_add_or_modify(struct group_table *, struct ofp_group_mod *gm,
                            uint64_t now_ms);
/* Applies OFPGC_INSERT_BUCKET or OFPGC_REMOVE_BUCKET (OpenFlow 1.5's,
 * over 1.0 through Open vSwitch's extension): inserts the buckets of 'gm'
 * (which the table takes) first, last or after the bucket with id
 * gm->command_bucket_id, or removes the first, last, that or every
 * bucket.  Kept buckets keep their counters.  Errors: UNKNOWN_GROUP,
 * UNKNOWN_BUCKET, BUCKET_EXISTS (an inserted id already there).  As in
 * Open vSwitch, the group type's bucket rules are not applied to the
 * result (an indirect group may end up with two buckets; it uses the
 * first). */
ofperr groups_edit_buckets(struct group_table *, struct ofp_group_mod *gm);
/* Deletes group 'id' (OFPG_ALL: every group).  Returns how many went. */
size_t groups_delete(struct group_table *, uint32_t id);
/* The group with 'id', or NULL. */
struct group *groups_find(const struct group_table *, uint32_t id);
/* Frees every group (the table itself is the caller's). */
void groups_clear(struct group_table *);

/* The bucket of a select group that a flow with hash 'hash' takes,
 * weighted; -1 if every bucket has weight 0 or there are none. */
int groups_select_bucket(const struct group *, uint32_t hash);

#endif /* HVS_VSWITCHD_GROUPS_H */
