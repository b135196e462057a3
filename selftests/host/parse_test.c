// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the viplb command's pure parsing (user/lib/parse.c) and of
 * its output path (user/lib/print.c): no kernel involved, so they run on
 * the host.  (The primality test of table sizes is maglev_test's.)
 */
#include "kselftest_harness.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <linux/viplb.h>

#include "cmdfile.h"
#include "parse.h"
#include "print.h"

/* Parse a batch-style line with one of the parse_*_cmd() functions. */
static int parse_line(const char *line,
		      int (*fn)(int argc, char **argv, struct config_cmd *cmd),
		      struct config_cmd *cmd)
{
	static char buf[4096];
	char *argv[LINE_MAX_ARGS];
	int argc;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = tokenize_line(buf, argv, LINE_MAX_ARGS);
	if (argc < 0)
		return -1;
	return fn(argc, argv, cmd);
}

static char *addr_str(uint16_t af, const union inet_addr *a)
{
	static char buf[INET6_ADDRSTRLEN];

	return format_addr(buf, sizeof(buf), af, a);
}

/* Run fn writing to a memory stream; returns the malloc'ed output. */
static char *capture(void (*fn)(FILE *fp, const void *arg), const void *arg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	if (!fp)
		return NULL;
	fn(fp, arg);
	fclose(fp);
	return out;
}

TEST(proto)
{
	uint8_t p = 0;

	ASSERT_EQ(0, parse_proto("tcp", &p));
	EXPECT_EQ(IPPROTO_TCP, p);
	ASSERT_EQ(0, parse_proto("udp", &p));
	EXPECT_EQ(IPPROTO_UDP, p);
	EXPECT_EQ(-1, parse_proto("TCP", &p));
	EXPECT_EQ(-1, parse_proto("tc", &p));
	EXPECT_EQ(-1, parse_proto("tcp6", &p));
	EXPECT_EQ(-1, parse_proto("sctp", &p));
	EXPECT_STREQ("invalid protocol `sctp' (use tcp, udp)", parse_error());
	EXPECT_EQ(-1, parse_proto("", &p));
}

TEST(vip_ipv4)
{
	struct svc_key k;

	ASSERT_EQ(0, parse_vip("192.0.2.10:80", &k));
	EXPECT_EQ(AF_INET, k.af);
	EXPECT_EQ(80, k.port);
	EXPECT_STREQ("192.0.2.10", addr_str(k.af, &k.addr));
	ASSERT_EQ(0, parse_vip("192.0.2.10:0", &k));
	EXPECT_EQ(0, k.port);
	ASSERT_EQ(0, parse_vip("0.0.0.0:65535", &k));
	EXPECT_EQ(65535, k.port);
}

TEST(vip_ipv6)
{
	struct svc_key k;

	ASSERT_EQ(0, parse_vip("[2001:db8::1]:80", &k));
	EXPECT_EQ(AF_INET6, k.af);
	EXPECT_EQ(80, k.port);
	EXPECT_STREQ("2001:db8::1", addr_str(k.af, &k.addr));
	ASSERT_EQ(0, parse_vip("[::]:0", &k));
	EXPECT_EQ(0, k.port);
	ASSERT_EQ(0, parse_vip("[::ffff:192.0.2.1]:443", &k));
	EXPECT_EQ(443, k.port);
}

TEST(vip_bad)
{
	static const char *const bad[] = {
		"",
		"abc",
		"abc:80",
		"1.2.3",
		"1.2.3:80",
		"1.2.3.4.5:80",
		"256.1.1.1:80",
		"192.0.2.10",
		"192.0.2.10:",
		"192.0.2.10:65536",
		"192.0.2.10:99999999999999999999",
		"192.0.2.10:-1",
		"192.0.2.10:+80",
		"192.0.2.10:0x50",
		"192.0.2.10: 80",
		"192.0.2.10:80:80",
		":80",
		"[2001:db8::1",
		"[2001:db8::1]",
		"[2001:db8::1]:",
		"[2001:db8::1]80",
		"[2001:db8::1]:65536",
		"2001:db8::1",
		"2001:db8::1:80",
		"[192.0.2.1]:80",
		"[2001:db8::zz]:80",
		"[]:80",
	};
	struct svc_key k;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TH_LOG("VIP `%s'", bad[i]);
		EXPECT_EQ(-1, parse_vip(bad[i], &k));
	}
}

TEST(vip_messages)
{
	struct svc_key k;

	parse_vip("192.0.2.10", &k);
	EXPECT_STREQ(
		"missing port in VIP `192.0.2.10' (use IPV4:PORT or [IPV6]:PORT, port 0 for every port)",
		parse_error());
	parse_vip("192.0.2.10:65536", &k);
	EXPECT_STREQ(
		"invalid port `65536' in VIP `192.0.2.10:65536' (use 0..65535)",
		parse_error());
	parse_vip("abc", &k);
	EXPECT_STREQ("invalid VIP `abc' (use IPV4:PORT or [IPV6]:PORT)",
		     parse_error());
	parse_vip("[2001:db8::1", &k);
	EXPECT_STREQ(
		"invalid VIP `[2001:db8::1': missing `]' (use IPV4:PORT or [IPV6]:PORT)",
		parse_error());
	parse_vip("2001:db8::1", &k);
	EXPECT_STREQ(
		"invalid VIP `2001:db8::1': write an IPv6 VIP as [IPV6]:PORT",
		parse_error());
}

TEST(overlong)
{
	char big[400], msg[600];
	struct svc_key k;
	struct be_key be;
	uint32_t w;

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_EQ(-1, parse_vip(big, &k));
	snprintf(msg, sizeof(msg),
		 "VIP `%.60s...' is too long (max 255 characters)", big);
	EXPECT_STREQ(msg, parse_error());
	/* Exactly the limit is not "too long" (merely invalid). */
	big[ARG_MAX_LEN] = '\0';
	EXPECT_EQ(-1, parse_vip(big, &k));
	EXPECT_EQ(NULL, strstr(parse_error(), "too long"));
	big[ARG_MAX_LEN] = '1';
	parse_vip("192.0.2.1:80", &k);
	EXPECT_EQ(-1, parse_backend(big, &k, &be));
	EXPECT_NE(NULL, strstr(parse_error(), "too long"));
	EXPECT_EQ(-1, parse_weight(big, &w));
	EXPECT_LT(strlen(parse_error()), 120);
	EXPECT_EQ(-1, parse_sched(big, &w));
	EXPECT_NE(NULL, strstr(parse_error(), "too long"));
}

