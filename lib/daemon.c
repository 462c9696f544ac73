/* Daemon plumbing shared by every hvs daemon: the common command-line
 * flags, the run directory, logs, the pid file and detaching. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(daemon);

/* getopt values of the long-only common options; extra options must use
 * printable characters or values below this range. */
enum {
    OPT_RUNDIR = 0x1000,
    OPT_LOG_FILE,
    OPT_PIDFILE,
    OPT_DETACH,
    OPT_SYSLOG,
};

static const struct option common_options[] = {
    {"rundir", required_argument, NULL, OPT_RUNDIR},
    {"log-file", optional_argument, NULL, OPT_LOG_FILE},
    {"pidfile", optional_argument, NULL, OPT_PIDFILE},
    {"detach", no_argument, NULL, OPT_DETACH},
    {"verbose", optional_argument, NULL, 'v'},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
};
#define N_COMMON (sizeof common_options / sizeof common_options[0])

/* One daemon per process, so the process-wide state lives here rather
 * than in the caller's struct. */
static int pidfile_fd = -1;
static int ready_fd = -1; /* write end of the detach pipe, child */

static void
usage(const struct daemon_opts *o, const char *usage_extra)
{
    printf("%s: hvs daemon\n"
           "usage: %s [OPTIONS]\n"
           "\nCommon options:\n"
           "  --rundir=DIR         runtime directory (default $HVS_RUNDIR "
           "or /run/hvs)\n"
           "  --log-file[=FILE]    log to FILE (default RUNDIR/%s.log)\n"
           "  --pidfile[=FILE]     write and lock a pid file (default "
           "RUNDIR/%s.pid)\n"
           "  --detach             run in the background once ready\n"
           "  -v, --verbose[=SPEC] set log levels: [MODULE:]LEVEL, "
           "LEVEL one of\n"
           "                       off, err, warn, info, dbg (alone: dbg)\n"
           "  --syslog             also log to syslog\n"
           "  -h, --help           print this help and exit\n"
           "  -V, --version        print the version and exit\n",
           o->program, o->program, o->program, o->program);
    if (usage_extra && *usage_extra) {
        printf("\n%s", usage_extra);
        if (usage_extra[strlen(usage_extra) - 1] != '\n') {
            putchar('\n');
        }
    }
}

static void __attribute__((noreturn, format(printf, 2, 3)))
usage_error(const struct daemon_opts *o, const char *fmt, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", o->program);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(2);
}

static char *
xstrdup(const char *s)
{
    char *copy = strdup(s);

    if (!copy) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return copy;
}

