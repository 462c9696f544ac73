"""The tunnel fast path of hvs-dpd: outer headers built by the datapath
(route and neighbour from the host's tables) and outer packets for a
local VTEP decapsulated on their way to the internal port, so that tunnel
traffic no longer crosses br-phy's TAP and the host stack.

Layout as in `make demo` and test_vswitchd_tunnel.py: two hypervisor
namespaces, br-phy with the uplink and the VTEP address on its internal
port, br-int with the VM and the vxlan port.  The IPv6 underlay test
drives hvs-dpd with ovs-dpctl (hvs-vswitchd takes IPv4 remote_ip only)
against the kernel's vxlan device."""
import json
import subprocess
import os
import re
import time

import pytest

from conftest import VSWITCHD, run
from test_tunnel_dpd import kernel_vxlan_available, ping, vport
from test_vswitchd_tunnel import configure, hypervisor, wire


def tap_counters(ns, dev):
    out = run(["ip", "-j", "-s", "link", "show", "dev", dev], ns=ns).stdout
    st = json.loads(out)[0]["stats64"]
    return st["rx"]["packets"], st["tx"]["packets"]


def fastpath_counters(dpd, want=None, timeout=6.0):
    """hvs-dpd's tunnel counters (`ovs-appctl tnl/stats`) as a dict;
    waits until 'want' (a function of the dict) holds or the time is up:
    held packets are counted when the neighbour resolves or gives up."""
    deadline = time.time() + timeout
    while True:
        c = dpd.tnl_stats()
        if not want or want(c) or time.time() > deadline:
            return c
        time.sleep(0.25)


def two_hvs(topo, switch_factory, dpd_args=()):
    hv = [hypervisor(topo, switch_factory, i, dpd_args) for i in (1, 2)]
    wire(topo, hv)
    vm1 = configure(topo, hv[0], 1, "10.98.0.2", "10.78.1.1",
                    "02:78:00:00:00:01")
    vm2 = configure(topo, hv[1], 2, "10.98.0.1", "10.78.1.2",
                    "02:78:00:00:00:02")
    return hv, vm1, vm2


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_tcp_takes_the_fast_path(topo, switch_factory):
    # The userspace fast path's counters: without the kernel flow cache,
    # which would take these packets before hvs-dpd sees them.
    hv, vm1, vm2 = two_hvs(topo, switch_factory, ["--kernel-cache=off"])
    p = ping(vm1, "10.78.1.2")
    assert " 0% packet loss" in p.stdout, p.stdout + hv[0].log()
    before = [tap_counters(h.ns, "br-phy") for h in hv]
    run(["iperf3", "-s", "-1", "-D", "-B", "10.78.1.2"], ns=vm2)
    time.sleep(0.5)
    out = run(["iperf3", "-c", "10.78.1.2", "-t", "3", "-J"], ns=vm1,
              timeout=40).stdout
    end = json.loads(out)["end"]
    assert end["sum_received"]["bytes"] > 2**20
    print("TCP across the tunnel: %.2f Gbit/s"
          % (end["sum_received"]["bits_per_second"] / 1e9))
    after = [tap_counters(h.ns, "br-phy") for h in hv]
    # Thousands of segments went each way; the TAPs saw (almost) none of
    # them, only the odd ARP.
    for b, a in zip(before, after):
        assert a[0] - b[0] < 50 and a[1] - b[1] < 50, (before, after)
    for h in hv:
        c = fastpath_counters(h.dpd, lambda c: c.get("encap", 0) > 1000
                              and c.get("decap", 0) > 1000)
        assert c.get("encap", 0) > 1000 and c.get("decap", 0) > 1000, c
    # The datapath's own flows show the outer packets injected on br-phy's
    # internal port: what the host stack would have sent.
    flows = hv[0].dpd.dpctl("dump-flows").stdout
    assert re.search(r"set\(tunnel\(tun_id=0x2a,dst=10\.98\.0\.2", flows)


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_first_ping_waits_for_arp(topo, switch_factory):
    """No neighbour entry for the remote VTEP yet: the first encapsulated
    packets are held while the host resolves it, then delivered."""
    hv, vm1, vm2 = two_hvs(topo, switch_factory)
    for h in hv:
        run(["ip", "neigh", "flush", "dev", "br-phy"], ns=h.ns)
    p = run(["ping", "-c", "1", "-W", "5", "10.78.1.2"], ns=vm1,
            check=False, timeout=30)
    assert p.returncode == 0, p.stdout + hv[0].log()
    c = fastpath_counters(hv[0].dpd, lambda c: c.get("held", 0) >= 1)
    assert c.get("held", 0) >= 1 and c.get("hold_drop", 1) == 0, c


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_unreachable_remote_is_counted(topo, switch_factory):
    """A remote VTEP nobody answers for: held packets are dropped after
    the wait, counted and logged; forwarding goes on."""
    hv = [hypervisor(topo, switch_factory, 1)]
    topo.veth(hv[0].ns, "u1", hv[0].ns, "u1peer")
    vm1 = configure(topo, hv[0], 1, "10.98.0.77", "10.78.1.1",
                    "02:78:00:00:00:01")
    run(["ping", "-c", "2", "-i", "0.3", "-W", "1", "10.78.1.2"], ns=vm1,
        check=False, timeout=30)
    c = fastpath_counters(hv[0].dpd, lambda c: c.get("unreachable", 0) >= 1,
                          timeout=10)
    assert c.get("unreachable", 0) >= 1, c
    assert "did not resolve" in open(hv[0].dpd.log).read()