TEST(quoting)
{
	char s64[65], s65[66], cut[64];

	memset(s64, 'a', 64);
	s64[64] = '\0';
	memset(s65, 'b', 65);
	s65[65] = '\0';
	snprintf(cut, sizeof(cut), "%.60s...", s65);
	EXPECT_STREQ("abc", quote_arg("abc"));
	EXPECT_STREQ("", quote_arg(""));
	EXPECT_STREQ("a?b?", quote_arg("a\nb\x7f"));
	EXPECT_STREQ(s64, quote_arg(s64));
	EXPECT_STREQ(cut, quote_arg(s65));
}

TEST(backend_defaults)
{
	struct svc_key v4, v6;
	struct be_key be;

	ASSERT_EQ(0, parse_vip("192.0.2.10:80", &v4));
	ASSERT_EQ(0, parse_vip("[2001:db8::1]:443", &v6));

	ASSERT_EQ(0, parse_backend("198.51.100.2", &v4, &be));
	EXPECT_EQ(80, be.port);
	EXPECT_STREQ("198.51.100.2", addr_str(AF_INET, &be.addr));
	ASSERT_EQ(0, parse_backend("198.51.100.2:8080", &v4, &be));
	EXPECT_EQ(8080, be.port);
	ASSERT_EQ(0, parse_backend("198.51.100.2:0", &v4, &be));
	EXPECT_EQ(0, be.port);

	ASSERT_EQ(0, parse_backend("2001:db8::2", &v6, &be));
	EXPECT_EQ(443, be.port);
	EXPECT_STREQ("2001:db8::2", addr_str(AF_INET6, &be.addr));
	ASSERT_EQ(0, parse_backend("[2001:db8::2]", &v6, &be));
	EXPECT_EQ(443, be.port);
	ASSERT_EQ(0, parse_backend("[2001:db8::2]:8443", &v6, &be));
	EXPECT_EQ(8443, be.port);
	ASSERT_EQ(0, parse_backend("[2001:db8::2]:0", &v6, &be));
	EXPECT_EQ(0, be.port);
}

TEST(backend_bad)
{
	static const char *const bad[] = {
		"",
		"abc",
		"198.51.100",
		"198.51.100.2:",
		"198.51.100.2:65536",
		"198.51.100.2:x",
		"[2001:db8::2",
		"[2001:db8::2]:",
		"[2001:db8::2]x",
		"[198.51.100.2]",
		"[2001:db8::2]:-1",
	};
	struct svc_key v4, v6;
	struct be_key be;
	size_t i;

	ASSERT_EQ(0, parse_vip("192.0.2.10:80", &v4));
	ASSERT_EQ(0, parse_vip("[2001:db8::1]:80", &v6));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TH_LOG("backend `%s'", bad[i]);
		EXPECT_EQ(-1, parse_backend(bad[i], &v6, &be));
		EXPECT_EQ(-1, parse_backend(bad[i], &v4, &be));
	}
	EXPECT_EQ(-1, parse_backend("198.51.100.2", &v6, &be));
	EXPECT_STREQ(
		"address family of backend `198.51.100.2' does not match VIP `[2001:db8::1]:80'",
		parse_error());
	EXPECT_EQ(-1, parse_backend("[2001:db8::2]:80", &v4, &be));
	EXPECT_STREQ(
		"address family of backend `[2001:db8::2]:80' does not match VIP `192.0.2.10:80'",
		parse_error());
	EXPECT_EQ(-1, parse_backend("198.51.100.2:65536", &v4, &be));
	EXPECT_STREQ(
		"invalid port `65536' in backend `198.51.100.2:65536' (use 0..65535)",
		parse_error());
}

TEST(sched_mode_keywords)
{
	static const char *const scheds[] = { "rr", "wrr", "lc", "sh",
					      "maglev" };
	static const char *const bad[] = { "mag", "rr2",	"RR",
					   "",	  "maglev ",	"maglevx",
					   "w",	  "round-robin" };
	uint32_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(scheds); i++) {
		ASSERT_EQ(0, parse_sched(scheds[i], &v));
		EXPECT_STREQ(scheds[i], sched_name(v));
	}
	EXPECT_EQ(VIPLB_SCHED_MAGLEV, (parse_sched("maglev", &v), v));
	EXPECT_EQ(VIPLB_SCHED_RR, (parse_sched("rr", &v), v));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TH_LOG("sched `%s'", bad[i]);
		EXPECT_EQ(-1, parse_sched(bad[i], &v));
	}
	parse_sched("foo", &v);
	EXPECT_STREQ("invalid sched `foo' (use rr, wrr, lc, sh, maglev)",
		     parse_error());

	ASSERT_EQ(0, parse_mode("nat", &v));
	EXPECT_EQ(VIPLB_MODE_NAT, v);
	ASSERT_EQ(0, parse_mode("dr", &v));
	EXPECT_EQ(VIPLB_MODE_DR, v);
	ASSERT_EQ(0, parse_mode("tun", &v));
	EXPECT_EQ(VIPLB_MODE_TUN, v);
	EXPECT_EQ(-1, parse_mode("na", &v));
	EXPECT_EQ(-1, parse_mode("tunnel", &v));
	EXPECT_EQ(-1, parse_mode("NAT", &v));
	EXPECT_STREQ("invalid mode `NAT' (use nat, dr, tun)", parse_error());
	EXPECT_EQ(NULL, sched_name(VIPLB_SCHED_MAX + 1));
	EXPECT_EQ(NULL, mode_name(VIPLB_MODE_MAX + 1));
}

TEST(weight)
{
	uint32_t w;

	ASSERT_EQ(0, parse_weight("0", &w));
	EXPECT_EQ(0, w);
	ASSERT_EQ(0, parse_weight("1", &w));
	EXPECT_EQ(1, w);
	ASSERT_EQ(0, parse_weight("65535", &w));
	EXPECT_EQ(VIPLB_WEIGHT_MAX, w);
	EXPECT_EQ(-1, parse_weight("65536", &w));
	EXPECT_STREQ("invalid weight `65536' (use 0..65535)", parse_error());
	EXPECT_EQ(-1, parse_weight("-1", &w));
	EXPECT_EQ(-1, parse_weight("", &w));
	EXPECT_EQ(-1, parse_weight("1e3", &w));
	EXPECT_EQ(-1, parse_weight(" 1", &w));
	EXPECT_EQ(-1, parse_weight("4294967297", &w));
}

