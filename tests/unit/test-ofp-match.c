/* Tests of lib/ofp-match.c: OpenFlow 1.0 matches, OXM and NXM, field
 * prerequisites, selection (covers) and packet matching with the
 * megaflow mask it leaves. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ofp-match.h"

#define OXM(FIELD, LEN) OXM_HEADER(OXM_CLASS_OPENFLOW, FIELD, 0, LEN)
#define OXM_W(FIELD, LEN) OXM_HEADER(OXM_CLASS_OPENFLOW, FIELD, 1, 2 * (LEN))

/* Appends a TLV header and value bytes. */
static void
tlv(struct ofp_buf *b, uint32_t hdr, const void *val, size_t len)
{
    ofp_buf_be32(b, hdr);
    ofp_buf_bytes(b, val, len);
}

/* Wraps TLVs 'b' as a 1.3 struct ofp_match and decodes it. */
static ofperr
decode_oxm(const struct ofp_buf *tlvs, struct ofp_match *m)
{
    struct ofp_buf b;
    struct ofp_rd r;
    ofperr err;

    ofp_buf_init(&b);
    ofp_buf_be16(&b, 1);
    ofp_buf_be16(&b, 4 + tlvs->len);
    ofp_buf_bytes(&b, tlvs->data, tlvs->len);
    ofp_buf_pad8(&b, 0);
    ofp_rd_init(&r, b.data, b.len);
    err = ofp_match_decode_oxm(&r, m);
    if (!err) {
        assert_int_equal(r.left, 0);
    }
    ofp_buf_uninit(&b);
    return err;
}

static const uint8_t ip_type[2] = { 0x08, 0x00 };
static const uint8_t tcp_proto[1] = { 6 };

static void
test_of10_decode_encode(void **state)
{
    (void) state;
    /* in_port=3,ip,nw_dst=10.0.0.0/8,nw_proto=6,tp_dst=80 */
    uint8_t w[OFP10_MATCH_LEN] = { 0 };
    uint32_t wc = 0x3fffff & ~(1u << 0) & ~(1u << 4) & ~(1u << 5)
                  & ~(1u << 7) & ~(0x3fu << 14) & ~(0x3fu << 8);
    wc |= 24u << 14 | 32u << 8;     /* /8 and fully wildcarded, as
                                     * Open vSwitch writes them */
    w[0] = wc >> 24; w[1] = wc >> 16; w[2] = wc >> 8; w[3] = wc;
    w[5] = 3;
    w[22] = 0x08;
    w[25] = 6;
    w[32] = 10;
    w[39] = 80;
    struct ofp_match m;
    assert_int_equal(ofp_match_decode_of10(w, &m), 0);
    assert_int_equal(m.v.key.in_port, 3);
    assert_int_equal(m.m.key.in_port, UINT32_MAX);
    assert_int_equal(m.v.key.eth_type, htons(0x0800));
    assert_int_equal(m.v.key.ip_proto, 6);
    assert_int_equal(m.v.key.ipv4_dst, htonl(0x0a000000));
    assert_int_equal(m.m.key.ipv4_dst, htonl(0xff000000));
    assert_int_equal(m.m.key.ipv4_src, 0);
    assert_int_equal(m.v.key.tp_dst, htons(80));
    assert_int_equal(m.m.key.tp_src, 0);

    struct ofp_buf b;
    ofp_buf_init(&b);
    ofp_match_encode_of10(&b, &m);
    assert_int_equal(b.len, OFP10_MATCH_LEN);
    assert_memory_equal(b.data, w, OFP10_MATCH_LEN);
    ofp_buf_uninit(&b);

    /* 1.0 ignores L3 fields when dl_type is not IP or ARP, and LOCAL is
     * 0xfffe on the wire. */
    memset(w, 0, sizeof w);
    wc = 0x3fffff & ~(1u << 0) & ~(1u << 4) & ~(0x3fu << 8);
    w[0] = wc >> 24; w[1] = wc >> 16; w[2] = wc >> 8; w[3] = wc;
    w[4] = 0xff; w[5] = 0xfe;
    w[22] = 0x86; w[23] = 0xdd;
    w[28] = 1;
    assert_int_equal(ofp_match_decode_of10(w, &m), 0);
    assert_int_equal(m.v.key.in_port, OFPP_LOCAL);
    assert_int_equal(m.m.key.ipv4_src, 0);
    assert_int_equal(m.v.key.ipv4_src, 0);
}

