#!/usr/bin/python3
"""Compares hvs-ovsdb with Debian's ovsdb-server in one run.

  1. N small transactions (insert a Port and its Interface and link the
     Port to a Bridge), pipelined 64 deep: transactions per second;
  2. commit latency with durable storage ("commit" with durable: true),
     one transaction at a time, both servers in alternating rounds:
     median and 99th percentile;
  3. monitor fan-out: C clients monitor Port; a writer commits T
     transactions; time until every client has every update.

Usage: ovsdb-bench.py [--build DIR] [-n N] [--clients C]
Prints one line per figure with both servers and the ratio.
"""
import argparse
import multiprocessing
import os
import selectors
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "system"))
from ovsdb_util import Rpc, Server  # noqa: E402

import json  # noqa: E402

DB = "Open_vSwitch"


def setup(rpc):
    r = rpc.call("transact", [DB, {
        "op": "insert", "table": "Open_vSwitch", "uuid-name": "o",
        "row": {"bridges": ["named-uuid", "b"]}}, {
        "op": "insert", "table": "Bridge", "uuid-name": "b",
        "row": {"name": "br0"}}])
    return r["result"][1]["uuid"][1]


def port_txn(i, bridge, durable=False):
    ops = [DB,
           {"op": "insert", "table": "Interface", "uuid-name": "i",
            "row": {"name": "p%d" % i, "type": "internal"}},
           {"op": "insert", "table": "Port", "uuid-name": "p",
            "row": {"name": "p%d" % i, "interfaces": ["named-uuid", "i"]}},
           {"op": "mutate", "table": "Bridge",
            "where": [["_uuid", "==", ["uuid", bridge]]],
            "mutations": [["ports", "insert", ["named-uuid", "p"]]]}]
    if durable:
        ops.append({"op": "commit", "durable": True})
    return ops


def throughput(server, n):
    rpc = Rpc(server.sock)
    bridge = setup(rpc)
    msgs = [json.dumps({"id": i, "method": "transact",
                        "params": port_txn(i, bridge)}).encode()
            for i in range(n)]
    t0 = time.time()
    sent = got = 0
    while got < n:
        while sent < n and sent - got < 64:
            rpc.send_raw(msgs[sent])
            sent += 1
        m = rpc.recv()
        assert m.get("error") is None and "error" not in m["result"][-1], m
        got += 1
    dt = time.time() - t0
    rpc.close()
    return n / dt


