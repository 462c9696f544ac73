/* OpenFlow management connections (see ofconn.h). */
#include "ofconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/openvswitch.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dpif.h"
#include "host-if.h"
#include "log.h"
#include "meters.h"
#include "timeval.h"
#include "groups.h"
#include "ofp-actions.h"
#include "ofp-group.h"
#include "ofp-match.h"
#include "ofp-meter.h"
#include "ofp-msgs.h"
#include "ofproto.h"
#include "packet.h"
#include "rules.h"
#include "upcall.h"
#include "xlate.h"

LOG_MODULE(ofconn);

#define RX_MAX (OFP_MSG_MAX + 1)
#define TX_LIMIT (16u << 20)    /* a peer that reads nothing is dropped */
#define MAX_CONNS 64
#define TARGET_MAX 128
#define OFP_TCP_PORT 6653
#define DEFAULT_MISS_SEND_LEN 128
#define PIN_QUEUE_MAX 256       /* packet-ins waiting for the main loop */
#define BACKOFF_MIN_MS 1000
#define PIN_TX_BACKLOG (1u << 20)  /* unsent bytes beyond which a
                                    * connection misses packet-ins */

/* What an epoll event's data.ptr points at starts with one of these. */
enum kind { K_LISTENER, K_CONN, K_REMOTE, K_PINQ };

/* A management socket (BRIDGE.mgmt) or a Controller "ptcp:" target. */
struct listener {
    enum kind kind;
    int fd;
    char bridge[IFNAMSIZ];
    char path[108];             /* unix socket file; "" for TCP */
    char target[TARGET_MAX];    /* "" for the management socket */
    uint32_t probe_ms;          /* for the connections it accepts */
    bool seen;                  /* still configured (sync_controllers) */
    struct listener *next;
};

/* A Controller "tcp:IP:PORT" target: connects, and reconnects with
 * exponential backoff whenever the connection fails or drops. */
struct remote {
    enum kind kind;
    char bridge[IFNAMSIZ];
    char target[TARGET_MAX];
    struct sockaddr_in sin;
    int fd;                     /* while connecting, else -1 */
    struct conn *conn;          /* once connected */
    uint64_t next_try_ms;
    uint32_t backoff_ms, max_backoff_ms, probe_ms;
    bool seen;
    struct remote *next;
};

enum flow_format { FF_OF10 = 0, FF_NXM = 2 };
enum pin_format { PIN_STANDARD = 0, PIN_NXT = 1 };
enum { ROLE_NOCHANGE, ROLE_EQUAL, ROLE_MASTER, ROLE_SLAVE };

struct conn {
    enum kind kind;
    int fd;
    char bridge[IFNAMSIZ];
    uint8_t version;            /* 0 until hello is negotiated */
    bool table_id_ext;          /* NXT_FLOW_MOD_TABLE_ID enabled */
    enum flow_format flow_format;
    enum pin_format pin_format;
    uint16_t config_flags, miss_send_len;
    /* A primary connection (Controller table) rather than a service
     * connection (management socket): only those count for fail_mode,
     * and service connections get no packet-ins unless they set a
     * miss_send_len. */
    bool controller;
    char target[TARGET_MAX];
    struct remote *remote;      /* the active target it belongs to */
    uint32_t role;
    uint32_t async[6];          /* packet_in, port_status, flow_removed
                                 * masks: [master/equal, slave] each */
    uint32_t probe_ms;          /* inactivity probe, 0: none */
    uint64_t last_rx_ms, probe_sent_ms;
    uint8_t rx[RX_MAX];
    size_t rx_len;
    struct ofp_buf tx;
    size_t tx_ofs;
    bool want_out, dead;
    struct conn *next;
};

/* A packet-in a handler thread queued for the main loop. */
struct pin {
    struct xlate_pin_cookie ck;
    size_t len, orig_len;
    uint8_t data[];
};

static int epfd = -1;
static char *run_dir;
static struct dpif *dp;
static struct listener *listeners;
static struct conn *conns;
static unsigned n_conns;
static struct remote *remotes;
static uint64_t last_cfg_seq;
static uint32_t next_xid = 1;

static enum kind pinq_kind = K_PINQ;
static int pin_efd = -1;
static pthread_mutex_t pin_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct pin *pin_q[PIN_QUEUE_MAX];
static size_t pin_head, pin_n;
static _Atomic uint64_t pin_dropped, pin_sent;

/* ---- sockets ------------------------------------------------------------ */

static void
listener_close(struct listener *l)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    if (l->path[0]) {
        unlink(l->path);
    }
    free(l);
}

static struct listener *
listener_open(const char *bridge)
{
    struct listener *l = calloc(1, sizeof *l);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    if (!l) {
        return NULL;
    }
    l->kind = K_LISTENER;
    snprintf(l->bridge, sizeof l->bridge, "%s", bridge);
    if ((size_t) snprintf(l->path, sizeof l->path, "%s/%s.mgmt", run_dir,
                          bridge) >= sizeof l->path
        || strlen(l->path) >= sizeof sun.sun_path) {
        LOG_WARN("%s: management socket path too long", bridge);
        free(l);
        return NULL;
    }
    memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unlink(l->path);
    mode_t old = umask(0077);   /* root-only, as Open vSwitch's */
    int err = l->fd < 0 ? -1 : bind(l->fd, (struct sockaddr *) &sun,
                                    sizeof sun);
    umask(old);
    if (err || listen(l->fd, 16)) {
        LOG_WARN("%s: cannot listen on %s: %s", bridge, l->path,
                 strerror(errno));
        if (l->fd >= 0) {
            close(l->fd);
        }
        free(l);
        return NULL;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
    epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev);
    LOG_INFO("%s: listening on %s", bridge, l->path);
    return l;
}

static void remote_backoff(struct remote *, uint64_t now);

static void
conn_close(struct conn *c)
{
    if (c->remote) {
        /* Try again after the backoff, which doubles up to its limit. */
        struct remote *r = c->remote;
        r->conn = NULL;
        remote_backoff(r, time_msec());
        LOG_INFO("%s<->%s: connection closed", c->bridge, c->target);
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    ofp_buf_uninit(&c->tx);
    free(c);
    n_conns--;
}

static void
conn_update_events(struct conn *c)
{
    bool want = c->tx_ofs < c->tx.len;
    if (want != c->want_out) {
        struct epoll_event ev = {
            .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c,
        };
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = want;
    }
}

static void
conn_flush(struct conn *c)
{
    while (c->tx_ofs < c->tx.len) {
        ssize_t n = send(c->fd, c->tx.data + c->tx_ofs,
                         c->tx.len - c->tx_ofs, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                c->dead = true;
            }
            break;
        }
        c->tx_ofs += n;
    }
    if (c->tx_ofs == c->tx.len) {
        ofp_buf_clear(&c->tx);
        c->tx_ofs = 0;
    } else if (c->tx.len - c->tx_ofs > TX_LIMIT) {
        c->dead = true;
    }
    conn_update_events(c);
}

/* Makes a connection of 'fd' (already in the epoll set if 'in_epoll')
 * and sends our hello.  Returns NULL (and closes 'fd') if there are too
 * many. */
static struct conn *
conn_create(int fd, const char *bridge, const char *target, bool controller,
            uint32_t probe_ms, bool in_epoll)
{
    struct conn *c = n_conns < MAX_CONNS ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        if (in_epoll) {
            epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        }
        close(fd);
        return NULL;
    }
    c->kind = K_CONN;
    c->fd = fd;
    snprintf(c->bridge, sizeof c->bridge, "%s", bridge);
    snprintf(c->target, sizeof c->target, "%s", target);
    c->controller = controller;
    c->probe_ms = probe_ms;
    c->last_rx_ms = time_msec();
    c->miss_send_len = controller ? DEFAULT_MISS_SEND_LEN : 0;
    c->role = ROLE_EQUAL;
    /* OpenFlow 1.3's defaults: masters and equals get packet-ins for
     * misses and actions, every port status and flow removal; slaves
     * only port status. */
    c->async[0] = 3;
    c->async[2] = c->async[3] = 7;
    c->async[4] = 15;
    ofp_buf_init(&c->tx);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    epoll_ctl(epfd, in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    c->next = conns;
    conns = c;
    n_conns++;
    /* We offer every version we speak; the peer's hello decides. */
    ofp_encode_hello(&c->tx, OFP13_VERSION, next_xid++,
                     OFP_SUPPORTED_BITMAP);
    conn_flush(c);
    return c;
}

static void
conn_accept(struct listener *l)
{
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        struct conn *c = conn_create(fd, l->bridge, l->target,
                                     l->target[0] != '\0', l->probe_ms,
                                     false);
        if (c && c->controller) {
            LOG_INFO("%s<->%s: accepted a controller connection",
                     l->bridge, l->target);
        }
    }
}

/* ---- replies ------------------------------------------------------------ */

static void
send_error(struct conn *c, const struct ofp_msg *m, ofperr err)
{
    uint8_t v = c->version ? c->version : OFP13_VERSION;
    ofp_encode_error(&c->tx, v, m->xid, err, m->data, m->length);
}

static void
send_simple(struct conn *c, uint8_t type, uint32_t xid, const void *body,
            size_t len)
{
    size_t start = ofp_start(&c->tx, c->version, type, xid);
    ofp_buf_bytes(&c->tx, body, len);
    ofp_finish(&c->tx, start);
}

static const struct ofproto *
conn_bridge(const struct conn *c)
{
    return ofproto_find(xlate_cfg, c->bridge);
}

static void
host_if(const char *name, uint8_t mac[6], uint32_t *config, uint32_t *state)
{
    struct host_if_state st;

    host_if_read(name, &st);
    memcpy(mac, st.mac, 6);
    *config = st.has_flags && !st.admin_up ? 1 : 0;     /* PORT_DOWN */
    *state = st.has_flags && !st.link_up ? 1 : 0;       /* LINK_DOWN */
}

/* The port's current features as OpenFlow 1.1+ numbers them (10GB_FD is
 * bit 6, COPPER bit 11, FIBER 12, AUTONEG 13), from ethtool as Open
 * vSwitch reads them; 0 when the driver does not say. */
static uint32_t
host_if_features(const char *name)
{
    struct ethtool_cmd ecmd;
    struct ifreq ifr;
    uint32_t f = 0;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return 0;
    }
    memset(&ecmd, 0, sizeof ecmd);
    memset(&ifr, 0, sizeof ifr);
    ecmd.cmd = ETHTOOL_GSET;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_data = (void *) &ecmd;
    if (!ioctl(fd, SIOCETHTOOL, &ifr)) {
        uint32_t speed = ethtool_cmd_speed(&ecmd);
        bool fd_ = ecmd.duplex == DUPLEX_FULL;
        f = speed == SPEED_10 ? (fd_ ? 1u << 1 : 1u << 0)
          : speed == SPEED_100 ? (fd_ ? 1u << 3 : 1u << 2)
          : speed == SPEED_1000 ? (fd_ ? 1u << 5 : 1u << 4)
          : speed == SPEED_10000 ? 1u << 6
          : speed == 40000 ? 1u << 7
          : speed == 100000 ? 1u << 8
          : speed == 1000000 ? 1u << 9 : 0;
        f |= ecmd.port == PORT_TP ? 1u << 11
           : ecmd.port == PORT_FIBRE ? 1u << 12 : 0;
        f |= ecmd.autoneg ? 1u << 13 : 0;
    }
    close(fd);
    return f;
}

/* The speed in kbit/s that features 'f' (1.1+ numbering) name. */
static uint32_t
features_kbps(uint32_t f)
{
    static const uint32_t mbps[] = { 10, 10, 100, 100, 1000, 1000, 10000,
                                     40000, 100000, 1000000 };
    for (int i = 9; i >= 0; i--) {
        if (f & (1u << i)) {
            return mbps[i] * 1000;
        }
    }
    return 0;
}

/* OpenFlow 1.0 has no 40G..1T bits; its medium bits sit lower. */
static uint32_t
features_to_of10(uint32_t f)
{
    return (f & 0x7f) | ((f >> 11) & 0x1f) << 7;
}

static uint32_t
port_no_wire(const struct ofport *p)
{
    return p->ofp_port == OFPP_LOCAL_NO ? OFPP_LOCAL : p->ofp_port;
}

/* What a port description says about a port. */
struct port_info {
    char name[IFNAMSIZ];
    uint32_t port_no;           /* on the wire (OFPP_LOCAL for LOCAL) */
    uint8_t mac[6];
    uint32_t config, state, curr;
};

