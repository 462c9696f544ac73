/* Tests for lib/ovsdb-idl.c.
 *
 * Against a scripted server (the test plays ovsdb-server over a unix
 * socket): schema handling, monitor_cond and the fallback to monitor,
 * update2 differences on sets, maps and optional columns, echo, the
 * inactivity probe, transactions and their errors, reconnection.
 *
 * Against Debian's real ovsdb-server and ovs-vsctl (skipped when they are
 * not installed): replicate a bridge made by ovs-vsctl, write
 * Interface.ofport and friends back and read them with ovs-vsctl, see a
 * server error, survive a server restart. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "log.h"
#include "ovsdb-idl.h"

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"
#define U3 "33333333-3333-3333-3333-333333333333"

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the IDL until 'COND' holds or 'MS' pass; evaluates to COND. */
#define RUN_UNTIL(IDL, COND, MS)                                        \
    ({                                                                  \
        uint64_t deadline_ = mono_ms() + (MS);                          \
        while (!(COND) && mono_ms() < deadline_) {                      \
            ovsdb_idl_wait(IDL, 20);                                    \
        }                                                               \
        (COND);                                                         \
    })

struct txn_outcome {
    bool done;
    char error[256];
    json_t *result;
};

static void
txn_done(void *aux, const char *error, json_t *result)
{
    struct txn_outcome *o = aux;

    o->done = true;
    snprintf(o->error, sizeof o->error, "%s", error ? error : "");
    o->result = json_incref(result);
}

/* ======================================================================
 * Scripted server
 * ==================================================================== */

static const char test_schema[] =
    "{\"name\":\"Test\",\"version\":\"1.0.0\",\"tables\":{"
    "\"T\":{\"columns\":{"
    "\"name\":{\"type\":\"string\"},"
    "\"n\":{\"type\":\"integer\"},"
    "\"flag\":{\"type\":\"boolean\"},"
    "\"r\":{\"type\":\"real\"},"
    "\"opt\":{\"type\":{\"key\":\"string\",\"min\":0,\"max\":1}},"
    "\"tags\":{\"type\":{\"key\":\"string\",\"min\":0,"
    "\"max\":\"unlimited\"}},"
    "\"cfg\":{\"type\":{\"key\":\"string\",\"value\":\"string\","
    "\"min\":0,\"max\":\"unlimited\"}},"
    "\"refs\":{\"type\":{\"key\":{\"type\":\"uuid\",\"refTable\":\"T\"},"
    "\"min\":0,\"max\":\"unlimited\"}},"
    "\"unwanted\":{\"type\":\"string\"}}}}}";

struct fake {
    char dir[64];
    char sock[96];
    char remote[140];
    int lfd;
    struct jsonrpc *conn;       /* the accepted client */
    struct ovsdb_idl *idl;
};

static const char *const t_columns[] = {
    "name", "n", "flag", "r", "opt", "tags", "cfg", "refs", "nosuch", NULL,
};
static const struct ovsdb_idl_table_spec t_specs[] = {
    { "T", t_columns },
    { "Missing", NULL },
    { NULL, NULL },
};

