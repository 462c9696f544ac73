"""An OpenFlow controller written with os-ken (Debian's python3-os-ken)
drives hvs-vswitchd over TCP on loopback: a learning switch that installs
flows from packet-ins lets three namespaces ping each other; killing the
controller falls back to NORMAL with fail_mode=standalone and keeps the
installed rules (and nothing more) with fail_mode=secure."""
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from conftest import VSWITCHD, run
from test_openflow import VMS, flows, make_bridge, no_ping, ofctl
from test_vswitchd import ping

OSKEN = shutil.which("osken-manager")
pytestmark = [
    pytest.mark.skipif(not os.path.exists(VSWITCHD),
                       reason="hvs-vswitchd not built"),
    pytest.mark.skipif(not OSKEN, reason="python3-os-ken not installed"),
]

# The learning switch of the os-ken tutorial, OpenFlow 1.3: a table-miss
# rule sends everything to the controller; each packet-in teaches where
# its source lives, installs a rule once the destination is known, and
# is sent on with a packet-out.
APP = '''
import sys

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER
from os_ken.controller.handler import set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class LearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.macs = {}

    def note(self, text):
        with open(%(log)r, "a") as f:
            f.write(text + "\\n")

    def add_flow(self, dp, priority, match, actions):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                             actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority,
                                      match=match, instructions=inst))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.add_flow(dp, 0, parser.OFPMatch(),
                      [parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                              ofp.OFPCML_NO_BUFFER)])
        self.note("connected dpid=%%016x" %% dp.id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        self.note("packet-in port=%%d %%s->%%s reason=%%d table=%%d "
                  "len=%%d/%%d" %% (in_port, eth.src, eth.dst, msg.reason,
                                   msg.table_id, len(msg.data),
                                   msg.total_len))
        table = self.macs.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            self.add_flow(dp, 1, parser.OFPMatch(in_port=in_port,
                                                 eth_dst=eth.dst,
                                                 eth_src=eth.src), actions)
        dp.send_msg(parser.OFPPacketOut(datapath=dp,
                                        buffer_id=ofp.OFP_NO_BUFFER,
                                        in_port=in_port, actions=actions,
                                        data=msg.data))
'''


