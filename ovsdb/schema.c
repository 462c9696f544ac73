/* Database schemas: parsing and validation. */
#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static bool
is_id(const char *s, bool allow_underscore_start)
{
    if (!*s || (!isalpha((unsigned char) *s)
                && !(*s == '_' && allow_underscore_start))) {
        return false;
    }
    for (s++; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != '_' && *s != '-') {
            return false;
        }
    }
    return true;
}

static char *
xstrdup(const char *s)
{
    char *p = strdup(s);

    if (!p) {
        abort();
    }
    return p;
}

static void
implicit_column(struct ovsdb_column *c, const char *name, unsigned int idx)
{
    memset(c, 0, sizeof *c);
    c->name = xstrdup(name);
    json_t *t = json_string("uuid");
    struct ovsdb_error *e = ovsdb_type_from_json(&c->type, t);

    json_decref(t);
    ovsdb_error_free(e);
    c->mutable_ = false;
    c->index = idx;
}

static struct ovsdb_error *
table_from_json(struct ovsdb_table_schema *ts, const char *name, json_t *j)
{
    json_t *cols, *v;
    const char *cname;
    json_t *cj;
    unsigned int i;

    ts->name = xstrdup(name);
    ts->max_rows = OVSDB_UNLIMITED;
    if (!json_is_object(j)) {
        return ovsdb_error("syntax error", "table %s is not an object",
                           name);
    }
    cols = json_object_get(j, "columns");
    if (!json_is_object(cols) || !json_object_size(cols)) {
        return ovsdb_error("syntax error", "table %s has no columns", name);
    }
    ts->columns = calloc(json_object_size(cols) + OVSDB_N_IMPLICIT,
                         sizeof *ts->columns);
    implicit_column(&ts->columns[0], "_uuid", 0);
    implicit_column(&ts->columns[1], "_version", 1);
    ts->n_columns = OVSDB_N_IMPLICIT;
    json_object_foreach(cols, cname, cj) {
        struct ovsdb_column *c = &ts->columns[ts->n_columns];
        struct ovsdb_error *e;

        if (!is_id(cname, false)) {
            return ovsdb_error("syntax error", "table %s: bad column name "
                               "\"%s\"", name, cname);
        }
        if (!json_is_object(cj)) {
            return ovsdb_error("syntax error", "column %s.%s is not an "
                               "object", name, cname);
        }
        e = ovsdb_type_from_json(&c->type, json_object_get(cj, "type"));
        if (e) {
            return e;
        }
        c->name = xstrdup(cname);
        c->index = ts->n_columns++;
        v = json_object_get(cj, "mutable");
        c->mutable_ = !json_is_false(v);
        c->ephemeral = json_is_true(json_object_get(cj, "ephemeral"));
    }
    ts->is_root = json_is_true(json_object_get(j, "isRoot"));
    v = json_object_get(j, "maxRows");
    if (v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            return ovsdb_error("syntax error", "table %s: bad maxRows",
                               name);
        }
        ts->max_rows = json_integer_value(v);
    }
    v = json_object_get(j, "indexes");
    if (v) {
        if (!json_is_array(v)) {
            return ovsdb_error("syntax error", "table %s: bad indexes",
                               name);
        }
        ts->indexes = calloc(json_array_size(v) + 1, sizeof *ts->indexes);
        for (i = 0; i < json_array_size(v); i++) {
            json_t *ij = json_array_get(v, i);
            struct ovsdb_index_schema *ix = &ts->indexes[ts->n_indexes++];
            size_t k;

            if (!json_is_array(ij) || !json_array_size(ij)) {
                return ovsdb_error("syntax error", "table %s: bad index",
                                   name);
            }
            ix->columns = calloc(json_array_size(ij), sizeof *ix->columns);
            for (k = 0; k < json_array_size(ij); k++) {
                json_t *cn = json_array_get(ij, k);
                const struct ovsdb_column *c = json_is_string(cn)
                    ? ovsdb_table_find_column(ts, json_string_value(cn))
                    : NULL;

                if (!c || c->ephemeral) {
                    return ovsdb_error("syntax error", "table %s: index "
                                       "names an unknown or ephemeral "
                                       "column", name);
                }
                ix->columns[ix->n++] = c->index;
            }
        }
    }
    return NULL;
}

static void
table_destroy(struct ovsdb_table_schema *ts)
{
    unsigned int i;

    for (i = 0; i < ts->n_columns; i++) {
        free(ts->columns[i].name);
        ovsdb_type_destroy(&ts->columns[i].type);
    }
    free(ts->columns);
    for (i = 0; i < ts->n_indexes; i++) {
        free(ts->indexes[i].columns);
    }
    free(ts->indexes);
    free(ts->name);
}

