/* Tests for datapath/vport.c, vport-netdev.c and vport-internal.c.
 *
 * The binary moves into a network namespace of its own at start
 * (unshare(CLONE_NEWNET), needs root), so every veth pair and TAP it
 * creates vanishes with it.  A netdev vport is opened on one end of a veth
 * pair; raw packet sockets on the other end inject and capture frames,
 * with a virtio-net header where offload state is checked.  An internal
 * vport is checked against the host stack itself (ARP, ICMP, UDP
 * segmentation offload).
 *
 * HVS_VPORT_BENCH=1 also measures the netdev receive rate of small frames.
 */
#include "vport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "csum.h"
#include "packet.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define VETH_A "hvsut-va"       /* the netdev vport's end */
#define VETH_B "hvsut-vb"       /* the test's raw sockets */
#define INT_NAME "hvsut-int0"
#define VETH_MTU 9000

/* Every frame the tests make has a source MAC starting with these bytes,
 * so that anything the kernel sends on its own can be told apart. */
static const uint8_t mac_test[6] = { 0x02, 0x48, 0x56, 0x00, 0x00, 0x01 };
static const uint8_t mac_other[6] = { 0x02, 0x48, 0x56, 0x00, 0x00, 0x02 };

static bool in_netns;

/* Vports and sockets the tests open; the teardown closes what a failed
 * test left open, so that the next test starts clean. */
static struct vport vports[2];
static bool vport_used[2];
static int open_fds[4] = { -1, -1, -1, -1 };

static struct vport *
vport_slot(void)
{
    for (size_t i = 0; i < 2; i++) {
        if (!vport_used[i]) {
            vport_used[i] = true;
            return &vports[i];
        }
    }
    fail_msg("too many vports");
    abort();
}

static int
track_fd(int fd)
{
    for (size_t i = 0; i < 4; i++) {
        if (open_fds[i] < 0) {
            open_fds[i] = fd;
            break;
        }
    }
    return fd;
}

static int
teardown(void **state)
{
    (void) state;
    for (size_t i = 0; i < 2; i++) {
        if (vport_used[i] && vports[i].fd >= 0) {
            vports[i].ops->close(&vports[i]);
        }
        vport_used[i] = false;
    }
    for (size_t i = 0; i < 4; i++) {
        if (open_fds[i] >= 0) {
            close(open_fds[i]);
            open_fds[i] = -1;
        }
    }
    return 0;
}

/* ---- Helpers. ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
    char cmd[512];
    va_list args;

    va_start(args, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, args);
    va_end(args);
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void
require_netns(void)
{
    if (!in_netns) {
        print_message("# needs root (network namespace)\n");
        skip();
    }
}

static void
vport_init(struct vport *v, const char *name, const struct vport_ops *ops)
{
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->type = ops->type;
    v->ops = ops;
    v->fd = -1;
}

static short
if_flags(const char *name)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    assert_true(s >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    close(s);
    return ifr.ifr_flags;
}

static void
if_mac(const char *name, uint8_t mac[6])
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    assert_true(s >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(s);
}

static void
set_int(int fd, int level, int name, int value)
{
    assert_int_equal(setsockopt(fd, level, name, &value, sizeof value), 0);
}

/* A raw packet socket on 'ifname', with virtio-net headers if 'vnet'. */
static int
peer_open(const char *ifname, bool vnet)
{
    struct sockaddr_ll sll;
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    if (vnet) {
        set_int(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    }
    set_int(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    set_int(fd, SOL_PACKET, PACKET_AUXDATA, 0);
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = if_nametoindex(ifname);
    assert_int_not_equal(sll.sll_ifindex, 0);
    assert_int_equal(bind(fd, (struct sockaddr *) &sll, sizeof sll), 0);
    return track_fd(fd);
}

static void
peer_send(int fd, const void *frame, size_t len,
          const struct virtio_net_hdr *vnet)
{
    struct virtio_net_hdr zero;
    struct iovec iov[2];
    struct msghdr msg;
    int i = 0;

    memset(&zero, 0, sizeof zero);
    if (vnet) {
        iov[i].iov_base = (void *) vnet;
        iov[i++].iov_len = sizeof *vnet;
    }
    iov[i].iov_base = (void *) frame;
    iov[i++].iov_len = len;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = i;
    ssize_t n = sendmsg(fd, &msg, 0);
    if (n < 0) {
        print_message("# sendmsg: %s\n", strerror(errno));
    }
    assert_int_equal(n, len + (vnet ? sizeof *vnet : 0));
}

static bool
is_test_frame(const uint8_t *f, size_t len)
{
    return len >= 12 && !memcmp(f + 6, mac_test, 5);
}

/* Receives the next test frame on peer socket 'fd' into 'buf'; returns its
 * length, or -1 after 'timeout_ms' without one. */
static ssize_t
peer_recv(int fd, uint8_t *buf, size_t size, struct virtio_net_hdr *vnet,
          int timeout_ms)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        struct iovec iov[2];
        struct msghdr msg;
        int i = 0;

        if (poll(&pfd, 1, timeout_ms) <= 0) {
            return -1;
        }
        if (vnet) {
            iov[i].iov_base = vnet;
            iov[i++].iov_len = sizeof *vnet;
        }
        iov[i].iov_base = buf;
        iov[i++].iov_len = size;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = i;
        ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
        if (n < 0) {
            continue;
        }
        n -= vnet ? sizeof *vnet : 0;
        if (is_test_frame(buf, n)) {
            return n;
        }
    }
}

/* Receives up to 'want' packets from 'v' for which 'match' holds (others
 * are freed), waiting at most 'timeout_ms' for each; returns how many. */
static int
vport_collect(struct vport *v, struct dp_packet **out, int want,
              bool (*match)(const struct dp_packet *), int timeout_ms)
{
    int got = 0;

    while (got < want) {
        struct dp_packet *pkts[VPORT_BATCH];
        struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
        int n;

        n = v->ops->recv(v, pkts, VPORT_BATCH);
        assert_true(n >= 0);
        if (!n) {
            if (poll(&pfd, 1, timeout_ms) <= 0) {
                break;
            }
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (got < want && match(pkts[i])) {
                out[got++] = pkts[i];
            } else {
                dp_packet_free(pkts[i]);
            }
        }
    }
    return got;
}

