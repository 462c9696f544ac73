/* Durable append-only storage with replay, torn-tail cutting and
 * compaction. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "error.h"
#include "log.h"
#include "schema.h"
#include "transaction.h"

LOG_MODULE(ovsdb_storage);

#define MAGIC "HVSDB"
#define MAX_HEADER 64

struct ovsdb_storage {
    char *path;
    int fd;
    uint64_t size;
    uint64_t snapshot_size;
    uint64_t n_records;
    uint64_t n_compactions;
    uint64_t n_truncations;
};

uint32_t
ovsdb_crc32(const void *data, size_t n)
{
    static uint32_t table[256];
    const uint8_t *p = data;
    uint32_t crc = 0xffffffffu;
    size_t i;

    if (!table[1]) {
        for (i = 0; i < 256; i++) {
            uint32_t c = i;
            int k;

            for (k = 0; k < 8; k++) {
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            table[i] = c;
        }
    }
    for (i = 0; i < n; i++) {
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }
    return crc ^ 0xffffffffu;
}

static int
write_all(int fd, const struct iovec *iov, int n)
{
    struct iovec v[3];
    int i;

    memcpy(v, iov, n * sizeof *v);
    i = 0;
    while (i < n) {
        ssize_t r = writev(fd, &v[i], n - i);

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        while (i < n && (size_t) r >= v[i].iov_len) {
            r -= v[i].iov_len;
            i++;
        }
        if (i < n) {
            v[i].iov_base = (char *) v[i].iov_base + r;
            v[i].iov_len -= r;
        }
    }
    return 0;
}

/* Writes one record; returns its size in bytes or -errno. */
static long
write_record(int fd, json_t *j)
{
    char *body = json_dumps(j, JSON_COMPACT);
    char header[MAX_HEADER];
    struct iovec iov[3];
    size_t len;
    int hlen, err;

    if (!body) {
        return -ENOMEM;
    }
    len = strlen(body);
    hlen = snprintf(header, sizeof header, MAGIC " %zu %08x\n", len,
                    ovsdb_crc32(body, len));
    iov[0].iov_base = header;
    iov[0].iov_len = hlen;
    iov[1].iov_base = body;
    iov[1].iov_len = len;
    iov[2].iov_base = "\n";
    iov[2].iov_len = 1;
    err = write_all(fd, iov, 3);
    free(body);
    return err ? err : (long) (hlen + len + 1);
}

/* Parses the record at 'buf' + '*ofs'.  Returns the JSON (advancing
 * '*ofs') or NULL if the record is torn or corrupt. */
static json_t *
read_record(const char *buf, size_t size, size_t *ofs)
{
    const char *p = buf + *ofs, *nl;
    size_t avail = size - *ofs, len, hlen;
    unsigned int crc;
    char header[MAX_HEADER + 1];
    json_t *j;

    nl = memchr(p, '\n', avail < MAX_HEADER ? avail : MAX_HEADER);
    if (!nl) {
        return NULL;
    }
    hlen = nl - p + 1;
    memcpy(header, p, hlen - 1);
    header[hlen - 1] = 0;
    if (sscanf(header, MAGIC " %zu %8x", &len, &crc) != 2
        || len > avail - hlen || avail - hlen - len < 1
        || p[hlen + len] != '\n'
        || ovsdb_crc32(p + hlen, len) != crc) {
        return NULL;
    }
    j = json_loadb(p + hlen, len, 0, NULL);
    if (j) {
        *ofs += hlen + len + 1;
    }
    return j;
}

