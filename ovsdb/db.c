/* The in-memory database. */
#include "db.h"

#include <stdlib.h>
#include <string.h>

struct ovsdb *
ovsdb_create(struct ovsdb_schema *schema)
{
    struct ovsdb *db = calloc(1, sizeof *db);
    unsigned int i, k;

    db->schema = schema;
    db->tables = calloc(schema->n_tables + 1, sizeof *db->tables);
    for (i = 0; i < schema->n_tables; i++) {
        struct ovsdb_table *t = &db->tables[i];

        t->schema = &schema->tables[i];
        hmap_init(&t->rows);
        t->indexes = calloc(t->schema->n_indexes + 1, sizeof *t->indexes);
        for (k = 0; k < t->schema->n_indexes; k++) {
            hmap_init(&t->indexes[k]);
        }
    }
    return db;
}

void
ovsdb_destroy(struct ovsdb *db)
{
    unsigned int i, k;

    if (!db) {
        return;
    }
    for (i = 0; i < db->schema->n_tables; i++) {
        struct ovsdb_table *t = &db->tables[i];
        struct hmap_node *node, *next;
        size_t b;

        for (b = 0; t->rows.buckets && b <= t->rows.mask; b++) {
            for (node = t->rows.buckets[b]; node; node = next) {
                next = node->next;
                ovsdb_row_free(HMAP_CONTAINER(node, struct ovsdb_row, node));
            }
        }
        hmap_destroy(&t->rows);
        for (k = 0; k < t->schema->n_indexes; k++) {
            hmap_destroy(&t->indexes[k]);
        }
        free(t->indexes);
    }
    free(db->tables);
    ovsdb_schema_free(db->schema);
    free(db);
}

struct ovsdb_table *
ovsdb_find_table(struct ovsdb *db, const char *name)
{
    const struct ovsdb_table_schema *ts = ovsdb_schema_find_table(db->schema,
                                                                  name);

    return ts ? &db->tables[ts->index] : NULL;
}

static struct ovsdb_row *
row_alloc(const struct ovsdb_table *t)
{
    const struct ovsdb_table_schema *ts = t->schema;
    struct ovsdb_row *row = calloc(1, sizeof *row
                                   + ts->n_columns * sizeof row->fields[0]);

    if (!row) {
        abort();
    }
    row->table = (struct ovsdb_table *) t;
    if (ts->n_indexes) {
        row->index_nodes = calloc(ts->n_indexes, sizeof *row->index_nodes);
    }
    return row;
}

struct ovsdb_row *
ovsdb_row_create(struct ovsdb_table *t, const struct uuid *uuid)
{
    struct ovsdb_row *row = row_alloc(t);
    unsigned int i;

    for (i = 0; i < t->schema->n_columns; i++) {
        ovsdb_datum_init_default(&row->fields[i], &t->schema->columns[i].type);
    }
    row->fields[OVSDB_COL_UUID].keys[0].u = *uuid;
    return row;
}

struct ovsdb_row *
ovsdb_row_clone(const struct ovsdb_row *src)
{
    struct ovsdb_row *row = row_alloc(src->table);
    const struct ovsdb_table_schema *ts = src->table->schema;
    unsigned int i;

    for (i = 0; i < ts->n_columns; i++) {
        ovsdb_datum_clone(&row->fields[i], &src->fields[i],
                          &ts->columns[i].type);
    }
    return row;
}

void
ovsdb_row_free(struct ovsdb_row *row)
{
    const struct ovsdb_table_schema *ts;
    unsigned int i;

    if (!row) {
        return;
    }
    ts = row->table->schema;
    for (i = 0; i < ts->n_columns; i++) {
        ovsdb_datum_destroy(&row->fields[i], &ts->columns[i].type);
    }
    free(row->index_nodes);
    free(row);
}

struct ovsdb_row *
ovsdb_table_get_row(const struct ovsdb_table *t, const struct uuid *uuid)
{
    struct hmap_node *node;

    for (node = hmap_bucket(&t->rows, uuid_hash(uuid)); node;
         node = node->next) {
        struct ovsdb_row *row = HMAP_CONTAINER(node, struct ovsdb_row, node);

        if (uuid_equals(ovsdb_row_uuid(row), uuid)) {
            return row;
        }
    }
    return NULL;
}

uint32_t
ovsdb_row_index_hash(const struct ovsdb_row *row, unsigned int i)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    const struct ovsdb_index_schema *ix = &ts->indexes[i];
    uint32_t h = 0;
    unsigned int k;

    for (k = 0; k < ix->n; k++) {
        unsigned int c = ix->columns[k];

        h = ovsdb_datum_hash(&row->fields[c], &ts->columns[c].type, h);
    }
    return h;
}

