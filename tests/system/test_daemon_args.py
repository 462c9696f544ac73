"""Command-line operands of the daemons: a word a daemon does not take
(the level of "-v module:dbg", where -v takes its argument only when
attached) is refused before the daemon does anything, instead of starting
it with the defaults.  Each run is in a namespace with a private run
directory (also in HVS_RUNDIR), so that a regression never reaches
/run/hvs or the host's interfaces."""
import os
import shutil
import tempfile

import pytest

from conftest import BUILD, DPD, HVS_OVSDB, VSWITCHD, run

DAEMONS = {"hvs-dpd": DPD, "hvs-vswitchd": VSWITCHD,
           "hvs-ovsdb": HVS_OVSDB}


@pytest.fixture
def rundir():
    top = tempfile.mkdtemp(prefix="hvs-args-")
    # Not created yet: a daemon that refuses its arguments must not make it.
    yield os.path.join(top, "run")
    shutil.rmtree(top, ignore_errors=True)


def start(topo, program, rundir, *args):
    if not os.path.exists(DAEMONS[program]):
        pytest.skip("%s is not built in %s" % (program, BUILD))
    ns = topo.ns("d")
    env = dict(os.environ, HVS_RUNDIR=rundir,
               HVS_DBDIR=os.path.join(rundir, "db"))
    # A daemon that wrongly starts is killed by the timeout, and by the
    # namespace's cleanup.
    return run([DAEMONS[program], "--rundir=" + rundir] + list(args),
               ns=ns, check=False, timeout=10, env=env)


@pytest.mark.parametrize("program,args,word", [
    ("hvs-dpd", ["-v", "nosuch:dbg"], "nosuch:dbg"),
    ("hvs-dpd", ["extra"], "extra"),
    ("hvs-vswitchd", ["unix:/nonexistent/db.sock", "extra"], "extra"),
    ("hvs-ovsdb", ["a.db", "b.db"], "b.db"),
])
def test_stray_operand_is_refused(topo, rundir, program, args, word):
    p = start(topo, program, rundir, *args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert '%s: unexpected argument "%s"' % (program, word) in p.stderr, \
        p.stderr
    assert not os.path.exists(rundir)


def test_vswitchd_refuses_a_database_that_is_no_remote(topo, rundir):
    # "-v nosuch:dbg" hands hvs-vswitchd "nosuch:dbg" as its DATABASE.
    p = start(topo, "hvs-vswitchd", rundir, "-v", "nosuch:dbg")
    assert p.returncode == 2, p.stdout + p.stderr
    assert ('hvs-vswitchd: unexpected argument "nosuch:dbg": DATABASE is '
            'unix:PATH or tcp:IP:PORT') in p.stderr, p.stderr
    assert not os.path.exists(rundir)


@pytest.mark.parametrize("program", sorted(DAEMONS))
def test_unknown_log_module_is_refused(topo, rundir, program):
    p = start(topo, program, rundir, "--verbose=nosuch:dbg")
    assert p.returncode == 2, p.stdout + p.stderr
    assert ("%s: bad --verbose spec 'nosuch:dbg': unknown module 'nosuch'"
            % program) in p.stderr, p.stderr
    assert not os.path.exists(rundir)
