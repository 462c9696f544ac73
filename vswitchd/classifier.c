/* Tuple-space search over OpenFlow matches (see classifier.h). */
#include "classifier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

/* A match is handled as the 64-bit words of struct ofp_fields; the key
 * comes first, so its words are the first KEY_WORDS. */
#define N_WORDS (sizeof(struct ofp_fields) / 8)
#define KEY_WORDS (sizeof(struct flow_key) / 8)
_Static_assert(sizeof(struct ofp_fields) % 8 == 0,
               "ofp_fields must be whole 64-bit words");
_Static_assert(offsetof(struct ofp_fields, key) == 0,
               "the key must lead ofp_fields");

/* Lookup stages, in the order ofp_match_packet() checks the fields.  The
 * pipeline stage (registers, metadata, in_port, which the datapath mask
 * always holds) never goes into the megaflow mask. */
enum stage { ST_PIPE, ST_L2, ST_TNL, ST_MARK, ST_L3, ST_L4, N_STAGES };

/* One word of a subtable's mask, restricted to one stage. */
struct cls_word {
    uint16_t w;                 /* word index in ofp_fields */
    bool wc;                    /* goes into the megaflow mask */
    uint64_t mask;
};

/* A counting set of stage hashes: how many rule values share each
 * prefix of stages.  Chained, so that removal is simple. */
struct cls_count {
    uint32_t hash;
    uint32_t count;
    struct cls_count *next;
};

struct cls_cset {
    struct cls_count **b;
    size_t mask;                /* buckets - 1 */
    size_t n;
};

struct cls_prio {
    uint16_t priority;
    uint32_t count;
};

struct cls_subtable {
    struct ofp_fields mask;
    uint32_t mask_hash;
    struct cls_word *words;     /* grouped by stage, stage order */
    size_t n_words;
    uint16_t stage_end[N_STAGES];       /* of each non-empty stage */
    size_t n_stages;
    struct cls_cset idx[N_STAGES - 1];  /* every stage but the last */

    struct cls_rule **buckets;  /* heads: one per distinct value */
    size_t bucket_mask, n_heads;
    size_t n_rules;

    struct cls_prio *prios;     /* distinct priorities, highest first */
    size_t n_prios, prio_cap;
};

static inline uint64_t
word(const void *base, size_t w)
{
    uint64_t x;
    memcpy(&x, (const uint8_t *) base + w * 8, 8);
    return x;
}

static int
byte_stage(size_t ofs)
{
    if (ofs >= sizeof(struct flow_key)) {
        return ST_PIPE;                 /* registers, metadata */
    }
    if (ofs >= offsetof(struct flow_key, skb_mark)
        && ofs < offsetof(struct flow_key, pad0)) {
        return ST_MARK;
    }
    if (ofs >= offsetof(struct flow_key, eth_src)
        && ofs < offsetof(struct flow_key, ip_proto)) {
        return ST_L2;
    }
    if (ofs >= offsetof(struct flow_key, ip_proto)
        && ofs < offsetof(struct flow_key, tp_src)) {
        return ST_L3;
    }
    if (ofs >= offsetof(struct flow_key, tp_src)
        && ofs < offsetof(struct flow_key, tunnel)) {
        return ST_L4;
    }
    if (ofs >= offsetof(struct flow_key, tunnel)
        && ofs < FLOW_KEY_FIXED_LEN) {
        return ST_TNL;
    }
    /* in_port and the metadata the OpenFlow matches never name. */
    return ST_PIPE;
}

/* The order stages are probed in: the order of ofp_match_packet(). */
static const uint8_t stage_order[N_STAGES] = {
    ST_PIPE, ST_L2, ST_TNL, ST_MARK, ST_L3, ST_L4,
};

/* ---- counting sets ------------------------------------------------------ */

static bool
cset_contains(const struct cls_cset *s, uint32_t hash)
{
    if (!s->b) {
        return false;
    }
    for (const struct cls_count *c = s->b[hash & s->mask]; c; c = c->next) {
        if (c->hash == hash) {
            return true;
        }
    }
    return false;
}

