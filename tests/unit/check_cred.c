/*
 * check_cred: credentials (layout, signature, PEM, blocks), the
 * revocation list, and the decisions acl_admit makes with them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"
#include "cred.h"
#include "crypto.h"
#include "fixture.h"
#include "identity.h"
#include "sigcache.h"

#define NOW FIXTURE_NOW

static struct identity ca, other_ca, node, thief;

static void
setup(void)
{

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_int_eq(identity_generate(&ca), 0);
	ck_assert_int_eq(identity_generate(&other_ca), 0);
	ck_assert_int_eq(identity_generate(&node), 0);
	ck_assert_int_eq(identity_generate(&thief), 0);
}

/* A credential for ${subject} from ${issuer}: role=app, env=prod. */
static size_t
issue(uint8_t *out, const struct identity *issuer, const uint8_t *subject,
    uint64_t nbf, uint64_t naf, uint64_t serial, struct cred *c)
{
	struct cred tmp;
	size_t len;

	if (c == NULL)
		c = &tmp;
	memset(c, 0, sizeof(*c));
	memcpy(c->subject, subject, CRED_ID_LEN);
	c->serial = serial;
	c->not_before = nbf;
	c->not_after = naf;
	strcpy(c->attrs[0].key, "role");
	strcpy(c->attrs[0].value, "app");
	strcpy(c->attrs[1].key, "env");
	strcpy(c->attrs[1].value, "prod");
	c->nattrs = 2;
	ck_assert_int_eq(cred_sign(c, issuer->priv, out, CRED_MAX_LEN, &len),
	    0);
	return (len);
}

START_TEST(test_round_trip)
{
	uint8_t buf[CRED_MAX_LEN];
	struct cred in, out;
	size_t len;

	len = issue(buf, &ca, node.id, NOW, NOW + 300, 42, &in);
	/* 123 fixed, env/prod (1+3+1+4), role/app (1+4+1+3), 64. */
	ck_assert_uint_eq(len, 123 + 9 + 9 + 64);
	ck_assert_int_eq(cred_decode(&out, buf, len, NULL), 0);
	ck_assert_mem_eq(out.subject, node.id, 32);
	ck_assert_mem_eq(out.issuer, ca.id, 32);
	ck_assert_mem_eq(out.issuer_pub, ca.pub, 65);
	ck_assert_uint_eq(out.serial, 42);
	ck_assert_uint_eq(out.not_before, NOW);
	ck_assert_uint_eq(out.not_after, NOW + 300);
	ck_assert_uint_eq(out.nattrs, 2);
	/* Sorted by key on the wire. */
	ck_assert_str_eq(out.attrs[0].key, "env");
	ck_assert_str_eq(out.attrs[0].value, "prod");
	ck_assert_str_eq(out.attrs[1].key, "role");
	ck_assert_str_eq(out.attrs[1].value, "app");
	ck_assert_int_eq(cred_verify_sig(buf, len), 0);
	/* Layout, byte by byte (docs/protocol.md). */
	ck_assert_uint_eq(buf[0], 1);
	ck_assert_mem_eq(buf + 1, node.id, 32);
	ck_assert_mem_eq(buf + 33, ca.pub, 65);
	ck_assert_uint_eq(buf[98 + 7], 42);
	ck_assert_uint_eq(buf[122], 2);
	ck_assert_mem_eq(buf + 123, "\003env\004prod\004role\003app", 18);
}
END_TEST

/* The signature covers every byte: any flipped bit is refused. */
START_TEST(test_signature_exact)
{
	uint8_t buf[CRED_MAX_LEN], m[CRED_MAX_LEN + 32];
	struct cred c;
	size_t len, i;

	len = issue(buf, &ca, node.id, NOW, NOW + 300, 7, NULL);
	/* The signed bytes are the context, then all but the signature. */
	memcpy(m, CRED_CONTEXT, strlen(CRED_CONTEXT));
	memcpy(m + strlen(CRED_CONTEXT), buf, len - 64);
	ck_assert_int_eq(crypto_p256_verify(ca.pub, 65, m,
	    strlen(CRED_CONTEXT) + len - 64, buf + len - 64, 64), 0);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		ck_assert(cred_decode(&c, buf, len, NULL) == -1 ||
		    cred_verify_sig(buf, len) == -1);
		buf[i] ^= 0x01;
	}
	ck_assert_int_eq(cred_verify_sig(buf, len), 0);
}
END_TEST

/* Build a raw credential: the fixed part, ${attrs}, 64 signature bytes. */
static size_t
raw(uint8_t *out, uint8_t version, uint8_t pt, uint64_t serial,
    uint64_t nbf, uint64_t naf, uint8_t n, const char *attrs, size_t alen)
{
	size_t i;

	memset(out, 0, CRED_MAX_LEN + 64);
	out[0] = version;
	memset(out + 1, 0xab, 32);
	out[33] = pt;
	for (i = 0; i < 8; i++) {
		out[98 + i] = (uint8_t)(serial >> (56 - 8 * i));
		out[106 + i] = (uint8_t)(nbf >> (56 - 8 * i));
		out[114 + i] = (uint8_t)(naf >> (56 - 8 * i));
	}
	out[122] = n;
	memcpy(out + 123, attrs, alen);
	return (123 + alen + 64);
}

