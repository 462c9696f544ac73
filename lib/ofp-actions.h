/* OpenFlow actions and instructions: OpenFlow 1.0 actions (with the
 * Nicira resubmit and dec_ttl extensions), OpenFlow 1.3 actions and
 * instructions, to and from one version-independent list.
 *
 * The list is flat, in execution order: an optional METER entry first
 * (a rule's packets pass the meter before anything else happens to
 * them), then the actions applied immediately, then optional instruction
 * entries: CLEAR_ACTIONS, WRITE_ACTIONS (followed by its 'n' actions),
 * WRITE_METADATA, GOTO_TABLE.  OpenFlow 1.0 lists only ever hold the
 * actions; a 1.0 encoding of a list leaves the meter out, as Open
 * vSwitch's does (1.0 has no way to say it). */
#ifndef HVS_OFP_ACTIONS_H
#define HVS_OFP_ACTIONS_H 1

#include <stddef.h>
#include <stdint.h>

#include "ofp-msgs.h"

enum ofpact_type {
    OFPACT_OUTPUT,              /* port, max_len */
    OFPACT_SET_FIELD,           /* field (enum mf_id), value (OXM form) */
    OFPACT_SET_VLAN_VID,        /* 1.0 mod_vlan_vid: tags if untagged */
    OFPACT_SET_VLAN_PCP,        /* 1.0 mod_vlan_pcp: tags if untagged */
    OFPACT_STRIP_VLAN,          /* 1.0 strip_vlan */
    OFPACT_PUSH_VLAN,           /* ethertype */
    OFPACT_POP_VLAN,
    OFPACT_DEC_TTL,
    OFPACT_RESUBMIT,            /* port (OFPP_IN_PORT: unchanged), table
                                 * (255: the current one) */
    OFPACT_GROUP,               /* port = group id */
    OFPACT_REG_LOAD,            /* bits [ofs, ofs + n) of field 'field'
                                 * (named by dst_hdr) = low n bits of
                                 * 'metadata' */
    OFPACT_REG_MOVE,            /* n bits from bit src_ofs of src_field
                                 * (src_hdr) to bit ofs of field (dst_hdr) */
    OFPACT_LEARN,               /* learn: 'learn' (owned by the list) */
    OFPACT_FIN_TIMEOUT,         /* Open vSwitch's fin_timeout: once the
                                 * rule sees a TCP FIN or RST, its idle
                                 * timeout becomes at most 'n' and its
                                 * hard timeout at most 'ofs' seconds (0:
                                 * unchanged) */
    /* Instructions from here on (see above). */
    OFPACT_CLEAR_ACTIONS,
    OFPACT_WRITE_ACTIONS,       /* n: how many actions follow in the set */
    OFPACT_WRITE_METADATA,      /* metadata, mask */
    OFPACT_GOTO_TABLE,          /* table */
    OFPACT_METER,               /* port = meter id; first in the list */
};

/* One flow_mod_spec of a learn action: where bits come from (a field of
 * the packet, or an immediate value) and what they become in the learned
 * rule (a match, a load action, an output port). */
enum { LEARN_SRC_FIELD = 0, LEARN_SRC_IMMEDIATE = 1 };
enum { LEARN_DST_MATCH = 0, LEARN_DST_LOAD = 1, LEARN_DST_OUTPUT = 2 };
struct ofp_learn_spec {
    uint8_t src_type, dst_type;
    uint16_t n_bits;
    uint8_t src_field, dst_field;       /* enum mf_id */
    uint32_t src_hdr, dst_hdr;          /* as received (width) */
    uint16_t src_ofs, dst_ofs;
    uint8_t value[16];                  /* immediate: big-endian, the low
                                         * n_bits of 'value_len' bytes */
    uint8_t value_len;
};

/* Open vSwitch's NXAST_LEARN: a rule to add to 'table_id' built from the
 * packet.  Kept with the action bytes as they came, which are sent back
 * as they are. */
struct ofp_learn {
    uint16_t idle_timeout, hard_timeout, priority, flags;
    uint16_t fin_idle_timeout, fin_hard_timeout;    /* for the learned
                                                     * rule's fin_timeout
                                                     * (0, 0: none) */
    uint64_t cookie;
    uint8_t table_id;
    uint8_t *raw;                       /* owned */
    size_t raw_len;
    size_t n_specs;
    struct ofp_learn_spec specs[];
};
#define OFP_LEARN_F_SEND_FLOW_REM 1
/* The rules this action learns go when the last rule with this learn
 * action does: every rule of the learned table with the learned cookie,
 * as Open vSwitch does it. */
