/* OVSDB types, atoms and datums: parsing, checking, comparing, JSON. */
#include "datum.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        abort();
    }
    return p;
}

static void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        abort();
    }
    return p;
}

static char *
xstrdup(const char *s)
{
    char *p = strdup(s);

    if (!p) {
        abort();
    }
    return p;
}

const char *
ovsdb_atype_name(enum ovsdb_atype t)
{
    switch (t) {
    case OVSDB_T_INTEGER: return "integer";
    case OVSDB_T_REAL: return "real";
    case OVSDB_T_BOOLEAN: return "boolean";
    case OVSDB_T_STRING: return "string";
    case OVSDB_T_UUID: return "uuid";
    case OVSDB_T_VOID: break;
    }
    return "void";
}

static bool
atype_from_name(const char *name, enum ovsdb_atype *t)
{
    static const enum ovsdb_atype all[] = {
        OVSDB_T_INTEGER, OVSDB_T_REAL, OVSDB_T_BOOLEAN, OVSDB_T_STRING,
        OVSDB_T_UUID,
    };
    size_t i;

    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!strcmp(name, ovsdb_atype_name(all[i]))) {
            *t = all[i];
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- types */

static void
base_type_init(struct ovsdb_base_type *b, enum ovsdb_atype t)
{
    memset(b, 0, sizeof *b);
    b->type = t;
    b->min_int = INT64_MIN;
    b->max_int = INT64_MAX;
    b->min_real = -DBL_MAX;
    b->max_real = DBL_MAX;
    b->min_len = 0;
    b->max_len = SIZE_MAX;
}

static void
base_type_destroy(struct ovsdb_base_type *b)
{
    if (b->enum_) {
        struct ovsdb_type t;

        memset(&t, 0, sizeof t);
        base_type_init(&t.key, b->type);
        base_type_init(&t.value, OVSDB_T_VOID);
        ovsdb_datum_destroy(b->enum_, &t);
        free(b->enum_);
    }
    free(b->ref_table_name);
    memset(b, 0, sizeof *b);
}

static struct ovsdb_error *
base_type_from_json(struct ovsdb_base_type *b, json_t *j)
{
    enum ovsdb_atype t;
    json_t *v;

    if (json_is_string(j)) {
        if (!atype_from_name(json_string_value(j), &t)) {
            return ovsdb_error("syntax error", "unknown atomic type \"%s\"",
                               json_string_value(j));
        }
        base_type_init(b, t);
        return NULL;
    }
    if (!json_is_object(j)) {
        return ovsdb_error("syntax error", "base type must be string or "
                           "object");
    }
    v = json_object_get(j, "type");
    if (!json_is_string(v) || !atype_from_name(json_string_value(v), &t)) {
        return ovsdb_error("syntax error", "base type lacks a valid "
                           "\"type\"");
    }
    base_type_init(b, t);
    if ((v = json_object_get(j, "enum"))) {
        struct ovsdb_type et;
        struct ovsdb_error *e;

        memset(&et, 0, sizeof et);
        base_type_init(&et.key, t);
        base_type_init(&et.value, OVSDB_T_VOID);
        et.n_min = 0;
        et.n_max = OVSDB_UNLIMITED;
        b->enum_ = xmalloc(sizeof *b->enum_);
        e = ovsdb_datum_from_json(b->enum_, &et, v, NULL, NULL);
        if (e) {
            free(b->enum_);
            b->enum_ = NULL;
            return e;
        }
    }
    if (t == OVSDB_T_INTEGER) {
        if (json_is_integer(v = json_object_get(j, "minInteger"))) {
            b->min_int = json_integer_value(v);
        }
        if (json_is_integer(v = json_object_get(j, "maxInteger"))) {
            b->max_int = json_integer_value(v);
        }
    } else if (t == OVSDB_T_REAL) {
        if (json_is_number(v = json_object_get(j, "minReal"))) {
            b->min_real = json_number_value(v);
        }
        if (json_is_number(v = json_object_get(j, "maxReal"))) {
            b->max_real = json_number_value(v);
        }
    } else if (t == OVSDB_T_STRING) {
        if (json_is_integer(v = json_object_get(j, "minLength"))) {
            b->min_len = json_integer_value(v);
        }
        if (json_is_integer(v = json_object_get(j, "maxLength"))) {
            b->max_len = json_integer_value(v);
        }
    } else if (t == OVSDB_T_UUID) {
        if (json_is_string(v = json_object_get(j, "refTable"))) {
            b->ref_table_name = xstrdup(json_string_value(v));
            v = json_object_get(j, "refType");
            b->ref_weak = json_is_string(v)
                          && !strcmp(json_string_value(v), "weak");
        }
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_type_from_json(struct ovsdb_type *type, json_t *j)
{
    struct ovsdb_error *e;
    json_t *v;

    memset(type, 0, sizeof *type);
    base_type_init(&type->value, OVSDB_T_VOID);
    type->n_min = type->n_max = 1;
    if (json_is_string(j)) {
        return base_type_from_json(&type->key, j);
    }
    if (!json_is_object(j) || !json_object_get(j, "key")) {
        return ovsdb_error("syntax error", "type must be string or object "
                           "with \"key\"");
    }
    e = base_type_from_json(&type->key, json_object_get(j, "key"));
    if (!e && (v = json_object_get(j, "value"))) {
        e = base_type_from_json(&type->value, v);
    }
    if (e) {
        ovsdb_type_destroy(type);
        return e;
    }
    if ((v = json_object_get(j, "min"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > 1) {
            ovsdb_type_destroy(type);
            return ovsdb_error("syntax error", "\"min\" must be 0 or 1");
        }
        type->n_min = json_integer_value(v);
    }
    if ((v = json_object_get(j, "max"))) {
        if (json_is_string(v) && !strcmp(json_string_value(v),
                                         "unlimited")) {
            type->n_max = OVSDB_UNLIMITED;
        } else if (json_is_integer(v) && json_integer_value(v) >= 1
                   && json_integer_value(v) < OVSDB_UNLIMITED) {
            type->n_max = json_integer_value(v);
        } else {
            ovsdb_type_destroy(type);
            return ovsdb_error("syntax error", "bad \"max\"");
        }
    }
    if (type->n_max < type->n_min) {
        ovsdb_type_destroy(type);
        return ovsdb_error("syntax error", "\"max\" less than \"min\"");
    }
    return NULL;
}

void
ovsdb_type_destroy(struct ovsdb_type *type)
{
    base_type_destroy(&type->key);
    base_type_destroy(&type->value);
}

bool
ovsdb_type_is_map(const struct ovsdb_type *t)
{
    return t->value.type != OVSDB_T_VOID;
}

bool
ovsdb_type_is_scalar(const struct ovsdb_type *t)
{
    return !ovsdb_type_is_map(t) && t->n_min == 1 && t->n_max == 1;
}

bool
ovsdb_type_is_optional_scalar(const struct ovsdb_type *t)
{
    return !ovsdb_type_is_map(t) && t->n_min == 0 && t->n_max == 1;
}

static bool
base_is_ref(const struct ovsdb_base_type *b, bool weak)
{
    return b->type == OVSDB_T_UUID && b->ref_table_name && b->ref_weak == weak;
}

bool
ovsdb_type_has_strong_refs(const struct ovsdb_type *t)
{
    return base_is_ref(&t->key, false) || base_is_ref(&t->value, false);
}

bool
ovsdb_type_has_weak_refs(const struct ovsdb_type *t)
{
    return base_is_ref(&t->key, true) || base_is_ref(&t->value, true);
}

/* ---------------------------------------------------------------- atoms */

int
ovsdb_atom_compare(const union ovsdb_atom *a, const union ovsdb_atom *b,
                   enum ovsdb_atype t)
{
    switch (t) {
    case OVSDB_T_INTEGER:
        return a->i < b->i ? -1 : a->i > b->i;
    case OVSDB_T_REAL:
        return a->r < b->r ? -1 : a->r > b->r;
    case OVSDB_T_BOOLEAN:
        return (int) a->b - (int) b->b;
    case OVSDB_T_STRING:
        return strcmp(a->s, b->s);
    case OVSDB_T_UUID:
        return uuid_compare(&a->u, &b->u);
    case OVSDB_T_VOID:
        break;
    }
    return 0;
}

void
ovsdb_atom_clone(union ovsdb_atom *dst, const union ovsdb_atom *src,
                 enum ovsdb_atype t)
{
    if (t == OVSDB_T_STRING) {
        dst->s = xstrdup(src->s);
    } else {
        *dst = *src;
    }
}

void
ovsdb_atom_destroy(union ovsdb_atom *a, enum ovsdb_atype t)
{
    if (t == OVSDB_T_STRING) {
        free(a->s);
        a->s = NULL;
    }
}

uint32_t
ovsdb_atom_hash(const union ovsdb_atom *a, enum ovsdb_atype t,
                uint32_t basis)
{
    switch (t) {
    case OVSDB_T_INTEGER:
        return hash_add64(basis, (uint64_t) a->i);
    case OVSDB_T_REAL: {
        double r = a->r == 0 ? 0 : a->r;    /* -0.0 == 0.0 */
        uint64_t bits;

        memcpy(&bits, &r, sizeof bits);
        return hash_add64(basis, bits);
    }
    case OVSDB_T_BOOLEAN:
        return hash_add(basis, a->b);
    case OVSDB_T_STRING:
        return hash_bytes(a->s, strlen(a->s), basis);
    case OVSDB_T_UUID:
        return hash_add(hash_add(hash_add(hash_add(basis, a->u.w[0]),
                                          a->u.w[1]), a->u.w[2]), a->u.w[3]);
    case OVSDB_T_VOID:
        break;
    }
    return basis;
}

json_t *
ovsdb_atom_to_json(const union ovsdb_atom *a, enum ovsdb_atype t)
{
    char buf[UUID_LEN + 1];

    switch (t) {
    case OVSDB_T_INTEGER:
        return json_integer(a->i);
    case OVSDB_T_REAL:
        return json_real(a->r);
    case OVSDB_T_BOOLEAN:
        return json_boolean(a->b);
    case OVSDB_T_STRING:
        return json_string(a->s);
    case OVSDB_T_UUID:
        uuid_to_string(&a->u, buf);
        return json_pack("[ss]", "uuid", buf);
    case OVSDB_T_VOID:
        break;
    }
    return json_null();
}

static size_t
utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char) *s & 0xc0) != 0x80;
    }
    return n;
}

