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


def test_vanished_interface_deletes_its_port(topo, dpd_factory):
    """As the kernel's dp_notify: the vport goes with its host interface,
    and subscribers of the ovs_vport group hear OVS_VPORT_CMD_DEL."""
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    c = d.client()
    c.join(c.mcgroup("ovs_vport", "ovs_vport"))
    c.dp_get("dp0")          # the join is ordered before this request
    run(["ip", "link", "del", topo.prefix + "v2"], ns=sw)
    t, f, s, body = c.recv_async(timeout=5)
    assert t == c.family("ovs_vport")
    assert body[0] == hvsnl.OVS_VPORT_CMD_DEL
    attrs = hvsnl.parse_attrs(body[8:])
    assert attrs[hvsnl.OVS_VPORT_ATTR_NAME].rstrip(b"\0").decode() \
        == topo.prefix + "v2"
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
    run(["/usr/bin/python3", "-c", BLAST, "30000"], ns=vm1, timeout=120)
    stats = d.client().dp_get("dp0")
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
