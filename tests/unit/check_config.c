/*
 * check_config: valid configurations parse into the expected structures;
 * malformed ones fail with the exact "FILE:LINE: message".
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fixture.h"
#include "identity.h"

#define ID_A "I13dfa2b5532b8a98de05e2aa8082a5947e64fc571720e3f2c26ea96181143e64"
#define ID_B "I844638b41cfa419657fa04405c09e150f74495d78b724cfb55fa9fc926032994"
#define ID_C "I0000000000000000000000000000000000000000000000000000000000000001"
#define ID_D "I0000000000000000000000000000000000000000000000000000000000000002"
#define ID_E "I0000000000000000000000000000000000000000000000000000000000000003"
#define ID_UPPER                                                               \
	"I13DFA2B5532B8A98DE05E2AA8082A5947E64FC571720E3F2C26EA96181143E64"

/* A [node] section: 2 lines, or 3 with a listen address. */
#define NODE "[node]\nidentity = k\n"
#define NODEL "[node]\nidentity = k\nlisten = 127.0.0.1:7400\n"
/* NODEL plus one peer "app" (line 5) and "db" (line 6). */
#define PEERS NODEL "[peers]\napp = " ID_A "\ndb = " ID_B "\n"

#define NAME_ERR                                                               \
	"(letters, digits, '.', '_' and '-', starting with a letter or digit)"
#define SECS(k, m) k " must be a number of seconds up to " m " (like 10 or 2.5)"
#define PSECS(k, m)                                                            \
	k " must be a positive number of seconds up to " m " (like 10 or 2.5)"
#define HOST_ERR "(an IPv4 address, a [v6] address or a DNS name)"

