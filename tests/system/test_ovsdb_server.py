"""hvs-ovsdb on its own: durability and crash recovery, bad input, the
Python IDL, many monitoring clients, locks, waits, unixctl, compaction,
schema upgrade and database-configured remotes."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from ovsdb_util import HVS_OVSDB, Rpc, Server, ovs_env

pytestmark = pytest.mark.skipif(not os.path.exists(HVS_OVSDB),
                                reason="hvs-ovsdb not built")

DB = "Open_vSwitch"


@pytest.fixture
def hvs(tmp_path):
    s = Server(str(tmp_path / "hvs"))
    yield s
    s.stop()
    assert not s.sanitizer_report()


def transact(rpc, *ops):
    r = rpc.call("transact", [DB] + list(ops))
    assert r["error"] is None, r
    return r["result"]


def init_root(rpc):
    res = transact(rpc, {"op": "insert", "table": "Open_vSwitch",
                         "row": {}})
    return res[0]["uuid"][1]


def bridge_names(rpc):
    res = transact(rpc, {"op": "select", "table": "Bridge", "where": [],
                         "columns": ["name"]})
    return sorted(r["name"] for r in res[0]["rows"])


def add_bridge_op(name, root):
    return [{"op": "insert", "table": "Bridge", "row": {"name": name},
             "uuid-name": "nb"},
            {"op": "mutate", "table": "Open_vSwitch",
             "where": [["_uuid", "==", ["uuid", root]]],
             "mutations": [["bridges", "insert", ["named-uuid", "nb"]],
                           ["external_ids", "insert",
                            ["map", [[name, "yes"]]]]]}]


# ------------------------------------------------------------ durability

def test_data_survives_restart(hvs):
    assert hvs.vsctl("init")[0] == 0
    assert hvs.vsctl("add-br", "br0")[0] == 0
    assert hvs.vsctl("set", "Bridge", "br0", "external_ids:k=v")[0] == 0
    hvs.restart()
    assert hvs.vsctl("get", "Bridge", "br0", "external_ids:k")[1] == "v\n"
    assert hvs.vsctl("list-br")[1] == "br0\n"


def test_torn_tail_is_cut_off(hvs):
    rpc = Rpc(hvs.sock)
    root = init_root(rpc)
    for i in range(5):
        transact(rpc, *add_bridge_op("b%d" % i, root))
    rpc.close()
    hvs.kill()
    data = open(hvs.db, "rb").read()
    last = data.rindex(b"HVSDB ")
    # Cut the last record in the middle of its JSON.
    cut = last + (len(data) - last) // 2
    with open(hvs.db, "r+b") as f:
        f.truncate(cut)
    hvs.start()
    rpc = Rpc(hvs.sock)
    assert bridge_names(rpc) == ["b0", "b1", "b2", "b3"]
    rpc.close()
    assert os.path.getsize(hvs.db) == last
    assert "torn or corrupt" in open(hvs.log).read()
    # The file accepts new records after the cut.
    rpc = Rpc(hvs.sock)
    transact(rpc, *add_bridge_op("b9", root))
    rpc.close()
    hvs.restart()
    rpc = Rpc(hvs.sock)
    assert bridge_names(rpc) == ["b0", "b1", "b2", "b3", "b9"]
    rpc.close()


def test_corrupt_record_checksum(hvs):
    rpc = Rpc(hvs.sock)
    root = init_root(rpc)
    for i in range(3):
        transact(rpc, *add_bridge_op("c%d" % i, root))
    rpc.close()
    hvs.kill()
    data = bytearray(open(hvs.db, "rb").read())
    last = data.rindex(b"HVSDB ")
    pos = data.index(b"c2", last)
    data[pos + 1] = ord("9")            # flip a byte: checksum mismatch
    open(hvs.db, "wb").write(data)
    hvs.start()
    rpc = Rpc(hvs.sock)
    assert bridge_names(rpc) == ["c0", "c1"]
    rpc.close()


def test_sigkill_during_commits(hvs):
    """A client commits in a loop while another thread SIGKILLs the server
    at a random moment; after each restart every acknowledged transaction
    is there and none is half-applied."""
    rpc = Rpc(hvs.sock)
    root = init_root(rpc)
    rpc.close()
    acked = []
    rng = random.Random(4)
    n = 0
    for _round in range(6):
        killer = threading.Timer(rng.uniform(0.05, 0.5), hvs.proc.kill)
        rpc = Rpc(hvs.sock)
        killer.start()
        try:
            while True:
                name = "k%d" % n
                n += 1
                ops = add_bridge_op(name, root)
                ops.append({"op": "commit", "durable": n % 2 == 0})
                r = rpc.call("transact", [DB] + ops)
                assert r["error"] is None
                assert all("error" not in x for x in r["result"]), r
                acked.append(name)
        except (EOFError, OSError):
            pass
        killer.join()
        hvs.proc.wait()
        rpc.close()
        hvs.stderr.close()
        hvs.start()
        rpc = Rpc(hvs.sock)
        names = bridge_names(rpc)
        missing = [a for a in acked if a not in names]
        assert not missing
        # Nothing half-applied: each bridge is in the root's bridges and
        # its external_ids key is there, or neither.
        res = transact(rpc, {"op": "select", "table": "Open_vSwitch",
                             "where": [], "columns": ["external_ids",
                                                      "bridges"]})
        ids = dict(res[0]["rows"][0]["external_ids"][1])
        assert sorted(ids) == names
        bridges = res[0]["rows"][0]["bridges"]
        n_refs = 1 if bridges[0] == "uuid" else len(bridges[1])
        assert n_refs == len(names)
        rpc.close()
    assert len(acked) > 20


# ------------------------------------------------------------- bad input

def test_malformed_input_gets_errors(hvs):
    rpc = Rpc(hvs.sock)
    root = init_root(rpc)
    transact(rpc, *add_bridge_op("keep", root))
    # Invalid JSON inside a well-framed object: error, connection stays.
    rpc.send_raw(b'{"id": 1, "method": "echo", "params": [1,]}')
    r = rpc.recv()
    assert r["error"] is not None and r["id"] is None
    assert rpc.call("echo", ["still", "here"])["result"] == ["still",
                                                             "here"]
    # Mismatched brackets: an error, then the connection closes.
    bad = Rpc(hvs.sock)
    bad.send_raw(b'{"id": 1, "method": "echo", "params": [}')
    assert bad.recv()["error"] is not None
    with pytest.raises((EOFError, OSError)):
        bad.recv()
    bad.close()
    # Unknown method.
    assert rpc.call("no_such_method", [])["error"] == "unknown method"
    # Wrong parameter types.
    rpc.send_raw(json.dumps({"id": 7, "method": "transact", "params": 5}))
    r = rpc.recv()
    assert r["id"] == 7 and r["error"] is not None
    for params in ([], [42], [DB, 42], [DB, {"op": 1}],
                   [DB, {"op": "insert", "table": "Bridge",
                         "row": {"name": 5}}],
                   [DB, {"op": "select", "table": "Bridge",
                         "where": [["_uuid", "==", ["uuid", "nope"]]]}],
                   [DB, {"op": "insert", "table": "Bridge",
                         "row": {"name": "x", "ports":
                                 ["uuid", "not-a-uuid"]}}],
                   [DB, {"op": "insert", "table": "Port",
                         "row": {"name": "p", "tag": 5000}}],
                   [DB, {"op": "insert", "table": "Bridge",
                         "row": {"name": "keep"}, "uuid-name": "k2"},
                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                     "mutations": [["bridges", "insert",
                                    ["named-uuid", "k2"]]]}],
                   [DB, {"op": "delete", "table": "Bridge",
                         "where": []}]):
        r = rpc.call("transact", params)
        res = r["result"]
        assert r["error"] is not None or any(
            isinstance(x, dict) and "error" in x for x in res), params
    for params in ([], [42], ["nodb"]):
        assert rpc.call("get_schema", params)["error"] is not None
    assert rpc.call("monitor", [DB, None, {"Nope": {}}])["error"]
    assert rpc.call("lock", [1])["error"] is not None
    # A message nested too deeply: error, then the connection closes.
    rpc.send_raw(b'{"id": 3, "method": "echo", "params": ' + b"[" * 100000)
    r = rpc.recv()
    assert r["error"] is not None
    rpc.close()
    # An oversized message.
    big = Rpc(hvs.sock)
    try:
        big.send_raw(b'{"id": 4, "method": "echo", "params": ["' +
                     b"x" * (65 << 20))
        r = big.recv()
        assert r["error"] is not None
    except (OSError, EOFError):
        pass
    big.close()
    # Top-level garbage.
    g = Rpc(hvs.sock)
    g.send_raw(b"hello\n")
    assert g.recv()["error"] is not None
    g.close()
    # The server is up and the database unchanged.
    rpc = Rpc(hvs.sock)
    assert bridge_names(rpc) == ["keep"]
    rpc.close()


# ------------------------------------------------------------ IDL client

IDL_SCRIPT = r"""
import sys, time
import ovs.db.idl, ovs.poller
remote, schema_path = sys.argv[1], sys.argv[2]
helper = ovs.db.idl.SchemaHelper(location=schema_path)
helper.register_all()
idl = ovs.db.idl.Idl(remote, helper)
def run_until(cond, t=10):
    end = time.time() + t
    while time.time() < end:
        idl.run()
        if cond():
            return True
        p = ovs.poller.Poller(); idl.wait(p); p.timer_wait(100); p.block()
    return False
