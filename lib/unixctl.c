/* unixctl server: JSON-RPC 1.0 requests from ovs-appctl over a unix
 * stream socket, dispatched to registered commands. */
#include "unixctl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(unixctl);

#ifndef HVS_VERSION
#define HVS_VERSION "unknown"
#endif

/* Connections beyond this are accepted and closed at once, so that a
 * misbehaving client cannot use up the daemon's descriptors. */
#define MAX_CONNS 64
#define READ_CHUNK 65536

struct command {
    struct command *next;
    char *name;
    char *usage;
    int min_args, max_args;
    unixctl_cb_fn *cb;
    void *aux;
};

/* Process-wide, like the daemon's command set. */
static struct command *commands;

struct unixctl_conn {
    struct unixctl_conn *next;
    struct unixctl_server *server;
    int fd;
    char *in; /* received, not yet dispatched */
    size_t in_len, in_cap;
    char *out; /* replies not yet written */
    size_t out_len, out_cap;
    json_t *pending_id; /* request awaiting its reply, or NULL */
    uint32_t events;    /* current epoll interest */
    bool registered;    /* 'fd' is in the server's epoll set */
    bool eof;           /* peer will send nothing more */
    bool dead;          /* unusable: close once nothing pending */
    bool in_dispatch;   /* inside a command callback */
};

struct unixctl_server {
    int listen_fd;
    int epoll_fd;
    int kick_fd; /* eventfd: deferred work after a reply */
    char *path;
    struct unixctl_conn *conns;
    int n_conns;
};

/* --- Commands. --- */

static struct command *
find_command(const char *name)
{
    for (struct command *c = commands; c; c = c->next) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

void
unixctl_command_register(const char *name, const char *usage, int min_args,
                         int max_args, unixctl_cb_fn *cb, void *aux)
{
    struct command *c = find_command(name);
    char *usage_copy = strdup(usage ? usage : "");

    if (!usage_copy) {
        LOG_ERR("out of memory registering %s", name);
        return;
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || !(c->name = strdup(name))) {
            free(c);
            free(usage_copy);
            LOG_ERR("out of memory registering %s", name);
            return;
        }
        c->next = commands;
        commands = c;
    }
    free(c->usage);
    c->usage = usage_copy;
    c->min_args = min_args;
    c->max_args = max_args;
    c->cb = cb;
    c->aux = aux;
}

static int
compare_commands(const void *a_, const void *b_)
{
    const struct command *const *a = a_;
    const struct command *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

static void
cmd_list_commands(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *aux)
{
    size_t n = 0, len = 0;
    char *text = NULL;

    (void)argc;
    (void)argv;
    (void)aux;
    for (struct command *c = commands; c; c = c->next) {
        n++;
    }
    struct command **sorted = calloc(n, sizeof *sorted);
    FILE *f = open_memstream(&text, &len);
    if (!sorted || !f) {
        if (f) {
            fclose(f);
        }
        free(text);
        free(sorted);
        unixctl_reply_error(conn, "out of memory");
        return;
    }
    n = 0;
    for (struct command *c = commands; c; c = c->next) {
        sorted[n++] = c;
    }
    qsort(sorted, n, sizeof *sorted, compare_commands);
    /* The layout ovs-appctl users know from Open vSwitch daemons. */
    fputs("The available commands are:\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  %-23s %s\n", sorted[i]->name, sorted[i]->usage);
    }
    free(sorted);
    if (fclose(f)) {
        free(text);
        unixctl_reply_error(conn, "out of memory");
        return;
    }
    unixctl_reply(conn, text);
    free(text);
}

static void
cmd_version(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    char text[256];

    (void)argc;
    (void)argv;
    (void)aux;
    snprintf(text, sizeof text, "%s (hvs) %s", program_invocation_short_name,
             HVS_VERSION);
    unixctl_reply(conn, text);
}

