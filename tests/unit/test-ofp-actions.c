/* Tests of lib/ofp-actions.c: OpenFlow 1.0 actions with Nicira
 * extensions, OpenFlow 1.3 actions and instructions, their errors and
 * round trips. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ofp-actions.h"
#include "ofp-match.h"

/* output:2, mod_dl_dst:00:11:22:33:44:55, resubmit(,2), strip_vlan,
 * mod_nw_tos:0x20, NORMAL: as ovs-ofctl sends them with 1.0. */
static const uint8_t acts10[] = {
    0, 0, 0, 8, 0, 2, 0, 0,
    0, 5, 0, 16, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0, 0, 0, 0,
    0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 14, 0xff, 0xf8, 2, 0, 0, 0,
    0, 3, 0, 8, 0, 0, 0, 0,
    0, 8, 0, 8, 0x20, 0, 0, 0,
    0, 0, 0, 8, 0xff, 0xfa, 0, 0,
};

static void
test_of10_round_trip(void **state)
{
    (void) state;
    struct ofpacts l;
    struct ofp_buf b;

    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, acts10,
                                            sizeof acts10, &l), 0);
    assert_int_equal(l.n, 6);
    assert_int_equal(l.a[0].type, OFPACT_OUTPUT);
    assert_int_equal(l.a[0].port, 2);
    assert_int_equal(l.a[1].type, OFPACT_SET_FIELD);
    assert_int_equal(l.a[1].field, MF_ETH_DST);
    assert_memory_equal(l.a[1].value, "\x00\x11\x22\x33\x44\x55", 6);
    assert_int_equal(l.a[2].type, OFPACT_RESUBMIT);
    assert_int_equal(l.a[2].port, OFPP_IN_PORT);
    assert_int_equal(l.a[2].table, 2);
    assert_int_equal(l.a[3].type, OFPACT_STRIP_VLAN);
    assert_int_equal(l.a[4].field, MF_IP_DSCP);
    assert_int_equal(l.a[4].value[0], 0x20 >> 2);
    assert_int_equal(l.a[5].port, OFPP_NORMAL);
    assert_int_equal(ofpacts_check(&l, 0, 254), 0);
    assert_int_equal(ofpacts_output_to(&l, 2), 1);
    assert_int_equal(ofpacts_output_to(&l, 3), 0);

    ofp_buf_init(&b);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    assert_int_equal(b.len, sizeof acts10);
    assert_memory_equal(b.data, acts10, sizeof acts10);
    ofp_buf_uninit(&b);
    ofpacts_uninit(&l);
}

static ofperr
decode10(const void *p, size_t len)
{
    struct ofpacts l;
    ofpacts_init(&l);
    ofperr err = ofpacts_decode_actions(OFP10_VERSION, p, len, &l);
    ofpacts_uninit(&l);
    return err;
}

static ofperr
decode13(const void *p, size_t len)
{
    struct ofpacts l;
    ofpacts_init(&l);
    ofperr err = ofpacts_decode_instructions(p, len, &l);
    ofpacts_uninit(&l);
    return err;
}

