/* Unit tests for layer-3 packets (packet_type ns=1) across lib/flow.c,
 * lib/flow-netlink.c and the push_eth / pop_eth / recirc paths of
 * datapath/actions.c: "pop_eth, pop_mpls, recirc" then "push_eth, output",
 * as Open vSwitch's decap/encap(ethernet) translate to; and NSH, which
 * travels as such a packet between push_nsh / pop_nsh and the Ethernet
 * header around it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/openvswitch.h>

#include "actions.h"
#include "flow-netlink.h"
#include "flow.h"
#include "packet.h"

static const uint8_t MAC_A[6] = { 0x36, 0xb1, 0xee, 0x7c, 0x01, 0x03 };
static const uint8_t MAC_B[6] = { 0x36, 0xb1, 0xee, 0x7c, 0x01, 0x02 };

/* eth(MAC_B -> MAC_A), MPLS label 2 (bottom), IPv4 ICMP echo. */
static const uint8_t MPLS_FRAME[] = {
    0x36, 0xb1, 0xee, 0x7c, 0x01, 0x03, 0x36, 0xb1, 0xee, 0x7c, 0x01, 0x02,
    0x88, 0x47,
    0x00, 0x00, 0x21, 0x40,
    0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 1, 1, 1, 10, 1, 1, 2,
    8, 0, 0, 0, 0, 0, 0, 0,
};
#define IP_OFS 18

struct rec {
    struct dp_packet *out[4];
    int n_out;
    struct dp_packet *recirc[4];
    int n_recirc;
    struct flow_key up_key;
    int n_up;
};

static void
rec_output(void *aux, uint32_t port, struct dp_packet *p)
{
    struct rec *r = aux;

    (void) port;
    assert_true(r->n_out < 4);
    r->out[r->n_out++] = p;
}

static void
rec_userspace(void *aux, const struct dp_packet *p,
              const struct flow_key *key, const struct nlattr *attr)
{
    struct rec *r = aux;

    (void) p, (void) attr;
    r->up_key = *key;
    r->n_up++;
}

static void
rec_recirc(void *aux, struct dp_packet *p)
{
    struct rec *r = aux;

    assert_true(r->n_recirc < 4);
    r->recirc[r->n_recirc++] = p;
}

static const struct act_ops ops = { rec_output, rec_userspace, rec_recirc,
                                    NULL };

static void
rec_free(struct rec *r)
{
    for (int i = 0; i < r->n_out; i++) {
        dp_packet_free(r->out[i]);
    }
    for (int i = 0; i < r->n_recirc; i++) {
        dp_packet_free(r->recirc[i]);
    }
}

/* An action list under construction. */
struct acts {
    union {
        uint8_t buf[1024];
        struct nlmsghdr align;
    };
    struct nlmsghdr *nlh;
    struct nlattr *nest;
};

static void
acts_init(struct acts *a)
{
    memset(a->buf, 0, sizeof a->buf);
    a->nlh = mnl_nlmsg_put_header(a->buf);
    a->nest = mnl_attr_nest_start(a->nlh, OVS_FLOW_ATTR_ACTIONS);
}

static int
acts_validate(struct acts *a, const struct flow_match *m,
              struct dp_actions **out)
{
    mnl_attr_nest_end(a->nlh, a->nest);
    return act_validate(a->nest, m, out, NULL);
}

static void
put_push_eth(struct nlmsghdr *nlh)
{
    struct ovs_action_push_eth e;

    memcpy(e.addresses.eth_src, MAC_B, 6);
    memcpy(e.addresses.eth_dst, MAC_A, 6);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_PUSH_ETH, sizeof e, &e);
}

/* The match of an exact flow for 'p' (as a packet execute builds). */
static void
exact_match(struct dp_packet *p, struct flow_match *m)
{
    flow_extract(p, &m->key);
    memset(&m->mask, 0xff, sizeof m->mask);
}

