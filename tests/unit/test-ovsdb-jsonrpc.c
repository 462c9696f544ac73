/* Unit tests for ovsdb/jsonrpc.c: stream framing and message checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jsonrpc.h"

static struct jsonrpc_conn *
conn_with(const char *text)
{
    struct jsonrpc_conn *c = jsonrpc_conn_create(-1, "test");

    jsonrpc_conn_feed(c, text, strlen(text));
    return c;
}

static enum jsonrpc_status
next(struct jsonrpc_conn *c, json_t **msg)
{
    char *error = NULL;
    enum jsonrpc_status st = jsonrpc_conn_next(c, msg, &error);

    if (st == JSONRPC_BAD || st == JSONRPC_FATAL) {
        assert_non_null(error);
    }
    free(error);
    return st;
}

static void
test_back_to_back(void **state)
{
    struct jsonrpc_conn *c = conn_with(
        " {\"id\":1,\"method\":\"echo\",\"params\":[\"}{\\\"\"]}\n"
        "{\"id\":2,\"method\":\"echo\",\"params\":[]}{\"id\":3");
    json_t *m;

    (void) state;
    assert_int_equal(next(c, &m), JSONRPC_MSG);
    assert_int_equal(json_integer_value(json_object_get(m, "id")), 1);
    assert_string_equal(json_string_value(json_array_get(
        json_object_get(m, "params"), 0)), "}{\"");
    json_decref(m);
    assert_int_equal(next(c, &m), JSONRPC_MSG);
    assert_int_equal(json_integer_value(json_object_get(m, "id")), 2);
    json_decref(m);
    assert_int_equal(next(c, &m), JSONRPC_NONE);
    jsonrpc_conn_feed(c, ",\"method\":\"x\",\"params\":[]}", 27);
    assert_int_equal(next(c, &m), JSONRPC_MSG);
    assert_int_equal(json_integer_value(json_object_get(m, "id")), 3);
    json_decref(m);
    jsonrpc_conn_free(c);
}

static void
test_byte_by_byte(void **state)
{
    static const char text[] = "{\"id\":7,\"result\":{\"a\":[1,2,{}]},"
                               "\"error\":null}";
    struct jsonrpc_conn *c = jsonrpc_conn_create(-1, "t");
    json_t *m = NULL;
    size_t i;

    (void) state;
    for (i = 0; i < strlen(text); i++) {
        assert_int_equal(next(c, &m), JSONRPC_NONE);
        jsonrpc_conn_feed(c, &text[i], 1);
    }
    assert_int_equal(next(c, &m), JSONRPC_MSG);
    assert_null(jsonrpc_msg_check(m));
    json_decref(m);
    jsonrpc_conn_free(c);
}

static void
test_bad_then_good(void **state)
{
    struct jsonrpc_conn *c = conn_with("{\"id\":1,\"x\":[1,]} [1] "
                                       "{\"id\":2,\"method\":\"m\","
                                       "\"params\":[]}");
    json_t *m;

    (void) state;
    assert_int_equal(next(c, &m), JSONRPC_BAD);
    assert_int_equal(next(c, &m), JSONRPC_BAD);     /* not an object */
    assert_int_equal(next(c, &m), JSONRPC_MSG);
    json_decref(m);
    assert_false(c->eof);
    jsonrpc_conn_free(c);
}

static void
test_fatal_input(void **state)
{
    static const char *const inputs[] = {
        "hello", "{\"a\": [}", "]", "{\"a\":1}}",
    };
    size_t i;
    json_t *m;

    (void) state;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct jsonrpc_conn *c = conn_with(inputs[i]);
        enum jsonrpc_status st = next(c, &m);

        if (st == JSONRPC_MSG) {
            json_decref(m);
            st = next(c, &m);
        }
        assert_int_equal(st, JSONRPC_FATAL);
        assert_true(c->eof);
        jsonrpc_conn_free(c);
    }
}

static void
test_depth_limit(void **state)
{
    struct jsonrpc_conn *c = jsonrpc_conn_create(-1, "t");
    char *deep = malloc(JSONRPC_MAX_DEPTH + 2);
    json_t *m;

    (void) state;
    memset(deep, '[', JSONRPC_MAX_DEPTH + 1);
    jsonrpc_conn_feed(c, deep, JSONRPC_MAX_DEPTH + 1);
    assert_int_equal(next(c, &m), JSONRPC_FATAL);
    free(deep);
    jsonrpc_conn_free(c);
}

static void
test_msg_check(void **state)
{
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        { "{\"id\":1,\"method\":\"m\",\"params\":[]}", true },
        { "{\"id\":null,\"method\":\"m\",\"params\":[]}", true },
        { "{\"id\":1,\"result\":5,\"error\":null}", true },
        { "{\"method\":\"m\",\"params\":[]}", false },
        { "{\"id\":1,\"method\":5,\"params\":[]}", false },
        { "{\"id\":1,\"method\":\"m\",\"params\":5}", false },
        { "{\"id\":1}", false },
    };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *m = json_loads(cases[i].text, 0, NULL);

        assert_int_equal(jsonrpc_msg_check(m) == NULL, cases[i].ok);
        json_decref(m);
    }
}

static void
test_send_over_socket(void **state)
{
    int sv[2];
    struct jsonrpc_conn *a, *b;
    json_t *m;
    int i;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
                     0);
    a = jsonrpc_conn_create(sv[0], "a");
    b = jsonrpc_conn_create(sv[1], "b");
    for (i = 0; i < 3; i++) {
        jsonrpc_conn_send(a, jsonrpc_request("echo", json_pack("[i]", i),
                                             json_integer(i)));
    }
    assert_int_equal(jsonrpc_conn_backlog(a), 0);
    assert_true(jsonrpc_conn_read(b));
    for (i = 0; i < 3; i++) {
        assert_int_equal(next(b, &m), JSONRPC_MSG);
        assert_int_equal(json_integer_value(json_object_get(m, "id")), i);
        json_decref(m);
    }
    jsonrpc_conn_free(a);
    assert_false(jsonrpc_conn_read(b));     /* EOF */
    assert_true(b->eof);
    jsonrpc_conn_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_to_back),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_bad_then_good),
        cmocka_unit_test(test_fatal_input),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_msg_check),
        cmocka_unit_test(test_send_over_socket),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