static const struct {
	const char *text;
	int line;
	const char *msg;
} bad[] = {
    /* 0: structure */
    {"", 1, "missing [node] section (with identity = KEYFILE)"},
    {"; only a comment\n[peers]\n", 1,
	"missing [node] section (with identity = KEYFILE)"},
    {"\n[node]\nlisten = 127.0.0.1:7400\n", 2,
	"[node] has no identity = KEYFILE"},
    {"identity = k\n" NODE, 1, "key \"identity\" outside any section"},
    {NODE "[bogus]\n", 3, "unknown section [bogus] (expected [node], "
			  "[peers], [authorities], [outlet NAME], "
			  "[inlet NAME], [relay NAME] or [authority NAME])"},
    {NODE "[Node]\n", 3, "unknown section [Node] (expected [node], [peers], "
			 "[authorities], [outlet NAME], [inlet NAME], "
			 "[relay NAME] or [authority NAME])"},
    {NODE "[node]\n", 3, "duplicate [node] section (first on line 1)"},
    {NODE "[peers]\n[peers]\n", 4,
	"duplicate [peers] section (first on line 3)"},
    {"[node x]\nidentity = k\n", 1, "[node] takes no name"},
    {NODE "[relay r1]\n", 3, "[relay r1] needs listen = HOST:PORT in [node] "
			      "(where nodes reach this relay)"},
    /* 10 */
    {NODE "[outlet]\n", 3, "[outlet] needs a name: [outlet NAME]"},
    {NODE "[inlet]\n", 3, "[inlet] needs a name: [inlet NAME]"},
    {NODE "[outlet a/b]\n", 3, "invalid outlet name \"a/b\" " NAME_ERR},
    {NODE "[inlet -x]\n", 3, "invalid inlet name \"-x\" " NAME_ERR},
    {NODE "[outlet "
	  "a123456789b123456789c123456789d123456789e123456789f123456789g123]\n",
	3,
	"outlet name "
	"\"a123456789b123456789c123456789d123456789e123456789f123456789g123\" "
	"is too long (at most 63 characters)"},
    {"[node\nidentity = k\n", 1, "malformed section header (missing ']')"},
    {"[node] extra\nidentity = k\n", 1,
	"unexpected text after section header"},
    {"[node]\nidentity\n", 2,
	"syntax error (expected [section], key = value or a ; comment)"},
    {NODE "identity = j\n", 3,
	"duplicate key \"identity\" in [node] (first on line 2)"},
    {NODE "colour = blue\n", 3, "unknown key \"colour\" in [node]"},
    /* 20: [node] values */
    {"[node]\nidentity =\n", 2, "empty value for \"identity\""},
    {NODE "listen = 127.0.0.1\n", 3, "listen: missing port: expected "
				     "host:port, [v6]:port or unix:/path"},
    {NODE "listen = 127.0.0.1:0\n", 3,
	"listen: invalid port \"0\" (a number from 1 to 65535)"},
    {NODE "listen = 127.0.0.1:65536\n", 3,
	"listen: invalid port \"65536\" (a number from 1 to 65535)"},
    {NODE "listen = ::1:7400\n", 3,
	"listen: IPv6 addresses need brackets: [::1]:PORT"},
    {NODE "max_connections = 0\n", 3,
	"max_connections must be a whole number from 1 to 1000000"},
    {NODE "max_handshakes = 12x\n", 3,
	"max_handshakes must be a whole number from 1 to 100000"},
    {NODE "handshake_timeout = 10s\n", 3, PSECS("handshake_timeout", "3600")},
    {NODE "connect_timeout = 0\n", 3, PSECS("connect_timeout", "3600")},
    {NODE "idle_timeout = -1\n", 3, SECS("idle_timeout", "604800")},
    /* 30 */
    {NODE "shutdown_grace = 1e3\n", 3, SECS("shutdown_grace", "3600")},
    {NODE "keepalive = 3601\n", 3, SECS("keepalive", "3600")},
    {NODE "keepalive = .5\n", 3, SECS("keepalive", "3600")},
    {NODE "log_level = loud\n", 3,
	"log_level must be error, warn, info or debug"},
    {NODE "user = no body\n", 3,
	"user must be a user name of at most 32 letters, digits, '.', '_' "
	"and '-', not starting with '-'"},
    {NODE "user = -root\n", 3,
	"user must be a user name of at most 32 letters, digits, '.', '_' "
	"and '-', not starting with '-'"},
    {NODE "group = a123456789b123456789c123456789d12\n", 3,
	"group must be a group name of at most 32 letters, digits, '.', '_' "
	"and '-', not starting with '-'"},
    {NODE "user = nobody\nuser = daemon\n", 4,
	"duplicate key \"user\" in [node] (first on line 3)"},
    {NODE "allow_root = true\n", 3, "allow_root must be yes or no"},
    {NODE "allow_root =\n", 3, "empty value for \"allow_root\""},
    {NODE "resume = on\n", 3, "resume must be yes or no"},
    /* [peers] */
    {NODE "[peers]\napp = I123\n", 4,
	"malformed identifier for peer \"app\" (expected I and 64 lowercase "
	"hex digits, as sallyport identity show prints)"},
    {NODE "[peers]\napp = " ID_UPPER "\n", 4,
	"malformed identifier for peer \"app\" (expected I and 64 lowercase "
	"hex digits, as sallyport identity show prints)"},
    {NODE "[peers]\napp = " ID_A "\napp = " ID_B "\n", 5,
	"duplicate peer \"app\" (first on line 4)"},
    {NODE "[peers]\na b = " ID_A "\n", 4,
	"invalid peer name \"a b\" " NAME_ERR},
    {NODE "[peers]\na = " ID_A "\nb = " ID_A "\n", 5,
	"peer \"b\" has the same identifier as \"a\" (line 4)"},
    /* [outlet NAME] */
    {NODEL "[outlet pg]\nallow = " ID_A "\n", 4,
	"[outlet pg] has no target = HOST:PORT"},
    /* 40 */
    {NODE "[outlet pg]\ntarget = 127.0.0.1:5432\n", 3,
	"[outlet pg] needs listen = HOST:PORT in [node] (where inlets reach "
	"this node)"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = bob\n", 9,
	"unknown peer \"bob\" (not in [peers]; or give its identifier)"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = " ID_UPPER "\n", 9,
	"malformed identifier \"" ID_UPPER
	"\" (expected I and 64 lowercase hex digits)"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = app,,db\n", 9,
	"empty entry in allow list"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = app,\n", 9,
	"empty entry in allow list"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = app\nallow = "
	   "app\n",
	10, "\"app\" is allowed twice in [outlet pg]"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = app, " ID_A "\n",
	9, "\"" ID_A "\" is allowed twice in [outlet pg]"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = a/b\n", 9,
	"invalid peer name or identifier \"a/b\""},
    {NODEL "[outlet pg]\ntarget = unix:pg.sock\n", 5,
	"target: unix socket path must be absolute: unix:/path"},
    {NODEL "[outlet pg]\ntarget = bad_host:5432\n", 5,
	"target: invalid host \"bad_host\" " HOST_ERR},
    /* 50 */
    {NODEL "[outlet pg]\ntarget = 127.0.0.1:5432\ntarget = 127.0.0.1:5433\n",
	6, "duplicate key \"target\" in [outlet pg] (first on line 5)"},
    {NODEL "[outlet pg]\ntarget = 127.0.0.1:5432\nallowed = x\n", 6,
	"unknown key \"allowed\" in [outlet pg]"},
    {NODEL "[outlet pg]\ntarget = 127.0.0.1:5432\n[outlet pg]\n", 6,
	"duplicate [outlet pg] (first on line 4)"},
    /* intercept (transparent inlets) and proxy_protocol */
    {NODE "intercept = 10.0.0.1:15001\n", 3,
	"intercept address 10.0.0.1:15001 is not loopback (127.0.0.0/8 or "
	"::1): the interception listener must stay on this host"},
    {NODE "intercept = 127.0.0.1:15001, 127.0.0.2:15001\n", 3,
	"intercept: at most one IPv4 and one IPv6 address"},
    {NODE "intercept = unix:/x\n", 3,
	"intercept: unix:/x is a unix socket (an IP address and port are "
	"needed)"},
    {PEERS "[inlet pg]\nintercept = 10.0.0.5:5432\noutlet = db@10.0.0.1:7400"
	   "\n", 8, "[inlet pg] intercept needs intercept = HOST:PORT in "
		    "[node] (the interception listener)"},
    {NODEL "intercept = 127.0.0.1:15001\n[peers]\ndb = " ID_B "\n[inlet a]\n"
	   "intercept = 10.0.0.5:5432\noutlet = db@10.0.0.1:7400\n[inlet b]\n"
	   "intercept = 10.0.0.6:1, 10.0.0.5:5432\noutlet = db@10.0.0.1:7400\n",
	11, "intercept address 10.0.0.5:5432 is declared twice ([inlet a])"},
    {NODEL "[outlet pg]\ntarget = 127.0.0.1:5432\nproxy_protocol = v1\n", 6,
	"proxy_protocol must be off or v2"},
    /* [inlet NAME] */
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400"
	"\ndeny = app\n", 10, "deny in [inlet pg] takes effect only with "
	"outlet = RULE (an outlet pinned by identity is that one node)"},
    {PEERS "[inlet pg]\noutlet = db@10.0.0.1:7400\n", 7,
	"[inlet pg] has no listen = HOST:PORT (or intercept = HOST:PORT)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\n", 7,
	"[inlet pg] has no outlet = PEER@HOST:PORT (the outlet node's pinned "
	"identity and address)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = 10.0.0.1:7400\n",
	9, "outlet must be PEER@HOST:PORT (the outlet node's pinned identity, "
	   "then its address)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = @10.0.0.1:7400\n",
	9, "outlet has no pinned identity before '@' (a peer name or "
	   "identifier)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = dbx@10.0.0.1:7400"
	   "\n",
	9, "unknown peer \"dbx\" (not in [peers]; or give its identifier)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1\n", 9,
	"outlet: missing port: expected host:port, [v6]:port or unix:/path"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400"
	   "\nservice = a b\n",
	10, "invalid service name \"a b\" " NAME_ERR},
    /* 60 */
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\nlisten = 127.0.0.1:1\n",
	9, "duplicate key \"listen\" in [inlet pg] (first on line 8)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400"
	   "\nport = 5\n",
	10, "unknown key \"port\" in [inlet pg]"},
    {PEERS "[inlet a]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400\n"
	   "[inlet b]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400\n",
	11, "listen address 127.0.0.1:15432 clashes with [inlet a] (line 8)"},
    {PEERS "[inlet a]\nlisten = 0.0.0.0:15432\noutlet = db@10.0.0.1:7400\n"
	   "[inlet b]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400\n",
	11, "listen address 127.0.0.1:15432 clashes with [inlet a] (line 8)"},
    {PEERS "[inlet a]\nlisten = 127.0.0.1:7400\noutlet = db@10.0.0.1:7400\n",
	8, "listen address 127.0.0.1:7400 is also [node] listen (line 3)"},
    {PEERS "[inlet a]\nlisten = unix:/run/a\noutlet = db@10.0.0.1:7400\n"
	   "[inlet b]\nlisten = unix:/run/a\noutlet = db@10.0.0.1:7400\n",
	11, "listen address unix:/run/a clashes with [inlet a] (line 8)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400"
	   "\n[inlet pg]\n",
	10, "duplicate [inlet pg] (first on line 7)"},
    /* Lines inih would mangle. */
    {NODE "; a very long comment "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "x"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	3, "line too long (at most 198 characters)"},
    /* The earlier of an inih syntax error and a handler error wins. */
    {NODE "junk\ncolour = blue\n", 3,
	"syntax error (expected [section], key = value or a ; comment)"},
    {NODE "colour = blue\njunk\n", 3, "unknown key \"colour\" in [node]"},
    /* Relays (docs/relay.md). */
    {PEERS "[relay pg]\nregister = db\nsource = app\n", 9,
	"unknown key \"source\" in [relay pg]"},
    {PEERS "[relay pg]\nregister = db\nfrom = app\n", 9,
	"from: bad address range \"app\" (expected NET/BITS, e.g. "
	"10.1.0.0/16 or fd00::/8)"},
    {PEERS "[relay pg]\n[relay pg]\n", 8,
	"duplicate [relay pg] (first on line 7)"},
    {PEERS "[relay]\n", 7, "[relay] needs a name: [relay NAME]"},
    {PEERS "[relay pg]\nregister = db, db\n", 8,
	"\"db\" is listed twice in register of [relay pg]"},
    {PEERS "[relay pg]\nallow = bob\n", 8,
	"unknown peer \"bob\" (not in [peers]; or give its identifier)"},
    {PEERS "[relay pg]\nvia = 10.0.0.1:7400\n", 8,
	"via must be PEER@HOST:PORT (the next relay's pinned identity, then "
	"its address)"},
    {PEERS "[relay pg]\nvia = db@10.0.0.1:7400\nvia = db@10.0.0.1:7400\n",
	9, "duplicate key \"via\" in [relay pg] (first on line 8)"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nrelay = db\n", 9,
	"relay must be PEER@HOST:PORT (the relay's pinned identity, then its "
	"address)"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nrelay = db@r.test:7400\n"
	   "relay = db@r.test:7400\n", 10,
	"relay = db@r.test:7400 given twice in [outlet pg] (first on line 9)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db\n"
	   "via = db@10.0.0.1:1\nvia = db@10.0.0.1:2\nvia = db@10.0.0.1:3\n"
	   "via = db@10.0.0.1:4\nvia = db@10.0.0.1:5\nvia = db@10.0.0.1:6\n"
	   "via = db@10.0.0.1:7\nvia = db@10.0.0.1:8\nvia = db@10.0.0.1:9\n",
	18, "too many via lines in [inlet pg] (at most 8)"},
    {NODE "relay_resolve = 0\n", 3,
	PSECS("relay_resolve", "3600")},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\npool = 65\n", 9,
	"pool must be a whole number from 1 to 64"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nmax_dials = 100001\n", 9,
	"max_dials must be a whole number from 0 to 100000"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nmax_dials = -1\n", 9,
	"max_dials must be a whole number from 0 to 100000"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\n"
	   "max_connections_per_peer = 1000001\n", 9,
	"max_connections_per_peer must be a whole number from 0 to 1000000"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\n"
	   "new_connections_per_second = 1.5\n", 9,
	"new_connections_per_second must be a whole number from 0 to "
	"1000000"},
    {PEERS "[relay pg]\nnew_connections_burst = x\n", 8,
	"new_connections_burst must be a whole number from 0 to 1000000"},
    {PEERS "[relay pg]\nmax_connections_per_peer = 1\n"
	   "max_connections_per_peer = 2\n", 9,
	"duplicate key \"max_connections_per_peer\" in [relay pg] (first "
	"on line 8)"},
    {PEERS "[outlet pg]\ntarget = 127.0.0.1:5432\nmax_dials = 2\n"
	   "max_dials = 3\n", 10,
	"duplicate key \"max_dials\" in [outlet pg] (first on line 9)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db@10.0.0.1:7400"
	   "\nvia = app@10.0.0.9:7400\n",
	9, "with via, outlet is just the outlet's pinned identity (no "
	   "@address)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db\nvia = app\n",
	10, "via must be PEER@HOST:PORT (the relay's pinned identity, then its "
	    "address)"},
    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db\n"
	   "via = hub@10.0.0.9:7400\n",
	10, "unknown peer \"hub\" (not in [peers]; or give its identifier)"},
    /* [authority NAME] (issue 21) */
    {NODEL "[authority corp]\nstore = s.db\n", 4,
	"[authority corp] has no key = FILE (the authority key: sallyport "
	"authority create)"},
    {NODE "[authority corp]\nkey = ca.key\n", 3,
	"[authority corp] needs address = HOST:PORT (where nodes reach it: "
	"tokens carry it), as [node] listen is not set"},
    {"[node]\nidentity = k\nlisten = 0.0.0.0:7400\n"
     "[authority corp]\nkey = ca.key\n", 4,
	"[authority corp] needs address = HOST:PORT (where nodes reach it: "
	"tokens carry it), as [node] listen is a wildcard address"},
    {NODEL "[authority Corp]\nkey = ca.key\n", 4,
	"[authority Corp]: the name of an authority is 1 to 31 of a-z 0-9 _ - "
	"(tokens carry it)"},
    {NODEL "[authority corp]\nkey = ca.key\ncredential_ttl = 5s\n", 6,
	"credential_ttl must be a duration from 10s to 366d (like 90s, 15m, "
	"12h or 7d)"},
    {NODEL "[authority corp]\nkey = ca.key\ntoken_ttl = soon\n", 6,
	"token_ttl must be a duration from 1m to 30d (like 90s, 15m, 12h or "
	"7d)"},
    {NODEL "[authority corp]\nkey = ca.key\naddress = unix:/run/a\n", 6,
	"address must be HOST:PORT or [V6]:PORT as nodes reach this "
	"authority (a name or an address, no unix socket)"},
    {NODEL "[authority corp]\nkey = ca.key\n[authority corp]\n", 6,
	"duplicate [authority corp] (first on line 4)"},
    {NODEL "[authority corp]\nkey = ca.key\nkey = b.key\n", 6,
	"duplicate key \"key\" in [authority corp] (first on line 5)"},
    {NODEL "[authority corp]\nkey = ca.key\nttl = 1h\n", 6,
	"unknown key \"ttl\" in [authority corp]"},
    /* [authorities] NAME = ID1, ID2: a key rotation's overlap */
    {NODE "[authorities]\ncorp = " ID_A ", I123\n", 4,
	"malformed identifier \"I123\" for authority \"corp\" (expected I "
	"and 64 lowercase hex digits, as sallyport identity show prints)"},
    {NODE "[authorities]\ncorp = " ID_A ",\n", 4,
	"empty entry in [authorities]"},
    {NODE "[authorities]\ncorp = " ID_A ", " ID_A "\n", 4,
	"authority \"corp\" has the same identifier as \"corp\" (line 4)"},
    {NODE "[authorities]\ncorp = " ID_A "\ncorp = " ID_A "\n", 5,
	"authority \"corp\" has the same identifier as \"corp\" (line 4)"},
    {NODE "[authorities]\ncorp = " ID_A "\nlab = " ID_B ", " ID_A "\n", 5,
	"authority \"lab\" has the same identifier as \"corp\" (line 4)"},
    {NODE "[authorities]\ncorp = " ID_A ", " ID_B "\ncorp = " ID_C "\n"
     "corp = " ID_D "\ncorp = " ID_E "\n", 7,
	"too many identifiers for authority \"corp\" (at most 4: a key "
	"rotation's overlap)"},
};

