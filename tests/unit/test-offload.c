/* Tests of datapath/offload.c: checksum completion, TSO/USO/UFO
 * segmentation and checksum verification, on packets built here with an
 * independent byte-wise checksum routine. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref-bytes.h"

#include "offload.h"
#include "packet.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* ---- reference checksum and packet builder ------------------------- */

/* Pseudo-header sum of the IP header at 'ip' for an L4 of 'len' bytes. */
static uint32_t
ref_pseudo(const uint8_t *ip, uint8_t proto, uint32_t len)
{
    uint8_t ph[40];

    if ((ip[0] >> 4) == 4) {
        memcpy(ph, ip + 12, 8);
        ph[8] = 0;
        ph[9] = proto;
        put_be16(ph + 10, (uint16_t) len);
        return ref_sum(ph, 12, 0);
    }
    memcpy(ph, ip + 8, 32);
    put_be32(ph + 32, len);
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = proto;
    return ref_sum(ph, 40, 0);
}

/* Does the L4 checksum of 'l4' (len bytes) verify? */
static int
l4_ok(const uint8_t *ip, uint8_t proto, const uint8_t *l4, size_t len)
{
    return ref_sum(l4, len, ref_pseudo(ip, proto, (uint32_t) len)) == 0xffff;
}

struct pkt_opts {
    int v6;
    int vlan;
    uint8_t proto;
    size_t payload;
    uint8_t tcp_flags;
};

/* Builds Ethernet [VLAN] IPv4/IPv6 TCP/UDP/ICMP with correct checksums;
 * returns offsets of L3 and L4. */
static struct dp_packet *
build(const struct pkt_opts *o, size_t *l3p, size_t *l4p)
{
    size_t l3 = 14 + (o->vlan ? 4 : 0);
    size_t iphl = o->v6 ? 40 : 20;
    size_t l4 = l3 + iphl;
    size_t thl = o->proto == IPPROTO_TCP ? 20 : o->proto == IPPROTO_UDP ? 8
                 : 8;
    size_t len = l4 + thl + o->payload;
    uint8_t *d = calloc(1, len);
    struct dp_packet *p;

    assert_non_null(d);
    memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    if (o->vlan) {
        put_be16(d + 12, 0x8100);
        put_be16(d + 14, 0x0064);
    }
    put_be16(d + l3 - 2, o->v6 ? 0x86dd : 0x0800);
    uint8_t *ip = d + l3;
    if (o->v6) {
        ip[0] = 0x60;
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
        put_be16(ip + 6, 0x4000);
        ip[8] = 64;
        ip[9] = o->proto;
        memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
        put_be16(ip + 10, (uint16_t) ~ref_sum(ip, 20, 0));
    }
    uint8_t *th = d + l4;
    for (size_t i = 0; i < o->payload; i++) {
        th[thl + i] = (uint8_t) (i * 7 + 3);
    }
    if (o->proto == IPPROTO_TCP) {
        put_be16(th, 1000);
        put_be16(th + 2, 80);
        put_be32(th + 4, 0xfffff000);   /* wraps during segmentation */
        put_be32(th + 8, 0x55);
        th[12] = 5 << 4;
        th[13] = o->tcp_flags;
        put_be16(th + 14, 65535);
        put_be16(th + 16, (uint16_t) ~ref_sum(th, thl + o->payload,
                                               ref_pseudo(ip, 6,
                                                          thl + o->payload)));
    } else if (o->proto == IPPROTO_UDP) {
        put_be16(th, 5000);
        put_be16(th + 2, 4789);
        put_be16(th + 4, (uint16_t) (thl + o->payload));
        put_be16(th + 6, (uint16_t) ~ref_sum(th, thl + o->payload,
                                             ref_pseudo(ip, 17,
                                                        thl + o->payload)));
    } else {
        th[0] = 8;              /* echo request */
        uint32_t s = ref_sum(th, thl + o->payload,
                             o->proto == IPPROTO_ICMPV6
                             ? ref_pseudo(ip, 58, thl + o->payload) : 0);
        put_be16(th + 2, (uint16_t) ~s);
    }
    p = dp_packet_copy_from(d, len, DP_PACKET_HEADROOM);
    free(d);
    assert_non_null(p);
    *l3p = l3;
    *l4p = l4;
    return p;
}

/* Turns the L4 checksum of 'p' into a partial one, as a guest sends it:
 * the field holds the folded, uncomplemented pseudo-header sum. */