static bool
match_test_frame(const struct dp_packet *p)
{
    return is_test_frame(dp_packet_data(p), p->len);
}

static struct dp_packet *
vport_recv_one(struct vport *v)
{
    struct dp_packet *p = NULL;

    assert_int_equal(vport_collect(v, &p, 1, match_test_frame, 2000), 1);
    return p;
}

static void
free_all(struct dp_packet **p, int n)
{
    for (int i = 0; i < n; i++) {
        dp_packet_free(p[i]);
    }
}

/* ---- Frame builders. ---- */

static size_t
put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = type >> 8;
    f[13] = type & 0xff;
    return 14;
}

/* A test frame of 'len' bytes with EtherType 0x88b5 and payload bytes
 * derived from 'seed'. */
static size_t
make_frame(uint8_t *f, size_t len, unsigned seed)
{
    size_t o = put_eth(f, mac_other, mac_test, 0x88b5);

    for (size_t i = o; i < len; i++) {
        f[i] = (uint8_t) (seed * 7 + i);
    }
    return len;
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xff;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t) get16(p) << 16 | get16(p + 2);
}

static const uint8_t ip_src[4] = { 10, 99, 0, 2 };
static const uint8_t ip_dst[4] = { 10, 99, 0, 1 };

/* IPv4 header at 'ip' for 'l4_len' bytes of protocol 'proto'. */
static void
put_ipv4(uint8_t *ip, uint8_t proto, size_t l4_len)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t) (20 + l4_len));
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, ip_src, 4);
    memcpy(ip + 16, ip_dst, 4);
    uint16_t c = csum_fold(csum_partial(ip, 20, 0));
    memcpy(ip + 10, &c, 2);
}

/* The partial checksum a sender leaves for NEEDS_CSUM: the folded,
 * uncomplemented pseudo-header sum. */
static void
put_pseudo_csum(uint8_t *at, uint8_t proto, size_t l4_len)
{
    uint32_t s, d;

    memcpy(&s, ip_src, 4);
    memcpy(&d, ip_dst, 4);
    uint16_t c = (uint16_t) ~csum_fold(csum_pseudo4(s, d, proto,
                                                     (uint16_t) l4_len));
    memcpy(at, &c, 2);
}

/* Whether the L4 checksum of the IPv4 packet at 'ip' verifies. */
static bool
l4_csum_ok(const uint8_t *ip)
{
    size_t ihl = (ip[0] & 0xf) * 4, l4_len = get16(ip + 2) - ihl;
    uint32_t s, d;

    memcpy(&s, ip + 12, 4);
    memcpy(&d, ip + 16, 4);
    return csum_fold(csum_partial(ip + ihl, l4_len,
                                  csum_pseudo4(s, d, ip[9],
                                               (uint16_t) l4_len))) == 0;
}

/* An Ethernet/IPv4/TCP super-packet with 'payload' bytes, as a sender with
 * TSO leaves it: partial checksum, gso_size 'mss'. */
static size_t
make_tcp_super(uint8_t *f, size_t payload, uint16_t mss,
               struct virtio_net_hdr *vnet)
{
    size_t o = put_eth(f, mac_other, mac_test, 0x0800);
    uint8_t *tcp = f + o + 20;

    put_ipv4(f + o, IPPROTO_TCP, 20 + payload);
    memset(tcp, 0, 20);
    put16(tcp, 40000);
    put16(tcp + 2, 5001);
    put32(tcp + 4, 1000000);
    put32(tcp + 8, 1);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;             /* PSH, ACK */
    put16(tcp + 14, 65535);
    for (size_t i = 0; i < payload; i++) {
        tcp[20 + i] = (uint8_t) (i * 13 + 1);
    }
    put_pseudo_csum(tcp + 16, IPPROTO_TCP, 20 + payload);
    memset(vnet, 0, sizeof *vnet);
    vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vnet->csum_start = o + 20;
    vnet->csum_offset = 16;
    if (mss) {
        vnet->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        vnet->gso_size = mss;
        vnet->hdr_len = o + 40;
    }
    return o + 40 + payload;
}

/* An Ethernet/IPv4/UDP datagram (or USO super-packet if 'mss') to
 * 'dst_mac' port 'port', partial checksum. */
static size_t
make_udp(uint8_t *f, const uint8_t *dst_mac, uint16_t port, size_t payload,
         uint16_t mss, struct virtio_net_hdr *vnet)
{
    size_t o = put_eth(f, dst_mac, mac_test, 0x0800);
    uint8_t *udp = f + o + 20;

    put_ipv4(f + o, IPPROTO_UDP, 8 + payload);
    put16(udp, 40001);
    put16(udp + 2, port);
    put16(udp + 4, (uint16_t) (8 + payload));
    for (size_t i = 0; i < payload; i++) {
        udp[8 + i] = (uint8_t) (i * 5 + 3);
    }
    put_pseudo_csum(udp + 6, IPPROTO_UDP, 8 + payload);
    memset(vnet, 0, sizeof *vnet);
    vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vnet->csum_start = o + 20;
    vnet->csum_offset = 6;
    if (mss) {
        vnet->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
        vnet->gso_size = mss;
        vnet->hdr_len = o + 28;
    }
    return o + 28 + payload;
}

static struct dp_packet *
packet_of(const uint8_t *f, size_t len, const struct virtio_net_hdr *vnet)
{
    struct dp_packet *p = dp_packet_copy_from(f, len, DP_PACKET_HEADROOM);

    assert_non_null(p);
    if (vnet) {
        p->vnet = *vnet;
    }
    return p;
}

static void
send_one(struct vport *v, struct dp_packet *p)
{
    v->ops->send(v, &p, 1);
}

/* ---- The ops table and shared helpers. ---- */

