/* libhvs-nlshim.so: emulated NETLINK_GENERIC sockets for unmodified programs.
 *
 * Preloaded (LD_PRELOAD) into a program such as Debian's ovs-dpctl or
 * ovs-vswitchd, this library turns every socket(AF_NETLINK, *,
 * NETLINK_GENERIC) into an AF_UNIX SOCK_SEQPACKET connection to hvs-dpd's
 * control socket and emulates netlink socket semantics on top of it.  All
 * other sockets are left alone.  The record protocol is described in
 * include/hvs/dp-ext.h; the important property of the clients is that they
 * expect a synchronous kernel, so replies to a request must look
 * already queued when the program reads with MSG_DONTWAIT.  The daemon ends
 * the answer to every request record with a SYNC record; while SYNCs are
 * owed on a socket, reads block instead of reporting EAGAIN.
 *
 * The emulated socket is a real file descriptor, so poll(), epoll, select()
 * and fcntl(O_NONBLOCK) work unchanged.  Per-descriptor state lives in a
 * table indexed by fd whose entries are never freed; fields are atomics so
 * that no lock is held around blocking calls (ovs-vswitchd is
 * multithreaded).
 *
 * When the daemon cannot be reached, the shim prints one line naming the
 * socket path ("is hvs-dpd running?") and socket() still succeeds: it
 * returns an "offline" socket, an AF_UNIX datagram socket connected to
 * itself, on which the shim answers every request with ENOENT as a kernel
 * without the genetlink family would.  Open vSwitch then behaves exactly as
 * without its kernel module ("failed to enumerate system datapaths: No such
 * file or directory").  Failing socket() instead would make it log a
 * misleading "fcntl: ..." error for every family lookup.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvs/dp-ext.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* How long socket() waits for the daemon's HELLO.  The daemon sends it
 * right after accept(), so only a wedged daemon takes this long. */
#define NLS_HELLO_TIMEOUT_MS 30000

/* Emulated multicast membership is remembered for the first NLS_GROUPS
 * groups only (for NETLINK_LIST_MEMBERSHIPS and bind()'s group mask);
 * joining a higher group still works. */
#define NLS_GROUPS 256
#define NLS_GROUP_WORDS (NLS_GROUPS / 32)

/* Boolean SOL_NETLINK options, as bits of nls_entry.opts. */
enum {
    NLS_OPT_PKTINFO = 1u << 0,
    NLS_OPT_BROADCAST_ERROR = 1u << 1,
    NLS_OPT_NO_ENOBUFS = 1u << 2,
    NLS_OPT_LISTEN_ALL_NSID = 1u << 3,
    NLS_OPT_CAP_ACK = 1u << 4,
    NLS_OPT_EXT_ACK = 1u << 5,
    NLS_OPT_GET_STRICT_CHK = 1u << 6,
};

/* State of one emulated netlink socket, indexed by its fd. */
struct nls_entry {
    _Atomic uint32_t portid;    /* 0: the fd is not an emulated socket */
    _Atomic uint32_t sent;      /* request records sent */
    _Atomic uint32_t synced;    /* SYNC records received */
    _Atomic uint32_t opts;      /* NLS_OPT_* */
    _Atomic uint32_t type;      /* SOCK_RAW or SOCK_DGRAM, for SO_TYPE */
    _Atomic uint32_t offline;   /* no daemon: the shim answers itself */
    _Atomic uint32_t groups[NLS_GROUP_WORDS];
};

/* Two-level table so that a process with a huge fd limit does not pay for
 * it: chunks are allocated the first time an emulated socket lands in
 * them and never freed. */
#define NLS_CHUNK_BITS 10
#define NLS_CHUNK_SIZE (1 << NLS_CHUNK_BITS)
#define NLS_CHUNKS 1024
#define NLS_MAX_FDS (NLS_CHUNK_SIZE * NLS_CHUNKS)

static _Atomic(struct nls_entry *) nls_chunks[NLS_CHUNKS];

/* The interposed libc functions. */
static int (*real_socket)(int, int, int);
static int (*real_close)(int);
static int (*real_close_range)(unsigned int, unsigned int, int);
static void (*real_closefrom)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);
static int (*real_getpeername)(int, struct sockaddr *, socklen_t *);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
                              const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned int, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int,
                                struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
                            struct timespec *);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);

static atomic_bool nls_resolved;

static void *
nls_sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    if (!p) {
        /* Without the real function every call would crash later in a
         * confusing place; say which symbol is missing instead. */
        fprintf(stderr, "hvs-nlshim: cannot find %s: %s\n", name, dlerror());
        abort();
    }
    return p;
}

