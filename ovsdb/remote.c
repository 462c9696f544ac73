/* Remote specifications: sockets to listen on or connect to. */
#include "remote.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

LOG_MODULE(ovsdb_remote);

bool
ovsdb_remote_is_passive(const char *spec)
{
    return !strncmp(spec, "punix:", 6) || !strncmp(spec, "ptcp:", 5);
}

bool
ovsdb_remote_is_db(const char *spec)
{
    return !strncmp(spec, "db:", 3);
}

static int
unix_addr(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

/* "PORT[:IP]" (passive) or "IP:PORT" (active). */
static int
inet_addr_parse(struct sockaddr_storage *ss, socklen_t *len,
                const char *s, bool passive)
{
    char *copy = strdup(s), *port, *ip;
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    int err = 0;
    long p;

    if (passive) {
        port = copy;
        ip = strchr(copy, ':');
        if (ip) {
            *ip++ = 0;
        } else {
            ip = "127.0.0.1";   /* loopback unless told otherwise */
        }
    } else {
        ip = copy;
        port = strrchr(copy, ':');
        if (!port) {
            free(copy);
            return -EINVAL;
        }
        *port++ = 0;
    }
    if (*ip == '[') {
        ip++;
        ip[strcspn(ip, "]")] = 0;
    }
    p = strtol(port, NULL, 10);
    if (p < 0 || p > 65535 || (!passive && !p)) {
        free(copy);
        return -EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(p);
        *len = sizeof *sin;
    } else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(p);
        *len = sizeof *sin6;
    } else {
        err = -EINVAL;
    }
    free(copy);
    return err;
}

/* Clears the way for binding 'sun': a socket file that nobody answers on
 * is left from a crash and is removed, but one that a server answers on
 * (or whose backlog is full) belongs to a live server: -EADDRINUSE.
 * Anything but a socket stays, and bind() reports it. */
static int
unix_clear_stale(const struct sockaddr_un *sun)
{
    struct stat st;
    int fd, err;

    if (lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        return 0;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    err = connect(fd, (const struct sockaddr *) sun, sizeof *sun) < 0
          ? errno : 0;
    close(fd);
    if (!err || err == EAGAIN) {
        return -EADDRINUSE;
    }
    if (err == ECONNREFUSED) {
        unlink(sun->sun_path);
    }
    return 0;
}

int
ovsdb_remote_listen(const char *spec)
{
    int fd, err, one = 1;
    mode_t old_mask;

    if (!strncmp(spec, "punix:", 6)) {
        struct sockaddr_un sun;

        err = unix_addr(&sun, spec + 6);
        if (err) {
            return err;
        }
        err = unix_clear_stale(&sun);
        if (err) {
            return err;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return -errno;
        }
        /* Created 0600 from the start: no window where others may
         * connect. */
        old_mask = umask(0177);
        err = bind(fd, (struct sockaddr *) &sun, sizeof sun) < 0 ? -errno : 0;
        umask(old_mask);
        if (err) {
            close(fd);
            return err;
        }
    } else if (!strncmp(spec, "ptcp:", 5)) {
        struct sockaddr_storage ss;
        socklen_t len;

        err = inet_addr_parse(&ss, &len, spec + 5, true);
        if (err) {
            return err;
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
        if (fd < 0) {
            return -errno;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0) {
            err = -errno;
            close(fd);
            return err;
        }
    } else {
        return -EINVAL;
    }
    if (listen(fd, 128) < 0) {
        err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

void
ovsdb_remote_unlisten(const char *spec)
{
    if (!strncmp(spec, "punix:", 6)) {
        unlink(spec + 6);
    }
}

int
ovsdb_remote_connect(const char *spec)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, err;

    if (!strncmp(spec, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *) &ss;

        err = unix_addr(sun, spec + 5);
        len = sizeof *sun;
    } else if (!strncmp(spec, "tcp:", 4)) {
        err = inet_addr_parse(&ss, &len, spec + 4, false);
    } else {
        err = -EINVAL;
    }
    if (err) {
        return err;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *) &ss, len) < 0
        && errno != EINPROGRESS) {
        err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static void
push_target(char ***v, size_t *n, const char *s)
{
    *v = realloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = strdup(s);
    (*v)[*n] = NULL;
}

/* Adds the targets that 'row''s column 'c' holds: strings directly, or
 * the "target" column of referenced rows. */
static void
collect(struct ovsdb *db, const struct ovsdb_row *row,
        const struct ovsdb_column *c, char ***v, size_t *n)
{
    const struct ovsdb_datum *d = &row->fields[c->index];
    unsigned int i;

    for (i = 0; i < d->n; i++) {
        if (c->type.key.type == OVSDB_T_STRING) {
            push_target(v, n, d->keys[i].s);
        } else if (c->type.key.type == OVSDB_T_UUID
                   && c->type.key.ref_table) {
            struct ovsdb_table *t = &db->tables[c->type.key.ref_table->index];
            const struct ovsdb_row *r = ovsdb_table_get_row(t,
                                                            &d->keys[i].u);
            const struct ovsdb_column *tc =
                ovsdb_table_find_column(t->schema, "target");

            if (r && tc && tc->type.key.type == OVSDB_T_STRING
                && r->fields[tc->index].n) {
                push_target(v, n, r->fields[tc->index].keys[0].s);
            }
        }
    }
}

char **
ovsdb_remote_db_targets(struct ovsdb *db, const char *spec)
{
    char *copy = strdup(spec + 3), *dbname, *tname, *cname;
    const struct ovsdb_column *c;
    struct ovsdb_table *table;
    struct hmap_node *node;
    char **v = calloc(1, sizeof *v);
    size_t n = 0, pos;

    dbname = strtok(copy, ",");
    tname = strtok(NULL, ",");
    cname = strtok(NULL, ",");
    if (!dbname || !tname || !cname || strcmp(dbname, db->schema->name)
        || !(table = ovsdb_find_table(db, tname))
        || !(c = ovsdb_table_find_column(table->schema, cname))) {
        free(copy);
        return v;
    }
    HMAP_FOR_EACH_NODE (node, pos, &table->rows) {
        collect(db, HMAP_CONTAINER(node, struct ovsdb_row, node), c, &v, &n);
    }
    free(copy);
    return v;
}

void
ovsdb_remote_free_targets(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++) {
        free(v[i]);
    }
    free(v);
}
