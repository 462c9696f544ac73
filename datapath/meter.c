/* Meters: the table (an RCU hash table keyed by meter id) and the token
 * buckets the fast path charges. */
#include "meter.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/rculfhash.h>
#include <urcu/urcu-memb.h>

#include "hash.h"

/* Bucket units: bits for kbit/s meters, 1/1000 packet for packets/s, so
 * that a rate times milliseconds is already in bucket units and both kinds
 * of meter run the same integer arithmetic. */
struct meter_band {
    uint32_t type;
    uint32_t rate;
    uint32_t burst;
    uint64_t bucket;
    struct ovs_flow_stats stats;
};

struct dp_meter {
    struct cds_lfht_node node;
    struct rcu_head rcu;
    /* Guards everything below 'lock' against concurrent forwarding
     * threads; the fields above it never change once published. */
    pthread_spinlock_t lock;
    uint32_t id;
    bool kbps;
    bool keep_stats;
    uint32_t n_bands;
    /* Longest idle time whose refill can matter: beyond it every bucket is
     * full anyway.  Clamping to it keeps delta * rate from overflowing. */
    uint64_t max_delta_ms;
    uint64_t used;
    struct ovs_flow_stats stats;
    struct meter_band bands[];
};

struct meter_table {
    struct cds_lfht *ht;
    uint32_t count;
    uint32_t max;
};

static uint32_t
id_hash(uint32_t id)
{
    return hash_finish(hash_add(0, id), 4);
}

/* The meter at 'it', or NULL at the end.  (cds_lfht_for_each_entry
 * computes container_of on the terminating NULL, which is undefined.) */
static struct dp_meter *
iter_meter(struct cds_lfht_iter *it)
{
    struct cds_lfht_node *n = cds_lfht_iter_get_node(it);
    return n ? caa_container_of(n, struct dp_meter, node) : NULL;
}

static int
match_id(struct cds_lfht_node *node, const void *key)
{
    const struct dp_meter *m = caa_container_of(node, struct dp_meter, node);
    return m->id == *(const uint32_t *) key;
}

struct meter_table *
meter_table_create(uint32_t max_meters)
{
    struct meter_table *t = calloc(1, sizeof *t);

    if (!t) {
        return NULL;
    }
    t->ht = cds_lfht_new_flavor(64, 64, 0, CDS_LFHT_AUTO_RESIZE
                                | CDS_LFHT_ACCOUNTING, &urcu_memb_flavor,
                                NULL);
    if (!t->ht) {
        free(t);
        return NULL;
    }
    t->max = max_meters;
    return t;
}

void
meter_free(struct dp_meter *m)
{
    if (m) {
        pthread_spin_destroy(&m->lock);
        free(m);
    }
}

static void
meter_free_cb(struct rcu_head *head)
{
    meter_free(caa_container_of(head, struct dp_meter, rcu));
}

void
meter_table_destroy(struct meter_table *t)
{
    struct cds_lfht_iter it;
    struct dp_meter *m;

    if (!t) {
        return;
    }
    /* No reader is left (see the header), so meters go at once; the read
     * lock is what the hash table's own API asks for. */
    urcu_memb_read_lock();
    cds_lfht_first(t->ht, &it);
    while ((m = iter_meter(&it))) {
        cds_lfht_next(t->ht, &it);
        cds_lfht_del(t->ht, &m->node);
        meter_free(m);
    }
    urcu_memb_read_unlock();
    cds_lfht_destroy(t->ht, NULL);
    free(t);
}

uint32_t
meter_table_max(const struct meter_table *t)
{
    return t->max;
}

uint32_t
meter_table_count(const struct meter_table *t)
{
    return t->count;
}

struct dp_meter *
meter_create(const struct meter_config *c, uint64_t now_ms)
{
    struct dp_meter *m;

    if (c->n_bands > METER_MAX_BANDS) {
        return NULL;
    }
    m = calloc(1, sizeof *m + c->n_bands * sizeof m->bands[0]);
    if (!m) {
        return NULL;
    }
    if (pthread_spin_init(&m->lock, PTHREAD_PROCESS_PRIVATE)) {
        free(m);
        return NULL;
    }
    cds_lfht_node_init(&m->node);
    m->id = c->id;
    m->kbps = c->kbps;
    m->keep_stats = c->keep_stats;
    m->used = now_ms;
    if (c->keep_stats) {
        m->stats = c->stats;
    }
    m->n_bands = c->n_bands;
    for (uint32_t i = 0; i < c->n_bands; i++) {
        struct meter_band *b = &m->bands[i];
        uint64_t fill_ms;

        b->type = c->bands[i].type;
        b->rate = c->bands[i].rate;
        b->burst = c->bands[i].burst;
        b->bucket = (uint64_t) b->burst * 1000;     /* starts full */
        fill_ms = b->rate ? b->bucket / b->rate : 0;
        if (fill_ms > m->max_delta_ms) {
            m->max_delta_ms = fill_ms;
        }
    }
    return m;
}

