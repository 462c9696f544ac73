/* Unit tests for lib/odp-format.c.  Every expected string was printed by
 * Debian's ovs-dpctl 3.1 (`ovs-dpctl dump-flows [-m]`) for the same flow
 * installed in hvs-dpd, except where a comment says it comes from Open
 * vSwitch's source because ovs-dpctl cannot install that shape. */
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

#include "dpif.h"
#include "flow-netlink.h"
#include "odp-format.h"

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t MAC1[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC2[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint32_t
ip(const char *s)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr;
}

static void
ip6(const char *s, uint8_t out[16])
{
    assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

/* A match on 'in_port' and an Ethernet frame of 'eth_type': what every
 * ovs-dpctl flow below starts with ("in_port(N),eth(),eth_type(X)"). */
static void
match_init(struct flow_key *k, struct flow_key *m, uint32_t in_port,
           uint16_t eth_type)
{
    memset(k, 0, sizeof *k);
    memset(m, 0, sizeof *m);
    k->in_port = in_port;
    m->in_port = UINT32_MAX;
    k->eth_type = htons(eth_type);
    m->eth_type = 0xffff;
}

static void
ipv4_frag_no(struct flow_key *m)
{
    m->ip_frag = 0xff;
}

/* Formats the match and checks the text. */
static void
check_match(const struct flow_key *k, const struct flow_key *m,
            const struct odp_format_opts *o, const char *expected)
{
    struct odp_buf b = { 0 };
    assert_int_equal(odp_format_match(&b, k, m, o), 0);
    assert_string_equal(odp_buf_cstr(&b), expected);
    assert_false(b.oom);
    odp_buf_free(&b);
}

static const struct odp_format_opts VERBOSE = { .verbose = true };

static const char *
names(uint32_t port, void *aux)
{
    (void) aux;
    static const char *const n[] = { "dp0", "hvt43050v1", "hvt43050v2" };
    return port < 3 ? n[port] : NULL;
}

static const struct odp_format_opts VERBOSE_NAMES = {
    .verbose = true, .port_name = names,
};

/* An attribute stream built with libmnl; 'payload' is what follows the
 * message header. */
struct attrs {
    union {
        char buf[4096];
        struct nlmsghdr align;
    };
    struct nlmsghdr *nlh;
};

static struct nlmsghdr *
attrs_init(struct attrs *a)
{
    memset(a->buf, 0, sizeof a->buf);
    a->nlh = mnl_nlmsg_put_header(a->buf);
    return a->nlh;
}

static const void *
attrs_data(const struct attrs *a)
{
    return mnl_nlmsg_get_payload(a->nlh);
}

static size_t
attrs_len(const struct attrs *a)
{
    return mnl_nlmsg_get_payload_len(a->nlh);
}

static void
check_actions(const struct attrs *a, const struct odp_format_opts *o,
              const char *expected)
{
    struct odp_buf b = { 0 };
    odp_format_actions(&b, attrs_data(a), attrs_len(a), o);
    assert_string_equal(odp_buf_cstr(&b), expected);
    odp_buf_free(&b);
}

/* ---- keys --------------------------------------------------------------- */

static void
test_arp(void **state)
{
    struct flow_key k, m;
    (void) state;

    match_init(&k, &m, 1, 0x0806);
    memcpy(k.eth_src, MAC1, 6);
    memcpy(k.eth_dst, BCAST, 6);
    memset(m.eth_src, 0xff, 6);
    memset(m.eth_dst, 0xff, 6);
    k.ipv4_src = ip("10.0.0.1");
    k.ipv4_dst = ip("10.0.0.2");
    m.ipv4_src = m.ipv4_dst = UINT32_MAX;
    k.ip_proto = 1;             /* the opcode, 8 bits wide as in Linux */
    m.ip_proto = 0xff;
    memcpy(k.arp_sha, MAC1, 6);
    memset(m.arp_sha, 0xff, 6);
    memset(m.arp_tha, 0xff, 6);

    /* "op=1/0xff": the datapath keeps 8 bits of the opcode. */
    check_match(&k, &m, NULL,
                "in_port(1),eth(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),"
                "eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1/0xff,"
                "sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v1),skb_mark(0/0),"
                "eth(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),"
                "eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1/0xff,"
                "sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)");

    /* Partial masks; a wildcarded Ethernet header still shows as eth(). */
    match_init(&k, &m, 2, 0x0806);
    k.ipv4_dst = ip("10.0.0.0");
    m.ipv4_dst = ip("255.255.255.0");
    k.ip_proto = 2;
    m.ip_proto = 0xff;
    check_match(&k, &m, NULL,
                "in_port(2),eth(),eth_type(0x0806),"
                "arp(tip=10.0.0.0/255.255.255.0,op=2/0xff)");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v2),skb_mark(0/0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x0806),"
                "arp(sip=0.0.0.0/0.0.0.0,tip=10.0.0.0/255.255.255.0,"
                "op=2/0xff,sha=00:00:00:00:00:00/00:00:00:00:00:00,"
                "tha=00:00:00:00:00:00/00:00:00:00:00:00)");

    /* An ARP key whose mask is all zero is left out entirely. */
    match_init(&k, &m, 1, 0x0806);
    check_match(&k, &m, NULL, "in_port(1),eth(),eth_type(0x0806)");
}

