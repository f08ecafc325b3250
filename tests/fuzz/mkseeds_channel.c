/*
 * mkseeds_channel: write the seed corpora of the channel fuzz targets
 * (run by hand: mkseeds_channel tests/fuzz/corpus).  Every key is fixed,
 * so the seeds are valid inputs that reach the deepest states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz_channel.h"

static const char *dir;

/* Write ${n} bytes to ${dir}/${target}/${name}; exit on failure. */
static void
put(const char *target, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Append a record of ${type} with ${n} bytes of ${c}, sealed by ${ch}. */
static size_t
seal(struct channel *ch, uint8_t *buf, enum channel_type type, int c,
    size_t n)
{
	long rl;

	memset(buf + CHANNEL_HDR, c, n);
	if ((rl = channel_seal(ch, type, buf, n)) < 0)
		exit(1);
	return ((size_t)rl);
}

int
main(int argc, char *argv[])
{
	static uint8_t buf[8 * CHANNEL_MAX_RECORD];
	uint8_t m1[CHANNEL_MAX_HANDSHAKE], m2[CHANNEL_MAX_HANDSHAKE];
	uint8_t m3[CHANNEL_MAX_HANDSHAKE], pl[CHANNEL_PAYLOAD_LEN];
	struct channel *ci, *cr;
	size_t l1, l2, l3, n;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_channel CORPUS-DIR\n");
		return (1);
	}
	dir = argv[1];
	fz_setup();

	/* Responder: msg1 alone; msg1 + msg3; then records from i. */
	fz_establish(&ci, &cr, m1, &l1, m2, &l2, m3, &l3);
	put("handshake_responder", "msg1", m1, l1);
	memcpy(buf, m1, l1);
	memcpy(buf + l1, m3, l3);
	put("handshake_responder", "msg1-msg3", buf, l1 + l3);
	n = l1 + l3;
	n += seal(ci, buf + n, CHANNEL_DATA, 'a', 100);
	n += seal(ci, buf + n, CHANNEL_PING, 'p', 8);
	n += seal(ci, buf + n, CHANNEL_EOF, 0, 0);
	put("handshake_responder", "msg1-msg3-records", buf, n);
	channel_free(ci);
	channel_free(cr);

	/* Responder: a stranger's msg1 + msg3, refused by the filter. */
	ci = fz_stranger();
	cr = fz_responder();
	if (channel_start(ci, m1, sizeof(m1), &l1) != 0 ||
	    channel_handshake(cr, m1, l1, FZ_NOW, m2, sizeof(m2), &l2) != 0 ||
	    channel_handshake(ci, m2, l2, FZ_NOW, m3, sizeof(m3), &l3) != 1 ||
	    channel_handshake(cr, m3, l3, FZ_NOW, buf, sizeof(buf), &n) !=
	    -CHANNEL_EDENIED || n == 0)
		abort();
	memcpy(buf, m1, l1);
	memcpy(buf + l1, m3, l3);
	put("handshake_responder", "stranger-msg1-msg3", buf, l1 + l3);
	channel_free(ci);
	channel_free(cr);

	/* Resumed responder: msg1; msg1 + msg3 (a record); then records. */
	ci = fz_resume_initiator();
	cr = fz_resume_responder();
	if (channel_start(ci, m1, sizeof(m1), &l1) != 0 ||
	    channel_handshake(cr, m1, l1, FZ_NOW, m2, sizeof(m2), &l2) != 0 ||
	    channel_handshake(ci, m2, l2, FZ_NOW, m3, sizeof(m3), &l3) != 1 ||
	    channel_handshake(cr, m3, l3, FZ_NOW, buf, sizeof(buf), &n) != 1)
		abort();
	put("resume_responder", "msg1", m1, l1);
	memcpy(buf, m1, l1);
	memcpy(buf + l1, m3, l3);
	n = l1 + l3;
	put("resume_responder", "msg1-msg3", buf, n);
	n += seal(ci, buf + n, CHANNEL_DATA, 'a', 100);
	n += seal(ci, buf + n, CHANNEL_EOF, 0, 0);
	put("resume_responder", "msg1-msg3-records", buf, n);
	channel_free(ci);
	channel_free(cr);
	/* An unknown ticket, then the full msg1 and msg3. */
	m1[2] ^= 1;
	memcpy(buf, m1, l1);
	n = l1;
	fz_establish(&ci, &cr, m1, &l1, NULL, NULL, m3, &l3);
	memcpy(buf + n, m1, l1);
	memcpy(buf + n + l1, m3, l3);
	put("resume_responder", "unknown-full", buf, n + l1 + l3);
	channel_free(ci);
	channel_free(cr);

	/* Responder: msg1, a msg3 without request, the request record. */
	ci = fz_initiator_checked();
	cr = fz_responder();
	if (channel_start(ci, m1, sizeof(m1), &l1) != 0 ||
	    channel_handshake(cr, m1, l1, FZ_NOW, m2, sizeof(m2), &l2) != 0 ||
	    channel_handshake(ci, m2, l2, FZ_NOW, m3, sizeof(m3), &l3) != 0 ||
	    channel_handshake(cr, m3, l3, FZ_NOW, buf, sizeof(buf), &n) != 0 ||
	    channel_handshake(ci, buf, n, FZ_NOW, m2, sizeof(m2), &l2) != 1)
		abort();
	memcpy(buf, m1, l1);
	memcpy(buf + l1, m3, l3);
	memcpy(buf + l1 + l3, m2, l2);
	put("handshake_responder", "msg1-msg3-request", buf, l1 + l3 + l2);
	channel_free(ci);
	channel_free(cr);

	/* Initiator: msg2; msg2, r's credential record, then records. */
	fz_establish(&ci, &cr, NULL, NULL, m2, &l2, NULL, NULL);
	put("handshake_initiator", "msg2", m2, l2);
	memcpy(buf, m2, l2);
	memcpy(buf + l2, fz_first, fz_first_len);
	n = l2 + fz_first_len;
	n += seal(cr, buf + n, CHANNEL_DATA, 'b', 200);
	n += seal(cr, buf + n, CHANNEL_PONG, 'q', 8);
	put("handshake_initiator", "msg2-records", buf, n);
	channel_free(ci);
	channel_free(cr);

	/* Records from i to r: one of each type, a full one, a run. */
	fz_establish(&ci, &cr, NULL, NULL, NULL, NULL, NULL, NULL);
	n = seal(ci, buf, CHANNEL_DATA, 'd', 32);
	put("record", "data", buf, n);
	channel_free(ci);
	channel_free(cr);
	fz_establish(&ci, &cr, NULL, NULL, NULL, NULL, NULL, NULL);
	n = seal(ci, buf, CHANNEL_DATA, 'f', CHANNEL_MAX_DATA);
	put("record", "data-full", buf, n);
	channel_free(ci);
	channel_free(cr);
	fz_establish(&ci, &cr, NULL, NULL, NULL, NULL, NULL, NULL);
	n = 0;
	for (i = 0; i < 4; i++)
		n += seal(ci, buf + n, CHANNEL_DATA, 'r' + i, (size_t)(i * 10));
	n += seal(ci, buf + n, CHANNEL_PING, 0, 8);
	n += seal(ci, buf + n, CHANNEL_EOF, 0, 0);
	n += seal(ci, buf + n, CHANNEL_PONG, 0, 8);
	put("record", "sequence", buf, n);
	channel_free(ci);
	channel_free(cr);

	/* Identity payloads: r's (valid against its static key) and i's. */
	pl[0] = CHANNEL_PAYLOAD_VERSION;
	for (i = 0; i < 2; i++) {
		const struct channel_local *l = i == 0 ? &fz_lr : &fz_li;
		int k;

		memcpy(pl + 1, l->id_pub, CRYPTO_P256_PUB_LEN);
		for (k = 0; k < 8; k++)
			pl[66 + k] = (uint8_t)(l->expiry >> (56 - 8 * k));
		memcpy(pl + 74, l->sig, CRYPTO_P256_SIG_LEN);
		put("identity_payload", i == 0 ? "responder" : "initiator", pl,
		    sizeof(pl));
	}
	return (0);
}
