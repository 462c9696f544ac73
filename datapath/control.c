/* The control socket: connections, records, replies, SYNC markers,
 * multicast groups and asynchronous sends (see include/hvs/dp-ext.h). */
#include "control.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
/* The RCU flavour must come before the hash table header. */
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include "genl.h"
#include "hash.h"
#include "hvs/dp-ext.h"
#include "log.h"

LOG_MODULE(control);

#define MAX_GROUPS 8
/* Requests handled per wakeup of one connection, so that one busy client
 * cannot starve the others. */
#define RECORDS_PER_EVENT 16
/* Dump records sent per wakeup, for the same reason. */
#define DUMP_RECORDS_PER_EVENT 32
/* Kernel-like socket buffer for upcalls and notifications. */
#define CONN_SNDBUF (4 * 1024 * 1024)

struct out_rec {
    struct out_rec *next;
    size_t len;
    uint8_t data[];
};

/* What an epoll event's data.ptr points at: the listener or a connection.
 * Both start with this tag. */
enum obj_kind { OBJ_LISTENER, OBJ_CONN };

struct conn {
    enum obj_kind kind;
    int fd;
    uint32_t portid;
    uint32_t n_records;         /* request records seen: SYNC seq */
    uint32_t groups[MAX_GROUPS];
    unsigned n_groups;
    atomic_bool overflow;       /* async message dropped: send marker */
    bool want_out;              /* EPOLLOUT armed, EPOLLIN off */
    struct out_rec *outq, **outq_tail;
    struct reply reply;
    /* A request record whose processing is suspended behind a dump or a
     * full socket: its bytes and the offset of the next message. */
    uint8_t *pending;
    size_t pending_len, pending_ofs;
    struct genl_dump *dump;
    struct cds_lfht_node node;  /* in conns_by_portid */
    struct conn *next;          /* all connections (control thread) */
    struct rcu_head rcu;
};

static struct {
    enum obj_kind kind;
    int fd;
} listener = { OBJ_LISTENER, -1 };

static int control_epfd = -1;
static char *sock_path;
static struct conn *conns;
static struct cds_lfht *conns_by_portid;
static uint32_t next_portid = 1;
static uint8_t *req_buf;
static struct log_rl truncated_rl = LOG_RL_INIT(60, 10);

static int
match_portid(struct cds_lfht_node *node, const void *key)
{
    const struct conn *c = caa_container_of(node, struct conn, node);
    return c->portid == *(const uint32_t *) key;
}

static struct conn *
lookup_portid(uint32_t portid)
{
    struct cds_lfht_iter it;
    cds_lfht_lookup(conns_by_portid, hash_add(0, portid), match_portid,
                    &portid, &it);
    struct cds_lfht_node *n = cds_lfht_iter_get_node(&it);
    return n ? caa_container_of(n, struct conn, node) : NULL;
}

int
control_init(const char *path, int epfd)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof sun.sun_path) {
        LOG_ERR("control socket path %s is too long", path);
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);

    /* A socket file nobody answers on is stale; a live one is another
     * hvs-dpd using this rundir. */
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) == 0) {
        close(fd);
        LOG_ERR("%s: another hvs-dpd is listening there", path);
        return -EADDRINUSE;
    }
    close(fd);
    unlink(path);

    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    mode_t old = umask(0077);
    int err = bind(fd, (struct sockaddr *) &sun, sizeof sun);
    umask(old);
    if (err || chmod(path, 0600) || listen(fd, 128)) {
        err = -errno;
        LOG_ERR("cannot listen on %s: %s", path, strerror(-err));
        close(fd);
        return err;
    }
    listener.fd = fd;
    control_epfd = epfd;
    sock_path = strdup(path);
    conns_by_portid = cds_lfht_new_flavor(64, 64, 0, CDS_LFHT_AUTO_RESIZE,
                                          &urcu_memb_flavor, NULL);
    req_buf = malloc(CONTROL_REQUEST_MAX);
    if (!sock_path || !conns_by_portid || !req_buf) {
        return -ENOMEM;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
        return -errno;
    }
    LOG_INFO("listening on %s", path);
    return 0;
}

