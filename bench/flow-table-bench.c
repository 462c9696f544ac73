/* Micro-benchmark of datapath/flow-table.c: nanoseconds per lookup through
 * the megaflow classifier alone and through the exact-match cache, for a
 * few shapes of table.  One thread; times are the thread's CPU time, so
 * other load on the machine inflates them less.
 *
 * Not built by default.  Build and run from the repository root:
 *
 *   cc -std=gnu11 -O2 -D_GNU_SOURCE -Iinclude -Ilib -Idatapath \
 *      $(pkg-config --cflags liburcu-memb) -o /tmp/flow-table-bench \
 *      bench/flow-table-bench.c datapath/flow-table.c \
 *      $(pkg-config --libs liburcu-memb) && /tmp/flow-table-bench
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#include "flow-table.h"

#define N_KEYS 65536            /* packet keys per run, cycled */
#define ROUNDS 40

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Mask number 'j' of a table: in_port, eth_type, a destination prefix of
 * its own length and, for odd j, the TCP destination port too, as the
 * megaflows of a router with ACLs look. */
static void
make_match(struct flow_match *m, uint32_t j, uint32_t flow)
{
    memset(m, 0, sizeof *m);
    m->key.in_port = 1;
    m->mask.in_port = UINT32_MAX;
    m->key.recirc_id = 0;
    m->mask.recirc_id = UINT32_MAX;
    m->key.eth_type = htons(0x0800);
    m->mask.eth_type = 0xffff;
    m->mask.ipv4_dst = htonl(0xffffffffu << (j % 24));
    m->key.ipv4_dst = htonl((j << 24) | (flow << (j % 24))) & m->mask.ipv4_dst;
    if (j % 2) {
        m->key.ip_proto = 6;
        m->mask.ip_proto = 0xff;
        m->key.tp_dst = htons(80);
        m->mask.tp_dst = 0xffff;
    }
}

/* What varies between packets.  The lookup builds the full key from it in
 * a key that stays in L1, as extraction leaves it in the real fast path;
 * an array of 65536 full keys would measure DRAM instead. */
struct pkt {
    uint32_t ipv4_src, ipv4_dst;
    uint16_t tp_src, tp_dst;
    uint8_t ip_proto, eth_src5;
};

/* A packet of flow 'flow' of mask 'j': every other field random. */
static void
make_packet(struct pkt *p, uint32_t j, uint32_t flow)
{
    struct flow_match m;

    make_match(&m, j, flow);
    p->ipv4_dst = m.key.ipv4_dst
                  | htonl((uint32_t) rng() & ~(0xffffffffu << (j % 24)));
    p->ipv4_src = (uint32_t) rng();
    p->tp_src = (uint16_t) rng();
    p->eth_src5 = (uint8_t) rng();
    if (j % 2) {
        p->ip_proto = 6;
        p->tp_dst = htons(80);
    } else {
        p->ip_proto = 17;
        p->tp_dst = (uint16_t) rng();
    }
}

static void
fill_key(struct flow_key *k, const struct pkt *p)
{
    k->ipv4_src = p->ipv4_src;
    k->ipv4_dst = p->ipv4_dst;
    k->tp_src = p->tp_src;
    k->tp_dst = p->tp_dst;
    k->ip_proto = p->ip_proto;
    k->eth_src[5] = p->eth_src5;
}

static void
run(uint32_t n_masks, uint32_t flows_per_mask, uint32_t n_distinct)
{
    struct flow_table *t = flow_table_create();
    struct flow_emc *emc = flow_emc_create();
    struct pkt *pkts = malloc(N_KEYS * sizeof *pkts);
    struct flow_key key;
    struct flow_match m;
    uint64_t found = 0, probes = 0, emc_hits = 0;
    double t0, cls_ns, emc_ns;

    for (uint32_t j = 0; j < n_masks; j++) {
        for (uint32_t f = 0; f < flows_per_mask; f++) {
            make_match(&m, j, f);
            struct dp_flow *fl = flow_alloc(&m, NULL);
            if (flow_table_insert(t, fl)) {
                flow_free(fl);
            }
        }
    }
    /* 'n_distinct' packet keys (different 5-tuples), repeated to fill
     * the array: a few elephants or many mice. */
    for (uint32_t i = 0; i < N_KEYS; i++) {
        if (i < n_distinct) {
            make_packet(&pkts[i], (uint32_t) (rng() % n_masks),
                        (uint32_t) (rng() % flows_per_mask));
        } else {
            pkts[i] = pkts[i % n_distinct];
        }
    }
    memset(&key, 0, sizeof key);
    key.in_port = 1;
    key.eth_type = htons(0x0800);
    key.ip_ttl = 64;

    urcu_memb_read_lock();
    t0 = now_ns();
    for (int r = 0; r < ROUNDS; r++) {
        for (uint32_t i = 0; i < N_KEYS; i++) {
            uint32_t n_hit;
            fill_key(&key, &pkts[i]);
            found += flow_table_lookup(t, &key, &n_hit) != NULL;
            probes += n_hit;
        }
    }
    cls_ns = (now_ns() - t0) / ((double) ROUNDS * N_KEYS);

    t0 = now_ns();
    for (int r = 0; r < ROUNDS; r++) {
        for (uint32_t i = 0; i < N_KEYS; i++) {
            uint32_t n_hit;
            bool hit;
            fill_key(&key, &pkts[i]);
            found += flow_table_lookup_cached(t, emc, &key, &n_hit,
                                              &hit) != NULL;
            emc_hits += hit;
        }
    }
    emc_ns = (now_ns() - t0) / ((double) ROUNDS * N_KEYS);
    urcu_memb_read_unlock();

    printf("%6u masks %6u flows %6u keys | classifier %6.1f ns "
           "(%.2f probes) | emc %6.1f ns (%5.1f%% hits) | found %.1f%%\n",
           n_masks, flow_table_count(t), n_distinct, cls_ns,
           (double) probes / ((double) ROUNDS * N_KEYS), emc_ns,
           100.0 * emc_hits / ((double) ROUNDS * N_KEYS),
           100.0 * found / (2.0 * ROUNDS * N_KEYS));

    flow_emc_destroy(emc);
    flow_table_destroy(t);
    free(pkts);
}

int
main(void)
{
    urcu_memb_register_thread();
    printf("flow-table lookup, %zu-byte keys, one thread\n",
           sizeof(struct flow_key));
    run(1, 1000, 1024);
    run(1, 100000, 65536);
    run(4, 1000, 1024);
    run(4, 1000, 65536);
    run(16, 1000, 1024);
    run(16, 1000, 65536);
    run(64, 100, 65536);
    urcu_memb_unregister_thread();
    return 0;
}
