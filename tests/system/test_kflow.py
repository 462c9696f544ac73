"""The kernel flow cache (hvs-dpd's default; --kernel-cache=off turns it
off): after the first packets
of a connection, the kernel repeats hvs-dpd's decisions at the ports' tcx
hook.  The proof that a packet was forwarded by the kernel is that it
still arrives while hvs-dpd is frozen (SIGSTOP); the proof that the cache
follows the flow table is that deleting a flow stops the traffic."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import VSWITCHD, run
from test_vswitchd_tunnel import configure, wire

KC = ["--kernel-cache"]
NO_KC = ["--kernel-cache=off"]


def ping(ns, dst, count=5, interval="0.1", wait="2"):
    return run(["ping", "-c", str(count), "-i", interval, "-W", wait, dst],
               ns=ns, check=False, timeout=60).stdout


def received(out):
    m = re.search(r"(\d+) received", out)
    return int(m.group(1)) if m else 0


class Frozen:
    """hvs-dpd stopped with SIGSTOP for the duration of a with-block."""

    def __init__(self, *dpds):
        self.pids = []
        for d in dpds:
            # The daemon runs under `ip netns exec`, which execs it.
            self.pids.append(d.proc.pid)

    def __enter__(self):
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        for pid in self.pids:
            os.kill(pid, signal.SIGCONT)


def transfer(src_ns, dst_ns, dst_ip, data, port=5101):
    """Sends 'data' over TCP from src_ns to dst_ip in dst_ns; returns
    what arrived."""
    with tempfile.TemporaryFile() as out:
        # Into a file, not a pipe nobody reads while the sender runs.
        rx = subprocess.Popen(["ip", "netns", "exec", dst_ns, "timeout",
                               "30", "nc", "-N", "-l", str(port)],
                              stdout=out)
        time.sleep(0.5)
        tx = subprocess.run(["ip", "netns", "exec", src_ns, "timeout", "30",
                             "nc", "-N", dst_ip, str(port)], input=data,
                            capture_output=True, timeout=40)
        rx.wait(timeout=40)
        assert tx.returncode == 0, tx.stderr
        out.seek(0)
        return out.read()


def kflow_counts(dpd):
    """(entries installed, packets, bytes forwarded in the kernel) from
    `ovs-appctl kflow/show` on hvs-dpd's control socket."""
    out = dpd.appctl("kflow/show").stdout
    c = dict(re.findall(r"^\s+(\w+): (\d+)$", out, re.M))
    assert "installed" in c and "packets" in c and "bytes" in c, out
    return int(c["installed"]), int(c["packets"]), int(c["bytes"])


def static_switch(topo, dpd_factory, args):
    sw = topo.ns("sw")
    a = topo.vm(sw, "a", "10.79.0.1", "02:79:00:00:00:01")
    b = topo.vm(sw, "b", "10.79.0.2", "02:79:00:00:00:02")
    d = dpd_factory(sw, args)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "a")
    d.dpctl("add-if", "dp0", topo.prefix + "b")
    return d, a, b


def add_flows(d):
    for t in ("0x0806),arp()", "0x0800),ipv4()"):
        d.dpctl("add-flow", "dp0", "in_port(1),eth(),eth_type(" + t, "2")
        d.dpctl("add-flow", "dp0", "in_port(2),eth(),eth_type(" + t, "1")


