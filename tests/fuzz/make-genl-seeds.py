#!/usr/bin/python3
"""Writes seed requests for fuzz-genl-request into corpus/fuzz-genl-request/.
Family ids are hvs-dpd's fixed ones (include/hvs/dp-ext.h); the fuzzer's
datapath fz0 gets ifindex 2 in its fresh namespace."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))
from hvsnl import attr, attr_str, attr_u32  # noqa: E402

DP, VPORT, FLOW, PACKET = 0x20, 0x21, 0x22, 0x23
IFX = 2
OUT = os.path.join(os.path.dirname(__file__), "corpus", "fuzz-genl-request")


def msg(mtype, flags, cmd, payload, hdr=True):
    body = struct.pack("=BBH", cmd, 1, 0)
    if hdr:
        body += struct.pack("=i", IFX)
    body += payload
    return struct.pack("=IHHII", 16 + len(body), mtype, flags | 1, 1,
                       1) + body


def nest(t, payload):
    return attr(t | 0x8000, payload)


key_ip = (attr_u32(3, 1)                                   # in_port
          + attr(4, bytes(12))                             # eth
          + attr(6, struct.pack("!H", 0x0800))             # eth_type
          + attr(7, struct.pack("!IIBBBB", 0x0a000001, 0x0a000002, 0, 0,
                                64, 0)))                   # ipv4
mask_ip = (attr_u32(3, 0xffffffff) + attr(4, bytes(12))
           + attr(6, b"\xff\xff") + attr(7, bytes(12)))
acts = attr_u32(1, 1)
frame = (bytes.fromhex("020000000002020000000001") + b"\x08\x00"
         + bytes.fromhex("4500001c0000400040060000") + bytes(8) + bytes(20))

seeds = {
    "getfamily": struct.pack("=IHHII", 0, 0, 0, 0, 0),
    "dp-get": msg(DP, 8, 3, attr_str(1, "fz0"), True),
    "dp-dump": msg(DP, 0x308, 3, b""),
    "dp-new": msg(DP, 8, 1, attr_str(1, "fz1") + attr_u32(2, 0)
                  + attr_u32(5, 0x9)),
    "dp-new-badfeat": msg(DP, 8, 1, attr_str(1, "fz1") + attr_u32(2, 0)
                          + attr_u32(5, 0x80000003)),
    "vport-get": msg(VPORT, 8, 3, attr_str(3, "fz0")),
    "vport-dump": msg(VPORT, 0x308, 3, b""),
    "vport-new-internal": msg(VPORT, 8, 1, attr_str(3, "fzi1")
                              + attr_u32(2, 2) + attr_u32(5, 0)),
    "flow-new": msg(FLOW, 0x408, 1, nest(1, key_ip) + nest(7, mask_ip)
                    + nest(2, acts)),
    "flow-new-ufid": msg(FLOW, 0x408, 1, nest(1, key_ip) + nest(2, acts)
                         + attr(10, bytes(range(16)))),
    "flow-dump": msg(FLOW, 0x308, 3, b""),
    "flow-del-all": msg(FLOW, 8, 2, b""),
    "packet-exec": msg(PACKET, 0, 3, attr(1, frame)
                       + nest(2, attr_u32(3, 0)) + nest(3, acts)),
}
# getfamily needs its own shape: no ovs_header.
body = struct.pack("=BBH", 3, 1, 0) + attr_str(2, "ovs_flow")
seeds["getfamily"] = struct.pack("=IHHII", 16 + len(body), 0x10, 1, 1,
                                 1) + body
# A batch of several messages in one record, as OVS sends flow puts.
seeds["batch"] = seeds["flow-new"] + seeds["flow-dump"] + seeds["dp-get"]

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print("wrote %d seeds to %s" % (len(seeds), OUT))
