/* Transactions: a private view over the committed rows and the commit. */
#include "transaction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct txn_row {
    struct hmap_node node;          /* in txn->rows, by uuid */
    struct ovsdb_table *table;
    struct uuid uuid;
    struct ovsdb_row *old;          /* committed row or NULL */
    struct ovsdb_row *new;          /* NULL: deleted; == old: unchanged */
    long ref_delta;                 /* change in strong references to it */
    bool modified;                  /* 'new' is a private copy or NULL */
};

struct ovsdb_txn {
    struct ovsdb *db;
    struct hmap rows;
    struct txn_row **order;         /* in creation order */
    size_t n, cap;
    struct ovsdb_change *changes;
    size_t n_changes;
    bool committed;
};

struct ovsdb_txn *
ovsdb_txn_create(struct ovsdb *db)
{
    struct ovsdb_txn *txn = calloc(1, sizeof *txn);

    txn->db = db;
    hmap_init(&txn->rows);
    return txn;
}

void
ovsdb_txn_destroy(struct ovsdb_txn *txn)
{
    size_t i;

    if (!txn) {
        return;
    }
    for (i = 0; i < txn->n; i++) {
        struct txn_row *tr = txn->order[i];

        if (txn->committed) {
            /* The replaced and deleted rows were kept for the monitors. */
            if (tr->modified && tr->old) {
                ovsdb_row_free(tr->old);
            }
        } else if (tr->modified && tr->new) {
            ovsdb_row_free(tr->new);
        }
        free(tr);
    }
    for (i = 0; i < txn->n_changes; i++) {
        free(txn->changes[i].changed);
    }
    free(txn->changes);
    free(txn->order);
    hmap_destroy(&txn->rows);
    free(txn);
}

static struct txn_row *
txn_find(const struct ovsdb_txn *txn, const struct uuid *uuid)
{
    struct hmap_node *node;

    for (node = hmap_bucket(&txn->rows, uuid_hash(uuid)); node;
         node = node->next) {
        struct txn_row *tr = HMAP_CONTAINER(node, struct txn_row, node);

        if (uuid_equals(&tr->uuid, uuid)) {
            return tr;
        }
    }
    return NULL;
}

static struct txn_row *
txn_add(struct ovsdb_txn *txn, struct ovsdb_table *table,
        const struct uuid *uuid, struct ovsdb_row *old)
{
    struct txn_row *tr = calloc(1, sizeof *tr);

    tr->table = table;
    tr->uuid = *uuid;
    tr->old = tr->new = old;
    hmap_insert(&txn->rows, &tr->node, uuid_hash(uuid));
    if (txn->n == txn->cap) {
        txn->cap = txn->cap ? 2 * txn->cap : 16;
        txn->order = realloc(txn->order, txn->cap * sizeof *txn->order);
    }
    txn->order[txn->n++] = tr;
    return tr;
}

const struct ovsdb_row *
ovsdb_txn_get_row(struct ovsdb_txn *txn, struct ovsdb_table *table,
                  const struct uuid *uuid)
{
    struct txn_row *tr = txn_find(txn, uuid);

    if (tr) {
        return tr->table == table ? tr->new : NULL;
    }
    return ovsdb_table_get_row(table, uuid);
}

struct ovsdb_row *
ovsdb_txn_insert(struct ovsdb_txn *txn, struct ovsdb_table *table,
                 const struct uuid *uuid)
{
    struct txn_row *tr = txn_add(txn, table, uuid, NULL);

    tr->new = ovsdb_row_create(table, uuid);
    tr->modified = true;
    return tr->new;
}

struct ovsdb_row *
ovsdb_txn_modify(struct ovsdb_txn *txn, const struct ovsdb_row *row)
{
    const struct uuid *uuid = ovsdb_row_uuid(row);
    struct txn_row *tr = txn_find(txn, uuid);

    if (!tr) {
        tr = txn_add(txn, row->table, uuid, (struct ovsdb_row *) row);
    }
    if (!tr->modified) {
        tr->new = ovsdb_row_clone(tr->old);
        tr->modified = true;
    }
    return tr->new;
}

