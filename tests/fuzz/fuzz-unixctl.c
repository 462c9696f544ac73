/* libFuzzer target: the unixctl request decoder.  The input is treated as
 * the byte stream of one connection: it is split into JSON texts the way
 * the server splits it, and each text is decoded as a JSON-RPC request.
 * The whole input is also decoded as one text, unsplit.  The arguments of
 * each decoded request then go through hvs-dpd's dpctl/ argument parser
 * (datapath/appctl.c), as its commands would take them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appctl.h"
#include "log.h"
#include "unixctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parse either succeeds with datapath names that point into argv
 * strings and are not empty, or fails with a message. */
static void
parse_dpctl(int argc, const char *argv[], unsigned allowed)
{
    struct appctl_dpctl_args a;
    char err[64];

    memset(err, 0, sizeof err);
    if (appctl_parse_dpctl_args(argc, argv, allowed, &a, err, sizeof err)) {
        if (!err[0] || err[sizeof err - 1]) {
            abort();
        }
        return;
    }
    if (a.n_dps < 0 || a.n_dps > APPCTL_MAX_DPS
        || (allowed & APPCTL_OPT_FLOWS && a.n_dps > 1)) {
        abort();
    }
    for (int i = 0; i < a.n_dps; i++) {
        if (!a.dps[i][0]) {
            abort();
        }
    }
}

static void
decode(const char *buf, size_t len)
{
    struct unixctl_request req;
    char *err = NULL;
    int r = unixctl_parse_request(buf, len, &req, &err);

    if (r == 0) {
        if (req.argc < 1 || !req.id || req.argv[req.argc]) {
            abort();
        }
        for (int i = 0; i < req.argc; i++) {
            if (!req.argv[i]) {
                abort();
            }
        }
        parse_dpctl(req.argc, (const char **) req.argv, APPCTL_OPT_STATS);
        parse_dpctl(req.argc, (const char **) req.argv, APPCTL_OPT_FLOWS);
    } else if (r == -EINVAL) {
        if (!err || !req.id) {
            abort();
        }
    } else if (err || req.id || req.argv) {
        abort();
    }
    free(err);
    unixctl_request_clear(&req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t ofs = 0;

    log_use_stderr(false);
    while (ofs < size) {
        long n = unixctl_frame_len(buf + ofs, size - ofs);

        if (n <= 0) {
            break;
        }
        if ((size_t)n > size - ofs) {
            abort();
        }
        decode(buf + ofs, n);
        ofs += n;
    }
    decode(buf, size);
    return 0;
}
