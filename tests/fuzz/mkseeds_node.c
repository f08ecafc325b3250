/*
 * mkseeds_node: write the seeds of the node and admin targets (scripts of
 * fuzz_nodeenv.h) into DIR/node and DIR/admin (both must exist).  Usage:
 * mkseeds_node DIR.  The scripts hold no key: the harness's initiators
 * make their handshakes, so the seeds stay valid as the protocol moves.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_nodeenv.h"

/* The script being written. */
static uint8_t buf[8192];
static size_t len;

static void
op(enum fzn_op o, unsigned a)
{

	if (len + 2 > sizeof(buf))
		abort();
	buf[len++] = (uint8_t)o;
	buf[len++] = (uint8_t)a;
}

/* FZN_WRITE of the ${n} bytes ${b} on slot ${s}, in pieces of 256. */
static void
put(unsigned s, const void *b, size_t n)
{
	const uint8_t *p = b;
	size_t k;

	while (n > 0) {
		k = n > 256 ? 256 : n;
		op(FZN_WRITE, s);
		if (len + 1 + k > sizeof(buf))
			abort();
		buf[len++] = (uint8_t)(k - 1);
		memcpy(buf + len, p, k);
		len += k;
		p += k;
		n -= k;
	}
}

static void
text(unsigned s, const char *t)
{

	put(s, t, strlen(t));
}

/* Seconds, as FZN_TIME counts them (quarters). */
static void
wait_secs(double secs)
{

	while (secs > 0) {
		op(FZN_TIME, secs > 63 ? 252 : (unsigned)(secs * 4));
		secs -= 63;
	}
}

/* hello's ${who} + OVER_TCP: the same initiator over loopback TCP. */
#define OVER_TCP (FZN_WHO * FZN_REQUESTS)

/* msg1 of initiator ${who} asking for request ${req} on slot ${s}. */
static void
hello(unsigned s, unsigned who, unsigned req)
{

	op(FZN_HELLO, s);
	if (len + 1 > sizeof(buf))
		abort();
	buf[len++] = (uint8_t)(who + FZN_WHO * req);
}

/* A whole handshake: msg1, then msg3 once msg2 came. */
static void
handshake(unsigned s, unsigned who, unsigned req)
{

	hello(s, who, req);
	op(FZN_REPLY, s);
}

/* FZN_ASK: the authority message ${k} (fuzz_nodeenv.h) on slot ${s}. */
static void
say(unsigned s, unsigned k)
{

	op(FZN_ASK, s);
	if (len + 1 > sizeof(buf))
		abort();
	buf[len++] = (uint8_t)k;
}

/* ENROL with the secret ${secret} (0 to 3: many, once, expired, none). */
static unsigned
enrol(unsigned secret)
{

	return (FZN_ASK_ENROL + FZN_ASKS * secret);
}

/* MORE for the piece ${i} of the answer. */
static unsigned
more(unsigned i)
{

	return (FZN_ASK_MORE + FZN_ASKS * i);
}

static void
save(const char *dir, const char *target, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	len = 0;
}

/*
 * Strangers at the node's authority (FZN_AUTHORITY): enrolments with a
 * good, a used, an expired and an unknown token, renewals by a node that
 * is no member, by one without a credential and by a member showing an
 * older credential, the revocation list in pieces, bad messages and
 * hang-ups in the middle of the conversation.  Initiators (FZN_HELLO's
 * w % FZN_WHO): 1 fz_ls without a credential, 2 and 3 fz_ls with the
 * authority's credential (serial 1), 4 a stranger [peers] names.
 */
