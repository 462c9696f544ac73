/* Tests for datapath/flow-table.c: tuple-space lookup over several masks,
 * UFID and exact-match indexes, removal, actions replacement, flush, the
 * resumable dump cursor, the exact-match cache, subtable ranking, resizing
 * with thousands of flows, and lock-free readers racing the writer. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#include <cmocka.h>

#include "actions.h"
#include "flow-table.h"

/* Sets a key field and matches it exactly. */
#define EXACT(M, FIELD, VAL)                                                 \
    do {                                                                     \
        (M)->key.FIELD = (VAL);                                              \
        memset(&(M)->mask.FIELD, 0xff, sizeof (M)->mask.FIELD);              \
    } while (0)

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A packet key with every field filled with noise, so that lookups prove
 * that unmasked bits are ignored. */
static void
noisy_key(struct flow_key *k)
{
    uint8_t *p = (uint8_t *) k;

    for (size_t i = 0; i < sizeof *k; i++) {
        p[i] = (uint8_t) rng();
    }
    k->tunnel.opts_len = 8;
}

static struct dp_actions *
make_acts(uint32_t tag)
{
    struct dp_actions *a = malloc(sizeof *a + 4);

    assert_non_null(a);
    a->len = 4;
    a->pad = 0;
    memcpy(a->attrs, &tag, 4);
    return a;
}

static uint32_t
acts_tag(const struct dp_flow *f)
{
    const struct dp_actions *a = atomic_load(&f->acts);
    uint32_t tag;

    assert_non_null(a);
    assert_int_equal(a->len, 4);
    memcpy(&tag, a->attrs, 4);
    return tag;
}

static struct dp_flow *
insert_match(struct flow_table *t, const struct flow_match *m,
             const uint8_t *ufid, uint8_t ufid_len)
{
    struct dp_flow *f = flow_alloc(m, NULL);

    assert_non_null(f);
    if (ufid_len) {
        memcpy(f->ufid, ufid, ufid_len);
        f->ufid_len = ufid_len;
    }
    assert_int_equal(flow_table_insert(t, f), 0);
    return f;
}

/* in_port + IPv4 destination. */
static void
match_port_dst(struct flow_match *m, uint32_t port, uint32_t dst)
{
    memset(m, 0, sizeof *m);
    EXACT(m, in_port, port);
    EXACT(m, eth_type, htons(0x0800));
    EXACT(m, ipv4_dst, htonl(dst));
}

static struct dp_flow *
lookup(struct flow_table *t, const struct flow_key *k, uint32_t *n_hit)
{
    struct dp_flow *f;
    uint32_t n = 12345;

    urcu_memb_read_lock();
    f = flow_table_lookup(t, k, &n);
    urcu_memb_read_unlock();
    if (n_hit) {
        *n_hit = n;
    }
    return f;
}

static int
setup_rcu(void **state)
{
    (void) state;
    urcu_memb_register_thread();
    return 0;
}

static int
teardown_rcu(void **state)
{
    (void) state;
    urcu_memb_barrier();
    urcu_memb_unregister_thread();
    return 0;
}

