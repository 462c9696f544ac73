/* Unit tests for datapath/flow-netlink.c: keys and masks from attributes
 * (acceptance and refusals as the kernel's), back to attributes, and round
 * trips; packet metadata; UFIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/openvswitch.h>

#include "flow-netlink.h"
#include "packet.h"

/* A message buffer that key and mask attributes are built in. */
struct msg {
    union {
        char buf[8192];
        struct nlmsghdr align;
    };
    struct nlmsghdr *nlh;
};

static struct nlmsghdr *
msg_init(struct msg *m)
{
    memset(m->buf, 0, sizeof m->buf);
    m->nlh = mnl_nlmsg_put_header(m->buf);
    return m->nlh;
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

static void
put_eth(struct nlmsghdr *nlh, const uint8_t *src, const uint8_t *dst)
{
    struct ovs_key_ethernet eth;

    memcpy(eth.eth_src, src, 6);
    memcpy(eth.eth_dst, dst, 6);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth);
}

static void
put_be16(struct nlmsghdr *nlh, uint16_t type, uint16_t v)
{
    v = htons(v);
    mnl_attr_put(nlh, type, 2, &v);
}

static void
put_ipv4_ttl(struct nlmsghdr *nlh, uint32_t src, uint32_t dst,
             uint8_t proto, uint8_t ttl, uint8_t frag)
{
    struct ovs_key_ipv4 ip = {
        .ipv4_src = htonl(src), .ipv4_dst = htonl(dst),
        .ipv4_proto = proto, .ipv4_tos = 0, .ipv4_ttl = ttl,
        .ipv4_frag = frag,
    };

    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV4, sizeof ip, &ip);
}

static void
put_ipv4(struct nlmsghdr *nlh, uint32_t src, uint32_t dst, uint8_t proto,
         uint8_t frag)
{
    put_ipv4_ttl(nlh, src, dst, proto, 64, frag);
}

static void
put_ports(struct nlmsghdr *nlh, uint16_t type, uint16_t src, uint16_t dst)
{
    uint16_t p[2] = { htons(src), htons(dst) };

    mnl_attr_put(nlh, type, sizeof p, p);
}

/* recirc_id(0),in_port(1),eth(..),eth_type(0x0800),ipv4(proto=6),
 * tcp(40000->80),tcp_flags(0): a typical key from ovs-vswitchd. */
static struct nlattr *
put_tcp_key(struct nlmsghdr *nlh, uint16_t type)
{
    struct nlattr *nest = mnl_attr_nest_start(nlh, type);

    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_RECIRC_ID, 0);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    put_ipv4(nlh, 0x0a000001, 0x0a000002, IPPROTO_TCP, 0);
    put_ports(nlh, OVS_KEY_ATTR_TCP, 40000, 80);
    put_be16(nlh, OVS_KEY_ATTR_TCP_FLAGS, 0);
    mnl_attr_nest_end(nlh, nest);
    return nest;
}

static int
parse(const struct nlattr *key, const struct nlattr *mask,
      struct flow_match *m)
{
    const char *reason = NULL;
    int err = fnl_parse_match(key, mask, m, &reason);

    if (err) {
        assert_non_null(reason);        /* every refusal says why */
    }
    return err;
}

/* Puts m's key and mask as the kernel's dumps do, parses them back and
 * checks that the same match comes out. */
static void
assert_round_trip(const struct flow_match *m)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *k, *mk;
    struct flow_match m2;

    k = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_KEY,
                                 &m->key, &m->key, false), 0);
    mk = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_MASK,
                                 &m->key, &m->mask, true), 0);
    assert_int_equal(parse(k, mk, &m2), 0);
    assert_memory_equal(&m->key, &m2.key, sizeof m2.key);
    assert_memory_equal(&m->mask, &m2.mask, sizeof m2.mask);
}

/* The attribute types directly inside 'nest', in order, into 'types'. */
static size_t
attr_types(const struct nlattr *nest, uint16_t *types, size_t max)
{
    const struct nlattr *a;
    size_t n = 0;

    mnl_attr_for_each_nested(a, nest) {
        assert_true(n < max);
        types[n++] = mnl_attr_get_type(a);
    }
    return n;
}

static const struct nlattr *
find_attr(const struct nlattr *nest, uint16_t type)
{
    const struct nlattr *a;

    mnl_attr_for_each_nested(a, nest) {
        if (mnl_attr_get_type(a) == type) {
            return a;
        }
    }
    return NULL;
}

static void
test_exact_match_without_mask(void **state)
{
    struct msg msg;
    struct flow_match m;
    struct nlattr *key;

    (void) state;
    key = put_tcp_key(msg_init(&msg), OVS_FLOW_ATTR_KEY);
    assert_int_equal(parse(key, NULL, &m), 0);

    assert_int_equal(m.key.in_port, 1);
    assert_int_equal(m.key.eth_type, htons(0x0800));
    assert_memory_equal(m.key.eth_src, MAC_A, 6);
    assert_memory_equal(m.key.eth_dst, MAC_B, 6);
    assert_int_equal(m.key.ipv4_src, htonl(0x0a000001));
    assert_int_equal(m.key.ip_proto, IPPROTO_TCP);
    assert_int_equal(m.key.ip_ttl, 64);
    assert_int_equal(m.key.tp_src, htons(40000));
    assert_int_equal(m.key.tp_dst, htons(80));

    /* Exact on what the key carried, wildcarded elsewhere. */
    assert_int_equal(m.mask.in_port, UINT32_MAX);
    assert_int_equal(m.mask.recirc_id, UINT32_MAX);
    assert_int_equal(m.mask.eth_type, 0xffff);
    assert_int_equal(m.mask.eth_src[3], 0xff);
    assert_int_equal(m.mask.ipv4_src, UINT32_MAX);
    assert_int_equal(m.mask.ip_proto, 0xff);
    assert_int_equal(m.mask.ip_frag, 0xff);
    assert_int_equal(m.mask.tp_src, 0xffff);
    assert_int_equal(m.mask.tcp_flags, 0xffff);
    assert_int_equal(m.mask.priority, 0);
    assert_int_equal(m.mask.skb_mark, 0);
    assert_int_equal(m.mask.dp_hash, 0);
    assert_int_equal(m.mask.tunnel.ipv4_dst, 0);
    assert_int_equal(m.mask.vlan_tci, 0xffff);  /* "no tag" is matched */
    assert_int_equal(m.mask.vlan_tpid, 0);
    assert_round_trip(&m);
}

