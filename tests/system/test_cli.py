"""The hvs command: vm set-port-name / list against real interfaces in a
namespace, start / status / stop of the daemons with private directories,
show against hvs-dpd driven by ovs-dpctl through the shim, and the usage
and failure messages."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import BUILD, run

HVS = os.path.join(BUILD, "cli", "hvs")
DAEMONS = [("hvs-dpd", "datapath"), ("hvs-ovsdb", "ovsdb"),
           ("hvs-vswitchd", "vswitchd")]
VM1 = ("10.32.0.1", "02:32:00:00:00:01")
VM2 = ("10.32.0.2", "02:32:00:00:00:02")

pytestmark = pytest.mark.skipif(not os.path.exists(HVS),
                                reason="hvs is not built in " + BUILD)


def hvs(*args, ns=None, env=None):
    return run([HVS] + list(args), ns=ns, check=False, env=env)


def built(name, subdir):
    return os.path.exists(os.path.join(BUILD, subdir, name))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited too.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def dirs():
    rundir = tempfile.mkdtemp(prefix="hvs-cli-run-")
    dbdir = tempfile.mkdtemp(prefix="hvs-cli-db-")
    yield rundir, os.path.join(dbdir, "sub")
    shutil.rmtree(rundir, ignore_errors=True)
    shutil.rmtree(dbdir, ignore_errors=True)


# ---- usage ---------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    ([], "missing command"),
    (["frob"], "unknown command 'frob'"),
    (["--frob"], "unknown option '--frob'"),
    (["-x", "status"], "unknown option '-x'"),
    (["--rundir"], "option '--rundir' requires an argument"),
    (["--rundir=", "status"], "--rundir needs a directory"),
    (["--help=yes"], "option '--help' does not take an argument"),
    (["vm"], "vm: missing subcommand"),
    (["vm", "frob"], "vm: unknown subcommand 'frob'"),
    (["vm", "set-port-name", "eth0"], "expected IFACE NAME"),
    (["vm", "set-port-name", "eth0", "a", "b"], "expected IFACE NAME"),
    (["vm", "list", "x"], "vm list: unexpected argument 'x'"),
    (["start", "x"], "start: unexpected argument 'x'"),
    (["stop", "x"], "stop: unexpected argument 'x'"),
    (["status", "x"], "status: unexpected argument 'x'"),
    (["show", "a", "b"], "show: expected at most one DATAPATH"),
])
def test_usage_errors_exit_2(args, message):
    p = hvs(*args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("hvs: ")
    assert message in p.stderr
    assert p.stdout == ""


def test_help_and_version():
    p = hvs("--help")
    assert p.returncode == 0
    for word in ("start", "stop", "status", "show", "set-port-name",
                 "--rundir", "--dbdir"):
        assert word in p.stdout
    p = hvs("-V")
    assert p.returncode == 0
    assert re.match(r"hvs \(hvs\) \d+\.\d+\.\d+\n$", p.stdout)


# ---- vm set-port-name / list ---------------------------------------------

def ifalias(ns, iface):
    return run(["cat", "/sys/class/net/%s/ifalias" % iface],
               ns=ns).stdout.strip()


def vm_list(ns):
    p = hvs("vm", "list", ns=ns)
    assert p.returncode == 0, p.stderr
    return [line.split() for line in p.stdout.splitlines()]


def test_set_port_name_sets_alias_and_list_shows_it(topo):
    ns = topo.ns("h")
    topo.veth(ns, "tap-vm1", ns, "peer1")
    assert vm_list(ns) == []

    p = hvs("vm", "set-port-name", "tap-vm1", "vm1-eth0", ns=ns)
    assert p.returncode == 0, p.stderr
    assert "alias vm1-eth0" in run(["ip", "link", "show", "tap-vm1"],
                                   ns=ns).stdout
    assert vm_list(ns) == [["tap-vm1", "vm1-eth0"]]

    # A new name replaces the old one.
    assert hvs("vm", "set-port-name", "tap-vm1", "p7",
               ns=ns).returncode == 0
    assert ifalias(ns, "tap-vm1") == "p7"
    assert hvs("vm", "set-port-name", "peer1", "p8", ns=ns).returncode == 0
    assert vm_list(ns) == [["tap-vm1", "p7"], ["peer1", "p8"]] or \
        vm_list(ns) == [["peer1", "p8"], ["tap-vm1", "p7"]]

    # "" clears it.
    p = hvs("vm", "set-port-name", "tap-vm1", "", ns=ns)
    assert p.returncode == 0, p.stderr
    assert "alias" not in run(["ip", "link", "show", "tap-vm1"],
                              ns=ns).stdout
    assert ifalias(ns, "tap-vm1") == ""
    assert vm_list(ns) == [["peer1", "p8"]]


def test_set_port_name_errors_name_object_and_cause(topo):
    ns = topo.ns("h")
    topo.veth(ns, "tap-a", ns, "tap-b")

    p = hvs("vm", "set-port-name", "vm9", "p1", ns=ns)
    assert p.returncode == 1
    assert p.stderr == ("hvs: cannot set port name of vm9: no such host "
                        "interface\n")

    # Clearing a missing interface is the same error.
    p = hvs("vm", "set-port-name", "vm9", "", ns=ns)
    assert p.returncode == 1
    assert "cannot set port name of vm9: no such host interface" in p.stderr

    # One port name, one interface.
    assert hvs("vm", "set-port-name", "tap-a", "p1", ns=ns).returncode == 0
    p = hvs("vm", "set-port-name", "tap-b", "p1", ns=ns)
    assert p.returncode == 1
    assert ("cannot set port name of tap-b to 'p1': it is already the port "
            "name of tap-a") in p.stderr
    assert ifalias(ns, "tap-b") == ""
    # Setting the name an interface already has is fine.
    assert hvs("vm", "set-port-name", "tap-a", "p1", ns=ns).returncode == 0

    for bad, why in (("a b", "white space"), ("a\tb", "white space"),
                     ("x" * 256, "at most 255 bytes")):
        p = hvs("vm", "set-port-name", "tap-b", bad, ns=ns)
        assert p.returncode == 2, bad
        assert "cannot set port name of tap-b" in p.stderr
        assert why in p.stderr
        assert ifalias(ns, "tap-b") == ""
    # The longest allowed name goes through untouched.
    assert hvs("vm", "set-port-name", "tap-b", "y" * 255,
               ns=ns).returncode == 0
    assert ifalias(ns, "tap-b") == "y" * 255


def test_set_port_name_needs_privilege(topo):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv")
    ns = topo.ns("h")
    topo.veth(ns, "tap-a", ns, "tap-b")
    p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "--inh-caps=-all", HVS, "vm", "set-port-name", "tap-a", "p1"],
            ns=ns, check=False)
    assert p.returncode == 1
    assert "cannot set port name of tap-a: permission denied" in p.stderr
    assert ifalias(ns, "tap-a") == ""


# ---- start / status / stop -----------------------------------------------

def gone_soon(pid, timeout=5.0):
    """Whether 'pid' exits within 'timeout' seconds.  A daemon releases its
    pid file (what "hvs stop" waits for) a moment before its process ends:
    the sanitizers' leak check runs at exit, after it."""
    deadline = time.time() + timeout
    while alive(pid):
        if time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


