/* Unit tests for lib/flow.c: key extraction from real frames (every
 * protocol, truncated variants), hashing, equality and masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <linux/openvswitch.h>

#include "flow.h"
#include "packet.h"

/* A frame under construction. */
struct frame {
    uint8_t b[512];
    size_t n;
};

static void
fr_bytes(struct frame *f, const void *p, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void
fr_u8(struct frame *f, uint8_t v)
{
    fr_bytes(f, &v, 1);
}

static void
fr_be16(struct frame *f, uint16_t v)
{
    v = htons(v);
    fr_bytes(f, &v, 2);
}

static void
fr_be32(struct frame *f, uint32_t v)
{
    v = htonl(v);
    fr_bytes(f, &v, 4);
}

static void
fr_zero(struct frame *f, size_t n)
{
    assert_true(f->n + n <= sizeof f->b);
    memset(f->b + f->n, 0, n);
    f->n += n;
}

static const uint8_t MAC_DST[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_SRC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t V6_SRC[16] = { 0xfe, 0x80, [15] = 1 };
static const uint8_t V6_DST[16] = { 0xfe, 0x80, [15] = 2 };

static void
fr_eth(struct frame *f, uint16_t type)
{
    fr_bytes(f, MAC_DST, 6);
    fr_bytes(f, MAC_SRC, 6);
    fr_be16(f, type);
}

/* IPv4 header with 'opt_words' 32-bit option words (NOPs). */
static void
fr_ipv4(struct frame *f, uint8_t proto, uint16_t frag, int opt_words)
{
    int i;

    fr_u8(f, (uint8_t) (0x40 | (5 + opt_words)));
    fr_u8(f, 0xb8);                     /* tos */
    fr_be16(f, 100);
    fr_be16(f, 0x1234);
    fr_be16(f, frag);
    fr_u8(f, 63);                       /* ttl */
    fr_u8(f, proto);
    fr_be16(f, 0);
    fr_be32(f, 0x0a000001);
    fr_be32(f, 0x0a000002);
    for (i = 0; i < opt_words; i++) {
        fr_be32(f, 0x01010101);
    }
}

static void
fr_ipv6(struct frame *f, uint8_t next)
{
    fr_be32(f, 0x6a812345);             /* tclass 0xa8, label 0x12345 */
    fr_be16(f, 40);
    fr_u8(f, next);
    fr_u8(f, 64);
    fr_bytes(f, V6_SRC, 16);
    fr_bytes(f, V6_DST, 16);
}

static void
fr_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
    fr_be16(f, sport);
    fr_be16(f, dport);
    fr_be32(f, 1);
    fr_be32(f, 2);
    fr_u8(f, 0x50);
    fr_u8(f, flags);
    fr_be16(f, 512);
    fr_be32(f, 0);
}

static void
fr_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
    fr_be16(f, sport);
    fr_be16(f, dport);
    fr_be16(f, 8);
    fr_be16(f, 0);
}

/* Extracts 'f' truncated to 'len' bytes. */
static void
extract_n(const struct frame *f, size_t len, struct flow_key *key,
          uint16_t *l3, uint16_t *l4)
{
    struct dp_packet *p = dp_packet_copy_from(f->b, len, 0);

    assert_non_null(p);
    p->md.in_port = 7;
    p->md.recirc_id = 3;
    p->md.skb_mark = 0x55;
    p->md.priority = 9;
    p->md.dp_hash = 0xabc;
    flow_extract(p, key);
    if (l3) {
        *l3 = p->l3_ofs;
    }
    if (l4) {
        *l4 = p->l4_ofs;
    }
    dp_packet_free(p);
}

static void
extract(const struct frame *f, struct flow_key *key, uint16_t *l3,
        uint16_t *l4)
{
    extract_n(f, f->n, key, l3, l4);
}

