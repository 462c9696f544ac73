#!/bin/sh
# Installs the Debian packages hvs builds and tests with, if any is missing:
# one `apt-get update`, then one `apt-get install -y`.
set -eu
PKGS="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
libmnl-dev liburcu-dev libbpf-dev libjansson-dev libevent-dev libcmocka-dev
python3 python3-pytest python3-scapy iproute2 iputils-ping iperf3 ethtool
tcpdump netcat-openbsd strace procps kmod groff-base
openvswitch-common openvswitch-switch python3-openvswitch python3-os-ken"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # openvswitch-switch is a peer for interop tests only; keep its
    # service from starting inside containers without systemd.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt-get install -y --no-install-recommends $missing
    rm -f /usr/sbin/policy-rc.d
else
    echo "deps: all present"
fi