static void
port_info_get(const struct ofport *p, struct port_info *pi)
{
    memset(pi, 0, sizeof *pi);
    snprintf(pi->name, sizeof pi->name, "%s", p->name);
    pi->port_no = port_no_wire(p);
    host_if(p->name, pi->mac, &pi->config, &pi->state);
    /* The bits that are the switch's, not the interface's; main thread
     * (their only writer), so no lock. */
    pi->config |= rules_port_config(rules_find(p->bridge->name),
                                    pi->port_no);
    pi->curr = p->tnl.type ? 0 : host_if_features(p->name);
    if (!pi->curr && (p->ofp_port == OFPP_LOCAL_NO || p->tnl.type)) {
        /* Internal (TAP) and tunnel ports have no link to speak of; they
         * claim what Open vSwitch's do. */
        pi->curr = 1u << 6 | 1u << 11;
    }
}

static void
put_port_info(struct ofp_buf *b, uint8_t version, const struct port_info *pi)
{
    uint32_t config = pi->config, state = pi->state, curr = pi->curr;
    const uint8_t *mac = pi->mac;
    char name[16] = { 0 };

    memcpy(name, pi->name, strnlen(pi->name, 15));
    if (version == OFP10_VERSION) {
        ofp_buf_be16(b, ofp_port_to_16(pi->port_no));
        ofp_buf_bytes(b, mac, 6);
        ofp_buf_bytes(b, name, 16);
        ofp_buf_be32(b, config);
        ofp_buf_be32(b, state);
        ofp_buf_be32(b, features_to_of10(curr));
        ofp_buf_put(b, 12);     /* advertised, supported, peer */
    } else {
        /* OFPPS_LIVE: the port can forward (fast-failover's test). */
        if (!(config & 1) && !state) {
            state |= 4;
        }
        config &= ~RULES_PC_NO_FLOOD;   /* not a 1.1+ bit */
        ofp_buf_be32(b, pi->port_no);
        ofp_buf_put(b, 4);
        ofp_buf_bytes(b, mac, 6);
        ofp_buf_put(b, 2);
        ofp_buf_bytes(b, name, 16);
        ofp_buf_be32(b, config);
        ofp_buf_be32(b, state);
        ofp_buf_be32(b, curr);
        ofp_buf_put(b, 12);     /* advertised, supported, peer */
        ofp_buf_be32(b, features_kbps(curr));
        ofp_buf_be32(b, 0);     /* max_speed */
    }
}

static void
put_port(struct ofp_buf *b, uint8_t version, const struct ofport *p)
{
    struct port_info pi;

    port_info_get(p, &pi);
    put_port_info(b, version, &pi);
}

static uint64_t
bridge_dpid(const struct ofproto *br)
{
    if (br->datapath_id) {
        return br->datapath_id;
    }
    /* As Open vSwitch: the bridge's MAC address. */
    uint8_t mac[6];
    uint32_t config, state;
    host_if(br->name, mac, &config, &state);
    uint64_t id = 0;
    for (int i = 0; i < 6; i++) {
        id = id << 8 | mac[i];
    }
    return id;
}

static void
handle_features(struct conn *c, const struct ofp_msg *m)
{
    const struct ofproto *br = conn_bridge(c);
    struct ofp_buf *b = &c->tx;
    size_t start = ofp_start(b, c->version, OFPT_FEATURES_REPLY, m->xid);

    ofp_buf_be64(b, br ? bridge_dpid(br) : 0);
    ofp_buf_be32(b, 0);                 /* n_buffers */
    ofp_buf_u8(b, RULES_N_TABLES);
    if (c->version == OFP10_VERSION) {
        ofp_buf_put(b, 3);
        ofp_buf_be32(b, 0xc7);          /* flow/table/port/queue stats,
                                         * ARP_MATCH_IP */
        ofp_buf_be32(b, 0xfff);         /* every 1.0 action */
        for (unsigned i = 0; br && i < br->n_ports; i++) {
            put_port(b, c->version, br->ports[i]);
        }
    } else {
        ofp_buf_put(b, 3);              /* auxiliary_id, pad */
        ofp_buf_be32(b, 0x4f);
        ofp_buf_be32(b, 0);
    }
    ofp_finish(b, start);
}

/* ---- flow-mod ----------------------------------------------------------- */

enum { OFPFC_ADD, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPFC_DELETE,
       OFPFC_DELETE_STRICT };
#define OFPFF13_RESET_COUNTS 4

struct flow_mod {
    uint8_t command, table_id;
    uint64_t cookie, cookie_mask, new_cookie;
    bool modify_cookie;
    uint16_t idle, hard, priority, flags;
    uint32_t buffer_id, out_port, out_group;
    struct ofp_match match;
    struct ofpacts acts;
};

static ofperr
decode_flow_mod(struct conn *c, const struct ofp_msg *m, struct flow_mod *fm)
{
    struct ofp_rd r;
    ofperr err;

    memset(fm, 0, sizeof *fm);
    fm->out_group = OFPG_ANY;
    ofpacts_init(&fm->acts);
    ofp_rd_init(&r, m->body, m->body_len);
    if (m->type == OFPTYPE_NXT_FLOW_MOD || c->version == OFP10_VERSION) {
        uint8_t match10[OFP10_MATCH_LEN];
        uint16_t match_len = 0;
        bool nxm = m->type == OFPTYPE_NXT_FLOW_MOD;
        if (!nxm) {
            ofp_rd_bytes(&r, match10, sizeof match10);
        }
        fm->new_cookie = ofp_rd_be64(&r);
        uint16_t cmd = ofp_rd_be16(&r);
        fm->idle = ofp_rd_be16(&r);
        fm->hard = ofp_rd_be16(&r);
        fm->priority = ofp_rd_be16(&r);
        fm->buffer_id = ofp_rd_be32(&r);
        fm->out_port = ofp_port_from_16(ofp_rd_be16(&r));
        /* OpenFlow 1.0 resets a rule's counters on every modify; Open
         * vSwitch keeps that as OpenFlow 1.3's RESET_COUNTS flag, which
         * 1.3 dumps then show (1.0's EMERG bit, the same one, is not
         * offered). */
        fm->flags = (ofp_rd_be16(&r) & ~OFPFF13_RESET_COUNTS)
                    | OFPFF13_RESET_COUNTS;
        if (nxm) {
            match_len = ofp_rd_be16(&r);
            ofp_rd_pull(&r, 6);
        }
        if (r.bad) {
            return OFPERR_BAD_REQ_LEN;
        }
        fm->command = cmd & 0xff;
        fm->table_id = c->table_id_ext ? cmd >> 8
                     : fm->command == OFPFC_ADD ? 0 : RULES_TABLE_ALL;
        if (fm->command == OFPFC_ADD && fm->table_id == RULES_TABLE_ALL) {
            /* Before 1.1 an add to "any table" means the first one, as
             * ovs-ofctl add-flows sends with the table-id extension. */
            fm->table_id = 0;
        }
        if (nxm) {
            size_t padded = (match_len + 7u) / 8 * 8;
            const uint8_t *p = ofp_rd_pull(&r, padded);
            if (!p) {
                return OFPERR_BAD_REQ_LEN;
            }
            err = ofp_match_decode_nxm(p, match_len, &fm->match,
                                       &fm->cookie, &fm->cookie_mask);
        } else {
            err = ofp_match_decode_of10(match10, &fm->match);
        }
        if (err) {
            return err;
        }
        /* Before 1.1 a modify also sets the cookie. */
        fm->modify_cookie = fm->new_cookie != UINT64_MAX;
        err = ofpacts_decode_actions(OFP10_VERSION, r.p, r.left, &fm->acts);
    } else {
        fm->cookie = ofp_rd_be64(&r);
        fm->cookie_mask = ofp_rd_be64(&r);
        fm->table_id = ofp_rd_u8(&r);
        fm->command = ofp_rd_u8(&r);
        fm->idle = ofp_rd_be16(&r);
        fm->hard = ofp_rd_be16(&r);
        fm->priority = ofp_rd_be16(&r);
        fm->buffer_id = ofp_rd_be32(&r);
        fm->out_port = ofp_rd_be32(&r);
        fm->out_group = ofp_rd_be32(&r);
        fm->flags = ofp_rd_be16(&r);
        ofp_rd_pull(&r, 2);
        if (r.bad) {
            return OFPERR_BAD_REQ_LEN;
        }
        fm->new_cookie = fm->cookie;
        err = ofp_match_decode_oxm(&r, &fm->match);
        if (err) {
            return err;
        }
        err = ofpacts_decode_instructions(r.p, r.left, &fm->acts);
    }
    if (err) {
        return err;
    }
    if (fm->command > OFPFC_DELETE_STRICT) {
        return OFPERR_FLOW_MOD_BAD_COMMAND;
    }
    if (fm->command < OFPFC_DELETE) {
        if (fm->buffer_id != UINT32_MAX) {
            return OFPERR_BAD_REQ_BUFFER_UNKNOWN;
        }
        uint8_t t = fm->table_id == RULES_TABLE_ALL ? 0 : fm->table_id;
        err = ofpacts_check(&fm->acts, t, RULES_N_TABLES);
        if (!err) {
            err = ofpacts_check_prereqs(&fm->acts, &fm->match);
        }
    }
    return err;
}

/* Every group action must name a group that exists. */
static ofperr
check_groups(const struct rule_set *rs, const struct ofpacts *acts)
{
    for (size_t i = 0; i < acts->n; i++) {
        if (acts->a[i].type == OFPACT_GROUP
            && !groups_find(&rs->groups, acts->a[i].port)) {
            return OFPERR_BAD_ACT_OUT_GROUP;
        }
    }
    return 0;
}

/* A meter instruction must name a meter that exists. */
static ofperr
check_meter(const struct rule_set *rs, const struct ofpacts *acts)
{
    uint32_t meter_id;

    if (ofpacts_meter(acts, &meter_id)
        && !meters_find(&rs->meters, meter_id)) {
        return OFPERR_METER_INVALID;
    }
    return 0;
}

static ofperr
apply_flow_mod(struct conn *c, struct flow_mod *fm)
{
    struct rule_set *rs = rules_find(c->bridge);
    struct rule_criteria crit = {
        .table_id = fm->table_id, .match = fm->match,
        .priority = fm->priority,
        .strict = fm->command == OFPFC_MODIFY_STRICT
                  || fm->command == OFPFC_DELETE_STRICT,
        .out_port = fm->command >= OFPFC_DELETE ? fm->out_port : OFPP_ANY,
        .cookie = fm->cookie, .cookie_mask = fm->cookie_mask,
        .by_group = fm->command >= OFPFC_DELETE
                    && fm->out_group != OFPG_ANY,
        .out_group = fm->out_group,
    };
    ofperr err = 0;
    size_t n;

    if (!rs) {
        return OFPERR_BAD_REQ_EPERM;
    }
    if (fm->command < OFPFC_DELETE) {
        err = check_meter(rs, &fm->acts);
        if (!err) {
            err = check_groups(rs, &fm->acts);
        }
        if (err) {
            return err;
        }
    }
    if (fm->table_id >= RULES_N_TABLES && fm->table_id != RULES_TABLE_ALL) {
        return OFPERR_FLOW_MOD_BAD_TABLE_ID;
    }
    switch (fm->command) {
    case OFPFC_ADD: {
        if (fm->table_id == RULES_TABLE_ALL) {
            return OFPERR_FLOW_MOD_BAD_TABLE_ID;
        }
        struct rule *r = rule_create();
        if (!r) {
            return OFPERR_FLOW_MOD_TABLE_FULL;
        }
        r->match = fm->match;
        r->priority = fm->priority;
        r->table_id = fm->table_id;
        r->flags = fm->flags;
        r->idle_timeout = fm->idle;
        r->hard_timeout = fm->hard;
        r->cookie = fm->new_cookie;
        r->acts = fm->acts;
        ofpacts_init(&fm->acts);
        err = rules_add(rs, r, time_msec());
        break;
    }
    case OFPFC_MODIFY:
    case OFPFC_MODIFY_STRICT:
        n = rules_modify(rs, &crit, &fm->acts, fm->modify_cookie,
                         fm->new_cookie);
        if (!n && c->version == OFP10_VERSION
            && fm->table_id != RULES_TABLE_ALL) {
            fm->command = OFPFC_ADD;    /* 1.0: modify adds if absent */
            return apply_flow_mod(c, fm);
        }
        if (!n && c->version == OFP10_VERSION) {
            fm->command = OFPFC_ADD;
            fm->table_id = 0;
            return apply_flow_mod(c, fm);
        }
        break;
    case OFPFC_DELETE:
    case OFPFC_DELETE_STRICT:
        rules_delete(rs, &crit);
        break;
    }
    return err;
}

