/* Unit tests for datapath/meter.c (table and token buckets) and
 * datapath/family-meter.c (the ovs_meter family). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "control.h"
#include "datapath.h"
#include "genl.h"
#include "hvs/dp-ext.h"
#include "meter.h"
#include "packet.h"

static struct meter_config
config(uint32_t id, bool kbps, uint32_t rate, uint32_t burst)
{
    struct meter_config c = {
        .id = id, .kbps = kbps, .keep_stats = true, .n_bands = 1,
        .bands = { { OVS_METER_BAND_TYPE_DROP, rate, burst } },
    };
    return c;
}

static struct meter_table *
table_with(const struct meter_config *c, uint64_t now)
{
    struct meter_table *t = meter_table_create(METER_MAX_METERS);
    assert_non_null(t);
    struct dp_meter *m = meter_create(c, now);
    assert_non_null(m);
    assert_int_equal(meter_table_set(t, m, NULL), 0);
    return t;
}

/* One packet through meter 'id'.  The read-side section covers only the
 * call, so that a failed assertion cannot leave it open (and hang the
 * grace periods of later tests). */
static bool
charge(struct meter_table *t, uint32_t id, uint32_t len, uint64_t now)
{
    urcu_memb_read_lock();
    bool drop = meter_execute(t, id, len, now);
    urcu_memb_read_unlock();
    return drop;
}

static int
setup(void **state)
{
    (void) state;
    urcu_memb_register_thread();
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    urcu_memb_barrier();
    urcu_memb_unregister_thread();
    return 0;
}

/* Packets per second: the bucket starts with 'burst' packets and refills
 * at 'rate' per second. */
static void
test_pktps_bucket(void **state)
{
    (void) state;
    struct meter_config c = config(7, false, 10, 5);
    struct meter_table *t = table_with(&c, 1000);
    int passed = 0;

    for (int i = 0; i < 8; i++) {
        passed += !charge(t, 7, 100, 1000);
    }
    assert_int_equal(passed, 5);        /* the burst, then drops */
    /* 100 ms at 10 pkt/s earns exactly one packet. */
    assert_false(charge(t, 7, 100, 1100));
    assert_true(charge(t, 7, 100, 1100));
    /* A long idle time refills to the burst, no more. */
    passed = 0;
    for (int i = 0; i < 10; i++) {
        passed += !charge(t, 7, 100, 100000);
    }
    assert_int_equal(passed, 5);
    /* A clock reading older than the last use adds nothing. */
    assert_true(charge(t, 7, 100, 99000));

    struct meter_stats s;
    assert_int_equal(meter_table_get(t, 7, &s), 0);
    assert_int_equal(s.id, 7);
    assert_int_equal(s.stats.n_packets, 21);
    assert_int_equal(s.stats.n_bytes, 2100);
    assert_int_equal(s.n_bands, 1);
    assert_int_equal(s.band_stats[0].n_packets, 21 - 11);
    assert_int_equal(s.band_stats[0].n_bytes, (21 - 11) * 100);
    assert_int_equal(s.used, 100000);
    meter_table_destroy(t);

    /* A packet costs exactly 1000 units: 999 pkt/s for 1 ms falls just
     * short of one packet, 2 ms is enough. */
    c = config(8, false, 999, 1);
    t = table_with(&c, 0);
    assert_false(charge(t, 8, 1, 0));
    assert_true(charge(t, 8, 1, 1));
    assert_false(charge(t, 8, 1, 2));
    assert_true(charge(t, 8, 1, 2));
    meter_table_destroy(t);
}

/* Kilobits per second: a packet costs 8 bits a byte; the bucket holds
 * 'burst' kbit. */