static void
test_ops_find(void **state)
{
    (void) state;
    const struct vport_ops *ops = vport_ops_find(OVS_VPORT_TYPE_NETDEV);

    assert_ptr_equal(ops, &vport_netdev_ops);
    assert_string_equal(ops->type_name, "netdev");
    assert_int_equal(ops->type, OVS_VPORT_TYPE_NETDEV);
    ops = vport_ops_find(OVS_VPORT_TYPE_INTERNAL);
    assert_ptr_equal(ops, &vport_internal_ops);
    assert_string_equal(ops->type_name, "internal");
    assert_null(vport_ops_find(OVS_VPORT_TYPE_UNSPEC));
    assert_null(vport_ops_find((enum ovs_vport_type) 77));
}

static void
test_get_stats(void **state)
{
    (void) state;
    struct ovs_vport_stats s;
    struct vport v;

    vport_init(&v, "x", &vport_netdev_ops);
    v.stats.rx_packets = 1;
    v.stats.tx_packets = 2;
    v.stats.rx_bytes = 3;
    v.stats.tx_bytes = 4;
    v.stats.rx_errors = 5;
    v.stats.tx_errors = 6;
    v.stats.rx_dropped = 7;
    v.stats.tx_dropped = 8;
    vport_get_stats(&v, &s);
    assert_int_equal(s.rx_packets, 1);
    assert_int_equal(s.tx_packets, 2);
    assert_int_equal(s.rx_bytes, 3);
    assert_int_equal(s.tx_bytes, 4);
    assert_int_equal(s.rx_errors, 5);
    assert_int_equal(s.tx_errors, 6);
    assert_int_equal(s.rx_dropped, 7);
    assert_int_equal(s.tx_dropped, 8);
}

static bool
vnet_ok(uint8_t flags, uint16_t start, uint16_t off, uint8_t gso,
        uint16_t size, uint16_t hdr_len, size_t len)
{
    struct virtio_net_hdr h = {
        .flags = flags, .gso_type = gso, .hdr_len = hdr_len,
        .gso_size = size, .csum_start = start, .csum_offset = off,
    };
    return vport_vnet_hdr_valid(&h, len);
}

static void
test_vnet_hdr_valid(void **state)
{
    (void) state;
    const uint8_t nc = VIRTIO_NET_HDR_F_NEEDS_CSUM;

    assert_true(vnet_ok(0, 0, 0, 0, 0, 0, 60));
    assert_true(vnet_ok(VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 60));
    assert_true(vnet_ok(nc, 34, 16, 0, 0, 0, 60));
    assert_true(vnet_ok(nc, 34, 16, 0, 0, 0, 52));
    assert_false(vnet_ok(nc, 34, 16, 0, 0, 0, 51));
    assert_false(vnet_ok(nc, 65535, 65535, 0, 0, 0, 60));
    assert_false(vnet_ok(VIRTIO_NET_HDR_F_RSC_INFO, 0, 0, 0, 0, 0, 60));
    assert_false(vnet_ok(0x80, 0, 0, 0, 0, 0, 60));
    assert_true(vnet_ok(nc, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 54,
                        3000));
    assert_true(vnet_ok(nc, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4
                        | VIRTIO_NET_HDR_GSO_ECN, 1448, 54, 3000));
    assert_false(vnet_ok(nc, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4, 0, 54,
                         3000));
    assert_false(vnet_ok(nc, 34, 16, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 3001,
                         3000));
    assert_true(vnet_ok(nc, 54, 16, VIRTIO_NET_HDR_GSO_TCPV6, 1440, 74,
                        3000));
    assert_true(vnet_ok(nc, 34, 6, VIRTIO_NET_HDR_GSO_UDP_L4, 500, 42,
                        3000));
    assert_true(vnet_ok(0, 0, 0, VIRTIO_NET_HDR_GSO_UDP, 1480, 0, 3000));
    assert_false(vnet_ok(0, 0, 0, 2, 1448, 0, 3000));
    assert_false(vnet_ok(0, 0, 0, 6, 1448, 0, 3000));
    assert_false(vnet_ok(0, 0, 0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 60));
}

/* ---- netdev. ---- */

static void
test_netdev_open_errors(void **state)
{
    (void) state;
    const char *reason = NULL;
    struct vport v;

    require_netns();
    vport_init(&v, "hvsut-nope", &vport_netdev_ops);
    assert_int_equal(v.ops->open(&v, &reason), -ENODEV);
    assert_string_equal(reason, "no such host interface");
    assert_int_equal(v.fd, -1);

    reason = NULL;
    vport_init(&v, "lo", &vport_netdev_ops);
    assert_int_equal(v.ops->open(&v, &reason), -EINVAL);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "loopback"));
    assert_int_equal(v.fd, -1);

    /* A TUN device has no Ethernet header. */
    assert_int_equal(sh("ip tuntap add hvsut-tun mode tun"), 0);
    reason = NULL;
    vport_init(&v, "hvsut-tun", &vport_netdev_ops);
    assert_int_equal(v.ops->open(&v, &reason), -EINVAL);
    assert_string_equal(reason, "not an Ethernet interface");
    assert_int_equal(v.fd, -1);
    assert_int_equal(sh("ip link del hvsut-tun"), 0);
}

static struct vport *
netdev_open_a(void)
{
    struct vport *v = vport_slot();
    const char *reason = NULL;
    int err;

    vport_init(v, VETH_A, &vport_netdev_ops);
    err = v->ops->open(v, &reason);
    if (err) {
        print_message("# open: %d %s\n", err, reason ? reason : "");
    }
    assert_int_equal(err, 0);
    return v;
}