static void
test_masks_lookup(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match ma, mb, mc, md;
    struct dp_flow *fa, *fb, *fb2, *fc, *fd;
    struct flow_key k;
    uint32_t n_hit;

    (void) state;
    assert_non_null(t);

    /* A: every packet of port 1. */
    memset(&ma, 0, sizeof ma);
    EXACT(&ma, in_port, 1);
    fa = insert_match(t, &ma, NULL, 0);

    /* B: port 2, IPv4 to two destinations (two flows, one mask). */
    match_port_dst(&mb, 2, 0x0a000002);
    fb = insert_match(t, &mb, NULL, 0);
    match_port_dst(&mb, 2, 0x0a000003);
    fb2 = insert_match(t, &mb, NULL, 0);

    /* C: port 3, TCP to port 80, on a partial mask of tp_dst. */
    memset(&mc, 0, sizeof mc);
    EXACT(&mc, in_port, 3);
    EXACT(&mc, eth_type, htons(0x0800));
    EXACT(&mc, ip_proto, 6);
    mc.key.tp_dst = htons(80);
    mc.mask.tp_dst = htons(0xfff0);
    fc = insert_match(t, &mc, NULL, 0);

    /* D: port 4, tunnel id and the first option bytes (a mask that
     * reaches into tun_opts). */
    memset(&md, 0, sizeof md);
    EXACT(&md, in_port, 4);
    EXACT(&md, tunnel.tun_id, 0x1234);
    md.key.tun_opts[0] = 0xab;
    md.key.tun_opts[1] = 0xcd;
    md.mask.tun_opts[0] = 0xff;
    md.mask.tun_opts[1] = 0xff;
    fd = insert_match(t, &md, NULL, 0);

    assert_int_equal(flow_table_count(t), 5);
    assert_int_equal(flow_table_n_masks(t), 4);

    for (int i = 0; i < 200; i++) {
        noisy_key(&k);
        k.in_port = 1;
        assert_ptr_equal(lookup(t, &k, &n_hit), fa);
        assert_true(n_hit >= 1 && n_hit <= 4);

        noisy_key(&k);
        k.in_port = 2;
        k.eth_type = htons(0x0800);
        k.ipv4_dst = htonl(0x0a000002);
        assert_ptr_equal(lookup(t, &k, NULL), fb);
        k.ipv4_dst = htonl(0x0a000003);
        assert_ptr_equal(lookup(t, &k, NULL), fb2);
        k.ipv4_dst = htonl(0x0a000004);
        assert_null(lookup(t, &k, &n_hit));
        assert_int_equal(n_hit, 4);     /* a miss probes every mask */
        k.ipv4_dst = htonl(0x0a000002);
        k.eth_type = htons(0x86dd);
        assert_null(lookup(t, &k, NULL));

        noisy_key(&k);
        k.in_port = 3;
        k.eth_type = htons(0x0800);
        k.ip_proto = 6;
        k.tp_dst = htons(80 + (i % 16));        /* 80..95 under the mask */
        assert_ptr_equal(lookup(t, &k, NULL), fc);
        k.tp_dst = htons(96);
        assert_null(lookup(t, &k, NULL));

        noisy_key(&k);
        k.in_port = 4;
        k.tunnel.tun_id = 0x1234;
        k.tun_opts[0] = 0xab;
        k.tun_opts[1] = 0xcd;
        assert_ptr_equal(lookup(t, &k, NULL), fd);
        k.tun_opts[1] = 0xce;
        assert_null(lookup(t, &k, NULL));

        noisy_key(&k);
        k.in_port = 5;
        assert_null(lookup(t, &k, NULL));
    }
    flow_table_destroy(t);
}

static void
test_catch_all_and_masked_storage(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match m, probe;
    struct dp_flow *f, *dup;
    struct flow_key k;

    (void) state;
    /* A key with bits outside its mask is stored masked: find_exact with
     * the masked key finds it and a second insert of the same match is a
     * duplicate. */
    match_port_dst(&m, 7, 0x01020304);
    m.key.ipv4_src = htonl(0xdeadbeef);         /* not in the mask */
    f = insert_match(t, &m, NULL, 0);
    assert_int_equal(f->match.key.ipv4_src, 0);
    assert_int_equal(f->unmasked_key.ipv4_src, htonl(0xdeadbeef));
    match_port_dst(&probe, 7, 0x01020304);
    assert_ptr_equal(flow_table_find_exact(t, &probe), f);

    dup = flow_alloc(&probe, NULL);
    assert_non_null(dup);
    assert_int_equal(flow_table_insert(t, dup), -EEXIST);
    flow_free(dup);
    assert_int_equal(flow_table_insert(t, f), -EINVAL);   /* already in */

    /* The all-wildcard mask matches everything that nothing else does. */
    memset(&m, 0, sizeof m);
    f = insert_match(t, &m, NULL, 0);
    assert_int_equal(flow_table_n_masks(t), 2);
    noisy_key(&k);
    k.in_port = 99;
    assert_ptr_equal(lookup(t, &k, NULL), f);
    assert_ptr_equal(flow_table_find_exact(t, &m), f);
    flow_table_destroy(t);
}

