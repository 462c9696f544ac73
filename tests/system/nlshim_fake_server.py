#!/usr/bin/python3
"""A stand-in for hvs-dpd's control socket, for testing libhvs-nlshim.so.

Speaks the record protocol of include/hvs/dp-ext.h on an AF_UNIX
SOCK_SEQPACKET socket: HELLO with a port id on connect, replies to each
request record followed by one SYNC, MEMBERSHIP records without reply.

It answers CTRL_CMD_GETFAMILY with ENOENT for every family except
"hvs_test", whose commands exist only to exercise the shim (see TEST_*
below), and, when given a datapath name (ovs_dp), a minimal read-only
ovs_datapath/ovs_vport/ovs_flow: one datapath with its local port, enough
for "ovs-dpctl show".  Replies can be delayed (reply_delay) to check that
clients expecting a synchronous kernel still see them.  Everything else gets
EOPNOTSUPP.

Run standalone:  nlshim_fake_server.py PATH   (prints "ready", serves until
killed), or use FakeServer from Python (tests/system/test_nlshim.py).
"""
import errno
import os
import socket
import struct
import sys
import threading
import time

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
GENL_ID_CTRL = 0x10
CTRL_CMD_NEWFAMILY = 1
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

# include/hvs/dp-ext.h
HVS_NLMSG_HELLO = 0x0b
HVS_NLMSG_SYNC = 0x0c
HVS_NLMSG_OVERFLOW = 0x0d
HVS_NLMSG_MEMBERSHIP = 0x0e
HVS_NL_PROTO_VERSION = 1
HVS_NL_JOIN = 1
HVS_NL_LEAVE = 2

# The test family and its commands.
TEST_FAMILY = "hvs_test"
TEST_FAMILY_ID = 0x7f
TEST_INFO = 1       # reply: record/message numbering, port id, groups
TEST_SLOW = 2       # like TEST_INFO, after 0.3 s
TEST_BIG = 3        # reply of 5000 bytes in all
TEST_OVERFLOW = 4   # an OVERFLOW record, then a TEST_INFO reply
TEST_NOREPLY = 5    # nothing but the SYNC
TEST_DUMP = 6       # u32 n in the payload: n replies 50 ms apart, then DONE

# Fixed ids, as hvs-dpd uses (include/hvs/dp-ext.h).
OVS_FAMILIES = {"ovs_datapath": 0x20, "ovs_vport": 0x21, "ovs_flow": 0x22,
                "ovs_packet": 0x23}
OVS_VPORT_MCGROUP_ID = 0x20
NLM_F_DUMP = 0x300
CTRL_ATTR_VERSION = 3
CTRL_ATTR_HDRSIZE = 4
CTRL_ATTR_MAXATTR = 5
CTRL_ATTR_MCAST_GROUPS = 7
OVS_DP_ATTR_NAME = 1
OVS_DP_ATTR_STATS = 3
OVS_DP_ATTR_MEGAFLOW_STATS = 4
OVS_DP_ATTR_USER_FEATURES = 5
OVS_VPORT_ATTR_PORT_NO = 1
OVS_VPORT_ATTR_TYPE = 2
OVS_VPORT_ATTR_NAME = 3
OVS_VPORT_ATTR_UPCALL_PID = 5
OVS_VPORT_ATTR_STATS = 6
OVS_VPORT_TYPE_INTERNAL = 2
FAKE_DP_IFINDEX = 7

NLMSG_HDR = struct.Struct("=IHHII")
GENL_HDR = struct.Struct("=BBH")


def nlmsg(mtype, flags, seq, pid, payload):
    return NLMSG_HDR.pack(NLMSG_HDR.size + len(payload), mtype, flags, seq,
                          pid) + payload


def align4(n):
    return (n + 3) & ~3


def nlattr(atype, data):
    a = struct.pack("=HH", 4 + len(data), atype) + data
    return a + b"\0" * (align4(len(a)) - len(a))


def parse_attrs(data):
    attrs = {}
    off = 0
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from("=HH", data, off)
        if alen < 4 or off + alen > len(data):
            break
        attrs[atype & 0x3fff] = data[off + 4:off + alen]
        off += align4(alen)
    return attrs


def split_record(rec):
    """Yields (type, flags, seq, pid, whole message) for each message."""
    off = 0
    while off + NLMSG_HDR.size <= len(rec):
        mlen, mtype, flags, seq, pid = NLMSG_HDR.unpack_from(rec, off)
        if mlen < NLMSG_HDR.size or off + mlen > len(rec):
            break
        yield mtype, flags, seq, pid, rec[off:off + mlen]
        off += align4(mlen)