#define NBAD (sizeof(bad) / sizeof(bad[0]))

START_TEST(test_bad)
{
	struct config cfg;
	char err[512], want[512];

	err[0] = '\0';
	ck_assert_msg(config_parse(&cfg, "t.ini", bad[_i].text,
			  strlen(bad[_i].text), err, sizeof(err)) == -1,
	    "config %d accepted", _i);
	snprintf(want, sizeof(want), "t.ini:%d: %s", bad[_i].line, bad[_i].msg);
	ck_assert_str_eq(err, want);
	/* Nothing is left to free. */
	ck_assert_ptr_null(cfg.peers);
	ck_assert_ptr_null(cfg.outlets);
	ck_assert_ptr_null(cfg.inlets);
}
END_TEST

/* Each malformed config: the first of all its errors is config_parse's. */
START_TEST(test_bad_all_first)
{
	static struct config_errors errs;
	struct config cfg;
	char want[512];

	ck_assert_int_eq(config_parse_all(&cfg, "t.ini", bad[_i].text,
			     strlen(bad[_i].text), &errs),
	    -1);
	ck_assert_uint_ge(errs.n, 1);
	snprintf(want, sizeof(want), "t.ini:%d: %s", bad[_i].line, bad[_i].msg);
	ck_assert_str_eq(errs.msg[0], want);
	ck_assert_ptr_null(cfg.outlets);
}
END_TEST

