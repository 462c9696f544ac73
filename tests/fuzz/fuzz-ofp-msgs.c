/* Fuzzes the OpenFlow decoders of lib/ofp-msgs.c, lib/ofp-match.c,
 * lib/ofp-actions.c, lib/ofp-group.c and lib/ofp-meter.c with arbitrary
 * bytes.
 *
 * The first byte picks the negotiated version (0: none yet, odd: 1.0,
 * even: 1.3); the rest is a stream of messages, framed as a connection
 * would.  Each message is decoded; flow-mods go on through their match
 * and actions, group-mods (1.3's, and Nicira's over 1.0) through their
 * buckets, meter-mods and meter requests through lib/ofp-meter.c.  A
 * 1.3 match that
 * decodes must survive an encode/decode round trip unchanged, encoded
 * actions must decode again, and so must a group's buckets and a
 * meter-mod's bands. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ofp-actions.h"
#include "ofp-group.h"
#include "ofp-match.h"
#include "ofp-meter.h"
#include "ofp-msgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_oxm_round_trip(const struct ofp_match *m)
{
    struct ofp_buf b;
    struct ofp_rd r;
    struct ofp_match again;

    ofp_buf_init(&b);
    ofp_match_encode_oxm(&b, m);
    ofp_rd_init(&r, b.data, b.len);
    if (ofp_match_decode_oxm(&r, &again) || r.left
        || !ofp_match_equal(m, &again)) {
        abort();
    }
    ofp_buf_uninit(&b);
}

static void
check_actions_round_trip(uint8_t version, const struct ofpacts *acts)
{
    struct ofp_buf b;
    struct ofpacts again;

    ofp_buf_init(&b);
    ofpacts_init(&again);
    if (version == OFP10_VERSION) {
        ofpacts_encode_actions(version, acts, &b);
        if (ofpacts_decode_actions(version, b.data, b.len, &again)) {
            abort();
        }
    } else {
        ofpacts_encode_instructions(acts, &b);
        if (ofpacts_decode_instructions(b.data, b.len, &again)
            || again.n != acts->n) {
            abort();
        }
    }
    ofpacts_uninit(&again);
    ofp_buf_uninit(&b);
}

static void
flow_mod(const struct ofp_msg *m)
{
    struct ofp_match match;
    struct ofpacts acts;
    struct ofp_rd r;

    ofpacts_init(&acts);
    ofp_rd_init(&r, m->body, m->body_len);
    if (m->version == OFP10_VERSION) {
        const uint8_t *w = ofp_rd_pull(&r, OFP10_MATCH_LEN);
        if (w && !ofp_match_decode_of10(w, &match)
            && ofp_rd_pull(&r, 24)
            && !ofpacts_decode_actions(OFP10_VERSION, r.p, r.left, &acts)) {
            check_actions_round_trip(OFP10_VERSION, &acts);
        }
    } else if (ofp_rd_pull(&r, 40)
               && !ofp_match_decode_oxm(&r, &match)) {
        check_oxm_round_trip(&match);
        if (!ofpacts_decode_instructions(r.p, r.left, &acts)) {
            ofpacts_check(&acts, 0, 254);
            ofpacts_check_prereqs(&acts, &match);
            check_actions_round_trip(OFP13_VERSION, &acts);
        }
    }
    ofpacts_uninit(&acts);
}

static void
nx_flow_mod(const struct ofp_msg *m)
{
    struct ofp_match match;
    struct ofpacts acts;
    struct ofp_rd r;
    uint64_t cookie, mask;

    ofpacts_init(&acts);
    ofp_rd_init(&r, m->body, m->body_len);
    if (!ofp_rd_pull(&r, 20)) {
        return;
    }
    uint16_t len = ofp_rd_be16(&r);
    ofp_rd_pull(&r, 6);
    const uint8_t *p = ofp_rd_pull(&r, (len + 7u) / 8 * 8);
    if (p && !ofp_match_decode_nxm(p, len, &match, &cookie, &mask)) {
        struct ofp_buf b;
        ofp_buf_init(&b);
        ofp_match_encode_nxm(&b, &match);
        ofp_buf_uninit(&b);
        if (!ofpacts_decode_actions(OFP10_VERSION, r.p, r.left, &acts)) {
            ofpacts_check_prereqs(&acts, &match);
            check_actions_round_trip(OFP10_VERSION, &acts);
        }
    }
    ofpacts_uninit(&acts);
}

/* A group-desc entry has the layout of a group-mod body but for its
 * first field (length instead of command): the buckets a switch lists
 * must decode as the ones it was given. */