static char *
xasprintf_path(const char *dir, const char *name, const char *suffix)
{
    char *s;

    if (asprintf(&s, "%s/%s%s", dir, name, suffix) < 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return s;
}

static const struct option *
find_option(const struct option *opts, size_t n, int val)
{
    for (size_t i = 0; i < n; i++) {
        if (opts[i].val == val && !opts[i].flag) {
            return &opts[i];
        }
    }
    return NULL;
}

static void
set_string(char **dst, const char *value)
{
    free(*dst);
    *dst = value ? xstrdup(value) : NULL;
}

int
daemon_parse_args(struct daemon_opts *o, int argc, char *argv[],
                  const struct option *extra, const char *extra_short,
                  daemon_extra_opt_fn *extra_fn, void *aux,
                  const char *usage_extra)
{
    size_t n_extra = 0;
    bool default_log = false, default_pid = false;

    if (!o->program) {
        const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;

        o->program = argc <= 0 ? "hvs" : slash ? slash + 1 : argv[0];
    }
    const char *env_rundir = getenv("HVS_RUNDIR");
    o->rundir = xstrdup(env_rundir && *env_rundir ? env_rundir : "/run/hvs");
    o->log_file = NULL;
    o->pidfile = NULL;
    o->detach = false;
    o->syslog = false;

    while (extra && extra[n_extra].name) {
        n_extra++;
    }
    size_t n_all = N_COMMON + n_extra;
    struct option *all = calloc(n_all + 1, sizeof *all);
    char *shorts;
    if (!all ||
        asprintf(&shorts, ":hVv::%s", extra_short ? extra_short : "") < 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(all, common_options, sizeof common_options);
    if (n_extra) {
        memcpy(all + N_COMMON, extra, n_extra * sizeof *extra);
    }

    /* Zero makes glibc start over, so the parser can run more than once
     * (the tests do); opterr 0 because errors use "PROGRAM: ..." form. */
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, all, NULL);
        char *msg = NULL;

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_RUNDIR:
            if (!*optarg) {
                usage_error(o, "--rundir needs a directory");
            }
            set_string(&o->rundir, optarg);
            break;
        case OPT_LOG_FILE:
            set_string(&o->log_file, optarg);
            default_log = !optarg;
            break;
        case OPT_PIDFILE:
            set_string(&o->pidfile, optarg);
            default_pid = !optarg;
            break;
        case OPT_DETACH:
            o->detach = true;
            break;
        case OPT_SYSLOG:
            o->syslog = true;
            break;
        case 'v':
            if (log_set_spec_msg(optarg ? optarg : "dbg", &msg)) {
                usage_error(o, "bad --verbose spec '%s': %s",
                            optarg ? optarg : "dbg",
                            msg ? msg : "out of memory");
            }
            break;
        case 'h':
            usage(o, usage_extra);
            exit(0);
        case 'V':
            printf("%s (hvs) %s\n", o->program, HVS_VERSION);
            exit(0);
        case ':':
            usage_error(o, "option '%s' requires an argument",
                        argv[optind - 1]);
        case '?':
            if (optopt && find_option(all, n_all, optopt)) {
                usage_error(o, "option '%s' does not take an argument",
                            argv[optind - 1]);
            } else if (optopt) {
                usage_error(o, "unknown option '-%c'", optopt);
            }
            usage_error(o, "unknown option '%s'", argv[optind - 1]);
        default:
            if (!extra_fn || extra_fn(c, optarg, aux) < 0) {
                if (!extra_fn) {
                    usage_error(o, "unhandled option %d", c);
                }
                exit(2);
            }
            break;
        }
    }
    free(all);
    free(shorts);

    /* Defaults depend on --rundir, which may come later on the line. */
    if (default_log) {
        o->log_file = xasprintf_path(o->rundir, o->program, ".log");
    }
    if (default_pid) {
        o->pidfile = xasprintf_path(o->rundir, o->program, ".pid");
    }
    return optind;
}

void
daemon_check_operands(const struct daemon_opts *o, int argc, char *argv[],
                      int first, int max)
{
    if (first >= 0 && argc - first > max) {
        usage_error(o, "unexpected argument \"%s\"", argv[first + max]);
    }
}

char *
daemon_path(const struct daemon_opts *o, const char *name)
{
    char *s;

    if (asprintf(&s, "%s/%s", o->rundir, name) < 0) {
        return NULL;
    }
    return s;
}

/* mkdir -p with mode 0755 for the directories it creates. */
static int
make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof buf) {
        return -EINVAL;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            struct stat st;

            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
                return -errno;
            }
            if (stat(buf, &st) < 0) {
                return -errno;
            }
            if (!S_ISDIR(st.st_mode)) {
                return -ENOTDIR;
            }
            *p = saved;
            if (!saved) {
                return 0;
            }
        }
    }
}

static int
pidfile_try_lock(const char *path, pid_t *holder)
{
    struct flock fl = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = 0,
        .l_len = 0,
    };
    struct stat st_fd, st_path;
    char text[32];
    int fd, n;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int err = errno;

        if (err == EAGAIN || err == EACCES) {
            fl.l_type = F_WRLCK;
            if (holder && fcntl(fd, F_GETLK, &fl) == 0 &&
                fl.l_type != F_UNLCK) {
                *holder = fl.l_pid;
            }
            close(fd);
            return -EAGAIN;
        }
        close(fd);
        return -err;
    }
    /* The previous owner unlinks its file just before it lets go of the
     * lock; if we locked that unlinked file, start over with a new one. */
    if (fstat(fd, &st_fd) < 0 || stat(path, &st_path) < 0 ||
        st_fd.st_ino != st_path.st_ino || st_fd.st_dev != st_path.st_dev) {
        close(fd);
        return -ESTALE;
    }
    /* We hold the lock, so whatever the file says is stale. */
    n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    errno = 0;
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, n, 0) != n) {
        int err = errno ? errno : EIO;
        close(fd);
        return -err;
    }
    return fd;
}

