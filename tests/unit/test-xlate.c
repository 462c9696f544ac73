/* Tests of vswitchd/xlate.c for the controller: the CONTROLLER action and
 * OpenFlow 1.0 table misses become a userspace() datapath action whose
 * userdata carries the packet-in's reason, table, cookie and max_len;
 * a bridge in fail-open mode acts as a NORMAL switch; ofproto/trace
 * records the rule hit. */
#include <arpa/inet.h>
#include <linux/openvswitch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "mac-learning.h"
#include "ofp-actions.h"
#include "ofp-match.h"
#include "ofproto.h"
#include "rules.h"
#include "trace.h"
#include "xlate.h"

static struct ofport ports[3];
static struct ofport *port_ptrs[3];
static struct ofproto bridge;
static struct ofproto *bridge_ptr = &bridge;
static struct xlate_cfg cfg;
static struct xlate_out xo;

static int
setup(void **state)
{
    (void) state;
    memset(&bridge, 0, sizeof bridge);
    snprintf(bridge.name, sizeof bridge.name, "br0");
    for (int i = 0; i < 3; i++) {
        memset(&ports[i], 0, sizeof ports[i]);
        snprintf(ports[i].name, sizeof ports[i].name, "p%d", i + 1);
        ports[i].ofp_port = i + 1;
        ports[i].odp_port = i + 11;
        ports[i].vlan_mode = PORT_VLAN_TRUNK;
        ports[i].tag = VLAN_NONE;
        ports[i].bridge = &bridge;
        port_ptrs[i] = &ports[i];
    }
    bridge.ports = port_ptrs;
    bridge.n_ports = 3;
    bridge.macs = mac_table_create(300, 1000);
    cfg.bridges = &bridge_ptr;
    cfg.n_bridges = 1;
    cfg.seq = 1;
    assert_true(rules_sync(&cfg));      /* the default NORMAL rule */
    return 0;
}

static int
teardown(void **state)
{
    (void) state;
    rules_destroy_all();
    mac_table_destroy(bridge.macs);
    return 0;
}

static void
key_from(struct flow_key *k, uint32_t odp_in)
{
    memset(k, 0, sizeof *k);
    k->in_port = odp_in;
    memset(k->eth_dst, 0xff, 6);
    k->eth_src[5] = 1;
    k->eth_type = htons(0x0806);
}

/* Counts output actions; copies the first userspace() cookie. */
static int
scan(const struct xlate_out *o, int *n_outputs,
     struct xlate_pin_cookie *ck)
{
    const struct nlattr *a;
    int n_user = 0;

    *n_outputs = 0;
    for (a = (const void *) o->actions;
         mnl_attr_ok(a, (int) ((const uint8_t *) o->actions + o->actions_len
                               - (const uint8_t *) a));
         a = mnl_attr_next(a)) {
        if (mnl_attr_get_type(a) == OVS_ACTION_ATTR_OUTPUT) {
            (*n_outputs)++;
        } else if (mnl_attr_get_type(a) == OVS_ACTION_ATTR_USERSPACE) {
            const struct nlattr *u;
            bool pid = false;
            mnl_attr_for_each_nested(u, a) {
                if (mnl_attr_get_type(u) == OVS_USERSPACE_ATTR_PID) {
                    pid = mnl_attr_get_u32(u) != 0;
                } else if (mnl_attr_get_type(u)
                           == OVS_USERSPACE_ATTR_USERDATA) {
                    assert_int_equal(mnl_attr_get_payload_len(u),
                                     sizeof *ck);
                    if (!n_user) {
                        memcpy(ck, mnl_attr_get_payload(u), sizeof *ck);
                    }
                }
            }
            assert_true(pid);   /* the datapath refuses a zero pid */
            n_user++;
        }
    }
    return n_user;
}

