/* Upcalls: packets sent up to userspace as OVS_PACKET_CMD_MISS (no flow
 * matched) or OVS_PACKET_CMD_ACTION (a userspace() action). */
#ifndef HVS_UPCALL_H
#define HVS_UPCALL_H 1

#include <libmnl/libmnl.h>
#include <stdint.h>

struct datapath;
struct dp_packet;
struct flow_key;

/* Sends a miss upcall for 'p' (borrowed), received on its md.in_port, to
 * the port id chosen by the datapath's dispatch mode ('thread' selects
 * the per-CPU pid).  Counts n_missed or n_lost.  Any thread. */
void upcall_miss(struct datapath *dp, const struct dp_packet *p,
                 const struct flow_key *key, unsigned thread);

/* Sends an action upcall for OVS_ACTION_ATTR_USERSPACE 'attr'
 * (validated), with the flow's actions 'acts' when the attribute asks for
 * them.  Counts n_lost on failure. */
void upcall_action(struct datapath *dp, const struct dp_packet *p,
                   const struct flow_key *key, const struct nlattr *attr);

#endif /* HVS_UPCALL_H */
