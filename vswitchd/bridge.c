/* Bridges from the database (see bridge.h). */
#include "bridge.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpif.h"
#include "hash.h"
#include "host-if.h"
#include "log.h"
#include "mac-learning.h"
#include "ofconn.h"
#include "ofproto.h"
#include "ovsdb-idl.h"
#include "upcall.h"

LOG_MODULE(bridge);

#define MAX_IFACES 4096

static struct ovsdb_idl *idl;
static struct dpif *dpif;
static uint32_t applied_fingerprint;
static bool ports_changed = true;

/* What the database asks for, one entry per Interface. */
struct want_iface {
    const struct ovsdb_idl_row *iface;  /* Interface row */
    const struct ovsdb_idl_row *port;   /* its Port row */
    const struct ovsdb_idl_row *br;     /* its Bridge row */
    const char *name;                   /* Interface.name */
    char host[IFNAMSIZ];                /* the host interface it binds */
    enum ovs_vport_type type;
    int64_t ofport_request;
    uint32_t odp_port;                  /* UINT32_MAX: not in datapath */
    uint32_t ofp_port;                  /* OpenFlow number, 0: none */
    int ifindex;
    struct ofport_tunnel tnl;
    char error[160];
};

/* ---- host interfaces ------------------------------------------------------- */

static bool
host_if_exists(const char *name)
{
    return if_nametoindex(name) != 0;
}

/* The host interface whose alias is 'alias' (the OVS port name given to a
 * VM's NIC with `hvs vm set-port-name`), if any. */
static bool
host_if_by_alias(const char *alias, char out[IFNAMSIZ])
{
    DIR *d = opendir("/sys/class/net");
    struct dirent *de;
    bool found = false;

    if (!d) {
        return false;
    }
    while (!found && (de = readdir(d))) {
        char path[300], buf[256];
        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "/sys/class/net/%s/ifalias", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f) {
            continue;
        }
        if (fgets(buf, sizeof buf, f)) {
            buf[strcspn(buf, "\n")] = '\0';
            if (!strcmp(buf, alias) && strlen(de->d_name) < IFNAMSIZ) {
                snprintf(out, IFNAMSIZ, "%s", de->d_name);
                found = true;
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

static void
host_if_info(const char *name, char mac[18], bool *admin_up, bool *link_up)
{
    struct host_if_state st;

    host_if_read(name, &st);
    mac[0] = '\0';
    if (st.has_mac) {
        snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", st.mac[0],
                 st.mac[1], st.mac[2], st.mac[3], st.mac[4], st.mac[5]);
    }
    *admin_up = st.admin_up;
    *link_up = st.link_up;
}

/* "xx:xx:xx:xx:xx:xx" into 'mac'; false if malformed. */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned m[6];
    char end;

    if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2],
                     &m[3], &m[4], &m[5], &end) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = m[i];
    }
    return true;
}

static bool
host_if_mac(const char *name, uint8_t mac[6])
{
    struct host_if_state st;

    host_if_read(name, &st);
    memcpy(mac, st.mac, 6);
    return st.has_mac;
}

/* Gives the bridge's local port the address of other_config:hwaddr, as
 * Open vSwitch does; a malformed one is logged and ignored. */
static void
apply_hwaddr(const char *br, const char *hwaddr)
{
    uint8_t want[6], have[6];

    if (!hwaddr) {
        return;
    }
    if (!parse_mac(hwaddr, want) || (want[0] & 1)) {
        LOG_WARN("bridge %s: ignoring other_config:hwaddr \"%s\": not a "
                 "unicast Ethernet address", br, hwaddr);
        return;
    }
    if (!host_if_mac(br, have) || !memcmp(have, want, 6)) {
        return;
    }
    int err = host_if_set_mac(br, want);
    if (err) {
        LOG_WARN("bridge %s: cannot set hwaddr %s: %s", br, hwaddr,
                 strerror(-err));
    } else {
        LOG_INFO("bridge %s: hwaddr set to %s", br, hwaddr);
    }
}

/* The OpenFlow datapath ID: other_config:datapath-id (16 hex digits, not
 * all zero), else the local port's MAC in the low 48 bits, as Open vSwitch
 * derives it. */
