"""Differential tests: the same real ovs-vsctl and ovsdb-client commands
against hvs-ovsdb and against Debian's ovsdb-server must print the same
(after UUIDs are normalised) and exit the same."""
import json
import subprocess
import time

import pytest

from ovsdb_util import Server, have_real_ovs, normalise

pytestmark = pytest.mark.skipif(not have_real_ovs(),
                                reason="Open vSwitch tools not installed")

# Each entry is one ovs-vsctl invocation (run with --no-wait).
VSCTL_SEQUENCE = [
    ["init"],
    ["add-br", "br0"],
    ["--may-exist", "add-br", "br0"],
    ["add-br", "br0"],                                  # error: exists
    ["add-br", "br1"],
    ["add-port", "br0", "p1", "--", "set", "Interface", "p1",
     "type=internal"],
    ["add-port", "br0", "p2", "--", "set", "Interface", "p2",
     "ofport_request=7"],
    ["add-port", "br0", "vx0", "--", "set", "Interface", "vx0",
     "type=vxlan", "options:remote_ip=127.0.0.2", "options:key=flow"],
    ["add-bond", "br1", "bond0", "e1", "e2"],
    ["add-port", "br0", "p1"],                          # error: exists
    ["list-br"],
    ["list-ports", "br0"],
    ["list-ifaces", "br1"],
    ["port-to-br", "p1"],
    ["iface-to-br", "e1"],
    ["br-exists", "br0"],
    ["br-exists", "nosuch"],                            # exit 2
    ["set", "Bridge", "br0", "datapath_type=netdev"],
    ["set", "Bridge", "br0", "protocols=OpenFlow10,OpenFlow13"],
    ["get", "Bridge", "br0", "protocols"],
    ["set", "Bridge", "br0", "other_config:hwaddr=00:11:22:33:44:55"],
    ["get", "Bridge", "br0", "other_config:hwaddr"],
    ["remove", "Bridge", "br0", "other_config", "hwaddr"],
    ["add", "Bridge", "br0", "flood_vlans", "10", "20", "30"],
    ["remove", "Bridge", "br0", "flood_vlans", "20"],
    ["get", "Bridge", "br0", "flood_vlans"],
    ["clear", "Bridge", "br0", "flood_vlans"],
    ["set", "Bridge", "br0", "fail_mode=bogus"],        # enum violation
    ["set", "Port", "p1", "tag=5000"],                  # range violation
    ["set", "Port", "p1", "tag=10"],
    ["set-controller", "br0", "tcp:127.0.0.1:6653", "tcp:127.0.0.1:6654"],
    ["get-controller", "br0"],
    ["set-fail-mode", "br0", "secure"],
    ["get-fail-mode", "br0"],
    ["set-manager", "ptcp:16640:127.0.0.1"],
    ["get-manager"],
    ["set", "Open_vSwitch", ".", "external_ids:system-id=chassis-1"],
    ["get", "Open_vSwitch", ".", "external_ids"],
    ["--", "--id=@q", "create", "QoS", "type=linux-htb",
     "other_config:max-rate=1000000", "--", "set", "Port", "p1", "qos=@q"],
    ["list", "QoS"],
    ["--columns=name,type", "find", "Interface", "type=internal"],
    ["--columns=name", "find", "Port", "tag=10"],
    ["list", "Interface", "vx0"],
    ["list", "Port", "p1"],
    ["show"],
    ["wait-until", "Interface", "p1", "type=internal"],
    ["--", "--id=@c", "create", "Controller", "target=tcp:1.1.1.1:1"],
    ["list", "Controller"],
    ["clear", "Port", "p1", "qos"],
    ["--all", "destroy", "QoS"],
    ["list", "QoS"],
    ["del-controller", "br0"],
    ["del-manager"],
    ["del-port", "br0", "p2"],
    ["del-port", "br0", "nosuch"],                      # error
    ["--if-exists", "del-port", "br0", "nosuch"],
    ["get", "Interface", "nosuch", "type"],             # error
    ["set", "Bridge", "br0", "nosuchcolumn=1"],         # error
    ["emer-reset"],
    ["show"],
    ["del-br", "br1"],
    ["--if-exists", "del-br", "br1"],
    ["list-br"],
    ["list-ports", "br0"],
    ["show"],
    ["list", "Open_vSwitch"],
]


