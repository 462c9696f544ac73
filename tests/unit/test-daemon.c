/* Tests for lib/daemon.c: argument parsing (in forked children where the
 * code under test exits), path helpers, the pid file lock and --detach. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "log.h"

LOG_MODULE(test_daemon);

static char tmpdir[] = "/tmp/hvs-test-daemon.XXXXXX";

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))

/* Extra options of a pretend daemon. */
struct extra_state {
    int port;
    bool fast;
};

static const struct option extra_options[] = {
    {"port", required_argument, NULL, 'p'},
    {"fast", no_argument, NULL, 'F'},
    {NULL, 0, NULL, 0},
};

static int
extra_opt(int c, const char *arg, void *aux_)
{
    struct extra_state *aux = aux_;

    switch (c) {
    case 'p':
        aux->port = atoi(arg);
        if (aux->port <= 0) {
            fprintf(stderr, "hvs-test: bad port '%s'\n", arg);
            return -1;
        }
        return 0;
    case 'F':
        aux->fast = true;
        return 0;
    default:
        return -1;
    }
}

static int
parse(struct daemon_opts *o, int argc, char **argv, struct extra_state *x)
{
    memset(o, 0, sizeof *o);
    o->program = "hvs-test";
    return daemon_parse_args(o, argc, argv, extra_options, "p:", extra_opt, x,
                             "Test options:\n  --port=N\n");
}

/* What a forked child printed and how it ended. */
struct child_result {
    int status;
    char out[8192];
    char err[8192];
};

static void
read_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t n;

    while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0) {
        len += n;
    }
    buf[len] = '\0';
    close(fd);
}

/* Runs fn(arg) in a child with stdout and stderr captured; fn should
 * exit. */
static void
run_child(void (*fn)(void *), void *arg, struct child_result *r)
{
    int out[2], err[2];

    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(err[0]);
        close(out[1]);
        close(err[1]);
        fn(arg);
        _exit(99);
    }
    close(out[1]);
    close(err[1]);
    read_all(out[0], r->out, sizeof r->out);
    read_all(err[0], r->err, sizeof r->err);
    assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

