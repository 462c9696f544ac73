/* Unit tests for ovsdb/storage.c: create, commit, replay, torn tails,
 * corruption, compaction and schema conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "error.h"
#include "execute.h"
#include "schema.h"
#include "storage.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
    (void) state;
    strcpy(dir, "/tmp/test-ovsdb-storage.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/conf.db", dir);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void) state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct ovsdb_schema *
load_schema(const char *version)
{
    json_t *j = json_load_file(OVSDB_SCHEMA_FILE, 0, NULL);
    struct ovsdb_schema *s;

    assert_non_null(j);
    if (version) {
        json_object_set_new(j, "version", json_string(version));
        /* An older schema that lacked a column. */
        json_object_del(json_object_get(json_object_get(json_object_get(
            json_object_get(j, "tables"), "Bridge"), "columns"), ""),
            "x");
        json_object_del(json_object_get(json_object_get(json_object_get(
            j, "tables"), "Bridge"), "columns"), "datapath_version");
    }
    assert_null(ovsdb_schema_from_json(&s, j));
    json_decref(j);
    return s;
}

static void
open_db(struct ovsdb **db, struct ovsdb_storage **st, const char *version)
{
    struct ovsdb_error *e = ovsdb_storage_open(path, load_schema(version),
                                               db, st);

    assert_null(e);
}

/* Commits one Bridge named 'name' (referenced from the root, which the
 * first call creates). */
static void
commit(struct ovsdb *db, struct ovsdb_storage *st, const char *name)
{
    json_t *params = json_pack(
        "[s{s:s,s:s,s:[]}]", "Open_vSwitch", "op", "select", "table",
        "Open_vSwitch", "where");
    struct ovsdb_exec_in in = { db, params, NULL, NULL, false };
    struct ovsdb_exec_out out;
    bool have_root;

    ovsdb_execute(&in, &out);
    have_root = json_array_size(json_object_get(json_array_get(out.result,
                                                               0),
                                                "rows")) > 0;
    ovsdb_exec_out_destroy(&out);
    json_decref(params);
    params = json_pack("[s{s:s,s:s,s:s,s:{s:s}}]", "Open_vSwitch", "op",
                       "insert", "table", "Bridge", "uuid-name", "b", "row",
                       "name", name);
    if (have_root) {
        json_array_append_new(params, json_pack(
            "{s:s,s:s,s:[],s:[[s,s,[s,s]]]}", "op", "mutate", "table",
            "Open_vSwitch", "where", "mutations", "bridges", "insert",
            "named-uuid", "b"));
    } else {
        json_array_append_new(params, json_pack(
            "{s:s,s:s,s:{s:[s,s]}}", "op", "insert", "table",
            "Open_vSwitch", "row", "bridges", "named-uuid", "b"));
    }
    in.params = params;
    ovsdb_execute(&in, &out);
    assert_non_null(out.txn);
    assert_int_equal(ovsdb_storage_commit(st, db, out.changes, out.n_changes,
                                          "test", true), 0);
    ovsdb_exec_out_destroy(&out);
    json_decref(params);
}

static size_t
n_bridges(struct ovsdb *db)
{
    return ovsdb_find_table(db, "Bridge")->rows.n;
}

static void
test_crc32(void **state)
{
    (void) state;
    assert_int_equal(ovsdb_crc32("123456789", 9), 0xcbf43926u);
}

static void
test_create_commit_replay(void **state)
{
    struct ovsdb_storage *st;
    struct ovsdb *db;
    int i;

    (void) state;
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 0);
    for (i = 0; i < 5; i++) {
        char name[16];

        snprintf(name, sizeof name, "br%d", i);
        commit(db, st, name);
    }
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 5);
    /* Reference counts are rebuilt: the bridges are referenced once. */
    {
        struct ovsdb_table *t = ovsdb_find_table(db, "Bridge");
        struct hmap_node *node;
        size_t pos;

        HMAP_FOR_EACH_NODE (node, pos, &t->rows) {
            assert_int_equal(HMAP_CONTAINER(node, struct ovsdb_row,
                                            node)->n_refs, 1);
        }
    }
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
}