static void
test_ipv4_l4(void **state)
{
    struct flow_key k, m;
    (void) state;

    match_init(&k, &m, 1, 0x0800);
    memcpy(k.eth_src, MAC1, 6);
    memcpy(k.eth_dst, MAC2, 6);
    memset(m.eth_src, 0xff, 6);
    memset(m.eth_dst, 0xff, 6);
    k.ipv4_src = ip("10.0.0.1");
    k.ipv4_dst = ip("10.0.0.2");
    m.ipv4_src = m.ipv4_dst = UINT32_MAX;
    k.ip_proto = 6;
    k.ip_ttl = 64;
    m.ip_proto = m.ip_tos = m.ip_ttl = 0xff;
    ipv4_frag_no(&m);
    k.tp_src = htons(80);
    m.tp_src = 0xffff;
    k.tp_dst = htons(256);
    m.tp_dst = htons(0xff00);
    k.tcp_flags = htons(0x12);
    m.tcp_flags = htons(0x0fff);
    check_match(&k, &m, NULL,
                "in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),"
                "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,"
                "tos=0,ttl=64,frag=no),tcp(src=80,dst=256/0xff00),"
                "tcp_flags(syn|ack)");

    /* Masked TCP flags print as +set-clear. */
    match_init(&k, &m, 1, 0x0800);
    k.ip_proto = 6;
    m.ip_proto = 0xff;
    ipv4_frag_no(&m);
    k.tp_dst = htons(22);
    m.tp_dst = 0xffff;
    k.tcp_flags = htons(0x02);
    m.tcp_flags = htons(0x12);
    check_match(&k, &m, NULL,
                "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),"
                "tcp(dst=22),tcp_flags(+syn-ack)");

    /* UDP with a source prefix. */
    match_init(&k, &m, 1, 0x0800);
    k.ipv4_src = ip("192.168.0.0");
    m.ipv4_src = ip("255.255.0.0");
    k.ip_proto = 17;
    m.ip_proto = 0xff;
    k.ip_tos = 0x10;
    m.ip_tos = 0xfc;
    k.ip_ttl = 64;
    m.ip_ttl = 0xff;
    k.tp_src = htons(68);
    k.tp_dst = htons(67);
    m.tp_src = m.tp_dst = 0xffff;
    check_match(&k, &m, NULL,
                "in_port(1),eth(),eth_type(0x0800),"
                "ipv4(src=192.168.0.0/255.255.0.0,proto=17,tos=0x10/0xfc,"
                "ttl=64),udp(src=68,dst=67)");
    check_match(&k, &m, &VERBOSE,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),in_port(1),"
                "skb_mark(0/0),eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x0800),"
                "ipv4(src=192.168.0.0/255.255.0.0,dst=0.0.0.0/0.0.0.0,"
                "proto=17,tos=0x10/0xfc,ttl=64),udp(src=68,dst=67)");

    /* ICMP: type and code. */
    match_init(&k, &m, 2, 0x0800);
    k.ip_proto = 1;
    m.ip_proto = 0xff;
    ipv4_frag_no(&m);
    k.tp_src = htons(3);
    m.tp_src = htons(0xff);
    check_match(&k, &m, NULL,
                "in_port(2),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),"
                "icmp(type=3)");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v2),skb_mark(0/0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x0800),"
                "ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=1,"
                "tos=0/0,ttl=0/0,frag=no),icmp(type=3,code=0/0)");

    /* SCTP and an exact source MAC. */
    match_init(&k, &m, 2, 0x0800);
    memcpy(k.eth_src, MAC2, 6);
    k.eth_src[5] = 0x09;
    memset(m.eth_src, 0xff, 6);
    k.ip_proto = 132;
    m.ip_proto = 0xff;
    ipv4_frag_no(&m);
    k.tp_dst = htons(9);
    m.tp_dst = 0xffff;
    check_match(&k, &m, NULL,
                "in_port(2),eth(src=02:00:00:00:00:09),eth_type(0x0800),"
                "ipv4(proto=132,frag=no),sctp(dst=9)");

    /* A later fragment has no L4 attribute. */
    match_init(&k, &m, 1, 0x0800);
    k.ip_frag = OVS_FRAG_TYPE_LATER;
    ipv4_frag_no(&m);
    k.eth_dst[0] = 1;
    m.eth_dst[0] = 1;
    check_match(&k, &m, NULL,
                "in_port(1),eth(dst=01:00:00:00:00:00/01:00:00:00:00:00),"
                "eth_type(0x0800),ipv4(frag=later)");
}

