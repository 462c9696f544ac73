/* For the kernel flow cache's parser (datapath/kflow-parse.h): the flow
 * key that flow_extract() must give a frame whose headers the parser took
 * as 'h', received on 'in_port'.  The cache is right only if the parser's
 * headers determine the whole flow key; test-kflow and fuzz-kflow-parse
 * compare this with flow_extract() itself. */
#ifndef HVS_TEST_KFLOW_CHECK_H
#define HVS_TEST_KFLOW_CHECK_H 1

#include <string.h>

#include "flow.h"
#include "kflow.h"
#include "packet.h"

static inline void
kflow_check_expected(const struct kflow_hdrs *h, uint32_t in_port,
                     struct flow_key *k)
{
    memset(k, 0, sizeof *k);
    k->in_port = in_port;
    memcpy(k->eth_dst, h->eth_dst, 6);
    memcpy(k->eth_src, h->eth_src, 6);
    k->eth_type = h->eth_type;
    k->ip_proto = h->ip_proto;
    if (h->eth_type == KFLOW_ETH_ARP) {
        memcpy(&k->ipv4_src, h->src, 4);
        memcpy(&k->ipv4_dst, h->dst, 4);
        memcpy(k->arp_sha, h->arp_sha, 6);
        memcpy(k->arp_tha, h->arp_tha, 6);
        return;
    }
    k->ip_tos = h->ip_tos;
    k->ip_ttl = h->ip_ttl;
    if (h->eth_type == KFLOW_ETH_IP) {
        memcpy(&k->ipv4_src, h->src, 4);
        memcpy(&k->ipv4_dst, h->dst, 4);
    } else {
        k->ipv6_label = h->ipv6_label;
        memcpy(k->ipv6_src, h->src, 16);
        memcpy(k->ipv6_dst, h->dst, 16);
    }
    k->tp_src = h->tp_src;
    k->tp_dst = h->tp_dst;
    k->tcp_flags = h->tcp_flags;
}

/* Whether flow_extract() agrees with the parser on 'h' for the frame of
 * 'p' (its metadata cleared but for in_port). */
static inline bool
kflow_check_agrees(struct dp_packet *p, const struct kflow_hdrs *h)
{
    struct flow_key got, want;

    flow_extract(p, &got);
    kflow_check_expected(h, p->md.in_port, &want);
    return !memcmp(&got, &want, FLOW_KEY_FIXED_LEN);
}

#endif /* HVS_TEST_KFLOW_CHECK_H */