void
ovsdb_txn_delete(struct ovsdb_txn *txn, const struct ovsdb_row *row)
{
    const struct uuid *uuid = ovsdb_row_uuid(row);
    struct txn_row *tr = txn_find(txn, uuid);

    if (!tr) {
        tr = txn_add(txn, row->table, uuid, (struct ovsdb_row *) row);
    }
    if (tr->modified && tr->new) {
        ovsdb_row_free(tr->new);
    }
    tr->new = NULL;
    tr->modified = true;
}

void
ovsdb_txn_for_each_row(struct ovsdb_txn *txn, struct ovsdb_table *table,
                       ovsdb_txn_row_cb *cb, void *aux)
{
    struct hmap_node *node;
    size_t pos, i, n;

    HMAP_FOR_EACH_NODE (node, pos, &table->rows) {
        struct ovsdb_row *row = HMAP_CONTAINER(node, struct ovsdb_row, node);
        struct txn_row *tr = txn->n ? txn_find(txn, ovsdb_row_uuid(row))
                                    : NULL;
        const struct ovsdb_row *view = tr ? tr->new : row;

        if (view && !cb(aux, view)) {
            return;
        }
    }
    /* Rows inserted by this transaction; 'cb' may add entries but those
     * are never inserts into this table. */
    n = txn->n;
    for (i = 0; i < n; i++) {
        struct txn_row *tr = txn->order[i];

        if (tr->table == table && !tr->old && tr->new
            && !cb(aux, tr->new)) {
            return;
        }
    }
}

/* ------------------------------------------------------------- commit */

struct ref_ctx {
    struct ovsdb_txn *txn;
    const struct ovsdb_row *from;
    long delta;
    struct ovsdb_error *error;
};

/* Finds the column of 'from' that refers to 'uuid', for error messages. */
static const char *
ref_column_name(const struct ovsdb_row *from, const struct uuid *uuid)
{
    const struct ovsdb_table_schema *ts = from->table->schema;
    unsigned int i, k;

    for (i = OVSDB_N_IMPLICIT; i < ts->n_columns; i++) {
        const struct ovsdb_datum *d = &from->fields[i];
        const struct ovsdb_type *t = &ts->columns[i].type;

        for (k = 0; k < d->n; k++) {
            if ((t->key.type == OVSDB_T_UUID
                 && uuid_equals(&d->keys[k].u, uuid))
                || (d->values && t->value.type == OVSDB_T_UUID
                    && uuid_equals(&d->values[k].u, uuid))) {
                return ts->columns[i].name;
            }
        }
    }
    return "?";
}

static void
ref_cb(void *aux, const struct ovsdb_table_schema *target,
       const struct uuid *uuid)
{
    struct ref_ctx *ctx = aux;
    struct ovsdb_txn *txn = ctx->txn;
    struct ovsdb_table *table = &txn->db->tables[target->index];
    struct txn_row *tr;

    if (ctx->error) {
        return;
    }
    tr = txn_find(txn, uuid);
    if (!tr) {
        struct ovsdb_row *row = ovsdb_table_get_row(table, uuid);

        if (row) {
            tr = txn_add(txn, table, uuid, row);
        }
    }
    if (!tr || tr->table != table || (!tr->new && ctx->delta > 0)) {
        if (ctx->delta > 0) {
            char a[UUID_LEN + 1], b[UUID_LEN + 1];

            uuid_to_string(ovsdb_row_uuid(ctx->from), a);
            uuid_to_string(uuid, b);
            ctx->error = ovsdb_error("referential integrity violation",
                                     "Table %s column %s row %s references "
                                     "nonexistent row %s in table %s.",
                                     ctx->from->table->schema->name,
                                     ref_column_name(ctx->from, uuid), a, b,
                                     target->name);
        }
        return;
    }
    tr->ref_delta += ctx->delta;
}

