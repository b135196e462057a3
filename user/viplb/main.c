// SPDX-License-Identifier: GPL-2.0
/*
 * viplb: configure the viplb load balancer module over generic netlink.
 *
 * main() handles the global options, then runs one OBJECT COMMAND from the
 * command line or, with -b, one per line of a file.  The table of objects
 * below is the whole command set; its usage lines are the grammar.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "health.h"
#include "nl.h"
#include "parse.h"
#include "print.h"
#include "tables.h"
#include "target.h"
#include "util.h"
#include "viplb.h"
#include "xdp.h"

#ifndef VIPLB_VERSION
#define VIPLB_VERSION "0.1.0"
#endif

#define NETNS_RUN_DIR "/run/netns"

static int do_help(int argc, char **argv);
static int do_tables(int argc, char **argv);
static int do_tables_save(int argc, char **argv);
static int do_tables_restore(int argc, char **argv);

static const struct object {
	const char *name;
	int (*run)(int argc, char **argv);
	/* Usage lines of this object, '\n'-separated; the grammar. */
	const char *usage;
	bool where; /* also print the "where" block */
	bool help; /* "OBJECT help" prints its usage */
} objects[] = {
	{ "service", do_service,
	  "viplb service add  PROTO VIP:PORT [sched rr|wrr|lc|sh|maglev] [mode nat|dr|tun] [table-size M|auto] [snat]\n"
	  "viplb service set  PROTO VIP:PORT [sched ...] [mode ...] [table-size M|auto] [snat|nosnat]\n"
	  "viplb service del  PROTO VIP:PORT\n"
	  "viplb service show [PROTO VIP:PORT]\n"
	  "viplb service lookup PROTO VIP:PORT from SRC:SPORT [dport DPORT]\n",
	  true, true },
	{ "backend", do_backend,
	  "viplb backend add  PROTO VIP:PORT ADDR[:PORT] [weight N]\n"
	  "viplb backend set  PROTO VIP:PORT ADDR[:PORT] weight N\n"
	  "viplb backend del  PROTO VIP:PORT ADDR[:PORT] [flush]\n",
	  true, true },
	{ "show", do_show,
	  "viplb show [PROTO VIP:PORT]            (bare `viplb' means show)\n",
	  true, true },
	{ "stats", do_stats,
	  "viplb stats [PROTO VIP:PORT]\n"
	  "viplb stats zero [PROTO VIP:PORT]      (no VIP: every service)\n",
	  true, true },
	{ "flush", do_flush, "viplb flush\n", false, true },
	{ "save", do_save, "viplb save\n", false, true },
	{ "restore", do_restore,
	  "viplb restore [FILE]                   (FILE - or none: stdin)\n",
	  false, true },
	{ "health", do_health,
	  "viplb health show [socket PATH]        (viplbd's checks; PATH " VIPLBD_SOCKET ")\n",
	  false, true },
	{ "xdp", do_xdp,
	  "viplb xdp attach DEV [mode native|generic|auto] [flows N] [tunsrc ADDR]...\n"
	  "viplb xdp detach DEV\n"
	  "viplb xdp show | viplb xdp stats\n"
	  "viplb xdp lookup PROTO VIP:PORT from SRC:SPORT [dport DPORT]\n",
	  true, true },
	{ "tables", do_tables,
	  "viplb tables [-4|-6] IPTABLES-ARGS...       (= viplb-tables, viplb6-tables)\n",
	  false, false },
	{ "tables-save", do_tables_save,
	  "viplb tables-save [-4|-6] [-c] [-t filter|nat]   (= viplb-save)\n",
	  false, false },
	{ "tables-restore", do_tables_restore,
	  "viplb tables-restore [-4|-6] [-c] [-n] [-t] [-T filter|nat] [FILE]   (= viplb-restore)\n",
	  false, false },
	{ "help", do_help, "viplb help | viplb OBJECT help\n", false, false },
};

