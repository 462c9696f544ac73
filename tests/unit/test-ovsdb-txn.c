/* Unit tests for ovsdb/transaction.c, ovsdb/execute.c, ovsdb/condition.c,
 * ovsdb/mutation.c and ovsdb/monitor.c against the Open_vSwitch schema. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "error.h"
#include "execute.h"
#include "monitor.h"
#include "schema.h"
#include "transaction.h"

static struct ovsdb *
new_db(void)
{
    json_t *j = json_load_file(OVSDB_SCHEMA_FILE, 0, NULL);
    struct ovsdb_schema *s;

    assert_non_null(j);
    assert_null(ovsdb_schema_from_json(&s, j));
    json_decref(j);
    return ovsdb_create(s);
}

/* Runs a transaction given as the JSON text of its operations (an
 * array); returns the result array.  'n_changes' receives the number of
 * changed rows. */
static json_t *
run(struct ovsdb *db, const char *ops, size_t *n_changes, bool *pending)
{
    json_t *params = json_loads(ops, 0, NULL);
    struct ovsdb_exec_in in = { db, NULL, NULL, NULL, false };
    struct ovsdb_exec_out out;
    json_t *result;

    assert_non_null(params);
    json_array_insert_new(params, 0, json_string("Open_vSwitch"));
    in.params = params;
    ovsdb_execute(&in, &out);
    if (n_changes) {
        *n_changes = out.n_changes;
    }
    if (pending) {
        *pending = out.pending;
    }
    result = json_incref(out.result);
    ovsdb_exec_out_destroy(&out);
    json_decref(params);
    return result;
}

/* The "error" of the last element of 'result', or NULL. */
static const char *
last_error(json_t *result)
{
    size_t i;

    for (i = json_array_size(result); i-- > 0;) {
        json_t *e = json_object_get(json_array_get(result, i), "error");

        if (e) {
            return json_string_value(e);
        }
    }
    return NULL;
}

static size_t
n_rows(struct ovsdb *db, const char *table)
{
    return ovsdb_find_table(db, table)->rows.n;
}

static const char root_and_bridge[] =
    "[{\"op\": \"insert\", \"table\": \"Open_vSwitch\", \"row\": "
    "{\"bridges\": [\"named-uuid\", \"b\"]}},"
    " {\"op\": \"insert\", \"table\": \"Bridge\", \"uuid-name\": \"b\","
    "  \"row\": {\"name\": \"br0\", \"ports\": [\"named-uuid\", \"p\"]}},"
    " {\"op\": \"insert\", \"table\": \"Port\", \"uuid-name\": \"p\","
    "  \"row\": {\"name\": \"p0\", \"interfaces\": [\"named-uuid\", \"i\"]}},"
    " {\"op\": \"insert\", \"table\": \"Interface\", \"uuid-name\": \"i\","
    "  \"row\": {\"name\": \"p0\"}}]";

static void
test_insert_select_update_delete(void **state)
{
    struct ovsdb *db = new_db();
    size_t n;
    json_t *r;

    (void) state;
    r = run(db, root_and_bridge, &n, NULL);
    assert_null(last_error(r));
    assert_int_equal(n, 4);
    json_decref(r);
    r = run(db, "[{\"op\": \"select\", \"table\": \"Bridge\", \"where\": "
            "[[\"name\", \"==\", \"br0\"]], \"columns\": [\"name\"]}]",
            &n, NULL);
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0),
                                                     "rows")), 1);
    assert_int_equal(n, 0);
    json_decref(r);
    r = run(db, "[{\"op\": \"update\", \"table\": \"Bridge\", \"where\": [],"
            " \"row\": {\"stp_enable\": true}},"
            " {\"op\": \"mutate\", \"table\": \"Bridge\", \"where\": [], "
            "  \"mutations\": [[\"flood_vlans\", \"insert\", "
            "  [\"set\", [5, 6]]]]}]", &n, NULL);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(r, 0), "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(r, 1), "count")), 1);
    assert_int_equal(n, 1);             /* one row changed */
    json_decref(r);
    /* An update that changes nothing commits nothing. */
    r = run(db, "[{\"op\": \"update\", \"table\": \"Bridge\", \"where\": [],"
            " \"row\": {\"stp_enable\": true}}]", &n, NULL);
    assert_int_equal(n, 0);
    json_decref(r);
    r = run(db, "[{\"op\": \"mutate\", \"table\": \"Bridge\", \"where\": "
            "[], \"mutations\": [[\"flood_vlans\", \"+=\", 5000]]}]", &n,
            NULL);
    assert_string_equal(last_error(r), "constraint violation");
    json_decref(r);
    r = run(db, "[{\"op\": \"mutate\", \"table\": \"Open_vSwitch\", "
            "\"where\": [], \"mutations\": [[\"next_cfg\", \"/=\", 0]]}]",
            &n, NULL);
    assert_string_equal(last_error(r), "domain error");
    json_decref(r);
    /* Deleting the root drops the only reference: everything goes. */
    r = run(db, "[{\"op\": \"delete\", \"table\": \"Open_vSwitch\", "
            "\"where\": []}]", &n, NULL);
    assert_null(last_error(r));
    assert_int_equal(n, 4);
    assert_int_equal(n_rows(db, "Bridge") + n_rows(db, "Port")
                     + n_rows(db, "Interface"), 0);
    json_decref(r);
    ovsdb_destroy(db);
}

