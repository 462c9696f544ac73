/* OVSDB client replica; see ovsdb-idl.h. */
#include "ovsdb-idl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "jsonrpc.h"
#include "log.h"

LOG_MODULE(ovsdb_idl);

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 8000
#define DEFAULT_PROBE_MS 5000
/* Messages handled per ovsdb_idl_run(), so that a flood of updates does
 * not starve the caller's other work; the rest wait for the next call. */
#define MAX_MSGS_PER_RUN 500
#define UUID_LEN 36

enum idl_state {
    S_BACKOFF,                  /* no connection; retry at 'reconnect_at' */
    S_SCHEMA,                   /* "get_schema" sent */
    S_MONITOR,                  /* "monitor_cond" or "monitor" sent */
    S_ACTIVE,                   /* replica is live */
};

/* How a column's changes arrive in update2 "modify" (RFC 7047 does not
 * define update2; Open vSwitch's ovsdb-server sends sets and maps as
 * differences and everything else as the new value). */
enum col_kind { COL_SCALAR, COL_SET, COL_MAP };

struct idl_column {
    char *name;
    enum col_kind kind;
    bool max_one;               /* a set or map of at most one element */
    json_t *dflt;               /* the value of a column the server omits */
};

struct idl_table {
    char *name;
    char **want;                /* requested columns, NULL: all */
    size_t n_want;
    struct idl_column *cols;    /* monitored columns, from the schema */
    size_t n_cols;
    bool monitored;
    struct ovsdb_idl_row **buckets;
    size_t n_buckets, n_rows;
    struct ovsdb_idl_row *head; /* all rows, for iteration */
    uint64_t seqno;
};

struct ovsdb_idl_row {
    struct ovsdb_idl_row *hnext;        /* bucket chain */
    struct ovsdb_idl_row *prev, *next;  /* table list */
    struct idl_table *table;
    json_t *cols;                       /* object: column -> datum */
    uint64_t seqno;
    char uuid[UUID_LEN + 1];
};

struct ovsdb_idl_txn {
    struct ovsdb_idl *idl;
    json_t *params;             /* ["DB", op...] */
    unsigned int n_inserts;
    char name[32];              /* last named-uuid handed out */
    json_int_t id;              /* once committed */
    ovsdb_idl_txn_cb *cb;
    void *aux;
    struct ovsdb_idl_txn *next; /* in idl->pending */
};

struct ovsdb_idl {
    char *remote, *db;
    struct idl_table *tables;
    size_t n_tables;

    int epfd, timerfd;
    struct jsonrpc *rpc;
    int rpc_fd;                 /* registered in epfd, or -1 */
    uint32_t rpc_events;
    enum idl_state state;
    int backoff_ms;
    uint64_t reconnect_at;      /* CLOCK_MONOTONIC ms */
    bool more;                  /* work left for the next run */

    json_int_t next_id;
    json_int_t schema_id, monitor_id, probe_id;
    bool use_cond;              /* the monitor request is monitor_cond */
    const char *method;         /* once the monitor is in place */

    int probe_ms;
    uint64_t last_rx;
    uint64_t probe_sent_at;     /* 0: no probe outstanding */

    bool has_data;
    uint64_t seqno;
    unsigned int n_sessions;
    char last_error[160];

    struct ovsdb_idl_txn *pending;
};

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Values ------------------------------------------------------------ */

static bool
is_tagged(const json_t *j, const char *tag)
{
    return json_is_array(j) && json_array_size(j) == 2
           && json_is_string(json_array_get(j, 0))
           && !strcmp(json_string_value(json_array_get(j, 0)), tag);
}

static bool
is_set(const json_t *j)
{
    return is_tagged(j, "set") && json_is_array(json_array_get(j, 1));
}

static bool
is_map(const json_t *j)
{
    return is_tagged(j, "map") && json_is_array(json_array_get(j, 1));
}

size_t
ovsdb_idl_datum_n(const json_t *datum)
{
    if (!datum) {
        return 0;
    }
    if (is_set(datum) || is_map(datum)) {
        return json_array_size(json_array_get(datum, 1));
    }
    return 1;
}

json_t *
ovsdb_idl_datum_key(const json_t *datum, size_t i)
{
    if (!datum) {
        return NULL;
    }
    if (is_set(datum)) {
        return json_array_get(json_array_get(datum, 1), i);
    }
    if (is_map(datum)) {
        json_t *pair = json_array_get(json_array_get(datum, 1), i);
        return json_is_array(pair) ? json_array_get(pair, 0) : NULL;
    }
    return i == 0 ? (json_t *) datum : NULL;
}

json_t *
ovsdb_idl_datum_value(const json_t *datum, size_t i)
{
    if (is_map(datum)) {
        json_t *pair = json_array_get(json_array_get(datum, 1), i);
        return json_is_array(pair) ? json_array_get(pair, 1) : NULL;
    }
    return NULL;
}

const char *
ovsdb_idl_datum_map_get(const json_t *datum, const char *key)
{
    size_t i, n = is_map(datum) ? ovsdb_idl_datum_n(datum) : 0;

    for (i = 0; i < n; i++) {
        const char *k = ovsdb_idl_atom_string(ovsdb_idl_datum_key(datum, i));

        if (k && !strcmp(k, key)) {
            return ovsdb_idl_atom_string(ovsdb_idl_datum_value(datum, i));
        }
    }
    return NULL;
}

const char *
ovsdb_idl_atom_string(const json_t *atom)
{
    return json_is_string(atom) ? json_string_value(atom) : NULL;
}

bool
ovsdb_idl_atom_integer(const json_t *atom, int64_t *valuep)
{
    if (json_is_integer(atom)) {
        *valuep = json_integer_value(atom);
        return true;
    }
    return false;
}

const char *
ovsdb_idl_atom_uuid(const json_t *atom)
{
    return is_tagged(atom, "uuid")
           ? json_string_value(json_array_get(atom, 1)) : NULL;
}

