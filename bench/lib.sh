# Shared by the benchmarks: a topology of two "VMs" (namespaces A and B)
# wired by veth to a switch namespace, and the switches to compare.
# Source it after setting T (seconds per test) and HERE (this folder).

ROOT=$(dirname "$HERE")
BUILD=${HVS_BUILD:-$ROOT/build}
P=hvb$$                       # namespace / interface prefix
A=${P}A; B=${P}B; SW=${P}sw
R=/tmp/$P; mkdir -p $R

need() { command -v "$1" >/dev/null || MISSING="$MISSING $2"; }
MISSING=""
need trafgen netsniff-ng; need iperf3 iperf3; need ovs-vsctl openvswitch-switch
if [ -n "$MISSING" ]; then
    echo "bench: installing$MISSING"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $MISSING >/dev/null
fi
[ -x "$BUILD/datapath/hvs-dpd" ] || { echo "bench: build first (make)"; exit 1; }

cleanup() {
    switch_down 2>/dev/null
    ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
    ip netns del $SW 2>/dev/null
    rm -rf $R
}
trap cleanup EXIT INT TERM

# Topology: the switch lives in its own namespace so hvs-dpd and OVS run
# exactly as they would on a host.
ip netns add $A; ip netns add $B; ip netns add $SW
ip -n $SW link set lo up
for n in a b; do
    NS=$([ $n = a ] && echo $A || echo $B)
    IP=10.78.0.$([ $n = a ] && echo 1 || echo 2)
    ip link add $n-s netns $SW type veth peer name eth0 netns $NS
    ip -n $NS addr add $IP/24 dev eth0
    ip -n $NS link set eth0 address 02:78:00:00:00:0$([ $n = a ] && echo 1 || echo 2)
    ip -n $NS link set eth0 up; ip -n $NS link set lo up
    ip -n $SW link set $n-s up
done
cat > $R/udp64.trafgen <<'TG'
{
  0x02, 0x78, 0x00, 0x00, 0x00, 0x02,  0x02, 0x78, 0x00, 0x00, 0x00, 0x01,
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 78, 0, 1,  10, 78, 0, 99,
  0x04, 0x00, 0x04, 0x01, 0x00, 0x1a, 0x00, 0x00,
  fill(0x00, 18),
}
TG

SW_KIND=""
switch_up() {
    SW_KIND=$1
    # The -kc kinds: the same switch with hvs-dpd's kernel flow cache.
    local kc=--kernel-cache=off     # hvs-dpd defaults to on
    case $1 in *-kc) kc=--kernel-cache; SW_KIND=${1%-kc} ;; esac
    case $SW_KIND in
    bridge)
        ip -n $SW link add br0 type bridge
        ip -n $SW link set a-s master br0; ip -n $SW link set b-s master br0
        ip -n $SW link set br0 up ;;
    ovs)
        O="env OVS_RUNDIR=$R/ovs OVS_LOGDIR=$R/ovs OVS_DBDIR=$R/ovs ip netns exec $SW"
        mkdir -p $R/ovs
        VS="$O ovs-vsctl --db=unix:$R/ovs/db.sock"
        $O ovsdb-tool create $R/ovs/conf.db /usr/share/openvswitch/vswitch.ovsschema
        $O ovsdb-server $R/ovs/conf.db --remote=punix:$R/ovs/db.sock \
            --pidfile=$R/ovs/ovsdb-server.pid --detach --no-chdir \
            --log-file=$R/ovs/ovsdb-server.log
        $VS --no-wait init
        $VS --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true
        $O /usr/lib/openvswitch-switch/ovs-vswitchd unix:$R/ovs/db.sock \
            --pidfile=$R/ovs/ovs-vswitchd.pid --detach --no-chdir \
            --log-file=$R/ovs/ovs-vswitchd.log 2>/dev/null
        $VS add-br br0 -- set bridge br0 datapath_type=netdev
        $VS add-port br0 a-s; $VS add-port br0 b-s
        ip -n $SW link set br0 up 2>/dev/null ;;
    hvs)
        mkdir -p $R/hvs
        ip netns exec $SW $BUILD/datapath/hvs-dpd --rundir=$R/hvs \
            --log-file=$R/hvs/hvs-dpd.log --pidfile --detach $kc
        D="ip netns exec $SW env HVS_RUNDIR=$R/hvs LD_PRELOAD=$BUILD/shim/libhvs-nlshim.so ovs-dpctl"
        $D add-dp dp0 2>/dev/null
        $D add-if dp0 a-s 2>/dev/null; $D add-if dp0 b-s 2>/dev/null
        for t in "0x0806),arp()" "0x0800),ipv4()"; do
            $D add-flow dp0 "in_port(1),eth(),eth_type($t" 2 2>/dev/null
            $D add-flow dp0 "in_port(2),eth(),eth_type($t" 1 2>/dev/null
        done ;;
    hvs-normal)
        # hvs-dpd + hvs-vswitchd, configured with the real ovs-vsctl; the
        # database is Debian's ovsdb-server until hvs-ovsdb is the default.
        mkdir -p $R/hvsn
        O="ip netns exec $SW"
        VS="$O ovs-vsctl --db=unix:$R/hvsn/db.sock"
        ovsdb-tool create $R/hvsn/conf.db /usr/share/openvswitch/vswitch.ovsschema
        $O ovsdb-server $R/hvsn/conf.db --remote=punix:$R/hvsn/db.sock \
            --pidfile=$R/hvsn/ovsdb-server.pid --detach --no-chdir \
            --unixctl=$R/hvsn/ovsdb-server.ctl --log-file=$R/hvsn/ovsdb-server.log
        $VS --no-wait init
        $O $BUILD/datapath/hvs-dpd --rundir=$R/hvsn --log-file --pidfile --detach $kc
        $O $BUILD/vswitchd/hvs-vswitchd unix:$R/hvsn/db.sock --rundir=$R/hvsn \
            --log-file --pidfile --detach
        $VS add-br br0; $VS add-port br0 a-s; $VS add-port br0 b-s ;;
    esac
}

