"""A small genetlink client for hvs-dpd's control socket, for tests.

Speaks the record protocol of include/hvs/dp-ext.h: HELLO on connect,
one SYNC after every request record, MEMBERSHIP records.  Messages are
built by hand with struct so that tests can also build malformed ones.
"""
import errno
import socket
import struct

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 1, 2, 4, 8
NLM_F_DUMP = 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
CTRL_ATTR_MCAST_GROUPS = 7
HELLO, SYNC, OVERFLOW, MEMBERSHIP = 0x0b, 0x0c, 0x0d, 0x0e

# <linux/openvswitch.h>
OVS_DP_CMD_NEW, OVS_DP_CMD_DEL, OVS_DP_CMD_GET, OVS_DP_CMD_SET = 1, 2, 3, 4
OVS_DP_ATTR_NAME, OVS_DP_ATTR_UPCALL_PID, OVS_DP_ATTR_STATS = 1, 2, 3
OVS_DP_ATTR_USER_FEATURES = 5
OVS_DP_ATTR_PER_CPU_PIDS = 8
OVS_VPORT_CMD_NEW, OVS_VPORT_CMD_DEL, OVS_VPORT_CMD_GET = 1, 2, 3
OVS_VPORT_CMD_SET = 4
OVS_VPORT_ATTR_PORT_NO, OVS_VPORT_ATTR_TYPE, OVS_VPORT_ATTR_NAME = 1, 2, 3
OVS_VPORT_ATTR_UPCALL_PID = 5
OVS_FLOW_CMD_NEW, OVS_FLOW_CMD_DEL, OVS_FLOW_CMD_GET = 1, 2, 3
OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_ACTIONS, OVS_FLOW_ATTR_MASK = 1, 2, 7
OVS_PACKET_CMD_MISS, OVS_PACKET_CMD_EXECUTE = 1, 3
OVS_PACKET_ATTR_PACKET, OVS_PACKET_ATTR_KEY = 1, 2
OVS_KEY_ATTR_ENCAP, OVS_KEY_ATTR_IN_PORT, OVS_KEY_ATTR_ETHERNET = 1, 3, 4
OVS_KEY_ATTR_ETHERTYPE, OVS_KEY_ATTR_IPV4 = 6, 7
OVS_ACTION_ATTR_OUTPUT = 1
NLA_F_NESTED = 0x8000


def attr(atype, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, atype) + payload + b"\0" * ((4 - n % 4) % 4)


def attr_u32(atype, v):
    return attr(atype, struct.pack("=I", v))


def attr_str(atype, s):
    return attr(atype, s.encode() + b"\0")


def parse_attrs(data):
    out = {}
    i = 0
    while i + 4 <= len(data):
        n, t = struct.unpack_from("=HH", data, i)
        if n < 4:
            break
        out.setdefault(t & 0x3fff, data[i + 4:i + n])
        i += (n + 3) & ~3
    return out


class NetlinkError(Exception):
    def __init__(self, err, msg=""):
        super().__init__("%s (%s)" % (errno.errorcode.get(err, err), msg))
        self.errno = err