static void
test_action_errors(void **state)
{
    (void) state;
    static const uint8_t short_len[] = { 0, 0, 0, 4, 0, 2, 0, 0 };
    static const uint8_t odd_len[] = { 0, 0, 0, 12, 0, 2, 0, 0,
                                       0, 0, 0, 0 };
    static const uint8_t past_end[] = { 0, 0, 0, 16, 0, 2, 0, 0 };
    static const uint8_t unknown[] = { 0, 99, 0, 8, 0, 0, 0, 0 };
    static const uint8_t vendor[] = { 0xff, 0xff, 0, 16, 0, 0, 0x12, 0x34,
                                      0, 1, 0, 0, 0, 0, 0, 0 };
    static const uint8_t nx_unknown[] = { 0xff, 0xff, 0, 16, 0, 0, 0x23,
                                          0x20, 0x12, 0x34, 0, 0, 0, 0,
                                          0, 0 };
    static const uint8_t vid_range[] = { 0, 1, 0, 8, 0x10, 0, 0, 0 };

    assert_int_equal(decode10(short_len, 8), OFPERR_BAD_ACT_LEN);
    /* A list that is no whole number of 8-byte units is a bad request
     * (as Open vSwitch answers), before any action is read. */
    assert_int_equal(decode10(odd_len, 12), OFPERR_BAD_REQ_LEN);
    assert_int_equal(decode10(past_end, 8), OFPERR_BAD_ACT_LEN);
    assert_int_equal(decode10(unknown, 8), OFPERR_BAD_ACT_TYPE);
    assert_int_equal(decode10(vendor, 16), OFPERR_BAD_ACT_EXPERIMENTER);
    assert_int_equal(decode10(nx_unknown, 16), OFPERR_BAD_ACT_EXP_TYPE);
    assert_int_equal(decode10(vid_range, 8), OFPERR_BAD_ACT_ARGUMENT);

    /* 1.3: a group action decodes (whether the group exists is the
     * switch's check); one with a bad length does not. */
    static const uint8_t group[] = { 0, 4, 0, 16, 0, 0, 0, 0,
                                     0, 22, 0, 8, 0, 0, 0, 7 };
    struct ofpacts gl;
    ofpacts_init(&gl);
    assert_int_equal(ofpacts_decode_instructions(group, 16, &gl), 0);
    assert_int_equal(gl.n, 1);
    assert_int_equal(gl.a[0].type, OFPACT_GROUP);
    assert_int_equal(gl.a[0].port, 7);
    struct ofp_buf gb;
    ofp_buf_init(&gb);
    ofpacts_encode_instructions(&gl, &gb);
    assert_int_equal(gb.len, 16);
    assert_memory_equal(gb.data, group, 16);
    ofp_buf_uninit(&gb);
    ofpacts_uninit(&gl);
    static const uint8_t group_len[] = { 0, 4, 0, 24, 0, 0, 0, 0,
                                         0, 22, 0, 16, 0, 0, 0, 1,
                                         0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(decode13(group_len, 24), OFPERR_BAD_ACT_LEN);
    /* A set-field whose OXM carries a mask. */
    static const uint8_t sf_mask[] = {
        0, 4, 0, 32, 0, 0, 0, 0,
        0, 25, 0, 24, 0x80, 0x00, 0x07, 0x0c,
        0, 0x11, 0x22, 0x33, 0x44, 0x55, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    };
    assert_int_equal(decode13(sf_mask, sizeof sf_mask),
                     OFPERR_BAD_ACT_SET_LEN);
    /* Instructions: unknown, repeated, bad length. */
    static const uint8_t inst_unknown[] = { 0, 9, 0, 8, 0, 0, 0, 0 };
    assert_int_equal(decode13(inst_unknown, 8), OFPERR_BAD_INST_UNKNOWN);
    static const uint8_t inst_twice[] = { 0, 5, 0, 8, 0, 0, 0, 0,
                                          0, 5, 0, 8, 0, 0, 0, 0 };
    assert_int_equal(decode13(inst_twice, 16), OFPERR_ONF_DUP_INSTRUCTION);
    static const uint8_t goto_len[] = { 0, 1, 0, 16, 1, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(decode13(goto_len, 16), OFPERR_BAD_INST_LEN);
    assert_int_equal(decode13(goto_len, 8), OFPERR_BAD_INST_LEN);
}

static void
test_of13_instructions(void **state)
{
    (void) state;
    /* In wire order: goto_table:3, write_actions(output:4),
     * apply_actions(push_vlan, set_field:vlan_vid=5, output:1),
     * clear_actions, write_metadata:0x10/0xf0. */
    static const uint8_t in[] = {
        0, 1, 0, 8, 3, 0, 0, 0,
        0, 3, 0, 24, 0, 0, 0, 0,
        0, 0, 0, 16, 0, 0, 0, 4, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
        0, 4, 0, 48, 0, 0, 0, 0,
        0, 17, 0, 8, 0x81, 0x00, 0, 0,
        0, 25, 0, 16, 0x80, 0x00, 0x0c, 0x02, 0x10, 0x05, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 5, 0, 8, 0, 0, 0, 0,
        0, 2, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        0, 0, 0, 0, 0, 0, 0, 0xf0,
    };
    struct ofpacts l;
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_instructions(in, sizeof in, &l), 0);
    /* Execution order: apply, clear, write, metadata, goto. */
    static const uint8_t want[] = {
        OFPACT_PUSH_VLAN, OFPACT_SET_FIELD, OFPACT_OUTPUT,
        OFPACT_CLEAR_ACTIONS, OFPACT_WRITE_ACTIONS, OFPACT_OUTPUT,
        OFPACT_WRITE_METADATA, OFPACT_GOTO_TABLE,
    };
    assert_int_equal(l.n, sizeof want);
    for (size_t i = 0; i < sizeof want; i++) {
        assert_int_equal(l.a[i].type, want[i]);
    }
    assert_int_equal(l.a[0].port, 0x8100);
    assert_int_equal(l.a[1].field, MF_VLAN_VID);
    assert_int_equal(l.a[4].n, 1);
    assert_int_equal(l.a[5].port, 4);
    assert_int_equal(l.a[6].metadata, 0x10);
    assert_int_equal(l.a[6].mask, 0xf0);
    assert_int_equal(l.a[7].table, 3);
    assert_int_equal(ofpacts_check(&l, 0, 254), 0);
    /* goto-table must go forward. */
    assert_int_equal(ofpacts_check(&l, 3, 254), OFPERR_BAD_INST_TABLE_ID);
    assert_int_equal(ofpacts_check(&l, 0, 3), OFPERR_BAD_INST_TABLE_ID);

    /* Encoding gives the instructions in execution order, which decode
     * to the same list. */
    struct ofp_buf b;
    struct ofpacts again;
    ofp_buf_init(&b);
    ofpacts_init(&again);
    ofpacts_encode_instructions(&l, &b);
    assert_int_equal(b.len, sizeof in);
    assert_int_equal(ofpacts_decode_instructions(b.data, b.len, &again), 0);
    assert_int_equal(again.n, l.n);
    assert_memory_equal(again.a, l.a, l.n * sizeof *l.a);
    /* The apply-actions instruction comes first. */
    assert_int_equal(b.data[1], 4);
    assert_int_equal(b.data[3], 48);

    /* In 1.0 the applied actions remain (push_vlan has no 1.0 spelling,
     * the set-field of a VID becomes set_vlan_vid), the action set goes,
     * and write-metadata and goto-table become Open vSwitch's
     * NXAST_WRITE_METADATA and NXAST_RESUBMIT_TABLE, as it sends them. */
    ofp_buf_clear(&b);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    static const uint8_t in10[] = {
        0, 1, 0, 8, 0, 5, 0, 0,
        0, 0, 0, 8, 0, 1, 0, 0,
        0xff, 0xff, 0, 32, 0, 0, 0x23, 0x20, 0, 22, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xf0,
        0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 14, 0xff, 0xf8, 3, 0, 0, 0,
    };
    assert_int_equal(b.len, sizeof in10);
    assert_memory_equal(b.data, in10, sizeof in10);
    ofpacts_uninit(&again);
    ofpacts_uninit(&l);
    ofp_buf_uninit(&b);
}

static void
test_check_ports(void **state)
{
    (void) state;
    struct ofpacts l;

    ofpacts_init(&l);
    /* Port 0 may be added later: accepted, as Open vSwitch does. */
    ofpacts_put(&l, OFPACT_OUTPUT)->port = 0;
    assert_int_equal(ofpacts_check(&l, 0, 254), 0);
    l.a[0].port = 0xffffff10;               /* reserved, not a port */
    assert_int_equal(ofpacts_check(&l, 0, 254), OFPERR_BAD_ACT_OUT_PORT);
    l.a[0].port = OFPP_ANY;
    assert_int_equal(ofpacts_check(&l, 0, 254), OFPERR_BAD_ACT_OUT_PORT);
    l.a[0].port = OFPP_FLOOD;
    assert_int_equal(ofpacts_check(&l, 0, 254), 0);
    l.a[0].port = 0xfeff;
    assert_int_equal(ofpacts_check(&l, 0, 254), 0);
    struct ofpact *r = ofpacts_put(&l, OFPACT_RESUBMIT);
    r->table = 254;
    assert_int_equal(ofpacts_check(&l, 0, 254), OFPERR_BAD_ACT_ARGUMENT);
    r->table = 255;                         /* the current table */
    assert_int_equal(ofpacts_check(&l, 0, 254), 0);

    /* Growing past the initial capacity keeps earlier entries. */
    for (int i = 0; i < 100; i++) {
        ofpacts_put(&l, OFPACT_OUTPUT)->port = i + 1;
    }
    assert_int_equal(l.n, 102);
    assert_int_equal(l.a[0].port, 0xfeff);
    assert_int_equal(l.a[101].port, 100);
    ofpacts_uninit(&l);
}

/* load:0x5->NXM_NX_REG0[], load:0x3->NXM_NX_REG1[8..15],
 * move:NXM_OF_IP_SRC[]->NXM_NX_REG2[], as ovs-ofctl sends them. */
static const uint8_t reg_acts[] = {
    0xff, 0xff, 0, 24, 0, 0, 0x23, 0x20, 0, 7, 0, 31,
    0x00, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 5,
    0xff, 0xff, 0, 24, 0, 0, 0x23, 0x20, 0, 7, 0x02, 0x07,
    0x00, 0x01, 0x02, 0x04, 0, 0, 0, 0, 0, 0, 0, 3,
    0xff, 0xff, 0, 24, 0, 0, 0x23, 0x20, 0, 6, 0, 32, 0, 0, 0, 0,
    0x00, 0x00, 0x0e, 0x04, 0x00, 0x01, 0x04, 0x04,
};

static void
test_reg_load_move(void **state)
{
    (void) state;
    struct ofpacts l;
    struct ofp_buf b;

    for (int v = 0; v < 2; v++) {
        uint8_t version = v ? OFP13_VERSION : OFP10_VERSION;
        ofpacts_init(&l);
        assert_int_equal(ofpacts_decode_actions(version, reg_acts,
                                                sizeof reg_acts, &l), 0);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.a[0].type, OFPACT_REG_LOAD);
        assert_int_equal(l.a[0].field, MF_REG0);
        assert_int_equal(l.a[0].ofs, 0);
        assert_int_equal(l.a[0].n, 32);
        assert_int_equal(l.a[0].metadata, 5);
        assert_int_equal(l.a[1].field, MF_REG0 + 1);
        assert_int_equal(l.a[1].ofs, 8);
        assert_int_equal(l.a[1].n, 8);
        assert_int_equal(l.a[2].type, OFPACT_REG_MOVE);
        assert_int_equal(l.a[2].src_field, MF_IPV4_SRC);
        assert_int_equal(l.a[2].field, MF_REG0 + 2);
        assert_int_equal(l.a[2].n, 32);

        ofp_buf_init(&b);
        ofpacts_encode_actions(version, &l, &b);
        assert_int_equal(b.len, sizeof reg_acts);
        assert_memory_equal(b.data, reg_acts, sizeof reg_acts);
        ofp_buf_uninit(&b);
        ofpacts_uninit(&l);
    }

    /* Refusals: a value wider than its bits, bits past the field's end,
     * an unknown field, a field that names the packet's layout, a bad
     * length. */
    uint8_t bad[24];
    memcpy(bad, reg_acts, 24);
    bad[23] = 0xff;
    bad[11] = 3;                        /* 4 bits */
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, bad, 24, &l),
                     OFPERR_BAD_ACT_ARGUMENT);
    ofpacts_uninit(&l);
    memcpy(bad, reg_acts, 24);
    bad[10] = 0x08;                     /* ofs 32 in a 32-bit register */
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, bad, 24, &l),
                     OFPERR_BAD_ACT_ARGUMENT);
    ofpacts_uninit(&l);
    memcpy(bad, reg_acts, 24);
    bad[14] = 0x7e;                     /* NXM_NX field 63: unknown */
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, bad, 24, &l),
                     OFPERR_BAD_ACT_SET_TYPE);
    ofpacts_uninit(&l);
    memcpy(bad, reg_acts, 24);
    bad[12] = 0; bad[13] = 0; bad[14] = 0x06; bad[15] = 0x02;  /* type */
    bad[11] = 15;
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, bad, 24, &l),
                     OFPERR_BAD_ACT_SET_TYPE);
    ofpacts_uninit(&l);
    uint8_t move_bad[24];
    memcpy(move_bad, reg_acts + 48, 24);
    move_bad[11] = 33;                  /* 33 bits from a 32-bit field */
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, move_bad, 24,
                                            &l), OFPERR_BAD_ACT_ARGUMENT);
    ofpacts_uninit(&l);
    memcpy(bad, reg_acts, 24);
    bad[3] = 16;
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, bad, 16, &l),
                     OFPERR_BAD_ACT_LEN);
    ofpacts_uninit(&l);

    /* A 1.3 set_field to a register goes to 1.0 as a whole-field load. */
    ofpacts_init(&l);
    struct ofpact *a = ofpacts_put(&l, OFPACT_SET_FIELD);
    a->field = MF_REG0;
    memcpy(a->value, "\0\0\0\5", 4);
    ofp_buf_init(&b);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    assert_int_equal(b.len, 24);
    assert_memory_equal(b.data, reg_acts, 24);
    ofp_buf_uninit(&b);
    ofpacts_uninit(&l);

    uint8_t bits[4] = { 0 };
    const uint8_t src[2] = { 0xab, 0xcd };
    mf_copy_bits(src, 2, 4, bits, 4, 8, 8);         /* 0xbc into [8..15] */
    assert_memory_equal(bits, "\0\0\xbc\0", 4);
}

