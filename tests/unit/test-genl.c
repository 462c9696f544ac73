/* Unit tests for datapath/genl.c: attribute validation at the boundary and
 * the controller family. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/genetlink.h>
#include <linux/openvswitch.h>

#include "control.h"
#include "genl.h"
#include "hvs/dp-ext.h"

static uint8_t out[CONTROL_RECORD_MAX];
static uint8_t flushed[4 * CONTROL_RECORD_MAX];
static size_t flushed_len;

static void
capture(struct reply *r)
{
    memcpy(flushed + flushed_len, r->buf, r->len);
    flushed_len += r->len;
}

/* Handles 'nlh' and returns the first reply message, or NULL. */
static const struct nlmsghdr *
handle(const struct nlmsghdr *nlh)
{
    struct reply r = { out, 0, 7, capture, NULL };

    flushed_len = 0;
    struct genl_dump *d = genl_handle(nlh, 7, &r);
    while (d && !genl_dump_continue(d, &r)) {
        reply_flush(&r);
    }
    reply_flush(&r);
    return flushed_len ? (const void *) flushed : NULL;
}

static struct nlmsghdr *
start(uint8_t *buf, uint16_t type, uint16_t flags, uint8_t cmd, size_t hdr)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = 42;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = 1;
    if (hdr) {
        memset(mnl_nlmsg_put_extra_header(nlh, hdr), 0, hdr);
    }
    return nlh;
}

static int
reply_errno(const struct nlmsghdr *nlh)
{
    assert_non_null(nlh);
    assert_int_equal(nlh->nlmsg_type, NLMSG_ERROR);
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
    return -e->error;
}

static void
test_getfamily_known(void **state)
{
    (void) state;
    uint8_t buf[256];
    struct nlmsghdr *nlh = start(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 0);
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, OVS_VPORT_FAMILY);

    const struct nlmsghdr *rep = handle(nlh);
    assert_non_null(rep);
    assert_int_equal(rep->nlmsg_type, GENL_ID_CTRL);
    assert_int_equal(rep->nlmsg_seq, 42);
    assert_int_equal(rep->nlmsg_pid, 7);

    const struct nlattr *a, *id = NULL, *groups = NULL;
    mnl_attr_for_each(a, rep, GENL_HDRLEN) {
        if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
            id = a;
        } else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS) {
            groups = a;
        }
    }
    assert_non_null(id);
    assert_int_equal(mnl_attr_get_u16(id), HVS_GENL_ID_VPORT);
    assert_non_null(groups);
}

static void
test_getfamily_missing_is_enoent(void **state)
{
    (void) state;
    static const char *const names[] = { "ovs_ct_limit", "nl80211" };
    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[256];
        struct nlmsghdr *nlh = start(buf, GENL_ID_CTRL, 0,
                                     CTRL_CMD_GETFAMILY, 0);
        mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, names[i]);
        const struct nlmsghdr *rep = handle(nlh);
        assert_int_equal(reply_errno(rep), ENOENT);
        /* An error echoes the whole request. */
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(rep);
        assert_int_equal(e->msg.nlmsg_len, nlh->nlmsg_len);
        assert_memory_equal(&e->msg, nlh, nlh->nlmsg_len);
    }
}

static void
test_unknown_family_id(void **state)
{
    (void) state;
    uint8_t buf[256];
    struct nlmsghdr *nlh = start(buf, 0x3ff, 0, 1, 4);
    assert_int_equal(reply_errno(handle(nlh)), ENOENT);
}

static void
test_not_a_request_is_ignored(void **state)
{
    (void) state;
    uint8_t buf[256];
    struct nlmsghdr *nlh = start(buf, HVS_GENL_ID_DATAPATH, 0,
                                 OVS_DP_CMD_GET, 4);
    nlh->nlmsg_flags = 0;
    assert_null(handle(nlh));
}

static void
test_short_headers(void **state)
{
    (void) state;
    uint8_t buf[256];
    /* No room for the ovs_header. */
    struct nlmsghdr *nlh = start(buf, HVS_GENL_ID_DATAPATH, 0,
                                 OVS_DP_CMD_GET, 0);
    assert_int_equal(reply_errno(handle(nlh)), EINVAL);
    /* No room for the genlmsghdr. */
    nlh->nlmsg_len = NLMSG_HDRLEN + 2;
    assert_int_equal(reply_errno(handle(nlh)), EINVAL);
}