static void
nls_resolve_once(void)
{
    real_socket = nls_sym("socket");
    real_close = nls_sym("close");
    /* Optional: older C libraries lack them, and then so do programs. */
    real_close_range = dlsym(RTLD_NEXT, "close_range");
    real_closefrom = dlsym(RTLD_NEXT, "closefrom");
    real_dup = nls_sym("dup");
    real_dup2 = nls_sym("dup2");
    real_dup3 = nls_sym("dup3");
    real_connect = nls_sym("connect");
    real_bind = nls_sym("bind");
    real_getsockname = nls_sym("getsockname");
    real_getpeername = nls_sym("getpeername");
    real_setsockopt = nls_sym("setsockopt");
    real_getsockopt = nls_sym("getsockopt");
    real_send = nls_sym("send");
    real_sendto = nls_sym("sendto");
    real_sendmsg = nls_sym("sendmsg");
    real_sendmmsg = nls_sym("sendmmsg");
    real_recv = nls_sym("recv");
    real_recvfrom = nls_sym("recvfrom");
    real_recvmsg = nls_sym("recvmsg");
    real_recvmmsg = nls_sym("recvmmsg");
    real_read = nls_sym("read");
    real_write = nls_sym("write");
    atomic_store_explicit(&nls_resolved, true, memory_order_release);
}

/* Resolves every real function.  Normally done by the constructor, but
 * another library's constructor may call in first. */
static void
nls_resolve(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    if (!atomic_load_explicit(&nls_resolved, memory_order_acquire)) {
        pthread_once(&once, nls_resolve_once);
    }
}

__attribute__((constructor)) static void
nls_init(void)
{
    nls_resolve();
}

#define NLS_REAL(fn) \
    (atomic_load_explicit(&nls_resolved, memory_order_acquire) \
     ? (void) 0 : nls_resolve(), real_##fn)

/* ---- descriptor table ---- */

/* Returns the entry of 'fd' if it is an emulated socket, else NULL. */
static struct nls_entry *
nls_lookup(int fd)
{
    struct nls_entry *chunk;
    struct nls_entry *e;

    if (fd < 0 || fd >= NLS_MAX_FDS) {
        return NULL;
    }
    chunk = atomic_load_explicit(&nls_chunks[fd >> NLS_CHUNK_BITS],
                                 memory_order_acquire);
    if (!chunk) {
        return NULL;
    }
    e = &chunk[fd & (NLS_CHUNK_SIZE - 1)];
    return atomic_load_explicit(&e->portid, memory_order_acquire) ? e : NULL;
}

/* Returns the entry slot for 'fd', allocating its chunk if needed; NULL if
 * fd is out of range or memory is short. */
static struct nls_entry *
nls_slot(int fd)
{
    _Atomic(struct nls_entry *) *cp;
    struct nls_entry *chunk;
    struct nls_entry *fresh;

    if (fd < 0 || fd >= NLS_MAX_FDS) {
        return NULL;
    }
    cp = &nls_chunks[fd >> NLS_CHUNK_BITS];
    chunk = atomic_load_explicit(cp, memory_order_acquire);
    if (!chunk) {
        fresh = calloc(NLS_CHUNK_SIZE, sizeof *fresh);
        if (!fresh) {
            return NULL;
        }
        chunk = NULL;
        if (atomic_compare_exchange_strong(cp, &chunk, fresh)) {
            chunk = fresh;
        } else {
            free(fresh);        /* another thread won; 'chunk' is theirs */
        }
    }
    return &chunk[fd & (NLS_CHUNK_SIZE - 1)];
}

static void
nls_forget(int fd)
{
    struct nls_entry *e = nls_lookup(fd);

    if (e) {
        atomic_store_explicit(&e->portid, 0, memory_order_release);
    }
}

/* Makes 'dst' describe the same emulated socket as 'src' (after dup). */
static void
nls_copy(int dst, const struct nls_entry *src)
{
    struct nls_entry *e = nls_slot(dst);
    int i;

    if (!e) {
        return;
    }
    atomic_store(&e->portid, 0);
    atomic_store(&e->sent, atomic_load(&src->sent));
    atomic_store(&e->synced, atomic_load(&src->synced));
    atomic_store(&e->opts, atomic_load(&src->opts));
    atomic_store(&e->type, atomic_load(&src->type));
    atomic_store(&e->offline, atomic_load(&src->offline));
    for (i = 0; i < NLS_GROUP_WORDS; i++) {
        atomic_store(&e->groups[i], atomic_load(&src->groups[i]));
    }
    atomic_store_explicit(&e->portid, atomic_load(&src->portid),
                          memory_order_release);
}

/* ---- messages to the user ---- */

static atomic_flag nls_warned_connect = ATOMIC_FLAG_INIT;
static atomic_flag nls_warned_lost = ATOMIC_FLAG_INIT;

static bool
nls_debug(void)
{
    const char *d = getenv("HVS_NLSHIM_DEBUG");

    return d && *d && strcmp(d, "0");
}

/* Called when the daemon hung up on 'e': no more SYNCs will come, so stop
 * waiting for them. */
static void
nls_lost(struct nls_entry *e)
{
    atomic_store(&e->synced, atomic_load(&e->sent));
    if (!atomic_flag_test_and_set(&nls_warned_lost)) {
        fprintf(stderr, "hvs-nlshim: hvs-dpd closed the datapath control "
                "connection\n");
    }
}

/* ---- socket creation ---- */

static int
nls_sock_path(struct sockaddr_un *sa)
{
    const char *path = getenv("HVS_NLSHIM_SOCK");
    const char *rundir = getenv("HVS_RUNDIR");
    int n;

    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (path && *path) {
        n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
    } else {
        n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s",
                     rundir && *rundir ? rundir : "/run/hvs",
                     HVS_DATAPATH_SOCK);
    }
    return n < 0 || (size_t) n >= sizeof sa->sun_path ? -ENAMETOOLONG : 0;
}