class Client:
    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        rec = self.sock.recv(65536)
        t, = struct.unpack_from("=H", rec, 4)
        assert t == HELLO, "first record must be HELLO"
        self.portid = struct.unpack_from("=II", rec, 16)[1]
        self.seq = 0
        self.families = {}
        self.async_msgs = []

    def close(self):
        self.sock.close()

    def msg(self, mtype, flags, cmd, version, payload, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        body = struct.pack("=BBH", cmd, version, 0) + payload
        return struct.pack("=IHHII", 16 + len(body), mtype, flags, seq,
                           self.portid) + body

    def send_record(self, data):
        self.sock.send(data)

    def records_until_sync(self, seq=None):
        """All messages up to the SYNC that ends the current request; with
        'seq', messages of other sequence numbers (upcalls, notifications)
        are set aside for recv_async()."""
        msgs = []
        while True:
            rec = self.sock.recv(1 << 20)
            i = 0
            while i + 16 <= len(rec):
                n, t, f, s, p = struct.unpack_from("=IHHII", rec, i)
                if n < 16:
                    break
                m = (t, f, s, rec[i + 16:i + n])
                if t == SYNC:
                    return msgs
                if t == OVERFLOW or (seq is not None and s != seq):
                    self.async_msgs.append(m)
                else:
                    msgs.append(m)
                i += (n + 3) & ~3

    def transact_raw(self, data, seq=None):
        self.send_record(data)
        return self.records_until_sync(seq)

    def transact(self, mtype, flags, cmd, version, payload):
        """Returns the reply messages' (cmd, payload-after-genl) or raises
        NetlinkError."""
        req = self.msg(mtype, flags | NLM_F_REQUEST, cmd, version, payload)
        msgs = self.transact_raw(req, self.seq)
        out = []
        for t, f, s, body in msgs:
            if t == NLMSG_ERROR:
                err, = struct.unpack_from("=i", body, 0)
                if err:
                    text = ""
                    if f & 0x200:  # NLM_F_ACK_TLVS
                        olen, = struct.unpack_from("=I", body, 4)
                        tl = parse_attrs(body[4 + ((olen + 3) & ~3):]
                                         if not f & 0x100 else body[20:])
                        text = tl.get(1, b"").rstrip(b"\0").decode()
                    raise NetlinkError(-err, text)
                continue
            if t == NLMSG_DONE:
                continue
            out.append((body[0], body[4:]))
        return out

    def family(self, name):
        if name not in self.families:
            r = self.transact(GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1,
                              attr_str(CTRL_ATTR_FAMILY_NAME, name))
            a = parse_attrs(r[0][1])
            self.families[name] = struct.unpack("=H",
                                                a[CTRL_ATTR_FAMILY_ID])[0]
        return self.families[name]

    def mcgroup(self, family, group):
        """The id of multicast group 'group' of 'family'."""
        r = self.transact(GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1,
                          attr_str(CTRL_ATTR_FAMILY_NAME, family))
        groups = parse_attrs(r[0][1]).get(CTRL_ATTR_MCAST_GROUPS, b"")
        i = 0
        while i + 4 <= len(groups):
            n, _ = struct.unpack_from("=HH", groups, i)
            g = parse_attrs(groups[i + 4:i + n])
            if g.get(1, b"").rstrip(b"\0").decode() == group:
                return struct.unpack("=I", g[2])[0]
            i += (n + 3) & ~3
        raise KeyError(group)

    def join(self, group_id):
        """NETLINK_ADD_MEMBERSHIP, as the shim sends it."""
        self.sock.send(struct.pack("=IHHIIII", 24, MEMBERSHIP, 0, 0,
                                   self.portid, 1, group_id))

    def ovs(self, fam, cmd, dp_ifindex, attrs, flags=NLM_F_ECHO):
        return self.transact(self.family(fam), flags, cmd, 1,
                             struct.pack("=i", dp_ifindex) + attrs)

    def dp_get(self, name):
        r = self.ovs("ovs_datapath", OVS_DP_CMD_GET, 0,
                     attr_str(OVS_DP_ATTR_NAME, name))
        ifindex, = struct.unpack_from("=i", r[0][1], 0)
        a = parse_attrs(r[0][1][4:])
        hit, missed, lost, flows = struct.unpack("=QQQQ",
                                                 a[OVS_DP_ATTR_STATS])
        return {"ifindex": ifindex, "n_hit": hit, "n_missed": missed,
                "n_lost": lost, "n_flows": flows}

    def dp_set_cpu_pids(self, name, pids):
        """Per-CPU upcall dispatch (what ovs-vswitchd uses by default)."""
        return self.ovs("ovs_datapath", OVS_DP_CMD_SET, 0,
                        attr_str(OVS_DP_ATTR_NAME, name)
                        + attr(OVS_DP_ATTR_PER_CPU_PIDS,
                               struct.pack("=%dI" % len(pids), *pids)))

    def vport_set_upcall_pid(self, dp_ifindex, port_no, pid):
        return self.ovs("ovs_vport", OVS_VPORT_CMD_SET, dp_ifindex,
                        attr_u32(OVS_VPORT_ATTR_PORT_NO, port_no)
                        + attr(OVS_VPORT_ATTR_UPCALL_PID,
                               struct.pack("=I", pid)))

    def recv_async(self, timeout):
        """Next upcall or notification: (type, flags, seq, body)."""
        if self.async_msgs:
            return self.async_msgs.pop(0)
        self.sock.settimeout(timeout)
        while True:
            rec = self.sock.recv(1 << 20)
            n, t, f, s, p = struct.unpack_from("=IHHII", rec, 0)
            if t != SYNC:
                return (t, f, s, rec[16:n])