static void
handle_flow_mod(struct conn *c, const struct ofp_msg *m)
{
    struct flow_mod fm;
    ofperr err = decode_flow_mod(c, m, &fm);

    if (!err) {
        pthread_rwlock_wrlock(&xlate_lock);
        err = apply_flow_mod(c, &fm);
        pthread_rwlock_unlock(&xlate_lock);
        if (!err) {
            udpif_revalidate();
        }
    }
    ofpacts_uninit(&fm.acts);
    if (err) {
        LOG_DBG("%s: flow-mod refused (type %u code %u)", c->bridge,
                OFPERR_TYPE(err), OFPERR_CODE(err));
        send_error(c, m, err);
    }
}

/* ---- flow and aggregate stats ------------------------------------------- */

struct stats_ctx {
    struct conn *c;
    uint8_t version;
    bool nx;
    uint32_t xid;
    size_t start;               /* current reply message */
    uint64_t now, packets, bytes;
    uint32_t flows;
    struct ofp_buf entry;
};

static void
put_flow_entry(const struct rule *r, void *aux)
{
    struct stats_ctx *s = aux;
    struct ofp_buf *e = &s->entry;
    uint64_t age = s->now - r->created_ms;
    uint64_t used = atomic_load(&r->used_ms);
    uint64_t packets = atomic_load(&r->n_packets);
    uint64_t bytes = atomic_load(&r->n_bytes);

    ofp_buf_clear(e);
    ofp_buf_be16(e, 0);
    ofp_buf_u8(e, r->table_id);
    ofp_buf_u8(e, 0);
    if (s->nx) {
        ofp_buf_duration(e, age);
        ofp_buf_be16(e, r->priority);
        ofp_buf_be16(e, r->idle_timeout);
        ofp_buf_be16(e, r->hard_timeout);
        ofp_buf_be16(e, 0);             /* match_len, below */
        /* idle_age, hard_age (since the last change) */
        ofp_buf_be16(e, (s->now - used) / 1000 + 1);
        ofp_buf_be16(e, (s->now - r->modified_ms) / 1000 + 1);
        ofp_buf_be64(e, r->cookie);
        ofp_buf_be64(e, packets);
        ofp_buf_be64(e, bytes);
        size_t ml = ofp_match_encode_nxm(e, &r->match);
        ofp_buf_set_be16(e, 18, ml);
        ofp_buf_pad8(e, 0);
        ofpacts_encode_actions(OFP10_VERSION, &r->acts, e);
    } else if (s->version == OFP10_VERSION) {
        ofp_match_encode_of10(e, &r->match);
        ofp_buf_duration(e, age);
        ofp_buf_be16(e, r->priority);
        ofp_buf_be16(e, r->idle_timeout);
        ofp_buf_be16(e, r->hard_timeout);
        ofp_buf_put(e, 6);
        ofp_buf_be64(e, r->cookie);
        ofp_buf_be64(e, packets);
        ofp_buf_be64(e, bytes);
        ofpacts_encode_actions(OFP10_VERSION, &r->acts, e);
    } else {
        ofp_buf_duration(e, age);
        ofp_buf_be16(e, r->priority);
        ofp_buf_be16(e, r->idle_timeout);
        ofp_buf_be16(e, r->hard_timeout);
        ofp_buf_be16(e, r->flags);
        ofp_buf_put(e, 4);
        ofp_buf_be64(e, r->cookie);
        ofp_buf_be64(e, packets);
        ofp_buf_be64(e, bytes);
        ofp_match_encode_oxm(e, &r->match);
        ofpacts_encode_instructions(&r->acts, e);
    }
    ofp_buf_set_be16(e, 0, e->len);

    ofp_stats_reply_append(&s->c->tx, &s->start, e, s->version, s->xid,
                           s->nx ? OFPMP_VENDOR : OFPMP_FLOW, NXST_FLOW);
}

static void
sum_flow(const struct rule *r, void *aux)
{
    struct stats_ctx *s = aux;
    s->packets += atomic_load(&r->n_packets);
    s->bytes += atomic_load(&r->n_bytes);
    s->flows++;
}

/* Decodes a flow or aggregate stats request of any flavour. */
static ofperr
decode_flow_stats_request(struct conn *c, const struct ofp_msg *m,
                          struct rule_criteria *crit)
{
    struct ofp_rd r;
    ofperr err;

    memset(crit, 0, sizeof *crit);
    ofp_rd_init(&r, m->body, m->body_len);
    if (m->type == OFPTYPE_NXST_FLOW_REQUEST
        || m->type == OFPTYPE_NXST_AGGREGATE_REQUEST) {
        crit->out_port = ofp_port_from_16(ofp_rd_be16(&r));
        uint16_t match_len = ofp_rd_be16(&r);
        crit->table_id = ofp_rd_u8(&r);
        ofp_rd_pull(&r, 3);
        const uint8_t *p = ofp_rd_pull(&r, match_len);
        if (r.bad) {
            return OFPERR_BAD_REQ_LEN;
        }
        return ofp_match_decode_nxm(p, match_len, &crit->match,
                                    &crit->cookie, &crit->cookie_mask);
    }
    if (c->version == OFP10_VERSION) {
        uint8_t match10[OFP10_MATCH_LEN];
        ofp_rd_bytes(&r, match10, sizeof match10);
        crit->table_id = ofp_rd_u8(&r);
        ofp_rd_u8(&r);
        crit->out_port = ofp_port_from_16(ofp_rd_be16(&r));
        if (r.bad) {
            return OFPERR_BAD_REQ_LEN;
        }
        return ofp_match_decode_of10(match10, &crit->match);
    }
    crit->table_id = ofp_rd_u8(&r);
    ofp_rd_pull(&r, 3);
    crit->out_port = ofp_rd_be32(&r);
    crit->out_group = ofp_rd_be32(&r);
    crit->by_group = crit->out_group != OFPG_ANY;
    ofp_rd_pull(&r, 4);
    crit->cookie = ofp_rd_be64(&r);
    crit->cookie_mask = ofp_rd_be64(&r);
    if (r.bad) {
        return OFPERR_BAD_REQ_LEN;
    }
    err = ofp_match_decode_oxm(&r, &crit->match);
    return err;
}

static void
handle_flow_stats(struct conn *c, const struct ofp_msg *m, bool aggregate)
{
    struct rule_criteria crit;
    ofperr err = decode_flow_stats_request(c, m, &crit);
    struct rule_set *rs = rules_find(c->bridge);

    if (!err && !rs) {
        err = OFPERR_BAD_REQ_EPERM;
    }
    if (err) {
        send_error(c, m, err);
        return;
    }
    bool nx = m->type == OFPTYPE_NXST_FLOW_REQUEST
              || m->type == OFPTYPE_NXST_AGGREGATE_REQUEST;
    struct stats_ctx s = {
        .c = c, .version = c->version, .nx = nx, .xid = m->xid,
        .now = time_msec(),
    };
    ofp_buf_init(&s.entry);
    s.start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                    nx ? OFPMP_VENDOR
                                       : aggregate ? OFPMP_AGGREGATE
                                                   : OFPMP_FLOW,
                                    aggregate ? NXST_AGGREGATE : NXST_FLOW);
    pthread_rwlock_rdlock(&xlate_lock);
    rules_for_each(rs, &crit, aggregate ? sum_flow : put_flow_entry, &s);
    pthread_rwlock_unlock(&xlate_lock);
    if (aggregate) {
        ofp_buf_be64(&c->tx, s.packets);
        ofp_buf_be64(&c->tx, s.bytes);
        ofp_buf_be32(&c->tx, s.flows);
        ofp_buf_put(&c->tx, 4);
    }
    ofp_finish(&c->tx, s.start);
    ofp_buf_uninit(&s.entry);
}

/* ---- other stats -------------------------------------------------------- */

static void
put_padded_str(struct ofp_buf *b, const char *s, size_t len)
{
    size_t n = strlen(s);
    char *p = ofp_buf_put(b, len);
    memcpy(p, s, n < len ? n : len - 1);
}

static void
handle_desc(struct conn *c, const struct ofp_msg *m)
{
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         OFPMP_DESC, 0);
    put_padded_str(&c->tx, "hvs", 256);
    put_padded_str(&c->tx, "hvs virtual switch", 256);
    put_padded_str(&c->tx, HVS_VERSION, 256);
    put_padded_str(&c->tx, "None", 32);
    /* Open vSwitch's default for other_config:dp-desc. */
    put_padded_str(&c->tx, "None", 256);
    ofp_finish(&c->tx, start);
}

static void
handle_table_stats(struct conn *c, const struct ofp_msg *m)
{
    struct rule_set *rs = rules_find(c->bridge);
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         OFPMP_TABLE, 0);
    struct ofp_buf *b = &c->tx;

    for (int t = 0; t < RULES_N_TABLES; t++) {
        const struct rule_table *tab = rs ? &rs->tables[t] : NULL;
        uint32_t active = tab ? rules_count(rs, t) : 0;
        uint64_t lookups = tab ? atomic_load(&tab->n_lookups) : 0;
        uint64_t matched = tab ? atomic_load(&tab->n_matched) : 0;
        ofp_buf_u8(b, t);
        ofp_buf_put(b, 3);
        if (c->version == OFP10_VERSION) {
            /* No names, as Open vSwitch: ovs-ofctl then prints the
             * tables whose stats and features agree as one "ditto". */
            ofp_buf_put(b, 32);
            ofp_buf_be32(b, 0x3fffff);  /* every 1.0 wildcard */
            ofp_buf_be32(b, 1000000);
        }
        ofp_buf_be32(b, active);
        ofp_buf_be64(b, lookups);
        ofp_buf_be64(b, matched);
    }
    ofp_finish(b, start);
}

static void
handle_port_desc(struct conn *c, const struct ofp_msg *m)
{
    const struct ofproto *br = conn_bridge(c);
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         OFPMP_PORT_DESC, 0);
    for (unsigned i = 0; br && i < br->n_ports; i++) {
        put_port(&c->tx, c->version, br->ports[i]);
    }
    ofp_finish(&c->tx, start);
}

static void
handle_port_stats(struct conn *c, const struct ofp_msg *m)
{
    const struct ofproto *br = conn_bridge(c);
    struct ofp_rd r;
    uint32_t want;

    ofp_rd_init(&r, m->body, m->body_len);
    want = c->version == OFP10_VERSION ? ofp_port_from_16(ofp_rd_be16(&r))
                                       : ofp_rd_be32(&r);
    if (r.bad) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
        return;
    }
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         OFPMP_PORT_STATS, 0);
    struct ofp_buf *b = &c->tx;
    for (unsigned i = 0; br && i < br->n_ports; i++) {
        const struct ofport *p = br->ports[i];
        if (want != OFPP_ANY && want != port_no_wire(p)) {
            continue;
        }
        struct dpif_port dpp;
        memset(&dpp, 0, sizeof dpp);
        if (!p->tnl.type) {
            dpif_port_get(dp, p->name, &dpp);
        }
        const struct ovs_vport_stats *st = &dpp.stats;
        if (c->version == OFP10_VERSION) {
            ofp_buf_be16(b, ofp_port_to_16(port_no_wire(p)));
            ofp_buf_put(b, 6);
        } else {
            ofp_buf_be32(b, port_no_wire(p));
            ofp_buf_put(b, 4);
        }
        ofp_buf_be64(b, st->rx_packets);
        ofp_buf_be64(b, st->tx_packets);
        ofp_buf_be64(b, st->rx_bytes);
        ofp_buf_be64(b, st->tx_bytes);
        ofp_buf_be64(b, st->rx_dropped);
        ofp_buf_be64(b, st->tx_dropped);
        ofp_buf_be64(b, st->rx_errors);
        ofp_buf_be64(b, st->tx_errors);
        ofp_buf_put(b, 32);     /* frame, over, crc errors, collisions */
        if (c->version != OFP10_VERSION) {
            ofp_buf_put(b, 8);  /* duration */
        }
    }
    ofp_finish(b, start);
}

/* Table features (OpenFlow 1.3): per table its instructions, the tables
 * goto-table may name, the actions, what it matches (arbitrary masks or
 * exact/wildcard) and which fields set-field rewrites; the same list for
 * a table-miss rule.  Each property: type, length, values, padded to 8. */
