#!/bin/bash
# `make demo`: the seed's demo on one Linux host.  Two "hypervisors"
# (network namespaces) joined by an underlay link, one "VM" on each; each
# hypervisor runs hvs-dpd, an OVSDB server and hvs-vswitchd, configured with
# the commands an operator types; the VMs ping across a VXLAN tunnel whose
# endpoint (VTEP) address lives on the internal port of bridge br-phy, as
# in Open vSwitch for Hyper-V.  Everything is removed at the end.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HVS_BUILD:-$ROOT/build}
P=hvd$$
R=/tmp/$P
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }

cleanup() {
    for i in 1 2; do
        for d in hvs-vswitchd ovsdb-server hvs-ovsdb hvs-dpd; do
            [ -f $R/hv$i/$d.pid ] && kill $(cat $R/hv$i/$d.pid) 2>/dev/null
        done
    done
    sleep 1
    for n in hv1 hv2 vm1 vm2; do ip netns del $P$n 2>/dev/null; done
    rm -rf $R
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "make demo: run as root (network namespaces)"; exit 1; }
step "Installing what the demo needs and building hvs"
"$ROOT/scripts/deps.sh" >/dev/null || exit 1
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null || exit 1
ninja -C "$BUILD" >/dev/null || { echo "build failed"; exit 1; }
say "built in $BUILD"

step "Two hypervisors hv1/hv2 on an underlay (10.99.0.0/24), one VM on each (10.77.0.0/24)"
mkdir -p $R/hv1 $R/hv2
for n in hv1 hv2 vm1 vm2; do
    ip netns add $P$n; ip -n $P$n link set lo up
    # IPv4 only, so that the proof below is not IPv6 chatter.
    ip netns exec $P$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
done
ip link add u1 netns ${P}hv1 type veth peer name u2 netns ${P}hv2
for i in 1 2; do
    # Room for VXLAN's 50 bytes above the VMs' 1500-byte MTU.
    ip -n ${P}hv$i link set u$i mtu 1600 up
    # The VM's NIC: its host side gets a hypervisor-ish name.
    ip link add vif$i netns ${P}hv$i type veth peer name eth0 netns ${P}vm$i
    ip -n ${P}vm$i addr add 10.77.0.$i/24 dev eth0
    ip -n ${P}vm$i link set eth0 address 02:77:00:00:00:0$i
    ip -n ${P}vm$i link set eth0 up
    ip -n ${P}hv$i link set vif$i up
done
say "hv1: uplink u1, VM NIC vif1 -> vm1 10.77.0.1"
say "hv2: uplink u2, VM NIC vif2 -> vm2 10.77.0.2"

