/* OpenFlow group messages, 1.3 and Nicira (see ofp-group.h). */
#include "ofp-group.h"

#include <stdlib.h>
#include <string.h>

#include "ofp-match.h"

#define BUCKET_HDR_LEN 16
#define GROUP_MOD_HDR_LEN 8
#define NX_BUCKET_HDR_LEN 8
#define NX_GROUP_MOD_HDR_LEN 16
#define NX_GROUP_DESC_HDR_LEN 16

/* OpenFlow 1.5 bucket properties. */
enum { BPROP_WEIGHT = 0, BPROP_WATCH_PORT = 1, BPROP_WATCH_GROUP = 2 };

void
ofp_buckets_free(struct ofp_bucket *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ofpacts_uninit(&b[i].acts);
    }
    free(b);
}

void
ofp_group_mod_uninit(struct ofp_group_mod *gm)
{
    ofp_buckets_free(gm->buckets, gm->n_buckets);
    gm->buckets = NULL;
    gm->n_buckets = 0;
}

static bool
has_watch(const struct ofp_bucket *b)
{
    return b->watch_port != OFPP_ANY || b->watch_group != OFPG_ANY;
}

/* The checks OpenFlow puts on the buckets of each group type. */
static bool
bucket_edit(const struct ofp_group_mod *gm)
{
    return gm->command == OFPGC_INSERT_BUCKET
           || gm->command == OFPGC_REMOVE_BUCKET;
}

/* The bucket rules of gm->type: one bucket in an indirect group, weights
 * only in select groups, watches in fast-failover groups only and there
 * always. */
static ofperr
check_buckets(const struct ofp_group_mod *gm)
{
    if (gm->type == OFPGT_INDIRECT && gm->n_buckets != 1) {
        return OFPERR_GROUP_INVALID;
    }
    for (size_t i = 0; i < gm->n_buckets; i++) {
        const struct ofp_bucket *b = &gm->buckets[i];
        if (b->weight && gm->type != OFPGT_SELECT) {
            return OFPERR_GROUP_INVALID;
        }
        if (gm->type == OFPGT_FF ? !has_watch(b)
            : gm->type != OFPGT_SELECT && has_watch(b)) {
            return gm->type == OFPGT_FF ? OFPERR_GROUP_INVALID
                                        : OFPERR_GROUP_WATCH_UNSUPPORTED;
        }
    }
    return 0;
}

static ofperr
check_group_mod(const struct ofp_group_mod *gm)
{
    if (gm->command > OFPGC_DELETE && gm->command != OFPGC_ADD_OR_MOD
        && !bucket_edit(gm)) {
        return OFPERR_GROUP_BAD_COMMAND;
    }
    if (gm->type >= OFPGT_N_TYPES) {
        return OFPERR_GROUP_BAD_TYPE;
    }
    if (gm->command == OFPGC_DELETE || bucket_edit(gm)) {
        return 0;
    }
    return check_buckets(gm);
}

static ofperr
decode_bucket(struct ofp_rd *r, struct ofp_bucket *b)
{
    struct ofp_rd hdr = *r;
    uint16_t len = ofp_rd_be16(&hdr);

    if (hdr.bad || len < BUCKET_HDR_LEN || len % 8 || len > r->left) {
        return OFPERR_GROUP_BAD_BUCKET;
    }
    b->weight = ofp_rd_be16(&hdr);
    b->watch_port = ofp_rd_be32(&hdr);
    b->watch_group = ofp_rd_be32(&hdr);
    ofp_rd_pull(r, len);
    if (b->watch_port > OFPP_MAX && b->watch_port != OFPP_ANY
        && b->watch_port != OFPP_LOCAL && b->watch_port != OFPP_IN_PORT) {
        return OFPERR_GROUP_BAD_WATCH;
    }
    return ofpacts_decode_actions(OFP13_VERSION, hdr.p + 4,
                                  len - BUCKET_HDR_LEN, &b->acts);
}

/* Appends a zeroed bucket to 'gm' (NULL when there are too many or
 * memory is short; *err says which). */
static struct ofp_bucket *
add_bucket(struct ofp_group_mod *gm, ofperr *err)
{
    if (gm->n_buckets >= OFP_GROUP_MAX_BUCKETS) {
        *err = OFPERR_GROUP_OUT_OF_BUCKETS;
        return NULL;
    }
    if (!(gm->n_buckets & (gm->n_buckets - 1))) {
        size_t cap = gm->n_buckets ? gm->n_buckets * 2 : 1;
        struct ofp_bucket *nb = realloc(gm->buckets, cap * sizeof *nb);
        if (!nb) {
            *err = OFPERR_GROUP_OUT_OF_BUCKETS;
            return NULL;
        }
        gm->buckets = nb;
    }
    struct ofp_bucket *b = &gm->buckets[gm->n_buckets++];
    memset(b, 0, sizeof *b);
    ofpacts_init(&b->acts);
    b->watch_port = OFPP_ANY;
    b->watch_group = OFPG_ANY;
    return b;
}