static void
test_metadata_and_eth(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3, l4;

    (void) state;
    fr_eth(&f, 0x88b5);                 /* local experimental */
    fr_zero(&f, 30);
    extract(&f, &k, &l3, &l4);
    assert_int_equal(k.in_port, 7);
    assert_int_equal(k.recirc_id, 3);
    assert_int_equal(k.skb_mark, 0x55);
    assert_int_equal(k.priority, 9);
    assert_int_equal(k.dp_hash, 0xabc);
    assert_memory_equal(k.eth_src, MAC_SRC, 6);
    assert_memory_equal(k.eth_dst, MAC_DST, 6);
    assert_int_equal(k.eth_type, htons(0x88b5));
    assert_int_equal(k.vlan_tci, 0);
    assert_int_equal(l3, 14);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
test_short_frame(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3, l4;

    (void) state;
    fr_eth(&f, 0x0800);
    extract_n(&f, 13, &k, &l3, &l4);
    assert_int_equal(k.eth_type, 0);
    assert_int_equal(k.in_port, 7);     /* metadata still there */
    assert_true(k.eth_src[0] == 0 && k.eth_dst[0] == 0);
    assert_int_equal(l3, DP_OFS_NONE);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
test_ipv4_tcp_options(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3, l4;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_TCP, 0x4000, 2);        /* DF, 8 option bytes */
    fr_tcp(&f, 40000, 80, 0x12);                /* SYN|ACK */
    extract(&f, &k, &l3, &l4);
    assert_int_equal(k.eth_type, htons(0x0800));
    assert_int_equal(k.ipv4_src, htonl(0x0a000001));
    assert_int_equal(k.ipv4_dst, htonl(0x0a000002));
    assert_int_equal(k.ip_proto, IPPROTO_TCP);
    assert_int_equal(k.ip_tos, 0xb8);
    assert_int_equal(k.ip_ttl, 63);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_NONE);
    assert_int_equal(k.tp_src, htons(40000));
    assert_int_equal(k.tp_dst, htons(80));
    assert_int_equal(k.tcp_flags, htons(0x12));
    assert_int_equal(l3, 14);
    assert_int_equal(l4, 14 + 28);

    /* TCP header cut short: ports and flags stay zero. */
    extract_n(&f, 14 + 28 + 19, &k, NULL, &l4);
    assert_int_equal(k.ip_proto, IPPROTO_TCP);
    assert_int_equal(k.tp_src, 0);
    assert_int_equal(k.tcp_flags, 0);
    assert_int_equal(l4, 14 + 28);

    /* IPv4 header cut inside its options: no IP fields at all. */
    extract_n(&f, 14 + 24, &k, &l3, &l4);
    assert_int_equal(k.eth_type, htons(0x0800));
    assert_int_equal(k.ipv4_src, 0);
    assert_int_equal(k.ip_proto, 0);
    assert_int_equal(l3, 14);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
test_ipv4_bad_ihl(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    fr_udp(&f, 1, 2);
    f.b[14] = 0x44;                     /* ihl 16 bytes < 20 */
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ipv4_src, 0);
    assert_int_equal(k.tp_src, 0);
}

static void
test_ipv4_fragments(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l4;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0x2000, 0);       /* MF, offset 0 */
    fr_udp(&f, 5000, 53);
    extract(&f, &k, NULL, &l4);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_FIRST);
    assert_int_equal(k.tp_src, htons(5000));
    assert_int_equal(k.tp_dst, htons(53));

    f.b[14 + 6] = 0x00;
    f.b[14 + 7] = 0x10;                         /* offset 16*8 */
    extract(&f, &k, NULL, &l4);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_LATER);
    assert_int_equal(k.ip_proto, IPPROTO_UDP);
    assert_int_equal(k.tp_src, 0);
    assert_int_equal(k.tp_dst, 0);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
test_ufo_is_first_fragment(void **state)
{
    struct frame f = { .n = 0 };
    struct dp_packet *p;
    struct flow_key k;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    fr_udp(&f, 1, 2);
    p = dp_packet_copy_from(f.b, f.n, 0);
    assert_non_null(p);
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    flow_extract(p, &k);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_FIRST);
    dp_packet_free(p);
}

