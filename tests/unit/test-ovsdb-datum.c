/* Unit tests for ovsdb/uuid.c, ovsdb/datum.c and ovsdb/schema.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "datum.h"
#include "error.h"
#include "schema.h"
#include "uuid.h"

static struct ovsdb_type
type_of(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    struct ovsdb_type t;
    struct ovsdb_error *e;

    assert_non_null(j);
    e = ovsdb_type_from_json(&t, j);
    assert_null(e);
    json_decref(j);
    return t;
}

/* Parses 'text' as a datum of 'type'; returns the error tag or NULL. */
static char *
parse(struct ovsdb_datum *d, const struct ovsdb_type *t, const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    struct ovsdb_error *e;
    char *tag = NULL;

    assert_non_null(j);
    e = ovsdb_datum_from_json(d, t, j, NULL, NULL);
    json_decref(j);
    if (e) {
        tag = strdup(e->tag);
        ovsdb_error_free(e);
    }
    return tag;
}

static char *
to_text(const struct ovsdb_datum *d, const struct ovsdb_type *t)
{
    json_t *j = ovsdb_datum_to_json(d, t);
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

    json_decref(j);
    return s;
}

static void
test_uuid(void **state)
{
    struct uuid a, b;
    char buf[UUID_LEN + 1];

    (void) state;
    assert_true(uuid_from_string(&a,
                                 "18a1c51a-70aa-4d02-a2b6-826e3f3f983d"));
    uuid_to_string(&a, buf);
    assert_string_equal(buf, "18a1c51a-70aa-4d02-a2b6-826e3f3f983d");
    assert_false(uuid_from_string(&b, "18a1c51a-70aa-4d02-a2b6-826e3f3f983"));
    assert_false(uuid_from_string(&b,
                                  "18a1c51a-70aa-4d02-a2b6x826e3f3f983d"));
    assert_false(uuid_from_string(&b,
                                  "g8a1c51a-70aa-4d02-a2b6-826e3f3f983d"));
    uuid_generate(&a);
    uuid_generate(&b);
    assert_false(uuid_equals(&a, &b));
    uuid_to_string(&a, buf);
    assert_int_equal(buf[14], '4');     /* version 4 */
}

static void
test_set_parsing(void **state)
{
    struct ovsdb_type t = type_of("{\"key\": {\"type\": \"integer\", "
                                  "\"minInteger\": 0, \"maxInteger\": 4095},"
                                  " \"min\": 0, \"max\": 3}");
    struct ovsdb_datum d;
    char *s, *err;

    (void) state;
    assert_null(parse(&d, &t, "[\"set\", [30, 10, 20]]"));
    assert_int_equal(d.n, 3);
    assert_int_equal(d.keys[0].i, 10);
    s = to_text(&d, &t);
    assert_string_equal(s, "[\"set\",[10,20,30]]");
    free(s);
    ovsdb_datum_destroy(&d, &t);

    assert_null(parse(&d, &t, "7"));            /* a bare atom */
    s = to_text(&d, &t);
    assert_string_equal(s, "7");                /* one element: bare */
    free(s);
    ovsdb_datum_destroy(&d, &t);

    err = parse(&d, &t, "[\"set\", [1, 1]]");
    assert_string_equal(err, "constraint violation");
    free(err);
    err = parse(&d, &t, "[\"set\", [1, 2, 3, 4]]");
    assert_string_equal(err, "constraint violation");
    free(err);
    err = parse(&d, &t, "5000");
    assert_string_equal(err, "constraint violation");
    free(err);
    err = parse(&d, &t, "\"x\"");
    assert_string_equal(err, "syntax error");
    free(err);
    err = parse(&d, &t, "1.5");
    assert_string_equal(err, "syntax error");
    free(err);
    ovsdb_type_destroy(&t);
}