enum {
    TFPT_INSTRUCTIONS = 0, TFPT_NEXT_TABLES = 2, TFPT_WRITE_ACTIONS = 4,
    TFPT_APPLY_ACTIONS = 6, TFPT_MATCH = 8, TFPT_WILDCARDS = 10,
    TFPT_WRITE_SETFIELD = 12, TFPT_APPLY_SETFIELD = 14,
};

/* The fields set-field rewrites in the datapath (xlate's
 * do_set_field()). */
static const uint8_t setfield_ids[] = {
    MF_METADATA, MF_ETH_DST, MF_ETH_SRC, MF_VLAN_VID, MF_VLAN_PCP,
    MF_VLAN_TCI, MF_IP_DSCP, MF_IP_ECN, MF_IP_TTL, MF_IPV4_SRC,
    MF_IPV4_DST, MF_TCP_SRC, MF_TCP_DST, MF_UDP_SRC, MF_UDP_DST,
    MF_SCTP_SRC, MF_SCTP_DST, MF_TUN_ID, MF_TUN_IPV4_SRC,
    MF_TUN_IPV4_DST, MF_PKT_MARK, MF_REG0, MF_REG0 + 1, MF_REG0 + 2,
    MF_REG0 + 3, MF_REG0 + 4, MF_REG0 + 5, MF_REG0 + 6, MF_REG0 + 7,
};

static size_t
tf_prop_start(struct ofp_buf *b, uint16_t type)
{
    size_t start = b->len;
    ofp_buf_be16(b, type);
    ofp_buf_be16(b, 0);
    return start;
}

static void
tf_prop_end(struct ofp_buf *b, size_t start)
{
    ofp_buf_set_be16(b, start + 2, b->len - start);
    ofp_buf_pad8(b, start);
}

/* A list of 4-byte {type, len = 4} headers (instructions, actions). */
static void
tf_put_ids(struct ofp_buf *b, uint16_t type, const uint16_t *ids, size_t n)
{
    size_t start = tf_prop_start(b, type);
    for (size_t i = 0; i < n; i++) {
        ofp_buf_be16(b, ids[i]);
        ofp_buf_be16(b, 4);
    }
    tf_prop_end(b, start);
}

static void
tf_put_fields(struct ofp_buf *b, uint16_t type, const uint8_t *ids,
              size_t n, bool masks)
{
    size_t start = tf_prop_start(b, type);
    for (size_t i = 0; i < n; i++) {
        uint32_t h = mf_features_header(ids[i]);
        if (!masks && (h & 0x100)) {
            h = (h & ~0x1ffu) | ((h & 0xff) / 2);
        }
        ofp_buf_be32(b, h);
    }
    tf_prop_end(b, start);
}

static void
put_table_features(struct ofp_buf *b, uint8_t t)
{
    static const uint16_t insts[] = { 1, 2, 3, 4, 5 };  /* goto, write
                                                         * metadata, write,
                                                         * apply, clear */
    /* output, push/pop vlan, group, dec_nw_ttl, set_field */
    static const uint16_t acts[] = { 0, 17, 18, 22, 24, 25 };
    uint8_t match_ids[MF_N_FIELDS];
    size_t n_match = 0;
    size_t start = b->len;

    for (int id = 0; id < MF_N_FIELDS; id++) {
        match_ids[n_match++] = id;      /* every field matches */
    }
    ofp_buf_be16(b, 0);                 /* length, below */
    ofp_buf_u8(b, t);
    ofp_buf_put(b, 5);
    put_padded_str(b, "", 32);          /* no name, as Open vSwitch */
    ofp_buf_be64(b, UINT64_MAX);        /* metadata_match */
    ofp_buf_be64(b, UINT64_MAX);        /* metadata_write */
    ofp_buf_be32(b, 0);                 /* config */
    ofp_buf_be32(b, 1000000);           /* max_entries */
    /* The last table has no goto-table. */
    size_t n_insts = t + 1 < RULES_N_TABLES ? 5 : 4;
    for (int miss = 0; miss < 2; miss++) {
        tf_put_ids(b, TFPT_INSTRUCTIONS + miss, insts + 5 - n_insts,
                   n_insts);
    }
    for (int miss = 0; miss < 2; miss++) {
        size_t ps = tf_prop_start(b, TFPT_NEXT_TABLES + miss);
        for (unsigned n = t + 1; n < RULES_N_TABLES; n++) {
            ofp_buf_u8(b, n);
        }
        tf_prop_end(b, ps);
    }
    for (int p = TFPT_WRITE_ACTIONS; p <= TFPT_APPLY_ACTIONS + 1; p++) {
        tf_put_ids(b, p, acts, sizeof acts / sizeof acts[0]);
    }
    tf_put_fields(b, TFPT_MATCH, match_ids, n_match, true);
    tf_put_fields(b, TFPT_WILDCARDS, match_ids, n_match, false);
    for (int p = TFPT_WRITE_SETFIELD; p <= TFPT_APPLY_SETFIELD + 1; p++) {
        tf_put_fields(b, p, setfield_ids, sizeof setfield_ids, false);
    }
    ofp_buf_set_be16(b, start, b->len - start);
}

static void
handle_table_features(struct conn *c, const struct ofp_msg *m)
{
    /* A request with a body would configure the tables: not offered. */
    if (m->body_len) {
        send_error(c, m, OFPERR(13, 5));    /* table_features_failed,
                                             * eperm */
        return;
    }
    struct ofp_buf e;
    ofp_buf_init(&e);
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         OFPMP_TABLE_FEATURES, 0);
    for (unsigned t = 0; t < RULES_N_TABLES; t++) {
        ofp_buf_clear(&e);
        put_table_features(&e, t);
        ofp_stats_reply_append(&c->tx, &start, &e, c->version, m->xid,
                               OFPMP_TABLE_FEATURES, 0);
    }
    ofp_finish(&c->tx, start);
    ofp_buf_uninit(&e);
}

static void
handle_empty_stats(struct conn *c, const struct ofp_msg *m, size_t zeros)
{
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         m->stats_type, 0);
    ofp_buf_put(&c->tx, zeros);
    ofp_finish(&c->tx, start);
}

/* ---- groups ------------------------------------------------------------- */

static ofperr
apply_group_mod(struct rule_set *rs, struct ofp_group_mod *gm)
{
    if (gm->command == OFPGC_DELETE) {
        if (gm->group_id > OFPG_MAX && gm->group_id != OFPG_ALL) {
            return 0;           /* nothing can have that id */
        }
        /* Rules that send to a deleted group go with it. */
        struct rule_criteria crit = {
            .table_id = RULES_TABLE_ALL, .out_port = OFPP_ANY,
            .by_group = true, .out_group = gm->group_id,
        };
        ofp_match_init_catchall(&crit.match);
        rules_delete_reason(rs, &crit, RULE_REMOVED_GROUP_DELETE);
        groups_delete(&rs->groups, gm->group_id);
        return 0;
    }
    if (gm->command == OFPGC_REMOVE_BUCKET) {
        return groups_edit_buckets(&rs->groups, gm);
    }
    for (size_t i = 0; i < gm->n_buckets; i++) {
        const struct ofpacts *acts = &gm->buckets[i].acts;
        ofperr err = ofpacts_check(acts, 0, RULES_N_TABLES);
        if (!err) {
            err = check_groups(rs, acts);
        }
        for (size_t j = 0; !err && j < acts->n; j++) {
            if (acts->a[j].type == OFPACT_GROUP
                && acts->a[j].port == gm->group_id) {
                err = OFPERR(6, 7);     /* GROUP_MOD_FAILED, LOOP */
            }
        }
        if (err) {
            return err;
        }
    }
    if (gm->command == OFPGC_INSERT_BUCKET) {
        return groups_edit_buckets(&rs->groups, gm);
    }
    return groups_add_or_modify(&rs->groups, gm, time_msec());
}

static void
handle_group_mod(struct conn *c, const struct ofp_msg *m)
{
    struct ofp_group_mod gm;
    ofperr err = m->version == OFP10_VERSION
                 ? ofp_group_mod_decode_nx(m->body, m->body_len, &gm)
                 : ofp_group_mod_decode(m->body, m->body_len, &gm);

    if (!err) {
        pthread_rwlock_wrlock(&xlate_lock);
        struct rule_set *rs = rules_find(c->bridge);
        err = rs ? apply_group_mod(rs, &gm) : OFPERR_BAD_REQ_EPERM;
        pthread_rwlock_unlock(&xlate_lock);
        ofp_group_mod_uninit(&gm);
        if (!err) {
            udpif_revalidate();
        }
    }
    if (err) {
        LOG_DBG("%s: group-mod refused (type %u code %u)", c->bridge,
                OFPERR_TYPE(err), OFPERR_CODE(err));
        send_error(c, m, err);
    }
}

/* Group desc and group stats: one entry per group, split over several
 * replies when they do not fit in one. */
static void
handle_group_stats(struct conn *c, const struct ofp_msg *m, bool desc)
{
    struct rule_set *rs = rules_find(c->bridge);
    uint32_t want = OFPG_ALL;
    bool nx = m->version == OFP10_VERSION;
    struct ofp_buf e;

    /* Group stats requests name a group; so do Nicira's group-desc
     * requests (OpenFlow 1.5's layout), where 1.3's have no body. */
    if (!desc || nx) {
        struct ofp_rd r;
        ofp_rd_init(&r, m->body, m->body_len);
        want = ofp_rd_be32(&r);
        if (r.bad) {
            send_error(c, m, OFPERR_BAD_REQ_LEN);
            return;
        }
    }
    ofp_buf_init(&e);
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         m->stats_type, m->nx_subtype);
    uint64_t now = time_msec();
    pthread_rwlock_rdlock(&xlate_lock);
    for (size_t i = 0; rs && i < rs->groups.n; i++) {
        const struct group *g = rs->groups.groups[i];
        if (want != OFPG_ALL && want != g->id) {
            continue;
        }
        ofp_buf_clear(&e);
        if (desc && nx) {
            ofp_group_desc_encode_nx(&e, g->type, g->id, g->buckets,
                                     g->n_buckets);
        } else if (desc) {
            ofp_group_desc_encode(&e, g->type, g->id, g->buckets,
                                  g->n_buckets);
        } else {
            size_t gs = ofp_group_stats_start(
                &e, g->id, rules_group_refs(rs, g->id),
                atomic_load(&g->stats.packets),
                atomic_load(&g->stats.bytes), now - g->created_ms);
            for (size_t j = 0; j < g->n_buckets; j++) {
                ofp_buf_be64(&e, atomic_load(&g->bucket_stats[j].packets));
                ofp_buf_be64(&e, atomic_load(&g->bucket_stats[j].bytes));
            }
            ofp_group_stats_finish(&e, gs);
        }
        ofp_stats_reply_append(&c->tx, &start, &e, c->version, m->xid,
                               m->stats_type, m->nx_subtype);
    }
    pthread_rwlock_unlock(&xlate_lock);
    ofp_finish(&c->tx, start);
    ofp_buf_uninit(&e);
}

static void
handle_group_features(struct conn *c, const struct ofp_msg *m)
{
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         m->stats_type, m->nx_subtype);
    ofp_group_features_encode(&c->tx, c->version);
    ofp_finish(&c->tx, start);
}

/* ---- meters ------------------------------------------------------------- */

static void
handle_meter_mod(struct conn *c, const struct ofp_msg *m)
{
    struct ofp_meter_mod mm;
    ofperr err = ofp_meter_mod_decode(m->body, m->body_len, &mm);

    if (!err) {
        pthread_rwlock_wrlock(&xlate_lock);
        struct rule_set *rs = rules_find(c->bridge);
        err = rs ? meters_mod(rs, &mm, time_msec()) : OFPERR_BAD_REQ_EPERM;
        pthread_rwlock_unlock(&xlate_lock);
        if (!err) {
            udpif_revalidate();
        }
    }
    if (err) {
        LOG_DBG("%s: meter-mod refused (type %u code %u)", c->bridge,
                OFPERR_TYPE(err), OFPERR_CODE(err));
        send_error(c, m, err);
    }
}

/* One meter-stats or meter-config entry for 'mt' into 'e'. */
static void
put_meter_entry(struct ofp_buf *e, const struct rule_set *rs,
                const struct meter *mt, bool config, uint64_t now)
{
    if (config) {
        ofp_meter_config_encode(e, mt->flags, mt->id, mt->bands,
                                mt->n_bands);
        return;
    }
    struct dpif_meter_stats st;
    if (meters_stats(mt, &st)) {
        memset(&st, 0, sizeof st);
    }
    size_t start = ofp_meter_stats_start(e, mt->id,
                                         rules_meter_refs(rs, mt->id),
                                         st.packets, st.bytes,
                                         now - mt->created_ms);
    for (size_t i = 0; i < mt->n_bands; i++) {
        bool have = i < st.n_bands;
        ofp_meter_stats_band(e, have ? st.bands[i].packets : 0,
                             have ? st.bands[i].bytes : 0);
    }
    ofp_meter_stats_finish(e, start);
}

