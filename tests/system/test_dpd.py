"""hvs-dpd driven by Debian's unmodified ovs-dpctl through the netlink shim,
and by a raw genetlink client: ports, flows, forwarding, upcalls."""
import re
import struct
import time

import hvsnl
from conftest import run

VM1 = ("10.31.0.1", "02:31:00:00:00:01")
VM2 = ("10.31.0.2", "02:31:00:00:00:02")

FLOWS = [
    ("in_port(1),eth(),eth_type(0x0806),arp()", "2"),
    ("in_port(2),eth(),eth_type(0x0806),arp()", "1"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4()", "2"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4()", "1"),
]


def two_vms(topo, dpd_factory):
    sw = topo.ns("sw")
    vm1 = topo.vm(sw, "v1", *VM1)
    vm2 = topo.vm(sw, "v2", *VM2)
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "v1")
    d.dpctl("add-if", "dp0", topo.prefix + "v2")
    return sw, vm1, vm2, d


def flow_packets(dump):
    """Sum of 'packets:N' over the lines of a dump-flows output."""
    return sum(int(n) for n in re.findall(r"packets:(\d+)", dump))


def test_datapath_and_port_lifecycle(topo, dpd_factory):
    sw = topo.ns("sw")
    topo.vm(sw, "v1", *VM1)
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    out = d.dpctl("show").stdout
    assert "system@dp0:" in out
    assert "port 0: dp0 (internal)" in out
    # The local port is a real host interface, as with the kernel module.
    run(["ip", "link", "show", "dp0"], ns=sw)

    d.dpctl("add-if", "dp0", topo.prefix + "v1")
    out = d.dpctl("show").stdout
    assert "port 1: %sv1" % topo.prefix in out

    d.dpctl("del-if", "dp0", topo.prefix + "v1")
    assert "port 1:" not in d.dpctl("show").stdout

    d.dpctl("del-dp", "dp0")
    assert "dp0" not in d.dpctl("show").stdout
    assert run(["ip", "link", "show", "dp0"], ns=sw,
               check=False).returncode != 0


def test_missing_interface_is_a_clear_error(topo, dpd_factory):
    sw = topo.ns("sw")
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    p = d.dpctl("add-if", "dp0", "hvsnosuch0", check=False)
    assert p.returncode != 0
    assert "No such device" in p.stderr
    assert "port 1" not in d.dpctl("show").stdout


def test_duplicate_datapath_refused(topo, dpd_factory):
    sw = topo.ns("sw")
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    p = d.dpctl("add-dp", "dp0", check=False)
    assert p.returncode != 0
    assert "File exists" in p.stderr


def test_ping_and_tcp_through_static_flows(topo, dpd_factory):
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    for match, actions in FLOWS:
        d.dpctl("add-flow", "dp0", match, actions)
    dump = d.dpctl("dump-flows").stdout
    assert len([line for line in dump.splitlines() if "actions:" in line]) \
        == 4, dump

    ping = run(["ping", "-c", "5", "-i", "0.2", "-W", "2", VM2[0]], ns=vm1,
               check=False)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert " 0% packet loss" in ping.stdout

    # TCP with the veth defaults: TSO, GSO and checksum offload on.
    run(["iperf3", "-s", "-1", "-D", "-B", VM2[0]], ns=vm2)
    time.sleep(0.5)
    tcp = run(["iperf3", "-c", VM2[0], "-t", "2", "-J"], ns=vm1,
              timeout=30)
    import json
    result = json.loads(tcp.stdout)
    received = result["end"]["sum_received"]["bytes"]
    assert received > 10 * 1024 * 1024, "only %d bytes over TCP" % received

    dump = d.dpctl("dump-flows").stdout
    assert flow_packets(dump) > 1000, dump
    c = d.client()
    stats = c.dp_get("dp0")
    assert stats["n_flows"] == 4
    assert stats["n_hit"] >= flow_packets(dump)


def test_deleted_flows_stop_traffic_and_become_upcalls(topo, dpd_factory):
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    for match, actions in FLOWS:
        d.dpctl("add-flow", "dp0", match, actions)
    assert run(["ping", "-c", "2", "-i", "0.2", "-W", "2", VM2[0]],
               ns=vm1, check=False).returncode == 0

    for match, _ in FLOWS:
        d.dpctl("del-flow", "dp0", match)
    assert "actions" not in d.dpctl("dump-flows").stdout

    c = d.client()
    dp = c.dp_get("dp0")
    # ovs-dpctl created the datapath with per-CPU dispatch, so the upcall
    # goes to the per-CPU pids, as with the kernel module.
    c.dp_set_cpu_pids("dp0", [c.portid] * 2)
    run(["ip", "neigh", "flush", "dev", "eth0"], ns=vm1)
    ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "1", VM2[0]], ns=vm1,
               check=False)
    assert ping.returncode != 0, "traffic passed without flows"

    t, f, s, body = c.recv_async(timeout=5)
    assert t == c.family("ovs_packet")
    assert body[0] == hvsnl.OVS_PACKET_CMD_MISS
    ifindex, = struct.unpack_from("=i", body, 4)
    assert ifindex == dp["ifindex"]
    attrs = hvsnl.parse_attrs(body[8:])
    packet = attrs[hvsnl.OVS_PACKET_ATTR_PACKET]
    assert packet[6:12] == bytes.fromhex(VM1[1].replace(":", ""))
    key = hvsnl.parse_attrs(attrs[hvsnl.OVS_PACKET_ATTR_KEY])
    assert struct.unpack("=I", key[hvsnl.OVS_KEY_ATTR_IN_PORT])[0] == 1
    after = c.dp_get("dp0")
    assert after["n_missed"] >= 1