static const char global_usage[] =
	"viplb [-j|--json] [-p|--pretty] [-n|--netns NAME] [-d|--datapath module|nft] [-V|--version] [-b FILE] OBJECT COMMAND ...\n";

static const char where_usage[] =
	"where  PROTO       := tcp | udp\n"
	"       VIP:PORT    := IPV4:PORT | [IPV6]:PORT      (PORT 0: every port)\n"
	"       ADDR[:PORT] := IPV4[:PORT] | IPV6 | [IPV6][:PORT]\n"
	"                      (PORT defaults to the VIP's; 0 keeps the destination port)\n"
	"       M           := a prime in 251..131071       (default 65537)\n"
	"       N           := 0..65535                     (default 1; 0 drains)\n"
	"       SRC:SPORT   := IPV4:PORT | [IPV6]:PORT      (the client; VIP's family)\n"
	"       DPORT       := 0..65535                     (only for a VIP of port 0)\n"
	"       flush: backend del also drops the backend's flows (flow table, conntrack)\n"
	"       defaults: sched maglev, mode nat\n";

/* Print lines, the first after "Usage: ", the others aligned with it. */
static void print_lines(FILE *fp, const char *lines, bool *first)
{
	const char *nl;

	for (; *lines; lines = nl + 1) {
		nl = strchr(lines, '\n');
		fprintf(fp, "%s%.*s\n", *first ? "Usage: " : "       ",
			(int)(nl - lines), lines);
		*first = false;
	}
}

void print_usage(FILE *fp, const char *object)
{
	bool first = true, where = !object;
	size_t i;

	if (!object)
		print_lines(fp, global_usage, &first);
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		if (object && strcmp(object, objects[i].name))
			continue;
		print_lines(fp, objects[i].usage, &first);
		where |= objects[i].where;
	}
	if (where)
		fputs(where_usage, fp);
}

static const struct object *find_object(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(objects); i++)
		if (!strcmp(name, objects[i].name))
			return &objects[i];
	return NULL;
}

static int do_help(int argc, char **argv)
{
	if (argc == 0) {
		print_usage(stdout, NULL);
		return 0;
	}
	if (argc > 1 || !find_object(argv[0])) {
		errmsg("unknown object `%s' for help", quote_arg(argv[0]));
		return 1;
	}
	print_usage(stdout, argv[0]);
	return 0;
}

int run_command(int argc, char **argv)
{
	const struct object *o = find_object(argv[0]);
	int ret;

	if (!o) {
		errmsg("unknown object `%s' (use service, backend, show, stats, flush, save, restore, health, xdp, tables, tables-save, tables-restore, help)",
		       quote_arg(argv[0]));
		return 1;
	}
	if (o->help && argc >= 2 && !strcmp(argv[1], "help")) {
		print_usage(stdout, o->name);
		return 0;
	}
	ret = o->run(argc - 1, argv + 1);
	/* The iptables front end exits 2 for parameter problems. */
	if (o->run == do_tables || o->run == do_tables_save ||
	    o->run == do_tables_restore)
		return ret;
	if (ret == CMD_USAGE && !in_batch)
		print_usage(stderr, o->name);
	return ret ? 1 : 0;
}

/*
 * The iptables front end: viplb tables, tables-save, tables-restore.  Its
 * errors start with the name it has when installed as its own command.
 */
static int run_front_end(const char *name,
			 int (*fn)(const char *, uint16_t, int, char **),
			 int argc, char **argv)
{
	int ret;

	prog_name = name;
	target_tables();
	ret = fn(prog_name, AF_INET, argc, argv);
	prog_name = "viplb";
	return ret;
}

static int do_tables(int argc, char **argv)
{
	return run_front_end("viplb-tables", tables_main, argc, argv);
}

static int do_tables_save(int argc, char **argv)
{
	return run_front_end("viplb-save", tables_save_main, argc, argv);
}

static int do_tables_restore(int argc, char **argv)
{
	return run_front_end("viplb-restore", tables_restore_main, argc, argv);
}

