/* Tests for lib/jsonrpc.c: splitting a byte stream into JSON values
 * however it is chunked, parse errors, message shapes, and connections
 * over socketpairs and real unix/tcp sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "jsonrpc.h"

/* Feeds 'stream' in chunks of 'chunk' bytes and collects every value,
 * compact-encoded and joined by '|'. */
static char *
split(const char *stream, size_t len, size_t chunk, int *result)
{
    struct jsonrpc_parser *p = jsonrpc_parser_create(0);
    static char out[8192];
    size_t ofs = 0, o = 0;
    int r = 0;

    out[0] = '\0';
    assert_non_null(p);
    while (ofs < len && r >= 0) {
        size_t n = len - ofs < chunk ? len - ofs : chunk;
        json_t *v;

        assert_int_equal(jsonrpc_parser_feed(p, stream + ofs, n), 0);
        ofs += n;
        while ((r = jsonrpc_parser_next(p, &v, NULL)) > 0) {
            char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

            o += snprintf(out + o, sizeof out - o, "%s%s", o ? "|" : "",
                          s);
            free(s);
            json_decref(v);
        }
    }
    *result = r;
    jsonrpc_parser_destroy(p);
    return out;
}

static const char two_msgs[] =
    "{\"method\":\"echo\",\"params\":[\"}{\\\"]\"],\"id\":1}  \n"
    "[1,{\"a\":[[],{}]},\"\\\\\"]\r\n\t";

static void
test_split_any_chunking(void **state)
{
    const char *want =
        "{\"id\":1,\"method\":\"echo\",\"params\":[\"}{\\\"]\"]}"
        "|[1,{\"a\":[[],{}]},\"\\\\\"]";
    size_t chunk;
    int r;

    (void) state;
    /* Every chunk size from one byte at a time to all at once. */
    for (chunk = 1; chunk <= sizeof two_msgs; chunk++) {
        char *got = split(two_msgs, sizeof two_msgs - 1, chunk, &r);

        assert_int_equal(r, 0);
        assert_string_equal(got, want);
    }
}

static void
test_split_merged_many(void **state)
{
    char buf[4096];
    size_t len = 0;
    int i, r;
    char *got, *tok;

    (void) state;
    for (i = 0; i < 50; i++) {
        len += snprintf(buf + len, sizeof buf - len, "{\"id\":%d}", i);
    }
    got = split(buf, len, len, &r);
    assert_int_equal(r, 0);
    for (i = 0, tok = strtok(got, "|"); tok; tok = strtok(NULL, "|"), i++) {
        char want[32];

        snprintf(want, sizeof want, "{\"id\":%d}", i);
        assert_string_equal(tok, want);
    }
    assert_int_equal(i, 50);
}

static void
test_split_partial_waits(void **state)
{
    struct jsonrpc_parser *p = jsonrpc_parser_create(0);
    json_t *v;

    (void) state;
    assert_int_equal(jsonrpc_parser_feed(p, "{\"a\":\"}", 7), 0);
    assert_int_equal(jsonrpc_parser_next(p, &v, NULL), 0);
    assert_null(v);
    assert_int_equal(jsonrpc_parser_buffered(p), 7);
    assert_int_equal(jsonrpc_parser_feed(p, "\"}{", 3), 0);
    assert_int_equal(jsonrpc_parser_next(p, &v, NULL), 1);
    assert_string_equal(json_string_value(json_object_get(v, "a")), "}");
    json_decref(v);
    assert_int_equal(jsonrpc_parser_next(p, &v, NULL), 0);
    assert_int_equal(jsonrpc_parser_buffered(p), 1);
    jsonrpc_parser_destroy(p);
}