static void
test_oxm_errors(void **state)
{
    (void) state;
    struct ofp_buf t;
    struct ofp_match m;
    uint8_t port[2] = { 0, 80 };

    ofp_buf_init(&t);
    /* tcp_dst without ip_proto=6. */
    tlv(&t, OXM(5, 2), ip_type, 2);
    tlv(&t, OXM(14, 2), port, 2);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_PREREQ);
    /* ... and with it. */
    tlv(&t, OXM(10, 1), tcp_proto, 1);
    assert_int_equal(decode_oxm(&t, &m), 0);
    assert_int_equal(m.v.key.tp_dst, htons(80));
    /* A field twice. */
    tlv(&t, OXM(10, 1), tcp_proto, 1);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_DUP_FIELD);
    /* Unknown field. */
    ofp_buf_clear(&t);
    tlv(&t, OXM(100, 2), port, 2);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_FIELD);
    /* Wrong length for a known field. */
    ofp_buf_clear(&t);
    tlv(&t, OXM(5, 3), "abc", 3);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_LEN);
    /* A mask on a field that takes none. */
    ofp_buf_clear(&t);
    tlv(&t, OXM_W(5, 2), "\x08\x00\xff\xff", 4);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_MASK);
    /* VLAN VID beyond 13 bits. */
    ofp_buf_clear(&t);
    tlv(&t, OXM(6, 2), "\x20\x01", 2);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_VALUE);
    /* TLV running past the end. */
    ofp_buf_clear(&t);
    ofp_buf_be32(&t, OXM(3, 6));
    ofp_buf_bytes(&t, "ab", 2);
    assert_int_equal(decode_oxm(&t, &m), OFPERR_BAD_MATCH_LEN);
    /* Not an OXM match. */
    uint8_t std[8] = { 0, 0, 0, 4 };
    struct ofp_rd r;
    ofp_rd_init(&r, std, sizeof std);
    assert_int_equal(ofp_match_decode_oxm(&r, &m), OFPERR_BAD_MATCH_TYPE);
    ofp_buf_uninit(&t);
}

static void
test_oxm_round_trip(void **state)
{
    (void) state;
    struct ofp_buf t, b;
    struct ofp_match m, again;
    struct ofp_rd r;

    ofp_buf_init(&t);
    ofp_buf_init(&b);
    tlv(&t, OXM(0, 4), "\x00\x00\x00\x07", 4);
    tlv(&t, OXM_W(2, 8), "\0\0\0\0\0\0\0\x05\0\0\0\0\0\0\0\xff", 16);
    tlv(&t, OXM_W(3, 6), "\x01\0\0\0\0\0\x01\0\0\0\0\0", 12);
    tlv(&t, OXM(5, 2), ip_type, 2);
    tlv(&t, OXM(6, 2), "\x10\x0a", 2);      /* present, VID 10 */
    tlv(&t, OXM(7, 1), "\x05", 1);
    tlv(&t, OXM(8, 1), "\x2e", 1);
    tlv(&t, OXM(10, 1), tcp_proto, 1);
    tlv(&t, OXM_W(11, 4), "\x0a\x00\x00\x00\xff\xff\x00\x00", 8);
    tlv(&t, OXM(13, 2), "\x04\xd2", 2);
    tlv(&t, OXM_HEADER(OXM_CLASS_NXM1, 3, 0, 4), "\0\0\0\x09", 4);
    assert_int_equal(decode_oxm(&t, &m), 0);
    assert_int_equal(m.v.key.in_port, 7);
    assert_int_equal(m.v.metadata, 5);
    assert_int_equal(m.m.metadata, 0xff);
    assert_int_equal(m.v.key.vlan_tci, htons(0xa000 | 0x1000 | 10));
    assert_int_equal(m.m.key.vlan_tci, htons(0xffff));
    assert_int_equal(m.v.key.ip_tos, 0x2e << 2);
    assert_int_equal(m.m.key.ip_tos, 0xfc);
    assert_int_equal(m.v.key.ipv4_src, htonl(0x0a000000));
    assert_int_equal(m.v.regs[3], 9);
    assert_int_equal(m.m.regs[3], UINT32_MAX);

    ofp_match_encode_oxm(&b, &m);
    assert_int_equal(b.len % 8, 0);
    ofp_rd_init(&r, b.data, b.len);
    assert_int_equal(ofp_match_decode_oxm(&r, &again), 0);
    assert_true(ofp_match_equal(&m, &again));

    /* The catch-all match is 4 bytes of header plus padding. */
    ofp_match_init_catchall(&m);
    ofp_buf_clear(&b);
    ofp_match_encode_oxm(&b, &m);
    assert_int_equal(b.len, 8);
    assert_int_equal(b.data[3], 4);
    ofp_buf_uninit(&t);
    ofp_buf_uninit(&b);
}

