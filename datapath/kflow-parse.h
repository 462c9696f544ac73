/* The kernel flow cache's packet parser, shared word for word by the BPF
 * programs (kflow.bpf.c) and by hvs-dpd (kflow.c), so that the key the
 * kernel computes for a packet and the key hvs-dpd installs for it are the
 * same function of the same bytes.
 *
 * A kernel-cache entry maps one exact key to what the datapath did with
 * the packet that created it.  That is only right if two packets with the
 * same key would get the same flow key from flow_extract(): so the parser
 * accepts only shapes whose every flow-key field it copies (untagged
 * Ethernet II; ARP for IPv4; IPv4 without options or fragments and IPv6
 * without extension headers, carrying TCP, UDP or, for IPv4, ICMP) and
 * refuses the rest, which stays with hvs-dpd.  For a VXLAN packet to a
 * configured tunnel port it also takes the tunnel header and the inner
 * frame, which decide what a decapsulating flow does.
 * tests/fuzz/fuzz-kflow-parse.c checks the correspondence with
 * flow_extract().
 *
 * The includer defines KFLOW_CTX (the packet handle type), and
 * kflow_load(ctx, off, dst, len) (true if the 'len' bytes at 'off' exist
 * and were copied) and kflow_is_tnl_port(ctx, be16 port) before including
 * this file.  Multi-byte fields keep network byte order. */
#ifndef HVS_KFLOW_PARSE_H
#define HVS_KFLOW_PARSE_H 1

#ifndef KFLOW_INLINE
#define KFLOW_INLINE static inline __attribute__((always_inline))
#endif

/* One frame's headers, as far as a flow key can see them. */
struct kflow_hdrs {
    unsigned char eth_dst[6], eth_src[6];
    unsigned short eth_type;
    unsigned char ip_proto;     /* ARP: the opcode */
    unsigned char ip_tos;
    unsigned char ip_ttl;
    unsigned char pad;
    unsigned short tcp_flags;   /* low 12 bits */
    unsigned short tp_src, tp_dst;      /* ICMP: type, code */
    unsigned int ipv6_label;
    unsigned char src[16], dst[16];     /* IPv4 and ARP: first 4 bytes */
    unsigned char arp_sha[6], arp_tha[6];
};

/* KFLOW_T_* in kflow_key.tnl_flags. */
#define KFLOW_T_INNER 1u        /* a VXLAN packet: tnl_hdr, inner valid */
#define KFLOW_T_DF 2u           /* the outer IPv4 header has DF set */

struct kflow_key {
    unsigned int ifindex;       /* where the packet arrived */
    unsigned int tnl_flags;
    struct kflow_hdrs outer;
    /* Only with KFLOW_T_INNER; the kernel's plain table is keyed by the
     * first KFLOW_KEY_PLAIN_LEN bytes alone, so that most lookups hash
     * half as much. */
    unsigned char tnl_hdr[8];   /* the VXLAN header */
    struct kflow_hdrs inner;
};
#define KFLOW_KEY_PLAIN_LEN __builtin_offsetof(struct kflow_key, tnl_hdr)

/* What the parse found beyond the key, for the per-packet checks. */
struct kflow_meta {
    unsigned int l4_end;        /* end of the outer L4 header */
    unsigned int inner_ofs;     /* start of the inner frame, or 0 */
};

#define KFLOW_ETH_LEN 14
#define KFLOW_VXLAN_OUTER_LEN 50        /* Ethernet, IPv4, UDP, VXLAN */
#define KFLOW_ETH_IP 0x0008     /* 0x0800, as read from the wire */
#define KFLOW_ETH_IPV6 0xdd86
#define KFLOW_ETH_ARP 0x0608

KFLOW_INLINE unsigned short
kflow_be16(const unsigned char *b)
{
    return (unsigned short) (b[0] | b[1] << 8);  /* keep wire order */
}

/* Parses the frame at 'off' into 'h'.  Returns the end of its L4 header
 * (of the ARP body) relative to the packet start, or 0 if the frame's shape
 * is not one the cache takes.  '*udp_csum' gets the UDP checksum field. */
KFLOW_INLINE unsigned int
kflow_parse_hdrs(KFLOW_CTX ctx, unsigned int off, unsigned int pkt_len,
                 struct kflow_hdrs *h, unsigned short *udp_csum)
{
    unsigned char b[40];

    if (!kflow_load(ctx, off, b, 14)) {
        return 0;
    }
    __builtin_memcpy(h->eth_dst, b, 6);
    __builtin_memcpy(h->eth_src, b + 6, 6);
    h->eth_type = kflow_be16(b + 12);
    off += 14;

