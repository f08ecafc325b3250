/*
 * noise-vectors: replay public Noise test vectors against src/noise.c.
 *
 * Usage: noise-vectors FILE...
 *
 * A FILE ending in ".txt" is read in flynn/noise's key=value format, any
 * other in the JSON format of cacophony, snow and noise-c (see
 * tests/vectors/noise/README.md for the differences).  Each vector whose
 * protocol name noise_protocol_parse() accepts is replayed with both roles
 * in one process: the initiator and the responder each write their
 * messages, which must equal the vector's ciphertext byte for byte, and each
 * reads the other's, which must give the vector's payload; both must end
 * with the vector's handshake hash when it has one; then the transport
 * messages after Split go through the same checks.  A psk vector gives
 * both sides its pre-shared key (init_psks/resp_psks, or flynn's
 * preshared_key).  Other vectors (other patterns, several psk modifiers)
 * are counted as skipped.  Prints "N passed, N failed, N
 * skipped" and exits 1 on any failure or unreadable file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "noise.h"

#define MAX_FIELD 2048 /* bytes of one decoded hex value */
#define MAX_MSGS 16

struct field {
	uint8_t b[MAX_FIELD];
	size_t len;
	int has;
};

struct message {
	struct field payload, ct;
};

/* One vector, whatever file format it came from. */
struct vector {
	char name[128];
	struct field prologue;
	struct field init_s, init_e, init_rs, resp_s, resp_e, resp_rs;
	struct field hh;
	struct field psk; /* the one pre-shared key of a pskN pattern */
	struct message msg[MAX_MSGS];
	int nmsg;
	int flynn; /* transport direction rule of flynn.txt */
};

static unsigned long passed, failed, skipped;

/* Decode the hex string ${s} into ${f}.  Return 0, or -1 if malformed. */
static int
hex_decode(struct field *f, const char *s)
{
	size_t n = strlen(s), i;
	unsigned int v;

	if (n % 2 != 0 || n / 2 > sizeof(f->b))
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return (-1);
		f->b[i] = (uint8_t)v;
	}
	f->len = n / 2;
	f->has = 1;
	return (0);
}

