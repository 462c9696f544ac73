/* Monitors (RFC 7047 section 4.1.5 and the monitor_cond / update2 /
 * update3 extensions): which tables, columns, kinds of change and rows a
 * client watches, and the table-updates JSON it is sent. */
#ifndef OVSDB_MONITOR_H
#define OVSDB_MONITOR_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct ovsdb;
struct ovsdb_change;
struct ovsdb_error;

enum ovsdb_monitor_version {
    OVSDB_MONITOR_V1,               /* "monitor": update */
    OVSDB_MONITOR_V2,               /* "monitor_cond": update2 */
    OVSDB_MONITOR_V3,               /* "monitor_cond_since": update3 */
};

/* Owned by the session that created it. */
struct ovsdb_monitor;

struct ovsdb_error *ovsdb_monitor_create(struct ovsdb *, json_t *id,
                                         json_t *requests,
                                         enum ovsdb_monitor_version,
                                         struct ovsdb_monitor **);
void ovsdb_monitor_free(struct ovsdb_monitor *);
json_t *ovsdb_monitor_id(const struct ovsdb_monitor *);
/* monitor_cond_change may rename a monitor (a new reference is taken). */
void ovsdb_monitor_set_id(struct ovsdb_monitor *, json_t *id);
struct ovsdb *ovsdb_monitor_db(const struct ovsdb_monitor *);
enum ovsdb_monitor_version ovsdb_monitor_version(const struct ovsdb_monitor *);

/* The current contents as a table-updates object ("initial" rows). */
json_t *ovsdb_monitor_initial(const struct ovsdb_monitor *);
/* The table-updates object for a commit, or NULL if it shows nothing. */
json_t *ovsdb_monitor_changes(const struct ovsdb_monitor *,
                              const struct ovsdb_change *, size_t n);
/* Replaces the conditions ('requests' as in monitor_cond_change) and
 * returns in '*update' the rows that appear or disappear (NULL if none). */
struct ovsdb_error *ovsdb_monitor_cond_change(struct ovsdb_monitor *,
                                              json_t *requests,
                                              json_t **update);
/* The notification that carries 'updates' (stolen) for this monitor. */
json_t *ovsdb_monitor_notification(const struct ovsdb_monitor *,
                                   json_t *updates);
/* The same as JSON text, from 'updates' already serialized (malloc'd). */
char *ovsdb_monitor_notification_text(const struct ovsdb_monitor *,
                                      const char *updates, size_t *len);
/* Monitors with equal keys produce equal updates for the same commit, so
 * a commit is turned into JSON once per key, not once per client. */
const char *ovsdb_monitor_key(const struct ovsdb_monitor *);

#endif /* OVSDB_MONITOR_H */