static void
test_ufid(void **state)
{
    struct flow_table *t = flow_table_create();
    uint8_t u1[16], u2[16], u3[8];
    struct flow_match m;
    struct dp_flow *f1, *f2, *f3, *bad;

    (void) state;
    memset(u1, 0x11, sizeof u1);
    memset(u2, 0x22, sizeof u2);
    memset(u3, 0x11, sizeof u3);            /* prefix of u1, shorter */

    match_port_dst(&m, 1, 1);
    f1 = insert_match(t, &m, u1, 16);
    match_port_dst(&m, 1, 2);
    f2 = insert_match(t, &m, u2, 16);
    match_port_dst(&m, 1, 3);
    f3 = insert_match(t, &m, u3, 8);

    assert_ptr_equal(flow_table_find_ufid(t, u1, 16), f1);
    assert_ptr_equal(flow_table_find_ufid(t, u2, 16), f2);
    assert_ptr_equal(flow_table_find_ufid(t, u3, 8), f3);
    assert_null(flow_table_find_ufid(t, u1, 8 + 1));
    assert_null(flow_table_find_ufid(t, u1, 0));
    assert_null(flow_table_find_ufid(t, u1, 17));
    u2[15] ^= 1;
    assert_null(flow_table_find_ufid(t, u2, 16));
    u2[15] ^= 1;

    /* Same UFID, different key: refused. */
    match_port_dst(&m, 1, 4);
    bad = flow_alloc(&m, NULL);
    memcpy(bad->ufid, u1, 16);
    bad->ufid_len = 16;
    assert_int_equal(flow_table_insert(t, bad), -EEXIST);
    bad->ufid_len = 17;
    assert_int_equal(flow_table_insert(t, bad), -EINVAL);
    flow_free(bad);

    /* find_exact works for flows with a UFID too. */
    match_port_dst(&m, 1, 2);
    assert_ptr_equal(flow_table_find_exact(t, &m), f2);

    flow_table_remove(t, f1);
    assert_null(flow_table_find_ufid(t, u1, 16));
    assert_ptr_equal(flow_table_find_ufid(t, u2, 16), f2);
    /* The UFID is free again. */
    match_port_dst(&m, 1, 9);
    f1 = insert_match(t, &m, u1, 16);
    assert_ptr_equal(flow_table_find_ufid(t, u1, 16), f1);
    assert_int_equal(flow_table_count(t), 3);
    flow_table_destroy(t);
}

static void
test_find_exact(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match narrow, wide, other;
    struct dp_flow *fn, *fw;

    (void) state;
    match_port_dst(&narrow, 1, 0x0a000001);
    fn = insert_match(t, &narrow, NULL, 0);

    /* Same key, /24 destination mask: a different match. */
    wide = narrow;
    wide.key.ipv4_dst = htonl(0x0a000000);
    wide.mask.ipv4_dst = htonl(0xffffff00);
    wide.key.in_port = 2;
    fw = insert_match(t, &wide, NULL, 0);

    assert_ptr_equal(flow_table_find_exact(t, &narrow), fn);
    assert_ptr_equal(flow_table_find_exact(t, &wide), fw);

    /* Same mask as 'wide', but a key no flow has. */
    other = wide;
    other.key.ipv4_dst = htonl(0x0b000000);
    assert_null(flow_table_find_exact(t, &other));
    /* A key matching fw's under fw's mask, but with an unknown mask. */
    other = wide;
    other.mask.ipv4_dst = htonl(0xfffffff0);
    assert_null(flow_table_find_exact(t, &other));

    flow_table_remove(t, fn);
    assert_null(flow_table_find_exact(t, &narrow));
    assert_ptr_equal(flow_table_find_exact(t, &wide), fw);
    flow_table_destroy(t);
}

static void
test_remove(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match m1, m2;
    struct dp_flow *f1, *f2;
    struct flow_key k;

    (void) state;
    match_port_dst(&m1, 1, 5);
    f1 = insert_match(t, &m1, NULL, 0);
    memset(&m2, 0, sizeof m2);
    EXACT(&m2, in_port, 2);
    f2 = insert_match(t, &m2, NULL, 0);
    assert_int_equal(flow_table_n_masks(t), 2);

    memset(&k, 0, sizeof k);
    k.in_port = 1;
    k.eth_type = htons(0x0800);
    k.ipv4_dst = htonl(5);
    assert_ptr_equal(lookup(t, &k, NULL), f1);

    urcu_memb_read_lock();      /* keeps f1 readable after removal */
    flow_table_remove(t, f1);
    assert_true(atomic_load(&f1->dead));
    assert_null(flow_table_lookup(t, &k, NULL));
    flow_table_remove(t, f1);   /* twice: ignored */
    urcu_memb_read_unlock();

    assert_int_equal(flow_table_count(t), 1);
    assert_int_equal(flow_table_n_masks(t), 1);    /* empty mask gone */
    k.in_port = 2;
    assert_ptr_equal(lookup(t, &k, NULL), f2);
    flow_table_remove(t, f2);
    assert_int_equal(flow_table_count(t), 0);
    assert_int_equal(flow_table_n_masks(t), 0);
    assert_null(lookup(t, &k, NULL));

    /* The table works again after going empty. */
    f1 = insert_match(t, &m1, NULL, 0);
    k.in_port = 1;
    assert_ptr_equal(lookup(t, &k, NULL), f1);
    flow_table_destroy(t);
}

