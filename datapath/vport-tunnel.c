/* Tunnel vports: vxlan, geneve and gre, on sockets of the host stack.
 *
 * This is the seed's WFP-callout path generalised to both directions.
 * Receive: a socket of hvs-dpd (UDP bound to the tunnel's port, or a raw
 * IPPROTO_GRE socket) gets the outer datagrams after the host stack has
 * routed, checksum-verified and reassembled them, wherever they came in
 * (the internal port that carries the VTEP address, or any host
 * interface); the socket is the fd the forwarding threads poll, so
 * decapsulated frames enter the datapath like those of any port, with the
 * outer addresses, TOS, TTL and ports in md.tunnel.  Send: the inner frame
 * (checksums completed, super-packets segmented) goes out behind the
 * tunnel header through a socket with the outer source address, TTL and
 * TOS as control messages; the host stack does the route lookup, ARP
 * (holding packets while it resolves), the outer checksums and
 * fragmentation.  Both Open vSwitch layouts work: VTEP address on an hvs
 * internal port (the host stack sends through the TAP and the datapath
 * forwards the outer packet to the uplink) or on a host interface.
 *
 * The UDP source port carries the inner flow's entropy, as RFC 7348
 * asks: each vport keeps a pool of send sockets bound to distinct
 * ephemeral ports and picks one by a hash of the inner flow.  Neither DF
 * nor the UDP checksum can be chosen per message, so there is a pool for
 * each combination (path-MTU discovery with DF set or not; checksum or
 * zero, as the csum flag says).
 *
 * IPv4 only for now; IPv6 tunnel destinations are dropped (tx_errors).
 *
 * Threads: recv runs on the one thread that polls the port (it owns the
 * staging buffers); send may run on several at once and touches only the
 * sockets and counters.
 */
#include "vport.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/udp.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "csum.h"
#include "hash.h"
#include "kflow.h"
#include "log.h"
#include "offload.h"
#include "packet.h"
#include "tnl-pop.h"
#include "tnl-push.h"
#include "tnl-route.h"
#include "tnl-stats.h"

LOG_MODULE(tunnel);

#define VXLAN_PORT_DEFAULT 4789
#define GENEVE_PORT_DEFAULT 6081

/* VXLAN (RFC 7348) and its Group Policy extension (draft-smith-vxlan-
 * group-policy): flags, reserved, VNI, reserved. */
#define VXLAN_HLEN 8
#define VXLAN_F_VNI 0x08        /* first byte: the VNI is valid */
#define VXLAN_F_GBP 0x80        /* first byte: group policy present */
#define VXLAN_GBP_BITS 0x48     /* second byte: don't-learn, applied */

/* Geneve (RFC 8926): version and option length, O and C flags, protocol,
 * VNI, reserved, then options in 4-byte units. */
#define GENEVE_HLEN 8
#define GENEVE_F_OAM 0x80
#define GENEVE_F_CRIT 0x40
#define GENEVE_OPT_CRIT 0x80    /* option type bit: critical */

/* GRE (RFC 2784, RFC 2890 keys) carrying Ethernet (ETH_P_TEB). */
#define GRE_F_CSUM 0x8000
#define GRE_F_KEY 0x2000
#define GRE_F_SEQ 0x1000
#define GRE_F_OTHER 0x4fff      /* routing, strict route, recursion, flags,
                                 * version: all zero in what we accept */

/* The longest tunnel header we write: Geneve with 252 bytes of options. */
#define TNL_HDR_MAX (GENEVE_HLEN + 252)

/* The largest datagram received: an IPv4 datagram's payload, plus the IP
 * header raw sockets deliver. */
#define RX_DGRAM_MAX 65536

/* Datagrams whose inner frame is at most this long are copied into a
 * right-sized packet and the staging buffer is kept. */
#define RX_COPY_MAX 2048

/* Send sockets per pool, each bound to its own ephemeral port, and pools
 * (with and without DF, with and without UDP checksum). */
#define TX_SOCKS 16
#define TX_POOLS 4

/* The MTU reported for the port: what Open vSwitch gives its tunnel
 * devices, since the host stack fragments the outer packets as needed. */
#define TNL_MTU 65000

#define SOCK_BUF_BYTES (4 * 1024 * 1024)

/* UDP GSO: segments per train (the kernel takes up to 64) and the most
 * payload bytes a train may carry (one IPv4 datagram). */
#define TX_GSO_SEGS 64
#define UDP_GSO_BYTES (65535 - 20 - 8)

/* Received frames up to this long (an Ethernet frame of 1500 bytes of
 * IP with two VLAN tags) are never taken for super-packets, even when
 * they arrived in fragments over a smaller underlay MTU. */
#define RX_SUPER_MIN (ETH_HLEN + 8 + 1500)

/* Interface MTUs above this (loopback) are not taken for the size of
 * segments restored from super-packets. */
#define RX_MTU_MAX 9000

struct tunnel;

/* What differs between the tunnel protocols. */
struct tnl_proto {
    enum ovs_vport_type type;
    const char *name;
    uint16_t default_port;      /* 0: not a UDP tunnel */
    /* Parses the tunnel header at 'h' ('len' bytes of datagram: for GRE
     * the IP header first) into 'md'; returns the offset of the inner
     * frame, or -1 if the datagram is malformed. */
    int (*decap)(const struct tunnel *t, const uint8_t *h, size_t len,
                 struct dp_packet_md *md);
    /* Writes the header for the packet with metadata 'md' and 'frame_len'
     * bytes of frame into 'h' (TNL_HDR_MAX bytes); returns its length, or
     * -1 if the packet cannot be sent on this tunnel. */
    int (*encap)(const struct tunnel *t, const struct dp_packet_md *md,
                 const uint8_t *frame, size_t frame_len, uint8_t *h);
};

/* Receive staging area: used only by the thread that polls the port. */
struct tnl_rx {
    struct dp_packet *stage[VPORT_BATCH];
    struct iovec iov[VPORT_BATCH];
    struct sockaddr_in from[VPORT_BATCH];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))
                 + 2 * CMSG_SPACE(sizeof(int))];
    } ctrl[VPORT_BATCH];
    struct mmsghdr msgs[VPORT_BATCH];
};

