/* Named locks (RFC 7047 section 4.1.8): each has an owner and a queue of
 * waiters.  Owners are opaque pointers (the server's sessions); the
 * module tells them about changes through a callback, which the server
 * turns into "locked" and "stolen" notifications. */
#ifndef OVSDB_LOCK_H
#define OVSDB_LOCK_H 1

#include <stdbool.h>
#include <stddef.h>

/* 'method' is "locked" (now owned) or "stolen" (taken away). */
typedef void ovsdb_lock_notify_fn(void *owner, const char *method,
                                  const char *name);

struct ovsdb_locks;

enum ovsdb_lock_result {
    OVSDB_LOCK_GRANTED,
    OVSDB_LOCK_QUEUED,
    OVSDB_LOCK_DUPLICATE,           /* 'owner' already holds or waits */
    OVSDB_LOCK_NOT_HELD,            /* unlock of a lock never requested */
};

struct ovsdb_locks *ovsdb_locks_create(ovsdb_lock_notify_fn *);
void ovsdb_locks_destroy(struct ovsdb_locks *);

enum ovsdb_lock_result ovsdb_locks_lock(struct ovsdb_locks *,
                                        const char *name, void *owner);
/* Takes the lock from its owner, who loses its place entirely. */
enum ovsdb_lock_result ovsdb_locks_steal(struct ovsdb_locks *,
                                         const char *name, void *owner);
/* Gives up the lock or a place in its queue. */
enum ovsdb_lock_result ovsdb_locks_unlock(struct ovsdb_locks *,
                                          const char *name, void *owner);
/* Everything 'owner' holds or waits for (it is going away). */
void ovsdb_locks_release_all(struct ovsdb_locks *, void *owner);
bool ovsdb_locks_held(const struct ovsdb_locks *, const char *name,
                      const void *owner);
size_t ovsdb_locks_count(const struct ovsdb_locks *);

#endif /* OVSDB_LOCK_H */