/* Waits for the HELLO record on 'fd' and returns the port id it assigns,
 * or a negative errno. */
static int64_t
nls_read_hello(int fd)
{
    struct {
        struct nlmsghdr nlh;
        struct hvs_nl_hello hello;
        char spare[64];
    } rec;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    ssize_t n;
    int r;

    do {
        r = poll(&pfd, 1, NLS_HELLO_TIMEOUT_MS);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return -ETIMEDOUT;
    } else if (r < 0) {
        return -errno;
    }
    do {
        n = real_recv(fd, &rec, sizeof rec, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    if (n == 0) {
        return -ECONNRESET;
    }
    if ((size_t) n < sizeof rec.nlh + sizeof rec.hello
        || rec.nlh.nlmsg_type != HVS_NLMSG_HELLO
        || !rec.hello.portid) {
        return -EPROTO;
    }
    if (rec.hello.version != HVS_NL_PROTO_VERSION) {
        fprintf(stderr, "hvs-nlshim: hvs-dpd speaks control protocol "
                "version %u, this shim speaks %u\n", rec.hello.version,
                HVS_NL_PROTO_VERSION);
        return -EPROTONOSUPPORT;
    }
    return rec.hello.portid;
}

/* Connects a new SOCK_SEQPACKET socket to the daemon at 'sa' and reads its
 * HELLO.  Returns the fd and sets '*portid', or returns a negative errno.
 * Blocking whatever the caller asked for: the emulated socket must be
 * usable when socket() returns. */
static int
nls_connect_daemon(const struct sockaddr_un *sa, int type, uint32_t *portid)
{
    int64_t hello;
    int fd;

    fd = real_socket(AF_UNIX, SOCK_SEQPACKET | (type & SOCK_CLOEXEC), 0);
    if (fd < 0) {
        return -errno;
    }
    if (real_connect(fd, (const struct sockaddr *) sa, sizeof *sa) < 0) {
        hello = -errno;
    } else {
        hello = nls_read_hello(fd);
    }
    if (hello < 0) {
        real_close(fd);
        return (int) hello;
    }
    *portid = (uint32_t) hello;
    return fd;
}

/* Creates an offline socket: an AF_UNIX datagram socket connected to its
 * own (autobound, abstract) address, so that the shim can queue replies
 * for the program by sending to it.  A connected datagram socket accepts
 * datagrams only from its peer, here itself. */
static int
nls_offline_socket(int type, uint32_t *portid)
{
    static _Atomic uint32_t next_portid;
    struct sockaddr_un self = { .sun_family = AF_UNIX };
    socklen_t len = sizeof self;
    int err;
    int fd;

    fd = real_socket(AF_UNIX, SOCK_DGRAM | (type & SOCK_CLOEXEC), 0);
    if (fd < 0) {
        return -errno;
    }
    /* Binding just the family autobinds an abstract address. */
    if (real_bind(fd, (struct sockaddr *) &self, sizeof(sa_family_t)) < 0
        || real_getsockname(fd, (struct sockaddr *) &self, &len) < 0
        || real_connect(fd, (struct sockaddr *) &self, len) < 0) {
        err = -errno;
        real_close(fd);
        return err;
    }
    /* Like the kernel's autobind, any nonzero id unique in the process. */
    *portid = 0x80000000u | atomic_fetch_add(&next_portid, 1);
    return fd;
}

/* Creates an emulated NETLINK_GENERIC socket of 'type' (SOCK_RAW or
 * SOCK_DGRAM plus SOCK_CLOEXEC/SOCK_NONBLOCK). */
static int
nls_socket(int type)
{
    struct sockaddr_un sa;
    struct nls_entry *e;
    uint32_t portid = 0;
    bool offline = false;
    int err;
    int fd;
    int i;

    err = nls_sock_path(&sa);
    fd = err ? err : nls_connect_daemon(&sa, type, &portid);
    if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM || fd == -ENOBUFS) {
        errno = -fd;            /* out of resources: fail as the kernel */
        return -1;
    }
    if (fd < 0) {
        if (!atomic_flag_test_and_set(&nls_warned_connect)) {
            fprintf(stderr, "hvs-nlshim: cannot connect to %s: %s "
                    "(is hvs-dpd running?)\n", sa.sun_path, strerror(-fd));
        }
        offline = true;
        fd = nls_offline_socket(type, &portid);
        if (fd < 0) {
            errno = -fd;
            return -1;
        }
    }
    if ((type & SOCK_NONBLOCK)
        && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        err = errno;
        real_close(fd);
        errno = err;
        return -1;
    }
    e = nls_slot(fd);
    if (!e) {
        real_close(fd);
        errno = fd >= NLS_MAX_FDS ? EMFILE : ENOMEM;
        return -1;
    }

    atomic_store(&e->sent, 0);
    atomic_store(&e->synced, 0);
    atomic_store(&e->opts, 0);
    atomic_store(&e->type, type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK));
    atomic_store(&e->offline, offline);
    for (i = 0; i < NLS_GROUP_WORDS; i++) {
        atomic_store(&e->groups[i], 0);
    }
    atomic_store_explicit(&e->portid, portid, memory_order_release);
    if (nls_debug()) {
        err = errno;
        fprintf(stderr, "hvs-nlshim: fd %d is netlink port %u%s\n", fd,
                (unsigned int) portid, offline ? " (offline)" : "");
        errno = err;
    }
    return fd;
}

