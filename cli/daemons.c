/* hvs start | stop | status: the three daemons with the default paths
 * (status also names each running daemon's control socket for
 * ovs-appctl -t, if it answers).
 *
 * Each daemon runs with --rundir, --pidfile=RUNDIR/NAME.pid,
 * --log-file=RUNDIR/NAME.log and --detach.  The pid file is the source of
 * truth: a daemon holds a write lock on it for its whole life (lib/daemon.c)
 * so "running" means "someone holds the lock", which stays right after a
 * crash, unlike a pid that may have been reused. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "hvs/dp-ext.h"
#include "netlink-socket.h"
#include "timeval.h"

#ifndef HVS_SBINDIR
#define HVS_SBINDIR "/usr/local/sbin"
#endif

/* A detached daemon's parent exits once the child is ready; hvs-ovsdb may
 * first have to replay a large database, hence the generous bound. */
#define START_TIMEOUT_MS 30000
/* Time for the socket to answer once the daemon said it is ready. */
#define PROBE_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 10000
/* A running daemon's unixctl socket answers at once unless it is stuck. */
#define CTL_PROBE_TIMEOUT_MS 2000
#define KILL_TIMEOUT_MS 5000
/* How much of a failed daemon's output and log to show. */
#define OUTPUT_MAX 8192
#define TAIL_LINES 15

extern char **environ;

enum probe_kind {
    PROBE_NETLINK,              /* the control socket sends its hello */
    PROBE_JSONRPC,              /* a JSON-RPC request gets a reply */
};

struct daemon_desc {
    const char *name;
    const char *build_subdir;   /* its directory in the build tree */
    const char *socket;         /* below RUNDIR; answers once ready */
    enum probe_kind probe;
    const char *method;         /* for PROBE_JSONRPC */
    const char *ctl;            /* its unixctl socket below RUNDIR */
};

/* In start order: each needs the ones before it. */
static const struct daemon_desc daemons[] = {
    { "hvs-dpd", "datapath", HVS_DATAPATH_SOCK, PROBE_NETLINK, NULL,
      "hvs-dpd.ctl" },
    { "hvs-ovsdb", "ovsdb", "db.sock", PROBE_JSONRPC, "echo",
      "hvs-ovsdb.ctl" },
    { "hvs-vswitchd", "vswitchd", "hvs-vswitchd.ctl", PROBE_JSONRPC,
      "version", "hvs-vswitchd.ctl" },
};
#define N_DAEMONS (sizeof daemons / sizeof daemons[0])

static void
sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static char *
daemon_file(const struct cli_opts *opts, const struct daemon_desc *d,
            const char *suffix)
{
    char name[64];

    snprintf(name, sizeof name, "%s%s", d->name, suffix);
    return cli_path(opts->rundir, name);
}

/* ---- pid files ---------------------------------------------------------- */

static pid_t
read_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);

    if (n <= 0) {
        return 0;
    }
    text[n] = '\0';
    long pid = strtol(text, NULL, 10);
    return pid > 0 && pid <= INT_MAX ? pid : 0;
}

/* The pid of the process that holds the lock on 'path': > 0 while it
 * runs, 0 when nobody does (no file, or a stale one), -errno when the file
 * cannot be examined. */
static pid_t
pidfile_holder(const char *path)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (fcntl(fd, F_GETLK, &fl) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    pid_t pid = 0;
    if (fl.l_type != F_UNLCK) {
        /* l_pid is 0 when the holder lives in another pid namespace; the
         * file's own text is the next best thing. */
        pid = fl.l_pid > 0 ? fl.l_pid : read_pid(fd);
        if (pid <= 0) {
            pid = INT_MAX;
        }
    }
    close(fd);
    return pid;
}

