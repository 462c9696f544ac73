/* OpenFlow framing: the common header, version negotiation with the hello
 * version bitmap, the message types of OpenFlow 1.0 and 1.3 (plus the
 * Nicira extensions that ovs-ofctl sends by default) decoded into one
 * version-independent enum, and error messages with the type and code
 * each version defines.
 *
 * Also holds the two small tools every OpenFlow encoder and decoder here
 * uses: a growable output buffer and a bounds-checked reader.  All wire
 * integers are big-endian; the helpers convert. */
#ifndef HVS_OFP_MSGS_H
#define HVS_OFP_MSGS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFP10_VERSION 0x01
#define OFP13_VERSION 0x04
#define OFP_HEADER_LEN 8
#define OFP_MSG_MAX 65535
#define NX_VENDOR_ID 0x00002320
/* The versions we speak, as a hello version bitmap. */
#define OFP_SUPPORTED_BITMAP ((1u << OFP10_VERSION) | (1u << OFP13_VERSION))

/* ---- output buffer ------------------------------------------------------ */

/* Owned by whoever initialised it; free with ofp_buf_uninit().  Pointers
 * into 'data' are invalidated by every append, so encoders remember
 * offsets. */
struct ofp_buf {
    uint8_t *data;
    size_t len, cap;
};

void ofp_buf_init(struct ofp_buf *);
void ofp_buf_uninit(struct ofp_buf *);
void ofp_buf_clear(struct ofp_buf *);
/* Appends 'n' zero bytes and returns them (aborts if memory runs out: a
 * switch that cannot build a reply has nothing sensible left to do). */
void *ofp_buf_put(struct ofp_buf *, size_t n);
void ofp_buf_u8(struct ofp_buf *, uint8_t);
void ofp_buf_be16(struct ofp_buf *, uint16_t);
void ofp_buf_be32(struct ofp_buf *, uint32_t);
void ofp_buf_be64(struct ofp_buf *, uint64_t);
/* An OpenFlow duration of 'ms' milliseconds: seconds, then the rest in
 * nanoseconds, both 32 bits (flow, group and meter statistics). */
void ofp_buf_duration(struct ofp_buf *, uint64_t ms);
void ofp_buf_bytes(struct ofp_buf *, const void *, size_t);
/* Zero-pads so that the bytes since offset 'start' are a multiple of 8. */
void ofp_buf_pad8(struct ofp_buf *, size_t start);
void ofp_buf_set_be16(struct ofp_buf *, size_t ofs, uint16_t);

/* ---- bounds-checked reader ---------------------------------------------- */

/* Reading past the end yields zeros and sets 'bad'; decoders check 'bad'
 * once at the end instead of after every field. */
struct ofp_rd {
    const uint8_t *p;
    size_t left;
    bool bad;
};

void ofp_rd_init(struct ofp_rd *, const void *, size_t);
uint8_t ofp_rd_u8(struct ofp_rd *);
uint16_t ofp_rd_be16(struct ofp_rd *);
uint32_t ofp_rd_be32(struct ofp_rd *);
uint64_t ofp_rd_be64(struct ofp_rd *);
/* Returns the next 'n' bytes and skips them, or NULL (and sets 'bad'). */
const uint8_t *ofp_rd_pull(struct ofp_rd *, size_t n);
void ofp_rd_bytes(struct ofp_rd *, void *, size_t n);

/* ---- errors ------------------------------------------------------------- */

/* An OpenFlow error as OpenFlow 1.3 numbers it (type << 16 | code), 0 for
 * none.  ofp_err_wire() gives the numbers of another version. */
typedef uint32_t ofperr;
#define OFPERR(TYPE, CODE) ((ofperr) ((TYPE) << 16 | (CODE)) | 0x80000000u)
#define OFPERR_TYPE(E) (((E) >> 16) & 0x7fff)
#define OFPERR_CODE(E) ((E) & 0xffff)

