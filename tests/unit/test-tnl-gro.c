/* Tests for datapath/tnl-gro.c: which decapsulated TCP segments become a
 * super-packet, what that super-packet looks like (and that segmenting it
 * again with offload.c gives back the very frames that went in), and
 * which packets are left alone. */
#include "tnl-gro.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "csum.h"
#include "offload.h"
#include "packet.h"

#define ACK 0x10
#define PSH 0x08
#define SYN 0x02

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void
wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t) (v >> 16));
    wr16(p + 2, (uint16_t) v);
}

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* What a test segment looks like. */
struct sg {
    bool v6;
    uint16_t sport;             /* the flow */
    uint32_t seq;
    uint16_t plen;
    uint8_t flags;
    uint16_t ip_id;
    bool tunnel;                /* came out of a tunnel */
    bool bad_csum;
    bool partial;               /* NEEDS_CSUM, as a local sender's */
    bool vlan;                  /* an 802.1Q tag in front of IP */
};

/* A TCP segment with a 12-byte timestamp option and complete checksums,
 * payload bytes derived from the sequence number. */
static struct dp_packet *
seg(const struct sg *s)
{
    uint8_t f[2048];
    size_t l3 = ETH_HLEN + (s->vlan ? 4 : 0);
    size_t ipl = s->v6 ? 40 : 20, thl = 32;
    size_t l4 = l3 + ipl, len = l4 + thl + s->plen;
    uint8_t *ip = f + l3, *th = f + l4;
    uint32_t ps;
    uint16_t c;

    memset(f, 0, sizeof f);
    memcpy(f, "\x02\x77\0\0\0\x02\x02\x77\0\0\0\x01", 12);
    if (s->vlan) {
        wr16(f + 12, ETH_P_8021Q);
        wr16(f + 14, 7);
    }
    wr16(f + l3 - 2, s->v6 ? ETH_P_IPV6 : ETH_P_IP);
    if (s->v6) {
        ip[0] = 0x60;
        wr16(ip + 4, (uint16_t) (thl + s->plen));
        ip[6] = IPPROTO_TCP;
        ip[7] = 64;
        inet_pton(AF_INET6, "fd00::1", ip + 8);
        inet_pton(AF_INET6, "fd00::2", ip + 24);
    } else {
        ip[0] = 0x45;
        wr16(ip + 2, (uint16_t) (ipl + thl + s->plen));
        wr16(ip + 4, s->ip_id);
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = IPPROTO_TCP;
        inet_pton(AF_INET, "10.77.0.1", ip + 12);
        inet_pton(AF_INET, "10.77.0.2", ip + 16);
        c = csum_fold(csum_partial(ip, 20, 0));
        memcpy(ip + 10, &c, 2);
    }
    wr16(th, s->sport);
    wr16(th + 2, 5201);
    wr32(th + 4, s->seq);
    wr32(th + 8, 777);
    th[12] = (uint8_t) ((thl / 4) << 4);
    th[13] = s->flags;
    wr16(th + 14, 500);
    memcpy(th + 20, "\x01\x01\x08\x0a\0\0\0\x05\0\0\0\x06", 12);
    for (size_t i = 0; i < s->plen; i++) {
        th[thl + i] = (uint8_t) (s->seq + i);
    }
    if (s->v6) {
        ps = csum_pseudo6(ip + 8, ip + 24, IPPROTO_TCP,
                          (uint32_t) (thl + s->plen));
    } else {
        uint32_t a, b;

        memcpy(&a, ip + 12, 4);
        memcpy(&b, ip + 16, 4);
        ps = csum_pseudo4(a, b, IPPROTO_TCP, (uint16_t) (thl + s->plen));
    }
    c = csum_fold(csum_partial(th, thl + s->plen, ps));
    memcpy(th + 16, &c, 2);
    if (s->bad_csum) {
        th[thl] ^= 0xff;
    }

    struct dp_packet *p = dp_packet_copy_from(f, len, DP_PACKET_HEADROOM);
    assert_non_null(p);
    memset(&p->md, 0, sizeof p->md);
    memset(&p->vnet, 0, sizeof p->vnet);
    if (s->tunnel) {
        inet_pton(AF_INET, "10.99.0.2", &p->md.tunnel.ipv4_dst);
        p->md.tunnel.tun_id = htobe64(42);
    }
    if (s->partial) {
        c = (uint16_t) ~csum_fold(ps);
        memcpy(th + 16, &c, 2);
        p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        p->vnet.csum_start = (uint16_t) l4;
        p->vnet.csum_offset = 16;
    }
    return p;
}