/* Copies 'm''s counters under its lock. */
static void
read_stats(struct dp_meter *m, struct meter_stats *s)
{
    memset(s, 0, sizeof *s);
    pthread_spin_lock(&m->lock);
    s->id = m->id;
    s->keep_stats = m->keep_stats;
    s->used = m->used;
    s->stats = m->stats;
    s->n_bands = m->n_bands;
    for (uint32_t i = 0; i < m->n_bands; i++) {
        s->band_stats[i] = m->bands[i].stats;
    }
    pthread_spin_unlock(&m->lock);
}

/* Inside urcu_memb_read_lock() (or on the writer). */
static struct dp_meter *
lookup(struct meter_table *t, uint32_t id, struct cds_lfht_iter *it)
{
    cds_lfht_lookup(t->ht, id_hash(id), match_id, &id, it);
    return iter_meter(it);
}

int
meter_table_set(struct meter_table *t, struct dp_meter *m,
                struct meter_stats *old)
{
    struct cds_lfht_iter it;
    struct dp_meter *prev;

    if (old) {
        memset(old, 0, sizeof *old);
        old->id = UINT32_MAX;
    }
    urcu_memb_read_lock();
    prev = lookup(t, m->id, &it);
    if (!prev && t->count >= t->max) {
        urcu_memb_read_unlock();
        meter_free(m);
        return -EFBIG;
    }
    if (prev) {
        /* One atomic step: a reader sees the old meter or the new one,
         * never neither. */
        cds_lfht_replace(t->ht, &it, id_hash(m->id), match_id, &m->id,
                         &m->node);
    } else {
        cds_lfht_add(t->ht, id_hash(m->id), &m->node);
        t->count++;
    }
    urcu_memb_read_unlock();
    if (prev) {
        if (old) {
            read_stats(prev, old);
        }
        urcu_memb_call_rcu(&prev->rcu, meter_free_cb);
    }
    return 0;
}

int
meter_table_get(struct meter_table *t, uint32_t id, struct meter_stats *s)
{
    struct cds_lfht_iter it;
    struct dp_meter *m;

    urcu_memb_read_lock();
    m = lookup(t, id, &it);
    if (m) {
        read_stats(m, s);
    }
    urcu_memb_read_unlock();
    return m ? 0 : -ENOENT;
}

int
meter_table_remove(struct meter_table *t, uint32_t id, struct meter_stats *s)
{
    struct cds_lfht_iter it;
    struct dp_meter *m;

    urcu_memb_read_lock();
    m = lookup(t, id, &it);
    if (m) {
        if (s) {
            read_stats(m, s);
        }
        cds_lfht_del(t->ht, &m->node);
        t->count--;
    }
    urcu_memb_read_unlock();
    if (!m) {
        return -ENOENT;
    }
    urcu_memb_call_rcu(&m->rcu, meter_free_cb);
    return 0;
}

uint32_t
meter_table_ids(struct meter_table *t, uint64_t from, uint32_t *ids,
                uint32_t max)
{
    struct cds_lfht_iter it;
    struct dp_meter *m;
    uint32_t n = 0;

    if (!max) {
        return 0;
    }
    /* Keep the 'max' lowest ids at or above 'from', sorted: the table has
     * no order of its own, and dumps are rare and small. */
    urcu_memb_read_lock();
    for (cds_lfht_first(t->ht, &it); (m = iter_meter(&it));
         cds_lfht_next(t->ht, &it)) {
        uint32_t id = m->id, i;

        if (id < from || (n == max && id >= ids[n - 1])) {
            continue;
        }
        if (n < max) {
            n++;
        }
        for (i = n - 1; i > 0 && ids[i - 1] > id; i--) {
            ids[i] = ids[i - 1];
        }
        ids[i] = id;
    }
    urcu_memb_read_unlock();
    return n;
}

bool
meter_execute(struct meter_table *t, uint32_t id, uint32_t len,
              uint64_t now_ms)
{
    struct cds_lfht_iter it;
    struct dp_meter *m = lookup(t, id, &it);
    struct meter_band *hit = NULL;
    uint64_t delta, cost;
    bool drop = false;

    if (!m) {
        return false;
    }
    pthread_spin_lock(&m->lock);
    /* Threads that read the clock before another one took the lock may
     * arrive "earlier" than 'used': count that as no time passing. */
    delta = now_ms > m->used ? now_ms - m->used : 0;
    if (delta > m->max_delta_ms) {
        delta = m->max_delta_ms;
    }
    if (now_ms > m->used) {
        m->used = now_ms;
    }
    m->stats.n_packets++;
    m->stats.n_bytes += len;

    cost = m->kbps ? (uint64_t) len * 8 : 1000;
    for (uint32_t i = 0; i < m->n_bands; i++) {
        struct meter_band *b = &m->bands[i];
        uint64_t cap = (uint64_t) b->burst * 1000;

        b->bucket += delta * b->rate;
        if (b->bucket > cap) {
            b->bucket = cap;
        }
        if (b->bucket >= cost) {
            b->bucket -= cost;
        } else if (!hit || b->rate > hit->rate) {
            /* Of the bands exceeded, the one of highest rate applies. */
            hit = b;
        }
    }
    if (hit) {
        hit->stats.n_packets++;
        hit->stats.n_bytes += len;
        drop = hit->type == OVS_METER_BAND_TYPE_DROP;
    }
    pthread_spin_unlock(&m->lock);
    return drop;
}
