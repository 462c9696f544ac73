/* Fuzzes hvs-dpd's request handling: each input is one request record
 * (one or more netlink messages) handled by genl_handle() against a live
 * datapath "fz0", as a client connection would.  State is reset between
 * inputs.  Runs in a private network namespace so TAP devices created by
 * the inputs vanish with the process. */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <urcu/urcu-memb.h>

#include "control.h"
#include "datapath.h"
#include "flow-table.h"
#include "genl.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out_buf[CONTROL_RECORD_MAX];
static uint8_t in_buf[CONTROL_REQUEST_MAX] __attribute__((aligned(8)));

static void
discard(struct reply *r)
{
    /* Every record handed on must be a sequence of whole messages. */
    size_t ofs = 0;
    while (ofs < r->len) {
        const struct nlmsghdr *nlh = (const void *) (r->buf + ofs);
        if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > r->len - ofs) {
            abort();
        }
        ofs += NLMSG_ALIGN(nlh->nlmsg_len);
    }
}

static void
reset(void)
{
    struct datapath *dp, *next;
    const char *why;

    for (dp = dp_first(); dp; dp = next) {
        next = dp->next;
        if (strcmp(dp->name, "fz0")) {
            dp_destroy(dp);
        }
    }
    dp = dp_find_by_name("fz0");
    if (!dp && dp_create("fz0", &dp, &why)) {
        return;
    }
    for (uint32_t i = 1; i < dp->port_hi; i++) {
        struct vport *v = dp_port(dp, i);
        if (v) {
            dp_port_del(dp, v);
        }
    }
    flow_table_flush(dp->table);
    urcu_memb_barrier();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    if (unshare(CLONE_NEWNET)) {
        perror("unshare(CLONE_NEWNET)");
    }
    log_set_spec("ANY:off");
    urcu_memb_register_thread();
    reset();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reply r = { out_buf, 0, 1, discard, NULL };

    if (size > sizeof in_buf) {
        return 0;
    }
    memcpy(in_buf, data, size);
    size_t ofs = 0;
    while (ofs + NLMSG_HDRLEN <= size) {
        const struct nlmsghdr *nlh = (const void *) (in_buf + ofs);
        if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > size - ofs) {
            break;
        }
        struct genl_dump *d = genl_handle(nlh, 1, &r);
        while (d && !genl_dump_continue(d, &r)) {
            reply_flush(&r);
        }
        ofs += NLMSG_ALIGN(nlh->nlmsg_len);
    }
    reply_flush(&r);
    reset();
    return 0;
}
