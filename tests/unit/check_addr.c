/*
 * check_addr: parsing, formatting and resolving endpoint addresses.
 */
#include <check.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "addr.h"
#include "fixture.h"

/* Valid addresses: text, expected host, port, family once parsed (0:
 * not resolved yet), and the canonical text addr_format prints. */
static const struct {
	const char *in;
	const char *host;
	const char *port;
	int family;
	const char *out;
} good[] = {
    {"127.0.0.1:5432", "127.0.0.1", "5432", AF_INET, "127.0.0.1:5432"},
    {"0.0.0.0:7400", "0.0.0.0", "7400", AF_INET, "0.0.0.0:7400"},
    {"[::1]:443", "::1", "443", AF_INET6, "[::1]:443"},
    {"[::]:1", "::", "1", AF_INET6, "[::]:1"},
    {"[2001:db8::5]:65535", "2001:db8::5", "65535", AF_INET6,
	"[2001:db8::5]:65535"},
    {"localhost:80", "localhost", "80", 0, "localhost:80"},
    {"db.example.com:5432", "db.example.com", "5432", 0,
	"db.example.com:5432"},
    {"a-b.c9:9", "a-b.c9", "9", 0, "a-b.c9:9"},
    {"unix:/run/pg.sock", "/run/pg.sock", "", AF_UNIX, "unix:/run/pg.sock"},
};

START_TEST(test_good)
{
	struct addr a;
	char err[128], buf[ADDR_TEXT_MAX + 8];

	err[0] = '\0';
	ck_assert_msg(addr_parse(good[_i].in, &a, err, sizeof(err)) == 0,
	    "%s: %s", good[_i].in, err);
	ck_assert_str_eq(a.host, good[_i].host);
	ck_assert_str_eq(a.port, good[_i].port);
	ck_assert_int_eq(a.is_unix, good[_i].family == AF_UNIX);
	if (good[_i].family == 0) {
		ck_assert_int_eq(a.salen, 0);
	} else {
		ck_assert_int_gt(a.salen, 0);
		ck_assert_int_eq(a.sa.ss_family, good[_i].family);
	}
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), good[_i].out);
}
END_TEST

START_TEST(test_sockaddr)
{
	struct addr a;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct sockaddr_un *sun;
	char err[128];

	ck_assert_int_eq(addr_parse("10.1.2.3:5432", &a, err, sizeof(err)), 0);
	sin = (struct sockaddr_in *)&a.sa;
	ck_assert_int_eq(ntohs(sin->sin_port), 5432);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x0a010203);
	ck_assert_int_eq(a.salen, sizeof(*sin));

	ck_assert_int_eq(addr_parse("[::1]:65535", &a, err, sizeof(err)), 0);
	sin6 = (struct sockaddr_in6 *)&a.sa;
	ck_assert_int_eq(ntohs(sin6->sin6_port), 65535);
	ck_assert_int_eq(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr), 1);

	ck_assert_int_eq(addr_parse("unix:/tmp/x", &a, err, sizeof(err)), 0);
	sun = (struct sockaddr_un *)&a.sa;
	ck_assert_str_eq(sun->sun_path, "/tmp/x");
	ck_assert_int_eq(a.salen,
	    offsetof(struct sockaddr_un, sun_path) + strlen("/tmp/x") + 1);
}
END_TEST

/* Invalid addresses and the exact message each gets. */
static const struct {
	const char *in;
	const char *msg;
} bad[] = {
    {"", "empty address"},
    {"127.0.0.1", "missing port: expected host:port, [v6]:port or "
		  "unix:/path"},
    {"127.0.0.1:", "missing port after ':'"},
    {":80", "missing host before ':'"},
    {"127.0.0.1:0", "invalid port \"0\" (a number from 1 to 65535)"},
    {"127.0.0.1:65536", "invalid port \"65536\" (a number from 1 to 65535)"},
    {"127.0.0.1:080", "invalid port \"080\" (a number from 1 to 65535)"},
    {"127.0.0.1:+80", "invalid port \"+80\" (a number from 1 to 65535)"},
    {"127.0.0.1:8o", "invalid port \"8o\" (a number from 1 to 65535)"},
    {"127.0.0.1:123456", "invalid port \"123456\" (a number from 1 to "
			 "65535)"},
    {"::1:80", "IPv6 addresses need brackets: [::1]:PORT"},
    {"[::1]", "expected ':PORT' after ']'"},
    {"[::1]80", "expected ':PORT' after ']'"},
    {"[::1:80", "missing ']' after IPv6 address"},
    {"[zz::1]:80", "invalid IPv6 address \"zz::1\""},
    {"[127.0.0.1]:80", "invalid IPv6 address \"127.0.0.1\""},
    {"[]:80", "invalid IPv6 address \"\""},
    {"1.2.3:80", "invalid host \"1.2.3\" (an IPv4 address, a [v6] address "
		 "or a DNS name)"},
    {"256.1.1.1:80", "invalid host \"256.1.1.1\" (an IPv4 address, a [v6] "
		     "address or a DNS name)"},
    {"bad_host:80", "invalid host \"bad_host\" (an IPv4 address, a [v6] "
		    "address or a DNS name)"},
    {"-a.example:80", "invalid host \"-a.example\" (an IPv4 address, a "
		      "[v6] address or a DNS name)"},
    {"a..b:80", "invalid host \"a..b\" (an IPv4 address, a [v6] address or "
		"a DNS name)"},
    {"a b:80", "address contains a space or control character"},
    {"a\tb:80", "address contains a space or control character"},
    {"unix:", "unix socket path must be absolute: unix:/path"},
    {"unix:run/x.sock", "unix socket path must be absolute: unix:/path"},
};

