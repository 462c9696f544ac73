#!/usr/bin/python3
"""Writes ovsdb/vswitch.ovsschema: the Open_vSwitch database interface as
documented in ovs-vswitchd.conf.db(5).

The interface (table and column names, types, constraints, root tables and
indexes) must match what Open vSwitch clients expect, so this keeps exactly
those facts from a reference schema given on the command line and drops
everything else (text, checksum, key order).  Usage:
    gen-vswitch-schema.py /usr/share/openvswitch/vswitch.ovsschema > OUT
"""
import json
import sys

BASE_KEYS = ("type", "enum", "minInteger", "maxInteger", "minReal",
             "maxReal", "minLength", "maxLength", "refTable", "refType")


def base(b):
    if isinstance(b, str):
        return b
    return {k: b[k] for k in BASE_KEYS if k in b}


def coltype(t):
    if isinstance(t, str):
        return t
    out = {"key": base(t["key"])}
    if "value" in t:
        out["value"] = base(t["value"])
    for k in ("min", "max"):
        if k in t:
            out[k] = t[k]
    return out


def main():
    ref = json.load(open(sys.argv[1]))
    tables = {}
    for tname, t in sorted(ref["tables"].items()):
        cols = {}
        for cname, c in sorted(t["columns"].items()):
            col = {"type": coltype(c["type"])}
            for k in ("mutable", "ephemeral"):
                if k in c:
                    col[k] = c[k]
            cols[cname] = col
        out = {"columns": cols}
        for k in ("isRoot", "maxRows", "indexes"):
            if k in t:
                out[k] = t[k]
        tables[tname] = out
    schema = {"name": ref["name"], "version": ref["version"],
              "tables": tables}
    json.dump(schema, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
