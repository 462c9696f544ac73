/* Tests for datapath/vport-tunnel.c: VXLAN, Geneve and GRE vports against
 * plain sockets of the test.
 *
 * The binary moves into a network namespace of its own at start
 * (unshare(CLONE_NEWNET), needs root), where the loopback interface is the
 * underlay: the test sends crafted outer datagrams to the vport's socket
 * and reads the inner frames from ops->recv, and sends packets with tunnel
 * metadata through ops->send and reads the datagrams from its own socket.
 */
#include "vport.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/virtio_net.h>
#include <net/if.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "csum.h"
#include "packet.h"

#define LO_IP "127.0.0.1"
#define VXLAN_PORT 4789
#define GENEVE_PORT 6081
#define PEER_PORT 20000         /* the test's receiving socket: outside
                                 * the ephemeral range the vport binds */

static bool in_netns;

static struct vport the_vport;
static bool vport_open;
static int open_fds[4] = { -1, -1, -1, -1 };

static int
track_fd(int fd)
{
    assert_true(fd >= 0);
    for (size_t i = 0; i < 4; i++) {
        if (open_fds[i] < 0) {
            open_fds[i] = fd;
            return fd;
        }
    }
    fail_msg("too many sockets");
    return fd;
}

static int
teardown(void **state)
{
    (void) state;
    if (vport_open) {
        the_vport.ops->close(&the_vport);
        vport_open = false;
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

static uint32_t
lo_addr(void)
{
    return inet_addr(LO_IP);
}

/* Opens a vport of 'ops' with OVS_TUNNEL_ATTR_DST_PORT 'port' (0: none)
 * and, if 'gbp', the VXLAN group policy extension.  Returns the errno of
 * open() and its reason in '*reason'. */
static int
tnl_open_opts(const struct vport_ops *ops, uint16_t port, bool gbp,
              const char **reason)
{
    static uint8_t buf[256];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct nlattr *opts = mnl_attr_nest_start(nlh, OVS_VPORT_ATTR_OPTIONS);
    struct vport *v = &the_vport;
    int err;

    if (port) {
        mnl_attr_put_u16(nlh, OVS_TUNNEL_ATTR_DST_PORT, port);
    }
    if (gbp) {
        struct nlattr *ext = mnl_attr_nest_start(nlh,
                                                 OVS_TUNNEL_ATTR_EXTENSION);
        mnl_attr_put(nlh, OVS_VXLAN_EXT_GBP, 0, NULL);
        mnl_attr_nest_end(nlh, ext);
    }
    mnl_attr_nest_end(nlh, opts);

    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s_sys_%u", ops->type_name, port);
    v->type = ops->type;
    v->ops = ops;
    v->fd = -1;
    v->options = opts;
    *reason = NULL;
    err = ops->open(v, reason);
    v->options = NULL;
    vport_open = !err;
    return err;
}

static struct vport *
tnl_open(const struct vport_ops *ops, uint16_t port)
{
    const char *why;
    int err = tnl_open_opts(ops, port, false, &why);

    if (err) {
        fail_msg("open: %s (%s)", strerror(-err), why ? why : "?");
    }
    assert_true(the_vport.fd >= 0);
    return &the_vport;
}

static void
wait_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    assert_int_equal(poll(&pfd, 1, 2000), 1);
}

/* Receives from 'v' until 'want' packets came or the socket stays quiet;
 * returns how many. */
static int
recv_n(struct vport *v, struct dp_packet **pkts, int want)
{
    int got = 0;

    while (got < want) {
        struct pollfd pfd = { .fd = v->fd, .events = POLLIN };

        if (poll(&pfd, 1, 300) != 1) {
            break;
        }
        int n = v->ops->recv(v, pkts + got, want - got);
        assert_true(n >= 0);
        got += n;
    }
    return got;
}

static void
free_all(struct dp_packet **pkts, int n)
{
    for (int i = 0; i < n; i++) {
        dp_packet_free(pkts[i]);
    }
}

/* A UDP socket of the test on 127.0.0.1:'port' (0: any port) that reports
 * the TTL and TOS of what it receives. */
static int
udp_open(uint16_t port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    int one = 1, fd = track_fd(socket(AF_INET, SOCK_DGRAM, 0));

    sin.sin_addr.s_addr = lo_addr();
    sin.sin_port = htons(port);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one,
                                sizeof one), 0);
    assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one,
                                sizeof one), 0);
    return fd;
}

static uint16_t
local_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    return ntohs(sin.sin_port);
}

static void
udp_send(int fd, uint16_t port, const void *data, size_t len)
{
    struct sockaddr_in to = { .sin_family = AF_INET };

    to.sin_addr.s_addr = lo_addr();
    to.sin_port = htons(port);
    assert_int_equal(sendto(fd, data, len, 0, (struct sockaddr *) &to,
                            sizeof to), (ssize_t) len);
}

/* What the test's socket received: the datagram, its sender's port, TTL
 * and TOS. */
struct dgram {
    uint8_t data[70000];
    size_t len;
    uint16_t src_port;
    int ttl, tos;
};

