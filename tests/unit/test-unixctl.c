/* Tests for lib/unixctl.c: request framing and decoding, and a server on a
 * temporary socket driven the way a daemon's poll loop drives it. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "unixctl.h"

LOG_MODULE(test_unixctl);

static char tmpdir[] = "/tmp/hvs-test-unixctl.XXXXXX";
static char sock_path[200];

/* --- Decoding. --- */

static void
test_frame_len(void **state)
{
    (void)state;
    assert_int_equal(unixctl_frame_len("", 0), 0);
    assert_int_equal(unixctl_frame_len("  \n", 3), 0);
    assert_int_equal(unixctl_frame_len("{", 1), 0);
    assert_int_equal(unixctl_frame_len("{}", 2), 2);
    assert_int_equal(unixctl_frame_len(" {}{}", 5), 3);
    assert_int_equal(unixctl_frame_len("[1,[2]]x", 8), 7);
    /* Brackets inside strings, escaped quotes. */
    const char *s = "{\"a\":\"}]\\\"{\"}";
    assert_int_equal(unixctl_frame_len(s, strlen(s)), strlen(s));
    assert_int_equal(unixctl_frame_len(s, strlen(s) - 1), 0);
    assert_int_equal(unixctl_frame_len("\"str\"", 5), -1);
    assert_int_equal(unixctl_frame_len("12", 2), -1);
    assert_int_equal(unixctl_frame_len("x{}", 3), -1);
}

static int
parse(const char *s, struct unixctl_request *req, char **err)
{
    return unixctl_parse_request(s, strlen(s), req, err);
}

static void
test_parse_request(void **state)
{
    struct unixctl_request req;
    char *err;

    (void)state;
    assert_int_equal(parse("{\"id\":7,\"method\":\"fdb/show\","
                           "\"params\":[\"br0\",\"x y\"]}",
                           &req, &err),
                     0);
    assert_null(err);
    assert_int_equal(req.argc, 3);
    assert_string_equal(req.argv[0], "fdb/show");
    assert_string_equal(req.argv[1], "br0");
    assert_string_equal(req.argv[2], "x y");
    assert_null(req.argv[3]);
    assert_int_equal(json_integer_value(req.id), 7);
    unixctl_request_clear(&req);
    assert_null(req.argv);

    /* String ids and empty params are fine. */
    assert_int_equal(parse("{\"params\":[],\"method\":\"version\","
                           "\"id\":\"abc\"}",
                           &req, &err),
                     0);
    assert_int_equal(req.argc, 1);
    assert_string_equal(json_string_value(req.id), "abc");
    unixctl_request_clear(&req);

    /* Wrong but answerable: an error reply goes to the id. */
    assert_int_equal(
        parse("{\"id\":1,\"method\":\"a\",\"params\":[1]}", &req, &err),
        -EINVAL);
    assert_string_equal(err, "\"a\" command has non-string argument");
    assert_int_equal(json_integer_value(req.id), 1);
    assert_null(req.argv);
    free(err);
    unixctl_request_clear(&req);
    assert_int_equal(
        parse("{\"id\":2,\"method\":\"a\",\"params\":{}}", &req, &err),
        -EINVAL);
    assert_non_null(err);
    assert_int_equal(json_integer_value(req.id), 2);
    free(err);
    unixctl_request_clear(&req);

    /* Not requests at all. */
    static const char *const bad[] = {
        "{\"method\":\"a\",\"params\":[]}",             /* no id */
        "{\"id\":null,\"method\":\"a\",\"params\":[]}", /* notify */
        "{\"id\":1,\"result\":\"x\",\"error\":null}",   /* a reply */
        "{\"id\":1,\"method\":5,\"params\":[]}",
        "[\"id\",1]",
        "{\"id\":1,\"method\":\"a\",\"params\":[]",
        "{\"id\":1,\"method\":\"a\\u0000b\",\"params\":[]}",
        "{\"id\":1,\"method\":\"\xff\",\"params\":[]}",
        "{]",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &req, &err), -EPROTO);
        assert_null(err);
        assert_null(req.id);
        assert_null(req.argv);
    }
}

/* --- Server. --- */

static struct unixctl_server *server;
static struct unixctl_conn *deferred; /* test/defer's pending request */
static int defer_calls;

