/* OpenFlow 1.3 meters on the wire (see ofp-meter.h). */
#include "ofp-meter.h"

#include <string.h>

#define METER_MOD_LEN 8         /* command, flags, meter_id */
#define BAND_LEN 16             /* every band type OpenFlow 1.3 has */

ofperr
ofp_meter_mod_decode(const uint8_t *body, size_t len,
                     struct ofp_meter_mod *mm)
{
    struct ofp_rd r;

    memset(mm, 0, sizeof *mm);
    /* The message is a fixed part and whole 8-byte units, whatever the
     * command: anything else is a bad length before it is looked at. */
    if (len < METER_MOD_LEN || (len - METER_MOD_LEN) % 8) {
        return OFPERR_BAD_REQ_LEN;
    }
    ofp_rd_init(&r, body, len);
    mm->command = ofp_rd_be16(&r);
    uint16_t flags = ofp_rd_be16(&r);
    mm->meter_id = ofp_rd_be32(&r);
    if (mm->command != OFPMC_ADD && mm->command != OFPMC_MODIFY
        && mm->command != OFPMC_DELETE) {
        return OFPERR_METER_BAD_COMMAND;
    }
    if (mm->command == OFPMC_DELETE) {
        return 0;               /* flags and bands mean nothing */
    }
    mm->flags = flags;
    if ((flags & OFPMF_KBPS) && (flags & OFPMF_PKTPS)) {
        return OFPERR_METER_BAD_FLAGS;
    }
    while (r.left >= BAND_LEN) {
        struct ofp_rd b = r;
        uint16_t type = ofp_rd_be16(&b);
        uint16_t blen = ofp_rd_be16(&b);
        if (blen != BAND_LEN) {
            return OFPERR_BAD_REQ_LEN;
        }
        if (type != OFPMBT_DROP && type != OFPMBT_DSCP_REMARK) {
            return OFPERR_METER_BAD_BAND;
        }
        if (mm->n_bands < OFP_METER_MAX_BANDS) {
            struct ofp_meter_band *mb = &mm->bands[mm->n_bands];
            mb->type = type;
            mb->rate = ofp_rd_be32(&b);
            mb->burst = ofp_rd_be32(&b);
            mb->prec_level = type == OFPMBT_DSCP_REMARK ? ofp_rd_u8(&b) : 0;
        }
        mm->n_bands++;
        ofp_rd_pull(&r, BAND_LEN);
    }
    return r.left ? OFPERR_BAD_REQ_LEN : 0;
}

static void
put_band(struct ofp_buf *b, const struct ofp_meter_band *mb)
{
    ofp_buf_be16(b, mb->type);
    ofp_buf_be16(b, BAND_LEN);
    ofp_buf_be32(b, mb->rate);
    ofp_buf_be32(b, mb->burst);
    ofp_buf_u8(b, mb->type == OFPMBT_DSCP_REMARK ? mb->prec_level : 0);
    ofp_buf_put(b, 3);
}

void
ofp_meter_mod_encode(struct ofp_buf *b, const struct ofp_meter_mod *mm)
{
    size_t n = mm->n_bands < OFP_METER_MAX_BANDS ? mm->n_bands
                                                 : OFP_METER_MAX_BANDS;

    ofp_buf_be16(b, mm->command);
    ofp_buf_be16(b, mm->flags);
    ofp_buf_be32(b, mm->meter_id);
    for (size_t i = 0; i < n; i++) {
        put_band(b, &mm->bands[i]);
    }
}

ofperr
ofp_meter_request_decode(const uint8_t *body, size_t len, uint32_t *id)
{
    struct ofp_rd r;

    if (len != 8) {
        return OFPERR_BAD_REQ_LEN;
    }
    ofp_rd_init(&r, body, len);
    *id = ofp_rd_be32(&r);
    return 0;
}

void
ofp_meter_config_encode(struct ofp_buf *b, uint16_t flags, uint32_t meter_id,
                        const struct ofp_meter_band *bands, size_t n_bands)
{
    ofp_buf_be16(b, 8 + n_bands * BAND_LEN);
    ofp_buf_be16(b, flags);
    ofp_buf_be32(b, meter_id);
    for (size_t i = 0; i < n_bands; i++) {
        put_band(b, &bands[i]);
    }
}

size_t
ofp_meter_stats_start(struct ofp_buf *b, uint32_t meter_id,
                      uint32_t flow_count, uint64_t packets, uint64_t bytes,
                      uint64_t age_ms)
{
    size_t start = b->len;

    ofp_buf_be32(b, meter_id);
    ofp_buf_be16(b, 0);                 /* len, when finished */
    ofp_buf_put(b, 6);
    ofp_buf_be32(b, flow_count);
    ofp_buf_be64(b, packets);
    ofp_buf_be64(b, bytes);
    ofp_buf_duration(b, age_ms);
    return start;
}

void
ofp_meter_stats_band(struct ofp_buf *b, uint64_t packets, uint64_t bytes)
{
    ofp_buf_be64(b, packets);
    ofp_buf_be64(b, bytes);
}

void
ofp_meter_stats_finish(struct ofp_buf *b, size_t start)
{
    ofp_buf_set_be16(b, start + 4, b->len - start);
}

void
ofp_meter_features_encode(struct ofp_buf *b,
                          const struct ofp_meter_features *f)
{
    ofp_buf_be32(b, f->max_meters);
    ofp_buf_be32(b, f->band_types);
    ofp_buf_be32(b, f->capabilities);
    ofp_buf_u8(b, f->max_bands);
    ofp_buf_u8(b, f->max_color);
    ofp_buf_put(b, 2);
}
