/* The server: sessions, method dispatch, blocked transactions, remotes and
 * publishing commits to monitors, around one epoll loop. */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "db.h"
#include "error.h"
#include "execute.h"
#include "jsonrpc.h"
#include "lock.h"
#include "log.h"
#include "monitor.h"
#include "remote.h"
#include "server-db.h"
#include "storage.h"
#include "transaction.h"

LOG_MODULE(ovsdb_server);

/* A slow client that lets this much output pile up is disconnected
 * rather than let it exhaust memory. */
#define MAX_BACKLOG (256u << 20)

enum item_type { ITEM_LISTENER, ITEM_SESSION, ITEM_SIGNALS };

struct item {
    enum item_type type;
};

struct listener {
    struct item item;               /* ITEM_LISTENER */
    char *spec;
    int fd;
    bool is_ctl;
    bool from_db;
    bool seen;                      /* still wanted (db remotes) */
    struct listener *next;
};

struct session {
    struct item item;               /* ITEM_SESSION */
    struct ovsdb_server *server;
    struct jsonrpc_conn *conn;
    bool is_ctl;
    bool dead;
    bool want_out;                  /* EPOLLOUT registered */
    struct ovsdb_monitor **monitors;
    size_t n_monitors;
    bool db_change_aware;
    struct active *active;          /* the active remote it belongs to */
    struct session *next;
};

/* An active remote ("unix:", "tcp:"): reconnected when it drops. */
struct active {
    char *spec;
    struct session *session;
    long long next_try;
    bool from_db;
    bool seen;
    struct active *next;
};

struct pending {
    struct session *session;
    json_t *id;
    json_t *params;
    long long deadline;             /* -1: none */
    struct pending *next;
};

struct ovsdb_server {
    int epfd;
    struct ovsdb *db;               /* the configuration database */
    struct ovsdb_storage *storage;
    struct ovsdb *server_db;        /* _Server */
    struct listener *listeners;
    struct active *actives;
    struct session *sessions;
    struct pending *pending;
    struct ovsdb_locks *locks;
    char **db_remotes;              /* "db:..." specs */
    size_t n_db_remotes;
    bool exiting;
};

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static ovsdb_lock_notify_fn lock_notify;

struct ovsdb_server *
ovsdb_server_create(struct ovsdb *db, struct ovsdb_storage *storage)
{
    struct ovsdb_server *s = calloc(1, sizeof *s);

    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->db = db;
    s->storage = storage;
    s->server_db = ovsdb_server_db_create(&db, 1);
    s->locks = ovsdb_locks_create(lock_notify);
    return s;
}

static struct ovsdb *
find_db(struct ovsdb_server *s, const char *name)
{
    if (!strcmp(name, s->db->schema->name)) {
        return s->db;
    } else if (!strcmp(name, s->server_db->schema->name)) {
        return s->server_db;
    }
    return NULL;
}

/* ------------------------------------------------------------ sessions */

static struct session *
session_create(struct ovsdb_server *s, int fd, const char *name, bool is_ctl)
{
    struct session *ss = calloc(1, sizeof *ss);
    struct epoll_event ev = { .events = EPOLLIN };

    ss->item.type = ITEM_SESSION;
    ss->server = s;
    ss->conn = jsonrpc_conn_create(fd, name);
    ss->conn->corked = true;        /* flushed in reap_sessions() */
    ss->is_ctl = is_ctl;
    ev.data.ptr = &ss->item;
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
    ss->next = s->sessions;
    s->sessions = ss;
    LOG_DBG("%s: connected", name);
    return ss;
}

static void
check_backlog(struct session *ss)
{
    if (ss->conn->eof && jsonrpc_conn_backlog(ss->conn)) {
        ss->dead = true;
    } else if (jsonrpc_conn_backlog(ss->conn) > MAX_BACKLOG) {
        LOG_WARN("%s: disconnecting: %zu bytes of output backlog",
                 ss->conn->name, jsonrpc_conn_backlog(ss->conn));
        ss->dead = true;
    }
}

static void
send_msg(struct session *ss, json_t *msg)
{
    if (ss->dead) {
        json_decref(msg);
        return;
    }
    jsonrpc_conn_send(ss->conn, msg);
    check_backlog(ss);
}

static void
reply(struct session *ss, json_t *id, json_t *result)
{
    send_msg(ss, jsonrpc_reply(result, json_incref(id)));
}

static void
reply_error(struct session *ss, json_t *id, json_t *error)
{
    send_msg(ss, jsonrpc_error_reply(error, json_incref(id)));
}

