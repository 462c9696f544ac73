/* Unit tests for the kernel flow cache's parser (kflow-parse.h): which
 * frames it takes, that flow_extract() gives each of them the flow key
 * its headers imply, and the per-packet entry checks (kflow_fits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "kflow-check.h"
#include "packet.h"

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 2 };

static size_t
put_eth(uint8_t *f, uint16_t type)
{
    memcpy(f, mac_b, 6);
    memcpy(f + 6, mac_a, 6);
    f[12] = (uint8_t) (type >> 8);
    f[13] = (uint8_t) type;
    return 14;
}

static void
ip_csum(uint8_t *ip)
{
    uint32_t sum = 0;

    ip[10] = ip[11] = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t) (ip[i] << 8 | ip[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10] = (uint8_t) (~sum >> 8);
    ip[11] = (uint8_t) ~sum;
}

/* An IPv4 header for 'proto' with 'l4_len' bytes of payload. */
static size_t
put_ipv4(uint8_t *ip, uint8_t proto, size_t l4_len)
{
    size_t tot = 20 + l4_len;

    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[1] = 0x10;
    ip[2] = (uint8_t) (tot >> 8);
    ip[3] = (uint8_t) tot;
    ip[6] = 0x40;               /* DF */
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, (uint8_t[]) { 10, 0, 0, 1 }, 4);
    memcpy(ip + 16, (uint8_t[]) { 10, 0, 0, 2 }, 4);
    ip_csum(ip);
    return 20;
}

static size_t
tcp_frame(uint8_t *f)
{
    size_t n = put_eth(f, 0x0800);
    n += put_ipv4(f + n, 6, 20);
    memset(f + n, 0, 20);
    f[n] = 0x30;                /* port 12345 */
    f[n + 1] = 0x39;
    f[n + 3] = 80;
    f[n + 12] = 0x50;
    f[n + 13] = 0x18;           /* PSH ACK */
    return n + 20;
}

static struct dp_packet *
packet(const uint8_t *f, size_t len)
{
    struct dp_packet *p = dp_packet_copy_from(f, len, 0);
    assert_non_null(p);
    p->md.in_port = 5;
    return p;
}

/* Parses 'f'; returns the parser's verdict, and when it takes the frame
 * checks flow_extract()'s agreement. */
static int
parse(const uint8_t *f, size_t len, unsigned gso, struct kflow_key *k)
{
    struct kflow_buf b = { f, (uint32_t) len };
    struct kflow_meta m;

    memset(k, 0, sizeof *k);
    int r = kflow_parse(&b, (unsigned) len, 9, gso, k, &m);
    if (!r) {
        struct dp_packet *p = packet(f, len);
        assert_true(kflow_check_agrees(p, &k->outer));
        dp_packet_free(p);
        assert_int_equal(k->ifindex, 9);
    }
    return r;
}

static void
test_plain_shapes(void **state)
{
    uint8_t f[200];
    struct kflow_key k;
    size_t n;

    (void) state;
    n = tcp_frame(f);
    assert_int_equal(parse(f, n, 0, &k), 0);
    assert_int_equal(k.outer.tcp_flags, htons(0x18));
    assert_int_equal(k.outer.tp_src, htons(12345));
    /* TCP super-packets take the same key. */
    assert_int_equal(parse(f, n, 1448, &k), 0);

    /* UDP, ICMP echo, ARP. */
    n = put_eth(f, 0x0800);
    n += put_ipv4(f + n, 17, 8);
    memset(f + n, 0, 8);
    f[n + 3] = 53;
    assert_int_equal(parse(f, n + 8, 0, &k), 0);
    /* UDP super-packets are fragments to the flow key, or not. */
    assert_int_equal(parse(f, n + 8, 1400, &k), -1);

    n = put_eth(f, 0x0800);
    n += put_ipv4(f + n, 1, 8);
    memset(f + n, 0, 8);
    f[n] = 8;
    assert_int_equal(parse(f, n + 8, 0, &k), 0);
    assert_int_equal(k.outer.tp_src, htons(8));

    n = put_eth(f, 0x0806);
    memcpy(f + n, (uint8_t[]) { 0, 1, 8, 0, 6, 4, 0, 1 }, 8);
    memcpy(f + n + 8, mac_a, 6);
    memcpy(f + n + 14, (uint8_t[]) { 10, 0, 0, 1 }, 4);
    memset(f + n + 18, 0, 6);
    memcpy(f + n + 24, (uint8_t[]) { 10, 0, 0, 2 }, 4);
    assert_int_equal(parse(f, n + 28, 0, &k), 0);
    assert_int_equal(k.outer.ip_proto, 1);

    /* IPv6 TCP, with a flow label. */
    n = put_eth(f, 0x86dd);
    memset(f + n, 0, 40);
    f[n] = 0x60;
    f[n + 1] = 0x0a;
    f[n + 2] = 0xbc;
    f[n + 3] = 0xde;
    f[n + 5] = 20;
    f[n + 6] = 6;
    f[n + 7] = 64;
    f[n + 23] = 1;
    f[n + 39] = 2;
    memset(f + n + 40, 0, 20);
    f[n + 52] = 0x50;
    f[n + 53] = 0x02;
    assert_int_equal(parse(f, n + 60, 0, &k), 0);
    assert_int_equal(k.outer.ipv6_label, htonl(0xabcde));
}

