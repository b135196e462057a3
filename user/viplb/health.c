// SPDX-License-Identifier: GPL-2.0
/*
 * viplb health show: the backends viplbd checks, asked of viplbd over its
 * control socket (user/viplbd/ctl.c), printed as it answers, in text or
 * (-j, -p) JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "errors.h"
#include "health.h"
#include "parse.h"
#include "print.h"
#include "viplb.h"

static int show(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char req[32], buf[4096];
	bool first = true;
	ssize_t n;
	int fd, len, ret = 0;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errmsg("health show: socket path `%s' is too long",
		       quote_arg(path));
		return 1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		errmsg("health show: cannot reach viplbd at %s: %s (is it running?)",
		       path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	len = snprintf(req, sizeof(req), "show%s%s\n",
		       print_is_json() ? " json" : "",
		       print_is_json() && print_pretty() ? " pretty" : "");
	if (write(fd, req, len) != len) {
		errmsg("health show: writing to %s: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		/* An answer that starts with "error: " is one. */
		if (first && n > 7 && !strncmp(buf, "error: ", 7)) {
			errmsg("health show: viplbd says: %.*s",
			       (int)(n - 7 - (buf[n - 1] == '\n')), buf + 7);
			ret = 1;
			break;
		}
		first = false;
		fwrite(buf, 1, n, stdout);
	}
	if (n < 0) {
		errmsg("health show: reading from %s: %s", path,
		       strerror(errno));
		ret = 1;
	}
	close(fd);
	return ret;
}

int do_health(int argc, char **argv)
{
	const char *path = VIPLBD_SOCKET;

	if (argc == 0)
		return CMD_USAGE;
	if (strcmp(argv[0], "show")) {
		errmsg("unknown command `%s' for health (use show; health lines go in viplb restore files, for viplbd)",
		       quote_arg(argv[0]));
		return 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "socket")) {
		path = argv[2];
		argc -= 2;
		argv += 2;
	} else if (argc == 2 && !strcmp(argv[1], "socket")) {
		errmsg("health show: missing PATH after `socket'");
		return 1;
	}
	if (argc > 1) {
		errmsg("unexpected argument `%s' for health show",
		       quote_arg(argv[1]));
		return 1;
	}
	return show(path);
}