#define OFPERR_HELLO_INCOMPATIBLE      OFPERR(0, 0)
#define OFPERR_BAD_REQ_VERSION         OFPERR(1, 0)
#define OFPERR_BAD_REQ_TYPE            OFPERR(1, 1)
#define OFPERR_BAD_REQ_MULTIPART       OFPERR(1, 2)
#define OFPERR_BAD_REQ_EXPERIMENTER    OFPERR(1, 3)
#define OFPERR_BAD_REQ_EXP_TYPE        OFPERR(1, 4)
#define OFPERR_BAD_REQ_EPERM           OFPERR(1, 5)
#define OFPERR_BAD_REQ_LEN             OFPERR(1, 6)
#define OFPERR_BAD_REQ_BUFFER_UNKNOWN  OFPERR(1, 8)
#define OFPERR_BAD_REQ_TABLE_ID        OFPERR(1, 9)
#define OFPERR_BAD_REQ_IS_SLAVE        OFPERR(1, 10)
#define OFPERR_BAD_REQ_PORT            OFPERR(1, 11)
#define OFPERR_BAD_ACT_TYPE            OFPERR(2, 0)
#define OFPERR_BAD_ACT_LEN             OFPERR(2, 1)
#define OFPERR_BAD_ACT_EXPERIMENTER    OFPERR(2, 2)
#define OFPERR_BAD_ACT_EXP_TYPE        OFPERR(2, 3)
#define OFPERR_BAD_ACT_OUT_PORT        OFPERR(2, 4)
#define OFPERR_BAD_ACT_ARGUMENT        OFPERR(2, 5)
#define OFPERR_BAD_ACT_TOO_MANY        OFPERR(2, 7)
#define OFPERR_BAD_ACT_OUT_GROUP       OFPERR(2, 9)
#define OFPERR_BAD_ACT_MATCH_INCONSISTENT OFPERR(2, 10)
#define OFPERR_BAD_ACT_SET_TYPE        OFPERR(2, 13)
#define OFPERR_BAD_ACT_SET_LEN         OFPERR(2, 14)
#define OFPERR_BAD_ACT_SET_ARGUMENT    OFPERR(2, 15)
#define OFPERR_BAD_INST_UNKNOWN        OFPERR(3, 0)
#define OFPERR_BAD_INST_UNSUP          OFPERR(3, 1)
#define OFPERR_BAD_INST_TABLE_ID       OFPERR(3, 2)
#define OFPERR_BAD_INST_LEN            OFPERR(3, 7)
#define OFPERR_BAD_MATCH_TYPE          OFPERR(4, 0)
#define OFPERR_BAD_MATCH_LEN           OFPERR(4, 1)
#define OFPERR_BAD_MATCH_FIELD         OFPERR(4, 6)
#define OFPERR_BAD_MATCH_VALUE         OFPERR(4, 7)
#define OFPERR_BAD_MATCH_MASK          OFPERR(4, 8)
#define OFPERR_BAD_MATCH_PREREQ        OFPERR(4, 9)
#define OFPERR_BAD_MATCH_DUP_FIELD     OFPERR(4, 10)
#define OFPERR_FLOW_MOD_UNKNOWN        OFPERR(5, 0)
#define OFPERR_FLOW_MOD_TABLE_FULL     OFPERR(5, 1)
#define OFPERR_FLOW_MOD_BAD_TABLE_ID   OFPERR(5, 2)
#define OFPERR_FLOW_MOD_OVERLAP        OFPERR(5, 3)
#define OFPERR_FLOW_MOD_BAD_COMMAND    OFPERR(5, 6)
#define OFPERR_FLOW_MOD_BAD_FLAGS      OFPERR(5, 7)
#define OFPERR_GROUP_EXISTS            OFPERR(6, 0)
#define OFPERR_GROUP_INVALID           OFPERR(6, 1)
#define OFPERR_GROUP_OUT_OF_GROUPS     OFPERR(6, 3)
#define OFPERR_GROUP_OUT_OF_BUCKETS    OFPERR(6, 4)
#define OFPERR_GROUP_WATCH_UNSUPPORTED OFPERR(6, 6)
#define OFPERR_GROUP_UNKNOWN           OFPERR(6, 8)
#define OFPERR_GROUP_BAD_TYPE          OFPERR(6, 10)
#define OFPERR_GROUP_BAD_COMMAND       OFPERR(6, 11)
#define OFPERR_GROUP_BAD_BUCKET        OFPERR(6, 12)
#define OFPERR_GROUP_BAD_WATCH         OFPERR(6, 13)
#define OFPERR_GROUP_UNKNOWN_BUCKET    OFPERR(6, 15)
#define OFPERR_GROUP_BUCKET_EXISTS     OFPERR(6, 16)
#define OFPERR_PORT_MOD_BAD_PORT       OFPERR(7, 0)
#define OFPERR_PORT_MOD_BAD_HW_ADDR    OFPERR(7, 1)
#define OFPERR_PORT_MOD_BAD_CONFIG     OFPERR(7, 2)
#define OFPERR_QUEUE_OP_BAD_PORT       OFPERR(9, 0)
#define OFPERR_SWITCH_CONFIG_BAD_FLAGS OFPERR(10, 0)
#define OFPERR_METER_UNKNOWN           OFPERR(12, 0)
#define OFPERR_METER_EXISTS            OFPERR(12, 1)
#define OFPERR_METER_INVALID           OFPERR(12, 2)
#define OFPERR_METER_UNKNOWN_METER     OFPERR(12, 3)
#define OFPERR_METER_BAD_COMMAND       OFPERR(12, 4)
#define OFPERR_METER_BAD_FLAGS         OFPERR(12, 5)
#define OFPERR_METER_BAD_RATE          OFPERR(12, 6)
#define OFPERR_METER_BAD_BURST         OFPERR(12, 7)
#define OFPERR_METER_BAD_BAND          OFPERR(12, 8)
#define OFPERR_METER_BAD_BAND_VALUE    OFPERR(12, 9)
#define OFPERR_METER_OUT_OF_METERS     OFPERR(12, 10)
#define OFPERR_METER_OUT_OF_BANDS      OFPERR(12, 11)
/* Open vSwitch's own errors, which OpenFlow 1.3 carries as experimenter
 * errors (type 0xffff, this exp_type, experimenter NX_VENDOR_ID) and 1.0
 * as Nicira vendor errors (ofp_err_nx10()). */
