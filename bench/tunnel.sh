#!/bin/bash
# Tunnel benchmark: two hypervisors (namespaces) joined by an underlay veth
# (MTU 1600), one VM on each (MTU 1500), VM to VM across VXLAN key 42,
# measured in one run with
#   kernel  the Linux kernel's VXLAN device and a bridge on each hypervisor
#   ovs     Open vSwitch 3.1's userspace datapath and userspace VXLAN
#           tunnel (TSO on): br-phy holds the uplink and carries the VTEP
#           address, br-int holds the VM port and the vxlan port
#   ovs-notso  the same with TSO off and the VMs' transmit checksum
#           offload off (ethtool -K eth0 tx off), the configuration Open
#           vSwitch's userspace tunnel needs: it forwards the VMs' partial
#           checksums (and, with TSO on, super-packets) into the tunnel
#           unfinished, so its tunnel TCP figure is 0 otherwise
#   hvs     hvs-dpd + hvs-ovsdb + hvs-vswitchd on each hypervisor in the
#           same layout, configured with ovs-vsctl as scripts/demo.sh does,
#           hvs-dpd without its kernel flow cache (--kernel-cache=off)
#   hvs-kc  the same with the kernel flow cache (hvs-dpd's default)
# Figures: ping RTT, TCP Gbit/s (iperf3, median of 3 runs), 64-byte UDP
# packets per second received (trafgen, one flow).  Prints the ratios
# hvs/kernel and hvs/OVS and appends them to bench/RESULTS.md.
#
# usage: bench/tunnel.sh [SECONDS]     (as root, after `make`)
#   HVS_BUILD  the build directory (default build/; a release build:
#              meson setup B -Dbuildtype=release -Dtests=false)
#   KINDS      the switches to measure (default "kernel ovs ovs-notso
#              hvs"); the ratios and RESULTS.md need kernel, ovs and hvs
#   NO_RECORD  set to skip the RESULTS.md entry
set -u
T=${1:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${HVS_BUILD:-$ROOT/build}
KINDS=${KINDS:-kernel ovs ovs-notso hvs hvs-kc}
P=hvt$$                         # namespace prefix of this run
R=/tmp/$P
HV1=${P}hv1; HV2=${P}hv2

[ "$(id -u)" = 0 ] || { echo "bench: run as root"; exit 1; }
MISSING=""
need() { command -v "$1" >/dev/null || MISSING="$MISSING $2"; }
need trafgen netsniff-ng; need iperf3 iperf3; need ovs-vsctl openvswitch-switch; need ethtool ethtool
if [ -n "$MISSING" ]; then
    echo "bench: installing$MISSING"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $MISSING >/dev/null
fi
[ -x "$BUILD/datapath/hvs-dpd" ] || { echo "bench: build first ($BUILD)"; exit 1; }

# ---- topology (as ../shared/bench/topo2.sh, with this run's prefix) ----

SW_KIND=""
cleanup() {
    switch_down 2>/dev/null
    for n in hv1 hv2 vm1 vm2; do ip netns del $P$n 2>/dev/null; done
    rm -rf $R
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p $R

for n in hv1 hv2 vm1 vm2; do
    ip netns add $P$n; ip -n $P$n link set lo up
done
ip link add u1 netns $HV1 type veth peer name u2 netns $HV2
for i in 1 2; do
    ip -n ${P}hv$i link set u$i mtu 1600 up
    ip link add vif$i netns ${P}hv$i type veth peer name eth0 netns ${P}vm$i
    ip -n ${P}vm$i addr add 10.77.0.$i/24 dev eth0
    ip -n ${P}vm$i link set eth0 address 02:77:00:00:00:0$i
    ip -n ${P}vm$i link set eth0 up
    ip -n ${P}hv$i link set vif$i up
done

cat > $R/udp64.trafgen <<'TG'
{
  0x02, 0x77, 0x00, 0x00, 0x00, 0x02,  0x02, 0x77, 0x00, 0x00, 0x00, 0x01,
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 77, 0, 1,  10, 77, 0, 99,
  0x04, 0x00, 0x04, 0x01, 0x00, 0x1a, 0x00, 0x00,
  fill(0x00, 18),
}
TG

# ---- the switches ---------------------------------------------------------

underlay_addr_on() {    # DEV: where each hv's VTEP address 10.99.0.i lives
    for i in 1 2; do
        ip -n ${P}hv$i addr flush dev u$i
        [ "$1" = u ] && ip -n ${P}hv$i addr add 10.99.0.$i/24 dev u$i
    done
}

switch_up() {
    SW_KIND=$1
    local kc=--kernel-cache=off     # hvs-dpd defaults to on
    [ $1 = hvs-kc ] && { kc=--kernel-cache; SW_KIND=hvs; }
    case $SW_KIND in
    kernel)
        underlay_addr_on u
        for i in 1 2; do
            j=$((3 - i)); H="ip -n ${P}hv$i"
            $H link add vx0 type vxlan id 42 remote 10.99.0.$j \
                local 10.99.0.$i dstport 4789
            $H link add br0 type bridge
            $H link set vx0 master br0; $H link set vif$i master br0
            $H link set vx0 up; $H link set br0 up
        done ;;
    ovs|ovs-notso)
        local tso=true
        if [ $1 = ovs-notso ]; then
            tso=false
            for i in 1 2; do
                ip netns exec ${P}vm$i ethtool -K eth0 tx off >/dev/null 2>&1
            done
        fi
        underlay_addr_on none
        for i in 1 2; do
            j=$((3 - i)); D=$R/ovs-hv$i; mkdir -p $D
            E="env OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D ip netns exec ${P}hv$i"
            VS="$E ovs-vsctl --db=unix:$D/db.sock --timeout=20"
            $E ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
            $E ovsdb-server $D/conf.db --remote=punix:$D/db.sock \
                --pidfile=$D/ovsdb-server.pid --detach --no-chdir \
                --unixctl=$D/ovsdb-server.ctl --log-file=$D/ovsdb-server.log 2>/dev/null
            $VS --no-wait init
            $VS --no-wait set Open_vSwitch . other_config:userspace-tso-enable=$tso
            $E /usr/lib/openvswitch-switch/ovs-vswitchd unix:$D/db.sock \
                --pidfile=$D/ovs-vswitchd.pid --detach --no-chdir \
                --unixctl=$D/ovs-vswitchd.ctl \
                --log-file=$D/ovs-vswitchd.log 2>/dev/null
            $VS add-br br-phy -- set bridge br-phy datapath_type=netdev \
                -- add-port br-phy u$i
            ip -n ${P}hv$i addr add 10.99.0.$i/24 dev br-phy
            ip -n ${P}hv$i link set br-phy mtu 1600 up
            $VS add-br br-int -- set bridge br-int datapath_type=netdev \
                -- add-port br-int vif$i -- add-port br-int vx0 \
                -- set interface vx0 type=vxlan options:remote_ip=10.99.0.$j \
                options:key=42
            ip -n ${P}hv$i link set br-int up
        done ;;
    hvs)
        underlay_addr_on none
        for i in 1 2; do
            j=$((3 - i)); D=$R/hvs-hv$i; mkdir -p $D
            H="ip netns exec ${P}hv$i"
            VS="$H ovs-vsctl --db=unix:$D/db.sock --timeout=20"
            $H $BUILD/datapath/hvs-dpd --rundir=$D --log-file --pidfile --detach \
                $kc 2>/dev/null
            if [ -x $BUILD/ovsdb/hvs-ovsdb ]; then
                $H $BUILD/ovsdb/hvs-ovsdb $D/conf.db --rundir=$D --log-file \
                    --pidfile --detach 2>/dev/null
            else
                ovsdb-tool create $D/conf.db /usr/share/openvswitch/vswitch.ovsschema
                $H ovsdb-server $D/conf.db --remote=punix:$D/db.sock \
                    --no-chdir --pidfile=$D/ovsdb-server.pid \
                    --unixctl=$D/ovsdb.ctl --log-file=$D/ovsdb-server.log --detach
            fi
            $VS --no-wait init
            $H $BUILD/vswitchd/hvs-vswitchd --rundir=$D --log-file --pidfile \
                --detach 2>/dev/null
            $VS add-br br-phy -- add-port br-phy u$i
            ip -n ${P}hv$i addr add 10.99.0.$i/24 dev br-phy
            ip -n ${P}hv$i link set br-phy mtu 1600 up
            $VS add-br br-int -- add-port br-int vif$i -- add-port br-int vx0 \
                -- set interface vx0 type=vxlan options:remote_ip=10.99.0.$j \
                options:key=42
        done ;;
    esac
}