static void
test_ipv6(void **state)
{
    struct flow_key k, m;
    (void) state;

    match_init(&k, &m, 1, 0x86dd);
    ip6("fe80::1", k.ipv6_src);
    memset(m.ipv6_src, 0xff, 16);
    ip6("fe80::", k.ipv6_dst);
    ip6("ffff:ffff::", m.ipv6_dst);
    k.ipv6_label = htonl(0x12345);
    m.ipv6_label = htonl(0xfffff);
    k.ip_proto = 6;
    k.ip_tos = 0x10;
    k.ip_ttl = 64;
    m.ip_proto = m.ip_tos = m.ip_ttl = m.ip_frag = 0xff;
    k.tp_dst = htons(22);
    m.tp_dst = 0xffff;
    check_match(&k, &m, NULL,
                "in_port(1),eth(),eth_type(0x86dd),ipv6(src=fe80::1,"
                "dst=fe80::/ffff:ffff::,label=0x12345,proto=6,tclass=0x10,"
                "hlimit=64,frag=no),tcp(dst=22)");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v1),skb_mark(0/0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x86dd),"
                "ipv6(src=fe80::1,dst=fe80::/ffff:ffff::,label=0x12345,"
                "proto=6,tclass=0x10,hlimit=64,frag=no),tcp(src=0/0,dst=22),"
                "tcp_flags(0/0)");

    /* Neighbour discovery. */
    match_init(&k, &m, 1, 0x86dd);
    k.ip_proto = 58;
    m.ip_proto = m.ip_frag = 0xff;
    k.tp_src = htons(135);
    m.tp_src = m.tp_dst = htons(0xff);
    ip6("fe80::1", k.nd_target);
    memset(m.nd_target, 0xff, 16);
    memcpy(k.arp_sha, MAC1, 6);
    memset(m.arp_sha, 0xff, 6);
    check_match(&k, &m, NULL,
                "in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),"
                "icmpv6(type=135,code=0),nd(target=fe80::1,"
                "sll=02:00:00:00:00:01)");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v1),skb_mark(0/0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x86dd),"
                "ipv6(src=::/::,dst=::/::,label=0/0,proto=58,tclass=0/0,"
                "hlimit=0/0,frag=no),icmpv6(type=135,code=0),"
                "nd(target=fe80::1,sll=02:00:00:00:00:01,"
                "tll=00:00:00:00:00:00/00:00:00:00:00:00)");

    m.tp_dst = 0;
    k.tp_src = htons(136);
    memset(k.nd_target, 0, 16);
    memset(m.nd_target, 0, 16);
    memset(k.arp_sha, 0, 6);
    memset(m.arp_sha, 0, 6);
    memcpy(k.arp_tha, MAC2, 6);
    memset(m.arp_tha, 0xff, 6);
    check_match(&k, &m, NULL,
                "in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),"
                "icmpv6(type=136),nd(tll=02:00:00:00:00:02)");
}

static void
test_vlan_mpls(void **state)
{
    struct flow_key k, m;
    (void) state;

    match_init(&k, &m, 1, 0x0800);
    k.vlan_tpid = htons(0x8100);
    m.vlan_tpid = 0xffff;
    k.vlan_tci = htons(0x1000 | 3 << 13 | 10);
    m.vlan_tci = 0xffff;
    ipv4_frag_no(&m);
    check_match(&k, &m, NULL,
                "in_port(1),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),"
                "encap(eth_type(0x0800),ipv4(frag=no))");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v1),skb_mark(0/0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x8100),"
                "vlan(vid=10,pcp=3),encap(eth_type(0x0800),"
                "ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=0/0,"
                "tos=0/0,ttl=0/0,frag=no))");

    /* 802.1ad outside 802.1Q; the PCPs are wildcarded. */
    match_init(&k, &m, 2, 0x0800);
    k.vlan_tpid = htons(0x88a8);
    k.vlan_tci = htons(0x1000 | 100);
    k.cvlan_tpid = htons(0x8100);
    k.cvlan_tci = htons(0x1000 | 10);
    m.vlan_tpid = m.cvlan_tpid = 0xffff;
    m.vlan_tci = m.cvlan_tci = htons(0x1fff);
    k.ip_proto = 17;
    m.ip_proto = m.ip_frag = 0xff;
    k.tp_dst = htons(4789);
    m.tp_dst = 0xffff;
    check_match(&k, &m, NULL,
                "in_port(2),eth(),eth_type(0x88a8),vlan(vid=100),"
                "encap(eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),"
                "ipv4(proto=17,frag=no),udp(dst=4789)))");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                "in_port(hvt43050v2),skb_mark(0/0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x88a8),"
                "vlan(vid=100,pcp=0/0x0),encap(eth_type(0x8100),"
                "vlan(vid=10,pcp=0/0x0),encap(eth_type(0x0800),"
                "ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=17,"
                "tos=0/0,ttl=0/0,frag=no),udp(src=0/0,dst=4789)))");

    /* MPLS, one label. */
    match_init(&k, &m, 2, 0x8847);
    k.mpls_labels = m.mpls_labels = 1;
    k.mpls_lse[0] = htonl(101 << 12 | 3 << 9 | 1 << 8 | 64);
    m.mpls_lse[0] = UINT32_MAX;
    check_match(&k, &m, NULL,
                "in_port(2),eth(),eth_type(0x8847),"
                "mpls(label=101,tc=3,ttl=64,bos=1)");
    /* A partial label mask (Open vSwitch's format_mpls()). */
    m.mpls_lse[0] = htonl(0xfffff000);
    check_match(&k, &m, NULL,
                "in_port(2),eth(),eth_type(0x8847),"
                "mpls(label=101/0xfffff,tc=3/0,ttl=64/0x0,bos=1/0)");
}