static void
cmd_echo(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    char buf[1024] = "";

    assert_string_equal(aux, "echo-aux");
    for (int i = 1; i < argc; i++) {
        strcat(buf, i > 1 ? "," : "");
        strcat(buf, argv[i]);
    }
    unixctl_reply(conn, buf);
}

static void
cmd_fail(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc;
    (void)argv;
    (void)aux;
    unixctl_reply_error(conn, "it failed\n");
}

static void
cmd_defer(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    (void)argc;
    (void)argv;
    (void)aux;
    defer_calls++;
    deferred = conn;
}

static void
cmd_big(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    size_t n = 3 * 1024 * 1024;
    char *text = malloc(n + 1);

    (void)argc;
    (void)argv;
    (void)aux;
    for (size_t i = 0; i < n; i++) {
        text[i] = 'a' + i % 26;
    }
    text[n] = '\0';
    unixctl_reply(conn, text);
    free(text);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(sock_path, sizeof sock_path, "%s/test.ctl", tmpdir);
    assert_int_equal(unixctl_server_create(sock_path, &server), 0);
    unixctl_command_register("test/echo", "ARG...", 1, 3, cmd_echo,
                             "echo-aux");
    unixctl_command_register("test/fail", "", 0, 0, cmd_fail, NULL);
    unixctl_command_register("test/defer", "", 0, 0, cmd_defer, NULL);
    unixctl_command_register("test/big", "", 0, 0, cmd_big, NULL);
    deferred = NULL;
    defer_calls = 0;
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unixctl_server_destroy(server);
    server = NULL;
    return 0;
}

static int
client(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    strcpy(sun.sun_path, sock_path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    return fd;
}

static void
send_str(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), strlen(s));
}

struct client_buf {
    char *data;
    size_t len, cap;
    bool eof;
};

static json_t *
take_reply(struct client_buf *cb)
{
    long n = unixctl_frame_len(cb->data ? cb->data : "", cb->len);

    if (n <= 0) {
        return NULL;
    }
    json_error_t err;
    json_t *j = json_loadb(cb->data, n, 0, &err);
    assert_non_null(j);
    memmove(cb->data, cb->data + n, cb->len - n);
    cb->len -= n;
    return j;
}

/* Runs the server as a poll loop would until 'fd' has a complete reply
 * (returned parsed) or is closed by the server (returns NULL and sets
 * '*closed'), for up to two seconds. */
static json_t *
await_reply(int fd, struct client_buf *cb, bool *closed)
{
    *closed = false;
    for (int i = 0; i < 400; i++) {
        json_t *j = take_reply(cb);

        if (j) {
            return j;
        }
        if (cb->eof) {
            *closed = true;
            return NULL;
        }
        struct pollfd p = {unixctl_server_fd(server), POLLIN, 0};
        poll(&p, 1, 5);
        unixctl_server_run(server);
        while (!cb->eof) {
            if (cb->cap - cb->len < 65536) {
                cb->cap = cb->len + 65536;
                cb->data = realloc(cb->data, cb->cap);
            }
            ssize_t r =
                recv(fd, cb->data + cb->len, cb->cap - cb->len, MSG_DONTWAIT);
            if (r > 0) {
                cb->len += r;
            } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                cb->eof = true;
            } else {
                break;
            }
        }
    }
    return take_reply(cb);
}

/* One request on a fresh connection; returns the reply. */
static json_t *
transact(const char *request)
{
    struct client_buf cb = {0};
    bool closed;
    int fd = client();

    send_str(fd, request);
    json_t *reply = await_reply(fd, &cb, &closed);
    close(fd);
    free(cb.data);
    assert_non_null(reply);
    return reply;
}

static void
assert_result(json_t *reply, json_int_t id, const char *text)
{
    assert_true(json_is_object(reply));
    assert_int_equal(json_object_size(reply), 3);
    assert_int_equal(json_integer_value(json_object_get(reply, "id")), id);
    assert_true(json_is_null(json_object_get(reply, "error")));
    assert_string_equal(json_string_value(json_object_get(reply, "result")),
                        text);
    json_decref(reply);
}

