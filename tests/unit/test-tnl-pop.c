/* Tests for datapath/tnl-pop.c: which outer frames the fast decap takes,
 * which it leaves to the host stack, and which it refuses. */
#include "tnl-pop.h"

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
#include "packet.h"

#define INNER 60

static void
wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

/* A VXLAN-over-IPv4 frame (VNI 42, port 4789) with a valid UDP checksum
 * into 'f'; returns its length. */
static size_t
frame4(uint8_t *f, bool udp_csum)
{
    size_t len = 14 + 20 + 8 + 8 + INNER;
    uint8_t *ip = f + 14, *u = ip + 20;
    uint32_t s, d;
    uint16_t c;

    memset(f, 0, len);
    wr16(f + 12, ETH_P_IP);
    ip[0] = 0x45;
    ip[1] = 0x10;
    wr16(ip + 2, (uint16_t) (len - 14));
    ip[8] = 33;
    ip[9] = IPPROTO_UDP;
    inet_pton(AF_INET, "10.1.0.2", ip + 12);
    inet_pton(AF_INET, "10.1.0.1", ip + 16);
    c = csum_fold(csum_partial(ip, 20, 0));
    memcpy(ip + 10, &c, 2);
    wr16(u, 51000);
    wr16(u + 2, 4789);
    wr16(u + 4, (uint16_t) (8 + 8 + INNER));
    u[8] = 0x08;
    u[14] = 42;
    for (int i = 0; i < INNER; i++) {
        u[16 + i] = (uint8_t) i;
    }
    if (udp_csum) {
        memcpy(&s, ip + 12, 4);
        memcpy(&d, ip + 16, 4);
        c = csum_fold(csum_partial(u, 16 + INNER,
                                   csum_pseudo4(s, d, IPPROTO_UDP,
                                                16 + INNER)));
        memcpy(u + 6, &c, 2);
    }
    return len;
}

static void
test_plain_vxlan(void **state)
{
    uint8_t f[256];
    size_t len = frame4(f, true);
    struct dp_packet_md md;
    uint32_t a;

    (void) state;
    memset(&md, 0, sizeof md);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), 14 + 20 + 8 + 8);
    assert_int_equal(be64toh(md.tunnel.tun_id), 42);
    inet_pton(AF_INET, "10.1.0.2", &a);
    assert_int_equal(md.tunnel.ipv4_src, a);
    assert_int_equal(md.tunnel.tos, 0x10);
    assert_int_equal(md.tunnel.ttl, 33);
    assert_int_equal(ntohs(md.tunnel.tp_src), 51000);
    /* Ethernet padding after the datagram is no part of it. */
    memset(f + len, 0xee, 10);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len + 10, NULL, &md), 14 + 20 + 8 + 8);
}

static void
test_left_to_the_host(void **state)
{
    uint8_t f[256];
    struct dp_packet_md md;
    size_t len;

    (void) state;
    /* A fragment (MF). */
    len = frame4(f, true);
    f[20] |= 0x20;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -ENOENT);
    /* A later fragment (offset). */
    len = frame4(f, true);
    f[21] = 1;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -ENOENT);
    /* IP options. */
    len = frame4(f, true);
    f[14] = 0x46;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -ENOENT);
    /* ARP, not IP. */
    len = frame4(f, true);
    wr16(f + 12, ETH_P_ARP);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -ENOENT);
    /* TCP. */
    len = frame4(f, false);
    f[23] = IPPROTO_TCP;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -ENOENT);
    /* UDP for another port; GRE asked of a UDP datagram. */
    len = frame4(f, true);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4790, f,
                                   len, NULL, &md), -ENOENT);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_GRE, false, 0, f, len,
                                   NULL, &md), -ENOENT);
}

static void
test_malformed(void **state)
{
    uint8_t f[256];
    struct dp_packet_md md;
    size_t len;

    (void) state;
    /* Truncated: the IP total length runs past the frame. */
    len = frame4(f, true);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len - 1, NULL, &md), -EINVAL);
    /* UDP length disagrees with IP's. */
    len = frame4(f, false);
    wr16(f + 38, 9);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -EINVAL);
    /* Short frames. */
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   20, NULL, &md), -ENOENT);
    /* Bad IPv4 header checksum. */
    len = frame4(f, false);
    f[24] ^= 1;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -EBADMSG);
    /* VXLAN without its I flag. */
    len = frame4(f, false);
    f[42] = 0;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -EBADMSG);
}

static void
test_udp_checksum_and_offload_flags(void **state)
{
    struct virtio_net_hdr vnet;
    struct dp_packet_md md;
    uint8_t f[256];
    size_t len = frame4(f, true);

    (void) state;
    f[len - 1] ^= 0xff;         /* corrupt the payload */
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), -EBADMSG);
    /* The receiving device verified it (DATA_VALID), or a local sender
     * left it to offload (NEEDS_CSUM): trusted. */
    memset(&vnet, 0, sizeof vnet);
    vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, &vnet, &md), 50);
    vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, &vnet, &md), 50);
    /* A zero checksum is no checksum. */
    len = frame4(f, false);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_VXLAN, false, 4789, f,
                                   len, NULL, &md), 50);
}

static void
test_geneve_options(void **state)
{
    uint8_t f[256];
    struct dp_packet_md md;
    size_t len = 14 + 20 + 8 + 8 + 8 + INNER;
    uint8_t *ip = f + 14, *u = ip + 20, *g = u + 8;
    uint16_t c;

    (void) state;
    memset(f, 0, sizeof f);
    wr16(f + 12, ETH_P_IP);
    ip[0] = 0x45;
    wr16(ip + 2, (uint16_t) (len - 14));
    ip[8] = 64;
    ip[9] = IPPROTO_UDP;
    inet_pton(AF_INET, "10.1.0.2", ip + 12);
    inet_pton(AF_INET, "10.1.0.1", ip + 16);
    c = csum_fold(csum_partial(ip, 20, 0));
    memcpy(ip + 10, &c, 2);
    wr16(u, 40000);
    wr16(u + 2, 6081);
    wr16(u + 4, (uint16_t) (len - 34));
    g[0] = 2;                   /* 8 bytes of options */
    wr16(g + 2, ETH_P_TEB);
    g[6] = 9;                   /* VNI */
    wr16(g + 8, 0x0102);        /* class */
    g[10] = 0x80;               /* type (critical) */
    g[11] = 1;                  /* 4 bytes of data */
    memset(g + 12, 0xab, 4);
    memset(&md, 0, sizeof md);
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_GENEVE, false, 6081, f,
                                   len, NULL, &md), 14 + 20 + 8 + 16);
    assert_int_equal(be64toh(md.tunnel.tun_id), 9);
    assert_int_equal(md.tunnel.opts_len, 8);
    assert_true(md.tunnel.flags & FLOW_TNL_F_GENEVE_OPT);
    assert_memory_equal(md.tun_opts, g + 8, 8);
    /* An option longer than the option area. */
    g[11] = 2;
    assert_int_equal(tnl_pop_frame(OVS_VPORT_TYPE_GENEVE, false, 6081, f,
                                   len, NULL, &md), -EBADMSG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_vxlan),
        cmocka_unit_test(test_left_to_the_host),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_udp_checksum_and_offload_flags),
        cmocka_unit_test(test_geneve_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