static void
test_udp_sctp_icmp(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_SCTP, 0, 0);
    fr_be16(&f, 2905);
    fr_be16(&f, 2906);
    fr_be32(&f, 0xdeadbeef);
    fr_be32(&f, 0);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ip_proto, IPPROTO_SCTP);
    assert_int_equal(k.tp_src, htons(2905));
    assert_int_equal(k.tp_dst, htons(2906));
    extract_n(&f, f.n - 1, &k, NULL, NULL);     /* 11-byte SCTP header */
    assert_int_equal(k.tp_src, 0);

    f.n = 0;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_ICMP, 0, 0);
    fr_u8(&f, 8);                               /* echo request */
    fr_u8(&f, 0);
    fr_be16(&f, 0);
    fr_be32(&f, 0x00010001);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ip_proto, IPPROTO_ICMP);
    assert_int_equal(k.tp_src, htons(8));
    assert_int_equal(k.tp_dst, htons(0));
    f.b[f.n - 7] = 3;                           /* code */
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.tp_dst, htons(3));
    extract_n(&f, f.n - 1, &k, NULL, NULL);     /* 7-byte ICMP header */
    assert_int_equal(k.tp_src, 0);
    assert_int_equal(k.tp_dst, 0);
}

static void
test_vlan(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3;

    (void) state;
    fr_bytes(&f, MAC_DST, 6);
    fr_bytes(&f, MAC_SRC, 6);
    fr_be16(&f, 0x8100);
    fr_be16(&f, 0x2064);                        /* pcp 1, vid 100 */
    fr_be16(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    fr_udp(&f, 67, 68);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.vlan_tpid, htons(0x8100));
    assert_int_equal(k.vlan_tci, htons(0x2064 | FLOW_VLAN_CFI));
    assert_int_equal(k.cvlan_tci, 0);
    assert_int_equal(k.eth_type, htons(0x0800));
    assert_int_equal(k.tp_dst, htons(68));
    assert_int_equal(l3, 18);

    /* Tag without room for the EtherType after it: not a tag. */
    extract_n(&f, 17, &k, &l3, NULL);
    assert_int_equal(k.vlan_tci, 0);
    assert_int_equal(k.vlan_tpid, 0);
    assert_int_equal(k.eth_type, htons(0x8100));
    assert_int_equal(l3, 14);
}

static void
test_qinq_and_triple_tag(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3;

    (void) state;
    fr_bytes(&f, MAC_DST, 6);
    fr_bytes(&f, MAC_SRC, 6);
    fr_be16(&f, 0x88a8);
    fr_be16(&f, 10);
    fr_be16(&f, 0x8100);
    fr_be16(&f, 20);
    fr_be16(&f, 0x86dd);
    fr_ipv6(&f, IPPROTO_UDP);
    fr_udp(&f, 546, 547);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.vlan_tpid, htons(0x88a8));
    assert_int_equal(k.vlan_tci, htons(10 | FLOW_VLAN_CFI));
    assert_int_equal(k.cvlan_tpid, htons(0x8100));
    assert_int_equal(k.cvlan_tci, htons(20 | FLOW_VLAN_CFI));
    assert_int_equal(k.eth_type, htons(0x86dd));
    assert_int_equal(k.tp_src, htons(546));
    assert_int_equal(l3, 22);

    /* A third tag becomes the EtherType; nothing beyond is parsed. */
    f.n = 0;
    fr_bytes(&f, MAC_DST, 6);
    fr_bytes(&f, MAC_SRC, 6);
    fr_be16(&f, 0x88a8);
    fr_be16(&f, 10);
    fr_be16(&f, 0x8100);
    fr_be16(&f, 20);
    fr_be16(&f, 0x8100);
    fr_be16(&f, 30);
    fr_be16(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.eth_type, htons(0x8100));
    assert_int_equal(k.ipv4_src, 0);
    assert_int_equal(l3, 22);
}

static void
test_llc_snap(void **state)
{
    static const uint8_t stp_llc[] = { 0x42, 0x42, 0x03, 0, 0, 0, 0, 0 };
    static const uint8_t snap[] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 };
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3;

    (void) state;
    fr_eth(&f, 38);                     /* 802.3 length */
    fr_bytes(&f, stp_llc, sizeof stp_llc);
    fr_zero(&f, 30);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.eth_type, htons(0x05ff));
    assert_int_equal(l3, 14);

    f.n = 0;
    fr_eth(&f, 60);
    fr_bytes(&f, snap, sizeof snap);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    fr_udp(&f, 9, 10);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.eth_type, htons(0x0800));
    assert_int_equal(k.ipv4_dst, htonl(0x0a000002));
    assert_int_equal(k.tp_dst, htons(10));
    assert_int_equal(l3, 22);

    /* Too short for a SNAP header. */
    extract_n(&f, 20, &k, &l3, NULL);
    assert_int_equal(k.eth_type, htons(0x05ff));
}