switch_down() {
    case $SW_KIND in
    kernel)
        for i in 1 2; do
            ip -n ${P}hv$i link del br0; ip -n ${P}hv$i link del vx0
        done ;;
    ovs|ovs-notso)
        for i in 1 2; do
            D=$R/ovs-hv$i
            n=$(grep -c "TSO is not supported" $D/ovs-vswitchd.log)
            [ "$n" != 0 ] && echo "    ($SW_KIND: ovs-vswitchd.log on hv$i" \
                "says \"Tunneling packets with TSO is not supported\" $n times)" >&2
            for p in ovs-vswitchd ovsdb-server; do
                [ -f $D/$p.pid ] && kill $(cat $D/$p.pid)
            done
        done
        sleep 1
        for i in 1 2; do
            for l in br-int br-phy ovs-netdev; do
                ip -n ${P}hv$i link del $l 2>/dev/null
            done
            rm -rf $R/ovs-hv$i
            ip netns exec ${P}vm$i ethtool -K eth0 tx on >/dev/null 2>&1
        done ;;
    hvs)
        for i in 1 2; do
            D=$R/hvs-hv$i
            # Which path the measured packets took: a run whose packets
            # fell back to the host stack did not measure the fast path.
            c=$(ip netns exec ${P}hv$i ovs-appctl -t $D/hvs-dpd.ctl tnl/stats \
                2>/dev/null | awk '$1 ~ /^(encap|decap|socket_tx|socket_rx):$/ {
                    printf " %s%s", $1, $2 }')
            echo "    hvs: hv$i tunnel counters:${c:- (none)}" >&2
            for p in hvs-vswitchd hvs-ovsdb ovsdb-server hvs-dpd; do
                [ -f $D/$p.pid ] && kill $(cat $D/$p.pid)
            done
        done
        sleep 1
        for i in 1 2; do ip -n ${P}hv$i link del br-phy 2>/dev/null; done ;;
    esac
    SW_KIND=""
}

