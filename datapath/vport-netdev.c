/* netdev vports: an existing host interface (veth end, NIC) attached
 * through an AF_PACKET socket with virtio-net headers, so that super-packets
 * and partial checksums cross it whole in both directions.
 *
 * Receive: frames arrive in a memory-mapped ring (PACKET_RX_RING,
 * TPACKET_V2) of 2 KiB slots, which costs no system call per batch; a
 * frame too long for a slot (super-packet, jumbo frame) is queued whole on
 * the socket as well (PACKET_COPY_THRESH) and read with recvmmsg() when
 * its slot comes up, so order is kept.  Without a ring (the kernel refused
 * the memory) everything is read with recvmmsg().  Cost on the receiving
 * thread, 64-byte frames, 2-vCPU VM (test-vport, HVS_VPORT_BENCH=1): the
 * ring 6-10 Mpps (2 under heavy load), recvmmsg() and a copy 0.8-1.0 Mpps
 * (0.3), recvmmsg() into a 64 KiB packet per frame 0.26 Mpps.
 *
 * recv is called by one thread at a time (the ring has one reader); send
 * by any number at once. */
#include "vport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingress-guard.h"
#include "kflow.h"
#include "packet.h"
#include "tnl-gro.h"

#define VLAN_HLEN 4

/* The largest frame received: a 64 KiB super-packet with its Ethernet
 * header, with slack.  Longer ones arrive truncated and are dropped. */
#define RX_FRAME_MAX (65536 + 1024)

/* Frames up to this size are copied into a right-sized packet, so that the
 * 64 KiB staging buffer stays in the pool; longer ones take the staging
 * buffer with them (no copy) and a new one is allocated. */
#define RX_COPY_MAX 2048

/* The largest super-packet handed to the kernel whole: IP lengths are 16
 * bits, and the kernel allocates the whole frame at once. */
#define TX_GSO_MAX (65535 + ETH_HLEN + 2 * VLAN_HLEN)

/* Socket buffers: room for the whole copies of long frames queued beside
 * the ring (tens of super-packets), and for a burst of sends. */
#define SOCK_BUF_BYTES (4 * 1024 * 1024)

/* The receive ring: RING_FRAMES slots of RING_FRAME_SIZE bytes (the
 * frame, its virtio-net header and the kernel's tpacket2_hdr), in blocks
 * of RING_BLOCK_SIZE.  A slot holds a frame of up to about 1970 bytes. */
#define RING_FRAME_SIZE 2048
#define RING_FRAMES 2048
#define RING_BLOCK_SIZE (64 * 1024)
#define RING_BYTES ((size_t) RING_FRAMES * RING_FRAME_SIZE)

struct netdev {
    uint8_t *ring;              /* mapped receive ring, or NULL */
    uint32_t head;              /* next slot to look at */
    int guard_fd;               /* ingress guard (ingress-guard.h), or -1 */
};

/* Receive staging area of one thread, shared by the netdev vports that
 * thread polls: VPORT_BATCH buffers large enough for a super-packet, with
 * their recvmmsg() descriptors. */
struct rx_pool {
    struct dp_packet *stage[VPORT_BATCH];
    struct virtio_net_hdr vnet[VPORT_BATCH];
    struct iovec iov[VPORT_BATCH][2];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } ctrl[VPORT_BATCH];
    struct mmsghdr msgs[VPORT_BATCH];
};

static pthread_once_t rx_pool_once = PTHREAD_ONCE_INIT;
static pthread_key_t rx_pool_key;
static _Thread_local struct rx_pool *rx_pool_mine;

static void
rx_pool_destroy(void *pool_)
{
    struct rx_pool *pool = pool_;

    for (int i = 0; i < VPORT_BATCH; i++) {
        dp_packet_free(pool->stage[i]);
    }
    free(pool);
}

static void
rx_pool_init_key(void)
{
    /* The destructor frees a forwarding thread's pool when it exits. */
    pthread_key_create(&rx_pool_key, rx_pool_destroy);
}