/* Waits up to 'timeout_ms' for 'pid' to let go of 'path'. */
static bool
wait_released(const char *path, pid_t pid, int timeout_ms)
{
    uint64_t deadline = time_msec() + timeout_ms;

    for (;;) {
        if (pidfile_holder(path) != pid) {
            return true;
        }
        if (time_msec() >= deadline) {
            return false;
        }
        sleep_ms(20);
    }
}

/* ---- finding the binaries ----------------------------------------------- */

static bool
is_executable(const char *path)
{
    struct stat st;

    return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* The directory of the running hvs binary, or "" if unknown. */
static void
self_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);

    buf[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) {
        *slash = '\0';
    } else {
        buf[0] = '\0';
    }
}

/* Where 'd' lives: next to hvs (installed, or the build tree), then the
 * configured sbindir, then PATH.  A malloc'd path, or NULL. */
static char *
find_daemon(const struct daemon_desc *d, char *self, size_t self_size)
{
    char path[PATH_MAX * 2];

    self_dir(self, self_size);
    if (self[0]) {
        snprintf(path, sizeof path, "%s/%s", self, d->name);
        if (is_executable(path)) {
            return strdup(path);
        }
        snprintf(path, sizeof path, "%s/../%s/%s", self, d->build_subdir,
                 d->name);
        if (is_executable(path)) {
            return strdup(path);
        }
    }
    snprintf(path, sizeof path, "%s/%s", HVS_SBINDIR, d->name);
    if (is_executable(path)) {
        return strdup(path);
    }
    const char *env = getenv("PATH");
    for (const char *p = env ? env : ""; *p;) {
        size_t len = strcspn(p, ":");

        if (len) {
            snprintf(path, sizeof path, "%.*s/%s", (int) len, p, d->name);
            if (is_executable(path)) {
                return strdup(path);
            }
        }
        p += len + (p[len] == ':');
    }
    return NULL;
}

/* ---- readiness probes --------------------------------------------------- */

static int
probe_once(const struct daemon_desc *d, const char *path, uint64_t deadline)
{
    if (d->probe == PROBE_NETLINK) {
        struct nl_sock *sock;
        int err = nl_sock_open(path, &sock);
        if (!err) {
            nl_sock_close(sock);
        }
        return err;
    }
    /* Any answer will do, a result or an error. */
    json_t *reply;
    int err = cli_rpc_call(path, d->method, NULL, deadline, &reply);
    json_decref(reply);
    return err;
}

/* Waits until the socket of 'd' answers.  Returns 0 or the last -errno. */
static int
wait_answering(const struct cli_opts *opts, const struct daemon_desc *d)
{
    char *path = cli_path(opts->rundir, d->socket);
    uint64_t deadline = time_msec() + PROBE_TIMEOUT_MS;
    int err;

    while ((err = probe_once(d, path, deadline)) && time_msec() < deadline) {
        sleep_ms(50);
    }
    free(path);
    return err;
}

/* ---- start -------------------------------------------------------------- */

/* What a daemon wrote before it detached, keeping the last OUTPUT_MAX
 * bytes: that is where the reason for a failure is. */
struct output {
    char text[OUTPUT_MAX + 1];
    size_t len;
};

/* Reads what is waiting on 'fd'.  Returns false at end of file. */
static bool
output_read(struct output *o, int fd)
{
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf);

    if (n <= 0) {
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    }
    if (o->len + n > OUTPUT_MAX) {
        size_t drop = o->len + n - OUTPUT_MAX;
        drop = drop > o->len ? o->len : drop;
        memmove(o->text, o->text + drop, o->len - drop);
        o->len -= drop;
    }
    size_t keep = (size_t) n > OUTPUT_MAX ? OUTPUT_MAX : (size_t) n;
    memcpy(o->text + o->len, buf + n - keep, keep);
    o->len += keep;
    o->text[o->len] = '\0';
    return true;
}

