"""Raw OpenFlow framing for the tests that send hand-made (and malformed)
messages to a switch: an 8-byte header, and reading one whole message."""
import struct


def hdr(version, type_, length, xid):
    return struct.pack("!BBHI", version, type_, length, xid)


def recv_msg(sock):
    """One message as bytes, or None when the peer closed."""
    data = b""
    while len(data) < 8:
        chunk = sock.recv(8 - len(data))
        if not chunk:
            return None
        data += chunk
    length = struct.unpack("!H", data[2:4])[0]
    while len(data) < length:
        chunk = sock.recv(length - len(data))
        if not chunk:
            return None
        data += chunk
    return data
