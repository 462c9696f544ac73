/* Lookups in the switch configuration (see ofproto.h). */
#include "ofproto.h"

#include <string.h>

#include "flow.h"

pthread_rwlock_t xlate_lock = PTHREAD_RWLOCK_INITIALIZER;
struct xlate_cfg *xlate_cfg;

struct ofport *
ofproto_port_by_odp(const struct xlate_cfg *cfg, uint32_t odp)
{
    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        const struct ofproto *br = cfg->bridges[i];
        for (unsigned j = 0; j < br->n_ports; j++) {
            if (br->ports[j]->odp_port == odp) {
                return br->ports[j];
            }
        }
    }
    return NULL;
}

struct ofproto *
ofproto_find(const struct xlate_cfg *cfg, const char *name)
{
    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        if (!strcmp(cfg->bridges[i]->name, name)) {
            return cfg->bridges[i];
        }
    }
    return NULL;
}

bool
ofport_trunks_vlan(const struct ofport *p, int vlan)
{
    if (vlan < 0 || vlan > 4095) {
        return false;
    }
    return !p->trunks || (p->trunks[vlan / 8] & (1u << (vlan % 8)));
}

struct ofport *
ofproto_port_for_key(const struct xlate_cfg *cfg, const struct flow_key *key,
                     struct flow_key *mask)
{
    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        const struct ofproto *br = cfg->bridges[i];
        for (unsigned j = 0; j < br->n_ports; j++) {
            struct ofport *p = br->ports[j];
            if (p->odp_port != key->in_port) {
                continue;
            }
            if (!p->tnl.type) {
                return p;
            }
            const struct flow_tnl *t = &key->tunnel;
            mask->tunnel.tun_id = UINT64_MAX;
            /* The key's presence bit goes with it: without it the
             * encoded mask carries no OVS_TUNNEL_KEY_ATTR_ID and the
             * flow would match every VNI. */
            mask->tunnel.flags |= FLOW_TNL_F_KEY;
            mask->tunnel.ipv4_src = UINT32_MAX;
            /* Always, as Open vSwitch does: a datapath (the kernel's,
             * hvs-dpd) refuses a flow whose masked tunnel key has a
             * source but no destination, and every decapsulated packet
             * would then stay a miss. */
            mask->tunnel.ipv4_dst = UINT32_MAX;
            if ((p->tnl.key_flow || t->tun_id == p->tnl.key)
                && (p->tnl.remote_flow || t->ipv4_src == p->tnl.remote_ip)
                && (!p->tnl.local_ip || t->ipv4_dst == p->tnl.local_ip)) {
                return p;
            }
        }
    }
    return NULL;
}