#define OFP_LEARN_F_DELETE_LEARNED 2

struct ofpact {
    uint8_t type;               /* enum ofpact_type */
    uint8_t field;              /* set-field: enum mf_id */
    uint8_t table;
    uint16_t n;                 /* output: max_len; write_actions: count */
    uint32_t port;              /* 32-bit port numbering */
    uint64_t metadata, mask;
    uint8_t value[16];          /* set-field value, OXM wire form */
    uint32_t dst_hdr, src_hdr;  /* register actions: the NXM/OXM headers
                                 * as received, re-sent as they came */
    uint16_t ofs, src_ofs;
    uint8_t src_field;          /* enum mf_id */
    struct ofp_learn *learn;    /* OFPACT_LEARN only */
    uint8_t legacy;             /* set-field from an OpenFlow 1.0 set
                                 * action (mod_nw_dst, mod_tp_src ...):
                                 * Open vSwitch checks no prerequisites
                                 * for those, as 1.0 never did */
    uint8_t nx_load2;           /* set-field from Open vSwitch's
                                 * NXAST_REG_LOAD2: 'dst_hdr' is the field's
                                 * header as received (NXM or OXM, with
                                 * the has-mask bit), 'set_mask' the bits
                                 * it writes; encoded back the same way in
                                 * every version, as Open vSwitch does */
    uint8_t set_mask[16];
};

/* An action list; owns 'a' (free with ofpacts_uninit()). */
struct ofpacts {
    struct ofpact *a;
    size_t n;
};

#define OFPACTS_MAX 1024

void ofpacts_init(struct ofpacts *);
void ofpacts_uninit(struct ofpacts *);
/* Appends a zeroed action of 'type' and returns it. */
struct ofpact *ofpacts_put(struct ofpacts *, enum ofpact_type type);
int ofpacts_copy(struct ofpacts *dst, const struct ofpacts *src);
/* The value width in bytes of an NXAST_REG_LOAD2 set-field ('nx_load2'
 * set): its field header's payload length, halved when masked. */
size_t ofpact_load2_width(const struct ofpact *);
/* Whether 'l' has a meter instruction (it leads the list); if so, its
 * meter id goes to '*meter_id'. */
bool ofpacts_meter(const struct ofpacts *l, uint32_t *meter_id);

/* Decodes 'len' bytes of actions of 'version', appending to 'out'. */
ofperr ofpacts_decode_actions(uint8_t version, const uint8_t *p, size_t len,
                              struct ofpacts *out);
/* Decodes OpenFlow 1.3 instructions, appending to 'out' in the order the
 * header describes. */
ofperr ofpacts_decode_instructions(const uint8_t *p, size_t len,
                                   struct ofpacts *out);
/* Checks the list for a rule in 'table_id' of a switch with 'n_tables':
 * output ports in range, goto-table forward only. */
ofperr ofpacts_check(const struct ofpacts *, uint8_t table_id,
                     unsigned n_tables);

/* Checks that every field the list sets, loads or moves has its
 * prerequisites in 'match' (as earlier actions in the list change it:
 * after a push_vlan there is a tag), as Open vSwitch does at flow-mod
 * time: set_field ip_dst needs an IP match, set_field vlan_vid a tag.
 * Returns 0 or BAD_ACT_MATCH_INCONSISTENT. */
struct ofp_match;
ofperr ofpacts_check_prereqs(const struct ofpacts *,
                             const struct ofp_match *match);

/* Appends the actions of 'version' (instruction entries are left out). */
void ofpacts_encode_actions(uint8_t version, const struct ofpacts *,
                            struct ofp_buf *);
/* Appends OpenFlow 1.3 instructions for the list. */
void ofpacts_encode_instructions(const struct ofpacts *, struct ofp_buf *);
/* Whether the list outputs to 'port' (flow-mod/stats out_port filter). */
int ofpacts_output_to(const struct ofpacts *, uint32_t port);

#endif /* HVS_OFP_ACTIONS_H */
