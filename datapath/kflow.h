/* The kernel flow cache: an exact-match cache of what the datapath did
 * with a packet, executed by BPF programs in the kernel (kflow.bpf.c) at
 * the ingress of netdev ports, so that the packets after the first of a
 * connection are forwarded without being copied up to hvs-dpd.
 *
 * This is the datapath's answer to the seed's forwarding extension living
 * in the kernel: megaflows stay hvs-dpd's (the flow table, the genetlink
 * protocol, upcalls, statistics are unchanged), and for the common cases
 * the kernel repeats hvs-dpd's decision per exact packet header:
 *   - output to one netdev port (plain switching, NORMAL unicast);
 *   - VXLAN encapsulation over IPv4 then output to one netdev port (the
 *     seed's VM-to-tunnel path through br-int and br-phy);
 *   - VXLAN decapsulation of such a packet for a local VTEP then output
 *     to one netdev port (the tunnel-to-VM path).
 * Anything else (floods, userspace actions, meters, recirculation,
 * VLAN tags, ARP and IPv6 inside tunnels, held neighbours, fragments)
 * keeps going through hvs-dpd as before.
 *
 * How an entry is made: a forwarding thread records what happens to a
 * packet received on a netdev port (kflow_rec_*, called from fwd.c) and,
 * if the whole trip is one of the cases above, installs the entry keyed by
 * the packet's headers (kflow-parse.h).  Entries remember the megaflows
 * they came from: deleting or changing one of those flows, deleting a
 * port, or a change in the host's routes and neighbours removes the
 * entries it made, before the change is acknowledged.  The kernel counts
 * packets and bytes per entry; kflow_sync() adds them to the megaflows
 * and ports, so flow dumps, revalidation and port counters see the
 * kernel's traffic too.
 *
 * Off unless hvs-dpd runs with --kernel-cache; needs BPF and tcx (Linux
 * 6.6), and falls back to the ingress guard with a warning otherwise. */
#ifndef HVS_KFLOW_H
#define HVS_KFLOW_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The parser (kflow-parse.h) over a frame in memory. */
#define KFLOW_INLINE static inline __attribute__((always_inline))
#define KFLOW_CTX const struct kflow_buf *
struct kflow_buf {
    const uint8_t *data;
    uint32_t len;
};

static inline bool
kflow_load(const struct kflow_buf *b, unsigned int off, void *dst,
           unsigned int len)
{
    if (off > b->len || len > b->len - off) {
        return false;
    }
    memcpy(dst, b->data + off, len);
    return true;
}

/* The UDP ports (network order) of the tunnel vports, as the kernel's
 * kflow_ports map has them; 0 is a free slot. */
#define KFLOW_TNL_PORTS 16
extern _Atomic uint16_t kflow_tnl_ports[KFLOW_TNL_PORTS];

static inline bool
kflow_is_tnl_port(const struct kflow_buf *b, unsigned short port)
{
    (void) b;
    for (int i = 0; i < KFLOW_TNL_PORTS; i++) {
        if (port && atomic_load_explicit(&kflow_tnl_ports[i],
                                         memory_order_relaxed) == port) {
            return true;
        }
    }
    return false;
}

#include "kflow-parse.h"

struct datapath;
struct dp_actions;
struct dp_flow;
struct dp_packet;
struct vport;

/* Loads the programs (control thread, at start).  Returns 0, or a
 * negative errno after a warning; the cache stays off then. */
int kflow_init(void);
void kflow_exit(void);
bool kflow_enabled(void);

/* Netdev port 'v' with packet socket 'sock': attaches the socket filter
 * and the tcx program.  Returns the link's descriptor (closing it
 * detaches), or a negative errno (the caller falls back to the ingress
 * guard). */
int kflow_port_attach(struct vport *v, int sock);
/* Forgets every entry (a port went away). */
void kflow_flush(void);
/* A flow was removed, or its actions replaced: its entries go. */
void kflow_flow_gone(struct dp_flow *f, const char *why);
/* The host's routes, addresses or neighbours changed: the tunnel
 * entries go.  Any thread. */
void kflow_tnl_changed(void);
/* A tunnel vport listens on UDP port 'port' (host order) / stopped. */
void kflow_tnl_port_add(uint16_t port);
void kflow_tnl_port_del(uint16_t port);

/* Adds what the kernel forwarded since the last call to the megaflows,
 * ports and datapath counters; drops entries idle for long.  Control
 * thread; cheap when the cache is empty or was synced a moment ago
 * (unless 'force'). */
void kflow_sync(bool force);

/* Counters for operators. */
struct kflow_stats {
    uint64_t entries;           /* installed now */
    uint64_t installed;         /* ever */
    uint64_t packets, bytes;    /* forwarded by the kernel */
    uint64_t errors;            /* kernel-side failures (dropped) */
    uint64_t full;              /* not installed: table full */
};
void kflow_get_stats(struct kflow_stats *);

/* ---- the recorder (forwarding threads, fwd.c) ------------------------ */

#define KFLOW_REC_FLOWS 3

struct kflow_rec {
    bool on;                    /* this packet may still make an entry */
    uint8_t stage;              /* KFLOW_S_* while in a tunnel hook */
    uint8_t action;             /* KFLOW_A_*, 0: plain so far */
    uint8_t n_flows;
    uint8_t n_out;
    int32_t adj;                /* bytes the tunnel hooks added so far */
    uint32_t orig_len;
    uint32_t gen;               /* kflow's tunnel generation at start */
    struct datapath *dp;
    uint32_t in_port, out_port, tnl_port;
    int out_ifindex;
    int route_ifindex;          /* see kflow.c's struct kent */
    uint32_t mtu;
    struct dp_flow *flows[KFLOW_REC_FLOWS];
    const struct dp_actions *acts[KFLOW_REC_FLOWS];
    int32_t flow_adj[KFLOW_REC_FLOWS];
    uint16_t flow_tcp_flags[KFLOW_REC_FLOWS];   /* host order */
    uint8_t hdr[KFLOW_HDR_MAX];
    struct kflow_key key;
};

#define KFLOW_S_PUSH 1
#define KFLOW_S_POP 2

/* Starts recording packet 'p' received on 'v' (if 'v' is a netdev port
 * with the cache attached and the packet's shape is one it takes). */
void kflow_rec_start(struct kflow_rec *, struct vport *v,
                     const struct dp_packet *p);
/* The packet hit megaflow 'f' with actions 'acts'; 'tcp_flags' (host
 * order) as the lookup key had them. */
void kflow_rec_flow(struct kflow_rec *, struct dp_flow *f,
                    const struct dp_actions *acts, uint16_t tcp_flags);
/* The packet is about to leave on netdev port 'v'. */
void kflow_rec_output(struct kflow_rec *, const struct vport *v);
/* The tunnel hook of 'stage' produced packet 'p' and sends it on (as if
 * received on port 'port_no' when 'inject'). */
void kflow_rec_tunnel(struct kflow_rec *, const struct dp_packet *p,
                      uint32_t port_no, bool inject);
/* Something the cache cannot repeat happened to the packet. */
static inline void
kflow_rec_stop(struct kflow_rec *r)
{
    r->on = false;
}
/* The packet's trip is over: installs its entry if it can have one. */
void kflow_rec_finish(struct kflow_rec *);

#endif /* HVS_KFLOW_H */
