/* Tests of datapath/actions.c: validation (accepted forms and the errno of
 * each refusal) and execution (each action's effect on the packet bytes,
 * the key and the checksums, which are verified with an independent
 * byte-wise routine after every set). */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref-bytes.h"

#include "actions.h"
#include "flow.h"
#include "offload.h"
#include "packet.h"

#define ACT_DROP 24

/* ---- reference checksums and packets ------------------------------- */

static uint32_t
ref_pseudo(const uint8_t *ip, uint8_t proto, uint32_t len)
{
    uint8_t ph[40] = { 0 };

    if ((ip[0] >> 4) == 4) {
        memcpy(ph, ip + 12, 8);
        ph[9] = proto;
        put_be16(ph + 10, (uint16_t) len);
        return ref_sum(ph, 12, 0);
    }
    memcpy(ph, ip + 8, 32);
    put_be32(ph + 32, len);
    ph[39] = proto;
    return ref_sum(ph, 40, 0);
}

/* CRC32c, bit by bit, from the polynomial's definition. */
static uint32_t
ref_crc32c(const uint8_t *d, size_t n)
{
    uint32_t crc = 0xffffffff;

    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 8; b++) {
            uint32_t bit = ((d[i] >> b) ^ crc) & 1;

            crc >>= 1;
            if (bit) {
                crc ^= 0x82f63b78;
            }
        }
    }
    return ~crc;
}

struct pkt_opts {
    int v6;
    int vlan;
    uint8_t proto;
    size_t payload;
};

static size_t L3, L4;

static struct dp_packet *
build(const struct pkt_opts *o)
{
    size_t l3 = 14 + (o->vlan ? 4 : 0);
    size_t l4 = l3 + (o->v6 ? 40 : 20);
    size_t thl = o->proto == IPPROTO_TCP ? 20
                 : o->proto == IPPROTO_SCTP ? 12 : 8;
    size_t len = l4 + thl + o->payload;
    uint8_t *d = calloc(1, len), *ip = d + l3, *th = d + l4;
    struct dp_packet *p;

    assert_non_null(d);
    memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    if (o->vlan) {
        put_be16(d + 12, 0x8100);
        put_be16(d + 14, 0x2064);       /* PCP 1, VID 100 */
    }
    put_be16(d + l3 - 2, o->v6 ? 0x86dd : 0x0800);
    if (o->v6) {
        put_be32(ip, 0x60012345);       /* flow label 0x12345 */
        put_be16(ip + 4, (uint16_t) (len - l4));
        ip[6] = o->proto;
        ip[7] = 64;
        for (int i = 0; i < 16; i++) {
            ip[8 + i] = (uint8_t) (0x20 + i);
            ip[24 + i] = (uint8_t) (0x40 + i);
        }
    } else {
        ip[0] = 0x45;
        put_be16(ip + 2, (uint16_t) (len - l3));
        put_be16(ip + 4, 0x1234);
        ip[8] = 64;
        ip[9] = o->proto;
        memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
        put_be16(ip + 10, (uint16_t) ~ref_sum(ip, 20, 0));
    }
    for (size_t i = 0; i < o->payload; i++) {
        th[thl + i] = (uint8_t) (i * 13 + 1);
    }
    put_be16(th, 1000);
    put_be16(th + 2, 80);
    if (o->proto == IPPROTO_TCP) {
        th[12] = 5 << 4;
        th[13] = 0x18;
        put_be16(th + 16, (uint16_t) ~ref_sum(th, thl + o->payload,
                                               ref_pseudo(ip, 6,
                                                          thl + o->payload)));
    } else if (o->proto == IPPROTO_UDP) {
        put_be16(th + 4, (uint16_t) (thl + o->payload));
        put_be16(th + 6, (uint16_t) ~ref_sum(th, thl + o->payload,
                                             ref_pseudo(ip, 17,
                                                        thl + o->payload)));
    } else if (o->proto == IPPROTO_SCTP) {
        uint32_t crc = ref_crc32c(th, thl + o->payload);

        th[8] = crc & 0xff;
        th[9] = (crc >> 8) & 0xff;
        th[10] = (crc >> 16) & 0xff;
        th[11] = crc >> 24;
    }
    p = dp_packet_copy_from(d, len, DP_PACKET_HEADROOM);
    free(d);
    assert_non_null(p);
    L3 = l3;
    L4 = l4;
    return p;
}

/* Do the IP header checksum and the L4 checksum of 'd' verify? */
static void
assert_csums_ok(const uint8_t *d, size_t len, size_t l3, size_t l4)
{
    const uint8_t *ip = d + l3;
    uint8_t proto;
    size_t l4len;

    if ((ip[0] >> 4) == 4) {
        assert_int_equal(ref_sum(ip, 20, 0), 0xffff);
        proto = ip[9];
        l4len = be16(ip + 2) - 20;
    } else {
        proto = ip[6];
        l4len = be16(ip + 4);
    }
    assert_int_equal(l4 + l4len, len);
    if (proto == IPPROTO_SCTP) {
        uint8_t *copy = malloc(l4len);
        uint32_t crc;

        memcpy(copy, d + l4, l4len);
        memset(copy + 8, 0, 4);
        crc = ref_crc32c(copy, l4len);
        free(copy);
        assert_int_equal(d[l4 + 8] | d[l4 + 9] << 8 | d[l4 + 10] << 16
                         | (uint32_t) d[l4 + 11] << 24, crc);
        return;
    }
    assert_int_equal(ref_sum(d + l4, l4len, ref_pseudo(ip, proto,
                                                      (uint32_t) l4len)),
                     0xffff);
}

