/* Unit tests for ovsdb/lock.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lock.h"

/* The last notification. */
static void *note_owner;
static const char *note_method;
static int n_notes;

static void
notify(void *owner, const char *method, const char *name)
{
    assert_string_equal(name, "L");
    note_owner = owner;
    note_method = method;
    n_notes++;
}

static void
test_queue_and_handover(void **state)
{
    struct ovsdb_locks *ls = ovsdb_locks_create(notify);
    int a, b, c;

    (void) state;
    n_notes = 0;
    assert_int_equal(ovsdb_locks_lock(ls, "L", &a), OVSDB_LOCK_GRANTED);
    assert_int_equal(ovsdb_locks_lock(ls, "L", &a), OVSDB_LOCK_DUPLICATE);
    assert_int_equal(ovsdb_locks_lock(ls, "L", &b), OVSDB_LOCK_QUEUED);
    assert_int_equal(ovsdb_locks_lock(ls, "L", &c), OVSDB_LOCK_QUEUED);
    assert_true(ovsdb_locks_held(ls, "L", &a));
    assert_false(ovsdb_locks_held(ls, "L", &b));
    /* A waiter leaving changes nothing for the owner. */
    assert_int_equal(ovsdb_locks_unlock(ls, "L", &c), OVSDB_LOCK_GRANTED);
    assert_int_equal(n_notes, 0);
    assert_int_equal(ovsdb_locks_unlock(ls, "L", &a), OVSDB_LOCK_GRANTED);
    assert_int_equal(n_notes, 1);
    assert_ptr_equal(note_owner, &b);
    assert_string_equal(note_method, "locked");
    assert_int_equal(ovsdb_locks_unlock(ls, "L", &a), OVSDB_LOCK_NOT_HELD);
    assert_int_equal(ovsdb_locks_unlock(ls, "nope", &a),
                     OVSDB_LOCK_NOT_HELD);
    ovsdb_locks_release_all(ls, &b);
    assert_int_equal(ovsdb_locks_count(ls), 0);
    ovsdb_locks_destroy(ls);
}

static void
test_steal(void **state)
{
    struct ovsdb_locks *ls = ovsdb_locks_create(notify);
    int a, b, c;

    (void) state;
    n_notes = 0;
    assert_int_equal(ovsdb_locks_steal(ls, "L", &a), OVSDB_LOCK_GRANTED);
    assert_int_equal(n_notes, 0);
    assert_int_equal(ovsdb_locks_lock(ls, "L", &c), OVSDB_LOCK_QUEUED);
    assert_int_equal(ovsdb_locks_steal(ls, "L", &b), OVSDB_LOCK_GRANTED);
    assert_int_equal(n_notes, 1);
    assert_ptr_equal(note_owner, &a);
    assert_string_equal(note_method, "stolen");
    assert_true(ovsdb_locks_held(ls, "L", &b));
    /* The victim lost its place: releasing it does nothing. */
    ovsdb_locks_release_all(ls, &a);
    assert_int_equal(n_notes, 1);
    /* The owner going away hands over to the waiter. */
    ovsdb_locks_release_all(ls, &b);
    assert_int_equal(n_notes, 2);
    assert_ptr_equal(note_owner, &c);
    assert_true(ovsdb_locks_held(ls, "L", &c));
    assert_int_equal(ovsdb_locks_count(ls), 1);
    ovsdb_locks_destroy(ls);            /* frees what is left */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_and_handover),
        cmocka_unit_test(test_steal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
