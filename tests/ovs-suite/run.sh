#!/bin/bash
# Runs Open vSwitch's kmod system test suite against hvs-dpd and writes
# tests/ovs-suite/RESULTS.md.
#
# Usage: tests/ovs-suite/run.sh [OPTION]... [TEST]...
#
#   TEST               autotest test numbers or ranges ("1 5 9-11"), or one
#                      of the named sets below; default: all
#   --build=DIR        hvs build directory holding datapath/hvs-dpd and
#                      shim/libhvs-nlshim.so (default $HVS_BUILD, else build)
#   --work=DIR         where the OVS source is unpacked and configured
#                      (default BUILD/ovs-suite)
#   --results=FILE     the report (default tests/ovs-suite/RESULTS.md;
#                      "-" for none)
#   --offloads=on|off  leave veth offloads on (default, as the kmod suite
#                      does) or turn transmit offloads off
#   --no-install       do not apt-get install missing packages; exit 77 if
#                      any is missing
#   --list             list the tests and exit
#
# Named sets (resolved by test name, so they survive renumbering):
#   first   the plain forwarding, VXLAN, interface and QoS tests
#   fast    the plain forwarding tests that pass on hvs-dpd (make check)
#   all     every test of the suite
#
# Exit status: 0 if no test failed, 1 if some failed, 77 if the suite
# could not be set up (missing packages, not root).  The suite itself comes
# from Debian's openvswitch-source at test time; nothing of Open vSwitch is
# kept in this repository.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${HVS_BUILD:-$ROOT/build}
WORK=
RESULTS=$HERE/RESULTS.md
OFFLOADS=on
INSTALL=yes
LIST=no
TESTS=()
CMDLINE="tests/ovs-suite/run.sh $*"

die() {
    echo "run.sh: $*" >&2
    exit 1
}

skip() {
    echo "run.sh: cannot run the suite: $*" >&2
    exit 77
}

for arg; do
    case $arg in
        --build=*) BUILD=${arg#--build=} ;;
        --work=*) WORK=${arg#--work=} ;;
        --results=*) RESULTS=${arg#--results=} ;;
        --offloads=on|--offloads=off) OFFLOADS=${arg#--offloads=} ;;
        --no-install) INSTALL=no ;;
        --list) LIST=yes ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
                   exit 0 ;;
        -*) die "unknown option $arg" ;;
        *) TESTS+=("$arg") ;;
    esac
done
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || die "no build directory $BUILD"
WORK=${WORK:-$BUILD/ovs-suite}
DPD=$BUILD/datapath/hvs-dpd
SHIM=$BUILD/shim/libhvs-nlshim.so
[ -x "$DPD" ] || die "$DPD not built"
[ -f "$SHIM" ] || die "$SHIM not built"
[ "$(id -u)" = 0 ] || skip "the suite needs root (network namespaces)"

# Debian packages: the suite itself, the Open vSwitch binaries under test,
# autoconf for autom4te, and the tools the tests call.  Tests whose tool is
# missing skip themselves, but these are all in Debian.
PACKAGES="openvswitch-source openvswitch-switch openvswitch-common autoconf
    make gcc libssl-dev python3 tcpdump netcat-openbsd wget curl lftp
    python3-pyftpdlib net-tools ethtool iproute2 iputils-ping iptables"
missing=
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
        grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ $INSTALL = yes ] || skip "packages not installed:$missing"
    echo "run.sh: installing$missing" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing \
            >"$BUILD/ovs-suite-apt.log" 2>&1; then
        apt-get update -q >>"$BUILD/ovs-suite-apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing \
            >>"$BUILD/ovs-suite-apt.log" 2>&1 ||
            skip "apt-get install$missing failed (see" \
                 "$BUILD/ovs-suite-apt.log)"
    fi
fi

# Unpack and configure once per tarball; configure takes ~25 s, no compile
# is needed because the suite runs Debian's installed binaries.
TARBALL=/usr/src/openvswitch/openvswitch.tar.gz
[ -f "$TARBALL" ] || skip "$TARBALL missing"
SRC=$WORK/openvswitch
STAMP=$WORK/.configured
if [ ! -f "$STAMP" ] || [ "$TARBALL" -nt "$STAMP" ]; then
    echo "run.sh: unpacking and configuring $TARBALL in $WORK" >&2
    rm -rf "$WORK"
    mkdir -p "$WORK"
    tar -C "$WORK" -xzf "$TARBALL" || die "cannot unpack $TARBALL"
    [ -d "$SRC" ] || die "$TARBALL has no openvswitch/ directory"
    (cd "$SRC" && PYTHON3=/usr/bin/python3 ./configure) \
        >"$WORK/configure.log" 2>&1 ||
        die "configure failed, see $WORK/configure.log"
    touch "$STAMP"
