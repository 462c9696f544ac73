/* libFuzzer target: act_validate() over arbitrary action lists against a
 * few fixed flows, then act_execute() of the accepted ones on the flow's
 * packet with stub datapath operations.
 *
 * Input: byte 0 selects the flow (IPv4/TCP with a partial checksum,
 * IPv6/UDP, VLAN-tagged IPv4/UDP, MPLS); the rest is the payload of
 * OVS_FLOW_ATTR_ACTIONS. */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "flow.h"
#include "offload.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads of packet bytes go here so that they are not optimised away. */
static volatile uint8_t fuzz_sink;

#define N_FLOWS 4

static uint8_t frames[N_FLOWS][128];
static size_t frame_lens[N_FLOWS];
static struct flow_match matches[N_FLOWS];

static void
put16(uint8_t *p, uint16_t v)
{
    v = htons(v);
    memcpy(p, &v, 2);
}

/* Builds the fixed frames: checksums need not be right for the fuzzer,
 * but the headers must parse. */
static size_t
build_frame(int i, uint8_t *d)
{
    size_t l3 = 14;

    memset(d, 0, 128);
    memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    if (i == 2) {
        put16(d + 12, 0x8100);
        put16(d + 14, 0x1064);
        l3 += 4;
    }
    if (i == 3) {
        put16(d + 12, 0x8847);
        memcpy(d + 14, "\x00\x01\x41\x40", 4);
        l3 += 4;
        i = 0;
    }
    put16(d + l3 - 2, i == 1 ? 0x86dd : 0x0800);
    if (i == 1) {
        d[l3] = 0x60;
        put16(d + l3 + 4, 8 + 16);
        d[l3 + 6] = 17;
        d[l3 + 7] = 64;
        d[l3 + 23] = 1;
        d[l3 + 39] = 2;
        put16(d + l3 + 44, 8 + 16);
        return l3 + 40 + 8 + 16;
    }
    d[l3] = 0x45;
    put16(d + l3 + 2, 20 + 20 + 16);
    d[l3 + 8] = 64;
    d[l3 + 9] = i == 0 ? 6 : 17;
    memcpy(d + l3 + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    d[l3 + 20 + 12] = 5 << 4;
    return l3 + 20 + 20 + 16;
}

static struct dp_packet *
make_packet(int i)
{
    struct dp_packet *p = dp_packet_copy_from(frames[i], frame_lens[i],
                                              DP_PACKET_HEADROOM);

    if (p && i == 0) {
        p->vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        p->vnet.csum_start = 34;
        p->vnet.csum_offset = 16;
    }
    return p;
}

static void
init(void)
{
    static int done;

    if (done) {
        return;
    }
    done = 1;
    for (int i = 0; i < N_FLOWS; i++) {
        struct dp_packet *p;

        frame_lens[i] = build_frame(i, frames[i]);
        p = make_packet(i);
        flow_extract(p, &matches[i].key);
        memset(&matches[i].mask, 0xff, sizeof matches[i].mask);
        dp_packet_free(p);
    }
}

static void
stub_output(void *aux, uint32_t port, struct dp_packet *p)
{
    (void) aux;
    (void) port;
    /* What a vport without checksum offload does. */
    (void) offload_complete_csum(p);
    (void) offload_verify_csum(p);
    dp_packet_free(p);
}

static void
stub_userspace(void *aux, const struct dp_packet *p,
               const struct flow_key *key, const struct nlattr *attr)
{
    const uint8_t *d = dp_packet_data(p);

    (void) aux;
    for (size_t i = 0; i < p->len; i++) {
        fuzz_sink ^= d[i];
    }
    fuzz_sink ^= (uint8_t) key->eth_type ^ (uint8_t) attr->nla_len;
}

static void
stub_recirc(void *aux, struct dp_packet *p)
{
    (void) aux;
    dp_packet_free(p);
}

static const struct act_ops ops = {
    stub_output, stub_userspace, stub_recirc
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dp_actions *acts = NULL;
    const char *reason = NULL;
    struct nlattr *nla;
    int flow;

    init();
    if (size < 1 || size - 1 > UINT16_MAX - NLA_HDRLEN) {
        return 0;
    }
    flow = data[0] % N_FLOWS;
    nla = malloc(NLA_HDRLEN + size - 1);
    if (!nla) {
        return 0;
    }
    nla->nla_len = (uint16_t) (NLA_HDRLEN + size - 1);
    nla->nla_type = OVS_FLOW_ATTR_ACTIONS;
    memcpy((uint8_t *) nla + NLA_HDRLEN, data + 1, size - 1);

    if (!act_validate(nla, &matches[flow], &acts, &reason)) {
        struct dp_packet *p = make_packet(flow);
        struct flow_key key;

        if (p) {
            flow_extract(p, &key);
            act_execute(&ops, NULL, p, &key, acts->attrs, acts->len);
        }
        free(acts);
    }
    free(nla);
    return 0;
}