static struct rx_pool *
rx_pool_get(void)
{
    if (!rx_pool_mine) {
        pthread_once(&rx_pool_once, rx_pool_init_key);
        rx_pool_mine = calloc(1, sizeof *rx_pool_mine);
        if (rx_pool_mine) {
            pthread_setspecific(rx_pool_key, rx_pool_mine);
        }
    }
    return rx_pool_mine;
}

/* Readies the first 'n' staging buffers and their descriptors; returns how
 * many are ready (fewer when memory runs out). */
static int
rx_pool_prepare(struct rx_pool *pool, int n)
{
    for (int i = 0; i < n; i++) {
        struct dp_packet *s = pool->stage[i];

        if (!s) {
            /* Room in front to re-insert a VLAN tag in place. */
            s = dp_packet_new(DP_PACKET_HEADROOM + VLAN_HLEN, RX_FRAME_MAX);
            if (!s) {
                return i;
            }
            pool->stage[i] = s;
        }
        pool->iov[i][0].iov_base = &pool->vnet[i];
        pool->iov[i][0].iov_len = sizeof pool->vnet[i];
        pool->iov[i][1].iov_base = dp_packet_data(s);
        pool->iov[i][1].iov_len = RX_FRAME_MAX;
        pool->msgs[i].msg_hdr = (struct msghdr) {
            .msg_iov = pool->iov[i],
            .msg_iovlen = 2,
            .msg_control = pool->ctrl[i].buf,
            .msg_controllen = sizeof pool->ctrl[i].buf,
        };
    }
    return n;
}

/* The VLAN tag the kernel took out of the frame (veth and many NICs strip
 * it on receive), as TPID and TCI in host order; false if none. */
static bool
rx_stripped_vlan(struct msghdr *msg, uint16_t *tpid, uint16_t *tci)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
         c = CMSG_NXTHDR(msg, c)) {
        struct tpacket_auxdata aux;

        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA
            || c->cmsg_len < CMSG_LEN(sizeof aux)) {
            continue;
        }
        memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (!(aux.tp_status & TP_STATUS_VLAN_VALID)) {
            return false;
        }
        *tpid = aux.tp_status & TP_STATUS_VLAN_TPID_VALID
                ? aux.tp_vlan_tpid : ETH_P_8021Q;
        *tci = aux.tp_vlan_tci;
        return true;
    }
    return false;
}

static void
put_vlan(uint8_t *at, uint16_t tpid, uint16_t tci)
{
    at[0] = tpid >> 8;
    at[1] = tpid & 0xff;
    at[2] = tci >> 8;
    at[3] = tci & 0xff;
}

/* A VLAN tag the kernel took out of a received frame. */
struct rx_vlan {
    bool present;
    uint16_t tpid, tci;         /* host order */
};

/* What one receive call saw, added to the port's counters at the end. */
struct rx_counts {
    uint64_t packets, bytes;
    uint64_t bad;               /* malformed: rx_errors */
    uint64_t lost;              /* no memory, or truncated: rx_dropped */
};

static void
rx_account(struct vport *v, const struct rx_counts *c)
{
    struct vport_stats *st = &v->stats;

    if (c->packets) {
        atomic_fetch_add_explicit(&st->rx_packets, c->packets,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&st->rx_bytes, c->bytes,
                                  memory_order_relaxed);
    }
    if (c->bad) {
        atomic_fetch_add_explicit(&st->rx_errors, c->bad,
                                  memory_order_relaxed);
    }
    if (c->lost) {
        atomic_fetch_add_explicit(&st->rx_dropped, c->lost,
                                  memory_order_relaxed);
    }
}

/* Sets 'p''s frame length and offload state for a frame of 'len' bytes
 * received with 'vnet', into which 'tag' bytes of VLAN tag were put back:
 * the kernel's offsets count from the frame without the tag. */
static void
rx_finish(struct dp_packet *p, size_t len, const struct virtio_net_hdr *vnet,
          size_t tag)
{
    p->len = len + tag;
    p->vnet = *vnet;
    if (tag) {
        if (p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            p->vnet.csum_start += tag;
        }
        if (p->vnet.hdr_len) {
            p->vnet.hdr_len += tag;
        }
    }
}

/* A right-sized packet holding a copy of the 'len'-byte frame at 'src',
 * with 'vlan' put back in, or NULL if out of memory. */