/* Applies one transaction record to 'db'.  All or nothing. */
static struct ovsdb_error *
apply_record(struct ovsdb *db, json_t *rec, bool ignore_unknown)
{
    struct ovsdb_txn *txn = ovsdb_txn_create(db);
    struct ovsdb_error *e = NULL;
    const struct ovsdb_change *changes;
    const char *tname;
    json_t *tj;
    size_t n;

    if (!json_is_object(rec)) {
        e = ovsdb_error("syntax error", "record is not an object");
        goto out;
    }
    json_object_foreach(rec, tname, tj) {
        struct ovsdb_table *table;
        const char *us;
        json_t *rj;

        if (tname[0] == '_') {
            continue;
        }
        table = ovsdb_find_table(db, tname);
        if (!table) {
            if (ignore_unknown) {
                continue;
            }
            e = ovsdb_error("syntax error", "unknown table %s", tname);
            goto out;
        }
        if (!json_is_object(tj)) {
            e = ovsdb_error("syntax error", "bad table in record");
            goto out;
        }
        json_object_foreach(tj, us, rj) {
            const struct ovsdb_row *old;
            struct ovsdb_row *row;
            struct uuid uuid;
            const char *cname;
            json_t *cj;

            if (!uuid_from_string(&uuid, us)) {
                e = ovsdb_error("syntax error", "bad uuid %s", us);
                goto out;
            }
            old = ovsdb_txn_get_row(txn, table, &uuid);
            if (json_is_null(rj)) {
                if (old) {
                    ovsdb_txn_delete(txn, old);
                }
                continue;
            }
            if (!json_is_object(rj)) {
                e = ovsdb_error("syntax error", "bad row in record");
                goto out;
            }
            row = old ? ovsdb_txn_modify(txn, old)
                      : ovsdb_txn_insert(txn, table, &uuid);
            json_object_foreach(rj, cname, cj) {
                const struct ovsdb_column *c =
                    ovsdb_table_find_column(table->schema, cname);
                struct ovsdb_datum d;

                if (c && c->index >= OVSDB_N_IMPLICIT && json_is_array(cj)
                    && json_array_size(cj) == 2
                    && json_is_string(json_array_get(cj, 0))
                    && !strcmp(json_string_value(json_array_get(cj, 0)),
                               "diff")) {
                    struct ovsdb_type dt = c->type;

                    dt.n_min = 0;
                    dt.n_max = OVSDB_UNLIMITED;
                    e = ovsdb_datum_from_json(&d, &dt, json_array_get(cj, 1),
                                              NULL, NULL);
                    if (e) {
                        goto out;
                    }
                    ovsdb_datum_apply_diff(&row->fields[c->index], &d,
                                           &c->type);
                    ovsdb_datum_destroy(&d, &c->type);
                    continue;
                }
                if (!c || c->index < OVSDB_N_IMPLICIT) {
                    if (ignore_unknown) {
                        continue;
                    }
                    e = ovsdb_error("syntax error", "unknown column %s",
                                    cname);
                    goto out;
                }
                /* A value that the (new) type refuses fails the whole
                 * record: a conversion must not drop data silently. */
                e = ovsdb_datum_from_json(&d, &c->type, cj, NULL, NULL);
                if (e) {
                    goto out;
                }
                ovsdb_datum_destroy(&row->fields[c->index], &c->type);
                row->fields[c->index] = d;
            }
        }
    }
    /* Replay trusts the log: committing through the normal path keeps the
     * indexes and reference counts right, and garbage collection cannot
     * remove anything a logged commit kept. */
    e = ovsdb_txn_commit(txn, &changes, &n);
out:
    ovsdb_txn_destroy(txn);
    return e;
}

/* The columns of 'row' to log: the changed ones (relative to 'old', as
 * diffs where smaller), or with 'old' NULL all non-default ones. */
static json_t *
row_json(const struct ovsdb_row *row, const struct ovsdb_row *old,
         const bool *changed)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    json_t *j = json_object();
    unsigned int c;

    for (c = OVSDB_N_IMPLICIT; c < ts->n_columns; c++) {
        const struct ovsdb_column *col = &ts->columns[c];
        const struct ovsdb_datum *d = &row->fields[c];

        if (col->ephemeral || (changed && !changed[c])
            || (!old && ovsdb_datum_is_default(d, &col->type))) {
            continue;
        }
        if (old && !ovsdb_type_is_scalar(&col->type) && d->n > 8) {
            struct ovsdb_datum diff;

            ovsdb_datum_diff(&diff, &old->fields[c], d, &col->type);
            if (diff.n * 2 < d->n) {
                json_object_set_new(j, col->name, json_pack(
                    "[so]", "diff", ovsdb_datum_to_json(&diff, &col->type)));
                ovsdb_datum_destroy(&diff, &col->type);
                continue;
            }
            ovsdb_datum_destroy(&diff, &col->type);
        }
        json_object_set_new(j, col->name,
                            ovsdb_datum_to_json(d, &col->type));
    }
    return j;
}

