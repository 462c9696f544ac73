#!/bin/bash
# OpenFlow benchmark (issue 6), Open vSwitch 3.1 (userspace datapath)
# against hvs-dpd + hvs-vswitchd in one run:
#  (a) flow-mod rate: the real `ovs-ofctl add-flows` of N rules (default
#      100,000; four mask shapes, so several subtables) from a file, timed
#      until its closing barrier returns; rules per second;
#  (b) classifier lookup rate: 10,000 rules over 10 tables chained with
#      resubmit; a generator sends UDP frames from new source MACs, each
#      of which needs a fresh translation through all 10 tables (table 0
#      has a subtable on dl_src, so every megaflow holds the source MAC);
#      new datapath flows per second after T seconds, as flow-setup.sh
#      counts them.
# Prints the ratios and appends them to bench/RESULTS.md.
#
# usage: bench/openflow.sh [SECONDS] [KPPS] [N_RULES]  (as root, after make)
# NO_APPEND=1: print the table without appending it to RESULTS.md.
set -u
T=${1:-5}
RATE=${2:-20}
NRULES=${3:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

# (a) N rules, unique, in four mask shapes.
python3 - "$NRULES" > $R/flowmods.txt <<'PY'
import sys
for i in range(int(sys.argv[1])):
    a = "%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
    shape = i % 4
    if shape == 0:
        m = "ip,nw_src=10.%s" % a
    elif shape == 1:
        m = "ip,nw_dst=10.%s" % a
    elif shape == 2:
        m = "tcp,nw_src=11.%s,tp_dst=80" % a
    else:
        m = "udp,nw_dst=11.%s,tp_src=53" % a
    print("table=%d,priority=%d,%s,actions=output:2" % (i % 4, 100 + i % 50, m))
PY

# (b) 10 tables of 1,000 rules; the generator's frames (UDP, tp_src 1024)
# hit "udp,tp_src=1024" in every table and go on to the next.
python3 - > $R/chain.txt <<'PY'
for t in range(10):
    n = 0
    nxt = "resubmit(,%d)" % (t + 1) if t < 9 else "output:2"
    if t == 0:
        for i in range(400):
            print("table=0,priority=300,dl_src=02:79:00:00:%02x:%02x,"
                  "actions=drop" % (i >> 8, i & 255))
            n += 1
    for i in range(300):
        print("table=%d,priority=100,udp,tp_src=%d,actions=%s"
              % (t, 1000 + i, nxt))
        n += 1
    i = 0
    while n < 999:
        print("table=%d,priority=90,ip,nw_src=10.79.%d.%d,actions=drop"
              % (t, i >> 8, i & 255))
        n += 1
        i += 1
    print("table=%d,priority=0,actions=%s" % (t, nxt))
PY

cat > $R/rndmac-udp.trafgen <<'TG'
{
  0x02, 0x78, 0x00, 0x00, 0x00, 0x02,  0x06, drnd(5),
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 78, 0, 1,  10, 78, 0, 2,
  0x04, 0x00, 0x04, 0x01, 0x00, 0x1a, 0x00, 0x00,
  fill(0x00, 18),
}
TG

mgmt() {
    case $1 in
    ovs) echo unix:$R/ovs/br0.mgmt ;;
    hvs-normal) echo unix:$R/hvsn/br0.mgmt ;;
    esac
}

count_flows() {   # datapath flows now installed by switch $1
    case $1 in
    ovs) ip netns exec $SW env OVS_RUNDIR=$R/ovs ovs-appctl \
             dpctl/dump-flows 2>/dev/null | grep -c "actions" ;;
    hvs-normal) ip netns exec $SW env HVS_RUNDIR=$R/hvsn \
             LD_PRELOAD=$BUILD/shim/libhvs-nlshim.so ovs-dpctl dump-flows \
             2>/dev/null | grep -c "actions" ;;
    esac
}

flow_count() {    # rules in switch $1's tables
    ovs-ofctl dump-aggregate $(mgmt $1) 2>/dev/null \
        | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'
}

now() { date +%s.%N; }

declare -A FM LK
for kind in ovs hvs-normal; do
    echo "bench: $kind: add-flows of $NRULES rules..." >&2
    switch_up $kind; sleep 2
    M=$(mgmt $kind)
    for i in $(seq 50); do ovs-ofctl show $M >/dev/null 2>&1 && break
        sleep 0.2; done
    ovs-ofctl del-flows $M
    t0=$(now)
    ovs-ofctl add-flows $M $R/flowmods.txt || echo "  add-flows failed" >&2
    t1=$(now)
    n=$(flow_count $kind)
    FM[$kind]=$(python3 -c "print(int($NRULES / ($t1 - $t0)))")
    echo "  $kind: ${n:-?} rules installed in $(python3 -c \
        "print('%.2f' % ($t1 - $t0))")s: ${FM[$kind]} rules/s" >&2
    [ "${n:-0}" = "$NRULES" ] || { echo "  $kind: wrong rule count" >&2
                                   FM[$kind]=0; }

    echo "bench: $kind: 10 tables x 1000 rules, ${T}s at ${RATE} kpps of" \
         "new source MACs..." >&2
    t0=$(now)
    ovs-ofctl del-flows $M
    ovs-ofctl add-flows $M $R/chain.txt || echo "  add-flows failed" >&2
    echo "  $kind: replaced with $(flow_count $kind) chain rules in" \
         "$(python3 -c "print('%.2f' % ($(now) - $t0))")s" >&2
    sleep 2
    f0=$(count_flows $kind)
    ip netns exec $A timeout $T trafgen --dev eth0 \
        --conf $R/rndmac-udp.trafgen --cpus 1 -q \
        --rate $((RATE * 1000))pps >/dev/null 2>&1
    sleep 1
    f1=$(count_flows $kind)
    LK[$kind]=$(( (f1 - f0) / T ))
    echo "  $kind: $(( f1 - f0 )) new flows, ${LK[$kind]} flows/s" >&2
    switch_down
done
ratio() { python3 -c "a,b=float('$1'),float('$2'); print('%.2f' % (a/b) if b else 'n/a')"; }
{
echo
echo "### $(date -u +%Y-%m-%d) OpenFlow: flow-mod rate and classifier lookups, $(nproc) cores"
echo
echo "Command: \`bench/openflow.sh $T $RATE $NRULES\` (commit $(git -C $ROOT rev-parse --short HEAD) + working tree)"
echo
echo "| switch | add-flows of $NRULES rules, rules/s | new megaflows/s through 10 tables x 1000 rules |"
echo "| --- | --- | --- |"
echo "| OVS 3.1 userspace | ${FM[ovs]} | ${LK[ovs]} |"
echo "| hvs-dpd + hvs-vswitchd | ${FM[hvs-normal]} | ${LK[hvs-normal]} |"
echo "| ratio hvs/OVS | $(ratio ${FM[hvs-normal]} ${FM[ovs]}) | $(ratio ${LK[hvs-normal]} ${LK[ovs]}) |"
} | if [ -n "${NO_APPEND:-}" ]; then cat; else tee -a $HERE/RESULTS.md; fi
