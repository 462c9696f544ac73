/* The kernel flow cache (see kflow.h): two BPF programs over one table of
 * exact-match entries that hvs-dpd fills.
 *
 *   kflow_sock  a socket filter on hvs-dpd's packet socket of a netdev
 *               port: a packet the cache will forward is not copied up to
 *               hvs-dpd (the kernel delivers to packet sockets before it
 *               runs tcx, so this is where that is decided);
 *   kflow_tc    at the port's tcx ingress hook: forwards what the cache
 *               holds (redirect to the egress port, VXLAN encapsulation or
 *               decapsulation on the way) and drops everything else, which
 *               hvs-dpd has already received through its packet socket, so
 *               that the host stack never sees the port's traffic.
 *
 * The socket filter decides and leaves its decision in skb->cb for the
 * tcx program (KFLOW_CB_*), so each packet is parsed and looked up once
 * and the two hooks agree even while entries come and go.
 *
 * Built with clang -target bpf; loaded by kflow.c. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TC_ACT_SHOT 2

/* From Linux 6.6's <linux/bpf.h>, newer than Debian 12's headers. */
#ifndef BPF_F_ADJ_ROOM_ENCAP_L2_ETH
#define BPF_F_ADJ_ROOM_ENCAP_L2_ETH (1ULL << 6)
#endif
#define ADJ_ROOM_ENCAP_L2(len) (((unsigned long long) (len) & 0xff) << 56)

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, unsigned short);        /* UDP port, network order */
    __type(value, unsigned char);
} kflow_ports SEC(".maps");

#define KFLOW_CTX struct __sk_buff *

static __attribute__((always_inline)) int
kflow_load(struct __sk_buff *skb, unsigned int off, void *dst,
           unsigned int len)
{
    return bpf_skb_load_bytes(skb, off, dst, len) == 0;
}

static __attribute__((always_inline)) int
kflow_is_tnl_port(struct __sk_buff *skb, unsigned short port)
{
    (void) skb;
    return bpf_map_lookup_elem(&kflow_ports, &port) != 0;
}

#include "kflow-parse.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, KFLOW_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(key_size, KFLOW_KEY_PLAIN_LEN);
    __type(value, struct kflow_ref);
} kflow_table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, KFLOW_MAX);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct kflow_key);
    __type(value, struct kflow_ref);
} kflow_tnl_table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, KFLOW_MAX);
    __type(key, unsigned int);
    __type(value, struct kflow_val);
} kflow_acts SEC(".maps");

/* The key is too large for the BPF stack next to the parser's buffers. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, unsigned int);
    __type(value, struct kflow_key);
} kflow_scratch SEC(".maps");

/* Parses the packet and looks it up: the entry's slot in kflow_acts (and
 * '*gen') if the cache takes this packet, else NULL. */
static __attribute__((always_inline)) struct kflow_val *
kflow_find(struct __sk_buff *skb, unsigned int *gen)
{
    unsigned int zero = 0;
    struct kflow_meta m;
    struct kflow_key *k;
    struct kflow_ref *ref;
    struct kflow_val *v;

    if (skb->vlan_present) {
        return 0;               /* the tag is not in the frame */
    }
    k = bpf_map_lookup_elem(&kflow_scratch, &zero);
    if (!k) {
        return 0;
    }
    __builtin_memset(k, 0, sizeof *k);
    if (kflow_parse(skb, skb->len, skb->ifindex, skb->gso_size, k, &m)) {
        return 0;
    }
    ref = bpf_map_lookup_elem(k->tnl_flags & KFLOW_T_INNER
                              ? (void *) &kflow_tnl_table
                              : (void *) &kflow_table, k);
    if (!ref) {
        return 0;
    }
    *gen = ref->gen;
    v = bpf_map_lookup_elem(&kflow_acts, &ref->idx);
    if (!v || v->gen != ref->gen
        || !kflow_fits(v, skb->len, skb->gso_size, &m)) {
        return 0;
    }
    skb->cb[1] = ref->idx;
    return v;
}

SEC("socket")
int
kflow_sock(struct __sk_buff *skb)
{
    unsigned int gen = 0;

    if (kflow_find(skb, &gen)) {
        skb->cb[0] = KFLOW_CB_HIT;
        skb->cb[2] = gen;
        return 0;               /* not for hvs-dpd: the kernel has it */
    }
    skb->cb[0] = KFLOW_CB_MISS;
    return skb->len;
}