static void
test_wildcarded_mask_and_dump_layout(void **state)
{
    static const uint8_t zero_mac[6];
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *mask;
    struct flow_match m;
    uint16_t types[32];
    size_t n;

    (void) state;
    key = put_tcp_key(nlh, OVS_FLOW_ATTR_KEY);
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_RECIRC_ID, UINT32_MAX);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    put_eth(nlh, zero_mac, zero_mac);           /* all zero: skipped */
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    put_ipv4_ttl(nlh, 0xffffff00, 0, 0xff, 0, 0);
    put_ports(nlh, OVS_KEY_ATTR_TCP, 0, 0xffff);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_CT_STATE, 0);    /* zero: skipped */
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), 0);

    /* The key comes back masked. */
    assert_int_equal(m.key.ipv4_src, htonl(0x0a000000));
    assert_int_equal(m.key.ipv4_dst, 0);
    assert_int_equal(m.key.ip_ttl, 0);
    assert_int_equal(m.key.tp_src, 0);
    assert_int_equal(m.key.tp_dst, htons(80));
    assert_int_equal(m.key.eth_src[5], 0);
    assert_int_equal(m.mask.tp_dst, 0xffff);
    assert_int_equal(m.mask.tp_src, 0);
    assert_round_trip(&m);

    /* What a dump returns, in the kernel's order. */
    nlh = msg_init(&msg);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_KEY,
                                 &m.key, &m.key, false), 0);
    n = attr_types(mnl_nlmsg_get_payload(nlh), types, 32);
    {
        static const uint16_t want[] = {
            OVS_KEY_ATTR_RECIRC_ID, OVS_KEY_ATTR_DP_HASH,
            OVS_KEY_ATTR_PRIORITY, OVS_KEY_ATTR_IN_PORT,
            OVS_KEY_ATTR_SKB_MARK, OVS_KEY_ATTR_ETHERNET,
            OVS_KEY_ATTR_ETHERTYPE, OVS_KEY_ATTR_IPV4, OVS_KEY_ATTR_TCP,
            OVS_KEY_ATTR_TCP_FLAGS,
        };

        assert_int_equal(n, sizeof want / sizeof want[0]);
        assert_memory_equal(types, want, sizeof want);
    }
    nlh = msg_init(&msg);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_MASK,
                                 &m.key, &m.mask, true), 0);
    mask = mnl_nlmsg_get_payload(nlh);
    assert_int_equal(mnl_attr_get_u32(find_attr(mask, OVS_KEY_ATTR_IN_PORT)),
                     UINT32_MAX);
    assert_int_equal(mnl_attr_get_u16(find_attr(mask,
                                                OVS_KEY_ATTR_ETHERTYPE)),
                     0xffff);
    assert_int_equal(mnl_attr_get_u32(find_attr(mask, OVS_KEY_ATTR_DP_HASH)),
                     0);
    /* A mask always describes the tunnel (TTL at least). */
    assert_non_null(find_attr(mask, OVS_KEY_ATTR_TUNNEL));
    assert_null(find_attr(mask, OVS_KEY_ATTR_CT_STATE));
}

static void
test_put_no_space(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct flow_match m;
    struct nlattr *key = put_tcp_key(nlh, OVS_FLOW_ATTR_KEY);
    uint32_t len;

    (void) state;
    assert_int_equal(parse(key, NULL, &m), 0);
    nlh = msg_init(&msg);
    len = nlh->nlmsg_len;
    assert_int_equal(fnl_put_key(nlh, 64, OVS_FLOW_ATTR_KEY, &m.key, &m.key,
                                 false), -EMSGSIZE);
    assert_int_equal(nlh->nlmsg_len, len);
    assert_int_equal(fnl_put_key(nlh, FNL_KEY_MAX_SIZE + len,
                                 OVS_FLOW_ATTR_KEY, &m.key, &m.key, false), 0);
}

/* One key made of the attributes put by 'fill', expected to be refused. */
static void
assert_key_refused(void (*fill)(struct nlmsghdr *))
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    struct flow_match m;

    fill(nlh);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), -EINVAL);
}

static void
fill_bad_ipv4_len(struct nlmsghdr *nlh)
{
    char ip[11] = { 0 };

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV4, sizeof ip, ip);
}

static void
fill_duplicate(struct nlmsghdr *nlh)
{
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 2);
}

static void
fill_out_of_range(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_MAX + 1, 0);
}

static void
fill_unsupported_type(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_PACKET_TYPE, 0);
}

static void
fill_missing_tcp(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    put_ipv4(nlh, 1, 2, IPPROTO_TCP, 0);
}

static void
fill_missing_ipv4(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
}

static void
fill_small_ethertype(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0500);
}

static void
fill_bad_in_port(struct nlmsghdr *nlh)
{
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 0xffff);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_ct_state(struct nlmsghdr *nlh)
{
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_CT_STATE, 0);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_ct_zone(struct nlmsghdr *nlh)
{
    mnl_attr_put_u16(nlh, OVS_KEY_ATTR_CT_ZONE, 0);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_ct_tuple(struct nlmsghdr *nlh)
{
    struct ovs_key_ct_tuple_ipv4 t = { .ipv4_src = 1 };

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    put_ipv4(nlh, 1, 2, 0, 0);
    mnl_attr_put(nlh, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4, sizeof t, &t);
}

static void
fill_nothing(struct nlmsghdr *nlh)
{
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
}

/* A layer-3 key still needs a real EtherType. */
static void
fill_layer3_802_2(struct nlmsghdr *nlh)
{
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0500);
}