def test_static_flows_forwarded_by_the_kernel(topo, dpd_factory):
    d, a, b = static_switch(topo, dpd_factory, KC)
    assert "kernel flow cache on" in open(d.log).read()
    add_flows(d)
    out = ping(a, "10.79.0.2")
    assert received(out) == 5, out
    # hvs-dpd frozen: only the kernel can forward now.
    with Frozen(d):
        out = ping(a, "10.79.0.2", count=20, interval="0.05")
    assert received(out) == 20, out
    # The kernel's packets count in the megaflows' statistics.
    flows = d.dpctl("dump-flows").stdout
    m = re.search(r"in_port\(1\),eth\(\),eth_type\(0x0800\), "
                  r"packets:(\d+)", flows)
    assert m and int(m.group(1)) >= 25, flows
    # TCP with the veth defaults (TSO, partial checksums) through it.
    run(["iperf3", "-s", "-1", "-D", "-B", "10.79.0.2"], ns=b)
    time.sleep(0.5)
    res = json.loads(run(["iperf3", "-c", "10.79.0.2", "-t", "2", "-J"],
                         ns=a, timeout=40).stdout)
    assert res["end"]["sum_received"]["bytes"] > 2**20
    # Port counters too: port 1 received at least everything above.
    show = d.dpctl("show", "-s").stdout
    m = re.search(r"port 1: \S+\n\s+RX packets:(\d+)", show)
    assert m and int(m.group(1)) > 1000, show
    entries, packets, _ = kflow_counts(d)
    assert entries >= 2 and packets > 1000, (entries, packets)


def test_deleting_flows_stops_kernel_forwarding(topo, dpd_factory):
    d, a, b = static_switch(topo, dpd_factory, KC)
    add_flows(d)
    assert received(ping(a, "10.79.0.2")) == 5
    d.dpctl("del-flows")
    # No flow, no forwarding: the kernel entries went with the flows,
    # and the misses reach hvs-dpd (lost: nobody listens for upcalls).
    out = ping(a, "10.79.0.2", count=3, wait="1")
    assert received(out) == 0, out
    assert re.search(r"lost:[1-9]", d.dpctl("show").stdout)
    add_flows(d)
    assert received(ping(a, "10.79.0.2")) == 5
    # Replacing a flow's actions also reaches the kernel: now to the
    # datapath's local port, not to b.
    d.dpctl("mod-flow", "dp0", "in_port(1),eth(),eth_type(0x0800),ipv4()",
            "0")
    out = ping(a, "10.79.0.2", count=3, wait="1")
    assert received(out) == 0, out


@pytest.mark.skipif("kernel-cache" in os.environ.get("HVS_TEST_DPD_ARGS",
                                                    ""),
                    reason="HVS_TEST_DPD_ARGS sets --kernel-cache")
def test_cache_on_by_default(topo, dpd_factory):
    d, a, b = static_switch(topo, dpd_factory, [])
    add_flows(d)
    assert received(ping(a, "10.79.0.2")) == 5
    with Frozen(d):
        out = ping(a, "10.79.0.2", count=3)
    assert received(out) == 3, out
    assert "kernel flow cache on" in open(d.log).read()


def test_cache_off_on_request(topo, dpd_factory):
    d, a, b = static_switch(topo, dpd_factory, NO_KC)
    add_flows(d)
    assert received(ping(a, "10.79.0.2")) == 5
    with Frozen(d):
        out = ping(a, "10.79.0.2", count=3, wait="1")
    assert received(out) == 0, out
    assert "kernel flow cache" not in open(d.log).read()
    assert d.appctl("kflow/show").stdout.startswith(
        "kernel flow cache: off")


def test_bad_flag_value(topo):
    sw = topo.ns("sw")
    p = run([os.path.join(os.path.dirname(VSWITCHD), "..", "datapath",
                          "hvs-dpd"), "--kernel-cache=maybe"],
            ns=sw, check=False)
    assert p.returncode != 0
    assert "--kernel-cache=maybe: expected on or off" in p.stderr


