/* The hvs command: what main.c shares with the files that implement its
 * subcommands (daemons.c, vm.c, show.c).  Each subcommand gets the words
 * after its name and returns the process exit status. */
#ifndef HVS_CLI_H
#define HVS_CLI_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses.  3 for "not everything runs" follows systemctl, so that
 * scripts can tell it from a failure of the command itself. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_NOT_RUNNING = 3,
};

/* The common flags, resolved against the environment and defaults.  The
 * strings belong to main.c and live as long as the process. */
struct cli_opts {
    const char *rundir;         /* --rundir, $HVS_RUNDIR, /run/hvs */
    const char *dbdir;          /* --dbdir, $HVS_DBDIR, /var/lib/hvs */
};

/* "hvs: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hvs: warning: MESSAGE" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hvs: MESSAGE" and a pointer to --help on stderr; returns
 * CLI_EXIT_USAGE so that callers can 'return cli_usage_error(...)'. */
int cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* "DIR/NAME" in a malloc'd string; exits on allocation failure. */
char *cli_path(const char *dir, const char *name);

/* daemons.c: hvs start | stop | status */
int daemons_start(const struct cli_opts *, int argc, char *argv[]);
int daemons_stop(const struct cli_opts *, int argc, char *argv[]);
int daemons_status(const struct cli_opts *, int argc, char *argv[]);

/* vm.c: hvs vm set-port-name IFACE NAME | hvs vm list */
int vm_main(const struct cli_opts *, int argc, char *argv[]);

/* show.c: hvs show */
int show_main(const struct cli_opts *, int argc, char *argv[]);

/* The datapaths and ports "hvs show" found (show.c), for bridges.c. */
struct show_dp_ports;
/* Describes where interface 'iface' landed ("datapath D port N") into
 * 'buf'; false if on no datapath. */
bool show_dp_port_of(const struct show_dp_ports *, const char *iface,
                     char *buf, size_t size);

/* rpc.c: sends request 'method' with 'params' (stolen; NULL means []) on
 * the unix socket 'path' and waits until 'deadline' (time_msec()) for its
 * reply.  Returns 0 with the reply message (a result or an error) in
 * '*replyp', or -errno: the connect error, -ETIMEDOUT, -EPIPE, -EPROTO. */
struct json_t;
int cli_rpc_call(const char *path, const char *method, struct json_t *params,
                 uint64_t deadline, struct json_t **replyp);

/* show-tunnels.c: prints hvs-dpd's tunnel counters, read from its
 * unixctl socket 'ctl_path', on one line.  Returns 0, or a negative errno
 * after a warning on stderr. */
int show_tunnels(const char *ctl_path);

/* bridges.c: prints the bridges of the database at 'db_sock' (a unix
 * socket path), with 'dps' for the datapath ports.  Returns 0, or a
 * negative errno after a warning on stderr. */
int show_bridges(const char *db_sock, const struct show_dp_ports *dps);

#endif /* HVS_CLI_H */