static void
reply_ovsdb_error(struct session *ss, json_t *id, struct ovsdb_error *e)
{
    reply_error(ss, id, ovsdb_error_to_json_free(e));
}

/* ---------------------------------------------------------------- locks */

static void
lock_notify(void *owner, const char *method, const char *name)
{
    send_msg(owner, jsonrpc_notify(method, json_pack("[s]", name)));
}

static bool
session_has_lock(void *aux, const char *name)
{
    struct session *ss = aux;

    return ovsdb_locks_held(ss->server->locks, name, ss);
}

static void
handle_lock(struct session *ss, const char *method, json_t *params,
            json_t *id)
{
    struct ovsdb_locks *locks = ss->server->locks;
    enum ovsdb_lock_result r;
    const char *name;

    if (json_array_size(params) != 1
        || !json_is_string(json_array_get(params, 0))) {
        reply_ovsdb_error(ss, id, ovsdb_error("syntax error", "%s: params "
                                              "must be [LOCK-NAME]", method));
        return;
    }
    name = json_string_value(json_array_get(params, 0));
    r = !strcmp(method, "unlock") ? ovsdb_locks_unlock(locks, name, ss)
        : !strcmp(method, "steal") ? ovsdb_locks_steal(locks, name, ss)
        : ovsdb_locks_lock(locks, name, ss);
    switch (r) {
    case OVSDB_LOCK_DUPLICATE:
        reply_ovsdb_error(ss, id, ovsdb_error("duplicate lock", "%s", name));
        break;
    case OVSDB_LOCK_NOT_HELD:
        reply_ovsdb_error(ss, id, ovsdb_error("not locked", "%s", name));
        break;
    case OVSDB_LOCK_GRANTED:
    case OVSDB_LOCK_QUEUED:
        reply(ss, id, !strcmp(method, "unlock") ? json_object()
              : json_pack("{sb}", "locked", r == OVSDB_LOCK_GRANTED));
        break;
    }
}

/* -------------------------------------------------- commits, monitors */

static void retry_pending(struct ovsdb_server *, struct ovsdb *);
static void update_db_remotes(struct ovsdb_server *);

/* The serialized updates of one commit for one monitor key. */
struct update_cache {
    const char *key;
    char *text;                     /* NULL: nothing to send */
};

/* Sends the changes of a commit to 'db' to the monitors of 'db'. */
static void
notify_monitors(struct ovsdb_server *s, struct ovsdb *db,
                const struct ovsdb_change *changes, size_t n_changes)
{
    struct update_cache *cache = NULL;
    size_t n_cache = 0, k;
    struct session *ss;

    for (ss = s->sessions; ss; ss = ss->next) {
        size_t i;

        for (i = 0; i < ss->n_monitors && !ss->dead; i++) {
            struct ovsdb_monitor *m = ss->monitors[i];
            const char *key = ovsdb_monitor_key(m);
            char *msg;
            size_t len;

            if (ovsdb_monitor_db(m) != db) {
                continue;
            }
            for (k = 0; k < n_cache; k++) {
                if (!strcmp(cache[k].key, key)) {
                    break;
                }
            }
            if (k == n_cache) {
                json_t *upd = ovsdb_monitor_changes(m, changes, n_changes);

                cache = realloc(cache, (n_cache + 1) * sizeof *cache);
                cache[k].key = key;
                cache[k].text = upd ? json_dumps(upd, JSON_COMPACT) : NULL;
                json_decref(upd);
                n_cache++;
            }
            if (!cache[k].text) {
                continue;
            }
            msg = ovsdb_monitor_notification_text(m, cache[k].text, &len);
            if (msg) {
                jsonrpc_conn_send_text(ss->conn, msg, len);
                free(msg);
                check_backlog(ss);
            }
        }
    }
    for (k = 0; k < n_cache; k++) {
        free(cache[k].text);
    }
    free(cache);
}

static void
publish(struct ovsdb_server *s, struct ovsdb *db,
        const struct ovsdb_exec_out *out)
{
    if (db == s->db && s->storage) {
        ovsdb_storage_commit(s->storage, db, out->changes, out->n_changes,
                             out->comment, out->durable);
    }
    notify_monitors(s, db, out->changes, out->n_changes);
}

static void
after_commit(struct ovsdb_server *s, struct ovsdb *db)
{
    if (db == s->db) {
        if (s->storage) {
            ovsdb_storage_maybe_compact(s->storage, db);
        }
        if (s->n_db_remotes) {
            update_db_remotes(s);
        }
    }
}

/* Runs a transaction.  Returns false if it must wait (the caller keeps
 * it pending), true once a reply was sent. */