static void
test_parse_attrs(void **state)
{
    (void) state;
    uint8_t buf[512];
    const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];
    const char *why = NULL;

    struct nlmsghdr *nlh = start(buf, HVS_GENL_ID_DATAPATH, 0,
                                 OVS_DP_CMD_GET, 4);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, "dp0");
    mnl_attr_put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, 3);
    mnl_attr_put_u32(nlh, 200, 1);     /* newer attribute: ignored */
    assert_int_equal(genl_parse_attrs(&genl_family_datapath, nlh, tb, &why),
                     0);
    assert_string_equal(mnl_attr_get_str(tb[OVS_DP_ATTR_NAME]), "dp0");
    assert_int_equal(mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]), 3);

    /* A u32 of two bytes. */
    nlh = start(buf, HVS_GENL_ID_DATAPATH, 0, OVS_DP_CMD_GET, 4);
    uint16_t two = 2;
    mnl_attr_put(nlh, OVS_DP_ATTR_UPCALL_PID, sizeof two, &two);
    assert_int_equal(genl_parse_attrs(&genl_family_datapath, nlh, tb, &why),
                     -EINVAL);
    assert_non_null(why);

    /* A string without its terminator. */
    nlh = start(buf, HVS_GENL_ID_DATAPATH, 0, OVS_DP_CMD_GET, 4);
    mnl_attr_put(nlh, OVS_DP_ATTR_NAME, 3, "dp0");
    assert_int_equal(genl_parse_attrs(&genl_family_datapath, nlh, tb, &why),
                     -EINVAL);

    /* An attribute that runs past the end of the message. */
    nlh = start(buf, HVS_GENL_ID_DATAPATH, 0, OVS_DP_CMD_GET, 4);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, "dp0");
    struct nlattr *last = (struct nlattr *) ((uint8_t *) nlh
                                             + NLMSG_HDRLEN + GENL_HDRLEN + 4);
    last->nla_len = 100;
    assert_int_equal(genl_parse_attrs(&genl_family_datapath, nlh, tb, &why),
                     -EINVAL);
    assert_int_equal(reply_errno(handle(nlh)), EINVAL);
}

static void
test_missing_datapath_is_enodev(void **state)
{
    (void) state;
    uint8_t buf[256];
    struct nlmsghdr *nlh = start(buf, HVS_GENL_ID_DATAPATH, NLM_F_ECHO,
                                 OVS_DP_CMD_GET, 4);
    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, "nosuchdp");
    assert_int_equal(reply_errno(handle(nlh)), ENODEV);

    /* A dump of the ports of a missing datapath ends at once, in
     * NLMSG_DONE carrying the errno, as from the kernel. */
    nlh = start(buf, HVS_GENL_ID_VPORT, NLM_F_DUMP, OVS_VPORT_CMD_GET, 4);
    const struct nlmsghdr *rep = handle(nlh);
    assert_non_null(rep);
    assert_int_equal(rep->nlmsg_type, NLMSG_DONE);
    assert_int_equal(*(const int *) mnl_nlmsg_get_payload(rep), -ENODEV);
}

static void
test_ack_when_asked(void **state)
{
    (void) state;
    uint8_t buf[256];
    /* A dump of datapaths (there are none): just NLMSG_DONE. */
    struct nlmsghdr *nlh = start(buf, HVS_GENL_ID_DATAPATH,
                                 NLM_F_DUMP | NLM_F_ACK, OVS_DP_CMD_GET, 4);
    const struct nlmsghdr *rep = handle(nlh);
    assert_non_null(rep);
    assert_int_equal(rep->nlmsg_type, NLMSG_DONE);
    assert_int_equal(flushed_len, NLMSG_ALIGN(rep->nlmsg_len));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getfamily_known),
        cmocka_unit_test(test_getfamily_missing_is_enoent),
        cmocka_unit_test(test_unknown_family_id),
        cmocka_unit_test(test_not_a_request_is_ignored),
        cmocka_unit_test(test_short_headers),
        cmocka_unit_test(test_parse_attrs),
        cmocka_unit_test(test_missing_datapath_is_enodev),
        cmocka_unit_test(test_ack_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