static void
add_rule(uint16_t priority, uint32_t in_port, uint64_t cookie,
         uint32_t out_port, uint16_t max_len)
{
    struct rule_set *rs = rules_find("br0");
    struct rule *r = rule_create();

    assert_non_null(rs);
    assert_non_null(r);
    ofp_match_init_catchall(&r->match);
    if (in_port) {
        r->match.v.key.in_port = in_port;
        r->match.m.key.in_port = UINT32_MAX;
    }
    r->priority = priority;
    r->cookie = cookie;
    struct ofpact *a = ofpacts_put(&r->acts, OFPACT_OUTPUT);
    a->port = out_port;
    a->n = max_len;
    assert_int_equal(rules_add(rs, r, 0), 0);
}

static void
test_default_normal(void **state)
{
    struct flow_key k;
    struct xlate_pin_cookie ck;
    int n_out;

    (void) state;
    key_from(&k, 11);
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 0);
    assert_int_equal(n_out, 2);         /* flooded to p2 and p3 */
}

static void
test_table_miss_rule(void **state)
{
    struct flow_key k;
    struct xlate_pin_cookie ck;
    int n_out;

    (void) state;
    /* Replaces the default rule (same match and priority). */
    add_rule(0, 0, 0, OFPP_CONTROLLER, 65535);
    key_from(&k, 12);
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 1);
    assert_int_equal(n_out, 0);
    assert_int_equal(ck.kind, XLATE_COOKIE_CONTROLLER);
    assert_int_equal(ck.reason, OFPR_NO_MATCH);
    assert_int_equal(ck.table_id, 0);
    assert_int_equal(ck.max_len, 65535);
    assert_int_equal(ck.in_port, 2);
    assert_string_equal(ck.bridge, "br0");

    /* An explicit controller action is OFPR_ACTION with its cookie. */
    add_rule(10, 1, 0x55, OFPP_CONTROLLER, 128);
    key_from(&k, 11);
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 1);
    assert_int_equal(ck.reason, OFPR_ACTION);
    assert_int_equal(ck.cookie, 0x55);
    assert_int_equal(ck.max_len, 128);
    assert_int_equal(ck.in_port, 1);
}

static void
test_fail_open(void **state)
{
    struct flow_key k;
    struct xlate_pin_cookie ck;
    int n_out;

    (void) state;
    add_rule(0, 0, 0, OFPP_CONTROLLER, 65535);
    struct rule_set *rs = rules_find("br0");
    rs->fail_open = true;
    key_from(&k, 11);
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 0);
    assert_int_equal(n_out, 2);
    rs->fail_open = false;
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 1);
}

static void
test_of10_miss(void **state)
{
    struct rule_criteria all = {
        .table_id = RULES_TABLE_ALL, .out_port = OFPP_ANY,
    };
    struct flow_key k;
    struct xlate_pin_cookie ck;
    int n_out;

    (void) state;
    struct rule_set *rs = rules_find("br0");
    ofp_match_init_catchall(&all.match);
    assert_int_equal(rules_delete(rs, &all), 1);
    key_from(&k, 13);
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(xo.actions_len, 0);        /* 1.3: a miss drops */
    rs->miss_to_controller = true;
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 1);
    assert_int_equal(ck.reason, OFPR_NO_MATCH);
    assert_int_equal(ck.in_port, 3);
    assert_int_equal(ck.cookie, 0);
    rs->miss_to_controller = false;
}

static void
test_trace(void **state)
{
    struct trace_node *root = trace_add(NULL, TRACE_BRIDGE, "bridge");
    struct ofp_fields final;
    struct flow_key k;

    (void) state;
    add_rule(10, 1, 0x55, 3, 0);
    key_from(&k, 11);
    xlate_trace(&cfg, &k, 1, &xo, root, &final);
    assert_int_equal(root->n_subs, 1);
    assert_string_equal(root->subs[0]->text,
                        " 0. in_port=1, priority 10, cookie 0x55");
    assert_int_equal(root->subs[0]->n_subs, 1);
    assert_string_equal(root->subs[0]->subs[0]->text, "output:3");
    assert_int_equal(final.key.in_port, 1);     /* the OpenFlow port */
    trace_free(root);
}

