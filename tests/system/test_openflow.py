"""OpenFlow on hvs-vswitchd: the real ovs-ofctl (OpenFlow 1.0, its
default with Nicira extensions, and -O OpenFlow13) against the bridge's
management socket RUNDIR/br0.mgmt; traffic follows the installed rules;
malformed OpenFlow gets errors and the daemon survives."""
import os
import re
import socket
import struct
import time

import pytest

from conftest import ROOT, VSWITCHD, run
from test_vswitchd import ping
from ofwire import hdr as _hdr, recv_msg as _recv_msg

pytestmark = pytest.mark.skipif(not os.path.exists(VSWITCHD),
                                reason="hvs-vswitchd not built")

VMS = [("a", "10.42.0.1", "02:42:00:00:00:01"),
       ("b", "10.42.0.2", "02:42:00:00:00:02"),
       ("c", "10.42.0.3", "02:42:00:00:00:03")]
VERSIONS = [None, "OpenFlow13"]


def mgmt(s, br="br0"):
    return "unix:" + os.path.join(s.rundir, br + ".mgmt")


def ofctl(s, *args, version=None, check=True, br="br0"):
    cmd = ["ovs-ofctl"]
    if version:
        cmd += ["-O", version]
    args = list(args)
    while args[0].startswith("--"):
        cmd.append(args.pop(0))
    cmd += [args[0], mgmt(s, br)] + args[1:]
    return run(cmd, ns=s.ns, check=check, timeout=30)


def flows(s, *args, version=None):
    """dump-flows output without the reply header line, durations
    dropped."""
    opts = [a for a in args if a.startswith("--")]
    rest = [a for a in args if not a.startswith("--")]
    out = ofctl(s, *opts, "dump-flows", *rest, version=version).stdout
    lines = []
    for line in out.splitlines():
        if "reply" in line and "cookie=" not in line:
            continue            # a header, one per reply message
        parts = [p for p in line.strip().split(", ")
                 if not p.startswith(("duration=", "idle_age=",
                                      "hard_age="))]
        lines.append(", ".join(parts))
    return lines


def make_bridge(topo, switch_factory, vms=VMS):
    s = switch_factory()
    s.vsctl("add-br", "br0")
    nss = {}
    for name, ip, mac in vms:
        nss[name] = topo.vm(s.ns, name, ip, mac)
        s.vsctl("add-port", "br0", topo.prefix + name)
    deadline = time.time() + 10
    while not os.path.exists(os.path.join(s.rundir, "br0.mgmt")):
        assert time.time() < deadline, "no br0.mgmt:\n" + s.log()
        time.sleep(0.1)
    ofports = {name: int(s.vsctl("get", "Interface", topo.prefix + name,
                                 "ofport").stdout)
               for name, _, _ in vms}
    return s, nss, ofports


def no_ping(ns, ip):
    p = ping(ns, ip, count=2, check=False)
    assert p.returncode != 0, p.stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_show(topo, switch_factory, version):
    s, _, ofports = make_bridge(topo, switch_factory)
    out = ofctl(s, "show", version=version).stdout
    assert "OFPT_FEATURES_REPLY" in out
    assert "n_tables:254" in out
    # The README promises what the switch reports.
    with open(os.path.join(ROOT, "README.md")) as f:
        assert "254 tables (0 to 253;" in f.read()
    if version:
        assert "(OF1.3)" in out
    for name, _, _ in VMS:
        assert "%d(%s%s)" % (ofports[name], topo.prefix, name) in out, out
    assert "LOCAL(br0)" in out
    assert "OFPT_GET_CONFIG_REPLY" in out