TEST(table_size)
{
	static const char *const bad[] = { "0",	     "2",      "250",
					   "131072", "131073", "1000",
					   "253",    "65536",  "4294967296",
					   "abc",    "",       "65537x",
					   "Auto",   "auto0" };
	uint32_t m;
	size_t i;

	ASSERT_EQ(0, parse_table_size("251", &m));
	EXPECT_EQ(VIPLB_TABLE_SIZE_MIN, m);
	ASSERT_EQ(0, parse_table_size("65537", &m));
	EXPECT_EQ(VIPLB_TABLE_SIZE_DEFAULT, m);
	ASSERT_EQ(0, parse_table_size("131071", &m));
	EXPECT_EQ(VIPLB_TABLE_SIZE_MAX, m);
	ASSERT_EQ(0, parse_table_size("257", &m));
	/* "auto": 0, the size chosen from the backends */
	ASSERT_EQ(0, parse_table_size("auto", &m));
	EXPECT_EQ(0, m);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TH_LOG("table-size `%s'", bad[i]);
		EXPECT_EQ(-1, parse_table_size(bad[i], &m));
	}
	parse_table_size("1000", &m);
	EXPECT_STREQ(
		"invalid table-size `1000': not a prime (use auto or a prime in 251..131071, e.g. 65537)",
		parse_error());
	parse_table_size("131101", &m); /* prime, but too large */
	EXPECT_STREQ(
		"invalid table-size `131101' (use auto or a prime in 251..131071, e.g. 65537)",
		parse_error());
}

/* restore_parse(): a whole restore file, no kernel involved. */
TEST(restore_file)
{
	static const char good[] =
		"# comment\n\nservice add tcp 192.0.2.10:80 sched rr\n"
		"  backend add tcp 192.0.2.10:80 198.51.100.2:8080 weight 5 # x\n"
		"flush\n";
	static const char bad[] = "service add tcp 192.0.2.10:80\n"
				  "service add tcp 192.0.2.300:80\n"
				  "flush\n";
	static const char show[] = "show\n";
	struct restore_cmds r = { 0 };
	FILE *f;

	f = fmemopen((void *)good, sizeof(good) - 1, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, restore_parse(f, "good", &r));
	fclose(f);
	ASSERT_EQ(3, r.nr);
	EXPECT_EQ(OP_SVC_ADD, r.cmds[0].op);
	EXPECT_EQ(3, r.cmds[0].line);
	EXPECT_EQ(VIPLB_SCHED_RR, r.cmds[0].sched);
	EXPECT_EQ(OP_BE_ADD, r.cmds[1].op);
	EXPECT_EQ(4, r.cmds[1].line);
	EXPECT_EQ(5, r.cmds[1].weight);
	EXPECT_EQ(OP_FLUSH, r.cmds[2].op);
	EXPECT_EQ(5, r.cmds[2].line);
	free(r.cmds);

	/* The first bad line stops the parse; the error quotes its value. */
	memset(&r, 0, sizeof(r));
	f = fmemopen((void *)bad, sizeof(bad) - 1, "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-1, restore_parse(f, "bad", &r));
	fclose(f);
	EXPECT_EQ(1, r.nr);
	EXPECT_NE(NULL, strstr(parse_error(), "192.0.2.300"));
	free(r.cmds);

	/* Only configuration commands belong in a restore file. */
	memset(&r, 0, sizeof(r));
	f = fmemopen((void *)show, sizeof(show) - 1, "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-1, restore_parse(f, "show", &r));
	fclose(f);
	EXPECT_EQ(0, r.nr);
	free(r.cmds);
}

/* Health lines (viplbd's), alone and in a restore file. */
TEST(health_line)
{
	char line[] = "health tcp 192.0.2.10:80 check http /healthz expect 204 "
		      "body ok interval 200ms timeout 150ms rise 2 fall 3 "
		      "connect 198.51.100.9:8080";
	char bad[] = "health tcp 192.0.2.10:80 check http /x interval 2y";
	char *argv[LINE_MAX_ARGS];
	static const char file[] =
		"service add tcp 192.0.2.10:80\n"
		"health tcp 192.0.2.10:80 check tcp\n"
		"health tcp 192.0.2.10:80 backend 198.51.100.2 check exec /bin/true\n"
		"health tcp 192.0.2.10:80 check udp\n";
	struct restore_cmds r = { 0 };
	struct health_check hc;
	int argc;
	FILE *f;

	argc = tokenize_line(line, argv, LINE_MAX_ARGS);
	ASSERT_EQ(0, parse_health(argc, argv, &hc));
	EXPECT_EQ(HEALTH_HTTP, hc.type);
	EXPECT_STREQ("/healthz", hc.arg);
	EXPECT_STREQ("ok", hc.body);
	EXPECT_EQ(204, hc.expect);
	EXPECT_EQ(200, hc.interval_ms);
	EXPECT_EQ(150, hc.timeout_ms);
	EXPECT_EQ(3, hc.fall);
	EXPECT_TRUE(hc.has_connect);
	EXPECT_EQ(8080, hc.connect.port);
	EXPECT_EQ(80, hc.svc.port);

	argc = tokenize_line(bad, argv, LINE_MAX_ARGS);
	EXPECT_EQ(-1, parse_health(argc, argv, &hc));
	EXPECT_NE(NULL, strstr(parse_error(), "`2y'"));

	/* The third health line repeats the first's target: refused. */
	f = fmemopen((void *)file, sizeof(file) - 1, "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(-1, restore_parse(f, "health", &r));
	fclose(f);
	EXPECT_EQ(1, r.nr);
	EXPECT_EQ(2, r.nr_checks);
	EXPECT_EQ(3, r.checks[1].line);
	EXPECT_TRUE(r.checks[1].has_backend);
	restore_free(&r);
}

TEST(tokenize)
{
	char *argv[LINE_MAX_ARGS], buf[512];
	int i;

	strcpy(buf, "  service add tcp 192.0.2.10:80  # a comment");
	ASSERT_EQ(4, tokenize_line(buf, argv, LINE_MAX_ARGS));
	EXPECT_STREQ("service", argv[0]);
	EXPECT_STREQ("add", argv[1]);
	EXPECT_STREQ("tcp", argv[2]);
	EXPECT_STREQ("192.0.2.10:80", argv[3]);

	strcpy(buf, "# only a comment");
	EXPECT_EQ(0, tokenize_line(buf, argv, LINE_MAX_ARGS));
	strcpy(buf, "");
	EXPECT_EQ(0, tokenize_line(buf, argv, LINE_MAX_ARGS));
	strcpy(buf, " \t \r\n");
	EXPECT_EQ(0, tokenize_line(buf, argv, LINE_MAX_ARGS));
	strcpy(buf, "\tflush\t\r\n");
	ASSERT_EQ(1, tokenize_line(buf, argv, LINE_MAX_ARGS));
	EXPECT_STREQ("flush", argv[0]);
	strcpy(buf, "flush#comment right after");
	ASSERT_EQ(1, tokenize_line(buf, argv, LINE_MAX_ARGS));
	EXPECT_STREQ("flush", argv[0]);

	buf[0] = '\0';
	for (i = 0; i < 5; i++)
		strcat(buf, "x ");
	EXPECT_EQ(5, tokenize_line(buf, argv, 5));
	strcpy(buf, "a b c d e f");
	EXPECT_EQ(-1, tokenize_line(buf, argv, 5));
	EXPECT_STREQ("too many arguments (max 5)", parse_error());
}

TEST(service_cmd)
{
	struct config_cmd c;

	ASSERT_EQ(0,
		  parse_line("add tcp 192.0.2.10:80", parse_service_cmd, &c));
	EXPECT_EQ(OP_SVC_ADD, c.op);
	EXPECT_EQ(HAS_KEY, c.has);
	EXPECT_EQ(IPPROTO_TCP, c.svc.proto);

	ASSERT_EQ(
		0,
		parse_line(
			"add udp [2001:db8::1]:53 sched wrr mode dr table-size 251 snat",
			parse_service_cmd, &c));
	EXPECT_EQ(HAS_KEY | HAS_SCHED | HAS_MODE | HAS_TABLE_SIZE | HAS_FLAGS,
		  c.has);
	EXPECT_EQ(VIPLB_SCHED_WRR, c.sched);
	EXPECT_EQ(VIPLB_MODE_DR, c.mode);
	EXPECT_EQ(251, c.table_size);
	EXPECT_EQ(VIPLB_SVC_F_SNAT, c.flags);

	ASSERT_EQ(0, parse_line("set tcp 192.0.2.10:80 nosnat",
				parse_service_cmd, &c));
	EXPECT_EQ(HAS_KEY | HAS_FLAGS, c.has);
	EXPECT_EQ(0, c.flags);

	ASSERT_EQ(0,
		  parse_line("del tcp 192.0.2.10:80", parse_service_cmd, &c));
	EXPECT_EQ(OP_SVC_DEL, c.op);
	ASSERT_EQ(0, parse_line("show", parse_service_cmd, &c));
	EXPECT_EQ(OP_SVC_SHOW, c.op);
	EXPECT_EQ(0, c.has);
	ASSERT_EQ(0,
		  parse_line("show udp 192.0.2.10:0", parse_service_cmd, &c));
	EXPECT_EQ(HAS_KEY, c.has);
	ASSERT_EQ(0, parse_line("", parse_service_cmd, &c));
	EXPECT_EQ(OP_SVC_SHOW, c.op);
}

TEST(service_cmd_errors)
{
	struct config_cmd c;

	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 bogus",
				 parse_service_cmd, &c));
	EXPECT_STREQ("unknown keyword `bogus' for service add", parse_error());
	EXPECT_EQ(-1, parse_line("add tcp", parse_service_cmd, &c));
	EXPECT_STREQ("service add: missing VIP:PORT", parse_error());
	EXPECT_EQ(-1, parse_line("add", parse_service_cmd, &c));
	EXPECT_STREQ("service add: missing PROTO", parse_error());
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 sched",
				 parse_service_cmd, &c));
	EXPECT_STREQ(
		"service add: missing value after `sched' (use rr, wrr, lc, sh, maglev)",
		parse_error());
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 sched foo",
				 parse_service_cmd, &c));
	EXPECT_STREQ("invalid sched `foo' (use rr, wrr, lc, sh, maglev)",
		     parse_error());
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 sch rr",
				 parse_service_cmd, &c));
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 sched rr sched wrr",
				 parse_service_cmd, &c));
	EXPECT_STREQ("duplicate keyword `sched' for service add",
		     parse_error());
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 nosnat",
				 parse_service_cmd, &c));
	EXPECT_EQ(-1, parse_line("set tcp 192.0.2.10:80 snat nosnat",
				 parse_service_cmd, &c));
	EXPECT_EQ(-1,
		  parse_line("set tcp 192.0.2.10:80", parse_service_cmd, &c));
	EXPECT_STREQ(
		"service set: nothing to change (use sched, mode, table-size, snat, nosnat)",
		parse_error());
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 table-size 1000",
				 parse_service_cmd, &c));
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 sched rr",
				 parse_service_cmd, &c));
	EXPECT_STREQ("unexpected argument `sched' for service del",
		     parse_error());
	EXPECT_EQ(-1, parse_line("show tcp", parse_service_cmd, &c));
	EXPECT_STREQ("service show: missing VIP:PORT", parse_error());
	EXPECT_EQ(-1,
		  parse_line("ad tcp 192.0.2.10:80", parse_service_cmd, &c));
	EXPECT_EQ(-1, parse_line("list", parse_service_cmd, &c));
	EXPECT_STREQ(
		"unknown command `list' for service (use add, set, del, show, lookup, help)",
		parse_error());
}

