/* OpenFlow rule tables (see rules.h). */
#include "rules.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ofproto.h"
#include "timeval.h"

#define RULE_OF(CR) \
    ((struct rule *) ((char *) (CR) - offsetof(struct rule, cr)))

static struct rule_set *all_sets;
static rules_removed_cb *removed_hook;

void
rules_set_removed_hook(rules_removed_cb *cb)
{
    removed_hook = cb;
}

/* ---- delete_learned ----------------------------------------------------- */

/* Notes the (table, cookie) of every learn action with delete_learned in
 * 'acts', whose rule is going or changing. */
static void
note_learned(struct rule_set *s, const struct ofpacts *acts)
{
    for (size_t i = 0; i < acts->n; i++) {
        const struct ofp_learn *l = acts->a[i].learn;
        if (acts->a[i].type != OFPACT_LEARN || !l
            || !(l->flags & OFP_LEARN_F_DELETE_LEARNED)) {
            continue;
        }
        if (s->n_flush == s->cap_flush) {
            size_t cap = s->cap_flush ? s->cap_flush * 2 : 8;
            struct rule_learned_cookie *v = realloc(s->flush,
                                                    cap * sizeof *v);
            if (!v) {
                return;         /* the learned rules stay: they expire */
            }
            s->flush = v;
            s->cap_flush = cap;
        }
        s->flush[s->n_flush].table_id = l->table_id;
        s->flush[s->n_flush].cookie = l->cookie;
        s->n_flush++;
    }
}

struct learner_search {
    struct rule_learned_cookie lc;
    bool found;
};

static void
find_learner(struct cls_rule *cr, void *aux)
{
    struct learner_search *ls = aux;
    const struct ofpacts *acts = &RULE_OF(cr)->acts;

    for (size_t i = 0; !ls->found && i < acts->n; i++) {
        const struct ofp_learn *l = acts->a[i].learn;
        ls->found = acts->a[i].type == OFPACT_LEARN && l
                    && (l->flags & OFP_LEARN_F_DELETE_LEARNED)
                    && l->table_id == ls->lc.table_id
                    && l->cookie == ls->lc.cookie;
    }
}

static size_t delete_selected(struct rule_set *, const struct rule_criteria *,
                              int reason);

/* Deletes the rules learned by learn actions that no rule has any more:
 * every rule of the learned table with the learned cookie.  Those may
 * learn themselves: the list grows while it is worked off. */
static size_t
flush_learned(struct rule_set *s)
{
    size_t n = 0;

    while (s->n_flush) {
        struct learner_search ls = { s->flush[--s->n_flush], false };
        for (int t = 0; !ls.found && t < RULES_N_TABLES; t++) {
            classifier_for_each(&s->tables[t].cls, NULL, find_learner, &ls);
        }
        if (ls.found) {
            continue;
        }
        struct rule_criteria c = {
            .table_id = ls.lc.table_id, .out_port = OFPP_ANY,
            .cookie = ls.lc.cookie, .cookie_mask = UINT64_MAX,
        };
        ofp_match_init_catchall(&c.match);
        n += delete_selected(s, &c, RULE_REMOVED_DELETE);
    }
    return n;
}