struct tunnel {
    struct tnl_port_cfg cfg;    /* for the fast path (tnl-push, tnl-pop) */
    bool route_ref;             /* holds a tnl_route_ref() */
    bool kflow_port;            /* told kflow_tnl_port_add() */
    const struct tnl_proto *proto;
    uint16_t dst_port;          /* host order; 0 for GRE */
    bool gbp;                   /* VXLAN group policy extension */
    /* Send sockets: pools by [DF << 1 | UDP checksum], 'n_tx' each. */
    int tx[TX_POOLS][TX_SOCKS];
    int n_tx;                   /* sockets per DF setting */
    int rx_fd;                  /* the port's fd, for interface ioctls */
    bool gso_off;               /* the kernel has no UDP GSO */
    struct tnl_rx rx;
};

/* ---- the protocols ------------------------------------------------------ */

static uint16_t
rd16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t
rd24(const uint8_t *p)
{
    return (uint32_t) p[0] << 16 | (uint32_t) p[1] << 8 | p[2];
}

static void
wr24(uint8_t *p, uint32_t v)
{
    p[0] = v >> 16;
    p[1] = v >> 8;
    p[2] = v;
}

/* The 24-bit VNI of a key (be64), as the kernel takes it: the low bits. */
static uint32_t
vni_of(uint64_t be_tun_id)
{
    return (uint32_t) (be64toh(be_tun_id) & 0xffffff);
}

static int
vxlan_decap(const struct tunnel *t, const uint8_t *h, size_t len,
            struct dp_packet_md *md)
{
    if (len < VXLAN_HLEN + ETH_HLEN || !(h[0] & VXLAN_F_VNI)) {
        return -1;
    }
    /* Other reserved bits are ignored on receipt (RFC 7348, 5). */
    md->tunnel.tun_id = htobe64(rd24(h + 4));
    md->tunnel.flags = FLOW_TNL_F_KEY;
    if (t->gbp && h[0] & VXLAN_F_GBP) {
        md->tunnel.vxlan_gbp = (uint32_t) (h[1] & VXLAN_GBP_BITS) << 16
                               | rd16(h + 2);
        md->tunnel.flags |= FLOW_TNL_F_VXLAN_OPT;
    }
    return VXLAN_HLEN;
}

static int
vxlan_encap(const struct tunnel *t, const struct dp_packet_md *md,
            const uint8_t *frame, size_t frame_len, uint8_t *h)
{
    (void) frame;
    (void) frame_len;
    memset(h, 0, VXLAN_HLEN);
    h[0] = VXLAN_F_VNI;
    wr24(h + 4, vni_of(md->tunnel.tun_id));
    if (t->gbp && md->tunnel.flags & FLOW_TNL_F_VXLAN_OPT) {
        h[0] |= VXLAN_F_GBP;
        h[1] = (md->tunnel.vxlan_gbp >> 16) & VXLAN_GBP_BITS;
        h[2] = md->tunnel.vxlan_gbp >> 8;
        h[3] = md->tunnel.vxlan_gbp;
    }
    return VXLAN_HLEN;
}

/* Whether the 'len' bytes of Geneve options at 'o' are a sequence of
 * whole TLVs; sets '*crit' if one of them is critical. */
static bool
geneve_opts_valid(const uint8_t *o, size_t len, bool *crit)
{
    *crit = false;
    while (len) {
        size_t n;

        if (len < 4) {
            return false;
        }
        n = 4 + (size_t) (o[3] & 0x1f) * 4;
        if (n > len) {
            return false;
        }
        *crit |= (o[2] & GENEVE_OPT_CRIT) != 0;
        o += n;
        len -= n;
    }
    return true;
}

static int
geneve_decap(const struct tunnel *t, const uint8_t *h, size_t len,
             struct dp_packet_md *md)
{
    size_t opts_len, hlen;
    bool crit;

    (void) t;
    if (len < GENEVE_HLEN) {
        return -1;
    }
    opts_len = (size_t) (h[0] & 0x3f) * 4;
    hlen = GENEVE_HLEN + opts_len;
    if (h[0] >> 6 != 0 || rd16(h + 2) != ETH_P_TEB
        || len < hlen + ETH_HLEN
        || opts_len >= FLOW_TNL_OPTS_MAX
        || !geneve_opts_valid(h + GENEVE_HLEN, opts_len, &crit)) {
        return -1;
    }
    md->tunnel.tun_id = htobe64(rd24(h + 4));
    md->tunnel.flags = FLOW_TNL_F_KEY;
    if (h[1] & GENEVE_F_OAM) {
        md->tunnel.flags |= FLOW_TNL_F_OAM;
    }
    if (opts_len) {
        md->tunnel.flags |= FLOW_TNL_F_GENEVE_OPT;
        md->tunnel.opts_len = (uint8_t) opts_len;
        memcpy(md->tun_opts, h + GENEVE_HLEN, opts_len);
    }
    return (int) hlen;
}

static int
geneve_encap(const struct tunnel *t, const struct dp_packet_md *md,
             const uint8_t *frame, size_t frame_len, uint8_t *h)
{
    size_t opts_len = 0;
    bool crit = false;

    (void) t;
    (void) frame;
    (void) frame_len;
    if (md->tunnel.flags & FLOW_TNL_F_GENEVE_OPT) {
        opts_len = md->tunnel.opts_len;
        /* set(tunnel) validated the options; check again all the same,
         * since the header length field is only 6 bits wide. */
        if (opts_len > TNL_HDR_MAX - GENEVE_HLEN || opts_len % 4
            || !geneve_opts_valid(md->tun_opts, opts_len, &crit)) {
            return -1;
        }
    }
    memset(h, 0, GENEVE_HLEN);
    h[0] = (uint8_t) (opts_len / 4);
    h[1] = (md->tunnel.flags & FLOW_TNL_F_OAM ? GENEVE_F_OAM : 0)
           | (crit ? GENEVE_F_CRIT : 0);
    h[2] = ETH_P_TEB >> 8;
    h[3] = ETH_P_TEB & 0xff;
    wr24(h + 4, vni_of(md->tunnel.tun_id));
    memcpy(h + GENEVE_HLEN, md->tun_opts, opts_len);
    return (int) (GENEVE_HLEN + opts_len);
}

/* The GRE header at 'h' ('len' bytes up to the end of the datagram)
 * into 'md'; returns the offset of the inner frame or -1. */
static int
gre_parse(const uint8_t *h, size_t len, struct dp_packet_md *md)
{
    size_t ofs = 4;
    uint16_t flags;

    if (len < 4) {
        return -1;
    }
    flags = rd16(h);
    if (flags & GRE_F_OTHER || rd16(h + 2) != ETH_P_TEB) {
        return -1;
    }
    if (flags & GRE_F_CSUM) {
        if (len < ofs + 4 || csum_fold(csum_partial(h, len, 0))) {
            return -1;
        }
        md->tunnel.flags |= FLOW_TNL_F_CSUM;
        ofs += 4;
    }
    if (flags & GRE_F_KEY) {
        uint32_t key;

        if (len < ofs + 4) {
            return -1;
        }
        memcpy(&key, h + ofs, 4);
        md->tunnel.tun_id = htobe64(ntohl(key));
        md->tunnel.flags |= FLOW_TNL_F_KEY;
        ofs += 4;
    }
    if (flags & GRE_F_SEQ) {
        ofs += 4;               /* sequence numbers are not checked */
    }
    if (len < ofs + ETH_HLEN) {
        return -1;
    }
    return (int) ofs;
}