static int
fake_setup(void **state)
{
    struct fake *f = calloc(1, sizeof *f);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    log_set_spec("ANY:off");
    snprintf(f->dir, sizeof f->dir, "/tmp/hvs-test-idl.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->sock, sizeof f->sock, "%s/db.sock", f->dir);
    snprintf(f->remote, sizeof f->remote, "unix:%s", f->sock);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", f->sock);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    f->idl = ovsdb_idl_create(f->remote, "Test", t_specs);
    assert_non_null(f->idl);
    *state = f;
    return 0;
}

static int
fake_teardown(void **state)
{
    struct fake *f = *state;

    ovsdb_idl_destroy(f->idl);
    jsonrpc_destroy(f->conn);
    close(f->lfd);
    unlink(f->sock);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Accepts the IDL's next connection (running the IDL meanwhile). */
static void
fake_accept(struct fake *f)
{
    uint64_t deadline = mono_ms() + 5000;
    int fd = -1;

    while (fd < 0 && mono_ms() < deadline) {
        fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) {
            ovsdb_idl_wait(f->idl, 20);
        }
    }
    assert_true(fd >= 0);
    jsonrpc_destroy(f->conn);
    f->conn = jsonrpc_create(fd, "fake", false);
}

/* Receives the next message from the IDL, running it meanwhile. */
static json_t *
fake_recv(struct fake *f)
{
    uint64_t deadline = mono_ms() + 5000;
    json_t *msg;

    while (mono_ms() < deadline) {
        int r = jsonrpc_recv(f->conn, &msg);

        assert_true(r >= 0);
        if (r) {
            return msg;
        }
        ovsdb_idl_wait(f->idl, 10);
    }
    fail_msg("the IDL sent nothing within 5 s");
    return NULL;
}

/* Receives a request for 'method' and returns its id (new reference);
 * '*paramsp' gets its params (new reference) when not NULL. */
static json_t *
fake_expect(struct fake *f, const char *method, json_t **paramsp)
{
    json_t *msg = fake_recv(f), *id;
    struct jsonrpc_msg_view v;

    assert_int_equal(jsonrpc_msg_parse(msg, &v), JSONRPC_MSG_REQUEST);
    assert_string_equal(v.method, method);
    id = json_incref(v.id);
    if (paramsp) {
        *paramsp = json_incref(v.params);
    }
    json_decref(msg);
    return id;
}

static void
fake_send(struct fake *f, json_t *msg)
{
    assert_int_equal(jsonrpc_send(f->conn, msg), 0);
}

static void
fake_send_str(struct fake *f, const char *s)
{
    json_t *msg = json_loads(s, 0, NULL);

    assert_non_null(msg);
    fake_send(f, msg);
}

/* Serves get_schema and checks the monitor request.  With 'refuse_cond'
 * answers monitor_cond with "unknown method" and expects "monitor".
 * Returns the monitor request's id. */
static json_t *
fake_handshake(struct fake *f, bool refuse_cond)
{
    json_t *id, *params, *cols;
    size_t i;

    fake_accept(f);
    id = fake_expect(f, "get_schema", &params);
    assert_string_equal(json_string_value(json_array_get(params, 0)),
                        "Test");
    json_decref(params);
    fake_send(f, jsonrpc_msg_reply(json_loads(test_schema, 0, NULL), id));

    id = fake_expect(f, "monitor_cond", &params);
    if (refuse_cond) {
        json_decref(params);
        fake_send(f, jsonrpc_msg_error(json_string("unknown method"), id));
        id = fake_expect(f, "monitor", &params);
    }
    assert_string_equal(json_string_value(json_array_get(params, 0)),
                        "Test");
    /* Only T is monitored, only with the columns both asked for and in
     * the schema. */
    json_t *reqs = json_array_get(params, 2);
    assert_int_equal(json_object_size(reqs), 1);
    cols = json_object_get(json_array_get(json_object_get(reqs, "T"), 0),
                           "columns");
    assert_int_equal(json_array_size(cols), 8);
    for (i = 0; i < json_array_size(cols); i++) {
        const char *c = json_string_value(json_array_get(cols, i));

        assert_string_not_equal(c, "nosuch");
        assert_string_not_equal(c, "unwanted");
    }
    json_decref(params);
    return id;
}

static const struct ovsdb_idl_row *
row(struct ovsdb_idl *idl, const char *uuid)
{
    return ovsdb_idl_find(idl, "T", uuid);
}

static void
test_fake_update2(void **state)
{
    struct fake *f = *state;
    const struct ovsdb_idl_row *r1, *r2;
    uint64_t seq;
    int64_t n;
    bool b;
    double d;
    json_t *id, *tags, *cfg;

    assert_false(ovsdb_idl_has_data(f->idl));
    id = fake_handshake(f, false);
    fake_send(f, jsonrpc_msg_reply(json_pack(
        "{s:{s:{s:{s:s, s:[s,[s,s]], s:[s,[[s,s]]]}}}}", "T", U1,
        "initial", "name", "a", "tags", "set", "x", "y",
        "cfg", "map", "k", "v"), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_is_connected(f->idl), 2000));
    assert_true(ovsdb_idl_has_data(f->idl));
    assert_string_equal(ovsdb_idl_monitor_method(f->idl), "monitor_cond");
    assert_int_equal(ovsdb_idl_n_sessions(f->idl), 1);
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 1);
    assert_int_equal(ovsdb_idl_count(f->idl, "Missing"), 0);
    assert_null(ovsdb_idl_first(f->idl, "Nope"));

    /* Omitted columns read as their defaults. */
    r1 = row(f->idl, U1);
    assert_non_null(r1);
    assert_string_equal(ovsdb_idl_row_uuid(r1), U1);
    assert_string_equal(ovsdb_idl_row_table(r1), "T");
    assert_string_equal(ovsdb_idl_get_string(r1, "name"), "a");
    assert_true(ovsdb_idl_get_integer(r1, "n", &n));
    assert_int_equal(n, 0);
    assert_true(ovsdb_idl_get_bool(r1, "flag", &b));
    assert_false(b);
    assert_true(ovsdb_idl_get_real(r1, "r", &d));
    assert_null(ovsdb_idl_get_string(r1, "opt"));
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(r1, "opt")), 0);
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(r1, "refs")), 0);
    assert_null(ovsdb_idl_row_get(r1, "unwanted"));
    assert_null(ovsdb_idl_get_string(r1, "unwanted"));
    assert_false(ovsdb_idl_get_integer(r1, "name", &n));
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(r1, "tags")), 2);
    assert_string_equal(ovsdb_idl_get_map(r1, "cfg", "k"), "v");
    assert_null(ovsdb_idl_get_map(r1, "cfg", "nokey"));
    seq = ovsdb_idl_seqno(f->idl);
    assert_int_equal(ovsdb_idl_row_seqno(r1), seq);

    /* Differences: 'x' leaves the set, the equal pair leaves the map, a
     * new pair joins it, the optional column gains a value. */
    fake_send(f, jsonrpc_msg_notify("update2", json_pack(
        "[s, {s:{s:{s:{s:s, s:[s,[[s,s],[s,s]]], s:s, s:I, s:b}},"
        "s:{s:{s:s, s:[s,s]}}}}]", "Test", "T",
        U1, "modify", "tags", "x", "cfg", "map", "k", "v", "k2", "v2",
        "opt", "o", "n", (json_int_t) 5, "flag", 1,
        U2, "insert", "name", "b", "refs", "uuid", U1)));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_seqno(f->idl) > seq, 2000));
    assert_int_equal(ovsdb_idl_seqno(f->idl), seq + 1);
    r1 = row(f->idl, U1);
    r2 = row(f->idl, U2);
    assert_non_null(r2);
    tags = ovsdb_idl_row_get(r1, "tags");
    assert_int_equal(ovsdb_idl_datum_n(tags), 1);
    assert_string_equal(ovsdb_idl_get_string(r1, "tags"), "y");
    cfg = ovsdb_idl_row_get(r1, "cfg");
    assert_int_equal(ovsdb_idl_datum_n(cfg), 1);
    assert_null(ovsdb_idl_get_map(r1, "cfg", "k"));
    assert_string_equal(ovsdb_idl_get_map(r1, "cfg", "k2"), "v2");
    assert_string_equal(ovsdb_idl_get_string(r1, "opt"), "o");
    assert_true(ovsdb_idl_get_integer(r1, "n", &n));
    assert_int_equal(n, 5);
    assert_true(ovsdb_idl_get_bool(r1, "flag", &b));
    assert_true(b);
    assert_string_equal(ovsdb_idl_get_uuid(r2, "refs"), U1);
    assert_ptr_equal(ovsdb_idl_get_ref(f->idl, r2, "refs", 0, "T"), r1);
    assert_null(ovsdb_idl_get_ref(f->idl, r2, "refs", 1, "T"));
    assert_int_equal(ovsdb_idl_row_seqno(r2), seq + 1);

    /* Replace a map value, swap set elements, clear the optional column,
     * then delete a row. */
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"Test\",{\"T\":{\"" U1 "\":{\"modify\":{"
                  "\"cfg\":[\"map\",[[\"k2\",\"v3\"]]],"
                  "\"tags\":[\"set\",[\"y\",\"z\",\"w\"]],"
                  "\"opt\":\"o\"}}}}]}");
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"Test\",{\"T\":{\"" U2 "\":{\"delete\":null}}}]}");
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_count(f->idl, "T") == 1, 2000));
    r1 = row(f->idl, U1);
    assert_null(row(f->idl, U2));
    assert_string_equal(ovsdb_idl_get_map(r1, "cfg", "k2"), "v3");
    tags = ovsdb_idl_row_get(r1, "tags");
    assert_int_equal(ovsdb_idl_datum_n(tags), 2);
    assert_string_equal(json_string_value(ovsdb_idl_datum_key(tags, 0)),
                        "z");
    assert_string_equal(json_string_value(ovsdb_idl_datum_key(tags, 1)),
                        "w");
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(r1, "opt")), 0);
    assert_int_equal(ovsdb_idl_seqno(f->idl), seq + 3);

    /* An optional column changed from one value to another: Open
     * vSwitch's ovsdb-server sends the new value, hvs-ovsdb the
     * difference (both values); either way one value remains. */
    seq = ovsdb_idl_seqno(f->idl);
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"Test\",{\"T\":{\"" U1 "\":{\"modify\":{"
                  "\"opt\":\"p\"}}}}]}");
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"Test\",{\"T\":{\"" U1 "\":{\"modify\":{"
                  "\"opt\":\"q\"}}}}]}");
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_seqno(f->idl) == seq + 2, 2000));
    r1 = row(f->idl, U1);
    assert_string_equal(ovsdb_idl_get_string(r1, "opt"), "q");
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"Test\",{\"T\":{\"" U1 "\":{\"modify\":{"
                  "\"opt\":[\"set\",[\"q\",\"r\"]]}}}}]}");
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_seqno(f->idl) == seq + 3, 2000));
    r1 = row(f->idl, U1);
    assert_string_equal(ovsdb_idl_get_string(r1, "opt"), "r");

    /* Updates the IDL cannot apply change nothing. */
    seq = ovsdb_idl_seqno(f->idl);
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"Test\",{\"T\":{\"" U3 "\":{\"modify\":{\"n\":1}},"
                  "\"short\":{\"insert\":{}},"
                  "\"" U1 "\":{\"bogus\":{}}},"
                  "\"Other\":{\"" U3 "\":{\"insert\":{}}}}]}");
    fake_send_str(f, "{\"method\":\"update2\",\"id\":null,\"params\":"
                  "[\"other-monitor\",{\"T\":{\"" U3 "\":{\"insert\":{}}}}]}");
    /* An echo round trip proves both were processed. */
    fake_send_str(f, "{\"method\":\"echo\",\"params\":[\"ping\"],"
                  "\"id\":\"e1\"}");
    json_t *msg = fake_recv(f);
    struct jsonrpc_msg_view v;
    assert_int_equal(jsonrpc_msg_parse(msg, &v), JSONRPC_MSG_REPLY);
    assert_string_equal(json_string_value(v.id), "e1");
    assert_string_equal(json_string_value(json_array_get(v.result, 0)),
                        "ping");
    json_decref(msg);
    assert_int_equal(ovsdb_idl_seqno(f->idl), seq);
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 1);

    /* Unknown requests get an error, not silence. */
    fake_send_str(f, "{\"method\":\"lock\",\"params\":[],\"id\":9}");
    msg = fake_recv(f);
    assert_int_equal(jsonrpc_msg_parse(msg, &v), JSONRPC_MSG_ERROR);
    assert_int_equal(json_integer_value(v.id), 9);
    json_decref(msg);
}