static void
test_map_and_enum(void **state)
{
    struct ovsdb_type m = type_of("{\"key\": \"string\", \"value\": "
                                  "\"string\", \"min\": 0, "
                                  "\"max\": \"unlimited\"}");
    struct ovsdb_type e = type_of("{\"key\": {\"type\": \"string\", "
                                  "\"enum\": [\"set\", [\"secure\", "
                                  "\"standalone\"]]}, \"min\": 0}");
    struct ovsdb_datum d;
    char *s, *err;

    (void) state;
    assert_true(ovsdb_type_is_map(&m));
    assert_null(parse(&d, &m, "[\"map\", [[\"b\", \"2\"], [\"a\", \"1\"]]]"));
    s = to_text(&d, &m);
    assert_string_equal(s, "[\"map\",[[\"a\",\"1\"],[\"b\",\"2\"]]]");
    free(s);
    ovsdb_datum_destroy(&d, &m);
    err = parse(&d, &m, "[\"map\", [[\"a\", \"1\"], [\"a\", \"2\"]]]");
    assert_string_equal(err, "constraint violation");
    free(err);
    err = parse(&d, &m, "[\"set\", []]");
    assert_string_equal(err, "syntax error");
    free(err);

    assert_null(parse(&d, &e, "\"secure\""));
    ovsdb_datum_destroy(&d, &e);
    assert_null(parse(&d, &e, "[\"set\", []]"));
    assert_int_equal(d.n, 0);
    assert_true(ovsdb_datum_is_default(&d, &e));
    ovsdb_datum_destroy(&d, &e);
    err = parse(&d, &e, "\"bogus\"");
    assert_string_equal(err, "constraint violation");
    free(err);
    ovsdb_type_destroy(&m);
    ovsdb_type_destroy(&e);
}

static void
test_diff_union_subtract(void **state)
{
    struct ovsdb_type m = type_of("{\"key\": \"string\", \"value\": "
                                  "\"integer\", \"min\": 0, "
                                  "\"max\": \"unlimited\"}");
    struct ovsdb_type st = type_of("{\"key\": \"integer\", \"min\": 0, "
                                   "\"max\": \"unlimited\"}");
    struct ovsdb_type sc = type_of("\"integer\"");
    struct ovsdb_datum a, b, diff;
    char *s;

    (void) state;
    assert_null(parse(&a, &m, "[\"map\", [[\"a\", 1], [\"b\", 2]]]"));
    assert_null(parse(&b, &m, "[\"map\", [[\"a\", 9], [\"c\", 3]]]"));
    ovsdb_datum_diff(&diff, &a, &b, &m);
    s = to_text(&diff, &m);
    /* a changed, b removed, c added. */
    assert_string_equal(s, "[\"map\",[[\"a\",9],[\"b\",2],[\"c\",3]]]");
    free(s);
    ovsdb_datum_destroy(&diff, &m);
    ovsdb_datum_union(&a, &b, &m);      /* a keeps its value for "a" */
    s = to_text(&a, &m);
    assert_string_equal(s, "[\"map\",[[\"a\",1],[\"b\",2],[\"c\",3]]]");
    free(s);
    ovsdb_datum_subtract(&a, &m, &b, &m);   /* removes only c=3 */
    s = to_text(&a, &m);
    assert_string_equal(s, "[\"map\",[[\"a\",1],[\"b\",2]]]");
    free(s);
    ovsdb_datum_destroy(&a, &m);
    ovsdb_datum_destroy(&b, &m);

    assert_null(parse(&a, &st, "[\"set\", [1, 2, 3]]"));
    assert_null(parse(&b, &st, "[\"set\", [3, 4]]"));
    ovsdb_datum_diff(&diff, &a, &b, &st);
    s = to_text(&diff, &st);
    assert_string_equal(s, "[\"set\",[1,2,4]]");
    free(s);
    ovsdb_datum_destroy(&diff, &st);
    assert_false(ovsdb_datum_includes_all(&b, &a, &st));
    assert_false(ovsdb_datum_excludes_all(&b, &a, &st));
    ovsdb_datum_destroy(&a, &st);
    ovsdb_datum_destroy(&b, &st);

    assert_null(parse(&a, &sc, "5"));
    assert_null(parse(&b, &sc, "6"));
    ovsdb_datum_diff(&diff, &a, &b, &sc);   /* scalars: the new value */
    s = to_text(&diff, &sc);
    assert_string_equal(s, "6");
    free(s);
    ovsdb_datum_destroy(&diff, &sc);
    ovsdb_datum_destroy(&a, &sc);
    ovsdb_datum_destroy(&b, &sc);
    ovsdb_type_destroy(&m);
    ovsdb_type_destroy(&st);
    ovsdb_type_destroy(&sc);
}