static void
test_metadata(void **state)
{
    struct flow_key k, m;
    (void) state;

    match_init(&k, &m, 1, 0x0800);
    k.recirc_id = 5;
    m.recirc_id = UINT32_MAX;
    k.dp_hash = 0x12;
    m.dp_hash = 0xff;
    k.priority = 7;
    m.priority = UINT32_MAX;
    k.skb_mark = 0x10;
    m.skb_mark = 0xf0;
    k.ip_frag = OVS_FRAG_TYPE_FIRST;
    ipv4_frag_no(&m);
    check_match(&k, &m, NULL,
                "recirc_id(0x5),dp_hash(0x12/0xff),skb_priority(0x7),"
                "in_port(1),skb_mark(0x10/0xf0),eth(),eth_type(0x0800),"
                "ipv4(frag=first)");
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0x5),dp_hash(0x12/0xff),skb_priority(0x7),"
                "in_port(hvt43050v1),skb_mark(0x10/0xf0),"
                "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x0800),"
                "ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=0/0,"
                "tos=0/0,ttl=0/0,frag=first)");

    /* A port without a name prints as its number, even with names on. */
    match_init(&k, &m, 7, 0x1234);
    check_match(&k, &m, &VERBOSE_NAMES,
                "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),in_port(7),"
                "skb_mark(0/0),eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                "dst=00:00:00:00:00:00/00:00:00:00:00:00),eth_type(0x1234)");
    check_match(&k, &m, NULL, "in_port(7),eth(),eth_type(0x1234)");
}

static void
test_tunnel(void **state)
{
    struct flow_key k, m;
    (void) state;

    match_init(&k, &m, 3, 0x0800);
    ipv4_frag_no(&m);
    k.tunnel.tun_id = htobe64(5);
    m.tunnel.tun_id = UINT64_MAX;
    k.tunnel.ipv4_src = ip("1.1.1.1");
    k.tunnel.ipv4_dst = ip("2.2.2.2");
    m.tunnel.ipv4_src = m.tunnel.ipv4_dst = UINT32_MAX;
    k.tunnel.ttl = 64;
    m.tunnel.ttl = 0xff;
    k.tunnel.flags = FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM;
    m.tunnel.flags = FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM
                     | FLOW_TNL_F_DONT_FRAGMENT;
    const char *exp = "tunnel(tun_id=0x5,src=1.1.1.1,dst=2.2.2.2,ttl=64,"
                      "flags(-df+csum+key)),in_port(3),eth(),"
                      "eth_type(0x0800),ipv4(frag=no)";
    check_match(&k, &m, NULL, exp);

    /* VXLAN group policy. */
    k.tunnel.tun_id = htobe64(9);
    k.tunnel.flags = FLOW_TNL_F_KEY | FLOW_TNL_F_VXLAN_OPT;
    m.tunnel.flags = FLOW_TNL_F_KEY | FLOW_TNL_F_VXLAN_OPT;
    k.tunnel.vxlan_gbp = 10 | 1 << 16;
    m.tunnel.vxlan_gbp = 0xffffff;
    check_match(&k, &m, NULL,
                "tunnel(tun_id=0x9,src=1.1.1.1,dst=2.2.2.2,ttl=64,"
                "vxlan(gbp(id=10,flags=0x1)),flags(+key)),in_port(3),eth(),"
                "eth_type(0x0800),ipv4(frag=no)");

    /* Geneve with a partially matched option, a partial tunnel id and no
     * source address. */
    static const uint8_t opt[8] = { 0x01, 0x02, 0x80, 0x01,
                                    0x0a, 0x0b, 0x00, 0x00 };
    static const uint8_t opt_m[8] = { 0xff, 0xff, 0xff, 0x1f,
                                      0xff, 0xff, 0x00, 0x00 };
    k.tunnel.tun_id = htobe64(8);
    m.tunnel.tun_id = htobe64(0xff);
    k.tunnel.ipv4_src = m.tunnel.ipv4_src = 0;
    k.tunnel.vxlan_gbp = m.tunnel.vxlan_gbp = 0;
    k.tunnel.flags = FLOW_TNL_F_KEY | FLOW_TNL_F_GENEVE_OPT;
    m.tunnel.flags = FLOW_TNL_F_KEY | FLOW_TNL_F_GENEVE_OPT;
    k.tunnel.opts_len = m.tunnel.opts_len = 8;
    memcpy(k.tun_opts, opt, 8);
    memcpy(m.tun_opts, opt_m, 8);
    check_match(&k, &m, NULL,
                "tunnel(tun_id=0x8/0xff,dst=2.2.2.2,ttl=64,geneve({"
                "class=0x102,type=0x80,len=4,0xa0b0000/0xffff0000}),"
                "flags(+key)),in_port(3),eth(),eth_type(0x0800),"
                "ipv4(frag=no)");
}

