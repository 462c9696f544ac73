/* OpenFlow framing, version negotiation, message types and errors. */
#include "ofp-msgs.h"

#include <stdlib.h>
#include <string.h>

/* ---- output buffer ------------------------------------------------------ */

void
ofp_buf_init(struct ofp_buf *b)
{
    memset(b, 0, sizeof *b);
}

void
ofp_buf_uninit(struct ofp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void
ofp_buf_clear(struct ofp_buf *b)
{
    b->len = 0;
}

void *
ofp_buf_put(struct ofp_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap - b->len < n) {
            cap *= 2;
        }
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            abort();
        }
        b->data = p;
        b->cap = cap;
    }
    void *p = b->data + b->len;
    memset(p, 0, n);
    b->len += n;
    return p;
}

void
ofp_buf_u8(struct ofp_buf *b, uint8_t v)
{
    *(uint8_t *) ofp_buf_put(b, 1) = v;
}

void
ofp_buf_be16(struct ofp_buf *b, uint16_t v)
{
    uint8_t *p = ofp_buf_put(b, 2);
    p[0] = v >> 8;
    p[1] = v;
}

void
ofp_buf_be32(struct ofp_buf *b, uint32_t v)
{
    ofp_buf_be16(b, v >> 16);
    ofp_buf_be16(b, v);
}

void
ofp_buf_be64(struct ofp_buf *b, uint64_t v)
{
    ofp_buf_be32(b, v >> 32);
    ofp_buf_be32(b, v);
}

void
ofp_buf_duration(struct ofp_buf *b, uint64_t ms)
{
    ofp_buf_be32(b, ms / 1000);
    ofp_buf_be32(b, ms % 1000 * 1000000);
}

void
ofp_buf_bytes(struct ofp_buf *b, const void *p, size_t n)
{
    if (n) {
        memcpy(ofp_buf_put(b, n), p, n);
    }
}

void
ofp_buf_pad8(struct ofp_buf *b, size_t start)
{
    size_t used = (b->len - start) % 8;
    if (used) {
        ofp_buf_put(b, 8 - used);
    }
}

void
ofp_buf_set_be16(struct ofp_buf *b, size_t ofs, uint16_t v)
{
    b->data[ofs] = v >> 8;
    b->data[ofs + 1] = v;
}

/* ---- reader ------------------------------------------------------------- */

void
ofp_rd_init(struct ofp_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->left = len;
    r->bad = false;
}

const uint8_t *
ofp_rd_pull(struct ofp_rd *r, size_t n)
{
    if (r->left < n) {
        r->bad = true;
        r->p += r->left;
        r->left = 0;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint8_t
ofp_rd_u8(struct ofp_rd *r)
{
    const uint8_t *p = ofp_rd_pull(r, 1);
    return p ? p[0] : 0;
}

uint16_t
ofp_rd_be16(struct ofp_rd *r)
{
    const uint8_t *p = ofp_rd_pull(r, 2);
    return p ? (uint16_t) (p[0] << 8 | p[1]) : 0;
}

uint32_t
ofp_rd_be32(struct ofp_rd *r)
{
    uint32_t hi = ofp_rd_be16(r);
    return hi << 16 | ofp_rd_be16(r);
}

uint64_t
ofp_rd_be64(struct ofp_rd *r)
{
    uint64_t hi = ofp_rd_be32(r);
    return hi << 32 | ofp_rd_be32(r);
}

void
ofp_rd_bytes(struct ofp_rd *r, void *dst, size_t n)
{
    const uint8_t *p = ofp_rd_pull(r, n);
    if (p) {
        memcpy(dst, p, n);
    } else {
        memset(dst, 0, n);
    }
}

/* ---- errors ------------------------------------------------------------- */

void
ofp_err_wire(uint8_t version, ofperr err, uint16_t *type, uint16_t *code)
{
    uint16_t t = OFPERR_TYPE(err), c = OFPERR_CODE(err);

    *type = t;
    *code = c;
    if (version != OFP10_VERSION) {
        return;
    }
    switch (t) {
    case 0:
        break;
    case 1:                     /* bad_request: 1.0 has codes 0..8 */
        if (c > 8) {
            *code = 5;
        }
        break;
    case 2:                     /* bad_action: 1.0 has codes 0..8 */
        if (c > 8) {
            *code = 5;
        }
        break;
    case 3:                     /* bad_instruction: no 1.0 instructions */
        *type = 2;
        *code = 0;
        break;
    case 4:                     /* bad_match -> flow_mod_failed/unsupported */
        *type = 3;
        *code = 5;
        break;
    case 5:                     /* flow_mod_failed, renumbered */
        *type = 3;
        *code = c == 1 ? 0 : c == 3 ? 1 : c == 4 ? 2 : c == 6 ? 4 : 5;
        break;
    case 7:                     /* port_mod_failed */
        *type = 4;
        *code = c <= 1 ? c : 0;
        break;
    case 9:                     /* queue_op_failed */
        *type = 5;
        *code = c <= 2 ? c : 0;
        break;
    default:
        *type = 1;
        *code = 5;
        break;
    }
}

bool
ofp_err_nx10(ofperr err, uint16_t *type, uint16_t *code)
{
    static const struct {
        ofperr err;
        uint16_t type, code;
    } map[] = {
        { OFPERR_BAD_ACT_OUT_GROUP, 2, 9 },
        { OFPERR_BAD_MATCH_PREREQ, 1, 260 },
        { OFPERR_BAD_MATCH_DUP_FIELD, 1, 261 },
        { OFPERR_BAD_MATCH_FIELD, 0, 263 },
        { OFPERR_BAD_REQ_TABLE_ID, 1, 512 },
        { OFPERR_BAD_ACT_MATCH_INCONSISTENT, 1, 522 },
        { OFPERR_BAD_ACT_SET_TYPE, 1, 523 },
        { OFPERR_BAD_ACT_SET_LEN, 1, 524 },
        { OFPERR_BAD_ACT_SET_ARGUMENT, 1, 525 },
        { OFPERR_BAD_MATCH_LEN, 1, 521 },
        { OFPERR_NX_INVALID_TLV_FIELD, 1, 536 },
    };

    if (OFPERR_TYPE(err) == 6) {        /* group_mod_failed, every code */
        *type = 6;
        *code = OFPERR_CODE(err);
        return true;
    }
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].err == err) {
            *type = map[i].type;
            *code = map[i].code;
            return true;
        }
    }
    return false;
}

