/* Client side of hvs-dpd's control socket: one connection is one emulated
 * netlink socket (include/hvs/dp-ext.h).  Used by hvs-vswitchd and tools.
 * Not thread-safe: one owner thread per socket. */
#ifndef HVS_NETLINK_SOCKET_H
#define HVS_NETLINK_SOCKET_H 1

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock;

/* Connects to the control socket at 'path'.  Returns 0 or -errno. */
int nl_sock_open(const char *path, struct nl_sock **);
void nl_sock_close(struct nl_sock *);
uint32_t nl_sock_portid(const struct nl_sock *);
int nl_sock_fd(const struct nl_sock *);
int nl_sock_join(struct nl_sock *, uint32_t group);

/* A reply message handed to a callback; returns 0 to go on or a negative
 * errno to stop. */
typedef int nl_msg_cb(const struct nlmsghdr *, void *aux);

/* Sends the request 'req' (nlmsg_seq and pid are set here) and feeds every
 * reply message to 'cb' (may be NULL) until the request is finished.
 * Returns 0, the negative errno of an NLMSG_ERROR reply, or of 'cb'.  A
 * dump (NLM_F_DUMP) streams through 'cb' until NLMSG_DONE. */
int nl_sock_transact(struct nl_sock *, struct nlmsghdr *req, nl_msg_cb *cb,
                     void *aux);

/* Receives one asynchronous message (an upcall or a notification) into
 * 'buf' without blocking.  Returns its length, -EAGAIN when none is
 * waiting, -ENOBUFS when some were dropped (as a kernel socket reports). */
int nl_sock_recv(struct nl_sock *, void *buf, size_t size);

/* Generic netlink family id by name, or -ENOENT. */
int nl_lookup_family(struct nl_sock *, const char *name, uint32_t *mcgroup,
                     const char *group_name);

#endif /* HVS_NETLINK_SOCKET_H */