static uint64_t
pick_dpid(const struct ovsdb_idl_row *row, const char *br)
{
    const char *s = ovsdb_idl_get_map(row, "other_config", "datapath-id");
    uint8_t mac[6];

    if (s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 16);
        if (strlen(s) == 16 && !*end && !errno && v) {
            return v;
        }
        LOG_WARN("bridge %s: ignoring other_config:datapath-id \"%s\": "
                 "not 16 hex digits, or zero", br, s);
    }
    if (!host_if_mac(br, mac)) {
        return 0;
    }
    uint64_t id = 0;
    for (int i = 0; i < 6; i++) {
        id = id << 8 | mac[i];
    }
    return id;
}

/* ---- tunnels --------------------------------------------------------------- */

static int
tunnel_type(const char *type)
{
    return !strcmp(type, "vxlan") ? OVS_VPORT_TYPE_VXLAN
         : !strcmp(type, "geneve") ? OVS_VPORT_TYPE_GENEVE
         : !strcmp(type, "gre") ? OVS_VPORT_TYPE_GRE : 0;
}

static bool
parse_ip(const char *s, uint32_t *ip)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) {
        return false;
    }
    *ip = a.s_addr;
    return true;
}

/* Interface options of a tunnel, as ovs-vswitchd.conf.db(5) documents
 * them: remote_ip (required; "flow" allowed), local_ip, key (number or
 * "flow"), dst_port, tos, ttl, df_default, csum. */
static void
parse_tunnel(struct want_iface *x, const struct ovsdb_idl_row *iface,
             const char *type)
{
    struct ofport_tunnel *t = &x->tnl;
    const char *remote = ovsdb_idl_get_map(iface, "options", "remote_ip");
    const char *local = ovsdb_idl_get_map(iface, "options", "local_ip");
    const char *key = ovsdb_idl_get_map(iface, "options", "key");
    const char *port = ovsdb_idl_get_map(iface, "options", "dst_port");
    const char *tos = ovsdb_idl_get_map(iface, "options", "tos");
    const char *ttl = ovsdb_idl_get_map(iface, "options", "ttl");
    const char *df = ovsdb_idl_get_map(iface, "options", "df_default");
    const char *csum = ovsdb_idl_get_map(iface, "options", "csum");

    t->type = tunnel_type(type);
    x->type = t->type;
    t->dst_port = t->type == OVS_VPORT_TYPE_VXLAN ? 4789
                : t->type == OVS_VPORT_TYPE_GENEVE ? 6081 : 0;
    if (port && t->type != OVS_VPORT_TYPE_GRE) {
        t->dst_port = strtoul(port, NULL, 10);
    }
    if (remote && !strcmp(remote, "flow")) {
        t->remote_flow = true;
    } else if (!parse_ip(remote, &t->remote_ip)) {
        snprintf(x->error, sizeof x->error, "%s: %s type requires valid "
                 "'remote_ip' argument", x->name, type);
        x->type = 0;
        return;
    }
    if (local && !parse_ip(local, &t->local_ip)) {
        snprintf(x->error, sizeof x->error, "%s: bad 'local_ip' argument "
                 "'%s'", x->name, local);
        x->type = 0;
        return;
    }
    if (key && !strcmp(key, "flow")) {
        t->key_flow = true;
    } else if (key) {
        t->key = htobe64(strtoull(key, NULL, 0));
    }
    t->tos = tos ? strtoul(tos, NULL, 0) : 0;
    t->ttl = ttl ? strtoul(ttl, NULL, 0) : 64;
    t->df = !df || strcmp(df, "false");
    t->csum = csum && !strcmp(csum, "true");
    if (t->type == OVS_VPORT_TYPE_GRE) {
        snprintf(x->host, sizeof x->host, "gre_sys");
    } else {
        snprintf(x->host, sizeof x->host, "%s_sys_%u",
                 t->type == OVS_VPORT_TYPE_VXLAN ? "vxlan" : "genev",
                 t->dst_port);
    }
}

/* ---- reading the database -------------------------------------------------- */

static const struct ovsdb_idl_row *
ovs_row(void)
{
    return ovsdb_idl_first(idl, "Open_vSwitch");
}

