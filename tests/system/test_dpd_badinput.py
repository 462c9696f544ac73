"""Malformed, contradictory and unsupported requests each get the errno
the kernel's openvswitch module gives; hvs-dpd stays up and unchanged."""
import errno
import struct

import pytest

import hvsnl
from hvsnl import NetlinkError, attr, attr_str, attr_u32

NESTED = 0x8000


def nest(t, payload):
    return attr(t | NESTED, payload)


KEY_IP = (attr_u32(3, 1) + attr(4, bytes(12))
          + attr(6, struct.pack("!H", 0x0800))
          + attr(7, struct.pack("!IIBBBB", 0x0a000001, 0x0a000002, 0, 0,
                                64, 0)))
ACT_OUT1 = attr_u32(1, 1)


@pytest.fixture
def dp(topo, dpd_factory):
    sw = topo.ns("sw")
    d = dpd_factory(sw)
    c = d.client()
    c.ovs("ovs_datapath", hvsnl.OVS_DP_CMD_NEW, 0,
          attr_str(1, "dp0") + attr_u32(2, 0) + attr_u32(5, 0x9))
    ifindex = c.dp_get("dp0")["ifindex"]
    c.ovs("ovs_flow", hvsnl.OVS_FLOW_CMD_NEW, ifindex,
          nest(1, KEY_IP) + nest(2, ACT_OUT1), flags=hvsnl.NLM_F_CREATE)
    yield d, c, ifindex
    # Whatever was thrown at it, the daemon is up and its state unchanged.
    assert d.alive()
    c2 = d.client()
    st = c2.dp_get("dp0")
    assert st["n_flows"] == 1
    ports = c2.transact(c2.family("ovs_vport"),
                        hvsnl.NLM_F_DUMP | hvsnl.NLM_F_ACK,
                        hvsnl.OVS_VPORT_CMD_GET, 1,
                        struct.pack("=i", ifindex))
    assert len(ports) == 1


def expect_errno(err, fn, *args, **kw):
    with pytest.raises(NetlinkError) as e:
        fn(*args, **kw)
    assert e.value.errno == err, str(e.value)


def test_unknown_families_are_missing(dp):
    d, c, ifx = dp
    for name in ("ovs_ct_limit", "nl80211"):
        expect_errno(errno.ENOENT, c.family, name)
    for name in ("ovs_datapath", "ovs_vport", "ovs_flow", "ovs_packet",
                 "ovs_meter"):
        assert c.family(name) > 0


def test_truncated_message(dp):
    d, c, ifx = dp
    m = c.msg(c.family("ovs_datapath"), hvsnl.NLM_F_REQUEST,
              hvsnl.OVS_DP_CMD_GET, 1, struct.pack("=i", 0)
              + attr_str(1, "dp0"))
    # nlmsg_len claims more than the record holds.
    bad = struct.pack("=I", len(m) + 64) + m[4:]
    msgs = c.transact_raw(bad)
    assert msgs and msgs[0][0] == hvsnl.NLMSG_ERROR
    assert struct.unpack_from("=i", msgs[0][3])[0] == -errno.EINVAL


def test_attribute_longer_than_message(dp):
    d, c, ifx = dp
    payload = struct.pack("=i", 0) + struct.pack("=HH", 200, 1) + b"dp0\0"
    expect_errno(errno.EINVAL, c.transact, c.family("ovs_datapath"), 0,
                 hvsnl.OVS_DP_CMD_GET, 1, payload)


def test_unknown_family_id(dp):
    d, c, ifx = dp
    expect_errno(errno.ENOENT, c.transact, 0x7ff, 0, 1, 1, bytes(4))


def test_unknown_feature_bit(dp):
    d, c, ifx = dp
    expect_errno(errno.EOPNOTSUPP, c.ovs, "ovs_datapath",
                 hvsnl.OVS_DP_CMD_NEW, 0,
                 attr_str(1, "dp1") + attr_u32(2, 0)
                 + attr_u32(5, 0x80000003))
    expect_errno(errno.ENODEV, c.dp_get, "dp1")


