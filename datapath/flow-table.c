/* The datapath flow table: tuple-space search over per-mask subtables,
 * a per-thread exact-match cache in front of it, a UFID index and a
 * resumable dump order.
 *
 * Every hash table here is an open-addressing array of (hash, pointer)
 * slots with linear probing.  The writer fills a slot by storing the hash
 * and then publishing the pointer, and empties it by storing a tombstone,
 * never NULL, so a reader probing an array that the writer is changing
 * never stops early and misses an entry that stays installed.  Arrays are
 * kept at most half full (tombstones included), so a probe always ends on a
 * NULL slot; growing, shrinking or sweeping tombstones builds a new array,
 * publishes it and frees the old one after a grace period.
 *
 * Threads: one writer (every function that changes the table, plus
 * find_exact, find_ufid and next) and lock-free readers (lookup and
 * lookup_cached, inside urcu_memb_read_lock()).  Every thread that uses the
 * table, the writer included, must be registered with urcu-memb because
 * call_rcu() requires it.
 */
#include "flow-table.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#include "actions.h"
#include "hash.h"
#include "kflow.h"

/* The key seen as 64-bit words; may_alias because the same memory is also
 * accessed as struct flow_key. */
typedef uint64_t __attribute__((__may_alias__)) key_word;

#define KEY_WORDS (sizeof(struct flow_key) / 8)
#define KEY_FIXED_WORDS (FLOW_KEY_FIXED_LEN / 8)

#define CONTAINER_OF(ptr, type, member)                                      \
    ((type *) (void *) ((char *) (ptr) - offsetof(type, member)))

/* ------------------------------------------------------------------ */
/* Hashing and comparing keys under a mask.                             */

/* A mask in compact form: the indexes of the key words it selects and
 * those mask words.  Lookups hash and compare only these words (a typical
 * megaflow mask selects a handful of the key's words), gathered into a
 * contiguous array first. */
struct mask_words {
    uint8_t n;
    uint8_t idx[KEY_WORDS];
    uint64_t mw[KEY_WORDS];
};

static void
mask_words_init(struct mask_words *mwd, const struct flow_key *mask)
{
    const key_word *m = (const key_word *) mask;

    mwd->n = 0;
    for (unsigned i = 0; i < KEY_WORDS; i++) {
        if (m[i]) {
            mwd->idx[mwd->n] = (uint8_t) i;
            mwd->mw[mwd->n++] = m[i];
        }
    }
}

static inline void
mask_words_gather(const struct mask_words *mwd, const key_word *k,
                  uint64_t *out)
{
    for (unsigned i = 0; i < mwd->n; i++) {
        out[i] = k[mwd->idx[i]] & mwd->mw[i];
    }
}

static bool
mask_words_equal(const struct mask_words *a, const struct mask_words *b)
{
    return a->n == b->n && !memcmp(a->idx, b->idx, a->n)
           && !memcmp(a->mw, b->mw, a->n * sizeof a->mw[0]);
}

/* Per-position keys of the word hash; fixed so that runs are repeatable. */
static uint64_t hash_secret[KEY_WORDS + 1];
static pthread_once_t hash_secret_once = PTHREAD_ONCE_INIT;

static void
hash_secret_init(void)
{
    uint64_t x = 0x243f6a8885a308d3ULL;

    for (size_t i = 0; i < KEY_WORDS + 1; i++) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        hash_secret[i] = z ^ (z >> 31);
    }
}

/* 64x64->128 multiply, folded: a strong mix of two words in one step. */
static inline uint64_t
mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128) a * b;

    return (uint64_t) r ^ (uint64_t) (r >> 64);
}

/* Hash of 'n' words.  The pairs are independent, so the multiplies run in
 * parallel instead of forming one long dependency chain. */
static inline uint32_t
words_hash(const key_word *w, unsigned n)
{
    uint64_t acc = n * 0x9e3779b97f4a7c15ULL;
    unsigned i;

    for (i = 0; i + 1 < n; i += 2) {
        acc += mum(w[i] ^ hash_secret[i], w[i + 1] ^ hash_secret[i + 1]);
    }
    if (i < n) {
        acc += mum(w[i] ^ hash_secret[i], hash_secret[KEY_WORDS]);
    }
    acc ^= acc >> 29;
    return (uint32_t) (acc ^ (acc >> 32));
}

static inline bool
words_equal(const key_word *a, const key_word *b, unsigned n)
{
    uint64_t diff = 0;

    /* No early exit: a hash match is nearly always a real match. */
    for (unsigned i = 0; i < n; i++) {
        diff |= a[i] ^ b[i];
    }
    return diff == 0;
}

/* Hash of a whole packet key for the exact-match cache: the fixed part and
 * the tunnel options in use.  Any function of the key would be correct,
 * since a cache hit is verified against the flow's mask. */
static inline uint32_t
full_key_hash(const struct flow_key *key)
{
    unsigned n = KEY_FIXED_WORDS;

    if (key->tunnel.opts_len) {
        n += (key->tunnel.opts_len + 7) / 8;
    }
    return words_hash((const key_word *) key, n);
}

/* ------------------------------------------------------------------ */
/* RCU-safe open-addressing hash table (single writer).                 */

struct htab_slot {
    _Atomic uint32_t hash;
    void *_Atomic ptr;          /* NULL: never used; HTAB_TOMB: removed */
};

