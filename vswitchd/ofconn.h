/* OpenFlow connections: per bridge the management socket
 * RUNDIR/BRIDGE.mgmt (what `ovs-ofctl CMD unix:RUNDIR/br0.mgmt` and
 * `ovs-ofctl CMD br0` talk to), each accepted connection's OpenFlow
 * session, and the rule-table changes its flow-mods make.  Runs in the
 * main thread: the listeners and connections sit in one epoll set whose
 * descriptor the main loop polls. */
#ifndef HVS_VSWITCHD_OFCONN_H
#define HVS_VSWITCHD_OFCONN_H 1

#include <stdbool.h>
#include <stddef.h>

struct dpif;

/* 'rundir' is where BRIDGE.mgmt sockets go; 'dpif' executes packet-outs
 * and reads port counters.  Returns the descriptor to poll, or -errno. */
int ofconn_init(const char *rundir, struct dpif *dpif);
/* Does whatever is ready: follows bridge changes (listeners, rule sets),
 * accepts, reads and answers, expires rules.  Never blocks. */
void ofconn_run(void);
void ofconn_destroy(void);

struct xlate_pin_cookie;
/* Queues a packet-in for 'len' bytes of 'packet' as the CONTROLLER
 * action described by 'ck' asked.  Called by handler threads; the main
 * loop sends it to the connections of the bridge that want it.  A full
 * queue drops the packet and counts it. */
void ofconn_queue_packet_in(const struct xlate_pin_cookie *ck,
                            const void *packet, size_t len);

/* Whether controller 'target' of 'bridge' has a connection that
 * completed the hello exchange; '*role' gets its role as the Controller
 * table spells it ("master", "slave", "other").  Main thread. */
bool ofconn_controller_connected(const char *bridge, const char *target,
                                 const char **role);

#endif /* HVS_VSWITCHD_OFCONN_H */
