/* Executing a "transact" request (RFC 7047 section 4.1.3 and 5.2): the
 * operations, their results, and the commit. */
#ifndef OVSDB_EXECUTE_H
#define OVSDB_EXECUTE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ovsdb;
struct ovsdb_txn;
struct ovsdb_change;

struct ovsdb_exec_in {
    struct ovsdb *db;
    json_t *params;                 /* the whole params array */
    /* Does the requesting session hold lock 'name'?  (for "assert") */
    bool (*has_lock)(void *aux, const char *name);
    void *aux;
    bool timed_out;                 /* unsatisfied waits fail now */
};

struct ovsdb_exec_out {
    json_t *result;                 /* the reply's result array, or NULL */
    bool pending;                   /* a wait blocks: retry later */
    long long wait_ms;              /* for 'pending': -1 if no timeout */
    bool durable;                   /* a "commit" asked for durability */
    char *comment;                  /* "comment" ops joined, or NULL */
    /* Set when something was committed: the caller logs and publishes
     * the changes and then destroys 'txn'. */
    struct ovsdb_txn *txn;
    const struct ovsdb_change *changes;
    size_t n_changes;
};

/* 'in->params' must be an array whose first element names 'in->db'. */
void ovsdb_execute(const struct ovsdb_exec_in *, struct ovsdb_exec_out *);
void ovsdb_exec_out_destroy(struct ovsdb_exec_out *);

#endif /* OVSDB_EXECUTE_H */