static void
test_arp(void **state)
{
    static const uint8_t sha[6] = { 2, 0, 0, 0, 0, 0x11 };
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    fr_eth(&f, 0x0806);
    fr_be16(&f, 1);
    fr_be16(&f, 0x0800);
    fr_u8(&f, 6);
    fr_u8(&f, 4);
    fr_be16(&f, 1);                     /* request */
    fr_bytes(&f, sha, 6);
    fr_be32(&f, 0xc0a80001);
    fr_zero(&f, 6);
    fr_be32(&f, 0xc0a80002);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.eth_type, htons(0x0806));
    assert_int_equal(k.ip_proto, 1);
    assert_int_equal(k.ipv4_src, htonl(0xc0a80001));
    assert_int_equal(k.ipv4_dst, htonl(0xc0a80002));
    assert_memory_equal(k.arp_sha, sha, 6);

    f.b[14 + 6] = 0x01;                 /* opcode 0x101: above 8 bits */
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ip_proto, 0);
    assert_int_equal(k.ipv4_src, htonl(0xc0a80001));

    f.b[14 + 1] = 6;                    /* not Ethernet hardware */
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ipv4_src, 0);
    assert_int_equal(k.arp_sha[5], 0);

    f.b[14 + 1] = 1;
    extract_n(&f, f.n - 1, &k, NULL, NULL);
    assert_int_equal(k.ipv4_src, 0);
}

static void
test_mpls(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3;

    (void) state;
    fr_eth(&f, 0x8847);
    fr_be32(&f, (100 << 12) | 64);
    fr_be32(&f, (200 << 12) | 0x100 | 64);     /* bottom of stack */
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.eth_type, htons(0x8847));
    assert_int_equal(k.mpls_labels, 3);
    assert_int_equal(k.mpls_lse[0], htonl((100 << 12) | 64));
    assert_int_equal(k.mpls_lse[1], htonl((200 << 12) | 0x100 | 64));
    assert_int_equal(k.mpls_lse[2], 0);
    assert_int_equal(k.ipv4_src, 0);            /* not looked into */
    assert_int_equal(l3, 14);

    /* Cut before the bottom of the stack: labels seen, count zero. */
    extract_n(&f, 21, &k, NULL, NULL);
    assert_int_equal(k.mpls_labels, 0);
    assert_int_equal(k.mpls_lse[0], htonl((100 << 12) | 64));
    assert_int_equal(k.mpls_lse[1], 0);

    /* Five labels: three are kept. */
    f.n = 0;
    fr_eth(&f, 0x8848);
    fr_be32(&f, 1 << 12);
    fr_be32(&f, 2 << 12);
    fr_be32(&f, 3 << 12);
    fr_be32(&f, 4 << 12);
    fr_be32(&f, (5 << 12) | 0x100);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.mpls_labels, 7);
    assert_int_equal(k.mpls_lse[2], htonl(3 << 12));
}

/* Layer-3 packets (p->md.l3_type set, as after pop_eth): no Ethernet
 * header, the network header at offset 0. */
static void
extract_l3(const struct frame *f, uint16_t type, struct flow_key *key,
           uint16_t *l3, uint16_t *l4)
{
    struct dp_packet *p = dp_packet_copy_from(f->b, f->n, 0);

    assert_non_null(p);
    p->md.in_port = 7;
    p->md.recirc_id = 3;
    p->md.l3_type = htons(type);
    flow_extract(p, key);
    *l3 = p->l3_ofs;
    *l4 = p->l4_ofs;
    dp_packet_free(p);
}

