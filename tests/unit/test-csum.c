/* Tests of lib/csum.c against a deliberately naive reference: big-endian
 * 16-bit words summed byte by byte, carries folded at the end. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ref-bytes.h"

#include "csum.h"

static uint16_t
ref_csum(const uint8_t *d, size_t n)
{
    return (uint16_t) ~ref_sum(d, n, 0);
}

/* A checksum as returned by csum.c (memory order) in host order. */
static uint16_t
h(uint16_t c)
{
    return ntohs(c);
}

static uint32_t rng = 12345;

static uint8_t
rnd8(void)
{
    rng = rng * 1103515245 + 12345;
    return (uint8_t) (rng >> 16);
}

static void
test_rfc1071_example(void **state)
{
    (void) state;
    /* RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2. */
    static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03,
                                 0xf4, 0xf5, 0xf6, 0xf7 };

    assert_int_equal(h(csum_fold(csum_partial(d, sizeof d, 0))),
                     (uint16_t) ~0xddf2);
}

static void
test_partial_matches_reference(void **state)
{
    uint8_t buf[160];

    (void) state;
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = rnd8();
    }
    /* Every length (odd ones too) from every alignment. */
    for (size_t ofs = 0; ofs < 4; ofs++) {
        for (size_t n = 0; n + ofs <= sizeof buf; n++) {
            uint16_t got = h(csum_fold(csum_partial(buf + ofs, n, 0)));

            assert_int_equal(got, ref_csum(buf + ofs, n));
        }
    }
}

static void
test_partial_chaining(void **state)
{
    uint8_t buf[101];

    (void) state;
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = rnd8();
    }
    /* Summing in even-sized pieces equals summing at once. */
    uint32_t s = csum_partial(buf, 40, 0);
    s = csum_partial(buf + 40, 22, s);
    s = csum_partial(buf + 62, 39, s);
    assert_int_equal(h(csum_fold(s)), ref_csum(buf, sizeof buf));
}

static void
test_large_buffer_no_overflow(void **state)
{
    size_t n = 1 << 20;
    uint8_t *buf = malloc(n);

    (void) state;
    assert_non_null(buf);
    memset(buf, 0xff, n);
    /* All-ones data sums to -0: checksum 0. */
    assert_int_equal(h(csum_fold(csum_partial(buf, n, 0))), 0);
    assert_int_equal(ref_csum(buf, n), 0);
    buf[7] = 0xfe;
    assert_int_equal(h(csum_fold(csum_partial(buf, n, 0))),
                     ref_csum(buf, n));
    free(buf);
}

static void
test_fold_edges(void **state)
{
    (void) state;
    assert_int_equal(csum_fold(0), 0xffff);
    assert_int_equal(csum_fold(0xffff), 0);
    assert_int_equal(csum_fold(0xffffffff), 0);
    assert_int_equal(csum_fold(0x1fffe), 0);
    assert_int_equal(csum_fold(0x10000), 0xfffe);
}

static void
test_pseudo4(void **state)
{
    /* src 192.0.2.1, dst 198.51.100.7, proto 6, length 1234 */
    static const uint8_t ph[12] = { 192, 0, 2, 1, 198, 51, 100, 7,
                                    0, 6, 0x04, 0xd2 };
    uint32_t src, dst;

    (void) state;
    memcpy(&src, ph, 4);
    memcpy(&dst, ph + 4, 4);
    assert_int_equal(h(csum_fold(csum_pseudo4(src, dst, 6, 1234))),
                     ref_csum(ph, sizeof ph));
}

static void
test_pseudo6(void **state)
{
    uint8_t ph[40] = { 0 };

    (void) state;
    for (int i = 0; i < 32; i++) {
        ph[i] = rnd8();
    }
    ph[32] = 0;
    ph[33] = 0x01;              /* length 70000 = 0x00011170 */
    ph[34] = 0x11;
    ph[35] = 0x70;
    ph[39] = 17;
    assert_int_equal(h(csum_fold(csum_pseudo6(ph, ph + 16, 17, 70000))),
                     ref_csum(ph, sizeof ph));
}

/* After an incremental update the data must verify: the sum over it,
 * checksum field included, is -0. */
static void
check_update(uint8_t *hdr, size_t n, size_t field, size_t flen)
{
    uint8_t newv[16];
    uint16_t c;

    /* Valid checksum at offset 10. */
    hdr[10] = hdr[11] = 0;
    c = ref_csum(hdr, n);
    hdr[10] = c >> 8;
    hdr[11] = c & 0xff;
    for (size_t i = 0; i < flen; i++) {
        newv[i] = rnd8();
    }
    memcpy(&c, hdr + 10, 2);
    if (flen == 2) {
        uint16_t o, nw;

        memcpy(&o, hdr + field, 2);
        memcpy(&nw, newv, 2);
        c = csum_update16(c, o, nw);
    } else if (flen == 4) {
        uint32_t o, nw;

        memcpy(&o, hdr + field, 4);
        memcpy(&nw, newv, 4);
        c = csum_update32(c, o, nw);
    } else {
        c = csum_update128(c, hdr + field, newv);
    }
    memcpy(hdr + field, newv, flen);
    memcpy(hdr + 10, &c, 2);
    assert_int_equal(ref_sum(hdr, n, 0), 0xffff);
    /* And equals a full recomputation (never -0 vs +0 confusion for
     * data that is not all zero). */
    hdr[10] = hdr[11] = 0;
    assert_int_equal(h(c), ref_csum(hdr, n));
}

static void
test_updates(void **state)
{
    uint8_t hdr[60];

    (void) state;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof hdr; i++) {
            hdr[i] = rnd8();
        }
        hdr[0] = 0x45;
        check_update(hdr, sizeof hdr, 12 + (round % 2) * 4, 4);
        check_update(hdr, sizeof hdr, 8, 2);
        check_update(hdr, sizeof hdr, 20 + (round % 3) * 2, 16);
    }
}

static void
test_update_edge_values(void **state)
{
    (void) state;
    /* Header whose only non-zero word changes from 0x0001 to 0xffff... */
    uint8_t hdr[20] = { 0 };

    hdr[0] = 0x00;
    hdr[1] = 0x01;
    check_update(hdr, sizeof hdr, 0, 2);
    /* Changing a word to its complement, and no change at all. */
    uint16_t c = htons(0x1234), o = htons(0x00ff), n = htons(0xff00);
    uint16_t c2 = csum_update16(csum_update16(c, o, n), n, o);

    assert_int_equal(h(c2), 0x1234);
    assert_int_equal(h(csum_update16(c, o, o)), 0x1234);
    /* Eqn. 3 never produces -0 from a real header: a no-op keeps 0, and
     * 0xffff (possible only for all-zero data) becomes 0. */
    assert_int_equal(h(csum_update32(0, 5, 5)), 0);
    assert_int_equal(h(csum_update32(htons(0xffff), 5, 5)), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_partial_matches_reference),
        cmocka_unit_test(test_partial_chaining),
        cmocka_unit_test(test_large_buffer_no_overflow),
        cmocka_unit_test(test_fold_edges),
        cmocka_unit_test(test_pseudo4),
        cmocka_unit_test(test_pseudo6),
        cmocka_unit_test(test_updates),
        cmocka_unit_test(test_update_edge_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