class Conn:
    def __init__(self, server, sock, portid):
        self.server = server
        self.sock = sock
        self.portid = portid
        self.requests = 0
        self.groups = set()

    def send(self, data):
        if self.server.reply_delay:
            time.sleep(self.server.reply_delay)
        self.sock.send(data, socket.MSG_NOSIGNAL)

    def error(self, msg, err):
        seq = NLMSG_HDR.unpack_from(msg)[3]
        self.send(nlmsg(NLMSG_ERROR, 0, seq, self.portid,
                        struct.pack("=i", -err) + msg))

    def info(self, msg, index, count, extra=b""):
        seq = NLMSG_HDR.unpack_from(msg)[3]
        groups = sorted(self.groups)
        body = struct.pack("=IIII%dI" % (1 + len(groups)), self.requests,
                           index, count, self.portid, len(groups), *groups)
        self.send(nlmsg(TEST_FAMILY_ID, 0, seq, self.portid,
                        GENL_HDR.pack(TEST_INFO, 1, 0) + body + extra))

    def getfamily(self, msg):
        seq = NLMSG_HDR.unpack_from(msg)[3]
        attrs = parse_attrs(msg[NLMSG_HDR.size + GENL_HDR.size:])
        name = attrs.get(CTRL_ATTR_FAMILY_NAME, b"").rstrip(b"\0").decode(
            "utf-8", "replace")
        self.server.event("getfamily", self.portid, name)
        if name == TEST_FAMILY:
            family_id = TEST_FAMILY_ID
        elif self.server.ovs_dp and name in OVS_FAMILIES:
            family_id = OVS_FAMILIES[name]
        else:
            self.error(msg, errno.ENOENT)
            return
        payload = (GENL_HDR.pack(CTRL_CMD_NEWFAMILY, 2, 0)
                   + nlattr(CTRL_ATTR_FAMILY_ID, struct.pack("=H", family_id))
                   + nlattr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")
                   + nlattr(CTRL_ATTR_VERSION, struct.pack("=I", 1))
                   + nlattr(CTRL_ATTR_HDRSIZE, struct.pack("=I", 4))
                   + nlattr(CTRL_ATTR_MAXATTR, struct.pack("=I", 9)))
        if name == "ovs_vport":
            group = (nlattr(1, b"ovs_vport\0")
                     + nlattr(2, struct.pack("=I", OVS_VPORT_MCGROUP_ID)))
            payload += nlattr(CTRL_ATTR_MCAST_GROUPS | 0x8000,
                              nlattr(1 | 0x8000, group))
        self.send(nlmsg(GENL_ID_CTRL, 0, seq, self.portid, payload))

    def ovs_reply(self, msg, body, flags=0):
        seq = NLMSG_HDR.unpack_from(msg)[3]
        mtype = NLMSG_HDR.unpack_from(msg)[1]
        cmd = msg[NLMSG_HDR.size]
        self.send(nlmsg(mtype, flags, seq, self.portid,
                        GENL_HDR.pack(cmd, 2, 0)
                        + struct.pack("=i", FAKE_DP_IFINDEX) + body))

    def ovs_done(self, msg):
        seq = NLMSG_HDR.unpack_from(msg)[3]
        self.send(nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, self.portid,
                        struct.pack("=i", 0)))

    def ovs(self, msg):
        """The fixed datapath: one dp, its local port, no flows."""
        mtype, flags = NLMSG_HDR.unpack_from(msg)[1:3]
        cmd = msg[NLMSG_HDR.size] if len(msg) > NLMSG_HDR.size else 0
        hdr = NLMSG_HDR.size + GENL_HDR.size
        ifindex = struct.unpack_from("=i", msg, hdr)[0] \
            if len(msg) >= hdr + 4 else 0
        attrs = parse_attrs(msg[hdr + 4:])
        name = attrs.get(1 if mtype != OVS_FAMILIES["ovs_vport"]
                         else OVS_VPORT_ATTR_NAME)
        name = name.rstrip(b"\0").decode() if name else None
        dump = (flags & NLM_F_DUMP) == NLM_F_DUMP
        dp = self.server.ovs_dp
        self.server.event("ovs", self.portid, mtype, cmd, flags, name)
        # GET, and SET of the datapath (opening it sets user features).
        if cmd != 3 and not (cmd == 4 and mtype
                             == OVS_FAMILIES["ovs_datapath"]):
            self.error(msg, errno.EOPNOTSUPP)
            return
        found = dump or name == dp or (not name and ifindex
                                       == FAKE_DP_IFINDEX)
        if mtype == OVS_FAMILIES["ovs_datapath"]:
            body = (nlattr(OVS_DP_ATTR_NAME, dp.encode() + b"\0")
                    + nlattr(OVS_DP_ATTR_STATS, bytes(32))
                    + nlattr(OVS_DP_ATTR_MEGAFLOW_STATS, bytes(32))
                    + nlattr(OVS_DP_ATTR_USER_FEATURES,
                             struct.pack("=I", 0x9)))
        elif mtype == OVS_FAMILIES["ovs_vport"]:
            body = (nlattr(OVS_VPORT_ATTR_PORT_NO, struct.pack("=I", 0))
                    + nlattr(OVS_VPORT_ATTR_TYPE,
                             struct.pack("=I", OVS_VPORT_TYPE_INTERNAL))
                    + nlattr(OVS_VPORT_ATTR_NAME, dp.encode() + b"\0")
                    + nlattr(OVS_VPORT_ATTR_UPCALL_PID, struct.pack("=I", 0))
                    + nlattr(OVS_VPORT_ATTR_STATS, bytes(64)))
        else:
            body = None                                 # no flows
        if dump:
            if body is not None and (ifindex in (0, FAKE_DP_IFINDEX)):
                self.ovs_reply(msg, body, NLM_F_MULTI)
            self.ovs_done(msg)
        elif found and body is not None:
            self.ovs_reply(msg, body)
        else:
            self.error(msg, errno.ENODEV if mtype != OVS_FAMILIES[
                "ovs_flow"] else errno.ENOENT)

    def test(self, msg, index, count):
        seq = NLMSG_HDR.unpack_from(msg)[3]
        cmd = msg[NLMSG_HDR.size] if len(msg) > NLMSG_HDR.size else 0
        if cmd == TEST_INFO:
            self.info(msg, index, count)
        elif cmd == TEST_SLOW:
            time.sleep(0.3)
            self.info(msg, index, count)
        elif cmd == TEST_BIG:
            base = NLMSG_HDR.size + GENL_HDR.size + 20 + 4 * len(self.groups)
            self.info(msg, index, count, b"x" * (5000 - base))
        elif cmd == TEST_OVERFLOW:
            self.send(nlmsg(HVS_NLMSG_OVERFLOW, 0, 0, self.portid, b""))
            self.info(msg, index, count)
        elif cmd == TEST_NOREPLY:
            pass
        elif cmd == TEST_DUMP:
            off = NLMSG_HDR.size + GENL_HDR.size
            n = struct.unpack_from("=I", msg, off)[0]
            for i in range(n):
                time.sleep(0.05)
                self.send(nlmsg(TEST_FAMILY_ID, NLM_F_MULTI, seq,
                                self.portid, GENL_HDR.pack(TEST_INFO, 1, 0)
                                + struct.pack("=I", i)))
            self.send(nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, self.portid,
                            struct.pack("=i", 0)))
        else:
            self.error(msg, errno.EOPNOTSUPP)

    def serve(self):
        self.send(nlmsg(HVS_NLMSG_HELLO, 0, 0, self.portid,
                        struct.pack("=II", HVS_NL_PROTO_VERSION,
                                    self.portid)))
        while True:
            rec = self.sock.recv(1 << 17)
            if not rec:
                return
            if len(rec) >= NLMSG_HDR.size:
                mtype = NLMSG_HDR.unpack_from(rec)[1]
                if mtype == HVS_NLMSG_MEMBERSHIP:
                    op, group = struct.unpack_from("=II", rec,
                                                   NLMSG_HDR.size)
                    self.server.event("membership", self.portid, op, group)
                    if op == HVS_NL_JOIN:
                        self.groups.add(group)
                    else:
                        self.groups.discard(group)
                    continue
            self.requests += 1
            msgs = list(split_record(rec))
            self.server.event("record", self.portid, len(rec), len(msgs))
            for index, (mtype, flags, seq, pid, msg) in enumerate(msgs):
                if mtype == GENL_ID_CTRL and len(msg) > NLMSG_HDR.size \
                        and msg[NLMSG_HDR.size] == CTRL_CMD_GETFAMILY:
                    self.getfamily(msg)
                elif mtype == TEST_FAMILY_ID:
                    self.test(msg, index, len(msgs))
                elif self.server.ovs_dp and mtype in OVS_FAMILIES.values():
                    self.ovs(msg)
                else:
                    self.error(msg, errno.EOPNOTSUPP)
            self.send(nlmsg(HVS_NLMSG_SYNC, 0, self.requests, self.portid,
                            b""))

    def run(self):
        try:
            self.serve()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.sock.close()
            self.server.event("close", self.portid)


