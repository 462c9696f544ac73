/* Vports: the table of port types and what every type shares (counters,
 * checking received offload state, completing offload state on send). */
#include "vport.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>

#include "offload.h"
#include "packet.h"

/* UDP segmentation offload; older uapi headers lack it. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

static const struct vport_ops *const vport_types[] = {
    &vport_netdev_ops,
    &vport_internal_ops,
    &vport_vxlan_ops,
    &vport_geneve_ops,
    &vport_gre_ops,
};

const struct vport_ops *
vport_ops_find(enum ovs_vport_type type)
{
    for (size_t i = 0; i < sizeof vport_types / sizeof *vport_types; i++) {
        if (vport_types[i]->type == type) {
            return vport_types[i];
        }
    }
    return NULL;
}

void
vport_get_stats(const struct vport *v, struct ovs_vport_stats *out)
{
    /* Each counter is read on its own: the snapshot is not atomic as a
     * whole, as with the kernel's per-CPU counters. */
    const struct vport_stats *s = &v->stats;

    out->rx_packets = atomic_load_explicit(&s->rx_packets,
                                           memory_order_relaxed);
    out->tx_packets = atomic_load_explicit(&s->tx_packets,
                                           memory_order_relaxed);
    out->rx_bytes = atomic_load_explicit(&s->rx_bytes, memory_order_relaxed);
    out->tx_bytes = atomic_load_explicit(&s->tx_bytes, memory_order_relaxed);
    out->rx_errors = atomic_load_explicit(&s->rx_errors,
                                          memory_order_relaxed);
    out->tx_errors = atomic_load_explicit(&s->tx_errors,
                                          memory_order_relaxed);
    out->rx_dropped = atomic_load_explicit(&s->rx_dropped,
                                           memory_order_relaxed);
    out->tx_dropped = atomic_load_explicit(&s->tx_dropped,
                                           memory_order_relaxed);
}

bool
vport_vnet_hdr_valid(const struct virtio_net_hdr *h, size_t len)
{
    if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM
                     | VIRTIO_NET_HDR_F_DATA_VALID)) {
        return false;
    }
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM
        && (size_t) h->csum_start + h->csum_offset + 2 > len) {
        return false;
    }
    switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_TCPV6:
    case VIRTIO_NET_HDR_GSO_UDP:
    case VIRTIO_NET_HDR_GSO_UDP_L4:
        return h->gso_size != 0 && h->hdr_len <= len;
    default:
        return false;
    }
}

static void
count_tx_error(struct vport *v)
{
    atomic_fetch_add_explicit(&v->stats.tx_errors, 1, memory_order_relaxed);
}

/* A cut copy (sampling, mirroring) cannot be segmented any more and its
 * partial checksum may lie past the cut, so it goes out as a plain frame;
 * the checksum is completed over the whole frame first, so that the copy
 * shows the header as it would have been on the wire. */
static void
tx_truncate(struct dp_packet *p)
{
    if (p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        p->vnet.gso_type = VIRTIO_NET_HDR_GSO_NONE;
        p->vnet.gso_size = 0;
        p->vnet.hdr_len = 0;
    }
    if (p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM
        && offload_complete_csum(p)) {
        p->vnet.flags &= ~VIRTIO_NET_HDR_F_NEEDS_CSUM;
    }
    dp_packet_trim(p, p->cutlen);
    p->cutlen = 0;
}

static void
tx_segment(struct vport *v, struct dp_packet *p, vport_emit_fn *emit,
           void *aux)
{
    enum { N_STACK = 64 };
    struct dp_packet *stack[N_STACK], **segs = stack;
    size_t max;
    int n;

    if (!p->vnet.gso_size) {
        count_tx_error(v);
        dp_packet_free(p);
        return;
    }
    /* Each segment carries gso_size bytes of the payload. */
    max = p->len / p->vnet.gso_size + 2;
    if (max > N_STACK) {
        segs = malloc(max * sizeof *segs);
    }
    n = segs ? offload_segment(p, segs, max) : -ENOMEM;
    dp_packet_free(p);
    if (n < 0) {
        count_tx_error(v);
    }
    for (int i = 0; i < n; i++) {
        emit(aux, segs[i]);
    }
    if (segs != stack) {
        free(segs);
    }
}

void
vport_tx_prepare(struct vport *v, struct dp_packet *p, size_t gso_max_len,
                 vport_emit_fn *emit, void *aux)
{
    if (p->cutlen && p->cutlen < p->len) {
        tx_truncate(p);
    }
    if (p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
        && (!v->tx_tso || p->len > gso_max_len)) {
        tx_segment(v, p, emit, aux);
        return;
    }
    if (p->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM && !v->tx_csum_offload
        && offload_complete_csum(p)) {
        count_tx_error(v);
        dp_packet_free(p);
        return;
    }
    emit(aux, p);
}