/* ... and the attributes its protocol implies. */
static void
fill_layer3_no_ipv4(struct nlmsghdr *nlh)
{
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
}

static void
fill_frag_range(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    put_ipv4(nlh, 1, 2, 0, 3);
}

static void
fill_arp_op(struct nlmsghdr *nlh)
{
    struct ovs_key_arp arp = { .arp_op = htons(0x100) };

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ARP, sizeof arp, &arp);
}

static void
fill_vlan_no_cfi(struct nlmsghdr *nlh)
{
    struct nlattr *encap;

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x0064);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    mnl_attr_nest_end(nlh, encap);
}

static void
fill_vlan_no_encap(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1064);
}

static void
fill_truncated_vlan_with_encap(struct nlmsghdr *nlh)
{
    struct nlattr *encap;

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    mnl_attr_nest_end(nlh, encap);
}

static void
fill_vlan_outside_tag(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1064);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
}

static void
fill_mpls_6(struct nlmsghdr *nlh)
{
    char lse[6] = { 0 };

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8847);
    mnl_attr_put(nlh, OVS_KEY_ATTR_MPLS, sizeof lse, lse);
}

static void
fill_mpls_16(struct nlmsghdr *nlh)
{
    char lse[16] = { 0 };

    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8847);
    mnl_attr_put(nlh, OVS_KEY_ATTR_MPLS, sizeof lse, lse);
}

static void
fill_mpls_0(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8847);
    mnl_attr_put(nlh, OVS_KEY_ATTR_MPLS, 0, NULL);
}

static void
fill_tunnel_no_ttl(struct nlmsghdr *nlh)
{
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);

    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0x01020304));
    mnl_attr_nest_end(nlh, t);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_tunnel_no_dst(struct nlmsghdr *nlh)
{
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);

    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, htonl(0x01020304));
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_nest_end(nlh, t);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_tunnel_mixed(struct nlmsghdr *nlh)
{
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    uint8_t v6[16] = { 0x20, 0x01, [15] = 1 };

    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0x01020304));
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, v6);
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_nest_end(nlh, t);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_geneve_6(struct nlmsghdr *nlh)
{
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    char opts[6] = { 0 };

    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0x01020304));
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, sizeof opts, opts);
    mnl_attr_nest_end(nlh, t);
    put_eth(nlh, MAC_A, MAC_B);
}

static void
fill_erspan(struct nlmsghdr *nlh)
{
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    char opts[8] = { 0 };

    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0x01020304));
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS, sizeof opts, opts);
    mnl_attr_nest_end(nlh, t);
    put_eth(nlh, MAC_A, MAC_B);
}

/* An NSH key: base of MD type 'mdtype', then MD1 (16 bytes) or MD2
 * ('md2' bytes) as asked. */
static void
put_nsh_key(struct nlmsghdr *nlh, uint8_t mdtype, bool md1, size_t md2)
{
    struct ovs_nsh_key_base base = {
        .ttl = 63, .mdtype = mdtype, .np = 3, .path_hdr = htonl(0x1234ff),
    };
    struct ovs_nsh_key_md1 m1 = { { htonl(0x11223344), 0, 0, 4 } };
    uint8_t m2[8] = { 0 };
    struct nlattr *n;

    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x894f);
    n = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_NSH);
    mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_BASE, sizeof base, &base);
    if (md1) {
        mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_MD1, sizeof m1, &m1);
    }
    if (md2) {
        mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_MD2, md2, m2);
    }
    mnl_attr_nest_end(nlh, n);
}

/* MD1 context under MD type 2. */
static void
fill_nsh(struct nlmsghdr *nlh)
{
    put_nsh_key(nlh, 2, true, 0);
}

/* Type 2 metadata is never part of a flow key. */
static void
fill_nsh_md2(struct nlmsghdr *nlh)
{
    put_nsh_key(nlh, 2, false, 8);
}

/* NSH without its nested attribute. */
static void
fill_nsh_missing(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x894f);
}

static void
test_key_refusals(void **state)
{
    (void) state;
    assert_key_refused(fill_bad_ipv4_len);
    assert_key_refused(fill_duplicate);
    assert_key_refused(fill_out_of_range);
    assert_key_refused(fill_unsupported_type);
    assert_key_refused(fill_missing_tcp);
    assert_key_refused(fill_missing_ipv4);
    assert_key_refused(fill_small_ethertype);
    assert_key_refused(fill_bad_in_port);
    assert_key_refused(fill_ct_state);
    assert_key_refused(fill_ct_zone);
    assert_key_refused(fill_ct_tuple);
    assert_key_refused(fill_nothing);
    assert_key_refused(fill_layer3_802_2);
    assert_key_refused(fill_layer3_no_ipv4);
    assert_key_refused(fill_frag_range);
    assert_key_refused(fill_arp_op);
    assert_key_refused(fill_vlan_no_cfi);
    assert_key_refused(fill_vlan_no_encap);
    assert_key_refused(fill_truncated_vlan_with_encap);
    assert_key_refused(fill_vlan_outside_tag);
    assert_key_refused(fill_mpls_6);
    assert_key_refused(fill_mpls_16);
    assert_key_refused(fill_mpls_0);
    assert_key_refused(fill_tunnel_no_ttl);
    assert_key_refused(fill_tunnel_no_dst);
    assert_key_refused(fill_tunnel_mixed);
    assert_key_refused(fill_geneve_6);
    assert_key_refused(fill_erspan);
    assert_key_refused(fill_nsh);
    assert_key_refused(fill_nsh_md2);
    assert_key_refused(fill_nsh_missing);
}

static void
test_trailing_bytes(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    struct flow_match m;

    (void) state;
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    key->nla_len += 3;                  /* a partial attribute */
    assert_int_equal(parse(key, NULL, &m), -EINVAL);
    key->nla_len += 1;                  /* a whole empty header */
    assert_int_equal(parse(key, NULL, &m), -EINVAL);    /* type 0 */
}