static void
test_layer3(void **state)
{
    static const uint8_t zero[6];
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3, l4;

    (void) state;
    fr_ipv4(&f, IPPROTO_TCP, 0, 0);
    fr_tcp(&f, 1234, 80, 0x12);
    extract_l3(&f, 0x0800, &k, &l3, &l4);
    assert_int_equal(k.no_eth, 1);
    assert_int_equal(k.eth_type, htons(0x0800));
    assert_memory_equal(k.eth_src, zero, 6);
    assert_memory_equal(k.eth_dst, zero, 6);
    assert_int_equal(k.vlan_tci, 0);
    assert_int_equal(k.in_port, 7);
    assert_int_equal(k.recirc_id, 3);
    assert_int_equal(k.ipv4_src, htonl(0x0a000001));
    assert_int_equal(k.ip_proto, IPPROTO_TCP);
    assert_int_equal(k.tp_dst, htons(80));
    assert_int_equal(l3, 0);
    assert_int_equal(l4, 20);

    /* The same bytes as an Ethernet frame are something else entirely,
     * and the keys differ in no_eth even where the fields agree. */
    struct flow_key e;
    extract(&f, &e, NULL, NULL);
    assert_int_equal(e.no_eth, 0);
    assert_false(flow_key_equal(&k, &e));

    /* MPLS without Ethernet. */
    f.n = 0;
    fr_be32(&f, (2 << 12) | 0x100 | 64);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    extract_l3(&f, 0x8847, &k, &l3, &l4);
    assert_int_equal(k.eth_type, htons(0x8847));
    assert_int_equal(k.mpls_labels, 1);
    assert_int_equal(k.mpls_lse[0], htonl((2 << 12) | 0x100 | 64));

    /* A truncated header leaves the fields zero, as for frames. */
    f.n = 10;
    extract_l3(&f, 0x0800, &k, &l3, &l4);
    assert_int_equal(k.no_eth, 1);
    assert_int_equal(k.ipv4_src, 0);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
fr_nsh(struct frame *f, uint16_t vftl, uint8_t mdtype, uint8_t np)
{
    fr_be16(f, vftl);
    fr_u8(f, mdtype);
    fr_u8(f, np);
    fr_be32(f, (0x100 << 8) | 3);       /* SPI 0x100, SI 3 */
}

static void
test_nsh(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3;

    (void) state;
    /* O bit set, TTL 63, 6 words, MD type 1, next protocol Ethernet. */
    fr_eth(&f, 0x894f);
    fr_nsh(&f, 0x2000 | (63 << 6) | 6, 1, 3);
    for (uint32_t i = 1; i <= 4; i++) {
        fr_be32(&f, i);
    }
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    extract(&f, &k, &l3, NULL);
    assert_int_equal(k.eth_type, htons(0x894f));
    assert_int_equal(l3, 14);
    assert_int_equal(k.nsh.flags, 2);
    assert_int_equal(k.nsh.ttl, 63);
    assert_int_equal(k.nsh.mdtype, 1);
    assert_int_equal(k.nsh.np, 3);
    assert_int_equal(k.nsh.path_hdr, htonl(0x10003));
    assert_int_equal(k.nsh.context[0], htonl(1));
    assert_int_equal(k.nsh.context[3], htonl(4));
    assert_int_equal(k.ipv4_src, 0);            /* not looked into */

    /* Truncated inside the context: nothing. */
    extract_n(&f, 14 + 20, &k, NULL, NULL);
    assert_int_equal(k.nsh.mdtype, 0);
    assert_int_equal(k.nsh.path_hdr, 0);

    /* MD type 2: base only, any length. */
    f.n = 0;
    fr_eth(&f, 0x894f);
    fr_nsh(&f, (63 << 6) | 3, 2, 1);
    fr_be32(&f, 0xdeadbeef);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.nsh.mdtype, 2);
    assert_int_equal(k.nsh.np, 1);
    assert_int_equal(k.nsh.context[0], 0);

    /* Version 1, MD type 1 of the wrong length, unknown MD type: the
     * header is not taken. */
    static const uint16_t vftl[] = { 0x4000 | 6, 5, 6 };
    static const uint8_t mdt[] = { 1, 1, 3 };
    for (int i = 0; i < 3; i++) {
        f.n = 0;
        fr_eth(&f, 0x894f);
        fr_nsh(&f, vftl[i], mdt[i], 3);
        fr_zero(&f, 16);
        extract(&f, &k, NULL, NULL);
        assert_int_equal(k.eth_type, htons(0x894f));
        assert_int_equal(k.nsh.mdtype, 0);
        assert_int_equal(k.nsh.path_hdr, 0);
    }
}

