/* OpenFlow meters on datapath meters (see meters.h). */
#include "meters.h"

#include <errno.h>
#include <linux/openvswitch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dpif.h"
#include "log.h"
#include "rules.h"

LOG_MODULE(meters);

static struct dpif *meter_dp;

/* The datapath's answer to OVS_METER_CMD_FEATURES, asked once: what a
 * datapath can do does not change while it runs. */
static struct dpif_meter_features dp_features;
static bool have_features;

/* Datapath meter ids in use, one bit each, for ids below
 * dp_features.max_meters.  Shared by every bridge: there is one
 * datapath. */
static uint64_t *dp_ids;
static uint32_t dp_id_hint;

void
meters_init(struct dpif *dp)
{
    meter_dp = dp;
}

static const struct dpif_meter_features *
features(void)
{
    if (!have_features && meter_dp) {
        int err = dpif_meter_features(meter_dp, &dp_features);
        if (err) {
            LOG_INFO("the datapath has no meters (%s)", strerror(-err));
            memset(&dp_features, 0, sizeof dp_features);
        }
        if (dp_features.max_bands > OFP_METER_MAX_BANDS) {
            dp_features.max_bands = OFP_METER_MAX_BANDS;
        }
        if (dp_features.max_bands > DPIF_METER_MAX_BANDS) {
            dp_features.max_bands = DPIF_METER_MAX_BANDS;
        }
        have_features = true;
    }
    return &dp_features;
}

void
meters_features(struct ofp_meter_features *f)
{
    const struct dpif_meter_features *df = features();

    memset(f, 0, sizeof *f);
    f->max_meters = df->max_meters;
    if (df->band_types & (1u << OVS_METER_BAND_TYPE_DROP)) {
        f->band_types |= 1u << OFPMBT_DROP;
    }
    /* The rate units, bursts and counters are ours to offer whatever
     * the datapath is (it takes both units and a burst per band). */
    f->capabilities = df->max_meters ? OFPMF_ALL : 0;
    f->max_bands = df->max_bands;
    f->max_color = 0;
}

/* ---- datapath meter ids ------------------------------------------------- */

static bool
dp_id_alloc(uint32_t *id)
{
    uint32_t max = features()->max_meters;

    if (!max) {
        return false;
    }
    if (!dp_ids) {
        dp_ids = calloc((max + 63) / 64, sizeof *dp_ids);
        if (!dp_ids) {
            return false;
        }
    }
    for (uint32_t n = 0; n < max; n++) {
        uint32_t i = (dp_id_hint + n) % max;
        if (!(dp_ids[i / 64] & (1ull << (i % 64)))) {
            dp_ids[i / 64] |= 1ull << (i % 64);
            dp_id_hint = i + 1;
            *id = i;
            return true;
        }
    }
    return false;
}

static void
dp_id_free(uint32_t id)
{
    if (dp_ids && id < features()->max_meters) {
        dp_ids[id / 64] &= ~(1ull << (id % 64));
    }
}

/* ---- the table ---------------------------------------------------------- */

static size_t
find_index(const struct meter_table *t, uint32_t id, bool *found)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->meters[mid]->id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < t->n && t->meters[lo]->id == id;
    return lo;
}

const struct meter *
meters_find(const struct meter_table *t, uint32_t id)
{
    bool found;
    size_t i = find_index(t, id, &found);
    return found ? t->meters[i] : NULL;
}

static void
meter_free(struct meter *m)
{
    if (m) {
        free(m->bands);
        free(m);
    }
}

/* Forgets meter 'i' of 't' and frees its datapath meter. */
static void
remove_at(struct meter_table *t, size_t i)
{
    struct meter *m = t->meters[i];

    if (meter_dp) {
        int err = dpif_meter_del(meter_dp, m->dp_id);
        if (err) {
            LOG_WARN("cannot delete datapath meter %u: %s", m->dp_id,
                     strerror(-err));
        }
        dp_id_free(m->dp_id);
    }
    memmove(&t->meters[i], &t->meters[i + 1],
            (t->n - i - 1) * sizeof t->meters[0]);
    t->n--;
    meter_free(m);
}

void
meters_clear(struct meter_table *t)
{
    while (t->n) {
        remove_at(t, t->n - 1);
    }
    free(t->meters);
    memset(t, 0, sizeof *t);
}

int
meters_stats(const struct meter *m, struct dpif_meter_stats *s)
{
    if (!meter_dp) {
        memset(s, 0, sizeof *s);
        return -ENODEV;
    }
    return dpif_meter_get(meter_dp, m->dp_id, s);
}

/* ---- meter-mod ---------------------------------------------------------- */

/* What Open vSwitch checks of a meter's configuration before its
 * datapath sees it, and what the datapath refuses, in that order: a rate
 * unit, at least one band, no zero rate, only known flags, only band
 * types the datapath has. */
static ofperr
check_config(const struct ofp_meter_mod *mm)
{
    if (!(mm->flags & (OFPMF_KBPS | OFPMF_PKTPS))) {
        return OFPERR_METER_BAD_FLAGS;
    }
    if (!mm->n_bands) {
        return OFPERR_METER_OUT_OF_BANDS;
    }
    for (size_t i = 0; i < mm->n_bands; i++) {
        if (!mm->bands[i].rate) {
            return OFPERR_METER_BAD_RATE;
        }
    }
    if (mm->flags & ~OFPMF_ALL) {
        return OFPERR_METER_BAD_FLAGS;
    }
    for (size_t i = 0; i < mm->n_bands; i++) {
        /* DSCP remarking is a band type no datapath of ours has. */
        if (mm->bands[i].type != OFPMBT_DROP
            || !(features()->band_types
                 & (1u << OVS_METER_BAND_TYPE_DROP))) {
            return OFPERR_METER_BAD_BAND;
        }
    }
    return 0;
}