/* ---- action lists and a recording datapath ------------------------- */

struct ab {
    char buf[8192];
    struct nlmsghdr *nlh;
    struct nlattr *nest;
};

static void
ab_init(struct ab *b)
{
    b->nlh = mnl_nlmsg_put_header(b->buf);
    b->nest = mnl_attr_nest_start(b->nlh, OVS_FLOW_ATTR_ACTIONS);
}

static const struct nlattr *
ab_end(struct ab *b)
{
    mnl_attr_nest_end(b->nlh, b->nest);
    return b->nest;
}

static void
put_set(struct ab *b, uint16_t act, uint16_t key, const void *v,
        const void *m, size_t n)
{
    struct nlattr *s = mnl_attr_nest_start(b->nlh, act);
    uint8_t buf[128];

    memcpy(buf, v, n);
    if (m) {
        memcpy(buf + n, m, n);
    }
    mnl_attr_put(b->nlh, key, m ? 2 * n : n, buf);
    mnl_attr_nest_end(b->nlh, s);
}

struct rec {
    int n_out;
    uint32_t ports[16];
    struct dp_packet *pkts[16];
    uint32_t cutlens[16];
    int n_up;
    struct flow_key up_key;
    uint8_t up_pkt[2048];
    size_t up_len;
    int n_recirc;
    struct dp_packet *recirc[4];
};

static void
rec_output(void *aux, uint32_t port, struct dp_packet *p)
{
    struct rec *r = aux;

    assert_true(r->n_out < 16);
    r->ports[r->n_out] = port;
    r->cutlens[r->n_out] = p->cutlen;
    r->pkts[r->n_out++] = p;
}

static void
rec_userspace(void *aux, const struct dp_packet *p, const struct flow_key *k,
              const struct nlattr *attr)
{
    struct rec *r = aux;

    assert_int_equal(mnl_attr_get_type(attr), OVS_ACTION_ATTR_USERSPACE);
    r->n_up++;
    r->up_key = *k;
    r->up_len = p->len;
    memcpy(r->up_pkt, dp_packet_data(p), p->len);
}

static void
rec_recirc(void *aux, struct dp_packet *p)
{
    struct rec *r = aux;

    assert_true(r->n_recirc < 4);
    r->recirc[r->n_recirc++] = p;
}

static const struct act_ops ops = { rec_output, rec_userspace, rec_recirc };

static void
rec_free(struct rec *r)
{
    for (int i = 0; i < r->n_out; i++) {
        dp_packet_free(r->pkts[i]);
    }
    for (int i = 0; i < r->n_recirc; i++) {
        dp_packet_free(r->recirc[i]);
    }
    memset(r, 0, sizeof *r);
}

/* The flow of 'p' matched exactly. */
static void
match_exact(struct dp_packet *p, struct flow_match *m)
{
    flow_extract(p, &m->key);
    memset(&m->mask, 0xff, sizeof m->mask);
}

static int
validate(struct ab *b, const struct flow_match *m)
{
    struct dp_actions *acts = NULL;
    const char *reason = NULL;
    int err = act_validate(ab_end(b), m, &acts, &reason);

    if (err) {
        assert_null(acts);
        assert_non_null(reason);
    } else {
        assert_non_null(acts);
        free(acts);
    }
    return err;
}

/* Validates 'b' against 'p''s exact match and runs it on 'p' with key
 * 'key' (extracted here). */
static void
run(struct ab *b, struct dp_packet *p, struct flow_key *key, struct rec *r)
{
    struct dp_actions *acts = NULL;
    const char *reason = NULL;
    struct flow_match m;

    match_exact(p, &m);
    assert_int_equal(act_validate(ab_end(b), &m, &acts, &reason), 0);
    assert_int_equal(acts->len, mnl_attr_get_payload_len(b->nest));
    assert_memory_equal(acts->attrs, mnl_attr_get_payload(b->nest),
                        acts->len);
    flow_extract(p, key);
    act_execute(&ops, r, p, key, acts->attrs, acts->len);
    free(acts);
}

/* ---- validation ----------------------------------------------------- */

static struct flow_match M4, M6, MUDP;

static int
setup_matches(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 10 };
    struct dp_packet *p = build(&o);

    (void) state;
    match_exact(p, &M4);
    dp_packet_free(p);
    o.v6 = 1;
    p = build(&o);
    match_exact(p, &M6);
    dp_packet_free(p);
    o.v6 = 0;
    o.proto = IPPROTO_UDP;
    p = build(&o);
    match_exact(p, &MUDP);
    dp_packet_free(p);
    return 0;
}

static void
test_validate_basic(void **state)
{
    struct ab b;
    struct ovs_action_hash h = { OVS_HASH_ALG_L4, 7 };
    struct ovs_action_trunc t = { 100 };
    struct ovs_action_push_vlan v = { htons(0x88a8), htons(0x1005) };

    (void) state;
    ab_init(&b);                /* empty: drop */
    assert_int_equal(validate(&b, &M4), 0);

    ab_init(&b);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 65535);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_HASH, sizeof h, &h);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_TRUNC, sizeof t, &t);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_POP_VLAN, 0, NULL);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_RECIRC, 5);
    h.hash_alg = 1;             /* symmetric L4 */
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_HASH, sizeof h, &h);
    mnl_attr_put_u32(b.nlh, ACT_DROP, 0);
    assert_int_equal(validate(&b, &M4), 0);
}

static void
expect(struct ab *b, const struct flow_match *m, int err)
{
    assert_int_equal(validate(b, m), err);
}