static void
expect_error_max(const char *stream, size_t max, int want_error,
                 const char *want_text)
{
    struct jsonrpc_parser *p = jsonrpc_parser_create(max);
    const char *why = NULL;
    json_t *v;
    int r;

    assert_int_equal(jsonrpc_parser_feed(p, stream, strlen(stream)), 0);
    while ((r = jsonrpc_parser_next(p, &v, &why)) > 0) {
        json_decref(v);
    }
    assert_int_equal(r, want_error);
    assert_non_null(why);
    assert_non_null(strstr(why, want_text));
    /* Sticky: more input does not revive the stream. */
    assert_int_equal(jsonrpc_parser_feed(p, "{}", 2), 0);
    assert_int_equal(jsonrpc_parser_next(p, &v, NULL), want_error);
    assert_null(v);
    jsonrpc_parser_destroy(p);
}

static void
expect_error(const char *stream, int want_error, const char *want_text)
{
    expect_error_max(stream, 64, want_error, want_text);
}

static void
test_split_errors(void **state)
{
    char deep[600];

    (void) state;
    expect_error("{} x", -EPROTO, "0x78");
    expect_error("\"str\"", -EPROTO, "must start");
    expect_error("{\"a\":}", -EPROTO, "invalid JSON");
    expect_error("{\"a\":1]", -EPROTO, "invalid JSON");
    expect_error("[tru]", -EPROTO, "invalid JSON");
    /* The limit was 64 bytes: a 70-byte value, complete or not. */
    expect_error("[\"0123456789012345678901234567890123456789012345678901"
                 "234567890123\"]", -EMSGSIZE, "longer than 64");
    expect_error("[\"0123456789012345678901234567890123456789012345678901"
                 "234567890123", -EMSGSIZE, "longer than 64");
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    expect_error_max(deep, 0, -EPROTO, "nested");
    /* Whichever limit is hit first wins, wherever the chunks end. */
    expect_error(deep, -EMSGSIZE, "longer than 64");
}

static void
test_msg_shapes(void **state)
{
    struct jsonrpc_msg_view v;
    json_t *m;

    (void) state;
    m = jsonrpc_msg_request("transact", json_pack("[s]", "db"),
                            json_integer(7));
    assert_int_equal(jsonrpc_msg_parse(m, &v), JSONRPC_MSG_REQUEST);
    assert_string_equal(v.method, "transact");
    assert_int_equal(json_integer_value(v.id), 7);
    assert_int_equal(json_array_size(v.params), 1);
    json_decref(m);

    m = jsonrpc_msg_notify("update2", NULL);
    assert_int_equal(jsonrpc_msg_parse(m, &v), JSONRPC_MSG_NOTIFY);
    assert_true(json_is_null(v.id));
    assert_int_equal(json_array_size(v.params), 0);
    json_decref(m);

    m = jsonrpc_msg_reply(json_pack("[i]", 1), json_string("x"));
    assert_int_equal(jsonrpc_msg_parse(m, &v), JSONRPC_MSG_REPLY);
    assert_string_equal(json_string_value(v.id), "x");
    assert_true(json_is_null(json_object_get(m, "error")));
    json_decref(m);

    m = jsonrpc_msg_error(json_string("unknown method"), json_integer(2));
    assert_int_equal(jsonrpc_msg_parse(m, &v), JSONRPC_MSG_ERROR);
    assert_string_equal(json_string_value(v.error), "unknown method");
    assert_string_equal(jsonrpc_msg_type_name(v.type), "error");
    json_decref(m);

    /* Not JSON-RPC. */
    const char *bad[] = {
        "[1]", "{}", "{\"method\":1,\"params\":[]}",
        "{\"method\":\"m\",\"params\":{}}", "{\"method\":\"m\"}",
        "{\"result\":1}", "{\"result\":1,\"id\":null}",
        "{\"method\":\"m\",\"params\":[],\"result\":1,\"id\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        m = json_loads(bad[i], 0, NULL);
        assert_non_null(m);
        assert_int_equal(jsonrpc_msg_parse(m, &v), JSONRPC_MSG_INVALID);
        json_decref(m);
    }
    /* An error with a null id is valid (a reply to garbage). */
    m = json_loads("{\"result\":null,\"error\":\"e\",\"id\":null}", 0, NULL);
    assert_int_equal(jsonrpc_msg_parse(m, &v), JSONRPC_MSG_ERROR);
    json_decref(m);
}

/* Receives one message within 2 s, running both ends so that queued
 * output drains while we wait. */