#define A(s) s, sizeof(s) - 1
static const struct bad {
	uint8_t version, pt;
	uint64_t serial, nbf, naf;
	uint8_t n;
	const char *attrs;
	size_t alen;
	int delta; /* added to the length */
	const char *what;
} bads[] = {
    {2, 4, 1, 1, 2, 0, A(""), 0, "version 2"},
    {0, 4, 1, 1, 2, 0, A(""), 0, "version 0"},
    {1, 2, 1, 1, 2, 0, A(""), 0, "compressed issuer key"},
    {1, 0, 1, 1, 2, 0, A(""), 0, "issuer key 0x00"},
    {1, 4, 0, 1, 2, 0, A(""), 0, "serial zero"},
    {1, 4, 1, 2, 2, 0, A(""), 0, "not-after equal to not-before"},
    {1, 4, 1, 3, 2, 0, A(""), 0, "not-after before not-before"},
    {1, 4, 1, 1, 2, 9, A(""), 0, "nine attributes"},
    {1, 4, 1, 1, 2, 255, A(""), 0, "255 attributes"},
    {1, 4, 1, 1, 2, 1, A(""), 0, "one attribute announced, none"},
    {1, 4, 1, 1, 2, 0, A("\001a\001b"), 0, "attribute not announced"},
    {1, 4, 1, 1, 2, 1, A("\000\001b"), 0, "empty key"},
    {1, 4, 1, 1, 2, 1, A("\001a\000"), 0, "empty value"},
    {1, 4, 1, 1, 2, 1, A("\001A\001b"), 0, "upper-case key"},
    {1, 4, 1, 1, 2, 1, A("\0011\001b"), 0, "key starting with a digit"},
    {1, 4, 1, 1, 2, 1, A("\003a=b\001b"), 0, "'=' in a key"},
    {1, 4, 1, 1, 2, 1, A("\001a\003b c"), 0, "blank in a value"},
    {1, 4, 1, 1, 2, 1, A("\001a\003b@c"), 0, "'@' in a value"},
    {1, 4, 1, 1, 2, 1, A("\001a\003b+c"), 0, "'+' in a value"},
    {1, 4, 1, 1, 2, 1, A("\001a\003b,c"), 0, "',' in a value"},
    {1, 4, 1, 1, 2, 1, A("\001a\003b\000c"), 0, "NUL in a value"},
    {1, 4, 1, 1, 2, 2, A("\001b\001x\001a\001x"), 0, "keys out of order"},
    {1, 4, 1, 1, 2, 2, A("\001a\001x\001a\001y"), 0, "duplicate key"},
    {1, 4, 1, 1, 2, 1, A("\041aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\001x"), 0,
	"key of 33 bytes"},
    {1, 4, 1, 1, 2, 1, A("\001a\101xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			  "xxxxxxxxxxxxxxxxxxxxxxxxxx"), 0, "value of 65 bytes"},
    {1, 4, 1, 1, 2, 1, A("\001a\377b"), 0, "value runs into the signature"},
    {1, 4, 1, 1, 2, 1, A("\377a"), 0, "key runs into the signature"},
    {1, 4, 1, 1, 2, 1, A("\001a"), 0, "value length missing"},
    {1, 4, 1, 1, 2, 0, A(""), -1, "signature cut by one byte"},
    {1, 4, 1, 1, 2, 0, A(""), 1, "one byte after the signature"},
    {1, 4, 1, 1, 2, 0, A(""), -64, "no signature"},
};

START_TEST(test_malformed)
{
	uint8_t buf[CRED_MAX_LEN + 64];
	const struct bad *b = &bads[_i];
	const char *why = NULL;
	struct cred c;
	size_t len;

	len = raw(buf, b->version, b->pt, b->serial, b->nbf, b->naf, b->n,
	    b->attrs, b->alen);
	ck_assert_msg(cred_decode(&c, buf, (size_t)((long)len + b->delta),
	    &why) == -1, "accepted: %s", b->what);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_malformed_sizes)
{
	uint8_t buf[CRED_MAX_LEN + 64];
	struct cred c;
	size_t len;

	/* The baseline of the table decodes. */
	len = raw(buf, 1, 4, 1, 1, 2, 1, A("\001a\001b"));
	ck_assert_int_eq(cred_decode(&c, buf, len, NULL), 0);
	ck_assert_int_eq(cred_decode(&c, buf, 0, NULL), -1);
	ck_assert_int_eq(cred_decode(&c, buf, CRED_MIN_LEN - 1, NULL), -1);
	ck_assert_int_eq(cred_decode(&c, buf, CRED_MAX_LEN + 1, NULL), -1);
	/* A signature of zeros is not a signature. */
	ck_assert_int_eq(cred_verify_sig(buf, len), -1);
}
END_TEST

START_TEST(test_sign_refuses)
{
	uint8_t buf[CRED_MAX_LEN];
	struct cred c;
	size_t len;

	(void)issue(buf, &ca, node.id, NOW, NOW + 1, 1, &c);
	c.serial = 0;
	ck_assert_int_eq(cred_sign(&c, ca.priv, buf, sizeof(buf), &len), -1);
	c.serial = 1;
	c.not_after = c.not_before;
	ck_assert_int_eq(cred_sign(&c, ca.priv, buf, sizeof(buf), &len), -1);
	c.not_after = c.not_before + 1;
	strcpy(c.attrs[0].key, "role"); /* twice */
	ck_assert_int_eq(cred_sign(&c, ca.priv, buf, sizeof(buf), &len), -1);
	strcpy(c.attrs[0].key, "Env");
	ck_assert_int_eq(cred_sign(&c, ca.priv, buf, sizeof(buf), &len), -1);
	strcpy(c.attrs[0].key, "env");
	ck_assert_int_eq(cred_sign(&c, ca.priv, buf, 100, &len), -1);
	ck_assert_int_eq(cred_sign(&c, ca.priv, buf, sizeof(buf), &len), 0);
}
END_TEST

START_TEST(test_pem)
{
	uint8_t buf[CRED_MAX_LEN], back[CRED_MAX_LEN];
	char text[CRED_PEM_MAX];
	const char *why;
	size_t len, blen, tlen;

	len = issue(buf, &ca, node.id, NOW, NOW + 300, 9, NULL);
	tlen = cred_pem_encode(buf, len, text, sizeof(text));
	ck_assert_uint_gt(tlen, 0);
	ck_assert_ptr_nonnull(strstr(text, "-----BEGIN SALLYPORT CREDENTIAL"));
	ck_assert_int_eq(cred_pem_decode((uint8_t *)text, tlen, back,
	    sizeof(back), &blen, &why), 0);
	ck_assert_uint_eq(blen, len);
	ck_assert_mem_eq(back, buf, len);
	ck_assert_uint_eq(cred_pem_encode(buf, len, text, 20), 0);
	ck_assert_int_eq(cred_pem_decode((const uint8_t *)"junk", 4, back,
	    sizeof(back), &blen, &why), -1);
	ck_assert_int_eq(cred_pem_decode((const uint8_t *)"-----BEGIN "
	    "PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 53, back,
	    sizeof(back), &blen, &why), -1);
	/* Too big for the buffer. */
	ck_assert_int_eq(cred_pem_decode((uint8_t *)text, tlen, back, 10,
	    &blen, &why), -1);
}
END_TEST

START_TEST(test_block)
{
	uint8_t c1[CRED_MAX_LEN], block[CRED_BLOCK_MAX];
	const uint8_t *p;
	size_t l1, len = 0, off = 0, n, bl;
	int k;

	l1 = issue(c1, &ca, node.id, NOW, NOW + 300, 1, NULL);
	for (k = 0; k < CRED_MAX_BLOCK; k++)
		ck_assert_int_eq(cred_block_add(block, sizeof(block), &len, c1,
		    l1), 0);
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &len, c1, l1),
	    -1);
	ck_assert_uint_eq(len, 1 + CRED_MAX_BLOCK * (2 + l1));
	ck_assert_int_eq(cred_block_check(block, len), 0);
	for (k = 0; cred_block_next(block, len, &off, &p, &n) == 1; k++) {
		ck_assert_uint_eq(n, l1);
		ck_assert_mem_eq(p, c1, l1);
	}
	ck_assert_int_eq(k, CRED_MAX_BLOCK);
	/* Followed by a request: its own length is found. */
	ck_assert_int_eq(cred_block_len(block, len, &bl), 0);
	ck_assert_uint_eq(bl, len);
	ck_assert_int_eq(cred_block_check(block, len - 1), -1);
	ck_assert_int_eq(cred_block_check(block, 0), -1);
	block[0] = 5;
	ck_assert_int_eq(cred_block_check(block, len), -1);
	block[0] = 3; /* one more credential than announced */
	ck_assert_int_eq(cred_block_check(block, len), -1);
	ck_assert_int_eq(cred_block_len(block, len, &bl), 0);
	ck_assert_uint_eq(bl, 1 + 3 * (2 + l1));
	block[0] = 0;
	ck_assert_int_eq(cred_block_check(block, 1), 0);
	block[0] = 1;
	block[1] = 0;
	block[2] = 0; /* a zero length */
	ck_assert_int_eq(cred_block_check(block, 3), -1);
}
END_TEST