static char *
json_brief(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

    if (s && strlen(s) > 200) {
        strcpy(s + 196, "...");
    }
    return s ? s : xstrdup("?");
}

static struct ovsdb_error *
type_mismatch(json_t *j, const char *expected)
{
    char *s = json_brief(j);
    struct ovsdb_error *e = ovsdb_error("syntax error", "expected %s, "
                                        "got %s", expected, s);

    free(s);
    return e;
}

struct ovsdb_error *
ovsdb_atom_check(const union ovsdb_atom *a, const struct ovsdb_base_type *b)
{
    if (b->enum_ && ovsdb_datum_find_key(b->enum_, a, b->type) < 0) {
        json_t *j = ovsdb_atom_to_json(a, b->type);
        struct ovsdb_type et;
        json_t *ej;
        char *s, *es;
        struct ovsdb_error *e;

        memset(&et, 0, sizeof et);
        et.key = *b;
        et.value.type = OVSDB_T_VOID;
        et.n_max = OVSDB_UNLIMITED;
        ej = ovsdb_datum_to_json(b->enum_, &et);
        s = ovsdb_json_brief(j);
        es = ovsdb_json_brief(ej);
        e = ovsdb_error("constraint violation", "%s is not one of the "
                        "allowed values (%s)", s, es);
        free(s);
        free(es);
        json_decref(j);
        json_decref(ej);
        return e;
    }
    switch (b->type) {
    case OVSDB_T_INTEGER:
        if (a->i < b->min_int || a->i > b->max_int) {
            if (b->min_int == INT64_MIN) {
                return ovsdb_error("constraint violation", "%" PRId64
                                   " is greater than maximum allowed "
                                   "value %" PRId64, a->i, b->max_int);
            } else if (b->max_int == INT64_MAX) {
                return ovsdb_error("constraint violation", "%" PRId64
                                   " is less than minimum allowed value %"
                                   PRId64, a->i, b->min_int);
            }
            return ovsdb_error("constraint violation", "%" PRId64
                               " is not in the valid range %" PRId64
                               " to %" PRId64 " (inclusive)", a->i,
                               b->min_int, b->max_int);
        }
        break;
    case OVSDB_T_REAL:
        if (a->r < b->min_real || a->r > b->max_real) {
            return ovsdb_error("constraint violation", "%.17g is not in "
                               "the valid range %.17g to %.17g (inclusive)",
                               a->r, b->min_real, b->max_real);
        }
        break;
    case OVSDB_T_STRING: {
        size_t len = utf8_length(a->s);

        if (len < b->min_len || len > b->max_len) {
            return ovsdb_error("constraint violation", "\"%s\" length %zu "
                               "is not in the valid range %zu to %zu",
                               a->s, len, b->min_len, b->max_len);
        }
        break;
    }
    default:
        break;
    }
    return NULL;
}