static json_t *
snapshot_json(struct ovsdb *db)
{
    json_t *rec = json_object();
    unsigned int t;

    for (t = 0; t < db->schema->n_tables; t++) {
        struct ovsdb_table *table = &db->tables[t];
        struct hmap_node *node;
        json_t *tj = json_object();
        size_t pos;

        HMAP_FOR_EACH_NODE (node, pos, &table->rows) {
            const struct ovsdb_row *row = HMAP_CONTAINER(node,
                                                         struct ovsdb_row,
                                                         node);
            char u[UUID_LEN + 1];

            uuid_to_string(ovsdb_row_uuid(row), u);
            json_object_set_new(tj, u, row_json(row, NULL, NULL));
        }
        if (json_object_size(tj)) {
            json_object_set_new(rec, table->schema->name, tj);
        } else {
            json_decref(tj);
        }
    }
    return rec;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int
fsync_dir(const char *path)
{
    char *copy = strdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    int err = 0;

    free(copy);
    if (fd < 0) {
        return -errno;
    }
    if (fsync(fd) < 0) {
        err = -errno;
    }
    close(fd);
    return err;
}

/* Writes 'schema' and (optionally) a snapshot of 'db' to a new file and
 * renames it over 'path'.  Returns the new fd (open for append) or
 * -errno. */
static int
write_fresh(const char *path, json_t *schema_json, struct ovsdb *db,
            uint64_t *size)
{
    char *tmp;
    long n1, n2 = 0;
    int fd;

    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        return -ENOMEM;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = -errno;

        free(tmp);
        return err;
    }
    n1 = write_record(fd, schema_json);
    if (n1 >= 0 && db && ovsdb_n_rows(db)) {
        json_t *snap = snapshot_json(db);

        json_object_set_new(snap, "_date", json_integer(now_ms()));
        json_object_set_new(snap, "_comment", json_string("compacted"));
        n2 = write_record(fd, snap);
        json_decref(snap);
    }
    if (n1 < 0 || n2 < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
        int err = n1 < 0 ? (int) n1 : n2 < 0 ? (int) n2 : -errno;

        close(fd);
        unlink(tmp);
        free(tmp);
        return err;
    }
    free(tmp);
    fsync_dir(path);
    *size = n1 + n2;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        /* The lock moves with the file: keep holding it. */
        LOG_WARN("%s: cannot lock: %s", path, strerror(errno));
    }
    return fd;
}

static struct ovsdb_error *
read_file(const char *path, char **bufp, size_t *sizep)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t size = 0, cap = 0, r;

    if (!f) {
        return ovsdb_error("I/O error", "%s: %s", path, strerror(errno));
    }
    do {
        if (cap - size < 65536) {
            cap = cap ? 2 * cap : 1 << 20;
            buf = realloc(buf, cap);
        }
        r = fread(buf + size, 1, cap - size, f);
        size += r;
    } while (r > 0);
    fclose(f);
    *bufp = buf;
    *sizep = size;
    return NULL;
}

/* Moves a file whose schema record cannot be read out of the way, so the
 * server still starts (with an empty database) and nothing is lost. */
static void
set_aside(const char *path)
{
    char *aside;

    if (asprintf(&aside, "%s.corrupt.%lld", path, now_ms()) > 0) {
        if (rename(path, aside) == 0) {
            LOG_ERR("%s: unreadable schema record; moved to %s and started "
                    "empty", path, aside);
        }
        free(aside);
    }
}

struct ovsdb *
ovsdb_storage_convert(struct ovsdb *old, struct ovsdb_schema *schema,
                      struct ovsdb_error **error)
{
    struct ovsdb *db = ovsdb_create(schema);
    json_t *snap = snapshot_json(old);

