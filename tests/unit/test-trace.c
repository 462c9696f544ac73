/* Tests of vswitchd/trace.c: matches and actions in ovs-ofctl's syntax,
 * and the tree printed with Open vSwitch's ofproto/trace indentation. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "odp-format.h"
#include "ofp-actions.h"
#include "ofp-match.h"
#include "trace.h"

static char *
match_text(const struct ofp_match *m, bool full)
{
    static char out[512];
    struct odp_buf b = { 0 };

    trace_format_match(&b, m, full);
    snprintf(out, sizeof out, "%s", odp_buf_cstr(&b));
    odp_buf_free(&b);
    return out;
}

static void
test_match(void **state)
{
    struct ofp_match m;

    (void) state;
    ofp_match_init_catchall(&m);
    assert_string_equal(match_text(&m, false), "");

    m.v.key.eth_type = htons(0x0800);
    m.m.key.eth_type = 0xffff;
    m.v.key.in_port = 1;
    m.m.key.in_port = UINT32_MAX;
    assert_string_equal(match_text(&m, false), "ip,in_port=1");

    m.v.key.ip_proto = 6;
    m.m.key.ip_proto = 0xff;
    m.v.key.tp_dst = htons(80);
    m.m.key.tp_dst = 0xffff;
    m.v.key.ipv4_src = htonl(0x0a000000);
    m.m.key.ipv4_src = htonl(0xff000000);
    assert_string_equal(match_text(&m, false),
                        "tcp,in_port=1,nw_src=10.0.0.0/8,tp_dst=80");

    /* A non-prefix mask and a partial port mask. */
    m.m.key.ipv4_src = htonl(0xff00ff00);
    m.m.key.tp_dst = htons(0xfff0);
    assert_string_equal(match_text(&m, false),
                        "tcp,in_port=1,nw_src=10.0.0.0/255.0.255.0,"
                        "tp_dst=0x50/0xfff0");

    ofp_match_init_catchall(&m);
    m.v.key.vlan_tci = htons(0x1005);
    m.m.key.vlan_tci = htons(0x1fff);
    m.v.key.in_port = OFPP_LOCAL;
    m.m.key.in_port = UINT32_MAX;
    m.v.regs[2] = 7;
    m.m.regs[2] = UINT32_MAX;
    assert_string_equal(match_text(&m, false),
                        "reg2=0x7,in_port=LOCAL,dl_vlan=5");
}

static void
test_flow(void **state)
{
    struct ofp_match m;

    (void) state;
    ofp_match_init_catchall(&m);
    m.v.key.in_port = 3;
    m.v.key.eth_type = htons(0x0806);
    m.v.key.ip_proto = 1;
    m.v.key.ipv4_src = htonl(0x01010101);
    assert_string_equal(match_text(&m, true),
                        "arp,in_port=3,vlan_tci=0x0000,"
                        "dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,"
                        "arp_spa=1.1.1.1,arp_tpa=0.0.0.0,arp_op=1,"
                        "arp_sha=00:00:00:00:00:00,"
                        "arp_tha=00:00:00:00:00:00");

    ofp_match_init_catchall(&m);
    m.v.key.in_port = 2;
    m.v.key.vlan_tci = htons(0x1007 | 3 << 13);
    assert_string_equal(match_text(&m, true),
                        "in_port=2,dl_vlan=7,dl_vlan_pcp=3,"
                        "vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,"
                        "dl_dst=00:00:00:00:00:00,dl_type=0x0000");

    ofp_match_init_catchall(&m);
    m.v.key.in_port = 1;
    m.v.key.eth_type = htons(0x0800);
    m.v.key.ip_proto = 17;
    m.v.key.ip_tos = 0x22;
    m.v.key.ip_ttl = 64;
    m.v.key.tp_src = htons(53);
    assert_string_equal(match_text(&m, true),
                        "udp,in_port=1,vlan_tci=0x0000,"
                        "dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,"
                        "nw_src=0.0.0.0,nw_dst=0.0.0.0,nw_tos=32,nw_ecn=2,"
                        "nw_ttl=64,nw_frag=no,tp_src=53,tp_dst=0");
}