static void
test_validate_errors(void **state)
{
    struct ab b;
    struct ovs_action_hash h = { 2, 0 };
    struct ovs_action_trunc t = { 13 };
    struct ovs_action_push_vlan v = { htons(0x0800), htons(0x1005) };
    uint16_t u16 = 1;

    (void) state;
    ab_init(&b);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 65536);
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    mnl_attr_put_u16(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);    /* short */
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    mnl_attr_put_u32(b.nlh, 30, 1);                         /* unknown */
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_UNSPEC, 0, NULL);
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_HASH, sizeof h, &h);
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_TRUNC, sizeof t, &t);
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
    expect(&b, &M4, -EINVAL);               /* TPID */
    v.vlan_tpid = htons(0x8100);
    v.vlan_tci = htons(0x0005);
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
    expect(&b, &M4, -EINVAL);               /* no CFI */

    ab_init(&b);
    mnl_attr_put_u32(b.nlh, ACT_DROP, 0);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    expect(&b, &M4, -EINVAL);               /* drop not last */

    ab_init(&b);
    mnl_attr_put_u16(b.nlh, OVS_ACTION_ATTR_POP_MPLS, htons(0x0800));
    expect(&b, &M4, -EINVAL);               /* not MPLS */

    /* ct_clear is accepted without conntrack, as by the kernel. */
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_CT_CLEAR, 0, NULL);
    expect(&b, &M4, 0);

    /* meter takes a u32 id; the meter need not exist. */
    ab_init(&b);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_METER, 1);
    expect(&b, &M4, 0);
    ab_init(&b);
    mnl_attr_put_u16(b.nlh, OVS_ACTION_ATTR_METER, 1);
    expect(&b, &M4, -EINVAL);

    /* Features hvs lacks. */
    ab_init(&b);
    struct nlattr *ct = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_CT);
    mnl_attr_nest_end(b.nlh, ct);
    expect(&b, &M4, -EOPNOTSUPP);

    /* Userspace: pid required and non-zero; u32 attrs at least 4 bytes. */
    ab_init(&b);
    struct nlattr *u = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put(b.nlh, OVS_USERSPACE_ATTR_USERDATA, 3, "abc");
    mnl_attr_nest_end(b.nlh, u);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    u = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put_u32(b.nlh, OVS_USERSPACE_ATTR_PID, 0);
    mnl_attr_nest_end(b.nlh, u);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    u = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put(b.nlh, OVS_USERSPACE_ATTR_PID, 2, &u16);
    mnl_attr_nest_end(b.nlh, u);
    expect(&b, &M4, -ERANGE);
    ab_init(&b);
    u = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put_u32(b.nlh, OVS_USERSPACE_ATTR_PID, 42);
    mnl_attr_put(b.nlh, OVS_USERSPACE_ATTR_USERDATA, 3, "abc");
    mnl_attr_put(b.nlh, OVS_USERSPACE_ATTR_ACTIONS, 0, NULL);
    mnl_attr_nest_end(b.nlh, u);
    expect(&b, &M4, 0);

    /* Trailing bytes that are not an attribute. */
    ab_init(&b);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    b.nest->nla_len += 2;
    b.nlh->nlmsg_len += 4;
    assert_int_equal(act_validate(b.nest, &M4, &(struct dp_actions *){0},
                                  &(const char *){0}), -EINVAL);
}

static void
test_validate_set(void **state)
{
    struct ab b;
    struct ovs_key_ipv4 k4 = { .ipv4_src = htonl(0x0a000063),
                               .ipv4_dst = htonl(0x0a000002),
                               .ipv4_proto = IPPROTO_TCP, .ipv4_ttl = 9 };
    struct ovs_key_ipv4 m4 = { .ipv4_src = 0xffffffff };
    struct ovs_key_tcp tp = { htons(1), htons(2) };
    uint32_t port = 3;
    uint16_t et = htons(0x0800);

    (void) state;
    k4.ipv4_frag = M4.key.ip_frag;
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_IPV4, &k4, NULL, sizeof k4);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_TCP, &tp, NULL, sizeof tp);
    expect(&b, &M4, 0);
    expect(&b, &M6, -EINVAL);               /* ipv4 on an IPv6 flow */

    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_TCP, &tp, NULL, sizeof tp);
    expect(&b, &MUDP, -EINVAL);             /* tcp on a UDP flow */

    /* ip_proto wildcarded in the match: the masked key has 0. */
    struct flow_match wild = M4;
    wild.key.ip_proto = 0;
    wild.mask.ip_proto = 0;
    expect(&b, &wild, -EINVAL);

    ab_init(&b);
    k4.ipv4_proto = IPPROTO_UDP;            /* unmasked set may not */
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_IPV4, &k4, NULL, sizeof k4);
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    memset(&k4, 0, sizeof k4);
    k4.ipv4_src = htonl(0x0a000063);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k4, &m4,
            sizeof k4);
    expect(&b, &M4, 0);
    m4.ipv4_proto = 0xff;                   /* proto not writable */
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k4, &m4,
            sizeof k4);
    expect(&b, &M4, -EINVAL);
    m4.ipv4_proto = 0;
    m4.ipv4_src = htonl(0xffffff00);        /* value outside mask */
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k4, &m4,
            sizeof k4);
    expect(&b, &M4, -EINVAL);

    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_IN_PORT, &port, NULL, 4);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_ETHERTYPE, &et, NULL, 2);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_TCP, &tp, NULL, 2);
    expect(&b, &M4, -EINVAL);               /* short key */
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_SKB_MARK, &port, NULL, 4);
    expect(&b, &M4, 0);

    /* push_mpls changes the ethertype: a later set(ipv4) is refused. */
    struct ovs_action_push_mpls pm = { htonl(0x00001140),
                                       htons(ETH_P_MPLS_UC) };
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_MPLS, sizeof pm, &pm);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k4, &m4,
            sizeof k4);
    expect(&b, &M4, -EINVAL);

    /* IPv6 label wider than 20 bits. */
    struct ovs_key_ipv6 k6 = { .ipv6_label = htonl(0x100000) };
    struct ovs_key_ipv6 m6 = { .ipv6_label = htonl(0x1fffff) };
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV6, &k6, &m6,
            sizeof k6);
    expect(&b, &M6, -EINVAL);
}

