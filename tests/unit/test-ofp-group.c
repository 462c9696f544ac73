/* Unit tests for lib/ofp-group.c: group-mod decoding and its checks,
 * group-desc, group-stats and group-features encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ofp-group.h"
#include "ofp-match.h"

static size_t
put_bucket(uint8_t *p, uint16_t weight, uint32_t watch_port,
           uint32_t watch_group, uint32_t out_port)
{
    const uint8_t b[32] = {
        0, 32, weight >> 8, weight & 0xff,
        watch_port >> 24, watch_port >> 16, watch_port >> 8, watch_port,
        watch_group >> 24, watch_group >> 16, watch_group >> 8,
        watch_group, 0, 0, 0, 0,
        0, 0, 0, 16, out_port >> 24, out_port >> 16, out_port >> 8,
        out_port, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    memcpy(p, b, sizeof b);
    return sizeof b;
}

static size_t
put_header(uint8_t *p, uint16_t command, uint8_t type, uint32_t id)
{
    const uint8_t h[8] = { command >> 8, command & 0xff, type, 0,
                           id >> 24, id >> 16, id >> 8, id };
    memcpy(p, h, sizeof h);
    return sizeof h;
}

static void
test_decode_select(void **state)
{
    (void) state;
    uint8_t msg[128];
    size_t n = put_header(msg, OFPGC_ADD, OFPGT_SELECT, 2);
    n += put_bucket(msg + n, 100, OFPP_ANY, OFPG_ANY, 2);
    n += put_bucket(msg + n, 50, OFPP_ANY, OFPG_ANY, 3);

    struct ofp_group_mod gm;
    assert_int_equal(ofp_group_mod_decode(msg, n, &gm), 0);
    assert_int_equal(gm.command, OFPGC_ADD);
    assert_int_equal(gm.type, OFPGT_SELECT);
    assert_int_equal(gm.group_id, 2);
    assert_int_equal(gm.n_buckets, 2);
    assert_int_equal(gm.buckets[0].weight, 100);
    assert_int_equal(gm.buckets[1].weight, 50);
    assert_int_equal(gm.buckets[1].acts.n, 1);
    assert_int_equal(gm.buckets[1].acts.a[0].type, OFPACT_OUTPUT);
    assert_int_equal(gm.buckets[1].acts.a[0].port, 3);

    /* The desc entry carries the same buckets back, byte for byte. */
    struct ofp_buf b;
    ofp_buf_init(&b);
    ofp_group_desc_encode(&b, gm.type, gm.group_id, gm.buckets,
                          gm.n_buckets);
    assert_int_equal(b.len, n);
    assert_int_equal(b.data[0] << 8 | b.data[1], n);
    assert_memory_equal(b.data + 2, msg + 2, n - 2);
    ofp_buf_uninit(&b);
    ofp_group_mod_uninit(&gm);
    assert_null(gm.buckets);
}

static ofperr
decode(const uint8_t *msg, size_t n)
{
    struct ofp_group_mod gm;
    ofperr err = ofp_group_mod_decode(msg, n, &gm);
    if (!err) {
        ofp_group_mod_uninit(&gm);
    } else {
        assert_null(gm.buckets);
        assert_int_equal(gm.n_buckets, 0);
    }
    return err;
}