static size_t
collect(struct want_iface *w, size_t max)
{
    const struct ovsdb_idl_row *ovs = ovs_row();
    size_t n = 0;

    if (!ovs) {
        return 0;
    }
    json_t *brs = ovsdb_idl_row_get(ovs, "bridges");
    for (size_t i = 0; i < ovsdb_idl_datum_n(brs); i++) {
        const struct ovsdb_idl_row *br =
            ovsdb_idl_get_ref(idl, ovs, "bridges", i, "Bridge");
        if (!br) {
            continue;
        }
        json_t *ports = ovsdb_idl_row_get(br, "ports");
        for (size_t j = 0; j < ovsdb_idl_datum_n(ports); j++) {
            const struct ovsdb_idl_row *port =
                ovsdb_idl_get_ref(idl, br, "ports", j, "Port");
            if (!port) {
                continue;
            }
            json_t *ifs = ovsdb_idl_row_get(port, "interfaces");
            for (size_t k = 0; k < ovsdb_idl_datum_n(ifs) && n < max; k++) {
                const struct ovsdb_idl_row *iface =
                    ovsdb_idl_get_ref(idl, port, "interfaces", k,
                                      "Interface");
                const char *name = iface
                    ? ovsdb_idl_get_string(iface, "name") : NULL;
                if (!name) {
                    continue;
                }
                struct want_iface *x = &w[n++];
                memset(x, 0, sizeof *x);
                x->iface = iface;
                x->port = port;
                x->br = br;
                x->name = name;
                x->odp_port = UINT32_MAX;
                const char *type = ovsdb_idl_get_string(iface, "type");
                x->type = type && !strcmp(type, "internal")
                    ? OVS_VPORT_TYPE_INTERNAL : OVS_VPORT_TYPE_NETDEV;
                if (type && tunnel_type(type)) {
                    parse_tunnel(x, iface, type);
                } else if (type && *type && strcmp(type, "internal")
                           && strcmp(type, "system")) {
                    snprintf(x->error, sizeof x->error,
                             "could not open network device %s (Address "
                             "family not supported by protocol)", name);
                    x->type = 0;
                }
                if (!ovsdb_idl_get_integer(iface, "ofport_request",
                                           &x->ofport_request)) {
                    x->ofport_request = -1;
                }
            }
        }
    }
    return n;
}

/* ---- making the datapath match -------------------------------------------- */

struct dp_ports {
    struct dpif_port p[MAX_IFACES];
    size_t n;
};

static int
dump_cb(const struct dpif_port *p, void *aux)
{
    struct dp_ports *dp = aux;
    if (dp->n < MAX_IFACES) {
        dp->p[dp->n++] = *p;
    }
    return 0;
}

static struct dpif_port *
dp_port_named(struct dp_ports *dp, const char *name)
{
    for (size_t i = 0; i < dp->n; i++) {
        if (!strcmp(dp->p[i].name, name)) {
            return &dp->p[i];
        }
    }
    return NULL;
}

static void
sync_ports(struct want_iface *w, size_t n)
{
    struct dp_ports *dp = calloc(1, sizeof *dp);
    if (!dp) {
        return;
    }
    int err = dpif_port_dump(dpif, dump_cb, dp);
    if (err) {
        LOG_WARN("cannot list datapath ports: %s", strerror(-err));
    }

    /* Which host interface each Interface binds: its own name, else the
     * interface whose alias carries that name. */
    for (size_t i = 0; i < n; i++) {
        struct want_iface *x = &w[i];
        if (x->tnl.type) {
            continue;           /* the shared vport, named by parse_tunnel */
        }
        snprintf(x->host, sizeof x->host, "%s", x->name);
        if (x->type == OVS_VPORT_TYPE_NETDEV && !dp_port_named(dp, x->name)
            && !host_if_exists(x->name)) {
            host_if_by_alias(x->name, x->host);
        }
    }
    /* Remove ports nobody wants (the datapath's own port 0 stays). */
    for (size_t i = 0; i < dp->n; i++) {
        bool wanted = dp->p[i].port_no == 0;
        for (size_t j = 0; !wanted && j < n; j++) {
            wanted = !strcmp(w[j].host, dp->p[i].name) && w[j].type;
        }
        if (!wanted) {
            err = dpif_port_del(dpif, dp->p[i].port_no);
            LOG_INFO("removed port %s (datapath port %u)%s%s",
                     dp->p[i].name, dp->p[i].port_no, err ? ": " : "",
                     err ? strerror(-err) : "");
        }
    }
    /* Add the missing ones. */
    for (size_t i = 0; i < n; i++) {
        struct want_iface *x = &w[i];
        struct dpif_port *have = dp_port_named(dp, x->host);
        if (!x->type) {
            continue;
        }
        if (have && (have->type == x->type || have->port_no == 0)) {
            x->odp_port = have->port_no;
            x->ifindex = have->ifindex;
            continue;
        }
        uint32_t port_no = x->ofport_request > 0 && x->ofport_request < 65280
            && !x->tnl.type ? (uint32_t) x->ofport_request : UINT32_MAX;
        err = x->tnl.type
            ? dpif_tunnel_port_add(dpif, x->host, x->type, x->tnl.dst_port,
                                   &port_no)
            : dpif_port_add(dpif, x->host, x->type, &port_no);
        if (err == -EBUSY && port_no != UINT32_MAX) {
            snprintf(x->error, sizeof x->error,
                     "ofport_request %u is in use", port_no);
            LOG_WARN("cannot add port %s: %s", x->name, x->error);
            continue;
        }
        if (err) {
            snprintf(x->error, sizeof x->error,
                     "could not open network device %s (%s)", x->name,
                     strerror(-err));
            LOG_WARN("%s", x->error);
            continue;
        }
        x->odp_port = port_no;
        struct dpif_port p;
        if (!dpif_port_get(dpif, x->host, &p)) {
            x->ifindex = p.ifindex;
            if (dp->n < MAX_IFACES) {
                dp->p[dp->n++] = p;     /* shared by later tunnels */
            }
        }
        LOG_INFO("bridge %s: added interface %s on port %u",
                 ovsdb_idl_get_string(x->br, "name"), x->name, port_no);
    }
    free(dp);
}

