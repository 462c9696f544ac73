/* A bridge's MAC learning table: (VLAN, MAC) -> port, with aging and a
 * size limit, as the NORMAL action needs.  Thread-safe (handlers learn,
 * the main thread flushes and shows). */
#ifndef HVS_MAC_LEARNING_H
#define HVS_MAC_LEARNING_H 1

#include <stdbool.h>
#include <stdint.h>

struct mac_table;

#define MAC_DEFAULT_AGING 300   /* seconds, as Open vSwitch */
#define MAC_DEFAULT_MAX 8192    /* entries */

struct mac_table *mac_table_create(unsigned aging_s, unsigned max_entries);
void mac_table_destroy(struct mac_table *);
void mac_table_set_aging(struct mac_table *, unsigned aging_s);
void mac_table_set_max(struct mac_table *, unsigned max_entries);

/* Learns that 'mac' on 'vlan' lives behind ofport 'port' at time 'now'
 * (seconds).  Returns true if this changed where the MAC lives (new or
 * moved), which makes existing flows for it stale. */
bool mac_table_learn(struct mac_table *, const uint8_t mac[6], uint16_t vlan,
                     uint32_t port, uint64_t now);
/* The port behind 'mac' on 'vlan', or UINT32_MAX if unknown or aged. */
uint32_t mac_table_lookup(struct mac_table *, const uint8_t mac[6],
                          uint16_t vlan, uint64_t now);
/* Forgets every entry (port UINT32_MAX) or those on 'port'. */
void mac_table_flush(struct mac_table *, uint32_t port);
/* Drops aged entries; returns how many. */
unsigned mac_table_expire(struct mac_table *, uint64_t now);
/* Changes since creation: bumps whenever an entry is added, moved,
 * removed; revalidators compare it. */
uint64_t mac_table_seq(const struct mac_table *);

/* Calls 'cb' for each live entry, in no particular order. */
typedef void mac_table_cb(uint32_t port, uint16_t vlan, const uint8_t mac[6],
                          unsigned age_s, void *aux);
void mac_table_for_each(struct mac_table *, uint64_t now, mac_table_cb *,
                        void *aux);
unsigned mac_table_count(struct mac_table *);

#endif /* HVS_MAC_LEARNING_H */
