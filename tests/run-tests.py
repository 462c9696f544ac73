#!/usr/bin/python3
"""Runs hvs's tests and prints one summary line.

Unit tests are cmocka binaries (TAP output), system tests are pytest files
under tests/system, fuzz targets get a short bounded run each.  Every test
case counts once; the last line is "N passed, N failed[, N skipped]".
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
counts = {"passed": 0, "failed": 0, "skipped": 0}
failures = []


def record(kind, name, outcome, detail=""):
    counts[outcome] += 1
    tag = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[outcome]
    print("%s %s: %s%s" % (tag, kind, name, (" (%s)" % detail) if detail
                           else ""), flush=True)
    if outcome == "failed":
        failures.append("%s: %s" % (kind, name))


def sanitizer_env():
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=23"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env["LSAN_OPTIONS"] = "suppressions=%s" % os.path.join(
        ROOT, "tests", "lsan.supp")
    return env


def executables(build, prefix):
    """Built programs named PREFIX* anywhere in the build tree (tests are
    built beside their subject, e.g. ovsdb/ or tests/unit/)."""
    found = []
    for exe in glob.glob(os.path.join(build, "**", prefix + "*"),
                         recursive=True):
        if os.path.isfile(exe) and os.access(exe, os.X_OK) \
                and not exe.endswith((".p", ".log", ".py", ".sh")) \
                and ".p/" not in exe and "/meson-" not in exe:
            found.append(exe)
    return sorted(found, key=os.path.basename)


def run_unit(build):
    for exe in executables(build, "test-"):
        name = os.path.basename(exe)
        env = sanitizer_env()
        env["CMOCKA_MESSAGE_OUTPUT"] = "TAP"
        try:
            p = subprocess.run([exe], env=env, capture_output=True,
                               text=True, timeout=300)
        except subprocess.TimeoutExpired:
            record("unit", name, "failed", "timeout")
            continue
        seen = 0
        for line in p.stdout.splitlines():
            m = re.match(r"^(not ok|ok) \d+ - (\S+)(.*)$", line)
            if not m:
                continue
            seen += 1
            skip = "# SKIP" in m.group(3)
            outcome = ("skipped" if skip else
                       "passed" if m.group(1) == "ok" else "failed")
            record("unit", "%s/%s" % (name, m.group(2)), outcome)
        if p.returncode != 0 or seen == 0:
            sys.stdout.write(p.stdout[-4000:] + p.stderr[-4000:])
            if seen == 0 or p.returncode == 23 or "Sanitizer" in p.stderr:
                record("unit", name, "failed",
                       "exit %d, sanitizer or crash" % p.returncode)


# The forwarding tests again with hvs-dpd's kernel flow cache off, so that
# hvs-dpd's own forwarding (segmentation, checksums, tunnels) is tested on
# every packet, not only on the first ones of each flow.
NO_KERNEL_CACHE = ["test_dpd.py", "test_tunnel_dpd.py",
                   "test_vswitchd_tunnel.py"]


def run_system(build, files=None, tag="", dpd_args=""):
    if files is None:
        files = sorted(glob.glob(os.path.join(ROOT,
                                              "tests/system/test_*.py")))
    if not files:
        return
    xml = os.path.join(build, "pytest%s.xml" % tag)
    env = sanitizer_env()
    env["HVS_BUILD"] = os.path.abspath(build)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if dpd_args:
        env["HVS_TEST_DPD_ARGS"] = dpd_args
        print("system tests again with HVS_TEST_DPD_ARGS=%s: %s"
              % (dpd_args, " ".join(os.path.basename(f) for f in files)),
              flush=True)
    if os.path.exists(xml):
        os.unlink(xml)
    subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-rfE",
                    "-p", "no:cacheprovider", "--junitxml", xml] + files,
                   env=env, cwd=ROOT, timeout=1500)
    if not os.path.exists(xml):
        record("system", tag + "pytest", "failed", "no report")
        return
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = "%s%s::%s" % (tag, case.get("classname", "").split(".")[-1],
                             case.get("name"))
        if case.find("failure") is not None or \
           case.find("error") is not None:
            record("system", name, "failed")
        elif case.find("skipped") is not None:
            msg = case.find("skipped").get("message", "")
            record("system", name, "skipped", msg)
        else:
            record("system", name, "passed")


def run_fuzz(build, seconds):
    for exe in executables(build, "fuzz-"):
        name = os.path.basename(exe)
        seeds = os.path.join(ROOT, "tests/fuzz/corpus", name)
        work = os.path.join(build, "fuzz-corpus", name)
        os.makedirs(work, exist_ok=True)
        args = [exe, "-max_total_time=%d" % seconds, "-timeout=10",
                "-rss_limit_mb=2048", "-artifact_prefix=%s/" % build, work]
        if os.path.isdir(seeds):
            args.append(seeds)
        p = subprocess.run(args, env=sanitizer_env(), capture_output=True,
                           text=True, timeout=seconds + 120)
        if p.returncode == 0:
            m = re.findall(r"#(\d+)\s+DONE", p.stderr)
            record("fuzz", name, "passed",
                   "%s runs" % (m[-1] if m else "?"))
        else:
            sys.stdout.write(p.stderr[-6000:])
            record("fuzz", name, "failed", "exit %d" % p.returncode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--prior", default="",
                    help="results of earlier steps: kind:name:pass|fail")
    ap.add_argument("--fuzz-seconds", type=int,
                    default=int(os.environ.get("HVS_FUZZ_SECONDS", "20")))
    ap.add_argument("--only", choices=["unit", "system", "fuzz"])
    a = ap.parse_args()
    for item in a.prior.split():
        kind, name, res = item.split(":")
        record(kind, name, "passed" if res == "pass" else "failed")
    build_ok = os.path.exists(os.path.join(a.build, "build.ninja")) and \
        "build:clang-asan:fail" not in a.prior
    if build_ok:
        if a.only in (None, "unit"):
            run_unit(a.build)
        if a.only in (None, "system"):
            run_system(a.build)
            run_system(a.build, [os.path.join(ROOT, "tests/system", f)
                                 for f in NO_KERNEL_CACHE],
                       "kernel-cache-off/", "--kernel-cache=off")
        if a.only in (None, "fuzz"):
            run_fuzz(a.build, a.fuzz_seconds)
    if failures:
        print("failed:\n  " + "\n  ".join(failures))
    line = "%d passed, %d failed" % (counts["passed"], counts["failed"])
    if counts["skipped"]:
        line += ", %d skipped" % counts["skipped"]
    print(line)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