uint32_t
control_conn_portid(const struct conn *c)
{
    return c->portid;
}

bool
control_portid_exists(uint32_t portid)
{
    if (!conns_by_portid) {
        return false;
    }
    urcu_memb_read_lock();
    bool found = lookup_portid(portid) != NULL;
    urcu_memb_read_unlock();
    return found;
}

/* ---- output queue ---------------------------------------------------- */

static void
conn_set_events(struct conn *c, bool want_out)
{
    if (c->want_out == want_out) {
        return;
    }
    struct epoll_event ev = {
        .events = want_out ? EPOLLOUT : EPOLLIN,
        .data.ptr = c,
    };
    epoll_ctl(control_epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want_out;
}

/* Sends queued records until the socket is full.  Returns false if some
 * remain. */
static bool
conn_flush(struct conn *c)
{
    while (c->outq) {
        struct out_rec *o = c->outq;
        ssize_t n = send(c->fd, o->data, o->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return false;
            }
            if (errno == EINTR) {
                continue;
            }
            /* The client went away; its hangup arrives as an event. */
            LOG_DBG("portid %u: send: %s", c->portid, strerror(errno));
        }
        c->outq = o->next;
        if (!c->outq) {
            c->outq_tail = &c->outq;
        }
        free(o);
    }
    return true;
}

static void
conn_queue(struct conn *c, const void *data, size_t len)
{
    struct out_rec *o = malloc(sizeof *o + len);
    if (!o) {
        LOG_ERR("portid %u: out of memory queueing a reply", c->portid);
        return;
    }
    o->next = NULL;
    o->len = len;
    memcpy(o->data, data, len);
    *c->outq_tail = o;
    c->outq_tail = &o->next;
    conn_flush(c);
}

static void
queue_private(struct conn *c, uint16_t type, uint32_t seq,
              const void *payload, size_t len)
{
    uint8_t buf[NLMSG_HDRLEN + 64];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = c->portid;
    if (len) {
        memcpy(mnl_nlmsg_put_extra_header(nlh, len), payload, len);
    }
    conn_queue(c, buf, nlh->nlmsg_len);
}

/* ---- replies ----------------------------------------------------------- */

static void
conn_reply_flush(struct reply *r)
{
    conn_queue(r->aux, r->buf, r->len);
}

void
reply_flush(struct reply *r)
{
    if (r->len) {
        r->flush(r);
        r->len = 0;
    }
}

struct nlmsghdr *
reply_put(struct reply *r, uint16_t type, uint16_t flags, uint32_t seq,
          uint8_t cmd, uint8_t version, size_t reserve)
{
    size_t need = NLMSG_HDRLEN + GENL_HDRLEN + reserve;
    if (r->len + need > CONTROL_RECORD_MAX) {
        reply_flush(r);
    }
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf + r->len);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = r->portid;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = version;
    return nlh;
}

size_t
reply_room(const struct reply *r, const struct nlmsghdr *nlh)
{
    return CONTROL_RECORD_MAX - ((const uint8_t *) nlh - r->buf);
}

/* The kernel sends each unicast reply and each ACK in a datagram of its
 * own and packs only the messages of a dump together; clients rely on it
 * (Open vSwitch's batched transactions read one reply per recv() and take
 * a missing one as "no reply").  So every message but a dump's ends its
 * record. */
void
reply_commit(struct reply *r, struct nlmsghdr *nlh)
{
    r->len = ((uint8_t *) nlh - r->buf) + NLMSG_ALIGN(nlh->nlmsg_len);
    if (!(nlh->nlmsg_flags & NLM_F_MULTI)) {
        reply_flush(r);
    }
}

void
reply_abort(struct reply *r, struct nlmsghdr *nlh)
{
    r->len = (uint8_t *) nlh - r->buf;
}