/* A raw IPv4 socket delivers the IP header: the outer addresses, TOS and
 * TTL come from it rather than from control messages. */
static int
gre_decap(const struct tunnel *t, const uint8_t *h, size_t len,
          struct dp_packet_md *md)
{
    size_t ihl;
    int ofs;

    (void) t;
    if (len < 20 || h[0] >> 4 != 4) {
        return -1;
    }
    ihl = (size_t) (h[0] & 0xf) * 4;
    if (ihl < 20 || len < ihl + 4) {
        return -1;
    }
    md->tunnel.tos = h[1];
    md->tunnel.ttl = h[8];
    memcpy(&md->tunnel.ipv4_src, h + 12, 4);
    memcpy(&md->tunnel.ipv4_dst, h + 16, 4);
    /* DF is not reported, as by the kernel and by the UDP tunnels, whose
     * sockets cannot tell. */
    ofs = gre_parse(h + ihl, len - ihl, md);
    return ofs < 0 ? -1 : (int) ihl + ofs;
}

static int
gre_encap(const struct tunnel *t, const struct dp_packet_md *md,
          const uint8_t *frame, size_t frame_len, uint8_t *h)
{
    uint16_t flags = 0;
    size_t ofs = 4;

    (void) t;
    if (md->tunnel.flags & FLOW_TNL_F_CSUM) {
        flags |= GRE_F_CSUM;
        memset(h + ofs, 0, 4);
        ofs += 4;
    }
    if (md->tunnel.flags & FLOW_TNL_F_KEY) {
        uint32_t key = htonl((uint32_t) be64toh(md->tunnel.tun_id));

        flags |= GRE_F_KEY;
        memcpy(h + ofs, &key, 4);
        ofs += 4;
    }
    h[0] = flags >> 8;
    h[1] = flags & 0xff;
    h[2] = ETH_P_TEB >> 8;
    h[3] = ETH_P_TEB & 0xff;
    if (flags & GRE_F_CSUM) {
        uint16_t c = csum_fold(csum_partial(frame, frame_len,
                                            csum_partial(h, ofs, 0)));
        memcpy(h + 4, &c, 2);
    }
    return (int) ofs;
}

static const struct tnl_proto proto_vxlan = {
    OVS_VPORT_TYPE_VXLAN, "vxlan", VXLAN_PORT_DEFAULT,
    vxlan_decap, vxlan_encap,
};

static const struct tnl_proto proto_geneve = {
    OVS_VPORT_TYPE_GENEVE, "geneve", GENEVE_PORT_DEFAULT,
    geneve_decap, geneve_encap,
};

static const struct tnl_proto proto_gre = {
    OVS_VPORT_TYPE_GRE, "gre", 0, gre_decap, gre_encap,
};

/* ---- receive ------------------------------------------------------------ */

static bool
rx_prepare(struct tunnel *t, int n)
{
    struct tnl_rx *rx = &t->rx;

    for (int i = 0; i < n; i++) {
        if (!rx->stage[i]) {
            rx->stage[i] = dp_packet_new(DP_PACKET_HEADROOM, RX_DGRAM_MAX);
            if (!rx->stage[i]) {
                return false;
            }
        }
        rx->iov[i].iov_base = dp_packet_data(rx->stage[i]);
        rx->iov[i].iov_len = RX_DGRAM_MAX;
        rx->msgs[i].msg_hdr = (struct msghdr) {
            .msg_name = &rx->from[i],
            .msg_namelen = sizeof rx->from[i],
            .msg_iov = &rx->iov[i],
            .msg_iovlen = 1,
            .msg_control = rx->ctrl[i].buf,
            .msg_controllen = sizeof rx->ctrl[i].buf,
        };
    }
    return true;
}

/* The outer header facts a socket reports beside the datagram: for UDP
 * the local address, TOS and TTL into 'md' (unless NULL); for both, the
 * interface the datagram came in on. */
static int
rx_cmsgs(const struct msghdr *msg, struct dp_packet_md *md)
{
    int ifindex = 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *) msg); c;
         c = CMSG_NXTHDR((struct msghdr *) msg, c)) {
        if (c->cmsg_level != IPPROTO_IP) {
            continue;
        }
        if (c->cmsg_type == IP_PKTINFO
            && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo pi;

            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ifindex = pi.ipi_ifindex;
            if (md) {
                md->tunnel.ipv4_dst = pi.ipi_addr.s_addr;
            }
        } else if (!md) {
            continue;
        } else if (c->cmsg_type == IP_TOS && c->cmsg_len >= CMSG_LEN(1)) {
            md->tunnel.tos = *CMSG_DATA(c);
        } else if (c->cmsg_type == IP_TTL
                   && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int ttl;

            memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
            md->tunnel.ttl = (uint8_t) ttl;
        }
    }
    return ifindex;
}

/* The largest inner IP datagram that fits one outer packet on interface
 * 'ifindex' behind 'outer' bytes of outer headers (IP, UDP, tunnel) and
 * an Ethernet header. */
static size_t
inner_l3_mtu(int fd, int ifindex, size_t outer)
{
    struct ifreq ifr;
    size_t mtu = 1500;

    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = ifindex;
    if (ifindex && !ioctl(fd, SIOCGIFNAME, &ifr)
        && !ioctl(fd, SIOCGIFMTU, &ifr) && ifr.ifr_mtu > 0) {
        /* Loopback's 64 KiB would make segments nobody can take. */
        mtu = ifr.ifr_mtu < RX_MTU_MAX ? (size_t) ifr.ifr_mtu : RX_MTU_MAX;
    }
    return mtu > outer + ETH_HLEN + 576 ? mtu - outer - ETH_HLEN : 576;
}

/* Gives the decapsulated frame 'p' its tunnel metadata 'md' and the
 * offload state the socket lost. */