void
ofp_encode_error(struct ofp_buf *b, uint8_t version, uint32_t xid,
                 ofperr err, const void *req, size_t req_len)
{
    uint16_t type, code;
    size_t start = ofp_start(b, version, OFPT_ERROR, xid);

    if (version == OFP10_VERSION && ofp_err_nx10(err, &type, &code)) {
        ofp_buf_be16(b, NXET_VENDOR);
        ofp_buf_be16(b, 0);
        ofp_buf_be32(b, NX_VENDOR_ID);
        ofp_buf_be16(b, type);
        ofp_buf_be16(b, code);
    } else if (OFPERR_TYPE(err) == OFPERR_NX_EXPERIMENTER_TYPE
               || OFPERR_TYPE(err) == OFPERR_ONF_EXPERIMENTER_TYPE) {
        ofp_buf_be16(b, 0xffff);        /* OFPET_EXPERIMENTER */
        ofp_buf_be16(b, OFPERR_CODE(err));
        ofp_buf_be32(b, OFPERR_TYPE(err) == OFPERR_NX_EXPERIMENTER_TYPE
                        ? NX_VENDOR_ID : ONF_VENDOR_ID);
    } else {
        ofp_err_wire(version, err, &type, &code);
        ofp_buf_be16(b, type);
        ofp_buf_be16(b, code);
    }
    /* The whole request, as Open vSwitch sends it (OpenFlow asks for at
     * least 64 bytes), as far as it fits in one message. */
    size_t room = OFP_MSG_MAX - (b->len - start);
    ofp_buf_bytes(b, req, req_len < room ? req_len : room);
    ofp_finish(b, start);
}

/* ---- framing ------------------------------------------------------------ */

int
ofp_frame_len(const void *data, size_t len)
{
    const uint8_t *p = data;

    if (len < OFP_HEADER_LEN) {
        return 0;
    }
    size_t msg_len = (size_t) p[2] << 8 | p[3];
    if (msg_len < OFP_HEADER_LEN) {
        return -1;
    }
    return len >= msg_len ? (int) msg_len : 0;
}

size_t
ofp_start(struct ofp_buf *b, uint8_t version, uint8_t type, uint32_t xid)
{
    size_t start = b->len;
    ofp_buf_u8(b, version);
    ofp_buf_u8(b, type);
    ofp_buf_be16(b, 0);
    ofp_buf_be32(b, xid);
    return start;
}

void
ofp_finish(struct ofp_buf *b, size_t start)
{
    size_t len = b->len - start;
    ofp_buf_set_be16(b, start + 2, len > OFP_MSG_MAX ? OFP_MSG_MAX : len);
}