/* Keys as raw attributes, for what lib/dpif cannot hand over. */
static void
test_key_attrs(void **state)
{
    struct attrs ka, ma;
    struct nlmsghdr *k = attrs_init(&ka), *m = attrs_init(&ma);
    struct ovs_key_ethernet eth;
    struct odp_buf b = { 0 };
    (void) state;

    /* A wildcarded in_port, as hvs-dpd and the kernel dump it. */
    memset(&eth, 0, sizeof eth);
    mnl_attr_put_u32(k, OVS_KEY_ATTR_RECIRC_ID, 0);
    mnl_attr_put_u32(m, OVS_KEY_ATTR_RECIRC_ID, 0);
    mnl_attr_put_u32(k, OVS_KEY_ATTR_IN_PORT, 0);
    mnl_attr_put_u32(m, OVS_KEY_ATTR_IN_PORT, 0xffff0000);
    mnl_attr_put(k, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth);
    mnl_attr_put(m, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth);
    mnl_attr_put_u16(k, OVS_KEY_ATTR_ETHERTYPE, 0);
    mnl_attr_put_u16(m, OVS_KEY_ATTR_ETHERTYPE, 0);
    odp_format_key_attrs(&b, attrs_data(&ka), attrs_len(&ka),
                         attrs_data(&ma), attrs_len(&ma), NULL);
    assert_string_equal(odp_buf_cstr(&b), "in_port(0/0xffff0000),eth()");
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, attrs_data(&ka), attrs_len(&ka),
                         attrs_data(&ma), attrs_len(&ma), &VERBOSE);
    assert_string_equal(odp_buf_cstr(&b),
                        "recirc_id(0/0),in_port(0/0xffff0000),"
                        "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                        "dst=00:00:00:00:00:00/00:00:00:00:00:00),"
                        "eth_type(0x0000/0x0000)");

    /* Without a mask every field is exact. */
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, attrs_data(&ka), attrs_len(&ka), NULL, 0, NULL);
    assert_string_equal(odp_buf_cstr(&b),
                        "recirc_id(0),in_port(0),eth(src=00:00:00:00:00:00,"
                        "dst=00:00:00:00:00:00),eth_type(0x0000)");

    /* An 802.2 frame: no EtherType in the key, one in the mask (Open
     * vSwitch's odp_flow_format()). */
    k = attrs_init(&ka);
    m = attrs_init(&ma);
    mnl_attr_put_u32(k, OVS_KEY_ATTR_IN_PORT, 1);
    mnl_attr_put_u32(m, OVS_KEY_ATTR_IN_PORT, UINT32_MAX);
    mnl_attr_put(k, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth);
    mnl_attr_put(m, OVS_KEY_ATTR_ETHERNET, sizeof eth, &eth);
    mnl_attr_put_u16(m, OVS_KEY_ATTR_ETHERTYPE, 0xffff);
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, attrs_data(&ka), attrs_len(&ka),
                         attrs_data(&ma), attrs_len(&ma), NULL);
    assert_string_equal(odp_buf_cstr(&b),
                        "in_port(1),eth(),eth_type(0/0xffff)");

    /* Damaged input: an empty key, bytes after the last attribute, an
     * attribute of the wrong length. */
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, "", 0, NULL, 0, NULL);
    assert_string_equal(odp_buf_cstr(&b), "<empty>");
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, attrs_data(&ka), attrs_len(&ka) + 2, NULL, 0,
                         NULL);
    assert_non_null(strstr(odp_buf_cstr(&b), ",***2 leftover bytes*** ("));
    k = attrs_init(&ka);
    mnl_attr_put_u16(k, OVS_KEY_ATTR_IN_PORT, 1);
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, attrs_data(&ka), attrs_len(&ka), NULL, 0, NULL);
    assert_string_equal(odp_buf_cstr(&b),
                        "in_port(bad length 2, expected 4)");
    /* The same without its padding: nothing is read past the end (found
     * by fuzzing). */
    odp_buf_clear(&b);
    odp_format_key_attrs(&b, attrs_data(&ka), 6, NULL, 0, NULL);
    assert_string_equal(odp_buf_cstr(&b),
                        "in_port(bad length 2, expected 4)");
    odp_buf_free(&b);
}

/* ---- actions ------------------------------------------------------------ */

static void
put_cookie(struct nlmsghdr *nlh, uint32_t pid, const uint8_t *cookie,
           size_t len, int tun_port, bool actions)
{
    struct nlattr *n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_put_u32(nlh, OVS_USERSPACE_ATTR_PID, pid);
    if (cookie) {
        mnl_attr_put(nlh, OVS_USERSPACE_ATTR_USERDATA, len, cookie);
    }
    if (actions) {
        mnl_attr_put(nlh, OVS_USERSPACE_ATTR_ACTIONS, 0, NULL);
    }
    if (tun_port >= 0) {
        mnl_attr_put_u32(nlh, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT,
                         (uint32_t) tun_port);
    }
    mnl_attr_nest_end(nlh, n);
}