static json_t *
recv_wait(struct jsonrpc *rx, struct jsonrpc *tx)
{
    json_t *msg = NULL;
    int i, r;

    for (i = 0; i < 2000; i++) {
        if (tx) {
            assert_int_equal(jsonrpc_run(tx), 0);
        }
        r = jsonrpc_recv(rx, &msg);
        assert_true(r >= 0);
        if (r == 1) {
            return msg;
        }
        struct pollfd pfd = { .fd = jsonrpc_fd(rx), .events = POLLIN };
        poll(&pfd, 1, 1);
    }
    fail_msg("no message within 2 s");
    return NULL;
}

static void
test_conn_socketpair_large(void **state)
{
    struct jsonrpc *a, *b;
    json_t *big = json_array(), *got;
    int sv[2];
    int i;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    a = jsonrpc_create(sv[0], "a", false);
    b = jsonrpc_create(sv[1], "b", false);
    assert_string_equal(jsonrpc_name(a), "a");

    /* About 2 MB: more than the socket buffers, so send() must queue and
     * never block. */
    for (i = 0; i < 100000; i++) {
        json_array_append_new(big, json_string("0123456789abcdef"));
    }
    assert_int_equal(jsonrpc_send(a, jsonrpc_msg_notify("big",
                                                        json_incref(big))),
                     0);
    assert_true(jsonrpc_backlog(a) > 0);
    assert_true(jsonrpc_poll_events(a) & POLLOUT);
    assert_int_equal(jsonrpc_send(a, jsonrpc_msg_request(
                         "echo", NULL, json_integer(1))), 0);

    got = recv_wait(b, a);
    assert_true(json_equal(json_object_get(got, "params"), big));
    json_decref(got);
    got = recv_wait(b, a);
    assert_string_equal(json_string_value(json_object_get(got, "method")),
                        "echo");
    json_decref(got);
    assert_int_equal(jsonrpc_backlog(a), 0);
    assert_int_equal(jsonrpc_poll_events(a), POLLIN);
    json_decref(big);

    /* Peer closes: EOF is reported and sticks; sending fails too. */
    jsonrpc_destroy(a);
    json_t *m;
    assert_int_equal(jsonrpc_recv(b, &m), -EPIPE);
    assert_int_equal(jsonrpc_recv(b, &m), -EPIPE);
    assert_int_equal(jsonrpc_error(b), -EPIPE);
    assert_int_equal(jsonrpc_send(b, jsonrpc_msg_notify("x", NULL)),
                     -EPIPE);
    jsonrpc_destroy(b);
}

static void
test_conn_garbage(void **state)
{
    struct jsonrpc *b;
    json_t *m;
    int sv[2];

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    b = jsonrpc_create(sv[1], "b", false);
    assert_int_equal(write(sv[0], "{\"id\":1} hello", 14), 14);
    m = recv_wait(b, NULL);
    json_decref(m);
    assert_int_equal(jsonrpc_recv(b, &m), -EPROTO);
    assert_null(m);
    close(sv[0]);
    jsonrpc_destroy(b);
}

static void
test_conn_max_msg(void **state)
{
    struct jsonrpc *b;
    json_t *m;
    int sv[2], i, r = 0;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    b = jsonrpc_create(sv[1], "b", false);
    jsonrpc_set_max_msg(b, 100);
    assert_int_equal(write(sv[0], "[\"", 2), 2);
    for (i = 0; i < 20; i++) {
        assert_int_equal(write(sv[0], "0123456789", 10), 10);
    }
    for (i = 0; i < 100 && r == 0; i++) {
        r = jsonrpc_recv(b, &m);
    }
    assert_int_equal(r, -EMSGSIZE);
    close(sv[0]);
    jsonrpc_destroy(b);
}

