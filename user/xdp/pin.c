// SPDX-License-Identifier: GPL-2.0
/*
 * Where the pinned XDP state lives.
 *
 * The state of a network namespace is a directory in the host's bpffs:
 * /sys/fs/bpf/viplb/netns-INODE/ in the mount namespace of pid 1, INODE
 * being that of /proc/self/ns/net.  The mount namespace of pid 1 is used whatever this
 * process's own is: "ip netns exec" runs its command in a new mount
 * namespace with a fresh /sys, so that its /sys/fs/bpf is empty, and a
 * bpffs mounted there dies with the command.  From another mount
 * namespace the directory is reached through /proc/1/root (or, when pid 1
 * may not be inspected, through kthreadd, /proc/2/root, which always is in
 * the initial mount namespace).  The first attach mounts a bpffs there if
 * there is none, as iproute2 does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "errors.h"
#include "xdp.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
/* include/linux/sched.h: a kernel thread, in /proc/PID/stat's flags. */
#define PF_KTHREAD 0x00200000

/* pid 1, or kthreadd, if its mount namespace may be entered; else 0. */
static int host_pid;
/* "" or "/proc/PID/root": how this process reaches the host's /. */
static char host_prefix[32];

static bool is_kthread(int pid)
{
	char path[32], buf[512], *p;
	unsigned long flags;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* After "pid (comm)": state, ppid, pgrp, session, tty, tpgid, flags. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & PF_KTHREAD;
}

/* Find the host's mount namespace, once. */
static void find_host(void)
{
	static bool done;
	struct stat self, host;
	char path[32];
	int pid;

	if (done)
		return;
	done = true;
	if (stat("/proc/self/ns/mnt", &self))
		return;
	for (pid = 1; pid <= 2; pid++) {
		if (pid == 2 && !is_kthread(pid))
			break;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		if (stat(path, &host))
			continue;
		host_pid = pid;
		if (host.st_dev != self.st_dev || host.st_ino != self.st_ino)
			snprintf(host_prefix, sizeof(host_prefix),
				 "/proc/%d/root", pid);
		return;
	}
}

const char *xdp_bpffs(void)
{
	static char path[64];

	if (!path[0]) {
		find_host();
		snprintf(path, sizeof(path), "%s/sys/fs/bpf", host_prefix);
	}
	return path;
}

const char *xdp_host_path(const char *path)
{
	size_t n;

	find_host();
	n = strlen(host_prefix);
	return n && !strncmp(path, host_prefix, n) ? path + n : path;
}

const char *xdp_pin_root(void)
{
	static char path[80];

	if (!path[0])
		snprintf(path, sizeof(path), "%s/viplb", xdp_bpffs());
	return path;
}

const char *xdp_pin_dir(void)
{
	static char dir[128];
	struct stat st;

	if (!dir[0]) {
		if (stat("/proc/self/ns/net", &st))
			st.st_ino = 0;
		snprintf(dir, sizeof(dir), "%s/netns-%lu", xdp_pin_root(),
			 (unsigned long)st.st_ino);
	}
	return dir;
}

void xdp_pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", xdp_pin_dir(), name);
}

bool xdp_attached(void)
{
	char path[256];

	xdp_pin_path(path, sizeof(path), "vips");
	return !access(path, F_OK);
}

bool xdp_bpffs_mounted(void)
{
	struct statfs sfs;

	return !statfs(xdp_bpffs(), &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/*
 * Mount a bpffs on /sys/fs/bpf of this mount namespace, unless one is
 * there: 0 or an errno.  The mount point's lock keeps two processes from
 * stacking two.
 */
static int mount_here(void)
{
	struct statfs sfs;
	int fd, err = 0;

	fd = open("/sys/fs/bpf", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (flock(fd, LOCK_EX))
		err = errno;
	else if (statfs("/sys/fs/bpf", &sfs))
		err = errno;
	else if (sfs.f_type != BPF_FS_MAGIC &&
		 mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		err = errno;
	close(fd);
	return err;
}

/* mount_here() in the host's mount namespace, from a child: an errno. */
static int mount_in_host(void)
{
	char path[32];
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", host_pid);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return errno;
	if (!pid) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || setns(fd, CLONE_NEWNS))
			_exit(errno);
		_exit(mount_here());
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (!WIFEXITED(status))
		return EINTR;
	return WEXITSTATUS(status);
}

int xdp_bpffs_mount(const char *what)
{
	int err;

	if (xdp_bpffs_mounted())
		return 0;
	find_host();
	err = host_prefix[0] ? mount_in_host() : mount_here();
	if (!err && !xdp_bpffs_mounted())
		err = ENOTDIR;
	if (err) {
		errmsg("%s: no bpffs on %s, and mounting one there failed: %s",
		       what, xdp_bpffs(), strerror(err));
		return -1;
	}
	return 0;
}
