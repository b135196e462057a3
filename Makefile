# viplb top-level Makefile.
#
#   make          build the module (against Debian's kernel headers), the XDP
#                 program (bpf/) and the user tools
#   make check    deps, build, host unit tests, then kselftests in the VM
#   make check-ha the high-availability tests (ECMP and BGP, VRRP and
#                 conntrackd), each in a VM boot of its own (scripts/check-ha.sh)
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
#   make install  install the tools, man pages, BPF object, UAPI header,
#                 systemd units and viplb.ko (see "Install" below)
#   make uninstall   remove exactly what make install put there
#   make dkms-source  the module's DKMS source tree in $(DKMS_SRC)
#   make deb      the Debian packages viplb and viplb-dkms, built from a
#                 copy of the tree, into build/deb/
#   make deb-dkms only viplb-dkms, the same way (what make check installs)

KVER ?= $(shell scripts/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build

.PHONY: all deps module bpf user selftests check check-ha check-debug debug-kernel demo bench fuzz clean checkpatch sparse \
	install install-user install-module uninstall uninstall-user uninstall-module \
	dkms-source deb deb-dkms

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
	$(MAKE) -C selftests/host

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

check-ha: deps
	@$(MAKE) --no-print-directory all
	@scripts/check-ha.sh

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

# ------------------------------------------------------------- Install ---
#
# make install [DESTDIR=] [PREFIX=/usr/local] [KVER=]
#   install-user    the tools in $(SBINDIR) (viplb and its argv[0] names as
#                   symlinks), man pages, the BPF object in $(PKGLIBDIR),
#                   the UAPI header as <linux/viplb.h>, the systemd units
#   install-module  kmod/viplb.ko into /lib/modules/$(KVER)/updates/, then
#                   depmod (not with DESTDIR: the image is not the system)
# The BPF object is also built into the viplb binary (its libbpf skeleton),
# which loads it from there: the installed copy is for bpftool and other
# loaders.  make uninstall removes the same list (no directory that another
# package may share).

VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
INCLUDEDIR ?= $(PREFIX)/include
PKGLIBDIR ?= $(PREFIX)/lib/viplb
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MODDIR ?= /lib/modules/$(KVER)/updates
INSTALL ?= install

TOOL_LINKS := viplb-tables viplb6-tables viplb-save viplb6-save \
	      viplb-restore viplb6-restore
UNITS := viplb.service viplb-tables.service viplbd.service
# Every file install-user installs, relative to DESTDIR (install_test.sh
# lists them too).
USER_FILES := $(SBINDIR)/viplb $(addprefix $(SBINDIR)/,$(TOOL_LINKS)) \
	$(SBINDIR)/viplbd \
	$(MANDIR)/man8/viplb.8 $(MANDIR)/man8/viplb-tables.8 \
	$(MANDIR)/man8/viplbd.8 \
	$(addprefix $(MANDIR)/man8/,$(addsuffix .8,$(TOOL_LINKS))) \
	$(PKGLIBDIR)/viplb.bpf.o $(PKGLIBDIR)/viplb-xdp-attach \
	$(INCLUDEDIR)/linux/viplb.h \
	$(addprefix $(SYSTEMDUNITDIR)/,$(UNITS))

install: install-user install-module

# The units and viplb-xdp-attach name the installed tools: sed fills in
# their directories as they are installed.
SUBST_DIRS := sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@PKGLIBDIR@|$(PKGLIBDIR)|g'

install-user: user
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 user/viplb/viplb $(DESTDIR)$(SBINDIR)/viplb
	$(INSTALL) -m 0755 user/viplbd/viplbd $(DESTDIR)$(SBINDIR)/viplbd
	for l in $(TOOL_LINKS); do \
		ln -sfn viplb $(DESTDIR)$(SBINDIR)/$$l || exit; \
		ln -sfn viplb-tables.8 $(DESTDIR)$(MANDIR)/man8/$$l.8 || exit; \
	done
	$(INSTALL) -m 0644 Documentation/viplb.8 Documentation/viplb-tables.8 \
		Documentation/viplbd.8 \
		$(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 build/bpf/viplb.bpf.o $(DESTDIR)$(PKGLIBDIR)/
	$(SUBST_DIRS) systemd/viplb-xdp-attach.in >$(DESTDIR)$(PKGLIBDIR)/viplb-xdp-attach
	chmod 0755 $(DESTDIR)$(PKGLIBDIR)/viplb-xdp-attach
	$(INSTALL) -m 0644 include/uapi/linux/viplb.h $(DESTDIR)$(INCLUDEDIR)/linux/
	for u in $(UNITS); do \
		$(SUBST_DIRS) systemd/$$u.in >$(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit; \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; \
	done

install-module: module
	$(INSTALL) -d $(DESTDIR)$(MODDIR)
	$(INSTALL) -m 0644 kmod/viplb.ko $(DESTDIR)$(MODDIR)/
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall: uninstall-user uninstall-module

uninstall-user:
	rm -f $(addprefix $(DESTDIR),$(USER_FILES))
	-rmdir $(DESTDIR)$(PKGLIBDIR)

uninstall-module:
	@test -n "$(KVER)" || { echo "no KVER: say which kernel (KVER=...)" >&2; exit 1; }
	rm -f $(DESTDIR)$(MODDIR)/viplb.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

# The module's DKMS source: what Kbuild builds (Kbuild, kmod/, include/,
# VERSION for MODULE_VERSION) and dkms.conf, with VERSION filled in.
# `make dkms-source` then `dkms install viplb/$(VERSION)` is the DKMS route
# from the tree; the viplb-dkms package is made of the same target.
DKMS_SRC ?= /usr/src/viplb-$(VERSION)
DKMS_FILES := VERSION Kbuild kmod/Kbuild $(filter-out %.mod.c,$(wildcard kmod/*.c)) \
	$(wildcard kmod/*.h) include/uapi/linux/viplb.h $(wildcard include/viplb/*.h)

dkms-source:
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRC)
	for f in $(DKMS_FILES); do \
		$(INSTALL) -D -m 0644 $$f $(DESTDIR)$(DKMS_SRC)/$$f || exit; \
	done
	sed 's|#MODULE_VERSION#|$(VERSION)|g' dkms.conf.in >$(DESTDIR)$(DKMS_SRC)/dkms.conf

# The .debs, built in build/deb/viplb-$(VERSION)/ from a copy of the files
# git knows of (tracked, and untracked but not ignored: uncommitted edits
# are in), so that the build leaves the checkout as it was.  Output:
# build/deb/*.deb (dpkg-buildpackage writes beside the source directory).
# make deb-dkms builds viplb-dkms alone (no compiling: seconds).
DEB_DIR := build/deb
deb: DEB_BUILD := -b
deb-dkms: DEB_BUILD := -A
deb deb-dkms:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/viplb-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/viplb-$(VERSION)
	cd $(DEB_DIR)/viplb-$(VERSION) && \
		DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-parallel=2}" \
		dpkg-buildpackage $(DEB_BUILD) -uc -us
	@ls $(DEB_DIR)/*.deb

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C bpf clean
	-$(MAKE) -C user clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C fuzz clean
	-$(MAKE) -C bench/insn clean