void
reply_error(struct reply *r, const struct nlmsghdr *req, int error,
            const char *ext_msg)
{
    /* As the kernel: an ACK echoes only the request header, an error the
     * whole request; an extended-ack message follows as a TLV. */
    size_t echo = error ? req->nlmsg_len : NLMSG_HDRLEN;
    size_t msglen = ext_msg && error ? strlen(ext_msg) + 1 : 0;
    size_t need = NLMSG_HDRLEN + sizeof(struct nlmsgerr) + NLMSG_ALIGN(echo)
        + (msglen ? MNL_ATTR_HDRLEN + MNL_ALIGN(msglen) : 0);

    if (need > CONTROL_RECORD_MAX) {
        echo = NLMSG_HDRLEN;
        need = NLMSG_HDRLEN + sizeof(struct nlmsgerr) + 256;
        msglen = 0;
    }
    if (r->len + need > CONTROL_RECORD_MAX) {
        reply_flush(r);
    }
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf + r->len);
    nlh->nlmsg_type = NLMSG_ERROR;
    nlh->nlmsg_flags = echo == NLMSG_HDRLEN ? NLM_F_CAPPED : 0;
    nlh->nlmsg_seq = req->nlmsg_seq;
    nlh->nlmsg_pid = r->portid;
    struct nlmsgerr *e = mnl_nlmsg_put_extra_header(
        nlh, sizeof(struct nlmsgerr) - sizeof(struct nlmsghdr)
        + NLMSG_ALIGN(echo));
    e->error = error;
    memcpy(&e->msg, req, echo);
    if (echo == NLMSG_HDRLEN) {
        e->msg.nlmsg_len = req->nlmsg_len;
    }
    if (msglen) {
        nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
        mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext_msg);
    }
    r->len += NLMSG_ALIGN(nlh->nlmsg_len);
    reply_flush(r);             /* a record of its own, see reply_commit() */
}

void
reply_done(struct reply *r, const struct nlmsghdr *req, int status)
{
    if (r->len + NLMSG_HDRLEN + 4 > CONTROL_RECORD_MAX) {
        reply_flush(r);
    }
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf + r->len);
    nlh->nlmsg_type = NLMSG_DONE;
    nlh->nlmsg_flags = NLM_F_MULTI;
    nlh->nlmsg_seq = req->nlmsg_seq;
    nlh->nlmsg_pid = r->portid;
    int *st = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
    *st = status;
    r->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* ---- connections --------------------------------------------------- */

static void
conn_free_rcu(struct rcu_head *head)
{
    struct conn *c = caa_container_of(head, struct conn, rcu);
    /* Closed only now, so that no forwarding thread can still send on a
     * descriptor number the kernel has reused. */
    close(c->fd);
    free(c);
}

static void
conn_close(struct conn *c)
{
    LOG_DBG("portid %u: closed", c->portid);
    epoll_ctl(control_epfd, EPOLL_CTL_DEL, c->fd, NULL);
    shutdown(c->fd, SHUT_RDWR);
    cds_lfht_del(conns_by_portid, &c->node);
    for (struct conn **p = &conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    while (c->outq) {
        struct out_rec *o = c->outq;
        c->outq = o->next;
        free(o);
    }
    genl_dump_free(c->dump);
    free(c->pending);
    free(c->reply.buf);
    urcu_memb_call_rcu(&c->rcu, conn_free_rcu);
}

static void
conn_accept(void)
{
    for (;;) {
        int fd = accept4(listener.fd, NULL, NULL,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                LOG_WARN("accept: %s", strerror(errno));
            }
            return;
        }
        struct conn *c = calloc(1, sizeof *c);
        uint8_t *rbuf = malloc(CONTROL_RECORD_MAX);
        if (!c || !rbuf) {
            free(c);
            free(rbuf);
            close(fd);
            LOG_ERR("out of memory accepting a connection");
            continue;
        }
        int sndbuf = CONN_SNDBUF;
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
                       sizeof sndbuf)) {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        }
        c->kind = OBJ_CONN;
        c->fd = fd;
        do {
            c->portid = next_portid++;
        } while (c->portid == 0 || lookup_portid(c->portid));
        c->outq_tail = &c->outq;
        c->reply.buf = rbuf;
        c->reply.portid = c->portid;
        c->reply.flush = conn_reply_flush;
        c->reply.aux = c;
        cds_lfht_node_init(&c->node);
        cds_lfht_add(conns_by_portid, hash_add(0, c->portid), &c->node);
        c->next = conns;
        conns = c;

        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(control_epfd, EPOLL_CTL_ADD, fd, &ev);

        struct hvs_nl_hello hello = { HVS_NL_PROTO_VERSION, c->portid };
        queue_private(c, HVS_NLMSG_HELLO, 0, &hello, sizeof hello);
        LOG_DBG("portid %u: connected", c->portid);
    }
}

