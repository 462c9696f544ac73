/* hvs show's tunnel line: hvs-dpd's tunnel counters, read with the
 * tnl/stats command of its unixctl socket (the genetlink families have no
 * place for them), summed up as an operator first asks: did the datapath
 * itself carry the tunnel traffic, did any of it go through the host
 * stack, was anything dropped? */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "jsonrpc.h"
#include "timeval.h"

#define TNL_STATS_TIMEOUT_MS 3000

/* The value of "  NAME: VALUE" in tnl/stats' text, 0 if absent. */
static uint64_t
counter(const char *text, const char *name)
{
    size_t len = strlen(name);

    for (const char *line = text; line && *line;) {
        const char *s = line + strspn(line, " ");

        if (!strncmp(s, name, len) && s[len] == ':') {
            return strtoull(s + len + 1, NULL, 10);
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return 0;
}

int
show_tunnels(const char *ctl_path)
{
    json_t *reply;
    int err = cli_rpc_call(ctl_path, "tnl/stats", NULL,
                           time_msec() + TNL_STATS_TIMEOUT_MS, &reply);

    if (err) {
        cli_warn("cannot read the tunnel counters from %s: %s", ctl_path,
                 strerror(-err));
        return err;
    }
    struct jsonrpc_msg_view v;
    const char *text = NULL;
    if (jsonrpc_msg_parse(reply, &v) == JSONRPC_MSG_REPLY) {
        text = json_string_value(v.result);
    }
    if (!text) {
        cli_warn("cannot read the tunnel counters from %s: tnl/stats "
                 "failed", ctl_path);
        json_decref(reply);
        return -EPROTO;
    }
    uint64_t dropped = counter(text, "hold_drop")
                       + counter(text, "unreachable")
                       + counter(text, "encap_error")
                       + counter(text, "socket_rx_bad");
    printf("tunnels: encap:%" PRIu64 " decap:%" PRIu64 " held:%" PRIu64
           " dropped:%" PRIu64 " host-stack tx:%" PRIu64 " rx:%" PRIu64
           "\n", counter(text, "encap"), counter(text, "decap"),
           counter(text, "held"), dropped, counter(text, "socket_tx"),
           counter(text, "socket_rx"));
    json_decref(reply);
    return 0;
}
