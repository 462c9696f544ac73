"""VXLAN with hvs-vswitchd: two hypervisors (namespaces), each running
hvs-dpd, an OVSDB server and hvs-vswitchd configured with the real
ovs-vsctl; the VTEP address on br-phy's internal port, VMs on br-int."""
import os
import re

import pytest

from conftest import VSWITCHD, run

pytestmark = pytest.mark.skipif(not os.path.exists(VSWITCHD),
                                reason="hvs-vswitchd not built")


def hypervisor(topo, switch_factory, i, dpd_args=()):
    s = switch_factory(ovsdb="hvs", name="hv%d" % i, dpd_args=dpd_args)
    return s


def wire(topo, hv):
    """Underlay link between the two hypervisors: u1 <-> u2, with room for
    the 50 bytes of VXLAN encapsulation above a 1500-byte inner MTU."""
    topo.veth(hv[0].ns, "u1", hv[1].ns, "u2")
    run(["ip", "link", "set", "u1", "mtu", "1600"], ns=hv[0].ns)
    run(["ip", "link", "set", "u2", "mtu", "1600"], ns=hv[1].ns)


def configure(topo, s, i, remote, vm_ip, vm_mac, key=42):
    vm = topo.vm(s.ns, "vm%d" % i, vm_ip, vm_mac)
    s.vsctl("add-br", "br-phy", "--", "add-port", "br-phy", "u%d" % i)
    run(["ip", "addr", "add", "10.98.0.%d/24" % i, "dev", "br-phy"],
        ns=s.ns)
    run(["ip", "link", "set", "br-phy", "mtu", "1600", "up"], ns=s.ns)
    s.vsctl("add-br", "br-int", "--", "add-port", "br-int",
            topo.prefix + "vm%d" % i)
    s.vsctl("add-port", "br-int", "vx0", "--", "set", "interface", "vx0",
            "type=vxlan", "options:remote_ip=" + remote,
            "options:key=%d" % key)
    return vm


def test_vms_ping_and_tcp_across_vxlan(topo, switch_factory):
    hv = [hypervisor(topo, switch_factory, i) for i in (1, 2)]
    wire(topo, hv)
    vm1 = configure(topo, hv[0], 1, "10.98.0.2", "10.78.1.1",
                    "02:78:00:00:00:01")
    vm2 = configure(topo, hv[1], 2, "10.98.0.1", "10.78.1.2",
                    "02:78:00:00:00:02")
    ping = run(["ping", "-c", "5", "-i", "0.2", "-W", "3", "10.78.1.2"],
               ns=vm1, check=False, timeout=30)
    assert " 0% packet loss" in ping.stdout, ping.stdout + hv[0].log()
    # Each packet arrives once: the host stack of the hypervisor must not
    # decapsulate what the datapath already did.
    assert "duplicates" not in ping.stdout, ping.stdout
    # The datapath flow toward the tunnel carries set(tunnel(...)).
    flows = hv[0].dpd.dpctl("dump-flows").stdout
    assert re.search(r"set\(tunnel\(tun_id=0x2a,dst=10\.98\.0\.2,"
                     r".*\)\),\d+", flows), flows
    assert "vxlan_sys_4789" in hv[0].dpd.dpctl("show").stdout
    # The tunnel Interface reports the counters of its datapath vport.
    from test_vswitchd import wait_stat
    assert wait_stat(hv[0], "vx0", "tx_packets", 5), \
        hv[0].vsctl("get", "Interface", "vx0", "statistics").stdout
    # TCP with the veth defaults (TSO, checksum offload) through the tunnel.
    run(["iperf3", "-s", "-1", "-D", "-B", "10.78.1.2"], ns=vm2)
    import json
    import time
    time.sleep(0.5)
    out = run(["iperf3", "-c", "10.78.1.2", "-t", "2", "-J"], ns=vm1,
              timeout=40).stdout
    assert json.loads(out)["end"]["sum_received"]["bytes"] > 2**20


def test_wrong_key_does_not_pass(topo, switch_factory):
    hv = [hypervisor(topo, switch_factory, i) for i in (1, 2)]
    wire(topo, hv)
    vm1 = configure(topo, hv[0], 1, "10.98.0.2", "10.78.1.1",
                    "02:78:00:00:00:01", key=42)
    configure(topo, hv[1], 2, "10.98.0.1", "10.78.1.2",
              "02:78:00:00:00:02", key=43)
    ping = run(["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.78.1.2"],
               ns=vm1, check=False, timeout=30)
    assert ping.returncode != 0


def test_bad_tunnel_options_land_in_interface_error(topo, switch_factory):
    s = switch_factory(ovsdb="hvs")
    s.vsctl("add-br", "br-int")
    s.vsctl("add-port", "br-int", "vx9", "--", "set", "interface", "vx9",
            "type=vxlan", "options:remote_ip=not-an-ip")
    err = s.vsctl("get", "Interface", "vx9", "error").stdout
    assert "remote_ip" in err, err