static int
cset_grow(struct cls_cset *s)
{
    size_t n = s->b ? (s->mask + 1) * 2 : 16;
    struct cls_count **b = calloc(n, sizeof *b);

    if (!b) {
        return -ENOMEM;
    }
    for (size_t i = 0; s->b && i <= s->mask; i++) {
        while (s->b[i]) {
            struct cls_count *c = s->b[i];
            s->b[i] = c->next;
            c->next = b[c->hash & (n - 1)];
            b[c->hash & (n - 1)] = c;
        }
    }
    free(s->b);
    s->b = b;
    s->mask = n - 1;
    return 0;
}

static int
cset_add(struct cls_cset *s, uint32_t hash)
{
    if (s->b) {
        for (struct cls_count *c = s->b[hash & s->mask]; c; c = c->next) {
            if (c->hash == hash) {
                c->count++;
                return 0;
            }
        }
    }
    if ((!s->b || s->n > s->mask) && cset_grow(s) && !s->b) {
        return -ENOMEM;
    }
    struct cls_count *c = malloc(sizeof *c);
    if (!c) {
        return -ENOMEM;
    }
    c->hash = hash;
    c->count = 1;
    c->next = s->b[hash & s->mask];
    s->b[hash & s->mask] = c;
    s->n++;
    return 0;
}

static void
cset_del(struct cls_cset *s, uint32_t hash)
{
    for (struct cls_count **p = &s->b[hash & s->mask]; *p;
         p = &(*p)->next) {
        if ((*p)->hash == hash) {
            struct cls_count *c = *p;
            if (!--c->count) {
                *p = c->next;
                free(c);
                s->n--;
            }
            return;
        }
    }
}

static void
cset_destroy(struct cls_cset *s)
{
    for (size_t i = 0; s->b && i <= s->mask; i++) {
        while (s->b[i]) {
            struct cls_count *c = s->b[i];
            s->b[i] = c->next;
            free(c);
        }
    }
    free(s->b);
    memset(s, 0, sizeof *s);
}

/* ---- subtables ---------------------------------------------------------- */

static uint32_t
mask_hash(const struct ofp_fields *m)
{
    return hash_bytes(m, sizeof *m, 0);
}

static struct cls_subtable *
subtable_create(const struct ofp_fields *mask)
{
    struct cls_subtable *st = calloc(1, sizeof *st);

    if (!st) {
        return NULL;
    }
    st->mask = *mask;
    st->mask_hash = mask_hash(mask);
    st->words = calloc(N_WORDS * N_STAGES, sizeof *st->words);
    st->buckets = calloc(8, sizeof *st->buckets);
    if (!st->words || !st->buckets) {
        free(st->words);
        free(st->buckets);
        free(st);
        return NULL;
    }
    st->bucket_mask = 7;
    for (size_t k = 0; k < N_STAGES; k++) {
        int stage = stage_order[k];
        size_t before = st->n_words;
        for (size_t w = 0; w < N_WORDS; w++) {
            uint64_t full = word(mask, w), part = 0;
            for (size_t b = 0; b < 8 && full; b++) {
                if (byte_stage(w * 8 + b) == stage) {
                    part |= full & (0xffull << (8 * b));
                }
            }
            if (part) {
                st->words[st->n_words++] = (struct cls_word) {
                    .w = w, .mask = part,
                    .wc = stage != ST_PIPE && w < KEY_WORDS,
                };
            }
        }
        if (st->n_words != before) {
            st->stage_end[st->n_stages++] = st->n_words;
        }
    }
    if (st->n_words) {
        struct cls_word *w = realloc(st->words,
                                     st->n_words * sizeof *st->words);
        st->words = w ? w : st->words;
    }
    return st;
}

static void
subtable_destroy(struct cls_subtable *st)
{
    for (size_t k = 0; k + 1 < N_STAGES; k++) {
        cset_destroy(&st->idx[k]);
    }
    free(st->words);
    free(st->buckets);
    free(st->prios);
    free(st);
}

static int
subtable_max(const struct cls_subtable *st)
{
    return st->n_prios ? st->prios[0].priority : -1;
}