OVSDB=$BUILD/ovsdb/hvs-ovsdb
for i in 1 2; do
    j=$((3 - i))
    H="ip netns exec ${P}hv$i"
    VSCTL="$H ovs-vsctl --db=unix:$R/hv$i/db.sock --timeout=20"
    step "hv$i: starting hvs-dpd, the database and hvs-vswitchd"
    $H $BUILD/datapath/hvs-dpd --rundir=$R/hv$i --log-file --pidfile --detach || exit 1
    if [ -x $OVSDB ]; then
        $H $OVSDB $R/hv$i/conf.db --rundir=$R/hv$i --log-file --pidfile --detach || exit 1
    else
        ovsdb-tool create $R/hv$i/conf.db /usr/share/openvswitch/vswitch.ovsschema
        $H ovsdb-server $R/hv$i/conf.db --remote=punix:$R/hv$i/db.sock --no-chdir \
            --pidfile=$R/hv$i/ovsdb-server.pid --unixctl=$R/hv$i/ovsdb.ctl \
            --log-file=$R/hv$i/ovsdb-server.log --detach || exit 1
    fi
    $VSCTL --no-wait init
    $H $BUILD/vswitchd/hvs-vswitchd --rundir=$R/hv$i --log-file --pidfile --detach || exit 1
    say "running; logs and sockets in $R/hv$i"

    step "hv$i: what an operator types"
    cmds=(
      "hvs vm set-port-name vif$i vm$i"
      "ovs-vsctl add-br br-phy -- add-port br-phy u$i"
      "ip addr add 10.99.0.$i/24 dev br-phy && ip link set br-phy mtu 1600 up"
      "ovs-vsctl add-br br-int -- add-port br-int vm$i"
      "ovs-vsctl add-port br-int vx0 -- set interface vx0 type=vxlan options:remote_ip=10.99.0.$j options:key=42"
    )
    for c in "${cmds[@]}"; do
        say "\$ $c"
        c=${c//ovs-vsctl/ovs-vsctl --db=unix:$R/hv$i/db.sock --timeout=20}
        c=${c//hvs vm/$BUILD/cli/hvs --rundir=$R/hv$i vm}
        $H bash -c "$c" || { echo "failed: $c"; exit 1; }
    done
done

step "vm1 pings vm2 across the VXLAN tunnel"
# Inner ICMP echo requests only: VXLAN payload starts 50 bytes into the
# outer UDP datagram's IP header + 8 (UDP) ...: match udp dst 4789 and the
# inner IP protocol 1 at a fixed offset (outer IPv4 without options).
ip netns exec ${P}hv2 timeout 20 tcpdump -i u2 -c 1 -nn -v \
    'udp dst port 4789 and udp[39] = 1' > $R/capture.txt 2>/dev/null &
TCPDUMP=$!
sleep 1
ip netns exec ${P}vm1 ping -c 5 -i 0.3 -W 2 10.77.0.2 | tee $R/ping.txt | sed 's/^/   /'
wait $TCPDUMP 2>/dev/null

step "TCP from vm1 to vm2 across the tunnel (iperf3, 3 s, veth offloads on)"
ip netns exec ${P}vm2 iperf3 -s -1 -D -B 10.77.0.2 >/dev/null 2>&1; sleep 0.5
ip netns exec ${P}vm1 timeout 20 iperf3 -c 10.77.0.2 -t 3 -f m 2>/dev/null \
    | grep -E "receiver" | tee $R/tcp.txt | sed 's/^/   /'

step "Proof: hv1's datapath flows (hvs-dpd, shown by Debian's ovs-dpctl)"
ip netns exec ${P}hv1 env HVS_RUNDIR=$R/hv1 LD_PRELOAD=$BUILD/shim/libhvs-nlshim.so \
    ovs-dpctl dump-flows 2>/dev/null | grep -E "tunnel|vxlan" | sed 's/^/   /'
step "Proof: hv1's datapath ports and counters"
ip netns exec ${P}hv1 env HVS_RUNDIR=$R/hv1 LD_PRELOAD=$BUILD/shim/libhvs-nlshim.so \
    ovs-dpctl show -s 2>/dev/null | sed 's/^/   /'
step "Proof: hv1's tunnel counters (ovs-appctl on hvs-dpd's control socket)"
ip netns exec ${P}hv1 ovs-appctl -t $R/hv1/hvs-dpd.ctl tnl/stats \
    | tee $R/tnl-stats.txt | sed 's/^/   /'
step "Proof: hv1's kernel flow cache (packets the kernel forwarded on hvs-dpd's behalf)"
ip netns exec ${P}hv1 ovs-appctl -t $R/hv1/hvs-dpd.ctl kflow/show \
    | tee $R/kflow.txt | sed 's/^/   /'
step "Proof: one encapsulated packet on hv2's underlay"
sed 's/^/   /' $R/capture.txt

step "Summary"
if grep -q " 0% packet loss" $R/ping.txt && ! grep -q duplicates $R/ping.txt; then
    say "vm1 (hv1) reached vm2 (hv2) through hvs with VXLAN key 42: $(grep -o '[0-9]* received' $R/ping.txt), no duplicates"
    tcp=$(grep -o '[0-9.]* Mbits/sec' $R/tcp.txt)
    [ -n "$tcp" ] && say "TCP vm1 -> vm2 across the tunnel: $tcp"
    fp=$(awk '$1 == "encap:" { e = $2 } $1 == "decap:" { d = $2 }
              END { if (e != "") print "encap=" e " decap=" d }' $R/tnl-stats.txt)
    [ -n "$fp" ] && say "hv1's datapath built and stripped the outer headers itself ($fp packets), without the host stack"
    kc=$(awk '$1 == "packets:" { p = $2 } $1 == "bytes:" { b = $2 }
              END { if (p > 0) print p " packets, " b " bytes" }' $R/kflow.txt)
    [ -n "$kc" ] && say "after the first packets of each flow, the kernel repeated hvs-dpd's decisions itself (BPF at the ports' tcx hook): $kc"
    RC=0
else
    say "the ping across the tunnel FAILED; logs: $R/hv1, $R/hv2 (kept)"
    trap - EXIT
    RC=1
fi
exit $RC