static void
test_decode_errors(void **state)
{
    (void) state;
    uint8_t msg[256] = { 0 };
    size_t n;

    /* Shorter than the fixed part. */
    assert_int_equal(decode(msg, 6), OFPERR_BAD_REQ_LEN);
    /* Unknown command and type. */
    n = put_header(msg, 9, OFPGT_ALL, 1);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_BAD_COMMAND);
    n = put_header(msg, OFPGC_ADD, 7, 1);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_BAD_TYPE);
    /* A bucket shorter than its header, or running past the end. */
    n = put_header(msg, OFPGC_ADD, OFPGT_ALL, 1);
    n += put_bucket(msg + n, 0, OFPP_ANY, OFPG_ANY, 1);
    msg[9] = 8;
    assert_int_equal(decode(msg, n), OFPERR_GROUP_BAD_BUCKET);
    msg[9] = 40;
    assert_int_equal(decode(msg, n), OFPERR_GROUP_BAD_BUCKET);
    /* Trailing bytes that cannot be a bucket. */
    n = put_header(msg, OFPGC_ADD, OFPGT_ALL, 1);
    n += put_bucket(msg + n, 0, OFPP_ANY, OFPG_ANY, 1);
    memset(msg + n, 0, 4);
    assert_int_equal(decode(msg, n + 4), OFPERR_GROUP_BAD_BUCKET);
    /* A bad action inside a bucket keeps its own error. */
    n = put_header(msg, OFPGC_ADD, OFPGT_ALL, 1);
    n += put_bucket(msg + n, 0, OFPP_ANY, OFPG_ANY, 1);
    msg[n - 13] = 12;                   /* output action length 12 */
    assert_int_equal(decode(msg, n), OFPERR_BAD_ACT_LEN);
    /* Indirect needs exactly one bucket. */
    n = put_header(msg, OFPGC_ADD, OFPGT_INDIRECT, 1);
    n += put_bucket(msg + n, 0, OFPP_ANY, OFPG_ANY, 1);
    n += put_bucket(msg + n, 0, OFPP_ANY, OFPG_ANY, 2);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_INVALID);
    /* Weights only in select groups. */
    n = put_header(msg, OFPGC_ADD, OFPGT_ALL, 1);
    n += put_bucket(msg + n, 5, OFPP_ANY, OFPG_ANY, 1);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_INVALID);
    /* Watches: required in fast failover, refused in all/indirect. */
    n = put_header(msg, OFPGC_ADD, OFPGT_FF, 1);
    n += put_bucket(msg + n, 0, OFPP_ANY, OFPG_ANY, 1);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_INVALID);
    n = put_header(msg, OFPGC_ADD, OFPGT_ALL, 1);
    n += put_bucket(msg + n, 0, 1, OFPG_ANY, 1);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_WATCH_UNSUPPORTED);
    n = put_header(msg, OFPGC_ADD, OFPGT_FF, 1);
    n += put_bucket(msg + n, 0, 0xfffffff0, OFPG_ANY, 1);
    assert_int_equal(decode(msg, n), OFPERR_GROUP_BAD_WATCH);
    n = put_header(msg, OFPGC_ADD, OFPGT_FF, 1);
    n += put_bucket(msg + n, 0, 3, OFPG_ANY, 1);
    assert_int_equal(decode(msg, n), 0);
    /* A delete needs no buckets. */
    n = put_header(msg, OFPGC_DELETE, OFPGT_ALL, OFPG_ALL);
    assert_int_equal(decode(msg, n), 0);
}

static void
test_features_and_stats(void **state)
{
    (void) state;
    struct ofp_buf b;

    ofp_buf_init(&b);
    ofp_group_features_encode(&b, OFP13_VERSION);
    assert_int_equal(b.len, 40);
    assert_int_equal(b.data[3], 0xf);           /* every type */
    assert_int_equal(b.data[7], 0x7);
    assert_int_equal(b.data[8], 0xff);          /* max_groups OFPG_MAX */
    assert_int_equal(b.data[11], 0x00);
    ofp_buf_clear(&b);

    size_t start = ofp_group_stats_start(&b, 9, 2, 10, 1000, 2500);
    ofp_buf_be64(&b, 4);
    ofp_buf_be64(&b, 400);
    ofp_group_stats_finish(&b, start);
    assert_int_equal(b.len, 40 + 16);
    assert_int_equal(b.data[0] << 8 | b.data[1], 56);
    assert_int_equal(b.data[7], 9);             /* group_id */
    assert_int_equal(b.data[11], 2);            /* ref_count */
    assert_int_equal(b.data[23], 10);           /* packets */
    assert_int_equal(b.data[35], 2);            /* duration_sec */
    assert_int_equal(b.data[36] << 24 | b.data[37] << 16
                     | b.data[38] << 8 | b.data[39], 500000000);
    ofp_buf_uninit(&b);
}

