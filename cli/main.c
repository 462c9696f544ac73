/* hvs: the command a user runs.  This file parses the common flags and
 * hands the rest of the line to the subcommand's file. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_RUNDIR = 0x1000, OPT_DBDIR };

static const struct option options[] = {
    { "rundir", required_argument, NULL, OPT_RUNDIR },
    { "dbdir", required_argument, NULL, OPT_DBDIR },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

typedef int command_fn(const struct cli_opts *, int argc, char *argv[]);

static const struct command {
    const char *name;
    command_fn *fn;
} commands[] = {
    { "start", daemons_start },
    { "stop", daemons_stop },
    { "status", daemons_status },
    { "vm", vm_main },
    { "show", show_main },
};

static void __attribute__((format(printf, 2, 0)))
vreport(const char *prefix, const char *fmt, va_list args)
{
    /* Whatever went to stdout so far belongs before the message. */
    fflush(stdout);
    fprintf(stderr, "hvs: %s", prefix);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
}

void
cli_error(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vreport("", fmt, args);
    va_end(args);
}

void
cli_warn(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vreport("warning: ", fmt, args);
    va_end(args);
}

int
cli_usage_error(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vreport("", fmt, args);
    va_end(args);
    fprintf(stderr, "Try 'hvs --help' for more information.\n");
    return CLI_EXIT_USAGE;
}

char *
cli_path(const char *dir, const char *name)
{
    char *s;

    if (asprintf(&s, "%s/%s", dir, name) < 0) {
        fprintf(stderr, "hvs: out of memory\n");
        exit(CLI_EXIT_FAIL);
    }
    return s;
}

static void
usage(void)
{
    printf("hvs: control the hvs virtual switch\n"
           "usage: hvs [OPTIONS] COMMAND [ARG]...\n"
           "\n"
           "Commands:\n"
           "  start [--kernel-cache[=on|off]]\n"
           "                           start hvs-dpd, hvs-ovsdb and "
           "hvs-vswitchd\n"
           "                           (hvs-dpd's kernel flow cache: on "
           "unless =off)\n"
           "  stop                     stop them (in reverse order)\n"
           "  status                   say which of them run "
           "(exit 3 if not all)\n"
           "  show                     datapaths, ports, counters, "
           "flows and hit rates\n"
           "  vm set-port-name IFACE NAME\n"
           "                           give host interface IFACE the OVS "
           "port name NAME,\n"
           "                           so that 'ovs-vsctl add-port BRIDGE "
           "NAME' binds it\n"
           "                           (NAME \"\" clears it)\n"
           "  vm list                  host interfaces that carry a port "
           "name\n"
           "\n"
           "Options:\n"
           "  --rundir=DIR             runtime directory (default "
           "$HVS_RUNDIR or /run/hvs)\n"
           "  --dbdir=DIR              database directory (default "
           "$HVS_DBDIR or /var/lib/hvs)\n"
           "  -h, --help               print this help and exit\n"
           "  -V, --version            print the version and exit\n"
           "\n"
           "Exit status: 0 success, 1 failure, 2 usage error, "
           "3 (status) not all daemons run.\n");
}

static const char *
env_or(const char *var, const char *fallback)
{
    const char *value = getenv(var);

    return value && *value ? value : fallback;
}

int
main(int argc, char *argv[])
{
    struct cli_opts opts = {
        .rundir = env_or("HVS_RUNDIR", "/run/hvs"),
        .dbdir = env_or("HVS_DBDIR", "/var/lib/hvs"),
    };

    /* getopt's own messages lack the "hvs: " form; ours name the option.
     * "+": options after the command are the command's. */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "+:hV", options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_RUNDIR:
        case OPT_DBDIR:
            if (!*optarg) {
                return cli_usage_error("%s needs a directory",
                                       c == OPT_RUNDIR ? "--rundir"
                                                       : "--dbdir");
            }
            *(c == OPT_RUNDIR ? &opts.rundir : &opts.dbdir) = optarg;
            break;
        case 'h':
            usage();
            return CLI_EXIT_OK;
        case 'V':
            printf("hvs (hvs) %s\n", HVS_VERSION);
            return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("option '%s' requires an argument",
                                   argv[optind - 1]);
        default: {
            const char *arg = argv[optind - 1];

            if (strncmp(arg, "--", 2)) {
                return cli_usage_error("unknown option '-%c'", optopt);
            } else if (strchr(arg, '=') && optopt) {
                return cli_usage_error("option '%.*s' does not take an "
                                       "argument",
                                       (int) (strchr(arg, '=') - arg), arg);
            }
            return cli_usage_error("unknown option '%s'", arg);
        }
        }
    }
    if (optind >= argc) {
        return cli_usage_error("missing command");
    }

    const char *name = argv[optind];
    if (!strcmp(name, "help")) {
        usage();
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(name, commands[i].name)) {
            return commands[i].fn(&opts, argc - optind - 1,
                                  argv + optind + 1);
        }
    }
    return cli_usage_error("unknown command '%s'", name);
}
