/* Upcall handling and revalidation: handler threads turn missed packets
 * into datapath flows; one revalidator thread keeps those flows right
 * (idle expiry, MAC moves, configuration changes). */
#ifndef HVS_VSWITCHD_UPCALL_H
#define HVS_VSWITCHD_UPCALL_H 1

#include <stdint.h>

struct dpif;

struct upcall_stats {
    uint64_t upcalls, flows_added, flows_deleted, flows_modified;
    uint64_t lost, handler_errors, dump_duration_ms;
    uint32_t n_flows;           /* at the last dump */
    uint32_t max_idle_ms;
};

/* Starts 'n_handlers' handler threads on 'dpif' (their per-CPU upcall
 * sockets) and the revalidator.  Returns 0 or -errno. */
int udpif_start(struct dpif *dpif, unsigned n_handlers);
void udpif_stop(void);
/* Asks the revalidator for a pass now (configuration changed). */
void udpif_revalidate(void);
void udpif_set_max_idle(uint32_t ms);
void udpif_get_stats(struct upcall_stats *);
unsigned udpif_n_handlers(void);

#endif /* HVS_VSWITCHD_UPCALL_H */