static struct ovsdb_error *
atom_parse(union ovsdb_atom *a, enum ovsdb_atype t, json_t *j,
           ovsdb_symbol_fn *symbol, void *aux)
{
    switch (t) {
    case OVSDB_T_INTEGER:
        if (!json_is_integer(j)) {
            return type_mismatch(j, "integer");
        }
        a->i = json_integer_value(j);
        return NULL;
    case OVSDB_T_REAL:
        if (!json_is_number(j)) {
            return type_mismatch(j, "real");
        }
        a->r = json_number_value(j);
        if (!isfinite(a->r)) {
            return type_mismatch(j, "finite real");
        }
        return NULL;
    case OVSDB_T_BOOLEAN:
        if (!json_is_boolean(j)) {
            return type_mismatch(j, "boolean");
        }
        a->b = json_is_true(j);
        return NULL;
    case OVSDB_T_STRING:
        if (!json_is_string(j)) {
            return type_mismatch(j, "string");
        }
        a->s = xstrdup(json_string_value(j));
        return NULL;
    case OVSDB_T_UUID: {
        const char *kind, *s;

        if (!json_is_array(j) || json_array_size(j) != 2
            || !json_is_string(json_array_get(j, 0))
            || !json_is_string(json_array_get(j, 1))) {
            return type_mismatch(j, "uuid");
        }
        kind = json_string_value(json_array_get(j, 0));
        s = json_string_value(json_array_get(j, 1));
        if (!strcmp(kind, "uuid")) {
            if (!uuid_from_string(&a->u, s)) {
                return ovsdb_error("syntax error", "\"%s\" is not a valid "
                                   "UUID", s);
            }
            return NULL;
        } else if (!strcmp(kind, "named-uuid")) {
            if (!symbol || !symbol(aux, s, &a->u)) {
                return ovsdb_error("syntax error", "unknown named-uuid "
                                   "\"%s\"", s);
            }
            return NULL;
        }
        return type_mismatch(j, "uuid");
    }
    case OVSDB_T_VOID:
        break;
    }
    return ovsdb_error("syntax error", "void atom");
}

