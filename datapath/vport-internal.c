/* internal vports: a TAP device on the host stack, named after the vport
 * (the host's IP address for the bridge or the tunnel endpoint lives on
 * it).  What the host stack transmits on the TAP is what the datapath
 * receives from the port, and what the datapath sends to the port the host
 * stack receives.  Virtio-net headers carry super-packets and partial
 * checksums both ways. */
#include "vport.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "packet.h"

/* UDP segmentation offload; older uapi headers lack it. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* The largest frame received: a 64 KiB super-packet, its Ethernet header
 * and a VLAN tag, with slack. */
#define RX_FRAME_MAX (65536 + 1024)

/* Frames up to this size are copied into a right-sized packet and the
 * staging buffer is kept; longer ones take it with them. */
#define RX_COPY_MAX 2048

/* What the TAP takes whole: see the netdev vport. */
#define TX_GSO_MAX (65535 + 14 + 8)

struct internal {
    /* Receive staging buffer, for the one thread that polls the port. */
    struct dp_packet *stage;
};

/* Reads one frame into a new packet.  Returns 1 with '*out' set, 0 when
 * nothing is waiting, -EBADMSG for a frame to drop as malformed, -ENOMEM,
 * or another negative errno. */
static int
internal_read(struct vport *v, struct dp_packet **out)
{
    struct internal *in = v->priv;
    struct virtio_net_hdr vnet;
    struct iovec iov[2];
    struct dp_packet *p;
    ssize_t r;
    size_t len;

    if (!in->stage) {
        in->stage = dp_packet_new(DP_PACKET_HEADROOM, RX_FRAME_MAX);
        if (!in->stage) {
            return -ENOMEM;
        }
    }
    iov[0].iov_base = &vnet;
    iov[0].iov_len = sizeof vnet;
    iov[1].iov_base = dp_packet_data(in->stage);
    iov[1].iov_len = RX_FRAME_MAX;
    do {
        r = readv(v->fd, iov, 2);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        /* EFAULT: the frame did not fit and the kernel dropped it. */
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0
               : errno == EFAULT ? -EBADMSG : -errno;
    }
    if ((size_t) r < sizeof vnet) {
        return r ? -EBADMSG : 0;
    }
    len = r - sizeof vnet;
    if (!vport_vnet_hdr_valid(&vnet, len)) {
        return -EBADMSG;
    }
    if (len <= RX_COPY_MAX) {
        p = dp_packet_copy_from(dp_packet_data(in->stage), len,
                                DP_PACKET_HEADROOM);
        if (!p) {
            return -ENOMEM;
        }
    } else {
        p = in->stage;
        in->stage = NULL;
        p->len = len;
    }
    p->vnet = vnet;
    *out = p;
    return 1;
}

static int
internal_recv(struct vport *v, struct dp_packet **pkts, int n)
{
    uint64_t bytes = 0, bad = 0, nomem = 0;
    int out = 0, err = 0;

    while (out < n) {
        int r = internal_read(v, &pkts[out]);

        if (r > 0) {
            bytes += pkts[out++]->len;
        } else if (r == -EBADMSG) {
            bad++;
        } else if (r == -ENOMEM) {
            /* The frame (if any) is lost; try again next time. */
            nomem++;
            break;
        } else {
            err = r;
            break;
        }
    }
    struct vport_stats *st = &v->stats;
    atomic_fetch_add_explicit(&st->rx_packets, out, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->rx_bytes, bytes, memory_order_relaxed);
    if (bad) {
        atomic_fetch_add_explicit(&st->rx_errors, bad, memory_order_relaxed);
    }
    if (nomem) {
        atomic_fetch_add_explicit(&st->rx_dropped, nomem,
                                  memory_order_relaxed);
    }
    return out ? out : err;
}

static void
internal_write(void *v_, struct dp_packet *p)
{
    struct vport *v = v_;
    struct vport_stats *st = &v->stats;
    struct iovec iov[2] = {
        { .iov_base = &p->vnet, .iov_len = sizeof p->vnet },
        { .iov_base = dp_packet_data(p), .iov_len = p->len },
    };
    ssize_t r;

    do {
        r = writev(v->fd, iov, 2);
    } while (r < 0 && errno == EINTR);
    if (r >= 0) {
        atomic_fetch_add_explicit(&st->tx_packets, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st->tx_bytes, p->len,
                                  memory_order_relaxed);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS
               || errno == ENOMEM || errno == EIO) {
        /* Full, or the device is down (EIO): the host stack would have
         * dropped it. */
        atomic_fetch_add_explicit(&st->tx_dropped, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&st->tx_errors, 1, memory_order_relaxed);
    }
    dp_packet_free(p);
}