static struct dp_packet *
rx_copy(const uint8_t *src, size_t len, const struct virtio_net_hdr *vnet,
        const struct rx_vlan *vlan)
{
    size_t tag = vlan->present ? VLAN_HLEN : 0;
    struct dp_packet *p = dp_packet_new(DP_PACKET_HEADROOM, len + tag);

    if (p) {
        uint8_t *dst = dp_packet_data(p);

        if (tag) {
            memcpy(dst, src, 2 * ETH_ALEN);
            put_vlan(dst + 2 * ETH_ALEN, vlan->tpid, vlan->tci);
            memcpy(dst + 2 * ETH_ALEN + tag, src + 2 * ETH_ALEN,
                   len - 2 * ETH_ALEN);
        } else {
            memcpy(dst, src, len);
        }
        rx_finish(p, len, vnet, tag);
    }
    return p;
}

/* Turns received message 'i' of 'pool' into a packet for the datapath;
 * returns false (and counts why) if it is dropped. */
static bool
rx_take(struct rx_pool *pool, int i, struct dp_packet **out,
        struct rx_counts *c)
{
    struct mmsghdr *m = &pool->msgs[i];
    const struct virtio_net_hdr *vnet = &pool->vnet[i];
    struct dp_packet *p = pool->stage[i];
    struct rx_vlan vlan = { .present = false };
    size_t len, tag;

    if (m->msg_hdr.msg_flags & MSG_TRUNC || m->msg_len < sizeof *vnet) {
        c->bad++;
        return false;
    }
    len = m->msg_len - sizeof *vnet;
    vlan.present = rx_stripped_vlan(&m->msg_hdr, &vlan.tpid, &vlan.tci);
    tag = vlan.present ? VLAN_HLEN : 0;
    if (!vport_vnet_hdr_valid(vnet, len) || (tag && len < 2 * ETH_ALEN)) {
        c->bad++;
        return false;
    }
    if (len + tag <= RX_COPY_MAX) {
        p = rx_copy(dp_packet_data(p), len, vnet, &vlan);
        if (!p) {
            c->lost++;
            return false;
        }
    } else {
        pool->stage[i] = NULL;
        if (tag) {
            /* Move the MAC addresses into the headroom kept for this. */
            p->data_ofs -= tag;
            uint8_t *dst = dp_packet_data(p);
            memmove(dst, dst + tag, 2 * ETH_ALEN);
            put_vlan(dst + 2 * ETH_ALEN, vlan.tpid, vlan.tci);
        }
        rx_finish(p, len, vnet, tag);
    }
    c->packets++;
    c->bytes += p->len;
    *out = p;
    return true;
}

static int
netdev_recvmmsg(int fd, struct mmsghdr *msgs, int n)
{
    bool retried = false;

    for (;;) {
        int got = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);

        if (got >= 0) {
            return got;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == ENETDOWN && !retried) {
            /* The kernel reports the interface going down (or being down
             * when we bound) once, as a socket error; packets queued
             * before that may still be there. */
            retried = true;
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK
                   || errno == ENETDOWN) {
            return 0;
        }
        return -errno;
    }
}

/* Receives up to 'n' packets from the socket's queue. */
static int
netdev_recv_queue(struct vport *v, struct dp_packet **pkts, int n,
                  struct rx_counts *c)
{
    struct rx_pool *pool = rx_pool_get();
    int got, out = 0;

    if (!pool) {
        return -ENOMEM;
    }
    n = rx_pool_prepare(pool, n < VPORT_BATCH ? n : VPORT_BATCH);
    if (!n) {
        return -ENOMEM;
    }
    got = netdev_recvmmsg(v->fd, pool->msgs, n);
    for (int i = 0; i < got; i++) {
        out += rx_take(pool, i, &pkts[out], c);
    }
    return got < 0 ? got : out;
}

/* Turns ring frame 'h' into a packet; returns false (and counts why) if
 * it is dropped. */
static bool
rx_ring_frame(const struct tpacket2_hdr *h, uint32_t status,
              struct dp_packet **out, struct rx_counts *c)
{
    const uint8_t *frame = (const uint8_t *) h + h->tp_mac;
    struct rx_vlan vlan = { .present = false };
    struct virtio_net_hdr vnet;
    size_t len = h->tp_snaplen;