static void
make_partial(struct dp_packet *p, size_t l3, size_t l4, uint8_t proto)
{
    uint8_t *d = dp_packet_data(p);
    size_t off = proto == IPPROTO_TCP ? 16 : 6;
    uint32_t ps = ref_pseudo(d + l3, proto, (uint32_t) (p->len - l4));

    put_be16(d + l4 + off, (uint16_t) ps);
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = (uint16_t) l4;
    p->vnet.csum_offset = (uint16_t) off;
}

/* ---- tests ---------------------------------------------------------- */

static void
test_complete_csum_tcp4(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 333 };
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    uint8_t good[2];

    (void) state;
    memcpy(good, dp_packet_data(p) + l4 + 16, 2);
    make_partial(p, l3, l4, IPPROTO_TCP);
    /* A clone shares the data: completion must not write through it. */
    struct dp_packet *c = dp_packet_clone(p);
    assert_int_equal(offload_complete_csum(p), 0);
    assert_memory_equal(dp_packet_data(p) + l4 + 16, good, 2);
    assert_false(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_memory_not_equal(dp_packet_data(c) + l4 + 16, good, 2);
    /* Idempotent when nothing is pending. */
    assert_int_equal(offload_complete_csum(p), 0);
    dp_packet_free(c);
    dp_packet_free(p);
}

static void
test_complete_csum_udp6_vlan(void **state)
{
    struct pkt_opts o = { .v6 = 1, .vlan = 1, .proto = IPPROTO_UDP,
                          .payload = 101 };
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    const uint8_t *d;

    (void) state;
    make_partial(p, l3, l4, IPPROTO_UDP);
    assert_int_equal(offload_complete_csum(p), 0);
    d = dp_packet_data(p);
    assert_true(l4_ok(d + l3, 17, d + l4, p->len - l4));
    dp_packet_free(p);
}

static void
test_complete_csum_bad_offsets(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 10 };
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);

    (void) state;
    make_partial(p, l3, l4, IPPROTO_TCP);
    p->vnet.csum_start = (uint16_t) (p->len + 1);
    assert_int_equal(offload_complete_csum(p), -EINVAL);
    p->vnet.csum_start = (uint16_t) (p->len - 1);
    p->vnet.csum_offset = 0;
    assert_int_equal(offload_complete_csum(p), -EINVAL);
    p->vnet.csum_start = (uint16_t) l4;
    p->vnet.csum_offset = (uint16_t) (p->len - l4 - 1);
    assert_int_equal(offload_complete_csum(p), -EINVAL);
    assert_true(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    dp_packet_free(p);
}

/* Checks every segment of a TCP super-packet of 'payload' bytes. */
static void
check_tso(int v6, int vlan, size_t payload, uint16_t mss, uint8_t flags)
{
    struct pkt_opts o = { .v6 = v6, .vlan = vlan, .proto = IPPROTO_TCP,
                          .payload = payload, .tcp_flags = flags };
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    struct dp_packet *segs[64];
    size_t nexp = (payload + mss - 1) / mss;
    const uint8_t *orig;
    int n;

    make_partial(p, l3, l4, IPPROTO_TCP);
    p->vnet.gso_type = (v6 ? VIRTIO_NET_HDR_GSO_TCPV6
                        : VIRTIO_NET_HDR_GSO_TCPV4) | VIRTIO_NET_HDR_GSO_ECN;
    p->vnet.gso_size = mss;
    p->md.in_port = 7;
    orig = dp_packet_data(p);

    n = offload_segment(p, segs, 64);
    assert_int_equal(n, (int) nexp);
    for (size_t i = 0; i < nexp; i++) {
        const uint8_t *d = dp_packet_data(segs[i]);
        size_t chunk = i + 1 < nexp ? mss : payload - i * mss;
        const uint8_t *ip = d + l3, *th = d + l4;
        uint8_t f = th[13];

        assert_int_equal(segs[i]->len, l4 + 20 + chunk);
        assert_int_equal(segs[i]->md.in_port, 7);
        assert_int_equal(segs[i]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
        assert_false(segs[i]->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
        assert_memory_equal(d, orig, l3);       /* L2 and VLAN tag */
        if (v6) {
            assert_int_equal(be16(ip + 4), 20 + chunk);
        } else {
            assert_int_equal(be16(ip + 2), 20 + 20 + chunk);
            assert_int_equal(be16(ip + 4), (uint16_t) (0x1234 + i));
            assert_int_equal(ref_sum(ip, 20, 0), 0xffff);
        }
        assert_int_equal(be32(th + 4), (uint32_t) (0xfffff000 + i * mss));
        assert_int_equal(be32(th + 8), 0x55);
        assert_int_equal(!!(f & 0x01), i + 1 == nexp && (flags & 0x01));
        assert_int_equal(!!(f & 0x08), i + 1 == nexp && (flags & 0x08));
        assert_int_equal(!!(f & 0x80), i == 0 && (flags & 0x80));
        assert_int_equal(f & 0x10, flags & 0x10);       /* ACK stays */
        assert_true(l4_ok(ip, 6, th, 20 + chunk));
        assert_memory_equal(th + 20, orig + l4 + 20 + i * mss, chunk);
        dp_packet_free(segs[i]);
    }
    dp_packet_free(p);
}

static void
test_tso4_10000(void **state)
{
    (void) state;
    /* FIN|PSH|ACK|CWR */
    check_tso(0, 0, 10000, 1448, 0x01 | 0x08 | 0x10 | 0x80);
}

static void
test_tso6_vlan(void **state)
{
    (void) state;
    check_tso(1, 1, 10000, 1448, 0x08 | 0x10);
    check_tso(1, 0, 1448 * 3, 1448, 0x10 | 0x80);       /* exact multiple */
    check_tso(0, 1, 100, 1448, 0x18);                   /* one segment */
}

static void
test_tso_too_many(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 5000 };
    struct dp_packet *segs[3];
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);

    (void) state;
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    p->vnet.gso_size = 1000;
    assert_int_equal(offload_segment(p, segs, 3), -ENOSPC);
    /* Wrong family for the gso type, zero MSS, truncated header. */
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    assert_int_equal(offload_segment(p, segs, 3), -EINVAL);
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    p->vnet.gso_size = 0;
    assert_int_equal(offload_segment(p, segs, 3), -EINVAL);
    p->vnet.gso_size = 1000;
    p->len = l4 + 10;
    assert_int_equal(offload_segment(p, segs, 3), -EINVAL);
    dp_packet_free(p);
}