def parse_status(out, ctls=None):
    """{daemon: pid or None} from 'hvs status' output; the control socket
    each running daemon answers on goes into 'ctls' (a dict) if given."""
    states = {}
    for line in out.splitlines():
        m = re.match(r"(hvs-[a-z]+): (running \(pid (\d+)\)"
                     r"(?:, control socket (\S+)( not answering: .+)?)?"
                     r"|stopped)$", line)
        assert m, "unexpected status line %r" % line
        states[m.group(1)] = int(m.group(3)) if m.group(3) else None
        if ctls is not None and m.group(4) and not m.group(5):
            ctls[m.group(1)] = m.group(4)
    return states


def test_start_status_stop(topo, dirs):
    rundir, dbdir = dirs
    ns = topo.ns("h")
    common = ["--rundir=" + rundir, "--dbdir=" + dbdir]
    present = [name for name, sub in DAEMONS if built(name, sub)]
    if "hvs-dpd" not in present:
        pytest.skip("hvs-dpd is not built")

    p = hvs(*common, "status", ns=ns)
    assert p.returncode == 3
    assert parse_status(p.stdout) == {n: None for n, _ in DAEMONS}

    try:
        p = hvs(*common, "start", ns=ns)
        pids = {}
        for name in present:
            m = re.search(r"^%s: starting\.\.\. running \(pid (\d+)\)$"
                          % name, p.stdout, re.M)
            assert m, "%s did not start:\n%s%s" % (name, p.stdout, p.stderr)
            pids[name] = int(m.group(1))
            assert alive(pids[name])
        if len(present) == len(DAEMONS):
            assert p.returncode == 0, p.stderr
            assert p.stderr == ""
        else:
            assert p.returncode == 1
            for name, _ in DAEMONS:
                if name not in present:
                    assert "cannot start %s: not found" % name in p.stderr

        # Their sockets answer in the run directory, the database lives
        # in the database directory.
        assert os.path.exists(os.path.join(rundir, "datapath.sock"))
        if "hvs-ovsdb" in present:
            assert os.path.exists(os.path.join(dbdir, "conf.db"))
            assert os.path.exists(os.path.join(rundir, "db.sock"))
        if "hvs-vswitchd" in present:
            assert os.path.exists(os.path.join(rundir, "hvs-vswitchd.ctl"))
        for name in present:
            assert os.path.exists(os.path.join(rundir, name + ".log"))

        p = hvs(*common, "status", ns=ns)
        ctls = {}
        states = parse_status(p.stdout, ctls)
        for name in present:
            assert states[name] == pids[name]
            # ... each with the socket ovs-appctl -t takes, answering.
            assert ctls[name] == os.path.join(rundir, name + ".ctl"), \
                p.stdout
            run(["ovs-appctl", "-t", ctls[name], "version"], ns=ns)
        assert p.returncode == (0 if len(present) == len(DAEMONS) else 3)

        # Starting again leaves the running ones alone.
        p = hvs(*common, "start", ns=ns)
        for name in present:
            assert "%s: already running (pid %d)" % (name, pids[name]) \
                in p.stdout

        if "hvs-dpd" in present:
            show = hvs(*common, "show", ns=ns)
            assert show.returncode == 0, show.stderr

        p = hvs(*common, "stop", ns=ns)
        assert p.returncode == 0, p.stderr
        order = [line.split(":")[0] for line in p.stdout.splitlines()]
        assert order == [n for n, _ in reversed(DAEMONS)]
        for name in present:
            assert "%s: stopping (pid %d)... stopped" % (name, pids[name]) \
                in p.stdout
            assert gone_soon(pids[name])
            assert not os.path.exists(os.path.join(rundir, name + ".pid"))
        p = hvs(*common, "status", ns=ns)
        assert p.returncode == 3
        assert parse_status(p.stdout) == {n: None for n, _ in DAEMONS}
        # Stopping what is stopped is not an error.
        p = hvs(*common, "stop", ns=ns)
        assert p.returncode == 0
        assert p.stdout.count("not running") == 3
    finally:
        hvs(*common, "stop", ns=ns)


