"""`ovs-appctl ofproto/trace` on hvs-vswitchd, compared with Debian's own
ovs-vswitchd (dummy datapath) given the same bridge, ports and rules: the
"Flow:" line, the per-table account of rules and actions (with Open
vSwitch's indentation) and "Final flow:" must read the same; the datapath
actions are hvs's own (other port numbers) and are checked for meaning."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import VSWITCHD
from test_openflow import make_bridge, ofctl

pytestmark = pytest.mark.skipif(not os.path.exists(VSWITCHD),
                                reason="hvs-vswitchd not built")

OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
HAVE_OVS = shutil.which("ovs-vswitchd") and os.path.exists(OVS_SCHEMA)

# (OpenFlow version or None, flow) for `ovs-ofctl add-flow`; ports 1..3.
RULES = [
    (None, "table=0,priority=100,in_port=1,ip,"
           "actions=mod_nw_dst:1.2.3.4,resubmit(,1),output:2"),
    (None, "table=1,priority=5,cookie=0x7,ip,actions=output:3,resubmit(,2)"),
    (None, "table=2,priority=5,actions=mod_dl_src:00:00:00:00:00:09,dec_ttl,"
           "resubmit(,4),NORMAL"),
    ("OpenFlow13", "priority=10,in_port=2,actions=goto_table:2"),
    (None, "table=2,priority=10,dl_vlan=5,actions=drop"),
    (None, "priority=10,in_port=3,tcp,tp_dst=80,"
           "actions=mod_vlan_vid:9,output:2,strip_vlan,LOCAL,IN_PORT"),
]

TRACES = [
    "in_port=1,ip,nw_ttl=5",
    "in_port=2,dl_vlan=7",
    "in_port=2,dl_vlan=5",
    "in_port=3,tcp,tp_dst=80",
    "in_port=3,udp",
    "in_port=LOCAL,arp,arp_spa=1.1.1.1",
]


class RealOvs:
    """ovsdb-server and ovs-vswitchd with the dummy datapath, in a private
    run directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="hvs-trace-ovs-")
        self.env = dict(os.environ)
        for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR",
                    "OVS_SYSCONFDIR"):
            self.env[var] = self.dir
        self.db = "unix:" + os.path.join(self.dir, "db.sock")
        self.ctl = os.path.join(self.dir, "vswitchd.ctl")
        self.pids = []
        self._run(["ovsdb-tool", "create", os.path.join(self.dir, "conf.db"),
                   OVS_SCHEMA])
        self._daemon(["ovsdb-server", os.path.join(self.dir, "conf.db"),
                      "--remote=p" + self.db, "--unixctl=" + os.path.join(
                          self.dir, "ovsdb.ctl")], "ovsdb")
        self.vsctl("--no-wait", "init")
        self._daemon(["ovs-vswitchd", self.db, "--enable-dummy=override",
                      "--disable-system", "--unixctl=" + self.ctl], "vswitchd")

    def _run(self, cmd, check=True):
        p = subprocess.run(cmd, capture_output=True, text=True, env=self.env,
                           timeout=60)
        if check:
            assert p.returncode == 0, " ".join(cmd) + p.stdout + p.stderr
        return p

    def _daemon(self, cmd, name):
        pidfile = os.path.join(self.dir, name + ".pid")
        self._run(cmd + ["--detach", "--no-chdir", "--pidfile=" + pidfile,
                         "--log-file=" + os.path.join(self.dir,
                                                      name + ".log")])
        self.pids.append(int(open(pidfile).read()))

    def vsctl(self, *args):
        return self._run(["ovs-vsctl", "--db=" + self.db, "--timeout=30"]
                         + list(args))

    def ofctl(self, *args, version=None):
        cmd = ["ovs-ofctl"] + (["-O", version] if version else [])
        return self._run(cmd + [args[0], "unix:" + os.path.join(
            self.dir, "br0.mgmt")] + list(args[1:]))

    def trace(self, flow):
        return self._run(["ovs-appctl", "-t", self.ctl, "ofproto/trace",
                          "br0", flow]).stdout

    def close(self):
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)


def comparable(text):
    """The trace without the lines whose port numbers or megaflow masks
    are the datapath's own."""
    return [line for line in text.splitlines()
            if not line.startswith(("Megaflow:", "Datapath actions:"))]


def datapath_actions(text):
    for line in text.splitlines():
        if line.startswith("Datapath actions: "):
            return line[len("Datapath actions: "):]
    raise AssertionError("no Datapath actions line:\n" + text)


def hvs_trace(s, flow):
    return s.appctl("ofproto/trace", "br0", flow).stdout


@pytest.fixture
def bridge(topo, switch_factory):
    s, nss, ofports = make_bridge(topo, switch_factory)
    assert sorted(ofports.values()) == [1, 2, 3]
    return s, ofports