static struct ovsdb_error *
resolve_ref(struct ovsdb_schema *s, struct ovsdb_table_schema *ts,
            struct ovsdb_column *c, struct ovsdb_base_type *b)
{
    struct ovsdb_table_schema *target;

    if (b->type != OVSDB_T_UUID || !b->ref_table_name) {
        return NULL;
    }
    target = (struct ovsdb_table_schema *)
             ovsdb_schema_find_table(s, b->ref_table_name);
    if (!target) {
        return ovsdb_error("syntax error", "column %s.%s refers to unknown "
                           "table %s", ts->name, c->name, b->ref_table_name);
    }
    b->ref_table = target;
    if (b->ref_weak) {
        ts->has_weak_refs = true;
        target->weak_target = true;
    } else {
        ts->has_strong_refs = true;
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_schema_from_json(struct ovsdb_schema **sp, json_t *j)
{
    struct ovsdb_schema *s;
    struct ovsdb_error *e = NULL;
    json_t *tables, *tj, *v;
    const char *tname;
    bool any_root = false;
    unsigned int i, k;

    *sp = NULL;
    if (!json_is_object(j)) {
        return ovsdb_error("syntax error", "schema is not an object");
    }
    v = json_object_get(j, "name");
    tables = json_object_get(j, "tables");
    if (!json_is_string(v) || !is_id(json_string_value(v), true)
        || !json_is_object(tables)) {
        return ovsdb_error("syntax error", "schema lacks name or tables");
    }
    s = calloc(1, sizeof *s);
    s->name = xstrdup(json_string_value(v));
    v = json_object_get(j, "version");
    s->version = xstrdup(json_is_string(v) ? json_string_value(v) : "0.0.0");
    v = json_object_get(j, "cksum");
    s->cksum = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
    s->json = json_incref(j);
    s->tables = calloc(json_object_size(tables) + 1, sizeof *s->tables);
    json_object_foreach(tables, tname, tj) {
        struct ovsdb_table_schema *ts = &s->tables[s->n_tables];

        ts->index = s->n_tables++;
        if (!is_id(tname, false)) {
            e = ovsdb_error("syntax error", "bad table name \"%s\"", tname);
            goto error;
        }
        e = table_from_json(ts, tname, tj);
        if (e) {
            goto error;
        }
        any_root |= ts->is_root;
    }
    for (i = 0; i < s->n_tables; i++) {
        struct ovsdb_table_schema *ts = &s->tables[i];

        if (!any_root) {
            /* A schema without isRoot anywhere predates garbage
             * collection: every table is a root. */
            ts->is_root = true;
        }
        for (k = 0; k < ts->n_columns; k++) {
            struct ovsdb_column *c = &ts->columns[k];

            e = resolve_ref(s, ts, c, &c->type.key);
            if (!e) {
                e = resolve_ref(s, ts, c, &c->type.value);
            }
            if (e) {
                goto error;
            }
        }
    }
    *sp = s;
    return NULL;

error:
    ovsdb_schema_free(s);
    return e;
}

void
ovsdb_schema_free(struct ovsdb_schema *s)
{
    unsigned int i;

    if (!s) {
        return;
    }
    for (i = 0; i < s->n_tables; i++) {
        table_destroy(&s->tables[i]);
    }
    free(s->tables);
    free(s->name);
    free(s->version);
    free(s->cksum);
    json_decref(s->json);
    free(s);
}

const struct ovsdb_table_schema *
ovsdb_schema_find_table(const struct ovsdb_schema *s, const char *name)
{
    unsigned int i;

    for (i = 0; i < s->n_tables; i++) {
        if (s->tables[i].name && !strcmp(s->tables[i].name, name)) {
            return &s->tables[i];
        }
    }
    return NULL;
}

const struct ovsdb_column *
ovsdb_table_find_column(const struct ovsdb_table_schema *ts, const char *name)
{
    unsigned int i;

    for (i = 0; i < ts->n_columns; i++) {
        if (!strcmp(ts->columns[i].name, name)) {
            return &ts->columns[i];
        }
    }
    return NULL;
}

int
ovsdb_version_compare(const char *a, const char *b)
{
    int i;

    for (i = 0; i < 3; i++) {
        long x = strtol(a, (char **) &a, 10);
        long y = strtol(b, (char **) &b, 10);

        if (x != y) {
            return x < y ? -1 : 1;
        }
        if (*a == '.') {
            a++;
        }
        if (*b == '.') {
            b++;
        }
    }
    return 0;
}