static void
test_set_actions_and_stats(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match m;
    struct dp_flow *f, *loose;

    (void) state;
    match_port_dst(&m, 1, 1);
    f = flow_alloc(&m, NULL);
    flow_table_set_actions(t, f, make_acts(1));     /* before insert */
    flow_table_set_actions(t, f, make_acts(2));
    assert_int_equal(flow_table_insert(t, f), 0);
    assert_int_equal(acts_tag(f), 2);
    for (uint32_t i = 3; i < 20; i++) {
        flow_table_set_actions(t, f, make_acts(i));
        assert_int_equal(acts_tag(f), i);
    }
    flow_table_set_actions(t, f, NULL);
    assert_null(atomic_load(&f->acts));
    flow_table_set_actions(t, f, make_acts(42));

    flow_stats_hit(f, 1, 100, 0x02, 1000);
    flow_stats_hit(f, 1, 60, 0x10, 2000);
    flow_stats_hit(f, 1, 40, 0, 1500);                /* older clock */
    assert_int_equal(atomic_load(&f->stats.packets), 3);
    assert_int_equal(atomic_load(&f->stats.bytes), 200);
    assert_int_equal(atomic_load(&f->stats.used), 2000);
    assert_int_equal(atomic_load(&f->stats.tcp_flags), 0x12);

    /* A flow that never went in is freed with its actions. */
    loose = flow_alloc(&m, NULL);
    flow_table_set_actions(t, loose, make_acts(7));
    flow_free(loose);
    flow_table_destroy(t);      /* LeakSanitizer checks the rest */
}

static void
test_flush(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match m;
    struct flow_key k;
    uint8_t ufid[16] = {1};
    uint64_t cursor = 0;

    (void) state;
    for (uint32_t i = 0; i < 300; i++) {
        match_port_dst(&m, i % 3, i);
        m.mask.ipv4_dst = htonl(0xffffffffu << (i % 5));
        m.key.ipv4_dst &= m.mask.ipv4_dst;
        if (flow_table_find_exact(t, &m)) {
            continue;
        }
        ufid[1] = (uint8_t) i;
        ufid[2] = (uint8_t) (i >> 8);
        struct dp_flow *f = insert_match(t, &m, ufid, 16);
        flow_table_set_actions(t, f, make_acts(i));
    }
    assert_true(flow_table_count(t) > 100);
    assert_int_equal(flow_table_n_masks(t), 5);
    flow_table_flush(t);
    assert_int_equal(flow_table_count(t), 0);
    assert_int_equal(flow_table_n_masks(t), 0);
    assert_null(flow_table_next(t, &cursor));
    ufid[1] = 1;
    assert_null(flow_table_find_ufid(t, ufid, 16));
    memset(&k, 0, sizeof k);
    k.eth_type = htons(0x0800);
    k.ipv4_dst = htonl(1);
    k.in_port = 1;
    assert_null(lookup(t, &k, NULL));
    /* Usable after a flush. */
    match_port_dst(&m, 1, 1);
    struct dp_flow *f = insert_match(t, &m, ufid, 16);
    assert_ptr_equal(lookup(t, &k, NULL), f);
    flow_table_destroy(t);
}

#define DUMP_N 2000

