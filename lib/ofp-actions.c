/* OpenFlow actions and instructions <-> struct ofpacts. */
#include "ofp-actions.h"

#include <stdlib.h>
#include <string.h>

#include "ofp-match.h"

/* OpenFlow 1.0 action types. */
enum {
    OFPAT10_OUTPUT = 0, OFPAT10_SET_VLAN_VID = 1, OFPAT10_SET_VLAN_PCP = 2,
    OFPAT10_STRIP_VLAN = 3, OFPAT10_SET_DL_SRC = 4, OFPAT10_SET_DL_DST = 5,
    OFPAT10_SET_NW_SRC = 6, OFPAT10_SET_NW_DST = 7, OFPAT10_SET_NW_TOS = 8,
    OFPAT10_SET_TP_SRC = 9, OFPAT10_SET_TP_DST = 10, OFPAT10_ENQUEUE = 11,
};
/* OpenFlow 1.3 action types. */
enum {
    OFPAT13_OUTPUT = 0, OFPAT13_PUSH_VLAN = 17, OFPAT13_POP_VLAN = 18,
    OFPAT13_GROUP = 22, OFPAT13_DEC_NW_TTL = 24, OFPAT13_SET_FIELD = 25,
};
#define OFPAT_VENDOR 0xffff
/* Nicira action subtypes. */
enum {
    NXAST_RESUBMIT = 1, NXAST_REG_MOVE = 6, NXAST_REG_LOAD = 7,
    NXAST_RESUBMIT_TABLE = 14, NXAST_LEARN = 16, NXAST_DEC_TTL = 18,
    NXAST_FIN_TIMEOUT = 19,
    NXAST_WRITE_METADATA = 22, NXAST_REG_LOAD2 = 33, NXAST_GROUP = 40,
};
/* OpenFlow 1.3 instruction types. */
enum {
    OFPIT_GOTO_TABLE = 1, OFPIT_WRITE_METADATA = 2, OFPIT_WRITE_ACTIONS = 3,
    OFPIT_APPLY_ACTIONS = 4, OFPIT_CLEAR_ACTIONS = 5, OFPIT_METER = 6,
};

void
ofpacts_init(struct ofpacts *l)
{
    l->a = NULL;
    l->n = 0;
}

void
ofpacts_uninit(struct ofpacts *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->a[i].type == OFPACT_LEARN && l->a[i].learn) {
            free(l->a[i].learn->raw);
            free(l->a[i].learn);
        }
    }
    free(l->a);
    ofpacts_init(l);
}

struct ofpact *
ofpacts_put(struct ofpacts *l, enum ofpact_type type)
{
    /* Grows by powers of two: n is a power of two exactly when full. */
    if (!l->n || !(l->n & (l->n - 1))) {
        size_t cap = l->n ? l->n * 2 : 4;
        struct ofpact *a = realloc(l->a, cap * sizeof *a);
        if (!a) {
            abort();
        }
        l->a = a;
    }
    struct ofpact *a = &l->a[l->n++];
    memset(a, 0, sizeof *a);
    a->type = type;
    return a;
}

int
ofpacts_copy(struct ofpacts *dst, const struct ofpacts *src)
{
    ofpacts_init(dst);
    for (size_t i = 0; i < src->n; i++) {
        struct ofpact *a = ofpacts_put(dst, src->a[i].type);
        *a = src->a[i];
        if (a->type == OFPACT_LEARN && a->learn) {
            const struct ofp_learn *l = a->learn;
            size_t sz = sizeof *l + l->n_specs * sizeof l->specs[0];
            a->learn = malloc(sz);
            uint8_t *raw = malloc(l->raw_len);
            if (!a->learn || !raw) {
                abort();
            }
            memcpy(a->learn, l, sz);
            memcpy(raw, l->raw, l->raw_len);
            a->learn->raw = raw;
        }
    }
    return 0;
}

static void
put_set_field(struct ofpacts *out, enum mf_id id, const uint8_t *val,
              size_t len)
{
    struct ofpact *a = ofpacts_put(out, OFPACT_SET_FIELD);
    a->field = id;
    a->legacy = 1;
    memcpy(a->value, val, len);
}

/* The field an NXM/OXM header in a register action names, and its width
 * in bits; -1 if unknown or not a plain field. */
static int
reg_field(uint32_t hdr, unsigned *bits)
{
    size_t len;
    int id = mf_from_header(hdr, true, &len);

    if (id < 0 || (hdr & 0x100) || (hdr & 0xff) != len) {
        return -1;
    }
    *bits = len * 8;
    return id;
}

/* Whether field 'id' may be written by load/move: fields that describe
 * the packet's layout (eth_type, ip_proto as the protocol number) would
 * leave the flow key inconsistent with the packet, so OVS refuses them
 * too. */
static bool
reg_writable(int id)
{
    return id != MF_ETH_TYPE && id != MF_IP_PROTO && id != MF_ARP_OP
        && id != MF_ICMPV4_TYPE && id != MF_ICMPV4_CODE
        && id != MF_ICMPV6_TYPE && id != MF_ICMPV6_CODE
        && id != MF_TCP_FLAGS && id != MF_VLAN_VID && id != MF_VLAN_PCP;
}

static ofperr
decode_reg_load(struct ofp_rd *r, size_t len, struct ofpacts *out)
{
    if (len != 24) {
        return OFPERR_BAD_ACT_LEN;
    }
    uint16_t ofs_nbits = ofp_rd_be16(r);
    uint32_t dst = ofp_rd_be32(r);
    uint64_t value = ofp_rd_be64(r);
    unsigned ofs = ofs_nbits >> 6, n = (ofs_nbits & 0x3f) + 1, bits;
    int id = reg_field(dst, &bits);

    if (id < 0 || !reg_writable(id)) {
        return OFPERR_BAD_ACT_SET_TYPE;
    }
    if (ofs + n > bits || (n < 64 && value >> n)) {
        return OFPERR_BAD_ACT_ARGUMENT;
    }
    struct ofpact *a = ofpacts_put(out, OFPACT_REG_LOAD);
    a->field = id;
    a->dst_hdr = dst;
    a->ofs = ofs;
    a->n = n;
    a->metadata = value;
    return 0;
}