static bool
run_transact(struct session *ss, json_t *id, json_t *params, bool timed_out,
             bool *committed, long long *wait_ms)
{
    struct ovsdb_server *s = ss->server;
    struct ovsdb *db = find_db(s, json_string_value(json_array_get(params,
                                                                   0)));
    struct ovsdb_exec_in in = { db, params, session_has_lock, ss, timed_out };
    struct ovsdb_exec_out out;

    *committed = false;
    ovsdb_execute(&in, &out);
    if (out.pending) {
        if (wait_ms) {
            *wait_ms = out.wait_ms;
        }
        ovsdb_exec_out_destroy(&out);
        return false;
    }
    if (out.txn && out.n_changes) {
        publish(s, db, &out);
        *committed = true;
    }
    reply(ss, id, json_incref(out.result));
    ovsdb_exec_out_destroy(&out);
    if (*committed) {
        after_commit(s, db);
    }
    return true;
}

static void
add_pending(struct ovsdb_server *s, struct session *ss, json_t *id,
            json_t *params, long long wait_ms)
{
    struct pending *p = calloc(1, sizeof *p), **tail;

    p->deadline = wait_ms >= 0 ? now_ms() + wait_ms : -1;
    p->session = ss;
    p->id = json_incref(id);
    p->params = json_incref(params);
    for (tail = &s->pending; *tail; tail = &(*tail)->next) {
        continue;
    }
    *tail = p;
}

static void
pending_free(struct pending *p)
{
    json_decref(p->id);
    json_decref(p->params);
    free(p);
}

static void
retry_pending(struct ovsdb_server *s, struct ovsdb *db)
{
    bool progress = true;

    while (progress) {
        struct pending **pp = &s->pending;

        progress = false;
        while (*pp) {
            struct pending *p = *pp;
            long long now = now_ms();
            bool timed_out = p->deadline >= 0 && now >= p->deadline;
            bool committed;

            if ((db && find_db(s, json_string_value(
                                   json_array_get(p->params, 0))) != db
                 && !timed_out)
                || !run_transact(p->session, p->id, p->params, timed_out,
                                 &committed, NULL)) {
                pp = &p->next;
                continue;
            }
            *pp = p->next;
            pending_free(p);
            if (committed) {
                progress = true;
                break;
            }
        }
    }
}

static void
handle_transact(struct session *ss, json_t *params, json_t *id)
{
    long long wait_ms = -1;
    bool committed;

    if (!run_transact(ss, id, params, false, &committed, &wait_ms)) {
        add_pending(ss->server, ss, id, params, wait_ms);
    } else if (committed && ss->server->pending) {
        retry_pending(ss->server, find_db(ss->server, json_string_value(
                                              json_array_get(params, 0))));
    }
}

static void
handle_cancel(struct session *ss, json_t *params)
{
    struct ovsdb_server *s = ss->server;
    json_t *id = json_array_get(params, 0);
    struct pending **pp;

    for (pp = &s->pending; *pp; pp = &(*pp)->next) {
        struct pending *p = *pp;

        if (p->session == ss && id && json_equal(p->id, id)) {
            *pp = p->next;
            reply_error(ss, p->id, json_pack("{ss}", "error", "canceled"));
            pending_free(p);
            return;
        }
    }
}

static struct ovsdb_monitor *
find_monitor(struct session *ss, json_t *id, size_t *idx)
{
    size_t i;

    for (i = 0; i < ss->n_monitors; i++) {
        if (json_equal(ovsdb_monitor_id(ss->monitors[i]), id)) {
            if (idx) {
                *idx = i;
            }
            return ss->monitors[i];
        }
    }
    return NULL;
}

static void
handle_monitor(struct session *ss, const char *method, json_t *params,
               json_t *id, struct ovsdb *db)
{
    enum ovsdb_monitor_version v = !strcmp(method, "monitor")
                                   ? OVSDB_MONITOR_V1
                                   : !strcmp(method, "monitor_cond")
                                   ? OVSDB_MONITOR_V2 : OVSDB_MONITOR_V3;
    size_t want = v == OVSDB_MONITOR_V3 ? 4 : 3;
    struct ovsdb_monitor *m;
    struct ovsdb_error *e;
    json_t *monid = json_array_get(params, 1), *initial;

    if (json_array_size(params) < 3 || json_array_size(params) > want) {
        reply_ovsdb_error(ss, id, ovsdb_error("syntax error", "%s: wrong "
                                              "number of params", method));
        return;
    }
    if (find_monitor(ss, monid, NULL)) {
        reply_error(ss, id, json_string("duplicate monitor ID"));
        return;
    }
    e = ovsdb_monitor_create(db, monid, json_array_get(params, 2), v, &m);
    if (e) {
        reply_ovsdb_error(ss, id, e);
        return;
    }
    ss->monitors = realloc(ss->monitors,
                           (ss->n_monitors + 1) * sizeof *ss->monitors);
    ss->monitors[ss->n_monitors++] = m;
    initial = ovsdb_monitor_initial(m);
    if (v == OVSDB_MONITOR_V3) {
        /* This server keeps no transaction history: always a full
         * snapshot, and no transaction id to resume from. */
        reply(ss, id, json_pack("[bso]", false,
                                "00000000-0000-0000-0000-000000000000",
                                initial));
    } else {
        reply(ss, id, initial);
    }
}

