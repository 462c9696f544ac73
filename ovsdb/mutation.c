/* "mutate" mutations. */
#include "mutation.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "error.h"
#include "schema.h"

static const char *const mutator_names[] = {
    [OVSDB_M_ADD] = "+=", [OVSDB_M_SUB] = "-=", [OVSDB_M_MUL] = "*=",
    [OVSDB_M_DIV] = "/=", [OVSDB_M_MOD] = "%=", [OVSDB_M_INSERT] = "insert",
    [OVSDB_M_DELETE] = "delete",
};

static struct ovsdb_error *
mutation_from_json(struct ovsdb_mutation *m,
                   const struct ovsdb_table_schema *ts, json_t *j,
                   ovsdb_symbol_fn *symbol, void *aux)
{
    const struct ovsdb_column *c;
    const char *cname, *mname;
    json_t *arg;
    size_t i;

    if (!json_is_array(j) || json_array_size(j) != 3
        || !json_is_string(json_array_get(j, 0))
        || !json_is_string(json_array_get(j, 1))) {
        return ovsdb_error("syntax error", "Parse error in mutation.");
    }
    cname = json_string_value(json_array_get(j, 0));
    mname = json_string_value(json_array_get(j, 1));
    arg = json_array_get(j, 2);
    c = ovsdb_table_find_column(ts, cname);
    if (!c) {
        return ovsdb_error("syntax error", "No column %s in table %s.",
                           cname, ts->name);
    }
    if (!c->mutable_) {
        return ovsdb_error("constraint violation", "Cannot mutate immutable "
                           "column %s in table %s.", cname, ts->name);
    }
    for (i = 0; i < sizeof mutator_names / sizeof mutator_names[0]; i++) {
        if (!strcmp(mname, mutator_names[i])) {
            break;
        }
    }
    if (i == sizeof mutator_names / sizeof mutator_names[0]) {
        return ovsdb_error("syntax error", "Unknown mutator \"%s\".", mname);
    }
    m->mutator = i;
    m->column = c;
    m->type = c->type;
    if (m->mutator <= OVSDB_M_MOD) {
        enum ovsdb_atype kt = c->type.key.type;

        if ((kt != OVSDB_T_INTEGER && kt != OVSDB_T_REAL)
            || ovsdb_type_is_map(&c->type)
            || (m->mutator == OVSDB_M_MOD && kt != OVSDB_T_INTEGER)) {
            return ovsdb_error("constraint violation", "Type mismatch: "
                               "\"%s\" mutator may not be applied to column "
                               "%s of type %s.", mname, cname,
                               ovsdb_atype_name(kt));
        }
        /* The operand is one scalar; range constraints apply to the
         * result, not to it. */
        memset(&m->type, 0, sizeof m->type);
        m->type.key.type = kt;
        m->type.value.type = OVSDB_T_VOID;
        m->type.n_min = m->type.n_max = 1;
        return ovsdb_datum_from_json_loose(&m->arg, &m->type, arg,
                                           symbol, aux);
    }
    m->type.n_min = 0;
    m->type.n_max = OVSDB_UNLIMITED;
    if (m->mutator == OVSDB_M_DELETE && ovsdb_type_is_map(&c->type)
        && !(json_is_array(arg) && json_array_size(arg) == 2
             && json_is_string(json_array_get(arg, 0))
             && !strcmp(json_string_value(json_array_get(arg, 0)), "map"))) {
        /* Deleting from a map by a set of keys. */
        m->type.value.type = OVSDB_T_VOID;
    }
    return ovsdb_datum_from_json_loose(&m->arg, &m->type, arg, symbol, aux);
}

struct ovsdb_error *
ovsdb_mutation_set_from_json(struct ovsdb_mutation_set *set,
                             const struct ovsdb_table_schema *ts, json_t *j,
                             ovsdb_symbol_fn *symbol, void *aux)
{
    size_t i;

    memset(set, 0, sizeof *set);
    if (!json_is_array(j)) {
        return ovsdb_error("syntax error", "Parse error in mutation.");
    }
    set->m = calloc(json_array_size(j) + 1, sizeof *set->m);
    for (i = 0; i < json_array_size(j); i++) {
        struct ovsdb_error *e = mutation_from_json(&set->m[set->n], ts,
                                                   json_array_get(j, i),
                                                   symbol, aux);

        if (e) {
            ovsdb_mutation_set_destroy(set);
            return e;
        }
        set->n++;
    }
    return NULL;
}

