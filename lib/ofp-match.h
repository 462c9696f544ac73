/* OpenFlow matches: the OpenFlow 1.0 struct ofp_match, OpenFlow 1.3 OXM
 * and the Nicira NXM format that ovs-ofctl uses with OpenFlow 1.0, all to
 * and from one struct ofp_match over the fields of struct flow_key plus
 * the pipeline registers and metadata.
 *
 * In a match, key.in_port holds the OpenFlow port number (32-bit
 * numbering, OFPP_LOCAL = 0xfffffffe), not the datapath's.  The other
 * key fields keep flow_key's layout and byte order, so matching a packet
 * is a masked comparison of two flow_keys. */
#ifndef HVS_OFP_MATCH_H
#define HVS_OFP_MATCH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "ofp-msgs.h"

#define OFP_N_REGS 8

/* Reserved OpenFlow port numbers (1.3 numbering; 1.0 adds 0xffff0000). */
#define OFPP_MAX        0xffffff00u
#define OFPP_IN_PORT    0xfffffff8u
#define OFPP_TABLE      0xfffffff9u
#define OFPP_NORMAL     0xfffffffau
#define OFPP_FLOOD      0xfffffffbu
#define OFPP_ALL        0xfffffffcu
#define OFPP_CONTROLLER 0xfffffffdu
#define OFPP_LOCAL      0xfffffffeu
#define OFPP_ANY        0xffffffffu     /* OFPP_NONE in 1.0 */

/* A packet's state in the pipeline, or a rule's match (value + mask). */
struct ofp_fields {
    struct flow_key key;
    uint32_t regs[OFP_N_REGS];
    uint64_t metadata;
};

struct ofp_match {
    struct ofp_fields v;        /* value, zero where the mask is zero */
    struct ofp_fields m;        /* mask */
};

/* Fields that OXM/NXM can name (matches and set-field). */
enum mf_id {
    MF_IN_PORT, MF_METADATA, MF_ETH_DST, MF_ETH_SRC, MF_ETH_TYPE,
    MF_VLAN_VID, MF_VLAN_PCP, MF_VLAN_TCI, MF_IP_DSCP, MF_IP_ECN,
    MF_IP_TOS, MF_IP_PROTO, MF_IP_TTL, MF_IPV4_SRC, MF_IPV4_DST,
    MF_TCP_SRC, MF_TCP_DST, MF_UDP_SRC, MF_UDP_DST, MF_SCTP_SRC,
    MF_SCTP_DST, MF_ICMPV4_TYPE, MF_ICMPV4_CODE, MF_ARP_OP, MF_ARP_SPA,
    MF_ARP_TPA, MF_ARP_SHA, MF_ARP_THA, MF_IPV6_SRC, MF_IPV6_DST,
    MF_IPV6_LABEL, MF_ICMPV6_TYPE, MF_ICMPV6_CODE, MF_ND_TARGET,
    MF_ND_SLL, MF_ND_TLL, MF_TUN_ID, MF_TUN_IPV4_SRC, MF_TUN_IPV4_DST,
    MF_PKT_MARK, MF_TCP_FLAGS,
    MF_REG0, MF_REG7 = MF_REG0 + OFP_N_REGS - 1,
    MF_N_FIELDS
};

/* Header of an OXM (OpenFlow 1.3) or NXM (Nicira) TLV. */
#define OXM_HEADER(CLASS, FIELD, HASMASK, LEN) \
    ((uint32_t) (CLASS) << 16 | (FIELD) << 9 | (HASMASK) << 8 | (LEN))
#define OXM_CLASS_NXM0 0x0000
#define OXM_CLASS_NXM1 0x0001
#define OXM_CLASS_OPENFLOW 0x8000

/* The field an OXM or NXM header names ('nxm' picks the NXM spelling of
 * fields that exist in both with different sizes); -1 if unknown.  Sets
 * *value_len to the length of the value (without mask). */
int mf_from_header(uint32_t header, bool nxm, size_t *value_len);
/* The OXM (1.3) header of 'id' without mask, for set-field. */
uint32_t mf_oxm_header(enum mf_id id);
/* The NXM header of 'id' without mask, or its OXM header if NXM has no
 * name for it. */