static void
test_torn_tail(void **state)
{
    struct ovsdb_storage_stats stats;
    struct ovsdb_storage *st;
    struct ovsdb *db;
    struct stat s1, s2;

    (void) state;
    open_db(&db, &st, NULL);
    commit(db, st, "a");
    commit(db, st, "b");
    assert_int_equal(stat(path, &s1), 0);
    commit(db, st, "c");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    assert_int_equal(stat(path, &s2), 0);
    /* Cut the last record short. */
    assert_int_equal(truncate(path, s1.st_size + (s2.st_size - s1.st_size)
                              / 2), 0);
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 2);
    ovsdb_storage_get_stats(st, &stats);
    assert_int_equal(stats.n_truncations, 1);
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    assert_int_equal(stat(path, &s2), 0);
    assert_int_equal(s2.st_size, s1.st_size);
    /* Garbage appended after good records is cut off too. */
    {
        FILE *f = fopen(path, "a");

        fputs("HVSDB 99999 00000000\n{\"Bridge\":", f);
        fclose(f);
    }
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 2);
    commit(db, st, "d");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 3);
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
}

static void
test_unreadable_schema_starts_empty(void **state)
{
    struct ovsdb_storage *st;
    struct ovsdb *db;
    FILE *f = fopen(path, "w");

    (void) state;
    fputs("this is not a database\n", f);
    fclose(f);
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 0);
    commit(db, st, "new");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
}

static void
test_compaction(void **state)
{
    struct ovsdb_storage_stats stats;
    struct ovsdb_storage *st;
    struct ovsdb *db;
    struct stat s1, s2;
    int i;

    (void) state;
    open_db(&db, &st, NULL);
    for (i = 0; i < 50; i++) {
        char name[16];

        snprintf(name, sizeof name, "br%d", i);
        commit(db, st, name);
    }
    assert_int_equal(stat(path, &s1), 0);
    assert_int_equal(ovsdb_storage_compact(st, db), 0);
    assert_int_equal(stat(path, &s2), 0);
    assert_true(s2.st_size < s1.st_size);
    ovsdb_storage_get_stats(st, &stats);
    assert_int_equal(stats.n_compactions, 1);
    assert_int_equal(stats.file_size, (uint64_t) s2.st_size);
    commit(db, st, "after");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    open_db(&db, &st, NULL);
    assert_int_equal(n_bridges(db), 51);
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
}

static void
test_schema_conversion(void **state)
{
    struct ovsdb_storage *st;
    struct ovsdb *db;

    (void) state;
    open_db(&db, &st, "1.0.0");
    assert_null(ovsdb_table_find_column(
        ovsdb_find_table(db, "Bridge")->schema, "datapath_version"));
    commit(db, st, "old");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    open_db(&db, &st, NULL);            /* the newer schema */
    assert_non_null(ovsdb_table_find_column(
        ovsdb_find_table(db, "Bridge")->schema, "datapath_version"));
    assert_int_equal(n_bridges(db), 1);
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    open_db(&db, &st, NULL);            /* converted on disk too */
    assert_int_equal(n_bridges(db), 1);
    assert_string_not_equal(db->schema->version, "1.0.0");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
}

static void
test_failed_conversion_keeps_data(void **state)
{
    struct ovsdb_storage *st;
    struct ovsdb_schema *s;
    struct ovsdb *db;
    json_t *j;

    (void) state;
    open_db(&db, &st, NULL);
    commit(db, st, "a");
    commit(db, st, "b");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
    /* A newer schema with an index that the data violates (both bridges
     * have the default datapath_type). */
    j = json_load_file(OVSDB_SCHEMA_FILE, 0, NULL);
    json_object_set_new(j, "version", json_string("99.0.0"));
    json_object_set_new(json_object_get(json_object_get(j, "tables"),
                                        "Bridge"), "indexes",
                        json_pack("[[s]]", "datapath_type"));
    assert_null(ovsdb_schema_from_json(&s, j));
    json_decref(j);
    assert_null(ovsdb_storage_open(path, s, &db, &st));
    assert_int_equal(n_bridges(db), 2);
    assert_string_not_equal(db->schema->version, "99.0.0");
    ovsdb_storage_close(st);
    ovsdb_destroy(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test_setup_teardown(test_create_commit_replay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_schema_starts_empty,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_conversion, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_conversion_keeps_data,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
