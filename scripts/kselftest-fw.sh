#!/bin/sh
# Extract the kernel's kselftest framework (lib.mk, kselftest.h,
# kselftest_harness.h, kselftest/runner.sh ...) and checkpatch.pl from
# Debian's linux-source-6.1 into build/linux/.  Nothing of it is kept in the
# repository.  Usage: scripts/kselftest-fw.sh [OUTDIR]
set -eu
out=${1:-$(dirname "$0")/../build/linux}
src=/usr/src/linux-source-6.1.tar.xz
stamp="$out/.extracted"
[ -e "$stamp" ] && exit 0
[ -r "$src" ] || { echo "kselftest-fw.sh: $src missing (run scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$out"
tar -xJf "$src" -C "$out" --strip-components=1 \
	linux-source-6.1/tools/testing/selftests/lib.mk \
	linux-source-6.1/tools/testing/selftests/kselftest.h \
	linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
	linux-source-6.1/tools/testing/selftests/kselftest_module.h \
	linux-source-6.1/tools/testing/selftests/kselftest \
	linux-source-6.1/tools/testing/selftests/run_kselftest.sh \
	linux-source-6.1/scripts/checkpatch.pl \
	linux-source-6.1/scripts/spelling.txt \
	linux-source-6.1/scripts/const_structs.checkpatch \
	linux-source-6.1/.clang-format
touch "$stamp"
