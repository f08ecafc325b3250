/*
 * evilnode: a test client that speaks the relay protocol the way a
 * malicious node would (tests/integration/69-relay-bypass.sh).  It is not
 * a patched daemon: it links only the pure core of libsallyport
 * (identity, channel, frame, ticket, crypto) and drives it with blocking
 * sockets, so each field it sends can be chosen freely:
 *
 *   1. a client session with a relay: TCP, Noise XX as initiator pinned to
 *      the relay identity, request "@S"; read records until the ticket
 *      message (T || id || K) arrives; answer nothing (no PONG).
 *   2. one data connection: a `c` preamble naming service P (the relay
 *      authorizes that name), then Noise XX as initiator pinned to the
 *      outlet identity with the request R and, unless --no-bind, the name B
 *      bound into the prologue (channel_bind_service); then one DATA record
 *      with the payload, and whatever comes back for a bounded time.
 *
 * It prints one line and exits 0 once the data connection was tried:
 *   result=handshake-failed error=EHANDSHAKE   msg2 (or later) rejected
 *   result=closed stage=handshake end=eof|reset  closed before msg2
 *   result=timeout stage=handshake              no msg2 in time
 *   result=denied bytes=0 end=eof|reset         established, closed, no data
 *   result=no-data bytes=0 end=timeout          established, silent
 *   result=data bytes=N data_hex=HEX end=eof|reset|quiet|timeout
 *   result=record-failed error=E bytes=N ...    a record did not open
 * Exit 1: the run itself failed (key, relay, session, no ticket); exit 2:
 * usage.  Wire: docs/relay.md, docs/protocol.md.
 *
 * With --forge N (issue 19, N2), it is instead a stranger with forged
 * credential headers: N times, a fresh throwaway key presents --creds K
 * credentials naming itself as subject and the authority of
 * --authority-key as issuer, signed by the throwaway key (so no
 * signature holds; --creds 0: none, an unknown key), in a full handshake (--relay is then the node's
 * address, --outlet-id its identifier) with the request R; then it reads
 * until the node closes.  It prints one line:
 *   result=forged attempts=N closed=C refused=F failed=X
 * closed: the node ended the connection without a record (the pre-auth
 * filter refused it); refused: a REFUSE record came (the node verified
 * the attestation and decided); failed: the handshake did not complete.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "cred.h"
#include "crypto.h"
#include "frame.h"
#include "identity.h"
#include "ticket.h"

#define EVIL_LIFETIME 3600    /* attestation lifetime, seconds */
#define EVIL_MAX_PAYLOAD 1024 /* payload bytes sent in one record */
#define EVIL_MAX_KEEP 4096    /* data bytes kept (and printed) */
#define EVIL_TICKET_MSG (1 + TICKET_ID_LEN + TICKET_KEY_LEN)

/* Options. */
struct opts {
	const char *relay;     /* host:port */
	const char *relay_id;  /* I... */
	const char *outlet_id; /* I... */
	const char *key;       /* PEM key file */
	const char *preamble;  /* P: the name in the C preamble */
	const char *request;   /* R: the request in msg3 */
	const char *bind;      /* B: bound into the prologue; NULL: none */
	const char *send;      /* payload text ("\n" appended) */
	double timeout;        /* per phase, seconds */
	double quiet;          /* end of data after this much silence */
	const char *forge;     /* --forge N: attempts with forged headers */
	const char *creds;     /* --creds K: forged credentials each */
	const char *authority; /* --authority-key FILE: the issuer claimed */
};

/* A blocking byte stream with a receive buffer. */
struct stream {
	int fd;
	uint8_t buf[CHANNEL_MAX_RECORD + FRAME_HDR];
	size_t have;
};

/* How a read ended. */
enum rd_end { RD_OK, RD_EOF, RD_RESET, RD_TIMEOUT, RD_ERROR, RD_FRAME };

static const char *const end_names[] = {
	"ok", "eof", "reset", "timeout", "error", "bad-frame"
};