static void
handle_monitor_cancel(struct session *ss, json_t *params, json_t *id)
{
    size_t i;

    if (json_array_size(params) != 1
        || !find_monitor(ss, json_array_get(params, 0), &i)) {
        reply_error(ss, id, json_string("unknown monitor"));
        return;
    }
    ovsdb_monitor_free(ss->monitors[i]);
    ss->monitors[i] = ss->monitors[--ss->n_monitors];
    reply(ss, id, json_object());
}

static void
handle_monitor_cond_change(struct session *ss, json_t *params, json_t *id)
{
    struct ovsdb_monitor *m;
    struct ovsdb_error *e;
    json_t *update;

    if (json_array_size(params) != 3
        || !(m = find_monitor(ss, json_array_get(params, 0), NULL))) {
        reply_error(ss, id, json_string("unknown monitor"));
        return;
    }
    if (!json_equal(json_array_get(params, 0), json_array_get(params, 1))
        && find_monitor(ss, json_array_get(params, 1), NULL)) {
        reply_error(ss, id, json_string("duplicate monitor ID"));
        return;
    }
    e = ovsdb_monitor_cond_change(m, json_array_get(params, 2), &update);
    if (e) {
        reply_ovsdb_error(ss, id, e);
        return;
    }
    /* Later updates carry the new id. */
    ovsdb_monitor_set_id(m, json_array_get(params, 1));
    reply(ss, id, json_object());
    if (update) {
        send_msg(ss, ovsdb_monitor_notification(m, update));
    }
}

/* Drops every monitor on 'db' (about to be replaced): clients that said
 * they are db-change aware hear "monitor_canceled" and monitor again;
 * others are disconnected, as they would keep a stale schema. */
static void
cancel_monitors(struct ovsdb_server *s, struct ovsdb *db)
{
    struct session *ss;

    for (ss = s->sessions; ss; ss = ss->next) {
        size_t i = 0;

        while (i < ss->n_monitors) {
            struct ovsdb_monitor *m = ss->monitors[i];

            if (ovsdb_monitor_db(m) != db) {
                i++;
                continue;
            }
            if (ss->db_change_aware) {
                send_msg(ss, jsonrpc_notify("monitor_canceled", json_pack(
                                                "[O]", ovsdb_monitor_id(m))));
            } else {
                ss->dead = true;
            }
            ovsdb_monitor_free(m);
            ss->monitors[i] = ss->monitors[--ss->n_monitors];
        }
    }
}

/* "convert": replaces the database's schema online, keeping the data
 * that fits the new one. */
static void
handle_convert(struct session *ss, json_t *params, json_t *id)
{
    struct ovsdb_server *s = ss->server;
    const char *name = json_string_value(json_array_get(params, 0));
    struct ovsdb *old = s->db, *db;
    const struct ovsdb_change *changes;
    struct ovsdb_schema *schema;
    struct ovsdb_txn *txn;
    struct ovsdb_error *e;
    size_t n;

    if (json_array_size(params) != 2 || !name) {
        reply_ovsdb_error(ss, id, ovsdb_error("syntax error", "convert: "
                                              "params must be [DB, "
                                              "SCHEMA]"));
        return;
    }
    if (strcmp(name, old->schema->name)) {
        reply_ovsdb_error(ss, id, ovsdb_error(
                              find_db(s, name) ? "not allowed"
                              : "unknown database", "cannot convert %s",
                              name));
        return;
    }
    e = ovsdb_schema_from_json(&schema, json_array_get(params, 1));
    if (!e && strcmp(schema->name, name)) {
        ovsdb_schema_free(schema);
        e = ovsdb_error("syntax error", "new schema is for a different "
                        "database");
    }
    db = e ? NULL : ovsdb_storage_convert(old, schema, &e);
    if (!db) {
        reply_ovsdb_error(ss, id, e);
        return;
    }
    if (s->storage && ovsdb_storage_compact(s->storage, db) < 0) {
        ovsdb_destroy(db);
        reply_ovsdb_error(ss, id, ovsdb_error("I/O error", "cannot write "
                                              "the converted database"));
        return;
    }
    LOG_INFO("%s: converted to schema version %s", name,
             db->schema->version);
    reply(ss, id, json_object());
    cancel_monitors(s, old);
    s->db = db;
    ovsdb_destroy(old);
    txn = ovsdb_server_db_set_schema(s->server_db, db->schema, &changes, &n);
    if (txn) {
        notify_monitors(s, s->server_db, changes, n);
        ovsdb_txn_destroy(txn);
    }
    if (s->n_db_remotes) {
        update_db_remotes(s);
    }
}

