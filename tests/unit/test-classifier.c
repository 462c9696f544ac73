/* Unit tests for vswitchd/classifier.c: tuple-space search checked
 * against a brute-force linear scan (ofp_match_packet() over every rule)
 * under random inserts, replacements and deletes with overlapping masks
 * and shared priorities; the megaflow mask a lookup reports is checked
 * by looking up packets that differ only outside it. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "classifier.h"
#include "ofp-match.h"

struct trule {
    struct ofp_match match;
    uint16_t priority;
    struct cls_rule cr;
    bool in;
};

#define TRULE(CR) ((struct trule *) ((char *) (CR) \
                                     - offsetof(struct trule, cr)))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng >> 16);
}

static uint32_t
pick(const uint32_t *v, size_t n)
{
    return v[rnd() % n];
}

#define PICK(A) pick(A, sizeof (A) / sizeof (A)[0])

static const uint32_t eth_types[] = { 0x0800, 0x86dd, 0x0806 };
static const uint32_t protos[] = { 6, 17 };
static const uint32_t addrs[] = { 0x0a000001, 0x0a000102, 0x0a010101,
                                  0x0b000001 };
static const uint32_t prefixes[] = { 8, 16, 24, 32 };
static const uint32_t ports[] = { 1, 2, 80, 443 };
static const uint32_t regs[] = { 0, 5, 7 };
static const uint32_t in_ports[] = { 1, 2, 3 };

/* A random packet over small value sets, so that rules hit often. */
static void
random_packet(struct ofp_fields *p)
{
    memset(p, 0, sizeof *p);
    p->key.in_port = PICK(in_ports);
    p->key.eth_type = htons(PICK(eth_types));
    p->key.eth_src[5] = rnd() % 3;
    p->key.ip_proto = PICK(protos);
    p->key.ipv4_src = htonl(PICK(addrs));
    p->key.ipv4_dst = htonl(PICK(addrs));
    p->key.tp_src = htons(PICK(ports));
    p->key.tp_dst = htons(PICK(ports));
    p->key.skb_mark = rnd() % 2;
    p->key.tunnel.tun_id = rnd() % 2;
    p->regs[0] = PICK(regs);
    p->regs[3] = PICK(regs);
    p->metadata = rnd() % 2;
}

/* A random match: each field independently wildcarded or not. */
static void
random_match(struct ofp_match *m)
{
    struct flow_key *v = &m->v.key, *k = &m->m.key;

    ofp_match_init_catchall(m);
    if (rnd() % 4 == 0) {
        v->in_port = PICK(in_ports);
        k->in_port = UINT32_MAX;
    }
    if (rnd() % 6 == 0) {
        v->eth_src[5] = rnd() % 3;
        k->eth_src[5] = 0xff;
    }
    if (rnd() % 2) {
        v->eth_type = htons(PICK(eth_types));
        k->eth_type = 0xffff;
        if (rnd() % 2) {
            v->ip_proto = PICK(protos);
            k->ip_proto = 0xff;
            if (rnd() % 2) {
                v->tp_dst = htons(PICK(ports));
                k->tp_dst = 0xffff;
            }
            if (rnd() % 3 == 0) {
                v->tp_src = htons(PICK(ports));
                k->tp_src = 0xffff;
            }
        }
        if (rnd() % 2) {
            uint32_t plen = PICK(prefixes);
            k->ipv4_src = htonl(plen == 32 ? UINT32_MAX : ~(UINT32_MAX
                                                            >> plen));
            v->ipv4_src = htonl(PICK(addrs)) & k->ipv4_src;
        }
        if (rnd() % 4 == 0) {
            v->ipv4_dst = htonl(PICK(addrs));
            k->ipv4_dst = UINT32_MAX;
        }
    }
    if (rnd() % 8 == 0) {
        v->skb_mark = rnd() % 2;
        k->skb_mark = UINT32_MAX;
    }
    if (rnd() % 8 == 0) {
        v->tunnel.tun_id = rnd() % 2;
        k->tunnel.tun_id = UINT64_MAX;
    }
    if (rnd() % 4 == 0) {
        /* A partial register mask, as NXM allows. */
        m->m.regs[0] = rnd() % 2 ? UINT32_MAX : 0x3;
        m->v.regs[0] = PICK(regs) & m->m.regs[0];
    }
    if (rnd() % 8 == 0) {
        m->m.regs[3] = UINT32_MAX;
        m->v.regs[3] = PICK(regs);
    }
    if (rnd() % 8 == 0) {
        m->m.metadata = 1;
        m->v.metadata = rnd() % 2;
    }
}

/* Brute force: the highest priority among the rules 'pkt' matches, or
 * -1. */
