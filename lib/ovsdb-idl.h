/* OVSDB client: an in-memory replica of chosen tables and columns of one
 * database on an OVSDB server (RFC 7047), kept current by a monitor, and
 * transactions to write back.
 *
 * The IDL connects to 'remote' ("unix:PATH" or "tcp:IP:PORT"), fetches the
 * schema (to learn which columns are sets and maps, whose changes arrive
 * as differences), sends "monitor_cond" — or "monitor" when the server
 * refuses it — and applies every "update2"/"update" notification to the
 * replica.  It answers the server's "echo" requests, probes an idle
 * server, and reconnects with a backoff of 1 to 8 seconds when the
 * connection drops; the replica keeps its last contents while
 * disconnected and is replaced by the server's snapshot on reconnection.
 *
 * Values are jansson json_t in the OVSDB wire form (RFC 7047 5.1): atoms
 * (string, integer, real, boolean, ["uuid", "…"]), a set as a bare atom
 * when it has one element and ["set", [atoms]] otherwise, a map as
 * ["map", [[key, value], …]].  Every monitored column of a row is present
 * (defaults are filled in for columns the server omits).
 *
 * Single-threaded: call ovsdb_idl_run() when ovsdb_idl_fd() is readable.
 * Row pointers and json_t pointers obtained from rows are valid until the
 * next ovsdb_idl_run() (or ovsdb_idl_wait()). */
#ifndef HVS_OVSDB_IDL_H
#define HVS_OVSDB_IDL_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What to replicate: one entry per table, ending with { NULL, NULL }.
 * 'columns' is NULL-terminated, or NULL for every column in the schema.
 * Tables and columns the server's schema lacks are skipped (logged). */
struct ovsdb_idl_table_spec {
    const char *name;
    const char *const *columns;
};

/* Owned by the caller; freed with ovsdb_idl_destroy(). */
struct ovsdb_idl;
/* Owned by the IDL. */
struct ovsdb_idl_row;

/* Starts connecting at once.  'remote' and 'db' ("Open_vSwitch") and the
 * specs are copied.  NULL only when out of memory or descriptors. */
struct ovsdb_idl *ovsdb_idl_create(const char *remote, const char *db,
                                   const struct ovsdb_idl_table_spec *);
/* Calls the callbacks of transactions still awaiting a reply with the
 * error "connection closed", then frees everything. */
void ovsdb_idl_destroy(struct ovsdb_idl *);

/* A descriptor that stays the same for the IDL's lifetime (connections
 * come and go behind it) and is readable whenever ovsdb_idl_run() has
 * something to do: input, writable output, a timer.  Add it to the
 * caller's epoll/poll set once, for reading. */
int ovsdb_idl_fd(const struct ovsdb_idl *);
/* Does all pending work without blocking. */
void ovsdb_idl_run(struct ovsdb_idl *);
/* Waits up to 'timeout_ms' for ovsdb_idl_fd() (-1: forever), then runs.
 * For programs without their own loop (the CLI, tests).  Returns true if
 * the descriptor became ready. */
bool ovsdb_idl_wait(struct ovsdb_idl *, int timeout_ms);

/* Connected, with the monitor in place. */
bool ovsdb_idl_is_connected(const struct ovsdb_idl *);
/* A snapshot has been received at least once (stays true while
 * reconnecting: the replica then holds the last known contents). */
bool ovsdb_idl_has_data(const struct ovsdb_idl *);
/* Increases whenever the replica changes. */
uint64_t ovsdb_idl_seqno(const struct ovsdb_idl *);
/* Increases whenever rows of 'table' change; 0 for an unknown table. */
uint64_t ovsdb_idl_table_seqno(const struct ovsdb_idl *, const char *table);
/* How many times a monitor was established (1 after the first snapshot,
 * 2 after the first reconnection...). */
unsigned int ovsdb_idl_n_sessions(const struct ovsdb_idl *);
/* "monitor_cond" or "monitor" once known, else NULL. */
const char *ovsdb_idl_monitor_method(const struct ovsdb_idl *);
/* Why the last connection failed or ended, "" if it did not. */
const char *ovsdb_idl_last_error(const struct ovsdb_idl *);

/* Sends an "echo" after 'ms' without input and reconnects when another
 * 'ms' pass in silence.  0 disables probing.  Default 5000. */
void ovsdb_idl_set_probe_interval(struct ovsdb_idl *, int ms);
/* Drops the connection and reconnects now (the backoff is reset). */
void ovsdb_idl_force_reconnect(struct ovsdb_idl *);

/* ---- Rows ---------------------------------------------------------------
 *
 * Iteration order is unspecified.  Lookups of unknown tables return
 * NULL/0. */
const struct ovsdb_idl_row *ovsdb_idl_first(const struct ovsdb_idl *,
                                            const char *table);
const struct ovsdb_idl_row *ovsdb_idl_next(const struct ovsdb_idl_row *);
#define OVSDB_IDL_FOR_EACH(ROW, IDL, TABLE)                           \
    for ((ROW) = ovsdb_idl_first(IDL, TABLE); (ROW);                  \
         (ROW) = ovsdb_idl_next(ROW))
size_t ovsdb_idl_count(const struct ovsdb_idl *, const char *table);
/* The row of 'table' whose UUID is 'uuid' (36 characters). */
const struct ovsdb_idl_row *ovsdb_idl_find(const struct ovsdb_idl *,
                                           const char *table,
                                           const char *uuid);

const char *ovsdb_idl_row_uuid(const struct ovsdb_idl_row *);
const char *ovsdb_idl_row_table(const struct ovsdb_idl_row *);
/* ovsdb_idl_seqno() when the row was last inserted or modified. */
uint64_t ovsdb_idl_row_seqno(const struct ovsdb_idl_row *);