START_TEST(test_bad)
{
	struct addr a;
	char err[128];

	ck_assert_msg(addr_parse(bad[_i].in, &a, err, sizeof(err)) == -1,
	    "\"%s\" accepted", bad[_i].in);
	ck_assert_str_eq(err, bad[_i].msg);
	ck_assert_int_eq(a.salen, 0);
}
END_TEST

START_TEST(test_lengths)
{
	struct addr a;
	char s[ADDR_TEXT_MAX + 16], err[128];
	struct sockaddr_un sun;

	/* The longest unix path that fits, then one more character. */
	memset(s, 'a', sizeof(s));
	memcpy(s, "unix:/", 6);
	s[5 + sizeof(sun.sun_path) - 1] = '\0';
	ck_assert_int_eq(addr_parse(s, &a, err, sizeof(err)), 0);
	s[5 + sizeof(sun.sun_path) - 1] = 'a';
	s[5 + sizeof(sun.sun_path)] = '\0';
	ck_assert_int_eq(addr_parse(s, &a, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unix socket path too long (at most 107 "
			      "characters)");
	/* Whole address too long. */
	memset(s, 'a', sizeof(s));
	strcpy(s + ADDR_TEXT_MAX - 3, ":80");
	ck_assert_int_eq(addr_parse(s, &a, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "address too long (at most 255 characters)");
	/* A 64-character DNS label is too long, 63 is fine. */
	memset(s, 'a', 63);
	strcpy(s + 63, ".example:1");
	ck_assert_int_eq(addr_parse(s, &a, err, sizeof(err)), 0);
	memset(s, 'a', 64);
	strcpy(s + 64, ".example:1");
	ck_assert_int_eq(addr_parse(s, &a, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_round_trip)
{
	struct addr a, b;
	char err[128], buf[ADDR_TEXT_MAX + 8];

	/* Whatever parses, formats to text that parses to the same. */
	ck_assert_int_eq(addr_parse(good[_i].in, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(addr_parse(addr_format(&a, buf, sizeof(buf)), &b, err,
			     sizeof(err)),
	    0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
}
END_TEST

/* addr_set: a name gets an address and keeps its text and port. */
START_TEST(test_set)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct addr a;
	char err[160], buf[300];

	ck_assert_int_eq(addr_parse("localhost:9", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(a.salen, 0);
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(53); /* a resolver's port is not used */
	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", &s4->sin_addr), 1);
	addr_set(&a, &ss);
	ck_assert_int_eq(a.salen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&a.sa)->sin_port), 9);
	ck_assert_str_eq(addr_format(&a, buf, sizeof(buf)), "localhost:9");
	ck_assert(addr_is_loopback(&a));
}
END_TEST

/* addr_at: one resolved address of a name, with the name's port. */
START_TEST(test_at)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct addr name, at, same;
	char err[160], buf[300];

	ck_assert_int_eq(addr_parse("relays.test:7400", &name, err,
	    sizeof(err)), 0);
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(1); /* a resolver's port is not used */
	ck_assert_int_eq(inet_pton(AF_INET, "198.18.0.11", &s4->sin_addr), 1);
	addr_at(&name, &ss, &at);
	ck_assert_str_eq(addr_format(&at, buf, sizeof(buf)),
	    "198.18.0.11:7400");
	ck_assert_int_eq(at.salen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&at.sa)->sin_port),
	    7400);
	/* The same as the address written numerically. */
	ck_assert_int_eq(addr_parse("198.18.0.11:7400", &same, err,
	    sizeof(err)), 0);
	ck_assert(addr_same(&at, &same));
	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::7", &s6->sin6_addr),
	    1);
	addr_at(&name, &ss, &at);
	ck_assert_str_eq(addr_format(&at, buf, sizeof(buf)),
	    "[2001:db8::7]:7400");
	ck_assert_int_eq(at.salen, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&at.sa)->sin6_port),
	    7400);
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, test_sockaddr);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_loop_test(tc, test_round_trip, 0,
	    sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, test_at);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_set);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(addr_suite()));
}
