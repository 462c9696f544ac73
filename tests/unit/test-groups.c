/* Unit tests for vswitchd/groups.c: the group table (add, modify,
 * delete, order) and weighted bucket selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "groups.h"
#include "ofp-match.h"

/* A group-mod with 'n' output buckets of weights 'w' (NULL: 0). */
static void
make_mod(struct ofp_group_mod *gm, uint16_t cmd, uint8_t type, uint32_t id,
         size_t n, const uint16_t *w)
{
    memset(gm, 0, sizeof *gm);
    gm->command = cmd;
    gm->type = type;
    gm->group_id = id;
    gm->buckets = calloc(n ? n : 1, sizeof *gm->buckets);
    gm->n_buckets = n;
    for (size_t i = 0; i < n; i++) {
        gm->buckets[i].weight = w ? w[i] : 0;
        gm->buckets[i].watch_port = OFPP_ANY;
        gm->buckets[i].watch_group = OFPG_ANY;
        ofpacts_init(&gm->buckets[i].acts);
        ofpacts_put(&gm->buckets[i].acts, OFPACT_OUTPUT)->port = i + 1;
    }
}

static void
test_add_modify_delete(void **state)
{
    (void) state;
    struct group_table t = { 0 };
    struct ofp_group_mod gm;

    /* Added out of order, kept sorted by id. */
    const uint32_t ids[] = { 7, 2, 9, 4 };
    for (size_t i = 0; i < 4; i++) {
        make_mod(&gm, OFPGC_ADD, OFPGT_ALL, ids[i], 2, NULL);
        assert_int_equal(groups_add_or_modify(&t, &gm, 1000), 0);
        assert_null(gm.buckets);        /* the table took them */
        ofp_group_mod_uninit(&gm);
    }
    assert_int_equal(t.n, 4);
    assert_int_equal(t.groups[0]->id, 2);
    assert_int_equal(t.groups[1]->id, 4);
    assert_int_equal(t.groups[3]->id, 9);

    /* Adding an id in use, modifying an absent one, ids above max. */
    make_mod(&gm, OFPGC_ADD, OFPGT_ALL, 4, 1, NULL);
    assert_int_equal(groups_add_or_modify(&t, &gm, 0), OFPERR_GROUP_EXISTS);
    assert_non_null(gm.buckets);        /* still the caller's */
    ofp_group_mod_uninit(&gm);
    make_mod(&gm, OFPGC_MODIFY, OFPGT_ALL, 5, 1, NULL);
    assert_int_equal(groups_add_or_modify(&t, &gm, 0),
                     OFPERR_GROUP_UNKNOWN);
    ofp_group_mod_uninit(&gm);
    make_mod(&gm, OFPGC_ADD, OFPGT_ALL, OFPG_ALL, 1, NULL);
    assert_int_equal(groups_add_or_modify(&t, &gm, 0),
                     OFPERR_GROUP_INVALID);
    ofp_group_mod_uninit(&gm);

    /* Modify replaces type and buckets, keeps age and totals. */
    struct group *g = groups_find(&t, 4);
    assert_non_null(g);
    atomic_store(&g->stats.packets, 11);
    make_mod(&gm, OFPGC_MODIFY, OFPGT_INDIRECT, 4, 1, NULL);
    assert_int_equal(groups_add_or_modify(&t, &gm, 5000), 0);
    g = groups_find(&t, 4);
    assert_int_equal(g->type, OFPGT_INDIRECT);
    assert_int_equal(g->n_buckets, 1);
    assert_int_equal(g->created_ms, 1000);
    assert_int_equal(atomic_load(&g->stats.packets), 11);
    assert_int_equal(atomic_load(&g->bucket_stats[0].packets), 0);

    assert_int_equal(groups_delete(&t, 3), 0);
    assert_int_equal(groups_delete(&t, 7), 1);
    assert_null(groups_find(&t, 7));
    assert_non_null(groups_find(&t, 9));
    assert_int_equal(t.n, 3);
    assert_int_equal(groups_delete(&t, OFPG_ALL), 3);
    assert_int_equal(t.n, 0);
    groups_clear(&t);
}

static void
test_select_weights(void **state)
{
    (void) state;
    struct group_table t = { 0 };
    struct ofp_group_mod gm;
    const uint16_t w[] = { 300, 0, 100 };
    size_t hits[3] = { 0 };

    make_mod(&gm, OFPGC_ADD, OFPGT_SELECT, 1, 3, w);
    assert_int_equal(groups_add_or_modify(&t, &gm, 0), 0);
    struct group *g = groups_find(&t, 1);
    for (uint32_t i = 0; i < 4000; i++) {
        int b = groups_select_bucket(g, i * 2654435761u);
        assert_true(b >= 0 && b < 3);
        hits[b]++;
    }
    /* Weight 0 is never picked; the others in proportion, 3:1. */
    assert_int_equal(hits[1], 0);
    assert_true(hits[0] > 2800 && hits[0] < 3200);
    assert_true(hits[2] > 800 && hits[2] < 1200);
    /* The same hash always picks the same bucket. */
    assert_int_equal(groups_select_bucket(g, 12345),
                     groups_select_bucket(g, 12345));

    const uint16_t zero[] = { 0, 0 };
    make_mod(&gm, OFPGC_MODIFY, OFPGT_SELECT, 1, 2, zero);
    assert_int_equal(groups_add_or_modify(&t, &gm, 0), 0);
    assert_int_equal(groups_select_bucket(groups_find(&t, 1), 1), -1);
    groups_clear(&t);
}

