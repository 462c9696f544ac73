/* Tests for datapath/tnl-push.c: the outer headers the datapath builds
 * (Ethernet, IPv4/IPv6, UDP or GRE), checked field by field and parsed
 * back with tnl-pop.c. */
#include "tnl-push.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_ether.h>
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
#include "tnl-pop.h"

static const uint8_t SMAC[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t DMAC[6] = { 0x02, 0, 0, 0, 0, 0x0b };

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* An inner Ethernet frame of 'len' bytes with a recognisable pattern. */
static struct dp_packet *
inner(size_t len)
{
    uint8_t f[2048];

    assert_true(len <= sizeof f);
    for (size_t i = 0; i < len; i++) {
        f[i] = (uint8_t) (i * 7 + 1);
    }
    f[12] = 0x08;
    f[13] = 0x00;
    return dp_packet_copy_from(f, len, DP_PACKET_HEADROOM);
}

static void
vxlan_hdr(uint8_t h[8], uint32_t vni)
{
    memset(h, 0, 8);
    h[0] = 0x08;
    h[4] = (uint8_t) (vni >> 16);
    h[5] = (uint8_t) (vni >> 8);
    h[6] = (uint8_t) vni;
}

static void
params4(struct tnl_push_params *pp, const uint8_t *hdr)
{
    memset(pp, 0, sizeof *pp);
    pp->family = AF_INET;
    memcpy(pp->src_mac, SMAC, 6);
    memcpy(pp->dst_mac, DMAC, 6);
    inet_pton(AF_INET, "10.0.0.1", pp->src.b);
    inet_pton(AF_INET, "10.0.0.2", pp->dst.b);
    pp->tos = 0x28;
    pp->ttl = 17;
    pp->df = true;
    pp->proto = IPPROTO_UDP;
    pp->udp_src = 50000;
    pp->udp_dst = 4789;
    pp->csum = TNL_CSUM_NONE;
    pp->flow_hash = 0x12345678;
    pp->hdr = hdr;
    pp->hdr_len = 8;
}

static void
test_vxlan4_fields(void **state)
{
    struct dp_packet *p = inner(100);
    struct tnl_push_params pp;
    uint8_t hdr[8], *f;

    (void) state;
    vxlan_hdr(hdr, 42);
    params4(&pp, hdr);
    assert_int_equal(tnl_push_header(p, &pp), 0);
    assert_int_equal(p->len, 14 + 20 + 8 + 8 + 100);
    f = dp_packet_data(p);
    assert_memory_equal(f, DMAC, 6);
    assert_memory_equal(f + 6, SMAC, 6);
    assert_int_equal(rd16(f + 12), ETH_P_IP);
    assert_int_equal(f[14], 0x45);
    assert_int_equal(f[15], 0x28);
    assert_int_equal(rd16(f + 16), 20 + 8 + 8 + 100);
    assert_int_equal(rd16(f + 20), 0x4000);     /* DF, no fragment */
    assert_int_equal(f[22], 17);
    assert_int_equal(f[23], IPPROTO_UDP);
    assert_int_equal(csum_fold(csum_partial(f + 14, 20, 0)), 0);
    assert_int_equal(rd16(f + 34), 50000);
    assert_int_equal(rd16(f + 36), 4789);
    assert_int_equal(rd16(f + 38), 8 + 8 + 100);
    assert_int_equal(rd16(f + 40), 0);          /* no checksum asked */
    assert_memory_equal(f + 42, hdr, 8);
    assert_int_equal(f[50], 1);                 /* the inner frame */
    assert_int_equal(p->l3_ofs, 14);
    assert_int_equal(p->l4_ofs, 34);
    assert_int_equal(p->vnet.flags, 0);
    dp_packet_free(p);
}

static void
test_udp_csum_full_and_partial(void **state)
{
    struct dp_packet *a = inner(333), *b = inner(333);
    struct tnl_push_params pp;
    uint8_t hdr[8];

    (void) state;
    vxlan_hdr(hdr, 7);
    params4(&pp, hdr);
    pp.csum = TNL_CSUM_FULL;
    assert_int_equal(tnl_push_header(a, &pp), 0);
    pp.csum = TNL_CSUM_PARTIAL;
    assert_int_equal(tnl_push_header(b, &pp), 0);
    assert_true(b->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(b->vnet.csum_start, 34);
    assert_int_equal(b->vnet.csum_offset, 6);
    /* Completing the partial one gives the full one's checksum. */
    assert_int_equal(offload_complete_csum(b), 0);
    assert_int_equal(a->len, b->len);
    assert_memory_equal(dp_packet_data(a), dp_packet_data(b), a->len);
    assert_int_not_equal(rd16(dp_packet_data(a) + 40), 0);
    /* And the parser accepts it without any offload flag. */
    struct tnl_pop_outer o;
    assert_int_equal(tnl_pop_parse_outer(dp_packet_data(a), a->len, &o), 0);
    assert_true(tnl_pop_csum_ok(dp_packet_data(a), &o, NULL));
    dp_packet_data(a)[a->len - 1] ^= 0x40;
    assert_false(tnl_pop_csum_ok(dp_packet_data(a), &o, NULL));
    dp_packet_free(a);
    dp_packet_free(b);
}

static void
test_ipv6_round_trip(void **state)
{
    struct dp_packet *p = inner(200);
    struct tnl_push_params pp;
    struct dp_packet_md md;
    uint8_t hdr[8], *f;
    int ofs;

    (void) state;
    vxlan_hdr(hdr, 0xabcdef);
    params4(&pp, hdr);
    pp.family = AF_INET6;
    memset(&pp.src, 0, sizeof pp.src);
    memset(&pp.dst, 0, sizeof pp.dst);
    inet_pton(AF_INET6, "fc00::1", pp.src.b);
    inet_pton(AF_INET6, "fc00::2", pp.dst.b);
    pp.csum = TNL_CSUM_FULL;
    assert_int_equal(tnl_push_header(p, &pp), 0);
    f = dp_packet_data(p);
    assert_int_equal(p->len, 14 + 40 + 8 + 8 + 200);
    assert_int_equal(rd16(f + 12), ETH_P_IPV6);
    assert_int_equal(f[14] >> 4, 6);
    assert_int_equal(((f[14] & 0xf) << 4) | (f[15] >> 4), 0x28);
    assert_int_equal(rd16(f + 18), 8 + 8 + 200);
    assert_int_equal(f[20], IPPROTO_UDP);
    assert_int_equal(f[21], 17);
    assert_memory_equal(f + 22, pp.src.b, 16);
    assert_memory_equal(f + 38, pp.dst.b, 16);

    memset(&md, 0, sizeof md);
    ofs = tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f, p->len, NULL,
                        &md);
    assert_int_equal(ofs, 14 + 40 + 8 + 8);
    assert_int_equal(be64toh(md.tunnel.tun_id), 0xabcdef);
    assert_memory_equal(&md.tunnel.ipv6_src, pp.src.b, 16);
    assert_memory_equal(&md.tunnel.ipv6_dst, pp.dst.b, 16);
    assert_int_equal(md.tunnel.ipv4_src, 0);
    assert_int_equal(md.tunnel.tos, 0x28);
    assert_int_equal(md.tunnel.ttl, 17);
    assert_int_equal(ntohs(md.tunnel.tp_src), 50000);
    assert_int_equal(ntohs(md.tunnel.tp_dst), 4789);
    assert_int_equal(md.tunnel.flags, FLOW_TNL_F_KEY);
    /* Another port is not this tunnel's. */
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4790, f,
                                   p->len, NULL, &md), -ENOENT);
    dp_packet_free(p);
}

