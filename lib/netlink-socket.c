/* Client side of hvs-dpd's control socket. */
#include "netlink-socket.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvs/dp-ext.h"

#define RECV_MAX (256 * 1024)

struct nl_sock {
    int fd;
    uint32_t portid;
    uint32_t seq;
    /* Asynchronous messages that arrived while waiting for a reply. */
    struct pending {
        struct pending *next;
        size_t len;
        uint8_t data[];
    } *queue, **queue_tail;
    bool overflow;
    uint8_t *buf;
};

int
nl_sock_open(const char *path, struct nl_sock **sockp)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct nl_sock *s;
    int err;

    if (strlen(path) >= sizeof sun.sun_path) {
        return -ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(RECV_MAX))) {
        free(s);
        return -ENOMEM;
    }
    s->queue_tail = &s->queue;
    s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *) &sun, sizeof sun)) {
        err = -errno;
        goto fail;
    }
    ssize_t n = recv(s->fd, s->buf, RECV_MAX, 0);
    const struct nlmsghdr *nlh = (const void *) s->buf;
    if (n < (ssize_t) (NLMSG_HDRLEN + sizeof(struct hvs_nl_hello))
        || nlh->nlmsg_type != HVS_NLMSG_HELLO) {
        err = -EPROTO;
        goto fail;
    }
    const struct hvs_nl_hello *h = mnl_nlmsg_get_payload(nlh);
    s->portid = h->portid;
    *sockp = s;
    return 0;

fail:
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->buf);
    free(s);
    return err;
}

void
nl_sock_close(struct nl_sock *s)
{
    if (s) {
        while (s->queue) {
            struct pending *p = s->queue;
            s->queue = p->next;
            free(p);
        }
        close(s->fd);
        free(s->buf);
        free(s);
    }
}

uint32_t
nl_sock_portid(const struct nl_sock *s)
{
    return s->portid;
}

int
nl_sock_fd(const struct nl_sock *s)
{
    return s->fd;
}

int
nl_sock_join(struct nl_sock *s, uint32_t group)
{
    uint8_t buf[NLMSG_HDRLEN + sizeof(struct hvs_nl_membership)];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = HVS_NLMSG_MEMBERSHIP;
    nlh->nlmsg_pid = s->portid;
    struct hvs_nl_membership *m = mnl_nlmsg_put_extra_header(nlh, sizeof *m);
    m->op = HVS_NL_JOIN;
    m->group = group;
    return send(s->fd, buf, nlh->nlmsg_len, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static void
queue_async(struct nl_sock *s, const void *data, size_t len)
{
    struct pending *p = malloc(sizeof *p + len);
    if (p) {
        p->next = NULL;
        p->len = len;
        memcpy(p->data, data, len);
        *s->queue_tail = p;
        s->queue_tail = &p->next;
    }
}

int
nl_sock_transact(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb *cb,
                 void *aux)
{
    int result = 0;

    req->nlmsg_seq = ++s->seq;
    req->nlmsg_pid = s->portid;
    if (send(s->fd, req, req->nlmsg_len, MSG_NOSIGNAL) < 0) {
        return -errno;
    }
    for (;;) {
        ssize_t n = recv(s->fd, s->buf, RECV_MAX, 0);
        if (n <= 0) {
            return n < 0 ? -errno : -ECONNRESET;
        }
        const struct nlmsghdr *nlh = (const void *) s->buf;
        if (n >= NLMSG_HDRLEN && nlh->nlmsg_type == HVS_NLMSG_SYNC) {
            return result;
        }
        if (n >= NLMSG_HDRLEN && nlh->nlmsg_type == HVS_NLMSG_OVERFLOW) {
            s->overflow = true;
            continue;
        }
        /* Walk the messages of the record. */
        int len = n;
        for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_seq != req->nlmsg_seq) {
                queue_async(s, nlh, nlh->nlmsg_len);
                continue;
            }
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                if (e->error && !result) {
                    result = e->error;
                }
            } else if (nlh->nlmsg_type == NLMSG_DONE) {
                int st = *(const int *) mnl_nlmsg_get_payload(nlh);
                if (st && !result) {
                    result = st;
                }
            } else if (cb && !result) {
                result = cb(nlh, aux);
            }
        }
    }
}

int
nl_sock_recv(struct nl_sock *s, void *buf, size_t size)
{
    if (s->overflow) {
        s->overflow = false;
        return -ENOBUFS;
    }
    if (s->queue) {
        struct pending *p = s->queue;
        size_t len = p->len < size ? p->len : size;
        memcpy(buf, p->data, len);
        s->queue = p->next;
        if (!s->queue) {
            s->queue_tail = &s->queue;
        }
        free(p);
        return len;
    }
    for (;;) {
        ssize_t n = recv(s->fd, buf, size, MSG_DONTWAIT);
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -ECONNRESET;
        }
        const struct nlmsghdr *nlh = buf;
        if ((size_t) n >= NLMSG_HDRLEN && nlh->nlmsg_type == HVS_NLMSG_SYNC) {
            continue;
        }
        if ((size_t) n >= NLMSG_HDRLEN
            && nlh->nlmsg_type == HVS_NLMSG_OVERFLOW) {
            return -ENOBUFS;
        }
        return n;
    }
}

struct family_ctx {
    uint16_t id;
    uint32_t *mcgroup;
    const char *group_name;
};

static int
family_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct family_ctx *ctx = aux;
    const struct nlattr *a;

    mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
        if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
            ctx->id = mnl_attr_get_u16(a);
        } else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GROUPS
                   && ctx->mcgroup) {
            const struct nlattr *g;
            mnl_attr_for_each_nested(g, a) {
                const struct nlattr *f, *name = NULL, *id = NULL;
                mnl_attr_for_each_nested(f, g) {
                    if (mnl_attr_get_type(f) == CTRL_ATTR_MCAST_GRP_NAME) {
                        name = f;
                    } else if (mnl_attr_get_type(f)
                               == CTRL_ATTR_MCAST_GRP_ID) {
                        id = f;
                    }
                }
                if (name && id
                    && !strcmp(mnl_attr_get_str(name), ctx->group_name)) {
                    *ctx->mcgroup = mnl_attr_get_u32(id);
                }
            }
        }
    }
    return 0;
}

int
nl_lookup_family(struct nl_sock *s, const char *name, uint32_t *mcgroup,
                 const char *group_name)
{
    uint8_t buf[256];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = GENL_ID_CTRL;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = CTRL_CMD_GETFAMILY;
    g->version = 1;
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);

    struct family_ctx ctx = { 0, mcgroup, group_name };
    int err = nl_sock_transact(s, nlh, family_cb, &ctx);
    if (err) {
        return err;
    }
    return ctx.id ? ctx.id : -ENOENT;
}