static void
test_decap_then_recirc(void **state)
{
    struct rec r = { .n_out = 0 };
    struct dp_packet *p;
    struct flow_match m;
    struct dp_actions *acts;
    struct acts a;

    (void) state;
    p = dp_packet_copy_from(MPLS_FRAME, sizeof MPLS_FRAME, 64);
    assert_non_null(p);
    exact_match(p, &m);
    assert_int_equal(m.key.no_eth, 0);

    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    mnl_attr_put_u16(a.nlh, OVS_ACTION_ATTR_POP_MPLS, htons(0x0800));
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_RECIRC, 5);
    assert_int_equal(acts_validate(&a, &m, &acts), 0);
    act_execute(&ops, &r, p, &m.key, acts->attrs, acts->len);
    free(acts);

    /* The recirculated packet is the bare IPv4 packet, marked layer 3. */
    assert_int_equal(r.n_recirc, 1);
    struct dp_packet *q = r.recirc[0];
    assert_int_equal(q->md.recirc_id, 5);
    assert_int_equal(q->md.l3_type, htons(0x0800));
    assert_int_equal(q->len, sizeof MPLS_FRAME - IP_OFS);
    assert_memory_equal(dp_packet_data(q), MPLS_FRAME + IP_OFS, q->len);

    struct flow_key k;
    flow_extract(q, &k);
    assert_int_equal(k.no_eth, 1);
    assert_int_equal(k.eth_type, htons(0x0800));
    assert_int_equal(k.ipv4_dst, htonl(0x0a010102));
    assert_int_equal(k.recirc_id, 5);
    rec_free(&r);
}

/* decap(), decap(packet_type(ns=0,type=0)): under the label is a whole
 * Ethernet frame, and that is what recirculates. */
static void
test_decap_mpls_to_ethernet(void **state)
{
    static const uint8_t frame[] = {
        0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x88, 0x47,
        0x00, 0x00, 0x21, 0x40,
        0x36, 0xb1, 0xee, 0x7c, 0x01, 0x03, 0x36, 0xb1, 0xee, 0x7c, 0x01, 0x02,
        0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1,
        0x36, 0xb1, 0xee, 0x7c, 0x01, 0x02, 10, 1, 1, 2,
        0, 0, 0, 0, 0, 0, 10, 1, 1, 1,
    };
    struct rec r = { .n_out = 0 };
    struct dp_packet *p;
    struct flow_match m;
    struct dp_actions *acts;
    struct acts a;

    (void) state;
    p = dp_packet_copy_from(frame, sizeof frame, 64);
    assert_non_null(p);
    exact_match(p, &m);
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    mnl_attr_put_u16(a.nlh, OVS_ACTION_ATTR_POP_MPLS, htons(0x6558));
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_RECIRC, 3);
    assert_int_equal(acts_validate(&a, &m, &acts), 0);
    act_execute(&ops, &r, p, &m.key, acts->attrs, acts->len);
    free(acts);

    assert_int_equal(r.n_recirc, 1);
    struct dp_packet *q = r.recirc[0];
    assert_int_equal(q->md.l3_type, 0);
    assert_int_equal(q->len, sizeof frame - 18);
    struct flow_key k;
    flow_extract(q, &k);
    assert_int_equal(k.no_eth, 0);
    assert_int_equal(k.eth_type, htons(0x0806));
    assert_memory_equal(k.eth_src, MAC_B, 6);
    rec_free(&r);
}