static struct ovsdb_error *
count_refs(struct ovsdb_txn *txn, const struct ovsdb_row *row, long delta)
{
    struct ref_ctx ctx = { txn, row, delta, NULL };

    ovsdb_row_for_each_ref(row, false, ref_cb, &ctx);
    return ctx.error;
}

static bool
is_strong_ref(const struct ovsdb_base_type *b)
{
    return b->type == OVSDB_T_UUID && b->ref_table && !b->ref_weak;
}

/* Counts the reference changes from 'tr->old' to 'tr->new' column by
 * column, walking only the differences of sorted sets: adding one Port
 * to a Bridge with thousands must not cost thousands of lookups. */
static struct ovsdb_error *
count_ref_changes(struct ovsdb_txn *txn, struct txn_row *tr)
{
    const struct ovsdb_table_schema *ts = tr->table->schema;
    struct ref_ctx ctx = { txn, tr->new, 0, NULL };
    unsigned int c;

    if (!tr->old || !tr->new) {
        if (tr->old) {
            count_refs(txn, tr->old, -1);
        }
        return tr->new ? count_refs(txn, tr->new, +1) : NULL;
    }
    for (c = OVSDB_N_IMPLICIT; c < ts->n_columns && !ctx.error; c++) {
        const struct ovsdb_type *t = &ts->columns[c].type;
        const struct ovsdb_datum *a = &tr->old->fields[c];
        const struct ovsdb_datum *b = &tr->new->fields[c];
        bool kref = is_strong_ref(&t->key), vref = is_strong_ref(&t->value);
        unsigned int i = 0, j = 0;

        if ((!kref && !vref) || ovsdb_datum_equals(a, b, t)) {
            continue;
        }
        if (vref) {
            /* Maps to references: count whole values (rare, small). */
            for (i = 0; i < a->n; i++) {
                ctx.delta = -1;
                if (kref) {
                    ref_cb(&ctx, t->key.ref_table, &a->keys[i].u);
                }
                ref_cb(&ctx, t->value.ref_table, &a->values[i].u);
            }
            for (j = 0; j < b->n; j++) {
                ctx.delta = +1;
                if (kref) {
                    ref_cb(&ctx, t->key.ref_table, &b->keys[j].u);
                }
                ref_cb(&ctx, t->value.ref_table, &b->values[j].u);
            }
            continue;
        }
        while (i < a->n || j < b->n) {
            int cmp = i >= a->n ? 1 : j >= b->n ? -1
                      : uuid_compare(&a->keys[i].u, &b->keys[j].u);

            if (cmp < 0) {
                ctx.delta = -1;
                ref_cb(&ctx, t->key.ref_table, &a->keys[i++].u);
            } else if (cmp > 0) {
                ctx.delta = +1;
                ref_cb(&ctx, t->key.ref_table, &b->keys[j++].u);
            } else {
                i++;
                j++;
            }
        }
    }
    return ctx.error;
}

static long
total_refs(const struct txn_row *tr)
{
    return (tr->old ? (long) tr->old->n_refs : 0) + tr->ref_delta;
}

static void
collect_garbage(struct ovsdb_txn *txn)
{
    bool again = true;

    /* Deleting a row drops its references, which may orphan others: run
     * to a fixed point. */
    while (again) {
        size_t i;

        again = false;
        for (i = 0; i < txn->n; i++) {
            struct txn_row *tr = txn->order[i];

            if (!tr->new || tr->table->schema->is_root
                || total_refs(tr) > 0) {
                continue;
            }
            count_refs(txn, tr->new, -1);
            if (tr->modified) {
                ovsdb_row_free(tr->new);
            }
            tr->new = NULL;
            tr->modified = true;
            again = true;
        }
    }
}

struct weak_ctx {
    struct ovsdb_txn *txn;
    bool dangling;
};

static bool
row_exists(struct ovsdb_txn *txn, const struct ovsdb_table_schema *ts,
           const struct uuid *uuid)
{
    return ovsdb_txn_get_row(txn, &txn->db->tables[ts->index], uuid) != NULL;
}