static void
group_mod(const struct ofp_msg *m)
{
    struct ofp_group_mod gm, again;
    struct ofp_buf b;
    bool nx = m->version == OFP10_VERSION;
    ofperr (*decode)(const uint8_t *, size_t, struct ofp_group_mod *)
        = nx ? ofp_group_mod_decode_nx : ofp_group_mod_decode;

    if (decode(m->body, m->body_len, &gm)) {
        return;
    }
    ofp_buf_init(&b);
    if (nx) {
        ofp_group_desc_encode_nx(&b, gm.type, gm.group_id, gm.buckets,
                                 gm.n_buckets);
    } else {
        ofp_group_desc_encode(&b, gm.type, gm.group_id, gm.buckets,
                              gm.n_buckets);
    }
    b.data[0] = gm.command >> 8;
    b.data[1] = gm.command;
    if (decode(b.data, b.len, &again)
        || again.n_buckets != gm.n_buckets || again.type != gm.type
        || again.group_id != gm.group_id) {
        abort();
    }
    for (size_t i = 0; i < gm.n_buckets; i++) {
        if (again.buckets[i].acts.n != gm.buckets[i].acts.n
            || again.buckets[i].weight != gm.buckets[i].weight
            || again.buckets[i].bucket_id != gm.buckets[i].bucket_id
            || again.buckets[i].watch_port != gm.buckets[i].watch_port
            || again.buckets[i].watch_group != gm.buckets[i].watch_group) {
            abort();
        }
    }
    ofp_group_mod_uninit(&again);
    ofp_group_mod_uninit(&gm);
    ofp_buf_uninit(&b);
}

/* A meter-mod that decodes encodes to one that decodes the same. */
static void
meter_mod(const struct ofp_msg *m)
{
    struct ofp_meter_mod mm, again;
    struct ofp_buf b;

    if (ofp_meter_mod_decode(m->body, m->body_len, &mm)
        || mm.n_bands > OFP_METER_MAX_BANDS) {
        return;
    }
    ofp_buf_init(&b);
    ofp_meter_mod_encode(&b, &mm);
    if (ofp_meter_mod_decode(b.data, b.len, &again)
        || memcmp(&mm, &again, sizeof mm)) {
        abort();
    }
    ofp_buf_uninit(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    uint8_t version = !data[0] ? 0 : data[0] & 1 ? OFP10_VERSION
                                                 : OFP13_VERSION;
    data++;
    size--;
    while (size) {
        int len = ofp_frame_len(data, size);
        if (len <= 0) {
            break;
        }
        struct ofp_msg m;
        ofperr err = ofp_decode(data, len, version, &m);
        if (err) {
            uint16_t type, code;
            ofp_err_wire(version ? version : OFP13_VERSION, err, &type,
                         &code);
            struct ofp_buf b;
            ofp_buf_init(&b);
            ofp_encode_error(&b, version ? version : OFP13_VERSION, 1, err,
                             data, len);
            /* Header, type and code, Nicira's vendor error part in 1.0,
             * and at most the request. */
            if (b.len > 8 + 4 + 8 + (size_t) len) {
                abort();
            }
            ofp_buf_uninit(&b);
        } else if (m.type == OFPTYPE_HELLO) {
            ofp_negotiate(&m, OFP_SUPPORTED_BITMAP);
        } else if (m.type == OFPTYPE_FLOW_MOD) {
            flow_mod(&m);
        } else if (m.type == OFPTYPE_NXT_FLOW_MOD) {
            nx_flow_mod(&m);
        } else if (m.type == OFPTYPE_GROUP_MOD) {
            group_mod(&m);
        } else if (m.type == OFPTYPE_METER_MOD) {
            meter_mod(&m);
        } else if (m.type == OFPTYPE_METER_STATS_REQUEST
                   || m.type == OFPTYPE_METER_CONFIG_REQUEST) {
            uint32_t id;
            ofp_meter_request_decode(m.body, m.body_len, &id);
        }
        data += len;
        size -= len;
    }
    return 0;
}
