/* What hvs-vswitchd reads from and sets on host interfaces (a bridge's
 * internal port, a VM's NIC): MAC address and up/running flags, by name,
 * through the interface ioctls. */
#ifndef HVS_VSWITCHD_HOST_IF_H
#define HVS_VSWITCHD_HOST_IF_H 1

#include <stdbool.h>
#include <stdint.h>

struct host_if_state {
    bool has_mac;               /* 'mac' was read */
    bool has_flags;             /* 'admin_up' and 'link_up' were read */
    uint8_t mac[6];             /* zero when !has_mac */
    bool admin_up;              /* IFF_UP */
    bool link_up;               /* IFF_RUNNING (carrier) */
};

/* Fills 's' for interface 'name'; what cannot be read stays zero/false. */
void host_if_read(const char *name, struct host_if_state *s);

/* Sets the MAC address of 'name'.  Returns 0 or -errno. */
int host_if_set_mac(const char *name, const uint8_t mac[6]);

/* Brings 'name' administratively up or down.  Returns 0, -ENODEV when its
 * flags cannot be read (nothing was changed), or the -errno of the
 * change. */
int host_if_set_up(const char *name, bool up);

#endif /* HVS_VSWITCHD_HOST_IF_H */