/* Index of 'priority' in st->prios, or where it would go. */
static size_t
prio_find(const struct cls_subtable *st, uint16_t priority, bool *found)
{
    size_t lo = 0, hi = st->n_prios;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (st->prios[mid].priority == priority) {
            *found = true;
            return mid;
        }
        if (st->prios[mid].priority > priority) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

static int
prio_add(struct cls_subtable *st, uint16_t priority)
{
    bool found;
    size_t i = prio_find(st, priority, &found);

    if (found) {
        st->prios[i].count++;
        return 0;
    }
    if (st->n_prios == st->prio_cap) {
        size_t cap = st->prio_cap ? st->prio_cap * 2 : 4;
        struct cls_prio *p = realloc(st->prios, cap * sizeof *p);
        if (!p) {
            return -ENOMEM;
        }
        st->prios = p;
        st->prio_cap = cap;
    }
    memmove(&st->prios[i + 1], &st->prios[i],
            (st->n_prios - i) * sizeof *st->prios);
    st->prios[i] = (struct cls_prio) { priority, 1 };
    st->n_prios++;
    return 0;
}

static void
prio_del(struct cls_subtable *st, uint16_t priority)
{
    bool found;
    size_t i = prio_find(st, priority, &found);

    if (found && !--st->prios[i].count) {
        memmove(&st->prios[i], &st->prios[i + 1],
                (st->n_prios - i - 1) * sizeof *st->prios);
        st->n_prios--;
    }
}

static bool
prio_has(const struct cls_subtable *st, uint16_t priority)
{
    bool found;
    prio_find(st, priority, &found);
    return found;
}

/* The hash of 'f' (a packet, or a rule's value) under the subtable's
 * mask; each stage's prefix hash goes to 'stage_hash'. */
static uint32_t
value_hash(const struct cls_subtable *st, const struct ofp_fields *f,
           uint32_t stage_hash[N_STAGES])
{
    uint32_t h = 0;
    size_t wi = 0;

    for (size_t k = 0; k < st->n_stages; k++) {
        for (; wi < st->stage_end[k]; wi++) {
            h = hash_add64(h, word(f, st->words[wi].w) & st->words[wi].mask);
        }
        stage_hash[k] = hash_finish(h, k + 1);
    }
    return hash_finish(h, 0);
}

static bool
values_equal(const struct cls_subtable *st, const struct ofp_fields *a,
             const struct ofp_fields *b)
{
    for (size_t i = 0; i < st->n_words; i++) {
        const struct cls_word *cw = &st->words[i];
        if ((word(a, cw->w) ^ word(b, cw->w)) & cw->mask) {
            return false;
        }
    }
    return true;
}

/* ORs the mask words before 'end' that the megaflow mask takes. */
static void
or_wc(const struct cls_subtable *st, size_t end, struct flow_key *wc)
{
    if (!wc) {
        return;
    }
    for (size_t i = 0; i < end; i++) {
        const struct cls_word *cw = &st->words[i];
        if (cw->wc) {
            uint64_t x = word(wc, cw->w) | cw->mask;
            memcpy((uint8_t *) wc + cw->w * 8, &x, 8);
        }
    }
}

static struct cls_rule *
subtable_find_head(const struct cls_subtable *st, const struct ofp_fields *v,
                   uint32_t hash)
{
    for (struct cls_rule *h = st->buckets[hash & st->bucket_mask]; h;
         h = h->hnext) {
        if (h->hash == hash && values_equal(st, &h->match->v, v)) {
            return h;
        }
    }
    return NULL;
}

static struct cls_rule *
subtable_lookup(const struct cls_subtable *st, const struct ofp_fields *pkt,
                struct flow_key *wc)
{
    uint32_t h = 0;
    size_t wi = 0;

    for (size_t k = 0; k < st->n_stages; k++) {
        for (; wi < st->stage_end[k]; wi++) {
            const struct cls_word *cw = &st->words[wi];
            h = hash_add64(h, word(pkt, cw->w) & cw->mask);
        }
        if (k + 1 < st->n_stages
            && !cset_contains(&st->idx[k], hash_finish(h, k + 1))) {
            /* No rule here agrees with the packet so far: later stages
             * were never looked at. */
            or_wc(st, wi, wc);
            return NULL;
        }
    }
    or_wc(st, st->n_words, wc);
    return subtable_find_head(st, pkt, hash_finish(h, 0));
}

static int
subtable_grow(struct cls_subtable *st)
{
    size_t n = (st->bucket_mask + 1) * 2;
    struct cls_rule **b = calloc(n, sizeof *b);

    if (!b) {
        return -ENOMEM;
    }
    for (size_t i = 0; i <= st->bucket_mask; i++) {
        while (st->buckets[i]) {
            struct cls_rule *r = st->buckets[i];
            st->buckets[i] = r->hnext;
            r->hnext = b[r->hash & (n - 1)];
            b[r->hash & (n - 1)] = r;
        }
    }
    free(st->buckets);
    st->buckets = b;
    st->bucket_mask = n - 1;
    return 0;
}

/* Whether 'a' goes before 'b' in a chain of equal values. */
static bool
rule_before(const struct cls_rule *a, const struct cls_rule *b)
{
    return a->priority > b->priority
        || (a->priority == b->priority && a->seq < b->seq);
}

static int
subtable_insert(struct cls_subtable *st, struct cls_rule *r)
{
    uint32_t sh[N_STAGES];

    r->hash = value_hash(st, &r->match->v, sh);
    r->st = st;
    r->dup = NULL;
    if (prio_add(st, r->priority)) {
        return -ENOMEM;
    }

    struct cls_rule *head = subtable_find_head(st, &r->match->v, r->hash);
    if (head) {
        struct cls_rule **p = &st->buckets[r->hash & st->bucket_mask];
        while (*p != head) {
            p = &(*p)->hnext;
        }
        if (rule_before(r, head)) {
            /* 'r' becomes the head in the bucket chain. */
            r->hnext = head->hnext;
            r->dup = head;
            head->hnext = NULL;
            *p = r;
        } else {
            struct cls_rule *prev = head;
            while (prev->dup && !rule_before(r, prev->dup)) {
                prev = prev->dup;
            }
            r->dup = prev->dup;
            r->hnext = NULL;
            prev->dup = r;
        }
        st->n_rules++;
        return 0;
    }

    /* A new value: its stage prefixes count once more. */
    size_t k;
    for (k = 0; k + 1 < st->n_stages; k++) {
        if (cset_add(&st->idx[k], sh[k])) {
            break;
        }
    }
    if (k + 1 < st->n_stages) {
        while (k-- > 0) {
            cset_del(&st->idx[k], sh[k]);
        }
        prio_del(st, r->priority);
        return -ENOMEM;
    }
    if (st->n_heads > st->bucket_mask) {
        subtable_grow(st);      /* on failure, chains just get longer */
    }
    r->hnext = st->buckets[r->hash & st->bucket_mask];
    st->buckets[r->hash & st->bucket_mask] = r;
    st->n_heads++;
    st->n_rules++;
    return 0;
}

static void
subtable_remove(struct cls_subtable *st, struct cls_rule *r)
{
    struct cls_rule **p = &st->buckets[r->hash & st->bucket_mask];

    while (*p && (*p)->hash != r->hash) {
        p = &(*p)->hnext;
    }
    /* Find the chain that holds 'r'. */
    for (; *p; p = &(*p)->hnext) {
        struct cls_rule *head = *p;
        if (head == r) {
            if (r->dup) {
                r->dup->hnext = r->hnext;
                *p = r->dup;
            } else {
                uint32_t sh[N_STAGES];
                value_hash(st, &r->match->v, sh);
                *p = r->hnext;
                for (size_t k = 0; k + 1 < st->n_stages; k++) {
                    cset_del(&st->idx[k], sh[k]);
                }
                st->n_heads--;
            }
            break;
        }
        if (head->hash == r->hash) {
            struct cls_rule *prev = head;
            while (prev->dup && prev->dup != r) {
                prev = prev->dup;
            }
            if (prev->dup == r) {
                prev->dup = r->dup;
                break;
            }
        }
    }
    r->hnext = r->dup = NULL;
    r->st = NULL;
    prio_del(st, r->priority);
    st->n_rules--;
}

/* ---- the classifier ----------------------------------------------------- */

void
classifier_init(struct classifier *cls)
{
    memset(cls, 0, sizeof *cls);
    cls->next_seq = 1;
}

void
classifier_destroy(struct classifier *cls)
{
    for (size_t i = 0; i < cls->n_subtables; i++) {
        subtable_destroy(cls->subtables[i]);
    }
    free(cls->subtables);
    memset(cls, 0, sizeof *cls);
}

static struct cls_subtable *
find_subtable(const struct classifier *cls, const struct ofp_fields *mask,
              size_t *pos)
{
    uint32_t h = mask_hash(mask);

    for (size_t i = 0; i < cls->n_subtables; i++) {
        struct cls_subtable *st = cls->subtables[i];
        if (st->mask_hash == h && !memcmp(&st->mask, mask, sizeof *mask)) {
            if (pos) {
                *pos = i;
            }
            return st;
        }
    }
    return NULL;
}

/* Moves subtable 'i' to where its max priority puts it; drops it if it
 * became empty. */
static void
reposition(struct classifier *cls, size_t i)
{
    struct cls_subtable **a = cls->subtables;
    struct cls_subtable *st = a[i];

    if (!st->n_rules) {
        memmove(&a[i], &a[i + 1], (cls->n_subtables - i - 1) * sizeof *a);
        cls->n_subtables--;
        subtable_destroy(st);
        return;
    }
    int max = subtable_max(st);
    while (i > 0 && subtable_max(a[i - 1]) < max) {
        a[i] = a[i - 1];
        i--;
    }
    while (i + 1 < cls->n_subtables && subtable_max(a[i + 1]) > max) {
        a[i] = a[i + 1];
        i++;
    }
    a[i] = st;
}

int
classifier_insert(struct classifier *cls, struct cls_rule *r,
                  const struct ofp_match *match, uint16_t priority,
                  uint64_t seq)
{
    size_t pos;
    struct cls_subtable *st = find_subtable(cls, &match->m, &pos);

    r->match = match;
    r->priority = priority;
    r->seq = seq ? seq : cls->next_seq++;
    if (!st) {
        if (cls->n_subtables == cls->cap) {
            size_t cap = cls->cap ? cls->cap * 2 : 4;
            struct cls_subtable **a = realloc(cls->subtables,
                                              cap * sizeof *a);
            if (!a) {
                return -ENOMEM;
            }
            cls->subtables = a;
            cls->cap = cap;
        }
        st = subtable_create(&match->m);
        if (!st) {
            return -ENOMEM;
        }
        pos = cls->n_subtables++;
        cls->subtables[pos] = st;
    }
    int err = subtable_insert(st, r);
    if (!err) {
        cls->n_rules++;
    }
    reposition(cls, pos);
    return err;
}

void
classifier_remove(struct classifier *cls, struct cls_rule *r)
{
    struct cls_subtable *st = r->st;

    for (size_t i = 0; i < cls->n_subtables; i++) {
        if (cls->subtables[i] == st) {
            subtable_remove(st, r);
            cls->n_rules--;
            reposition(cls, i);
            return;
        }
    }
}

struct cls_rule *
classifier_find_exact(const struct classifier *cls,
                      const struct ofp_match *match, uint16_t priority)
{
    const struct cls_subtable *st = find_subtable(cls, &match->m, NULL);
    uint32_t sh[N_STAGES];

    if (!st || !prio_has(st, priority)) {
        return NULL;
    }
    struct cls_rule *r = subtable_find_head(st, &match->v,
                                            value_hash(st, &match->v, sh));
    while (r && r->priority > priority) {
        r = r->dup;
    }
    return r && r->priority == priority ? r : NULL;
}

struct cls_rule *
classifier_lookup(const struct classifier *cls, const struct ofp_fields *pkt,
                  struct flow_key *wc)
{
    struct cls_rule *best = NULL;

    for (size_t i = 0; i < cls->n_subtables; i++) {
        const struct cls_subtable *st = cls->subtables[i];
        if (best && best->priority >= subtable_max(st)) {
            break;              /* nothing further on can win */
        }
        struct cls_rule *r = subtable_lookup(st, pkt, wc);
        if (r && (!best || r->priority > best->priority)) {
            best = r;
        }
    }
    return best;
}

/* The words where a filter's mask is set, to test rules against. */
struct filter {
    const struct ofp_match *m;
    uint16_t w[N_WORDS];
    size_t n;
};

static void
filter_init(struct filter *f, const struct ofp_match *m)
{
    f->m = m;
    f->n = 0;
    for (size_t w = 0; m && w < N_WORDS; w++) {
        if (word(&m->m, w)) {
            f->w[f->n++] = w;
        }
    }
}

/* Whether the subtable's rules can be covered: they must look at every
 * bit the filter looks at. */
static bool
filter_subtable(const struct filter *f, const struct cls_subtable *st)
{
    for (size_t i = 0; i < f->n; i++) {
        if (word(&f->m->m, f->w[i]) & ~word(&st->mask, f->w[i])) {
            return false;
        }
    }
    return true;
}

static bool
filter_rule(const struct filter *f, const struct cls_rule *r)
{
    for (size_t i = 0; i < f->n; i++) {
        size_t w = f->w[i];
        if ((word(&f->m->v, w) ^ word(&r->match->v, w))
            & word(&f->m->m, w)) {
            return false;
        }
    }
    return true;
}

void
classifier_for_each(const struct classifier *cls,
                    const struct ofp_match *filter,
                    void (*cb)(struct cls_rule *, void *aux), void *aux)
{
    struct filter f;

    filter_init(&f, filter);
    for (size_t i = 0; i < cls->n_subtables; i++) {
        const struct cls_subtable *st = cls->subtables[i];
        if (!filter_subtable(&f, st)) {
            continue;
        }
        for (size_t b = 0; b <= st->bucket_mask; b++) {
            for (struct cls_rule *h = st->buckets[b]; h; h = h->hnext) {
                if (!filter_rule(&f, h)) {
                    continue;   /* its duplicates have the same values */
                }
                for (struct cls_rule *r = h; r; r = r->dup) {
                    cb(r, aux);
                }
            }
        }
    }
}

struct collect {
    struct cls_rule **a;
    size_t n, cap;
    bool failed;
};

static void
collect_one(struct cls_rule *r, void *aux)
{
    struct collect *c = aux;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct cls_rule **a = realloc(c->a, cap * sizeof *a);
        if (!a) {
            c->failed = true;
            return;
        }
        c->a = a;
        c->cap = cap;
    }
    c->a[c->n++] = r;
}