static void
test_dump_cursor(void **state)
{
    struct flow_table *t = flow_table_create();
    static struct dp_flow *flows[DUMP_N * 2];
    static uint8_t seen[DUMP_N * 2];
    static bool removed[DUMP_N * 2];
    struct flow_match m;
    uint64_t cursor = 0;
    uint32_t n = 0, n_seen = 0, steps = 0;
    struct dp_flow *f;

    (void) state;
    /* Full dump without changes: every flow once. */
    for (n = 0; n < DUMP_N; n++) {
        match_port_dst(&m, n % 7, n);
        flows[n] = insert_match(t, &m, NULL, 0);
    }
    while ((f = flow_table_next(t, &cursor)) != NULL && n_seen <= DUMP_N) {
        for (uint32_t i = 0; i < n; i++) {
            if (flows[i] == f) {
                seen[i]++;
                n_seen++;
                break;
            }
        }
    }
    assert_int_equal(n_seen, DUMP_N);
    for (uint32_t i = 0; i < DUMP_N; i++) {
        assert_int_equal(seen[i], 1);
    }

    /* Dump again, changing the table between steps: inserts, removals of
     * flows before and after the cursor, enough removals to compact. */
    memset(seen, 0, sizeof seen);
    cursor = 0;
    n_seen = 0;
    for (;;) {
        f = flow_table_next(t, &cursor);
        if (!f) {
            break;
        }
        uint32_t idx = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            if (flows[i] == f && !removed[i]) {
                idx = i;
                break;
            }
        }
        assert_true(idx != UINT32_MAX);     /* only live flows come back */
        seen[idx]++;
        assert_int_equal(seen[idx], 1);     /* never twice */
        steps++;

        /* Remove three random live flows (maybe seen, maybe not). */
        for (int r = 0; r < 3; r++) {
            uint32_t v = (uint32_t) (rng() % n);
            if (!removed[v] && v % 4 != 0) {
                flow_table_remove(t, flows[v]);
                removed[v] = true;
            }
        }
        /* And add one now and then. */
        if (steps % 2 == 0 && n < DUMP_N * 2) {
            match_port_dst(&m, 100, n);
            flows[n] = insert_match(t, &m, NULL, 0);
            n++;
        }
    }
    /* Flows that were there all along (never removed, inserted before the
     * dump started) were seen exactly once. */
    for (uint32_t i = 0; i < DUMP_N; i++) {
        if (!removed[i]) {
            assert_int_equal(seen[i], 1);
        }
    }
    /* Every index-0-mod-4 flow is one of them. */
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[DUMP_N - 4], 1);
    flow_table_destroy(t);
}

static void
test_emc(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_table *t2 = flow_table_create();
    struct flow_emc *emc = flow_emc_create();
    struct flow_match m;
    struct dp_flow *f, *f_new, *f2, *r;
    struct flow_key k;
    uint32_t n_hit;
    bool hit;

    (void) state;
    assert_non_null(emc);
    match_port_dst(&m, 1, 0x0a000001);
    f = insert_match(t, &m, NULL, 0);

    noisy_key(&k);
    k.in_port = 1;
    k.eth_type = htons(0x0800);
    k.ipv4_dst = htonl(0x0a000001);

    urcu_memb_read_lock();
    r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
    assert_ptr_equal(r, f);
    assert_false(hit);
    assert_int_equal(n_hit, 1);
    r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
    assert_ptr_equal(r, f);
    assert_true(hit);
    assert_int_equal(n_hit, 0);

    /* A different key in the same megaflow misses the cache first. */
    k.ipv4_src ^= 1;
    r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
    assert_ptr_equal(r, f);
    assert_false(hit);
    k.ipv4_src ^= 1;

    /* The same cache used with another table never answers for it. */
    r = flow_table_lookup_cached(t2, emc, &k, &n_hit, &hit);
    assert_null(r);
    assert_false(hit);
    f2 = insert_match(t2, &m, NULL, 0);
    r = flow_table_lookup_cached(t2, emc, &k, &n_hit, &hit);
    assert_ptr_equal(r, f2);
    assert_false(hit);
    urcu_memb_read_unlock();

    /* Removing the flow invalidates the cached entry... */
    flow_table_remove(t, f);
    urcu_memb_read_lock();
    r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
    assert_null(r);
    assert_false(hit);
    urcu_memb_read_unlock();
    /* ...even after the grace period: the cache's reference keeps the
     * dead flow's memory valid for the check (ASan would see otherwise). */
    urcu_memb_synchronize_rcu();
    urcu_memb_barrier();
    urcu_memb_read_lock();
    r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
    assert_null(r);
    assert_false(hit);
    urcu_memb_read_unlock();

    /* A replacement flow is found, and cached again soon: both ways of
     * the set are taken (the dead flow and t2's), and busy entries are
     * replaced on one miss in 16. */
    f_new = insert_match(t, &m, NULL, 0);
    urcu_memb_read_lock();
    r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
    assert_ptr_equal(r, f_new);
    assert_false(hit);
    int tries = 0;
    do {
        r = flow_table_lookup_cached(t, emc, &k, &n_hit, &hit);
        assert_ptr_equal(r, f_new);
    } while (!hit && ++tries < 64);
    assert_true(hit);
    r = flow_table_lookup_cached(t2, emc, &k, &n_hit, &hit);
    assert_ptr_equal(r, f2);        /* t2's entry was not the victim... */
    assert_true(hit);               /* ...the dead flow's was */
    urcu_memb_read_unlock();

    /* Many keys through the cache: all right, most hits on a second
     * pass. */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t hits = 0;
        for (uint32_t i = 0; i < 2000; i++) {
            memset(&k, 0, sizeof k);
            k.in_port = 1;
            k.eth_type = htons(0x0800);
            k.ipv4_dst = htonl(0x0a000001);
            k.ipv4_src = htonl(i);
            urcu_memb_read_lock();
            r = flow_table_lookup_cached(t, emc, &k, NULL, &hit);
            urcu_memb_read_unlock();
            assert_ptr_equal(r, f_new);
            hits += hit;
        }
        if (pass == 1) {
            assert_true(hits > 1500);
        } else {
            assert_int_equal(hits, 0);
        }
    }

    flow_emc_destroy(emc);
    flow_table_destroy(t);
    flow_table_destroy(t2);
}

