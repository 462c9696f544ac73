/* Monitors. */
#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "condition.h"
#include "db.h"
#include "error.h"
#include "jsonrpc.h"
#include "transaction.h"

struct mon_table {
    bool active;
    bool *cols;
    bool initial, insert, delete, modify;
    struct ovsdb_condition cond;
};

struct ovsdb_monitor {
    struct ovsdb *db;
    char *key;
    json_t *id;
    enum ovsdb_monitor_version version;
    struct mon_table *tables;       /* by schema table index */
};

static bool
select_flag(json_t *select, const char *name)
{
    json_t *v = json_object_get(select, name);

    return !json_is_false(v);
}

static struct ovsdb_error *
parse_request(struct ovsdb_monitor *m, struct mon_table *mt,
              const struct ovsdb_table_schema *ts, json_t *req, bool first)
{
    json_t *cols = json_object_get(req, "columns");
    json_t *select = json_object_get(req, "select");
    json_t *where = json_object_get(req, "where");
    size_t i;

    if (!json_is_object(req)) {
        return ovsdb_error("syntax error", "monitor request for table %s "
                           "is not an object", ts->name);
    }
    if (select && !json_is_object(select)) {
        return ovsdb_error("syntax error", "\"select\" is not an object");
    }
    if (cols) {
        if (!json_is_array(cols)) {
            return ovsdb_error("syntax error", "\"columns\" is not an "
                               "array");
        }
        for (i = 0; i < json_array_size(cols); i++) {
            json_t *n = json_array_get(cols, i);
            const struct ovsdb_column *c = json_is_string(n)
                ? ovsdb_table_find_column(ts, json_string_value(n)) : NULL;

            if (!c) {
                return ovsdb_error("syntax error", "%s is not a valid "
                                   "column name in table %s",
                                   json_is_string(n) ? json_string_value(n)
                                   : "(non-string)", ts->name);
            }
            mt->cols[c->index] = true;
        }
    } else {
        for (i = OVSDB_N_IMPLICIT; i < ts->n_columns; i++) {
            mt->cols[i] = true;
        }
    }
    if (first) {
        mt->initial = mt->insert = mt->delete = mt->modify = false;
    }
    mt->initial |= select_flag(select, "initial");
    mt->insert |= select_flag(select, "insert");
    mt->delete |= select_flag(select, "delete");
    mt->modify |= select_flag(select, "modify");
    if (where) {
        if (m->version == OVSDB_MONITOR_V1) {
            return ovsdb_error("syntax error", "\"where\" is not allowed "
                               "in \"monitor\"");
        }
        ovsdb_condition_destroy(&mt->cond);
        return ovsdb_condition_from_json(&mt->cond, ts, where, NULL, NULL);
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_monitor_create(struct ovsdb *db, json_t *id, json_t *requests,
                     enum ovsdb_monitor_version version,
                     struct ovsdb_monitor **mp)
{
    struct ovsdb_monitor *m = calloc(1, sizeof *m);
    struct ovsdb_error *e = NULL;
    const char *tname;
    json_t *tj;

    *mp = NULL;
    m->db = db;
    m->id = json_incref(id);
    m->version = version;
    m->tables = calloc(db->schema->n_tables + 1, sizeof *m->tables);
    if (!json_is_object(requests)) {
        e = ovsdb_error("syntax error", "monitor requests must be an "
                        "object");
        goto error;
    }
    json_object_foreach(requests, tname, tj) {
        const struct ovsdb_table_schema *ts =
            ovsdb_schema_find_table(db->schema, tname);
        struct mon_table *mt;
        size_t i;

        if (!ts) {
            e = ovsdb_error("syntax error", "no table named %s", tname);
            goto error;
        }
        mt = &m->tables[ts->index];
        mt->active = true;
        mt->cols = calloc(ts->n_columns, sizeof *mt->cols);
        if (json_is_array(tj)) {
            for (i = 0; i < json_array_size(tj) && !e; i++) {
                e = parse_request(m, mt, ts, json_array_get(tj, i), i == 0);
            }
        } else {
            e = parse_request(m, mt, ts, tj, true);
        }
        if (e) {
            goto error;
        }
    }
    {
        char *text = json_dumps(requests, JSON_COMPACT | JSON_SORT_KEYS);

        if (asprintf(&m->key, "%d %p %s", (int) version, (void *) db,
                     text ? text : "") < 0) {
            m->key = NULL;
        }
        free(text);
    }
    *mp = m;
    return NULL;

error:
    ovsdb_monitor_free(m);
    return e;
}

const char *
ovsdb_monitor_key(const struct ovsdb_monitor *m)
{
    return m->key ? m->key : "";
}

void
ovsdb_monitor_free(struct ovsdb_monitor *m)
{
    unsigned int i;

    if (!m) {
        return;
    }
    for (i = 0; i < m->db->schema->n_tables; i++) {
        free(m->tables[i].cols);
        ovsdb_condition_destroy(&m->tables[i].cond);
    }
    free(m->tables);
    json_decref(m->id);
    free(m->key);
    free(m);
}

json_t *
ovsdb_monitor_id(const struct ovsdb_monitor *m)
{
    return m->id;
}

void
ovsdb_monitor_set_id(struct ovsdb_monitor *m, json_t *id)
{
    json_incref(id);
    json_decref(m->id);
    m->id = id;
}

struct ovsdb *
ovsdb_monitor_db(const struct ovsdb_monitor *m)
{
    return m->db;
}

enum ovsdb_monitor_version
ovsdb_monitor_version(const struct ovsdb_monitor *m)
{
    return m->version;
}

/* Columns of 'row' selected by 'mt' (with 'only' further restricting, if
 * nonnull); 'skip_default' drops columns with default values. */
static json_t *
columns_json(const struct mon_table *mt, const struct ovsdb_row *row,
             const bool *only, bool skip_default)
{
    const struct ovsdb_table_schema *ts = row->table->schema;
    json_t *j = json_object();
    unsigned int c;

    for (c = 0; c < ts->n_columns; c++) {
        const struct ovsdb_type *t = &ts->columns[c].type;

        if (!mt->cols[c] || (only && !only[c])
            || (skip_default && ovsdb_datum_is_default(&row->fields[c], t))) {
            continue;
        }
        json_object_set_new(j, ts->columns[c].name,
                            ovsdb_datum_to_json(&row->fields[c], t));
    }
    return j;
}

static json_t *
diff_json(const struct mon_table *mt, const struct ovsdb_row *old,
          const struct ovsdb_row *new, const bool *changed)
{
    const struct ovsdb_table_schema *ts = new->table->schema;
    json_t *j = json_object();
    unsigned int c;

    for (c = OVSDB_N_IMPLICIT; c < ts->n_columns; c++) {
        const struct ovsdb_type *t = &ts->columns[c].type;
        struct ovsdb_datum diff;

        if (!mt->cols[c] || !changed[c]) {
            continue;
        }
        ovsdb_datum_diff(&diff, &old->fields[c], &new->fields[c], t);
        json_object_set_new(j, ts->columns[c].name,
                            ovsdb_datum_to_json(&diff, t));
        ovsdb_datum_destroy(&diff, t);
    }
    return j;
}

static bool
any_changed(const struct mon_table *mt, const struct ovsdb_table_schema *ts,
            const bool *changed)
{
    unsigned int c;

    for (c = OVSDB_N_IMPLICIT; c < ts->n_columns; c++) {
        if (mt->cols[c] && changed[c]) {
            return true;
        }
    }
    return false;
}

enum row_kind { ROW_INITIAL, ROW_INSERT, ROW_DELETE, ROW_MODIFY };

/* One row's update: NULL if the monitor does not show it. */
static json_t *
row_update(const struct ovsdb_monitor *m, const struct mon_table *mt,
           enum row_kind kind, const struct ovsdb_row *old,
           const struct ovsdb_row *new, const bool *changed)
{
    bool v1 = m->version == OVSDB_MONITOR_V1;
    json_t *j;

    switch (kind) {
    case ROW_INITIAL:
    case ROW_INSERT:
        if (!(kind == ROW_INITIAL ? mt->initial : mt->insert)) {
            return NULL;
        }
        if (v1) {
            return json_pack("{so}", "new", columns_json(mt, new, NULL,
                                                         false));
        }
        return json_pack("{so}", kind == ROW_INITIAL ? "initial" : "insert",
                         columns_json(mt, new, NULL, true));
    case ROW_DELETE:
        if (!mt->delete) {
            return NULL;
        }
        if (v1) {
            return json_pack("{so}", "old", columns_json(mt, old, NULL,
                                                         false));
        }
        return json_pack("{sn}", "delete");
    case ROW_MODIFY:
        if (!mt->modify || !any_changed(mt, new->table->schema, changed)) {
            return NULL;
        }
        if (v1) {
            j = json_object();
            json_object_set_new(j, "new", columns_json(mt, new, NULL,
                                                       false));
            json_object_set_new(j, "old", columns_json(mt, old, changed,
                                                       false));
            return j;
        }
        return json_pack("{so}", "modify", diff_json(mt, old, new, changed));
    }
    return NULL;
}

static void
add_row_update(json_t *updates, const struct ovsdb_table_schema *ts,
               const struct ovsdb_row *row, json_t *ru)
{
    json_t *tj = json_object_get(updates, ts->name);
    char u[UUID_LEN + 1];

    if (!tj) {
        tj = json_object();
        json_object_set_new(updates, ts->name, tj);
    }
    uuid_to_string(ovsdb_row_uuid(row), u);
    json_object_set_new(tj, u, ru);
}

json_t *
ovsdb_monitor_initial(const struct ovsdb_monitor *m)
{
    json_t *updates = json_object();
    unsigned int t;

    for (t = 0; t < m->db->schema->n_tables; t++) {
        const struct mon_table *mt = &m->tables[t];
        struct hmap_node *node;
        size_t pos;

        if (!mt->active || !mt->initial) {
            continue;
        }
        HMAP_FOR_EACH_NODE (node, pos, &m->db->tables[t].rows) {
            const struct ovsdb_row *row = HMAP_CONTAINER(node,
                                                         struct ovsdb_row,
                                                         node);
            json_t *ru;

            if (!ovsdb_condition_eval(&mt->cond, row)) {
                continue;
            }
            ru = row_update(m, mt, ROW_INITIAL, NULL, row, NULL);
            if (ru) {
                add_row_update(updates, row->table->schema, row, ru);
            }
        }
    }
    return updates;
}

json_t *
ovsdb_monitor_changes(const struct ovsdb_monitor *m,
                      const struct ovsdb_change *changes, size_t n)
{
    json_t *updates = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        const struct ovsdb_change *ch = &changes[i];
        const struct mon_table *mt = &m->tables[ch->table->schema->index];
        bool in_old, in_new;
        enum row_kind kind;
        json_t *ru;

        if (!mt->active) {
            continue;
        }
        in_old = ch->old && ovsdb_condition_eval(&mt->cond, ch->old);
        in_new = ch->new && ovsdb_condition_eval(&mt->cond, ch->new);
        if (in_old && in_new) {
            kind = ROW_MODIFY;
        } else if (in_new) {
            kind = ROW_INSERT;
        } else if (in_old) {
            kind = ROW_DELETE;
        } else {
            continue;
        }
        ru = row_update(m, mt, kind, ch->old, ch->new, ch->changed);
        if (ru) {
            if (!updates) {
                updates = json_object();
            }
            add_row_update(updates, ch->table->schema,
                           ch->new ? ch->new : ch->old, ru);
        }
    }
    return updates;
}

struct ovsdb_error *
ovsdb_monitor_cond_change(struct ovsdb_monitor *m, json_t *requests,
                          json_t **update)
{
    struct ovsdb_condition *conds;
    struct ovsdb_error *e = NULL;
    bool *mentioned;
    const char *tname;
    json_t *tj;
    unsigned int t, n_tables = m->db->schema->n_tables;

    *update = NULL;
    if (m->version == OVSDB_MONITOR_V1) {
        return ovsdb_error("syntax error", "monitor does not support "
                           "conditions");
    }
    if (!json_is_object(requests)) {
        return ovsdb_error("syntax error", "condition requests must be an "
                           "object");
    }
    /* Parse everything first so an error changes nothing. */
    conds = calloc(n_tables + 1, sizeof *conds);
    mentioned = calloc(n_tables + 1, sizeof *mentioned);
    json_object_foreach(requests, tname, tj) {
        const struct ovsdb_table_schema *ts =
            ovsdb_schema_find_table(m->db->schema, tname);
        json_t *req = json_is_array(tj) ? json_array_get(tj, 0) : tj;
        json_t *where = json_object_get(req, "where");

        if (!ts || !m->tables[ts->index].active) {
            e = ovsdb_error("syntax error", "table %s is not monitored",
                            tname);
            break;
        }
        ovsdb_condition_destroy(&conds[ts->index]);
        mentioned[ts->index] = true;
        if (where) {
            e = ovsdb_condition_from_json(&conds[ts->index], ts, where,
                                          NULL, NULL);
            if (e) {
                break;
            }
        }
    }
    if (!e) {
        json_t *updates = json_object();

        for (t = 0; t < n_tables; t++) {
            struct mon_table *mt = &m->tables[t];
            struct hmap_node *node;
            size_t pos;

            if (!mentioned[t]) {
                continue;       /* not mentioned: unchanged */
            }
            HMAP_FOR_EACH_NODE (node, pos, &m->db->tables[t].rows) {
                const struct ovsdb_row *row =
                    HMAP_CONTAINER(node, struct ovsdb_row, node);
                bool was = ovsdb_condition_eval(&mt->cond, row);
                bool is = ovsdb_condition_eval(&conds[t], row);
                json_t *ru = NULL;

                if (was && !is) {
                    ru = json_pack("{sn}", "delete");
                } else if (!was && is) {
                    ru = json_pack("{so}", "insert",
                                   columns_json(mt, row, NULL, true));
                }
                if (ru) {
                    add_row_update(updates, row->table->schema, row, ru);
                }
            }
            ovsdb_condition_destroy(&mt->cond);
            mt->cond = conds[t];
            memset(&conds[t], 0, sizeof conds[t]);
        }
        /* The conditions are this client's own now. */
        free(m->key);
        if (asprintf(&m->key, "%p", (void *) m) < 0) {
            m->key = NULL;
        }
        if (json_object_size(updates)) {
            *update = updates;
        } else {
            json_decref(updates);
        }
    }
    for (t = 0; t < n_tables; t++) {
        ovsdb_condition_destroy(&conds[t]);
    }
    free(conds);
    free(mentioned);
    return e;
}

json_t *
ovsdb_monitor_notification(const struct ovsdb_monitor *m, json_t *updates)
{
    switch (m->version) {
    case OVSDB_MONITOR_V1:
        return jsonrpc_notify("update", json_pack("[Oo]", m->id, updates));
    case OVSDB_MONITOR_V2:
        return jsonrpc_notify("update2", json_pack("[Oo]", m->id, updates));
    case OVSDB_MONITOR_V3:
        break;
    }
    return jsonrpc_notify("update3",
                          json_pack("[Oso]", m->id,
                                    "00000000-0000-0000-0000-000000000000",
                                    updates));
}

char *
ovsdb_monitor_notification_text(const struct ovsdb_monitor *m,
                                const char *updates, size_t *len)
{
    static const char *const methods[] = {
        [OVSDB_MONITOR_V1] = "update", [OVSDB_MONITOR_V2] = "update2",
        [OVSDB_MONITOR_V3] = "update3",
    };
    char *id = json_dumps(m->id, JSON_COMPACT | JSON_ENCODE_ANY);
    char *text;
    int n;

    n = asprintf(&text, "{\"id\":null,\"method\":\"%s\",\"params\":[%s,%s%s]}",
                 methods[m->version], id ? id : "null",
                 m->version == OVSDB_MONITOR_V3
                 ? "\"00000000-0000-0000-0000-000000000000\"," : "",
                 updates);
    free(id);
    if (n < 0) {
        return NULL;
    }
    *len = n;
    return text;
}