static void
test_nxm(void **state)
{
    (void) state;
    struct ofp_buf t, b;
    struct ofp_match m, again;
    uint64_t cookie = 0, cmask = 0;

    ofp_buf_init(&t);
    ofp_buf_init(&b);
    /* NXM_OF_IN_PORT is 16 bits: LOCAL. */
    tlv(&t, OXM_HEADER(0, 0, 0, 2), "\xff\xfe", 2);
    tlv(&t, OXM_HEADER(0, 3, 0, 2), "\x08\x06", 2);
    tlv(&t, OXM_HEADER(0, 15, 0, 2), "\x00\x01", 2);   /* ARP request */
    tlv(&t, OXM_HEADER(0, 17, 0, 4), "\x0a\x00\x00\x01", 4);
    tlv(&t, OXM_HEADER(1, 0, 1, 8), "\0\0\0\x05\0\0\0\xff", 8);
    tlv(&t, OXM_HEADER(1, 30, 1, 16),
        "\0\0\0\0\0\0\0\x42\0\0\0\0\0\0\0\xff", 16);
    assert_int_equal(ofp_match_decode_nxm(t.data, t.len, &m, &cookie,
                                          &cmask), 0);
    assert_int_equal(m.v.key.in_port, OFPP_LOCAL);
    assert_int_equal(m.v.key.ip_proto, 1);          /* ARP opcode */
    assert_int_equal(m.v.key.ipv4_dst, htonl(0x0a000001));
    assert_int_equal(m.v.regs[0], 5);
    assert_int_equal(m.m.regs[0], 0xff);
    assert_int_equal(cookie, 0x42);
    assert_int_equal(cmask, 0xff);
    /* Without a place for the cookie it is refused. */
    assert_int_equal(ofp_match_decode_nxm(t.data, t.len, &m, NULL, NULL),
                     OFPERR_BAD_MATCH_FIELD);

    ofp_buf_clear(&t);
    tlv(&t, OXM_HEADER(0, 0, 0, 2), "\xff\xfe", 2);
    tlv(&t, OXM_HEADER(0, 3, 0, 2), "\x08\x06", 2);
    tlv(&t, OXM_HEADER(0, 15, 0, 2), "\x00\x01", 2);
    assert_int_equal(ofp_match_decode_nxm(t.data, t.len, &m, NULL, NULL),
                     0);
    size_t n = ofp_match_encode_nxm(&b, &m);
    assert_int_equal(n, b.len);
    assert_int_equal(ofp_match_decode_nxm(b.data, b.len, &again, NULL,
                                          NULL), 0);
    assert_true(ofp_match_equal(&m, &again));
    /* ARP fields need an ARP eth_type. */
    ofp_buf_clear(&t);
    tlv(&t, OXM_HEADER(0, 15, 0, 2), "\x00\x01", 2);
    assert_int_equal(ofp_match_decode_nxm(t.data, t.len, &m, NULL, NULL),
                     OFPERR_BAD_MATCH_PREREQ);
    ofp_buf_uninit(&t);
    ofp_buf_uninit(&b);
}

static void
test_covers_and_packet(void **state)
{
    (void) state;
    struct ofp_buf t;
    struct ofp_match any, ip_dst;

    ofp_buf_init(&t);
    ofp_match_init_catchall(&any);
    tlv(&t, OXM(5, 2), ip_type, 2);
    tlv(&t, OXM(12, 4), "\x0a\x00\x00\x01", 4);
    assert_int_equal(decode_oxm(&t, &ip_dst), 0);
    assert_true(ofp_match_covers(&any, &ip_dst));
    assert_false(ofp_match_covers(&ip_dst, &any));
    assert_true(ofp_match_covers(&ip_dst, &ip_dst));

    struct ofp_fields pkt;
    struct flow_key wc;
    memset(&pkt, 0, sizeof pkt);
    memset(&wc, 0, sizeof wc);
    pkt.key.eth_type = htons(0x0806);
    pkt.key.ipv4_dst = htonl(0x0a000001);   /* ARP tip, same bits */
    /* An ARP packet fails on eth_type: its L3 bits stay wildcarded. */
    assert_false(ofp_match_packet(&ip_dst, &pkt, &wc));
    assert_int_equal(wc.eth_type, 0xffff);
    assert_int_equal(wc.ipv4_dst, 0);
    pkt.key.eth_type = htons(0x0800);
    assert_true(ofp_match_packet(&ip_dst, &pkt, &wc));
    assert_int_equal(wc.ipv4_dst, UINT32_MAX);
    assert_int_equal(wc.ipv4_src, 0);
    pkt.key.ipv4_dst = htonl(0x0a000002);
    assert_false(ofp_match_packet(&ip_dst, &pkt, &wc));
    /* Registers are matched but never reach the datapath mask. */
    any.v.regs[0] = 5;
    any.m.regs[0] = UINT32_MAX;
    memset(&wc, 0, sizeof wc);
    assert_false(ofp_match_packet(&any, &pkt, &wc));
    pkt.regs[0] = 5;
    assert_true(ofp_match_packet(&any, &pkt, &wc));
    static const struct flow_key zero;
    assert_memory_equal(&wc, &zero, sizeof wc);
    ofp_buf_uninit(&t);
}

static void
test_ports(void **state)
{
    (void) state;
    assert_int_equal(ofp_port_from_16(5), 5);
    assert_int_equal(ofp_port_from_16(0xfffe), OFPP_LOCAL);
    assert_int_equal(ofp_port_from_16(0xfffa), OFPP_NORMAL);
    assert_int_equal(ofp_port_to_16(OFPP_CONTROLLER), 0xfffd);
    assert_int_equal(ofp_port_to_16(7), 7);
    assert_int_equal(ofp_port_to_16(0x12345), 0);   /* no 16-bit form */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_of10_decode_encode),
        cmocka_unit_test(test_oxm_errors),
        cmocka_unit_test(test_oxm_round_trip),
        cmocka_unit_test(test_nxm),
        cmocka_unit_test(test_covers_and_packet),
        cmocka_unit_test(test_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
