# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Sourced first by the host XDP tests (before lib.sh, which makes their
# temporary files).  viplb pins in the bpffs of pid 1's mount namespace,
# and the first attach mounts one there if there is none.  A test runs as
# pid 1 of a pid and mount namespace of its own, a private copy of the
# host's mounts: what viplb mounts goes away with the test, and the host's
# bpffs is never written.  After lib.sh, xdp_ns_check drops the copy of
# the host's bpffs, if it has one, so that the test starts as a fresh
# machine does: no bpffs on /sys/fs/bpf.

if [ "${VIPLB_XDP_NS:-}" != "$0" ]; then
	export VIPLB_XDP_NS="$0"
	exec unshare --pid --mount-proc --kill-child=TERM \
		--propagation private "$0" "$@"
fi

xdp_ns_check()
{
	[ $$ -eq 1 ] || bail "not pid 1 of a pid namespace (unshare --pid)"
	while [ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ]; do
		umount -l /sys/fs/bpf || bail "umount our copy of /sys/fs/bpf"
	done
}