/* A key with mask attributes put by 'fill_mask', expected refused. */
static void
assert_mask_refused(void (*fill_key)(struct nlmsghdr *),
                    void (*fill_mask)(struct nlmsghdr *))
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *mask;
    struct flow_match m;

    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    fill_key(nlh);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    fill_mask(nlh);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), -EINVAL);
}

static void
fill_arp_key(struct nlmsghdr *nlh)
{
    struct ovs_key_arp arp = { .arp_op = htons(1), .arp_sip = 5 };

    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 3);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ARP, sizeof arp, &arp);
}

static void
fill_tcp_key(struct nlmsghdr *nlh)
{
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    put_ipv4(nlh, 1, 2, IPPROTO_TCP, 0);
    put_ports(nlh, OVS_KEY_ATTR_TCP, 1, 2);
    put_be16(nlh, OVS_KEY_ATTR_TCP_FLAGS, 0);
}

static void
mask_ipv4_on_arp(struct nlmsghdr *nlh)
{
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    put_ipv4(nlh, 0xffffffff, 0, 0, 0);
}

static void
mask_arp_without_ethertype(struct nlmsghdr *nlh)
{
    struct ovs_key_arp arp = { .arp_op = htons(0xff) };

    mnl_attr_put(nlh, OVS_KEY_ATTR_ARP, sizeof arp, &arp);
}

static void
mask_skb_mark_not_in_key(struct nlmsghdr *nlh)
{
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_SKB_MARK, 1);
}

static void
mask_tcp_without_proto(struct nlmsghdr *nlh)
{
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    put_ipv4(nlh, 0xffffffff, 0, 0, 0);
    put_ports(nlh, OVS_KEY_ATTR_TCP, 0xffff, 0);
}

static void
mask_bad_len(struct nlmsghdr *nlh)
{
    mnl_attr_put_u16(nlh, OVS_KEY_ATTR_IN_PORT, 0xffff);
}

static void
mask_encap_without_vlan(struct nlmsghdr *nlh)
{
    struct nlattr *encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);

    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    mnl_attr_nest_end(nlh, encap);
}

static void
test_mask_refusals(void **state)
{
    (void) state;
    assert_mask_refused(fill_arp_key, mask_ipv4_on_arp);
    assert_mask_refused(fill_arp_key, mask_arp_without_ethertype);
    assert_mask_refused(fill_arp_key, mask_skb_mark_not_in_key);
    assert_mask_refused(fill_arp_key, mask_bad_len);
    assert_mask_refused(fill_arp_key, mask_encap_without_vlan);
    assert_mask_refused(fill_tcp_key, mask_tcp_without_proto);
}

static void
test_in_port_and_tunnel_always_allowed_in_mask(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *mask;
    struct flow_match m;
    uint16_t types[32];
    size_t i, n;

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_nest_end(nlh, key);
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 1);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), 0);
    /* No in_port in the key: the kernel's "no port" value, matched. */
    assert_int_equal(m.key.in_port, FNL_IN_PORT_NONE);
    assert_int_equal(m.mask.in_port, UINT32_MAX);
    assert_int_equal(m.key.eth_type, htons(0x05ff));
    assert_int_equal(m.mask.eth_type, 0xffff);

    /* An 802.2 key has no EtherType; its mask has one if matched. */
    nlh = msg_init(&msg);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_KEY,
                                 &m.key, &m.key, false), 0);
    n = attr_types(mnl_nlmsg_get_payload(nlh), types, 32);
    for (i = 0; i < n; i++) {
        assert_int_not_equal(types[i], OVS_KEY_ATTR_ETHERTYPE);
        assert_int_not_equal(types[i], OVS_KEY_ATTR_IN_PORT);
    }
    nlh = msg_init(&msg);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_MASK,
                                 &m.key, &m.mask, true), 0);
    mask = mnl_nlmsg_get_payload(nlh);
    assert_non_null(find_attr(mask, OVS_KEY_ATTR_ETHERTYPE));
    assert_int_equal(mnl_attr_get_u32(find_attr(mask, OVS_KEY_ATTR_IN_PORT)),
                     UINT32_MAX);
}

static void
test_vlan_keys(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *encap, *in_encap, *mask;
    struct flow_match m;

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 2);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x88a8);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1000 | 10);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1000 | 20);
    in_encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    put_ipv4(nlh, 1, 2, IPPROTO_UDP, OVS_FRAG_TYPE_FIRST);
    put_ports(nlh, OVS_KEY_ATTR_UDP, 53, 5353);
    mnl_attr_nest_end(nlh, in_encap);
    mnl_attr_nest_end(nlh, encap);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    assert_int_equal(m.key.vlan_tpid, htons(0x88a8));
    assert_int_equal(m.key.vlan_tci, htons(0x1000 | 10));
    assert_int_equal(m.key.cvlan_tpid, htons(0x8100));
    assert_int_equal(m.key.cvlan_tci, htons(0x1000 | 20));
    assert_int_equal(m.key.eth_type, htons(0x0800));
    assert_int_equal(m.key.ip_frag, OVS_FRAG_TYPE_FIRST);
    assert_int_equal(m.key.tp_dst, htons(5353));
    assert_int_equal(m.mask.vlan_tpid, 0xffff);
    assert_int_equal(m.mask.cvlan_tci, 0xffff);
    assert_round_trip(&m);

    /* A mask that matches the outer VID only, inner tag's presence. */
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1fff);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1000);
    in_encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    mnl_attr_nest_end(nlh, in_encap);
    mnl_attr_nest_end(nlh, encap);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), 0);
    assert_int_equal(m.mask.vlan_tci, htons(0x1fff));
    assert_int_equal(m.mask.cvlan_tci, htons(0x1000));
    assert_int_equal(m.key.cvlan_tci, htons(0x1000));
    assert_int_equal(m.key.ipv4_src, 0);
    assert_round_trip(&m);
}

