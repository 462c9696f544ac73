/* Executing "transact" operations. */
#include "execute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"
#include "db.h"
#include "error.h"
#include "mutation.h"
#include "transaction.h"

struct symbol {
    const char *name;               /* points into the request */
    struct uuid uuid;
};

struct exec {
    const struct ovsdb_exec_in *in;
    struct ovsdb_exec_out *out;
    struct ovsdb_txn *txn;
    struct symbol *symbols;
    size_t n_symbols;
    json_t *cur_op;                 /* for error "syntax" members */
};

static bool
symbol_lookup(void *aux, const char *name, struct uuid *uuid)
{
    struct exec *x = aux;
    size_t i;

    for (i = 0; i < x->n_symbols; i++) {
        if (!strcmp(x->symbols[i].name, name)) {
            *uuid = x->symbols[i].uuid;
            return true;
        }
    }
    return false;
}

static struct ovsdb_error *
get_table(struct exec *x, json_t *op, struct ovsdb_table **tp)
{
    json_t *t = json_object_get(op, "table");

    if (!json_is_string(t)) {
        return ovsdb_error("syntax error", "Required 'table' member is "
                           "missing or not a string.");
    }
    *tp = ovsdb_find_table(x->in->db, json_string_value(t));
    if (!*tp) {
        return ovsdb_error("syntax error", "No table named %s.",
                           json_string_value(t));
    }
    return NULL;
}

static struct ovsdb_error *
check_writable(struct exec *x)
{
    if (x->in->db->read_only) {
        return ovsdb_error("not allowed", "Database %s is read-only.",
                           x->in->db->schema->name);
    }
    return NULL;
}

/* Parses {column: value, ...} into 'row'.  'is_update' refuses
 * immutable columns. */
static struct ovsdb_error *
parse_row(struct exec *x, json_t *j, struct ovsdb_row *row, bool is_update,
          bool *cols)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    const char *name;
    json_t *v;

    if (!j) {
        return NULL;
    }
    if (!json_is_object(j)) {
        return ovsdb_error("syntax error", "Row must be a JSON object.");
    }
    json_object_foreach(j, name, v) {
        const struct ovsdb_column *c = ovsdb_table_find_column(ts, name);
        struct ovsdb_datum d;
        struct ovsdb_error *e;

        if (!c) {
            return ovsdb_error_syntax(
                ovsdb_error("unknown column", "No column %s in table %s.",
                            name, ts->name), j);
        }
        if (c->index < OVSDB_N_IMPLICIT) {
            return ovsdb_error("constraint violation", "Cannot update "
                               "read-only column %s in table %s.", name,
                               ts->name);
        }
        if (is_update && !c->mutable_) {
            return ovsdb_error_syntax(
                ovsdb_error("constraint violation", "Cannot update "
                            "immutable column %s in table %s.", name,
                            ts->name), x->cur_op);
        }
        e = ovsdb_datum_from_json(&d, &c->type, v, symbol_lookup, x);
        if (e) {
            return e;
        }
        ovsdb_datum_destroy(&row->fields[c->index], &c->type);
        row->fields[c->index] = d;
        if (cols) {
            cols[c->index] = true;
        }
    }
    return NULL;
}

static struct ovsdb_error *
parse_columns(const struct ovsdb_table_schema *ts, json_t *j, bool *cols,
              bool default_all)
{
    size_t i;

    if (!j) {
        for (i = 0; i < ts->n_columns; i++) {
            cols[i] = default_all;
        }
        return NULL;
    }
    if (!json_is_array(j)) {
        return ovsdb_error("syntax error", "'columns' must be an array.");
    }
    for (i = 0; i < json_array_size(j); i++) {
        json_t *n = json_array_get(j, i);
        const struct ovsdb_column *c = json_is_string(n)
            ? ovsdb_table_find_column(ts, json_string_value(n)) : NULL;

        if (!c) {
            return ovsdb_error("syntax error", "Unknown column in "
                               "'columns'.");
        }
        cols[c->index] = true;
    }
    return NULL;
}

