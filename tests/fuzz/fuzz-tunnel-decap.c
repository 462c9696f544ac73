/* libFuzzer target: tunnel decapsulation (VXLAN, Geneve, GRE) as the
 * tunnel vports do it on what their sockets receive, followed by the
 * offload state restored on the inner frame, flow extraction and, for a
 * frame marked as a super-packet, its segmentation.
 *
 * Input: one byte selecting the type (low 2 bits: VXLAN, Geneve, GRE;
 * bit 2: VXLAN group policy), one byte for the inner MTU, then the
 * datagram (for GRE the IPv4 packet). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "flow.h"
#include "offload.h"
#include "packet.h"
#include "vport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEGS 128

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ovs_vport_type types[4] = {
        OVS_VPORT_TYPE_VXLAN, OVS_VPORT_TYPE_GENEVE, OVS_VPORT_TYPE_GRE,
        OVS_VPORT_TYPE_VXLAN,
    };
    struct dp_packet *segs[MAX_SEGS];
    struct flow_key key;
    struct dp_packet *p;

    if (size < 2) {
        return 0;
    }
    p = vport_tunnel_decap(types[data[0] & 3], (data[0] & 4) != 0,
                           data + 2, size - 2, 576 + (size_t) data[1] * 32);
    if (!p) {
        return 0;
    }
    if (p->md.tunnel.opts_len > FLOW_TNL_OPTS_MAX - 4) {
        abort();
    }
    flow_extract(p, &key);
    if (p->vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        int n = offload_segment(p, segs, MAX_SEGS);

        for (int i = 0; i < n; i++) {
            dp_packet_free(segs[i]);
        }
    }
    dp_packet_free(p);
    return 0;
}
