/* One JSON-RPC call from the hvs command to a daemon's unix socket
 * (hvs-ovsdb, a unixctl socket), waiting for its reply: what "hvs status"
 * probes with and what "hvs show" reads the bridges with. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

#include "cli.h"
#include "jsonrpc.h"
#include "timeval.h"

int
cli_rpc_call(const char *path, const char *method, json_t *params,
             uint64_t deadline, json_t **replyp)
{
    char *remote = NULL;
    int err;

    *replyp = NULL;
    if (asprintf(&remote, "unix:%s", path) < 0) {
        json_decref(params);
        return -ENOMEM;
    }
    struct jsonrpc *rpc = jsonrpc_open(remote, &err);
    free(remote);
    if (!rpc) {
        json_decref(params);
        return err;
    }
    err = jsonrpc_send(rpc, jsonrpc_msg_request(method, params,
                                                json_integer(0)));
    while (!err) {
        json_t *msg;
        int n = jsonrpc_recv(rpc, &msg);

        if (n < 0) {
            err = n;
            break;
        }
        if (n > 0) {
            struct jsonrpc_msg_view v;
            enum jsonrpc_msg_type t = jsonrpc_msg_parse(msg, &v);

            if (t == JSONRPC_MSG_REPLY || t == JSONRPC_MSG_ERROR) {
                *replyp = msg;
                break;
            }
            json_decref(msg);   /* a notification: not ours */
            continue;
        }
        uint64_t now = time_msec();
        if (now >= deadline) {
            err = -ETIMEDOUT;
            break;
        }
        struct pollfd pfd = { jsonrpc_fd(rpc), jsonrpc_poll_events(rpc), 0 };
        if (poll(&pfd, 1, (int) (deadline - now)) < 0 && errno != EINTR) {
            err = -errno;
            break;
        }
        err = jsonrpc_run(rpc);
    }
    jsonrpc_destroy(rpc);
    return err;
}
