/* Tests for lib/log.c: line format, levels and specs, destinations,
 * reopen, rate limiting. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

LOG_MODULE(test_log);

/* A second module to check that specs touch only what they name. */
static struct log_module other_module = {"test_other", LOG_L_INFO, NULL};

static char tmpdir[] = "/tmp/hvs-test-log.XXXXXX";
static char path[256];

static char *
slurp(const char *p)
{
    static char buf[65536];
    int fd = open(p, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
    return buf;
}

static int
count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static int
setup(void **state)
{
    (void)state;
    log_use_stderr(false);
    log_register(&other_module);
    snprintf(path, sizeof path, "%s/t.log", tmpdir);
    unlink(path);
    assert_int_equal(log_open_file(path), 0);
    assert_int_equal(log_set_spec("info"), 0);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    log_close();
    unlink(path);
    return 0;
}

static void
test_line_format(void **state)
{
    regex_t re;
    regmatch_t m[3];

    (void)state;
    LOG_INFO("hello %d", 42);
    LOG_WARN("second\n");
    LOG_ERR("third");

    const char *text = slurp(path);
    assert_int_equal(count_lines(text), 3);
    assert_int_equal(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                             "[0-9]{2}\\.[0-9]{3}Z\\|([0-9]{5,})\\|test_log\\|"
                             "INFO\\|hello 42\n",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regexec(&re, text, 3, m, 0), 0);
    regfree(&re);
    unsigned long seq1 = strtoul(text + m[1].rm_so, NULL, 10);

    const char *l2 = strchr(text, '\n') + 1;
    assert_non_null(strstr(l2, "|test_log|WARN|second\n"));
    unsigned long seq2 = strtoul(strchr(l2, '|') + 1, NULL, 10);
    assert_int_equal(seq2, seq1 + 1);
    assert_non_null(strstr(l2, "|test_log|ERR|third\n"));
}

static void
test_levels_filter(void **state)
{
    (void)state;
    LOG_DBG("not shown");
    assert_int_equal(count_lines(slurp(path)), 0);

    assert_int_equal(log_set_spec("test_log:dbg"), 0);
    assert_int_equal(log_module_.level, LOG_L_DBG);
    assert_int_equal(other_module.level, LOG_L_INFO);
    LOG_DBG("shown");
    assert_non_null(strstr(slurp(path), "|test_log|DBG|shown\n"));

    assert_int_equal(log_set_spec("test_log:warn"), 0);
    LOG_INFO("hidden");
    LOG_WARN("visible");
    const char *text = slurp(path);
    assert_null(strstr(text, "hidden"));
    assert_non_null(strstr(text, "|WARN|visible"));

    assert_int_equal(log_set_spec("off"), 0);
    LOG_ERR("nothing");
    assert_null(strstr(slurp(path), "nothing"));
}

static void
test_specs(void **state)
{
    char *msg = NULL;

    (void)state;
    /* vlog/set syntax: module:dest:level, any order, ANY wildcard. */
    assert_int_equal(log_set_spec("test_other:file:err"), 0);
    assert_int_equal(other_module.level, LOG_L_ERR);
    assert_int_equal(log_module_.level, LOG_L_INFO);
    assert_int_equal(log_set_spec("ANY:warn"), 0);
    assert_int_equal(other_module.level, LOG_L_WARN);
    assert_int_equal(log_module_.level, LOG_L_WARN);
    assert_int_equal(log_set_spec("dbg:TEST_LOG"), 0);
    assert_int_equal(log_module_.level, LOG_L_DBG);
    assert_int_equal(other_module.level, LOG_L_WARN);
    assert_int_equal(log_set_spec("ANY:ANY:info"), 0);
    assert_int_equal(log_module_.level, LOG_L_INFO);
    /* A module without a level means dbg, as with vlog. */
    assert_int_equal(log_set_spec("test_other"), 0);
    assert_int_equal(other_module.level, LOG_L_DBG);

    assert_int_equal(log_set_spec_msg("nosuch:dbg", &msg), -EINVAL);
    assert_string_equal(msg, "unknown module 'nosuch'");
    free(msg);
    assert_int_equal(log_set_spec_msg("info:warn", &msg), -EINVAL);
    assert_non_null(msg);
    free(msg);
    assert_int_equal(log_set_spec(""), -EINVAL);
    assert_int_equal(log_set_spec(":::"), -EINVAL);
    assert_int_equal(log_set_spec("a:b:c:d"), -EINVAL);
    assert_int_equal(log_set_spec("test_log:test_other"), -EINVAL);
    /* Failed specs change nothing. */
    assert_int_equal(log_module_.level, LOG_L_INFO);
    assert_int_equal(other_module.level, LOG_L_DBG);

    assert_int_equal(log_level_from_string("WARN"), LOG_L_WARN);
    assert_int_equal(log_level_from_string("debug"), LOG_L_DBG);
    assert_int_equal(log_level_from_string("loud"), -EINVAL);
    assert_string_equal(log_level_name(LOG_L_ERR), "err");
    assert_ptr_equal(log_find_module("TEST_OTHER"), &other_module);
    assert_null(log_find_module("nope"));
}

static void
test_list(void **state)
{
    (void)state;
    assert_int_equal(log_set_spec("test_other:err"), 0);
    char *list = log_list();
    assert_non_null(list);
    char *a = strstr(list, "test_log ");
    char *b = strstr(list, "test_other ");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b); /* sorted */
    assert_non_null(strstr(b, " err\n"));
    assert_true(strstr(a, " info\n") < b);
    free(list);
}