    *error = apply_record(db, snap, true);
    json_decref(snap);
    if (*error) {
        ovsdb_destroy(db);
        return NULL;
    }
    ovsdb_recount_refs(db);
    return db;
}

/* The data of 'old' under 'schema', or NULL (and 'schema' is freed) if
 * it does not fit, e.g. a new index that the data violates. */
static struct ovsdb *
convert(struct ovsdb *old, struct ovsdb_schema *schema)
{
    char *version = strdup(schema->version);
    struct ovsdb_error *e;
    struct ovsdb *db = ovsdb_storage_convert(old, schema, &e);

    if (!db) {
        LOG_ERR("cannot convert to schema version %s, keeping version %s: "
                "%s", version, old->schema->version,
                e->details ? e->details : e->tag);
        ovsdb_error_free(e);
    }
    free(version);
    return db;
}

struct ovsdb_error *
ovsdb_storage_open(const char *path, struct ovsdb_schema *schema,
                   struct ovsdb **dbp, struct ovsdb_storage **stp)
{
    struct ovsdb_storage *st = calloc(1, sizeof *st);
    struct ovsdb_schema *file_schema = NULL;
    struct ovsdb_error *e;
    struct ovsdb *db = NULL;
    size_t size = 0, ofs = 0, good;
    char *buf = NULL;
    json_t *j;
    int fd;

    *dbp = NULL;
    *stp = NULL;
    st->path = strdup(path);
    st->fd = -1;
    if (access(path, F_OK) == 0) {
        e = read_file(path, &buf, &size);
        if (e) {
            goto error;
        }
        j = read_record(buf, size, &ofs);
        if (j) {
            e = ovsdb_schema_from_json(&file_schema, j);
            json_decref(j);
            if (e) {
                ovsdb_error_free(e);
                file_schema = NULL;
            }
        }
        if (!file_schema) {
            free(buf);
            buf = NULL;
            set_aside(path);
        }
    }
    if (!file_schema) {
        /* A new database. */
        fd = write_fresh(path, schema->json, NULL, &st->size);
        if (fd < 0) {
            e = ovsdb_error("I/O error", "%s: cannot create: %s", path,
                            strerror(-fd));
            goto error;
        }
        LOG_INFO("%s: created database %s", path, schema->name);
        st->fd = fd;
        st->snapshot_size = st->size;
        *dbp = ovsdb_create(schema);
        *stp = st;
        return NULL;
    }
    db = ovsdb_create(file_schema);
    good = ofs;
    while (good < size) {
        j = read_record(buf, size, &ofs);
        if (!j) {
            break;
        }
        e = apply_record(db, j, false);
        json_decref(j);
        if (e) {
            LOG_WARN("%s: record at offset %zu does not apply: %s", path,
                     good, e->details ? e->details : e->tag);
            ovsdb_error_free(e);
            break;
        }
        st->n_records++;
        good = ofs;
    }
    free(buf);
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        e = ovsdb_error("I/O error", "%s: %s", path, strerror(errno));
        goto error;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        e = ovsdb_error("I/O error", "%s: locked by another process", path);
        close(fd);
        goto error;
    }
    if (good < size) {
        LOG_WARN("%s: cutting off %zu bytes of torn or corrupt data at "
                 "offset %zu", path, size - good, good);
        if (ftruncate(fd, good) < 0 || fsync(fd) < 0) {
            e = ovsdb_error("I/O error", "%s: cannot truncate: %s", path,
                            strerror(errno));
            close(fd);
            goto error;
        }
        st->n_truncations++;
    }
    st->fd = fd;
    st->size = good;
    st->snapshot_size = good;
    if (ovsdb_version_compare(schema->version, file_schema->version) > 0
        || strcmp(schema->name, file_schema->name)) {
        if (!strcmp(schema->name, file_schema->name)) {
            const char *from = file_schema->version;
            struct ovsdb *newdb;

            LOG_INFO("%s: converting from schema version %s to %s", path,
                     from, schema->version);
            newdb = convert(db, schema);
            schema = NULL;
            if (newdb) {
                ovsdb_destroy(db);
                db = newdb;
                /* On failure the old file stays, and the next start
                 * tries again. */
                if (ovsdb_storage_compact(st, db) < 0) {
                    e = ovsdb_error("I/O error", "%s: conversion failed",
                                    path);
                    goto error;
                }
            }
        }
    }
    ovsdb_schema_free(schema);
    ovsdb_recount_refs(db);
    *dbp = db;
    *stp = st;
    return NULL;

