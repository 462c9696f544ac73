/* The bridge part of "hvs show": bridges, their ports and interfaces as
 * the database holds them (the configuration and what hvs-vswitchd wrote
 * back: ofport, error), joined with the datapath port each interface
 * landed on.
 *
 * One read-only OVSDB transaction with three selects, so the picture is
 * consistent; no monitor, since show prints once and exits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "jsonrpc.h"
#include "timeval.h"

#define QUERY_TIMEOUT_MS 5000

static json_t *
select_op(const char *table, const char *const *columns)
{
    json_t *cols = json_array();

    for (; *columns; columns++) {
        json_array_append_new(cols, json_string(*columns));
    }
    return json_pack("{s:s, s:s, s:[], s:o}", "op", "select", "table", table,
                     "where", "columns", cols);
}

/* The elements of an OVSDB set value: ["set", [...]] or a single atom. */
static size_t
set_size(json_t *v)
{
    if (json_is_array(v) && json_array_size(v) == 2
        && !strcmp(json_string_value(json_array_get(v, 0)) ?: "", "set")) {
        return json_array_size(json_array_get(v, 1));
    }
    return v ? 1 : 0;
}

static json_t *
set_get(json_t *v, size_t i)
{
    if (json_is_array(v) && json_array_size(v) == 2
        && !strcmp(json_string_value(json_array_get(v, 0)) ?: "", "set")) {
        return json_array_get(json_array_get(v, 1), i);
    }
    return v;
}

/* ["uuid", "..."] -> "...". */
static const char *
uuid_of(json_t *atom)
{
    return json_string_value(json_array_get(atom, 1));
}

/* The value of 'key' in an OVSDB map ["map", [[k, v], ...]], or NULL. */
static const char *
map_get(json_t *map, const char *key)
{
    json_t *pairs = json_array_get(map, 1);
    size_t i;
    json_t *pair;

    json_array_foreach(pairs, i, pair) {
        if (!strcmp(json_string_value(json_array_get(pair, 0)) ?: "", key)) {
            return json_string_value(json_array_get(pair, 1));
        }
    }
    return NULL;
}

/* The row of 'rows' whose _uuid is 'uuid'. */
static json_t *
row_by_uuid(json_t *rows, const char *uuid)
{
    size_t i;
    json_t *row;

    json_array_foreach(rows, i, row) {
        const char *u = uuid_of(json_object_get(row, "_uuid"));
        if (u && uuid && !strcmp(u, uuid)) {
            return row;
        }
    }
    return NULL;
}

static int
name_cmp(const void *a_, const void *b_)
{
    json_t *const *a = a_, *const *b = b_;
    return strcmp(json_string_value(json_object_get(*a, "name")) ?: "",
                  json_string_value(json_object_get(*b, "name")) ?: "");
}

/* The rows a set of uuids names, sorted by name (the database keeps no
 * order; people look for names). */
static json_t **
rows_sorted(json_t *rows, json_t *uuids, size_t *n)
{
    size_t k = set_size(uuids);
    json_t **out = calloc(k ? k : 1, sizeof *out);

    *n = 0;
    for (size_t i = 0; out && i < k; i++) {
        json_t *row = row_by_uuid(rows, uuid_of(set_get(uuids, i)));
        if (row) {
            out[(*n)++] = row;
        }
    }
    if (out) {
        qsort(out, *n, sizeof *out, name_cmp);
    }
    return out;
}

static void
print_iface(json_t *iface, const struct show_dp_ports *dp)
{
    const char *name = json_string_value(json_object_get(iface, "name"));
    const char *type = json_string_value(json_object_get(iface, "type"));
    json_t *ofport = set_get(json_object_get(iface, "ofport"), 0);
    json_t *error = set_get(json_object_get(iface, "error"), 0);
    const char *remote = map_get(json_object_get(iface, "options"),
                                 "remote_ip");
    const char *key = map_get(json_object_get(iface, "options"), "key");
    char where[96];

    if (!name) {
        return;
    }
    printf("    interface %s (%s", name, type && *type ? type : "system");
    if (remote) {
        printf(", remote_ip %s", remote);
    }
    if (key) {
        printf(", key %s", key);
    }
    printf(")");
    if (json_is_integer(ofport) && json_integer_value(ofport) >= 0) {
        printf(" ofport %" PRId64, (int64_t) json_integer_value(ofport));
    }
    /* Tunnel interfaces share one datapath vport per protocol and UDP
     * port, named as hvs-vswitchd (and Open vSwitch) names it. */
    char shared[32] = "";
    if (type && (!strcmp(type, "vxlan") || !strcmp(type, "geneve"))) {
        const char *dst = map_get(json_object_get(iface, "options"),
                                  "dst_port");
        /* "geneve_sys_6081" would not fit IFNAMSIZ. */
        snprintf(shared, sizeof shared, "%s_sys_%s",
                 !strcmp(type, "vxlan") ? "vxlan" : "genev",
                 dst ? dst : !strcmp(type, "vxlan") ? "4789" : "6081");
    } else if (type && !strcmp(type, "gre")) {
        snprintf(shared, sizeof shared, "gre_sys");
    }
    if (dp && show_dp_port_of(dp, shared[0] ? shared : name, where,
                              sizeof where)) {
        printf(", %s", where);
        if (shared[0]) {
            printf(" (%s)", shared);
        }
    }
    printf("\n");
    if (json_is_string(error)) {
        printf("      error: %s\n", json_string_value(error));
    }
}