TEST(backend_cmd)
{
	struct config_cmd c;

	ASSERT_EQ(0,
		  parse_line("add tcp 192.0.2.10:80 198.51.100.2:8080 weight 5",
			     parse_backend_cmd, &c));
	EXPECT_EQ(OP_BE_ADD, c.op);
	EXPECT_EQ(HAS_KEY | HAS_WEIGHT, c.has);
	EXPECT_EQ(5, c.weight);
	EXPECT_EQ(8080, c.be.port);
	ASSERT_EQ(0, parse_line("add tcp 192.0.2.10:80 198.51.100.2",
				parse_backend_cmd, &c));
	EXPECT_EQ(HAS_KEY, c.has);
	EXPECT_EQ(80, c.be.port);
	ASSERT_EQ(0, parse_line("set udp [2001:db8::1]:53 2001:db8::2 weight 0",
				parse_backend_cmd, &c));
	EXPECT_EQ(OP_BE_SET, c.op);
	EXPECT_EQ(0, c.weight);
	EXPECT_EQ(53, c.be.port);
	ASSERT_EQ(0, parse_line("del tcp 192.0.2.10:80 198.51.100.2:0",
				parse_backend_cmd, &c));
	EXPECT_EQ(OP_BE_DEL, c.op);

	EXPECT_EQ(-1, parse_line("set tcp 192.0.2.10:80 198.51.100.2",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("backend set: missing weight (use weight N)",
		     parse_error());
	EXPECT_EQ(-1,
		  parse_line("add tcp 192.0.2.10:80", parse_backend_cmd, &c));
	EXPECT_STREQ("backend add: missing ADDR[:PORT]", parse_error());
	EXPECT_EQ(-1,
		  parse_line("add tcp 192.0.2.10:80 198.51.100.2 weight 65536",
			     parse_backend_cmd, &c));
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 198.51.100.2 weigh 1",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `weigh' for backend add", parse_error());
	EXPECT_EQ(-1, parse_line("add tcp [2001:db8::1]:80 198.51.100.2",
				 parse_backend_cmd, &c));
	EXPECT_STREQ(
		"address family of backend `198.51.100.2' does not match VIP `[2001:db8::1]:80'",
		parse_error());
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 198.51.100.2 weight 1",
				 parse_backend_cmd, &c));
	EXPECT_EQ(PARSE_USAGE, parse_line("", parse_backend_cmd, &c));
	EXPECT_EQ(-1, parse_line("show", parse_backend_cmd, &c));
}

