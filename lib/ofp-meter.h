/* OpenFlow 1.3 meters on the wire: the meter-mod message and its bands,
 * and the meter, meter-config and meter-features multipart bodies.  The
 * meter tables themselves live in hvs-vswitchd (vswitchd/meters.h).
 *
 * OpenFlow 1.0 has no meters, and Open vSwitch offers no extension for
 * them there: ovs-ofctl refuses meter commands without -O OpenFlow13. */
#ifndef HVS_OFP_METER_H
#define HVS_OFP_METER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ofp-msgs.h"

enum { OFPMC_ADD = 0, OFPMC_MODIFY = 1, OFPMC_DELETE = 2 };

/* Meter flags. */
#define OFPMF_KBPS  0x1
#define OFPMF_PKTPS 0x2
#define OFPMF_BURST 0x4
#define OFPMF_STATS 0x8
#define OFPMF_ALL (OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS)

/* Band types. */
enum { OFPMBT_DROP = 1, OFPMBT_DSCP_REMARK = 2 };

/* Meter ids: 1..OFPM_MAX are the controller's; three virtual meters
 * follow. */
#define OFPM_MAX        0xffff0000u
#define OFPM_SLOWPATH   0xfffffffdu
#define OFPM_CONTROLLER 0xfffffffeu
#define OFPM_ALL        0xffffffffu

/* The most bands a decoded meter-mod keeps (more are counted, so that the
 * switch can refuse them as too many). */
#define OFP_METER_MAX_BANDS 16

struct ofp_meter_band {
    uint16_t type;              /* OFPMBT_* */
    uint32_t rate;              /* kbit/s or packets/s */
    uint32_t burst;             /* kbit or packets */
    uint8_t prec_level;         /* DSCP remark only */
};

/* A decoded meter-mod.  A delete carries no flags and no bands. */
struct ofp_meter_mod {
    uint16_t command;           /* OFPMC_* */
    uint16_t flags;             /* OFPMF_* */
    uint32_t meter_id;
    size_t n_bands;             /* may exceed OFP_METER_MAX_BANDS */
    struct ofp_meter_band bands[OFP_METER_MAX_BANDS];
};

/* Decodes the body of an OFPT_METER_MOD (after the header) with the
 * checks Open vSwitch makes of the message itself, in its order: a known
 * command (METER_BAD_COMMAND), not both kbps and pktps (METER_BAD_FLAGS),
 * whole 16-byte bands (BAD_REQ_LEN) of a known type (METER_BAD_BAND).
 * What the switch can do with it (ids, band count, rates) is the meter
 * table's to check. */
ofperr ofp_meter_mod_decode(const uint8_t *body, size_t len,
                            struct ofp_meter_mod *mm);
/* Encodes a meter-mod body (for tests and the fuzzer's seeds). */
void ofp_meter_mod_encode(struct ofp_buf *, const struct ofp_meter_mod *mm);

/* The meter id a meter or meter-config multipart request asks for
 * (OFPM_ALL: every meter).  Its body is exactly 8 bytes. */
ofperr ofp_meter_request_decode(const uint8_t *body, size_t len,
                                uint32_t *meter_id);

/* Appends one meter-config entry. */
void ofp_meter_config_encode(struct ofp_buf *, uint16_t flags,
                             uint32_t meter_id,
                             const struct ofp_meter_band *, size_t n_bands);

/* Starts one meter-stats entry; the caller appends one band's counters
 * at a time with ofp_meter_stats_band() and then calls
 * ofp_meter_stats_finish(). */
size_t ofp_meter_stats_start(struct ofp_buf *, uint32_t meter_id,
                             uint32_t flow_count, uint64_t packets,
                             uint64_t bytes, uint64_t age_ms);
void ofp_meter_stats_band(struct ofp_buf *, uint64_t packets,
                          uint64_t bytes);
void ofp_meter_stats_finish(struct ofp_buf *, size_t start);

/* What a switch's meters can do. */
struct ofp_meter_features {
    uint32_t max_meters;
    uint32_t band_types;        /* bitmap of 1 << OFPMBT_* */
    uint32_t capabilities;      /* OFPMF_* */
    uint8_t max_bands;
    uint8_t max_color;
};

void ofp_meter_features_encode(struct ofp_buf *,
                               const struct ofp_meter_features *);

#endif /* HVS_OFP_METER_H */
