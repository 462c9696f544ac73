/* The _Server database. */
#include "server-db.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "error.h"
#include "schema.h"
#include "transaction.h"

/* Names and types are the interface that OVSDB clients (the IDL) expect of
 * a server's _Server database. */
static const char server_schema[] =
    "{\"name\": \"_Server\", \"version\": \"1.2.0\", \"tables\": {"
    " \"Database\": {\"isRoot\": true, \"columns\": {"
    "  \"name\": {\"type\": \"string\"},"
    "  \"model\": {\"type\": {\"key\": {\"type\": \"string\","
    "    \"enum\": [\"set\", [\"clustered\", \"relay\", \"standalone\"]]}}},"
    "  \"connected\": {\"type\": \"boolean\"},"
    "  \"leader\": {\"type\": \"boolean\"},"
    "  \"schema\": {\"type\": {\"key\": \"string\", \"min\": 0}},"
    "  \"sid\": {\"type\": {\"key\": \"uuid\", \"min\": 0}},"
    "  \"cid\": {\"type\": {\"key\": \"uuid\", \"min\": 0}},"
    "  \"index\": {\"type\": {\"key\": \"integer\", \"min\": 0}}}}}}";

static void
set_string(struct ovsdb_row *row, const char *col, const char *value)
{
    const struct ovsdb_column *c = ovsdb_table_find_column(row->table->schema,
                                                           col);
    struct ovsdb_datum *d = &row->fields[c->index];
    union ovsdb_atom a;

    ovsdb_datum_destroy(d, &c->type);
    a.s = strdup(value);
    ovsdb_datum_push(d, &a, NULL);
}

static void
set_bool(struct ovsdb_row *row, const char *col, bool value)
{
    const struct ovsdb_column *c = ovsdb_table_find_column(row->table->schema,
                                                           col);

    row->fields[c->index].keys[0].b = value;
}

static void
add_row(struct ovsdb_table *table, const struct ovsdb_schema *schema)
{
    struct ovsdb_row *row;
    struct uuid uuid;
    char *text;

    uuid_generate(&uuid);
    row = ovsdb_row_create(table, &uuid);
    uuid_generate(&row->fields[OVSDB_COL_VERSION].keys[0].u);
    set_string(row, "name", schema->name);
    set_string(row, "model", "standalone");
    set_bool(row, "connected", true);
    set_bool(row, "leader", true);
    text = json_dumps(schema->json, JSON_COMPACT | JSON_SORT_KEYS);
    set_string(row, "schema", text ? text : "{}");
    free(text);
    ovsdb_table_insert_row(table, row);
}

struct ovsdb *
ovsdb_server_db_create(struct ovsdb **dbs, unsigned int n)
{
    json_t *j = json_loads(server_schema, 0, NULL);
    struct ovsdb_schema *schema;
    struct ovsdb_error *e = ovsdb_schema_from_json(&schema, j);
    struct ovsdb_table *table;
    struct ovsdb *db;
    unsigned int i;

    json_decref(j);
    if (e) {
        abort();                /* the text above is ours */
    }
    db = ovsdb_create(schema);
    db->read_only = true;
    table = ovsdb_find_table(db, "Database");
    for (i = 0; i < n; i++) {
        add_row(table, dbs[i]->schema);
    }
    add_row(table, schema);
    return db;
}

struct find_ctx {
    const char *name;
    const struct ovsdb_row *row;
};

static bool
find_cb(void *aux, const struct ovsdb_row *row)
{
    struct find_ctx *f = aux;
    const struct ovsdb_column *c = ovsdb_table_find_column(row->table->schema,
                                                           "name");

    if (!strcmp(row->fields[c->index].keys[0].s, f->name)) {
        f->row = row;
        return false;
    }
    return true;
}

struct ovsdb_txn *
ovsdb_server_db_set_schema(struct ovsdb *server_db,
                           const struct ovsdb_schema *schema,
                           const struct ovsdb_change **changes, size_t *n)
{
    struct ovsdb_table *table = ovsdb_find_table(server_db, "Database");
    struct ovsdb_txn *txn = ovsdb_txn_create(server_db);
    struct find_ctx f = { schema->name, NULL };
    struct ovsdb_error *e;
    char *text;

    ovsdb_txn_for_each_row(txn, table, find_cb, &f);
    if (!f.row) {
        ovsdb_txn_destroy(txn);
        return NULL;
    }
    text = json_dumps(schema->json, JSON_COMPACT | JSON_SORT_KEYS);
    set_string(ovsdb_txn_modify(txn, f.row), "schema", text ? text : "{}");
    free(text);
    e = ovsdb_txn_commit(txn, changes, n);
    if (e) {
        ovsdb_error_free(e);
        ovsdb_txn_destroy(txn);
        return NULL;
    }
    return txn;
}