static void
test_vlan_mask_needs_exact_tpid(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *encap, *mask;
    struct flow_match m;

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1005);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    {
        struct ovs_key_arp arp = { .arp_op = htons(2) };

        mnl_attr_put(nlh, OVS_KEY_ATTR_ARP, sizeof arp, &arp);
    }
    mnl_attr_nest_end(nlh, encap);
    mnl_attr_nest_end(nlh, key);

    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0fff);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0x1fff);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    mnl_attr_nest_end(nlh, encap);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), -EINVAL);
}

static void
test_truncated_vlan_key(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *encap, *mask;
    struct flow_key unmasked;
    struct flow_match m;

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8100);
    put_be16(nlh, OVS_KEY_ATTR_VLAN, 0);
    encap = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_ENCAP);
    mnl_attr_nest_end(nlh, encap);
    mnl_attr_nest_end(nlh, key);
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(fnl_parse_flow(key, mask, &m, &unmasked, NULL), 0);
    assert_int_equal(unmasked.vlan_tpid, htons(0x8100));
    assert_int_equal(unmasked.vlan_tci, 0);
    assert_int_equal(unmasked.eth_type, htons(0x05ff));
    assert_int_equal(m.mask.vlan_tci, 0xffff);
}

static void
test_mpls_keys(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key;
    struct flow_match m;
    uint32_t lse[2] = { htonl(100 << 12), htonl((200 << 12) | 0x100) };

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x8847);
    mnl_attr_put(nlh, OVS_KEY_ATTR_MPLS, sizeof lse, lse);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    assert_int_equal(m.key.mpls_labels, 3);
    assert_int_equal(m.mask.mpls_labels, 3);
    assert_int_equal(m.key.mpls_lse[1], lse[1]);
    assert_int_equal(m.mask.mpls_lse[1], UINT32_MAX);
    assert_int_equal(m.mask.mpls_lse[2], 0);
    assert_round_trip(&m);
}

static void
test_ipv6_nd_keys(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *mask;
    struct flow_match m;
    struct ovs_key_ipv6 ip = {
        .ipv6_src = { htonl(0xfe800000), 0, 0, htonl(1) },
        .ipv6_proto = IPPROTO_ICMPV6, .ipv6_hlimit = 255,
        .ipv6_label = htonl(0x12345),
    };
    struct ovs_key_icmpv6 icmp = { 135, 0 };
    struct ovs_key_nd nd = { .nd_target = { htonl(0xfe800000), 0, 0, 2 },
                             .nd_sll = { 2, 0, 0, 0, 0, 1 } };

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 4);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x86dd);
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV6, sizeof ip, &ip);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ICMPV6, sizeof icmp, &icmp);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ND, sizeof nd, &nd);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    assert_int_equal(m.key.tp_src, htons(135));
    assert_memory_equal(m.key.nd_target, nd.nd_target, 16);
    assert_memory_equal(m.key.arp_sha, nd.nd_sll, 6);
    assert_int_equal(m.key.ipv6_label, htonl(0x12345));
    assert_round_trip(&m);

    /* ND in the mask needs the ICMPv6 type matched exactly. */
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    ip.ipv6_proto = 0xff;
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV6, sizeof ip, &ip);
    icmp.icmpv6_type = 0x0f;
    mnl_attr_put(nlh, OVS_KEY_ATTR_ICMPV6, sizeof icmp, &icmp);
    mnl_attr_put(nlh, OVS_KEY_ATTR_ND, sizeof nd, &nd);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), -EINVAL);
}

static void
put_geneve_tunnel(struct nlmsghdr *nlh, const uint8_t *opts, size_t len)
{
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);

    mnl_attr_put_u64(nlh, OVS_TUNNEL_KEY_ATTR_ID, htobe64(5000));
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, htonl(0xc0a80001));
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0xc0a80002));
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, 0, NULL);
    mnl_attr_put_u16(nlh, OVS_TUNNEL_KEY_ATTR_TP_DST, htons(6081));
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, len, opts);
    mnl_attr_nest_end(nlh, t);
}

static void
test_tunnel_keys(void **state)
{
    static const uint8_t opts[8] = { 0x01, 0x02, 0x80, 0x01, 1, 2, 3, 4 };
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *mask, *out;
    const struct nlattr *t;
    struct flow_match m;

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_geneve_tunnel(nlh, opts, sizeof opts);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 3);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0806);
    {
        struct ovs_key_arp arp = { .arp_op = htons(1) };

        mnl_attr_put(nlh, OVS_KEY_ATTR_ARP, sizeof arp, &arp);
    }
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    assert_int_equal(m.key.tunnel.tun_id, htobe64(5000));
    assert_int_equal(m.key.tunnel.ipv4_dst, htonl(0xc0a80002));
    assert_int_equal(m.key.tunnel.ttl, 64);
    assert_int_equal(m.key.tunnel.tp_dst, htons(6081));
    assert_int_equal(m.key.tunnel.flags, FLOW_TNL_F_KEY
                     | FLOW_TNL_F_DONT_FRAGMENT | FLOW_TNL_F_GENEVE_OPT);
    assert_int_equal(m.key.tunnel.opts_len, 8);
    assert_memory_equal(m.key.tun_opts, opts, 8);
    /* Exact: every tunnel field, even those not sent (tos, tp_src). */
    assert_int_equal(m.mask.tunnel.tos, 0xff);
    assert_int_equal(m.mask.tunnel.tp_src, 0xffff);
    assert_int_equal(m.mask.tunnel.opts_len, 0xff);
    assert_int_equal(m.mask.tunnel.flags, m.key.tunnel.flags);
    assert_int_equal(m.mask.tun_opts[7], 0xff);
    assert_round_trip(&m);

    nlh = msg_init(&msg);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_FLOW_ATTR_KEY,
                                 &m.key, &m.key, false), 0);
    out = mnl_nlmsg_get_payload(nlh);
    t = find_attr(out, OVS_KEY_ATTR_TUNNEL);
    assert_non_null(t);
    assert_non_null(find_attr(t, OVS_TUNNEL_KEY_ATTR_ID));
    assert_non_null(find_attr(t, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT));
    assert_null(find_attr(t, OVS_TUNNEL_KEY_ATTR_TOS));
    assert_null(find_attr(t, OVS_TUNNEL_KEY_ATTR_CSUM));
    assert_int_equal(mnl_attr_get_payload_len(
                         find_attr(t, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS)), 8);

    /* A mask's options must be as long as the key's. */
    nlh = msg_init(&msg);
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_geneve_tunnel(nlh, opts, sizeof opts);
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_nest_end(nlh, key);
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    put_geneve_tunnel(nlh, opts, 4);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(parse(key, mask, &m), -EINVAL);
}