struct ovsdb_error *
ovsdb_atom_from_json(union ovsdb_atom *a, const struct ovsdb_base_type *b,
                     json_t *j, ovsdb_symbol_fn *symbol, void *aux)
{
    struct ovsdb_error *e = atom_parse(a, b->type, j, symbol, aux);

    if (!e) {
        e = ovsdb_atom_check(a, b);
        if (e) {
            ovsdb_atom_destroy(a, b->type);
        }
    }
    return e;
}

/* --------------------------------------------------------------- datums */

void
ovsdb_datum_init_empty(struct ovsdb_datum *d)
{
    d->n = 0;
    d->keys = NULL;
    d->values = NULL;
}

static void
atom_init_default(union ovsdb_atom *a, enum ovsdb_atype t)
{
    memset(a, 0, sizeof *a);
    if (t == OVSDB_T_STRING) {
        a->s = xstrdup("");
    }
}

static bool
atom_is_default(const union ovsdb_atom *a, enum ovsdb_atype t)
{
    switch (t) {
    case OVSDB_T_INTEGER: return a->i == 0;
    case OVSDB_T_REAL: return a->r == 0;
    case OVSDB_T_BOOLEAN: return !a->b;
    case OVSDB_T_STRING: return !a->s[0];
    case OVSDB_T_UUID: return uuid_is_zero(&a->u);
    case OVSDB_T_VOID: break;
    }
    return true;
}

void
ovsdb_datum_init_default(struct ovsdb_datum *d, const struct ovsdb_type *t)
{
    ovsdb_datum_init_empty(d);
    if (t->n_min) {
        d->n = 1;
        d->keys = xmalloc(sizeof *d->keys);
        atom_init_default(&d->keys[0], t->key.type);
        if (ovsdb_type_is_map(t)) {
            d->values = xmalloc(sizeof *d->values);
            atom_init_default(&d->values[0], t->value.type);
        }
    }
}

bool
ovsdb_datum_is_default(const struct ovsdb_datum *d,
                       const struct ovsdb_type *t)
{
    if (!t->n_min) {
        return d->n == 0;
    }
    return d->n == 1 && atom_is_default(&d->keys[0], t->key.type)
           && (!ovsdb_type_is_map(t)
               || atom_is_default(&d->values[0], t->value.type));
}