def test_missing_objects(dp):
    d, c, ifx = dp
    expect_errno(errno.ENODEV, c.dp_get, "nosuchdp")
    expect_errno(errno.ENODEV, c.ovs, "ovs_vport", hvsnl.OVS_VPORT_CMD_GET,
                 0, attr_str(3, "eth0"))
    expect_errno(errno.ENODEV, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_GET,
                 ifx + 1000, nest(1, KEY_IP))
    other = KEY_IP.replace(struct.pack("!I", 0x0a000002),
                           struct.pack("!I", 0x0a000009))
    expect_errno(errno.ENOENT, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_GET,
                 ifx, nest(1, other))


def test_duplicates(dp):
    d, c, ifx = dp
    expect_errno(errno.EEXIST, c.ovs, "ovs_datapath", hvsnl.OVS_DP_CMD_NEW,
                 0, attr_str(1, "dp0") + attr_u32(2, 0))
    expect_errno(errno.EEXIST, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_NEW,
                 ifx, nest(1, KEY_IP) + nest(2, ACT_OUT1),
                 flags=hvsnl.NLM_F_CREATE | hvsnl.NLM_F_EXCL)


def test_mask_wider_than_key(dp):
    d, c, ifx = dp
    key = attr_u32(3, 2) + attr(4, bytes(12)) \
        + attr(6, struct.pack("!H", 0x0806))
    # The mask matches IPv4 fields the key does not have.
    mask = attr_u32(3, 0xffffffff) + attr(4, bytes(12)) \
        + attr(6, b"\xff\xff") + attr(7, b"\xff" * 12)
    expect_errno(errno.EINVAL, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_NEW,
                 ifx, nest(1, key) + nest(7, mask) + nest(2, ACT_OUT1),
                 flags=hvsnl.NLM_F_CREATE)


def test_bad_key_attribute_length(dp):
    d, c, ifx = dp
    key = attr_u32(3, 2) + attr(4, bytes(11))       # eth() of 11 bytes
    expect_errno(errno.EINVAL, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_NEW,
                 ifx, nest(1, key) + nest(2, ACT_OUT1),
                 flags=hvsnl.NLM_F_CREATE)


def test_missing_prerequisite(dp):
    d, c, ifx = dp
    # ipv4() with eth_type ARP.
    key = attr_u32(3, 2) + attr(4, bytes(12)) \
        + attr(6, struct.pack("!H", 0x0806)) + attr(7, bytes(12))
    expect_errno(errno.EINVAL, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_NEW,
                 ifx, nest(1, key) + nest(2, ACT_OUT1),
                 flags=hvsnl.NLM_F_CREATE)


def test_unknown_and_unsupported_actions(dp):
    d, c, ifx = dp
    key2 = KEY_IP.replace(attr_u32(3, 1), attr_u32(3, 2))
    for acts in (attr(99, b""),                      # unknown type
                 attr(1, b"\x01"),                   # output of 1 byte
                 nest(12, attr_u32(2, 0))):          # ct(): not supported
        with pytest.raises(NetlinkError) as e:
            c.ovs("ovs_flow", hvsnl.OVS_FLOW_CMD_NEW, ifx,
                  nest(1, key2) + nest(2, acts), flags=hvsnl.NLM_F_CREATE)
        assert e.value.errno in (errno.EINVAL, errno.EOPNOTSUPP, 524)


def test_flow_new_without_actions(dp):
    d, c, ifx = dp
    expect_errno(errno.EINVAL, c.ovs, "ovs_flow", hvsnl.OVS_FLOW_CMD_NEW,
                 ifx, nest(1, KEY_IP.replace(attr_u32(3, 1),
                                             attr_u32(3, 3))),
                 flags=hvsnl.NLM_F_CREATE)