def test_flows_outlive_their_client(topo, dpd_factory):
    """ovs-dpctl exits after each command; the flows it installed keep
    forwarding, as on a kernel datapath."""
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    for match, actions in FLOWS:
        d.dpctl("add-flow", "dp0", match, actions)
    c = d.client()
    c.close()
    ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "2", VM2[0]], ns=vm1,
               check=False)
    assert ping.returncode == 0


def expect_vport_del(c, name):
    """The next notification 'c' gets is OVS_VPORT_CMD_DEL for 'name'."""
    t, f, s, body = c.recv_async(timeout=5)
    assert t == c.family("ovs_vport")
    assert body[0] == hvsnl.OVS_VPORT_CMD_DEL
    attrs = hvsnl.parse_attrs(body[8:])
    assert attrs[hvsnl.OVS_VPORT_ATTR_NAME].rstrip(b"\0").decode() == name


def test_vanished_interface_deletes_its_port(topo, dpd_factory):
    """As the kernel's dp_notify: the vport goes with its host interface,
    and subscribers of the ovs_vport group hear OVS_VPORT_CMD_DEL."""
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    c = d.client()
    c.join(c.mcgroup("ovs_vport", "ovs_vport"))
    c.dp_get("dp0")          # the join is ordered before this request
    run(["ip", "link", "del", topo.prefix + "v2"], ns=sw)
    expect_vport_del(c, topo.prefix + "v2")
    out = d.dpctl("show").stdout
    assert "port 2" not in out and "port 1: %sv1" % topo.prefix in out


BLAST = r"""
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for i in range(int(sys.argv[1])):
    src = b"\x02\x55" + struct.pack("!I", i)
    s.send(b"\xff" * 6 + src + b"\x08\x00" + b"\x45" + b"\0" * 45)
"""


def test_full_upcall_queue_drops_and_counts_without_stalling(
        topo, dpd_factory):
    """A client that does not read its upcalls loses them (n_lost, and an
    ENOBUFS marker when it reads again); forwarding on installed flows goes
    on meanwhile."""
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    sleeper = d.client()
    sleeper.dp_set_cpu_pids("dp0", [sleeper.portid] * 2)
    # Until the client's queue overflows: on a loaded machine the ring in
    # front of the datapath may drop part of a burst before it becomes
    # upcalls, so one burst is not always enough (bounded: 5 bursts).
    for _ in range(5):
        run(["/usr/bin/python3", "-c", BLAST, "30000"], ns=vm1, timeout=120)
        stats = d.client().dp_get("dp0")
        if stats["n_lost"] > 0:
            break
    assert stats["n_lost"] > 0, stats
    assert stats["n_missed"] > 0, stats
    # Forwarding on flows is not held up by the stuck client.
    for match, actions in FLOWS:
        d.dpctl("add-flow", "dp0", match, actions)
    ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "2", VM2[0]], ns=vm1,
               check=False)
    assert ping.returncode == 0, ping.stdout
    # When the client reads again it learns that it lost upcalls.
    seen_overflow = False
    sleeper.sock.settimeout(2)
    try:
        for _ in range(100000):
            rec = sleeper.sock.recv(1 << 20)
            if struct.unpack_from("=H", rec, 4)[0] == hvsnl.OVERFLOW:
                seen_overflow = True
                break
    except TimeoutError:
        pass
    assert seen_overflow