TEST(backend_del_flush)
{
	struct config_cmd c;
	char out[512];

	ASSERT_EQ(0, parse_line("del tcp 192.0.2.10:80 198.51.100.2:8080 flush",
				parse_backend_cmd, &c));
	EXPECT_EQ(OP_BE_DEL, c.op);
	EXPECT_EQ(HAS_KEY | HAS_FLUSH, c.has);
	EXPECT_EQ(8080, c.be.port);
	EXPECT_STREQ("backend del tcp 192.0.2.10:80 198.51.100.2:8080 flush",
		     format_cmd_line(out, sizeof(out), &c));
	/* The message names the attempt without the flag. */
	EXPECT_STREQ("backend del tcp 192.0.2.10:80 198.51.100.2:8080",
		     format_cmd(out, sizeof(out), &c));
	ASSERT_EQ(0, parse_line("del udp [2001:db8::1]:53 2001:db8::2 flush",
				parse_backend_cmd, &c));
	EXPECT_EQ(HAS_KEY | HAS_FLUSH, c.has);
	EXPECT_EQ(53, c.be.port);
	ASSERT_EQ(0, parse_line("del tcp 192.0.2.10:80 198.51.100.2",
				parse_backend_cmd, &c));
	EXPECT_EQ(HAS_KEY, c.has);
	EXPECT_STREQ("backend del tcp 192.0.2.10:80 198.51.100.2:80",
		     format_cmd_line(out, sizeof(out), &c));

	EXPECT_EQ(-1,
		  parse_line("del tcp 192.0.2.10:80 198.51.100.2 flush flush",
			     parse_backend_cmd, &c));
	EXPECT_STREQ("duplicate keyword `flush' for backend del",
		     parse_error());
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 198.51.100.2 Flush",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `Flush' for backend del", parse_error());
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 198.51.100.2 flus",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `flus' for backend del", parse_error());
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 198.51.100.2 flush 1",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `1' for backend del", parse_error());
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 flush",
				 parse_backend_cmd, &c));
	EXPECT_STREQ(
		"invalid backend `flush' (use IPV4[:PORT], IPV6 or [IPV6][:PORT])",
		parse_error());
	EXPECT_EQ(-1, parse_line("add tcp 192.0.2.10:80 198.51.100.2 flush",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `flush' for backend add", parse_error());
	EXPECT_EQ(
		-1,
		parse_line("set tcp 192.0.2.10:80 198.51.100.2 weight 1 flush",
			   parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `flush' for backend set", parse_error());
	EXPECT_EQ(-1, parse_line("del tcp 192.0.2.10:80 198.51.100.2 weight 1",
				 parse_backend_cmd, &c));
	EXPECT_STREQ("unknown keyword `weight' for backend del", parse_error());
}

TEST(stats_cmd)
{
	struct config_cmd c;
	char out[512];

	ASSERT_EQ(0, parse_line("", parse_stats_cmd, &c));
	EXPECT_EQ(OP_SVC_SHOW, c.op);
	EXPECT_EQ(0, c.has);
	ASSERT_EQ(0, parse_line("tcp 192.0.2.10:80", parse_stats_cmd, &c));
	EXPECT_EQ(OP_SVC_SHOW, c.op);
	EXPECT_EQ(HAS_KEY, c.has);
	EXPECT_EQ(80, c.svc.port);

	ASSERT_EQ(0, parse_line("zero", parse_stats_cmd, &c));
	EXPECT_EQ(OP_STATS_ZERO, c.op);
	EXPECT_EQ(0, c.has);
	EXPECT_STREQ("stats zero", format_cmd(out, sizeof(out), &c));
	ASSERT_EQ(0, parse_line("zero tcp 192.0.2.10:80", parse_stats_cmd, &c));
	EXPECT_EQ(OP_STATS_ZERO, c.op);
	EXPECT_EQ(HAS_KEY, c.has);
	EXPECT_EQ(AF_INET, c.svc.af);
	EXPECT_EQ(IPPROTO_TCP, c.svc.proto);
	EXPECT_EQ(80, c.svc.port);
	EXPECT_STREQ("stats zero tcp 192.0.2.10:80",
		     format_cmd(out, sizeof(out), &c));
	ASSERT_EQ(0,
		  parse_line("zero udp [2001:db8::1]:0", parse_stats_cmd, &c));
	EXPECT_EQ(AF_INET6, c.svc.af);
	EXPECT_EQ(IPPROTO_UDP, c.svc.proto);
	EXPECT_EQ(0, c.svc.port);
	EXPECT_STREQ("stats zero udp [2001:db8::1]:0",
		     format_cmd_line(out, sizeof(out), &c));

	EXPECT_EQ(-1, parse_line("zero tcp", parse_stats_cmd, &c));
	EXPECT_STREQ("stats zero: missing VIP:PORT", parse_error());
	EXPECT_EQ(-1, parse_line("zero tcp 192.0.2.10", parse_stats_cmd, &c));
	EXPECT_NE(NULL, strstr(parse_error(), "`192.0.2.10'"));
	EXPECT_EQ(-1, parse_line("zero tcp 192.0.2.10:80 extra",
				 parse_stats_cmd, &c));
	EXPECT_STREQ("unexpected argument `extra' for stats zero",
		     parse_error());
	EXPECT_EQ(-1,
		  parse_line("zero sctp 192.0.2.10:80", parse_stats_cmd, &c));
	EXPECT_STREQ("invalid protocol `sctp' (use tcp, udp)", parse_error());
	EXPECT_EQ(-1, parse_line("zero zero", parse_stats_cmd, &c));
	EXPECT_STREQ("invalid protocol `zero' (use tcp, udp)", parse_error());
	EXPECT_EQ(-1, parse_line("zer", parse_stats_cmd, &c));
	EXPECT_STREQ(
		"unknown command or protocol `zer' for stats (use zero, help, tcp, udp)",
		parse_error());
	EXPECT_EQ(-1,
		  parse_line("Zero tcp 192.0.2.10:80", parse_stats_cmd, &c));
	EXPECT_NE(NULL, strstr(parse_error(), "`Zero'"));
	EXPECT_EQ(-1, parse_line("tcp", parse_stats_cmd, &c));
	EXPECT_STREQ("stats: missing VIP:PORT", parse_error());
	EXPECT_EQ(-1,
		  parse_line("tcp 192.0.2.10:80 zero", parse_stats_cmd, &c));
	EXPECT_STREQ("unexpected argument `zero' for stats", parse_error());
}

TEST(source)
{
	struct svc_key v4, v6;
	struct flow_src src;

	ASSERT_EQ(0, parse_vip("192.0.2.10:80", &v4));
	ASSERT_EQ(0, parse_vip("[2001:db8::1]:0", &v6));

	ASSERT_EQ(0, parse_source("203.0.113.5:40000", &v4, &src));
	EXPECT_STREQ("203.0.113.5", addr_str(AF_INET, &src.addr));
	EXPECT_EQ(40000, src.port);
	/* An IPv4 source leaves the rest of the address zero. */
	EXPECT_EQ(0, src.addr.raw[4] | src.addr.raw[15]);
	ASSERT_EQ(0, parse_source("0.0.0.0:0", &v4, &src));
	EXPECT_EQ(0, src.port);
	ASSERT_EQ(0, parse_source("203.0.113.5:65535", &v4, &src));
	EXPECT_EQ(65535, src.port);
	ASSERT_EQ(0, parse_source("[2001:db8::5]:40000", &v6, &src));
	EXPECT_STREQ("2001:db8::5", addr_str(AF_INET6, &src.addr));
	EXPECT_EQ(40000, src.port);
	ASSERT_EQ(0, parse_source("[::ffff:203.0.113.5]:1", &v6, &src));
	EXPECT_EQ(1, src.port);
}

TEST(source_bad)
{
	static const char *const bad[] = {
		"",
		"abc",
		"abc:80",
		"203.0.113",
		"203.0.113.5:",
		"203.0.113.5:65536",
		"203.0.113.5:-1",
		"203.0.113.5:0x10",
		"203.0.113.5:80:80",
		":80",
		"[2001:db8::5",
		"[2001:db8::5]:",
		"[2001:db8::5]80",
		"[203.0.113.5]:80",
		"[]:80",
	};
	struct svc_key v4, v6;
	struct flow_src src;
	size_t i;

	ASSERT_EQ(0, parse_vip("192.0.2.10:80", &v4));
	ASSERT_EQ(0, parse_vip("[2001:db8::1]:80", &v6));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		TH_LOG("source `%s'", bad[i]);
		EXPECT_EQ(-1, parse_source(bad[i], &v4, &src));
		EXPECT_EQ(-1, parse_source(bad[i], &v6, &src));
	}
	/* The source port is required. */
	EXPECT_EQ(-1, parse_source("203.0.113.5", &v4, &src));
	EXPECT_STREQ(
		"missing port in source `203.0.113.5' (use IPV4:PORT or [IPV6]:PORT)",
		parse_error());
	EXPECT_EQ(-1, parse_source("[2001:db8::5]", &v6, &src));
	EXPECT_STREQ(
		"missing port in source `[2001:db8::5]' (use IPV4:PORT or [IPV6]:PORT)",
		parse_error());
	EXPECT_EQ(-1, parse_source("2001:db8::5", &v6, &src));
	EXPECT_STREQ(
		"invalid source `2001:db8::5': write an IPv6 source as [IPV6]:PORT",
		parse_error());
	EXPECT_EQ(-1, parse_source("203.0.113.5:40000", &v6, &src));
	EXPECT_STREQ(
		"address family of source `203.0.113.5:40000' does not match VIP `[2001:db8::1]:80'",
		parse_error());
	EXPECT_EQ(-1, parse_source("[2001:db8::5]:40000", &v4, &src));
	EXPECT_STREQ(
		"address family of source `[2001:db8::5]:40000' does not match VIP `192.0.2.10:80'",
		parse_error());
	EXPECT_EQ(-1, parse_source("203.0.113.5:70000", &v4, &src));
	EXPECT_STREQ(
		"invalid port `70000' in source `203.0.113.5:70000' (use 0..65535)",
		parse_error());
	EXPECT_EQ(-1, parse_source("zz:1", &v4, &src));
	EXPECT_STREQ("invalid source `zz:1' (use IPV4:PORT or [IPV6]:PORT)",
		     parse_error());
}

