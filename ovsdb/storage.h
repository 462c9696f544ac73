/* Durable storage of one database in one append-only file.
 *
 * The file is a sequence of records, each
 *     "HVSDB <length> <crc32 in 8 hex digits>\n" <length bytes of JSON> "\n"
 * The first record is the schema, the others are committed transactions
 * {"TABLE": {"UUID": ROW-or-null, ...}, ..., "_date": MS, "_comment": S}
 * where ROW holds the columns that the transaction changed (a deleted row
 * is null).  A changed set or map column may be written as
 * ["diff", DIFF] (the update2 difference) when that is smaller than the
 * new value, so growing a big set costs a record of the change's size.
 * Opening replays the records; a torn or corrupt tail is cut off with a
 * warning.  Compaction writes the live rows as one record into
 * a new file and renames it over the old one. */
#ifndef OVSDB_STORAGE_H
#define OVSDB_STORAGE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ovsdb;
struct ovsdb_change;
struct ovsdb_error;
struct ovsdb_schema;

struct ovsdb_storage;

/* Opens 'path' (creating it with 'schema' if it does not exist) and
 * returns the database it holds.  When 'schema' has a newer version than
 * the file's, the data is converted to it (columns and tables that
 * survive keep their values).  Takes 'schema' in every case. */
struct ovsdb_error *ovsdb_storage_open(const char *path,
                                       struct ovsdb_schema *schema,
                                       struct ovsdb **dbp,
                                       struct ovsdb_storage **stp);
void ovsdb_storage_close(struct ovsdb_storage *);

/* Appends one committed transaction.  Syncs to disk first if 'durable'.
 * Returns 0 or -errno. */
int ovsdb_storage_commit(struct ovsdb_storage *, struct ovsdb *,
                         const struct ovsdb_change *, size_t n,
                         const char *comment, bool durable);
/* The data of 'old' under 'schema' (tables and columns that both have
 * keep their values), or NULL with '*error' set if the data does not fit
 * the new schema.  Takes 'schema'; 'old' is unchanged. */
struct ovsdb *ovsdb_storage_convert(struct ovsdb *old,
                                    struct ovsdb_schema *schema,
                                    struct ovsdb_error **error);
/* Rewrites the file with only the live data.  Returns 0 or -errno. */
int ovsdb_storage_compact(struct ovsdb_storage *, struct ovsdb *);
/* Compacts if the file has grown well past the live data. */
void ovsdb_storage_maybe_compact(struct ovsdb_storage *, struct ovsdb *);

struct ovsdb_storage_stats {
    uint64_t file_size;
    uint64_t snapshot_size;
    uint64_t n_records;             /* since the last compaction */
    uint64_t n_compactions;
    uint64_t n_truncations;         /* torn tails cut off on open */
};
void ovsdb_storage_get_stats(const struct ovsdb_storage *,
                             struct ovsdb_storage_stats *);

uint32_t ovsdb_crc32(const void *, size_t);

#endif /* OVSDB_STORAGE_H */
