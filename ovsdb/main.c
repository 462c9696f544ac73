/* hvs-ovsdb: an RFC 7047 database server for the Open_vSwitch database.
 *
 *   hvs-ovsdb [DBFILE] [--remote=REMOTE]... [--unixctl=PATH]
 *             [--schema=FILE] [common daemon options]
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "schema.h"
#include "server.h"
#include "storage.h"

LOG_MODULE(ovsdb_main);

extern const char ovsdb_builtin_schema[];

enum { OPT_REMOTE = 0x2000, OPT_UNIXCTL, OPT_SCHEMA };

static const struct option extra_options[] = {
    { "remote", required_argument, NULL, OPT_REMOTE },
    { "unixctl", required_argument, NULL, OPT_UNIXCTL },
    { "schema", required_argument, NULL, OPT_SCHEMA },
    { NULL, 0, NULL, 0 },
};

struct args {
    char **remotes;
    size_t n_remotes;
    char *unixctl;
    char *schema_file;
};

static int
parse_extra(int c, const char *arg, void *aux)
{
    struct args *a = aux;

    switch (c) {
    case OPT_REMOTE:
        a->remotes = realloc(a->remotes,
                             (a->n_remotes + 1) * sizeof *a->remotes);
        a->remotes[a->n_remotes++] = strdup(arg);
        return 0;
    case OPT_UNIXCTL:
        free(a->unixctl);
        a->unixctl = strdup(arg);
        return 0;
    case OPT_SCHEMA:
        free(a->schema_file);
        a->schema_file = strdup(arg);
        return 0;
    }
    return -1;
}

static int
make_parent_dirs(const char *file)
{
    char *copy = strdup(file), *dir = dirname(copy), *p;

    for (p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                free(copy);
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        free(copy);
        return -errno;
    }
    free(copy);
    return 0;
}

static struct ovsdb_schema *
load_schema(const char *file)
{
    struct ovsdb_schema *schema;
    struct ovsdb_error *e;
    json_error_t jerr;
    json_t *j = file ? json_load_file(file, 0, &jerr)
                     : json_loads(ovsdb_builtin_schema, 0, &jerr);

    if (!j) {
        LOG_ERR("%s: %s", file ? file : "built-in schema", jerr.text);
        return NULL;
    }
    e = ovsdb_schema_from_json(&schema, j);
    json_decref(j);
    if (e) {
        LOG_ERR("%s: %s", file ? file : "built-in schema",
                e->details ? e->details : e->tag);
        ovsdb_error_free(e);
        return NULL;
    }
    return schema;
}

int
main(int argc, char *argv[])
{
    struct daemon_opts opts = { .program = "hvs-ovsdb" };
    struct args a = { NULL, 0, NULL, NULL };
    struct ovsdb_storage *storage;
    struct ovsdb_schema *schema;
    struct ovsdb_server *server;
    struct ovsdb_error *e;
    struct ovsdb *db;
    char *dbfile, *path;
    int optind_, sfd = -1, status = 1;
    size_t i;

    optind_ = daemon_parse_args(&opts, argc, argv, extra_options, "",
                                parse_extra, &a,
                                "  [DBFILE]             default "
                                "$HVS_DBDIR/conf.db (/var/lib/hvs)\n"
                                "  --remote=REMOTE      punix:PATH, "
                                "unix:PATH, ptcp:PORT[:IP], tcp:IP:PORT,\n"
                                "                       db:DB,TABLE,COLUMN "
                                "(default punix:RUNDIR/db.sock)\n"
                                "  --unixctl=PATH       default "
                                "RUNDIR/hvs-ovsdb.ctl\n"
                                "  --schema=FILE        schema for a new "
                                "database (default: built in)\n");
    daemon_check_operands(&opts, argc, argv, optind_, 1);
    if (optind_ < argc) {
        dbfile = strdup(argv[optind_]);
    } else {
        const char *dir = getenv("HVS_DBDIR");

        if (asprintf(&dbfile, "%s/conf.db", dir && *dir ? dir
                     : "/var/lib/hvs") < 0) {
            return 1;
        }
    }
    if (daemon_start(&opts) < 0) {
        return 1;
    }
    /* Before anything that could start a thread: the signals must stay
     * blocked in every thread for the signalfd to receive them. */
    sfd = daemon_signals_open();
    if (sfd < 0) {
        LOG_ERR("cannot receive signals: %s", strerror(-sfd));
        goto out;
    }
    schema = load_schema(a.schema_file);
    if (!schema) {
        goto out;
    }
    if (make_parent_dirs(dbfile) < 0) {
        LOG_ERR("%s: cannot create directory: %s", dbfile, strerror(errno));
        ovsdb_schema_free(schema);
        goto out;
    }
    e = ovsdb_storage_open(dbfile, schema, &db, &storage);
    if (e) {
        LOG_ERR("%s", e->details ? e->details : e->tag);
        ovsdb_error_free(e);
        goto out;
    }
    server = ovsdb_server_create(db, storage);
    if (!a.n_remotes) {
        path = daemon_path(&opts, "db.sock");
        a.remotes = malloc(sizeof *a.remotes);
        if (asprintf(&a.remotes[0], "punix:%s", path) < 0) {
            a.remotes[0] = NULL;
        }
        a.n_remotes = 1;
        free(path);
    }
    for (i = 0; i < a.n_remotes; i++) {
        if (ovsdb_server_add_remote(server, a.remotes[i]) < 0) {
            goto out_server;
        }
    }
    path = a.unixctl ? strdup(a.unixctl) : daemon_path(&opts,
                                                       "hvs-ovsdb.ctl");
    if (ovsdb_server_set_unixctl(server, path) < 0) {
        free(path);
        goto out_server;
    }
    free(path);
    daemon_ready(&opts);
    LOG_INFO("%s: serving database %s", dbfile, db->schema->name);
    ovsdb_server_run(server, sfd);
    status = 0;

out_server:
    ovsdb_server_destroy(server);
out:
    for (i = 0; i < a.n_remotes; i++) {
        free(a.remotes[i]);
    }
    free(a.remotes);
    free(a.unixctl);
    free(a.schema_file);
    free(dbfile);
    if (sfd >= 0) {
        close(sfd);
    }
    daemon_finish(&opts);
    return status;
}