/* ---- the switch configuration --------------------------------------------- */

static void
parse_vlans(struct ofport *p, const struct ovsdb_idl_row *port)
{
    int64_t tag;
    const char *mode = ovsdb_idl_get_string(port, "vlan_mode");
    json_t *trunks = ovsdb_idl_row_get(port, "trunks");

    p->tag = ovsdb_idl_get_integer(port, "tag", &tag) && tag >= 0
        && tag < 4096 ? (int) tag : VLAN_NONE;
    if (ovsdb_idl_datum_n(trunks)) {
        p->trunks = calloc(512, 1);
        for (size_t i = 0; p->trunks && i < ovsdb_idl_datum_n(trunks); i++) {
            int64_t v;
            if (ovsdb_idl_atom_integer(ovsdb_idl_datum_key(trunks, i), &v)
                && v >= 0 && v < 4096) {
                p->trunks[v / 8] |= 1u << (v % 8);
            }
        }
    }
    if (mode && !strcmp(mode, "trunk")) {
        p->vlan_mode = PORT_VLAN_TRUNK;
    } else if (mode && !strcmp(mode, "native-tagged")) {
        p->vlan_mode = PORT_VLAN_NATIVE_TAGGED;
    } else if (mode && !strcmp(mode, "native-untagged")) {
        p->vlan_mode = PORT_VLAN_NATIVE_UNTAGGED;
    } else if (mode && !strcmp(mode, "access")) {
        p->vlan_mode = PORT_VLAN_ACCESS;
    } else {
        /* Open vSwitch's default: access if tagged, else trunk. */
        p->vlan_mode = p->tag != VLAN_NONE ? PORT_VLAN_ACCESS
                                            : PORT_VLAN_TRUNK;
    }
}

static void
free_cfg(struct xlate_cfg *cfg, bool keep_macs)
{
    if (!cfg) {
        return;
    }
    for (unsigned i = 0; i < cfg->n_bridges; i++) {
        struct ofproto *br = cfg->bridges[i];
        for (unsigned j = 0; j < br->n_ports; j++) {
            free(br->ports[j]->trunks);
            free(br->ports[j]);
        }
        free(br->ports);
        free(br->controllers);
        if (!keep_macs || br->macs) {
            mac_table_destroy(br->macs);
        }
        free(br);
    }
    free(cfg->bridges);
    free(cfg);
}

static bool
ofport_used(const struct ofproto *br, uint32_t ofp)
{
    for (unsigned i = 0; i < br->n_ports; i++) {
        if (br->ports[i]->ofp_port == ofp) {
            return true;
        }
    }
    return false;
}

/* OpenFlow port numbers are the bridge's own: the one the Interface had
 * (kept across restarts), else its ofport_request, else the lowest free. */