static void
test_fake_monitor_fallback(void **state)
{
    struct fake *f = *state;
    const struct ovsdb_idl_row *r1;
    uint64_t seq;
    json_t *id;

    id = fake_handshake(f, true);
    fake_send_str(f, "{\"id\":0,\"error\":null,\"result\":{\"T\":{"
                  "\"" U1 "\":{\"new\":{\"name\":\"a\",\"tags\":"
                  "[\"set\",[\"x\",\"y\"]]}}}}}");
    /* The id above is wrong on purpose: ignored. */
    fake_send(f, jsonrpc_msg_reply(json_pack(
        "{s:{s:{s:{s:s, s:[s,[s,s]]}}}}", "T", U1, "new", "name", "a",
        "tags", "set", "x", "y"), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_is_connected(f->idl), 2000));
    assert_string_equal(ovsdb_idl_monitor_method(f->idl), "monitor");
    r1 = row(f->idl, U1);
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(r1, "tags")), 2);

    /* "update" carries whole new values, not differences. */
    seq = ovsdb_idl_seqno(f->idl);
    fake_send(f, jsonrpc_msg_notify("update", json_pack(
        "[s, {s:{s:{s:{s:s}, s:{s:s, s:s}}, s:{s:{s:s}}}}]", "Test", "T",
        U1, "old", "tags", "q", "new", "name", "a", "tags", "x",
        U2, "new", "name", "b")));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_seqno(f->idl) > seq, 2000));
    r1 = row(f->idl, U1);
    assert_string_equal(ovsdb_idl_get_string(r1, "tags"), "x");
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 2);
    fake_send(f, jsonrpc_msg_notify("update", json_pack(
        "[s, {s:{s:{s:{s:s}}}}]", "Test", "T", U2, "old", "name", "b")));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_count(f->idl, "T") == 1,
                          2000));

    /* When both monitors are refused, the IDL gives up on this
     * connection and tries again later. */
    ovsdb_idl_force_reconnect(f->idl);
    fake_accept(f);
    id = fake_expect(f, "get_schema", NULL);
    fake_send(f, jsonrpc_msg_reply(json_loads(test_schema, 0, NULL), id));
    id = fake_expect(f, "monitor_cond", NULL);
    fake_send(f, jsonrpc_msg_error(json_string("unknown method"), id));
    id = fake_expect(f, "monitor", NULL);
    fake_send(f, jsonrpc_msg_error(json_string("no way"), id));
    assert_true(RUN_UNTIL(f->idl,
                          strstr(ovsdb_idl_last_error(f->idl), "no way"),
                          2000));
    assert_false(ovsdb_idl_is_connected(f->idl));
    /* The replica stays as it was. */
    assert_true(ovsdb_idl_has_data(f->idl));
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 1);
}