struct htab_arr {
    struct rcu_head rcu;
    uint32_t mask;              /* n_slots - 1, n_slots a power of 2 */
    struct htab_slot slots[];
};

struct htab {
    struct htab_arr *_Atomic arr;
    uint32_t n;                 /* live entries (writer) */
    uint32_t n_tomb;            /* tombstones (writer) */
};

static char htab_tomb_sentinel;
#define HTAB_TOMB ((void *) &htab_tomb_sentinel)
#define HTAB_MIN_SLOTS 8u

static struct htab_arr *
htab_arr_alloc(uint32_t n_slots)
{
    struct htab_arr *a = calloc(1, sizeof *a + n_slots * sizeof a->slots[0]);

    if (a) {
        a->mask = n_slots - 1;
    }
    return a;
}

static void
htab_arr_free_cb(struct rcu_head *head)
{
    free(CONTAINER_OF(head, struct htab_arr, rcu));
}

static int
htab_init(struct htab *h)
{
    struct htab_arr *a = htab_arr_alloc(HTAB_MIN_SLOTS);

    if (!a) {
        return -ENOMEM;
    }
    atomic_init(&h->arr, a);
    h->n = h->n_tomb = 0;
    return 0;
}

/* Frees the array now: only when no reader can reach it any more. */
static void
htab_destroy_now(struct htab *h)
{
    free(atomic_load_explicit(&h->arr, memory_order_relaxed));
    atomic_store_explicit(&h->arr, NULL, memory_order_relaxed);
}

static inline struct htab_arr *
htab_arr(const struct htab *h)
{
    return atomic_load_explicit(&h->arr, memory_order_acquire);
}

/* Stores into the first free or tombstoned slot of 'hash''s probe
 * sequence.  Returns true if it reused a tombstone. */
static bool
htab_arr_put(struct htab_arr *a, uint32_t hash, void *ptr)
{
    for (uint32_t i = hash & a->mask;; i = (i + 1) & a->mask) {
        struct htab_slot *s = &a->slots[i];
        void *p = atomic_load_explicit(&s->ptr, memory_order_relaxed);

        if (!p || p == HTAB_TOMB) {
            atomic_store_explicit(&s->hash, hash, memory_order_relaxed);
            atomic_store_explicit(&s->ptr, ptr, memory_order_release);
            return p == HTAB_TOMB;
        }
    }
}

/* Builds an array of 'n_slots' holding the live entries, publishes it and
 * retires the old one. */
static int
htab_rebuild(struct htab *h, uint32_t n_slots)
{
    struct htab_arr *old = htab_arr(h);
    struct htab_arr *a = htab_arr_alloc(n_slots);

    if (!a) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i <= old->mask; i++) {
        struct htab_slot *s = &old->slots[i];
        void *p = atomic_load_explicit(&s->ptr, memory_order_relaxed);

        if (p && p != HTAB_TOMB) {
            htab_arr_put(a, atomic_load_explicit(&s->hash,
                                                 memory_order_relaxed), p);
        }
    }
    atomic_store_explicit(&h->arr, a, memory_order_release);
    h->n_tomb = 0;
    urcu_memb_call_rcu(&old->rcu, htab_arr_free_cb);
    return 0;
}

static uint32_t
htab_size_for(uint32_t n)
{
    uint32_t n_slots = HTAB_MIN_SLOTS;

    /* Load at most a third after a rebuild, so a while passes before the
     * next one. */
    while (n_slots < 3 * (uint64_t) n && n_slots < (1u << 31)) {
        n_slots <<= 1;
    }
    return n_slots;
}

/* Makes room for one more entry while keeping the array at most half
 * full, so that every probe ends on a NULL slot. */
static int
htab_reserve(struct htab *h)
{
    const struct htab_arr *a = htab_arr(h);

    if ((h->n + h->n_tomb + 1) * 2 <= a->mask + 1) {
        return 0;
    }
    return htab_rebuild(h, htab_size_for(h->n + 1));
}

/* After htab_reserve() succeeded. */
static void
htab_insert(struct htab *h, uint32_t hash, void *ptr)
{
    if (htab_arr_put(htab_arr(h), hash, ptr)) {
        h->n_tomb--;
    }
    h->n++;
}

static void
htab_remove(struct htab *h, uint32_t hash, const void *ptr)
{
    struct htab_arr *a = htab_arr(h);

    for (uint32_t i = hash & a->mask;; i = (i + 1) & a->mask) {
        struct htab_slot *s = &a->slots[i];
        void *p = atomic_load_explicit(&s->ptr, memory_order_relaxed);

        if (!p) {
            return;             /* not there */
        }
        if (p == ptr) {
            atomic_store_explicit(&s->ptr, HTAB_TOMB, memory_order_release);
            h->n--;
            h->n_tomb++;
            break;
        }
    }
    /* Shrinking is an optimisation: on allocation failure keep the big
     * array. */
    if (a->mask + 1 > HTAB_MIN_SLOTS && (uint64_t) h->n * 8 < a->mask + 1) {
        htab_rebuild(h, htab_size_for(h->n));
    }
}

/* ------------------------------------------------------------------ */
/* Flows, masks and the table.                                          */

/* One subtable: a distinct mask and the flows that use it.  Shared by
 * those flows; it lives while it has flows (n_flows is its reference
 * count) and is freed a grace period after the last one leaves. */