static void
test_ranking(void **state)
{
    struct flow_table *t = flow_table_create();
    struct flow_match m;
    struct dp_flow *last = NULL;
    struct flow_key k;
    uint32_t n_hit;

    (void) state;
    /* Eight masks, one per port, each a different destination prefix. */
    for (uint32_t p = 0; p < 8; p++) {
        match_port_dst(&m, p, 0x0a000000);
        m.mask.ipv4_dst = htonl(0xffffffffu << (p + 1));
        last = insert_match(t, &m, NULL, 0);
    }
    assert_int_equal(flow_table_n_masks(t), 8);
    memset(&k, 0, sizeof k);
    k.in_port = 7;
    k.eth_type = htons(0x0800);
    k.ipv4_dst = htonl(0x0a000001);
    assert_ptr_equal(lookup(t, &k, &n_hit), last);
    assert_int_equal(n_hit, 8);     /* newest mask ranks last */

    urcu_memb_read_lock();
    for (int i = 0; i < 100000; i++) {
        assert_ptr_equal(flow_table_lookup(t, &k, &n_hit), last);
    }
    urcu_memb_read_unlock();
    assert_ptr_equal(lookup(t, &k, &n_hit), last);
    assert_int_equal(n_hit, 1);     /* the busy subtable moved to the top */

    /* Ranking did not lose anyone. */
    for (uint32_t p = 0; p < 8; p++) {
        k.in_port = p;
        assert_non_null(lookup(t, &k, NULL));
    }
    assert_int_equal(flow_table_n_masks(t), 8);
    flow_table_destroy(t);
}

#define MANY 20000