START_TEST(test_revoked)
{
	struct cred_revoked rv;
	char text[512], id[IDENTITY_TEXT_SIZE], err[128];
	uint64_t s;

	snprintf(text, sizeof(text), "# revoked\n\n  %s  \nS00000000000000ff\r\n"
	    "\t# again\n", identity_id_format(node.id, id));
	ck_assert_int_eq(cred_revoked_parse(&rv, text, strlen(text), err,
	    sizeof(err)), 0);
	ck_assert(cred_revoked_has_id(&rv, node.id));
	ck_assert(!cred_revoked_has_id(&rv, ca.id));
	/* A serial alone: whoever issued it. */
	ck_assert(cred_revoked_has_serial(&rv, ca.id, 255));
	ck_assert(cred_revoked_has_serial(&rv, other_ca.id, 255));
	ck_assert(!cred_revoked_has_serial(&rv, ca.id, 254));
	cred_revoked_free(&rv);
	/* ISSUER:SERIAL: that issuer's serial only (issue 19). */
	snprintf(text, sizeof(text), "%s:S00000000000000fe\n",
	    identity_id_format(ca.id, id));
	ck_assert_int_eq(cred_revoked_parse(&rv, text, strlen(text), err,
	    sizeof(err)), 0);
	ck_assert(cred_revoked_has_serial(&rv, ca.id, 254));
	ck_assert(!cred_revoked_has_serial(&rv, other_ca.id, 254));
	ck_assert(!cred_revoked_has_serial(&rv, ca.id, 255));
	ck_assert(!cred_revoked_has_id(&rv, ca.id));
	cred_revoked_free(&rv);
	ck_assert(!cred_revoked_has_serial(NULL, ca.id, 254));
	/* A bad issuer or serial around the colon. */
	snprintf(text, sizeof(text), "\n%s:S00000000000000FE\n",
	    identity_id_format(ca.id, id));
	ck_assert_int_eq(cred_revoked_parse(&rv, text, strlen(text), err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "2: not ISSUER:SERIAL (the issuer's identifier, "
	    "a colon, a serial)");
	ck_assert_int_eq(cred_revoked_parse(&rv, "I00:S00000000000000fe", 21,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(cred_revoked_parse(&rv, ":", 1, err, sizeof(err)),
	    -1);
	ck_assert(!cred_revoked_has_id(NULL, node.id));
	ck_assert_int_eq(cred_revoked_parse(&rv, "\n\nbogus\n", 8, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(strncmp(err, "3: ", 3), 0);
	ck_assert_int_eq(cred_revoked_parse(&rv, "S0000000000000000\n", 18,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(cred_serial_parse("S00000000000000FF", &s), -1);
	ck_assert_int_eq(cred_serial_parse("S0000000000000ff", &s), -1);
	ck_assert_int_eq(cred_serial_parse("S00000000000000ff", &s), 0);
	ck_assert_uint_eq(s, 255);
}
END_TEST

START_TEST(test_durations)
{
	uint64_t v;

	ck_assert_int_eq(cred_parse_duration("90", &v), 0);
	ck_assert_uint_eq(v, 90);
	ck_assert_int_eq(cred_parse_duration("15m", &v), 0);
	ck_assert_uint_eq(v, 900);
	ck_assert_int_eq(cred_parse_duration("2d", &v), 0);
	ck_assert_uint_eq(v, 172800);
	ck_assert_int_eq(cred_parse_duration("0", &v), -1);
	ck_assert_int_eq(cred_parse_duration("5x", &v), -1);
	ck_assert_int_eq(cred_parse_duration("5mm", &v), -1);
	ck_assert_int_eq(cred_parse_duration("", &v), -1);
	ck_assert_int_eq(cred_parse_time("now-1h", NOW, &v), 0);
	ck_assert_uint_eq(v, NOW - 3600);
	ck_assert_int_eq(cred_parse_time("now+5m", NOW, &v), 0);
	ck_assert_uint_eq(v, NOW + 300);
	ck_assert_int_eq(cred_parse_time("1700000000", NOW, &v), 0);
	ck_assert_uint_eq(v, NOW);
	ck_assert_int_eq(cred_parse_time("2023-11-14T22:13:20Z", 0, &v), 0);
	ck_assert_uint_eq(v, NOW);
	ck_assert_int_eq(cred_parse_time("yesterday", NOW, &v), -1);
}
END_TEST

/* A configuration trusting ${ca} as corp; outlet db allows role=app. */
static void
policy_config(struct config *cfg)
{
	char text[1024], id[IDENTITY_TEXT_SIZE], err[256];

	snprintf(text, sizeof(text), "[node]\nidentity = k\nlisten = "
	    "127.0.0.1:1\ncredential_skew = 10\n[authorities]\ncorp = %s\n"
	    "[outlet db]\ntarget = 127.0.0.1:2\n"
	    "allow = role=db@corp, role=app+env=prod@corp\n",
	    identity_id_format(ca.id, id));
	ck_assert_msg(config_parse(cfg, "t.ini", text, strlen(text), err,
	    sizeof(err)) == 0, "%s", err);
}

/* The decision for ${cred} (${len}, may be 0) shown by ${who}. */
static bool
decide(const struct config *cfg, const struct cred_revoked *rv,
    const uint8_t *who, const uint8_t *cred, size_t len, uint64_t now,
    struct acl_verdict *v)
{
	const struct config_outlet *o = &cfg->outlets[0];
	uint8_t block[CRED_BLOCK_MAX];
	size_t blen = 0;
	struct acl_ctx ax = {cfg, rv, NULL, now};
	struct acl_peer peer = {who, NULL, 0, NULL};

	if (len > 0) {
		ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen,
		    cred, len), 0);
		peer.creds = block;
		peer.creds_len = blen;
	}
	return (acl_admit(&ax, &o->pol, o->allow, o->nallow, o->rules,
	    o->nrules, &peer, NULL, v));
}

/* acl_claims() by ${cfg} at NOW, with no cache. */
static bool
claims(const struct config *cfg, const uint8_t *id, const uint8_t *block,
    size_t len, const char **why)
{
	return (acl_claims(cfg, NULL, NOW, id, block, len, why));
}

START_TEST(test_policy)
{
	struct config cfg;
	struct cred_revoked rv;
	struct acl_verdict v;
	const char *why;
	uint8_t c[CRED_MAX_LEN];
	char text[128], id[IDENTITY_TEXT_SIZE], err[64];
	size_t len;
	int i;

	policy_config(&cfg);
	len = issue(c, &ca, node.id, NOW - 60, NOW + 300, 77, NULL);
	ck_assert(decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.rule, "role=app+env=prod@corp");
	ck_assert_uint_eq(v.expiry, NOW + 300 + 10);
	/* Nothing shown, nothing listed: the caller's own reason. */
	ck_assert(!decide(&cfg, NULL, node.id, c, 0, NOW, &v));
	ck_assert_ptr_null(v.reason);
	/* Another issuer. */
	len = issue(c, &other_ca, node.id, NOW - 60, NOW + 300, 77, NULL);
	ck_assert(!decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "credential-untrusted");
	/* Expired, within and beyond the skew. */
	len = issue(c, &ca, node.id, NOW - 600, NOW - 5, 77, NULL);
	ck_assert(decide(&cfg, NULL, node.id, c, len, NOW, &v));
	len = issue(c, &ca, node.id, NOW - 600, NOW - 10, 77, NULL);
	ck_assert(!decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "credential-expired");
	/* Not yet valid. */
	len = issue(c, &ca, node.id, NOW + 11, NOW + 600, 77, NULL);
	ck_assert(!decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "credential-not-yet-valid");
	/* Someone else's credential. */
	len = issue(c, &ca, node.id, NOW - 60, NOW + 300, 77, NULL);
	ck_assert(!decide(&cfg, NULL, thief.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "credential-subject-mismatch");
	/* A forged signature. */
	c[len - 1] ^= 1;
	ck_assert(!decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "credential-invalid");
	c[len - 1] ^= 1;
	/* Revoked: the serial (alone, as its issuer's; as another
	 * authority's it is not this credential), then the identity. */
	for (i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "%s%sS%016llx\n", i == 0 ? "" :
		    identity_id_format(i == 1 ? ca.id : other_ca.id, id),
		    i == 0 ? "" : ":", 77ULL);
		ck_assert_int_eq(cred_revoked_parse(&rv, text, strlen(text),
		    err, sizeof(err)), 0);
		ck_assert(decide(&cfg, &rv, node.id, c, len, NOW, &v) ==
		    (i == 2));
		if (i < 2)
			ck_assert_str_eq(v.reason, "credential-revoked");
		cred_revoked_free(&rv);
	}
	snprintf(text, sizeof(text), "%s\n", identity_id_format(node.id, id));
	ck_assert_int_eq(cred_revoked_parse(&rv, text, strlen(text), err,
	    sizeof(err)), 0);
	ck_assert(!decide(&cfg, &rv, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "revoked");
	cred_revoked_free(&rv);
	/* The claim check before any signature. */
	ck_assert(claims(&cfg, node.id, NULL, 0, &why) == false);
	ck_assert_ptr_null(why);
	config_free(&cfg);
}
END_TEST

/* A credential for node, serial ${serial}, valid a minute from NOW. */
static void
node_cred(struct cred *cr, uint64_t serial)
{

	memset(cr, 0, sizeof(*cr));
	memcpy(cr->subject, node.id, 32);
	cr->serial = serial;
	cr->not_before = NOW;
	cr->not_after = NOW + 60;
}

/* A rule needs every attribute, from its own authority. */
START_TEST(test_policy_attrs)
{
	struct config cfg;
	struct acl_verdict v;
	const char *why;
	uint8_t c[CRED_MAX_LEN], block[CRED_BLOCK_MAX];
	struct cred cr;
	size_t len, blen = 0;

	policy_config(&cfg);
	node_cred(&cr, 5);
	strcpy(cr.attrs[0].key, "role");
	strcpy(cr.attrs[0].value, "app");
	cr.nattrs = 1; /* env=prod missing */
	ck_assert_int_eq(cred_sign(&cr, ca.priv, c, sizeof(c), &len), 0);
	ck_assert(!decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_ptr_null(v.reason);
	strcpy(cr.attrs[0].value, "db");
	ck_assert_int_eq(cred_sign(&cr, ca.priv, c, sizeof(c), &len), 0);
	ck_assert(decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.rule, "role=db@corp");
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen, c, len),
	    0);
	ck_assert(claims(&cfg, node.id, block, blen, &why));
	ck_assert(!claims(&cfg, thief.id, block, blen, &why));
	ck_assert_str_eq(why, "credential-subject-mismatch");
	config_free(&cfg);
}
END_TEST

/*
 * Before the attestation, only the header is read (cred_claim): a body
 * that does not decode still claims its subject and issuer; its
 * signature (over the broken bytes) fails, so the claim is refused
 * before the attestation (credential-invalid), as the decision would.
 */
START_TEST(test_claim_header_only)
{
	struct config cfg;
	struct acl_verdict v;
	const char *why;
	uint8_t c[CRED_MAX_LEN], block[CRED_BLOCK_MAX];
	uint8_t subject[CRED_ID_LEN], issuer[CRED_ID_LEN];
	struct cred cr, d;
	size_t len, blen = 0;

	policy_config(&cfg);
	node_cred(&cr, 6);
	strcpy(cr.attrs[0].key, "env");
	strcpy(cr.attrs[0].value, "prod");
	strcpy(cr.attrs[1].key, "role");
	strcpy(cr.attrs[1].value, "db");
	cr.nattrs = 2;
	ck_assert_int_eq(cred_sign(&cr, ca.priv, c, sizeof(c), &len), 0);
	ck_assert_int_eq(cred_claim(c, len, subject, issuer, NULL), 0);
	ck_assert_int_eq(cred_decode(&d, c, len, NULL), 0);
	ck_assert_mem_eq(subject, d.subject, CRED_ID_LEN);
	ck_assert_mem_eq(issuer, d.issuer, CRED_ID_LEN);
	/* Out of bounds, another version, a compressed issuer point. */
	ck_assert_int_eq(cred_claim(c, CRED_MIN_LEN - 1, subject, issuer, NULL),
	    -1);
	ck_assert_int_eq(cred_claim(c, CRED_MAX_LEN + 1, subject, issuer, NULL),
	    -1);
	c[0] ^= 0xff;
	ck_assert_int_eq(cred_claim(c, len, subject, issuer, NULL), -1);
	c[0] ^= 0xff;
	c[1 + CRED_ID_LEN] = 0x02;
	ck_assert_int_eq(cred_claim(c, len, subject, issuer, NULL), -1);
	c[1 + CRED_ID_LEN] = 0x04;
	/* The attribute count past the attributes: the body is broken. */
	c[CRED_FIXED - 1] = 3;
	ck_assert_int_eq(cred_claim(c, len, subject, issuer, NULL), 0);
	ck_assert_int_eq(cred_decode(&d, c, len, NULL), -1);
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen, c, len),
	    0);
	ck_assert(!claims(&cfg, node.id, block, blen, &why));
	ck_assert_str_eq(why, "credential-invalid");
	ck_assert(!decide(&cfg, NULL, node.id, c, len, NOW, &v));
	ck_assert_str_eq(v.reason, "credential-invalid");
	config_free(&cfg);
}
END_TEST

/* Every rule error names its line. */
START_TEST(test_rule_errors)
{
	static const struct {
		const char *allow, *want;
	} cases[] = {
	    {"role=app@nope", "unknown authority \"nope\""},
	    {"role=app", "names no authority"},
	    {"role=@corp", "empty value"},
	    {"=app@corp", "empty key"},
	    {"Role=app@corp", "bad attribute key"},
	    {"role=a b@corp", "bad attribute value"},
	    {"role@corp+x=y", "invalid authority name"},
	    {"role+x=y@corp", "is not KEY=VALUE"},
	    {"role=a+role=b@corp", "twice"},
	};
	char text[1024], id[IDENTITY_TEXT_SIZE], err[256];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nidentity = k\nlisten = "
		    "127.0.0.1:1\n[authorities]\ncorp = %s\n[outlet db]\n"
		    "target = 127.0.0.1:2\nallow = %s\n",
		    identity_id_format(ca.id, id), cases[i].allow);
		ck_assert_int_eq(config_parse(&cfg, "t.ini", text,
		    strlen(text), err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "t.ini:8: ") == err &&
		    strstr(err, cases[i].want) != NULL, "%s: %s",
		    cases[i].allow, err);
	}
}
END_TEST

/*
 * An [inlet] whose outlet line is ${outlet} (line 9), with ${via} (line
 * 10) unless NULL: parse it into ${cfg}; the result of config_parse.
 */
static int
inlet_config(struct config *cfg, const char *outlet, const char *via,
    char *err, size_t errlen)
{
	char text[1024], id[IDENTITY_TEXT_SIZE], nid[IDENTITY_TEXT_SIZE];

	snprintf(text, sizeof(text), "[node]\nidentity = k\n[authorities]\n"
	    "corp = %s\n[peers]\nhub = %s\n[inlet db]\nlisten = "
	    "127.0.0.1:5432\noutlet = %s\n%s%s%s", identity_id_format(ca.id,
	    id), identity_id_format(node.id, nid), outlet, via != NULL ?
	    "via = " : "", via != NULL ? via : "", via != NULL ? "\n" : "");
	return (config_parse(cfg, "t.ini", text, strlen(text), err, errlen));
}

/* outlet = RULE@AUTHORITY[@HOST:PORT]: an inlet pinned by attribute. */
START_TEST(test_inlet_pin_forms)
{
	struct config cfg;
	const struct config_inlet *in;
	char err[256], id[IDENTITY_TEXT_SIZE], text[200];

	/* Direct: the rule, then the outlet node's address. */
	ck_assert_msg(inlet_config(&cfg, "role=db@corp@127.0.0.1:7400", NULL,
	    err, sizeof(err)) == 0, "%s", err);
	in = &cfg.inlets[0];
	ck_assert_int_eq(in->outlet_by_rule, 1);
	ck_assert_str_eq(in->outlet_rule.text, "role=db@corp");
	ck_assert_str_eq(in->outlet_rule.authority, "corp");
	ck_assert_mem_eq(in->outlet_rule.issuer, ca.id, 32);
	ck_assert_uint_eq(in->outlet_rule.nterms, 1);
	ck_assert_str_eq(in->outlet_rule.terms[0].key, "role");
	ck_assert_str_eq(in->outlet_rule.terms[0].values[0], "db");
	ck_assert_int_eq(in->has_via, 0);
	ck_assert_str_eq(in->outlet.port, "7400");
	config_free(&cfg);
	/* Through a relay: just the rule; several attributes. */
	ck_assert_msg(inlet_config(&cfg, "role=db+env=prod@corp",
	    "hub@127.0.0.1:7401", err, sizeof(err)) == 0, "%s", err);
	in = &cfg.inlets[0];
	ck_assert_int_eq(in->outlet_by_rule, 1);
	ck_assert_int_eq(in->has_via, 1);
	ck_assert_str_eq(in->outlet_rule.text, "role=db+env=prod@corp");
	ck_assert_uint_eq(in->outlet_rule.nterms, 2);
	ck_assert_uint_eq(in->nvia, 1);
	ck_assert_mem_eq(in->via[0].id, node.id, 32);
	config_free(&cfg);
	/* An identifier (no '=' before the first '@') is the old form. */
	snprintf(text, sizeof(text), "%s@127.0.0.1:7400",
	    identity_id_format(ca.id, id));
	ck_assert_msg(inlet_config(&cfg, text, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_int_eq(cfg.inlets[0].outlet_by_rule, 0);
	ck_assert_mem_eq(cfg.inlets[0].outlet_id, ca.id, 32);
	config_free(&cfg);
}
END_TEST

/* Every malformed attribute pin: its exact message, at its line. */
static const struct {
	const char *outlet, *via, *want;
} pin_bads[] = {
    {"role=db@nope@127.0.0.1:7400", NULL, "t.ini:9: unknown authority "
	"\"nope\" in rule \"role=db@nope\" (not in [authorities])"},
    {"role=@corp@127.0.0.1:7400", NULL, "t.ini:9: empty value in "
	"attribute rule \"role=@corp\""},
    {"=db@corp@127.0.0.1:7400", NULL, "t.ini:9: empty key in attribute "
	"rule \"=db@corp\""},
    {"role=d!b@corp@127.0.0.1:7400", NULL, "t.ini:9: bad attribute value "
	"\"d!b\" in rule \"role=d!b@corp\" (1 to 64 of A-Z a-z 0-9 . _ : / "
	"-)"},
    {"Role=db@corp@127.0.0.1:7400", NULL, "t.ini:9: bad attribute key "
	"\"Role\" in rule \"Role=db@corp\" (1 to 32 of a-z 0-9 _ -, "
	"starting with a letter)"},
    {"role=db,role=x@corp@127.0.0.1:7400", NULL, "t.ini:9: outlet takes "
	"one attribute rule, not a list (join attributes with '+')"},
    {"role=db@@127.0.0.1:7400", NULL, "t.ini:9: empty authority name"},
    {"role=db", "hub@127.0.0.1:7401", "t.ini:9: attribute rule "
	"\"role=db\" names no authority (KEY=VALUE@AUTHORITY)"},
    {"role=db@corp", NULL, "t.ini:9: outlet must be "
	"KEY=VALUE@AUTHORITY@HOST:PORT (the attribute rule, then the outlet "
	"node's address)"},
    {"role=db@corp@127.0.0.1:7400", "hub@127.0.0.1:7401", "t.ini:9: with "
	"via, outlet is just the outlet's pinned attribute rule (no "
	"@address)"},
    {"role=db@corp@", NULL, "t.ini:9: outlet: empty address"},
    {"role=db@corp@127.0.0.1", NULL, "t.ini:9: outlet: missing port: "
	"expected host:port, [v6]:port or unix:/path"},
    /* '=' after the first '@' is not a rule: a peer, then an address. */
    {"hub@a=b:7400", NULL, "t.ini:9: outlet: invalid host "
	"\"a=b\" (an IPv4 address, a [v6] address or a DNS name)"},
};

START_TEST(test_inlet_pin_errors)
{
	struct config cfg;
	char err[256];

	ck_assert_int_eq(inlet_config(&cfg, pin_bads[_i].outlet,
	    pin_bads[_i].via, err, sizeof(err)), -1);
	ck_assert_str_eq(err, pin_bads[_i].want);
}
END_TEST

/*
 * Issue 19, N2: forged credential headers.  A throwaway key names
 * itself as subject and a trusted authority's key as issuer, with a
 * signature that cannot hold.
 */
static struct identity ca2, ca3, ca4, tw;

static void
forged_setup(void)
{

	setup();
	ck_assert_int_eq(identity_generate(&ca2), 0);
	ck_assert_int_eq(identity_generate(&ca3), 0);
	ck_assert_int_eq(identity_generate(&ca4), 0);
	ck_assert_int_eq(identity_generate(&tw), 0);
}

/*
 * Four trusted authorities, each named by a rule of the outlet db, and
 * ${nrelays} relay names whose allow lists are attribute rules.
 */
static void
forged_config(struct config *cfg, int nrelays)
{
	const struct identity *cas[4] = {&ca, &ca2, &ca3, &ca4};
	char text[4096], id[IDENTITY_TEXT_SIZE], err[256];
	size_t n;
	int i;

	n = (size_t)snprintf(text, sizeof(text), "[node]\nidentity = k\n"
	    "listen = 127.0.0.1:1\n[authorities]\n");
	for (i = 0; i < 4; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a%d = %s\n",
		    i, identity_id_format(cas[i]->id, id));
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[outlet db]\n"
	    "target = 127.0.0.1:2\nallow = role=db@a0, role=db@a1, "
	    "role=db@a2, role=db@a3\n");
	for (i = 0; i < nrelays; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "[relay r%d]\nallow = role=app@a%d\n", i, i % 4);
	ck_assert_uint_lt(n, sizeof(text));
	ck_assert_msg(config_parse(cfg, "t.ini", text, n, err,
	    sizeof(err)) == 0, "%s", err);
}

/* A forged credential for ${subject} claiming ${issuer}; its length. */
static size_t
forge(uint8_t *out, const struct identity *issuer, const uint8_t *subject,
    uint64_t serial)
{
	size_t len;

	len = issue(out, &other_ca, subject, NOW - 60, NOW + 300, serial,
	    NULL);
	memcpy(out + 1 + CRED_ID_LEN, issuer->pub, CRYPTO_P256_PUB_LEN);
	return (len);
}

/* A block of four forged credentials for ${subject}, one per authority. */
static size_t
forged_block(uint8_t block[CRED_BLOCK_MAX], const uint8_t *subject)
{
	const struct identity *cas[4] = {&ca, &ca2, &ca3, &ca4};
	uint8_t c[CRED_MAX_LEN];
	size_t len, blen = 0;
	int i;

	for (i = 0; i < 4; i++) {
		len = forge(c, cas[i], subject, 100 + (uint64_t)i);
		ck_assert_int_eq(cred_block_add(block, CRED_BLOCK_MAX, &blen, c,
		    len), 0);
	}
	return (blen);
}

/*
 * The pre-auth look at forged headers costs one verification at most
 * (an unknown key none), none again for the same bytes for a while, and
 * leaves nothing in the cache of verified signatures.
 */
START_TEST(test_forged_claims)
{
	struct config cfg;
	struct sigcache *cache;
	uint64_t now = NOW;
	uint8_t block[CRED_BLOCK_MAX];
	uint64_t v0, hits, misses;
	const char *why;
	size_t blen;

	forged_config(&cfg, 0);
	ck_assert_ptr_nonnull(cache = sigcache_new(64));
	blen = forged_block(block, tw.id);
	/* An unknown key: no verification. */
	v0 = crypto_p256_verifications();
	ck_assert(!acl_claims(&cfg, cache, now, tw.id, NULL, 0, &why));
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 0);
	/* Four forged credentials: one verification, then a deny. */
	v0 = crypto_p256_verifications();
	ck_assert(!acl_claims(&cfg, cache, now, tw.id, block, blen, &why));
	ck_assert_str_eq(why, "credential-invalid");
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 1);
	/* The same bytes again: remembered, none. */
	ck_assert(!acl_claims(&cfg, cache, now, tw.id, block, blen, &why));
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 1);
	/* Briefly: after SIGCACHE_BAD_LIFE, verified again. */
	now = NOW + SIGCACHE_BAD_LIFE;
	ck_assert(!acl_claims(&cfg, cache, now, tw.id, block, blen, &why));
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 2);
	/* Nothing entered the cache of verified signatures. */
	sigcache_stats(cache, &hits, &misses);
	ck_assert_uint_eq(hits, 0);
	sigcache_free(cache);
	config_free(&cfg);
}
END_TEST

