/* "where" conditions. */
#include "condition.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "error.h"
#include "schema.h"

static const char *const function_names[] = {
    [OVSDB_F_LT] = "<", [OVSDB_F_LE] = "<=", [OVSDB_F_EQ] = "==",
    [OVSDB_F_NE] = "!=", [OVSDB_F_GE] = ">=", [OVSDB_F_GT] = ">",
    [OVSDB_F_INCLUDES] = "includes", [OVSDB_F_EXCLUDES] = "excludes",
};

static bool
function_from_name(const char *s, enum ovsdb_function *f)
{
    size_t i;

    for (i = 0; i < sizeof function_names / sizeof function_names[0]; i++) {
        if (!strcmp(s, function_names[i])) {
            *f = i;
            return true;
        }
    }
    return false;
}

static struct ovsdb_error *
clause_from_json(struct ovsdb_clause *cl, const struct ovsdb_table_schema *ts,
                 json_t *j, ovsdb_symbol_fn *symbol, void *aux)
{
    const struct ovsdb_column *c;
    const char *cname, *fname;
    json_t *arg;

    if (!json_is_array(j) || json_array_size(j) != 3
        || !json_is_string(json_array_get(j, 0))
        || !json_is_string(json_array_get(j, 1))) {
        return ovsdb_error("syntax error", "Parse error in condition.");
    }
    cname = json_string_value(json_array_get(j, 0));
    fname = json_string_value(json_array_get(j, 1));
    arg = json_array_get(j, 2);
    c = ovsdb_table_find_column(ts, cname);
    if (!c) {
        return ovsdb_error("syntax error", "No column %s in table %s.",
                           cname, ts->name);
    }
    if (!function_from_name(fname, &cl->function)) {
        return ovsdb_error("syntax error", "Unknown function \"%s\".", fname);
    }
    cl->column = c;
    cl->type = c->type;
    switch (cl->function) {
    case OVSDB_F_LT: case OVSDB_F_LE: case OVSDB_F_GE: case OVSDB_F_GT:
        if ((c->type.key.type != OVSDB_T_INTEGER
             && c->type.key.type != OVSDB_T_REAL)
            || ovsdb_type_is_map(&c->type) || c->type.n_max != 1) {
            return ovsdb_error("syntax error", "Type mismatch: \"%s\" "
                               "operator may not be applied to column %s of "
                               "type %s.", fname, cname,
                               ovsdb_atype_name(c->type.key.type));
        }
        cl->type.n_min = 1;
        return ovsdb_datum_from_json(&cl->arg, &cl->type, arg, symbol, aux);
    case OVSDB_F_EQ: case OVSDB_F_NE:
        return ovsdb_datum_from_json(&cl->arg, &cl->type, arg, symbol, aux);
    case OVSDB_F_INCLUDES: case OVSDB_F_EXCLUDES:
        cl->type.n_min = 0;
        cl->type.n_max = OVSDB_UNLIMITED;
        return ovsdb_datum_from_json(&cl->arg, &cl->type, arg, symbol, aux);
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_condition_from_json(struct ovsdb_condition *cond,
                          const struct ovsdb_table_schema *ts, json_t *j,
                          ovsdb_symbol_fn *symbol, void *aux)
{
    size_t i;

    memset(cond, 0, sizeof *cond);
    if (!json_is_array(j)) {
        return ovsdb_error("syntax error", "Parse error in condition.");
    }
    cond->clauses = calloc(json_array_size(j) + 1, sizeof *cond->clauses);
    for (i = 0; i < json_array_size(j); i++) {
        json_t *cj = json_array_get(j, i);
        struct ovsdb_error *e;

        if (json_is_boolean(cj)) {
            cond->always_false |= json_is_false(cj);
            continue;
        }
        e = clause_from_json(&cond->clauses[cond->n], ts, cj, symbol, aux);
        if (e) {
            ovsdb_condition_destroy(cond);
            return e;
        }
        cond->n++;
    }
    return NULL;
}

void
ovsdb_condition_destroy(struct ovsdb_condition *cond)
{
    unsigned int i;

    for (i = 0; i < cond->n; i++) {
        ovsdb_datum_destroy(&cond->clauses[i].arg, &cond->clauses[i].type);
    }
    free(cond->clauses);
    memset(cond, 0, sizeof *cond);
}

static bool
clause_eval(const struct ovsdb_clause *cl, const struct ovsdb_row *row)
{
    const struct ovsdb_datum *d = &row->fields[cl->column->index];
    const struct ovsdb_type *t = &cl->column->type;
    int c;

    switch (cl->function) {
    case OVSDB_F_LT: case OVSDB_F_LE: case OVSDB_F_GE: case OVSDB_F_GT:
        if (!d->n) {
            return false;
        }
        c = ovsdb_atom_compare(&d->keys[0], &cl->arg.keys[0], t->key.type);
        switch (cl->function) {
        case OVSDB_F_LT: return c < 0;
        case OVSDB_F_LE: return c <= 0;
        case OVSDB_F_GE: return c >= 0;
        default: return c > 0;
        }
    case OVSDB_F_EQ:
        return ovsdb_datum_equals(d, &cl->arg, t);
    case OVSDB_F_NE:
        return !ovsdb_datum_equals(d, &cl->arg, t);
    case OVSDB_F_INCLUDES:
        return ovsdb_datum_includes_all(&cl->arg, d, t);
    case OVSDB_F_EXCLUDES:
        return ovsdb_datum_excludes_all(&cl->arg, d, t);
    }
    return false;
}

bool
ovsdb_condition_eval(const struct ovsdb_condition *cond,
                     const struct ovsdb_row *row)
{
    unsigned int i;

    if (cond->always_false) {
        return false;
    }
    for (i = 0; i < cond->n; i++) {
        if (!clause_eval(&cond->clauses[i], row)) {
            return false;
        }
    }
    return true;
}

const struct uuid *
ovsdb_condition_uuid(const struct ovsdb_condition *cond)
{
    unsigned int i;

    for (i = 0; i < cond->n; i++) {
        const struct ovsdb_clause *cl = &cond->clauses[i];

        if (cl->function == OVSDB_F_EQ
            && cl->column->index == OVSDB_COL_UUID && cl->arg.n == 1) {
            return &cl->arg.keys[0].u;
        }
    }
    return NULL;
}

bool
ovsdb_condition_is_true(const struct ovsdb_condition *cond)
{
    return !cond->always_false && !cond->n;
}
