/* The classifier of one OpenFlow table: tuple-space search.  Rules that
 * share a mask live in one subtable, a hash table keyed by the masked
 * values; subtables are searched in order of the highest priority they
 * hold, so a lookup stops as soon as no remaining subtable can beat the
 * rule it found.
 *
 * A lookup also tells which key bits its answer depended on, for the
 * megaflow mask.  Each subtable is probed in stages (pipeline fields,
 * L2, tunnel, packet mark, L3, L4, the order ofp_match_packet() checks
 * them in): a subtable that has no rule agreeing with the packet on the
 * first stages only unwildcards those stages, so that, say, a packet
 * that fails on eth_type does not get its L4 ports into the mask.
 *
 * Not synchronised: the caller serialises writers against readers (in
 * hvs-vswitchd, xlate_lock: the main thread changes tables holding the
 * write side, handlers and revalidators look up holding the read side).
 * Lookups never write to the classifier, so readers may run in
 * parallel. */
#ifndef HVS_VSWITCHD_CLASSIFIER_H
#define HVS_VSWITCHD_CLASSIFIER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ofp-match.h"

struct cls_subtable;

/* A rule as the classifier sees it; embedded in its owner's rule, which
 * the classifier never frees.  'match' must stay valid and unchanged
 * while the rule is in a classifier, and its value must be zero where
 * its mask is (the OpenFlow decoders ensure it). */
struct cls_rule {
    const struct ofp_match *match;
    uint16_t priority;
    uint64_t seq;               /* insertion order: breaks priority ties
                                 * in classifier_collect() */
    /* Private. */
    uint32_t hash;              /* of the masked values */
    struct cls_rule *hnext;     /* next head in the hash bucket */
    struct cls_rule *dup;       /* same values, lower (or equal, later)
                                 * priority */
    struct cls_subtable *st;
};

struct classifier {
    struct cls_subtable **subtables;    /* highest max priority first */
    size_t n_subtables, cap;
    size_t n_rules;
    uint64_t next_seq;
};

void classifier_init(struct classifier *);
/* Frees the classifier's own memory; the rules still in it are left to
 * their owners (remove or forget them first). */
void classifier_destroy(struct classifier *);

/* Adds 'r' with 'match' and 'priority'.  Does not look for a duplicate:
 * use classifier_find_exact() first.  'seq' 0 gives the rule the next
 * insertion number; non-zero keeps it (a replacement takes the place of
 * the rule it replaces).  Returns 0 or -ENOMEM. */
int classifier_insert(struct classifier *, struct cls_rule *r,
                      const struct ofp_match *match, uint16_t priority,
                      uint64_t seq);
/* Removes 'r', which must be in the classifier. */
void classifier_remove(struct classifier *, struct cls_rule *r);

/* The rule with exactly this match (values and masks) and priority. */
struct cls_rule *classifier_find_exact(const struct classifier *,
                                       const struct ofp_match *match,
                                       uint16_t priority);

/* The highest-priority rule that 'pkt' matches, or NULL.  ORs into 'wc'
 * (may be NULL) the key bits the answer depended on.  Among rules of
 * equal priority that both match, which one wins is unspecified, as in
 * OpenFlow. */
struct cls_rule *classifier_lookup(const struct classifier *,
                                   const struct ofp_fields *pkt,
                                   struct flow_key *wc);

/* Calls 'cb' for every rule that 'filter' covers (ofp_match_covers();
 * NULL: every rule), in no particular order.  'cb' must not change the
 * classifier. */
void classifier_for_each(const struct classifier *,
                         const struct ofp_match *filter,
                         void (*cb)(struct cls_rule *, void *aux),
                         void *aux);
/* The rules that 'filter' covers (NULL: all), highest priority first and
 * in insertion order among equals, in a malloc'd array the caller frees;
 * *n gets the count.  Returns NULL with *n = 0 when there are none or
 * memory is short (*n = SIZE_MAX then). */
struct cls_rule **classifier_collect(const struct classifier *,
                                     const struct ofp_match *filter,
                                     size_t *n);

/* Whether some rule of priority 'priority' could match a packet that
 * 'match' matches too (OFPFF_CHECK_OVERLAP). */
bool classifier_overlaps(const struct classifier *,
                         const struct ofp_match *match, uint16_t priority);

static inline size_t
classifier_count(const struct classifier *cls)
{
    return cls->n_rules;
}

#endif /* HVS_VSWITCHD_CLASSIFIER_H */