static void
test_validate_tunnel(void **state)
{
    struct ab b;
    struct nlattr *s, *t;

    (void) state;
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SET);
    t = mnl_attr_nest_start(b.nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u64(b.nlh, OVS_TUNNEL_KEY_ATTR_ID, htobe64(5));
    mnl_attr_put_u32(b.nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0xc0000201));
    mnl_attr_put_u8(b.nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put_u16(b.nlh, OVS_TUNNEL_KEY_ATTR_TP_DST, htons(4789));
    mnl_attr_nest_end(b.nlh, t);
    mnl_attr_nest_end(b.nlh, s);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 9);
    expect(&b, &M4, 0);

    /* No TTL. */
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SET);
    t = mnl_attr_nest_start(b.nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u32(b.nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0xc0000201));
    mnl_attr_nest_end(b.nlh, t);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);

    /* Masked tunnel set. */
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SET_MASKED);
    t = mnl_attr_nest_start(b.nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u8(b.nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put_u8(b.nlh, OVS_TUNNEL_KEY_ATTR_TTL, 0xff);
    mnl_attr_nest_end(b.nlh, t);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);
}

static void
put_nested_clones(struct ab *b, int depth)
{
    struct nlattr *n[32];

    for (int i = 0; i < depth; i++) {
        n[i] = mnl_attr_nest_start(b->nlh, OVS_ACTION_ATTR_CLONE);
    }
    mnl_attr_put_u32(b->nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    for (int i = depth - 1; i >= 0; i--) {
        mnl_attr_nest_end(b->nlh, n[i]);
    }
}

static void
test_validate_nesting(void **state)
{
    struct ab b;
    struct nlattr *s, *a;

    (void) state;
    ab_init(&b);
    put_nested_clones(&b, 16);
    expect(&b, &M4, 0);
    ab_init(&b);
    put_nested_clones(&b, 17);
    expect(&b, &M4, -EOVERFLOW);

    /* Sample without a probability, with a short one, then valid. */
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SAMPLE);
    a = mnl_attr_nest_start(b.nlh, OVS_SAMPLE_ATTR_ACTIONS);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_put_u16(b.nlh, OVS_SAMPLE_ATTR_PROBABILITY, 1);
    a = mnl_attr_nest_start(b.nlh, OVS_SAMPLE_ATTR_ACTIONS);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_put_u32(b.nlh, OVS_SAMPLE_ATTR_PROBABILITY, 1);
    a = mnl_attr_nest_start(b.nlh, OVS_SAMPLE_ATTR_ACTIONS);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 70000);    /* bad */
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);

    /* check_pkt_len needs a length and both lists. */
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_CHECK_PKT_LEN);
    mnl_attr_put_u16(b.nlh, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, 100);
    a = mnl_attr_nest_start(b.nlh,
                            OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_CHECK_PKT_LEN);
    mnl_attr_put_u16(b.nlh, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, 0);
    a = mnl_attr_nest_start(b.nlh,
                            OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
    mnl_attr_nest_end(b.nlh, a);
    a = mnl_attr_nest_start(b.nlh,
                            OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    expect(&b, &M4, -EINVAL);
}

/* ---- execution ------------------------------------------------------ */

static void
test_set_ipv4_tcp(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 101 };
    struct dp_packet *p = build(&o);
    struct ovs_key_ipv4 k = { .ipv4_src = htonl(0xc0a80001),
                              .ipv4_dst = htonl(0xc0a80102),
                              .ipv4_proto = IPPROTO_TCP,
                              .ipv4_tos = 0xb8, .ipv4_ttl = 17 };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    const uint8_t *d;

    (void) state;
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_IPV4, &k, NULL, sizeof k);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 3);
    run(&b, p, &key, &r);

    assert_int_equal(r.n_out, 1);
    assert_int_equal(r.ports[0], 3);
    assert_ptr_equal(r.pkts[0], p);         /* last output takes it */
    d = dp_packet_data(r.pkts[0]);
    assert_memory_equal(d + L3 + 12, "\xc0\xa8\x00\x01\xc0\xa8\x01\x02", 8);
    assert_int_equal(d[L3 + 1], 0xb8);
    assert_int_equal(d[L3 + 8], 17);
    assert_csums_ok(d, r.pkts[0]->len, L3, L4);
    assert_int_equal(key.ipv4_src, htonl(0xc0a80001));
    assert_int_equal(key.ipv4_dst, htonl(0xc0a80102));
    assert_int_equal(key.ip_tos, 0xb8);
    assert_int_equal(key.ip_ttl, 17);
    rec_free(&r);
}