static void
cmd_vlog_set(struct unixctl_conn *conn, int argc, const char *argv[],
             void *aux)
{
    (void)aux;
    for (int i = 1; i < argc; i++) {
        char *msg = NULL;

        if (log_set_spec_msg(argv[i], &msg)) {
            char *text = NULL;

            if (asprintf(&text, "bad spec '%s': %s", argv[i],
                         msg ? msg : "out of memory") < 0) {
                text = NULL;
            }
            unixctl_reply_error(conn, text ? text : "bad spec");
            free(text);
            free(msg);
            return;
        }
    }
    unixctl_reply(conn, "");
}

static void
cmd_vlog_list(struct unixctl_conn *conn, int argc, const char *argv[],
              void *aux)
{
    char *list = log_list();

    (void)argc;
    (void)argv;
    (void)aux;
    if (!list) {
        unixctl_reply_error(conn, "out of memory");
        return;
    }
    unixctl_reply(conn, list);
    free(list);
}

static void
cmd_vlog_reopen(struct unixctl_conn *conn, int argc, const char *argv[],
                void *aux)
{
    int err = log_reopen();

    (void)argc;
    (void)argv;
    (void)aux;
    if (err) {
        char text[128];

        snprintf(text, sizeof text, "could not reopen the log file: %s",
                 strerror(-err));
        unixctl_reply_error(conn, text);
    } else {
        unixctl_reply(conn, "");
    }
}

static void
register_builtins(void)
{
    unixctl_command_register("list-commands", "", 0, 0, cmd_list_commands,
                             NULL);
    unixctl_command_register("version", "", 0, 0, cmd_version, NULL);
    unixctl_command_register("vlog/set", "{spec | module[:dest]:level}...", 0,
                             UNIXCTL_ANY_ARGS, cmd_vlog_set, NULL);
    unixctl_command_register("vlog/list", "", 0, 0, cmd_vlog_list, NULL);
    unixctl_command_register("vlog/reopen", "", 0, 0, cmd_vlog_reopen, NULL);
}

/* --- Wire decoding. --- */

static bool
is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