static void
test_encap_layer3(void **state)
{
    static const uint8_t ip[] = {
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 1, 1, 1, 10, 1, 1, 2,
        8, 0, 0, 0, 0, 0, 0, 0,
    };
    struct rec r = { .n_out = 0 };
    struct dp_packet *p;
    struct flow_match m;
    struct dp_actions *acts;
    struct acts a;

    (void) state;
    p = dp_packet_copy_from(ip, sizeof ip, 64);
    assert_non_null(p);
    p->md.l3_type = htons(0x0800);
    exact_match(p, &m);
    assert_int_equal(m.key.no_eth, 1);

    /* Without Ethernet there is nothing to pop, tag or set. */
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    assert_int_equal(acts_validate(&a, &m, &acts), -EINVAL);
    acts_init(&a);
    struct ovs_action_push_vlan v = { htons(0x8100), htons(0x1005) };
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
    assert_int_equal(acts_validate(&a, &m, &acts), -EINVAL);

    /* push_eth makes it a frame of the packet's type; a userspace action
     * after it sees an Ethernet key. */
    acts_init(&a);
    put_push_eth(a.nlh);
    struct nlattr *u = mnl_attr_nest_start(a.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put_u32(a.nlh, OVS_USERSPACE_ATTR_PID, 1);
    mnl_attr_nest_end(a.nlh, u);
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    assert_int_equal(acts_validate(&a, &m, &acts), 0);
    act_execute(&ops, &r, p, &m.key, acts->attrs, acts->len);
    free(acts);

    assert_int_equal(r.n_out, 1);
    const uint8_t *d = dp_packet_data(r.out[0]);
    assert_int_equal(r.out[0]->len, sizeof ip + 14);
    assert_memory_equal(d, MAC_A, 6);
    assert_memory_equal(d + 6, MAC_B, 6);
    assert_int_equal(d[12], 0x08);
    assert_int_equal(d[13], 0x00);
    assert_memory_equal(d + 14, ip, sizeof ip);
    assert_int_equal(r.n_up, 1);
    assert_int_equal(r.up_key.no_eth, 0);
    assert_memory_equal(r.up_key.eth_src, MAC_B, 6);
    assert_int_equal(r.up_key.ipv4_src, htonl(0x0a010101));
    rec_free(&r);
}

static void
test_userspace_key_of_layer3(void **state)
{
    struct rec r = { .n_out = 0 };
    struct dp_packet *p;
    struct flow_match m;
    struct dp_actions *acts;
    struct acts a;

    (void) state;
    p = dp_packet_copy_from(MPLS_FRAME, sizeof MPLS_FRAME, 64);
    assert_non_null(p);
    exact_match(p, &m);

    /* pop_eth, then an upcall: its key is the layer-3 one. */
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    struct nlattr *u = mnl_attr_nest_start(a.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put_u32(a.nlh, OVS_USERSPACE_ATTR_PID, 1);
    mnl_attr_nest_end(a.nlh, u);
    assert_int_equal(acts_validate(&a, &m, &acts), 0);
    act_execute(&ops, &r, p, &m.key, acts->attrs, acts->len);
    free(acts);
    assert_int_equal(r.n_up, 1);
    assert_int_equal(r.up_key.no_eth, 1);
    assert_int_equal(r.up_key.eth_type, htons(0x8847));
    assert_int_equal(r.up_key.mpls_labels, 1);
    rec_free(&r);
}

/* push_nsh(nsh(base, md1 or md2)) as ovs-vswitchd sends it: the action
 * holds one OVS_KEY_ATTR_NSH. */
static void
put_push_nsh(struct nlmsghdr *nlh, uint8_t mdtype, const void *md2,
             size_t md2_len)
{
    struct ovs_nsh_key_base b = {
        .ttl = 63, .mdtype = mdtype, .np = 3, .path_hdr = htonl(0x1234ff),
    };
    struct ovs_nsh_key_md1 md1 = { { htonl(0x11223344), 0, 0, 0 } };
    struct nlattr *push = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_PUSH_NSH);
    struct nlattr *k = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_NSH);

    mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_BASE, sizeof b, &b);
    if (md2) {
        mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_MD2, md2_len, md2);
    } else {
        mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_MD1, sizeof md1, &md1);
    }
    mnl_attr_nest_end(nlh, k);
    mnl_attr_nest_end(nlh, push);
}

/* Runs 'a' on a copy of 'frame' (an Ethernet frame) and returns the one
 * packet output. */
