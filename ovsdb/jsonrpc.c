/* JSON-RPC framing. */
#include "jsonrpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct jsonrpc_conn *
jsonrpc_conn_create(int fd, const char *name)
{
    struct jsonrpc_conn *c = calloc(1, sizeof *c);

    if (!c) {
        abort();
    }
    c->fd = fd;
    c->name = strdup(name ? name : "?");
    return c;
}

void
jsonrpc_conn_free(struct jsonrpc_conn *c)
{
    if (c) {
        if (c->fd >= 0) {
            close(c->fd);
        }
        free(c->name);
        free(c->in);
        free(c->out);
        free(c);
    }
}

static void
reserve(char **buf, size_t *cap, size_t need)
{
    if (need > *cap) {
        size_t n = *cap ? *cap : 4096;

        while (n < need) {
            n *= 2;
        }
        *buf = realloc(*buf, n);
        if (!*buf) {
            abort();
        }
        *cap = n;
    }
}

void
jsonrpc_conn_feed(struct jsonrpc_conn *c, const void *data, size_t n)
{
    reserve(&c->in, &c->in_cap, c->in_len + n);
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
}

bool
jsonrpc_conn_read(struct jsonrpc_conn *c)
{
    for (;;) {
        ssize_t r;

        reserve(&c->in, &c->in_cap, c->in_len + 65536);
        r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (r > 0) {
            c->in_len += r;
            if ((size_t) r < c->in_cap - c->in_len) {
                return true;
            }
        } else if (r == 0) {
            c->eof = true;
            return false;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else {
            c->eof = true;
            return false;
        }
    }
}

static void
consume(struct jsonrpc_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->scan = 0;
    if (!c->in_len && c->in_cap > (1u << 20)) {
        /* Give back the memory of one huge message. */
        free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
}

enum jsonrpc_status
jsonrpc_conn_next(struct jsonrpc_conn *c, json_t **msg, char **error)
{
    size_t i;

    *msg = NULL;
    *error = NULL;
    /* Skip whitespace between messages. */
    if (!c->depth) {
        size_t k = 0;

        while (k < c->in_len && strchr(" \t\r\n", c->in[k]) && c->in[k]) {
            k++;
        }
        if (k) {
            consume(c, k);
        }
        if (!c->in_len) {
            return JSONRPC_NONE;
        }
        if (c->in[0] != '{' && c->in[0] != '[') {
            c->eof = true;
            if (asprintf(error, "syntax error at top level: unexpected "
                         "character 0x%02x", (unsigned char) c->in[0]) < 0) {
                *error = NULL;
            }
            return JSONRPC_FATAL;
        }
    }
    for (i = c->scan; i < c->in_len; i++) {
        char ch = c->in[i];

        if (c->in_string) {
            if (c->escape) {
                c->escape = false;
            } else if (ch == '\\') {
                c->escape = true;
            } else if (ch == '"') {
                c->in_string = false;
            }
            continue;
        }
        if (ch == '"') {
            c->in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (c->depth >= JSONRPC_MAX_DEPTH) {
                c->eof = true;
                *error = strdup("message nested too deeply");
                return JSONRPC_FATAL;
            }
            c->stack[c->depth++] = ch;
        } else if (ch == '}' || ch == ']') {
            if (c->stack[c->depth - 1] != (ch == '}' ? '{' : '[')) {
                /* The end of this message cannot be found any more. */
                c->eof = true;
                if (asprintf(error, "syntax error: unexpected '%c'",
                             ch) < 0) {
                    *error = NULL;
                }
                return JSONRPC_FATAL;
            }
            if (--c->depth == 0) {
                json_error_t jerr;
                size_t len = i + 1;
                json_t *j = json_loadb(c->in, len, 0, &jerr);

                consume(c, len);
                if (!j) {
                    if (asprintf(error, "%s at offset %d", jerr.text,
                                 jerr.position) < 0) {
                        *error = NULL;
                    }
                    return JSONRPC_BAD;
                }
                if (!json_is_object(j)) {
                    json_decref(j);
                    *error = strdup("message is not a JSON object");
                    return JSONRPC_BAD;
                }
                *msg = j;
                return JSONRPC_MSG;
            }
        }
    }
    c->scan = i;
    if (c->in_len > JSONRPC_MAX_MSG) {
        c->eof = true;
        *error = strdup("message too long");
        return JSONRPC_FATAL;
    }
    return JSONRPC_NONE;
}

bool
jsonrpc_conn_flush(struct jsonrpc_conn *c)
{
    while (c->out_ofs < c->out_len) {
        ssize_t r = write(c->fd, c->out + c->out_ofs,
                          c->out_len - c->out_ofs);

        if (r > 0) {
            c->out_ofs += r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            c->eof = true;
            return false;
        }
    }
    if (c->out_ofs == c->out_len) {
        c->out_ofs = c->out_len = 0;
    } else if (c->out_ofs > (1u << 20)) {
        memmove(c->out, c->out + c->out_ofs, c->out_len - c->out_ofs);
        c->out_len -= c->out_ofs;
        c->out_ofs = 0;
    }
    return true;
}

void
jsonrpc_conn_send(struct jsonrpc_conn *c, json_t *msg)
{
    size_t n = json_dumpb(msg, NULL, 0, JSON_COMPACT);

    if (n) {
        reserve(&c->out, &c->out_cap, c->out_len + n);
        json_dumpb(msg, c->out + c->out_len, n, JSON_COMPACT);
        c->out_len += n;
    }
    json_decref(msg);
    if (c->fd >= 0 && !c->eof && !c->corked) {
        jsonrpc_conn_flush(c);
    }
}

void
jsonrpc_conn_send_text(struct jsonrpc_conn *c, const char *text, size_t n)
{
    reserve(&c->out, &c->out_cap, c->out_len + n);
    memcpy(c->out + c->out_len, text, n);
    c->out_len += n;
    if (c->fd >= 0 && !c->eof && !c->corked) {
        jsonrpc_conn_flush(c);
    }
}

size_t
jsonrpc_conn_backlog(const struct jsonrpc_conn *c)
{
    return c->out_len - c->out_ofs;
}

json_t *
jsonrpc_reply(json_t *result, json_t *id)
{
    json_t *m = json_object();

    json_object_set_new(m, "id", id ? id : json_null());
    json_object_set_new(m, "result", result ? result : json_null());
    json_object_set_new(m, "error", json_null());
    return m;
}

json_t *
jsonrpc_error_reply(json_t *error, json_t *id)
{
    json_t *m = json_object();

    json_object_set_new(m, "id", id ? id : json_null());
    json_object_set_new(m, "result", json_null());
    json_object_set_new(m, "error", error);
    return m;
}

json_t *
jsonrpc_notify(const char *method, json_t *params)
{
    json_t *m = json_object();

    json_object_set_new(m, "id", json_null());
    json_object_set_new(m, "method", json_string(method));
    json_object_set_new(m, "params", params);
    return m;
}

json_t *
jsonrpc_request(const char *method, json_t *params, json_t *id)
{
    json_t *m = jsonrpc_notify(method, params);

    json_object_set_new(m, "id", id);
    return m;
}

const char *
jsonrpc_msg_check(json_t *msg)
{
    json_t *method = json_object_get(msg, "method");
    json_t *params = json_object_get(msg, "params");

    if (!json_object_get(msg, "id")) {
        return "message lacks \"id\"";
    }
    if (method) {
        if (!json_is_string(method)) {
            return "\"method\" is not a string";
        }
        if (!json_is_array(params)) {
            return "\"params\" is missing or not an array";
        }
        return NULL;
    }
    if (!json_object_get(msg, "result") && !json_object_get(msg, "error")) {
        return "message is neither a request nor a reply";
    }
    return NULL;
}