    if (h->eth_type == KFLOW_ETH_ARP) {
        if (!kflow_load(ctx, off, b, 28)
            || b[0] != 0 || b[1] != 1 || b[2] != 0x08 || b[3] != 0
            || b[4] != 6 || b[5] != 4 || b[6] != 0) {
            return 0;
        }
        h->ip_proto = b[7];
        __builtin_memcpy(h->arp_sha, b + 8, 6);
        __builtin_memcpy(h->src, b + 14, 4);
        __builtin_memcpy(h->arp_tha, b + 18, 6);
        __builtin_memcpy(h->dst, b + 24, 4);
        return off + 28;
    }

    unsigned int l4, l3_end;
    if (h->eth_type == KFLOW_ETH_IP) {
        if (!kflow_load(ctx, off, b, 20) || b[0] != 0x45) {
            return 0;           /* not IPv4, or options */
        }
        unsigned int tot = (unsigned int) b[2] << 8 | b[3];
        if ((b[6] & 0x3f) || b[7]) {
            return 0;           /* a fragment */
        }
        h->ip_tos = b[1];
        h->ip_ttl = b[8];
        h->ip_proto = b[9];
        __builtin_memcpy(h->src, b + 12, 4);
        __builtin_memcpy(h->dst, b + 16, 4);
        l4 = off + 20;
        l3_end = off + tot;
        if (tot < 20) {
            return 0;
        }
    } else if (h->eth_type == KFLOW_ETH_IPV6) {
        if (!kflow_load(ctx, off, b, 40) || (b[0] >> 4) != 6) {
            return 0;
        }
        h->ip_tos = (unsigned char) (b[0] << 4 | b[1] >> 4);
        h->ipv6_label = (unsigned int) (b[1] & 0x0f) << 8
                        | (unsigned int) b[2] << 16
                        | (unsigned int) b[3] << 24;  /* htonl() */
        h->ip_proto = b[6];
        h->ip_ttl = b[7];
        __builtin_memcpy(h->src, b + 8, 16);
        __builtin_memcpy(h->dst, b + 24, 16);
        l4 = off + 40;
        l3_end = l4 + ((unsigned int) b[4] << 8 | b[5]);
        if (h->ip_proto != 6 && h->ip_proto != 17) {
            return 0;           /* extension headers, ICMPv6 (ND) */
        }
    } else {
        return 0;
    }
    if (l3_end > pkt_len) {
        return 0;
    }

    unsigned int l4_len;
    if (h->ip_proto == 6) {
        if (!kflow_load(ctx, l4, b, 20) || (b[12] >> 4) < 5) {
            return 0;
        }
        h->tp_src = kflow_be16(b);
        h->tp_dst = kflow_be16(b + 2);
        h->tcp_flags = kflow_be16(b + 12) & 0xff0f;    /* wire order */
        l4_len = (unsigned int) (b[12] >> 4) * 4;
    } else if (h->ip_proto == 17) {
        if (!kflow_load(ctx, l4, b, 8)) {
            return 0;
        }
        h->tp_src = kflow_be16(b);
        h->tp_dst = kflow_be16(b + 2);
        *udp_csum = kflow_be16(b + 6);
        l4_len = 8;
    } else if (h->ip_proto == 1 && h->eth_type == KFLOW_ETH_IP) {
        if (!kflow_load(ctx, l4, b, 8)) {
            return 0;
        }
        h->tp_src = (unsigned short) (b[0] << 8);  /* htons(type) */
        h->tp_dst = (unsigned short) (b[1] << 8);  /* htons(code) */
        l4_len = 8;
    } else {
        return 0;
    }
    if (l4 + l4_len > l3_end) {
        return 0;               /* the header is cut short */
    }
    return l4 + l4_len;
}

