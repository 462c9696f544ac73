/* libFuzzer target: the flow key/mask parser over arbitrary attribute
 * streams, then the dump encoder on whatever was accepted.
 *
 * Input: byte 0 selects the mode (bit 0: no mask, bit 1: also parse the
 * key as packet metadata); bytes 1-2 give the key's length; the key's
 * attribute stream follows, then the mask's.  Each stream is wrapped in a
 * nested attribute in an aligned buffer, as the genetlink layer hands it
 * over. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/openvswitch.h>

#include "flow-netlink.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STREAM_MAX 4096

static struct nlattr *
wrap(void *buf, uint16_t type, const uint8_t *data, size_t len)
{
    struct nlattr *nla = buf;

    nla->nla_type = type | NLA_F_NESTED;
    nla->nla_len = (uint16_t) (sizeof *nla + len);
    memcpy(nla + 1, data, len);
    return nla;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t key_buf[STREAM_MAX / 8 + 1], mask_buf[STREAM_MAX / 8 + 1];
    static uint64_t out[(2 * FNL_KEY_MAX_SIZE + 64) / 8];
    uint8_t tun_opts[FLOW_TNL_OPTS_MAX];
    const char *reason = NULL;
    struct nlattr *key, *mask = NULL;
    struct flow_key unmasked;
    struct dp_packet_md md;
    struct flow_match m;
    struct nlmsghdr *nlh;
    size_t key_len;
    int err;

    if (size < 3) {
        return 0;
    }
    key_len = (size_t) (data[1] | data[2] << 8);
    data += 3;
    size -= 3;
    if (key_len > size) {
        key_len = size;
    }
    if (key_len > STREAM_MAX || size - key_len > STREAM_MAX) {
        return 0;
    }
    key = wrap(key_buf, OVS_FLOW_ATTR_KEY, data, key_len);
    if (!(data[-3] & 1)) {
        mask = wrap(mask_buf, OVS_FLOW_ATTR_MASK, data + key_len,
                    size - key_len);
    }
    if (data[-3] & 2) {
        err = fnl_parse_packet_md(key, &md, tun_opts, &reason);
        if (err && (err != -EINVAL || !reason)) {
            abort();
        }
    }

    reason = NULL;
    err = fnl_parse_flow(key, mask, &m, &unmasked, &reason);
    if (err) {
        /* Refusals are -EINVAL with a reason; -ENOMEM is the only other
         * possible error. */
        if (err != -ENOMEM && (err != -EINVAL || !reason)) {
            abort();
        }
        return 0;
    }

    /* Whatever is accepted must encode within the documented bound, and
     * what is encoded must not crash the parser. */
    memset(out, 0, sizeof out);
    nlh = mnl_nlmsg_put_header(out);
    key = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    if (fnl_put_key(nlh, sizeof out, OVS_FLOW_ATTR_KEY, &m.key, &m.key,
                    false)
        || mnl_attr_get_len(key) > FNL_KEY_MAX_SIZE) {
        abort();
    }
    mask = (struct nlattr *) ((char *) nlh + nlh->nlmsg_len);
    if (fnl_put_key(nlh, sizeof out, OVS_FLOW_ATTR_MASK, &m.key, &m.mask,
                    true)
        || mnl_attr_get_len(mask) > FNL_KEY_MAX_SIZE) {
        abort();
    }
    (void) fnl_parse_match(key, mask, &m, &reason);
    (void) fnl_put_key(nlh, sizeof out, OVS_PACKET_ATTR_KEY, &unmasked,
                       &unmasked, false);
    return 0;
}