static void
test_kbps_bucket(void **state)
{
    (void) state;
    /* 8 kbit burst = 1000 bytes; 80 kbit/s = 10 bytes per ms. */
    struct meter_config c = config(1, true, 80, 8);
    struct meter_table *t = table_with(&c, 0);

    assert_false(charge(t, 1, 600, 0));
    assert_false(charge(t, 1, 400, 0));
    assert_true(charge(t, 1, 1, 0));         /* empty */
    assert_true(charge(t, 1, 500, 49));      /* 490 bytes earned */
    assert_false(charge(t, 1, 500, 50));     /* 500 now */
    assert_true(charge(t, 1, 100, 50));
    meter_table_destroy(t);
}

/* A band of an unknown type counts but never drops; a missing meter
 * passes everything. */
static void
test_non_drop_band_and_missing_meter(void **state)
{
    (void) state;
    struct meter_config c = config(3, false, 1, 1);
    c.bands[0].type = 99;
    struct meter_table *t = table_with(&c, 0);

    for (int i = 0; i < 4; i++) {
        assert_false(charge(t, 3, 60, 0));
    }
    assert_false(charge(t, 4, 60, 0));
    struct meter_stats s;
    assert_int_equal(meter_table_get(t, 3, &s), 0);
    assert_int_equal(s.band_stats[0].n_packets, 3);
    assert_int_equal(meter_table_get(t, 4, &s), -ENOENT);
    meter_table_destroy(t);
}

static void
test_table_replace_remove_full(void **state)
{
    (void) state;
    struct meter_table *t = meter_table_create(2);
    struct meter_config c = config(54545401, true, 1, 1);
    struct meter_stats old, s;

    assert_int_equal(meter_table_max(t), 2);
    assert_int_equal(meter_table_set(t, meter_create(&c, 5), &old), 0);
    assert_int_equal(old.id, UINT32_MAX);           /* nothing replaced */
    charge(t, 54545401, 1000, 6);

    /* Replacing hands back the old counters; the new meter starts from
     * the STATS it was given. */
    c.stats.n_packets = 100;
    c.stats.n_bytes = 200;
    assert_int_equal(meter_table_set(t, meter_create(&c, 7), &old), 0);
    assert_int_equal(old.id, 54545401);
    assert_int_equal(old.stats.n_packets, 1);
    assert_int_equal(old.stats.n_bytes, 1000);
    assert_int_equal(meter_table_count(t), 1);
    assert_int_equal(meter_table_get(t, 54545401, &s), 0);
    assert_int_equal(s.stats.n_packets, 100);

    /* CLEAR: the initial STATS are ignored. */
    c.id = 2;
    c.keep_stats = false;
    assert_int_equal(meter_table_set(t, meter_create(&c, 7), NULL), 0);
    assert_int_equal(meter_table_get(t, 2, &s), 0);
    assert_int_equal(s.stats.n_packets, 0);
    assert_false(s.keep_stats);

    /* Full: a new id is refused, an existing one may still be replaced. */
    c.id = 3;
    assert_int_equal(meter_table_set(t, meter_create(&c, 7), NULL), -EFBIG);
    c.id = 2;
    assert_int_equal(meter_table_set(t, meter_create(&c, 7), NULL), 0);
    assert_int_equal(meter_table_count(t), 2);

    uint32_t ids[4];
    assert_int_equal(meter_table_ids(t, 0, ids, 4), 2);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 54545401);
    assert_int_equal(meter_table_ids(t, 3, ids, 4), 1);
    assert_int_equal(ids[0], 54545401);
    assert_int_equal(meter_table_ids(t, 0, ids, 1), 1);
    assert_int_equal(ids[0], 2);

    assert_int_equal(meter_table_remove(t, 2, &s), 0);
    assert_int_equal(s.id, 2);
    assert_int_equal(meter_table_remove(t, 2, &s), -ENOENT);
    assert_int_equal(meter_table_count(t), 1);
    meter_table_destroy(t);
}

static void
test_create_refuses_too_many_bands(void **state)
{
    (void) state;
    struct meter_config c = config(1, true, 1, 1);
    c.n_bands = METER_MAX_BANDS + 1;
    assert_null(meter_create(&c, 0));
}