static void
authority_seeds(const char *d)
{
	unsigned i;

	/* A new node enrols with the many-use token: its credential and the
	 * revocation list, piece after piece, then one piece too far. */
	handshake(0, 1, FZN_AUTHORITY);
	say(0, enrol(0));
	op(FZN_DRAIN, 0);
	for (i = 1; i < 4; i++) {
		say(0, more(i));
		op(FZN_DRAIN, 0);
	}
	op(FZN_SHUT, 0);
	save(d, "node", "authority-enrol");
	/* Enrolled, it enrols again (already a member; a second channel). */
	handshake(0, 1, FZN_AUTHORITY);
	say(0, enrol(0));
	op(FZN_DRAIN, 0);
	op(FZN_CLOSE, 0);
	handshake(1, 1, FZN_AUTHORITY);
	say(1, enrol(0));
	op(FZN_DRAIN, 1);
	save(d, "node", "authority-member");
	/* The one-use token twice (token-used), an expired one, none. */
	handshake(0, 1, FZN_AUTHORITY);
	say(0, enrol(1));
	handshake(1, 4, FZN_AUTHORITY);
	say(1, enrol(1));
	handshake(2, 4, FZN_AUTHORITY);
	say(2, enrol(2));
	handshake(3, 4, FZN_AUTHORITY);
	say(3, enrol(3));
	for (i = 0; i < 4; i++)
		op(FZN_DRAIN, i);
	save(d, "node", "authority-tokens");
	/* Renewals: no credential; a credential but no member; a member
	 * showing a credential older than the one it was issued. */
	handshake(0, 1, FZN_AUTHORITY);
	say(0, FZN_ASK_RENEW);
	handshake(1, 2, FZN_AUTHORITY);
	say(1, FZN_ASK_RENEW);
	op(FZN_DRAIN, 0);
	op(FZN_DRAIN, 1);
	handshake(2, 1, FZN_AUTHORITY);
	say(2, enrol(0));
	op(FZN_DRAIN, 2);
	handshake(3, 3, FZN_AUTHORITY);
	say(3, FZN_ASK_RENEW);
	op(FZN_DRAIN, 3);
	save(d, "node", "authority-renew");
	/* The revocation list, with and without a credential shown, its
	 * pieces asked out of order. */
	handshake(0, 4, FZN_AUTHORITY);
	say(0, FZN_ASK_REVOKED);
	op(FZN_DRAIN, 0);
	say(0, more(1));
	handshake(1, 2, FZN_AUTHORITY);
	say(1, FZN_ASK_REVOKED);
	op(FZN_DRAIN, 1);
	say(1, more(5));
	save(d, "node", "authority-revoked");
	/* Bad messages: no type, MORE before a question, a second question,
	 * raw bytes that are no record. */
	handshake(0, 4, FZN_AUTHORITY);
	say(0, FZN_ASK_JUNK);
	handshake(1, 4, FZN_AUTHORITY);
	say(1, more(0));
	handshake(2, 4, FZN_AUTHORITY);
	say(2, enrol(3));
	say(2, FZN_ASK_REVOKED);
	handshake(3, 4, FZN_AUTHORITY);
	text(3, "no record at all, only bytes");
	for (i = 0; i < 4; i++)
		op(FZN_DRAIN, i);
	save(d, "node", "authority-bad");
	/* Hang-ups: right after a question (its job in flight or its answer
	 * unsent), with a reset, mid-answer, and silence (the deadline). */
	handshake(0, 4, FZN_AUTHORITY);
	say(0, FZN_ASK_HANG_UP + enrol(0));
	handshake(1, 4, FZN_AUTHORITY);
	say(1, FZN_ASK_REVOKED);
	op(FZN_CLOSE, FZN_SLOTS + 1);
	handshake(5, 4, FZN_AUTHORITY);
	say(5, FZN_ASK_HANG_UP + FZN_ASK_REVOKED);
	handshake(2, 2, FZN_AUTHORITY);
	say(2, FZN_ASK_REVOKED);
	op(FZN_SHUT, 2);
	handshake(3, 4, FZN_AUTHORITY);
	wait_secs(12);
	handshake(4, 4, FZN_AUTHORITY);
	say(4, FZN_ASK_REVOKED);
	wait_secs(12);
	save(d, "node", "authority-hangup");
	/* Over TCP (a source with an address); the handshake's msg3 and a
	 * question in one write (bytes behind the handshake). */
	hello(0, 4 + OVER_TCP, FZN_AUTHORITY);
	op(FZN_REPLY, FZN_SLOTS + 0);
	say(0, FZN_ASK_REVOKED);
	op(FZN_DRAIN, 0);
	hello(1, 1 + OVER_TCP, FZN_AUTHORITY);
	op(FZN_REPLY, 1);
	say(1, enrol(3));
	op(FZN_DRAIN, 1);
	hello(2, 4, FZN_AUTHORITY);
	op(FZN_REPLY, FZN_SLOTS + 2);
	say(2, FZN_ASK_HANG_UP + enrol(0));
	save(d, "node", "authority-tcp");
	/* More channels than a source may open at once (enrol_burst). */
	for (i = 0; i < 36; i++)
		handshake(i, 4, FZN_AUTHORITY);
	save(d, "node", "authority-flood");
}

