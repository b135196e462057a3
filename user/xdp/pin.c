// SPDX-License-Identifier: GPL-2.0
/*
 * Where the pinned XDP state lives, its locks, and stale directories.
 *
 * The state of a network namespace is a directory in the host's bpffs:
 * /sys/fs/bpf/viplb/netns-cookie-COOKIE/ in the mount namespace of pid 1,
 * COOKIE being the netns cookie (SO_NETNS_COOKIE), which the kernel never
 * gives twice.  The mount namespace of pid 1 is used whatever this
 * process's own is: "ip netns exec" runs its command in a new mount
 * namespace with a fresh /sys, so that its /sys/fs/bpf is empty, and a
 * bpffs mounted there dies with the command.  From another mount
 * namespace the directory is reached through /proc/1/root (or, when pid 1
 * may not be inspected, through kthreadd, /proc/2/root, which always is in
 * the initial mount namespace).  The first attach mounts a bpffs there if
 * there is none, as iproute2 does.
 *
 * Locks (flock): a command that writes the maps holds the netns
 * directory's lock from its first write to its end; attach, detach and
 * the removal of stale directories also hold the lock of the viplb
 * directory above, taken first.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "errors.h"
#include "xdp.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
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

static int netns_cookie(__u64 *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		err = -errno;
	close(fd);
	return err;
}

/* errno of reading the netns cookie, 0 if read. */
static int cookie_err;

const char *xdp_pin_dir(void)
{
	static char dir[128];
	__u64 cookie;

	if (!dir[0] && !cookie_err) {
		cookie_err = -netns_cookie(&cookie);
		if (!cookie_err)
			snprintf(dir, sizeof(dir), "%s/netns-cookie-%llu",
				 xdp_pin_root(), (unsigned long long)cookie);
	}
	return dir[0] ? dir : NULL;
}

int xdp_pin_dir_check(const char *what)
{
	if (xdp_pin_dir())
		return 0;
	if (cookie_err == ENOPROTOOPT)
		errmsg("%s: this kernel gives no network namespace cookie (SO_NETNS_COOKIE: Linux 5.14 or later), which names the XDP state directory",
		       what);
	else
		errmsg("%s: reading the network namespace cookie: %s", what,
		       strerror(cookie_err));
	return -1;
}

void xdp_pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", xdp_pin_dir() ? xdp_pin_dir() : "", name);
}

/* Whether map @name is pinned in this netns's directory. */
static bool pinned(const char *name)
{
	char path[PATH_MAX];

	xdp_pin_path(path, sizeof(path), name);
	return !access(path, F_OK);
}

/*
 * Whether the pinned maps are an older program's: vips and no vip_gen,
 * or rings and no pools.
 */
bool xdp_pinned_by_old(void)
{
	if (!xdp_pin_dir())
		return false;
	return (pinned(XDP_MAP_OLD_VIPS) && !pinned("vip_gen")) ||
	       (pinned(XDP_MAP_OLD_RINGS) && !pinned("pools"));
}

bool xdp_attached(void)
{
	char path[PATH_MAX];

	if (!xdp_pin_dir())
		return false;
	xdp_pin_path(path, sizeof(path), "vip_gen");
	return !access(path, F_OK) || xdp_pinned_by_old();
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

/* Locks. */

/* Whether @fd still is the directory at @path. */
static bool still_at(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/*
 * Open @path (creating it first if @create) and lock it, waiting for
 * the lock or not (-EWOULDBLOCK): an fd, or -errno (-ENOENT if it is not
 * there).  A directory removed while we waited (a last detach) is created
 * again or reported gone.
 */
static int lock_dir(const char *path, bool create, bool wait)
{
	int fd, err;

	for (;;) {
		if (create && mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) {
			err = -errno;
			close(fd);
			return err;
		}
		if (still_at(fd, path))
			return fd;
		close(fd);
		if (!create)
			return -ENOENT;
	}
}

/* The held locks: the viplb directory's, this netns directory's. */
static int root_lock = -1, dir_lock = -1;

int xdp_lock(const char *what, bool create)
{
	const char *dir;
	int fd;

	if (xdp_pin_dir_check(what))
		return -1;
	dir = xdp_pin_dir();
	if (dir_lock >= 0 && still_at(dir_lock, dir))
		return 0;
	if (dir_lock >= 0)
		close(dir_lock);
	dir_lock = -1;
	fd = lock_dir(dir, create, true);
	if (fd == -ENOENT && !create) {
		errmsg("%s: viplb XDP was detached from this netns meanwhile (%s is gone)",
		       what, dir);
		return -1;
	}
	if (fd < 0) {
		errmsg("%s: locking %s: %s", what, dir, strerror(-fd));
		return -1;
	}
	dir_lock = fd;
	return 0;
}

void xdp_unlock(void)
{
	if (dir_lock >= 0)
		close(dir_lock);
	dir_lock = -1;
}

int xdp_lock_root(const char *what)
{
	int fd;

	if (root_lock >= 0)
		return 0;
	/* Always the viplb directory first: a batch may hold the other. */
	xdp_unlock();
	fd = lock_dir(xdp_pin_root(), true, true);
	if (fd < 0) {
		errmsg("%s: locking %s: %s", what, xdp_pin_root(),
		       strerror(-fd));
		return -1;
	}
	root_lock = fd;
	return 0;
}

void xdp_unlock_root(void)
{
	if (root_lock >= 0)
		close(root_lock);
	root_lock = -1;
}

/* Stale directories. */

/* Whether a pinned XDP link in @dir is still attached to a device. */
static bool links_attached(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	bool attached = false;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return false;
	while (!attached && (de = readdir(d))) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		int fd;

		if (strncmp(de->d_name, "link_", 5) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
			    (int)sizeof(path))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		/* A link whose device is gone reports ifindex 0. */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP && info.xdp.ifindex)
			attached = true;
		close(fd);
	}
	closedir(d);
	return attached;
}

/* Unpin everything in @dir and remove it; 0 or -errno. */
static int remove_dir(const char *dir)
{
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    unlinkat(dirfd(d), de->d_name, 0))
			err = -errno;
	closedir(d);
	if (!err && rmdir(dir))
		err = -errno;
	return err;
}

/* A directory name of this scheme (netns-cookie-N) or the old (netns-N). */
static bool is_netns_dir(const char *name)
{
	const char *p = name;

	if (strncmp(p, "netns-", 6))
		return false;
	p += 6;
	if (!strncmp(p, "cookie-", 7))
		p += 7;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

void xdp_remove_stale(bool wait)
{
	const char *own = xdp_pin_dir();
	char path[PATH_MAX];
	struct dirent *de;
	bool locked_here = root_lock < 0;
	DIR *d;
	int fd, err;

	if (!xdp_bpffs_mounted())
		return;
	if (locked_here) {
		fd = lock_dir(xdp_pin_root(), false, wait);
		if (fd < 0)
			return; /* no viplb directory, or busy */
		root_lock = fd;
	}
	d = opendir(xdp_pin_root());
	while (d && (de = readdir(d))) {
		if (!is_netns_dir(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", xdp_pin_root(),
			 de->d_name);
		/* This netns is alive; another with a device attached too. */
		if ((own && !strcmp(path, own)) || links_attached(path))
			continue;
		/* Someone still writing there: leave it. */
		fd = lock_dir(path, false, false);
		if (fd < 0)
			continue;
		err = remove_dir(path);
		if (err)
			errmsg("removing the stale XDP state %s: %s", path,
			       strerror(-err));
		close(fd);
	}
	if (d)
		closedir(d);
	if (locked_here)
		xdp_unlock_root();
}
