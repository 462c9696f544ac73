#!/usr/bin/python3
"""Writes RESULTS.md from an autotest run of system-hvs-testsuite: every
selected test with pass, fail or skip, a one-line cause for each fail or
skip, and the totals.  Causes come from known-causes.txt when a test is
listed there, else from the skip's or failure's source line."""
import argparse
import datetime
import glob
import os
import platform
import re
import subprocess

RESULT_RE = re.compile(
    r"^(\d+)\. .*: (ok|skipped|FAILED|expected failure|UNEXPECTED PASS)"
    r"(?: \(([^():]+):(\d+)\))?(?:\s+\([\d.ms ]+\))?\s*$")

# Why a test skips, from the macro or check on its skip line.
SKIP_REASONS = [
    (r"CHECK_CONNTRACK_FRAG_OVERLAP|CHECK_CT_DPIF_SET_GET_MAXCONNS"
     r"|CHECK_CT_DPIF_GET_NCONNS",
     "the kmod suite always skips this (no such kernel feature)"),
    (r"CHECK_CONNTRACK_TIMEOUT", "needs conntrack timeout policies"),
    (r"CHECK_CONNTRACK|CHECK_FTP_SNAT",
     "needs conntrack, which hvs-dpd does not have"),
    (r"ADD_SVLAN", "the peer needs an 802.1ad VLAN device: this kernel has "
     "no 8021q module"),
    (r"ADD_C?VLAN", "the peer needs a VLAN device: this kernel has no 8021q "
     "module"),
    (r"ADD_VETH_BOND", "the peer needs a bond device: this kernel has no "
     "bonding module"),
    (r"OVS_CHECK_GENEVE", "needs a kernel geneve device: no geneve module"),
    (r"OVS_CHECK_GRE_L3", "needs a kernel gre device: no ip_gre module"),
    (r"OVS_CHECK_GRE", "needs a kernel gretap device: no ip_gre module"),
    (r"OVS_CHECK_ERSPAN", "needs a kernel erspan device: no ip_gre module"),
    (r"OVS_CHECK_VXLAN_GPE", "needs VXLAN-GPE in the kernel's vxlan"),
    (r"OVS_CHECK_IPROUTE_ENCAP", "iproute2 lacks 'encap'"),
    (r"OVS_CHECK_8021AD", "datapath VLAN stack depth probed below 2"),
    (r"OVS_CHECK_CT_CLEAR", "datapath does not support ct_clear"),
    (r"OVS_CHECK_MIN_KERNEL|OVS_CHECK_KERNEL_EXCL",
     "kernel version outside the test's range"),
    (r"HAVE_NC", "nc (netcat-openbsd) not installed"),
    (r"HAVE_TCPDUMP", "tcpdump not installed"),
    (r"HAVE_FTP", "python3-pyftpdlib not found by the suite's python"),
    (r"HAVE_TFTP", "tftpy (not in Debian) not installed"),
    (r"HAVE_LFTP", "lftp not installed"),
    (r"HAVE_TC", "tc not installed"),
    (r"IPSEC|ipsec|libreswan|Libreswan",
     "needs Libreswan (not installed)"),
]