/* ---- the action --------------------------------------------------------- */

struct rec {
    int n_out;
    int n_meter;
    uint32_t last_id;
    bool drop;
};

static void
rec_output(void *aux, uint32_t port, struct dp_packet *p)
{
    struct rec *r = aux;
    (void) port;
    r->n_out++;
    dp_packet_free(p);
}

static void
rec_userspace(void *aux, const struct dp_packet *p,
              const struct flow_key *key, const struct nlattr *attr)
{
    (void) aux, (void) p, (void) key, (void) attr;
}

static void
rec_recirc(void *aux, struct dp_packet *p)
{
    (void) aux;
    dp_packet_free(p);
}

static bool
rec_meter(void *aux, uint32_t id, const struct dp_packet *p)
{
    struct rec *r = aux;
    (void) p;
    r->n_meter++;
    r->last_id = id;
    return r->drop;
}

static void
run_meter_then_output(struct rec *r, const struct act_ops *ops)
{
    uint8_t buf[256];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct nlattr *acts = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_ACTIONS);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_METER, 9);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_nest_end(nlh, acts);

    struct flow_match m;
    memset(&m, 0, sizeof m);
    struct dp_actions *a;
    assert_int_equal(act_validate(acts, &m, &a, NULL), 0);

    static const uint8_t frame[60] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                       12, 0x08, 0x00 };
    struct dp_packet *p = dp_packet_copy_from(frame, sizeof frame, 64);
    assert_non_null(p);
    struct flow_key key;
    flow_extract(p, &key);
    act_execute(ops, r, p, &key, a->attrs, a->len);
    free(a);
}

static void
test_meter_action(void **state)
{
    (void) state;
    const struct act_ops ops = { rec_output, rec_userspace, rec_recirc,
                                 rec_meter };
    const struct act_ops no_meters = { rec_output, rec_userspace,
                                       rec_recirc, NULL };
    struct rec r = { .drop = false };

    run_meter_then_output(&r, &ops);
    assert_int_equal(r.n_meter, 1);
    assert_int_equal(r.last_id, 9);
    assert_int_equal(r.n_out, 1);

    r.drop = true;              /* a drop ends the action list */
    run_meter_then_output(&r, &ops);
    assert_int_equal(r.n_meter, 2);
    assert_int_equal(r.n_out, 1);

    run_meter_then_output(&r, &no_meters);
    assert_int_equal(r.n_out, 2);
}

/* ---- the family --------------------------------------------------------- */

static uint8_t out[CONTROL_RECORD_MAX];
static uint8_t flushed[8 * CONTROL_RECORD_MAX];
static size_t flushed_len;

static void
capture(struct reply *r)
{
    assert_true(flushed_len + r->len <= sizeof flushed);
    memcpy(flushed + flushed_len, r->buf, r->len);
    flushed_len += r->len;
}

static const struct nlmsghdr *
handle(const struct nlmsghdr *nlh)
{
    struct reply r = { out, 0, 7, capture, NULL };

    flushed_len = 0;
    struct genl_dump *d = genl_handle(nlh, 7, &r);
    while (d && !genl_dump_continue(d, &r)) {
        reply_flush(&r);
    }
    reply_flush(&r);
    return flushed_len ? (const void *) flushed : NULL;
}

static struct nlmsghdr *
start(uint8_t *buf, uint8_t cmd, int dp_ifindex, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = HVS_GENL_ID_METER;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ECHO | flags;
    nlh->nlmsg_seq = 42;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = OVS_METER_VERSION;
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    oh->dp_ifindex = dp_ifindex;
    return nlh;
}

static int
reply_errno(const struct nlmsghdr *nlh)
{
    assert_non_null(nlh);
    if (nlh->nlmsg_type != NLMSG_ERROR) {
        return 0;
    }
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    return -e->error;
}

