/* Bridges from the database: reads Open_vSwitch, Bridge, Port and
 * Interface through the IDL, makes the datapath's ports match, rebuilds
 * the switch configuration xlate uses, and writes status back
 * (Interface.ofport/error/..., Open_vSwitch.cur_cfg). */
#ifndef HVS_BRIDGE_H
#define HVS_BRIDGE_H 1

#include <stdint.h>

struct dpif;
struct ovsdb_idl;

void bridge_init(struct ovsdb_idl *, struct dpif *);
/* Reconfigures if the database or the datapath's ports changed. */
void bridge_run(void);
/* Datapath port events arrived on the dpif's notification socket. */
void bridge_port_events(void);
/* Writes Interface.statistics and link states (every few seconds). */
void bridge_update_status(void);
void bridge_destroy(void);

#endif /* HVS_BRIDGE_H */
