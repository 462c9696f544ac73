/* The _Server database: one read-only "Database" row per database this
 * server holds, so clients learn the model and schema of each. */
#ifndef OVSDB_SERVER_DB_H
#define OVSDB_SERVER_DB_H 1

#include <stddef.h>

struct ovsdb;
struct ovsdb_change;
struct ovsdb_schema;
struct ovsdb_txn;

/* A new _Server database describing 'dbs' (and itself). */
struct ovsdb *ovsdb_server_db_create(struct ovsdb **dbs, unsigned int n);
/* Records that a database now has 'schema'.  Returns the committed
 * transaction, whose changes the caller publishes before destroying it,
 * or NULL if nothing changed. */
struct ovsdb_txn *ovsdb_server_db_set_schema(struct ovsdb *server_db,
                                             const struct ovsdb_schema *,
                                             const struct ovsdb_change **,
                                             size_t *n);

#endif /* OVSDB_SERVER_DB_H */