/* The first output port of a translation, or 0. */
static uint32_t
first_output(const struct xlate_out *o)
{
    const struct nlattr *a;

    for (a = (const void *) o->actions;
         mnl_attr_ok(a, (int) ((const uint8_t *) o->actions + o->actions_len
                               - (const uint8_t *) a));
         a = mnl_attr_next(a)) {
        if (mnl_attr_get_type(a) == OVS_ACTION_ATTR_OUTPUT) {
            return mnl_attr_get_u32(a);
        }
    }
    return 0;
}

/* load and move: registers steer the pipeline; the megaflow holds the
 * packet field that was moved into a register, never the registers. */
static void
test_registers(void **state)
{
    struct rule_set *rs = rules_find("br0");
    struct rule *r = rule_create();
    struct flow_key k;

    (void) state;
    /* Table 0: reg0 = 7; reg1[0..7] = eth_src[0..7]; resubmit(,1). */
    ofp_match_init_catchall(&r->match);
    r->priority = 10;
    struct ofpact *a = ofpacts_put(&r->acts, OFPACT_REG_LOAD);
    a->field = MF_REG0;
    a->dst_hdr = mf_nxm_header(MF_REG0);
    a->n = 32;
    a->metadata = 7;
    a = ofpacts_put(&r->acts, OFPACT_REG_MOVE);
    a->src_field = MF_ETH_SRC;
    a->src_hdr = mf_nxm_header(MF_ETH_SRC);
    a->field = MF_REG0 + 1;
    a->dst_hdr = mf_nxm_header(MF_REG0 + 1);
    a->n = 8;
    a = ofpacts_put(&r->acts, OFPACT_RESUBMIT);
    a->port = OFPP_IN_PORT;
    a->table = 1;
    assert_int_equal(rules_add(rs, r, 0), 0);

    /* Table 1: reg0=7,reg1=1 -> output:3; anything else -> output:2. */
    r = rule_create();
    ofp_match_init_catchall(&r->match);
    r->table_id = 1;
    r->priority = 10;
    r->match.v.regs[0] = 7;
    r->match.m.regs[0] = UINT32_MAX;
    r->match.v.regs[1] = 1;
    r->match.m.regs[1] = UINT32_MAX;
    ofpacts_put(&r->acts, OFPACT_OUTPUT)->port = 3;
    assert_int_equal(rules_add(rs, r, 0), 0);
    r = rule_create();
    ofp_match_init_catchall(&r->match);
    r->table_id = 1;
    ofpacts_put(&r->acts, OFPACT_OUTPUT)->port = 2;
    assert_int_equal(rules_add(rs, r, 0), 0);

    key_from(&k, 11);                   /* eth_src ends in 01 */
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(first_output(&xo), 13);
    static const uint8_t ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t zeros[6] = { 0 };
    assert_memory_equal(xo.mask.eth_src, ones, 6);
    assert_memory_equal(xo.mask.eth_dst, zeros, 6);
    k.eth_src[5] = 2;
    xlate(&cfg, &k, false, 1, &xo);
    assert_int_equal(first_output(&xo), 12);

    /* A partial load into a packet field keeps the other bits from the
     * packet, so the field goes into the megaflow, and the datapath gets
     * a set action. */
    r = rule_create();
    ofp_match_init_catchall(&r->match);
    r->table_id = 1;
    r->priority = 20;
    a = ofpacts_put(&r->acts, OFPACT_REG_LOAD);
    a->field = MF_ETH_DST;
    a->dst_hdr = mf_nxm_header(MF_ETH_DST);
    a->n = 8;
    a->metadata = 0x42;
    ofpacts_put(&r->acts, OFPACT_OUTPUT)->port = 2;
    assert_int_equal(rules_add(rs, r, 0), 0);
    xlate(&cfg, &k, false, 1, &xo);
    assert_memory_equal(xo.mask.eth_dst, ones, 6);
    const struct nlattr *first = (const void *) xo.actions;
    assert_int_equal(mnl_attr_get_type(first), OVS_ACTION_ATTR_SET_MASKED);
    const struct ovs_key_ethernet *eth = mnl_attr_get_payload(
        mnl_attr_get_payload(first));
    assert_int_equal(eth->eth_dst[5], 0x42);
    assert_int_equal(eth->eth_dst[4], 0xff);    /* kept from the packet */
}

