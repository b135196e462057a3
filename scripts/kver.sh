#!/bin/sh
# Print the version of the installed Debian kernel that viplb targets: the
# newest /lib/modules/<ver> that has both a build tree (linux-headers) and a
# matching /boot/vmlinuz (linux-image).  This is not `uname -r`, which is the
# host's kernel.
for d in $(ls -d /lib/modules/*/ 2>/dev/null | sort -rV); do
	v=$(basename "$d")
	if [ -e "$d/build/Makefile" ] && [ -e "/boot/vmlinuz-$v" ]; then
		echo "$v"
		exit 0
	fi
done
echo "kver.sh: no Debian kernel with headers found (run scripts/deps.sh)" >&2
exit 1