long
unixctl_frame_len(const char *buf, size_t len)
{
    size_t i = 0;
    size_t depth = 0;
    bool in_string = false, escaped = false;

    while (i < len && is_json_space(buf[i])) {
        i++;
    }
    if (i == len) {
        return 0;
    }
    if (buf[i] != '{' && buf[i] != '[') {
        return -1;
    }
    /* Only brackets outside strings count; the JSON parser judges the
     * rest once the text is complete. */
    for (; i < len; i++) {
        char c = buf[i];

        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '{':
        case '[':
            depth++;
            break;
        case '}':
        case ']':
            if (--depth == 0) {
                return (long)(i + 1);
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

void
unixctl_request_clear(struct unixctl_request *req)
{
    if (req->argv) {
        for (int i = 0; i < req->argc; i++) {
            free(req->argv[i]);
        }
        free(req->argv);
    }
    if (req->id) {
        json_decref(req->id);
    }
    memset(req, 0, sizeof *req);
}

static void
free_argv(struct unixctl_request *req)
{
    json_t *id = req->id;

    req->id = NULL;
    unixctl_request_clear(req);
    req->id = id;
}

int
unixctl_parse_request(const char *buf, size_t len, struct unixctl_request *req,
                      char **errmsg)
{
    json_error_t jerr;
    json_t *root, *method, *id, *params;
    int ret = -EPROTO;

    memset(req, 0, sizeof *req);
    *errmsg = NULL;
    root = json_loadb(buf, len, 0, &jerr);
    if (!root) {
        LOG_DBG("bad JSON: %s", jerr.text);
        return -EPROTO;
    }
    method = json_object_get(root, "method");
    id = json_object_get(root, "id");
    /* Without a method it is a reply, without an id a notification:
     * neither belongs on a unixctl server. */
    if (!json_is_string(method) || !id || json_is_null(id)) {
        goto out;
    }
    req->id = json_incref(id);

    params = json_object_get(root, "params");
    if (!json_is_array(params)) {
        ret = -EINVAL;
        if (asprintf(errmsg, "\"%s\" request has no params array",
                     json_string_value(method)) < 0) {
            *errmsg = NULL;
            ret = -ENOMEM;
        }
        goto out;
    }
    size_t n = json_array_size(params);
    req->argv = calloc(n + 2, sizeof *req->argv);
    if (!req->argv || !(req->argv[0] = strdup(json_string_value(method)))) {
        ret = -ENOMEM;
        goto out;
    }
    req->argc = 1;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(params, i);

        if (!json_is_string(p)) {
            ret = -EINVAL;
            if (asprintf(errmsg, "\"%s\" command has non-string argument",
                         req->argv[0]) < 0) {
                *errmsg = NULL;
                ret = -ENOMEM;
            }
            free_argv(req);
            goto out;
        }
        req->argv[req->argc] = strdup(json_string_value(p));
        if (!req->argv[req->argc]) {
            ret = -ENOMEM;
            goto out;
        }
        req->argc++;
    }
    ret = 0;

out:
    json_decref(root);
    if (ret && ret != -EINVAL) {
        unixctl_request_clear(req);
    }
    return ret;
}

/* --- Connections. --- */

static void
kick(struct unixctl_server *server)
{
    uint64_t one = 1;

    if (write(server->kick_fd, &one, sizeof one) < 0 && errno != EAGAIN) {
        LOG_WARN("eventfd write failed: %s", strerror(errno));
    }
}

static void
conn_set_events(struct unixctl_conn *conn)
{
    uint32_t want = 0;

    if (conn->fd < 0) {
        return;
    }
    if (!conn->eof && !conn->pending_id) {
        want |= EPOLLIN;
    }
    if (conn->out_len) {
        want |= EPOLLOUT;
    }
    if (conn->registered && want == conn->events) {
        return;
    }
    /* Even with no interest the descriptor stays in the set: epoll still
     * reports a hang-up, which is how a client that gives up on a pending
     * request is noticed. */
    struct epoll_event ev = {.events = want, .data.ptr = conn};
    int op = conn->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(conn->server->epoll_fd, op, conn->fd, &ev) < 0) {
        LOG_WARN("epoll_ctl failed: %s", strerror(errno));
        conn->dead = true;
        return;
    }
    conn->registered = true;
    conn->events = want;
}

static void
conn_flush(struct unixctl_conn *conn)
{
    size_t done = 0;

    while (!conn->dead && done < conn->out_len) {
        ssize_t n = send(conn->fd, conn->out + done, conn->out_len - done,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                conn->dead = true;
            }
            break;
        }
        done += n;
    }
    if (done) {
        memmove(conn->out, conn->out + done, conn->out_len - done);
        conn->out_len -= done;
    }
}

static int
conn_append_out(struct unixctl_conn *conn, const char *data, size_t len)
{
    if (conn->out_len + len > conn->out_cap) {
        size_t cap = (conn->out_len + len) * 2;
        char *p = realloc(conn->out, cap);

        if (!p) {
            return -ENOMEM;
        }
        conn->out = p;
        conn->out_cap = cap;
    }
    memcpy(conn->out + conn->out_len, data, len);
    conn->out_len += len;
    return 0;
}

/* jansson only takes UTF-8; a reply built from arbitrary bytes (an
 * interface name, say) gets '?' for what is not. */
static json_t *
json_text(const char *text)
{
    size_t len = strlen(text);
    json_t *s = json_stringn(text, len);

    if (!s) {
        char *copy = strdup(text);

        if (!copy) {
            return NULL;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)copy[i] >= 0x80) {
                copy[i] = '?';
            }
        }
        s = json_stringn(copy, len);
        free(copy);
    }
    return s;
}