/* The switch's port config bits steer translation: NO_FLOOD keeps a port
 * out of FLOOD and NORMAL's flooding (not out of ALL), NO_FWD out of
 * every output, NO_RECV drops what the port receives, NO_PACKET_IN
 * silences 1.0 table misses from it. */
static void
test_port_config(void **state)
{
    (void) state;
    struct rule_set *rs = rules_find("br0");
    struct xlate_pin_cookie ck;
    struct flow_key k;
    int n_out;

    key_from(&k, 11);                   /* broadcast ARP from p1 */
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 0);
    assert_int_equal(n_out, 2);
    assert_true(rules_set_port_config(rs, 2, RULES_PC_NO_FLOOD));
    assert_int_equal(rules_port_config(rs, 2), RULES_PC_NO_FLOOD);
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 1);         /* NORMAL floods to p3 only */
    assert_true(rules_set_port_config(rs, 3, RULES_PC_NO_FWD));
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 0);         /* ... and not there either */
    assert_true(rules_set_port_config(rs, 3, 0));

    add_rule(10, 1, 0, OFPP_FLOOD, 0);
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 1);
    add_rule(20, 1, 0, OFPP_ALL, 0);
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 2);         /* ALL ignores NO_FLOOD */

    assert_true(rules_set_port_config(rs, 3, RULES_PC_NO_FWD));
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 1);         /* ... not NO_FWD */
    add_rule(30, 1, 0, 3, 0);
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 0);

    /* Clearing the bits puts things back; only RULES_PC_ALL bits are
     * kept. */
    assert_true(rules_set_port_config(rs, 3, 1));
    assert_int_equal(rules_port_config(rs, 3), 0);
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 1);

    assert_true(rules_set_port_config(rs, 1, RULES_PC_NO_RECV));
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(xo.actions_len, 0);
    assert_true(rules_set_port_config(rs, 1, 0));

    /* An OpenFlow 1.0 miss goes to the controller unless the input port
     * says no packet-ins. */
    struct rule_criteria all = {
        .table_id = RULES_TABLE_ALL, .out_port = OFPP_ANY,
    };
    ofp_match_init_catchall(&all.match);
    assert_int_equal(rules_delete(rs, &all), 4);
    rs->miss_to_controller = true;
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 1);
    assert_true(rules_set_port_config(rs, 1, RULES_PC_NO_PACKET_IN));
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(scan(&xo, &n_out, &ck), 0);
    rs->miss_to_controller = false;
}

/* Fragment handling "drop": IP fragments are dropped before the tables,
 * and the mask keeps the fragment type so whole packets are not. */
static void
test_frag_drop(void **state)
{
    (void) state;
    struct rule_set *rs = rules_find("br0");
    struct xlate_pin_cookie ck;
    struct flow_key k;
    int n_out;

    key_from(&k, 11);
    k.eth_type = htons(0x0800);
    k.ip_proto = 17;
    k.ip_frag = OVS_FRAG_TYPE_FIRST;
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 2);         /* "normal": the rules decide */
    rs->frag_mode = RULES_FRAG_DROP;
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(xo.actions_len, 0);
    assert_int_equal(xo.mask.ip_frag, 0xff);
    k.ip_frag = OVS_FRAG_TYPE_LATER;
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(xo.actions_len, 0);
    k.ip_frag = OVS_FRAG_TYPE_NONE;
    xlate(&cfg, &k, true, 1, &xo);
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 2);
    assert_int_equal(xo.mask.ip_frag, 0xff);
    /* Not IP: the fragment type is not consulted. */
    key_from(&k, 11);
    xlate(&cfg, &k, true, 1, &xo);
    assert_int_equal(xo.mask.ip_frag, 0);
    rs->frag_mode = RULES_FRAG_NORMAL;
}