static const char *
action_text(const struct ofpact *a)
{
    static char out[256];
    struct odp_buf b = { 0 };

    trace_format_action(&b, a);
    snprintf(out, sizeof out, "%s", odp_buf_cstr(&b));
    odp_buf_free(&b);
    return out;
}

static void
test_actions(void **state)
{
    struct ofpact a;

    (void) state;
    memset(&a, 0, sizeof a);
    a.type = OFPACT_OUTPUT;
    a.port = 2;
    assert_string_equal(action_text(&a), "output:2");
    a.port = OFPP_CONTROLLER;
    a.n = 65535;
    assert_string_equal(action_text(&a), "CONTROLLER:65535");
    a.port = OFPP_IN_PORT;
    assert_string_equal(action_text(&a), "IN_PORT");

    memset(&a, 0, sizeof a);
    a.type = OFPACT_SET_FIELD;
    a.field = MF_IPV4_DST;
    memcpy(a.value, "\x01\x02\x03\x04", 4);
    assert_string_equal(action_text(&a), "mod_nw_dst:1.2.3.4");
    a.field = MF_REG0 + 3;
    memcpy(a.value, "\x00\x00\x00\x2a", 4);
    assert_string_equal(action_text(&a), "set_field:0x2a->reg3");
    a.field = MF_IP_DSCP;
    a.value[0] = 8;
    assert_string_equal(action_text(&a), "mod_nw_tos:32");

    memset(&a, 0, sizeof a);
    a.type = OFPACT_RESUBMIT;
    a.port = OFPP_IN_PORT;
    a.table = 4;
    assert_string_equal(action_text(&a), "resubmit(,4)");
    a.port = 3;
    a.table = 255;
    assert_string_equal(action_text(&a), "resubmit:3");

    memset(&a, 0, sizeof a);
    a.type = OFPACT_PUSH_VLAN;
    a.port = 0x8100;
    assert_string_equal(action_text(&a), "push_vlan:0x8100");
    a.type = OFPACT_GOTO_TABLE;
    a.table = 2;
    assert_string_equal(action_text(&a), "goto_table:2");
    a.type = OFPACT_WRITE_METADATA;
    a.metadata = 5;
    a.mask = 0xff;
    assert_string_equal(action_text(&a), "write_metadata:0x5/0xff");
}

/* The layout of Open vSwitch's traces: a resubmitted table nests under
 * the rule that resubmitted, a goto-table chain stays flat, leaves sit
 * one step in. */
static void
test_print(void **state)
{
    struct trace_node *root = trace_add(NULL, TRACE_BRIDGE, "root");
    struct trace_node *br = trace_add(root, TRACE_BRIDGE, "bridge(\"br0\")");
    struct trace_node *t0 = trace_add(br, TRACE_TABLE, " 0. priority 1");
    struct odp_buf b = { 0 };

    (void) state;
    trace_add(t0, TRACE_ACTION, "resubmit(,1)");
    struct trace_node *t1 = trace_add(t0, TRACE_TABLE, " 1. priority 2");
    trace_add(t1, TRACE_ACTION, "NORMAL");
    trace_add(t1, TRACE_DETAIL, "flooding");
    trace_add(t0, TRACE_ACTION, "goto_table:2");
    struct trace_node *t2 = trace_add(t0, TRACE_TABLE, " 2. No match.");
    trace_add(t2, TRACE_ACTION, "drop");
    trace_print(&b, root, 0);
    assert_string_equal(odp_buf_cstr(&b),
                        "\n"
                        "bridge(\"br0\")\n"
                        "-------------\n"
                        " 0. priority 1\n"
                        "    resubmit(,1)\n"
                        "     1. priority 2\n"
                        "            NORMAL\n"
                        "             -> flooding\n"
                        "    goto_table:2\n"
                        " 2. No match.\n"
                        "    drop\n");
    odp_buf_free(&b);
    trace_free(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_flow),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