/* Calls 'cb' for the rows that match 'where'. */
struct match_ctx {
    const struct ovsdb_condition *cond;
    ovsdb_txn_row_cb *cb;
    void *aux;
};

static bool
match_cb(void *aux, const struct ovsdb_row *row)
{
    struct match_ctx *m = aux;

    if (ovsdb_condition_eval(m->cond, row)) {
        return m->cb(m->aux, row);
    }
    return true;
}

static void
for_each_match(struct exec *x, struct ovsdb_table *table,
               const struct ovsdb_condition *cond, ovsdb_txn_row_cb *cb,
               void *aux)
{
    const struct uuid *uuid = ovsdb_condition_uuid(cond);

    if (uuid) {
        const struct ovsdb_row *row = ovsdb_txn_get_row(x->txn, table, uuid);

        if (row && ovsdb_condition_eval(cond, row)) {
            cb(aux, row);
        }
        return;
    }
    ovsdb_txn_for_each_row(x->txn, table, match_cb,
                           &(struct match_ctx) { cond, cb, aux });
}

static struct ovsdb_error *
parse_where(struct exec *x, struct ovsdb_table *table, json_t *op,
            struct ovsdb_condition *cond)
{
    json_t *w = json_object_get(op, "where");

    if (!w) {
        memset(cond, 0, sizeof *cond);
        return ovsdb_error("syntax error", "Required 'where' member is "
                           "missing.");
    }
    return ovsdb_condition_from_json(cond, table->schema, w, symbol_lookup,
                                     x);
}

/* ------------------------------------------------------------- insert */

static struct ovsdb_error *
op_insert(struct exec *x, json_t *op, json_t *result)
{
    struct ovsdb_table *table;
    struct ovsdb_error *e;
    struct ovsdb_row *row;
    json_t *name = json_object_get(op, "uuid-name");
    json_t *ju = json_object_get(op, "uuid");
    struct uuid uuid;
    char buf[UUID_LEN + 1];

    if ((e = get_table(x, op, &table)) || (e = check_writable(x))) {
        return e;
    }
    if (name && !json_is_string(name)) {
        return ovsdb_error("syntax error", "'uuid-name' must be a string.");
    }
    if (ju) {
        unsigned int t;

        if (!json_is_string(ju)
            || !uuid_from_string(&uuid, json_string_value(ju))) {
            return ovsdb_error("syntax error", "'uuid' is not a valid "
                               "UUID.");
        }
        /* Row uuids are unique across tables, which a client-chosen one
         * must not break. */
        for (t = 0; t < x->in->db->schema->n_tables; t++) {
            if (ovsdb_txn_get_row(x->txn, &x->in->db->tables[t], &uuid)) {
                return ovsdb_error("duplicate uuid", "This UUID would "
                                   "duplicate a UUID already present "
                                   "within the table or deleted within "
                                   "the same transaction.");
            }
        }
    } else if (name) {
        symbol_lookup(x, json_string_value(name), &uuid);
    } else {
        uuid_generate(&uuid);
    }
    row = ovsdb_txn_insert(x->txn, table, &uuid);
    e = parse_row(x, json_object_get(op, "row"), row, false, NULL);
    if (e) {
        return e;
    }
    uuid_to_string(&uuid, buf);
    json_object_set_new(result, "uuid", json_pack("[ss]", "uuid", buf));
    return NULL;
}

/* ------------------------------------------------------------- select */

struct select_ctx {
    const bool *cols;
    json_t *rows;
};

static bool
select_cb(void *aux, const struct ovsdb_row *row)
{
    struct select_ctx *s = aux;

    json_array_append_new(s->rows, ovsdb_row_to_json(row, s->cols));
    return true;
}

