/* The host's routes, local addresses, links and neighbours, mirrored from
 * rtnetlink for the tunnel fast path (the seed's "IP Helper").
 *
 * A thread of its own dumps the tables once and then follows the
 * notifications (RTMGRP_LINK, IPV4/IPV6_IFADDR, IPV4/IPV6_ROUTE, NEIGH):
 * nothing is polled.  After each burst of changes it publishes a new
 * immutable snapshot under RCU; forwarding threads read it inside their
 * read-side sections and never block.  The thread runs while at least one
 * tunnel vport exists (tnl_route_ref / tnl_route_unref, control thread).
 *
 * Packets toward a neighbour that is not resolved yet are held here (a
 * small bounded queue per neighbour) while the host stack resolves it;
 * when RTM_NEWNEIGH reports it usable they get its MAC address and go on
 * into the datapath (fwd_execute); when it fails or takes too long they
 * are dropped, counted and logged.
 */
#ifndef HVS_TNL_ROUTE_H
#define HVS_TNL_ROUTE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct datapath;
struct dp_packet;
struct vport;

/* An IPv4 or IPv6 address; IPv4 in the first 4 bytes, the rest zero. */
struct tnl_addr {
    uint8_t b[16];
};

/* Where a packet to a tunnel destination goes. */
struct tnl_nexthop {
    int ifindex;                /* egress interface */
    int family;                 /* AF_INET, AF_INET6 */
    uint32_t mtu;               /* of the egress interface */
    struct tnl_addr src;        /* outer source address */
    struct tnl_addr nbr;        /* neighbour: gateway or the destination */
    uint8_t src_mac[6];         /* the egress interface's */
    uint8_t dst_mac[6];         /* the neighbour's, if 'resolved' */
    bool resolved;
};

/* Starts the thread on the first reference (blocking until the first
 * dump is in), stops it after the last.  Control thread. */
int tnl_route_ref(void);
void tnl_route_unref(void);

/* Looks up the route to 'dst' in 'family' from the preferred source 'src'
 * (NULL or all-zero: any) and its neighbour.  Returns 0 with '*nh' filled
 * (nh->resolved false when the neighbour's MAC is not known yet),
 * -ENETUNREACH if there is no usable route, -ENODEV if the tables are not
 * mirrored (no tunnel vport).  Inside an RCU read-side section. */
int tnl_route_lookup(int family, const struct tnl_addr *dst,
                     const struct tnl_addr *src, struct tnl_nexthop *nh);

/* Whether 'addr' is a local address on interface 'ifindex'.  Inside an
 * RCU read-side section; false when nothing is mirrored. */
bool tnl_route_is_local(int family, const struct tnl_addr *addr,
                        int ifindex);

/* Holds encapsulated packet 'p' (owned) until the neighbour of 'nh' is
 * resolved: then its destination MAC is filled in and it re-enters
 * 'dp' on port 'port_no' (as if received there, when 'inject') or leaves
 * through it.  'owner' is the tunnel vport, for tnl_route_forget().  Asks
 * the host to resolve the neighbour.  A full queue drops the packet and
 * counts it. */
void tnl_route_hold(const struct tnl_nexthop *nh, struct dp_packet *p,
                    struct vport *owner, uint32_t port_no, bool inject);
/* Drops the packets held for tunnel vport 'owner' (before it is freed). */
void tnl_route_forget(const struct vport *owner);

/* For the operator (tnl-appctl.c): copies of the mirrored entries. */
struct tnl_route_info {
    int family;                 /* AF_INET, AF_INET6 */
    struct tnl_addr dst;
    uint8_t dst_len;
    bool has_gw, has_src;
    struct tnl_addr gw;
    struct tnl_addr src;        /* the preferred source, or the egress
                                 * interface's address that a lookup
                                 * would take */
    int ifindex;                /* egress interface */
    uint32_t priority;
};

struct tnl_neigh_info {
    int family;
    struct tnl_addr addr;
    int ifindex;
    uint16_t state;             /* NUD_* */
    bool usable;                /* a lookup would take its MAC */
    uint8_t mac[6];             /* if 'usable' */
};

typedef void tnl_route_info_fn(const struct tnl_route_info *, void *aux);
typedef void tnl_neigh_info_fn(const struct tnl_neigh_info *, void *aux);

/* Visits every route ('route_cb', may be NULL) and every neighbour
 * ('neigh_cb', may be NULL) of the snapshot forwarding uses now.  Returns
 * 0, or -ENODEV when nothing is mirrored (no tunnel vport).  The caller
 * must be an RCU-registered thread outside a read-side section. */
int tnl_route_walk(tnl_route_info_fn *route_cb, tnl_neigh_info_fn *neigh_cb,
                   void *aux);

/* Packets held now and the neighbours they wait for. */
void tnl_route_held(unsigned *n_pkts, unsigned *n_nbrs);

#endif /* HVS_TNL_ROUTE_H */