static void
assert_error(json_t *reply, json_int_t id, const char *text)
{
    assert_true(json_is_object(reply));
    /* As ovs-vswitchd sends it: id and error, no result member. */
    assert_int_equal(json_object_size(reply), 2);
    assert_int_equal(json_integer_value(json_object_get(reply, "id")), id);
    assert_string_equal(json_string_value(json_object_get(reply, "error")),
                        text);
    json_decref(reply);
}

static void
test_socket_file(void **state)
{
    struct unixctl_server *other;
    struct stat st;

    (void)state;
    assert_int_equal(stat(sock_path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A live server is not replaced. */
    assert_int_equal(unixctl_server_create(sock_path, &other), -EADDRINUSE);
    assert_null(other);

    /* A stale socket file is. */
    char stale[256];
    snprintf(stale, sizeof stale, "%s/stale.ctl", tmpdir);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, stale);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    assert_int_equal(unixctl_server_create(stale, &other), 0);
    unixctl_server_destroy(other);
    assert_int_equal(access(stale, F_OK), -1);

    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(unixctl_server_create(longpath, &other), -ENAMETOOLONG);
    assert_int_equal(unixctl_server_create("/nonexistent-dir/x.ctl", &other),
                     -ENOENT);
}

static void
test_builtins(void **state)
{
    char want[256];

    (void)state;
    snprintf(want, sizeof want, "%s (hvs) %s\n", program_invocation_short_name,
             HVS_VERSION);
    assert_result(transact("{\"id\":0,\"method\":\"version\",\"params\":[]}"),
                  0, want);

    json_t *r = transact("{\"id\":1,\"method\":\"list-commands\","
                         "\"params\":[]}");
    const char *text = json_string_value(json_object_get(r, "result"));
    assert_non_null(text);
    assert_memory_equal(text, "The available commands are:\n", 28);
    assert_non_null(strstr(text, "\n  test/echo               ARG...\n"));
    assert_non_null(strstr(text, "\n  version                 \n"));
    assert_non_null(strstr(text, "\n  vlog/set  "));
    assert_non_null(strstr(text, "\n  vlog/list  "));
    assert_non_null(strstr(text, "\n  vlog/reopen  "));
    /* Sorted by name. */
    assert_true(strstr(text, "list-commands") < strstr(text, "test/echo"));
    assert_true(strstr(text, "test/echo") < strstr(text, "version"));
    json_decref(r);

    assert_int_equal(log_set_spec("test_unixctl:info"), 0);
    assert_result(transact("{\"id\":2,\"method\":\"vlog/set\","
                           "\"params\":[\"test_unixctl:file:warn\"]}"),
                  2, "");
    assert_int_equal(log_module_.level, LOG_L_WARN);
    r = transact("{\"id\":3,\"method\":\"vlog/list\",\"params\":[]}");
    text = json_string_value(json_object_get(r, "result"));
    assert_non_null(text);
    assert_non_null(strstr(text, "test_unixctl"));
    assert_non_null(strstr(strstr(text, "test_unixctl"), "warn\n"));
    json_decref(r);
    assert_error(transact("{\"id\":4,\"method\":\"vlog/set\","
                          "\"params\":[\"nosuch:dbg\"]}"),
                 4, "bad spec 'nosuch:dbg': unknown module 'nosuch'\n");
    assert_int_equal(log_module_.level, LOG_L_WARN);
    assert_result(transact("{\"id\":5,\"method\":\"vlog/reopen\","
                           "\"params\":[]}"),
                  5, "");
}

static void
test_commands_and_errors(void **state)
{
    (void)state;
    assert_result(transact("{\"id\":10,\"method\":\"test/echo\","
                           "\"params\":[\"a\",\"b c\"]}"),
                  10, "a,b c\n");
    assert_error(transact("{\"id\":11,\"method\":\"test/fail\","
                          "\"params\":[]}"),
                 11, "it failed\n");
    assert_error(transact("{\"id\": 0, \"method\": \"no/such-cmd\", "
                          "\"params\": []}"),
                 0,
                 "\"no/such-cmd\" is not a valid command (use "
                 "\"list-commands\" to see a list of valid commands)\n");
    assert_error(transact("{\"id\":12,\"method\":\"test/echo\","
                          "\"params\":[]}"),
                 12, "\"test/echo\" command requires at least 1 arguments\n");
    assert_error(transact("{\"id\":13,\"method\":\"test/echo\","
                          "\"params\":[\"1\",\"2\",\"3\",\"4\"]}"),
                 13, "\"test/echo\" command takes at most 3 arguments\n");
    assert_error(transact("{\"id\":14,\"method\":\"test/echo\","
                          "\"params\":[\"1\",2]}"),
                 14, "\"test/echo\" command has non-string argument\n");
    /* The id comes back as sent, whatever its type. */
    json_t *r = transact("{\"id\":[\"x\",{\"y\":1}],\"method\":\"test/echo\","
                         "\"params\":[\"q\"]}");
    json_t *want = json_pack("[s{si}]", "x", "y", 1);
    assert_true(json_equal(json_object_get(r, "id"), want));
    json_decref(want);
    json_decref(r);
}

static void
test_stream_handling(void **state)
{
    struct client_buf cb = {0};
    bool closed;
    int fd = client();

    (void)state;
    /* Two pipelined requests in one write, answered in order. */
    send_str(fd, "{\"id\":1,\"method\":\"test/echo\",\"params\":[\"one\"]}\n"
                 "{\"id\":2,\"method\":\"test/echo\",\"params\":[\"two\"]}");
    assert_result(await_reply(fd, &cb, &closed), 1, "one\n");
    assert_result(await_reply(fd, &cb, &closed), 2, "two\n");

    /* A request trickling in byte by byte. */
    const char *req = "{\"id\":3,\"method\":\"test/echo\","
                      "\"params\":[\"}{\\\"\"]}";
    for (const char *p = req; *p; p++) {
        assert_int_equal(send(fd, p, 1, 0), 1);
        unixctl_server_run(server);
    }
    assert_result(await_reply(fd, &cb, &closed), 3, "}{\"\n");

    /* Half-close after the request, as ovs-appctl's peer did in the
     * reference capture: the reply still comes, then the server closes. */
    send_str(fd, "{\"id\":4,\"method\":\"version\",\"params\":[]}");
    shutdown(fd, SHUT_WR);
    json_t *r = await_reply(fd, &cb, &closed);
    assert_non_null(r);
    json_decref(r);
    assert_null(await_reply(fd, &cb, &closed));
    assert_true(closed);
    close(fd);
    free(cb.data);
}

static void
test_big_reply(void **state)
{
    (void)state;
    /* Larger than any socket buffer: written across several runs. */
    json_t *r = transact("{\"id\":1,\"method\":\"test/big\",\"params\":[]}");
    const char *text = json_string_value(json_object_get(r, "result"));
    assert_non_null(text);
    assert_int_equal(strlen(text), 3 * 1024 * 1024 + 1);
    assert_int_equal(text[26], 'a');
    json_decref(r);
}

static void
expect_closed(const char *data, size_t len)
{
    struct client_buf cb = {0};
    bool closed;
    int fd = client();

    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
    assert_null(await_reply(fd, &cb, &closed));
    assert_true(closed);
    close(fd);
    free(cb.data);
}

static void
test_bad_input_closes(void **state)
{
    static const char *const bad[] = {
        "hello",
        "\"just a string\"",
        "{\"id\":1,\"method\":\"version\",\"params\":[] garbage}",
        "{\"result\":\"x\",\"error\":null,\"id\":1}",
        "{\"method\":\"version\",\"params\":[],\"id\":null}",
        "[1,2,3]",
        "{]",
    };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_closed(bad[i], strlen(bad[i]));
    }

    /* An endless request is cut off at the limit. */
    size_t n = UNIXCTL_MAX_REQUEST + 4096;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, "{\"id\":1,\"method\":\"", 18);
    int fd = client();
    struct client_buf cb = {0};
    bool closed;
    size_t sent = 0;
    for (int i = 0; i < 2000 && sent < n; i++) {
        ssize_t k =
            send(fd, big + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) {
            sent += k;
        } else if (errno == EPIPE || errno == ECONNRESET) {
            break; /* the server gave up on us already */
        }
        unixctl_server_run(server);
    }
    assert_true(sent > UNIXCTL_MAX_REQUEST);
    assert_null(await_reply(fd, &cb, &closed));
    assert_true(closed);
    close(fd);
    free(big);
    free(cb.data);

    /* The server is unharmed. */
    assert_result(transact("{\"id\":9,\"method\":\"test/echo\","
                           "\"params\":[\"ok\"]}"),
                  9, "ok\n");
}