static void
test_ipv6_tcp(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l3, l4;

    (void) state;
    fr_eth(&f, 0x86dd);
    fr_ipv6(&f, IPPROTO_TCP);
    fr_tcp(&f, 1234, 22, 0x02);
    extract(&f, &k, &l3, &l4);
    assert_int_equal(k.eth_type, htons(0x86dd));
    assert_int_equal(k.ip_tos, 0xa8);
    assert_int_equal(k.ipv6_label, htonl(0x12345));
    assert_int_equal(k.ip_ttl, 64);
    assert_memory_equal(k.ipv6_src, V6_SRC, 16);
    assert_memory_equal(k.ipv6_dst, V6_DST, 16);
    assert_int_equal(k.ip_proto, IPPROTO_TCP);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_NONE);
    assert_int_equal(k.tp_src, htons(1234));
    assert_int_equal(k.tcp_flags, htons(0x02));
    assert_int_equal(l3, 14);
    assert_int_equal(l4, 54);

    extract_n(&f, 14 + 39, &k, NULL, &l4);
    assert_int_equal(k.eth_type, htons(0x86dd));
    assert_int_equal(k.ip_ttl, 0);
    assert_int_equal(k.ip_proto, 0);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
test_ipv6_ext_headers(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;
    uint16_t l4;

    (void) state;
    fr_eth(&f, 0x86dd);
    fr_ipv6(&f, IPPROTO_HOPOPTS);
    fr_u8(&f, IPPROTO_DSTOPTS);         /* hop-by-hop, 8 bytes */
    fr_u8(&f, 0);
    fr_zero(&f, 6);
    fr_u8(&f, IPPROTO_ROUTING);         /* destination, 16 bytes */
    fr_u8(&f, 1);
    fr_zero(&f, 14);
    fr_u8(&f, IPPROTO_AH);              /* routing, 8 bytes */
    fr_u8(&f, 0);
    fr_zero(&f, 6);
    fr_u8(&f, IPPROTO_UDP);             /* AH: (1 + 2) * 4 = 12 bytes */
    fr_u8(&f, 1);
    fr_zero(&f, 10);
    fr_udp(&f, 500, 4500);
    extract(&f, &k, NULL, &l4);
    assert_int_equal(k.ip_proto, IPPROTO_UDP);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_NONE);
    assert_int_equal(k.tp_src, htons(500));
    assert_int_equal(k.tp_dst, htons(4500));
    assert_int_equal(l4, 14 + 40 + 8 + 16 + 8 + 12);

    /* Chain cut inside the routing header: protocol "no next header". */
    extract_n(&f, 14 + 40 + 8 + 16 + 3, &k, NULL, &l4);
    assert_int_equal(k.ip_proto, IPPROTO_NONE);
    assert_int_equal(k.ip_ttl, 64);
    assert_int_equal(k.tp_src, 0);
    assert_int_equal(l4, DP_OFS_NONE);
}

static void
test_ipv6_fragments(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    fr_eth(&f, 0x86dd);
    fr_ipv6(&f, IPPROTO_FRAGMENT);
    fr_u8(&f, IPPROTO_UDP);
    fr_u8(&f, 0);
    fr_be16(&f, 0x0001);                /* offset 0, more fragments */
    fr_be32(&f, 0x11223344);
    fr_udp(&f, 7, 9);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_FIRST);
    assert_int_equal(k.ip_proto, IPPROTO_UDP);
    assert_int_equal(k.tp_dst, htons(9));

    f.b[14 + 40 + 2] = 0x01;            /* offset 32 */
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ip_frag, OVS_FRAG_TYPE_LATER);
    assert_int_equal(k.ip_proto, IPPROTO_FRAGMENT);
    assert_int_equal(k.tp_dst, 0);
}