static void
test_integrity_and_gc(void **state)
{
    struct ovsdb *db = new_db();
    size_t n;
    json_t *r;

    (void) state;
    /* Unreferenced non-root rows vanish at commit. */
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Interface\", "
            "\"row\": {\"name\": \"lonely\"}}]", &n, NULL);
    assert_null(last_error(r));
    assert_int_equal(n, 0);
    assert_int_equal(n_rows(db, "Interface"), 0);
    json_decref(r);
    r = run(db, root_and_bridge, NULL, NULL);
    json_decref(r);
    r = run(db, "[{\"op\": \"delete\", \"table\": \"Port\", \"where\": "
            "[]}]", &n, NULL);
    assert_string_equal(last_error(r), "referential integrity violation");
    assert_int_equal(json_array_size(r), 2);    /* result + commit error */
    assert_int_equal(n_rows(db, "Port"), 1);
    json_decref(r);
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Bridge\", \"row\": "
            "{\"name\": \"x\", \"ports\": [\"uuid\", "
            "\"01234567-89ab-cdef-0123-456789abcdef\"]}}]", &n, NULL);
    assert_string_equal(last_error(r), "referential integrity violation");
    json_decref(r);
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Bridge\", \"row\": "
            "{\"name\": \"x\", \"ports\": [\"named-uuid\", \"nope\"]}}]",
            &n, NULL);
    assert_string_equal(last_error(r), "syntax error");
    json_decref(r);
    ovsdb_destroy(db);
}

static void
test_indexes_and_max_rows(void **state)
{
    struct ovsdb *db = new_db();
    size_t n;
    json_t *r;

    (void) state;
    r = run(db, root_and_bridge, NULL, NULL);
    json_decref(r);
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Bridge\", "
            "\"uuid-name\": \"b2\", \"row\": {\"name\": \"br0\"}},"
            " {\"op\": \"mutate\", \"table\": \"Open_vSwitch\", \"where\": "
            "[], \"mutations\": [[\"bridges\", \"insert\", "
            "[\"named-uuid\", \"b2\"]]]}]", &n, NULL);
    assert_string_equal(last_error(r), "constraint violation");
    assert_non_null(strstr(json_string_value(json_object_get(
        json_array_get(r, 2), "details")), "index on column \"name\""));
    assert_int_equal(n_rows(db, "Bridge"), 1);
    json_decref(r);
    /* Changing one row's key and inserting its old key in the same
     * transaction is fine (Manager targets are an index). */
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Manager\", "
            "\"uuid-name\": \"m\", \"row\": {\"target\": \"ptcp:1\"}},"
            " {\"op\": \"mutate\", \"table\": \"Open_vSwitch\", "
            "\"where\": [], \"mutations\": [[\"manager_options\", "
            "\"insert\", [\"named-uuid\", \"m\"]]]}]", &n, NULL);
    assert_null(last_error(r));
    json_decref(r);
    r = run(db, "[{\"op\": \"update\", \"table\": \"Manager\", "
            "\"where\": [], \"row\": {\"target\": \"ptcp:2\"}},"
            " {\"op\": \"insert\", \"table\": \"Manager\", "
            "\"uuid-name\": \"m2\", \"row\": {\"target\": \"ptcp:1\"}},"
            " {\"op\": \"mutate\", \"table\": \"Open_vSwitch\", "
            "\"where\": [], \"mutations\": [[\"manager_options\", "
            "\"insert\", [\"named-uuid\", \"m2\"]]]}]", &n, NULL);
    assert_null(last_error(r));
    assert_int_equal(n_rows(db, "Manager"), 2);
    json_decref(r);
    /* Two new rows with the same key collide with each other. */
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Manager\", "
            "\"uuid-name\": \"a\", \"row\": {\"target\": \"x\"}},"
            " {\"op\": \"insert\", \"table\": \"Manager\", "
            "\"uuid-name\": \"b\", \"row\": {\"target\": \"x\"}},"
            " {\"op\": \"mutate\", \"table\": \"Open_vSwitch\", "
            "\"where\": [], \"mutations\": [[\"manager_options\", "
            "\"insert\", [\"set\", [[\"named-uuid\", \"a\"], "
            "[\"named-uuid\", \"b\"]]]]]}]", &n, NULL);
    assert_string_equal(last_error(r), "constraint violation");
    assert_int_equal(n_rows(db, "Manager"), 2);
    json_decref(r);
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Open_vSwitch\", "
            "\"row\": {}}]", &n, NULL);
    assert_string_equal(last_error(r), "constraint violation");
    json_decref(r);
    ovsdb_destroy(db);
}

