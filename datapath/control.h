/* The control socket: RUNDIR/datapath.sock, AF_UNIX SOCK_SEQPACKET, one
 * emulated netlink socket per connection (see include/hvs/dp-ext.h for the
 * records).  Runs in the control thread's epoll loop; asynchronous messages
 * (upcalls) may be sent from any thread with control_send_async(). */
#ifndef HVS_CONTROL_H
#define HVS_CONTROL_H 1

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;

/* Largest record the daemon sends; dumps pack messages up to this. */
#define CONTROL_RECORD_MAX (32 * 1024)
/* Largest record accepted from a client (a netlink message is at most
 * 64 KiB + headers; OVS batches several flow puts in one). */
#define CONTROL_REQUEST_MAX (256 * 1024)

/* A reply under construction: messages appended to the current output
 * record of a connection.  'flush' hands a full record on (to the
 * connection's output queue; tests and fuzzers supply their own). */
struct reply {
    uint8_t *buf;               /* CONTROL_RECORD_MAX bytes */
    size_t len;
    uint32_t portid;            /* the requester, nlmsg_pid of replies */
    void (*flush)(struct reply *);
    void *aux;
};

/* Opens the listening socket at 'path' (mode 0600; a stale socket is
 * replaced, a live one refused with -EADDRINUSE) and registers it with
 * 'epfd'.  Returns 0 or -errno. */
int control_init(const char *path, int epfd);
/* Handles an epoll event whose data.ptr is a control object. */
void control_handle_event(void *ptr, uint32_t events);
/* Periodic work: overflow markers, retrying blocked output. */
void control_run(void);
void control_destroy(void);

/* The connection's netlink port id. */
uint32_t control_conn_portid(const struct conn *);
/* Whether a connection with this port id exists. */
bool control_portid_exists(uint32_t portid);

/* Starts a message in 'r': nlmsghdr (type, flags, seq, pid = the
 * connection's port id) plus genlmsghdr (cmd, version).  If the current
 * record cannot hold 'reserve' more bytes it is queued first.  Returns the
 * header to fill with libmnl (buffer size reply_room()), or NULL if out of
 * memory. */
struct nlmsghdr *reply_put(struct reply *r, uint16_t type, uint16_t flags,
                           uint32_t seq, uint8_t cmd, uint8_t version,
                           size_t reserve);
/* Bytes 'nlh' may grow to (for mnl_attr_put_check()). */
size_t reply_room(const struct reply *r, const struct nlmsghdr *nlh);
/* Finishes the message started last (length already in nlh). */
void reply_commit(struct reply *r, struct nlmsghdr *nlh);
/* Drops the message started last. */
void reply_abort(struct reply *r, struct nlmsghdr *nlh);
/* Appends NLMSG_ERROR for 'req' with 'error' (0 = ACK). */
void reply_error(struct reply *r, const struct nlmsghdr *req, int error,
                 const char *ext_msg);
/* Appends NLMSG_DONE (dump end) carrying 'status' (0, or the negative
 * errno of a dump that failed, as the kernel reports it). */
void reply_done(struct reply *r, const struct nlmsghdr *req, int status);
/* Queues the current record (no-op if empty). */
void reply_flush(struct reply *r);

/* Multicasts the single message 'nlh' to every member of 'group' except
 * 'except' (a port id, 0 = none). */
void control_multicast(uint32_t group, const struct nlmsghdr *nlh,
                       uint32_t except);

/* Sends one record to the connection with port id 'portid' without
 * blocking, from any thread.  Returns 0, -ENOENT (no such connection) or
 * -ENOBUFS (its queue is full: dropped, and the client will see ENOBUFS). */
int control_send_async(uint32_t portid, const void *rec, size_t len);

#endif /* HVS_CONTROL_H */