static void
rx_finish(struct dp_packet *p, const struct dp_packet_md *md, size_t l3_mtu)
{
    p->md.tunnel = md->tunnel;
    if (md->tunnel.opts_len) {
        memcpy(p->md.tun_opts, md->tun_opts, md->tunnel.opts_len);
    }
    /* A sender on this host (veth underlay) may have handed its stack a
     * super-packet, which reaches the socket whole, or left the inner
     * checksum partial.  A wrong checksum is forwarded as a bridge
     * would. */
    if (p->len <= RX_SUPER_MIN || !offload_mark_super(p, l3_mtu)) {
        offload_repair_csum(p);
    }
}

/* Turns received datagram 'i' into a packet; false if it is dropped
 * (counted in '*bad' or '*lost'). */
static bool
rx_take(struct tunnel *t, int i, struct dp_packet **out, uint64_t *bad,
        uint64_t *lost)
{
    struct tnl_rx *rx = &t->rx;
    struct mmsghdr *m = &rx->msgs[i];
    struct dp_packet *s = rx->stage[i];
    const uint8_t *d = dp_packet_data(s);
    struct dp_packet_md md;
    size_t len = m->msg_len, outer;
    int ofs, ifindex;

    if (m->msg_hdr.msg_flags & MSG_TRUNC) {
        ++*bad;
        return false;
    }
    memset(&md.tunnel, 0, sizeof md.tunnel);
    ofs = t->proto->decap(t, d, len, &md);
    if (ofs < 0) {
        ++*bad;
        return false;
    }
    if (t->proto->default_port) {
        ifindex = rx_cmsgs(&m->msg_hdr, &md);
        md.tunnel.ipv4_src = rx->from[i].sin_addr.s_addr;
        md.tunnel.tp_src = rx->from[i].sin_port;
        md.tunnel.tp_dst = htons(t->dst_port);
        outer = 20 + 8 + (size_t) ofs;
    } else {
        ifindex = rx_cmsgs(&m->msg_hdr, NULL);
        outer = (size_t) ofs;
    }
    len -= (size_t) ofs;
    if (len <= RX_COPY_MAX) {
        struct dp_packet *p = dp_packet_copy_from(d + ofs, len,
                                                  DP_PACKET_HEADROOM);
        if (!p) {
            ++*lost;
            return false;
        }
        s = p;
    } else {
        rx->stage[i] = NULL;
        s->data_ofs += (uint32_t) ofs;
        s->len = (uint32_t) len;
    }
    /* The interface MTU costs two system calls: only for frames that
     * may be super-packets. */
    rx_finish(s, &md, len > RX_SUPER_MIN
                      ? inner_l3_mtu(t->rx_fd, ifindex, outer) : 0);
    *out = s;
    return true;
}

struct dp_packet *
vport_tunnel_decap(enum ovs_vport_type type, bool gbp, const uint8_t *dgram,
                   size_t len, size_t l3_mtu)
{
    struct tunnel t = { .gbp = gbp };
    struct dp_packet_md md;
    struct dp_packet *p;
    int ofs;

    t.proto = type == OVS_VPORT_TYPE_VXLAN ? &proto_vxlan
              : type == OVS_VPORT_TYPE_GENEVE ? &proto_geneve
              : type == OVS_VPORT_TYPE_GRE ? &proto_gre : NULL;
    if (!t.proto) {
        return NULL;
    }
    memset(&md.tunnel, 0, sizeof md.tunnel);
    ofs = t.proto->decap(&t, dgram, len, &md);
    if (ofs < 0) {
        return NULL;
    }
    p = dp_packet_copy_from(dgram + ofs, len - (size_t) ofs,
                            DP_PACKET_HEADROOM);
    if (p) {
        rx_finish(p, &md, l3_mtu);
    }
    return p;
}

static int
tnl_recv(struct vport *v, struct dp_packet **pkts, int n)
{
    struct tunnel *t = v->priv;
    uint64_t bytes = 0, bad = 0, lost = 0;
    int got, out = 0;

    if (n > VPORT_BATCH) {
        n = VPORT_BATCH;
    }
    if (!rx_prepare(t, n)) {
        return -ENOMEM;
    }
    do {
        got = recvmmsg(v->fd, t->rx.msgs, n, MSG_DONTWAIT, NULL);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        /* A pending ICMP error is reported once and clears itself. */
        return errno == EAGAIN || errno == EWOULDBLOCK
               || errno == ECONNREFUSED || errno == EHOSTUNREACH
               || errno == ENETUNREACH ? 0 : -errno;
    }
    for (int i = 0; i < got; i++) {
        if (rx_take(t, i, &pkts[out], &bad, &lost)) {
            bytes += pkts[out]->len;
            out++;
        }
    }

    struct vport_stats *st = &v->stats;
    if (out) {
        tnl_count(TNL_C_SOCKET_RX, (uint64_t) out);
        atomic_fetch_add_explicit(&st->rx_packets, out, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->rx_bytes, bytes, memory_order_relaxed);
    }
    if (bad) {
        tnl_count(TNL_C_SOCKET_RX_BAD, bad);
        atomic_fetch_add_explicit(&st->rx_errors, bad, memory_order_relaxed);
    }
    if (lost) {
        atomic_fetch_add_explicit(&st->rx_dropped, lost,
                                  memory_order_relaxed);
    }
    return out;
}

/* ---- send --------------------------------------------------------------- */

/* A hash of the inner flow (addresses, protocol, ports) for the choice of
 * the source port; frames that are not IP hash by their MAC addresses. */
static uint32_t
inner_flow_hash(const uint8_t *f, size_t len)
{
    size_t ofs = 2 * ETH_ALEN;
    uint32_t h = 0;
    uint16_t type;

    if (len < ETH_HLEN) {
        return 0;
    }
    type = rd16(f + ofs);
    while ((type == ETH_P_8021Q || type == ETH_P_8021AD)
           && len >= ofs + 8) {
        ofs += 4;
        type = rd16(f + ofs);
    }
    ofs += 2;
    if (type == ETH_P_IP && len >= ofs + 20) {
        const uint8_t *ip = f + ofs;
        size_t ihl = (size_t) (ip[0] & 0xf) * 4;
        bool frag = (rd16(ip + 6) & 0x3fff) != 0;

        h = hash_add(h, hash_bytes(ip + 12, 8, ip[9]));
        if (!frag && ihl >= 20 && len >= ofs + ihl + 4
            && (ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_UDP
                || ip[9] == IPPROTO_SCTP)) {
            h = hash_add(h, hash_bytes(ip + ihl, 4, 0));
        }
    } else if (type == ETH_P_IPV6 && len >= ofs + 40) {
        const uint8_t *ip = f + ofs;

        h = hash_add(h, hash_bytes(ip + 8, 32, ip[6]));
        if ((ip[6] == IPPROTO_TCP || ip[6] == IPPROTO_UDP)
            && len >= ofs + 44) {
            h = hash_add(h, hash_bytes(ip + 40, 4, 0));
        }
    } else {
        h = hash_bytes(f, 2 * ETH_ALEN, type);
    }
    return hash_finish(h, 0);
}

