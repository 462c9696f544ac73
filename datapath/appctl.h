/* hvs-dpd's unixctl commands for operators (`ovs-appctl -t
 * RUNDIR/hvs-dpd.ctl CMD`), in the formats Open vSwitch users and scripts
 * know where Open vSwitch has the same command:
 *
 *   dpctl/show [-s] [DP...]           datapaths, ports and counters
 *   dpctl/dump-flows [-m] [--names | --no-names] [DP]
 *   memory/show
 *   kflow/show                        the kernel flow cache's counters
 *
 * and, from tnl-appctl.c, the tunnel commands (tnl/stats, tnl/neigh/show,
 * ovs/route/show).  Every command runs on the control thread, which owns
 * the datapaths, so it reads them without locks; forwarding goes on
 * meanwhile (it only reads their counters). */
#ifndef HVS_APPCTL_H
#define HVS_APPCTL_H 1

#include <stdbool.h>
#include <stddef.h>

/* Registers the commands above with lib/unixctl. */
void appctl_register(void);
void tnl_appctl_register(void);

/* The options of the dpctl/ commands, parsed from their arguments. */
#define APPCTL_MAX_DPS 8
struct appctl_dpctl_args {
    bool statistics;            /* -s, --statistics (show) */
    bool verbose;               /* -m, --more (dump-flows) */
    int names;                  /* --names 1, --no-names 0, default -1 */
    int n_dps;
    const char *dps[APPCTL_MAX_DPS];    /* "system@" stripped; point into
                                         * argv */
};

/* Which options a command takes. */
#define APPCTL_OPT_STATS 1u     /* -s */
#define APPCTL_OPT_FLOWS 2u     /* -m, --names, --no-names; one DP */

/* Parses argv[1..argc-1] of command argv[0] with the options 'allowed'.
 * Returns 0, or -EINVAL with a message naming the command and the
 * offending argument in 'err' ('errlen' bytes). */
int appctl_parse_dpctl_args(int argc, const char *argv[], unsigned allowed,
                            struct appctl_dpctl_args *, char *err,
                            size_t errlen);

#endif /* HVS_APPCTL_H */