json_t *
ovsdb_idl_uuid(const char *uuid)
{
    return json_pack("[s, s]", "uuid", uuid);
}

json_t *
ovsdb_idl_named_uuid(const char *name)
{
    return json_pack("[s, s]", "named-uuid", name);
}

json_t *
ovsdb_idl_set_new(void)
{
    return json_pack("[s, []]", "set");
}

int
ovsdb_idl_set_add(json_t *set, json_t *atom)
{
    if (!is_set(set)) {
        json_decref(atom);
        return -EINVAL;
    }
    return json_array_append_new(json_array_get(set, 1), atom) ? -ENOMEM
                                                               : 0;
}

json_t *
ovsdb_idl_map_new(void)
{
    return json_pack("[s, []]", "map");
}

int
ovsdb_idl_map_add(json_t *map, json_t *key, json_t *value)
{
    if (!is_map(map)) {
        json_decref(key);
        json_decref(value);
        return -EINVAL;
    }
    return json_array_append_new(json_array_get(map, 1),
                                 json_pack("[o, o]", key, value))
           ? -ENOMEM : 0;
}

/* The elements of a set datum as a new array (a bare atom is a set of
 * one). */
static json_t *
set_elements(const json_t *datum)
{
    if (is_set(datum)) {
        return json_copy(json_array_get(datum, 1));
    }
    return json_pack("[O]", datum);
}

/* The canonical wire form of a set with elements 'elems' (stolen). */
static json_t *
set_from_elements(json_t *elems)
{
    if (json_array_size(elems) == 1) {
        json_t *atom = json_incref(json_array_get(elems, 0));

        json_decref(elems);
        return atom;
    }
    return json_pack("[s, o]", "set", elems);
}

static ssize_t
array_find(const json_t *array, const json_t *x)
{
    size_t i;

    for (i = 0; i < json_array_size(array); i++) {
        if (json_equal(json_array_get(array, i), (json_t *) x)) {
            return i;
        }
    }
    return -1;
}

/* update2 "modify" of a set: each element of 'diff' is added when absent
 * and removed when present. */
static json_t *
apply_set_diff(const json_t *old, const json_t *diff)
{
    json_t *elems = set_elements(old);
    json_t *changes = set_elements(diff);
    size_t i;

    for (i = 0; i < json_array_size(changes); i++) {
        json_t *e = json_array_get(changes, i);
        ssize_t at = array_find(elems, e);

        if (at >= 0) {
            json_array_remove(elems, at);
        } else {
            json_array_append(elems, e);
        }
    }
    json_decref(changes);
    return set_from_elements(elems);
}

/* update2 "modify" of a map: a pair whose key is absent is added, one
 * that matches an existing pair removes it, one with a known key and
 * another value replaces that value. */
static json_t *
apply_map_diff(const json_t *old, const json_t *diff)
{
    json_t *pairs = is_map(old) ? json_copy(json_array_get(old, 1))
                                : json_array();
    json_t *changes = json_array_get(diff, 1);
    size_t i, j;

    for (i = 0; i < json_array_size(changes); i++) {
        json_t *pair = json_array_get(changes, i);
        json_t *key = json_array_get(pair, 0);
        json_t *value = json_array_get(pair, 1);

        if (!key || !value) {
            continue;
        }
        for (j = 0; j < json_array_size(pairs); j++) {
            json_t *p = json_array_get(pairs, j);

            if (json_equal(json_array_get(p, 0), key)) {
                break;
            }
        }
        if (j == json_array_size(pairs)) {
            json_array_append(pairs, pair);
        } else if (json_equal(json_array_get(json_array_get(pairs, j), 1),
                              value)) {
            json_array_remove(pairs, j);
        } else {
            json_array_set(pairs, j, pair);
        }
    }
    return json_pack("[s, o]", "map", pairs);
}

/* ---- Schema ------------------------------------------------------------ */

static json_t *
atomic_default(const char *type)
{
    if (!strcmp(type, "integer")) {
        return json_integer(0);
    } else if (!strcmp(type, "real")) {
        return json_real(0.0);
    } else if (!strcmp(type, "boolean")) {
        return json_false();
    } else if (!strcmp(type, "uuid")) {
        return ovsdb_idl_uuid("00000000-0000-0000-0000-000000000000");
    }
    return json_string("");
}

/* Reads a column's "type" (RFC 7047 3.2) into 'col'. */
static void
parse_column_type(const json_t *type, struct idl_column *col)
{
    const json_t *key = type, *value = NULL, *min = NULL, *max = NULL;
    const char *key_type;

    if (json_is_object(type)) {
        key = json_object_get(type, "key");
        value = json_object_get(type, "value");
        min = json_object_get(type, "min");
        max = json_object_get(type, "max");
    }
    if (json_is_object(key)) {
        key = json_object_get(key, "type");
    }
    key_type = json_is_string(key) ? json_string_value(key) : "string";

    if (value) {
        col->kind = COL_MAP;
        col->dflt = ovsdb_idl_map_new();
    } else if ((!min || json_integer_value(min) == 1)
               && (!max || (json_is_integer(max)
                            && json_integer_value(max) == 1))) {
        col->kind = COL_SCALAR;
        col->dflt = atomic_default(key_type);
    } else {
        col->kind = COL_SET;
        col->dflt = ovsdb_idl_set_new();
    }
    /* "max" defaults to 1 (RFC 7047 3.2): an optional value is
     * {"min": 0} alone. */
    col->max_one = col->kind != COL_SCALAR
                   && (!max || (json_is_integer(max)
                                && json_integer_value(max) == 1));
}

static void
table_clear_columns(struct idl_table *t)
{
    size_t i;

    for (i = 0; i < t->n_cols; i++) {
        free(t->cols[i].name);
        json_decref(t->cols[i].dflt);
    }
    free(t->cols);
    t->cols = NULL;
    t->n_cols = 0;
    t->monitored = false;
}