struct flow_mask {
    /* Read by every lookup. */
    struct htab flows;          /* masked-key hash -> struct flow_entry */
    struct mask_words words;    /* the mask itself, compact */

    /* Writer only. */
    uint32_t n_flows;
    uint32_t index_hash;        /* in flow_table.mask_index */
    struct rcu_head rcu;

    /* Ranking, by the re-ranking reader (flow_table.rerank_busy). */
    uint64_t last_hits;
    uint64_t score;

    /* Written by readers on (sampled) hits: keep it off the hot lines. */
    _Alignas(64) _Atomic uint64_t hits;
};

/* The subtables in rank order; replaced as a whole (RCU). */
struct mask_vec {
    struct rcu_head rcu;
    uint32_t n;
    struct flow_mask *masks[];
};

/* The private side of a flow, allocated with it by flow_alloc(): a
 * header that lookups read, the flow's masked key in compact form right
 * after it (the words its mask selects), then the public struct dp_flow
 * (whose 'priv' points back here).  A lookup thus touches a line or two of
 * the flow, not the three full keys of struct dp_flow. */
struct flow_entry {
    _Atomic bool dead;          /* mirror of flow->dead, near the words */
    bool inserted;
    uint8_t n_words;            /* of mk[] */
    /* References: one from the table while inserted, one per EMC slot.
     * The last one frees the flow after a grace period. */
    _Atomic uint32_t refcnt;
    uint32_t hash;              /* of mk[], in fm->flows */
    uint32_t ufid_hash;         /* in flow_table.ufid_index */
    const struct flow_table *table;     /* set while inserted */
    struct flow_mask *fm;
    struct dp_flow *flow;

    /* Writer only. */
    uint64_t serial;            /* dump order */
    uint32_t dump_idx;
    struct rcu_head rcu;

    uint64_t mk[];              /* masked key words, as fm->words */
};

struct flow_table {
    struct mask_vec *_Atomic vec;
    _Atomic bool rerank_busy;   /* a reader is re-ranking; others skip */

    /* Written on every insert and removal: away from 'vec', which every
     * lookup reads. */
    _Alignas(64) _Atomic uint32_t n_flows;

    /* Writer only. */
    struct htab mask_index;     /* mask hash -> struct flow_mask */
    struct htab ufid_index;     /* ufid hash -> struct flow_entry */

    /* Flows in insertion (serial) order, for resumable dumps.  Removal
     * leaves a NULL hole that keeps its serial; holes are squeezed out
     * when they outnumber the flows three to one, or the array is full. */
    struct flow_entry **dump_flows;
    uint64_t *dump_serials;
    uint32_t dump_n, dump_cap, dump_live;
    uint64_t next_serial;
};

static inline struct flow_entry *
flow_entry(const struct dp_flow *f)
{
    return f->priv;
}

static inline bool
entry_is_dead(const struct flow_entry *fe)
{
    return atomic_load_explicit(&fe->dead, memory_order_acquire);
}

/* Per-thread tick used to sample hit counts and to pace re-ranking. */
static _Thread_local uint32_t lookup_tick;
#define HIT_SAMPLE_MASK 7u       /* count one hit in 8 */
#define RERANK_MASK 4095u        /* try to re-rank every 4096 lookups */

/* Frees a block after a grace period, without an rcu_head of its own. */
struct deferred_free {
    struct rcu_head rcu;
    void *p;
};

static void
deferred_free_cb(struct rcu_head *head)
{
    struct deferred_free *d = CONTAINER_OF(head, struct deferred_free, rcu);

    free(d->p);
    free(d);
}

static void
free_after_grace(void *p)
{
    struct deferred_free *d;

    if (!p) {
        return;
    }
    d = malloc(sizeof *d);
    if (!d) {
        urcu_memb_synchronize_rcu();
        free(p);
        return;
    }
    d->p = p;
    urcu_memb_call_rcu(&d->rcu, deferred_free_cb);
}

/* ------------------------------------------------------------------ */
/* Flow lifetime.                                                       */

struct dp_flow *
flow_alloc(const struct flow_match *m, const struct flow_key *unmasked)
{
    struct mask_words mwd;
    struct flow_entry *fe;
    struct dp_flow *f;
    size_t flow_ofs, size;
    key_word *k;

    mask_words_init(&mwd, &m->mask);
    flow_ofs = (offsetof(struct flow_entry, mk) + mwd.n * sizeof(uint64_t)
                + 63) & ~(size_t) 63;
    size = (flow_ofs + sizeof *f + 63) & ~(size_t) 63;
    fe = aligned_alloc(64, size);
    if (!fe) {
        return NULL;
    }
    memset(fe, 0, size);
    f = (struct dp_flow *) (void *) ((char *) fe + flow_ofs);
    f->match = *m;
    /* Stored keys are masked so that word compares need no mask. */
    k = (key_word *) &f->match.key;
    for (size_t i = 0; i < KEY_WORDS; i++) {
        k[i] &= ((const key_word *) &f->match.mask)[i];
    }
    mask_words_gather(&mwd, k, fe->mk);
    fe->n_words = mwd.n;
    fe->flow = f;
    f->unmasked_key = unmasked ? *unmasked : m->key;
    f->priv = fe;
    atomic_init(&f->dead, false);
    atomic_init(&f->acts, NULL);
    atomic_init(&fe->dead, false);
    atomic_init(&fe->refcnt, 0);
    return f;
}

