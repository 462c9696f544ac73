/* RFC 7047 error objects. */
#include "error.h"

#include <stdarg.h>
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
    return j;
}

json_t *
ovsdb_error_to_json_free(struct ovsdb_error *e)
{
    json_t *j = ovsdb_error_to_json(e);

    ovsdb_error_free(e);
    return j;
}