static void
test_deferred_reply(void **state)
{
    struct client_buf cb = {0};
    bool closed;
    int fd = client();

    (void)state;
    /* The second request waits behind the unanswered first. */
    send_str(fd, "{\"id\":1,\"method\":\"test/defer\",\"params\":[]}"
                 "{\"id\":2,\"method\":\"test/echo\",\"params\":[\"x\"]}");
    assert_null(await_reply(fd, &cb, &closed));
    assert_false(closed);
    assert_non_null(deferred);
    assert_int_equal(defer_calls, 1);

    /* Replying later, outside the server loop, wakes the server's fd. */
    unixctl_reply(deferred, "late");
    struct pollfd p = {unixctl_server_fd(server), POLLIN, 0};
    assert_int_equal(poll(&p, 1, 1000), 1);
    assert_result(await_reply(fd, &cb, &closed), 1, "late\n");
    assert_result(await_reply(fd, &cb, &closed), 2, "x\n");
    /* A second reply to the same request is ignored. */
    unixctl_reply(deferred, "again");
    deferred = NULL;

    /* The client goes away while its request is pending; the late reply
     * must still be safe and the connection then freed. */
    send_str(fd, "{\"id\":3,\"method\":\"test/defer\",\"params\":[]}");
    assert_null(await_reply(fd, &cb, &closed));
    assert_non_null(deferred);
    close(fd);
    for (int i = 0; i < 10; i++) {
        unixctl_server_run(server);
    }
    unixctl_reply(deferred, "nobody listens");
    unixctl_server_run(server);
    deferred = NULL;
    free(cb.data);

    /* Server still serves. */
    assert_result(transact("{\"id\":4,\"method\":\"test/echo\","
                           "\"params\":[\"still\"]}"),
                  4, "still\n");
}