class FakeServer:
    """Serves the control socket at 'path' from a background thread."""

    def __init__(self, path, verbose=False, ovs_dp=None, reply_delay=0.0):
        self.path = path
        self.verbose = verbose
        self.ovs_dp = ovs_dp
        self.reply_delay = reply_delay
        self.log = []               # (event, portid, ...) tuples, in order
        self.next_portid = 0x1000
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.path.exists(path):
            os.unlink(path)
        self.listener.bind(path)
        self.listener.listen(64)
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)

    def event(self, *args):
        self.log.append(args)
        if self.verbose:
            print(*args, flush=True)

    def start(self):
        self.thread.start()
        return self

    def accept_loop(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.next_portid += 1
            self.event("connect", self.next_portid)
            conn = Conn(self, sock, self.next_portid)
            threading.Thread(target=conn.run, daemon=True).start()

    def stop(self):
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(5)
        if os.path.exists(self.path):
            os.unlink(self.path)


def main():
    import argparse
    ap = argparse.ArgumentParser(description="fake hvs-dpd control socket")
    ap.add_argument("path")
    ap.add_argument("--ovs-dp", metavar="NAME",
                    help="serve a read-only datapath NAME")
    ap.add_argument("--reply-delay", type=float, default=0.0,
                    metavar="SECONDS", help="sleep before every reply")
    a = ap.parse_args()
    server = FakeServer(a.path, verbose=True, ovs_dp=a.ovs_dp,
                        reply_delay=a.reply_delay).start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