/* diff(a, b) applied to a gives b, for random sets and maps. */
static void
test_apply_diff(void **state)
{
    struct ovsdb_type st = type_of("{\"key\": \"integer\", \"min\": 0, "
                                   "\"max\": \"unlimited\"}");
    struct ovsdb_type mt = type_of("{\"key\": \"integer\", \"value\": "
                                   "\"integer\", \"min\": 0, "
                                   "\"max\": \"unlimited\"}");
    int round;

    (void) state;
    srand(7);
    for (round = 0; round < 200; round++) {
        const struct ovsdb_type *t = round % 2 ? &mt : &st;
        struct ovsdb_datum a, b, diff;
        int i, n;

        ovsdb_datum_init_empty(&a);
        ovsdb_datum_init_empty(&b);
        for (n = 0; n < 2; n++) {
            struct ovsdb_datum *d = n ? &b : &a;
            int count = rand() % 30;

            for (i = 0; i < count; i++) {
                union ovsdb_atom k = { .i = rand() % 40 };
                union ovsdb_atom v = { .i = rand() % 3 };

                ovsdb_datum_push(d, &k, t == &mt ? &v : NULL);
            }
            ovsdb_datum_sort_unique(d, t);
        }
        ovsdb_datum_diff(&diff, &a, &b, t);
        ovsdb_datum_apply_diff(&a, &diff, t);
        assert_true(ovsdb_datum_equals(&a, &b, t));
        ovsdb_datum_union(&a, &diff, t);
        assert_true(ovsdb_datum_includes_all(&b, &a, t)
                    || t == &mt);
        ovsdb_datum_destroy(&a, t);
        ovsdb_datum_destroy(&b, t);
        ovsdb_datum_destroy(&diff, t);
    }
    ovsdb_type_destroy(&st);
    ovsdb_type_destroy(&mt);
}

static void
test_bad_types(void **state)
{
    static const char *const bad[] = {
        "\"float\"", "{\"key\": \"integer\", \"min\": 2}",
        "{\"key\": \"integer\", \"max\": 0}",
        "{\"key\": \"integer\", \"min\": 1, \"max\": \"lots\"}",
        "{\"value\": \"integer\"}", "42",
    };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        struct ovsdb_type t;
        struct ovsdb_error *e = ovsdb_type_from_json(&t, j);

        assert_non_null(e);
        ovsdb_error_free(e);
        json_decref(j);
    }
}

static void
test_schema(void **state)
{
    json_t *j = json_load_file(OVSDB_SCHEMA_FILE, 0, NULL);
    const struct ovsdb_table_schema *br, *mirror;
    struct ovsdb_schema *s;
    const struct ovsdb_column *c;

    (void) state;
    assert_non_null(j);
    assert_null(ovsdb_schema_from_json(&s, j));
    json_decref(j);
    assert_string_equal(s->name, "Open_vSwitch");
    br = ovsdb_schema_find_table(s, "Bridge");
    assert_non_null(br);
    assert_false(br->is_root);
    assert_int_equal(br->n_indexes, 1);
    c = ovsdb_table_find_column(br, "name");
    assert_false(c->mutable_);
    c = ovsdb_table_find_column(br, "ports");
    assert_ptr_equal(c->type.key.ref_table,
                     ovsdb_schema_find_table(s, "Port"));
    assert_true(ovsdb_table_find_column(br, "_uuid") != NULL);
    assert_true(ovsdb_schema_find_table(s, "Open_vSwitch")->is_root);
    assert_int_equal(ovsdb_schema_find_table(s, "Open_vSwitch")->max_rows,
                     1);
    mirror = ovsdb_schema_find_table(s, "Mirror");
    assert_true(mirror->has_weak_refs);
    assert_true(ovsdb_schema_find_table(s, "Port")->weak_target);
    assert_true(ovsdb_version_compare(s->version, "8.3.0") > 0);
    assert_int_equal(ovsdb_version_compare("1.2.3", "1.2.3"), 0);
    ovsdb_schema_free(s);

    j = json_loads("{\"name\": \"x\", \"tables\": {\"T\": {\"columns\": "
                   "{\"r\": {\"type\": {\"key\": {\"type\": \"uuid\", "
                   "\"refTable\": \"Nope\"}}}}}}}", 0, NULL);
    {
        struct ovsdb_error *e = ovsdb_schema_from_json(&s, j);

        assert_non_null(e);
        ovsdb_error_free(e);
    }
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_set_parsing),
        cmocka_unit_test(test_map_and_enum),
        cmocka_unit_test(test_diff_union_subtract),
        cmocka_unit_test(test_apply_diff),
        cmocka_unit_test(test_bad_types),
        cmocka_unit_test(test_schema),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
