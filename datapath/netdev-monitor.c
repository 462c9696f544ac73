/* Host interface removal -> vport removal (see netdev-monitor.h). */
#include "netdev-monitor.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/epoll.h>

#include "datapath.h"
#include "genl.h"
#include "log.h"
#include "vport.h"

LOG_MODULE(netdev_monitor);

static struct mnl_socket *nl;
static int tag;

void *
netdev_monitor_tag(void)
{
    return &tag;
}

int
netdev_monitor_init(int epfd)
{
    nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!nl) {
        return -errno;
    }
    if (mnl_socket_bind(nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
        int err = -errno;
        mnl_socket_close(nl);
        nl = NULL;
        return err;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, mnl_socket_get_fd(nl), &ev)) {
        return -errno;
    }
    return 0;
}

static struct vport *
find_by_ifindex(int ifindex)
{
    for (struct datapath *dp = dp_first(); dp; dp = dp->next) {
        for (uint32_t i = 1; i < dp->port_hi; i++) {
            struct vport *v = dp_port(dp, i);
            if (v && v->ifindex == ifindex) {
                return v;
            }
        }
    }
    return NULL;
}

static int
link_cb(const struct nlmsghdr *nlh, void *aux)
{
    (void) aux;
    if (nlh->nlmsg_type != RTM_DELLINK) {
        return MNL_CB_OK;
    }
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    struct vport *v = find_by_ifindex(ifi->ifi_index);
    if (v) {
        LOG_INFO("%s: host interface %s disappeared, deleting its port %u",
                 v->dp->name, v->name, v->port_no);
        genl_vport_notify_del(v);
        dp_port_del(v->dp, v);
    }
    return MNL_CB_OK;
}

void
netdev_monitor_run(void)
{
    uint8_t buf[MNL_SOCKET_BUFFER_SIZE];

    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            if (errno == ENOBUFS) {
                /* Missed events: the ports whose interfaces are gone now
                 * fail on I/O; a full resync would list links.  Rare. */
                LOG_WARN("rtnetlink overflow: interface events lost");
                continue;
            }
            return;
        }
        mnl_cb_run(buf, n, 0, 0, link_cb, NULL);
    }
}

void
netdev_monitor_destroy(void)
{
    if (nl) {
        mnl_socket_close(nl);
        nl = NULL;
    }
}