static void
node_seeds(const char *d)
{
	uint8_t pre[200];
	unsigned i, r;

	/* Bytes that are neither a preamble nor a handshake. */
	op(FZN_CONNECT, 0);
	text(0, "GET / HTTP/1.0\r\n\r\n");
	save(d, "node", "garbage");
	/* Relay data connections: unknown cids, whole and cut. */
	memset(pre, 0, sizeof(pre));
	pre[0] = 'c';
	op(FZN_CONNECT, 0);
	put(0, pre, sizeof(pre));
	pre[0] = 'p';
	op(FZN_CONNECT, 1);
	put(1, pre, sizeof(pre));
	op(FZN_CONNECT, 2);
	put(2, pre, 7);
	op(FZN_SHUT, 2);
	op(FZN_CONNECT, 3);
	put(3, pre, 3);
	wait_secs(12);
	save(d, "node", "preambles");
	/* Silent connections, one in the middle of the first-bytes list
	 * that hangs up, one that shuts down, the first-bytes deadline. */
	op(FZN_CONNECT, 0);
	op(FZN_CONNECT, 1);
	op(FZN_CONNECT, 2);
	op(FZN_CLOSE, 1);
	op(FZN_SHUT, 2);
	wait_secs(12);
	save(d, "node", "silent");
	/* The known initiator for the outlet (proven: the input ends). */
	handshake(0, 0, 0);
	op(FZN_DRAIN, 0);
	save(d, "node", "known-db");
	/* Strangers: every request, without and with credentials. */
	for (i = 1; i < FZN_WHO; i++) {
		for (r = 0; r < FZN_REQUESTS; r++) {
			char name[32];

			handshake(0, i, r);
			op(FZN_DRAIN, 0);
			if (r % 2 == 0) { /* the peer's FIN ends the linger */
				text(0, "late bytes, discarded");
				op(FZN_SHUT, 0);
			}
			else            /* the linger's deadline */
				wait_secs(6);
			op(FZN_DRAIN, 0);
			snprintf(name, sizeof(name), "stranger-%u-%u", i, r);
			save(d, "node", name);
		}
	}
	/* A stranger that does not read its refusal; one that resets. */
	handshake(0, 1, 0);
	op(FZN_CLOSE, 0);
	handshake(1, 1, 2);
	wait_secs(20);
	save(d, "node", "stranger-gone");
	/* msg1 then nothing: the handshake deadline. */
	hello(0, 1, 0);
	wait_secs(6);
	save(d, "node", "handshake-timeout");
	/* msg1 then garbage for msg3. */
	hello(0, 1, 0);
	op(FZN_DRAIN, 0);
	put(0, pre, 60);
	save(d, "node", "bad-msg3");
	/* Handshakes beyond max_handshakes (3): eviction, then the wait. */
	for (i = 0; i < 3; i++) {
		op(FZN_CONNECT, i); /* a frame's length and one byte of it */
		put(i, "\x00\x30\x01", 3);
	}
	wait_secs(1);
	for (i = 3; i < 8; i++) {
		hello(i, 1, 0);
	}
	wait_secs(0.25);
	for (i = 3; i < 8; i++)
		op(FZN_REPLY, i);
	wait_secs(4);
	for (i = 0; i < 8; i++)
		op(FZN_DRAIN, i);
	wait_secs(12);
	save(d, "node", "evict");
	/* Over TCP (the node's address lines): garbage, then silence. */
	op(FZN_TCP, 0);
	put(0, pre + 1, 40);
	op(FZN_TCP, 1);
	put(1, "\x00\x30\x01", 3);
	op(FZN_TCP, 2);
	op(FZN_TCP, 3); /* a reset: the node's drop line has no address */
	put(3, "\x00\x30", 2);
	op(FZN_CLOSE, FZN_SLOTS + 3);
	wait_secs(12);
	save(d, "node", "tcp");
	/* Many strangers at once: the audit lines' rate limit. */
	for (i = 0; i < 14; i++)
		handshake(i, 1, 5);
	save(d, "node", "stranger-flood");
	authority_seeds(d);
}

static void
ask(unsigned s, const char *head)
{

	op(FZN_CONNECT, s);
	text(s, head);
	op(FZN_DRAIN, s);
}

static void
admin_seeds(const char *d)
{
	char big[600];
	unsigned i;

	ask(0, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	for (i = 0; i < 8; i++)
		op(FZN_DRAIN, 0);
	save(d, "admin", "metrics");
	ask(0, "GET /healthz HTTP/1.0\r\n\r\n");
	ask(1, "GET /readyz HTTP/1.1\r\n\r\n");
	ask(2, "GET /nosuch HTTP/1.1\r\n\r\n");
	save(d, "admin", "health-ready");
	/* A head with more after it: drained before the close. */
	ask(0, "GET /healthz HTTP/1.1\r\n\r\nmore bytes after the head");
	text(0, "and more");
	op(FZN_DRAIN, 0);
	save(d, "admin", "after-head");
	ask(0, "POST /metrics HTTP/1.1\r\n\r\n");
	ask(1, "GET /metrics HTTP/2.0\r\n\r\n");
	ask(2, "GARBAGE\r\n\r\n");
	memset(big, 'a', sizeof(big));
	big[0] = 'G', big[1] = 'E', big[2] = 'T', big[3] = ' ', big[4] = '/';
	op(FZN_CONNECT, 3);
	put(3, big, sizeof(big));
	op(FZN_DRAIN, 3);
	save(d, "admin", "malformed");
	/* A slow head: its deadline; one that hangs up; one never read. */
	op(FZN_CONNECT, 0);
	text(0, "GET /met");
	op(FZN_CONNECT, 1);
	op(FZN_CLOSE, 1);
	op(FZN_CONNECT, 2);
	text(2, "GET /metrics HTTP/1.1\r\n\r\n");
	op(FZN_CLOSE, 2);
	wait_secs(3);
	op(FZN_DRAIN, 0);
	save(d, "admin", "slow");
	/* Every slot taken: the oldest idle client makes room. */
	for (i = 0; i < 34; i++)
		op(FZN_CONNECT, i);
	wait_secs(0.5);
	ask(35, "GET /healthz HTTP/1.1\r\n\r\n");
	wait_secs(0.5);
	op(FZN_DRAIN, 35);
	save(d, "admin", "full");
}

int
main(int argc, char *argv[])
{

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds_node DIR\n");
		return (2);
	}
	node_seeds(argv[1]);
	admin_seeds(argv[1]);
	return (0);
}
