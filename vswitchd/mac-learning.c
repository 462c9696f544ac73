/* MAC learning: an open hash table guarded by one mutex.  Learning is on
 * the upcall path only (the datapath forwards known traffic itself), so a
 * lock is cheap enough and keeps this simple. */
#include "mac-learning.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct mac_entry {
    struct mac_entry *next;     /* hash chain */
    uint8_t mac[6];
    uint16_t vlan;
    uint32_t port;
    uint64_t used;              /* seconds */
};

struct mac_table {
    pthread_mutex_t mutex;
    struct mac_entry **buckets;
    unsigned n_buckets;         /* power of two */
    unsigned n, max;
    unsigned aging;
    _Atomic uint64_t seq;
};

static uint32_t
mac_hash(const uint8_t mac[6], uint16_t vlan)
{
    uint32_t a, b;
    memcpy(&a, mac, 4);
    b = mac[4] | mac[5] << 8 | (uint32_t) vlan << 16;
    return hash_finish(hash_add(hash_add(0, a), b), 8);
}

struct mac_table *
mac_table_create(unsigned aging_s, unsigned max_entries)
{
    struct mac_table *t = calloc(1, sizeof *t);
    if (!t) {
        return NULL;
    }
    t->n_buckets = 1024;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->mutex, NULL);
    t->aging = aging_s ? aging_s : MAC_DEFAULT_AGING;
    t->max = max_entries ? max_entries : MAC_DEFAULT_MAX;
    return t;
}

static void
remove_entry(struct mac_table *t, struct mac_entry **pp)
{
    struct mac_entry *e = *pp;
    *pp = e->next;
    free(e);
    t->n--;
    atomic_fetch_add(&t->seq, 1);
}

void
mac_table_flush(struct mac_table *t, uint32_t port)
{
    pthread_mutex_lock(&t->mutex);
    for (unsigned i = 0; i < t->n_buckets; i++) {
        for (struct mac_entry **pp = &t->buckets[i]; *pp;) {
            if (port == UINT32_MAX || (*pp)->port == port) {
                remove_entry(t, pp);
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    pthread_mutex_unlock(&t->mutex);
}

void
mac_table_destroy(struct mac_table *t)
{
    if (t) {
        mac_table_flush(t, UINT32_MAX);
        pthread_mutex_destroy(&t->mutex);
        free(t->buckets);
        free(t);
    }
}

void
mac_table_set_aging(struct mac_table *t, unsigned aging_s)
{
    pthread_mutex_lock(&t->mutex);
    t->aging = aging_s ? aging_s : MAC_DEFAULT_AGING;
    pthread_mutex_unlock(&t->mutex);
}

void
mac_table_set_max(struct mac_table *t, unsigned max_entries)
{
    pthread_mutex_lock(&t->mutex);
    t->max = max_entries ? max_entries : MAC_DEFAULT_MAX;
    pthread_mutex_unlock(&t->mutex);
}

static struct mac_entry **
find(struct mac_table *t, const uint8_t mac[6], uint16_t vlan)
{
    struct mac_entry **pp = &t->buckets[mac_hash(mac, vlan)
                                        & (t->n_buckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->vlan == vlan && !memcmp((*pp)->mac, mac, 6)) {
            break;
        }
    }
    return pp;
}

/* Evicts the least recently used entry to make room (the table is small
 * enough that a scan on overflow is fine). */
static void
evict_one(struct mac_table *t)
{
    struct mac_entry **oldest = NULL;
    for (unsigned i = 0; i < t->n_buckets; i++) {
        for (struct mac_entry **pp = &t->buckets[i]; *pp;
             pp = &(*pp)->next) {
            if (!oldest || (*pp)->used < (*oldest)->used) {
                oldest = pp;
            }
        }
    }
    if (oldest) {
        remove_entry(t, oldest);
    }
}

bool
mac_table_learn(struct mac_table *t, const uint8_t mac[6], uint16_t vlan,
                uint32_t port, uint64_t now)
{
    bool changed = false;

    if (mac[0] & 1) {
        return false;           /* never learn multicast sources */
    }
    pthread_mutex_lock(&t->mutex);
    struct mac_entry **pp = find(t, mac, vlan);
    if (*pp) {
        if ((*pp)->port != port) {
            (*pp)->port = port;
            changed = true;
        }
        (*pp)->used = now;
    } else {
        if (t->n >= t->max) {
            evict_one(t);
            pp = find(t, mac, vlan);
        }
        struct mac_entry *e = malloc(sizeof *e);
        if (e) {
            memcpy(e->mac, mac, 6);
            e->vlan = vlan;
            e->port = port;
            e->used = now;
            e->next = NULL;
            *pp = e;
            t->n++;
            changed = true;
        }
    }
    if (changed) {
        atomic_fetch_add(&t->seq, 1);
    }
    pthread_mutex_unlock(&t->mutex);
    return changed;
}

uint32_t
mac_table_lookup(struct mac_table *t, const uint8_t mac[6], uint16_t vlan,
                 uint64_t now)
{
    uint32_t port = UINT32_MAX;

    pthread_mutex_lock(&t->mutex);
    struct mac_entry **pp = find(t, mac, vlan);
    if (*pp && now - (*pp)->used <= t->aging) {
        port = (*pp)->port;
    }
    pthread_mutex_unlock(&t->mutex);
    return port;
}

unsigned
mac_table_expire(struct mac_table *t, uint64_t now)
{
    unsigned n = 0;

    pthread_mutex_lock(&t->mutex);
    for (unsigned i = 0; i < t->n_buckets; i++) {
        for (struct mac_entry **pp = &t->buckets[i]; *pp;) {
            if (now - (*pp)->used > t->aging) {
                remove_entry(t, pp);
                n++;
            } else {
                pp = &(*pp)->next;
            }
        }
    }
    pthread_mutex_unlock(&t->mutex);
    return n;
}

uint64_t
mac_table_seq(const struct mac_table *t)
{
    return atomic_load(&t->seq);
}

void
mac_table_for_each(struct mac_table *t, uint64_t now, mac_table_cb *cb,
                   void *aux)
{
    pthread_mutex_lock(&t->mutex);
    for (unsigned i = 0; i < t->n_buckets; i++) {
        for (struct mac_entry *e = t->buckets[i]; e; e = e->next) {
            if (now - e->used <= t->aging) {
                cb(e->port, e->vlan, e->mac, now - e->used, aux);
            }
        }
    }
    pthread_mutex_unlock(&t->mutex);
}

unsigned
mac_table_count(struct mac_table *t)
{
    pthread_mutex_lock(&t->mutex);
    unsigned n = t->n;
    pthread_mutex_unlock(&t->mutex);
    return n;
}