static int
brute_lookup(struct trule *rules, size_t n, const struct ofp_fields *pkt)
{
    int best = -1;
    struct flow_key wc;

    for (size_t i = 0; i < n; i++) {
        if (rules[i].in && rules[i].priority > best
            && ofp_match_packet(&rules[i].match, pkt, &wc)) {
            best = rules[i].priority;
        }
    }
    return best;
}

/* 'q' with the key bits of 'wc' (and the pipeline fields, which never
 * reach the datapath) taken from 'p'. */
static void
blend(struct ofp_fields *out, const struct ofp_fields *p,
      const struct ofp_fields *q, const struct flow_key *wc)
{
    const uint8_t *pb = (const uint8_t *) &p->key;
    const uint8_t *qb = (const uint8_t *) &q->key;
    const uint8_t *w = (const uint8_t *) wc;
    uint8_t *o = (uint8_t *) &out->key;

    *out = *p;
    for (size_t i = 0; i < sizeof out->key; i++) {
        o[i] = (pb[i] & w[i]) | (qb[i] & ~w[i]);
    }
    out->key.in_port = p->key.in_port;
}

static int
prio_of(const struct cls_rule *cr)
{
    return cr ? cr->priority : -1;
}

static void
check_lookups(struct classifier *cls, struct trule *rules, size_t n,
              int rounds)
{
    for (int i = 0; i < rounds; i++) {
        struct ofp_fields p, q, p2;
        struct flow_key wc, wc2;

        random_packet(&p);
        memset(&wc, 0, sizeof wc);
        struct cls_rule *cr = classifier_lookup(cls, &p, &wc);
        int want = brute_lookup(rules, n, &p);
        assert_int_equal(prio_of(cr), want);
        if (cr) {
            assert_true(ofp_match_packet(cr->match, &p, &wc2));
            assert_true(TRULE(cr)->in);
        }
        /* A packet that agrees on the megaflow mask gets the same
         * answer: the mask covers everything the lookup depended on. */
        for (int j = 0; j < 4; j++) {
            random_packet(&q);
            blend(&p2, &p, &q, &wc);
            assert_int_equal(prio_of(classifier_lookup(cls, &p2, NULL)),
                             want);
            assert_int_equal(brute_lookup(rules, n, &p2), want);
        }
    }
}

static void
test_random_against_brute_force(void **state)
{
    (void) state;
    enum { N = 300 };
    static struct trule rules[N];
    static const uint32_t prios[] = { 0, 1, 2, 3, 10, 10, 11, 1000, 32768,
                                      65535 };
    struct classifier cls;

    memset(rules, 0, sizeof rules);
    classifier_init(&cls);
    size_t live = 0;
    for (int op = 0; op < 6000; op++) {
        struct trule *t = &rules[rnd() % N];
        if (!t->in) {
            random_match(&t->match);
            t->priority = PICK(prios);
            struct cls_rule *old = classifier_find_exact(&cls, &t->match,
                                                         t->priority);
            if (old) {
                /* A duplicate: replace it, as rules_add() does. */
                uint64_t seq = old->seq;
                classifier_remove(&cls, old);
                TRULE(old)->in = false;
                live--;
                assert_int_equal(classifier_insert(&cls, &t->cr, &t->match,
                                                   t->priority, seq), 0);
                assert_int_equal(t->cr.seq, seq);
            } else {
                assert_int_equal(classifier_insert(&cls, &t->cr, &t->match,
                                                   t->priority, 0), 0);
            }
            assert_ptr_equal(classifier_find_exact(&cls, &t->match,
                                                   t->priority), &t->cr);
            t->in = true;
            live++;
        } else {
            classifier_remove(&cls, &t->cr);
            t->in = false;
            live--;
            assert_null(classifier_find_exact(&cls, &t->match,
                                              t->priority));
        }
        assert_int_equal(classifier_count(&cls), live);
        if (op % 50 == 0) {
            check_lookups(&cls, rules, N, 40);
        }
    }
    check_lookups(&cls, rules, N, 2000);

    /* Emptying the classifier leaves no subtable behind. */
    for (size_t i = 0; i < N; i++) {
        if (rules[i].in) {
            classifier_remove(&cls, &rules[i].cr);
            rules[i].in = false;
        }
    }
    assert_int_equal(classifier_count(&cls), 0);
    assert_int_equal(cls.n_subtables, 0);
    assert_null(classifier_lookup(&cls, &rules[0].match.v, NULL));
    classifier_destroy(&cls);
}

/* Collect with a filter = ofp_match_covers() over every rule, in
 * priority order, insertion order among equals; overlap = brute force. */