static void
internal_send(struct vport *v, struct dp_packet **pkts, int n)
{
    for (int i = 0; i < n; i++) {
        vport_tx_prepare(v, pkts[i], TX_GSO_MAX, internal_write, v);
    }
}

static int
internal_create(struct vport *v, int fd, const char **reason)
{
    struct ifreq ifr;
    unsigned int offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6
                            | TUN_F_TSO_ECN;
    int hdr_size = sizeof(struct virtio_net_hdr);

    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, v->name, sizeof ifr.ifr_name);
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';
    /* IFF_TUN_EXCL: never attach to a TAP someone else made persistent. */
    ifr.ifr_flags = (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR
                             | IFF_TUN_EXCL);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;

        if (err == EBUSY || err == EEXIST) {
            *reason = "a host interface with that name already exists";
            return -EEXIST;
        }
        *reason = err == EINVAL ? "invalid interface name"
                                : "cannot create the TAP device";
        return -err;
    }
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0) {
        *reason = "cannot set the TAP's virtio-net header size";
        return -errno;
    }
    /* What the host stack may hand us: UDP segmentation is newer (Linux
     * 6.2), so ask for it and do without if refused. */
    if (ioctl(fd, TUNSETOFFLOAD,
              (unsigned long) (offloads | TUN_F_USO4 | TUN_F_USO6)) < 0
        && ioctl(fd, TUNSETOFFLOAD, (unsigned long) offloads) < 0) {
        *reason = "cannot set the TAP's offloads";
        return -errno;
    }
    return 0;
}

static int
internal_query(struct vport *v, const char **reason)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int err = 0;

    if (s < 0) {
        *reason = "cannot create a socket";
        return -errno;
    }
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, v->name, sizeof ifr.ifr_name);
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';
    if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
        err = -errno;
    } else {
        v->ifindex = ifr.ifr_ifindex;
        if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
            err = -errno;
        } else {
            v->mtu = ifr.ifr_mtu;
        }
    }
    if (err) {
        *reason = "cannot read the TAP's index and MTU";
    }
    close(s);
    return err;
}

static int
internal_open(struct vport *v, const char **reason)
{
    struct internal *in;
    int fd, err;

    v->fd = -1;
    /* The kernel would fill a '%d' in with a number: the port would not
     * have the name it was asked for. */
    if (!v->name[0] || memchr(v->name, '%', sizeof v->name)) {
        *reason = "invalid interface name";
        return -EINVAL;
    }
    in = calloc(1, sizeof *in);
    if (!in) {
        *reason = "out of memory";
        return -ENOMEM;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err = -errno;
        *reason = "cannot open /dev/net/tun";
        free(in);
        return err;
    }
    err = internal_create(v, fd, reason);
    if (!err) {
        err = internal_query(v, reason);
    }
    if (err) {
        /* The device is not persistent: closing removes it. */
        close(fd);
        free(in);
        v->ifindex = 0;
        return err;
    }
    /* The kernel chose a random locally administered MAC and left the
     * device down, as the kernel datapath does for internal ports. */
    v->fd = fd;
    v->priv = in;
    v->tx_csum_offload = true;
    v->tx_tso = true;
    return 0;
}

static void
internal_close(struct vport *v)
{
    struct internal *in = v->priv;

    /* The last close of a non-persistent TAP deletes the device. */
    if (v->fd >= 0) {
        close(v->fd);
        v->fd = -1;
    }
    if (in) {
        dp_packet_free(in->stage);
        free(in);
        v->priv = NULL;
    }
}

const struct vport_ops vport_internal_ops = {
    .type = OVS_VPORT_TYPE_INTERNAL,
    .type_name = "internal",
    .open = internal_open,
    .close = internal_close,
    .recv = internal_recv,
    .send = internal_send,
};
