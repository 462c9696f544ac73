/* RFC 7047 error objects. */
#include "error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ovsdb_error *
ovsdb_error(const char *tag, const char *fmt, ...)
{
    struct ovsdb_error *e = calloc(1, sizeof *e);

    if (!e) {
        abort();
    }
    e->tag = strdup(tag);
    if (fmt) {
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&e->details, fmt, ap) < 0) {
            e->details = NULL;
        }
        va_end(ap);
    }
    return e;
}

void
ovsdb_error_free(struct ovsdb_error *e)
{
    if (e) {
        free(e->tag);
        free(e->details);
        json_decref(e->syntax);
        free(e);
    }
}

json_t *
ovsdb_error_to_json(const struct ovsdb_error *e)
{
    json_t *j = json_object();

    json_object_set_new(j, "error", json_string(e->tag));
    if (e->details) {
        json_object_set_new(j, "details", json_string(e->details));
    }
    if (e->syntax) {
        char *s = json_dumps(e->syntax, JSON_COMPACT | JSON_SORT_KEYS
                             | JSON_ENCODE_ANY);

        if (s) {
            json_object_set_new(j, "syntax", json_string(s));
            free(s);
        }
    }
    return j;
}

json_t *
ovsdb_error_to_json_free(struct ovsdb_error *e)
{
    json_t *j = ovsdb_error_to_json(e);

    ovsdb_error_free(e);
    return j;
}

struct ovsdb_error *
ovsdb_error_syntax(struct ovsdb_error *e, json_t *j)
{
    if (e && j && !e->syntax) {
        e->syntax = json_incref(j);
    }
    return e;
}

static bool
needs_quotes(const char *s)
{
    const char *p;

    if (!*s || !(isalpha((unsigned char) *s) || *s == '_')) {
        return true;
    }
    for (p = s; *p; p++) {
        if (!isalnum((unsigned char) *p) && !strchr("_-.", *p)) {
            return true;
        }
    }
    return !strcmp(s, "true") || !strcmp(s, "false");
}

static void
brief(FILE *f, json_t *j)
{
    size_t i;

    if (json_is_string(j) && !needs_quotes(json_string_value(j))) {
        fputs(json_string_value(j), f);
    } else if (json_is_array(j) && json_array_size(j) == 2
               && json_is_string(json_array_get(j, 0))
               && (!strcmp(json_string_value(json_array_get(j, 0)), "set")
                   || !strcmp(json_string_value(json_array_get(j, 0)),
                              "map"))
               && json_is_array(json_array_get(j, 1))) {
        bool map = !strcmp(json_string_value(json_array_get(j, 0)), "map");
        json_t *el = json_array_get(j, 1);

        fputc(map ? '{' : '[', f);
        for (i = 0; i < json_array_size(el); i++) {
            json_t *x = json_array_get(el, i);

            fputs(i ? ", " : "", f);
            if (map && json_is_array(x) && json_array_size(x) == 2) {
                brief(f, json_array_get(x, 0));
                fputc('=', f);
                brief(f, json_array_get(x, 1));
            } else {
                brief(f, x);
            }
        }
        fputc(map ? '}' : ']', f);
    } else if (json_is_array(j) && json_array_size(j) == 2
               && json_is_string(json_array_get(j, 0))
               && !strcmp(json_string_value(json_array_get(j, 0)), "uuid")) {
        brief(f, json_array_get(j, 1));
    } else {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

        fputs(s ? s : "?", f);
        free(s);
    }
}

char *
ovsdb_json_brief(json_t *j)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    brief(f, j);
    fclose(f);
    return out;
}
