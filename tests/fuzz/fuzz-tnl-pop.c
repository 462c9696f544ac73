/* libFuzzer target for the tunnel fast path's decapsulation parser
 * (datapath/tnl-pop.c): arbitrary outer Ethernet frames, parsed for each
 * tunnel type with and without trusted offload flags.  The first input
 * byte picks the type and the flags. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "packet.h"
#include "tnl-pop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ovs_vport_type types[] = {
        OVS_VPORT_TYPE_VXLAN, OVS_VPORT_TYPE_GENEVE, OVS_VPORT_TYPE_GRE,
    };
    static const uint16_t ports[] = { 4789, 6081, 0 };
    struct virtio_net_hdr vnet;
    struct tnl_pop_outer o;
    struct dp_packet_md md;
    uint8_t sel;
    int ofs, t;

    if (!size) {
        return 0;
    }
    sel = data[0];
    data++;
    size--;
    t = (sel & 3) % 3;
    memset(&vnet, 0, sizeof vnet);
    vnet.flags = sel & 4 ? VIRTIO_NET_HDR_F_DATA_VALID : 0;
    memset(&md, 0, sizeof md);
    ofs = tnl_pop_frame(types[t], (sel & 8) != 0, ports[t], data, size,
                        sel & 16 ? &vnet : NULL, &md);
    if (ofs >= 0) {
        /* The inner frame lies inside the input. */
        if ((size_t) ofs + 14 > size || md.tunnel.opts_len > 252) {
            __builtin_trap();
        }
    }
    if (!tnl_pop_parse_outer(data, size, &o)) {
        if (o.end > size || o.hdr_ofs > o.end || o.l4_ofs > o.hdr_ofs) {
            __builtin_trap();
        }
        (void) tnl_pop_csum_ok(data, &o, NULL);
    }
    return 0;
}