def fake_tree(tmp_path, daemons):
    """A build-tree lookalike holding a copy of hvs in cli/ and the given
    {name: (subdir, source path or script text)} daemons."""
    os.makedirs(tmp_path / "cli")
    shutil.copy(HVS, tmp_path / "cli" / "hvs")
    for name, (subdir, what) in daemons.items():
        os.makedirs(tmp_path / subdir, exist_ok=True)
        dst = tmp_path / subdir / name
        if os.path.exists(what):
            os.symlink(what, dst)
        else:
            dst.write_text(what)
            dst.chmod(0o755)
    return str(tmp_path / "cli" / "hvs")


def sbindir_has(name):
    return any(os.path.exists(os.path.join(d, name))
               for d in ("/usr/local/sbin", "/usr/sbin", "/usr/bin",
                         "/bin", "/usr/local/bin"))


def test_start_reports_missing_daemons(topo, dirs, tmp_path):
    if not built("hvs-dpd", "datapath"):
        pytest.skip("hvs-dpd is not built")
    if sbindir_has("hvs-ovsdb") or sbindir_has("hvs-vswitchd"):
        pytest.skip("hvs daemons are installed on this host")
    rundir, dbdir = dirs
    ns = topo.ns("h")
    exe = fake_tree(tmp_path, {"hvs-dpd": (
        "datapath", os.path.join(BUILD, "datapath", "hvs-dpd"))})
    env = dict(os.environ, PATH="/usr/bin:/bin")
    common = ["--rundir=" + rundir, "--dbdir=" + dbdir]
    try:
        p = run([exe] + common + ["start"], ns=ns, check=False, env=env)
        assert p.returncode == 1
        assert re.search(r"^hvs-dpd: starting\.\.\. running \(pid \d+\)$",
                         p.stdout, re.M), p.stdout + p.stderr
        for name in ("hvs-ovsdb", "hvs-vswitchd"):
            assert ("hvs: cannot start %s: not found next to %s" %
                    (name, os.path.dirname(exe))) in p.stderr
        assert "2 of 3 daemons could not be started" in p.stderr
        p = run([exe] + common + ["status"], ns=ns, check=False, env=env)
        assert p.returncode == 3
        states = parse_status(p.stdout)
        assert states["hvs-dpd"] and states["hvs-vswitchd"] is None
    finally:
        p = run([exe] + common + ["stop"], ns=ns, check=False, env=env)
    assert p.returncode == 0, p.stderr
    assert "hvs-dpd: stopping" in p.stdout