    if (h->tp_len != len) {
        /* Too long for a ring frame, and the kernel could not queue the
         * whole packet beside it (receive buffer full). */
        c->lost++;
        return false;
    }
    if (h->tp_mac < sizeof vnet + sizeof *h
        || h->tp_mac + len > RING_FRAME_SIZE) {
        c->bad++;
        return false;
    }
    memcpy(&vnet, frame - sizeof vnet, sizeof vnet);
    if (status & TP_STATUS_VLAN_VALID) {
        vlan.present = true;
        vlan.tpid = status & TP_STATUS_VLAN_TPID_VALID ? h->tp_vlan_tpid
                                                       : ETH_P_8021Q;
        vlan.tci = h->tp_vlan_tci;
    }
    if (!vport_vnet_hdr_valid(&vnet, len)
        || (vlan.present && len < 2 * ETH_ALEN)) {
        c->bad++;
        return false;
    }
    *out = rx_copy(frame, len, &vnet, &vlan);
    if (!*out) {
        c->lost++;
        return false;
    }
    c->packets++;
    c->bytes += (*out)->len;
    return true;
}

/* Counts the frames the kernel dropped because the ring was full. */
static void
netdev_ring_drops(struct vport *v, struct rx_counts *c)
{
    struct tpacket_stats st;
    socklen_t len = sizeof st;

    /* Reading the statistics resets them. */
    if (!getsockopt(v->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        c->lost += st.tp_drops;
    }
}

/* Receives up to 'n' packets from the receive ring, in arrival order. */
static int
netdev_recv_ring(struct vport *v, struct dp_packet **pkts, int n,
                 struct rx_counts *c)
{
    struct netdev *nd = v->priv;
    bool losing = false;
    int out = 0;

    while (out < n) {
        struct tpacket2_hdr *h = (struct tpacket2_hdr *)
            (nd->ring + (size_t) nd->head * RING_FRAME_SIZE);
        uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

        if (!(status & TP_STATUS_USER)) {
            break;
        }
        /* The kernel flags the frames that follow a drop. */
        losing |= (status & TP_STATUS_LOSING) != 0;
        if (status & TP_STATUS_COPY) {
            /* Too long for a ring frame: the kernel queued the whole
             * packet on the socket, in the same order as the ring. */
            int r = netdev_recv_queue(v, &pkts[out], 1, c);

            if (r == -ENOMEM) {
                /* Keep the slot: its packet is still queued. */
                break;
            } else if (r < 0) {
                c->bad++;
            } else {
                out += r;       /* a dropped one was counted */
            }
        } else {
            out += rx_ring_frame(h, status, &pkts[out], c);
        }
        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        nd->head = (nd->head + 1) % RING_FRAMES;
    }
    if (!out) {
        /* Woken with nothing to read: perhaps a socket error (the
         * interface went down), which keeps the socket readable in poll()
         * until it is read; perhaps drops while the ring was full. */
        int err;
        socklen_t len = sizeof err;

        getsockopt(v->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        losing = true;
    }
    if (losing) {
        netdev_ring_drops(v, c);
    }
    return out;
}

static int
netdev_recv(struct vport *v, struct dp_packet **pkts, int n)
{
    struct netdev *nd = v->priv;
    struct rx_counts c = { 0, 0, 0, 0 };
    int r;

    r = nd->ring ? netdev_recv_ring(v, pkts, n, &c)
                 : netdev_recv_queue(v, pkts, n, &c);
    rx_account(v, &c);
    return r;
}

/* Packets ready to go, sent with one sendmmsg() call.  Lives on the
 * sender's stack: several threads may send on one vport at once. */
struct tx_batch {
    struct vport *v;
    int n;
    struct dp_packet *pkts[VPORT_BATCH];
    struct iovec iov[VPORT_BATCH][2];
    struct mmsghdr msgs[VPORT_BATCH];
};

static void
tx_flush(struct tx_batch *b)
{
    uint64_t sent_pkts = 0, sent_bytes = 0, errors = 0, dropped = 0;
    int i = 0;

    for (int k = 0; k < b->n; k++) {
        struct dp_packet *p = b->pkts[k];

        b->iov[k][0].iov_base = &p->vnet;
        b->iov[k][0].iov_len = sizeof p->vnet;
        b->iov[k][1].iov_base = dp_packet_data(p);
        b->iov[k][1].iov_len = p->len;
        b->msgs[k].msg_hdr = (struct msghdr) {
            .msg_iov = b->iov[k],
            .msg_iovlen = 2,
        };
    }
    while (i < b->n) {
        int sent = sendmmsg(b->v->fd, b->msgs + i, b->n - i, MSG_DONTWAIT);

        if (sent > 0) {
            for (int k = i; k < i + sent; k++) {
                sent_bytes += b->pkts[k]->len;
            }
            sent_pkts += sent;
            i += sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else if (sent == 0 || errno == EAGAIN || errno == EWOULDBLOCK
                   || errno == ENOBUFS || errno == ENETDOWN
                   || errno == ENXIO) {
            /* Queue full or interface gone or down: the rest would
             * fail the same way. */
            dropped += b->n - i;
            break;
        } else {
            /* Something wrong with this one frame (too long, too short,
             * inconsistent virtio-net header): skip it. */
            errors++;
            i++;
        }
    }
    struct vport_stats *st = &b->v->stats;
    atomic_fetch_add_explicit(&st->tx_packets, sent_pkts,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&st->tx_bytes, sent_bytes,
                              memory_order_relaxed);
    if (errors) {
        atomic_fetch_add_explicit(&st->tx_errors, errors,
                                  memory_order_relaxed);
    }
    if (dropped) {
        atomic_fetch_add_explicit(&st->tx_dropped, dropped,
                                  memory_order_relaxed);
    }
    for (int k = 0; k < b->n; k++) {
        dp_packet_free(b->pkts[k]);
    }
    b->n = 0;
}

static void
tx_emit(void *b_, struct dp_packet *p)
{
    struct tx_batch *b = b_;

    if (b->n == VPORT_BATCH) {
        tx_flush(b);
    }
    b->pkts[b->n++] = p;
}

static void
netdev_send(struct vport *v, struct dp_packet **pkts, int n)
{
    struct tx_batch b;

    b.v = v;
    b.n = 0;
    /* Decapsulated TCP segments of one flow leave as one super-packet
     * (tnl-gro.h): the kernel takes it whole, and the receiving stack
     * pays per packet, not per byte. */
    if (v->tx_tso && n > 1) {
        n = tnl_gro_batch(pkts, n, TX_GSO_MAX);
    }
    for (int i = 0; i < n; i++) {
        vport_tx_prepare(v, pkts[i], TX_GSO_MAX, tx_emit, &b);
    }
    if (b.n) {
        tx_flush(&b);
    }
}

/* Checks that the interface exists and can be a port; fills ifindex and
 * mtu. */
static int
netdev_query(struct vport *v, int fd, const char **reason)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, v->name, sizeof ifr.ifr_name);
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';
    if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
        *reason = "no such host interface";
        return errno == ENODEV ? -ENODEV : -errno;
    }
    v->ifindex = ifr.ifr_ifindex;
    if (vport_is_kernel_tunnel_md(v->ifindex)) {
        /* Open vSwitch made it (vxlan_sys_4789 ...) and falls back to a
         * tunnel vport when the datapath refuses it. */
        *reason = "a kernel tunnel device in metadata mode cannot be a "
                  "netdev port; use a tunnel vport";
        return -EOPNOTSUPP;
    }
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        *reason = "cannot read the interface flags";
        return -errno;
    }
    if (ifr.ifr_flags & IFF_LOOPBACK) {
        *reason = "a loopback interface cannot be a netdev port";
        return -EINVAL;
    }
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
        *reason = "cannot read the interface address";
        return -errno;
    }
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
        *reason = "not an Ethernet interface";
        return -EINVAL;
    }
    if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
        *reason = "cannot read the interface MTU";
        return -errno;
    }
    v->mtu = ifr.ifr_mtu;
    return 0;
}