/*
 * The decision: each credential checked once, however many relay names
 * have a rule (one verification for four forged credentials and ten
 * names, not forty), and only the first credential of each authority.
 */
START_TEST(test_forged_decision)
{
	struct config cfg;
	struct acl_ctx ax = {NULL, NULL, NULL, NOW};
	struct acl_peer peer;
	struct acl_checked ck;
	struct acl_verdict v;
	uint8_t block[CRED_BLOCK_MAX], c[CRED_MAX_LEN];
	uint64_t v0;
	size_t i, blen, len;

	forged_config(&cfg, 10);
	ax.cfg = &cfg;
	blen = forged_block(block, tw.id);
	peer.id = tw.id;
	peer.creds = block;
	peer.creds_len = blen;
	v0 = crypto_p256_verifications();
	ck.done = 0;
	for (i = 0; i < cfg.nrelays; i++) {
		ck_assert(!acl_admit(&ax, NULL, cfg.relays[i].allow,
		    cfg.relays[i].nallow, cfg.relays[i].allow_rules,
		    cfg.relays[i].nallow_rules, &peer, &ck, &v));
		ck_assert_str_eq(v.reason, "credential-invalid");
	}
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 1);
	/* One list, no cache: still one, not four. */
	v0 = crypto_p256_verifications();
	ck_assert(!acl_admit(&ax, NULL, NULL, 0, cfg.outlets[0].rules,
	    cfg.outlets[0].nrules, &peer, NULL, &v));
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 1);

	/*
	 * One credential per authority: a genuine role=app from a0 first,
	 * then a genuine role=db from a0 (the rule's) is not looked at.
	 */
	blen = 0;
	len = issue(c, &ca, tw.id, NOW - 60, NOW + 300, 7, NULL);
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen, c, len),
	    0);
	{
		struct cred cr;

		memset(&cr, 0, sizeof(cr));
		memcpy(cr.subject, tw.id, CRED_ID_LEN);
		cr.serial = 8;
		cr.not_before = NOW - 60;
		cr.not_after = NOW + 300;
		strcpy(cr.attrs[0].key, "role");
		strcpy(cr.attrs[0].value, "db");
		cr.nattrs = 1;
		ck_assert_int_eq(cred_sign(&cr, ca.priv, c, sizeof(c), &len),
		    0);
	}
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen, c, len),
	    0);
	peer.creds_len = blen;
	v0 = crypto_p256_verifications();
	ck_assert(!acl_admit(&ax, NULL, NULL, 0, cfg.outlets[0].rules,
	    cfg.outlets[0].nrules, &peer, NULL, &v));
	ck_assert_uint_eq(crypto_p256_verifications() - v0, 1);
	/* The role=db one alone is allowed. */
	blen = 0;
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen, c, len),
	    0);
	peer.creds_len = blen;
	ck_assert(acl_admit(&ax, NULL, NULL, 0, cfg.outlets[0].rules,
	    cfg.outlets[0].nrules, &peer, NULL, &v));
	config_free(&cfg);
}
END_TEST