static void
test_refused_shapes(void **state)
{
    uint8_t f[200];
    struct kflow_key k;
    size_t n = tcp_frame(f);

    (void) state;
    /* A VLAN tag in the frame. */
    uint8_t t[204];
    memcpy(t, f, 12);
    memcpy(t + 12, (uint8_t[]) { 0x81, 0, 0, 10 }, 4);
    memcpy(t + 16, f + 12, n - 12);
    assert_int_equal(parse(t, n + 4, 0, &k), -1);

    /* A fragment, IPv4 options, a cut TCP header. */
    f[14 + 6] = 0x20;
    assert_int_equal(parse(f, n, 0, &k), -1);
    n = tcp_frame(f);
    f[14] = 0x46;
    assert_int_equal(parse(f, n, 0, &k), -1);
    n = tcp_frame(f);
    assert_int_equal(parse(f, n - 1, 0, &k), -1);
    f[14 + 20 + 12] = 0x60;     /* 24-byte header in a 20-byte segment */
    assert_int_equal(parse(f, n, 0, &k), -1);

    /* ICMPv6 (neighbour discovery lives there). */
    n = put_eth(f, 0x86dd);
    memset(f + n, 0, 48);
    f[n] = 0x60;
    f[n + 5] = 8;
    f[n + 6] = 58;
    assert_int_equal(parse(f, n + 48, 0, &k), -1);

    /* Not IP at all. */
    n = put_eth(f, 0x88cc);
    memset(f + n, 0, 40);
    assert_int_equal(parse(f, n + 40, 0, &k), -1);
}

static size_t
vxlan_frame(uint8_t *f)
{
    uint8_t inner[100];
    size_t in_len = tcp_frame(inner);
    size_t n = put_eth(f, 0x0800);

    n += put_ipv4(f + n, 17, 16 + in_len);
    memset(f + n, 0, 8);
    f[n] = 0xc0;
    f[n + 2] = 0x12;            /* 4789 */
    f[n + 3] = 0xb5;
    f[n + 4] = (uint8_t) ((8 + 8 + in_len) >> 8);
    f[n + 5] = (uint8_t) (8 + 8 + in_len);
    n += 8;
    memset(f + n, 0, 8);
    f[n] = 0x08;
    f[n + 6] = 42;              /* VNI 42 */
    n += 8;
    memcpy(f + n, inner, in_len);
    return n + in_len;
}

static void
test_vxlan(void **state)
{
    uint8_t f[300];
    struct kflow_key k;
    size_t n = vxlan_frame(f);

    (void) state;
    /* Not a tunnel port: a plain UDP packet, inner headers unread. */
    atomic_store(&kflow_tnl_ports[0], 0);
    assert_int_equal(parse(f, n, 0, &k), 0);
    assert_int_equal(k.tnl_flags, 0);

    atomic_store(&kflow_tnl_ports[0], htons(4789));
    assert_int_equal(parse(f, n, 0, &k), 0);
    assert_int_equal(k.tnl_flags, KFLOW_T_INNER | KFLOW_T_DF);
    assert_int_equal(k.tnl_hdr[6], 42);
    assert_int_equal(k.inner.tp_src, htons(12345));
    /* The inner headers agree with flow_extract() too. */
    struct dp_packet *in = packet(f + 50, n - 50);
    assert_true(kflow_check_agrees(in, &k.inner));
    dp_packet_free(in);

    /* What hvs-dpd would not decapsulate, the cache does not take. */
    f[14 + 10] ^= 0xff;         /* outer IPv4 checksum */
    assert_int_equal(parse(f, n, 0, &k), -1);
    n = vxlan_frame(f);
    f[14 + 20 + 7] = 1;         /* a UDP checksum to verify */
    assert_int_equal(parse(f, n, 0, &k), -1);
    n = vxlan_frame(f);
    assert_int_equal(parse(f, n - 1, 0, &k), -1);  /* inner cut short */
    atomic_store(&kflow_tnl_ports[0], 0);
}

static void
test_fits(void **state)
{
    struct kflow_meta m = { .l4_end = 54 };     /* Ethernet, IPv4, TCP */
    struct kflow_val v;

    (void) state;
    memset(&v, 0, sizeof v);
    v.action = KFLOW_A_OUTPUT;
    assert_true(kflow_fits(&v, 60000, 1448, &m));
    v.action = KFLOW_A_DECAP;
    assert_true(kflow_fits(&v, 60000, 1448, &m));
    v.action = KFLOW_A_ENCAP;
    v.hdr_len = KFLOW_VXLAN_OUTER_LEN;
    v.mtu = 1500;
    /* The outer IP datagram: frame + 50 - 14 bytes. */
    assert_true(kflow_fits(&v, 1464, 0, &m));
    assert_false(kflow_fits(&v, 1465, 0, &m));
    /* A super-packet: each segment's frame is headers + gso_size. */
    assert_true(kflow_fits(&v, 60000, 1410, &m));
    assert_false(kflow_fits(&v, 60000, 1448, &m));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_shapes),
        cmocka_unit_test(test_refused_shapes),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