/* Report a failed check of vector ${v}. */
static void fail(const struct vector *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(const struct vector *v, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s: ", v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Replay vector ${v}.  Return 1 if it passed, 0 if it failed, -1 if its
 * protocol is not one we implement.
 */
static int
replay(const struct vector *v)
{
	struct noise_handshake hs[2];
	struct noise_cipherstate tx[2], rx[2];
	enum noise_pattern pattern;
	enum noise_cipher cipher;
	uint8_t out[MAX_FIELD], pl[MAX_FIELD];
	uint8_t rs_i[NOISE_DHLEN];
	const uint8_t *rs;
	size_t outlen, plen;
	int i, w, r, ok = 0, ntx[2] = {0, 0};

	if (noise_protocol_parse(v->name, &pattern, &cipher) != 0)
		return (-1);
	memset(tx, 0, sizeof(tx));
	memset(rx, 0, sizeof(rx));

	/* The initiator's pre-known rs: given, or derived (flynn). */
	rs = v->init_rs.has ? v->init_rs.b : NULL;
	if (rs == NULL && (pattern == NOISE_IK || pattern == NOISE_IKPSK2) &&
	    v->resp_s.has) {
		if (crypto_x25519_pub(rs_i, v->resp_s.b) != 0)
			goto out0;
		rs = rs_i;
	}
	if (noise_handshake_init(&hs[0], pattern, cipher, NOISE_INITIATOR,
	    v->prologue.b, v->prologue.len, v->init_s.has ? v->init_s.b : NULL,
	    rs, v->init_e.has ? v->init_e.b : NULL) != 0) {
		fail(v, "initiator init");
		goto out0;
	}
	if (noise_handshake_init(&hs[1], pattern, cipher, NOISE_RESPONDER,
	    v->prologue.b, v->prologue.len, v->resp_s.has ? v->resp_s.b : NULL,
	    NULL, v->resp_e.has ? v->resp_e.b : NULL) != 0) {
		fail(v, "responder init");
		goto out1;
	}
	if (v->psk.has && (v->psk.len != NOISE_PSKLEN ||
	    noise_handshake_set_psk(&hs[0], v->psk.b) != 0 ||
	    noise_handshake_set_psk(&hs[1], v->psk.b) != 0)) {
		fail(v, "psk");
		goto out2;
	}

	/* Handshake messages alternate, the initiator first. */
	for (i = 0; i < v->nmsg && !hs[0].done; i++) {
		w = i % 2;
		r = 1 - w;
		if (noise_handshake_write(&hs[w], v->msg[i].payload.b,
		    v->msg[i].payload.len, out, sizeof(out), &outlen) != 0) {
			fail(v, "write of handshake message %d", i);
			goto out2;
		}
		if (outlen != v->msg[i].ct.len ||
		    memcmp(out, v->msg[i].ct.b, outlen) != 0) {
			fail(v, "ciphertext of handshake message %d", i);
			goto out2;
		}
		if (noise_handshake_read(&hs[r], v->msg[i].ct.b,
		    v->msg[i].ct.len, pl, sizeof(pl), &plen) != 0) {
			fail(v, "read of handshake message %d", i);
			goto out2;
		}
		if (plen != v->msg[i].payload.len ||
		    memcmp(pl, v->msg[i].payload.b, plen) != 0) {
			fail(v, "payload of handshake message %d", i);
			goto out2;
		}
	}
	if (!hs[0].done || !hs[1].done) {
		fail(v, "handshake not finished after %d messages", i);
		goto out2;
	}
	if (v->hh.has && (v->hh.len != NOISE_HASHLEN ||
	    memcmp(hs[0].ss.h, v->hh.b, NOISE_HASHLEN) != 0 ||
	    memcmp(hs[1].ss.h, v->hh.b, NOISE_HASHLEN) != 0)) {
		fail(v, "handshake hash");
		goto out2;
	}
	if (noise_handshake_split(&hs[0], &tx[0], &rx[0]) != 0 ||
	    noise_handshake_split(&hs[1], &tx[1], &rx[1]) != 0) {
		fail(v, "split");
		goto out3;
	}

	/*
	 * Transport messages: the JSON files continue the alternation (the
	 * initiator sends message i iff i is even); flynn.txt starts with
	 * the initiator and alternates from there.
	 */
	for (; i < v->nmsg; i++) {
		if (v->flynn)
			w = (ntx[0] + ntx[1]) % 2;
		else
			w = i % 2;
		r = 1 - w;
		ntx[w]++;
		if (v->msg[i].payload.len + NOISE_TAGLEN > sizeof(out))
			goto out3;
		memcpy(out, v->msg[i].payload.b, v->msg[i].payload.len);
		outlen = v->msg[i].payload.len;
		if (noise_cs_encrypt(&tx[w], NULL, 0, out, outlen,
		    out + outlen) != 0) {
			fail(v, "encrypt of message %d", i);
			goto out3;
		}
		outlen += NOISE_TAGLEN;
		if (outlen != v->msg[i].ct.len ||
		    memcmp(out, v->msg[i].ct.b, outlen) != 0) {
			fail(v, "ciphertext of transport message %d", i);
			goto out3;
		}
		if (v->msg[i].ct.len < NOISE_TAGLEN)
			goto out3;
		plen = v->msg[i].ct.len - NOISE_TAGLEN;
		memcpy(pl, v->msg[i].ct.b, plen);
		if (noise_cs_decrypt(&rx[r], NULL, 0, pl, plen,
		    v->msg[i].ct.b + plen) != 0 ||
		    plen != v->msg[i].payload.len ||
		    memcmp(pl, v->msg[i].payload.b, plen) != 0) {
			fail(v, "decrypt of transport message %d", i);
			goto out3;
		}
	}
	ok = 1;
out3:
	noise_cs_fini(&tx[0]);
	noise_cs_fini(&rx[0]);
	noise_cs_fini(&tx[1]);
	noise_cs_fini(&rx[1]);
out2:
	noise_handshake_fini(&hs[1]);
out1:
	noise_handshake_fini(&hs[0]);
out0:
	return (ok);
}

/* Count the outcome ${rc} of replay(). */
static void
tally(int rc)
{

	if (rc == 1)
		passed++;
	else if (rc == 0)
		failed++;
	else
		skipped++;
}

/* Decode the hex string member ${key} of ${o} into ${f}, if present. */
static int
json_field(json_t *o, const char *key, struct field *f)
{
	json_t *x = json_object_get(o, key);

	f->has = 0;
	f->len = 0;
	if (x == NULL)
		return (0);
	if (!json_is_string(x))
		return (-1);
	return (hex_decode(f, json_string_value(x)));
}

/*
 * Decode the array of hex strings ${key} of ${o}, if present, into ${f}
 * when it holds exactly one key; more than one leaves ${f} empty (no
 * pattern we implement has several psk modifiers).  Return 0 or -1.
 */
static int
json_psks(json_t *o, const char *key, struct field *f)
{
	json_t *x = json_object_get(o, key);

	f->has = 0;
	f->len = 0;
	if (x == NULL)
		return (0);
	if (!json_is_array(x))
		return (-1);
	if (json_array_size(x) != 1)
		return (0);
	if (!json_is_string(json_array_get(x, 0)))
		return (-1);
	return (hex_decode(f, json_string_value(json_array_get(x, 0))));
}

/* Fill ${v} from one JSON vector ${o}.  Return 0, or -1 if malformed. */
static int
json_vector(json_t *o, struct vector *v)
{
	json_t *name, *msgs, *m;
	struct field resp_prologue, resp_psk;
	size_t i;

	memset(v, 0, sizeof(*v));
	/* cacophony and snow say protocol_name, noise-c says name. */
	if ((name = json_object_get(o, "protocol_name")) == NULL)
		name = json_object_get(o, "name");
	if (!json_is_string(name) ||
	    strlen(json_string_value(name)) >= sizeof(v->name))
		return (-1);
	strcpy(v->name, json_string_value(name));
	if (json_field(o, "init_prologue", &v->prologue) ||
	    json_field(o, "resp_prologue", &resp_prologue) ||
	    json_field(o, "init_static", &v->init_s) ||
	    json_field(o, "init_ephemeral", &v->init_e) ||
	    json_field(o, "init_remote_static", &v->init_rs) ||
	    json_field(o, "resp_static", &v->resp_s) ||
	    json_field(o, "resp_ephemeral", &v->resp_e) ||
	    json_field(o, "resp_remote_static", &v->resp_rs) ||
	    json_field(o, "handshake_hash", &v->hh) ||
	    json_psks(o, "init_psks", &v->psk) ||
	    json_psks(o, "resp_psks", &resp_psk))
		return (-1);
	/* One psk for both sides: they are equal in every vector. */
	if (resp_psk.has != v->psk.has || resp_psk.len != v->psk.len ||
	    memcmp(resp_psk.b, v->psk.b, v->psk.len) != 0)
		return (-1);
	/* One prologue for both sides: they are equal in every vector. */
	if (resp_prologue.len != v->prologue.len ||
	    memcmp(resp_prologue.b, v->prologue.b, v->prologue.len) != 0)
		return (-1);
	if (!json_is_array(msgs = json_object_get(o, "messages")) ||
	    json_array_size(msgs) > MAX_MSGS)
		return (-1);
	json_array_foreach(msgs, i, m) {
		if (json_field(m, "payload", &v->msg[i].payload) ||
		    json_field(m, "ciphertext", &v->msg[i].ct) ||
		    !v->msg[i].ct.has)
			return (-1);
	}
	v->nmsg = (int)json_array_size(msgs);
	return (0);
}

/* Replay every vector of the JSON file ${path}.  Return 0 or -1. */
static int
run_json(const char *path, struct vector *v)
{
	json_error_t err;
	json_t *root, *vecs, *o;
	size_t i;
	int rc = -1;

	if ((root = json_load_file(path, 0, &err)) == NULL) {
		fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
		goto fail0;
	}
	if (!json_is_array(vecs = json_object_get(root, "vectors"))) {
		fprintf(stderr, "%s: no \"vectors\" array\n", path);
		goto fail1;
	}
	json_array_foreach(vecs, i, o) {
		if (json_vector(o, v) != 0) {
			fprintf(stderr, "%s: vector %zu malformed\n", path, i);
			goto fail1;
		}
		tally(replay(v));
	}
	rc = 0;
fail1:
	json_decref(root);
fail0:
	return (rc);
}

/* Store "key=value" line ${line} of a flynn record into ${v}. */
static int
flynn_line(struct vector *v, char *line)
{
	char *val;
	int i;

	if ((val = strchr(line, '=')) == NULL)
		return (-1);
	*val++ = '\0';
	if (strcmp(line, "handshake") == 0) {
		if (strlen(val) >= sizeof(v->name))
			return (-1);
		strcpy(v->name, val);
		return (0);
	}
	if (strcmp(line, "prologue") == 0)
		return (hex_decode(&v->prologue, val));
	if (strcmp(line, "init_static") == 0)
		return (hex_decode(&v->init_s, val));
	if (strcmp(line, "resp_static") == 0)
		return (hex_decode(&v->resp_s, val));
	if (strcmp(line, "gen_init_ephemeral") == 0)
		return (hex_decode(&v->init_e, val));
	if (strcmp(line, "gen_resp_ephemeral") == 0)
		return (hex_decode(&v->resp_e, val));
	if (sscanf(line, "msg_%d_", &i) == 1) {
		if (i < 0 || i >= MAX_MSGS)
			return (-1);
		if (i >= v->nmsg)
			v->nmsg = i + 1;
		if (strstr(line, "_payload") != NULL)
			return (hex_decode(&v->msg[i].payload, val));
		if (strstr(line, "_ciphertext") != NULL)
			return (hex_decode(&v->msg[i].ct, val));
		return (-1);
	}
	if (strcmp(line, "preshared_key") == 0)
		return (hex_decode(&v->psk, val));
	return (0); /* anything else: not needed here */
}

/* Replay every record of the flynn/noise text file ${path}. */
static int
run_flynn(const char *path, struct vector *v)
{
	static char line[2 * MAX_FIELD + 64];
	FILE *f;
	size_t n;
	int rc = -1, lineno = 0, open = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto fail0;
	}
	memset(v, 0, sizeof(*v));
	/* Records are separated by blank lines; a final one may lack it. */
	for (;;) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		else
			lineno++;
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0) {
			if (open) {
				v->flynn = 1;
				tally(replay(v));
				memset(v, 0, sizeof(*v));
				open = 0;
			}
			if (feof(f))
				break;
			continue;
		}
		if (flynn_line(v, line) != 0) {
			fprintf(stderr, "%s:%d: malformed\n", path, lineno);
			goto fail1;
		}
		open = 1;
	}
	rc = 0;
fail1:
	fclose(f);
fail0:
	return (rc);
}

int
main(int argc, char *argv[])
{
	static struct vector v;
	size_t len;
	int i, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: noise-vectors FILE...\n");
		return (2);
	}
	if (crypto_init() != 0) {
		fprintf(stderr, "crypto_init failed\n");
		return (1);
	}
	for (i = 1; i < argc; i++) {
		len = strlen(argv[i]);
		if (len > 4 && strcmp(argv[i] + len - 4, ".txt") == 0) {
			if (run_flynn(argv[i], &v) != 0)
				bad = 1;
		} else if (run_json(argv[i], &v) != 0) {
			bad = 1;
		}
	}
	printf("%lu passed, %lu failed, %lu skipped\n", passed, failed,
	    skipped);
	return (bad || failed > 0 || passed == 0 ? 1 : 0);
}