/* Methods whose first param names a database. */
static struct ovsdb *
require_db(struct session *ss, const char *method, json_t *params,
           json_t *id)
{
    json_t *name = json_array_get(params, 0);
    struct ovsdb *db = json_is_string(name)
                       ? find_db(ss->server, json_string_value(name)) : NULL;

    if (!db) {
        reply_ovsdb_error(ss, id, ovsdb_error_syntax(
                              ovsdb_error("unknown database", "%s request "
                                          "specifies unknown database %s",
                                          method, json_is_string(name)
                                          ? json_string_value(name)
                                          : "(not a string)"), params));
    }
    return db;
}

static void
handle_ovsdb_request(struct session *ss, const char *method, json_t *params,
                     json_t *id)
{
    struct ovsdb_server *s = ss->server;
    struct ovsdb *db;

    if (!strcmp(method, "transact")) {
        if ((db = require_db(ss, method, params, id))) {
            handle_transact(ss, params, id);
        }
    } else if (!strcmp(method, "monitor_cond_since")
               || !strcmp(method, "monitor_cond")
               || !strcmp(method, "monitor")) {
        if ((db = require_db(ss, method, params, id))) {
            handle_monitor(ss, method, params, id, db);
        }
    } else if (!strcmp(method, "get_schema")) {
        if ((db = require_db(ss, method, params, id))) {
            reply(ss, id, json_incref(db->schema->json));
        }
    } else if (!strcmp(method, "list_dbs")) {
        reply(ss, id, json_pack("[ss]", s->db->schema->name,
                                s->server_db->schema->name));
    } else if (!strcmp(method, "echo")) {
        reply(ss, id, json_incref(params));
    } else if (!strcmp(method, "monitor_cancel")) {
        handle_monitor_cancel(ss, params, id);
    } else if (!strcmp(method, "monitor_cond_change")) {
        handle_monitor_cond_change(ss, params, id);
    } else if (!strcmp(method, "lock") || !strcmp(method, "steal")
               || !strcmp(method, "unlock")) {
        handle_lock(ss, method, params, id);
    } else if (!strcmp(method, "set_db_change_aware")) {
        ss->db_change_aware = json_is_true(json_array_get(params, 0));
        reply(ss, id, json_object());
    } else if (!strcmp(method, "convert")) {
        handle_convert(ss, params, id);
    } else if (!strcmp(method, "get_server_id")) {
        reply(ss, id, json_string("00000000-0000-0000-0000-000000000000"));
    } else {
        reply_error(ss, id, json_string("unknown method"));
    }
}

static void
handle_ctl_request(struct session *ss, const char *method, json_t *params,
                   json_t *id)
{
    char *text = NULL;
    bool ok = ovsdb_ctl_run(ss->server, method, params, &text);
    json_t *m = json_object();

    json_object_set_new(m, "id", json_incref(id));
    if (ok) {
        json_object_set_new(m, "result", json_string(text ? text : ""));
        json_object_set_new(m, "error", json_null());
    } else {
        json_object_set_new(m, "error", json_string(text ? text : "error"));
    }
    free(text);
    send_msg(ss, m);
}

static void
handle_message(struct session *ss, json_t *msg)
{
    const char *problem = jsonrpc_msg_check(msg);
    json_t *id = json_object_get(msg, "id");
    json_t *method = json_object_get(msg, "method");
    json_t *params = json_object_get(msg, "params");

    if (problem) {
        reply_ovsdb_error(ss, id && json_is_null(id) ? NULL : id,
                          ovsdb_error("syntax error", "%s", problem));
        return;
    }
    if (!method) {
        return;                 /* a reply, e.g. to nothing we sent */
    }
    if (json_is_null(id)) {
        /* Notifications: only "cancel" means something to a server. */
        if (!ss->is_ctl && !strcmp(json_string_value(method), "cancel")) {
            handle_cancel(ss, params);
        }
        return;
    }
    if (ss->is_ctl) {
        handle_ctl_request(ss, json_string_value(method), params, id);
    } else {
        handle_ovsdb_request(ss, json_string_value(method), params, id);
    }
}

