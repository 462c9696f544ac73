"""hvs-dpd's own control socket, RUNDIR/hvs-dpd.ctl, driven with Debian's
unmodified `ovs-appctl -t`: the datapath's ports and counters, its flows,
the tunnel fast path's counters and the host tables it mirrors, and the
daemon's life (exit, bad requests)."""
import os
import re
import stat
import time

import pytest

from conftest import BUILD, VSWITCHD, run
from test_dpd import FLOWS, VM2, flow_packets, two_vms


def ping(vm, ip, n=5):
    return run(["ping", "-c", str(n), "-i", "0.2", "-W", "3", ip], ns=vm,
               check=False, timeout=30)


def port_counters(show, name):
    """{'rx': packets, 'tx': packets, 'rx_bytes': n, 'tx_bytes': n} of port
    'name' in `dpctl/show -s` output."""
    m = re.search(r"port \d+: %s(?: \([^)]*\))?\n"
                  r"\s+RX packets:(\d+) errors:\d+ dropped:\d+.*\n"
                  r"\s+TX packets:(\d+) errors:\d+ dropped:\d+.*\n"
                  r"\s+collisions:0\n"
                  r"\s+RX bytes:(\d+).*TX bytes:(\d+)" % re.escape(name),
                  show)
    assert m, show
    return {"rx": int(m.group(1)), "tx": int(m.group(2)),
            "rx_bytes": int(m.group(3)), "tx_bytes": int(m.group(4))}


def test_socket_is_private_and_answers_the_builtins(topo, dpd_factory):
    sw = topo.ns("sw")
    d = dpd_factory(sw, ["--kernel-cache=off"])     # kflow/show says off
    st = os.stat(d.ctl)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert d.appctl("version").stdout.startswith("hvs-dpd (hvs) ")
    cmds = d.appctl("list-commands").stdout
    for c in ("exit", "dpctl/show", "dpctl/dump-flows", "memory/show",
              "tnl/stats", "tnl/neigh/show", "ovs/route/show", "vlog/set",
              "vlog/list", "kflow/show"):
        assert re.search(r"^  %s\b" % re.escape(c), cmds, re.M), cmds
    d.appctl("vlog/set", "tnl_route:dbg")
    assert re.search(r"^tnl_route\s.*DBG", d.appctl("vlog/list").stdout,
                     re.M | re.I), d.appctl("vlog/list").stdout
    # No tunnel port: nothing is mirrored, and the commands say so.
    for c in ("tnl/neigh/show", "ovs/route/show"):
        assert "not mirrored" in d.appctl(c).stdout
    assert set(d.tnl_stats().values()) == {0}
    assert d.appctl("kflow/show").stdout.startswith(
        "kernel flow cache: off")


def test_show_and_dump_flows_follow_traffic(topo, dpd_factory):
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    for key, act in FLOWS:
        d.dpctl("add-flow", "dp0", key, act)
    v1, v2 = topo.prefix + "v1", topo.prefix + "v2"

    # Without -s the text is what ovs-dpctl prints for the same datapath,
    # but for the exact-match cache line ovs-dpctl does not know.
    ours = d.appctl("dpctl/show").stdout.splitlines()
    theirs = d.dpctl("show").stdout.splitlines()
    assert [l for l in ours if not l.startswith("  cache:")] == theirs
    assert "  port 1: %s" % v1 in ours and "  port 0: dp0 (internal)" in ours
    assert d.appctl("dpctl/show", "system@dp0").stdout == \
        d.appctl("dpctl/show", "dp0").stdout

    before = d.appctl("dpctl/show", "-s").stdout
    b1, b2 = port_counters(before, v1), port_counters(before, v2)
    p = ping(vm1, VM2[0])
    assert " 0% packet loss" in p.stdout, p.stdout
    after = d.appctl("dpctl/show", "-s").stdout
    a1, a2 = port_counters(after, v1), port_counters(after, v2)
    # Five requests in on v1 and out on v2, five replies the other way
    # (ARP too, so at least).
    assert a1["rx"] - b1["rx"] >= 5 and a2["tx"] - b2["tx"] >= 5, after
    assert a2["rx"] - b2["rx"] >= 5 and a1["tx"] - b1["tx"] >= 5, after
    assert a1["rx_bytes"] - b1["rx_bytes"] >= 5 * 98, after
    hits = int(re.search(r"lookups: hit:(\d+)", after).group(1))
    assert hits >= 10, after
    assert "  flows: 4\n" in after

    flows = d.appctl("dpctl/dump-flows").stdout
    assert flow_packets(flows) >= 10, flows
    # The same flows, the same text as ovs-dpctl's dump (but for their
    # order and the 'used' times, which move).
    norm = lambda t: sorted(re.sub(r"used:[^,]*", "used", l)
                            for l in t.splitlines())
    assert norm(flows) == norm(d.dpctl("dump-flows").stdout)
    verbose = d.appctl("dpctl/dump-flows", "-m").stdout
    assert "in_port(%s)" % v1 in verbose and "actions:%s" % v2 in verbose
    assert "in_port(1)" in d.appctl("dpctl/dump-flows", "-m",
                                    "--no-names").stdout

    mem = d.appctl("memory/show").stdout
    assert re.search(r"\bdatapaths:1 flows:4 masks:\d+ ports:3\b", mem), mem


