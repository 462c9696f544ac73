/* unixctl commands, as ovs-appctl sends them. */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "storage.h"

LOG_MODULE(ovsdb_ctl);

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    va_end(ap);
    return s;
}

static bool
cmd_exit(struct ovsdb_server *s, json_t *params, char **reply)
{
    (void) params;
    LOG_INFO("exiting on request");
    ovsdb_server_exit(s);
    *reply = strdup("");
    return true;
}

static bool
cmd_version(struct ovsdb_server *s, json_t *params, char **reply)
{
    (void) s;
    (void) params;
    *reply = strdup("hvs-ovsdb (hvs) " HVS_VERSION "\n");
    return true;
}

static bool
cmd_vlog_set(struct ovsdb_server *s, json_t *params, char **reply)
{
    size_t i;

    (void) s;
    for (i = 0; i < json_array_size(params); i++) {
        const char *spec = json_string_value(json_array_get(params, i));

        if (!spec || log_set_spec(spec) < 0) {
            *reply = xasprintf("invalid log spec \"%s\"\n",
                               spec ? spec : "");
            return false;
        }
    }
    *reply = strdup("");
    return true;
}

static bool
cmd_vlog_list(struct ovsdb_server *s, json_t *params, char **reply)
{
    (void) s;
    (void) params;
    *reply = log_list();
    return true;
}

static bool
cmd_vlog_reopen(struct ovsdb_server *s, json_t *params, char **reply)
{
    (void) s;
    (void) params;
    log_reopen();
    *reply = strdup("");
    return true;
}

static bool
cmd_memory_show(struct ovsdb_server *s, json_t *params, char **reply)
{
    struct ovsdb_server_stats st;

    (void) params;
    ovsdb_server_get_stats(s, &st);
    *reply = xasprintf("cells:%zu monitors:%zu rows:%zu sessions:%zu "
                       "locks:%zu pending:%zu backlog:%zu\n", st.n_cells,
                       st.n_monitors, st.n_rows, st.n_sessions, st.n_locks,
                       st.n_pending, st.backlog);
    return true;
}

static bool
cmd_compact(struct ovsdb_server *s, json_t *params, char **reply)
{
    struct ovsdb_storage *st = ovsdb_server_storage(s);

    (void) params;
    if (!st) {
        *reply = strdup("no storage\n");
        return false;
    }
    if (ovsdb_storage_compact(st, ovsdb_server_db(s)) < 0) {
        *reply = strdup("compaction failed\n");
        return false;
    }
    *reply = strdup("");
    return true;
}

static bool
cmd_storage_show(struct ovsdb_server *s, json_t *params, char **reply)
{
    struct ovsdb_storage *st = ovsdb_server_storage(s);
    struct ovsdb_storage_stats ss;

    (void) params;
    if (!st) {
        *reply = strdup("no storage\n");
        return false;
    }
    ovsdb_storage_get_stats(st, &ss);
    *reply = xasprintf("file_size:%llu snapshot_size:%llu records:%llu "
                       "compactions:%llu truncations:%llu\n",
                       (unsigned long long) ss.file_size,
                       (unsigned long long) ss.snapshot_size,
                       (unsigned long long) ss.n_records,
                       (unsigned long long) ss.n_compactions,
                       (unsigned long long) ss.n_truncations);
    return true;
}

static bool
cmd_list_remotes(struct ovsdb_server *s, json_t *params, char **reply)
{
    (void) params;
    *reply = ovsdb_server_list_remotes(s);
    return true;
}

static bool
cmd_add_remote(struct ovsdb_server *s, json_t *params, char **reply)
{
    const char *spec = json_string_value(json_array_get(params, 0));

    if (!spec || ovsdb_server_add_remote(s, spec) < 0) {
        *reply = xasprintf("cannot add remote \"%s\"\n", spec ? spec : "");
        return false;
    }
    *reply = strdup("");
    return true;
}

static bool cmd_list_commands(struct ovsdb_server *, json_t *, char **);

static const struct {
    const char *name;
    const char *usage;
    bool (*fn)(struct ovsdb_server *, json_t *params, char **reply);
} commands[] = {
    { "exit", "", cmd_exit },
    { "version", "", cmd_version },
    { "list-commands", "", cmd_list_commands },
    { "vlog/set", "{spec | module:level}", cmd_vlog_set },
    { "vlog/list", "", cmd_vlog_list },
    { "vlog/reopen", "", cmd_vlog_reopen },
    { "memory/show", "", cmd_memory_show },
    { "ovsdb-server/compact", "", cmd_compact },
    { "ovsdb-server/storage-show", "", cmd_storage_show },
    { "ovsdb-server/list-remotes", "", cmd_list_remotes },
    { "ovsdb-server/add-remote", "REMOTE", cmd_add_remote },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static bool
cmd_list_commands(struct ovsdb_server *s, json_t *params, char **reply)
{
    char *out = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&out, &len);

    (void) s;
    (void) params;
    fprintf(f, "The available commands are:\n");
    for (i = 0; i < N_COMMANDS; i++) {
        fprintf(f, "  %-24s %s\n", commands[i].name, commands[i].usage);
    }
    fclose(f);
    *reply = out;
    return true;
}

bool
ovsdb_ctl_run(struct ovsdb_server *s, const char *method, json_t *params,
              char **reply)
{
    size_t i;

    for (i = 0; i < json_array_size(params); i++) {
        if (!json_is_string(json_array_get(params, i))) {
            *reply = strdup("command arguments must be strings\n");
            return false;
        }
    }
    for (i = 0; i < N_COMMANDS; i++) {
        if (!strcmp(commands[i].name, method)) {
            return commands[i].fn(s, params, reply);
        }
    }
    *reply = xasprintf("\"%s\" is not a valid command (use "
                       "\"list-commands\" to see a list of valid "
                       "commands)\n", method);
    return false;
}
