"""hvs-dpd tunnel vports against the Linux kernel's own vxlan device.

Two hypervisor namespaces hv1 and hv2 are joined by a veth underlay.  In
hv1, hvs-dpd has a datapath with a VM's veth and a vxlan vport, and flows
installed with Debian's unmodified ovs-dpctl through the netlink shim; in
hv2 the kernel's vxlan device is bridged (Linux bridge) to the other VM.
"""
import json
import os
import re
import struct
import subprocess
import time

import hvsnl
from conftest import run

VNI = 42
OVS_VPORT_ATTR_OPTIONS, OVS_VPORT_ATTR_STATS = 4, 6
OVS_TUNNEL_ATTR_DST_PORT = 1
OVS_VPORT_TYPE_VXLAN = 4


def kernel_vxlan_available():
    ns = "hvtprobe%d" % (time.time_ns() % 100000)
    run(["ip", "netns", "add", ns])
    try:
        return run(["ip", "link", "add", "vx", "type", "vxlan", "id", "1",
                    "dstport", "4789"], ns=ns, check=False).returncode == 0
    finally:
        run(["ip", "netns", "del", ns], check=False)


def two_hypervisors(topo, dpd_factory, net, flags="df|key", mtu=1450,
                    hv2_vx_mtu=None):
    """Builds the two hypervisors; returns (hv1, hv2, vm1, vm2, dpd,
    (underlay 1, underlay 2, VM 1, VM 2 addresses))."""
    hv1 = topo.ns("hv1")
    hv2 = topo.ns("hv2")
    ul1, ul2 = "10.%d.0.1" % net, "10.%d.0.2" % net
    vm1_ip, vm2_ip = "192.168.%d.1" % net, "192.168.%d.2" % net
    topo.veth(hv1, "ul", hv2, "ul")
    run(["ip", "addr", "add", ul1 + "/24", "dev", "ul"], ns=hv1)
    run(["ip", "addr", "add", ul2 + "/24", "dev", "ul"], ns=hv2)

    vm1 = topo.vm(hv1, "v1", vm1_ip, "02:%02x:00:00:00:01" % net)
    vm2 = topo.vm(hv2, "v2", vm2_ip, "02:%02x:00:00:00:02" % net)
    for vm in (vm1, vm2):
        run(["ip", "link", "set", "eth0", "mtu", str(mtu)], ns=vm)

    # hv2: the kernel's vxlan device, bridged to VM 2.
    # Bound to the underlay device, the kernel caps the MTU at the
    # underlay's less the VXLAN overhead; unbound it does not.
    bind = [] if hv2_vx_mtu else ["dev", "ul"]
    run(["ip", "link", "add", "vx", "type", "vxlan", "id", str(VNI),
         "remote", ul1, "local", ul2, "dstport", "4789"] + bind, ns=hv2)
    if hv2_vx_mtu:
        run(["ip", "link", "set", "vx", "mtu", str(hv2_vx_mtu)], ns=hv2)
    run(["ip", "link", "add", "br0", "type", "bridge"], ns=hv2)
    for dev in ("vx", topo.prefix + "v2"):
        run(["ip", "link", "set", dev, "master", "br0"], ns=hv2)
        run(["ip", "link", "set", dev, "up"], ns=hv2)
    run(["ip", "link", "set", "br0", "up"], ns=hv2)

    # hv1: hvs-dpd, VM 1 on port 1, the vxlan vport on port 2.
    d = dpd_factory(hv1)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "v1")
    d.dpctl("add-if", "dp0", "vx0,type=vxlan,remote_ip=flow,dst_port=4789")
    encap = ("set(tunnel(tun_id=0x%x,dst=%s,ttl=64,tp_dst=4789,flags(%s))),2"
             % (VNI, ul2, flags))
    decap = ("tunnel(tun_id=0x%x,src=%s,dst=%s,ttl=0/0,flags(+key)),"
             "in_port(2)" % (VNI, ul2, ul1))
    for l3 in ("eth_type(0x0800),ipv4()", "eth_type(0x0806),arp()"):
        d.dpctl("add-flow", "dp0", "in_port(1),eth()," + l3, encap)
        d.dpctl("add-flow", "dp0", decap + ",eth()," + l3, "1")
    return hv1, hv2, vm1, vm2, d, (ul1, ul2, vm1_ip, vm2_ip)