@pytest.mark.parametrize("version", VERSIONS)
def test_default_rule_and_flow_table_ops(topo, switch_factory, version):
    s, _, _ = make_bridge(topo, switch_factory)
    assert flows(s, version=version) == [
        "cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=0 "
        "actions=NORMAL"] or "priority=0 actions=NORMAL" in \
        flows(s, version=version)[0]

    ofctl(s, "add-flow", "priority=100,in_port=1,actions=output:2",
          version=version)
    ofctl(s, "add-flow", "table=0,priority=50,ip,nw_dst=10.0.0.1,"
          "actions=mod_dl_dst:00:11:22:33:44:55,output:1", version=version)
    ofctl(s, "add-flow", "table=1,priority=10,reg0=5,actions=resubmit(,2)",
          version=version)
    ofctl(s, "add-flow", "cookie=0x42,priority=7,tcp,tp_dst=80,actions=drop",
          version=version)
    text = "\n".join(flows(s, "--no-names", version=version))
    assert "priority=100,in_port=1 actions=output:2" in text, text
    assert "priority=50,ip,nw_dst=10.0.0.1 actions=mod_dl_dst:" \
           "00:11:22:33:44:55,output:1" in text \
        or "priority=50,ip,nw_dst=10.0.0.1 actions=set_field:" \
           "00:11:22:33:44:55->eth_dst,output:1" in text, text
    assert "table=1" in text and "reg0=0x5 actions=resubmit(,2)" in text
    assert "cookie=0x42" in text and "tcp,tp_dst=80 actions=drop" in text
    assert len(text.splitlines()) == 5

    # mod-flows rewrites the actions of what it selects.
    ofctl(s, "mod-flows", "in_port=1,actions=output:3", version=version)
    text = "\n".join(flows(s, "--no-names", version=version))
    assert "priority=100,in_port=1 actions=output:3" in text, text
    ofctl(s, "--strict", "mod-flows", "priority=100,in_port=1,"
          "actions=output:2", version=version)
    text = "\n".join(flows(s, "--no-names", version=version))
    assert "priority=100,in_port=1 actions=output:2" in text, text

    t1 = flows(s, "table=1", version=version)
    assert len(t1) == 1 and "reg0=0x5" in t1[0]
    agg = ofctl(s, "dump-aggregate", version=version).stdout
    assert "flow_count=5" in agg, agg

    # Non-strict delete takes every rule the match covers.
    ofctl(s, "del-flows", "in_port=1", version=version)
    text = "\n".join(flows(s, "--no-names", version=version))
    assert "in_port=1" not in text and len(text.splitlines()) == 4
    # Strict delete needs the exact match and priority.
    ofctl(s, "--strict", "del-flows", "tcp,tp_dst=80", version=version)
    assert len(flows(s, version=version)) == 4
    ofctl(s, "--strict", "del-flows", "priority=7,tcp,tp_dst=80",
          version=version)
    assert len(flows(s, version=version)) == 3
    ofctl(s, "del-flows", version=version)
    assert flows(s, version=version) == []

    # add-flows from a file.
    path = os.path.join(s.rundir, "flows.txt")
    with open(path, "w") as f:
        for i in range(1500):
            f.write("priority=%d,ip,nw_src=10.1.%d.%d,actions=drop\n"
                    % (1000 + i, i // 256, i % 256))
    ofctl(s, "add-flows", path, version=version)
    # Over 64 kB of replies: split into several messages.
    assert len(flows(s, version=version)) == 1500
    agg = ofctl(s, "dump-aggregate", version=version).stdout
    assert "flow_count=1500" in agg, agg

    tables = ofctl(s, "dump-tables", version=version).stdout
    assert "table 0" in tables or "  0:" in tables, tables
    ports = ofctl(s, "dump-ports", version=version).stdout
    assert "rx pkts=" in ports, ports
    desc = ofctl(s, "dump-ports-desc", version=version).stdout
    assert "LOCAL(br0)" in desc


@pytest.mark.parametrize("version", VERSIONS)
def test_traffic_follows_rules(topo, switch_factory, version):
    s, nss, ofp = make_bridge(topo, switch_factory)
    a, b = nss["a"], nss["b"]
    ping(a, "10.42.0.2")                    # the default rule: NORMAL

    ofctl(s, "add-flow", "priority=100,icmp,actions=drop", version=version)
    no_ping(a, "10.42.0.2")
    ofctl(s, "--strict", "del-flows", "priority=100,icmp", version=version)
    ping(a, "10.42.0.2")

    # No rules at all: everything is dropped (table miss).
    ofctl(s, "del-flows", version=version)
    no_ping(a, "10.42.0.2")

    # Explicit outputs between a and b only; c is unreachable.
    ofctl(s, "add-flow", "in_port=%d,actions=output:%d" % (ofp["a"], ofp["b"]),
          version=version)
    ofctl(s, "add-flow", "in_port=%d,actions=output:%d" % (ofp["b"], ofp["a"]),
          version=version)
    ping(a, "10.42.0.2")
    no_ping(a, "10.42.0.3")
    # The datapath flows' statistics reach the rules (revalidator).
    deadline = time.time() + 10
    while True:
        n = [line for line in flows(s, "--no-names", version=version)
             if "in_port=%d " % ofp["a"] in line]
        assert len(n) == 1, n
        packets = int(n[0].split("n_packets=")[1].split(",")[0])
        nbytes = int(n[0].split("n_bytes=")[1].split(",")[0])
        if packets >= 3 and nbytes >= 3 * 98:
            break
        assert time.time() < deadline, n
        time.sleep(0.2)


def test_timeouts_expire_rules(topo, switch_factory):
    s, nss, _ = make_bridge(topo, switch_factory, VMS[:2])
    a = nss["a"]
    ofctl(s, "add-flow", "hard_timeout=2,priority=100,icmp,actions=drop")
    ofctl(s, "add-flow", "idle_timeout=1,priority=90,tcp,actions=drop")
    no_ping(a, "10.42.0.2")
    deadline = time.time() + 10
    while len(flows(s)) > 1:
        assert time.time() < deadline, flows(s)
        time.sleep(0.2)
    assert "priority=0 actions=NORMAL" in flows(s)[0]
    ping(a, "10.42.0.2")


def rx_packets(ns):
    return int(run(["cat", "/sys/class/net/eth0/statistics/rx_packets"],
                   ns=ns).stdout)


@pytest.mark.parametrize("version", VERSIONS)
def test_packet_out(topo, switch_factory, version):
    s, nss, ofp = make_bridge(topo, switch_factory)
    frame = ("024200000002" "024200000001" "88b5" + "00" * 46)
    before_b, before_c = rx_packets(nss["b"]), rx_packets(nss["c"])
    for _ in range(3):
        ofctl(s, "packet-out", "in_port=controller,packet=%s,actions=%d"
              % (frame, ofp["b"]), version=version)
    deadline = time.time() + 5
    while rx_packets(nss["b"]) < before_b + 3:
        assert time.time() < deadline, s.log()[-2000:]
        time.sleep(0.1)
    # FLOOD from a's port reaches b and c but not a.
    before_a = rx_packets(nss["a"])
    before_b = rx_packets(nss["b"])
    ofctl(s, "packet-out", "in_port=%d,packet=%s,actions=FLOOD"
          % (ofp["a"], frame), version=version)
    deadline = time.time() + 5
    while (rx_packets(nss["b"]) < before_b + 1
           or rx_packets(nss["c"]) < before_c + 1):
        assert time.time() < deadline
        time.sleep(0.1)
    assert rx_packets(nss["a"]) == before_a


def test_mod_dl_dst_rewrite_is_visible(topo, switch_factory):
    s, nss, ofp = make_bridge(topo, switch_factory)
    a = nss["a"]
    # a believes b's address is a MAC nobody has: b's kernel drops such
    # frames (not for its MAC), so only a rewrite on the way delivers.
    run(["ip", "neigh", "replace", "10.42.0.2", "lladdr",
         "02:42:00:00:00:ee", "dev", "eth0", "nud", "permanent"], ns=a)
    no_ping(a, "10.42.0.2")
    ofctl(s, "add-flow", "priority=100,in_port=%d,ip,nw_dst=10.42.0.2,"
          "actions=mod_dl_dst:02:42:00:00:00:02,output:%d"
          % (ofp["a"], ofp["b"]))
    p = ping(a, "10.42.0.2", check=False)
    assert p.returncode == 0, "%s\n%s\n%s" % (
        p.stdout, s.appctl("dpctl/dump-flows").stdout, s.log()[-3000:])
    # The datapath flow carries the rewrite.
    out = s.appctl("dpctl/dump-flows").stdout
    assert "02:42:00:00:00:02" in out and "set" in out, out


def test_megaflow_masks_hold_what_rules_consulted(topo, switch_factory):
    s, nss, ofp = make_bridge(topo, switch_factory)
    for ip, port in (("10.42.0.2", ofp["b"]), ("10.42.0.1", ofp["a"])):
        ofctl(s, "add-flow", "priority=100,ip,nw_dst=%s,actions=output:%d"
              % (ip, port))
    ping(nss["a"], "10.42.0.2")
    dump = s.dpd.dpctl("dump-flows").stdout
    lines = [x for x in dump.splitlines() if "0x0800" in x]
    assert lines, dump
    for line in lines:
        # The rules looked at the IPv4 destination, nothing at L2 or L4.
        assert "ipv4(dst=10.42.0." in line, dump
        assert "eth(src" not in line and "icmp(" not in line, dump
    # ARP still goes through NORMAL: addresses, no IPv4 fields.
    arp = [x for x in dump.splitlines() if "0x0806" in x]
    assert arp and all("eth(src=" in x and "arp(" not in x for x in arp), \
        dump


def test_goto_table_of13(topo, switch_factory):
    s, nss, _ = make_bridge(topo, switch_factory)
    a = nss["a"]
    v = "OpenFlow13"
    ofctl(s, "add-flow", "table=0,priority=100,ip,actions=goto_table:1",
          version=v)
    p = ping(a, "10.42.0.2", count=2, check=False)
    assert p.returncode != 0, "%s\n%s\n%s" % (
        p.stdout, "\n".join(flows(s, version=v)),
        s.appctl("dpctl/dump-flows").stdout)    # table 1 is empty: miss
    ofctl(s, "add-flow", "table=1,ip,actions=NORMAL", version=v)
    ping(a, "10.42.0.2")
    ofctl(s, "add-flow", "table=1,priority=40000,icmp,actions=drop", version=v)
    no_ping(a, "10.42.0.2")


def _meter_stats(s, meter):
    out = ofctl(s, "meter-stats", "meter=%d" % meter,
                version="OpenFlow13").stdout
    seen = re.search(r"packet_in_count:(\d+)", out)
    band = re.search(r"0: packet_count:(\d+)", out)
    assert seen and band, out
    return int(seen.group(1)), int(band.group(1))


def test_meter_drops_over_rate(topo, switch_factory):
    """A meter of 5 packets/s (a burst of 5) on a's pings to b lets
    through about 5 + 5/s of a one-second burst of 100 and drops the rest;
    the meter's datapath counters say so; once the meter is deleted (with
    its rule) the pings pass again.  The replies take NORMAL, unmetered."""
    s, nss, ofp = make_bridge(topo, switch_factory, VMS[:2])
    a = nss["a"]
    v = "OpenFlow13"
    ping(a, "10.42.0.2")                    # ARP resolved, NORMAL
    ofctl(s, "add-meter", "meter=1,pktps,band=type=drop,rate=5", version=v)
    ofctl(s, "add-flow", "priority=100,in_port=%d,icmp,actions=meter:1,"
          "output:%d" % (ofp["a"], ofp["b"]), version=v)
    time.sleep(0.5)                         # revalidation
    n = 100
    start = time.time()
    p = run(["ping", "-q", "-c", str(n), "-i", "0.01", "-W", "1",
             "10.42.0.2"], ns=a, check=False, timeout=60)
    elapsed = time.time() - start
    got = re.search(r"(\d+) received", p.stdout)
    assert got, p.stdout + p.stderr
    received = int(got.group(1))
    # The bucket starts full (5) and refills at 5/s over the burst.
    assert 1 <= received <= 5 + 5 * elapsed + 3, (received, elapsed,
                                                    p.stdout)
    dp = s.appctl("dpctl/dump-flows").stdout
    assert "meter(" in dp, dp
    deadline = time.time() + 5
    while True:
        seen, dropped = _meter_stats(s, 1)
        if seen >= n or time.time() > deadline:
            break
        time.sleep(0.2)
    assert seen >= n and dropped >= n - received - 1, (seen, dropped,
                                                        received)
    ofctl(s, "del-meter", "meter=1", version=v)
    assert not [x for x in flows(s, version=v) if "meter:" in x]
    p = run(["ping", "-q", "-c", "20", "-i", "0.01", "-W", "1",
             "10.42.0.2"], ns=a, check=False, timeout=60)
    assert " 0% packet loss" in p.stdout, p.stdout

    # The controller meter limits packet-ins only: the datapath sends
    # the controller's copy through it in a clone, the output is not.
    ofctl(s, "add-meter", "meter=controller,pktps,band=type=drop,rate=1",
          version=v)
    ofctl(s, "add-flow", "priority=200,in_port=%d,icmp,actions=controller,"
          "output:%d" % (ofp["a"], ofp["b"]), version=v)
    time.sleep(0.5)
    ping(a, "10.42.0.2")
    dp = s.appctl("dpctl/dump-flows").stdout
    assert re.search(r"clone\(meter\(\d+\),userspace\(", dp), dp


def _connect(s, version):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(os.path.join(s.rundir, "br0.mgmt"))
    hello = _recv_msg(sock)
    assert hello and hello[1] == 0
    sock.sendall(_hdr(version, 0, 8, 1))
    return sock


def _expect_error(sock, xid, etype, ecode):
    m = _recv_msg(sock)
    assert m is not None, "connection closed"
    assert m[1] == 1, m                      # OFPT_ERROR
    assert struct.unpack("!I", m[4:8])[0] == xid
    assert struct.unpack("!HH", m[8:12]) == (etype, ecode), m[8:12]


def _echo_ok(sock, version):
    sock.sendall(_hdr(version, 2, 12, 77) + b"ping")
    m = _recv_msg(sock)
    assert m and m[1] == 3 and m[8:] == b"ping"


def test_malformed_openflow_gets_errors(topo, switch_factory):
    s, _, _ = make_bridge(topo, switch_factory, VMS[:1])
    sock = _connect(s, 4)
    _echo_ok(sock, 4)
    # Unknown message type: bad_request/bad_type.
    sock.sendall(_hdr(4, 0xee, 8, 10))
    _expect_error(sock, 10, 1, 1)
    # Truncated flow-mod: bad_request/bad_len.
    sock.sendall(_hdr(4, 14, 20, 11) + b"\0" * 12)
    _expect_error(sock, 11, 1, 6)
    # Unknown multipart type.
    sock.sendall(_hdr(4, 18, 16, 12) + struct.pack("!HH4x", 0x77, 0))
    _expect_error(sock, 12, 1, 2)
    # Flow-mod whose match names tcp_dst without ip_proto: bad_prereq.
    oxm = struct.pack("!IH", (0x8000 << 16) | (14 << 9) | 2, 80)
    match = struct.pack("!HH", 1, 4 + len(oxm)) + oxm
    match += b"\0" * ((8 - len(match) % 8) % 8)
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, 0, 0, 0, 100,
                       0xffffffff, 0xffffffff, 0xffffffff, 0) + match
    sock.sendall(_hdr(4, 14, 8 + len(body), 13) + body)
    _expect_error(sock, 13, 4, 9)
    # Action with a bad length: bad_action/bad_len.
    inst = struct.pack("!HH4x", 4, 8 + 8) + struct.pack("!HH4x", 0, 12)
    match = struct.pack("!HH4x", 1, 4)
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, 0, 0, 0, 100,
                       0xffffffff, 0xffffffff, 0xffffffff, 0) + match + inst
    sock.sendall(_hdr(4, 14, 8 + len(body), 14) + body)
    _expect_error(sock, 14, 2, 1)
    # Packet-out naming a buffer (there are none): buffer_unknown.
    po = struct.pack("!IIH6x", 7, 0xfffffffd, 0) + b"\0" * 14
    sock.sendall(_hdr(4, 13, 8 + len(po), 17) + po)
    _expect_error(sock, 17, 1, 8)
    # Flow-mod outputting to a reserved port number that names no port:
    # bad_action/bad_out_port.  (Port numbers up to OFPP_MAX are fine even
    # without a port, as in Open vSwitch: the port may come later.)
    acts = struct.pack("!HHIH6x", 0, 16, 0xffffff10, 0)
    inst = struct.pack("!HH4x", 4, 8 + len(acts)) + acts
    match = struct.pack("!HH4x", 1, 4)
    body = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, 0, 0, 0, 100,
                       0xffffffff, 0xffffffff, 0xffffffff, 0) + match + inst
    sock.sendall(_hdr(4, 14, 8 + len(body), 18) + body)
    _expect_error(sock, 18, 2, 4)
    # Wrong version on a negotiated connection.
    sock.sendall(_hdr(1, 2, 8, 15))
    _expect_error(sock, 15, 1, 0)
    # The connection is still usable.
    _echo_ok(sock, 4)
    # A length under 8 cannot be framed: error, then the switch hangs up.
    sock.sendall(_hdr(4, 2, 4, 16))
    _expect_error(sock, 16, 1, 6)
    assert _recv_msg(sock) is None
    sock.close()

    # OpenFlow 1.0 connection: unknown vendor message.
    sock = _connect(s, 1)
    sock.sendall(_hdr(1, 4, 16, 20) + struct.pack("!II", 0x1234, 1))
    _expect_error(sock, 20, 1, 3)
    _echo_ok(sock, 1)
    sock.close()

    # A peer that speaks no common version is refused at hello.
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(os.path.join(s.rundir, "br0.mgmt"))
    _recv_msg(sock)
    bitmap = struct.pack("!HHI", 1, 8, 1 << 6)
    sock.sendall(_hdr(6, 0, 16, 30) + bitmap)
    _expect_error(sock, 30, 0, 0)
    sock.close()

    # The daemon survived all of it.
    assert "OFPT_FEATURES_REPLY" in ofctl(s, "show").stdout
