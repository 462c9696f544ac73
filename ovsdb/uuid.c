/* UUID generation and text conversion. */
#include "uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* A buffered pool of random bytes: getrandom() per row would dominate the
 * cost of small inserts. */
static uint8_t pool[4096];
static size_t pool_left;

void
uuid_generate(struct uuid *u)
{
    if (pool_left < sizeof *u) {
        size_t got = 0;

        while (got < sizeof pool) {
            ssize_t r = getrandom(pool + got, sizeof pool - got, 0);

            if (r <= 0) {
                abort();
            }
            got += r;
        }
        pool_left = sizeof pool;
    }
    pool_left -= sizeof *u;
    memcpy(u, pool + pool_left, sizeof *u);
    /* Version 4, variant 10xx. */
    u->w[1] = (u->w[1] & 0xffff0fffu) | 0x00004000u;
    u->w[2] = (u->w[2] & 0x3fffffffu) | 0x80000000u;
}

void
uuid_zero(struct uuid *u)
{
    memset(u, 0, sizeof *u);
}

bool
uuid_is_zero(const struct uuid *u)
{
    return !(u->w[0] | u->w[1] | u->w[2] | u->w[3]);
}

bool
uuid_equals(const struct uuid *a, const struct uuid *b)
{
    return !memcmp(a, b, sizeof *a);
}

int
uuid_compare(const struct uuid *a, const struct uuid *b)
{
    int i;

    for (i = 0; i < 4; i++) {
        if (a->w[i] != b->w[i]) {
            return a->w[i] < b->w[i] ? -1 : 1;
        }
    }
    return 0;
}

uint32_t
uuid_hash(const struct uuid *u)
{
    /* The words are random already. */
    return u->w[0];
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool
uuid_from_string(struct uuid *u, const char *s)
{
    static const int dash[] = { 8, 13, 18, 23 };
    uint32_t w[4] = { 0, 0, 0, 0 };
    int i, d = 0, nibble = 0;

    if (strlen(s) != UUID_LEN) {
        return false;
    }
    for (i = 0; i < UUID_LEN; i++) {
        int v;

        if (d < 4 && i == dash[d]) {
            if (s[i] != '-') {
                return false;
            }
            d++;
            continue;
        }
        v = hexval(s[i]);
        if (v < 0) {
            return false;
        }
        w[nibble / 8] = (w[nibble / 8] << 4) | v;
        nibble++;
    }
    memcpy(u->w, w, sizeof w);
    return true;
}

void
uuid_to_string(const struct uuid *u, char buf[UUID_LEN + 1])
{
    /* By hand: printf() showed up in profiles of big sets of refs. */
    static const char hex[] = "0123456789abcdef";
    int i, pos = 0;

    for (i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20) {
            buf[pos++] = '-';
        }
        buf[pos++] = hex[(u->w[i / 8] >> (28 - 4 * (i % 8))) & 0xf];
    }
    buf[pos] = 0;
}