static void
test_gre_round_trip(void **state)
{
    struct dp_packet *p = inner(120);
    struct tnl_push_params pp;
    struct dp_packet_md md;
    uint8_t hdr[8] = { 0x20, 0, 0x65, 0x58, 0, 0, 0x01, 0x02 };
    uint32_t a;

    (void) state;
    params4(&pp, hdr);
    pp.proto = IPPROTO_GRE;
    pp.df = false;
    assert_int_equal(tnl_push_header(p, &pp), 0);
    assert_int_equal(p->len, 14 + 20 + 8 + 120);
    assert_int_equal(dp_packet_data(p)[23], IPPROTO_GRE);
    assert_int_equal(rd16(dp_packet_data(p) + 20), 0);   /* no DF */
    memset(&md, 0, sizeof md);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_GRE, false, 0,
                                   dp_packet_data(p), p->len, NULL, &md),
                     14 + 20 + 8);
    assert_int_equal(be64toh(md.tunnel.tun_id), 0x0102);
    inet_pton(AF_INET, "10.0.0.1", &a);
    assert_int_equal(md.tunnel.ipv4_src, a);
    assert_int_equal(md.tunnel.tp_src, 0);
    dp_packet_free(p);
}

static void
test_refused(void **state)
{
    struct dp_packet *p = inner(64);
    struct tnl_push_params pp;
    uint8_t hdr[8];

    (void) state;
    vxlan_hdr(hdr, 1);
    params4(&pp, hdr);
    /* A super-packet must be segmented first. */
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    assert_int_equal(tnl_push_header(p, &pp), -EINVAL);
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    assert_int_equal(tnl_push_header(p, &pp), -EINVAL);
    p->vnet.flags = 0;
    pp.family = AF_UNIX;
    assert_int_equal(tnl_push_header(p, &pp), -EINVAL);
    pp.family = AF_INET;
    pp.proto = IPPROTO_TCP;
    assert_int_equal(tnl_push_header(p, &pp), -EINVAL);
    assert_int_equal(p->len, 64);       /* untouched */
    dp_packet_free(p);
}

static void
test_src_port_range(void **state)
{
    (void) state;
    for (uint32_t h = 0; h < 100000; h += 7) {
        uint16_t port = tnl_push_src_port(h * 2654435761u);

        assert_true(port >= 49152);
    }
    assert_int_not_equal(tnl_push_src_port(0x100),
                         tnl_push_src_port(0x200));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vxlan4_fields),
        cmocka_unit_test(test_udp_csum_full_and_partial),
        cmocka_unit_test(test_ipv6_round_trip),
        cmocka_unit_test(test_gre_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_src_port_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