/* Packets ready to go; lives on the sender's stack. */
struct tnl_tx {
    struct vport *v;
    struct tunnel *t;
    int n;
    struct dp_packet *pkts[VPORT_BATCH];
    int fd[VPORT_BATCH];
    uint8_t hdr[VPORT_BATCH][TNL_HDR_MAX];
    struct iovec iov[VPORT_BATCH][2];
    struct sockaddr_in to[VPORT_BATCH];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))
                 + 2 * CMSG_SPACE(sizeof(int))];
    } ctrl[VPORT_BATCH];
    struct mmsghdr msgs[VPORT_BATCH];
    uint64_t sent, sent_bytes, errors, dropped;
};

static void
put_cmsg(struct msghdr *msg, struct cmsghdr **c, int type, const void *data,
         size_t len)
{
    struct cmsghdr *h = *c;

    h->cmsg_level = IPPROTO_IP;
    h->cmsg_type = type;
    h->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(h), data, len);
    msg->msg_controllen += CMSG_SPACE(len);
    *c = (struct cmsghdr *) ((char *) h + CMSG_SPACE(len));
}

/* Fills message 'k' of 'b' for its packet. */
static void
tx_fill(struct tnl_tx *b, int k, int hdr_len)
{
    struct dp_packet *p = b->pkts[k];
    const struct flow_tnl *tn = &p->md.tunnel;
    struct msghdr *msg = &b->msgs[k].msg_hdr;
    struct cmsghdr *c = (struct cmsghdr *) b->ctrl[k].buf;
    int ttl = tn->ttl ? tn->ttl : 64, tos = tn->tos;

    b->iov[k][0].iov_base = b->hdr[k];
    b->iov[k][0].iov_len = (size_t) hdr_len;
    b->iov[k][1].iov_base = dp_packet_data(p);
    b->iov[k][1].iov_len = p->len;
    memset(&b->to[k], 0, sizeof b->to[k]);
    b->to[k].sin_family = AF_INET;
    b->to[k].sin_addr.s_addr = tn->ipv4_dst;
    /* A flow's own destination port wins, as in the kernel. */
    b->to[k].sin_port = b->t->dst_port
                        ? (tn->tp_dst ? tn->tp_dst : htons(b->t->dst_port))
                        : 0;
    *msg = (struct msghdr) {
        .msg_name = &b->to[k],
        .msg_namelen = sizeof b->to[k],
        .msg_iov = b->iov[k],
        .msg_iovlen = 2,
        .msg_control = b->ctrl[k].buf,
        .msg_controllen = 0,
    };
    if (tn->ipv4_src) {
        struct in_pktinfo pi;

        memset(&pi, 0, sizeof pi);
        pi.ipi_spec_dst.s_addr = tn->ipv4_src;
        put_cmsg(msg, &c, IP_PKTINFO, &pi, sizeof pi);
    }
    put_cmsg(msg, &c, IP_TTL, &ttl, sizeof ttl);
    put_cmsg(msg, &c, IP_TOS, &tos, sizeof tos);
}

static void
tx_flush(struct tnl_tx *b)
{
    int i = 0;

    while (i < b->n) {
        int run = 1, sent;

        /* sendmmsg() takes one socket: send runs of the same one. */
        while (i + run < b->n && b->fd[i + run] == b->fd[i]) {
            run++;
        }
        sent = sendmmsg(b->fd[i], b->msgs + i, (unsigned) run, MSG_DONTWAIT);
        if (sent > 0) {
            for (int k = i; k < i + sent; k++) {
                b->sent_bytes += b->pkts[k]->len;
            }
            b->sent += (uint64_t) sent;
            i += sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else if (sent == 0 || errno == EAGAIN || errno == EWOULDBLOCK
                   || errno == ENOBUFS) {
            /* Socket buffer full: the rest of the run would fail too. */
            b->dropped += (uint64_t) run;
            i += run;
        } else {
            /* This datagram: no route (ENETUNREACH), a source address
             * that is not ours (EINVAL), too long for DF (EMSGSIZE). */
            static struct log_rl rl = LOG_RL_INIT(12, 5);
            char dst[INET_ADDRSTRLEN];

            inet_ntop(AF_INET, &b->to[i].sin_addr, dst, sizeof dst);
            LOG_RL(&rl, LOG_L_WARN, "%s: cannot send to %s: %s",
                   b->v->name, dst, strerror(errno));
            b->errors++;
            i++;
        }
    }
    for (int k = 0; k < b->n; k++) {
        dp_packet_free(b->pkts[k]);
    }
    b->n = 0;
}

static void
tx_emit(void *b_, struct dp_packet *p)
{
    struct tnl_tx *b = b_;
    const struct flow_tnl *tn = &p->md.tunnel;
    struct tunnel *t = b->t;
    int k, hdr_len, pool;

    if (!p->md.tunnel_tx || !tn->ipv4_dst) {
        /* No set(tunnel) before the output (the metadata, if any, is what
         * the packet was received with), or an IPv6 destination. */
        b->errors++;
        dp_packet_free(p);
        return;
    }
    if (b->n == VPORT_BATCH) {
        tx_flush(b);
    }
    k = b->n;
    hdr_len = t->proto->encap(t, &p->md, dp_packet_data(p), p->len,
                              b->hdr[k]);
    if (hdr_len < 0) {
        b->errors++;
        dp_packet_free(p);
        return;
    }
    /* GRE carries its checksum in its header, not in a UDP one. */
    pool = (tn->flags & FLOW_TNL_F_DONT_FRAGMENT ? 2 : 0)
           | (tn->flags & FLOW_TNL_F_CSUM && t->proto->default_port ? 1 : 0);
    b->fd[k] = t->tx[pool][inner_flow_hash(dp_packet_data(p), p->len)
                           % (uint32_t) t->n_tx];
    b->pkts[k] = p;
    tx_fill(b, k, hdr_len);
    b->n++;
}

/* Sends segments 'segs[0..n-1]' (equal lengths but the last) of one
 * super-packet as one UDP GSO datagram train ('len' bytes of each with
 * the tunnel header 'hdr' of 'hdr_len' bytes in front), through 'fd' with
 * the control messages of 'msg0'.  Returns how many were sent. */
static int
tx_gso_chunk(int fd, struct msghdr *msg0, const uint8_t *hdr, int hdr_len,
             struct dp_packet **segs, int n, size_t len)
{
    struct iovec iov[2 * TX_GSO_SEGS];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))
                 + 3 * CMSG_SPACE(sizeof(int))];
    } ctrl;
    struct msghdr msg = *msg0;
    struct cmsghdr *c;
    uint16_t gso = (uint16_t) (hdr_len + len);

    for (int i = 0; i < n; i++) {
        iov[2 * i].iov_base = (void *) hdr;
        iov[2 * i].iov_len = (size_t) hdr_len;
        iov[2 * i + 1].iov_base = dp_packet_data(segs[i]);
        iov[2 * i + 1].iov_len = segs[i]->len;
    }
    memcpy(ctrl.buf, msg0->msg_control, msg0->msg_controllen);
    c = (struct cmsghdr *) (ctrl.buf + msg0->msg_controllen);
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof gso);
    memcpy(CMSG_DATA(c), &gso, sizeof gso);
    msg.msg_control = ctrl.buf;
    msg.msg_controllen = msg0->msg_controllen + CMSG_SPACE(sizeof gso);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t) (2 * n);
    for (;;) {
        if (sendmsg(fd, &msg, MSG_DONTWAIT) >= 0) {
            return n;
        } else if (errno != EINTR) {
            return 0;
        }
    }
}