/*
 * The memory of bad signatures: bounded (a ring), keyed on the bytes,
 * short lived, and apart from the verified ones (a flood of bad ones
 * pushes out no good one).
 */
START_TEST(test_bad_memory)
{
	struct sigcache *cache;
	uint8_t key[CRYPTO_HASH_LEN], good[CRYPTO_HASH_LEN];
	uint32_t i;

	ck_assert_ptr_nonnull(cache = sigcache_new(4));
	memset(good, 0xee, sizeof(good));
	sigcache_add(cache, good);
	memset(key, 0, sizeof(key));
	ck_assert(!sigcache_bad(cache, key, NOW));
	sigcache_add_bad(cache, key, NOW);
	ck_assert(sigcache_bad(cache, key, NOW));
	ck_assert(sigcache_bad(cache, key,
	    NOW + SIGCACHE_BAD_LIFE - 1));
	ck_assert(!sigcache_bad(cache, key, NOW + SIGCACHE_BAD_LIFE));
	ck_assert(!sigcache_bad(NULL, key, NOW));
	sigcache_add_bad(NULL, key, NOW);
	/* SIGCACHE_BAD more: the first is gone, the last is there. */
	for (i = 1; i <= SIGCACHE_BAD * 4; i++) {
		memcpy(key, &i, sizeof(i));
		sigcache_add_bad(cache, key, NOW);
	}
	memset(key, 0, sizeof(key));
	ck_assert(!sigcache_bad(cache, key, NOW));
	i = SIGCACHE_BAD * 4;
	memcpy(key, &i, sizeof(i));
	ck_assert(sigcache_bad(cache, key, NOW));
	i = SIGCACHE_BAD * 3;
	memcpy(key, &i, sizeof(i));
	ck_assert(!sigcache_bad(cache, key, NOW));
	/* The verified one is still there. */
	ck_assert(sigcache_seen(cache, good));
	sigcache_free(cache);
}
END_TEST