/* One OpenFlow 1.5 bucket: header, 1.0 actions, then properties. */
static ofperr
decode_nx_bucket(struct ofp_rd *r, uint8_t group_type, struct ofp_bucket *b)
{
    struct ofp_rd hdr = *r;
    uint16_t len = ofp_rd_be16(&hdr);
    uint16_t acts_len = ofp_rd_be16(&hdr);

    b->bucket_id = ofp_rd_be32(&hdr);
    if (hdr.bad || len < NX_BUCKET_HDR_LEN || len > r->left
        || acts_len > len - NX_BUCKET_HDR_LEN
        || b->bucket_id > OFPG_BUCKET_MAX) {
        return OFPERR_GROUP_BAD_BUCKET;
    }
    ofp_rd_pull(r, len);
    /* Without a weight property a select bucket weighs 1. */
    b->weight = group_type == OFPGT_SELECT;
    ofperr err = ofpacts_decode_actions(OFP10_VERSION, hdr.p, acts_len,
                                        &b->acts);
    if (err) {
        return err;
    }
    struct ofp_rd props;
    ofp_rd_init(&props, hdr.p + acts_len, len - NX_BUCKET_HDR_LEN - acts_len);
    while (props.left) {
        uint16_t type = ofp_rd_be16(&props);
        uint16_t plen = ofp_rd_be16(&props);
        size_t padded = (plen + 7u) / 8 * 8;
        if (props.bad || plen < 4 || padded - 4 > props.left) {
            return OFPERR_GROUP_BAD_BUCKET;
        }
        struct ofp_rd v;
        ofp_rd_init(&v, props.p, plen - 4);
        ofp_rd_pull(&props, padded - 4);
        switch (type) {
        case BPROP_WEIGHT:
            b->weight = ofp_rd_be16(&v);
            break;
        case BPROP_WATCH_PORT:
            b->watch_port = ofp_rd_be32(&v);
            break;
        case BPROP_WATCH_GROUP:
            b->watch_group = ofp_rd_be32(&v);
            break;
        default:
            return OFPERR_GROUP_BAD_BUCKET;
        }
        if (v.bad) {
            return OFPERR_GROUP_BAD_BUCKET;
        }
    }
    if (b->watch_port > OFPP_MAX && b->watch_port != OFPP_ANY
        && b->watch_port != OFPP_LOCAL && b->watch_port != OFPP_IN_PORT) {
        return OFPERR_GROUP_BAD_WATCH;
    }
    return 0;
}

ofperr
ofp_group_mod_decode_nx(const uint8_t *body, size_t len,
                        struct ofp_group_mod *gm)
{
    struct ofp_rd r;
    ofperr err = 0;

    memset(gm, 0, sizeof *gm);
    ofp_rd_init(&r, body, len);
    gm->command = ofp_rd_be16(&r);
    gm->type = ofp_rd_u8(&r);
    ofp_rd_u8(&r);
    gm->group_id = ofp_rd_be32(&r);
    uint16_t buckets_len = ofp_rd_be16(&r);
    ofp_rd_pull(&r, 2);
    gm->command_bucket_id = ofp_rd_be32(&r);
    if (r.bad || buckets_len > r.left) {
        return OFPERR_BAD_REQ_LEN;
    }
    /* Group properties (selection methods) after the buckets are not
     * supported: refuse rather than ignore them. */
    if (r.left > buckets_len) {
        return OFPERR_GROUP_BAD_TYPE;
    }
    while (r.left && !err) {
        struct ofp_bucket *b = add_bucket(gm, &err);
        if (b) {
            err = decode_nx_bucket(&r, gm->type, b);
        }
    }
    for (size_t i = 0; !err && i < gm->n_buckets; i++) {
        for (size_t j = 0; j < i; j++) {
            if (gm->buckets[i].bucket_id == gm->buckets[j].bucket_id) {
                err = OFPERR_GROUP_BAD_BUCKET;  /* as Open vSwitch */
                break;
            }
        }
    }
    if (!err) {
        err = check_group_mod(gm);
    }
    if (err) {
        ofp_group_mod_uninit(gm);
    }
    return err;
}

ofperr
ofp_group_mod_decode(const uint8_t *body, size_t len, struct ofp_group_mod *gm)
{
    struct ofp_rd r;
    ofperr err = 0;

    memset(gm, 0, sizeof *gm);
    ofp_rd_init(&r, body, len);
    gm->command = ofp_rd_be16(&r);
    gm->type = ofp_rd_u8(&r);
    ofp_rd_u8(&r);
    gm->group_id = ofp_rd_be32(&r);
    if (r.bad) {
        return OFPERR_BAD_REQ_LEN;
    }
    while (r.left && !err) {
        if (gm->n_buckets >= OFP_GROUP_MAX_BUCKETS) {
            err = OFPERR_GROUP_OUT_OF_BUCKETS;
            break;
        }
        if (!(gm->n_buckets & (gm->n_buckets - 1))) {
            size_t cap = gm->n_buckets ? gm->n_buckets * 2 : 1;
            struct ofp_bucket *nb = realloc(gm->buckets, cap * sizeof *nb);
            if (!nb) {
                err = OFPERR_GROUP_OUT_OF_BUCKETS;
                break;
            }
            gm->buckets = nb;
        }
        struct ofp_bucket *b = &gm->buckets[gm->n_buckets];
        memset(b, 0, sizeof *b);
        b->bucket_id = gm->n_buckets++;
        ofpacts_init(&b->acts);
        err = decode_bucket(&r, b);
    }
    if (!err) {
        err = check_group_mod(gm);
    }
    if (err) {
        ofp_group_mod_uninit(gm);
    }
    return err;
}