static int
exit_code(const struct child_result *r)
{
    return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

static void
test_defaults(void **state)
{
    struct daemon_opts o;
    struct extra_state x = {0};

    (void)state;
    setenv("HVS_RUNDIR", "/tmp/from-env", 1);
    assert_int_equal(parse(&o, 1, ARGV("hvs-test"), &x), 1);
    assert_string_equal(o.rundir, "/tmp/from-env");
    assert_null(o.log_file);
    assert_null(o.pidfile);
    assert_false(o.detach);
    assert_false(o.syslog);
    daemon_finish(&o);

    unsetenv("HVS_RUNDIR");
    assert_int_equal(parse(&o, 1, ARGV("hvs-test"), &x), 1);
    assert_string_equal(o.rundir, "/run/hvs");
    char *p = daemon_path(&o, "datapath.sock");
    assert_string_equal(p, "/run/hvs/datapath.sock");
    free(p);
    daemon_finish(&o);
    assert_null(o.rundir);
}

static void
test_common_flags(void **state)
{
    struct daemon_opts o;
    struct extra_state x = {0};

    (void)state;
    /* --pidfile and --log-file defaults follow a later --rundir. */
    int argc =
        ARGC("hvs-test", "--pidfile", "--log-file", "--detach", "--syslog",
             "--rundir=/tmp/rd", "-p", "77", "--fast", "pos1", "pos2");
    char **argv =
        ARGV("hvs-test", "--pidfile", "--log-file", "--detach", "--syslog",
             "--rundir=/tmp/rd", "-p", "77", "--fast", "pos1", "pos2");
    int idx = parse(&o, argc, argv, &x);
    assert_int_equal(idx, argc - 2);
    assert_string_equal(argv[idx], "pos1");
    assert_string_equal(o.rundir, "/tmp/rd");
    assert_string_equal(o.pidfile, "/tmp/rd/hvs-test.pid");
    assert_string_equal(o.log_file, "/tmp/rd/hvs-test.log");
    assert_true(o.detach);
    assert_true(o.syslog);
    assert_int_equal(x.port, 77);
    assert_true(x.fast);
    char *p = daemon_path(&o, "db.sock");
    assert_string_equal(p, "/tmp/rd/db.sock");
    free(p);
    daemon_finish(&o);

    /* Explicit files; the last of repeated flags wins. */
    x = (struct extra_state){0};
    argc = ARGC("hvs-test", "--pidfile=/a.pid", "--log-file=/b.log",
                "--rundir", "/x", "--rundir=/y", "--port=5");
    argv = ARGV("hvs-test", "--pidfile=/a.pid", "--log-file=/b.log",
                "--rundir", "/x", "--rundir=/y", "--port=5");
    assert_int_equal(parse(&o, argc, argv, &x), argc);
    assert_string_equal(o.pidfile, "/a.pid");
    assert_string_equal(o.log_file, "/b.log");
    assert_string_equal(o.rundir, "/y");
    assert_int_equal(x.port, 5);
    assert_false(x.fast);
    daemon_finish(&o);
}

static void
test_verbose(void **state)
{
    struct daemon_opts o;
    struct extra_state x = {0};

    (void)state;
    assert_int_equal(log_set_spec("info"), 0);
    int argc = ARGC("hvs-test", "-vtest_daemon:warn");
    assert_int_equal(
        parse(&o, argc, ARGV("hvs-test", "-vtest_daemon:warn"), &x), argc);
    assert_int_equal(log_module_.level, LOG_L_WARN);
    daemon_finish(&o);

    argc = ARGC("hvs-test", "-v");
    assert_int_equal(parse(&o, argc, ARGV("hvs-test", "-v"), &x), argc);
    assert_int_equal(log_module_.level, LOG_L_DBG);
    assert_int_equal(log_find_module("daemon")->level, LOG_L_DBG);
    daemon_finish(&o);

    argc = ARGC("hvs-test", "--verbose=daemon:err",
                "--verbose=test_daemon:"
                "info");
    assert_int_equal(parse(&o, argc,
                           ARGV("hvs-test", "--verbose=daemon:err",
                                "--verbose=test_daemon:info"),
                           &x),
                     argc);
    assert_int_equal(log_module_.level, LOG_L_INFO);
    assert_int_equal(log_find_module("daemon")->level, LOG_L_ERR);
    daemon_finish(&o);
}

/* Child bodies: each parses one argument vector and must exit. */
static void
child_parse(void *argv_)
{
    char **argv = argv_;
    int argc = 0;
    struct daemon_opts o;
    struct extra_state x = {0};

    while (argv[argc]) {
        argc++;
    }
    memset(&o, 0, sizeof o);
    o.program = "hvs-dpd";
    daemon_parse_args(&o, argc, argv, extra_options, "p:", extra_opt, &x,
                      "Test options:\n  --port=N   listen on N\n");
    _exit(0); /* parsed without exiting */
}

static void
expect_parse(char **argv, int code, const char *out, const char *err)
{
    struct child_result r;

    run_child(child_parse, argv, &r);
    assert_int_equal(exit_code(&r), code);
    if (out) {
        assert_string_equal(r.out, out);
    }
    if (err) {
        assert_string_equal(r.err, err);
    }
}

static void
test_parse_errors(void **state)
{
    (void)state;
    expect_parse(ARGV("hvs-dpd", "-vx:y"), 2, "",
                 "hvs-dpd: bad --verbose spec 'x:y': unknown module 'x'\n");
    expect_parse(ARGV("hvs-dpd", "--verbose=info:warn"), 2, "", NULL);
    expect_parse(ARGV("hvs-dpd", "--bogus"), 2, "",
                 "hvs-dpd: unknown option '--bogus'\n");
    expect_parse(ARGV("hvs-dpd", "-q"), 2, "",
                 "hvs-dpd: unknown option '-q'\n");
    expect_parse(ARGV("hvs-dpd", "--rundir"), 2, "",
                 "hvs-dpd: option '--rundir' requires an argument\n");
    expect_parse(ARGV("hvs-dpd", "-p"), 2, "",
                 "hvs-dpd: option '-p' requires an argument\n");
    expect_parse(ARGV("hvs-dpd", "--detach=yes"), 2, "",
                 "hvs-dpd: option '--detach=yes' does not take an "
                 "argument\n");
    expect_parse(ARGV("hvs-dpd", "--port=-3"), 2, "",
                 "hvs-test: bad port '-3'\n");
    expect_parse(ARGV("hvs-dpd", "--fast", "--detach"), 0, "", "");
}

static void
test_help_version(void **state)
{
    struct child_result r;

    (void)state;
    expect_parse(ARGV("hvs-dpd", "--version"), 0,
                 "hvs-dpd (hvs) " HVS_VERSION "\n", "");
    expect_parse(ARGV("hvs-dpd", "-V"), 0, "hvs-dpd (hvs) " HVS_VERSION "\n",
                 "");
    run_child(child_parse, ARGV("hvs-dpd", "--help"), &r);
    assert_int_equal(exit_code(&r), 0);
    static const char *const want[] = {
        "hvs-dpd",   "--rundir=DIR", "--log-file", "--pidfile", "--detach",
        "--verbose", "--syslog",     "--help",     "--version", "--port=N",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_non_null(strstr(r.out, want[i]));
    }
    assert_string_equal(r.err, "");
}

/* Holds a lock on 'path' in a child until told to stop. */
struct holder {
    pid_t pid;
    int stop_fd;
};

static struct holder
hold_lock(const char *path)
{
    int ready[2], stop[2];
    struct holder h;
    char c;

    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(stop), 0);
    h.pid = fork();
    assert_true(h.pid >= 0);
    if (h.pid == 0) {
        close(ready[0]);
        close(stop[1]);
        if (daemon_pidfile_lock(path, NULL) < 0) {
            _exit(1);
        }
        c = 1;
        if (write(ready[1], &c, 1) != 1 || read(stop[0], &c, 1) < 0) {
            _exit(1);
        }
        _exit(0);
    }
    close(ready[1]);
    close(stop[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    h.stop_fd = stop[1];
    return h;
}

static void
release_lock(struct holder *h)
{
    int status;

    close(h->stop_fd);
    assert_int_equal(waitpid(h->pid, &status, 0), h->pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static long
read_pid(const char *path)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    return strtol(buf, NULL, 10);
}

static void
test_pidfile_lock(void **state)
{
    char path[300];
    pid_t holder = 0;

    (void)state;
    snprintf(path, sizeof path, "%s/lock.pid", tmpdir);

    /* A stale file with junk in it is taken over. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "999999999 and more junk\n", 24), 24);
    close(fd);

    struct holder h = hold_lock(path);
    assert_int_equal(read_pid(path), h.pid);
    assert_int_equal(daemon_pidfile_lock(path, &holder), -EAGAIN);
    assert_int_equal(holder, h.pid);
    release_lock(&h);

    fd = daemon_pidfile_lock(path, &holder);
    assert_true(fd >= 0);
    assert_int_equal(holder, 0);
    assert_int_equal(read_pid(path), getpid());
    close(fd);
    unlink(path);

    assert_int_equal(daemon_pidfile_lock("/nonexistent-dir/x.pid", NULL),
                     -ENOENT);
}

static void
test_start_finish(void **state)
{
    char rundir[300];
    struct daemon_opts o;
    struct extra_state x = {0};

    (void)state;
    snprintf(rundir, sizeof rundir, "--rundir=%s/a/b", tmpdir);
    int argc = ARGC("hvs-test", rundir, "--pidfile", "--log-file");
    assert_int_equal(parse(&o, argc,
                           ARGV("hvs-test", rundir, "--pidfile", "--log-file"),
                           &x),
                     argc);
    assert_int_equal(daemon_start(&o), 0);

    struct stat st;
    assert_int_equal(stat(o.rundir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(read_pid(o.pidfile), getpid());
    LOG_WARN("logged to the file");
    log_close();
    char buf[512] = "";
    int fd = open(o.log_file, O_RDONLY);
    assert_true(fd >= 0);
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    close(fd);
    assert_non_null(strstr(buf, "|test_daemon|WARN|logged to the file\n"));

    char *pidfile = strdup(o.pidfile);
    char *logfile = strdup(o.log_file);
    daemon_ready(&o); /* not detached: nothing to do */
    daemon_finish(&o);
    assert_int_equal(access(pidfile, F_OK), -1);
    unlink(logfile);
    free(pidfile);
    free(logfile);

    snprintf(rundir, sizeof rundir, "%s/a/b", tmpdir);
    rmdir(rundir);
    snprintf(rundir, sizeof rundir, "%s/a", tmpdir);
    rmdir(rundir);
}

/* Child: the daemon_start() of a second instance. */
static char start_pidfile[300];

static void
child_start(void *arg)
{
    struct daemon_opts o;
    struct extra_state x = {0};
    char pid_arg[320];

    (void)arg;
    snprintf(pid_arg, sizeof pid_arg, "--pidfile=%s", start_pidfile);
    log_use_stderr(false);
    parse(&o, 3, ARGV("hvs-test", "--rundir=/tmp", pid_arg), &x);
    int err = daemon_start(&o);
    _exit(err ? 3 : 0);
}

static void
test_already_running(void **state)
{
    struct child_result r;
    char want[512];

    (void)state;
    snprintf(start_pidfile, sizeof start_pidfile, "%s/run.pid", tmpdir);
    struct holder h = hold_lock(start_pidfile);
    run_child(child_start, NULL, &r);
    assert_int_equal(exit_code(&r), 1);
    snprintf(want, sizeof want,
             "hvs-test: pidfile %s is locked by pid %ld: "
             "already running\n",
             start_pidfile, (long)h.pid);
    assert_string_equal(r.err, want);
    release_lock(&h);

    /* Once the holder is gone the same start succeeds. */
    run_child(child_start, NULL, &r);
    assert_int_equal(exit_code(&r), 0);
    unlink(start_pidfile);
}

/* Child: starts detached; the daemon half reports ready (or dies first)
 * and then waits on 'hold_fd' so the test can look at it. */
static int hold_fd = -1, hold_wfd = -1;
static bool die_before_ready;

static void
child_detach(void *arg)
{
    struct daemon_opts o;
    struct extra_state x = {0};
    char pid_arg[320];
    char c;

    (void)arg;
    close(hold_wfd);
    snprintf(pid_arg, sizeof pid_arg, "--pidfile=%s", start_pidfile);
    log_use_stderr(false);
    parse(&o, 4, ARGV("hvs-test", "--rundir=/tmp", pid_arg, "--detach"), &x);
    if (daemon_start(&o)) {
        _exit(3);
    }
    /* Only the detached child gets here. */
    if (die_before_ready) {
        _exit(5);
    }
    daemon_ready(&o);
    /* stdout and stderr are /dev/null now. */
    if (write(STDERR_FILENO, "hidden\n", 7) != 7 || read(hold_fd, &c, 1) < 0) {
        _exit(4);
    }
    daemon_finish(&o);
    _exit(0);
}

static void
test_detach(void **state)
{
    struct child_result r;
    int hold[2];
    pid_t holder;

    (void)state;
    snprintf(start_pidfile, sizeof start_pidfile, "%s/detach.pid", tmpdir);
    assert_int_equal(pipe(hold), 0);
    hold_fd = hold[0];
    hold_wfd = hold[1];
    die_before_ready = false;
    /* run_child() reads until every copy of the pipes is closed, so this
     * returning at all shows the daemon let go of the original stdio. */
    run_child(child_detach, NULL, &r);
    assert_int_equal(exit_code(&r), 0);
    assert_string_equal(r.err, "");

    long daemon_pid = read_pid(start_pidfile);
    assert_true(daemon_pid > 0);
    assert_int_equal(daemon_pidfile_lock(start_pidfile, &holder), -EAGAIN);
    assert_int_equal(holder, daemon_pid);
    assert_int_equal(getsid(daemon_pid), daemon_pid);

    close(hold[1]); /* let the daemon finish */
    close(hold[0]);
    for (int i = 0; i < 500 && kill(daemon_pid, 0) == 0; i++) {
        usleep(10000);
    }
    assert_int_equal(kill(daemon_pid, 0), -1);
    assert_int_equal(access(start_pidfile, F_OK), -1);

    /* A daemon that dies before it is ready makes the parent exit 1. */
    die_before_ready = true;
    run_child(child_detach, NULL, &r);
    assert_int_equal(exit_code(&r), 1);
    unlink(start_pidfile);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_common_flags),
        cmocka_unit_test(test_verbose),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_pidfile_lock),
        cmocka_unit_test(test_start_finish),
        cmocka_unit_test(test_already_running),
        cmocka_unit_test(test_detach),
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
