# viplb top-level Makefile.
#
#   make          build the module (against Debian's kernel headers), the XDP
#                 program (bpf/) and the user tools
#   make check    deps, build, host unit tests, then kselftests in the VM
#   make check-debug
#                 deps, build, the debug kernel (KASAN, kmemleak, lockdep,
#                 UBSAN; cached in build/debug-kernel/) and viplb.ko for it,
#                 then the kselftests in one boot of it (scripts/check.sh --debug)
#   make debug-kernel   only build the debug kernel and its viplb.ko
#   make demo     deps, build, boot the VM and show viplb balancing a VIP,
#                 in the module and at XDP
#   make bench    viplb against IPVS, iptables and nftables in one VM boot,
#                 and the XDP fast path on the host (VIPLB_BENCH_ONLY=xdp)
#   make fuzz     libFuzzer targets of the user-space parsers (fuzz/), each run
#                 FUZZ_SECONDS (default 600); reproducers: make -C fuzz repro
#   make deps     install the Debian packages (scripts/deps.sh)
#   make checkpatch / make sparse   kernel style and sparse checks

KVER ?= $(shell scripts/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build

.PHONY: all deps module bpf user selftests check check-debug debug-kernel demo bench fuzz clean checkpatch sparse

all: module bpf user selftests

deps:
	@scripts/deps.sh

module:
	@test -n "$(KVER)" || { echo "no Debian kernel headers: run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

bpf:
	$(MAKE) -C bpf

user: bpf
	$(MAKE) -C user

selftests: user
	@scripts/kselftest-fw.sh
	$(MAKE) -C selftests

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

check-debug: deps
	@$(MAKE) --no-print-directory all
	@scripts/debug-kernel.sh >/dev/null
	@scripts/check.sh --debug

debug-kernel: deps
	@scripts/debug-kernel.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@selftests/vm/run -t 900 scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/bench.sh

fuzz: deps
	$(MAKE) -C fuzz run

checkpatch:
	@scripts/kselftest-fw.sh
	build/linux/scripts/checkpatch.pl --no-tree --ignore SPDX_LICENSE_TAG -f $(filter-out %.mod.c,$(wildcard kmod/*.c)) kmod/*.h include/uapi/linux/viplb.h

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 W=1 modules

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C bpf clean
	-$(MAKE) -C user clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C fuzz clean
