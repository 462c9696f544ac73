/* OpenFlow rule tables (see rules.h). */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ofproto.h"
#include "timeval.h"

static struct rule_set *all_sets;
static rules_removed_cb *removed_hook;

void
rules_set_removed_hook(rules_removed_cb *cb)
{
    removed_hook = cb;
}

static void
rule_removed(const struct rule_set *s, struct rule *r, int reason)
{
    if (removed_hook && (r->flags & RULE_F_SEND_FLOW_REM)) {
        removed_hook(s, r, reason);
    }
    rule_free(r);
}

struct rule *
rule_create(void)
{
    struct rule *r = calloc(1, sizeof *r);
    if (r) {
        ofpacts_init(&r->acts);
    }
    return r;
}

void
rule_free(struct rule *r)
{
    if (r) {
        ofpacts_uninit(&r->acts);
        free(r);
    }
}

static struct rule_set *
set_create(const char *name)
{
    struct rule_set *s = calloc(1, sizeof *s);
    struct rule *r = rule_create();

    if (!s || !r) {
        free(s);
        rule_free(r);
        return NULL;
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    /* A new bridge is a learning switch until told otherwise. */
    ofpacts_put(&r->acts, OFPACT_OUTPUT)->port = OFPP_NORMAL;
    rules_add(s, r, time_msec());
    return s;
}

static void
set_destroy(struct rule_set *s)
{
    for (int t = 0; t < RULES_N_TABLES; t++) {
        struct rule_table *tab = &s->tables[t];
        for (size_t i = 0; i < tab->n; i++) {
            rule_free(tab->rules[i]);
        }
        free(tab->rules);
    }
    groups_clear(&s->groups);
    free(s);
}

struct rule_set *
rules_find(const char *name)
{
    for (struct rule_set *s = all_sets; s; s = s->next) {
        if (!strcmp(s->name, name)) {
            return s;
        }
    }
    return NULL;
}

bool
rules_sync(const struct xlate_cfg *cfg)
{
    bool changed = false;

    for (struct rule_set **p = &all_sets; *p;) {
        if (!ofproto_find(cfg, (*p)->name)) {
            struct rule_set *gone = *p;
            *p = gone->next;
            set_destroy(gone);
            changed = true;
        } else {
            p = &(*p)->next;
        }
    }
    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        const char *name = cfg->bridges[i]->name;
        if (!rules_find(name)) {
            struct rule_set *s = set_create(name);
            if (s) {
                s->next = all_sets;
                all_sets = s;
                changed = true;
            }
        }
    }
    return changed;
}

void
rules_destroy_all(void)
{
    while (all_sets) {
        struct rule_set *s = all_sets;
        all_sets = s->next;
        set_destroy(s);
    }
}

struct rule *
rules_lookup(struct rule_set *s, uint8_t table, const struct ofp_fields *pkt,
             struct flow_key *wc, bool count)
{
    if (table >= RULES_N_TABLES) {
        return NULL;
    }
    struct rule_table *t = &s->tables[table];
    if (count) {
        atomic_fetch_add_explicit(&t->n_lookups, 1, memory_order_relaxed);
    }
    for (size_t i = 0; i < t->n; i++) {
        if (ofp_match_packet(&t->rules[i]->match, pkt, wc)) {
            if (count) {
                atomic_fetch_add_explicit(&t->n_matched, 1,
                                          memory_order_relaxed);
            }
            return t->rules[i];
        }
    }
    return NULL;
}

/* Whether two rules of the same priority could match the same packet. */
static bool
overlaps(const struct ofp_match *a, const struct ofp_match *b)
{
    const uint8_t *av = (const uint8_t *) &a->v, *am = (const uint8_t *) &a->m;
    const uint8_t *bv = (const uint8_t *) &b->v, *bm = (const uint8_t *) &b->m;
    for (size_t i = 0; i < sizeof a->v; i++) {
        if ((av[i] ^ bv[i]) & am[i] & bm[i]) {
            return false;
        }
    }
    return true;
}

ofperr
rules_add(struct rule_set *s, struct rule *r, uint64_t now_ms)
{
    struct rule_table *t = &s->tables[r->table_id];
    size_t pos = t->n;

    r->created_ms = now_ms;
    atomic_store(&r->used_ms, now_ms);
    for (size_t i = 0; i < t->n; i++) {
        struct rule *old = t->rules[i];
        if (old->priority == r->priority
            && ofp_match_equal(&old->match, &r->match)) {
            t->rules[i] = r;
            rule_free(old);
            return 0;
        }
        if ((r->flags & RULE_F_CHECK_OVERLAP)
            && old->priority == r->priority
            && overlaps(&old->match, &r->match)) {
            rule_free(r);
            return OFPERR_FLOW_MOD_OVERLAP;
        }
        if (pos == t->n && old->priority < r->priority) {
            pos = i;
        }
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct rule **rules = realloc(t->rules, cap * sizeof *rules);
        if (!rules) {
            rule_free(r);
            return OFPERR_FLOW_MOD_TABLE_FULL;
        }
        t->rules = rules;
        t->cap = cap;
    }
    memmove(&t->rules[pos + 1], &t->rules[pos],
            (t->n - pos) * sizeof *t->rules);
    t->rules[pos] = r;
    t->n++;
    return 0;
}