static void
print_bridges(json_t *result, const struct show_dp_ports *dp)
{
    json_t *bridges = json_object_get(json_array_get(result, 0), "rows");
    json_t *ports = json_object_get(json_array_get(result, 1), "rows");
    json_t *ifaces = json_object_get(json_array_get(result, 2), "rows");
    size_t nb = json_array_size(bridges);
    json_t **br = calloc(nb ? nb : 1, sizeof *br);

    if (!br) {
        return;
    }
    for (size_t i = 0; i < nb; i++) {
        br[i] = json_array_get(bridges, i);
    }
    qsort(br, nb, sizeof *br, name_cmp);
    for (size_t i = 0; i < nb; i++) {
        const char *dpt = json_string_value(
            json_object_get(br[i], "datapath_type"));
        json_t *fm = set_get(json_object_get(br[i], "fail_mode"), 0);

        printf("bridge %s", json_string_value(
                   json_object_get(br[i], "name")) ?: "?");
        if (dpt && *dpt) {
            printf(" (datapath_type %s)", dpt);
        }
        if (json_is_string(fm)) {
            printf(" fail_mode %s", json_string_value(fm));
        }
        printf("\n");

        size_t np;
        json_t **p = rows_sorted(ports, json_object_get(br[i], "ports"),
                                 &np);
        for (size_t j = 0; p && j < np; j++) {
            json_t *tag = set_get(json_object_get(p[j], "tag"), 0);

            printf("  port %s",
                   json_string_value(json_object_get(p[j], "name")) ?: "?");
            if (json_is_integer(tag)) {
                printf(" (tag %" PRId64 ")",
                       (int64_t) json_integer_value(tag));
            }
            printf("\n");
            size_t ni;
            json_t **in = rows_sorted(ifaces,
                                      json_object_get(p[j], "interfaces"),
                                      &ni);
            for (size_t k = 0; in && k < ni; k++) {
                print_iface(in[k], dp);
            }
            free(in);
        }
        free(p);
    }
    free(br);
}

int
show_bridges(const char *db_sock, const struct show_dp_ports *dp)
{
    static const char *const bridge_cols[] = {
        "name", "ports", "datapath_type", "fail_mode", NULL };
    static const char *const port_cols[] = {
        "_uuid", "name", "interfaces", "tag", NULL };
    static const char *const iface_cols[] = {
        "_uuid", "name", "type", "ofport", "error", "options", NULL };
    json_t *params = json_pack("[s, o, o, o]", "Open_vSwitch",
                               select_op("Bridge", bridge_cols),
                               select_op("Port", port_cols),
                               select_op("Interface", iface_cols));
    json_t *reply;
    int err = cli_rpc_call(db_sock, "transact", params,
                           time_msec() + QUERY_TIMEOUT_MS, &reply);
    if (err) {
        if (err == -ENOENT || err == -ECONNREFUSED) {
            return err;
        }
        cli_warn("cannot show bridges: database at %s: %s", db_sock,
                 err == -ETIMEDOUT ? "no answer within 5 seconds"
                 : err == -EPIPE ? "the database closed the connection"
                 : strerror(-err));
        return -EPROTO;
    }
    struct jsonrpc_msg_view v;
    if (jsonrpc_msg_parse(reply, &v) == JSONRPC_MSG_ERROR) {
        cli_warn("cannot show bridges: database at %s: the database "
                 "refused the query", db_sock);
        json_decref(reply);
        return -EPROTO;
    }
    json_t *result = json_incref(v.result);
    json_decref(reply);
    json_t *first = json_array_get(result, 0);
    if (!json_is_array(result) || json_array_size(result) < 3
        || json_object_get(first, "error")) {
        const char *e = json_string_value(json_object_get(first, "error"));
        cli_warn("cannot show bridges: database at %s: %s", db_sock,
                 e ? e : "unexpected answer");
        json_decref(result);
        return -EPROTO;
    }
    print_bridges(result, dp);
    json_decref(result);
    return 0;
}