static void
test_collect_and_overlap(void **state)
{
    (void) state;
    enum { N = 200 };
    static struct trule rules[N];
    static const uint32_t prios[] = { 1, 5, 5, 9 };
    struct classifier cls;

    memset(rules, 0, sizeof rules);
    classifier_init(&cls);
    for (size_t i = 0; i < N; i++) {
        random_match(&rules[i].match);
        rules[i].priority = PICK(prios);
        if (classifier_find_exact(&cls, &rules[i].match,
                                  rules[i].priority)) {
            continue;
        }
        assert_int_equal(classifier_insert(&cls, &rules[i].cr,
                                           &rules[i].match,
                                           rules[i].priority, 0), 0);
        rules[i].in = true;
    }
    for (int round = 0; round < 300; round++) {
        struct ofp_match f;
        random_match(&f);
        size_t n, want = 0;
        struct cls_rule **got = classifier_collect(&cls, round ? &f : NULL,
                                                   &n);
        for (size_t i = 0; i < N; i++) {
            want += rules[i].in && (!round || ofp_match_covers(
                                        &f, &rules[i].match));
        }
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++) {
            assert_true(!round || ofp_match_covers(&f, got[i]->match));
            if (i) {
                assert_true(got[i - 1]->priority > got[i]->priority
                            || (got[i - 1]->priority == got[i]->priority
                                && got[i - 1]->seq < got[i]->seq));
            }
        }
        free(got);

        uint16_t prio = PICK(prios);
        bool overlap = false;
        for (size_t i = 0; i < N && !overlap; i++) {
            if (!rules[i].in || rules[i].priority != prio) {
                continue;
            }
            const uint8_t *av = (const uint8_t *) &f.v;
            const uint8_t *am = (const uint8_t *) &f.m;
            const uint8_t *bv = (const uint8_t *) &rules[i].match.v;
            const uint8_t *bm = (const uint8_t *) &rules[i].match.m;
            bool disjoint = false;
            for (size_t b = 0; b < sizeof f.v; b++) {
                disjoint |= ((av[b] ^ bv[b]) & am[b] & bm[b]) != 0;
            }
            overlap = !disjoint;
        }
        assert_int_equal(classifier_overlaps(&cls, &f, prio), overlap);
    }
    for (size_t i = 0; i < N; i++) {
        if (rules[i].in) {
            classifier_remove(&cls, &rules[i].cr);
        }
    }
    classifier_destroy(&cls);
}

/* A lookup that fails on eth_type leaves the L4 fields out of the
 * megaflow mask, and the higher-priority subtable is searched first. */
static void
test_staged_mask(void **state)
{
    (void) state;
    struct trule tcp80 = { .priority = 100 }, any = { .priority = 1 };
    struct classifier cls;
    struct ofp_fields p;
    struct flow_key wc;

    ofp_match_init_catchall(&tcp80.match);
    tcp80.match.v.key.eth_type = htons(0x0800);
    tcp80.match.m.key.eth_type = 0xffff;
    tcp80.match.v.key.ip_proto = 6;
    tcp80.match.m.key.ip_proto = 0xff;
    tcp80.match.v.key.tp_dst = htons(80);
    tcp80.match.m.key.tp_dst = 0xffff;
    ofp_match_init_catchall(&any.match);

    classifier_init(&cls);
    assert_int_equal(classifier_insert(&cls, &any.cr, &any.match, 1, 0), 0);
    assert_int_equal(classifier_insert(&cls, &tcp80.cr, &tcp80.match, 100,
                                       0), 0);

    memset(&p, 0, sizeof p);
    p.key.eth_type = htons(0x0806);
    p.key.tp_dst = htons(80);
    memset(&wc, 0, sizeof wc);
    assert_ptr_equal(classifier_lookup(&cls, &p, &wc), &any.cr);
    assert_int_equal(wc.eth_type, 0xffff);
    assert_int_equal(wc.tp_dst, 0);
    assert_int_equal(wc.ip_proto, 0);

    p.key.eth_type = htons(0x0800);
    p.key.ip_proto = 6;
    memset(&wc, 0, sizeof wc);
    assert_ptr_equal(classifier_lookup(&cls, &p, &wc), &tcp80.cr);
    assert_int_equal(wc.tp_dst, 0xffff);
    assert_int_equal(wc.ip_proto, 0xff);

    /* Same match, other priorities: one value chain, highest first. */
    struct trule tcp80_low = tcp80, tcp80_high = tcp80;
    assert_int_equal(classifier_insert(&cls, &tcp80_low.cr,
                                       &tcp80_low.match, 50, 0), 0);
    assert_int_equal(classifier_insert(&cls, &tcp80_high.cr,
                                       &tcp80_high.match, 200, 0), 0);
    assert_ptr_equal(classifier_lookup(&cls, &p, NULL), &tcp80_high.cr);
    assert_ptr_equal(classifier_find_exact(&cls, &tcp80.match, 50),
                     &tcp80_low.cr);
    assert_null(classifier_find_exact(&cls, &tcp80.match, 51));
    classifier_remove(&cls, &tcp80_high.cr);
    assert_ptr_equal(classifier_lookup(&cls, &p, NULL), &tcp80.cr);
    classifier_remove(&cls, &tcp80.cr);
    assert_ptr_equal(classifier_lookup(&cls, &p, NULL), &tcp80_low.cr);
    classifier_remove(&cls, &tcp80_low.cr);
    assert_ptr_equal(classifier_lookup(&cls, &p, NULL), &any.cr);
    classifier_remove(&cls, &any.cr);
    assert_null(classifier_lookup(&cls, &p, NULL));
    assert_int_equal(cls.n_subtables, 0);
    classifier_destroy(&cls);
}