static void
usage(void)
{

	fprintf(stderr,
	    "usage: evilnode --relay HOST:PORT --relay-id ID --outlet-id ID\n"
	    "                --key FILE --preamble P --request R\n"
	    "                (--bind B | --no-bind) [--send TEXT]\n"
	    "                [--timeout SECS] [--quiet SECS]\n"
	    "  Opens an @S session with the relay, then one data connection:\n"
	    "  preamble naming P, Noise XX to the outlet with request R and\n"
	    "  B bound into the prologue; sends TEXT (default PING) and\n"
	    "  prints one result= line.  Exit 0: ran; 1: failed; 2: usage.\n"
	    "       evilnode --forge N --relay HOST:PORT --outlet-id ID\n"
	    "                --authority-key FILE --request R [--creds K]\n"
	    "  N handshakes with fresh keys and K forged credentials each.\n");
}

/* Print "evilnode: msg" to stderr. */
static void
warnx0(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("evilnode: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Seconds on the monotonic clock. */
static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* The symbolic name of a channel error ("EHANDSHAKE"). */
static const char *
err_name(int err)
{
	static const char *const names[] = {
		"OK", "EFRAME", "ESTATE", "EHANDSHAKE", "EPAYLOAD", "EATTEST",
		"EEXPIRED", "EPEER", "EDECRYPT", "ETYPE", "ENONCE", "ENOMEM",
		"ERANDOM"
	};

	if (err < 0)
		err = -err;
	if ((size_t)err >= sizeof(names) / sizeof(names[0]))
		return ("E?");
	return (names[err]);
}

/* Connect a blocking TCP socket to "host:port" ("[v6]:port" too). */
static int
dial(const char *hostport)
{
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *colon, *h = host;
	size_t hl;
	int fd = -1, rc;

	if ((colon = strrchr(hostport, ':')) == NULL ||
	    (hl = (size_t)(colon - hostport)) == 0 || hl >= sizeof(host)) {
		warnx0("bad address: %s (want HOST:PORT)", hostport);
		return (-1);
	}
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		h = host + 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(h, colon + 1, &hints, &res)) != 0) {
		warnx0("%s: %s", hostport, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		warnx0("connect %s: %s", hostport, strerror(errno));
	freeaddrinfo(res);
	return (fd);
}

/*
 * Write all ${len} bytes of ${buf}: a blocking send returns short only
 * when a signal interrupts it, and this program handles none.  Return 0
 * or -1.
 */
static int
send_all(int fd, const uint8_t *buf, size_t len)
{

	return (send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1);
}

/* How a failed send_all ended the stream. */
static enum rd_end
send_end(void)
{

	return (errno == ECONNRESET || errno == EPIPE ? RD_RESET : RD_ERROR);
}

/*
 * Read until ${st} holds one whole frame (body at most ${max} bytes) or
 * the absolute monotonic ${deadline} passes.  On RD_OK the frame's size
 * is in ${total}.
 */
static enum rd_end
read_frame(struct stream *st, size_t max, double deadline, size_t *total)
{
	struct pollfd pfd;
	double left;
	ssize_t n;
	int r;

	for (;;) {
		if ((r = frame_peek(st->buf, st->have, max, total)) == 1)
			return (RD_OK);
		if (r == -1)
			return (RD_FRAME);
		if ((left = deadline - now_mono()) <= 0)
			return (RD_TIMEOUT);
		pfd.fd = st->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, (int)(left * 1000) + 1)) == -1) {
			if (errno == EINTR)
				continue;
			return (RD_ERROR);
		}
		if (r == 0)
			continue; /* the deadline check ends it */
		n = recv(st->fd, st->buf + st->have,
		    sizeof(st->buf) - st->have, 0);
		if (n == 0)
			return (RD_EOF);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (errno == ECONNRESET ? RD_RESET : RD_ERROR);
		}
		st->have += (size_t)n;
	}
}

/* Drop the first ${total} bytes of ${st} (a frame just used). */
static void
consume(struct stream *st, size_t total)
{

	memmove(st->buf, st->buf + total, st->have - total);
	st->have -= total;
}

/*
 * Run an initiator handshake for ${ch} on ${st}, sending ${pre} (${prelen}
 * bytes, may be 0) in front of msg1.  Return 0 once established, or a
 * negative channel error (*end RD_OK), or -1 with *end saying how the
 * stream ended.  Bytes behind msg2 stay in ${st}.
 */