int
socket(int domain, int type, int protocol)
{
    int base = type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (domain == AF_NETLINK && protocol == NETLINK_GENERIC
        && (base == SOCK_RAW || base == SOCK_DGRAM)) {
        nls_resolve();
        return nls_socket(type);
    }
    return NLS_REAL(socket)(domain, type, protocol);
}

/* ---- closing and duplicating ---- */

int
close(int fd)
{
    /* Forget first: once the fd is closed another thread may get the same
     * number from socket() and register it. */
    nls_forget(fd);
    return NLS_REAL(close)(fd);
}

static void
nls_forget_range(unsigned int first, unsigned int last)
{
    unsigned int fd;

    if (first >= NLS_MAX_FDS) {
        return;
    }
    if (last >= NLS_MAX_FDS) {
        last = NLS_MAX_FDS - 1;
    }
    for (fd = first; fd <= last; fd++) {
        if (!atomic_load_explicit(&nls_chunks[fd >> NLS_CHUNK_BITS],
                                  memory_order_acquire)) {
            /* Skip the rest of an unallocated chunk. */
            fd |= NLS_CHUNK_SIZE - 1;
            continue;
        }
        nls_forget((int) fd);
    }
}

int
close_range(unsigned int first, unsigned int last, int flags)
{
    if (!(flags & CLOSE_RANGE_CLOEXEC)) {
        nls_forget_range(first, last);
    }
    if (!NLS_REAL(close_range)) {
        errno = ENOSYS;
        return -1;
    }
    return real_close_range(first, last, flags);
}

void
closefrom(int lowfd)
{
    nls_forget_range(lowfd < 0 ? 0 : (unsigned int) lowfd, UINT_MAX);
    if (NLS_REAL(closefrom)) {
        real_closefrom(lowfd);
    }
}

/* Updates the table after 'newfd' became a duplicate of 'oldfd'. */
static void
nls_after_dup(int oldfd, int newfd)
{
    struct nls_entry *e = nls_lookup(oldfd);

    if (e) {
        nls_copy(newfd, e);
    } else {
        nls_forget(newfd);
    }
}

int
dup(int oldfd)
{
    int fd = NLS_REAL(dup)(oldfd);

    if (fd >= 0) {
        nls_after_dup(oldfd, fd);
    }
    return fd;
}

int
dup2(int oldfd, int newfd)
{
    int fd = NLS_REAL(dup2)(oldfd, newfd);

    if (fd >= 0 && oldfd != newfd) {
        nls_after_dup(oldfd, fd);
    }
    return fd;
}

int
dup3(int oldfd, int newfd, int flags)
{
    int fd = NLS_REAL(dup3)(oldfd, newfd, flags);

    if (fd >= 0) {
        nls_after_dup(oldfd, fd);
    }
    return fd;
}

/* ---- addresses ---- */

/* Stores sockaddr_nl{AF_NETLINK, pid} the way the kernel returns
 * addresses: truncated to *len, *len set to the full size. */
static void
nls_put_addr(void *addr, socklen_t *len, uint32_t pid, uint32_t groups)
{
    struct sockaddr_nl nl = {
        .nl_family = AF_NETLINK,
        .nl_pid = pid,
        .nl_groups = groups,
    };

    if (addr && len) {
        memcpy(addr, &nl, *len < sizeof nl ? *len : sizeof nl);
        *len = sizeof nl;
    }
}

int
getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(getsockname)(fd, addr.__sockaddr__, len);
    }
    if (!len) {
        errno = EFAULT;
        return -1;
    }
    nls_put_addr(addr.__sockaddr__, len, atomic_load(&e->portid),
                 atomic_load(&e->groups[0]));
    return 0;
}

int
getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(getpeername)(fd, addr.__sockaddr__, len);
    }
    if (!len) {
        errno = EFAULT;
        return -1;
    }
    nls_put_addr(addr.__sockaddr__, len, 0, 0);     /* the "kernel" */
    return 0;
}

int
connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr_nl *nl = (const void *) addr.__sockaddr__;
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(connect)(fd, addr.__sockaddr__, len);
    }
    if (len >= sizeof nl->nl_family && nl->nl_family == AF_UNSPEC) {
        return 0;
    }
    if (len < sizeof *nl || nl->nl_family != AF_NETLINK) {
        errno = EINVAL;
        return -1;
    }
    if (nl->nl_pid) {
        /* Every record goes to hvs-dpd; unicast to another netlink port
         * cannot be emulated, so refuse rather than misdeliver. */
        errno = EOPNOTSUPP;
        return -1;
    }
    return 0;
}