@pytest.fixture
def servers(tmp_path):
    hvs = Server(str(tmp_path / "hvs"), "hvs")
    real = Server(str(tmp_path / "real"), "real")
    yield hvs, real
    hvs.stop()
    real.stop()
    assert not hvs.sanitizer_report()


def _norm_result(r):
    rc, out, err = r
    return rc, normalise(out), normalise(err.replace("ovs-vsctl: ", ""))


def test_vsctl_sequence_matches_ovsdb_server(servers):
    hvs, real = servers
    assert len(VSCTL_SEQUENCE) >= 40
    mismatches = []
    for cmd in VSCTL_SEQUENCE:
        a = _norm_result(hvs.vsctl(*cmd))
        b = _norm_result(real.vsctl(*cmd))
        if a != b:
            mismatches.append("%s:\n  hvs:  %r\n  real: %r" % (cmd, a, b))
    assert not mismatches, "\n".join(mismatches)


def _schema_without_cksum(text):
    j = json.loads(text)
    j.pop("cksum", None)
    return j


def test_ovsdb_client_matches_ovsdb_server(servers):
    hvs, real = servers
    for s in servers:
        s.vsctl("init")
        s.vsctl("add-br", "br0", "--", "set", "Bridge", "br0",
                "external_ids:a=b")
        s.vsctl("add-port", "br0", "p1")
    calls = [
        ["list-dbs"],
        ["list-tables"],
        ["list-columns", "Open_vSwitch", "Bridge"],
        ["list-columns", "_Server", "Database"],
        ["transact", json.dumps(["Open_vSwitch", {
            "op": "select", "table": "Bridge", "where": [],
            "columns": ["name", "external_ids"]}])],
        ["transact", json.dumps(["Open_vSwitch", {
            "op": "insert", "table": "Bridge", "row": {"name": "br0"}}])],
        ["transact", json.dumps(["Open_vSwitch", {
            "op": "wait", "table": "Bridge", "timeout": 0,
            "where": [["name", "==", "br0"]], "columns": ["name"],
            "until": "!=", "rows": [{"name": "br0"}]}])],
        ["transact", json.dumps(["Open_vSwitch", {
            "op": "mutate", "table": "Bridge", "where": [],
            "mutations": [["flood_vlans", "insert", ["set", [1, 2]]]]}])],
        ["transact", json.dumps(["Open_vSwitch", {
            "op": "select", "table": "Bridge", "where": [
                ["flood_vlans", "includes", 2]], "columns": ["name"]}])],
        ["transact", json.dumps(["Open_vSwitch", {"op": "abort"}])],
        ["dump", "Open_vSwitch", "Bridge", "name", "flood_vlans"],
        ["dump", "Open_vSwitch", "Interface", "name", "type"],
    ]
    for c in calls:
        a = hvs.client(c[0], hvs.remote, *c[1:])
        b = real.client(c[0], real.remote, *c[1:])
        assert (a[0], normalise(a[1]), normalise(a[2])) == \
            (b[0], normalise(b[1]), normalise(b[2])), c
    a = hvs.client("get-schema", hvs.remote, "Open_vSwitch")
    b = real.client("get-schema", real.remote, "Open_vSwitch")
    assert a[0] == b[0] == 0
    assert _schema_without_cksum(a[1]) == _schema_without_cksum(b[1])


def _monitor_with_change(server):
    p = subprocess.Popen(["ovsdb-client", "monitor", server.remote,
                          "Open_vSwitch", "Bridge", "name", "stp_enable"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    time.sleep(1.0)
    server.vsctl("set", "Bridge", "br0", "stp_enable=true")
    server.vsctl("add-br", "br9")
    time.sleep(1.0)
    p.terminate()
    out, _ = p.communicate(timeout=10)
    return out


def test_ovsdb_client_monitor_matches(servers):
    hvs, real = servers
    for s in servers:
        s.vsctl("init")
        s.vsctl("add-br", "br0")
    a = _monitor_with_change(hvs)
    b = _monitor_with_change(real)
    assert "br9" in a and "true" in a
    assert normalise(a) == normalise(b)
