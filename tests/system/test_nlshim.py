"""System tests of libhvs-nlshim.so against a fake hvs-dpd.

The fake (nlshim_fake_server.py) runs in this process; the programs under
test run in child processes with the shim preloaded through the hvs-nlshim
wrapper: Debian's unmodified ovs-dpctl, and small Python clients (CPython's
socket module calls libc's socket functions, so the shim interposes them
exactly as it does for Open vSwitch).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nlshim_fake_server as fake  # noqa: E402

BUILD = os.environ.get("HVS_BUILD", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "build"))
WRAPPER = os.path.join(BUILD, "shim", "hvs-nlshim")
LIBRARY = os.path.join(BUILD, "shim", "libhvs-nlshim.so")
OVS_DPCTL = shutil.which("ovs-dpctl") or "/usr/bin/ovs-dpctl"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(WRAPPER) and os.path.exists(LIBRARY)),
    reason="libhvs-nlshim.so not built in %s" % BUILD)


@pytest.fixture
def rundir():
    # Short, so that the socket path fits in sun_path whatever the test name.
    d = tempfile.mkdtemp(prefix="nlshim-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(rundir):
    srv = fake.FakeServer(os.path.join(rundir, "datapath.sock")).start()
    yield srv
    srv.stop()


def shim_env(**extra):
    env = dict(os.environ)
    # Never inherit the caller's shim settings.
    for var in ("HVS_NLSHIM_SOCK", "HVS_NLSHIM_LIB", "HVS_RUNDIR",
                "LD_PRELOAD"):
        env.pop(var, None)
    env.update(extra)
    return env


def run_shimmed(rundir, argv, timeout=30, env=None):
    return subprocess.run(["/bin/sh", WRAPPER, "--rundir=" + rundir] + argv,
                          env=env or shim_env(), capture_output=True,
                          text=True, timeout=timeout)


# Helpers shared by the client programs below.
PRELUDE = textwrap.dedent(r'''
    import errno, os, select, socket, struct, sys, threading, time
    NETLINK_GENERIC = 16
    SOL_NETLINK = 270
    NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP = 1, 2
    NETLINK_LIST_MEMBERSHIPS, NETLINK_EXT_ACK = 9, 11
    NLMSG_ERROR, NLMSG_DONE, NLM_F_MULTI = 2, 3, 2
    HDR = struct.Struct("=IHHII")
    TEST_ID = 0x7f

    def genl(mtype, cmd, seq, payload=b"", flags=1):
        body = struct.pack("=BBH", cmd, 1, 0) + payload
        return HDR.pack(HDR.size + len(body), mtype, flags, seq, 0) + body

    def attr(atype, data):
        a = struct.pack("=HH", 4 + len(data), atype) + data
        return a + b"\0" * (-len(a) % 4)

    def parse(buf):
        out, off = [], 0
        while off + 16 <= len(buf):
            ln, t, fl, seq, pid = HDR.unpack_from(buf, off)
            out.append((t, fl, seq, pid, buf[off + 16:off + ln]))
            off += (ln + 3) & ~3
        return out

    def open_genl(flags=0):
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | flags,
                             NETLINK_GENERIC)

    def getfamily(s, name, seq=1):
        s.send(genl(0x10, 3, seq, attr(2, name.encode() + b"\0")))
        (t, fl, rseq, pid, body), = parse(s.recv(4096, socket.MSG_DONTWAIT))
        assert rseq == seq, rseq
        if t == NLMSG_ERROR:
            return -struct.unpack_from("=i", body)[0]
        off = 4
        while off < len(body):
            ln, at = struct.unpack_from("=HH", body, off)
            if at == 1:
                return struct.unpack_from("=H", body, off + 4)[0]
            off += (ln + 3) & ~3
        raise AssertionError("no family id")

    def info(msg):
        t, fl, seq, pid, body = msg
        assert t == TEST_ID, msg
        rec, index, count, portid, ngroups = struct.unpack_from("=5I", body, 4)
        groups = list(struct.unpack_from("=%dI" % ngroups, body, 24))
        return dict(rec=rec, index=index, count=count, portid=portid,
                    groups=groups, seq=seq)

    def expect_eagain(s, flags=socket.MSG_DONTWAIT):
        t0 = time.monotonic()
        try:
            data = s.recv(4096, flags)
        except BlockingIOError:
            assert time.monotonic() - t0 < 2.0   # did not wait for data
            return
        raise AssertionError("expected EAGAIN, got %r" % data)
''')


def run_client(rundir, code, timeout=30, env=None):
    """Runs 'code' (after PRELUDE) under the shim; it must print DONE."""
    p = run_shimmed(rundir, [sys.executable, "-c",
                             PRELUDE + textwrap.dedent(code)
                             + "\nprint('DONE')\n"],
                    timeout=timeout, env=env)
    assert p.returncode == 0 and "DONE" in p.stdout, \
        "rc %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout,
                                             p.stderr)
    return p


# ---- unmodified ovs-dpctl ----

@pytest.mark.skipif(not os.path.exists(OVS_DPCTL),
                    reason="ovs-dpctl (openvswitch-common) not installed")
def test_ovs_dpctl_show_through_fake_daemon(rundir, server):
    p = run_shimmed(rundir, [OVS_DPCTL, "show"])
    assert p.returncode == 1
    assert "failed to enumerate system datapaths: No such file or " \
        "directory" in p.stderr
    assert "hvs-nlshim" not in p.stderr
    # Every family lookup went to the daemon, one connection each.
    looked_up = [e[2] for e in server.log if e[0] == "getfamily"]
    assert looked_up[0] == "ovs_datapath"
    assert "ovs_ct_limit" in looked_up
    connects = [e for e in server.log if e[0] == "connect"]
    assert len(connects) == len(looked_up)


@pytest.mark.skipif(not os.path.exists(OVS_DPCTL),
                    reason="ovs-dpctl (openvswitch-common) not installed")
def test_ovs_dpctl_show_datapath_from_slow_daemon(rundir):
    # Every reply comes 5 ms late: Open vSwitch reads them with
    # MSG_DONTWAIT and would take the empty queue for "no reply" or the end
    # of a dump if the shim did not wait for each request's SYNC.
    srv = fake.FakeServer(os.path.join(rundir, "datapath.sock"),
                          ovs_dp="dp0", reply_delay=0.005).start()
    try:
        p = run_shimmed(rundir, [OVS_DPCTL, "show"])
    finally:
        srv.stop()
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("system@dp0:\n"), p.stdout
    assert "  port 0: dp0 (internal)\n" in p.stdout
    gets = [e for e in srv.log if e[0] == "ovs" and e[2:4] == (0x21, 3)]
    assert len(gets) > 3        # the host-interface lookups by name


@pytest.mark.skipif(not os.path.exists(OVS_DPCTL),
                    reason="ovs-dpctl (openvswitch-common) not installed")
def test_ovs_dpctl_without_daemon(rundir):
    p = run_shimmed(rundir, [OVS_DPCTL, "show"])
    assert p.returncode == 1
    assert p.stderr.count("is hvs-dpd running?") == 1
    assert os.path.join(rundir, "datapath.sock") in p.stderr
    assert "failed to enumerate system datapaths: No such file or " \
        "directory" in p.stderr
    # The socket itself works (offline mode), so OVS logs no socket error.
    assert "fcntl" not in p.stderr and "netlink_socket|ERR" not in p.stderr


# ---- protocol behaviour seen by a client ----

def test_port_id_family_lookup_and_addresses(rundir, server):
    run_client(rundir, r'''
        s = open_genl()
        s.connect((0, 0))
        pid, groups = s.getsockname()
        assert pid == 0x1001 and groups == 0, (pid, groups)
        assert s.getpeername() == (0, 0)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == 16
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == 16
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == 3
        s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        assert s.getsockopt(SOL_NETLINK, NETLINK_EXT_ACK) == 1
        try:
            s.setsockopt(SOL_NETLINK, 99, 1)
            raise AssertionError("unknown SOL_NETLINK option accepted")
        except OSError as e:
            assert e.errno == errno.ENOPROTOOPT
        # SO_RCVBUF is fatal for OVS if it fails; it passes through.
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) > 0
        assert getfamily(s, "ovs_datapath") == errno.ENOENT
        assert getfamily(s, "hvs_test", 2) == TEST_ID
        # recvmsg reports the kernel as the sender.
        s.send(genl(TEST_ID, 1, 3))
        data, anc, flags, addr = s.recvmsg(4096, 0, socket.MSG_DONTWAIT)
        assert addr == (0, 0) and flags == 0 and anc == []
        assert info(parse(data)[0])["portid"] == pid
        expect_eagain(s)
    ''')
    assert [e[2] for e in server.log if e[0] == "getfamily"] == \
        ["ovs_datapath", "hvs_test"]


def test_batched_sendmsg_is_one_record(rundir, server):
    run_client(rundir, r'''
        s = open_genl()
        # Three messages in three iovecs, as nl_sock_transact_multiple
        # sends them; replies must be there for MSG_DONTWAIT reads.
        n = s.sendmsg([genl(TEST_ID, 1, 10), genl(TEST_ID, 2, 11),
                       genl(TEST_ID, 1, 12)])
        assert n == 3 * 20, n
        got = [info(parse(s.recv(4096, socket.MSG_DONTWAIT))[0])
               for i in range(3)]
        assert [g["seq"] for g in got] == [10, 11, 12]
        assert [g["index"] for g in got] == [0, 1, 2]
        assert all(g["count"] == 3 and g["rec"] == 1 for g in got), got
        expect_eagain(s)
    ''')
    assert [e for e in server.log if e[0] == "record"] == \
        [("record", 0x1001, 60, 3)]


def test_slow_reply_waits_despite_dontwait_and_nonblock(rundir, server):
    run_client(rundir, r'''
        for flags in (0, socket.SOCK_NONBLOCK):
            s = open_genl(flags)
            s.send(genl(TEST_ID, 2, 5))
            t0 = time.monotonic()
            reply = s.recv(4096, socket.MSG_DONTWAIT)
            assert time.monotonic() - t0 >= 0.25
            assert info(parse(reply)[0])["seq"] == 5
            expect_eagain(s)
            expect_eagain(s, 0 if flags else socket.MSG_DONTWAIT)
            s.close()
    ''')


def test_dump_is_not_cut_short(rundir, server):
    run_client(rundir, r'''
        s = open_genl()
        s.send(genl(TEST_ID, 6, 7, struct.pack("=I", 5), flags=0x301))
        seen = []
        while True:
            (t, fl, seq, pid, body), = parse(s.recv(4096,
                                                    socket.MSG_DONTWAIT))
            assert seq == 7
            if t == NLMSG_DONE:
                break
            assert fl & NLM_F_MULTI
            seen.append(struct.unpack_from("=I", body, 4)[0])
        assert seen == [0, 1, 2, 3, 4], seen
        expect_eagain(s)
    ''')


def test_sync_only_wakes_poll_but_recv_says_eagain(rundir, server):
    run_client(rundir, r'''
        s = open_genl(socket.SOCK_NONBLOCK)
        s.send(genl(TEST_ID, 5, 1))             # answered by SYNC alone
        r, _, _ = select.select([s], [], [], 5)
        assert r == [s]
        expect_eagain(s)
        expect_eagain(s, 0)
        # A later request still gets its reply.
        s.send(genl(TEST_ID, 1, 2))
        assert info(parse(s.recv(4096, socket.MSG_DONTWAIT))[0])["seq"] == 2
    ''')


def test_peek_truncation_and_overflow(rundir, server):
    run_client(rundir, r'''
        s = open_genl()
        s.send(genl(TEST_ID, 3, 1))
        # libnl/libmnl-style size probe: full length of the next record.
        assert len(s.recv(0, socket.MSG_PEEK)) == 0
        n = s.recv_into(bytearray(16), 16, socket.MSG_PEEK | socket.MSG_TRUNC)
        assert n == 5000, n
        data, anc, flags, addr = s.recvmsg(100, 0, socket.MSG_DONTWAIT)
        assert len(data) == 100 and flags & socket.MSG_TRUNC, (len(data),
                                                                flags)
        expect_eagain(s)

        s.send(genl(TEST_ID, 3, 2))
        n = s.recv_into(bytearray(64), 64, socket.MSG_TRUNC)
        assert n == 5000, n                       # consumed, full length
        expect_eagain(s)

        s.send(genl(TEST_ID, 4, 3))
        try:
            s.recv(4096, socket.MSG_DONTWAIT)
            raise AssertionError("no ENOBUFS")
        except OSError as e:
            assert e.errno == errno.ENOBUFS, e
        assert info(parse(s.recv(4096, socket.MSG_DONTWAIT))[0])["seq"] == 3
        expect_eagain(s)
    ''')


def test_multicast_membership(rundir, server):
    run_client(rundir, r'''
        s = open_genl()
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 0x20)
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 3)
        s.send(genl(TEST_ID, 1, 1))
        assert info(parse(s.recv(4096))[0])["groups"] == [3, 0x20]
        words = struct.unpack("=8I", s.getsockopt(
            SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, 32))
        # Bit g-1 stands for group g.
        assert words == ((1 << 2) | (1 << 31),) + (0,) * 7, words
        s.setsockopt(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, 0x20)
        s.send(genl(TEST_ID, 1, 2))
        assert info(parse(s.recv(4096))[0])["groups"] == [3]
        try:
            s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 0)
            raise AssertionError("group 0 accepted")
        except OSError as e:
            assert e.errno == errno.EINVAL
        # bind()'s group mask sets groups 1..32 exactly.
        s.bind((0, 1 << 4))
        s.send(genl(TEST_ID, 1, 3))
        assert info(parse(s.recv(4096))[0])["groups"] == [5]
        expect_eagain(s)
    ''')
    ops = [e[2:] for e in server.log if e[0] == "membership"]
    assert ops == [(1, 0x20), (1, 3), (2, 0x20), (2, 3), (1, 5)]


def test_other_sockets_untouched_and_dup(rundir, server):
    run_client(rundir, r'''
        r = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        r.bind((0, 0))
        assert r.getsockname()[0] not in (0, 0x1001)  # kernel-assigned
        r.close()
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        a.send(b"\x10\0\0\0\x0c\0\0\0" + b"\0" * 8)   # looks like a SYNC
        assert len(b.recv(100, socket.MSG_DONTWAIT)) == 16
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.close()

        s = open_genl()
        fd = os.dup2(s.fileno(), 100)
        s.close()
        d = socket.socket(fileno=fd)        # detects family via getsockopt
        assert d.family == socket.AF_NETLINK and d.proto == NETLINK_GENERIC
        d.send(genl(TEST_ID, 2, 9))
        assert info(parse(d.recv(4096, socket.MSG_DONTWAIT))[0])["seq"] == 9
        fd2 = os.dup2(fd, 101, inheritable=False)   # dup3
        d.close()
        e = socket.socket(fileno=fd2)
        assert e.getsockname() == (0x1001, 0)
        # Overwriting a tracked fd forgets it.
        p, q = os.pipe()
        os.dup2(p, 101)
        os.write(q, b"plain")
        assert os.read(101, 10) == b"plain"
    ''')
    assert len([e for e in server.log if e[0] == "connect"]) == 1


def test_threads_each_with_own_socket(rundir, server):
    run_client(rundir, r'''
        errors = []
        def worker(k):
            try:
                s = open_genl()
                for i in range(200):
                    s.sendmsg([genl(TEST_ID, 1, i), genl(TEST_ID, 1, i)])
                    for j in range(2):
                        m = info(parse(s.recv(4096, socket.MSG_DONTWAIT))[0])
                        assert m["seq"] == i and m["rec"] == i + 1, m
                    expect_eagain(s)
                s.close()
            except BaseException as e:
                errors.append(repr(e))
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors
    ''', timeout=120)


def test_offline_socket_answers_enoent(rundir):
    p = run_client(rundir, r'''
        s = open_genl()
        pid = s.getsockname()[0]
        assert pid != 0
        s.send(genl(0x10, 3, 4, attr(2, b"ovs_datapath\0")))
        (t, fl, seq, rpid, body), = parse(s.recv(4096, socket.MSG_DONTWAIT))
        assert t == NLMSG_ERROR and seq == 4 and rpid == pid
        assert struct.unpack_from("=i", body)[0] == -errno.ENOENT
        assert body[4:20] == genl(0x10, 3, 4, attr(2, b"ovs_datapath\0"))[:16]
        expect_eagain(s)
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, 0x20)
        t2 = open_genl()
        assert getfamily(t2, "ovs_vport") == errno.ENOENT
        assert t2.getsockname()[0] not in (0, pid)
    ''')
    assert p.stderr.count("is hvs-dpd running?") == 1


def test_socket_override_and_wrapper(rundir, server):
    # HVS_NLSHIM_SOCK wins over the run directory.
    env = shim_env(HVS_NLSHIM_SOCK=os.path.join(rundir, "datapath.sock"))
    run_client(os.path.join(rundir, "elsewhere"), r'''
        assert getfamily(open_genl(), "hvs_test") == TEST_ID
    ''', env=env)
    p = run_shimmed(rundir, ["/bin/sh", "-c",
                             'echo "$HVS_RUNDIR $LD_PRELOAD"'])
    assert p.stdout.split() == [rundir, LIBRARY]
    p = subprocess.run(["/bin/sh", WRAPPER, "env"], capture_output=True,
                       text=True, env=shim_env(HVS_RUNDIR="/x",
                                               HVS_NLSHIM_LIB=LIBRARY,
                                               LD_PRELOAD="libfoo.so"))
    assert "HVS_RUNDIR=/x\n" in p.stdout
    assert "LD_PRELOAD=%s libfoo.so\n" % LIBRARY in p.stdout
    p = subprocess.run(["/bin/sh", WRAPPER], capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr


def test_installed_wrapper_preloads_the_installed_library(tmp_path):
    # Staged with --destdir while the build tree (and its library) is
    # there: the installed wrapper must preload the installed library.
    dest = str(tmp_path / "dest")
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild",
                        "--quiet", "--destdir", dest],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    installed = json.loads(subprocess.run(
        ["meson", "introspect", "--installed", BUILD], capture_output=True,
        text=True, check=True).stdout)
    where = {os.path.basename(v): dest + v for v in installed.values()}
    wrapper, library = where["hvs-nlshim"], where["libhvs-nlshim.so"]
    assert os.path.exists(LIBRARY) and os.path.exists(library)
    env = {k: v for k, v in os.environ.items()
           if k not in ("HVS_NLSHIM_LIB", "LD_PRELOAD", "ASAN_OPTIONS")}
    p = subprocess.run([wrapper, "/bin/sh", "-c", 'echo "$LD_PRELOAD"'],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert os.path.realpath(p.stdout.strip()) == os.path.realpath(library)
    # And the dynamic loader agrees.
    p = subprocess.run([wrapper, "env", "LD_DEBUG=libs", "/bin/true"],
                       capture_output=True, text=True, env=env)
    loaded = [os.path.realpath(line.split("calling init:", 1)[1].strip())
              for line in p.stderr.splitlines()
              if "calling init:" in line and "libhvs-nlshim" in line]
    assert loaded == [os.path.realpath(library)], p.stderr