def odp_port(s, name):
    out = s.appctl("dpctl/show").stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("port ") and line.split(": ")[1].split()[0] \
                == name:
            return int(line.split(":")[0].split()[1])
    raise AssertionError("no %s in\n%s" % (name, out))


def test_default_rule_normal(topo, bridge):
    s, ofports = bridge
    out = hvs_trace(s, "in_port=1,dl_src=02:00:00:00:00:01,"
                       "dl_dst=02:00:00:00:00:02")
    lines = out.splitlines()
    assert lines[0] == ("Flow: in_port=1,vlan_tci=0x0000,"
                        "dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,"
                        "dl_type=0x0000")
    assert lines[1:8] == ["", 'bridge("br0")', "-------------",
                          " 0. priority 0", "    NORMAL",
                          "     -> no learned MAC for destination, flooding",
                          ""], out
    assert lines[8] == "Final flow: unchanged"
    assert lines[9].startswith("Megaflow: recirc_id=0,eth,in_port=1,")
    # Flooded to the other two ports and the bridge's own port.
    outs = set(datapath_actions(out).split(","))
    b, c = (odp_port(s, topo.prefix + n) for n in "bc")
    assert {str(b), str(c)} <= outs and str(odp_port(s, topo.prefix + "a")) \
        not in outs, out


def test_errors(bridge):
    s, _ = bridge
    p = s.appctl("ofproto/trace", "br0", "in_port=9,arp", check=False)
    assert p.returncode != 0 and "Bad openflow flow syntax" in p.stderr
    p = s.appctl("ofproto/trace", "br0", "in_port=1,bogus=1", check=False)
    assert p.returncode != 0 and "bogus" in p.stderr
    p = s.appctl("ofproto/trace", "nobr", "in_port=1", check=False)
    assert p.returncode != 0


@pytest.mark.skipif(not HAVE_OVS, reason="Open vSwitch not installed")
def test_same_as_open_vswitch(topo, bridge):
    s, ofports = bridge
    ovs = RealOvs()
    try:
        ovs.vsctl("add-br", "br0")
        for i in (1, 2, 3):
            ovs.vsctl("add-port", "br0", "p%d" % i, "--", "set", "Interface",
                      "p%d" % i, "type=dummy", "ofport_request=%d" % i)
        ofctl(s, "del-flows")
        ovs.ofctl("del-flows")
        for version, rule in RULES:
            ofctl(s, "add-flow", rule, version=version)
            ovs.ofctl("add-flow", rule, version=version)
        for flow in TRACES:
            mine, theirs = hvs_trace(s, flow), ovs.trace(flow)
            assert comparable(mine) == comparable(theirs), (
                "trace %s\n--- hvs:\n%s\n--- Open vSwitch:\n%s" % (
                    flow, mine, theirs))
    finally:
        ovs.close()

    # The datapath actions say what the rules say, in hvs's port numbers.
    a, b, c = (odp_port(s, topo.prefix + n) for n in "abc")
    acts = datapath_actions(hvs_trace(s, "in_port=1,ip,nw_ttl=5"))
    assert acts.startswith("set(ipv4(dst=1.2.3.4)),%d," % c), acts
    assert acts.endswith(",%d" % b), acts
    assert "set(ipv4(ttl=4))" in acts, acts
    assert datapath_actions(hvs_trace(s, "in_port=2,dl_vlan=5")) == "drop"
    acts = datapath_actions(hvs_trace(s, "in_port=3,tcp,tp_dst=80"))
    assert acts.startswith("push_vlan(vid=9,pcp=0),%d,pop_vlan," % b), acts
    assert acts.endswith(",%d" % c), acts


def test_trace_shows_controller_and_fail_open(topo, bridge):
    """A table-miss rule to the controller shows as CONTROLLER:65535 and
    becomes a userspace() datapath action; a standalone bridge whose
    controller is unreachable traces as NORMAL (fail open)."""
    s, _ = bridge
    ofctl(s, "del-flows")
    ofctl(s, "add-flow", "priority=0,actions=CONTROLLER:65535",
          version="OpenFlow13")
    out = hvs_trace(s, "in_port=1")
    assert " 0. priority 0\n    CONTROLLER:65535\n" in out, out
    assert datapath_actions(out).startswith("userspace("), out
    # A controller nobody listens on: standalone fails open.
    s.vsctl("set-controller", "br0", "tcp:127.0.0.1:1")
    deadline = time.time() + 10
    while "fail-open" not in hvs_trace(s, "in_port=1"):
        assert time.time() < deadline, hvs_trace(s, "in_port=1") + s.log()
        time.sleep(0.2)
    out = hvs_trace(s, "in_port=1")
    assert "    NORMAL\n" in out, out
    s.vsctl("set-fail-mode", "br0", "secure")
    deadline = time.time() + 10
    while "fail-open" in hvs_trace(s, "in_port=1"):
        assert time.time() < deadline, s.log()
        time.sleep(0.2)
    assert "CONTROLLER:65535" in hvs_trace(s, "in_port=1")
