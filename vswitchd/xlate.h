/* Translation: what the switch does with a packet of a given flow key,
 * as datapath actions plus the mask of every key field the decision
 * consulted (the megaflow). */
#ifndef HVS_XLATE_H
#define HVS_XLATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct xlate_cfg;

#define XLATE_ACTIONS_MAX 4096

struct xlate_out {
    uint8_t actions[XLATE_ACTIONS_MAX];     /* OVS_ACTION_ATTR_* */
    size_t actions_len;
    struct flow_key mask;
    bool mac_moved;             /* learning changed a MAC's port */
};

/* Translates 'key' through the configuration 'cfg' (caller holds
 * xlate_lock for reading).  With 'learn', NORMAL learns source MACs at
 * time 'now' (seconds); revalidation translates without learning. */
void xlate(const struct xlate_cfg *cfg, const struct flow_key *key,
           bool learn, uint64_t now, struct xlate_out *out);

#endif /* HVS_XLATE_H */
