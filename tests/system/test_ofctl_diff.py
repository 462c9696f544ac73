"""Differential OpenFlow test: the real ovs-ofctl runs the same commands
against Debian's ovs-vswitchd (netdev datapath, its own ovsdb-server, a
private run directory) and against hvs, in one run, with OpenFlow 1.0
(ovs-ofctl's default, Nicira extensions) and -O OpenFlow13; the outputs,
normalised, must be equal.  Then traffic on hvs follows the rules.

Both switches get the same picture: namespace SW holds ports p1..p3 (veth
peers of eth0 in three VM namespaces, with the same MAC addresses on both
sides) added in the same order, so port names, numbers and MACs agree.

What is allowed to differ is the short, explicit list ACCEPTED below,
each with its reason.  Everything else is a bug in hvs."""
import difflib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from conftest import VSWITCHD, run, stop_process
from test_vswitchd import ping
from ofwire import hdr as _hdr, recv_msg as _recv_msg

OVS_VSWITCHD = shutil.which("ovs-vswitchd") or "/usr/sbin/ovs-vswitchd"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(VSWITCHD),
                       reason="hvs-vswitchd not built"),
    pytest.mark.skipif(not os.path.exists(OVS_VSWITCHD)
                       or not shutil.which("ovs-ofctl"),
                       reason="openvswitch-switch not installed"),
]

VMS = [("a", "10.43.0.1", "02:43:00:00:00:01", "02:43:00:00:01:01"),
       ("b", "10.43.0.2", "02:43:00:00:00:02", "02:43:00:00:01:02"),
       ("c", "10.43.0.3", "02:43:00:00:00:03", "02:43:00:00:01:03")]
VERSIONS = [None, "OpenFlow13"]

# (pattern, replacement, reason): applied to both outputs before they are
# compared.  Keep this list short; each entry needs a reason.
NORMALISE = [
    (r"xid=0x[0-9a-f]+", "xid=X", "transaction ids are the client's"),
    (r"unix:/tmp/[^ ]*/br0\.mgmt", "unix:RUNDIR/br0.mgmt",
     "each switch has its own run directory"),
    (r"^\d{4}-\d\d-\d\dT[0-9:.]+Z\|\d+\|", "TIME|N|",
     "ovs-ofctl's log lines carry the time"),
    (r"failed to connect to socket \((Broken pipe|Protocol error)\)",
     "failed to connect to socket (ERR)",
     "after a failed version negotiation both switches hang up; whether "
     "ovs-ofctl's own error message still went out first is a race"),
    (r"duration[=:][0-9.]+s", "duration=Xs", "time"),
    (r"(idle|hard)_age=[0-9]+", r"\1_age=X", "time"),
    (r"dpid:[0-9a-f]{16}", "dpid:X",
     "the datapath id comes from the bridge's MAC, random per run"),
    (r"LOCAL\(br0\): addr:[0-9a-f:]{17}", "LOCAL(br0): addr:X",
     "the bridge's internal port MAC is random per run"),
]
ACCEPTED = [
    # (command regex, output-line regex, reason)
    (r"^dump-ports( |$)", r"^\s+(rx|tx) pkts=",
     "per-port counters count background traffic of each run"),
    (r"^dump-ports( |$)", r"^\s+duration=",
     "time"),
    (r"^dump-table-features", r"^\s+(instructions|actions|supported on "
     r"Set-Field|arbitrary mask|exact match or wildcard): ",
     "each switch lists what it supports: hvs has no meters, MPLS, "
     "conntrack, NSH or queues, and matches the fields its datapath "
     "extracts (test_table_features_list_what_hvs_does checks hvs's)"),
    (r"^dump-desc", r"^(Manufacturer|Hardware|Software): ",
     "the switch says who made it and its version: hvs is not Open "
     "vSwitch"),
    (r"^meter-features", r"^max_meter:\d+ max_bands:\d+ max_color:0$",
     "the limits are the datapath's: hvs-dpd has the kernel's (200000 "
     "meters of one band), Open vSwitch's userspace datapath 262144 of "
     "8 (test_meter_features_are_the_datapaths checks hvs's)"),
]
# Per command: (command regex, pattern, replacement, reason).
NORMALISE_CMD = [
    (r"^dump-tables", r"lookup=\d+, matched=\d+", "lookup=N, matched=N",
     "lookup counters count each switch's own background lookups"),
]
# Commands whose output lines are compared as a set: (regex, reason).
UNORDERED = [
    (r"^(--no-names |--names |--strict )*dump-flows",
     "without --sort, flows come in the classifier's internal order"),
    (r"^dump-group(s|-stats)",
     "groups come in the order of the switch's group hash table"),
]
# Commands whose output is blocks separated by blank lines, compared as a
# set of blocks: (regex, reason).
UNORDERED_BLOCKS = [
    (r"^(dump-meters?|meter-stats)( |$)",
     "meters come in the order of the switch's meter hash table"),
]
# Differences that are gaps in hvs, not legitimate: listed so that the
# test shows them, each with what is missing.  (command regex, version)
KNOWN_GAPS = [
]


def _ns_env(extra):
    env = dict(os.environ)
    env.update(extra)
    env.pop("ASAN_OPTIONS", None)
    return env


class RealOvs:
    """Debian's ovsdb-server and ovs-vswitchd in namespace 'ns' with a
    private run directory (OVS_RUNDIR), so BRIDGE.mgmt lands there."""

    def __init__(self, ns):
        self.ns = ns
        self.rundir = tempfile.mkdtemp(prefix="hvs-ovs-")
        self.db_sock = os.path.join(self.rundir, "db.sock")
        self.env = _ns_env({"OVS_RUNDIR": self.rundir,
                            "OVS_DBDIR": self.rundir,
                            "OVS_LOGDIR": self.rundir})
        self.procs = []
        db = os.path.join(self.rundir, "conf.db")
        run(["ovsdb-tool", "create", db, OVS_SCHEMA])
        self._start(["ovsdb-server", db, "--remote=punix:" + self.db_sock,
                     "--no-chdir", "--unixctl=" + os.path.join(
                         self.rundir, "ovsdb-server.ctl"),
                     "--log-file=" + os.path.join(self.rundir,
                                                  "ovsdb.log")],
                    self.db_sock)
        self.vsctl("--no-wait", "init")
        self._start([OVS_VSWITCHD, "unix:" + self.db_sock, "--no-chdir",
                     "--unixctl=" + os.path.join(self.rundir,
                                                 "ovs-vswitchd.ctl"),
                     "--log-file=" + os.path.join(self.rundir,
                                                  "ovs-vswitchd.log")],
                    os.path.join(self.rundir, "ovs-vswitchd.ctl"))

    def _start(self, cmd, wait_path):
        err = open(os.path.join(self.rundir, os.path.basename(cmd[0])
                                + ".stderr"), "w+")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns] + cmd,
                             stdout=subprocess.DEVNULL, stderr=err,
                             env=self.env)
        self.procs.append((p, err))
        deadline = time.time() + 20
        while not os.path.exists(wait_path):
            if p.poll() is not None or time.time() > deadline:
                err.flush()
                raise AssertionError("%s did not start: %s" % (
                    cmd[0], open(err.name).read()))
            time.sleep(0.05)

    def vsctl(self, *args, check=True, timeout=30):
        return run(["ovs-vsctl", "--db=unix:" + self.db_sock,
                    "--timeout=%d" % timeout] + list(args), ns=self.ns,
                   check=check, timeout=timeout + 10)

    def log(self):
        path = os.path.join(self.rundir, "ovs-vswitchd.log")
        return open(path).read() if os.path.exists(path) else ""

    def close(self):
        for p, err in reversed(self.procs):
            stop_process(p)
            err.close()
        shutil.rmtree(self.rundir, ignore_errors=True)


@pytest.fixture
def real_ovs(topo):
    made = []

    def make():
        o = RealOvs(topo.ns("ovs"))
        made.append(o)
        return o
    yield make
    for o in made:
        o.close()


def wire(topo, sw, tag):
    """Adds br0 with ports p1..p3 to switch 'sw' (either kind), each the
    peer of eth0 in a VM namespace PREFIX+tag+name.  Returns the VM
    namespaces by name."""
    extra = []
    if isinstance(sw, RealOvs):
        extra = ["--", "set", "bridge", "br0", "datapath_type=netdev"]
    sw.vsctl("add-br", "br0", *extra)
    nss = {}
    for i, (name, ip, mac, port_mac) in enumerate(VMS):
        ns = topo.ns(tag + name)
        port = "p%d" % (i + 1)
        topo.veth(ns, "eth0", sw.ns, port)
        run(["ip", "link", "set", "eth0", "address", mac], ns=ns)
        run(["ip", "link", "set", port, "address", port_mac], ns=sw.ns)
        run(["ip", "addr", "add", ip + "/24", "dev", "eth0"], ns=ns)
        sw.vsctl("add-port", "br0", port)
        nss[name] = ns
    deadline = time.time() + 10
    while not os.path.exists(os.path.join(sw.rundir, "br0.mgmt")):
        assert time.time() < deadline, "no br0.mgmt"
        time.sleep(0.1)
    for i in range(len(VMS)):
        ofport = sw.vsctl("get", "Interface", "p%d" % (i + 1),
                          "ofport").stdout.strip()
        assert ofport == str(i + 1), ofport
    return nss