def test_bad_requests_get_errors_and_the_daemon_stays(topo, dpd_factory):
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    bad = [
        (("no/such/command",), "is not a valid command"),
        (("dpctl/show", "-x"), 'unknown option "-x"'),
        (("dpctl/show", "nodp"), 'datapath "nodp" does not exist'),
        (("dpctl/dump-flows", "dp0", "dp0"), "too many datapaths"),
        (("dpctl/dump-flows", "in_port(1)=x"), "not supported"),
        (("dpctl/dump-flows", "-s"), 'unknown option "-s"'),
        (("tnl/stats", "extra"), "takes at most 0 arguments"),
        (("memory/show", "x"), "takes at most 0 arguments"),
        (("vlog/set", "nosuchmodule:dbg"), "bad spec"),
    ]
    for args, why in bad:
        p = d.appctl(*args, check=False)
        assert p.returncode != 0, (args, p.stdout)
        assert why in p.stderr, (args, p.stderr)
    # A client that sends garbage and hangs up costs nothing.
    run(["python3", "-c", "import socket,sys; s=socket.socket("
         "socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'}{ nope')",
         d.ctl], ns=sw)
    assert d.alive()
    assert "system@dp0:" in d.appctl("dpctl/show").stdout
    # Forwarding was never disturbed.
    for key, act in FLOWS:
        d.dpctl("add-flow", "dp0", key, act)
    assert " 0% packet loss" in ping(vm1, VM2[0], 2).stdout


def test_exit_stops_the_daemon_cleanly(topo, dpd_factory):
    sw, vm1, vm2, d = two_vms(topo, dpd_factory)
    p = d.appctl("exit")
    assert p.returncode == 0 and p.stdout == ""
    d.proc.wait(timeout=20)
    assert d.proc.returncode == 0, d.read_stderr()
    # Its sockets and its datapath's local port went with it.
    assert not os.path.exists(d.ctl) and not os.path.exists(d.sock)
    assert run(["ip", "link", "show", "dp0"], ns=sw,
               check=False).returncode != 0
    assert "exit requested" in open(d.log).read()
    # The fixture checks the exit status and stderr for sanitizer reports.


def test_custom_socket_path(topo, dpd_factory):
    sw = topo.ns("sw")
    path = "/tmp/%s-dpd.ctl" % topo.prefix
    d = dpd_factory(sw, ["--unixctl=" + path])
    assert not os.path.exists(d.ctl)
    p = run(["ovs-appctl", "-t", path, "version"], ns=sw)
    assert "hvs-dpd" in p.stdout
    run(["ovs-appctl", "-t", path, "exit"], ns=sw)
    d.proc.wait(timeout=20)
    assert not os.path.exists(path)


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_tunnel_commands_after_tunnel_traffic(topo, switch_factory):
    from test_tunnel_fastpath import two_hvs
    # Userspace's tunnel counters: the kernel flow cache would take the
    # pings before hvs-dpd counts them.
    hv, vm1, vm2 = two_hvs(topo, switch_factory, ["--kernel-cache=off"])
    d = hv[0].dpd
    before = d.tnl_stats()
    p = ping(vm1, "10.78.1.2")
    assert " 0% packet loss" in p.stdout, p.stdout + hv[0].log()
    # Counted as they happen; the replies' decapsulation may trail the
    # last reply by a moment.
    deadline = time.time() + 5
    while True:
        c = d.tnl_stats()
        if (c["encap"] - before["encap"] >= 5
                and c["decap"] - before["decap"] >= 5) \
                or time.time() > deadline:
            break
        time.sleep(0.2)
    assert c["encap"] - before["encap"] >= 5, (before, c)
    assert c["decap"] - before["decap"] >= 5, (before, c)
    for k in ("hold_drop", "unreachable", "encap_error", "socket_rx_bad"):
        assert c[k] == 0, c
    out = d.appctl("tnl/stats").stdout
    assert out.startswith("fast path") and "\ndropped:\n" in out, out

    # The mirror the fast path took its next hop from: the underlay
    # route through br-phy and the remote VTEP's MAC.
    routes = d.appctl("ovs/route/show").stdout
    assert re.search(r"^Cached: 10\.98\.0\.0/24 dev br-phy SRC 10\.98\.0\.1$",
                     routes, re.M), routes
    mac = run(["cat", "/sys/class/net/br-phy/address"],
              ns=hv[1].ns).stdout.strip()
    neigh = d.appctl("tnl/neigh/show").stdout
    assert re.search(r"^10\.98\.0\.2\s+%s\s+br-phy\s+\w+" % re.escape(mac),
                     neigh, re.M), neigh

    # The vxlan port's counters moved with the tunnel traffic.
    show = d.appctl("dpctl/show", "-s").stdout
    vx = port_counters(show, "vxlan_sys_4789")
    assert vx["rx"] >= 5 and vx["tx"] >= 5, show
    assert "port 0: ovs-system (internal)" in show \
        or re.search(r"port 0: \S+ \(internal\)", show), show
    flows = d.appctl("dpctl/dump-flows").stdout
    assert re.search(r"set\(tunnel\(tun_id=0x2a,dst=10\.98\.0\.2", flows), \
        flows
    mem = d.appctl("memory/show").stdout
    assert re.search(r"neighbours:[1-9]\d* routes:[1-9]", mem), mem

    # hvs show sums the same counters up in one line.
    show = run([os.path.join(BUILD, "cli", "hvs"), "--rundir=" + d.rundir,
                "show"], ns=d.ns).stdout
    m = re.search(r"^tunnels: encap:(\d+) decap:(\d+) held:\d+ dropped:0 "
                  r"host-stack tx:\d+ rx:\d+$", show, re.M)
    assert m and int(m.group(1)) >= 5 and int(m.group(2)) >= 5, show