/* The value of 'column' (borrowed), or NULL if it is not monitored. */
json_t *ovsdb_idl_row_get(const struct ovsdb_idl_row *, const char *column);

/* Typed reads of one column.  A column that is not monitored, empty (an
 * optional column without a value) or of another type gives NULL/false;
 * an optional column with a value reads like a plain one. */
const char *ovsdb_idl_get_string(const struct ovsdb_idl_row *,
                                 const char *column);
bool ovsdb_idl_get_integer(const struct ovsdb_idl_row *, const char *column,
                           int64_t *);
bool ovsdb_idl_get_bool(const struct ovsdb_idl_row *, const char *column,
                        bool *);
bool ovsdb_idl_get_real(const struct ovsdb_idl_row *, const char *column,
                        double *);
/* The UUID string of a reference column holding one row. */
const char *ovsdb_idl_get_uuid(const struct ovsdb_idl_row *,
                               const char *column);
/* The string value for string 'key' in a map column such as other_config,
 * options or external_ids. */
const char *ovsdb_idl_get_map(const struct ovsdb_idl_row *,
                              const char *column, const char *key);
/* The row of 'ref_table' that the 'i'th UUID of 'column' refers to. */
const struct ovsdb_idl_row *ovsdb_idl_get_ref(const struct ovsdb_idl *,
                                              const struct ovsdb_idl_row *,
                                              const char *column, size_t i,
                                              const char *ref_table);

/* ---- Values in wire form (also usable on any json_t) ------------------- */

/* Elements of a set or pairs of a map; 1 for a bare atom, 0 for NULL. */
size_t ovsdb_idl_datum_n(const json_t *datum);
/* The 'i'th element of a set (or key of a map); NULL when out of range. */
json_t *ovsdb_idl_datum_key(const json_t *datum, size_t i);
/* The 'i'th value of a map; NULL for sets and out of range. */
json_t *ovsdb_idl_datum_value(const json_t *datum, size_t i);
/* The string value of string key 'key' in a map datum, or NULL. */
const char *ovsdb_idl_datum_map_get(const json_t *datum, const char *key);

const char *ovsdb_idl_atom_string(const json_t *);
bool ovsdb_idl_atom_integer(const json_t *, int64_t *);
/* The UUID string of ["uuid", "…"], or NULL. */
const char *ovsdb_idl_atom_uuid(const json_t *);

/* Builders (new references); the _add functions steal their arguments and
 * return 0, or -EINVAL when 'set'/'map' is not one. */
json_t *ovsdb_idl_uuid(const char *uuid);          /* ["uuid", U] */
json_t *ovsdb_idl_named_uuid(const char *name);    /* ["named-uuid", N] */
json_t *ovsdb_idl_set_new(void);                   /* ["set", []] */
int ovsdb_idl_set_add(json_t *set, json_t *atom);
json_t *ovsdb_idl_map_new(void);                   /* ["map", []] */
int ovsdb_idl_map_add(json_t *map, json_t *key, json_t *value);

/* ---- Transactions -------------------------------------------------------
 *
 * A transaction is a list of RFC 7047 operations sent as one "transact".
 * It does not touch the replica: the server's update notification does
 * that when the transaction commits. */
struct ovsdb_idl_txn;

/* Called once per committed transaction: 'error' is NULL on success, or
 * a description ("constraint violation: …", "connection lost"); 'result'
 * is the server's result array (borrowed; NULL if none arrived). */
typedef void ovsdb_idl_txn_cb(void *aux, const char *error, json_t *result);

struct ovsdb_idl_txn *ovsdb_idl_txn_create(struct ovsdb_idl *);
/* Sets 'column' of row 'uuid' of 'table' to 'datum' (stolen).  Sets on
 * the same row share one "update" operation. */
void ovsdb_idl_txn_set(struct ovsdb_idl_txn *, const char *table,
                       const char *uuid, const char *column, json_t *datum);
/* Adds a "mutate" operation: 'mutator' is "+=", "-=", "insert",
 * "delete"...; 'value' is stolen. */
void ovsdb_idl_txn_mutate(struct ovsdb_idl_txn *, const char *table,
                          const char *uuid, const char *column,
                          const char *mutator, json_t *value);
/* Adds an "insert" of 'row' (an object of column: datum, stolen).
 * Returns the row's name for ["named-uuid", NAME] references in later
 * operations of this transaction (valid until commit or abort). */
const char *ovsdb_idl_txn_insert(struct ovsdb_idl_txn *, const char *table,
                                 json_t *row);
void ovsdb_idl_txn_delete(struct ovsdb_idl_txn *, const char *table,
                          const char *uuid);
/* Adds any operation object (stolen), e.g. a "wait" or "comment". */
void ovsdb_idl_txn_add_op(struct ovsdb_idl_txn *, json_t *op);
size_t ovsdb_idl_txn_n_ops(const struct ovsdb_idl_txn *);
/* The "transact" params so far: ["DB", op...] (borrowed). */
json_t *ovsdb_idl_txn_params(const struct ovsdb_idl_txn *);

/* Sends the transaction and gives it to the IDL, which calls 'cb' (may
 * be NULL) from ovsdb_idl_run() once the reply comes or the connection
 * drops.  Returns 0, or -ENOTCONN when not connected (also -ENOMEM), in
 * which case the transaction is freed and 'cb' is never called. */
int ovsdb_idl_txn_commit(struct ovsdb_idl_txn *, ovsdb_idl_txn_cb *cb,
                         void *aux);
/* Frees a transaction that was not committed. */
void ovsdb_idl_txn_abort(struct ovsdb_idl_txn *);

#endif /* HVS_OVSDB_IDL_H */
