/* hvs vm: a VM's host interface and the OVS port name it answers to.
 *
 * Hyper-V's Set-VMNetworkAdapterOVSPort stores the OVS port name on the
 * VM's network adapter so that "ovs-vsctl add-port BRIDGE NAME" finds the
 * adapter whatever Hyper-V called it.  Our analog is the interface alias
 * (IFLA_IFALIAS): it survives renames, needs no daemon to be running, and
 * hvs-vswitchd reads it when a port of that name is added. */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "cli.h"

/* The kernel's bound on an alias (IFALIASZ), terminator included. */
#define ALIAS_SIZE 256
/* Room for one read of a link dump: the size libmnl recommends. */
#define DUMP_BUF_SIZE 32768

struct link {
    int ifindex;
    char name[IFNAMSIZ];
    char alias[ALIAS_SIZE];     /* "" when unset */
};

/* Every host interface of this network namespace, in ifindex order. */
struct link_list {
    struct link *links;
    size_t n, allocated;
};

static void
link_list_free(struct link_list *list)
{
    free(list->links);
    list->links = NULL;
    list->n = list->allocated = 0;
}

static const struct link *
link_list_find(const struct link_list *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++) {
        if (!strcmp(list->links[i].name, name)) {
            return &list->links[i];
        }
    }
    return NULL;
}

/* Copies a string attribute whose terminator the sender may have left
 * out (iproute2 sends aliases without one). */
static void
copy_str_attr(char *dst, size_t size, const struct nlattr *a)
{
    size_t len = mnl_attr_get_payload_len(a);
    const char *s = mnl_attr_get_payload(a);

    len = strnlen(s, len);
    if (len >= size) {
        len = size - 1;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
}

static int
link_cb(const struct nlmsghdr *nlh, void *aux)
{
    struct link_list *list = aux;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *a;
    struct link l = { .ifindex = ifi->ifi_index };

    if (nlh->nlmsg_type != RTM_NEWLINK
        || mnl_nlmsg_get_payload_len(nlh) < sizeof *ifi) {
        return MNL_CB_OK;
    }
    mnl_attr_for_each(a, nlh, sizeof *ifi) {
        if (mnl_attr_get_type(a) == IFLA_IFNAME) {
            copy_str_attr(l.name, sizeof l.name, a);
        } else if (mnl_attr_get_type(a) == IFLA_IFALIAS) {
            copy_str_attr(l.alias, sizeof l.alias, a);
        }
    }
    if (list->n == list->allocated) {
        size_t n = list->allocated ? 2 * list->allocated : 16;
        struct link *links = realloc(list->links, n * sizeof *links);

        if (!links) {
            errno = ENOMEM;
            return MNL_CB_ERROR;
        }
        list->links = links;
        list->allocated = n;
    }
    list->links[list->n++] = l;
    return MNL_CB_OK;
}

/* Sends 'nlh' on a new rtnetlink socket and runs the replies through 'cb'
 * until the request is done.  Returns 0 or -errno. */
static int
rtnl_transact(struct nlmsghdr *nlh, mnl_cb_t cb, void *aux)
{
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    char *buf = malloc(DUMP_BUF_SIZE);
    int err = 0;

    if (!nl || !buf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        err = nl && buf ? -errno : -ENOMEM;
        goto out;
    }
    uint32_t portid = mnl_socket_get_portid(nl);
    nlh->nlmsg_seq = time(NULL);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        err = -errno;
        goto out;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, DUMP_BUF_SIZE);
        if (n < 0) {
            err = -errno;
            break;
        }
        int ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, cb, aux);
        if (ret < 0) {
            err = errno ? -errno : -EPROTO;
            break;
        } else if (ret == MNL_CB_STOP) {
            break;
        }
    }
out:
    if (nl) {
        mnl_socket_close(nl);
    }
    free(buf);
    return err;
}

static int
link_dump(struct link_list *list)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = RTM_GETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;

    int err = rtnl_transact(nlh, link_cb, list);
    if (err) {
        link_list_free(list);
    }
    return err;
}