static struct ovsdb_error *
op_select(struct exec *x, json_t *op, json_t *result)
{
    struct ovsdb_condition cond = { NULL, 0, false };
    struct ovsdb_table *table;
    struct ovsdb_error *e;
    bool *cols;

    if ((e = get_table(x, op, &table))) {
        return e;
    }
    cols = calloc(table->schema->n_columns, sizeof *cols);
    e = parse_columns(table->schema, json_object_get(op, "columns"), cols,
                      true);
    if (!e) {
        e = parse_where(x, table, op, &cond);
    }
    if (!e) {
        struct select_ctx s = { cols, json_array() };

        for_each_match(x, table, &cond, select_cb, &s);
        json_object_set_new(result, "rows", s.rows);
    }
    ovsdb_condition_destroy(&cond);
    free(cols);
    return e;
}

/* ------------------------------------------------- update and mutate */

struct modify_ctx {
    struct exec *x;
    const struct ovsdb_row *template;   /* update: the given columns */
    const bool *cols;
    const struct ovsdb_mutation_set *mutations;
    long long count;
    struct ovsdb_error *error;
};

static bool
modify_cb(void *aux, const struct ovsdb_row *row)
{
    struct modify_ctx *m = aux;
    const struct ovsdb_table_schema *ts = row->table->schema;
    struct ovsdb_row *new = ovsdb_txn_modify(m->x->txn, row);

    if (m->template) {
        unsigned int c;

        for (c = OVSDB_N_IMPLICIT; c < ts->n_columns; c++) {
            if (m->cols[c]) {
                ovsdb_datum_destroy(&new->fields[c], &ts->columns[c].type);
                ovsdb_datum_clone(&new->fields[c], &m->template->fields[c],
                                  &ts->columns[c].type);
            }
        }
    } else {
        m->error = ovsdb_mutation_set_execute(m->mutations, new);
        if (m->error) {
            return false;
        }
    }
    m->count++;
    return true;
}

static struct ovsdb_error *
op_update(struct exec *x, json_t *op, json_t *result)
{
    struct ovsdb_condition cond = { NULL, 0, false };
    struct ovsdb_table *table;
    struct ovsdb_error *e;
    struct ovsdb_row *template;
    struct uuid zero;
    bool *cols;

    if ((e = get_table(x, op, &table)) || (e = check_writable(x))) {
        return e;
    }
    if (!json_is_object(json_object_get(op, "row"))) {
        return ovsdb_error("syntax error", "Required 'row' member is "
                           "missing or not an object.");
    }
    uuid_zero(&zero);
    template = ovsdb_row_create(table, &zero);
    cols = calloc(table->schema->n_columns, sizeof *cols);
    e = parse_row(x, json_object_get(op, "row"), template, true, cols);
    if (!e) {
        e = parse_where(x, table, op, &cond);
        if (!e) {
            struct modify_ctx m = { x, template, cols, NULL, 0, NULL };

            for_each_match(x, table, &cond, modify_cb, &m);
            json_object_set_new(result, "count", json_integer(m.count));
        }
        ovsdb_condition_destroy(&cond);
    }
    ovsdb_row_free(template);
    free(cols);
    return e;
}

static struct ovsdb_error *
op_mutate(struct exec *x, json_t *op, json_t *result)
{
    struct ovsdb_mutation_set ms;
    struct ovsdb_condition cond = { NULL, 0, false };
    struct ovsdb_table *table;
    struct ovsdb_error *e;

    if ((e = get_table(x, op, &table)) || (e = check_writable(x))) {
        return e;
    }
    e = ovsdb_mutation_set_from_json(&ms, table->schema,
                                     json_object_get(op, "mutations"),
                                     symbol_lookup, x);
    if (e) {
        return e;
    }
    e = parse_where(x, table, op, &cond);
    if (!e) {
        struct modify_ctx m = { x, NULL, NULL, &ms, 0, NULL };

        for_each_match(x, table, &cond, modify_cb, &m);
        e = m.error;
        if (!e) {
            json_object_set_new(result, "count", json_integer(m.count));
        }
    }
    ovsdb_condition_destroy(&cond);
    ovsdb_mutation_set_destroy(&ms);
    return e;
}

