/* Transactions on the in-memory database: a private view of changed rows
 * over the committed tables, and the commit that checks referential
 * integrity, collects garbage, enforces constraints and indexes, and then
 * applies the changes atomically.
 *
 * Rows returned by ovsdb_txn_* belong to the transaction or to the
 * database; callers never free them. */
#ifndef OVSDB_TRANSACTION_H
#define OVSDB_TRANSACTION_H 1

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

struct ovsdb_error;
struct ovsdb_txn;

/* One row changed by a committed transaction.  'old' is NULL for an
 * insert, 'new' NULL for a delete.  'changed' marks the columns that
 * differ (all columns for inserts and deletes). */
struct ovsdb_change {
    struct ovsdb_table *table;
    const struct ovsdb_row *old;
    const struct ovsdb_row *new;
    bool *changed;
};

struct ovsdb_txn *ovsdb_txn_create(struct ovsdb *);
/* Frees the transaction (and, after a commit, the replaced rows). */
void ovsdb_txn_destroy(struct ovsdb_txn *);

/* The row as this transaction sees it, or NULL. */
const struct ovsdb_row *ovsdb_txn_get_row(struct ovsdb_txn *,
                                          struct ovsdb_table *,
                                          const struct uuid *);
/* A new row with default values. */
struct ovsdb_row *ovsdb_txn_insert(struct ovsdb_txn *, struct ovsdb_table *,
                                   const struct uuid *);
/* A private, modifiable copy of 'row' (from ovsdb_txn_get_row() or a
 * scan). */
struct ovsdb_row *ovsdb_txn_modify(struct ovsdb_txn *,
                                   const struct ovsdb_row *);
void ovsdb_txn_delete(struct ovsdb_txn *, const struct ovsdb_row *);

/* Calls 'cb' for every row of 'table' in this transaction's view; 'cb'
 * may modify or delete the row it is given.  Stops when 'cb' returns
 * false. */
typedef bool ovsdb_txn_row_cb(void *aux, const struct ovsdb_row *);
void ovsdb_txn_for_each_row(struct ovsdb_txn *, struct ovsdb_table *,
                            ovsdb_txn_row_cb *, void *aux);

/* Checks and applies the transaction.  On success the changes are in
 * '*changes' (an array of '*n_changes', valid until ovsdb_txn_destroy()).
 * On error nothing changed. */
struct ovsdb_error *ovsdb_txn_commit(struct ovsdb_txn *,
                                     const struct ovsdb_change **changes,
                                     size_t *n_changes);

#endif /* OVSDB_TRANSACTION_H */