static void
conn_membership(struct conn *c, const struct nlmsghdr *nlh)
{
    const struct hvs_nl_membership *m = mnl_nlmsg_get_payload(nlh);

    if (mnl_nlmsg_get_payload_len(nlh) < sizeof *m) {
        return;
    }
    for (unsigned i = 0; i < c->n_groups; i++) {
        if (c->groups[i] == m->group) {
            if (m->op == HVS_NL_LEAVE) {
                c->groups[i] = c->groups[--c->n_groups];
            }
            return;
        }
    }
    if (m->op == HVS_NL_JOIN && c->n_groups < MAX_GROUPS) {
        c->groups[c->n_groups++] = m->group;
    }
}

/* Handles the messages of the pending record from pending_ofs on.  Stops
 * early when the output is backlogged or a dump has used its budget;
 * returns true when the record is finished (SYNC queued). */
static bool
conn_process_pending(struct conn *c)
{
    int budget = DUMP_RECORDS_PER_EVENT;

    for (;;) {
        if (c->dump) {
            /* A dump goes on for as long as the client keeps reading, a
             * budgeted number of records per wakeup; when the socket is
             * full, EPOLLOUT brings us back. */
            bool done = genl_dump_continue(c->dump, &c->reply);
            reply_flush(&c->reply);
            if (!done) {
                if (c->outq || --budget <= 0) {
                    return false;
                }
                continue;
            }
            c->dump = NULL;
        }
        if (c->pending_ofs >= c->pending_len) {
            break;
        }
        if (c->outq) {
            return false;
        }
        const struct nlmsghdr *nlh =
            (const void *) (c->pending + c->pending_ofs);
        size_t left = c->pending_len - c->pending_ofs;

        if (left < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN
            || nlh->nlmsg_len > left) {
            /* A truncated message: the kernel silently drops the rest of
             * the datagram; we say why, if there is a header to echo. */
            LOG_RL(&truncated_rl, LOG_L_WARN,
                   "portid %u: truncated netlink message (%zu bytes left,"
                   " nlmsg_len %u)", c->portid, left,
                   left >= NLMSG_HDRLEN ? nlh->nlmsg_len : 0);
            if (left >= NLMSG_HDRLEN) {
                struct nlmsghdr h = *nlh;
                h.nlmsg_len = NLMSG_HDRLEN;
                reply_error(&c->reply, &h, -EINVAL,
                            "truncated netlink message");
            }
            c->pending_ofs = c->pending_len;
            break;
        }
        c->pending_ofs += NLMSG_ALIGN(nlh->nlmsg_len);
        c->dump = genl_handle(nlh, c->portid, &c->reply);
        if (!c->dump) {
            /* A dump finished at once still ends its own record. */
            reply_flush(&c->reply);
        }
    }
    reply_flush(&c->reply);
    queue_private(c, HVS_NLMSG_SYNC, c->n_records, NULL, 0);
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_ofs = 0;
    return true;
}

/* Reads and handles request records until the socket is empty, the
 * per-event budget is spent or output backs up. */
