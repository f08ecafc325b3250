/*
 * check_acl: the outlet access decision, deny by default; attribute rules
 * (value sets, negation) and their normal form; deny entries before allow.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "acl.h"
#include "fixture.h"
#include "identity.h"

/* Three distinct identifiers that differ in one byte at either end. */
static uint8_t ids[3][CONFIG_ID_LEN];

static void
setup(void)
{

	memset(ids, 0xa5, sizeof(ids));
	ids[1][0] ^= 1;
	ids[2][CONFIG_ID_LEN - 1] ^= 0x80;
}

/* An outlet with no allow entries admits nobody. */
START_TEST(test_empty_denies)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	ck_assert(!acl_allows(&o, ids[0]));
	/* A list pointer with a zero count is still empty. */
	o.allow = ids;
	o.nallow = 0;
	ck_assert(!acl_allows(&o, ids[0]));
}
END_TEST

/* Listed identifiers are allowed; one differing byte is not. */
START_TEST(test_listed)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	o.allow = ids;
	o.nallow = 2;
	ck_assert(acl_allows(&o, ids[0]));
	ck_assert(acl_allows(&o, ids[1]));
	ck_assert(!acl_allows(&o, ids[2]));
}
END_TEST

/* The last entry counts (no off-by-one at the end of the list). */
START_TEST(test_last_entry)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	o.allow = ids;
	o.nallow = 3;
	ck_assert(acl_allows(&o, ids[2]));
	o.nallow = 1;
	ck_assert(!acl_allows(&o, ids[2]));
}
END_TEST

/* Missing outlet or identifier: deny, never crash. */
START_TEST(test_null)
{
	struct config_outlet o;

	memset(&o, 0, sizeof(o));
	o.allow = ids;
	o.nallow = 3;
	ck_assert(!acl_allows(NULL, ids[0]));
	ck_assert(!acl_allows(&o, NULL));
}
END_TEST

/* Rules as written and their normal form, or the error they get. */
static const struct {
	const char *rule;
	const char *want; /* normal form, or a piece of the error */
	int ok;
} parses[] = {
    {"role=app@corp", "role=app@corp", 1},
    {"role=app+env=prod@corp", "env=prod+role=app@corp", 1},
    {"env=staging|prod@corp", "env=prod|staging@corp", 1},
    {"role=app+!env=dev@corp", "!env=dev+role=app@corp", 1},
    {"!env=test|dev@corp", "!env=dev|test@corp", 1},
    {"b=2|1+a=y|x@c.1", "a=x|y+b=1|2@c.1", 1},
    {"zone=eu:west/1|eu:east/2@corp", "zone=eu:east/2|eu:west/1@corp", 1},
    {"role=app", "names no authority", 0},
    {"role=@corp", "empty value", 0},
    {"=app@corp", "empty key", 0},
    {"!=app@corp", "empty key", 0},
    {"role=app|@corp", "empty value", 0},
    {"role=|app@corp", "empty value", 0},
    {"role=app||db@corp", "empty value", 0},
    {"role=app|app@corp", "value \"app\" twice", 0},
    {"role=a+role=b@corp", "attribute \"role\" twice", 0},
    {"role=a+!role=b@corp", "attribute \"role\" twice", 0},
    {"Role=app@corp", "bad attribute key", 0},
    {"!!role=app@corp", "bad attribute key", 0},
    {"role=a b@corp", "bad attribute value", 0},
    {"role=a!b@corp", "bad attribute value", 0},
    {"role=app@", "empty authority name", 0},
    {"role=app@co rp", "invalid authority name", 0},
    {"role@corp", "is not KEY=VALUE", 0},
    {"role=app++env=x@corp", "is not KEY=VALUE", 0},
    {"role=1|2|3|4|5|6|7|8|9@corp", "too many values", 0},
    {"a=1+b=1+c=1+d=1+e=1+f=1+g=1+h=1+i=1@corp", "too many attributes", 0},
};

/* Each rule parses to its normal form (stable: the normal form parses to
 * itself), or fails with its error. */