/* 'n' data segments of flow 'sport' from 'seq' on, 'plen' bytes each, the
 * last with PSH, into 'pkts'. */
static void
run(struct dp_packet **pkts, int n, uint16_t sport, uint32_t seq,
    uint16_t plen, bool v6)
{
    for (int i = 0; i < n; i++) {
        struct sg s = {
            .v6 = v6, .sport = sport, .seq = seq + (uint32_t) i * plen,
            .plen = plen, .flags = ACK | (i == n - 1 ? PSH : 0),
            .ip_id = (uint16_t) (100 + i), .tunnel = true,
        };
        pkts[i] = seg(&s);
    }
}

static void
free_all(struct dp_packet **pkts, int n)
{
    for (int i = 0; i < n; i++) {
        dp_packet_free(pkts[i]);
    }
}

/* Whether 'p' is a super-packet of 'n_bytes' payload. */
static void
assert_super(const struct dp_packet *p, bool v6, uint16_t mss,
             size_t payload)
{
    size_t l4 = ETH_HLEN + (v6 ? 40 : 20);

    assert_int_equal(p->vnet.gso_type, v6 ? VIRTIO_NET_HDR_GSO_TCPV6
                                          : VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(p->vnet.gso_size, mss);
    assert_int_equal(p->vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(p->vnet.csum_start, l4);
    assert_int_equal(p->vnet.csum_offset, 16);
    assert_int_equal(p->vnet.hdr_len, l4 + 32);
    assert_int_equal(p->len, l4 + 32 + payload);
}

/* Segments 'sp' again and checks that the result is 'orig' byte for
 * byte. */
static void
assert_resegments_to(const struct dp_packet *sp, struct dp_packet **orig,
                     int n)
{
    struct dp_packet *segs[64];
    int got = offload_segment(sp, segs, 64);

    assert_int_equal(got, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(segs[i]->len, orig[i]->len);
        assert_memory_equal(dp_packet_data(segs[i]), dp_packet_data(orig[i]),
                            orig[i]->len);
        dp_packet_free(segs[i]);
    }
}

static void
test_merge_v4(void **state)
{
    struct dp_packet *pkts[8], *orig[8];
    int n;

    (void) state;
    run(pkts, 5, 40000, 1000, 100, false);
    run(orig, 5, 40000, 1000, 100, false);
    n = tnl_gro_batch(pkts, 5, 65535);
    assert_int_equal(n, 1);
    assert_super(pkts[0], false, 100, 500);

    const uint8_t *d = dp_packet_data(pkts[0]);
    /* IP length and checksum of the whole; the TCP checksum field in
     * partial form; PSH from the last segment. */
    assert_int_equal(rd16(d + 16), 20 + 32 + 500);
    assert_int_equal(csum_fold(csum_partial(d + 14, 20, 0)), 0);
    assert_int_equal(d[34 + 13], ACK | PSH);
    uint32_t a, b;
    memcpy(&a, d + 26, 4);
    memcpy(&b, d + 30, 4);
    uint16_t partial = (uint16_t) ~csum_fold(
        csum_pseudo4(a, b, IPPROTO_TCP, 32 + 500));
    assert_memory_equal(d + 34 + 16, &partial, 2);
    assert_non_null(pkts[0]->md.tunnel.ipv4_dst);
    assert_resegments_to(pkts[0], orig, 5);
    free_all(pkts, n);
    free_all(orig, 5);
}

static void
test_merge_v6(void **state)
{
    struct dp_packet *pkts[8], *orig[8];
    int n;

    (void) state;
    run(pkts, 3, 40000, 0xfffffff0u, 200, true);   /* seq wraps */
    run(orig, 3, 40000, 0xfffffff0u, 200, true);
    n = tnl_gro_batch(pkts, 3, 65535);
    assert_int_equal(n, 1);
    assert_super(pkts[0], true, 200, 600);
    assert_int_equal(rd16(dp_packet_data(pkts[0]) + 18), 32 + 600);
    assert_resegments_to(pkts[0], orig, 3);
    free_all(pkts, n);
    free_all(orig, 3);
}

/* A segment with a bad checksum is neither merged nor repaired, and its
 * neighbours do not merge across it. */
static void
test_bad_csum(void **state)
{
    struct dp_packet *pkts[4];
    struct sg s = { .sport = 40000, .seq = 0, .plen = 100, .flags = ACK,
                    .tunnel = true };
    int n;

    (void) state;
    pkts[0] = seg(&s);
    s.seq = 100;
    s.bad_csum = true;
    pkts[1] = seg(&s);
    struct dp_packet *bad = pkts[1];
    s.seq = 200;
    s.bad_csum = false;
    pkts[2] = seg(&s);
    n = tnl_gro_batch(pkts, 3, 65535);
    assert_int_equal(n, 3);
    assert_ptr_equal(pkts[1], bad);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pkts[i]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    }
    free_all(pkts, n);

    /* The first one bad: the others still merge. */
    s.seq = 0;
    s.bad_csum = true;
    pkts[0] = seg(&s);
    s.bad_csum = false;
    s.seq = 100;
    pkts[1] = seg(&s);
    s.seq = 200;
    pkts[2] = seg(&s);
    n = tnl_gro_batch(pkts, 3, 65535);
    assert_int_equal(n, 2);
    assert_int_equal(pkts[0]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    assert_super(pkts[1], false, 100, 200);
    free_all(pkts, n);
}

/* Partial checksums of a local sender need no check. */
static void
test_partial_csum(void **state)
{
    struct dp_packet *pkts[4];
    struct sg s = { .sport = 40000, .seq = 0, .plen = 100, .flags = ACK,
                    .tunnel = true, .partial = true };

    (void) state;
    for (int i = 0; i < 3; i++) {
        s.seq = (uint32_t) i * 100;
        pkts[i] = seg(&s);
    }
    assert_int_equal(tnl_gro_batch(pkts, 3, 65535), 1);
    assert_super(pkts[0], false, 100, 300);
    free_all(pkts, 1);
}

/* Two flows interleaved: one super-packet each, in the order of their
 * first segments. */
static void
test_two_flows(void **state)
{
    struct dp_packet *pkts[8];
    int n;

    (void) state;
    for (int i = 0; i < 6; i++) {
        struct sg s = { .sport = (uint16_t) (i % 2 ? 41000 : 40000),
                        .seq = (uint32_t) (i / 2) * 100, .plen = 100,
                        .flags = ACK, .tunnel = true };
        pkts[i] = seg(&s);
    }
    n = tnl_gro_batch(pkts, 6, 65535);
    assert_int_equal(n, 2);
    assert_super(pkts[0], false, 100, 300);
    assert_super(pkts[1], false, 100, 300);
    assert_int_equal(rd16(dp_packet_data(pkts[0]) + 34), 40000);
    assert_int_equal(rd16(dp_packet_data(pkts[1]) + 34), 41000);
    free_all(pkts, n);
}

/* What ends a group: a gap in sequence numbers, a control segment of
 * the flow, a short segment, a frame that might hide TCP (VLAN). */
static void
test_group_ends(void **state)
{
    struct dp_packet *pkts[8];
    struct sg s = { .sport = 40000, .plen = 100, .flags = ACK,
                    .tunnel = true };
    int n;

    (void) state;
    /* Gap. */
    s.seq = 0;
    pkts[0] = seg(&s);
    s.seq = 100;
    pkts[1] = seg(&s);
    s.seq = 300;
    pkts[2] = seg(&s);
    s.seq = 400;
    pkts[3] = seg(&s);
    n = tnl_gro_batch(pkts, 4, 65535);
    assert_int_equal(n, 2);
    assert_super(pkts[0], false, 100, 200);
    assert_super(pkts[1], false, 100, 200);
    assert_int_equal(rd16(dp_packet_data(pkts[1]) + 40), 300);
    free_all(pkts, n);

    /* A pure ACK of the flow in between: later segments may not pass
     * it. */
    s.seq = 0;
    pkts[0] = seg(&s);
    s.seq = 100;
    pkts[1] = seg(&s);
    s.seq = 200;
    s.plen = 0;
    pkts[2] = seg(&s);
    s.plen = 100;
    pkts[3] = seg(&s);
    s.seq = 300;
    pkts[4] = seg(&s);
    n = tnl_gro_batch(pkts, 5, 65535);
    assert_int_equal(n, 3);
    assert_super(pkts[0], false, 100, 200);
    assert_int_equal(pkts[1]->len, 14 + 20 + 32);
    assert_super(pkts[2], false, 100, 200);
    free_all(pkts, n);

    /* A short segment closes; a longer one cannot follow a short one. */
    s.seq = 0;
    pkts[0] = seg(&s);
    s.seq = 100;
    s.plen = 50;
    pkts[1] = seg(&s);
    s.seq = 150;
    s.plen = 100;
    pkts[2] = seg(&s);
    n = tnl_gro_batch(pkts, 3, 65535);
    assert_int_equal(n, 2);
    assert_super(pkts[0], false, 100, 150);
    assert_int_equal(pkts[1]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    free_all(pkts, n);

    /* A VLAN-tagged frame might be of any flow. */
    s.seq = 0;
    pkts[0] = seg(&s);
    s.vlan = true;
    s.sport = 9;
    pkts[1] = seg(&s);
    s.vlan = false;
    s.sport = 40000;
    s.seq = 100;
    pkts[2] = seg(&s);
    n = tnl_gro_batch(pkts, 3, 65535);
    assert_int_equal(n, 3);
    free_all(pkts, n);

    /* A layer-3 packet (no Ethernet header) is not parsed, and ends
     * groups. */
    s.seq = 0;
    pkts[0] = seg(&s);
    s.seq = 100;
    pkts[1] = seg(&s);
    pkts[1]->md.l3_type = htons(ETH_P_IP);
    s.seq = 200;
    pkts[2] = seg(&s);
    n = tnl_gro_batch(pkts, 3, 65535);
    assert_int_equal(n, 3);
    free_all(pkts, n);

    /* SYN never merges. */
    s.seq = 0;
    s.flags = SYN | ACK;
    pkts[0] = seg(&s);
    s.flags = ACK;
    pkts[1] = seg(&s);
    n = tnl_gro_batch(pkts, 2, 65535);
    assert_int_equal(n, 2);
    free_all(pkts, n);
}

/* Packets that did not come out of a tunnel, and groups that would
 * exceed the egress's frame limit. */
static void
test_limits(void **state)
{
    struct dp_packet *pkts[8];
    int n;

    (void) state;
    run(pkts, 4, 40000, 0, 100, false);
    for (int i = 0; i < 4; i++) {
        memset(&pkts[i]->md.tunnel, 0, sizeof pkts[i]->md.tunnel);
    }
    assert_int_equal(tnl_gro_batch(pkts, 4, 65535), 4);
    free_all(pkts, 4);

    /* Room for headers and two payloads only. */
    run(pkts, 5, 40000, 0, 100, false);
    n = tnl_gro_batch(pkts, 5, 14 + 20 + 32 + 200);
    assert_int_equal(n, 3);
    assert_super(pkts[0], false, 100, 200);
    assert_super(pkts[1], false, 100, 200);
    assert_int_equal(pkts[2]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    free_all(pkts, n);

    /* Nothing to do for one packet or none. */
    run(pkts, 1, 40000, 0, 100, false);
    assert_int_equal(tnl_gro_batch(pkts, 1, 65535), 1);
    assert_int_equal(tnl_gro_batch(pkts, 0, 65535), 0);
    free_all(pkts, 1);
}

/* More packets than one window: every window merges on its own. */
static void
test_windows(void **state)
{
    enum { N = TNL_GRO_WINDOW + 10 };
    struct dp_packet *pkts[N];
    int n;

    (void) state;
    for (int i = 0; i < N; i++) {
        struct sg s = { .sport = 40000, .seq = (uint32_t) i * 100,
                        .plen = 100, .flags = ACK, .tunnel = true };
        pkts[i] = seg(&s);
    }
    n = tnl_gro_batch(pkts, N, 65535);
    assert_int_equal(n, 2);
    assert_super(pkts[0], false, 100, TNL_GRO_WINDOW * 100);
    assert_super(pkts[1], false, 100, 1000);
    free_all(pkts, n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_v4),
        cmocka_unit_test(test_merge_v6),
        cmocka_unit_test(test_bad_csum),
        cmocka_unit_test(test_partial_csum),
        cmocka_unit_test(test_two_flows),
        cmocka_unit_test(test_group_ends),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_windows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