def ping(ns, ip, count=5, size=56):
    return run(["ping", "-c", str(count), "-i", "0.2", "-W", "2", "-s",
                str(size), ip], ns=ns, check=False)


def iperf(server_ns, client_ns, ip, seconds=3):
    run(["iperf3", "-s", "-1", "-D", "-B", ip], ns=server_ns)
    time.sleep(0.5)
    out = run(["iperf3", "-c", ip, "-t", str(seconds), "-J"], ns=client_ns,
              timeout=seconds + 30)
    end = json.loads(out.stdout)["end"]
    return end["sum_received"]["bytes"], end["sum_received"][
        "bits_per_second"]


STATS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors",
         "tx_errors", "rx_dropped", "tx_dropped")


def vport(d, name):
    """The counters and options of vport 'name' (a raw genetlink GET:
    ovs-dpctl cannot show a tunnel port's counters)."""
    c = d.client()
    try:
        r = c.ovs("ovs_vport", hvsnl.OVS_VPORT_CMD_GET, 0,
                  hvsnl.attr_str(hvsnl.OVS_VPORT_ATTR_NAME, name))
    finally:
        c.close()
    a = hvsnl.parse_attrs(r[0][1][4:])
    out = dict(zip(STATS, struct.unpack("=8Q", a[OVS_VPORT_ATTR_STATS])))
    out["type"], = struct.unpack("=I", a[hvsnl.OVS_VPORT_ATTR_TYPE])
    out["options"] = hvsnl.parse_attrs(a.get(OVS_VPORT_ATTR_OPTIONS, b""))
    return out


