// SPDX-License-Identifier: GPL-2.0
/*
 * Executes the marker instruction that the QEMU plugin
 * insn_count.c watches for (gcc -static: no dynamic loader to count).
 *
 *	insn_mark		the marker, once
 *	insn_mark FILE TEXT	the marker, one write(2) of TEXT and a newline
 *				to FILE, the marker again
 *
 * The second form brackets exactly the write, e.g. "start" to
 * /proc/net/pktgen/pgctrl, which returns when pktgen has sent its count:
 * no process is created or torn down between the two marks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* nopw 0x7669706c(%rax,%rax,1): see insn_count.c. */
static inline void marker(void)
{
	__asm__ volatile(".byte 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x6c, 0x70, 0x69, 0x76"
			 ::: "memory");
}

int main(int argc, char **argv)
{
	char buf[256];
	ssize_t len, n;
	int fd;

	if (argc == 1) {
		marker();
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: insn_mark [FILE TEXT]\n");
		return 2;
	}
	len = snprintf(buf, sizeof(buf), "%s\n", argv[2]);
	if (len < 0 || len >= (ssize_t)sizeof(buf)) {
		fprintf(stderr, "insn_mark: text too long\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	marker();
	n = write(fd, buf, len);
	marker();
	if (n != len) {
		perror(argv[1]);
		return 1;
	}
	return close(fd) ? 1 : 0;
}