static bool
table_wants(const struct idl_table *t, const char *column)
{
    size_t i;

    if (!t->want) {
        return column[0] != '_';
    }
    for (i = 0; i < t->n_want; i++) {
        if (!strcmp(t->want[i], column)) {
            return true;
        }
    }
    return false;
}

static void
table_load_schema(struct ovsdb_idl *idl, struct idl_table *t,
                  const json_t *tschema)
{
    const json_t *columns = json_object_get(tschema, "columns");
    const char *name;
    json_t *cschema;
    size_t i;

    table_clear_columns(t);
    if (!json_is_object(columns)) {
        LOG_WARN("%s: database %s has no table %s", idl->remote, idl->db,
                 t->name);
        return;
    }
    t->cols = calloc(json_object_size(columns), sizeof *t->cols);
    if (!t->cols) {
        return;
    }
    json_object_foreach ((json_t *) columns, name, cschema) {
        if (table_wants(t, name)) {
            struct idl_column *c = &t->cols[t->n_cols];

            c->name = strdup(name);
            if (!c->name) {
                continue;
            }
            parse_column_type(json_object_get(cschema, "type"), c);
            t->n_cols++;
        }
    }
    for (i = 0; i < t->n_want; i++) {
        if (!json_object_get(columns, t->want[i])) {
            LOG_WARN("%s: table %s has no column %s", idl->remote,
                     t->name, t->want[i]);
        }
    }
    t->monitored = t->n_cols > 0;
}

static const struct idl_column *
table_column(const struct idl_table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->n_cols; i++) {
        if (!strcmp(t->cols[i].name, name)) {
            return &t->cols[i];
        }
    }
    return NULL;
}

/* ---- Replica ----------------------------------------------------------- */

static struct idl_table *
find_table(const struct ovsdb_idl *idl, const char *name)
{
    size_t i;

    for (i = 0; name && i < idl->n_tables; i++) {
        if (!strcmp(idl->tables[i].name, name)) {
            return &idl->tables[i];
        }
    }
    return NULL;
}

static size_t
bucket_of(const struct idl_table *t, const char *uuid)
{
    return hash_bytes(uuid, UUID_LEN, 0) & (t->n_buckets - 1);
}

static struct ovsdb_idl_row *
row_find(const struct idl_table *t, const char *uuid)
{
    struct ovsdb_idl_row *row;

    if (!t->n_buckets || strlen(uuid) != UUID_LEN) {
        return NULL;
    }
    for (row = t->buckets[bucket_of(t, uuid)]; row; row = row->hnext) {
        if (!memcmp(row->uuid, uuid, UUID_LEN)) {
            return row;
        }
    }
    return NULL;
}