/* Prints the last TAIL_LINES lines of 'text', indented. */
static void
print_tail(const char *text)
{
    size_t end = strlen(text), start;
    int lines = 0;

    while (end && text[end - 1] == '\n') {
        end--;
    }
    for (start = end; start > 0; start--) {
        if (text[start - 1] == '\n' && ++lines == TAIL_LINES) {
            break;
        }
    }
    for (size_t p = start; p < end;) {
        size_t len = strcspn(text + p, "\n");

        if (len > end - p) {
            len = end - p;
        }
        fprintf(stderr, "    %.*s\n", (int) len, text + p);
        p += len + 1;
    }
}

static void
print_log_tail(const char *log_path)
{
    static char text[OUTPUT_MAX + 1];
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        fprintf(stderr, "(no log in %s)\n", log_path);
        return;
    }
    off_t from = st.st_size > OUTPUT_MAX ? st.st_size - OUTPUT_MAX : 0;
    ssize_t n = pread(fd, text, OUTPUT_MAX, from);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    if (!text[0]) {
        fprintf(stderr, "(its log %s is empty)\n", log_path);
        return;
    }
    fprintf(stderr, "last lines of its log %s:\n", log_path);
    print_tail(text);
}

/* Why a daemon failed to start: what it printed, or else its log. */
static void
explain_failure(const struct output *out, const char *log_path)
{
    if (out->len) {
        fprintf(stderr, "its output (log: %s):\n", log_path);
        print_tail(out->text);
    } else {
        print_log_tail(log_path);
    }
}

/* Runs 'argv' with its output on a pipe and waits until the process that
 * --detach leaves in the foreground exits.  Returns its wait status, or
 * -ETIMEDOUT, or another -errno if it could not be run. */
static int
run_detaching(char *argv[], struct output *out)
{
    posix_spawn_file_actions_t fa;
    int fds[2], err, status = 0;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -errno;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err) {
        close(fds[0]);
        return -err;
    }

    uint64_t deadline = time_msec() + START_TIMEOUT_MS;
    bool exited = false, eof = false;
    while (!exited) {
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };

        if (!eof && poll(&pfd, 1, 50) > 0) {
            /* End of file: every writer is gone (the daemon is ready and
             * its output now goes to /dev/null, or it died). */
            eof = !output_read(out, fds[0]);
        } else if (eof) {
            sleep_ms(20);
        }
        exited = waitpid(pid, &status, WNOHANG) == pid;
        if (!exited && time_msec() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            close(fds[0]);
            return -ETIMEDOUT;
        }
    }
    /* Whatever the exiting process wrote last. */
    struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
    while (!eof && poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
        eof = !output_read(out, fds[0]);
    }
    close(fds[0]);
    return status;
}

/* Starts 'd' unless it runs.  Returns 0 if it runs afterwards, 1 if it
 * could not be found, -1 if it failed (explained on stderr). */