/* Meter stats and meter config: one entry per meter (or the one asked
 * for), split over several replies when they do not fit in one. */
static void
handle_meter_stats(struct conn *c, const struct ofp_msg *m, bool config)
{
    struct rule_set *rs = rules_find(c->bridge);
    uint32_t want;
    ofperr err = ofp_meter_request_decode(m->body, m->body_len, &want);

    /* Main thread: the only writer of the meter tables, so no lock. */
    if (!err && want != OFPM_ALL
        && (!rs || !meters_find(&rs->meters, want))) {
        err = OFPERR_METER_UNKNOWN_METER;
    }
    if (err) {
        send_error(c, m, err);
        return;
    }
    struct ofp_buf e;
    ofp_buf_init(&e);
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         m->stats_type, 0);
    uint64_t now = time_msec();
    for (size_t i = 0; rs && i < rs->meters.n; i++) {
        const struct meter *mt = rs->meters.meters[i];
        if (want != OFPM_ALL && want != mt->id) {
            continue;
        }
        ofp_buf_clear(&e);
        put_meter_entry(&e, rs, mt, config, now);
        ofp_stats_reply_append(&c->tx, &start, &e, c->version, m->xid,
                               m->stats_type, 0);
    }
    ofp_finish(&c->tx, start);
    ofp_buf_uninit(&e);
}

static void
handle_meter_features(struct conn *c, const struct ofp_msg *m)
{
    struct ofp_meter_features f;

    if (m->body_len) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
        return;
    }
    meters_features(&f);
    size_t start = ofp_start_stats_reply(&c->tx, c->version, m->xid,
                                         m->stats_type, 0);
    ofp_meter_features_encode(&c->tx, &f);
    ofp_finish(&c->tx, start);
}

/* ---- packet-out, port-mod, config --------------------------------------- */

static void
handle_packet_out(struct conn *c, const struct ofp_msg *m)
{
    struct ofp_rd r;
    struct ofpacts acts;
    uint32_t buffer_id, in_port;
    uint16_t actions_len;

    ofp_rd_init(&r, m->body, m->body_len);
    buffer_id = ofp_rd_be32(&r);
    if (c->version == OFP10_VERSION) {
        in_port = ofp_port_from_16(ofp_rd_be16(&r));
        actions_len = ofp_rd_be16(&r);
    } else {
        in_port = ofp_rd_be32(&r);
        actions_len = ofp_rd_be16(&r);
        ofp_rd_pull(&r, 6);
    }
    const uint8_t *ap = ofp_rd_pull(&r, actions_len);
    if (r.bad) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
        return;
    }
    if (buffer_id != UINT32_MAX) {
        send_error(c, m, OFPERR_BAD_REQ_BUFFER_UNKNOWN);
        return;
    }
    ofpacts_init(&acts);
    ofperr err = ofpacts_decode_actions(c->version, ap, actions_len, &acts);
    if (!err) {
        err = ofpacts_check(&acts, 0, RULES_N_TABLES);
    }
    if (!err && r.left < 14) {
        err = OFPERR_BAD_REQ_LEN;       /* not even an Ethernet header */
    }
    if (err) {
        send_error(c, m, err);
        ofpacts_uninit(&acts);
        return;
    }
    struct dp_packet *pkt = dp_packet_copy_from(r.p, r.left, 64);
    struct xlate_out *xo = malloc(sizeof *xo);
    if (pkt && xo) {
        struct flow_key key;
        flow_extract(pkt, &key);
        pthread_rwlock_rdlock(&xlate_lock);
        const struct ofproto *br = conn_bridge(c);
        const struct ofport *in = NULL;
        for (unsigned i = 0; br && i < br->n_ports; i++) {
            if (port_no_wire(br->ports[i]) == in_port) {
                in = br->ports[i];
            }
        }
        bool ok = xlate_actions(xlate_cfg, c->bridge, in_port, &key, &acts,
                                xo);
        uint32_t odp_in = in ? in->odp_port : 0;  /* 0: the datapath's
                                                   * own local port */
        pthread_rwlock_unlock(&xlate_lock);
        if (ok && xo->actions_len) {
            uint8_t kbuf[64] __attribute__((aligned(4)));
            struct nlmsghdr *nlh = mnl_nlmsg_put_header(kbuf);
            struct nlattr *k = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
            mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, odp_in);
            mnl_attr_nest_end(nlh, k);
            int e = dpif_execute(dp, k, r.p, r.left, xo->actions,
                                 xo->actions_len);
            if (e) {
                LOG_WARN("%s: packet-out failed: %s", c->bridge,
                         strerror(-e));
            }
        }
    }
    free(xo);
    if (pkt) {
        dp_packet_free(pkt);
    }
    ofpacts_uninit(&acts);
}

static void port_config_changed(const char *bridge, uint32_t port_no,
                                uint32_t config);

static void
handle_port_mod(struct conn *c, const struct ofp_msg *m)
{
    const struct ofproto *br = conn_bridge(c);
    struct ofp_rd r;
    uint32_t port;
    uint8_t mac[6];

    ofp_rd_init(&r, m->body, m->body_len);
    if (c->version == OFP10_VERSION) {
        port = ofp_port_from_16(ofp_rd_be16(&r));
        ofp_rd_bytes(&r, mac, 6);
    } else {
        port = ofp_rd_be32(&r);
        ofp_rd_pull(&r, 4);
        ofp_rd_bytes(&r, mac, 6);
        ofp_rd_pull(&r, 2);
    }
    uint32_t config = ofp_rd_be32(&r);
    uint32_t mask = ofp_rd_be32(&r);
    if (r.bad) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
        return;
    }
    const struct ofport *p = NULL;
    for (unsigned i = 0; br && i < br->n_ports; i++) {
        if (port_no_wire(br->ports[i]) == port) {
            p = br->ports[i];
        }
    }
    if (!p) {
        send_error(c, m, OFPERR_PORT_MOD_BAD_PORT);
        return;
    }
    struct port_info pi;
    port_info_get(p, &pi);
    if (memcmp(pi.mac, mac, 6)) {
        /* The address names the port the sender means. */
        send_error(c, m, OFPERR_PORT_MOD_BAD_HW_ADDR);
        return;
    }
    /* 1.1+ has no NO_FLOOD bit: leave it as it is. */
    uint32_t ours = RULES_PC_ALL;
    if (c->version != OFP10_VERSION) {
        ours &= ~RULES_PC_NO_FLOOD;
    }
    if (mask & ours) {
        pthread_rwlock_wrlock(&xlate_lock);
        struct rule_set *rs = rules_find(c->bridge);
        uint32_t now = rules_port_config(rs, pi.port_no);
        bool ok = rs && rules_set_port_config(rs, pi.port_no,
                                              (now & ~(mask & ours))
                                              | (config & mask & ours));
        pthread_rwlock_unlock(&xlate_lock);
        if (!ok) {
            send_error(c, m, OFPERR_PORT_MOD_BAD_CONFIG);
            return;
        }
    }
    if (mask & 1) {             /* OFPPC_PORT_DOWN: the host interface */
        int err = host_if_set_up(p->name, !(config & 1));
        if (err && err != -ENODEV) {
            LOG_WARN("%s: cannot change %s: %s", c->bridge, p->name,
                     strerror(-err));
        }
    }
    if (mask & (ours | 1)) {
        port_info_get(p, &pi);
        if (mask & 1) {
            pi.config = (pi.config & ~1u) | (config & 1);
        }
        port_config_changed(c->bridge, pi.port_no, pi.config);
    }
}

static void
handle_role(struct conn *c, const struct ofp_msg *m)
{
    struct ofp_rd r;

    ofp_rd_init(&r, m->body, m->body_len);
    uint32_t role = ofp_rd_be32(&r);
    ofp_rd_pull(&r, 4);
    uint64_t gen = ofp_rd_be64(&r);
    if (r.bad) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
        return;
    }
    if (role > ROLE_SLAVE) {
        send_error(c, m, OFPERR(11, 2));        /* ROLE_REQUEST_FAILED,
                                                 * BAD_ROLE */
        return;
    }
    if (role == ROLE_MASTER) {
        /* One master per bridge: the old one becomes a slave. */
        for (struct conn *o = conns; o; o = o->next) {
            if (o != c && o->role == ROLE_MASTER
                && !strcmp(o->bridge, c->bridge)) {
                o->role = ROLE_SLAVE;
            }
        }
    }
    if (role != ROLE_NOCHANGE) {
        c->role = role;
    }
    size_t start = ofp_start(&c->tx, c->version, OFPT13_ROLE_REPLY, m->xid);
    ofp_buf_be32(&c->tx, c->role);
    ofp_buf_put(&c->tx, 4);
    ofp_buf_be64(&c->tx, gen);
    ofp_finish(&c->tx, start);
}

static void
handle_nx_set_flow_format(struct conn *c, const struct ofp_msg *m)
{
    struct ofp_rd r;
    ofp_rd_init(&r, m->body, m->body_len);
    uint32_t f = ofp_rd_be32(&r);
    if (r.bad) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
    } else if (f != FF_OF10 && f != FF_NXM) {
        send_error(c, m, OFPERR_BAD_REQ_EPERM);
    } else {
        c->flow_format = f;
    }
}

/* The fragment handling mode is the switch's, the rest the connection's.
 * Reassembly is not offered (nor by Open vSwitch): the mode stays, and
 * the sender sees that in the next get-config. */
static void
handle_set_config(struct conn *c, uint16_t flags, uint16_t miss_send_len)
{
    uint16_t frag = flags & 3;

    c->config_flags = flags & ~3u;
    c->miss_send_len = miss_send_len;
    pthread_rwlock_wrlock(&xlate_lock);
    struct rule_set *rs = rules_find(c->bridge);
    bool changed = rs && frag != RULES_FRAG_REASM && rs->frag_mode != frag;
    if (changed) {
        rs->frag_mode = frag;
    }
    pthread_rwlock_unlock(&xlate_lock);
    if (changed) {
        udpif_revalidate();
    } else if (frag == RULES_FRAG_REASM) {
        LOG_WARN("%s: fragment reassembly is not supported", c->bridge);
    }
}

/* hvs has no queues: every existing port (or OFPP_ANY) has none. */
static void
handle_queue_get_config(struct conn *c, const struct ofp_msg *m)
{
    const struct ofproto *br = conn_bridge(c);
    struct ofp_rd r;
    uint32_t port;
    bool of10 = c->version == OFP10_VERSION;

    ofp_rd_init(&r, m->body, m->body_len);
    port = of10 ? ofp_port_from_16(ofp_rd_be16(&r)) : ofp_rd_be32(&r);
    if (r.bad) {
        send_error(c, m, OFPERR_BAD_REQ_LEN);
        return;
    }
    bool found = port == OFPP_ANY;
    for (unsigned i = 0; br && !found && i < br->n_ports; i++) {
        found = port_no_wire(br->ports[i]) == port;
    }
    if (!found) {
        send_error(c, m, OFPERR_QUEUE_OP_BAD_PORT);
        return;
    }
    size_t start = ofp_start(&c->tx, c->version,
                             of10 ? OFPT10_QUEUE_GET_CONFIG_REPLY
                                  : OFPT13_QUEUE_GET_CONFIG_REPLY, m->xid);
    if (of10) {
        ofp_buf_be16(&c->tx, ofp_port_to_16(port));
        ofp_buf_put(&c->tx, 6);
    } else {
        ofp_buf_be32(&c->tx, port);
        ofp_buf_put(&c->tx, 4);
    }
    ofp_finish(&c->tx, start);
}

/* ---- dispatch ----------------------------------------------------------- */

/* The messages that change the switch or send packets, which a slave
 * controller may not send (Open vSwitch refuses exactly these). */
static bool
changes_switch(enum ofptype type)
{
    switch (type) {
    case OFPTYPE_FLOW_MOD:
    case OFPTYPE_NXT_FLOW_MOD:
    case OFPTYPE_GROUP_MOD:
    case OFPTYPE_METER_MOD:
    case OFPTYPE_PORT_MOD:
    case OFPTYPE_TABLE_MOD:
    case OFPTYPE_PACKET_OUT:
        return true;
    default:
        return false;
    }
}

