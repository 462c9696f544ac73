/* libFuzzer target for the decapsulated-TCP merging (datapath/tnl-gro.c):
 * a batch of arbitrary frames, each with arbitrary offload state, merged
 * and then segmented again (offload.c) as an egress without TSO would.
 *
 * Input: records of [mode][length, 2 bytes big-endian][frame]. Mode bits:
 * 1 tunnel metadata, 2 NEEDS_CSUM at the IPv4 TCP header, 4 DATA_VALID,
 * 8 a super-packet already (GSO TCPV4), 16 truncated by trunc(). */
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "offload.h"
#include "packet.h"
#include "tnl-gro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PKTS (2 * TNL_GRO_WINDOW + 8)
#define MAX_FRAME 65535

static struct dp_packet *
make(uint8_t mode, const uint8_t *f, size_t len)
{
    struct dp_packet *p = dp_packet_copy_from(f, len, DP_PACKET_HEADROOM);

    if (!p) {
        return NULL;
    }
    memset(&p->md, 0, sizeof p->md);
    memset(&p->vnet, 0, sizeof p->vnet);
    if (mode & 1) {
        p->md.tunnel.ipv4_dst = 0x0200000a;
    }
    if (mode & 2) {
        p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        p->vnet.csum_start = 34;
        p->vnet.csum_offset = 16;
    } else if (mode & 4) {
        p->vnet.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    if (mode & 8) {
        p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        p->vnet.gso_size = 100;
    }
    if (mode & 16) {
        p->cutlen = (uint32_t) (len / 2 + 1);
    }
    return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dp_packet *pkts[MAX_PKTS];
    size_t in_bytes = 0, out_bytes = 0;
    int n = 0, out;

    while (size >= 3 && n < MAX_PKTS) {
        uint8_t mode = data[0];
        size_t len = (size_t) (data[1] << 8 | data[2]);

        data += 3;
        size -= 3;
        if (len > size) {
            len = size;
        }
        pkts[n] = make(mode, data, len);
        if (!pkts[n]) {
            break;
        }
        in_bytes += len;
        n++;
        data += len;
        size -= len;
    }
    out = tnl_gro_batch(pkts, n, MAX_FRAME);
    if (out < 0 || out > n) {
        __builtin_trap();
    }
    for (int i = 0; i < out; i++) {
        struct dp_packet *p = pkts[i];

        out_bytes += p->len;
        if (p->len > MAX_FRAME
            || (p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE
                && (p->vnet.hdr_len > p->len || !p->vnet.gso_size))) {
            __builtin_trap();
        }
        if (p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
            struct dp_packet *segs[64];
            int k = offload_segment(p, segs, 64);

            for (int j = 0; j < k; j++) {
                dp_packet_free(segs[j]);
            }
        }
        dp_packet_free(p);
    }
    /* Merging drops repeated headers only: never payload, never adds. */
    if (out_bytes > in_bytes) {
        __builtin_trap();
    }
    return 0;
}