uint32_t mf_nxm_header(enum mf_id id);
/* The header a table-features reply names 'id' with: its OXM header, or
 * the NXM one for fields OXM has no name for (nw_tos, nw_ttl, vlan_tci),
 * with the has-mask bit when the field takes arbitrary masks. */
uint32_t mf_features_header(enum mf_id id);
/* Writes the wire value 'val' (mf_from_header's value_len bytes) into
 * 'f' (the packet state, or a match's value or mask); for a mask, 'val'
 * is the mask.  Returns false if the value is out of range. */
bool mf_set(enum mf_id id, bool nxm, const uint8_t *val,
            struct ofp_fields *f);
/* Reads field 'id' of 'f' in OXM wire form into 'val' (returns length). */
size_t mf_get(enum mf_id id, const struct ofp_fields *f, uint8_t val[16]);
/* mf_get()/mf_set() for a field named with a 'width'-byte header: the
 * NXM in_port is 16 bits where the OXM one is 32; every other field has
 * one width. */
size_t mf_get_width(enum mf_id id, size_t width, const struct ofp_fields *f,
                    uint8_t val[16]);
bool mf_set_width(enum mf_id id, size_t width, const uint8_t *val,
                  struct ofp_fields *f);
/* Copies 'n_bits' bits from bit 'src_ofs' of 'src' to bit 'dst_ofs' of
 * 'dst', both big-endian wire values ('src_len' and 'dst_len' bytes; bit
 * 0 is the least significant), as NXAST_REG_MOVE and NXAST_REG_LOAD
 * number them.  The caller checks the ranges. */
void mf_copy_bits(const uint8_t *src, size_t src_len, unsigned src_ofs,
                  uint8_t *dst, size_t dst_len, unsigned dst_ofs,
                  unsigned n_bits);
/* Whether 'm' satisfies the prerequisites of field 'id' (for example
 * tcp_src needs ip_proto=6 and an IP eth_type). */
bool mf_prereqs_ok(enum mf_id id, const struct ofp_match *m);

/* A match that matches everything. */
void ofp_match_init_catchall(struct ofp_match *);
/* Exact equality of two matches (values and masks). */
bool ofp_match_equal(const struct ofp_match *, const struct ofp_match *);
/* Whether every packet 'specific' matches is matched by 'general' (the
 * non-strict flow-mod/stats selection). */
bool ofp_match_covers(const struct ofp_match *general,
                      const struct ofp_match *specific);
/* Whether packet state 'pkt' matches 'm'.  ORs into 'wc' (a datapath
 * mask) the key bits the answer depended on: layer by layer, so that a
 * packet that fails on eth_type never has its L4 fields unwildcarded. */
bool ofp_match_packet(const struct ofp_match *m, const struct ofp_fields *pkt,
                      struct flow_key *wc);

/* OpenFlow 1.0: the fixed 40-byte ofp_match. */
#define OFP10_MATCH_LEN 40
ofperr ofp_match_decode_of10(const uint8_t wire[OFP10_MATCH_LEN],
                             struct ofp_match *);
void ofp_match_encode_of10(struct ofp_buf *, const struct ofp_match *);

/* OpenFlow 1.3: struct ofp_match of type OXM, with its padding, pulled
 * from 'r'. */
ofperr ofp_match_decode_oxm(struct ofp_rd *r, struct ofp_match *);
void ofp_match_encode_oxm(struct ofp_buf *, const struct ofp_match *);

/* Nicira NXM: 'len' bytes of TLVs (the caller skips the padding).  The
 * NXM_NX_COOKIE pseudo-field, if present, goes to *cookie and *cookie_mask
 * (may be NULL: then it is refused). */
ofperr ofp_match_decode_nxm(const uint8_t *p, size_t len,
                            struct ofp_match *, uint64_t *cookie,
                            uint64_t *cookie_mask);
/* Appends the TLVs (unpadded) and returns their length. */
size_t ofp_match_encode_nxm(struct ofp_buf *, const struct ofp_match *);

/* 16-bit (1.0) <-> 32-bit port numbers. */
uint32_t ofp_port_from_16(uint16_t);
uint16_t ofp_port_to_16(uint32_t);

#endif /* HVS_OFP_MATCH_H */