def install_l2_flows(c, dp_ifindex, n):
    """n exact-match Ethernet flows (distinct source MACs), with UFIDs,
    installed in batches of requests per record as ovs-vswitchd does."""
    def nest(t, p):
        return hvsnl.attr(t | hvsnl.NLA_F_NESTED, p)
    fam = c.family("ovs_flow")
    mask = (hvsnl.attr_u32(hvsnl.OVS_KEY_ATTR_IN_PORT, 0xffffffff)
            + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERNET, b"\xff" * 12)
            + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERTYPE, b"\xff\xff"))
    batch = []
    for i in range(n):
        src = b"\x06" + struct.pack("!IB", i, 1)
        key = (hvsnl.attr_u32(hvsnl.OVS_KEY_ATTR_IN_PORT, 0)
               + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERNET, src + b"\x02" * 6)
               + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERTYPE, b"\x88\xb5"))
        ufid = hvsnl.attr(9, struct.pack("!IIII", i, 0x75, 0x66, 0x1d))
        batch.append(c.msg(fam, hvsnl.NLM_F_REQUEST | hvsnl.NLM_F_CREATE,
                           hvsnl.OVS_FLOW_CMD_NEW, 1,
                           struct.pack("=i", dp_ifindex)
                           + nest(hvsnl.OVS_FLOW_ATTR_KEY, key)
                           + nest(hvsnl.OVS_FLOW_ATTR_MASK, mask)
                           + nest(hvsnl.OVS_FLOW_ATTR_ACTIONS, b"")
                           + ufid))
        if len(batch) == 50 or i == n - 1:
            for t, f, s, body in c.transact_raw(b"".join(batch)):
                if t == hvsnl.NLMSG_ERROR:
                    err, = struct.unpack_from("=i", body, 0)
                    assert err == 0, "flow %d refused: %d" % (i, err)
            batch = []


def test_dump_of_fifty_thousand_flows(topo, dpd_factory):
    """A dump that spans hundreds of records returns every flow exactly
    once, and other clients are served while it is under way."""
    n = 50000
    sw = topo.ns("sw")
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    c = d.client()
    ifx = c.dp_get("dp0")["ifindex"]
    install_l2_flows(c, ifx, n)
    assert c.dp_get("dp0")["n_flows"] == n

    # Start the dump, read only its first record, then use a second
    # connection: it must not wait for the dump to end.
    c.send_record(c.msg(c.family("ovs_flow"),
                        hvsnl.NLM_F_REQUEST | hvsnl.NLM_F_DUMP,
                        hvsnl.OVS_FLOW_CMD_GET, 1, struct.pack("=i", ifx)))
    seen, records, done = set(), 0, False
    other = d.client()
    assert other.dp_get("dp0")["n_flows"] == n
    c.sock.settimeout(30)
    synced = False
    while not synced:
        rec = c.sock.recv(1 << 20)
        records += 1
        i = 0
        while i + 16 <= len(rec):
            ln, t = struct.unpack_from("=IH", rec, i)
            if t == hvsnl.SYNC:
                synced = True
            elif t == hvsnl.NLMSG_DONE:
                done = True
            elif t == c.family("ovs_flow"):
                a = hvsnl.parse_attrs(rec[i + 24:i + ln])
                seen.add(a[9])          # OVS_FLOW_ATTR_UFID
            i += (ln + 3) & ~3
    assert done
    assert len(seen) == n
    assert records > 100            # really a multi-record dump

    # The unmodified ovs-dpctl reads it all through the shim too.
    out = d.dpctl("dump-flows", "dp0").stdout
    assert len(out.splitlines()) == n
    d.dpctl("del-flows", "dp0")
    assert c.dp_get("dp0")["n_flows"] == 0
    assert d.alive()


def test_netdev_port_is_taken_from_the_host_stack(topo, dpd_factory):
    """As with the kernel module, an interface that became a netdev vport
    no longer feeds the host stack (no ARP answers, no local delivery),
    while the datapath still sees every frame; del-if gives it back."""
    sw = topo.ns("sw")
    vm1 = topo.vm(sw, "v1", *VM1)
    port = topo.prefix + "v1"
    run(["ip", "addr", "add", "10.31.0.254/24", "dev", port], ns=sw)
    ping = ["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.31.0.254"]
    assert run(ping, ns=vm1, check=False).returncode == 0

    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", port)
    run(["ip", "neigh", "flush", "all"], ns=vm1)
    assert run(ping, ns=vm1, check=False).returncode != 0
    # The datapath saw the ARP requests (misses with no listener: lost).
    st = d.client().dp_get("dp0")
    assert st["n_missed"] + st["n_lost"] >= 1, st
    assert "cannot keep the host stack off" not in open(d.log).read()

    d.dpctl("del-if", "dp0", port)
    assert run(ping, ns=vm1, check=False).returncode == 0


def test_interface_moved_to_another_namespace_leaves_the_datapath(
        topo, dpd_factory):
    """As the kernel's dp_notify on NETDEV_UNREGISTER: an interface moved
    into another network namespace leaves the datapath, with an
    OVS_VPORT_CMD_DEL notification."""
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    c = d.client()
    c.join(c.mcgroup("ovs_vport", "ovs_vport"))
    c.dp_get("dp0")
    other = topo.ns("elsewhere")
    run(["ip", "link", "set", topo.prefix + "v2", "netns", other], ns=sw)
    expect_vport_del(c, topo.prefix + "v2")
    assert "port 2" not in d.dpctl("show").stdout
    assert d.alive()
