/* unixctl commands (the protocol of ovs-appctl: JSON-RPC requests whose
 * params are strings, answered with a string result or error). */
#ifndef OVSDB_CTL_H
#define OVSDB_CTL_H 1

#include <jansson.h>
#include <stdbool.h>

struct ovsdb_server;

/* Runs 'method'.  Returns true with '*reply' the output, or false with
 * '*reply' the error text; '*reply' is malloc'd. */
bool ovsdb_ctl_run(struct ovsdb_server *, const char *method, json_t *params,
                   char **reply);

#endif /* OVSDB_CTL_H */