static void
test_fake_txn(void **state)
{
    struct fake *f = *state;
    struct txn_outcome o1 = { 0 }, o2 = { 0 };
    struct ovsdb_idl_txn *txn;
    const char *name;
    json_t *id, *params, *op;

    id = fake_handshake(f, false);
    fake_send(f, jsonrpc_msg_reply(json_object(), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_is_connected(f->idl), 2000));
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 0);

    txn = ovsdb_idl_txn_create(f->idl);
    ovsdb_idl_txn_set(txn, "T", U1, "n", json_integer(7));
    ovsdb_idl_txn_set(txn, "T", U2, "n", json_integer(8));
    ovsdb_idl_txn_set(txn, "T", U1, "name", json_string("z"));
    json_t *m = ovsdb_idl_map_new();
    assert_int_equal(ovsdb_idl_map_add(m, json_string("a"), json_string("b")),
                     0);
    json_t *not_map = json_array();
    assert_int_equal(ovsdb_idl_map_add(not_map, json_null(), json_null()),
                     -EINVAL);
    assert_int_equal(ovsdb_idl_set_add(not_map, json_null()), -EINVAL);
    json_decref(not_map);
    ovsdb_idl_txn_mutate(txn, "T", U1, "cfg", "insert", m);
    json_t *s = ovsdb_idl_set_new();
    assert_int_equal(ovsdb_idl_set_add(s, ovsdb_idl_named_uuid("row1")), 0);
    name = ovsdb_idl_txn_insert(txn, "T", json_pack("{s:s}", "name", "new"));
    assert_string_equal(name, "row1");
    ovsdb_idl_txn_set(txn, "T", U2, "refs", s);
    ovsdb_idl_txn_delete(txn, "T", U3);
    assert_int_equal(ovsdb_idl_txn_n_ops(txn), 5);
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &o1), 0);

    id = fake_expect(f, "transact", &params);
    assert_int_equal(json_array_size(params), 6);
    assert_string_equal(json_string_value(json_array_get(params, 0)),
                        "Test");
    op = json_array_get(params, 1);
    json_t *want;

    want = json_pack("{s:s, s:s, s:[[s,s,[s,s]]], s:{s:i, s:s}}",
                             "op", "update", "table", "T", "where", "_uuid",
                             "==", "uuid", U1, "row", "n", 7, "name", "z");
    assert_true(json_equal(op, want));
    json_decref(want);
    op = json_array_get(params, 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(op, "row"), "n")), 8);
    want = json_pack("[s,[[s,s]]]", "set", "named-uuid", "row1");
    assert_true(json_equal(json_object_get(json_object_get(op, "row"),
                                           "refs"), want));
    json_decref(want);
    op = json_array_get(params, 3);
    assert_string_equal(json_string_value(json_object_get(op, "op")),
                        "mutate");
    want = json_pack("[[s,s,[s,[[s,s]]]]]", "cfg", "insert", "map", "a",
                     "b");
    assert_true(json_equal(json_object_get(op, "mutations"), want));
    json_decref(want);
    op = json_array_get(params, 4);
    assert_string_equal(json_string_value(json_object_get(op, "uuid-name")),
                        "row1");
    op = json_array_get(params, 5);
    assert_string_equal(json_string_value(json_object_get(op, "op")),
                        "delete");
    json_decref(params);

    /* A second transaction is in flight when the first one's reply, an
     * error, comes back. */
    txn = ovsdb_idl_txn_create(f->idl);
    ovsdb_idl_txn_add_op(txn, json_pack("{s:s, s:s}", "op", "comment",
                                        "comment", "hi"));
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &o2), 0);
    json_t *id2 = fake_expect(f, "transact", NULL);
    fake_send(f, jsonrpc_msg_reply(json_pack(
        "[{s:i},{s:i},{s:i},{s:[s,s]},{s:i},{s:s, s:s}]", "count", 1,
        "count", 1, "count", 1, "uuid", "uuid", U3, "count", 0,
        "error", "constraint violation", "details", "bad thing"), id));
    assert_true(RUN_UNTIL(f->idl, o1.done, 2000));
    assert_string_equal(o1.error, "constraint violation: bad thing");
    assert_int_equal(json_array_size(o1.result), 6);
    json_decref(o1.result);
    assert_false(o2.done);

    /* The connection drops with the second still pending. */
    json_decref(id2);
    jsonrpc_destroy(f->conn);
    f->conn = NULL;
    assert_true(RUN_UNTIL(f->idl, o2.done, 2000));
    assert_string_equal(o2.error, "connection lost");
    assert_null(o2.result);
    assert_false(ovsdb_idl_is_connected(f->idl));

    /* It reconnects, and a successful transaction reports no error. */
    id = fake_handshake(f, false);
    fake_send(f, jsonrpc_msg_reply(json_object(), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_n_sessions(f->idl) == 2, 2000));
    struct txn_outcome o4 = { 0 };
    txn = ovsdb_idl_txn_create(f->idl);
    ovsdb_idl_txn_set(txn, "T", U1, "n", json_integer(2));
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &o4), 0);
    id = fake_expect(f, "transact", NULL);
    fake_send(f, jsonrpc_msg_reply(json_pack("[{s:i}]", "count", 1), id));
    assert_true(RUN_UNTIL(f->idl, o4.done, 2000));
    assert_string_equal(o4.error, "");
    json_decref(o4.result);

    /* A JSON-RPC level error. */
    struct txn_outcome o5 = { 0 };
    txn = ovsdb_idl_txn_create(f->idl);
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &o5), 0);
    id = fake_expect(f, "transact", NULL);
    fake_send(f, jsonrpc_msg_error(json_string("unknown database"), id));
    assert_true(RUN_UNTIL(f->idl, o5.done, 2000));
    assert_string_equal(o5.error,
                        "transaction refused: \"unknown database\"");

    /* Aborting an uncommitted transaction sends nothing. */
    txn = ovsdb_idl_txn_create(f->idl);
    ovsdb_idl_txn_set(txn, "T", U1, "n", json_integer(3));
    ovsdb_idl_txn_abort(txn);
}

