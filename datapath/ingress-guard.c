/* Keeps the host stack off the frames of an interface hvs-dpd has taken as
 * a netdev vport.
 *
 * A packet socket only listens: every frame that arrives on the interface
 * still goes up the host's own stack too.  The stack then answers ARP for
 * any of its addresses on that interface (arp_ignore=0), and accepts IP
 * packets addressed to it, so a tunnel packet for the VTEP that reaches
 * the uplink is decapsulated twice (once by the datapath, once by the
 * host through the tunnel socket) and a VM's ARP for a hypervisor address
 * gets the hypervisor's reply.  The kernel's Open vSwitch module avoids
 * this by taking the frames away from the stack (rx_handler); we get the
 * same effect with a two-instruction BPF program ("drop") attached at the
 * tcx ingress hook: the kernel delivers to packet sockets (taps) before it
 * runs tcx, so hvs-dpd still sees everything and the stack nothing.
 *
 * The attachment is a BPF link owned by a descriptor: closing it (or the
 * death of hvs-dpd, however it dies) gives the interface back to the host
 * stack, so no state is left behind.  Kernels before 6.6 have no tcx;
 * there the guard is skipped with a warning. */
#include "ingress-guard.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

LOG_MODULE(netdev);

/* From <linux/bpf.h> of Linux 6.6 and later; Debian 12's headers predate
 * tcx. */
#define TCX_INGRESS_ATTACH_TYPE 46      /* BPF_TCX_INGRESS */
#define TC_ACT_SHOT_CODE 2              /* TC_ACT_SHOT */

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int) syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* The program, loaded once and shared by every guard. */
static int prog_fd = -1;

static int
load_drop_prog(void)
{
    static const struct bpf_insn insns[] = {
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
          .imm = TC_ACT_SHOT_CODE },
        { .code = BPF_JMP | BPF_EXIT },
    };
    union bpf_attr a;

    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
    a.insns = (uintptr_t) insns;
    a.insn_cnt = sizeof insns / sizeof insns[0];
    a.license = (uintptr_t) "GPL";
    a.expected_attach_type = TCX_INGRESS_ATTACH_TYPE;
    memcpy(a.prog_name, "hvs_ingress", sizeof "hvs_ingress");
    int fd = sys_bpf(BPF_PROG_LOAD, &a);
    return fd < 0 ? -errno : fd;
}

int
ingress_guard_attach(int ifindex, const char *name)
{
    static bool warned;
    union bpf_attr a;

    if (prog_fd < 0) {
        prog_fd = load_drop_prog();
        if (prog_fd < 0) {
            int err = prog_fd;
            prog_fd = -1;
            if (!warned) {
                warned = true;
                LOG_WARN("cannot keep the host stack off netdev ports "
                         "(BPF: %s): the host will also answer ARP and "
                         "accept packets on them", strerror(-err));
            }
            return err;
        }
    }
    memset(&a, 0, sizeof a);
    a.link_create.prog_fd = prog_fd;
    a.link_create.target_ifindex = ifindex;
    a.link_create.attach_type = TCX_INGRESS_ATTACH_TYPE;
    int fd = sys_bpf(BPF_LINK_CREATE, &a);
    if (fd < 0) {
        int err = -errno;
        LOG_WARN("%s: cannot keep the host stack off the port (tcx: %s): "
                 "the host will also answer ARP and accept packets on it",
                 name, strerror(-err));
        return err;
    }
    return fd;
}