#define OFPERR_NX_EXPERIMENTER_TYPE    0x7fff
#define OFPERR_NX_INVALID_TLV_FIELD    OFPERR(OFPERR_NX_EXPERIMENTER_TYPE, 37)
/* The same for the ONF's extension errors (experimenter ONF_VENDOR_ID),
 * which Open vSwitch uses for what OpenFlow 1.3 forgot to number. */
#define ONF_VENDOR_ID 0x4f4e4600
#define OFPERR_ONF_EXPERIMENTER_TYPE   0x7ffe
#define OFPERR_ONF_DUP_INSTRUCTION \
    OFPERR(OFPERR_ONF_EXPERIMENTER_TYPE, 2600)

/* The type and code 'err' has in 'version'.  OpenFlow 1.0 lacks the
 * match and instruction error types; those map to the nearest 1.0 error
 * (flow_mod_failed/unsupported, bad_action/bad_type). */
void ofp_err_wire(uint8_t version, ofperr err, uint16_t *type,
                  uint16_t *code);
/* Whether OpenFlow 1.0 carries 'err' as a Nicira vendor error (error
 * type 0xb0c2, code 0, then vendor 0x2320 and this type and code), as
 * Open vSwitch does for the errors 1.0 has no number for: group-mod
 * failures, bad group, unmet prerequisites, ...  Sets *type and
 * *code. */
bool ofp_err_nx10(ofperr err, uint16_t *type, uint16_t *code);
#define NXET_VENDOR 0xb0c2
/* Appends an OFPT_ERROR carrying 'req' (as much as fits). */
void ofp_encode_error(struct ofp_buf *, uint8_t version, uint32_t xid,
                      ofperr err, const void *req, size_t req_len);

/* ---- message types ------------------------------------------------------ */

/* OpenFlow 1.0 "Nicira" group messages (NXT_GROUP_MOD, NXST_GROUP*) decode
 * to the same types as OpenFlow 1.3's; m->version tells them apart. */

