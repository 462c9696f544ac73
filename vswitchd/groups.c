/* OpenFlow group table (see groups.h). */
#include "groups.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void
group_free(struct group *g)
{
    if (g) {
        ofp_buckets_free(g->buckets, g->n_buckets);
        free(g->bucket_stats);
        free(g);
    }
}

/* Index of 'id' in the sorted table, or where it would go. */
static size_t
find_pos(const struct group_table *t, uint32_t id)
{
    size_t lo = 0, hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->groups[mid]->id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct group *
groups_find(const struct group_table *t, uint32_t id)
{
    size_t pos = find_pos(t, id);
    return pos < t->n && t->groups[pos]->id == id ? t->groups[pos] : NULL;
}

ofperr
groups_add_or_modify(struct group_table *t, struct ofp_group_mod *gm,
                     uint64_t now_ms)
{
    if (gm->group_id > OFPG_MAX) {
        return OFPERR_GROUP_INVALID;
    }
    size_t pos = find_pos(t, gm->group_id);
    struct group *old = pos < t->n && t->groups[pos]->id == gm->group_id
                        ? t->groups[pos] : NULL;
    if (gm->command == OFPGC_ADD && old) {
        return OFPERR_GROUP_EXISTS;
    }
    if (gm->command == OFPGC_MODIFY && !old) {
        return OFPERR_GROUP_UNKNOWN;
    }
    struct group *g = calloc(1, sizeof *g);
    struct group_counter *bs = calloc(gm->n_buckets ? gm->n_buckets : 1,
                                      sizeof *bs);
    if (!g || !bs) {
        free(g);
        free(bs);
        return OFPERR_GROUP_OUT_OF_GROUPS;
    }
    if (!old && t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct group **groups = realloc(t->groups, cap * sizeof *groups);
        if (!groups) {
            free(g);
            free(bs);
            return OFPERR_GROUP_OUT_OF_GROUPS;
        }
        t->groups = groups;
        t->cap = cap;
    }
    g->id = gm->group_id;
    g->type = gm->type;
    g->buckets = gm->buckets;
    g->n_buckets = gm->n_buckets;
    g->bucket_stats = bs;
    g->created_ms = now_ms;
    gm->buckets = NULL;
    gm->n_buckets = 0;
    if (old) {
        /* A modified group keeps its age and totals; its buckets are new,
         * so their counters start again. */
        g->created_ms = old->created_ms;
        atomic_store(&g->stats.packets, atomic_load(&old->stats.packets));
        atomic_store(&g->stats.bytes, atomic_load(&old->stats.bytes));
        t->groups[pos] = g;
        group_free(old);
        return 0;
    }
    memmove(&t->groups[pos + 1], &t->groups[pos],
            (t->n - pos) * sizeof *t->groups);
    t->groups[pos] = g;
    t->n++;
    return 0;
}

static size_t
bucket_index(const struct group *g, uint32_t id)
{
    for (size_t i = 0; i < g->n_buckets; i++) {
        if (g->buckets[i].bucket_id == id) {
            return i;
        }
    }
    return SIZE_MAX;
}

ofperr
groups_edit_buckets(struct group_table *t, struct ofp_group_mod *gm)
{
    struct group *g = groups_find(t, gm->group_id);
    bool insert = gm->command == OFPGC_INSERT_BUCKET;
    uint32_t where = gm->command_bucket_id;

    if (!g) {
        return OFPERR_GROUP_UNKNOWN;
    }
    /* The buckets kept, and where the inserted ones go (before 'at'). */
    size_t skip = SIZE_MAX, at = g->n_buckets;
    if (where <= OFPG_BUCKET_MAX) {
        size_t i = bucket_index(g, where);
        if (i == SIZE_MAX) {
            return OFPERR_GROUP_UNKNOWN_BUCKET;
        }
        skip = insert ? SIZE_MAX : i;
        at = i + 1;
    } else if (where == OFPG_BUCKET_FIRST) {
        skip = insert || !g->n_buckets ? SIZE_MAX : 0;
        at = 0;
    } else if (where == OFPG_BUCKET_LAST) {
        skip = insert || !g->n_buckets ? SIZE_MAX : g->n_buckets - 1;
    } else if (insert) {
        return OFPERR_GROUP_UNKNOWN_BUCKET;     /* "all" */
    }
    bool remove_all = !insert && where == OFPG_BUCKET_ALL;
    size_t n_new = insert ? gm->n_buckets : 0;
    for (size_t i = 0; i < n_new; i++) {
        if (bucket_index(g, gm->buckets[i].bucket_id) != SIZE_MAX) {
            return OFPERR_GROUP_BUCKET_EXISTS;
        }
    }

    size_t n = remove_all ? 0 : g->n_buckets + n_new
               - (skip != SIZE_MAX);
    struct ofp_bucket *nb = calloc(n ? n : 1, sizeof *nb);
    struct group_counter *ns = calloc(n ? n : 1, sizeof *ns);
    if (!nb || !ns) {
        free(nb);
        free(ns);
        return OFPERR_GROUP_OUT_OF_BUCKETS;
    }
    /* Shallow copies: the new array takes the actions over. */
    size_t k = 0;
    for (size_t i = 0; !remove_all && i <= g->n_buckets; i++) {
        if (i == at) {
            for (size_t j = 0; j < n_new; j++) {
                nb[k++] = gm->buckets[j];
            }
        }
        if (i < g->n_buckets && i != skip) {
            atomic_store(&ns[k].packets,
                         atomic_load(&g->bucket_stats[i].packets));
            atomic_store(&ns[k].bytes,
                         atomic_load(&g->bucket_stats[i].bytes));
            nb[k++] = g->buckets[i];
        }
    }
    for (size_t i = 0; i < g->n_buckets; i++) {
        if (i == skip || remove_all) {
            ofpacts_uninit(&g->buckets[i].acts);
        }
    }
    free(g->buckets);
    free(g->bucket_stats);
    g->buckets = nb;
    g->bucket_stats = ns;
    g->n_buckets = n;
    if (insert) {
        free(gm->buckets);      /* their actions are the group's now */
        gm->buckets = NULL;
        gm->n_buckets = 0;
    }
    return 0;
}

size_t
groups_delete(struct group_table *t, uint32_t id)
{
    if (id == OFPG_ALL) {
        size_t n = t->n;
        for (size_t i = 0; i < t->n; i++) {
            group_free(t->groups[i]);
        }
        t->n = 0;
        return n;
    }
    size_t pos = find_pos(t, id);
    if (pos >= t->n || t->groups[pos]->id != id) {
        return 0;
    }
    group_free(t->groups[pos]);
    memmove(&t->groups[pos], &t->groups[pos + 1],
            (t->n - pos - 1) * sizeof *t->groups);
    t->n--;
    return 1;
}

void
groups_clear(struct group_table *t)
{
    groups_delete(t, OFPG_ALL);
    free(t->groups);
    t->groups = NULL;
    t->cap = 0;
}

int
groups_select_bucket(const struct group *g, uint32_t hash)
{
    uint64_t total = 0;

    for (size_t i = 0; i < g->n_buckets; i++) {
        total += g->buckets[i].weight;
    }
    if (!total) {
        return -1;
    }
    /* Scale the hash onto the weights so a bucket's share of flows is
     * its share of the total weight. */
    uint64_t point = (uint64_t) hash * total >> 32;
    for (size_t i = 0; i < g->n_buckets; i++) {
        if (point < g->buckets[i].weight) {
            return i;
        }
        point -= g->buckets[i].weight;
    }
    return g->n_buckets - 1;
}