/* An OpenFlow 1.5-layout bucket as Open vSwitch sends it in NXT_GROUP_MOD:
 * output:'port' (a 1.0 action), then a weight property if 'weight' and
 * a watch_port property if 'watch' is not OFPP_ANY. */
static size_t
put_nx_bucket(uint8_t *p, uint32_t id, uint16_t port, uint16_t weight,
              uint32_t watch)
{
    size_t n = 8;
    const uint8_t out[8] = { 0, 0, 0, 8, port >> 8, port & 0xff, 0, 0 };
    memcpy(p + n, out, 8);
    n += 8;
    if (weight) {
        const uint8_t w[8] = { 0, 0, 0, 6, weight >> 8, weight & 0xff };
        memcpy(p + n, w, 8);
        n += 8;
    }
    if (watch != OFPP_ANY) {
        const uint8_t w[8] = { 0, 1, 0, 8, watch >> 24, watch >> 16,
                               watch >> 8, watch };
        memcpy(p + n, w, 8);
        n += 8;
    }
    const uint8_t h[8] = { 0, n, 0, 8, id >> 24, id >> 16, id >> 8, id };
    memcpy(p, h, 8);
    return n;
}

static size_t
put_nx_header(uint8_t *p, uint16_t command, uint8_t type, uint32_t id,
              size_t buckets_len)
{
    const uint8_t h[16] = { command >> 8, command & 0xff, type, 0,
                            id >> 24, id >> 16, id >> 8, id,
                            buckets_len >> 8, buckets_len & 0xff, 0, 0,
                            0xff, 0xff, 0xff, 0xff };
    memcpy(p, h, sizeof h);
    return sizeof h;
}

static ofperr
decode_nx(const uint8_t *msg, size_t n)
{
    struct ofp_group_mod gm;
    ofperr err = ofp_group_mod_decode_nx(msg, n, &gm);
    if (!err) {
        ofp_group_mod_uninit(&gm);
    }
    return err;
}