static int
handshake(struct stream *st, struct channel *ch, const uint8_t *pre,
    size_t prelen, double timeout, enum rd_end *end)
{
	uint8_t out[TICKET_PREAMBLE_LEN + CHANNEL_MAX_HANDSHAKE];
	double deadline = now_mono() + timeout;
	size_t outlen, total;
	int rc;

	*end = RD_OK;
	if (prelen > TICKET_PREAMBLE_LEN)
		return (-CHANNEL_EFRAME);
	if (prelen > 0)
		memcpy(out, pre, prelen);
	if ((rc = channel_start(ch, out + prelen, sizeof(out) - prelen,
	    &outlen)) != 0)
		return (rc);
	if (send_all(st->fd, out, prelen + outlen) == -1) {
		*end = send_end();
		return (-1);
	}
	/* <- e, ee, s, es: then -> s, se with the request. */
	if ((*end = read_frame(st, CHANNEL_MAX_HANDSHAKE, deadline,
	    &total)) != RD_OK)
		return (-1);
	rc = channel_handshake(ch, st->buf, total, (uint64_t)time(NULL), out,
	    sizeof(out), &outlen);
	consume(st, total);
	if (rc < 0)
		return (rc);
	if (outlen > 0 && send_all(st->fd, out, outlen) == -1) {
		*end = send_end();
		return (-1);
	}
	return (rc == 1 ? 0 : -CHANNEL_ESTATE);
}

/*
 * Open a client session ("@S") with the relay and wait for its ticket
 * into ${t}.  The session socket is returned (kept open: the ticket dies
 * with it), or -1.
 */
static int
session_open(const struct opts *o, const struct channel_local *local,
    const uint8_t relay_id[CHANNEL_ID_LEN], struct ticket *t)
{
	struct stream *st;
	struct channel *ch = NULL;
	enum channel_type type;
	enum rd_end end;
	double deadline;
	size_t total, len;
	int fd = -1, rc;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto fail0;
	if ((st->fd = dial(o->relay)) == -1)
		goto fail1;
	if ((ch = channel_new(CHANNEL_INITIATOR, local, NULL)) == NULL)
		goto fail2;
	channel_expect_peer(ch, relay_id);
	if (channel_set_request(ch, (const uint8_t *)"@S", 2) != 0)
		goto fail3;
	if ((rc = handshake(st, ch, NULL, 0, o->timeout, &end)) != 0) {
		warnx0("session with %s: %s", o->relay, rc == -1 ?
		    end_names[end] : err_name(rc));
		goto fail3;
	}
	/* Records until the ticket; PINGs are left unanswered. */
	deadline = now_mono() + o->timeout;
	for (;;) {
		if ((end = read_frame(st, CHANNEL_MAX_RECORD - FRAME_HDR,
		    deadline, &total)) != RD_OK) {
			warnx0("session with %s: no ticket (%s)", o->relay,
			    end_names[end]);
			goto fail3;
		}
		if ((rc = channel_open(ch, st->buf, total, &type, &len)) !=
		    0) {
			warnx0("session record: %s", err_name(rc));
			goto fail3;
		}
		if (type == CHANNEL_DATA && len == EVIL_TICKET_MSG &&
		    st->buf[CHANNEL_HDR] == 'T') {
			ticket_init(t, st->buf + CHANNEL_HDR + 1,
			    st->buf + CHANNEL_HDR + 1 + TICKET_ID_LEN);
			consume(st, total);
			break;
		}
		consume(st, total);
	}
	fd = st->fd;
	st->fd = -1; /* the caller owns fd now */
fail3:
	channel_free(ch);
fail2:
	if (st->fd != -1)
		close(st->fd);
fail1:
	wipe(st, sizeof(*st));
	free(st);
fail0:
	return (fd);
}

/* Print ${n} bytes of ${p} as lowercase hex (nothing for none). */
static void
put_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/*
 * The data connection: preamble, handshake, payload, replies.  Print the
 * result line.  Return 0 (it ran) or -1 (could not even connect).
 */
