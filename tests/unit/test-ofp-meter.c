/* Tests of lib/ofp-meter.c: meter-mod decoding with Open vSwitch's
 * refusals in its order, and the meter multipart bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ofp-meter.h"

/* add meter 5, kbps|burst|stats, drop at 1000 kbit/s with burst 100,
 * then a dscp_remark band (prec_level 2). */
static const uint8_t add5[] = {
    0, 0, 0, 0x0d, 0, 0, 0, 5,
    0, 1, 0, 16, 0, 0, 0x03, 0xe8, 0, 0, 0, 100, 0, 0, 0, 0,
    0, 2, 0, 16, 0, 0, 0, 10, 0, 0, 0, 0, 2, 0, 0, 0,
};

static void
test_decode_and_encode(void **state)
{
    (void) state;
    struct ofp_meter_mod mm;
    struct ofp_buf b;

    assert_int_equal(ofp_meter_mod_decode(add5, sizeof add5, &mm), 0);
    assert_int_equal(mm.command, OFPMC_ADD);
    assert_int_equal(mm.flags, OFPMF_KBPS | OFPMF_BURST | OFPMF_STATS);
    assert_int_equal(mm.meter_id, 5);
    assert_int_equal(mm.n_bands, 2);
    assert_int_equal(mm.bands[0].type, OFPMBT_DROP);
    assert_int_equal(mm.bands[0].rate, 1000);
    assert_int_equal(mm.bands[0].burst, 100);
    assert_int_equal(mm.bands[1].prec_level, 2);
    ofp_buf_init(&b);
    ofp_meter_mod_encode(&b, &mm);
    assert_int_equal(b.len, sizeof add5);
    assert_memory_equal(b.data, add5, sizeof add5);

    /* A delete has neither flags nor bands, whatever follows. */
    uint8_t del[sizeof add5];
    memcpy(del, add5, sizeof del);
    del[1] = OFPMC_DELETE;
    assert_int_equal(ofp_meter_mod_decode(del, sizeof del, &mm), 0);
    assert_int_equal(mm.flags, 0);
    assert_int_equal(mm.n_bands, 0);
    ofp_buf_uninit(&b);
}

static ofperr
decode_changed(size_t len, size_t at, uint8_t byte)
{
    uint8_t m[sizeof add5];
    struct ofp_meter_mod mm;

    memcpy(m, add5, sizeof m);
    if (at < len) {
        m[at] = byte;
    }
    return ofp_meter_mod_decode(m, len, &mm);
}

static void
test_refusals(void **state)
{
    (void) state;
    size_t n = sizeof add5;

    assert_int_equal(decode_changed(4, n, 0), OFPERR_BAD_REQ_LEN);
    assert_int_equal(decode_changed(n - 2, n, 0), OFPERR_BAD_REQ_LEN);
    assert_int_equal(decode_changed(n - 8, n, 0), OFPERR_BAD_REQ_LEN);
    assert_int_equal(decode_changed(n, 1, 3), OFPERR_METER_BAD_COMMAND);
    assert_int_equal(decode_changed(n, 3, 3), OFPERR_METER_BAD_FLAGS);
    assert_int_equal(decode_changed(n, 9, 3), OFPERR_METER_BAD_BAND);
    assert_int_equal(decode_changed(n, 11, 32), OFPERR_BAD_REQ_LEN);
    assert_int_equal(decode_changed(n, 11, 8), OFPERR_BAD_REQ_LEN);
    /* The command is checked before the bands, the length before all. */
    uint8_t m[sizeof add5];
    struct ofp_meter_mod mm;
    memcpy(m, add5, sizeof m);
    m[1] = 9;
    m[9] = 9;
    assert_int_equal(ofp_meter_mod_decode(m, sizeof m, &mm),
                     OFPERR_METER_BAD_COMMAND);
    assert_int_equal(ofp_meter_mod_decode(m, sizeof m - 1, &mm),
                     OFPERR_BAD_REQ_LEN);

    /* More bands than are kept are counted. */
    uint8_t many[8 + 20 * 16];
    memset(many, 0, sizeof many);
    memcpy(many, add5, 24);
    for (int i = 1; i < 20; i++) {
        memcpy(many + 8 + i * 16, add5 + 8, 16);
    }
    assert_int_equal(ofp_meter_mod_decode(many, sizeof many, &mm), 0);
    assert_int_equal(mm.n_bands, 20);
}

static void
test_replies(void **state)
{
    (void) state;
    struct ofp_buf b;
    uint32_t id;
    const struct ofp_meter_band band = { OFPMBT_DROP, 10, 10, 0 };

    static const uint8_t req[] = { 0, 0, 0, 7, 0, 0, 0, 0 };
    assert_int_equal(ofp_meter_request_decode(req, 8, &id), 0);
    assert_int_equal(id, 7);
    assert_int_equal(ofp_meter_request_decode(req, 4, &id),
                     OFPERR_BAD_REQ_LEN);
    assert_int_equal(ofp_meter_request_decode(req, 0, &id),
                     OFPERR_BAD_REQ_LEN);

    ofp_buf_init(&b);
    ofp_meter_config_encode(&b, OFPMF_PKTPS, 1, &band, 1);
    static const uint8_t config[] = {
        0, 24, 0, 2, 0, 0, 0, 1,
        0, 1, 0, 16, 0, 0, 0, 10, 0, 0, 0, 10, 0, 0, 0, 0,
    };
    assert_int_equal(b.len, sizeof config);
    assert_memory_equal(b.data, config, sizeof config);

    ofp_buf_clear(&b);
    size_t start = ofp_meter_stats_start(&b, 1, 2, 3, 4, 5250);
    ofp_meter_stats_band(&b, 6, 7);
    ofp_meter_stats_finish(&b, start);
    assert_int_equal(b.len, 56);
    assert_int_equal(b.data[5], 56);            /* len */
    assert_int_equal(b.data[15], 2);            /* flow_count */
    assert_int_equal(b.data[23], 3);            /* packet_in_count */
    assert_int_equal(b.data[31], 4);            /* byte_in_count */
    assert_int_equal(b.data[35], 5);            /* duration_sec */
    assert_int_equal(b.data[47], 6);
    assert_int_equal(b.data[55], 7);

    ofp_buf_clear(&b);
    const struct ofp_meter_features f = {
        .max_meters = 200000, .band_types = 1u << OFPMBT_DROP,
        .capabilities = OFPMF_ALL, .max_bands = 1,
    };
    ofp_meter_features_encode(&b, &f);
    static const uint8_t features[] = {
        0, 0x03, 0x0d, 0x40, 0, 0, 0, 2, 0, 0, 0, 0x0f, 1, 0, 0, 0,
    };
    assert_int_equal(b.len, sizeof features);
    assert_memory_equal(b.data, features, sizeof features);
    ofp_buf_uninit(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_and_encode),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