static ofperr
decode_reg_move(struct ofp_rd *r, size_t len, struct ofpacts *out)
{
    if (len != 24) {
        return OFPERR_BAD_ACT_LEN;
    }
    unsigned n = ofp_rd_be16(r);
    unsigned src_ofs = ofp_rd_be16(r);
    unsigned dst_ofs = ofp_rd_be16(r);
    uint32_t src = ofp_rd_be32(r);
    uint32_t dst = ofp_rd_be32(r);
    unsigned src_bits, dst_bits;
    int sid = reg_field(src, &src_bits);
    int did = reg_field(dst, &dst_bits);

    if (sid < 0 || did < 0 || !reg_writable(did)) {
        return OFPERR_BAD_ACT_ARGUMENT;
    }
    if (!n || src_ofs + n > src_bits || dst_ofs + n > dst_bits) {
        return OFPERR_BAD_ACT_ARGUMENT;
    }
    struct ofpact *a = ofpacts_put(out, OFPACT_REG_MOVE);
    a->field = did;
    a->dst_hdr = dst;
    a->src_field = sid;
    a->src_hdr = src;
    a->ofs = dst_ofs;
    a->src_ofs = src_ofs;
    a->n = n;
    return 0;
}

/* Whether NXAST_REG_LOAD2 (a set-field) may write field 'id': not the
 * fields that say what the packet is (its type, its IP protocol) or
 * that only describe it. */
static bool
load2_writable(int id)
{
    return id != MF_ETH_TYPE && id != MF_IP_PROTO && id != MF_TCP_FLAGS;
}

/* NXAST_REG_LOAD2: after the 10-byte header, one OXM or NXM entry (field
 * header, value, optional mask), then zeros to a multiple of 8.  The
 * errors are Open vSwitch's, field by field. */
static ofperr
decode_reg_load2(struct ofp_rd *r, size_t len, struct ofpacts *out)
{
    size_t left = len - 10;
    uint32_t hdr = ofp_rd_be32(r);
    size_t plen = hdr & 0xff, vlen;
    bool masked = hdr & 0x100;

    if (r->bad || left < 4) {
        return OFPERR_BAD_ACT_LEN;
    }
    left -= 4;
    if (!plen) {
        return OFPERR_BAD_ACT_SET_TYPE;
    }
    if (plen > left) {
        return OFPERR_BAD_MATCH_LEN;
    }
    int id = mf_from_header(hdr, true, &vlen);
    if (id < 0) {
        return OFPERR_NX_INVALID_TLV_FIELD;
    }
    if (plen != vlen * (masked ? 2 : 1) || vlen > 16) {
        return OFPERR_BAD_ACT_SET_LEN;
    }
    struct ofpact *a = ofpacts_put(out, OFPACT_SET_FIELD);
    a->field = id;
    a->nx_load2 = 1;
    a->dst_hdr = hdr;
    ofp_rd_bytes(r, a->value, vlen);
    if (masked) {
        ofp_rd_bytes(r, a->set_mask, vlen);
    } else {
        memset(a->set_mask, 0xff, vlen);
    }
    for (size_t i = 0; i < vlen; i++) {
        a->value[i] &= a->set_mask[i];
    }
    for (left -= plen; left; left--) {
        if (ofp_rd_u8(r)) {
            out->n--;
            return OFPERR_BAD_ACT_SET_ARGUMENT;     /* padding not zero */
        }
    }
    if (!load2_writable(id)) {
        out->n--;
        return OFPERR_BAD_ACT_SET_ARGUMENT;
    }
    return 0;
}

/* One field reference of a learn spec: header and bit offset. */
static ofperr
learn_field(struct ofp_rd *r, unsigned n_bits, uint8_t *field, uint32_t *hdr,
            uint16_t *ofs)
{
    unsigned bits;

    *hdr = ofp_rd_be32(r);
    *ofs = ofp_rd_be16(r);
    int id = reg_field(*hdr, &bits);
    if (r->bad) {
        return OFPERR_BAD_ACT_LEN;
    }
    if (id < 0 || *ofs + n_bits > bits) {
        return OFPERR_BAD_ACT_ARGUMENT;
    }
    *field = id;
    return 0;
}

