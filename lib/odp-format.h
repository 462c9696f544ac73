/* Datapath flows as text, in the syntax Open vSwitch 3.1's `ovs-dpctl
 * dump-flows` and `ovs-appctl dpctl/dump-flows` print for a kernel datapath:
 *
 *   KEY, packets:N, bytes:N, used:Xs[, flags:F], actions:ACTIONS
 *
 * People and scripts parse that text, so the rules are Open vSwitch's, not
 * ours: the key is printed attribute by attribute from OVS_KEY_ATTR_*
 * attributes in the order the datapath sends them (the kernel's order,
 * which lib/flow-netlink.c reproduces); in the terse form, a field whose
 * mask is zero is left out, a partial mask prints as "value/mask", and an
 * attribute whose mask is all zero is left out except eth(), which is
 * always shown.  The verbose form (-m) shows every field of every
 * attribute, wildcarded ones as "value/0".
 *
 * Everything appends to a caller's odp_buf.  Nothing here allocates except
 * the buffer's own growth; on allocation failure the buffer keeps what fit
 * and sets 'oom'.
 */
#ifndef HVS_ODP_FORMAT_H
#define HVS_ODP_FORMAT_H 1

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

struct dpif_flow;
struct dpif_flow_stats;

/* A growable NUL-terminated string.  Zero-initialise it ({ 0 }); the owner
 * frees it with odp_buf_free(). */
struct odp_buf {
    char *s;
    size_t len, cap;
    bool oom;                   /* an append did not fit */
};

void odp_buf_put(struct odp_buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text so far ("" when nothing was appended). */
const char *odp_buf_cstr(const struct odp_buf *);
/* Empties the buffer, keeping its memory. */
void odp_buf_clear(struct odp_buf *);
void odp_buf_free(struct odp_buf *);

/* The name of datapath port 'port_no', or NULL to print the number. */
typedef const char *odp_port_name_fn(uint32_t port_no, void *aux);

struct odp_format_opts {
    bool verbose;               /* ovs-dpctl -m */
    odp_port_name_fn *port_name;    /* NULL: ports as numbers (the default
                                     * of ovs-dpctl without -m) */
    void *aux;                  /* for port_name */
};

/* The key and mask as the OVS_KEY_ATTR_* attribute streams 'key' and 'mask'
 * ('key_len' and 'mask_len' bytes, the payloads of OVS_FLOW_ATTR_KEY and
 * OVS_FLOW_ATTR_MASK).  'mask' may be NULL: then every field is exact.
 * 'opts' may be NULL (terse, port numbers). */
void odp_format_key_attrs(struct odp_buf *, const void *key, size_t key_len,
                          const void *mask, size_t mask_len,
                          const struct odp_format_opts *opts);

/* The same for a match held as flow_key structs: encodes 'key' and 'mask'
 * with fnl_put_key() exactly as the datapath dumps a flow that has a UFID
 * (masked key, mask), then formats the attributes.  Returns 0, or -EMSGSIZE
 * if the encoding does not fit (nothing is appended then). */
int odp_format_match(struct odp_buf *, const struct flow_key *key,
                     const struct flow_key *mask,
                     const struct odp_format_opts *opts);

/* The OVS_ACTION_ATTR_* stream 'actions' ('len' bytes), comma-separated;
 * an empty list is "drop". */
void odp_format_actions(struct odp_buf *, const void *actions, size_t len,
                        const struct odp_format_opts *opts);

/* "packets:N, bytes:N, used:X.XXXs|never[, flags:F]", 'used' taken
 * relative to 'now_msec' (CLOCK_MONOTONIC milliseconds, the clock of
 * OVS_FLOW_ATTR_USED). */
void odp_format_stats(struct odp_buf *, const struct dpif_flow_stats *,
                      uint64_t now_msec);

/* TCP flags in tcpdump style as in "flags:S.": "none" when zero. */
void odp_format_tcp_flags(struct odp_buf *, uint16_t tcp_flags);

/* "ufid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" from the 16 bytes of
 * OVS_FLOW_ATTR_UFID. */
void odp_format_ufid(struct odp_buf *, const uint8_t ufid[16]);

/* One line of dump-flows output, without the newline: [ufid (verbose and
 * present), ]key, stats[, dp:ovs (verbose)], actions:... */
void odp_format_flow(struct odp_buf *, const struct dpif_flow *,
                     uint64_t now_msec, const struct odp_format_opts *opts);

/* CLOCK_MONOTONIC now, in milliseconds, for the 'now_msec' arguments. */
uint64_t odp_now_msec(void);

#endif /* HVS_ODP_FORMAT_H */
