/* Vports: the datapath's ports, one ops table per type (netdev, internal,
 * and later the tunnel types).
 *
 * Threads: the control thread creates and destroys vports; forwarding
 * threads call ops->recv on the vports they poll and ops->send on any
 * vport (several threads may send on one vport at once).  A vport is freed
 * after an RCU grace period once it is unpublished from its datapath.
 */
#ifndef HVS_VPORT_H
#define HVS_VPORT_H 1

#include <linux/openvswitch.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct datapath;
struct dp_packet;
struct nlattr;
struct nlmsghdr;

/* Per-port counters, as struct ovs_vport_stats. */
struct vport_stats {
    _Atomic uint64_t rx_packets, tx_packets;
    _Atomic uint64_t rx_bytes, tx_bytes;
    _Atomic uint64_t rx_errors, tx_errors;
    _Atomic uint64_t rx_dropped, tx_dropped;
};

/* Upcall port ids registered for a vport (OVS_VPORT_ATTR_UPCALL_PID);
 * replaced as a whole under RCU. */
struct vport_upcall_pids {
    uint32_t n;
    uint32_t pids[];
};

struct vport {
    uint32_t port_no;
    char name[IFNAMSIZ];
    enum ovs_vport_type type;
    const struct vport_ops *ops;
    struct datapath *dp;
    int ifindex;                /* host interface index, 0 if none */
    int fd;                     /* what forwarding threads poll, or -1 */
    int fwd_thread;             /* index of the thread that polls fd */
    uint32_t fwd_slot;          /* its handle in the forwarding threads */
    /* Egress offload capabilities: can the port take a partial checksum
     * and TCP/UDP super-packets as they are (in virtio-net form)? */
    bool tx_csum_offload;
    bool tx_tso;
    uint32_t mtu;               /* largest frame payload w/o GSO */
    bool kflow;                 /* the kernel flow cache is attached */
    struct vport_upcall_pids *_Atomic upcall_pids;
    struct vport_stats stats;
    void *priv;                 /* type-specific state */
    /* OVS_VPORT_ATTR_OPTIONS of the request that creates the port, for
     * open() only (NULL if none); cleared once open() returns. */
    const struct nlattr *options;
};

/* Batch size of receive and send calls. */
#define VPORT_BATCH 32

struct vport_ops {
    enum ovs_vport_type type;
    const char *type_name;      /* "netdev", "internal" */
    /* Opens the port 'v' (name, type, dp set by the caller): netdev
     * attaches the existing host interface of that name, internal creates a
     * TAP device of that name on the host stack.  Sets fd, ifindex, mtu,
     * offload capabilities.  Returns 0, or a negative errno with '*reason'
     * naming the cause ("no such host interface", ...). */
    int (*open)(struct vport *v, const char **reason);
    /* Releases everything open() acquired (fd, TAP device). */
    void (*close)(struct vport *v);
    /* Receives up to 'n' packets (allocated here, with DP_PACKET_HEADROOM
     * headroom and their virtio-net offload state) into 'pkts'.  Returns
     * the number received (0 when none are waiting) or a negative errno.
     * Counts rx stats. */
    int (*recv)(struct vport *v, struct dp_packet **pkts, int n);
    /* Sends 'n' packets and frees them.  Packets whose offload state the
     * port cannot take are completed first (offload_complete_csum /
     * offload_segment); p->cutlen is honoured.  Never blocks for long:
     * when the device queue is full, drops and counts tx_dropped. */
    void (*send)(struct vport *v, struct dp_packet **pkts, int n);
    /* Optional: appends the port's OVS_VPORT_ATTR_OPTIONS to a reply
     * (tunnel ports: their UDP port and extensions, as the kernel does).
     * Returns false if 'buflen' bytes of 'nlh' have no room for it. */
    bool (*put_options)(const struct vport *v, struct nlmsghdr *nlh,
                        size_t buflen);
};

extern const struct vport_ops vport_netdev_ops;
extern const struct vport_ops vport_internal_ops;
/* Tunnel vports (vport-tunnel.c). */
extern const struct vport_ops vport_vxlan_ops;
extern const struct vport_ops vport_geneve_ops;
extern const struct vport_ops vport_gre_ops;

/* The ops for 'type', or NULL if hvs does not support it. */
const struct vport_ops *vport_ops_find(enum ovs_vport_type type);

/* Fills 'out' with a snapshot of 'v''s counters. */
void vport_get_stats(const struct vport *v, struct ovs_vport_stats *out);

/* Helpers for the vport types (vport-*.c), not for the datapath. */

/* Whether host interface 'ifindex' is a kernel tunnel device in
 * collect-metadata mode (what Open vSwitch creates for its tunnel ports
 * through rtnetlink, e.g. vxlan_sys_4789).  Such a device is useless as a
 * netdev port, since the tunnel metadata does not cross a packet socket;
 * refusing it makes Open vSwitch fall back to a tunnel vport. */
bool vport_is_kernel_tunnel_md(int ifindex);

/* The receive path of a tunnel vport of 'type' without its socket, for
 * tests and the fuzz target: decapsulates the datagram 'dgram' (for GRE
 * the IPv4 packet) into a new packet with its tunnel metadata and offload
 * state, as if it came in on an interface whose inner IP datagrams may be
 * 'l3_mtu' bytes long.  Returns NULL if the datagram is malformed. */
struct dp_packet *vport_tunnel_decap(enum ovs_vport_type type, bool gbp,
                                     const uint8_t *dgram, size_t len,
                                     size_t l3_mtu);

struct virtio_net_hdr;

/* Whether a received virtio-net header 'h' is consistent with the 'len'
 * bytes of frame it came with (known flags and GSO type, checksum position
 * inside the frame). */
bool vport_vnet_hdr_valid(const struct virtio_net_hdr *h, size_t len);

/* Brings 'p' into a form 'v' can send as it is: applies p->cutlen,
 * completes a partial checksum if !v->tx_csum_offload, segments a
 * super-packet if !v->tx_tso or its frame is longer than 'gso_max_len'.
 * Passes each resulting packet to 'emit', which takes it over; 'p' is
 * consumed.  A packet that cannot be completed is freed and counted in
 * tx_errors. */
typedef void vport_emit_fn(void *aux, struct dp_packet *p);
void vport_tx_prepare(struct vport *v, struct dp_packet *p,
                      size_t gso_max_len, vport_emit_fn *emit, void *aux);

#endif /* HVS_VPORT_H */
