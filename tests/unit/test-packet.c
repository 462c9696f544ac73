/* Unit tests for lib/packet.c: copy-on-write sharing, headroom, and the
 * per-thread recycling of super-packet blocks. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "packet.h"

static void
test_clone_shares_until_written(void **state)
{
    (void) state;
    struct dp_packet *a = dp_packet_copy_from("abcdef", 6, 16);
    assert_non_null(a);
    struct dp_packet *b = dp_packet_clone(a);
    assert_non_null(b);
    assert_ptr_equal(a->buf, b->buf);

    assert_int_equal(dp_packet_make_writable(b, 16), 0);
    assert_ptr_not_equal(a->buf, b->buf);
    dp_packet_data(b)[0] = 'X';
    assert_memory_equal(dp_packet_data(a), "abcdef", 6);
    assert_memory_equal(dp_packet_data(b), "Xbcdef", 6);
    dp_packet_free(a);
    dp_packet_free(b);
}

static void
test_push_pull_headroom(void **state)
{
    (void) state;
    struct dp_packet *p = dp_packet_copy_from("payload", 7, 32);
    assert_non_null(p);
    uint8_t *h = dp_packet_push(p, 14);
    assert_non_null(h);
    assert_int_equal(p->len, 21);
    memset(h, 0xee, 14);
    dp_packet_pull(p, 14);
    assert_int_equal(p->len, 7);
    assert_memory_equal(dp_packet_data(p), "payload", 7);
    dp_packet_free(p);
}

/* A freed super-packet block is handed out again to the same thread, so
 * receive buffers stay faulted in; small blocks are not cached. */
static void
test_big_blocks_recycled(void **state)
{
    (void) state;
    struct dp_packet *p = dp_packet_new(128, 65536);
    assert_non_null(p);
    struct dp_buf *b = p->buf;
    dp_packet_free(p);
    p = dp_packet_new(128, 60000);      /* smaller: the block still fits */
    assert_non_null(p);
    assert_ptr_equal(p->buf, b);
    assert_true(dp_packet_tailroom(p) >= 60000);

    /* A shared block goes back only with its last reference. */
    struct dp_packet *c = dp_packet_clone(p);
    dp_packet_free(p);
    struct dp_packet *q = dp_packet_new(128, 65536);
    assert_ptr_not_equal(q->buf, b);
    dp_packet_free(c);
    dp_packet_free(q);
    dp_packet_cache_flush();
}

static void *
alloc_and_free_big(void *arg)
{
    (void) arg;
    for (int i = 0; i < 40; i++) {
        dp_packet_free(dp_packet_new(0, 70000));
    }
    return NULL;        /* the thread's cache is freed at exit (LSan) */
}

static void
test_cache_freed_at_thread_exit(void **state)
{
    (void) state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, alloc_and_free_big, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clone_shares_until_written),
        cmocka_unit_test(test_push_pull_headroom),
        cmocka_unit_test(test_big_blocks_recycled),
        cmocka_unit_test(test_cache_freed_at_thread_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