def test_vxlan_with_kernel_peer(topo, dpd_factory, tmp_path):
    if not kernel_vxlan_available():
        import pytest
        pytest.skip("no kernel vxlan module")
    hv1, hv2, vm1, vm2, d, (ul1, ul2, vm1_ip, vm2_ip) = two_hypervisors(
        topo, dpd_factory, 61)

    # The port as Open vSwitch names and shows its kernel vxlan vports.
    show = d.dpctl("show").stdout
    assert re.search(r"port 2: vxlan_sys_4789 \(vxlan", show), show

    # Capture the underlay in hv2 while pinging.
    cap = subprocess.Popen(
        ["ip", "netns", "exec", hv2, "tcpdump", "-l", "-n", "-v", "-i", "ul",
         "-c", "6", "udp", "port", "4789"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1)
    p = ping(vm1, vm2_ip)
    assert p.returncode == 0 and " 0% packet loss" in p.stdout, \
        p.stdout + p.stderr + d.dpctl("dump-flows").stdout
    try:
        captured, _ = cap.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        cap.kill()
        captured, _ = cap.communicate()
    # Both directions, with the right VNI; ours leave DF set.
    assert "vni %d" % VNI in captured, captured
    assert re.search(r"%s\.\d+ > %s\.4789" % (re.escape(ul1),
                                              re.escape(ul2)), captured)
    assert "flags [DF]" in captured, captured

    # And from the other side.
    p = ping(vm2, vm1_ip, count=3)
    assert p.returncode == 0, p.stdout
    # VNI, port, source ports by inner flow and checksums, decoded.
    check_underlay(hv1, hv2, vm1, vm1_ip, vm2_ip, "vxlan", str(tmp_path), d)

    # TCP with the default veth offloads (TSO, partial checksums) on.
    received, bps = iperf(vm2, vm1, vm2_ip)
    assert received > 10 * 1024 * 1024, "only %d bytes" % received
    print("vxlan hvs -> kernel TCP (no UDP csum): %.2f Gbit/s"
          % (bps / 1e9))
    received, bps = iperf(vm1, vm2, vm1_ip)
    assert received > 10 * 1024 * 1024, "only %d bytes" % received
    print("vxlan kernel -> hvs TCP: %.2f Gbit/s" % (bps / 1e9))

    # With UDP checksums (the csum flag): UDP GSO trains.
    d.dpctl("mod-flow", "dp0", "in_port(1),eth(),eth_type(0x0800),ipv4()",
            "set(tunnel(tun_id=0x%x,dst=%s,ttl=64,tp_dst=4789,"
            "flags(df|csum|key))),2" % (VNI, ul2))
    received, bps = iperf(vm2, vm1, vm2_ip)
    assert received > 10 * 1024 * 1024, "only %d bytes" % received
    print("vxlan hvs -> kernel TCP (UDP csum): %.2f Gbit/s" % (bps / 1e9))

    v = vport(d, "vxlan_sys_4789")
    assert v["rx_packets"] > 1000 and v["tx_packets"] > 1000, v
    assert v["rx_errors"] == 0 and v["tx_errors"] == 0, v
    # The options come back as the kernel returns them.
    assert v["type"] == OVS_VPORT_TYPE_VXLAN
    assert struct.unpack("=H", v["options"][OVS_TUNNEL_ATTR_DST_PORT]
                         [:2]) == (4789,)

    # Flows dump with their tunnel key.
    flows = d.dpctl("dump-flows").stdout
    assert "tunnel(tun_id=0x2a,src=%s,dst=%s" % (ul2, ul1) in flows, flows


def test_vxlan_fragmented_outer(topo, dpd_factory):
    """VM MTU 1500 over an underlay MTU of 1500 without DF: the host stacks
    fragment the outer packets and reassemble them before the sockets."""
    if not kernel_vxlan_available():
        import pytest
        pytest.skip("no kernel vxlan module")
    hv1, hv2, vm1, vm2, d, (ul1, ul2, vm1_ip, vm2_ip) = two_hypervisors(
        topo, dpd_factory, 62, flags="key", mtu=1500, hv2_vx_mtu=1500)
    p = ping(vm1, vm2_ip, count=3, size=1472)
    assert p.returncode == 0 and " 0% packet loss" in p.stdout, p.stdout
    p = ping(vm2, vm1_ip, count=3, size=1472)
    assert p.returncode == 0, p.stdout
    received, bps = iperf(vm2, vm1, vm2_ip)
    assert received > 5 * 1024 * 1024, "only %d bytes" % received
    print("vxlan fragmented hvs -> kernel TCP: %.2f Gbit/s" % (bps / 1e9))
    received, bps = iperf(vm1, vm2, vm1_ip)
    assert received > 5 * 1024 * 1024, "only %d bytes" % received
    print("vxlan fragmented kernel -> hvs TCP: %.2f Gbit/s" % (bps / 1e9))
    v = vport(d, "vxlan_sys_4789")
    assert v["rx_errors"] == 0 and v["tx_errors"] == 0, v


def test_vxlan_vtep_on_internal_port(topo, dpd_factory):
    """The seed's layout: the VTEP address lives on an hvs internal port
    (a TAP on the host stack, like br-phy) and the uplink is a netdev port
    of the same datapath.  The host stack sends the outer packets through
    the TAP, the datapath forwards them to the uplink, and back."""
    if not kernel_vxlan_available():
        import pytest
        pytest.skip("no kernel vxlan module")
    net = 63
    hv1 = topo.ns("hv1")
    hv2 = topo.ns("hv2")
    ul1, ul2 = "10.%d.0.1" % net, "10.%d.0.2" % net
    vm1_ip, vm2_ip = "192.168.%d.1" % net, "192.168.%d.2" % net
    topo.veth(hv1, "ul", hv2, "ul")
    run(["ip", "addr", "add", ul2 + "/24", "dev", "ul"], ns=hv2)
    vm1 = topo.vm(hv1, "v1", vm1_ip, "02:%02x:00:00:00:01" % net)
    vm2 = topo.vm(hv2, "v2", vm2_ip, "02:%02x:00:00:00:02" % net)
    for vm in (vm1, vm2):
        run(["ip", "link", "set", "eth0", "mtu", "1450"], ns=vm)
    run(["ip", "link", "add", "vx", "type", "vxlan", "id", str(VNI),
         "remote", ul1, "local", ul2, "dstport", "4789", "dev", "ul"],
        ns=hv2)
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
    run(["ip", "addr", "add", ul1 + "/24", "dev", "brphy"], ns=hv1)
    run(["ip", "link", "set", "brphy", "up"], ns=hv1)
    # br-phy: the uplink and the VTEP's port are joined.
    d.dpctl("add-flow", "dp0", "in_port(2),eth()", "3")
    d.dpctl("add-flow", "dp0", "in_port(3),eth()", "2")
    # br-int: the VM and the tunnel.
    encap = ("set(tunnel(tun_id=0x%x,dst=%s,ttl=64,tp_dst=4789,"
             "flags(df|key))),4" % (VNI, ul2))
    decap = ("tunnel(tun_id=0x%x,src=%s,dst=%s,ttl=0/0,flags(+key)),"
             "in_port(4)" % (VNI, ul2, ul1))
    for l3 in ("eth_type(0x0800),ipv4()", "eth_type(0x0806),arp()"):
        d.dpctl("add-flow", "dp0", "in_port(1),eth()," + l3, encap)
        d.dpctl("add-flow", "dp0", decap + ",eth()," + l3, "1")

    p = ping(vm1, vm2_ip)
    assert p.returncode == 0 and " 0% packet loss" in p.stdout, \
        p.stdout + d.dpctl("dump-flows").stdout
    received, bps = iperf(vm2, vm1, vm2_ip, seconds=2)
    assert received > 5 * 1024 * 1024, "only %d bytes" % received
    print("vxlan via internal-port VTEP hvs -> kernel TCP: %.2f Gbit/s"
          % (bps / 1e9))
    received, bps = iperf(vm1, vm2, vm1_ip, seconds=2)
    assert received > 5 * 1024 * 1024, "only %d bytes" % received
    print("vxlan via internal-port VTEP kernel -> hvs TCP: %.2f Gbit/s"
          % (bps / 1e9))
    # The outer packets crossed the datapath's uplink and internal port.
    flows = d.dpctl("dump-flows").stdout
    m = re.search(r"in_port\(3\),.*packets:(\d+)", flows)
    assert m and int(m.group(1)) > 1000, flows
    v = vport(d, "vxlan_sys_4789")
    assert v["rx_errors"] == 0 and v["tx_errors"] == 0, v


# hvs on both sides: (type, dpctl add-if options, port name, tunnel match
# extras, tunnel action extras).
HVS_PEERS = [
    ("vxlan", "type=vxlan,remote_ip=flow", "vxlan_sys_4789", "",
     "tp_dst=4789,"),
    ("geneve", "type=geneve,remote_ip=flow", "genev_sys_6081",
     ",geneve({class=0x102,type=0x80,len=4,0xdeadbeef})",
     "tp_dst=6081,geneve({class=0x102,type=0x80,len=4,0xdeadbeef}),"),
    ("gre", "type=gre,remote_ip=flow", "gre_sys", "", ""),
]


def hvs_hypervisor(topo, dpd_factory, hv, vm, my_ul, peer_ul, add_if, port,
                   match_extra, action_extra, flags="df|key"):
    d = dpd_factory(hv)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + vm)
    d.dpctl("add-if", "dp0", "tnl0," + add_if)
    encap = ("set(tunnel(tun_id=0x%x,dst=%s,ttl=64,%sflags(%s))),2"
             % (VNI, peer_ul, action_extra, flags))
    decap = ("tunnel(tun_id=0x%x,src=%s,dst=%s,ttl=0/0%s,flags(+key)),"
             "in_port(2)" % (VNI, peer_ul, my_ul, match_extra))
    for l3 in ("eth_type(0x0800),ipv4()", "eth_type(0x0806),arp()"):
        d.dpctl("add-flow", "dp0", "in_port(1),eth()," + l3, encap)
        d.dpctl("add-flow", "dp0", decap + ",eth()," + l3, "1")
    assert port in d.dpctl("show").stdout
    return d