static bool
udp_recv(int fd, struct dgram *d, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    struct sockaddr_in from;
    union {
        struct cmsghdr align;
        char buf[256];
    } ctrl;
    struct iovec iov = { d->data, sizeof d->data };
    struct msghdr msg = {
        .msg_name = &from, .msg_namelen = sizeof from,
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = ctrl.buf, .msg_controllen = sizeof ctrl.buf,
    };

    if (poll(&pfd, 1, timeout_ms) != 1) {
        return false;
    }
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    assert_true(n >= 0);
    d->len = (size_t) n;
    d->src_port = ntohs(from.sin_port);
    d->ttl = d->tos = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
         c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
            memcpy(&d->ttl, CMSG_DATA(c), sizeof d->ttl);
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
            d->tos = *CMSG_DATA(c);
        }
    }
    return true;
}

/* Writes an Ethernet + IPv4 + UDP (or TCP) frame with 'payload' bytes and
 * correct checksums into 'f'; returns its length. */
static size_t
make_frame(uint8_t *f, uint8_t proto, uint16_t sport, uint16_t dport,
           size_t payload)
{
    static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
    static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
    size_t ip_len = 20 + l4 + payload;
    uint8_t *ip = f + 14, *th = ip + 20;
    uint32_t s = inet_addr("192.168.7.1"), d = inet_addr("192.168.7.2");
    uint16_t c;

    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = ip_len >> 8;
    ip[3] = ip_len & 0xff;
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, &s, 4);
    memcpy(ip + 16, &d, 4);
    c = csum_fold(csum_partial(ip, 20, 0));
    memcpy(ip + 10, &c, 2);

    memset(th, 0, l4);
    th[0] = sport >> 8;
    th[1] = sport & 0xff;
    th[2] = dport >> 8;
    th[3] = dport & 0xff;
    if (proto == IPPROTO_TCP) {
        th[12] = 5 << 4;
        th[13] = 0x18;          /* PSH ACK */
        th[15] = 0xff;          /* window */
    } else {
        th[4] = (l4 + payload) >> 8;
        th[5] = (l4 + payload) & 0xff;
    }
    for (size_t i = 0; i < payload; i++) {
        th[l4 + i] = (uint8_t) (i * 7 + 3);
    }
    c = csum_fold(csum_partial(th, l4 + payload,
                               csum_pseudo4(s, d, proto,
                                            (uint16_t) (l4 + payload))));
    memcpy(th + (proto == IPPROTO_TCP ? 16 : 6), &c, 2);
    return 14 + ip_len;
}

/* Whether the IPv4 frame 'f' has correct IP and L4 checksums. */
static bool
frame_csum_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    uint32_t s, d;
    size_t ip_len;

    if (len < 34 || csum_fold(csum_partial(ip, 20, 0))) {
        return false;
    }
    ip_len = (size_t) ip[2] << 8 | ip[3];
    if (ip_len + 14 > len) {
        return false;
    }
    memcpy(&s, ip + 12, 4);
    memcpy(&d, ip + 16, 4);
    return !csum_fold(csum_partial(ip + 20, ip_len - 20,
                                   csum_pseudo4(s, d, ip[9],
                                                (uint16_t) (ip_len - 20))));
}

static struct dp_packet *
tx_packet(const uint8_t *frame, size_t len, uint32_t vni, uint16_t flags,
          uint16_t dst_port)
{
    struct dp_packet *p = dp_packet_copy_from(frame, len,
                                              DP_PACKET_HEADROOM);

    assert_non_null(p);
    p->md.tunnel.tun_id = htobe64(vni);
    p->md.tunnel.ipv4_src = lo_addr();
    p->md.tunnel.ipv4_dst = lo_addr();
    p->md.tunnel.ttl = 17;
    p->md.tunnel.tos = 0x28;
    p->md.tunnel.tp_dst = htons(dst_port);
    p->md.tunnel.flags = flags;
    p->md.tunnel_tx = true;
    return p;
}

static uint16_t
rd_be16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint64_t
stat_of(const _Atomic uint64_t *c)
{
    return atomic_load(c);
}

/* ---- Options and registration. ---- */

static void
test_ops_registered(void **state)
{
    (void) state;
    assert_ptr_equal(vport_ops_find(OVS_VPORT_TYPE_VXLAN), &vport_vxlan_ops);
    assert_ptr_equal(vport_ops_find(OVS_VPORT_TYPE_GENEVE),
                     &vport_geneve_ops);
    assert_ptr_equal(vport_ops_find(OVS_VPORT_TYPE_GRE), &vport_gre_ops);
    assert_string_equal(vport_vxlan_ops.type_name, "vxlan");
}

/* The reply carries the options back as the kernel's does. */
static void
test_options_reply(void **state)
{
    (void) state;
    require_netns();
    const char *why;
    uint8_t buf[512];

    assert_int_equal(tnl_open_opts(&vport_vxlan_ops, 4790, true, &why), 0);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    assert_true(the_vport.ops->put_options(&the_vport, nlh, sizeof buf));

    const struct nlattr *opts = mnl_nlmsg_get_payload(nlh);
    assert_int_equal(mnl_attr_get_type(opts), OVS_VPORT_ATTR_OPTIONS);
    const struct nlattr *a;
    bool port = false, gbp = false;
    mnl_attr_for_each_nested(a, opts) {
        if (mnl_attr_get_type(a) == OVS_TUNNEL_ATTR_DST_PORT) {
            assert_int_equal(mnl_attr_get_payload_len(a), 2);
            assert_int_equal(mnl_attr_get_u16(a), 4790);
            port = true;
        } else if (mnl_attr_get_type(a) == OVS_TUNNEL_ATTR_EXTENSION) {
            const struct nlattr *e = mnl_attr_get_payload(a);
            assert_int_equal(mnl_attr_get_type(e), OVS_VXLAN_EXT_GBP);
            gbp = true;
        }
    }
    assert_true(port);
    assert_true(gbp);

    /* No room: refused, not overrun. */
    nlh = mnl_nlmsg_put_header(buf);
    assert_false(the_vport.ops->put_options(&the_vport, nlh,
                                            nlh->nlmsg_len + 6));
    teardown(NULL);

    /* Without options, the IANA port. */
    assert_int_equal(tnl_open_opts(&vport_vxlan_ops, 0, false, &why), 0);
    nlh = mnl_nlmsg_put_header(buf);
    assert_true(the_vport.ops->put_options(&the_vport, nlh, sizeof buf));
    a = mnl_attr_get_payload(mnl_nlmsg_get_payload(nlh));
    assert_int_equal(mnl_attr_get_u16(a), VXLAN_PORT);
}