int
daemon_pidfile_lock(const char *path, pid_t *holder)
{
    int fd = -ESTALE;

    if (holder) {
        *holder = 0;
    }
    for (int i = 0; i < 10 && fd == -ESTALE; i++) {
        fd = pidfile_try_lock(path, holder);
    }
    return fd;
}

/* Forks; the parent never returns: it exits 0 when the child reports
 * ready, 1 when the child exits or dies first. */
static int
detach(const struct daemon_opts *o)
{
    int fds[2];

    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -errno;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int err = -errno;
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    if (pid > 0) {
        char c;
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(0);
        }
        /* EOF without the byte: the child died (or closed the pipe by
         * exec).  Wait briefly, never forever, to say how it ended. */
        int status;
        for (int i = 0; i < 50; i++) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                if (WIFSIGNALED(status)) {
                    fprintf(stderr, "%s: child died with signal %d\n",
                            o->program, WTERMSIG(status));
                }
                break;
            }
            usleep(10000);
        }
        _exit(1);
    }
    close(fds[0]);
    ready_fd = fds[1];
    if (setsid() < 0) {
        LOG_WARN("setsid failed: %s", strerror(errno));
    }
    return 0;
}

int
daemon_start(struct daemon_opts *o)
{
    int err = make_dirs(o->rundir);

    if (err) {
        LOG_ERR("%s: cannot create run directory: %s", o->rundir,
                strerror(-err));
        return err;
    }
    /* Locks are not inherited across fork(), so detach first and let the
     * child take the pid file. */
    if (o->detach) {
        err = detach(o);
        if (err) {
            LOG_ERR("cannot detach: %s", strerror(-err));
            return err;
        }
    }
    if (o->log_file) {
        err = log_open_file(o->log_file);
        if (err) {
            LOG_ERR("%s: cannot open log file: %s", o->log_file,
                    strerror(-err));
            return err;
        }
    }
    if (o->syslog) {
        log_use_syslog(o->program);
    }
    if (o->pidfile) {
        pid_t holder;
        int fd = daemon_pidfile_lock(o->pidfile, &holder);

        if (fd == -EAGAIN) {
            fprintf(stderr,
                    "%s: pidfile %s is locked by pid %ld: "
                    "already running\n",
                    o->program, o->pidfile, (long)holder);
            exit(1);
        } else if (fd < 0) {
            LOG_ERR("%s: cannot write pid file: %s", o->pidfile,
                    strerror(-fd));
            return fd;
        }
        pidfile_fd = fd;
    }
    return 0;
}

void
daemon_ready(struct daemon_opts *o)
{
    (void)o;
    if (ready_fd < 0) {
        return;
    }
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        fflush(NULL);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    log_use_stderr(false);

    char c = 0;
    ssize_t n;
    do {
        n = write(ready_fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    close(ready_fd);
    ready_fd = -1;
}

void
daemon_finish(struct daemon_opts *o)
{
    if (pidfile_fd >= 0) {
        /* Unlink while still holding the lock so a starting daemon never
         * sees our file unlocked with our pid in it. */
        if (o->pidfile) {
            unlink(o->pidfile);
        }
        close(pidfile_fd);
        pidfile_fd = -1;
    }
    free(o->rundir);
    free(o->log_file);
    free(o->pidfile);
    o->rundir = o->log_file = o->pidfile = NULL;
}

int
daemon_signals_open(void)
{
    sigset_t sigs;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

bool
daemon_signals_run(int fd)
{
    struct signalfd_siginfo si;
    bool stop = false;

    while (read(fd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            /* Said in the new file, so that whoever rotated the old one
             * sees the daemon took the signal. */
            int err = log_reopen();
            if (err) {
                LOG_WARN("SIGHUP: cannot reopen the log file: %s",
                         strerror(-err));
            } else {
                LOG_INFO("SIGHUP: log file reopened");
            }
        } else {
            LOG_INFO("exiting on signal %u", si.ssi_signo);
            stop = true;
        }
    }
    return stop;
}