static void
test_weak_refs(void **state)
{
    struct ovsdb *db = new_db();
    json_t *r;
    const struct ovsdb_table *mt;
    const struct ovsdb_row *mirror;
    size_t pos;

    (void) state;
    r = run(db, root_and_bridge, NULL, NULL);
    json_decref(r);
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Mirror\", "
            "\"uuid-name\": \"m\", \"row\": {\"name\": \"m\"}},"
            " {\"op\": \"mutate\", \"table\": \"Mirror\", \"where\": [], "
            "\"mutations\": []},"
            " {\"op\": \"update\", \"table\": \"Bridge\", \"where\": [], "
            "\"row\": {\"mirrors\": [\"named-uuid\", \"m\"]}}]", NULL, NULL);
    assert_null(last_error(r));
    json_decref(r);
    r = run(db, "[{\"op\": \"select\", \"table\": \"Port\", \"where\": [], "
            "\"columns\": [\"_uuid\"]}]", NULL, NULL);
    {
        json_t *u = json_object_get(json_array_get(json_object_get(
            json_array_get(r, 0), "rows"), 0), "_uuid");
        json_t *ops = json_pack("[{s:s,s:s,s:[],s:{s:O}}]", "op", "update",
                                "table", "Mirror", "where", "row",
                                "select_src_port", u);
        char *text = json_dumps(ops, 0);
        json_t *r2 = run(db, text, NULL, NULL);

        assert_null(last_error(r2));
        json_decref(r2);
        free(text);
        json_decref(ops);
    }
    json_decref(r);
    mt = ovsdb_find_table(db, "Mirror");
    mirror = HMAP_CONTAINER(hmap_first(&mt->rows, &pos), struct ovsdb_row,
                            node);
    assert_int_equal(mirror->fields[ovsdb_table_find_column(
        mt->schema, "select_src_port")->index].n, 1);
    /* Removing the Port from the bridge collects it and drops the weak
     * reference to it. */
    r = run(db, "[{\"op\": \"update\", \"table\": \"Bridge\", \"where\": [],"
            " \"row\": {\"ports\": [\"set\", []]}}]", NULL, NULL);
    assert_null(last_error(r));
    json_decref(r);
    assert_int_equal(n_rows(db, "Port"), 0);
    mirror = HMAP_CONTAINER(hmap_first(&mt->rows, &pos), struct ovsdb_row,
                            node);
    assert_int_equal(mirror->fields[ovsdb_table_find_column(
        mt->schema, "select_src_port")->index].n, 0);
    ovsdb_destroy(db);
}

static void
test_explicit_uuid(void **state)
{
    static const char u[] = "12345678-1234-4234-8234-123456789abc";
    struct ovsdb *db = new_db();
    const struct ovsdb_row *root;
    struct ovsdb_table *t;
    struct uuid want;
    json_t *r;
    size_t pos;

    (void) state;
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Open_vSwitch\", "
            "\"row\": {\"bridges\": [\"named-uuid\", \"b\"]}},"
            " {\"op\": \"insert\", \"table\": \"Bridge\", \"uuid-name\": "
            "\"b\", \"uuid\": \"12345678-1234-4234-8234-123456789abc\", "
            "\"row\": {\"name\": \"br0\"}}]", NULL, NULL);
    assert_null(last_error(r));
    assert_string_equal(json_string_value(json_array_get(json_object_get(
        json_array_get(r, 1), "uuid"), 1)), u);
    json_decref(r);
    t = ovsdb_find_table(db, "Open_vSwitch");
    root = HMAP_CONTAINER(hmap_first(&t->rows, &pos), struct ovsdb_row,
                          node);
    assert_true(uuid_from_string(&want, u));
    assert_true(uuid_equals(&root->fields[ovsdb_table_find_column(
        t->schema, "bridges")->index].keys[0].u, &want));
    /* The same uuid again, even in another table, is refused. */
    r = run(db, "[{\"op\": \"insert\", \"table\": \"Manager\", "
            "\"uuid\": \"12345678-1234-4234-8234-123456789abc\", "
            "\"row\": {\"target\": \"x\"}}]", NULL, NULL);
    assert_string_equal(last_error(r), "duplicate uuid");
    json_decref(r);
    ovsdb_destroy(db);
}