static ofperr
decode_learn(struct ofp_rd *r, size_t len, struct ofpacts *out)
{
    const uint8_t *start = r->p - 10;   /* the action's first byte */
    struct ofp_learn_spec specs[64];
    size_t n = 0;

    if (len < 32) {
        return OFPERR_BAD_ACT_LEN;
    }
    uint16_t idle = ofp_rd_be16(r), hard = ofp_rd_be16(r);
    uint16_t priority = ofp_rd_be16(r);
    uint64_t cookie = ofp_rd_be64(r);
    uint16_t flags = ofp_rd_be16(r);
    uint8_t table_id = ofp_rd_u8(r);
    ofp_rd_pull(r, 1);
    uint16_t fin_idle = ofp_rd_be16(r), fin_hard = ofp_rd_be16(r);
    if (table_id == 255 || flags & ~3u) {
        return OFPERR_BAD_ACT_ARGUMENT;
    }
    struct ofp_rd sr;
    ofp_rd_init(&sr, r->p, len - 32);
    ofp_rd_pull(r, len - 32);
    while (sr.left >= 2) {
        uint16_t h = ofp_rd_be16(&sr);
        if (!h) {
            break;              /* the rest is padding */
        }
        if (n == sizeof specs / sizeof specs[0] || h & 0xc000) {
            return OFPERR_BAD_ACT_ARGUMENT;
        }
        struct ofp_learn_spec *sp = &specs[n++];
        memset(sp, 0, sizeof *sp);
        sp->src_type = h >> 13 & 1;
        sp->dst_type = h >> 11 & 3;
        sp->n_bits = h & 0x7ff;
        if (!sp->n_bits || sp->dst_type > LEARN_DST_OUTPUT
            || (sp->dst_type == LEARN_DST_LOAD && sp->n_bits > 64)
            || (sp->dst_type == LEARN_DST_OUTPUT && sp->n_bits > 32)) {
            return OFPERR_BAD_ACT_ARGUMENT;
        }
        ofperr err = 0;
        if (sp->src_type == LEARN_SRC_IMMEDIATE) {
            sp->value_len = (sp->n_bits + 15) / 16 * 2;
            if (sp->value_len > sizeof sp->value
                || sp->dst_type == LEARN_DST_OUTPUT) {
                return OFPERR_BAD_ACT_ARGUMENT;
            }
            ofp_rd_bytes(&sr, sp->value, sp->value_len);
        } else {
            err = learn_field(&sr, sp->n_bits, &sp->src_field,
                              &sp->src_hdr, &sp->src_ofs);
        }
        if (!err && sp->dst_type != LEARN_DST_OUTPUT) {
            err = learn_field(&sr, sp->n_bits, &sp->dst_field,
                              &sp->dst_hdr, &sp->dst_ofs);
            if (!err && sp->dst_type == LEARN_DST_LOAD
                && !reg_writable(sp->dst_field)) {
                err = OFPERR_BAD_ACT_ARGUMENT;
            }
        }
        if (err || sr.bad) {
            return err ? err : OFPERR_BAD_ACT_LEN;
        }
    }
    for (; sr.left; ) {
        if (ofp_rd_u8(&sr)) {
            return OFPERR_BAD_ACT_ARGUMENT;     /* junk after the end */
        }
    }
    struct ofp_learn *l = malloc(sizeof *l + n * sizeof l->specs[0]);
    uint8_t *raw = malloc(len);
    if (!l || !raw) {
        abort();
    }
    l->idle_timeout = idle;
    l->hard_timeout = hard;
    l->priority = priority;
    l->flags = flags;
    l->fin_idle_timeout = fin_idle;
    l->fin_hard_timeout = fin_hard;
    l->cookie = cookie;
    l->table_id = table_id;
    memcpy(raw, start, len);
    l->raw = raw;
    l->raw_len = len;
    l->n_specs = n;
    memcpy(l->specs, specs, n * sizeof specs[0]);
    ofpacts_put(out, OFPACT_LEARN)->learn = l;
    return 0;
}

static ofperr
decode_nx_action(struct ofp_rd *r, size_t len, struct ofpacts *out)
{
    uint32_t vendor = ofp_rd_be32(r);
    uint16_t subtype = ofp_rd_be16(r);

    if (vendor != NX_VENDOR_ID) {
        return OFPERR_BAD_ACT_EXPERIMENTER;
    }
    switch (subtype) {
    case NXAST_RESUBMIT:
    case NXAST_RESUBMIT_TABLE: {
        if (len != 16) {
            return OFPERR_BAD_ACT_LEN;
        }
        struct ofpact *a = ofpacts_put(out, OFPACT_RESUBMIT);
        a->port = ofp_port_from_16(ofp_rd_be16(r));
        uint8_t table = ofp_rd_u8(r);
        a->table = subtype == NXAST_RESUBMIT ? 255 : table;
        ofp_rd_pull(r, 3);
        return 0;
    }
    case NXAST_DEC_TTL:
        if (len != 16) {
            return OFPERR_BAD_ACT_LEN;
        }
        ofpacts_put(out, OFPACT_DEC_TTL);
        ofp_rd_pull(r, 6);
        return 0;
    case NXAST_FIN_TIMEOUT: {
        if (len != 16) {
            return OFPERR_BAD_ACT_LEN;
        }
        struct ofpact *a = ofpacts_put(out, OFPACT_FIN_TIMEOUT);
        a->n = ofp_rd_be16(r);
        a->ofs = ofp_rd_be16(r);
        ofp_rd_pull(r, 2);
        return 0;
    }
    case NXAST_REG_LOAD:
        return decode_reg_load(r, len, out);
    case NXAST_REG_MOVE:
        return decode_reg_move(r, len, out);
    case NXAST_REG_LOAD2:
        return decode_reg_load2(r, len, out);
    case NXAST_LEARN:
        return decode_learn(r, len, out);
    case NXAST_GROUP: {
        /* OpenFlow 1.0 has no group action; Open vSwitch's stands in. */
        if (len != 16) {
            return OFPERR_BAD_ACT_LEN;
        }
        /* The id sits 32-bit aligned, after two bytes of padding. */
        ofp_rd_pull(r, 2);
        struct ofpact *a = ofpacts_put(out, OFPACT_GROUP);
        a->port = ofp_rd_be32(r);
        return 0;
    }
    default:
        return OFPERR_BAD_ACT_EXP_TYPE;
    }
}

static ofperr
decode_action10(struct ofp_rd *r, uint16_t type, size_t len,
                struct ofpacts *out)
{
    uint8_t v[16] = { 0 };
    struct ofpact *a;

