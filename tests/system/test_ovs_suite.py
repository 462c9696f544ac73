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


# Regressions for hvs-dpd bugs that the suite found (see RESULTS.md).

def test_create_of_an_existing_megaflow_is_refused(topo, dpd_factory):
    """A batch of upcalls can yield one megaflow under two UFIDs; like the
    kernel, hvs-dpd must refuse the second NLM_F_CREATE with EEXIST instead
    of silently folding it into the first (vswitchd then believed in a
    flow that did not exist: failed flow_del/put[modify], ENOENT)."""
    sw = topo.ns("sw")
    topo.vm(sw, "v1", "10.32.0.1", "02:32:00:00:00:01")
    topo.vm(sw, "v2", "10.32.0.2", "02:32:00:00:00:02")
    d = dpd_factory(sw)
    d.dpctl("add-dp", "dp0")
    d.dpctl("add-if", "dp0", topo.prefix + "v1")
    d.dpctl("add-if", "dp0", topo.prefix + "v2")
    key = ("in_port(1),eth(),eth_type(0x0800),"
           "ipv4(src=10.32.0.%d/255.255.255.0,frag=no)")
    u1 = "ufid:5e1a0000-0000-4000-8000-000000000001,"
    u2 = "ufid:5e1a0000-0000-4000-8000-000000000002,"
    d.dpctl("add-flow", "dp0", u1 + key % 1, "2")
    p = d.dpctl("add-flow", "dp0", u2 + key % 7, "2", check=False)
    assert p.returncode != 0 and "File exists" in p.stderr, p.stderr
    dump = d.dpctl("-m", "dump-flows", "dp0").stdout
    assert "5e1a0000-0000-4000-8000-000000000002" not in dump, dump
    assert dump.count("ufid:") == 1, dump
    # Without NLM_F_CREATE the same request modifies the existing flow.
    d.dpctl("mod-flow", "dp0", u1 + key % 1, "1")
    assert "actions:1" in d.dpctl("dump-flows", "dp0").stdout