/* ND message of 'type' with options 'opts' ('n_opts' 8-byte options). */
static void
fr_nd(struct frame *f, uint8_t type, const uint8_t (*opts)[8], int n_opts)
{
    int i;

    fr_eth(f, 0x86dd);
    fr_ipv6(f, IPPROTO_ICMPV6);
    fr_u8(f, type);
    fr_u8(f, 0);
    fr_be16(f, 0);
    fr_be32(f, 0);
    fr_bytes(f, V6_DST, 16);            /* target */
    for (i = 0; i < n_opts; i++) {
        fr_bytes(f, opts[i], 8);
    }
}

static void
test_icmpv6_nd(void **state)
{
    static const uint8_t sll[8] = { 1, 1, 2, 0, 0, 0, 0, 0xaa };
    static const uint8_t tll[8] = { 2, 1, 2, 0, 0, 0, 0, 0xbb };
    static const uint8_t other[8] = { 14, 1, 9, 9, 9, 9, 9, 9 };
    uint8_t opts[3][8];
    struct frame f = { .n = 0 };
    struct flow_key k;

    (void) state;
    memcpy(opts[0], other, 8);
    memcpy(opts[1], sll, 8);
    fr_nd(&f, 135, opts, 2);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.ip_proto, IPPROTO_ICMPV6);
    assert_int_equal(k.tp_src, htons(135));
    assert_int_equal(k.tp_dst, 0);
    assert_memory_equal(k.nd_target, V6_DST, 16);
    assert_memory_equal(k.arp_sha, sll + 2, 6);
    assert_int_equal(k.arp_tha[5], 0);

    f.n = 0;
    memcpy(opts[0], tll, 8);
    fr_nd(&f, 136, opts, 1);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.tp_src, htons(136));
    assert_memory_equal(k.arp_tha, tll + 2, 6);
    assert_int_equal(k.arp_sha[5], 0);

    /* A repeated source link-layer option invalidates the ND fields. */
    f.n = 0;
    memcpy(opts[0], sll, 8);
    memcpy(opts[1], sll, 8);
    fr_nd(&f, 135, opts, 2);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.tp_src, htons(135));
    assert_int_equal(k.nd_target[0], 0);
    assert_int_equal(k.arp_sha[5], 0);

    /* An option running past the end stops option parsing only. */
    f.n = 0;
    memcpy(opts[0], sll, 8);
    opts[0][1] = 2;
    fr_nd(&f, 135, opts, 1);
    extract(&f, &k, NULL, NULL);
    assert_memory_equal(k.nd_target, V6_DST, 16);
    assert_int_equal(k.arp_sha[5], 0);

    /* Truncated ND body: type/code only. */
    f.n = 0;
    fr_nd(&f, 136, opts, 0);
    extract_n(&f, f.n - 1, &k, NULL, NULL);
    assert_int_equal(k.tp_src, htons(136));
    assert_int_equal(k.nd_target[0], 0);

    /* Echo request: no ND fields. */
    f.n = 0;
    fr_nd(&f, 128, opts, 0);
    extract(&f, &k, NULL, NULL);
    assert_int_equal(k.tp_src, htons(128));
    assert_int_equal(k.nd_target[0], 0);
}

static void
test_tunnel_metadata(void **state)
{
    struct frame f = { .n = 0 };
    struct dp_packet *p;
    struct flow_key k;

    (void) state;
    fr_eth(&f, 0x0800);
    p = dp_packet_copy_from(f.b, f.n, 0);
    assert_non_null(p);
    p->md.tunnel.ipv4_dst = htonl(0xc0a80101);
    p->md.tunnel.tun_id = htobe64(42);
    p->md.tunnel.ttl = 64;
    p->md.tunnel.opts_len = 8;
    memset(p->md.tun_opts, 0xab, 8);
    p->md.tun_opts[8] = 0xcd;
    flow_extract(p, &k);
    assert_int_equal(k.tunnel.ipv4_dst, htonl(0xc0a80101));
    assert_int_equal(k.tunnel.tun_id, htobe64(42));
    /* Geneve options travel in the metadata, as many bytes as used. */
    assert_int_equal(k.tunnel.opts_len, 8);
    assert_memory_equal(k.tun_opts, p->md.tun_opts, 8);
    assert_int_equal(k.tun_opts[8], 0);
    dp_packet_free(p);
}