void
ovsdb_datum_destroy(struct ovsdb_datum *d, const struct ovsdb_type *t)
{
    unsigned int i;

    if (t->key.type == OVSDB_T_STRING || t->value.type == OVSDB_T_STRING) {
        for (i = 0; i < d->n; i++) {
            ovsdb_atom_destroy(&d->keys[i], t->key.type);
            if (d->values) {
                ovsdb_atom_destroy(&d->values[i], t->value.type);
            }
        }
    }
    free(d->keys);
    free(d->values);
    ovsdb_datum_init_empty(d);
}

void
ovsdb_datum_clone(struct ovsdb_datum *dst, const struct ovsdb_datum *src,
                  const struct ovsdb_type *t)
{
    unsigned int i;

    dst->n = src->n;
    dst->keys = src->n ? xmalloc(src->n * sizeof *dst->keys) : NULL;
    dst->values = src->values && src->n
                  ? xmalloc(src->n * sizeof *dst->values) : NULL;
    for (i = 0; i < src->n; i++) {
        ovsdb_atom_clone(&dst->keys[i], &src->keys[i], t->key.type);
        if (dst->values) {
            ovsdb_atom_clone(&dst->values[i], &src->values[i],
                             t->value.type);
        }
    }
}

int
ovsdb_datum_compare(const struct ovsdb_datum *a, const struct ovsdb_datum *b,
                    const struct ovsdb_type *t)
{
    unsigned int i;

    for (i = 0; i < a->n && i < b->n; i++) {
        int c = ovsdb_atom_compare(&a->keys[i], &b->keys[i], t->key.type);

        if (!c && a->values && b->values) {
            c = ovsdb_atom_compare(&a->values[i], &b->values[i],
                                   t->value.type);
        }
        if (c) {
            return c;
        }
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

bool
ovsdb_datum_equals(const struct ovsdb_datum *a, const struct ovsdb_datum *b,
                   const struct ovsdb_type *t)
{
    return a->n == b->n && !ovsdb_datum_compare(a, b, t);
}

uint32_t
ovsdb_datum_hash(const struct ovsdb_datum *d, const struct ovsdb_type *t,
                 uint32_t basis)
{
    unsigned int i;

    for (i = 0; i < d->n; i++) {
        basis = ovsdb_atom_hash(&d->keys[i], t->key.type, basis);
        if (d->values) {
            basis = ovsdb_atom_hash(&d->values[i], t->value.type, basis);
        }
    }
    return hash_add(basis, d->n);
}

void
ovsdb_datum_push(struct ovsdb_datum *d, const union ovsdb_atom *key,
                 const union ovsdb_atom *value)
{
    /* Arrays may come from clone() at their exact size, so no spare
     * capacity can be assumed; realloc() grows in place cheaply. */
    unsigned int n = d->n;

    d->keys = xrealloc(d->keys, (n + 1) * sizeof *d->keys);
    d->keys[n] = *key;
    if (value) {
        d->values = xrealloc(d->values, (n + 1) * sizeof *d->values);
        d->values[n] = *value;
    }
    d->n++;
}

void
ovsdb_datum_remove(struct ovsdb_datum *d, unsigned int i,
                   const struct ovsdb_type *t)
{
    ovsdb_atom_destroy(&d->keys[i], t->key.type);
    memmove(&d->keys[i], &d->keys[i + 1], (d->n - i - 1) * sizeof *d->keys);
    if (d->values) {
        ovsdb_atom_destroy(&d->values[i], t->value.type);
        memmove(&d->values[i], &d->values[i + 1],
                (d->n - i - 1) * sizeof *d->values);
    }
    d->n--;
}

struct sort_ctx {
    const struct ovsdb_datum *d;
    enum ovsdb_atype kt;
};

static int
cmp_index(const void *a_, const void *b_, void *ctx_)
{
    const struct sort_ctx *ctx = ctx_;
    unsigned int a = *(const unsigned int *) a_;
    unsigned int b = *(const unsigned int *) b_;
    int c = ovsdb_atom_compare(&ctx->d->keys[a], &ctx->d->keys[b], ctx->kt);

    return c ? c : (a < b ? -1 : a > b);
}

static bool
is_sorted(const struct ovsdb_datum *d, enum ovsdb_atype kt)
{
    unsigned int i;

    for (i = 1; i < d->n; i++) {
        if (ovsdb_atom_compare(&d->keys[i - 1], &d->keys[i], kt) >= 0) {
            return false;
        }
    }
    return true;
}

bool
ovsdb_datum_sort_unique(struct ovsdb_datum *d, const struct ovsdb_type *t)
{
    unsigned int *idx, i, out;
    union ovsdb_atom *k, *v = NULL;
    bool ok = true;

    if (d->n < 2 || is_sorted(d, t->key.type)) {
        return true;
    }
    idx = xmalloc(d->n * sizeof *idx);
    for (i = 0; i < d->n; i++) {
        idx[i] = i;
    }
    qsort_r(idx, d->n, sizeof *idx, cmp_index,
            &(struct sort_ctx) { d, t->key.type });
    k = xmalloc(d->n * sizeof *k);
    if (d->values) {
        v = xmalloc(d->n * sizeof *v);
    }
    for (i = out = 0; i < d->n; i++) {
        union ovsdb_atom *key = &d->keys[idx[i]];
        union ovsdb_atom *val = v ? &d->values[idx[i]] : NULL;

        if (out && !ovsdb_atom_compare(&k[out - 1], key, t->key.type)) {
            if (v && ovsdb_atom_compare(&v[out - 1], val, t->value.type)) {
                ok = false;
            }
            ovsdb_atom_destroy(key, t->key.type);
            if (v) {
                ovsdb_atom_destroy(val, t->value.type);
            }
            continue;
        }
        k[out] = *key;
        if (v) {
            v[out] = *val;
        }
        out++;
    }
    free(idx);
    free(d->keys);
    free(d->values);
    d->keys = k;
    d->values = v;
    d->n = out;
    return ok;
}

int
ovsdb_datum_find_key(const struct ovsdb_datum *d, const union ovsdb_atom *key,
                     enum ovsdb_atype kt)
{
    unsigned int lo = 0, hi = d->n;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        int c = ovsdb_atom_compare(key, &d->keys[mid], kt);

        if (!c) {
            return mid;
        } else if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return -1;
}

static struct ovsdb_error *
datum_parse(struct ovsdb_datum *d, const struct ovsdb_type *t, json_t *j,
            ovsdb_symbol_fn *symbol, void *aux, bool strict)
{
    bool is_map = ovsdb_type_is_map(t);
    struct ovsdb_error *e = NULL;
    json_t *elems;
    size_t i;

    ovsdb_datum_init_empty(d);
    if (is_map) {
        if (!json_is_array(j) || json_array_size(j) != 2
            || !json_is_string(json_array_get(j, 0))
            || strcmp(json_string_value(json_array_get(j, 0)), "map")
            || !json_is_array(json_array_get(j, 1))) {
            return type_mismatch(j, "map");
        }
        elems = json_array_get(j, 1);
    } else if (json_is_array(j) && json_array_size(j) == 2
               && json_is_string(json_array_get(j, 0))
               && !strcmp(json_string_value(json_array_get(j, 0)), "set")) {
        elems = json_array_get(j, 1);
        if (!json_is_array(elems)) {
            return type_mismatch(j, "set");
        }
    } else {
        union ovsdb_atom a;

        e = strict ? ovsdb_atom_from_json(&a, &t->key, j, symbol, aux)
                   : atom_parse(&a, t->key.type, j, symbol, aux);
        if (e) {
            return e;
        }
        ovsdb_datum_push(d, &a, NULL);
        goto check;
    }
    for (i = 0; i < json_array_size(elems); i++) {
        json_t *el = json_array_get(elems, i);
        union ovsdb_atom k, v;

        if (is_map) {
            if (!json_is_array(el) || json_array_size(el) != 2) {
                e = type_mismatch(el, "[key, value] pair");
                break;
            }
            e = strict ? ovsdb_atom_from_json(&k, &t->key,
                                              json_array_get(el, 0),
                                              symbol, aux)
                       : atom_parse(&k, t->key.type, json_array_get(el, 0),
                                    symbol, aux);
            if (e) {
                break;
            }
            e = strict ? ovsdb_atom_from_json(&v, &t->value,
                                              json_array_get(el, 1),
                                              symbol, aux)
                       : atom_parse(&v, t->value.type,
                                    json_array_get(el, 1), symbol, aux);
            if (e) {
                ovsdb_atom_destroy(&k, t->key.type);
                break;
            }
            ovsdb_datum_push(d, &k, &v);
        } else {
            e = strict ? ovsdb_atom_from_json(&k, &t->key, el, symbol, aux)
                       : atom_parse(&k, t->key.type, el, symbol, aux);
            if (e) {
                break;
            }
            ovsdb_datum_push(d, &k, NULL);
        }
    }
    if (e) {
        ovsdb_datum_destroy(d, t);
        return e;
    }
check:
    if (d->n > 1) {
        unsigned int n = d->n;

        if (!ovsdb_datum_sort_unique(d, t) || d->n != n) {
            ovsdb_datum_destroy(d, t);
            return ovsdb_error("constraint violation", is_map
                               ? "map contains duplicate key"
                               : "set contains duplicate value");
        }
    }
    if (strict && (e = ovsdb_datum_check_size(d, t))) {
        ovsdb_datum_destroy(d, t);
    }
    return e;
}

struct ovsdb_error *
ovsdb_datum_from_json(struct ovsdb_datum *d, const struct ovsdb_type *t,
                      json_t *j, ovsdb_symbol_fn *symbol, void *aux)
{
    return datum_parse(d, t, j, symbol, aux, true);
}

struct ovsdb_error *
ovsdb_datum_from_json_loose(struct ovsdb_datum *d, const struct ovsdb_type *t,
                            json_t *j, ovsdb_symbol_fn *symbol, void *aux)
{
    return datum_parse(d, t, j, symbol, aux, false);
}

json_t *
ovsdb_datum_to_json(const struct ovsdb_datum *d, const struct ovsdb_type *t)
{
    json_t *elems;
    unsigned int i;

    if (ovsdb_type_is_map(t)) {
        elems = json_array();
        for (i = 0; i < d->n; i++) {
            json_array_append_new(elems, json_pack(
                "[oo]", ovsdb_atom_to_json(&d->keys[i], t->key.type),
                ovsdb_atom_to_json(&d->values[i], t->value.type)));
        }
        return json_pack("[so]", "map", elems);
    }
    if (d->n == 1) {
        return ovsdb_atom_to_json(&d->keys[0], t->key.type);
    }
    elems = json_array();
    for (i = 0; i < d->n; i++) {
        json_array_append_new(elems, ovsdb_atom_to_json(&d->keys[i],
                                                        t->key.type));
    }
    return json_pack("[so]", "set", elems);
}

struct ovsdb_error *
ovsdb_datum_check_size(const struct ovsdb_datum *d,
                       const struct ovsdb_type *t)
{
    if (d->n < t->n_min || d->n > t->n_max) {
        if (t->n_max == OVSDB_UNLIMITED) {
            return ovsdb_error("constraint violation", "%u values when "
                               "type requires at least %u", d->n, t->n_min);
        }
        return ovsdb_error("constraint violation", "%u values when type "
                           "requires between %u and %u", d->n, t->n_min,
                           t->n_max);
    }
    return NULL;
}

bool
ovsdb_datum_includes_all(const struct ovsdb_datum *a,
                         const struct ovsdb_datum *b,
                         const struct ovsdb_type *t)
{
    unsigned int i;

    for (i = 0; i < a->n; i++) {
        int j = ovsdb_datum_find_key(b, &a->keys[i], t->key.type);

        if (j < 0 || (a->values && b->values
                      && ovsdb_atom_compare(&a->values[i], &b->values[j],
                                            t->value.type))) {
            return false;
        }
    }
    return true;
}

bool
ovsdb_datum_excludes_all(const struct ovsdb_datum *a,
                         const struct ovsdb_datum *b,
                         const struct ovsdb_type *t)
{
    unsigned int i;

    for (i = 0; i < a->n; i++) {
        int j = ovsdb_datum_find_key(b, &a->keys[i], t->key.type);

        if (j >= 0 && (!a->values || !b->values
                       || !ovsdb_atom_compare(&a->values[i], &b->values[j],
                                              t->value.type))) {
            return false;
        }
    }
    return true;
}

void
ovsdb_datum_union(struct ovsdb_datum *a, const struct ovsdb_datum *b,
                  const struct ovsdb_type *t)
{
    /* A merge of two sorted arrays: inserting one element into a big set
     * must not re-sort it. */
    bool is_map = ovsdb_type_is_map(t);
    unsigned int i = 0, j = 0, n = 0;
    union ovsdb_atom *k, *v = NULL;

    if (!b->n) {
        return;
    }
    k = xmalloc((a->n + b->n) * sizeof *k);
    if (is_map) {
        v = xmalloc((a->n + b->n) * sizeof *v);
    }
    while (i < a->n || j < b->n) {
        int c = i >= a->n ? 1 : j >= b->n ? -1
                : ovsdb_atom_compare(&a->keys[i], &b->keys[j], t->key.type);

        if (c <= 0) {
            k[n] = a->keys[i];
            if (is_map) {
                v[n] = a->values[i];
            }
            i++;
            j += c == 0;
        } else {
            ovsdb_atom_clone(&k[n], &b->keys[j], t->key.type);
            if (is_map) {
                ovsdb_atom_clone(&v[n], &b->values[j], t->value.type);
            }
            j++;
        }
        n++;
    }
    free(a->keys);
    free(a->values);
    a->keys = k;
    a->values = v;
    a->n = n;
}

void
ovsdb_datum_subtract(struct ovsdb_datum *a, const struct ovsdb_type *t,
                     const struct ovsdb_datum *b,
                     const struct ovsdb_type *b_type)
{
    unsigned int i;

    for (i = 0; i < b->n; i++) {
        int j = ovsdb_datum_find_key(a, &b->keys[i], t->key.type);

        if (j < 0) {
            continue;
        }
        if (ovsdb_type_is_map(t) && ovsdb_type_is_map(b_type)
            && ovsdb_atom_compare(&a->values[j], &b->values[i],
                                  t->value.type)) {
            continue;
        }
        ovsdb_datum_remove(a, j, t);
    }
}

void
ovsdb_datum_diff(struct ovsdb_datum *diff, const struct ovsdb_datum *old,
                 const struct ovsdb_datum *new, const struct ovsdb_type *t)
{
    bool is_map = ovsdb_type_is_map(t);
    unsigned int i = 0, j = 0;

    ovsdb_datum_init_empty(diff);
    if (ovsdb_type_is_scalar(t)) {
        ovsdb_datum_clone(diff, new, t);
        return;
    }
    /* Merge walk over two sorted datums. */
    while (i < old->n || j < new->n) {
        int c = i >= old->n ? 1 : j >= new->n ? -1
                : ovsdb_atom_compare(&old->keys[i], &new->keys[j],
                                     t->key.type);
        const struct ovsdb_datum *src;
        unsigned int k;
        union ovsdb_atom ka, va;

        if (c < 0) {
            src = old;
            k = i++;
        } else if (c > 0) {
            src = new;
            k = j++;
        } else {
            bool same = !is_map || !ovsdb_atom_compare(&old->values[i],
                                                       &new->values[j],
                                                       t->value.type);
            i++;
            k = j++;
            if (same) {
                continue;
            }
            src = new;
        }
        ovsdb_atom_clone(&ka, &src->keys[k], t->key.type);
        if (is_map) {
            ovsdb_atom_clone(&va, &src->values[k], t->value.type);
        }
        ovsdb_datum_push(diff, &ka, is_map ? &va : NULL);
    }
}

void
ovsdb_datum_apply_diff(struct ovsdb_datum *d, const struct ovsdb_datum *diff,
                       const struct ovsdb_type *t)
{
    bool is_map = ovsdb_type_is_map(t);
    unsigned int i, n_added = 0;

    if (ovsdb_type_is_scalar(t)) {
        ovsdb_datum_destroy(d, t);
        ovsdb_datum_clone(d, diff, t);
        return;
    }
    for (i = 0; i < diff->n; i++) {
        /* Appended keys are unsorted: search the sorted prefix only (the
         * diff's keys are unique, so they are never among them). */
        struct ovsdb_datum prefix = { d->n - n_added, d->keys, NULL };
        int j = ovsdb_datum_find_key(&prefix, &diff->keys[i], t->key.type);
        union ovsdb_atom k, v;

        if (j >= 0 && (!is_map || !ovsdb_atom_compare(&d->values[j],
                                                      &diff->values[i],
                                                      t->value.type))) {
            ovsdb_datum_remove(d, j, t);
            continue;
        }
        if (j >= 0) {
            ovsdb_atom_destroy(&d->values[j], t->value.type);
            ovsdb_atom_clone(&d->values[j], &diff->values[i], t->value.type);
            continue;
        }
        ovsdb_atom_clone(&k, &diff->keys[i], t->key.type);
        if (is_map) {
            ovsdb_atom_clone(&v, &diff->values[i], t->value.type);
        }
        ovsdb_datum_push(d, &k, is_map ? &v : NULL);
        n_added++;
    }
    if (n_added) {
        ovsdb_datum_sort_unique(d, t);
    }
}
