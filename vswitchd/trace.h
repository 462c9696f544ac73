/* ofproto/trace: a packet's trip through a bridge's OpenFlow tables as
 * text, in the layout of Open vSwitch's `ovs-appctl ofproto/trace`.
 *
 * Translation (xlate.c) records the trip as a tree of nodes: the bridge,
 * under it each table a packet visits, under a table the actions of the
 * rule it hit (and the tables that a resubmit or goto-table of that rule
 * visits), plus notes such as NORMAL's decisions.  The printer indents
 * the tree as Open vSwitch does, so that scripts and people who read its
 * traces read ours. */
#ifndef HVS_VSWITCHD_TRACE_H
#define HVS_VSWITCHD_TRACE_H 1

#include <stdbool.h>
#include <stddef.h>

struct odp_buf;
struct ofp_match;
struct ofpact;

enum trace_type {
    TRACE_BRIDGE,               /* bridge("br0") */
    TRACE_TABLE,                /* " 0. MATCH, priority N" */
    TRACE_ACTION,               /* one OpenFlow action */
    TRACE_DETAIL,               /* " -> what NORMAL decided" */
};

/* Owns its text and its children. */
struct trace_node {
    enum trace_type type;
    char *text;
    struct trace_node **subs;
    size_t n_subs, cap;
};

/* Appends a node to 'parent' (NULL: a new root) and returns it; NULL if
 * memory ran out (tracing then goes on without it). */
struct trace_node *trace_add(struct trace_node *parent, enum trace_type,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void trace_free(struct trace_node *);
/* Prints the children of 'list' at indentation 'level'. */
void trace_print(struct odp_buf *, const struct trace_node *list, int level);

/* A match in ovs-ofctl's syntax ("ip,in_port=1,nw_dst=10.0.0.0/8").
 * With 'full', every field that the match's eth_type makes meaningful is
 * shown whatever its mask, as in a trace's "Flow:" line. */
void trace_format_match(struct odp_buf *, const struct ofp_match *,
                        bool full);
/* One action in ovs-ofctl's syntax ("output:2", "mod_nw_dst:1.2.3.4"). */
void trace_format_action(struct odp_buf *, const struct ofpact *);

/* Registers the unixctl command ofproto/trace. */
void trace_register(void);

#endif /* HVS_VSWITCHD_TRACE_H */