/* A subtable whose best rule is high can hold a low one that the packet
 * matches: the search must go on to subtables whose best is in between,
 * and stop before those that cannot win. */
static void
test_priority_order(void **state)
{
    (void) state;
    struct trule v6 = { .priority = 10 }, v4 = { .priority = 0 };
    struct trule mid = { .priority = 3 };
    struct classifier cls;
    struct ofp_fields p;
    struct flow_key wc;

    ofp_match_init_catchall(&v6.match);
    v6.match.v.key.eth_type = htons(0x86dd);
    v6.match.m.key.eth_type = 0xffff;
    v4.match = v6.match;
    v4.match.v.key.eth_type = htons(0x0800);
    ofp_match_init_catchall(&mid.match);
    mid.match.v.key.ip_proto = 6;
    mid.match.m.key.ip_proto = 0xff;

    classifier_init(&cls);
    assert_int_equal(classifier_insert(&cls, &v6.cr, &v6.match, 10, 0), 0);
    assert_int_equal(classifier_insert(&cls, &v4.cr, &v4.match, 0, 0), 0);
    assert_int_equal(classifier_insert(&cls, &mid.cr, &mid.match, 3, 0), 0);
    memset(&p, 0, sizeof p);
    p.key.eth_type = htons(0x0800);
    p.key.ip_proto = 6;
    assert_ptr_equal(classifier_lookup(&cls, &p, NULL), &mid.cr);
    p.key.ip_proto = 17;
    memset(&wc, 0, sizeof wc);
    assert_ptr_equal(classifier_lookup(&cls, &p, &wc), &v4.cr);
    assert_int_equal(wc.ip_proto, 0xff);
    /* An IPv6 packet wins in the first subtable: the other is never
     * consulted, so ip_proto stays out of the mask. */
    p.key.eth_type = htons(0x86dd);
    memset(&wc, 0, sizeof wc);
    assert_ptr_equal(classifier_lookup(&cls, &p, &wc), &v6.cr);
    assert_int_equal(wc.ip_proto, 0);
    classifier_remove(&cls, &v6.cr);
    classifier_remove(&cls, &v4.cr);
    classifier_remove(&cls, &mid.cr);
    classifier_destroy(&cls);
}

/* Many rules in one subtable: the hash table grows and every rule is
 * still found. */
static void
test_many_exact(void **state)
{
    (void) state;
    enum { N = 20000 };
    struct trule *rules = calloc(N, sizeof *rules);
    struct classifier cls;

    assert_non_null(rules);
    classifier_init(&cls);
    for (size_t i = 0; i < N; i++) {
        ofp_match_init_catchall(&rules[i].match);
        rules[i].match.v.key.ipv4_src = htonl(0x0a000000 + i);
        rules[i].match.m.key.ipv4_src = UINT32_MAX;
        assert_int_equal(classifier_insert(&cls, &rules[i].cr,
                                           &rules[i].match, 7, 0), 0);
    }
    for (size_t i = 0; i < N; i += 7) {
        struct ofp_fields p;
        memset(&p, 0, sizeof p);
        p.key.ipv4_src = htonl(0x0a000000 + i);
        assert_ptr_equal(classifier_lookup(&cls, &p, NULL), &rules[i].cr);
    }
    for (size_t i = 0; i < N; i += 2) {
        classifier_remove(&cls, &rules[i].cr);
    }
    assert_int_equal(classifier_count(&cls), N / 2);
    for (size_t i = 0; i < 200; i++) {
        struct ofp_fields p;
        memset(&p, 0, sizeof p);
        p.key.ipv4_src = htonl(0x0a000000 + i);
        struct cls_rule *cr = classifier_lookup(&cls, &p, NULL);
        if (i % 2) {
            assert_ptr_equal(cr, &rules[i].cr);
        } else {
            assert_null(cr);
        }
    }
    for (size_t i = 1; i < N; i += 2) {
        classifier_remove(&cls, &rules[i].cr);
    }
    assert_int_equal(cls.n_subtables, 0);
    classifier_destroy(&cls);
    free(rules);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staged_mask),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_collect_and_overlap),
        cmocka_unit_test(test_many_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