switch_down() {
    case $SW_KIND in
    bridge) ip -n $SW link del br0 ;;
    ovs) for p in ovs-vswitchd ovsdb-server; do
             [ -f $R/ovs/$p.pid ] && kill $(cat $R/ovs/$p.pid); done
         sleep 1; ip -n $SW link del br0 2>/dev/null
         ip -n $SW link del ovs-netdev 2>/dev/null ;;
    hvs) kill $(cat $R/hvs/hvs-dpd.pid); sleep 1 ;;
    hvs-normal) for p in hvs-vswitchd ovsdb-server hvs-dpd; do
             [ -f $R/hvsn/$p.pid ] && kill $(cat $R/hvsn/$p.pid); done
         # A fresh database for the next kind (hvs-normal-kc after it).
         sleep 1; rm -rf $R/hvsn ;;
    esac
    SW_KIND=""
}

measure() {   # prints "rtt_ms tcp_gbps udp64_kpps"
    ip netns exec $B ping -c 3 -i 0.2 10.78.0.1 >/dev/null 2>&1
    local rtt tcp r0 r1
    rtt=$(ip netns exec $A ping -c 200 -i 0.005 -q 10.78.0.2 | awk -F/ '/rtt/ {print $5}')
    # TCP between namespaces on a small VM swings with scheduling: the
    # median of three runs.
    local runs=""
    for i in 1 2 3; do
        ip netns exec $B iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.5
        runs="$runs $(ip netns exec $A timeout $((T+10)) iperf3 -c 10.78.0.2 -t $T -J 2>/dev/null \
          | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo 0)"
    done
    tcp=$(echo $runs | tr ' ' '\n' | sort -n | sed -n 2p)
    echo "    tcp runs (Gbit/s):$runs" >&2
    ip netns exec $A ping -c 2 -i 0.2 10.78.0.2 >/dev/null 2>&1
    # 64-byte packets: the median of three runs too (the generator and the
    # switch share the 2 CPUs, so single runs swing by 20%).
    local pps=""
    for i in 1 2 3; do
        r0=$(ip netns exec $B cat /sys/class/net/eth0/statistics/rx_packets)
        ip netns exec $A timeout $T trafgen --dev eth0 --conf $R/udp64.trafgen --cpus 1 -q >/dev/null 2>&1
        r1=$(ip netns exec $B cat /sys/class/net/eth0/statistics/rx_packets)
        pps="$pps $(( (r1-r0)/T/1000 ))"
    done
    echo "    udp64 runs (kpps):$pps" >&2
    echo "${rtt:-nan} ${tcp:-0} $(echo $pps | tr ' ' '\n' | sort -n | sed -n 2p)"
}