/* ------------------------------------------------------------- delete */

struct delete_ctx {
    struct exec *x;
    long long count;
};

static bool
delete_cb(void *aux, const struct ovsdb_row *row)
{
    struct delete_ctx *d = aux;

    ovsdb_txn_delete(d->x->txn, row);
    d->count++;
    return true;
}

static struct ovsdb_error *
op_delete(struct exec *x, json_t *op, json_t *result)
{
    struct ovsdb_condition cond = { NULL, 0, false };
    struct ovsdb_table *table;
    struct ovsdb_error *e;

    if ((e = get_table(x, op, &table)) || (e = check_writable(x))) {
        return e;
    }
    e = parse_where(x, table, op, &cond);
    if (!e) {
        struct delete_ctx d = { x, 0 };

        for_each_match(x, table, &cond, delete_cb, &d);
        json_object_set_new(result, "count", json_integer(d.count));
    }
    ovsdb_condition_destroy(&cond);
    return e;
}

/* --------------------------------------------------------------- wait */

struct wait_ctx {
    const bool *cols;
    const struct ovsdb_table_schema *ts;
    struct ovsdb_row **expected;
    bool *used;
    size_t n_expected;
    bool mismatch;
};

static bool
wait_cb(void *aux, const struct ovsdb_row *row)
{
    struct wait_ctx *w = aux;
    size_t i;

    for (i = 0; i < w->n_expected; i++) {
        unsigned int c;
        bool same = true;

        if (w->used[i]) {
            continue;
        }
        for (c = 0; c < w->ts->n_columns && same; c++) {
            same = !w->cols[c]
                   || ovsdb_datum_equals(&row->fields[c],
                                         &w->expected[i]->fields[c],
                                         &w->ts->columns[c].type);
        }
        if (same) {
            w->used[i] = true;
            return true;
        }
    }
    w->mismatch = true;
    return false;
}

static struct ovsdb_error *
op_wait(struct exec *x, json_t *op, json_t *result)
{
    json_t *until = json_object_get(op, "until");
    json_t *rows = json_object_get(op, "rows");
    json_t *timeout = json_object_get(op, "timeout");
    struct ovsdb_condition cond = { NULL, 0, false };
    struct ovsdb_table *table;
    struct ovsdb_error *e;
    struct wait_ctx w;
    bool equal_wanted, equal;
    size_t i;

    (void) result;
    if ((e = get_table(x, op, &table))) {
        return e;
    }
    if (!json_is_string(until)
        || (strcmp(json_string_value(until), "==")
            && strcmp(json_string_value(until), "!="))) {
        return ovsdb_error("syntax error", "'until' must be \"==\" or "
                           "\"!=\".");
    }
    if (!json_is_array(rows)) {
        return ovsdb_error("syntax error", "'rows' must be an array.");
    }
    if (timeout && !json_is_integer(timeout)) {
        return ovsdb_error("syntax error", "'timeout' must be an integer.");
    }
    equal_wanted = !strcmp(json_string_value(until), "==");
    memset(&w, 0, sizeof w);
    w.ts = table->schema;
    w.cols = calloc(table->schema->n_columns, sizeof *w.cols);
    e = parse_columns(table->schema, json_object_get(op, "columns"),
                      (bool *) w.cols, true);
    w.expected = calloc(json_array_size(rows) + 1, sizeof *w.expected);
    w.used = calloc(json_array_size(rows) + 1, sizeof *w.used);
    for (i = 0; !e && i < json_array_size(rows); i++) {
        struct uuid zero;

        uuid_zero(&zero);
        w.expected[i] = ovsdb_row_create(table, &zero);
        w.n_expected++;
        e = parse_row(x, json_array_get(rows, i), w.expected[i], false,
                      NULL);
    }
    if (!e) {
        e = parse_where(x, table, op, &cond);
        if (!e) {
            for_each_match(x, table, &cond, wait_cb, &w);
            equal = !w.mismatch;
            for (i = 0; i < w.n_expected; i++) {
                equal &= w.used[i];
            }
            if (equal != equal_wanted) {
                long long ms = timeout ? json_integer_value(timeout) : -1;

                if (ms == 0 || x->in->timed_out) {
                    e = ovsdb_error("timed out", "\"where\" clause "
                                    "test failed");
                } else {
                    x->out->pending = true;
                    if (ms > 0 && (x->out->wait_ms < 0
                                   || ms < x->out->wait_ms)) {
                        x->out->wait_ms = ms;
                    }
                }
            }
        }
        ovsdb_condition_destroy(&cond);
    }
    for (i = 0; i < w.n_expected; i++) {
        ovsdb_row_free(w.expected[i]);
    }
    free(w.expected);
    free(w.used);
    free((bool *) w.cols);
    return e;
}