/* Errors of every kind in one file: all reported, in the order found. */
START_TEST(test_all_errors)
{
	static const char text[] =
	    "[node]\n"                              /* 1 */
	    "identity = k\n"                        /* 2 */
	    "listen = 127.0.0.1:0\n"                /* 3: bad port */
	    "colour = blue\n"                       /* 4: unknown key */
	    "[peers]\n"                             /* 5 */
	    "app = I123\n"                          /* 6: bad identifier */
	    "[outlet pg]\n"                         /* 7 */
	    "target = bad_host:1\n"                 /* 8: bad host */
	    "allow = bob, app\n"                    /* 9: unknown peers */
	    "junk\n"                                /* 10: syntax */
	    "[inlet x]\n"                           /* 11: no outlet */
	    "listen = 127.0.0.1:15432\n"            /* 12 */
	    "[frob]\n"                              /* 13: unknown section */
	    "key = skipped\n"                       /* 14: in a bad section */
	    "[outlet q]\n";                         /* 15: no target */
	static const char *const want[] = {
	    "t.ini:3: listen: invalid port \"0\" (a number from 1 to 65535)",
	    "t.ini:4: unknown key \"colour\" in [node]",
	    "t.ini:6: malformed identifier for peer \"app\" (expected I and "
	    "64 lowercase hex digits, as sallyport identity show prints)",
	    "t.ini:8: target: invalid host \"bad_host\" " HOST_ERR,
	    "t.ini:10: syntax error (expected [section], key = value or a ; "
	    "comment)",
	    "t.ini:13: unknown section [frob] (expected [node], [peers], "
	    "[authorities], [outlet NAME], [inlet NAME], [relay NAME] or "
	    "[authority NAME])",
	    "t.ini:9: unknown peer \"bob\" (not in [peers]; or give its "
	    "identifier)",
	    "t.ini:15: [outlet q] has no target = HOST:PORT",
	    "t.ini:11: [inlet x] has no outlet = PEER@HOST:PORT (the outlet "
	    "node's pinned identity and address)",
	};
	static struct config_errors errs;
	struct config cfg;
	size_t i;

	ck_assert_int_eq(config_parse_all(&cfg, "t.ini", text,
			     sizeof(text) - 1, &errs),
	    -1);
	for (i = 0; i < errs.n && i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(errs.msg[i], want[i]);
	ck_assert_uint_eq(errs.n, sizeof(want) / sizeof(want[0]));
	ck_assert_uint_eq(errs.more, 0);
	ck_assert_ptr_null(cfg.outlets);
	ck_assert_ptr_null(cfg.peers);
}
END_TEST

/* CONFIG_ERRORS_MAX messages are kept, the rest counted. */
START_TEST(test_all_max)
{
	static struct config_errors errs;
	struct config cfg;
	char text[4096];
	size_t len;
	int i;

	len = (size_t)snprintf(text, sizeof(text), NODE);
	for (i = 0; i < 60; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "k%d = v\n", i);
	ck_assert_int_eq(config_parse_all(&cfg, "t.ini", text, len, &errs),
	    -1);
	ck_assert_uint_eq(errs.n, CONFIG_ERRORS_MAX);
	ck_assert_uint_eq(errs.more, 10);
	ck_assert_str_eq(errs.msg[0], "t.ini:3: unknown key \"k0\" in [node]");
	ck_assert_str_eq(errs.msg[49], "t.ini:52: unknown key \"k49\" in [node]");
}
END_TEST

/* A bad line gives one error, never a second one that follows from it. */
START_TEST(test_all_no_cascade)
{
	static const struct {
		const char *text;
		const char *msg;
	} one[] = {
	    /* The outlet's address is bad: no "outlet must be ...". */
	    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = "
		   "@10.0.0.1:7400\n",
		"t.ini:9: outlet has no pinned identity before '@' (a peer "
		"name or identifier)"},
	    /* A bad listen: no "[outlet pg] needs listen". */
	    {NODE "listen = 127.0.0.1:0\n[outlet pg]\ntarget = 127.0.0.1:1\n",
		"t.ini:3: listen: invalid port \"0\" (a number from 1 to "
		"65535)"},
	    /* A bad via: no "outlet must be PEER@HOST:PORT". */
	    {PEERS "[inlet pg]\nlisten = 127.0.0.1:15432\noutlet = db\nvia = "
		   "app\n",
		"t.ini:10: via must be PEER@HOST:PORT (the relay's pinned "
		"identity, then its address)"},
	    /* A NUL byte stops the reading: nothing looks missing after it. */
	    {"[node]\nidentity = k\n[outlet pg]\n\0target = 127.0.0.1:1\n",
		"t.ini:4: NUL byte in line"},
	    /* The keys of a bad section header are skipped. */
	    {NODE "[outlet a/b]\ntarget = x\nbogus = 1\n",
		"t.ini:3: invalid outlet name \"a/b\" " NAME_ERR},
	};
	static struct config_errors errs;
	struct config cfg;
	size_t len;

	len = strlen(one[_i].text);
	if (_i == 3) /* the text goes on past its NUL byte */
		len += 1 + strlen(one[_i].text + len + 1);
	ck_assert_int_eq(config_parse_all(&cfg, "t.ini", one[_i].text, len,
			     &errs),
	    -1);
	ck_assert_str_eq(errs.msg[0], one[_i].msg);
	ck_assert_uint_eq(errs.n, 1);
}
END_TEST

/* A valid file: no error recorded. */
START_TEST(test_all_none)
{
	static struct config_errors errs;
	struct config cfg;

	ck_assert_int_eq(config_parse_all(&cfg, "t.ini", PEERS,
			     strlen(PEERS), &errs),
	    0);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_uint_eq(errs.more, 0);
	config_free(&cfg);
}
END_TEST

/*
 * [authorities] corp = ID1, ID2 (and the line repeated): a rule @corp
 * resolves to every identifier of the name, in the order written.
 */
