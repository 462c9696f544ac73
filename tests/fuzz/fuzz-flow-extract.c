/* libFuzzer target: flow key extraction over arbitrary frames.  The first
 * byte selects offload state (UDP fragmentation offload) so that both
 * fragment paths are reached; the rest is the frame. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_key key, again;
    struct dp_packet *p;

    if (size < 1) {
        return 0;
    }
    /* No headroom or tailroom: any read past the frame is an ASan error. */
    p = dp_packet_copy_from(data + 1, size - 1, 0);
    if (!p) {
        return 0;
    }
    if (data[0] & 1) {
        p->vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    }
    p->md.in_port = data[0];
    flow_extract(p, &key);
    if ((p->l3_ofs != DP_OFS_NONE && p->l3_ofs > p->len)
        || (p->l4_ofs != DP_OFS_NONE && p->l4_ofs > p->len)
        || key.tunnel.opts_len) {
        abort();
    }
    /* Extraction is deterministic and hashing agrees with equality. */
    flow_extract(p, &again);
    if (!flow_key_equal(&key, &again)
        || flow_key_hash(&key, 1) != flow_key_hash(&again, 1)
        || !flow_hash_5tuple(&key, 0)) {
        abort();
    }
    dp_packet_free(p);
    return 0;
}