def latency_pair(servers, n, rounds=10):
    """Durable commit latency of each server, measured in alternating
    rounds so both see the same disk and machine load."""
    rpcs = [Rpc(s.sock) for s in servers]
    bridges = [setup(r) for r in rpcs]
    lat = [[] for _ in servers]
    i = 0
    for _ in range(rounds):
        for k, rpc in enumerate(rpcs):
            for _ in range(n // rounds):
                t0 = time.perf_counter()
                r = rpc.call("transact", port_txn(i, bridges[k],
                                                  durable=True))
                lat[k].append(time.perf_counter() - t0)
                assert r["error"] is None
                i += 1
    for r in rpcs:
        r.close()
    out = []
    for ls in lat:
        ls.sort()
        out.append((statistics.median(ls) * 1e3,
                    ls[int(len(ls) * 0.99)] * 1e3))
    return out


def _fanout_worker(sock, n_clients, n_txns, ready, done):
    """Runs in a child process: opens 'n_clients' monitoring connections,
    reports ready, then reports when all of them saw 'n_txns' updates."""
    clients = []
    for _ in range(n_clients):
        c = Rpc(sock)
        r = c.call("monitor_cond", [DB, "m", {"Port": [{"columns":
                                                         ["name"]}]}])
        assert r["error"] is None
        c.s.setblocking(False)
        clients.append(c)
    sel = selectors.DefaultSelector()
    for c in clients:
        sel.register(c.s, selectors.EVENT_READ, c)
    ready.send(True)
    need = {id(c): n_txns for c in clients}
    dec = json.JSONDecoder()
    left = n_clients
    while left:
        for key, _ in sel.select(timeout=60):
            c = key.data
            c.buf += c.s.recv(1 << 20)
            text = c.buf.decode()
            pos = 0
            while True:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                try:
                    obj, end = dec.raw_decode(text, pos)
                except ValueError:
                    break
                pos = end
                if obj.get("method") == "update2":
                    need[id(c)] -= 1
                    if need[id(c)] == 0:
                        left -= 1
            c.buf = text[pos:].encode()
    done.send(time.time())


def fanout(server, n_clients, n_txns, n_procs=4):
    """Updates per second delivered to 'n_clients' monitors, read by
    'n_procs' client processes so the reader is not the bottleneck."""
    w = Rpc(server.sock)
    bridge = setup(w)
    procs, readies, dones = [], [], []
    for k in range(n_procs):
        r1, r2 = multiprocessing.Pipe(False)
        d1, d2 = multiprocessing.Pipe(False)
        share = n_clients // n_procs + (k < n_clients % n_procs)
        p = multiprocessing.Process(target=_fanout_worker, args=(
            server.sock, share, n_txns, r2, d2))
        p.start()
        procs.append(p)
        readies.append(r1)
        dones.append(d1)
    for r in readies:
        r.recv()
    t0 = time.time()
    for i in range(n_txns):
        w.send_raw(json.dumps({"id": i, "method": "transact",
                               "params": port_txn(i, bridge)}))
    end = max(d.recv() for d in dones)
    for p in procs:
        p.join()
    w.close()
    return n_txns * n_clients / (end - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("HVS_BUILD", "build"))
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--latency-n", type=int, default=500)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--fanout-txns", type=int, default=200)
    a = ap.parse_args()
    os.environ["HVS_BUILD"] = a.build
    import ovsdb_util
    ovsdb_util.HVS_OVSDB = os.path.join(a.build, "ovsdb", "hvs-ovsdb")
    results = {"hvs": {}, "real": {}}
    tmp = tempfile.mkdtemp(prefix="ovsdb-bench.")
    try:
        for kind in ("hvs", "real"):
            r = results[kind]
            for name, fn in (("tps", lambda s: throughput(s, a.n)),
                             ("fan", lambda s: fanout(s, a.clients,
                                                      a.fanout_txns))):
                s = Server(os.path.join(tmp, kind + name), kind)
                try:
                    r[name] = fn(s)
                finally:
                    s.stop()
        pair = [Server(os.path.join(tmp, k + "lat"), k)
                for k in ("hvs", "real")]
        try:
            lat = latency_pair(pair, a.latency_n)
        finally:
            for s in pair:
                s.stop()
        results["hvs"]["lat"], results["real"]["lat"] = lat
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    h, o = results["hvs"], results["real"]
    print("%-44s %12s %12s %7s" % ("figure", "hvs-ovsdb", "ovsdb-server",
                                   "ratio"))
    print("%-44s %12.0f %12.0f %6.2fx" % (
        "%d txns (Port+Interface->Bridge), txn/s" % a.n, h["tps"], o["tps"],
        h["tps"] / o["tps"]))
    print("%-44s %12.3f %12.3f %6.2fx" % (
        "durable commit latency median, ms", h["lat"][0], o["lat"][0],
        o["lat"][0] / h["lat"][0]))
    print("%-44s %12.3f %12.3f %6.2fx" % (
        "durable commit latency p99, ms", h["lat"][1], o["lat"][1],
        o["lat"][1] / h["lat"][1]))
    print("%-44s %12.0f %12.0f %6.2fx" % (
        "fan-out to %d monitors, updates/s" % a.clients, h["fan"], o["fan"],
        h["fan"] / o["fan"]))


if __name__ == "__main__":
    main()
