/*
 * check_authtoken: the enrolment token line (format, parse, every field's
 * errors), the secret's base64url against known answers, the hash and
 * the reference.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authtoken.h"
#include "crypto.h"
#include "fixture.h"
#include "identity.h"

#define ID "I" "0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef"
/* bytes 0..31 in base64url (Python's urlsafe_b64encode, padding cut) */
#define SECRET_0_31 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

/* A token with the secret 0, 1, ..., 31 and the addresses given. */
static void
token_make(struct authtoken *t, const char *a0, const char *a1)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	strcpy(t->name, "corp");
	ck_assert_int_eq(identity_id_parse(ID, t->authority), 0);
	strcpy(t->addrs[t->naddrs++], a0);
	if (a1 != NULL)
		strcpy(t->addrs[t->naddrs++], a1);
	for (i = 0; i < AUTHTOKEN_SECRET_LEN; i++)
		t->secret[i] = (uint8_t)i;
}

START_TEST(test_format_known)
{
	struct authtoken t;
	char line[AUTHTOKEN_LINE_MAX + 1];

	token_make(&t, "auth.example:7000", "[2001:db8::1]:7000");
	ck_assert_uint_eq(authtoken_format(&t, line, sizeof(line)),
	    strlen(line));
	ck_assert_str_eq(line, "sallyport-token-1:corp:" ID
	    ":auth.example:7000,[2001:db8::1]:7000:" SECRET_0_31);
	/* Too small a buffer: 0, never a cut line. */
	ck_assert_uint_eq(authtoken_format(&t, line, strlen(line)), 0);
	wipe(&t, sizeof(t));
}
END_TEST

START_TEST(test_round_trip)
{
	struct authtoken t, u;
	char line[AUTHTOKEN_LINE_MAX + 2];
	const char *why = NULL;
	size_t n, i;
	int k;

	ck_assert_int_eq(crypto_init(), 0);
	for (k = 0; k < 200; k++) {
		token_make(&t, "198.18.0.1:7000", k % 2 ? "h-1.example:1" :
		    NULL);
		ck_assert_int_eq(crypto_random(t.secret, sizeof(t.secret)),
		    0);
		n = authtoken_format(&t, line, sizeof(line));
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_eq(strlen(line), n);
		/* A newline and blanks around are allowed. */
		line[n] = '\n';
		ck_assert_int_eq(authtoken_parse(line, n + 1, &u, &why), 0);
		ck_assert_str_eq(u.name, "corp");
		ck_assert_mem_eq(u.authority, t.authority, CRED_ID_LEN);
		ck_assert_uint_eq(u.naddrs, t.naddrs);
		for (i = 0; i < t.naddrs; i++)
			ck_assert_str_eq(u.addrs[i], t.addrs[i]);
		ck_assert_mem_eq(u.secret, t.secret, AUTHTOKEN_SECRET_LEN);
	}
	ck_assert_int_eq(authtoken_parse("  " "sallyport-token-1:corp:" ID
	    ":a:1:" SECRET_0_31 "\r\n", strlen("  " "sallyport-token-1:corp:"
	    ID ":a:1:" SECRET_0_31 "\r\n"), &u, &why), 0);
	wipe(&t, sizeof(t));
	wipe(&u, sizeof(u));
}
END_TEST

START_TEST(test_secret_alphabet)
{
	static const char line[] = "sallyport-token-1:corp:" ID
	    ":a:1:-__7__v_-__7__v_-__7__v_-__7__v_-__7__v_-_8";
	struct authtoken t;
	size_t i;

	ck_assert_int_eq(authtoken_parse(line, strlen(line), &t, NULL), 0);
	for (i = 0; i < AUTHTOKEN_SECRET_LEN; i++)
		ck_assert_uint_eq(t.secret[i], i % 2 ? 0xff : 0xfb);
}
END_TEST

/* Lines that must be refused, each with the message's start. */
static const struct {
	const char *line, *why;
} bads[] = {
    {"", "not a token"},
    {"sallyport-token-2:corp:" ID ":a:1:" SECRET_0_31, "not a token"},
    {"sallyport-token-1::" ID ":a:1:" SECRET_0_31, "bad authority name"},
    {"sallyport-token-1:Corp:" ID ":a:1:" SECRET_0_31, "bad authority name"},
    {"sallyport-token-1:abcdefghijabcdefghijabcdefghij012:" ID ":a:1:"
	SECRET_0_31, "bad authority name"},
    {"sallyport-token-1:corp:I0123:a:1:" SECRET_0_31,
	"bad authority identifier"},
    {"sallyport-token-1:corp:" ID "x:a:1:" SECRET_0_31,
	"bad authority identifier"},
    {"sallyport-token-1:corp:" ID ":" SECRET_0_31, "bad secret"},
    {"sallyport-token-1:corp:" ID "::" SECRET_0_31, "no address"},
    {"sallyport-token-1:corp:" ID ":a:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":a:0:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":a:65536:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":a b:1:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":a:1,:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":a:1,,b:2:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":[::1:1:" SECRET_0_31, "bad address"},
    {"sallyport-token-1:corp:" ID ":a:1,a:2,a:3,a:4,a:5,a:6,a:7,a:8,a:9:"
	SECRET_0_31, "more than 8 addresses"},
    {"sallyport-token-1:corp:" ID ":a:1:" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
	"GBkaGxwdHh", "bad secret"},
    {"sallyport-token-1:corp:" ID ":a:1:" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
	"GBkaGxwdHh9", "bad secret"}, /* spare bits set */
    {"sallyport-token-1:corp:" ID ":a:1:" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
	"GBkaGxwdH+8", "bad secret"},
    {"sallyport-token-1:corp:" ID ":a:1:" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
	"GBkaGxwdHh8=", "bad secret"},
    {"sallyport-token-1:corp:" ID ":a:1:" "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
	"GBkaGxwdHh8 x", "bad secret"},
};