enum ofptype {
    OFPTYPE_HELLO,
    OFPTYPE_ERROR,
    OFPTYPE_ECHO_REQUEST,
    OFPTYPE_ECHO_REPLY,
    OFPTYPE_FEATURES_REQUEST,
    OFPTYPE_FEATURES_REPLY,
    OFPTYPE_GET_CONFIG_REQUEST,
    OFPTYPE_GET_CONFIG_REPLY,
    OFPTYPE_SET_CONFIG,
    OFPTYPE_PACKET_IN,
    OFPTYPE_FLOW_REMOVED,
    OFPTYPE_PORT_STATUS,
    OFPTYPE_PACKET_OUT,
    OFPTYPE_FLOW_MOD,
    OFPTYPE_GROUP_MOD,
    OFPTYPE_PORT_MOD,
    OFPTYPE_TABLE_MOD,
    OFPTYPE_BARRIER_REQUEST,
    OFPTYPE_BARRIER_REPLY,
    OFPTYPE_ROLE_REQUEST,
    OFPTYPE_GET_ASYNC_REQUEST,
    OFPTYPE_SET_ASYNC,
    OFPTYPE_METER_MOD,
    OFPTYPE_QUEUE_GET_CONFIG_REQUEST,
    /* Multipart (1.3) / stats (1.0) requests. */
    OFPTYPE_DESC_REQUEST,
    OFPTYPE_FLOW_STATS_REQUEST,
    OFPTYPE_AGGREGATE_REQUEST,
    OFPTYPE_TABLE_STATS_REQUEST,
    OFPTYPE_PORT_STATS_REQUEST,
    OFPTYPE_QUEUE_STATS_REQUEST,
    OFPTYPE_GROUP_STATS_REQUEST,
    OFPTYPE_GROUP_DESC_REQUEST,
    OFPTYPE_GROUP_FEATURES_REQUEST,
    OFPTYPE_METER_STATS_REQUEST,
    OFPTYPE_METER_CONFIG_REQUEST,
    OFPTYPE_METER_FEATURES_REQUEST,
    OFPTYPE_TABLE_FEATURES_REQUEST,
    OFPTYPE_PORT_DESC_REQUEST,
    OFPTYPE_STATS_REPLY,        /* any multipart/stats reply */
    /* Nicira extensions (vendor/experimenter 0x2320). */
    OFPTYPE_NXT_ROLE_REQUEST,
    OFPTYPE_NXT_SET_FLOW_FORMAT,
    OFPTYPE_NXT_FLOW_MOD,
    OFPTYPE_NXT_FLOW_MOD_TABLE_ID,
    OFPTYPE_NXT_SET_PACKET_IN_FORMAT,
    OFPTYPE_NXT_SET_CONTROLLER_ID,
    OFPTYPE_NXST_FLOW_REQUEST,
    OFPTYPE_NXST_AGGREGATE_REQUEST,
};

/* Wire numbers used by encoders. */
enum {
    OFPT_HELLO = 0, OFPT_ERROR = 1, OFPT_ECHO_REQUEST = 2,
    OFPT_ECHO_REPLY = 3, OFPT_VENDOR = 4, OFPT_FEATURES_REQUEST = 5,
    OFPT_FEATURES_REPLY = 6, OFPT_GET_CONFIG_REQUEST = 7,
    OFPT_GET_CONFIG_REPLY = 8, OFPT_SET_CONFIG = 9, OFPT_PACKET_IN = 10,
    OFPT_FLOW_REMOVED = 11, OFPT_PORT_STATUS = 12, OFPT_PACKET_OUT = 13,
    OFPT_FLOW_MOD = 14,
    OFPT10_PORT_MOD = 15, OFPT10_STATS_REQUEST = 16,
    OFPT10_STATS_REPLY = 17, OFPT10_BARRIER_REQUEST = 18,
    OFPT10_BARRIER_REPLY = 19,
    OFPT13_GROUP_MOD = 15, OFPT13_PORT_MOD = 16, OFPT13_TABLE_MOD = 17,
    OFPT13_MULTIPART_REQUEST = 18, OFPT13_MULTIPART_REPLY = 19,
    OFPT13_BARRIER_REQUEST = 20, OFPT13_BARRIER_REPLY = 21,
    OFPT13_ROLE_REQUEST = 24, OFPT13_ROLE_REPLY = 25,
};

/* Multipart / stats types. */
enum {
    OFPMP_DESC = 0, OFPMP_FLOW = 1, OFPMP_AGGREGATE = 2, OFPMP_TABLE = 3,
    OFPMP_PORT_STATS = 4, OFPMP_QUEUE = 5, OFPMP_GROUP = 6,
    OFPMP_GROUP_DESC = 7, OFPMP_GROUP_FEATURES = 8, OFPMP_METER = 9,
    OFPMP_METER_CONFIG = 10, OFPMP_METER_FEATURES = 11,
    OFPMP_TABLE_FEATURES = 12, OFPMP_PORT_DESC = 13,
    OFPMP_VENDOR = 0xffff,
};
#define OFPMPF_MORE 1