static void
handle_msg(struct conn *c, const uint8_t *data, size_t len)
{
    struct ofp_msg m;
    ofperr err = ofp_decode(data, len, c->version, &m);

    if (err) {
        if (!c->version) {
            /* Anything but a hello first: refuse and hang up. */
            memset(&m, 0, sizeof m);
            m.data = data;
            m.length = len;
            m.xid = len >= 8 ? (uint32_t) data[4] << 24 | data[5] << 16
                               | data[6] << 8 | data[7] : 0;
            send_error(c, &m, err);
            c->dead = true;
            return;
        }
        m.data = data;
        m.length = len;
        send_error(c, &m, err);
        return;
    }
    if (c->role == ROLE_SLAVE && changes_switch(m.type)) {
        send_error(c, &m, OFPERR_BAD_REQ_IS_SLAVE);
        return;
    }
    switch (m.type) {
    case OFPTYPE_HELLO:
        if (!c->version) {
            int v = ofp_negotiate(&m, OFP_SUPPORTED_BITMAP);
            if (v < 0) {
                c->version = m.version < OFP13_VERSION ? OFP10_VERSION
                                                       : OFP13_VERSION;
                send_error(c, &m, OFPERR_HELLO_INCOMPATIBLE);
                c->dead = true;
                return;
            }
            c->version = v;
            if (c->remote) {
                c->remote->backoff_ms = BACKOFF_MIN_MS;
            }
        }
        break;
    case OFPTYPE_ECHO_REQUEST:
        send_simple(c, OFPT_ECHO_REPLY, m.xid, m.body, m.body_len);
        break;
    case OFPTYPE_ECHO_REPLY:
    case OFPTYPE_ERROR:
        break;
    case OFPTYPE_FEATURES_REQUEST:
        handle_features(c, &m);
        break;
    case OFPTYPE_GET_CONFIG_REQUEST: {
        const struct rule_set *rs = rules_find(c->bridge);
        uint16_t flags = (c->config_flags & ~3u) | (rs ? rs->frag_mode : 0);
        uint8_t body[4] = { flags >> 8, flags,
                            c->miss_send_len >> 8, c->miss_send_len };
        send_simple(c, OFPT_GET_CONFIG_REPLY, m.xid, body, sizeof body);
        break;
    }
    case OFPTYPE_SET_CONFIG:
        if (m.body_len < 4) {
            send_error(c, &m, OFPERR_BAD_REQ_LEN);
        } else {
            handle_set_config(c, m.body[0] << 8 | m.body[1],
                              m.body[2] << 8 | m.body[3]);
        }
        break;
    case OFPTYPE_QUEUE_GET_CONFIG_REQUEST:
        handle_queue_get_config(c, &m);
        break;
    case OFPTYPE_BARRIER_REQUEST:
        /* Everything before it is done: we handle messages in order. */
        send_simple(c, ofp_barrier_reply_type(c->version), m.xid, NULL, 0);
        break;
    case OFPTYPE_FLOW_MOD:
    case OFPTYPE_NXT_FLOW_MOD:
        handle_flow_mod(c, &m);
        break;
    case OFPTYPE_PACKET_OUT:
        handle_packet_out(c, &m);
        break;
    case OFPTYPE_PORT_MOD:
        handle_port_mod(c, &m);
        break;
    case OFPTYPE_DESC_REQUEST:
        handle_desc(c, &m);
        break;
    case OFPTYPE_FLOW_STATS_REQUEST:
    case OFPTYPE_NXST_FLOW_REQUEST:
        handle_flow_stats(c, &m, false);
        break;
    case OFPTYPE_AGGREGATE_REQUEST:
    case OFPTYPE_NXST_AGGREGATE_REQUEST:
        handle_flow_stats(c, &m, true);
        break;
    case OFPTYPE_TABLE_STATS_REQUEST:
        handle_table_stats(c, &m);
        break;
    case OFPTYPE_PORT_STATS_REQUEST:
        handle_port_stats(c, &m);
        break;
    case OFPTYPE_PORT_DESC_REQUEST:
        handle_port_desc(c, &m);
        break;
    case OFPTYPE_TABLE_FEATURES_REQUEST:
        handle_table_features(c, &m);
        break;
    case OFPTYPE_GROUP_MOD:
        handle_group_mod(c, &m);
        break;
    case OFPTYPE_GROUP_STATS_REQUEST:
    case OFPTYPE_GROUP_DESC_REQUEST:
        handle_group_stats(c, &m, m.type == OFPTYPE_GROUP_DESC_REQUEST);
        break;
    case OFPTYPE_GROUP_FEATURES_REQUEST:
        handle_group_features(c, &m);
        break;
    case OFPTYPE_QUEUE_STATS_REQUEST:
        handle_empty_stats(c, &m, 0);
        break;
    case OFPTYPE_METER_MOD:
        handle_meter_mod(c, &m);
        break;
    case OFPTYPE_METER_STATS_REQUEST:
    case OFPTYPE_METER_CONFIG_REQUEST:
        handle_meter_stats(c, &m,
                           m.type == OFPTYPE_METER_CONFIG_REQUEST);
        break;
    case OFPTYPE_METER_FEATURES_REQUEST:
        handle_meter_features(c, &m);
        break;
    case OFPTYPE_ROLE_REQUEST:
        handle_role(c, &m);
        break;
    case OFPTYPE_NXT_SET_FLOW_FORMAT:
        handle_nx_set_flow_format(c, &m);
        break;
    case OFPTYPE_NXT_FLOW_MOD_TABLE_ID:
        if (m.body_len < 1) {
            send_error(c, &m, OFPERR_BAD_REQ_LEN);
        } else {
            c->table_id_ext = m.body[0] != 0;
        }
        break;
    case OFPTYPE_NXT_SET_PACKET_IN_FORMAT: {
        struct ofp_rd r;
        ofp_rd_init(&r, m.body, m.body_len);
        uint32_t f = ofp_rd_be32(&r);
        if (r.bad) {
            send_error(c, &m, OFPERR_BAD_REQ_LEN);
        } else if (f != PIN_STANDARD && f != PIN_NXT) {
            send_error(c, &m, OFPERR_BAD_REQ_EPERM);
        } else {
            c->pin_format = f;
        }
        break;
    }
    case OFPTYPE_SET_ASYNC: {
        struct ofp_rd r;
        uint32_t a[6];
        ofp_rd_init(&r, m.body, m.body_len);
        for (int i = 0; i < 6; i++) {
            a[i] = ofp_rd_be32(&r);
        }
        if (r.bad) {
            send_error(c, &m, OFPERR_BAD_REQ_LEN);
        } else {
            memcpy(c->async, a, sizeof a);
        }
        break;
    }
    case OFPTYPE_NXT_SET_CONTROLLER_ID:
    case OFPTYPE_TABLE_MOD:
        break;
    case OFPTYPE_GET_ASYNC_REQUEST: {
        uint8_t body[24];
        for (int i = 0; i < 6; i++) {
            uint32_t v = htonl(c->async[i]);
            memcpy(body + 4 * i, &v, 4);
        }
        send_simple(c, 27, m.xid, body, sizeof body);
        break;
    }
    default:
        send_error(c, &m, OFPERR_BAD_REQ_TYPE);
        break;
    }
}

static void
conn_read(struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->rx + c->rx_len, sizeof c->rx - c->rx_len,
                         0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            c->dead = true;
            break;
        }
        if (n < 0) {
            break;
        }
        c->last_rx_ms = time_msec();
        c->probe_sent_ms = 0;
        c->rx_len += n;
        size_t ofs = 0;
        while (!c->dead) {
            int len = ofp_frame_len(c->rx + ofs, c->rx_len - ofs);
            if (len < 0) {
                /* A length under 8 cannot be skipped: the stream is lost. */
                const uint8_t *h = c->rx + ofs;
                struct ofp_msg m = {
                    .data = h, .length = 8,
                    .xid = (uint32_t) h[4] << 24 | h[5] << 16 | h[6] << 8
                           | h[7],
                };
                send_error(c, &m, OFPERR_BAD_REQ_LEN);
                c->dead = true;
                break;
            }
            if (!len) {
                break;
            }
            handle_msg(c, c->rx + ofs, len);
            ofs += len;
        }
        memmove(c->rx, c->rx + ofs, c->rx_len - ofs);
        c->rx_len -= ofs;
    }
    conn_flush(c);
}

/* ---- packet-ins --------------------------------------------------------- */

/* Packets sent to the controller arrive here from handler threads; the
 * main loop, which owns the connections, sends them.  The queue is
 * bounded so that a flood of misses cannot eat the memory: what does not
 * fit is dropped and counted. */
void
ofconn_queue_packet_in(const struct xlate_pin_cookie *ck, const void *packet,
                       size_t len)
{
    static struct log_rl rl = LOG_RL_INIT(60, 5);
    size_t keep = len > OFP_MSG_MAX ? OFP_MSG_MAX : len;
    struct pin *p = malloc(sizeof *p + keep);
    int fd = -1;

    if (p) {
        p->ck = *ck;
        p->len = keep;
        p->orig_len = len;
        memcpy(p->data, packet, keep);
        pthread_mutex_lock(&pin_mutex);
        if (pin_efd >= 0 && pin_n < PIN_QUEUE_MAX) {
            pin_q[(pin_head + pin_n) % PIN_QUEUE_MAX] = p;
            pin_n++;
            fd = pin_efd;
            p = NULL;
        }
        pthread_mutex_unlock(&pin_mutex);
    }
    if (fd < 0) {
        free(p);
        uint64_t n = atomic_fetch_add(&pin_dropped, 1) + 1;
        LOG_RL(&rl, LOG_L_WARN, "%s: packet-in queue full, %" PRIu64
               " packet-ins dropped so far", ck->bridge, n);
        return;
    }
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0) {
        LOG_DBG("packet-in wakeup: %s", strerror(errno));
    }
}

static bool
conn_wants_packet_in(const struct conn *c, const struct xlate_pin_cookie *ck)
{
    if (!c->version || c->dead || strcmp(c->bridge, ck->bridge)) {
        return false;
    }
    /* Service connections (ovs-ofctl on the management socket) get
     * asynchronous messages only once they ask with a miss_send_len. */
    if (!c->controller && !c->miss_send_len) {
        return false;
    }
    if (c->tx.len - c->tx_ofs > PIN_TX_BACKLOG) {
        return false;           /* the controller is not keeping up */
    }
    uint32_t mask = c->async[c->role == ROLE_SLAVE ? 1 : 0];
    return mask & (1u << ck->reason);
}

/* OFPT_PACKET_IN of the connection's version, or NXT_PACKET_IN if it
 * asked for that.  Nothing is buffered (buffer_id is always NO_BUFFER),
 * so the whole packet goes, as OpenFlow requires without a buffer. */
static void
send_packet_in(struct conn *c, const struct pin *p)
{
    const struct xlate_pin_cookie *ck = &p->ck;
    struct ofp_buf *b = &c->tx;
    struct ofp_match m;
    size_t len = p->len < OFP_MSG_MAX - 512 ? p->len : OFP_MSG_MAX - 512;
    uint16_t total = p->orig_len > UINT16_MAX ? UINT16_MAX : p->orig_len;
    size_t start;

    ofp_match_init_catchall(&m);
    m.v.key.in_port = ck->in_port;
    m.m.key.in_port = UINT32_MAX;
    if (c->pin_format == PIN_NXT) {
        start = ofp_start(b, c->version, OFPT_VENDOR, 0);
        ofp_buf_be32(b, NX_VENDOR_ID);
        ofp_buf_be32(b, NXT_PACKET_IN);
        ofp_buf_be32(b, UINT32_MAX);
        ofp_buf_be16(b, total);
        ofp_buf_u8(b, ck->reason);
        ofp_buf_u8(b, ck->table_id);
        ofp_buf_be64(b, ck->cookie);
        size_t ml_ofs = b->len;
        ofp_buf_be16(b, 0);
        ofp_buf_put(b, 6);
        size_t mstart = b->len;
        ofp_buf_set_be16(b, ml_ofs, ofp_match_encode_nxm(b, &m));
        ofp_buf_pad8(b, mstart);
        ofp_buf_put(b, 2);
    } else if (c->version == OFP10_VERSION) {
        start = ofp_start(b, c->version, OFPT_PACKET_IN, 0);
        ofp_buf_be32(b, UINT32_MAX);
        ofp_buf_be16(b, total);
        ofp_buf_be16(b, ofp_port_to_16(ck->in_port));
        ofp_buf_u8(b, ck->reason);
        ofp_buf_u8(b, 0);
    } else {
        start = ofp_start(b, c->version, OFPT_PACKET_IN, 0);
        ofp_buf_be32(b, UINT32_MAX);
        ofp_buf_be16(b, total);
        ofp_buf_u8(b, ck->reason);
        ofp_buf_u8(b, ck->table_id);
        ofp_buf_be64(b, ck->cookie);
        ofp_match_encode_oxm(b, &m);
        ofp_buf_put(b, 2);
    }
    ofp_buf_bytes(b, p->data, len);
    ofp_finish(b, start);
}