/* A super-packet for a UDP tunnel: segmented here, then, if the tunnel
 * has UDP checksums (the kernel's UDP GSO needs them), handed to the host
 * stack as trains of equal-sized datagrams (UDP GSO), which cross the
 * stack once per train instead of once per segment.  Whatever cannot go
 * that way (no checksums, a train that would need IP fragmentation, an
 * old kernel) takes the datagram-per-segment path.  Trains stay whole
 * across a veth underlay, which the Linux stack takes but Open vSwitch's
 * userspace datapath on the other end does not. */
static void
tx_super(struct tnl_tx *b, struct dp_packet *p)
{
    struct dp_packet *stack[64], **segs = stack;
    size_t max = p->len / (p->vnet.gso_size ? p->vnet.gso_size : 1) + 2;
    int n, done = 0;

    if (max > 64) {
        segs = malloc(max * sizeof *segs);
    }
    n = segs ? offload_segment(p, segs, max) : -ENOMEM;
    dp_packet_free(p);
    if (n <= 0) {
        b->errors++;
        goto out;
    }
    /* The first segment goes out on its own, ahead of the others; its
     * header and control messages, still in the batch's arrays after the
     * flush, serve the trains (same metadata, same flow). */
    if (b->n == VPORT_BATCH) {
        tx_flush(b);
    }
    int k = b->n;
    tx_emit(b, segs[0]);
    done = 1;
    if (b->n == k) {
        goto out;               /* refused: so will the others be */
    }
    tx_flush(b);
    /* The kernel takes UDP GSO only with UDP checksums. */
    if (n < 2 || b->t->gso_off
        || !(segs[1]->md.tunnel.flags & FLOW_TNL_F_CSUM)) {
        goto out;
    }
    size_t len = segs[1]->len;
    struct msghdr *m0 = &b->msgs[k].msg_hdr;
    size_t per = (size_t) b->iov[k][0].iov_len + len;
    int chunk = (int) (UDP_GSO_BYTES / per);

    if (chunk > TX_GSO_SEGS) {
        chunk = TX_GSO_SEGS;
    }
    while (done < n) {
        int want = n - done < chunk ? n - done : chunk, sent, i;

        /* Equal sizes but for the last of the train. */
        for (i = 0; i < want - 1 && segs[done + i]->len == len; i++) {
            continue;
        }
        want = i + 1;
        if (segs[done + want - 1]->len > len || want < 2) {
            break;
        }
        sent = tx_gso_chunk(b->fd[k], m0, b->hdr[k],
                            (int) b->iov[k][0].iov_len, segs + done, want,
                            len);
        if (!sent) {
            if (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT
                || errno == EMSGSIZE) {
                /* Would need fragments (or no UDP GSO): not for this
                 * one, nor, if the kernel lacks it, for any. */
                b->t->gso_off = errno == ENOPROTOOPT;
                break;
            }
            b->dropped += (uint64_t) want;
        } else {
            b->sent += (uint64_t) sent;
            for (i = 0; i < sent; i++) {
                b->sent_bytes += segs[done + i]->len;
            }
        }
        for (i = 0; i < want; i++) {
            dp_packet_free(segs[done + i]);
        }
        done += want;
    }

out:
    for (int i = done; i < n; i++) {
        tx_emit(b, segs[i]);
    }
    if (segs != stack) {
        free(segs);
    }
}

static void
tnl_send(struct vport *v, struct dp_packet **pkts, int n)
{
    struct tnl_tx b;

    b.v = v;
    b.t = v->priv;
    b.n = 0;
    b.sent = b.sent_bytes = b.errors = b.dropped = 0;
    for (int i = 0; i < n; i++) {
        struct dp_packet *p = pkts[i];

        if (p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
            && b.t->proto->default_port
            && (!p->cutlen || p->cutlen >= p->len)) {
            tx_super(&b, p);
        } else {
            vport_tx_prepare(v, p, 0, tx_emit, &b);
        }
    }
    if (b.n) {
        tx_flush(&b);
    }

    struct vport_stats *st = &v->stats;
    if (b.sent) {
        atomic_fetch_add_explicit(&st->tx_packets, b.sent,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&st->tx_bytes, b.sent_bytes,
                                  memory_order_relaxed);
    }
    if (b.errors) {
        atomic_fetch_add_explicit(&st->tx_errors, b.errors,
                                  memory_order_relaxed);
    }
    if (b.dropped) {
        atomic_fetch_add_explicit(&st->tx_dropped, b.dropped,
                                  memory_order_relaxed);
    }
}

_Static_assert(TNL_HDR_MAX <= VPORT_TUNNEL_HDR_MAX,
               "tnl-push.h's header buffer is too small");

int
vport_tunnel_parse_hdr(enum ovs_vport_type type, bool gbp, const uint8_t *h,
                       size_t len, struct dp_packet_md *md)
{
    struct tunnel t = { .gbp = gbp };

    switch (type) {
    case OVS_VPORT_TYPE_VXLAN:
        return vxlan_decap(&t, h, len, md);
    case OVS_VPORT_TYPE_GENEVE:
        return geneve_decap(&t, h, len, md);
    case OVS_VPORT_TYPE_GRE:
        return gre_parse(h, len, md);
    default:
        return -1;
    }
}