static void
test_netdev_rx_frame(void **state)
{
    (void) state;
    uint8_t f[64];
    struct ovs_vport_stats st;

    require_netns();
    struct vport *v = netdev_open_a();
    assert_true(v->fd >= 0);
    assert_int_equal(v->ifindex, if_nametoindex(VETH_A));
    assert_int_equal(v->mtu, VETH_MTU);
    assert_true(v->tx_csum_offload);
    assert_true(v->tx_tso);
    assert_int_equal(sh("ip -d link show " VETH_A
                        " | grep -q 'promiscuity 1 '"), 0);
    /* The datapath never reads its own sends or blocks. */
    assert_true(fcntl(v->fd, F_GETFL) & O_NONBLOCK);

    int peer = peer_open(VETH_B, false);
    make_frame(f, sizeof f, 1);
    peer_send(peer, f, sizeof f, NULL);
    struct dp_packet *p = vport_recv_one(v);
    assert_int_equal(p->len, sizeof f);
    assert_memory_equal(dp_packet_data(p), f, sizeof f);
    assert_true(dp_packet_headroom(p) >= DP_PACKET_HEADROOM);
    assert_int_equal(p->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    assert_false(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(p->l3_ofs, DP_OFS_NONE);
    dp_packet_free(p);

    vport_get_stats(v, &st);
    assert_int_equal(st.rx_packets, 1);
    assert_int_equal(st.rx_bytes, sizeof f);
    assert_int_equal(st.rx_errors, 0);
    assert_int_equal(st.tx_packets, 0);

    /* Nothing waiting: 0, not an error. */
    struct dp_packet *none[4];
    assert_int_equal(v->ops->recv(v, none, 4), 0);

    v->ops->close(v);
    assert_int_equal(v->fd, -1);
    assert_int_equal(sh("ip -d link show " VETH_A
                        " | grep -q 'promiscuity 0 '"), 0);
}

static void
test_netdev_rx_batch(void **state)
{
    (void) state;
    enum { N = 100 };
    static uint8_t f[VETH_MTU + 100];
    struct dp_packet *got[N];
    struct ovs_vport_stats st;
    uint64_t bytes = 0;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, false);
    for (int i = 0; i < N; i++) {
        /* Mostly small frames, some past the copy threshold. */
        size_t len = i % 10 == 9 ? 3000 + i * 40 : 60 + i;

        make_frame(f, len, i);
        peer_send(peer, f, len, NULL);
        bytes += len;
    }
    assert_int_equal(vport_collect(v, got, N, match_test_frame, 2000), N);
    for (int i = 0; i < N; i++) {
        size_t len = i % 10 == 9 ? 3000 + i * 40 : 60 + i;

        make_frame(f, len, i);
        assert_int_equal(got[i]->len, len);
        assert_memory_equal(dp_packet_data(got[i]), f, len);
        assert_true(dp_packet_headroom(got[i]) >= DP_PACKET_HEADROOM);
    }
    free_all(got, N);
    vport_get_stats(v, &st);
    assert_int_equal(st.rx_packets, N);
    assert_int_equal(st.rx_bytes, bytes);

    /* The largest non-GSO frame the MTU allows. */
    size_t big = 14 + VETH_MTU;
    make_frame(f, big, 5);
    peer_send(peer, f, big, NULL);
    struct dp_packet *p = vport_recv_one(v);
    assert_int_equal(p->len, big);
    assert_memory_equal(dp_packet_data(p), f, big);
    dp_packet_free(p);

    v->ops->close(v);
}

static int bench_fill(int peer, int n);

/* Frames beyond what the port can hold are dropped and counted. */
static void
test_netdev_rx_overflow(void **state)
{
    (void) state;
    enum { N = 6000 };
    struct ovs_vport_stats st;
    struct dp_packet *pkts[VPORT_BATCH];
    struct mmsghdr m[50];
    uint8_t f[64];
    struct iovec iov = { .iov_base = f, .iov_len = sizeof f };
    int sent = 0, got = 0, n;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, false);
    make_frame(f, sizeof f, 0);
    memset(m, 0, sizeof m);
    for (int i = 0; i < 50; i++) {
        m[i].msg_hdr.msg_iov = &iov;
        m[i].msg_hdr.msg_iovlen = 1;
    }
    while (sent < N) {
        n = sendmmsg(peer, m, 50, 0);
        assert_true(n > 0);
        sent += n;
    }
    /* The drops are counted as soon as the port has room again. */
    n = v->ops->recv(v, pkts, VPORT_BATCH);
    assert_int_equal(n, VPORT_BATCH);
    got += n;
    free_all(pkts, n);
    int more = 0;
    for (int i = 0; i < 10; i++) {
        more += bench_fill(peer, 1);
    }
    while ((n = v->ops->recv(v, pkts, VPORT_BATCH)) == VPORT_BATCH) {
        got += n;
        free_all(pkts, n);
    }
    assert_true(n >= 0);
    got += n;
    free_all(pkts, n);
    vport_get_stats(v, &st);
    assert_int_equal(st.rx_packets, got);
    assert_true(st.rx_dropped > 0);
    assert_int_equal(got + st.rx_dropped, sent + more);
    assert_int_equal(v->ops->recv(v, pkts, VPORT_BATCH), 0);
    v->ops->close(v);
}

/* Sends 'f' tagged from the peer and expects the vport to deliver it with
 * the tag back in place, although the kernel strips it on receive. */
static void
check_vlan_frame(struct vport *v, int peer, const uint8_t *f, size_t len)
{
    peer_send(peer, f, len, NULL);
    struct dp_packet *p = vport_recv_one(v);
    assert_int_equal(p->len, len);
    assert_memory_equal(dp_packet_data(p), f, len);
    assert_true(dp_packet_headroom(p) >= DP_PACKET_HEADROOM);
    dp_packet_free(p);
}

static void
test_netdev_rx_vlan(void **state)
{
    (void) state;
    static uint8_t f[6000];
    size_t o;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, false);

    /* 802.1Q, VID 100, PCP 5. */
    make_frame(f, 80, 2);
    memmove(f + 16, f + 12, 80 - 12);
    put16(f + 12, 0x8100);
    put16(f + 14, 5 << 13 | 100);
    check_vlan_frame(v, peer, f, 84);

    /* Priority tag only: VID 0 is still a tag. */
    put16(f + 14, 3 << 13);
    check_vlan_frame(v, peer, f, 84);

    /* 802.1ad outer tag over 802.1Q: the outer one is stripped. */
    make_frame(f, 90, 3);
    memmove(f + 20, f + 12, 90 - 12);
    put16(f + 12, 0x88a8);
    put16(f + 14, 10);
    put16(f + 16, 0x8100);
    put16(f + 18, 20);
    check_vlan_frame(v, peer, f, 98);

    /* A tagged frame large enough to keep its receive buffer. */
    o = make_frame(f, 5000, 4);
    memmove(f + 16, f + 12, o - 12);
    put16(f + 12, 0x8100);
    put16(f + 14, 4000);
    check_vlan_frame(v, peer, f, o + 4);

    v->ops->close(v);
}

