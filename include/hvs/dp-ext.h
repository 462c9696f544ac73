/* hvs control-socket records that are not genetlink messages.
 *
 * The datapath control socket (RUNDIR/datapath.sock, AF_UNIX SOCK_SEQPACKET)
 * carries one emulated netlink socket per connection.  Each record is one
 * datagram and holds one or more complete netlink messages (nlmsghdr
 * aligned to NLMSG_ALIGNTO), exactly as a netlink socket would deliver them.
 *
 * Besides genuine genetlink traffic, a few private control records travel
 * on the same stream.  They are netlink messages whose nlmsg_type lies in
 * the range below NLMSG_MIN_TYPE (0x10) that the kernel reserves for
 * control messages and never uses above NLMSG_OVERRUN (4), so they can
 * never be mistaken for a family message.  Each such record holds exactly
 * one message.
 *
 * Daemon -> client:
 *   HVS_NLMSG_HELLO     first record on every connection; payload
 *                       struct hvs_nl_hello (the port id assigned to this
 *                       emulated socket, what getsockname() reports).
 *   HVS_NLMSG_SYNC      sent after the daemon has completely handled one
 *                       request record (all replies, including a whole
 *                       dump, precede it).  nlmsg_seq echoes the
 *                       record's sequence number (see HVS_NLMSG_REQ below).
 *                       Lets a client that expects a synchronous kernel
 *                       (reads replies with MSG_DONTWAIT) wait correctly.
 *   HVS_NLMSG_OVERFLOW  asynchronous messages (upcalls, multicast) were
 *                       dropped because the client's queue was full; a
 *                       kernel socket reports this as ENOBUFS on recv().
 *
 * Client -> daemon:
 *   HVS_NLMSG_MEMBERSHIP  payload struct hvs_nl_membership: join or leave
 *                       a multicast group (NETLINK_ADD/DROP_MEMBERSHIP).
 *                       Ordered with later requests; no reply, no SYNC.
 *
 * Every record the client sends that is not a private control record is a
 * request record; the daemon answers each one with replies followed by
 * exactly one HVS_NLMSG_SYNC, in order.  nlmsg_seq of the SYNC counts the
 * request records of this connection, starting at 1.
 */
#ifndef HVS_DP_EXT_H
#define HVS_DP_EXT_H 1

#include <stdint.h>

#define HVS_NLMSG_HELLO      0x0b
#define HVS_NLMSG_SYNC       0x0c
#define HVS_NLMSG_OVERFLOW   0x0d
#define HVS_NLMSG_MEMBERSHIP 0x0e

/* True for the private record types above. */
#define HVS_NLMSG_IS_PRIVATE(type) ((type) >= HVS_NLMSG_HELLO \
                                    && (type) <= HVS_NLMSG_MEMBERSHIP)

struct hvs_nl_hello {
    uint32_t version;           /* HVS_NL_PROTO_VERSION */
    uint32_t portid;            /* this connection's netlink port id */
};
#define HVS_NL_PROTO_VERSION 1

struct hvs_nl_membership {
    uint32_t op;                /* HVS_NL_JOIN or HVS_NL_LEAVE */
    uint32_t group;             /* multicast group id */
};
#define HVS_NL_JOIN  1
#define HVS_NL_LEAVE 2

/* Generic netlink family ids that hvs-dpd assigns.  Clients must look them
 * up with CTRL_CMD_GETFAMILY as with the kernel; they are fixed here only so
 * that logs and captures are easy to read. */
#define HVS_GENL_ID_DATAPATH 0x20
#define HVS_GENL_ID_VPORT    0x21
#define HVS_GENL_ID_FLOW     0x22
#define HVS_GENL_ID_PACKET   0x23
#define HVS_GENL_ID_METER    0x24
#define HVS_GENL_MCGRP_VPORT 0x20

/* Default control socket path below the run directory. */
#define HVS_DATAPATH_SOCK "datapath.sock"

#endif /* HVS_DP_EXT_H */