/* Open vSwitch's NXAST_GROUP (subtype 40): the id after two bytes of
 * padding, so that it is 32-bit aligned. */
static void
test_nx_group_action(void **state)
{
    (void) state;
    static const uint8_t wire[] = {
        0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 40, 0, 0, 0, 0, 1, 2,
    };
    struct ofpacts l;
    struct ofp_buf b;

    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, wire,
                                            sizeof wire, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.a[0].type, OFPACT_GROUP);
    assert_int_equal(l.a[0].port, 0x102);
    ofp_buf_init(&b);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    assert_int_equal(b.len, sizeof wire);
    assert_memory_equal(b.data, wire, sizeof wire);
    ofp_buf_uninit(&b);
    ofpacts_uninit(&l);

    /* Any other length is refused. */
    static const uint8_t long_[] = {
        0xff, 0xff, 0, 24, 0, 0, 0x23, 0x20, 0, 40, 0, 0, 0, 0, 1, 2,
        0, 0, 0, 0, 0, 0, 0, 0,
    };
    assert_int_equal(decode10(long_, sizeof long_), OFPERR_BAD_ACT_LEN);
}

/* learn(table=1,hard_timeout=60,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],
 *       load:0x5->NXM_NX_REG2[],output:NXM_OF_IN_PORT[]) as ovs-ofctl
 * sends it: the 32-byte header, then the specs, zero-padded. */