/* ---- multicast membership ---- */

/* Sends one private record, waiting for buffer space whatever the fd's
 * O_NONBLOCK says: a membership change must not be lost. */
static int
nls_send_private(int fd, const void *rec, size_t len)
{
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    ssize_t n;

    for (;;) {
        n = real_send(fd, rec, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
        if (errno != EINTR) {
            poll(&pfd, 1, -1);
        }
    }
}

static int
nls_membership(int fd, struct nls_entry *e, uint32_t op, uint32_t group)
{
    struct {
        struct nlmsghdr nlh;
        struct hvs_nl_membership m;
    } rec = {
        .nlh = {
            .nlmsg_len = sizeof rec,
            .nlmsg_type = HVS_NLMSG_MEMBERSHIP,
            .nlmsg_flags = NLM_F_REQUEST,
            .nlmsg_pid = atomic_load(&e->portid),
        },
        .m = { .op = op, .group = group },
    };
    uint32_t bit;

    if (!atomic_load(&e->offline)
        && nls_send_private(fd, &rec, sizeof rec) < 0) {
        return -1;
    }
    if (group < NLS_GROUPS) {
        bit = 1u << (group % 32);
        if (op == HVS_NL_JOIN) {
            atomic_fetch_or(&e->groups[group / 32], bit);
        } else {
            atomic_fetch_and(&e->groups[group / 32], ~bit);
        }
    }
    return 0;
}

static bool
nls_is_member(const struct nls_entry *e, uint32_t group)
{
    return group < NLS_GROUPS
           && (atomic_load(&e->groups[group / 32]) >> (group % 32)) & 1;
}

int
bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr_nl *nl = (const void *) addr.__sockaddr__;
    struct nls_entry *e = nls_lookup(fd);
    uint32_t group;
    bool want;

    if (!e) {
        return NLS_REAL(bind)(fd, addr.__sockaddr__, len);
    }
    if (len < sizeof *nl || nl->nl_family != AF_NETLINK) {
        errno = EINVAL;
        return -1;
    }
    /* The port id is the daemon's to assign, so a requested nl_pid is
     * ignored.  nl_groups sets groups 1..32 exactly, as in the kernel. */
    for (group = 1; group <= 32; group++) {
        want = (nl->nl_groups >> (group - 1)) & 1;
        if (want != nls_is_member(e, group)
            && nls_membership(fd, e, want ? HVS_NL_JOIN : HVS_NL_LEAVE,
                              group) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- socket options ---- */

static uint32_t
nls_opt_bit(int optname)
{
    switch (optname) {
    case NETLINK_PKTINFO:
        return NLS_OPT_PKTINFO;
    case NETLINK_BROADCAST_ERROR:
        return NLS_OPT_BROADCAST_ERROR;
    case NETLINK_NO_ENOBUFS:
        return NLS_OPT_NO_ENOBUFS;
    case NETLINK_LISTEN_ALL_NSID:
        return NLS_OPT_LISTEN_ALL_NSID;
    case NETLINK_CAP_ACK:
        return NLS_OPT_CAP_ACK;
    case NETLINK_EXT_ACK:
        return NLS_OPT_EXT_ACK;
    case NETLINK_GET_STRICT_CHK:
        return NLS_OPT_GET_STRICT_CHK;
    default:
        return 0;
    }
}

static int
nls_setsockopt_netlink(int fd, struct nls_entry *e, int optname,
                       const void *optval, socklen_t optlen)
{
    uint32_t bit = nls_opt_bit(optname);
    int val;

    if (!bit && optname != NETLINK_ADD_MEMBERSHIP
        && optname != NETLINK_DROP_MEMBERSHIP) {
        errno = ENOPROTOOPT;
        return -1;
    }
    if (optlen < sizeof val) {
        errno = EINVAL;
        return -1;
    }
    if (!optval) {
        errno = EFAULT;
        return -1;
    }
    memcpy(&val, optval, sizeof val);
    if (bit) {
        if (val) {
            atomic_fetch_or(&e->opts, bit);
        } else {
            atomic_fetch_and(&e->opts, ~bit);
        }
        return 0;
    }
    if (val <= 0) {
        errno = EINVAL;
        return -1;
    }
    return nls_membership(fd, e, optname == NETLINK_ADD_MEMBERSHIP
                          ? HVS_NL_JOIN : HVS_NL_LEAVE, (uint32_t) val);
}

int
setsockopt(int fd, int level, int optname, const void *optval,
           socklen_t optlen)
{
    struct nls_entry *e = nls_lookup(fd);

    if (e && level == SOL_NETLINK) {
        return nls_setsockopt_netlink(fd, e, optname, optval, optlen);
    }
    /* SOL_SOCKET options mean the same on the AF_UNIX socket, including
     * SO_RCVBUFFORCE's EPERM without CAP_NET_ADMIN, which Open vSwitch
     * tolerates. */
    return NLS_REAL(setsockopt)(fd, level, optname, optval, optlen);
}

static int
nls_put_int(void *optval, socklen_t *optlen, int val)
{
    if (!optval || !optlen) {
        errno = EFAULT;
        return -1;
    }
    if (*optlen < sizeof val) {
        errno = EINVAL;
        return -1;
    }
    memcpy(optval, &val, sizeof val);
    *optlen = sizeof val;
    return 0;
}

static int
nls_getsockopt_netlink(struct nls_entry *e, int optname, void *optval,
                       socklen_t *optlen)
{
    uint32_t words[NLS_GROUP_WORDS];
    uint32_t bit = nls_opt_bit(optname);
    int i;

    if (bit) {
        return nls_put_int(optval, optlen,
                           (atomic_load(&e->opts) & bit) != 0);
    }
    if (optname != NETLINK_LIST_MEMBERSHIPS) {
        errno = ENOPROTOOPT;
        return -1;
    }
    if (!optlen || (*optlen && !optval)) {
        errno = EFAULT;
        return -1;
    }
    /* Bit g-1 of the bitmap is group g, as in the kernel. */
    memset(words, 0, sizeof words);
    for (i = 1; i < NLS_GROUPS; i++) {
        if (nls_is_member(e, i)) {
            words[(i - 1) / 32] |= 1u << ((i - 1) % 32);
        }
    }
    memcpy(optval, words, *optlen < sizeof words ? *optlen : sizeof words);
    *optlen = sizeof words;
    return 0;
}

int
getsockopt(int fd, int level, int optname, void *restrict optval,
           socklen_t *restrict optlen)
{
    struct nls_entry *e = nls_lookup(fd);

    if (e && level == SOL_NETLINK) {
        return nls_getsockopt_netlink(e, optname, optval, optlen);
    }
    if (e && level == SOL_SOCKET) {
        /* Whoever asks what this socket is must see netlink. */
        switch (optname) {
        case SO_DOMAIN:
            return nls_put_int(optval, optlen, AF_NETLINK);
        case SO_PROTOCOL:
            return nls_put_int(optval, optlen, NETLINK_GENERIC);
        case SO_TYPE:
            return nls_put_int(optval, optlen, (int) atomic_load(&e->type));
        }
    }
    return NLS_REAL(getsockopt)(fd, level, optname, optval, optlen);
}

/* ---- sending ---- */

/* Copies up to 'len' leading bytes of the iovecs into 'buf'; returns how
 * many were available. */
static size_t
nls_gather(const struct iovec *iov, size_t iovlen, void *buf, size_t len)
{
    size_t got = 0;
    size_t i;
    size_t n;

    for (i = 0; i < iovlen && got < len; i++) {
        n = iov[i].iov_len < len - got ? iov[i].iov_len : len - got;
        if (n) {
            memcpy((char *) buf + got, iov[i].iov_base, n);
            got += n;
        }
    }
    return got;
}

static size_t
nls_iov_size(const struct iovec *iov, size_t iovlen)
{
    size_t total = 0;
    size_t i;

    for (i = 0; i < iovlen; i++) {
        total += iov[i].iov_len;
    }
    return total;
}

/* Answers a record sent on an offline socket the way a kernel without the
 * requested genetlink family does: every request gets NLMSG_ERROR ENOENT
 * with the request echoed (only its header with NETLINK_CAP_ACK).  The
 * replies are queued before send() returns, as the kernel's would be. */
static ssize_t
nls_offline_send(int fd, struct nls_entry *e, const struct iovec *iov,
                 size_t iovlen)
{
    size_t total = nls_iov_size(iov, iovlen);
    bool capped = atomic_load(&e->opts) & NLS_OPT_CAP_ACK;
    struct nlmsghdr *req;
    struct nlmsghdr rep;
    struct nlmsgerr err;
    struct iovec out[3];
    struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };
    size_t echo;
    size_t off;
    char *buf;

    buf = malloc(total);
    if (!buf) {
        errno = ENOBUFS;
        return -1;
    }
    nls_gather(iov, iovlen, buf, total);
    for (off = 0; off + NLMSG_HDRLEN <= total;
         off += NLMSG_ALIGN(req->nlmsg_len)) {
        req = (struct nlmsghdr *) (buf + off);
        if (req->nlmsg_len < NLMSG_HDRLEN || req->nlmsg_len > total - off) {
            break;
        }
        if (!(req->nlmsg_flags & NLM_F_REQUEST)) {
            continue;
        }
        echo = capped ? 0 : req->nlmsg_len - NLMSG_HDRLEN;
        memset(&err, 0, sizeof err);
        err.error = -ENOENT;
        err.msg = *req;
        rep = (struct nlmsghdr) {
            .nlmsg_len = NLMSG_HDRLEN + sizeof err + echo,
            .nlmsg_type = NLMSG_ERROR,
            .nlmsg_flags = capped ? NLM_F_CAPPED : 0,
            .nlmsg_seq = req->nlmsg_seq,
            .nlmsg_pid = atomic_load(&e->portid),
        };
        out[0] = (struct iovec) { &rep, sizeof rep };
        out[1] = (struct iovec) { &err, sizeof err };
        out[2] = (struct iovec) { req + 1, echo };
        /* A full queue drops the reply, as an overrun netlink socket
         * would. */
        real_sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    free(buf);
    return (ssize_t) total;
}

/* Sends one request record: the whole of 'iov', which may hold several
 * netlink messages (SOCK_SEQPACKET gathers the iovecs into one datagram,
 * which is what the daemon splits).  Destination addresses are ignored:
 * netlink requests always go to the kernel, here hvs-dpd. */
static ssize_t
nls_send_iov(int fd, struct nls_entry *e, const struct iovec *iov,
             size_t iovlen, int flags)
{
    struct msghdr m = {
        .msg_iov = (struct iovec *) iov,
        .msg_iovlen = iovlen,
    };
    struct nlmsghdr nlh;
    ssize_t n;

    if (nls_gather(iov, iovlen, &nlh, sizeof nlh) >= 6
        && HVS_NLMSG_IS_PRIVATE(nlh.nlmsg_type)) {
        /* The daemon would take it for one of our control records. */
        errno = EINVAL;
        return -1;
    }
    if (!nls_iov_size(iov, iovlen)) {
        /* The kernel ignores an empty send; the daemon would read an empty
         * record as end of connection. */
        return 0;
    }
    if (atomic_load(&e->offline)) {
        return nls_offline_send(fd, e, iov, iovlen);
    }
    n = real_sendmsg(fd, &m, (flags & MSG_DONTWAIT) | MSG_NOSIGNAL);
    if (n >= 0) {
        atomic_fetch_add(&e->sent, 1);
    } else if (errno == EPIPE || errno == ECONNRESET) {
        nls_lost(e);
    }
    return n;
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    struct nls_entry *e = nls_lookup(fd);
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };

    if (!e) {
        return NLS_REAL(send)(fd, buf, len, flags);
    }
    return nls_send_iov(fd, e, &iov, 1, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
       __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
    struct nls_entry *e = nls_lookup(fd);
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };

    if (!e) {
        return NLS_REAL(sendto)(fd, buf, len, flags, addr.__sockaddr__, alen);
    }
    return nls_send_iov(fd, e, &iov, 1, flags);
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(sendmsg)(fd, msg, flags);
    }
    if (!msg) {
        errno = EFAULT;
        return -1;
    }
    return nls_send_iov(fd, e, msg->msg_iov, msg->msg_iovlen, flags);
}

int
sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
    struct nls_entry *e = nls_lookup(fd);
    unsigned int i;
    ssize_t n;

    if (!e) {
        return NLS_REAL(sendmmsg)(fd, vec, vlen, flags);
    }
    for (i = 0; i < vlen; i++) {
        n = nls_send_iov(fd, e, vec[i].msg_hdr.msg_iov,
                         vec[i].msg_hdr.msg_iovlen, flags);
        if (n < 0) {
            return i ? (int) i : -1;
        }
        vec[i].msg_len = (unsigned int) n;
    }
    return (int) i;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
    struct nls_entry *e = nls_lookup(fd);
    struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };

    if (!e) {
        return NLS_REAL(write)(fd, buf, len);
    }
    return nls_send_iov(fd, e, &iov, 1, 0);
}

