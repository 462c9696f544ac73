/* OpenFlow actions and instructions: OpenFlow 1.0 actions (with the
 * Nicira resubmit and dec_ttl extensions), OpenFlow 1.3 actions and
 * instructions, to and from one version-independent list.
 *
 * The list is flat: the actions applied immediately come first, then
 * optional instruction entries in execution order: CLEAR_ACTIONS,
 * WRITE_ACTIONS (followed by its 'n' actions), WRITE_METADATA,
 * GOTO_TABLE.  OpenFlow 1.0 lists only ever hold the first part. */
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
    /* Instructions from here on (see above). */
    OFPACT_CLEAR_ACTIONS,
    OFPACT_WRITE_ACTIONS,       /* n: how many actions follow in the set */
    OFPACT_WRITE_METADATA,      /* metadata, mask */
    OFPACT_GOTO_TABLE,          /* table */
};

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

/* Appends the actions of 'version' (instruction entries are left out). */
void ofpacts_encode_actions(uint8_t version, const struct ofpacts *,
                            struct ofp_buf *);
/* Appends OpenFlow 1.3 instructions for the list. */
void ofpacts_encode_instructions(const struct ofpacts *, struct ofp_buf *);
/* Whether the list outputs to 'port' (flow-mod/stats out_port filter). */
int ofpacts_output_to(const struct ofpacts *, uint32_t port);

#endif /* HVS_OFP_ACTIONS_H */