static void
test_set_masked_ipv4_udp_partial(void **state)
{
    struct pkt_opts o = { .vlan = 1, .proto = IPPROTO_UDP, .payload = 55 };
    struct dp_packet *p = build(&o);
    struct ovs_key_ipv4 k = { .ipv4_dst = htonl(0x00000009) };
    struct ovs_key_ipv4 m = { .ipv4_dst = htonl(0x000000ff) };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    uint8_t *d = dp_packet_data(p);

    (void) state;
    /* Partial checksum: the field holds the pseudo-header sum. */
    put_be16(d + L4 + 6, (uint16_t) ref_pseudo(d + L3, 17, 8 + 55));
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = (uint16_t) L4;
    p->vnet.csum_offset = 6;
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k, &m,
            sizeof k);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    run(&b, p, &key, &r);

    d = dp_packet_data(r.pkts[0]);
    assert_memory_equal(d + L3 + 16, "\x0a\x00\x00\x09", 4);
    assert_int_equal(ref_sum(d + L3, 20, 0), 0xffff);
    assert_int_equal(be16(d + L4 + 6),
                     (uint16_t) ref_pseudo(d + L3, 17, 8 + 55));
    assert_int_equal(offload_complete_csum(r.pkts[0]), 0);
    assert_csums_ok(dp_packet_data(r.pkts[0]), r.pkts[0]->len, L3, L4);
    assert_int_equal(key.ipv4_dst, htonl(0x0a000009));
    rec_free(&r);
}

static void
test_set_ipv4_udp_zero_csum(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 20 };
    struct dp_packet *p = build(&o);
    struct ovs_key_ipv4 k = { .ipv4_src = htonl(0x01020304) };
    struct ovs_key_ipv4 m = { .ipv4_src = 0xffffffff };
    struct ovs_key_udp u = { htons(53), htons(5353) };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    uint8_t *d = dp_packet_data(p);

    (void) state;
    d[L4 + 6] = d[L4 + 7] = 0;
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k, &m,
            sizeof k);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_UDP, &u, NULL, sizeof u);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    run(&b, p, &key, &r);
    d = dp_packet_data(r.pkts[0]);
    assert_int_equal(be16(d + L4 + 6), 0);  /* still "no checksum" */
    assert_int_equal(be16(d + L4), 53);
    assert_int_equal(be16(d + L4 + 2), 5353);
    assert_int_equal(ref_sum(d + L3, 20, 0), 0xffff);
    assert_int_equal(key.tp_src, htons(53));
    rec_free(&r);
}

static void
test_set_l4_ports(void **state)
{
    static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
                                      IPPROTO_SCTP };
    static const uint16_t ktypes[] = { OVS_KEY_ATTR_TCP, OVS_KEY_ATTR_UDP,
                                       OVS_KEY_ATTR_SCTP };

    (void) state;
    for (int v6 = 0; v6 < 2; v6++) {
        for (int i = 0; i < 3; i++) {
            struct pkt_opts o = { .v6 = v6, .proto = protos[i],
                                  .payload = 33 };
            struct dp_packet *p = build(&o);
            struct ovs_key_tcp v = { htons(0x1200), htons(8080) };
            struct ovs_key_tcp m = { htons(0xff00), htons(0xffff) };
            struct flow_key key;
            struct rec r = { 0 };
            struct ab b;
            const uint8_t *d;

            ab_init(&b);
            put_set(&b, OVS_ACTION_ATTR_SET_MASKED, ktypes[i], &v, &m,
                    sizeof v);
            mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
            run(&b, p, &key, &r);
            d = dp_packet_data(r.pkts[0]);
            /* 1000 = 0x03e8: high byte replaced. */
            assert_int_equal(be16(d + L4), 0x12e8);
            assert_int_equal(be16(d + L4 + 2), 8080);
            assert_csums_ok(d, r.pkts[0]->len, L3, L4);
            assert_int_equal(key.tp_src, htons(0x12e8));
            assert_int_equal(key.tp_dst, htons(8080));
            rec_free(&r);
        }
    }
}

static void
test_set_ipv6(void **state)
{
    static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };

    (void) state;
    for (int i = 0; i < 2; i++) {
        struct pkt_opts o = { .v6 = 1, .proto = protos[i], .payload = 40 };
        struct dp_packet *p = build(&o);
        struct ovs_key_ipv6 k;
        struct flow_key key;
        struct rec r = { 0 };
        struct ab b;
        const uint8_t *d;

        memset(&k, 0, sizeof k);
        memcpy(k.ipv6_src, "\xfd\x00\x00\x00\x00\x00\x00\x00"
               "\x00\x00\x00\x00\x00\x00\x00\x01", 16);
        memcpy(k.ipv6_dst, "\xfd\x00\x00\x00\x00\x00\x00\x00"
               "\x00\x00\x00\x00\x00\x00\x00\x02", 16);
        k.ipv6_label = htonl(0xabcde);
        k.ipv6_proto = protos[i];
        k.ipv6_tclass = 0x2e;
        k.ipv6_hlimit = 5;
        ab_init(&b);
        put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_IPV6, &k, NULL,
                sizeof k);
        mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
        run(&b, p, &key, &r);
        d = dp_packet_data(r.pkts[0]);
        assert_memory_equal(d + L3 + 8, k.ipv6_src, 16);
        assert_memory_equal(d + L3 + 24, k.ipv6_dst, 16);
        assert_int_equal(d[L3], 0x62);          /* version 6, tc 0x2e */
        assert_int_equal(d[L3 + 1], 0xea);
        assert_int_equal(d[L3 + 2], 0xbc);
        assert_int_equal(d[L3 + 3], 0xde);
        assert_int_equal(d[L3 + 7], 5);
        assert_csums_ok(d, r.pkts[0]->len, L3, L4);
        assert_memory_equal(key.ipv6_src, k.ipv6_src, 16);
        assert_int_equal(key.ipv6_label, htonl(0xabcde));
        assert_int_equal(key.ip_tos, 0x2e);
        assert_int_equal(key.ip_ttl, 5);
        rec_free(&r);
    }
}

