/* "mutate" mutations (RFC 7047 section 5.1 <mutation>). */
#ifndef OVSDB_MUTATION_H
#define OVSDB_MUTATION_H 1

#include <jansson.h>

#include "datum.h"

struct ovsdb_row;
struct ovsdb_table_schema;
struct ovsdb_column;

enum ovsdb_mutator {
    OVSDB_M_ADD, OVSDB_M_SUB, OVSDB_M_MUL, OVSDB_M_DIV, OVSDB_M_MOD,
    OVSDB_M_INSERT, OVSDB_M_DELETE,
};

struct ovsdb_mutation {
    enum ovsdb_mutator mutator;
    const struct ovsdb_column *column;
    struct ovsdb_type type;         /* of 'arg' */
    struct ovsdb_datum arg;
};

struct ovsdb_mutation_set {
    struct ovsdb_mutation *m;
    unsigned int n;
};

struct ovsdb_error *ovsdb_mutation_set_from_json(
    struct ovsdb_mutation_set *, const struct ovsdb_table_schema *,
    json_t *, ovsdb_symbol_fn *, void *aux);
void ovsdb_mutation_set_destroy(struct ovsdb_mutation_set *);
/* Applies the mutations to 'row' (a private copy).  On error 'row' may be
 * partly changed: the caller discards it. */
struct ovsdb_error *ovsdb_mutation_set_execute(
    const struct ovsdb_mutation_set *, struct ovsdb_row *);

#endif /* OVSDB_MUTATION_H */