assert run_until(lambda: idl.has_ever_connected() and
                 len(idl.tables["Open_vSwitch"].rows) == 1)
root = next(iter(idl.tables["Open_vSwitch"].rows.values()))
names = sorted(b.name for b in root.bridges)
print("read", names)
txn = ovs.db.idl.Transaction(idl)
br = txn.insert(idl.tables["Bridge"])
br.name = "from-idl"
root.addvalue("bridges", br.uuid)
status = txn.commit_block()
print("commit", status == ovs.db.idl.Transaction.SUCCESS)
print("ready", flush=True)
sys.stdin.readline()
ok = run_until(lambda: any(b.name == "from-vsctl" for b in
                           idl.tables["Bridge"].rows.values()))
print("update", ok)
"""


def test_python_idl_reads_commits_and_sees_updates(hvs, tmp_path):
    schema = str(tmp_path / "schema")
    assert hvs.client("get-schema", hvs.remote, DB)[0] == 0
    open(schema, "w").write(hvs.client("get-schema", hvs.remote, DB)[1])
    hvs.vsctl("init")
    hvs.vsctl("add-br", "br0")
    p = subprocess.Popen(["/usr/bin/python3", "-c", IDL_SCRIPT, hvs.remote,
                          schema], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    lines = []
    while True:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        lines.append(line.strip())
        if line.strip() == "ready":
            break
    assert lines[0] == "read ['br0']"
    assert lines[1] == "commit True"
    assert hvs.vsctl("br-exists", "from-idl")[0] == 0
    hvs.vsctl("add-br", "from-vsctl")
    out, err = p.communicate("\n", timeout=30)
    assert "update True" in out, err


IDL_COND_SCRIPT = r"""
import sys, time
import ovs.db.idl, ovs.poller
helper = ovs.db.idl.SchemaHelper(location=sys.argv[2])
helper.register_all()
idl = ovs.db.idl.Idl(sys.argv[1], helper)
def run_until(cond, t=10):
    end = time.time() + t
    while time.time() < end:
        idl.run()
        if cond():
            return True
        p = ovs.poller.Poller(); idl.wait(p); p.timer_wait(100); p.block()
    return False