static void
weak_check_cb(void *aux, const struct ovsdb_table_schema *target,
              const struct uuid *uuid)
{
    struct weak_ctx *ctx = aux;

    if (!ctx->dangling && !row_exists(ctx->txn, target, uuid)) {
        ctx->dangling = true;
    }
}

static void
remove_dangling(struct ovsdb_txn *txn, struct ovsdb_row *row)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    unsigned int i, k;

    for (i = OVSDB_N_IMPLICIT; i < ts->n_columns; i++) {
        const struct ovsdb_type *t = &ts->columns[i].type;
        struct ovsdb_datum *d = &row->fields[i];
        bool kw = t->key.type == OVSDB_T_UUID && t->key.ref_table
                  && t->key.ref_weak;
        bool vw = t->value.type == OVSDB_T_UUID && t->value.ref_table
                  && t->value.ref_weak;

        if (!kw && !vw) {
            continue;
        }
        for (k = d->n; k-- > 0;) {
            if ((kw && !row_exists(txn, t->key.ref_table, &d->keys[k].u))
                || (vw && !row_exists(txn, t->value.ref_table,
                                      &d->values[k].u))) {
                ovsdb_datum_remove(d, k, t);
            }
        }
    }
}

static bool
weak_scan_cb(void *aux, const struct ovsdb_row *row)
{
    struct weak_ctx *ctx = aux;

    ctx->dangling = false;
    ovsdb_row_for_each_ref(row, true, weak_check_cb, ctx);
    if (ctx->dangling) {
        remove_dangling(ctx->txn, ovsdb_txn_modify(ctx->txn, row));
    }
    return true;
}

static void
drop_weak_refs(struct ovsdb_txn *txn)
{
    const struct ovsdb_schema *s = txn->db->schema;
    struct weak_ctx ctx = { txn, false };
    bool deleted_target = false;
    size_t i, n;

    for (i = 0; i < txn->n; i++) {
        struct txn_row *tr = txn->order[i];

        if (tr->old && !tr->new && tr->table->schema->weak_target) {
            deleted_target = true;
            break;
        }
    }
    if (deleted_target) {
        unsigned int t;

        for (t = 0; t < s->n_tables; t++) {
            if (s->tables[t].has_weak_refs) {
                ovsdb_txn_for_each_row(txn, &txn->db->tables[t],
                                       weak_scan_cb, &ctx);
            }
        }
        return;
    }
    n = txn->n;
    for (i = 0; i < n; i++) {
        struct txn_row *tr = txn->order[i];

        if (tr->modified && tr->new && tr->table->schema->has_weak_refs) {
            weak_scan_cb(&ctx, tr->new);
        }
    }
}

static char *
index_values_string(const struct ovsdb_row *row,
                    const struct ovsdb_index_schema *ix)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    unsigned int k;

    for (k = 0; k < ix->n; k++) {
        unsigned int c = ix->columns[k];
        json_t *j = ovsdb_datum_to_json(&row->fields[c],
                                        &ts->columns[c].type);
        char *s = ovsdb_json_brief(j);

        fprintf(f, "%s%s", k ? ", " : "", s ? s : "?");
        free(s);
        json_decref(j);
    }
    fclose(f);
    return out;
}

static char *
index_columns_string(const struct ovsdb_table_schema *ts,
                     const struct ovsdb_index_schema *ix)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    unsigned int k;

    fprintf(f, "column%s ", ix->n > 1 ? "s" : "");
    for (k = 0; k < ix->n; k++) {
        fprintf(f, "%s\"%s\"", k == 0 ? "" : k + 1 == ix->n ? ", and "
                : ", ", ts->columns[ix->columns[k]].name);
    }
    fclose(f);
    return out;
}

