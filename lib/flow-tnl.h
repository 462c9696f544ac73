/* Tunnel metadata of a packet and of a flow key (OVS_KEY_ATTR_TUNNEL).
 * All multi-byte fields are in network byte order, as on the wire. */
#ifndef HVS_FLOW_TNL_H
#define HVS_FLOW_TNL_H 1

#include <netinet/in.h>
#include <stdint.h>

/* Bytes of tunnel options (Geneve TLVs) a key can hold; the kernel allows
 * 255, Open vSwitch sends at most 252. */
#define FLOW_TNL_OPTS_MAX 256

/* flags: TUNNEL_* of the OVS key (DF, CSUM, OAM, KEY present, options). */
#define FLOW_TNL_F_DONT_FRAGMENT (1 << 0)
#define FLOW_TNL_F_CSUM          (1 << 1)
#define FLOW_TNL_F_KEY           (1 << 2)
#define FLOW_TNL_F_OAM           (1 << 3)
#define FLOW_TNL_F_GENEVE_OPT    (1 << 4)
#define FLOW_TNL_F_VXLAN_OPT     (1 << 5)

struct flow_tnl {
    uint64_t tun_id;            /* be64 */
    uint32_t ipv4_src, ipv4_dst;    /* be32; 0 when IPv6 or absent */
    struct in6_addr ipv6_src, ipv6_dst;
    uint16_t flags;             /* FLOW_TNL_F_* (host order) */
    uint8_t tos, ttl;
    uint16_t tp_src, tp_dst;    /* be16 */
    uint32_t vxlan_gbp;         /* OVS_VXLAN_EXT_GBP, host order */
    uint8_t opts_len;           /* bytes used in the key's tun_opts */
    uint8_t pad[7];
};

#endif /* HVS_FLOW_TNL_H */
