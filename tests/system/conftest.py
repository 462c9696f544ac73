"""Fixtures for hvs system tests: network namespaces with a per-test
prefix that are always removed, and hvs daemons started inside them."""
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import hvsnl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("HVS_BUILD") or os.path.join(ROOT, "build-check")
DPD = os.path.join(BUILD, "datapath", "hvs-dpd")
SHIM_LIB = os.path.join(BUILD, "shim", "libhvs-nlshim.so")
_counter = itertools.count()


def stop_process(p, sig=signal.SIGTERM, timeout=20):
    """Sends 'sig' to process 'p' if it still runs and waits 'timeout'
    seconds for it to exit, then kills it."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run(cmd, ns=None, check=True, timeout=60, env=None, input=None):
    """Runs 'cmd' (a list) in namespace 'ns'; returns CompletedProcess."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env, input=input)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


class Topo:
    """Namespaces and veth pairs named with a per-test prefix."""

    def __init__(self):
        self.prefix = "hvt%d%d" % (os.getpid() % 10000, next(_counter))
        self.namespaces = []

    def ns(self, name):
        full = "%s%s" % (self.prefix, name)
        run(["ip", "netns", "add", full])
        self.namespaces.append(full)
        run(["ip", "link", "set", "lo", "up"], ns=full)
        # Keep IPv6 autoconfiguration noise out of flow counts.
        run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], ns=full)
        run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
            ns=full)
        return full

    def veth(self, ns_a, name_a, ns_b, name_b):
        run(["ip", "link", "add", name_a, "netns", ns_a, "type", "veth",
             "peer", "name", name_b, "netns", ns_b])
        run(["ip", "link", "set", name_a, "up"], ns=ns_a)
        run(["ip", "link", "set", name_b, "up"], ns=ns_b)

    def vm(self, switch_ns, name, ip, mac):
        """A namespace PREFIX+name whose eth0 (ip/24, mac) is wired to
        interface PREFIX+name in switch_ns."""
        ns = self.ns(name)
        self.veth(ns, "eth0", switch_ns, self.prefix + name)
        run(["ip", "link", "set", "eth0", "address", mac], ns=ns)
        run(["ip", "addr", "add", ip + "/24", "dev", "eth0"], ns=ns)
        return ns

    def cleanup(self):
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            pids = subprocess.run(["ip", "netns", "pids", ns],
                                  capture_output=True, text=True).stdout
            for pid in pids.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Dpd:
    """hvs-dpd running in namespace 'ns' with a private run directory."""

    def __init__(self, ns, args=()):
        self.ns = ns
        self.rundir = tempfile.mkdtemp(prefix="hvs-test-")
        self.sock = os.path.join(self.rundir, "datapath.sock")
        self.log = os.path.join(self.rundir, "hvs-dpd.log")
        self.ctl = os.path.join(self.rundir, "hvs-dpd.ctl")
        self.stderr = open(os.path.join(self.rundir, "stderr"), "w+")
        # HVS_TEST_DPD_ARGS: flags for every hvs-dpd the tests start
        # (e.g. --kernel-cache, to run the whole suite with it).  They go
        # first so that a test's own flags (the last one wins) override
        # them where the test is about one setting.
        extra = os.environ.get("HVS_TEST_DPD_ARGS", "").split()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, DPD, "--rundir=" + self.rundir,
             "--log-file=" + self.log] + extra + list(args),
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 20
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError("hvs-dpd did not start:\n"
                                     + self.read_stderr())
            time.sleep(0.05)

    def read_stderr(self):
        self.stderr.flush()
        with open(self.stderr.name) as f:
            return f.read()

    def dpctl(self, *args, check=True):
        env = dict(os.environ, HVS_RUNDIR=self.rundir, LD_PRELOAD=SHIM_LIB)
        env.pop("ASAN_OPTIONS", None)
        return run(["env", "HVS_RUNDIR=" + self.rundir,
                    "LD_PRELOAD=" + SHIM_LIB, "ovs-dpctl"] + list(args),
                   ns=self.ns, check=check, env=env)

    def client(self):
        return hvsnl.Client(self.sock)

    def appctl(self, *args, check=True):
        """Debian's ovs-appctl on hvs-dpd's control socket."""
        return run(["ovs-appctl", "-t", self.ctl] + list(args), ns=self.ns,
                   check=check)

    def tnl_stats(self):
        """`tnl/stats` as a dict of counter name to value."""
        out = self.appctl("tnl/stats").stdout
        return {k: int(v) for k, v in
                re.findall(r"^\s+(\w+): (\d+)$", out, re.M)}

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Stops the daemon; returns its exit status and stderr (again
        when called again)."""
        if getattr(self, "stopped", None):
            return self.stopped
        stop_process(self.proc, timeout=30)
        err = self.read_stderr()
        self.stderr.close()
        self.stopped = (self.proc.returncode, err)
        return self.stopped

    def cleanup(self):
        shutil.rmtree(self.rundir, ignore_errors=True)


@pytest.fixture
def topo():
    t = Topo()
    try:
        yield t
    finally:
        t.cleanup()


@pytest.fixture
def dpd_factory(topo):
    """Starts hvs-dpd in a namespace; at teardown stops it and fails the
    test if it did not exit cleanly (sanitizer reports, leaks)."""
    started = []

    def start(ns, args=()):
        d = Dpd(ns, args)
        started.append(d)
        return d
    yield start
    problems = []
    for d in started:
        rc, err = d.stop()
        if rc != 0 or "Sanitizer" in err or "runtime error" in err:
            problems.append("hvs-dpd exit %s:\n%s" % (rc, err[-6000:]))
        d.cleanup()
    assert not problems, "\n".join(problems)


VSWITCHD = os.path.join(BUILD, "vswitchd", "hvs-vswitchd")
HVS_OVSDB = os.path.join(BUILD, "ovsdb", "hvs-ovsdb")
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class Switch:
    """hvs-dpd, an OVSDB server and hvs-vswitchd in namespace 'ns', sharing
    one run directory, driven with the real ovs-vsctl / ovs-appctl."""

    def __init__(self, dpd, ovsdb="debian"):
        self.dpd = dpd
        self.ns = dpd.ns
        self.rundir = dpd.rundir
        self.db_sock = os.path.join(self.rundir, "db.sock")
        self.db = os.path.join(self.rundir, "conf.db")
        self.procs = {}
        self.ovsdb_kind = "hvs" if (ovsdb == "hvs"
                                    and os.path.exists(HVS_OVSDB)) else "debian"
        if self.ovsdb_kind == "hvs":
            cmd = [HVS_OVSDB, self.db, "--rundir=" + self.rundir,
                   "--remote=punix:" + self.db_sock,
                   "--log-file=" + os.path.join(self.rundir, "ovsdb.log")]
        else:
            run(["ovsdb-tool", "create", self.db, OVS_SCHEMA])
            cmd = ["ovsdb-server", self.db, "--remote=punix:" + self.db_sock,
                   "--no-chdir", "--unixctl=" + os.path.join(
                       self.rundir, "ovsdb-server.ctl"),
                   "--log-file=" + os.path.join(self.rundir, "ovsdb.log")]
        self._start("ovsdb", cmd, self.db_sock)
        self.vsctl("--no-wait", "init")
        self.start_vswitchd()

    def _start(self, name, cmd, wait_path):
        err = open(os.path.join(self.rundir, name + ".stderr"), "w+")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns] + cmd,
                             stdout=subprocess.DEVNULL, stderr=err)
        self.procs[name] = (p, err)
        deadline = time.time() + 20
        while not os.path.exists(wait_path):
            if p.poll() is not None or time.time() > deadline:
                err.flush()
                raise AssertionError("%s did not start: %s" % (
                    name, open(err.name).read()))
            time.sleep(0.05)

    def start_vswitchd(self, args=()):
        ctl = os.path.join(self.rundir, "hvs-vswitchd.ctl")
        if os.path.exists(ctl):
            os.unlink(ctl)
        self._start("vswitchd", [VSWITCHD, "unix:" + self.db_sock,
                                 "--rundir=" + self.rundir,
                                 "--log-file=" + os.path.join(
                                     self.rundir, "hvs-vswitchd.log")]
                    + list(args), ctl)

    def stop(self, name, sig=signal.SIGTERM):
        p, err = self.procs.pop(name)
        stop_process(p, sig)
        err.flush()
        text = open(err.name).read()
        err.close()
        return p.returncode, text

    def vsctl(self, *args, check=True, timeout=30):
        return run(["ovs-vsctl", "--db=unix:" + self.db_sock,
                    "--timeout=%d" % timeout] + list(args), ns=self.ns,
                   check=check, timeout=timeout + 10)

    def appctl(self, *args, check=True):
        return run(["ovs-appctl", "-t", os.path.join(
            self.rundir, "hvs-vswitchd.ctl")] + list(args), ns=self.ns,
            check=check)

    def log(self):
        path = os.path.join(self.rundir, "hvs-vswitchd.log")
        return open(path).read() if os.path.exists(path) else ""

    def close(self):
        problems = []
        for name in list(self.procs):
            rc, err = self.stop(name)
            ours = name == "vswitchd" or (name == "ovsdb"
                                          and self.ovsdb_kind == "hvs")
            if ours and (rc != 0 or "Sanitizer" in err
                         or "runtime error" in err):
                problems.append("%s exit %s:\n%s" % (
                    "hvs-vswitchd" if name == "vswitchd" else "hvs-ovsdb",
                    rc, err[-6000:]))
        return problems


@pytest.fixture
def switch_factory(topo, dpd_factory):
    made = []

    def make(ovsdb="debian", name="sw", dpd_args=()):
        sw = topo.ns(name)
        d = dpd_factory(sw, dpd_args)
        s = Switch(d, ovsdb)
        made.append(s)
        return s
    yield make
    problems = []
    for s in made:
        problems += s.close()
    assert not problems, "\n".join(problems)