def ofctl(sw, args, version=None, check=True, stdin=None):
    """Runs 'ovs-ofctl [OPTS] CMD unix:RUNDIR/br0.mgmt [ARGS]'."""
    cmd = ["ovs-ofctl"]
    if version:
        cmd += ["-O", version]
    args = list(args)
    while args and args[0].startswith("--"):
        cmd.append(args.pop(0))
    cmd += [args[0], "unix:" + os.path.join(sw.rundir, "br0.mgmt")]
    cmd += args[1:]
    return run(cmd, ns=sw.ns, check=check, timeout=30)


def normalise(text):
    for pat, rep, _ in NORMALISE:
        text = re.sub(pat, rep, text, flags=re.M)
    return text


def accepted(cmd, line):
    return any(re.search(c, cmd) and re.search(l_, line)
               for c, l_, _ in ACCEPTED)


def _sort_blocks(lines):
    """The header line, then the blank-line separated blocks sorted."""
    blocks, cur = [], []
    for x in lines[1:]:
        if x.strip():
            cur.append(x)
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    return lines[:1] + ["\n".join(b) for b in sorted(blocks)]


def compare(cmd, a, b):
    """Returns the unified diff of hvs output 'a' against real Open
    vSwitch output 'b', without the accepted lines."""
    for c, pat, rep, _ in NORMALISE_CMD:
        if re.search(c, cmd):
            a, b = re.sub(pat, rep, a), re.sub(pat, rep, b)
    la = [x for x in normalise(a).splitlines() if not accepted(cmd, x)]
    lb = [x for x in normalise(b).splitlines() if not accepted(cmd, x)]
    if any(re.search(c, cmd) for c, _ in UNORDERED):
        la, lb = la[:1] + sorted(la[1:]), lb[:1] + sorted(lb[1:])
    if any(re.search(c, cmd) for c, _ in UNORDERED_BLOCKS):
        la, lb = _sort_blocks(la), _sort_blocks(lb)
    if la == lb:
        return ""
    return "\n".join(difflib.unified_diff(lb, la, "ovs-vswitchd", "hvs",
                                          lineterm=""))


class Pair:
    """The two switches, driven in lock step."""

    def __init__(self, hvs, ovs, version):
        self.hvs, self.ovs, self.version = hvs, ovs, version
        self.diffs = []

    def both(self, *args, check=True, compare_output=True):
        label = " ".join(a for a in args if not a.startswith("/"))
        for c, v, _ in KNOWN_GAPS:
            if re.search(c, label) and v == self.version:
                return ""
        outs = []
        for sw in (self.hvs, self.ovs):
            p = ofctl(sw, args, version=self.version, check=False)
            outs.append(p)
        h, o = outs
        if h.returncode != o.returncode:
            self.diffs.append("%s: exit %d (hvs) vs %d (ovs)\nhvs: %s\n"
                              "ovs: %s" % (label, h.returncode, o.returncode,
                                           h.stderr.strip(),
                                           o.stderr.strip()))
        elif check and o.returncode:
            self.diffs.append("%s: failed on both: %s" % (label, o.stderr))
        if compare_output:
            d = compare(label, h.stdout + h.stderr, o.stdout + o.stderr)
            if d:
                self.diffs.append("%s:\n%s" % (label, d))
        return h.stdout

    def check(self):
        assert not self.diffs, "\n\n".join(
            "[%s] %s" % (self.version or "OpenFlow10", d)
            for d in self.diffs)


def make_pair(topo, switch_factory, real_ovs, version):
    hvs = switch_factory()
    ovs = real_ovs()
    hvs_vms = wire(topo, hvs, "h")
    wire(topo, ovs, "o")
    return Pair(hvs, ovs, version), hvs_vms


GROUPS = [
    "group_id=1,type=all,bucket=output:1,bucket=output:2",
    "group_id=2,type=select,bucket=weight:100,output:2,"
    "bucket=weight:100,output:3",
    "group_id=3,type=indirect,bucket=output:3",
    "group_id=4,type=fast_failover,bucket=watch_port:1,output:1,"
    "bucket=watch_port:2,output:2",
]