    switch (type) {
    case OFPAT10_OUTPUT:
    case OFPAT10_ENQUEUE:
        if (len != (type == OFPAT10_OUTPUT ? 8u : 16u)) {
            return OFPERR_BAD_ACT_LEN;
        }
        a = ofpacts_put(out, OFPACT_OUTPUT);
        a->port = ofp_port_from_16(ofp_rd_be16(r));
        a->n = type == OFPAT10_OUTPUT ? ofp_rd_be16(r) : 0;
        ofp_rd_pull(r, type == OFPAT10_OUTPUT ? 0 : 10);
        return 0;
    case OFPAT10_SET_VLAN_VID:
    case OFPAT10_SET_VLAN_PCP:
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        a = ofpacts_put(out, type == OFPAT10_SET_VLAN_VID
                             ? OFPACT_SET_VLAN_VID : OFPACT_SET_VLAN_PCP);
        if (type == OFPAT10_SET_VLAN_VID) {
            a->port = ofp_rd_be16(r);
            ofp_rd_pull(r, 2);
            if (a->port > 0xfff) {
                return OFPERR_BAD_ACT_ARGUMENT;
            }
        } else {
            a->port = ofp_rd_u8(r);
            ofp_rd_pull(r, 3);
            if (a->port > 7) {
                return OFPERR_BAD_ACT_ARGUMENT;
            }
        }
        return 0;
    case OFPAT10_STRIP_VLAN:
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        ofpacts_put(out, OFPACT_STRIP_VLAN);
        ofp_rd_pull(r, 4);
        return 0;
    case OFPAT10_SET_DL_SRC:
    case OFPAT10_SET_DL_DST:
        if (len != 16) {
            return OFPERR_BAD_ACT_LEN;
        }
        ofp_rd_bytes(r, v, 6);
        ofp_rd_pull(r, 6);
        put_set_field(out, type == OFPAT10_SET_DL_SRC ? MF_ETH_SRC
                                                      : MF_ETH_DST, v, 6);
        return 0;
    case OFPAT10_SET_NW_SRC:
    case OFPAT10_SET_NW_DST:
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        ofp_rd_bytes(r, v, 4);
        put_set_field(out, type == OFPAT10_SET_NW_SRC ? MF_IPV4_SRC
                                                      : MF_IPV4_DST, v, 4);
        return 0;
    case OFPAT10_SET_NW_TOS:
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        v[0] = ofp_rd_u8(r) >> 2;
        ofp_rd_pull(r, 3);
        put_set_field(out, MF_IP_DSCP, v, 1);
        return 0;
    case OFPAT10_SET_TP_SRC:
    case OFPAT10_SET_TP_DST:
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        ofp_rd_bytes(r, v, 2);
        ofp_rd_pull(r, 2);
        put_set_field(out, type == OFPAT10_SET_TP_SRC ? MF_TCP_SRC
                                                      : MF_TCP_DST, v, 2);
        return 0;
    case OFPAT_VENDOR:
        return decode_nx_action(r, len, out);
    default:
        return OFPERR_BAD_ACT_TYPE;
    }
}

static ofperr
decode_set_field(struct ofp_rd *r, size_t len, struct ofpacts *out)
{
    uint32_t hdr = ofp_rd_be32(r);
    size_t vlen;
    int id = mf_from_header(hdr, false, &vlen);

    if (id < 0) {
        return OFPERR_BAD_ACT_SET_TYPE;
    }
    if ((hdr & 0x100) || (hdr & 0xff) != vlen || 8 + vlen > len) {
        return OFPERR_BAD_ACT_SET_LEN;
    }
    if (id == MF_IN_PORT) {
        return OFPERR_BAD_ACT_SET_TYPE;
    }
    uint8_t v[16] = { 0 };
    ofp_rd_bytes(r, v, vlen);
    ofp_rd_pull(r, len - 8 - vlen);
    struct ofp_fields check;
    memset(&check, 0, sizeof check);
    if (!mf_set(id, false, v, &check)) {
        return OFPERR_BAD_ACT_ARGUMENT;
    }
    put_set_field(out, id, v, vlen);
    out->a[out->n - 1].legacy = 0;      /* a real set-field: checked */
    return 0;
}

static ofperr
decode_action13(struct ofp_rd *r, uint16_t type, size_t len,
                struct ofpacts *out)
{
    struct ofpact *a;

    switch (type) {
    case OFPAT13_OUTPUT:
        if (len != 16) {
            return OFPERR_BAD_ACT_LEN;
        }
        a = ofpacts_put(out, OFPACT_OUTPUT);
        a->port = ofp_rd_be32(r);
        a->n = ofp_rd_be16(r);
        ofp_rd_pull(r, 6);
        return 0;
    case OFPAT13_PUSH_VLAN: {
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        uint16_t tpid = ofp_rd_be16(r);
        ofp_rd_pull(r, 2);
        if (tpid != 0x8100 && tpid != 0x88a8) {
            return OFPERR_BAD_ACT_ARGUMENT;
        }
        a = ofpacts_put(out, OFPACT_PUSH_VLAN);
        a->port = tpid;
        return 0;
    }
    case OFPAT13_POP_VLAN:
    case OFPAT13_DEC_NW_TTL:
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        ofpacts_put(out, type == OFPAT13_POP_VLAN ? OFPACT_POP_VLAN
                                                 : OFPACT_DEC_TTL);
        ofp_rd_pull(r, 4);
        return 0;
    case OFPAT13_GROUP:
        /* Whether the group exists is the switch's check: the codec does
         * not know its group table. */
        if (len != 8) {
            return OFPERR_BAD_ACT_LEN;
        }
        a = ofpacts_put(out, OFPACT_GROUP);
        a->port = ofp_rd_be32(r);
        return 0;
    case OFPAT13_SET_FIELD:
        return decode_set_field(r, len, out);
    case OFPAT_VENDOR:
        return decode_nx_action(r, len, out);
    default:
        return OFPERR_BAD_ACT_TYPE;
    }
}