static void
test_vxlan_gbp(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *t, *vx;
    struct flow_match m;

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u64(nlh, OVS_TUNNEL_KEY_ATTR_ID, htobe64(1));
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, htonl(0x0a0a0a0a));
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 1);
    vx = mnl_attr_nest_start(nlh, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS);
    mnl_attr_put_u32(nlh, OVS_VXLAN_EXT_GBP, 0x800012);
    mnl_attr_nest_end(nlh, vx);
    mnl_attr_nest_end(nlh, t);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x88b5);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    assert_int_equal(m.key.tunnel.vxlan_gbp, 0x800012);
    assert_int_equal(m.mask.tunnel.vxlan_gbp, UINT32_MAX);
    assert_true(m.key.tunnel.flags & FLOW_TNL_F_VXLAN_OPT);
    assert_round_trip(&m);
}

static void
test_ipv6_tunnel_key_put(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *t;
    struct flow_match m;
    uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    mnl_attr_put_u64(nlh, OVS_TUNNEL_KEY_ATTR_ID, 0);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, dst);
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TOS, 4);
    mnl_attr_nest_end(nlh, t);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x88b5);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(parse(key, NULL, &m), 0);
    assert_memory_equal(&m.key.tunnel.ipv6_dst, dst, 16);
    assert_round_trip(&m);
}

static void
test_packet_md(void **state)
{
    static const uint8_t opts[4] = { 0, 1, 2, 0 };
    uint8_t tun_opts[FLOW_TNL_OPTS_MAX];
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key;
    struct dp_packet_md md;
    const char *reason = NULL;
    char bad_ip[7] = { 0 };

    (void) state;
    key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_PRIORITY, 6);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_SKB_MARK, 0x42);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_RECIRC_ID, 9);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_DP_HASH, 0x77);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 2);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_CT_STATE, 0x21);   /* ignored */
    put_geneve_tunnel(nlh, opts, sizeof opts);
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_nest_end(nlh, key);
    memset(&md, 0xaa, sizeof md);
    assert_int_equal(fnl_parse_packet_md(key, &md, tun_opts, &reason), 0);
    assert_int_equal(md.in_port, 2);
    assert_int_equal(md.priority, 6);
    assert_int_equal(md.skb_mark, 0x42);
    assert_int_equal(md.recirc_id, 9);
    assert_int_equal(md.dp_hash, 0x77);
    assert_int_equal(md.tunnel.ipv4_dst, htonl(0xc0a80002));
    assert_int_equal(md.tunnel.opts_len, 4);
    assert_memory_equal(tun_opts, opts, 4);
    assert_int_equal(fnl_parse_packet_md(key, &md, NULL, &reason), 0);
    assert_int_equal(md.tunnel.opts_len, 0);

    /* No port: the kernel's "none". */
    nlh = msg_init(&msg);
    key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(fnl_parse_packet_md(key, &md, tun_opts, &reason), 0);
    assert_int_equal(md.in_port, FNL_IN_PORT_NONE);
    assert_int_equal(md.tunnel.ipv4_dst, 0);

    /* Header attributes are length-checked. */
    nlh = msg_init(&msg);
    key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    put_eth(nlh, MAC_A, MAC_B);
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV4, sizeof bad_ip, bad_ip);
    mnl_attr_nest_end(nlh, key);
    reason = NULL;
    assert_int_equal(fnl_parse_packet_md(key, &md, tun_opts, &reason),
                     -EINVAL);
    assert_non_null(reason);

    /* An EtherType without Ethernet names a layer-3 packet; with
     * Ethernet the packet is a frame. */
    nlh = msg_init(&msg);
    key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(fnl_parse_packet_md(key, &md, tun_opts, &reason), 0);
    assert_int_equal(md.l3_type, htons(0x0800));
    nlh = msg_init(&msg);
    key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0x0800);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(fnl_parse_packet_md(key, &md, tun_opts, &reason), 0);
    assert_int_equal(md.l3_type, 0);

    /* A tunnel without TTL is refused as in a flow key. */
    nlh = msg_init(&msg);
    key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
    fill_tunnel_no_ttl(nlh);
    mnl_attr_nest_end(nlh, key);
    assert_int_equal(fnl_parse_packet_md(key, &md, tun_opts, &reason),
                     -EINVAL);
}

static void
test_upcall_key_from_packet(void **state)
{
    /* An extracted key put as an upcall key parses back exactly. */
    static const uint8_t frame[] = {
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0,
        10, 0, 0, 1, 10, 0, 0, 2,
        0x13, 0x88, 0x00, 0x35, 0, 8, 0, 0,
    };
    struct dp_packet *p = dp_packet_copy_from(frame, sizeof frame, 0);
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct flow_key k;
    struct flow_match m;

    (void) state;
    assert_non_null(p);
    p->md.in_port = 5;
    flow_extract(p, &k);
    dp_packet_free(p);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_PACKET_ATTR_KEY,
                                 &k, &k, false), 0);
    assert_int_equal(parse(mnl_nlmsg_get_payload(nlh), NULL, &m), 0);
    assert_memory_equal(&m.key, &k, sizeof k);
}