def hvs_pair(topo, dpd_factory, i, net, names, vm_mtu, flags="df|key"):
    """Two hypervisors running hvs-dpd with tunnel HVS_PEERS[i] between
    them over a veth underlay 10.NET.0.0/24 (MTU 1500), VMs NAMES[0] and
    NAMES[1] (192.168.NET.1 and .2, MTU VM_MTU); returns (vm1, vm2, d1,
    d2)."""
    kind, add_if, port, mx, ax = HVS_PEERS[i]
    hv1 = topo.ns("%s%d1" % (names[0], i))
    hv2 = topo.ns("%s%d2" % (names[0], i))
    ul1, ul2 = "10.%d.0.1" % net, "10.%d.0.2" % net
    topo.veth(hv1, "ul", hv2, "ul")
    run(["ip", "addr", "add", ul1 + "/24", "dev", "ul"], ns=hv1)
    run(["ip", "addr", "add", ul2 + "/24", "dev", "ul"], ns=hv2)
    vm1 = topo.vm(hv1, "%s%d" % (names[0], i), "192.168.%d.1" % net,
                  "02:%02x:00:00:00:01" % net)
    vm2 = topo.vm(hv2, "%s%d" % (names[1], i), "192.168.%d.2" % net,
                  "02:%02x:00:00:00:02" % net)
    for ns, dev in ((hv1, "ul"), (hv2, "ul"), (vm1, "eth0"), (vm2, "eth0")):
        mtu = 1500 if dev == "ul" else vm_mtu
        run(["ip", "link", "set", dev, "mtu", str(mtu)], ns=ns)
    d1 = hvs_hypervisor(topo, dpd_factory, hv1, "%s%d" % (names[0], i), ul1,
                        ul2, add_if, port, mx, ax, flags)
    d2 = hvs_hypervisor(topo, dpd_factory, hv2, "%s%d" % (names[1], i), ul2,
                        ul1, add_if, port, mx, ax, flags)
    return vm1, vm2, d1, d2