static uint32_t
pick_ofport(const struct ofproto *br, const struct want_iface *x)
{
    int64_t cur;
    if (ovsdb_idl_get_integer(x->iface, "ofport", &cur) && cur > 0
        && cur < 65280 && !ofport_used(br, cur)
        && (x->ofport_request <= 0 || cur == x->ofport_request)) {
        return cur;
    }
    if (x->ofport_request > 0 && x->ofport_request < 65280
        && !ofport_used(br, x->ofport_request)) {
        return x->ofport_request;
    }
    uint32_t ofp = 1;
    while (ofport_used(br, ofp)) {
        ofp++;
    }
    return ofp;
}

/* Bridge.controller: the targets ofconn connects to or listens on. */
static void
read_controllers(struct ofproto *br, const struct ovsdb_idl_row *row)
{
    json_t *ctls = ovsdb_idl_row_get(row, "controller");
    size_t n = ovsdb_idl_datum_n(ctls);

    br->controllers = n ? calloc(n, sizeof *br->controllers) : NULL;
    for (size_t i = 0; br->controllers && i < n; i++) {
        const struct ovsdb_idl_row *c =
            ovsdb_idl_get_ref(idl, row, "controller", i, "Controller");
        const char *target = c ? ovsdb_idl_get_string(c, "target") : NULL;
        int64_t v;
        if (!target) {
            continue;
        }
        struct ofcontroller *oc = &br->controllers[br->n_controllers++];
        snprintf(oc->target, sizeof oc->target, "%s", target);
        oc->probe_ms = ovsdb_idl_get_integer(c, "inactivity_probe", &v)
                       && v >= 0 ? (uint32_t) v : 5000;
        oc->max_backoff_ms = ovsdb_idl_get_integer(c, "max_backoff", &v)
                             && v >= 1000 ? (uint32_t) v : 8000;
    }
}

static struct xlate_cfg *
build_cfg(struct want_iface *w, size_t n, struct xlate_cfg *old)
{
    struct xlate_cfg *cfg = calloc(1, sizeof *cfg);
    const struct ovsdb_idl_row *ovs = ovs_row();
    json_t *brs = ovs ? ovsdb_idl_row_get(ovs, "bridges") : NULL;
    size_t n_br = ovsdb_idl_datum_n(brs);

    if (!cfg || !(cfg->bridges = calloc(n_br + 1, sizeof *cfg->bridges))) {
        free(cfg);
        return NULL;
    }
    cfg->seq = old ? old->seq + 1 : 1;
    for (size_t i = 0; i < n_br; i++) {
        const struct ovsdb_idl_row *row =
            ovsdb_idl_get_ref(idl, ovs, "bridges", i, "Bridge");
        const char *name = row ? ovsdb_idl_get_string(row, "name") : NULL;
        if (!name) {
            continue;
        }
        struct ofproto *br = calloc(1, sizeof *br);
        if (!br) {
            continue;
        }
        snprintf(br->name, sizeof br->name, "%s", name);
        const char *fm = ovsdb_idl_get_string(row, "fail_mode");
        br->fail_secure = fm && !strcmp(fm, "secure");
        apply_hwaddr(name, ovsdb_idl_get_map(row, "other_config",
                                             "hwaddr"));
        br->datapath_id = pick_dpid(row, name);
        read_controllers(br, row);

        /* MAC tables survive reconfiguration. */
        struct ofproto *prev = ofproto_find(old, name);
        if (prev) {
            br->macs = prev->macs;
            prev->macs = NULL;
        }
        const char *aging = ovsdb_idl_get_map(row, "other_config",
                                              "mac-aging-time");
        const char *size = ovsdb_idl_get_map(row, "other_config",
                                             "mac-table-size");
        /* Forced into Open vSwitch's documented ranges (15 s to 1 h,
         * 10 to 1,000,000 entries), so that settings behave the same. */
        unsigned long a = aging ? strtoul(aging, NULL, 10) : 0;
        unsigned long s = size ? strtoul(size, NULL, 10) : 0;
        if (aging) {
            a = a < 15 ? 15 : a > 3600 ? 3600 : a;
        }
        if (size) {
            s = s < 10 ? 10 : s > 1000000 ? 1000000 : s;
        }
        if (!br->macs) {
            br->macs = mac_table_create(a, s);
        } else {
            mac_table_set_aging(br->macs, a);
            mac_table_set_max(br->macs, s);
        }
        br->ports = calloc(n + 1, sizeof *br->ports);
        for (size_t j = 0; br->ports && j < n; j++) {
            if (w[j].br != row || w[j].odp_port == UINT32_MAX) {
                continue;
            }
            struct ofport *p = calloc(1, sizeof *p);
            if (!p) {
                continue;
            }
            snprintf(p->name, sizeof p->name, "%s", w[j].name);
            p->odp_port = w[j].odp_port;
            p->ofp_port = !strcmp(w[j].name, name) ? OFPP_LOCAL_NO
                                                  : pick_ofport(br, &w[j]);
            w[j].ofp_port = p->ofp_port;
            p->tnl = w[j].tnl;
            p->bridge = br;
            parse_vlans(p, w[j].port);
            br->ports[br->n_ports++] = p;
        }
        cfg->bridges[cfg->n_bridges++] = br;
    }
    return cfg;
}