static int
set_int_opt(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno
                                                                  : 0;
}

/* Maps a receive ring on 'fd' (before it is bound: nothing may reach the
 * plain queue that the ring would not point to).  On failure the socket is
 * left without a ring and receives through recvmmsg(). */
static void
netdev_ring_setup(int fd, struct netdev *nd)
{
    struct tpacket_req req = {
        .tp_block_size = RING_BLOCK_SIZE,
        .tp_block_nr = RING_BYTES / RING_BLOCK_SIZE,
        .tp_frame_size = RING_FRAME_SIZE,
        .tp_frame_nr = RING_FRAMES,
    };
    void *ring;

    if (set_int_opt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        || set_int_opt(fd, SOL_PACKET, PACKET_COPY_THRESH, 1)
        || setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        return;
    }
    ring = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) {
        memset(&req, 0, sizeof req);
        setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req);
        return;
    }
    nd->ring = ring;
    nd->head = 0;
}

static int
netdev_setup(struct vport *v, int fd, const char **reason)
{
    struct sockaddr_ll sll;
    struct packet_mreq mreq;
    int err;

    err = set_int_opt(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
    if (!err) {
        err = set_int_opt(fd, SOL_PACKET, PACKET_AUXDATA, 1);
    }
    if (!err) {
        err = set_int_opt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    }
    if (err) {
        *reason = "packet socket options not supported by the kernel";
        return err;
    }
    /* The forced sizes need CAP_NET_ADMIN; the plain ones are capped by
     * net.core.[rw]mem_max. */
    if (set_int_opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, SOCK_BUF_BYTES)) {
        set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, SOCK_BUF_BYTES);
    }
    if (set_int_opt(fd, SOL_SOCKET, SO_SNDBUFFORCE, SOCK_BUF_BYTES)) {
        set_int_opt(fd, SOL_SOCKET, SO_SNDBUF, SOCK_BUF_BYTES);
    }
    netdev_ring_setup(fd, v->priv);

    /* The socket was created for no protocol, so nothing from other
     * interfaces was queued before it is bound to ours. */
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = v->ifindex;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
        *reason = "cannot bind a packet socket to the interface";
        return -errno;
    }

    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = v->ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
                   sizeof mreq) < 0) {
        *reason = "cannot put the interface in promiscuous mode";
        return -errno;
    }
    return 0;
}