def test_remote_ip_and_key_from_openflow(topo, switch_factory):
    """options:remote_ip=flow and key=flow: OpenFlow sets tun_dst and
    tun_id (set_field), as with Open vSwitch."""
    hv = [hypervisor(topo, switch_factory, i) for i in (1, 2)]
    wire(topo, hv)
    s = hv[0]
    vm1 = topo.vm(s.ns, "vm1", "10.78.1.1", "02:78:00:00:00:01")
    s.vsctl("add-br", "br-phy", "--", "add-port", "br-phy", "u1")
    run(["ip", "addr", "add", "10.98.0.1/24", "dev", "br-phy"], ns=s.ns)
    run(["ip", "link", "set", "br-phy", "mtu", "1600", "up"], ns=s.ns)
    s.vsctl("add-br", "br-int", "--", "add-port", "br-int",
            topo.prefix + "vm1")
    s.vsctl("add-port", "br-int", "vx0", "--", "set", "interface", "vx0",
            "type=vxlan", "options:remote_ip=flow", "options:key=flow")
    vm_port = s.vsctl("get", "interface", topo.prefix + "vm1",
                      "ofport").stdout.strip()
    vx_port = s.vsctl("get", "interface", "vx0", "ofport").stdout.strip()
    mgmt = "unix:" + os.path.join(s.rundir, "br-int.mgmt")
    run(["ovs-ofctl", "add-flow", mgmt,
         "priority=10,in_port=%s,actions=set_field:10.98.0.2->tun_dst,"
         "set_field:42->tun_id,output:%s" % (vm_port, vx_port)], ns=s.ns)
    run(["ovs-ofctl", "add-flow", mgmt,
         "priority=10,in_port=%s,tun_id=42,actions=output:%s"
         % (vx_port, vm_port)], ns=s.ns)
    configure(topo, hv[1], 2, "10.98.0.1", "10.78.1.2", "02:78:00:00:00:02")
    ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "3", "10.78.1.2"],
               ns=vm1, check=False, timeout=30)
    assert " 0% packet loss" in ping.stdout, ping.stdout + s.log()
    flows = s.dpd.dpctl("dump-flows").stdout
    assert re.search(r"set\(tunnel\(tun_id=0x2a,dst=10\.98\.0\.2,", flows), \
        flows


VXLAN_INJECT = r"""
import socket, struct, sys
vni, ident = int(sys.argv[1]), int(sys.argv[2])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
icmp = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"x" * 16
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                 socket.inet_aton("10.78.1.1"), socket.inet_aton("10.78.1.2"))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
eth = bytes.fromhex("027800000002" "027800000001" "0800")
vx = struct.pack("!II", 0x08000000, vni << 8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(vx + eth + ip + icmp, ("10.98.0.2", 4789))
"""


def test_decap_flow_matches_only_its_vni(topo, switch_factory):
    """Once the datapath holds the flow for VNI 42, a frame that arrives
    with VNI 43 must not ride it into the VM (the megaflow matches the
    tunnel key)."""
    hv = [hypervisor(topo, switch_factory, i) for i in (1, 2)]
    wire(topo, hv)
    vm1 = configure(topo, hv[0], 1, "10.98.0.2", "10.78.1.1",
                    "02:78:00:00:00:01")
    vm2 = configure(topo, hv[1], 2, "10.98.0.1", "10.78.1.2",
                    "02:78:00:00:00:02")
    ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "3", "10.78.1.2"],
               ns=vm1, check=False, timeout=30)
    assert " 0% packet loss" in ping.stdout, ping.stdout
    flows = hv[1].dpd.dpctl("dump-flows").stdout
    assert re.search(r"tunnel\(tun_id=0x2a,", flows), flows

    def delivered(vni, ident):
        import subprocess as sp
        cap = sp.Popen(["ip", "netns", "exec", vm2, "timeout", "3",
                        "tcpdump", "-l", "-n", "-c", "1", "-i", "eth0",
                        "icmp[4:2] = %d" % ident],
                       stdout=sp.PIPE, stderr=sp.DEVNULL, text=True)
        import time as t
        t.sleep(1)
        run(["/usr/bin/python3", "-c", VXLAN_INJECT, str(vni), str(ident)],
            ns=hv[0].ns)
        out, _ = cap.communicate(timeout=10)
        return "ICMP echo request" in out

    assert not delivered(43, 4343)
    assert delivered(42, 4242)          # the injection itself works


@pytest.mark.parametrize("ovsdb", ["hvs", "debian"])
def test_changing_only_the_type_is_applied(topo, switch_factory, ovsdb):
    # ovs-vsctl waits for cur_cfg to reach next_cfg: if hvs-vswitchd
    # missed the change it would wait until the timeout.
    s = switch_factory(ovsdb=ovsdb)
    s.vsctl("add-br", "br-int", "--", "add-port", "br-int", "vx0", "--",
            "set", "interface", "vx0", "type=vxlan",
            "options:remote_ip=10.98.0.2", "options:key=41")
    assert "vxlan_sys_4789" in s.dpd.dpctl("show").stdout
    p = s.vsctl("set", "interface", "vx0", "type=geneve", timeout=10,
                check=False)
    assert p.returncode == 0, p.stderr + s.log()
    show = s.dpd.dpctl("show").stdout
    assert "genev_sys_6081" in show and "vxlan_sys_4789" not in show, show
    assert s.vsctl("get", "interface", "vx0", "ofport").stdout.strip() \
        not in ("-1", "[]")
    # And back, once more with the type alone.
    p = s.vsctl("set", "interface", "vx0", "type=vxlan", timeout=10,
                check=False)
    assert p.returncode == 0, p.stderr + s.log()
    show = s.dpd.dpctl("show").stdout
    assert "vxlan_sys_4789" in show and "genev_sys_6081" not in show, show