static void
test_uso(void **state)
{
    struct pkt_opts o = { .v6 = 1, .proto = IPPROTO_UDP, .payload = 3000 };
    struct dp_packet *segs[8];
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    const uint8_t *orig = dp_packet_data(p);
    int n;

    (void) state;
    make_partial(p, l3, l4, IPPROTO_UDP);
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
    p->vnet.gso_size = 1200;
    n = offload_segment(p, segs, 8);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++) {
        const uint8_t *d = dp_packet_data(segs[i]);
        size_t chunk = i < 2 ? 1200 : 600;

        assert_int_equal(be16(d + l3 + 4), 8 + chunk);
        assert_int_equal(be16(d + l4 + 4), 8 + chunk);
        assert_int_equal(be16(d + l4), 5000);
        assert_true(l4_ok(d + l3, 17, d + l4, 8 + chunk));
        assert_memory_equal(d + l4 + 8, orig + l4 + 8 + i * 1200, chunk);
        dp_packet_free(segs[i]);
    }
    dp_packet_free(p);
}

static void
test_ufo4(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 4000 };
    struct dp_packet *segs[8];
    size_t l3, l4, total = 8 + 4000;
    struct dp_packet *p = build(&o, &l3, &l4);
    uint8_t *re = calloc(1, total);
    int n;

    (void) state;
    make_partial(p, l3, l4, IPPROTO_UDP);
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    p->vnet.gso_size = 1480;
    n = offload_segment(p, segs, 8);
    assert_int_equal(n, 3);             /* 1480 + 1480 + 1048 */
    for (int i = 0; i < n; i++) {
        const uint8_t *d = dp_packet_data(segs[i]);
        const uint8_t *ip = d + l3;
        size_t flen = be16(ip + 2) - 20;
        uint16_t fo = be16(ip + 6);

        assert_int_equal(segs[i]->len, l3 + 20 + flen);
        assert_int_equal(be16(ip + 4), 0x1234);       /* same id */
        assert_int_equal((fo & 0x1fff) * 8, i * 1480);
        assert_int_equal(!!(fo & 0x2000), i < 2);
        assert_int_equal(ref_sum(ip, 20, 0), 0xffff);
        memcpy(re + i * 1480, ip + 20, flen);
        dp_packet_free(segs[i]);
    }
    /* The reassembled datagram verifies. */
    assert_true(l4_ok(dp_packet_data(p) + l3, 17, re, total));
    assert_memory_equal(re + 8, (uint8_t *) dp_packet_data(p) + l4 + 8,
                        4000);
    free(re);
    dp_packet_free(p);
}