def test_ipv6_underlay_against_kernel_vxlan(topo, dpd_factory):
    """vxlan6: hvs-dpd with the VTEP fc00::1 on an internal port, the
    kernel's vxlan device on fc00::2; both directions natively."""
    if not kernel_vxlan_available():
        pytest.skip("no kernel vxlan module")
    vni = 42
    hv1 = topo.ns("hv1")
    hv2 = topo.ns("hv2")
    for ns in (hv1, hv2):
        run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0"], ns=ns)
        run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=0"],
            ns=ns)
    topo.veth(hv1, "ul", hv2, "ul")
    run(["ip", "addr", "add", "fc00::2/64", "dev", "ul", "nodad"], ns=hv2)
    vm1 = topo.vm(hv1, "v1", "192.168.66.1", "02:66:00:00:00:01")
    vm2 = topo.vm(hv2, "v2", "192.168.66.2", "02:66:00:00:00:02")
    for vm in (vm1, vm2):
        run(["ip", "link", "set", "eth0", "mtu", "1400"], ns=vm)
    run(["ip", "link", "add", "vx", "type", "vxlan", "id", str(vni),
         "remote", "fc00::1", "local", "fc00::2", "dstport", "4789",
         "dev", "ul"], ns=hv2)
    run(["ip", "link", "add", "br0", "type", "bridge"], ns=hv2)
    for dev in ("vx", topo.prefix + "v2"):
        run(["ip", "link", "set", dev, "master", "br0"], ns=hv2)
        run(["ip", "link", "set", dev, "up"], ns=hv2)
    run(["ip", "link", "set", "br0", "up"], ns=hv2)

    d = dpd_factory(hv1)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "v1")          # port 1
    d.dpctl("add-if", "dp0", "ul")                        # port 2
    d.dpctl("add-if", "dp0", "brphy,type=internal")       # port 3
    d.dpctl("add-if", "dp0", "vx0,type=vxlan,remote_ip=flow")  # port 4
    run(["ip", "link", "set", "brphy", "up"], ns=hv1)
    run(["ip", "addr", "add", "fc00::1/64", "dev", "brphy", "nodad"],
        ns=hv1)
    d.dpctl("add-flow", "dp0", "in_port(2),eth()", "3")
    d.dpctl("add-flow", "dp0", "in_port(3),eth()", "2")
    encap = ("set(tunnel(tun_id=0x%x,ipv6_dst=fc00::2,ttl=64,tp_dst=4789,"
             "flags(key))),4" % vni)
    decap = ("tunnel(tun_id=0x%x,ipv6_src=fc00::2,ipv6_dst=fc00::1,"
             "ttl=0/0,flags(+key)),in_port(4)" % vni)
    for l3 in ("eth_type(0x0800),ipv4()", "eth_type(0x0806),arp()"):
        d.dpctl("add-flow", "dp0", "in_port(1),eth()," + l3, encap)
        d.dpctl("add-flow", "dp0", decap + ",eth()," + l3, "1")

    # Neighbour discovery and the peer's MLD reports may cross the TAP;
    # count only the tunnel packets themselves.
    cap = subprocess.Popen(
        ["ip", "netns", "exec", hv1, "timeout", "40", "tcpdump", "-l", "-n",
         "-i", "brphy", "udp", "port", "4789"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1)
    p = run(["ping", "-c", "5", "-i", "0.2", "-W", "5", "192.168.66.2"],
            ns=vm1, check=False, timeout=30)
    cap.terminate()
    captured, _ = cap.communicate(timeout=10)
    assert " 0% packet loss" in p.stdout, \
        p.stdout + d.dpctl("dump-flows").stdout + open(d.log).read()
    c = fastpath_counters(d, lambda c: c.get("encap", 0) >= 5
                          and c.get("decap", 0) >= 5)
    assert c.get("encap", 0) >= 5 and c.get("decap", 0) >= 5, c
    # The ten tunnel packets did not cross the TAP.
    tunnel_on_tap = [l for l in captured.splitlines() if l.strip()]
    assert len(tunnel_on_tap) < 5, captured
    v = vport(d, "vxlan_sys_4789")
    assert v["rx_errors"] == 0 and v["tx_errors"] == 0, v


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_underlay_capture_vni_port_entropy_checksums(topo, switch_factory,
                                                     tmp_path):
    """What hvs puts on the wire, decoded from a capture of hv2's uplink:
    VXLAN to UDP port 4789 with the configured VNI, a UDP source port
    that follows the inner flow (16 UDP flows give many source ports, one
    flow keeps one), and valid IPv4, UDP and inner checksums.  hv1's
    uplink has transmit checksum offload off, so every checksum the
    capture sees must be finished."""
    from underlay import Capture, decode, read_pcap, udp_flows
    hv, vm1, vm2 = two_hvs(topo, switch_factory)
    run(["ethtool", "-K", "u1", "tx", "off"], ns=hv[0].ns)
    p = ping(vm1, "10.78.1.2")
    assert " 0% packet loss" in p.stdout, p.stdout + hv[0].log()
    path = str(tmp_path / "u2.pcap")
    with Capture(hv[1].ns, "u2", path) as cap:
        ping(vm1, "10.78.1.2", count=3)
        run(["python3", "-c", udp_flows("10.78.1.1", "10.78.1.2")],
            ns=vm1)
        run(["iperf3", "-s", "-1", "-D", "-B", "10.78.1.2"], ns=vm2)
        time.sleep(0.5)
        run(["iperf3", "-c", "10.78.1.2", "-n", "2M"], ns=vm1, timeout=40)
        cap.wait_for(3 + 48 + 100)
    sent = cap.records()
    assert len(sent) > 100, sent[:5]
    assert {(r["kind"], r["dport"]) for r in sent} == {("vxlan", 4789)}
    assert {r["vni"] for r in sent} == {42}, {r["vni"] for r in sent}
    bad = [r for r in sent if not (r["outer_ok"] and r["inner_ok"])]
    assert not bad, bad[:5]
    assert not any(r["fragment"] for r in sent)
    # Entropy: the 16 UDP flows (inner protocol 17) spread over source
    # ports; a real hash gives 16 distinct ones almost surely, demand 8.
    udp = {r["sport"] for r in sent if r["inner_proto"] == 17}
    assert len(udp) >= 8, udp
    tcp = {r["sport"] for r in sent if r["inner_proto"] == 6}
    assert len(tcp) <= 2, tcp       # iperf3: control and data connection
    assert all(r["sport"] >= 1024 for r in sent)
    # The checker itself: one flipped inner byte is caught.
    frames = read_pcap(path)
    big = next(f for f in frames if len(f) > 300)
    spoilt = big[:-1] + bytes([big[-1] ^ 0xff])
    r = decode(spoilt)
    assert r and not (r["outer_ok"] and r["inner_ok"]), r