/* ---- receiving ---- */

static bool
nls_owed(const struct nls_entry *e)
{
    /* Signed so that a SYNC counted before its request (another thread
     * racing on the same fd) never reads as a huge debt. */
    return (int32_t) (atomic_load(&e->sent) - atomic_load(&e->synced)) > 0;
}

static void
nls_wait_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
        continue;
    }
}

/* Acts on a private record the daemon sent.  Returns 0 to go on reading,
 * or -1 with errno set for the caller of recv(). */
static int
nls_private(struct nls_entry *e, uint16_t type)
{
    switch (type) {
    case HVS_NLMSG_SYNC:
        atomic_fetch_add(&e->synced, 1);
        return 0;
    case HVS_NLMSG_OVERFLOW:
        if (atomic_load(&e->opts) & NLS_OPT_NO_ENOBUFS) {
            return 0;
        }
        errno = ENOBUFS;
        return -1;
    default:
        return 0;               /* a stray HELLO or unknown record */
    }
}

/* Receives one record into 'msg' the way a netlink socket would: private
 * records are consumed and acted on, and while SYNCs are owed the call
 * blocks even under MSG_DONTWAIT or O_NONBLOCK, because the program
 * expects its replies to be queued already. */
static ssize_t
nls_recvmsg(int fd, struct nls_entry *e, struct msghdr *msg, int flags)
{
    struct msghdr m = {
        .msg_iov = msg->msg_iov,
        .msg_iovlen = msg->msg_iovlen,
    };
    size_t cap = nls_iov_size(msg->msg_iov, msg->msg_iovlen);
    /* Reading straight into the caller's buffer saves a syscall; a
     * private record that lands there is harmless because the buffer is
     * only defined up to the length returned.  A tiny buffer or MSG_PEEK
     * needs a look at the header first. */
    bool direct = cap >= NLMSG_HDRLEN && !(flags & MSG_PEEK);
    struct nlmsghdr nlh;
    bool owed;
    ssize_t n;
    int f;

    for (;;) {
        owed = nls_owed(e);
        f = owed ? flags | MSG_DONTWAIT : flags;
        if (!direct) {
            n = real_recv(fd, &nlh, sizeof nlh,
                          MSG_PEEK | MSG_TRUNC | (f & MSG_DONTWAIT));
            if (n < 0) {
                if (owed && (errno == EAGAIN || errno == EWOULDBLOCK
                             || errno == EINTR)) {
                    nls_wait_readable(fd);
                    continue;
                }
                return -1;
            }
            if (n == 0) {
                nls_lost(e);
                errno = ECONNRESET;
                return -1;
            }
            if ((size_t) n >= sizeof nlh
                && HVS_NLMSG_IS_PRIVATE(nlh.nlmsg_type)) {
                n = real_recv(fd, &nlh, sizeof nlh, MSG_DONTWAIT);
                if (n >= (ssize_t) sizeof nlh
                    && nls_private(e, nlh.nlmsg_type) < 0) {
                    return -1;
                }
                continue;
            }
        }

        m.msg_flags = 0;
        n = real_recvmsg(fd, &m, f);
        if (n < 0) {
            if (owed && (errno == EAGAIN || errno == EWOULDBLOCK
                         || errno == EINTR)) {
                nls_wait_readable(fd);
                continue;
            }
            return -1;
        }
        if (n == 0 && cap >= NLMSG_HDRLEN) {
            nls_lost(e);
            errno = ECONNRESET;
            return -1;
        }
        if (direct && (size_t) n >= sizeof nlh
            && nls_gather(msg->msg_iov, msg->msg_iovlen, &nlh, sizeof nlh)
               == sizeof nlh
            && HVS_NLMSG_IS_PRIVATE(nlh.nlmsg_type)) {
            if (nls_private(e, nlh.nlmsg_type) < 0) {
                return -1;
            }
            continue;
        }
        break;
    }

    msg->msg_flags = m.msg_flags & ~MSG_CTRUNC;
    msg->msg_controllen = 0;
    if (msg->msg_name) {
        nls_put_addr(msg->msg_name, &msg->msg_namelen, 0, 0);
    } else {
        msg->msg_namelen = 0;
    }
    return n;
}