/* The attributes of reply 'nlh' after its ovs_header. */
static void
parse_reply(const struct nlmsghdr *nlh, uint8_t cmd,
            const struct nlattr *tb[OVS_METER_ATTR_MAX + 1])
{
    const struct nlattr *a;

    assert_int_equal(nlh->nlmsg_type, HVS_GENL_ID_METER);
    assert_int_equal(nlh->nlmsg_seq, 42);
    const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
    assert_int_equal(g->cmd, cmd);
    memset(tb, 0, sizeof *tb * (OVS_METER_ATTR_MAX + 1));
    mnl_attr_for_each(a, nlh, GENL_HDRLEN + sizeof(struct ovs_header)) {
        if (mnl_attr_get_type(a) <= OVS_METER_ATTR_MAX) {
            tb[mnl_attr_get_type(a)] = a;
        }
    }
}

static void
put_band(struct nlmsghdr *nlh, uint32_t type, uint32_t rate, uint32_t burst)
{
    struct nlattr *b = mnl_attr_nest_start(nlh, OVS_BAND_ATTR_UNSPEC);
    mnl_attr_put_u32(nlh, OVS_BAND_ATTR_TYPE, type);
    mnl_attr_put_u32(nlh, OVS_BAND_ATTR_RATE, rate);
    mnl_attr_put_u32(nlh, OVS_BAND_ATTR_BURST, burst);
    mnl_attr_nest_end(nlh, b);
}

static void
test_family_without_datapath(void **state)
{
    (void) state;
    uint8_t buf[512];

    struct nlmsghdr *nlh = start(buf, OVS_METER_CMD_FEATURES, 12345, 0);
    assert_int_equal(reply_errno(handle(nlh)), ENODEV);
}