static void
test_output_set_vlan(void **state)
{
    struct attrs a;
    struct nlmsghdr *nlh;
    (void) state;

    /* No actions at all. */
    nlh = attrs_init(&a);
    check_actions(&a, NULL, "drop");

    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    check_actions(&a, NULL, "1,2");
    check_actions(&a, &VERBOSE_NAMES, "hvt43050v1,hvt43050v2");

    /* set(): every field; set_masked: the masked ones. */
    nlh = attrs_init(&a);
    struct ovs_key_ipv4 v4 = {
        .ipv4_src = ip("1.2.3.4"), .ipv4_dst = ip("5.6.7.8"),
        .ipv4_proto = 1, .ipv4_ttl = 63,
    };
    struct nlattr *n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SET);
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV4, sizeof v4, &v4);
    mnl_attr_nest_end(nlh, n);
    struct ovs_key_ipv4 vm[2] = {
        { .ipv4_src = ip("1.2.3.4") }, { .ipv4_src = UINT32_MAX },
    };
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SET_MASKED);
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV4, sizeof vm, vm);
    mnl_attr_nest_end(nlh, n);
    struct ovs_key_ipv4 tos[2] = { { .ipv4_tos = 4 }, { .ipv4_tos = 0xfc } };
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SET_MASKED);
    mnl_attr_put(nlh, OVS_KEY_ATTR_IPV4, sizeof tos, tos);
    mnl_attr_nest_end(nlh, n);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SET);
    mnl_attr_put_u32(nlh, OVS_KEY_ATTR_PRIORITY, 5);
    mnl_attr_nest_end(nlh, n);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    check_actions(&a, NULL,
                  "set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=1,tos=0,ttl=63,"
                  "frag=no)),set(ipv4(src=1.2.3.4)),"
                  "set(ipv4(tos=0x4/0xfc)),set(skb_priority(0x5)),1");

    /* set(tunnel(...)): IPv4 and IPv6 with Geneve options. */
    nlh = attrs_init(&a);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SET);
    struct nlattr *t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    uint64_t id = htobe64(5);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_ID, 8, &id);
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_SRC, ip("1.1.1.1"));
    mnl_attr_put_u32(nlh, OVS_TUNNEL_KEY_ATTR_IPV4_DST, ip("2.2.2.2"));
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT, 0, NULL);
    mnl_attr_put_u16(nlh, OVS_TUNNEL_KEY_ATTR_TP_DST, htons(4789));
    mnl_attr_nest_end(nlh, t);
    mnl_attr_nest_end(nlh, n);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SET);
    t = mnl_attr_nest_start(nlh, OVS_KEY_ATTR_TUNNEL);
    uint8_t v6[16];
    static const uint8_t opt[8] = { 1, 2, 0x80, 1, 0x0a, 0x0b, 0x0c, 0x0d };
    ip6("2001::2", v6);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_ID, 8, &id);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, v6);
    mnl_attr_put_u8(nlh, OVS_TUNNEL_KEY_ATTR_TTL, 64);
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_CSUM, 0, NULL);
    mnl_attr_put_u16(nlh, OVS_TUNNEL_KEY_ATTR_TP_DST, htons(6081));
    mnl_attr_put(nlh, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, 8, opt);
    mnl_attr_nest_end(nlh, t);
    mnl_attr_nest_end(nlh, n);
    check_actions(&a, NULL,
                  "set(tunnel(tun_id=0x5,src=1.1.1.1,dst=2.2.2.2,ttl=64,"
                  "tp_dst=4789,flags(df|key))),1,"
                  "set(tunnel(tun_id=0x5,ipv6_dst=2001::2,ttl=64,tp_dst=6081,"
                  "geneve({class=0x102,type=0x80,len=4,0xa0b0c0d}),"
                  "flags(csum|key)))");

    /* VLANs. */
    nlh = attrs_init(&a);
    struct ovs_action_push_vlan pv = { htons(0x88a8), htons(0x1000 | 100) };
    mnl_attr_put(nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof pv, &pv);
    pv.vlan_tpid = htons(0x8100);
    pv.vlan_tci = htons(0x1000 | 5);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof pv, &pv);
    pv.vlan_tci = htons(0x1000 | 3 << 13 | 10);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_PUSH_VLAN, sizeof pv, &pv);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_POP_VLAN, 0, NULL);
    check_actions(&a, NULL,
                  "push_vlan(tpid=0x88a8,vid=100,pcp=0),push_vlan(vid=5,"
                  "pcp=0),push_vlan(vid=10,pcp=3),pop_vlan");
}

static void
test_nested_and_misc(void **state)
{
    struct attrs a;
    struct nlmsghdr *nlh = attrs_init(&a);
    struct nlattr *n, *acts;
    (void) state;

    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_put_u32(nlh, OVS_SAMPLE_ATTR_PROBABILITY, UINT32_MAX / 2 + 1);
    acts = mnl_attr_nest_start(nlh, OVS_SAMPLE_ATTR_ACTIONS);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_nest_end(nlh, acts);
    mnl_attr_nest_end(nlh, n);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_CLONE);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_POP_VLAN, 0, NULL);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    mnl_attr_nest_end(nlh, n);
    struct ovs_action_trunc tr = { 100 };
    mnl_attr_put(nlh, OVS_ACTION_ATTR_TRUNC, sizeof tr, &tr);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    check_actions(&a, NULL,
                  "sample(sample=50.0%,actions(1)),clone(pop_vlan,2),"
                  "trunc(100),1");

    nlh = attrs_init(&a);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_put_u32(nlh, OVS_SAMPLE_ATTR_PROBABILITY, 1431655765);
    acts = mnl_attr_nest_start(nlh, OVS_SAMPLE_ATTR_ACTIONS);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_nest_end(nlh, acts);
    mnl_attr_nest_end(nlh, n);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_CHECK_PKT_LEN);
    mnl_attr_put_u16(nlh, OVS_CHECK_PKT_LEN_ATTR_PKT_LEN, 200);
    acts = mnl_attr_nest_start(nlh,
                               OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_nest_end(nlh, acts);
    acts = mnl_attr_nest_start(nlh,
                               OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 2);
    mnl_attr_nest_end(nlh, acts);
    mnl_attr_nest_end(nlh, n);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_RECIRC, 6);
    check_actions(&a, NULL,
                  "sample(sample=33.3%,actions(1)),"
                  "check_pkt_len(size=200,gt(1),le(2)),recirc(0x6)");

    /* hash and push_mpls: ovs-dpctl cannot parse them, the text was
     * printed by ovs-dpctl for raw flows (tests/system). */
    nlh = attrs_init(&a);
    struct ovs_action_hash h = { OVS_HASH_ALG_L4, 7 };
    mnl_attr_put(nlh, OVS_ACTION_ATTR_HASH, sizeof h, &h);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_RECIRC, 2);
    struct ovs_action_push_mpls pm = { htonl(10 << 12 | 1 << 8 | 64),
                                       htons(0x8847) };
    mnl_attr_put(nlh, OVS_ACTION_ATTR_PUSH_MPLS, sizeof pm, &pm);
    uint16_t et = htons(0x0800);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_POP_MPLS, 2, &et);
    mnl_attr_put(nlh, OVS_ACTION_ATTR_CT_CLEAR, 0, NULL);
    mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_METER, 3);
    check_actions(&a, NULL,
                  "hash(l4(7)),recirc(0x2),push_mpls(label=10,tc=0,ttl=64,"
                  "bos=1,eth_type=0x8847),pop_mpls(eth_type=0x800),ct_clear,"
                  "meter(3)");

    /* Damaged: a short output, an unknown action, a sample without its
     * probability. */
    nlh = attrs_init(&a);
    mnl_attr_put_u16(nlh, OVS_ACTION_ATTR_OUTPUT, 1);
    mnl_attr_put_u32(nlh, 99, 0x01020304);
    n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_SAMPLE);
    mnl_attr_nest_end(nlh, n);
    check_actions(&a, NULL,
                  "bad length 2, expected 4 for: action1(01 00),"
                  "action99(04 03 02 01),sample(error)");
}

