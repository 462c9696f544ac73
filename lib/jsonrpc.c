/* JSON-RPC 1.0 framing over stream sockets; see jsonrpc.h. */
#include "jsonrpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(jsonrpc);

/* ---- Stream splitter ---------------------------------------------------
 *
 * JSON-RPC over a stream has no length prefix, so the end of a message is
 * found by scanning: outside strings, count brackets; inside strings, skip
 * escaped characters.  The scan resumes where it stopped, so a message
 * that arrives in many pieces is scanned once.  When the brackets balance,
 * jansson parses exactly that slice and reports any syntax error. */
struct jsonrpc_parser {
    char *buf;
    size_t len, cap;
    size_t start;               /* first byte of the current value */
    size_t scan;                /* bytes before this have been scanned */
    size_t max_msg;
    int depth;
    bool in_value, in_string, escape;
    int error;                  /* sticky negative errno, or 0 */
    char errmsg[192];
};

struct jsonrpc_parser *
jsonrpc_parser_create(size_t max_msg)
{
    struct jsonrpc_parser *p = calloc(1, sizeof *p);

    if (p) {
        p->max_msg = max_msg ? max_msg : JSONRPC_DEFAULT_MAX_MSG;
    }
    return p;
}

void
jsonrpc_parser_destroy(struct jsonrpc_parser *p)
{
    if (p) {
        free(p->buf);
        free(p);
    }
}

size_t
jsonrpc_parser_buffered(const struct jsonrpc_parser *p)
{
    return p->len - p->start;
}

int
jsonrpc_parser_feed(struct jsonrpc_parser *p, const void *data, size_t n)
{
    if (p->start) {
        /* Drop consumed bytes; the partial value (if any) moves once,
         * because 'start' stays put until that value is complete. */
        memmove(p->buf, p->buf + p->start, p->len - p->start);
        p->len -= p->start;
        p->scan -= p->start;
        p->start = 0;
    }
    if (n > p->cap - p->len) {
        size_t cap = p->cap ? p->cap : 4096;
        char *buf;

        while (cap - p->len < n) {
            if (cap > SIZE_MAX / 2) {
                return -ENOMEM;
            }
            cap *= 2;
        }
        buf = realloc(p->buf, cap);
        if (!buf) {
            return -ENOMEM;
        }
        p->buf = buf;
        p->cap = cap;
    }
    if (n) {
        memcpy(p->buf + p->len, data, n);
        p->len += n;
    }
    return 0;
}

static int
parser_fail(struct jsonrpc_parser *p, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
parser_fail(struct jsonrpc_parser *p, int error, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf(p->errmsg, sizeof p->errmsg, fmt, args);
    va_end(args);
    p->error = error;
    return error;
}

/* Parses the balanced slice [start, end). */
static int
parser_take(struct jsonrpc_parser *p, size_t end, json_t **valuep)
{
    json_error_t jerr;
    json_t *v = json_loadb(p->buf + p->start, end - p->start, 0, &jerr);

    if (!v) {
        return parser_fail(p, -EPROTO, "invalid JSON at line %d column "
                           "%d: %s", jerr.line, jerr.column, jerr.text);
    }
    p->start = p->scan = end;
    p->in_value = false;
    *valuep = v;
    return 1;
}

int
jsonrpc_parser_next(struct jsonrpc_parser *p, json_t **valuep,
                    const char **errp)
{
    *valuep = NULL;
    while (!p->error && p->scan < p->len) {
        unsigned char c = p->buf[p->scan];

        /* Checked byte by byte so that the outcome does not depend on how
         * the stream was chunked. */
        if (p->in_value && p->scan - p->start >= p->max_msg) {
            parser_fail(p, -EMSGSIZE, "message longer than %zu bytes",
                        p->max_msg);
            break;
        }
        if (!p->in_value) {
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                p->start = ++p->scan;
                continue;
            }
            if (c != '{' && c != '[') {
                parser_fail(p, -EPROTO, "byte 0x%02x where a JSON object "
                            "or array must start", c);
                break;
            }
            p->in_value = true;
            p->in_string = p->escape = false;
            p->depth = 1;
        } else if (p->in_string) {
            if (p->escape) {
                p->escape = false;
            } else if (c == '\\') {
                p->escape = true;
            } else if (c == '"') {
                p->in_string = false;
            }
        } else if (c == '"') {
            p->in_string = true;
        } else if (c == '{' || c == '[') {
            if (++p->depth > JSONRPC_MAX_NESTING) {
                parser_fail(p, -EPROTO, "JSON nested deeper than %d",
                            JSONRPC_MAX_NESTING);
                break;
            }
        } else if (c == '}' || c == ']') {
            if (--p->depth == 0) {
                p->scan++;
                if (parser_take(p, p->scan, valuep) > 0) {
                    return 1;
                }
                break;
            }
        }
        p->scan++;
    }
    if (p->error && errp) {
        *errp = p->errmsg;
    }
    return p->error;
}

