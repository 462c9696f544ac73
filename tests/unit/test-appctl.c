/* Tests for datapath/appctl.c's argument parser (the commands themselves
 * run against a live hvs-dpd in tests/system/test_dpd_appctl.py) and for
 * tnl-stats.c, whose names scripts parse. */
#include "appctl.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tnl-stats.h"

#define ARGC(a) ((int) (sizeof (a) / sizeof (a)[0]))

static void
test_show_options(void **state)
{
    const char *argv[] = { "dpctl/show", "-s", "system@dp0", "dp1" };
    struct appctl_dpctl_args a;
    char err[128];

    (void) state;
    assert_int_equal(appctl_parse_dpctl_args(ARGC(argv), argv,
                                             APPCTL_OPT_STATS, &a, err,
                                             sizeof err), 0);
    assert_true(a.statistics);
    assert_false(a.verbose);
    assert_int_equal(a.names, -1);
    assert_int_equal(a.n_dps, 2);
    assert_string_equal(a.dps[0], "dp0");
    assert_string_equal(a.dps[1], "dp1");

    /* dump-flows' options are not show's. */
    const char *m[] = { "dpctl/show", "-m" };
    assert_int_equal(appctl_parse_dpctl_args(ARGC(m), m, APPCTL_OPT_STATS,
                                             &a, err, sizeof err), -EINVAL);
    assert_string_equal(err, "dpctl/show: unknown option \"-m\"");
}

static void
test_dump_flows_options(void **state)
{
    const char *argv[] = { "dpctl/dump-flows", "--more", "--no-names",
                           "dp0" };
    struct appctl_dpctl_args a;
    char err[128];

    (void) state;
    assert_int_equal(appctl_parse_dpctl_args(ARGC(argv), argv,
                                             APPCTL_OPT_FLOWS, &a, err,
                                             sizeof err), 0);
    assert_true(a.verbose);
    assert_int_equal(a.names, 0);
    assert_int_equal(a.n_dps, 1);

    const char *two[] = { "dpctl/dump-flows", "dp0", "dp1" };
    assert_int_equal(appctl_parse_dpctl_args(ARGC(two), two,
                                             APPCTL_OPT_FLOWS, &a, err,
                                             sizeof err), -EINVAL);
    assert_non_null(strstr(err, "too many datapaths"));

    const char *filter[] = { "dpctl/dump-flows", "in_port(1)=x" };
    assert_int_equal(appctl_parse_dpctl_args(ARGC(filter), filter,
                                             APPCTL_OPT_FLOWS, &a, err,
                                             sizeof err), -EINVAL);
    assert_non_null(strstr(err, "not supported"));

    const char *empty[] = { "dpctl/dump-flows", "system@" };
    assert_int_equal(appctl_parse_dpctl_args(ARGC(empty), empty,
                                             APPCTL_OPT_FLOWS, &a, err,
                                             sizeof err), -EINVAL);
    assert_non_null(strstr(err, "empty datapath name"));
}

static void
test_error_fits_small_buffer(void **state)
{
    const char *argv[] = { "dpctl/show", "--a-very-long-unknown-option" };
    struct appctl_dpctl_args a;
    char err[16];

    (void) state;
    assert_int_equal(appctl_parse_dpctl_args(ARGC(argv), argv,
                                             APPCTL_OPT_STATS, &a, err,
                                             sizeof err), -EINVAL);
    assert_int_equal(strlen(err), sizeof err - 1);
}

static void
test_counter_names(void **state)
{
    (void) state;
    /* Every counter has a distinct name (tnl/stats' readers key on
     * them). */
    for (int i = 0; i < TNL_C_N; i++) {
        assert_string_not_equal(tnl_counter_name(i), "?");
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(tnl_counter_name(i),
                                    tnl_counter_name(j));
        }
    }
    assert_string_equal(tnl_counter_name(TNL_C_ENCAP), "encap");
    assert_string_equal(tnl_counter_name(TNL_C_N), "?");

    uint64_t before = tnl_counter_get(TNL_C_HELD);
    tnl_count(TNL_C_HELD, 3);
    assert_int_equal(tnl_counter_get(TNL_C_HELD), before + 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_show_options),
        cmocka_unit_test(test_dump_flows_options),
        cmocka_unit_test(test_error_fits_small_buffer),
        cmocka_unit_test(test_counter_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
