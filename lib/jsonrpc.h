/* JSON-RPC 1.0 over a stream socket, as OVSDB (RFC 7047 section 4) and
 * unixctl use it: JSON objects sent back to back with no framing, each a
 * request {"method","params","id"}, a notification (a request whose id is
 * null) or a response {"result","error","id"}.
 *
 * Three layers, usable separately:
 *   - struct jsonrpc_parser splits an arbitrary byte stream into JSON
 *     values, however the bytes were chunked (tests and fuzzing feed it
 *     directly);
 *   - struct jsonrpc is one non-blocking connection: a send queue that
 *     never blocks the caller and a receive side built on the parser;
 *   - jsonrpc_msg_*() build and take apart the four kinds of message.
 *
 * The names avoid those of ovsdb/jsonrpc.h (the server's own framing),
 * since libhvs is linked into hvs-ovsdb too. */
#ifndef HVS_JSONRPC_H
#define HVS_JSONRPC_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Default bound on one received message.  A full OVSDB snapshot of a big
 * switch is a few megabytes; this leaves a wide margin. */
#define JSONRPC_DEFAULT_MAX_MSG (128u << 20)
/* Nesting beyond this is refused before jansson sees it. */
#define JSONRPC_MAX_NESTING 256

/* ---- Stream splitter ---------------------------------------------------
 *
 * Owned by its creator.  Values must be objects or arrays at top level
 * (whitespace between them is skipped); anything else cannot be
 * resynchronised, so the first error is sticky. */
struct jsonrpc_parser;

struct jsonrpc_parser *jsonrpc_parser_create(size_t max_msg);
void jsonrpc_parser_destroy(struct jsonrpc_parser *);

/* Appends 'n' bytes.  Returns 0, or -ENOMEM. */
int jsonrpc_parser_feed(struct jsonrpc_parser *, const void *, size_t n);

/* Takes the next complete value: returns 1 and stores a new reference in
 * '*valuep'; 0 when more bytes are needed; -EPROTO (bad syntax), -EMSGSIZE
 * (over 'max_msg') or -ENOMEM, after which every call fails the same way.
 * On error '*errp' (if not NULL) points to a description that lives as
 * long as the parser. */
int jsonrpc_parser_next(struct jsonrpc_parser *, json_t **valuep,
                        const char **errp);

/* Bytes received but not yet returned as values. */
size_t jsonrpc_parser_buffered(const struct jsonrpc_parser *);

/* ---- Connection -------------------------------------------------------- */

/* Opens a non-blocking stream socket to 'remote': "unix:PATH",
 * "tcp:IPv4:PORT" or "tcp:[IPv6]:PORT".  Returns the descriptor, or
 * -EINVAL for a malformed remote, -EAFNOSUPPORT for another scheme, or the
 * connect error.  '*in_progress' is set when the connect has not completed
 * yet (wait for POLLOUT; jsonrpc_run() then reports the outcome). */
int jsonrpc_connect(const char *remote, bool *in_progress);

/* One connection; owns its descriptor. */
struct jsonrpc;

/* Takes ownership of 'fd' (set non-blocking here).  'name' is used in log
 * messages.  'connecting' says the connect is still in progress. */
struct jsonrpc *jsonrpc_create(int fd, const char *name, bool connecting);
/* Connects to 'remote' and wraps the socket; NULL and '*errorp' set to a
 * negative errno on failure. */
struct jsonrpc *jsonrpc_open(const char *remote, int *errorp);
/* Closes the descriptor, drops unsent output. */
void jsonrpc_destroy(struct jsonrpc *);

int jsonrpc_fd(const struct jsonrpc *);
const char *jsonrpc_name(const struct jsonrpc *);

/* Queues 'msg' (the reference is stolen) and writes as much as the socket
 * takes.  Returns 0, or the connection's sticky error (negative errno);
 * the message is dropped in that case. */
int jsonrpc_send(struct jsonrpc *, json_t *msg);

/* Completes a pending connect and writes queued output.  Returns 0 or
 * the sticky error. */
int jsonrpc_run(struct jsonrpc *);

/* Returns 1 with a new reference in '*msgp' when a complete value has
 * been received, 0 when none is available yet, or a negative errno:
 * -EPIPE when the peer closed the connection, -EPROTO for a stream that
 * is not JSON, or the socket's error.  Errors are sticky. */
int jsonrpc_recv(struct jsonrpc *, json_t **msgp);

/* Bytes queued for sending. */
size_t jsonrpc_backlog(const struct jsonrpc *);
/* The poll events the connection wants: POLLIN always, POLLOUT while a
 * connect is in progress or output is queued. */
short jsonrpc_poll_events(const struct jsonrpc *);
/* The sticky error, or 0. */
int jsonrpc_error(const struct jsonrpc *);
/* Bounds received messages (default JSONRPC_DEFAULT_MAX_MSG). */
void jsonrpc_set_max_msg(struct jsonrpc *, size_t);

/* ---- Messages ---------------------------------------------------------- */

enum jsonrpc_msg_type {
    JSONRPC_MSG_INVALID,
    JSONRPC_MSG_REQUEST,        /* method, params, non-null id */
    JSONRPC_MSG_NOTIFY,         /* method, params, null or absent id */
    JSONRPC_MSG_REPLY,          /* result, null or absent error, id */
    JSONRPC_MSG_ERROR,          /* non-null error, id */
};

/* Borrowed views into a message (valid while the message lives). */
struct jsonrpc_msg_view {
    enum jsonrpc_msg_type type;
    const char *method;         /* requests and notifications */
    json_t *params;             /* an array */
    json_t *result;             /* replies */
    json_t *error;              /* errors */
    json_t *id;                 /* json null for notifications */
};

/* Classifies 'msg' and fills 'view'.  JSONRPC_MSG_INVALID for anything
 * that is not one of the four shapes. */
enum jsonrpc_msg_type jsonrpc_msg_parse(json_t *msg,
                                        struct jsonrpc_msg_view *view);
const char *jsonrpc_msg_type_name(enum jsonrpc_msg_type);

/* Builders; every json_t argument is stolen, the result is a new
 * reference.  'params' must be an array (NULL means []). */
json_t *jsonrpc_msg_request(const char *method, json_t *params, json_t *id);
json_t *jsonrpc_msg_notify(const char *method, json_t *params);
json_t *jsonrpc_msg_reply(json_t *result, json_t *id);
json_t *jsonrpc_msg_error(json_t *error, json_t *id);

#endif /* HVS_JSONRPC_H */