/* ---------------------------------------------- commit, abort, ... */

static struct ovsdb_error *
op_commit(struct exec *x, json_t *op, json_t *result)
{
    json_t *d = json_object_get(op, "durable");

    (void) result;
    if (!json_is_boolean(d)) {
        return ovsdb_error("syntax error", "'durable' must be a boolean.");
    }
    x->out->durable |= json_is_true(d);
    return NULL;
}

static struct ovsdb_error *
op_abort(struct exec *x, json_t *op, json_t *result)
{
    (void) x;
    (void) op;
    (void) result;
    return ovsdb_error("aborted", "aborted by request");
}

static struct ovsdb_error *
op_comment(struct exec *x, json_t *op, json_t *result)
{
    json_t *c = json_object_get(op, "comment");
    char *joined;

    (void) result;
    if (!json_is_string(c)) {
        return ovsdb_error("syntax error", "'comment' must be a string.");
    }
    if (x->out->comment) {
        if (asprintf(&joined, "%s\n%s", x->out->comment,
                     json_string_value(c)) < 0) {
            return NULL;
        }
        free(x->out->comment);
        x->out->comment = joined;
    } else {
        x->out->comment = strdup(json_string_value(c));
    }
    return NULL;
}

static struct ovsdb_error *
op_assert(struct exec *x, json_t *op, json_t *result)
{
    json_t *lock = json_object_get(op, "lock");

    (void) result;
    if (!json_is_string(lock)) {
        return ovsdb_error("syntax error", "'lock' must be a string.");
    }
    if (!x->in->has_lock
        || !x->in->has_lock(x->in->aux, json_string_value(lock))) {
        return ovsdb_error("not owner", "Asserted lock %s not held.",
                           json_string_value(lock));
    }
    return NULL;
}

static const struct {
    const char *name;
    struct ovsdb_error *(*fn)(struct exec *, json_t *op, json_t *result);
} ops[] = {
    { "insert", op_insert }, { "select", op_select },
    { "update", op_update }, { "mutate", op_mutate },
    { "delete", op_delete }, { "wait", op_wait },
    { "commit", op_commit }, { "abort", op_abort },
    { "comment", op_comment }, { "assert", op_assert },
};

/* Errors in the operation's own shape name the operation, as
 * "Parsing ovsdb operation I of N failed: ...", with the operation as
 * "syntax". */
static struct ovsdb_error *
parse_failure(json_t *op, size_t idx, size_t n, struct ovsdb_error *e)
{
    char *d = e->details;

    e->details = NULL;
    ovsdb_error_free(e);
    e = ovsdb_error("syntax error", "Parsing ovsdb operation %zu of %zu "
                    "failed: %s", idx, n, d ? d : "");
    free(d);
    return ovsdb_error_syntax(e, op);
}

