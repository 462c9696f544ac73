/* Forwarding threads: each polls a share of the vports in epoll, receives
 * batches, looks packets up (exact-match cache, then the megaflow
 * classifier), executes actions and sends in batches; misses become
 * upcalls.  Threads sleep in epoll_wait when idle. */
#ifndef HVS_FWD_H
#define HVS_FWD_H 1

#include <stdint.h>

struct datapath;
struct dp_actions;
struct dp_packet;
struct flow_key;
struct vport;

int fwd_start(unsigned n_threads);
void fwd_stop(void);
unsigned fwd_n_threads(void);

/* Starts / stops polling 'v' (control thread).  After fwd_del_port() and
 * an RCU grace period no thread touches 'v' any more. */
int fwd_add_port(struct vport *v);
void fwd_del_port(struct vport *v);

/* Executes 'acts' on 'p' (owned) for OVS_PACKET_CMD_EXECUTE, from the
 * control thread, inside an RCU read-side section the caller holds. */
void fwd_execute(struct datapath *dp, struct dp_packet *p,
                 struct flow_key *key, const struct dp_actions *acts);

#endif /* HVS_FWD_H */