static void
test_hash_equal_mask(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key a, b, m, r;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_TCP, 0, 0);
    fr_tcp(&f, 1000, 2000, 0x10);
    extract(&f, &a, NULL, NULL);
    extract(&f, &b, NULL, NULL);
    assert_true(flow_key_equal(&a, &b));
    assert_int_equal(flow_key_hash(&a, 0), flow_key_hash(&b, 0));
    assert_int_not_equal(flow_key_hash(&a, 0), flow_key_hash(&a, 1));

    /* Option bytes beyond opts_len do not count. */
    a.tunnel.opts_len = b.tunnel.opts_len = 4;
    memset(a.tun_opts, 1, 4);
    memset(b.tun_opts, 1, 4);
    b.tun_opts[100] = 9;
    assert_true(flow_key_equal(&a, &b));
    assert_int_equal(flow_key_hash(&a, 5), flow_key_hash(&b, 5));
    b.tun_opts[3] = 2;
    assert_false(flow_key_equal(&a, &b));
    assert_int_not_equal(flow_key_hash(&a, 5), flow_key_hash(&b, 5));
    b = a;
    b.tp_dst ^= 1;
    assert_false(flow_key_equal(&a, &b));

    /* Masking keeps matched bits only and clears unused options. */
    memset(&m, 0, sizeof m);
    m.eth_type = 0xffff;
    m.ipv4_dst = htonl(0xffffff00);
    m.tunnel.opts_len = 0xff;
    m.tun_opts[0] = 0x0f;
    memset(&r, 0xee, sizeof r);
    flow_key_mask(&r, &a, &m);
    assert_int_equal(r.eth_type, htons(0x0800));
    assert_int_equal(r.ipv4_dst, htonl(0x0a000000));
    assert_int_equal(r.ipv4_src, 0);
    assert_int_equal(r.tp_src, 0);
    assert_int_equal(r.tunnel.opts_len, 4);
    assert_int_equal(r.tun_opts[0], 0x01);
    assert_int_equal(r.tun_opts[1], 0);
    assert_int_equal(r.tun_opts[200], 0);
    assert_int_equal(r.tun_opts[255], 0);
    /* In place. */
    flow_key_mask(&a, &a, &m);
    assert_true(flow_key_equal(&a, &r));
}

static void
test_hash_5tuple(void **state)
{
    struct frame f = { .n = 0 };
    struct flow_key a, b;
    uint32_t h;

    (void) state;
    fr_eth(&f, 0x0800);
    fr_ipv4(&f, IPPROTO_UDP, 0, 0);
    fr_udp(&f, 1000, 2000);
    extract(&f, &a, NULL, NULL);
    b = a;
    b.ip_ttl = 1;                       /* not part of the 5-tuple */
    b.eth_src[0] = 0x44;
    h = flow_hash_5tuple(&a, 0);
    assert_int_not_equal(h, 0);
    assert_int_equal(h, flow_hash_5tuple(&b, 0));
    b.tp_src = htons(1001);
    assert_int_not_equal(h, flow_hash_5tuple(&b, 0));
    b = a;
    b.ipv4_src ^= htonl(1);
    assert_int_not_equal(h, flow_hash_5tuple(&b, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_and_eth),
        cmocka_unit_test(test_short_frame),
        cmocka_unit_test(test_ipv4_tcp_options),
        cmocka_unit_test(test_ipv4_bad_ihl),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ufo_is_first_fragment),
        cmocka_unit_test(test_udp_sctp_icmp),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_qinq_and_triple_tag),
        cmocka_unit_test(test_llc_snap),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_layer3),
        cmocka_unit_test(test_nsh),
        cmocka_unit_test(test_ipv6_tcp),
        cmocka_unit_test(test_ipv6_ext_headers),
        cmocka_unit_test(test_ipv6_fragments),
        cmocka_unit_test(test_icmpv6_nd),
        cmocka_unit_test(test_tunnel_metadata),
        cmocka_unit_test(test_hash_equal_mask),
        cmocka_unit_test(test_hash_5tuple),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