static void
test_userspace(void **state)
{
    struct attrs a;
    struct nlmsghdr *nlh = attrs_init(&a);
    uint8_t c[48];
    (void) state;

    /* Plain userdata; a 48-byte cookie of an unknown type is hex too. */
    static const uint8_t ud[8] = { 1, 2, 3, 4 };
    put_cookie(nlh, 1234, ud, sizeof ud, -1, false);
    memset(c, 0, sizeof c);
    put_cookie(nlh, 1234, c, sizeof c, -1, false);
    check_actions(&a, NULL,
                  "userspace(pid=1234,userdata(0102030400000000)),"
                  "userspace(pid=1234,userdata(00000000000000000000000000000"
                  "0000000000000000000000000000000000000000000000000000000000"
                  "000000000))");

    /* Open vSwitch cookies; the union starts at byte 24. */
    nlh = attrs_init(&a);
    uint16_t u16;
    uint32_t u32;
    memset(c, 0, sizeof c);
    c[0] = 2;                   /* slow path */
    u32 = 1 << 6;               /* match */
    memcpy(c + 28, &u32, 4);
    put_cookie(nlh, 7, c, sizeof c, -1, false);
    memset(c, 0, sizeof c);
    c[0] = 5;                   /* controller */
    u16 = 1;
    memcpy(c + 26, &u16, 2);    /* reason */
    u32 = 3;
    memcpy(c + 28, &u32, 4);    /* recirc_id */
    u32 = htonl(0x10);
    memcpy(c + 36, &u32, 4);    /* rule_cookie, low word */
    u16 = 65535;
    memcpy(c + 42, &u16, 2);    /* max_len */
    put_cookie(nlh, 8, c, sizeof c, -1, false);
    static const uint8_t aabb[8] = { 0xaa, 0xbb };
    put_cookie(nlh, 9, aabb, sizeof aabb, -1, true);
    put_cookie(nlh, 9, aabb, sizeof aabb, 4, false);
    check_actions(&a, NULL,
                  "userspace(pid=7,slow_path(match)),userspace(pid=8,"
                  "controller(reason=1,dont_send=0,continuation=0,"
                  "recirc_id=3,rule_cookie=0x10,controller_id=0,"
                  "max_len=65535)),userspace(pid=9,userdata(aabb000000000000),"
                  "actions),userspace(pid=9,userdata(aabb000000000000),"
                  "tunnel_out_port=4)");

    nlh = attrs_init(&a);
    memset(c, 0, sizeof c);
    c[0] = 1;                   /* sFlow */
    u16 = htons(1 << 13 | 0x1000 | 5);
    memcpy(c + 24, &u16, 2);
    u32 = 2;
    memcpy(c + 28, &u32, 4);
    put_cookie(nlh, 1, c, sizeof c, -1, false);
    memset(c, 0, sizeof c);
    c[0] = 3;                   /* flow sample */
    u16 = 100;
    memcpy(c + 24, &u16, 2);
    for (u32 = 1; u32 <= 4; u32++) {
        memcpy(c + 24 + 4 * u32, &u32, 4);
    }
    put_cookie(nlh, 2, c, sizeof c, -1, false);
    memset(c, 0, sizeof c);
    c[0] = 4;                   /* IPFIX */
    u32 = 1;
    memcpy(c + 24, &u32, 4);
    put_cookie(nlh, 3, c, sizeof c, -1, false);
    check_actions(&a, NULL,
                  "userspace(pid=1,sFlow(vid=5,pcp=1,output=2)),"
                  "userspace(pid=2,flow_sample(probability=100,"
                  "collector_set_id=1,obs_domain_id=2,obs_point_id=3,"
                  "output_port=4)),userspace(pid=3,ipfix(output_port=1))");
    /* Ports inside cookies take names too. */
    check_actions(&a, &VERBOSE_NAMES,
                  "userspace(pid=1,sFlow(vid=5,pcp=1,output=2)),"
                  "userspace(pid=2,flow_sample(probability=100,"
                  "collector_set_id=1,obs_domain_id=2,obs_point_id=3,"
                  "output_port=4)),userspace(pid=3,ipfix(output_port="
                  "hvt43050v1))");

    /* No pid. */
    nlh = attrs_init(&a);
    struct nlattr *n = mnl_attr_nest_start(nlh, OVS_ACTION_ATTR_USERSPACE);
    mnl_attr_nest_end(nlh, n);
    check_actions(&a, NULL, "userspace(error)");
}