def parse_args():
    ap = argparse.ArgumentParser()
    for name in ("log", "dir", "src", "listing", "causes", "sanitizer-dir",
                 "command", "offloads", "out", "selected"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    return ap.parse_args()


def read_listing(path):
    tests = {}
    with open(path) as f:
        for line in f:
            num, loc, name = line.rstrip("\n").split("\t", 2)
            tests[int(num)] = (loc, name)
    return tests


def read_causes(path):
    """known-causes.txt: 'TEST NAME :: cause' lines, '#' comments.  Only
    failures use them: a skip's cause is read from its skip line."""
    causes = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and " :: " in line:
                    name, cause = line.split(" :: ", 1)
                    causes[name.strip()] = cause.strip()
    return causes


def read_results(path):
    results = {}
    with open(path, errors="replace") as f:
        for line in f:
            m = RESULT_RE.match(line)
            if m:
                loc = "%s:%s" % (m.group(3), m.group(4)) if m.group(3) \
                    else None
                results[int(m.group(1))] = (m.group(2), loc)
    return results


def source_line(src, loc):
    fname, line = loc.rsplit(":", 1)
    try:
        with open(os.path.join(src, fname), errors="replace") as f:
            lines = f.read().split("\n")
        return lines[int(line) - 1].strip()
    except (OSError, IndexError, ValueError):
        return ""


def skip_reason(src, loc):
    text = source_line(src, loc) if loc else ""
    for pattern, reason in SKIP_REASONS:
        if re.search(pattern, text):
            return reason
    if "ipsec" in (loc or ""):
        return "needs Libreswan (not installed)"
    return "skipped at %s: %s" % (loc, text[:100])


def failure_detail(test_dir, num, loc):
    """The failing check's command and its first symptom, from the test's
    own log."""
    log = os.path.join(test_dir, "%03d" % num, "system-hvs-testsuite.log")
    try:
        with open(log, errors="replace") as f:
            lines = f.read().split("\n")
    except OSError:
        return "at %s" % loc
    cmd, symptom = "", ""
    prefix = "./%s: " % loc
    for i, line in enumerate(lines):
        if line.startswith(prefix) and not line[len(prefix):].startswith(
                "exit code was"):
            cmd = line[len(prefix):]
            symptom = ""
            for later in lines[i + 1:i + 200]:
                if later.startswith(prefix + "exit code was"):
                    symptom = symptom or later[len(prefix):]
                    break
                if (later.startswith("+") and not later.startswith("+++")
                        and not symptom):
                    symptom = later
                if later.startswith("./") and not later.startswith(prefix):
                    break
    cmd = cmd.strip()[:80]
    symptom = re.sub(r"^\+\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|", "+",
                     symptom.strip())[:120]
    out = "at %s `%s`" % (loc, cmd) if cmd else "at %s" % loc
    return out + (": " + symptom if symptom else "")


def md_escape(text):
    return text.replace("|", "\\|")


def main():
    a = parse_args()
    listing = read_listing(a.listing)
    causes = read_causes(a.causes)
    results = read_results(a.log)
    selected = [int(n) for n in a.selected.split()]

    rows = []
    counts = {"pass": 0, "fail": 0, "skip": 0, "not run": 0}
    for num in selected:
        loc, name = listing.get(num, ("?", "?"))
        status, where = results.get(num, (None, None))
        if status == "ok":
            kind, cause = "pass", ""
        elif status == "skipped":
            kind = "skip"
            cause = skip_reason(a.src, where)
        elif status in ("FAILED", "UNEXPECTED PASS", "expected failure"):
            kind = "fail"
            detail = failure_detail(a.dir, num, where) if where else status
            cause = ("%s (%s)" % (causes[name], detail) if name in causes
                     else detail)
        else:
            kind, cause = "not run", "no result in the suite's log"
        counts[kind] += 1
        rows.append((num, name, kind, cause))

    sanitizer = sorted(glob.glob(os.path.join(a.sanitizer_dir, "*")))
    try:
        commit = subprocess.run(
            ["git", "-C", os.path.dirname(os.path.abspath(__file__)),
             "rev-parse", "--short", "HEAD"], capture_output=True,
            text=True).stdout.strip()
    except OSError:
        commit = "?"
    try:
        ovs = subprocess.run(["dpkg-query", "-W", "-f=${Version}",
                              "openvswitch-source"], capture_output=True,
                             text=True).stdout.strip()
    except OSError:
        ovs = "?"

    total = len(rows)
    out = []
    out.append("# Open vSwitch kmod system tests on hvs-dpd\n")
    out.append("Generated by `tests/ovs-suite/run.sh`; do not edit by hand "
               "(causes of known failures live in "
               "`tests/ovs-suite/known-causes.txt`).\n")
    out.append("**%d passed, %d failed, %d skipped of %d**%s\n" % (
        counts["pass"], counts["fail"], counts["skip"], total,
        ", %d not run" % counts["not run"] if counts["not run"] else ""))
    out.append("- command: `%s` (%d s)" % (a.command.strip(), a.seconds))
    out.append("- date: %s" % datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    out.append("- suite: openvswitch-source %s, system-kmod-testsuite with "
               "tests/ovs-suite/hvs-macros.at" % ovs)
    out.append("- binaries under test: Debian's ovs-vswitchd and ovs-dpctl "
               "(LD_PRELOAD libhvs-nlshim.so), hvs %s" % (commit or "?"))
    out.append("- host: kernel %s; veth offloads %s" % (
        platform.release(), a.offloads))
    out.append("- hvs-dpd sanitizer reports: %s\n" % (
        ", ".join(os.path.basename(s) for s in sanitizer) if sanitizer
        else "none"))
    out.append("| # | test | result | cause |")
    out.append("|---|---|---|---|")
    for num, name, kind, cause in rows:
        out.append("| %d | %s | %s | %s |" % (
            num, md_escape(name), kind, md_escape(cause)))
    out.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