/* recirc_id(7),in_port(1),eth_type(0x0800),ipv4(...),icmp(8,0): the key
 * of an IPv4 packet without Ethernet header (packet_type(ns=1,id=0x800)
 * as Open vSwitch writes it, which dpif-netlink sends this way). */
static struct nlattr *
put_l3_key(struct nlmsghdr *nlh, uint16_t type, bool is_mask)
{
    struct nlattr *nest = mnl_attr_nest_start(nlh, type);
    struct ovs_key_icmp icmp = { is_mask ? 0xff : 8, is_mask ? 0xff : 0 };

    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_RECIRC_ID, is_mask ? ~0u : 7);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, is_mask ? ~0u : 1);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, is_mask ? 0xffff : 0x0800);
    if (is_mask) {
        put_ipv4_ttl(nlh, 0, 0xffffffff, 0xff, 0, 0xff);
    } else {
        put_ipv4(nlh, 0x0a000001, 0x0a000002, IPPROTO_ICMP, 0);
    }
    mnl_attr_put(nlh, OVS_KEY_ATTR_ICMP, sizeof icmp, &icmp);
    mnl_attr_nest_end(nlh, nest);
    return nest;
}

static bool
has_attr(const struct nlattr *nest, uint16_t type)
{
    const struct nlattr *a;

    mnl_attr_for_each_nested(a, nest) {
        if (mnl_attr_get_type(a) == type) {
            return true;
        }
    }
    return false;
}

static void
test_layer3_key(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct flow_match m;

    (void) state;
    struct nlattr *k = put_l3_key(nlh, OVS_FLOW_ATTR_KEY, false);
    struct nlattr *mk = put_l3_key(nlh, OVS_FLOW_ATTR_MASK, true);
    assert_int_equal(parse(k, mk, &m), 0);
    assert_int_equal(m.key.no_eth, 1);
    assert_int_equal(m.mask.no_eth, 0xff);
    assert_int_equal(m.key.eth_type, htons(0x0800));
    assert_int_equal(m.mask.eth_type, 0xffff);
    assert_int_equal(m.key.recirc_id, 7);
    assert_int_equal(m.key.ipv4_dst, htonl(0x0a000002));
    assert_int_equal(m.key.ipv4_src, 0);            /* masked out */
    assert_int_equal(m.key.tp_src, htons(8));
    assert_round_trip(&m);

    /* Dumped, it has an EtherType and no Ethernet attribute. */
    struct msg out;
    struct nlmsghdr *o = msg_init(&out);
    assert_int_equal(fnl_put_key(o, sizeof out.buf, OVS_FLOW_ATTR_KEY,
                                 &m.key, &m.key, false), 0);
    const struct nlattr *ok = mnl_nlmsg_get_payload(o);
    assert_true(has_attr(ok, OVS_KEY_ATTR_ETHERTYPE));
    assert_true(has_attr(ok, OVS_KEY_ATTR_IPV4));
    assert_false(has_attr(ok, OVS_KEY_ATTR_ETHERNET));

    /* An Ethernet frame's mask never matches a layer-3 packet: every mask
     * matches no_eth. */
    nlh = msg_init(&msg);
    k = put_tcp_key(nlh, OVS_FLOW_ATTR_KEY);
    assert_int_equal(parse(k, NULL, &m), 0);
    assert_int_equal(m.key.no_eth, 0);
    assert_int_equal(m.mask.no_eth, 0xff);

    /* A mask with Ethernet addresses for a layer-3 key is refused. */
    nlh = msg_init(&msg);
    k = put_l3_key(nlh, OVS_FLOW_ATTR_KEY, false);
    mk = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    put_eth(nlh, MAC_A, MAC_B);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    mnl_attr_nest_end(nlh, mk);
    assert_int_equal(parse(k, mk, &m), -EINVAL);
}

static void
test_nsh_key(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct flow_match m;

    (void) state;
    struct nlattr *k = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_nsh_key(nlh, 1, true, 0);
    mnl_attr_nest_end(nlh, k);
    assert_int_equal(parse(k, NULL, &m), 0);
    assert_int_equal(m.key.eth_type, htons(0x894f));
    assert_int_equal(m.key.nsh.mdtype, 1);
    assert_int_equal(m.key.nsh.np, 3);
    assert_int_equal(m.key.nsh.ttl, 63);
    assert_int_equal(m.key.nsh.path_hdr, htonl(0x1234ff));
    assert_int_equal(m.key.nsh.context[0], htonl(0x11223344));
    assert_int_equal(m.key.nsh.context[3], 4);
    assert_int_equal(m.mask.nsh.path_hdr, 0xffffffff);
    assert_round_trip(&m);

    /* A mask that matches only the port and the SPI. */
    nlh = msg_init(&msg);
    k = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_nsh_key(nlh, 1, true, 0);
    mnl_attr_nest_end(nlh, k);
    struct nlattr *mk = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    put_eth(nlh, MAC_A, MAC_A);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    struct nlattr *n = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_NSH);
    struct ovs_nsh_key_base b = { .path_hdr = htonl(0xffffff00) };
    mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_BASE, sizeof b, &b);
    mnl_attr_nest_end(nlh, n);
    mnl_attr_nest_end(nlh, mk);
    assert_int_equal(parse(k, mk, &m), 0);
    assert_int_equal(m.key.nsh.path_hdr, htonl(0x123400));
    assert_int_equal(m.key.nsh.ttl, 0);
    assert_int_equal(m.key.nsh.context[0], 0);
    assert_round_trip(&m);

    /* A type-2 key dumps no MD1. */
    nlh = msg_init(&msg);
    k = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
    put_nsh_key(nlh, 2, false, 0);
    mnl_attr_nest_end(nlh, k);
    assert_int_equal(parse(k, NULL, &m), 0);
    struct msg out;
    struct nlmsghdr *o = msg_init(&out);
    assert_int_equal(fnl_put_key(o, sizeof out.buf, OVS_FLOW_ATTR_KEY,
                                 &m.key, &m.key, false), 0);
    const struct nlattr *a, *nsh = NULL;
    mnl_attr_for_each_nested(a, (const struct nlattr *)
                             mnl_nlmsg_get_payload(o)) {
        if (mnl_attr_get_type(a) == OVS_KEY_ATTR_NSH) {
            nsh = a;
        }
    }
    assert_non_null(nsh);
    assert_true(has_attr(nsh, OVS_NSH_KEY_ATTR_BASE));
    assert_false(has_attr(nsh, OVS_NSH_KEY_ATTR_MD1));

    /* push_nsh's form: MD2 allowed there, base and metadata required. */
    struct flow_nsh fn;
    const uint8_t *md2 = NULL;
    size_t md2_len = 0;
    const char *why;
    nlh = msg_init(&msg);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_PUSH_NSH);
    struct ovs_nsh_key_base b2 = { .mdtype = 2, .ttl = 5 };
    mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_BASE, sizeof b2, &b2);
    mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_MD2, 8, "abcdefgh");
    mnl_attr_nest_end(nlh, n);
    assert_int_equal(fnl_parse_nsh(n, false, true, &fn, &md2, &md2_len,
                                   &why), 0);
    assert_int_equal(md2_len, 8);
    assert_memory_equal(md2, "abcdefgh", 8);
    assert_int_equal(fn.ttl, 5);
    assert_int_equal(fnl_parse_nsh(n, false, false, &fn, NULL, NULL, &why),
                     -EINVAL);
    nlh = msg_init(&msg);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_PUSH_NSH);
    mnl_attr_put(nlh, OVS_NSH_KEY_ATTR_BASE, sizeof b2, &b2);
    mnl_attr_nest_end(nlh, n);
    assert_int_equal(fnl_parse_nsh(n, false, true, &fn, NULL, NULL, &why),
                     -EINVAL);
}