static int
start_one(const struct cli_opts *opts, const struct daemon_desc *d,
          const char *kernel_cache)
{
    char *pidfile = daemon_file(opts, d, ".pid");
    char *log = daemon_file(opts, d, ".log");
    char *exe = NULL, *args[8] = { NULL };
    static struct output out;
    char self[PATH_MAX];
    int result = -1;
    pid_t pid = pidfile_holder(pidfile);

    if (pid > 0) {
        printf("%s: already running (pid %ld)\n", d->name, (long) pid);
        result = 0;
        goto out;
    } else if (pid < 0) {
        cli_error("cannot start %s: cannot read its pid file %s: %s",
                  d->name, pidfile, strerror(-pid));
        goto out;
    }
    exe = find_daemon(d, self, sizeof self);
    if (!exe) {
        cli_error("cannot start %s: not found next to %s, in %s or in "
                  "PATH (not built or not installed?)", d->name,
                  self[0] ? self : "hvs", HVS_SBINDIR);
        result = 1;
        goto out;
    }

    size_t n = 0;
    args[n++] = exe;
    if (asprintf(&args[n++], "--rundir=%s", opts->rundir) < 0
        || asprintf(&args[n++], "--pidfile=%s", pidfile) < 0
        || asprintf(&args[n++], "--log-file=%s", log) < 0
        || !(args[n++] = strdup("--detach"))
        || (!strcmp(d->name, "hvs-ovsdb")
            && !(args[n++] = cli_path(opts->dbdir, "conf.db")))
        || (kernel_cache && !strcmp(d->name, "hvs-dpd")
            && !(args[n++] = strdup(kernel_cache)))) {
        args[n - 1] = NULL;
        cli_error("cannot start %s: out of memory", d->name);
        goto out;
    }

    printf("%s: starting... ", d->name);
    fflush(stdout);
    out.len = 0;
    out.text[0] = '\0';
    int status = run_detaching(args, &out);
    if (status == -ETIMEDOUT) {
        printf("failed\n");
        cli_error("cannot start %s: not ready within %d s", d->name,
                  START_TIMEOUT_MS / 1000);
        explain_failure(&out, log);
        /* It may still be coming up; do not leave it behind. */
        pid = pidfile_holder(pidfile);
        if (pid > 0 && pid != INT_MAX) {
            kill(pid, SIGTERM);
        }
        goto out;
    } else if (status < 0) {
        printf("failed\n");
        cli_error("cannot start %s: cannot run %s: %s", d->name, exe,
                  strerror(-status));
        goto out;
    } else if (WIFSIGNALED(status) || WEXITSTATUS(status)) {
        printf("failed\n");
        if (WIFSIGNALED(status)) {
            cli_error("cannot start %s: killed by signal %d (%s)", d->name,
                      WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else {
            cli_error("cannot start %s: exited with status %d", d->name,
                      WEXITSTATUS(status));
        }
        explain_failure(&out, log);
        goto out;
    }

    int err = wait_answering(opts, d);
    if (err) {
        printf("failed\n");
        cli_error("cannot start %s: %s/%s does not answer: %s", d->name,
                  opts->rundir, d->socket, strerror(-err));
        print_log_tail(log);
        goto out;
    }
    pid = pidfile_holder(pidfile);
    if (pid > 0) {
        printf("running (pid %ld)\n", (long) pid);
    } else {
        printf("running\n");
    }
    result = 0;
out:
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        free(args[i]);
    }
    free(pidfile);
    free(log);
    return result;
}

static int
no_arguments(const char *command, int argc, char *argv[])
{
    if (argc) {
        return cli_usage_error("%s: unexpected argument '%s'", command,
                               argv[0]);
    }
    return 0;
}

int
daemons_start(const struct cli_opts *opts, int argc, char *argv[])
{
    const char *kernel_cache = NULL;    /* hvs-dpd's flag, as given */
    int n_missing = 0;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--kernel-cache")
            || !strcmp(argv[i], "--kernel-cache=on")
            || !strcmp(argv[i], "--kernel-cache=off")) {
            kernel_cache = argv[i];
        } else {
            return cli_usage_error("start: unexpected argument '%s'",
                                   argv[i]);
        }
    }
    for (size_t i = 0; i < N_DAEMONS; i++) {
        int r = start_one(opts, &daemons[i], kernel_cache);

        if (r < 0) {
            return CLI_EXIT_FAIL;
        }
        n_missing += r;
    }
    if (n_missing) {
        cli_error("%d of %zu daemons could not be started (see above)",
                  n_missing, N_DAEMONS);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- stop and status ---------------------------------------------------- */

/* Returns true if 'd' no longer runs. */
static bool
stop_one(const struct cli_opts *opts, const struct daemon_desc *d)
{
    char *pidfile = daemon_file(opts, d, ".pid");
    pid_t pid = pidfile_holder(pidfile);
    bool stopped = false;

    if (pid == 0) {
        printf("%s: not running\n", d->name);
        stopped = true;
        goto out;
    } else if (pid < 0) {
        cli_error("cannot stop %s: cannot read its pid file %s: %s",
                  d->name, pidfile, strerror(-pid));
        goto out;
    } else if (pid == INT_MAX) {
        cli_error("cannot stop %s: it holds %s but its pid is unknown",
                  d->name, pidfile);
        goto out;
    }
    printf("%s: stopping (pid %ld)... ", d->name, (long) pid);
    fflush(stdout);
    if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
        printf("failed\n");
        cli_error("cannot stop %s (pid %ld): %s", d->name, (long) pid,
                  strerror(errno));
        goto out;
    }
    if (wait_released(pidfile, pid, STOP_TIMEOUT_MS)) {
        printf("stopped\n");
        stopped = true;
        goto out;
    }
    printf("still running\n");
    cli_warn("%s (pid %ld) did not exit within %d s of SIGTERM; sending "
             "SIGKILL", d->name, (long) pid, STOP_TIMEOUT_MS / 1000);
    if (kill(pid, SIGKILL) < 0 && errno != ESRCH) {
        cli_error("cannot kill %s (pid %ld): %s", d->name, (long) pid,
                  strerror(errno));
        goto out;
    }
    if (!wait_released(pidfile, pid, KILL_TIMEOUT_MS)) {
        cli_error("cannot stop %s (pid %ld): still running after SIGKILL",
                  d->name, (long) pid);
        goto out;
    }
    /* A killed daemon could not remove its pid file. */
    if (pidfile_holder(pidfile) == 0) {
        unlink(pidfile);
    }
    printf("%s: killed\n", d->name);
    stopped = true;
out:
    free(pidfile);
    return stopped;
}