static void
test_set_eth_priority_mark(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 1 };
    struct dp_packet *p = build(&o);
    struct ovs_key_ethernet v, m;
    uint32_t pv = 7, pm = 0xf, mark = 0xbeef;
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    const uint8_t *d;

    (void) state;
    memset(&v, 0, sizeof v);
    memset(&m, 0, sizeof m);
    memcpy(v.eth_dst, "\xaa\xbb\xcc\xdd\xee\xff", 6);
    memset(m.eth_dst, 0xff, 6);
    v.eth_src[5] = 0x42;
    m.eth_src[5] = 0xff;
    ab_init(&b);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_ETHERNET, &v, &m,
            sizeof v);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_PRIORITY, &pv, &pm,
            4);
    put_set(&b, OVS_ACTION_ATTR_SET, OVS_KEY_ATTR_SKB_MARK, &mark, NULL, 4);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    run(&b, p, &key, &r);
    d = dp_packet_data(r.pkts[0]);
    assert_memory_equal(d, "\xaa\xbb\xcc\xdd\xee\xff"
                        "\x02\x00\x00\x00\x00\x42", 12);
    assert_int_equal(r.pkts[0]->md.priority, 7);
    assert_int_equal(r.pkts[0]->md.skb_mark, 0xbeef);
    assert_int_equal(key.priority, 7);
    assert_int_equal(key.skb_mark, 0xbeef);
    assert_int_equal(key.eth_src[5], 0x42);
    rec_free(&r);
}

static void
test_vlan_push_pop_cow(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 10 };
    struct dp_packet *p = build(&o);
    struct dp_packet *keep = dp_packet_clone(p);
    struct ovs_action_push_vlan v = { htons(0x8100), htons(0x1000 | 0xa07b) };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    uint8_t orig[128];
    size_t olen = p->len;
    const uint8_t *d;

    (void) state;
    memcpy(orig, dp_packet_data(p), olen);
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_POP_VLAN, 0, NULL);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    run(&b, p, &key, &r);

    assert_int_equal(r.n_out, 2);
    d = dp_packet_data(r.pkts[0]);
    assert_int_equal(r.pkts[0]->len, olen + 4);
    assert_memory_equal(d, orig, 12);
    /* TCI on the wire: PCP 5, DEI as given minus the CFI marker. */
    assert_memory_equal(d + 12, "\x81\x00\xa0\x7b\x08\x00", 6);
    assert_memory_equal(d + 16, orig + 12, olen - 12);
    assert_int_equal(r.pkts[1]->len, olen);
    assert_memory_equal(dp_packet_data(r.pkts[1]), orig, olen);
    /* The packet's earlier owner of the shared data saw nothing. */
    assert_memory_equal(dp_packet_data(keep), orig, olen);
    assert_int_equal(key.vlan_tci, 0);
    dp_packet_free(keep);
    rec_free(&r);
}

static void
test_userspace_sees_fresh_key(void **state)
{
    struct pkt_opts o = { .vlan = 1, .proto = IPPROTO_TCP, .payload = 10 };
    struct dp_packet *p = build(&o);
    struct ovs_action_push_vlan v = { htons(0x88a8), htons(0x1000 | 7) };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    struct nlattr *u;

    (void) state;
    p->md.in_port = 4;
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof v, &v);
    u = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put_u32(b.nlh, OVS_USERSPACE_ATTR_PID, 99);
    mnl_attr_nest_end(b.nlh, u);
    run(&b, p, &key, &r);
    assert_int_equal(r.n_up, 1);
    assert_int_equal(r.n_out, 0);
    /* Re-extracted: 802.1ad outer tag, the old tag inside. */
    assert_int_equal(r.up_key.vlan_tpid, htons(0x88a8));
    assert_int_equal(r.up_key.vlan_tci, htons(0x1007));
    assert_int_equal(r.up_key.cvlan_tpid, htons(0x8100));
    assert_int_equal(r.up_key.cvlan_tci, htons(0x3064));
    assert_int_equal(r.up_key.eth_type, htons(0x0800));
    assert_int_equal(r.up_key.in_port, 4);
    assert_int_equal(r.up_len, 14 + 8 + 20 + 20 + 10);
    rec_free(&r);
}

static void
test_trunc_and_fanout(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 200 };
    struct dp_packet *p = build(&o);
    struct ovs_action_trunc t = { 64 };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;

    (void) state;
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_TRUNC, sizeof t, &t);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 3);
    run(&b, p, &key, &r);
    assert_int_equal(r.n_out, 3);
    assert_int_equal(r.cutlens[0], 64);
    assert_int_equal(r.cutlens[1], 0);
    assert_int_equal(r.cutlens[2], 0);
    /* Clones share the payload. */
    assert_ptr_equal(r.pkts[0]->buf, r.pkts[2]->buf);
    assert_ptr_equal(r.pkts[2], p);
    rec_free(&r);
}