static const uint8_t learn_wire[] = {
    0xff, 0xff, 0, 72, 0, 0, 0x23, 0x20, 0, 16, 0, 0, 0, 60, 0x80, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
    0x00, 0x30, 0, 0, 0x04, 0x06, 0, 0, 0, 0, 0x02, 0x06, 0, 0,
    0x28, 0x20, 0, 0, 0, 5, 0, 1, 0x04, 0x04, 0, 0,
    0x10, 0x10, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0,
};

static void
test_learn(void **state)
{
    (void) state;
    struct ofpacts l, copy;
    struct ofp_buf b;

    assert_int_equal(sizeof learn_wire, 72);
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, learn_wire,
                                            sizeof learn_wire, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.a[0].type, OFPACT_LEARN);
    const struct ofp_learn *ln = l.a[0].learn;
    assert_int_equal(ln->table_id, 1);
    assert_int_equal(ln->hard_timeout, 60);
    assert_int_equal(ln->priority, 0x8000);
    assert_int_equal(ln->n_specs, 3);
    assert_int_equal(ln->specs[0].dst_type, LEARN_DST_MATCH);
    assert_int_equal(ln->specs[0].src_field, MF_ETH_SRC);
    assert_int_equal(ln->specs[0].dst_field, MF_ETH_DST);
    assert_int_equal(ln->specs[0].n_bits, 48);
    assert_int_equal(ln->specs[1].src_type, LEARN_SRC_IMMEDIATE);
    assert_int_equal(ln->specs[1].dst_type, LEARN_DST_LOAD);
    assert_int_equal(ln->specs[1].dst_field, MF_REG0 + 2);
    assert_int_equal(ln->specs[1].value[3], 5);
    assert_int_equal(ln->specs[2].dst_type, LEARN_DST_OUTPUT);
    assert_int_equal(ln->specs[2].src_field, MF_IN_PORT);

    /* Sent back byte for byte, in 1.0 and inside 1.3 instructions; a
     * copy owns its own specs (the lists are freed separately). */
    ofp_buf_init(&b);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    assert_int_equal(b.len, sizeof learn_wire);
    assert_memory_equal(b.data, learn_wire, sizeof learn_wire);
    ofp_buf_clear(&b);
    assert_int_equal(ofpacts_copy(&copy, &l), 0);
    ofpacts_uninit(&l);
    ofpacts_encode_instructions(&copy, &b);
    assert_int_equal(b.len, 8 + sizeof learn_wire);
    assert_memory_equal(b.data + 8, learn_wire, sizeof learn_wire);
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_instructions(b.data, b.len, &l), 0);
    assert_int_equal(l.a[0].learn->n_specs, 3);
    ofpacts_uninit(&l);
    ofpacts_uninit(&copy);
    ofp_buf_uninit(&b);

    /* Refused: table 255, too short, a spec running past the end, a
     * field offset past the field, an immediate output, junk after the
     * terminating zero. */
    uint8_t bad[sizeof learn_wire];
    memcpy(bad, learn_wire, sizeof bad);
    bad[26] = 255;
    assert_int_equal(decode10(bad, sizeof bad), OFPERR_BAD_ACT_ARGUMENT);
    static const uint8_t short_[] = {
        0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 16, 0, 0, 0, 0, 0, 0,
    };
    assert_int_equal(decode10(short_, sizeof short_), OFPERR_BAD_ACT_LEN);
    memcpy(bad, learn_wire, sizeof bad);
    bad[3] = 40;                        /* cuts the first spec */
    assert_int_equal(decode10(bad, 40), OFPERR_BAD_ACT_LEN);
    memcpy(bad, learn_wire, sizeof bad);
    bad[39] = 1;                        /* eth_src bit offset 1 + 48 */
    assert_int_equal(decode10(bad, sizeof bad), OFPERR_BAD_ACT_ARGUMENT);
    memcpy(bad, learn_wire, sizeof bad);
    bad[58] = 0x30;                     /* output from an immediate */
    assert_int_equal(decode10(bad, sizeof bad), OFPERR_BAD_ACT_ARGUMENT);
    memcpy(bad, learn_wire, sizeof bad);
    bad[sizeof bad - 1] = 7;            /* after the terminator */
    assert_int_equal(decode10(bad, sizeof bad), OFPERR_BAD_ACT_ARGUMENT);
}

