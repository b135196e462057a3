// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin (QEMU 7.2, plugin API version 1) that
 * counts the guest's instructions and, each time the guest executes the
 * marker instruction of insn_mark.c, appends "mark SEQ COUNT" to its output
 * file (the plugin argument out=FILE, else $INSN_OUT, else stderr); "end
 * COUNT" at exit.  The count is an inline add per translated block, not
 * atomic: it refuses more than one vCPU.  Debian ships no qemu-plugin.h, so
 * the few declarations used are written out in qemu_plugin_v1.h.
 *
 *	gcc -shared -fPIC -O2 -o libinsn_count.so insn_count.c
 *	qemu-system-x86_64 -accel tcg,thread=single -smp 1 \
 *		-plugin libinsn_count.so,out=FILE ...
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_v1.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

/*
 * The marker: nopw 0x7669706c(%rax,%rax,1), a 9-byte no-op that compilers
 * do not emit (they pad with displacements of 0).  Keep in sync with
 * insn_mark.c.
 */
static const unsigned char marker[] = {
	0x66, 0x0f, 0x1f, 0x84, 0x00, 0x6c, 0x70, 0x69, 0x76
};

static uint64_t insns;		/* executed so far, whole blocks at entry */
static unsigned long marks;
static FILE *out;

static void on_marker(unsigned int vcpu, void *udata)
{
	fprintf(out, "mark %lu %llu\n", ++marks, (unsigned long long)insns);
	fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &insns, n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (qemu_plugin_insn_size(insn) != sizeof(marker) ||
		    memcmp(qemu_plugin_insn_data(insn), marker, sizeof(marker)))
			continue;
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
						       QEMU_PLUGIN_CB_NO_REGS,
						       NULL);
	}
}

static void on_quit(qemu_plugin_id_t id, void *udata)
{
	fprintf(out, "end %llu\n", (unsigned long long)insns);
	fflush(out);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	const char *path = getenv("INSN_OUT");
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			path = argv[i] + 4;
		} else {
			fprintf(stderr, "insn_count: unknown argument %s\n",
				argv[i]);
			return -1;
		}
	}
	if (info->system_emulation && info->system.max_vcpus > 1) {
		fprintf(stderr, "insn_count: %d vCPUs; the count needs -smp 1\n",
			info->system.max_vcpus);
		return -1;
	}
	out = path && *path ? fopen(path, "w") : stderr;
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_quit, NULL);
	return 0;
}