static struct ovsdb_error *
index_error(const struct ovsdb_row *a, const struct txn_row *a_tr,
            const struct ovsdb_row *b, unsigned int i)
{
    const struct ovsdb_table_schema *ts = a->table->schema;
    char *vals = index_values_string(b, &ts->indexes[i]);
    char *cols = index_columns_string(ts, &ts->indexes[i]);
    char ua[UUID_LEN + 1], ub[UUID_LEN + 1];
    struct ovsdb_error *e;

    uuid_to_string(ovsdb_row_uuid(a), ua);
    uuid_to_string(ovsdb_row_uuid(b), ub);
    e = ovsdb_error("constraint violation", "Transaction causes multiple "
                    "rows in \"%s\" table to have identical values (%s) for "
                    "index on %s.  First row, with UUID %s, %s.  Second "
                    "row, with UUID %s, was inserted by this transaction.",
                    ts->name, vals, cols, ua,
                    !a_tr ? "existed in the database before this "
                    "transaction and was not modified by the transaction"
                    : a_tr->old ? "was modified by this transaction"
                    : "was inserted by this transaction", ub);
    free(vals);
    free(cols);
    return e;
}

struct ix_entry {
    struct hmap_node node;
    const struct ovsdb_row *row;
    const struct txn_row *tr;
};

static struct ovsdb_error *
check_indexes(struct ovsdb_txn *txn, struct ovsdb_table *table)
{
    const struct ovsdb_table_schema *ts = table->schema;
    struct ovsdb_error *e = NULL;
    unsigned int i;

    for (i = 0; i < ts->n_indexes && !e; i++) {
        struct ix_entry *entries = calloc(txn->n + 1, sizeof *entries);
        struct hmap seen;
        size_t k, n = 0;

        hmap_init(&seen);
        for (k = 0; k < txn->n && !e; k++) {
            struct txn_row *tr = txn->order[k];
            struct hmap_node *node;
            struct ovsdb_row *other;
            uint32_t h;

            if (tr->table != table || !tr->modified || !tr->new) {
                continue;
            }
            h = ovsdb_row_index_hash(tr->new, i);
            /* Against the other rows of this transaction. */
            for (node = hmap_bucket(&seen, h); node; node = node->next) {
                struct ix_entry *x = HMAP_CONTAINER(node, struct ix_entry,
                                                    node);

                if (node->hash == h
                    && ovsdb_row_index_equal(x->row, tr->new, i)) {
                    e = index_error(x->row, x->tr, tr->new, i);
                    break;
                }
            }
            if (e) {
                break;
            }
            entries[n].row = tr->new;
            entries[n].tr = tr;
            hmap_insert(&seen, &entries[n].node, h);
            n++;
            /* Against committed rows that this transaction leaves alone. */
            other = ovsdb_table_index_find(table, tr->new, i);
            if (other && !uuid_equals(ovsdb_row_uuid(other), &tr->uuid)) {
                struct txn_row *otr = txn_find(txn, ovsdb_row_uuid(other));

                if (!otr || !otr->modified) {
                    e = index_error(other, NULL, tr->new, i);
                }
            }
        }
        hmap_destroy(&seen);
        free(entries);
    }
    return e;
}

static struct ovsdb_error *
check_constraints(struct ovsdb_txn *txn)
{
    const struct ovsdb_schema *s = txn->db->schema;
    long *n_rows = calloc(s->n_tables + 1, sizeof *n_rows);
    bool *touched = calloc(s->n_tables + 1, sizeof *touched);
    struct ovsdb_error *e = NULL;
    unsigned int t;
    size_t i;

    for (i = 0; i < txn->n && !e; i++) {
        struct txn_row *tr = txn->order[i];
        const struct ovsdb_table_schema *ts = tr->table->schema;
        unsigned int c;

        if (!tr->modified) {
            continue;
        }
        touched[ts->index] = true;
        n_rows[ts->index] += (tr->new != NULL) - (tr->old != NULL);
        if (!tr->new) {
            continue;
        }
        for (c = OVSDB_N_IMPLICIT; c < ts->n_columns && !e; c++) {
            e = ovsdb_datum_check_size(&tr->new->fields[c],
                                       &ts->columns[c].type);
            if (e) {
                char *d = e->details;

                e->details = NULL;
                ovsdb_error_free(e);
                e = ovsdb_error("constraint violation", "Column %s in "
                                "table %s: %s.", ts->columns[c].name,
                                ts->name, d ? d : "");
                free(d);
            }
        }
    }
    for (t = 0; t < s->n_tables && !e; t++) {
        struct ovsdb_table *table = &txn->db->tables[t];
        long total = (long) table->rows.n + n_rows[t];

        if (!touched[t]) {
            continue;
        }
        if (table->schema->max_rows != OVSDB_UNLIMITED
            && total > (long) table->schema->max_rows) {
            e = ovsdb_error("constraint violation", "transaction causes "
                            "\"%s\" table to contain %ld rows, greater than "
                            "the schema-defined limit of %u row(s)",
                            table->schema->name, total,
                            table->schema->max_rows);
        } else if (table->schema->n_indexes) {
            e = check_indexes(txn, table);
        }
    }
    free(n_rows);
    free(touched);
    return e;
}