static void
session_input(struct session *ss)
{
    bool open = jsonrpc_conn_read(ss->conn);

    for (;;) {
        enum jsonrpc_status st;
        json_t *msg;
        char *error;

        if (ss->dead) {
            return;
        }
        st = jsonrpc_conn_next(ss->conn, &msg, &error);
        if (st == JSONRPC_NONE) {
            break;
        } else if (st == JSONRPC_MSG) {
            handle_message(ss, msg);
            json_decref(msg);
        } else {
            static struct log_rl rl = LOG_RL_INIT(60, 10);

            LOG_RL(&rl, LOG_L_WARN, "%s: bad JSON-RPC input: %s",
                   ss->conn->name, error ? error : "?");
            reply_ovsdb_error(ss, NULL, ovsdb_error("syntax error", "%s",
                                                    error ? error : "?"));
            free(error);
            if (st == JSONRPC_FATAL) {
                ss->conn->eof = true;
                break;
            }
        }
    }
    if (!open || ss->conn->eof) {
        /* Send what is queued, then close. */
        jsonrpc_conn_flush(ss->conn);
        ss->dead = true;
    }
}

static void
session_destroy(struct ovsdb_server *s, struct session *ss)
{
    struct pending **pp;
    size_t i;

    LOG_DBG("%s: disconnected", ss->conn->name);
    jsonrpc_conn_flush(ss->conn);   /* the last replies, if it can take them */
    for (pp = &s->pending; *pp;) {
        if ((*pp)->session == ss) {
            struct pending *p = *pp;

            *pp = p->next;
            pending_free(p);
        } else {
            pp = &(*pp)->next;
        }
    }
    ovsdb_locks_release_all(s->locks, ss);
    for (i = 0; i < ss->n_monitors; i++) {
        ovsdb_monitor_free(ss->monitors[i]);
    }
    free(ss->monitors);
    if (ss->active) {
        ss->active->session = NULL;
        ss->active->next_try = now_ms() + 1000;
    }
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, ss->conn->fd, NULL);
    jsonrpc_conn_free(ss->conn);
    free(ss);
}

static void
reap_sessions(struct ovsdb_server *s)
{
    struct session **p = &s->sessions;

    while (*p) {
        struct session *ss = *p;

        if (ss->dead) {
            *p = ss->next;
            session_destroy(s, ss);
            continue;
        }
        if (jsonrpc_conn_backlog(ss->conn) && !ss->want_out
            && !jsonrpc_conn_flush(ss->conn)) {
            *p = ss->next;
            session_destroy(s, ss);
            continue;
        }
        if (jsonrpc_conn_backlog(ss->conn) && !ss->want_out) {
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };

            ev.data.ptr = &ss->item;
            epoll_ctl(s->epfd, EPOLL_CTL_MOD, ss->conn->fd, &ev);
            ss->want_out = true;
        } else if (!jsonrpc_conn_backlog(ss->conn) && ss->want_out) {
            struct epoll_event ev = { .events = EPOLLIN };

            ev.data.ptr = &ss->item;
            epoll_ctl(s->epfd, EPOLL_CTL_MOD, ss->conn->fd, &ev);
            ss->want_out = false;
        }
        p = &ss->next;
    }
}

/* ------------------------------------------------------------ remotes */

static int
add_listener(struct ovsdb_server *s, const char *spec, bool is_ctl,
             bool from_db)
{
    struct listener *l;
    struct epoll_event ev = { .events = EPOLLIN };
    int fd = ovsdb_remote_listen(spec);

    if (fd == -EADDRINUSE && !strncmp(spec, "punix:", 6)) {
        LOG_ERR("%s: another server is listening there", spec);
        return fd;
    } else if (fd < 0) {
        LOG_ERR("%s: cannot listen: %s", spec, strerror(-fd));
        return fd;
    }
    l = calloc(1, sizeof *l);
    l->item.type = ITEM_LISTENER;
    l->spec = strdup(spec);
    l->fd = fd;
    l->is_ctl = is_ctl;
    l->from_db = from_db;
    l->seen = true;
    ev.data.ptr = &l->item;
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
    l->next = s->listeners;
    s->listeners = l;
    LOG_INFO("listening on %s", spec);
    return 0;
}

static void
listener_free(struct ovsdb_server *s, struct listener *l)
{
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    ovsdb_remote_unlisten(l->spec);
    free(l->spec);
    free(l);
}

