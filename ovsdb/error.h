/* RFC 7047 error objects: {"error": TAG, "details": TEXT}.  A function
 * that can fail returns a malloc'd 'struct ovsdb_error *' (NULL: success);
 * the caller owns it. */
#ifndef OVSDB_ERROR_H
#define OVSDB_ERROR_H 1

#include <jansson.h>

struct ovsdb_error {
    char *tag;                  /* e.g. "constraint violation" */
    char *details;              /* may be NULL */
    json_t *syntax;             /* the offending JSON, may be NULL */
};

struct ovsdb_error *ovsdb_error(const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ovsdb_error_free(struct ovsdb_error *);
/* Attaches the offending JSON (a new reference is taken); returns 'e'. */
struct ovsdb_error *ovsdb_error_syntax(struct ovsdb_error *e, json_t *);
/* A short human form of 'j' (strings bare when they need no quotes), as
 * error messages show values.  Malloc'd. */
char *ovsdb_json_brief(json_t *j);
/* New reference to {"error": ..., "details": ...}. */
json_t *ovsdb_error_to_json(const struct ovsdb_error *);
/* Like ovsdb_error_to_json() and frees 'error'. */
json_t *ovsdb_error_to_json_free(struct ovsdb_error *);

#endif /* OVSDB_ERROR_H */
