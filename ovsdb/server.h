/* The server: its databases, client sessions over the remotes, the
 * unixctl socket, and the event loop that serves them. */
#ifndef OVSDB_SERVER_H
#define OVSDB_SERVER_H 1

#include <stdbool.h>
#include <stddef.h>

struct ovsdb;
struct ovsdb_storage;
struct ovsdb_server;

/* Takes 'db' and 'storage'. */
struct ovsdb_server *ovsdb_server_create(struct ovsdb *db,
                                         struct ovsdb_storage *storage);
void ovsdb_server_destroy(struct ovsdb_server *);

/* Adds a remote given on the command line.  Returns 0 or -errno. */
int ovsdb_server_add_remote(struct ovsdb_server *, const char *spec);
int ovsdb_server_set_unixctl(struct ovsdb_server *, const char *path);
/* Runs until ovsdb_server_exit() or a termination signal on 'signal_fd'
 * (daemon_signals_open()'s descriptor, whose SIGHUP reopens the log; -1:
 * none). */
void ovsdb_server_run(struct ovsdb_server *, int signal_fd);
void ovsdb_server_exit(struct ovsdb_server *);

struct ovsdb_server_stats {
    size_t n_sessions;
    size_t n_monitors;
    size_t n_rows;
    size_t n_cells;
    size_t n_locks;
    size_t n_pending;
    size_t backlog;
};
void ovsdb_server_get_stats(const struct ovsdb_server *,
                            struct ovsdb_server_stats *);
struct ovsdb_storage *ovsdb_server_storage(struct ovsdb_server *);
struct ovsdb *ovsdb_server_db(struct ovsdb_server *);
/* A malloc'd "spec\n" list of the remotes in use. */
char *ovsdb_server_list_remotes(const struct ovsdb_server *);

#endif /* OVSDB_SERVER_H */