static void
test_many_flows(void **state)
{
    struct flow_table *t = flow_table_create();
    static struct dp_flow *flows[MANY];
    struct flow_match m;
    struct flow_key k;

    (void) state;
    for (uint32_t i = 0; i < MANY; i++) {
        match_port_dst(&m, i % 4, i * 7919);
        flows[i] = insert_match(t, &m, NULL, 0);
    }
    assert_int_equal(flow_table_count(t), MANY);
    assert_int_equal(flow_table_n_masks(t), 1);
    memset(&k, 0, sizeof k);
    k.eth_type = htons(0x0800);
    for (uint32_t i = 0; i < MANY; i++) {
        k.in_port = i % 4;
        k.ipv4_dst = htonl(i * 7919);
        assert_ptr_equal(lookup(t, &k, NULL), flows[i]);
    }
    /* Millions of absent keys against these flows: a few share a
     * 32-bit hash with a flow, so this proves that the key itself, not
     * just its hash, is compared. */
    for (uint32_t i = 0; i < 2000000; i++) {
        k.in_port = i % 4;
        k.ipv4_dst = htonl(0x80000000u | (i * 2654435761u));
        assert_null(lookup(t, &k, NULL));
    }

    /* Remove most (shrinks), check the rest and the misses. */
    for (uint32_t i = 0; i < MANY; i++) {
        if (i % 10) {
            flow_table_remove(t, flows[i]);
        }
    }
    assert_int_equal(flow_table_count(t), MANY / 10);
    for (uint32_t i = 0; i < MANY; i++) {
        k.in_port = i % 4;
        k.ipv4_dst = htonl(i * 7919);
        if (i % 10) {
            assert_null(lookup(t, &k, NULL));
        } else {
            assert_ptr_equal(lookup(t, &k, NULL), flows[i]);
        }
    }

    flow_table_flush(t);

    /* Many masks: 600 distinct tp_src masks. */
    for (uint32_t i = 0; i < 600; i++) {
        memset(&m, 0, sizeof m);
        EXACT(&m, in_port, i);
        m.mask.tp_src = htons((uint16_t) (i + 1));
        m.key.tp_src = htons((uint16_t) (i + 1));
        flows[i] = insert_match(t, &m, NULL, 0);
    }
    assert_int_equal(flow_table_n_masks(t), 600);
    for (uint32_t i = 0; i < 600; i++) {
        memset(&k, 0, sizeof k);
        k.in_port = i;
        k.tp_src = htons((uint16_t) (i + 1));
        assert_ptr_equal(lookup(t, &k, NULL), flows[i]);
    }
    for (uint32_t i = 0; i < 600; i += 2) {
        flow_table_remove(t, flows[i]);
    }
    assert_int_equal(flow_table_n_masks(t), 300);
    flow_table_destroy(t);
}

/* ---------------- readers racing the writer ---------------- */

#define STABLE_N 256
#define CHURN_N 4096

struct race {
    struct flow_table *t;
    struct dp_flow *stable[STABLE_N];
    _Atomic bool stop;
    _Atomic uint64_t errors;
    _Atomic uint64_t lookups;
};

struct reader_arg {
    struct race *rc;
    bool use_emc;
};

static void
stable_key(struct flow_key *k, uint32_t i, uint64_t noise)
{
    memset(k, 0, sizeof *k);
    k->in_port = 1;
    k->eth_type = htons(0x0800);
    k->ipv4_dst = htonl(0x0a000000 + i);
    k->ipv4_src = (uint32_t) noise;     /* outside the mask */
    k->tp_src = (uint16_t) (noise >> 32);
}

static void
churn_match(struct flow_match *m, uint32_t i)
{
    /* Port 2; masks vary with i so subtables come and go. */
    memset(m, 0, sizeof *m);
    EXACT(m, in_port, 2);
    EXACT(m, eth_type, htons(0x0800));
    m->mask.ipv4_dst = htonl(0xffffffffu << (i % 6));
    m->key.ipv4_dst = htonl(0x14000000 + (i << 6)) & m->mask.ipv4_dst;
}

/* True if 'f' is a correct answer for 'k': its masked key matches. */
static bool
flow_matches(const struct dp_flow *f, const struct flow_key *k)
{
    const uint8_t *kb = (const uint8_t *) k;
    const uint8_t *mk = (const uint8_t *) &f->match.key;
    const uint8_t *mm = (const uint8_t *) &f->match.mask;

    for (size_t i = 0; i < sizeof *k; i++) {
        if ((kb[i] & mm[i]) != mk[i]) {
            return false;
        }
    }
    return true;
}