TEST(lookup_cmd)
{
	struct config_cmd c;
	char out[512];

	ASSERT_EQ(0,
		  parse_line("lookup tcp 192.0.2.10:80 from 203.0.113.5:40000",
			     parse_service_cmd, &c));
	EXPECT_EQ(OP_SVC_LOOKUP, c.op);
	EXPECT_EQ(HAS_KEY | HAS_SRC, c.has);
	EXPECT_EQ(IPPROTO_TCP, c.svc.proto);
	EXPECT_EQ(80, c.svc.port);
	EXPECT_STREQ("203.0.113.5", addr_str(AF_INET, &c.src.addr));
	EXPECT_EQ(40000, c.src.port);
	EXPECT_STREQ("service lookup tcp 192.0.2.10:80 from 203.0.113.5:40000",
		     format_cmd(out, sizeof(out), &c));

	ASSERT_EQ(
		0,
		parse_line(
			"lookup udp [2001:db8::1]:0 from [2001:db8::5]:53 dport 5353",
			parse_service_cmd, &c));
	EXPECT_EQ(HAS_KEY | HAS_SRC | HAS_DPORT, c.has);
	EXPECT_EQ(AF_INET6, c.svc.af);
	EXPECT_EQ(IPPROTO_UDP, c.svc.proto);
	EXPECT_STREQ("2001:db8::5", addr_str(AF_INET6, &c.src.addr));
	EXPECT_EQ(53, c.src.port);
	EXPECT_EQ(5353, c.dport);
	EXPECT_STREQ(
		"service lookup udp [2001:db8::1]:0 from [2001:db8::5]:53 dport 5353",
		format_cmd(out, sizeof(out), &c));

	/* Keywords in any order; dport 0 is a port like any other. */
	ASSERT_EQ(
		0,
		parse_line("lookup tcp 192.0.2.10:0 dport 0 from 203.0.113.5:1",
			   parse_service_cmd, &c));
	EXPECT_EQ(HAS_KEY | HAS_SRC | HAS_DPORT, c.has);
	EXPECT_EQ(0, c.dport);
	/* Port 0 without dport: the kernel uses the service's port. */
	ASSERT_EQ(0, parse_line("lookup tcp 192.0.2.10:0 from 203.0.113.5:1",
				parse_service_cmd, &c));
	EXPECT_EQ(HAS_KEY | HAS_SRC, c.has);
}