static void
test_fake_reconnect_snapshot(void **state)
{
    struct fake *f = *state;
    uint64_t seq;
    json_t *id;

    id = fake_handshake(f, false);
    fake_send(f, jsonrpc_msg_reply(json_pack(
        "{s:{s:{s:{s:s}}, s:{s:{s:s}}}}", "T", U1, "initial", "name", "a",
        U2, "initial", "name", "b"), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_count(f->idl, "T") == 2, 2000));
    seq = ovsdb_idl_seqno(f->idl);

    /* Server goes away: the replica is kept while disconnected. */
    jsonrpc_destroy(f->conn);
    f->conn = NULL;
    assert_true(RUN_UNTIL(f->idl, !ovsdb_idl_is_connected(f->idl), 2000));
    assert_string_equal(ovsdb_idl_last_error(f->idl),
                        "connection closed by server");
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 2);
    assert_int_equal(ovsdb_idl_seqno(f->idl), seq);

    /* The new snapshot replaces it: U1 gone, U3 new, U2 changed. */
    id = fake_handshake(f, false);
    fake_send(f, jsonrpc_msg_reply(json_pack(
        "{s:{s:{s:{s:s}}, s:{s:{s:s}}}}", "T", U2, "initial", "name", "B",
        U3, "initial", "name", "c"), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_n_sessions(f->idl) == 2, 2000));
    assert_int_equal(ovsdb_idl_count(f->idl, "T"), 2);
    assert_null(row(f->idl, U1));
    assert_string_equal(ovsdb_idl_get_string(row(f->idl, U2), "name"), "B");
    assert_string_equal(ovsdb_idl_get_string(row(f->idl, U3), "name"), "c");
    assert_true(ovsdb_idl_seqno(f->idl) > seq);
    assert_int_equal(ovsdb_idl_table_seqno(f->idl, "T"),
                     ovsdb_idl_seqno(f->idl));
    assert_int_equal(ovsdb_idl_table_seqno(f->idl, "nope"), 0);

    /* Garbage on the stream drops the connection too. */
    assert_int_equal(write(jsonrpc_fd(f->conn), "nonsense", 8), 8);
    assert_true(RUN_UNTIL(f->idl, !ovsdb_idl_is_connected(f->idl), 2000));
    assert_non_null(strstr(ovsdb_idl_last_error(f->idl), "Protocol"));
}

static void
test_fake_probe(void **state)
{
    struct fake *f = *state;
    json_t *id;
    uint64_t t0;

    id = fake_handshake(f, false);
    fake_send(f, jsonrpc_msg_reply(json_object(), id));
    assert_true(RUN_UNTIL(f->idl, ovsdb_idl_is_connected(f->idl), 2000));

    /* Idle: the IDL asks for an echo after the interval; answering keeps
     * the session. */
    ovsdb_idl_set_probe_interval(f->idl, 150);
    t0 = mono_ms();
    id = fake_expect(f, "echo", NULL);
    assert_true(mono_ms() - t0 >= 100);
    fake_send(f, jsonrpc_msg_reply(json_array(), id));
    id = fake_expect(f, "echo", NULL);
    json_decref(id);
    /* Silence now: the IDL gives up and reconnects. */
    assert_true(RUN_UNTIL(f->idl, !ovsdb_idl_is_connected(f->idl), 2000));
    assert_non_null(strstr(ovsdb_idl_last_error(f->idl), "probe"));
    ovsdb_idl_set_probe_interval(f->idl, 0);
    fake_accept(f);
    json_decref(fake_expect(f, "get_schema", NULL));
}