static void
test_ufo6(void **state)
{
    struct pkt_opts o = { .v6 = 1, .proto = IPPROTO_UDP, .payload = 2000 };
    struct dp_packet *segs[8];
    size_t l3, l4, total = 8 + 2000;
    struct dp_packet *p = build(&o, &l3, &l4);
    uint8_t *re = calloc(1, total);
    uint32_t id = 0;
    int n;

    (void) state;
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    p->vnet.gso_size = 1001;            /* rounded down to 1000 */
    n = offload_segment(p, segs, 8);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++) {
        const uint8_t *d = dp_packet_data(segs[i]);
        const uint8_t *ip = d + l3, *fh = ip + 40;
        size_t flen = be16(ip + 4) - 8;

        assert_int_equal(ip[6], 44);
        assert_int_equal(fh[0], 17);
        assert_int_equal(be16(fh + 2) & ~7, i * 1000);
        assert_int_equal(be16(fh + 2) & 1, i < 2);
        if (i == 0) {
            id = be32(fh + 4);
        }
        assert_int_equal(be32(fh + 4), id);
        memcpy(re + i * 1000, fh + 8, flen);
        dp_packet_free(segs[i]);
    }
    assert_true(l4_ok(dp_packet_data(p) + l3, 17, re, total));
    free(re);
    dp_packet_free(p);
}

static void
test_segment_no_gso_copies(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_TCP, .payload = 50 };
    struct dp_packet *segs[1];
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    const uint8_t *d;

    (void) state;
    make_partial(p, l3, l4, IPPROTO_TCP);
    assert_int_equal(offload_segment(p, segs, 1), 1);
    d = dp_packet_data(segs[0]);
    assert_ptr_not_equal(segs[0]->buf, p->buf);
    assert_true(l4_ok(d + l3, 6, d + l4, 70));
    /* The original is unchanged (still partial). */
    assert_true(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(offload_segment(p, segs, 0), -ENOSPC);
    dp_packet_free(segs[0]);
    dp_packet_free(p);
}

static void
check_verify(int v6, uint8_t proto)
{
    struct pkt_opts o = { .v6 = v6, .proto = proto, .payload = 77 };
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    uint8_t *d = dp_packet_data(p);

    assert_int_equal(offload_verify_csum(p), 0);
    d[p->len - 1] ^= 0x40;
    assert_int_equal(offload_verify_csum(p), -EBADMSG);
    /* Verified by the receiver: trusted. */
    p->vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(offload_verify_csum(p), 0);
    p->vnet.flags = 0;
    d[p->len - 1] ^= 0x40;
    /* Ethernet padding after the datagram is ignored. */
    uint8_t *pad = dp_packet_put(p, 6);
    memset(pad, 0xaa, 6);
    assert_int_equal(offload_verify_csum(p), 0);
    /* A datagram longer than the frame is malformed. */
    dp_packet_trim(p, l4 + 30);
    assert_int_equal(offload_verify_csum(p), -EINVAL);
    dp_packet_free(p);
}

static void
test_verify(void **state)
{
    (void) state;
    check_verify(0, IPPROTO_TCP);
    check_verify(1, IPPROTO_TCP);
    check_verify(0, IPPROTO_UDP);
    check_verify(1, IPPROTO_UDP);
    check_verify(0, IPPROTO_ICMP);
    check_verify(1, IPPROTO_ICMPV6);
}

static void
test_verify_udp_zero_and_ip_header(void **state)
{
    struct pkt_opts o = { .proto = IPPROTO_UDP, .payload = 20 };
    size_t l3, l4;
    struct dp_packet *p = build(&o, &l3, &l4);
    uint8_t *d = dp_packet_data(p);

    (void) state;
    d[l4 + 6] = d[l4 + 7] = 0;          /* IPv4: no checksum */
    d[p->len - 1] ^= 1;
    assert_int_equal(offload_verify_csum(p), 0);
    d[l3 + 8] = 3;                      /* TTL changed, header csum not */
    assert_int_equal(offload_verify_csum(p), -EBADMSG);
    dp_packet_free(p);

    o.v6 = 1;
    p = build(&o, &l3, &l4);
    d = dp_packet_data(p);
    d[l4 + 6] = d[l4 + 7] = 0;          /* IPv6: zero is not allowed */
    assert_int_equal(offload_verify_csum(p), -EBADMSG);
    dp_packet_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_csum_tcp4),
        cmocka_unit_test(test_complete_csum_udp6_vlan),
        cmocka_unit_test(test_complete_csum_bad_offsets),
        cmocka_unit_test(test_tso4_10000),
        cmocka_unit_test(test_tso6_vlan),
        cmocka_unit_test(test_tso_too_many),
        cmocka_unit_test(test_uso),
        cmocka_unit_test(test_ufo4),
        cmocka_unit_test(test_ufo6),
        cmocka_unit_test(test_segment_no_gso_copies),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_udp_zero_and_ip_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
