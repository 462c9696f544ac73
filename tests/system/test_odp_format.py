"""lib/odp-format against Open vSwitch itself: flows of many shapes are
installed in hvs-dpd (with Debian's ovs-dpctl through the shim, and a few
that ovs-dpctl cannot parse with raw genetlink), some carry traffic, and
`ovs-dpctl dump-flows` is compared line by line with the same flows printed
by tests/unit/odp-format-dump (dpif_flow_dump + odp_format_flow).

Every key below lies inside its mask: a flow installed without a UFID is
dumped with the key exactly as it was sent, while lib/dpif hands out masked
keys, so bits outside the mask would (rightly) differ.  Every flow matches
in_port: lib/dpif parses dumped masks with the kernel's input rules, which
turn any in_port mask into an exact one, so a wildcarded in_port (printed
"in_port(0/0xffff0000)" by ovs-dpctl) cannot survive the round trip."""
import os
import re
import struct
import subprocess
import time

import pytest

import hvsnl
from conftest import BUILD, VSWITCHD, run

TOOL = os.path.join(BUILD, "tests", "unit", "odp-format-dump")
VM1 = ("10.33.0.1", "02:33:00:00:00:01")
VM2 = ("10.33.0.2", "02:33:00:00:00:02")

# (key, actions) for `ovs-dpctl add-flow`.
FLOWS = [
    # Shapes that see no traffic (installed first: a new flow that a wider
    # one already matches is refused with ENOENT, as by the kernel).
    ("in_port(1),eth(src=02:00:00:00:00:01,dst=ff:ff:ff:ff:ff:ff),"
     "eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,"
     "sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)", "2"),
    ("in_port(2),eth(src=02:00:00:00:00:00/ff:ff:ff:00:00:00),"
     "eth_type(0x0806),arp(tip=10.0.0.0/255.255.255.0,op=2)", "1,2"),
    ("in_port(1),eth(src=02:00:00:00:00:03,dst=02:00:00:00:00:04),"
     "eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,"
     "ttl=64,frag=no),tcp(src=80,dst=256/0xff00),tcp_flags(syn|ack)", "2"),
    ("in_port(1),eth(src=02:00:00:00:00:05),eth_type(0x0800),"
     "ipv4(proto=6,frag=no),tcp(dst=22),tcp_flags(+syn-ack)", ""),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(src=192.168.0.0/255.255.0.0,"
     "proto=17,tos=0x10/0xfc,frag=no),udp(src=68,dst=67)",
     "userspace(pid=1234,userdata(01020304))"),
    ("in_port(2),eth(src=02:00:00:00:00:06),eth_type(0x0800),"
     "ipv4(proto=1,frag=no),icmp(type=8,code=0)",
     "set(ipv4(src=1.2.3.4,dst=5.6.7.8,proto=1,tos=0,ttl=63,frag=no)),1"),
    ("in_port(2),eth(src=02:00:00:00:00:07),eth_type(0x0800),"
     "ipv4(proto=1,frag=no),icmp(type=3)", "set(ipv4(src=1.2.3.4)),1"),
    ("in_port(1),eth(),eth_type(0x86dd),ipv6(src=fe80::1,"
     "dst=fe80::/ffff:ffff::,label=0x12345,proto=6,tclass=0x10,hlimit=64,"
     "frag=no),tcp(dst=22),tcp_flags(0/0)", "2"),
    ("in_port(1),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),"
     "icmpv6(type=135,code=0),nd(target=fe80::1,sll=02:00:00:00:00:01)",
     "2"),
    ("in_port(1),eth(src=02:00:00:00:00:08),eth_type(0x86dd),"
     "ipv6(proto=58,frag=no),icmpv6(type=136),nd(tll=02:00:00:00:00:02)",
     "1"),
    ("in_port(1),eth(),eth_type(0x8100),vlan(vid=10,pcp=3),"
     "encap(eth_type(0x0800),ipv4(frag=no))", "pop_vlan,2"),
    ("in_port(2),eth(),eth_type(0x88a8),vlan(vid=100),encap(eth_type(0x8100),"
     "vlan(vid=10),encap(eth_type(0x0800),ipv4(proto=17,frag=no),"
     "udp(dst=4789)))", "1"),
    ("in_port(2),eth(),eth_type(0x8847),mpls(label=101,tc=3,ttl=64,bos=1)",
     "1"),
    ("recirc_id(0x5),dp_hash(0x12/0xff),skb_priority(0x7),"
     "skb_mark(0x10/0xf0),in_port(1),eth(),eth_type(0x0800),"
     "ipv4(frag=first)", "recirc(6)"),
    ("in_port(1),eth(),eth_type(0x1234)", "2"),
    ("in_port(2),eth(src=02:00:00:00:00:09),eth_type(0x0800),"
     "ipv4(proto=132,frag=no),sctp(dst=9)", "push_vlan(vid=10,pcp=3),1"),
    ("in_port(2),eth(src=02:00:00:00:00:0a),eth_type(0x0800),ipv4(frag=no)",
     "push_vlan(tpid=0x88a8,vid=100,pcp=0),push_vlan(vid=5,pcp=0),1"),
    ("in_port(2),eth(src=02:00:00:00:00:0b),eth_type(0x0800),ipv4(frag=no)",
     "sample(sample=50.0%,actions(1)),clone(pop_vlan,2),trunc(100),1"),
    ("in_port(2),eth(src=02:00:00:00:00:0c),eth_type(0x0800),"
     "ipv4(proto=6,frag=no),tcp(),tcp_flags(0/0)",
     "set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)),"
     "set(tcp(dst=7)),set(skb_mark(0x7)),set(ipv4(tos=0x4/0xfc)),1"),
    ("in_port(2),eth(src=02:00:00:00:00:0d),eth_type(0x0800),ipv4(frag=no)",
     "set(tunnel(tun_id=0x5,src=1.1.1.1,dst=2.2.2.2,ttl=64,tp_dst=4789,"
     "flags(df|key))),1"),
    ("tunnel(tun_id=0x8/0xff,dst=2.2.2.2,ttl=64,geneve({class=0x102,"
     "type=0x80,len=4,0xa0b0000/0xffff0000}),flags(-df+csum+key)),"
     "in_port(3),eth(),eth_type(0x0800),ipv4(frag=no)", "1"),
    ("tunnel(tun_id=0x9,src=1.1.1.1,dst=2.2.2.2,ttl=64,"
     "vxlan(gbp(id=10,flags=0x1)),flags(+key)),in_port(3),eth(),"
     "eth_type(0x0800),ipv4(frag=no)", "1"),
    ("in_port(2),eth(src=02:00:00:00:00:0e),eth_type(0x0800),ipv4(frag=no)",
     "check_pkt_len(size=200,gt(1),le(2))"),
    ("in_port(2),eth(src=02:00:00:00:00:0f),eth_type(0x0800),ipv4(frag=no)",
     "userspace(pid=7,slow_path(match)),userspace(pid=8,controller("
     "reason=1,dont_send=0,continuation=0,recirc_id=3,rule_cookie=0x10,"
     "controller_id=0,max_len=65535)),userspace(pid=9,userdata(aabb),"
     "actions),userspace(pid=9,userdata(aabb),tunnel_out_port=1)"),
    ("in_port(2),eth(src=02:00:00:00:00:10),eth_type(0x0800),ipv4(frag=no)",
     "userspace(pid=1,sFlow(vid=5,pcp=1,output=2)),userspace(pid=2,"
     "flow_sample(probability=100,collector_set_id=1,obs_domain_id=2,"
     "obs_point_id=3,output_port=1)),userspace(pid=3,ipfix(output_port=2))"),
    # The test's traffic: ARP, ICMP, TCP both ways.
    ("ufid:11223344-5566-7788-99aa-bbccddeeff00,in_port(1),eth(),"
     "eth_type(0x0806),arp()", "2"),
    ("in_port(2),eth(),eth_type(0x0806),arp()", "1"),
    ("in_port(1),eth(src=02:33:00:00:00:01,dst=02:33:00:00:00:02),"
     "eth_type(0x0800),ipv4(proto=1,frag=no),icmp()", "2"),
    ("ufid:00000001-0002-0003-0004-000000000005,in_port(2),eth(),"
     "eth_type(0x0800),ipv4(src=10.33.0.2,proto=1,frag=no),"
     "icmp(type=0/0xf0)", "1"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(),"
     "tcp_flags(0/0)", "2"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),"
     "tcp(dst=0/0),tcp_flags(0/0)", "1"),
]