START_TEST(test_parse_errors)
{
	struct authtoken t;
	const char *why = NULL;

	memset(&t, 0x55, sizeof(t));
	ck_assert_int_eq(authtoken_parse(bads[_i].line, strlen(bads[_i].line),
	    &t, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strncmp(why, bads[_i].why, strlen(bads[_i].why)) == 0,
	    "%s: got \"%s\", want \"%s...\"", bads[_i].line, why,
	    bads[_i].why);
	/* The struct is wiped: no half of a secret left behind. */
	ck_assert(ct_is_zero(&t, sizeof(t)));
}
END_TEST

START_TEST(test_too_long)
{
	struct authtoken t;
	char line[AUTHTOKEN_LINE_MAX + 64];
	const char *why = NULL;
	size_t n;

	/* 8 addresses of 120 bytes: over the line limit. */
	token_make(&t, "a:1", NULL);
	for (t.naddrs = 0; t.naddrs < AUTHTOKEN_MAX_ADDRS; t.naddrs++) {
		memset(t.addrs[t.naddrs], 'h', 118);
		strcpy(t.addrs[t.naddrs] + 118, ":1");
	}
	ck_assert_uint_eq(authtoken_format(&t, line, sizeof(line)), 0);
	/* A bad field: 0. */
	token_make(&t, "no-port", NULL);
	ck_assert_uint_eq(authtoken_format(&t, line, sizeof(line)), 0);
	token_make(&t, "a:1", NULL);
	strcpy(t.name, "UPPER");
	ck_assert_uint_eq(authtoken_format(&t, line, sizeof(line)), 0);
	memset(t.name, 'a', sizeof(t.name)); /* no NUL */
	ck_assert_uint_eq(authtoken_format(&t, line, sizeof(line)), 0);
	/* Parsing: over 1024 bytes is refused before anything else. */
	n = sizeof(line) - 1;
	memset(line, 'a', n);
	ck_assert_int_eq(authtoken_parse(line, n, &t, &why), -1);
	ck_assert_str_eq(why, "longer than 1024 bytes");
	/* A NUL inside a field (fuzzing found "a_b\0\0-9" taken as a_b). */
	ck_assert_int_eq(authtoken_parse("sallyport-token-1:a_b\0-9:" ID
	    ":a:1:" SECRET_0_31, strlen("sallyport-token-1:a_b-9:" ID ":a:1:"
	    SECRET_0_31), &t, &why), -1);
	ck_assert_str_eq(why, "a NUL byte in the line");
}
END_TEST

START_TEST(test_hash_ref)
{
	static const uint8_t want[CRYPTO_HASH_LEN] = {0x63, 0x0d, 0xcd, 0x29,
	    0x66, 0xc4, 0x33, 0x66, 0x91, 0x12, 0x54, 0x48, 0xbb, 0xb2, 0x5b,
	    0x4f, 0xf4, 0x12, 0xa4, 0x9c, 0x73, 0x2d, 0xb2, 0xc8, 0xab, 0xc1,
	    0xb8, 0x58, 0x1b, 0xd7, 0x10, 0xdd};
	uint8_t secret[AUTHTOKEN_SECRET_LEN], hash[CRYPTO_HASH_LEN];
	char ref[AUTHTOKEN_REF_TEXT];
	size_t i;

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	authtoken_hash(secret, hash);
	ck_assert_mem_eq(hash, want, sizeof(want));
	authtoken_ref(hash, ref);
	ck_assert_str_eq(ref, "Tmmg42klgyqz");
	ck_assert(authtoken_ref_is_valid(ref));
	ck_assert(!authtoken_ref_is_valid("Tmmg42klgyq"));
	ck_assert(!authtoken_ref_is_valid("Tmmg42klgyq1"));
	ck_assert(!authtoken_ref_is_valid("Xmmg42klgyqz"));
	ck_assert(!authtoken_ref_is_valid("Tmmg42klgyqzz"));
}
END_TEST

START_TEST(test_names_addrs)
{

	ck_assert(authtoken_name_is_valid("corp"));
	ck_assert(authtoken_name_is_valid("a_b-9"));
	ck_assert(!authtoken_name_is_valid(""));
	ck_assert(!authtoken_name_is_valid("a.b"));
	ck_assert(authtoken_addr_is_valid("127.0.0.1:7000"));
	ck_assert(authtoken_addr_is_valid("[::1]:1"));
	ck_assert(authtoken_addr_is_valid("host-1.example:65535"));
	ck_assert(!authtoken_addr_is_valid("[]:1"));
	ck_assert(!authtoken_addr_is_valid(":1"));
	ck_assert(!authtoken_addr_is_valid("a:01234"));
	ck_assert(!authtoken_addr_is_valid("a,b:1"));
	ck_assert(!authtoken_addr_is_valid("[::1]x:1"));
}
END_TEST

static Suite *
authtoken_suite(void)
{
	Suite *s = suite_create("authtoken");
	TCase *tc;

	tc = tcase_create("line");
	tcase_add_test(tc, test_format_known);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_secret_alphabet);
	tcase_add_loop_test(tc, test_parse_errors, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_names_addrs);
	suite_add_tcase(s, tc);
	tc = tcase_create("hash");
	tcase_add_test(tc, test_hash_ref);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(authtoken_suite()));
}