static ssize_t
nls_recv_buf(int fd, struct nls_entry *e, void *buf, size_t len, int flags,
             struct sockaddr *addr, socklen_t *alen)
{
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    struct sockaddr_nl nl;
    ssize_t n;

    if (addr && alen) {
        msg.msg_name = &nl;
        msg.msg_namelen = sizeof nl;
    }
    n = nls_recvmsg(fd, e, &msg, flags);
    if (n >= 0 && addr && alen) {
        nls_put_addr(addr, alen, nl.nl_pid, nl.nl_groups);
    }
    return n;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(recv)(fd, buf, len, flags);
    }
    return nls_recv_buf(fd, e, buf, len, flags, NULL, NULL);
}

ssize_t
recvfrom(int fd, void *restrict buf, size_t len, int flags,
         __SOCKADDR_ARG addr, socklen_t *restrict alen)
{
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(recvfrom)(fd, buf, len, flags, addr.__sockaddr__,
                                  alen);
    }
    return nls_recv_buf(fd, e, buf, len, flags, addr.__sockaddr__, alen);
}

ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct nls_entry *e = nls_lookup(fd);

    /* Nothing is ever queued there, and waiting for SYNCs would spin. */
    if (!e || (flags & MSG_ERRQUEUE)) {
        return NLS_REAL(recvmsg)(fd, msg, flags);
    }
    if (!msg) {
        errno = EFAULT;
        return -1;
    }
    return nls_recvmsg(fd, e, msg, flags);
}

int
recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
         struct timespec *timeout)
{
    struct nls_entry *e = nls_lookup(fd);
    unsigned int i;
    ssize_t n;
    int f;

    if (!e) {
        return NLS_REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
    }
    /* The timeout is not emulated: netlink replies are either queued or
     * owed, and owed ones arrive promptly. */
    for (i = 0; i < vlen; i++) {
        f = flags & ~MSG_WAITFORONE;
        if (i && (flags & MSG_WAITFORONE)) {
            f |= MSG_DONTWAIT;
        }
        n = nls_recvmsg(fd, e, &vec[i].msg_hdr, f);
        if (n < 0) {
            return i ? (int) i : -1;
        }
        vec[i].msg_len = (unsigned int) n;
    }
    return (int) i;
}

ssize_t
read(int fd, void *buf, size_t len)
{
    struct nls_entry *e = nls_lookup(fd);

    if (!e) {
        return NLS_REAL(read)(fd, buf, len);
    }
    return nls_recv_buf(fd, e, buf, len, 0, NULL, NULL);
}
