"""SIGHUP, as logrotate sends it: each daemon (hvs-dpd, hvs-ovsdb,
hvs-vswitchd) keeps serving and logs to a re-opened file after the old one
was renamed."""
import os
import signal
import time

import pytest

from conftest import HVS_OVSDB, VSWITCHD

pytestmark = pytest.mark.skipif(
    not (os.path.exists(VSWITCHD) and os.path.exists(HVS_OVSDB)),
    reason="hvs-vswitchd or hvs-ovsdb not built")


def wait_for_line(path, text, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path).read():
            return True
        time.sleep(0.05)
    return False


def test_sighup_reopens_logs_and_daemons_keep_serving(switch_factory):
    s = switch_factory(ovsdb="hvs")
    s.vsctl("add-br", "br0")
    daemons = {
        "hvs-dpd": (s.dpd.proc, s.dpd.log),
        "hvs-ovsdb": (s.procs["ovsdb"][0],
                      os.path.join(s.rundir, "ovsdb.log")),
        "hvs-vswitchd": (s.procs["vswitchd"][0],
                         os.path.join(s.rundir, "hvs-vswitchd.log")),
    }
    for name, (proc, log) in daemons.items():
        assert os.path.exists(log), name
        os.rename(log, log + ".1")
        proc.send_signal(signal.SIGHUP)
    for name, (proc, log) in daemons.items():
        assert wait_for_line(log, "SIGHUP: log file reopened"), name
        assert proc.poll() is None, "%s exited on SIGHUP (%s)" % (
            name, proc.returncode)
    # Still serving: ovs-vsctl waits for hvs-vswitchd to apply the change,
    # which needs all three.
    s.vsctl("add-br", "br1")
    assert s.vsctl("list-br").stdout.split() == ["br0", "br1"]
    assert "br1" in s.dpd.dpctl("show").stdout
