/* OVSDB types, atoms and datums (RFC 7047 section 5.1).
 *
 * A datum is a set or map kept sorted by key with no duplicate keys, so
 * equal values compare equal bytewise-by-atom and hash the same.  A datum
 * owns its arrays and the strings in them. */
#ifndef OVSDB_DATUM_H
#define OVSDB_DATUM_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "uuid.h"

struct ovsdb_error;

enum ovsdb_atype {
    OVSDB_T_VOID,               /* no value: the "value" of a set */
    OVSDB_T_INTEGER,
    OVSDB_T_REAL,
    OVSDB_T_BOOLEAN,
    OVSDB_T_STRING,
    OVSDB_T_UUID,
};

union ovsdb_atom {
    int64_t i;
    double r;
    bool b;
    char *s;
    struct uuid u;
};

struct ovsdb_datum {
    unsigned int n;
    union ovsdb_atom *keys;
    union ovsdb_atom *values;   /* NULL for sets */
};

struct ovsdb_table_schema;

struct ovsdb_base_type {
    enum ovsdb_atype type;
    struct ovsdb_datum *enum_;  /* allowed values (a set) or NULL */
    int64_t min_int, max_int;
    double min_real, max_real;
    size_t min_len, max_len;
    char *ref_table_name;       /* uuid only; NULL if not a reference */
    const struct ovsdb_table_schema *ref_table; /* resolved */
    bool ref_weak;
};

#define OVSDB_UNLIMITED UINT32_MAX

struct ovsdb_type {
    struct ovsdb_base_type key;
    struct ovsdb_base_type value;   /* type VOID: a set */
    unsigned int n_min, n_max;
};

/* Resolves named-uuid references while parsing transaction operands:
 * returns true and sets '*uuid' when 'name' is known. */
typedef bool ovsdb_symbol_fn(void *aux, const char *name, struct uuid *uuid);

const char *ovsdb_atype_name(enum ovsdb_atype);

/* Types. */
struct ovsdb_error *ovsdb_type_from_json(struct ovsdb_type *, json_t *);
void ovsdb_type_destroy(struct ovsdb_type *);
bool ovsdb_type_is_map(const struct ovsdb_type *);
bool ovsdb_type_is_scalar(const struct ovsdb_type *);
bool ovsdb_type_is_optional_scalar(const struct ovsdb_type *);
bool ovsdb_type_has_strong_refs(const struct ovsdb_type *);
bool ovsdb_type_has_weak_refs(const struct ovsdb_type *);

/* Atoms. */
int ovsdb_atom_compare(const union ovsdb_atom *, const union ovsdb_atom *,
                       enum ovsdb_atype);
void ovsdb_atom_clone(union ovsdb_atom *dst, const union ovsdb_atom *,
                      enum ovsdb_atype);
void ovsdb_atom_destroy(union ovsdb_atom *, enum ovsdb_atype);
uint32_t ovsdb_atom_hash(const union ovsdb_atom *, enum ovsdb_atype,
                         uint32_t basis);
json_t *ovsdb_atom_to_json(const union ovsdb_atom *, enum ovsdb_atype);
struct ovsdb_error *ovsdb_atom_from_json(union ovsdb_atom *,
                                         const struct ovsdb_base_type *,
                                         json_t *, ovsdb_symbol_fn *,
                                         void *aux);
struct ovsdb_error *ovsdb_atom_check(const union ovsdb_atom *,
                                     const struct ovsdb_base_type *);

/* Datums. */
void ovsdb_datum_init_empty(struct ovsdb_datum *);
void ovsdb_datum_init_default(struct ovsdb_datum *,
                              const struct ovsdb_type *);
bool ovsdb_datum_is_default(const struct ovsdb_datum *,
                            const struct ovsdb_type *);
void ovsdb_datum_destroy(struct ovsdb_datum *, const struct ovsdb_type *);
void ovsdb_datum_clone(struct ovsdb_datum *dst, const struct ovsdb_datum *,
                       const struct ovsdb_type *);
bool ovsdb_datum_equals(const struct ovsdb_datum *,
                        const struct ovsdb_datum *,
                        const struct ovsdb_type *);
int ovsdb_datum_compare(const struct ovsdb_datum *,
                        const struct ovsdb_datum *,
                        const struct ovsdb_type *);
uint32_t ovsdb_datum_hash(const struct ovsdb_datum *,
                          const struct ovsdb_type *, uint32_t basis);
/* Parses a datum and checks atom constraints (not n_min/n_max: a caller
 * that needs those calls ovsdb_datum_check_size()). */
struct ovsdb_error *ovsdb_datum_from_json(struct ovsdb_datum *,
                                          const struct ovsdb_type *,
                                          json_t *, ovsdb_symbol_fn *,
                                          void *aux);
/* Parses without n_min/n_max or enum checks, keys and values of any
 * length: the operand of "includes"/"excludes" and of mutations. */
struct ovsdb_error *ovsdb_datum_from_json_loose(struct ovsdb_datum *,
                                                const struct ovsdb_type *,
                                                json_t *,
                                                ovsdb_symbol_fn *,
                                                void *aux);
json_t *ovsdb_datum_to_json(const struct ovsdb_datum *,
                            const struct ovsdb_type *);
struct ovsdb_error *ovsdb_datum_check_size(const struct ovsdb_datum *,
                                           const struct ovsdb_type *);
/* Sorts and removes duplicates; returns false if a map has a duplicate
 * key with different values (the datum is then left sorted). */
bool ovsdb_datum_sort_unique(struct ovsdb_datum *, const struct ovsdb_type *);
/* Index of 'key' in 'd' or -1. */
int ovsdb_datum_find_key(const struct ovsdb_datum *, const union ovsdb_atom *,
                         enum ovsdb_atype);
/* Is every element of 'a' in 'b' (for maps: with equal value)? */
bool ovsdb_datum_includes_all(const struct ovsdb_datum *a,
                              const struct ovsdb_datum *b,
                              const struct ovsdb_type *);
bool ovsdb_datum_excludes_all(const struct ovsdb_datum *a,
                              const struct ovsdb_datum *b,
                              const struct ovsdb_type *);
/* 'a' += 'b' (set union; for maps, keys of 'b' already in 'a' are kept
 * as in 'a'). */
void ovsdb_datum_union(struct ovsdb_datum *a, const struct ovsdb_datum *b,
                       const struct ovsdb_type *);
/* 'a' -= 'b' (for maps, 'b' may be a set of keys or a map: a pair is
 * removed only if the value matches too). */
void ovsdb_datum_subtract(struct ovsdb_datum *a, const struct ovsdb_type *,
                          const struct ovsdb_datum *b,
                          const struct ovsdb_type *b_type);
/* The update2 "diff" from 'old' to 'new'. */
void ovsdb_datum_diff(struct ovsdb_datum *diff, const struct ovsdb_datum *old,
                      const struct ovsdb_datum *new,
                      const struct ovsdb_type *);
/* Applies an update2-style 'diff' (see ovsdb_datum_diff()) to 'd'. */
void ovsdb_datum_apply_diff(struct ovsdb_datum *d,
                            const struct ovsdb_datum *diff,
                            const struct ovsdb_type *);
/* Appends a key (and value) without sorting. */
void ovsdb_datum_push(struct ovsdb_datum *, const union ovsdb_atom *key,
                      const union ovsdb_atom *value);
/* Removes element 'i' (destroying its atoms). */
void ovsdb_datum_remove(struct ovsdb_datum *, unsigned int i,
                        const struct ovsdb_type *);

#endif /* OVSDB_DATUM_H */