def test_hvs_to_hvs(topo, dpd_factory):
    """VXLAN, Geneve (with an option that must match) and GRE between two
    hvs-dpd instances: ping and TCP."""
    for i, (kind, _, port, _, _) in enumerate(HVS_PEERS):
        net = 70 + i
        vm1, vm2, d1, d2 = hvs_pair(topo, dpd_factory, i, net, "ab", 1400)
        p = ping(vm1, "192.168.%d.2" % net)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, \
            kind + ": " + p.stdout + d1.dpctl("dump-flows").stdout \
            + d2.dpctl("dump-flows").stdout
        received, bps = iperf(vm2, vm1, "192.168.%d.2" % net, seconds=2)
        assert received > 5 * 1024 * 1024, "%s: only %d bytes" % (
            kind, received)
        print("%s hvs -> hvs TCP: %.2f Gbit/s" % (kind, bps / 1e9))
        for d in (d1, d2):
            v = vport(d, port)
            assert v["rx_packets"] > 100 and v["rx_errors"] == 0, (kind, v)


def test_hvs_to_hvs_outer_fragments(topo, dpd_factory):
    """VXLAN, Geneve and GRE between two hvs-dpd instances with VM MTU 1500
    over an underlay MTU of 1500 and DF clear: the outer packets are too
    big for the underlay, the sending host stack fragments them, the
    receiving one reassembles them and hands the datagram to hvs-dpd's
    tunnel socket (the reassembly path), which must count it."""
    for i, (kind, _, port, _, _) in enumerate(HVS_PEERS):
        net = 73 + i
        vm1, vm2, d1, d2 = hvs_pair(topo, dpd_factory, i, net, "cd", 1500,
                                    flags="key")
        before = [d.tnl_stats()["socket_rx"] for d in (d1, d2)]
        # Full-size frames both ways: 1472 bytes of ICMP payload make a
        # 1514-byte inner frame, more than the underlay takes once wrapped.
        p = ping(vm1, "192.168.%d.2" % net, count=3, size=1472)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, \
            kind + ": " + p.stdout + d1.dpctl("dump-flows").stdout
        p = ping(vm2, "192.168.%d.1" % net, count=3, size=1472)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, \
            kind + ": " + p.stdout
        received, bps = iperf(vm2, vm1, "192.168.%d.2" % net, seconds=2)
        assert received > 2 * 1024 * 1024, "%s: only %d bytes" % (
            kind, received)
        print("%s hvs -> hvs over fragments TCP: %.2f Gbit/s"
              % (kind, bps / 1e9))
        for d, b in zip((d1, d2), before):
            c = d.tnl_stats()
            # 3 big pings each way at least, plus the TCP segments.
            assert c["socket_rx"] - b >= 3, (kind, b, c)
            assert c["socket_rx_bad"] == 0, (kind, c)
            v = vport(d, port)
            assert v["rx_errors"] == 0 and v["tx_errors"] == 0, (kind, v)


