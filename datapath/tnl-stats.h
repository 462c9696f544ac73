/* The tunnel paths' counters: which way each tunnel packet went (built or
 * stripped by the datapath itself, held for a neighbour, left to the host
 * stack's sockets) and why a packet was dropped.  Operators read them with
 * `ovs-appctl -t RUNDIR/hvs-dpd.ctl tnl/stats` (tnl-appctl.c).
 *
 * Any thread counts; each thread adds to a slot of its own, so that the
 * fast path never bounces a shared cache line.  Readers sum the slots. */
#ifndef HVS_TNL_STATS_H
#define HVS_TNL_STATS_H 1

#include <stdint.h>

enum tnl_counter {
    TNL_C_ENCAP,                /* encapsulated by the datapath */
    TNL_C_DECAP,                /* decapsulated by the datapath */
    TNL_C_HELD,                 /* held while the neighbour resolved */
    TNL_C_HOLD_DROP,            /* dropped: hold queue full */
    TNL_C_UNREACH,              /* dropped: neighbour did not resolve */
    TNL_C_ENCAP_ERR,            /* dropped: tunnel header not buildable */
    TNL_C_SOCKET_TX,            /* left to the tunnel socket (fragments,
                                 * no mirrored route, egress not ours) */
    TNL_C_SOCKET_RX,            /* decapsulated from the tunnel socket
                                 * (reassembled by the host stack, or
                                 * not seen by the datapath) */
    TNL_C_SOCKET_RX_BAD,        /* dropped: malformed on the socket */
    TNL_C_DECAP_BAD,            /* fast-decap candidates with bad outer
                                 * headers, left to the host stack */
    TNL_C_GRO_SEGS,             /* segments merged (tnl-gro.h) */
    TNL_C_GRO_PKTS,             /* super-packets they became */
    TNL_C_N
};

void tnl_count(enum tnl_counter, uint64_t n);
/* The sum over threads. */
uint64_t tnl_counter_get(enum tnl_counter);
/* The counter's name in tnl/stats ("encap", "hold_drop", ...). */
const char *tnl_counter_name(enum tnl_counter);

#endif /* HVS_TNL_STATS_H */