@pytest.mark.parametrize("version", VERSIONS)
def test_ofctl_same_as_ovs(topo, switch_factory, real_ovs, version):
    pair, _ = make_pair(topo, switch_factory, real_ovs, version)
    both = pair.both
    both("show")
    both("dump-desc")
    both("dump-flows")
    both("dump-tables")
    both("dump-table-features", check=version is not None)
    both("meter-features", check=version is not None)
    both("dump-ports-desc")
    both("dump-ports-desc", "2")
    both("dump-ports")
    both("dump-ports", "2")

    both("add-flow", "priority=100,in_port=1,actions=output:2")
    both("add-flow", "table=0,priority=50,ip,nw_dst=10.0.0.1,"
         "actions=mod_dl_dst:00:11:22:33:44:55,output:1")
    both("add-flow", "table=1,priority=10,reg0=5,actions=resubmit(,2)")
    both("add-flow", "cookie=0x42,priority=7,tcp,tp_dst=80,actions=drop")
    both("add-flow", "priority=60,udp,nw_src=10.0.0.0/8,tp_src=53,"
         "actions=mod_nw_dst:10.1.2.3,mod_tp_dst:5353,output:3")
    both("add-flow", "priority=70,dl_vlan=10,actions=strip_vlan,output:2")
    both("add-flow", "priority=71,in_port=3,dl_src=02:43:00:00:00:03,"
         "actions=mod_vlan_vid:20,output:1")
    both("add-flow", "idle_timeout=300,hard_timeout=600,priority=5,arp,"
         "arp_tpa=10.43.0.9,actions=NORMAL")
    # Registers: load (whole and partial), move, 1.3 set_field to a
    # register (a load over 1.0), register matches with masks.
    both("add-flow", "table=2,priority=20,ip,actions=load:0x5->NXM_NX_REG0[],"
         "load:0x3->NXM_NX_REG1[8..15],move:NXM_OF_IP_SRC[]->NXM_NX_REG2[],"
         "resubmit(,3)")
    both("add-flow", "table=3,priority=20,reg0=5,reg1=0x300/0xff00,"
         "actions=move:NXM_NX_REG2[0..15]->NXM_OF_ETH_DST[0..15],"
         "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:2")
    both("add-flow", "table=3,priority=10,reg2=0x0a000001,"
         "actions=set_field:7->reg3,load:0x1->NXM_OF_VLAN_TCI[12],"
         "load:0xa->NXM_NX_TUN_ID[],output:1")
    # Metadata and packet mark (1.0: loads of OXM_OF_METADATA and
    # NXM_NX_PKT_MARK), matched in the next table.
    both("add-flow", "table=4,priority=5,ip,actions=set_field:0x5->metadata,"
         "load:0x3->NXM_NX_PKT_MARK[],resubmit(,5)")
    both("add-flow", "table=5,priority=5,metadata=0x5,pkt_mark=0x3,"
         "actions=output:2")
    # learn: the common forms (MAC learning; an IP pair with an
    # immediate load), printed back as they were given.
    both("add-flow", "table=6,priority=5,actions=learn(table=7,"
         "hard_timeout=60,priority=7,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
         "load:NXM_OF_IN_PORT[]->NXM_NX_REG1[0..15],"
         "output:NXM_OF_IN_PORT[]),resubmit(,7)")
    both("add-flow", "table=6,priority=6,ip,actions=learn(table=7,"
         "idle_timeout=10,cookie=0x9,send_flow_rem,eth_type=0x800,"
         "NXM_OF_IP_DST[]=NXM_OF_IP_SRC[],load:0x5->NXM_NX_REG2[],"
         "NXM_OF_VLAN_TCI[0..11]),output:1")
    # set_field that OpenFlow 1.0 has no action for: ovs-ofctl sends
    # NXAST_REG_LOADs (one per 64 bits, one per run of mask bits), and a
    # switch dumps them back that way over 1.0.
    both("add-flow", "table=8,priority=5,ipv6,actions=set_field:fe80::1"
         "->ipv6_src,set_field:0x5/0x5->reg0,set_field:0x1/0xff->reg4,"
         "set_field:0x3->pkt_mark,set_field:0x9->tun_id,output:1")
    both("add-flow", "table=8,priority=6,ip,actions=set_field:10.0.0.9"
         "->ip_dst,set_field:5->ip_dscp,set_field:0x77->metadata")
    both("dump-flows", "table=8")
    # ... and dumped in the other version (1.0 rules carry RESET_COUNTS
    # over 1.3; 1.3 set_fields become loads over 1.0).
    pair.version = "OpenFlow13" if version is None else None
    both("dump-flows", "table=8")
    pair.version = version
    both("dump-flows", "table=6")
    both("dump-flows", "table=3")
    both("--sort", "dump-flows", "table=4")
    both("dump-flows", "table=5")
    both("dump-flows", "reg0=5")
    both("--no-names", "dump-flows")
    both("--sort", "dump-flows")
    both("dump-flows", "table=1")
    both("dump-flows", "in_port=1")
    both("dump-flows", "ip")
    both("dump-flows", "cookie=0x42/-1")
    both("--strict", "dump-flows", "in_port=1")
    both("dump-flows", "out_port=2")
    both("dump-aggregate")
    both("dump-aggregate", "table=0")
    both("dump-aggregate", "ip")
    both("--rsort", "dump-flows")
    both("--sort=priority", "dump-flows")
    both("--rsort=priority", "dump-flows", "table=3")
    both("--names", "dump-flows")
    both("--names", "--sort", "dump-flows", "in_port=p1")

    both("mod-flows", "in_port=1,actions=output:3")
    both("--strict", "mod-flows", "priority=100,in_port=1,actions=output:2")
    both("mod-flows", "cookie=0x42/-1,actions=output:1")
    both("--sort", "dump-flows")

    both("--strict", "del-flows", "tcp,tp_dst=80")
    both("--sort", "dump-flows")
    both("--strict", "del-flows", "priority=7,tcp,tp_dst=80")
    both("del-flows", "in_port=1")
    both("del-flows", "ip")
    both("--sort", "dump-flows")
    both("dump-aggregate")
    both("del-flows")
    both("dump-flows")

    path = {}
    for sw in (pair.hvs, pair.ovs):
        path[sw] = os.path.join(sw.rundir, "flows.txt")
        with open(path[sw], "w") as f:
            for i in range(300):
                f.write("priority=%d,ip,nw_src=10.1.%d.%d,actions=drop\n"
                        % (1000 + i, i // 256, i % 256))
            f.write("table=3,priority=1,actions=drop\n")
    for sw in (pair.hvs, pair.ovs):
        p = ofctl(sw, ["add-flows", path[sw]], version=version, check=False)
        if p.returncode:
            pair.diffs.append("add-flows on %s: %s" % (
                "hvs" if sw is pair.hvs else "ovs", p.stderr))
    both("--sort", "dump-flows")
    both("dump-aggregate")
    both("dump-tables")
    both("del-flows")

    # Ports: down and up again.
    both("mod-port", "p2", "down")
    both("dump-ports-desc", "p2")
    both("show")
    both("mod-port", "p2", "up")
    both("dump-ports-desc", "p2")
    # The port config bits that are the switch's own: reported in
    # port-desc (NO_FLOOD only in 1.0, which has the bit) and undone.
    for bit in ("no-flood", "no-forward", "no-packet-in", "no-receive"):
        both("mod-port", "p2", bit)
        both("dump-ports-desc", "p2")
    both("show")
    for bit in ("flood", "forward", "packet-in", "receive"):
        both("mod-port", "p2", bit)
    both("dump-ports-desc", "p2")

    # Switch config: fragment handling is the switch's, not the
    # connection's (each ovs-ofctl command is a new connection);
    # reassembly is offered by neither.
    both("get-frags")
    for mode in ("drop", "nx-match", "reassemble", "normal"):
        both("set-frags", mode, check=mode != "reassemble")
        both("get-frags")

    # Queues: there are none, on any port.
    both("queue-stats")
    both("queue-stats", "2")
    both("queue-get-config")
    both("queue-get-config", "2")

    # Packet-out.
    frame = "024300000002024300000001" "88b5" + "00" * 46
    both("packet-out", "in_port=controller,packet=%s,actions=output:2"
         % frame)
    both("packet-out", "in_port=1,packet=%s,actions=FLOOD" % frame)

    # Groups: OpenFlow 1.3's, and over OpenFlow 1.0 Open vSwitch's
    # extension (NXT_GROUP_MOD and NXST_GROUP*, OpenFlow 1.5 buckets with
    # ids, the NXAST group action).
    for g in GROUPS:
        both("add-group", g)
    both("dump-groups")
    both("dump-groups", "2")
    both("dump-group-stats")
    both("dump-group-stats", "group_id=2")
    both("dump-group-features")
    both("add-flow", "priority=90,ip,actions=group:2")
    both("add-flow", "priority=91,ip,actions=group:99", check=False)
    both("dump-flows")
    both("mod-group", "group_id=3,type=indirect,bucket=output:2")
    both("dump-groups", "3")
    both("mod-group", "group_id=8,type=indirect,bucket=output:2",
         check=False)                                   # no such group
    both("--may-create", "mod-group",
         "group_id=8,type=indirect,bucket=output:1")
    both("dump-groups", "8")
    # Bucket edits (OpenFlow 1.5's; over 1.0 only): first, last, after
    # a bucket id; removal of the first, last, one id, all; errors.
    of10 = version is None
    for edit, ok in (
            ("insert-buckets group_id=1,command_bucket_id=first,"
             "bucket=bucket_id:5,output:3", True),
            ("insert-buckets group_id=1,command_bucket_id=last,"
             "bucket=bucket_id:6,output:3", True),
            ("insert-buckets group_id=1,command_bucket_id=0,"
             "bucket=bucket_id:7,output:2,bucket=bucket_id:8,output:1",
             True),
            ("insert-buckets group_id=1,command_bucket_id=last,"
             "bucket=bucket_id:7,output:2", False),     # id exists
            ("insert-buckets group_id=1,command_bucket_id=42,"
             "bucket=bucket_id:9,output:2", False),     # no bucket 42
            ("insert-buckets group_id=3,command_bucket_id=last,"
             "bucket=bucket_id:9,output:2", True),
            ("remove-buckets group_id=1,command_bucket_id=first", True),
            ("remove-buckets group_id=1,command_bucket_id=last", True),
            ("remove-buckets group_id=1,command_bucket_id=8", True),
            ("remove-buckets group_id=1,command_bucket_id=8", False),
            ("remove-buckets group_id=77,command_bucket_id=all", False)):
        cmd, arg = edit.split(" ", 1)
        both(cmd, arg, check=of10 and ok)
        both("dump-groups", "1")
    both("dump-group-stats", "group_id=1")
    both("remove-buckets", "group_id=1,command_bucket_id=all",
         check=of10)
    both("dump-groups", "1")
    both("add-group", GROUPS[0], check=False)       # exists
    both("add-group", "group_id=9,type=indirect,bucket=output:1,"
         "bucket=output:2", check=False)            # indirect: one bucket
    both("del-groups", "group_id=3", check=False)
    both("dump-groups")
    both("dump-group-stats")
    both("del-flows")
    both("del-groups")
    both("dump-groups")

    # Meters (OpenFlow 1.3 only: over 1.0 ovs-ofctl refuses them itself,
    # which is compared too).  The metered rules match traffic nobody
    # sends, so that the counters agree.
    of13 = version is not None
    for m in METERS:
        both("add-meter", m, check=of13)
    both("dump-meters", check=of13)
    both("dump-meter", "meter=2", check=of13)
    both("meter-stats", check=of13)
    both("meter-stats", "meter=2", check=of13)
    for m, why in METER_ERRORS:
        both(*m.split(" ", 1), check=False)
    both("mod-meter", "meter=1,kbps,burst,band=type=drop,rate=100,"
         "burst_size=20", check=of13)
    both("dump-meter", "meter=1", check=of13)
    both("add-flow", "priority=95,tcp,tp_dst=9999,actions=meter:1,output:2",
         check=of13)
    both("add-flow", "priority=94,udp,tp_dst=9999,actions=meter:2,"
         "goto_table:2", check=of13)
    both("add-flow", "table=1,priority=94,udp,tp_dst=9999,actions=meter:3,"
         "write_metadata:0x5/0xff,goto_table:4", check=of13)
    both("add-flow", "priority=96,tcp,actions=meter:9,output:2",
         check=False)                               # no meter 9
    both("--sort", "dump-flows")
    both("meter-stats", check=of13)
    both("del-meter", "meter=1", check=of13)        # takes its rule
    both("--sort", "dump-flows")
    both("dump-meters", check=of13)
    both("del-meters", check=of13)
    both("--sort", "dump-flows")
    both("dump-meters", check=of13)
    both("meter-stats", check=of13)
    pair.check()


METERS = [
    "meter=1,pktps,band=type=drop,rate=10",
    "meter=2,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100",
    "meter=3,pktps,stats,band=type=drop,rate=7",
    "meter=4,kbps,stats,band=type=drop,rate=64",
    "meter=controller,pktps,band=type=drop,rate=100",
]
METER_ERRORS = [
    ("add-meter meter=1,pktps,band=type=drop,rate=10", "exists"),
    ("mod-meter meter=7,pktps,band=type=drop,rate=10", "unknown"),
    ("add-meter meter=5,pktps,band=type=dscp_remark,rate=10,prec_level=1",
     "no datapath of either switch remarks DSCP"),
    ("dump-meter meter=77", "unknown"),
    ("meter-stats meter=77", "unknown"),
    ("del-meter meter=77", "deleting a missing meter is no error"),
]


@pytest.mark.parametrize("version", ["OpenFlow14", "OpenFlow15",
                                     "OpenFlow13,OpenFlow14,OpenFlow15",
                                     "OpenFlow10,OpenFlow14"])
def test_version_fallback_same_as_ovs(topo, switch_factory, real_ovs,
                                      version):
    """A client that offers 1.4 or 1.5 gets the highest version both
    speak, and one that offers only versions the switch lacks is refused
    at hello.  Open vSwitch speaks 1.0 to 1.5; to compare, its bridge is
    limited to what hvs speaks (protocols=OpenFlow10,OpenFlow13), which
    also applies to its management socket."""
    pair, _ = make_pair(topo, switch_factory, real_ovs, version)
    pair.ovs.vsctl("set", "bridge", "br0",
                   "protocols=OpenFlow10,OpenFlow13")
    time.sleep(1)
    both = pair.both
    for args in (["show"], ["dump-flows"], ["add-flow", "priority=5,ip,"
                 "actions=drop"], ["--sort", "dump-flows"],
                 ["dump-ports-desc", "1"]):
        both(*args, check="," in version)
    for sw in (pair.hvs, pair.ovs):
        assert os.path.exists(os.path.join(sw.rundir, "br0.mgmt"))
    pair.check()


FRAME_A_TO_B = bytes.fromhex("024300000002" "024300000001" "88b5"
                             + "ab" * 46)
FRAME_B_TO_A_TAGGED = bytes.fromhex("024300000001" "024300000002"
                                    "8100" "0007" "88b5" + "cd" * 46)


def _capture(ns, bpf):
    """Starts tcpdump on eth0 of 'ns' for one frame matching 'bpf'."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, "timeout", "5",
                          "tcpdump", "-l", "-c", "1", "-nn", "-e", "-i",
                          "eth0", bpf], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # tcpdump says "listening on" once the filter is in place.
    deadline = time.time() + 5
    line = ""
    while "listening" not in line and time.time() < deadline:
        line = p.stderr.readline()
    return p


def _captured(p):
    out, _ = p.communicate(timeout=10)
    return out


def _send_raw(ns, frame, count=3):
    code = ("import socket,sys,time\n"
            "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
            "s.bind(('eth0',0))\n"
            "for _ in range(%d):\n"
            "    s.send(bytes.fromhex(sys.argv[1])); time.sleep(0.1)\n"
            % count)
    run(["python3", "-c", code, frame.hex()], ns=ns)


def _monitor(sw, version):
    """Starts 'ovs-ofctl monitor BR 65534' (a miss_send_len, so the
    service connection gets asynchronous messages)."""
    cmd = ["ip", "netns", "exec", sw.ns, "env", "OVS_RUNDIR=" + sw.rundir,
           "ovs-ofctl"]
    if version:
        cmd += ["-O", version]
    cmd += ["monitor", "unix:" + os.path.join(sw.rundir, "br0.mgmt"),
            "65534"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    time.sleep(1)
    return p


@pytest.mark.parametrize("version", VERSIONS)
def test_async_messages_same_as_ovs(topo, switch_factory, real_ovs,
                                    version):
    """Flow-removed (delete, hard timeout) and port-status messages that
    ovs-ofctl monitor prints, on both switches."""
    pair, _ = make_pair(topo, switch_factory, real_ovs, version)
    mons = [_monitor(sw, version) for sw in (pair.hvs, pair.ovs)]
    try:
        pair.both("add-flow", "send_flow_rem,priority=9,cookie=0x7,"
                  "ip,nw_dst=10.9.9.9,actions=drop")
        pair.both("add-flow", "send_flow_rem,hard_timeout=1,priority=8,"
                  "tcp,actions=drop")
        pair.both("add-flow", "priority=7,udp,actions=drop")
        pair.both("del-flows", "ip,nw_dst=10.9.9.9")
        pair.both("mod-port", "p2", "down")
        time.sleep(3)
        pair.both("mod-port", "p2", "up")
        time.sleep(2)
    finally:
        outs = []
        for p in mons:
            p.send_signal(signal.SIGTERM)
            outs.append(p.communicate(timeout=10)[0])
    # Each message's text, in order; the deletes of one flow-mod come in
    # the order of each switch's classifier.
    a, b = (normalise(o) for o in outs)
    a = re.sub(r"duration[0-9.]+s", "durationXs", a)
    b = re.sub(r"duration[0-9.]+s", "durationXs", b)
    d = "\n".join(difflib.unified_diff(b.splitlines(), a.splitlines(),
                                       "ovs-vswitchd", "hvs", lineterm=""))
    assert not d, d
    assert "FLOW_REMOVED" in a and "reason=delete" in a, a
    assert "reason=hard" in a and "PORT_STATUS" in a, a


def _dpflows(sw):
    return sw.appctl("dpctl/dump-flows").stdout


def _wait_ping(ns, ip, ok=True):
    p = ping(ns, ip, count=2, check=False)
    return (p.returncode == 0) == ok


@pytest.mark.parametrize("version", VERSIONS)
def test_traffic_follows_rules(topo, switch_factory, version):
    hvs = switch_factory()
    nss = wire(topo, hvs, "h")
    a, b, c = nss["a"], nss["b"], nss["c"]

    def of(*args):
        p = ofctl(hvs, args, version=version)
        return p.stdout

    ping(a, "10.43.0.2")
    # Drop.
    of("add-flow", "priority=100,icmp,actions=drop")
    assert _wait_ping(a, "10.43.0.2", ok=False)
    of("del-flows", "icmp")
    # Output only: a <-> b, c cut off.
    of("del-flows")
    of("add-flow", "in_port=1,actions=output:2")
    of("add-flow", "in_port=2,actions=output:1")
    ping(a, "10.43.0.2")
    assert _wait_ping(a, "10.43.0.3", ok=False)

    # Registers steer the pipeline: a's frames go to b through reg0, b's
    # to a through the input port moved into reg1; c is cut off.
    of("del-flows")
    of("add-flow", "in_port=1,actions=load:2->NXM_NX_REG0[],resubmit(,1)")
    of("add-flow", "in_port=2,actions=move:NXM_OF_IN_PORT[]->"
       "NXM_NX_REG1[0..15],load:1->NXM_NX_REG0[],resubmit(,1)")
    of("add-flow", "table=1,reg0=2,actions=output:2")
    of("add-flow", "table=1,reg0=1,reg1=2,actions=output:1")
    ping(a, "10.43.0.2")
    assert _wait_ping(a, "10.43.0.3", ok=False)

    # Rewrite: a pings 10.43.0.99, the switch rewrites it to b's address
    # on the way and back again on the reply.
    of("del-flows")
    of("add-flow", "priority=10,arp,actions=NORMAL")
    run(["ip", "neigh", "replace", "10.43.0.99", "lladdr",
         "02:43:00:00:00:02", "dev", "eth0", "nud", "permanent"], ns=a)
    if version:
        of("add-flow", "priority=100,ip,in_port=1,nw_dst=10.43.0.99,"
           "actions=set_field:10.43.0.2->ip_dst,output:2")
        of("add-flow", "priority=100,ip,in_port=2,nw_src=10.43.0.2,"
           "actions=set_field:10.43.0.99->ip_src,output:1")
    else:
        of("add-flow", "priority=100,ip,in_port=1,nw_dst=10.43.0.99,"
           "actions=mod_nw_dst:10.43.0.2,output:2")
        of("add-flow", "priority=100,ip,in_port=2,nw_src=10.43.0.2,"
           "actions=mod_nw_src:10.43.0.99,output:1")
    p = ping(a, "10.43.0.99", check=False)
    assert p.returncode == 0, "%s\n%s" % (p.stdout, _dpflows(hvs))

    # VLAN push: a's frames reach b tagged with VLAN 7 (b has no VLAN
    # device, so the tag is seen on the wire with tcpdump).
    of("del-flows")
    if version:
        of("add-flow", "in_port=1,actions=push_vlan:0x8100,"
           "set_field:4103->vlan_vid,output:2")
    else:
        of("add-flow", "in_port=1,actions=mod_vlan_vid:7,output:2")
    cap = _capture(b, "vlan 7 and ether proto 0x88b5")
    _send_raw(a, FRAME_A_TO_B)
    out = _captured(cap)
    assert "vlan 7" in out, "%s\n%s" % (out, _dpflows(hvs))
    # VLAN pop: b's tagged frames reach a untagged.
    if version:
        of("add-flow", "in_port=2,dl_vlan=7,actions=pop_vlan,output:1")
    else:
        of("add-flow", "in_port=2,dl_vlan=7,actions=strip_vlan,output:1")
    cap = _capture(a, "ether proto 0x88b5 and not vlan")
    _send_raw(b, FRAME_B_TO_A_TAGGED)
    out = _captured(cap)
    assert "0x88b5" in out or "length" in out, "%s\n%s" % (
        out, _dpflows(hvs))

    # Groups (over 1.0 through Open vSwitch's extension): 'all' copies
    # a's packets to b and c.
    of("del-flows")
    of("add-group", "group_id=1,type=all,bucket=output:2,bucket=output:3")
    of("add-flow", "in_port=1,actions=group:1")
    of("add-flow", "in_port=2,actions=output:1")
    of("add-flow", "in_port=3,actions=output:1")
    rx_c = int(run(["cat", "/sys/class/net/eth0/statistics/rx_packets"],
                   ns=c).stdout)
    ping(a, "10.43.0.2")
    rx_c2 = int(run(["cat", "/sys/class/net/eth0/statistics/rx_packets"],
                    ns=c).stdout)
    assert rx_c2 >= rx_c + 3, (rx_c, rx_c2)
    stats = of("dump-group-stats")
    assert "group_id=1" in stats and "packet_count=0" not in stats, stats

    # 'select' spreads flows over its buckets: both reach a's peers,
    # since each bucket leads to a port whose VM answers (b and c share
    # an address for the test: c also gets 10.43.0.2).
    of("del-flows")
    of("add-group", "group_id=2,type=select,bucket=output:2,"
       "bucket=output:3")
    run(["ip", "addr", "add", "10.43.0.2/24", "dev", "eth0"], ns=c)
    run(["ip", "link", "set", "eth0", "address", "02:43:00:00:00:02"],
        ns=c)
    of("add-flow", "in_port=1,actions=group:2")
    of("add-flow", "in_port=2,actions=output:1")
    of("add-flow", "in_port=3,actions=output:1")
    for _ in range(3):
        ping(a, "10.43.0.2", count=1)
    out = of("dump-group-stats", "group_id=2")
    assert "group_id=2" in out and "group_id=1" not in out, out
    buckets = re.findall(r"bucket\d+:packet_count=(\d+)", out)
    assert len(buckets) == 2 and sum(map(int, buckets)) > 0, out


def _ping_ok(ns, ip, size=None, tries=3):
    """Whether 'ns' reaches 'ip'.  Datapath flows are revalidated after
    a change in the background (as in Open vSwitch, not before the
    barrier reply), and a neighbour entry that failed is resolved again,
    so a ping that should pass gets a few tries; one that should fail
    fails every one of them."""
    cmd = ["ping", "-c", "2", "-i", "0.2", "-W", "2", ip]
    if size:
        cmd[1:1] = ["-s", str(size)]
    time.sleep(0.3)
    for _ in range(tries):
        if run(cmd, ns=ns, check=False, timeout=30).returncode == 0:
            return True
    return False


def _flush_arp(*nss):
    for ns in nss:
        run(["ip", "neigh", "flush", "dev", "eth0"], ns=ns)


@pytest.mark.parametrize("version", VERSIONS)
def test_port_config_and_frags_steer_traffic(topo, switch_factory,
                                              version):
    """mod-port no-forward / no-receive / no-flood and set-frags drop
    change what the switch forwards (NORMAL here), and undoing them
    restores it."""
    hvs = switch_factory()
    nss = wire(topo, hvs, "h")
    a, b = nss["a"], nss["b"]

    def of(*args):
        return ofctl(hvs, args, version=version).stdout

    assert _ping_ok(a, "10.43.0.2")
    of("mod-port", "p2", "no-forward")
    assert not _ping_ok(a, "10.43.0.2", tries=1)
    of("mod-port", "p2", "forward")
    assert _ping_ok(a, "10.43.0.2")
    of("mod-port", "p1", "no-receive")
    assert not _ping_ok(a, "10.43.0.2", tries=1)
    of("mod-port", "p1", "receive")
    assert _ping_ok(a, "10.43.0.2")
    if version is None:
        # NO_FLOOD is a 1.0 bit: b never hears a's ARP broadcast.
        of("mod-port", "p2", "no-flood")
        _flush_arp(a, b)
        assert not _ping_ok(a, "10.43.0.2", tries=1)
        assert "NO_FLOOD" in of("dump-ports-desc", "p2")
        of("mod-port", "p2", "flood")
        assert _ping_ok(a, "10.43.0.2")

    # IP fragments: a 3000-byte ping is fragmented on a 1500-byte MTU.
    assert _ping_ok(a, "10.43.0.2", size=3000)
    of("set-frags", "drop")
    assert of("get-frags").strip() == "drop"
    assert _ping_ok(a, "10.43.0.2")
    assert not _ping_ok(a, "10.43.0.2", size=3000, tries=1)
    of("set-frags", "normal")
    assert _ping_ok(a, "10.43.0.2", size=3000)


@pytest.mark.parametrize("version", VERSIONS)
def test_learn_steers_traffic(topo, switch_factory, version):
    """A MAC-learning pipeline made of learn: table 0 learns where each
    source lives into table 1 and resubmits there; table 1 floods what it
    does not know.  The learnt rules appear in dump-flows, and once they
    are there a's pings to b no longer reach c."""
    hvs = switch_factory()
    nss = wire(topo, hvs, "h")
    a, c = nss["a"], nss["c"]

    def of(*args):
        return ofctl(hvs, args, version=version).stdout

    of("del-flows")
    of("add-flow", "table=0,priority=1,actions=learn(table=1,"
       "hard_timeout=60,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
       "output:NXM_OF_IN_PORT[]),resubmit(,1)")
    of("add-flow", "table=1,priority=0,actions=FLOOD")
    assert _ping_ok(a, "10.43.0.2")
    deadline = time.time() + 5
    while True:
        flows = of("dump-flows", "table=1")
        learnt = [x for x in flows.splitlines() if "dl_dst=" in x]
        if len(learnt) >= 2 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert any("hard_timeout=60" in x and "dl_dst=02:43:00:00:00:01" in x
               and "actions=output:1" in x for x in learnt), flows
    assert any("dl_dst=02:43:00:00:00:02" in x and "actions=output:2" in x
               for x in learnt), flows
    # Steering: unicast between a and b stays off c's port.
    _ping_ok(a, "10.43.0.2")
    rx = int(run(["cat", "/sys/class/net/eth0/statistics/rx_packets"],
                 ns=c).stdout)
    assert _ping_ok(a, "10.43.0.2")
    rx2 = int(run(["cat", "/sys/class/net/eth0/statistics/rx_packets"],
                  ns=c).stdout)
    assert rx2 - rx <= 1, (rx, rx2, _dpflows(hvs))
    stats = of("dump-flows", "table=1,dl_dst=02:43:00:00:00:02")
    assert "n_packets=0," not in stats, stats


_TCP_SENDER = r"""
import socket, struct, sys
flags = int(sys.argv[1], 0)
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = socket.inet_aton("10.43.0.1"), socket.inet_aton("10.43.0.2")
tcp = struct.pack("!HHIIBBHHH", 1000, 80, 1, 0, 5 << 4, flags, 1000, 0, 0)
ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                 src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
eth = bytes.fromhex("024300000002" "024300000001") + b"\x08\x00"
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(eth + ip + tcp)
"""


def _send_tcp(ns, flags):
    """One TCP segment 10.43.0.1:1000 -> 10.43.0.2:80 with 'flags' out of
    eth0 of VM namespace 'ns' (a's), whatever the kernel thinks."""
    run(["/usr/bin/python3", "-c", _TCP_SENDER, hex(flags)], ns=ns)


def _wait_both(pair, args, pred, timeout=10):
    deadline = time.time() + timeout
    for sw in (pair.hvs, pair.ovs):
        while not pred(ofctl(sw, args, version=pair.version).stdout):
            assert time.time() < deadline, (
                "hvs" if sw is pair.hvs else "ovs",
                ofctl(sw, args, version=pair.version).stdout)
            time.sleep(0.2)


LEARN_CONN = (
    "table=0,priority=10,tcp,actions="
    "learn(table=1,idle_timeout=60,hard_timeout=120,fin_idle_timeout=5,"
    "fin_hard_timeout=10,priority=5,cookie=0x77,delete_learned,"
    "eth_type=0x800,nw_proto=6,NXM_OF_IP_SRC[],NXM_OF_IP_DST[],"
    "NXM_OF_TCP_SRC[],NXM_OF_TCP_DST[],output:NXM_OF_IN_PORT[]),"
    "learn(table=2,idle_timeout=30,fin_idle_timeout=3,cookie=0x88,"
    "eth_type=0x800,NXM_OF_IP_SRC[],output:NXM_OF_IN_PORT[]),"
    "resubmit(,1)")


@pytest.mark.parametrize("version", VERSIONS)
def test_learn_fin_timeout_and_delete_learned_same_as_ovs(
        topo, switch_factory, real_ovs, version):
    """learn's fin_idle_timeout/fin_hard_timeout give the learned rule a
    fin_timeout action, and a TCP FIN it sees shortens its timeouts (it
    then idles out in 5 s); delete_learned makes deleting the learning
    rule delete what it learned: every rule of the learned table with the
    learned cookie, and nothing else.  The same on hvs as on Open
    vSwitch, with real packets through both."""
    hvs, ovs = switch_factory(), real_ovs()
    a = {hvs: wire(topo, hvs, "h")["a"], ovs: wire(topo, ovs, "o")["a"]}
    pair = Pair(hvs, ovs, version)
    both = pair.both
    both("del-flows")
    both("add-flow", LEARN_CONN)
    both("dump-flows")
    for sw in (hvs, ovs):
        _send_tcp(a[sw], 0x02)                          # SYN
    _wait_both(pair, ["dump-flows", "table=1"], lambda o: "0x77" in o)
    _wait_both(pair, ["dump-flows", "table=2"], lambda o: "0x88" in o)
    both("--sort", "dump-flows")        # the upcalled SYN counted, bytes too
    both("add-flow", "table=1,priority=7,cookie=0x77,udp,actions=drop")
    both("add-flow", "table=1,priority=8,cookie=0x78,udp,actions=drop")

    # FIN: 5 and 10 s instead of 60 and 120, shown in dumps.  When it
    # was changed last (hard_age) depends on the second each switch saw
    # the packet in: left out.
    for sw in (hvs, ovs):
        _send_tcp(a[sw], 0x11)                          # FIN, ACK
    _wait_both(pair, ["dump-flows", "table=1"],
               lambda o: "idle_timeout=5, hard_timeout=10," in o)
    outs = [ofctl(sw, ["dump-flows", "table=1"], version=version)
            for sw in (hvs, ovs)]
    h, o = (re.sub(r"hard_age=\d+, ", "", p.stdout) for p in outs)
    d = compare("dump-flows table=1", h, o)
    assert not d, d
    # No more packets: it idles out after 5 s on both.
    _wait_both(pair, ["dump-flows", "table=1"],
               lambda o: "priority=5," not in o, timeout=15)
    both("dump-flows", "table=1")

    # delete_learned: learn again, then delete the learning rule.
    for sw in (hvs, ovs):
        _send_tcp(a[sw], 0x02)
    _wait_both(pair, ["dump-flows", "table=1"], lambda o: "priority=5," in o)
    both("--strict", "del-flows", "table=0,priority=10,tcp")
    both("--sort", "dump-flows")
    pair.check()


def test_meter_features_are_the_datapaths(topo, switch_factory):
    """meter-features, whose limits legitimately differ from Open
    vSwitch's userspace datapath, reports hvs-dpd's: the kernel's limits,
    drop bands, every rate unit, burst and counters."""
    hvs = switch_factory()
    wire(topo, hvs, "h")
    out = ofctl(hvs, ["meter-features"], version="OpenFlow13").stdout
    lines = [x.strip() for x in out.splitlines()]
    assert "max_meter:200000 max_bands:1 max_color:0" in lines, out
    assert "band_types: drop" in lines, out
    assert "capabilities: kbps pktps burst stats" in lines, out
    # One band is all a meter may have.
    p = ofctl(hvs, ["add-meter", "meter=1,pktps,bands=type=drop,rate=1 "
                    "type=drop,rate=2"], version="OpenFlow13", check=False)
    assert p.returncode and "OFPMMFC_OUT_OF_BANDS" in p.stderr, p.stderr


def test_table_features_list_what_hvs_does(topo, switch_factory):
    """The lines of dump-table-features that legitimately differ from
    Open vSwitch's say what hvs supports."""
    hvs = switch_factory()
    wire(topo, hvs, "h")
    out = ofctl(hvs, ["dump-table-features"], version="OpenFlow13").stdout
    lines = [x.strip() for x in out.splitlines()]
    assert "next tables: 1-253" in lines, out
    assert ("instructions: apply_actions clear_actions write_actions "
            "write_metadata goto_table") in lines, out
    assert "actions: output group set_field strip_vlan push_vlan dec_ttl" \
        in lines, out
    setf = [x for x in lines if x.startswith("supported on Set-Field")]
    assert setf and "reg0...reg7" in setf[0] and "eth_{src,dst}" in setf[0]
    masked = [x for x in lines if x.startswith("arbitrary mask")]
    assert masked and "ipv6_{src,dst,label}" in masked[0], out
    assert "tables 1...252: ditto" in lines, out
    # The last table cannot goto.
    assert lines.count("instructions: apply_actions clear_actions "
                       "write_actions write_metadata") == 1, out


# ---- malformed and refused messages: the same error from both ----------

def _msg(version, type_, body, xid):
    return _hdr(version, type_, 8 + len(body), xid) + body


def _nxm(field, length, value):
    return struct.pack("!I", (0 << 16) | (field << 9) | length) + value


def _nx_flow_mod(match, actions, priority=100):
    """An NXT_FLOW_MOD (add) with NXM 'match' and 1.0 'actions'."""
    pad = b"\0" * ((8 - len(match) % 8) % 8)
    return (struct.pack("!II", 0x2320, 13)
            + struct.pack("!QHHHHIHHH6x", 0, 0, 0, 0, priority, 0xffffffff,
                          0xffff, 0, len(match)) + match + pad + actions)


def _of13_flow_mod(oxms, instructions, table=0):
    match = struct.pack("!HH", 1, 4 + len(oxms)) + oxms
    match += b"\0" * ((8 - len(match) % 8) % 8)
    return (struct.pack("!QQBBHHHIIIH2x", 0, 0, table, 0, 0, 0, 100,
                        0xffffffff, 0xffffffff, 0xffffffff, 0)
            + match + instructions)


def _oxm(field, length, value):
    return struct.pack("!I", (0x8000 << 16) | (field << 9) | length) + value


def _apply(actions):
    return struct.pack("!HH4x", 4, 8 + len(actions)) + actions


def _set_field(oxm):
    body = struct.pack("!HH", 25, 0) + oxm
    body += b"\0" * ((8 - len(body) % 8) % 8)
    return body[:2] + struct.pack("!H", len(body)) + body[4:]


def _nx_reg_load(dst_header, nbits, value):
    return struct.pack("!HHIHHIQ", 0xffff, 24, 0x2320, 7, nbits - 1,
                       dst_header, value)


def _nx_group_mod(command, gtype, gid, buckets):
    return (struct.pack("!II", 0x2320, 31)
            + struct.pack("!HBxIH2xI", command, gtype, gid, len(buckets),
                          0xffffffff) + buckets)


def _nx_bucket(bucket_id, actions, props=b""):
    return struct.pack("!HHI", 8 + len(actions) + len(props), len(actions),
                       bucket_id) + actions + props


def _of13_group_mod(command, gtype, gid, buckets):
    return struct.pack("!HBxI", command, gtype, gid) + buckets


NXM_IP_SRC = (0 << 16) | (7 << 9) | 4
OF10_OUTPUT_1 = struct.pack("!HHHH", 0, 8, 1, 0)
OF13_OUTPUT_1 = struct.pack("!HHIH6x", 0, 16, 1, 0)

def _oxm_hdr(cls, field, length, masked=False):
    return struct.pack("!I", cls << 16 | field << 9 | (masked << 8)
                       | (length * (2 if masked else 1)))


def _reg_load2(cls, field, value, mask=None):
    """NXAST_REG_LOAD2 of 'value' (bytes) into a field, 'mask' optional."""
    body = (struct.pack("!HHIH", 0xffff, 0, 0x2320, 33)
            + _oxm_hdr(cls, field, len(value), mask is not None) + value
            + (mask or b""))
    body += b"\0" * ((8 - len(body) % 8) % 8)
    return body[:2] + struct.pack("!H", len(body)) + body[4:]


def _nx_resubmit_table(table):
    return struct.pack("!HHIHHB3x", 0xffff, 16, 0x2320, 14, 0xfff8, table)


REG_LOAD2_FLOWS = [
    # (NXM match, actions): reg0 (NXM 1, 0) whole and masked, ip_dst (OXM
    # 0x8000, 12) masked, ipv6_src (NXM 1, 19), metadata (OXM, 2), tun_id
    # (NXM 1, 16) masked, in_port (NXM 0, 0).
    (b"", _reg_load2(1, 0, struct.pack("!I", 5))),
    (b"", _reg_load2(1, 0, struct.pack("!I", 5), struct.pack("!I", 0xf))),
    (_nxm(3, 2, struct.pack("!H", 0x0800)),
     _reg_load2(0x8000, 12, bytes([10, 0, 0, 1]), bytes([255, 0, 0, 255]))),
    (_nxm(3, 2, struct.pack("!H", 0x86dd)),
     _reg_load2(1, 19, bytes.fromhex("fe80" + "00" * 13 + "01"))),
    (b"", _reg_load2(0x8000, 2, struct.pack("!Q", 3))),
    (b"", _reg_load2(1, 16, struct.pack("!Q", 5), struct.pack("!Q", 0xff))),
    (b"", _reg_load2(0, 0, struct.pack("!H", 1))),
]


def test_reg_load2_same_as_ovs(topo, switch_factory, real_ovs):
    """Open vSwitch's NXAST_REG_LOAD2 (a set-field with an optional mask,
    in any OpenFlow version) is accepted from OpenFlow 1.0 and 1.3
    flow-mods and dumped back as it came, in both versions, as Open
    vSwitch does.  ovs-ofctl itself sends NXAST_REG_LOAD for every field
    hvs has, so the flow-mods are made here.  Then traffic: a masked
    REG_LOAD2 of eth_dst repairs the one byte that a's stale neighbour
    entry has wrong, and one of a register steers through a table."""
    pair, nss = make_pair(topo, switch_factory, real_ovs, None)
    diffs = []
    for i, (match, actions) in enumerate(REG_LOAD2_FLOWS):
        of10 = _nx_flow_mod(match, actions, priority=200 + i)
        oxm = match.replace(struct.pack("!I", 3 << 9 | 2),
                            _oxm_hdr(0x8000, 5, 2))
        of13 = _of13_flow_mod(oxm, _apply(actions))
        of13 = of13[:22] + struct.pack("!H", 300 + i) + of13[24:]
        for version, type_, body in ((1, 4, of10), (4, 14, of13)):
            h = _exchange(pair.hvs, version, type_, body)
            o = _exchange(pair.ovs, version, type_, body)
            if h != o or h:
                diffs.append("flow %d (OpenFlow 0x%02x): hvs %s, ovs %s"
                             % (i, version, h, o))
    assert not diffs, "\n".join(diffs)
    for version in VERSIONS:
        pair.version = version
        pair.both("--sort", "dump-flows")
    pair.check()

    hvs = pair.hvs
    a = nss["a"]
    ofctl(hvs, ["del-flows"])
    run(["ip", "neigh", "replace", "10.43.0.2", "lladdr",
         "02:43:00:00:00:ee", "dev", "eth0", "nud", "permanent"], ns=a)
    ofctl(hvs, ["add-flow", "priority=0,actions=NORMAL"])
    assert not _ping_ok(a, "10.43.0.2", tries=1)
    fix = _reg_load2(0, 1, bytes.fromhex("024300000002"),
                     bytes.fromhex("0000000000ff"))      # NXM_OF_ETH_DST
    steer = (_reg_load2(1, 0, struct.pack("!I", 0x25),
                        struct.pack("!I", 0xf0))       # reg0 = 0x20/0xf0
             + _nx_resubmit_table(1))
    for body in (_nx_flow_mod(_nxm(0, 2, struct.pack("!H", 1)),
                              fix + steer),):
        assert _exchange(hvs, 1, 4, body) == []
    ofctl(hvs, ["add-flow", "table=1,reg0=0x20,actions=output:2"])
    assert _ping_ok(a, "10.43.0.2"), _dpflows(hvs)
    # Only the masked bits were loaded: reg0 is 0x20, which the rule in
    # table 1 matches exactly.
    deadline = time.time() + 5
    while "n_packets=0," in ofctl(hvs, ["dump-flows", "table=1"]).stdout:
        assert time.time() < deadline, _dpflows(hvs)
        time.sleep(0.2)


def _band(btype, rate, burst=0, extra=b"", length=16):
    b = struct.pack("!HHII", btype, length, rate, burst) + extra
    return (b + b"\0" * length)[:length]


def _meter_mod(command, flags, meter_id, bands=b""):
    return struct.pack("!HHI", command, flags, meter_id) + bands


def _meter_request(mp_type, body):
    return struct.pack("!HH4x", mp_type, 0) + body


DROP10 = _band(1, 10)

# (name, version, type, body): each is sent alone on a fresh connection
# to both switches; the reply (an error, or nothing) must agree.
MALFORMED = [
    ("unknown type", 1, 0xee, b""),
    ("unknown vendor", 1, 4, struct.pack("!II", 0x1234, 1)),
    ("unknown Nicira message", 1, 4, struct.pack("!II", 0x2320, 0x7777)),
    ("unknown Nicira stats", 1, 16,
     struct.pack("!HHII4x", 0xffff, 0, 0x2320, 0x7777)),
    ("truncated stats request", 1, 16, struct.pack("!H", 1)),
    ("flow-mod output to port 0", 1, 14,
     b"\0" * 40 + struct.pack("!QHHHHIHH", 0, 0, 0, 0, 1, 0xffffffff,
                              0xffff, 0) + struct.pack("!HHHH", 0, 8, 0, 0)),
    ("flow-mod action with a bad length", 1, 14,
     b"\0" * 40 + struct.pack("!QHHHHIHH", 0, 0, 0, 0, 1, 0xffffffff,
                              0xffff, 0) + struct.pack("!HHHH", 0, 12, 1, 0)
     + b"\0" * 4),
    ("NXM load to ip_src without an IP match", 1, 4,
     _nx_flow_mod(b"", _nx_reg_load(NXM_IP_SRC, 32, 1))),
    ("NXM load to ip_src with an IP match", 1, 4,
     _nx_flow_mod(_nxm(3, 2, struct.pack("!H", 0x0800)),
                  _nx_reg_load(NXM_IP_SRC, 32, 1))),
    ("mod_tp_dst (a 1.0 action) without an L4 match", 1, 14,
     b"\0" * 40 + struct.pack("!QHHHHIHH", 0, 0, 0, 0, 1, 0xffffffff,
                              0xffff, 0) + struct.pack("!HHH2x", 10, 8, 80)),
    ("packet-out with a buffer", 1, 13,
     struct.pack("!IHH", 7, 0xfffd, 0) + b"\0" * 14),
    ("Nicira group-mod: indirect with two buckets", 1, 4,
     _nx_group_mod(0, 2, 1, _nx_bucket(0, OF10_OUTPUT_1)
                   + _nx_bucket(1, OF10_OUTPUT_1))),
    ("Nicira group-mod: bucket longer than the message", 1, 4,
     _nx_group_mod(0, 0, 1, struct.pack("!HHI", 64, 0, 0))),
    ("Nicira group-mod: unknown type", 1, 4,
     _nx_group_mod(0, 9, 1, _nx_bucket(0, OF10_OUTPUT_1))),
    ("Nicira group-mod: modify a missing group", 1, 4,
     _nx_group_mod(1, 0, 42, _nx_bucket(0, OF10_OUTPUT_1))),
    ("Nicira group-mod: duplicate bucket ids", 1, 4,
     _nx_group_mod(0, 0, 1, _nx_bucket(3, OF10_OUTPUT_1)
                   + _nx_bucket(3, OF10_OUTPUT_1))),
    ("Nicira group-mod: add, valid", 1, 4,
     _nx_group_mod(0, 0, 1, _nx_bucket(0, OF10_OUTPUT_1))),
    ("unknown multipart", 4, 18, struct.pack("!HH4x", 0x77, 0)),
    ("truncated flow-mod", 4, 14, b"\0" * 12),
    ("tcp_dst without ip_proto", 4, 14,
     _of13_flow_mod(_oxm(14, 2, struct.pack("!H", 80)), b"")),
    ("set_field ip_dst without an IP match", 4, 14,
     _of13_flow_mod(b"", _apply(_set_field(
         _oxm(12, 4, bytes([10, 0, 0, 1])))))),
    ("set_field vlan_vid on an untagged match", 4, 14,
     _of13_flow_mod(b"", _apply(_set_field(
         _oxm(6, 2, struct.pack("!H", 0x1005)))))),
    ("goto-table backwards", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HHB3x", 1, 8, 0), table=3)),
    ("group action to a missing group", 4, 14,
     _of13_flow_mod(b"", _apply(struct.pack("!HHI", 22, 8, 99)))),
    ("group-mod: unknown type", 4, 15,
     _of13_group_mod(0, 9, 1, struct.pack("!HHII4x", 32, 0, 0xffffffff,
                                          0xffffffff) + OF13_OUTPUT_1)),
    ("group-mod: delete of a missing group", 4, 15,
     _of13_group_mod(2, 0, 77, b"")),
    ("port-mod of a missing port", 4, 16,
     struct.pack("!I4x6s2xIII4x", 77, b"\0" * 6, 0, 1, 0)),
    ("queue-get-config of a missing port", 4, 22, struct.pack("!I4x", 77)),
    ("queue-get-config of a missing port", 1, 20, struct.pack("!H2x", 77)),
    ("set-config frags=reassemble", 4, 9, struct.pack("!HH", 2, 128)),
    ("flow-mod output to port 0", 4, 14,
     _of13_flow_mod(b"", _apply(struct.pack("!HHIH6x", 0, 16, 0, 0)))),
    ("flow-mod output to a reserved port number", 4, 14,
     _of13_flow_mod(b"", _apply(struct.pack("!HHIH6x", 0, 16, 0xffffff10,
                                            0)))),
    ("flow-mod output to a reserved port number", 1, 14,
     b"\0" * 40 + struct.pack("!QHHHHIHH", 0, 0, 0, 0, 1, 0xffffffff,
                              0xffff, 0)
     + struct.pack("!HHHH", 0, 8, 0xff10, 0)),
    ("action longer than its instruction", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HH4x", 4, 16)
                    + struct.pack("!HH4x", 0, 12))),
    ("action with a length not a multiple of 8", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HH4x", 4, 20)
                    + struct.pack("!HHIH2x", 0, 12, 1, 0))),
    ("unknown instruction", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HH4x", 0x77, 8))),
    ("unknown OXM field", 4, 14,
     _of13_flow_mod(_oxm(0x70, 2, b"\0\0"), b"")),
    ("packet-out with a buffer", 4, 13,
     struct.pack("!IIH6x", 7, 0xfffffffd, 0) + b"\0" * 14),
    ("packet-out to a missing port", 4, 13,
     struct.pack("!IIH6x", 0xffffffff, 0xfffffffd, 16)
     + struct.pack("!HHIH6x", 0, 16, 77, 0) + b"\0" * 14),
    ("wrong version after negotiation", 4, 5, None),
    # NXAST_REG_LOAD2: malformed and refused, in 1.0 and 1.3.
    ("REG_LOAD2: field length wrong", 1, 4,
     _nx_flow_mod(b"", _reg_load2(1, 0, b"\0\0\5"))),
    ("REG_LOAD2: field length wrong", 4, 14,
     _of13_flow_mod(b"", _apply(_reg_load2(1, 0, b"\0\0\5")))),
    ("REG_LOAD2: padding not zero", 1, 4,
     _nx_flow_mod(b"", _reg_load2(1, 0, struct.pack("!I", 5))[:-1]
                  + b"\1")),
    ("REG_LOAD2: padding not zero", 4, 14,
     _of13_flow_mod(b"", _apply(_reg_load2(1, 0, struct.pack("!I", 5))[:-1]
                                + b"\1"))),
    ("REG_LOAD2: unknown field", 1, 4,
     _nx_flow_mod(b"", _reg_load2(1, 100, struct.pack("!I", 5)))),
    ("REG_LOAD2: unknown field", 4, 14,
     _of13_flow_mod(b"", _apply(_reg_load2(1, 100, struct.pack("!I", 5))))),
    ("REG_LOAD2: eth_type is not writable", 1, 4,
     _nx_flow_mod(b"", _reg_load2(0, 3, b"\x08\0"))),
    ("REG_LOAD2: ip_dst without an IP match", 1, 4,
     _nx_flow_mod(b"", _reg_load2(0x8000, 12, b"\x0a\0\0\1"))),
    ("REG_LOAD2: ip_dst without an IP match", 4, 14,
     _of13_flow_mod(b"", _apply(_reg_load2(0x8000, 12, b"\x0a\0\0\1")))),
    ("REG_LOAD2: value longer than the action", 1, 4,
     _nx_flow_mod(b"", struct.pack("!HHIH", 0xffff, 16, 0x2320, 33)
                  + _oxm_hdr(1, 0, 4) + b"\0\0")),
    ("REG_LOAD2: value longer than the action", 4, 14,
     _of13_flow_mod(b"", _apply(struct.pack("!HHIH", 0xffff, 16, 0x2320,
                                            33)
                                + _oxm_hdr(1, 0, 4) + b"\0\0"))),
    ("REG_LOAD2: no field", 1, 4,
     _nx_flow_mod(b"", struct.pack("!HHIH6x", 0xffff, 16, 0x2320, 33))),
    ("REG_LOAD2: eight more zeros", 1, 4,
     _nx_flow_mod(b"", struct.pack("!HHIH", 0xffff, 32, 0x2320, 33)
                  + _oxm_hdr(1, 0, 4) + struct.pack("!I", 5) + b"\0" * 14)),
    # Meters: every refusal Open vSwitch makes, in its order (the valid
    # adds run first; each case is its own connection, the meter table
    # is the switch's).
    ("meter-mod: add meter 1", 4, 29, _meter_mod(0, 2, 1, DROP10)),
    ("meter-mod: add meter 1 again", 4, 29, _meter_mod(0, 2, 1, DROP10)),
    ("meter-mod: unknown command", 4, 29, _meter_mod(3, 2, 5, DROP10)),
    ("meter-mod: meter 0", 4, 29, _meter_mod(0, 2, 0, DROP10)),
    ("meter-mod: meter OFPM_ALL", 4, 29,
     _meter_mod(0, 2, 0xffffffff, DROP10)),
    ("meter-mod: meter beyond OFPM_MAX", 4, 29,
     _meter_mod(0, 2, 0xffff0001, DROP10)),
    ("meter-mod: the slowpath meter", 4, 29,
     _meter_mod(0, 2, 0xfffffffd, DROP10)),
    ("meter-mod: kbps and pktps", 4, 29, _meter_mod(0, 3, 6, DROP10)),
    ("meter-mod: no rate unit", 4, 29, _meter_mod(0, 0, 6, DROP10)),
    ("meter-mod: an unknown flag", 4, 29, _meter_mod(0, 0x12, 6, DROP10)),
    ("meter-mod: no bands", 4, 29, _meter_mod(0, 2, 6)),
    ("meter-mod: rate 0", 4, 29, _meter_mod(0, 2, 6, _band(1, 0))),
    ("meter-mod: unknown band type", 4, 29,
     _meter_mod(0, 2, 6, _band(3, 10))),
    ("meter-mod: experimenter band", 4, 29,
     _meter_mod(0, 2, 6, _band(0xffff, 10))),
    ("meter-mod: dscp_remark band", 4, 29,
     _meter_mod(0, 2, 6, _band(2, 10, 0, b"\x01"))),
    ("meter-mod: band of 12 bytes", 4, 29,
     _meter_mod(0, 2, 6, _band(1, 10, length=12))),
    ("meter-mod: band of 32 bytes", 4, 29,
     _meter_mod(0, 2, 6, _band(1, 10, length=32))),
    ("meter-mod: band and 8 more bytes", 4, 29,
     _meter_mod(0, 2, 6, DROP10 + b"\0" * 8)),
    ("meter-mod: truncated", 4, 29, struct.pack("!HH", 0, 2)),
    ("meter-mod: nine bands", 4, 29, _meter_mod(0, 2, 6, DROP10 * 9)),
    ("meter-mod: burst flag, no burst size", 4, 29,
     _meter_mod(0, 6, 7, DROP10)),
    ("meter-mod: modify a missing meter", 4, 29,
     _meter_mod(1, 2, 77, DROP10)),
    ("meter-mod: modify meter 1", 4, 29,
     _meter_mod(1, 1, 1, _band(1, 100, 5))),
    ("meter-mod: modify with kbps and pktps", 4, 29,
     _meter_mod(1, 3, 1, DROP10)),
    ("meter-mod: modify to no bands", 4, 29, _meter_mod(1, 2, 1)),
    ("meter-mod: delete a missing meter", 4, 29, _meter_mod(2, 0, 77)),
    ("meter-mod: delete meter 0", 4, 29, _meter_mod(2, 0, 0)),
    ("meter-mod: delete with 2 stray bytes", 4, 29,
     _meter_mod(2, 3, 77, b"\1\2")),
    ("meter-mod: delete with a band", 4, 29, _meter_mod(2, 0, 77, DROP10)),
    ("meter-mod: in OpenFlow 1.0", 1, 29, _meter_mod(0, 2, 9, DROP10)),
    ("meter stats: truncated", 4, 18, _meter_request(9, b"\0\0")),
    ("meter stats: missing meter", 4, 18,
     _meter_request(9, struct.pack("!I4x", 77))),
    ("meter stats: meter 0", 4, 18,
     _meter_request(9, struct.pack("!I4x", 0))),
    ("meter stats: trailing bytes", 4, 18,
     _meter_request(9, struct.pack("!I4x", 1) + b"\0" * 8)),
    ("meter config: missing meter", 4, 18,
     _meter_request(10, struct.pack("!I4x", 77))),
    ("meter config: no padding", 4, 18,
     _meter_request(10, struct.pack("!I", 1))),
    ("meter features with a body", 4, 18, _meter_request(11, b"\0" * 8)),
    ("meter stats in OpenFlow 1.0", 1, 16,
     struct.pack("!HH", 9, 0) + struct.pack("!I4x", 1)),
    ("flow-mod: meter instruction for a missing meter", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HHI", 6, 8, 99))),
    ("flow-mod: meter instruction for meter 0", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HHI", 6, 8, 0))),
    ("flow-mod: meter instruction of 16 bytes", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HHI4x", 6, 16, 1))),
    ("flow-mod: two meter instructions", 4, 14,
     _of13_flow_mod(b"", struct.pack("!HHI", 6, 8, 1) * 2)),
    ("flow-mod: meter after apply-actions", 4, 14,
     _of13_flow_mod(b"", _apply(OF13_OUTPUT_1)
                    + struct.pack("!HHI", 6, 8, 1))),
]


def _exchange(sw, version, type_, body):
    """Connects to 'sw', negotiates 'version', sends one message, then an
    echo request; returns what came back before the echo reply, with
    xids and the echoed request cut to what both must agree on."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(os.path.join(sw.rundir, "br0.mgmt"))
    bitmap = struct.pack("!HHI", 1, 8, 1 << version)
    sock.sendall(_msg(version, 0, bitmap if version >= 4 else b"", 1))
    hello = _recv_msg(sock)
    assert hello and hello[1] == 0
    if body is None:            # a message of the other version
        first = _msg(1 if version != 1 else 4, type_, b"", 2)
    else:
        first = _msg(version, type_, body, 2)
    sock.sendall(first + _msg(version, 2, b"ping", 3))
    got = []
    while True:
        m = _recv_msg(sock)
        if m is None:
            got.append("closed")
            break
        if m[1] == 3:           # echo reply: the connection is usable
            break
        if m[1] == 1:
            etype, ecode = struct.unpack("!HH", m[8:12])
            desc = "error %d/%d" % (etype, ecode)
            if etype == 0xb0c2:
                desc += " nx %#x/%d/%d" % struct.unpack("!IHH", m[12:20])
            got.append(desc)
        else:
            got.append("type %d" % m[1])
    sock.close()
    return got


def test_malformed_same_as_ovs(topo, switch_factory, real_ovs):
    """Malformed and refused OpenFlow gets the same error (type and code,
    and for Open vSwitch's Nicira errors in 1.0 its vendor type and code)
    from hvs as from Open vSwitch, and the connection stays usable."""
    pair, _ = make_pair(topo, switch_factory, real_ovs, None)
    diffs = []
    for name, version, type_, body in MALFORMED:
        h = _exchange(pair.hvs, version, type_, body)
        o = _exchange(pair.ovs, version, type_, body)
        if h != o:
            diffs.append("%s (OpenFlow 0x%02x): hvs %s, ovs %s"
                         % (name, version, h, o))
    assert not diffs, "\n".join(diffs)


def _as_slave(sw):
    """Becomes a slave on 'sw' (OpenFlow 1.3), then sends one message of
    each kind that changes the switch or sends packets, and a
    set-config; returns (xid, type, error) of every reply."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(os.path.join(sw.rundir, "br0.mgmt"))
    sock.sendall(_msg(4, 0, struct.pack("!HHI", 1, 8, 1 << 4), 1))
    assert _recv_msg(sock)
    msgs = [
        (24, struct.pack("!I4xQ", 3, 0)),                   # role: slave
        (14, _of13_flow_mod(b"", b"")),
        (29, _meter_mod(0, 2, 42, DROP10)),
        (15, _of13_group_mod(0, 0, 42, b"")),
        (16, struct.pack("!I4x6s2xIII4x", 1, b"\0" * 6, 0, 1, 0)),
        (13, struct.pack("!IIH6x", 0xffffffff, 0xfffffffd, 0)
         + b"\0" * 14),
        (17, struct.pack("!B3xI", 0, 0)),                   # table-mod
        (9, struct.pack("!HH", 0, 128)),                    # set-config
    ]
    sock.sendall(b"".join(_msg(4, t, b, 2 + i)
                          for i, (t, b) in enumerate(msgs))
                 + _msg(4, 2, b"", 99))
    got = []
    while True:
        m = _recv_msg(sock)
        if m is None or m[1] == 3:
            break
        xid = struct.unpack("!I", m[4:8])[0]
        got.append((xid, m[1], m[8:12].hex() if m[1] == 1 else ""))
    sock.close()
    return got


def test_slave_refused_same_as_ovs(topo, switch_factory, real_ovs):
    """A slave controller may change nothing: flow-, group-, meter-,
    port- and table-mods and packet-outs get IS_SLAVE, as from Open
    vSwitch, and the flow table stays as it was."""
    pair, _ = make_pair(topo, switch_factory, real_ovs, "OpenFlow13")
    h, o = _as_slave(pair.hvs), _as_slave(pair.ovs)
    assert h == o, (h, o)
    assert sum(1 for x in h if x[2] == "0001000a") == 6, h
    pair.both("dump-flows")
    pair.both("dump-meters")
    pair.check()