START_TEST(test_rule_parse)
{
	struct config_rule r, again;
	char err[512], norm[CONFIG_RULE_TEXT], norm2[CONFIG_RULE_TEXT];
	int rc;

	rc = config_rule_parse(&r, parses[_i].rule, err, sizeof(err));
	if (!parses[_i].ok) {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, parses[_i].want) != NULL, "%s: %s",
		    parses[_i].rule, err);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", parses[_i].rule, err);
	ck_assert_str_eq(r.text, parses[_i].rule);
	ck_assert_str_eq(config_rule_format(&r, norm, sizeof(norm)),
	    parses[_i].want);
	ck_assert_int_eq(config_rule_parse(&again, norm, err, sizeof(err)), 0);
	ck_assert_str_eq(config_rule_format(&again, norm2, sizeof(norm2)),
	    norm);
}
END_TEST

/* A rule too long to keep is refused, not cut. */
START_TEST(test_rule_too_long)
{
	struct config_rule r;
	char rule[CONFIG_RULE_TEXT + 8], err[512];

	memset(rule, 'a', sizeof(rule));
	memcpy(rule, "role=", 5);
	strcpy(rule + sizeof(rule) - 6, "@corp");
	ck_assert_int_eq(config_rule_parse(&r, rule, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

/*
 * The decision table (tests/unit/acl-decisions.txt, which
 * 43-policy-explain.sh runs through policy explain and a real outlet):
 * an outlet's allow and deny lines (peer names "me", the peer deciding,
 * and "other"; the authority "corp"), the attributes of the one
 * credential "me" shows ("k=v,k=v" in key order; NULL: none), and the
 * outcome: allowed or not, and the entry that decided (rule= of an allow,
 * deny_rule= of a deny by entry, "me" for a deny by name).
 */
#define ROWS_MAX 64
static struct {
	char text[512]; /* the line, its fields cut at " ; " */
	const char *allow, *deny, *attrs;
	int want;
	const char *entry;
} decisions[ROWS_MAX];
static int ndecisions;

/* "-" is empty (a list) or NULL (attributes, entry). */
static const char *
field_of(char **s, int null)
{
	char *f = *s, *end;

	if ((end = strstr(f, " ; ")) != NULL) {
		*end = '\0';
		*s = end + 3;
	} else
		*s = f + strlen(f);
	if (strcmp(f, "-") == 0)
		return (null ? NULL : "");
	return (f);
}

/* Read the decision table into decisions[]. */
static void
decisions_read(void)
{
	FILE *f = fopen(ACL_DECISIONS, "r");
	char *s;

	if (f == NULL) {
		perror(ACL_DECISIONS);
		exit(EXIT_FAILURE);
	}
	while (ndecisions < ROWS_MAX && fgets(decisions[ndecisions].text,
	    sizeof(decisions[0].text), f) != NULL) {
		s = decisions[ndecisions].text;
		s[strcspn(s, "\n")] = '\0';
		if (s[0] == '#' || s[0] == '\0')
			continue;
		decisions[ndecisions].allow = field_of(&s, 0);
		decisions[ndecisions].deny = field_of(&s, 0);
		decisions[ndecisions].attrs = field_of(&s, 1);
		decisions[ndecisions].want = strcmp(field_of(&s, 0), "allow") ==
		    0;
		decisions[ndecisions].entry = field_of(&s, 1);
		ndecisions++;
	}
	fclose(f);
}

static struct identity ca, me, other;
static struct config dcfg; /* of the last decide() */

static void
ids_setup(void)
{

	setup();
	ck_assert_int_eq(identity_generate(&ca), 0);
	ck_assert_int_eq(identity_generate(&me), 0);
	ck_assert_int_eq(identity_generate(&other), 0);
}

static void
ids_teardown(void)
{

	identity_fini(&ca);
	identity_fini(&me);
	identity_fini(&other);
	config_free(&dcfg);
}

/* A credential of ${issuer} for ${me} with the attributes ${attrs}
 * ("k=v,..." in key order) as a block in ${block}; return its length. */
static size_t
cred_by(const struct identity *issuer, uint8_t *block, size_t cap,
    const char *attrs, uint64_t now)
{
	uint8_t one[CRED_MAX_LEN];
	char buf[256], *item, *next, *eq;
	struct cred c;
	size_t len, blen = 0;

	memset(&c, 0, sizeof(c));
	memcpy(c.subject, me.id, CRED_ID_LEN);
	c.serial = 1;
	c.not_before = now - 60;
	c.not_after = now + 3600;
	ck_assert_uint_lt(strlen(attrs), sizeof(buf));
	strcpy(buf, attrs);
	for (item = buf; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		ck_assert_ptr_nonnull(eq = strchr(item, '='));
		*eq++ = '\0';
		strcpy(c.attrs[c.nattrs].key, item);
		strcpy(c.attrs[c.nattrs].value, eq);
		c.nattrs++;
	}
	ck_assert_int_eq(cred_sign(&c, issuer->priv, one, sizeof(one), &len),
	    0);
	ck_assert_int_eq(cred_block_add(block, cap, &blen, one, len), 0);
	return (blen);
}

/* cred_by() of ${ca}. */
static size_t
cred_with(uint8_t *block, size_t cap, const char *attrs, uint64_t now)
{

	return (cred_by(&ca, block, cap, attrs, now));
}

/* One outlet's lines, for decide(); from may be NULL (none). */
struct lines {
	const char *allow, *deny, *tallow, *tdeny, *from;
};

/* The socket address of the IP address ${s} (no port) into ${ss}. */
static void
sa_of(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
}

/*
 * The decision of the outlet with the lines ${l} (the peers me and other,
 * the authority corp) on me showing a credential with ${attrs} (NULL:
 * none), through acl_admit as an outlet decides; ${v} says why.
 */
static bool
decide_from(const struct lines *l, const char *attrs,
    const struct sockaddr_storage *src, struct acl_verdict *v)
{
	char text[2048], a[IDENTITY_TEXT_SIZE], b[IDENTITY_TEXT_SIZE];
	char c[IDENTITY_TEXT_SIZE], err[512];
	uint8_t block[CRED_BLOCK_MAX];
	const uint64_t now = 1800000000;
	struct cred_revoked rv;
	struct acl_ctx ax = {&dcfg, &rv, NULL, now};
	struct acl_peer peer = {me.id, NULL, 0, src};
	const struct config_outlet *o;
	bool ok;

	memset(&rv, 0, sizeof(rv));
	config_free(&dcfg);
	snprintf(text, sizeof(text), "[node]\nidentity = k\nlisten = "
	    "127.0.0.1:1\n[authorities]\ncorp = %s\n[peers]\nme = %s\n"
	    "other = %s\n[outlet db]\ntarget = 127.0.0.1:2\nallow = %s\n"
	    "deny = %s\ntry_allow = %s\ntry_deny = %s\n%s%s\n",
	    identity_id_format(ca.id, a), identity_id_format(me.id, b),
	    identity_id_format(other.id, c), l->allow, l->deny, l->tallow,
	    l->tdeny, l->from != NULL ? "from = " : "",
	    l->from != NULL ? l->from : "");
	ck_assert_msg(config_parse(&dcfg, "t.ini", text, strlen(text), err,
	    sizeof(err)) == 0, "%s", err);
	o = &dcfg.outlets[0];
	if (attrs != NULL) {
		peer.creds = block;
		peer.creds_len = cred_with(block, sizeof(block), attrs, now);
	}
	ok = acl_admit(&ax, &o->pol, o->allow, o->nallow, o->rules,
	    o->nrules, &peer, NULL, v);
	/* The verdict's texts point into dcfg: kept until the next call. */
	return (ok);
}

/* decide_from() with no address (in no from range). */
static bool
decide(const struct lines *l, const char *attrs, struct acl_verdict *v)
{

	return (decide_from(l, attrs, NULL, v));
}

/* Each row of decisions[] through acl_admit, as an outlet decides. */
START_TEST(test_decisions)
{
	struct lines l = {decisions[_i].allow, decisions[_i].deny, "", "",
	    NULL};
	struct acl_verdict v;
	const char *entry;
	bool got;

	got = decide(&l, decisions[_i].attrs, &v);
	ck_assert_msg(got == (decisions[_i].want != 0), "row %d: %s", _i,
	    got ? "allowed" : "denied");
	entry = got ? v.rule : v.deny_rule != NULL ? v.deny_rule :
	    v.deny_listed ? "me" : NULL;
	if (decisions[_i].entry == NULL)
		ck_assert_ptr_null(entry);
	else
		ck_assert_msg(entry != NULL && strcmp(entry,
		    decisions[_i].entry) == 0, "row %d: %s", _i,
		    entry != NULL ? entry : "(none)");
	if (!got && entry != NULL)
		ck_assert_str_eq(v.reason, "denied");
}
END_TEST

/*
 * Try entries: the allow and deny lines, try_allow and try_deny, the
 * credential of me, then the decision (never changed by a try entry) and
 * what would be: "would-allow ENTRY", "would-deny ENTRY" or NULL.
 */
static const struct {
	const char *allow, *deny, *tallow, *tdeny, *attrs;
	int want;
	const char *would;
} tries[] = {
    {"", "", "role=app@corp", "", "role=app", 0,
	"would-allow role=app@corp"},
    {"", "", "role=db@corp", "", "role=app", 0, NULL},
    {"", "", "me", "", NULL, 0, "would-allow me"},
    {"role=app@corp", "", "", "env=dev@corp", "env=dev,role=app", 1,
	"would-deny env=dev@corp"},
    {"role=app@corp", "", "", "env=dev@corp", "env=prod,role=app", 1, NULL},
    {"me", "", "", "me", NULL, 1, "would-deny me"},
    {"role=app@corp", "", "", "!env=prod@corp", "role=app", 1,
	"would-deny !env=prod@corp"},
    /* a deny entry or an allow is what counts: no try line */
    {"me", "me", "me", "", NULL, 0, NULL},
    {"me", "", "me", "", NULL, 1, NULL},
    {"", "", "", "me", NULL, 0, NULL},
};

START_TEST(test_tries)
{
	struct lines l = {tries[_i].allow, tries[_i].deny, tries[_i].tallow,
	    tries[_i].tdeny, NULL};
	struct acl_verdict v;
	char got[CONFIG_RULE_TEXT + 16];
	bool ok;

	ok = decide(&l, tries[_i].attrs, &v);
	ck_assert_int_eq(ok, tries[_i].want != 0);
	if (tries[_i].would == NULL) {
		ck_assert_ptr_null(v.would);
	} else {
		ck_assert_ptr_nonnull(v.would);
		snprintf(got, sizeof(got), "%s %s", v.would,
		    v.try_rule != NULL ? v.try_rule : "me");
		ck_assert_str_eq(got, tries[_i].would);
	}
}
END_TEST

/* Address ranges: parsed (and formatted back), or refused. */
static const struct {
	const char *in, *want; /* normal form, or a piece of the error */
	int ok;
} cidrs[] = {
    {"10.1.0.0/16", "10.1.0.0/16", 1},
    {"127.0.0.2", "127.0.0.2/32", 1},
    {"0.0.0.0/0", "0.0.0.0/0", 1},
    {"fd00::/8", "fd00::/8", 1},
    {"FD00:0::/8", "fd00::/8", 1},
    {"::1", "::1/128", 1},
    {"10.1.2.3/16", "host bits set (the network of /16 is 10.1.0.0)", 0},
    {"fd00::1/8", "host bits set", 0},
    {"10.0.0.0/33", "bad prefix length", 0},
    {"::/129", "bad prefix length", 0},
    {"10.0.0.0/", "bad prefix length", 0},
    {"10.0.0.0/8/9", "bad prefix length", 0},
    {"10.0.0.0/-1", "bad prefix length", 0},
    {"/8", "bad address range", 0},
    {"db.internal/8", "bad address range", 0},
    {"10.0.0/8", "bad address range", 0},
};

START_TEST(test_cidr_parse)
{
	struct addr_cidr c;
	char err[256], buf[ADDR_TEXT_MAX];
	int rc = addr_cidr_parse(cidrs[_i].in, &c, err, sizeof(err));

	if (cidrs[_i].ok) {
		ck_assert_msg(rc == 0, "%s: %s", cidrs[_i].in, err);
		ck_assert_str_eq(addr_cidr_format(&c, buf, sizeof(buf)),
		    cidrs[_i].want);
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(err, cidrs[_i].want) != NULL, "%s: %s",
		    cidrs[_i].in, err);
	}
}
END_TEST

/* Whether an address lies in a range. */
static const struct {
	const char *range, *addr;
	int in;
} ins[] = {
    {"10.1.0.0/16", "10.1.255.1", 1},
    {"10.1.0.0/16", "10.2.0.1", 0},
    {"10.1.0.0/17", "10.1.128.0", 0},
    {"10.1.0.0/17", "10.1.127.255", 1},
    {"0.0.0.0/0", "192.0.2.1", 1},
    {"0.0.0.0/0", "2001:db8::1", 0},
    {"::/0", "2001:db8::1", 1},
    {"127.0.0.0/8", "::ffff:127.0.0.2", 1},
    {"127.0.0.2/32", "127.0.0.1", 0},
    {"fd00::/8", "fd12::1", 1},
    {"fd00::/8", "fe80::1", 0},
    {"198.18.0.0/15", "198.19.255.255", 1},
};

START_TEST(test_cidr_has)
{
	struct sockaddr_storage ss;
	struct addr_cidr c;
	char err[256];

	ck_assert_int_eq(addr_cidr_parse(ins[_i].range, &c, err, sizeof(err)),
	    0);
	sa_of(ins[_i].addr, &ss);
	ck_assert_msg(addr_cidr_has(&c, &ss) == ins[_i].in, "%s in %s",
	    ins[_i].addr, ins[_i].range);
	memset(&ss, 0, sizeof(ss)); /* unknown (a unix socket's peer) */
	ck_assert_int_eq(addr_cidr_has(&c, &ss), 0);
}
END_TEST

/* from = on an outlet: with the deny entries, before allow. */
static const struct {
	const char *from, *deny, *src; /* src NULL: unknown */
	int want;
	const char *reason;
} froms[] = {
    {"10.0.0.0/8", "", "10.1.2.3", 1, NULL},
    {"10.0.0.0/8", "", "192.168.0.1", 0, "not-from"},
    {"10.0.0.0/8", "", NULL, 0, "not-from"},
    {"10.0.0.0/8, 192.168.0.0/24", "", "192.168.0.1", 1, NULL},
    {"10.0.0.0/8", "me", "10.1.2.3", 0, "denied"},
    {"fd00::/8", "", "fd00::5", 1, NULL},
    {"fd00::/8", "", "10.1.2.3", 0, "not-from"},
};

START_TEST(test_from)
{
	struct lines l = {"me", froms[_i].deny, "", "", froms[_i].from};
	struct sockaddr_storage ss;
	struct acl_verdict v;
	bool ok;

	if (froms[_i].src != NULL)
		sa_of(froms[_i].src, &ss);
	ok = decide_from(&l, NULL, froms[_i].src != NULL ? &ss : NULL, &v);
	ck_assert_int_eq(ok, froms[_i].want);
	if (froms[_i].reason == NULL)
		ck_assert_ptr_null(v.reason);
	else
		ck_assert_str_eq(v.reason, froms[_i].reason);
}
END_TEST

/* deny lines get FILE:LINE errors like allow lines. */
static const struct {
	const char *deny, *want;
} deny_bads[] = {
    {"nobody", "t.ini:10: unknown peer \"nobody\""},
    {"me, me", "t.ini:10: \"me\" is listed twice in deny of [outlet db]"},
    {"role=app@nope", "t.ini:10: unknown authority \"nope\""},
    {"role=app|app@corp", "t.ini:10: value \"app\" twice"},
    {"me,,role=app@corp", "t.ini:10: "},
};

START_TEST(test_deny_errors)
{
	char text[2048], a[IDENTITY_TEXT_SIZE], b[IDENTITY_TEXT_SIZE];
	char err[512];
	struct config cfg;

	snprintf(text, sizeof(text), "[node]\nidentity = k\nlisten = "
	    "127.0.0.1:1\n[authorities]\ncorp = %s\n[peers]\nme = %s\n"
	    "[outlet db]\ntarget = 127.0.0.1:2\ndeny = %s\n",
	    identity_id_format(ca.id, a), identity_id_format(me.id, b),
	    deny_bads[_i].deny);
	ck_assert_int_eq(config_parse(&cfg, "t.ini", text, strlen(text), err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, deny_bads[_i].want) == err, "%s: %s",
	    deny_bads[_i].deny, err);
}
END_TEST

/*
 * A key rotation: [authorities] corp names two identifiers (${ca}, then
 * ${other} as the next key); role=app@corp admits a credential from
 * either while both are named, and the old one's no more once only the
 * new key is (and never a credential of a key another name has).
 */
static const struct {
	int corp;   /* 1: ca, 2: other, 3: both on one line, 4: two lines */
	int lab;    /* [authorities] lab = other */
	int signer; /* 0: ca, 1: other */
	int want;
} rotations[] = {
    {1, 0, 0, 1},
    {1, 0, 1, 0},
    {3, 0, 0, 1},
    {3, 0, 1, 1},
    {4, 0, 1, 1},
    {2, 0, 1, 1},
    {2, 0, 0, 0},
    {1, 1, 1, 0},
};

START_TEST(test_rotation)
{
	char text[2048], auth[512], a[IDENTITY_TEXT_SIZE],
	    b[IDENTITY_TEXT_SIZE], m[IDENTITY_TEXT_SIZE], err[512];
	uint8_t block[CRED_BLOCK_MAX];
	const uint64_t now = 1800000000;
	struct cred_revoked rv;
	struct acl_ctx ax = {&dcfg, &rv, NULL, now};
	struct acl_peer peer = {me.id, block, 0, NULL};
	struct acl_verdict v;
	const struct config_outlet *o;
	bool ok;

	memset(&rv, 0, sizeof(rv));
	identity_id_format(ca.id, a);
	identity_id_format(other.id, b);
	switch (rotations[_i].corp) {
	case 1:
		snprintf(auth, sizeof(auth), "corp = %s\n", a);
		break;
	case 2:
		snprintf(auth, sizeof(auth), "corp = %s\n", b);
		break;
	case 3:
		snprintf(auth, sizeof(auth), "corp = %s, %s\n", a, b);
		break;
	default:
		snprintf(auth, sizeof(auth), "corp = %s\ncorp = %s\n", a, b);
	}
	if (rotations[_i].lab)
		snprintf(auth + strlen(auth), sizeof(auth) - strlen(auth),
		    "lab = %s\n", b);
	snprintf(text, sizeof(text), "[node]\nidentity = k\nlisten = "
	    "127.0.0.1:1\n[authorities]\n%s[peers]\nme = %s\n"
	    "[outlet db]\ntarget = 127.0.0.1:2\nallow = role=app@corp\n",
	    auth, identity_id_format(me.id, m));
	ck_assert_msg(config_parse(&dcfg, "t.ini", text, strlen(text), err,
	    sizeof(err)) == 0, "%s", err);
	o = &dcfg.outlets[0];
	peer.creds_len = cred_by(rotations[_i].signer ? &other : &ca, block,
	    sizeof(block), "role=app", now);
	ok = acl_admit(&ax, &o->pol, o->allow, o->nallow, o->rules,
	    o->nrules, &peer, NULL, &v);
	ck_assert_msg(ok == (rotations[_i].want != 0), "row %d: %s", _i,
	    ok ? "allowed" : "denied");
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc;

	tc = tcase_create("deny-by-default");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty_denies);
	tcase_add_test(tc, test_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("allow-list");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_listed);
	tcase_add_test(tc, test_last_entry);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_rule_parse, 0,
	    (int)(sizeof(parses) / sizeof(parses[0])));
	tcase_add_test(tc, test_rule_too_long);
	tcase_add_loop_test(tc, test_cidr_parse, 0,
	    (int)(sizeof(cidrs) / sizeof(cidrs[0])));
	tcase_add_loop_test(tc, test_cidr_has, 0,
	    (int)(sizeof(ins) / sizeof(ins[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("decisions");
	tcase_add_checked_fixture(tc, ids_setup, ids_teardown);
	tcase_add_loop_test(tc, test_decisions, 0, ndecisions);
	tcase_add_loop_test(tc, test_from, 0,
	    (int)(sizeof(froms) / sizeof(froms[0])));
	tcase_add_loop_test(tc, test_tries, 0,
	    (int)(sizeof(tries) / sizeof(tries[0])));
	tcase_add_loop_test(tc, test_deny_errors, 0,
	    (int)(sizeof(deny_bads) / sizeof(deny_bads[0])));
	tcase_add_loop_test(tc, test_rotation, 0,
	    (int)(sizeof(rotations) / sizeof(rotations[0])));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	decisions_read();
	return (fixture_main(acl_suite()));
}
