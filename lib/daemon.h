/* The flags every hvs daemon takes and what they do:
 *   --rundir=DIR         default $HVS_RUNDIR or /run/hvs (created 0755)
 *   --log-file[=FILE]    default RUNDIR/PROGRAM.log
 *   --pidfile[=FILE]     default RUNDIR/PROGRAM.pid
 *   --detach             fork into the background once ready
 *   -v, --verbose[=SPEC] module:level (repeatable; "-v" alone = dbg)
 *   --syslog             also log to syslog
 *   -h, --help / -V, --version
 * A daemon parses its own extra options with the same getopt loop by
 * passing them to daemon_parse_args(). */
#ifndef HVS_DAEMON_H
#define HVS_DAEMON_H 1

#include <getopt.h>
#include <stdbool.h>
#include <sys/types.h>

struct daemon_opts {
    const char *program;        /* e.g. "hvs-dpd" */
    char *rundir;
    char *log_file;             /* NULL: no log file */
    char *pidfile;              /* NULL: no pid file */
    bool detach;
    bool syslog;
};

/* Called for options daemon_parse_args() does not know: 'c' is getopt's
 * return value.  Returns 0, or -1 for a usage error (message printed). */
typedef int daemon_extra_opt_fn(int c, const char *optarg, void *aux);

/* Parses argv.  'extra' describes extra long options (may be NULL) and
 * 'usage_extra' is printed in --help.  Exits on --help/--version (status 0)
 * and on errors (status 2, with "PROGRAM: message").  Returns optind. */
int daemon_parse_args(struct daemon_opts *, int argc, char *argv[],
                      const struct option *extra, const char *extra_short,
                      daemon_extra_opt_fn *, void *aux,
                      const char *usage_extra);

/* Refuses what follows the options beyond 'max' operands (argv[first]
 * on): a stray word such as the level in "-v module:dbg" (-v takes its
 * argument only when attached) must not start a daemon with defaults.
 * Exits with status 2 and "PROGRAM: unexpected argument "WORD"". */
void daemon_check_operands(const struct daemon_opts *, int argc,
                           char *argv[], int first, int max);

/* Creates the rundir, opens logs, writes the pid file (refusing to start
 * when another live process holds it).  With --detach forks now; the
 * parent waits until daemon_ready() is called in the child and exits 0, or
 * exits 1 if the child dies first.  Returns 0 or -errno (logged). */
int daemon_start(struct daemon_opts *);
void daemon_ready(struct daemon_opts *);
/* Removes the pid file and frees the strings. */
void daemon_finish(struct daemon_opts *);

/* Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and so in the
 * threads it starts later: call it before starting any), ignores SIGPIPE
 * (peers of our sockets come and go) and returns a non-blocking signalfd
 * that receives the three, for the daemon's poll loop; or -errno. */
int daemon_signals_open(void);
/* Handles what is pending on that descriptor: SIGHUP reopens the log file
 * (logrotate) and says so in it; returns true when a termination signal
 * arrived (logged). */
bool daemon_signals_run(int fd);

/* "RUNDIR/NAME" in a malloc'd string. */
char *daemon_path(const struct daemon_opts *, const char *name);

/* Opens 'path' (creating it), takes a write lock on it for the life of
 * the process and writes our pid into it.  Returns the descriptor, or
 * -EAGAIN when another process holds the lock (its pid in '*holder' when
 * known), or another -errno.  daemon_start() uses it for --pidfile. */
int daemon_pidfile_lock(const char *path, pid_t *holder);

#endif /* HVS_DAEMON_H */