static void
test_fake_backoff(void **state)
{
    struct fake *f = *state;
    uint64_t t0, t1, t2;
    int fd;

    /* Nobody listens: attempts are spaced 1 s, then 2 s apart. */
    close(f->lfd);
    unlink(f->sock);
    ovsdb_idl_destroy(f->idl);
    f->idl = ovsdb_idl_create(f->remote, "Test", t_specs);
    t0 = mono_ms();
    assert_false(ovsdb_idl_is_connected(f->idl));
    assert_non_null(strstr(ovsdb_idl_last_error(f->idl),
                           "No such file"));

    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", f->sock);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    /* First retry after about 1 s. */
    fake_accept(f);
    t1 = mono_ms();
    assert_true(t1 - t0 >= 900 && t1 - t0 < 4000);
    /* Drop it before the monitor: no live session, so the backoff keeps
     * growing: the next attempt comes about 2 s later. */
    json_decref(fake_expect(f, "get_schema", NULL));
    jsonrpc_destroy(f->conn);
    f->conn = NULL;
    fake_accept(f);
    t2 = mono_ms();
    assert_true(t2 - t1 >= 1800 && t2 - t1 < 6000);
    fd = jsonrpc_fd(f->conn);
    assert_true(fd >= 0);
}

/* ======================================================================
 * Debian's ovsdb-server
 * ==================================================================== */

#define SCHEMA_FILE "/usr/share/openvswitch/vswitch.ovsschema"

struct real {
    bool available;
    char dir[64];
    char db[128], sock[128], remote[140], pidfile[128];
    struct ovsdb_idl *idl;
};

static bool
in_path(const char *prog)
{
    const char *dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin",
                           "/usr/local/sbin", "/usr/local/bin" };
    char path[256];
    size_t i;

    for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], prog);
        if (!access(path, X_OK)) {
            return true;
        }
    }
    return false;
}

static int
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
    char cmd[1024];
    va_list args;
    int status;

    va_start(args, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, args);
    va_end(args);
    status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of a command's output. */
static char *
capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
capture(const char *fmt, ...)
{
    static char line[512];
    char cmd[1024];
    va_list args;
    FILE *p;

    va_start(args, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, args);
    va_end(args);
    line[0] = '\0';
    p = popen(cmd, "r");
    assert_non_null(p);
    if (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
    }
    pclose(p);
    return line;
}

static void
server_start(struct real *r)
{
    assert_int_equal(run("ovsdb-server %s --remote=punix:%s --no-chdir "
                         "--unixctl=%s/ctl --pidfile=%s --log-file=%s/log "
                         "--detach 2>>%s/stderr", r->db, r->sock, r->dir,
                         r->pidfile, r->dir, r->dir), 0);
}

static void
server_stop(struct real *r)
{
    FILE *f = fopen(r->pidfile, "r");
    int pid = 0, i;

    if (!f) {
        return;
    }
    if (fscanf(f, "%d", &pid) != 1) {
        pid = 0;
    }
    fclose(f);
    if (pid > 0 && !kill(pid, SIGTERM)) {
        for (i = 0; i < 500 && !kill(pid, 0); i++) {
            usleep(10000);
        }
    }
}

static const char *const bridge_cols[] = { "name", "ports",
                                           "external_ids", "stp_enable",
                                           NULL };
static const struct ovsdb_idl_table_spec ovs_specs[] = {
    { "Open_vSwitch", NULL },
    { "Bridge", bridge_cols },
    { "Port", NULL },
    { "Interface", NULL },
    { NULL, NULL },
};