# Actions ovs-dpctl 3.1 cannot parse, installed as raw attributes on
# in_port(2),eth(src=02:00:00:00:00:SS),eth_type(0x0800),ipv4(frag=no).
OVS_ACTION_ATTR_HASH, OVS_ACTION_ATTR_PUSH_MPLS = 8, 9
RAW_ACTIONS = [
    hvsnl.attr(OVS_ACTION_ATTR_HASH, struct.pack("=II", 0, 7))
    + hvsnl.attr(7, struct.pack("=I", 2)),                     # recirc(0x2)
    hvsnl.attr(OVS_ACTION_ATTR_PUSH_MPLS,
               struct.pack("!IH2x", (10 << 12) | (1 << 8) | 64, 0x8847))
    + hvsnl.attr_u32(hvsnl.OVS_ACTION_ATTR_OUTPUT, 1),
]


def install_raw(dpd, dp, actions, src_last_byte):
    c = dpd.client()
    try:
        ifindex = c.dp_get(dp)["ifindex"]
        eth = bytes([2, 0, 0, 0, 0, src_last_byte]) + bytes(6)
        key = (hvsnl.attr_u32(hvsnl.OVS_KEY_ATTR_IN_PORT, 2)
               + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERNET, eth)
               + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERTYPE,
                            struct.pack("!H", 0x0800))
               + hvsnl.attr(hvsnl.OVS_KEY_ATTR_IPV4, bytes(12)))
        mask = (hvsnl.attr_u32(hvsnl.OVS_KEY_ATTR_IN_PORT, 0xffffffff)
                + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERNET,
                             b"\xff" * 6 + bytes(6))
                + hvsnl.attr(hvsnl.OVS_KEY_ATTR_ETHERTYPE, b"\xff\xff")
                + hvsnl.attr(hvsnl.OVS_KEY_ATTR_IPV4,
                             bytes(11) + b"\xff"))     # ipv4(frag=no)
        nest = hvsnl.NLA_F_NESTED
        c.ovs("ovs_flow", hvsnl.OVS_FLOW_CMD_NEW, ifindex,
              hvsnl.attr(hvsnl.OVS_FLOW_ATTR_KEY | nest, key)
              + hvsnl.attr(hvsnl.OVS_FLOW_ATTR_MASK | nest, mask)
              + hvsnl.attr(hvsnl.OVS_FLOW_ATTR_ACTIONS | nest, actions),
              flags=hvsnl.NLM_F_CREATE)
    finally:
        c.close()


