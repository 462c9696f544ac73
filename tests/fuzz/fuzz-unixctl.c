/* libFuzzer target: the unixctl request decoder.  The input is treated as
 * the byte stream of one connection: it is split into JSON texts the way
 * the server splits it, and each text is decoded as a JSON-RPC request.
 * The whole input is also decoded as one text, unsplit. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unixctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