static void
flow_entry_free(struct flow_entry *fe)
{
    free(atomic_load_explicit(&fe->flow->acts, memory_order_relaxed));
    free(fe);
}

void
flow_free(struct dp_flow *f)
{
    if (f && !flow_entry(f)->inserted) {
        flow_entry_free(flow_entry(f));
    }
}

static void
flow_free_cb(struct rcu_head *head)
{
    flow_entry_free(CONTAINER_OF(head, struct flow_entry, rcu));
}

static void
flow_unref(struct flow_entry *fe)
{
    if (atomic_fetch_sub_explicit(&fe->refcnt, 1, memory_order_acq_rel)
        == 1) {
        urcu_memb_call_rcu(&fe->rcu, flow_free_cb);
    }
}

/* Takes a reference unless the flow is already on its way to be freed
 * (reader side, inside the read lock). */
static bool
flow_try_ref(struct flow_entry *fe)
{
    uint32_t r = atomic_load_explicit(&fe->refcnt, memory_order_relaxed);

    while (r) {
        if (atomic_compare_exchange_weak_explicit(&fe->refcnt, &r, r + 1,
                                                  memory_order_acq_rel,
                                                  memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Subtables.                                                           */

static uint32_t
mask_index_hash(const struct mask_words *mwd)
{
    return words_hash(mwd->mw, mwd->n) ^ hash_bytes(mwd->idx, mwd->n, 0);
}

/* The subtable with exactly 'mwd', or NULL (writer side). */
static struct flow_mask *
mask_find(const struct flow_table *t, const struct mask_words *mwd,
          uint32_t hash)
{
    const struct htab_arr *a = htab_arr(&t->mask_index);

    for (uint32_t i = hash & a->mask;; i = (i + 1) & a->mask) {
        const struct htab_slot *s = &a->slots[i];
        struct flow_mask *fm = atomic_load_explicit(&s->ptr,
                                                    memory_order_acquire);

        if (!fm) {
            return NULL;
        }
        if ((void *) fm != HTAB_TOMB
            && atomic_load_explicit(&s->hash, memory_order_relaxed) == hash
            && mask_words_equal(&fm->words, mwd)) {
            return fm;
        }
    }
}

/* A probe of one subtable, in two halves so that a lookup can start the
 * next subtable's probe (and its likely cache miss on the slot) before it
 * finishes the current one. */
struct probe {
    const struct htab_arr *arr;
    uint32_t hash;
    uint64_t w[KEY_WORDS];      /* the key's words under the mask */
};

static inline void
probe_start(struct probe *p, const struct flow_mask *fm, const key_word *k)
{
    mask_words_gather(&fm->words, k, p->w);
    p->hash = words_hash(p->w, fm->words.n);
    p->arr = htab_arr(&fm->flows);
    __builtin_prefetch(&p->arr->slots[p->hash & p->arr->mask]);
}

/* The live flow whose masked key is p->w, or NULL.  The reader's hot
 * loop. */
static inline struct flow_entry *
probe_finish(const struct probe *p, unsigned n_words)
{
    const struct htab_arr *a = p->arr;

    for (uint32_t i = p->hash & a->mask;; i = (i + 1) & a->mask) {
        const struct htab_slot *s = &a->slots[i];
        struct flow_entry *fe = atomic_load_explicit(&s->ptr,
                                                     memory_order_acquire);

        if (!fe) {
            return NULL;
        }
        if ((void *) fe != HTAB_TOMB
            && atomic_load_explicit(&s->hash, memory_order_relaxed)
                   == p->hash
            && words_equal(p->w, fe->mk, n_words) && !entry_is_dead(fe)) {
            return fe;
        }
    }
}

static struct flow_entry *
subtable_lookup(const struct flow_mask *fm, const key_word *k)
{
    struct probe p;

    probe_start(&p, fm, k);
    return probe_finish(&p, fm->words.n);
}

static struct flow_mask *
flow_mask_create(const struct mask_words *mwd, uint32_t index_hash)
{
    struct flow_mask *fm;

    if (posix_memalign((void **) &fm, 64, sizeof *fm)) {
        return NULL;
    }
    memset(fm, 0, sizeof *fm);
    if (htab_init(&fm->flows)) {
        free(fm);
        return NULL;
    }
    fm->words = *mwd;
    fm->index_hash = index_hash;
    atomic_init(&fm->hits, 0);
    return fm;
}

static void
flow_mask_free(struct flow_mask *fm)
{
    htab_destroy_now(&fm->flows);
    free(fm);
}

static void
flow_mask_free_cb(struct rcu_head *head)
{
    flow_mask_free(CONTAINER_OF(head, struct flow_mask, rcu));
}

static struct mask_vec *
mask_vec_alloc(uint32_t n)
{
    struct mask_vec *v = malloc(sizeof *v + n * sizeof v->masks[0]);

    if (v) {
        v->n = n;
    }
    return v;
}

static void
mask_vec_free_cb(struct rcu_head *head)
{
    free(CONTAINER_OF(head, struct mask_vec, rcu));
}

static inline struct mask_vec *
mask_vec_get(const struct flow_table *t)
{
    return atomic_load_explicit(&t->vec, memory_order_acquire);
}

/* Replaces the vector, built by 'fill' from the current one, with
 * compare-and-swap: a re-ranking reader may replace it at the same time,
 * and then the writer simply builds again from the reader's version, so
 * the writer never waits for a reader.  The read lock keeps the vector it
 * started from alive, so its address cannot come back (no ABA). */
static void
vec_replace(struct flow_table *t, struct mask_vec *nv,
            void (*fill)(struct mask_vec *nv, const struct mask_vec *old,
                         struct flow_mask *fm),
            struct flow_mask *fm)
{
    struct mask_vec *old;

    urcu_memb_read_lock();
    old = mask_vec_get(t);
    do {
        fill(nv, old, fm);
    } while (!atomic_compare_exchange_strong_explicit(
        &t->vec, &old, nv, memory_order_acq_rel, memory_order_acquire));
    urcu_memb_read_unlock();
    urcu_memb_call_rcu(&old->rcu, mask_vec_free_cb);
}

static void
vec_fill_add(struct mask_vec *nv, const struct mask_vec *old,
             struct flow_mask *fm)
{
    memcpy(nv->masks, old->masks, old->n * sizeof old->masks[0]);
    nv->masks[old->n] = fm;
    nv->n = old->n + 1;
}

static void
vec_fill_del(struct mask_vec *nv, const struct mask_vec *old,
             struct flow_mask *fm)
{
    uint32_t j = 0;

    for (uint32_t i = 0; i < old->n; i++) {
        if (old->masks[i] != fm) {
            nv->masks[j++] = old->masks[i];
        }
    }
    nv->n = j;
}

/* Appends 'fm' (lowest rank: a new mask has no hits yet) using 'nv', a
 * vector preallocated with room for one more.  Only the writer changes
 * the number of subtables, so the size is known in advance. */
static void
vec_add(struct flow_table *t, struct flow_mask *fm, struct mask_vec *nv)
{
    vec_replace(t, nv, vec_fill_add, fm);
}

/* Takes 'fm' out of the vector.  Returns false, changing nothing, if
 * memory is short: the empty subtable then stays, harmless. */
static bool
vec_del(struct flow_table *t, struct flow_mask *fm)
{
    struct mask_vec *nv = mask_vec_alloc(mask_vec_get(t)->n);

    if (!nv) {
        return false;
    }
    vec_replace(t, nv, vec_fill_del, fm);
    return true;
}

/* Re-sorts the subtables by recent hits (a decaying score), publishing a
 * new vector only if the order changes.  Called by readers now and then,
 * inside the read lock; one at a time (the others skip it), and it gives up
 * if the writer changed the vector meanwhile. */
static void
maybe_rerank(struct flow_table *t)
{
    struct mask_vec *v, *nv;
    bool sorted = true;

    if (atomic_load_explicit(&t->rerank_busy, memory_order_relaxed)
        || atomic_exchange_explicit(&t->rerank_busy, true,
                                    memory_order_acquire)) {
        return;
    }
    v = mask_vec_get(t);
    for (uint32_t i = 0; i < v->n; i++) {
        struct flow_mask *fm = v->masks[i];
        uint64_t h = atomic_load_explicit(&fm->hits, memory_order_relaxed);

        fm->score = fm->score / 2 + (h - fm->last_hits);
        fm->last_hits = h;
        if (i && fm->score > v->masks[i - 1]->score) {
            sorted = false;
        }
    }
    if (!sorted && (nv = mask_vec_alloc(v->n)) != NULL) {
        /* Stable insertion sort: equal scores keep their order, so ranks
         * do not flap. */
        for (uint32_t i = 0; i < v->n; i++) {
            struct flow_mask *fm = v->masks[i];
            uint32_t j = i;

            while (j && nv->masks[j - 1]->score < fm->score) {
                nv->masks[j] = nv->masks[j - 1];
                j--;
            }
            nv->masks[j] = fm;
        }
        if (atomic_compare_exchange_strong_explicit(
                &t->vec, &v, nv, memory_order_acq_rel,
                memory_order_relaxed)) {
            urcu_memb_call_rcu(&v->rcu, mask_vec_free_cb);
        } else {
            free(nv);           /* never published */
        }
    }
    atomic_store_explicit(&t->rerank_busy, false, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Dump order.                                                          */

static void
dump_compact(struct flow_table *t)
{
    uint32_t j = 0;

    for (uint32_t i = 0; i < t->dump_n; i++) {
        struct flow_entry *fe = t->dump_flows[i];

        if (fe) {
            t->dump_flows[j] = fe;
            t->dump_serials[j] = t->dump_serials[i];
            fe->dump_idx = j++;
        }
    }
    t->dump_n = j;
}

static int
dump_reserve(struct flow_table *t)
{
    uint32_t cap;
    void *p;

    if (t->dump_n < t->dump_cap) {
        return 0;
    }
    if (t->dump_live < t->dump_n / 2) {
        dump_compact(t);
        return 0;
    }
    cap = t->dump_cap ? t->dump_cap * 2 : 64;
    p = realloc(t->dump_flows, cap * sizeof *t->dump_flows);
    if (!p) {
        return -ENOMEM;
    }
    t->dump_flows = p;
    p = realloc(t->dump_serials, cap * sizeof *t->dump_serials);
    if (!p) {
        return -ENOMEM;
    }
    t->dump_serials = p;
    t->dump_cap = cap;
    return 0;
}

static void
dump_append(struct flow_table *t, struct flow_entry *fe)
{
    fe->serial = ++t->next_serial;
    fe->dump_idx = t->dump_n;
    t->dump_flows[t->dump_n] = fe;
    t->dump_serials[t->dump_n] = fe->serial;
    t->dump_n++;
    t->dump_live++;
}

static void
dump_del(struct flow_table *t, struct flow_entry *fe)
{
    t->dump_flows[fe->dump_idx] = NULL;
    t->dump_live--;
    while (t->dump_n && !t->dump_flows[t->dump_n - 1]) {
        t->dump_n--;
    }
    if (t->dump_n > 64 && t->dump_live < t->dump_n / 4) {
        dump_compact(t);
    }
}

/* ------------------------------------------------------------------ */
/* Table.                                                               */

struct flow_table *
flow_table_create(void)
{
    size_t size = (sizeof(struct flow_table) + 63) & ~(size_t) 63;
    struct flow_table *t = aligned_alloc(64, size);
    struct mask_vec *v = mask_vec_alloc(0);

    pthread_once(&hash_secret_once, hash_secret_init);
    if (!t || !v) {
        goto error;
    }
    memset(t, 0, size);
    if (htab_init(&t->mask_index)) {
        goto error;
    }
    if (htab_init(&t->ufid_index)) {
        htab_destroy_now(&t->mask_index);
        goto error;
    }
    atomic_init(&t->vec, v);
    atomic_init(&t->rerank_busy, false);
    atomic_init(&t->n_flows, 0);
    return t;

error:
    free(v);
    free(t);
    return NULL;
}

void
flow_table_destroy(struct flow_table *t)
{
    struct mask_vec *v;

    if (!t) {
        return;
    }
    flow_table_flush(t);
    /* Subtables whose removal failed for lack of memory are still here. */
    v = mask_vec_get(t);
    for (uint32_t i = 0; i < v->n; i++) {
        urcu_memb_call_rcu(&v->masks[i]->rcu, flow_mask_free_cb);
    }
    urcu_memb_call_rcu(&v->rcu, mask_vec_free_cb);
    /* Let the callbacks above (and earlier retirements) run, so nothing
     * of the table outlives this call. */
    urcu_memb_barrier();
    htab_destroy_now(&t->mask_index);
    htab_destroy_now(&t->ufid_index);
    free(t->dump_flows);
    free(t->dump_serials);
    free(t);
}

static uint32_t
ufid_hash(const uint8_t *ufid, size_t len)
{
    return hash_bytes(ufid, len, 0x4f564655);
}

static struct flow_entry *
ufid_find(const struct flow_table *t, const uint8_t *ufid, size_t len,
          uint32_t hash)
{
    const struct htab_arr *a = htab_arr(&t->ufid_index);

    for (uint32_t i = hash & a->mask;; i = (i + 1) & a->mask) {
        const struct htab_slot *s = &a->slots[i];
        struct flow_entry *fe = atomic_load_explicit(&s->ptr,
                                                     memory_order_acquire);

        if (!fe) {
            return NULL;
        }
        if ((void *) fe != HTAB_TOMB
            && atomic_load_explicit(&s->hash, memory_order_relaxed) == hash
            && fe->flow->ufid_len == len
            && !memcmp(fe->flow->ufid, ufid, len)) {
            return fe;
        }
    }
}

int
flow_table_insert(struct flow_table *t, struct dp_flow *f)
{
    struct flow_entry *fe = flow_entry(f);
    const key_word *k = (const key_word *) &f->match.key;
    struct mask_vec *nv = NULL;
    struct mask_words mwd;
    struct flow_mask *fm;
    uint32_t mhash;
    bool new_mask = false;

    if (fe->inserted || f->ufid_len > FLOW_UFID_MAX) {
        return -EINVAL;
    }
    if (f->ufid_len) {
        fe->ufid_hash = ufid_hash(f->ufid, f->ufid_len);
        if (ufid_find(t, f->ufid, f->ufid_len, fe->ufid_hash)) {
            return -EEXIST;
        }
    }
    mask_words_init(&mwd, &f->match.mask);
    mhash = mask_index_hash(&mwd);
    fm = mask_find(t, &mwd, mhash);
    if (fm && subtable_lookup(fm, k)) {
        return -EEXIST;
    }

    /* Make room everywhere before changing anything. */
    if (dump_reserve(t) || (f->ufid_len && htab_reserve(&t->ufid_index))) {
        return -ENOMEM;
    }
    if (!fm) {
        fm = flow_mask_create(&mwd, mhash);
        nv = mask_vec_alloc(mask_vec_get(t)->n + 1);
        if (!fm || !nv || htab_reserve(&t->mask_index)) {
            if (fm) {
                flow_mask_free(fm);
            }
            free(nv);
            return -ENOMEM;
        }
        new_mask = true;
    }
    if (htab_reserve(&fm->flows)) {
        if (new_mask) {
            flow_mask_free(fm);
            free(nv);
        }
        return -ENOMEM;
    }

    fe->table = t;
    fe->fm = fm;
    fe->hash = words_hash(fe->mk, fe->n_words);
    fe->inserted = true;
    atomic_store_explicit(&fe->refcnt, 1, memory_order_relaxed);
    htab_insert(&fm->flows, fe->hash, fe);
    fm->n_flows++;
    if (f->ufid_len) {
        htab_insert(&t->ufid_index, fe->ufid_hash, fe);
    }
    dump_append(t, fe);
    if (new_mask) {
        htab_insert(&t->mask_index, mhash, fm);
        vec_add(t, fm, nv);
    }
    atomic_fetch_add_explicit(&t->n_flows, 1, memory_order_relaxed);
    return 0;
}

void
flow_table_remove(struct flow_table *t, struct dp_flow *f)
{
    struct flow_entry *fe = flow_entry(f);
    struct flow_mask *fm = fe->fm;

    if (!fe->inserted || fe->table != t || entry_is_dead(fe)) {
        return;
    }
    /* Dead first: a reader that still reaches the flow through a stale
     * array or its cache skips it from now on. */
    atomic_store_explicit(&fe->dead, true, memory_order_release);
    atomic_store_explicit(&f->dead, true, memory_order_release);
    kflow_flow_gone(f, "removed");
    htab_remove(&fm->flows, fe->hash, fe);
    if (f->ufid_len) {
        htab_remove(&t->ufid_index, fe->ufid_hash, fe);
    }
    dump_del(t, fe);
    atomic_fetch_sub_explicit(&t->n_flows, 1, memory_order_relaxed);

    if (--fm->n_flows == 0 && vec_del(t, fm)) {
        htab_remove(&t->mask_index, fm->index_hash, fm);
        urcu_memb_call_rcu(&fm->rcu, flow_mask_free_cb);
    }
    flow_unref(fe);
}

void
flow_table_set_actions(struct flow_table *t, struct dp_flow *f,
                       struct dp_actions *acts)
{
    struct dp_actions *old;

    (void) t;
    old = atomic_exchange_explicit(&f->acts, acts, memory_order_acq_rel);
    if (flow_entry(f)->inserted) {
        /* The kernel cache repeats the old actions until told. */
        kflow_flow_gone(f, "given new actions");
        free_after_grace(old);
    } else {
        free(old);              /* nobody else can see it */
    }
}

struct dp_flow *
flow_table_find_exact(const struct flow_table *t, const struct flow_match *m)
{
    struct mask_words mwd;
    struct flow_mask *fm;
    struct flow_entry *fe;

    mask_words_init(&mwd, &m->mask);
    fm = mask_find(t, &mwd, mask_index_hash(&mwd));
    if (!fm) {
        return NULL;
    }
    fe = subtable_lookup(fm, (const key_word *) &m->key);
    return fe ? fe->flow : NULL;
}

struct dp_flow *
flow_table_find_ufid(const struct flow_table *t, const uint8_t *ufid,
                     size_t len)
{
    struct flow_entry *fe;

    if (!len || len > FLOW_UFID_MAX) {
        return NULL;
    }
    fe = ufid_find(t, ufid, len, ufid_hash(ufid, len));
    return fe && !entry_is_dead(fe) ? fe->flow : NULL;
}

void
flow_table_flush(struct flow_table *t)
{
    /* Removing from the end never leaves holes, so this is linear. */
    while (t->dump_n) {
        flow_table_remove(t, t->dump_flows[t->dump_n - 1]->flow);
    }
}

uint32_t
flow_table_count(const struct flow_table *t)
{
    return atomic_load_explicit(&t->n_flows, memory_order_relaxed);
}

uint32_t
flow_table_n_masks(const struct flow_table *t)
{
    return mask_vec_get(t)->n;
}

struct dp_flow *
flow_table_next(const struct flow_table *t, uint64_t *cursor)
{
    uint32_t lo = 0, hi = t->dump_n;

    /* Serials only grow and compaction keeps their order, so the cursor
     * (the last serial returned) still marks the place after inserts,
     * removals and compactions. */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (t->dump_serials[mid] <= *cursor) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (; lo < t->dump_n; lo++) {
        struct flow_entry *fe = t->dump_flows[lo];

        if (fe) {
            *cursor = fe->serial;
            return fe->flow;
        }
    }
    return NULL;
}

/* The tuple-space search itself.  Returns the entry, not the flow, so
 * that the exact-match cache need not touch the flow's far lines. */
static struct flow_entry *
classify(struct flow_table *t, const struct flow_key *key,
         uint32_t *n_mask_hit)
{
    const struct mask_vec *v = mask_vec_get(t);
    const key_word *k = (const key_word *) key;
    uint32_t tick = ++lookup_tick;
    struct probe p[2];
    uint32_t i;

    if (v->n) {
        probe_start(&p[0], v->masks[0], k);
    }
    for (i = 0; i < v->n; i++) {
        struct flow_mask *fm = v->masks[i];
        struct flow_entry *fe;

        if (i + 1 < v->n) {
            probe_start(&p[(i + 1) & 1], v->masks[i + 1], k);
        }
        fe = probe_finish(&p[i & 1], fm->words.n);
        if (fe) {
            /* The caller goes on to the actions and statistics. */
            __builtin_prefetch(&fe->flow->acts);
            if (!(tick & HIT_SAMPLE_MASK)) {
                atomic_fetch_add_explicit(&fm->hits, 1,
                                          memory_order_relaxed);
            }
            if (!(tick & RERANK_MASK)) {
                maybe_rerank(t);
            }
            if (n_mask_hit) {
                *n_mask_hit = i + 1;
            }
            return fe;
        }
    }
    if (n_mask_hit) {
        *n_mask_hit = i;
    }
    return NULL;
}

struct dp_flow *
flow_table_lookup(struct flow_table *t, const struct flow_key *key,
                  uint32_t *n_mask_hit)
{
    struct flow_entry *fe = classify(t, key, n_mask_hit);

    return fe ? fe->flow : NULL;
}

/* ------------------------------------------------------------------ */
/* Exact-match cache.                                                   */

#define EMC_WAYS 2
#define EMC_SETS 4096           /* 8192 entries */
#define EMC_REPLACE_MASK 15u    /* replace a busy entry on 1 miss in 16 */

struct emc_entry {
    uint32_t hash;              /* full_key_hash() of the packet key */
    struct flow_entry *fe;      /* holds a reference; NULL: empty */
};

struct flow_emc {
    struct emc_entry sets[EMC_SETS][EMC_WAYS];
};

struct flow_emc *
flow_emc_create(void)
{
    pthread_once(&hash_secret_once, hash_secret_init);
    return calloc(1, sizeof(struct flow_emc));
}

/* Drops the cache's references; call it from a registered thread outside
 * the read lock.  The flows themselves go a grace period later. */
void
flow_emc_destroy(struct flow_emc *emc)
{
    if (!emc) {
        return;
    }
    for (size_t s = 0; s < EMC_SETS; s++) {
        for (size_t w = 0; w < EMC_WAYS; w++) {
            if (emc->sets[s][w].fe) {
                flow_unref(emc->sets[s][w].fe);
            }
        }
    }
    free(emc);
}

static inline bool
emc_entry_matches(const struct emc_entry *e, uint32_t hash,
                  const struct flow_table *t, const struct flow_key *key)
{
    const struct flow_entry *fe = e->fe;
    uint64_t w[KEY_WORDS];

    /* The entry's reference keeps the flow's memory, but not its subtable
     * nor its table: only a live flow (checked inside the read lock) has
     * both. */
    if (!fe || e->hash != hash || entry_is_dead(fe) || fe->table != t) {
        return false;
    }
    mask_words_gather(&fe->fm->words, (const key_word *) key, w);
    return words_equal(w, fe->mk, fe->n_words);
}

static void
emc_insert(struct emc_entry *set, uint32_t hash, struct flow_entry *fe)
{
    struct emc_entry *victim = NULL;

    for (int w = 0; w < EMC_WAYS; w++) {
        if (!set[w].fe) {
            victim = &set[w];
            break;
        }
    }
    if (!victim) {
        /* Replacing costs a cache miss or two on the old flows.  When the
         * working set is larger than the cache, replacing on every miss
         * just thrashes, so do it only now and then: a key that keeps
         * coming gets in soon enough. */
        if (lookup_tick & EMC_REPLACE_MASK) {
            return;
        }
        for (int w = 0; w < EMC_WAYS; w++) {
            if (entry_is_dead(set[w].fe)) {
                victim = &set[w];
                break;
            }
        }
        if (!victim) {
            /* A hash bit the set index does not use: as good as random. */
            victim = &set[(hash >> 31) & 1];
        }
    }
    if (!flow_try_ref(fe)) {
        return;                 /* being freed: do not cache it */
    }
    if (victim->fe) {
        flow_unref(victim->fe);
    }
    victim->hash = hash;
    victim->fe = fe;
}

struct dp_flow *
flow_table_lookup_cached(struct flow_table *t, struct flow_emc *emc,
                         const struct flow_key *key, uint32_t *n_mask_hit,
                         bool *emc_hit)
{
    uint32_t hash = full_key_hash(key);
    struct emc_entry *set = emc->sets[hash & (EMC_SETS - 1)];
    struct flow_entry *fe;

    for (int w = 0; w < EMC_WAYS; w++) {
        if (emc_entry_matches(&set[w], hash, t, key)) {
            if (n_mask_hit) {
                *n_mask_hit = 0;
            }
            if (emc_hit) {
                *emc_hit = true;
            }
            __builtin_prefetch(&set[w].fe->flow->acts);
            return set[w].fe->flow;
        }
    }
    if (emc_hit) {
        *emc_hit = false;
    }
    fe = classify(t, key, n_mask_hit);
    if (!fe) {
        return NULL;
    }
    emc_insert(set, hash, fe);
    return fe->flow;
}

/* ------------------------------------------------------------------ */

void
flow_stats_hit(struct dp_flow *f, uint32_t n_packets, uint64_t n_bytes,
               uint16_t tcp_flags, uint64_t now_ms)
{
    struct dp_flow_stats *s = &f->stats;

    atomic_fetch_add_explicit(&s->packets, n_packets, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bytes, n_bytes, memory_order_relaxed);
    /* 'used' only moves forward; a lost race between threads with nearly
     * equal clocks is harmless. */
    if (atomic_load_explicit(&s->used, memory_order_relaxed) < now_ms) {
        atomic_store_explicit(&s->used, now_ms, memory_order_relaxed);
    }
    if (tcp_flags) {
        atomic_fetch_or_explicit(&s->tcp_flags, tcp_flags,
                                 memory_order_relaxed);
    }
}