static void
test_hash(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 1 };
    struct ovs_action_hash h = { OVS_HASH_ALG_L4, 1 };
    uint32_t hashes[4];

    (void) state;
    for (int i = 0; i < 4; i++) {
        struct dp_packet *p = build(&o);
        struct flow_key key;
        struct rec r = { 0 };
        struct ab b;

        h.hash_alg = i / 2;
        if (i % 2) {            /* reverse the flow */
            uint8_t *d = dp_packet_data(p), tmp[4];

            memcpy(tmp, d + L3 + 12, 4);
            memcpy(d + L3 + 12, d + L3 + 16, 4);
            memcpy(d + L3 + 16, tmp, 4);
            memcpy(tmp, d + L4, 2);
            memcpy(d + L4, d + L4 + 2, 2);
            memcpy(d + L4 + 2, tmp, 2);
        }
        ab_init(&b);
        mnl_attr_put(b.nlh, OVS_ACTION_ATTR_HASH, sizeof h, &h);
        mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_RECIRC, 77);
        run(&b, p, &key, &r);
        assert_int_equal(r.n_recirc, 1);
        assert_int_equal(r.recirc[0]->md.recirc_id, 77);
        hashes[i] = r.recirc[0]->md.dp_hash;
        assert_int_not_equal(hashes[i], 0);
        assert_int_equal(key.dp_hash, hashes[i]);
        rec_free(&r);
    }
    assert_int_equal(hashes[2], hashes[3]);     /* symmetric */
    assert_int_not_equal(hashes[0], hashes[2]);
}

static void
test_sample_clone(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 5 };
    struct dp_packet *p = build(&o);
    struct ovs_key_ipv4 k = { .ipv4_ttl = 1 };
    struct ovs_key_ipv4 m = { .ipv4_ttl = 0xff };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    struct nlattr *s, *a;

    (void) state;
    ab_init(&b);
    /* Never sampled. */
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_put_u32(b.nlh, OVS_SAMPLE_ATTR_PROBABILITY, 0);
    a = mnl_attr_nest_start(b.nlh, OVS_SAMPLE_ATTR_ACTIONS);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 10);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    /* Always sampled: changes a clone, not the packet. */
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_put_u32(b.nlh, OVS_SAMPLE_ATTR_PROBABILITY, UINT32_MAX);
    a = mnl_attr_nest_start(b.nlh, OVS_SAMPLE_ATTR_ACTIONS);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_IPV4, &k, &m,
            sizeof k);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 11);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_nest_end(b.nlh, s);
    a = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_CLONE);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 12);
    mnl_attr_nest_end(b.nlh, a);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 13);
    run(&b, p, &key, &r);

    assert_int_equal(r.n_out, 3);
    assert_int_equal(r.ports[0], 11);
    assert_int_equal(r.ports[1], 12);
    assert_int_equal(r.ports[2], 13);
    assert_int_equal(((uint8_t *) dp_packet_data(r.pkts[0]))[L3 + 8], 1);
    assert_csums_ok(dp_packet_data(r.pkts[0]), r.pkts[0]->len, L3, L4);
    assert_int_equal(((uint8_t *) dp_packet_data(r.pkts[2]))[L3 + 8], 64);
    assert_int_equal(key.ip_ttl, 64);       /* outer key untouched */
    rec_free(&r);
}

static void
put_cpl(struct ab *b, uint16_t len)
{
    struct nlattr *s, *a;

    s = mnl_attr_nest_start(b->nlh, OVS_ACTION_ATTR_CHECK_PKT_LEN);
    mnl_attr_put_u16(b->nlh, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, len);
    a = mnl_attr_nest_start(b->nlh,
                            OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
    mnl_attr_put_u32(b->nlh, OVS_ACTION_ATTR_OUTPUT, 100);
    mnl_attr_nest_end(b->nlh, a);
    a = mnl_attr_nest_start(b->nlh,
                            OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
    mnl_attr_put_u32(b->nlh, OVS_ACTION_ATTR_OUTPUT, 200);
    mnl_attr_nest_end(b->nlh, a);
    mnl_attr_nest_end(b->nlh, s);
}

static void
test_check_pkt_len(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 46 };
    uint16_t lens[] = { 99, 100, 101 };
    uint32_t want[] = { 100, 200, 200 };

    (void) state;
    for (int i = 0; i < 3; i++) {
        struct dp_packet *p = build(&o);    /* 100 bytes */
        struct flow_key key;
        struct rec r = { 0 };
        struct ab b;

        ab_init(&b);
        put_cpl(&b, lens[i]);
        mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
        run(&b, p, &key, &r);
        assert_int_equal(r.n_out, 2);
        assert_int_equal(r.ports[0], want[i]);
        assert_int_equal(r.ports[1], 1);
        rec_free(&r);
    }
}

static void
test_mpls_push_pop(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 8 };
    struct dp_packet *p = build(&o);
    struct ovs_action_push_mpls pm = { htonl(0x00012140),
                                       htons(ETH_P_MPLS_UC) };
    uint32_t lse = htonl(0x00034000), lmask = htonl(0xfffff000);
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    uint8_t orig[128];
    size_t olen = p->len;
    const uint8_t *d;

    (void) state;
    memcpy(orig, dp_packet_data(p), olen);
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_PUSH_MPLS, sizeof pm, &pm);
    put_set(&b, OVS_ACTION_ATTR_SET_MASKED, OVS_KEY_ATTR_MPLS, &lse, &lmask,
            4);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_put_u16(b.nlh, OVS_ACTION_ATTR_POP_MPLS, htons(0x0800));
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    run(&b, p, &key, &r);
    assert_int_equal(r.n_out, 2);
    d = dp_packet_data(r.pkts[0]);
    assert_int_equal(r.pkts[0]->len, olen + 4);
    assert_memory_equal(d + 12, "\x88\x47\x00\x03\x41\x40", 6);
    assert_memory_equal(d + 18, orig + 14, olen - 14);
    assert_memory_equal(dp_packet_data(r.pkts[1]), orig, olen);
    rec_free(&r);
}