static void
conn_reply(struct unixctl_conn *conn, bool ok, const char *text)
{
    char *body = NULL;
    size_t len;

    if (!conn->pending_id) {
        LOG_WARN("reply without a request in progress (ignored)");
        return;
    }
    if (!text) {
        text = "";
    }
    len = strlen(text);
    if (len && text[len - 1] != '\n') {
        if (asprintf(&body, "%s\n", text) < 0) {
            body = NULL;
        }
    }
    json_t *msg = json_object();
    json_t *payload = json_text(body ? body : text);
    free(body);
    if (msg && payload) {
        json_object_set(msg, "id", conn->pending_id);
        json_object_set_new(msg, ok ? "result" : "error", payload);
        payload = NULL;
        if (ok) {
            json_object_set_new(msg, "error", json_null());
        }
    }
    json_decref(payload);

    char *wire = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (!wire) {
        LOG_ERR("out of memory replying; dropping connection");
        conn->dead = true;
    } else if (!conn->dead) {
        LOG_DBG("replying with %s: %s", ok ? "success" : "error", text);
        if (conn_append_out(conn, wire, strlen(wire))) {
            conn->dead = true;
        } else {
            conn_flush(conn);
        }
    }
    free(wire);
    json_decref(conn->pending_id);
    conn->pending_id = NULL;

    /* A late reply: the server loop has buffered requests, unflushed
     * output or a finished connection to see to. */
    if (!conn->in_dispatch) {
        kick(conn->server);
    }
}

void
unixctl_reply(struct unixctl_conn *conn, const char *text)
{
    conn_reply(conn, true, text);
}

void
unixctl_reply_error(struct unixctl_conn *conn, const char *text)
{
    conn_reply(conn, false, text);
}

static void
dispatch(struct unixctl_conn *conn, struct unixctl_request *req)
{
    const char *name = req->argv[0];
    struct command *c = find_command(name);
    int n_args = req->argc - 1;
    char *err = NULL;
    int r = 0;

    LOG_DBG("request %s with %d arguments", name, n_args);
    if (!c) {
        r = asprintf(&err,
                     "\"%s\" is not a valid command (use "
                     "\"list-commands\" to see a list of valid commands)",
                     name);
    } else if (n_args < c->min_args) {
        r = asprintf(&err, "\"%s\" command requires at least %d arguments",
                     name, c->min_args);
    } else if (n_args > c->max_args) {
        r = asprintf(&err, "\"%s\" command takes at most %d arguments", name,
                     c->max_args);
    } else {
        conn->in_dispatch = true;
        c->cb(conn, req->argc, (const char **)req->argv, c->aux);
        conn->in_dispatch = false;
        return;
    }
    unixctl_reply_error(conn, r < 0 ? "out of memory" : err);
    free(err);
}

static void
conn_consume(struct unixctl_conn *conn, size_t n)
{
    if (n) {
        memmove(conn->in, conn->in + n, conn->in_len - n);
        conn->in_len -= n;
    }
}

/* Dispatches complete requests, one at a time. */
static void
conn_process(struct unixctl_conn *conn)
{
    while (!conn->dead && !conn->pending_id && conn->in_len) {
        long n = unixctl_frame_len(conn->in, conn->in_len);
        struct unixctl_request req;
        char *err;

        if (n < 0) {
            LOG_DBG("input is not JSON; closing connection");
            conn->dead = true;
            break;
        } else if (n == 0) {
            if (conn->in_len > UNIXCTL_MAX_REQUEST) {
                LOG_WARN("request longer than %d bytes; closing connection",
                         UNIXCTL_MAX_REQUEST);
                conn->dead = true;
            }
            break;
        }

        int r = unixctl_parse_request(conn->in, n, &req, &err);
        conn_consume(conn, n);
        if (r == -EINVAL) {
            conn->pending_id = req.id;
            req.id = NULL;
            unixctl_reply_error(conn, err);
            free(err);
        } else if (r) {
            LOG_DBG("not a JSON-RPC request; closing connection");
            conn->dead = true;
        } else {
            conn->pending_id = json_incref(req.id);
            dispatch(conn, &req);
        }
        unixctl_request_clear(&req);
    }
}

