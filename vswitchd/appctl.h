/* hvs-vswitchd's unixctl commands, in the output formats Open vSwitch's
 * ovs-appctl users and scripts parse. */
#ifndef HVS_APPCTL_H
#define HVS_APPCTL_H 1

struct dpif;

/* Registers fdb/show, fdb/flush, dpctl/show, upcall/show, coverage/show,
 * memory/show.  'dpif' is used from the main thread only. */
void appctl_register(struct dpif *);

#endif /* HVS_APPCTL_H */