static void
test_nx_group_mod(void **state)
{
    (void) state;
    uint8_t msg[256] = { 0 }, bk[128];
    size_t nb = put_nx_bucket(bk, 0, 2, 100, OFPP_ANY);
    nb += put_nx_bucket(bk + nb, 7, 3, 50, OFPP_ANY);
    size_t n = put_nx_header(msg, OFPGC_ADD, OFPGT_SELECT, 2, nb);
    memcpy(msg + n, bk, nb);
    n += nb;

    struct ofp_group_mod gm;
    assert_int_equal(ofp_group_mod_decode_nx(msg, n, &gm), 0);
    assert_int_equal(gm.type, OFPGT_SELECT);
    assert_int_equal(gm.group_id, 2);
    assert_int_equal(gm.n_buckets, 2);
    assert_int_equal(gm.buckets[0].bucket_id, 0);
    assert_int_equal(gm.buckets[1].bucket_id, 7);
    assert_int_equal(gm.buckets[0].weight, 100);
    assert_int_equal(gm.buckets[1].weight, 50);
    assert_int_equal(gm.buckets[1].watch_port, OFPP_ANY);
    assert_int_equal(gm.buckets[1].acts.a[0].port, 3);

    /* The desc entry (OpenFlow 1.5 layout) carries the buckets back as
     * they came: ids, 1.0 actions, the weight properties. */
    struct ofp_buf b;
    ofp_buf_init(&b);
    ofp_group_desc_encode_nx(&b, gm.type, gm.group_id, gm.buckets,
                             gm.n_buckets);
    assert_int_equal(b.len, 16 + nb);
    assert_int_equal(b.data[0] << 8 | b.data[1], 16 + nb);
    assert_int_equal(b.data[2], OFPGT_SELECT);
    assert_int_equal(b.data[7], 2);
    assert_int_equal(b.data[8] << 8 | b.data[9], nb);
    assert_memory_equal(b.data + 16, bk, nb);
    ofp_buf_uninit(&b);
    ofp_group_mod_uninit(&gm);

    /* Fast failover with watch_port properties; a select bucket without
     * a weight property weighs 1. */
    nb = put_nx_bucket(bk, 0, 1, 0, 1);
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_FF, 4, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(ofp_group_mod_decode_nx(msg, n + nb, &gm), 0);
    assert_int_equal(gm.buckets[0].watch_port, 1);
    assert_int_equal(gm.buckets[0].weight, 0);
    ofp_group_mod_uninit(&gm);
    nb = put_nx_bucket(bk, 0, 1, 0, OFPP_ANY);
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_SELECT, 4, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(ofp_group_mod_decode_nx(msg, n + nb, &gm), 0);
    assert_int_equal(gm.buckets[0].weight, 1);
    ofp_group_mod_uninit(&gm);

    /* --may-create's add-or-modify is a known command. */
    n = put_nx_header(msg, OFPGC_ADD_OR_MOD, OFPGT_SELECT, 4, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), 0);

    /* Errors: short header, buckets_len past the end, a bucket longer
     * than what is left, actions longer than their bucket, duplicate
     * ids, an unknown property, group properties, indirect with two. */
    assert_int_equal(decode_nx(msg, 12), OFPERR_BAD_REQ_LEN);
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_ALL, 1, 64);
    assert_int_equal(decode_nx(msg, n + 16), OFPERR_BAD_REQ_LEN);
    nb = put_nx_bucket(bk, 0, 1, 0, OFPP_ANY);
    bk[1] = 64;
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_ALL, 1, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), OFPERR_GROUP_BAD_BUCKET);
    nb = put_nx_bucket(bk, 0, 1, 0, OFPP_ANY);
    bk[3] = 16;
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), OFPERR_GROUP_BAD_BUCKET);
    nb = put_nx_bucket(bk, 3, 1, 0, OFPP_ANY);
    nb += put_nx_bucket(bk + nb, 3, 2, 0, OFPP_ANY);
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_ALL, 1, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), OFPERR_GROUP_BAD_BUCKET);
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_INDIRECT, 1, nb);
    bk[16 + 7] = 4;                     /* distinct ids */
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), OFPERR_GROUP_INVALID);
    nb = put_nx_bucket(bk, 0, 1, 7, OFPP_ANY);
    bk[17] = 9;                         /* property type 9 */
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_SELECT, 1, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), OFPERR_GROUP_BAD_BUCKET);
    nb = put_nx_bucket(bk, 0, 1, 0, OFPP_ANY);
    n = put_nx_header(msg, OFPGC_ADD, OFPGT_ALL, 1, nb);
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb + 8), OFPERR_GROUP_BAD_TYPE);
    /* A bucket id above the maximum. */
    nb = put_nx_bucket(bk, 0xffffff01, 1, 0, OFPP_ANY);
    memcpy(msg + n, bk, nb);
    assert_int_equal(decode_nx(msg, n + nb), OFPERR_GROUP_BAD_BUCKET);

    /* Group features name 1.0 actions in 1.0's numbering. */
    ofp_buf_init(&b);
    ofp_group_features_encode(&b, OFP10_VERSION);
    assert_int_equal(b.len, 40);
    assert_int_equal(b.data[24] << 24 | b.data[25] << 16 | b.data[26] << 8
                     | b.data[27], 0xfff);
    ofp_buf_uninit(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_select),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_features_and_stats),
        cmocka_unit_test(test_nx_group_mod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