static int
data_run(const struct opts *o, const struct channel_local *local,
    const uint8_t outlet_id[CHANNEL_ID_LEN], struct ticket *t)
{
	uint8_t pre[TICKET_PREAMBLE_LEN];
	uint8_t rec[EVIL_MAX_PAYLOAD + 1 + CHANNEL_OVERHEAD];
	uint8_t *got = NULL;
	struct stream *st;
	struct channel *ch = NULL;
	enum channel_type type;
	enum rd_end end;
	double deadline;
	size_t total, len, plen, ngot = 0;
	long n;
	int rc, ret = -1;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (got = malloc(EVIL_MAX_KEEP)) == NULL)
		goto out;
	st->fd = -1;
	if (ticket_preamble_build(t, TICKET_CLIENT, o->preamble, pre) != 0) {
		warnx0("bad preamble name: %s", o->preamble);
		goto out;
	}
	if ((ch = channel_new(CHANNEL_INITIATOR, local, NULL)) == NULL)
		goto out;
	channel_expect_peer(ch, outlet_id);
	if (channel_set_request(ch, (const uint8_t *)o->request,
	    strlen(o->request)) != 0) {
		warnx0("bad request: %s", o->request);
		goto out;
	}
	if (o->bind != NULL && channel_bind_service(ch,
	    (const uint8_t *)o->bind, strlen(o->bind)) != 0) {
		warnx0("bad bind name: %s", o->bind);
		goto out;
	}
	if ((st->fd = dial(o->relay)) == -1)
		goto out;
	ret = 0;

	/* Preamble and msg1 in one write, as the inlet sends them. */
	if ((rc = handshake(st, ch, pre, sizeof(pre), o->timeout, &end)) !=
	    0) {
		if (rc != -1)
			printf("result=handshake-failed error=%s\n",
			    err_name(rc));
		else if (end == RD_TIMEOUT)
			printf("result=timeout stage=handshake\n");
		else
			printf("result=closed stage=handshake end=%s\n",
			    end_names[end]);
		goto out;
	}

	/* One DATA record: the payload and a newline. */
	plen = strlen(o->send);
	if (plen + 1 > EVIL_MAX_PAYLOAD)
		plen = EVIL_MAX_PAYLOAD - 1;
	memcpy(rec + CHANNEL_HDR, o->send, plen);
	rec[CHANNEL_HDR + plen++] = '\n';
	if ((n = channel_seal(ch, CHANNEL_DATA, rec, plen)) < 0) {
		printf("result=record-failed error=%s bytes=0\n",
		    err_name((int)n));
		goto out;
	}
	(void)send_all(st->fd, rec, (size_t)n); /* a refusal shows below */

	/* Replies: until the end, the deadline, or a quiet spell after data. */
	deadline = now_mono() + o->timeout;
	for (;;) {
		double until = deadline;

		if (ngot > 0 && now_mono() + o->quiet < until)
			until = now_mono() + o->quiet;
		if ((end = read_frame(st, CHANNEL_MAX_RECORD - FRAME_HDR,
		    until, &total)) != RD_OK) {
			if (end == RD_TIMEOUT && until < deadline)
				end = RD_OK; /* quiet after data */
			break;
		}
		if ((rc = channel_open(ch, st->buf, total, &type, &len)) !=
		    0) {
			printf("result=record-failed error=%s bytes=%zu\n",
			    err_name(rc), ngot);
			goto out;
		}
		if (type == CHANNEL_DATA && len > 0) {
			if (len > EVIL_MAX_KEEP - ngot)
				len = EVIL_MAX_KEEP - ngot;
			memcpy(got + ngot, st->buf + CHANNEL_HDR, len);
			ngot += len;
		}
		consume(st, total);
		if (type == CHANNEL_EOF || ngot == EVIL_MAX_KEEP) {
			end = RD_EOF;
			break;
		}
	}
	if (ngot > 0) {
		printf("result=data bytes=%zu data_hex=", ngot);
		put_hex(got, ngot);
		printf(" end=%s\n", end == RD_OK ? "quiet" : end_names[end]);
	} else if (end == RD_EOF || end == RD_RESET)
		printf("result=denied bytes=0 end=%s\n", end_names[end]);
	else
		printf("result=no-data bytes=0 end=%s\n", end_names[end]);
out:
	fflush(stdout);
	channel_free(ch);
	if (st != NULL && st->fd != -1)
		close(st->fd);
	free(st);
	free(got);
	return (ret);
}