/* The offload state of a tagged frame: csum_start moves with the tag. */
static void
test_netdev_rx_vlan_csum(void **state)
{
    (void) state;
    struct virtio_net_hdr vnet;
    uint8_t f[200];
    size_t len;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, true);
    len = make_udp(f, mac_other, 9, 100, 0, &vnet);
    memmove(f + 16, f + 12, len - 12);
    put16(f + 12, 0x8100);
    put16(f + 14, 7);
    len += 4;
    vnet.csum_start += 4;
    peer_send(peer, f, len, &vnet);

    struct dp_packet *p = vport_recv_one(v);
    assert_int_equal(p->len, len);
    assert_memory_equal(dp_packet_data(p), f, len);
    assert_true(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(p->vnet.csum_start, 14 + 4 + 20);
    assert_int_equal(p->vnet.csum_offset, 6);
    dp_packet_free(p);
    v->ops->close(v);
}

static void
test_netdev_rx_gso(void **state)
{
    (void) state;
    static uint8_t f[20000];
    struct virtio_net_hdr vnet;
    size_t len;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, true);
    /* Longer than the MTU: only a super-packet can carry it. */
    len = make_tcp_super(f, 16000, 1448, &vnet);
    peer_send(peer, f, len, &vnet);

    struct dp_packet *p = vport_recv_one(v);
    assert_int_equal(p->len, len);
    assert_memory_equal(dp_packet_data(p), f, len);
    assert_int_equal(p->vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(p->vnet.gso_size, 1448);
    assert_true(p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(p->vnet.csum_start, 34);
    assert_int_equal(p->vnet.csum_offset, 16);
    assert_true(p->vnet.hdr_len <= len);
    assert_true(dp_packet_headroom(p) >= DP_PACKET_HEADROOM);
    dp_packet_free(p);

    struct ovs_vport_stats st;
    vport_get_stats(v, &st);
    assert_int_equal(st.rx_packets, 1);
    assert_int_equal(st.rx_bytes, len);
    v->ops->close(v);
}

static void
test_netdev_tx_frame(void **state)
{
    (void) state;
    uint8_t f[200], buf[2048];
    struct ovs_vport_stats st;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, false);

    make_frame(f, 100, 9);
    send_one(v, packet_of(f, 100, NULL));
    assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 2000), 100);
    assert_memory_equal(buf, f, 100);

    /* trunc(30): the first 30 bytes only. */
    struct dp_packet *p = packet_of(f, 100, NULL);
    p->cutlen = 30;
    send_one(v, p);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 2000), 30);
    assert_memory_equal(buf, f, 30);

    /* A batch larger than one sendmmsg(), sharing one data block. */
    struct dp_packet *many[VPORT_BATCH * 2 + 3];
    int n = sizeof many / sizeof *many;
    many[0] = packet_of(f, 100, NULL);
    for (int i = 1; i < n; i++) {
        many[i] = dp_packet_clone(many[0]);
        assert_non_null(many[i]);
    }
    v->ops->send(v, many, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 2000), 100);
        assert_memory_equal(buf, f, 100);
    }

    vport_get_stats(v, &st);
    assert_int_equal(st.tx_packets, 2 + n);
    assert_int_equal(st.tx_bytes, 130 + 100 * n);
    assert_int_equal(st.tx_errors, 0);
    assert_int_equal(st.tx_dropped, 0);
    assert_int_equal(st.rx_packets, 0);
    v->ops->close(v);
}

/* One bad frame in a batch costs only itself. */
static void
test_netdev_tx_errors(void **state)
{
    (void) state;
    static uint8_t f[VETH_MTU + 200], buf[VETH_MTU + 200];
    struct ovs_vport_stats st;
    struct dp_packet *b[3];

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, false);
    make_frame(f, VETH_MTU + 100, 1);
    b[0] = packet_of(f, 60, NULL);
    b[1] = packet_of(f, VETH_MTU + 100, NULL);  /* > MTU, no GSO */
    b[2] = packet_of(f, 61, NULL);
    v->ops->send(v, b, 3);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 2000), 60);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 2000), 61);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 200), -1);
    vport_get_stats(v, &st);
    assert_int_equal(st.tx_packets, 2);
    assert_int_equal(st.tx_bytes, 121);
    assert_int_equal(st.tx_errors, 1);

    /* A partial checksum outside the frame cannot be completed. */
    v->tx_csum_offload = false;
    struct dp_packet *p = packet_of(f, 60, NULL);
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = 50;
    p->vnet.csum_offset = 20;
    send_one(v, p);
    vport_get_stats(v, &st);
    assert_int_equal(st.tx_errors, 2);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, NULL, 200), -1);

    /* Interface down: dropped and counted, nothing blocks. */
    assert_int_equal(sh("ip link set " VETH_A " down"), 0);
    b[0] = packet_of(f, 60, NULL);
    b[1] = packet_of(f, 60, NULL);
    b[2] = packet_of(f, 60, NULL);
    v->ops->send(v, b, 3);
    vport_get_stats(v, &st);
    assert_int_equal(st.tx_dropped, 3);
    assert_int_equal(st.tx_packets, 2);
    struct dp_packet *none[4];
    assert_int_equal(v->ops->recv(v, none, 4), 0);
    assert_int_equal(sh("ip link set " VETH_A " up"), 0);

    v->ops->close(v);
}

