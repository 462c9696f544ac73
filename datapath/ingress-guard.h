/* Keeps the host stack off the frames of a netdev vport's interface (see
 * ingress-guard.c). */
#ifndef HVS_INGRESS_GUARD_H
#define HVS_INGRESS_GUARD_H 1

/* Attaches the guard to interface 'ifindex' ('name' for messages).
 * Returns a descriptor whose close() detaches it, or -errno (logged as a
 * warning: forwarding works without the guard). */
int ingress_guard_attach(int ifindex, const char *name);

#endif /* HVS_INGRESS_GUARD_H */