static void
test_options_errors(void **state)
{
    (void) state;
    require_netns();
    const char *why;
    int fd;

    /* A port someone else holds. */
    fd = udp_open(0);
    int err = tnl_open_opts(&vport_vxlan_ops, local_port(fd), false, &why);
    assert_int_equal(err, -EADDRINUSE);
    assert_non_null(why);
    assert_int_equal(the_vport.fd, -1);

    /* GRE has no UDP port. */
    assert_int_equal(tnl_open_opts(&vport_gre_ops, 4789, false, &why),
                     -EINVAL);
    assert_non_null(strstr(why, "port"));

    /* Group policy is a VXLAN extension only. */
    assert_int_equal(tnl_open_opts(&vport_geneve_ops, 6081, true, &why),
                     -EOPNOTSUPP);

    /* Two vports cannot share a port. */
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    struct vport keep = *v;
    vport_open = false;
    err = tnl_open_opts(&vport_vxlan_ops, VXLAN_PORT, false, &why);
    assert_int_equal(err, -EADDRINUSE);
    keep.ops->close(&keep);
}

/* ---- VXLAN receive. ---- */

static void
test_vxlan_decap(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(0);
    uint8_t dg[3100], frame[3000];
    struct dp_packet *pkts[4];
    int tos = 0x10, ttl = 33;

    assert_int_equal(setsockopt(peer, IPPROTO_IP, IP_TOS, &tos, sizeof tos),
                     0);
    assert_int_equal(setsockopt(peer, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl),
                     0);
    /* A small frame (copied) and a long one (the staging buffer). */
    size_t sizes[2] = { 60, 2900 };
    for (int i = 0; i < 2; i++) {
        size_t n = make_frame(frame, IPPROTO_UDP, 1000, 2000,
                              sizes[i] - 42);
        memset(dg, 0, 8);
        dg[0] = 0x08;
        dg[4] = 0x00;
        dg[5] = 0x00;
        dg[6] = 0x2a;
        memcpy(dg + 8, frame, n);
        udp_send(peer, VXLAN_PORT, dg, n + 8);
        wait_readable(v->fd);
        assert_int_equal(recv_n(v, pkts, 1), 1);

        struct dp_packet *p = pkts[0];
        const struct flow_tnl *t = &p->md.tunnel;
        assert_int_equal(p->len, n);
        assert_memory_equal(dp_packet_data(p), frame, n);
        assert_true(dp_packet_headroom(p) >= DP_PACKET_HEADROOM);
        assert_true(t->tun_id == htobe64(0x2a));
        assert_int_equal(t->ipv4_src, lo_addr());
        assert_int_equal(t->ipv4_dst, lo_addr());
        assert_int_equal(ntohs(t->tp_src), local_port(peer));
        assert_int_equal(ntohs(t->tp_dst), VXLAN_PORT);
        assert_int_equal(t->ttl, 33);
        assert_int_equal(t->tos, 0x10);
        assert_int_equal(t->flags, FLOW_TNL_F_KEY);
        assert_int_equal(t->opts_len, 0);
        /* The inner checksum was verified on the way in. */
        assert_int_equal(p->vnet.flags, VIRTIO_NET_HDR_F_DATA_VALID);
        assert_int_equal(p->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
        dp_packet_free(p);
    }
    assert_int_equal(stat_of(&v->stats.rx_packets), 2);
    assert_int_equal(stat_of(&v->stats.rx_bytes), 60 + 2900);
    assert_int_equal(stat_of(&v->stats.rx_errors), 0);
}

/* A batch arrives in one call, in order. */
static void
test_vxlan_decap_batch(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(0);
    uint8_t dg[200];
    struct dp_packet *pkts[VPORT_BATCH];

    for (int i = 0; i < 40; i++) {
        size_t n = make_frame(dg + 8, IPPROTO_UDP, (uint16_t) i, 9, 20);
        memset(dg, 0, 8);
        dg[0] = 0x08;
        dg[6] = (uint8_t) i;
        udp_send(peer, VXLAN_PORT, dg, n + 8);
    }
    wait_readable(v->fd);
    int n = v->ops->recv(v, pkts, VPORT_BATCH);
    assert_int_equal(n, VPORT_BATCH);
    for (int i = 0; i < n; i++) {
        assert_true(pkts[i]->md.tunnel.tun_id == htobe64((uint64_t) i));
    }
    free_all(pkts, n);
    n = recv_n(v, pkts, 8);
    assert_int_equal(n, 8);
    assert_true(pkts[7]->md.tunnel.tun_id == htobe64(39));
    free_all(pkts, n);
}

static void
test_vxlan_decap_bad(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(0);
    uint8_t dg[100];
    struct dp_packet *pkts[4];

    memset(dg, 0, sizeof dg);
    /* No I flag. */
    dg[0] = 0x00;
    udp_send(peer, VXLAN_PORT, dg, 8 + 60);
    /* A header and no room for an Ethernet header. */
    dg[0] = 0x08;
    udp_send(peer, VXLAN_PORT, dg, 8 + 13);
    /* Shorter than the header. */
    udp_send(peer, VXLAN_PORT, dg, 5);
    /* Empty. */
    udp_send(peer, VXLAN_PORT, dg, 0);
    /* And a good one last: reserved bits set are ignored on receipt. */
    dg[0] = 0x0c;
    dg[7] = 0x55;
    make_frame(dg + 8, IPPROTO_UDP, 1, 2, 10);
    udp_send(peer, VXLAN_PORT, dg, 8 + 52);

    int n = recv_n(v, pkts, 1);
    assert_int_equal(n, 1);
    assert_int_equal(pkts[0]->len, 52);
    free_all(pkts, n);
    assert_int_equal(stat_of(&v->stats.rx_errors), 4);
    assert_int_equal(stat_of(&v->stats.rx_packets), 1);
}

/* What a sender on this host (veth underlay, the kernel's vxlan device)
 * hands its stack loses its offload state in the socket: a partial inner
 * checksum is completed, a super-packet is marked as one again. */
static void
test_vxlan_decap_offload(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(0);
    uint8_t *dg = calloc(1, 8 + 5000);
    struct dp_packet *pkts[2];
    uint32_t s = inet_addr("192.168.7.1"), d = inet_addr("192.168.7.2");

    assert_non_null(dg);
    dg[0] = 0x08;
    dg[6] = 1;
    size_t n = make_frame(dg + 8, IPPROTO_TCP, 1, 2, 100);
    uint8_t good[2];
    memcpy(good, dg + 8 + 34 + 16, 2);
    uint16_t c = (uint16_t) ~csum_fold(csum_pseudo4(s, d, IPPROTO_TCP,
                                                    120));
    memcpy(dg + 8 + 34 + 16, &c, 2);
    udp_send(peer, VXLAN_PORT, dg, n + 8);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    assert_memory_equal((uint8_t *) dp_packet_data(pkts[0]) + 34 + 16,
                        good, 2);
    assert_int_equal(pkts[0]->vnet.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    free_all(pkts, 1);

    /* A wrong checksum that is not the partial form stays wrong. */
    dg[8 + 34 + 16] ^= 0x5a;
    udp_send(peer, VXLAN_PORT, dg, n + 8);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    assert_int_equal(pkts[0]->vnet.flags, 0);
    assert_false(frame_csum_ok(dp_packet_data(pkts[0]), pkts[0]->len));
    free_all(pkts, 1);

    /* A 4000-byte TCP datagram over an underlay of MTU 1500 (fragments,
     * reassembled by the host stack): a super-packet of 1450-byte IP
     * datagrams. */
    assert_int_equal(sh("ip link set lo mtu 1500"), 0);
    n = make_frame(dg + 8, IPPROTO_TCP, 1, 2, 4000);
    udp_send(peer, VXLAN_PORT, dg, n + 8);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    struct dp_packet *p = pkts[0];
    assert_int_equal(p->len, n);
    assert_int_equal(p->vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(p->vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(p->vnet.gso_size, 1450 - 40);
    assert_int_equal(p->vnet.csum_start, 34);
    assert_int_equal(p->vnet.csum_offset, 16);
    assert_int_equal(p->vnet.hdr_len, 54);
    free_all(pkts, 1);

    /* A full 1500-byte datagram that came in fragments is a frame. */
    n = make_frame(dg + 8, IPPROTO_TCP, 1, 2, 1460);
    udp_send(peer, VXLAN_PORT, dg, n + 8);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    assert_int_equal(pkts[0]->len, 1514);
    assert_int_equal(pkts[0]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    assert_int_equal(pkts[0]->vnet.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    free_all(pkts, 1);
    assert_int_equal(sh("ip link set lo mtu 65536"), 0);
    free(dg);
}

/* ---- VXLAN send. ---- */

static void
test_vxlan_encap(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(PEER_PORT);
    uint8_t frame[200];
    size_t n = make_frame(frame, IPPROTO_UDP, 5, 6, 50);
    struct dgram *d = malloc(sizeof *d);

    assert_non_null(d);
    struct dp_packet *p = tx_packet(frame, n, 0x123456,
                                    FLOW_TNL_F_KEY
                                    | FLOW_TNL_F_DONT_FRAGMENT, PEER_PORT);
    v->ops->send(v, &p, 1);
    assert_true(udp_recv(peer, d, 2000));
    assert_int_equal(d->len, n + 8);
    static const uint8_t hdr[8] = { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 };
    assert_memory_equal(d->data, hdr, 8);
    assert_memory_equal(d->data + 8, frame, n);
    assert_int_equal(d->ttl, 17);
    assert_int_equal(d->tos, 0x28);
    /* From a send socket, not the receiving one. */
    assert_int_not_equal(d->src_port, VXLAN_PORT);
    assert_true(d->src_port >= 1024);
    assert_int_equal(stat_of(&v->stats.tx_packets), 1);
    assert_int_equal(stat_of(&v->stats.tx_bytes), n);

    /* No TTL in the metadata: the default 64. */
    p = tx_packet(frame, n, 1, FLOW_TNL_F_KEY, PEER_PORT);
    p->md.tunnel.ttl = 0;
    p->md.tunnel.tos = 0;
    v->ops->send(v, &p, 1);
    assert_true(udp_recv(peer, d, 2000));
    assert_int_equal(d->ttl, 64);
    assert_int_equal(d->tos, 0);
    free(d);
}

/* The UDP checksum is zero unless the csum flag asks for one, as from
 * the kernel's tunnels and Open vSwitch. */
static void
test_vxlan_encap_udp_csum(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int raw = track_fd(socket(AF_INET, SOCK_RAW, IPPROTO_UDP));
    uint8_t frame[200], buf[2000];
    size_t n = make_frame(frame, IPPROTO_UDP, 5, 6, 50);

    for (int k = 0; k < 2; k++) {
        struct dp_packet *p = tx_packet(frame, n, 1, FLOW_TNL_F_KEY
                                        | (k ? FLOW_TNL_F_CSUM : 0),
                                        PEER_PORT);
        v->ops->send(v, &p, 1);
        for (;;) {
            wait_readable(raw);
            ssize_t r = recv(raw, buf, sizeof buf, 0);
            assert_true(r >= 28);
            if (rd_be16(buf + 22) != PEER_PORT) {
                continue;       /* something else on the loopback */
            }
            assert_int_equal(r, 20 + 8 + 8 + (ssize_t) n);
            uint16_t c = rd_be16(buf + 26);
            if (k) {
                assert_int_not_equal(c, 0);
            } else {
                assert_int_equal(c, 0);
            }
            break;
        }
    }
}

/* The source port follows the inner flow: stable for a flow, spread over
 * flows. */
static void
test_vxlan_encap_entropy(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(PEER_PORT);
    uint8_t frame[200];
    struct dgram *d = malloc(sizeof *d);
    uint16_t seen[64];
    int n_seen = 0;

    assert_non_null(d);
    for (int flow = 0; flow < 64; flow++) {
        uint16_t first = 0;

        for (int rep = 0; rep < 2; rep++) {
            size_t n = make_frame(frame, IPPROTO_TCP,
                                  (uint16_t) (10000 + flow), 80, 10);
            struct dp_packet *p = tx_packet(frame, n, 7, FLOW_TNL_F_KEY,
                                            PEER_PORT);
            v->ops->send(v, &p, 1);
            assert_true(udp_recv(peer, d, 2000));
            if (!rep) {
                first = d->src_port;
            } else {
                assert_int_equal(d->src_port, first);
            }
        }
        bool dup = false;
        for (int i = 0; i < n_seen; i++) {
            dup |= seen[i] == first;
        }
        if (!dup) {
            seen[n_seen++] = first;
        }
    }
    /* 64 flows over 16 sockets: nearly all of them in use. */
    assert_true(n_seen >= 10);
    assert_true(n_seen <= 16);
    free(d);
}

/* A partial checksum (veth, the kernel) is completed before
 * encapsulation; a TCP super-packet is segmented. */
static void
test_vxlan_encap_offload(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(PEER_PORT);
    uint8_t frame[5000];
    struct dgram *d = malloc(sizeof *d);
    uint32_t s = inet_addr("192.168.7.1"), dst = inet_addr("192.168.7.2");

    assert_non_null(d);
    size_t n = make_frame(frame, IPPROTO_TCP, 1234, 80, 100);
    /* Partial: the pseudo-header sum in the checksum field. */
    uint16_t c = (uint16_t) ~csum_fold(csum_pseudo4(s, dst, IPPROTO_TCP,
                                                    120));
    memcpy(frame + 34 + 16, &c, 2);
    assert_false(frame_csum_ok(frame, n));
    struct dp_packet *p = tx_packet(frame, n, 9, FLOW_TNL_F_KEY, PEER_PORT);
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = 34;
    p->vnet.csum_offset = 16;
    v->ops->send(v, &p, 1);
    assert_true(udp_recv(peer, d, 2000));
    assert_int_equal(d->len, n + 8);
    assert_true(frame_csum_ok(d->data + 8, d->len - 8));

    /* A super-packet of 3 x 1400 bytes. */
    n = make_frame(frame, IPPROTO_TCP, 1234, 80, 4200);
    c = (uint16_t) ~csum_fold(csum_pseudo4(s, dst, IPPROTO_TCP, 4220));
    memcpy(frame + 34 + 16, &c, 2);
    p = tx_packet(frame, n, 9, FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM,
                  PEER_PORT);
    p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p->vnet.csum_start = 34;
    p->vnet.csum_offset = 16;
    p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    p->vnet.gso_size = 1400;
    p->vnet.hdr_len = 54;
    v->ops->send(v, &p, 1);
    for (int i = 0; i < 3; i++) {
        assert_true(udp_recv(peer, d, 2000));
        assert_int_equal(d->len, 8 + 54 + 1400);
        assert_true(frame_csum_ok(d->data + 8, d->len - 8));
        /* Payload bytes in order. */
        assert_int_equal(d->data[8 + 54], (uint8_t) (i * 1400 * 7 + 3));
    }
    assert_false(udp_recv(peer, d, 100));
    assert_int_equal(stat_of(&v->stats.tx_packets), 4);
    free(d);
}

/* DF: a datagram longer than the path MTU is refused (counted) instead of
 * being fragmented; without DF the host stack fragments it and the peer
 * gets it whole. */
static void
test_vxlan_encap_df(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    int peer = udp_open(PEER_PORT);
    uint8_t frame[6000];
    struct dgram *d = malloc(sizeof *d);

    assert_non_null(d);
    assert_int_equal(sh("ip link set lo mtu 1500"), 0);
    size_t n = make_frame(frame, IPPROTO_UDP, 1, 2, 2000);
    struct dp_packet *p = tx_packet(frame, n, 3, FLOW_TNL_F_KEY
                                    | FLOW_TNL_F_DONT_FRAGMENT, PEER_PORT);
    v->ops->send(v, &p, 1);
    assert_false(udp_recv(peer, d, 200));
    assert_int_equal(stat_of(&v->stats.tx_errors), 1);

    p = tx_packet(frame, n, 3, FLOW_TNL_F_KEY, PEER_PORT);
    v->ops->send(v, &p, 1);
    assert_true(udp_recv(peer, d, 2000));
    assert_int_equal(d->len, n + 8);
    assert_memory_equal(d->data + 8, frame, n);
    assert_int_equal(stat_of(&v->stats.tx_packets), 1);

    /* A super-packet whose segments fit goes as a UDP GSO train; one
     * whose segments need fragments goes datagram by datagram. */
    uint32_t s = inet_addr("192.168.7.1"), dst = inet_addr("192.168.7.2");
    static const uint16_t mss[2] = { 1400, 1700 };
    for (int k = 0; k < 2; k++) {
        n = make_frame(frame, IPPROTO_TCP, 1234, 80, 3 * mss[k]);
        uint16_t c = (uint16_t) ~csum_fold(csum_pseudo4(s, dst, IPPROTO_TCP,
                                                        (uint16_t) (20 + 3
                                                        * mss[k])));
        memcpy(frame + 34 + 16, &c, 2);
        p = tx_packet(frame, n, 3, FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM,
                      PEER_PORT);
        p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        p->vnet.csum_start = 34;
        p->vnet.csum_offset = 16;
        p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        p->vnet.gso_size = mss[k];
        p->vnet.hdr_len = 54;
        v->ops->send(v, &p, 1);
        for (int i = 0; i < 3; i++) {
            assert_true(udp_recv(peer, d, 2000));
            assert_int_equal(d->len, 8 + 54 + mss[k]);
            assert_true(frame_csum_ok(d->data + 8, d->len - 8));
            uint32_t seq;
            memcpy(&seq, d->data + 8 + 34 + 4, 4);
            assert_int_equal(ntohl(seq), (uint32_t) i * mss[k]);
        }
    }
    assert_int_equal(stat_of(&v->stats.tx_packets), 7);
    assert_int_equal(stat_of(&v->stats.tx_errors), 1);
    assert_int_equal(sh("ip link set lo mtu 65536"), 0);
    free(d);
}

/* Packets with nowhere to go are counted, not sent. */
static void
test_vxlan_encap_errors(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_vxlan_ops, VXLAN_PORT);
    uint8_t frame[200];
    size_t n = make_frame(frame, IPPROTO_UDP, 1, 2, 20);
    struct dp_packet *p[4];

    /* Received tunnel metadata, not set by set(tunnel): not sent back. */
    p[0] = tx_packet(frame, n, 1, FLOW_TNL_F_KEY, PEER_PORT);
    p[0]->md.tunnel_tx = false;
    /* A source address that is not ours. */
    p[1] = tx_packet(frame, n, 1, FLOW_TNL_F_KEY, PEER_PORT);
    p[1]->md.tunnel.ipv4_src = inet_addr("10.99.99.99");
    /* No route. */
    p[2] = tx_packet(frame, n, 1, FLOW_TNL_F_KEY, PEER_PORT);
    p[2]->md.tunnel.ipv4_src = 0;
    p[2]->md.tunnel.ipv4_dst = inet_addr("10.99.99.98");
    /* An IPv6 destination. */
    p[3] = tx_packet(frame, n, 1, FLOW_TNL_F_KEY, PEER_PORT);
    p[3]->md.tunnel.ipv4_src = p[3]->md.tunnel.ipv4_dst = 0;
    p[3]->md.tunnel.ipv6_dst.s6_addr[15] = 1;
    v->ops->send(v, p, 4);
    assert_int_equal(stat_of(&v->stats.tx_errors), 4);
    assert_int_equal(stat_of(&v->stats.tx_packets), 0);
}

/* Group policy (VXLAN-GBP) both ways when the extension is on. */
static void
test_vxlan_gbp(void **state)
{
    (void) state;
    require_netns();
    const char *why;
    uint8_t dg[100];
    struct dp_packet *pkts[2];
    struct dgram *d = malloc(sizeof *d);

    assert_non_null(d);
    assert_int_equal(tnl_open_opts(&vport_vxlan_ops, VXLAN_PORT, true, &why),
                     0);
    struct vport *v = &the_vport;
    int peer = udp_open(PEER_PORT);

    memset(dg, 0, sizeof dg);
    dg[0] = 0x88;
    dg[1] = 0x40;               /* don't learn */
    dg[2] = 0x12;
    dg[3] = 0x34;
    dg[6] = 5;
    size_t n = make_frame(dg + 8, IPPROTO_UDP, 1, 2, 10);
    udp_send(peer, VXLAN_PORT, dg, n + 8);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    const struct flow_tnl *t = &pkts[0]->md.tunnel;
    assert_int_equal(t->flags, FLOW_TNL_F_KEY | FLOW_TNL_F_VXLAN_OPT);
    assert_int_equal(t->vxlan_gbp, (0x40u << 16) | 0x1234);

    struct dp_packet *p = tx_packet(dg + 8, n, 5, FLOW_TNL_F_KEY
                                    | FLOW_TNL_F_VXLAN_OPT, PEER_PORT);
    p->md.tunnel.vxlan_gbp = 0x8abcd;
    v->ops->send(v, &p, 1);
    assert_true(udp_recv(peer, d, 2000));
    static const uint8_t hdr[8] = { 0x88, 0x08, 0xab, 0xcd, 0, 0, 5, 0 };
    assert_memory_equal(d->data, hdr, 8);
    free_all(pkts, 1);
    free(d);
}

/* ---- Geneve. ---- */

static void
test_geneve(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_geneve_ops, GENEVE_PORT);
    int peer = udp_open(PEER_PORT);
    uint8_t dg[300];
    struct dp_packet *pkts[2];
    struct dgram *d = malloc(sizeof *d);
    /* Two options: class 0x0102 type 0x80 (critical) with 4 bytes, class
     * 0xffff type 1 with none. */
    static const uint8_t opts[12] = {
        0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef,
        0xff, 0xff, 0x01, 0x00,
    };

    assert_non_null(d);
    memset(dg, 0, sizeof dg);
    dg[0] = 3;                  /* 12 bytes of options */
    dg[1] = 0x80;               /* OAM */
    dg[2] = 0x65;
    dg[3] = 0x58;
    dg[4] = 0xab;
    dg[5] = 0xcd;
    dg[6] = 0xef;
    memcpy(dg + 8, opts, sizeof opts);
    size_t n = make_frame(dg + 20, IPPROTO_UDP, 1, 2, 10);
    udp_send(peer, GENEVE_PORT, dg, n + 20);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    const struct flow_tnl *t = &pkts[0]->md.tunnel;
    assert_int_equal(pkts[0]->len, n);
    assert_memory_equal(dp_packet_data(pkts[0]), dg + 20, n);
    assert_true(t->tun_id == htobe64(0xabcdef));
    assert_int_equal(t->flags, FLOW_TNL_F_KEY | FLOW_TNL_F_OAM
                               | FLOW_TNL_F_GENEVE_OPT);
    assert_int_equal(t->opts_len, 12);
    assert_memory_equal(pkts[0]->md.tun_opts, opts, 12);
    assert_int_equal(ntohs(t->tp_dst), GENEVE_PORT);

    /* Back out: the same header, with the critical bit computed. */
    struct dp_packet *p = tx_packet(dg + 20, n, 0xabcdef, t->flags,
                                    PEER_PORT);
    p->md.tunnel.opts_len = 12;
    memcpy(p->md.tun_opts, opts, 12);
    v->ops->send(v, &p, 1);
    assert_true(udp_recv(peer, d, 2000));
    assert_int_equal(d->len, n + 20);
    dg[1] |= 0x40;
    assert_memory_equal(d->data, dg, n + 20);
    free_all(pkts, 1);

    /* Malformed: an option longer than the options, version 1, not
     * Ethernet, header longer than the datagram. */
    dg[0] = 3;
    dg[1] = 0;
    dg[11] = 0x04;
    udp_send(peer, GENEVE_PORT, dg, n + 20);
    dg[11] = 0x01;
    dg[0] = 0x43;
    udp_send(peer, GENEVE_PORT, dg, n + 20);
    dg[0] = 3;
    dg[3] = 0x00;
    udp_send(peer, GENEVE_PORT, dg, n + 20);
    dg[3] = 0x58;
    dg[0] = 0x3f;
    udp_send(peer, GENEVE_PORT, dg, 100);
    /* And a good one without options. */
    dg[0] = 0;
    memmove(dg + 8, dg + 20, n);
    udp_send(peer, GENEVE_PORT, dg, n + 8);
    assert_int_equal(recv_n(v, pkts, 1), 1);
    assert_int_equal(pkts[0]->md.tunnel.flags, FLOW_TNL_F_KEY);
    assert_int_equal(pkts[0]->md.tunnel.opts_len, 0);
    free_all(pkts, 1);
    assert_int_equal(stat_of(&v->stats.rx_errors), 4);
    free(d);
}

/* ---- GRE. ---- */

static int
gre_raw_open(void)
{
    return track_fd(socket(AF_INET, SOCK_RAW, IPPROTO_GRE));
}

static void
test_gre(void **state)
{
    (void) state;
    require_netns();
    struct vport *v = tnl_open(&vport_gre_ops, 0);
    int raw = gre_raw_open();
    uint8_t pkt[300], buf[2000];
    struct dp_packet *pkts[2];

    /* Key and checksum. */
    pkt[0] = 0xa0;
    pkt[1] = 0x00;
    pkt[2] = 0x65;
    pkt[3] = 0x58;
    memset(pkt + 4, 0, 4);
    pkt[8] = 0;
    pkt[9] = 0;
    pkt[10] = 0x01;
    pkt[11] = 0x02;
    size_t n = make_frame(pkt + 12, IPPROTO_UDP, 1, 2, 10);
    uint16_t c = csum_fold(csum_partial(pkt, n + 12, 0));
    memcpy(pkt + 4, &c, 2);
    struct sockaddr_in to = { .sin_family = AF_INET };
    to.sin_addr.s_addr = lo_addr();
    assert_int_equal(sendto(raw, pkt, n + 12, 0, (struct sockaddr *) &to,
                            sizeof to), (ssize_t) (n + 12));
    assert_int_equal(recv_n(v, pkts, 1), 1);
    const struct flow_tnl *t = &pkts[0]->md.tunnel;
    assert_int_equal(pkts[0]->len, n);
    assert_memory_equal(dp_packet_data(pkts[0]), pkt + 12, n);
    assert_true(t->tun_id == htobe64(0x102));
    assert_int_equal(t->flags, FLOW_TNL_F_KEY | FLOW_TNL_F_CSUM);
    assert_int_equal(t->ipv4_src, lo_addr());
    assert_int_equal(t->ipv4_dst, lo_addr());
    assert_int_equal(t->ttl, 64);
    free_all(pkts, 1);

    /* A bad checksum is dropped and counted. */
    pkt[4] ^= 0xff;
    assert_int_equal(sendto(raw, pkt, n + 12, 0, (struct sockaddr *) &to,
                            sizeof to), (ssize_t) (n + 12));
    assert_int_equal(recv_n(v, pkts, 1), 0);
    assert_int_equal(stat_of(&v->stats.rx_errors), 1);

    /* Drain what the test's raw socket saw so far. */
    while (recv(raw, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        continue;
    }

    /* Send: the test's raw socket sees the vport's packet. */
    struct dp_packet *p = tx_packet(pkt + 12, n, 0x102, FLOW_TNL_F_KEY
                                    | FLOW_TNL_F_CSUM, 0);
    v->ops->send(v, &p, 1);
    wait_readable(raw);
    ssize_t r = recv(raw, buf, sizeof buf, MSG_DONTWAIT);
    assert_int_equal(r, 20 + 12 + (ssize_t) n);
    assert_int_equal(buf[8], 17);       /* TTL */
    assert_int_equal(buf[1], 0x28);     /* TOS */
    pkt[4] ^= 0xff;
    assert_memory_equal(buf + 20, pkt, n + 12);
    assert_int_equal(stat_of(&v->stats.tx_packets), 1);
}

/* ---- Kernel tunnel devices. ---- */

static void
test_kernel_tunnel_md(void **state)
{
    (void) state;
    require_netns();
    if (sh("ip link add hvsut-vxk type vxlan dstport 4999 external "
           "2>/dev/null")) {
        print_message("# no kernel vxlan\n");
        skip();
    }
    assert_int_equal(sh("ip link add hvsut-vxp type vxlan id 6 dstport 4998 "
                        "remote 10.1.1.1"), 0);
    assert_true(vport_is_kernel_tunnel_md(if_nametoindex("hvsut-vxk")));
    assert_false(vport_is_kernel_tunnel_md(if_nametoindex("hvsut-vxp")));
    assert_false(vport_is_kernel_tunnel_md(if_nametoindex("lo")));
    assert_false(vport_is_kernel_tunnel_md(999999));

    /* And the netdev vport refuses the first. */
    struct vport v;
    const char *why = NULL;
    memset(&v, 0, sizeof v);
    snprintf(v.name, sizeof v.name, "hvsut-vxk");
    v.ops = &vport_netdev_ops;
    v.fd = -1;
    assert_int_equal(vport_netdev_ops.open(&v, &why), -EOPNOTSUPP);
    assert_non_null(strstr(why, "tunnel"));
    sh("ip link del hvsut-vxk; ip link del hvsut-vxp");
}

/* ---- Setup. ---- */

static void
netns_setup(void)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
        return;
    }
    if (sh("ip link set lo up")) {
        return;
    }
    in_netns = true;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ops_registered, teardown),
        cmocka_unit_test_teardown(test_options_reply, teardown),
        cmocka_unit_test_teardown(test_options_errors, teardown),
        cmocka_unit_test_teardown(test_vxlan_decap, teardown),
        cmocka_unit_test_teardown(test_vxlan_decap_batch, teardown),
        cmocka_unit_test_teardown(test_vxlan_decap_bad, teardown),
        cmocka_unit_test_teardown(test_vxlan_decap_offload, teardown),
        cmocka_unit_test_teardown(test_vxlan_encap, teardown),
        cmocka_unit_test_teardown(test_vxlan_encap_udp_csum, teardown),
        cmocka_unit_test_teardown(test_vxlan_encap_entropy, teardown),
        cmocka_unit_test_teardown(test_vxlan_encap_offload, teardown),
        cmocka_unit_test_teardown(test_vxlan_encap_df, teardown),
        cmocka_unit_test_teardown(test_vxlan_encap_errors, teardown),
        cmocka_unit_test_teardown(test_vxlan_gbp, teardown),
        cmocka_unit_test_teardown(test_geneve, teardown),
        cmocka_unit_test_teardown(test_gre, teardown),
        cmocka_unit_test_teardown(test_kernel_tunnel_md, teardown),
    };

    netns_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