static void
add_active(struct ovsdb_server *s, const char *spec, bool from_db)
{
    struct active *a = calloc(1, sizeof *a);

    a->spec = strdup(spec);
    a->from_db = from_db;
    a->seen = true;
    a->next = s->actives;
    s->actives = a;
}

static void
active_free(struct ovsdb_server *s, struct active *a)
{
    if (a->session) {
        a->session->active = NULL;
        a->session->dead = true;
    }
    (void) s;
    free(a->spec);
    free(a);
}

int
ovsdb_server_add_remote(struct ovsdb_server *s, const char *spec)
{
    if (ovsdb_remote_is_db(spec)) {
        s->db_remotes = realloc(s->db_remotes, (s->n_db_remotes + 1)
                                * sizeof *s->db_remotes);
        s->db_remotes[s->n_db_remotes++] = strdup(spec);
        update_db_remotes(s);
        return 0;
    } else if (ovsdb_remote_is_passive(spec)) {
        return add_listener(s, spec, false, false);
    } else if (!strncmp(spec, "unix:", 5) || !strncmp(spec, "tcp:", 4)) {
        add_active(s, spec, false);
        return 0;
    }
    LOG_ERR("%s: unknown remote type", spec);
    return -EINVAL;
}

int
ovsdb_server_set_unixctl(struct ovsdb_server *s, const char *path)
{
    char *spec;
    int err;

    if (asprintf(&spec, "punix:%s", path) < 0) {
        return -ENOMEM;
    }
    err = add_listener(s, spec, true, false);
    free(spec);
    return err;
}

/* Opens the remotes that the database names now and closes those it no
 * longer names. */
static void
update_db_remotes(struct ovsdb_server *s)
{
    struct listener **lp, *l;
    struct active **ap, *a;
    size_t i, k;

    for (l = s->listeners; l; l = l->next) {
        l->seen = !l->from_db;
    }
    for (a = s->actives; a; a = a->next) {
        a->seen = !a->from_db;
    }
    for (i = 0; i < s->n_db_remotes; i++) {
        char **targets = ovsdb_remote_db_targets(s->db, s->db_remotes[i]);

        for (k = 0; targets[k]; k++) {
            const char *t = targets[k];
            bool found = false;

            for (l = s->listeners; l && !found; l = l->next) {
                if (l->from_db && !strcmp(l->spec, t)) {
                    l->seen = found = true;
                }
            }
            for (a = s->actives; a && !found; a = a->next) {
                if (a->from_db && !strcmp(a->spec, t)) {
                    a->seen = found = true;
                }
            }
            if (found) {
                continue;
            }
            if (ovsdb_remote_is_passive(t)) {
                add_listener(s, t, false, true);
            } else if (!strncmp(t, "unix:", 5) || !strncmp(t, "tcp:", 4)) {
                add_active(s, t, true);
            }
        }
        ovsdb_remote_free_targets(targets);
    }
    for (lp = &s->listeners; *lp;) {
        l = *lp;
        if (!l->seen) {
            *lp = l->next;
            LOG_INFO("no longer listening on %s", l->spec);
            listener_free(s, l);
        } else {
            lp = &l->next;
        }
    }
    for (ap = &s->actives; *ap;) {
        a = *ap;
        if (!a->seen) {
            *ap = a->next;
            active_free(s, a);
        } else {
            ap = &a->next;
        }
    }
}

static void
run_actives(struct ovsdb_server *s, long long now)
{
    struct active *a;

    for (a = s->actives; a; a = a->next) {
        int fd;

        if (a->session || now < a->next_try) {
            continue;
        }
        fd = ovsdb_remote_connect(a->spec);
        if (fd < 0) {
            a->next_try = now + 1000;
            continue;
        }
        a->session = session_create(s, fd, a->spec, false);
        a->session->active = a;
    }
}

static void
accept_clients(struct ovsdb_server *s, struct listener *l)
{
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                static struct log_rl rl = LOG_RL_INIT(60, 5);

                LOG_RL(&rl, LOG_L_WARN, "%s: accept: %s", l->spec,
                       strerror(errno));
            }
            return;
        }
        session_create(s, fd, l->spec, l->is_ctl);
    }
}

/* -------------------------------------------------------------- loop */

static int
next_timeout(struct ovsdb_server *s, long long now)
{
    long long t = -1;
    struct pending *p;
    struct active *a;

    for (p = s->pending; p; p = p->next) {
        if (p->deadline >= 0 && (t < 0 || p->deadline < t)) {
            t = p->deadline;
        }
    }
    for (a = s->actives; a; a = a->next) {
        if (!a->session && (t < 0 || a->next_try < t)) {
            t = a->next_try;
        }
    }
    if (t < 0) {
        return 1000;
    }
    return t <= now ? 0 : (int) (t - now > 1000 ? 1000 : t - now);
}

