/* The _Server database: one read-only "Database" row per database this
 * server holds, so clients learn the model and schema of each. */
#ifndef OVSDB_SERVER_DB_H
#define OVSDB_SERVER_DB_H 1

struct ovsdb;

/* A new _Server database describing 'dbs' (and itself). */
struct ovsdb *ovsdb_server_db_create(struct ovsdb **dbs, unsigned int n);

#endif /* OVSDB_SERVER_DB_H */