TEST(lookup_cmd_errors)
{
	struct config_cmd c;

	EXPECT_EQ(-1, parse_line("lookup tcp 192.0.2.10:80", parse_service_cmd,
				 &c));
	EXPECT_STREQ(
		"service lookup: missing source (use from IPV4:PORT or from [IPV6]:PORT)",
		parse_error());
	EXPECT_EQ(-1, parse_line("lookup", parse_service_cmd, &c));
	EXPECT_STREQ("service lookup: missing PROTO", parse_error());
	EXPECT_EQ(-1, parse_line("lookup tcp", parse_service_cmd, &c));
	EXPECT_STREQ("service lookup: missing VIP:PORT", parse_error());
	EXPECT_EQ(-1, parse_line("lookup tcp 192.0.2.10:80 from",
				 parse_service_cmd, &c));
	EXPECT_STREQ(
		"service lookup: missing value after `from' (use IPV4:PORT or [IPV6]:PORT)",
		parse_error());
	EXPECT_EQ(-1, parse_line("lookup tcp 192.0.2.10:80 from 203.0.113.5",
				 parse_service_cmd, &c));
	EXPECT_STREQ(
		"missing port in source `203.0.113.5' (use IPV4:PORT or [IPV6]:PORT)",
		parse_error());
	EXPECT_EQ(
		-1,
		parse_line("lookup tcp [2001:db8::1]:80 from 203.0.113.5:40000",
			   parse_service_cmd, &c));
	EXPECT_STREQ(
		"address family of source `203.0.113.5:40000' does not match VIP `[2001:db8::1]:80'",
		parse_error());
	EXPECT_EQ(
		-1,
		parse_line(
			"lookup tcp 192.0.2.10:80 from 203.0.113.5:1 dport 80",
			parse_service_cmd, &c));
	EXPECT_STREQ(
		"service lookup: `dport' is only for a VIP of port 0, not `192.0.2.10:80'",
		parse_error());
	EXPECT_EQ(-1,
		  parse_line("lookup tcp 192.0.2.10:0 from 203.0.113.5:1 dport",
			     parse_service_cmd, &c));
	EXPECT_STREQ(
		"service lookup: missing value after `dport' (use 0..65535)",
		parse_error());
	EXPECT_EQ(
		-1,
		parse_line(
			"lookup tcp 192.0.2.10:0 from 203.0.113.5:1 dport 65536",
			parse_service_cmd, &c));
	EXPECT_STREQ("invalid port `65536' (use 0..65535)", parse_error());
	EXPECT_EQ(
		-1,
		parse_line(
			"lookup tcp 192.0.2.10:0 from 203.0.113.5:1 dport 1 dport 2",
			parse_service_cmd, &c));
	EXPECT_STREQ("duplicate keyword `dport' for service lookup",
		     parse_error());
	EXPECT_EQ(
		-1,
		parse_line(
			"lookup tcp 192.0.2.10:80 from 203.0.113.5:1 from 203.0.113.6:1",
			parse_service_cmd, &c));
	EXPECT_STREQ("duplicate keyword `from' for service lookup",
		     parse_error());
	/* Exact keywords only. */
	EXPECT_EQ(-1, parse_line("lookup tcp 192.0.2.10:80 fro 203.0.113.5:1",
				 parse_service_cmd, &c));
	EXPECT_STREQ("unknown keyword `fro' for service lookup", parse_error());
	EXPECT_EQ(-1, parse_line("lookup tcp 192.0.2.10:80 FROM 203.0.113.5:1",
				 parse_service_cmd, &c));
	EXPECT_EQ(
		-1,
		parse_line("lookup tcp 192.0.2.10:0 from 203.0.113.5:1 dpor 1",
			   parse_service_cmd, &c));
	EXPECT_EQ(-1, parse_line("look tcp 192.0.2.10:80 from 203.0.113.5:1",
				 parse_service_cmd, &c));
	EXPECT_EQ(
		-1,
		parse_line(
			"lookup tcp 192.0.2.10:80 from 203.0.113.5:1 sched rr",
			parse_service_cmd, &c));
	EXPECT_STREQ("unknown keyword `sched' for service lookup",
		     parse_error());
	EXPECT_EQ(-1, parse_line("lookup sctp 192.0.2.10:80 from 203.0.113.5:1",
				 parse_service_cmd, &c));
	EXPECT_STREQ("invalid protocol `sctp' (use tcp, udp)", parse_error());
}

TEST(pin_names)
{
	EXPECT_STREQ("none", pin_name(VIPLB_PIN_NONE));
	EXPECT_STREQ("flow", pin_name(VIPLB_PIN_FLOW));
	EXPECT_STREQ("conntrack", pin_name(VIPLB_PIN_CONNTRACK));
	EXPECT_EQ(NULL, pin_name(VIPLB_PIN_MAX + 1));
}

TEST(restore_lines)
{
	struct config_cmd c;

	ASSERT_EQ(0, parse_line("flush", parse_config_cmd, &c));
	EXPECT_EQ(OP_FLUSH, c.op);
	ASSERT_EQ(0, parse_line("service add tcp 192.0.2.10:80",
				parse_config_cmd, &c));
	EXPECT_EQ(OP_SVC_ADD, c.op);
	ASSERT_EQ(0, parse_line("backend del tcp 192.0.2.10:80 198.51.100.2",
				parse_config_cmd, &c));
	EXPECT_EQ(OP_BE_DEL, c.op);
	EXPECT_EQ(-1, parse_line("flush now", parse_config_cmd, &c));
	EXPECT_EQ(-1, parse_line("show", parse_config_cmd, &c));
	EXPECT_STREQ(
		"`show' not allowed in restore (use service, backend, flush)",
		parse_error());
	EXPECT_EQ(-1, parse_line("service show", parse_config_cmd, &c));
	EXPECT_STREQ("`service show' not allowed in restore", parse_error());
	EXPECT_EQ(-1, parse_line("service", parse_config_cmd, &c));
	EXPECT_EQ(
		-1,
		parse_line(
			"service lookup tcp 192.0.2.10:80 from 203.0.113.5:40000",
			parse_config_cmd, &c));
	EXPECT_STREQ("`service lookup' not allowed in restore", parse_error());
	EXPECT_EQ(-1, parse_line("stats", parse_config_cmd, &c));
	EXPECT_STREQ(
		"`stats' not allowed in restore (use service, backend, flush)",
		parse_error());
	EXPECT_EQ(-1, parse_line("stats zero", parse_config_cmd, &c));
	EXPECT_STREQ("`stats zero' not allowed in restore (use it with -b)",
		     parse_error());
	EXPECT_EQ(-1, parse_line("stats zero tcp 192.0.2.10:80",
				 parse_config_cmd, &c));
	EXPECT_STREQ("`stats zero' not allowed in restore (use it with -b)",
		     parse_error());
	EXPECT_EQ(-1,
		  parse_line("backend del tcp 192.0.2.10:80 198.51.100.2 flush",
			     parse_config_cmd, &c));
	EXPECT_STREQ(
		"`backend del ... flush' not allowed in restore (use it with -b)",
		parse_error());
	EXPECT_EQ(-1, parse_line("save", parse_config_cmd, &c));
	EXPECT_EQ(-1, parse_line("restore", parse_config_cmd, &c));
	EXPECT_EQ(-1, parse_line("frobnicate", parse_config_cmd, &c));
	EXPECT_STREQ(
		"unknown object `frobnicate' (use service, backend, flush)",
		parse_error());
	EXPECT_EQ(-1, parse_line("service add tcp 192.0.2.10:80 mode nat2",
				 parse_config_cmd, &c));
	EXPECT_STREQ("invalid mode `nat2' (use nat, dr, tun)", parse_error());
}