/* Fields set, loaded or moved need their prerequisites in the match, as
 * the earlier actions leave it. */
static void
test_prereqs(void **state)
{
    (void) state;
    struct ofp_match m;
    struct ofpacts l;

    ofp_match_init_catchall(&m);
    ofpacts_init(&l);
    struct ofpact *a = ofpacts_put(&l, OFPACT_SET_FIELD);
    a->field = MF_IPV4_DST;
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    m.v.key.eth_type = htons(0x0800);
    m.m.key.eth_type = 0xffff;
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    /* tcp_dst needs ip_proto=6 too. */
    a->field = MF_TCP_DST;
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    m.v.key.ip_proto = 6;
    m.m.key.ip_proto = 0xff;
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    ofpacts_uninit(&l);

    /* OpenFlow 1.0's own set actions are not checked (mod_tp_dst on a
     * udp match is fine: it is not "tcp_dst"). */
    static const uint8_t mod_tp_dst[] = { 0, 10, 0, 8, 0x14, 0xe9, 0, 0 };
    ofp_match_init_catchall(&m);
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, mod_tp_dst,
                                            sizeof mod_tp_dst, &l), 0);
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    ofpacts_uninit(&l);

    /* ... but OpenFlow 1.3's set_field is, and may set metadata. */
    static const uint8_t set_ip_dst[] = {
        0, 4, 0, 24, 0, 0, 0, 0,
        0, 25, 0, 16, 0x80, 0, 24, 4, 10, 0, 0, 1, 0, 0, 0, 0,
    };
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_instructions(set_ip_dst,
                                                 sizeof set_ip_dst, &l), 0);
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    ofpacts_uninit(&l);
    static const uint8_t set_metadata[] = {
        0, 4, 0, 24, 0, 0, 0, 0,
        0, 25, 0, 16, 0x80, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 5,
    };
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_instructions(set_metadata,
                                                 sizeof set_metadata, &l),
                     0);
    assert_int_equal(l.a[0].field, MF_METADATA);
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    ofpacts_uninit(&l);

    /* A move checks both of its fields; registers need nothing. */
    ofp_match_init_catchall(&m);
    ofpacts_init(&l);
    a = ofpacts_put(&l, OFPACT_REG_MOVE);
    a->src_field = MF_REG0;
    a->field = MF_ARP_SPA;
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    a->field = MF_REG0 + 1;
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    a->src_field = MF_IPV6_SRC;
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    ofpacts_uninit(&l);

    /* set_field vlan_vid needs a tag: from the match or a push before
     * it; a pop takes it away again. */
    ofp_match_init_catchall(&m);
    ofpacts_init(&l);
    a = ofpacts_put(&l, OFPACT_SET_FIELD);
    a->field = MF_VLAN_VID;
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    ofpacts_uninit(&l);
    ofpacts_init(&l);
    ofpacts_put(&l, OFPACT_PUSH_VLAN)->port = 0x8100;
    ofpacts_put(&l, OFPACT_SET_FIELD)->field = MF_VLAN_VID;
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    ofpacts_put(&l, OFPACT_POP_VLAN);
    ofpacts_put(&l, OFPACT_SET_FIELD)->field = MF_VLAN_VID;
    assert_int_equal(ofpacts_check_prereqs(&l, &m),
                     OFPERR_BAD_ACT_MATCH_INCONSISTENT);
    ofpacts_uninit(&l);
    m.v.key.vlan_tci = htons(0x1000 | 10);
    m.m.key.vlan_tci = htons(0x1fff);
    ofpacts_init(&l);
    ofpacts_put(&l, OFPACT_SET_FIELD)->field = MF_VLAN_VID;
    assert_int_equal(ofpacts_check_prereqs(&l, &m), 0);
    ofpacts_uninit(&l);
}