static int
real_setup(void **state)
{
    struct real *r = calloc(1, sizeof *r);

    log_set_spec("ANY:off");
    *state = r;
    r->available = in_path("ovsdb-server") && in_path("ovsdb-tool")
                   && in_path("ovs-vsctl") && !access(SCHEMA_FILE, R_OK);
    if (!r->available) {
        return 0;
    }
    snprintf(r->dir, sizeof r->dir, "/tmp/hvs-test-idl-ovs.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->db, sizeof r->db, "%s/conf.db", r->dir);
    snprintf(r->sock, sizeof r->sock, "%s/db.sock", r->dir);
    snprintf(r->remote, sizeof r->remote, "unix:%s", r->sock);
    snprintf(r->pidfile, sizeof r->pidfile, "%s/ovsdb-server.pid", r->dir);
    assert_int_equal(run("ovsdb-tool create %s %s", r->db, SCHEMA_FILE), 0);
    server_start(r);
    r->idl = ovsdb_idl_create(r->remote, "Open_vSwitch", ovs_specs);
    assert_non_null(r->idl);
    return 0;
}

static int
real_teardown(void **state)
{
    struct real *r = *state;

    if (r->available) {
        ovsdb_idl_destroy(r->idl);
        server_stop(r);
        run("rm -rf %s", r->dir);
    }
    free(r);
    return 0;
}

#define NEED_OVS(R)                                                     \
    do {                                                                \
        if (!(R)->available) {                                          \
            print_message("ovsdb-server/ovsdb-tool/ovs-vsctl or "       \
                          SCHEMA_FILE " not installed (Debian package " \
                          "openvswitch-switch); skipping\n");           \
            skip();                                                     \
        }                                                               \
    } while (0)

static const struct ovsdb_idl_row *
find_by_name(struct ovsdb_idl *idl, const char *table, const char *name)
{
    const struct ovsdb_idl_row *row;

    OVSDB_IDL_FOR_EACH (row, idl, table) {
        const char *n = ovsdb_idl_get_string(row, "name");

        if (n && !strcmp(n, name)) {
            return row;
        }
    }
    return NULL;
}

/* Does bridge 'br' have a port 'port' whose interface is 'port'? */
static bool
bridge_has_port(struct ovsdb_idl *idl, const char *br, const char *port)
{
    const struct ovsdb_idl_row *b = find_by_name(idl, "Bridge", br);
    size_t i, j;

    for (i = 0; b && i < ovsdb_idl_datum_n(ovsdb_idl_row_get(b, "ports"));
         i++) {
        const struct ovsdb_idl_row *p = ovsdb_idl_get_ref(idl, b, "ports",
                                                          i, "Port");
        const char *n = p ? ovsdb_idl_get_string(p, "name") : NULL;

        if (!n || strcmp(n, port)) {
            continue;
        }
        for (j = 0; j < ovsdb_idl_datum_n(ovsdb_idl_row_get(p,
                                                            "interfaces"));
             j++) {
            const struct ovsdb_idl_row *iface = ovsdb_idl_get_ref(
                idl, p, "interfaces", j, "Interface");

            if (iface && !strcmp(ovsdb_idl_get_string(iface, "name"),
                                 port)) {
                return true;
            }
        }
    }
    return false;
}

static void
test_real_replicate_and_write(void **state)
{
    struct real *r = *state;
    struct txn_outcome o = { 0 }, bad = { 0 }, cfg = { 0 };
    const struct ovsdb_idl_row *iface, *ovs, *br;
    struct ovsdb_idl_txn *txn;
    char uuid[40];
    int64_t v;
    bool b;

    NEED_OVS(r);
    assert_true(RUN_UNTIL(r->idl, ovsdb_idl_has_data(r->idl), 5000));
    assert_string_equal(ovsdb_idl_monitor_method(r->idl), "monitor_cond");
    assert_int_equal(ovsdb_idl_count(r->idl, "Bridge"), 0);

    assert_int_equal(run("ovs-vsctl --db=%s --no-wait init -- add-br br0 "
                         "-- add-port br0 p1 -- set Bridge br0 "
                         "external-ids:owner=test", r->remote), 0);
    assert_true(RUN_UNTIL(r->idl, bridge_has_port(r->idl, "br0", "p1"),
                          5000));
    assert_true(bridge_has_port(r->idl, "br0", "br0"));
    br = find_by_name(r->idl, "Bridge", "br0");
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(br, "ports")), 2);
    assert_string_equal(ovsdb_idl_get_map(br, "external_ids", "owner"),
                        "test");
    assert_true(ovsdb_idl_get_bool(br, "stp_enable", &b));
    assert_false(b);
    /* Not asked for. */
    assert_null(ovsdb_idl_row_get(br, "fail_mode"));
    assert_int_equal(ovsdb_idl_count(r->idl, "Interface"), 2);
    ovs = ovsdb_idl_first(r->idl, "Open_vSwitch");
    assert_non_null(ovs);
    assert_true(ovsdb_idl_get_integer(ovs, "next_cfg", &v));
    iface = find_by_name(r->idl, "Interface", "p1");
    assert_non_null(iface);
    assert_string_equal(ovsdb_idl_get_string(iface, "type"), "");
    assert_false(ovsdb_idl_get_integer(iface, "ofport", &v));

    /* Write back what hvs-vswitchd reports for an interface, and
     * cur_cfg. */
    snprintf(uuid, sizeof uuid, "%s", ovsdb_idl_row_uuid(iface));
    txn = ovsdb_idl_txn_create(r->idl);
    ovsdb_idl_txn_set(txn, "Interface", uuid, "ofport", json_integer(5));
    ovsdb_idl_txn_set(txn, "Interface", uuid, "ifindex",
                      json_integer(42));
    ovsdb_idl_txn_set(txn, "Interface", uuid, "mac_in_use",
                      json_string("02:00:00:00:00:01"));
    ovsdb_idl_txn_set(txn, "Interface", uuid, "admin_state",
                      json_string("up"));
    ovsdb_idl_txn_set(txn, "Interface", uuid, "link_state",
                      json_string("down"));
    ovsdb_idl_txn_set(txn, "Interface", uuid, "error",
                      json_string("could not open network device p1 "
                                  "(No such device)"));
    json_t *stats = ovsdb_idl_map_new();
    ovsdb_idl_map_add(stats, json_string("rx_packets"), json_integer(10));
    ovsdb_idl_map_add(stats, json_string("tx_bytes"), json_integer(1500));
    ovsdb_idl_txn_set(txn, "Interface", uuid, "statistics", stats);
    assert_int_equal(ovsdb_idl_txn_n_ops(txn), 1);
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &o), 0);
    assert_true(RUN_UNTIL(r->idl, o.done, 5000));
    assert_string_equal(o.error, "");
    json_decref(o.result);

    assert_string_equal(capture("ovs-vsctl --db=%s get Interface p1 ofport",
                                r->remote), "5");
    assert_string_equal(capture("ovs-vsctl --db=%s get Interface p1 "
                                "ifindex", r->remote), "42");
    assert_string_equal(capture("ovs-vsctl --db=%s get Interface p1 "
                                "statistics:tx_bytes", r->remote), "1500");
    assert_string_equal(capture("ovs-vsctl --db=%s get Interface p1 error",
                                r->remote),
                        "\"could not open network device p1 (No such "
                        "device)\"");
    /* And the replica hears of it through the monitor. */
    assert_true(RUN_UNTIL(r->idl,
                          ovsdb_idl_get_integer(ovsdb_idl_find(
                              r->idl, "Interface", uuid), "ofport", &v),
                          5000));
    assert_int_equal(v, 5);
    iface = ovsdb_idl_find(r->idl, "Interface", uuid);
    assert_string_equal(ovsdb_idl_get_string(iface, "link_state"), "down");
    assert_int_equal(ovsdb_idl_datum_n(ovsdb_idl_row_get(iface,
                                                         "statistics")), 2);

    /* ovs-vsctl without --no-wait bumps next_cfg and waits until the
     * switch sets cur_cfg to it: play the switch. */
    int64_t before;
    char rcfile[128];
    ovs = ovsdb_idl_first(r->idl, "Open_vSwitch");
    assert_true(ovsdb_idl_get_integer(ovs, "next_cfg", &before));
    snprintf(rcfile, sizeof rcfile, "%s/vsctl.rc", r->dir);
    assert_int_equal(run("(timeout 20 ovs-vsctl --db=%s set Bridge br0 "
                         "stp_enable=true; echo $? >%s.tmp; mv %s.tmp %s)"
                         " >/dev/null 2>&1 &", r->remote, rcfile, rcfile,
                         rcfile), 0);
    assert_true(RUN_UNTIL(r->idl,
                          ovsdb_idl_get_integer(ovsdb_idl_first(
                              r->idl, "Open_vSwitch"), "next_cfg", &v)
                          && v > before, 5000));
    ovs = ovsdb_idl_first(r->idl, "Open_vSwitch");
    assert_int_equal(access(rcfile, F_OK), -1);
    txn = ovsdb_idl_txn_create(r->idl);
    ovsdb_idl_txn_set(txn, "Open_vSwitch", ovsdb_idl_row_uuid(ovs),
                      "cur_cfg", json_integer(v));
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &cfg), 0);
    assert_true(RUN_UNTIL(r->idl, cfg.done, 5000));
    assert_string_equal(cfg.error, "");
    json_decref(cfg.result);
    char want[32];
    snprintf(want, sizeof want, "%" PRId64, v);
    assert_string_equal(capture("ovs-vsctl --db=%s get Open_vSwitch . "
                                "cur_cfg", r->remote), want);
    assert_true(RUN_UNTIL(r->idl, !access(rcfile, F_OK), 5000));
    assert_string_equal(capture("cat %s", rcfile), "0");

    /* The server refuses a value outside the column's enum. */
    txn = ovsdb_idl_txn_create(r->idl);
    ovsdb_idl_txn_set(txn, "Interface", uuid, "admin_state",
                      json_string("sideways"));
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, &bad), 0);
    assert_true(RUN_UNTIL(r->idl, bad.done, 5000));
    assert_non_null(strstr(bad.error, "constraint violation"));
    json_decref(bad.result);
    assert_string_equal(capture("ovs-vsctl --db=%s get Interface p1 "
                                "admin_state", r->remote), "up");

    /* A deleted port disappears from the replica. */
    assert_int_equal(run("ovs-vsctl --db=%s --no-wait del-port br0 p1",
                         r->remote), 0);
    assert_true(RUN_UNTIL(r->idl, !bridge_has_port(r->idl, "br0", "p1"),
                          5000));
    assert_null(ovsdb_idl_find(r->idl, "Interface", uuid));
    assert_int_equal(ovsdb_idl_count(r->idl, "Interface"), 1);
}