/* Configures datapath meter 'dp_id' as 'm' says. */
static ofperr
dp_set(uint32_t dp_id, const struct meter *m)
{
    struct dpif_meter_band bands[DPIF_METER_MAX_BANDS];

    for (size_t i = 0; i < m->n_bands; i++) {
        bands[i].type = OVS_METER_BAND_TYPE_DROP;
        bands[i].rate = m->bands[i].rate;
        /* Without the burst flag the bucket holds one second's worth. */
        bands[i].burst = m->flags & OFPMF_BURST ? m->bands[i].burst
                                                : m->bands[i].rate;
    }
    int err = meter_dp ? dpif_meter_set(meter_dp, dp_id,
                                        m->flags & OFPMF_KBPS, bands,
                                        m->n_bands)
                       : -ENODEV;
    if (err) {
        LOG_WARN("cannot set datapath meter %u: %s", dp_id, strerror(-err));
    }
    return err == -EFBIG || err == -ENOMEM ? OFPERR_METER_OUT_OF_METERS
         : err == -EINVAL ? OFPERR_METER_OUT_OF_BANDS
         : err ? OFPERR_METER_UNKNOWN : 0;
}

/* A meter (id 0, not yet in a table) configured as 'mm' says. */
static struct meter *
meter_from_mod(const struct ofp_meter_mod *mm, uint64_t now_ms)
{
    struct meter *m = calloc(1, sizeof *m);
    struct ofp_meter_band *bands = calloc(mm->n_bands, sizeof *bands);

    if (!m || !bands) {
        free(m);
        free(bands);
        return NULL;
    }
    m->id = mm->meter_id;
    m->flags = mm->flags;
    m->n_bands = mm->n_bands;
    m->bands = bands;
    m->created_ms = now_ms;
    for (size_t i = 0; i < mm->n_bands; i++) {
        bands[i] = mm->bands[i];
        /* A band without a burst size gets its rate, which is what Open
         * vSwitch's datapaths store and report back. */
        if (!bands[i].burst) {
            bands[i].burst = bands[i].rate;
        }
    }
    return m;
}

static ofperr
add_meter(struct meter_table *t, const struct ofp_meter_mod *mm,
          uint64_t now_ms)
{
    bool found;
    size_t i = find_index(t, mm->meter_id, &found);

    if (found) {
        return OFPERR_METER_EXISTS;
    }
    uint32_t dp_id;
    if (!dp_id_alloc(&dp_id)) {
        return OFPERR_METER_OUT_OF_METERS;
    }
    ofperr err = check_config(mm);
    struct meter *m = err ? NULL : meter_from_mod(mm, now_ms);
    if (!err && !m) {
        err = OFPERR_METER_OUT_OF_METERS;
    }
    if (!err && t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct meter **v = realloc(t->meters, cap * sizeof *v);
        if (!v) {
            err = OFPERR_METER_OUT_OF_METERS;
        } else {
            t->meters = v;
            t->cap = cap;
        }
    }
    if (!err) {
        m->dp_id = dp_id;
        err = dp_set(dp_id, m);
    }
    if (err) {
        meter_free(m);
        dp_id_free(dp_id);
        return err;
    }
    memmove(&t->meters[i + 1], &t->meters[i],
            (t->n - i) * sizeof t->meters[0]);
    t->meters[i] = m;
    t->n++;
    return 0;
}

static ofperr
modify_meter(struct meter_table *t, const struct ofp_meter_mod *mm)
{
    bool found;
    size_t i = find_index(t, mm->meter_id, &found);

    if (!found) {
        return OFPERR_METER_UNKNOWN_METER;
    }
    ofperr err = check_config(mm);
    if (err) {
        return err;
    }
    struct meter *old = t->meters[i];
    struct meter *m = meter_from_mod(mm, old->created_ms);
    if (!m) {
        return OFPERR_METER_OUT_OF_METERS;
    }
    m->dp_id = old->dp_id;
    err = dp_set(m->dp_id, m);
    if (err) {
        meter_free(m);
        return err;
    }
    t->meters[i] = m;
    meter_free(old);
    return 0;
}

/* Deletes meter 'id' (OFPM_ALL: every meter) and the rules that use it.
 * A meter that does not exist is no error. */
static void
delete_meters(struct rule_set *rs, uint32_t id)
{
    struct meter_table *t = &rs->meters;

    for (size_t i = t->n; i-- > 0;) {
        if (id == OFPM_ALL || t->meters[i]->id == id) {
            rules_delete_meter(rs, t->meters[i]->id);
            remove_at(t, i);
        }
    }
}

ofperr
meters_mod(struct rule_set *rs, const struct ofp_meter_mod *mm,
           uint64_t now_ms)
{
    if (mm->command != OFPMC_DELETE) {
        const struct dpif_meter_features *f = features();
        uint32_t id = mm->meter_id;
        if (!f->max_meters || !id
            || (id > OFPM_MAX && id != OFPM_SLOWPATH
                && id != OFPM_CONTROLLER)) {
            return OFPERR_METER_INVALID;
        }
        if (mm->n_bands > f->max_bands) {
            return OFPERR_METER_OUT_OF_BANDS;
        }
    }
    switch (mm->command) {
    case OFPMC_ADD:
        return add_meter(&rs->meters, mm, now_ms);
    case OFPMC_MODIFY:
        return modify_meter(&rs->meters, mm);
    case OFPMC_DELETE:
        delete_meters(rs, mm->meter_id);
        return 0;
    default:
        return OFPERR_METER_BAD_COMMAND;
    }
}