class Controller:
    """osken-manager with the learning switch, listening on 127.0.0.1 in
    the switch's namespace."""

    def __init__(self, s, port=None, name="osken"):
        self.ns = s.ns
        self.port = port or random.randint(20000, 40000)
        self.log = os.path.join(s.rundir, name + "-app.log")
        self.app = os.path.join(s.rundir, name + "_learning_switch.py")
        with open(self.app, "w") as f:
            f.write(APP % {"log": self.log})
        self.err = open(os.path.join(s.rundir, name + ".stderr"), "w+")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, OSKEN,
             "--ofp-listen-host", "127.0.0.1",
             "--ofp-tcp-listen-port", str(self.port), self.app],
            stdout=subprocess.DEVNULL, stderr=self.err)

    def target(self):
        return "tcp:127.0.0.1:%d" % self.port

    def notes(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def output(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def close(self):
        self.kill()
        self.err.close()


@pytest.fixture
def controller_factory():
    made = []

    def make(s, **kw):
        c = Controller(s, **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def start(topo, switch_factory, controller_factory, fail_mode):
    s, nss, ofports = make_bridge(topo, switch_factory)
    s.vsctl("set-fail-mode", "br0", fail_mode)
    ctl = controller_factory(s)
    s.vsctl("set-controller", "br0", ctl.target(),
            "--", "set", "Controller", "br0", "inactivity_probe=2000")
    # Connected once the app has installed its table-miss rule.
    deadline = time.time() + 30
    while True:
        out = flows(s, version="OpenFlow13")
        if any("priority=0" in f and "CONTROLLER:65535" in f for f in out):
            break
        assert ctl.proc.poll() is None, ctl.output()
        assert time.time() < deadline, (
            "controller did not program the switch:\n%s\n%s\n%s" % (
                "\n".join(out), ctl.output()[-3000:], s.log()[-3000:]))
        time.sleep(0.3)
    return s, nss, ofports, ctl


def is_connected(s, expect, timeout=15):
    deadline = time.time() + timeout
    while True:
        v = s.vsctl("get", "Controller", "br0", "is_connected").stdout
        if v.strip() == expect:
            return
        assert time.time() < deadline, "is_connected=%s" % v
        time.sleep(0.5)


def learned(s):
    return [f for f in flows(s, version="OpenFlow13")
            if "priority=1," in f]


def test_learning_switch(topo, switch_factory, controller_factory):
    s, nss, ofports, ctl = start(topo, switch_factory, controller_factory,
                                 "secure")
    ips = {name: ip for name, ip, _ in VMS}
    for a in nss:
        for b in nss:
            if a != b:
                ping(nss[a], ips[b], count=2)
    notes = ctl.notes()
    pins = [n for n in notes if n.startswith("packet-in")]
    assert pins, notes
    # Whole packets (no buffering), from the table-miss rule of table 0,
    # with the OpenFlow port they came in on.
    assert all("reason=0 table=0" in n for n in pins), pins
    for n in pins:
        got, total = n.rsplit("len=", 1)[1].split("/")
        assert got == total, n
    assert {int(n.split()[1][5:]) for n in pins} <= set(ofports.values())
    # The learned rules carry the traffic now: one per direction per pair.
    rules = learned(s)
    assert len(rules) >= 6, rules
    assert all("n_packets=0" not in r for r in rules), rules
    is_connected(s, "true")


def test_standalone_falls_back_to_normal(topo, switch_factory,
                                         controller_factory):
    s, nss, ofports, ctl = start(topo, switch_factory, controller_factory,
                                 "standalone")
    ping(nss["a"], "10.42.0.2", count=2)
    assert learned(s)
    ctl.kill()
    # Pairs the controller never saw work too: the bridge is a NORMAL
    # switch while no controller is connected.
    ping(nss["a"], "10.42.0.3", count=3)
    ping(nss["c"], "10.42.0.2", count=3)
    assert "entering fail-open mode" in s.log()
    is_connected(s, "false")


def test_secure_keeps_rules(topo, switch_factory, controller_factory):
    s, nss, ofports, ctl = start(topo, switch_factory, controller_factory,
                                 "secure")
    ping(nss["a"], "10.42.0.2", count=2)
    before = learned(s)
    assert before
    ctl.kill()
    time.sleep(1)
    # What the controller installed keeps forwarding; nothing new does.
    ping(nss["a"], "10.42.0.2", count=3)
    no_ping(nss["a"], "10.42.0.3")
    no_ping(nss["c"], "10.42.0.2")
    assert [r.split(", n_packets")[0] for r in learned(s)] == [
        r.split(", n_packets")[0] for r in before]
    assert "fail-open" not in s.log()


def test_reconnect_and_packet_in_of10(topo, switch_factory,
                                      controller_factory):
    """The switch connects again after the controller restarts (backoff
    of at most 8 s); an OpenFlow 1.0 service connection that sets a
    miss_send_len gets table misses as packet-ins."""
    s, nss, ofports, ctl = start(topo, switch_factory, controller_factory,
                                 "secure")
    ctl.kill()
    time.sleep(2)
    ctl2 = controller_factory(s, port=ctl.port, name="osken2")
    deadline = time.time() + 20
    while not any(n.startswith("connected") for n in ctl2.notes()):
        assert time.time() < deadline, ctl2.output()[-3000:] + s.log()
        time.sleep(0.3)
    ping(nss["a"], "10.42.0.2", count=2)
    assert any(n.startswith("packet-in") for n in ctl2.notes())

    # OpenFlow 1.0: no rule at all, and `ovs-ofctl monitor` listening.
    s.vsctl("del-controller", "br0")
    ofctl(s, "del-flows")
    out = monitor(s, nss)
    assert "NXT_PACKET_IN" in out, out
    assert "in_port=%d" % ofports["a"] in out, out
    assert "(via no_match)" in out, out
    # The standard OpenFlow 1.0 format, if asked for.
    out = monitor(s, nss, "--packet-in-format=standard")
    assert "OFPT_PACKET_IN (xid=0x0): total_len=42 in_port=%d (via " \
        "no_match) data_len=42 (unbuffered)" % ofports["a"] in out, out
    # OpenFlow 1.3: a miss drops unless a rule sends it up.
    out = monitor(s, nss, version="OpenFlow13")
    assert "PACKET_IN" not in out, out
    ofctl(s, "add-flow", "priority=0,cookie=0x42,actions=CONTROLLER:65535",
          version="OpenFlow13")
    out = monitor(s, nss, version="OpenFlow13")
    assert "OFPT_PACKET_IN (OF1.3) (xid=0x0): cookie=0x42 " \
        "total_len=42 in_port=%d (via no_match)" % ofports["a"] in out, out


def monitor(s, nss, *opts, version=None):
    """What `ovs-ofctl monitor` prints while 10.42.0.1 tries to reach
    10.42.0.3."""
    cmd = ["ip", "netns", "exec", s.ns, "ovs-ofctl",
           "--unixctl=" + os.path.join(s.rundir, "ofctl.ctl")] + list(opts)
    if version:
        cmd += ["-O", version]
    mon = subprocess.Popen(
        cmd + ["monitor", "unix:" + os.path.join(s.rundir, "br0.mgmt"),
               "65534"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1)
        ping(nss["a"], "10.42.0.3", count=2, check=False)
        time.sleep(0.5)
    finally:
        mon.send_signal(signal.SIGTERM)
        out = mon.communicate(timeout=10)[0]
    return out


# A silent controller: accepts the switch's connections on PORT, says
# hello (OpenFlow 1.3) and then never answers.  Prints one line per event
# with the seconds since the first connection: "connect", "msg TYPE",
# "closed".
SILENT = r'''
import socket, struct, sys, time
port, duration = int(sys.argv[1]), float(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(4)
srv.settimeout(duration)
t0 = None
end = time.time() + duration
while time.time() < end:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        break
    t0 = t0 or time.time()
    print("connect %.2f" % (time.time() - t0), flush=True)
    c.sendall(struct.pack("!BBHI", 4, 0, 8, 1))
    c.settimeout(max(0.1, end - time.time()))
    buf = b""
    try:
        while True:
            data = c.recv(4096)
            if not data:
                print("closed %.2f" % (time.time() - t0), flush=True)
                break
            buf += data
            while len(buf) >= 8:
                length = struct.unpack("!H", buf[2:4])[0]
                if len(buf) < length:
                    break
                print("msg %d %.2f" % (buf[1], time.time() - t0),
                      flush=True)
                buf = buf[length:]
    except socket.timeout:
        pass
    c.close()
'''


def test_inactivity_probe_and_reconnect(topo, switch_factory):
    """A controller that stops answering gets an echo request after
    inactivity_probe and is disconnected after as long again; the switch
    then connects anew after its backoff."""
    s, nss, ofports = make_bridge(topo, switch_factory)
    port = random.randint(20000, 40000)
    script = os.path.join(s.rundir, "silent.py")
    with open(script, "w") as f:
        f.write(SILENT)
    ctl = subprocess.Popen(["ip", "netns", "exec", s.ns, "python3", script,
                            str(port), "9"], stdout=subprocess.PIPE,
                           text=True)
    time.sleep(0.5)
    s.vsctl("set-controller", "br0", "tcp:127.0.0.1:%d" % port,
            "--", "set", "Controller", "br0", "inactivity_probe=1000")
    out = ctl.communicate(timeout=30)[0]
    events = [line.split() for line in out.splitlines()]
    kinds = [e[0] if e[0] != "msg" else "msg%s" % e[1] for e in events]
    assert kinds[0] == "connect", out
    assert "msg0" in kinds, out                 # our hello
    echo = [float(e[2]) for e in events if e[:2] == ["msg", "2"]]
    assert echo and 0.8 <= echo[0] <= 2.5, out  # OFPT_ECHO_REQUEST
    closed = [float(e[1]) for e in events if e[0] == "closed"]
    assert closed and closed[0] - echo[0] >= 0.8, out
    assert kinds.count("connect") >= 2, out     # reconnected
    again = [float(e[1]) for e in events if e[0] == "connect"][1]
    assert again - closed[0] >= 0.8, out        # after a backoff


def test_ptcp_listener(topo, switch_factory):
    """A "ptcp:" controller target listens on loopback; ovs-ofctl
    connects to it as a controller would."""
    s, nss, ofports = make_bridge(topo, switch_factory)
    port = random.randint(20000, 40000)
    s.vsctl("set-controller", "br0", "ptcp:%d" % port)
    target = "tcp:127.0.0.1:%d" % port
    deadline = time.time() + 10
    while True:
        p = run(["ovs-ofctl", "-O", "OpenFlow13", "show", target], ns=s.ns,
                check=False)
        if p.returncode == 0:
            break
        assert time.time() < deadline, p.stderr + s.log()
        time.sleep(0.2)
    assert "OFPT_FEATURES_REPLY" in p.stdout, p.stdout
    assert "%d(%sa)" % (ofports["a"], topo.prefix) in p.stdout, p.stdout
    run(["ovs-ofctl", "add-flow", target, "priority=7,actions=drop"],
        ns=s.ns)
    assert any("priority=7" in f for f in flows(s))
    # Loopback only unless an address is given.
    out = run(["ss", "-ltnH"], ns=s.ns).stdout
    assert "127.0.0.1:%d" % port in out, out
    s.vsctl("del-controller", "br0")
    deadline = time.time() + 10
    while "127.0.0.1:%d" % port in run(["ss", "-ltnH"], ns=s.ns).stdout:
        assert time.time() < deadline, "listener stayed"
        time.sleep(0.2)


# Two raw OpenFlow 1.3 controllers on a "ptcp:" target: A asks to be
# master, then B does (A becomes a slave).  Prints the roles the switch
# replied with, then how many packet-ins each got while the test sends
# traffic.
ROLES = r'''
import select, socket, struct, sys, time
port = int(sys.argv[1])

def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(struct.pack("!BBHI", 4, 0, 8, 1))
    return s

def read_msg(s, buf):
    while len(buf[0]) < 8 or len(buf[0]) < struct.unpack(
            "!H", buf[0][2:4])[0]:
        data = s.recv(65536)
        if not data:
            raise SystemExit("closed")
        buf[0] += data
    n = struct.unpack("!H", buf[0][2:4])[0]
    m, buf[0] = buf[0][:n], buf[0][n:]
    return m

def role(s, buf, r, gen):
    s.sendall(struct.pack("!BBHIIIQ", 4, 24, 24, 7, r, 0, gen))
    while True:
        m = read_msg(s, buf)
        if m[1] == 25:
            return struct.unpack("!I", m[8:12])[0]

a, b = conn(), conn()
bufs = {a: [b""], b: [b""]}
print("a", role(a, bufs[a], 2, 1), flush=True)
print("b", role(b, bufs[b], 2, 2), flush=True)
print("a-now", role(a, bufs[a], 0, 0), flush=True)
counts = {a: 0, b: 0}
end = time.time() + float(sys.argv[2])
while time.time() < end:
    r, _, _ = select.select([a, b], [], [], 0.2)
    for s in r:
        bufs[s][0] += s.recv(65536)
        while len(bufs[s][0]) >= 8 and len(bufs[s][0]) >= struct.unpack(
                "!H", bufs[s][0][2:4])[0]:
            m = read_msg(s, bufs[s])
            if m[1] == 10:
                counts[s] += 1
            elif m[1] == 2:     # echo request
                s.sendall(m[:1] + b"\x03" + m[2:])
print("pins", counts[a], counts[b], flush=True)
'''


def test_roles(topo, switch_factory):
    """Only the master (or equals), never a slave, gets packet-ins; a new
    master turns the old one into a slave."""
    s, nss, ofports = make_bridge(topo, switch_factory)
    port = random.randint(20000, 40000)
    s.vsctl("set-controller", "br0", "ptcp:%d" % port)
    ofctl(s, "add-flow", "priority=0,actions=CONTROLLER:65535",
          version="OpenFlow13")
    script = os.path.join(s.rundir, "roles.py")
    with open(script, "w") as f:
        f.write(ROLES)
    deadline = time.time() + 10
    while run(["ovs-ofctl", "show", "tcp:127.0.0.1:%d" % port], ns=s.ns,
              check=False).returncode:
        assert time.time() < deadline, s.log()
        time.sleep(0.2)
    ctl = subprocess.Popen(["ip", "netns", "exec", s.ns, "python3", script,
                            str(port), "4"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5)
    ping(nss["a"], "10.42.0.2", count=2, check=False)
    out = ctl.communicate(timeout=30)[0]
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert lines.get("a") == "2" and lines.get("b") == "2", out  # MASTER
    assert lines.get("a-now") == "3", out                        # SLAVE
    a, b = (int(x) for x in lines["pins"].split())
    assert a == 0 and b > 0, out