static void
drain_packet_ins(void)
{
    struct pin *batch[PIN_QUEUE_MAX];
    size_t n = 0;
    uint64_t v;

    if (read(pin_efd, &v, sizeof v) < 0 && errno != EAGAIN) {
        LOG_DBG("packet-in queue: %s", strerror(errno));
    }
    pthread_mutex_lock(&pin_mutex);
    while (pin_n) {
        batch[n++] = pin_q[pin_head];
        pin_head = (pin_head + 1) % PIN_QUEUE_MAX;
        pin_n--;
    }
    pthread_mutex_unlock(&pin_mutex);
    for (size_t i = 0; i < n; i++) {
        bool sent = false;
        for (struct conn *c = conns; c; c = c->next) {
            if (conn_wants_packet_in(c, &batch[i]->ck)) {
                send_packet_in(c, batch[i]);
                sent = true;
            }
        }
        if (sent) {
            atomic_fetch_add(&pin_sent, 1);
        }
        free(batch[i]);
    }
    for (struct conn *c = conns; c; c = c->next) {
        if (c->tx.len > c->tx_ofs) {
            conn_flush(c);
        }
    }
}

/* ---- controllers -------------------------------------------------------- */

static bool
parse_port(const char *s, struct sockaddr_in *sin)
{
    char *end;
    unsigned long port = strtoul(s, &end, 10);
    if (*end || !*s || port > 65535) {
        return false;
    }
    sin->sin_port = htons(port);
    return true;
}

/* "tcp:IP[:PORT]" (active) or "ptcp:[PORT][:IP]" (passive, loopback
 * unless an address is given).  IPv4 only. */
static bool
parse_target(const char *target, bool *passive, struct sockaddr_in *sin)
{
    char buf[TARGET_MAX];
    char *colon;

    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(OFP_TCP_PORT);
    if (!strncmp(target, "tcp:", 4)) {
        *passive = false;
        snprintf(buf, sizeof buf, "%s", target + 4);
        colon = strchr(buf, ':');
        if (colon) {
            *colon = '\0';
            if (!parse_port(colon + 1, sin)) {
                return false;
            }
        }
        return inet_pton(AF_INET, buf, &sin->sin_addr) == 1;
    }
    if (!strncmp(target, "ptcp:", 5)) {
        *passive = true;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        snprintf(buf, sizeof buf, "%s", target + 5);
        colon = strchr(buf, ':');
        if (colon) {
            *colon = '\0';
            if (colon[1] && inet_pton(AF_INET, colon + 1,
                                      &sin->sin_addr) != 1) {
                return false;
            }
        }
        return !buf[0] || parse_port(buf, sin);
    }
    return false;
}

static void
remote_backoff(struct remote *r, uint64_t now)
{
    r->next_try_ms = now + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > r->max_backoff_ms
                    ? r->max_backoff_ms : r->backoff_ms * 2;
}

static void
remote_connect(struct remote *r, uint64_t now)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        remote_backoff(r, now);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!connect(fd, (struct sockaddr *) &r->sin, sizeof r->sin)
        || errno == EINPROGRESS) {
        struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = r };
        r->fd = fd;
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        return;
    }
    LOG_DBG("%s<->%s: connect: %s", r->bridge, r->target, strerror(errno));
    close(fd);
    remote_backoff(r, now);
}

/* The connect() in progress finished, one way or the other. */
static void
remote_connected(struct remote *r)
{
    int err = 0, fd = r->fd;
    socklen_t len = sizeof err;

    if (fd < 0) {
        return;
    }
    r->fd = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
        LOG_DBG("%s<->%s: connection failed: %s", r->bridge, r->target,
                strerror(err ? err : errno));
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        remote_backoff(r, time_msec());
        return;
    }
    LOG_INFO("%s<->%s: connected", r->bridge, r->target);
    r->conn = conn_create(fd, r->bridge, r->target, true, r->probe_ms, true);
    if (r->conn) {
        r->conn->remote = r;
    } else {
        remote_backoff(r, time_msec());
    }
}

static void
remote_destroy(struct remote *r)
{
    if (r->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, r->fd, NULL);
        close(r->fd);
    }
    if (r->conn) {
        r->conn->remote = NULL;
        r->conn->dead = true;
    }
    free(r);
}

static struct listener *
tcp_listener_open(const char *bridge, const char *target,
                  const struct sockaddr_in *sin)
{
    struct listener *l = calloc(1, sizeof *l);
    int one = 1;

    if (!l) {
        return NULL;
    }
    l->kind = K_LISTENER;
    snprintf(l->bridge, sizeof l->bridge, "%s", bridge);
    snprintf(l->target, sizeof l->target, "%s", target);
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0
        || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || bind(l->fd, (const struct sockaddr *) sin, sizeof *sin)
        || listen(l->fd, 16)) {
        LOG_WARN("%s: cannot listen on %s: %s", bridge, target,
                 strerror(errno));
        if (l->fd >= 0) {
            close(l->fd);
        }
        free(l);
        return NULL;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
    epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev);
    LOG_INFO("%s: listening for controllers on %s", bridge, target);
    return l;
}

/* Makes the active and passive controller targets match the bridges'
 * Controller rows. */
static void
sync_controllers(const struct xlate_cfg *cfg)
{
    for (struct remote *r = remotes; r; r = r->next) {
        r->seen = false;
    }
    for (struct listener *l = listeners; l; l = l->next) {
        l->seen = !l->target[0];
    }
    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        const struct ofproto *br = cfg->bridges[i];
        for (unsigned j = 0; j < br->n_controllers; j++) {
            const struct ofcontroller *ctl = &br->controllers[j];
            struct sockaddr_in sin;
            bool passive;
            if (!parse_target(ctl->target, &passive, &sin)) {
                LOG_WARN("%s: controller target %s not supported",
                         br->name, ctl->target);
                continue;
            }
            if (passive) {
                struct listener *l;
                for (l = listeners; l; l = l->next) {
                    if (!strcmp(l->bridge, br->name)
                        && !strcmp(l->target, ctl->target)) {
                        break;
                    }
                }
                if (!l && (l = tcp_listener_open(br->name, ctl->target,
                                                 &sin))) {
                    l->next = listeners;
                    listeners = l;
                }
                if (l) {
                    l->seen = true;
                    l->probe_ms = ctl->probe_ms;
                }
                continue;
            }
            struct remote *r;
            for (r = remotes; r; r = r->next) {
                if (!strcmp(r->bridge, br->name)
                    && !strcmp(r->target, ctl->target)) {
                    break;
                }
            }
            if (!r) {
                r = calloc(1, sizeof *r);
                if (!r) {
                    continue;
                }
                r->kind = K_REMOTE;
                r->fd = -1;
                snprintf(r->bridge, sizeof r->bridge, "%s", br->name);
                snprintf(r->target, sizeof r->target, "%s", ctl->target);
                r->backoff_ms = BACKOFF_MIN_MS;
                r->next = remotes;
                remotes = r;
            }
            r->seen = true;
            r->sin = sin;
            r->probe_ms = ctl->probe_ms;
            r->max_backoff_ms = ctl->max_backoff_ms < BACKOFF_MIN_MS
                                ? BACKOFF_MIN_MS : ctl->max_backoff_ms;
            if (r->conn) {
                r->conn->probe_ms = ctl->probe_ms;
            }
        }
    }
    for (struct remote **p = &remotes; *p;) {
        if (!(*p)->seen) {
            struct remote *gone = *p;
            *p = gone->next;
            LOG_INFO("%s: controller %s removed", gone->bridge, gone->target);
            remote_destroy(gone);
        } else {
            p = &(*p)->next;
        }
    }
    for (struct listener **p = &listeners; *p;) {
        if (!(*p)->seen) {
            struct listener *gone = *p;
            *p = gone->next;
            for (struct conn *c = conns; c; c = c->next) {
                if (!strcmp(c->bridge, gone->bridge)
                    && !strcmp(c->target, gone->target)) {
                    c->dead = true;
                }
            }
            listener_close(gone);
        } else {
            p = &(*p)->next;
        }
    }
}

/* Connects what is due and probes connections that went quiet: an echo
 * request after 'probe_ms' of silence, a hang-up after as long again. */
static void
run_controllers(uint64_t now)
{
    for (struct remote *r = remotes; r; r = r->next) {
        if (r->fd < 0 && !r->conn && now >= r->next_try_ms) {
            remote_connect(r, now);
        }
    }
    for (struct conn *c = conns; c; c = c->next) {
        if (!c->probe_ms || c->dead) {
            continue;
        }
        if (c->probe_sent_ms) {
            if (now - c->probe_sent_ms >= c->probe_ms) {
                LOG_INFO("%s<->%s: no response to inactivity probe after "
                         "%.3g seconds, disconnecting", c->bridge, c->target,
                         (now - c->last_rx_ms) / 1000.0);
                c->dead = true;
            }
        } else if (now - c->last_rx_ms >= c->probe_ms) {
            if (c->version) {
                send_simple(c, OFPT_ECHO_REQUEST, next_xid++, NULL, 0);
                conn_flush(c);
            }
            c->probe_sent_ms = now;
        }
    }
}

/* Keeps each bridge's rule set told whether a controller is connected
 * (fail_mode) and whether table misses go to one (OpenFlow 1.0). */
static void
update_fail_state(void)
{
    const struct xlate_cfg *cfg = xlate_cfg;   /* main thread: no lock */
    bool changed = false;

    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        const struct ofproto *br = cfg->bridges[i];
        struct rule_set *rs = rules_find(br->name);
        bool connected = false, miss = false;
        if (!rs) {
            continue;
        }
        for (const struct conn *c = conns; c; c = c->next) {
            if (c->dead || !c->version || strcmp(c->bridge, br->name)) {
                continue;
            }
            connected |= c->controller;
            miss |= (c->controller || c->miss_send_len)
                    && c->version == OFP10_VERSION;
        }
        bool fail_open = br->n_controllers && !br->fail_secure
                         && !connected;
        if (rs->fail_open != fail_open || rs->miss_to_controller != miss) {
            if (rs->fail_open != fail_open) {
                LOG_INFO("%s: %s fail-open mode", br->name,
                         fail_open ? "entering" : "leaving");
            }
            pthread_rwlock_wrlock(&xlate_lock);
            rs->fail_open = fail_open;
            rs->miss_to_controller = miss;
            pthread_rwlock_unlock(&xlate_lock);
            changed = true;
        }
    }
    if (changed) {
        udpif_revalidate();
    }
}

/* ---- flow-removed and port-status --------------------------------------- */

/* Whether 'c' gets asynchronous messages of kind 'kind' (0: packet-in,
 * 1: port-status, 2: flow-removed) for 'reason'. */
static bool
conn_wants_async(const struct conn *c, const char *bridge, int kind,
                 unsigned reason)
{
    if (!c->version || c->dead || strcmp(c->bridge, bridge)) {
        return false;
    }
    /* Service connections (ovs-ofctl on the management socket) get
     * asynchronous messages only once they ask with a miss_send_len. */
    if (!c->controller && !c->miss_send_len) {
        return false;
    }
    uint32_t mask = c->async[kind * 2 + (c->role == ROLE_SLAVE ? 1 : 0)];
    return mask & (1u << reason);
}