/* ---- Connection -------------------------------------------------------- */

struct jsonrpc {
    int fd;
    char *name;
    bool connecting;
    int error;                  /* sticky negative errno, or 0 */
    struct jsonrpc_parser *parser;
    char *out;                  /* queued output: [out_ofs, out_len) */
    size_t out_ofs, out_len, out_cap;
};

/* Splits "HOST:PORT" where HOST may be "[IPv6]". */
static int
parse_inet(const char *s, struct sockaddr_storage *ss, socklen_t *lenp)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon;
    char *end;
    unsigned long port;
    size_t hlen;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close || close[1] != ':') {
            return -EINVAL;
        }
        hlen = close - s - 1;
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            return -EINVAL;
        }
        hlen = colon - s;
    }
    if (hlen == 0 || hlen >= sizeof host) {
        return -EINVAL;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port == 0 || port > 65535) {
        return -EINVAL;
    }

    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *lenp = sizeof *sin;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *lenp = sizeof *sin6;
    } else {
        return -EINVAL;
    }
    return 0;
}

int
jsonrpc_connect(const char *remote, bool *in_progress)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, error;

    *in_progress = false;
    if (!strncmp(remote, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *) &ss;
        size_t plen = strlen(remote + 5);

        if (plen == 0) {
            return -EINVAL;
        }
        if (plen >= sizeof sun->sun_path) {
            return -ENAMETOOLONG;
        }
        memset(sun, 0, sizeof *sun);
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, remote + 5, plen);
        len = offsetof(struct sockaddr_un, sun_path) + plen + 1;
    } else if (!strncmp(remote, "tcp:", 4)) {
        error = parse_inet(remote + 4, &ss, &len);
        if (error) {
            return error;
        }
    } else {
        return strchr(remote, ':') ? -EAFNOSUPPORT : -EINVAL;
    }

    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *) &ss, len) < 0) {
        if (errno != EINPROGRESS) {
            error = -errno;
            close(fd);
            return error;
        }
        *in_progress = true;
    }
    return fd;
}

struct jsonrpc *
jsonrpc_create(int fd, const char *name, bool connecting)
{
    struct jsonrpc *rpc = calloc(1, sizeof *rpc);
    int flags;

    if (!rpc) {
        close(fd);
        return NULL;
    }
    rpc->fd = fd;
    rpc->name = strdup(name ? name : "jsonrpc");
    rpc->parser = jsonrpc_parser_create(0);
    rpc->connecting = connecting;
    if (!rpc->name || !rpc->parser) {
        jsonrpc_destroy(rpc);
        return NULL;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        rpc->error = -errno;
    }
    return rpc;
}

struct jsonrpc *
jsonrpc_open(const char *remote, int *errorp)
{
    bool in_progress;
    int fd = jsonrpc_connect(remote, &in_progress);
    struct jsonrpc *rpc;

    if (fd < 0) {
        *errorp = fd;
        return NULL;
    }
    rpc = jsonrpc_create(fd, remote, in_progress);
    *errorp = rpc ? 0 : -ENOMEM;
    return rpc;
}

