/* Watches the host's interfaces over rtnetlink: when an interface that
 * backs a vport disappears, the vport goes too, with an OVS_VPORT_CMD_DEL
 * notification, as the kernel's dp_notify does on NETDEV_UNREGISTER. */
#ifndef HVS_NETDEV_MONITOR_H
#define HVS_NETDEV_MONITOR_H 1

#include <stdint.h>

/* Opens the rtnetlink socket and adds it to 'epfd' with data.ptr set to
 * the value netdev_monitor_tag() returns.  Returns 0 or -errno. */
int netdev_monitor_init(int epfd);
void *netdev_monitor_tag(void);
/* Handles readable rtnetlink messages. */
void netdev_monitor_run(void);
void netdev_monitor_destroy(void);

#endif /* HVS_NETDEV_MONITOR_H */