static void
ids_are(const struct group *g, const uint32_t *ids, size_t n)
{
    assert_int_equal(g->n_buckets, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g->buckets[i].bucket_id, ids[i]);
    }
}

/* OpenFlow 1.5's insert/remove bucket, as Open vSwitch offers it. */
static void
test_edit_buckets(void **state)
{
    (void) state;
    struct group_table t = { 0 };
    struct ofp_group_mod gm;

    make_mod(&gm, OFPGC_ADD, OFPGT_ALL, 1, 2, NULL);
    gm.buckets[0].bucket_id = 0;
    gm.buckets[1].bucket_id = 1;
    assert_int_equal(groups_add_or_modify(&t, &gm, 0), 0);
    ofp_group_mod_uninit(&gm);
    struct group *g = groups_find(&t, 1);
    atomic_store(&g->bucket_stats[1].packets, 7);

    /* Insert first, last and after a bucket id. */
    make_mod(&gm, OFPGC_INSERT_BUCKET, OFPGT_ALL, 1, 1, NULL);
    gm.buckets[0].bucket_id = 5;
    gm.command_bucket_id = OFPG_BUCKET_FIRST;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    ofp_group_mod_uninit(&gm);
    ids_are(g, (const uint32_t[]) { 5, 0, 1 }, 3);
    assert_int_equal(atomic_load(&g->bucket_stats[2].packets), 7);
    make_mod(&gm, OFPGC_INSERT_BUCKET, OFPGT_ALL, 1, 1, NULL);
    gm.buckets[0].bucket_id = 6;
    gm.command_bucket_id = OFPG_BUCKET_LAST;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    ofp_group_mod_uninit(&gm);
    make_mod(&gm, OFPGC_INSERT_BUCKET, OFPGT_ALL, 1, 1, NULL);
    gm.buckets[0].bucket_id = 7;
    gm.command_bucket_id = 0;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    ids_are(g, (const uint32_t[]) { 5, 0, 7, 1, 6 }, 5);
    /* The same id again, an unknown anchor, an unknown group. */
    gm.command_bucket_id = OFPG_BUCKET_LAST;
    make_mod(&gm, OFPGC_INSERT_BUCKET, OFPGT_ALL, 1, 1, NULL);
    gm.buckets[0].bucket_id = 7;
    gm.command_bucket_id = OFPG_BUCKET_LAST;
    assert_int_equal(groups_edit_buckets(&t, &gm),
                     OFPERR_GROUP_BUCKET_EXISTS);
    gm.buckets[0].bucket_id = 8;
    gm.command_bucket_id = 99;
    assert_int_equal(groups_edit_buckets(&t, &gm),
                     OFPERR_GROUP_UNKNOWN_BUCKET);
    gm.group_id = 2;
    assert_int_equal(groups_edit_buckets(&t, &gm), OFPERR_GROUP_UNKNOWN);
    ofp_group_mod_uninit(&gm);

    /* Remove first, last, by id, then all. */
    memset(&gm, 0, sizeof gm);
    gm.command = OFPGC_REMOVE_BUCKET;
    gm.group_id = 1;
    gm.command_bucket_id = OFPG_BUCKET_FIRST;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    gm.command_bucket_id = OFPG_BUCKET_LAST;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    ids_are(g, (const uint32_t[]) { 0, 7, 1 }, 3);
    assert_int_equal(atomic_load(&g->bucket_stats[2].packets), 7);
    gm.command_bucket_id = 7;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    ids_are(g, (const uint32_t[]) { 0, 1 }, 2);
    gm.command_bucket_id = 7;
    assert_int_equal(groups_edit_buckets(&t, &gm),
                     OFPERR_GROUP_UNKNOWN_BUCKET);
    gm.command_bucket_id = OFPG_BUCKET_ALL;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    assert_int_equal(g->n_buckets, 0);

    /* The type's rules are not applied to edits (as Open vSwitch): an
     * indirect group takes a second bucket. */
    make_mod(&gm, OFPGC_ADD, OFPGT_INDIRECT, 3, 1, NULL);
    assert_int_equal(groups_add_or_modify(&t, &gm, 0), 0);
    ofp_group_mod_uninit(&gm);
    make_mod(&gm, OFPGC_INSERT_BUCKET, OFPGT_ALL, 3, 1, NULL);
    gm.buckets[0].bucket_id = 4;
    gm.command_bucket_id = OFPG_BUCKET_LAST;
    assert_int_equal(groups_edit_buckets(&t, &gm), 0);
    ofp_group_mod_uninit(&gm);
    assert_int_equal(groups_find(&t, 3)->n_buckets, 2);
    groups_clear(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_modify_delete),
        cmocka_unit_test(test_edit_buckets),
        cmocka_unit_test(test_select_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