static void
test_connect_remotes(void **state)
{
    char dir[] = "/tmp/hvs-test-jsonrpc.XXXXXX";
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t slen = sizeof sin;
    char remote[160];
    struct jsonrpc *c, *s;
    json_t *m;
    bool in_progress;
    int lfd, afd, err;

    (void) state;
    assert_non_null(mkdtemp(dir));

    /* Malformed and unsupported remotes. */
    assert_int_equal(jsonrpc_connect("nothing", &in_progress), -EINVAL);
    assert_int_equal(jsonrpc_connect("unix:", &in_progress), -EINVAL);
    assert_int_equal(jsonrpc_connect("ssl:1.2.3.4:6640", &in_progress),
                     -EAFNOSUPPORT);
    assert_int_equal(jsonrpc_connect("tcp:1.2.3.4", &in_progress), -EINVAL);
    assert_int_equal(jsonrpc_connect("tcp:1.2.3.4:0", &in_progress),
                     -EINVAL);
    assert_int_equal(jsonrpc_connect("tcp:1.2.3.4:70000", &in_progress),
                     -EINVAL);
    assert_int_equal(jsonrpc_connect("tcp:host:80", &in_progress), -EINVAL);
    assert_int_equal(jsonrpc_connect("tcp:[::1:80", &in_progress), -EINVAL);
    snprintf(remote, sizeof remote, "unix:%s/none", dir);
    assert_int_equal(jsonrpc_connect(remote, &in_progress), -ENOENT);
    assert_null(jsonrpc_open(remote, &err));
    assert_int_equal(err, -ENOENT);

    /* unix: */
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/sock", dir);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(lfd, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(lfd, 4), 0);
    snprintf(remote, sizeof remote, "unix:%s", sun.sun_path);
    c = jsonrpc_open(remote, &err);
    assert_non_null(c);
    assert_int_equal(err, 0);
    afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    s = jsonrpc_create(afd, "server", false);
    assert_int_equal(jsonrpc_send(c, jsonrpc_msg_request(
                         "get_schema", json_pack("[s]", "db"),
                         json_integer(3))), 0);
    m = recv_wait(s, c);
    assert_string_equal(json_string_value(json_object_get(m, "method")),
                        "get_schema");
    json_decref(m);
    jsonrpc_destroy(c);
    jsonrpc_destroy(s);
    close(lfd);
    unlink(sun.sun_path);

    /* tcp: on an ephemeral loopback port. */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *) &sin, &slen), 0);
    snprintf(remote, sizeof remote, "tcp:127.0.0.1:%d", ntohs(sin.sin_port));
    c = jsonrpc_open(remote, &err);
    assert_non_null(c);
    afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    s = jsonrpc_create(afd, "server", false);
    assert_int_equal(jsonrpc_send(c, jsonrpc_msg_notify("hi", NULL)), 0);
    m = recv_wait(s, c);
    assert_string_equal(json_string_value(json_object_get(m, "method")),
                        "hi");
    json_decref(m);
    /* And back. */
    assert_int_equal(jsonrpc_send(s, jsonrpc_msg_reply(json_true(),
                                                       json_integer(1))),
                     0);
    m = recv_wait(c, s);
    assert_true(json_is_true(json_object_get(m, "result")));
    json_decref(m);
    jsonrpc_destroy(c);
    jsonrpc_destroy(s);
    close(lfd);

    /* tcp: to a closed port: refused, now or once the connect ends. */
    snprintf(remote, sizeof remote, "tcp:[::1]:%d", ntohs(sin.sin_port));
    c = jsonrpc_open(remote, &err);
    if (c) {
        int i;

        for (i = 0; i < 1000 && !jsonrpc_run(c); i++) {
            usleep(1000);
        }
        err = jsonrpc_error(c);
        jsonrpc_destroy(c);
    }
    assert_true(err == -ECONNREFUSED || err == -EADDRNOTAVAIL
                || err == -ENETUNREACH || err == -EAFNOSUPPORT);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_any_chunking),
        cmocka_unit_test(test_split_merged_many),
        cmocka_unit_test(test_split_partial_waits),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_msg_shapes),
        cmocka_unit_test(test_conn_socketpair_large),
        cmocka_unit_test(test_conn_garbage),
        cmocka_unit_test(test_conn_max_msg),
        cmocka_unit_test(test_connect_remotes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