ofperr
ofpacts_decode_actions(uint8_t version, const uint8_t *p, size_t len,
                       struct ofpacts *out)
{
    struct ofp_rd r;

    /* As Open vSwitch: a list that cannot be whole 8-byte actions is a
     * bad request, before any action is looked at. */
    if (len % 8) {
        return OFPERR_BAD_REQ_LEN;
    }
    ofp_rd_init(&r, p, len);
    while (r.left) {
        if (out->n >= OFPACTS_MAX) {
            return OFPERR_BAD_ACT_TOO_MANY;
        }
        struct ofp_rd hdr = r;
        uint16_t type = ofp_rd_be16(&hdr);
        uint16_t alen = ofp_rd_be16(&hdr);
        if (hdr.bad || alen < 8 || alen % 8 || alen > r.left) {
            return OFPERR_BAD_ACT_LEN;
        }
        struct ofp_rd body;
        ofp_rd_init(&body, r.p + 4, alen - 4u);
        ofp_rd_pull(&r, alen);
        ofperr err = version == OFP10_VERSION
                     ? decode_action10(&body, type, alen, out)
                     : decode_action13(&body, type, alen, out);
        if (err) {
            return err;
        }
        if (body.bad) {
            return OFPERR_BAD_ACT_LEN;
        }
    }
    return 0;
}

ofperr
ofpacts_decode_instructions(const uint8_t *p, size_t len,
                            struct ofpacts *out)
{
    struct ofpacts apply, write;
    bool have[7] = { false };
    bool clear = false;
    uint32_t meter_id = 0;
    uint64_t md = 0, md_mask = 0;
    int goto_table = -1;
    ofperr err = 0;
    struct ofp_rd r;

    ofpacts_init(&apply);
    ofpacts_init(&write);
    if (len % 8) {
        return OFPERR_BAD_REQ_LEN;
    }
    ofp_rd_init(&r, p, len);
    while (r.left && !err) {
        struct ofp_rd hdr = r;
        uint16_t type = ofp_rd_be16(&hdr);
        uint16_t ilen = ofp_rd_be16(&hdr);
        if (hdr.bad || ilen < 8 || ilen % 8 || ilen > r.left) {
            err = OFPERR_BAD_INST_LEN;
            break;
        }
        struct ofp_rd body;
        ofp_rd_init(&body, r.p + 4, ilen - 4u);
        ofp_rd_pull(&r, ilen);
        if (type < 1 || type > OFPIT_METER) {
            err = OFPERR_BAD_INST_UNKNOWN;
            break;
        }
        if (have[type]) {
            err = OFPERR_ONF_DUP_INSTRUCTION;   /* each at most once */
            break;
        }
        have[type] = true;
        switch (type) {
        case OFPIT_GOTO_TABLE:
            if (ilen != 8) {
                err = OFPERR_BAD_INST_LEN;
                break;
            }
            goto_table = ofp_rd_u8(&body);
            break;
        case OFPIT_WRITE_METADATA:
            if (ilen != 24) {
                err = OFPERR_BAD_INST_LEN;
                break;
            }
            ofp_rd_pull(&body, 4);
            md = ofp_rd_be64(&body);
            md_mask = ofp_rd_be64(&body);
            break;
        case OFPIT_WRITE_ACTIONS:
        case OFPIT_APPLY_ACTIONS:
            ofp_rd_pull(&body, 4);
            err = ofpacts_decode_actions(OFP13_VERSION, body.p, body.left,
                                         type == OFPIT_APPLY_ACTIONS
                                         ? &apply : &write);
            break;
        case OFPIT_CLEAR_ACTIONS:
            clear = true;
            break;
        case OFPIT_METER:
            /* Whether the meter exists is the switch's check. */
            if (ilen != 8) {
                err = OFPERR_BAD_INST_LEN;
                break;
            }
            meter_id = ofp_rd_be32(&body);
            break;
        }
    }
    if (!err) {
        if (have[OFPIT_METER]) {
            ofpacts_put(out, OFPACT_METER)->port = meter_id;
        }
        for (size_t i = 0; i < apply.n; i++) {
            *ofpacts_put(out, apply.a[i].type) = apply.a[i];
        }
        if (clear) {
            ofpacts_put(out, OFPACT_CLEAR_ACTIONS);
        }
        if (have[OFPIT_WRITE_ACTIONS]) {
            ofpacts_put(out, OFPACT_WRITE_ACTIONS)->n = write.n;
            for (size_t i = 0; i < write.n; i++) {
                *ofpacts_put(out, write.a[i].type) = write.a[i];
            }
        }
        if (have[OFPIT_WRITE_METADATA]) {
            struct ofpact *a = ofpacts_put(out, OFPACT_WRITE_METADATA);
            a->metadata = md & md_mask;
            a->mask = md_mask;
        }
        if (goto_table >= 0) {
            ofpacts_put(out, OFPACT_GOTO_TABLE)->table = goto_table;
        }
        /* 'out' owns what the actions own now (learn specs). */
        apply.n = write.n = 0;
    }
    ofpacts_uninit(&apply);
    ofpacts_uninit(&write);
    return err;
}

static bool
port_ok(uint32_t port)
{
    /* Any port number up to the maximum, as Open vSwitch: the port may
     * be added later (until then output to it drops). */
    return port < OFPP_MAX
        || port == OFPP_IN_PORT || port == OFPP_TABLE
        || port == OFPP_NORMAL || port == OFPP_FLOOD || port == OFPP_ALL
        || port == OFPP_CONTROLLER || port == OFPP_LOCAL;
}