static void
test_netdev_tx_gso(void **state)
{
    (void) state;
    static uint8_t f[20000], buf[20000], joined[20000];
    struct virtio_net_hdr vnet, rx_vnet;
    struct ovs_vport_stats st;
    size_t len, payload = 12000;
    const uint16_t mss = 1000;

    require_netns();
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, true);
    len = make_tcp_super(f, payload, mss, &vnet);

    /* The veth takes the super-packet whole. */
    send_one(v, packet_of(f, len, &vnet));
    assert_int_equal(peer_recv(peer, buf, sizeof buf, &rx_vnet, 2000), len);
    assert_memory_equal(buf, f, len);
    assert_int_equal(rx_vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(rx_vnet.gso_size, mss);

    /* A port without TSO gets segments with complete checksums. */
    v->tx_tso = false;
    send_one(v, packet_of(f, len, &vnet));
    size_t nseg = (payload + mss - 1) / mss, joined_len = 0;
    for (size_t i = 0; i < nseg; i++) {
        ssize_t n = peer_recv(peer, buf, sizeof buf, &rx_vnet, 2000);

        assert_true(n > 54);
        assert_true((size_t) n <= 54 + mss);
        assert_int_equal(rx_vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
        assert_false(rx_vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
        assert_int_equal(get16(buf + 16), n - 14);
        assert_true(l4_csum_ok(buf + 14));
        assert_int_equal(get32(buf + 38), 1000000 + i * mss);
        memcpy(joined + joined_len, buf + 54, n - 54);
        joined_len += n - 54;
    }
    assert_int_equal(joined_len, payload);
    assert_memory_equal(joined, f + 54, payload);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, &rx_vnet, 200), -1);

    /* Without checksum offload a partial checksum is completed. */
    v->tx_csum_offload = false;
    len = make_udp(f, mac_other, 9, 300, 0, &vnet);
    send_one(v, packet_of(f, len, &vnet));
    assert_int_equal(peer_recv(peer, buf, sizeof buf, &rx_vnet, 2000), len);
    assert_false(rx_vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_true(l4_csum_ok(buf + 14));
    assert_memory_equal(buf + 42, f + 42, 300);

    /* A cut super-packet goes out as one plain frame whose header shows
     * the checksum of the whole. */
    v->tx_csum_offload = true;
    v->tx_tso = true;
    len = make_tcp_super(f, payload, mss, &vnet);
    struct dp_packet *p = packet_of(f, len, &vnet);
    p->cutlen = 100;
    send_one(v, p);
    assert_int_equal(peer_recv(peer, buf, sizeof buf, &rx_vnet, 2000), 100);
    assert_int_equal(rx_vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    assert_false(rx_vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    memcpy(f + 50, buf + 50, 2);
    assert_true(l4_csum_ok(f + 14));
    assert_memory_equal(buf, f, 100);

    vport_get_stats(v, &st);
    assert_int_equal(st.tx_packets, 1 + nseg + 1 + 1);
    assert_int_equal(st.tx_errors, 0);
    v->ops->close(v);
}

/* ---- internal. ---- */

static struct vport *
internal_open(void)
{
    struct vport *v = vport_slot();
    const char *reason = NULL;
    int err;

    vport_init(v, INT_NAME, &vport_internal_ops);
    err = v->ops->open(v, &reason);
    if (err) {
        print_message("# open: %d %s\n", err, reason ? reason : "");
    }
    assert_int_equal(err, 0);
    return v;
}

static void
test_internal_open_close(void **state)
{
    (void) state;
    const char *reason = NULL;
    struct vport v2;

    require_netns();
    struct vport *v = internal_open();
    assert_true(v->fd >= 0);
    assert_int_equal(v->ifindex, if_nametoindex(INT_NAME));
    assert_int_not_equal(v->ifindex, 0);
    assert_int_equal(v->mtu, 1500);
    assert_true(v->tx_csum_offload);
    assert_true(v->tx_tso);
    /* A TAP device, created down, with a locally administered MAC. */
    assert_int_equal(sh("ip -d link show " INT_NAME
                        " | grep -q 'tun type tap .*vnet_hdr on'"), 0);
    assert_false(if_flags(INT_NAME) & IFF_UP);
    uint8_t mac[6];
    if_mac(INT_NAME, mac);
    assert_int_equal(mac[0] & 3, 2);

    /* The name is taken, by us or by anything else. */
    vport_init(&v2, INT_NAME, &vport_internal_ops);
    assert_int_equal(v2.ops->open(&v2, &reason), -EEXIST);
    assert_non_null(reason);
    assert_int_equal(v2.fd, -1);
    reason = NULL;
    vport_init(&v2, VETH_A, &vport_internal_ops);
    assert_int_equal(v2.ops->open(&v2, &reason), -EEXIST);
    assert_non_null(reason);
    assert_int_not_equal(if_nametoindex(VETH_A), 0);

    reason = NULL;
    vport_init(&v2, "hvsut%d", &vport_internal_ops);
    assert_int_equal(v2.ops->open(&v2, &reason), -EINVAL);
    assert_non_null(reason);

    /* Nothing to receive while down; what is sent is dropped. */
    struct dp_packet *none[4];
    assert_int_equal(v->ops->recv(v, none, 4), 0);
    uint8_t f[60];
    struct ovs_vport_stats st;
    make_frame(f, sizeof f, 1);
    send_one(v, packet_of(f, sizeof f, NULL));
    vport_get_stats(v, &st);
    assert_int_equal(st.tx_dropped, 1);
    assert_int_equal(st.tx_packets, 0);
    assert_int_equal(st.tx_errors, 0);

    v->ops->close(v);
    assert_int_equal(v->fd, -1);
    assert_int_equal(if_nametoindex(INT_NAME), 0);
}

static struct vport *
internal_up(void)
{
    struct vport *v = internal_open();

    assert_int_equal(sh("ip addr add 10.99.0.1/24 dev " INT_NAME
                        " && ip link set " INT_NAME " up"), 0);
    return v;
}

static bool
match_arp_reply(const struct dp_packet *p)
{
    const uint8_t *f = dp_packet_data(p);

    return p->len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 2
           && !memcmp(f, mac_test, 6);
}

static bool
match_echo_reply(const struct dp_packet *p)
{
    const uint8_t *f = dp_packet_data(p);

    return p->len >= 42 && get16(f + 12) == 0x0800 && f[23] == IPPROTO_ICMP
           && f[34] == 0 && !memcmp(f, mac_test, 6);
}

/* The host stack answers ARP and ping sent from the datapath, and the
 * answers come back through the port. */
static void
test_internal_arp_ping(void **state)
{
    (void) state;
    uint8_t f[128], host_mac[6];
    struct ovs_vport_stats st;
    struct dp_packet *p = NULL;
    size_t o;

    require_netns();
    struct vport *v = internal_up();
    if_mac(INT_NAME, host_mac);

    /* ARP: who has 10.99.0.1?  Tell 10.99.0.2. */
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    o = put_eth(f, bcast, mac_test, 0x0806);
    put16(f + o, 1);
    put16(f + o + 2, 0x0800);
    f[o + 4] = 6;
    f[o + 5] = 4;
    put16(f + o + 6, 1);
    memcpy(f + o + 8, mac_test, 6);
    memcpy(f + o + 14, ip_src, 4);
    memset(f + o + 18, 0, 6);
    memcpy(f + o + 24, ip_dst, 4);
    send_one(v, packet_of(f, 60, NULL));
    assert_int_equal(vport_collect(v, &p, 1, match_arp_reply, 2000), 1);
    const uint8_t *r = dp_packet_data(p);
    assert_memory_equal(r + 6, host_mac, 6);
    assert_memory_equal(r + 22, host_mac, 6);
    assert_memory_equal(r + 28, ip_dst, 4);
    assert_memory_equal(r + 32, mac_test, 6);
    assert_memory_equal(r + 38, ip_src, 4);
    dp_packet_free(p);

    /* ICMP echo request 10.99.0.2 -> 10.99.0.1. */
    o = put_eth(f, host_mac, mac_test, 0x0800);
    put_ipv4(f + o, IPPROTO_ICMP, 8 + 32);
    uint8_t *icmp = f + o + 20;
    memset(icmp, 0, 8);
    icmp[0] = 8;
    put16(icmp + 4, 0x4856);
    put16(icmp + 6, 1);
    for (int i = 0; i < 32; i++) {
        icmp[8 + i] = (uint8_t) i;
    }
    uint16_t c = csum_fold(csum_partial(icmp, 40, 0));
    memcpy(icmp + 2, &c, 2);
    send_one(v, packet_of(f, o + 60, NULL));
    assert_int_equal(vport_collect(v, &p, 1, match_echo_reply, 2000), 1);
    r = dp_packet_data(p);
    assert_memory_equal(r + 26, ip_dst, 4);
    assert_memory_equal(r + 30, ip_src, 4);
    assert_int_equal(get16(r + 38), 0x4856);
    assert_memory_equal(r + 42, icmp + 8, 32);
    dp_packet_free(p);

    vport_get_stats(v, &st);
    assert_int_equal(st.tx_packets, 2);
    assert_int_equal(st.tx_bytes, 60 + o + 60);
    assert_true(st.rx_packets >= 2);
    v->ops->close(v);
}

static bool
match_udp_to_peer(const struct dp_packet *p)
{
    const uint8_t *f = dp_packet_data(p);

    return p->len >= 42 && get16(f + 12) == 0x0800 && f[23] == IPPROTO_UDP
           && !memcmp(f + 30, ip_src, 4) && get16(f + 36) == 9999;
}

/* The host stack hands the port a UDP super-packet (USO) with a partial
 * checksum; on kernels without USO on TAP, separate datagrams. */
static void
test_internal_rx_uso(void **state)
{
    (void) state;
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_port = htons(9999) };
    /* 4000 bytes: longer than the receive copy threshold. */
    static uint8_t msg[4000];
    struct dp_packet *p[8];
    int n;

    require_netns();
    struct vport *v = internal_up();
    assert_int_equal(sh("ip neigh replace 10.99.0.2 lladdr "
                        "02:48:56:00:00:01 dev " INT_NAME), 0);
    int s = track_fd(socket(AF_INET, SOCK_DGRAM, 0));
    assert_true(s >= 0);
    set_int(s, IPPROTO_UDP, UDP_SEGMENT, 500);
    memcpy(&to.sin_addr, ip_src, 4);
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] = (uint8_t) i;
    }
    assert_int_equal(sendto(s, msg, sizeof msg, 0, (struct sockaddr *) &to,
                            sizeof to), sizeof msg);
    n = vport_collect(v, p, 1, match_udp_to_peer, 2000);
    assert_int_equal(n, 1);
    if (p[0]->vnet.gso_type == VIRTIO_NET_HDR_GSO_UDP_L4) {
        assert_int_equal(p[0]->len, 42 + sizeof msg);
        assert_int_equal(p[0]->vnet.gso_size, 500);
        assert_true(p[0]->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
        assert_int_equal(p[0]->vnet.csum_start, 34);
        assert_int_equal(p[0]->vnet.csum_offset, 6);
        assert_memory_equal(dp_packet_data(p[0]) + 42, msg, sizeof msg);
    } else {
        print_message("# no USO on this kernel's TAP\n");
        n += vport_collect(v, p + 1, 7, match_udp_to_peer, 2000);
        assert_int_equal(n, 8);
        for (int i = 0; i < 8; i++) {
            assert_int_equal(p[i]->len, 42 + 500);
        }
    }
    free_all(p, n);
    v->ops->close(v);
}

/* A UDP super-packet sent to the host stack arrives as datagrams, whether
 * the TAP takes it whole or the vport segments it. */
static void
test_internal_tx_uso(void **state)
{
    (void) state;
    struct sockaddr_in me = { .sin_family = AF_INET,
                              .sin_port = htons(7777) };
    struct virtio_net_hdr vnet;
    static uint8_t f[4000], buf[4000];
    uint8_t host_mac[6];
    struct ovs_vport_stats st;
    size_t len;

    require_netns();
    struct vport *v = internal_up();
    if_mac(INT_NAME, host_mac);
    int s = track_fd(socket(AF_INET, SOCK_DGRAM, 0));
    assert_true(s >= 0);
    memcpy(&me.sin_addr, ip_dst, 4);
    assert_int_equal(bind(s, (struct sockaddr *) &me, sizeof me), 0);

    len = make_udp(f, host_mac, 7777, 2000, 500, &vnet);
    for (int round = 0; round < 2; round++) {
        v->tx_tso = round == 0;
        send_one(v, packet_of(f, len, &vnet));
        for (int i = 0; i < 4; i++) {
            struct pollfd pfd = { .fd = s, .events = POLLIN };

            assert_int_equal(poll(&pfd, 1, 2000), 1);
            assert_int_equal(recv(s, buf, sizeof buf, MSG_DONTWAIT), 500);
            assert_memory_equal(buf, f + 42 + i * 500, 500);
        }
    }
    vport_get_stats(v, &st);
    assert_int_equal(st.tx_packets, 1 + 4);
    assert_int_equal(st.tx_errors, 0);
    v->ops->close(v);
}

/* ---- Benchmark (HVS_VPORT_BENCH=1). ---- */

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Queues 'n' 64-byte frames from the peer towards the vport's end. */
static int
bench_fill(int peer, int n)
{
    enum { B = 64 };
    uint8_t f[64];
    struct mmsghdr m[B];
    struct iovec iov = { .iov_base = f, .iov_len = sizeof f };
    int sent = 0;

    make_frame(f, sizeof f, 0);
    for (int i = 0; i < B; i++) {
        memset(&m[i], 0, sizeof m[i]);
        m[i].msg_hdr.msg_iov = &iov;
        m[i].msg_hdr.msg_iovlen = 1;
    }
    while (sent < n) {
        int k = sendmmsg(peer, m, n - sent < B ? n - sent : B, 0);

        if (k <= 0) {
            break;
        }
        sent += k;
    }
    return sent;
}

/* The plain-socket alternative to the ring: recvmmsg() of 32 frames into
 * fixed buffers, then a right-sized copy each, as the vport's fallback. */
static int
bench_recvmmsg(int fd, struct dp_packet **pkts)
{
    static uint8_t bufs[VPORT_BATCH][2048];
    struct virtio_net_hdr vnet[VPORT_BATCH];
    struct iovec iov[VPORT_BATCH][2];
    struct mmsghdr m[VPORT_BATCH];

    for (int i = 0; i < VPORT_BATCH; i++) {
        iov[i][0].iov_base = &vnet[i];
        iov[i][0].iov_len = sizeof vnet[i];
        iov[i][1].iov_base = bufs[i];
        iov[i][1].iov_len = sizeof bufs[i];
        memset(&m[i], 0, sizeof m[i]);
        m[i].msg_hdr.msg_iov = iov[i];
        m[i].msg_hdr.msg_iovlen = 2;
    }
    int got = recvmmsg(fd, m, VPORT_BATCH, MSG_DONTWAIT, NULL);
    for (int i = 0; i < got; i++) {
        pkts[i] = packet_of(bufs[i], m[i].msg_len - sizeof vnet[i],
                            &vnet[i]);
    }
    return got < 0 ? 0 : got;
}

/* Best receive rate over rounds of fill-then-drain (1024 frames fit in
 * the ring and the socket buffer): the cost on the receiving thread. */
static void
bench_run(struct vport *v, int peer, int plain_fd)
{
    struct dp_packet *pkts[VPORT_BATCH];
    double busy = 0;
    long total = 0;

    for (int round = 0; round < 200; round++) {
        int queued = bench_fill(peer, 1024), got = 0;
        double t0 = now_sec();

        while (got < queued) {
            int n = plain_fd >= 0 ? bench_recvmmsg(plain_fd, pkts)
                                  : v->ops->recv(v, pkts, VPORT_BATCH);
            if (n <= 0) {
                break;
            }
            got += n;
            free_all(pkts, n);
        }
        busy += now_sec() - t0;
        total += got;
    }
    print_message("# 64-byte frames, %s: %ld frames, %.2f Mpps\n",
                  plain_fd >= 0 ? "recvmmsg + copy" : "vport recv", total,
                  total / busy / 1e6);
}

static void
test_netdev_bench(void **state)
{
    (void) state;

    require_netns();
    if (!getenv("HVS_VPORT_BENCH")) {
        skip();
    }
    struct vport *v = netdev_open_a();
    int peer = peer_open(VETH_B, false);
    set_int(peer, SOL_SOCKET, SO_SNDBUFFORCE, 64 << 20);
    bench_run(v, peer, -1);

    /* The same through a plain socket, with the vport closed. */
    v->ops->close(v);
    int plain = peer_open(VETH_A, true);
    set_int(plain, SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20);
    bench_run(NULL, peer, plain);
}

/* ---- Setup. ---- */

static void
netns_setup(void)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
        return;
    }
    /* No IPv6: no router solicitations or DAD on the test links. */
    sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
       "net.ipv6.conf.default.disable_ipv6=1 2>/dev/null");
    if (sh("ip link set lo up") || sh("ip link add " VETH_A " mtu %d type "
                                      "veth peer name " VETH_B " mtu %d",
                                      VETH_MTU, VETH_MTU)
        || sh("ip link set " VETH_A " up && ip link set " VETH_B " up")) {
        return;
    }
    in_netns = true;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ops_find, teardown),
        cmocka_unit_test_teardown(test_get_stats, teardown),
        cmocka_unit_test_teardown(test_vnet_hdr_valid, teardown),
        cmocka_unit_test_teardown(test_netdev_open_errors, teardown),
        cmocka_unit_test_teardown(test_netdev_rx_frame, teardown),
        cmocka_unit_test_teardown(test_netdev_rx_batch, teardown),
        cmocka_unit_test_teardown(test_netdev_rx_overflow, teardown),
        cmocka_unit_test_teardown(test_netdev_rx_vlan, teardown),
        cmocka_unit_test_teardown(test_netdev_rx_vlan_csum, teardown),
        cmocka_unit_test_teardown(test_netdev_rx_gso, teardown),
        cmocka_unit_test_teardown(test_netdev_tx_frame, teardown),
        cmocka_unit_test_teardown(test_netdev_tx_errors, teardown),
        cmocka_unit_test_teardown(test_netdev_tx_gso, teardown),
        cmocka_unit_test_teardown(test_internal_open_close, teardown),
        cmocka_unit_test_teardown(test_internal_arp_ping, teardown),
        cmocka_unit_test_teardown(test_internal_rx_uso, teardown),
        cmocka_unit_test_teardown(test_internal_tx_uso, teardown),
        cmocka_unit_test_teardown(test_netdev_bench, teardown),
    };

    netns_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