bool
ovsdb_row_index_equal(const struct ovsdb_row *a, const struct ovsdb_row *b,
                      unsigned int i)
{
    const struct ovsdb_table_schema *ts = a->table->schema;
    const struct ovsdb_index_schema *ix = &ts->indexes[i];
    unsigned int k;

    for (k = 0; k < ix->n; k++) {
        unsigned int c = ix->columns[k];

        if (!ovsdb_datum_equals(&a->fields[c], &b->fields[c],
                                &ts->columns[c].type)) {
            return false;
        }
    }
    return true;
}

struct ovsdb_row *
ovsdb_table_index_find(const struct ovsdb_table *t,
                       const struct ovsdb_row *row, unsigned int i)
{
    uint32_t h = ovsdb_row_index_hash(row, i);
    struct hmap_node *node;

    for (node = hmap_bucket(&t->indexes[i], h); node; node = node->next) {
        struct ovsdb_row *other;

        if (node->hash != h) {
            continue;
        }
        other = HMAP_CONTAINER(node, struct ovsdb_index_node, node)->row;
        if (ovsdb_row_index_equal(row, other, i)) {
            return other;
        }
    }
    return NULL;
}

void
ovsdb_table_insert_row(struct ovsdb_table *t, struct ovsdb_row *row)
{
    unsigned int i;

    hmap_insert(&t->rows, &row->node, uuid_hash(ovsdb_row_uuid(row)));
    for (i = 0; i < t->schema->n_indexes; i++) {
        row->index_nodes[i].row = row;
        hmap_insert(&t->indexes[i], &row->index_nodes[i].node,
                    ovsdb_row_index_hash(row, i));
    }
}

void
ovsdb_table_remove_row(struct ovsdb_table *t, struct ovsdb_row *row)
{
    unsigned int i;

    hmap_remove(&t->rows, &row->node);
    for (i = 0; i < t->schema->n_indexes; i++) {
        hmap_remove(&t->indexes[i], &row->index_nodes[i].node);
    }
}

json_t *
ovsdb_row_to_json(const struct ovsdb_row *row, const bool *cols)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    json_t *j = json_object();
    unsigned int i;

    for (i = cols ? 0 : OVSDB_N_IMPLICIT; i < ts->n_columns; i++) {
        if (!cols || cols[i]) {
            json_object_set_new(j, ts->columns[i].name,
                                ovsdb_datum_to_json(&row->fields[i],
                                                    &ts->columns[i].type));
        }
    }
    return j;
}

static void
for_each_in_base(const struct ovsdb_base_type *b, const union ovsdb_atom *a,
                 unsigned int n, bool weak, ovsdb_ref_cb *cb, void *aux)
{
    unsigned int i;

    if (b->type != OVSDB_T_UUID || !b->ref_table || b->ref_weak != weak) {
        return;
    }
    for (i = 0; i < n; i++) {
        cb(aux, b->ref_table, &a[i].u);
    }
}

void
ovsdb_row_for_each_ref(const struct ovsdb_row *row, bool weak,
                       ovsdb_ref_cb *cb, void *aux)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    unsigned int i;

    if (!(weak ? ts->has_weak_refs : ts->has_strong_refs)) {
        return;
    }
    for (i = OVSDB_N_IMPLICIT; i < ts->n_columns; i++) {
        const struct ovsdb_type *t = &ts->columns[i].type;
        const struct ovsdb_datum *d = &row->fields[i];

        for_each_in_base(&t->key, d->keys, d->n, weak, cb, aux);
        if (d->values) {
            for_each_in_base(&t->value, d->values, d->n, weak, cb, aux);
        }
    }
}

struct recount_ctx {
    struct ovsdb *db;
};

static void
recount_cb(void *aux, const struct ovsdb_table_schema *target,
           const struct uuid *uuid)
{
    struct recount_ctx *ctx = aux;
    struct ovsdb_table *table = &ctx->db->tables[target->index];
    struct ovsdb_row *row = ovsdb_table_get_row(table, uuid);

    if (row) {
        row->n_refs++;
    }
}

void
ovsdb_recount_refs(struct ovsdb *db)
{
    struct recount_ctx ctx = { db };
    unsigned int i;
    struct hmap_node *node;
    size_t pos;

    for (i = 0; i < db->schema->n_tables; i++) {
        HMAP_FOR_EACH_NODE (node, pos, &db->tables[i].rows) {
            HMAP_CONTAINER(node, struct ovsdb_row, node)->n_refs = 0;
        }
    }
    for (i = 0; i < db->schema->n_tables; i++) {
        HMAP_FOR_EACH_NODE (node, pos, &db->tables[i].rows) {
            ovsdb_row_for_each_ref(HMAP_CONTAINER(node, struct ovsdb_row,
                                                  node), false,
                                   recount_cb, &ctx);
        }
    }
}

size_t
ovsdb_n_rows(const struct ovsdb *db)
{
    size_t n = 0;
    unsigned int i;

    for (i = 0; i < db->schema->n_tables; i++) {
        n += db->tables[i].rows.n;
    }
    return n;
}
