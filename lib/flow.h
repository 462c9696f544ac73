/* The flow key: every field the datapath extracts from a packet, laid out
 * as one compact struct that hashes and compares as 64-bit words.  Masks are
 * the same struct (a set bit means "this bit is matched").
 *
 * Field semantics follow OVS_KEY_ATTR_* of <linux/openvswitch.h>; every
 * multi-byte header field is in network byte order exactly as in the
 * attribute, so that masking needs no conversion.  Metadata fields (in_port,
 * recirc_id, dp_hash, priority, skb_mark) are in host order as in their u32
 * attributes.  Overloaded fields, as in the kernel:
 *   - ARP: opcode in ip_proto (low 8 bits), sip/tip in ipv4_src/ipv4_dst,
 *     sha/tha in arp_sha/arp_tha.
 *   - ICMP/ICMPv6: type in tp_src, code in tp_dst (each htons(u8)).
 *   - ND: target in nd_target, sll/tll in arp_sha/arp_tha.
 *   - NSH: the header in 'nsh', which shares ipv6_src/ipv6_dst.
 * vlan_tci carries VLAN_CFI (0x1000) when a tag is present, as
 * OVS_KEY_ATTR_VLAN does.  Unused fields are zero (keys are memset before
 * extraction), which is what makes word-wise hashing valid.
 *
 * Tunnel options come last so that everything before them can be compared
 * as a fixed block; only tunnel.opts_len bytes of tun_opts are meaningful.
 */
#ifndef HVS_FLOW_H
#define HVS_FLOW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow-tnl.h"

struct dp_packet;

#define FLOW_MAX_MPLS_LABELS 3
#define FLOW_NSH_CONTEXTS 4

/* The NSH base and service path headers (OVS_NSH_KEY_ATTR_BASE) and the
 * MD type 1 context (OVS_NSH_KEY_ATTR_MD1); type 2 metadata is not in the
 * key (its context stays zero), as in the kernel. */
struct flow_nsh {
    uint8_t flags;              /* the O and U bits, 2 bits */
    uint8_t ttl;                /* 6 bits */
    uint8_t mdtype;
    uint8_t np;                 /* next protocol: 1 IPv4, 2 IPv6, 3 Ethernet,
                                 * 4 NSH, 5 MPLS */
    uint32_t path_hdr;          /* be32: SPI << 8 | SI */
    uint32_t context[FLOW_NSH_CONTEXTS];        /* be32 */
};
#define FLOW_VLAN_CFI 0x1000    /* host order; htons() it for the key */

/* TCP header flag bits (byte 13 of the header; the low bits of
 * flow_key.tcp_flags once in host order). */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

struct flow_key {
    /* Metadata: host byte order. */
    uint32_t in_port;           /* odp port (OVS_KEY_ATTR_IN_PORT) */
    uint32_t recirc_id;
    uint32_t dp_hash;
    uint32_t priority;
    uint32_t skb_mark;
    uint32_t pad0;

    /* L2 */
    uint8_t eth_src[6];
    uint8_t eth_dst[6];
    uint16_t eth_type;          /* be16; 0x05ff for non-Ethernet II (802.2) */
    uint16_t vlan_tpid;         /* be16, outer tag; 0 when untagged */
    uint16_t vlan_tci;          /* be16, with FLOW_VLAN_CFI when present */
    uint16_t cvlan_tpid;        /* be16, inner tag (802.1ad) */
    uint16_t cvlan_tci;         /* be16 */
    uint8_t mpls_labels;        /* bit i set: mpls_lse[i] present (0, 1, 3
                                 * or 7), the kernel's num_labels_mask */
    uint8_t no_eth;             /* 1: layer-3 packet (packet_type ns=1,
                                 * type eth_type) without Ethernet header:
                                 * the L2 fields are zero.  Every mask
                                 * matches it exactly. */
    uint32_t mpls_lse[FLOW_MAX_MPLS_LABELS];    /* be32 */

    /* L3 */
    uint8_t ip_proto;           /* also the ARP opcode (low 8 bits) */
    uint8_t ip_tos;
    uint8_t ip_ttl;             /* also IPv6 hop limit */
    uint8_t ip_frag;            /* OVS_FRAG_TYPE_* */
    uint32_t ipv6_label;        /* be32, low 20 bits */
    uint32_t ipv4_src;          /* be32; also ARP sip */
    uint32_t ipv4_dst;          /* be32; also ARP tip */
    union {
        struct {
            uint8_t ipv6_src[16];
            uint8_t ipv6_dst[16];
        };
        /* An NSH packet (eth_type 0x894f) has no IP addresses: its header
         * shares their room, as in the kernel's key. */
        struct flow_nsh nsh;
    };
    uint8_t nd_target[16];
    uint8_t arp_sha[6];         /* also ND sll */
    uint8_t arp_tha[6];         /* also ND tll */

    /* L4 */
    uint16_t tp_src;            /* be16; ICMP type */
    uint16_t tp_dst;            /* be16; ICMP code */
    uint16_t tcp_flags;         /* be16, low 12 bits */
    uint16_t pad2;

    /* Tunnel metadata of the received packet (OVS_KEY_ATTR_TUNNEL). */
    struct flow_tnl tunnel;
    uint8_t tun_opts[FLOW_TNL_OPTS_MAX];
};

/* Bytes of the key that every exact comparison covers; tun_opts follow. */
#define FLOW_KEY_FIXED_LEN offsetof(struct flow_key, tun_opts)

_Static_assert(sizeof(struct flow_key) % 8 == 0,
               "flow_key must be a whole number of 64-bit words");
_Static_assert(FLOW_KEY_FIXED_LEN % 8 == 0,
               "tun_opts must start on a 64-bit word");

/* Extracts the key of 'p' (metadata from p->md, headers from its data)
 * into 'key', which is cleared first, and sets p->l3_ofs and p->l4_ofs.
 * A malformed or truncated header stops extraction at that layer: the
 * fields found so far are kept and the rest stay zero, as the kernel does
 * (for example a truncated TCP header leaves tp_src/tp_dst zero).  Never
 * reads outside the frame.  A packet whose p->md.l3_type is set has no
 * Ethernet header: its key gets no_eth and that EtherType. */
void flow_extract(struct dp_packet *p, struct flow_key *key);

/* Hash of the whole key (fixed part plus tun_opts in use), for the
 * exact-match cache. */
uint32_t flow_key_hash(const struct flow_key *key, uint32_t basis);

/* Exact equality of two extracted keys. */
bool flow_key_equal(const struct flow_key *a, const struct flow_key *b);

/* dst = src & mask, word by word. */
void flow_key_mask(struct flow_key *dst, const struct flow_key *src,
                   const struct flow_key *mask);

/* The L4 hash that OVS_ACTION_ATTR_HASH (OVS_HASH_ALG_L4) and upcall
 * dispatch use: addresses, protocol and ports, symmetric is not required.
 * Returns a non-zero value. */
uint32_t flow_hash_5tuple(const struct flow_key *key, uint32_t basis);

#endif /* HVS_FLOW_H */