ofperr
ofpacts_check(const struct ofpacts *l, uint8_t table_id, unsigned n_tables)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct ofpact *a = &l->a[i];
        switch (a->type) {
        case OFPACT_OUTPUT:
            if (!port_ok(a->port)) {
                return OFPERR_BAD_ACT_OUT_PORT;
            }
            break;
        case OFPACT_GOTO_TABLE:
            if (a->table <= table_id || a->table >= n_tables) {
                return OFPERR_BAD_INST_TABLE_ID;
            }
            break;
        case OFPACT_RESUBMIT:
            if (a->table != 255 && a->table >= n_tables) {
                return OFPERR_BAD_ACT_ARGUMENT;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

ofperr
ofpacts_check_prereqs(const struct ofpacts *l, const struct ofp_match *match)
{
    /* The match as the actions leave it: a pushed tag is there for the
     * actions after the push, a popped one is gone. */
    struct ofp_match m = *match;
    const uint16_t cfi = htons(FLOW_VLAN_CFI);

    for (size_t i = 0; i < l->n; i++) {
        const struct ofpact *a = &l->a[i];
        switch (a->type) {
        case OFPACT_SET_FIELD:
            if (a->legacy) {
                break;
            }
            if (!mf_prereqs_ok(a->field, &m)
                || (a->field == MF_VLAN_VID
                    && !(m.v.key.vlan_tci & m.m.key.vlan_tci & cfi))) {
                return OFPERR_BAD_ACT_MATCH_INCONSISTENT;
            }
            break;
        case OFPACT_REG_MOVE:
            if (!mf_prereqs_ok(a->src_field, &m)) {
                return OFPERR_BAD_ACT_MATCH_INCONSISTENT;
            }
            /* fall through */
        case OFPACT_REG_LOAD:
            if (!mf_prereqs_ok(a->field, &m)) {
                return OFPERR_BAD_ACT_MATCH_INCONSISTENT;
            }
            break;
        case OFPACT_PUSH_VLAN:
        case OFPACT_SET_VLAN_VID:
        case OFPACT_SET_VLAN_PCP:
            m.v.key.vlan_tci |= cfi;
            m.m.key.vlan_tci |= cfi;
            break;
        case OFPACT_STRIP_VLAN:
        case OFPACT_POP_VLAN:
            m.v.key.vlan_tci = 0;
            m.m.key.vlan_tci = 0xffff;
            break;
        default:
            break;
        }
    }
    return 0;
}

int
ofpacts_output_to(const struct ofpacts *l, uint32_t port)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->a[i].type == OFPACT_OUTPUT && l->a[i].port == port) {
            return 1;
        }
    }
    return 0;
}

/* ---- encoding ----------------------------------------------------------- */

static void
encode_nx_resubmit(struct ofp_buf *b, const struct ofpact *a)
{
    ofp_buf_be16(b, OFPAT_VENDOR);
    ofp_buf_be16(b, 16);
    ofp_buf_be32(b, NX_VENDOR_ID);
    ofp_buf_be16(b, a->table == 255 ? NXAST_RESUBMIT : NXAST_RESUBMIT_TABLE);
    ofp_buf_be16(b, ofp_port_to_16(a->port));
    ofp_buf_u8(b, a->table);
    ofp_buf_put(b, 3);
}

static void
encode_nx_dec_ttl(struct ofp_buf *b)
{
    ofp_buf_be16(b, OFPAT_VENDOR);
    ofp_buf_be16(b, 16);
    ofp_buf_be32(b, NX_VENDOR_ID);
    ofp_buf_be16(b, NXAST_DEC_TTL);
    ofp_buf_put(b, 6);
}

static void
encode_type_len(struct ofp_buf *b, uint16_t type, uint16_t len)
{
    ofp_buf_be16(b, type);
    ofp_buf_be16(b, len);
}

static void
encode_nx_reg_load(struct ofp_buf *b, uint32_t dst, unsigned ofs,
                   unsigned n, uint64_t value)
{
    encode_type_len(b, OFPAT_VENDOR, 24);
    ofp_buf_be32(b, NX_VENDOR_ID);
    ofp_buf_be16(b, NXAST_REG_LOAD);
    ofp_buf_be16(b, ofs << 6 | (n - 1));
    ofp_buf_be32(b, dst);
    ofp_buf_be64(b, value);
}

static void
encode_nx_reg_move(struct ofp_buf *b, const struct ofpact *a)
{
    encode_type_len(b, OFPAT_VENDOR, 24);
    ofp_buf_be32(b, NX_VENDOR_ID);
    ofp_buf_be16(b, NXAST_REG_MOVE);
    ofp_buf_be16(b, a->n);
    ofp_buf_be16(b, a->src_ofs);
    ofp_buf_be16(b, a->ofs);
    ofp_buf_be32(b, a->src_hdr);
    ofp_buf_be32(b, a->dst_hdr);
}

/* A set-field that OpenFlow 1.0 has no action for, as the NXAST_REG_LOAD
 * that Open vSwitch sends in its place: one per 64 bits of the field,
 * lowest bits first (an IPv6 address takes two). */
static void
encode_set_field_as_load(struct ofp_buf *b, const struct ofpact *a)
{
    uint32_t hdr = mf_nxm_header(a->field);
    size_t len = hdr & 0xff;

    if (!len || len > sizeof a->value) {
        return;
    }
    for (size_t ofs = 0; ofs < len * 8; ofs += 64) {
        size_t n = len * 8 - ofs < 64 ? len * 8 - ofs : 64;
        uint8_t v[8] = { 0 };
        uint64_t x = 0;
        mf_copy_bits(a->value, len, ofs, v, sizeof v, 0, n);
        for (size_t i = 0; i < sizeof v; i++) {
            x = x << 8 | v[i];
        }
        encode_nx_reg_load(b, hdr, ofs, n, x);
    }
}

