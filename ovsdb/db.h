/* The in-memory database: tables of rows, and the unique indexes.
 * A 'struct ovsdb' owns its tables, rows and (if 'owns_schema') schema.
 * Rows are immutable once committed: a transaction replaces them. */
#ifndef OVSDB_DB_H
#define OVSDB_DB_H 1

#include <stddef.h>

#include "datum.h"
#include "hmap.h"
#include "schema.h"

struct ovsdb_index_node {
    struct hmap_node node;          /* in table->indexes[i] */
    struct ovsdb_row *row;
};

struct ovsdb_row {
    struct hmap_node node;          /* in table->rows, by uuid */
    struct ovsdb_table *table;
    size_t n_refs;                  /* strong references from other rows */
    struct ovsdb_index_node *index_nodes;   /* one per table index */
    struct ovsdb_datum fields[];    /* table->schema->n_columns */
};

struct ovsdb_table {
    const struct ovsdb_table_schema *schema;
    struct hmap rows;
    struct hmap *indexes;           /* schema->n_indexes maps */
};

struct ovsdb {
    struct ovsdb_schema *schema;
    struct ovsdb_table *tables;     /* schema->n_tables */
    bool read_only;                 /* _Server */
};

struct ovsdb *ovsdb_create(struct ovsdb_schema *);   /* takes the schema */
void ovsdb_destroy(struct ovsdb *);
struct ovsdb_table *ovsdb_find_table(struct ovsdb *, const char *name);

static inline const struct uuid *
ovsdb_row_uuid(const struct ovsdb_row *row)
{
    return &row->fields[OVSDB_COL_UUID].keys[0].u;
}

/* A new row with default values and the given uuid (not in any table). */
struct ovsdb_row *ovsdb_row_create(struct ovsdb_table *, const struct uuid *);
struct ovsdb_row *ovsdb_row_clone(const struct ovsdb_row *);
void ovsdb_row_free(struct ovsdb_row *);
struct ovsdb_row *ovsdb_table_get_row(const struct ovsdb_table *,
                                      const struct uuid *);
/* Adds or removes 'row' to/from the table and its indexes. */
void ovsdb_table_insert_row(struct ovsdb_table *, struct ovsdb_row *);
void ovsdb_table_remove_row(struct ovsdb_table *, struct ovsdb_row *);
/* Hash of a row's values in the columns of index 'i'. */
uint32_t ovsdb_row_index_hash(const struct ovsdb_row *, unsigned int i);
bool ovsdb_row_index_equal(const struct ovsdb_row *, const struct ovsdb_row *,
                           unsigned int i);
/* The committed row that has the same values as 'row' for index 'i', or
 * NULL. */
struct ovsdb_row *ovsdb_table_index_find(const struct ovsdb_table *,
                                         const struct ovsdb_row *,
                                         unsigned int i);

/* JSON of a row: the columns in 'cols' (all non-implicit columns if
 * NULL). */
json_t *ovsdb_row_to_json(const struct ovsdb_row *, const bool *cols);
/* Calls 'cb' for each uuid that 'row' refers to (strong or weak as asked)
 * with the referenced table. */
typedef void ovsdb_ref_cb(void *aux, const struct ovsdb_table_schema *target,
                          const struct uuid *);
void ovsdb_row_for_each_ref(const struct ovsdb_row *, bool weak,
                            ovsdb_ref_cb *, void *aux);
/* Recomputes every row's n_refs from scratch (after loading). */
void ovsdb_recount_refs(struct ovsdb *);
size_t ovsdb_n_rows(const struct ovsdb *);

#endif /* OVSDB_DB_H */
