/* hvs show's lines from hvs-dpd's own counters, read through its unixctl
 * socket (the genetlink families have no place for them):
 *   - the tunnel line (tnl/stats), summed up as an operator first asks:
 *     did the datapath itself carry the tunnel traffic, did any of it go
 *     through the host stack, was anything dropped?
 *   - the kernel flow cache line (kflow/show), when the cache is on. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "jsonrpc.h"
#include "timeval.h"

#define DPD_CTL_TIMEOUT_MS 3000

/* The value of "  NAME: VALUE" in tnl/stats' or kflow/show's text, 0 if
 * absent. */
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

/* Runs unixctl command 'cmd' on 'ctl_path'; returns its text (to free
 * with json_decref(*reply)) or NULL after a warning about 'what'. */
static const char *
dpd_text(const char *ctl_path, const char *cmd, const char *what,
         json_t **reply)
{
    int err = cli_rpc_call(ctl_path, cmd, NULL,
                           time_msec() + DPD_CTL_TIMEOUT_MS, reply);

    if (err) {
        cli_warn("cannot read the %s from %s: %s", what, ctl_path,
                 strerror(-err));
        *reply = NULL;
        return NULL;
    }
    struct jsonrpc_msg_view v;
    const char *text = NULL;
    if (jsonrpc_msg_parse(*reply, &v) == JSONRPC_MSG_REPLY) {
        text = json_string_value(v.result);
    }
    if (!text) {
        cli_warn("cannot read the %s from %s: %s failed", what, ctl_path,
                 cmd);
        json_decref(*reply);
        *reply = NULL;
    }
    return text;
}

int
show_tunnels(const char *ctl_path)
{
    json_t *reply;
    const char *text = dpd_text(ctl_path, "tnl/stats", "tunnel counters",
                                &reply);

    if (!text) {
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

int
show_kflow(const char *ctl_path)
{
    json_t *reply;
    const char *text = dpd_text(ctl_path, "kflow/show",
                                "kernel flow cache counters", &reply);

    if (!text) {
        return -EPROTO;
    }
    if (strstr(text, "kernel flow cache: on")) {
        printf("kernel flow cache: entries:%" PRIu64 " packets:%" PRIu64
               " bytes:%" PRIu64 " errors:%" PRIu64 "\n",
               counter(text, "entries"), counter(text, "packets"),
               counter(text, "bytes"), counter(text, "errors"));
    }
    json_decref(reply);
    return 0;
}