static void
apply(struct ovsdb_txn *txn)
{
    size_t i;

    txn->changes = calloc(txn->n + 1, sizeof *txn->changes);
    for (i = 0; i < txn->n; i++) {
        struct txn_row *tr = txn->order[i];
        const struct ovsdb_table_schema *ts = tr->table->schema;
        struct ovsdb_change *ch;
        bool any = false;
        unsigned int c;

        if (!tr->modified) {
            if (tr->old) {
                tr->old->n_refs = total_refs(tr);
            }
            continue;
        }
        if (!tr->old && !tr->new) {
            continue;           /* inserted and collected as garbage */
        }
        ch = &txn->changes[txn->n_changes];
        ch->table = tr->table;
        ch->old = tr->old;
        ch->new = tr->new;
        ch->changed = calloc(ts->n_columns, sizeof *ch->changed);
        for (c = OVSDB_N_IMPLICIT; c < ts->n_columns; c++) {
            ch->changed[c] = !tr->old || !tr->new
                || !ovsdb_datum_equals(&tr->old->fields[c],
                                       &tr->new->fields[c],
                                       &ts->columns[c].type);
            any |= ch->changed[c];
        }
        if (!any) {
            /* An update that changed nothing: keep the committed row. */
            free(ch->changed);
            ch->changed = NULL;
            ovsdb_row_free(tr->new);
            tr->new = tr->old;
            tr->modified = false;
            tr->old->n_refs = total_refs(tr);
            continue;
        }
        txn->n_changes++;
        if (tr->new) {
            uuid_generate(&tr->new->fields[OVSDB_COL_VERSION].keys[0].u);
            tr->new->n_refs = total_refs(tr);
        }
        if (tr->old) {
            ovsdb_table_remove_row(tr->table, tr->old);
        }
        if (tr->new) {
            ovsdb_table_insert_row(tr->table, tr->new);
        }
    }
    txn->committed = true;
}

struct ovsdb_error *
ovsdb_txn_commit(struct ovsdb_txn *txn, const struct ovsdb_change **changes,
                 size_t *n_changes)
{
    struct ovsdb_error *e = NULL;
    size_t i, n = txn->n;

    *changes = NULL;
    *n_changes = 0;
    for (i = 0; i < n && !e; i++) {
        struct txn_row *tr = txn->order[i];

        if (!tr->modified || !tr->table->schema->has_strong_refs) {
            continue;
        }
        e = count_ref_changes(txn, tr);
    }
    if (e) {
        return e;
    }
    collect_garbage(txn);
    drop_weak_refs(txn);
    for (i = 0; i < txn->n; i++) {
        struct txn_row *tr = txn->order[i];

        if (tr->old && !tr->new && total_refs(tr) > 0) {
            char u[UUID_LEN + 1];

            uuid_to_string(&tr->uuid, u);
            return ovsdb_error("referential integrity violation", "cannot "
                               "delete %s row %s because of %ld remaining "
                               "reference(s)", tr->table->schema->name, u,
                               total_refs(tr));
        }
    }
    e = check_constraints(txn);
    if (e) {
        return e;
    }
    apply(txn);
    *changes = txn->changes;
    *n_changes = txn->n_changes;
    return NULL;
}
