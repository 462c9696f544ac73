/* Datapath actions: validation at install time and execution on packets.
 *
 * Actions are kept in their netlink form (the payload of
 * OVS_FLOW_ATTR_ACTIONS: a sequence of OVS_ACTION_ATTR_* attributes), as
 * validated by act_validate(), so that a dump returns exactly what was
 * installed and the executor walks one compact blob.
 */
#ifndef HVS_ACTIONS_H
#define HVS_ACTIONS_H 1

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow-netlink.h"

struct dp_packet;

/* Validated actions.  Owner: the flow (or the execute request) holding it;
 * freed with free() (flows free it after an RCU grace period). */
struct dp_actions {
    uint32_t len;               /* bytes of attrs */
    uint32_t pad;
    uint8_t attrs[];            /* OVS_ACTION_ATTR_* attributes */
};

/* Validates the nested OVS_FLOW_ATTR_ACTIONS (or OVS_PACKET_ATTR_ACTIONS)
 * 'actions' against the flow's match 'm' (set actions need their header's
 * prerequisites matched, as in the kernel) and returns a copy in '*out'.
 * Accepts what the kernel accepts: output, userspace (pid, userdata,
 * egress tun port, actions flag), set and set_masked on every header key
 * (not on in_port or eth_type; tunnel only as set), push/pop VLAN, sample,
 * clone, recirc, hash, trunc, push/pop MPLS, push/pop ETH, check_pkt_len,
 * meter, push/pop NSH, drop.  Refuses ct, set(nsh), unknown types
 * with -EOPNOTSUPP when the kernel would lack the feature and -EINVAL for
 * malformed ones (bad length, nesting deeper than the kernel allows, masks
 * with bits outside the key, ...).  Returns 0 or a negative errno. */
int act_validate(const struct nlattr *actions, const struct flow_match *m,
                 struct dp_actions **out, const char **reason);

/* What execution needs from the datapath. */
struct act_ops {
    /* Sends 'p' out of odp port 'port'; takes ownership of 'p'.  Honours
     * p->cutlen. */
    void (*output)(void *aux, uint32_t port, struct dp_packet *p);
    /* Sends a copy of 'p' to userspace for OVS_ACTION_ATTR_USERSPACE
     * 'attr'; 'key' is the packet's current key.  Borrows 'p'. */
    void (*userspace)(void *aux, const struct dp_packet *p,
                      const struct flow_key *key, const struct nlattr *attr);
    /* Continues with a new lookup for 'p' (p->md.recirc_id set); takes
     * ownership of 'p'. */
    void (*recirc)(void *aux, struct dp_packet *p);
    /* Charges 'p' to meter 'meter_id' (OVS_ACTION_ATTR_METER); returns
     * true if the meter drops it.  Borrows 'p'.  May be NULL: no meters,
     * nothing is dropped. */
    bool (*meter)(void *aux, uint32_t meter_id, const struct dp_packet *p);
};

/* Executes 'len' bytes of validated actions on 'p', whose extracted key is
 * 'key' (updated as set actions change the packet).  Takes ownership of 'p'
 * (it is freed or handed to an output).  Nesting (sample, clone,
 * check_pkt_len) is bounded; the last output takes the packet itself, the
 * others a shared clone, so payloads are not copied. */
void act_execute(const struct act_ops *ops, void *aux, struct dp_packet *p,
                 struct flow_key *key, const uint8_t *acts, size_t len);

#endif /* HVS_ACTIONS_H */