/* NXAST_REG_LOAD2: reg0 = 0x25/0xf0 (NXM_NX_REG0_W), as it comes from a
 * controller, decodes to a masked set-field, encodes back byte for byte in
 * both versions, and refuses what Open vSwitch refuses. */
static void
test_reg_load2(void **state)
{
    (void) state;
    static const uint8_t load2[] = {
        0xff, 0xff, 0, 24, 0, 0, 0x23, 0x20, 0, 33,
        0x00, 0x01, 0x01, 0x08, 0, 0, 0, 0x25, 0, 0, 0, 0xf0,
        0, 0,
    };
    struct ofpacts l;
    struct ofp_buf b;

    ofpacts_init(&l);
    ofp_buf_init(&b);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, load2,
                                            sizeof load2, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.a[0].type, OFPACT_SET_FIELD);
    assert_int_equal(l.a[0].field, MF_REG0);
    assert_int_equal(l.a[0].nx_load2, 1);
    assert_int_equal(l.a[0].value[3], 0x20);    /* only the mask's bits */
    assert_int_equal(l.a[0].set_mask[3], 0xf0);
    for (uint8_t v = OFP10_VERSION; v <= OFP13_VERSION; v += 3) {
        ofp_buf_clear(&b);
        ofpacts_encode_actions(v, &l, &b);
        uint8_t want[sizeof load2];
        memcpy(want, load2, sizeof load2);
        want[17] = 0x20;
        assert_int_equal(b.len, sizeof want);
        assert_memory_equal(b.data, want, sizeof want);
    }
    ofpacts_uninit(&l);

    /* Refusals, each from a copy of the good action. */
    struct {
        size_t at;
        uint8_t byte;
        ofperr err;
    } bad[] = {
        { 13, 0x07, OFPERR_BAD_ACT_SET_LEN },       /* length 7 */
        { 23, 0x01, OFPERR_BAD_ACT_SET_ARGUMENT },  /* padding */
        { 11, 0xc8, OFPERR_NX_INVALID_TLV_FIELD },  /* unknown class */
        { 13, 0x40, OFPERR_BAD_MATCH_LEN },         /* past the action */
        { 13, 0x00, OFPERR_BAD_ACT_SET_TYPE },      /* no field */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t m[sizeof load2];
        memcpy(m, load2, sizeof m);
        m[bad[i].at] = bad[i].byte;
        ofpacts_init(&l);
        assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, m, sizeof m,
                                                &l), bad[i].err);
        assert_int_equal(l.n, 0);
        ofpacts_uninit(&l);
    }
    /* eth_type (NXM_OF_ETH_TYPE) is not writable. */
    static const uint8_t eth_type[] = {
        0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 33,
        0x00, 0x00, 0x06, 0x02, 0x08, 0x00,
    };
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, eth_type,
                                            sizeof eth_type, &l),
                     OFPERR_BAD_ACT_SET_ARGUMENT);
    ofpacts_uninit(&l);
    ofp_buf_uninit(&b);
}

