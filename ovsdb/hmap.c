/* Intrusive hash map: buckets double when the load exceeds 1. */
#include "hmap.h"

#include <string.h>

void
hmap_init(struct hmap *map)
{
    map->buckets = NULL;
    map->mask = 0;
    map->n = 0;
}

void
hmap_destroy(struct hmap *map)
{
    free(map->buckets);
    hmap_init(map);
}

static void
hmap_resize(struct hmap *map, size_t n_buckets)
{
    struct hmap_node **b = calloc(n_buckets, sizeof *b);
    size_t i;

    if (!b) {
        abort();
    }
    for (i = 0; map->buckets && i <= map->mask; i++) {
        struct hmap_node *node = map->buckets[i], *next;

        for (; node; node = next) {
            size_t j = node->hash & (n_buckets - 1);

            next = node->next;
            node->next = b[j];
            b[j] = node;
        }
    }
    free(map->buckets);
    map->buckets = b;
    map->mask = n_buckets - 1;
}

void
hmap_insert(struct hmap *map, struct hmap_node *node, uint32_t hash)
{
    size_t i;

    if (!map->buckets) {
        hmap_resize(map, 8);
    } else if (map->n > map->mask) {
        hmap_resize(map, (map->mask + 1) * 2);
    }
    node->hash = hash;
    i = hash & map->mask;
    node->next = map->buckets[i];
    map->buckets[i] = node;
    map->n++;
}

void
hmap_remove(struct hmap *map, struct hmap_node *node)
{
    struct hmap_node **p = &map->buckets[node->hash & map->mask];

    while (*p && *p != node) {
        p = &(*p)->next;
    }
    if (*p) {
        *p = node->next;
        map->n--;
    }
}

struct hmap_node *
hmap_first(const struct hmap *map, size_t *pos)
{
    size_t i;

    for (i = 0; map->buckets && i <= map->mask; i++) {
        if (map->buckets[i]) {
            *pos = i;
            return map->buckets[i];
        }
    }
    return NULL;
}

struct hmap_node *
hmap_next(const struct hmap *map, const struct hmap_node *node, size_t *pos)
{
    size_t i;

    if (node->next) {
        return node->next;
    }
    for (i = *pos + 1; i <= map->mask; i++) {
        if (map->buckets[i]) {
            *pos = i;
            return map->buckets[i];
        }
    }
    return NULL;
}