size_t
ofp_start_stats_reply(struct ofp_buf *b, uint8_t version, uint32_t xid,
                      uint16_t stats_type, uint32_t nx_subtype)
{
    size_t start;

    if (version == OFP10_VERSION) {
        start = ofp_start(b, version, OFPT10_STATS_REPLY, xid);
        ofp_buf_be16(b, stats_type);
        ofp_buf_be16(b, 0);
        if (stats_type == OFPMP_VENDOR) {
            ofp_buf_be32(b, NX_VENDOR_ID);
            ofp_buf_be32(b, nx_subtype);
            ofp_buf_put(b, 4);
        }
    } else {
        start = ofp_start(b, version, OFPT13_MULTIPART_REPLY, xid);
        ofp_buf_be16(b, stats_type);
        ofp_buf_be16(b, 0);
        ofp_buf_put(b, 4);
    }
    return start;
}

void
ofp_stats_set_more(struct ofp_buf *b, size_t start)
{
    ofp_buf_set_be16(b, start + 10, OFPMPF_MORE);
}

void
ofp_stats_reply_append(struct ofp_buf *b, size_t *start,
                       const struct ofp_buf *e, uint8_t version,
                       uint32_t xid, uint16_t stats_type, uint32_t nx_subtype)
{
    if (b->len - *start + e->len > OFP_MSG_MAX) {
        ofp_stats_set_more(b, *start);
        ofp_finish(b, *start);
        *start = ofp_start_stats_reply(b, version, xid, stats_type,
                                       nx_subtype);
    }
    ofp_buf_bytes(b, e->data, e->len);
}

uint8_t
ofp_barrier_reply_type(uint8_t version)
{
    return version == OFP10_VERSION ? OFPT10_BARRIER_REPLY
                                    : OFPT13_BARRIER_REPLY;
}

/* ---- hello -------------------------------------------------------------- */

#define OFPHET_VERSIONBITMAP 1

void
ofp_encode_hello(struct ofp_buf *b, uint8_t version, uint32_t xid,
                 uint32_t bitmap)
{
    size_t start = ofp_start(b, version, OFPT_HELLO, xid);
    ofp_buf_be16(b, OFPHET_VERSIONBITMAP);
    ofp_buf_be16(b, 8);
    ofp_buf_be32(b, bitmap);
    ofp_finish(b, start);
}

static int
highest_bit(uint32_t x)
{
    return x ? 31 - __builtin_clz(x) : -1;
}