def two_hypervisors(topo, switch_factory, args1, args2):
    """Two hypervisors with VXLAN between br-int's, a VM on each that
    reaches the other; returns (hv, vm1, vm2)."""
    hv = [switch_factory(ovsdb="hvs", name="hv1", dpd_args=args1),
          switch_factory(ovsdb="hvs", name="hv2", dpd_args=args2)]
    wire(topo, hv)
    vm1 = configure(topo, hv[0], 1, "10.98.0.2", "10.78.1.1",
                    "02:78:00:00:00:01")
    vm2 = configure(topo, hv[1], 2, "10.98.0.1", "10.78.1.2",
                    "02:78:00:00:00:02")
    out = ping(vm1, "10.78.1.2", count=5, interval="0.2", wait="3")
    assert received(out) == 5, out + hv[0].log()
    return hv, vm1, vm2


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_vxlan_encap_and_decap_in_the_kernel(topo, switch_factory):
    hv, vm1, vm2 = two_hypervisors(topo, switch_factory, KC, KC)
    # Both hypervisors frozen: encapsulation on one and decapsulation on
    # the other happen in the kernel, both ways.
    with Frozen(hv[0].dpd, hv[1].dpd):
        out = ping(vm1, "10.78.1.2", count=10, interval="0.05")
    assert received(out) == 10, out
    assert "duplicates" not in out, out
    # TCP super-packets cross the tunnel whole (UDP-tunnel GSO), both
    # ways; the bytes arrive intact.
    data = os.urandom(8 << 20)
    for src, dst, ip in ((vm1, vm2, "10.78.1.2"), (vm2, vm1, "10.78.1.1")):
        got = transfer(src, dst, ip, data)
        assert got == data, "%d of %d bytes, %s" % (
            len(got), len(data), "differ" if len(got) == len(data)
            else "short")
    run(["iperf3", "-s", "-1", "-D", "-B", "10.78.1.2"], ns=vm2)
    time.sleep(0.5)
    res = json.loads(run(["iperf3", "-c", "10.78.1.2", "-t", "2", "-J"],
                         ns=vm1, timeout=40).stdout)
    assert res["end"]["sum_received"]["bytes"] > 2**20
    # The tunnel flows count the kernel's packets too.
    flows = hv[0].dpd.dpctl("dump-flows").stdout
    m = re.search(r"eth_type\(0x0800\), packets:(\d+)[^\n]*"
                  r"actions:set\(tunnel\(tun_id=0x2a", flows)
    assert m and int(m.group(1)) >= 15, flows
    for s in hv:
        entries, packets, nbytes = kflow_counts(s.dpd)
        # 10 frozen pings each way, and 8 MiB each way (super-packets).
        assert entries >= 2 and packets >= 20 and nbytes > 8 << 20, \
            (entries, packets, nbytes)


@pytest.mark.skipif(not os.path.exists(VSWITCHD),
                    reason="hvs-vswitchd not built")
def test_vxlan_peer_without_the_cache(topo, switch_factory):
    """hv1's kernel sends UDP-tunnel super-packets; hv2 runs without the
    cache, so its userspace decapsulates them whole."""
    hv, vm1, vm2 = two_hypervisors(topo, switch_factory, KC, NO_KC)
    data = os.urandom(8 << 20)
    for src, dst, ip in ((vm1, vm2, "10.78.1.2"), (vm2, vm1, "10.78.1.1")):
        got = transfer(src, dst, ip, data)
        assert got == data, "%d of %d bytes" % (len(got), len(data))
    # Some of vm1's 8 MiB left hv1 through the kernel (how much depends
    # on when the entry came).
    entries, packets, nbytes = kflow_counts(hv[0].dpd)
    assert nbytes > 256 << 10, (entries, packets, nbytes)


def test_hvs_show_has_the_kernel_cache_line(topo, dpd_factory):
    d, a, b = static_switch(topo, dpd_factory, KC)
    add_flows(d)
    assert received(ping(a, "10.79.0.2", count=10, interval="0.05")) == 10
    hvs = os.path.join(os.path.dirname(VSWITCHD), "..", "cli", "hvs")
    out = run([hvs, "--rundir=" + d.rundir, "show"], ns=d.ns).stdout
    m = re.search(r"^kernel flow cache: entries:(\d+) packets:(\d+) "
                  r"bytes:(\d+) errors:0$", out, re.M)
    assert m and int(m.group(1)) >= 2 and int(m.group(2)) >= 10, out