static void
conn_read(struct unixctl_conn *conn)
{
    while (!conn->dead && !conn->eof && conn->in_len <= UNIXCTL_MAX_REQUEST) {
        if (conn->in_cap - conn->in_len < READ_CHUNK) {
            char *p = realloc(conn->in, conn->in_len + READ_CHUNK);

            if (!p) {
                conn->dead = true;
                break;
            }
            conn->in = p;
            conn->in_cap = conn->in_len + READ_CHUNK;
        }
        ssize_t n = recv(conn->fd, conn->in + conn->in_len,
                         conn->in_cap - conn->in_len, MSG_DONTWAIT);
        if (n > 0) {
            conn->in_len += n;
        } else if (n == 0) {
            conn->eof = true;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN) {
                conn->dead = true;
            }
            break;
        }
    }
}

/* A dead connection gives its descriptor back at once, even while a
 * callback still holds it for a late reply. */
static void
conn_close_fd(struct unixctl_conn *conn)
{
    if (conn->fd < 0) {
        return;
    }
    if (conn->registered) {
        epoll_ctl(conn->server->epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
        conn->registered = false;
    }
    close(conn->fd);
    conn->fd = -1;
    conn->server->n_conns--;
}

static void
conn_destroy(struct unixctl_conn *conn)
{
    conn_close_fd(conn);
    if (conn->pending_id) {
        json_decref(conn->pending_id);
    }
    free(conn->in);
    free(conn->out);
    free(conn);
}

/* True once nothing more can happen on 'conn'.  A request still waiting
 * for its (late) reply keeps the connection, even a dead one, because the
 * callback holds a pointer to it. */
static bool
conn_finished(const struct unixctl_conn *conn)
{
    if (conn->pending_id) {
        return false;
    }
    if (conn->dead) {
        return true;
    }
    return conn->eof && !conn->out_len &&
           unixctl_frame_len(conn->in, conn->in_len) <= 0;
}

static void
accept_conns(struct unixctl_server *server)
{
    for (int i = 0; i < 16; i++) {
        int fd = accept4(server->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                LOG_WARN("%s: accept failed: %s", server->path,
                         strerror(errno));
            }
            return;
        }
        if (server->n_conns >= MAX_CONNS) {
            static struct log_rl rl = LOG_RL_INIT(6, 2);

            LOG_RL(&rl, LOG_L_WARN, "%s: too many connections", server->path);
            close(fd);
            continue;
        }
        struct unixctl_conn *conn = calloc(1, sizeof *conn);
        if (!conn) {
            close(fd);
            continue;
        }
        conn->fd = fd;
        conn->server = server;
        conn->next = server->conns;
        server->conns = conn;
        server->n_conns++;
        conn_set_events(conn);
    }
}

void
unixctl_server_run(struct unixctl_server *server)
{
    struct epoll_event evs[32];
    int n;

    if (!server) {
        return;
    }
    do {
        n = epoll_wait(server->epoll_fd, evs, 32, 0);
    } while (n < 0 && errno == EINTR);

    for (int i = 0; i < n; i++) {
        void *ptr = evs[i].data.ptr;

        if (!ptr) {
            accept_conns(server);
        } else if (ptr == &server->kick_fd) {
            uint64_t count;

            if (read(server->kick_fd, &count, sizeof count) < 0 &&
                errno != EAGAIN) {
                LOG_WARN("eventfd read failed: %s", strerror(errno));
            }
        } else {
            struct unixctl_conn *conn = ptr;

            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                conn_read(conn);
            }
            /* The peer is gone both ways: a pending reply has nowhere to
             * go, and the hang-up would be reported again and again. */
            if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && conn->pending_id) {
                conn->dead = true;
            }
            if (evs[i].events & EPOLLOUT) {
                conn_flush(conn);
            }
        }
    }

    /* Every connection, not only those with events: a late reply may have
     * freed one to take its next buffered request. */
    for (struct unixctl_conn **p = &server->conns; *p;) {
        struct unixctl_conn *conn = *p;

        conn_process(conn);
        conn_flush(conn);
        if (conn_finished(conn)) {
            *p = conn->next;
            conn_destroy(conn);
        } else {
            if (conn->dead) {
                conn_close_fd(conn);
            } else {
                conn_set_events(conn);
            }
            p = &conn->next;
        }
    }
}