/* ---- status write-back ---------------------------------------------------- */

static void
txn_done(void *aux, const char *error, json_t *result)
{
    (void) aux;
    (void) result;
    if (error) {
        LOG_WARN("status update failed: %s", error);
    }
}

/* Which datapath port each Interface landed on, by Interface uuid, as of
 * the last reconfiguration: the periodic statistics need it, and an
 * Interface's vport may carry another name (bound by alias, or a tunnel
 * vport shared by every tunnel of its type and UDP port). */
struct landed {
    char uuid[40];
    char host[IFNAMSIZ];
    bool tunnel;
};
static struct landed *landed;
static size_t n_landed;

static void
remember_landed(const struct want_iface *w, size_t n)
{
    free(landed);
    n_landed = 0;
    landed = calloc(n ? n : 1, sizeof *landed);
    for (size_t i = 0; landed && i < n; i++) {
        if (w[i].odp_port == UINT32_MAX) {
            continue;
        }
        struct landed *l = &landed[n_landed++];
        snprintf(l->uuid, sizeof l->uuid, "%s",
                 ovsdb_idl_row_uuid(w[i].iface));
        snprintf(l->host, sizeof l->host, "%s", w[i].host);
        l->tunnel = w[i].tnl.type != 0;
    }
}

static const struct landed *
landed_by_uuid(const char *uuid)
{
    for (size_t i = 0; i < n_landed; i++) {
        if (!strcmp(landed[i].uuid, uuid)) {
            return &landed[i];
        }
    }
    return NULL;
}

static void
write_status(struct want_iface *w, size_t n)
{
    remember_landed(w, n);
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    if (!txn) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct want_iface *x = &w[i];
        const char *uuid = ovsdb_idl_row_uuid(x->iface);
        bool is_local = !strcmp(x->name,
                                ovsdb_idl_get_string(x->br, "name"));
        int64_t ofport = x->odp_port == UINT32_MAX || !x->ofp_port ? -1
                       : is_local ? (int64_t) OFPP_LOCAL_NO
                       : (int64_t) x->ofp_port;
        char mac[18];
        bool admin, link;

        host_if_info(x->host, mac, &admin, &link);
        ovsdb_idl_txn_set(txn, "Interface", uuid, "ofport",
                          json_integer(ofport));
        ovsdb_idl_txn_set(txn, "Interface", uuid, "error",
                          x->error[0] ? json_string(x->error)
                                      : ovsdb_idl_set_new());
        if (x->odp_port != UINT32_MAX && !x->tnl.type) {
            ovsdb_idl_txn_set(txn, "Interface", uuid, "ifindex",
                              json_integer(x->ifindex));
            ovsdb_idl_txn_set(txn, "Interface", uuid, "mac_in_use",
                              json_string(mac));
            ovsdb_idl_txn_set(txn, "Interface", uuid, "admin_state",
                              json_string(admin ? "up" : "down"));
            ovsdb_idl_txn_set(txn, "Interface", uuid, "link_state",
                              json_string(link ? "up" : "down"));
        }
    }
    /* Bridge.datapath_id: the ID in use, as ovs-vsctl and controllers'
     * operators read it. */
    const struct ovsdb_idl_row *brow;
    pthread_rwlock_rdlock(&xlate_lock);
    OVSDB_IDL_FOR_EACH (brow, idl, "Bridge") {
        const char *name = ovsdb_idl_get_string(brow, "name");
        const struct ofproto *br = name && xlate_cfg
            ? ofproto_find(xlate_cfg, name) : NULL;
        if (br && br->datapath_id) {
            char hex[17];
            snprintf(hex, sizeof hex, "%016llx",
                     (unsigned long long) br->datapath_id);
            const char *have = ovsdb_idl_get_string(brow, "datapath_id");
            if (!have || strcmp(have, hex)) {
                ovsdb_idl_txn_set(txn, "Bridge", ovsdb_idl_row_uuid(brow),
                                  "datapath_id", json_string(hex));
            }
        }
    }
    pthread_rwlock_unlock(&xlate_lock);
    const struct ovsdb_idl_row *ovs = ovs_row();
    int64_t next_cfg;
    if (ovs && ovsdb_idl_get_integer(ovs, "next_cfg", &next_cfg)) {
        ovsdb_idl_txn_set(txn, "Open_vSwitch", ovsdb_idl_row_uuid(ovs),
                          "cur_cfg", json_integer(next_cfg));
    }
    if (ovsdb_idl_txn_n_ops(txn)) {
        int err = ovsdb_idl_txn_commit(txn, txn_done, NULL);
        if (err) {
            LOG_DBG("status update not sent: %s", strerror(-err));
            applied_fingerprint = 0;      /* try again on the next run */
        }
    } else {
        ovsdb_idl_txn_abort(txn);
    }
}