/*
 * A block of ${k} credentials for ${self} that claim the authority
 * ${auth}: signed by ${self}'s key, then the issuer key swapped, so the
 * signature cannot hold.  Return its size, or 0.
 */
static size_t
forged_block(const struct identity *self, const struct identity *auth,
    unsigned k, uint8_t block[CRED_BLOCK_MAX])
{
	uint8_t c[CRED_MAX_LEN];
	struct cred cr;
	size_t len, blen = 0;
	unsigned i;

	for (i = 0; i < k; i++) {
		memset(&cr, 0, sizeof(cr));
		memcpy(cr.subject, self->id, CRED_ID_LEN);
		cr.serial = 1 + i;
		cr.not_before = (uint64_t)time(NULL) - 60;
		cr.not_after = cr.not_before + 3600;
		strcpy(cr.attrs[0].key, "role");
		strcpy(cr.attrs[0].value, "app");
		cr.nattrs = 1;
		if (cred_sign(&cr, self->priv, c, sizeof(c), &len) != 0)
			return (0);
		memcpy(c + 1 + CRED_ID_LEN, auth->pub, CRYPTO_P256_PUB_LEN);
		if (cred_block_add(block, CRED_BLOCK_MAX, &blen, c, len) != 0)
			return (0);
	}
	return (blen);
}

/*
 * One handshake with forged headers to ${node_id} at o->relay: how it
 * ended (0 closed, 1 refused, 2 failed), or -1 if it could not run.
 */
static int
forge_one(const struct opts *o, const struct identity *auth,
    const uint8_t node_id[CHANNEL_ID_LEN], unsigned k)
{
	struct identity self;
	struct channel_local local;
	struct channel *ch = NULL;
	struct stream *st = NULL;
	uint8_t block[CRED_BLOCK_MAX];
	enum channel_type type;
	enum rd_end end;
	size_t blen, total, len;
	int rc, ret = -1;

	if (identity_generate(&self) != 0)
		return (-1);
	if (channel_local_init(&local, self.priv, (uint64_t)time(NULL),
	    EVIL_LIFETIME) != 0)
		goto out0;
	if (k > 0 && ((blen = forged_block(&self, auth, k, block)) == 0 ||
	    channel_local_set_creds(&local, block, blen) != 0))
		goto out1;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (ch = channel_new(CHANNEL_INITIATOR, &local, NULL)) == NULL)
		goto out1;
	channel_expect_peer(ch, node_id);
	if (channel_set_request(ch, (const uint8_t *)o->request,
	    strlen(o->request)) != 0 || (st->fd = dial(o->relay)) == -1)
		goto out1;
	if ((rc = handshake(st, ch, NULL, 0, o->timeout, &end)) != 0) {
		ret = 2;
		goto out2;
	}
	/* The node's answer: a record (REFUSE), or the end. */
	end = read_frame(st, CHANNEL_MAX_RECORD - FRAME_HDR, now_mono() +
	    o->timeout, &total);
	ret = end == RD_OK && channel_open(ch, st->buf, total, &type,
	    &len) == 0 ? 1 : 0;
out2:
	close(st->fd);
out1:
	channel_free(ch);
	free(st);
	channel_local_fini(&local);
out0:
	identity_fini(&self);
	return (ret);
}

/* --forge: the attempts, then the result line.  Return 0, or 1. */
static int
forge_run(const struct opts *o)
{
	struct identity auth;
	uint8_t node_id[CHANNEL_ID_LEN];
	unsigned long n, i, k, got[3] = {0, 0, 0};
	char err[512], *end;
	int r;

	n = strtoul(o->forge, &end, 10);
	k = o->creds != NULL ? strtoul(o->creds, NULL, 10) : CRED_MAX_BLOCK;
	if (*end != '\0' || n == 0 || k > CRED_MAX_BLOCK ||
	    o->relay == NULL || o->outlet_id == NULL || o->request == NULL ||
	    o->authority == NULL ||
	    identity_id_parse(o->outlet_id, node_id) != 0) {
		usage();
		return (2);
	}
	if (crypto_init() != 0 || identity_load(&auth, o->authority,
	    IDENTITY_PUBLIC_OK, err, sizeof(err)) != 0) {
		warnx0("%s", err);
		return (1);
	}
	for (i = 0; i < n; i++) {
		if ((r = forge_one(o, &auth, node_id, (unsigned)k)) == -1) {
			warnx0("attempt %lu could not run", i + 1);
			identity_fini(&auth);
			return (1);
		}
		got[r]++;
	}
	printf("result=forged attempts=%lu closed=%lu refused=%lu "
	    "failed=%lu\n", n, got[0], got[1], got[2]);
	identity_fini(&auth);
	return (0);
}