def test_vxlan_bad_outer_counted(topo, dpd_factory):
    """Malformed VXLAN datagrams are dropped and counted, not forwarded."""
    hv1 = topo.ns("hv1")
    d = dpd_factory(hv1)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", "vx0,type=vxlan,remote_ip=flow")
    script = ("import socket\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "for m in (b'', b'\\x00' * 70, b'\\x08' + b'\\x00' * 10):\n"
              "    s.sendto(m, ('127.0.0.1', 4789))\n")
    run(["python3", "-c", script], ns=hv1)
    deadline = time.time() + 5
    while time.time() < deadline:
        v = vport(d, "vxlan_sys_4789")
        if v["rx_errors"] == 3:
            break
        time.sleep(0.1)
    assert (v["rx_packets"], v["rx_errors"]) == (0, 3), v
    # ovs-dpctl also deletes the kernel device it believes exists
    # (rtnetlink) and reports ENODEV for it; the vport is gone all the same.
    d.dpctl("del-if", "dp0", "vxlan_sys_4789", check=False)
    assert "vxlan" not in d.dpctl("show").stdout


OVS_VSWITCHD = "/usr/lib/openvswitch-switch/ovs-vswitchd"


def ovs_userspace(hv, rundir, ul_ip, peer_ip, kind, vm_port):
    """Open vSwitch 3.1's userspace datapath in 'hv', as users set up its
    tunnels: br-phy with the uplink and the VTEP address, br-int with the
    VM port and a tunnel port."""
    env = dict(os.environ, OVS_RUNDIR=rundir, OVS_LOGDIR=rundir,
               OVS_DBDIR=rundir)
    db = os.path.join(rundir, "conf.db")
    sock = os.path.join(rundir, "db.sock")
    vsctl = ["ovs-vsctl", "--db=unix:" + sock, "--timeout=20"]
    run(["ovsdb-tool", "create", db,
         "/usr/share/openvswitch/vswitch.ovsschema"], env=env)
    run(["ovsdb-server", db, "--remote=punix:" + sock, "--detach",
         "--no-chdir", "--pidfile=" + os.path.join(rundir, "db.pid"),
         "--log-file=" + os.path.join(rundir, "ovsdb.log")], ns=hv, env=env)
    run(vsctl + ["--no-wait", "init"], ns=hv, env=env)
    run(vsctl + ["--no-wait", "set", "Open_vSwitch", ".",
                 "other_config:userspace-tso-enable=true"], ns=hv, env=env)
    run([OVS_VSWITCHD, "unix:" + sock, "--detach", "--no-chdir",
         "--pidfile=" + os.path.join(rundir, "vswitchd.pid"),
         "--log-file=" + os.path.join(rundir, "vswitchd.log")], ns=hv,
        env=env)
    run(vsctl + ["add-br", "br-phy", "--", "set", "bridge", "br-phy",
                 "datapath_type=netdev", "--", "add-port", "br-phy", "ul"],
        ns=hv, env=env)
    run(["ip", "addr", "add", ul_ip + "/24", "dev", "br-phy"], ns=hv)
    run(["ip", "link", "set", "br-phy", "up"], ns=hv)
    run(vsctl + ["add-br", "br-int", "--", "set", "bridge", "br-int",
                 "datapath_type=netdev", "--", "add-port", "br-int",
                 vm_port, "--", "add-port", "br-int", "t0", "--", "set",
                 "interface", "t0", "type=" + kind,
                 "options:remote_ip=" + peer_ip, "options:key=%d" % VNI],
        ns=hv, env=env)
    run(["ip", "link", "set", "br-int", "up"], ns=hv)


def check_underlay(hv1, hv2, vm1, vm1_ip, vm2_ip, kind, tmpdir, d):
    """Captures hv2's underlay while hvs in hv1 sends pings and 16 UDP
    flows, and checks what hvs wrote: the tunnel kind, its UDP port, the
    VNI or GRE key, source ports spread by inner flow, and every checksum
    valid (hv1's underlay has transmit checksum offload off meanwhile, so
    nothing is left for a NIC to finish)."""
    from underlay import Capture, udp_flows
    run(["ethtool", "-K", "ul", "tx", "off"], ns=hv1)
    path = os.path.join(tmpdir, "underlay.pcap")
    with Capture(hv2, "ul", path) as cap:
        ping(vm1, vm2_ip, count=3, size=1000)
        run(["python3", "-c", udp_flows(vm1_ip, vm2_ip)], ns=vm1)
        cap.wait_for(3 + 48)
    run(["ethtool", "-K", "ul", "tx", "on"], ns=hv1)      # as it was
    sent = cap.records()
    assert len(sent) >= 3 + 48, (kind, len(sent), d.tnl_stats())
    assert {r["kind"] for r in sent} == {kind}, (kind, sent[:5])
    assert {r["vni"] for r in sent} == {VNI}, (kind, sent[:5])
    bad = [r for r in sent if not (r["outer_ok"] and r["inner_ok"])]
    assert not bad, (kind, bad[:5])
    if kind != "gre":
        port = {"vxlan": 4789, "geneve": 6081}[kind]
        assert {r["dport"] for r in sent} == {port}, (kind, sent[:5])
        # The host stack's path sends from a pool of 16 sockets picked by
        # inner flow hash: 16 flows land on about 10 of them.
        sports = {r["sport"] for r in sent if r["inner_proto"] == 17}
        assert len(sports) >= 5, (kind, sports)


