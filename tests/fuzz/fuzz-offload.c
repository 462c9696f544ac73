/* libFuzzer target: offload completion over arbitrary frames and
 * virtio-net headers.
 *
 * Input: a struct virtio_net_hdr (10 bytes, host order as on a TAP
 * device), then the frame. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads of packet bytes go here so that they are not optimised away. */
static volatile uint8_t fuzz_sink;

#define MAX_SEGS 64

static void
touch(const struct dp_packet *p)
{
    const uint8_t *d = dp_packet_data(p);

    for (size_t i = 0; i < p->len; i++) {
        fuzz_sink ^= d[i];
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dp_packet *segs[MAX_SEGS];
    struct virtio_net_hdr vnet;
    struct dp_packet *p, *c;
    bool gso;
    int n;

    if (size < sizeof vnet) {
        return 0;
    }
    memcpy(&vnet, data, sizeof vnet);
    p = dp_packet_copy_from(data + sizeof vnet, size - sizeof vnet,
                            DP_PACKET_HEADROOM);
    if (!p) {
        return 0;
    }
    p->vnet = vnet;
    gso = (vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;

    (void) offload_verify_csum(p);
    n = offload_segment(p, segs, MAX_SEGS);
    for (int i = 0; i < n; i++) {
        touch(segs[i]);
        /* Oracle: every segment of a super-packet carries correct
         * checksums. */
        segs[i]->vnet.flags = 0;
        if (gso && offload_verify_csum(segs[i])) {
            abort();
        }
        dp_packet_free(segs[i]);
    }
    /* Completion writes: on a clone, so copy-on-write is exercised. */
    c = dp_packet_clone(p);
    if (c) {
        (void) offload_complete_csum(c);
        touch(c);
        dp_packet_free(c);
    }
    dp_packet_free(p);
    return 0;
}