enum { NXST_FLOW = 0, NXST_AGGREGATE = 1, NXST_GROUP = 7,
       NXST_GROUP_DESC = 8, NXST_GROUP_FEATURES = 9 };
enum {
    NXT_ROLE_REQUEST = 10, NXT_SET_FLOW_FORMAT = 12, NXT_FLOW_MOD = 13,
    NXT_FLOW_REMOVED = 14,
    NXT_FLOW_MOD_TABLE_ID = 15, NXT_SET_PACKET_IN_FORMAT = 16,
    NXT_PACKET_IN = 17, NXT_SET_CONTROLLER_ID = 20, NXT_GROUP_MOD = 31,
};
/* OpenFlow 1.0 queue-get-config (1.3 numbers them 22 and 23). */
enum { OFPT10_QUEUE_GET_CONFIG_REPLY = 21,
       OFPT13_QUEUE_GET_CONFIG_REPLY = 23 };

/* A decoded message: points into the caller's bytes. */
struct ofp_msg {
    uint8_t version;
    uint8_t raw_type;           /* as on the wire */
    uint16_t length;
    uint32_t xid;
    enum ofptype type;
    uint16_t stats_type;        /* multipart requests/replies */
    uint16_t stats_flags;
    uint32_t nx_subtype;        /* Nicira stats requests (stats_type
                                 * OFPMP_VENDOR) */
    const uint8_t *data;        /* the whole message */
    const uint8_t *body;        /* after the header, the stats header or
                                 * the vendor header */
    size_t body_len;
};

/* If 'len' bytes at 'data' hold a whole message, returns its length; 0 if
 * more bytes are needed; -1 if the header is impossible (length < 8). */
int ofp_frame_len(const void *data, size_t len);

/* Decodes the header of the complete message at 'data' ('len' bytes, as
 * ofp_frame_len() found) for a connection that negotiated 'version' (0
 * before negotiation: only hello is accepted then, and any version's
 * hello).  Returns 0 or the error to send back. */
ofperr ofp_decode(const void *data, size_t len, uint8_t version,
                  struct ofp_msg *);

/* Appends a hello for 'version' with a version bitmap element. */
void ofp_encode_hello(struct ofp_buf *, uint8_t version, uint32_t xid,
                      uint32_t bitmap);
/* The version to speak with a peer whose hello is 'hello' (any version,
 * as ofp_decode() accepts before negotiation), given our 'bitmap';
 * -1 if there is none in common. */
int ofp_negotiate(const struct ofp_msg *hello, uint32_t bitmap);

/* Starts a message: appends a header (length filled in by ofp_finish())
 * and returns its offset. */
size_t ofp_start(struct ofp_buf *, uint8_t version, uint8_t type,
                 uint32_t xid);
void ofp_finish(struct ofp_buf *, size_t start);
/* Starts a stats/multipart reply of 'stats_type' (for 1.0 with a Nicira
 * 'nx_subtype' when stats_type is OFPMP_VENDOR). */
size_t ofp_start_stats_reply(struct ofp_buf *, uint8_t version,
                             uint32_t xid, uint16_t stats_type,
                             uint32_t nx_subtype);
/* Marks the stats reply at 'start' as followed by more parts. */
void ofp_stats_set_more(struct ofp_buf *, size_t start);
/* Appends multipart entry 'e' to the stats reply at '*start' in 'b'.  An
 * entry that would not fit first closes that reply, marked as followed by
 * more, and opens another with the same 'version', 'xid', 'stats_type'
 * and 'nx_subtype', whose offset goes to '*start'. */
void ofp_stats_reply_append(struct ofp_buf *b, size_t *start,
                            const struct ofp_buf *e, uint8_t version,
                            uint32_t xid, uint16_t stats_type,
                            uint32_t nx_subtype);
/* The OpenFlow barrier reply type for 'version'. */
uint8_t ofp_barrier_reply_type(uint8_t version);

#endif /* HVS_OFP_MSGS_H */