static __attribute__((always_inline)) int
kflow_encap(struct __sk_buff *skb, const struct kflow_val *v)
{
    unsigned char eth[KFLOW_ETH_LEN];
    unsigned char h[KFLOW_VXLAN_OUTER_LEN];
    unsigned int sum = 0;

    if (v->hdr_len != KFLOW_VXLAN_OUTER_LEN
        || bpf_skb_load_bytes(skb, 0, eth, sizeof eth)) {
        return -1;
    }
    __builtin_memcpy(h, v->hdr, sizeof h);
    if (bpf_skb_adjust_room(skb, KFLOW_VXLAN_OUTER_LEN, BPF_ADJ_ROOM_MAC,
                            BPF_F_ADJ_ROOM_FIXED_GSO
                            | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4
                            | BPF_F_ADJ_ROOM_ENCAP_L4_UDP
                            | BPF_F_ADJ_ROOM_ENCAP_L2_ETH
                            | ADJ_ROOM_ENCAP_L2(KFLOW_ETH_LEN))) {
        return -1;
    }
    unsigned int ip_len = skb->len - KFLOW_ETH_LEN;
    unsigned int udp_len = ip_len - 20;
    h[16] = (unsigned char) (ip_len >> 8);
    h[17] = (unsigned char) ip_len;
    h[24] = h[25] = 0;
#pragma clang loop unroll(full)
    for (int i = 14; i < 34; i += 2) {
        sum += (unsigned int) h[i] << 8 | h[i + 1];
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    h[24] = (unsigned char) (sum >> 8);
    h[25] = (unsigned char) sum;
    h[38] = (unsigned char) (udp_len >> 8);
    h[39] = (unsigned char) udp_len;
    h[40] = h[41] = 0;          /* no UDP checksum, as hvs-dpd sends */
    if (bpf_skb_store_bytes(skb, 0, h, sizeof h, 0)
        || bpf_skb_store_bytes(skb, KFLOW_VXLAN_OUTER_LEN, eth, sizeof eth,
                               0)) {
        return -1;
    }
    return 0;
}

static __attribute__((always_inline)) int
kflow_decap(struct __sk_buff *skb)
{
    unsigned char eth[KFLOW_ETH_LEN];

    if (bpf_skb_load_bytes(skb, KFLOW_VXLAN_OUTER_LEN, eth, sizeof eth)
        || bpf_skb_adjust_room(skb, -KFLOW_VXLAN_OUTER_LEN,
                               BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO)
        || bpf_skb_store_bytes(skb, 0, eth, sizeof eth, 0)) {
        return -1;
    }
    return 0;
}

/* The entry the socket filter found for this packet; NULL if it found
 * none (then hvs-dpd has the packet), or if the entry went meanwhile.  If
 * the filter left nothing (no packet socket saw the packet), decides
 * itself. */
static __attribute__((always_inline)) struct kflow_val *
kflow_decided(struct __sk_buff *skb)
{
    unsigned int idx = skb->cb[1], gen;
    struct kflow_val *v;

    if (skb->cb[0] == KFLOW_CB_MISS) {
        return 0;
    }
    if (skb->cb[0] != KFLOW_CB_HIT) {
        return kflow_find(skb, &gen);
    }
    gen = skb->cb[2];
    v = bpf_map_lookup_elem(&kflow_acts, &idx);
    return v && v->gen == gen ? v : 0;
}

SEC("tc")
int
kflow_tc(struct __sk_buff *skb)
{
    struct kflow_val *v = kflow_decided(skb);
    int err = 0;

    if (!v) {
        return TC_ACT_SHOT;     /* hvs-dpd's packet socket has a copy */
    }
    __sync_fetch_and_add(&v->packets, 1);
    __sync_fetch_and_add(&v->bytes, skb->len);
    if (v->action == KFLOW_A_ENCAP) {
        err = kflow_encap(skb, v);
    } else if (v->action == KFLOW_A_DECAP) {
        err = kflow_decap(skb);
    }
    if (err) {
        __sync_fetch_and_add(&v->errors, 1);
        return TC_ACT_SHOT;
    }
    return bpf_redirect(v->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