/* format_cmd_line() output must parse back to the same line. */
TEST(format_round_trip)
{
	static const char *const lines[] = {
		"service add tcp 192.0.2.10:80 sched maglev mode nat table-size 65537",
		"service add udp [2001:db8::1]:0 sched sh mode tun table-size 251 snat",
		"service set tcp 192.0.2.10:80 sched rr nosnat",
		"service set tcp 192.0.2.10:80 table-size auto",
		"service add tcp 192.0.2.11:80 sched maglev mode dr table-size auto",
		"service del tcp 192.0.2.10:80",
		"backend add tcp 192.0.2.10:80 198.51.100.2:8080 weight 5",
		"backend add udp [2001:db8::1]:53 [2001:db8::2]:0 weight 0",
		"backend set tcp 192.0.2.10:80 198.51.100.2:80 weight 65535",
		"backend del tcp 192.0.2.10:80 198.51.100.2:80",
		"flush",
	};
	struct config_cmd c;
	char out[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		ASSERT_EQ(0, parse_line(lines[i], parse_config_cmd, &c));
		EXPECT_STREQ(lines[i], format_cmd_line(out, sizeof(out), &c));
	}
	ASSERT_EQ(0, parse_line("backend add tcp 192.0.2.10:80 198.51.100.2",
				parse_config_cmd, &c));
	EXPECT_STREQ("backend add tcp 192.0.2.10:80 198.51.100.2:80",
		     format_cmd(out, sizeof(out), &c));
}

static void json_string_fn(FILE *fp, const void *arg)
{
	print_json_string(fp, arg);
}

TEST(json_escape)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "tcp", "\"tcp\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"" },
		{ "\x01\x1f", "\"\\u0001\\u001f\"" },
		{ "/\x7f", "\"/\x7f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "\xe2\x82\xac", "\"\xe2\x82\xac\"" },
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
		{ "\xff", "\"\\ufffd\"" },
		{ "a\xc3", "\"a\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
	};
	size_t i;
	char *out;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		out = capture(json_string_fn, cases[i].in);
		ASSERT_NE(NULL, out);
		EXPECT_STREQ(cases[i].out, out);
		free(out);
	}
}

/* A service-like object through the one print path. */
static void sample(FILE *fp, const void *arg)
{
	const bool *mode = arg;

	print_init(fp, mode[0], mode[1]);
	open_json_array(NULL);
	open_json_object(NULL);
	print_string(PRINT_ANY, "proto", "service %s", "tcp");
	print_uint(PRINT_ANY, "port", " port %u", 80);
	open_json_array("flags");
	print_string(PRINT_ANY, NULL, " %s", "snat");
	close_json_array();
	open_json_array("backends");
	close_json_array();
	print_fp("\n");
	open_json_object("stats");
	print_u64(PRINT_JSON, "bytes_in", NULL, 1ULL << 40);
	close_json_object();
	close_json_object();
	close_json_array();
}

TEST(print_path)
{
	bool text[2] = { false, false }, json[2] = { true, false },
	     pretty[2] = { true, true };
	char *out;

	out = capture(sample, text);
	EXPECT_STREQ("service tcp port 80 snat\n", out);
	free(out);
	out = capture(sample, json);
	EXPECT_STREQ(
		"[{\"proto\":\"tcp\",\"port\":80,\"flags\":[\"snat\"],\"backends\":[],\"stats\":{\"bytes_in\":1099511627776}}]\n",
		out);
	free(out);
	out = capture(sample, pretty);
	EXPECT_STREQ("[\n"
		     "    {\n"
		     "        \"proto\": \"tcp\",\n"
		     "        \"port\": 80,\n"
		     "        \"flags\": [\n"
		     "            \"snat\"\n"
		     "        ],\n"
		     "        \"backends\": [],\n"
		     "        \"stats\": {\n"
		     "            \"bytes_in\": 1099511627776\n"
		     "        }\n"
		     "    }\n"
		     "]\n",
		     out);
	free(out);
}

static void empty_array(FILE *fp, const void *arg)
{
	const bool *mode = arg;

	print_init(fp, mode[0], mode[1]);
	open_json_array(NULL);
	close_json_array();
}

TEST(print_empty)
{
	bool json[2] = { true, false }, pretty[2] = { true, true },
	     text[2] = { false, false };
	char *out;

	out = capture(empty_array, json);
	EXPECT_STREQ("[]\n", out);
	free(out);
	out = capture(empty_array, pretty);
	EXPECT_STREQ("[]\n", out);
	free(out);
	out = capture(empty_array, text);
	EXPECT_STREQ("", out);
	free(out);
}

/* A lookup answer without a backend: null in JSON, a sentence in text. */
static void null_sample(FILE *fp, const void *arg)
{
	const bool *mode = arg;

	print_init(fp, mode[0], mode[1]);
	open_json_object(NULL);
	print_string(PRINT_JSON, "pin", NULL, "none");
	print_null(PRINT_ANY, "backend", "no backend\n");
	print_null(PRINT_JSON, "other", "never in text\n");
	close_json_object();
}

TEST(print_null_value)
{
	bool text[2] = { false, false }, json[2] = { true, false },
	     pretty[2] = { true, true };
	char *out;

	out = capture(null_sample, text);
	EXPECT_STREQ("no backend\n", out);
	free(out);
	out = capture(null_sample, json);
	EXPECT_STREQ("{\"pin\":\"none\",\"backend\":null,\"other\":null}\n",
		     out);
	free(out);
	out = capture(null_sample, pretty);
	EXPECT_STREQ("{\n"
		     "    \"pin\": \"none\",\n"
		     "    \"backend\": null,\n"
		     "    \"other\": null\n"
		     "}\n",
		     out);
	free(out);
}

TEST_HARNESS_MAIN
