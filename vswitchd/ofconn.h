/* OpenFlow connections: per bridge the management socket
 * RUNDIR/BRIDGE.mgmt (what `ovs-ofctl CMD unix:RUNDIR/br0.mgmt` and
 * `ovs-ofctl CMD br0` talk to), each accepted connection's OpenFlow
 * session, and the rule-table changes its flow-mods make.  Runs in the
 * main thread: the listeners and connections sit in one epoll set whose
 * descriptor the main loop polls. */
#ifndef HVS_VSWITCHD_OFCONN_H
#define HVS_VSWITCHD_OFCONN_H 1

struct dpif;

/* 'rundir' is where BRIDGE.mgmt sockets go; 'dpif' executes packet-outs
 * and reads port counters.  Returns the descriptor to poll, or -errno. */
int ofconn_init(const char *rundir, struct dpif *dpif);
/* Does whatever is ready: follows bridge changes (listeners, rule sets),
 * accepts, reads and answers, expires rules.  Never blocks. */
void ofconn_run(void);
void ofconn_destroy(void);

#endif /* HVS_VSWITCHD_OFCONN_H */