/* The learn action queues a rule built from the packet (only when the
 * translation is for a real upcall); the main thread's apply adds it,
 * and applying the same rule again changes nothing. */
static void
test_learn(void **state)
{
    (void) state;
    static const uint8_t learn_wire[] = {
        0xff, 0xff, 0, 56, 0, 0, 0x23, 0x20, 0, 16, 0, 0, 0, 60, 0, 7,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
        0x00, 0x30, 0, 0, 0x04, 0x06, 0, 0, 0, 0, 0x02, 0x06, 0, 0,
        0x10, 0x10, 0, 0, 0, 2, 0, 0, 0, 0,
    };
    struct rule_set *rs = rules_find("br0");
    struct rule *r = rule_create();
    struct xlate_pin_cookie ck;
    struct flow_key k;
    int n_out;

    ofp_match_init_catchall(&r->match);
    r->priority = 100;
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, learn_wire,
                                            sizeof learn_wire, &r->acts),
                     0);
    assert_int_equal(rules_add(rs, r, 0), 0);

    key_from(&k, 11);                   /* from p1, eth_src ..:01 */
    xlate(&cfg, &k, false, 1, &xo);     /* no upcall: no learning */
    assert_false(rules_learned_pending());
    static const uint8_t ones[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(xo.mask.eth_src, ones, 6);
    xlate(&cfg, &k, true, 1, &xo);
    assert_true(rules_learned_pending());
    assert_true(rules_apply_learned(5000));
    assert_false(rules_learned_pending());
    assert_int_equal(rules_count(rs, 1), 1);

    /* The learnt rule sends what is addressed to ..:01 out of p1. */
    struct rule *lr = rules_lookup(rs, 1, &(struct ofp_fields) {
        .key = { .eth_dst = { 0, 0, 0, 0, 0, 1 } } }, NULL, false);
    assert_non_null(lr);
    assert_int_equal(lr->priority, 7);
    assert_int_equal(lr->hard_timeout, 60);
    assert_int_equal(lr->acts.n, 1);
    assert_int_equal(lr->acts.a[0].type, OFPACT_OUTPUT);
    assert_int_equal(lr->acts.a[0].port, 1);
    assert_memory_equal(lr->match.m.key.eth_dst, ones, 6);

    /* Learning the same again restarts the hard timeout only (the rule
     * keeps its age). */
    xlate(&cfg, &k, true, 1, &xo);
    assert_false(rules_apply_learned(9000));
    assert_int_equal(rules_count(rs, 1), 1);
    assert_int_equal(lr->modified_ms, 9000);
    assert_int_equal(lr->created_ms, 5000);
    /* Nothing forwards in table 0 (the learn rule has no output). */
    scan(&xo, &n_out, &ck);
    assert_int_equal(n_out, 0);
}

static void
add_cookie_rule(uint8_t table, uint16_t priority, uint64_t cookie)
{
    struct rule *r = rule_create();

    ofp_match_init_catchall(&r->match);
    r->table_id = table;
    r->priority = priority;
    r->cookie = cookie;
    assert_int_equal(rules_add(rules_find("br0"), r, 0), 0);
}

/* learn with fin timeouts gives the learned rule a fin_timeout action
 * that a TCP FIN, seen in the statistics the revalidator credits, turns
 * into shorter timeouts; a relearn does not lengthen them again;
 * delete_learned removes the learned table's rules of the learned cookie
 * with the last rule that learns them. */