size_t
ofpact_load2_width(const struct ofpact *a)
{
    return (a->dst_hdr & 0xff) / (a->dst_hdr & 0x100 ? 2 : 1);
}

static void
encode_nx_reg_load2(struct ofp_buf *b, const struct ofpact *a)
{
    size_t start = b->len;
    size_t vlen = ofpact_load2_width(a);

    encode_type_len(b, OFPAT_VENDOR, 0);
    ofp_buf_be32(b, NX_VENDOR_ID);
    ofp_buf_be16(b, NXAST_REG_LOAD2);
    ofp_buf_be32(b, a->dst_hdr);
    ofp_buf_bytes(b, a->value, vlen);
    if (a->dst_hdr & 0x100) {
        ofp_buf_bytes(b, a->set_mask, vlen);
    }
    ofp_buf_pad8(b, start);
    ofp_buf_set_be16(b, start + 2, b->len - start);
}

static void
encode_set_field10(struct ofp_buf *b, const struct ofpact *a)
{
    const uint8_t *v = a->value;

    switch (a->field) {
    case MF_ETH_SRC:
    case MF_ETH_DST:
        encode_type_len(b, a->field == MF_ETH_SRC ? OFPAT10_SET_DL_SRC
                                                  : OFPAT10_SET_DL_DST, 16);
        ofp_buf_bytes(b, v, 6);
        ofp_buf_put(b, 6);
        break;
    case MF_IPV4_SRC:
    case MF_IPV4_DST:
        encode_type_len(b, a->field == MF_IPV4_SRC ? OFPAT10_SET_NW_SRC
                                                   : OFPAT10_SET_NW_DST, 8);
        ofp_buf_bytes(b, v, 4);
        break;
    case MF_IP_DSCP:
        encode_type_len(b, OFPAT10_SET_NW_TOS, 8);
        ofp_buf_u8(b, v[0] << 2);
        ofp_buf_put(b, 3);
        break;
    case MF_TCP_SRC: case MF_UDP_SRC: case MF_SCTP_SRC:
    case MF_TCP_DST: case MF_UDP_DST: case MF_SCTP_DST: {
        bool src = a->field == MF_TCP_SRC || a->field == MF_UDP_SRC
                   || a->field == MF_SCTP_SRC;
        encode_type_len(b, src ? OFPAT10_SET_TP_SRC : OFPAT10_SET_TP_DST, 8);
        ofp_buf_bytes(b, v, 2);
        ofp_buf_put(b, 2);
        break;
    }
    case MF_VLAN_VID:
        encode_type_len(b, OFPAT10_SET_VLAN_VID, 8);
        ofp_buf_be16(b, (v[0] << 8 | v[1]) & 0xfff);
        ofp_buf_put(b, 2);
        break;
    case MF_VLAN_PCP:
        encode_type_len(b, OFPAT10_SET_VLAN_PCP, 8);
        ofp_buf_u8(b, v[0]);
        ofp_buf_put(b, 3);
        break;
    default:
        encode_set_field_as_load(b, a);
        break;
    }
}

static void
encode_set_field13(struct ofp_buf *b, enum mf_id id, const uint8_t *v)
{
    size_t start = b->len;
    uint32_t hdr = mf_oxm_header(id);

    encode_type_len(b, OFPAT13_SET_FIELD, 0);
    ofp_buf_be32(b, hdr);
    ofp_buf_bytes(b, v, hdr & 0xff);
    ofp_buf_pad8(b, start);
    ofp_buf_set_be16(b, start + 2, b->len - start);
}

