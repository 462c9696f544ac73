"""The fast subset of Open vSwitch's own kmod system tests (plain
forwarding through Debian's unmodified ovs-vswitchd on hvs-dpd), run by
tests/ovs-suite/run.sh.  The whole suite is `make check-ovs`."""
import os
import re
import subprocess

import pytest

from conftest import BUILD, ROOT

RUN = os.path.join(ROOT, "tests", "ovs-suite", "run.sh")


def test_ovs_kmod_suite_fast_subset(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for network namespaces")
    results = tmp_path / "RESULTS.md"
    p = subprocess.run(
        [RUN, "--build=" + BUILD, "--results=" + str(results), "fast"],
        capture_output=True, text=True, timeout=600)
    if p.returncode == 77:
        pytest.skip("OVS suite cannot run here: "
                    + (p.stderr.strip().splitlines() or ["?"])[-1])
    report = results.read_text() if results.exists() else ""
    assert report, "run.sh wrote no results:\n%s\n%s" % (
        p.stdout[-3000:], p.stderr[-3000:])
    rows = re.findall(r"^\| (\d+) \| (.*?) \| (pass|fail|skip|not run) \|"
                      r" (.*) \|$", report, re.M)
    assert len(rows) >= 6, report
    bad = ["%s %s: %s %s" % r for r in rows if r[2] != "pass"]
    assert not bad, "\n".join(bad) + "\n\n" + p.stdout[-6000:]
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-3000:]
