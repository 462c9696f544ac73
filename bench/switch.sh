#!/bin/bash
# Side-by-side switch benchmark: two "VMs" (namespaces) wired by veth to a
# switch, measured with the Linux bridge, Open vSwitch 3.1's userspace
# datapath (datapath_type=netdev, TSO on, NORMAL), hvs-dpd alone (static
# flows port 1 <-> port 2) and hvs-dpd with hvs-vswitchd (NORMAL, MAC
# learning, megaflows), each of the two with hvs-dpd's kernel flow cache
# off (--kernel-cache=off) and on (the -kc kinds; hvs-dpd's default).
# Prints each figure and the ratios against OVS and the bridge, and
# appends them to bench/RESULTS.md.
#
# usage: bench/switch.sh [SECONDS]     (as root, after `make`)
set -u
T=${1:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

declare -A RES
KINDS="bridge ovs hvs hvs-kc"
[ -x "$BUILD/vswitchd/hvs-vswitchd" ] && KINDS="$KINDS hvs-normal hvs-normal-kc"
for kind in $KINDS; do
    echo "bench: measuring $kind for ${T}s per test..." >&2
    switch_up $kind; sleep 1
    RES[$kind]=$(measure)
    switch_down
    echo "  $kind: rtt_ms tcp_gbps udp64_kpps = ${RES[$kind]}" >&2
done

ratio() { python3 -c "a,b=float('$1'),float('$2'); print('%.2f' % (a/b) if b else 'n/a')"; }
read hr ht hu <<<"${RES[hvs]}"; read or ot ou <<<"${RES[ovs]}"; read br bt bu <<<"${RES[bridge]}"
read nr nt nu <<<"${RES[hvs-normal]:-nan 0 0}"
read kr kt ku <<<"${RES[hvs-kc]:-nan 0 0}"
read mr mt mu <<<"${RES[hvs-normal-kc]:-nan 0 0}"
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
echo
echo "### $(date -u +%Y-%m-%d) switch benchmark, ${T}s per test, $(nproc) cores ($CPU)"
echo
echo "Command: \`bench/switch.sh $T\` (commit $(git -C $ROOT rev-parse --short HEAD))"
echo
echo "| switch | ping RTT ms | TCP Gbit/s (median of 3) | UDP 64B kpps received (median of 3) |"
echo "| --- | --- | --- | --- |"
echo "| Linux bridge | $br | $bt | $bu |"
echo "| OVS 3.1 userspace (TSO on) | $or | $ot | $ou |"
echo "| hvs-dpd --kernel-cache=off, static flows | $hr | $ht | $hu |"
echo "| hvs-dpd --kernel-cache=off + hvs-vswitchd, NORMAL | $nr | $nt | $nu |"
echo "| hvs-dpd (kernel flow cache on, the default), static flows | $kr | $kt | $ku |"
echo "| hvs-dpd (kernel flow cache on) + hvs-vswitchd, NORMAL | $mr | $mt | $mu |"
echo "| ratio hvs static/OVS | $(ratio $or $hr) (RTT, inverse) | $(ratio $ht $ot) | $(ratio $hu $ou) |"
echo "| ratio hvs NORMAL/OVS NORMAL | $(ratio $or $nr) (RTT, inverse) | $(ratio $nt $ot) | $(ratio $nu $ou) |"
echo "| ratio hvs static/bridge | $(ratio $br $hr) (RTT, inverse) | $(ratio $ht $bt) | $(ratio $hu $bu) |"
echo "| ratio hvs kernel cache static/OVS | $(ratio $or $kr) (RTT, inverse) | $(ratio $kt $ot) | $(ratio $ku $ou) |"
echo "| ratio hvs kernel cache NORMAL/OVS NORMAL | $(ratio $or $mr) (RTT, inverse) | $(ratio $mt $ot) | $(ratio $mu $ou) |"
echo "| ratio hvs kernel cache static/bridge | $(ratio $br $kr) (RTT, inverse) | $(ratio $kt $bt) | $(ratio $ku $bu) |"
} | tee -a $HERE/RESULTS.md