# ---- measuring ------------------------------------------------------------

retrans() {     # TCP segments vm1 retransmitted so far
    ip netns exec ${P}vm1 nstat -az TcpRetransSegs 2>/dev/null \
        | awk '/TcpRetransSegs/ {print $2}'
}

measure() {     # prints "rtt_ms tcp_gbps udp64_kpps"
    local V1="ip netns exec ${P}vm1" V2="ip netns exec ${P}vm2"
    local rtt tcp r0 r1 runs="" t0 t1 ok=0
    for k in $(seq 1 20); do
        $V1 ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1 && { ok=1; break; }
    done
    [ $ok = 1 ] || { echo "    $SW_KIND: vm1 cannot reach vm2" >&2; echo "nan 0 0"; return; }
    $V2 ping -c 3 -i 0.2 10.77.0.1 >/dev/null 2>&1
    rtt=$($V1 ping -c 200 -i 0.005 -q 10.77.0.2 | awk -F/ '/rtt/ {print $5}')
    # TCP between namespaces on a small machine swings with scheduling:
    # the median of three runs.
    t0=$(retrans)
    for i in 1 2 3; do
        $V2 iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.5
        runs="$runs $($V1 timeout $((T + 10)) iperf3 -c 10.77.0.2 -t $T -J 2>/dev/null \
          | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo 0)"
    done
    t1=$(retrans)
    tcp=$(echo $runs | tr ' ' '\n' | sort -n | sed -n 2p)
    echo "    tcp runs (Gbit/s):$runs; vm1 TcpRetransSegs +$(( ${t1:-0} - ${t0:-0} ))" >&2
    $V1 ping -c 2 -i 0.2 10.77.0.2 >/dev/null 2>&1
    r0=$($V2 cat /sys/class/net/eth0/statistics/rx_packets)
    $V1 timeout $T trafgen --dev eth0 --conf $R/udp64.trafgen --cpus 1 -q \
        >/dev/null 2>&1
    sleep 0.5
    r1=$($V2 cat /sys/class/net/eth0/statistics/rx_packets)
    echo "${rtt:-nan} ${tcp:-0} $(( (r1 - r0) / T / 1000 ))"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RES
for kind in $KINDS; do
    echo "bench: measuring $kind for ${T}s per test..." >&2
    switch_up $kind; sleep 2
    RES[$kind]=$(measure)
    switch_down
    echo "  $kind: rtt_ms tcp_gbps udp64_kpps = ${RES[$kind]}" >&2
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: load average before: $LOAD0, after: $LOAD1" >&2

for k in kernel ovs hvs; do
    case " $KINDS " in *" $k "*) ;; *) NO_RECORD=1 ;; esac