static void
test_wait_abort_assert(void **state)
{
    struct ovsdb *db = new_db();
    bool pending;
    size_t n;
    json_t *r;

    (void) state;
    r = run(db, root_and_bridge, NULL, NULL);
    json_decref(r);
    r = run(db, "[{\"op\": \"wait\", \"table\": \"Bridge\", \"timeout\": 0,"
            " \"where\": [], \"columns\": [\"name\"], \"until\": \"==\", "
            "\"rows\": [{\"name\": \"br0\"}]}]", NULL, &pending);
    assert_null(last_error(r));
    assert_false(pending);
    json_decref(r);
    r = run(db, "[{\"op\": \"wait\", \"table\": \"Bridge\", \"timeout\": 0,"
            " \"where\": [], \"columns\": [\"name\"], \"until\": \"==\", "
            "\"rows\": [{\"name\": \"other\"}]}]", NULL, &pending);
    assert_string_equal(last_error(r), "timed out");
    json_decref(r);
    r = run(db, "[{\"op\": \"wait\", \"table\": \"Bridge\", \"timeout\": "
            "1000, \"where\": [], \"columns\": [\"name\"], \"until\": "
            "\"!=\", \"rows\": [{\"name\": \"br0\"}]}]", NULL, &pending);
    assert_true(pending);
    assert_null(r);
    r = run(db, "[{\"op\": \"update\", \"table\": \"Bridge\", \"where\": [],"
            " \"row\": {\"stp_enable\": true}}, {\"op\": \"abort\"}]", &n,
            NULL);
    assert_string_equal(last_error(r), "aborted");
    assert_int_equal(n, 0);
    json_decref(r);
    r = run(db, "[{\"op\": \"assert\", \"lock\": \"l\"}, "
            "{\"op\": \"comment\", \"comment\": \"c\"}]", NULL, NULL);
    assert_string_equal(last_error(r), "not owner");
    assert_true(json_is_null(json_array_get(r, 1)));
    json_decref(r);
    ovsdb_destroy(db);
}

static void
test_monitor_updates(void **state)
{
    struct ovsdb *db = new_db();
    json_t *req = json_loads("{\"Bridge\": {\"columns\": [\"name\", "
                             "\"stp_enable\"]}}", 0, NULL);
    json_t *id = json_string("m");
    struct ovsdb_monitor *m1, *m2;
    json_t *params, *upd;
    struct ovsdb_exec_in in = { db, NULL, NULL, NULL, false };
    struct ovsdb_exec_out out;
    char *s;

    (void) state;
    assert_null(ovsdb_monitor_create(db, id, req, OVSDB_MONITOR_V1, &m1));
    assert_null(ovsdb_monitor_create(db, id, req, OVSDB_MONITOR_V2, &m2));
    json_decref(run(db, root_and_bridge, NULL, NULL));
    params = json_loads("[\"Open_vSwitch\", {\"op\": \"update\", \"table\": "
                        "\"Bridge\", \"where\": [], \"row\": "
                        "{\"stp_enable\": true}}]", 0, NULL);
    in.params = params;
    ovsdb_execute(&in, &out);
    upd = ovsdb_monitor_changes(m2, out.changes, out.n_changes);
    s = json_dumps(upd, JSON_COMPACT);
    assert_non_null(strstr(s, "{\"modify\":{\"stp_enable\":true}}"));
    free(s);
    json_decref(upd);
    upd = ovsdb_monitor_changes(m1, out.changes, out.n_changes);
    s = json_dumps(upd, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(strstr(s, "\"new\":{\"name\":\"br0\",\"stp_enable\":"
                           "true},\"old\":{\"stp_enable\":false}"));
    free(s);
    json_decref(upd);
    ovsdb_exec_out_destroy(&out);
    json_decref(params);
    upd = ovsdb_monitor_initial(m2);
    s = json_dumps(upd, JSON_COMPACT);
    assert_non_null(strstr(s, "{\"initial\":{\"name\":\"br0\","
                           "\"stp_enable\":true}}"));
    free(s);
    json_decref(upd);
    ovsdb_monitor_free(m1);
    ovsdb_monitor_free(m2);
    json_decref(req);
    req = json_loads("{\"Nope\": {}}", 0, NULL);
    {
        struct ovsdb_error *e = ovsdb_monitor_create(db, id, req,
                                                     OVSDB_MONITOR_V2, &m1);

        assert_non_null(e);
        assert_null(m1);
        ovsdb_error_free(e);
    }
    json_decref(req);
    json_decref(id);
    ovsdb_destroy(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_select_update_delete),
        cmocka_unit_test(test_integrity_and_gc),
        cmocka_unit_test(test_indexes_and_max_rows),
        cmocka_unit_test(test_weak_refs),
        cmocka_unit_test(test_explicit_uuid),
        cmocka_unit_test(test_wait_abort_assert),
        cmocka_unit_test(test_monitor_updates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