static Suite *
cred_suite(void)
{
	Suite *s = suite_create("cred");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_checked_fixture(tc, setup, NULL);
	/*
	 * Check's default of 4 s per test leaves too little room for ASan
	 * on a loaded machine: test_signature_exact took 1.5 s under ASan
	 * at a load of 16 to 22.
	 */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_signature_exact);
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, test_malformed_sizes);
	tcase_add_test(tc, test_sign_refuses);
	tcase_add_test(tc, test_pem);
	tcase_add_test(tc, test_block);
	suite_add_tcase(s, tc);
	tc = tcase_create("lists");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_revoked);
	tcase_add_test(tc, test_durations);
	suite_add_tcase(s, tc);
	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_policy_attrs);
	tcase_add_test(tc, test_claim_header_only);
	tcase_add_test(tc, test_rule_errors);
	tcase_add_test(tc, test_inlet_pin_forms);
	tcase_add_loop_test(tc, test_inlet_pin_errors, 0,
	    (int)(sizeof(pin_bads) / sizeof(pin_bads[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("forged");
	tcase_add_checked_fixture(tc, forged_setup, NULL);
	tcase_add_test(tc, test_forged_claims);
	tcase_add_test(tc, test_forged_decision);
	tcase_add_test(tc, test_bad_memory);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(cred_suite()));
}