static void
rule_removed(struct rule_set *s, struct rule *r, int reason)
{
    note_learned(s, &r->acts);
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

static void
table_clear(struct rule_table *tab)
{
    size_t n;
    struct cls_rule **all = classifier_collect(&tab->cls, NULL, &n);

    for (size_t i = 0; all && i < n; i++) {
        classifier_remove(&tab->cls, all[i]);
        rule_free(RULE_OF(all[i]));
    }
    free(all);
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
    for (int t = 0; t < RULES_N_TABLES; t++) {
        classifier_init(&s->tables[t].cls);
    }
    /* A new bridge is a learning switch until told otherwise. */
    ofpacts_put(&r->acts, OFPACT_OUTPUT)->port = OFPP_NORMAL;
    rules_add(s, r, time_msec());
    return s;
}

static void
set_destroy(struct rule_set *s)
{
    for (int t = 0; t < RULES_N_TABLES; t++) {
        table_clear(&s->tables[t]);
        classifier_destroy(&s->tables[t].cls);
    }
    groups_clear(&s->groups);
    meters_clear(&s->meters);
    free(s->port_cfg);
    free(s->flush);
    free(s);
}

/* ---- learned rules ------------------------------------------------------ */

#define LEARN_QUEUE_MAX 1024

struct learned {
    char bridge[IFNAMSIZ];
    struct rule *rule;
};

static pthread_mutex_t learn_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct learned learn_q[LEARN_QUEUE_MAX];
static size_t learn_n;
static atomic_bool learn_pending;
static void (*learn_wakeup)(void);

bool
rules_learned_pending(void)
{
    return atomic_load(&learn_pending);
}

void
rules_set_learn_wakeup(void (*cb)(void))
{
    learn_wakeup = cb;
}

void
rules_queue_learned(const char *bridge, struct rule *r)
{
    bool queued = false;

    pthread_mutex_lock(&learn_mutex);
    if (learn_n < LEARN_QUEUE_MAX) {
        snprintf(learn_q[learn_n].bridge, IFNAMSIZ, "%s", bridge);
        learn_q[learn_n++].rule = r;
        atomic_store(&learn_pending, true);
        queued = true;
    }
    pthread_mutex_unlock(&learn_mutex);
    if (!queued) {
        rule_free(r);
    } else if (learn_wakeup) {
        learn_wakeup();
    }
}

static bool
same_actions(const struct ofpacts *a, const struct ofpacts *b)
{
    /* Learned rules hold only loads and outputs: plain values. */
    return a->n == b->n && !memcmp(a->a, b->a, a->n * sizeof *a->a);
}

bool
rules_apply_learned(uint64_t now_ms)
{
    struct learned q[LEARN_QUEUE_MAX];
    bool changed = false;
    size_t n;

    pthread_mutex_lock(&learn_mutex);
    n = learn_n;
    memcpy(q, learn_q, n * sizeof q[0]);
    learn_n = 0;
    atomic_store(&learn_pending, false);
    pthread_mutex_unlock(&learn_mutex);
    for (size_t i = 0; i < n; i++) {
        struct rule_set *s = rules_find(q[i].bridge);
        struct rule *r = q[i].rule;
        if (!s) {
            rule_free(r);
            continue;
        }
        struct rule_table *t = &s->tables[r->table_id];
        struct cls_rule *cr = classifier_find_exact(&t->cls, &r->match,
                                                    r->priority);
        struct rule *old = cr ? RULE_OF(cr) : NULL;
        /* Timeouts that a FIN shortened stay short: relearning the
         * connection's rule does not lengthen them again. */
        if (old && same_actions(&old->acts, &r->acts)
            && ((old->idle_timeout == r->idle_timeout
                 && old->hard_timeout == r->hard_timeout)
                || old->fin_reduced)
            && old->cookie == r->cookie && old->flags == r->flags) {
            old->modified_ms = now_ms;
            atomic_store(&old->used_ms, now_ms);
            rule_free(r);
            continue;
        }
        if (!rules_add(s, r, now_ms)) {
            changed = true;
        }
    }
    return changed;
}

uint32_t
rules_port_config(const struct rule_set *s, uint32_t port_no)
{
    for (size_t i = 0; s && i < s->n_port_cfg; i++) {
        if (s->port_cfg[i].port_no == port_no) {
            return s->port_cfg[i].config;
        }
    }
    return 0;
}

bool
rules_set_port_config(struct rule_set *s, uint32_t port_no, uint32_t config)
{
    config &= RULES_PC_ALL;
    for (size_t i = 0; i < s->n_port_cfg; i++) {
        if (s->port_cfg[i].port_no == port_no) {
            s->port_cfg[i].config = config;
            return true;
        }
    }
    if (!config) {
        return true;
    }
    struct rule_port_cfg *v = realloc(s->port_cfg,
                                      (s->n_port_cfg + 1) * sizeof *v);
    if (!v) {
        return false;
    }
    v[s->n_port_cfg].port_no = port_no;
    v[s->n_port_cfg].config = config;
    s->port_cfg = v;
    s->n_port_cfg++;
    return true;
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
    pthread_mutex_lock(&learn_mutex);
    for (size_t i = 0; i < learn_n; i++) {
        rule_free(learn_q[i].rule);
    }
    learn_n = 0;
    atomic_store(&learn_pending, false);
    pthread_mutex_unlock(&learn_mutex);
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
    struct cls_rule *cr = classifier_lookup(&t->cls, pkt, wc);
    if (!cr) {
        return NULL;
    }
    if (count) {
        atomic_fetch_add_explicit(&t->n_matched, 1, memory_order_relaxed);
    }
    return RULE_OF(cr);
}

ofperr
rules_add(struct rule_set *s, struct rule *r, uint64_t now_ms)
{
    struct rule_table *t = &s->tables[r->table_id];
    struct cls_rule *old = classifier_find_exact(&t->cls, &r->match,
                                                 r->priority);
    uint64_t seq = 0;

    r->created_ms = r->modified_ms = now_ms;
    atomic_store(&r->used_ms, now_ms);
    if (old) {
        /* The new rule takes the old one's place, without a
         * flow-removed message, as OpenFlow says. */
        seq = old->seq;
        classifier_remove(&t->cls, old);
        note_learned(s, &RULE_OF(old)->acts);
        rule_free(RULE_OF(old));
    } else if ((r->flags & RULE_F_CHECK_OVERLAP)
               && classifier_overlaps(&t->cls, &r->match, r->priority)) {
        rule_free(r);
        return OFPERR_FLOW_MOD_OVERLAP;
    }
    if (classifier_insert(&t->cls, &r->cr, &r->match, r->priority, seq)) {
        rule_free(r);
        flush_learned(s);
        return OFPERR_FLOW_MOD_TABLE_FULL;
    }
    flush_learned(s);
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

static bool
has_meter(const struct ofpacts *acts, uint32_t id)
{
    uint32_t meter_id;

    return ofpacts_meter(acts, &meter_id)
           && (id == OFPM_ALL || meter_id == id);
}

/* How many rules of 's', in every table, 'uses' says refer to 'id'. */
struct refs {
    bool (*uses)(const struct ofpacts *, uint32_t id);
    uint32_t id, n;
};

static void
count_ref(struct cls_rule *cr, void *aux)
{
    struct refs *r = aux;
    r->n += r->uses(&RULE_OF(cr)->acts, r->id);
}

static uint32_t
count_refs(const struct rule_set *s,
           bool (*uses)(const struct ofpacts *, uint32_t), uint32_t id)
{
    struct refs r = { uses, id, 0 };

    for (int t = 0; t < RULES_N_TABLES; t++) {
        classifier_for_each(&s->tables[t].cls, NULL, count_ref, &r);
    }
    return r.n;
}

uint32_t
rules_meter_refs(const struct rule_set *s, uint32_t id)
{
    return count_refs(s, has_meter, id);
}

size_t
rules_delete_meter(struct rule_set *s, uint32_t id)
{
    struct rule_criteria c = {
        .table_id = RULES_TABLE_ALL, .out_port = OFPP_ANY,
        .by_meter = true, .meter_id = id,
    };

    ofp_match_init_catchall(&c.match);
    return rules_delete(s, &c);
}

uint32_t
rules_group_refs(const struct rule_set *s, uint32_t id)
{
    return count_refs(s, has_group, id);
}

/* Whether 'r' passes the criteria other than the match. */
static bool
selected_but_match(const struct rule *r, const struct rule_criteria *c)
{
    if (c->by_group && !has_group(&r->acts, c->out_group)) {
        return false;
    }
    if (c->by_meter && !has_meter(&r->acts, c->meter_id)) {
        return false;
    }
    if ((r->cookie & c->cookie_mask) != (c->cookie & c->cookie_mask)) {
        return false;
    }
    return c->out_port == OFPP_ANY || ofpacts_output_to(&r->acts,
                                                        c->out_port);
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

/* The rules of table 't' that 'c' selects, highest priority first, in a
 * malloc'd array (NULL if none). */
static struct rule **
select_rules(struct rule_set *s, int t, const struct rule_criteria *c,
             size_t *n)
{
    struct classifier *cls = &s->tables[t].cls;
    struct rule **out;

    *n = 0;
    if (c->strict) {
        /* At most one rule: straight to its subtable. */
        struct cls_rule *cr = classifier_find_exact(cls, &c->match,
                                                    c->priority);
        if (!cr || !selected_but_match(RULE_OF(cr), c)
            || !(out = malloc(sizeof *out))) {
            return NULL;
        }
        out[0] = RULE_OF(cr);
        *n = 1;
        return out;
    }
    size_t m;
    struct cls_rule **all = classifier_collect(cls, &c->match, &m);
    if (!all) {
        return NULL;
    }
    /* Reuse the array: a struct rule * per struct cls_rule *. */
    out = (struct rule **) all;
    for (size_t i = 0; i < m; i++) {
        struct rule *r = RULE_OF(all[i]);
        if (selected_but_match(r, c)) {
            out[(*n)++] = r;
        }
    }
    return out;
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
        size_t m;
        struct rule **sel = select_rules(s, t, c, &m);
        for (size_t i = 0; i < m; i++) {
            struct rule *r = sel[i];
            note_learned(s, &r->acts);
            ofpacts_uninit(&r->acts);
            ofpacts_copy(&r->acts, acts);
            r->modified_ms = time_msec();
            if (set_cookie) {
                r->cookie = new_cookie;
            }
        }
        n += m;
        free(sel);
    }
    flush_learned(s);
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
    size_t n = delete_selected(s, c, reason);
    return n + flush_learned(s);
}

static size_t
delete_selected(struct rule_set *s, const struct rule_criteria *c,
                int reason)
{
    size_t n = 0;
    int first, last;

    table_range(c, &first, &last);
    for (int t = first; t <= last; t++) {
        size_t m;
        struct rule **sel = select_rules(s, t, c, &m);
        for (size_t i = 0; i < m; i++) {
            classifier_remove(&s->tables[t].cls, &sel[i]->cr);
            rule_removed(s, sel[i], reason);
        }
        n += m;
        free(sel);
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
        size_t m;
        struct rule **sel = select_rules(s, t, c, &m);
        for (size_t i = 0; i < m; i++) {
            cb(sel[i], aux);
        }
        free(sel);
    }
}

void
rules_fin_timeout(struct rule *r, uint16_t idle, uint16_t hard)
{
    if (idle || hard) {
        atomic_store_explicit(&r->fin_pending, (uint32_t) idle << 16 | hard,
                              memory_order_relaxed);
    }
}

/* OpenFlow's reduction: a timeout that is set only gets shorter, one
 * that is not set gets the new value. */
static void
reduce_timeout(uint16_t *t, uint16_t to)
{
    if (to && (!*t || to < *t)) {
        *t = to;
    }
}

struct expiry {
    uint64_t now_ms;
    struct rule **a;
    size_t n, cap;
};

static void
check_expiry(struct cls_rule *cr, void *aux)
{
    struct expiry *e = aux;
    struct rule *r = RULE_OF(cr);
    uint32_t fin = atomic_exchange(&r->fin_pending, 0);

    if (fin) {
        reduce_timeout(&r->idle_timeout, fin >> 16);
        reduce_timeout(&r->hard_timeout, fin & 0xffff);
        r->fin_reduced = true;
    }
    uint64_t used = atomic_load(&r->used_ms);
    bool hard = r->hard_timeout
        && e->now_ms - r->modified_ms >= r->hard_timeout * 1000ull;
    bool idle = r->idle_timeout && e->now_ms > used
        && e->now_ms - used >= r->idle_timeout * 1000ull;

    if (!hard && !idle) {
        return;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        struct rule **a = realloc(e->a, cap * sizeof *a);
        if (!a) {
            return;             /* expires on a later pass */
        }
        e->a = a;
        e->cap = cap;
    }
    e->a[e->n++] = r;
}

size_t
rules_expire(struct rule_set *s, uint64_t now_ms)
{
    struct expiry e = { now_ms, NULL, 0, 0 };
    size_t n = 0;

    for (int t = 0; t < RULES_N_TABLES; t++) {
        struct classifier *cls = &s->tables[t].cls;
        if (!classifier_count(cls)) {
            continue;
        }
        e.n = 0;
        classifier_for_each(cls, NULL, check_expiry, &e);
        for (size_t i = 0; i < e.n; i++) {
            struct rule *r = e.a[i];
            bool hard = r->hard_timeout
                && now_ms - r->modified_ms >= r->hard_timeout * 1000ull;
            classifier_remove(cls, &r->cr);
            rule_removed(s, r, hard ? RULE_REMOVED_HARD
                                    : RULE_REMOVED_IDLE);
        }
        n += e.n;
    }
    free(e.a);
    return n + flush_learned(s);
}

size_t
rules_count(const struct rule_set *s, uint8_t table)
{
    return table < RULES_N_TABLES ? classifier_count(&s->tables[table].cls)
                                  : 0;
}