static int
cmp_rules(const void *a_, const void *b_)
{
    const struct cls_rule *a = *(struct cls_rule *const *) a_;
    const struct cls_rule *b = *(struct cls_rule *const *) b_;

    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct cls_rule **
classifier_collect(const struct classifier *cls,
                   const struct ofp_match *filter, size_t *n)
{
    struct collect c = { NULL, 0, 0, false };

    *n = 0;
    if (!cls->n_rules) {
        return NULL;
    }
    classifier_for_each(cls, filter, collect_one, &c);
    if (c.failed) {
        free(c.a);
        *n = SIZE_MAX;
        return NULL;
    }
    if (c.n) {
        qsort(c.a, c.n, sizeof *c.a, cmp_rules);
    }
    *n = c.n;
    return c.a;
}

static bool
matches_overlap(const struct ofp_match *a, const struct ofp_match *b)
{
    for (size_t w = 0; w < N_WORDS; w++) {
        if ((word(&a->v, w) ^ word(&b->v, w)) & word(&a->m, w)
            & word(&b->m, w)) {
            return false;
        }
    }
    return true;
}

bool
classifier_overlaps(const struct classifier *cls,
                    const struct ofp_match *match, uint16_t priority)
{
    for (size_t i = 0; i < cls->n_subtables; i++) {
        const struct cls_subtable *st = cls->subtables[i];
        if (!prio_has(st, priority)) {
            continue;
        }
        for (size_t b = 0; b <= st->bucket_mask; b++) {
            for (struct cls_rule *h = st->buckets[b]; h; h = h->hnext) {
                for (struct cls_rule *r = h; r; r = r->dup) {
                    if (r->priority == priority
                        && matches_overlap(r->match, match)) {
                        return true;
                    }
                }
            }
        }
    }
    return false;
}