int
unixctl_server_fd(const struct unixctl_server *server)
{
    return server->epoll_fd;
}

/* Nobody answers on 'path': it is free or holds a stale socket. */
static bool
path_is_live(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live;

    if (fd < 0) {
        return false;
    }
    live = !connect(fd, (const struct sockaddr *)sun, sizeof *sun);
    close(fd);
    return live;
}

/* Binds under a temporary name, restricts it to 0600 and renames it into
 * place, so the socket is never reachable with looser permissions. */
static int
bind_socket(int fd, const char *path)
{
    struct sockaddr_un tmp = {.sun_family = AF_UNIX};
    int n = snprintf(tmp.sun_path, sizeof tmp.sun_path, "%s.%ld.tmp", path,
                     (long)getpid());

    if (n < 0 || (size_t)n >= sizeof tmp.sun_path) {
        /* No room for the temporary name: bind in place instead. */
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        memcpy(sun.sun_path, path, strlen(path) + 1);
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
            chmod(path, 0600) < 0) {
            return -errno;
        }
        return 0;
    }
    unlink(tmp.sun_path);
    if (bind(fd, (struct sockaddr *)&tmp, sizeof tmp) < 0) {
        return -errno;
    }
    if (chmod(tmp.sun_path, 0600) < 0 || rename(tmp.sun_path, path) < 0) {
        int err = -errno;
        unlink(tmp.sun_path);
        return err;
    }
    return 0;
}

int
unixctl_server_create(const char *path, struct unixctl_server **serverp)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct unixctl_server *s;
    int err;

    *serverp = NULL;
    if (strlen(path) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (path_is_live(&sun)) {
        return -EADDRINUSE;
    }

    s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return -ENOMEM;
    }
    s->listen_fd =
        socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->listen_fd < 0 || s->epoll_fd < 0 || s->kick_fd < 0) {
        err = -errno;
        goto fail;
    }
    err = bind_socket(s->listen_fd, path);
    if (err) {
        goto fail;
    }
    if (listen(s->listen_fd, 64) < 0) {
        err = -errno;
        unlink(path);
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    struct epoll_event kev = {.events = EPOLLIN, .data.ptr = &s->kick_fd};
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0 ||
        epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->kick_fd, &kev) < 0) {
        err = -errno;
        unlink(path);
        goto fail;
    }
    register_builtins();
    *serverp = s;
    return 0;

fail:
    LOG_ERR("%s: cannot create control socket: %s", path, strerror(-err));
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->epoll_fd >= 0) {
        close(s->epoll_fd);
    }
    if (s->kick_fd >= 0) {
        close(s->kick_fd);
    }
    free(s->path);
    free(s);
    return err;
}

void
unixctl_server_destroy(struct unixctl_server *server)
{
    if (!server) {
        return;
    }
    while (server->conns) {
        struct unixctl_conn *conn = server->conns;

        server->conns = conn->next;
        conn_destroy(conn);
    }
    close(server->listen_fd);
    close(server->epoll_fd);
    close(server->kick_fd);
    unlink(server->path);
    free(server->path);
    free(server);
}