def names():
    return sorted(b.name for b in idl.tables["Bridge"].rows.values())
print(run_until(lambda: names() == ["br0", "br1"]))
idl.cond_change("Bridge", [["name", "==", "br1"]])
print(run_until(lambda: names() == ["br1"]))
idl.cond_change("Bridge", [True])
print(run_until(lambda: names() == ["br0", "br1"]))
"""


def test_python_idl_conditional_monitoring(hvs, tmp_path):
    schema = str(tmp_path / "schema")
    open(schema, "w").write(hvs.client("get-schema", hvs.remote, DB)[1])
    assert hvs.vsctl("init", "--", "add-br", "br0", "--", "add-br",
                     "br1")[0] == 0
    p = subprocess.run(["/usr/bin/python3", "-c", IDL_COND_SCRIPT,
                        hvs.remote, schema], capture_output=True, text=True,
                       timeout=60)
    assert p.stdout.split() == ["True", "True", "True"], p.stderr


# ------------------------------------------------------- many monitors

def test_200_monitoring_clients_get_every_update_in_order(hvs):
    n_clients, n_txns = 200, 20
    w = Rpc(hvs.sock)
    root = init_root(w)
    clients = []
    for i in range(n_clients):
        c = Rpc(hvs.sock)
        method = ("monitor", "monitor_cond", "monitor_cond_since")[i % 3]
        params = [DB, "m", {"Bridge": [{"columns": ["name"]}]}]
        if method == "monitor_cond_since":
            params.append("00000000-0000-0000-0000-000000000000")
        r = c.call(method, params)
        assert r["error"] is None
        clients.append(c)
    for i in range(n_txns):
        transact(w, *add_bridge_op("m%02d" % i, root))
    want = ["m%02d" % i for i in range(n_txns)]
    for c in clients:
        got = []
        while len(got) < n_txns:
            m = c.notes.pop(0) if c.notes else c.recv()
            assert m["method"] in ("update", "update2", "update3")
            upd = m["params"][-1]["Bridge"]
            for row in upd.values():
                body = row.get("new") or row.get("insert")
                got.append(body["name"])
        assert got == want
        c.close()
    w.close()


# ---------------------------------------------------------------- locks

def test_lock_steal_unlock(hvs):
    a, b = Rpc(hvs.sock), Rpc(hvs.sock)
    assert a.call("lock", ["L"])["result"] == {"locked": True}
    assert b.call("lock", ["L"])["result"] == {"locked": False}
    r = a.call("transact", [DB, {"op": "assert", "lock": "L"}])
    assert r["result"] == [{}]
    r = b.call("transact", [DB, {"op": "assert", "lock": "L"}])
    assert r["result"][0]["error"] == "not owner"
    assert a.call("unlock", ["L"])["result"] == {}
    note = b.recv()
    assert note["method"] == "locked" and note["params"] == ["L"]
    assert a.call("steal", ["L"])["result"] == {"locked": True}
    note = b.recv()
    assert note["method"] == "stolen" and note["params"] == ["L"]
    # Disconnecting releases the lock to the next waiter.
    assert b.call("lock", ["L"])["result"] == {"locked": False}
    a.close()
    note = b.recv()
    assert note["method"] == "locked"
    b.close()


# ------------------------------------------------------- wait and cancel

def test_wait_blocks_until_condition_or_timeout(hvs):
    a, b = Rpc(hvs.sock), Rpc(hvs.sock)
    root = init_root(a)
    wait = {"op": "wait", "table": "Bridge", "timeout": 5000,
            "where": [["name", "==", "wb"]], "columns": ["name"],
            "until": "==", "rows": [{"name": "wb"}]}
    a.send_raw(json.dumps({"id": 50, "method": "transact",
                           "params": [DB, wait]}))
    time.sleep(0.2)
    transact(b, *add_bridge_op("wb", root))
    r = a.recv()
    assert r["id"] == 50 and r["result"] == [{}]
    # A short timeout expires.
    wait["where"] = [["name", "==", "never"]]
    wait["rows"] = [{"name": "never"}]
    wait["timeout"] = 100
    t0 = time.time()
    r = a.call("transact", [DB, wait])
    assert r["result"][0]["error"] == "timed out"
    assert time.time() - t0 >= 0.09
    # "cancel" ends a blocked request.
    wait["timeout"] = 100000
    a.send_raw(json.dumps({"id": 60, "method": "transact",
                           "params": [DB, wait]}))
    a.send_raw(json.dumps({"id": None, "method": "cancel", "params": [60]}))
    r = a.recv()
    assert r["id"] == 60 and r["error"] is not None
    a.close()
    b.close()


# --------------------------------------------------- monitor details

def test_monitor_cond_change_and_update2_diffs(hvs):
    w = Rpc(hvs.sock)
    root = init_root(w)
    transact(w, *add_bridge_op("x1", root))
    transact(w, *add_bridge_op("x2", root))
    c = Rpc(hvs.sock)
    r = c.call("monitor_cond", [DB, "id", {"Bridge": [{
        "columns": ["name", "external_ids"],
        "where": [["name", "==", "x1"]]}]}])
    rows = r["result"]["Bridge"]
    assert [v["initial"]["name"] for v in rows.values()] == ["x1"]
    transact(w, {"op": "update", "table": "Bridge",
                 "where": [["name", "==", "x1"]],
                 "row": {"external_ids": ["map", [["a", "1"], ["b", "2"]]]}})
    m = c.recv()
    assert m["method"] == "update2"
    (upd,) = m["params"][1]["Bridge"].values()
    assert upd == {"modify": {"external_ids": ["map", [["a", "1"],
                                                       ["b", "2"]]]}}
    transact(w, {"op": "update", "table": "Bridge",
                 "where": [["name", "==", "x1"]],
                 "row": {"external_ids": ["map", [["a", "9"]]]}})
    (upd,) = c.recv()["params"][1]["Bridge"].values()
    # a changed, b removed: both appear in the diff.
    assert upd == {"modify": {"external_ids": ["map", [["a", "9"],
                                                       ["b", "2"]]]}}
    # x2 is not watched; changing the condition brings it in.
    transact(w, {"op": "update", "table": "Bridge",
                 "where": [["name", "==", "x2"]],
                 "row": {"external_ids": ["map", [["z", "z"]]]}})
    r = c.call("monitor_cond_change", ["id", "id", {"Bridge": [{
        "where": [["name", "==", "x2"]]}]}])
    assert r["result"] == {}
    m = c.notes.pop(0) if c.notes else c.recv()
    kinds = sorted(list(v)[0] for v in m["params"][1]["Bridge"].values())
    assert kinds == ["delete", "insert"]
    assert c.call("monitor_cancel", ["id"])["result"] == {}
    assert c.call("monitor_cancel", ["id"])["error"] is not None
    # _Server database.
    r = c.call("monitor_cond", ["_Server", ["monid", "_Server"], {
        "Database": [{"columns": ["name", "model", "connected"]}]}])
    names = sorted(v["initial"]["name"]
                   for v in r["result"]["Database"].values())
    assert names == [DB, "_Server"]
    assert c.call("set_db_change_aware", [True])["result"] == {}
    assert c.call("list_dbs", [])["result"] == [DB, "_Server"]
    c.close()
    w.close()


def test_garbage_collection_and_referential_integrity(hvs):
    rpc = Rpc(hvs.sock)
    init_root(rpc)
    # An Interface no Port refers to is collected at commit.
    res = transact(rpc, {"op": "insert", "table": "Interface",
                         "row": {"name": "orphan"}})
    res = transact(rpc, {"op": "select", "table": "Interface",
                         "where": [], "columns": ["name"]})
    assert res[0]["rows"] == []
    # Deleting a Port that a Bridge still refers to is refused.
    transact(rpc, {"op": "insert", "table": "Interface",
                   "row": {"name": "i1"}, "uuid-name": "i"},
             {"op": "insert", "table": "Port", "uuid-name": "p",
              "row": {"name": "p1", "interfaces": ["named-uuid", "i"]}},
             {"op": "insert", "table": "Bridge", "uuid-name": "b",
              "row": {"name": "br", "ports": ["named-uuid", "p"]}},
             {"op": "mutate", "table": "Open_vSwitch", "where": [],
              "mutations": [["bridges", "insert", ["named-uuid", "b"]]]})
    res = rpc.call("transact", [DB, {"op": "delete", "table": "Bridge",
                                     "where": []}])["result"]
    assert res[-1]["error"] == "referential integrity violation"
    # Dropping the reference collects the Bridge, its Port and Interface.
    transact(rpc, {"op": "update", "table": "Open_vSwitch", "where": [],
                   "row": {"bridges": ["set", []]}})
    for t in ("Bridge", "Port", "Interface"):
        res = transact(rpc, {"op": "select", "table": t, "where": []})
        assert res[0]["rows"] == [], t
    rpc.close()


# ---------------------------------------------------------------- unixctl

def test_unixctl_commands(hvs):
    rc, out, err = hvs.appctl("version")
    assert rc == 0 and out.startswith("hvs-ovsdb")
    rc, out, err = hvs.appctl("memory/show")
    assert rc == 0 and "sessions:" in out
    assert hvs.appctl("vlog/set", "ANY:dbg")[0] == 0
    rc, out, err = hvs.appctl("no/such-cmd")
    assert rc != 0 and "is not a valid command" in err
    assert hvs.appctl("exit")[0] == 0
    hvs.proc.wait(timeout=10)
    assert hvs.proc.returncode == 0


def test_compaction_keeps_data(tmp_path):
    s = Server(str(tmp_path / "c"), extra=[])
    rpc = Rpc(s.sock)
    root = init_root(rpc)
    for i in range(400):
        transact(rpc, {"op": "mutate", "table": "Open_vSwitch",
                       "where": [], "mutations": [
                           ["next_cfg", "+=", 1],
                           ["external_ids", "delete", ["set", ["k"]]],
                           ["external_ids", "insert",
                            ["map", [["k", "x" * 300 + str(i)]]]]]})
    transact(rpc, *add_bridge_op("survivor", root))
    before = os.path.getsize(s.db)
    assert s.appctl("ovsdb-server/compact")[0] == 0
    after = os.path.getsize(s.db)
    assert after < before / 4
    transact(rpc, *add_bridge_op("after", root))
    rpc.close()
    s.restart()
    rpc = Rpc(s.sock)
    assert bridge_names(rpc) == ["after", "survivor"]
    res = transact(rpc, {"op": "select", "table": "Open_vSwitch",
                         "where": [], "columns": ["next_cfg"]})
    assert res[0]["rows"][0]["next_cfg"] == 400
    rpc.close()
    s.stop()


def test_automatic_compaction(tmp_path):
    os.environ["HVS_OVSDB_COMPACT_MIN"] = "20000"
    try:
        s = Server(str(tmp_path / "a"))
    finally:
        del os.environ["HVS_OVSDB_COMPACT_MIN"]
    rpc = Rpc(s.sock)
    init_root(rpc)
    for i in range(1500):
        transact(rpc, {"op": "mutate", "table": "Open_vSwitch",
                       "where": [], "mutations": [["next_cfg", "+=", 1]]})
    rpc.close()
    # Without compaction the file would hold ~1500 records (>100 kB).
    assert os.path.getsize(s.db) < 80000
    assert "compacted" in open(s.log).read()
    s.restart()
    rpc = Rpc(s.sock)
    res = transact(rpc, {"op": "select", "table": "Open_vSwitch",
                         "where": [], "columns": ["next_cfg"]})
    assert res[0]["rows"][0]["next_cfg"] == 1500
    rpc.close()
    s.stop()


def test_schema_upgrade_keeps_data(tmp_path, hvs):
    old = json.loads(hvs.client("get-schema", hvs.remote, DB)[1])
    old["version"] = "1.0.0"
    del old["tables"]["Bridge"]["columns"]["datapath_version"]
    del old["tables"]["AutoAttach"]
    del old["tables"]["Bridge"]["columns"]["auto_attach"]
    path = str(tmp_path / "old.ovsschema")
    json.dump(old, open(path, "w"))
    s = Server(str(tmp_path / "up"), extra=["--schema=" + path])
    assert s.vsctl("init")[0] == 0
    assert s.vsctl("add-br", "br0", "--", "set", "Bridge", "br0",
                   "external_ids:keep=me")[0] == 0
    s.stop()
    s.extra = []                        # the built-in, newer schema
    s.start()
    assert s.vsctl("get", "Bridge", "br0", "external_ids:keep")[1] == "me\n"
    assert s.vsctl("set", "Bridge", "br0", "datapath_version=x")[0] == 0
    s.restart()
    assert s.vsctl("get", "Bridge", "br0", "datapath_version")[1] == "x\n"
    s.stop()


def test_manager_options_remote(hvs):
    hvs.stop()
    port = 20000 + os.getpid() % 20000
    hvs.extra = ["--remote=db:Open_vSwitch,Open_vSwitch,manager_options"]
    hvs.start()
    assert hvs.vsctl("init")[0] == 0
    assert hvs.vsctl("set-manager", "ptcp:%d:127.0.0.1" % port)[0] == 0
    time.sleep(0.2)
    p = subprocess.run(["ovs-vsctl", "--db=tcp:127.0.0.1:%d" % port,
                        "--no-wait", "--timeout=5", "get-manager"],
                       capture_output=True, text=True)
    assert p.stdout == "ptcp:%d:127.0.0.1\n" % port
    assert hvs.vsctl("del-manager")[0] == 0
    time.sleep(0.2)
    s = socket.socket()
    with pytest.raises(OSError):
        s.connect(("127.0.0.1", port))
    s.close()


@pytest.mark.skipif(not shutil.which("ovs-vswitchd"),
                    reason="ovs-vswitchd not installed")
def test_real_ovs_vswitchd_works_against_hvs_ovsdb(hvs):
    """Debian's ovs-vswitchd (dummy datapath) takes its configuration from
    hvs-ovsdb and writes back ofport and cur_cfg, so ovs-vsctl's wait for
    the switch completes."""
    assert hvs.vsctl("init")[0] == 0
    pidfile = os.path.join(hvs.tmp, "vswitchd.pid")
    subprocess.run(["ovs-vswitchd", hvs.remote, "--enable-dummy=override",
                    "--disable-system", "--detach", "--pidfile=" + pidfile,
                    "--unixctl=" + os.path.join(hvs.tmp, "vswitchd.ctl"),
                    "--log-file=" + os.path.join(hvs.tmp, "vswitchd.log")],
                   check=True, env=ovs_env(hvs.tmp), timeout=30)
    try:
        def vsctl(*args):
            return subprocess.run(["ovs-vsctl", "--db=" + hvs.remote,
                                   "--timeout=20"] + list(args),
                                  capture_output=True, text=True,
                                  env=ovs_env(hvs.tmp), timeout=60)
        assert vsctl("add-br", "br0").returncode == 0
        assert vsctl("add-port", "br0", "p1", "--", "set", "Interface",
                     "p1", "type=internal").returncode == 0
        assert vsctl("get", "Interface", "p1", "ofport").stdout.strip() \
            not in ("", "[]", "-1")
        assert vsctl("del-br", "br0").returncode == 0
    finally:
        pid = int(open(pidfile).read())
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def test_online_schema_conversion(hvs, tmp_path):
    assert hvs.vsctl("init", "--", "add-br", "br0", "--", "set", "Bridge",
                     "br0", "external_ids:keep=me")[0] == 0
    schema = json.loads(hvs.client("get-schema", hvs.remote, DB)[1])
    schema["version"] = "99.0.0"
    schema["tables"]["Bridge"]["columns"]["hvs_test"] = {"type": "string"}
    path = str(tmp_path / "new.ovsschema")
    json.dump(schema, open(path, "w"))
    # A db-change-aware client keeps working across the conversion.
    c = Rpc(hvs.sock)
    assert c.call("set_db_change_aware", [True])["result"] == {}
    assert c.call("monitor_cond", [DB, "m", {"Bridge": [{
        "columns": ["name"]}]}])["error"] is None
    assert c.call("monitor_cond", ["_Server", "s", {"Database": [{
        "columns": ["name", "schema"]}]}])["error"] is None
    rc, out, err = hvs.client("convert", hvs.remote, path)
    assert rc == 0, err
    seen = set()
    while len(seen) < 2:
        m = c.notes.pop(0) if c.notes else c.recv()
        if m.get("method") == "monitor_canceled":
            assert m["params"] == ["m"]
            seen.add("canceled")
        elif m.get("method") == "update2":
            (row,) = m["params"][1]["Database"].values()
            assert "hvs_test" in json.dumps(row["modify"]["schema"])
            seen.add("schema")
    c.close()
    assert hvs.vsctl("get", "Bridge", "br0", "external_ids:keep")[1] == \
        "me\n"
    rpc = Rpc(hvs.sock)
    transact(rpc, {"op": "update", "table": "Bridge", "where": [],
                   "row": {"hvs_test": "x"}})
    rpc.close()
    hvs.restart()
    rpc = Rpc(hvs.sock)
    res = transact(rpc, {"op": "select", "table": "Bridge", "where": [],
                         "columns": ["hvs_test"]})
    assert res[0]["rows"] == [{"hvs_test": "x"}]
    rpc.close()
    # A schema that the data does not fit is refused; nothing changes.
    schema["version"] = "100.0.0"
    schema["tables"]["Bridge"]["columns"]["hvs_test"] = {
        "type": {"key": {"type": "string", "enum": ["set", ["a"]]}}}
    json.dump(schema, open(path, "w"))
    rc, out, err = hvs.client("convert", hvs.remote, path)
    assert rc != 0
    rpc = Rpc(hvs.sock)
    res = transact(rpc, {"op": "select", "table": "Bridge", "where": [],
                         "columns": ["hvs_test"]})
    assert res[0]["rows"] == [{"hvs_test": "x"}]
    rpc.close()


def test_active_unix_remote_connects_out(tmp_path):
    """--remote=unix:PATH: the server connects to a listening client and
    serves it, and reconnects when that connection drops."""
    path = str(tmp_path / "client.sock")
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(1)
    ls.settimeout(10)
    s = Server(str(tmp_path / "a"), extra=["--remote=unix:" + path])
    try:
        for _ in range(2):
            conn, _addr = ls.accept()
            conn.settimeout(10)
            conn.sendall(b'{"id": 1, "method": "list_dbs", "params": []}')
            buf = b""
            while not buf.endswith(b"}"):
                buf += conn.recv(4096)
            assert json.loads(buf)["result"] == [DB, "_Server"]
            conn.close()
    finally:
        s.stop()
        ls.close()


# ------------------------------------------------------- socket ownership

def start_second(tmp_path, sock):
    """A second hvs-ovsdb with a database of its own on 'sock'."""
    d = tmp_path / "second"
    d.mkdir()
    return subprocess.run(
        [HVS_OVSDB, str(d / "conf.db"), "--rundir=" + str(d),
         "--remote=punix:" + sock, "--unixctl=" + str(d / "ctl")],
        capture_output=True, text=True, timeout=20, env=ovs_env(str(d)))


def test_punix_socket_of_a_live_server_is_not_taken_over(hvs, tmp_path):
    inode = os.stat(hvs.sock).st_ino
    p = start_second(tmp_path, hvs.sock)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "punix:%s: another server is listening there" % hvs.sock \
        in p.stderr, p.stderr
    # The first server still owns its socket and serves on it.
    assert os.stat(hvs.sock).st_ino == inode
    rc, out, err = hvs.vsctl("add-br", "br0")
    assert rc == 0, err
    assert hvs.vsctl("list-br")[1].split() == ["br0"]


def test_stale_punix_socket_is_replaced(tmp_path):
    d = tmp_path / "s"
    d.mkdir()
    sock = str(d / "db.sock")
    # A socket file nobody listens on any more, as a crash leaves it.
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    s.close()
    srv = Server(str(d))
    try:
        rc, out, err = srv.vsctl("add-br", "br0")
        assert rc == 0, err
    finally:
        assert srv.stop() == 0
        assert not srv.sanitizer_report()