static bool
table_grow(struct idl_table *t)
{
    size_t n = t->n_buckets ? t->n_buckets * 2 : 64;
    struct ovsdb_idl_row **b = calloc(n, sizeof *b), *row;
    size_t i;

    if (!b) {
        return false;
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
    for (row = t->head; row; row = row->next) {
        i = bucket_of(t, row->uuid);
        row->hnext = b[i];
        b[i] = row;
    }
    return true;
}

static struct ovsdb_idl_row *
row_create(struct idl_table *t, const char *uuid)
{
    struct ovsdb_idl_row *row;
    size_t i;

    if (t->n_rows >= t->n_buckets && !table_grow(t)) {
        return NULL;
    }
    row = calloc(1, sizeof *row);
    if (!row || !(row->cols = json_object())) {
        free(row);
        return NULL;
    }
    memcpy(row->uuid, uuid, UUID_LEN);
    row->table = t;
    for (i = 0; i < t->n_cols; i++) {
        json_object_set(row->cols, t->cols[i].name, t->cols[i].dflt);
    }
    i = bucket_of(t, uuid);
    row->hnext = t->buckets[i];
    t->buckets[i] = row;
    row->next = t->head;
    if (t->head) {
        t->head->prev = row;
    }
    t->head = row;
    t->n_rows++;
    return row;
}

static void
row_destroy(struct idl_table *t, struct ovsdb_idl_row *row)
{
    struct ovsdb_idl_row **p = &t->buckets[bucket_of(t, row->uuid)];

    while (*p != row) {
        p = &(*p)->hnext;
    }
    *p = row->hnext;
    if (row->prev) {
        row->prev->next = row->next;
    } else {
        t->head = row->next;
    }
    if (row->next) {
        row->next->prev = row->prev;
    }
    t->n_rows--;
    json_decref(row->cols);
    free(row);
}

static void
table_clear_rows(struct idl_table *t)
{
    while (t->head) {
        row_destroy(t, t->head);
    }
}

/* Copies the columns of 'values' that we monitor into 'row'. */
static void
row_set_columns(struct ovsdb_idl_row *row, const json_t *values)
{
    const char *name;
    json_t *value;

    json_object_foreach ((json_t *) values, name, value) {
        if (table_column(row->table, name)) {
            json_object_set(row->cols, name, value);
        }
    }
}

static void
row_apply_diff(struct ovsdb_idl_row *row, const json_t *diff)
{
    const char *name;
    json_t *value;

    json_object_foreach ((json_t *) diff, name, value) {
        const struct idl_column *c = table_column(row->table, name);
        json_t *old = json_object_get(row->cols, name);

        if (!c) {
            continue;
        }
        json_t *new = c->kind == COL_SET ? apply_set_diff(old, value)
                    : c->kind == COL_MAP && is_map(value)
                    ? apply_map_diff(old, value) : NULL;

        /* A column of at most one element (an optional tag, fail_mode)
         * changed from one value to another: hvs-ovsdb sends both, as a
         * difference, but Open vSwitch's ovsdb-server sends only the
         * new one, which as a difference would make a set of two. */
        if (new && c->max_one && ovsdb_idl_datum_n(new) > 1) {
            json_decref(new);
            new = NULL;
        }
        if (new) {
            json_object_set_new(row->cols, name, new);
        } else {
            json_object_set(row->cols, name, value);
        }
    }
}

/* Applies one row's update; 'v2' selects update2's form.  Returns true if
 * the replica changed. */
static bool
apply_row_update(struct ovsdb_idl *idl, struct idl_table *t,
                 const char *uuid, const json_t *ru, bool v2)
{
    struct ovsdb_idl_row *row = row_find(t, uuid);
    const json_t *new, *diff = NULL;

    if (strlen(uuid) != UUID_LEN || !json_is_object(ru)) {
        LOG_WARN("%s: bad row update in table %s", idl->remote, t->name);
        return false;
    }
    if (v2) {
        new = json_object_get(ru, "initial");
        if (!new) {
            new = json_object_get(ru, "insert");
        }
        diff = json_object_get(ru, "modify");
        if (!new && !diff && !json_object_get(ru, "delete")) {
            LOG_WARN("%s: bad row update in table %s", idl->remote,
                     t->name);
            return false;
        }
    } else {
        new = json_object_get(ru, "new");
    }

    if (!new && !diff) {
        if (!row) {
            LOG_WARN("%s: delete of unknown row %s in table %s",
                     idl->remote, uuid, t->name);
            return false;
        }
        row_destroy(t, row);
        return true;
    }
    if (diff && !row) {
        LOG_WARN("%s: modify of unknown row %s in table %s", idl->remote,
                 uuid, t->name);
        return false;
    }
    if (!row) {
        row = row_create(t, uuid);
        if (!row) {
            LOG_ERR("out of memory for a row of %s", t->name);
            return false;
        }
    }
    if (json_is_object(new)) {
        row_set_columns(row, new);
    } else if (json_is_object(diff)) {
        row_apply_diff(row, diff);
    }
    row->seqno = idl->seqno + 1;
    return true;
}

/* Applies table-updates (v1) or table-updates2 (v2), marking what changes
 * with the next sequence number.  Returns true if anything changed; the
 * caller then advances idl->seqno. */
static bool
apply_updates(struct ovsdb_idl *idl, const json_t *updates, bool v2)
{
    const char *tname, *uuid;
    json_t *tu, *ru;
    bool changed = false;

    if (!json_is_object(updates)) {
        LOG_WARN("%s: table updates are not an object", idl->remote);
        return false;
    }
    json_object_foreach ((json_t *) updates, tname, tu) {
        struct idl_table *t = find_table(idl, tname);
        bool tchanged = false;

        if (!t || !t->monitored || !json_is_object(tu)) {
            continue;
        }
        json_object_foreach (tu, uuid, ru) {
            tchanged |= apply_row_update(idl, t, uuid, ru, v2);
        }
        if (tchanged) {
            t->seqno = idl->seqno + 1;
            changed = true;
        }
    }
    return changed;
}

/* ---- Connection -------------------------------------------------------- */

static void
set_last_error(struct ovsdb_idl *idl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_last_error(struct ovsdb_idl *idl, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(idl->last_error, sizeof idl->last_error, fmt, args);
    va_end(args);
}

static void
finish_txn(struct ovsdb_idl_txn *txn, const char *error, json_t *result)
{
    if (txn->cb) {
        txn->cb(txn->aux, error, result);
    }
    json_decref(txn->params);
    free(txn);
}

static void
fail_pending(struct ovsdb_idl *idl, const char *error)
{
    while (idl->pending) {
        struct ovsdb_idl_txn *txn = idl->pending;

        idl->pending = txn->next;
        finish_txn(txn, error, NULL);
    }
}

static void
close_rpc(struct ovsdb_idl *idl)
{
    if (idl->rpc) {
        if (idl->rpc_fd >= 0) {
            epoll_ctl(idl->epfd, EPOLL_CTL_DEL, idl->rpc_fd, NULL);
        }
        jsonrpc_destroy(idl->rpc);
        idl->rpc = NULL;
        idl->rpc_fd = -1;
        idl->rpc_events = 0;
    }
}

/* Drops the connection and schedules the next attempt. */
static void
disconnect(struct ovsdb_idl *idl)
{
    uint64_t now = now_ms();

    if (idl->state == S_ACTIVE) {
        LOG_INFO("%s: connection dropped (%s)", idl->remote,
                 idl->last_error);
    }
    close_rpc(idl);
    fail_pending(idl, "connection lost");
    idl->state = S_BACKOFF;
    idl->method = NULL;
    idl->reconnect_at = now + idl->backoff_ms;
    idl->backoff_ms = idl->backoff_ms ? idl->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (idl->backoff_ms > BACKOFF_MAX_MS) {
        idl->backoff_ms = BACKOFF_MAX_MS;
    }
}

static json_int_t
send_request(struct ovsdb_idl *idl, const char *method, json_t *params)
{
    json_int_t id = idl->next_id++;

    jsonrpc_send(idl->rpc, jsonrpc_msg_request(method, params,
                                               json_integer(id)));
    return id;
}

static void
try_connect(struct ovsdb_idl *idl)
{
    int error;

    idl->rpc = jsonrpc_open(idl->remote, &error);
    if (!idl->rpc) {
        set_last_error(idl, "%s", strerror(-error));
        LOG_DBG("%s: connection attempt failed (%s)", idl->remote,
                strerror(-error));
        disconnect(idl);
        return;
    }
    idl->last_rx = now_ms();
    idl->probe_sent_at = 0;
    idl->state = S_SCHEMA;
    idl->schema_id = send_request(idl, "get_schema",
                                  json_pack("[s]", idl->db));
}

static void
send_monitor(struct ovsdb_idl *idl)
{
    json_t *requests = json_object();
    size_t i, j;

    for (i = 0; i < idl->n_tables; i++) {
        struct idl_table *t = &idl->tables[i];
        json_t *cols;

        if (!t->monitored) {
            continue;
        }
        cols = json_array();
        for (j = 0; j < t->n_cols; j++) {
            json_array_append_new(cols, json_string(t->cols[j].name));
        }
        json_object_set_new(requests, t->name,
                            json_pack("[{s:o}]", "columns", cols));
    }
    idl->state = S_MONITOR;
    idl->monitor_id = send_request(idl,
                                   idl->use_cond ? "monitor_cond"
                                                 : "monitor",
                                   json_pack("[s, s, o]", idl->db, idl->db,
                                             requests));
}

static void
handle_schema(struct ovsdb_idl *idl, const struct jsonrpc_msg_view *v)
{
    const json_t *tables;
    size_t i;

    if (v->type == JSONRPC_MSG_ERROR) {
        char *s = json_dumps(v->error, JSON_COMPACT | JSON_ENCODE_ANY);

        set_last_error(idl, "get_schema %s: %s", idl->db, s ? s : "?");
        LOG_WARN("%s: %s", idl->remote, idl->last_error);
        free(s);
        disconnect(idl);
        return;
    }
    tables = json_object_get(v->result, "tables");
    if (!json_is_object(tables)) {
        set_last_error(idl, "schema of %s has no tables", idl->db);
        LOG_WARN("%s: %s", idl->remote, idl->last_error);
        disconnect(idl);
        return;
    }
    for (i = 0; i < idl->n_tables; i++) {
        table_load_schema(idl, &idl->tables[i],
                          json_object_get(tables, idl->tables[i].name));
    }
    idl->use_cond = true;
    send_monitor(idl);
}

static void
handle_monitor(struct ovsdb_idl *idl, const struct jsonrpc_msg_view *v)
{
    size_t i;

    if (v->type == JSONRPC_MSG_ERROR) {
        char *s = json_dumps(v->error, JSON_COMPACT | JSON_ENCODE_ANY);

        if (idl->use_cond) {
            /* An older or simpler server: "unknown method".  Whatever
             * the reason, the plain monitor is worth a try. */
            LOG_DBG("%s: monitor_cond refused (%s), using monitor",
                    idl->remote, s ? s : "?");
            free(s);
            idl->use_cond = false;
            send_monitor(idl);
            return;
        }
        set_last_error(idl, "monitor refused: %s", s ? s : "?");
        LOG_WARN("%s: %s", idl->remote, idl->last_error);
        free(s);
        disconnect(idl);
        return;
    }

    /* The reply is a full snapshot: replace the replica in one step so
     * that the caller never sees it empty. */
    for (i = 0; i < idl->n_tables; i++) {
        table_clear_rows(&idl->tables[i]);
    }
    apply_updates(idl, v->result, idl->use_cond);
    idl->seqno++;
    for (i = 0; i < idl->n_tables; i++) {
        idl->tables[i].seqno = idl->seqno;
    }
    idl->state = S_ACTIVE;
    idl->method = idl->use_cond ? "monitor_cond" : "monitor";
    idl->has_data = true;
    idl->n_sessions++;
    idl->backoff_ms = 0;
    idl->last_error[0] = '\0';
    LOG_INFO("%s: connected, replicating %s (%s)", idl->remote, idl->db,
             idl->method);
}

static void
handle_txn_reply(struct ovsdb_idl *idl, struct ovsdb_idl_txn **p,
                 const struct jsonrpc_msg_view *v)
{
    struct ovsdb_idl_txn *txn = *p;
    char buf[512];
    const char *error = NULL;
    size_t i;

    *p = txn->next;
    if (v->type == JSONRPC_MSG_ERROR) {
        char *s = json_dumps(v->error, JSON_COMPACT | JSON_ENCODE_ANY);

        snprintf(buf, sizeof buf, "transaction refused: %s", s ? s : "?");
        free(s);
        error = buf;
    } else if (!json_is_array(v->result)) {
        error = "transaction reply is not an array";
    } else {
        for (i = 0; i < json_array_size(v->result); i++) {
            json_t *r = json_array_get(v->result, i);
            const char *e = json_string_value(json_object_get(r, "error"));
            const char *d = json_string_value(json_object_get(r,
                                                              "details"));

            if (e) {
                snprintf(buf, sizeof buf, "%s%s%s", e, d ? ": " : "",
                         d ? d : "");
                error = buf;
                break;
            }
        }
    }
    (void) idl;
    finish_txn(txn, error, v->type == JSONRPC_MSG_REPLY ? v->result : NULL);
}

static bool
id_is(const json_t *id, json_int_t want)
{
    return json_is_integer(id) && json_integer_value(id) == want;
}

static void
handle_response(struct ovsdb_idl *idl, const struct jsonrpc_msg_view *v)
{
    struct ovsdb_idl_txn **p;

    if (idl->state == S_SCHEMA && id_is(v->id, idl->schema_id)) {
        handle_schema(idl, v);
        return;
    }
    if (idl->state == S_MONITOR && id_is(v->id, idl->monitor_id)) {
        handle_monitor(idl, v);
        return;
    }
    if (id_is(v->id, idl->probe_id)) {
        return;
    }
    for (p = &idl->pending; *p; p = &(*p)->next) {
        if (id_is(v->id, (*p)->id)) {
            handle_txn_reply(idl, p, v);
            return;
        }
    }
    LOG_DBG("%s: response to unknown request", idl->remote);
}

static void
handle_notify(struct ovsdb_idl *idl, const struct jsonrpc_msg_view *v)
{
    bool v2 = !strcmp(v->method, "update2");

    if (v2 || !strcmp(v->method, "update")) {
        json_t *monid = json_array_get(v->params, 0);

        if (idl->state != S_ACTIVE || !json_is_string(monid)
            || strcmp(json_string_value(monid), idl->db)) {
            return;
        }
        if (apply_updates(idl, json_array_get(v->params, 1), v2)) {
            idl->seqno++;
        }
    } else if (!strcmp(v->method, "monitor_canceled")) {
        /* The database went away or was converted: start over. */
        set_last_error(idl, "monitor canceled by server");
        idl->backoff_ms = 0;
        disconnect(idl);
    }
}

static void
handle_msg(struct ovsdb_idl *idl, json_t *msg)
{
    struct jsonrpc_msg_view v;

    switch (jsonrpc_msg_parse(msg, &v)) {
    case JSONRPC_MSG_REQUEST:
        if (!strcmp(v.method, "echo")) {
            jsonrpc_send(idl->rpc, jsonrpc_msg_reply(json_incref(v.params),
                                                     json_incref(v.id)));
        } else {
            jsonrpc_send(idl->rpc,
                         jsonrpc_msg_error(json_string("unknown method"),
                                           json_incref(v.id)));
        }
        break;
    case JSONRPC_MSG_NOTIFY:
        handle_notify(idl, &v);
        break;
    case JSONRPC_MSG_REPLY:
    case JSONRPC_MSG_ERROR:
        handle_response(idl, &v);
        break;
    case JSONRPC_MSG_INVALID:
        LOG_WARN("%s: received a message that is not JSON-RPC",
                 idl->remote);
        break;
    }
}

static void
update_poll(struct ovsdb_idl *idl)
{
    struct epoll_event ev = { 0 };
    uint64_t deadline = 0;
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };

    if (idl->rpc) {
        short pe = jsonrpc_poll_events(idl->rpc);
        uint32_t events = EPOLLIN | (pe & POLLOUT ? EPOLLOUT : 0);
        int fd = jsonrpc_fd(idl->rpc);

        if (idl->rpc_fd != fd || idl->rpc_events != events) {
            ev.events = events;
            ev.data.fd = fd;
            if (epoll_ctl(idl->epfd, idl->rpc_fd == fd ? EPOLL_CTL_MOD
                                                       : EPOLL_CTL_ADD,
                          fd, &ev) == 0) {
                idl->rpc_fd = fd;
                idl->rpc_events = events;
            }
        }
        if (idl->probe_ms > 0) {
            deadline = idl->probe_sent_at
                       ? idl->probe_sent_at + idl->probe_ms
                       : idl->last_rx + idl->probe_ms;
        }
    } else if (idl->state == S_BACKOFF) {
        deadline = idl->reconnect_at;
    }
    if (idl->more) {
        deadline = 1;           /* fire at once */
    }
    if (deadline) {
        its.it_value.tv_sec = deadline / 1000;
        its.it_value.tv_nsec = (deadline % 1000) * 1000000;
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec) {
            its.it_value.tv_nsec = 1;
        }
    }
    timerfd_settime(idl->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void
check_probe(struct ovsdb_idl *idl, uint64_t now)
{
    if (!idl->rpc || idl->probe_ms <= 0) {
        return;
    }
    if (idl->probe_sent_at) {
        if (now >= idl->probe_sent_at + idl->probe_ms) {
            set_last_error(idl, "no response to inactivity probe after "
                           "%d ms", 2 * idl->probe_ms);
            LOG_WARN("%s: %s", idl->remote, idl->last_error);
            disconnect(idl);
        }
    } else if (now >= idl->last_rx + idl->probe_ms) {
        idl->probe_id = send_request(idl, "echo", json_array());
        idl->probe_sent_at = now;
    }
}

void
ovsdb_idl_run(struct ovsdb_idl *idl)
{
    uint64_t expirations;
    int n, error;

    if (read(idl->timerfd, &expirations, sizeof expirations) < 0) {
        /* Nothing expired: EAGAIN. */
    }
    idl->more = false;
    if (idl->state == S_BACKOFF && now_ms() >= idl->reconnect_at) {
        try_connect(idl);
    }
    for (n = 0; idl->rpc && n < MAX_MSGS_PER_RUN; n++) {
        json_t *msg;
        int r = jsonrpc_recv(idl->rpc, &msg);

        if (r <= 0) {
            break;
        }
        idl->last_rx = now_ms();
        idl->probe_sent_at = 0;
        handle_msg(idl, msg);
        json_decref(msg);
    }
    if (n == MAX_MSGS_PER_RUN) {
        idl->more = true;
    }
    if (idl->rpc) {
        jsonrpc_run(idl->rpc);
        error = jsonrpc_error(idl->rpc);
        if (error) {
            set_last_error(idl, "%s", error == -EPIPE
                           ? "connection closed by server"
                           : strerror(-error));
            disconnect(idl);
        }
    }
    check_probe(idl, now_ms());
    update_poll(idl);
}

bool
ovsdb_idl_wait(struct ovsdb_idl *idl, int timeout_ms)
{
    struct pollfd pfd = { .fd = idl->epfd, .events = POLLIN };
    int n = poll(&pfd, 1, timeout_ms);

    ovsdb_idl_run(idl);
    return n > 0;
}

/* ---- Lifecycle --------------------------------------------------------- */

static bool
table_init(struct idl_table *t, const struct ovsdb_idl_table_spec *spec)
{
    size_t n = 0;

    t->name = strdup(spec->name);
    if (!t->name) {
        return false;
    }
    if (spec->columns) {
        while (spec->columns[n]) {
            n++;
        }
        t->want = calloc(n + 1, sizeof *t->want);
        if (!t->want) {
            return false;
        }
        for (t->n_want = 0; t->n_want < n; t->n_want++) {
            t->want[t->n_want] = strdup(spec->columns[t->n_want]);
            if (!t->want[t->n_want]) {
                return false;
            }
        }
    }
    return true;
}

static void
table_free(struct idl_table *t)
{
    size_t i;

    table_clear_rows(t);
    table_clear_columns(t);
    for (i = 0; i < t->n_want; i++) {
        free(t->want[i]);
    }
    free(t->want);
    free(t->buckets);
    free(t->name);
}

struct ovsdb_idl *
ovsdb_idl_create(const char *remote, const char *db,
                 const struct ovsdb_idl_table_spec *specs)
{
    struct ovsdb_idl *idl = calloc(1, sizeof *idl);
    struct epoll_event ev = { .events = EPOLLIN };
    size_t n = 0;

    if (!idl) {
        return NULL;
    }
    idl->epfd = idl->timerfd = idl->rpc_fd = -1;
    while (specs && specs[n].name) {
        n++;
    }
    idl->remote = strdup(remote);
    idl->db = strdup(db);
    idl->tables = calloc(n ? n : 1, sizeof *idl->tables);
    if (!idl->remote || !idl->db || !idl->tables) {
        goto error;
    }
    for (idl->n_tables = 0; idl->n_tables < n; idl->n_tables++) {
        if (!table_init(&idl->tables[idl->n_tables],
                        &specs[idl->n_tables])) {
            idl->n_tables++;
            goto error;
        }
    }
    idl->epfd = epoll_create1(EPOLL_CLOEXEC);
    idl->timerfd = timerfd_create(CLOCK_MONOTONIC,
                                  TFD_NONBLOCK | TFD_CLOEXEC);
    if (idl->epfd < 0 || idl->timerfd < 0) {
        goto error;
    }
    ev.data.fd = idl->timerfd;
    if (epoll_ctl(idl->epfd, EPOLL_CTL_ADD, idl->timerfd, &ev) < 0) {
        goto error;
    }
    idl->next_id = 1;
    idl->probe_ms = DEFAULT_PROBE_MS;
    idl->state = S_BACKOFF;
    idl->reconnect_at = 0;
    idl->backoff_ms = BACKOFF_MIN_MS;
    try_connect(idl);
    update_poll(idl);
    return idl;

error:
    ovsdb_idl_destroy(idl);
    return NULL;
}

void
ovsdb_idl_destroy(struct ovsdb_idl *idl)
{
    size_t i;

    if (!idl) {
        return;
    }
    close_rpc(idl);
    fail_pending(idl, "connection closed");
    for (i = 0; i < idl->n_tables; i++) {
        table_free(&idl->tables[i]);
    }
    free(idl->tables);
    if (idl->timerfd >= 0) {
        close(idl->timerfd);
    }
    if (idl->epfd >= 0) {
        close(idl->epfd);
    }
    free(idl->remote);
    free(idl->db);
    free(idl);
}

int
ovsdb_idl_fd(const struct ovsdb_idl *idl)
{
    return idl->epfd;
}

bool
ovsdb_idl_is_connected(const struct ovsdb_idl *idl)
{
    return idl->state == S_ACTIVE;
}

bool
ovsdb_idl_has_data(const struct ovsdb_idl *idl)
{
    return idl->has_data;
}

uint64_t
ovsdb_idl_seqno(const struct ovsdb_idl *idl)
{
    return idl->seqno;
}

uint64_t
ovsdb_idl_table_seqno(const struct ovsdb_idl *idl, const char *table)
{
    const struct idl_table *t = find_table(idl, table);

    return t ? t->seqno : 0;
}

unsigned int
ovsdb_idl_n_sessions(const struct ovsdb_idl *idl)
{
    return idl->n_sessions;
}

const char *
ovsdb_idl_monitor_method(const struct ovsdb_idl *idl)
{
    return idl->method;
}

const char *
ovsdb_idl_last_error(const struct ovsdb_idl *idl)
{
    return idl->last_error;
}

void
ovsdb_idl_set_probe_interval(struct ovsdb_idl *idl, int ms)
{
    idl->probe_ms = ms > 0 ? ms : 0;
    idl->probe_sent_at = 0;
    update_poll(idl);
}

void
ovsdb_idl_force_reconnect(struct ovsdb_idl *idl)
{
    set_last_error(idl, "reconnection requested");
    idl->backoff_ms = 0;
    disconnect(idl);
    update_poll(idl);
}

/* ---- Row access -------------------------------------------------------- */

const struct ovsdb_idl_row *
ovsdb_idl_first(const struct ovsdb_idl *idl, const char *table)
{
    const struct idl_table *t = find_table(idl, table);

    return t ? t->head : NULL;
}

const struct ovsdb_idl_row *
ovsdb_idl_next(const struct ovsdb_idl_row *row)
{
    return row->next;
}

size_t
ovsdb_idl_count(const struct ovsdb_idl *idl, const char *table)
{
    const struct idl_table *t = find_table(idl, table);

    return t ? t->n_rows : 0;
}

const struct ovsdb_idl_row *
ovsdb_idl_find(const struct ovsdb_idl *idl, const char *table,
               const char *uuid)
{
    const struct idl_table *t = find_table(idl, table);

    return t && uuid ? row_find(t, uuid) : NULL;
}

const char *
ovsdb_idl_row_uuid(const struct ovsdb_idl_row *row)
{
    return row->uuid;
}

const char *
ovsdb_idl_row_table(const struct ovsdb_idl_row *row)
{
    return row->table->name;
}

uint64_t
ovsdb_idl_row_seqno(const struct ovsdb_idl_row *row)
{
    return row->seqno;
}

json_t *
ovsdb_idl_row_get(const struct ovsdb_idl_row *row, const char *column)
{
    return json_object_get(row->cols, column);
}

/* The single atom of a column: a bare atom, or a set of exactly one. */
static json_t *
single_atom(const struct ovsdb_idl_row *row, const char *column)
{
    json_t *d = ovsdb_idl_row_get(row, column);

    if (!d || is_map(d) || ovsdb_idl_datum_n(d) != 1) {
        return NULL;
    }
    return ovsdb_idl_datum_key(d, 0);
}

const char *
ovsdb_idl_get_string(const struct ovsdb_idl_row *row, const char *column)
{
    return ovsdb_idl_atom_string(single_atom(row, column));
}

bool
ovsdb_idl_get_integer(const struct ovsdb_idl_row *row, const char *column,
                      int64_t *valuep)
{
    return ovsdb_idl_atom_integer(single_atom(row, column), valuep);
}

bool
ovsdb_idl_get_bool(const struct ovsdb_idl_row *row, const char *column,
                   bool *valuep)
{
    json_t *a = single_atom(row, column);

    if (json_is_boolean(a)) {
        *valuep = json_is_true(a);
        return true;
    }
    return false;
}

bool
ovsdb_idl_get_real(const struct ovsdb_idl_row *row, const char *column,
                   double *valuep)
{
    json_t *a = single_atom(row, column);

    if (json_is_number(a)) {
        *valuep = json_number_value(a);
        return true;
    }
    return false;
}

const char *
ovsdb_idl_get_uuid(const struct ovsdb_idl_row *row, const char *column)
{
    return ovsdb_idl_atom_uuid(single_atom(row, column));
}

const char *
ovsdb_idl_get_map(const struct ovsdb_idl_row *row, const char *column,
                  const char *key)
{
    return ovsdb_idl_datum_map_get(ovsdb_idl_row_get(row, column), key);
}

const struct ovsdb_idl_row *
ovsdb_idl_get_ref(const struct ovsdb_idl *idl,
                  const struct ovsdb_idl_row *row, const char *column,
                  size_t i, const char *ref_table)
{
    json_t *d = ovsdb_idl_row_get(row, column);

    return ovsdb_idl_find(idl, ref_table,
                          ovsdb_idl_atom_uuid(ovsdb_idl_datum_key(d, i)));
}

/* ---- Transactions ------------------------------------------------------ */

struct ovsdb_idl_txn *
ovsdb_idl_txn_create(struct ovsdb_idl *idl)
{
    struct ovsdb_idl_txn *txn = calloc(1, sizeof *txn);

    if (txn) {
        txn->idl = idl;
        txn->params = json_pack("[s]", idl->db);
        if (!txn->params) {
            free(txn);
            return NULL;
        }
    }
    return txn;
}

static json_t *
where_uuid(const char *uuid)
{
    return json_pack("[[s, s, o]]", "_uuid", "==", ovsdb_idl_uuid(uuid));
}

void
ovsdb_idl_txn_add_op(struct ovsdb_idl_txn *txn, json_t *op)
{
    json_array_append_new(txn->params, op);
}

void
ovsdb_idl_txn_set(struct ovsdb_idl_txn *txn, const char *table,
                  const char *uuid, const char *column, json_t *datum)
{
    json_t *update = json_string("update");
    size_t i;

    /* Merge with an earlier update of the same row. */
    for (i = 1; i < json_array_size(txn->params); i++) {
        json_t *op = json_array_get(txn->params, i);
        json_t *where = json_object_get(op, "where");
        const char *u = ovsdb_idl_atom_uuid(
            json_array_get(json_array_get(where, 0), 2));

        if (json_equal(json_object_get(op, "op"), update)
            && json_is_string(json_object_get(op, "table"))
            && !strcmp(json_string_value(json_object_get(op, "table")),
                       table)
            && json_array_size(where) == 1 && u && !strcmp(u, uuid)) {
            json_decref(update);
            json_object_set_new(json_object_get(op, "row"), column, datum);
            return;
        }
    }
    json_decref(update);
    ovsdb_idl_txn_add_op(txn, json_pack("{s:s, s:s, s:o, s:{s:o}}",
                                         "op", "update", "table", table,
                                         "where", where_uuid(uuid),
                                         "row", column, datum));
}

void
ovsdb_idl_txn_mutate(struct ovsdb_idl_txn *txn, const char *table,
                     const char *uuid, const char *column,
                     const char *mutator, json_t *value)
{
    ovsdb_idl_txn_add_op(txn, json_pack("{s:s, s:s, s:o, s:[[s, s, o]]}",
                                         "op", "mutate", "table", table,
                                         "where", where_uuid(uuid),
                                         "mutations", column, mutator,
                                         value));
}

const char *
ovsdb_idl_txn_insert(struct ovsdb_idl_txn *txn, const char *table,
                     json_t *row)
{
    snprintf(txn->name, sizeof txn->name, "row%u", ++txn->n_inserts);
    ovsdb_idl_txn_add_op(txn, json_pack("{s:s, s:s, s:o, s:s}",
                                         "op", "insert", "table", table,
                                         "row", row ? row : json_object(),
                                         "uuid-name", txn->name));
    return txn->name;
}

void
ovsdb_idl_txn_delete(struct ovsdb_idl_txn *txn, const char *table,
                     const char *uuid)
{
    ovsdb_idl_txn_add_op(txn, json_pack("{s:s, s:s, s:o}",
                                         "op", "delete", "table", table,
                                         "where", where_uuid(uuid)));
}

size_t
ovsdb_idl_txn_n_ops(const struct ovsdb_idl_txn *txn)
{
    return json_array_size(txn->params) - 1;
}

json_t *
ovsdb_idl_txn_params(const struct ovsdb_idl_txn *txn)
{
    return txn->params;
}

void
ovsdb_idl_txn_abort(struct ovsdb_idl_txn *txn)
{
    if (txn) {
        json_decref(txn->params);
        free(txn);
    }
}

int
ovsdb_idl_txn_commit(struct ovsdb_idl_txn *txn, ovsdb_idl_txn_cb *cb,
                     void *aux)
{
    struct ovsdb_idl *idl = txn->idl;
    struct ovsdb_idl_txn **p;

    if (!idl->rpc || jsonrpc_error(idl->rpc)) {
        ovsdb_idl_txn_abort(txn);
        return -ENOTCONN;
    }
    txn->cb = cb;
    txn->aux = aux;
    txn->id = send_request(idl, "transact", json_incref(txn->params));
    /* Oldest first, so that callbacks run in commit order when the
     * connection drops. */
    for (p = &idl->pending; *p; p = &(*p)->next) {
        continue;
    }
    *p = txn;
    update_poll(idl);
    return 0;
}
