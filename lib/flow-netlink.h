/* Flow keys, masks and packet metadata to and from OVS_KEY_ATTR_*
 * attributes: the wire boundary of the ovs_flow and ovs_packet families.
 * Everything the fast path trusts is validated here, once.
 *
 * Acceptance and errnos follow the kernel's net/openvswitch/flow_netlink.c:
 * every key the kernel accepts is accepted (an empty eth() or ipv4()
 * included), every refusal is -EINVAL unless noted.  Each failing function
 * sets *reason to a static string that names what was wrong, for the log and
 * the extended ack.
 */
#ifndef HVS_FLOW_NETLINK_H
#define HVS_FLOW_NETLINK_H 1

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>

#include "flow.h"

/* The key's in_port when OVS_KEY_ATTR_IN_PORT is absent, as in the kernel
 * (DP_MAX_PORTS); valid ports are below it. */
#define FNL_IN_PORT_NONE 0xffffu

/* Upper bound of what fnl_put_key() appends, nest header included: size
 * message buffers for a key plus a mask with twice this. */
#define FNL_KEY_MAX_SIZE 1024

/* Longest OVS_FLOW_ATTR_UFID. */
#define FNL_UFID_MAX 16

/* A flow's match: the key (already masked) and its mask. */
struct flow_match {
    struct flow_key key;
    struct flow_key mask;
};

/* Parses OVS_FLOW_ATTR_KEY 'key' and the optional OVS_FLOW_ATTR_MASK 'mask'
 * (NULL when absent) into 'm'.  Without a mask every field the key carries
 * is matched exactly and the rest wildcarded, as the kernel does; with a
 * mask, key attributes absent from the mask are wildcarded.  Checks
 * attribute lengths, nesting, duplicates, mask-wider-than-key and the
 * protocol prerequisites (an ipv4() needs eth_type 0x0800 matched, a tcp()
 * needs ip_proto 6 matched, ...).  Returns 0 or -EINVAL. */
int fnl_parse_match(const struct nlattr *key, const struct nlattr *mask,
                    struct flow_match *m, const char **reason);

/* Same as fnl_parse_match(), and also stores in 'unmasked' (if nonnull)
 * the key as userspace sent it, before masking: the identity of a flow
 * installed without a UFID, which flow dumps return. */
int fnl_parse_flow(const struct nlattr *key, const struct nlattr *mask,
                   struct flow_match *m, struct flow_key *unmasked,
                   const char **reason);

/* Copies OVS_FLOW_ATTR_UFID 'attr' into 'ufid' and returns its length.
 * Returns 0 when 'attr' is NULL or not 1 to FNL_UFID_MAX bytes long: the
 * kernel then identifies the flow by its key, as if no UFID were given. */
size_t fnl_get_ufid(const struct nlattr *attr, uint8_t ufid[FNL_UFID_MAX]);

/* Parses the key of an OVS_PACKET_CMD_EXECUTE (OVS_PACKET_ATTR_KEY) for
 * the packet's metadata only: in_port, priority, skb_mark, recirc_id,
 * dp_hash and tunnel go to 'md'; header attributes are checked for length
 * but otherwise ignored (the datapath extracts them from the packet).
 * Geneve options go to 'tun_opts' (FLOW_TNL_OPTS_MAX bytes; may be NULL,
 * then they are checked and dropped).  Without OVS_KEY_ATTR_IN_PORT,
 * md->in_port is FNL_IN_PORT_NONE.  A key with an EtherType but no
 * Ethernet addresses names a layer-3 packet: md->l3_type gets that type.
 * Returns 0 or -EINVAL. */
struct dp_packet_md;
int fnl_parse_packet_md(const struct nlattr *key, struct dp_packet_md *md,
                        uint8_t *tun_opts, const char **reason);

/* Parses the nested attributes of OVS_KEY_ATTR_NSH 'attr' into 'nsh': as
 * a flow key, a mask ('is_mask') or the argument of push_nsh ('is_push':
 * the base header and MD1 or MD2 metadata required, MD2 allowed; its bytes
 * are returned in *md2 and *md2_len if 'md2' is nonnull).  Checks lengths
 * and that MD1/MD2 agree with the base's MD type, as the kernel does.
 * Returns 0 or -EINVAL. */
struct flow_nsh;
int fnl_parse_nsh(const struct nlattr *attr, bool is_mask, bool is_push,
                  struct flow_nsh *nsh, const uint8_t **md2,
                  size_t *md2_len, const char **reason);

/* Appends to 'nlh' (whose buffer has 'buflen' bytes in all) a nested
 * attribute 'type' (OVS_FLOW_ATTR_KEY, OVS_FLOW_ATTR_MASK or
 * OVS_PACKET_ATTR_KEY) that describes 'key'.  Which attributes appear is
 * decided by 'key' (its eth_type, ip_proto, ...); their values come from
 * 'out' ('key' itself for a key, the mask for a mask), so that a key and
 * its mask list the same attributes as the kernel's dumps do.  'is_mask'
 * selects mask encodings (in_port 0xffffffff, all-ones eth_type ...).
 * Returns 0, or -EMSGSIZE if it does not fit (nlh is then unchanged). */
int fnl_put_key(struct nlmsghdr *nlh, size_t buflen, uint16_t type,
                const struct flow_key *key, const struct flow_key *out,
                bool is_mask);

/* Rewrites 'mask' into the form the datapath reports for a flow with key
 * 'key' and this mask (for example, an untagged flow's VLAN mask), by a
 * round trip through the attribute encoding, so that a client can compare
 * a mask it computed with one it dumps.  Returns 0 or -EINVAL (then
 * 'mask' is unchanged). */
int fnl_normalize_mask(const struct flow_key *key, struct flow_key *mask);

#endif /* HVS_FLOW_NETLINK_H */