static void
test_fin_timeout_and_delete_learned(void **state)
{
    (void) state;
    static const uint8_t learn_wire[] = {
        0xff, 0xff, 0, 56, 0, 0, 0x23, 0x20, 0, 16, 0, 0, 0, 60, 0, 7,
        0, 0, 0, 0, 0, 0, 0, 0x77, 0, 2, 1, 0, 0, 5, 0, 10,
        0x00, 0x30, 0, 0, 0x04, 0x06, 0, 0, 0, 0, 0x02, 0x06, 0, 0,
        0x10, 0x10, 0, 0, 0, 2, 0, 0, 0, 0,
    };
    struct rule_set *rs = rules_find("br0");
    struct rule *r = rule_create();
    struct flow_key k;

    ofp_match_init_catchall(&r->match);
    r->priority = 100;
    assert_int_equal(ofpacts_decode_actions(OFP10_VERSION, learn_wire,
                                            sizeof learn_wire, &r->acts),
                     0);
    struct ofpact *rs1 = ofpacts_put(&r->acts, OFPACT_RESUBMIT);
    rs1->port = OFPP_IN_PORT;
    rs1->table = 1;
    assert_int_equal(rules_add(rs, r, 0), 0);

    /* A TCP packet from p1 learns, without FIN. */
    key_from(&k, 11);
    k.eth_type = htons(0x0800);
    k.ip_proto = 6;
    xlate(&cfg, &k, true, 1, &xo);
    assert_true(rules_apply_learned(1000));
    struct rule *lr = rules_lookup(rs, 1, &(struct ofp_fields) {
        .key = { .eth_dst = { 0, 0, 0, 0, 0, 1 } } }, NULL, false);
    assert_non_null(lr);
    assert_int_equal(lr->cookie, 0x77);
    assert_int_equal(lr->acts.n, 2);
    assert_int_equal(lr->acts.a[0].type, OFPACT_FIN_TIMEOUT);
    assert_int_equal(lr->acts.a[0].n, 5);
    assert_int_equal(lr->acts.a[0].ofs, 10);

    /* The packet to ..:01 meets the learned rule; its datapath flow has
     * seen no FIN yet, then a FIN. */
    memcpy(k.eth_dst, (uint8_t[6]) { 0, 0, 0, 0, 0, 1 }, 6);
    xlate_credit(&cfg, &k, 1, 60, 1500, 0x10, &xo);
    rules_expire(rs, 1600);
    assert_int_equal(lr->idle_timeout, 0);
    assert_int_equal(lr->hard_timeout, 60);
    xlate_credit(&cfg, &k, 1, 60, 1700, 0x11, &xo);
    assert_int_equal(rules_expire(rs, 1800), 0);
    assert_int_equal(lr->idle_timeout, 5);
    assert_int_equal(lr->hard_timeout, 10);
    /* Relearning (credited packets learn too) keeps them short. */
    assert_false(rules_apply_learned(1900));
    assert_int_equal(lr->idle_timeout, 5);
    assert_int_equal(lr->modified_ms, 1900);
    /* Idle for 5 s: gone. */
    assert_int_equal(rules_expire(rs, 7000), 1);

    /* delete_learned: learn again; two rules of cookie 0x77 in table 1
     * (one added by hand) and one of another cookie. */
    key_from(&k, 11);
    xlate(&cfg, &k, true, 8, &xo);
    assert_true(rules_apply_learned(8000));
    add_cookie_rule(1, 3, 0x77);
    add_cookie_rule(1, 4, 0x78);
    add_cookie_rule(2, 4, 0x77);
    assert_int_equal(rules_count(rs, 1), 3);
    /* A modify that keeps the learn action deletes nothing. */
    struct rule_criteria c = {
        .table_id = 0, .priority = 100, .strict = true,
        .out_port = OFPP_ANY,
    };
    ofp_match_init_catchall(&c.match);
    struct ofpacts same;
    ofpacts_copy(&same, &r->acts);
    assert_int_equal(rules_modify(rs, &c, &same, false, 0), 1);
    ofpacts_uninit(&same);
    assert_int_equal(rules_count(rs, 1), 3);
    /* Deleting the learning rule takes table 1's 0x77 rules only. */
    assert_int_equal(rules_delete(rs, &c), 3);
    assert_int_equal(rules_count(rs, 1), 1);
    assert_int_equal(rules_count(rs, 2), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_normal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_table_miss_rule, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fail_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_of10_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frag_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fin_timeout_and_delete_learned,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
