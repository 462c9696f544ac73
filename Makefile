# Thin wrapper around meson/ninja: the two commands a new user needs are
# `make demo` and `make check` (see README.md).
PREFIX ?= /usr/local
BUILD ?= build
CHECK_BUILD ?= build-check
GCC_BUILD ?= build-gcc

.PHONY: all deps install check check-unit check-system check-fuzz check-ovs \
	demo clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	@command -v meson >/dev/null || scripts/deps.sh
	meson setup $(BUILD) --prefix=$(PREFIX)

deps:
	scripts/deps.sh

# The prefix is baked into the programs (where hvs finds the daemons,
# where hvs-nlshim finds its library), so changing it rebuilds first.
# DESTDIR=DIR stages the files below DIR (for packaging).
install: $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	ninja -C $(BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

# Installs missing Debian packages, builds from scratch under ASan+UBSan
# (clang, with the fuzz targets) and warnings-clean with gcc, then runs the
# unit, system and fuzz tests.  The last line is "N passed, N failed".
check:
	scripts/check.sh

# One layer of `make check` again, on the build `make check` left in
# $(CHECK_BUILD) (no rebuild, no package installs).  HVS_FUZZ_SECONDS=N
# sets each fuzz target's run time (default 20).
check-unit check-system check-fuzz:
	@test -f $(CHECK_BUILD)/build.ninja || \
	    { echo "$(CHECK_BUILD) missing: run 'make check' once"; exit 1; }
	python3 tests/run-tests.py --build $(CHECK_BUILD) --only $(@:check-%=%)

# Runs Open vSwitch's own kmod system test suite (from Debian's
# openvswitch-source, fetched at test time) against hvs-dpd and rewrites
# tests/ovs-suite/RESULTS.md; about 15 minutes.  OVS_TESTS= picks tests
# (numbers, ranges, or the sets "first", "fast", "all").
OVS_TESTS ?= all
check-ovs: $(BUILD)/build.ninja
	ninja -C $(BUILD) datapath/hvs-dpd shim/libhvs-nlshim.so
	tests/ovs-suite/run.sh --build=$(BUILD) $(OVS_TESTS)

# Two hypervisors (namespaces) running hvs, a VM on each, pinging across a
# VXLAN tunnel; builds first, cleans up after, says what it showed.
demo:
	scripts/demo.sh

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(GCC_BUILD)