static void
test_abandoned_requests(void **state)
{
    int fds[80];

    (void)state;
    /* Clients that hang up on unanswered requests give their descriptors
     * back: more of them than the connection limit leave room for more. */
    for (int i = 0; i < 80; i++) {
        fds[i] = client();
        send_str(fds[i], "{\"id\":1,\"method\":\"test/defer\","
                         "\"params\":[]}");
        unixctl_server_run(server);
        unixctl_server_run(server);
        close(fds[i]);
        unixctl_server_run(server);
    }
    assert_int_equal(defer_calls, 80);
    assert_result(transact("{\"id\":2,\"method\":\"test/echo\","
                           "\"params\":[\"room\"]}"),
                  2, "room\n");
    /* The last one may still be answered, into the void. */
    unixctl_reply(deferred, "late");
    unixctl_server_run(server);
}

static void
test_idle_fd_not_ready(void **state)
{
    int fd = client();
    struct pollfd p = {unixctl_server_fd(server), POLLIN, 0};

    (void)state;
    unixctl_server_run(server); /* accept */
    unixctl_server_run(server);
    /* Nothing to do: a caller's poll must sleep, not spin. */
    assert_int_equal(poll(&p, 1, 50), 0);
    send_str(fd, "{");
    assert_int_equal(poll(&p, 1, 1000), 1);
    unixctl_server_run(server);
    assert_int_equal(poll(&p, 1, 50), 0);
    close(fd);
    assert_int_equal(poll(&p, 1, 1000), 1);
    unixctl_server_run(server);
    assert_int_equal(poll(&p, 1, 50), 0);
}

static void
test_destroy_removes_socket(void **state)
{
    (void)state;
    int fd = client(); /* an open connection is closed too */
    unixctl_server_run(server);
    unixctl_server_destroy(server);
    server = NULL;
    assert_int_equal(access(sock_path, F_OK), -1);
    char c;
    assert_int_equal(recv(fd, &c, 1, 0), 0);
    close(fd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_len),
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builtins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands_and_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stream_handling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_closes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deferred_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_requests, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idle_fd_not_ready, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_destroy_removes_socket, setup,
                                        teardown),
    };

    log_use_stderr(false);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return rc;
}