static bool
has_group(const struct ofpacts *acts, uint32_t id)
{
    for (size_t i = 0; i < acts->n; i++) {
        if (acts->a[i].type == OFPACT_GROUP
            && (id == OFPG_ALL || acts->a[i].port == id)) {
            return true;
        }
    }
    return false;
}

uint32_t
rules_group_refs(const struct rule_set *s, uint32_t id)
{
    uint32_t n = 0;

    for (int t = 0; t < RULES_N_TABLES; t++) {
        const struct rule_table *tab = &s->tables[t];
        for (size_t i = 0; i < tab->n; i++) {
            n += has_group(&tab->rules[i]->acts, id);
        }
    }
    return n;
}

static bool
selected(const struct rule *r, const struct rule_criteria *c)
{
    if (c->by_group && !has_group(&r->acts, c->out_group)) {
        return false;
    }
    if ((r->cookie & c->cookie_mask) != (c->cookie & c->cookie_mask)) {
        return false;
    }
    if (c->out_port != OFPP_ANY && !ofpacts_output_to(&r->acts,
                                                      c->out_port)) {
        return false;
    }
    if (c->strict) {
        return r->priority == c->priority
            && ofp_match_equal(&r->match, &c->match);
    }
    return ofp_match_covers(&c->match, &r->match);
}

static void
table_range(const struct rule_criteria *c, int *first, int *last)
{
    if (c->table_id == RULES_TABLE_ALL) {
        *first = 0;
        *last = RULES_N_TABLES - 1;
    } else {
        *first = *last = c->table_id < RULES_N_TABLES ? c->table_id : -1;
        if (*first < 0) {
            *last = -2;
        }
    }
}

size_t
rules_modify(struct rule_set *s, const struct rule_criteria *c,
             const struct ofpacts *acts, bool set_cookie,
             uint64_t new_cookie)
{
    size_t n = 0;
    int first, last;

    table_range(c, &first, &last);
    for (int t = first; t <= last; t++) {
        struct rule_table *tab = &s->tables[t];
        for (size_t i = 0; i < tab->n; i++) {
            struct rule *r = tab->rules[i];
            if (selected(r, c)) {
                ofpacts_uninit(&r->acts);
                ofpacts_copy(&r->acts, acts);
                if (set_cookie) {
                    r->cookie = new_cookie;
                }
                n++;
            }
        }
    }
    return n;
}

size_t
rules_delete(struct rule_set *s, const struct rule_criteria *c)
{
    return rules_delete_reason(s, c, RULE_REMOVED_DELETE);
}

size_t
rules_delete_reason(struct rule_set *s, const struct rule_criteria *c,
                    int reason)
{
    size_t n = 0;
    int first, last;

    table_range(c, &first, &last);
    for (int t = first; t <= last; t++) {
        struct rule_table *tab = &s->tables[t];
        size_t keep = 0;
        for (size_t i = 0; i < tab->n; i++) {
            struct rule *r = tab->rules[i];
            if (selected(r, c)) {
                rule_removed(s, r, reason);
                n++;
            } else {
                tab->rules[keep++] = r;
            }
        }
        tab->n = keep;
    }
    return n;
}

void
rules_for_each(struct rule_set *s, const struct rule_criteria *c,
               void (*cb)(const struct rule *, void *aux), void *aux)
{
    int first, last;

    table_range(c, &first, &last);
    for (int t = first; t <= last; t++) {
        struct rule_table *tab = &s->tables[t];
        for (size_t i = 0; i < tab->n; i++) {
            if (selected(tab->rules[i], c)) {
                cb(tab->rules[i], aux);
            }
        }
    }
}

size_t
rules_expire(struct rule_set *s, uint64_t now_ms)
{
    size_t n = 0;

    for (int t = 0; t < RULES_N_TABLES; t++) {
        struct rule_table *tab = &s->tables[t];
        size_t keep = 0;
        for (size_t i = 0; i < tab->n; i++) {
            struct rule *r = tab->rules[i];
            uint64_t used = atomic_load(&r->used_ms);
            bool hard = r->hard_timeout
                && now_ms - r->created_ms >= r->hard_timeout * 1000ull;
            bool idle = r->idle_timeout && now_ms > used
                && now_ms - used >= r->idle_timeout * 1000ull;
            if (hard || idle) {
                rule_removed(s, r, hard ? RULE_REMOVED_HARD
                                        : RULE_REMOVED_IDLE);
                n++;
            } else {
                tab->rules[keep++] = r;
            }
        }
        tab->n = keep;
    }
    return n;
}

size_t
rules_count(const struct rule_set *s, uint8_t table)
{
    return table < RULES_N_TABLES ? s->tables[table].n : 0;
}
