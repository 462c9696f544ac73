/* Upcalls: building OVS_PACKET_CMD_MISS / _ACTION messages and sending
 * them, without blocking, to the client's emulated netlink socket. */
#include "upcall.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <sched.h>
#include <linux/openvswitch.h>
#include <string.h>

#include "control.h"
#include "datapath.h"
#include "flow-netlink.h"
#include "flow.h"
#include "hvs/dp-ext.h"
#include "log.h"
#include "offload.h"
#include "packet.h"
#include "vport.h"

LOG_MODULE(upcall);

/* A 64 KiB frame plus key, userdata and headers. */
#define UPCALL_BUF (80 * 1024)
#define MAX_SEGS 64

/* OVS_PACKET_ATTR_HASH flags, as the kernel reports its skb hash. */
#define HASH_L4_BIT (1ull << 32)

static uint32_t
pick_pid(struct datapath *dp, const struct vport *in,
         const struct flow_key *key, unsigned thread)
{
    if (dp->user_features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU) {
        const struct dp_cpu_pids *c =
            atomic_load_explicit(&dp->cpu_pids, memory_order_consume);
        return c && c->n ? c->pids[thread % c->n] : 0;
    }
    const struct vport_upcall_pids *u = in
        ? atomic_load_explicit(&in->upcall_pids, memory_order_consume)
        : NULL;
    if (!u || !u->n) {
        return 0;
    }
    return u->n == 1 ? u->pids[0]
                     : u->pids[flow_hash_5tuple(key, 0) % u->n];
}

/* Sends one upcall for the complete (no offload state) packet 'p'. */
static int
send_one(struct datapath *dp, uint32_t pid, uint8_t cmd,
         const struct dp_packet *p, const struct flow_key *key,
         const struct nlattr *userdata, uint32_t orig_len)
{
    uint8_t buf[UPCALL_BUF] __attribute__((aligned(8)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = HVS_GENL_ID_PACKET;
    nlh->nlmsg_pid = pid;
    struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
    g->cmd = cmd;
    g->version = OVS_PACKET_VERSION;
    struct ovs_header *oh = mnl_nlmsg_put_extra_header(nlh, sizeof *oh);
    oh->dp_ifindex = dp->dp_ifindex;

    if (fnl_put_key(nlh, sizeof buf, OVS_PACKET_ATTR_KEY, key, key, false)) {
        return -EMSGSIZE;
    }
    if (userdata
        && !mnl_attr_put_check(nlh, sizeof buf, OVS_PACKET_ATTR_USERDATA,
                               mnl_attr_get_payload_len(userdata),
                               mnl_attr_get_payload(userdata))) {
        return -EMSGSIZE;
    }
    if (orig_len
        && !mnl_attr_put_u32_check(nlh, sizeof buf, OVS_PACKET_ATTR_LEN,
                                   orig_len)) {
        return -EMSGSIZE;
    }
    uint64_t hash = flow_hash_5tuple(key, 0) | HASH_L4_BIT;
    if (!mnl_attr_put_check(nlh, sizeof buf, OVS_PACKET_ATTR_HASH,
                            sizeof hash, &hash)) {
        return -EMSGSIZE;
    }
    size_t len = p->cutlen && p->cutlen < p->len ? p->cutlen : p->len;
    if (!mnl_attr_put_check(nlh, sizeof buf, OVS_PACKET_ATTR_PACKET, len,
                            dp_packet_data(p))) {
        return -EMSGSIZE;
    }
    return control_send_async(pid, buf, nlh->nlmsg_len);
}

static void
send_upcall(struct datapath *dp, uint32_t pid, uint8_t cmd,
            const struct dp_packet *p, const struct flow_key *key,
            const struct nlattr *userdata)
{
    static struct log_rl rl = LOG_RL_INIT(60, 5);
    int err;

    if (!pid) {
        err = -ENOTCONN;
    } else if (!p->vnet.flags && p->vnet.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        err = send_one(dp, pid, cmd, p, key, userdata,
                       p->cutlen && p->cutlen < p->len ? p->len : 0);
    } else {
        /* Userspace gets complete packets, as from the kernel: segment
         * super-packets, finish partial checksums. */
        struct dp_packet *segs[MAX_SEGS];
        int n = offload_segment(p, segs, MAX_SEGS);
        err = n < 0 ? n : 0;
        for (int i = 0; i < n; i++) {
            segs[i]->md = p->md;
            if (!err) {
                err = send_one(dp, pid, cmd, segs[i], key, userdata, 0);
            }
            dp_packet_free(segs[i]);
        }
    }
    if (!err) {
        if (cmd == OVS_PACKET_CMD_MISS) {
            atomic_fetch_add_explicit(&dp->stats.n_missed, 1,
                                      memory_order_relaxed);
        }
    } else {
        atomic_fetch_add_explicit(&dp->stats.n_lost, 1,
                                  memory_order_relaxed);
        LOG_RL(&rl, LOG_L_DBG, "%s: upcall to portid %u lost: %s",
               dp->name, pid, strerror(-err));
    }
}

void
upcall_miss(struct datapath *dp, const struct dp_packet *p,
            const struct flow_key *key, unsigned thread)
{
    const struct vport *in = dp_port(dp, p->md.in_port);
    send_upcall(dp, pick_pid(dp, in, key, thread), OVS_PACKET_CMD_MISS, p,
                key, NULL);
}

void
upcall_action(struct datapath *dp, const struct dp_packet *p,
              const struct flow_key *key, const struct nlattr *attr)
{
    const struct nlattr *a, *userdata = NULL;
    uint32_t pid = 0;

    mnl_attr_for_each_nested(a, attr) {
        switch (mnl_attr_get_type(a)) {
        case OVS_USERSPACE_ATTR_PID:
            pid = mnl_attr_get_u32(a);
            break;
        case OVS_USERSPACE_ATTR_USERDATA:
            userdata = a;
            break;
        }
    }
    /* In per-CPU dispatch mode the kernel ignores the action's pid (vswitchd
     * puts a placeholder there) and uses the current CPU's pid. */
    if (dp->user_features & OVS_DP_F_DISPATCH_UPCALL_PER_CPU) {
        int cpu = sched_getcpu();
        pid = pick_pid(dp, NULL, key, cpu < 0 ? 0 : (unsigned) cpu);
    }
    send_upcall(dp, pid, OVS_PACKET_CMD_ACTION, p, key, userdata);
}