/* ---- statistics, UFIDs, whole lines ------------------------------------- */

static void
test_stats(void **state)
{
    struct odp_buf b = { 0 };
    struct dpif_flow_stats st = { 0 };
    (void) state;

    odp_format_stats(&b, &st, 5000);
    assert_string_equal(odp_buf_cstr(&b),
                        "packets:0, bytes:0, used:never");

    st.packets = 1;
    st.bytes = 74;
    st.used = 3766;
    st.tcp_flags = 0x02;
    odp_buf_clear(&b);
    odp_format_stats(&b, &st, 5000);
    assert_string_equal(odp_buf_cstr(&b),
                        "packets:1, bytes:74, used:1.234s, flags:S");

    st.tcp_flags = 0x14;
    st.used = 5000;
    odp_buf_clear(&b);
    odp_format_stats(&b, &st, 5000);
    assert_string_equal(odp_buf_cstr(&b),
                        "packets:1, bytes:74, used:0.000s, flags:R.");

    odp_buf_clear(&b);
    odp_format_tcp_flags(&b, 0xfff);
    assert_string_equal(odp_buf_cstr(&b), "SFPRU.ECN[200][400][800]");
    odp_buf_clear(&b);
    odp_format_tcp_flags(&b, 0);
    assert_string_equal(odp_buf_cstr(&b), "none");
    odp_buf_free(&b);
}

static void
test_ufid_and_flow(void **state)
{
    static const uint32_t words[4] = {
        0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00,
    };
    struct odp_buf b = { 0 };
    struct dpif_flow f;
    struct attrs a;
    (void) state;

    memset(&f, 0, sizeof f);
    memcpy(f.ufid, words, 16);
    f.has_ufid = true;
    odp_format_ufid(&b, f.ufid);
    assert_string_equal(odp_buf_cstr(&b),
                        "ufid:11223344-5566-7788-99aa-bbccddeeff00");

    match_init(&f.key, &f.mask, 1, 0x0806);
    mnl_attr_put_u32(attrs_init(&a), OVS_ACTION_ATTR_OUTPUT, 2);
    f.actions = attrs_data(&a);
    f.actions_len = attrs_len(&a);
    f.stats.packets = 1;
    f.stats.bytes = 42;
    f.stats.used = 10000 - 2156;

    odp_buf_clear(&b);
    odp_format_flow(&b, &f, 10000, NULL);
    assert_string_equal(odp_buf_cstr(&b),
                        "in_port(1),eth(),eth_type(0x0806), packets:1, "
                        "bytes:42, used:2.156s, actions:2");

    odp_buf_clear(&b);
    odp_format_flow(&b, &f, 10000, &VERBOSE_NAMES);
    assert_string_equal(odp_buf_cstr(&b),
                        "ufid:11223344-5566-7788-99aa-bbccddeeff00, "
                        "recirc_id(0/0),dp_hash(0/0),skb_priority(0/0),"
                        "in_port(hvt43050v1),skb_mark(0/0),"
                        "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,"
                        "dst=00:00:00:00:00:00/00:00:00:00:00:00),"
                        "eth_type(0x0806),arp(sip=0.0.0.0/0.0.0.0,"
                        "tip=0.0.0.0/0.0.0.0,op=0/0,"
                        "sha=00:00:00:00:00:00/00:00:00:00:00:00,"
                        "tha=00:00:00:00:00:00/00:00:00:00:00:00), "
                        "packets:1, bytes:42, used:2.156s, dp:ovs, "
                        "actions:hvt43050v2");

    /* A flow installed without a UFID shows none, even with -m. */
    f.has_ufid = false;
    odp_buf_clear(&b);
    odp_format_flow(&b, &f, 10000, &VERBOSE);
    assert_true(!strncmp(odp_buf_cstr(&b), "recirc_id(0/0),", 15));
    odp_buf_free(&b);
}

static void
test_buffer(void **state)
{
    struct odp_buf b = { 0 };
    (void) state;

    assert_string_equal(odp_buf_cstr(&b), "");
    odp_buf_clear(&b);
    for (int i = 0; i < 5000; i++) {
        odp_buf_put(&b, "%d,", i % 10);
    }
    assert_int_equal(b.len, 10000);
    assert_int_equal(strlen(odp_buf_cstr(&b)), 10000);
    assert_memory_equal(odp_buf_cstr(&b) + 9990, "5,6,7,8,9,", 10);
    odp_buf_clear(&b);
    assert_string_equal(odp_buf_cstr(&b), "");
    odp_buf_free(&b);
    assert_null(b.s);

    /* Many actions: the buffer grows as needed. */
    struct attrs a;
    struct nlmsghdr *nlh = attrs_init(&a);
    for (uint32_t i = 0; i < 300; i++) {
        mnl_attr_put_u32(nlh, OVS_ACTION_ATTR_OUTPUT, 100000 + i);
    }
    odp_format_actions(&b, attrs_data(&a), attrs_len(&a), NULL);
    assert_int_equal(b.len, 300 * 7 - 1);
    assert_memory_equal(odp_buf_cstr(&b), "100000,100001,", 14);
    odp_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_ipv4_l4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_vlan_mpls),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_tunnel),
        cmocka_unit_test(test_key_attrs),
        cmocka_unit_test(test_output_set_vlan),
        cmocka_unit_test(test_nested_and_misc),
        cmocka_unit_test(test_userspace),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_ufid_and_flow),
        cmocka_unit_test(test_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
