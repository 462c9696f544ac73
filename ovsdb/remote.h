/* Remote specifications: "punix:PATH", "unix:PATH", "ptcp:PORT[:IP]",
 * "tcp:IP:PORT", and "db:DB,TABLE,COLUMN" (targets read from the
 * database, such as Open_vSwitch's manager_options). */
#ifndef OVSDB_REMOTE_H
#define OVSDB_REMOTE_H 1

#include <stdbool.h>
#include <stddef.h>

struct ovsdb;

bool ovsdb_remote_is_passive(const char *spec);
bool ovsdb_remote_is_db(const char *spec);
/* Opens a listening socket (non-blocking).  Returns the fd or -errno;
 * -EADDRINUSE for a "punix:" socket that another server answers on (a
 * socket file nobody answers on is removed and created again). */
int ovsdb_remote_listen(const char *spec);
/* Starts connecting to an active remote (non-blocking).  Returns the fd
 * or -errno. */
int ovsdb_remote_connect(const char *spec);
/* Cleans up after a passive remote (removes its socket file). */
void ovsdb_remote_unlisten(const char *spec);
/* The targets that "db:DB,TABLE,COLUMN" names in 'db', as a malloc'd
 * NULL-terminated array of malloc'd strings. */
char **ovsdb_remote_db_targets(struct ovsdb *db, const char *spec);
void ovsdb_remote_free_targets(char **);

#endif /* OVSDB_REMOTE_H */