static void *
reader_main(void *arg)
{
    const struct reader_arg *ra = arg;
    struct race *rc = ra->rc;
    struct flow_emc *emc = ra->use_emc ? flow_emc_create() : NULL;
    uint64_t seed = ra->use_emc ? 0x9e3779b97f4a7c15ULL
                                : 0x2545f4914f6cdd1dULL;
    uint64_t n = 0;

    urcu_memb_register_thread();
    while (!atomic_load_explicit(&rc->stop, memory_order_relaxed)) {
        struct flow_key k;
        struct dp_flow *f;
        bool hit;

        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        uint32_t i = (uint32_t) (seed % STABLE_N);

        urcu_memb_read_lock();
        /* A stable flow must always be found, and be the right one. */
        stable_key(&k, i, seed % 64);
        f = emc ? flow_table_lookup_cached(rc->t, emc, &k, NULL, &hit)
                : flow_table_lookup(rc->t, &k, NULL);
        if (f != rc->stable[i]) {
            atomic_fetch_add(&rc->errors, 1);
        } else {
            /* Its actions are replaced all the time: must stay readable. */
            const struct dp_actions *a =
                atomic_load_explicit(&f->acts, memory_order_acquire);
            if (!a || a->len != 4) {
                atomic_fetch_add(&rc->errors, 1);
            }
        }
        /* A churning flow may or may not be there; if found it must
         * match. */
        struct flow_match cm;
        churn_match(&cm, (uint32_t) (seed >> 20) % CHURN_N);
        k = cm.key;
        k.ipv4_src = (uint32_t) seed;
        f = emc ? flow_table_lookup_cached(rc->t, emc, &k, NULL, &hit)
                : flow_table_lookup(rc->t, &k, NULL);
        if (f && !flow_matches(f, &k)) {
            atomic_fetch_add(&rc->errors, 1);
        }
        urcu_memb_read_unlock();
        n += 2;
    }
    flow_emc_destroy(emc);
    urcu_memb_unregister_thread();
    atomic_fetch_add(&rc->lookups, n);
    return NULL;
}

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_concurrent(void **state)
{
    static struct race rc;
    static struct dp_flow *churn[CHURN_N];
    struct reader_arg args[2];
    pthread_t th[2];
    struct flow_match m;
    uint64_t ops = 0;
    double start;

    (void) state;
    memset(&rc, 0, sizeof rc);
    memset(churn, 0, sizeof churn);
    rc.t = flow_table_create();
    for (uint32_t i = 0; i < STABLE_N; i++) {
        match_port_dst(&m, 1, 0x0a000000 + i);
        rc.stable[i] = insert_match(rc.t, &m, NULL, 0);
        flow_table_set_actions(rc.t, rc.stable[i], make_acts(i));
    }
    for (int i = 0; i < 2; i++) {
        /* One reader through the exact-match cache, one without. */
        args[i].rc = &rc;
        args[i].use_emc = (i == 1);
        assert_int_equal(
            pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    }

    start = now_sec();
    while (now_sec() - start < 1.0) {
        uint32_t i = (uint32_t) (rng() % CHURN_N);

        if (churn[i]) {
            flow_table_remove(rc.t, churn[i]);
            churn[i] = NULL;
        } else {
            churn_match(&m, i);
            struct dp_flow *f = flow_alloc(&m, NULL);
            assert_non_null(f);
            /* Different i can share a match under a short mask. */
            if (flow_table_insert(rc.t, f) == 0) {
                churn[i] = f;
            } else {
                flow_free(f);
            }
        }
        uint32_t s = (uint32_t) (rng() % STABLE_N);
        flow_table_set_actions(rc.t, rc.stable[s], make_acts(s));
        ops++;
        /* Now and then empty the churn set: subtables disappear, tables
         * shrink, then grow again. */
        if (ops % 50000 == 0) {
            for (uint32_t j = 0; j < CHURN_N; j++) {
                if (churn[j]) {
                    flow_table_remove(rc.t, churn[j]);
                    churn[j] = NULL;
                }
            }
        }
    }
    atomic_store(&rc.stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    print_message("# writer ops %llu, reader lookups %llu\n",
                  (unsigned long long) ops,
                  (unsigned long long) atomic_load(&rc.lookups));
    assert_int_equal(atomic_load(&rc.errors), 0);
    assert_true(atomic_load(&rc.lookups) > 1000);
    assert_true(ops > 1000);
    flow_table_destroy(rc.t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masks_lookup),
        cmocka_unit_test(test_catch_all_and_masked_storage),
        cmocka_unit_test(test_ufid),
        cmocka_unit_test(test_find_exact),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_set_actions_and_stats),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_dump_cursor),
        cmocka_unit_test(test_emc),
        cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_many_flows),
        cmocka_unit_test(test_concurrent),
    };

    return cmocka_run_group_tests(tests, setup_rcu, teardown_rcu);
}