def test_interop_ovs_userspace(topo, dpd_factory, tmp_path):
    """hvs against Open vSwitch's own userspace tunnels: VXLAN, Geneve and
    GRE on the wire as OVS writes and reads them."""
    import pytest
    if not os.path.exists(OVS_VSWITCHD):
        pytest.skip("no ovs-vswitchd")
    for i, (kind, add_if, port, _, ax) in enumerate(HVS_PEERS):
        net = 80 + i
        hv1 = topo.ns("o%d1" % i)
        hv2 = topo.ns("o%d2" % i)
        ul1, ul2 = "10.%d.0.1" % net, "10.%d.0.2" % net
        topo.veth(hv1, "ul", hv2, "ul")
        run(["ip", "addr", "add", ul1 + "/24", "dev", "ul"], ns=hv1)
        vm1 = topo.vm(hv1, "p%d" % i, "192.168.%d.1" % net,
                      "02:%02x:00:00:00:01" % net)
        vm2 = topo.vm(hv2, "q%d" % i, "192.168.%d.2" % net,
                      "02:%02x:00:00:00:02" % net)
        for vm in (vm1, vm2):
            run(["ip", "link", "set", "eth0", "mtu", "1400"], ns=vm)
        # Open vSwitch 3.1 drops what it should tunnel if it carries
        # offload state ("Tunneling packets with HW offload flags is not
        # supported"): its VM sends plain frames.
        run(["ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso",
             "off"], ns=vm2)
        rundir = tmp_path / ("ovs%d" % i)
        rundir.mkdir()
        ovs_userspace(hv2, str(rundir), ul2, ul1, kind, topo.prefix
                      + "q%d" % i)
        d = hvs_hypervisor(topo, dpd_factory, hv1, "p%d" % i, ul1, ul2,
                           add_if, port, "", ax.replace(
                               "geneve({class=0x102,type=0x80,len=4,"
                               "0xdeadbeef}),", ""))
        # OVS learns its route and neighbour for the VTEP first (it drops
        # until then): allow it a few seconds.
        deadline = time.time() + 15
        while True:
            p = ping(vm1, "192.168.%d.2" % net, count=1)
            if p.returncode == 0 or time.time() > deadline:
                break
        assert p.returncode == 0, kind + ": " + p.stdout \
            + d.dpctl("dump-flows").stdout + open(
                os.path.join(str(rundir), "vswitchd.log")).read()[-3000:]
        p = ping(vm1, "192.168.%d.2" % net, count=5)
        assert p.returncode == 0 and " 0% packet loss" in p.stdout, \
            kind + ": " + p.stdout
        p = ping(vm2, "192.168.%d.1" % net, count=3)
        assert p.returncode == 0, kind + ": " + p.stdout
        check_underlay(hv1, hv2, vm1, "192.168.%d.1" % net,
                       "192.168.%d.2" % net, kind, str(rundir), d)
        received, bps = iperf(vm2, vm1, "192.168.%d.2" % net, seconds=2)
        assert received > 1024 * 1024, "%s: only %d bytes" % (kind,
                                                              received)
        print("%s hvs -> OVS userspace TCP: %.2f Gbit/s" % (kind,
                                                          bps / 1e9))
        received, bps = iperf(vm1, vm2, "192.168.%d.1" % net, seconds=2)
        assert received > 1024 * 1024, "%s: only %d bytes" % (kind,
                                                              received)
        print("%s OVS userspace -> hvs TCP: %.2f Gbit/s" % (kind,
                                                          bps / 1e9))
        v = vport(d, port)
        assert v["rx_errors"] == 0, (kind, v)
