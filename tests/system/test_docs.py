"""The man pages in docs/ against the programs they describe: each page
renders without a groff warning, has the usual sections, and its OPTIONS
section names exactly the long options that the program's --help lists
(an option dropped from the program, or added without a word in its man
page, fails here).  Runs the programs of $HVS_BUILD with --help only."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import BUILD, ROOT

DOCS = os.path.join(ROOT, "docs")
# Man page -> the program it documents, relative to the build directory.
PROGRAMS = {
    "hvs.8": "cli/hvs",
    "hvs-dpd.8": "datapath/hvs-dpd",
    "hvs-ovsdb.8": "ovsdb/hvs-ovsdb",
    "hvs-vswitchd.8": "vswitchd/hvs-vswitchd",
    "hvs-nlshim.8": "shim/hvs-nlshim",
}
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS",
            "SEE ALSO"]
LONG_OPTION = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def page_text(page):
    with open(os.path.join(DOCS, page)) as f:
        return f.read()


def sections(text):
    """{'NAME': [lines], ...} of a man page's .SH sections."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            name = m.group(1).strip()
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def plain(roff):
    """Roff source as text, enough to find option names: no font or
    zero-width escapes, \\- as a hyphen, no comments."""
    roff = re.sub(r'^\.\\".*$', "", roff, flags=re.M)
    roff = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", roff)
    return roff.replace("\\-", "-").replace("\\&", "").replace("\\c", "")


def documented_options(page):
    body = "\n".join(sections(page_text(page)).get("OPTIONS", []))
    return set(LONG_OPTION.findall(plain(body)))


def help_options(program):
    exe = os.path.join(BUILD, program)
    if not os.path.exists(exe):
        pytest.skip("%s not built" % exe)
    # A program that stopped honouring --help must not start a daemon in
    # the host's run directory.
    rundir = tempfile.mkdtemp(prefix="hvs-docs-")
    try:
        env = dict(os.environ, HVS_RUNDIR=rundir, HVS_DBDIR=rundir)
        try:
            p = subprocess.run([exe, "--help"], capture_output=True,
                               text=True, timeout=30, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail("%s --help did not exit" % program)
    finally:
        shutil.rmtree(rundir, ignore_errors=True)
    assert p.returncode == 0, "%s --help: exit %d\n%s" % (
        program, p.returncode, p.stderr)
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, \
        p.stderr
    return set(LONG_OPTION.findall(p.stdout))


def test_every_page_is_listed():
    pages = sorted(f for f in os.listdir(DOCS) if re.match(r".*\.\d$", f))
    assert pages == sorted(PROGRAMS)


@pytest.mark.parametrize("page", sorted(PROGRAMS))
def test_page_renders_cleanly(page):
    if not shutil.which("groff"):
        pytest.skip("groff not installed (scripts/deps.sh installs it)")
    path = os.path.join(DOCS, page)
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and not p.stderr, \
        "groff -ww warns about %s:\n%s" % (page, p.stderr)


@pytest.mark.parametrize("page", sorted(PROGRAMS))
def test_page_has_sections(page):
    text = page_text(page)
    assert re.search(r"^\.TH %s 8 " % re.escape(
        page[:-2].upper().replace("-", "\\-")), text, re.M), \
        "%s: .TH names another page" % page
    missing = [s for s in SECTIONS if s not in sections(text)]
    assert not missing, "%s lacks sections %s" % (page, missing)


@pytest.mark.parametrize("page", sorted(PROGRAMS))
def test_options_match_help(page):
    documented = documented_options(page)
    listed = help_options(PROGRAMS[page])
    assert documented, "%s: no long options found in OPTIONS" % page
    gone = sorted(documented - listed)
    undocumented = sorted(listed - documented)
    assert not gone, ("docs/%s documents %s, which %s --help no longer "
                      "lists" % (page, ", ".join("--" + o for o in gone),
                                 PROGRAMS[page]))
    assert not undocumented, ("%s --help lists %s, which docs/%s does not "
                              "document under OPTIONS" % (
                                  PROGRAMS[page],
                                  ", ".join("--" + o for o in undocumented),
                                  page))
