/* "where" conditions (RFC 7047 section 5.1 <condition>) compiled against a
 * table schema, and the monitor_cond boolean literals true/false. */
#ifndef OVSDB_CONDITION_H
#define OVSDB_CONDITION_H 1

#include <jansson.h>
#include <stdbool.h>

#include "datum.h"

struct ovsdb_row;
struct ovsdb_table_schema;

enum ovsdb_function {
    OVSDB_F_LT, OVSDB_F_LE, OVSDB_F_EQ, OVSDB_F_NE, OVSDB_F_GE, OVSDB_F_GT,
    OVSDB_F_INCLUDES, OVSDB_F_EXCLUDES,
};

struct ovsdb_clause {
    enum ovsdb_function function;
    const struct ovsdb_column *column;
    struct ovsdb_type type;         /* of 'arg'; shares column strings */
    struct ovsdb_datum arg;
};

/* Owns its clauses. */
struct ovsdb_condition {
    struct ovsdb_clause *clauses;
    unsigned int n;
    bool always_false;              /* a literal false was given */
};

struct ovsdb_error *ovsdb_condition_from_json(
    struct ovsdb_condition *, const struct ovsdb_table_schema *, json_t *,
    ovsdb_symbol_fn *, void *aux);
void ovsdb_condition_destroy(struct ovsdb_condition *);
bool ovsdb_condition_eval(const struct ovsdb_condition *,
                          const struct ovsdb_row *);
/* The uuid if the condition is just [["_uuid", "==", UUID]] ... (a fast
 * path for lookups by uuid), else NULL. */
const struct uuid *ovsdb_condition_uuid(const struct ovsdb_condition *);
bool ovsdb_condition_is_true(const struct ovsdb_condition *);

#endif /* OVSDB_CONDITION_H */
