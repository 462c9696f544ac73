/* OpenFlow 1.3 groups on the wire: the group-mod message and its buckets,
 * the group-desc, group-stats and group-features multipart bodies.  The
 * group table itself lives in hvs-vswitchd (vswitchd/groups.h). */
#ifndef HVS_OFP_GROUP_H
#define HVS_OFP_GROUP_H 1

#include <stddef.h>
#include <stdint.h>

#include "ofp-actions.h"
#include "ofp-msgs.h"

enum ofp_group_type {
    OFPGT_ALL = 0, OFPGT_SELECT = 1, OFPGT_INDIRECT = 2, OFPGT_FF = 3,
};
#define OFPGT_N_TYPES 4

enum { OFPGC_ADD = 0, OFPGC_MODIFY = 1, OFPGC_DELETE = 2 };

#define OFPG_MAX 0xffffff00u
#define OFPG_ALL 0xfffffffcu
#define OFPG_ANY 0xffffffffu

/* The most buckets one group may hold. */
#define OFP_GROUP_MAX_BUCKETS 256

struct ofp_bucket {
    uint16_t weight;
    uint32_t watch_port;        /* OFPP_ANY: none */
    uint32_t watch_group;       /* OFPG_ANY: none */
    struct ofpacts acts;        /* owned */
};

/* A decoded group-mod; owns its buckets (free with
 * ofp_group_mod_uninit()). */
struct ofp_group_mod {
    uint16_t command;
    uint8_t type;
    uint32_t group_id;
    struct ofp_bucket *buckets;
    size_t n_buckets;
};

/* Decodes the body of an OpenFlow 1.3 OFPT_GROUP_MOD (after the header)
 * and checks it as OpenFlow requires of every switch: a known command and
 * type, well-formed buckets, weights only in select groups, a watch in
 * every fast-failover bucket and in no all/indirect one, exactly one
 * bucket in an indirect group.  On error 'gm' holds nothing. */
ofperr ofp_group_mod_decode(const uint8_t *body, size_t len,
                            struct ofp_group_mod *gm);
void ofp_group_mod_uninit(struct ofp_group_mod *);

/* Frees 'n' buckets' actions and the array. */
void ofp_buckets_free(struct ofp_bucket *, size_t n);

/* Appends one OpenFlow 1.3 group-desc entry. */
void ofp_group_desc_encode(struct ofp_buf *, uint8_t type, uint32_t group_id,
                           const struct ofp_bucket *, size_t n_buckets);

/* Appends the OpenFlow 1.3 group-features body: every type, weights,
 * liveness and chaining, and the actions a bucket may hold. */
void ofp_group_features_encode(struct ofp_buf *);

/* Starts an OpenFlow 1.3 group-stats entry; the caller appends one
 * (packets, bytes) pair per bucket and then calls
 * ofp_group_stats_finish(). */
size_t ofp_group_stats_start(struct ofp_buf *, uint32_t group_id,
                             uint32_t ref_count, uint64_t packets,
                             uint64_t bytes, uint64_t age_ms);
void ofp_group_stats_finish(struct ofp_buf *, size_t start);

#endif /* HVS_OFP_GROUP_H */