static struct dp_packet *
run_one(struct acts *a, const uint8_t *frame, size_t len)
{
    struct rec r = { .n_out = 0 };
    struct dp_packet *p = dp_packet_copy_from(frame, len, 64);
    struct flow_match m;
    struct dp_actions *acts;

    assert_non_null(p);
    exact_match(p, &m);
    assert_int_equal(acts_validate(a, &m, &acts), 0);
    act_execute(&ops, &r, p, &m.key, acts->attrs, acts->len);
    free(acts);
    assert_int_equal(r.n_out, 1);
    assert_int_equal(r.n_recirc, 0);
    return r.out[0];
}

/* eth / ipv4 / icmp: the inner frame of the NSH tests. */
static const uint8_t INNER[] = {
    0xf2, 0, 0, 0, 0, 2, 0xf2, 0, 0, 0, 0, 1, 0x08, 0x00,
    0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 1, 1, 1, 10, 1, 1, 2,
    8, 0, 0, 0, 0, 0, 0, 0,
};

static void
test_nsh_encap_decap(void **state)
{
    /* What the kernel puts on the wire for encap(nsh(md_type=1)),
     * set_field:0x1234->nsh_spi,set_field:0x11223344->nsh_c1,
     * encap(ethernet): ver 0, ttl 63, length 6 words, MD type 1, next
     * protocol Ethernet. */
    static const uint8_t hdr[] = {
        0x36, 0xb1, 0xee, 0x7c, 0x01, 0x03, 0x36, 0xb1, 0xee, 0x7c, 0x01, 0x02,
        0x89, 0x4f, 0x0f, 0xc6, 0x01, 0x03, 0x00, 0x12, 0x34, 0xff,
        0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    struct acts a;

    (void) state;
    acts_init(&a);
    put_push_nsh(a.nlh, 1, NULL, 0);
    put_push_eth(a.nlh);
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    struct dp_packet *o = run_one(&a, INNER, sizeof INNER);
    assert_int_equal(o->len, sizeof hdr + sizeof INNER);
    assert_memory_equal(dp_packet_data(o), hdr, sizeof hdr);
    assert_memory_equal(dp_packet_data(o) + sizeof hdr, INNER,
                        sizeof INNER);

    /* Its key. */
    struct flow_key k;
    flow_extract(o, &k);
    assert_int_equal(k.eth_type, htons(0x894f));
    assert_int_equal(k.nsh.ttl, 63);
    assert_int_equal(k.nsh.mdtype, 1);
    assert_int_equal(k.nsh.np, 3);
    assert_int_equal(k.nsh.path_hdr, htonl(0x1234ff));
    assert_int_equal(k.nsh.context[0], htonl(0x11223344));

    /* decap(), decap(): pop_eth, pop_nsh give the inner frame back. */
    uint8_t outer[sizeof hdr + sizeof INNER];
    memcpy(outer, dp_packet_data(o), sizeof outer);
    dp_packet_free(o);
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_NSH, 0, NULL);
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    o = run_one(&a, outer, sizeof outer);
    assert_int_equal(o->len, sizeof INNER);
    assert_memory_equal(dp_packet_data(o), INNER, sizeof INNER);
    assert_int_equal(o->md.l3_type, 0);
    dp_packet_free(o);
}