done
[ -n "${NO_RECORD:-}" ] && exit 0

ratio() { python3 -c "a,b=float('$1'),float('$2'); print('%.2f' % (a/b) if b else 'n/a')"; }
read kr kt ku <<<"${RES[kernel]}"; read or ot ou <<<"${RES[ovs]}"
read hr ht hu <<<"${RES[hvs]}"
read cr ct cu <<<"${RES[hvs-kc]:-nan 0 0}"
read nr nt nu <<<"${RES[ovs-notso]:-nan 0 0}"
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
REV=$(git -C $ROOT rev-parse --short HEAD)
[ -n "$(git -C $ROOT status --porcelain -- datapath lib 2>/dev/null)" ] \
    && REV="$REV + working tree"
{
echo
echo "### $(date -u +%Y-%m-%d) tunnel benchmark (VXLAN, topo2), ${T}s per test, $(nproc) cores ($CPU)"
echo
echo "Command: \`HVS_BUILD=$BUILD bench/tunnel.sh $T\` (commit $REV)"
echo
echo "| switch on each hypervisor | ping RTT ms | TCP Gbit/s (median of 3) | UDP 64B kpps received |"
echo "| --- | --- | --- | --- |"
echo "| Linux VXLAN device + bridge | $kr | $kt | $ku |"
echo "| OVS 3.1 userspace tunnel (TSO on) | $or | $ot | $ou |"
echo "| OVS 3.1 userspace tunnel (TSO off, VMs' tx checksum offload off) | $nr | $nt | $nu |"
echo "| hvs (br-phy + br-int, NORMAL), --kernel-cache=off | $hr | $ht | $hu |"
echo "| hvs, kernel flow cache on (the default; same layout) | $cr | $ct | $cu |"
echo "| ratio hvs/kernel | $(ratio $kr $hr) (RTT, inverse) | $(ratio $ht $kt) | $(ratio $hu $ku) |"
echo "| ratio hvs/OVS (TSO on) | $(ratio $or $hr) (RTT, inverse) | $(ratio $ht $ot) | $(ratio $hu $ou) |"
echo "| ratio hvs/OVS (TSO off) | $(ratio $nr $hr) (RTT, inverse) | $(ratio $ht $nt) | $(ratio $hu $nu) |"
echo "| ratio hvs kernel cache/kernel | $(ratio $kr $cr) (RTT, inverse) | $(ratio $ct $kt) | $(ratio $cu $ku) |"
echo "| ratio hvs kernel cache/OVS (TSO on) | $(ratio $or $cr) (RTT, inverse) | $(ratio $ct $ot) | $(ratio $cu $ou) |"
echo
echo "Load average before the run $LOAD0, after $LOAD1."
} | tee -a $HERE/RESULTS.md