/* Whether the 20-byte IPv4 header at 'off' has a good checksum. */
KFLOW_INLINE int
kflow_ipv4_csum_ok(KFLOW_CTX ctx, unsigned int off)
{
    unsigned char b[20];
    unsigned int sum = 0;

    if (!kflow_load(ctx, off, b, 20)) {
        return 0;
    }
    for (int i = 0; i < 20; i += 2) {
        sum += (unsigned int) b[i] << 8 | b[i + 1];
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/* Fills 'k' (zeroed by the caller) for the 'pkt_len'-byte packet that
 * arrived on 'ifindex' ('gso_size' non-zero for a super-packet).
 * Returns 0, or -1 if the cache does not take packets of this shape. */
KFLOW_INLINE int
kflow_parse(KFLOW_CTX ctx, unsigned int pkt_len, unsigned int ifindex,
            unsigned int gso_size, struct kflow_key *k,
            struct kflow_meta *m)
{
    unsigned short csum = 0;
    unsigned int end = kflow_parse_hdrs(ctx, 0, pkt_len, &k->outer, &csum);

    k->ifindex = ifindex;
    m->l4_end = end;
    m->inner_ofs = 0;
    if (!end) {
        return -1;
    }
    if (k->outer.eth_type != KFLOW_ETH_IP || k->outer.ip_proto != 17
        || !kflow_is_tnl_port(ctx, k->outer.tp_dst)) {
        /* A UDP super-packet counts as a first fragment in the flow key
         * (UFO) or not (USO), which the kernel does not tell apart. */
        return gso_size && k->outer.ip_proto != 6 ? -1 : 0;
    }
    /* A VXLAN candidate: what a decapsulating flow sees must be in the
     * key, and what hvs-dpd would refuse to decapsulate (bad outer IPv4
     * checksum, a UDP checksum it would have to verify) is refused here
     * too. */
    if (csum || !kflow_ipv4_csum_ok(ctx, KFLOW_ETH_LEN)) {
        return -1;
    }
    unsigned char df;
    if (!kflow_load(ctx, KFLOW_ETH_LEN + 6, &df, 1)
        || !kflow_load(ctx, end, k->tnl_hdr, 8)) {
        return -1;
    }
    k->tnl_flags = KFLOW_T_INNER | (df & 0x40 ? KFLOW_T_DF : 0);
    unsigned short icsum = 0;
    if (!kflow_parse_hdrs(ctx, end + 8, pkt_len, &k->inner, &icsum)) {
        return -1;
    }
    m->inner_ofs = end + 8;
    return gso_size && k->inner.ip_proto != 6 ? -1 : 0;
}

/* What an entry does with the packets it matches. */
#define KFLOW_A_OUTPUT 1        /* send out 'ifindex' */
#define KFLOW_A_ENCAP 2         /* prepend 'hdr', then send out 'ifindex' */
#define KFLOW_A_DECAP 3         /* strip the outer headers, then send */

#define KFLOW_HDR_MAX 64
/* Entries the kernel's tables hold: the max_entries of every map, and so
 * the bound on the kflow_acts slots hvs-dpd hands out. */
#define KFLOW_MAX 65536

/* The kernel's tables: the key (kflow_table with the plain part,
 * kflow_tnl_table whole) gives a kflow_ref, which names a slot of the
 * kflow_acts array holding the kflow_val.  'gen' tells a slot's entries
 * apart over its reuse. */
struct kflow_ref {
    unsigned int idx;
    unsigned int gen;
};

/* What the socket filter leaves in skb->cb[0..2] for the tcx program of
 * the same packet (both run in one pass of the receive path, the filter
 * first): its decision, so that the packet is parsed and looked up once
 * and the two hooks cannot disagree. */
#define KFLOW_CB_HIT 0x6b666c68u        /* cb[1] idx, cb[2] gen */
#define KFLOW_CB_MISS 0x6b666c6du

struct kflow_val {
    unsigned int gen;           /* of the entry this slot holds */
    unsigned int action;
    unsigned int ifindex;
    unsigned int mtu;           /* ENCAP: longest outer IP datagram */
    unsigned int hdr_len;       /* ENCAP: KFLOW_VXLAN_OUTER_LEN */
    unsigned int pad;
    unsigned char hdr[KFLOW_HDR_MAX];   /* ENCAP: outer Ethernet to VXLAN */
    /* Counted by the kernel, read (never written) by hvs-dpd. */
    unsigned long long packets, bytes, errors;
};

/* Whether the entry 'v' takes this packet ('len' bytes; a super-packet
 * of 'gso_size'-byte segments after 'm->l4_end' bytes of headers):
 * encapsulated frames, or each encapsulated segment, must fit the route's
 * MTU as hvs-dpd's own encapsulation requires (longer frames go through
 * the host stack, which fragments them). */
KFLOW_INLINE int
kflow_fits(const struct kflow_val *v, unsigned int len,
           unsigned int gso_size, const struct kflow_meta *m)
{
    if (v->action != KFLOW_A_ENCAP) {
        return 1;
    }
    if (gso_size) {
        len = m->l4_end + gso_size;
    }
    return len + v->hdr_len - KFLOW_ETH_LEN <= v->mtu;
}

#endif /* HVS_KFLOW_PARSE_H */