int
ofp_negotiate(const struct ofp_msg *hello, uint32_t bitmap)
{
    struct ofp_rd r;
    uint32_t theirs = 0;
    bool have_bitmap = false;

    /* Hello elements are only defined from 1.3 on; older peers send an
     * empty body (or one we must ignore). */
    ofp_rd_init(&r, hello->body, hello->body_len);
    while (hello->version >= OFP13_VERSION && r.left >= 4) {
        uint16_t type = ofp_rd_be16(&r);
        uint16_t len = ofp_rd_be16(&r);
        if (len < 4 || len - 4u > r.left) {
            break;
        }
        const uint8_t *p = ofp_rd_pull(&r, len - 4u);
        if (type == OFPHET_VERSIONBITMAP && len >= 8) {
            /* Only the first word holds versions 0..31. */
            theirs = (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
            have_bitmap = true;
        }
        size_t pad = (8 - len % 8) % 8;
        if (!ofp_rd_pull(&r, pad < r.left ? pad : r.left)) {
            break;
        }
    }
    if (!have_bitmap) {
        /* Every version up to the peer's. */
        unsigned v = hello->version < 31 ? hello->version : 31;
        theirs = (uint32_t) ((2ull << v) - 1);
    }
    return highest_bit(theirs & bitmap);
}

/* ---- decoding ----------------------------------------------------------- */

static const int8_t types10[] = {
    [0] = OFPTYPE_HELLO, [1] = OFPTYPE_ERROR, [2] = OFPTYPE_ECHO_REQUEST,
    [3] = OFPTYPE_ECHO_REPLY, [4] = -1, [5] = OFPTYPE_FEATURES_REQUEST,
    [6] = OFPTYPE_FEATURES_REPLY, [7] = OFPTYPE_GET_CONFIG_REQUEST,
    [8] = OFPTYPE_GET_CONFIG_REPLY, [9] = OFPTYPE_SET_CONFIG,
    [10] = OFPTYPE_PACKET_IN, [11] = OFPTYPE_FLOW_REMOVED,
    [12] = OFPTYPE_PORT_STATUS, [13] = OFPTYPE_PACKET_OUT,
    [14] = OFPTYPE_FLOW_MOD, [15] = OFPTYPE_PORT_MOD, [16] = -1,
    [17] = OFPTYPE_STATS_REPLY, [18] = OFPTYPE_BARRIER_REQUEST,
    [19] = OFPTYPE_BARRIER_REPLY, [20] = OFPTYPE_QUEUE_GET_CONFIG_REQUEST,
};

static const int8_t types13[] = {
    [0] = OFPTYPE_HELLO, [1] = OFPTYPE_ERROR, [2] = OFPTYPE_ECHO_REQUEST,
    [3] = OFPTYPE_ECHO_REPLY, [4] = -1, [5] = OFPTYPE_FEATURES_REQUEST,
    [6] = OFPTYPE_FEATURES_REPLY, [7] = OFPTYPE_GET_CONFIG_REQUEST,
    [8] = OFPTYPE_GET_CONFIG_REPLY, [9] = OFPTYPE_SET_CONFIG,
    [10] = OFPTYPE_PACKET_IN, [11] = OFPTYPE_FLOW_REMOVED,
    [12] = OFPTYPE_PORT_STATUS, [13] = OFPTYPE_PACKET_OUT,
    [14] = OFPTYPE_FLOW_MOD, [15] = OFPTYPE_GROUP_MOD,
    [16] = OFPTYPE_PORT_MOD, [17] = OFPTYPE_TABLE_MOD, [18] = -1,
    [19] = OFPTYPE_STATS_REPLY, [20] = OFPTYPE_BARRIER_REQUEST,
    [21] = OFPTYPE_BARRIER_REPLY, [22] = OFPTYPE_QUEUE_GET_CONFIG_REQUEST,
    [23] = -2, [24] = OFPTYPE_ROLE_REQUEST, [25] = -2,
    [26] = OFPTYPE_GET_ASYNC_REQUEST, [27] = -2, [28] = OFPTYPE_SET_ASYNC,
    [29] = OFPTYPE_METER_MOD,
};

static const int8_t stats_types[] = {
    [OFPMP_DESC] = OFPTYPE_DESC_REQUEST,
    [OFPMP_FLOW] = OFPTYPE_FLOW_STATS_REQUEST,
    [OFPMP_AGGREGATE] = OFPTYPE_AGGREGATE_REQUEST,
    [OFPMP_TABLE] = OFPTYPE_TABLE_STATS_REQUEST,
    [OFPMP_PORT_STATS] = OFPTYPE_PORT_STATS_REQUEST,
    [OFPMP_QUEUE] = OFPTYPE_QUEUE_STATS_REQUEST,
    [OFPMP_GROUP] = OFPTYPE_GROUP_STATS_REQUEST,
    [OFPMP_GROUP_DESC] = OFPTYPE_GROUP_DESC_REQUEST,
    [OFPMP_GROUP_FEATURES] = OFPTYPE_GROUP_FEATURES_REQUEST,
    [OFPMP_METER] = OFPTYPE_METER_STATS_REQUEST,
    [OFPMP_METER_CONFIG] = OFPTYPE_METER_CONFIG_REQUEST,
    [OFPMP_METER_FEATURES] = OFPTYPE_METER_FEATURES_REQUEST,
    [OFPMP_TABLE_FEATURES] = OFPTYPE_TABLE_FEATURES_REQUEST,
    [OFPMP_PORT_DESC] = OFPTYPE_PORT_DESC_REQUEST,
};

/* Vendor messages (type 4): Nicira's header is 16 bytes. */
static ofperr
decode_vendor(struct ofp_msg *m, struct ofp_rd *r)
{
    uint32_t vendor = ofp_rd_be32(r);
    uint32_t subtype = ofp_rd_be32(r);

    if (r->bad) {
        return OFPERR_BAD_REQ_LEN;
    }
    if (vendor != NX_VENDOR_ID) {
        return OFPERR_BAD_REQ_EXPERIMENTER;
    }
    switch (subtype) {
    case NXT_ROLE_REQUEST:
        m->type = OFPTYPE_NXT_ROLE_REQUEST;
        break;
    case NXT_SET_FLOW_FORMAT:
        m->type = OFPTYPE_NXT_SET_FLOW_FORMAT;
        break;
    case NXT_FLOW_MOD:
        m->type = OFPTYPE_NXT_FLOW_MOD;
        break;
    case NXT_FLOW_MOD_TABLE_ID:
        m->type = OFPTYPE_NXT_FLOW_MOD_TABLE_ID;
        break;
    case NXT_SET_PACKET_IN_FORMAT:
        m->type = OFPTYPE_NXT_SET_PACKET_IN_FORMAT;
        break;
    case NXT_SET_CONTROLLER_ID:
        m->type = OFPTYPE_NXT_SET_CONTROLLER_ID;
        break;
    case NXT_GROUP_MOD:
        /* OpenFlow 1.0 only: later versions have their own. */
        if (m->version != OFP10_VERSION) {
            return OFPERR_BAD_REQ_EXP_TYPE;
        }
        m->type = OFPTYPE_GROUP_MOD;
        break;
    default:
        return OFPERR_BAD_REQ_EXP_TYPE;
    }
    return 0;
}

static ofperr
decode_stats_request(struct ofp_msg *m, struct ofp_rd *r)
{
    m->stats_type = ofp_rd_be16(r);
    m->stats_flags = ofp_rd_be16(r);
    if (m->version != OFP10_VERSION) {
        ofp_rd_pull(r, 4);
    }
    if (r->bad) {
        return OFPERR_BAD_REQ_LEN;
    }
    if (m->stats_type == OFPMP_VENDOR) {
        uint32_t vendor = ofp_rd_be32(r);
        uint32_t subtype = ofp_rd_be32(r);
        if (m->version == OFP10_VERSION) {
            ofp_rd_pull(r, 4);
        }
        if (r->bad) {
            return OFPERR_BAD_REQ_LEN;
        }
        if (vendor != NX_VENDOR_ID) {
            return OFPERR_BAD_REQ_EXPERIMENTER;
        }
        m->nx_subtype = subtype;
        bool of10 = m->version == OFP10_VERSION;
        if (subtype == NXST_FLOW) {
            m->type = OFPTYPE_NXST_FLOW_REQUEST;
        } else if (subtype == NXST_AGGREGATE) {
            m->type = OFPTYPE_NXST_AGGREGATE_REQUEST;
        } else if (of10 && subtype == NXST_GROUP) {
            m->type = OFPTYPE_GROUP_STATS_REQUEST;
        } else if (of10 && subtype == NXST_GROUP_DESC) {
            m->type = OFPTYPE_GROUP_DESC_REQUEST;
        } else if (of10 && subtype == NXST_GROUP_FEATURES) {
            m->type = OFPTYPE_GROUP_FEATURES_REQUEST;
        } else {
            return OFPERR_BAD_REQ_EXP_TYPE;
        }
        return 0;
    }
    if (m->stats_type >= sizeof stats_types / sizeof stats_types[0]
        || (m->version == OFP10_VERSION && m->stats_type > OFPMP_QUEUE
            && m->stats_type != OFPMP_PORT_DESC)) {
        return OFPERR_BAD_REQ_MULTIPART;
    }
    m->type = stats_types[m->stats_type];
    return 0;
}

ofperr
ofp_decode(const void *data, size_t len, uint8_t version, struct ofp_msg *m)
{
    struct ofp_rd r;

    memset(m, 0, sizeof *m);
    ofp_rd_init(&r, data, len);
    m->data = data;
    m->version = ofp_rd_u8(&r);
    m->raw_type = ofp_rd_u8(&r);
    m->length = ofp_rd_be16(&r);
    m->xid = ofp_rd_be32(&r);
    if (r.bad || m->length != len) {
        return OFPERR_BAD_REQ_LEN;
    }
    if (!version) {
        /* Before negotiation only a hello is valid, of any version. */
        if (m->raw_type != OFPT_HELLO) {
            return OFPERR_HELLO_INCOMPATIBLE;
        }
        m->type = OFPTYPE_HELLO;
    } else {
        if (m->version != version) {
            return OFPERR_BAD_REQ_VERSION;
        }
        const int8_t *tab = version == OFP10_VERSION ? types10 : types13;
        size_t n = version == OFP10_VERSION
                   ? sizeof types10 : sizeof types13;
        if (m->raw_type >= n || tab[m->raw_type] == -2) {
            return OFPERR_BAD_REQ_TYPE;
        }
        ofperr err = 0;
        if (m->raw_type == OFPT_VENDOR) {
            err = decode_vendor(m, &r);
        } else if ((version == OFP10_VERSION
                    && m->raw_type == OFPT10_STATS_REQUEST)
                   || (version != OFP10_VERSION
                       && m->raw_type == OFPT13_MULTIPART_REQUEST)) {
            err = decode_stats_request(m, &r);
        } else {
            m->type = tab[m->raw_type];
        }
        if (err) {
            return err;
        }
    }
    m->body = r.p;
    m->body_len = r.left;
    return 0;
}