FAIL_SCRIPT = """#!/bin/sh
for a in "$@"; do
    case $a in --log-file=*) log=${a#--log-file=} ;; esac
done
echo "old line from an earlier run" >> "$log"
%s
exit 3
"""


@pytest.mark.parametrize("where", ["log", "stderr"])
def test_start_failure_says_which_and_why(topo, dirs, tmp_path, where):
    rundir, dbdir = dirs
    ns = topo.ns("h")
    why = "hvs-dpd: cannot listen on datapath.sock: Address in use"
    action = ('echo "%s" >> "$log"' if where == "log"
              else 'echo "%s" >&2') % why
    exe = fake_tree(tmp_path, {"hvs-dpd": ("datapath",
                                           FAIL_SCRIPT % action)})
    p = run([exe, "--rundir=" + rundir, "--dbdir=" + dbdir, "start"],
            ns=ns, check=False)
    assert p.returncode == 1
    assert p.stdout == "hvs-dpd: starting... failed\n"
    assert "hvs: cannot start hvs-dpd: exited with status 3" in p.stderr
    assert why in p.stderr
    assert os.path.join(rundir, "hvs-dpd.log") in p.stderr
    # Nothing after a failed daemon is started.
    assert "hvs-ovsdb" not in p.stdout + p.stderr


LOCKER = """
import fcntl, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
f = open(sys.argv[1], "w")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
f.write("%d\\n" % os.getpid())
f.flush()
print("locked", flush=True)
time.sleep(120)
"""