def tool(dpd, *args):
    env = dict(os.environ)
    env.pop("ASAN_OPTIONS", None)
    p = subprocess.run([TOOL] + list(args) + [dpd.sock, "dp0"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, \
        p.stderr
    return p.stdout.splitlines()


USED = re.compile(r"used:(-?\d+\.\d{3})s")


def compare(ovs_lines, hvs_lines):
    """Identical line by line, except that 'used' may have moved on by
    the time between the two dumps."""
    assert len(ovs_lines) == len(hvs_lines), (ovs_lines, hvs_lines)
    for o, h in zip(ovs_lines, hvs_lines):
        uo, uh = USED.search(o), USED.search(h)
        if uo and uh:
            assert abs(float(uo.group(1)) - float(uh.group(1))) < 5.0
            o = USED.sub("used:X", o)
            h = USED.sub("used:X", h)
        assert o == h, "\novs-dpctl: %s\nhvs:       %s" % (o, h)


@pytest.mark.skipif(not os.path.exists(TOOL), reason="odp-format-dump "
                    "not built")
def test_dump_flows_matches_ovs_dpctl(topo, dpd_factory):
    sw = topo.ns("sw")
    vm1 = topo.vm(sw, "v1", *VM1)
    topo.vm(sw, "v2", *VM2)
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "v1")
    d.dpctl("add-if", "dp0", topo.prefix + "v2")
    for key, actions in FLOWS:
        d.dpctl("add-flow", "dp0", key, actions)
    for i, acts in enumerate(RAW_ACTIONS):
        install_raw(d, "dp0", acts, 0x40 + i)

    # Traffic for packets, bytes, used and TCP flags.
    run(["ping", "-c", "2", "-i", "0.2", "-W", "2", VM2[0]], ns=vm1)
    run(["python3", "-c",
         "import socket\ns = socket.socket()\ns.settimeout(2)\n"
         "try:\n    s.connect(('%s', 9))\nexcept OSError:\n    pass\n"
         % VM2[0]], ns=vm1, check=False)
    time.sleep(0.2)

    n = len(FLOWS) + len(RAW_ACTIONS)
    for args in ([], ["-m"], ["--names"], ["-m", "--no-names"]):
        ovs = d.dpctl("dump-flows", *(args + ["dp0"])).stdout.splitlines()
        assert len(ovs) == n, "\n".join(ovs)
        compare(ovs, tool(d, *args))

    terse = "\n".join(d.dpctl("dump-flows", "dp0").stdout.splitlines())
    # The traffic really was counted, so the stats part was compared with
    # non-trivial values.
    assert re.search(r"packets:[1-9]\d*, bytes:\d+, used:\d+\.\d{3}s, "
                     r"flags:S", terse), terse
    assert "actions:hash(l4(7)),recirc(0x2)" in terse
    assert "push_mpls(label=10,tc=0,ttl=64,bos=1,eth_type=0x8847)" in terse


def normalise(lines):
    return sorted(USED.sub("used:X", line) for line in lines)


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_vswitchd_dpctl_dump_flows(topo, switch_factory):
    """`ovs-appctl dpctl/dump-flows` on hvs-vswitchd prints what ovs-dpctl
    prints for the flows hvs-vswitchd installed."""
    s = switch_factory()
    s.vsctl("add-br", "br0")
    nss = {}
    for name, (ip, mac) in (("a", VM1), ("b", VM2)):
        nss[name] = topo.vm(s.ns, name, ip, mac)
        s.vsctl("add-port", "br0", topo.prefix + name)
    run(["ping", "-c", "3", "-i", "0.2", "-W", "2", VM2[0]], ns=nss["a"])
    run(["python3", "-c",
         "import socket\ns = socket.socket()\ns.settimeout(2)\n"
         "try:\n    s.connect(('%s', 9))\nexcept OSError:\n    pass\n"
         % VM2[0]], ns=nss["a"], check=False)

    for args in ([], ["-m"], ["--names"]):
        # The revalidator may expire or add a flow between the two dumps:
        # retry until both see the same set.
        for attempt in range(5):
            ovs = s.dpd.dpctl("dump-flows", *args).stdout.splitlines()
            hvs = s.appctl("dpctl/dump-flows", *args).stdout.splitlines()
            if normalise(ovs) == normalise(hvs):
                break
            time.sleep(0.2)
        assert ovs, "no flows installed"
        assert normalise(ovs) == normalise(hvs), \
            "\novs-dpctl:\n%s\nhvs-vswitchd:\n%s" % ("\n".join(ovs),
                                                     "\n".join(hvs))
    # Megaflows of NORMAL switching: recirc_id and in_port always shown.
    assert all(line.startswith("recirc_id(0),in_port(")
               for line in s.appctl("dpctl/dump-flows").stdout.splitlines())
    bad = s.appctl("dpctl/dump-flows", "filter=in_port(1)", check=False)
    assert bad.returncode != 0
