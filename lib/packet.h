/* Packet buffers with headroom and reference-counted data.
 *
 * The bytes of a packet live in a struct dp_buf that several dp_packets may
 * share: output to many ports and clone() take a new dp_packet header that
 * points into the same block, so the payload is never copied for fan-out.
 * The first write through a shared block copies it (dp_packet_make_writable,
 * copy-on-write).  Ownership: the holder of a dp_packet owns it and frees it
 * with dp_packet_free(); a dp_buf is freed with its last dp_packet.
 */
#ifndef HVS_PACKET_H
#define HVS_PACKET_H 1

#include <linux/virtio_net.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow-tnl.h"

struct dp_buf {
    atomic_uint refcnt;
    uint32_t size;              /* bytes in data[] */
    uint8_t data[];
};

/* Headroom reserved in front of received frames: outer headers of a
 * tunnel (14 + 40 + 8 + 8 for VXLAN over IPv6) and two VLAN tags. */
#define DP_PACKET_HEADROOM 128
#define DP_OFS_NONE UINT16_MAX

/* Metadata that travels with a packet through the datapath; the flow key's
 * metadata fields are extracted from it. */
struct dp_packet_md {
    uint32_t in_port;           /* odp port number, the key's in_port */
    uint32_t recirc_id;
    uint32_t dp_hash;
    uint32_t priority;
    uint32_t skb_mark;
    struct flow_tnl tunnel;     /* received tunnel metadata, or to send */
    /* Whether 'tunnel' was set by set(tunnel) (metadata to send with) rather
     * than received: a tunnel vport sends only the former, as the kernel's
     * send only TX tunnel info. */
    bool tunnel_tx;
    /* be16.  Non-zero: a layer-3 packet (packet_type ns=1, this EtherType)
     * that starts with its network header, as after pop_eth; zero: an
     * Ethernet frame. */
    uint16_t l3_type;
    /* Tunnel options (Geneve TLVs): the first tunnel.opts_len bytes are
     * meaningful, the rest is left as it is (not cleared per packet). */
    uint8_t tun_opts[FLOW_TNL_OPTS_MAX];
};

struct dp_packet {
    struct dp_buf *buf;
    uint32_t data_ofs;          /* offset of the first byte in buf->data */
    uint32_t len;               /* bytes of frame data */
    uint16_t l3_ofs;            /* from the frame start, or DP_OFS_NONE */
    uint16_t l4_ofs;            /* from the frame start, or DP_OFS_NONE */
    uint32_t cutlen;            /* trunc(): send at most this, 0 = all */
    /* Offload state in virtio-net form: a partial checksum (NEEDS_CSUM with
     * csum_start/csum_offset from the frame start), a super-packet to be
     * segmented (gso_type/gso_size), or DATA_VALID after verification. */
    struct virtio_net_hdr vnet;
    struct dp_packet_md md;
};

struct dp_packet *dp_packet_new(size_t headroom, size_t size);
struct dp_packet *dp_packet_copy_from(const void *data, size_t len,
                                      size_t headroom);
/* A new header sharing 'p''s data; metadata and offload state copied. */
struct dp_packet *dp_packet_clone(const struct dp_packet *p);
/* A full copy with its own data block. */
struct dp_packet *dp_packet_deep_copy(const struct dp_packet *p,
                                      size_t headroom);
void dp_packet_free(struct dp_packet *p);
/* Returns the calling thread's cached super-packet blocks to malloc (the
 * cache is also emptied when a thread exits). */
void dp_packet_cache_flush(void);

static inline uint8_t *
dp_packet_data(const struct dp_packet *p)
{
    return p->buf->data + p->data_ofs;
}

static inline size_t
dp_packet_headroom(const struct dp_packet *p)
{
    return p->data_ofs;
}

static inline size_t
dp_packet_tailroom(const struct dp_packet *p)
{
    return p->buf->size - p->data_ofs - p->len;
}

static inline bool
dp_packet_shared(const struct dp_packet *p)
{
    return atomic_load_explicit(&p->buf->refcnt, memory_order_acquire) > 1;
}

static inline void *
dp_packet_l3(const struct dp_packet *p)
{
    return p->l3_ofs == DP_OFS_NONE ? NULL : dp_packet_data(p) + p->l3_ofs;
}

static inline void *
dp_packet_l4(const struct dp_packet *p)
{
    return p->l4_ofs == DP_OFS_NONE ? NULL : dp_packet_data(p) + p->l4_ofs;
}

/* Makes the data private to 'p' (copying a shared block), with at least
 * 'headroom' bytes in front.  Returns 0 or -ENOMEM (then 'p' is
 * unchanged).  Must precede every write into the frame. */
int dp_packet_make_writable(struct dp_packet *p, size_t headroom);

/* Prepends 'n' bytes (writable; grows the headroom if needed) and returns a
 * pointer to them, or NULL on allocation failure.  Offsets (l3, l4, csum)
 * are shifted by 'n'. */
void *dp_packet_push(struct dp_packet *p, size_t n);
/* Removes 'n' bytes from the front; offsets shift back by 'n'. */
void dp_packet_pull(struct dp_packet *p, size_t n);
/* Appends 'n' bytes (writable) and returns them, or NULL. */
void *dp_packet_put(struct dp_packet *p, size_t n);
/* Cuts the frame to 'len' bytes if longer. */
void dp_packet_trim(struct dp_packet *p, size_t len);

#endif /* HVS_PACKET_H */