static void
test_family_commands(void **state)
{
    (void) state;
    struct datapath *dp;
    const char *why = NULL;
    const struct nlattr *tb[OVS_METER_ATTR_MAX + 1];
    uint8_t buf[1024];

    /* A datapath needs a TAP device for its local port. */
    if (dp_create("hvsmtrtest0", &dp, &why)) {
        skip();
    }
    int ifx = dp->dp_ifindex;

    /* FEATURES: limits and the DROP band type. */
    struct nlmsghdr *nlh = start(buf, OVS_METER_CMD_FEATURES, ifx, 0);
    const struct nlmsghdr *rep = handle(nlh);
    parse_reply(rep, OVS_METER_CMD_FEATURES, tb);
    assert_non_null(tb[OVS_METER_ATTR_MAX_METERS]);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_METER_ATTR_MAX_METERS]),
                     METER_MAX_METERS);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_METER_ATTR_MAX_BANDS]), 1);
    assert_non_null(tb[OVS_METER_ATTR_BANDS]);

    /* SET: the reply names the meter. */
    nlh = start(buf, OVS_METER_CMD_SET, ifx, 0);
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
    mnl_attr_put(nlh, OVS_METER_ATTR_KBPS, 0, NULL);
    struct nlattr *bands = mnl_attr_nest_start(nlh, OVS_METER_ATTR_BANDS);
    put_band(nlh, OVS_METER_BAND_TYPE_DROP, 1, 1);
    mnl_attr_nest_end(nlh, bands);
    rep = handle(nlh);
    assert_int_equal(reply_errno(rep), 0);
    parse_reply(rep, OVS_METER_CMD_SET, tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_METER_ATTR_ID]), 54545401);
    assert_null(tb[OVS_METER_ATTR_STATS]);

    /* Two bands, a zero rate, a band without burst, no id: EINVAL. */
    for (int i = 0; i < 4; i++) {
        nlh = start(buf, OVS_METER_CMD_SET, ifx, 0);
        if (i != 3) {
            mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, 5);
        }
        bands = mnl_attr_nest_start(nlh, OVS_METER_ATTR_BANDS);
        if (i == 2) {
            struct nlattr *b = mnl_attr_nest_start(nlh, 0);
            mnl_attr_put_u32(nlh, OVS_BAND_ATTR_TYPE, 1);
            mnl_attr_put_u32(nlh, OVS_BAND_ATTR_RATE, 1);
            mnl_attr_nest_end(nlh, b);
        } else {
            put_band(nlh, OVS_METER_BAND_TYPE_DROP, i == 1 ? 0 : 10, 1);
        }
        if (i == 0) {
            put_band(nlh, OVS_METER_BAND_TYPE_DROP, 10, 1);
        }
        mnl_attr_nest_end(nlh, bands);
        assert_int_equal(reply_errno(handle(nlh)), EINVAL);
    }

    /* GET: counters and one band. */
    nlh = start(buf, OVS_METER_CMD_GET, ifx, 0);
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
    rep = handle(nlh);
    parse_reply(rep, OVS_METER_CMD_GET, tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_METER_ATTR_ID]), 54545401);
    assert_non_null(tb[OVS_METER_ATTR_STATS]);
    assert_int_equal(mnl_attr_get_payload_len(tb[OVS_METER_ATTR_STATS]),
                     sizeof(struct ovs_flow_stats));
    int n_bands = 0;
    const struct nlattr *b;
    mnl_attr_for_each_nested(b, tb[OVS_METER_ATTR_BANDS]) {
        n_bands++;
    }
    assert_int_equal(n_bands, 1);

    /* Replacing returns the old meter's counters. */
    nlh = start(buf, OVS_METER_CMD_SET, ifx, 0);
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
    bands = mnl_attr_nest_start(nlh, OVS_METER_ATTR_BANDS);
    put_band(nlh, OVS_METER_BAND_TYPE_DROP, 100, 10);
    mnl_attr_nest_end(nlh, bands);
    parse_reply(handle(nlh), OVS_METER_CMD_SET, tb);
    assert_non_null(tb[OVS_METER_ATTR_STATS]);

    /* A dump lists it. */
    nlh = start(buf, OVS_METER_CMD_GET, ifx, NLM_F_DUMP);
    rep = handle(nlh);
    parse_reply(rep, OVS_METER_CMD_GET, tb);
    assert_int_equal(mnl_attr_get_u32(tb[OVS_METER_ATTR_ID]), 54545401);
    rep = (const void *) ((const uint8_t *) rep + NLMSG_ALIGN(rep->nlmsg_len));
    assert_int_equal(rep->nlmsg_type, NLMSG_DONE);

    /* DEL returns the counters; a second DEL succeeds with none, a GET of
     * a missing meter is ENOENT. */
    for (int i = 0; i < 2; i++) {
        nlh = start(buf, OVS_METER_CMD_DEL, ifx, 0);
        mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
        rep = handle(nlh);
        assert_int_equal(reply_errno(rep), 0);
        parse_reply(rep, OVS_METER_CMD_DEL, tb);
        if (i == 0) {
            assert_non_null(tb[OVS_METER_ATTR_STATS]);
        } else {
            assert_null(tb[OVS_METER_ATTR_ID]);
        }
    }
    nlh = start(buf, OVS_METER_CMD_GET, ifx, 0);
    mnl_attr_put_u32(nlh, OVS_METER_ATTR_ID, 54545401);
    assert_int_equal(reply_errno(handle(nlh)), ENOENT);
    nlh = start(buf, OVS_METER_CMD_GET, ifx, 0);
    assert_int_equal(reply_errno(handle(nlh)), EINVAL);

    dp_destroy(dp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pktps_bucket),
        cmocka_unit_test(test_kbps_bucket),
        cmocka_unit_test(test_non_drop_band_and_missing_meter),
        cmocka_unit_test(test_table_replace_remove_full),
        cmocka_unit_test(test_create_refuses_too_many_bands),
        cmocka_unit_test(test_meter_action),
        cmocka_unit_test(test_family_without_datapath),
        cmocka_unit_test(test_family_commands),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