void
ovsdb_mutation_set_destroy(struct ovsdb_mutation_set *set)
{
    unsigned int i;

    for (i = 0; i < set->n; i++) {
        ovsdb_datum_destroy(&set->m[i].arg, &set->m[i].type);
    }
    free(set->m);
    memset(set, 0, sizeof *set);
}

static struct ovsdb_error *
arith_int(enum ovsdb_mutator op, int64_t *x, int64_t y)
{
    int64_t r;

    switch (op) {
    case OVSDB_M_ADD:
        if (__builtin_add_overflow(*x, y, &r)) {
            goto range;
        }
        break;
    case OVSDB_M_SUB:
        if (__builtin_sub_overflow(*x, y, &r)) {
            goto range;
        }
        break;
    case OVSDB_M_MUL:
        if (__builtin_mul_overflow(*x, y, &r)) {
            goto range;
        }
        break;
    case OVSDB_M_DIV:
    case OVSDB_M_MOD:
        if (!y) {
            return ovsdb_error("domain error", "Division by zero.");
        }
        if (*x == INT64_MIN && y == -1) {
            goto range;
        }
        r = op == OVSDB_M_DIV ? *x / y : *x % y;
        break;
    default:
        return NULL;
    }
    *x = r;
    return NULL;

range:
    return ovsdb_error("range error", "Result of \"%s\" operation is out of "
                       "range.", mutator_names[op]);
}

static struct ovsdb_error *
arith_real(enum ovsdb_mutator op, double *x, double y)
{
    double r;

    switch (op) {
    case OVSDB_M_ADD: r = *x + y; break;
    case OVSDB_M_SUB: r = *x - y; break;
    case OVSDB_M_MUL: r = *x * y; break;
    case OVSDB_M_DIV:
        if (y == 0) {
            return ovsdb_error("domain error", "Division by zero.");
        }
        r = *x / y;
        break;
    default:
        return NULL;
    }
    if (!isfinite(r)) {
        return ovsdb_error("range error", "Result of \"%s\" operation is out "
                           "of range.", mutator_names[op]);
    }
    *x = r;
    return NULL;
}

static struct ovsdb_error *
mutation_execute(const struct ovsdb_mutation *m, struct ovsdb_row *row)
{
    const struct ovsdb_type *t = &m->column->type;
    struct ovsdb_datum *d = &row->fields[m->column->index];
    struct ovsdb_error *e;
    unsigned int i, n;

    switch (m->mutator) {
    case OVSDB_M_ADD: case OVSDB_M_SUB: case OVSDB_M_MUL:
    case OVSDB_M_DIV: case OVSDB_M_MOD:
        for (i = 0; i < d->n; i++) {
            e = t->key.type == OVSDB_T_INTEGER
                ? arith_int(m->mutator, &d->keys[i].i, m->arg.keys[0].i)
                : arith_real(m->mutator, &d->keys[i].r, m->arg.keys[0].r);
            if (!e) {
                e = ovsdb_atom_check(&d->keys[i], &t->key);
            }
            if (e) {
                return e;
            }
        }
        n = d->n;
        ovsdb_datum_sort_unique(d, t);
        if (d->n != n) {
            return ovsdb_error("constraint violation", "Result of \"%s\" "
                               "operation contains duplicates.",
                               mutator_names[m->mutator]);
        }
        return NULL;
    case OVSDB_M_INSERT:
        for (i = 0; i < m->arg.n; i++) {
            e = ovsdb_atom_check(&m->arg.keys[i], &t->key);
            if (!e && m->arg.values) {
                e = ovsdb_atom_check(&m->arg.values[i], &t->value);
            }
            if (e) {
                return e;
            }
        }
        ovsdb_datum_union(d, &m->arg, t);
        break;
    case OVSDB_M_DELETE:
        ovsdb_datum_subtract(d, t, &m->arg, &m->type);
        break;
    }
    e = ovsdb_datum_check_size(d, t);
    if (e) {
        char *details = e->details;

        e->details = NULL;
        ovsdb_error_free(e);
        e = ovsdb_error("constraint violation", "Attempted to store %s in "
                        "column %s (%s).", "a value of wrong size",
                        m->column->name, details ? details : "");
        free(details);
    }
    return e;
}

struct ovsdb_error *
ovsdb_mutation_set_execute(const struct ovsdb_mutation_set *set,
                           struct ovsdb_row *row)
{
    unsigned int i;

    for (i = 0; i < set->n; i++) {
        struct ovsdb_error *e = mutation_execute(&set->m[i], row);

        if (e) {
            return e;
        }
    }
    return NULL;
}