int
daemons_stop(const struct cli_opts *opts, int argc, char *argv[])
{
    int status = no_arguments("stop", argc, argv);

    if (status) {
        return status;
    }
    for (size_t i = N_DAEMONS; i-- > 0;) {
        if (!stop_one(opts, &daemons[i])) {
            status = CLI_EXIT_FAIL;
        }
    }
    return status;
}

/* ", control socket PATH" for a running daemon whose unixctl socket
 * answers, so that the operator knows what to give ovs-appctl -t; the
 * cause when it does not answer. */
static void
print_ctl(const struct cli_opts *opts, const struct daemon_desc *d)
{
    char *path = cli_path(opts->rundir, d->ctl);
    json_t *reply;
    int err = cli_rpc_call(path, "version", NULL,
                           time_msec() + CTL_PROBE_TIMEOUT_MS, &reply);

    json_decref(reply);
    if (err) {
        printf(", control socket %s not answering: %s", path,
               strerror(-err));
    } else {
        printf(", control socket %s", path);
    }
    free(path);
}

int
daemons_status(const struct cli_opts *opts, int argc, char *argv[])
{
    int status = no_arguments("status", argc, argv);

    if (status) {
        return status;
    }
    for (size_t i = 0; i < N_DAEMONS; i++) {
        const struct daemon_desc *d = &daemons[i];
        char *pidfile = daemon_file(opts, d, ".pid");
        pid_t pid = pidfile_holder(pidfile);

        if (pid == INT_MAX) {
            printf("%s: running", d->name);
            print_ctl(opts, d);
            printf("\n");
        } else if (pid > 0) {
            printf("%s: running (pid %ld)", d->name, (long) pid);
            print_ctl(opts, d);
            printf("\n");
        } else if (pid == 0) {
            printf("%s: stopped\n", d->name);
            status = CLI_EXIT_NOT_RUNNING;
        } else {
            printf("%s: unknown\n", d->name);
            cli_error("cannot tell whether %s runs: cannot read its pid "
                      "file %s: %s", d->name, pidfile, strerror(-pid));
            status = CLI_EXIT_NOT_RUNNING;
        }
        free(pidfile);
    }
    return status;
}
