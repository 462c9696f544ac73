/* JSON-RPC 1.0 framing over a byte stream (RFC 7047 section 4): messages
 * are JSON objects sent back to back with no delimiter.  This module
 * splits the stream, parses messages, and buffers output; it does no I/O
 * of its own beyond read()/write() on the fd it is given. */
#ifndef OVSDB_JSONRPC_H
#define OVSDB_JSONRPC_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSONRPC_MAX_MSG (64u << 20)     /* bytes in one message */
#define JSONRPC_MAX_DEPTH 512           /* nesting of one message */

/* Owned by its creator; the fd is closed by jsonrpc_conn_free(). */
struct jsonrpc_conn {
    int fd;
    char *name;
    char *in;                       /* unparsed input */
    size_t in_len, in_cap;
    size_t scan;                    /* bytes of 'in' already scanned */
    int depth;
    char stack[JSONRPC_MAX_DEPTH + 1];  /* open brackets */
    bool in_string, escape;
    char *out;                      /* unsent output */
    size_t out_len, out_cap, out_ofs;
    bool eof;                       /* peer closed or fatal error */
    bool corked;                    /* send only queues: the owner flushes
                                     * once per loop, so several messages
                                     * share one write() */
};

enum jsonrpc_status {
    JSONRPC_NONE,                   /* no complete message yet */
    JSONRPC_MSG,                    /* '*msg' is a parsed object */
    JSONRPC_BAD,                    /* one message was malformed */
    JSONRPC_FATAL,                  /* the stream cannot be resynced */
};

struct jsonrpc_conn *jsonrpc_conn_create(int fd, const char *name);
void jsonrpc_conn_free(struct jsonrpc_conn *);

/* Appends received bytes (for tests and fuzzing; jsonrpc_conn_read() uses
 * it). */
void jsonrpc_conn_feed(struct jsonrpc_conn *, const void *, size_t);
/* Reads what the fd has.  Returns false on EOF or a read error. */
bool jsonrpc_conn_read(struct jsonrpc_conn *);
/* Takes the next message.  For JSONRPC_BAD and JSONRPC_FATAL, '*error' is
 * a malloc'd description. */
enum jsonrpc_status jsonrpc_conn_next(struct jsonrpc_conn *, json_t **msg,
                                      char **error);

/* Queues 'msg' (stealing the reference) and tries to send. */
void jsonrpc_conn_send(struct jsonrpc_conn *, json_t *msg);
/* Queues one message already serialized as JSON text. */
void jsonrpc_conn_send_text(struct jsonrpc_conn *, const char *, size_t);
/* Writes queued output.  Returns false on a write error. */
bool jsonrpc_conn_flush(struct jsonrpc_conn *);
size_t jsonrpc_conn_backlog(const struct jsonrpc_conn *);

/* Message builders (new references). */
json_t *jsonrpc_reply(json_t *result, json_t *id);          /* steals */
json_t *jsonrpc_error_reply(json_t *error, json_t *id);     /* steals */
json_t *jsonrpc_notify(const char *method, json_t *params); /* steals */
json_t *jsonrpc_request(const char *method, json_t *params, json_t *id);

/* Checks the shape of a message: returns NULL or a static message. */
const char *jsonrpc_msg_check(json_t *msg);

#endif /* OVSDB_JSONRPC_H */
