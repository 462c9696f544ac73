"""Helpers for the hvs-ovsdb system tests: start hvs-ovsdb or Debian's
ovsdb-server in a private temporary directory and talk to them."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from conftest import stop_process

BUILD = os.environ.get("HVS_BUILD", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build"))
HVS_OVSDB = os.path.join(BUILD, "ovsdb", "hvs-ovsdb")
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}")


def have_real_ovs():
    return all(shutil.which(p) for p in ("ovsdb-server", "ovsdb-tool",
                                         "ovs-vsctl", "ovsdb-client"))


def ovs_env(tmp):
    env = dict(os.environ)
    # Keep the Open vSwitch tools away from the system's run directory.
    for var in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR"):
        env[var] = tmp
    return env


def wait_for_socket(path, proc, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d" % proc.returncode)
        if os.path.exists(path):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                s.close()
                return
            except OSError:
                pass
        time.sleep(0.02)
    raise RuntimeError("no socket %s" % path)


class Server:
    """A running database server with a unix socket at self.sock."""

    def __init__(self, tmp, kind="hvs", dbfile=None, extra=()):
        self.tmp = tmp
        self.kind = kind
        os.makedirs(tmp, exist_ok=True)
        self.sock = os.path.join(tmp, "db.sock")
        self.ctl = os.path.join(tmp, "ctl")
        self.db = dbfile or os.path.join(tmp, "conf.db")
        self.log = os.path.join(tmp, "server.log")
        self.extra = list(extra)
        self.proc = None
        self.start()

    @property
    def remote(self):
        return "unix:" + self.sock

    def start(self):
        if self.kind == "hvs":
            cmd = [HVS_OVSDB, self.db, "--rundir=" + self.tmp,
                   "--remote=punix:" + self.sock, "--unixctl=" + self.ctl,
                   "--log-file=" + self.log] + self.extra
        else:
            if not os.path.exists(self.db):
                subprocess.run(["ovsdb-tool", "create", self.db, OVS_SCHEMA],
                               check=True, env=ovs_env(self.tmp))
            cmd = ["ovsdb-server", self.db, "--remote=punix:" + self.sock,
                   "--unixctl=" + self.ctl, "--log-file=" + self.log,
                   "--no-chdir"] + self.extra
        self.stderr = open(os.path.join(self.tmp, "stderr"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.stderr,
                                     stderr=self.stderr,
                                     env=ovs_env(self.tmp))
        wait_for_socket(self.sock, self.proc)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.stderr.close()

    def stop(self):
        if self.proc:
            stop_process(self.proc, timeout=10)
        self.stderr.close()
        return self.proc.returncode

    def sanitizer_report(self):
        """Sanitizer or crash output the server printed, or ''."""
        text = open(os.path.join(self.tmp, "stderr"), errors="replace").read()
        i = text.find("Sanitizer")
        return text[max(0, i - 200):i + 3000] if i >= 0 else ""

    def restart(self):
        self.kill()
        self.start()

    def vsctl(self, *args):
        p = subprocess.run(["ovs-vsctl", "--db=" + self.remote, "--no-wait",
                            "--timeout=10"] + list(args),
                           capture_output=True, text=True,
                           env=ovs_env(self.tmp), timeout=30)
        return p.returncode, p.stdout, p.stderr

    def client(self, *args, timeout=30):
        p = subprocess.run(["ovsdb-client"] + list(args),
                           capture_output=True, text=True,
                           env=ovs_env(self.tmp), timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def appctl(self, *args):
        p = subprocess.run(["ovs-appctl", "-t", self.ctl] + list(args),
                           capture_output=True, text=True,
                           env=ovs_env(self.tmp), timeout=30)
        return p.returncode, p.stdout, p.stderr


class Rpc:
    """A raw JSON-RPC connection."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(10)
        self.buf = b""
        self.dec = json.JSONDecoder()
        self.next_id = 1
        self.notes = []

    def send_raw(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def recv(self):
        while True:
            text = self.buf.decode("utf-8", "replace").lstrip()
            if text:
                try:
                    obj, end = self.dec.raw_decode(text)
                    self.buf = text[end:].encode()
                    return obj
                except ValueError:
                    pass
            data = self.s.recv(1 << 20)
            if not data:
                raise EOFError
            self.buf += data

    def call(self, method, params):
        mid = self.next_id
        self.next_id += 1
        self.send_raw(json.dumps({"id": mid, "method": method,
                                  "params": params}))
        while True:
            m = self.recv()
            if m.get("id") == mid:
                return m
            self.notes.append(m)

    def close(self):
        self.s.close()


def normalise(text):
    """Replaces UUIDs and sorts lines: row order follows UUIDs, which
    differ between servers."""
    return sorted(UUID_RE.sub("<uuid>", text).splitlines())