START_TEST(test_authorities_rotation)
{
	static const char text[] = NODEL
	    "[authorities]\ncorp = " ID_A ", " ID_B "\nlab = " ID_C "\n"
	    "corp = " ID_D "\n"
	    "[outlet pg]\ntarget = 127.0.0.1:5432\nallow = role=app@corp\n";
	const struct config_authority *a;
	struct config cfg;
	uint8_t id[CONFIG_ID_LEN];
	char err[512];

	ck_assert_msg(config_parse(&cfg, "/etc/sp/t.ini", text, strlen(text),
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nauthorities, 4);
	ck_assert_uint_eq(cfg.outlets[0].nrules, 1);
	ck_assert_uint_eq(cfg.outlets[0].rules[0].nissuers, 3);
	ck_assert_int_eq(identity_id_parse(ID_B, id), 0);
	ck_assert_ptr_nonnull(a = config_authority_find(&cfg, id));
	ck_assert_str_eq(a->name, "corp");
	ck_assert_int_eq(a->line, 5);
	ck_assert(config_rule_issued_by(&cfg.outlets[0].rules[0], id));
	ck_assert_int_eq(identity_id_parse(ID_D, id), 0);
	ck_assert(config_rule_issued_by(&cfg.outlets[0].rules[0], id));
	ck_assert_mem_eq(cfg.outlets[0].rules[0].issuer[2], id,
	    CONFIG_ID_LEN);
	ck_assert_int_eq(identity_id_parse(ID_C, id), 0);
	ck_assert(!config_rule_issued_by(&cfg.outlets[0].rules[0], id));
	config_free(&cfg);
}
END_TEST

START_TEST(test_bad_count)
{

	/* The issue asks for at least 25 malformed configs; keep 30+. */
	ck_assert_uint_ge(NBAD, 30);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "[node]\nidentity = k\0x\n";
	struct config cfg;
	char err[256];

	ck_assert_int_eq(config_parse(&cfg, "t.ini", text, sizeof(text) - 1,
			     err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "t.ini:2: NUL byte in line");
}
END_TEST

/* The example from the issue, in full. */
static const char full[] =
    "[node]\n"
    "identity = /etc/sallyport/app.key   ; this node's private key\n"
    "listen   = 0.0.0.0:7400\n"
    "\n"
    "[peers]                             ; named identities\n"
    "db  = " ID_B "\n"
    "app = " ID_A "\n"
    "\n"
    "[outlet postgres]\n"
    "target = 127.0.0.1:5432\n"
    "allow  = app\n"
    "\n"
    "[inlet postgres]\n"
    "listen  = 127.0.0.1:15432\n"
    "outlet  = db@198.18.0.2:7400\n"
    "service = postgres\n";

START_TEST(test_full)
{
	struct config cfg;
	uint8_t a[32], b[32];
	char err[256], buf[300];
	const struct config_outlet *o;

	ck_assert_int_eq(identity_id_parse(ID_A, a), 0);
	ck_assert_int_eq(identity_id_parse(ID_B, b), 0);
	ck_assert_msg(config_parse(&cfg, "/etc/sallyport/node.ini", full,
			  strlen(full), err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(cfg.node.identity, "/etc/sallyport/app.key");
	ck_assert_int_eq(cfg.node.identity_line, 2);
	ck_assert_int_eq(cfg.node.has_listen, 1);
	ck_assert_str_eq(addr_format(&cfg.node.listen, buf, sizeof(buf)),
	    "0.0.0.0:7400");
	ck_assert_uint_eq(cfg.npeers, 2);
	ck_assert_str_eq(cfg.peers[0].name, "db");
	ck_assert_mem_eq(cfg.peers[0].id, b, 32);
	ck_assert_int_eq(cfg.peers[1].line, 7);
	ck_assert_uint_eq(cfg.noutlets, 1);
	o = config_outlet_find(&cfg, "postgres");
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_null(config_outlet_find(&cfg, "postgre"));
	ck_assert_str_eq(addr_format(&o->target, buf, sizeof(buf)),
	    "127.0.0.1:5432");
	ck_assert_uint_eq(o->nallow, 1);
	ck_assert_mem_eq(o->allow[0], a, 32);
	ck_assert_int_eq(o->line, 9);
	ck_assert_uint_eq(cfg.ninlets, 1);
	ck_assert_str_eq(cfg.inlets[0].name, "postgres");
	ck_assert_str_eq(cfg.inlets[0].service, "postgres");
	ck_assert_mem_eq(cfg.inlets[0].outlet_id, b, 32);
	ck_assert_str_eq(addr_format(&cfg.inlets[0].outlet, buf, sizeof(buf)),
	    "198.18.0.2:7400");
	ck_assert_str_eq(config_peer_name(&cfg, a), "app");
	ck_assert_str_eq(config_peer_name(&cfg, b), "db");
	ck_assert_int_eq(cfg.inlets[0].line, 13);
	/* Defaults. */
	ck_assert_uint_eq(cfg.node.max_connections, 10000);
	ck_assert_uint_eq(cfg.node.max_handshakes, 256);
	ck_assert(cfg.node.handshake_timeout == 10);
	ck_assert(cfg.node.connect_timeout == 10);
	ck_assert(cfg.node.idle_timeout == 0);
	ck_assert(cfg.node.shutdown_grace == 10);
	ck_assert(cfg.node.keepalive == 30);
	ck_assert_int_eq(cfg.node.has_log_level, 0);
	ck_assert_str_eq(cfg.node.user, "");
	ck_assert_int_eq(cfg.node.allow_root, 0);
	ck_assert_int_eq(cfg.node.resume, 1);
	config_free(&cfg);
	ck_assert_ptr_null(cfg.peers);
	config_free(NULL);
}
END_TEST

/* A relay, an outlet that registers there, an inlet that goes through it. */
START_TEST(test_relay)
{
	static const char text[] = "[node]\nidentity = k\n"
				   "listen = 127.0.0.1:7400\n"
				   "[peers]\napp = " ID_A "\ndb = " ID_B "\n"
				   "[relay pg]\nregister = db\nallow = app\n"
				   "[relay next]\nallow = app\n"
				   "via = db@10.0.0.2:7400\n";
	static const char outlet[] = "[node]\nidentity = k\n"
				     "[peers]\nhub = " ID_A "\n"
				     "[outlet pg]\ntarget = 127.0.0.1:5432\n"
				     "allow = hub\nrelay = hub@10.0.0.1:7400\n"
				     "pool = 8\nmax_dials = 0\n"
				     "[outlet other]\ntarget = 127.0.0.1:1\n"
				     "relay = hub@10.0.0.1:7400\n"
				     "[inlet pg]\nlisten = 127.0.0.1:15432\n"
				     "outlet = hub\nvia = hub@10.0.0.1:7400\n";
	static const char fleet[] = NODE "relay_resolve = 5\n"
				   "[peers]\napp = " ID_A "\nhub = " ID_B "\n"
				   "[outlet pg]\ntarget = 127.0.0.1:5432\n"
				   "relay = hub@relays.test:7400\n"
				   "relay = app@10.0.0.3:7400\n"
				   "[inlet pg]\nlisten = 127.0.0.1:15432\n"
				   "outlet = app\nvia = hub@relays.test:7400\n"
				   "via = app@10.0.0.3:7400\n";
	const struct config_relay *r;
	struct config cfg;
	uint8_t a[32], b[32];
	char err[256], buf[300];

	ck_assert_int_eq(identity_id_parse(ID_A, a), 0);
	ck_assert_int_eq(identity_id_parse(ID_B, b), 0);
	ck_assert_msg(config_parse(&cfg, "r.ini", text, strlen(text), err,
			  sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nrelays, 2);
	r = config_relay_find(&cfg, "pg");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(config_relay_find(&cfg, "p"));
	ck_assert_uint_eq(r->nreg, 1);
	ck_assert_mem_eq(r->reg[0], b, 32);
	ck_assert_uint_eq(r->nallow, 1);
	ck_assert_mem_eq(r->allow[0], a, 32);
	ck_assert_int_eq(r->has_via, 0);
	r = config_relay_find(&cfg, "next");
	ck_assert_uint_eq(r->nreg, 0);
	ck_assert_int_eq(r->has_via, 1);
	ck_assert_mem_eq(r->via_id, b, 32);
	ck_assert_str_eq(addr_format(&r->via, buf, sizeof(buf)),
	    "10.0.0.2:7400");
	config_free(&cfg);
	ck_assert_ptr_null(cfg.relays);

	/* No listen: fine for an outlet that registers at a relay. */
	ck_assert_msg(config_parse(&cfg, "o.ini", outlet, strlen(outlet), err,
			  sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.node.has_listen, 0);
	ck_assert_int_eq(cfg.outlets[0].has_relay, 1);
	ck_assert_uint_eq(cfg.outlets[0].nrelay, 1);
	ck_assert_mem_eq(cfg.outlets[0].relay[0].id, a, 32);
	ck_assert_uint_eq(cfg.outlets[0].pool, 8);
	ck_assert_uint_eq(cfg.outlets[1].pool, 4);
	ck_assert_uint_eq(cfg.outlets[0].max_dials, 0);
	ck_assert_uint_eq(cfg.outlets[1].max_dials, CONFIG_MAX_DIALS);
	ck_assert_uint_eq(cfg.outlets[1].nallow, 0);
	ck_assert_int_eq(cfg.inlets[0].has_via, 1);
	ck_assert_uint_eq(cfg.inlets[0].nvia, 1);
	ck_assert_mem_eq(cfg.inlets[0].via[0].id, a, 32);
	ck_assert_mem_eq(cfg.inlets[0].outlet_id, a, 32);
	ck_assert_str_eq(addr_format(&cfg.inlets[0].via[0].addr, buf,
	    sizeof(buf)), "10.0.0.1:7400");
	ck_assert(cfg.node.relay_resolve == 30);
	config_free(&cfg);

	/* Fleets: several relay = and via = lines, each pinned on its own. */
	ck_assert_msg(config_parse(&cfg, "f.ini", fleet, strlen(fleet), err,
			  sizeof(err)) == 0, "%s", err);
	ck_assert(cfg.node.relay_resolve == 5);
	ck_assert_uint_eq(cfg.outlets[0].nrelay, 2);
	ck_assert_mem_eq(cfg.outlets[0].relay[0].id, b, 32);
	ck_assert_mem_eq(cfg.outlets[0].relay[1].id, a, 32);
	ck_assert_str_eq(addr_format(&cfg.outlets[0].relay[0].addr, buf,
	    sizeof(buf)), "relays.test:7400");
	ck_assert_int_eq(cfg.outlets[0].relay[1].line, 10);
	ck_assert_uint_eq(cfg.inlets[0].nvia, 2);
	ck_assert_mem_eq(cfg.inlets[0].via[1].id, a, 32);
	ck_assert_str_eq(addr_format(&cfg.inlets[0].via[1].addr, buf,
	    sizeof(buf)), "10.0.0.3:7400");
	config_free(&cfg);
}
END_TEST


/* [authority NAME]: defaults, addresses, relative paths (issue 21). */
START_TEST(test_authority)
{
	static const char text[] = NODEL
	    "[authority corp]\nkey = ca.key\n"
	    "[authority b-2]\nkey = /k/b.key\nstore = b.db\n"
	    "credential_ttl = 15s\ntoken_ttl = 2h\n"
	    "address = auth.example:7000\naddress = [2001:db8::1]:7000\n";
	const struct config_authority_role *a;
	struct config cfg;
	char err[512];

	ck_assert_msg(config_parse(&cfg, "/etc/sp/t.ini", text, strlen(text),
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nauthority_roles, 2);
	ck_assert_ptr_nonnull(a = config_authority_role_find(&cfg, "corp"));
	ck_assert_str_eq(a->key, "/etc/sp/ca.key");
	ck_assert_int_eq(a->key_line, 5);
	ck_assert_str_eq(a->store, "/var/lib/sallyport/corp.db");
	ck_assert_int_eq(a->store_line, 4);
	ck_assert_uint_eq(a->credential_ttl, 3600);
	ck_assert_uint_eq(a->token_ttl, 600);
	ck_assert_uint_eq(a->naddress, 1);
	ck_assert_str_eq(a->address[0], "127.0.0.1:7400"); /* [node] listen */
	ck_assert_ptr_nonnull(a = config_authority_role_find(&cfg, "b-2"));
	ck_assert_str_eq(a->store, "/etc/sp/b.db");
	ck_assert_uint_eq(a->credential_ttl, 15);
	ck_assert_uint_eq(a->token_ttl, 7200);
	ck_assert_uint_eq(a->naddress, 2);
	ck_assert_str_eq(a->address[1], "[2001:db8::1]:7000");
	ck_assert_ptr_null(config_authority_role_find(&cfg, "other"));
	config_free(&cfg);
}
END_TEST

START_TEST(test_variants)
{
	static const char text[] =
	    "\xef\xbb\xbf; BOM, indented keys, colons, comma lists\n"
	    "[node]\n"
	    "  identity = keys/node.key\n"
	    "\tlisten: [::1]:7400\n"
	    "max_connections = 5\n"
	    "max_handshakes = 7\n"
	    "handshake_timeout = 2.5\n"
	    "connect_timeout = 0.125\n"
	    "idle_timeout = 600\n"
	    "shutdown_grace = 0\n"
	    "keepalive = 0\n"
	    "log_level = debug\n"
	    "user = sallyport\n"
	    "group = ssl-cert\n"
	    "allow_root = no\n"
	    "[ peers ]\n"
	    "app = " ID_A "\n"
	    "[outlet web]\n"
	    "target = unix:/run/web.sock\n"
	    "allow = app, " ID_B "\n"
	    "[outlet closed]\n"
	    "target = localhost:81\n"
	    "allow =\n"
	    "[inlet web-in]\n"
	    "listen = unix:/run/web-in.sock\n"
	    "outlet = " ID_B "@db.example:7400\n"
	    "[inlet x]\n"
	    "listen = 127.0.0.1:8080\n"
	    "outlet = app@[2001:db8::1]:7400\n"
	    "service = web\n";
	struct config cfg;
	char err[256];

	ck_assert_msg(config_parse(&cfg, "/etc/sp/node.ini", text,
			  sizeof(text) - 1, err, sizeof(err)) == 0,
	    "%s", err);
	/* A relative key path is relative to the config file's directory. */
	ck_assert_str_eq(cfg.node.identity, "/etc/sp/keys/node.key");
	ck_assert_uint_eq(cfg.node.max_connections, 5);
	ck_assert_uint_eq(cfg.node.max_handshakes, 7);
	ck_assert(cfg.node.handshake_timeout == 2.5);
	ck_assert(cfg.node.connect_timeout == 0.125);
	ck_assert(cfg.node.idle_timeout == 600);
	ck_assert(cfg.node.shutdown_grace == 0);
	ck_assert(cfg.node.keepalive == 0);
	ck_assert_int_eq(cfg.node.has_log_level, 1);
	ck_assert_int_eq(cfg.node.log_level, LOG_LVL_DEBUG);
	ck_assert_str_eq(cfg.node.user, "sallyport");
	ck_assert_str_eq(cfg.node.group, "ssl-cert");
	ck_assert_int_eq(cfg.node.allow_root, 0);
	ck_assert_uint_eq(cfg.outlets[0].nallow, 2);
	ck_assert_uint_eq(cfg.outlets[1].nallow, 0);
	ck_assert_int_eq(cfg.outlets[0].target.is_unix, 1);
	ck_assert_str_eq(cfg.inlets[0].service, "web-in");
	ck_assert_str_eq(cfg.inlets[1].service, "web");
	ck_assert_str_eq(cfg.inlets[0].outlet.host, "db.example");
	ck_assert_str_eq(cfg.inlets[1].outlet.host, "2001:db8::1");
	config_free(&cfg);
}
END_TEST

/* intercept = addresses parse; listen becomes optional; proxy_protocol. */
START_TEST(test_intercept)
{
	static const char text[] = NODEL
	    "intercept = 127.0.0.1:15001, [::1]:15001\n"
	    "[peers]\ndb = " ID_B "\n"
	    "[inlet pg]\nintercept = 10.20.0.5:5432\n"
	    "intercept = [fd00::5]:5432, 10.20.0.6:5432\n"
	    "outlet = db@10.0.0.1:7400\n"
	    "[outlet web]\ntarget = 127.0.0.1:80\nproxy_protocol = v2\n";
	struct config cfg;
	char err[256], buf[ADDR_TEXT_MAX];

	ck_assert_msg(config_parse(&cfg, "t.ini", text, strlen(text), err,
			  sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.node.nintercept, 2);
	ck_assert_uint_eq(cfg.ninlets, 1);
	ck_assert_int_eq(cfg.inlets[0].has_listen, 0);
	ck_assert_uint_eq(cfg.inlets[0].nintercept, 3);
	ck_assert_str_eq(addr_format(&cfg.inlets[0].intercept[1], buf,
			     sizeof(buf)), "[fd00::5]:5432");
	ck_assert_int_eq(cfg.outlets[0].proxy_v2, 1);
	config_free(&cfg);
}
END_TEST

START_TEST(test_relative_paths)
{
	static const char text[] = "[node]\nidentity = k.pem\n";
	struct config cfg;
	char err[256];

	ck_assert_int_eq(config_parse(&cfg, "node.ini", text, sizeof(text) - 1,
			     err, sizeof(err)),
	    0);
	ck_assert_str_eq(cfg.node.identity, "k.pem");
	config_free(&cfg);
	ck_assert_int_eq(config_parse(&cfg, "conf/node.ini", text,
			     sizeof(text) - 1, err, sizeof(err)),
	    0);
	ck_assert_str_eq(cfg.node.identity, "conf/k.pem");
	config_free(&cfg);
}
END_TEST

START_TEST(test_load_file)
{
	char dir[] = "/tmp/check_config.XXXXXX", path[128], err[512],
	     want[512];
	struct config cfg;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/node.ini", dir);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(full, f);
	fclose(f);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.path, path);
	config_free(&cfg);
	ck_assert_ptr_nonnull(f = fopen(path, "a"));
	fputs("[outlet postgres]\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:17: duplicate [outlet postgres] "
	    "(first on line 9)", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(config_load(&cfg, dir, err, sizeof(err)), -1);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * config_diff: a base file with one section of each kind, and edits of
 * it; each edit must give exactly the calls listed ("kind name what;"),
 * and the reverse diff (edited to base) those of rev.
 */
static const char diff_base[] =
    "[node]\nidentity = k\nlisten = 127.0.0.1:7400\n"
    "intercept = 127.0.0.1:15001\n"
    "[peers]\napp = " ID_A "\ndb = " ID_B "\n"
    "[authorities]\ncorp = " ID_C "\n"
    "[outlet o]\ntarget = 127.0.0.1:5432\nallow = app\n"
    "[inlet i]\nlisten = 127.0.0.1:6000\noutlet = db@127.0.0.1:7401\n"
    "[relay r]\nregister = app\nallow = db\n";

static const struct {
	const char *from, *to; /* replace from (in diff_base) by to */
	const char *want, *rev;
} diffs[] = {
    {"", "", "", ""},
    /* [node]: a key the old hand-kept diff had, and ones it missed */
    {"listen = 127.0.0.1:7400", "listen = 127.0.0.1:7402",
	"node node changed;", "node node changed;"},
    {"identity = k\n", "identity = k\nresume = no\n", "node node changed;",
	"node node changed;"},
    {"identity = k\n", "identity = k\ncredential_skew = 30\n", "", ""},
    {"identity = k\n", "identity = k\ncredential = c\n",
	"node node changed;", "node node changed;"},
    {"intercept = 127.0.0.1:15001", "intercept = 127.0.0.1:15002",
	"node node changed;", "node node changed;"},
    {"identity = k\n", "identity = k\nadmin = 127.0.0.1:9400\n",
	"node node changed;", "node node changed;"},
    /* [peers], [authorities] */
    {"db = " ID_B "\n", "db = " ID_B "\nx = " ID_C "\n",
	"peers peers changed;", "peers peers changed;"},
    {"app = " ID_A "\ndb = " ID_B, "db = " ID_B "\napp = " ID_A, "", ""},
    {"corp = ", "corp2 = ", "authorities authorities changed;",
	"authorities authorities changed;"},
    /* [outlet NAME] */
    {"[inlet i]", "[outlet o2]\ntarget = 127.0.0.1:1\n[inlet i]",
	"outlet o2 added;", "outlet o2 removed;"},
    {"allow = app\n[inlet", "allow = app, db\n[inlet", "outlet o changed;",
	"outlet o changed;"},
    {"allow = app\n[inlet", "allow = app\nmax_dials = 5\n[inlet",
	"outlet o changed;", "outlet o changed;"},
    {"allow = app\n[inlet", "allow = app\nmax_dials = 4\npool = 4\n[inlet",
	"", ""},
    /* [inlet NAME] */
    {"[relay r]", "[inlet j]\nlisten = 127.0.0.1:6001\noutlet = db@127.0.0.1:"
	"7401\n[relay r]", "inlet j added;", "inlet j removed;"},
    {"outlet = db@", "service = i\noutlet = db@", "", ""},
    {"outlet = db@", "service = s\noutlet = db@", "inlet i changed;",
	"inlet i changed;"},
    {"outlet = db@", "intercept = 10.0.0.1:5432\noutlet = db@",
	"inlet i changed;", "inlet i changed;"},
    /* [relay NAME] */
    {"[relay r]", "[relay q]\n[relay r]", "relay q added;",
	"relay q removed;"},
    {"allow = db\n", "allow = app\n", "relay r changed;",
	"relay r changed;"},
    {"register = app\n", "register = app\nvia = db@127.0.0.1:7402\n",
	"relay r changed;", "relay r changed;"},
    /* several at once: in kind order, removed after added */
    {"[outlet o]\ntarget = 127.0.0.1:5432\nallow = app\n",
	"[outlet p]\ntarget = 127.0.0.1:5432\nallow = app\n",
	"outlet p added;outlet o removed;", "outlet o added;outlet p removed;"},
    {"15001\n[", "15001\n[relay a]\n[", "relay a added;",
	"relay a removed;"},
};
#define NDIFFS (sizeof(diffs) / sizeof(diffs[0]))

/* config_diff's callback: append "kind name what;" to the buffer. */
static void
diff_record(void *arg, const char *kind, const char *name,
    enum config_change what)
{
	static const char *const words[] = {"", "added", "removed",
	    "changed"};
	char *buf = arg;
	size_t n = strlen(buf);

	snprintf(buf + n, 512 - n, "%s %s %s;", kind, name, words[what]);
}

START_TEST(test_diff)
{
	struct config a, b;
	char text[2048], err[512], got[512] = "";
	const char *at;

	at = strstr(diff_base, diffs[_i].from);
	ck_assert_ptr_nonnull(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - diff_base),
	    diff_base, diffs[_i].to, at + strlen(diffs[_i].from));
	ck_assert_msg(config_parse(&a, "/etc/n.ini", diff_base,
	    strlen(diff_base), err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(config_parse(&b, "/etc/n.ini", text, strlen(text), err,
	    sizeof(err)) == 0, "%s", err);
	config_diff(&a, &b, diff_record, got);
	ck_assert_str_eq(got, diffs[_i].want);
	got[0] = '\0';
	config_diff(&b, &a, diff_record, got);
	ck_assert_str_eq(got, diffs[_i].rev);
	config_free(&a);
	config_free(&b);
}
END_TEST

/*
 * Every key of the key tables is documented in docs/config.md, with the
 * table's default if it has one, and every key its tables document
 * exists: the rows "| `key` | default | ..." of a table headed "| key |
 * default | meaning |" under "## `[KIND ...]`".
 */
START_TEST(test_keys_documented)
{
	char line[4096], kind[16] = "", docs[256][48], defs[256][48], def[48];
	size_t ndocs = 0, i, j, n;
	const char *k, *d;
	int in_table = 0;
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(DOCS_DIR "/config.md", "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "## `[", 5) == 0) {
			n = strcspn(line + 5, " ]");
			snprintf(kind, sizeof(kind), "%.*s", (int)n, line + 5);
			in_table = 0;
		} else if (strncmp(line, "| key | default | meaning |", 27) ==
		    0)
			in_table = 1;
		else if (line[0] != '|')
			in_table = 0;
		else if (in_table && strncmp(line, "| `", 3) == 0) {
			n = strcspn(line + 3, "`");
			ck_assert_uint_lt(ndocs, 256);
			/* The default column, without blanks and quotes. */
			d = line + 3 + n + strcspn(line + 3 + n, "|") + 1;
			d += strspn(d, " `");
			snprintf(defs[ndocs], sizeof(defs[0]), "%.*s",
			    (int)strcspn(d, "`|"), d);
			defs[ndocs][strcspn(defs[ndocs], " ")] = '\0';
			snprintf(docs[ndocs++], sizeof(docs[0]), "%s %.*s",
			    kind, (int)n, line + 3);
		}
	}
	fclose(f);
	/* Each key of the tables, once, in the docs. */
	n = 0;
	for (i = 0; i < 7; i++) {
		static const char *const kinds[] = {"node", "peers",
		    "authorities", "outlet", "inlet", "relay", "authority"};
		char want[48];

		for (j = 0; (k = config_key(kinds[i], j)) != NULL; j++) {
			snprintf(want, sizeof(want), "%s %s", kinds[i], k);
			for (n = 0; n < ndocs; n++)
				if (strcmp(docs[n], want) == 0)
					break;
			ck_assert_msg(n < ndocs, "[%s] %s is not in "
			    "docs/config.md", kinds[i], k);
			docs[n][0] = '\0'; /* seen */
			config_key_default(kinds[i], j, def, sizeof(def));
			ck_assert_msg(def[0] == '\0' || strcmp(def, defs[n]) ==
			    0, "[%s] %s: default %s, docs/config.md says %s",
			    kinds[i], k, def, defs[n]);
		}
	}
	/* Each key of the docs in the tables (each was crossed out). */
	for (n = 0; n < ndocs; n++)
		ck_assert_msg(docs[n][0] == '\0', "docs/config.md documents "
		    "[%s], which no key table has", docs[n]);
	ck_assert_ptr_null(config_key("node", 1000));
	ck_assert_ptr_null(config_key("peers", 0));
	ck_assert_ptr_null(config_key("bogus", 0));
}
END_TEST

/* The files every load reads again, each with the line naming it. */
START_TEST(test_files)
{
	static const char text[] = "[node]\n"
	    "identity = /k/node.key\n"
	    "listen = 127.0.0.1:7400\n"
	    "credential = a.cred\n"
	    "credential = /c/b.cred\n"
	    "revoked = /r/revoked\n";
	const char *files[CONFIG_FILES_MAX];
	int lines[CONFIG_FILES_MAX];
	struct config cfg;
	char err[512];

	ck_assert_msg(config_parse(&cfg, "/etc/sp/t.ini", text,
	    sizeof(text) - 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(config_files(&cfg, files, lines), 4);
	ck_assert_str_eq(files[0], "/k/node.key");
	ck_assert_int_eq(lines[0], 2);
	ck_assert_str_eq(files[1], "/etc/sp/a.cred");
	ck_assert_int_eq(lines[1], 4);
	ck_assert_str_eq(files[2], "/c/b.cred");
	ck_assert_int_eq(lines[2], 5);
	ck_assert_str_eq(files[3], "/r/revoked");
	ck_assert_int_eq(lines[3], 6);
	config_free(&cfg);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_bad, 0, (int)NBAD);
	tcase_add_test(tc, test_bad_count);
	tcase_add_test(tc, test_nul_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("all errors");
	tcase_add_loop_test(tc, test_bad_all_first, 0, (int)NBAD);
	tcase_add_test(tc, test_all_errors);
	tcase_add_test(tc, test_all_max);
	tcase_add_loop_test(tc, test_all_no_cascade, 0, 5);
	tcase_add_test(tc, test_all_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_variants);
	tcase_add_test(tc, test_relay);
	tcase_add_test(tc, test_authority);
	tcase_add_test(tc, test_authorities_rotation);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_intercept);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("diff");
	tcase_add_loop_test(tc, test_diff, 0, (int)NDIFFS);
	suite_add_tcase(s, tc);

	tc = tcase_create("documented");
	tcase_add_test(tc, test_keys_documented);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(config_suite()));
}
