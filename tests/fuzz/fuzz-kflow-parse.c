/* libFuzzer target: the kernel flow cache's parser (kflow-parse.h) over
 * arbitrary frames.  Besides staying inside the frame, every frame the
 * parser accepts must get from flow_extract() exactly the flow key its
 * headers imply (kflow-check.h): otherwise two packets the kernel cache
 * treats alike could belong to different megaflows.  The first byte
 * selects whether UDP port 4789 is a tunnel port and the offload state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "../unit/kflow-check.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kflow_key k;
    struct kflow_meta m;

    if (size < 1) {
        return 0;
    }
    atomic_store(&kflow_tnl_ports[0], data[0] & 1 ? htons(4789) : 0);
    unsigned gso = data[0] & 2 ? 1400 : 0;
    struct dp_packet *p = dp_packet_copy_from(data + 1, size - 1, 0);
    if (!p) {
        return 0;
    }
    if (gso) {
        p->vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        p->vnet.gso_size = (uint16_t) gso;
    }
    struct kflow_buf b = { dp_packet_data(p), p->len };
    memset(&k, 0, sizeof k);
    if (!kflow_parse(&b, p->len, 7, gso, &k, &m)) {
        p->md.in_port = 7;
        if (m.l4_end > p->len || m.inner_ofs > p->len
            || !kflow_check_agrees(p, &k.outer)) {
            abort();
        }
        if (k.tnl_flags & KFLOW_T_INNER) {
            struct dp_packet *in = dp_packet_copy_from(
                data + 1 + m.inner_ofs, p->len - m.inner_ofs, 0);
            if (in) {
                in->md.in_port = 3;
                if (!kflow_check_agrees(in, &k.inner)) {
                    abort();
                }
                dp_packet_free(in);
            }
        }
    }
    dp_packet_free(p);
    return 0;
}