static void
test_real_restart(void **state)
{
    struct real *r = *state;
    uint64_t seq;

    NEED_OVS(r);
    assert_true(RUN_UNTIL(r->idl, ovsdb_idl_is_connected(r->idl), 5000));
    assert_int_equal(run("ovs-vsctl --db=%s --no-wait init -- add-br br0 "
                         "-- add-port br0 p1", r->remote), 0);
    assert_true(RUN_UNTIL(r->idl, bridge_has_port(r->idl, "br0", "p1"),
                          5000));
    assert_int_equal(ovsdb_idl_n_sessions(r->idl), 1);

    server_stop(r);
    assert_true(RUN_UNTIL(r->idl, !ovsdb_idl_is_connected(r->idl), 5000));
    /* The last known configuration stays readable meanwhile. */
    seq = ovsdb_idl_seqno(r->idl);
    assert_true(bridge_has_port(r->idl, "br0", "p1"));
    ovsdb_idl_wait(r->idl, 300);
    assert_int_equal(ovsdb_idl_seqno(r->idl), seq);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(r->idl);
    ovsdb_idl_txn_set(txn, "Bridge", ovsdb_idl_row_uuid(
                          find_by_name(r->idl, "Bridge", "br0")),
                      "stp_enable", json_true());
    assert_int_equal(ovsdb_idl_txn_commit(txn, txn_done, NULL), -ENOTCONN);

    server_start(r);
    assert_int_equal(run("ovs-vsctl --db=%s --no-wait add-port br0 p2",
                         r->remote), 0);
    /* Backoff is 1 s, then 2 s: well within 10 s. */
    assert_true(RUN_UNTIL(r->idl, bridge_has_port(r->idl, "br0", "p2"),
                          10000));
    assert_true(ovsdb_idl_is_connected(r->idl));
    assert_int_equal(ovsdb_idl_n_sessions(r->idl), 2);
    assert_true(bridge_has_port(r->idl, "br0", "p1"));
    assert_true(ovsdb_idl_seqno(r->idl) > seq);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fake_update2, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_fake_monitor_fallback,
                                        fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_fake_txn, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_fake_reconnect_snapshot,
                                        fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_fake_probe, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_fake_backoff, fake_setup,
                                        fake_teardown),
        cmocka_unit_test_setup_teardown(test_real_replicate_and_write,
                                        real_setup, real_teardown),
        cmocka_unit_test_setup_teardown(test_real_restart, real_setup,
                                        real_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