void
ovsdb_server_run(struct ovsdb_server *s, int signal_fd)
{
    static struct item signals = { ITEM_SIGNALS };
    struct epoll_event events[64];

    if (signal_fd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &signals };

        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, signal_fd, &ev) < 0) {
            LOG_ERR("cannot watch for signals: %s", strerror(errno));
            return;
        }
    }
    while (!s->exiting) {
        long long now = now_ms();
        int n, i;

        run_actives(s, now);
        reap_sessions(s);
        n = epoll_wait(s->epfd, events, 64, next_timeout(s, now));
        if (n < 0 && errno != EINTR) {
            LOG_ERR("epoll_wait: %s", strerror(errno));
            break;
        }
        for (i = 0; i < n; i++) {
            struct item *it = events[i].data.ptr;

            if (it->type == ITEM_SIGNALS) {
                s->exiting |= daemon_signals_run(signal_fd);
            } else if (it->type == ITEM_LISTENER) {
                accept_clients(s, (struct listener *) it);
            } else {
                struct session *ss = (struct session *) it;

                if (ss->dead) {
                    continue;
                }
                if (events[i].events & EPOLLOUT) {
                    if (!jsonrpc_conn_flush(ss->conn)) {
                        ss->dead = true;
                        continue;
                    }
                }
                if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    session_input(ss);
                }
            }
        }
        if (s->pending) {
            struct pending *p;

            now = now_ms();
            for (p = s->pending; p; p = p->next) {
                if (p->deadline >= 0 && now >= p->deadline) {
                    retry_pending(s, NULL);
                    break;
                }
            }
        }
    }
    /* Deliver the last replies (for "exit") before closing. */
    {
        struct session *ss;

        for (ss = s->sessions; ss; ss = ss->next) {
            jsonrpc_conn_flush(ss->conn);
        }
    }
}

void
ovsdb_server_exit(struct ovsdb_server *s)
{
    s->exiting = true;
}

void
ovsdb_server_destroy(struct ovsdb_server *s)
{
    size_t i;

    if (!s) {
        return;
    }
    while (s->sessions) {
        struct session *ss = s->sessions;

        s->sessions = ss->next;
        session_destroy(s, ss);
    }
    while (s->listeners) {
        struct listener *l = s->listeners;

        s->listeners = l->next;
        listener_free(s, l);
    }
    while (s->actives) {
        struct active *a = s->actives;

        s->actives = a->next;
        active_free(s, a);
    }
    for (i = 0; i < s->n_db_remotes; i++) {
        free(s->db_remotes[i]);
    }
    free(s->db_remotes);
    ovsdb_storage_close(s->storage);
    ovsdb_destroy(s->db);
    ovsdb_destroy(s->server_db);
    ovsdb_locks_destroy(s->locks);
    close(s->epfd);
    free(s);
}

void
ovsdb_server_get_stats(const struct ovsdb_server *s,
                       struct ovsdb_server_stats *st)
{
    const struct session *ss;
    const struct pending *p;
    unsigned int t;

    memset(st, 0, sizeof *st);
    for (ss = s->sessions; ss; ss = ss->next) {
        st->n_sessions++;
        st->n_monitors += ss->n_monitors;
        st->backlog += jsonrpc_conn_backlog(ss->conn);
    }
    for (p = s->pending; p; p = p->next) {
        st->n_pending++;
    }
    st->n_locks = ovsdb_locks_count(s->locks);
    for (t = 0; t < s->db->schema->n_tables; t++) {
        const struct ovsdb_table *table = &s->db->tables[t];

        st->n_rows += table->rows.n;
        st->n_cells += table->rows.n * (table->schema->n_columns
                                        - OVSDB_N_IMPLICIT);
    }
}

struct ovsdb_storage *
ovsdb_server_storage(struct ovsdb_server *s)
{
    return s->storage;
}

struct ovsdb *
ovsdb_server_db(struct ovsdb_server *s)
{
    return s->db;
}

char *
ovsdb_server_list_remotes(const struct ovsdb_server *s)
{
    const struct listener *l;
    const struct active *a;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    size_t i;

    for (i = 0; i < s->n_db_remotes; i++) {
        fprintf(f, "%s\n", s->db_remotes[i]);
    }
    for (l = s->listeners; l; l = l->next) {
        if (!l->is_ctl) {
            fprintf(f, "%s\n", l->spec);
        }
    }
    for (a = s->actives; a; a = a->next) {
        fprintf(f, "%s\n", a->spec);
    }
    fclose(f);
    return out;
}