static void
test_layer3_upcall_key(void **state)
{
    /* An IPv4 packet without Ethernet (after pop_eth and recirc): its
     * extracted key puts and parses back exactly. */
    static const uint8_t pkt[] = {
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0,
        10, 0, 0, 1, 10, 0, 0, 2,
        8, 0, 0, 0, 0, 0, 0, 0,
    };
    struct dp_packet *p = dp_packet_copy_from(pkt, sizeof pkt, 0);
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct flow_key k;
    struct flow_match m;

    (void) state;
    assert_non_null(p);
    p->md.in_port = 5;
    p->md.l3_type = htons(0x0800);
    flow_extract(p, &k);
    dp_packet_free(p);
    assert_int_equal(k.no_eth, 1);
    assert_int_equal(fnl_put_key(nlh, sizeof msg.buf, OVS_PACKET_ATTR_KEY,
                                 &k, &k, false), 0);
    assert_false(has_attr(mnl_nlmsg_get_payload(nlh),
                          OVS_KEY_ATTR_ETHERNET));
    assert_int_equal(parse(mnl_nlmsg_get_payload(nlh), NULL, &m), 0);
    assert_memory_equal(&m.key, &k, sizeof k);
}

static void
test_ufid(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    uint8_t id[FNL_UFID_MAX], buf[17];
    struct nlattr *a;

    (void) state;
    memset(buf, 0x5a, sizeof buf);
    a = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    mnl_attr_put(nlh, OVS_FLOW_ATTR_UFID, 16, buf);
    assert_int_equal(fnl_get_ufid(a, id), 16);
    assert_int_equal(id[15], 0x5a);
    a = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    mnl_attr_put(nlh, OVS_FLOW_ATTR_UFID, 17, buf);
    assert_int_equal(fnl_get_ufid(a, id), 0);
    a = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    mnl_attr_put(nlh, OVS_FLOW_ATTR_UFID, 0, NULL);
    assert_int_equal(fnl_get_ufid(a, id), 0);
    assert_int_equal(fnl_get_ufid(NULL, id), 0);
}

static void
test_unmasked_key(void **state)
{
    struct msg msg;
    struct nlmsghdr *nlh = msg_init(&msg);
    struct nlattr *key, *mask;
    struct flow_match m;
    struct flow_key unmasked;

    (void) state;
    key = put_tcp_key(nlh, OVS_FLOW_ATTR_KEY);
    mask = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_MASK);
    put_be16(nlh, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    mnl_attr_nest_end(nlh, mask);
    assert_int_equal(fnl_parse_flow(key, mask, &m, &unmasked, NULL), 0);
    assert_int_equal(unmasked.ipv4_src, htonl(0x0a000001));
    assert_int_equal(m.key.ipv4_src, 0);
    assert_int_equal(m.key.eth_type, htons(0x0800));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match_without_mask),
        cmocka_unit_test(test_wildcarded_mask_and_dump_layout),
        cmocka_unit_test(test_put_no_space),
        cmocka_unit_test(test_key_refusals),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_mask_refusals),
        cmocka_unit_test(test_in_port_and_tunnel_always_allowed_in_mask),
        cmocka_unit_test(test_vlan_keys),
        cmocka_unit_test(test_vlan_mask_needs_exact_tpid),
        cmocka_unit_test(test_truncated_vlan_key),
        cmocka_unit_test(test_mpls_keys),
        cmocka_unit_test(test_ipv6_nd_keys),
        cmocka_unit_test(test_tunnel_keys),
        cmocka_unit_test(test_vxlan_gbp),
        cmocka_unit_test(test_ipv6_tunnel_key_put),
        cmocka_unit_test(test_packet_md),
        cmocka_unit_test(test_upcall_key_from_packet),
        cmocka_unit_test(test_ufid),
        cmocka_unit_test(test_layer3_key),
        cmocka_unit_test(test_nsh_key),
        cmocka_unit_test(test_layer3_upcall_key),
        cmocka_unit_test(test_unmasked_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