/* ---- for the fast path (tnl-push.h) ------------------------------------ */

const struct tnl_port_cfg *
vport_tunnel_cfg(const struct vport *v)
{
    const struct tunnel *t;

    if (v->type != OVS_VPORT_TYPE_VXLAN && v->type != OVS_VPORT_TYPE_GENEVE
        && v->type != OVS_VPORT_TYPE_GRE) {
        return NULL;
    }
    t = v->priv;
    return t && t->route_ref ? &t->cfg : NULL;
}

int
vport_tunnel_put_hdr(const struct vport *v, const struct dp_packet_md *md,
                     const uint8_t *frame, size_t len, uint8_t *h)
{
    const struct tunnel *t = v->priv;

    return t->proto->encap(t, md, frame, len, h);
}

uint32_t
vport_tunnel_flow_hash(const uint8_t *frame, size_t len)
{
    return inner_flow_hash(frame, len);
}

/* ---- open and close ----------------------------------------------------- */

static int
set_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno
                                                                  : 0;
}

static void
sock_bufs(int fd, int opt_force, int opt)
{
    /* The forced size needs CAP_NET_ADMIN; the plain one is capped. */
    if (set_int(fd, SOL_SOCKET, opt_force, SOCK_BUF_BYTES)) {
        set_int(fd, SOL_SOCKET, opt, SOCK_BUF_BYTES);
    }
}

static int
tnl_socket(const struct tunnel *t)
{
    return t->proto->default_port
           ? socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)
           : socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    IPPROTO_GRE);
}

static int
open_rx(struct vport *v, struct tunnel *t, const char **reason)
{
    struct sockaddr_in sin;
    int fd = tnl_socket(t);

    if (fd < 0) {
        *reason = t->proto->default_port ? "cannot create a UDP socket"
                                         : "cannot create a raw GRE socket";
        return -errno;
    }
    v->fd = fd;
    t->rx_fd = fd;
    sock_bufs(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) {
        *reason = "socket options not supported";
        return -errno;
    }
    if (!t->proto->default_port) {
        return 0;               /* raw: the IP header says the rest */
    }
    if (set_int(fd, IPPROTO_IP, IP_RECVTOS, 1)
        || set_int(fd, IPPROTO_IP, IP_RECVTTL, 1)) {
        *reason = "UDP socket options not supported";
        return -errno;
    }
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(t->dst_port);
    if (bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
        int err = -errno;

        *reason = err == -EADDRINUSE ? "the tunnel's UDP port is in use"
                                     : "cannot bind the tunnel's UDP port";
        return err;
    }
    return 0;
}

static int
open_tx(struct tunnel *t, const char **reason)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    /* GRE has no ports: one socket per pool is enough. */
    t->n_tx = t->proto->default_port ? TX_SOCKS : 1;
    for (int pool = 0; pool < TX_POOLS; pool++) {
        for (int i = 0; i < t->n_tx; i++) {
            int fd = tnl_socket(t);

            if (fd < 0) {
                *reason = "cannot create a send socket";
                return -errno;
            }
            t->tx[pool][i] = fd;
            sock_bufs(fd, SO_SNDBUFFORCE, SO_SNDBUF);
            /* DF with path-MTU discovery, or fragments as needed. */
            if (set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER,
                        pool & 2 ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT)) {
                *reason = "cannot set the DF policy of a send socket";
                return -errno;
            }
            /* Without the csum flag the UDP checksum is zero, as the
             * kernel's tunnels and Open vSwitch's send it by default
             * (RFC 7348 allows it over IPv4). */
            if (t->proto->default_port && !(pool & 1)
                && set_int(fd, SOL_SOCKET, SO_NO_CHECK, 1)) {
                *reason = "cannot turn off UDP checksums";
                return -errno;
            }
            /* Binding to port 0 picks a distinct ephemeral port now. */
            if (t->proto->default_port
                && bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
                *reason = "cannot bind a send socket";
                return -errno;
            }
        }
    }
    return 0;
}

static int
parse_options(const struct nlattr *opts, struct tunnel *t,
              const char **reason)
{
    const struct nlattr *a;

    t->dst_port = t->proto->default_port;
    if (!opts) {
        return 0;
    }
    mnl_attr_for_each_nested(a, opts) {
        switch (mnl_attr_get_type(a)) {
        case OVS_TUNNEL_ATTR_DST_PORT:
            if (mnl_attr_get_payload_len(a) != 2) {
                *reason = "tunnel destination port must be a u16";
                return -EINVAL;
            }
            if (!t->proto->default_port) {
                *reason = "this tunnel type has no UDP port";
                return -EINVAL;
            }
            t->dst_port = mnl_attr_get_u16(a);
            break;
        case OVS_TUNNEL_ATTR_EXTENSION: {
            const struct nlattr *e;

            mnl_attr_for_each_nested(e, a) {
                if (t->proto->type == OVS_VPORT_TYPE_VXLAN
                    && mnl_attr_get_type(e) == OVS_VXLAN_EXT_GBP) {
                    t->gbp = true;
                } else {
                    *reason = "unsupported tunnel extension";
                    return -EOPNOTSUPP;
                }
            }
            break;
        }
        default:
            *reason = "unknown tunnel option";
            return -EINVAL;
        }
    }
    if (t->proto->default_port && !t->dst_port) {
        *reason = "tunnel destination port 0";
        return -EINVAL;
    }
    return 0;
}

static void
tnl_close(struct vport *v)
{
    struct tunnel *t = v->priv;

    if (v->fd >= 0) {
        close(v->fd);
        v->fd = -1;
    }
    if (!t) {
        return;
    }
    if (t->route_ref) {
        tnl_route_forget(v);
        tnl_route_unref();
    }
    if (t->kflow_port) {
        kflow_tnl_port_del(t->dst_port);
    }
    for (int pool = 0; pool < TX_POOLS; pool++) {
        for (int i = 0; i < TX_SOCKS; i++) {
            if (t->tx[pool][i] >= 0) {
                close(t->tx[pool][i]);
            }
        }
    }
    for (int i = 0; i < VPORT_BATCH; i++) {
        dp_packet_free(t->rx.stage[i]);
    }
    free(t);
    v->priv = NULL;
}

