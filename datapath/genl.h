/* Generic netlink dispatch: the controller family (CTRL_CMD_GETFAMILY) and
 * the five families of <linux/openvswitch.h> (ovs_datapath, ovs_vport,
 * ovs_flow, ovs_packet, ovs_meter). */
#ifndef HVS_GENL_H
#define HVS_GENL_H 1

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stdint.h>

#include "control.h"

/* A request being handled. */
struct genl_req {
    const struct nlmsghdr *nlh;
    const struct genlmsghdr *genl;
    const struct ovs_header *ovs;   /* NULL for the controller family */
    const struct nlattr **attrs;    /* [maxattr + 1], validated types */
    uint32_t portid;                /* requester */
    const char *ext_msg;            /* why it failed, for the ext ack */
};

/* Resumable dump state kept by the connection between records. */
struct genl_dump {
    const struct genl_family *family;
    struct nlmsghdr *req;       /* copy of the request */
    uint64_t cursor[4];         /* family-private position */
    bool done;
};

struct genl_family {
    const char *name;
    uint16_t id;
    uint8_t version;
    uint16_t maxattr;
    /* Attribute policy: expected libmnl type per attribute (MNL_TYPE_UNSPEC
     * = any) and minimum length. */
    const struct genl_policy *policy;
    size_t hdrsize;             /* family header after genlmsghdr */
    const char *mcgrp_name;     /* NULL: none */
    uint32_t mcgrp_id;
    /* Handles a non-dump request; appends replies to 'r'.  Returns 0 or a
     * negative errno (the caller then sends the error ack). */
    int (*doit)(struct genl_req *, struct reply *r);
    /* Appends the next part of a dump to 'r'; sets d->done at the end.
     * Returns 0 or a negative errno. */
    int (*dumpit)(struct genl_dump *d, struct reply *r);
};

struct genl_policy {
    enum mnl_attr_data_type type;
    uint16_t len;               /* exact length for fixed types, 0 = any */
};

extern const struct genl_family genl_family_datapath;
extern const struct genl_family genl_family_vport;
extern const struct genl_family genl_family_flow;
extern const struct genl_family genl_family_packet;
extern const struct genl_family genl_family_meter;

/* Handles one netlink message 'nlh' (already length-checked) from the
 * connection with port id 'portid'.  Appends the replies to 'r'.  If the
 * message starts a dump that does not complete at once, returns a dump
 * state (owned by the caller, to continue with genl_dump_continue()). */
struct genl_dump *genl_handle(const struct nlmsghdr *nlh, uint32_t portid,
                              struct reply *r);
/* Continues a dump; returns true when it is finished (and frees 'd'). */
bool genl_dump_continue(struct genl_dump *d, struct reply *r);
void genl_dump_free(struct genl_dump *d);

/* Parses 'nlh''s attributes after the family header against 'f''s
 * policy into 'tb' ([f->maxattr + 1], zeroed).  Unknown attributes above
 * maxattr are ignored as the kernel's non-strict genetlink parsing does;
 * malformed ones give -EINVAL with '*why'. */
int genl_parse_attrs(const struct genl_family *f, const struct nlmsghdr *nlh,
                     const struct nlattr **tb, const char **why);

/* Completes the reply message 'nlh' (the last one started in 'r') the way
 * the kernel's ovs_notify() does: multicasts it to the members of 'group'
 * (not to the requester when it asked for an echo), and keeps it in 'r'
 * only if the request carried NLM_F_ECHO. */
void genl_notify(struct reply *r, const struct genl_req *req,
                 struct nlmsghdr *nlh, uint32_t group);

struct vport;
/* Multicasts OVS_VPORT_CMD_DEL for 'v' to the vport group (a port that
 * went away without a request). */
void genl_vport_notify_del(const struct vport *v);

#endif /* HVS_GENL_H */
