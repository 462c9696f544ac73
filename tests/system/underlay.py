"""Captures of a tunnel underlay, decoded and checked in Python.

tcpdump writes the capture (classic pcap, Ethernet); decode() walks each
frame's outer IPv4/IPv6, UDP (VXLAN 4789, Geneve 6081) or GRE, and the
inner Ethernet frame with its IPv4 and TCP/UDP/ICMP, and verifies every
checksum on the way.  A capture is only a fair test of checksums when the
sender's underlay device has transmit checksum offload off (ethtool -K
... tx off): otherwise a veth hands the receiver frames whose checksums
were never meant to be finished."""
import os
import signal
import struct
import subprocess
import time

from conftest import stop_process

VXLAN_PORT, GENEVE_PORT = 4789, 6081


def _sum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def _ok(data, pseudo=b""):
    """True if the one's-complement sum over pseudo + data is 0xffff."""
    return _sum16(pseudo + data) == 0xffff


def _pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def _l4_ok(proto, src, dst, seg):
    """The checksum of a TCP/UDP/ICMP segment is right (UDP over IPv4
    may leave it zero)."""
    if proto == 1:                                      # ICMP
        return _ok(seg)
    if proto == 17 and len(src) == 4 and seg[6:8] == b"\0\0":
        return True
    if proto in (6, 17, 58):
        return _ok(seg, _pseudo(src, dst, proto, len(seg)))
    return True


def _ip(frame, off):
    """(proto, src, dst, payload, header_ok) of the IP packet at 'off'."""
    v = frame[off] >> 4
    if v == 4:
        ihl = (frame[off] & 15) * 4
        total = struct.unpack("!H", frame[off + 2:off + 4])[0]
        hdr = frame[off:off + ihl]
        return (frame[off + 9], hdr[12:16], hdr[16:20],
                frame[off + ihl:off + total], _ok(hdr),
                struct.unpack("!H", frame[off + 6:off + 8])[0] & 0x3fff)
    if v == 6:
        plen = struct.unpack("!H", frame[off + 4:off + 6])[0]
        return (frame[off + 6], frame[off + 8:off + 24],
                frame[off + 24:off + 40], frame[off + 40:off + 40 + plen],
                True, 0)
    raise ValueError("not IP")


def _inner(eth):
    """Checks of the inner frame: {'inner_ok': bool, 'inner_proto': n}."""
    out = {"inner_ok": True, "inner_proto": None}
    off, etype = 14, struct.unpack("!H", eth[12:14])[0]
    while etype in (0x8100, 0x88a8):
        etype = struct.unpack("!H", eth[off + 2:off + 4])[0]
        off += 4
    if etype not in (0x0800, 0x86dd):
        return out
    proto, src, dst, seg, hdr_ok, frag = _ip(eth, off)
    out["inner_proto"] = proto
    out["inner_ok"] = hdr_ok and (frag or _l4_ok(proto, src, dst, seg))
    return out


def decode(frame):
    """A dict describing one underlay frame, or None if it is not a
    tunnel packet.  Keys: kind, sport, dport, vni, outer_ok (IP header and
    UDP/GRE checksums), udp_csum (bool: non-zero), fragment, inner_ok."""
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype not in (0x0800, 0x86dd):
        return None
    proto, src, dst, pay, hdr_ok, frag = _ip(frame, 14)
    rec = {"fragment": bool(frag), "outer_ok": hdr_ok}
    if frag:
        rec["kind"] = "fragment"
        return rec
    if proto == 17:
        sport, dport = struct.unpack("!HH", pay[:4])
        if dport not in (VXLAN_PORT, GENEVE_PORT):
            return None
        rec.update(sport=sport, dport=dport,
                   udp_csum=pay[6:8] != b"\0\0")
        rec["outer_ok"] = hdr_ok and _l4_ok(17, src, dst, pay)
        body = pay[8:]
        if dport == VXLAN_PORT:
            rec["kind"] = "vxlan"
            rec["vni"] = struct.unpack("!I", body[4:8])[0] >> 8
            inner = body[8:]
        else:
            rec["kind"] = "geneve"
            opt_len = (body[0] & 0x3f) * 4
            rec["vni"] = struct.unpack("!I", body[4:8])[0] >> 8
            inner = body[8 + opt_len:]
    elif proto == 47:
        flags, gproto = struct.unpack("!HH", pay[:4])
        off, rec["kind"] = 4, "gre"
        if flags & 0x8000:                              # checksum present
            rec["outer_ok"] = hdr_ok and _ok(pay)
            off += 4
        rec["vni"] = None
        if flags & 0x2000:                              # key present
            rec["vni"] = struct.unpack("!I", pay[off:off + 4])[0]
            off += 4
        if flags & 0x1000:
            off += 4
        if gproto != 0x6558:
            return None
        inner = pay[off:]
    else:
        return None
    rec.update(_inner(inner))
    return rec


def udp_flows(src, dst, n=16):
    """Python for a VM: 'n' UDP flows (source ports 41000 up) of three
    datagrams each from 'src' to the discard port of 'dst'."""
    return ("import socket\n"
            "for sport in range(41000, 41000 + %d):\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    s.bind((%r, sport))\n"
            "    for _ in range(3):\n"
            "        s.sendto(b'x' * 100, (%r, 9))\n"
            "    s.close()\n" % (n, src, dst))


def read_pcap(path):
    """The frames of a classic pcap file (Ethernet link type)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


class Capture:
    """tcpdump on 'dev' in namespace 'ns' into 'path' while the block
    runs, of what arrives there (the peer's packets, not the replies);
    .records() decodes what it saw."""

    def __init__(self, ns, dev, path, filt="udp or proto 47"):
        self.path = path
        self.proc = subprocess.Popen(
            # --immediate-mode: libpcap otherwise hands packets over
            # when its ring block fills or after a second.  Its ring has
            # slots of the snap length: 4 KiB slots (more than any
            # underlay frame here) in 16 MiB, or a burst overflows it.
            ["ip", "netns", "exec", ns, "tcpdump", "--immediate-mode",
             "-U", "-n", "-s", "4096", "-B", "16384",
             "-Q", "in", "-i", dev, "-w", path] + filt.split(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # tcpdump says "listening on" once the socket is open.
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(path) and os.path.getsize(path) >= 24:
                break
            time.sleep(0.05)
        time.sleep(0.2)

    def wait_for(self, n, timeout=5.0):
        """Waits until the capture holds 'n' tunnel packets or the time is
        up (packets cross two daemons and two stacks to get here)."""
        deadline = time.time() + timeout
        while len(self.records()) < n and time.time() < deadline:
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            time.sleep(0.3)             # let the last packets be written
            stop_process(self.proc, signal.SIGINT, timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def records(self):
        return [r for r in (decode(f) for f in read_pcap(self.path)) if r]