fi

# Build the suite: the kmod suite's .at files plus our overrides.
SUITE=$SRC/tests/system-hvs-testsuite
if [ ! -x "$SUITE" ] || [ "$HERE/hvs-macros.at" -nt "$SUITE" ] ||
   [ "$HERE/system-hvs-testsuite.at" -nt "$SUITE" ] ||
   [ "$STAMP" -nt "$SUITE" ]; then
    (cd "$SRC" && autom4te --language=autotest -I "$HERE" -I . \
        -o tests/system-hvs-testsuite "$HERE/system-hvs-testsuite.at") ||
        die "autom4te failed"
fi

cd "$SRC/tests" || die "no $SRC/tests"
LISTING=$WORK/tests.txt
./system-hvs-testsuite -l | sed -n 's/^ *\([0-9][0-9]*\): \([^ ]*\) \(.*\)$/\1\t\2\t\3/p' \
    >"$LISTING"
if [ $LIST = yes ]; then
    cat "$LISTING"
    exit 0
fi

# Named sets, by test name.
FIRST_NAMES="datapath - ping between two ports
datapath - http between two ports
datapath - ping6 between two ports
datapath - ping6 between two ports IPv6 later fragments
datapath - ping6 between two ports with header modify
datapath - ping over vxlan tunnel
datapath - ping vlan over vxlan tunnel
datapath - ping over vxlan6 tunnel
datapath - clone action
datapath - basic truncate action
datapath - configure cache size
datapath - simulated flow action update
QoS - basic configuration
FTP - no conntrack
IGMP - flood under normal action
interface - add delete add same interface
interface - add route to br and verify clean-up"
FAST_NAMES="datapath - ping between two ports
datapath - http between two ports
datapath - ping6 between two ports
datapath - ping6 between two ports IPv6 later fragments
datapath - ping6 between two ports with header modify
datapath - clone action
datapath - simulated flow action update
IGMP - flood under normal action"

# numbers_of NAMES: the test numbers of the tests named, one a line.
numbers_of() {
    printf '%s\n' "$1" | awk -F'\t' '
        FNR == NR { num[$3] = $1; next }
        !($0 in num) { print "run.sh: no test named \"" $0 "\"" > "/dev/stderr"
                       bad = 1; next }
        { print num[$0] }
        END { exit bad }' "$LISTING" -
}

SELECT=()
[ ${#TESTS[@]} -gt 0 ] || TESTS=(all)
for t in "${TESTS[@]}"; do
    case $t in
        first|fast)
            [ $t = first ] && names=$FIRST_NAMES || names=$FAST_NAMES
            nums=$(numbers_of "$names") || exit 1
            SELECT+=($nums) ;;
        all) SELECT+=($(cut -f1 "$LISTING")) ;;
        [0-9]*) SELECT+=("$t") ;;
        *) die "unknown test or set '$t'" ;;
    esac
done

# Leftovers of an interrupted run would break the next one (names of
# namespaces and devices are fixed in the suite).
for ns in $(ip netns list 2>/dev/null | awk '/^at_ns[0-9]/ { print $1 }'); do
    ip netns del "$ns"
done
ip link del ovs-system >/dev/null 2>&1
# The bridges are named br0 and br1 in the host namespace: a live device of
# that name (another datapath or switch) would fail every test.
for dev in br0 br1 ovs-system; do
    ! ip link show "$dev" >/dev/null 2>&1 ||
        die "a host interface $dev exists (another switch running?)"
done

LOGDIR=$WORK/hvs-logs
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
echo "run.sh: running ${#SELECT[@]} test(s) with hvs-dpd from $BUILD" >&2
start=$(date +%s)
./system-hvs-testsuite -j1 "${SELECT[@]}" \
    AUTOTEST_PATH=/usr/sbin:/usr/bin:$SRC/tests \
    HVS_DPD="$DPD" HVS_NLSHIM_LIB="$SHIM" HVS_OVS_LOGDIR="$LOGDIR" \
    HVS_VETH_OFFLOADS="$OFFLOADS"
rc=$?
secs=$(($(date +%s) - start))

if [ "$RESULTS" != - ]; then
    /usr/bin/python3 "$HERE/results.py" \
        --log="$SRC/tests/system-hvs-testsuite.log" \
        --dir="$SRC/tests/system-hvs-testsuite.dir" \
        --src="$SRC/tests" --listing="$LISTING" \
        --causes="$HERE/known-causes.txt" --sanitizer-dir="$LOGDIR" \
        --command="$CMDLINE" --seconds=$secs --offloads=$OFFLOADS \
        --out="$RESULTS" --selected="${SELECT[*]}" ||
        die "cannot write $RESULTS"
    echo "run.sh: wrote $RESULTS" >&2
fi
[ $rc = 0 ] && exit 0
exit 1