static void
conn_read(struct conn *c)
{
    for (int i = 0; i < RECORDS_PER_EVENT; i++) {
        if (c->pending && !conn_process_pending(c)) {
            conn_set_events(c, true);
            return;
        }
        if (c->outq) {
            conn_set_events(c, true);
            return;
        }
        ssize_t n = recv(c->fd, req_buf, CONTROL_REQUEST_MAX,
                         MSG_DONTWAIT | MSG_TRUNC);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            conn_set_events(c, false);
            return;
        }
        if ((size_t) n > CONTROL_REQUEST_MAX) {
            LOG_WARN("portid %u: dropped a %zd-byte request record "
                     "(limit %d)", c->portid, n, CONTROL_REQUEST_MAX);
            n = CONTROL_REQUEST_MAX;
        }
        const struct nlmsghdr *nlh = (const void *) req_buf;
        if (n >= NLMSG_HDRLEN && HVS_NLMSG_IS_PRIVATE(nlh->nlmsg_type)) {
            if (nlh->nlmsg_type == HVS_NLMSG_MEMBERSHIP
                && nlh->nlmsg_len <= (size_t) n) {
                conn_membership(c, nlh);
            }
            continue;
        }
        c->n_records++;
        c->pending = malloc(n ? n : 1);
        if (!c->pending) {
            LOG_ERR("portid %u: out of memory", c->portid);
            conn_close(c);
            return;
        }
        memcpy(c->pending, req_buf, n);
        c->pending_len = n;
        c->pending_ofs = 0;
    }
    if (c->pending && !conn_process_pending(c)) {
        conn_set_events(c, true);
    }
}

void
control_handle_event(void *ptr, uint32_t events)
{
    if (*(enum obj_kind *) ptr == OBJ_LISTENER) {
        conn_accept();
        return;
    }
    struct conn *c = ptr;
    if (events & EPOLLOUT) {
        if (!conn_flush(c)) {
            return;
        }
        conn_set_events(c, false);
        conn_read(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        conn_read(c);
    }
}

void
control_run(void)
{
    for (struct conn *c = conns; c; c = c->next) {
        if (atomic_exchange(&c->overflow, false)) {
            queue_private(c, HVS_NLMSG_OVERFLOW, 0, NULL, 0);
        }
        if (c->outq && !c->want_out) {
            conn_set_events(c, true);
        }
    }
}

void
control_multicast(uint32_t group, const struct nlmsghdr *nlh,
                  uint32_t except)
{
    for (struct conn *c = conns; c; c = c->next) {
        if (c->portid == except) {
            continue;
        }
        for (unsigned i = 0; i < c->n_groups; i++) {
            if (c->groups[i] == group) {
                /* Like the kernel, a receiver that cannot take it loses it
                 * and learns so through ENOBUFS. */
                if (send(c->fd, nlh, nlh->nlmsg_len,
                         MSG_DONTWAIT | MSG_NOSIGNAL) < 0
                    && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    atomic_store(&c->overflow, true);
                }
                break;
            }
        }
    }
}

int
control_send_async(uint32_t portid, const void *rec, size_t len)
{
    int err = 0;

    if (!conns_by_portid) {
        return -ENOENT;         /* no control socket (tests, fuzzing) */
    }
    urcu_memb_read_lock();
    struct conn *c = lookup_portid(portid);
    if (!c) {
        err = -ENOENT;
    } else if (send(c->fd, rec, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            atomic_store(&c->overflow, true);
            err = -ENOBUFS;
        } else {
            err = -errno;
        }
    }
    urcu_memb_read_unlock();
    return err;
}

void
control_destroy(void)
{
    while (conns) {
        conn_close(conns);
    }
    if (listener.fd >= 0) {
        close(listener.fd);
        listener.fd = -1;
        unlink(sock_path);
    }
    urcu_memb_barrier();
    if (conns_by_portid) {
        cds_lfht_destroy(conns_by_portid, NULL);
        conns_by_portid = NULL;
    }
    free(sock_path);
    free(req_buf);
    sock_path = NULL;
    req_buf = NULL;
}