static int
tnl_open(struct vport *v, const struct tnl_proto *proto,
         const char **reason)
{
    struct tunnel *t = calloc(1, sizeof *t);
    int err;

    v->fd = -1;
    if (!t) {
        *reason = "out of memory";
        return -ENOMEM;
    }
    for (int pool = 0; pool < TX_POOLS; pool++) {
        for (int i = 0; i < TX_SOCKS; i++) {
            t->tx[pool][i] = -1;
        }
    }
    t->proto = proto;
    v->priv = t;
    err = parse_options(v->options, t, reason);
    if (!err) {
        err = open_rx(v, t, reason);
    }
    if (!err) {
        err = open_tx(t, reason);
    }
    if (err) {
        tnl_close(v);
        return err;
    }
    t->cfg.type = proto->type;
    t->cfg.dst_port = proto->default_port ? t->dst_port : 0;
    t->cfg.gbp = t->gbp;
    /* Without the host's tables the socket path does everything. */
    t->route_ref = !tnl_route_ref();
    v->ifindex = 0;
    v->mtu = TNL_MTU;
    /* Inner offload state cannot cross a socket: complete it here. */
    v->tx_csum_offload = false;
    v->tx_tso = false;
    if (proto->default_port) {
        LOG_INFO("%s: %s tunnel on UDP port %u", v->name, proto->name,
                 t->dst_port);
    }
    if (proto->type == OVS_VPORT_TYPE_VXLAN && t->route_ref) {
        /* The kernel flow cache decapsulates this port's packets. */
        kflow_tnl_port_add(t->dst_port);
        t->kflow_port = true;
    }
    return 0;
}

static bool
tnl_put_options(const struct vport *v, struct nlmsghdr *nlh, size_t buflen)
{
    const struct tunnel *t = v->priv;
    struct nlattr *opts, *ext;

    if (!t->proto->default_port) {
        return true;            /* gre: no options, as from the kernel */
    }
    opts = mnl_attr_nest_start_check(nlh, buflen, OVS_VPORT_ATTR_OPTIONS);
    if (!opts || !mnl_attr_put_u16_check(nlh, buflen,
                                         OVS_TUNNEL_ATTR_DST_PORT,
                                         t->dst_port)) {
        return false;
    }
    if (t->gbp) {
        ext = mnl_attr_nest_start_check(nlh, buflen,
                                        OVS_TUNNEL_ATTR_EXTENSION);
        if (!ext || !mnl_attr_put_check(nlh, buflen, OVS_VXLAN_EXT_GBP, 0,
                                        NULL)) {
            return false;
        }
        mnl_attr_nest_end(nlh, ext);
    }
    mnl_attr_nest_end(nlh, opts);
    return true;
}

static int
vxlan_open(struct vport *v, const char **reason)
{
    return tnl_open(v, &proto_vxlan, reason);
}

static int
geneve_open(struct vport *v, const char **reason)
{
    return tnl_open(v, &proto_geneve, reason);
}

static int
gre_open(struct vport *v, const char **reason)
{
    return tnl_open(v, &proto_gre, reason);
}

const struct vport_ops vport_vxlan_ops = {
    .type = OVS_VPORT_TYPE_VXLAN,
    .type_name = "vxlan",
    .open = vxlan_open,
    .close = tnl_close,
    .recv = tnl_recv,
    .send = tnl_send,
    .put_options = tnl_put_options,
};

const struct vport_ops vport_geneve_ops = {
    .type = OVS_VPORT_TYPE_GENEVE,
    .type_name = "geneve",
    .open = geneve_open,
    .close = tnl_close,
    .recv = tnl_recv,
    .send = tnl_send,
    .put_options = tnl_put_options,
};

const struct vport_ops vport_gre_ops = {
    .type = OVS_VPORT_TYPE_GRE,
    .type_name = "gre",
    .open = gre_open,
    .close = tnl_close,
    .recv = tnl_recv,
    .send = tnl_send,
    .put_options = tnl_put_options,
};

/* ---- kernel tunnel devices ---------------------------------------------- */

struct md_probe {
    const char *kind;
    bool md;
};

static int
info_data_cb(const struct nlattr *a, void *probe_)
{
    struct md_probe *probe = probe_;
    uint16_t type = mnl_attr_get_type(a);

    if (!strcmp(probe->kind, "vxlan")) {
        if (type == IFLA_VXLAN_COLLECT_METADATA
            && mnl_attr_get_payload_len(a) >= 1) {
            probe->md = mnl_attr_get_u8(a) != 0;
        }
    } else if (!strcmp(probe->kind, "geneve")) {
        probe->md |= type == IFLA_GENEVE_COLLECT_METADATA;
    } else {
        probe->md |= type == IFLA_GRE_COLLECT_METADATA;
    }
    return MNL_CB_OK;
}

static int
linkinfo_cb(const struct nlattr *a, void *probe_)
{
    struct md_probe *probe = probe_;

    if (mnl_attr_get_type(a) == IFLA_INFO_KIND
        && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
        const char *kind = mnl_attr_get_str(a);

        if (!strcmp(kind, "vxlan") || !strcmp(kind, "geneve")
            || !strcmp(kind, "gretap") || !strcmp(kind, "ip6gretap")
            || !strcmp(kind, "erspan") || !strcmp(kind, "ip6erspan")) {
            probe->kind = kind;
        }
    }
    return MNL_CB_OK;
}

static int
link_attr_cb(const struct nlattr *a, void *probe_)
{
    if (mnl_attr_get_type(a) == IFLA_LINKINFO
        && !mnl_attr_validate(a, MNL_TYPE_NESTED)) {
        struct md_probe *probe = probe_;
        const struct nlattr *n;

        mnl_attr_parse_nested(a, linkinfo_cb, probe);
        if (!probe->kind) {
            return MNL_CB_OK;
        }
        mnl_attr_for_each_nested(n, a) {
            if (mnl_attr_get_type(n) == IFLA_INFO_DATA
                && !mnl_attr_validate(n, MNL_TYPE_NESTED)) {
                mnl_attr_parse_nested(n, info_data_cb, probe);
            }
        }
    }
    return MNL_CB_OK;
}

static int
link_msg_cb(const struct nlmsghdr *nlh, void *probe)
{
    if (nlh->nlmsg_type == RTM_NEWLINK) {
        mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, probe);
    }
    return MNL_CB_OK;
}

bool
vport_is_kernel_tunnel_md(int ifindex)
{
    uint8_t buf[8192];
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    struct md_probe probe = { NULL, false };
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;
    ssize_t n;

    if (!nl) {
        return false;
    }
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = (uint32_t) time(NULL);
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0
        && mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
        n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n > 0) {
            /* 'probe.kind' points into 'buf': use it before the next
             * receive. */
            mnl_cb_run(buf, (size_t) n, 0, 0, link_msg_cb, &probe);
        }
    }
    mnl_socket_close(nl);
    return probe.kind && probe.md;
}
