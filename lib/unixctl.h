/* unixctl: the control socket of every hvs daemon, spoken by Debian's
 * unmodified `ovs-appctl -t PATH CMD ARGS...`.  JSON-RPC 1.0 over a unix
 * stream socket: a request {"id":ID,"method":CMD,"params":[ARGS...]} gets
 * {"id":ID,"result":"TEXT","error":null} or {"id":ID,"error":"TEXT"}.
 *
 * Single-threaded: the server has no thread of its own.  The caller polls
 * unixctl_server_fd() for input (one descriptor stands for the listener
 * and every connection) and calls unixctl_server_run() when it is
 * readable.  Commands, callbacks and replies all run on that thread. */
#ifndef HVS_UNIXCTL_H
#define HVS_UNIXCTL_H 1

#include <stddef.h>

struct unixctl_server;
struct unixctl_conn;
struct json_t; /* jansson's json_t */

/* Called with argv[0] = the command name and argv[1..argc-1] its string
 * arguments (valid only during the call).  Must eventually call
 * unixctl_reply() or unixctl_reply_error() exactly once on 'conn', either
 * before returning or later from the same thread; the connection reads no
 * further request until then. */
typedef void unixctl_cb_fn(struct unixctl_conn *conn, int argc,
                           const char *argv[], void *aux);

/* Registers 'name' for every server in the process ('usage' is shown by
 * list-commands).  'max_args' may be UNIXCTL_ANY_ARGS.  Registering a name
 * again replaces the old entry. */
#define UNIXCTL_ANY_ARGS 0x7fffffff
void unixctl_command_register(const char *name, const char *usage,
                              int min_args, int max_args, unixctl_cb_fn *,
                              void *aux);

/* Listens on 'path' (socket mode 0600).  A stale socket file is replaced;
 * a path where a server still answers gives -EADDRINUSE.  Also registers
 * the built-in commands list-commands, version, vlog/set, vlog/list and
 * vlog/reopen.  Returns 0 or -errno. */
int unixctl_server_create(const char *path, struct unixctl_server **);
/* Closes every connection (pending replies are dropped: no callback may
 * reply after this) and removes the socket file. */
void unixctl_server_destroy(struct unixctl_server *);
/* Readable when unixctl_server_run() has work to do. */
int unixctl_server_fd(const struct unixctl_server *);
/* Accepts, reads, dispatches and writes without blocking. */
void unixctl_server_run(struct unixctl_server *);

/* Replies to the request in progress on 'conn'.  A newline is appended to
 * non-empty text that lacks one, as ovs-appctl expects. */
void unixctl_reply(struct unixctl_conn *, const char *text);
void unixctl_reply_error(struct unixctl_conn *, const char *text);

/* Request limit: a connection whose pending input grows past this without
 * one complete request is closed. */
#define UNIXCTL_MAX_REQUEST (1024 * 1024)

/* The wire decoding, exposed for the fuzz target and tests. */

/* Length of the first complete JSON text at the start of 'buf' (leading
 * white space included), 0 if it is not complete yet, -1 if the bytes
 * cannot start a JSON object or array. */
long unixctl_frame_len(const char *buf, size_t len);

/* A decoded request. */
struct unixctl_request {
    struct json_t *id; /* owned reference */
    int argc;          /* argv[0] is the method */
    char **argv;       /* NULL-terminated, owned */
};

/* Decodes one JSON text as a request.  Returns 0 on success; -EINVAL when
 * a request with an id is wrong in a way that deserves an error reply
 * ('req->id' set, '*errmsg' a malloc'd reason); -EPROTO when the bytes are
 * not a request at all (the connection gets closed). */
int unixctl_parse_request(const char *buf, size_t len,
                          struct unixctl_request *req, char **errmsg);
void unixctl_request_clear(struct unixctl_request *);

#endif /* HVS_UNIXCTL_H */
