/* OpenFlow groups on the wire: the group-mod message and its buckets,
 * the group-desc, group-stats and group-features multipart bodies, in
 * OpenFlow 1.3 and in the Nicira extension for OpenFlow 1.0 (NXT_GROUP_MOD
 * and NXST_GROUP*, which carry OpenFlow 1.5's group-mod and bucket layout
 * with OpenFlow 1.0 actions: what `ovs-ofctl add-group` sends without
 * -O).  The group table itself lives in hvs-vswitchd
 * (vswitchd/groups.h). */
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
/* Open vSwitch's extension command (ovs-ofctl --may-create mod-group):
 * add the group if it is absent, else modify it. */
#define OFPGC_ADD_OR_MOD 0x8000
/* OpenFlow 1.5's bucket edits, which Open vSwitch offers over 1.0
 * (ovs-ofctl insert-buckets / remove-buckets). */
enum { OFPGC_INSERT_BUCKET = 3, OFPGC_REMOVE_BUCKET = 5 };
/* command_bucket_id values besides a bucket id. */
#define OFPG_BUCKET_FIRST 0xfffffffdu
#define OFPG_BUCKET_LAST 0xfffffffeu
#define OFPG_BUCKET_ALL 0xffffffffu

#define OFPG_MAX 0xffffff00u
#define OFPG_ALL 0xfffffffcu
#define OFPG_ANY 0xffffffffu

/* The most buckets one group may hold. */
#define OFP_GROUP_MAX_BUCKETS 256

struct ofp_bucket {
    uint32_t bucket_id;         /* OpenFlow 1.5 / Nicira: as sent; 1.3:
                                 * the bucket's index */
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
    uint32_t command_bucket_id; /* insert/remove bucket: where */
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
/* The same for the body of a Nicira NXT_GROUP_MOD (after its 16-byte
 * vendor header): OpenFlow 1.5 buckets with properties and OpenFlow 1.0
 * actions.  Bucket ids must be unique and at most OFPG_BUCKET_MAX.  Also
 * takes OFPGC_INSERT_BUCKET and OFPGC_REMOVE_BUCKET, whose buckets are
 * checked against the group's type when applied (groups.h). */
ofperr ofp_group_mod_decode_nx(const uint8_t *body, size_t len,
                               struct ofp_group_mod *gm);
#define OFPG_BUCKET_MAX 0xffffff00u

/* Frees 'n' buckets' actions and the array. */
void ofp_buckets_free(struct ofp_bucket *, size_t n);

/* Appends one OpenFlow 1.3 group-desc entry. */
void ofp_group_desc_encode(struct ofp_buf *, uint8_t type, uint32_t group_id,
                           const struct ofp_bucket *, size_t n_buckets);

/* Appends one Nicira (OpenFlow 1.5 layout) group-desc entry, with
 * OpenFlow 1.0 actions and bucket ids. */
void ofp_group_desc_encode_nx(struct ofp_buf *, uint8_t type,
                              uint32_t group_id, const struct ofp_bucket *,
                              size_t n_buckets);

/* Appends the group-features body: every type, weights, liveness and
 * chaining, and the actions a bucket may hold, as action bitmaps of
 * 'version' (OpenFlow 1.0 numbers its action types differently). */
void ofp_group_features_encode(struct ofp_buf *, uint8_t version);

/* Starts an OpenFlow 1.3 group-stats entry; the caller appends one
 * (packets, bytes) pair per bucket and then calls
 * ofp_group_stats_finish(). */
size_t ofp_group_stats_start(struct ofp_buf *, uint32_t group_id,
                             uint32_t ref_count, uint64_t packets,
                             uint64_t bytes, uint64_t age_ms);
void ofp_group_stats_finish(struct ofp_buf *, size_t start);

#endif /* HVS_OFP_GROUP_H */