def test_stop_kills_a_daemon_that_ignores_sigterm(dirs):
    rundir, _ = dirs
    pidfile = os.path.join(rundir, "hvs-vswitchd.pid")
    child = subprocess.Popen([sys.executable, "-c", LOCKER, pidfile],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "locked\n"
        p = hvs("--rundir=" + rundir, "status")
        assert parse_status(p.stdout)["hvs-vswitchd"] == child.pid

        start = time.time()
        p = hvs("--rundir=" + rundir, "stop")
        took = time.time() - start
        assert p.returncode == 0, p.stderr
        assert ("hvs: warning: hvs-vswitchd (pid %d) did not exit within "
                "10 s of SIGTERM; sending SIGKILL" % child.pid) in p.stderr
        assert "hvs-vswitchd: killed" in p.stdout
        assert child.wait(timeout=5) == -signal.SIGKILL
        assert 9.5 < took < 20
        assert not os.path.exists(pidfile)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_status_ignores_a_stale_pid_file(dirs):
    rundir, _ = dirs
    # A live pid in an unlocked file: its daemon died and the pid was
    # reused.  Only the lock says a daemon runs.
    with open(os.path.join(rundir, "hvs-dpd.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    p = hvs("--rundir=" + rundir, "status")
    assert p.returncode == 3
    assert parse_status(p.stdout)["hvs-dpd"] is None
    p = hvs("--rundir=" + rundir, "stop")
    assert p.returncode == 0
    assert "hvs-dpd: not running" in p.stdout


# ---- show ----------------------------------------------------------------

FLOWS = [
    ("in_port(1),eth(),eth_type(0x0806),arp()", "2"),
    ("in_port(2),eth(),eth_type(0x0806),arp()", "1"),
    ("in_port(1),eth(),eth_type(0x0800),ipv4()", "2"),
    ("in_port(2),eth(),eth_type(0x0800),ipv4()", "1"),
]


def parse_show(out):
    """{datapath: {"flows": N, "hit": N, "missed": N, "ports":
    {port_no: (name, rest, rx_packets, tx_packets)}}}"""
    dps, dp, port = {}, None, None
    for line in out.splitlines():
        m = re.match(r"datapath (\S+) \(ifindex \d+\)$", line)
        if m:
            dp = dps[m.group(1)] = {"ports": {}}
            continue
        m = re.match(r"  flows: (\d+)$", line)
        if m:
            dp["flows"] = int(m.group(1))
            continue
        m = re.match(r"  lookups: hit:(\d+) missed:(\d+) lost:(\d+) "
                     r"hit-rate:(\S+)$", line)
        if m:
            dp["hit"], dp["missed"] = int(m.group(1)), int(m.group(2))
            dp["hit_rate"] = m.group(4)
            continue
        m = re.match(r"  port (\d+): (\S+) \((.*)\)$", line)
        if m:
            port = [m.group(2), m.group(3), None, None]
            dp["ports"][int(m.group(1))] = port
            continue
        m = re.match(r"    ([rt]x): packets:(\d+) bytes:\d+ errors:\d+ "
                     r"dropped:\d+$", line)
        if m:
            port[2 if m.group(1) == "rx" else 3] = int(m.group(2))
            continue
        if line.startswith("kernel flow cache: "):
            continue            # with HVS_TEST_DPD_ARGS=--kernel-cache
        assert re.match(r"  masks: ", line), "unexpected line %r" % line
    return dps


def test_show_lists_datapaths_ports_counters_and_hit_rates(topo,
                                                           dpd_factory):
    sw = topo.ns("sw")
    vm1 = topo.vm(sw, "v1", *VM1)
    topo.vm(sw, "v2", *VM2)
    d = dpd_factory(sw)
    rundir = "--rundir=" + d.rundir

    p = hvs(rundir, "show", ns=sw)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "no datapaths\n"
    # "show" is read-only: unlike dpif_open() it created no datapath.
    assert "system@" not in d.dpctl("show").stdout

    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "v1")
    d.dpctl("add-if", "dp0", topo.prefix + "v2")
    assert hvs("vm", "set-port-name", topo.prefix + "v1", "vm1-eth0",
               ns=sw).returncode == 0
    for match, actions in FLOWS:
        d.dpctl("add-flow", "dp0", match, actions)

    ping = run(["ping", "-c", "3", "-i", "0.2", "-W", "2", VM2[0]], ns=vm1,
               check=False)
    assert ping.returncode == 0, ping.stdout

    p = hvs(rundir, "show", ns=sw)
    assert p.returncode == 0, p.stderr
    dps = parse_show(p.stdout)
    assert list(dps) == ["dp0"]
    dp = dps["dp0"]
    assert dp["flows"] == 4
    ports = dp["ports"]
    assert sorted(ports) == [0, 1, 2]
    assert ports[0][:2] == ["dp0", "internal"]
    assert ports[1][:2] == [topo.prefix + "v1", "netdev, port name vm1-eth0"]
    assert ports[2][:2] == [topo.prefix + "v2", "netdev"]
    # 3 echo requests and at least one ARP each way went through flows.
    assert ports[1][2] >= 4 and ports[2][2] >= 4
    assert ports[1][3] >= 4 and ports[2][3] >= 4
    assert dp["hit"] >= 8
    rate = 100.0 * dp["hit"] / (dp["hit"] + dp["missed"])
    assert dp["hit_rate"] == "%.1f%%" % rate

    # The counters agree with what ovs-dpctl reads from the same daemon.
    dpctl = d.dpctl("show", "-s").stdout
    m = re.search(r"lookups: hit:(\d+) missed:(\d+)", dpctl)
    assert int(m.group(1)) >= dp["hit"]

    # Naming the datapath shows just it; a wrong name is an error.
    assert parse_show(hvs(rundir, "show", "dp0", ns=sw).stdout).keys() == \
        {"dp0"}
    p = hvs(rundir, "show", "nosuch", ns=sw)
    assert p.returncode == 1
    assert "hvs: cannot show datapath nosuch: no such datapath" in p.stderr

    # Nor did it change the flows it counted.
    assert len(d.dpctl("dump-flows", "dp0").stdout.splitlines()) == 4
    d.dpctl("del-dp", "dp0")
    assert hvs(rundir, "show", ns=sw).stdout == "no datapaths\n"


def test_show_without_hvs_dpd(dirs):
    rundir, _ = dirs
    p = hvs("--rundir=" + rundir, "show")
    assert p.returncode == 1
    assert ("hvs: cannot show datapaths: cannot connect to hvs-dpd at "
            "%s/datapath.sock: No such file or directory" % rundir) \
        in p.stderr
    assert "hvs start" in p.stderr


def test_show_lists_bridges_ports_and_their_datapath_ports(topo,
                                                          switch_factory):
    """With hvs-ovsdb and hvs-vswitchd beside hvs-dpd, show starts with the
    bridges: each port, its interfaces with type, ofport, where it landed
    in the datapath, and the error of one that could not be added."""
    s = switch_factory(ovsdb="hvs")
    sw = s.ns
    topo.vm(sw, "v1", *VM1)
    topo.vm(sw, "v2", *VM2)
    assert hvs("vm", "set-port-name", topo.prefix + "v1", "vm1-eth0",
               ns=sw).returncode == 0
    s.vsctl("add-br", "br0")
    s.vsctl("add-port", "br0", "vm1-eth0")
    s.vsctl("add-port", "br0", topo.prefix + "v2", "tag=7")
    s.vsctl("add-port", "br0", "vx0", "--", "set", "interface", "vx0",
            "type=vxlan", "options:remote_ip=10.32.9.9", "options:key=5")
    s.vsctl("add-port", "br0", "nosuch9")
    rundir = "--rundir=" + s.rundir

    p = hvs(rundir, "show", ns=sw)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    bridges = out[:out.index("\ndatapath ")]
    ofport = {}
    for name in ("vm1-eth0", topo.prefix + "v2", "vx0", "br0"):
        m = re.search(r"^    interface %s \((\S+?)[,)].* ofport (\d+)"
                      % re.escape(name), bridges, re.M)
        assert m, "%s missing from:\n%s" % (name, bridges)
        ofport[name] = int(m.group(2))
    assert ofport["br0"] == 65534
    # The same ofports ovs-vsctl reads back from the database.
    for name, n in ofport.items():
        assert int(s.vsctl("get", "interface", name,
                           "ofport").stdout) == n
    assert re.search(r"^bridge br0$", bridges, re.M)
    assert re.search(r"^  port %sv2 \(tag 7\)$" % topo.prefix, bridges,
                     re.M)
    assert re.search(r"interface vx0 \(vxlan, remote_ip 10.32.9.9, key 5\) "
                     r"ofport \d+, datapath ovs-system port \d+ "
                     r"\(vxlan_sys_4789\)", bridges)
    assert re.search(r"interface vm1-eth0 \(system\) ofport \d+, datapath "
                     r"ovs-system port \d+ \(host interface %sv1\)"
                     % topo.prefix, bridges)
    assert re.search(r"interface nosuch9 \(system\)\n      error: .*nosuch9",
                     bridges)
    # The datapath part follows, unchanged.
    assert re.search(r"^datapath ovs-system \(ifindex \d+\)$", out, re.M)
    # With a tunnel port, hvs-dpd's tunnel counters close it.
    assert re.search(r"^tunnels: encap:\d+ decap:\d+ held:\d+ dropped:\d+ "
                     r"host-stack tx:\d+ rx:\d+$", out, re.M), out
    assert re.search(r"^  port \d+: %sv2 \(netdev\)$" % topo.prefix, out,
                     re.M)

    # Without the database, show still lists the datapath.
    s.stop("vswitchd")
    s.stop("ovsdb")
    p = hvs(rundir, "show", ns=sw)
    assert "bridge " not in p.stdout
    assert "datapath ovs-system" in p.stdout


def test_start_with_kernel_cache(topo, dirs):
    """hvs-dpd runs with its kernel flow cache unless `hvs start
    --kernel-cache=off` says otherwise; the flag belongs to start, not to
    hvs, and only on and off are values."""
    rundir, dbdir = dirs
    ns = topo.ns("h")
    common = ["--rundir=" + rundir, "--dbdir=" + dbdir]
    if not built("hvs-dpd", "datapath"):
        pytest.skip("hvs-dpd is not built")
    ctl = os.path.join(rundir, "hvs-dpd.ctl")
    for flags, state in (([], "on"), (["--kernel-cache=off"], "off"),
                         (["--kernel-cache"], "on")):
        try:
            p = hvs(*common, "start", *flags, ns=ns)
            assert re.search(r"^hvs-dpd: starting\.\.\. running",
                             p.stdout, re.M), p.stdout + p.stderr
            out = run(["ovs-appctl", "-t", ctl, "kflow/show"],
                      ns=ns).stdout
            assert out.startswith("kernel flow cache: " + state), \
                (flags, out)
        finally:
            hvs(*common, "stop", ns=ns)
    p = hvs(*common, "start", "--kernel-cache=maybe", ns=ns)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "--kernel-cache=maybe" in p.stderr
    p = hvs(*common, "--kernel-cache", "start", ns=ns)
    assert p.returncode == 2
    assert "unknown option '--kernel-cache'" in p.stderr