/* Parse a positive number of seconds. */
static int
parse_secs(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*v > 0) || *v > 3600)
		return (-1);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct opts o = { .send = "PING", .timeout = 5.0, .quiet = 0.3 };
	struct identity idn;
	struct channel_local local;
	struct ticket t;
	uint8_t relay_id[CHANNEL_ID_LEN], outlet_id[CHANNEL_ID_LEN];
	char err[512];
	/* The options that take a value: text or seconds. */
	const struct {
		const char *name;
		const char **str;
		double *num;
	} optv[] = {
		{ "--relay", &o.relay, NULL },
		{ "--relay-id", &o.relay_id, NULL },
		{ "--outlet-id", &o.outlet_id, NULL },
		{ "--key", &o.key, NULL },
		{ "--preamble", &o.preamble, NULL },
		{ "--request", &o.request, NULL },
		{ "--bind", &o.bind, NULL },
		{ "--send", &o.send, NULL },
		{ "--timeout", NULL, &o.timeout },
		{ "--quiet", NULL, &o.quiet },
		{ "--forge", &o.forge, NULL },
		{ "--creds", &o.creds, NULL },
		{ "--authority-key", &o.authority, NULL },
	};
	size_t k;
	int i, no_bind = 0, sfd, rc = 1;

	/* Options: each takes one value, except --no-bind. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **dst;
		double *num;

		if (strcmp(a, "--no-bind") == 0) {
			no_bind = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage();
			return (0);
		}
		for (k = 0; k < sizeof(optv) / sizeof(optv[0]); k++)
			if (strcmp(a, optv[k].name) == 0)
				break;
		if (k == sizeof(optv) / sizeof(optv[0])) {
			warnx0("unknown option: %s", a);
			usage();
			return (2);
		}
		dst = optv[k].str;
		num = optv[k].num;
		if (i + 1 >= argc) {
			warnx0("%s needs a value", a);
			return (2);
		}
		if (dst != NULL)
			*dst = argv[++i];
		else if (parse_secs(argv[++i], num) != 0) {
			warnx0("%s: want seconds (0 < s <= 3600): %s", a,
			    argv[i]);
			return (2);
		}
	}
	if (o.forge != NULL)
		return (forge_run(&o));
	if (o.relay == NULL || o.relay_id == NULL || o.outlet_id == NULL ||
	    o.key == NULL || o.preamble == NULL || o.request == NULL) {
		warnx0("--relay, --relay-id, --outlet-id, --key, --preamble "
		    "and --request are required");
		usage();
		return (2);
	}
	if ((o.bind == NULL) == (no_bind == 0)) {
		warnx0("give exactly one of --bind NAME and --no-bind");
		return (2);
	}
	if (identity_id_parse(o.relay_id, relay_id) != 0 ||
	    identity_id_parse(o.outlet_id, outlet_id) != 0) {
		warnx0("an identifier is \"I\" and 64 lowercase hex digits");
		return (2);
	}

	if (crypto_init() != 0) {
		warnx0("no entropy");
		return (1);
	}
	if (identity_load(&idn, o.key, 0, err, sizeof(err)) != 0) {
		warnx0("%s", err);
		return (1);
	}
	if (channel_local_init(&local, idn.priv, (uint64_t)time(NULL),
	    EVIL_LIFETIME) != 0) {
		warnx0("cannot make channel credentials");
		goto fail0;
	}
	if ((sfd = session_open(&o, &local, relay_id, &t)) == -1)
		goto fail1;
	if (data_run(&o, &local, outlet_id, &t) == 0)
		rc = 0;
	/* The session ends last: its ticket covers the data connection. */
	close(sfd);
	ticket_fini(&t);
fail1:
	channel_local_fini(&local);
fail0:
	identity_fini(&idn);
	return (rc);
}
