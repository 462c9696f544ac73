/* A small intrusive chained hash map, keyed by a caller-computed 32-bit
 * hash.  The caller embeds 'struct hmap_node' in its objects and compares
 * keys itself while walking a bucket.  Not thread safe. */
#ifndef OVSDB_HMAP_H
#define OVSDB_HMAP_H 1

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct hmap_node {
    struct hmap_node *next;
    uint32_t hash;
};

struct hmap {
    struct hmap_node **buckets;
    size_t mask;                /* n_buckets - 1 */
    size_t n;
};

#define HMAP_CONTAINER(PTR, TYPE, MEMBER) \
    ((TYPE *) (void *) ((char *) (PTR) - offsetof(TYPE, MEMBER)))

void hmap_init(struct hmap *);
void hmap_destroy(struct hmap *);
void hmap_insert(struct hmap *, struct hmap_node *, uint32_t hash);
void hmap_remove(struct hmap *, struct hmap_node *);

/* First node in the bucket of 'hash' (nodes of other hashes may follow:
 * compare node->hash and the key). */
static inline struct hmap_node *
hmap_bucket(const struct hmap *map, uint32_t hash)
{
    return map->buckets ? map->buckets[hash & map->mask] : NULL;
}

/* Iteration: 'pos' is a bucket index cursor. */
struct hmap_node *hmap_first(const struct hmap *, size_t *pos);
struct hmap_node *hmap_next(const struct hmap *, const struct hmap_node *,
                            size_t *pos);

#define HMAP_FOR_EACH_NODE(NODE, POS, MAP)                              \
    for ((NODE) = hmap_first(MAP, &(POS)); (NODE);                      \
         (NODE) = hmap_next(MAP, NODE, &(POS)))

#endif /* OVSDB_HMAP_H */