static struct ovsdb_error *
execute_op(struct exec *x, json_t *op, size_t idx, size_t n, json_t *result)
{
    json_t *name = json_object_get(op, "op");
    size_t i;

    x->cur_op = op;
    if (!json_is_object(op)) {
        return parse_failure(op, idx, n, ovsdb_error(
                                 "syntax error", "Operation must be an "
                                 "object."));
    }
    if (!json_is_string(name)) {
        return parse_failure(op, idx, n, ovsdb_error(
                                 "syntax error", "Required 'op' member is "
                                 "missing or not a string."));
    }
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!strcmp(ops[i].name, json_string_value(name))) {
            struct ovsdb_table *table;

            if (i <= 5) {
                /* insert ... wait name a table. */
                struct ovsdb_error *e = get_table(x, op, &table);

                if (e) {
                    return parse_failure(op, idx, n, e);
                }
            }
            return ops[i].fn(x, op, result);
        }
    }
    return parse_failure(op, idx, n, ovsdb_error(
                             "syntax error", "No operation \"%s\"",
                             json_string_value(name)));
}

static struct ovsdb_error *
declare_symbols(struct exec *x, json_t *params)
{
    size_t i, n = json_array_size(params);

    x->symbols = calloc(n + 1, sizeof *x->symbols);
    for (i = 1; i < n; i++) {
        json_t *op = json_array_get(params, i);
        json_t *name = json_object_get(op, "uuid-name");
        struct uuid dummy;

        if (!json_is_object(op) || !json_is_string(name)
            || !json_is_string(json_object_get(op, "op"))
            || strcmp(json_string_value(json_object_get(op, "op")),
                      "insert")) {
            continue;
        }
        if (symbol_lookup(x, json_string_value(name), &dummy)) {
            return ovsdb_error("duplicate uuid-name", "This \"uuid-name\" "
                               "appeared on an earlier \"insert\" "
                               "operation.");
        }
        x->symbols[x->n_symbols].name = json_string_value(name);
        /* An explicit "uuid" is what the name stands for. */
        if (!json_is_string(json_object_get(op, "uuid"))
            || !uuid_from_string(&x->symbols[x->n_symbols].uuid,
                                 json_string_value(json_object_get(op,
                                                                   "uuid")))) {
            uuid_generate(&x->symbols[x->n_symbols].uuid);
        }
        x->n_symbols++;
    }
    return NULL;
}

void
ovsdb_execute(const struct ovsdb_exec_in *in, struct ovsdb_exec_out *out)
{
    struct exec x = { in, out, NULL, NULL, 0, NULL };
    size_t i, n_ops = json_array_size(in->params) - 1;
    struct ovsdb_error *e;
    json_t *results = json_array();

    memset(out, 0, sizeof *out);
    out->wait_ms = -1;
    x.txn = ovsdb_txn_create(in->db);
    e = declare_symbols(&x, in->params);
    for (i = 1; !e && i <= n_ops; i++) {
        json_t *r = json_object();

        e = execute_op(&x, json_array_get(in->params, i), i, n_ops, r);
        if (e) {
            json_decref(r);
            json_array_append_new(results, ovsdb_error_to_json(e));
        } else {
            json_array_append_new(results, r);
        }
    }
    if (out->pending) {
        /* Retried later from the start: nothing of this run counts. */
        ovsdb_error_free(e);
        json_decref(results);
        ovsdb_txn_destroy(x.txn);
        free(x.symbols);
        free(out->comment);
        out->comment = NULL;
        return;
    }
    if (!e) {
        e = ovsdb_txn_commit(x.txn, &out->changes, &out->n_changes);
        if (e) {
            json_array_append_new(results, ovsdb_error_to_json(e));
        } else {
            out->txn = x.txn;
            x.txn = NULL;
        }
    } else if (json_array_size(results) == 0) {
        json_array_append_new(results, ovsdb_error_to_json(e));
    }
    while (json_array_size(results) < n_ops) {
        json_array_append_new(results, json_null());
    }
    ovsdb_error_free(e);
    ovsdb_txn_destroy(x.txn);
    free(x.symbols);
    out->result = results;
}

void
ovsdb_exec_out_destroy(struct ovsdb_exec_out *out)
{
    json_decref(out->result);
    ovsdb_txn_destroy(out->txn);
    free(out->comment);
    memset(out, 0, sizeof *out);
}