static void
netdev_close(struct vport *v)
{
    struct netdev *nd = v->priv;

    /* Closing the socket also leaves promiscuous mode; closing the
     * guard gives the interface back to the host stack. */
    if (nd && nd->ring) {
        munmap(nd->ring, RING_BYTES);
    }
    if (nd && nd->guard_fd >= 0) {
        close(nd->guard_fd);
    }
    if (v->kflow) {
        /* Entries may send to this port or come from it. */
        v->kflow = false;
        kflow_flush();
    }
    if (v->fd >= 0) {
        close(v->fd);
        v->fd = -1;
    }
    free(nd);
    v->priv = NULL;
}

static int
netdev_open(struct vport *v, const char **reason)
{
    int fd, err;

    v->fd = -1;
    struct netdev *nd = calloc(1, sizeof *nd);
    if (!nd) {
        *reason = "out of memory";
        return -ENOMEM;
    }
    nd->guard_fd = -1;
    v->priv = nd;
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = -errno;
        *reason = "cannot create a packet socket";
    } else {
        v->fd = fd;
        err = netdev_query(v, fd, reason);
        if (!err) {
            err = netdev_setup(v, fd, reason);
        }
    }
    if (err) {
        netdev_close(v);
        v->ifindex = 0;
        return err;
    }
    /* The port belongs to the datapath now, as with the kernel module:
     * the host stack no longer sees what arrives on it.  With the kernel
     * flow cache, its program is the guard (and forwards what it knows). */
    nd->guard_fd = kflow_port_attach(v, fd);
    v->kflow = nd->guard_fd >= 0;
    if (!v->kflow) {
        nd->guard_fd = ingress_guard_attach(v->ifindex, v->name);
    }
    v->tx_csum_offload = true;
    v->tx_tso = true;
    return 0;
}

const struct vport_ops vport_netdev_ops = {
    .type = OVS_VPORT_TYPE_NETDEV,
    .type_name = "netdev",
    .open = netdev_open,
    .close = netdev_close,
    .recv = netdev_recv,
    .send = netdev_send,
};