static int
link_set_alias(int ifindex, const char *alias)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = RTM_SETLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    /* An empty attribute is how the kernel is told to drop the alias. */
    mnl_attr_put(nlh, IFLA_IFALIAS, strlen(alias), alias);
    return rtnl_transact(nlh, NULL, NULL);
}

/* Why 'name' cannot be a port name, or NULL if it can.  White space and
 * control characters would make "hvs vm list" and the OVSDB tools'
 * output ambiguous. */
static const char *
port_name_problem(const char *name)
{
    if (strlen(name) >= ALIAS_SIZE) {
        return "a port name is at most 255 bytes long";
    }
    for (const unsigned char *p = (const void *) name; *p; p++) {
        if (isspace(*p) || iscntrl(*p)) {
            return "a port name cannot contain white space or control "
                   "characters";
        }
    }
    return NULL;
}

static const char *
errno_cause(int err)
{
    switch (err) {
    case -ENODEV:
        return "no such host interface";
    case -EPERM:
    case -EACCES:
        return "permission denied (needs CAP_NET_ADMIN)";
    default:
        return strerror(-err);
    }
}

static int
set_port_name(const char *iface, const char *name)
{
    struct link_list list = { NULL, 0, 0 };
    const char *problem = port_name_problem(name);
    int err;

    if (problem) {
        cli_error("cannot set port name of %s to '%s': %s", iface, name,
                  problem);
        return CLI_EXIT_USAGE;
    }
    err = link_dump(&list);
    if (err) {
        cli_error("cannot set port name of %s: cannot list host "
                  "interfaces: %s", iface, errno_cause(err));
        return CLI_EXIT_FAIL;
    }

    int status = CLI_EXIT_FAIL;
    const struct link *target = link_list_find(&list, iface);
    if (!target) {
        cli_error("cannot set port name of %s: no such host interface",
                  iface);
        goto out;
    }
    /* A port name must pick out one interface, or add-port would bind
     * whichever it met first. */
    for (size_t i = 0; *name && i < list.n; i++) {
        const struct link *l = &list.links[i];

        if (l != target && !strcmp(l->alias, name)) {
            cli_error("cannot set port name of %s to '%s': it is already "
                      "the port name of %s", iface, name, l->name);
            goto out;
        }
    }
    err = link_set_alias(target->ifindex, name);
    if (err) {
        cli_error("cannot %s port name of %s: %s", *name ? "set" : "clear",
                  iface, errno_cause(err));
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    link_list_free(&list);
    return status;
}

static int
list_port_names(void)
{
    struct link_list list = { NULL, 0, 0 };
    int err = link_dump(&list);

    if (err) {
        cli_error("cannot list host interfaces: %s", errno_cause(err));
        return CLI_EXIT_FAIL;
    }
    int width = 0;
    for (size_t i = 0; i < list.n; i++) {
        int len = strlen(list.links[i].name);
        if (list.links[i].alias[0] && len > width) {
            width = len;
        }
    }
    for (size_t i = 0; i < list.n; i++) {
        if (list.links[i].alias[0]) {
            printf("%-*s  %s\n", width, list.links[i].name,
                   list.links[i].alias);
        }
    }
    link_list_free(&list);
    return CLI_EXIT_OK;
}

int
vm_main(const struct cli_opts *opts, int argc, char *argv[])
{
    (void) opts;
    if (argc < 1) {
        return cli_usage_error("vm: missing subcommand (set-port-name or "
                               "list)");
    }
    if (!strcmp(argv[0], "set-port-name")) {
        if (argc != 3) {
            return cli_usage_error("vm set-port-name: expected IFACE NAME "
                                   "(NAME \"\" clears it), got %d "
                                   "argument%s", argc - 1,
                                   argc == 2 ? "" : "s");
        }
        return set_port_name(argv[1], argv[2]);
    } else if (!strcmp(argv[0], "list")) {
        if (argc != 1) {
            return cli_usage_error("vm list: unexpected argument '%s'",
                                   argv[1]);
        }
        return list_port_names();
    }
    return cli_usage_error("vm: unknown subcommand '%s'", argv[0]);
}
