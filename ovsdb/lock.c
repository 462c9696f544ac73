/* Named locks. */
#include "lock.h"

#include <stdlib.h>
#include <string.h>

struct lock {
    char *name;
    void **queue;                   /* queue[0] holds the lock */
    size_t n;
    struct lock *next;
};

struct ovsdb_locks {
    struct lock *locks;
    ovsdb_lock_notify_fn *notify;
};

struct ovsdb_locks *
ovsdb_locks_create(ovsdb_lock_notify_fn *notify)
{
    struct ovsdb_locks *ls = calloc(1, sizeof *ls);

    if (!ls) {
        abort();
    }
    ls->notify = notify;
    return ls;
}

static void
lock_free(struct lock *l)
{
    free(l->queue);
    free(l->name);
    free(l);
}

void
ovsdb_locks_destroy(struct ovsdb_locks *ls)
{
    if (ls) {
        while (ls->locks) {
            struct lock *l = ls->locks;

            ls->locks = l->next;
            lock_free(l);
        }
        free(ls);
    }
}

static struct lock *
find(const struct ovsdb_locks *ls, const char *name)
{
    struct lock *l;

    for (l = ls->locks; l; l = l->next) {
        if (!strcmp(l->name, name)) {
            return l;
        }
    }
    return NULL;
}

static struct lock *
find_or_create(struct ovsdb_locks *ls, const char *name)
{
    struct lock *l = find(ls, name);

    if (!l) {
        l = calloc(1, sizeof *l);
        l->name = strdup(name);
        l->next = ls->locks;
        ls->locks = l;
    }
    return l;
}

static long
position(const struct lock *l, const void *owner)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (l->queue[i] == owner) {
            return i;
        }
    }
    return -1;
}

/* Removes queue entry 'i'; a new owner hears about it.  Frees the lock
 * when nobody is left. */
static void
remove_at(struct ovsdb_locks *ls, struct lock *l, size_t i)
{
    memmove(&l->queue[i], &l->queue[i + 1], (l->n - i - 1) * sizeof *l->queue);
    l->n--;
    if (i == 0 && l->n) {
        ls->notify(l->queue[0], "locked", l->name);
    }
    if (!l->n) {
        struct lock **p;

        for (p = &ls->locks; *p != l; p = &(*p)->next) {
            continue;
        }
        *p = l->next;
        lock_free(l);
    }
}

enum ovsdb_lock_result
ovsdb_locks_lock(struct ovsdb_locks *ls, const char *name, void *owner)
{
    struct lock *l = find_or_create(ls, name);

    if (position(l, owner) >= 0) {
        return OVSDB_LOCK_DUPLICATE;
    }
    l->queue = realloc(l->queue, (l->n + 1) * sizeof *l->queue);
    l->queue[l->n++] = owner;
    return l->n == 1 ? OVSDB_LOCK_GRANTED : OVSDB_LOCK_QUEUED;
}

enum ovsdb_lock_result
ovsdb_locks_steal(struct ovsdb_locks *ls, const char *name, void *owner)
{
    struct lock *l = find_or_create(ls, name);
    long pos = position(l, owner);

    if (pos == 0) {
        return OVSDB_LOCK_GRANTED;
    }
    if (pos > 0) {
        memmove(&l->queue[pos], &l->queue[pos + 1],
                (l->n - pos - 1) * sizeof *l->queue);
        l->n--;
    }
    if (l->n) {
        void *victim = l->queue[0];

        l->queue[0] = owner;
        ls->notify(victim, "stolen", name);
    } else {
        l->queue = realloc(l->queue, sizeof *l->queue);
        l->queue[l->n++] = owner;
    }
    return OVSDB_LOCK_GRANTED;
}

enum ovsdb_lock_result
ovsdb_locks_unlock(struct ovsdb_locks *ls, const char *name, void *owner)
{
    struct lock *l = find(ls, name);
    long pos = l ? position(l, owner) : -1;

    if (pos < 0) {
        return OVSDB_LOCK_NOT_HELD;
    }
    remove_at(ls, l, pos);
    return OVSDB_LOCK_GRANTED;
}

void
ovsdb_locks_release_all(struct ovsdb_locks *ls, void *owner)
{
    struct lock *l, *next;

    for (l = ls->locks; l; l = next) {
        long pos = position(l, owner);

        next = l->next;
        if (pos >= 0) {
            remove_at(ls, l, pos);
        }
    }
}

bool
ovsdb_locks_held(const struct ovsdb_locks *ls, const char *name,
                 const void *owner)
{
    const struct lock *l = find(ls, name);

    return l && l->n && l->queue[0] == owner;
}

size_t
ovsdb_locks_count(const struct ovsdb_locks *ls)
{
    const struct lock *l;
    size_t n = 0;

    for (l = ls->locks; l; l = l->next) {
        n++;
    }
    return n;
}
