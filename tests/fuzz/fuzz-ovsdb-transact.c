/* libFuzzer target: parsing and executing "transact" operations
 * (ovsdb/execute.c, transaction.c, condition.c, mutation.c, datum.c) and
 * turning the committed changes into monitor updates (monitor.c).  The
 * input is the JSON array of operations; it runs against a small
 * Open_vSwitch database, twice, so the second run sees the first's
 * commit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "db.h"
#include "error.h"
#include "execute.h"
#include "monitor.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *schema_json;

static const char seed_ops[] =
    "[\"Open_vSwitch\","
    " {\"op\": \"insert\", \"table\": \"Open_vSwitch\", \"row\": "
    "  {\"bridges\": [\"named-uuid\", \"b\"]}},"
    " {\"op\": \"insert\", \"table\": \"Bridge\", \"uuid-name\": \"b\","
    "  \"row\": {\"name\": \"br0\", \"ports\": [\"named-uuid\", \"p\"]}},"
    " {\"op\": \"insert\", \"table\": \"Port\", \"uuid-name\": \"p\","
    "  \"row\": {\"name\": \"p0\", \"interfaces\": [\"named-uuid\", \"i\"]}},"
    " {\"op\": \"insert\", \"table\": \"Interface\", \"uuid-name\": \"i\","
    "  \"row\": {\"name\": \"p0\"}}]";

static void
run(struct ovsdb *db, json_t *params, struct ovsdb_monitor **mons, int n)
{
    struct ovsdb_exec_in in = { db, params, NULL, NULL, false };
    struct ovsdb_exec_out out;
    int i;

    ovsdb_execute(&in, &out);
    for (i = 0; i < n && out.txn; i++) {
        json_decref(ovsdb_monitor_changes(mons[i], out.changes,
                                          out.n_changes));
    }
    ovsdb_exec_out_destroy(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ovsdb_monitor *mons[3];
    struct ovsdb_schema *schema;
    struct ovsdb_error *e;
    struct ovsdb *db;
    json_t *ops, *seed, *req, *id;
    int i, n = 0;

    if (!schema_json) {
        schema_json = json_load_file(OVSDB_SCHEMA_FILE, 0, NULL);
        if (!schema_json) {
            abort();
        }
    }
    ops = json_loadb((const char *) data, size, 0, NULL);
    if (!json_is_array(ops)) {
        json_decref(ops);
        return 0;
    }
    json_array_insert_new(ops, 0, json_string("Open_vSwitch"));
    e = ovsdb_schema_from_json(&schema, schema_json);
    if (e) {
        abort();
    }
    db = ovsdb_create(schema);
    seed = json_loads(seed_ops, 0, NULL);
    run(db, seed, NULL, 0);
    json_decref(seed);
    id = json_integer(1);
    for (i = 0; i < 3; i++) {
        /* v1 monitors take no "where". */
        req = json_loads(i == 0
                         ? "{\"Bridge\": {}, \"Port\": {\"columns\": "
                           "[\"name\"]}, \"Open_vSwitch\": {}}"
                         : "{\"Bridge\": {}, \"Interface\": [{\"where\": "
                           "[[\"name\", \"==\", \"p0\"]]}], "
                           "\"Open_vSwitch\": {}}", 0, NULL);
        e = ovsdb_monitor_create(db, id, req, i == 0 ? OVSDB_MONITOR_V1
                                 : OVSDB_MONITOR_V2, &mons[n]);
        json_decref(req);
        if (e) {
            abort();
        }
        n++;
    }
    run(db, ops, mons, n);
    run(db, ops, mons, n);
    for (i = 0; i < n; i++) {
        json_decref(ovsdb_monitor_initial(mons[i]));
        ovsdb_monitor_free(mons[i]);
    }
    json_decref(id);
    json_decref(ops);
    ovsdb_destroy(db);
    return 0;
}