/* The meter instruction leads the list whatever its place on the wire,
 * is encoded first, and has no OpenFlow 1.0 form. */
static void
test_meter_instruction(void **state)
{
    (void) state;
    static const uint8_t in[] = {
        0, 4, 0, 24, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 2,
        0xff, 0xff, 0, 0, 0, 0, 0, 0,
        0, 6, 0, 8, 0, 0, 0, 7,
    };
    struct ofpacts l;
    struct ofp_buf b;

    ofpacts_init(&l);
    ofp_buf_init(&b);
    assert_int_equal(ofpacts_decode_instructions(in, sizeof in, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.a[0].type, OFPACT_METER);
    assert_int_equal(l.a[0].port, 7);
    assert_int_equal(l.a[1].type, OFPACT_OUTPUT);
    ofpacts_encode_instructions(&l, &b);
    assert_int_equal(b.len, sizeof in);
    assert_memory_equal(b.data, in + 24, 8);
    assert_memory_equal(b.data + 8, in, 24);
    ofp_buf_clear(&b);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    assert_int_equal(b.len, 8);                 /* output:2 alone */
    ofpacts_uninit(&l);

    static const uint8_t long_meter[] = {
        0, 6, 0, 16, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_instructions(long_meter,
                                                 sizeof long_meter, &l),
                     OFPERR_BAD_INST_LEN);
    ofpacts_uninit(&l);
    ofp_buf_uninit(&b);
}

/* learn's fin timeouts and flags (delete_learned), and the fin_timeout
 * action that learned rules carry, as Open vSwitch encodes them. */
static void
test_fin_timeout(void **state)
{
    (void) state;
    uint8_t w[sizeof learn_wire];
    struct ofpacts l;
    struct ofp_buf b;

    memcpy(w, learn_wire, sizeof w);
    w[25] = OFP_LEARN_F_DELETE_LEARNED;         /* flags */
    w[28] = 0, w[29] = 5;                       /* fin_idle_timeout */
    w[30] = 0, w[31] = 10;                      /* fin_hard_timeout */
    ofpacts_init(&l);
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, w, sizeof w,
                                            &l), 0);
    assert_int_equal(l.a[0].learn->flags, OFP_LEARN_F_DELETE_LEARNED);
    assert_int_equal(l.a[0].learn->fin_idle_timeout, 5);
    assert_int_equal(l.a[0].learn->fin_hard_timeout, 10);
    ofpacts_uninit(&l);
    w[25] = 4;                                  /* an unknown flag */
    assert_int_equal(decode10(w, sizeof w), OFPERR_BAD_ACT_ARGUMENT);

    /* fin_timeout(idle_timeout=5,hard_timeout=10), both versions. */
    static const uint8_t fin[] = {
        0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 19, 0, 5, 0, 10, 0, 0,
    };
    ofpacts_init(&l);
    ofp_buf_init(&b);
    assert_int_equal(ofpacts_decode_actions(OFP13_VERSION, fin, sizeof fin,
                                            &l), 0);
    assert_int_equal(l.a[0].type, OFPACT_FIN_TIMEOUT);
    assert_int_equal(l.a[0].n, 5);
    assert_int_equal(l.a[0].ofs, 10);
    ofpacts_encode_actions(OFP10_VERSION, &l, &b);
    assert_int_equal(b.len, sizeof fin);
    assert_memory_equal(b.data, fin, sizeof fin);
    ofpacts_uninit(&l);
    ofp_buf_uninit(&b);
    assert_int_equal(decode10(fin, 8), OFPERR_BAD_ACT_LEN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_of10_round_trip),
        cmocka_unit_test(test_action_errors),
        cmocka_unit_test(test_of13_instructions),
        cmocka_unit_test(test_check_ports),
        cmocka_unit_test(test_reg_load_move),
        cmocka_unit_test(test_nx_group_action),
        cmocka_unit_test(test_prereqs),
        cmocka_unit_test(test_learn),
        cmocka_unit_test(test_reg_load2),
        cmocka_unit_test(test_meter_instruction),
        cmocka_unit_test(test_fin_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
