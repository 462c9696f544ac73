/* Database schemas (RFC 7047 section 3.2): tables, columns, indexes.
 * Every table gets the implicit columns _uuid (index 0) and _version
 * (index 1) ahead of the schema's own columns. */
#ifndef OVSDB_SCHEMA_H
#define OVSDB_SCHEMA_H 1

#include <jansson.h>
#include <stdbool.h>

#include "datum.h"

struct ovsdb_error;

enum { OVSDB_COL_UUID = 0, OVSDB_COL_VERSION = 1, OVSDB_N_IMPLICIT = 2 };

struct ovsdb_column {
    char *name;
    struct ovsdb_type type;
    bool mutable_;
    bool ephemeral;
    unsigned int index;
};

struct ovsdb_index_schema {
    unsigned int n;
    unsigned int *columns;
};

struct ovsdb_table_schema {
    char *name;
    unsigned int index;             /* position in the schema */
    struct ovsdb_column *columns;
    unsigned int n_columns;
    bool is_root;
    unsigned int max_rows;          /* OVSDB_UNLIMITED if none */
    struct ovsdb_index_schema *indexes;
    unsigned int n_indexes;
    bool has_strong_refs;           /* some column refers strongly */
    bool has_weak_refs;             /* some column refers weakly */
    bool weak_target;               /* some column refers to us weakly */
};

/* Owned by whoever parsed it; tables never change after parsing. */
struct ovsdb_schema {
    char *name;
    char *version;
    char *cksum;                    /* may be NULL */
    struct ovsdb_table_schema *tables;
    unsigned int n_tables;
    json_t *json;                   /* the schema as given (a reference) */
};

struct ovsdb_error *ovsdb_schema_from_json(struct ovsdb_schema **, json_t *);
void ovsdb_schema_free(struct ovsdb_schema *);
const struct ovsdb_table_schema *
ovsdb_schema_find_table(const struct ovsdb_schema *, const char *name);
const struct ovsdb_column *
ovsdb_table_find_column(const struct ovsdb_table_schema *, const char *name);
/* Compares "x.y.z" version strings: <0, 0, >0. */
int ovsdb_version_compare(const char *a, const char *b);

#endif /* OVSDB_SCHEMA_H */