static void
encode_action(uint8_t version, const struct ofpact *a, struct ofp_buf *b)
{
    bool of10 = version == OFP10_VERSION;
    uint8_t v[16] = { 0 };

    switch (a->type) {
    case OFPACT_OUTPUT:
        if (of10) {
            encode_type_len(b, OFPAT10_OUTPUT, 8);
            ofp_buf_be16(b, ofp_port_to_16(a->port));
            ofp_buf_be16(b, a->n);
        } else {
            encode_type_len(b, OFPAT13_OUTPUT, 16);
            ofp_buf_be32(b, a->port);
            ofp_buf_be16(b, a->n);
            ofp_buf_put(b, 6);
        }
        break;
    case OFPACT_SET_FIELD:
        if (a->nx_load2) {
            encode_nx_reg_load2(b, a);
        } else if (of10) {
            encode_set_field10(b, a);
        } else {
            encode_set_field13(b, a->field, a->value);
        }
        break;
    case OFPACT_SET_VLAN_VID:
    case OFPACT_SET_VLAN_PCP:
        if (of10) {
            bool vid = a->type == OFPACT_SET_VLAN_VID;
            encode_type_len(b, vid ? OFPAT10_SET_VLAN_VID
                                   : OFPAT10_SET_VLAN_PCP, 8);
            if (vid) {
                ofp_buf_be16(b, a->port);
                ofp_buf_put(b, 2);
            } else {
                ofp_buf_u8(b, a->port);
                ofp_buf_put(b, 3);
            }
        } else if (a->type == OFPACT_SET_VLAN_VID) {
            v[0] = (a->port | 0x1000) >> 8;
            v[1] = a->port;
            encode_set_field13(b, MF_VLAN_VID, v);
        } else {
            v[0] = a->port;
            encode_set_field13(b, MF_VLAN_PCP, v);
        }
        break;
    case OFPACT_STRIP_VLAN:
    case OFPACT_POP_VLAN:
        encode_type_len(b, of10 ? OFPAT10_STRIP_VLAN : OFPAT13_POP_VLAN, 8);
        ofp_buf_put(b, 4);
        break;
    case OFPACT_PUSH_VLAN:
        if (!of10) {
            encode_type_len(b, OFPAT13_PUSH_VLAN, 8);
            ofp_buf_be16(b, a->port);
            ofp_buf_put(b, 2);
        }
        break;
    case OFPACT_DEC_TTL:
        if (of10) {
            encode_nx_dec_ttl(b);
        } else {
            encode_type_len(b, OFPAT13_DEC_NW_TTL, 8);
            ofp_buf_put(b, 4);
        }
        break;
    case OFPACT_RESUBMIT:
        encode_nx_resubmit(b, a);
        break;
    case OFPACT_GROUP:
        if (!of10) {
            encode_type_len(b, OFPAT13_GROUP, 8);
            ofp_buf_be32(b, a->port);
        } else {
            encode_type_len(b, OFPAT_VENDOR, 16);
            ofp_buf_be32(b, NX_VENDOR_ID);
            ofp_buf_be16(b, NXAST_GROUP);
            ofp_buf_put(b, 2);
            ofp_buf_be32(b, a->port);
        }
        break;
    case OFPACT_REG_LOAD:
        encode_nx_reg_load(b, a->dst_hdr, a->ofs, a->n, a->metadata);
        break;
    case OFPACT_LEARN:
        ofp_buf_bytes(b, a->learn->raw, a->learn->raw_len);
        break;
    case OFPACT_FIN_TIMEOUT:
        encode_type_len(b, OFPAT_VENDOR, 16);
        ofp_buf_be32(b, NX_VENDOR_ID);
        ofp_buf_be16(b, NXAST_FIN_TIMEOUT);
        ofp_buf_be16(b, a->n);
        ofp_buf_be16(b, a->ofs);
        ofp_buf_put(b, 2);
        break;
    case OFPACT_REG_MOVE:
        encode_nx_reg_move(b, a);
        break;
    case OFPACT_WRITE_METADATA:
        /* OpenFlow 1.0 has no instructions; Open vSwitch says these two
         * with its own actions (the action set has no 1.0 form at all,
         * and neither has the meter). */
        if (of10) {
            encode_type_len(b, OFPAT_VENDOR, 32);
            ofp_buf_be32(b, NX_VENDOR_ID);
            ofp_buf_be16(b, NXAST_WRITE_METADATA);
            ofp_buf_put(b, 6);
            ofp_buf_be64(b, a->metadata);
            ofp_buf_be64(b, a->mask);
        }
        break;
    case OFPACT_GOTO_TABLE:
        if (of10) {
            struct ofpact r = { .type = OFPACT_RESUBMIT,
                                .port = OFPP_IN_PORT, .table = a->table };
            encode_nx_resubmit(b, &r);
        }
        break;
    default:
        break;
    }
}

void
ofpacts_encode_actions(uint8_t version, const struct ofpacts *l,
                       struct ofp_buf *b)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->a[i].type == OFPACT_WRITE_ACTIONS) {
            i += l->a[i].n;     /* no action set in 1.0 */
            continue;
        }
        encode_action(version, &l->a[i], b);
    }
}

static size_t
start_instruction(struct ofp_buf *b, uint16_t type)
{
    size_t start = b->len;
    encode_type_len(b, type, 0);
    ofp_buf_put(b, 4);
    return start;
}

static void
finish_instruction(struct ofp_buf *b, size_t start)
{
    ofp_buf_set_be16(b, start + 2, b->len - start);
}

bool
ofpacts_meter(const struct ofpacts *l, uint32_t *meter_id)
{
    if (l->n && l->a[0].type == OFPACT_METER) {
        *meter_id = l->a[0].port;
        return true;
    }
    return false;
}

void
ofpacts_encode_instructions(const struct ofpacts *l, struct ofp_buf *b)
{
    size_t i = 0, start;
    uint32_t meter_id;

    if (ofpacts_meter(l, &meter_id)) {
        encode_type_len(b, OFPIT_METER, 8);
        ofp_buf_be32(b, meter_id);
        i = 1;
    }
    /* The plain actions that follow are the apply-actions instruction. */
    size_t n_apply = i;
    while (n_apply < l->n && l->a[n_apply].type < OFPACT_CLEAR_ACTIONS) {
        n_apply++;
    }
    if (n_apply > i) {
        start = start_instruction(b, OFPIT_APPLY_ACTIONS);
        for (; i < n_apply; i++) {
            encode_action(OFP13_VERSION, &l->a[i], b);
        }
        finish_instruction(b, start);
    }
    for (; i < l->n; i++) {
        const struct ofpact *a = &l->a[i];
        switch (a->type) {
        case OFPACT_CLEAR_ACTIONS:
            finish_instruction(b, start_instruction(b, OFPIT_CLEAR_ACTIONS));
            break;
        case OFPACT_WRITE_ACTIONS:
            start = start_instruction(b, OFPIT_WRITE_ACTIONS);
            for (size_t j = 0; j < a->n && i + 1 < l->n; j++) {
                encode_action(OFP13_VERSION, &l->a[++i], b);
            }
            finish_instruction(b, start);
            break;
        case OFPACT_WRITE_METADATA:
            start = b->len;
            encode_type_len(b, OFPIT_WRITE_METADATA, 24);
            ofp_buf_put(b, 4);
            ofp_buf_be64(b, a->metadata);
            ofp_buf_be64(b, a->mask);
            break;
        case OFPACT_GOTO_TABLE:
            encode_type_len(b, OFPIT_GOTO_TABLE, 8);
            ofp_buf_u8(b, a->table);
            ofp_buf_put(b, 3);
            break;
        default:
            break;
        }
    }
}