static void
send_flow_removed(struct conn *c, const struct rule *r, int reason)
{
    struct ofp_buf *b = &c->tx;
    uint64_t age = time_msec() - r->created_ms;
    uint64_t packets = atomic_load(&r->n_packets);
    uint64_t bytes = atomic_load(&r->n_bytes);
    size_t start;

    if (c->version == OFP10_VERSION && c->flow_format == FF_NXM) {
        start = ofp_start(b, c->version, OFPT_VENDOR, 0);
        ofp_buf_be32(b, NX_VENDOR_ID);
        ofp_buf_be32(b, NXT_FLOW_REMOVED);
        ofp_buf_be64(b, r->cookie);
        ofp_buf_be16(b, r->priority);
        ofp_buf_u8(b, reason);
        ofp_buf_u8(b, r->table_id);
        ofp_buf_duration(b, age);
        ofp_buf_be16(b, r->idle_timeout);
        size_t ml_ofs = b->len;
        ofp_buf_be16(b, 0);
        ofp_buf_be64(b, packets);
        ofp_buf_be64(b, bytes);
        size_t mstart = b->len;
        ofp_buf_set_be16(b, ml_ofs, ofp_match_encode_nxm(b, &r->match));
        ofp_buf_pad8(b, mstart);
    } else if (c->version == OFP10_VERSION) {
        start = ofp_start(b, c->version, OFPT_FLOW_REMOVED, 0);
        ofp_match_encode_of10(b, &r->match);
        ofp_buf_be64(b, r->cookie);
        ofp_buf_be16(b, r->priority);
        ofp_buf_u8(b, reason);
        ofp_buf_u8(b, 0);
        ofp_buf_duration(b, age);
        ofp_buf_be16(b, r->idle_timeout);
        ofp_buf_put(b, 2);
        ofp_buf_be64(b, packets);
        ofp_buf_be64(b, bytes);
    } else {
        start = ofp_start(b, c->version, OFPT_FLOW_REMOVED, 0);
        ofp_buf_be64(b, r->cookie);
        ofp_buf_be16(b, r->priority);
        ofp_buf_u8(b, reason);
        ofp_buf_u8(b, r->table_id);
        ofp_buf_duration(b, age);
        ofp_buf_be16(b, r->idle_timeout);
        ofp_buf_be16(b, r->hard_timeout);
        ofp_buf_be64(b, packets);
        ofp_buf_be64(b, bytes);
        ofp_match_encode_oxm(b, &r->match);
    }
    ofp_finish(b, start);
}

/* rules.c calls this for every removed rule that asked for it (main
 * thread, xlate_lock held for writing: only buffers are touched). */
static void
rule_removed(const struct rule_set *rs, const struct rule *r, int reason)
{
    for (struct conn *c = conns; c; c = c->next) {
        if ((reason != RULE_REMOVED_GROUP_DELETE
             || c->version != OFP10_VERSION)
            && conn_wants_async(c, rs->name, 2, reason)) {
            send_flow_removed(c, r, reason);
        }
    }
}

enum { OFPPR_ADD = 0, OFPPR_DELETE = 1, OFPPR_MODIFY = 2 };

/* The ports of every bridge as last reported, to tell what changed. */
struct port_snap {
    char bridge[IFNAMSIZ];
    struct port_info pi;
};
static struct port_snap *snaps;
static size_t n_snaps;

static void
send_port_status(const char *bridge, int reason, const struct port_info *pi)
{
    for (struct conn *c = conns; c; c = c->next) {
        if (conn_wants_async(c, bridge, 1, reason)) {
            size_t start = ofp_start(&c->tx, c->version, OFPT_PORT_STATUS,
                                     0);
            ofp_buf_u8(&c->tx, reason);
            ofp_buf_put(&c->tx, 7);
            put_port_info(&c->tx, c->version, pi);
            ofp_finish(&c->tx, start);
        }
    }
}

static const struct port_snap *
snap_find(const struct port_snap *v, size_t n, const char *bridge,
          uint32_t port_no)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].pi.port_no == port_no && !strcmp(v[i].bridge, bridge)) {
            return &v[i];
        }
    }
    return NULL;
}

/* A port-mod changed the port's config: that is reported at once, with
 * the state as last seen; the link state that follows from it comes
 * with the next watch_ports(), as its own message (as Open vSwitch
 * reports them). */
static void
port_config_changed(const char *bridge, uint32_t port_no, uint32_t config)
{
    for (size_t i = 0; i < n_snaps; i++) {
        struct port_snap *ps = &snaps[i];
        if (ps->pi.port_no == port_no && !strcmp(ps->bridge, bridge)) {
            if (ps->pi.config != config) {
                ps->pi.config = config;
                send_port_status(bridge, OFPPR_MODIFY, &ps->pi);
                udpif_revalidate();
            }
            return;
        }
    }
}

/* Compares every bridge's ports with the last snapshot: added, deleted
 * and changed ports (name, address, config, state) become port-status
 * messages.  A change of state also revalidates the datapath flows,
 * whose fast-failover choices depend on port liveness. */
static void
watch_ports(void)
{
    const struct xlate_cfg *cfg = xlate_cfg;   /* main thread: no lock */
    struct port_snap *now = NULL;
    size_t n = 0, cap = 0;
    bool changed = false;

    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        const struct ofproto *br = cfg->bridges[i];
        for (unsigned j = 0; j < br->n_ports; j++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                struct port_snap *v = realloc(now, cap * sizeof *v);
                if (!v) {
                    free(now);
                    return;
                }
                now = v;
            }
            snprintf(now[n].bridge, sizeof now[n].bridge, "%s", br->name);
            port_info_get(br->ports[j], &now[n].pi);
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct port_snap *old = snap_find(snaps, n_snaps,
                                                now[i].bridge,
                                                now[i].pi.port_no);
        if (!old) {
            send_port_status(now[i].bridge, OFPPR_ADD, &now[i].pi);
        } else if (memcmp(&old->pi, &now[i].pi, sizeof old->pi)) {
            send_port_status(now[i].bridge, OFPPR_MODIFY, &now[i].pi);
            changed |= old->pi.state != now[i].pi.state
                       || old->pi.config != now[i].pi.config;
        }
    }
    for (size_t i = 0; i < n_snaps; i++) {
        if (!snap_find(now, n, snaps[i].bridge, snaps[i].pi.port_no)) {
            send_port_status(snaps[i].bridge, OFPPR_DELETE, &snaps[i].pi);
        }
    }
    free(snaps);
    snaps = now;
    n_snaps = n;
    for (struct conn *c = conns; c; c = c->next) {
        if (c->tx.len > c->tx_ofs) {
            conn_flush(c);
        }
    }
    if (changed) {
        udpif_revalidate();
    }
}

/* ---- bridges, timeouts -------------------------------------------------- */

static void
sync_bridges(void)
{
    const struct xlate_cfg *cfg = xlate_cfg;   /* main thread: no lock */
    uint64_t seq = cfg ? cfg->seq : 0;

    if (seq == last_cfg_seq) {
        return;
    }
    last_cfg_seq = seq;
    pthread_rwlock_wrlock(&xlate_lock);
    bool changed = rules_sync(cfg);
    pthread_rwlock_unlock(&xlate_lock);
    if (changed) {
        udpif_revalidate();
    }
    for (struct listener **p = &listeners; *p;) {
        if (!ofproto_find(cfg, (*p)->bridge)) {
            struct listener *gone = *p;
            *p = gone->next;
            for (struct conn *c = conns; c; c = c->next) {
                if (!strcmp(c->bridge, gone->bridge)) {
                    c->dead = true;
                }
            }
            listener_close(gone);
        } else {
            p = &(*p)->next;
        }
    }
    for (unsigned i = 0; cfg && i < cfg->n_bridges; i++) {
        bool have = false;
        for (struct listener *l = listeners; l; l = l->next) {
            have |= !l->target[0] && !strcmp(l->bridge,
                                             cfg->bridges[i]->name);
        }
        if (!have) {
            struct listener *l = listener_open(cfg->bridges[i]->name);
            if (l) {
                l->next = listeners;
                listeners = l;
            }
        }
    }
    sync_controllers(cfg);
    watch_ports();
}

static void
expire_rules(void)
{
    static uint64_t next;
    uint64_t now = time_msec();
    size_t n = 0;

    if (now < next) {
        return;
    }
    next = now + 1000;
    watch_ports();
    pthread_rwlock_wrlock(&xlate_lock);
    for (unsigned i = 0; xlate_cfg && i < xlate_cfg->n_bridges; i++) {
        struct rule_set *rs = rules_find(xlate_cfg->bridges[i]->name);
        if (rs) {
            n += rules_expire(rs, now);
        }
    }
    pthread_rwlock_unlock(&xlate_lock);
    for (struct conn *c = conns; n && c; c = c->next) {
        if (c->tx.len > c->tx_ofs) {
            conn_flush(c);      /* flow-removed messages */
        }
    }
    if (n) {
        udpif_revalidate();
    }
}

/* Closes connections that failed or hung up, after a last attempt to
 * send what they were owed (an error, for example). */
static void
reap_dead(void)
{
    for (struct conn **p = &conns; *p;) {
        if ((*p)->dead) {
            struct conn *gone = *p;
            *p = gone->next;
            conn_flush(gone);
            conn_close(gone);
        } else {
            p = &(*p)->next;
        }
    }
}

/* ---- entry points ------------------------------------------------------- */

/* Rules the learn action built in handler threads. */
static void
apply_learned(void)
{
    if (!rules_learned_pending()) {
        return;
    }
    pthread_rwlock_wrlock(&xlate_lock);
    bool changed = rules_apply_learned(time_msec());
    pthread_rwlock_unlock(&xlate_lock);
    if (changed) {
        udpif_revalidate();
    }
}

/* Handler threads wake the main loop through the packet-in eventfd. */
static void
learn_wakeup(void)
{
    pthread_mutex_lock(&pin_mutex);
    int fd = pin_efd;
    pthread_mutex_unlock(&pin_mutex);
    if (fd >= 0) {
        uint64_t one = 1;
        if (write(fd, &one, sizeof one) < 0) {
            /* The counter is full: the main loop is awake anyway. */
        }
    }
}

int
ofconn_init(const char *rundir, struct dpif *dpif)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        return -errno;
    }
    run_dir = strdup(rundir);
    if (!run_dir) {
        close(epfd);
        epfd = -1;
        return -ENOMEM;
    }
    size_t len = strlen(run_dir);
    while (len > 1 && run_dir[len - 1] == '/') {
        run_dir[--len] = '\0';
    }
    dp = dpif;
    meters_init(dpif);
    rules_set_removed_hook(rule_removed);
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &pinq_kind };
        epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev);
        pthread_mutex_lock(&pin_mutex);
        pin_efd = efd;
        pthread_mutex_unlock(&pin_mutex);
    }
    rules_set_learn_wakeup(learn_wakeup);
    return epfd;
}

void
ofconn_run(void)
{
    struct epoll_event evs[16];
    int n;

    if (epfd < 0) {
        return;
    }
    sync_bridges();
    while ((n = epoll_wait(epfd, evs, 16, 0)) > 0) {
        for (int i = 0; i < n; i++) {
            enum kind *k = evs[i].data.ptr;
            if (*k == K_LISTENER) {
                conn_accept(evs[i].data.ptr);
            } else if (*k == K_REMOTE) {
                remote_connected(evs[i].data.ptr);
            } else if (*k == K_PINQ) {
                drain_packet_ins();
            } else {
                struct conn *c = evs[i].data.ptr;
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                    conn_read(c);
                } else {
                    conn_flush(c);
                }
            }
        }
        reap_dead();
        if (n < 16) {
            break;
        }
    }
    run_controllers(time_msec());
    reap_dead();
    update_fail_state();
    expire_rules();
    apply_learned();
}

void
ofconn_destroy(void)
{
    rules_set_learn_wakeup(NULL);
    while (remotes) {
        struct remote *r = remotes;
        remotes = r->next;
        remote_destroy(r);
    }
    pthread_mutex_lock(&pin_mutex);
    if (pin_efd >= 0) {
        close(pin_efd);
        pin_efd = -1;
    }
    while (pin_n) {
        free(pin_q[pin_head]);
        pin_head = (pin_head + 1) % PIN_QUEUE_MAX;
        pin_n--;
    }
    pthread_mutex_unlock(&pin_mutex);
    while (conns) {
        struct conn *c = conns;
        conns = c->next;
        conn_close(c);
    }
    while (listeners) {
        struct listener *l = listeners;
        listeners = l->next;
        listener_close(l);
    }
    pthread_rwlock_wrlock(&xlate_lock);
    /* The datapath's meters stay, as its flows do. */
    meters_init(NULL);
    rules_destroy_all();
    pthread_rwlock_unlock(&xlate_lock);
    if (epfd >= 0) {
        close(epfd);
        epfd = -1;
    }
    free(run_dir);
    run_dir = NULL;
    free(snaps);
    snaps = NULL;
    n_snaps = 0;
}

bool
ofconn_controller_connected(const char *bridge, const char *target,
                            const char **role)
{
    *role = "other";
    for (const struct conn *c = conns; c; c = c->next) {
        if (c->controller && c->version && !c->dead
            && !strcmp(c->bridge, bridge) && !strcmp(c->target, target)) {
            *role = c->role == ROLE_MASTER ? "master"
                  : c->role == ROLE_SLAVE ? "slave" : "other";
            return true;
        }
    }
    return false;
}