error:
    ovsdb_destroy(db);
    ovsdb_schema_free(schema);
    ovsdb_storage_close(st);
    return e;
}

void
ovsdb_storage_close(struct ovsdb_storage *st)
{
    if (st) {
        if (st->fd >= 0) {
            close(st->fd);
        }
        free(st->path);
        free(st);
    }
}

int
ovsdb_storage_commit(struct ovsdb_storage *st, struct ovsdb *db,
                     const struct ovsdb_change *changes, size_t n,
                     const char *comment, bool durable)
{
    json_t *rec = json_object();
    bool any = false;
    long r;
    size_t i;

    (void) db;
    for (i = 0; i < n; i++) {
        const struct ovsdb_change *ch = &changes[i];
        const struct ovsdb_row *row = ch->new ? ch->new : ch->old;
        json_t *tj = json_object_get(rec, ch->table->schema->name);
        json_t *rj;
        char u[UUID_LEN + 1];

        if (!ch->new) {
            rj = json_null();
        } else {
            rj = row_json(ch->new, ch->old, ch->old ? ch->changed : NULL);
            if (ch->old && !json_object_size(rj)) {
                json_decref(rj);        /* only ephemeral columns changed */
                continue;
            }
        }
        if (!tj) {
            tj = json_object();
            json_object_set_new(rec, ch->table->schema->name, tj);
        }
        uuid_to_string(ovsdb_row_uuid(row), u);
        json_object_set_new(tj, u, rj);
        any = true;
    }
    if (!any) {
        json_decref(rec);
        return 0;
    }
    json_object_set_new(rec, "_date", json_integer(now_ms()));
    if (comment) {
        json_object_set_new(rec, "_comment", json_string(comment));
    }
    r = write_record(st->fd, rec);
    json_decref(rec);
    if (r < 0) {
        LOG_ERR("%s: write failed: %s", st->path, strerror((int) -r));
        return (int) r;
    }
    st->size += r;
    st->n_records++;
    if (durable && fdatasync(st->fd) < 0) {
        LOG_ERR("%s: sync failed: %s", st->path, strerror(errno));
        return -errno;
    }
    return 0;
}

int
ovsdb_storage_compact(struct ovsdb_storage *st, struct ovsdb *db)
{
    uint64_t size;
    int fd = write_fresh(st->path, db->schema->json, db, &size);

    if (fd < 0) {
        LOG_ERR("%s: compaction failed: %s", st->path, strerror(-fd));
        return fd;
    }
    if (st->fd >= 0) {
        close(st->fd);
    }
    st->fd = fd;
    LOG_INFO("%s: compacted %llu bytes to %llu", st->path,
             (unsigned long long) st->size, (unsigned long long) size);
    st->size = st->snapshot_size = size;
    st->n_records = 0;
    st->n_compactions++;
    return 0;
}

void
ovsdb_storage_maybe_compact(struct ovsdb_storage *st, struct ovsdb *db)
{
    static long long min_size = -1;

    if (min_size < 0) {
        const char *s = getenv("HVS_OVSDB_COMPACT_MIN");

        min_size = s ? atoll(s) : 10LL << 20;
    }
    if (st->size >= (uint64_t) min_size && st->size >= 4 * st->snapshot_size
        && st->n_records >= 100) {
        ovsdb_storage_compact(st, db);
    }
}

void
ovsdb_storage_get_stats(const struct ovsdb_storage *st,
                        struct ovsdb_storage_stats *s)
{
    s->file_size = st->size;
    s->snapshot_size = st->snapshot_size;
    s->n_records = st->n_records;
    s->n_compactions = st->n_compactions;
    s->n_truncations = st->n_truncations;
}
