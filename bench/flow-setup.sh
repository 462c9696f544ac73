#!/bin/bash
# Flow setup rate: a generator in VM A sends 64-byte frames from many
# distinct source MACs (each needs a new megaflow, since NORMAL matches the
# source address); after T seconds we count the datapath flows each switch
# installed.  Open vSwitch 3.1's userspace datapath (NORMAL) against
# hvs-dpd + hvs-vswitchd (NORMAL), in one run; appends to bench/RESULTS.md.
#
# usage: bench/flow-setup.sh [SECONDS] [KPPS]     (as root, after `make`)
set -u
T=${1:-5}
RATE=${2:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

cat > $R/rndmac.trafgen <<'TG'
{
  0x02, 0x78, 0x00, 0x00, 0x00, 0x02,  0x06, drnd(5),
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 78, 0, 1,  10, 78, 0, 2,
  0x04, 0x00, 0x04, 0x01, 0x00, 0x1a, 0x00, 0x00,
  fill(0x00, 18),
}
TG

count_flows() {   # datapath flows now installed by switch $1
    case $1 in
    ovs) ip netns exec $SW env OVS_RUNDIR=$R/ovs ovs-appctl \
             dpctl/dump-flows 2>/dev/null | grep -c "actions" ;;
    hvs-normal) ip netns exec $SW env HVS_RUNDIR=$R/hvsn \
             LD_PRELOAD=$BUILD/shim/libhvs-nlshim.so ovs-dpctl dump-flows \
             2>/dev/null | grep -c "actions" ;;
    esac
}

declare -A RES
for kind in ovs hvs-normal; do
    echo "bench: flow setup through $kind, ${T}s at ${RATE} kpps..." >&2
    switch_up $kind; sleep 1
    ip netns exec $A ping -c 2 -i 0.2 10.78.0.2 >/dev/null 2>&1
    f0=$(count_flows $kind)
    ip netns exec $A timeout $T trafgen --dev eth0 --conf $R/rndmac.trafgen \
        --cpus 1 -q --rate $((RATE * 1000))pps >/dev/null 2>&1
    sleep 1
    f1=$(count_flows $kind)
    RES[$kind]=$(( (f1 - f0) / T ))
    switch_down
    echo "  $kind: $(( f1 - f0 )) new flows, ${RES[$kind]} flows/s" >&2
done
ratio() { python3 -c "a,b=float('$1'),float('$2'); print('%.2f' % (a/b) if b else 'n/a')"; }
{
echo
echo "### $(date -u +%Y-%m-%d) flow setup rate, ${T}s at ${RATE} kpps of new source MACs, $(nproc) cores"
echo
echo "Command: \`bench/flow-setup.sh $T $RATE\` (commit $(git -C $ROOT rev-parse --short HEAD))"
echo
echo "| switch | new megaflows per second |"
echo "| --- | --- |"
echo "| OVS 3.1 userspace, NORMAL | ${RES[ovs]} |"
echo "| hvs-dpd + hvs-vswitchd, NORMAL | ${RES[hvs-normal]} |"
echo "| ratio hvs/OVS | $(ratio ${RES[hvs-normal]} ${RES[ovs]}) |"
} | tee -a $HERE/RESULTS.md