void
ofp_group_desc_encode(struct ofp_buf *b, uint8_t type, uint32_t group_id,
                      const struct ofp_bucket *buckets, size_t n)
{
    size_t start = b->len;

    ofp_buf_be16(b, 0);                 /* length, below */
    ofp_buf_u8(b, type);
    ofp_buf_u8(b, 0);
    ofp_buf_be32(b, group_id);
    for (size_t i = 0; i < n; i++) {
        size_t bstart = b->len;
        ofp_buf_be16(b, 0);
        ofp_buf_be16(b, buckets[i].weight);
        ofp_buf_be32(b, buckets[i].watch_port);
        ofp_buf_be32(b, buckets[i].watch_group);
        ofp_buf_put(b, 4);
        ofpacts_encode_actions(OFP13_VERSION, &buckets[i].acts, b);
        ofp_buf_set_be16(b, bstart, b->len - bstart);
    }
    ofp_buf_set_be16(b, start, b->len - start);
}

void
ofp_group_desc_encode_nx(struct ofp_buf *b, uint8_t type, uint32_t group_id,
                         const struct ofp_bucket *buckets, size_t n)
{
    size_t start = b->len;

    ofp_buf_be16(b, 0);                 /* length, below */
    ofp_buf_u8(b, type);
    ofp_buf_u8(b, 0);
    ofp_buf_be32(b, group_id);
    ofp_buf_be16(b, 0);                 /* bucket_list_len, below */
    ofp_buf_put(b, 6);
    for (size_t i = 0; i < n; i++) {
        const struct ofp_bucket *bk = &buckets[i];
        size_t bstart = b->len;
        ofp_buf_be16(b, 0);
        ofp_buf_be16(b, 0);
        ofp_buf_be32(b, bk->bucket_id);
        ofpacts_encode_actions(OFP10_VERSION, &bk->acts, b);
        ofp_buf_set_be16(b, bstart + 2, b->len - bstart - NX_BUCKET_HDR_LEN);
        if (type == OFPGT_SELECT || bk->weight) {
            ofp_buf_be16(b, BPROP_WEIGHT);
            ofp_buf_be16(b, 6);
            ofp_buf_be16(b, bk->weight);
            ofp_buf_put(b, 2);
        }
        if (bk->watch_port != OFPP_ANY) {
            ofp_buf_be16(b, BPROP_WATCH_PORT);
            ofp_buf_be16(b, 8);
            ofp_buf_be32(b, bk->watch_port);
        }
        if (bk->watch_group != OFPG_ANY) {
            ofp_buf_be16(b, BPROP_WATCH_GROUP);
            ofp_buf_be16(b, 8);
            ofp_buf_be32(b, bk->watch_group);
        }
        ofp_buf_set_be16(b, bstart, b->len - bstart);
    }
    ofp_buf_set_be16(b, start + 8, b->len - start - NX_GROUP_DESC_HDR_LEN);
    ofp_buf_set_be16(b, start, b->len - start);
}

void
ofp_group_features_encode(struct ofp_buf *b, uint8_t version)
{
    /* Every bucket action we execute: output, MPLS TTLs and push/pop,
     * VLAN push/pop, set_queue, group, nw TTLs, set_field, as Open
     * vSwitch advertises it (bits 0 and 15..25); in OpenFlow 1.0
     * numbering, all twelve 1.0 actions. */
    const uint32_t actions = version == OFP10_VERSION ? 0xfff : 0x03ff8001;

    ofp_buf_be32(b, (1u << OFPGT_N_TYPES) - 1);
    ofp_buf_be32(b, 0x7);       /* SELECT_WEIGHT, SELECT_LIVENESS,
                                 * CHAINING */
    for (int i = 0; i < OFPGT_N_TYPES; i++) {
        ofp_buf_be32(b, OFPG_MAX);
    }
    for (int i = 0; i < OFPGT_N_TYPES; i++) {
        ofp_buf_be32(b, actions);
    }
}

size_t
ofp_group_stats_start(struct ofp_buf *b, uint32_t group_id,
                      uint32_t ref_count, uint64_t packets, uint64_t bytes,
                      uint64_t age_ms)
{
    size_t start = b->len;

    ofp_buf_be16(b, 0);
    ofp_buf_put(b, 2);
    ofp_buf_be32(b, group_id);
    ofp_buf_be32(b, ref_count);
    ofp_buf_put(b, 4);
    ofp_buf_be64(b, packets);
    ofp_buf_be64(b, bytes);
    ofp_buf_duration(b, age_ms);
    return start;
}

void
ofp_group_stats_finish(struct ofp_buf *b, size_t start)
{
    ofp_buf_set_be16(b, start, b->len - start);
}