static void
test_nsh_md2_and_layer3_payload(void **state)
{
    static const uint8_t md2[8] = { 0, 1, 0x12, 1, 0xa, 0xb, 0xc, 0xd };
    struct acts a;

    (void) state;
    /* pop_eth, then push_nsh with MD type 2 around the IPv4 packet: next
     * protocol 1, length (8 + 8) / 4. */
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    put_push_nsh(a.nlh, 2, md2, sizeof md2);
    put_push_eth(a.nlh);
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    struct dp_packet *o = run_one(&a, INNER, sizeof INNER);
    const uint8_t *d = dp_packet_data(o);
    assert_int_equal(o->len, 14 + 16 + sizeof INNER - 14);
    assert_int_equal(d[12], 0x89);
    assert_int_equal(d[13], 0x4f);
    assert_int_equal(d[14], 0x0f);          /* ttl 63 */
    assert_int_equal(d[15], 0xc4);          /* 4 words */
    assert_int_equal(d[16], 2);
    assert_int_equal(d[17], 1);             /* IPv4 */
    assert_memory_equal(d + 22, md2, sizeof md2);
    assert_memory_equal(d + 30, INNER + 14, sizeof INNER - 14);

    struct flow_key k;
    flow_extract(o, &k);
    assert_int_equal(k.nsh.mdtype, 2);
    assert_int_equal(k.nsh.np, 1);
    assert_int_equal(k.nsh.context[0], 0);  /* MD2 is not in the key */

    /* pop_nsh leaves a layer-3 IPv4 packet. */
    uint8_t outer[64];
    assert_true(o->len <= sizeof outer);
    size_t n = o->len;
    memcpy(outer, d, n);
    dp_packet_free(o);
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_NSH, 0, NULL);
    mnl_attr_put_u32(a.nlh, OVS_ACTION_ATTR_RECIRC, 1);
    struct rec r = { .n_out = 0 };
    struct dp_packet *p = dp_packet_copy_from(outer, n, 64);
    struct flow_match m;
    struct dp_actions *acts;
    exact_match(p, &m);
    assert_int_equal(acts_validate(&a, &m, &acts), 0);
    act_execute(&ops, &r, p, &m.key, acts->attrs, acts->len);
    free(acts);
    assert_int_equal(r.n_recirc, 1);
    assert_int_equal(r.recirc[0]->md.l3_type, htons(0x0800));
    assert_int_equal(r.recirc[0]->len, sizeof INNER - 14);
    rec_free(&r);
}

static void
test_nsh_refusals(void **state)
{
    struct dp_packet *p = dp_packet_copy_from(INNER, sizeof INNER, 64);
    struct flow_match m;
    struct dp_actions *acts;
    struct acts a;

    (void) state;
    assert_non_null(p);
    exact_match(p, &m);
    dp_packet_free(p);

    /* pop_nsh on a flow that is not NSH. */
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_NSH, 0, NULL);
    assert_int_equal(acts_validate(&a, &m, &acts), -EINVAL);

    /* push_nsh without its nsh() key, or with metadata of the wrong
     * type. */
    acts_init(&a);
    struct nlattr *push = mnl_attr_nest_start(a.nlh,
                                              OVS_ACTION_ATTR_PUSH_NSH);
    struct ovs_nsh_key_base b = { .mdtype = 1 };
    mnl_attr_put(a.nlh, OVS_NSH_KEY_ATTR_BASE, sizeof b, &b);
    mnl_attr_nest_end(a.nlh, push);
    assert_int_equal(acts_validate(&a, &m, &acts), -EINVAL);
    acts_init(&a);
    put_push_nsh(a.nlh, 2, NULL, 0);        /* MD1 under type 2 */
    assert_int_equal(acts_validate(&a, &m, &acts), -EINVAL);

    /* An NSH flow whose next protocol is unknown cannot pop it. */
    static const uint8_t bad_np[] = {
        0xf2, 0, 0, 0, 0, 2, 0xf2, 0, 0, 0, 0, 1, 0x89, 0x4f,
        0x0f, 0xc6, 0x01, 0x09, 0, 0, 1, 0xff,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    p = dp_packet_copy_from(bad_np, sizeof bad_np, 64);
    exact_match(p, &m);
    dp_packet_free(p);
    assert_int_equal(m.key.nsh.np, 9);
    acts_init(&a);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_ETH, 0, NULL);
    mnl_attr_put(a.nlh, OVS_ACTION_ATTR_POP_NSH, 0, NULL);
    assert_int_equal(acts_validate(&a, &m, &acts), -EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decap_then_recirc),
        cmocka_unit_test(test_decap_mpls_to_ethernet),
        cmocka_unit_test(test_encap_layer3),
        cmocka_unit_test(test_userspace_key_of_layer3),
        cmocka_unit_test(test_nsh_encap_decap),
        cmocka_unit_test(test_nsh_md2_and_layer3_payload),
        cmocka_unit_test(test_nsh_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