/* ---- entry points ---------------------------------------------------------- */

void
bridge_init(struct ovsdb_idl *idl_, struct dpif *dpif_)
{
    idl = idl_;
    dpif = dpif_;
}

static void
reconfigure(void)
{
    struct want_iface *w = calloc(MAX_IFACES, sizeof *w);
    if (!w) {
        return;
    }
    size_t n = collect(w, MAX_IFACES);
    sync_ports(w, n);

    pthread_rwlock_wrlock(&xlate_lock);
    struct xlate_cfg *old = xlate_cfg;
    struct xlate_cfg *cfg = build_cfg(w, n, old);
    if (cfg) {
        xlate_cfg = cfg;
    }
    pthread_rwlock_unlock(&xlate_lock);
    if (cfg) {
        free_cfg(old, true);
    }
    const struct ovsdb_idl_row *ovs = ovs_row();
    const char *idle = ovs ? ovsdb_idl_get_map(ovs, "other_config",
                                               "max-idle") : NULL;
    udpif_set_max_idle(idle ? strtoul(idle, NULL, 10) : 0);
    udpif_revalidate();
    write_status(w, n);
    free(w);
}

/* A digest of the configuration columns, so that our own status
 * write-back (ofport, statistics, ...) does not trigger reconfiguration. */
static uint32_t
fingerprint(void)
{
    static const char *const cols[][8] = {
        { "Open_vSwitch", "bridges", "next_cfg", "other_config", NULL },
        { "Bridge", "name", "ports", "fail_mode", "other_config",
          "controller", NULL },
        { "Controller", "target", "inactivity_probe", "max_backoff", NULL },
        { "Port", "name", "interfaces", "tag", "trunks", "vlan_mode", NULL },
        { "Interface", "name", "type", "ofport_request", "options", NULL },
    };
    uint32_t h = 0;

    for (size_t t = 0; t < sizeof cols / sizeof cols[0]; t++) {
        const struct ovsdb_idl_row *row;
        OVSDB_IDL_FOR_EACH (row, idl, cols[t][0]) {
            /* Rows come in no set order: combine their hashes with +. */
            uint32_t rh = hash_bytes(ovsdb_idl_row_uuid(row), 36, t);
            for (size_t c = 1; cols[t][c]; c++) {
                /* JSON_ENCODE_ANY: without it jansson encodes only
                 * arrays and objects, and the scalar columns (type,
                 * name, next_cfg, fail_mode, tag, ...) hashed as
                 * nothing, so changing one of them alone went unseen. */
                json_t *v = ovsdb_idl_row_get(row, cols[t][c]);
                char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS
                                            | JSON_ENCODE_ANY)
                            : NULL;
                if (s) {
                    rh = hash_bytes(s, strlen(s), rh);
                    free(s);
                }
            }
            h += rh;
        }
    }
    return h;
}

void
bridge_run(void)
{
    if (!ovsdb_idl_has_data(idl) || !ovsdb_idl_is_connected(idl)) {
        return;
    }
    uint32_t fp = fingerprint();
    if (fp != applied_fingerprint || ports_changed) {
        applied_fingerprint = fp;
        ports_changed = false;
        reconfigure();
    }
}

