#!/usr/bin/python3
"""Turns a schema file into a C source file defining
'const char ovsdb_builtin_schema[]', so hvs-ovsdb can create a database
without finding its data files.  Usage: embed-schema.py IN OUT"""
import json
import sys

text = json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"),
                  sort_keys=True)
with open(sys.argv[2], "w") as out:
    out.write("/* Generated from %s by embed-schema.py. */\n"
              % sys.argv[1].split("/")[-1])
    out.write("extern const char ovsdb_builtin_schema[];\n")
    out.write("const char ovsdb_builtin_schema[] =\n")
    for i in range(0, len(text), 70):
        chunk = text[i:i + 70].replace("\\", "\\\\").replace('"', '\\"')
        out.write('    "%s"\n' % chunk)
    out.write("    ;\n")