void
jsonrpc_destroy(struct jsonrpc *rpc)
{
    if (rpc) {
        close(rpc->fd);
        jsonrpc_parser_destroy(rpc->parser);
        free(rpc->out);
        free(rpc->name);
        free(rpc);
    }
}

int
jsonrpc_fd(const struct jsonrpc *rpc)
{
    return rpc->fd;
}

const char *
jsonrpc_name(const struct jsonrpc *rpc)
{
    return rpc->name;
}

size_t
jsonrpc_backlog(const struct jsonrpc *rpc)
{
    return rpc->out_len - rpc->out_ofs;
}

int
jsonrpc_error(const struct jsonrpc *rpc)
{
    return rpc->error;
}

void
jsonrpc_set_max_msg(struct jsonrpc *rpc, size_t max_msg)
{
    rpc->parser->max_msg = max_msg ? max_msg : JSONRPC_DEFAULT_MAX_MSG;
}

short
jsonrpc_poll_events(const struct jsonrpc *rpc)
{
    return POLLIN | (rpc->connecting || jsonrpc_backlog(rpc) ? POLLOUT : 0);
}

static void
set_error(struct jsonrpc *rpc, int error)
{
    if (!rpc->error) {
        rpc->error = error;
        if (error == -EPIPE) {
            LOG_DBG("%s: connection closed by peer", rpc->name);
        } else {
            LOG_DBG("%s: connection failed (%s)", rpc->name,
                    strerror(-error));
        }
    }
}

static void
check_connect(struct jsonrpc *rpc)
{
    struct pollfd pfd = { .fd = rpc->fd, .events = POLLOUT };
    int err = 0;
    socklen_t len = sizeof err;

    if (poll(&pfd, 1, 0) <= 0) {
        return;
    }
    if (getsockopt(rpc->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    rpc->connecting = false;
    if (err) {
        set_error(rpc, -err);
    }
}

static void
flush_output(struct jsonrpc *rpc)
{
    while (!rpc->error && rpc->out_ofs < rpc->out_len) {
        ssize_t n = send(rpc->fd, rpc->out + rpc->out_ofs,
                         rpc->out_len - rpc->out_ofs,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                set_error(rpc, -errno);
            }
            break;
        }
        rpc->out_ofs += n;
    }
    if (rpc->out_ofs == rpc->out_len) {
        rpc->out_ofs = rpc->out_len = 0;
    }
}

int
jsonrpc_run(struct jsonrpc *rpc)
{
    if (!rpc->error && rpc->connecting) {
        check_connect(rpc);
    }
    if (!rpc->error && !rpc->connecting) {
        flush_output(rpc);
    }
    return rpc->error;
}

static int
queue_output(struct jsonrpc *rpc, const char *s, size_t n)
{
    if (rpc->out_ofs && rpc->out_ofs >= rpc->out_cap / 2) {
        memmove(rpc->out, rpc->out + rpc->out_ofs,
                rpc->out_len - rpc->out_ofs);
        rpc->out_len -= rpc->out_ofs;
        rpc->out_ofs = 0;
    }
    if (n > rpc->out_cap - rpc->out_len) {
        size_t cap = rpc->out_cap ? rpc->out_cap : 4096;
        char *out;

        while (cap - rpc->out_len < n) {
            cap *= 2;
        }
        out = realloc(rpc->out, cap);
        if (!out) {
            return -ENOMEM;
        }
        rpc->out = out;
        rpc->out_cap = cap;
    }
    memcpy(rpc->out + rpc->out_len, s, n);
    rpc->out_len += n;
    return 0;
}

int
jsonrpc_send(struct jsonrpc *rpc, json_t *msg)
{
    char *s;
    int error;

    if (rpc->error) {
        json_decref(msg);
        return rpc->error;
    }
    s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!s) {
        return -EINVAL;
    }
    LOG_DBG("%s: send %s", rpc->name, s);
    error = queue_output(rpc, s, strlen(s));
    free(s);
    if (error) {
        set_error(rpc, error);
        return error;
    }
    return jsonrpc_run(rpc);
}