void
bridge_port_events(void)
{
    uint8_t cmd;
    struct dpif_port p;
    int err;

    while ((err = dpif_port_event(dpif, &cmd, &p)) != -EAGAIN) {
        if (err && err != -ENOBUFS) {
            break;
        }
        if (err == -ENOBUFS || cmd == OVS_VPORT_CMD_DEL) {
            ports_changed = true;
        }
    }
}

/* Controller.is_connected and role, as ofconn sees them. */
static void
write_controller_status(struct ovsdb_idl_txn *txn)
{
    const struct ovsdb_idl_row *br;

    OVSDB_IDL_FOR_EACH (br, idl, "Bridge") {
        const char *name = ovsdb_idl_get_string(br, "name");
        json_t *ctls = ovsdb_idl_row_get(br, "controller");
        for (size_t i = 0; name && i < ovsdb_idl_datum_n(ctls); i++) {
            const struct ovsdb_idl_row *c =
                ovsdb_idl_get_ref(idl, br, "controller", i, "Controller");
            const char *target = c ? ovsdb_idl_get_string(c, "target")
                                   : NULL;
            const char *role;
            if (!target) {
                continue;
            }
            bool up = ofconn_controller_connected(name, target, &role);
            ovsdb_idl_txn_set(txn, "Controller", ovsdb_idl_row_uuid(c),
                              "is_connected", json_boolean(up));
            ovsdb_idl_txn_set(txn, "Controller", ovsdb_idl_row_uuid(c),
                              "role", up ? json_string(role)
                                         : ovsdb_idl_set_new());
        }
    }
}

void
bridge_update_status(void)
{
    struct ovsdb_idl_txn *txn;

    if (!ovsdb_idl_is_connected(idl) || !(txn = ovsdb_idl_txn_create(idl))) {
        return;
    }
    const struct ovsdb_idl_row *row;
    OVSDB_IDL_FOR_EACH (row, idl, "Interface") {
        const struct landed *l = landed_by_uuid(ovsdb_idl_row_uuid(row));
        struct dpif_port p;
        if (!l || dpif_port_get(dpif, l->host, &p)) {
            continue;
        }
        json_t *m = ovsdb_idl_map_new();
        static const struct {
            const char *key;
            size_t ofs;
        } fields[] = {
            { "rx_packets", offsetof(struct ovs_vport_stats, rx_packets) },
            { "tx_packets", offsetof(struct ovs_vport_stats, tx_packets) },
            { "rx_bytes", offsetof(struct ovs_vport_stats, rx_bytes) },
            { "tx_bytes", offsetof(struct ovs_vport_stats, tx_bytes) },
            { "rx_errors", offsetof(struct ovs_vport_stats, rx_errors) },
            { "tx_errors", offsetof(struct ovs_vport_stats, tx_errors) },
            { "rx_dropped", offsetof(struct ovs_vport_stats, rx_dropped) },
            { "tx_dropped", offsetof(struct ovs_vport_stats, tx_dropped) },
        };
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            uint64_t v;
            memcpy(&v, (const uint8_t *) &p.stats + fields[i].ofs, sizeof v);
            ovsdb_idl_map_add(m, json_string(fields[i].key),
                              json_integer((json_int_t) v));
        }
        ovsdb_idl_txn_set(txn, "Interface", ovsdb_idl_row_uuid(row),
                          "statistics", m);
        if (l->tunnel) {
            continue;           /* no host interface to ask */
        }
        char mac[18];
        bool admin, link;
        host_if_info(l->host, mac, &admin, &link);
        ovsdb_idl_txn_set(txn, "Interface", ovsdb_idl_row_uuid(row),
                          "link_state", json_string(link ? "up" : "down"));
        ovsdb_idl_txn_set(txn, "Interface", ovsdb_idl_row_uuid(row),
                          "admin_state", json_string(admin ? "up" : "down"));
    }
    write_controller_status(txn);
    if (!ovsdb_idl_txn_n_ops(txn)
        || ovsdb_idl_txn_commit(txn, txn_done, NULL)) {
        if (!ovsdb_idl_txn_n_ops(txn)) {
            ovsdb_idl_txn_abort(txn);
        }
    }
}

void
bridge_destroy(void)
{
    pthread_rwlock_wrlock(&xlate_lock);
    struct xlate_cfg *old = xlate_cfg;
    xlate_cfg = NULL;
    pthread_rwlock_unlock(&xlate_lock);
    free_cfg(old, false);
    free(landed);
    landed = NULL;
    n_landed = 0;
}
