/* RFC 4122 UUIDs as OVSDB uses them: random (version 4) row ids, the
 * 36-character text form on the wire. */
#ifndef OVSDB_UUID_H
#define OVSDB_UUID_H 1

#include <stdbool.h>
#include <stdint.h>

struct uuid {
    uint32_t w[4];              /* w[0] holds the first 8 hex digits */
};

#define UUID_LEN 36

void uuid_generate(struct uuid *);
void uuid_zero(struct uuid *);
bool uuid_is_zero(const struct uuid *);
bool uuid_equals(const struct uuid *, const struct uuid *);
int uuid_compare(const struct uuid *, const struct uuid *);
uint32_t uuid_hash(const struct uuid *);
/* Parses exactly 36 characters "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
bool uuid_from_string(struct uuid *, const char *);
/* Writes UUID_LEN + 1 bytes to 'buf'. */
void uuid_to_string(const struct uuid *, char buf[UUID_LEN + 1]);

#endif /* OVSDB_UUID_H */