static void
test_dec_ttl(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 8 };

    (void) state;
    for (int ttl = 64; ttl >= 1; ttl -= 63) {
        struct dp_packet *p = build(&o);
        uint8_t *d = dp_packet_data(p);
        struct flow_key key;
        struct rec r = { 0 };
        struct ab b;
        struct nlattr *s, *a;

        d[L3 + 8] = (uint8_t) ttl;
        put_be16(d + L3 + 10, 0);
        put_be16(d + L3 + 10, (uint16_t) ~ref_sum(d + L3, 20, 0));
        ab_init(&b);
        s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_DEC_TTL);
        a = mnl_attr_nest_start(b.nlh, OVS_DEC_TTL_ATTR_ACTION);
        mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 66);
        mnl_attr_nest_end(b.nlh, a);
        mnl_attr_nest_end(b.nlh, s);
        mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
        run(&b, p, &key, &r);
        assert_int_equal(r.n_out, 1);
        if (ttl == 64) {
            assert_int_equal(r.ports[0], 1);
            d = dp_packet_data(r.pkts[0]);
            assert_int_equal(d[L3 + 8], 63);
            assert_csums_ok(d, r.pkts[0]->len, L3, L4);
        } else {
            assert_int_equal(r.ports[0], 66);   /* expired */
        }
        rec_free(&r);
    }
}

/* ct_clear without conntrack leaves the packet alone, as the kernel's
 * does when there is no connection state. */
static void
test_ct_clear_is_noop(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 8 };
    struct dp_packet *p = build(&o);
    struct dp_packet *copy = build(&o);
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;

    (void) state;
    ab_init(&b);
    mnl_attr_put(b.nlh, OVS_ACTION_ATTR_CT_CLEAR, 0, NULL);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    run(&b, p, &key, &r);
    assert_int_equal(r.n_out, 1);
    assert_int_equal(r.ports[0], 2);
    assert_int_equal(r.pkts[0]->len, copy->len);
    assert_memory_equal(dp_packet_data(r.pkts[0]), dp_packet_data(copy),
                        copy->len);
    dp_packet_free(copy);
    rec_free(&r);
}

static void
test_drop_and_empty(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 8 };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;

    (void) state;
    ab_init(&b);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_put_u32(b.nlh, ACT_DROP, 3);
    run(&b, build(&o), &key, &r);
    assert_int_equal(r.n_out, 1);
    rec_free(&r);
    ab_init(&b);
    run(&b, build(&o), &key, &r);       /* freed; ASan checks the leak */
    assert_int_equal(r.n_out, 0);
}

static void
test_set_tunnel(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 8 };
    struct flow_key key;
    struct rec r = { 0 };
    struct ab b;
    struct nlattr *s, *t;

    (void) state;
    ab_init(&b);
    s = mnl_attr_nest_start(b.nlh, OVS_ACTION_ATTR_SET);
    t = mnl_attr_nest_start(b.nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u64(b.nlh, OVS_TUNNEL_KEY_ATTR_ID, htobe64(5000));
    mnl_attr_put_u32(b.nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0xc0000201));
    mnl_attr_put_u8(b.nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put(b.nlh, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, 0, NULL);
    mnl_attr_nest_end(b.nlh, t);
    mnl_attr_nest_end(b.nlh, s);
    mnl_attr_put_u32(b.nlh, OVS_ACTION_ATTR_OUTPUT, 9);
    run(&b, build(&o), &key, &r);
    assert_int_equal(r.n_out, 1);
    assert_int_equal(r.pkts[0]->md.tunnel.tun_id, htobe64(5000));
    assert_int_equal(r.pkts[0]->md.tunnel.ipv4_dst, htonl(0xc0000201));
    assert_int_equal(r.pkts[0]->md.tunnel.ttl, 64);
    assert_int_equal(r.pkts[0]->md.tunnel.flags,
                     FLOW_TNL_F_KEY | FLOW_TNL_F_DONT_FRAGMENT);
    assert_int_equal(key.tunnel.ipv4_dst, 0);   /* key keeps rx tunnel */
    rec_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_basic),
        cmocka_unit_test(test_validate_errors),
        cmocka_unit_test(test_validate_set),
        cmocka_unit_test(test_validate_tunnel),
        cmocka_unit_test(test_validate_nesting),
        cmocka_unit_test(test_set_ipv4_tcp),
        cmocka_unit_test(test_set_masked_ipv4_udp_partial),
        cmocka_unit_test(test_set_ipv4_udp_zero_csum),
        cmocka_unit_test(test_set_l4_ports),
        cmocka_unit_test(test_set_ipv6),
        cmocka_unit_test(test_set_eth_priority_mark),
        cmocka_unit_test(test_vlan_push_pop_cow),
        cmocka_unit_test(test_userspace_sees_fresh_key),
        cmocka_unit_test(test_trunc_and_fanout),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_sample_clone),
        cmocka_unit_test(test_check_pkt_len),
        cmocka_unit_test(test_mpls_push_pop),
        cmocka_unit_test(test_dec_ttl),
        cmocka_unit_test(test_drop_and_empty),
        cmocka_unit_test(test_ct_clear_is_noop),
        cmocka_unit_test(test_set_tunnel),
    };

    return cmocka_run_group_tests(tests, setup_matches, NULL);
}