int
jsonrpc_recv(struct jsonrpc *rpc, json_t **msgp)
{
    /* Bounds the work of one call, so that a peer that streams without
     * pause cannot hold the caller's loop forever. */
    enum { MAX_READS = 64 };
    char buf[65536];
    const char *why;
    int i, r;

    *msgp = NULL;
    if (rpc->error) {
        return rpc->error;
    }
    for (i = 0; ; i++) {
        r = jsonrpc_parser_next(rpc->parser, msgp, &why);
        if (r > 0) {
            if (log_module_.level >= LOG_L_DBG) {
                char *s = json_dumps(*msgp, JSON_COMPACT);
                LOG_DBG("%s: received %s", rpc->name, s ? s : "?");
                free(s);
            }
            return 1;
        } else if (r < 0) {
            LOG_WARN("%s: received bad JSON-RPC stream: %s", rpc->name,
                     why);
            set_error(rpc, r);
            return r;
        }
        if (rpc->connecting || i == MAX_READS) {
            return 0;
        }

        ssize_t n = recv(rpc->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return 0;
            }
            set_error(rpc, -errno);
            return rpc->error;
        } else if (n == 0) {
            set_error(rpc, -EPIPE);
            return rpc->error;
        }
        r = jsonrpc_parser_feed(rpc->parser, buf, n);
        if (r) {
            set_error(rpc, r);
            return r;
        }
    }
}

/* ---- Messages ---------------------------------------------------------- */

enum jsonrpc_msg_type
jsonrpc_msg_parse(json_t *msg, struct jsonrpc_msg_view *v)
{
    json_t *method, *result, *error, *id;

    memset(v, 0, sizeof *v);
    v->type = JSONRPC_MSG_INVALID;
    if (!json_is_object(msg)) {
        return v->type;
    }
    method = json_object_get(msg, "method");
    result = json_object_get(msg, "result");
    error = json_object_get(msg, "error");
    id = json_object_get(msg, "id");
    if (method) {
        json_t *params = json_object_get(msg, "params");

        if (!json_is_string(method) || !json_is_array(params)
            || result || error) {
            return v->type;
        }
        v->method = json_string_value(method);
        v->params = params;
        v->id = id ? id : json_null();
        v->type = json_is_null(v->id) ? JSONRPC_MSG_NOTIFY
                                      : JSONRPC_MSG_REQUEST;
    } else if (id && (result || error)) {
        v->id = id;
        if (error && !json_is_null(error)) {
            v->error = error;
            v->type = JSONRPC_MSG_ERROR;
        } else if (result && !json_is_null(id)) {
            v->result = result;
            v->type = JSONRPC_MSG_REPLY;
        }
    }
    return v->type;
}

const char *
jsonrpc_msg_type_name(enum jsonrpc_msg_type type)
{
    switch (type) {
    case JSONRPC_MSG_REQUEST: return "request";
    case JSONRPC_MSG_NOTIFY: return "notification";
    case JSONRPC_MSG_REPLY: return "reply";
    case JSONRPC_MSG_ERROR: return "error";
    case JSONRPC_MSG_INVALID: break;
    }
    return "invalid";
}

json_t *
jsonrpc_msg_request(const char *method, json_t *params, json_t *id)
{
    return json_pack("{s:s, s:o, s:o}", "method", method,
                     "params", params ? params : json_array(),
                     "id", id ? id : json_null());
}

json_t *
jsonrpc_msg_notify(const char *method, json_t *params)
{
    return jsonrpc_msg_request(method, params, json_null());
}

json_t *
jsonrpc_msg_reply(json_t *result, json_t *id)
{
    return json_pack("{s:o, s:n, s:o}", "result",
                     result ? result : json_null(), "error",
                     "id", id ? id : json_null());
}

json_t *
jsonrpc_msg_error(json_t *error, json_t *id)
{
    return json_pack("{s:n, s:o, s:o}", "result", "error",
                     error ? error : json_string("error"),
                     "id", id ? id : json_null());
}