/*
 * The iptables-style names: "--datapath module|nft" (or "--datapath=")
 * first chooses the datapath, as viplb's -d, which is iptables' -d here.
 */
static int run_as_tables(int (*fn)(const char *, uint16_t, int, char **),
			 uint16_t af, int argc, char **argv)
{
	const char *datapath = NULL;
	int skip = 1;

	if (argc > 2 && !strcmp(argv[1], "--datapath")) {
		datapath = argv[2];
		skip = 3;
	} else if (argc > 1 && !strncmp(argv[1], "--datapath=", 11)) {
		datapath = argv[1] + 11;
		skip = 2;
	}
	if (target_init(datapath))
		return 2;
	target_tables();
	return fn(prog_name, af, argc - skip, argv + skip);
}

/* Installed under these names, viplb is the iptables front end. */
static bool run_as(const char *argv0, int argc, char **argv, int *ret)
{
	static const struct {
		const char *name;
		int (*main)(const char *prog, uint16_t af, int argc,
			    char **argv);
		uint16_t af;
	} names[] = {
		{ "viplb-tables", tables_main, AF_INET },
		{ "viplb6-tables", tables_main, AF_INET6 },
		{ "viplb-save", tables_save_main, AF_INET },
		{ "viplb6-save", tables_save_main, AF_INET6 },
		{ "viplb-restore", tables_restore_main, AF_INET },
		{ "viplb6-restore", tables_restore_main, AF_INET6 },
	};
	const char *base = strrchr(argv0, '/');
	size_t i;

	base = base ? base + 1 : argv0;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(base, names[i].name)) {
			prog_name = names[i].name;
			*ret = run_as_tables(names[i].main, names[i].af, argc,
					     argv);
			return true;
		}
	}
	return false;
}

static int enter_netns(const char *name)
{
	char path[sizeof(NETNS_RUN_DIR) + NAME_MAX + 1];
	int fd;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || strlen(name) > NAME_MAX) {
		errmsg("invalid network namespace name `%s'", quote_arg(name));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errmsg("cannot open network namespace `%s' (%s): %s", name,
		       path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		errmsg("cannot enter network namespace `%s': setns: %s", name,
		       strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "netns", required_argument, NULL, 'n' },
	{ "datapath", required_argument, NULL, 'd' },
	{ "version", no_argument, NULL, 'V' },
	{ "batch", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const char *netns = NULL, *batch = NULL, *datapath = NULL;
	bool json = false, pretty = false;
	int opt, ret;

	print_init(stdout, false, false);
	if (run_as(argv[0], argc, argv, &ret))
		goto out;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jpn:d:Vb:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			pretty = true;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'd':
			datapath = optarg;
			break;
		case 'b':
			batch = optarg;
			break;
		case 'V':
			printf("viplb %s\n", VIPLB_VERSION);
			return 0;
		case 'h':
			print_usage(stdout, NULL);
			return 0;
		default:
			/* One line, like every other error; no usage dump. */
			if (optopt && strchr("ndb", optopt))
				errmsg("option `%s' needs an argument (try `viplb help')",
				       quote_arg(argv[optind - 1]));
			else if (optopt)
				errmsg("unknown option `-%c' (try `viplb help')",
				       optopt);
			else
				errmsg("unknown option `%s' (try `viplb help')",
				       quote_arg(argv[optind - 1]));
			return 1;
		}
	}
	argc -= optind;
	argv += optind;

	print_init(stdout, json, pretty);
	if (target_init(datapath))
		return 1;
	if (netns && enter_netns(netns))
		return 1;
	if (batch) {
		if (argc > 0) {
			errmsg("unexpected argument `%s' after -b FILE",
			       quote_arg(argv[0]));
			return 1;
		}
		ret = run_batch(batch);
	} else if (argc == 0) {
		ret = do_show(0, NULL); /* bare "viplb" */
	} else {
		ret = run_command(argc, argv);
	}
out:
	nl_put();
	if (fflush(stdout) || ferror(stdout)) {
		errmsg("writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