static void
test_reopen(void **state)
{
    char rotated[300];

    (void)state;
    LOG_INFO("before");
    snprintf(rotated, sizeof rotated, "%s.1", path);
    assert_int_equal(rename(path, rotated), 0);
    LOG_INFO("still old");
    assert_int_equal(log_reopen(), 0);
    LOG_INFO("after");

    const char *text = slurp(rotated);
    assert_non_null(strstr(text, "before"));
    assert_non_null(strstr(text, "still old"));
    assert_null(strstr(text, "after"));
    text = slurp(path);
    assert_non_null(strstr(text, "after"));
    assert_int_equal(count_lines(text), 1);
    unlink(rotated);

    /* A file that cannot be opened reports why and keeps the old one. */
    assert_int_equal(log_open_file("/nonexistent-dir/x.log"), -ENOENT);
    LOG_INFO("kept");
    assert_non_null(strstr(slurp(path), "kept"));

    /* No file: nothing to reopen, nothing written anywhere. */
    log_close();
    assert_int_equal(log_reopen(), 0);
    LOG_INFO("nowhere");
}

static void
test_stderr(void **state)
{
    int saved = dup(STDERR_FILENO);
    int fds[2];
    char buf[512];

    (void)state;
    assert_int_equal(pipe(fds), 0);
    dup2(fds[1], STDERR_FILENO);
    log_use_stderr(true);
    LOG_WARN("to stderr");
    log_use_stderr(false);
    LOG_WARN("not to stderr");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "|test_log|WARN|to stderr\n"));
    assert_null(strstr(buf, "not to"));
    assert_int_equal(count_lines(buf), 1);
}

static void
test_long_line(void **state)
{
    char *big = malloc(20000);

    (void)state;
    memset(big, 'x', 19999);
    big[19999] = '\0';
    LOG_INFO("%s", big);
    free(big);
    const char *text = slurp(path);
    assert_int_equal(count_lines(text), 1);
    assert_true(strlen(text) < 4096);
    assert_int_equal(text[strlen(text) - 1], '\n');
}

static void
test_rate_limit(void **state)
{
    struct log_rl rl = LOG_RL_INIT(6, 3); /* one per 10 s, burst 3 */
    uint64_t t = 1000000;

    (void)state;
    assert_true(log_rl_allow_at(&rl, t));
    assert_true(log_rl_allow_at(&rl, t));
    assert_true(log_rl_allow_at(&rl, t));
    assert_false(log_rl_allow_at(&rl, t));
    assert_false(log_rl_allow_at(&rl, t + 9999));
    assert_int_equal(rl.dropped, 2);
    assert_true(log_rl_allow_at(&rl, t + 10000));
    assert_int_equal(rl.dropped, 0);
    assert_false(log_rl_allow_at(&rl, t + 10000));
    /* After a long quiet spell the bucket is full again, not more. */
    t += 1000000;
    assert_true(log_rl_allow_at(&rl, t));
    assert_true(log_rl_allow_at(&rl, t));
    assert_true(log_rl_allow_at(&rl, t));
    assert_false(log_rl_allow_at(&rl, t));
    assert_int_equal(rl.dropped, 1);
}

static void
test_rate_limit_note(void **state)
{
    static struct log_rl rl = LOG_RL_INIT(1, 1);
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        LOG_RL(&rl, LOG_L_WARN, "flood %d", i);
    }
    const char *text = slurp(path);
    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "flood 0"));
    assert_int_equal(rl.dropped, 4);

    /* Pretend a minute has passed: the next message carries the count. */
    rl.tokens_ms = 0;
    LOG_RL(&rl, LOG_L_WARN, "flood again");
    text = slurp(path);
    assert_int_equal(count_lines(text), 3);
    const char *note = strstr(text, "|test_log|WARN|4 messages like the "
                                    "next were suppressed");
    assert_non_null(note);
    assert_true(note < strstr(text, "flood again"));
    assert_int_equal(rl.dropped, 0);

    /* Below the module level nothing is consumed or counted. */
    assert_int_equal(log_set_spec("test_log:err"), 0);
    LOG_RL(&rl, LOG_L_WARN, "filtered");
    assert_int_equal(rl.dropped, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_specs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stderr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_note, setup, teardown),
    };

    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(tmpdir);
    return rc;
}
