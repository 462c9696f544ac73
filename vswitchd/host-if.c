/* Host interface MAC and flags by name (see host-if.h). */
#include "host-if.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A socket for the interface ioctls and an ifreq naming 'name'; -errno
 * if no socket. */
static int
open_ifreq(const char *name, struct ifreq *ifr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(ifr, 0, sizeof *ifr);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
    return fd < 0 ? -errno : fd;
}

void
host_if_read(const char *name, struct host_if_state *s)
{
    struct ifreq ifr;
    int fd = open_ifreq(name, &ifr);

    memset(s, 0, sizeof *s);
    if (fd < 0) {
        return;
    }
    if (!ioctl(fd, SIOCGIFHWADDR, &ifr)) {
        memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
        s->has_mac = true;
    }
    if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
        s->admin_up = ifr.ifr_flags & IFF_UP;
        s->link_up = ifr.ifr_flags & IFF_RUNNING;
        s->has_flags = true;
    }
    close(fd);
}

int
host_if_set_mac(const char *name, const uint8_t mac[6])
{
    struct ifreq ifr;
    int fd = open_ifreq(name, &ifr), err = 0;

    if (fd < 0) {
        return fd;
    }
    ifr.ifr_hwaddr.sa_family = 1;       /* ARPHRD_ETHER */
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    if (ioctl(fd, SIOCSIFHWADDR, &ifr)) {
        err = -errno;
    }
    close(fd);
    return err;
}

int
host_if_set_up(const char *name, bool up)
{
    struct ifreq ifr;
    int fd = open_ifreq(name, &ifr), err = 0;

    if (fd < 0) {
        return -ENODEV;
    }
    if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
        err = -ENODEV;
    } else {
        if (up) {
            ifr.ifr_flags |= IFF_UP;
        } else {
            ifr.ifr_flags &= ~IFF_UP;
        }
        if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
            err = -errno;
        }
    }
    close(fd);
    return err;
}
